/* The "host:port" parser (include/agah/addr.h). IP addresses are checked
 * by inet_pton, so "1.2.3" or "::1::" are refused as the dialler would
 * refuse them; names are checked by RFC 1123's rules so nothing that
 * reaches getaddrinfo or a log line holds more than letters, digits, '-'
 * and '.'. */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include <agah/addr.h>

#define ADDR_NAME_MAX 253
#define ADDR_LABEL_MAX 63
#define ADDR_ONION_LEN 56 /* base32 of a v3 onion service's key, checksum, version */
#define ADDR_ONION_SUFFIX ".onion"

static int addr__digit(char c) { return c >= '0' && c <= '9'; }
static int addr__alnum(char c)
{
    return addr__digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* The port after the last ':'. */
static int addr__port(const char *p, size_t n, uint16_t *out, struct agah_why *why)
{
    unsigned long v = 0;

    if (n == 0)
        return agah_fail(why, AGAH_EINVAL, "no port after the ':'");
    if (n > 5 || (n > 1 && p[0] == '0'))
        return agah_fail(why, AGAH_EINVAL, "the port must be a number 1-65535");
    for (size_t i = 0; i < n; i++) {
        if (!addr__digit(p[i]))
            return agah_fail(why, AGAH_EINVAL, "the port must be a number 1-65535");
        v = v * 10 + (unsigned long)(p[i] - '0');
    }
    if (v == 0 || v > 65535)
        return agah_fail(why, AGAH_EINVAL, "the port must be a number 1-65535");
    *out = (uint16_t)v;
    return 0;
}

/* A v3 onion name: 56 characters of RFC 4648 base32 in lower case. */
static int addr__onion(const char *h, size_t n)
{
    size_t sl = sizeof ADDR_ONION_SUFFIX - 1;

    if (n != ADDR_ONION_LEN + sl)
        return 0;
    for (size_t i = 0; i < ADDR_ONION_LEN; i++)
        if (!((h[i] >= 'a' && h[i] <= 'z') || (h[i] >= '2' && h[i] <= '7')))
            return 0;
    return 1;
}

static int addr__ends_with_onion(const char *h, size_t n)
{
    size_t sl = sizeof ADDR_ONION_SUFFIX - 1;
    if (n < sl)
        return 0;
    for (size_t i = 0; i < sl; i++) {
        char c = h[n - sl + i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != ADDR_ONION_SUFFIX[i])
            return 0;
    }
    return 1;
}

/* A DNS name by RFC 1123 (a trailing dot is not taken). */
static int addr__name(const char *h, size_t n)
{
    size_t label = 0;

    if (n == 0 || n > ADDR_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = h[i];
        if (c == '.') {
            if (label == 0 || h[i - 1] == '-')
                return 0;
            label = 0;
            continue;
        }
        if (!addr__alnum(c) && c != '-')
            return 0;
        if (c == '-' && label == 0)
            return 0;
        if (++label > ADDR_LABEL_MAX)
            return 0;
    }
    return label > 0 && h[n - 1] != '-';
}

static int addr__host(const char *h, size_t n, struct agah_addr *a, struct agah_why *why)
{
    unsigned char buf[16];
    int dotted = 1;

    memcpy(a->host, h, n);
    a->host[n] = '\0';
    for (size_t i = 0; i < n; i++)
        if (!addr__digit(h[i]) && h[i] != '.')
            dotted = 0;
    if (dotted) {
        if (inet_pton(AF_INET, a->host, buf) != 1)
            return agah_fail(why, AGAH_EINVAL, "\"%s\" is not an IPv4 address", a->host);
        a->kind = AGAH_ADDR_IPV4;
        return 0;
    }
    if (memchr(h, ':', n) != NULL)
        return agah_fail(why, AGAH_EINVAL, "an IPv6 host is written in brackets: [ADDR]:PORT");
    if (addr__ends_with_onion(h, n)) {
        if (!addr__onion(h, n))
            return agah_fail(why, AGAH_EINVAL,
                             "not a v3 onion name (56 characters a-z and 2-7, then .onion)");
        a->kind = AGAH_ADDR_ONION;
        return 0;
    }
    if (!addr__name(h, n))
        return agah_fail(why, AGAH_EINVAL,
                         "the host must be an IP address or a name of letters, digits, '-' "
                         "and '.'");
    a->kind = AGAH_ADDR_NAME;
    return 0;
}

int agah_addr_parse(const char *s, size_t len, struct agah_addr *out, struct agah_why *why)
{
    struct agah_addr a;
    const char *colon = NULL;
    size_t hl;
    int r;

    memset(&a, 0, sizeof a);
    if (s == NULL || len == 0)
        return agah_fail(why, AGAH_EINVAL, "an empty address; expected HOST:PORT");
    if (len >= AGAH_ADDR_MAX)
        return agah_fail(why, AGAH_EINVAL, "an address of %zu characters, at most %d", len,
                         AGAH_ADDR_MAX - 1);
    if (memchr(s, '\0', len) != NULL)
        return agah_fail(why, AGAH_EINVAL, "a NUL byte inside the address");
    if (s[0] == '[') {
        /* The port follows the closing bracket, whatever the colons inside. */
        const char *close = memchr(s, ']', len);
        if (close == NULL || (size_t)(close - s) + 1 >= len || close[1] != ':')
            return agah_fail(why, AGAH_EINVAL, "an IPv6 host is written [ADDR]:PORT");
        colon = close + 1;
    } else {
        for (size_t i = len; i > 0; i--)
            if (s[i - 1] == ':') {
                colon = s + i - 1;
                break;
            }
    }
    if (colon == NULL)
        return agah_fail(why, AGAH_EINVAL, "expected HOST:PORT, e.g. 203.0.113.7:7433");
    if ((r = addr__port(colon + 1, len - (size_t)(colon + 1 - s), &a.port, why)) != 0)
        return r;
    hl = (size_t)(colon - s);
    if (hl == 0)
        return agah_fail(why, AGAH_EINVAL, "no host before the ':'");
    if (s[0] == '[') {
        unsigned char buf[16];
        if (hl < 3 || s[hl - 1] != ']')
            return agah_fail(why, AGAH_EINVAL, "an IPv6 host is written [ADDR]:PORT");
        memcpy(a.host, s + 1, hl - 2);
        a.host[hl - 2] = '\0';
        if (inet_pton(AF_INET6, a.host, buf) != 1)
            return agah_fail(why, AGAH_EINVAL, "\"%s\" is not an IPv6 address", a.host);
        a.kind = AGAH_ADDR_IPV6;
    } else if ((r = addr__host(s, hl, &a, why)) != 0) {
        return r;
    }
    if (out != NULL)
        *out = a;
    return 0;
}

int agah_addr_format(const struct agah_addr *a, char out[AGAH_ADDR_MAX])
{
    int w = snprintf(out, AGAH_ADDR_MAX, a->kind == AGAH_ADDR_IPV6 ? "[%s]:%u" : "%s:%u",
                     a->host, (unsigned)a->port);
    return w < 0 || w >= AGAH_ADDR_MAX ? AGAH_ETOOBIG : 0;
}

int agah_addr_numeric(const char *s)
{
    struct agah_addr a;

    if (s == NULL || agah_addr_parse(s, strnlen(s, AGAH_ADDR_MAX), &a, NULL) != 0)
        return 0;
    return a.kind == AGAH_ADDR_IPV4 || a.kind == AGAH_ADDR_IPV6;
}

int agah_addr_wildcard(const struct agah_addr *a)
{
    unsigned char buf[16], zero[16] = {0};

    if (a->kind == AGAH_ADDR_IPV4)
        return inet_pton(AF_INET, a->host, buf) == 1 && memcmp(buf, zero, 4) == 0;
    if (a->kind == AGAH_ADDR_IPV6)
        return inet_pton(AF_INET6, a->host, buf) == 1 && memcmp(buf, zero, 16) == 0;
    return 0;
}

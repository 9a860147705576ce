/* The one "host:port" parser (proto/addr.c): what it takes and what it
 * refuses, with the reason a user reads. */
#include <stdio.h>
#include <string.h>
#include <agah/agah.h>

#include "check.h"

#define ONION "vww6ybal4bd7szmgncyruucpgfkqahzddi37ktceo3ah7ngmcopnpyyd.onion"

static int ok(const char *s, int kind, const char *host, unsigned port)
{
    struct agah_addr a;
    char back[AGAH_ADDR_MAX];

    if (agah_addr_parse(s, strlen(s), &a, NULL) != 0)
        return 0;
    if (a.kind != kind || strcmp(a.host, host) != 0 || a.port != port)
        return 0;
    /* Formatting gives back what was parsed. */
    return agah_addr_format(&a, back) == 0 && strcmp(back, s) == 0;
}

static int bad(const char *s, const char *reason)
{
    struct agah_why why = {{0}};
    if (agah_addr_parse(s, strlen(s), NULL, &why) != AGAH_EINVAL)
        return 0;
    if (strstr(why.msg, reason) == NULL) {
        fprintf(stderr, "%s: \"%s\" does not say \"%s\"\n", s, why.msg, reason);
        return 0;
    }
    return 1;
}

static void test_accepts(void)
{
    CHECK(ok("203.0.113.7:7433", AGAH_ADDR_IPV4, "203.0.113.7", 7433));
    CHECK(ok("127.0.0.1:1", AGAH_ADDR_IPV4, "127.0.0.1", 1));
    CHECK(ok("0.0.0.0:65535", AGAH_ADDR_IPV4, "0.0.0.0", 65535));
    CHECK(ok("[2001:db8::1]:7433", AGAH_ADDR_IPV6, "2001:db8::1", 7433));
    CHECK(ok("[::1]:80", AGAH_ADDR_IPV6, "::1", 80));
    CHECK(ok("[::ffff:192.0.2.1]:7433", AGAH_ADDR_IPV6, "::ffff:192.0.2.1", 7433));
    CHECK(ok("relay.example.org:7433", AGAH_ADDR_NAME, "relay.example.org", 7433));
    CHECK(ok("localhost:7433", AGAH_ADDR_NAME, "localhost", 7433));
    CHECK(ok("a-b.c9:7433", AGAH_ADDR_NAME, "a-b.c9", 7433));
    CHECK(ok(ONION ":7433", AGAH_ADDR_ONION, ONION, 7433));
}

static void test_ports(void)
{
    CHECK(bad("203.0.113.7:0", "port"));
    CHECK(bad("203.0.113.7:65536", "port"));
    CHECK(bad("203.0.113.7:99999", "port"));
    CHECK(bad("203.0.113.7:123456", "port"));
    CHECK(bad("203.0.113.7:07433", "port"));
    CHECK(bad("203.0.113.7:+80", "port"));
    CHECK(bad("203.0.113.7: 80", "port"));
    CHECK(bad("203.0.113.7:", "no port"));
    CHECK(bad("203.0.113.7", "HOST:PORT"));
}

static void test_hosts(void)
{
    CHECK(bad(":7433", "no host"));
    CHECK(bad("1.2.3:7433", "IPv4"));
    CHECK(bad("256.1.1.1:7433", "IPv4"));
    CHECK(bad("1.2.3.4.5:7433", "IPv4"));
    CHECK(bad("2001:db8::1:7433", "brackets"));
    CHECK(bad("[2001:db8::1]7433", "[ADDR]:PORT"));
    CHECK(bad("[2001:db8::1]", "[ADDR]:PORT"));
    CHECK(bad("[2001:db8::1]:", "no port"));
    CHECK(bad("[::1]:80:80", "port"));
    CHECK(bad("[2001:db8::zz]:7433", "IPv6"));
    CHECK(bad("[]:7433", "IPv6"));
    CHECK(bad("[1.2.3.4]:7433", "IPv6"));
    CHECK(bad("exa mple.org:7433", "letters"));
    CHECK(bad("example.org.:7433", "letters"));
    CHECK(bad("-example.org:7433", "letters"));
    CHECK(bad("example-.org:7433", "letters"));
    /* What wire/gossip.c's own checker refused before it gave way to this
     * parser. */
    static const char *old_bad[] = {"a_b:1", "h:1x", "[::1:1", "[zz]:1", "host name:1",
                                    "127.0.0.1:+1", "127.0.0.1:123456", ""};
    for (size_t i = 0; i < sizeof old_bad / sizeof old_bad[0]; i++)
        CHECKF(agah_addr_parse(old_bad[i], strlen(old_bad[i]), NULL, NULL) == AGAH_EINVAL,
               "accepted \"%s\"", old_bad[i]);
    CHECK(bad("a..b:7433", "letters"));
    CHECK(bad("ex_ample.org:7433", "letters"));
    CHECK(bad("ex\xc3\xa4mple.org:7433", "letters"));
    CHECK(bad("exa\tmple:7433", "letters"));
    CHECK(bad("short.onion:7433", "onion"));
    CHECK(bad("VWW6YBAL4BD7SZMGNCYRUUCPGFKQAHZDDI37KTCEO3AH7NGMCOPNPYYD.onion:7433", "onion"));
    char label[80];
    memset(label, 'a', 64);
    memcpy(label + 64, ".org:80", 8);
    CHECK(bad(label, "letters"));
}

static void test_bounds(void)
{
    char big[200];
    struct agah_addr a;

    memset(big, 'a', sizeof big);
    memcpy(big + 150, ".org:80", 8); /* with its NUL: 157 characters */
    CHECK(bad(big, "at most"));
    CHECK(agah_addr_parse("", 0, &a, NULL) == AGAH_EINVAL);
    CHECK(agah_addr_parse(NULL, 5, &a, NULL) == AGAH_EINVAL);
    /* Only `len` bytes are read: trailing garbage beyond them is not seen,
     * and garbage inside them is refused. */
    CHECK(agah_addr_parse("10.0.0.1:80garbage", 11, &a, NULL) == 0 && a.port == 80);
    CHECK(bad("10.0.0.1:80garbage", "port"));
    CHECK(bad("10.0.0.1:80 ", "port"));
    CHECK(agah_addr_parse("10.0.0.1:80\0x", 13, &a, NULL) == AGAH_EINVAL);
}

static void test_numeric_wildcard(void)
{
    struct agah_addr a;

    CHECK(agah_addr_numeric("10.0.0.1:80") && agah_addr_numeric("[::1]:80"));
    CHECK(!agah_addr_numeric("relay.example.org:80") && !agah_addr_numeric(ONION ":80"));
    CHECK(!agah_addr_numeric("10.0.0.1") && !agah_addr_numeric(NULL));
    CHECK(agah_addr_parse("0.0.0.0:7433", 12, &a, NULL) == 0 && agah_addr_wildcard(&a));
    CHECK(agah_addr_parse("[::]:7433", 9, &a, NULL) == 0 && agah_addr_wildcard(&a));
    CHECK(agah_addr_parse("[::1]:7433", 10, &a, NULL) == 0 && !agah_addr_wildcard(&a));
    CHECK(agah_addr_parse("10.0.0.1:7433", 13, &a, NULL) == 0 && !agah_addr_wildcard(&a));
}

int main(void)
{
    test_accepts();
    test_ports();
    test_hosts();
    test_bounds();
    test_numeric_wildcard();
    printf("test_addr: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}

/* The connection slot rule; see slots.h. A few dozen connections at most,
 * so each cap is a plain scan. */
#define _POSIX_C_SOURCE 200809L
#include <string.h>
#include <netinet/in.h>
#include <agah/agah.h>
#include "slots.h"

/* Which accepted connections a cap counts. */
enum { SLOTS_ALL, SLOTS_IP, SLOTS_PFX };

static const struct {
    int scope, unauth, exempt_skips;
    size_t cap;
    const char *why;
} slots__caps[] = {
    {SLOTS_IP, 1, 1, SLOTS_UNAUTH_PER_IP, "too many connections in the handshake from one address"},
    {SLOTS_PFX, 1, 1, SLOTS_UNAUTH_PER_PFX, "too many connections in the handshake from one network"},
    {SLOTS_IP, 0, 1, SLOTS_PER_IP, "too many connections from one address"},
    {SLOTS_ALL, 1, 0, SLOTS_UNAUTH_MAX, "too many connections in the handshake"},
    {SLOTS_ALL, 0, 0, SLOTS_IN_MAX, "too many connections"},
};
#define SLOTS_NCAPS (sizeof slots__caps / sizeof slots__caps[0])

void slots_addr(struct slot *s, const struct sockaddr *sa)
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const uint8_t lo4[4] = {127, 0, 0, 1};
    static const uint8_t lo6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};

    memset(s->ip, 0, sizeof s->ip);
    s->v4 = s->exempt = 0;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;

        memcpy(s->ip, mapped, sizeof mapped);
        memcpy(s->ip + 12, &s4->sin_addr.s_addr, 4);
    } else if (sa->sa_family == AF_INET6) {
        memcpy(s->ip, ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr, 16);
    } else {
        return;
    }
    s->v4 = memcmp(s->ip, mapped, sizeof mapped) == 0;
    s->exempt = s->v4 ? memcmp(s->ip + 12, lo4, 4) == 0 : memcmp(s->ip, lo6, 16) == 0;
}

const char *slots_why(uint8_t evict)
{
    return evict >= 1 && evict <= SLOTS_NCAPS ? slots__caps[evict - 1].why : "";
}

/* Whether q counts towards nw's cap of this scope. An exempt address
 * counts only towards the caps of all connections. */
static int slots__in_scope(const struct slot *q, const struct slot *nw, int scope)
{
    if (scope == SLOTS_ALL)
        return 1;
    if (q->exempt || q->v4 != nw->v4)
        return 0;
    if (scope == SLOTS_IP)
        return memcmp(q->ip, nw->ip, 16) == 0;
    /* /24 of the mapped IPv4 address (12 + 3 bytes), or /56 of IPv6. */
    return memcmp(q->ip, nw->ip, nw->v4 ? 15 : 7) == 0;
}

/* Cap c: how many not yet marked are within it, and the one to evict
 * (the oldest in the handshake, one without M1 first), or SIZE_MAX. */
static size_t slots__scan(const struct slot *all, size_t n, const struct slot *nw, size_t c,
                          size_t *victim)
{
    size_t count = 0;

    *victim = SIZE_MAX;
    for (size_t i = 0; i < n; i++) {
        const struct slot *q = &all[i];

        if (q->evict || !slots__in_scope(q, nw, slots__caps[c].scope) ||
            (slots__caps[c].unauth && q->authed))
            continue;
        count++;
        if (q->authed)
            continue; /* never displaced */
        if (*victim == SIZE_MAX || q->got_m1 < all[*victim].got_m1 ||
            (q->got_m1 == all[*victim].got_m1 && q->serial < all[*victim].serial))
            *victim = i;
    }
    return count;
}

int slots_admit(struct slot *all, size_t n, const struct slot *nw, const char **why)
{
    size_t victim;

    for (size_t i = 0; i < n; i++)
        all[i].evict = 0;
    if (why != NULL)
        *why = "";
    if (n > SLOTS_SCAN_MAX) {
        if (why != NULL)
            *why = slots__caps[SLOTS_NCAPS - 1].why;
        return AGAH_ETOOBIG;
    }
    for (size_t c = 0; c < SLOTS_NCAPS; c++) {
        if (slots__caps[c].exempt_skips && nw->exempt)
            continue;
        while (slots__scan(all, n, nw, c, &victim) >= slots__caps[c].cap) {
            if (victim == SIZE_MAX) {
                /* Authenticated links hold every slot: evict nothing. */
                for (size_t i = 0; i < n; i++)
                    all[i].evict = 0;
                if (why != NULL)
                    *why = slots__caps[c].why;
                return AGAH_ETOOBIG;
            }
            all[victim].evict = (uint8_t)(c + 1);
        }
    }
    return 0;
}

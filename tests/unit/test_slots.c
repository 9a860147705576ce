/* Unit tests of daemon/link/slots.c, the rule that decides which accepted
 * connection keeps its slot (issue 24): the handshake budget and its
 * eviction order, the per-address and per-prefix caps (IPv4 /24, IPv6
 * /56, IPv4-mapped IPv6 as IPv4), the loopback exemption of 127.0.0.1 and
 * ::1 only, and authenticated links that are never displaced. */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <agah/agah.h>
#include "slots.h"

#include "check.h"

#define MAXC 300

static struct slot conns[MAXC];
static size_t n_conns;
static uint64_t serial;

/* A slot for a textual address (IPv4 or IPv6). */
static struct slot mk(const char *addr, int authed, int got_m1)
{
    struct slot s;
    struct sockaddr_in s4;
    struct sockaddr_in6 s6;

    memset(&s, 0, sizeof s);
    memset(&s4, 0, sizeof s4);
    memset(&s6, 0, sizeof s6);
    if (inet_pton(AF_INET, addr, &s4.sin_addr) == 1) {
        s4.sin_family = AF_INET;
        slots_addr(&s, (const struct sockaddr *)&s4);
    } else if (inet_pton(AF_INET6, addr, &s6.sin6_addr) == 1) {
        s6.sin6_family = AF_INET6;
        slots_addr(&s, (const struct sockaddr *)&s6);
    }
    s.serial = ++serial;
    s.authed = (uint8_t)authed;
    s.got_m1 = (uint8_t)got_m1;
    return s;
}

/* Admits a connection from addr as the daemon would: evicted ones leave
 * the table, the newcomer joins it. The result of slots_admit. */
static int admit(const char *addr, int authed, int got_m1)
{
    struct slot nw = mk(addr, authed, got_m1);
    size_t k = 0;
    int r = slots_admit(conns, n_conns, &nw, NULL);

    if (r != 0)
        return r;
    for (size_t i = 0; i < n_conns; i++)
        if (!conns[i].evict)
            conns[k++] = conns[i];
    n_conns = k;
    conns[n_conns++] = nw;
    return 0;
}

static size_t count_from(const char *addr)
{
    struct slot s = mk(addr, 0, 0);
    size_t n = 0;

    for (size_t i = 0; i < n_conns; i++)
        n += memcmp(conns[i].ip, s.ip, 16) == 0;
    return n;
}

static void reset(void) { n_conns = 0; }

static void test_addresses(void)
{
    struct slot a = mk("127.0.0.1", 0, 0), b = mk("127.0.0.2", 0, 0), c = mk("::1", 0, 0);
    struct slot d = mk("::ffff:127.0.0.1", 0, 0), e = mk("10.1.2.3", 0, 0), f = mk("2001:db8::1", 0, 0);

    CHECK(a.v4 && a.exempt);
    CHECK(b.v4 && !b.exempt); /* the rest of 127/8 counts like any address */
    CHECK(!c.v4 && c.exempt);
    CHECK(d.v4 && d.exempt && memcmp(a.ip, d.ip, 16) == 0); /* mapped = IPv4 */
    CHECK(e.v4 && !e.exempt && !f.v4 && !f.exempt);
    CHECK(strcmp(slots_why(0), "") == 0 && strcmp(slots_why(200), "") == 0);
}

/* The handshake budget: 16, the oldest without an M1 evicted first. */
static void test_budget(void)
{
    reset();
    for (int i = 0; i < 16; i++)
        CHECK(admit("127.0.0.1", 0, i < 4) == 0); /* the first four sent M1 */
    CHECK(n_conns == 16);
    uint64_t oldest_silent = conns[4].serial;
    CHECK(admit("127.0.0.1", 0, 0) == 0 && n_conns == 16);
    int gone = 1;
    for (size_t i = 0; i < n_conns; i++)
        gone &= conns[i].serial != oldest_silent;
    CHECK(gone);
    /* Twelve more silent ones replace every silent one; the four with M1
     * stay until only they are left to evict. */
    for (int i = 0; i < 12; i++)
        CHECK(admit("127.0.0.1", 0, 0) == 0);
    size_t m1 = 0;
    for (size_t i = 0; i < n_conns; i++)
        m1 += conns[i].got_m1;
    CHECK(m1 == 4 && n_conns == 16);
    CHECK(admit("127.0.0.1", 0, 0) == 0);
    m1 = 0;
    for (size_t i = 0; i < n_conns; i++)
        m1 += conns[i].got_m1;
    CHECK(m1 == 4); /* a silent one went, not one with M1 */
}

/* Per address 4 and per network 8 in the handshake; one address alone
 * never takes the whole budget. */
static void test_caps(void)
{
    char addr[64];

    reset();
    for (int i = 0; i < 10; i++)
        CHECK(admit("198.51.100.7", 0, 0) == 0);
    CHECK(count_from("198.51.100.7") == 4);
    /* Twenty addresses of one /24: 8 at most at a time. */
    reset();
    for (int i = 1; i <= 20; i++) {
        (void)snprintf(addr, sizeof addr, "203.0.113.%d", i);
        CHECK(admit(addr, 0, 0) == 0);
    }
    CHECK(n_conns == 8);
    /* Another /24 is another network. */
    CHECK(admit("203.0.114.1", 0, 0) == 0 && n_conns == 9);
    /* IPv6: one /56 is one network, the next /56 another. */
    reset();
    for (int i = 0; i < 12; i++) {
        (void)snprintf(addr, sizeof addr, "2001:db8:0:%x::1", i); /* same /56 up to 0xff */
        CHECK(admit(addr, 0, 0) == 0);
    }
    CHECK(n_conns == 8);
    CHECK(admit("2001:db8:0:100::1", 0, 0) == 0 && n_conns == 9);
    /* IPv4-mapped IPv6 counts with its IPv4 address. */
    reset();
    for (int i = 0; i < 4; i++)
        CHECK(admit("192.0.2.1", 0, 0) == 0);
    CHECK(admit("::ffff:192.0.2.1", 0, 0) == 0 && count_from("192.0.2.1") == 4);
    /* 127.0.0.1 has no per-address cap, only the budget. */
    reset();
    for (int i = 0; i < 16; i++)
        CHECK(admit("127.0.0.1", 0, 0) == 0);
    CHECK(count_from("127.0.0.1") == 16);
    /* 8 accepted from one address in any state. */
    reset();
    for (int i = 0; i < 8; i++)
        CHECK(admit("198.51.100.9", 1, 1) == 0);
    const char *why = NULL;
    struct slot nw = mk("198.51.100.9", 0, 0);
    CHECK(slots_admit(conns, n_conns, &nw, &why) == AGAH_ETOOBIG &&
          strcmp(why, "too many connections from one address") == 0);
}

/* Authenticated links are never displaced; a refusal evicts nothing. */
static void test_authenticated(void)
{
    char addr[64];
    const char *why = NULL;

    reset();
    for (int i = 0; i < SLOTS_IN_MAX; i++) {
        (void)snprintf(addr, sizeof addr, "10.%d.0.1", i);
        CHECK(admit(addr, 1, 1) == 0);
    }
    struct slot nw = mk("10.200.0.1", 0, 0);
    CHECK(slots_admit(conns, n_conns, &nw, &why) == AGAH_ETOOBIG &&
          strcmp(why, "too many connections") == 0);
    int marked = 0;
    for (size_t i = 0; i < n_conns; i++)
        marked |= conns[i].evict;
    CHECK(!marked);
    /* With one of them in the handshake, that one gives way. */
    conns[10].authed = 0;
    CHECK(slots_admit(conns, n_conns, &nw, &why) == 0 && conns[10].evict != 0);
    CHECK(strcmp(slots_why(conns[10].evict), "too many connections") == 0);
    /* More than the scan bound is refused outright. */
    static struct slot many[SLOTS_SCAN_MAX + 1];
    CHECK(slots_admit(many, SLOTS_SCAN_MAX + 1, &nw, NULL) == AGAH_ETOOBIG);
}

int main(void)
{
    test_addresses();
    test_budget();
    test_caps();
    test_authenticated();
    printf("test_slots: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}

/* Unit test of the peer handshake state machine (daemon/wire/handshake.c): two
 * in-memory ends exchanging M1..M4. Success with matching session keys; a
 * wrong network secret gets no reply at all; a revoked or unknown key is
 * refused without M4; messages replayed from an earlier session fail; every
 * single-bit flip of every message fails; length bounds; a low-order
 * ephemeral key. Version 2: a replayed M1, or one whose time is outside the
 * window, draws nothing; the replay cache refuses when full; a version 1 M1
 * is recognised and refused by name. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include <agah/agah.h>
#include "handshake.h"

#include "check.h"

static uint8_t K[32], K_other[32], community[32];
static struct agah_identity *org, *alice, *bob;
static uint8_t *adm_alice, *adm_bob;
static size_t adm_alice_len, adm_bob_len;
/* Both ends' clock, and the replay cache every server here shares. */
#define NOW 1700000100u
static struct hs_replay *R;
static void make_m1(uint8_t m1[HS_M1_LEN], const uint8_t e[32], uint64_t t);

/* The membership a verify callback consults: admitted keys, revoked keys. */
struct members {
    const uint8_t *revoked; /* one revoked key, or NULL */
    int calls;
    uint8_t last_pk[32];
};

/* Accepts a key whose admission record decodes, names that key and is
 * signed by the organiser, unless it is revoked. */
static int verify(void *ctx, const uint8_t pk[AGAH_PK_LEN], const uint8_t *adm, size_t len)
{
    struct members *m = ctx;
    struct agah_rec r;

    m->calls++;
    memcpy(m->last_pk, pk, 32);
    if (agah_rec_decode(adm, len, community, &r, NULL) != 0 || r.type != AGAH_REC_ADMISSION ||
        memcmp(r.u.admission.member, pk, 32) != 0 ||
        memcmp(r.author, agah_identity_pk(org), 32) != 0)
        return AGAH_ENOENT;
    if (m->revoked != NULL && memcmp(m->revoked, pk, 32) == 0)
        return AGAH_EPERM;
    return 0;
}

/* 1 if needle[0..n) occurs in hay[0..len). */
static int contains(const uint8_t *hay, size_t len, const uint8_t *needle, size_t n)
{
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(hay + i, needle, n) == 0)
            return 1;
    return 0;
}

struct session {
    struct hs *c, *s;
    struct members mc, ms;
    uint8_t m[4][HS_MSG_MAX];
    size_t len[4];
    int rc[4]; /* result of the step that consumed message i */
};

/* Runs a handshake client=alice, server=bob, keeping every message. */
static void run(struct session *x, const uint8_t *kc, const uint8_t *ks)
{
    struct agah_why why;

    memset(x, 0, sizeof *x);
    if (hs_new(1, kc, alice, adm_alice, adm_alice_len, verify, &x->mc, NOW, R, &x->c) != 0 ||
        hs_new(0, ks, bob, adm_bob, adm_bob_len, verify, &x->ms, NOW, R, &x->s) != 0) {
        CHECKF(0, "hs_new");
        return;
    }
    CHECKF(hs_start(x->c, x->m[0]) == 0, "hs_start");
    x->len[0] = HS_M1_LEN;
    x->rc[0] = hs_step(x->s, x->m[0], x->len[0], x->m[1], &x->len[1], &why);
    if (x->rc[0] != 0)
        return;
    x->rc[1] = hs_step(x->c, x->m[1], x->len[1], x->m[2], &x->len[2], &why);
    if (x->rc[1] != 0)
        return;
    x->rc[2] = hs_step(x->s, x->m[2], x->len[2], x->m[3], &x->len[3], &why);
    if (x->rc[2] != 0)
        return;
    x->rc[3] = hs_step(x->c, x->m[3], x->len[3], NULL, &x->len[0], &why);
    x->len[0] = HS_M1_LEN;
}

static void done(struct session *x)
{
    hs_free(x->c);
    hs_free(x->s);
}

static void test_success(void)
{
    struct session x, y;
    uint8_t ctx_[32], crx[32], stx[32], srx[32], ytx[32], yrx[32];
    size_t need = 0;

    run(&x, K, K);
    CHECKF(x.rc[0] == 0 && x.rc[1] == 0 && x.rc[2] == 0 && x.rc[3] == 0, "steps %d %d %d %d",
          x.rc[0], x.rc[1], x.rc[2], x.rc[3]);
    CHECKF(x.len[1] == HS_M2_LEN, "M2 is %zu bytes", x.len[1]);
    CHECKF(x.len[2] > 4 && x.len[2] <= HS_MSG_MAX && x.len[3] > 4, "M3 %zu M4 %zu", x.len[2],
          x.len[3]);
    CHECKF(hs_done(x.c) && hs_done(x.s), "not done");
    CHECKF(memcmp(hs_peer_pk(x.s), agah_identity_pk(alice), 32) == 0, "server sees alice");
    CHECKF(memcmp(hs_peer_pk(x.c), agah_identity_pk(bob), 32) == 0, "client sees bob");
    CHECKF(x.mc.calls == 1 && x.ms.calls == 1, "verify called %d/%d times", x.mc.calls,
          x.ms.calls);
    CHECKF(hs_session_keys(x.c, ctx_, crx) == 0 && hs_session_keys(x.s, stx, srx) == 0, "keys");
    CHECKF(memcmp(ctx_, srx, 32) == 0 && memcmp(crx, stx, 32) == 0, "keys do not pair up");
    CHECKF(memcmp(ctx_, crx, 32) != 0, "both directions share a key");
    /* The identities travel encrypted: neither public key appears in clear. */
    CHECKF(!contains(x.m[2], x.len[2], agah_identity_pk(alice), 32) &&
          !contains(x.m[3], x.len[3], agah_identity_pk(bob), 32),
          "a member key is visible on the wire");
    /* Before completion there are no keys; after it, no more messages. */
    CHECKF(hs_next_len(x.c, NULL, 0, &need) == AGAH_EINVAL, "done handshake wants more");
    run(&y, K, K);
    CHECKF(hs_session_keys(y.c, ytx, yrx) == 0 && memcmp(ytx, ctx_, 32) != 0,
          "two sessions share keys");
    done(&x);
    done(&y);
    {
        struct hs *h;
        uint8_t a[32], b[32];
        CHECKF(hs_new(1, K, alice, adm_alice, adm_alice_len, verify, NULL, NOW, R, &h) == 0, "new");
        CHECKF(hs_session_keys(h, a, b) == AGAH_EINVAL, "keys before the handshake");
        hs_free(h);
    }
    sodium_memzero(ctx_, 32);
}

static void test_wrong_secret(void)
{
    struct session x;

    /* The server cannot verify M1: it answers nothing at all. */
    run(&x, K_other, K);
    CHECKF(x.rc[0] == AGAH_ECRYPTO, "M1 under another secret: %d", x.rc[0]);
    CHECKF(x.len[1] == 0, "the server replied %zu bytes to an outsider", x.len[1]);
    CHECKF(x.ms.calls == 0, "verify reached");
    CHECKF(!hs_done(x.s), "server done");
    done(&x);
    /* An outsider server answering a member's M1 is not believed. */
    {
        struct session y;
        struct agah_why why;
        uint8_t m2[HS_MSG_MAX], m3[HS_MSG_MAX];
        size_t l2 = 0, l3 = 0;

        run(&y, K, K);
        struct hs *c, *s;
        CHECKF(hs_new(1, K, alice, adm_alice, adm_alice_len, verify, &y.mc, NOW, R, &c) == 0 &&
              hs_new(0, K_other, bob, adm_bob, adm_bob_len, verify, &y.ms, NOW, R, &s) == 0, "new");
        uint8_t m1[HS_M1_LEN];
        CHECKF(hs_start(c, m1) == 0, "start");
        /* Forge an M2 as an outsider would: a server with K_other cannot
         * accept M1, so build one by hand from a fresh key pair. */
        uint8_t esk[32];
        randombytes_buf(esk, 32);
        crypto_scalarmult_base(m2, esk);
        /* The MAC is the server's, HMAC(K, its ephemeral || the client's),
         * but keyed by the outsider's secret, so that is all that is wrong. */
        {
            crypto_auth_hmacsha512256_state st;
            crypto_auth_hmacsha512256_init(&st, K_other, 32);
            crypto_auth_hmacsha512256_update(&st, m2, 32);
            crypto_auth_hmacsha512256_update(&st, m1, 32);
            crypto_auth_hmacsha512256_final(&st, m2 + 32);
        }
        l2 = HS_M2_LEN;
        CHECKF(hs_step(c, m2, l2, m3, &l3, &why) == AGAH_ECRYPTO && l3 == 0,
              "client accepted an outsider's M2");
        hs_free(c);
        hs_free(s);
        done(&y);
    }
}

static void test_revoked(void)
{
    struct session x;

    /* Alice revoked: bob refuses M3 and sends no M4. */
    run(&x, K, K);
    done(&x);
    memset(&x, 0, sizeof x);
    {
        struct agah_why why;
        struct members mc = {0}, ms = {agah_identity_pk(alice), 0, {0}};
        struct hs *c, *s;
        uint8_t m1[HS_M1_LEN], m2[HS_MSG_MAX], m3[HS_MSG_MAX], m4[HS_MSG_MAX];
        size_t l2, l3, l4 = 99;

        CHECKF(hs_new(1, K, alice, adm_alice, adm_alice_len, verify, &mc, NOW, R, &c) == 0 &&
              hs_new(0, K, bob, adm_bob, adm_bob_len, verify, &ms, NOW, R, &s) == 0, "new");
        CHECKF(hs_start(c, m1) == 0 && hs_step(s, m1, HS_M1_LEN, m2, &l2, &why) == 0 &&
              hs_step(c, m2, l2, m3, &l3, &why) == 0, "first steps");
        CHECKF(hs_step(s, m3, l3, m4, &l4, &why) == AGAH_EPERM, "revoked client accepted");
        CHECKF(l4 == 0, "M4 sent to a revoked key");
        CHECKF(!hs_done(s), "server done");
        /* A failed handshake takes nothing more. */
        CHECKF(hs_step(s, m3, l3, m4, &l4, &why) != 0, "failed handshake continued");
        hs_free(c);
        hs_free(s);
    }
    /* Bob revoked: alice refuses M4. */
    {
        struct agah_why why;
        struct members mc = {agah_identity_pk(bob), 0, {0}}, ms = {0};
        struct hs *c, *s;
        uint8_t m1[HS_M1_LEN], m2[HS_MSG_MAX], m3[HS_MSG_MAX], m4[HS_MSG_MAX];
        size_t l2, l3, l4, l5;

        CHECKF(hs_new(1, K, alice, adm_alice, adm_alice_len, verify, &mc, NOW, R, &c) == 0 &&
              hs_new(0, K, bob, adm_bob, adm_bob_len, verify, &ms, NOW, R, &s) == 0, "new");
        CHECKF(hs_start(c, m1) == 0 && hs_step(s, m1, HS_M1_LEN, m2, &l2, &why) == 0 &&
              hs_step(c, m2, l2, m3, &l3, &why) == 0 &&
              hs_step(s, m3, l3, m4, &l4, &why) == 0, "first steps");
        CHECKF(hs_step(c, m4, l4, NULL, &l5, &why) == AGAH_EPERM && !hs_done(c),
              "revoked server accepted");
        hs_free(c);
        hs_free(s);
    }
    /* Unknown key (alice presents bob's admission). */
    {
        struct agah_why why;
        struct members mc = {0}, ms = {0};
        struct hs *c, *s;
        uint8_t m1[HS_M1_LEN], m2[HS_MSG_MAX], m3[HS_MSG_MAX], m4[HS_MSG_MAX];
        size_t l2, l3, l4 = 99;

        CHECKF(hs_new(1, K, alice, adm_bob, adm_bob_len, verify, &mc, NOW, R, &c) == 0 &&
              hs_new(0, K, bob, adm_bob, adm_bob_len, verify, &ms, NOW, R, &s) == 0, "new");
        CHECKF(hs_start(c, m1) == 0 && hs_step(s, m1, HS_M1_LEN, m2, &l2, &why) == 0 &&
              hs_step(c, m2, l2, m3, &l3, &why) == 0, "first steps");
        CHECKF(hs_step(s, m3, l3, m4, &l4, &why) == AGAH_ENOENT && l4 == 0,
              "someone else's admission accepted");
        hs_free(c);
        hs_free(s);
    }
}

static void test_replay(void)
{
    struct session old;
    struct agah_why why;
    struct members mc = {0}, ms = {0};
    struct hs *s, *c;
    uint8_t m2[HS_MSG_MAX], m3[HS_MSG_MAX], m4[HS_MSG_MAX], m1[HS_M1_LEN];
    size_t l2 = 0, l3 = 0, l4 = 0;

    run(&old, K, K);
    CHECKF(old.rc[3] == 0, "first session");
    /* A recorded M1 replayed to the server within the window draws
     * nothing at all: no M2 that would tell a member's node from any other
     * host (version 1 answered every replay, an oracle valid for ever). */
    CHECKF(hs_new(0, K, bob, adm_bob, adm_bob_len, verify, &ms, NOW + 5, R, &s) == 0, "new");
    l2 = 99;
    CHECKF(hs_step(s, old.m[0], HS_M1_LEN, m2, &l2, &why) == AGAH_EEXIST && l2 == 0,
          "replayed M1 answered");
    CHECKF(hs_step(s, old.m[2], old.len[2], m4, &l4, &why) != 0 && l4 == 0,
          "replayed M3 accepted");
    CHECKF(ms.calls == 0, "verify reached by a replay");
    hs_free(s);
    /* Nor later, once the cache has forgotten it: its time is then
     * outside the window. */
    {
        struct hs_replay *fresh;
        CHECKF(hs_replay_new(&fresh) == 0, "replay cache");
        CHECKF(hs_new(0, K, bob, adm_bob, adm_bob_len, verify, &ms, NOW + HS_WINDOW_S + 1,
                      fresh, &s) == 0, "new");
        l2 = 99;
        CHECKF(hs_step(s, old.m[0], HS_M1_LEN, m2, &l2, &why) == AGAH_EEXPIRED && l2 == 0,
              "old M1 answered after the window");
        CHECKF(hs_replay_count(fresh) == 0, "a refused M1 was remembered");
        hs_free(s);
        hs_replay_free(fresh);
    }
    /* A recorded M2 replayed to a new client fails its MAC (it covers the
     * client's fresh ephemeral); a recorded M4 never opens either. */
    CHECKF(hs_new(1, K, alice, adm_alice, adm_alice_len, verify, &mc, NOW, R, &c) == 0, "new");
    CHECKF(hs_start(c, m1) == 0, "start");
    CHECKF(hs_step(c, old.m[1], HS_M2_LEN, m3, &l3, &why) == AGAH_ECRYPTO && l3 == 0,
          "replayed M2 accepted");
    hs_free(c);
    {
        struct session y;
        struct hs *c2;
        uint8_t a1[HS_M1_LEN], a2[HS_MSG_MAX], a3[HS_MSG_MAX];
        size_t b2, b3, b4;

        run(&y, K, K);
        CHECKF(hs_new(1, K, alice, adm_alice, adm_alice_len, verify, &mc, NOW, R, &c2) == 0 &&
              hs_new(0, K, bob, adm_bob, adm_bob_len, verify, &ms, NOW, R, &s) == 0, "new");
        CHECKF(hs_start(c2, a1) == 0 && hs_step(s, a1, HS_M1_LEN, a2, &b2, &why) == 0 &&
              hs_step(c2, a2, b2, a3, &b3, &why) == 0, "steps");
        CHECKF(hs_step(c2, old.m[3], old.len[3], NULL, &b4, &why) == AGAH_ECRYPTO,
              "replayed M4 accepted");
        hs_free(c2);
        hs_free(s);
        done(&y);
    }
    done(&old);
}

/* Flips one bit of message `which` in a fresh session; the receiver must
 * refuse it without replying. Returns 1 if it was (wrongly) accepted. */
static int flip_one(int which, size_t bit)
{
    struct agah_why why;
    struct members mc = {0}, ms = {0};
    struct hs *c, *s;
    uint8_t m[4][HS_MSG_MAX], out[HS_MSG_MAX];
    size_t len[4] = {HS_M1_LEN, 0, 0, 0}, ol = 0, need = 0;
    int r = 0, accepted = 0;

    if (hs_new(1, K, alice, adm_alice, adm_alice_len, verify, &mc, NOW, R, &c) != 0 ||
        hs_new(0, K, bob, adm_bob, adm_bob_len, verify, &ms, NOW, R, &s) != 0)
        return 1;
    (void)hs_start(c, m[0]);
    for (int i = 0; i < 4 && r == 0; i++) {
        struct hs *rx = (i % 2 == 0) ? s : c;

        if (i == which) {
            if (bit / 8 >= len[i]) {
                r = -1;
                break;
            }
            m[i][bit / 8] ^= (uint8_t)(1u << (bit % 8));
            /* A flip in a length prefix may be refused before the step. */
            if (hs_next_len(rx, m[i], len[i], &need) != 0 || need != len[i]) {
                r = -1;
                break;
            }
            ol = 99;
            r = hs_step(rx, m[i], len[i], out, &ol, &why);
            accepted = r == 0 || ol != 0;
            break;
        }
        r = hs_step(rx, m[i], len[i], i < 3 ? m[i + 1] : out, i < 3 ? &len[i + 1] : &ol, &why);
    }
    hs_free(c);
    hs_free(s);
    return accepted;
}

static void test_bit_flips(void)
{
    struct session x;

    run(&x, K, K);
    for (int w = 0; w < 4; w++) {
        int bad = 0;
        size_t bits = 8 * x.len[w];

        /* Every bit of M1 and M2; for the longer boxes every bit of the
         * first 40 bytes and one bit of every byte after. */
        for (size_t b = 0; b < bits; b++) {
            if (w >= 2 && b >= 320 && b % 8 != (b / 8) % 8)
                continue;
            bad += flip_one(w, b);
        }
        CHECKF(bad == 0, "%d bit flips of M%d accepted", bad, w + 1);
    }
    done(&x);
}

static void test_bounds(void)
{
    struct hs *s, *c;
    struct agah_why why;
    struct members m = {0};
    uint8_t buf[HS_MSG_MAX], m1[HS_M1_LEN], m2[HS_MSG_MAX];
    size_t need = 0, l2;

    CHECKF(hs_new(0, K, bob, adm_bob, adm_bob_len, verify, &m, NOW, R, &s) == 0, "new");
    CHECKF(hs_next_len(s, buf, 0, &need) == 0 && need == HS_M1_LEN, "M1 length");
    CHECKF(hs_step(s, buf, 63, m2, &l2, &why) != 0 && l2 == 0, "short M1 accepted");
    hs_free(s);
    /* A low-order point with a valid MAC (an insider's trick) fails. */
    CHECKF(hs_new(0, K, bob, adm_bob, adm_bob_len, verify, &m, NOW, R, &s) == 0, "new");
    {
        uint8_t zero[32] = {0};
        make_m1(m1, zero, NOW);
    }
    CHECKF(hs_step(s, m1, HS_M1_LEN, m2, &l2, &why) == AGAH_ECRYPTO && l2 == 0,
          "all-zero ephemeral accepted");
    hs_free(s);
    /* M3 length field bounds. */
    CHECKF(hs_new(1, K, alice, adm_alice, adm_alice_len, verify, &m, NOW, R, &c) == 0 &&
          hs_new(0, K, bob, adm_bob, adm_bob_len, verify, &m, NOW, R, &s) == 0, "new");
    CHECKF(hs_start(c, m1) == 0 && hs_step(s, m1, HS_M1_LEN, m2, &l2, &why) == 0, "M1");
    CHECKF(hs_next_len(s, buf, 3, &need) == AGAH_ETRUNC, "3 bytes told the length");
    buf[0] = 0; buf[1] = 0; buf[2] = 0x10; buf[3] = 0x01; /* 4097 */
    CHECKF(hs_next_len(s, buf, 4, &need) == AGAH_ETOOBIG, "4097-byte M3 announced");
    buf[0] = 0xff; buf[1] = 0xff; buf[2] = 0xff; buf[3] = 0xff;
    CHECKF(hs_next_len(s, buf, 4, &need) == AGAH_ETOOBIG, "4 GiB M3 announced");
    buf[0] = 0; buf[1] = 0; buf[2] = 0; buf[3] = 112; /* no room for an admission */
    CHECKF(hs_next_len(s, buf, 4, &need) == AGAH_EVALUE, "empty M3 announced");
    buf[0] = 0; buf[1] = 0; buf[2] = 0x10; buf[3] = 0x00;
    CHECKF(hs_next_len(s, buf, 4, &need) == 0 && need == 4 + 4096, "largest M3");
    hs_free(c);
    hs_free(s);
    /* Our own admission must fit. */
    {
        uint8_t *big = calloc(1, HS_ADMISSION_MAX + 1);
        CHECKF(hs_new(1, K, alice, big, HS_ADMISSION_MAX + 1, verify, &m, NOW, R, &c) == AGAH_EINVAL,
              "oversize admission");
        free(big);
    }
}

/* The fuzz hook seals any plaintext as M3: garbage inside a valid box is
 * refused by the parser (here: no signature). */
static void test_box_contents(void)
{
    struct agah_why why;
    struct members mc = {0}, ms = {0};
    struct hs *c, *s;
    uint8_t m1[HS_M1_LEN], m2[HS_MSG_MAX], m3[HS_MSG_MAX], m4[HS_MSG_MAX], pt[200];
    size_t l2, l3, l4 = 9;

    CHECKF(hs_new(1, K, alice, adm_alice, adm_alice_len, verify, &mc, NOW, R, &c) == 0 &&
          hs_new(0, K, bob, adm_bob, adm_bob_len, verify, &ms, NOW, R, &s) == 0, "new");
    CHECKF(hs_start(c, m1) == 0 && hs_step(s, m1, HS_M1_LEN, m2, &l2, &why) == 0 &&
          hs_step(c, m2, l2, m3, &l3, &why) == 0, "steps");
    memset(pt, 0, sizeof pt);
    memcpy(pt, agah_identity_pk(alice), 32);
    CHECKF(hs__seal_box(c, pt, sizeof pt, m3, &l3) == 0, "seal");
    CHECKF(hs_step(s, m3, l3, m4, &l4, &why) == AGAH_ESIG && l4 == 0 && ms.calls == 0,
          "unsigned M3 accepted");
    hs_free(c);
    hs_free(s);
}

/* A version 2 M1 made by hand: e || time || HMAC_K(label || e || time). */
static void make_m1(uint8_t m1[HS_M1_LEN], const uint8_t e[32], uint64_t t)
{
    crypto_auth_hmacsha512256_state st;

    memcpy(m1, e, 32);
    for (int i = 0; i < 8; i++)
        m1[32 + i] = (uint8_t)(t >> (56 - 8 * i));
    crypto_auth_hmacsha512256_init(&st, K, 32);
    crypto_auth_hmacsha512256_update(&st, (const uint8_t *)"agah-hs-m1-v2", 13);
    crypto_auth_hmacsha512256_update(&st, m1, 40);
    crypto_auth_hmacsha512256_final(&st, m1 + 40);
}

/* One M1 at server time `now`: the step's result, *l2 the reply length. */
static int m1_at(struct hs_replay *rc, const uint8_t m1[HS_M1_LEN], uint64_t now, size_t *l2)
{
    struct members ms = {0};
    struct agah_why why;
    struct hs *s;
    uint8_t m2[HS_MSG_MAX];
    int r;

    if (hs_new(0, K, bob, adm_bob, adm_bob_len, verify, &ms, now, rc, &s) != 0)
        return 99;
    *l2 = 99;
    r = hs_step(s, m1, HS_M1_LEN, m2, l2, &why);
    hs_free(s);
    return r;
}

/* M1's time must lie within HS_WINDOW_S of the server's clock, either way;
 * the time is under the MAC, so it cannot be moved into the window. */
static void test_window(void)
{
    uint8_t e[32], esk[32], m1[HS_M1_LEN];
    size_t l2;

    randombytes_buf(esk, 32);
    crypto_scalarmult_base(e, esk);
    make_m1(m1, e, NOW - HS_WINDOW_S - 1);
    CHECKF(m1_at(R, m1, NOW, &l2) == AGAH_EEXPIRED && l2 == 0, "M1 121 s old answered");
    make_m1(m1, e, NOW + HS_WINDOW_S + 1);
    CHECKF(m1_at(R, m1, NOW, &l2) == AGAH_EEXPIRED && l2 == 0, "M1 121 s ahead answered");
    make_m1(m1, e, NOW - HS_WINDOW_S);
    CHECKF(m1_at(R, m1, NOW, &l2) == 0 && l2 == HS_M2_LEN, "M1 120 s old refused");
    randombytes_buf(esk, 32);
    crypto_scalarmult_base(e, esk);
    make_m1(m1, e, NOW + HS_WINDOW_S);
    CHECKF(m1_at(R, m1, NOW, &l2) == 0 && l2 == HS_M2_LEN, "M1 120 s ahead refused");
    /* Moving the time without the MAC fails like any forgery. */
    m1[39] ^= 1;
    CHECKF(m1_at(R, m1, NOW, &l2) == AGAH_ECRYPTO && l2 == 0, "time edited");
}

/* A full cache refuses new M1s (nothing answered) instead of forgetting an
 * entry that could then be replayed; entries leave once their M1 can no
 * longer be inside any window. */
static void test_replay_full(void)
{
    struct hs_replay *rc;
    uint8_t e[32], m1[HS_M1_LEN], first[HS_M1_LEN];
    size_t l2 = 0;
    int bad = 0;

    CHECKF(hs_replay_new(&rc) == 0, "replay cache");
    for (size_t i = 0; i < HS_REPLAY_MAX; i++) {
        randombytes_buf(e, 32);
        make_m1(m1, e, NOW);
        if (i == 0)
            memcpy(first, m1, sizeof m1);
        bad += m1_at(rc, m1, NOW, &l2) != 0 || l2 != HS_M2_LEN;
    }
    CHECKF(bad == 0, "%d of %d fresh M1s refused", bad, HS_REPLAY_MAX);
    CHECKF(hs_replay_count(rc) == HS_REPLAY_MAX, "cache holds %zu", hs_replay_count(rc));
    randombytes_buf(e, 32);
    make_m1(m1, e, NOW);
    CHECKF(m1_at(rc, m1, NOW + 1, &l2) == AGAH_ETOOBIG && l2 == 0, "full cache answered");
    CHECKF(m1_at(rc, first, NOW + 1, &l2) == AGAH_EEXIST && l2 == 0, "replay forgotten");
    /* 2W + 1 s on, every entry has expired and M1s (of the new time) pass. */
    make_m1(m1, e, NOW + 2 * HS_WINDOW_S + 1);
    CHECKF(m1_at(rc, m1, NOW + 2 * HS_WINDOW_S + 1, &l2) == 0 && l2 == HS_M2_LEN,
          "expired entries kept");
    CHECKF(hs_replay_count(rc) == 1, "cache holds %zu after expiry", hs_replay_count(rc));
    hs_replay_free(rc);
}

/* A version 1 client (M1 = e_c || HMAC_K(e_c), 64 bytes, then it waits) is
 * recognised after 64 bytes and refused by name, nothing sent; 64 bytes of
 * a version 2 M1 are not mistaken for one. */
static void test_version1(void)
{
    struct members ms = {0};
    struct agah_why why;
    struct hs *s, *c;
    uint8_t v1[HS_M1_V1_LEN], m1[HS_M1_LEN], m2[HS_MSG_MAX];
    size_t need = 0, l2 = 99;

    randombytes_buf(v1, 32);
    crypto_auth_hmacsha512256(v1 + 32, v1, 32, K);
    CHECKF(hs_new(0, K, bob, adm_bob, adm_bob_len, verify, &ms, NOW, R, &s) == 0, "new");
    CHECKF(hs_next_len(s, v1, 63, &need) == 0 && need == HS_M1_LEN, "63 bytes");
    CHECKF(hs_next_len(s, v1, 64, &need) == 0 && need == HS_M1_V1_LEN, "v1 M1 not seen");
    CHECKF(hs_step(s, v1, HS_M1_V1_LEN, m2, &l2, &why) == AGAH_EVERSION && l2 == 0,
          "v1 M1 answered");
    CHECKF(strstr(why.msg, "version 1") != NULL && strstr(why.msg, "version 2") != NULL,
          "log names no versions: %s", why.msg);
    hs_free(s);
    /* Under another K it is just noise. */
    CHECKF(hs_new(0, K_other, bob, adm_bob, adm_bob_len, verify, &ms, NOW, R, &s) == 0, "new");
    CHECKF(hs_next_len(s, v1, 64, &need) == 0 && need == HS_M1_LEN, "foreign v1 M1 seen");
    CHECKF(hs_step(s, v1, HS_M1_V1_LEN, m2, &l2, &why) == AGAH_ETRUNC && l2 == 0,
          "foreign v1 M1 answered");
    hs_free(s);
    CHECKF(hs_new(1, K, alice, adm_alice, adm_alice_len, verify, &ms, NOW, NULL, &c) == 0 &&
          hs_new(0, K, bob, adm_bob, adm_bob_len, verify, &ms, NOW, R, &s) == 0, "new");
    CHECKF(hs_start(c, m1) == 0, "start");
    CHECKF(hs_next_len(s, m1, 64, &need) == 0 && need == HS_M1_LEN, "v2 prefix taken as v1");
    CHECKF(hs_next_len(s, m1, 72, &need) == 0 && need == HS_M1_LEN, "v2 M1 length");
    CHECKF(hs_step(s, m1, HS_M1_LEN, m2, &l2, &why) == 0 && l2 == HS_M2_LEN, "v2 M1 refused");
    hs_free(c);
    hs_free(s);
    /* A server needs a replay cache. */
    CHECKF(hs_new(0, K, bob, adm_bob, adm_bob_len, verify, &ms, NOW, NULL, &s) == AGAH_EINVAL,
          "server without a replay cache");
}

/* A client that knows whom it dials binds M3 to that member's key: the
 * member's node opens it, an impostor holding K (another member's node at
 * that address) cannot, so it never learns who dialled. */
static void test_bound(void)
{
    struct agah_why why;
    struct members mc = {0}, ms = {0};
    struct hs *c, *s;
    uint8_t m1[HS_M1_LEN], m2[HS_MSG_MAX], m3[HS_MSG_MAX], m4[HS_MSG_MAX];
    size_t l2 = 0, l3 = 0, l4 = 99, l5 = 0;
    uint8_t zero[32] = {0}, ctx_[32], crx[32], stx[32], srx[32];

    CHECKF(hs_new(1, K, alice, adm_alice, adm_alice_len, verify, &mc, NOW, NULL, &c) == 0 &&
          hs_new(0, K, bob, adm_bob, adm_bob_len, verify, &ms, NOW, R, &s) == 0, "new");
    CHECKF(hs_expect_server(c, agah_identity_pk(bob)) == 0 && hs_bound(c), "expect bob");
    CHECKF(hs_start(c, m1) == 0 && hs_step(s, m1, HS_M1_LEN, m2, &l2, &why) == 0 &&
          hs_step(c, m2, l2, m3, &l3, &why) == 0 && hs_step(s, m3, l3, m4, &l4, &why) == 0 &&
          hs_step(c, m4, l4, NULL, &l5, &why) == 0, "bound handshake: %s", why.msg);
    CHECKF(hs_done(c) && hs_done(s) && hs_bound(s), "bob did not see a bound M3");
    CHECKF(hs_session_keys(c, ctx_, crx) == 0 && hs_session_keys(s, stx, srx) == 0 &&
          memcmp(ctx_, srx, 32) == 0 && memcmp(crx, stx, 32) == 0, "keys do not pair up");
    CHECKF(hs_expect_server(c, agah_identity_pk(bob)) == AGAH_EINVAL, "expectation after start");
    CHECKF(hs_expect_server(s, agah_identity_pk(alice)) == AGAH_EINVAL, "server expectation");
    hs_free(c);
    hs_free(s);

    /* The organiser's node (holding K) stands at the address alice expects
     * bob at: it cannot open her M3, learns nothing, answers nothing. */
    memset(&ms, 0, sizeof ms);
    CHECKF(hs_new(1, K, alice, adm_alice, adm_alice_len, verify, &mc, NOW, NULL, &c) == 0 &&
          hs_new(0, K, org, adm_bob, adm_bob_len, verify, &ms, NOW, R, &s) == 0, "new");
    CHECKF(hs_expect_server(c, agah_identity_pk(bob)) == 0, "expect bob");
    CHECKF(hs_start(c, m1) == 0 && hs_step(s, m1, HS_M1_LEN, m2, &l2, &why) == 0 &&
          hs_step(c, m2, l2, m3, &l3, &why) == 0, "first steps");
    l4 = 99;
    CHECKF(hs_step(s, m3, l3, m4, &l4, &why) == AGAH_ECRYPTO && l4 == 0 && ms.calls == 0,
          "an impostor opened a bound M3");
    hs_free(c);
    hs_free(s);
    /* Unbound, the same impostor would have read it (what binding stops). */
    CHECKF(hs_new(1, K, alice, adm_alice, adm_alice_len, verify, &mc, NOW, NULL, &c) == 0 &&
          hs_new(0, K, org, adm_bob, adm_bob_len, verify, &ms, NOW, R, &s) == 0, "new");
    CHECKF(hs_start(c, m1) == 0 && hs_step(s, m1, HS_M1_LEN, m2, &l2, &why) == 0 &&
          hs_step(c, m2, l2, m3, &l3, &why) == 0, "first steps");
    (void)hs_step(s, m3, l3, m4, &l4, &why);
    CHECKF(ms.calls == 1 && memcmp(ms.last_pk, agah_identity_pk(alice), 32) == 0,
          "control: an unbound M3 opens anywhere K is held");
    hs_free(c);
    hs_free(s);
    /* A key that is no point cannot be expected. */
    CHECKF(hs_new(1, K, alice, adm_alice, adm_alice_len, verify, &mc, NOW, NULL, &c) == 0, "new");
    CHECKF(hs_expect_server(c, zero) == AGAH_EINVAL && !hs_bound(c), "all-zero key expected");
    hs_free(c);
    sodium_memzero(ctx_, 32);
    sodium_memzero(crx, 32);
    sodium_memzero(stx, 32);
    sodium_memzero(srx, 32);
}

/* A server accepts earlier network secrets too (hs_accept_also): a client
 * dialling with one of them links and both ends agree on session keys; a
 * secret in no list is refused as before, and only servers take a list. */
static void test_accept_also(void)
{
    struct agah_why why;
    struct members mc = {0}, ms = {0};
    struct hs *c, *s;
    uint8_t m[4][HS_MSG_MAX], third[32], ctx_[32], crx[32], stx[32], srx[32];
    size_t l[4];
    uint8_t alts[2][32];

    randombytes_buf(third, sizeof third);
    memcpy(alts[0], third, 32);
    memcpy(alts[1], K, 32);
    for (int known = 0; known < 2; known++) {
        CHECKF(hs_new(1, known ? K : K_other, alice, adm_alice, adm_alice_len, verify, &mc, NOW,
                      NULL, &c) == 0 &&
                   hs_new(0, third, bob, adm_bob, adm_bob_len, verify,
                          &ms, NOW, R, &s) == 0,
               "new");
        /* The server's own secret is `third`; it also takes third and K. */
        CHECKF(hs_accept_also(s, (const uint8_t(*)[32])alts, 2) == 0, "accept_also");
        CHECKF(hs_accept_also(c, (const uint8_t(*)[32])alts, 2) == AGAH_EINVAL, "a client took a list");
        CHECKF(hs_start(c, m[0]) == 0, "start");
        int r = hs_step(s, m[0], HS_M1_LEN, m[1], &l[1], &why);
        if (!known) {
            CHECKF(r == AGAH_ECRYPTO && l[1] == 0, "an unknown secret was answered");
        } else {
            CHECKF(r == 0 && l[1] == HS_M2_LEN, "an earlier secret was refused: %d", r);
            CHECKF(hs_step(c, m[1], l[1], m[2], &l[2], &why) == 0 &&
                       hs_step(s, m[2], l[2], m[3], &l[3], &why) == 0 &&
                       hs_step(c, m[3], l[3], NULL, &l[0], &why) == 0,
                   "handshake under an earlier secret");
            CHECKF(hs_done(c) && hs_done(s) && hs_session_keys(c, ctx_, crx) == 0 &&
                       hs_session_keys(s, stx, srx) == 0 && memcmp(ctx_, srx, 32) == 0 &&
                       memcmp(crx, stx, 32) == 0,
                   "session keys differ");
            CHECKF(hs_accept_also(s, (const uint8_t(*)[32])alts, 2) == AGAH_EINVAL, "a list after M1");
        }
        hs_free(c);
        hs_free(s);
    }
}

/* The handshake keeps its own copy of this node's admission: the node may
 * free or rewrite its buffer (a new admission arrives, the store is
 * rewritten) between M1 and M3. Here the caller's copy is wiped and freed
 * right after hs_new; M3 must still carry the admission. */
static void test_admission_copied(void)
{
    struct agah_why why;
    struct members mc = {0}, ms = {0};
    struct hs *c = NULL, *s = NULL;
    uint8_t m[4][HS_MSG_MAX], *adm = malloc(adm_alice_len);
    size_t l[4];

    if (adm == NULL)
        return;
    memcpy(adm, adm_alice, adm_alice_len);
    CHECKF(hs_new(1, K, alice, adm, adm_alice_len, verify, &mc, NOW, NULL, &c) == 0 &&
               hs_new(0, K, bob, adm_bob, adm_bob_len, verify, &ms, NOW, R, &s) == 0,
           "new");
    memset(adm, 0, adm_alice_len);
    free(adm);
    CHECKF(hs_start(c, m[0]) == 0 && hs_step(s, m[0], HS_M1_LEN, m[1], &l[1], &why) == 0 &&
               hs_step(c, m[1], l[1], m[2], &l[2], &why) == 0 &&
               hs_step(s, m[2], l[2], m[3], &l[3], &why) == 0,
           "the server refused M3 once the client's admission buffer was gone");
    hs_free(c);
    hs_free(s);
}

int main(void)
{
    uint8_t *gen;
    size_t gen_len;

    if (agah_init() != 0 || hs_replay_new(&R) != 0)
        return 2;
    randombytes_buf(K, 32);
    randombytes_buf(K_other, 32);
    if (agah_identity_generate(&org) != 0 || agah_identity_generate(&alice) != 0 ||
        agah_identity_generate(&bob) != 0)
        return 2;
    if (agah_rec_genesis(org, TEST_GKEY, "Test", "org", 1700000000, &gen, &gen_len) != 0)
        return 2;
    agah_hash(gen, gen_len, community);
    free(gen);
    if (agah_rec_admission(org, community, agah_identity_pk(alice), AGAH_ROLE_MEMBER, "alice", TEST_EID, TEST_EKEY,
                           1700000001, 0, &adm_alice, &adm_alice_len) != 0 ||
        agah_rec_admission(org, community, agah_identity_pk(bob), AGAH_ROLE_RELAY, "bob", TEST_EID, TEST_EKEY,
                           1700000002, 0, &adm_bob, &adm_bob_len) != 0)
        return 2;
    test_success();
    test_wrong_secret();
    test_revoked();
    test_replay();
    test_bit_flips();
    test_bounds();
    test_box_contents();
    test_window();
    test_replay_full();
    test_version1();
    test_bound();
    test_accept_also();
    test_admission_copied();
    hs_replay_free(R);
    free(adm_alice);
    free(adm_bob);
    agah_identity_free(org);
    agah_identity_free(alice);
    agah_identity_free(bob);
    printf("test_handshake: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}

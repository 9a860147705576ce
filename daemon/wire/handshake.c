/* The peer handshake, a mutual variant of Scuttlebutt's secret handshake in
 * the shape of Noise XX with a network-key MAC on the ephemerals
 * (proto/PROTOCOL.md, "Handshake"):
 *   M1  c->s  e_c || time || HMAC_K("agah-hs-m1-v2" || e_c || time)
 *   M2  s->c  e_s || HMAC_K(e_s || e_c)
 *   M3  c->s  len || AEAD_kc(pk_c || sig_c(T || "agah-hs-client") || admission_c)
 *   M4  s->c  len || AEAD_ks(pk_s || sig_s(T || "agah-hs-server") || admission_s)
 * A responder that cannot verify M1 sends nothing, so a port scanner
 * without K cannot even tell the port speaks agah, and one that has seen M1
 * before, or whose time is off by more than HS_WINDOW_S, answers nothing
 * either, so a captured M1 is no lasting membership oracle. Everything secret lives
 * in one sodium_malloc'd struct and the ephemeral secret and the shared
 * point are wiped as soon as the keys are derived (forward secrecy).
 * A client that knows the listener's member key (hs_expect_server) seals M3
 * under a key that also mixes X25519(e_c, listener's key), so an impostor
 * holding K, but not that member's secret, cannot read who is dialling. */
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "handshake.h"

enum hs_state {
    HS_C_START, HS_C_WAIT_M2, HS_C_WAIT_M4,
    HS_S_WAIT_M1, HS_S_WAIT_M3,
    HS_DONE, HS_FAILED,
};

static const char hs__label_client[] = "agah-hs-client";
static const char hs__label_server[] = "agah-hs-server";
#define HS_LABEL_LEN 14
static const char hs__label_m1[] = "agah-hs-m1-v2";

struct hs_replay_ent {
    uint8_t e[32];
    uint64_t until; /* forget it at this time */
};

/* A ring in arrival order: entries leave from the head once expired. */
struct hs_replay {
    struct hs_replay_ent ent[HS_REPLAY_MAX];
    size_t head, len;
};

int hs_replay_new(struct hs_replay **out)
{
    struct hs_replay *rc = calloc(1, sizeof *rc);

    if (rc == NULL)
        return AGAH_ENOMEM;
    *out = rc;
    return 0;
}

void hs_replay_free(struct hs_replay *rc) { free(rc); }

size_t hs_replay_count(const struct hs_replay *rc) { return rc->len; }

/* Remembers e_c seen at `now`: 0; AGAH_EEXIST if it was seen within the
 * window; AGAH_ETOOBIG if the ring is full of live entries. An M1 accepted
 * at now has |time - now| <= W, and answering it again needs |time - t| <= W
 * at some later t, so t <= now + 2W: keeping it until then is enough. */
static int hs__replay_add(struct hs_replay *rc, const uint8_t e[32], uint64_t now)
{
    struct hs_replay_ent *x;

    while (rc->len > 0 && rc->ent[rc->head].until <= now) {
        rc->head = (rc->head + 1) % HS_REPLAY_MAX;
        rc->len--;
    }
    /* Ephemeral keys are public (they travel in clear): memcmp is fine. */
    for (size_t i = 0; i < rc->len; i++)
        if (memcmp(rc->ent[(rc->head + i) % HS_REPLAY_MAX].e, e, 32) == 0)
            return AGAH_EEXIST;
    if (rc->len == HS_REPLAY_MAX)
        return AGAH_ETOOBIG;
    x = &rc->ent[(rc->head + rc->len) % HS_REPLAY_MAX];
    memcpy(x->e, e, 32);
    x->until = now + 2 * (uint64_t)HS_WINDOW_S + 1;
    rc->len++;
    return 0;
}

struct hs {
    int initiator;
    int state;
    uint64_t now;
    struct hs_replay *replay;
    uint8_t k[32];        /* network secret (a server: the one M1 proved) */
    uint8_t alt[HS_SECRETS_MAX][32]; /* a server: other secrets it accepts */
    size_t n_alt;
    uint8_t e_pk[32], e_sk[32];
    uint8_t m1[HS_M1_LEN], m2[HS_M2_LEN];
    uint8_t t[32];        /* transcript hash */
    uint8_t k_m3[32], k_m4[32];
    uint8_t c2s[32], s2c[32];
    uint8_t peer_pk[AGAH_PK_LEN];
    /* M3 bound to a known listener (hs_expect_server): the client's
     * expectation; the server's key for a bound M3, and whether M3 was. */
    int bound;
    uint8_t expect_pk[AGAH_PK_LEN], expect_x[32];
    uint8_t k_m3b[32];
    const struct agah_identity *me;
    /* This node's own admission, copied: the caller's buffer may be
     * freed while the handshake runs (a store rewrite, a new admission). */
    uint8_t adm[HS_ADMISSION_MAX];
    size_t adm_len;
    hs_verify_fn verify;
    void *ctx;
};

int hs_new(int initiator, const uint8_t network_secret[32], const struct agah_identity *me,
           const uint8_t *admission, size_t admission_len, hs_verify_fn verify, void *ctx,
           uint64_t now, struct hs_replay *replay, struct hs **out)
{
    struct hs *hs;

    if (agah_init() != 0)
        return AGAH_EINTERNAL;
    if (admission == NULL || admission_len == 0 || admission_len > HS_ADMISSION_MAX ||
        verify == NULL || me == NULL || (!initiator && replay == NULL))
        return AGAH_EINVAL;
    hs = sodium_malloc(sizeof *hs);
    if (hs == NULL)
        return AGAH_ENOMEM;
    sodium_memzero(hs, sizeof *hs);
    hs->initiator = initiator != 0;
    hs->state = initiator ? HS_C_START : HS_S_WAIT_M1;
    memcpy(hs->k, network_secret, 32);
    hs->me = me;
    memcpy(hs->adm, admission, admission_len);
    hs->adm_len = admission_len;
    hs->verify = verify;
    hs->ctx = ctx;
    hs->now = now;
    hs->replay = initiator ? NULL : replay;
    /* The ephemeral secret comes from the project's random hook so tests
     * can replay a session byte for byte. */
    agah_random(hs->e_sk, sizeof hs->e_sk);
    if (crypto_scalarmult_base(hs->e_pk, hs->e_sk) != 0) {
        sodium_free(hs);
        return AGAH_EINTERNAL;
    }
    *out = hs;
    return 0;
}

void hs_free(struct hs *hs)
{
    if (hs != NULL)
        sodium_free(hs);
}

int hs_expect_server(struct hs *hs, const uint8_t pk[AGAH_PK_LEN])
{
    if (!hs->initiator || hs->state != HS_C_START)
        return AGAH_EINVAL;
    if (agah_pk_to_x25519(pk, hs->expect_x) != 0)
        return AGAH_EINVAL;
    memcpy(hs->expect_pk, pk, AGAH_PK_LEN);
    hs->bound = 1;
    return 0;
}

int hs_bound(const struct hs *hs) { return hs->bound; }

int hs_done(const struct hs *hs) { return hs->state == HS_DONE; }
const uint8_t *hs_peer_pk(const struct hs *hs) { return hs->peer_pk; }

int hs_session_keys(const struct hs *hs, uint8_t tx[32], uint8_t rx[32])
{
    if (hs->state != HS_DONE)
        return AGAH_EINVAL;
    memcpy(tx, hs->initiator ? hs->c2s : hs->s2c, 32);
    memcpy(rx, hs->initiator ? hs->s2c : hs->c2s, 32);
    return 0;
}

/* HMAC-SHA-512-256 keyed by K over a || b (b may be empty). */
static void hs__mac(const struct hs *hs, const uint8_t *a, size_t alen, const uint8_t *b,
                    size_t blen, uint8_t mac[32])
{
    crypto_auth_hmacsha512256_state st;

    crypto_auth_hmacsha512256_init(&st, hs->k, 32);
    crypto_auth_hmacsha512256_update(&st, a, alen);
    if (blen > 0)
        crypto_auth_hmacsha512256_update(&st, b, blen);
    crypto_auth_hmacsha512256_final(&st, mac);
    sodium_memzero(&st, sizeof st);
}

/* BLAKE2b-256 keyed by K over the parts, for every derived key. */
static int hs__kdf(const struct hs *hs, uint8_t out[32], const uint8_t *a, size_t alen,
                   const uint8_t *b, size_t blen, const uint8_t *c, size_t clen,
                   const char *label)
{
    crypto_generichash_state st;
    int r = 0;

    r |= crypto_generichash_init(&st, hs->k, 32, 32);
    r |= crypto_generichash_update(&st, a, alen);
    if (blen > 0)
        r |= crypto_generichash_update(&st, b, blen);
    if (clen > 0)
        r |= crypto_generichash_update(&st, c, clen);
    if (label != NULL)
        r |= crypto_generichash_update(&st, (const uint8_t *)label, strlen(label));
    r |= crypto_generichash_final(&st, out, 32);
    sodium_memzero(&st, sizeof st);
    return r == 0 ? 0 : AGAH_EINTERNAL;
}

/* Once both ephemerals are known: the shared point, the transcript hash
 * and every key; then the ephemeral secret and the point are wiped. */
static int hs__derive(struct hs *hs, const uint8_t peer_e[32])
{
    uint8_t ee[32];
    const uint8_t *e_c = hs->initiator ? hs->e_pk : peer_e;
    const uint8_t *e_s = hs->initiator ? peer_e : hs->e_pk;
    uint8_t ecs[64];
    uint8_t es[32]; /* client ephemeral x server static, for a bound M3 */
    int r = AGAH_ECRYPTO;

    sodium_memzero(es, sizeof es);
    /* libsodium refuses (returns -1) when the result is all zero: a
     * low-order point from the peer. */
    if (crypto_scalarmult(ee, hs->e_sk, peer_e) != 0)
        goto out;
    memcpy(ecs, e_c, 32);
    memcpy(ecs + 32, e_s, 32);
    /* A bound M3 needs es: the client from its ephemeral secret and the
     * listener's key it expects, the server from its member key and e_c
     * (every server derives it: it cannot tell a bound M3 before trying). */
    if (hs->initiator ? (hs->bound && crypto_scalarmult(es, hs->e_sk, hs->expect_x) != 0)
                      : agah_identity_dh(hs->me, e_c, es) != 0)
        goto out;
    if ((hs->initiator ? hs->bound : 1) &&
        hs__kdf(hs, hs->k_m3b, ee, 32, ecs, 64, es, 32, "agah-hs-m3-bound") != 0) {
        r = AGAH_EINTERNAL;
        goto out;
    }
    if (hs->initiator && hs->bound)
        memcpy(hs->k_m3, hs->k_m3b, 32);
    if (hs__kdf(hs, hs->t, hs->m1, HS_M1_LEN, hs->m2, HS_M2_LEN, ee, 32, NULL) != 0 ||
        (!(hs->initiator && hs->bound) &&
         hs__kdf(hs, hs->k_m3, ee, 32, ecs, 64, NULL, 0, "agah-hs-m3") != 0) ||
        hs__kdf(hs, hs->k_m4, ee, 32, ecs, 64, NULL, 0, "agah-hs-m4") != 0 ||
        hs__kdf(hs, hs->c2s, ee, 32, hs->t, 32, NULL, 0, "agah-session-c2s") != 0 ||
        hs__kdf(hs, hs->s2c, ee, 32, hs->t, 32, NULL, 0, "agah-session-s2c") != 0) {
        r = AGAH_EINTERNAL;
        goto out;
    }
    r = 0;
out:
    sodium_memzero(ee, sizeof ee);
    sodium_memzero(es, sizeof es);
    sodium_memzero(hs->e_sk, sizeof hs->e_sk);
    return r;
}

/* len(4, big-endian) || XChaCha20-Poly1305(key, nonce 0, ad = len). Each
 * handshake key seals exactly one message, so a zero nonce is safe. */
static int hs__box_seal(const uint8_t key[32], const uint8_t *pt, size_t len, uint8_t *out,
                        size_t *outlen)
{
    uint8_t nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES] = {0};
    unsigned long long clen = 0;
    size_t n = len + crypto_aead_xchacha20poly1305_ietf_ABYTES;

    if (n > HS_BOX_MAX)
        return AGAH_ETOOBIG;
    out[0] = (uint8_t)(n >> 24);
    out[1] = (uint8_t)(n >> 16);
    out[2] = (uint8_t)(n >> 8);
    out[3] = (uint8_t)n;
    if (crypto_aead_xchacha20poly1305_ietf_encrypt(out + 4, &clen, pt, len, out, 4, NULL,
                                                   nonce, key) != 0 || clen != n)
        return AGAH_EINTERNAL;
    *outlen = 4 + n;
    return 0;
}

/* The plaintext this side presents: pk || sig(T || label) || admission. */
static int hs__present(struct hs *hs, uint8_t *out, size_t *outlen)
{
    uint8_t pt[HS_BOX_MAX];
    uint8_t signed_msg[32 + HS_LABEL_LEN];
    size_t n = AGAH_PK_LEN + AGAH_SIG_LEN + hs->adm_len;
    int r;

    memcpy(signed_msg, hs->t, 32);
    memcpy(signed_msg + 32, hs->initiator ? hs__label_client : hs__label_server, HS_LABEL_LEN);
    memcpy(pt, agah_identity_pk(hs->me), AGAH_PK_LEN);
    agah_identity_sign(hs->me, signed_msg, sizeof signed_msg, pt + AGAH_PK_LEN);
    memcpy(pt + AGAH_PK_LEN + AGAH_SIG_LEN, hs->adm, hs->adm_len);
    r = hs__box_seal(hs->initiator ? hs->k_m3 : hs->k_m4, pt, n, out, outlen);
    sodium_memzero(pt, n);
    return r;
}

int hs__seal_box(struct hs *hs, const uint8_t *pt, size_t len, uint8_t *out, size_t *outlen)
{
    if (hs->state != HS_C_WAIT_M4 && !(hs->state == HS_DONE && !hs->initiator))
        return AGAH_EINVAL;
    return hs__box_seal(hs->initiator ? hs->k_m3 : hs->k_m4, pt, len, out, outlen);
}

const uint8_t *hs__transcript(const struct hs *hs) { return hs->t; }

/* Opens the peer's box and checks what it presents: the signature over
 * the transcript with the other side's label, then the caller's verdict
 * on the key and its admission record. */
static int hs__accept(struct hs *hs, const uint8_t *msg, size_t len, struct agah_why *why)
{
    uint8_t nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES] = {0};
    uint8_t pt[HS_BOX_MAX];
    uint8_t signed_msg[32 + HS_LABEL_LEN];
    unsigned long long mlen = 0;
    const uint8_t *key = hs->initiator ? hs->k_m4 : hs->k_m3;
    int r;

    if (len < 4 || len - 4 > HS_BOX_MAX)
        return agah_fail(why, AGAH_ETOOBIG, "handshake box of %zu bytes", len);
    /* A server tries the key bound to its member key first: a client that
     * knew whom it dialled sealed M3 so that only that member opens it. */
    if (!hs->initiator &&
        crypto_aead_xchacha20poly1305_ietf_decrypt(pt, &mlen, NULL, msg + 4, len - 4, msg, 4,
                                                   nonce, hs->k_m3b) == 0) {
        hs->bound = 1;
    } else if (crypto_aead_xchacha20poly1305_ietf_decrypt(pt, &mlen, NULL, msg + 4, len - 4, msg,
                                                          4, nonce, key) != 0) {
        return agah_fail(why, AGAH_ECRYPTO, "handshake box does not authenticate");
    }
    if (mlen <= AGAH_PK_LEN + AGAH_SIG_LEN) {
        r = agah_fail(why, AGAH_ETRUNC, "handshake box carries no admission record");
        goto out;
    }
    memcpy(signed_msg, hs->t, 32);
    memcpy(signed_msg + 32, hs->initiator ? hs__label_server : hs__label_client, HS_LABEL_LEN);
    if (agah_sig_verify(pt, signed_msg, sizeof signed_msg, pt + AGAH_PK_LEN) != 0) {
        r = agah_fail(why, AGAH_ESIG, "handshake signature does not verify");
        goto out;
    }
    if (hs->initiator && hs->bound && sodium_memcmp(pt, hs->expect_pk, AGAH_PK_LEN) != 0) {
        r = agah_fail(why, AGAH_EPERM, "the listener is not the member dialled");
        goto out;
    }
    r = hs->verify(hs->ctx, pt, pt + AGAH_PK_LEN + AGAH_SIG_LEN,
                   (size_t)mlen - AGAH_PK_LEN - AGAH_SIG_LEN);
    if (r != 0) {
        r = agah_fail(why, r < 0 ? r : AGAH_EPERM, "peer key refused: %s", agah_strerror(r));
        goto out;
    }
    memcpy(hs->peer_pk, pt, AGAH_PK_LEN);
    r = 0;
out:
    sodium_memzero(pt, sizeof pt);
    return r;
}

/* M1's MAC: HMAC_K("agah-hs-m1-v2" || e_c || time), over m1[0..40). */
static void hs__m1_mac(const struct hs *hs, const uint8_t m1[40], uint8_t mac[32])
{
    hs__mac(hs, (const uint8_t *)hs__label_m1, sizeof hs__label_m1 - 1, m1, 40, mac);
}

/* Whether M1's MAC verifies under K or one of the other accepted
 * secrets; the one it does becomes K for the rest of the handshake. Every
 * secret is tried, in constant time each, whichever matches. */
static int hs__m1_verify(struct hs *hs, const uint8_t *m1)
{
    uint8_t mac[32];
    int ok;
    size_t hit = SIZE_MAX;

    hs__m1_mac(hs, m1, mac);
    ok = crypto_verify_32(mac, m1 + 40) == 0;
    for (size_t i = 0; i < hs->n_alt; i++) {
        uint8_t k0[32];
        memcpy(k0, hs->k, 32);
        memcpy(hs->k, hs->alt[i], 32);
        hs__m1_mac(hs, m1, mac);
        if (crypto_verify_32(mac, m1 + 40) == 0 && !ok && hit == SIZE_MAX)
            hit = i;
        memcpy(hs->k, k0, 32);
        sodium_memzero(k0, sizeof k0);
    }
    if (!ok && hit != SIZE_MAX) {
        memcpy(hs->k, hs->alt[hit], 32);
        ok = 1;
    }
    sodium_memzero(hs->alt, sizeof hs->alt);
    hs->n_alt = 0;
    sodium_memzero(mac, sizeof mac);
    return ok;
}

int hs_accept_also(struct hs *hs, const uint8_t (*secrets)[32], size_t n)
{
    if (hs->initiator || hs->state != HS_S_WAIT_M1 || n > HS_SECRETS_MAX ||
        (n > 0 && secrets == NULL))
        return AGAH_EINVAL;
    if (n > 0)
        memcpy(hs->alt, secrets, n * 32);
    hs->n_alt = n;
    return 0;
}

static uint64_t hs__get64(const uint8_t *p)
{
    uint64_t v = 0;

    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

/* Whether m[0..64) is a version 1 M1 of this community: e_c || HMAC_K(e_c). */
static int hs__is_v1_m1(const struct hs *hs, const uint8_t *m)
{
    return crypto_auth_hmacsha512256_verify(m + 32, m, 32, hs->k) == 0;
}

int hs_start(struct hs *hs, uint8_t out[HS_M1_LEN])
{
    if (hs->state != HS_C_START)
        return AGAH_EINVAL;
    memcpy(hs->m1, hs->e_pk, 32);
    for (int i = 0; i < 8; i++)
        hs->m1[32 + i] = (uint8_t)(hs->now >> (56 - 8 * i));
    hs__m1_mac(hs, hs->m1, hs->m1 + 40);
    memcpy(out, hs->m1, HS_M1_LEN);
    hs->state = HS_C_WAIT_M2;
    return 0;
}

int hs_next_len(const struct hs *hs, const uint8_t *buf, size_t avail, size_t *need)
{
    uint32_t n;

    switch (hs->state) {
    case HS_C_WAIT_M2:
        *need = HS_M2_LEN;
        return 0;
    case HS_S_WAIT_M1:
        /* A version 1 client sends 64 bytes and waits: recognise it by its
         * MAC so it is refused by name, not by the timeout. A version 2 M1
         * cut after 64 bytes never passes that check (its bytes 32..64 are
         * time and MAC, not HMAC_K(e_c)). */
        if (avail >= HS_M1_V1_LEN && avail < HS_M1_LEN && hs__is_v1_m1(hs, buf)) {
            *need = HS_M1_V1_LEN;
            return 0;
        }
        *need = HS_M1_LEN;
        return 0;
    case HS_C_WAIT_M4:
    case HS_S_WAIT_M3:
        if (avail < 4)
            return AGAH_ETRUNC;
        n = ((uint32_t)buf[0] << 24) | ((uint32_t)buf[1] << 16) | ((uint32_t)buf[2] << 8) |
            (uint32_t)buf[3];
        if (n > HS_BOX_MAX)
            return AGAH_ETOOBIG;
        if (n <= crypto_aead_xchacha20poly1305_ietf_ABYTES + AGAH_PK_LEN + AGAH_SIG_LEN)
            return AGAH_EVALUE;
        *need = 4 + (size_t)n;
        return 0;
    default:
        return AGAH_EINVAL;
    }
}

int hs_step(struct hs *hs, const uint8_t *msg, size_t len, uint8_t *out, size_t *outlen,
            struct agah_why *why)
{
    uint8_t mac[32];
    int r = AGAH_EINVAL;

    *outlen = 0;
    switch (hs->state) {
    case HS_S_WAIT_M1: {
        uint64_t t;

        if (len == HS_M1_V1_LEN && hs__is_v1_m1(hs, msg)) {
            r = agah_fail(why, AGAH_EVERSION,
                          "speaks handshake version 1; this node speaks version %d",
                          HS_VERSION);
            break;
        }
        if (len != HS_M1_LEN) {
            r = agah_fail(why, AGAH_ETRUNC, "M1 must be %d bytes", HS_M1_LEN);
            break;
        }
        /* Constant time: nothing about K leaks through timing. */
        if (!hs__m1_verify(hs, msg)) {
            r = agah_fail(why, AGAH_ECRYPTO, "M1 is not from this community");
            break;
        }
        /* Only now is the time the peer's word: outside the window, or
         * seen before, the M1 is answered by nothing, as a wrong MAC is. */
        t = hs__get64(msg + 32);
        if ((t > hs->now ? t - hs->now : hs->now - t) > HS_WINDOW_S) {
            r = agah_fail(why, AGAH_EEXPIRED,
                          "sent an M1 whose time is %s of this node's clock by more than %d s "
                          "(a clock to set right, or a replay)",
                          t > hs->now ? "ahead" : "behind", HS_WINDOW_S);
            break;
        }
        if ((r = hs__replay_add(hs->replay, msg, hs->now)) != 0) {
            agah_fail(why, r,
                      r == AGAH_EEXIST ? "M1 seen before (a replay)"
                                       : "too many M1s within the window; refusing new ones");
            break;
        }
        memcpy(hs->m1, msg, HS_M1_LEN);
        memcpy(hs->m2, hs->e_pk, 32);
        hs__mac(hs, hs->e_pk, 32, msg, 32, hs->m2 + 32);
        if ((r = hs__derive(hs, msg)) != 0) {
            agah_fail(why, r, "M1 ephemeral key is a low-order point");
            break;
        }
        memcpy(out, hs->m2, HS_M2_LEN);
        *outlen = HS_M2_LEN;
        hs->state = HS_S_WAIT_M3;
        return 0;
    }
    case HS_C_WAIT_M2:
        if (len != HS_M2_LEN) {
            r = agah_fail(why, AGAH_ETRUNC, "M2 must be %d bytes", HS_M2_LEN);
            break;
        }
        hs__mac(hs, msg, 32, hs->e_pk, 32, mac);
        if (sodium_memcmp(mac, msg + 32, 32) != 0) {
            r = agah_fail(why, AGAH_ECRYPTO, "M2 is not from this community");
            break;
        }
        memcpy(hs->m2, msg, HS_M2_LEN);
        if ((r = hs__derive(hs, msg)) != 0) {
            agah_fail(why, r, "M2 ephemeral key is a low-order point");
            break;
        }
        if ((r = hs__present(hs, out, outlen)) != 0) {
            agah_fail(why, r, "cannot seal M3");
            break;
        }
        hs->state = HS_C_WAIT_M4;
        return 0;
    case HS_S_WAIT_M3:
        if ((r = hs__accept(hs, msg, len, why)) != 0)
            break;
        if ((r = hs__present(hs, out, outlen)) != 0) {
            agah_fail(why, r, "cannot seal M4");
            break;
        }
        hs->state = HS_DONE;
        return 0;
    case HS_C_WAIT_M4:
        if ((r = hs__accept(hs, msg, len, why)) != 0)
            break;
        hs->state = HS_DONE;
        return 0;
    default:
        r = agah_fail(why, AGAH_EINVAL, "handshake is not expecting a message");
        break;
    }
    *outlen = 0;
    hs->state = HS_FAILED;
    return r;
}

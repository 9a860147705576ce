/* Unit tests of the sealed records (alert, confirmation, retraction): their
 * outer fields, the padded ciphertext sizes, the AEAD binding of the outer
 * fields, and the strict decoding of the plaintext body and note. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <agah/keys.h>
#include <agah/mp.h>
#include <agah/record.h>

#include "check.h"
#include "rec_fixture.h"

/* Pads b[0..n) in place (room for 4096 bytes) to its size class: the
 * smallest of 64, 256, 1024, 2352 above n, as record version 3 does. */
static int pad_bucket(uint8_t *b, size_t n, size_t *out)
{
    static const size_t sizes[] = AGAH_PAD_SIZES;
    for (size_t i = 0; i < AGAH_PAD_NSIZES; i++)
        if (n < sizes[i])
            return sodium_pad(out, b, n, sizes[i], 4096);
    return -1;
}

/* Builds a sealed record with chosen outer fields and plaintext. */
static void build_sealed(struct tb *t, int type, uint8_t hdr, const uint8_t *ref,
                         const uint8_t *ep, uint64_t created, uint64_t expires,
                         const uint8_t *pt, size_t ptlen, const uint8_t key[32],
                         size_t nonce_len, size_t ct_override)
{
    uint8_t nonce[24], ct[4096], padded[4096];
    unsigned long long ctlen;
    size_t adlen, plen = ptlen;

    t->n = 0;
    tb_common(t, hdr, (uint64_t)type, community, member, created, expires);
    tb_bin(t, ref, 32);
    tb_bin(t, ep, 32);
    adlen = t->n;
    memset(nonce, 0x17, sizeof nonce);
    /* Padded as a writer pads (version 3), unless the test overrides ct. */
    if (ptlen > sizeof padded)
        abort();
    memcpy(padded, pt, ptlen);
    if (!ct_override && pad_bucket(padded, ptlen, &plen) != 0)
        abort();
    if (crypto_aead_xchacha20poly1305_ietf_encrypt(ct, &ctlen, padded, plen, t->d, adlen, NULL,
                                                   nonce, key) != 0)
        abort();
    tb_bin(t, nonce, nonce_len);
    tb_bin(t, ct, ct_override ? ct_override : (size_t)ctlen);
    tb_sign(t, member);
}

static void test_sealed(void)
{
    static const uint8_t zero[32];
    struct tb *t = malloc(sizeof *t);
    struct agah_rec r;
    struct agah_why why;
    struct agah_alert_body got;
    char note[AGAH_NOTE_MAX + 1];
    uint8_t ref[32], pt[3000];

    memset(ref, 0xab, sizeof ref);
    /* [1, "+85251234567", 0, "hi", 1] */
    const char *okbody = "95 01 ac 2b 38 35 32 35 31 32 33 34 35 36 37 00 a2 68 69 01";
    struct tb *p = malloc(sizeof *p);
    p->n = 0;
    tb_hex(p, okbody);
    build_sealed(t, AGAH_REC_ALERT, 0x9b, zero, epoch_id, 100, 200, p->d, p->n, epoch_key, 24, 0);
    CHECK(dec(t, community, &r, &why) == 0);
    CHECK(agah_rec_open_alert(&r, epoch_key, &got, &why) == 0);
    CHECK(strcmp(got.target, "+85251234567") == 0 && strcmp(got.note, "hi") == 0);
    CHECK(got.severity == AGAH_SEV_WARNING && got.kind == AGAH_KIND_NUMBER);

    /* Outer-field cases. */
    build_sealed(t, AGAH_REC_ALERT, 0x9b, ref, epoch_id, 100, 200, p->d, p->n, epoch_key, 24, 0);
    CHECK(dec(t, community, &r, &why) == AGAH_EVALUE); /* ref in an alert */
    build_sealed(t, AGAH_REC_CONFIRM, 0x9b, zero, epoch_id, 100, 0, p->d, p->n, epoch_key, 24, 0);
    CHECK(dec(t, community, &r, &why) == AGAH_EVALUE); /* confirm without ref */
    build_sealed(t, AGAH_REC_CONFIRM, 0x9b, ref, epoch_id, 100, 200, p->d, p->n, epoch_key, 24, 0);
    CHECK(dec(t, community, &r, &why) == AGAH_EVALUE); /* confirm with expiry */
    build_sealed(t, AGAH_REC_ALERT, 0x9b, zero, zero, 100, 200, p->d, p->n, epoch_key, 24, 0);
    CHECK(dec(t, community, &r, &why) == AGAH_EVALUE); /* zero epoch id */
    build_sealed(t, AGAH_REC_ALERT, 0x9b, zero, epoch_id, 100, 200, p->d, p->n, epoch_key, 23, 0);
    CHECK(dec(t, community, &r, &why) == AGAH_ETYPE); /* nonce 23 */
    build_sealed(t, AGAH_REC_ALERT, 0x9b, zero, epoch_id, 100, 200, p->d, 0, epoch_key, 24, 16);
    CHECK(dec(t, community, &r, &why) == AGAH_ETYPE); /* ct of only a tag */
    memset(pt, 'n', sizeof pt);
    build_sealed(t, AGAH_REC_ALERT, 0x9b, zero, epoch_id, 100, 200, pt, 2400, epoch_key, 24,
                 2368 + 1);
    CHECK(dec(t, community, &r, &why) == AGAH_ETOOBIG); /* ct one byte too long */
    /* Only the padded sizes 64, 256, 1024, 2352 (plus the tag) pass. */
    {
        static const size_t cts[] = {80, 272, 1040, 2368, 17, 79, 81, 100, 271, 1041, 2367};
        for (size_t i = 0; i < sizeof cts / sizeof cts[0]; i++) {
            build_sealed(t, AGAH_REC_ALERT, 0x9b, zero, epoch_id, 100, 200, pt, 2400, epoch_key,
                         24, cts[i]);
            int gotc = dec(t, community, &r, &why);
            CHECK_CASE(gotc == (i < 4 ? 0 : AGAH_ETYPE), "ct size", gotc, i < 4 ? 0 : AGAH_ETYPE);
        }
    }
    /* Plaintexts: padded beyond their size class, or not padded as ISO/IEC
     * 7816-4 says (no 0x80 marker), decrypt but do not open. */
    {
        uint8_t nonce[24], ct[2400], big[2352];
        unsigned long long ctlen;
        size_t plen = 0;
        struct tb *a = malloc(sizeof *a);
        for (int mode = 0; mode < 3; mode++) {
            memset(big, 0, sizeof big);
            memcpy(big, p->d, p->n);
            if (mode == 0)
                CHECK(sodium_pad(&plen, big, p->n, 64, sizeof big) == 0 && plen == 64);
            else if (mode == 1)
                CHECK(sodium_pad(&plen, big, p->n, 256, sizeof big) == 0 && plen == 256);
            else
                plen = 64; /* zeros after the body, no marker */
            a->n = 0;
            tb_common(a, 0x9b, AGAH_REC_ALERT, community, member, 100, 200);
            tb_bin(a, zero, 32);
            tb_bin(a, epoch_id, 32);
            memset(nonce, 0x17, sizeof nonce);
            CHECK(crypto_aead_xchacha20poly1305_ietf_encrypt(ct, &ctlen, big, plen, a->d, a->n,
                                                             NULL, nonce, epoch_key) == 0);
            tb_bin(a, nonce, 24);
            tb_bin(a, ct, (size_t)ctlen);
            tb_sign(a, member);
            CHECK(dec(a, community, &r, &why) == 0);
            int gotp = agah_rec_open_alert(&r, epoch_key, &got, &why);
            CHECK_CASE(gotp == (mode == 0 ? 0 : AGAH_EVALUE), "padding", gotp,
                       mode == 0 ? 0 : AGAH_EVALUE);
        }
        free(a);
    }
    build_sealed(t, AGAH_REC_ALERT, 0x9a, zero, epoch_id, 100, 200, p->d, p->n, epoch_key, 24, 0);
    CHECK(dec(t, community, &r, &why) == AGAH_ETRAILING); /* header says 10 of 11 */

    /* The outer fields are bound by the AEAD: a re-signed record whose
     * created, expires, type, ref, epoch or author changed does not open. */
    {
        /* Same ciphertext, re-signed with different created. */
        uint8_t ct[512], nonce[24], padded[4096];
        unsigned long long ctlen;
        size_t plen = 0;
        struct tb *a = malloc(sizeof *a);
        a->n = 0;
        tb_common(a, 0x9b, AGAH_REC_ALERT, community, member, 100, 200);
        tb_bin(a, zero, 32);
        tb_bin(a, epoch_id, 32);
        memset(nonce, 0x17, sizeof nonce);
        memcpy(padded, p->d, p->n);
        CHECK(pad_bucket(padded, p->n, &plen) == 0);
        CHECK(crypto_aead_xchacha20poly1305_ietf_encrypt(ct, &ctlen, padded, plen, a->d, a->n,
                                                         NULL, nonce, epoch_key) == 0);
        struct { const char *name; uint64_t created, expires; const uint8_t *ep;
                 const struct agah_identity *author; } alt[] = {
            {"created", 101, 200, epoch_id, member},
            {"expires", 100, 201, epoch_id, member},
            {"epoch", 100, 200, ref, member},
            {"author", 100, 200, epoch_id, relay},
        };
        for (size_t i = 0; i < sizeof alt / sizeof alt[0]; i++) {
            a->n = 0;
            tb_common(a, 0x9b, AGAH_REC_ALERT, community, alt[i].author, alt[i].created,
                      alt[i].expires);
            tb_bin(a, zero, 32);
            tb_bin(a, alt[i].ep, 32);
            tb_bin(a, nonce, 24);
            tb_bin(a, ct, (size_t)ctlen);
            tb_sign(a, alt[i].author);
            int got1 = dec(a, community, &r, &why);
            CHECK_CASE(got1 == 0, alt[i].name, got1, 0);
            int got2 = agah_rec_open_alert(&r, epoch_key, &got, &why);
            CHECK_CASE(got2 == AGAH_ECRYPTO, alt[i].name, got2, AGAH_ECRYPTO);
        }
        free(a);
    }
    /* An alert's ciphertext moved into a CONFIRM does not open either. */
    build_sealed(t, AGAH_REC_CONFIRM, 0x9b, ref, epoch_id, 100, 0, p->d, p->n, epoch_key, 24, 0);
    CHECK(dec(t, community, &r, &why) == 0);
    /* (It was encrypted with the CONFIRM header here, so it opens as a
     * note only if the plaintext is a str: it is an array, so ETYPE.) */
    CHECK(agah_rec_open_note(&r, epoch_key, note, &why) == AGAH_ETYPE);

    /* Strict decoding of the plaintext body. */
    static const struct { const char *name, *hex; int want; } bodies[] = {
        {"valid alert kind", "95 03 c0 02 a0 02", 0},
        {"alert kind with target", "95 03 a1 78 02 a0 02", AGAH_ETYPE},
        {"number with nil target", "95 01 c0 00 a0 00", AGAH_ETYPE},
        {"number with empty target", "95 01 a0 00 a0 00", AGAH_EVALUE},
        {"kind 0", "95 00 a1 78 00 a0 00", AGAH_EVALUE},
        {"kind 4", "95 04 a1 78 00 a0 00", AGAH_EVALUE},
        {"category 5", "95 02 a1 78 05 a0 00", AGAH_EVALUE},
        {"severity 3", "95 02 a1 78 00 a0 03", AGAH_EVALUE},
        {"note bad UTF-8", "95 02 a1 78 00 a1 ff 00", AGAH_EVALUE},
        {"note NUL", "95 02 a1 78 00 a1 00 00", AGAH_EVALUE},
        {"target NUL", "95 02 a2 78 00 00 a0 00", AGAH_EVALUE},
        {"six elements", "96 02 a1 78 00 a0 00 00", AGAH_EFIELDS},
        {"four elements", "94 02 a1 78 00 a0", AGAH_EFIELDS},
        {"not an array", "a1 78", AGAH_ETYPE},
        {"non-canonical kind", "95 cc 02 a1 78 00 a0 00", AGAH_ENONCANON},
        {"trailing byte", "95 02 a1 78 00 a0 00 00", AGAH_ETRAILING},
        {"float severity", "95 02 a1 78 00 a0 ca 00 00 00 00", AGAH_ETYPE},
        {"note as bin", "95 02 a1 78 00 c4 00 00", AGAH_ETYPE},
        {"truncated", "95 02 a1 78 00 a1", AGAH_ETRUNC},
        {"count above input", "95 02 a1 78", AGAH_ETOOBIG},
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        p->n = 0;
        tb_hex(p, bodies[i].hex);
        build_sealed(t, AGAH_REC_ALERT, 0x9b, zero, epoch_id, 100, 0, p->d, p->n, epoch_key, 24,
                     0);
        int got0 = dec(t, community, &r, &why);
        CHECK(got0 == 0);
        int gotb = agah_rec_open_alert(&r, epoch_key, &got, &why);
        CHECK_CASE(gotb == bodies[i].want, bodies[i].name, gotb, bodies[i].want);
    }
    /* Notes: a str, bounded, valid UTF-8. */
    static const struct { const char *name, *hex; int want; } notes[] = {
        {"empty note", "a0", 0},
        {"note as nil", "c0", AGAH_ETYPE},
        {"note bad UTF-8", "a1 80", AGAH_EVALUE},
        {"note trailing", "a0 a0", AGAH_ETRAILING},
    };
    for (size_t i = 0; i < sizeof notes / sizeof notes[0]; i++) {
        p->n = 0;
        tb_hex(p, notes[i].hex);
        build_sealed(t, AGAH_REC_RETRACT, 0x9b, ref, epoch_id, 100, 0, p->d, p->n, epoch_key, 24,
                     0);
        CHECK(dec(t, community, &r, &why) == 0);
        int gotn = agah_rec_open_note(&r, epoch_key, note, &why);
        CHECK_CASE(gotn == notes[i].want, notes[i].name, gotn, notes[i].want);
    }
    free(p);
    free(t);
}

int main(void)
{
    if (rec_fixture_init("test_rec_sealed") != 0)
        return 1;
    rec_fixture_community();
    test_sealed();
    return rec_fixture_done("test_rec_sealed");
}

/* libFuzzer target for the handshake, the only code an outsider reaches.
 * The first byte picks what the rest is:
 *   0  M1 to a fresh responder (its time must be within HS_WINDOW_S of
 *      NOW below; a 64-byte version 1 M1 is refused by name)
 *   1  M2 to an initiator that sent M1
 *   2  raw bytes to a responder waiting for M3 (length field and box)
 *   3  the plaintext of M3, sealed under the right key by the initiator,
 *      so the parser of pk || signature || admission behind the AEAD is
 *      reached
 *   4  the plaintext of M4, likewise, to the initiator
 *   5  the admission record inside an otherwise valid M3 (real key and
 *      signature over the transcript), so the verify path sees it
 * On any failure no reply may have been produced. Randomness is made
 * deterministic per input so crashes replay. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <agah/agah.h>
#include "handshake.h"

/* Keys for the encrypted names of the setup records (record version 3),
 * which this target never reads. */
#define TEST_GKEY ((const uint8_t *)"agah-fuzz-genesis-key-32-bytes!!")
#define TEST_EID ((const uint8_t *)"agah-fuzz-epoch-id-32-bytes-long")
#define TEST_EKEY ((const uint8_t *)"agah-fuzz-epoch-key-32-bytes-lon")

static struct agah_identity *ida, *idb;
static uint8_t K[32], community[32];
static uint8_t *adm_a, *adm_b;
static size_t adm_a_len, adm_b_len;
static uint64_t rnd_ctr;
/* The clock of both ends; the corpus's M1s carry this time. */
#define NOW 1700000100u

static void det_random(void *buf, size_t len)
{
    static const uint8_t key[crypto_stream_chacha20_KEYBYTES] = {7};
    uint8_t nonce[crypto_stream_chacha20_NONCEBYTES] = {0};

    memcpy(nonce, &rnd_ctr, sizeof rnd_ctr < sizeof nonce ? sizeof rnd_ctr : sizeof nonce);
    rnd_ctr++;
    crypto_stream_chacha20(buf, len, nonce, key);
}

static int verify(void *ctx, const uint8_t pk[AGAH_PK_LEN], const uint8_t *adm, size_t len)
{
    struct agah_rec r;

    (void)ctx;
    if (agah_rec_decode(adm, len, community, &r, NULL) != 0 || r.type != AGAH_REC_ADMISSION ||
        memcmp(r.u.admission.member, pk, 32) != 0)
        return AGAH_ENOENT;
    return 0;
}

static void setup(void)
{
    uint8_t seed[32], *gen;
    size_t gen_len;

    if (agah_init() != 0)
        abort();
    memset(seed, 1, 32);
    if (agah_identity_from_seed(seed, &ida) != 0)
        abort();
    memset(seed, 2, 32);
    if (agah_identity_from_seed(seed, &idb) != 0)
        abort();
    memset(K, 0x4b, 32);
    if (agah_rec_genesis(ida, TEST_GKEY, "Fuzz", "a", 1700000000, &gen, &gen_len) != 0)
        abort();
    agah_hash(gen, gen_len, community);
    free(gen);
    if (agah_rec_admission(ida, community, agah_identity_pk(ida), AGAH_ROLE_ORGANISER, "a", TEST_EID, TEST_EKEY,
                           1700000001, 0, &adm_a, &adm_a_len) != 0 ||
        agah_rec_admission(ida, community, agah_identity_pk(idb), AGAH_ROLE_MEMBER, "b", TEST_EID, TEST_EKEY,
                           1700000002, 0, &adm_b, &adm_b_len) != 0)
        abort();
    agah_set_random(det_random);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct hs *c = NULL, *s = NULL;
    struct hs_replay *R = NULL;
    struct agah_why why;
    uint8_t m1[HS_M1_LEN], m2[HS_MSG_MAX], m3[HS_MSG_MAX], m4[HS_MSG_MAX], out[HS_MSG_MAX];
    size_t l2 = 0, l3 = 0, l4 = 0, ol = 0, need = 0;
    int r;

    if (ida == NULL)
        setup();
    if (size < 1 || size - 1 > HS_MSG_MAX)
        return 0;
    rnd_ctr = 0;
    /* A fresh replay cache per input: the ephemerals repeat by design. */
    if (hs_replay_new(&R) != 0)
        abort();
    if (hs_new(1, K, ida, adm_a, adm_a_len, verify, NULL, NOW, R, &c) != 0 ||
        hs_new(0, K, idb, adm_b, adm_b_len, verify, NULL, NOW, R, &s) != 0)
        abort();
    data++;
    size--;
    if (hs_start(c, m1) != 0)
        abort();
    switch (data[-1] % 6) {
    case 0:
        (void)hs_next_len(s, data, size, &need);
        r = hs_step(s, data, size, out, &ol, &why);
        break;
    case 1:
        r = hs_step(c, data, size, out, &ol, &why);
        break;
    case 2:
        if (hs_step(s, m1, HS_M1_LEN, m2, &l2, &why) != 0)
            abort();
        r = hs_next_len(s, data, size, &need);
        if (r == 0 && need <= size)
            r = hs_step(s, data, need, out, &ol, &why);
        break;
    case 3:
        if (hs_step(s, m1, HS_M1_LEN, m2, &l2, &why) != 0 ||
            hs_step(c, m2, l2, m3, &l3, &why) != 0)
            abort();
        r = hs__seal_box(c, data, size, m3, &l3);
        if (r == 0)
            r = hs_step(s, m3, l3, out, &ol, &why);
        break;
    case 5: {
        uint8_t pt[HS_BOX_MAX], msg[32 + 14];

        if (hs_step(s, m1, HS_M1_LEN, m2, &l2, &why) != 0 ||
            hs_step(c, m2, l2, m3, &l3, &why) != 0)
            abort();
        if (size > HS_ADMISSION_MAX) {
            r = AGAH_ETOOBIG;
            break;
        }
        memcpy(msg, hs__transcript(c), 32);
        memcpy(msg + 32, "agah-hs-client", 14);
        memcpy(pt, agah_identity_pk(ida), 32);
        agah_identity_sign(ida, msg, sizeof msg, pt + 32);
        memcpy(pt + 96, data, size);
        r = hs__seal_box(c, pt, 96 + size, m3, &l3);
        if (r == 0)
            r = hs_step(s, m3, l3, out, &ol, &why);
        if (size == adm_a_len && memcmp(data, adm_a, size) == 0 && r != 0)
            abort(); /* the genuine admission must be accepted */
        break;
    }
    default:
        if (hs_step(s, m1, HS_M1_LEN, m2, &l2, &why) != 0 ||
            hs_step(c, m2, l2, m3, &l3, &why) != 0 || hs_step(s, m3, l3, m4, &l4, &why) != 0)
            abort();
        r = hs__seal_box(s, data, size, m4, &l4);
        if (r == 0)
            r = hs_step(c, m4, l4, out, &ol, &why);
        break;
    }
    if (r != 0 && ol != 0)
        abort(); /* a failed step must say nothing */
    hs_free(c);
    hs_free(s);
    hs_replay_free(R);
    return 0;
}

/* libFuzzer target for join codes, in four ways on every input:
 * 1. as a whole code string (length, prefix, base64, checksum, opening);
 * 2. as an opened plaintext given straight to the strict decoder (version,
 *    wrapper, signature) and the checks after it, which an attacker reaches
 *    by sealing anything to a known public key;
 * 3. as a payload signed by the founder (seed 43 43 ... 43) and wrapped,
 *    then decoded and checked: what an attacker who holds an organiser's
 *    key reaches, and the only way fuzzed bytes get past the signature to
 *    the payload decoder (schema, records, inviter);
 * 4. sealed to the fuzzer's identity and checksummed, then decoded as a
 *    code, so the whole path from string to records runs on fuzzed bytes.
 * Seeds (tests/fuzz/corpus/fuzz_joincode, written by
 * `test_joincode --corpus DIR`) are valid payloads, signed plaintexts and
 * codes for the identity with seed 42 42 ... 42, at time FUZZ_NOW. */
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <agah/agah.h>
#include "../../proto/joincode_internal.h"

#define FUZZ_NOW 1800000000u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct agah_identity *fuzz_identity(struct agah_identity **id, uint8_t seed_byte)
{
    uint8_t seed[AGAH_SEED_LEN];

    if (*id == NULL) {
        memset(seed, seed_byte, sizeof seed);
        if (agah_identity_from_seed(seed, id) != 0)
            abort();
    }
    return *id;
}

static struct agah_identity *fuzz_me(void)
{
    static struct agah_identity *me;
    return fuzz_identity(&me, 0x42);
}

static struct agah_identity *fuzz_founder(void)
{
    static struct agah_identity *founder;
    return fuzz_identity(&founder, 0x43);
}

static void decode_code(const char *code)
{
    struct agah_join *j = NULL;
    struct agah_why why;

    if (agah_join_decode(code, fuzz_me(), FUZZ_NOW, &j, &why) == 0)
        agah_join_free(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct agah_identity *me = fuzz_me();
    struct agah_join *j = NULL;
    struct agah_why why;
    char *code;

    /* 1: the input as the text of a code. */
    code = malloc(size + 1);
    if (code == NULL)
        return 0;
    memcpy(code, data, size);
    code[size] = '\0';
    decode_code(code);
    free(code);

    /* 2: the input as an opened plaintext. */
    if (agah_join__decode_plain(data, size, &j, &why) == 0) {
        (void)agah_join__check(j, agah_identity_pk(me), FUZZ_NOW, &why);
        agah_join_free(j);
    }

    /* 3: the input as a payload the founder signed. */
    {
        struct agah_mp_fixbuf plain = {0};
        j = NULL;
        if (agah_join__wrap(fuzz_founder(), data, size, &plain) == 0 &&
            agah_join__decode_plain(plain.p, plain.len, &j, &why) == 0) {
            (void)agah_join__check(j, agah_identity_pk(me), FUZZ_NOW, &why);
            agah_join_free(j);
        }
        agah_secbuf_free(&plain);
    }

    /* 4: the input sealed to us, as a well-formed code. */
    if (size <= 8192) {
        size_t sealed_len = size + AGAH_SEAL_OVERHEAD;
        size_t b64 = sodium_base64_ENCODED_LEN(sealed_len + 4,
                                               sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        uint8_t *sealed = malloc(sealed_len + 4);
        uint8_t h[32];

        code = malloc(6 + b64);
        if (sealed != NULL && code != NULL &&
            agah_seal(agah_identity_pk(me), data, size, sealed) == 0 &&
            crypto_generichash(h, sizeof h, sealed, sealed_len, NULL, 0) == 0) {
            memcpy(sealed + sealed_len, h, 4);
            memcpy(code, "agah1-", 6);
            if (sodium_bin2base64(code + 6, b64, sealed, sealed_len + 4,
                                  sodium_base64_VARIANT_URLSAFE_NO_PADDING) != NULL)
                decode_code(code);
        }
        free(sealed);
        free(code);
    }
    return 0;
}

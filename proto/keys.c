/* Identities (Ed25519 key pairs in guarded memory), printable checksummed
 * ids, sealed boxes to Ed25519 keys, and the hashes records and lookups use.
 * All cryptography is libsodium's; this file only arranges it. The key file
 * itself lives in keyfile.c. */
#include <string.h>
#include <sodium.h>
#include <agah/keys.h>

/* The whole identity lives in sodium_malloc'd memory (guard pages, wiped
 * on free). `sk` is libsodium's 64-byte form: seed || public key. */
struct agah_identity {
    uint8_t pk[AGAH_PK_LEN];
    uint8_t sk[crypto_sign_SECRETKEYBYTES];
};

static const char keys__b32[] = "abcdefghijklmnopqrstuvwxyz234567";

/* The payload of a printable id: 32 key bytes then a 4-byte checksum. */
#define KEYS_ID_RAW (32 + 4)

int agah_init(void)
{
    /* sodium_init returns 1 when already initialised, which is fine. */
    if (sodium_init() < 0)
        return AGAH_EINTERNAL;
    return 0;
}

/* First 4 bytes of BLAKE2b-256("agah-id" || prefix || key). libsodium's
 * generichash has a 16-byte minimum output, so the checksum is a prefix of
 * the 256-bit digest rather than a 32-bit BLAKE2b instance. */
static void keys__id_checksum(char prefix, const uint8_t key[32], uint8_t sum[4])
{
    crypto_generichash_state st;
    uint8_t h[32];
    uint8_t p = (uint8_t)prefix;

    /* With valid constant sizes these calls cannot fail; a failure would
     * leave `h` zeroed and the checksum would then simply not match. */
    memset(h, 0, sizeof h);
    if (crypto_generichash_init(&st, NULL, 0, sizeof h) != 0 ||
        crypto_generichash_update(&st, (const uint8_t *)"agah-id", 7) != 0 ||
        crypto_generichash_update(&st, &p, 1) != 0 ||
        crypto_generichash_update(&st, key, 32) != 0 ||
        crypto_generichash_final(&st, h, sizeof h) != 0)
        memset(h, 0, sizeof h);
    memcpy(sum, h, 4);
}

void agah_id_encode(char prefix, const uint8_t key[32], char out[AGAH_IDSTR_SIZE])
{
    uint8_t raw[KEYS_ID_RAW];
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;

    memcpy(raw, key, 32);
    keys__id_checksum(prefix, key, raw + 32);
    out[o++] = prefix;
    for (size_t i = 0; i < sizeof raw; i++) {
        acc = (acc << 8) | raw[i];
        bits += 8;
        while (bits >= 5) {
            out[o++] = keys__b32[(acc >> (bits - 5)) & 31];
            bits -= 5;
        }
    }
    /* 288 bits leave 3: pad with two zero bits, no '=' padding. */
    if (bits > 0)
        out[o++] = keys__b32[(acc << (5 - bits)) & 31];
    out[o] = '\0';
}

static int keys__b32_value(char c)
{
    if (c >= 'a' && c <= 'z')
        return c - 'a';
    if (c >= '2' && c <= '7')
        return c - '2' + 26;
    return -1;
}

int agah_id_decode(const char *s, char prefix, uint8_t key[32], struct agah_why *why)
{
    uint8_t raw[KEYS_ID_RAW];
    uint8_t sum[4];
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0, len;
    int r = AGAH_EINVAL;

    if (s == NULL)
        return agah_fail(why, AGAH_EINVAL, "no id given");
    /* Count at most one past the expected length: the input may be long. */
    for (len = 0; len <= AGAH_IDSTR_LEN && s[len] != '\0'; len++)
        ;
    if (len != AGAH_IDSTR_LEN) {
        r = agah_fail(why, AGAH_EINVAL, "an id is %d characters long, this one is %s%zu",
                      AGAH_IDSTR_LEN, len > AGAH_IDSTR_LEN ? "more than " : "",
                      len > AGAH_IDSTR_LEN ? (size_t)AGAH_IDSTR_LEN : len);
        goto out;
    }
    if (s[0] != prefix) {
        r = agah_fail(why, AGAH_EINVAL, "%s id must start with '%c'",
                      prefix == AGAH_IDPFX_MEMBER ? "a member" :
                      prefix == AGAH_IDPFX_COMMUNITY ? "a community" : "this", prefix);
        goto out;
    }
    for (size_t i = 1; i < len; i++) {
        int v = keys__b32_value(s[i]);
        if (v < 0) {
            r = agah_fail(why, AGAH_EINVAL,
                          "character %zu of the id is not one of a-z, 2-7", i + 1);
            goto out;
        }
        acc = (acc << 5) | (uint32_t)v;
        bits += 5;
        if (bits >= 8) {
            raw[o++] = (uint8_t)(acc >> (bits - 8));
            bits -= 8;
        }
    }
    /* 58 characters carry 290 bits: 288 of payload and 2 that must be zero.
     * A typo that only touches those two bits is still a typo. */
    if (o != sizeof raw || bits != 2 || (acc & 3) != 0) {
        r = agah_fail(why, AGAH_ECHECKSUM, "the id's checksum does not match (a typo?)");
        goto out;
    }
    keys__id_checksum(prefix, raw, sum);
    if (sodium_memcmp(sum, raw + 32, 4) != 0) {
        r = agah_fail(why, AGAH_ECHECKSUM, "the id's checksum does not match (a typo?)");
        goto out;
    }
    memcpy(key, raw, 32);
    r = 0;
out:
    return r;
}

static int keys__alloc(struct agah_identity **out)
{
    struct agah_identity *id;

    if (agah_init() != 0)
        return AGAH_EINTERNAL;
    id = sodium_malloc(sizeof *id);
    if (id == NULL)
        return AGAH_ENOMEM;
    sodium_memzero(id, sizeof *id);
    *out = id;
    return 0;
}

/* A random identity is the seeded one with a random seed:
 * crypto_sign_keypair does the same, and one body means one way to build
 * the secret key. The seed is wiped before returning. */
int agah_identity_generate(struct agah_identity **out)
{
    uint8_t seed[AGAH_SEED_LEN];
    int r;

    if (agah_init() != 0)
        return AGAH_EINTERNAL;
    randombytes_buf(seed, sizeof seed);
    r = agah_identity_from_seed(seed, out);
    sodium_memzero(seed, sizeof seed);
    return r;
}

int agah_identity_from_seed(const uint8_t seed[AGAH_SEED_LEN], struct agah_identity **out)
{
    struct agah_identity *id = NULL;
    int r;

    if ((r = keys__alloc(&id)) != 0)
        goto out;
    if (crypto_sign_seed_keypair(id->pk, id->sk, seed) != 0) {
        r = AGAH_EINTERNAL;
        goto out;
    }
    *out = id;
    id = NULL;
    r = 0;
out:
    agah_identity_free(id);
    return r;
}

void agah_identity_free(struct agah_identity *id)
{
    if (id == NULL)
        return;
    sodium_memzero(id, sizeof *id);
    sodium_free(id);
}

const uint8_t *agah_identity_pk(const struct agah_identity *id)
{
    return id->pk;
}

void agah_identity_seed(const struct agah_identity *id, uint8_t seed[AGAH_SEED_LEN])
{
    /* libsodium's Ed25519 secret key starts with the seed. */
    memcpy(seed, id->sk, AGAH_SEED_LEN);
}

void agah_identity_sign(const struct agah_identity *id, const uint8_t *msg, size_t len,
                        uint8_t sig[AGAH_SIG_LEN])
{
    /* Signing with a well-formed key cannot fail; should it ever, an
     * all-zero signature is written, which no verifier accepts. */
    if (crypto_sign_detached(sig, NULL, msg, len, id->sk) != 0)
        sodium_memzero(sig, AGAH_SIG_LEN);
}

int agah_sig_verify(const uint8_t pk[AGAH_PK_LEN], const uint8_t *msg, size_t len,
                    const uint8_t sig[AGAH_SIG_LEN])
{
    if (crypto_sign_verify_detached(sig, msg, len, pk) != 0)
        return AGAH_ESIG;
    return 0;
}

int agah_seal(const uint8_t pk[AGAH_PK_LEN], const uint8_t *m, size_t mlen, uint8_t *c)
{
    uint8_t xpk[crypto_box_PUBLICKEYBYTES];
    int r = AGAH_EINTERNAL;

    if (agah_init() != 0)
        goto out;
    /* A small-order or non-canonical point has no X25519 counterpart. */
    if (crypto_sign_ed25519_pk_to_curve25519(xpk, pk) != 0) {
        r = AGAH_EINVAL;
        goto out;
    }
    if (crypto_box_seal(c, m, mlen, xpk) != 0)
        goto out;
    r = 0;
out:
    return r;
}

int agah_seal_open(const struct agah_identity *id, const uint8_t *c, size_t clen, uint8_t *m)
{
    uint8_t xpk[crypto_box_PUBLICKEYBYTES];
    uint8_t xsk[crypto_box_SECRETKEYBYTES];
    int r = AGAH_ECRYPTO;

    if (clen < AGAH_SEAL_OVERHEAD)
        goto out;
    if (crypto_sign_ed25519_pk_to_curve25519(xpk, id->pk) != 0 ||
        crypto_sign_ed25519_sk_to_curve25519(xsk, id->sk) != 0) {
        r = AGAH_EINTERNAL;
        goto out;
    }
    if (crypto_box_seal_open(m, c, clen, xpk, xsk) != 0)
        goto out;
    r = 0;
out:
    sodium_memzero(xsk, sizeof xsk);
    return r;
}

int agah_identity_dh(const struct agah_identity *id, const uint8_t peer_x25519[32],
                     uint8_t out[32])
{
    uint8_t xsk[crypto_box_SECRETKEYBYTES];
    int r = AGAH_ECRYPTO;

    if (crypto_sign_ed25519_sk_to_curve25519(xsk, id->sk) != 0) {
        r = AGAH_EINTERNAL;
        goto out;
    }
    /* libsodium refuses an all-zero result: a low-order point. */
    if (crypto_scalarmult(out, xsk, peer_x25519) != 0)
        goto out;
    r = 0;
out:
    sodium_memzero(xsk, sizeof xsk);
    if (r != 0)
        sodium_memzero(out, 32);
    return r;
}

int agah_pk_to_x25519(const uint8_t pk[AGAH_PK_LEN], uint8_t out[32])
{
    return crypto_sign_ed25519_pk_to_curve25519(out, pk) == 0 ? 0 : AGAH_EINVAL;
}

void agah_hash(const uint8_t *buf, size_t len, uint8_t out[AGAH_HASH_LEN])
{
    if (crypto_generichash(out, AGAH_HASH_LEN, buf, len, NULL, 0) != 0)
        sodium_memzero(out, AGAH_HASH_LEN);
}

/* The identity key file (DATA_DIR/identity): the Ed25519 seed under
 * XChaCha20-Poly1305 keyed by Argon2id(passphrase), the public key in clear
 * so `agah id` needs no passphrase. Also purpose-bound keys derived from
 * the seed (agah_identity_derive), since this is the one file that
 * otherwise handles the seed.
 *
 * Layout (145 bytes, integers big-endian; proto/PROTOCOL.md has the
 * normative text):
 *   magic "AGAHKEY1"(8) | flags(1) | opslimit u64(8) | memlimit u64(8) |
 *   salt(16) | nonce(24) | pk(32) | ciphertext of the seed(32) + tag(16)
 * The first 97 bytes are the AEAD's associated data, so no header byte can
 * be changed without the file failing to open. */
#include <string.h>
#include <sodium.h>
#include <agah/keyfile.h>

#define KF_MAGIC "AGAHKEY1"
#define KF_MAGIC_LEN 8
#define KF_OFF_FLAGS 8
#define KF_OFF_OPS 9
#define KF_OFF_MEM 17
#define KF_OFF_SALT 25
#define KF_OFF_NONCE 41
#define KF_OFF_PK 65
#define KF_OFF_CT 97
#define KF_HDR_LEN KF_OFF_CT
#define KF_SALT_LEN crypto_pwhash_argon2id_SALTBYTES
#define KF_NONCE_LEN crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define KF_CT_LEN (AGAH_SEED_LEN + crypto_aead_xchacha20poly1305_ietf_ABYTES)

#define KF_FLAG_NOPASS 0x01u
/* Only with KF_FLAG_NOPASS: the user said, with a second explicit flag,
 * that this member's or organiser's key may go without a passphrase.
 * Without it a passphrase-less identity is fit only for a relay. */
#define KF_FLAG_UNSAFE 0x02u
#define KF_FLAGS_KNOWN (KF_FLAG_NOPASS | KF_FLAG_UNSAFE)

/* Limits accepted from a file. We write OPSLIMIT_MODERATE (3) and
 * MEMLIMIT_MODERATE (256 MiB); files written with the older interactive
 * setting (2, 64 MiB) keep opening. The ceilings accept the moderate
 * setting and a few times its CPU, while refusing, before any hashing, a
 * crafted file that would make us burn gigabytes of memory or minutes of
 * CPU. */
#define KF_OPS_MIN ((uint64_t)crypto_pwhash_argon2id_OPSLIMIT_MIN)
#define KF_OPS_MAX ((uint64_t)16)
#define KF_MEM_MIN ((uint64_t)crypto_pwhash_argon2id_MEMLIMIT_MIN)
#define KF_MEM_MAX ((uint64_t)crypto_pwhash_argon2id_MEMLIMIT_MODERATE) /* 256 MiB */

/* The fixed key of an identity made with --no-passphrase: the format and
 * its integrity check stay the same, only the secret is public. */
#define KF_NOPASS_CONTEXT "agah-no-passphrase-v1"

_Static_assert(KF_OFF_CT + KF_CT_LEN == AGAH_KEYFILE_SIZE, "key file layout");
_Static_assert(KF_OFF_NONCE + KF_NONCE_LEN == KF_OFF_PK, "key file nonce");
_Static_assert(KF_OFF_SALT + KF_SALT_LEN == KF_OFF_NONCE, "key file salt");
_Static_assert(AGAH_KEYFILE_OPSLIMIT == crypto_pwhash_argon2id_OPSLIMIT_MODERATE, "moderate ops");
_Static_assert(AGAH_KEYFILE_MEMLIMIT == crypto_pwhash_argon2id_MEMLIMIT_MODERATE, "moderate mem");
_Static_assert(AGAH_KEYFILE_MEMLIMIT <= KF_MEM_MAX, "we read what we write");

struct kf_header {
    int no_passphrase, unsafe;
    uint64_t ops, mem;
};

static void kf__put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)(v & 0xff);
        v >>= 8;
    }
}

static uint64_t kf__get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

/* Checks everything that can be checked without a key: size, magic,
 * flags and the Argon2id limits. Nothing expensive happens before this. */
static int kf__parse_header(const uint8_t *buf, size_t len, struct kf_header *h,
                            struct agah_why *why)
{
    uint8_t flags;

    if (buf == NULL || len < AGAH_KEYFILE_SIZE)
        return agah_fail(why, AGAH_ETRUNC, "the key file is truncated (%zu of %d bytes)",
                         buf == NULL ? (size_t)0 : len, AGAH_KEYFILE_SIZE);
    if (len > AGAH_KEYFILE_SIZE)
        return agah_fail(why, AGAH_ETRAILING, "the key file is %zu bytes, expected %d", len,
                         AGAH_KEYFILE_SIZE);
    if (memcmp(buf, KF_MAGIC, KF_MAGIC_LEN) != 0)
        return agah_fail(why, AGAH_EVERSION,
                         "not an agah key file (or one of a version this program does not know)");
    flags = buf[KF_OFF_FLAGS];
    if ((flags & ~KF_FLAGS_KNOWN) != 0)
        return agah_fail(why, AGAH_EVERSION, "the key file has unknown flags 0x%02x", flags);
    h->no_passphrase = (flags & KF_FLAG_NOPASS) != 0;
    h->unsafe = (flags & KF_FLAG_UNSAFE) != 0;
    if (h->unsafe && !h->no_passphrase)
        return agah_fail(why, AGAH_EVALUE,
                         "the key file has a passphrase but is marked as having none");
    h->ops = kf__get_u64(buf + KF_OFF_OPS);
    h->mem = kf__get_u64(buf + KF_OFF_MEM);
    if (h->no_passphrase) {
        if (h->ops != 0 || h->mem != 0)
            return agah_fail(why, AGAH_EVALUE,
                             "the key file has no passphrase but names Argon2id limits");
    } else if (h->ops < KF_OPS_MIN || h->ops > KF_OPS_MAX || h->mem < KF_MEM_MIN ||
               h->mem > KF_MEM_MAX) {
        return agah_fail(why, AGAH_EVALUE,
                         "the key file's Argon2id limits (ops %llu, memory %llu bytes) are "
                         "outside what this program accepts",
                         (unsigned long long)h->ops, (unsigned long long)h->mem);
    }
    return 0;
}

/* The 32-byte file key into `key` (sodium memory): Argon2id of the
 * passphrase, or the fixed no-passphrase key. */
static int kf__file_key(const struct kf_header *h, const uint8_t salt[KF_SALT_LEN],
                        const char *passphrase, size_t passlen, uint8_t *key)
{
    if (h->no_passphrase) {
        if (crypto_generichash(key, 32, (const uint8_t *)KF_NOPASS_CONTEXT,
                               strlen(KF_NOPASS_CONTEXT), NULL, 0) != 0)
            return AGAH_EINTERNAL;
        return 0;
    }
    if (passlen > crypto_pwhash_PASSWD_MAX)
        return AGAH_EINVAL;
    /* Fails only when the memory cannot be allocated. */
    if (crypto_pwhash(key, 32, passphrase, passlen, salt, (unsigned long long)h->ops,
                      (size_t)h->mem, crypto_pwhash_ALG_ARGON2ID13) != 0)
        return AGAH_ENOMEM;
    return 0;
}

/* The header of a new file into `file` and `h`: magic, flags, limits, a
 * random salt (none without a passphrase), a random nonce, the public key. */
static void kf__new_header(uint8_t file[AGAH_KEYFILE_SIZE], struct kf_header *h,
                           const struct agah_identity *id, int nopass,
                           const struct agah_keyfile_params *p)
{
    memset(file, 0, AGAH_KEYFILE_SIZE);
    memcpy(file, KF_MAGIC, KF_MAGIC_LEN);
    h->no_passphrase = nopass;
    h->unsafe = nopass && p->unsafe_nopass;
    if (h->no_passphrase) {
        /* Limits and salt stay zero: nothing is hashed. */
        file[KF_OFF_FLAGS] = (uint8_t)(KF_FLAG_NOPASS | (h->unsafe ? KF_FLAG_UNSAFE : 0));
        h->ops = 0;
        h->mem = 0;
    } else {
        h->ops = p->opslimit;
        h->mem = p->memlimit;
        randombytes_buf(file + KF_OFF_SALT, KF_SALT_LEN);
    }
    kf__put_u64(file + KF_OFF_OPS, h->ops);
    kf__put_u64(file + KF_OFF_MEM, h->mem);
    randombytes_buf(file + KF_OFF_NONCE, KF_NONCE_LEN);
    memcpy(file + KF_OFF_PK, agah_identity_pk(id), AGAH_PK_LEN);
}

int agah_keyfile_write_params(const char *path, const struct agah_identity *id,
                              const char *passphrase, size_t passlen,
                              const struct agah_keyfile_params *params)
{
    static const struct agah_keyfile_params defaults = {
        AGAH_KEYFILE_OPSLIMIT, AGAH_KEYFILE_MEMLIMIT, 0};
    const struct agah_keyfile_params *p = params != NULL ? params : &defaults;
    uint8_t file[AGAH_KEYFILE_SIZE];
    uint8_t *secret = NULL; /* key(32) || seed(32), guarded */
    struct kf_header h;
    unsigned long long ctlen = 0;
    int r = AGAH_EINTERNAL;

    if (path == NULL || id == NULL || (passphrase != NULL && passlen == 0))
        return AGAH_EINVAL;
    /* Never write a file that we would refuse to read back. */
    if (passphrase != NULL && (p->opslimit < KF_OPS_MIN || p->opslimit > KF_OPS_MAX ||
                               p->memlimit < KF_MEM_MIN || p->memlimit > KF_MEM_MAX))
        return AGAH_EINVAL;
    if (agah_init() != 0)
        return AGAH_EINTERNAL;
    secret = sodium_malloc(64);
    if (secret == NULL) {
        r = AGAH_ENOMEM;
        goto out;
    }
    kf__new_header(file, &h, id, passphrase == NULL, p);
    if ((r = kf__file_key(&h, file + KF_OFF_SALT, passphrase, passlen, secret)) != 0)
        goto out;
    agah_identity_seed(id, secret + 32);
    if (crypto_aead_xchacha20poly1305_ietf_encrypt(file + KF_OFF_CT, &ctlen, secret + 32,
                                                   AGAH_SEED_LEN, file, KF_HDR_LEN, NULL,
                                                   file + KF_OFF_NONCE, secret) != 0 ||
        ctlen != KF_CT_LEN) {
        r = AGAH_EINTERNAL;
        goto out;
    }
    r = agah_file_write_atomic(path, file, sizeof file, 0600);
out:
    if (secret != NULL) {
        sodium_memzero(secret, 64);
        sodium_free(secret);
    }
    return r;
}

int agah_keyfile_write(const char *path, const struct agah_identity *id,
                       const char *passphrase, size_t passlen)
{
    return agah_keyfile_write_params(path, id, passphrase, passlen, NULL);
}

/* Reads the key file into `buf` (exactly AGAH_KEYFILE_SIZE bytes or an
 * error), with a sentence for the user when it cannot. */
static int kf__load(const char *path, uint8_t buf[AGAH_KEYFILE_SIZE], size_t *len,
                    struct agah_why *why)
{
    uint8_t *data = NULL;
    size_t n = 0;
    int r;

    if (path == NULL)
        return agah_fail(why, AGAH_EINVAL, "no key file path given");
    r = agah_file_read(path, AGAH_KEYFILE_SIZE, &data, &n);
    if (r == AGAH_ENOENT)
        return agah_fail(why, r, "no identity at %s (run `agah init`)", path);
    if (r == AGAH_ETOOBIG)
        return agah_fail(why, r, "%s is larger than a key file (%d bytes)", path,
                         AGAH_KEYFILE_SIZE);
    if (r != 0)
        return agah_fail(why, r, "cannot read the key file %s", path);
    memcpy(buf, data, n);
    *len = n;
    free(data);
    return 0;
}

int agah_keyfile_peek(const char *path, uint8_t pk[AGAH_PK_LEN], int *no_passphrase,
                      struct agah_why *why)
{
    uint8_t file[AGAH_KEYFILE_SIZE];
    struct kf_header h;
    size_t len = 0;
    int r;

    if (pk == NULL || no_passphrase == NULL)
        return agah_fail(why, AGAH_EINVAL, "no output given");
    if ((r = kf__load(path, file, &len, why)) != 0)
        return r;
    if ((r = kf__parse_header(file, len, &h, why)) != 0)
        return r;
    /* Not authenticated until the file is opened; callers only display it. */
    memcpy(pk, file + KF_OFF_PK, AGAH_PK_LEN);
    *no_passphrase = !h.no_passphrase ? AGAH_KEYFILE_PROTECTED
                     : h.unsafe        ? AGAH_KEYFILE_NOPASS_UNSAFE
                                       : AGAH_KEYFILE_NOPASS;
    return 0;
}

int agah_keyfile_decode(const uint8_t *buf, size_t len, const char *passphrase,
                        size_t passlen, struct agah_identity **out, struct agah_why *why)
{
    struct agah_identity *id = NULL;
    uint8_t *secret = NULL; /* key(32) || seed(32), guarded */
    struct kf_header h;
    unsigned long long mlen = 0;
    int r;

    if (out == NULL)
        return agah_fail(why, AGAH_EINVAL, "no output given");
    if ((r = kf__parse_header(buf, len, &h, why)) != 0)
        goto out;
    if (!h.no_passphrase && passphrase == NULL) {
        r = agah_fail(why, AGAH_EPASS, "this identity needs a passphrase");
        goto out;
    }
    if (agah_init() != 0) {
        r = agah_fail(why, AGAH_EINTERNAL, "libsodium cannot start");
        goto out;
    }
    secret = sodium_malloc(64);
    if (secret == NULL) {
        r = agah_fail(why, AGAH_ENOMEM, "out of memory");
        goto out;
    }
    /* A passphrase given for a no-passphrase identity is simply not used. */
    r = kf__file_key(&h, buf + KF_OFF_SALT, passphrase, passlen, secret);
    if (r == AGAH_EINVAL) {
        r = agah_fail(why, AGAH_EPASS, "wrong passphrase");
        goto out;
    }
    if (r != 0) {
        r = agah_fail(why, r, "cannot derive the key file's key: %s", agah_strerror(r));
        goto out;
    }
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(secret + 32, &mlen, NULL, buf + KF_OFF_CT,
                                                   KF_CT_LEN, buf, KF_HDR_LEN,
                                                   buf + KF_OFF_NONCE, secret) != 0 ||
        mlen != AGAH_SEED_LEN) {
        /* With a passphrase, a wrong one and a damaged file look the same;
         * without one, only damage is possible. */
        if (h.no_passphrase)
            r = agah_fail(why, AGAH_ECRYPTO, "the key file is damaged");
        else
            r = agah_fail(why, AGAH_EPASS, "wrong passphrase");
        goto out;
    }
    if ((r = agah_identity_from_seed(secret + 32, &id)) != 0) {
        r = agah_fail(why, r, "cannot rebuild the identity: %s", agah_strerror(r));
        goto out;
    }
    if (sodium_memcmp(agah_identity_pk(id), buf + KF_OFF_PK, AGAH_PK_LEN) != 0) {
        r = agah_fail(why, AGAH_ECRYPTO,
                      "the key file's public key does not match its secret key");
        goto out;
    }
    *out = id;
    id = NULL;
    r = 0;
out:
    if (secret != NULL) {
        sodium_memzero(secret, 64);
        sodium_free(secret);
    }
    agah_identity_free(id);
    return r;
}

int agah_keyfile_read(const char *path, const char *passphrase, size_t passlen,
                      struct agah_identity **out, struct agah_why *why)
{
    uint8_t file[AGAH_KEYFILE_SIZE];
    size_t len = 0;
    int r;

    if ((r = kf__load(path, file, &len, why)) != 0)
        return r;
    return agah_keyfile_decode(file, len, passphrase, passlen, out, why);
}

int agah_identity_derive(const struct agah_identity *id, const char *context, uint8_t out[32])
{
    uint8_t *seed = NULL;
    int r = AGAH_EINTERNAL;

    if (id == NULL || context == NULL || out == NULL)
        return AGAH_EINVAL;
    if (agah_init() != 0)
        return AGAH_EINTERNAL;
    seed = sodium_malloc(AGAH_SEED_LEN);
    if (seed == NULL) {
        r = AGAH_ENOMEM;
        goto out;
    }
    agah_identity_seed(id, seed);
    if (crypto_generichash(out, 32, (const uint8_t *)context, strlen(context), seed,
                           AGAH_SEED_LEN) != 0)
        goto out;
    r = 0;
out:
    if (seed != NULL) {
        sodium_memzero(seed, AGAH_SEED_LEN);
        sodium_free(seed);
    }
    return r;
}

/* DATA_DIR/store.key: the random key every row of store.db is encrypted
 * under, and the user's own name, sealed with XChaCha20-Poly1305 under the
 * seed-derived key for "agah-storekey-v1". One fixed size, so the file does
 * not even give away the length of the name.
 *
 *   "AGAHSK01"(8) | nonce(24) | AEAD(key(32) | name_len(1) | name(64)) + tag(16)
 *
 * with the magic as associated data (proto/PROTOCOL.md, "Keys at rest"). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>
#include <agah/datadir.h>
#include <agah/mp.h>
#include <agah/storekey.h>
#include <agah/keyfile.h>

#define SK_MAGIC "AGAHSK01"
#define SK_MAGIC_LEN 8
#define SK_NONCE_LEN crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define SK_PT_LEN (AGAH_STOREKEY_LEN + 1 + AGAH_NAME_MAX)
#define SK_OFF_CT (SK_MAGIC_LEN + SK_NONCE_LEN)
#define SK_CONTEXT "agah-storekey-v1"
#define SK_FILE "store.key"
#define SK_NAME_FILE "name"

_Static_assert(SK_OFF_CT + SK_PT_LEN + crypto_aead_xchacha20poly1305_ietf_ABYTES ==
                   AGAH_STOREKEY_FILE_SIZE,
               "store key file layout");

struct agah_storekey *agah_storekey_new(void)
{
    struct agah_storekey *k;
    if (agah_init() != 0)
        return NULL;
    if ((k = sodium_malloc(sizeof *k)) != NULL)
        sodium_memzero(k, sizeof *k);
    return k;
}

void agah_storekey_free(struct agah_storekey *k)
{
    if (k == NULL)
        return;
    sodium_memzero(k, sizeof *k);
    sodium_free(k);
}

/* A name as `init --name` accepts it: at most AGAH_NAME_MAX bytes of UTF-8
 * without control characters. */
static int sk__name_ok(const char *s, size_t n)
{
    if (n > AGAH_NAME_MAX || !agah_mp_utf8_ok(s, n))
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 0;
    return 1;
}

int agah_storekey_write(const char *path, const struct agah_identity *id,
                        const struct agah_storekey *k)
{
    uint8_t file[AGAH_STOREKEY_FILE_SIZE];
    uint8_t *sec = NULL; /* file key(32) || plaintext, guarded */
    unsigned long long ctlen = 0;
    size_t nlen;
    int r = AGAH_EINTERNAL;

    if (path == NULL || id == NULL || k == NULL)
        return AGAH_EINVAL;
    nlen = strnlen(k->name, sizeof k->name);
    if (!sk__name_ok(k->name, nlen))
        return AGAH_EINVAL;
    if ((sec = sodium_malloc(32 + SK_PT_LEN)) == NULL)
        return AGAH_ENOMEM;
    sodium_memzero(sec, 32 + SK_PT_LEN);
    if ((r = agah_identity_derive(id, SK_CONTEXT, sec)) != 0)
        goto out;
    memcpy(sec + 32, k->key, AGAH_STOREKEY_LEN);
    sec[32 + AGAH_STOREKEY_LEN] = (uint8_t)nlen;
    memcpy(sec + 32 + AGAH_STOREKEY_LEN + 1, k->name, nlen);
    memcpy(file, SK_MAGIC, SK_MAGIC_LEN);
    randombytes_buf(file + SK_MAGIC_LEN, SK_NONCE_LEN);
    if (crypto_aead_xchacha20poly1305_ietf_encrypt(file + SK_OFF_CT, &ctlen, sec + 32, SK_PT_LEN,
                                                   file, SK_MAGIC_LEN, NULL,
                                                   file + SK_MAGIC_LEN, sec) != 0 ||
        ctlen != sizeof file - SK_OFF_CT) {
        r = AGAH_EINTERNAL;
        goto out;
    }
    r = agah_file_write_atomic(path, file, sizeof file, 0600);
out:
    sodium_memzero(sec, 32 + SK_PT_LEN);
    sodium_free(sec);
    return r;
}

/* Opens the file's bytes into a new agah_storekey. */
static int sk__decode(const uint8_t *buf, size_t len, const struct agah_identity *id,
                      struct agah_storekey **out, struct agah_why *why)
{
    struct agah_storekey *k = NULL;
    uint8_t *sec = NULL;
    unsigned long long mlen = 0;
    size_t nlen;
    int r;

    if (len < AGAH_STOREKEY_FILE_SIZE)
        return agah_fail(why, AGAH_ETRUNC, "the store key file is truncated");
    if (memcmp(buf, SK_MAGIC, SK_MAGIC_LEN) != 0)
        return agah_fail(why, AGAH_EVERSION, "not an agah store key file");
    if ((sec = sodium_malloc(32 + SK_PT_LEN)) == NULL || (k = agah_storekey_new()) == NULL) {
        r = agah_fail(why, AGAH_ENOMEM, "out of memory");
        goto out;
    }
    if ((r = agah_identity_derive(id, SK_CONTEXT, sec)) != 0) {
        r = agah_fail(why, r, "cannot derive the store key file's key");
        goto out;
    }
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(sec + 32, &mlen, NULL, buf + SK_OFF_CT,
                                                   len - SK_OFF_CT, buf, SK_MAGIC_LEN,
                                                   buf + SK_MAGIC_LEN, sec) != 0 ||
        mlen != SK_PT_LEN) {
        r = agah_fail(why, AGAH_ECRYPTO,
                      "the store key file is damaged or belongs to another identity");
        goto out;
    }
    nlen = sec[32 + AGAH_STOREKEY_LEN];
    if (!sk__name_ok((const char *)sec + 32 + AGAH_STOREKEY_LEN + 1, nlen)) {
        r = agah_fail(why, AGAH_EVALUE, "the store key file holds a malformed name");
        goto out;
    }
    memcpy(k->key, sec + 32, AGAH_STOREKEY_LEN);
    memcpy(k->name, sec + 32 + AGAH_STOREKEY_LEN + 1, nlen);
    k->name[nlen] = '\0';
    *out = k;
    k = NULL;
    r = 0;
out:
    if (sec != NULL) {
        sodium_memzero(sec, 32 + SK_PT_LEN);
        sodium_free(sec);
    }
    agah_storekey_free(k);
    return r;
}

int agah_storekey_read(const char *path, const struct agah_identity *id,
                       struct agah_storekey **out, struct agah_why *why)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    int r;

    if (path == NULL || id == NULL || out == NULL)
        return agah_fail(why, AGAH_EINVAL, "no store key path, identity or output given");
    r = agah_file_read(path, AGAH_STOREKEY_FILE_SIZE, &buf, &len);
    if (r == AGAH_ENOENT)
        return r;
    if (r == AGAH_ETOOBIG)
        return agah_fail(why, r, "%s is larger than a store key file", path);
    if (r != 0)
        return agah_fail(why, r, "cannot read %s", path);
    r = sk__decode(buf, len, id, out, why);
    sodium_memzero(buf, len);
    free(buf);
    return r;
}

/* The plaintext name an older `agah init --name` left in DIR/name, or ""
 * (also when it is malformed, as the old reader treated it). */
static void sk__old_name(const char *path, char name[AGAH_NAME_MAX + 1])
{
    uint8_t *buf = NULL;
    size_t len = 0;

    name[0] = '\0';
    if (agah_file_read(path, AGAH_NAME_MAX, &buf, &len) != 0)
        return;
    if (sk__name_ok((const char *)buf, len)) {
        memcpy(name, buf, len);
        name[len] = '\0';
    }
    sodium_memzero(buf, len);
    free(buf);
}

int agah_storekey_open(const char *dir, const struct agah_identity *id,
                       struct agah_storekey **out, struct agah_why *why)
{
    char path[AGAH_PATH_MAX], npath[AGAH_PATH_MAX];
    struct agah_storekey *k = NULL;
    int r;

    if (agah_datadir_path(dir, SK_FILE, path) != 0 ||
        agah_datadir_path(dir, SK_NAME_FILE, npath) != 0)
        return agah_fail(why, AGAH_EINVAL, "data directory path too long");
    r = agah_storekey_read(path, id, &k, why);
    if (r == AGAH_ENOENT) {
        /* First open by this agah: the key must be on disk before any row
         * is encrypted under it, or a crash would lose the store. */
        if ((k = agah_storekey_new()) == NULL)
            return agah_fail(why, AGAH_ENOMEM, "out of memory");
        randombytes_buf(k->key, sizeof k->key);
        sk__old_name(npath, k->name);
        if ((r = agah_storekey_write(path, id, k)) != 0) {
            agah_storekey_free(k);
            return agah_fail(why, r, "cannot write %s: %s", path, agah_strerror(r));
        }
    } else if (r != 0) {
        return r;
    }
    /* The plaintext name is inside store.key now (also after a crash
     * between the write above and this unlink). */
    if (unlink(npath) != 0 && errno != ENOENT) {
        agah_storekey_free(k);
        return agah_fail(why, AGAH_EIO, "cannot remove %s: %s", npath, strerror(errno));
    }
    *out = k;
    return 0;
}

/* Unit tests for the identity key file (proto/keyfile.c) and the whole-file
 * helpers under it (proto/fileio.c). Argon2id costs ~0.15 s per hash at the
 * interactive setting and ~0.6 s at the moderate one we write (more under
 * ASan), so exhaustive corruption runs on a no-passphrase file, whose
 * integrity check is the same AEAD, most passphrase tests use files of the
 * older interactive setting (which must keep opening), and only two hashes
 * are spent at the moderate setting. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>
#include <agah/keys.h>
#include <agah/keyfile.h>

#include "check.h"

static char dir[64];

static void path_of(const char *name, char out[256])
{
    snprintf(out, 256, "%s/%s", dir, name);
}

static double now_s(void)
{
    struct timespec ts;
    CHECK(clock_gettime(CLOCK_MONOTONIC, &ts) == 0);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Number of entries in the test directory, to prove no temp file lingers. */
static int dir_entries(void)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    if (d == NULL)
        return -1;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    CHECK(closedir(d) == 0);
    return n;
}

static void test_fileio(void)
{
    char p[256], missing[256];
    uint8_t data[1000], *got = NULL;
    size_t len = 0;
    struct stat st;

    path_of("blob", p);
    path_of("nope", missing);
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 7);
    CHECK(agah_file_write_atomic(p, data, sizeof data, 0600) == 0);
    CHECK(stat(p, &st) == 0 && (st.st_mode & 07777) == 0600);
    CHECK(agah_file_read(p, sizeof data, &got, &len) == 0);
    CHECK(got != NULL && len == sizeof data && memcmp(got, data, len) == 0);
    free(got);
    got = NULL;

    /* One byte over the bound is refused, and nothing is handed out. */
    CHECK(agah_file_read(p, sizeof data - 1, &got, &len) == AGAH_ETOOBIG);
    CHECK(got == NULL);
    CHECK(agah_file_read(missing, 10, &got, &len) == AGAH_ENOENT);
    CHECK(agah_file_read(dir, 10, &got, &len) == AGAH_EIO); /* a directory */

    /* Replacing keeps the exact mode asked for and leaves no temp file. */
    CHECK(agah_file_write_atomic(p, data, 10, 0640) == 0);
    CHECK(stat(p, &st) == 0 && (st.st_mode & 07777) == 0640 && st.st_size == 10);
    CHECK(agah_file_write_atomic(p, NULL, 0, 0600) == 0);
    CHECK(agah_file_read(p, 0, &got, &len) == 0 && len == 0 && got != NULL);
    free(got);
    got = NULL;
    CHECK(dir_entries() == 1);
    CHECK(unlink(p) == 0);

    /* A failure after the temp file exists (rename onto a directory):
     * the temp file is removed, the directory left as it was. */
    {
        char sub[256];
        path_of("sub", sub);
        CHECK(mkdir(sub, 0700) == 0);
        CHECK(agah_file_write_atomic(sub, data, 10, 0600) == AGAH_EIO);
        CHECK(dir_entries() == 1);
        CHECK(rmdir(sub) == 0);
    }
    /* A directory that does not exist: an error, nothing created. */
    CHECK(agah_file_write_atomic("/nonexistent-agah-dir/x", data, 1, 0600) == AGAH_EIO);
    CHECK(agah_file_write_atomic(p, data, 1, 010000) == AGAH_EINVAL);
    CHECK(dir_entries() == 0);
}

static void test_derive(const struct agah_identity *a, const struct agah_identity *b)
{
    uint8_t k1[32], k2[32], k3[32], k4[32];

    CHECK(agah_identity_derive(a, "agah-local-v1", k1) == 0);
    CHECK(agah_identity_derive(a, "agah-local-v1", k2) == 0);
    CHECK(agah_identity_derive(a, "agah-other-v1", k3) == 0);
    CHECK(agah_identity_derive(b, "agah-local-v1", k4) == 0);
    CHECK(memcmp(k1, k2, 32) == 0);
    CHECK(memcmp(k1, k3, 32) != 0);
    CHECK(memcmp(k1, k4, 32) != 0);
    CHECK(agah_identity_derive(a, NULL, k1) == AGAH_EINVAL);
}

/* Every byte and every bit of a no-passphrase file is covered by the AEAD
 * or the header checks: no change may ever open. */
static void test_nopass_corruption(const struct agah_identity *id)
{
    char p[256];
    uint8_t *file = NULL, mut[AGAH_KEYFILE_SIZE + 1];
    size_t len = 0;
    int ok = 1, opened = 0;

    path_of("relay.key", p);
    CHECK(agah_keyfile_write(p, id, NULL, 0) == 0);
    CHECK(agah_file_read(p, AGAH_KEYFILE_SIZE, &file, &len) == 0);
    CHECK(len == AGAH_KEYFILE_SIZE);
    if (file == NULL || len != AGAH_KEYFILE_SIZE)
        return;
    for (size_t i = 0; i < len; i++) {
        for (int bit = 0; bit < 8; bit++) {
            struct agah_identity *got = NULL;
            struct agah_why why = {{0}};
            int r;

            memcpy(mut, file, len);
            mut[i] ^= (uint8_t)(1u << bit);
            r = agah_keyfile_decode(mut, len, "ignored", 7, &got, &why);
            if (r == 0) {
                opened++;
                agah_identity_free(got);
            }
            if (r == 0 || got != NULL || why.msg[0] == '\0')
                ok = 0;
        }
    }
    CHECK(opened == 0);
    CHECK(ok);

    /* Truncation at every length, and one byte too many. */
    ok = 1;
    for (size_t n = 0; n < len; n++) {
        struct agah_identity *got = NULL;
        if (agah_keyfile_decode(file, n, NULL, 0, &got, NULL) != AGAH_ETRUNC || got != NULL)
            ok = 0;
    }
    CHECK(ok);
    memcpy(mut, file, len);
    mut[len] = 0;
    {
        struct agah_identity *got = NULL;
        CHECK(agah_keyfile_decode(mut, len + 1, NULL, 0, &got, NULL) == AGAH_ETRAILING);
        CHECK(got == NULL);
    }
    /* The same on disk: a truncated file and one with a byte appended. */
    {
        struct agah_identity *got = NULL;
        CHECK(agah_file_write_atomic(p, file, len - 1, 0600) == 0);
        CHECK(agah_keyfile_read(p, NULL, 0, &got, NULL) == AGAH_ETRUNC && got == NULL);
        CHECK(agah_file_write_atomic(p, mut, len + 1, 0600) == 0);
        CHECK(agah_keyfile_read(p, NULL, 0, &got, NULL) == AGAH_ETOOBIG && got == NULL);
    }
    free(file);
    CHECK(unlink(p) == 0);
}

static void test_nopass(const struct agah_identity *id)
{
    char p[256];
    struct agah_identity *got = NULL;
    uint8_t pk[AGAH_PK_LEN];
    int nopass = -1;
    struct stat st;

    path_of("relay.key", p);
    CHECK(agah_keyfile_write(p, id, NULL, 0) == 0);
    CHECK(stat(p, &st) == 0 && (st.st_mode & 07777) == 0600 && st.st_size == AGAH_KEYFILE_SIZE);
    CHECK(agah_keyfile_peek(p, pk, &nopass, NULL) == 0);
    CHECK(nopass == AGAH_KEYFILE_NOPASS);
    CHECK(memcmp(pk, agah_identity_pk(id), AGAH_PK_LEN) == 0);
    CHECK(agah_keyfile_read(p, NULL, 0, &got, NULL) == 0);
    CHECK(got != NULL && memcmp(agah_identity_pk(got), agah_identity_pk(id), 32) == 0);
    agah_identity_free(got);
    got = NULL;
    /* A passphrase offered to a no-passphrase identity is ignored. */
    CHECK(agah_keyfile_read(p, "whatever", 8, &got, NULL) == 0 && got != NULL);
    agah_identity_free(got);
    CHECK(unlink(p) == 0);
}

/* A key file header claiming the given limits; the rest is junk. */
static void with_limits(uint8_t f[AGAH_KEYFILE_SIZE], uint64_t ops, uint64_t mem)
{
    memset(f, 0x5a, AGAH_KEYFILE_SIZE);
    memcpy(f, "AGAHKEY1", 8);
    f[8] = 0;
    for (int i = 0; i < 8; i++) {
        f[9 + i] = (uint8_t)(ops >> (56 - 8 * i));
        f[17 + i] = (uint8_t)(mem >> (56 - 8 * i));
    }
}

static void test_limits(void)
{
    static const struct { uint64_t ops, mem; } bad[] = {
        {2, (uint64_t)100 << 30},       /* 100 GiB */
        {2, ((uint64_t)256 << 20) + 1}, /* just over the ceiling */
        {17, (uint64_t)64 << 20},
        {UINT64_MAX, UINT64_MAX},
        {0, (uint64_t)64 << 20},
        {2, 1024},
    };
    uint8_t f[AGAH_KEYFILE_SIZE];
    char p[256];
    double t0, t1;
    int ok = 1;

    t0 = now_s();
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct agah_identity *got = NULL;
        struct agah_why why = {{0}};
        with_limits(f, bad[i].ops, bad[i].mem);
        if (agah_keyfile_decode(f, sizeof f, "pass", 4, &got, &why) != AGAH_EVALUE ||
            got != NULL || strstr(why.msg, "Argon2id") == NULL)
            ok = 0;
    }
    t1 = now_s();
    CHECK(ok);
    /* Refused before hashing: all six take far less than one Argon2id run. */
    CHECK(t1 - t0 < 0.05);

    /* The same through a file on disk. */
    path_of("crafted.key", p);
    with_limits(f, 2, (uint64_t)100 << 30);
    CHECK(agah_file_write_atomic(p, f, sizeof f, 0600) == 0);
    {
        struct agah_identity *got = NULL;
        CHECK(agah_keyfile_read(p, "pass", 4, &got, NULL) == AGAH_EVALUE && got == NULL);
    }
    CHECK(unlink(p) == 0);

    /* A no-passphrase file must not name limits either. */
    {
        struct agah_identity *got = NULL;
        memset(f, 0, sizeof f);
        memcpy(f, "AGAHKEY1", 8);
        f[8] = 1;
        f[16] = 2;
        CHECK(agah_keyfile_decode(f, sizeof f, NULL, 0, &got, NULL) == AGAH_EVALUE);
        f[16] = 0;
        f[8] = 0x81; /* unknown flag */
        CHECK(agah_keyfile_decode(f, sizeof f, NULL, 0, &got, NULL) == AGAH_EVERSION);
        f[8] = 0x04; /* the first bit after the unsafe mark */
        CHECK(agah_keyfile_decode(f, sizeof f, NULL, 0, &got, NULL) == AGAH_EVERSION);
        f[8] = 0x02; /* "unsafe without a passphrase" on a file that has one */
        CHECK(agah_keyfile_decode(f, sizeof f, NULL, 0, &got, NULL) == AGAH_EVALUE);
        f[8] = 1;
        f[7] = '2'; /* "AGAHKEY2" */
        CHECK(agah_keyfile_decode(f, sizeof f, NULL, 0, &got, NULL) == AGAH_EVERSION);
        CHECK(got == NULL);
    }
}

/* What agah wrote before issue 23: a file at this setting keeps opening. */
static const struct agah_keyfile_params interactive = {
    crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE, crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE, 0};

static uint64_t get_u64(const uint8_t *b)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | b[i];
    return v;
}

/* New files get the moderate setting (opslimit 3, 256 MiB), written in the
 * header, and open with it: the reader's ceiling admits what we write. */
static void test_moderate(const struct agah_identity *id)
{
    static const char pass[] = "olive canyon tulip margin";
    char p[256];
    struct agah_identity *got = NULL;
    uint8_t *file = NULL;
    size_t len = 0;

    path_of("moderate.key", p);
    CHECK(agah_keyfile_write(p, id, pass, strlen(pass)) == 0); /* hash 1 */
    CHECK(agah_file_read(p, AGAH_KEYFILE_SIZE, &file, &len) == 0 && len == AGAH_KEYFILE_SIZE);
    if (file != NULL) {
        CHECK(file[8] == 0);
        CHECK(get_u64(file + 9) == crypto_pwhash_argon2id_OPSLIMIT_MODERATE);
        CHECK(get_u64(file + 17) == crypto_pwhash_argon2id_MEMLIMIT_MODERATE);
        CHECK(get_u64(file + 17) == (uint64_t)256 << 20);
    }
    free(file);
    CHECK(agah_keyfile_read(p, pass, strlen(pass), &got, NULL) == 0); /* hash 2 */
    CHECK(got != NULL && memcmp(agah_identity_pk(got), agah_identity_pk(id), 32) == 0);
    agah_identity_free(got);
    CHECK(unlink(p) == 0);
}

/* The writer refuses limits a reader would refuse, without hashing. */
static void test_write_limits(const struct agah_identity *id)
{
    static const struct agah_keyfile_params bad[] = {
        {3, ((uint64_t)256 << 20) + 1, 0}, /* over the 256 MiB ceiling */
        {17, (uint64_t)64 << 20, 0},        /* over the opslimit ceiling */
        {0, (uint64_t)64 << 20, 0},
        {3, 1024, 0},
    };
    char p[256];

    path_of("limits.key", p);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(agah_keyfile_write_params(p, id, "olive canyon", 12, &bad[i]) == AGAH_EINVAL);
    CHECK(access(p, F_OK) != 0);
}

/* `init --no-passphrase` alone makes a relay's key (peek: 1); with
 * --unsafe-no-passphrase the mark is kept in the flags (peek: 2). Both open
 * without a passphrase, and the mark is covered by the AEAD like any
 * header byte. */
static void test_unsafe_mark(const struct agah_identity *id)
{
    static const struct agah_keyfile_params unsafe = {0, 0, 1};
    char p[256];
    struct agah_identity *got = NULL;
    uint8_t pk[AGAH_PK_LEN], *file = NULL;
    size_t len = 0;
    int nopass = -1;

    path_of("unsafe.key", p);
    CHECK(agah_keyfile_write_params(p, id, NULL, 0, &unsafe) == 0);
    CHECK(agah_keyfile_peek(p, pk, &nopass, NULL) == 0 && nopass == AGAH_KEYFILE_NOPASS_UNSAFE);
    CHECK(agah_keyfile_read(p, NULL, 0, &got, NULL) == 0 && got != NULL);
    agah_identity_free(got);
    got = NULL;
    CHECK(agah_file_read(p, AGAH_KEYFILE_SIZE, &file, &len) == 0 && len == AGAH_KEYFILE_SIZE);
    if (file != NULL) {
        CHECK(file[8] == 0x03);
        file[8] = 0x01; /* the mark dropped by hand */
        CHECK(agah_keyfile_decode(file, len, NULL, 0, &got, NULL) == AGAH_ECRYPTO);
        CHECK(got == NULL);
    }
    free(file);
    /* The mark means nothing on a file with a passphrase: not written. */
    CHECK(agah_keyfile_write_params(p, id, "olive canyon tulip", 18, &(struct agah_keyfile_params){
        crypto_pwhash_argon2id_OPSLIMIT_MIN, crypto_pwhash_argon2id_MEMLIMIT_MIN, 1}) == 0);
    CHECK(agah_keyfile_peek(p, pk, &nopass, NULL) == 0 && nopass == AGAH_KEYFILE_PROTECTED);
    CHECK(unlink(p) == 0);
}

static void test_passphrase(const struct agah_identity *id)
{
    static const char pass[] = "correct horse battery staple";
    static const size_t corrupt_at[] = {30, 50, 70, 120}; /* salt, nonce, pk, ciphertext */
    char p[256];
    struct agah_identity *got = NULL;
    struct agah_why why = {{0}};
    uint8_t pk[AGAH_PK_LEN], *file = NULL;
    size_t len = 0;
    int nopass = -1, ok = 1;
    struct stat st;

    path_of("identity", p);
    CHECK(agah_keyfile_write(p, id, "", 0) == AGAH_EINVAL); /* empty: use NULL */
    CHECK(agah_keyfile_write_params(p, id, pass, strlen(pass), &interactive) == 0);
    CHECK(stat(p, &st) == 0 && (st.st_mode & 07777) == 0600);
    CHECK(agah_keyfile_peek(p, pk, &nopass, NULL) == 0);
    CHECK(nopass == 0 && memcmp(pk, agah_identity_pk(id), 32) == 0);

    CHECK(agah_keyfile_read(p, pass, strlen(pass), &got, &why) == 0); /* hash 1 */
    CHECK(got != NULL && memcmp(agah_identity_pk(got), agah_identity_pk(id), 32) == 0);
    if (got != NULL) {
        /* Same seed, same signatures. */
        uint8_t s1[AGAH_SIG_LEN], s2[AGAH_SIG_LEN];
        agah_identity_sign(id, (const uint8_t *)"m", 1, s1);
        agah_identity_sign(got, (const uint8_t *)"m", 1, s2);
        CHECK(memcmp(s1, s2, sizeof s1) == 0);
    }
    agah_identity_free(got);
    got = NULL;

    memset(&why, 0, sizeof why);
    CHECK(agah_keyfile_read(p, "correct horse battery stapLe", strlen(pass), &got, &why) ==
          AGAH_EPASS); /* hash 2 */
    CHECK(got == NULL && strcmp(why.msg, "wrong passphrase") == 0);

    memset(&why, 0, sizeof why);
    CHECK(agah_keyfile_read(p, NULL, 0, &got, &why) == AGAH_EPASS); /* no hash */
    CHECK(got == NULL && strcmp(why.msg, "this identity needs a passphrase") == 0);

    /* A few corruptions with the right passphrase: hashes 3-6. */
    CHECK(agah_file_read(p, AGAH_KEYFILE_SIZE, &file, &len) == 0 && len == AGAH_KEYFILE_SIZE);
    for (size_t i = 0; file != NULL && i < sizeof corrupt_at / sizeof corrupt_at[0]; i++) {
        file[corrupt_at[i]] ^= 0x01;
        if (agah_keyfile_decode(file, len, pass, strlen(pass), &got, NULL) == 0 || got != NULL)
            ok = 0;
        agah_identity_free(got);
        got = NULL;
        file[corrupt_at[i]] ^= 0x01;
    }
    CHECK(ok);
    if (file != NULL) {
        /* Setting the no-passphrase flag on a protected file opens nothing:
         * the limits give it away before any key is tried. */
        file[8] ^= 0x01;
        CHECK(agah_keyfile_decode(file, len, pass, strlen(pass), &got, NULL) == AGAH_EVALUE);
        file[8] ^= 0x01;
    }
    free(file);
    CHECK(unlink(p) == 0);
}

int main(void)
{
    struct agah_identity *a = NULL, *b = NULL;
    uint8_t seed[AGAH_SEED_LEN];

    CHECK(agah_init() == 0);
    snprintf(dir, sizeof dir, "/tmp/agah-test-keyfile-XXXXXX");
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    memset(seed, 7, sizeof seed);
    CHECK(agah_identity_from_seed(seed, &a) == 0);
    CHECK(agah_identity_generate(&b) == 0);
    if (a != NULL && b != NULL) {
        test_fileio();
        test_derive(a, b);
        test_nopass(a);
        test_nopass_corruption(b);
        test_limits();
        test_passphrase(b);
        test_moderate(a);
        test_write_limits(a);
        test_unsafe_mark(b);
    }
    agah_identity_free(a);
    agah_identity_free(b);
    CHECK(rmdir(dir) == 0);
    printf("test_keyfile: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}

/* Unit tests for the store key file (proto/storekey.c): a round trip, one
 * size whatever the name, no name in its bytes, refusal of another
 * identity, of any altered byte and of a truncated file, and the move of
 * an older agah's plaintext DIR/name into it. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>
#include <agah/agah.h>

#include "check.h"

static char dir[64];
static struct agah_identity *me, *stranger;

static void path_of(const char *name, char out[256])
{
    (void)snprintf(out, 256, "%s/%s", dir, name);
}

static size_t file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (size_t)sb.st_size : 0;
}

static int file_has(const char *path, const char *needle)
{
    uint8_t *buf = NULL;
    size_t len = 0, nl = strlen(needle);
    int found = 0;
    if (agah_file_read(path, 1 << 20, &buf, &len) != 0)
        return 0;
    for (size_t i = 0; i + nl <= len && !found; i++)
        found = memcmp(buf + i, needle, nl) == 0;
    free(buf);
    return found;
}

static void test_round_trip(void)
{
    char p[256];
    struct agah_storekey *k = agah_storekey_new(), *back = NULL;
    struct agah_why why = {{0}};
    struct stat sb;

    path_of("store.key", p);
    CHECK(k != NULL);
    randombytes_buf(k->key, sizeof k->key);
    strcpy(k->name, "Aynur Ayşe");
    CHECK(agah_storekey_write(p, me, k) == 0);
    CHECK(file_size(p) == AGAH_STOREKEY_FILE_SIZE);
    CHECK(stat(p, &sb) == 0 && (sb.st_mode & 0777) == 0600);
    CHECK(!file_has(p, "Aynur"));
    CHECK(agah_storekey_read(p, me, &back, &why) == 0);
    CHECK(back != NULL && sodium_memcmp(back->key, k->key, 32) == 0 &&
          strcmp(back->name, "Aynur Ayşe") == 0);
    agah_storekey_free(back);
    back = NULL;
    /* Another identity cannot open it. */
    CHECK(agah_storekey_read(p, stranger, &back, &why) == AGAH_ECRYPTO && back == NULL);
    /* No name and the longest name give the same size. */
    k->name[0] = '\0';
    CHECK(agah_storekey_write(p, me, k) == 0 && file_size(p) == AGAH_STOREKEY_FILE_SIZE);
    memset(k->name, 'a', AGAH_NAME_MAX);
    k->name[AGAH_NAME_MAX] = '\0';
    CHECK(agah_storekey_write(p, me, k) == 0 && file_size(p) == AGAH_STOREKEY_FILE_SIZE);
    CHECK(agah_storekey_read(p, me, &back, &why) == 0 && strlen(back->name) == AGAH_NAME_MAX);
    agah_storekey_free(back);
    /* A control character is not a name. */
    strcpy(k->name, "a\nb");
    CHECK(agah_storekey_write(p, me, k) == AGAH_EINVAL);
    agah_storekey_free(k);
}

static void test_damage(void)
{
    char p[256];
    struct agah_storekey *k = agah_storekey_new(), *back = NULL;
    struct agah_why why = {{0}};
    uint8_t *buf = NULL;
    size_t len = 0;
    int refused = 0;

    path_of("store.key", p);
    randombytes_buf(k->key, sizeof k->key);
    CHECK(agah_storekey_write(p, me, k) == 0);
    CHECK(agah_file_read(p, 4096, &buf, &len) == 0 && len == AGAH_STOREKEY_FILE_SIZE);
    for (size_t i = 0; i < len; i++) {
        buf[i] ^= 0x01;
        CHECK(agah_file_write_atomic(p, buf, len, 0600) == 0);
        refused += agah_storekey_read(p, me, &back, &why) != 0 && back == NULL;
        buf[i] ^= 0x01;
    }
    CHECK(refused == (int)len);
    CHECK(agah_file_write_atomic(p, buf, len - 1, 0600) == 0);
    CHECK(agah_storekey_read(p, me, &back, &why) == AGAH_ETRUNC);
    CHECK(agah_file_write_atomic(p, buf, len, 0600) == 0);
    CHECK(agah_storekey_read(p, me, &back, &why) == 0);
    agah_storekey_free(back);
    path_of("none", p);
    CHECK(agah_storekey_read(p, me, &back, &why) == AGAH_ENOENT);
    free(buf);
    agah_storekey_free(k);
}

/* A data directory of an older agah: DIR/name in clear, no store.key. The
 * first open makes a key, moves the name in and removes DIR/name; the
 * second open gives the same key. */
static void test_open_migrates_name(void)
{
    char np[256], kp[256];
    struct agah_storekey *a = NULL, *b = NULL;
    struct agah_why why = {{0}};

    path_of("name", np);
    path_of("store.key", kp);
    (void)unlink(kp);
    CHECK(agah_file_write_atomic(np, (const uint8_t *)"Mehmet", 6, 0600) == 0);
    CHECK(agah_storekey_open(dir, me, &a, &why) == 0);
    CHECK(a != NULL && strcmp(a->name, "Mehmet") == 0);
    CHECK(access(np, F_OK) != 0);
    CHECK(file_size(kp) == AGAH_STOREKEY_FILE_SIZE && !file_has(kp, "Mehmet"));
    CHECK(agah_storekey_open(dir, me, &b, &why) == 0);
    CHECK(a != NULL && b != NULL && sodium_memcmp(a->key, b->key, 32) == 0 &&
          strcmp(b->name, "Mehmet") == 0);
    agah_storekey_free(b);
    b = NULL;
    /* Another identity's data directory is refused, not replaced. */
    CHECK(agah_storekey_open(dir, stranger, &b, &why) == AGAH_ECRYPTO && b == NULL);
    CHECK(agah_storekey_open(dir, me, &b, &why) == 0 && sodium_memcmp(a->key, b->key, 32) == 0);
    agah_storekey_free(a);
    agah_storekey_free(b);
}

int main(void)
{
    char p[256];
    if (agah_init() != 0)
        return 2;
    (void)snprintf(dir, sizeof dir, "/tmp/agah-test-storekey-XXXXXX");
    if (mkdtemp(dir) == NULL || agah_identity_generate(&me) != 0 ||
        agah_identity_generate(&stranger) != 0)
        return 2;
    test_round_trip();
    test_damage();
    test_open_migrates_name();
    path_of("store.key", p);
    (void)unlink(p);
    path_of("name", p);
    (void)unlink(p);
    (void)rmdir(dir);
    agah_identity_free(me);
    agah_identity_free(stranger);
    printf("test_storekey: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}

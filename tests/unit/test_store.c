/* Unit tests of daemon/store.c: schema and migrations, records, scans,
 * tombstones, peers, transactions. Each test in its own mkdtemp directory. */
#define _XOPEN_SOURCE 700 /* nftw */
#define _DEFAULT_SOURCE   /* mkdtemp */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include <agah/agah.h>
#include "store.h"

static int passed, failed;
#define CHECK(c)                                                                   \
    do {                                                                           \
        if (c) {                                                                   \
            passed++;                                                              \
        } else {                                                                   \
            failed++;                                                              \
            fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #c); \
        }                                                                          \
    } while (0)

static char base_dir[256];
static char db_path[512];

static int rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb; (void)flag; (void)ftw;
    return remove(path);
}

static struct store *open_store(void)
{
    struct store *s = NULL;
    struct agah_why why = {{0}};
    if (store_open(db_path, &s, &why) != 0) {
        fprintf(stderr, "store_open: %s\n", why.msg);
        exit(2);
    }
    return s;
}

/* A fake record row: the store does not decode bytes. */
static void mkrec(struct store_rec *r, uint8_t *bytes, int n, int type, uint64_t created,
                  uint64_t expires)
{
    memset(r, 0, sizeof *r);
    memset(bytes, n, 40);
    agah_hash(bytes, 40, r->id);
    r->type = type;
    memset(r->author, n % 3, sizeof r->author);
    r->created = created;
    r->expires = expires;
    r->bytes = bytes;
    r->len = 40;
}

static int user_version(void)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int v = -1;
    if (sqlite3_open(db_path, &db) == SQLITE_OK &&
        sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static int exec_sql(const char *sql)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open(db_path, &db);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    sqlite3_close(db);
    return rc;
}

static void test_schema(void)
{
    struct store *s = open_store();
    store_close(s);
    CHECK(user_version() == 1);
    /* Reopening an up-to-date file migrates nothing and works. */
    s = open_store();
    store_close(s);
    CHECK(user_version() == 1);
    /* A file from a newer agah is refused, not damaged. */
    CHECK(exec_sql("PRAGMA user_version = 99") == SQLITE_OK);
    struct agah_why why = {{0}};
    CHECK(store_open(db_path, &s, &why) == AGAH_EVERSION);
    CHECK(strstr(why.msg, "newer") != NULL);
    CHECK(user_version() == 99);
}

struct seen {
    uint64_t created[16];
    int type[16];
    size_t n;
};

static int seen_cb(void *ctx, const struct store_rec *r)
{
    struct seen *s = ctx;
    if (s->n < 16) {
        s->created[s->n] = r->created;
        s->type[s->n] = r->type;
    }
    s->n++;
    return 0;
}

static int ids_cb(void *ctx, uint64_t created, const uint8_t id[32])
{
    struct seen *s = ctx;
    (void)id;
    if (s->n < 16)
        s->created[s->n] = created;
    s->n++;
    return 0;
}

static void test_records(void)
{
    struct store *s = open_store();
    struct store_rec r[4];
    uint8_t bytes[4][40], ref[32], lk[32];
    uint8_t *buf = NULL;
    size_t len = 0;
    uint64_t cnt = 0;
    struct seen sn = {0};

    memset(ref, 7, sizeof ref);
    memset(lk, 9, sizeof lk);
    mkrec(&r[0], bytes[0], 1, AGAH_REC_GENESIS, 300, 0);
    mkrec(&r[1], bytes[1], 2, AGAH_REC_ALERT, 100, 500);
    mkrec(&r[2], bytes[2], 3, AGAH_REC_CONFIRM, 200, 0);
    r[2].ref = ref;
    /* An expiry past 2^63 must never count as already expired. */
    mkrec(&r[3], bytes[3], 4, AGAH_REC_ALERT, 50, UINT64_MAX - 5);
    CHECK(store_begin(s) == 0 && store_in_txn(s));
    for (int i = 0; i < 4; i++)
        CHECK(store_put(s, &r[i]) == 1);
    CHECK(store_put(s, &r[1]) == 0);
    CHECK(store_commit(s) == 0 && !store_in_txn(s));
    CHECK(store_count(s, &cnt) == 0 && cnt == 4);
    CHECK(store_get(s, r[1].id, &buf, &len) == 0 && len == 40 && memcmp(buf, bytes[1], 40) == 0);
    free(buf);
    CHECK(store_set_lookup(s, r[1].id, lk) == 0);

    CHECK(store_scan_ids(s, ids_cb, &sn) == 0 && sn.n == 4);
    CHECK(sn.created[0] == 50 && sn.created[1] == 100 && sn.created[2] == 200 &&
          sn.created[3] == 300);
    memset(&sn, 0, sizeof sn);
    CHECK(store_scan(s, AGAH_REC_ALERT, AGAH_REC_RETRACT, seen_cb, &sn) == 0 && sn.n == 3);
    memset(&sn, 0, sizeof sn);
    CHECK(store_scan_ref(s, ref, seen_cb, &sn) == 0 && sn.n == 1 &&
          sn.type[0] == AGAH_REC_CONFIRM);
    memset(&sn, 0, sizeof sn);
    CHECK(store_scan_author(s, r[1].author, seen_cb, &sn) == 0 && sn.n == 1);
    memset(&sn, 0, sizeof sn);
    CHECK(store_scan_expired(s, 1000, seen_cb, &sn) == 0 && sn.n == 1 && sn.created[0] == 100);

    /* Rolled back means gone. */
    CHECK(store_begin(s) == 0 && store_delete(s, r[0].id) == 1 && store_rollback(s) == 0);
    CHECK(store_get(s, r[0].id, &buf, &len) == 0);
    free(buf);
    CHECK(store_delete(s, r[0].id) == 1);
    CHECK(store_delete(s, r[0].id) == 0);
    CHECK(store_get(s, r[0].id, &buf, &len) == AGAH_ENOENT);
    store_close(s);

    /* Persisted. */
    s = open_store();
    CHECK(store_count(s, &cnt) == 0 && cnt == 3);
    store_close(s);
}

static int tomb_cb(void *ctx, const uint8_t id[32], uint64_t until)
{
    (void)id;
    (void)until;
    (*(int *)ctx)++;
    return 0;
}

static int gone_cb(void *ctx, const uint8_t id[32])
{
    (void)id;
    (*(int *)ctx)++;
    return 0;
}

static int peer_cb(void *ctx, const char *addr)
{
    int *n = ctx;
    if (*n == 0 && strcmp(addr, "10.0.0.1:7433") != 0)
        return AGAH_EINVAL;
    (*n)++;
    return 0;
}

static void test_tombstones_and_peers(void)
{
    struct store *s = open_store();
    uint8_t a[32], b[32];
    int n = 0;

    memset(a, 1, 32);
    memset(b, 2, 32);
    CHECK(store_tombstone_put(s, a, 100) == 0);
    CHECK(store_tombstone_put(s, b, 200) == 0);
    CHECK(store_tombstone_put(s, b, 300) == 0); /* replaced, not doubled */
    CHECK(store_tombstone_scan(s, tomb_cb, &n) == 0 && n == 2);
    n = 0;
    CHECK(store_tombstone_expire(s, 150, gone_cb, &n) == 0 && n == 1);
    n = 0;
    CHECK(store_tombstone_scan(s, tomb_cb, &n) == 0 && n == 1);

    CHECK(store_peer_put(s, "10.0.0.1:7433", 1) == 0);
    CHECK(store_peer_put(s, "10.0.0.2:7433", 2) == 0);
    CHECK(store_peer_put(s, "10.0.0.1:7433", 3) == 0);
    CHECK(store_peer_put(s, "", 3) == AGAH_EINVAL);
    n = 0;
    CHECK(store_peer_scan(s, peer_cb, &n) == 0 && n == 2);
    store_close(s);
}

/* A callback's error stops a scan and comes back out. */
static int stop_cb(void *ctx, const struct store_rec *r)
{
    (void)ctx;
    (void)r;
    return AGAH_EINTERNAL;
}

static void test_scan_stops(void)
{
    struct store *s = open_store();
    struct store_rec r;
    uint8_t bytes[40];
    mkrec(&r, bytes, 5, AGAH_REC_ALERT, 1, 0);
    CHECK(store_put(s, &r) == 1);
    CHECK(store_scan(s, 1, 7, stop_cb, NULL) == AGAH_EINTERNAL);
    /* The statement was reset: scanning again works. */
    struct seen sn = {0};
    CHECK(store_scan(s, 1, 7, seen_cb, &sn) == 0 && sn.n == 1);
    store_close(s);
}

int main(void)
{
    struct {
        const char *name;
        void (*fn)(void);
    } tests[] = {
        {"schema", test_schema},
        {"records", test_records},
        {"tombstones_and_peers", test_tombstones_and_peers},
        {"scan_stops", test_scan_stops},
    };
    if (agah_init() != 0)
        return 2;
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        int before = failed;
        (void)snprintf(base_dir, sizeof base_dir, "/tmp/agah-test-store-XXXXXX");
        if (mkdtemp(base_dir) == NULL) {
            perror("mkdtemp");
            return 2;
        }
        (void)snprintf(db_path, sizeof db_path, "%s/store.db", base_dir);
        tests[i].fn();
        if (failed == before)
            (void)nftw(base_dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
        else
            fprintf(stderr, "test_store: %s failed; files kept in %s\n", tests[i].name, base_dir);
    }
    printf("test_store: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}

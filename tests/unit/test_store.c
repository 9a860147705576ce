/* Unit tests of daemon/node/store.c: schema and migrations (an older agah's
 * plaintext store sealed, its lookup column and peers table gone from every
 * byte of the files), records sealed under the store key, scans,
 * tombstones, transactions. Each test in its own mkdtemp directory. */
#define _XOPEN_SOURCE 700 /* nftw */
#define _DEFAULT_SOURCE   /* mkdtemp */
#include <ftw.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include <agah/agah.h>
#include "store.h"

#include "check.h"

static char base_dir[256];
static char db_path[512];
static const uint8_t test_key[STORE_KEY_LEN] = {0x5a, 0x5a, 0x01, 0x02};

static int rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb; (void)flag; (void)ftw;
    return remove(path);
}

static struct store *open_store(void)
{
    struct store *s = NULL;
    struct agah_why why = {{0}};
    if (store_open(db_path, test_key, NULL, NULL, &s, &why) != 0) {
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

/* SQLITE_OK when the query's single value is 1 (abs() of the smallest
 * integer is an error otherwise). */
#define SQL_TRUE(cond) "SELECT CASE WHEN " cond " THEN 1 ELSE abs(-9223372036854775807 - 1) END "

static void test_schema(void)
{
    struct store *s = open_store();
    store_close(s);
    CHECK(user_version() == 4);
    /* Reopening an up-to-date file migrates nothing and works. */
    s = open_store();
    store_close(s);
    CHECK(user_version() == 4);
    /* No lookup column, no peers table, from the first open on. */
    CHECK(exec_sql(SQL_TRUE("count(*) = 0") "FROM pragma_table_info('records') "
                                            "WHERE name = 'lookup'") == SQLITE_OK);
    CHECK(exec_sql(SQL_TRUE("count(*) = 0") "FROM sqlite_master WHERE name = 'peers'") ==
          SQLITE_OK);
    CHECK(exec_sql(SQL_TRUE("count(*) = 1") "FROM sqlite_master WHERE name = 'records_ref'") ==
          SQLITE_OK);
    /* A file from a newer agah is refused, not damaged. */
    CHECK(exec_sql("PRAGMA user_version = 99") == SQLITE_OK);
    struct agah_why why = {{0}};
    CHECK(store_open(db_path, test_key, NULL, NULL, &s, &why) == AGAH_EVERSION);
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
    uint8_t bytes[4][40], ref[32];
    uint8_t *buf = NULL;
    size_t len = 0;
    uint64_t cnt = 0;
    struct seen sn = {0};

    memset(ref, 7, sizeof ref);
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
    CHECK(store_begin(s) == 0 && store_delete(s, r[0].id, NULL) == 1 && store_rollback(s) == 0);
    CHECK(store_get(s, r[0].id, &buf, &len) == 0);
    free(buf);
    CHECK(store_delete(s, r[0].id, NULL) == 1);
    CHECK(store_delete(s, r[0].id, NULL) == 0);
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

static void test_tombstones(void)
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

static mode_t mode_of(const char *suffix)
{
    char p[600];
    struct stat sb;
    (void)snprintf(p, sizeof p, "%s%s", db_path, suffix);
    return stat(p, &sb) == 0 ? (sb.st_mode & 07777) : (mode_t)-1;
}

/* The store, its WAL and its index are 0600 whatever the umask, and a
 * store an older agahd left 0644 is narrowed at open. */
static void test_modes(void)
{
    mode_t old = umask(022);
    struct store *s = open_store();
    struct store_rec r;
    uint8_t bytes[40];
    mkrec(&r, bytes, 1, AGAH_REC_ALERT, 1, 0);
    CHECK(store_put(s, &r) == 1);
    CHECK(mode_of("") == 0600);
    CHECK(mode_of("-wal") == 0600);
    CHECK(mode_of("-shm") == 0600);
    store_close(s);
    CHECK(chmod(db_path, 0644) == 0);
    s = open_store();
    CHECK(mode_of("") == 0600);
    store_close(s);
    umask(old);
}

struct rows {
    int64_t n, bad, last_rowid;
    uint64_t created_sum;
};

static int rows_cb(void *ctx, int64_t rowid, const struct store_rec *r)
{
    struct rows *w = ctx;
    w->n++;
    if (r == NULL)
        w->bad++;
    else
        w->created_sum += r->created;
    w->last_rowid = rowid;
    return 0;
}

/* The read-only open for `agahd --check`: refuses a missing file or one
 * without the schema, writes nothing, sees what a writer committed (also
 * while the writer still has the file open), and the integrity check passes
 * a sound file. */
static void test_readonly(void)
{
    struct agah_why why = {{0}};
    struct store *s = NULL, *ro = NULL;
    struct store_rec r;
    uint8_t bytes[3][40];
    struct rows w = {0};

    CHECK(store_open_readonly(db_path, test_key, &ro, &why) == AGAH_ENOENT);
    CHECK(strstr(why.msg, "no ") != NULL);
    CHECK(access(db_path, F_OK) != 0); /* not created */
    CHECK(exec_sql("CREATE TABLE t (x)") == SQLITE_OK);
    CHECK(store_open_readonly(db_path, test_key, &ro, &why) == AGAH_EIO);
    CHECK(strstr(why.msg, "schema") != NULL);
    CHECK(remove(db_path) == 0);

    s = open_store();
    for (int i = 0; i < 3; i++) {
        mkrec(&r, bytes[i], i + 1, AGAH_REC_ALERT, 10 + (uint64_t)i, 0);
        CHECK(store_put(s, &r) == 1);
    }
    CHECK(store_commit(s) == 0);
    CHECK(store_open_readonly(db_path, test_key, &ro, &why) == 0);
    CHECK(store_integrity(ro, &why) == 0);
    CHECK(store_check_rows(ro, rows_cb, &w) == 0);
    CHECK(w.n == 3 && w.bad == 0 && w.created_sum == 33 && w.last_rowid == 3);
    /* Read-only means read-only. */
    mkrec(&r, bytes[0], 9, AGAH_REC_ALERT, 1, 0);
    CHECK(store_put(ro, &r) == AGAH_EIO);
    store_close(ro);
    store_close(s);

    /* A row whose columns have the wrong sizes is reported, not skipped. */
    CHECK(exec_sql("UPDATE records SET author = x'00' WHERE rowid = 2") == SQLITE_OK);
    CHECK(store_open_readonly(db_path, test_key, &ro, &why) == 0);
    memset(&w, 0, sizeof w);
    CHECK(store_check_rows(ro, rows_cb, &w) == 0);
    CHECK(w.n == 3 && w.bad == 1);
    store_close(ro);

    CHECK(exec_sql("PRAGMA user_version = 99") == SQLITE_OK);
    CHECK(store_open_readonly(db_path, test_key, &ro, &why) == AGAH_EVERSION);
}

/* A damaged page is found by the integrity check: bytes of the
 * records_created index's root page are overwritten on disk, behind
 * SQLite's back, as a torn write or a bad sector would. */
static void test_integrity_damage(void)
{
    struct agah_why why = {{0}};
    struct store *s = open_store(), *ro = NULL;
    struct store_rec r;
    uint8_t bytes[4][40];

    for (int i = 0; i < 4; i++) {
        mkrec(&r, bytes[i], i + 1, AGAH_REC_ALERT, 10 + (uint64_t)i, 0);
        CHECK(store_put(s, &r) == 1);
    }
    CHECK(store_commit(s) == 0);
    store_close(s);
    /* Overwrite one page of an index with zeros, on disk, after a
     * checkpoint has moved everything into the main file. */
    {
        sqlite3 *db = NULL;
        sqlite3_stmt *st = NULL;
        int page = -1, psize = 4096;
        CHECK(sqlite3_open(db_path, &db) == SQLITE_OK);
        CHECK(sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL) ==
              SQLITE_OK);
        if (sqlite3_prepare_v2(db, "SELECT rootpage FROM sqlite_schema WHERE name = "
                                   "'records_created'", -1, &st, NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW)
            page = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
        if (sqlite3_prepare_v2(db, "PRAGMA page_size", -1, &st, NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW)
            psize = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
        sqlite3_close(db);
        CHECK(page > 1);
        int fd = open(db_path, O_WRONLY);
        uint8_t junk[64];
        memset(junk, 0xA5, sizeof junk);
        CHECK(fd >= 0 && pwrite(fd, junk, sizeof junk, (off_t)(page - 1) * psize + 8) ==
                             (ssize_t)sizeof junk);
        close(fd);
    }
    CHECK(store_open_readonly(db_path, test_key, &ro, &why) == 0);
    if (ro != NULL) {
        CHECK(store_integrity(ro, &why) == AGAH_EIO);
        CHECK(strstr(why.msg, "integrity_check") != NULL);
        store_close(ro);
    }
}

/* Whether `needle` occurs anywhere in the raw bytes of the store, its WAL
 * or its shared-memory file: what a thief with the disk reads. */
static int disk_has(const char *needle)
{
    static const char *const sfx[] = {"", "-wal", "-shm", "-journal"};
    size_t nl = strlen(needle);
    int found = 0;
    for (size_t i = 0; i < sizeof sfx / sizeof sfx[0] && !found; i++) {
        char p[600];
        FILE *f;
        uint8_t *buf;
        long len;
        (void)snprintf(p, sizeof p, "%s%s", db_path, sfx[i]);
        if ((f = fopen(p, "rb")) == NULL)
            continue;
        if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
            (buf = malloc((size_t)len)) != NULL) {
            if (fread(buf, 1, (size_t)len, f) == (size_t)len)
                for (long k = 0; k + (long)nl <= len && !found; k++)
                    found = memcmp(buf + k, needle, nl) == 0;
            free(buf);
        }
        fclose(f);
    }
    return found;
}

#define SECRET "Aynur +85251234567 phone seized at the border"

/* What goes in comes back out, but the disk (file and WAL, while the store
 * is open and after) never holds it; another key opens nothing, and a
 * sealed body moved to another row does not open there. */
static void test_sealed(void)
{
    static const uint8_t other_key[STORE_KEY_LEN] = {1};
    struct agah_why why = {{0}};
    struct store *s = open_store();
    struct store_rec r, r2;
    uint8_t bytes2[40], *buf = NULL;
    size_t len = 0;
    struct seen sn = {0};

    mkrec(&r, bytes2, 1, AGAH_REC_ADMISSION, 10, 0);
    r.bytes = (const uint8_t *)SECRET;
    r.len = strlen(SECRET);
    agah_hash(r.bytes, r.len, r.id);
    mkrec(&r2, bytes2, 2, AGAH_REC_ALERT, 11, 0);
    CHECK(store_put(s, &r) == 1 && store_put(s, &r2) == 1);
    CHECK(store_get(s, r.id, &buf, &len) == 0 && len == strlen(SECRET) &&
          memcmp(buf, SECRET, len) == 0);
    free(buf);
    CHECK(store_scan(s, AGAH_REC_GENESIS, AGAH_REC_RETRACT, seen_cb, &sn) == 0 && sn.n == 2);
    CHECK(!disk_has("Aynur") && !disk_has("+85251234567") && !disk_has("seized"));
    store_close(s);
    CHECK(!disk_has("Aynur") && !disk_has("+85251234567") && !disk_has("seized"));

    CHECK(store_open(db_path, other_key, NULL, NULL, &s, &why) == 0);
    CHECK(store_get(s, r.id, &buf, &len) == AGAH_ECRYPTO);
    CHECK(store_scan(s, AGAH_REC_GENESIS, AGAH_REC_RETRACT, seen_cb, &sn) == AGAH_ECRYPTO);
    store_close(s);

    /* Row 2's seal under row 1's id does not open: the id is bound in. */
    CHECK(exec_sql("UPDATE records SET bytes = (SELECT bytes FROM records WHERE rowid = 1) "
                   "WHERE rowid = 2") == SQLITE_OK);
    s = open_store();
    CHECK(store_get(s, r.id, &buf, &len) == 0);
    free(buf);
    CHECK(store_get(s, r2.id, &buf, &len) == AGAH_ECRYPTO);
    store_close(s);
}

/* The schema an agah before issue 23 made (versions 0 to 2), kept here as
 * the fixture of the migration. */
static const char old_schema[] =
    "PRAGMA journal_mode = WAL;"
    "CREATE TABLE records (id BLOB NOT NULL UNIQUE, type INTEGER NOT NULL,"
    "  author BLOB NOT NULL, created INTEGER NOT NULL, expires INTEGER NOT NULL,"
    "  ref BLOB, epoch BLOB, lookup BLOB, bytes BLOB NOT NULL);"
    "CREATE INDEX records_author ON records(author);"
    "CREATE INDEX records_created ON records(created, id);"
    "CREATE INDEX records_ref ON records(ref);"
    "CREATE TABLE tombstones (id BLOB PRIMARY KEY NOT NULL, until INTEGER NOT NULL)"
    "  WITHOUT ROWID;"
    "CREATE TABLE peers (addr TEXT PRIMARY KEY NOT NULL, added INTEGER NOT NULL);"
    "PRAGMA user_version = 2;";

struct peers_seen {
    int n;
    char first[64];
};

static void legacy_cb(void *ctx, const char *addr)
{
    struct peers_seen *p = ctx;
    if (p->n++ == 0)
        (void)snprintf(p->first, sizeof p->first, "%s", addr);
}

/* An older agah's store, with plaintext record bytes, a lookup hash, a
 * peer address and a deleted row left in a free page, is opened: every
 * row comes back sealed, the peer goes to the caller, and afterwards no
 * byte of the file, its WAL or its index holds any of the old data. */
static void test_migrate_v2(void)
{
    struct agah_why why = {{0}};
    struct store *s = NULL;
    struct peers_seen ps = {0};
    uint8_t id[32], *buf = NULL;
    size_t len = 0;
    char sql[1024], hex[65];
    const char *old = "Mehmet +85251234567 note";
    struct rows w = {0};

    agah_hash((const uint8_t *)old, strlen(old), id);
    for (int i = 0; i < 32; i++)
        (void)snprintf(hex + 2 * i, 3, "%02x", id[i]);
    (void)snprintf(sql, sizeof sql,
                   "%s INSERT INTO records VALUES (x'%s', 5, zeroblob(32), 7, 0, NULL, "
                   "zeroblob(32), 'LOOKUPHASH-abcdefghijklmnopqrstu', '%s');"
                   "INSERT INTO records VALUES (zeroblob(32), 3, zeroblob(32), 8, 0, NULL, "
                   "NULL, NULL, 'Gulnar the deleted');"
                   "DELETE FROM records WHERE type = 3;"
                   "INSERT INTO peers VALUES ('10.9.8.7:7433', 1);",
                   old_schema, hex, old);
    CHECK(exec_sql(sql) == SQLITE_OK);
    CHECK(disk_has("Mehmet") && disk_has("10.9.8.7:7433")); /* the fixture is what it says */

    CHECK(store_open(db_path, test_key, legacy_cb, &ps, &s, &why) == 0);
    CHECK(ps.n == 1 && strcmp(ps.first, "10.9.8.7:7433") == 0);
    CHECK(user_version() == 4);
    CHECK(s != NULL && store_get(s, id, &buf, &len) == 0 && len == strlen(old) &&
          memcmp(buf, old, len) == 0);
    free(buf);
    /* Right after the migration, before close checkpoints anything. */
    CHECK(!disk_has("Mehmet") && !disk_has("+85251234567") && !disk_has("LOOKUPHASH") &&
          !disk_has("Gulnar") && !disk_has("10.9.8.7"));
    store_close(s);
    CHECK(!disk_has("Mehmet") && !disk_has("+85251234567") && !disk_has("LOOKUPHASH") &&
          !disk_has("Gulnar") && !disk_has("10.9.8.7"));
    CHECK(exec_sql(SQL_TRUE("count(*) = 0") "FROM pragma_table_info('records') "
                                            "WHERE name = 'lookup'") == SQLITE_OK);
    /* The check sees one sound row; opening again migrates nothing. */
    CHECK(store_open_readonly(db_path, test_key, &s, &why) == 0);
    CHECK(store_check_rows(s, rows_cb, &w) == 0 && w.n == 1 && w.bad == 0);
    store_close(s);
    ps.n = 0;
    CHECK(store_open(db_path, test_key, legacy_cb, &ps, &s, &why) == 0 && ps.n == 0);
    store_close(s);
}

/* After a deletion the WAL can be emptied, so no frame of the deleted row
 * stays; a reader holding a snapshot delays it without harm. */
static void test_wal_truncate(void)
{
    struct store *s = open_store();
    struct store_rec r;
    uint8_t bytes[40];
    sqlite3 *rd = NULL;

    mkrec(&r, bytes, 1, AGAH_REC_ALERT, 10, 20);
    CHECK(store_put(s, &r) == 1);
    CHECK(mode_of("-wal") == 0600);
    CHECK(store_begin(s) == 0 && store_delete(s, r.id, NULL) == 1);
    /* A reader in the middle of a read transaction. */
    CHECK(sqlite3_open(db_path, &rd) == SQLITE_OK &&
          sqlite3_exec(rd, "BEGIN; SELECT count(*) FROM records;", NULL, NULL, NULL) ==
              SQLITE_OK);
    CHECK(store_wal_truncate(s) == AGAH_EIO);
    CHECK(!store_in_txn(s)); /* the delete was committed first */
    CHECK(sqlite3_exec(rd, "COMMIT", NULL, NULL, NULL) == SQLITE_OK);
    (void)sqlite3_close(rd);
    CHECK(store_wal_truncate(s) == 0);
    {
        char p[600];
        struct stat sb;
        (void)snprintf(p, sizeof p, "%s-wal", db_path);
        CHECK(stat(p, &sb) == 0 && sb.st_size == 0);
    }
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
        {"tombstones", test_tombstones},
        {"sealed", test_sealed},
        {"migrate_v2", test_migrate_v2},
        {"wal_truncate", test_wal_truncate},
        {"scan_stops", test_scan_stops},
        {"modes", test_modes},
        {"readonly", test_readonly},
        {"integrity_damage", test_integrity_damage},
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

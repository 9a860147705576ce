/* The SQLite store behind node.c: one connection, every statement prepared
 * once at open and reused, the schema versioned with PRAGMA user_version and
 * migrated in code. WAL with synchronous=FULL makes a commit durable when it
 * returns (R1). Records are kept exactly as received, each sealed with
 * XChaCha20-Poly1305 under the node's store key, so a seized store.db
 * without DATA_DIR/store.key (itself sealed under the identity) gives away
 * no name, reason or peer; secure_delete zeroes what is deleted. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sqlite3.h>
#include <sodium.h>
#include "log.h"
#include "store.h"

/* How long a statement waits for a lock another process holds (an `agah`
 * offline command reading the file, say) before giving up. */
#define STORE_BUSY_MS 5000
/* Page cache, KiB. The store is mostly appends and point reads, and the
 * in-memory views are rebuilt from it once at start-up, so a small cache
 * costs little: pages read again come from the OS page cache, which the
 * kernel can reclaim, not from the daemon's own resident memory. 64 MiB
 * held 57.6 MB of a node's 107 MB after opening 100,000 alerts; 4 MiB ->
 * 1 MiB took 3 MB off a daemon holding 100,000 alerts for about 6% more
 * CPU when it takes in 100,000 records from a peer (docs/BENCHMARKS.md). */
#define STORE_CACHE_KIB "1024"

struct store;
static int store__mig_seal(struct store *s, store_peer_cb legacy_peer, void *ctx,
                           struct agah_why *why);

/* Schema migrations: entry i takes user_version i to i + 1. Append only.
 * An entry is SQL, or a function for what SQL alone cannot do. */
static const struct {
    const char *sql;
    int (*fn)(struct store *s, store_peer_cb legacy_peer, void *ctx, struct agah_why *why);
} store__migrations[] = {
    {
    /* A rowid table: rows are appended in arrival order and the random
     * 32-byte ids live in a small unique index, instead of scattering
     * whole records (hundreds of bytes each) across a WITHOUT ROWID tree
     * keyed by a hash, which made every insert touch a random page. */
    "CREATE TABLE records ("
    "  id BLOB NOT NULL UNIQUE,"
    "  type INTEGER NOT NULL,"
    "  author BLOB NOT NULL,"
    "  created INTEGER NOT NULL,"
    "  expires INTEGER NOT NULL,"
    "  ref BLOB,"
    "  epoch BLOB,"
    "  lookup BLOB,"
    "  bytes BLOB NOT NULL"
    ");"
    "CREATE INDEX records_author ON records(author);"
    "CREATE INDEX records_created ON records(created, id);"
    "CREATE INDEX records_lookup ON records(lookup);"
    "CREATE INDEX records_ref ON records(ref);"
    "CREATE TABLE tombstones (id BLOB PRIMARY KEY NOT NULL, until INTEGER NOT NULL)"
    "  WITHOUT ROWID;"
    "CREATE TABLE peers (addr TEXT PRIMARY KEY NOT NULL, added INTEGER NOT NULL);", NULL},
    /* Nothing ever looked a row up by its lookup hash (check answers from
     * memory), and the index cost every insert a random page: a third of
     * ingest's SQLite time at 100,000 records. */
    {"DROP INDEX IF EXISTS records_lookup;", NULL},
    /* Issue 23: every row sealed under the store key, no `lookup` column
     * (a hash of each target under a key every member and relay holds),
     * no plaintext `peers` table (the community file keeps them). */
    {NULL, store__mig_seal},
    /* Issue 24: per-author quotas look up an author's posts in (created,
     * id) order, the latest first when one must go. The index replaces
     * the one on author alone, which it covers. */
    {"DROP INDEX IF EXISTS records_author;"
     "CREATE INDEX records_author ON records(author, created, id);", NULL},
};
#define STORE_VERSION ((int)(sizeof store__migrations / sizeof store__migrations[0]))

enum {
    ST_BEGIN, ST_COMMIT, ST_ROLLBACK,
    ST_PUT, ST_DELETE, ST_GET, ST_COUNT,
    ST_SCAN, ST_SCAN_IDS, ST_SCAN_AUTHOR, ST_SCAN_REF, ST_SCAN_EPOCH, ST_SCAN_EXPIRED,
    ST_TOMB_PUT, ST_TOMB_SCAN, ST_TOMB_OLD, ST_TOMB_DEL,
    ST_POSTS, ST_POST_LAST,
    ST_N
};

#define STORE_COLS "id, type, author, created, expires, ref, epoch"
/* The current table: the clear columns queries need, and `bytes`, which
 * holds nonce(24) || XChaCha20-Poly1305(record) with the associated data
 * STORE_AD || id, so a sealed body cannot be moved to another row. */
#define STORE_TABLE(name)                                                                   \
    "CREATE TABLE " name " ("                                                               \
    "  id BLOB NOT NULL UNIQUE,"                                                            \
    "  type INTEGER NOT NULL,"                                                              \
    "  author BLOB NOT NULL,"                                                               \
    "  created INTEGER NOT NULL,"                                                           \
    "  expires INTEGER NOT NULL,"                                                           \
    "  ref BLOB,"                                                                           \
    "  epoch BLOB,"                                                                         \
    "  bytes BLOB NOT NULL"                                                                 \
    ");"
#define STORE_INDEXES                                                                       \
    "CREATE INDEX records_author ON records(author);"                                       \
    "CREATE INDEX records_created ON records(created, id);"                                 \
    "CREATE INDEX records_ref ON records(ref);"
#define STORE_AD "agah-store-v1 records"
#define STORE_AD_LEN (sizeof STORE_AD - 1)
#define STORE_NONCE crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define STORE_SEAL_OVERHEAD (STORE_NONCE + crypto_aead_xchacha20poly1305_ietf_ABYTES)
#define STORE_SEALED_MAX (AGAH_REC_MAX + STORE_SEAL_OVERHEAD)

static const char *const store__sql[ST_N] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_PUT] = "INSERT OR IGNORE INTO records (id, type, author, created, expires, ref, "
               "epoch, bytes) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [ST_DELETE] = "DELETE FROM records WHERE id = ?1 "
                  "RETURNING type, author, created, length(bytes)",
    [ST_GET] = "SELECT bytes FROM records WHERE id = ?1",
    [ST_COUNT] = "SELECT count(*) FROM records",
    [ST_SCAN] = "SELECT " STORE_COLS ", bytes FROM records "
                "WHERE type BETWEEN ?1 AND ?2 ORDER BY created, id",
    [ST_SCAN_IDS] = "SELECT created, id FROM records ORDER BY created, id",
    [ST_SCAN_AUTHOR] = "SELECT " STORE_COLS " FROM records WHERE author = ?1",
    [ST_SCAN_REF] = "SELECT " STORE_COLS " FROM records WHERE ref = ?1",
    [ST_SCAN_EPOCH] = "SELECT " STORE_COLS ", bytes FROM records "
                      "WHERE type = 5 AND epoch = ?1",
    /* expires is stored as a signed 64-bit integer: values past 2^63 read
     * back negative, so "> 0" keeps them out of "already expired". */
    [ST_SCAN_EXPIRED] = "SELECT " STORE_COLS " FROM records "
                        "WHERE type = 5 AND expires > 0 AND expires <= ?1",
    [ST_TOMB_PUT] = "INSERT OR REPLACE INTO tombstones (id, until) VALUES (?1, ?2)",
    [ST_TOMB_SCAN] = "SELECT id, until FROM tombstones",
    [ST_TOMB_OLD] = "SELECT id FROM tombstones WHERE until <= ?1",
    [ST_TOMB_DEL] = "DELETE FROM tombstones WHERE until <= ?1",
    /* Types 5..7: ALERT, CONFIRM, RETRACT (the posts quotas count). */
    [ST_POSTS] = "SELECT id, type, created, length(bytes) FROM records "
                 "WHERE author = ?1 AND type BETWEEN 5 AND 7 ORDER BY created, id",
    [ST_POST_LAST] = "SELECT id, type, created, length(bytes) FROM records "
                     "WHERE author = ?1 AND type BETWEEN 5 AND 7 AND created BETWEEN ?2 AND ?3 "
                     "AND length(bytes) BETWEEN ?4 AND ?5 "
                     "ORDER BY created DESC, id DESC LIMIT 1",
};

struct store {
    sqlite3 *db;
    sqlite3_stmt *st[ST_N];
    int in_txn;
    uint8_t *key;    /* the store key, guarded memory */
    uint8_t *sealed; /* STORE_SEALED_MAX bytes for store_put (ciphertext) */
};

/* Runs a statement that returns no rows, then resets it. A failure is
 * logged with SQLite's own words ("database or disk is full"), which the
 * AGAH_EIO handed up cannot carry. */
static int store__exec(struct store *s, int which)
{
    sqlite3_stmt *st = s->st[which];
    int rc = sqlite3_step(st);
    /* A full disk is told apart so the poster learns why (exit 5 with
     * "no space left on the device"), not just that I/O failed. */
    int r = rc == SQLITE_DONE ? 0 : (rc & 0xff) == SQLITE_FULL ? AGAH_ENOSPC : AGAH_EIO;
    if (r != 0)
        log_error("store: %.40s failed: %s", store__sql[which], sqlite3_errmsg(s->db));
    if (sqlite3_reset(st) != SQLITE_OK && r == 0)
        r = AGAH_EIO;
    if (sqlite3_clear_bindings(st) != SQLITE_OK && r == 0)
        r = AGAH_EIO;
    return r;
}

static void store__done(sqlite3_stmt *st)
{
    /* reset reports the last step's error again, which the caller has
     * already seen; the statement is reusable either way. */
    (void)sqlite3_reset(st);
    (void)sqlite3_clear_bindings(st);
}

static int store__bind_blob(sqlite3_stmt *st, int i, const uint8_t *p, size_t n)
{
    int rc;
    if (p == NULL)
        rc = sqlite3_bind_null(st, i);
    else
        rc = sqlite3_bind_blob(st, i, p, (int)n, SQLITE_STATIC);
    return rc == SQLITE_OK ? 0 : AGAH_EIO;
}

static int store__bind_u64(sqlite3_stmt *st, int i, uint64_t v)
{
    /* Bit-exact round trip through SQLite's signed integers. */
    return sqlite3_bind_int64(st, i, (sqlite3_int64)v) == SQLITE_OK ? 0 : AGAH_EIO;
}

/* Copies a fixed-size blob column, refusing anything of another size (a
 * damaged or foreign file). */
static int store__col_fixed(sqlite3_stmt *st, int i, uint8_t *out, size_t n)
{
    const void *p = sqlite3_column_blob(st, i);
    if (p == NULL || (size_t)sqlite3_column_bytes(st, i) != n)
        return AGAH_EIO;
    memcpy(out, p, n);
    return 0;
}

/* An optional fixed-size blob: NULL column gives *out = NULL. */
static int store__col_opt(sqlite3_stmt *st, int i, uint8_t *buf, size_t n, const uint8_t **out)
{
    if (sqlite3_column_type(st, i) == SQLITE_NULL) {
        *out = NULL;
        return 0;
    }
    if (store__col_fixed(st, i, buf, n) != 0)
        return AGAH_EIO;
    *out = buf;
    return 0;
}

/* Seals a record for the `bytes` column: nonce || ciphertext into `out`
 * (len + STORE_SEAL_OVERHEAD bytes), under a fresh random nonce. */
static int store__seal(const uint8_t *key, const uint8_t id[AGAH_HASH_LEN], const uint8_t *m,
                       size_t len, uint8_t *out)
{
    uint8_t ad[STORE_AD_LEN + AGAH_HASH_LEN];
    unsigned long long clen = 0;

    memcpy(ad, STORE_AD, STORE_AD_LEN);
    memcpy(ad + STORE_AD_LEN, id, AGAH_HASH_LEN);
    randombytes_buf(out, STORE_NONCE);
    if (crypto_aead_xchacha20poly1305_ietf_encrypt(out + STORE_NONCE, &clen, m, len, ad,
                                                   sizeof ad, NULL, out, key) != 0 ||
        clen != len + STORE_SEAL_OVERHEAD - STORE_NONCE)
        return AGAH_EINTERNAL;
    return 0;
}

/* Opens column `i` of the current row, sealed for record `id`, into `out`
 * (room for the column's length less STORE_SEAL_OVERHEAD; AGAH_REC_MAX is
 * always enough). AGAH_EIO for a column of impossible size, AGAH_ECRYPTO
 * when it does not open (another key, or altered). */
static int store__unseal(const struct store *s, sqlite3_stmt *st, int i,
                         const uint8_t id[AGAH_HASH_LEN], uint8_t *out, size_t *len)
{
    uint8_t ad[STORE_AD_LEN + AGAH_HASH_LEN];
    const uint8_t *c = sqlite3_column_blob(st, i);
    int n = sqlite3_column_bytes(st, i);
    unsigned long long mlen = 0;

    if (c == NULL || n <= (int)STORE_SEAL_OVERHEAD || n > (int)STORE_SEALED_MAX)
        return AGAH_EIO;
    memcpy(ad, STORE_AD, STORE_AD_LEN);
    memcpy(ad + STORE_AD_LEN, id, AGAH_HASH_LEN);
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(out, &mlen, NULL, c + STORE_NONCE,
                                                   (unsigned long long)n - STORE_NONCE, ad,
                                                   sizeof ad, c, s->key) != 0)
        return AGAH_ECRYPTO;
    *len = (size_t)mlen;
    return 0;
}

/* Guarded memory for one opened record, wiped and freed by store__plain_free. */
static uint8_t *store__plain_new(void)
{
    return sodium_malloc(AGAH_REC_MAX);
}

static void store__plain_free(uint8_t *p)
{
    if (p == NULL)
        return;
    sodium_memzero(p, AGAH_REC_MAX);
    sodium_free(p);
}

/* The columns of the current row (STORE_COLS first) into `rec`; with
 * `plain`, also column 7 opened into it. */
static int store__row(const struct store *s, sqlite3_stmt *st, uint8_t *plain,
                      uint8_t ref[AGAH_HASH_LEN], uint8_t epoch[AGAH_HASH_LEN],
                      struct store_rec *rec)
{
    int r;
    memset(rec, 0, sizeof *rec);
    if (store__col_fixed(st, 0, rec->id, AGAH_HASH_LEN) != 0 ||
        store__col_fixed(st, 2, rec->author, AGAH_PK_LEN) != 0 ||
        store__col_opt(st, 5, ref, AGAH_HASH_LEN, &rec->ref) != 0 ||
        store__col_opt(st, 6, epoch, AGAH_HASH_LEN, &rec->epoch) != 0)
        return AGAH_EIO;
    rec->type = sqlite3_column_int(st, 1);
    rec->created = (uint64_t)sqlite3_column_int64(st, 3);
    rec->expires = (uint64_t)sqlite3_column_int64(st, 4);
    if (plain == NULL)
        return 0;
    if ((r = store__unseal(s, st, 7, rec->id, plain, &rec->len)) != 0)
        return r;
    if (rec->len == 0 || rec->len > AGAH_REC_MAX)
        return AGAH_EIO;
    rec->bytes = plain;
    return 0;
}

/* Runs a record query whose rows start with STORE_COLS, optionally followed
 * by the sealed bytes, calling cb for each row with the bytes opened. */
static int store__run_rec(struct store *s, sqlite3_stmt *st, int with_bytes, store_rec_cb cb,
                          void *ctx)
{
    int r = 0, rc;
    uint8_t ref[AGAH_HASH_LEN], epoch[AGAH_HASH_LEN];
    uint8_t *plain = NULL;

    if (with_bytes && (plain = store__plain_new()) == NULL) {
        store__done(st);
        return AGAH_ENOMEM;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_rec rec;
        if ((r = store__row(s, st, plain, ref, epoch, &rec)) != 0)
            break;
        r = cb(ctx, &rec);
        if (plain != NULL)
            sodium_memzero(plain, rec.len);
        if (r != 0)
            break;
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = AGAH_EIO;
    store__plain_free(plain);
    store__done(st);
    return r;
}

/* Copies every row of the old `records` table, in arrival order, into
 * `records_sealed` with its bytes sealed under the store key. */
static int store__mig_copy(struct store *s, struct agah_why *why)
{
    sqlite3_stmt *rd = NULL, *wr = NULL;
    uint8_t *sealed = NULL;
    int r = AGAH_EIO, rc;

    if ((sealed = malloc(STORE_SEALED_MAX)) == NULL)
        return agah_fail(why, AGAH_ENOMEM, "store: out of memory");
    if (sqlite3_prepare_v2(s->db, "SELECT " STORE_COLS ", bytes FROM records ORDER BY rowid",
                           -1, &rd, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(s->db,
                           "INSERT INTO records_sealed (" STORE_COLS ", bytes) "
                           "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                           -1, &wr, NULL) != SQLITE_OK)
        goto out;
    while ((rc = sqlite3_step(rd)) == SQLITE_ROW) {
        const uint8_t *id = sqlite3_column_blob(rd, 0), *m = sqlite3_column_blob(rd, 7);
        int n = sqlite3_column_bytes(rd, 7);
        if (id == NULL || sqlite3_column_bytes(rd, 0) != AGAH_HASH_LEN || m == NULL || n <= 0 ||
            n > AGAH_REC_MAX) {
            r = agah_fail(why, AGAH_EIO, "store: a row of the old store is malformed; "
                                         "`agahd --check` with the older agah says more");
            goto out;
        }
        if ((r = store__seal(s->key, id, m, (size_t)n, sealed)) != 0)
            goto out;
        r = AGAH_EIO;
        for (int c = 0; c < 7; c++)
            if (sqlite3_bind_value(wr, c + 1, sqlite3_column_value(rd, c)) != SQLITE_OK)
                goto out;
        if (sqlite3_bind_blob(wr, 8, sealed, n + (int)STORE_SEAL_OVERHEAD, SQLITE_STATIC) !=
                SQLITE_OK ||
            sqlite3_step(wr) != SQLITE_DONE || sqlite3_reset(wr) != SQLITE_OK)
            goto out;
    }
    r = rc == SQLITE_DONE ? 0 : AGAH_EIO;
out:
    if (r == AGAH_EIO && why != NULL && why->msg[0] == '\0')
        r = agah_fail(why, AGAH_EIO, "store: cannot seal the old rows: %s", sqlite3_errmsg(s->db));
    (void)sqlite3_finalize(rd);
    (void)sqlite3_finalize(wr);
    free(sealed);
    return r;
}

/* Hands the old plaintext peers table's addresses to the caller. */
static int store__mig_peers(struct store *s, store_peer_cb legacy_peer, void *ctx)
{
    sqlite3_stmt *st = NULL;
    int rc;

    if (legacy_peer == NULL)
        return 0;
    if (sqlite3_prepare_v2(s->db, "SELECT addr FROM peers ORDER BY added, addr", -1, &st,
                           NULL) != SQLITE_OK)
        return AGAH_EIO;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const unsigned char *a = sqlite3_column_text(st, 0);
        int n = sqlite3_column_bytes(st, 0);
        char addr[AGAH_ADDR_MAX];
        /* Skip anything the old store_peer_put could not have written. */
        if (a == NULL || n <= 0 || n >= AGAH_ADDR_MAX)
            continue;
        memcpy(addr, a, (size_t)n);
        addr[n] = '\0';
        legacy_peer(ctx, addr);
    }
    (void)sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : AGAH_EIO;
}

/* Version 2 -> 3, inside the migration's transaction: seal every row, drop
 * the lookup column (by rebuilding the table) and the peers table. The old
 * pages are zeroed by secure_delete; store__migrate VACUUMs afterwards. */
static int store__mig_seal(struct store *s, store_peer_cb legacy_peer, void *ctx,
                           struct agah_why *why)
{
    char *err = NULL;
    int r;

    if (sqlite3_exec(s->db, STORE_TABLE("records_sealed"), NULL, NULL, &err) != SQLITE_OK) {
        r = agah_fail(why, AGAH_EIO, "store: cannot make the sealed table: %s", err);
        goto out;
    }
    if ((r = store__mig_copy(s, why)) != 0)
        goto out;
    if ((r = store__mig_peers(s, legacy_peer, ctx)) != 0) {
        r = agah_fail(why, r, "store: cannot read the old peers table: %s", sqlite3_errmsg(s->db));
        goto out;
    }
    if (sqlite3_exec(s->db,
                     "DROP TABLE records; DROP TABLE peers;"
                     "ALTER TABLE records_sealed RENAME TO records;" STORE_INDEXES,
                     NULL, NULL, &err) != SQLITE_OK) {
        r = agah_fail(why, AGAH_EIO, "store: cannot replace the old tables: %s", err);
        goto out;
    }
    r = 0;
out:
    sqlite3_free(err);
    return r;
}

/* One migration step and its version bump, in one transaction, so a crash
 * leaves the file at one version or the next. */
static int store__mig_step(struct store *s, int v, store_peer_cb legacy_peer, void *ctx,
                           struct agah_why *why)
{
    char sql[64], *err = NULL;
    int r = AGAH_EIO;

    (void)snprintf(sql, sizeof sql, "PRAGMA user_version = %d", v + 1);
    if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, &err) != SQLITE_OK)
        goto fail;
    if (store__migrations[v].sql != NULL &&
        sqlite3_exec(s->db, store__migrations[v].sql, NULL, NULL, &err) != SQLITE_OK)
        goto fail;
    if (store__migrations[v].fn != NULL &&
        (r = store__migrations[v].fn(s, legacy_peer, ctx, why)) != 0)
        goto rollback;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &err) != SQLITE_OK ||
        sqlite3_exec(s->db, "COMMIT", NULL, NULL, &err) != SQLITE_OK)
        goto fail;
    return 0;
fail:
    r = agah_fail(why, AGAH_EIO, "store: migration to version %d failed: %s", v + 1,
                  err != NULL ? err : sqlite3_errmsg(s->db));
rollback:
    sqlite3_free(err);
    if (sqlite3_get_autocommit(s->db) == 0)
        (void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return r;
}

static int store__migrate(struct store *s, store_peer_cb legacy_peer, void *ctx,
                          struct agah_why *why)
{
    sqlite3_stmt *st = NULL;
    int version, r;
    char *err = NULL;

    if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        r = agah_fail(why, AGAH_EIO, "store: cannot read its schema version: %s",
                      sqlite3_errmsg(s->db));
        (void)sqlite3_finalize(st);
        return r;
    }
    version = sqlite3_column_int(st, 0);
    /* No statement may be running while a migration drops anything. */
    (void)sqlite3_finalize(st);
    if (version > STORE_VERSION || version < 0)
        return agah_fail(why, AGAH_EVERSION,
                         "store: schema version %d is newer than this agahd knows (%d)",
                         version, STORE_VERSION);
    for (int v = version; v < STORE_VERSION; v++)
        if ((r = store__mig_step(s, v, legacy_peer, ctx, why)) != 0)
            return r;
    if (version == STORE_VERSION)
        return 0;
    /* secure_delete zeroed the old pages, but free pages stay in the file
     * and the WAL kept copies: rebuild the file and empty the WAL, so no
     * page of an older agah's plaintext survives. VACUUM's temporary copy
     * (a file in SQLite's temp directory, not memory: 70 MB at 100,000
     * alerts) holds the new, sealed pages only. */
    if (sqlite3_exec(s->db, "VACUUM", NULL, NULL, &err) != SQLITE_OK ||
        sqlite3_exec(s->db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, &err) != SQLITE_OK) {
        r = agah_fail(why, AGAH_EIO, "store: cannot rewrite the migrated file: %s",
                      err != NULL ? err : sqlite3_errmsg(s->db));
        sqlite3_free(err);
        return r;
    }
    return 0;
}

/* How store__own_file treats the file: a check changes nothing. */
enum store_own { STORE_OWN_CHECK, STORE_OWN_NARROW, STORE_OWN_CREATE };

/* Opens `path` without following a symbolic link and makes sure it is a
 * regular file of ours: SQLite opens by path, so a link planted as store.db
 * (or its -wal or -shm) would have it write our records into a file
 * someone else chose, and a chmod through it would change that file's
 * mode. STORE_OWN_NARROW also makes it 0600, STORE_OWN_CREATE creates it
 * first when absent. Returns 0, AGAH_ENOENT when it is absent and not
 * created, or an error with `why`. */
static int store__own_file(const char *path, enum store_own how, struct agah_why *why)
{
    struct stat sb;
    int create = how == STORE_OWN_CREATE;
    int fd = open(path, (how == STORE_OWN_CHECK ? O_RDONLY : O_RDWR) | O_NOFOLLOW | O_NOCTTY |
                            O_NONBLOCK | O_CLOEXEC | (create ? O_CREAT : 0),
                  0600);

    if (fd < 0 && errno == ENOENT && !create)
        return AGAH_ENOENT;
    if (fd < 0 && (errno == ELOOP || errno == ENXIO || errno == EISDIR))
        return agah_fail(why, AGAH_EPERM,
                         "store: refusing %s: it is a symbolic link or not a regular file; "
                         "only agahd's own file may be there",
                         path);
    if (fd < 0)
        return agah_fail(why, AGAH_EIO, "store: cannot open %s: %s", path, strerror(errno));
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_uid != geteuid()) {
        (void)close(fd);
        return agah_fail(why, AGAH_EPERM,
                         "store: refusing %s: it is not a regular file of yours", path);
    }
    if (how != STORE_OWN_CHECK && fchmod(fd, 0600) != 0) {
        int e = errno;
        (void)close(fd);
        return agah_fail(why, AGAH_EIO, "store: cannot chmod %s: %s", path, strerror(e));
    }
    (void)close(fd);
    return 0;
}

/* Makes the store, its WAL and its shared-memory index 0600 whatever the
 * umask, refusing any of them that is a link (store__own_file): SQLite
 * creates the file 0644 and gives the -wal and -shm files the mode of the
 * database, so the database is created (or narrowed) first. The data
 * directory is 0700 already; this keeps the README's "every file 0600"
 * true, also for stores an older agahd made 0644. */
static int store__mode_0600(const char *path, enum store_own how, struct agah_why *why)
{
    static const char *const sfx[] = {"-wal", "-shm"};
    char side[4096];
    int r = store__own_file(path, how, why);

    if (r != 0)
        return r == AGAH_ENOENT ? agah_fail(why, r, "store: there is no %s", path) : r;
    for (size_t i = 0; i < sizeof sfx / sizeof sfx[0]; i++) {
        if ((size_t)snprintf(side, sizeof side, "%s%s", path, sfx[i]) >= sizeof side)
            continue;
        if ((r = store__own_file(side, how == STORE_OWN_CHECK ? how : STORE_OWN_NARROW,
                                 why)) != 0 &&
            r != AGAH_ENOENT)
            return r;
    }
    return 0;
}

/* A zeroed store holding a copy of the key in guarded memory. */
static struct store *store__new(const uint8_t key[STORE_KEY_LEN])
{
    struct store *s = calloc(1, sizeof *s);
    if (s == NULL || sodium_init() < 0 || (s->key = sodium_malloc(STORE_KEY_LEN)) == NULL ||
        (s->sealed = malloc(STORE_SEALED_MAX)) == NULL) {
        store_close(s);
        return NULL;
    }
    memcpy(s->key, key, STORE_KEY_LEN);
    return s;
}

int store_open(const char *path, const uint8_t key[STORE_KEY_LEN], store_peer_cb legacy_peer,
               void *ctx, struct store **out, struct agah_why *why)
{
    struct store *s = NULL;
    char *err = NULL;
    int r = AGAH_EIO;

    if ((r = store__mode_0600(path, STORE_OWN_CREATE, why)) != 0)
        goto out;
    r = AGAH_EIO;
    if ((s = store__new(key)) == NULL) {
        r = agah_fail(why, AGAH_ENOMEM, "store: out of memory");
        goto out;
    }
    if (sqlite3_open_v2(path, &s->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX |
                            SQLITE_OPEN_NOFOLLOW,
                        NULL) != SQLITE_OK) {
        r = agah_fail(why, AGAH_EIO, "store: cannot open %s: %s", path,
                      s->db != NULL ? sqlite3_errmsg(s->db) : "out of memory");
        goto out;
    }
    if (sqlite3_busy_timeout(s->db, STORE_BUSY_MS) != SQLITE_OK ||
        sqlite3_exec(s->db, "PRAGMA journal_mode = WAL", NULL, NULL, &err) != SQLITE_OK ||
        sqlite3_exec(s->db, "PRAGMA synchronous = FULL", NULL, NULL, &err) != SQLITE_OK ||
        sqlite3_exec(s->db, "PRAGMA cache_size = -" STORE_CACHE_KIB, NULL, NULL, &err) !=
            SQLITE_OK ||
        sqlite3_exec(s->db, "PRAGMA foreign_keys = OFF", NULL, NULL, &err) != SQLITE_OK ||
        sqlite3_exec(s->db, "PRAGMA secure_delete = ON", NULL, NULL, &err) != SQLITE_OK) {
        r = agah_fail(why, AGAH_EIO, "store: cannot configure %s: %s", path,
                      err != NULL ? err : sqlite3_errmsg(s->db));
        goto out;
    }
    if ((r = store__migrate(s, legacy_peer, ctx, why)) != 0)
        goto out;
    for (int i = 0; i < ST_N; i++) {
        if (sqlite3_prepare_v3(s->db, store__sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->st[i],
                               NULL) != SQLITE_OK) {
            r = agah_fail(why, AGAH_EIO, "store: cannot prepare a statement: %s",
                          sqlite3_errmsg(s->db));
            goto out;
        }
    }
    *out = s;
    s = NULL;
    r = 0;
out:
    sqlite3_free(err);
    store_close(s);
    return r;
}

int store_open_readonly(const char *path, const uint8_t key[STORE_KEY_LEN], struct store **out,
                        struct agah_why *why)
{
    struct store *s = NULL;
    sqlite3_stmt *st = NULL;
    int r = AGAH_EIO, version;

    /* SQLite would say "unable to open database file"; say which, and
     * refuse a link before SQLite opens it by path. */
    if ((r = store__mode_0600(path, STORE_OWN_CHECK, why)) != 0)
        goto out;
    r = AGAH_EIO;
    if ((s = store__new(key)) == NULL) {
        r = AGAH_ENOMEM;
        goto out;
    }
    if (sqlite3_open_v2(path, &s->db,
                        SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW,
                        NULL) != SQLITE_OK ||
        sqlite3_busy_timeout(s->db, STORE_BUSY_MS) != SQLITE_OK) {
        r = agah_fail(why, AGAH_EIO, "store: cannot open %s: %s", path,
                      s->db != NULL ? sqlite3_errmsg(s->db) : "out of memory");
        goto out;
    }
    if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        r = agah_fail(why, AGAH_EIO, "store: %s is not a readable SQLite file: %s", path,
                      sqlite3_errmsg(s->db));
        goto out;
    }
    version = sqlite3_column_int(st, 0);
    if (version > STORE_VERSION) {
        r = agah_fail(why, AGAH_EVERSION,
                      "store: schema version %d is newer than this agahd knows (%d)", version,
                      STORE_VERSION);
        goto out;
    }
    if (version < 1) {
        r = agah_fail(why, AGAH_EIO, "store: %s has no agah schema (version %d)", path,
                      version);
        goto out;
    }
    /* Older versions are not migrated here: a check writes nothing. */
    if (version < STORE_VERSION) {
        r = agah_fail(why, AGAH_EIO,
                      "store: %s is of an older agah (schema version %d); start agahd once "
                      "to migrate it, then check",
                      path, version);
        goto out;
    }
    for (int i = 0; i < ST_N; i++) {
        if (sqlite3_prepare_v3(s->db, store__sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->st[i],
                               NULL) != SQLITE_OK) {
            r = agah_fail(why, AGAH_EIO, "store: %s does not have the expected schema: %s",
                          path, sqlite3_errmsg(s->db));
            goto out;
        }
    }
    *out = s;
    s = NULL;
    r = 0;
out:
    if (st != NULL)
        (void)sqlite3_finalize(st);
    store_close(s);
    return r;
}

int store_is_sealed(const char *path, int *sealed)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    struct stat sb;
    int r = AGAH_EIO;

    if (lstat(path, &sb) != 0)
        return errno == ENOENT ? AGAH_ENOENT : AGAH_EIO;
    if (!S_ISREG(sb.st_mode))
        return AGAH_EPERM;
    if (sqlite3_open_v2(path, &db,
                        SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW,
                        NULL) == SQLITE_OK &&
        sqlite3_busy_timeout(db, STORE_BUSY_MS) == SQLITE_OK &&
        sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        *sealed = sqlite3_column_int(st, 0) >= 3;
        r = 0;
    }
    (void)sqlite3_finalize(st);
    (void)sqlite3_close(db);
    return r;
}

int store_integrity(struct store *s, struct agah_why *why)
{
    sqlite3_stmt *st = NULL;
    int r = AGAH_EIO, rc, n = 0;
    char first[AGAH_WHY_MAX / 2] = "";

    /* At most 100 complaints: the first says where, the count how bad. */
    if (sqlite3_prepare_v2(s->db, "PRAGMA integrity_check(100)", -1, &st, NULL) != SQLITE_OK) {
        r = agah_fail(why, AGAH_EIO, "integrity_check cannot run: %s", sqlite3_errmsg(s->db));
        goto out;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(st, 0);
        if (t != NULL && strcmp((const char *)t, "ok") == 0)
            continue;
        if (n++ == 0)
            (void)snprintf(first, sizeof first, "%s", t != NULL ? (const char *)t : "?");
    }
    if (rc != SQLITE_DONE) {
        r = agah_fail(why, AGAH_EIO, "integrity_check stopped: %s", sqlite3_errmsg(s->db));
        goto out;
    }
    if (n > 0) {
        r = agah_fail(why, AGAH_EIO, "integrity_check: %d complaint(s), first: %s", n, first);
        goto out;
    }
    r = 0;
out:
    if (st != NULL)
        (void)sqlite3_finalize(st);
    return r;
}

int store_check_rows(struct store *s,
                     int (*cb)(void *ctx, int64_t rowid, const struct store_rec *r), void *ctx)
{
    sqlite3_stmt *st = NULL;
    int r = AGAH_EIO, rc;
    uint8_t ref[AGAH_HASH_LEN], epoch[AGAH_HASH_LEN];
    uint8_t *plain = NULL;

    if ((plain = store__plain_new()) == NULL)
        return AGAH_ENOMEM;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT " STORE_COLS ", bytes, rowid FROM records ORDER BY rowid",
                           -1, &st, NULL) != SQLITE_OK)
        goto out;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_rec rec;
        const struct store_rec *p = &rec;
        int64_t rowid = sqlite3_column_int64(st, 8);

        /* A malformed or unopenable row is reported, not fatal: the check
         * goes on to count the others. */
        if (sqlite3_column_type(st, 1) != SQLITE_INTEGER ||
            sqlite3_column_type(st, 3) != SQLITE_INTEGER ||
            sqlite3_column_type(st, 4) != SQLITE_INTEGER)
            p = NULL;
        else if ((r = store__row(s, st, plain, ref, epoch, &rec)) == AGAH_ECRYPTO) {
            /* Sound columns, a seal that does not open. */
            rec.bytes = NULL;
            rec.len = 0;
        } else if (r != 0) {
            p = NULL;
        }
        r = cb(ctx, rowid, p);
        sodium_memzero(plain, AGAH_REC_MAX);
        if (r != 0)
            goto out;
    }
    r = rc == SQLITE_DONE ? 0 : AGAH_EIO;
out:
    if (st != NULL)
        (void)sqlite3_finalize(st);
    store__plain_free(plain);
    return r;
}

void store_close(struct store *s)
{
    if (s == NULL)
        return;
    if (s->in_txn)
        (void)store_commit(s);
    for (int i = 0; i < ST_N; i++)
        if (s->st[i] != NULL)
            (void)sqlite3_finalize(s->st[i]);
    /* Every statement is finalized, so close cannot report SQLITE_BUSY. */
    (void)sqlite3_close(s->db);
    if (s->key != NULL)
        sodium_free(s->key); /* wipes */
    free(s->sealed);
    free(s);
}

int store_wal_truncate(struct store *s)
{
    sqlite3_stmt *st = NULL;
    int r = AGAH_EIO;

    if ((r = store_commit(s)) != 0)
        return r;
    r = AGAH_EIO;
    /* One row: busy (1 when a reader kept it from finishing), log, done. */
    if (sqlite3_prepare_v2(s->db, "PRAGMA wal_checkpoint(TRUNCATE)", -1, &st, NULL) ==
            SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 0)
        r = 0;
    (void)sqlite3_finalize(st);
    return r;
}

int store_begin(struct store *s)
{
    if (s->in_txn)
        return 0;
    int r = store__exec(s, ST_BEGIN);
    if (r != 0)
        return r;
    s->in_txn = 1;
    return 0;
}

int store_commit(struct store *s)
{
    int r;
    if (!s->in_txn)
        return 0;
    r = store__exec(s, ST_COMMIT);
    /* A failed COMMIT may leave the transaction open (SQLITE_BUSY) or
     * rolled back (I/O errors); either way ask SQLite, not our flag. */
    s->in_txn = sqlite3_get_autocommit(s->db) == 0;
    if (r != 0 && s->in_txn && store__exec(s, ST_ROLLBACK) == 0)
        s->in_txn = 0;
    return r;
}

int store_rollback(struct store *s)
{
    int r;
    if (!s->in_txn)
        return 0;
    r = store__exec(s, ST_ROLLBACK);
    s->in_txn = sqlite3_get_autocommit(s->db) == 0;
    return r;
}

int store_in_txn(const struct store *s)
{
    return s->in_txn;
}

int store_put(struct store *s, const struct store_rec *rec)
{
    sqlite3_stmt *st = s->st[ST_PUT];
    int r;

    if (rec->len == 0 || rec->len > AGAH_REC_MAX)
        return AGAH_EINVAL;
    if (store__bind_blob(st, 1, rec->id, AGAH_HASH_LEN) != 0 ||
        sqlite3_bind_int(st, 2, rec->type) != SQLITE_OK ||
        store__bind_blob(st, 3, rec->author, AGAH_PK_LEN) != 0 ||
        store__bind_u64(st, 4, rec->created) != 0 ||
        store__bind_u64(st, 5, rec->expires) != 0 ||
        store__bind_blob(st, 6, rec->ref, AGAH_HASH_LEN) != 0 ||
        store__bind_blob(st, 7, rec->epoch, AGAH_HASH_LEN) != 0 ||
        store__seal(s->key, rec->id, rec->bytes, rec->len, s->sealed) != 0 ||
        store__bind_blob(st, 8, s->sealed, rec->len + STORE_SEAL_OVERHEAD) != 0) {
        store__done(st);
        return AGAH_EIO;
    }
    if ((r = store__exec(s, ST_PUT)) != 0)
        return r;
    return sqlite3_changes(s->db) > 0 ? 1 : 0;
}

/* The record's length from its sealed column's. */
static size_t store__rec_len(sqlite3_stmt *st, int i)
{
    int64_t n = sqlite3_column_int64(st, i);
    return n > (int64_t)STORE_SEAL_OVERHEAD ? (size_t)n - STORE_SEAL_OVERHEAD : 0;
}

int store_delete(struct store *s, const uint8_t id[AGAH_HASH_LEN], struct store_rec *gone)
{
    sqlite3_stmt *st = s->st[ST_DELETE];
    struct store_rec row;
    int rc, r = 0;

    memset(&row, 0, sizeof row);
    if (store__bind_blob(st, 1, id, AGAH_HASH_LEN) != 0) {
        store__done(st);
        return AGAH_EIO;
    }
    /* RETURNING hands back the row it deleted: the caller uncounts it
     * without a read of its own. */
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        memcpy(row.id, id, AGAH_HASH_LEN);
        row.type = sqlite3_column_int(st, 0);
        if (store__col_fixed(st, 1, row.author, AGAH_PK_LEN) != 0)
            r = AGAH_EIO;
        row.created = (uint64_t)sqlite3_column_int64(st, 2);
        row.len = store__rec_len(st, 3);
        if (r == 0)
            r = 1;
    }
    if (rc != SQLITE_DONE) {
        log_error("store: delete failed: %s", sqlite3_errmsg(s->db));
        r = (rc & 0xff) == SQLITE_FULL ? AGAH_ENOSPC : AGAH_EIO;
    }
    store__done(st);
    if (r == 1 && gone != NULL)
        *gone = row;
    return r;
}

static int store__post_row(sqlite3_stmt *st, struct store_post *p)
{
    if (store__col_fixed(st, 0, p->id, AGAH_HASH_LEN) != 0)
        return AGAH_EIO;
    p->type = sqlite3_column_int(st, 1);
    p->created = (uint64_t)sqlite3_column_int64(st, 2);
    p->len = store__rec_len(st, 3);
    return 0;
}

int store_scan_posts(struct store *s, const uint8_t author[AGAH_PK_LEN],
                     int (*cb)(void *ctx, const struct store_post *p), void *ctx)
{
    sqlite3_stmt *st = s->st[ST_POSTS];
    int r = 0, rc;

    if (store__bind_blob(st, 1, author, AGAH_PK_LEN) != 0) {
        store__done(st);
        return AGAH_EIO;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_post p;
        if ((r = store__post_row(st, &p)) != 0 || (r = cb(ctx, &p)) != 0)
            break;
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = AGAH_EIO;
    store__done(st);
    return r;
}

int store_post_last(struct store *s, const uint8_t author[AGAH_PK_LEN], uint64_t created_min,
                    uint64_t created_max, size_t len_min, size_t len_max, struct store_post *out)
{
    sqlite3_stmt *st = s->st[ST_POST_LAST];
    int r = AGAH_EIO, rc;

    if (created_max > INT64_MAX)
        created_max = INT64_MAX;
    if (len_max > AGAH_REC_MAX)
        len_max = AGAH_REC_MAX;
    if (store__bind_blob(st, 1, author, AGAH_PK_LEN) != 0 ||
        store__bind_u64(st, 2, created_min) != 0 || store__bind_u64(st, 3, created_max) != 0 ||
        sqlite3_bind_int64(st, 4, (sqlite3_int64)(len_min + STORE_SEAL_OVERHEAD)) != SQLITE_OK ||
        sqlite3_bind_int64(st, 5, (sqlite3_int64)(len_max + STORE_SEAL_OVERHEAD)) != SQLITE_OK)
        goto out;
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        r = 0;
    else if (rc == SQLITE_ROW && store__post_row(st, out) == 0)
        r = 1;
out:
    store__done(st);
    return r;
}

int store_get(struct store *s, const uint8_t id[AGAH_HASH_LEN], uint8_t **buf, size_t *len)
{
    sqlite3_stmt *st = s->st[ST_GET];
    uint8_t *copy = NULL;
    size_t n = 0, cap = 0;
    int r = AGAH_EIO, rc, sealed;

    if (store__bind_blob(st, 1, id, AGAH_HASH_LEN) != 0)
        goto out;
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        r = AGAH_ENOENT;
        goto out;
    }
    if (rc != SQLITE_ROW)
        goto out;
    /* Opened straight into the caller's buffer, of the record's size
     * (store__unseal checks the column's bounds): the record leaves the
     * store in clear only there. */
    sealed = sqlite3_column_bytes(st, 0);
    if (sealed <= (int)STORE_SEAL_OVERHEAD || sealed > (int)STORE_SEALED_MAX)
        goto out;
    cap = (size_t)sealed - STORE_SEAL_OVERHEAD;
    if ((copy = malloc(cap)) == NULL) {
        r = AGAH_ENOMEM;
        goto out;
    }
    if ((r = store__unseal(s, st, 0, id, copy, &n)) != 0)
        goto out;
    if (n != cap) {
        r = AGAH_EIO;
        goto out;
    }
    *buf = copy;
    *len = n;
    copy = NULL;
    r = 0;
out:
    if (copy != NULL) {
        sodium_memzero(copy, cap);
        free(copy);
    }
    store__done(st);
    return r;
}

int store_count(struct store *s, uint64_t *count)
{
    sqlite3_stmt *st = s->st[ST_COUNT];
    int r = AGAH_EIO;
    if (sqlite3_step(st) == SQLITE_ROW) {
        *count = (uint64_t)sqlite3_column_int64(st, 0);
        r = 0;
    }
    store__done(st);
    return r;
}

int store_scan(struct store *s, int tmin, int tmax, store_rec_cb cb, void *ctx)
{
    sqlite3_stmt *st = s->st[ST_SCAN];
    if (sqlite3_bind_int(st, 1, tmin) != SQLITE_OK || sqlite3_bind_int(st, 2, tmax) != SQLITE_OK) {
        store__done(st);
        return AGAH_EIO;
    }
    return store__run_rec(s, st, 1, cb, ctx);
}

int store_scan_ids(struct store *s, int (*cb)(void *ctx, uint64_t created,
                                              const uint8_t id[AGAH_HASH_LEN]), void *ctx)
{
    sqlite3_stmt *st = s->st[ST_SCAN_IDS];
    int r = 0, rc;
    uint8_t id[AGAH_HASH_LEN];

    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (store__col_fixed(st, 1, id, sizeof id) != 0) {
            r = AGAH_EIO;
            break;
        }
        if ((r = cb(ctx, (uint64_t)sqlite3_column_int64(st, 0), id)) != 0)
            break;
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = AGAH_EIO;
    store__done(st);
    return r;
}

static int store__scan_key(struct store *s, int which, const uint8_t *key, int with_bytes,
                           store_rec_cb cb, void *ctx)
{
    sqlite3_stmt *st = s->st[which];
    if (store__bind_blob(st, 1, key, 32) != 0) {
        store__done(st);
        return AGAH_EIO;
    }
    return store__run_rec(s, st, with_bytes, cb, ctx);
}

int store_scan_author(struct store *s, const uint8_t author[AGAH_PK_LEN], store_rec_cb cb,
                      void *ctx)
{
    return store__scan_key(s, ST_SCAN_AUTHOR, author, 0, cb, ctx);
}

int store_scan_ref(struct store *s, const uint8_t ref[AGAH_HASH_LEN], store_rec_cb cb,
                   void *ctx)
{
    return store__scan_key(s, ST_SCAN_REF, ref, 0, cb, ctx);
}

int store_scan_epoch_alerts(struct store *s, const uint8_t epoch[AGAH_HASH_LEN],
                            store_rec_cb cb, void *ctx)
{
    return store__scan_key(s, ST_SCAN_EPOCH, epoch, 1, cb, ctx);
}

int store_scan_expired(struct store *s, uint64_t now, store_rec_cb cb, void *ctx)
{
    sqlite3_stmt *st = s->st[ST_SCAN_EXPIRED];
    if (store__bind_u64(st, 1, now) != 0) {
        store__done(st);
        return AGAH_EIO;
    }
    return store__run_rec(s, st, 0, cb, ctx);
}

int store_tombstone_put(struct store *s, const uint8_t id[AGAH_HASH_LEN], uint64_t until)
{
    sqlite3_stmt *st = s->st[ST_TOMB_PUT];
    if (store__bind_blob(st, 1, id, AGAH_HASH_LEN) != 0 || store__bind_u64(st, 2, until) != 0) {
        store__done(st);
        return AGAH_EIO;
    }
    return store__exec(s, ST_TOMB_PUT);
}

int store_tombstone_scan(struct store *s,
                         int (*cb)(void *ctx, const uint8_t id[AGAH_HASH_LEN], uint64_t until),
                         void *ctx)
{
    sqlite3_stmt *st = s->st[ST_TOMB_SCAN];
    int r = 0, rc;
    uint8_t id[AGAH_HASH_LEN];

    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (store__col_fixed(st, 0, id, sizeof id) != 0) {
            r = AGAH_EIO;
            break;
        }
        if ((r = cb(ctx, id, (uint64_t)sqlite3_column_int64(st, 1))) != 0)
            break;
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = AGAH_EIO;
    store__done(st);
    return r;
}

int store_tombstone_expire(struct store *s, uint64_t now,
                           int (*cb)(void *ctx, const uint8_t id[AGAH_HASH_LEN]), void *ctx)
{
    sqlite3_stmt *st = s->st[ST_TOMB_OLD];
    int r = 0, rc;
    uint8_t id[AGAH_HASH_LEN];

    if (store__bind_u64(st, 1, now) != 0) {
        store__done(st);
        return AGAH_EIO;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (store__col_fixed(st, 0, id, sizeof id) != 0) {
            r = AGAH_EIO;
            break;
        }
        if ((r = cb(ctx, id)) != 0)
            break;
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = AGAH_EIO;
    store__done(st);
    if (r != 0)
        return r;
    if (store__bind_u64(s->st[ST_TOMB_DEL], 1, now) != 0) {
        store__done(s->st[ST_TOMB_DEL]);
        return AGAH_EIO;
    }
    return store__exec(s, ST_TOMB_DEL);
}

/* The SQLite store behind node.c: one connection, every statement prepared
 * once at open and reused, the schema versioned with PRAGMA user_version and
 * migrated in code. WAL with synchronous=FULL makes a commit durable when it
 * returns (R1). Records are kept exactly as received, each sealed with
 * XChaCha20-Poly1305 under the node's store key, so a seized store.db
 * without DATA_DIR/store.key (itself sealed under the identity) gives away
 * no name, reason or peer; secure_delete zeroes what is deleted. */
#define _POSIX_C_SOURCE 200809L
#include "store_int.h"

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

const char *const store__sql[ST_N] = {
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
    [ST_EPOCH_USED] = "SELECT 1 FROM records WHERE type BETWEEN 5 AND 7 AND epoch = ?1 LIMIT 1",
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

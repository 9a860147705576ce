/* The store's rows: statements run and reset, records sealed and opened
 * under the store key, and every read and write of records and
 * tombstones. Schema, migrations and opening are in store.c. */
#define _POSIX_C_SOURCE 200809L
#include "store_int.h"

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
int store__seal(const uint8_t *key, const uint8_t id[AGAH_HASH_LEN], const uint8_t *m,
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
uint8_t *store__plain_new(void)
{
    return sodium_malloc(AGAH_REC_MAX);
}

void store__plain_free(uint8_t *p)
{
    if (p == NULL)
        return;
    sodium_memzero(p, AGAH_REC_MAX);
    sodium_free(p);
}

/* The columns of the current row (STORE_COLS first) into `rec`; with
 * `plain`, also column 7 opened into it. */
int store__row(const struct store *s, sqlite3_stmt *st, uint8_t *plain,
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

int store_epoch_used(struct store *s, const uint8_t epoch[AGAH_HASH_LEN])
{
    sqlite3_stmt *st = s->st[ST_EPOCH_USED];
    int r = AGAH_EIO, rc;

    if (store__bind_blob(st, 1, epoch, AGAH_HASH_LEN) == 0) {
        rc = sqlite3_step(st);
        r = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : AGAH_EIO;
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

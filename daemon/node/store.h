/* Layer node/: the community's state (ingest, ids, the alert index,
 * membership, epochs, the store, quotas, network secrets). No libuv and no
 * sockets: mesh/ and control/ call it; it includes neither. */
/* The node's SQLite store, DATA_DIR/store.db: records exactly as received
 * (signed, bodies encrypted), and tombstones for ids that must not be
 * fetched again. Each record's bytes are sealed under the node's store key
 * (DATA_DIR/store.key); only the columns queries need stay in clear (id,
 * type, author, created, expires, ref, epoch: see docs/SECURITY.md). Peer
 * addresses live in the encrypted community file, not here. Only node.c
 * uses it. Single connection, single thread. */
#ifndef AGAH_STORE_H
#define AGAH_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <agah/agah.h>

struct store;

/* The columns of one stored record. `ref` and `epoch` are NULL when the
 * record type has none. `bytes` is the record in clear (opened from its
 * sealed column); it is valid only during the callback that gets it. */
struct store_rec {
    uint8_t id[AGAH_HASH_LEN];
    int type;
    uint8_t author[AGAH_PK_LEN];
    uint64_t created, expires;
    const uint8_t *ref;    /* CONFIRM, RETRACT: the alert id */
    const uint8_t *epoch;  /* ALERT, CONFIRM, RETRACT: the epoch id */
    const uint8_t *bytes;
    size_t len;
};

#define STORE_KEY_LEN 32
/* Called once per peer address of a store made by an older agah, before
 * its plaintext `peers` table is dropped, so the caller can keep them in
 * the encrypted community file. */
typedef void (*store_peer_cb)(void *ctx, const char *addr);

/* Opens or creates `path` (WAL, synchronous=FULL, secure_delete, busy
 * timeout) with the 32-byte store key (copied into guarded memory),
 * migrating the schema to the current version. Migrating a store of an
 * older agah seals every row under `key`, drops the `lookup` column and
 * the `peers` table (each address goes to `legacy_peer` first, if given),
 * then VACUUMs and truncates the WAL so no page keeps the old bytes.
 * AGAH_EIO with `why` on failure, AGAH_EVERSION if the file comes from a
 * newer agah, AGAH_ECRYPTO if a row does not open under `key` (another
 * node's store key). Caller owns *out. */
int store_open(const char *path, const uint8_t key[STORE_KEY_LEN], store_peer_cb legacy_peer,
               void *ctx, struct store **out, struct agah_why *why);
/* Opens an existing store read-only, for `agahd --check`: no schema change,
 * no write, so it may run beside a live agahd (it reads one snapshot) and
 * on a full disk. AGAH_ENOENT if there is no file, AGAH_EVERSION if it is
 * from a newer agah, AGAH_EIO if it is not an agah store of the current
 * schema. Caller owns *out. */
int store_open_readonly(const char *path, const uint8_t key[STORE_KEY_LEN], struct store **out,
                        struct agah_why *why);
/* The schema version of the store at `path` without opening it for use
 * (read-only, no migration): AGAH_ENOENT if there is no file, AGAH_EIO if
 * it is not SQLite. *sealed is 1 when its rows are sealed under a store key
 * (version 3 on), 0 for an older agah's plaintext store or an empty file. */
int store_is_sealed(const char *path, int *sealed);
/* SQLite's PRAGMA integrity_check over the whole file: 0 when it answers
 * "ok"; AGAH_EIO with its first complaint and their count in `why`. */
int store_integrity(struct store *s, struct agah_why *why);
/* Every row of the records table, in rowid order, for a check: `r` is NULL
 * when the row's columns are malformed (wrong sizes, NULL where a value is
 * required, bytes out of bounds), else the columns as store_scan gives them,
 * with `bytes` NULL when the row's seal does not open under the store key
 * (altered, or sealed by another node).
 * The callback returns 0 to go on or a negative code to stop with it. */
int store_check_rows(struct store *s,
                     int (*cb)(void *ctx, int64_t rowid, const struct store_rec *r), void *ctx);
/* Commits an open transaction, then closes. */
void store_close(struct store *s);

/* Copies the WAL into the file and truncates it to nothing, so frames of
 * deleted rows (sealed, but readable with the store key) do not linger
 * until overwritten. Commits an open transaction first. AGAH_EBUSY-like
 * failures (a reader such as `agahd --check` holds a snapshot) are
 * AGAH_EIO; the next call tries again. */
int store_wal_truncate(struct store *s);
/* Starts a transaction unless one is open. */
int store_begin(struct store *s);
/* Commits the open transaction, if any: durable when it returns 0. */
int store_commit(struct store *s);
/* Rolls the open transaction back, if any. */
int store_rollback(struct store *s);
int store_in_txn(const struct store *s);

/* Inserts a record: 1 inserted, 0 already there, < 0 error. */
int store_put(struct store *s, const struct store_rec *r);
/* Deletes a record by id: 1 deleted, 0 absent. With `gone`, a deleted
 * row's id, type, author, created and record length (bytes NULL). */
int store_delete(struct store *s, const uint8_t id[AGAH_HASH_LEN], struct store_rec *gone);
/* The bytes of one record; *buf is malloc'd (caller frees). AGAH_ENOENT. */
int store_get(struct store *s, const uint8_t id[AGAH_HASH_LEN], uint8_t **buf, size_t *len);
/* Number of stored records. */
int store_count(struct store *s, uint64_t *count);

/* Every record with type in [tmin, tmax], in (created, id) order. The
 * callback gets the columns (bytes included) and returns 0 to go on or a
 * negative code to stop with it. It must not write to the store. */
typedef int (*store_rec_cb)(void *ctx, const struct store_rec *r);
int store_scan(struct store *s, int tmin, int tmax, store_rec_cb cb, void *ctx);
/* Ids and created times of every record, in (created, id) order; same rule. */
int store_scan_ids(struct store *s, int (*cb)(void *ctx, uint64_t created,
                                              const uint8_t id[AGAH_HASH_LEN]), void *ctx);
/* Records by one author (columns only: bytes is NULL). */
int store_scan_author(struct store *s, const uint8_t author[AGAH_PK_LEN], store_rec_cb cb,
                      void *ctx);
/* One stored post (ALERT, CONFIRM or RETRACT), as the per-author quotas
 * weigh it: `len` is the record's length as received. */
struct store_post {
    uint8_t id[AGAH_HASH_LEN];
    int type;
    uint64_t created;
    size_t len;
};
/* The posts of one author in (created, id) order. The callback returns 0
 * to go on or a negative code to stop with it; it must not write to the
 * store. */
int store_scan_posts(struct store *s, const uint8_t author[AGAH_PK_LEN],
                     int (*cb)(void *ctx, const struct store_post *p), void *ctx);
/* The latest post of one author, in (created, id) order, with `created` in
 * [created_min, created_max] and a record length in [len_min, len_max]:
 * 1 and *out, 0 if there is none, or a negative code. */
int store_post_last(struct store *s, const uint8_t author[AGAH_PK_LEN], uint64_t created_min,
                    uint64_t created_max, size_t len_min, size_t len_max, struct store_post *out);/* CONFIRM and RETRACT records about one alert (columns only). */
int store_scan_ref(struct store *s, const uint8_t ref[AGAH_HASH_LEN], store_rec_cb cb,
                   void *ctx);
/* 1 if a post (ALERT, CONFIRM, RETRACT) sealed under `epoch` is stored, 0
 * if none, < 0 on error. Not indexed: a scan, for the rare rekey check. */
int store_epoch_used(struct store *s, const uint8_t epoch[AGAH_HASH_LEN]);
/* ALERT records sealed under one epoch (with bytes). */
int store_scan_epoch_alerts(struct store *s, const uint8_t epoch[AGAH_HASH_LEN],
                            store_rec_cb cb, void *ctx);
/* ALERT records with 0 < expires <= now (columns only). */
int store_scan_expired(struct store *s, uint64_t now, store_rec_cb cb, void *ctx);

/* Tombstones: ids remembered until `until` so they are not fetched again. */
int store_tombstone_put(struct store *s, const uint8_t id[AGAH_HASH_LEN], uint64_t until);
int store_tombstone_scan(struct store *s,
                         int (*cb)(void *ctx, const uint8_t id[AGAH_HASH_LEN], uint64_t until),
                         void *ctx);
/* Forgets tombstones with until <= now; the callback sees each first. */
int store_tombstone_expire(struct store *s, uint64_t now,
                           int (*cb)(void *ctx, const uint8_t id[AGAH_HASH_LEN]), void *ctx);

#endif

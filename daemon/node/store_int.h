/* Private to the store (store.c, store_rows.c): its statements, the
 * sealing of rows under the store key and the connection's state. */
#ifndef AGAH_STORE_INT_H
#define AGAH_STORE_INT_H

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

enum {
    ST_BEGIN, ST_COMMIT, ST_ROLLBACK,
    ST_PUT, ST_DELETE, ST_GET, ST_COUNT,
    ST_SCAN, ST_SCAN_IDS, ST_SCAN_AUTHOR, ST_SCAN_REF, ST_SCAN_EPOCH, ST_EPOCH_USED, ST_SCAN_EXPIRED,
    ST_TOMB_PUT, ST_TOMB_SCAN, ST_TOMB_OLD, ST_TOMB_DEL,
    ST_POSTS, ST_POST_LAST,
    ST_N
};

/* Sealed rows: nonce(24) || XChaCha20-Poly1305(record), associated data
 * STORE_AD || id (store.c, "The current table"). */
#define STORE_AD "agah-store-v1 records"
#define STORE_AD_LEN (sizeof STORE_AD - 1)
#define STORE_NONCE crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define STORE_SEAL_OVERHEAD (STORE_NONCE + crypto_aead_xchacha20poly1305_ietf_ABYTES)
#define STORE_SEALED_MAX (AGAH_REC_MAX + STORE_SEAL_OVERHEAD)

/* Each statement's SQL, prepared once at open (store.c). */
extern const char *const store__sql[ST_N];

struct store {
    sqlite3 *db;
    sqlite3_stmt *st[ST_N];
    int in_txn;
    uint8_t *key;    /* the store key, guarded memory */
    uint8_t *sealed; /* STORE_SEALED_MAX bytes for store_put (ciphertext) */
};

/* store_rows.c */
int store__seal(const uint8_t *key, const uint8_t id[AGAH_HASH_LEN], const uint8_t *m,
                size_t len, uint8_t *out);
uint8_t *store__plain_new(void);
void store__plain_free(uint8_t *p);
int store__row(const struct store *s, sqlite3_stmt *st, uint8_t *plain,
               uint8_t ref[AGAH_HASH_LEN], uint8_t epoch[AGAH_HASH_LEN],
               struct store_rec *rec);

#endif

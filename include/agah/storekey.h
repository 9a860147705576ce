/* The store key file, DATA_DIR/store.key: the random 32-byte key that
 * encrypts every row of store.db, and the user's own name (given to
 * `agah init --name`), sealed under a key derived from the identity seed.
 * The identity key file is the only way in: without the passphrase (or
 * with identity.key destroyed) store.key, and through it store.db, cannot
 * be read. On a relay, whose identity has no passphrase, the chain protects
 * nothing (documented in docs/SECURITY.md). */
#ifndef AGAH_STOREKEY_H
#define AGAH_STOREKEY_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"
#include "keys.h"
#include "record.h"

#define AGAH_STOREKEY_LEN 32
/* "AGAHSK01" | nonce(24) | ciphertext of key(32) | name length(1) |
 * name padded with zeros to 64 | tag(16): one size whatever the name. */
#define AGAH_STOREKEY_FILE_SIZE (8 + 24 + 32 + 1 + AGAH_NAME_MAX + 16)

/* What store.key holds. Lives in sodium memory (agah_storekey_new). */
struct agah_storekey {
    uint8_t key[AGAH_STOREKEY_LEN];
    char name[AGAH_NAME_MAX + 1]; /* "" when none was given */
};

struct agah_storekey *agah_storekey_new(void);
void agah_storekey_free(struct agah_storekey *k); /* wipes */

/* Seals `k` to the identity and writes it atomically, mode 0600. */
int agah_storekey_write(const char *path, const struct agah_identity *id,
                        const struct agah_storekey *k);
/* AGAH_ENOENT: no file; AGAH_ECRYPTO: another identity's or altered;
 * AGAH_ETRUNC / AGAH_ETOOBIG / AGAH_EVERSION for a file of the wrong shape. */
int agah_storekey_read(const char *path, const struct agah_identity *id,
                       struct agah_storekey **out, struct agah_why *why);
/* The data directory's store key: DIR/store.key if it exists; else (a data
 * directory made by an older agah, or an identity made before it) a fresh
 * random key, with the name moved in from the plaintext DIR/name, written
 * before it is handed out; DIR/name is then removed. Caller owns *out. */
int agah_storekey_open(const char *dir, const struct agah_identity *id,
                       struct agah_storekey **out, struct agah_why *why);

#endif

/* The node's private community state on disk, DATA_DIR/community: what
 * `community create` or `join` produced and the daemon keeps up to date
 * (network secret, epoch keys it can read, bootstrap records and peers).
 * Stored as msgpack under XChaCha20-Poly1305 with a key derived from the
 * identity seed (BLAKE2b-256 keyed by the seed over "agah-local-v1"), so a
 * seized data directory reveals nothing without the identity passphrase.
 * Written atomically, 0600. */
#ifndef AGAH_LOCAL_H
#define AGAH_LOCAL_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"
#include "keys.h"
#include "record.h"
#include "joincode.h"

#define AGAH_LOCAL_MAX_EPOCHS 4096
#define AGAH_LOCAL_MAX_RECORDS 16
#define AGAH_LOCAL_MAX_PEERS 64
#define AGAH_LOCAL_MAX (4u << 20) /* file size bound, bytes */

struct agah_local {
    uint8_t community[AGAH_HASH_LEN];
    char name[AGAH_NAME_MAX + 1];
    uint8_t network_secret[32];
    int role; /* agah_role: this node's role */
    size_t n_epochs;
    struct { uint8_t id[AGAH_HASH_LEN]; uint8_t key[AGAH_KEY_LEN]; } epochs[AGAH_LOCAL_MAX_EPOCHS];
    /* Records to import into the store at daemon start (genesis, own
     * admission, first epoch): each malloc'd, owned by this struct. */
    size_t n_records;
    uint8_t *records[AGAH_LOCAL_MAX_RECORDS];
    size_t record_lens[AGAH_LOCAL_MAX_RECORDS];
    size_t n_peers;
    char peers[AGAH_LOCAL_MAX_PEERS][AGAH_ADDR_MAX];
};

/* Allocates a zeroed struct in sodium memory. Caller frees with agah_local_free. */
struct agah_local *agah_local_new(void);
void agah_local_free(struct agah_local *l); /* wipes, frees records */
/* Appends a copy of a record; AGAH_ETOOBIG when full. */
int agah_local_add_record(struct agah_local *l, const uint8_t *buf, size_t len);
/* Founds a community (`community create`): fills a new l with the genesis
 * record (names encrypted under a fresh genesis key, kept under the
 * community id), the founder's admission (founder_name encrypted under
 * epoch 1), epoch 1 sealed to the founder and chained to the genesis key,
 * a fresh network secret, the name and the organiser role. Caller frees
 * *out with agah_local_free. */
int agah_local_found(const struct agah_identity *id, const char *name, const char *founder_name,
                     uint64_t created, struct agah_local **out);
int agah_local_write(const char *path, const struct agah_identity *id, const struct agah_local *l);
/* AGAH_ENOENT if the file does not exist; AGAH_ECRYPTO if it is not ours or altered. */
int agah_local_read(const char *path, const struct agah_identity *id, struct agah_local **out,
                    struct agah_why *why);

#endif

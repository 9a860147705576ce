/* Layer node/: the community's state (ingest, ids, the alert index,
 * membership, epochs, the store, quotas, network secrets). No libuv and no
 * sockets: mesh/ and control/ call it; it includes neither. */
/* A hash map from 32-byte keys (record ids, public keys) to 32-bit values,
 * for the node's in-memory indexes. Open addressing with linear probing and
 * backward-shift deletion; keys are hashed with SipHash under a random
 * per-map key, so a peer choosing ids cannot pile them into one probe run. */
#ifndef AGAH_IDMAP_H
#define AGAH_IDMAP_H

#include <stddef.h>
#include <stdint.h>

struct idmap {
    uint8_t (*keys)[32];
    uint32_t *vals; /* value + 1; 0 marks an empty slot */
    size_t cap;     /* a power of two, or 0 */
    size_t n;
    size_t max;     /* entries allowed */
    uint8_t sip[16];
};

/* An empty map that will hold at most `max` entries (AGAH_ETOOBIG beyond). */
void idmap_init(struct idmap *m, size_t max);
void idmap_free(struct idmap *m);
/* Empties the map, keeping its memory. */
void idmap_clear(struct idmap *m);
/* 1 and *val if present, else 0. `val` may be NULL. */
int idmap_get(const struct idmap *m, const uint8_t key[32], uint32_t *val);
/* Inserts or replaces; val < UINT32_MAX. 0, AGAH_ENOMEM or AGAH_ETOOBIG. */
int idmap_put(struct idmap *m, const uint8_t key[32], uint32_t val);
/* 1 if it was there and is now gone, else 0. */
int idmap_del(struct idmap *m, const uint8_t key[32]);

#endif

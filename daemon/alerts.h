/* The decrypted alert view, in memory only (plaintext never touches disk):
 * readable alerts by id and by normalised target, and the CONFIRM and
 * RETRACT records that refer to each alert id (kept even before the alert
 * itself is readable or has arrived). Targets are looked up through a hash
 * table so `check` answers in well under a microsecond at a million alerts. */
#ifndef AGAH_ALERTS_H
#define AGAH_ALERTS_H

#include <stddef.h>
#include <stdint.h>
#include <agah/agah.h>
#include "idmap.h"

#define ALERTS_NIL UINT32_MAX
#define ALERTS_MAX 16000000u /* alerts and annotations each */

/* The fields a target lookup reads come first, so a hit touches one line
 * of the entry and then one block holding both strings. */
struct alert_ent {
    char *target; /* NULL for a free-text alert; else the start of the block */
    char *note;   /* follows target's NUL in the same malloc'd block */
    uint64_t thash;
    uint32_t tnext; /* next alert in the same target bucket */
    uint8_t kind, category, severity, live;
    uint8_t id[AGAH_HASH_LEN], author[AGAH_PK_LEN];
    uint64_t created, expires;
};

/* One bucket of the target index: hash and chain head side by side, so an
 * absent target costs one cache miss and a present one a second for the
 * entry, not one for each of two parallel arrays. */
struct alerts_tslot {
    uint64_t h;
    uint32_t head; /* index + 1; 0 empty */
};

struct annot_ent {
    uint8_t id[AGAH_HASH_LEN], ref[AGAH_HASH_LEN], author[AGAH_PK_LEN];
    uint64_t created;
    int type; /* AGAH_REC_CONFIRM or AGAH_REC_RETRACT */
    uint32_t next; /* next annotation of the same alert */
};

struct alerts {
    struct alert_ent *a;
    size_t n_a, cap_a, live;
    uint32_t free_a; /* free list through tnext */
    struct idmap by_id;
    /* Target buckets: open addressing on a 64-bit SipHash of the target;
     * a bucket chains alerts whose targets share the hash. */
    struct alerts_tslot *ts;
    size_t tcap, tn;
    uint8_t sip[16];

    struct annot_ent *n;
    size_t n_n, cap_n;
    uint32_t free_n;
    struct idmap by_ref; /* alert id -> first annotation */
    struct idmap annot_ids; /* annotation id -> index */
};

void alerts_init(struct alerts *al);
void alerts_free(struct alerts *al);

/* Adds a decrypted alert (copies the strings): 1 added, 0 already there. */
int alerts_add(struct alerts *al, const uint8_t id[AGAH_HASH_LEN],
               const uint8_t author[AGAH_PK_LEN], uint64_t created, uint64_t expires,
               const struct agah_alert_body *body);
/* 1 removed, 0 absent. Wipes the plaintext. */
int alerts_remove(struct alerts *al, const uint8_t id[AGAH_HASH_LEN]);
const struct alert_ent *alerts_get(const struct alerts *al, const uint8_t id[AGAH_HASH_LEN]);
/* First alert whose target is exactly `target`, then the next one after
 * `prev`; NULL at the end. */
const struct alert_ent *alerts_first(const struct alerts *al, const char *target);
const struct alert_ent *alerts_next(const struct alerts *al, const struct alert_ent *prev);

int alerts_annot_add(struct alerts *al, const uint8_t id[AGAH_HASH_LEN],
                     const uint8_t ref[AGAH_HASH_LEN], const uint8_t author[AGAH_PK_LEN],
                     uint64_t created, int type);
int alerts_annot_remove(struct alerts *al, const uint8_t id[AGAH_HASH_LEN]);
/* Annotations of one alert: first, then ->next until ALERTS_NIL. */
uint32_t alerts_annot_first(const struct alerts *al, const uint8_t ref[AGAH_HASH_LEN]);

#endif

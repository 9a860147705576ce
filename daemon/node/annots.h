/* Layer node/: the community's state (ingest, ids, the alert index,
 * membership, epochs, the store, quotas, network secrets). No libuv and no
 * sockets: mesh/ and control/ call it; it includes neither. */
/* The CONFIRM and RETRACT records of the alert view, grouped so that no
 * number of them can make a lookup slow (issue 24): per alert id, one
 * group per (author, type) holding that author's records of that type,
 * and a count of groups (distinct authors) kept as records come and go.
 * `check` then reads the number of confirming authors in O(1) and visits
 * one entry per retracting author, however many records an insider sends.
 * Each group knows its earliest record (lowest created, then lowest id),
 * the one the view weighs (proto/PROTOCOL.md, "The alert view"). Slots
 * are reused through free lists so indexes stay stable. */
#ifndef AGAH_ANNOTS_H
#define AGAH_ANNOTS_H

#include <stddef.h>
#include <stdint.h>
#include <agah/agah.h>
#include "idmap.h"

#define ANNOTS_NIL UINT32_MAX

struct annot_ent {
    uint8_t id[AGAH_HASH_LEN], ref[AGAH_HASH_LEN], author[AGAH_PK_LEN];
    uint64_t created;
    int type;          /* AGAH_REC_CONFIRM or AGAH_REC_RETRACT */
    uint32_t next;     /* next record of the group (or of the free list) */
    uint32_t prev;     /* previous record of the group */
    uint32_t grp;      /* the group it belongs to */
};

/* One author's records of one type about one alert. */
struct annot_grp {
    uint8_t author[AGAH_PK_LEN];
    uint32_t sum;      /* the alert's entry in annots.s */
    uint32_t first;    /* its records, doubly linked */
    uint32_t n;        /* how many */
    uint32_t best;     /* the earliest, or ANNOTS_NIL until looked for again */
    uint32_t next, prev; /* the alert's other groups of this type */
    int type;
};

/* Per alert id (present or not yet arrived): its groups of each type. */
struct annot_sum {
    uint8_t ref[AGAH_HASH_LEN];
    uint32_t first[2]; /* [0] CONFIRM, [1] RETRACT groups; first[0] links free slots */
    uint32_t groups[2];
    uint32_t records[2];
};

struct annots {
    struct annot_ent *n;
    size_t n_n, cap_n;
    uint32_t free_n;
    struct annot_grp *g;
    size_t n_g, cap_g;
    uint32_t free_g;
    struct annot_sum *s;
    size_t n_s, cap_s;
    uint32_t free_s;
    struct idmap by_ref; /* alert id -> its annot_sum */
    struct idmap by_grp; /* BLAKE2b(ref || author || type) -> its annot_grp */
    /* Groups and records looked at by the read functions below, so tests
     * and benchmarks can assert the work a lookup does. */
    uint64_t visits;
};

void annots_init(struct annots *an, size_t max);
void annots_free(struct annots *an);

/* A free record slot in *idx, or AGAH_ENOMEM / AGAH_ETOOBIG. The slot is
 * only taken by annots_link. */
int annots_slot(struct annots *an, uint32_t *idx);
/* Files slot idx (its id already written) under its alert and author.
 * 0, or AGAH_ENOMEM / AGAH_ETOOBIG with nothing changed. */
int annots_link(struct annots *an, uint32_t idx, const uint8_t ref[AGAH_HASH_LEN],
                const uint8_t author[AGAH_PK_LEN], uint64_t created, int type);
/* Takes slot idx out of its group (freeing emptied groups) and frees it. */
void annots_unlink(struct annots *an, uint32_t idx);

/* Distinct authors (groups) of `type` about alert `ref`; records of it. */
uint32_t annots_authors(const struct annots *an, const uint8_t ref[AGAH_HASH_LEN], int type);
uint32_t annots_records(const struct annots *an, const uint8_t ref[AGAH_HASH_LEN], int type);
/* Whether `author` has a record of `type` about `ref`. */
int annots_by(const struct annots *an, const uint8_t ref[AGAH_HASH_LEN],
              const uint8_t author[AGAH_PK_LEN], int type);
/* The groups of `type` about `ref`: first, then next, ANNOTS_NIL at the end. */
uint32_t annots_grp_first(struct annots *an, const uint8_t ref[AGAH_HASH_LEN], int type);
uint32_t annots_grp_next(struct annots *an, uint32_t grp);
/* A group's earliest record (lowest created, then lowest id). */
const struct annot_ent *annots_grp_best(struct annots *an, uint32_t grp);

#endif

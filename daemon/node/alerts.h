/* Layer node/: the community's state (ingest, ids, the alert index,
 * membership, epochs, the store, quotas, network secrets). No libuv and no
 * sockets: mesh/ and control/ call it; it includes neither. */
/* The node's in-memory view of its records: the one set of record ids it
 * holds (stored, or remembered as tombstones so they are not fetched
 * again), and the decrypted alert view (plaintext never touches disk):
 * readable alerts by id and by normalised target, and the CONFIRM and
 * RETRACT records that refer to each alert id (kept even before the alert
 * itself is readable or has arrived). Notes are not held: the node reads
 * one from the store when an answer shows it (issue 24). Each id is kept
 * once, inside the
 * entry it belongs to; the id table holds 8-byte references to them.
 * Targets are looked up through a hash table so `check` answers in well
 * under a microsecond at a million alerts. */
#ifndef AGAH_ALERTS_H
#define AGAH_ALERTS_H

#include <stddef.h>
#include <stdint.h>
#include <agah/agah.h>
#include "annots.h"
#include "idmap.h"

#define ALERTS_NIL UINT32_MAX
#define ALERTS_MAX 16000000u     /* alerts and annotations each */
#define ALERTS_MAX_IDS 64000000u /* ids of every kind together */

/* What the id set says about an id. */
enum { ALERTS_ID_NONE = 0, ALERTS_ID_STORED = 1, ALERTS_ID_TOMB = 2 };

/* 64 bytes. The fields a target lookup reads come first; the target lives
 * in the string arena (`str`), so no entry has a heap block of its own and
 * the plaintext is wiped in one place. */
struct alert_ent {
    uint32_t str;    /* arena reference of "target\0" */
    uint32_t tnext;  /* next alert with the same target */
    uint8_t kind, category, severity, live;
    uint32_t author; /* index in the author table (alerts_author) */
    uint64_t created, expires;
    uint8_t id[AGAH_HASH_LEN];
};

/* One slot of the id table or the target table: a reference and the low
 * 32 bits of the key's SipHash. The hash bits decide the slot's home, so
 * the table grows and deletes without touching the keys, and they rule out
 * almost every non-matching slot without a cache miss on its entry. */
struct alerts_slot {
    uint32_t ref; /* 0 empty */
    uint32_t h;
};

/* A block of the string arena. */
struct alerts_chunk {
    char *mem;     /* NULL once every string in it is gone */
    uint32_t used; /* bytes handed out */
    uint32_t live; /* bytes still referenced */
    int locked;    /* mlock held for it */
};

struct alerts {
    struct alert_ent *a;
    size_t n_a, cap_a, live;
    uint32_t free_a; /* free list through tnext */

    /* Target buckets: each chains the alerts of one exact target. */
    struct alerts_slot *ts;
    size_t tcap, tn;

    /* The id table: every id the node holds, pointing into a[] (alerts),
     * n[] (annotations) or o[] (any other stored record, and tombstones). */
    struct alerts_slot *is;
    size_t icap, in;
    uint8_t (*o)[AGAH_HASH_LEN];
    size_t n_o, cap_o;
    uint32_t free_o; /* free list through the first 4 bytes of freed ids */

    /* Decrypted targets, in 64 KiB chunks: no per-alert heap block, and a
     * chunk grows the arena without copying the plaintext. */
    struct alerts_chunk *ch;
    size_t n_ch, cap_ch, cur_ch;
    size_t n_locked;  /* chunks locked in RAM */
    int lock_warned;  /* a chunk could not be locked, and that was logged */
    size_t str_live, str_dead; /* bytes, for compaction */

    /* Alert authors, a few hundred keys shared by all the alerts. */
    uint8_t (*au)[AGAH_PK_LEN];
    size_t n_au, cap_au;
    struct idmap au_map;

    uint8_t sip[16];
    /* Bumped whenever an id leaves the id table or moves to another
     * array, i.e. whenever a reference stops standing for its id. */
    uint64_t ref_gen;

    /* CONFIRM and RETRACT records, by alert and author (annots.h). */
    struct annots an;
};

void alerts_init(struct alerts *al);
/* Wipes the plaintext and frees everything. */
void alerts_free(struct alerts *al);

/* --- the id set --- */
/* ALERTS_ID_STORED for an id held as an alert, an annotation or another
 * stored record; ALERTS_ID_TOMB; ALERTS_ID_NONE. One hash, one probe run. */
int alerts_id_state(const struct alerts *al, const uint8_t id[AGAH_HASH_LEN]);
/* Records that an id is stored (a record the view does not index) or is a
 * tombstone. Marking STORED an id the view holds changes nothing; marking
 * it TOMB removes it from the view first. 0, AGAH_ENOMEM or AGAH_ETOOBIG. */
int alerts_id_mark(struct alerts *al, const uint8_t id[AGAH_HASH_LEN], int state);
/* Forgets an id, removing it from the view too: 1 if it was known. */
int alerts_id_forget(struct alerts *al, const uint8_t id[AGAH_HASH_LEN]);
/* Ids known, of every kind. */
size_t alerts_id_count(const struct alerts *al);
/* Bytes of decrypted targets held in memory locked into RAM
 * (never swapped out); the rest, past RLIMIT_MEMLOCK, is not. */
size_t alerts_locked_bytes(const struct alerts *al);
/* A reference to where the id is kept (nonzero), or 0 when unknown. It
 * stands for the same id until alerts_ref_gen changes; a stale one reads
 * as some id (or zeros), never outside the arrays. */
uint32_t alerts_id_ref(const struct alerts *al, const uint8_t id[AGAH_HASH_LEN]);
const uint8_t *alerts_ref_id(const struct alerts *al, uint32_t ref);
uint64_t alerts_ref_gen(const struct alerts *al);

/* --- alerts --- */
/* Adds a decrypted alert (copies its target; the note is left out, the
 * store keeps it sealed): 1 added, 0 already there.
 * An id marked STORED or TOMB becomes this alert. */
int alerts_add(struct alerts *al, const uint8_t id[AGAH_HASH_LEN],
               const uint8_t author[AGAH_PK_LEN], uint64_t created, uint64_t expires,
               const struct agah_alert_body *body);
/* 1 removed (and its id forgotten), 0 absent. Wipes the plaintext. */
int alerts_remove(struct alerts *al, const uint8_t id[AGAH_HASH_LEN]);
const struct alert_ent *alerts_get(const struct alerts *al, const uint8_t id[AGAH_HASH_LEN]);
/* An entry's target ("" for a free-text alert) and author. */
const char *alerts_target(const struct alerts *al, const struct alert_ent *e);
const uint8_t *alerts_author(const struct alerts *al, const struct alert_ent *e);
/* First alert whose target is exactly `target`, then the next one after
 * `prev`; NULL at the end. */
const struct alert_ent *alerts_first(const struct alerts *al, const char *target);
const struct alert_ent *alerts_next(const struct alerts *al, const struct alert_ent *prev);

/* --- annotations --- */
/* 1 added, 0 already there; an id marked STORED or TOMB becomes it. */
int alerts_annot_add(struct alerts *al, const uint8_t id[AGAH_HASH_LEN],
                     const uint8_t ref[AGAH_HASH_LEN], const uint8_t author[AGAH_PK_LEN],
                     uint64_t created, int type);
/* 1 removed (and its id forgotten), 0 absent. */
int alerts_annot_remove(struct alerts *al, const uint8_t id[AGAH_HASH_LEN]);
/* Reading them: annots_authors, annots_by, annots_grp_first ... on &al->an. */

#endif

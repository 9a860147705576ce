/* Layer node/: the community's state (ingest, ids, the alert index,
 * membership, epochs, the store, quotas, network secrets). No libuv and no
 * sockets: mesh/ and control/ call it; it includes neither. */
/* The community's membership, derived from the stored GENESIS, ADMISSION,
 * REVOCATION and EPOCH records by the validity rules of proto/PROTOCOL.md
 * ("Validity"). The result depends only on the set of records, never on
 * the order they arrived in: memb_recompute derives everything afresh.
 *
 * Nothing here trusts a time that a revoked key signed: a revocation lists
 * the ids of the revoked key's records that stay valid, and every other
 * record by that key is invalid whatever its `created`. */
#ifndef AGAH_MEMBERSHIP_H
#define AGAH_MEMBERSHIP_H

#include <stddef.h>
#include <stdint.h>
#include <agah/agah.h>
#include "idmap.h"

#define MEMB_NEVER UINT64_MAX /* "not revoked" */
#define MEMB_NIL UINT32_MAX
/* Bounds on the membership records one node keeps in memory. */
#define MEMB_MAX_ADMISSIONS 65536
#define MEMB_MAX_REVOCATIONS 65536
#define MEMB_MAX_EPOCHS 4096
/* ... and on what one author may hold of them, so that one hostile
 * organiser cannot fill a table and lock the others out of it. */
#define MEMB_AUTHOR_MAX_ADMISSIONS 8192
#define MEMB_AUTHOR_MAX_REVOCATIONS 4096
#define MEMB_AUTHOR_MAX_EPOCHS 2048
/* Revocations of the founder that must apply, by distinct organisers, and
 * at least this many: see memb_recompute. */
#define MEMB_FOUNDER_QUORUM_MIN 2

struct memb_adm {
    uint8_t id[AGAH_HASH_LEN], author[AGAH_PK_LEN], member[AGAH_PK_LEN];
    int role;
    uint64_t created, expires;
    /* The name, once memb_names_open has opened it (names travel
     * encrypted under an epoch key: a node without it, a relay, has ""). */
    char name[AGAH_NAME_MAX + 1];
    int name_open;
    uint8_t name_key[AGAH_HASH_LEN]; /* the id its key is held under */
    uint8_t *bytes; /* malloc'd copy of the record */
    size_t len;
    int valid;      /* derived: signed by a standing organiser at created */
    uint32_t next;  /* next admission of the same member, or MEMB_NIL */
    uint32_t anext; /* next admission by the same author, or MEMB_NIL */
};

struct memb_rev {
    uint8_t id[AGAH_HASH_LEN], author[AGAH_PK_LEN], target[AGAH_PK_LEN];
    uint64_t created;
    uint8_t (*keep)[AGAH_HASH_LEN]; /* malloc'd, strictly ascending */
    size_t n_keep;
    int applies;    /* derived: this revocation takes effect */
    uint32_t next;  /* next revocation of the same target, or MEMB_NIL */
};

struct memb_epoch {
    uint8_t id[AGAH_HASH_LEN], author[AGAH_PK_LEN];
    uint8_t net_id[AGAH_HASH_LEN]; /* the epoch that minted its network secret */
    uint64_t number, created;
    size_t n, n_relays;
    /* malloc'd: the n recipients, then the n_relays relays (relays points
     * into the same block), each list sorted as in the record */
    uint8_t (*recips)[AGAH_PK_LEN];
    uint8_t (*relays)[AGAH_PK_LEN];
    /* The n_links epochs whose keys its chain links carry (in the same
     * block, after the relays). */
    uint8_t (*links)[AGAH_HASH_LEN];
    size_t n_links;
    int valid;      /* derived: signed by a standing organiser at created */
};

struct memb_key {
    uint8_t pk[AGAH_PK_LEN];
    int revoked;          /* an applying revocation names it (the founder: a quorum) */
    uint64_t revoked_at;  /* earliest created of those, or MEMB_NEVER */
    uint64_t revsig;      /* a fingerprint of the revocations that apply to it */
    size_t votes;         /* distinct authors of the revocations that apply to it */
    uint64_t last_admitted; /* latest created of its valid admissions */
    uint32_t rank;        /* organiser admissions from the founder (0), or MEMB_NIL */
    int exposed;          /* may hold epoch keys: founder, valid non-relay admission,
                           * or an epoch recipient */
    uint32_t adm_head;    /* admissions of it, or MEMB_NIL */
    uint32_t by_head;     /* admissions by it, or MEMB_NIL */
    uint32_t rev_head;    /* revocations of it, or MEMB_NIL */
};

/* Records each author holds, for the per-author bounds. */
struct memb_count {
    uint32_t adm, rev, ep;
};

struct memb {
    int have_genesis;
    uint8_t community[AGAH_HASH_LEN];
    uint8_t founder[AGAH_PK_LEN];
    uint64_t genesis_created;
    /* The genesis names, once memb_names_open has opened them. */
    char name[AGAH_NAME_MAX + 1];
    char founder_name[AGAH_NAME_MAX + 1];
    int names_open;
    uint8_t *genesis; /* malloc'd copy */
    size_t genesis_len;

    struct memb_adm *adm;
    size_t n_adm, cap_adm;
    struct memb_rev *rev;
    size_t n_rev, cap_rev;
    struct memb_epoch *ep;
    size_t n_ep, cap_ep;
    struct idmap authmap; /* author -> index in counts */
    struct memb_count *counts;
    size_t n_counts, cap_counts;

    /* Derived by memb_recompute. */
    struct memb_key *keys;
    size_t n_keys, cap_keys;
    struct idmap keymap; /* pk -> index in keys */
    size_t quorum;       /* revoking organisers it takes to remove the founder */
    /* An epoch created before this may be readable by a revoked key: the
     * latest of each such key's revocation and its last admission + 1. */
    uint64_t clean_after;
    /* Counts recomputations: anything derived from the membership and
     * cached elsewhere (the network secrets) is stale once it moves. */
    uint64_t gen;
};

void memb_init(struct memb *m);
void memb_free(struct memb *m);
/* Adds a GENESIS, ADMISSION, REVOCATION or EPOCH record (copied). Call
 * memb_recompute before asking anything. AGAH_ETOOBIG past the bounds,
 * the per-author ones included. */
int memb_add(struct memb *m, const struct agah_rec *r);
/* Removes a membership record by id (pruned, deleted, or not stored after
 * all) and recomputes: 1 if it was here, 0 if not, < 0 on error. */
int memb_remove(struct memb *m, const uint8_t id[AGAH_HASH_LEN]);
/* Derives ranks, which revocations apply, valid admissions and epochs,
 * and exposure. */
int memb_recompute(struct memb *m);

/* 0 with *role if pk may act now as a member admitted at t: not revoked,
 * and the founder or holding a valid admission with created <= t that has
 * not expired at t (the strongest role counts). AGAH_EPERM if revoked,
 * AGAH_ENOENT otherwise. `role` may be NULL. */
int memb_role_at(const struct memb *m, const uint8_t pk[AGAH_PK_LEN], uint64_t t, int *role);
/* Whether a record `id` signed by `author` at `created` stands: 0 with
 * *role (the author's role at created) if the author held a valid
 * admission then (or is the founder) and is not revoked, or is revoked but
 * a revocation that applies keeps `id`. AGAH_EPERM if the author is
 * revoked and nothing keeps it, AGAH_ENOENT if the author was no member at
 * created. `role` may be NULL. */
int memb_record_ok(const struct memb *m, const uint8_t author[AGAH_PK_LEN],
                   const uint8_t id[AGAH_HASH_LEN], uint64_t created, int *role);
int memb_in_closure(const struct memb *m, const uint8_t pk[AGAH_PK_LEN]);
int memb_revoked(const struct memb *m, const uint8_t pk[AGAH_PK_LEN]);
int memb_is_founder(const struct memb *m, const uint8_t pk[AGAH_PK_LEN]);
/* Whether `author` signed a revocation of `target` (applying or not). */
int memb_has_revocation(const struct memb *m, const uint8_t author[AGAH_PK_LEN],
                        const uint8_t target[AGAH_PK_LEN]);
/* Distinct organisers whose revocation of pk applies. */
size_t memb_revocation_votes(const struct memb *m, const uint8_t pk[AGAH_PK_LEN]);
/* Earliest created of the revocations of pk that apply, or MEMB_NEVER. */
uint64_t memb_revoked_at(const struct memb *m, const uint8_t pk[AGAH_PK_LEN]);
/* Whether pk has any admission (valid or not) or is the founder. */
int memb_known(const struct memb *m, const uint8_t pk[AGAH_PK_LEN]);
/* Index of pk's best valid admission (highest role, then latest), or -1. */
long memb_best_admission(const struct memb *m, const uint8_t pk[AGAH_PK_LEN]);
/* The latest expiry among pk's valid admissions if none of them is
 * permanent (an invitation not taken up yet), else 0. */
uint64_t memb_invited_until(const struct memb *m, const uint8_t pk[AGAH_PK_LEN]);
/* Index of an epoch by id, or -1. */
long memb_find_epoch(const struct memb *m, const uint8_t id[AGAH_HASH_LEN]);
/* The epochs whose keys whoever holds the key of epoch `from` can open:
 * `from` itself, then the ids named by the chain links of every valid
 * stored EPOCH reached, breadth first (an id may be of no stored epoch: a
 * key whose record was refused). Writes up to max of them into out;
 * returns how many there are (more than max when out is short). */
size_t memb_reach(const struct memb *m, const uint8_t from[AGAH_HASH_LEN],
                  uint8_t (*out)[AGAH_HASH_LEN], size_t max);
/* Rule: no revoked key is a recipient or relay of it, and no revoked key
 * that may hold epoch keys or network secrets could have received it
 * through a join code. */
int memb_epoch_clean(const struct memb *m, size_t i);
/* Whether epoch i's network secret is out of every revoked key's reach:
 * every valid epoch that carries it (same net_id) is clean. */
int memb_net_clean(const struct memb *m, size_t i);
/* Whether every current organiser and member (at `now`) is a recipient,
 * and every current relay is among its relays. */
int memb_epoch_complete(const struct memb *m, size_t i, uint64_t now);
/* The epoch the community posts under: among the valid, clean epochs, a
 * complete one before any other, then the highest number, then the lowest
 * id. -1 if none is clean. Every node holding the same records picks the
 * same one, whatever keys it holds. */
long memb_posting_epoch(const struct memb *m, uint64_t now);
/* The best epoch by that same order among those whose key `held` returns
 * (not NULL; with `held` NULL, among all: memb_posting_epoch): what a node
 * posts under while the posting epoch's key is on its way. -1 if it holds
 * no clean epoch. */
typedef const uint8_t *(*memb_key_fn)(void *ctx, const uint8_t id[AGAH_HASH_LEN]);
long memb_best_held_epoch(const struct memb *m, uint64_t now, memb_key_fn held, void *ctx);
/* Whether an organiser should issue a new epoch: no clean epoch, the
 * posting epoch misses a current organiser, member or relay, or its
 * network secret is not clean (then the new epoch mints a fresh one). */
int memb_needs_rekey(const struct memb *m, uint64_t now);
/* The keys a new epoch is sealed to: every organiser and member at `now`
 * (never relays, never revoked keys). Fills at most `max`; returns how many
 * there are (more than max means they do not fit). */
size_t memb_recipients(const struct memb *m, uint64_t now, uint8_t (*out)[AGAH_PK_LEN],
                       size_t max);
/* The relays a new epoch seals the network secret to: every key whose
 * role at `now` is relay, not revoked. Like memb_recipients. */
size_t memb_relays(const struct memb *m, uint64_t now, uint8_t (*out)[AGAH_PK_LEN], size_t max);
/* Returns the key held under `id` (an epoch id, or the community id for
 * the genesis key), or NULL. */
typedef const uint8_t *(*memb_key_fn)(void *ctx, const uint8_t id[AGAH_HASH_LEN]);
/* Opens the names of the genesis and admission records not opened yet
 * whose keys `key` gives (call it when records or keys arrive). Returns
 * how many it opened. */
size_t memb_names_open(struct memb *m, memb_key_fn key, void *ctx);
/* The display name of pk: the founder's from genesis, else its latest
 * valid admission's. "" if none. */
void memb_name(const struct memb *m, const uint8_t pk[AGAH_PK_LEN], char out[AGAH_NAME_MAX + 1]);

#endif

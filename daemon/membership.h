/* The community's membership, derived from the stored GENESIS, ADMISSION,
 * REVOCATION and EPOCH records by the validity rules of proto/PROTOCOL.md
 * ("Validity"). The result depends only on the set of records, never on
 * the order they arrived in: memb_recompute derives everything afresh. */
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

struct memb_adm {
    uint8_t id[AGAH_HASH_LEN], author[AGAH_PK_LEN], member[AGAH_PK_LEN];
    int role;
    uint64_t created, expires;
    char name[AGAH_NAME_MAX + 1];
    uint8_t *bytes; /* malloc'd copy of the record */
    size_t len;
    int valid;      /* rule 4: signed by a valid organiser at created */
    uint32_t next;  /* next admission of the same member, or MEMB_NIL */
};

struct memb_rev {
    uint8_t id[AGAH_HASH_LEN], author[AGAH_PK_LEN], target[AGAH_PK_LEN];
    uint64_t created;
};

struct memb_epoch {
    uint8_t id[AGAH_HASH_LEN], author[AGAH_PK_LEN];
    uint64_t number, created;
    size_t n;
    uint8_t (*recips)[AGAH_PK_LEN]; /* malloc'd */
};

struct memb_key {
    uint8_t pk[AGAH_PK_LEN];
    uint64_t revoked_at;  /* earliest effective revocation, or MEMB_NEVER */
    uint64_t last_admitted; /* latest created of its valid admissions */
    int in_closure;       /* rule 2 */
    int exposed;          /* may hold epoch keys: founder, valid non-relay admission,
                           * or an epoch recipient */
    uint32_t adm_head;    /* its admissions, or MEMB_NIL */
};

struct memb {
    int have_genesis;
    uint8_t community[AGAH_HASH_LEN];
    uint8_t founder[AGAH_PK_LEN];
    uint64_t genesis_created;
    char name[AGAH_NAME_MAX + 1];
    char founder_name[AGAH_NAME_MAX + 1];
    uint8_t *genesis; /* malloc'd copy */
    size_t genesis_len;

    struct memb_adm *adm;
    size_t n_adm, cap_adm;
    struct memb_rev *rev;
    size_t n_rev, cap_rev;
    struct memb_epoch *ep;
    size_t n_ep, cap_ep;

    /* Derived by memb_recompute. */
    struct memb_key *keys;
    size_t n_keys, cap_keys;
    struct idmap keymap; /* pk -> index in keys */
    /* An epoch created before this may be readable by a revoked key: the
     * latest of each such key's revocation and its last admission + 1. */
    uint64_t clean_after;
};

void memb_init(struct memb *m);
void memb_free(struct memb *m);
/* Adds a GENESIS, ADMISSION, REVOCATION or EPOCH record (copied). Call
 * memb_recompute before asking anything. AGAH_ETOOBIG past the bounds. */
int memb_add(struct memb *m, const struct agah_rec *r);
/* Removes a membership record by id (pruned, deleted, or not stored after
 * all) and recomputes: 1 if it was here, 0 if not, < 0 on error. */
int memb_remove(struct memb *m, const uint8_t id[AGAH_HASH_LEN]);
/* Derives closure, revocations, valid admissions and exposure. */
int memb_recompute(struct memb *m);

/* 0 with *role if pk is a member at t (rule 4); AGAH_EPERM if revoked at
 * or before t; AGAH_ENOENT otherwise. `role` may be NULL. */
int memb_role_at(const struct memb *m, const uint8_t pk[AGAH_PK_LEN], uint64_t t, int *role);
int memb_in_closure(const struct memb *m, const uint8_t pk[AGAH_PK_LEN]);
uint64_t memb_revoked_at(const struct memb *m, const uint8_t pk[AGAH_PK_LEN]);
/* Whether pk has any admission (valid or not) or is the founder. */
int memb_known(const struct memb *m, const uint8_t pk[AGAH_PK_LEN]);
/* Index of pk's best valid admission (highest role, then latest), or -1. */
long memb_best_admission(const struct memb *m, const uint8_t pk[AGAH_PK_LEN]);
/* Index of an epoch by id, or -1. */
long memb_find_epoch(const struct memb *m, const uint8_t id[AGAH_HASH_LEN]);
/* Rule 9: no revoked key is a recipient and no revoked key that may hold
 * epoch keys could have received it through a join code. */
int memb_epoch_clean(const struct memb *m, size_t i);
/* The display name of pk: the founder's from genesis, else its latest
 * valid admission's. "" if none. */
void memb_name(const struct memb *m, const uint8_t pk[AGAH_PK_LEN], char out[AGAH_NAME_MAX + 1]);

#endif

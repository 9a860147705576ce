/* Layer node/: the community's state (ingest, ids, the alert index,
 * membership, epochs, the store, quotas, network secrets). No libuv and no
 * sockets: mesh/ and control/ call it; it includes neither. */
/* The node: this daemon's community state and the one place where records
 * are validated and stored. It owns the identity, the private community
 * state (network secret, epoch keys), the SQLite store, the membership view
 * derived from the stored records, and the decrypted alert index kept in
 * memory only. The network layer (peer links, gossip, reconciliation) and
 * the control socket both call in here; neither touches the store directly.
 * Single-threaded: called from the libuv loop only. */
#ifndef AGAH_NODE_H
#define AGAH_NODE_H

#include <stddef.h>
#include <stdint.h>
#include <agah/agah.h>

struct node;

/* Opens DATA_DIR: reads the identity (passphrase may be NULL for a
 * --no-passphrase identity), the community file, takes the lock
 * DATA_DIR/agahd.lock (AGAH_EEXIST if another agahd holds it), opens or
 * migrates DATA_DIR/store.db (WAL), imports the community file's bootstrap
 * records, rebuilds membership and the alert index. `now` is the clock
 * (tests inject it; agahd passes NULL for time()).
 * AGAH_ENOENT with `why` naming `agah init` / `agah join` when there is no
 * identity or no community. Caller owns *out; free with node_close. */
int node_open(const char *data_dir, const char *passphrase, size_t passlen,
              uint64_t (*now)(void), struct node **out, struct agah_why *why);
void node_close(struct node *n);
uint64_t node_now(const struct node *n);

/* --- identity and membership, for the handshake and the CLI --- */
const struct agah_identity *node_identity(const struct node *n);
const uint8_t *node_community(const struct node *n);
/* The network secrets this node dials with (s[0]) and accepts in M1
 * (all of them): proto/PROTOCOL.md, "Network secrets". The caller wipes
 * *out after use. */
struct netsecret_set;
void node_net_secrets(struct node *n, struct netsecret_set *out);
const char *node_community_name(const struct node *n);
int node_role(const struct node *n); /* this node's role */
/* Per-author quotas (quota.h). Tests set smaller limits; what is stored
 * past them at once is dropped. */
struct quota_limits;
int node_set_quota_limits(struct node *n, const struct quota_limits *lim);
/* Posts dropped because a later-arriving earlier post put them past their
 * author's cut, since the node opened. */
uint64_t node_quota_dropped(const struct node *n);
/* My own admission record (the founder's: its genesis record), presented to
 * peers in the handshake. Borrowed. */
int node_my_admission(const struct node *n, const uint8_t **buf, size_t *len);
/* Whether pk may hold a link now: 0 with *role set if it is an admitted,
 * unrevoked, unexpired member; AGAH_EPERM if revoked; AGAH_ENOENT if unknown. */
int node_member_status(const struct node *n, const uint8_t pk[AGAH_PK_LEN], int *role);
/* The handshake's admission slot: whether pk, presenting buf[0..len), may
 * hold a link now (0 with *role set; AGAH_EPERM revoked or the slot holds a
 * record that is not pk's admission, nor the genesis record when pk is the
 * founder; AGAH_ENOENT unknown). Decides first and stores the record only
 * if the answer is yes: a refused link leaves nothing behind. */
int node_admit_peer(struct node *n, const uint8_t pk[AGAH_PK_LEN], const uint8_t *buf,
                    size_t len, int *role, struct agah_why *why);

/* --- records, for gossip and reconciliation --- */
/* 1 if the record is stored or was pruned recently (so it is not fetched
 * again), else 0. Cheap: an in-memory set. */
int node_have(const struct node *n, const uint8_t id[AGAH_HASH_LEN]);
/* Decodes, validates against the membership (who may sign what, revocation
 * wins, clock skew, expiry) and, if new and valid, commits it durably before
 * returning and then calls every listener. Returns 1 if stored, 0 if a
 * duplicate (no expensive work done), < 0 if rejected (with `why`). */
int node_ingest(struct node *n, const uint8_t *buf, size_t len, struct agah_why *why);
/* How a record that was just stored reached this node; the listeners get
 * it with the record. `link` is whatever node_ingest_decoded's caller
 * passed (agahd: the peer link it came over), opaque to the node; NULL
 * for a record signed here, read from a file, presented in a handshake or
 * released from the pending set. `fresh` is 1 for news to push on at
 * once (a record signed here, or one its caller marked so), 0 for old
 * news that is only announced: a record found by reconciliation, or
 * released from the pending set once its author's admission came. */
struct node_src {
    const void *link;
    int fresh;
};
/* node_ingest for a record that agah_rec_decode has already decoded and
 * whose signature it verified (agahd does that on a worker thread, see
 * verify.h): the same checks and effects, without the signature, and the
 * record reaches the listeners with `src` (NULL: as if signed here). `r`
 * points into bytes that must stay valid during the call. */
int node_ingest_decoded(struct node *n, const struct agah_rec *r, const struct node_src *src,
                        struct agah_why *why);
/* Commits the records node_ingest stored since the last flush. Ingested
 * records share one open transaction (ingest is then limited by signature
 * checks, not by fsync); agahd calls this on a 200 ms timer and at
 * shutdown (records from peers are acknowledged to nobody). At most 4096 ingested records are
 * ever uncommitted. Records this node signs (post, confirm, retract,
 * invite, revoke) are committed before those functions return (R1). */
int node_flush(struct node *n);
/* Copies a stored record. Caller frees *buf. AGAH_ENOENT if absent. */
int node_get(struct node *n, const uint8_t id[AGAH_HASH_LEN], uint8_t **buf, size_t *len);
/* Calls cb for every stored record, in (created, id) order. */
int node_foreach(struct node *n,
                 void (*cb)(void *ctx, uint64_t created, const uint8_t id[AGAH_HASH_LEN]),
                 void *ctx);
size_t node_record_count(const struct node *n);
/* Where the node keeps a stored record's id, for a reconciliation set that
 * refers to ids instead of copying them (recon_set_new_ext): the reference
 * (0 if the id is unknown), the id behind one (node_ref_id has the shape
 * of recon_id_fn, ctx the node), and a count that changes whenever a
 * reference stops standing for its id (a record removed, or moved in the
 * view when its key arrives): a set built before it changed must be
 * refilled before use. */
uint32_t node_id_ref(const struct node *n, const uint8_t id[AGAH_HASH_LEN]);
const uint8_t *node_ref_id(void *node, uint32_t ref);
uint64_t node_ref_gen(const struct node *n);
/* Up to NODE_MAX_LISTENERS callbacks run after each new record is stored
 * (by ingest or by a local post), with how it came (struct node_src):
 * gossip passes it on, the control socket streams it to `watch` clients. */
#define NODE_MAX_LISTENERS 4
typedef void (*node_listener)(void *ctx, const struct agah_rec *rec,
                              const struct node_src *src);
int node_listen(struct node *n, node_listener cb, void *ctx);
/* Known peer addresses (from --peer, the join code, `peer add`), persisted. */
int node_peer_remember(struct node *n, const char *addr);
int node_peers_foreach(struct node *n, void (*cb)(void *ctx, const char *addr), void *ctx);
/* The address peers can reach this node at ("host:port"), put into the
 * join codes it makes; NULL forgets it. AGAH_EINVAL if malformed. */
int node_set_listen_addr(struct node *n, const char *addr);

/* --- what the CLI asks through the control socket --- */
enum node_alert_status { NODE_ACTIVE = 0, NODE_RETRACTED = 1, NODE_EXPIRED = 2 };
struct node_alert {
    uint8_t id[AGAH_HASH_LEN];
    struct agah_alert_body body;
    uint8_t author[AGAH_PK_LEN];
    char author_name[AGAH_NAME_MAX + 1];
    uint64_t created, expires;
    int status; /* node_alert_status */
    unsigned confirmations;
    /* The author's key was revoked (at any time: an informant's earlier
     * alerts stay visible, marked). */
    int author_revoked;
    /* With status NODE_RETRACTED: who signed the retraction that takes
     * effect, and their name ("" if unknown). */
    int has_retractor;
    uint8_t retracted_by[AGAH_PK_LEN];
    char retracted_by_name[AGAH_NAME_MAX + 1];
};
struct node_member {
    uint8_t pk[AGAH_PK_LEN];
    char name[AGAH_NAME_MAX + 1];
    int role;
    int revoked;
    /* The admission that gives the role: its author (none for the
     * founder) and its created time (the founding time for the founder). */
    int has_admitter;
    uint8_t admitted_by[AGAH_PK_LEN];
    uint64_t admitted;
    /* Invited, but its node has not linked with an organiser's yet: the
     * admission lapses then (0: it has joined). */
    uint64_t invited_until;
};

/* Each of these signs, stores durably and disseminates (through the
 * listeners) before returning. AGAH_EPERM when this node's role may not. */
int node_post(struct node *n, const struct agah_alert_body *body, uint64_t expires,
              uint8_t id[AGAH_HASH_LEN], struct agah_why *why);
int node_confirm(struct node *n, const uint8_t alert[AGAH_HASH_LEN], const char *note,
                 unsigned *confirmations, struct agah_why *why);
int node_retract(struct node *n, const uint8_t alert[AGAH_HASH_LEN], const char *reason,
                 struct agah_why *why);
/* Admits pk and returns the join code (caller frees) for it. role < 0:
 * the role pk already holds, else member; a role below the one pk holds
 * is refused (AGAH_EINVAL: revocation is the way down). *n_peers
 * (unless NULL) gets how many addresses the code names for the newcomer
 * to dial: peer (unless NULL or empty), this node's listen address
 * (node_set_listen_addr) and the peers it keeps, at most
 * AGAH_JOIN_MAX_PEERS. */
int node_invite(struct node *n, const uint8_t pk[AGAH_PK_LEN], int role, const char *name,
                const char *peer, char **code, size_t *n_peers, struct agah_why *why);
/* Revokes pk and issues a new epoch key to the remaining members: 0;
 * 1 if pk was already revoked (nothing is done). */
int node_revoke(struct node *n, const uint8_t pk[AGAH_PK_LEN], const char *reason,
                struct agah_why *why);
/* What node_revoke_ex did. */
#define NODE_REVOKE_RETRACT_ALERTS 1u /* keep none of the key's alerts */
#define NODE_REVOKE_ALSO_ADMITTED 2u  /* revoke too the keys only it admitted */
#define NODE_REVOKE_DRY_RUN 4u        /* sign nothing: say which keys ALSO_ADMITTED takes */
#define NODE_REVOKE_LIST_MAX 64
struct node_revoke_out {
    int already;          /* this node had revoked it before: nothing done */
    int effective;        /* the key is revoked now (the founder: once a quorum agrees) */
    size_t kept, dropped; /* the key's records this node holds: kept valid, left out */
    size_t also;          /* keys it alone admitted, revoked with it (or, dry, to be) */
    uint8_t also_pk[NODE_REVOKE_LIST_MAX][AGAH_PK_LEN]; /* the first of them */
    size_t votes, quorum; /* distinct organisers whose revocation applies, and how
                           * many it takes (1, or the founder's quorum) */
};
int node_revoke_ex(struct node *n, const uint8_t pk[AGAH_PK_LEN], const char *reason,
                   unsigned flags, struct node_revoke_out *out, struct agah_why *why);
/* node_revoke_ex that also purges what the key signed from `since` on
 * (Unix seconds; 0: nothing): its keep list leaves out every record of the
 * key created at or after it, so every node drops them (issue 24: the
 * flood an informant posted before anyone noticed). */
int node_revoke_since(struct node *n, const uint8_t pk[AGAH_PK_LEN], const char *reason,
                      unsigned flags, uint64_t since, struct node_revoke_out *out,
                      struct agah_why *why);
/* A peer's node finished a handshake with this one. An organiser's node
 * confirms the admission of a member whose admissions all lapse (an
 * invitation), so it no longer lapses. 1 if it signed one, else 0 or < 0. */
int node_peer_joined(struct node *n, const uint8_t pk[AGAH_PK_LEN]);
/* Runs what waits for a moment: the rekey a membership change asked for.
 * agahd calls it a few times a second. */
int node_tick(struct node *n);

/* Queries, answered from the view in memory; the notes of the alerts an
 * answer holds are read from the store (the view keeps none). Alerts the
 * node cannot read (relays) are not listed. Results are malloc'd arrays
 * the caller frees. */
int node_check(struct node *n, const char *normalized, struct node_alert **out, size_t *count);
/* One page of node_check, in the order of node_list_page (newest first,
 * then by id): at most `limit` alerts after the alert `after` (NULL: from
 * the start); *more says whether alerts follow. *flagged (unless NULL)
 * says whether any alert of the target is active, over all of them, not
 * the page. Without with_notes the notes are left empty and the store is
 * not read (a lookup from memory only). AGAH_ENOENT when `after` is no
 * alert this node holds. */
int node_check_page(struct node *n, const char *normalized, const uint8_t *after, size_t limit,
                    int with_notes, struct node_alert **out, size_t *count, int *more,
                    int *flagged);
/* kind 0 = all kinds; all = include retracted and expired; newest first. */
int node_list(struct node *n, int kind, int all, struct node_alert **out, size_t *count);
/* One page of node_list: at most `limit` alerts, starting after the alert
 * `after` in the listing's order (newest first, then by id; NULL: from the
 * start). *more says whether alerts follow the page. AGAH_ENOENT when
 * `after` is no alert this node holds. Only the page is copied out, so a
 * listing of any size costs 16 bytes an alert while it is sorted. */
int node_list_page(struct node *n, int kind, int all, const uint8_t *after, size_t limit,
                   struct node_alert **out, size_t *count, int *more);
/* By full id or unique hex prefix (>= 4 chars): AGAH_ENOENT, or AGAH_EINVAL if ambiguous. */
int node_find(struct node *n, const char *hex_prefix, uint8_t id[AGAH_HASH_LEN]);
int node_alert_get(struct node *n, const uint8_t id[AGAH_HASH_LEN], struct node_alert *out);
int node_members(struct node *n, struct node_member **out, size_t *count);
size_t node_active_alerts(const struct node *n);
/* Annotation index entries visited by the read paths since the node was
 * opened, so tests and benchmarks can assert that a `check` does work
 * bounded by the number of distinct authors, not of records. */
uint64_t node_annot_visits(const struct node *n);
uint64_t node_epoch_number(const struct node *n); /* epoch this node posts under */
/* Stored alerts this node cannot open (yet): their epoch key has not
 * reached it. On a relay, every alert. */
size_t node_unreadable(const struct node *n);

/* Prunes expired records (keeping their ids for a while); agahd calls it
 * on a timer. Returns how many were pruned. */
int node_prune(struct node *n);

#endif

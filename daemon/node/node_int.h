/* Private to node/: the state of a node and the helpers its files share.
 * node.h is the public interface; nothing outside node/ includes this.
 *
 * The node is the one place where records are validated and stored. It ties
 * the identity and the private community file to the SQLite store, the
 * membership derived from the stored records (membership.c) and the
 * decrypted alert view kept in memory only (alerts.c). The validity rules
 * it enforces are written down in proto/PROTOCOL.md ("Validity"). */
#ifndef AGAH_NODE_INT_H
#define AGAH_NODE_INT_H

#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>
#include <agah/agah.h>
#include <agah/datadir.h>
#include "alerts.h"
#include "idmap.h"
#include "log.h"
#include "membership.h"
#include "netsecret.h"
#include "node.h"
#include "quota.h"
#include "store.h"

/* Rule 6: how far in the future a record's created time may be. */
#define NODE_SKEW 600
/* How long an id is remembered after its record was pruned or rejected
 * for good: past the later of now and its expiry. */
#define NODE_TOMB_KEEP (30ull * 86400)
/* Rule 7: records waiting for their author's admission. */
#define NODE_PENDING_MAX 1024
#define NODE_PENDING_BYTES (8u << 20)
/* Ingested records committed together at most; node_flush commits sooner. */
#define NODE_BATCH_MAX 4096
/* Seconds between a membership change from a peer and the rekey check. */
#define NODE_REKEY_SETTLE 2
/* A node that holds an epoch key whose record it has not seen (a joining
 * organiser's code carries keys before the records arrive) waits this long
 * after start for them before it issues an epoch of its own. */
#define NODE_REKEY_WAIT_KEYS 30
/* How often an organiser's node looks, without a membership change, for
 * keys of stored posts that the posting epoch does not reach (posts that
 * arrived after its last rekey check, under an epoch the community has
 * since left): node__links. */
#define NODE_STRAY_EVERY 600
/* In the last this many seconds of an invitation, any organiser's node
 * that links with the invitee confirms it, not only the inviter's. */
#define NODE_CONFIRM_ANYONE 86400ull
/* Join codes are valid this long. */
#define NODE_INVITE_TTL (7ull * 86400)

/* What to remember about a rejected record. */
enum { REJ_FORGET = 0, REJ_TOMB = 1, REJ_PENDING = 2 };

struct node_pending {
    uint8_t id[AGAH_HASH_LEN];
    uint8_t *buf;
    size_t len;
};

struct node {
    char dir[AGAH_PATH_MAX];
    char local_path[AGAH_PATH_MAX];
    uint64_t (*now)(void);
    int lock_fd;
    struct agah_identity *id;
    struct agah_local *local;  /* sodium memory: network secret, epoch keys */
    /* One decrypted body at a time, in guarded memory allocated once:
     * sodium_malloc per record would cost more than the decryption. */
    struct agah_alert_body *body;
    /* The same for the read paths, which open a stored alert to show its
     * note (node__alert_note) while ingest may hold `body`: a `watch`
     * listener runs before ingest wipes it. */
    struct agah_alert_body *rbody;
    struct idmap ekeys;        /* epoch id -> index in local->epochs */
    struct netsecret_cache *nets; /* network secrets opened, by net_id */
    struct store *store;
    struct memb memb;
    /* The decrypted view and the one set of every id the node holds,
     * stored or tombstoned: each id is kept once, in its view entry. */
    struct alerts alerts;
    /* Each author's stored posts, for the per-author quotas. */
    struct quota quota;
    size_t n_records;
    size_t n_alerts;           /* ALERT records stored, readable or not */
    size_t batch;              /* ingested records in the open transaction */
    /* The records of that transaction: if its commit fails (a full disk),
     * they leave memory too, so reconciliation fetches them again instead
     * of the view holding what the store lost. */
    struct { uint8_t id[AGAH_HASH_LEN]; uint8_t type; } unc[NODE_BATCH_MAX + 1];
    size_t n_unc;
    struct { node_listener cb; void *ctx; } listeners[NODE_MAX_LISTENERS];
    size_t n_listeners;
    struct node_pending pending[NODE_PENDING_MAX];
    size_t p_head, p_count, p_bytes;
    int retry_pending;         /* an admission arrived: retry the pending list */
    /* When to see whether this organiser should issue an epoch (0: no
     * need): a little after membership records arrive, so a node catching
     * up issues one epoch for the state it reaches, not one per record. */
    uint64_t rekey_at;
    uint64_t stray_at;         /* next look for stray keys (NODE_STRAY_EVERY) */
    uint64_t opened_at;
    uint64_t quota_dropped;    /* posts dropped past their author's cut */
    char listen_addr[AGAH_ADDR_MAX];
};

/* A list of stored rows collected from a scan, so they can be changed
 * after the scan's statement is done. */
struct node_row {
    uint8_t id[AGAH_HASH_LEN];
    int type;
    uint64_t created, expires;
    uint8_t author[AGAH_PK_LEN];
};

struct node_rows {
    struct node_row *v;
    size_t n, cap;
};
/* Decrypts the stored alerts sealed under an epoch whose key just arrived. */
struct node_decrypt {
    struct node *n;
    /* Set only by node_open's rebuild, which reads back records this node
     * verified before it stored them, so it skips the signature check. */
    int stored;
};

/* epoch.c */
int node__is_me(const struct node *n, const uint8_t pk[AGAH_PK_LEN]);
uint64_t node__tomb_until(uint64_t now, uint64_t expires);
const uint8_t *node__key(const struct node *n, const uint8_t epoch[AGAH_HASH_LEN]);
int node__key_put(struct node *n, const uint8_t epoch[AGAH_HASH_LEN],
                  const uint8_t key[AGAH_KEY_LEN], int write);
int node__key_add(struct node *n, const uint8_t epoch[AGAH_HASH_LEN],
                  const uint8_t key[AGAH_KEY_LEN]);
void node__names(struct node *n);
long node__posting_epoch(const struct node *n);
int node__text_epoch(const struct node *n, const uint8_t **eid, const uint8_t **key);
int node__local(struct node *n, uint8_t *buf, size_t len, uint8_t id[AGAH_HASH_LEN],
                struct agah_why *why);
int node__rekey(struct node *n, int force);
void node__want_rekey(struct node *n, uint64_t delay);
int node__maintain(struct node *n);

/* view.c */
int node__open_alert(const struct node *n, const struct agah_rec *r,
                     struct agah_alert_body *body);
int node__alert_status(const struct node *n, const struct alert_ent *a, uint64_t now);
int node__alert_fill(struct node *n, const struct alert_ent *a, uint64_t now,
                     int with_note, struct node_alert *out);

/* ingest.c */
int node__drop(struct node *n, const uint8_t id[AGAH_HASH_LEN], int type, int tomb,
               uint64_t until);
int node__rows_cb(void *ctx, const struct store_rec *sr);
int node__drop_annotations(struct node *n, const uint8_t alert[AGAH_HASH_LEN],
                           uint64_t now);
int node__decrypt_cb(void *ctx, const struct store_rec *sr);
int node__chain_walk(struct node *n, const uint8_t start[AGAH_HASH_LEN]);
int node__validate(const struct node *n, const struct agah_rec *r, uint64_t now,
                   int *remember, struct agah_why *why);
/* The sources of records the node stores on its own account: signed here
 * (and whatever else is news to push), and released from the pending set
 * (old news). */
extern const struct node_src node__src_here, node__src_released;
int node__store(struct node *n, const struct agah_rec *r, int durable,
                const struct node_src *src, struct agah_why *why);
int node__quota_trim(struct node *n);
void node__pending_drop_oldest(struct node *n);
void node__pending_retry(struct node *n);
int node__ingest_rec(struct node *n, const struct agah_rec *r, const struct node_src *src,
                     struct agah_why *why);

/* open.c */
int node__net_open(void *ctx, size_t i, uint8_t out[32]);
int node__addr_ok(const char *addr);

/* admin.c */
int node__sign_admission(struct node *n, const uint8_t pk[AGAH_PK_LEN], int role,
                         const char *name, uint64_t now, uint64_t expires, int drop_name,
                         uint8_t **buf, size_t *len, struct agah_why *why);

#endif

/* The node: the one place where records are validated and stored. It ties
 * the identity and the private community file to the SQLite store, the
 * membership derived from the stored records (membership.c) and the
 * decrypted alert view kept in memory only (alerts.c). The validity rules
 * it enforces are written down in proto/PROTOCOL.md ("Validity"). */
#define _DEFAULT_SOURCE /* flock */
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
    uint64_t opened_at;
    uint64_t quota_dropped;    /* posts dropped past their author's cut */
    char listen_addr[AGAH_ADDR_MAX];
};

static int node__ingest_new(struct node *n, const uint8_t *buf, size_t len,
                            struct agah_why *why);
static int node__ingest_rec(struct node *n, const struct agah_rec *rp, struct agah_why *why);
static int node__maintain(struct node *n);
static void node__quota_recount(struct node *n);
static void node__names(struct node *n);
static void node__want_rekey(struct node *n, uint64_t delay);
static int node__net_open(void *ctx, size_t i, uint8_t out[32]);
static void node__pending_add(struct node *n, const uint8_t *buf, size_t len,
                              const uint8_t id[AGAH_HASH_LEN]);

uint64_t node_now(const struct node *n)
{
    if (n->now != NULL)
        return n->now();
    time_t t = time(NULL);
    return t < 0 ? 0 : (uint64_t)t;
}

static int node__is_me(const struct node *n, const uint8_t pk[AGAH_PK_LEN])
{
    return memcmp(pk, agah_identity_pk(n->id), AGAH_PK_LEN) == 0;
}

static uint64_t node__tomb_until(uint64_t now, uint64_t expires)
{
    uint64_t base = expires > now ? expires : now;
    return base > UINT64_MAX - NODE_TOMB_KEEP ? UINT64_MAX : base + NODE_TOMB_KEEP;
}

/* ------------------------------------------------------------------ */
/* Epoch keys                                                          */

static const uint8_t *node__key(const struct node *n, const uint8_t epoch[AGAH_HASH_LEN])
{
    uint32_t i;
    if (!idmap_get(&n->ekeys, epoch, &i))
        return NULL;
    return n->local->epochs[i].key;
}

/* Adds an epoch key to the community file, written atomically before the
 * key is used so a crash cannot lose a key we already depend on; with
 * `write` 0 the caller writes the file once after several (a chain walk:
 * keys that only read, which a crash before the write merely makes the
 * node learn again). */
static int node__key_put(struct node *n, const uint8_t epoch[AGAH_HASH_LEN],
                         const uint8_t key[AGAH_KEY_LEN], int write)
{
    size_t i = n->local->n_epochs;
    int r;
    if (node__key(n, epoch) != NULL)
        return 0;
    if (i >= AGAH_LOCAL_MAX_EPOCHS)
        return AGAH_ETOOBIG;
    memcpy(n->local->epochs[i].id, epoch, AGAH_HASH_LEN);
    memcpy(n->local->epochs[i].key, key, AGAH_KEY_LEN);
    n->local->n_epochs = i + 1;
    if ((write && (r = agah_local_write(n->local_path, n->id, n->local)) != 0) ||
        (r = idmap_put(&n->ekeys, epoch, (uint32_t)i)) != 0) {
        sodium_memzero(n->local->epochs[i].key, AGAH_KEY_LEN);
        n->local->n_epochs = i;
        return r;
    }
    /* A chain walk opens the names once, after its last key. */
    if (write)
        node__names(n);
    return 0;
}

static int node__key_add(struct node *n, const uint8_t epoch[AGAH_HASH_LEN],
                         const uint8_t key[AGAH_KEY_LEN])
{
    return node__key_put(n, epoch, key, 1);
}

static const uint8_t *node__key_cb(void *ctx, const uint8_t id[AGAH_HASH_LEN])
{
    return node__key(ctx, id);
}

/* Opens the names (genesis, admissions) whose keys this node holds now:
 * called when keys or membership records arrive. A relay opens none. */
static void node__names(struct node *n)
{
    if (n->local->n_epochs > 0)
        (void)memb_names_open(&n->memb, node__key_cb, n);
}

/* The epoch this node posts under: the community's posting epoch
 * (memb_posting_epoch) when this node holds its key, else the best clean
 * one it holds, so a member whose key is on its way can still post. -1 if
 * it holds no clean epoch. */
static long node__posting_epoch(const struct node *n)
{
    long best = memb_posting_epoch(&n->memb, node_now(n));
    if (best >= 0 && node__key(n, n->memb.ep[best].id) != NULL)
        return best;
    best = -1;
    for (size_t i = 0; i < n->memb.n_ep; i++) {
        const struct memb_epoch *e = &n->memb.ep[i];
        if (node__key(n, e->id) == NULL || !memb_epoch_clean(&n->memb, i))
            continue;
        if (best < 0 || e->number > n->memb.ep[best].number ||
            (e->number == n->memb.ep[best].number &&
             memcmp(e->id, n->memb.ep[best].id, AGAH_HASH_LEN) < 0))
            best = (long)i;
    }
    return best;
}

/* The epoch a name or reason this node signs is encrypted under: the one
 * it posts under, so every member can read it and no revoked key. 0 with
 * both set, or AGAH_ENOENT (both NULL) when it holds no clean epoch. */
static int node__text_epoch(const struct node *n, const uint8_t **eid, const uint8_t **key)
{
    long e = node__posting_epoch(n);
    *eid = *key = NULL;
    if (e < 0)
        return AGAH_ENOENT;
    *eid = n->memb.ep[e].id;
    *key = node__key(n, *eid);
    return *key != NULL ? 0 : AGAH_ENOENT;
}

/* ------------------------------------------------------------------ */
/* The alert view                                                      */

/* Decrypts an ALERT this node has the key for. 1 readable, 0 not. */
static int node__open_alert(const struct node *n, const struct agah_rec *r,
                            struct agah_alert_body *body)
{
    const uint8_t *key = node__key(n, r->u.sealed.epoch);
    size_t tl;
    if (key == NULL || agah_rec_open_alert(r, key, body, NULL) != 0)
        return 0;
    /* The decoder checks the body; refuse an inconsistent one anyway
     * rather than index it under the wrong target. */
    tl = strnlen(body->target, AGAH_TARGET_MAX);
    if (tl >= AGAH_TARGET_MAX || strnlen(body->note, AGAH_NOTE_MAX + 1) > AGAH_NOTE_MAX ||
        (body->kind == AGAH_KIND_ALERT) != (tl == 0) || body->kind < AGAH_KIND_NUMBER ||
        body->kind > AGAH_KIND_ALERT) {
        sodium_memzero(body, sizeof *body);
        return 0;
    }
    return 1;
}

/* The annotation index, writable from the read paths: reading it updates
 * its caches (a group's earliest record, the visit counter), never what
 * the view says. */
static struct annots *node__an(const struct node *n) { return (struct annots *)&n->alerts.an; }

/* Whether a retraction takes effect (rule 5): by the alert's author or by
 * an organiser at the retraction's time. */
static int node__retract_ok(const struct node *n, const struct alert_ent *a,
                            const struct annot_ent *x)
{
    int role;
    /* A retraction dated before its alert is a back-dated one. */
    if (x->created < a->created)
        return 0;
    if (memb_record_ok(&n->memb, x->author, x->id, x->created, &role) != 0)
        return 0;
    return memcmp(x->author, alerts_author(&n->alerts, a), AGAH_PK_LEN) == 0 ||
           role == AGAH_ROLE_ORGANISER;
}

/* Of the retractions of `a` that take effect, the earliest (then the
 * lowest author key), or NULL. Only each author's earliest retraction is
 * weighed ("The alert view"), so this visits one entry per retracting
 * author however many records each sent. */
static const struct annot_ent *node__retraction(const struct node *n, const struct alert_ent *a,
                                                int first_only)
{
    struct annots *an = node__an(n);
    const struct annot_ent *best = NULL;

    for (uint32_t g = annots_grp_first(an, a->id, AGAH_REC_RETRACT); g != ANNOTS_NIL;
         g = annots_grp_next(an, g)) {
        const struct annot_ent *x = annots_grp_best(an, g);
        if (!node__retract_ok(n, a, x))
            continue;
        if (first_only)
            return x;
        if (best == NULL || x->created < best->created ||
            (x->created == best->created && memcmp(x->author, best->author, AGAH_PK_LEN) < 0))
            best = x;
    }
    return best;
}

/* NODE_ACTIVE, NODE_RETRACTED or NODE_EXPIRED, without copying anything:
 * `status` counts active alerts with this, and an alert without
 * annotations costs one table probe (none when there are no annotations). */
static int node__alert_status(const struct node *n, const struct alert_ent *a, uint64_t now)
{
    if (node__retraction(n, a, 1) != NULL)
        return NODE_RETRACTED;
    if (a->expires != 0 && a->expires <= now)
        return NODE_EXPIRED;
    return NODE_ACTIVE;
}

/* Who retracted a retracted alert, for the view: of the retractions that
 * take effect, the earliest (then the lowest author key), so every node
 * names the same retractor whatever order the records arrived in. */
static void node__alert_retractor(const struct node *n, const struct alert_ent *a,
                                  struct node_alert *out)
{
    const struct annot_ent *best = node__retraction(n, a, 0);

    if (best == NULL)
        return;
    out->has_retractor = 1;
    memcpy(out->retracted_by, best->author, AGAH_PK_LEN);
    memb_name(&n->memb, best->author, out->retracted_by_name);
}

static void node__alert_fill(const struct node *n, const struct alert_ent *a, uint64_t now,
                             struct node_alert *out)
{
    unsigned confirms = 0;
    const char *target = alerts_target(&n->alerts, a);
    size_t tl = strlen(target), nl = strlen(target + tl + 1);
    const uint8_t *author = alerts_author(&n->alerts, a);

    /* `check` runs this per hit, millions of times a second: copy the
     * strings by length instead of clearing the whole 2 KiB body first.
     * alerts.c bounded both lengths when it stored them; the note follows
     * the target's NUL. */
    memcpy(out->id, a->id, AGAH_HASH_LEN);
    memcpy(out->author, author, AGAH_PK_LEN);
    out->body.kind = a->kind;
    out->body.category = a->category;
    out->body.severity = a->severity;
    memcpy(out->body.target, target, tl + 1);
    memcpy(out->body.note, target + tl + 1, nl + 1);
    memb_name(&n->memb, author, out->author_name);
    out->created = a->created;
    out->expires = a->expires;
    /* Distinct confirming authors, kept as records come and go: two table
     * probes however many confirmations there are (none when there are no
     * annotations anywhere, the common case). The author's own do not count. */
    confirms = annots_authors(&n->alerts.an, a->id, AGAH_REC_CONFIRM);
    if (confirms > 0 && annots_by(&n->alerts.an, a->id, author, AGAH_REC_CONFIRM))
        confirms--;
    out->confirmations = confirms;
    out->status = node__alert_status(n, a, now);
    out->author_revoked = memb_revoked_at(&n->memb, author) != MEMB_NEVER;
    out->has_retractor = 0;
    out->retracted_by_name[0] = '\0';
    if (out->status == NODE_RETRACTED)
        node__alert_retractor(n, a, out);
}

/* ------------------------------------------------------------------ */
/* Storing and removing                                                */

static void node__notify(struct node *n, const struct agah_rec *r)
{
    for (size_t i = 0; i < n->n_listeners; i++)
        n->listeners[i].cb(n->listeners[i].ctx, r);
}

static int node__tombstone(struct node *n, const uint8_t id[AGAH_HASH_LEN], uint64_t until)
{
    int r;
    if ((r = store_begin(n->store)) != 0 || (r = store_tombstone_put(n->store, id, until)) != 0)
        return r;
    return alerts_id_mark(&n->alerts, id, ALERTS_ID_TOMB);
}

/* Deletes a stored record from disk and memory; with `tomb`, remembers its
 * id so it is not fetched again. Does not recompute membership. */
static int node__drop(struct node *n, const uint8_t id[AGAH_HASH_LEN], int type, int tomb,
                      uint64_t until)
{
    struct store_rec row;
    int r, gone;
    if ((r = store_begin(n->store)) != 0)
        return r;
    if ((gone = store_delete(n->store, id, &row)) < 0)
        return gone;
    if (gone && row.type >= AGAH_REC_ALERT)
        quota_sub(&n->quota, row.author, row.created, row.len);
    if (gone && n->n_records > 0)
        n->n_records--;
    if (gone && type == AGAH_REC_ALERT && n->n_alerts > 0)
        n->n_alerts--;
    if (type < AGAH_REC_ALERT)
        (void)memb_remove(&n->memb, id);
    /* The id set and the view are one: forgetting the id removes the
     * alert or annotation from the view, and a tombstone replaces it. */
    if (tomb)
        return node__tombstone(n, id, until);
    (void)alerts_id_forget(&n->alerts, id);
    return 0;
}

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

static int node__rows_cb(void *ctx, const struct store_rec *sr)
{
    struct node_rows *rows = ctx;
    int r = agah_array_reserve((void **)&rows->v, &rows->cap, rows->n, sizeof *rows->v, 64,
                               SIZE_MAX);
    if (r != 0)
        return r;
    memcpy(rows->v[rows->n].id, sr->id, AGAH_HASH_LEN);
    memcpy(rows->v[rows->n].author, sr->author, AGAH_PK_LEN);
    rows->v[rows->n].type = sr->type;
    rows->v[rows->n].created = sr->created;
    rows->v[rows->n].expires = sr->expires;
    rows->n++;
    return 0;
}

/* Drops the annotations of an alert that is gone for good (rule 14 and
 * rule 8): they would otherwise linger forever. */
static int node__drop_annotations(struct node *n, const uint8_t alert[AGAH_HASH_LEN],
                                  uint64_t now)
{
    struct node_rows rows = {0};
    int r = store_scan_ref(n->store, alert, node__rows_cb, &rows);
    for (size_t i = 0; r == 0 && i < rows.n; i++)
        r = node__drop(n, rows.v[i].id, rows.v[i].type, 1,
                       node__tomb_until(now, rows.v[i].expires));
    free(rows.v);
    return r;
}

/* Whether a stored record is still valid under the current membership.
 * ADMISSION and REVOCATION records by a key of the organiser closure
 * always stay: membership weighs them itself. */
static int node__still_valid(const struct node *n, int type, const uint8_t author[AGAH_PK_LEN],
                             const uint8_t id[AGAH_HASH_LEN], uint64_t created)
{
    int role, r;
    switch (type) {
    case AGAH_REC_GENESIS:
        return 1;
    case AGAH_REC_ADMISSION:
    case AGAH_REC_REVOCATION:
        return memb_in_closure(&n->memb, author) ? 1 : 0;
    default:
        break;
    }
    if ((r = memb_record_ok(&n->memb, author, id, created, &role)) != 0)
        return 0;
    if (type == AGAH_REC_EPOCH)
        return role == AGAH_ROLE_ORGANISER;
    return role != AGAH_ROLE_RELAY;
}

/* Re-checks every stored record of one author; deletes those no longer
 * valid (rule 8). *memb_changed is set when a membership record went. */
static int node__revalidate_author(struct node *n, const uint8_t author[AGAH_PK_LEN],
                                   int *memb_changed)
{
    struct node_rows rows = {0};
    int r = store_scan_author(n->store, author, node__rows_cb, &rows);
    for (size_t i = 0; r == 0 && i < rows.n; i++) {
        uint8_t *buf = NULL;
        size_t len = 0;
        int v = node__still_valid(n, rows.v[i].type, author, rows.v[i].id, rows.v[i].created);
        if (v)
            continue;
        /* Not tombstoned: which revocations apply can change again as
         * records arrive (a revocation by a key that is itself revoked from
         * above stops applying), so the record waits with the pending ones
         * and is tried again on the next membership change. */
        if (store_get(n->store, rows.v[i].id, &buf, &len) == 0)
            node__pending_add(n, buf, len, rows.v[i].id);
        free(buf);
        r = node__drop(n, rows.v[i].id, rows.v[i].type, 0, 0);
        if (rows.v[i].type <= AGAH_REC_EPOCH)
            *memb_changed = 1;
    }
    free(rows.v);
    return r;
}

/* A fingerprint of one key's standing, to see whose records a membership
 * change can affect. */
struct node_keysig {
    uint8_t pk[AGAH_PK_LEN];
    uint64_t revsig, adm;
    uint32_t rank;
    int revoked;
};

static void node__keysig(const struct memb *m, const struct memb_key *k, struct node_keysig *s)
{
    memcpy(s->pk, k->pk, AGAH_PK_LEN);
    s->revsig = k->revsig;
    s->revoked = k->revoked;
    s->rank = k->rank;
    s->adm = 0;
    for (uint32_t b = k->adm_head; b != MEMB_NIL; b = m->adm[b].next) {
        uint64_t v;
        memcpy(&v, m->adm[b].id, sizeof v);
        if (m->adm[b].valid)
            s->adm ^= v;
    }
}

/* Fingerprints of every key's standing under the current (consistent)
 * derived membership. Caller frees *out. */
static int node__snapshot(const struct node *n, struct node_keysig **out, size_t *cnt)
{
    struct node_keysig *v = NULL;
    *out = NULL;
    *cnt = 0;
    if (n->memb.n_keys == 0)
        return 0;
    if ((v = malloc(n->memb.n_keys * sizeof *v)) == NULL)
        return AGAH_ENOMEM;
    for (size_t i = 0; i < n->memb.n_keys; i++)
        node__keysig(&n->memb, &n->memb.keys[i], &v[i]);
    *out = v;
    *cnt = n->memb.n_keys;
    return 0;
}

/* Recomputes membership after a revocation and deletes whatever it made
 * invalid (rule 8), repeating until nothing changes: dropping an admission
 * can invalidate what it grounded. */
static int node__membership_changed(struct node *n)
{
    struct node_keysig *before = NULL;
    size_t nb = 0;
    int r = 0, again = 1;

    if ((r = node__snapshot(n, &before, &nb)) != 0)
        return r;
    while (r == 0 && again) {
        struct node_keysig *changed = NULL, *next = NULL;
        size_t nc = 0, nn = 0;
        again = 0;
        if ((r = memb_recompute(&n->memb)) != 0)
            break;
        if (nb > 0 && (changed = malloc(nb * sizeof *changed)) == NULL) {
            r = AGAH_ENOMEM;
            break;
        }
        for (size_t i = 0; i < nb; i++) {
            uint32_t k;
            struct node_keysig after;
            if (idmap_get(&n->memb.keymap, before[i].pk, &k)) {
                node__keysig(&n->memb, &n->memb.keys[k], &after);
                if (after.revsig == before[i].revsig && after.adm == before[i].adm &&
                    after.revoked == before[i].revoked && after.rank == before[i].rank)
                    continue;
            }
            changed[nc++] = before[i];
        }
        /* The state the next round compares against. */
        if ((r = node__snapshot(n, &next, &nn)) != 0) {
            free(changed);
            break;
        }
        free(before);
        before = next;
        nb = nn;
        for (size_t i = 0; r == 0 && i < nc; i++)
            r = node__revalidate_author(n, changed[i].pk, &again);
        free(changed);
    }
    free(before);
    node__want_rekey(n, NODE_REKEY_SETTLE);
    return r;
}

/* Decrypts the stored alerts sealed under an epoch whose key just arrived. */
struct node_decrypt {
    struct node *n;
    /* Set only by node_open's rebuild, which reads back records this node
     * verified before it stored them, so it skips the signature check. */
    int stored;
};

static int node__decrypt_cb(void *ctx, const struct store_rec *sr)
{
    struct node_decrypt *d = ctx;
    struct agah_rec r;
    struct agah_alert_body *body = d->n->body;
    int rc = 0;

    if (alerts_get(&d->n->alerts, sr->id) != NULL)
        return 0;
    if ((d->stored ? agah_rec_decode_stored(sr->bytes, sr->len, node_community(d->n), &r, NULL)
                   : agah_rec_decode(sr->bytes, sr->len, node_community(d->n), &r, NULL)) != 0)
        return 0;
    if (node__open_alert(d->n, &r, body)) {
        rc = alerts_add(&d->n->alerts, r.id, r.author, r.created, r.expires, body);
        rc = rc < 0 ? rc : 0;
    }
    sodium_memzero(body, sizeof *body);
    return rc;
}

static int node__decrypt_epoch(struct node *n, const uint8_t epoch[AGAH_HASH_LEN])
{
    struct node_decrypt d = {.n = n};
    return store_scan_epoch_alerts(n->store, epoch, node__decrypt_cb, &d);
}

/* Follows the chain links back from an epoch whose key this node holds:
 * each link holds the key of an earlier epoch, so a member admitted late
 * reads the whole history. Stops at a key it already holds (what lies
 * behind it was followed when that key came), at a record it does not
 * have yet (followed when that record arrives), or at the first epoch. */
static int node__chain_walk(struct node *n, const uint8_t start[AGAH_HASH_LEN])
{
    uint8_t cur[AGAH_HASH_LEN], *prev_key = NULL;
    size_t added = 0;
    int rc = 0;

    memcpy(cur, start, AGAH_HASH_LEN);
    if ((prev_key = sodium_malloc(AGAH_KEY_LEN)) == NULL)
        return AGAH_ENOMEM;
    for (size_t hops = 0; hops < MEMB_MAX_EPOCHS && rc == 0; hops++) {
        uint8_t *buf = NULL;
        size_t len = 0;
        struct agah_rec r;
        const uint8_t *key = node__key(n, cur);
        if (key == NULL || store_get(n->store, cur, &buf, &len) != 0)
            break;
        if (agah_rec_decode_stored(buf, len, node_community(n), &r, NULL) != 0 ||
            r.type != AGAH_REC_EPOCH || !r.u.epoch.has_prev ||
            node__key(n, r.u.epoch.prev_id) != NULL ||
            agah_rec_epoch_prev_open(&r, key, prev_key) != 0) {
            free(buf);
            break;
        }
        memcpy(cur, r.u.epoch.prev_id, AGAH_HASH_LEN);
        free(buf);
        if ((rc = node__key_put(n, cur, prev_key, 0)) == AGAH_ETOOBIG) {
            /* The community file holds AGAH_LOCAL_MAX_EPOCHS keys: what
             * lies further back stays unread, and the node keeps going. */
            log_warn("%d epoch keys held: older alerts stay unreadable",
                     AGAH_LOCAL_MAX_EPOCHS);
            rc = 0;
            break;
        }
        if (rc == 0) {
            added++;
            rc = node__decrypt_epoch(n, cur);
        }
    }
    sodium_free(prev_key);
    /* One write, and one pass over the names, for the whole walk. */
    if (added > 0) {
        node__names(n);
        int w = agah_local_write(n->local_path, n->id, n->local);
        if (rc == 0)
            rc = w;
    }
    return rc;
}

/* An EPOCH sealed to this node: keep its key and read what it unlocks. */
static int node__epoch_arrived(struct node *n, const struct agah_rec *r)
{
    uint8_t *key;
    int rc;
    if (node__key(n, r->id) != NULL)
        return node__chain_walk(n, r->id);
    if ((key = sodium_malloc(AGAH_KEY_LEN)) == NULL)
        return AGAH_ENOMEM;
    rc = agah_rec_epoch_open(r, n->id, key);
    if (rc == AGAH_ENOENT) {
        rc = 0; /* not a recipient */
    } else if (rc == 0) {
        if ((rc = node__key_add(n, r->id, key)) == 0 && (rc = node__decrypt_epoch(n, r->id)) == 0)
            rc = node__chain_walk(n, r->id);
        else if (rc != 0)
            log_error("cannot keep a new epoch key: %s", agah_strerror(rc));
    }
    sodium_free(key);
    return rc;
}

/* Rule 1-7: may this record be stored now? 0 yes; else the error with
 * `why` and in *remember what to do with its id. */
static int node__validate(const struct node *n, const struct agah_rec *r, uint64_t now,
                          int *remember, struct agah_why *why)
{
    int role = -1, rc;

    *remember = REJ_FORGET;
    if (r->created > now + NODE_SKEW)
        return agah_fail(why, AGAH_EVALUE, "created %llu s in the future",
                         (unsigned long long)(r->created - now));
    /* Only alerts expire out of the store. An expired admission stays: it
     * still grounds what its member signed while admitted, and every node
     * must hold it for that, however late it arrives. */
    if (r->type == AGAH_REC_ALERT && r->expires != 0 && r->expires <= now) {
        *remember = REJ_TOMB;
        return agah_fail(why, AGAH_EEXPIRED, "already expired");
    }
    if (r->type == AGAH_REC_GENESIS)
        return 0;
    if (!n->memb.have_genesis) {
        *remember = REJ_PENDING;
        return agah_fail(why, AGAH_EPERM, "unknown author (no genesis record yet)");
    }
    switch (r->type) {
    case AGAH_REC_ADMISSION:
    case AGAH_REC_REVOCATION:
        if (memb_in_closure(&n->memb, r->author))
            return 0;
        *remember = REJ_PENDING;
        if (memb_known(&n->memb, r->author))
            return agah_fail(why, AGAH_EPERM, "only organisers may sign %s",
                             r->type == AGAH_REC_ADMISSION ? "admissions" : "revocations");
        return agah_fail(why, AGAH_EPERM, "unknown author");
    default:
        break;
    }
    rc = memb_record_ok(&n->memb, r->author, r->id, r->created, &role);
    if (rc == AGAH_EPERM) {
        /* Whatever its created says: a revocation lists what it keeps. It
         * waits with the pending records rather than being tombstoned, as
         * the revocation may stop applying (see node__revalidate_author). */
        *remember = REJ_PENDING;
        return agah_fail(why, AGAH_EPERM, "author revoked, and no revocation keeps this record");
    }
    *remember = REJ_PENDING;
    if (rc != 0)
        return agah_fail(why, AGAH_EPERM, "unknown author");
    if (r->type == AGAH_REC_EPOCH && role != AGAH_ROLE_ORGANISER)
        return agah_fail(why, AGAH_EPERM, "only organisers may sign epochs");
    if (role == AGAH_ROLE_RELAY)
        return agah_fail(why, AGAH_EPERM, "relays sign nothing");
    if (r->type == AGAH_REC_CONFIRM || r->type == AGAH_REC_RETRACT) {
        if (alerts_id_state(&n->alerts, r->u.sealed.ref) == ALERTS_ID_TOMB) {
            *remember = REJ_TOMB;
            return agah_fail(why, AGAH_EVALUE, "the alert it refers to is gone");
        }
    }
    *remember = REJ_FORGET;
    return 0;
}

/* The open transaction's commit failed and SQLite rolled it back: the
 * records it held are forgotten (id set, views, membership), so memory
 * matches the store again and the next reconciliation asks for them. */
static void node__lost_batch(struct node *n)
{
    int memb = 0;

    if (n->n_unc == 0)
        return;
    log_warn("%zu records from peers could not be stored; they will be fetched again",
             n->n_unc);
    for (size_t i = n->n_unc; i-- > 0;) {
        if (n->unc[i].type <= AGAH_REC_EPOCH) {
            (void)memb_remove(&n->memb, n->unc[i].id);
            memb = 1;
        }
        (void)alerts_id_forget(&n->alerts, n->unc[i].id);
        if (n->n_records > 0)
            n->n_records--;
        if (n->unc[i].type == AGAH_REC_ALERT && n->n_alerts > 0)
            n->n_alerts--;
    }
    n->n_unc = 0;
    if (memb && memb_recompute(&n->memb) != 0)
        log_error("membership could not be recomputed after a failed commit");
    node__quota_recount(n);
}

/* Stores a valid record and updates the views. With `durable`, it is
 * committed before this returns (R1); otherwise it joins the open ingest
 * transaction that node_flush commits. Returns 1 stored, 0 already there. */
static int node__accept(struct node *n, const struct agah_rec *r, int durable)
{
    struct store_rec sr;
    struct agah_alert_body *body = NULL;
    int readable = 0, rc, added_memb = 0;

    memset(&sr, 0, sizeof sr);
    memcpy(sr.id, r->id, AGAH_HASH_LEN);
    sr.type = r->type;
    memcpy(sr.author, r->author, AGAH_PK_LEN);
    sr.created = r->created;
    sr.expires = r->expires;
    sr.bytes = r->bytes;
    sr.len = r->len;
    if (r->type >= AGAH_REC_ALERT) {
        sr.epoch = r->u.sealed.epoch;
        if (r->type != AGAH_REC_ALERT)
            sr.ref = r->u.sealed.ref;
    }
    if (r->type == AGAH_REC_ALERT) {
        body = n->body;
        readable = node__open_alert(n, r, body);
    }
    /* Membership first, so a full table refuses before anything is written. */
    if (r->type <= AGAH_REC_EPOCH) {
        if ((rc = memb_add(&n->memb, r)) != 0)
            goto out;
        added_memb = 1;
    }
    if ((rc = store_begin(n->store)) != 0 || (rc = store_put(n->store, &sr)) < 0)
        goto out;
    if (rc == 0)
        goto out; /* already stored: our id set was out of step; nothing to do */
    if (durable) {
        /* The commit carries the open batch too: it stands or falls with it. */
        if ((rc = store_commit(n->store)) != 0) {
            node__lost_batch(n);
            goto out;
        }
        n->n_unc = 0;
    } else if (n->n_unc < sizeof n->unc / sizeof n->unc[0]) {
        memcpy(n->unc[n->n_unc].id, r->id, AGAH_HASH_LEN);
        n->unc[n->n_unc++].type = (uint8_t)r->type;
    }
    added_memb = 0;
    /* Alerts and annotations enter the id set with their view entry
     * below; every other record (and an alert this node cannot read) now. */
    if ((r->type < AGAH_REC_ALERT || (r->type == AGAH_REC_ALERT && !readable)) &&
        (rc = alerts_id_mark(&n->alerts, r->id, ALERTS_ID_STORED)) != 0)
        log_error("id set full: %s", agah_strerror(rc));
    n->n_records++;
    if (r->type == AGAH_REC_ALERT)
        n->n_alerts++;
    rc = 0;
    switch (r->type) {
    case AGAH_REC_GENESIS:
        n->retry_pending = 1;
        rc = memb_recompute(&n->memb);
        node__names(n);
        break;
    case AGAH_REC_ADMISSION:
        node__names(n);
        /* fall through */
    case AGAH_REC_REVOCATION:
        /* Either can change which revocations apply (an admission may be
         * what makes its author's revocation count), so both re-check the
         * records of every key whose standing moved. */
        n->retry_pending = 1;
        rc = node__membership_changed(n);
        break;
    case AGAH_REC_EPOCH:
        if ((rc = memb_recompute(&n->memb)) == 0)
            rc = node__epoch_arrived(n, r);
        node__want_rekey(n, NODE_REKEY_SETTLE);
        break;
    case AGAH_REC_ALERT:
        if (readable)
            rc = alerts_add(&n->alerts, r->id, r->author, r->created, r->expires, body);
        break;
    default:
        rc = alerts_annot_add(&n->alerts, r->id, r->u.sealed.ref, r->author, r->created,
                              r->type);
        break;
    }
    if (rc < 0)
        log_error("record stored but a view is behind: %s", agah_strerror(rc));
    if (rc < 0 && r->type >= AGAH_REC_ALERT) {
        /* The view refused it (full): the id must still be known. */
        int m = alerts_id_mark(&n->alerts, r->id, ALERTS_ID_STORED);
        if (m != 0)
            log_error("id set full: %s", agah_strerror(m));
    }
    if (durable) {
        /* Cascaded deletions and lookups join the next commit. */
    } else if (++n->batch >= NODE_BATCH_MAX) {
        (void)node_flush(n);
    }
    node__notify(n, r);
    rc = 1;
out:
    if (rc <= 0 && added_memb)
        (void)memb_remove(&n->memb, r->id);
    if (rc < 0 && durable)
        (void)store_rollback(n->store);
    if (body != NULL)
        sodium_memzero(body, sizeof *body);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Per-author quotas (quota.h; PROTOCOL.md "Per-author quotas")        */

/* A post past its author's cut leaves the store and the views. It is not
 * tombstoned: it is as if it had never arrived, so it comes back only if
 * the author's earlier posts leave (they expire) while a peer still holds
 * it, which is what the rule, a function of the stored set, says. */
static int node__quota_drop(void *ctx, const struct store_post *p)
{
    struct node *n = ctx;
    n->quota_dropped++;
    return node__drop(n, p->id, p->type, 0, 0);
}

/* 0 when the post `r` may be stored (it is counted, and whatever its
 * arrival put past its author's cut is gone); else why not. */
static int node__quota(struct node *n, const struct agah_rec *r, struct agah_why *why)
{
    int k = quota_class_of(r->len), rc;
    uint32_t posts, day;

    if (r->type < AGAH_REC_ALERT)
        return 0;
    rc = quota_admit(&n->quota, n->store, r->author, r->created, r->id, r->len,
                     node__quota_drop, n);
    if (rc == 0)
        return 0;
    if (rc != AGAH_EQUOTA)
        return agah_fail(why, rc, "cannot apply the author's quota: %s", agah_strerror(rc));
    quota_get(&n->quota, r->author, r->len, r->created, &posts, &day);
    return agah_fail(why, AGAH_EQUOTA,
                     "over its author's quota of %s posts: %" PRIu32 " dated that UTC day (at "
                     "most %" PRIu32 "), %" PRIu32 " stored (at most %" PRIu32 ")",
                     k == 0 ? "small" : "large (notes over about 900 bytes)", day,
                     n->quota.lim.day_posts[k], posts, n->quota.lim.posts[k]);
}

static int node__quota_count_cb(void *ctx, const struct store_rec *sr)
{
    struct node *n = ctx;
    return quota_add(&n->quota, sr->author, sr->created, sr->len);
}

/* The counts again from the store, after a batch that did not commit (its
 * rows and the deletions it made are back as they were). */
static void node__quota_recount(struct node *n)
{
    quota_clear(&n->quota);
    if (store_scan(n->store, AGAH_REC_ALERT, AGAH_REC_RETRACT, node__quota_count_cb, n) != 0)
        log_error("the per-author quota counts could not be read again from the store");
}

/* Drops the posts past each author's cut: a store written before the
 * quotas, or under other limits. */
static int node__quota_trim(struct node *n)
{
    size_t dropped = 0;
    int rc = quota_trim_all(&n->quota, n->store, node__quota_drop, n, &dropped);

    if (rc == 0 && dropped > 0) {
        log_info("dropped %zu posts beyond their authors' quotas", dropped);
        rc = node_flush(n);
    }
    return rc;
}

/* ------------------------------------------------------------------ */
/* Pending records (rule 7)                                            */

static void node__pending_drop_oldest(struct node *n)
{
    struct node_pending *p = &n->pending[n->p_head];
    n->p_bytes -= p->len;
    free(p->buf);
    p->buf = NULL;
    n->p_head = (n->p_head + 1) % NODE_PENDING_MAX;
    n->p_count--;
}

static void node__pending_add(struct node *n, const uint8_t *buf, size_t len,
                              const uint8_t id[AGAH_HASH_LEN])
{
    struct node_pending *p;
    for (size_t i = 0; i < n->p_count; i++)
        if (memcmp(n->pending[(n->p_head + i) % NODE_PENDING_MAX].id, id, AGAH_HASH_LEN) == 0)
            return;
    while (n->p_count > 0 &&
           (n->p_count >= NODE_PENDING_MAX || n->p_bytes + len > NODE_PENDING_BYTES))
        node__pending_drop_oldest(n);
    p = &n->pending[(n->p_head + n->p_count) % NODE_PENDING_MAX];
    if ((p->buf = malloc(len)) == NULL)
        return; /* not remembered: reconciliation fetches it again */
    memcpy(p->buf, buf, len);
    p->len = len;
    memcpy(p->id, id, AGAH_HASH_LEN);
    n->p_count++;
    n->p_bytes += len;
}

/* Retries every pending record while admissions keep arriving. */
static void node__pending_retry(struct node *n)
{
    while (n->retry_pending && n->p_count > 0) {
        size_t cnt = n->p_count;
        struct node_pending *batch = malloc(cnt * sizeof *batch);
        n->retry_pending = 0;
        if (batch == NULL)
            return;
        for (size_t i = 0; i < cnt; i++) {
            batch[i] = n->pending[n->p_head];
            n->pending[n->p_head].buf = NULL;
            n->p_head = (n->p_head + 1) % NODE_PENDING_MAX;
        }
        n->p_count = 0;
        n->p_bytes = 0;
        for (size_t i = 0; i < cnt; i++) {
            /* Every pending record had its signature checked before it was
             * first judged (from a peer, a file or the store), so a retry
             * skips it: a full list retried on each membership change would
             * otherwise cost 1,024 signature checks each time. */
            struct agah_rec r;
            if (alerts_id_state(&n->alerts, batch[i].id) == ALERTS_ID_NONE &&
                agah_rec_decode_stored(batch[i].buf, batch[i].len, node_community(n), &r,
                                       NULL) == 0)
                (void)node__ingest_rec(n, &r, NULL);
            free(batch[i].buf);
        }
        free(batch);
    }
    n->retry_pending = 0;
}

/* ------------------------------------------------------------------ */
/* Ingest                                                              */

/* A record decoded and verified (agah_rec_decode): validated, then stored
 * or remembered as rejected or pending. */
static int node__ingest_rec(struct node *n, const struct agah_rec *rp, struct agah_why *why)
{
    struct agah_rec r = *rp;
    const uint8_t *id = rp->id, *buf = rp->bytes;
    size_t len = rp->len;
    int rc, remember;
    uint64_t now = node_now(n);

    if ((rc = node__validate(n, &r, now, &remember, why)) != 0) {
        if (remember == REJ_TOMB) {
            int t = node__tombstone(n, id, node__tomb_until(now, r.expires));
            if (t != 0)
                log_warn("cannot remember a rejected id: %s", agah_strerror(t));
            if (r.type == AGAH_REC_ALERT)
                (void)node__drop_annotations(n, id, now);
        } else if (remember == REJ_PENDING) {
            node__pending_add(n, buf, len, id);
        }
        return rc;
    }
    if ((rc = node__quota(n, &r, why)) != 0)
        return rc;
    rc = node__accept(n, &r, 0);
    if (rc <= 0 && r.type >= AGAH_REC_ALERT)
        quota_sub(&n->quota, r.author, r.created, r.len);
    if (rc < 0)
        return agah_fail(why, rc, "cannot store the record: %s", agah_strerror(rc));
    return rc;
}

static int node__ingest_new(struct node *n, const uint8_t *buf, size_t len,
                            struct agah_why *why)
{
    struct agah_rec r;
    int rc;

    if ((rc = agah_rec_decode(buf, len, node_community(n), &r, why)) != 0)
        return rc;
    return node__ingest_rec(n, &r, why);
}

int node_ingest(struct node *n, const uint8_t *buf, size_t len, struct agah_why *why)
{
    uint8_t id[AGAH_HASH_LEN];
    int rc;

    if (buf == NULL || len == 0)
        return agah_fail(why, AGAH_ETRUNC, "empty record");
    if (len > AGAH_REC_MAX)
        return agah_fail(why, AGAH_ETOOBIG, "record of %zu bytes, at most %d allowed", len,
                         AGAH_REC_MAX);
    /* Rule 16: a duplicate costs one hash and one lookup, no signature. */
    agah_hash(buf, len, id);
    if (alerts_id_state(&n->alerts, id) != ALERTS_ID_NONE)
        return 0;
    rc = node__ingest_new(n, buf, len, why);
    (void)node__maintain(n);
    return rc;
}

int node_ingest_decoded(struct node *n, const struct agah_rec *r, struct agah_why *why)
{
    int rc;

    if (r == NULL || r->bytes == NULL || r->len == 0)
        return agah_fail(why, AGAH_EINVAL, "no record");
    if (memcmp(r->community, node_community(n), AGAH_HASH_LEN) != 0 &&
        !(r->type == AGAH_REC_GENESIS && memcmp(r->id, node_community(n), AGAH_HASH_LEN) == 0))
        return agah_fail(why, AGAH_ECOMMUNITY, "a record of another community");
    if (alerts_id_state(&n->alerts, r->id) != ALERTS_ID_NONE)
        return 0;
    rc = node__ingest_rec(n, r, why);
    (void)node__maintain(n);
    return rc;
}

int node_flush(struct node *n)
{
    int r = store_commit(n->store);
    if (r != 0)
        node__lost_batch(n);
    n->n_unc = 0;
    n->batch = 0;
    return r;
}

/* Signs-and-stores path for records this node makes: validated like any
 * other, committed durably before returning (R1). */
static int node__local(struct node *n, uint8_t *buf, size_t len, uint8_t id[AGAH_HASH_LEN],
                       struct agah_why *why)
{
    struct agah_rec r;
    int rc, remember;

    if ((rc = agah_rec_decode(buf, len, node_community(n), &r, why)) != 0)
        return rc;
    if ((rc = node__validate(n, &r, node_now(n), &remember, why)) != 0 ||
        (rc = node__quota(n, &r, why)) != 0)
        return rc;
    rc = node__accept(n, &r, 1);
    if (rc <= 0 && r.type >= AGAH_REC_ALERT)
        quota_sub(&n->quota, r.author, r.created, r.len);
    if (rc < 0)
        return agah_fail(why, rc, "cannot store the record: %s", agah_strerror(rc));
    if (id != NULL)
        memcpy(id, r.id, AGAH_HASH_LEN);
    return 0;
}

/* Whether this node holds an epoch key whose record it has not seen yet
 * (nor refused): a join code's keys arrive before their records. */
static int node__key_unseen(const struct node *n)
{
    /* The genesis key, held under the community id, has no EPOCH record. */
    for (size_t i = 0; i < n->local->n_epochs; i++)
        if (memcmp(n->local->epochs[i].id, node_community(n), AGAH_HASH_LEN) != 0 &&
            memb_find_epoch(&n->memb, n->local->epochs[i].id) < 0 &&
            alerts_id_state(&n->alerts, n->local->epochs[i].id) == ALERTS_ID_NONE)
            return 1;
    return 0;
}

/* An organiser whose community posts under no clean epoch, or under one
 * that misses a current organiser or member, issues a new one sealed to
 * every current organiser and member (never relays); with `force`, any
 * organiser issues one. */
static int node__rekey(struct node *n, int force)
{
    uint64_t now = node_now(n), number = 0, created;
    uint8_t (*recips)[AGAH_PK_LEN] = NULL, (*rels)[AGAH_PK_LEN];
    uint8_t *key = NULL, *buf = NULL, eid[AGAH_HASH_LEN];
    size_t cnt = 0, n_rel = 0, len = 0;
    int role, rc = 0;

    if (memb_role_at(&n->memb, agah_identity_pk(n->id), now, &role) != 0 ||
        role != AGAH_ROLE_ORGANISER || (!force && !memb_needs_rekey(&n->memb, now)))
        goto out;
    if (!force && now < n->opened_at + NODE_REKEY_WAIT_KEYS && node__key_unseen(n)) {
        /* A new organiser: the epochs its code carried are on their way. */
        node__want_rekey(n, NODE_REKEY_SETTLE);
        goto out;
    }
    created = now > n->memb.clean_after ? now : n->memb.clean_after;
    if (created > now + NODE_SKEW) {
        log_warn("rekey postponed: a revocation is dated in the future");
        goto out;
    }
    for (size_t i = 0; i < n->memb.n_ep; i++)
        if (n->memb.ep[i].number > number)
            number = n->memb.ep[i].number;
    if ((recips = malloc(2 * AGAH_EPOCH_MAX_MEMBERS * sizeof *recips)) == NULL) {
        rc = AGAH_ENOMEM;
        goto out;
    }
    rels = recips + AGAH_EPOCH_MAX_MEMBERS;
    cnt = memb_recipients(&n->memb, now, recips, AGAH_EPOCH_MAX_MEMBERS);
    n_rel = memb_relays(&n->memb, now, rels, AGAH_EPOCH_MAX_MEMBERS);
    if (cnt > AGAH_EPOCH_MAX_MEMBERS || n_rel > AGAH_EPOCH_MAX_MEMBERS) {
        log_error("rekey impossible: %zu members and %zu relays, at most %d each", cnt, n_rel,
                  AGAH_EPOCH_MAX_MEMBERS);
        rc = AGAH_ETOOBIG;
        goto out;
    }
    if ((key = sodium_malloc(2 * AGAH_KEY_LEN)) == NULL) {
        rc = AGAH_ENOMEM;
        goto out;
    }
    agah_random(key, AGAH_KEY_LEN);
    /* Chained to the newest epoch this node holds, so whoever opens the new
     * one can walk back through the history (node__chain_walk). */
    long prev = -1;
    for (size_t i = 0; i < n->memb.n_ep; i++)
        if (node__key(n, n->memb.ep[i].id) != NULL &&
            (prev < 0 || n->memb.ep[i].number > n->memb.ep[prev].number))
            prev = (long)i;
    struct agah_epoch_spec sp = {
        .number = number + 1, .recipients = (const uint8_t (*)[32])recips, .n = cnt,
        .relays = (const uint8_t (*)[32])rels, .n_relays = n_rel, .key = key,
        .prev_id = prev >= 0 ? n->memb.ep[prev].id : NULL,
        .prev_key = prev >= 0 ? node__key(n, n->memb.ep[prev].id) : NULL, .created = created};
    /* The network secret goes on while no revoked key can hold it, so a
     * node that slept through an invitation still links; else it is new. */
    long pe = memb_posting_epoch(&n->memb, now);
    if (pe >= 0 && memb_net_clean(&n->memb, (size_t)pe) &&
        node__net_open(n, (size_t)pe, key + AGAH_KEY_LEN) == 0) {
        sp.net_origin = n->memb.ep[pe].net_id;
        sp.net = key + AGAH_KEY_LEN;
    }
    if ((rc = agah_rec_epoch_make(n->id, node_community(n), &sp, &buf, &len)) != 0)
        goto out;
    agah_hash(buf, len, eid);
    /* The key is on disk before the record that needs it leaves us. */
    if ((rc = node__key_add(n, eid, key)) != 0)
        goto out;
    if ((rc = node__local(n, buf, len, NULL, NULL)) != 0)
        goto out;
    /* Storing our own epoch asked for a check; it would find nothing. */
    n->rekey_at = 0;
    log_info("issued epoch %llu to %zu members and %zu relays%s", (unsigned long long)(number + 1),
             cnt, n_rel, sp.net != NULL ? "" : ", with a new network secret");
out:
    if (rc != 0)
        log_error("rekey failed: %s", agah_strerror(rc));
    if (key != NULL)
        sodium_free(key);
    free(recips);
    free(buf);
    return rc;
}

static void node__want_rekey(struct node *n, uint64_t delay)
{
    uint64_t at = node_now(n) + delay;
    if (n->rekey_at == 0 || n->rekey_at > at)
        n->rekey_at = at;
}

static int node__maintain(struct node *n)
{
    int rc = 0;
    node__pending_retry(n);
    if (n->rekey_at != 0 && node_now(n) >= n->rekey_at) {
        n->rekey_at = 0;
        rc = node__rekey(n, 0);
    }
    return rc;
}

int node_tick(struct node *n)
{
    return node__maintain(n);
}

/* ------------------------------------------------------------------ */
/* Open and close                                                      */

static int node__load_tomb(void *ctx, const uint8_t id[AGAH_HASH_LEN], uint64_t until)
{
    struct node *n = ctx;
    (void)until;
    return alerts_id_mark(&n->alerts, id, ALERTS_ID_TOMB);
}

/* The store only holds records that passed agah_rec_decode before they
 * were written, so the rebuild skips their signatures (most of the start-up
 * time at 100,000 records) and still checks everything else. */
static int node__load_memb(void *ctx, const struct store_rec *sr)
{
    struct node *n = ctx;
    struct agah_rec r;
    int rc;
    if (agah_rec_decode_stored(sr->bytes, sr->len, node_community(n), &r, NULL) != 0) {
        log_warn("store holds a record that no longer decodes; ignoring it");
        return 0;
    }
    if ((rc = memb_add(&n->memb, &r)) != 0 ||
        (rc = alerts_id_mark(&n->alerts, sr->id, ALERTS_ID_STORED)) != 0)
        return rc;
    n->n_records++;
    return 0;
}

struct node_load {
    struct node *n;
    struct node_decrypt decrypt;
};

static int node__load_rest(void *ctx, const struct store_rec *sr)
{
    struct node_load *l = ctx;
    struct node *n = l->n;
    int rc = 0;

    n->n_records++;
    if ((rc = quota_add(&n->quota, sr->author, sr->created, sr->len)) != 0)
        return rc;
    if (sr->type == AGAH_REC_ALERT) {
        n->n_alerts++;
        /* Only alerts this node has a key for are worth a decode. */
        if (sr->epoch != NULL && node__key(n, sr->epoch) != NULL)
            rc = node__decrypt_cb(&l->decrypt, sr);
    } else if (sr->ref != NULL) {
        rc = alerts_annot_add(&n->alerts, sr->id, sr->ref, sr->author, sr->created, sr->type);
    }
    if (rc < 0)
        return rc;
    /* A stored record outranks a tombstone of the same id. */
    if (alerts_id_state(&n->alerts, sr->id) != ALERTS_ID_STORED)
        return alerts_id_mark(&n->alerts, sr->id, ALERTS_ID_STORED);
    return 0;
}

/* Opens the epochs sealed to this node whose keys it lacks (an epoch that
 * arrived while the community file could not be written, or a restore). */
static int node__open_missing_epochs(struct node *n)
{
    const uint8_t *me = agah_identity_pk(n->id);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n->memb.n_ep; i++) {
        const struct memb_epoch *e = &n->memb.ep[i];
        uint8_t *buf = NULL, eid[AGAH_HASH_LEN];
        size_t len = 0;
        struct agah_rec r;
        int mine = 0;
        if (node__key(n, e->id) != NULL)
            continue;
        for (size_t j = 0; j < e->n && !mine; j++)
            mine = memcmp(e->recips[j], me, AGAH_PK_LEN) == 0;
        if (!mine)
            continue;
        memcpy(eid, e->id, AGAH_HASH_LEN);
        if (store_get(n->store, eid, &buf, &len) == 0 &&
            agah_rec_decode(buf, len, node_community(n), &r, NULL) == 0) {
            uint8_t *key = sodium_malloc(AGAH_KEY_LEN);
            if (key == NULL)
                rc = AGAH_ENOMEM;
            else if (agah_rec_epoch_open(&r, n->id, key) == 0)
                rc = node__key_add(n, eid, key);
            if (key != NULL)
                sodium_free(key);
        }
        free(buf);
    }
    return rc;
}

static int node__addr_ok(const char *addr);
static int node__path(char out[AGAH_PATH_MAX], const char *dir, const char *name);

/* Adds a peer address to the community file's list in memory; 1 added,
 * 0 already there or the list is full (the net keeps as many). */
static int node__peer_keep(struct node *n, const char *addr)
{
    struct agah_local *l = n->local;
    for (size_t i = 0; i < l->n_peers; i++)
        if (strcmp(l->peers[i], addr) == 0)
            return 0;
    if (l->n_peers >= AGAH_LOCAL_MAX_PEERS)
        return 0;
    (void)snprintf(l->peers[l->n_peers++], AGAH_ADDR_MAX, "%s", addr);
    return 1;
}

/* What an older store's plaintext peers table held moves into the
 * community file (written by node__store_open once the store is open). */
struct node_legacy {
    struct node *n;
    size_t added;
};

static void node__legacy_peer(void *ctx, const char *addr)
{
    struct node_legacy *lg = ctx;
    if (node__addr_ok(addr))
        lg->added += (size_t)node__peer_keep(lg->n, addr);
}

/* Opens store.db under the store key from DIR/store.key (made on the
 * first open by this agah, with the plaintext DIR/name moved into it). A
 * store of an older agah is sealed on the way (store_open). */
static int node__store_open(struct node *n, const char *db_path, struct agah_why *why)
{
    struct agah_storekey *sk = NULL;
    struct node_legacy lg = {n, 0};
    char sk_path[AGAH_PATH_MAX];
    struct stat sb;
    int rc, sealed = 0;

    /* A sealed store whose key file is gone (destroyed on purpose, or the
     * directory copied without it) is unreadable for good: say so, rather
     * than make a new key under which nothing opens. */
    if (node__path(sk_path, n->dir, "store.key") != 0)
        return agah_fail(why, AGAH_EINVAL, "data directory path too long");
    if (stat(sk_path, &sb) != 0 && errno == ENOENT && store_is_sealed(db_path, &sealed) == 0 &&
        sealed)
        return agah_fail(why, AGAH_ECRYPTO,
                         "%s is sealed under a store key, but %s is gone: the store cannot "
                         "be read; move store.db away to start with an empty one, which "
                         "peers fill again",
                         db_path, sk_path);
    if ((rc = agah_storekey_open(n->dir, n->id, &sk, why)) != 0)
        return rc;
    rc = store_open(db_path, sk->key, node__legacy_peer, &lg, &n->store, why);
    agah_storekey_free(sk);
    if (rc == 0 && lg.added > 0 &&
        (rc = agah_local_write(n->local_path, n->id, n->local)) != 0)
        rc = agah_fail(why, rc, "cannot write %s: %s", n->local_path, agah_strerror(rc));
    return rc;
}

static int node__load(struct node *n, struct agah_why *why)
{
    struct node_load l = {.n = n, .decrypt = {.n = n, .stored = 1}};
    int rc;

    if ((rc = store_tombstone_scan(n->store, node__load_tomb, n)) != 0 ||
        (rc = store_scan(n->store, AGAH_REC_GENESIS, AGAH_REC_EPOCH, node__load_memb, n)) != 0 ||
        (rc = memb_recompute(&n->memb)) != 0 || (rc = node__open_missing_epochs(n)) != 0 ||
        (rc = store_scan(n->store, AGAH_REC_ALERT, AGAH_REC_RETRACT, node__load_rest, &l)) != 0 ||
        (rc = node__quota_trim(n)) != 0)
        return agah_fail(why, rc, "cannot load %s/store.db: %s", n->dir, agah_strerror(rc));
    node__names(n);
    return 0;
}

static int node__path(char out[AGAH_PATH_MAX], const char *dir, const char *name)
{
    int w = snprintf(out, AGAH_PATH_MAX, "%s/%s", dir, name);
    return (w < 0 || w >= AGAH_PATH_MAX) ? AGAH_EINVAL : 0;
}

int node_open(const char *data_dir, const char *passphrase, size_t passlen,
              uint64_t (*now)(void), struct node **out, struct agah_why *why)
{
    struct node *n = NULL;
    char key_path[AGAH_PATH_MAX], lock_path[AGAH_PATH_MAX], db_path[AGAH_PATH_MAX];
    struct stat st;
    int rc = AGAH_EINTERNAL;

    if ((rc = agah_init()) != 0)
        goto out;
    if ((n = calloc(1, sizeof *n)) == NULL) {
        rc = AGAH_ENOMEM;
        goto out;
    }
    n->lock_fd = -1;
    n->now = now;
    idmap_init(&n->ekeys, AGAH_LOCAL_MAX_EPOCHS);
    memb_init(&n->memb);
    alerts_init(&n->alerts);
    quota_init(&n->quota, NULL);
    if (strlen(data_dir) >= sizeof n->dir || node__path(key_path, data_dir, "identity.key") ||
        node__path(n->local_path, data_dir, "community") ||
        node__path(lock_path, data_dir, "agahd.lock") ||
        node__path(db_path, data_dir, "store.db")) {
        rc = agah_fail(why, AGAH_EINVAL, "data directory path too long");
        goto out;
    }
    memcpy(n->dir, data_dir, strlen(data_dir) + 1);
    if (stat(key_path, &st) != 0) {
        rc = agah_fail(why, AGAH_ENOENT, "no identity in %.90s: run `agah --data %.90s init` first",
                       data_dir, data_dir);
        goto out;
    }
    if (stat(n->local_path, &st) != 0) {
        rc = agah_fail(why, AGAH_ENOENT,
                       "no community in %.90s: run `agah community create NAME` or "
                       "`agah join CODE`, with --data %.90s",
                       data_dir, data_dir);
        goto out;
    }
    /* The lock comes before anything is read or written, so a second
     * agahd never touches the store. flock locks belong to the open file,
     * so even a second open in the same process is refused. */
    n->lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (n->lock_fd < 0) {
        rc = agah_fail(why, AGAH_EIO, "cannot open %s: %s", lock_path, strerror(errno));
        goto out;
    }
    if (flock(n->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK)
            rc = agah_fail(why, AGAH_EEXIST, "another agahd is running on %s", data_dir);
        else
            rc = agah_fail(why, AGAH_EIO, "cannot lock %s: %s", lock_path, strerror(errno));
        goto out;
    }
    if ((rc = agah_keyfile_read(key_path, passphrase, passlen, &n->id, why)) != 0)
        goto out;
    if ((rc = agah_local_read(n->local_path, n->id, &n->local, why)) != 0)
        goto out;
    for (size_t i = 0; i < n->local->n_epochs; i++)
        if ((rc = idmap_put(&n->ekeys, n->local->epochs[i].id, (uint32_t)i)) != 0)
            goto out;
    if ((n->body = sodium_malloc(sizeof *n->body)) == NULL ||
        netsecret_cache_new(&n->nets) != 0) {
        rc = AGAH_ENOMEM;
        goto out;
    }
    if ((rc = node__store_open(n, db_path, why)) != 0 || (rc = node__load(n, why)) != 0)
        goto out;
    /* Chain links not followed yet (a join code's keys, an older store). */
    for (size_t i = 0; i < n->local->n_epochs; i++) {
        uint8_t eid[AGAH_HASH_LEN];
        int wr;
        memcpy(eid, n->local->epochs[i].id, AGAH_HASH_LEN);
        /* Not fatal: the alerts it would open stay unread, as before. */
        if ((wr = node__chain_walk(n, eid)) != 0) {
            log_warn("cannot follow an epoch's chain: %s", agah_strerror(wr));
            break;
        }
    }
    if ((rc = node_flush(n)) != 0) {
        rc = agah_fail(why, rc, "cannot write %s", db_path);
        goto out;
    }
    /* Import what `community create` or `join` left for us. */
    for (size_t i = 0; i < n->local->n_records; i++) {
        struct agah_why w = {{0}};
        int ir = node_ingest(n, n->local->records[i], n->local->record_lens[i], &w);
        /* An admission by an organiser other than the founder waits for
         * that organiser's own admission, which the first peer sends. */
        if (ir == AGAH_EVERSION) {
            /* Records of another protocol version can never be read here:
             * the node would run without its community, silently. */
            rc = agah_fail(why, AGAH_EVERSION,
                           "%s was made by another version of agah (%s); this agah speaks "
                           "record version %d. Make a new identity and community with "
                           "`agah init` and `agah community create`, or ask an organiser "
                           "for a new invitation, in a new data directory",
                           data_dir, w.msg, AGAH_REC_VERSION);
            goto out;
        }
        if (ir == AGAH_EPERM)
            log_info("bootstrap record %zu waits: %s", i, w.msg);
        else if (ir < 0)
            log_warn("bootstrap record %zu not imported: %s", i, w.msg);
    }
    n->opened_at = node_now(n);
    n->rekey_at = n->opened_at;
    (void)node__maintain(n);
    if ((rc = node_flush(n)) != 0) {
        rc = agah_fail(why, rc, "cannot write %s", db_path);
        goto out;
    }
    *out = n;
    n = NULL;
    rc = 0;
out:
    node_close(n);
    return rc;
}

void node_close(struct node *n)
{
    if (n == NULL)
        return;
    if (n->store != NULL) {
        (void)node_flush(n);
        store_close(n->store);
    }
    while (n->p_count > 0)
        node__pending_drop_oldest(n);
    alerts_free(&n->alerts);
    quota_free(&n->quota);
    memb_free(&n->memb);
    idmap_free(&n->ekeys);
    netsecret_cache_free(n->nets);
    if (n->body != NULL)
        sodium_free(n->body);
    agah_local_free(n->local);
    agah_identity_free(n->id);
    if (n->lock_fd >= 0)
        (void)close(n->lock_fd); /* releases the lock */
    free(n);
}

/* ------------------------------------------------------------------ */
/* Identity and membership                                             */

const struct agah_identity *node_identity(const struct node *n) { return n->id; }
const uint8_t *node_community(const struct node *n) { return n->local->community; }
/* netsecret_open_fn: epoch i's network secret, from its key when this
 * node holds it, else from this node's relay box. */
static int node__net_open(void *ctx, size_t i, uint8_t out[32])
{
    struct node *n = ctx;
    const struct memb_epoch *e = &n->memb.ep[i];
    const uint8_t *key = node__key(n, e->id);
    uint8_t *buf = NULL, eid[AGAH_HASH_LEN];
    size_t len = 0;
    struct agah_rec r;
    int rc;

    if (key != NULL && memcmp(e->net_id, e->id, AGAH_HASH_LEN) == 0) {
        agah_net_secret_derive(key, out); /* it minted the secret */
        return 0;
    }
    memcpy(eid, e->id, AGAH_HASH_LEN);
    if ((rc = store_get(n->store, eid, &buf, &len)) != 0)
        return rc;
    if ((rc = agah_rec_decode_stored(buf, len, node_community(n), &r, NULL)) == 0)
        rc = key != NULL ? agah_rec_epoch_net_open(&r, key, out)
                         : agah_rec_epoch_net_relay_open(&r, n->id, out);
    free(buf);
    return rc;
}

void node_net_secrets(struct node *n, struct netsecret_set *out)
{
    netsecret_collect(&n->memb, node_now(n), n->nets, node__net_open, n, n->local->n_epochs,
                      n->local->network_secret, out);
    /* The community file keeps the newest secret this node knows, so that
     * is what a restart has even after an earlier one's grace is over; one
     * no epoch carries (a rejoin's code) stays until the records come. */
    if (out->have_post && out->fallback_known &&
        sodium_memcmp(n->local->network_secret, out->s[out->post_i], 32) != 0) {
        memcpy(n->local->network_secret, out->s[out->post_i], 32);
        if (agah_local_write(n->local_path, n->id, n->local) != 0)
            log_warn("cannot keep the new network secret in the community file");
    }
}
const char *node_community_name(const struct node *n)
{
    /* The genesis names open once the genesis key is held; until then (and
     * on a relay, always) the name the community file holds, maybe "". */
    return n->memb.names_open ? n->memb.name : n->local->name;
}

int node_set_quota_limits(struct node *n, const struct quota_limits *lim)
{
    n->quota.lim = *lim;
    return node__quota_trim(n);
}

uint64_t node_quota_dropped(const struct node *n) { return n->quota_dropped; }

int node_role(const struct node *n)
{
    int role;
    if (memb_role_at(&n->memb, agah_identity_pk(n->id), node_now(n), &role) == 0)
        return role;
    return n->local->role;
}

int node_my_admission(const struct node *n, const uint8_t **buf, size_t *len)
{
    const uint8_t *me = agah_identity_pk(n->id);
    long a;
    if (n->memb.have_genesis && memcmp(me, n->memb.founder, AGAH_PK_LEN) == 0) {
        *buf = n->memb.genesis;
        *len = n->memb.genesis_len;
        return 0;
    }
    if ((a = memb_best_admission(&n->memb, me)) >= 0) {
        *buf = n->memb.adm[a].bytes;
        *len = n->memb.adm[a].len;
        return 0;
    }
    /* Not validated yet (its signer's admission has not reached us): the
     * one from the join code is still what peers need to see. */
    for (size_t i = 0; i < n->local->n_records; i++) {
        struct agah_rec r;
        if (agah_rec_decode(n->local->records[i], n->local->record_lens[i], node_community(n),
                            &r, NULL) == 0 &&
            r.type == AGAH_REC_ADMISSION && memcmp(r.u.admission.member, me, AGAH_PK_LEN) == 0) {
            *buf = n->local->records[i];
            *len = n->local->record_lens[i];
            return 0;
        }
    }
    return AGAH_ENOENT;
}

int node_member_status(const struct node *n, const uint8_t pk[AGAH_PK_LEN], int *role)
{
    return memb_role_at(&n->memb, pk, node_now(n), role);
}

/* ------------------------------------------------------------------ */
/* Records                                                             */

int node_have(const struct node *n, const uint8_t id[AGAH_HASH_LEN])
{
    return alerts_id_state(&n->alerts, id) != ALERTS_ID_NONE;
}

int node_get(struct node *n, const uint8_t id[AGAH_HASH_LEN], uint8_t **buf, size_t *len)
{
    return store_get(n->store, id, buf, len);
}

struct node_foreach_ctx {
    void (*cb)(void *ctx, uint64_t created, const uint8_t id[AGAH_HASH_LEN]);
    void *ctx;
};

static int node__foreach_cb(void *ctx, uint64_t created, const uint8_t id[AGAH_HASH_LEN])
{
    struct node_foreach_ctx *f = ctx;
    f->cb(f->ctx, created, id);
    return 0;
}

int node_foreach(struct node *n,
                 void (*cb)(void *ctx, uint64_t created, const uint8_t id[AGAH_HASH_LEN]),
                 void *ctx)
{
    struct node_foreach_ctx f = {cb, ctx};
    return store_scan_ids(n->store, node__foreach_cb, &f);
}

size_t node_record_count(const struct node *n) { return n->n_records; }

uint32_t node_id_ref(const struct node *n, const uint8_t id[AGAH_HASH_LEN])
{
    return alerts_id_ref(&n->alerts, id);
}

const uint8_t *node_ref_id(void *node, uint32_t ref)
{
    return alerts_ref_id(&((struct node *)node)->alerts, ref);
}

uint64_t node_ref_gen(const struct node *n) { return alerts_ref_gen(&n->alerts); }

int node_listen(struct node *n, node_listener cb, void *ctx)
{
    if (n->n_listeners >= NODE_MAX_LISTENERS)
        return AGAH_ETOOBIG;
    n->listeners[n->n_listeners].cb = cb;
    n->listeners[n->n_listeners].ctx = ctx;
    n->n_listeners++;
    return 0;
}

static int node__addr_ok(const char *addr)
{
    return addr != NULL && agah_addr_parse(addr, strnlen(addr, AGAH_ADDR_MAX), NULL, NULL) == 0;
}

int node_peer_remember(struct node *n, const char *addr)
{
    if (!node__addr_ok(addr))
        return AGAH_EINVAL;
    /* Peers live only in the encrypted community file (issue 23). */
    if (node__peer_keep(n, addr) == 0)
        return 0;
    return agah_local_write(n->local_path, n->id, n->local);
}

int node_peers_foreach(struct node *n, void (*cb)(void *ctx, const char *addr), void *ctx)
{
    for (size_t i = 0; i < n->local->n_peers; i++)
        cb(ctx, n->local->peers[i]);
    return 0;
}

int node_set_listen_addr(struct node *n, const char *addr)
{
    if (addr == NULL) {
        n->listen_addr[0] = '\0';
        return 0;
    }
    if (!node__addr_ok(addr))
        return AGAH_EINVAL;
    (void)snprintf(n->listen_addr, sizeof n->listen_addr, "%s", addr);
    return 0;
}

/* ------------------------------------------------------------------ */
/* What the CLI asks                                                   */

/* The role this node may act with now, or an error saying why not. */
static int node__my_role(const struct node *n, int *role, struct agah_why *why)
{
    int rc = memb_role_at(&n->memb, agah_identity_pk(n->id), node_now(n), role);
    if (rc == AGAH_EPERM)
        return agah_fail(why, AGAH_EPERM, "this node's key has been revoked");
    if (rc != 0)
        return agah_fail(why, AGAH_EPERM, "this node is not a member of the community (yet)");
    return 0;
}

/* The posting epoch's id and key, or the rule 9 refusal. */
static int node__epoch_for_post(const struct node *n, const uint8_t **eid, const uint8_t **key,
                                struct agah_why *why)
{
    long e = node__posting_epoch(n);
    if (e < 0)
        return agah_fail(why, AGAH_ENOENT,
                         "no epoch key that excludes revoked members yet; wait for an "
                         "organiser's rekey");
    *eid = n->memb.ep[e].id;
    *key = node__key(n, n->memb.ep[e].id);
    return 0;
}

int node_post(struct node *n, const struct agah_alert_body *body, uint64_t expires,
              uint8_t id[AGAH_HASH_LEN], struct agah_why *why)
{
    const uint8_t *eid = NULL, *key = NULL;
    uint8_t *buf = NULL;
    size_t len = 0, tl;
    uint64_t now = node_now(n);
    int role, rc;

    if ((rc = node__my_role(n, &role, why)) != 0)
        goto out;
    if (role == AGAH_ROLE_RELAY) {
        rc = agah_fail(why, AGAH_EPERM, "relays cannot post");
        goto out;
    }
    tl = strnlen(body->target, AGAH_TARGET_MAX);
    if (body->kind < AGAH_KIND_NUMBER || body->kind > AGAH_KIND_ALERT ||
        tl >= AGAH_TARGET_MAX || (body->kind == AGAH_KIND_ALERT) != (tl == 0)) {
        rc = agah_fail(why, AGAH_EINVAL, "a number or account alert needs a target; a "
                                         "free-text alert has none");
        goto out;
    }
    if (agah_category_name(body->category) == NULL || agah_severity_name(body->severity) == NULL ||
        strnlen(body->note, AGAH_NOTE_MAX + 1) > AGAH_NOTE_MAX) {
        rc = agah_fail(why, AGAH_EINVAL, "bad category, severity or note");
        goto out;
    }
    if (expires != 0 && expires <= now) {
        rc = agah_fail(why, AGAH_EINVAL, "the expiry is in the past");
        goto out;
    }
    if ((rc = node__epoch_for_post(n, &eid, &key, why)) != 0)
        goto out;
    if ((rc = agah_rec_alert(n->id, node_community(n), eid, key, body, now, expires, &buf,
                             &len)) != 0) {
        rc = agah_fail(why, rc, "cannot make the alert: %s", agah_strerror(rc));
        goto out;
    }
    rc = node__local(n, buf, len, id, why);
out:
    free(buf);
    return rc;
}

/* Signs and stores a CONFIRM or RETRACT about an alert. */
static int node__annotate(struct node *n, int type, const uint8_t alert[AGAH_HASH_LEN],
                          const char *note, struct agah_why *why)
{
    const uint8_t *eid = NULL, *key = NULL;
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc;

    if (note == NULL)
        note = "";
    if (strnlen(note, AGAH_NOTE_MAX + 1) > AGAH_NOTE_MAX)
        return agah_fail(why, AGAH_EINVAL, "the note is longer than %d bytes", AGAH_NOTE_MAX);
    if ((rc = node__epoch_for_post(n, &eid, &key, why)) != 0)
        return rc;
    if ((rc = agah_rec_annotate(n->id, type, node_community(n), alert, eid, key, note,
                                node_now(n), &buf, &len)) != 0)
        return agah_fail(why, rc, "cannot make the record: %s", agah_strerror(rc));
    rc = node__local(n, buf, len, NULL, why);
    free(buf);
    return rc;
}

int node_confirm(struct node *n, const uint8_t alert[AGAH_HASH_LEN], const char *note,
                 unsigned *confirmations, struct agah_why *why)
{
    const struct alert_ent *a;
    struct node_alert view;
    int role, rc, mine = 0;

    if ((rc = node__my_role(n, &role, why)) != 0)
        return rc;
    if (role == AGAH_ROLE_RELAY)
        return agah_fail(why, AGAH_EPERM, "relays cannot confirm");
    if ((a = alerts_get(&n->alerts, alert)) == NULL)
        return agah_fail(why, AGAH_ENOENT, "no such alert");
    if (node__is_me(n, alerts_author(&n->alerts, a)))
        return agah_fail(why, AGAH_EINVAL, "you cannot confirm your own alert");
    if (node__alert_status(n, a, node_now(n)) == NODE_RETRACTED)
        return agah_fail(why, AGAH_EINVAL,
                         "that alert was retracted; if it is still true, post it again");
    mine = annots_by(&n->alerts.an, alert, agah_identity_pk(n->id), AGAH_REC_CONFIRM);
    if (!mine && (rc = node__annotate(n, AGAH_REC_CONFIRM, alert, note, why)) != 0)
        return rc;
    if ((a = alerts_get(&n->alerts, alert)) == NULL)
        return agah_fail(why, AGAH_ENOENT, "no such alert");
    node__alert_fill(n, a, node_now(n), &view);
    if (confirmations != NULL)
        *confirmations = view.confirmations;
    sodium_memzero(&view, sizeof view);
    return 0;
}

int node_retract(struct node *n, const uint8_t alert[AGAH_HASH_LEN], const char *reason,
                 struct agah_why *why)
{
    const struct alert_ent *a;
    int role, rc;

    if ((rc = node__my_role(n, &role, why)) != 0)
        return rc;
    if ((a = alerts_get(&n->alerts, alert)) == NULL)
        return agah_fail(why, AGAH_ENOENT, "no such alert");
    if (!node__is_me(n, alerts_author(&n->alerts, a)) && role != AGAH_ROLE_ORGANISER)
        return agah_fail(why, AGAH_EPERM,
                         "only the alert's author or an organiser can retract it");
    if (node__alert_status(n, a, node_now(n)) == NODE_RETRACTED)
        return 0;
    /* Only an author's earliest retraction of an alert is weighed ("The
     * alert view"): a second one would change nothing. */
    if (annots_by(&n->alerts.an, alert, agah_identity_pk(n->id), AGAH_REC_RETRACT))
        return agah_fail(why, AGAH_EEXIST, "you have retracted that alert already");
    return node__annotate(n, AGAH_REC_RETRACT, alert, reason, why);
}

/* Epoch keys for a join code: the genesis key first, so the newcomer
 * reads the community's and founder's names at once, then the most recent
 * epochs, as many as fit. */
static void node__join_epochs(const struct node *n, struct agah_join *j)
{
    size_t cnt = n->local->n_epochs;
    const uint8_t *gkey = node__key(n, node_community(n));
    int *used = calloc(cnt + 1, sizeof *used);
    if (used == NULL)
        return;
    if (gkey != NULL) {
        memcpy(j->epochs[0].id, node_community(n), AGAH_HASH_LEN);
        memcpy(j->epochs[0].key, gkey, AGAH_KEY_LEN);
        j->n_epochs = 1;
    }
    while (j->n_epochs < AGAH_JOIN_MAX_EPOCHS) {
        long best = -1;
        uint64_t best_num = 0;
        for (size_t i = 0; i < cnt; i++) {
            long e;
            uint64_t num;
            if (used[i] || memcmp(n->local->epochs[i].id, node_community(n), AGAH_HASH_LEN) == 0)
                continue;
            e = memb_find_epoch(&n->memb, n->local->epochs[i].id);
            num = e < 0 ? 0 : n->memb.ep[e].number;
            if (best < 0 || num > best_num) {
                best = (long)i;
                best_num = num;
            }
        }
        if (best < 0)
            break;
        used[best] = 1;
        memcpy(j->epochs[j->n_epochs].id, n->local->epochs[best].id, AGAH_HASH_LEN);
        memcpy(j->epochs[j->n_epochs].key, n->local->epochs[best].key, AGAH_KEY_LEN);
        j->n_epochs++;
    }
    free(used);
}

static void node__join_peer(void *ctx, const char *addr)
{
    struct agah_join *j = ctx;
    if (j->n_peers >= AGAH_JOIN_MAX_PEERS)
        return;
    for (size_t i = 0; i < j->n_peers; i++)
        if (strcmp(j->peers[i], addr) == 0)
            return;
    (void)snprintf(j->peers[j->n_peers++], AGAH_ADDR_MAX, "%s", addr);
}

/* Signs an ADMISSION of pk at `now` with its name encrypted under the
 * epoch this node posts under (*buf malloc'd, the caller frees it). A name
 * never goes in clear: without such a key a named admission is refused,
 * or with `drop_name` signed without its name. */
static int node__sign_admission(struct node *n, const uint8_t pk[AGAH_PK_LEN], int role,
                                const char *name, uint64_t now, uint64_t expires, int drop_name,
                                uint8_t **buf, size_t *len, struct agah_why *why)
{
    const uint8_t *teid, *tkey;
    int rc;

    if (node__text_epoch(n, &teid, &tkey) != 0 && name[0] != '\0') {
        if (!drop_name)
            return agah_fail(why, AGAH_ENOENT,
                             "no epoch key to encrypt the name under yet; invite without "
                             "--name, or wait for an organiser's rekey");
        name = "";
    }
    if ((rc = agah_rec_admission(n->id, node_community(n), pk, role, name, teid, tkey, now,
                                 expires, buf, len)) != 0)
        return agah_fail(why, rc, "cannot make the admission: %s", agah_strerror(rc));
    return 0;
}

int node_invite(struct node *n, const uint8_t pk[AGAH_PK_LEN], int role, const char *name,
                const char *peer, char **code, size_t *n_peers, struct agah_why *why)
{
    struct agah_join *j = NULL;
    uint8_t *buf = NULL, aid[AGAH_HASH_LEN];
    char kept_name[AGAH_NAME_MAX + 1];
    size_t len = 0;
    uint64_t now = node_now(n);
    int my_role, cur_role = -1, rc;

    if ((rc = node__my_role(n, &my_role, why)) != 0)
        goto out;
    if (my_role != AGAH_ROLE_ORGANISER) {
        rc = agah_fail(why, AGAH_EPERM, "only organisers can invite");
        goto out;
    }
    /* Someone already admitted keeps their role unless a higher one is
     * asked for: a relay invited again must not become a member (and get
     * the epoch keys) because --role was left out. */
    if (memb_role_at(&n->memb, pk, now, &cur_role) != 0)
        cur_role = -1;
    if (role < 0)
        role = cur_role >= 0 ? cur_role : AGAH_ROLE_MEMBER;
    if (agah_role_name(role) == NULL) {
        rc = agah_fail(why, AGAH_EINVAL, "unknown role");
        goto out;
    }
    if (cur_role >= 0 && role > cur_role) {
        rc = agah_fail(why, AGAH_EINVAL,
                       "that key is already admitted as %s; an invitation cannot lower a role "
                       "(revoke the key instead, and admit a new one)",
                       agah_role_name(cur_role));
        goto out;
    }
    if (name == NULL)
        name = "";
    if (strnlen(name, AGAH_NAME_MAX + 1) > AGAH_NAME_MAX) {
        rc = agah_fail(why, AGAH_EINVAL, "the name is longer than %d bytes", AGAH_NAME_MAX);
        goto out;
    }
    if (node__is_me(n, pk)) {
        rc = agah_fail(why, AGAH_EINVAL, "that is this node's own key");
        goto out;
    }
    if (peer != NULL && peer[0] != '\0' && !node__addr_ok(peer)) {
        rc = agah_fail(why, AGAH_EINVAL, "the peer address is not HOST:PORT");
        goto out;
    }
    /* A new code for someone already admitted keeps their name unless a
     * new one is given: the latest admission's name is the one shown. */
    if (name[0] == '\0' && memb_known(&n->memb, pk)) {
        memb_name(&n->memb, pk, kept_name);
        name = kept_name;
    }
    if (memb_revoked(&n->memb, pk)) {
        rc = agah_fail(why, AGAH_EPERM, "that key is revoked; revocation is permanent");
        goto out;
    }
    /* A newcomer's admission lapses with its code unless its node links
     * with an organiser's by then (node_peer_joined makes it permanent); a
     * key that has joined gets a permanent one at once. */
    uint64_t expires = memb_invited_until(&n->memb, pk) == 0 && memb_known(&n->memb, pk)
                           ? 0
                           : now + NODE_INVITE_TTL;
    if ((rc = node__sign_admission(n, pk, role, name, now, expires, 0, &buf, &len, why)) != 0 ||
        (rc = node__local(n, buf, len, aid, why)) != 0)
        goto out;
    /* The newcomer must read what is posted from now on: the epoch everyone
     * posts under is sealed to it too before the code (which carries that
     * key) is made. */
    if ((rc = node__rekey(n, 0)) != 0) {
        rc = agah_fail(why, rc, "admitted, but the rekey failed: %s", agah_strerror(rc));
        goto out;
    }
    (void)node__maintain(n);
    if ((rc = node_flush(n)) != 0)
        goto out;
    if ((j = sodium_malloc(sizeof *j)) == NULL) {
        rc = AGAH_ENOMEM;
        goto out;
    }
    memset(j, 0, sizeof *j);
    memcpy(j->community, node_community(n), AGAH_HASH_LEN);
    {
        /* The secret this node dials with now: the newcomer's way in. */
        struct netsecret_set ns;
        node_net_secrets(n, &ns);
        memcpy(j->network_secret, ns.n > 0 ? ns.s[0] : n->local->network_secret, 32);
        sodium_memzero(&ns, sizeof ns);
    }
    j->expires = now + NODE_INVITE_TTL;
    j->genesis = n->memb.genesis;
    j->genesis_len = n->memb.genesis_len;
    j->admission = buf;
    j->admission_len = len;
    if (role != AGAH_ROLE_RELAY)
        node__join_epochs(n, j);
    if (peer != NULL && peer[0] != '\0')
        node__join_peer(j, peer);
    if (n->listen_addr[0] != '\0')
        node__join_peer(j, n->listen_addr);
    (void)node_peers_foreach(n, node__join_peer, j);
    /* The newcomer is shown the inviter's name: the founder's is in the
     * genesis record, anyone else's in its own admission, which goes along. */
    if (!node__is_me(n, n->memb.founder)) {
        long me = memb_best_admission(&n->memb, agah_identity_pk(n->id));
        if (me >= 0) {
            j->inviter_admission = n->memb.adm[me].bytes;
            j->inviter_admission_len = n->memb.adm[me].len;
        }
    }
    rc = agah_join_encode(j, n->id, pk, code);
    if (rc != 0)
        rc = agah_fail(why, rc, "cannot make the join code: %s", agah_strerror(rc));
    else if (n_peers != NULL)
        *n_peers = j->n_peers;
out:
    if (j != NULL) {
        sodium_memzero(j, sizeof *j);
        sodium_free(j);
    }
    free(buf);
    return rc;
}

/* Orders a key's records for a keep list: membership records first (what
 * others' standing rests on), then the newest. */
static int node__keep_cmp(const void *pa, const void *pb)
{
    const struct node_row *a = pa, *b = pb;
    int ma = a->type <= AGAH_REC_EPOCH, mb = b->type <= AGAH_REC_EPOCH;
    if (ma != mb)
        return ma ? -1 : 1;
    if (a->created != b->created)
        return a->created > b->created ? -1 : 1;
    return memcmp(a->id, b->id, AGAH_HASH_LEN);
}

/* Whether stored revocation `id` (signed by pk) targets a key that itself
 * signed a revocation of pk. */
static int node__counter_revocation(const struct node *n, const uint8_t pk[AGAH_PK_LEN],
                                    const uint8_t id[AGAH_HASH_LEN])
{
    uint8_t *buf = NULL;
    size_t len = 0;
    struct agah_rec r;
    int yes = 0;
    if (store_get(n->store, id, &buf, &len) == 0 &&
        agah_rec_decode_stored(buf, len, node_community(n), &r, NULL) == 0 &&
        r.type == AGAH_REC_REVOCATION)
        yes = memb_has_revocation(&n->memb, r.u.revocation.member, pk);
    free(buf);
    return yes;
}

/* Signs and stores one revocation of pk that keeps what this node holds of
 * pk's records (alerts too unless `flags` says to retract them). */
static int node__revoke_one(struct node *n, const uint8_t pk[AGAH_PK_LEN], const char *reason,
                            unsigned flags, uint64_t since, struct node_revoke_out *out,
                            struct agah_why *why)
{
    struct node_rows rows = {0};
    uint8_t (*keep)[AGAH_HASH_LEN] = NULL;
    uint8_t *buf = NULL;
    const uint8_t *teid, *tkey;
    size_t len = 0, nk = 0;
    int rc;

    if ((rc = store_scan_author(n->store, pk, node__rows_cb, &rows)) != 0) {
        rc = agah_fail(why, rc, "cannot read the member's records: %s", agah_strerror(rc));
        goto out;
    }
    if (rows.n > 0)
        qsort(rows.v, rows.n, sizeof *rows.v, node__keep_cmp);
    if ((keep = malloc((rows.n + 1) * sizeof *keep)) == NULL) {
        rc = AGAH_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < rows.n; i++) {
        if (((flags & NODE_REVOKE_RETRACT_ALERTS) && rows.v[i].type == AGAH_REC_ALERT) ||
            (since != 0 && rows.v[i].created >= since)) {
            /* Left out of the keep list: invalid on every node, whatever
             * time it claims, as anything signed after the revocation. */
            out->dropped++;
            continue;
        }
        if (rows.v[i].type == AGAH_REC_REVOCATION && node__counter_revocation(n, pk, rows.v[i].id)) {
            /* A revocation of someone who revoked pk: one side of a fight
             * this revocation settles, so it is not kept. */
            out->dropped++;
            continue;
        }
        if (nk >= AGAH_REV_KEEP_MAX) {
            out->dropped++;
            continue;
        }
        memcpy(keep[nk++], rows.v[i].id, AGAH_HASH_LEN);
    }
    out->kept += nk;
    /* A revocation is urgent: without an epoch key to hide the reason
     * under, it goes without one rather than in clear. */
    if (node__text_epoch(n, &teid, &tkey) != 0) {
        if (reason[0] != '\0')
            log_warn("no epoch key held: the revocation goes without its reason");
        reason = "";
    }
    if ((rc = agah_rec_revocation(n->id, node_community(n), pk, reason, teid, tkey,
                                  (const uint8_t (*)[32])keep, nk, node_now(n), &buf,
                                  &len)) != 0) {
        rc = agah_fail(why, rc, "cannot make the revocation: %s", agah_strerror(rc));
        goto out;
    }
    rc = node__local(n, buf, len, NULL, why);
out:
    free(rows.v);
    free(keep);
    free(buf);
    return rc;
}

/* Keys whose every valid admission was signed by pk: those it brought in. */
static int node__admitted_by(const struct node *n, const uint8_t pk[AGAH_PK_LEN],
                             uint8_t (**out)[AGAH_PK_LEN], size_t *cnt)
{
    uint8_t (*v)[AGAH_PK_LEN] = NULL;
    size_t c = 0;
    *out = NULL;
    *cnt = 0;
    if ((v = malloc((n->memb.n_keys + 1) * sizeof *v)) == NULL)
        return AGAH_ENOMEM;
    for (size_t i = 0; i < n->memb.n_keys; i++) {
        const struct memb_key *k = &n->memb.keys[i];
        int by = 0, other = 0;
        if (k->revoked)
            continue;
        for (uint32_t b = k->adm_head; b != MEMB_NIL; b = n->memb.adm[b].next) {
            if (!n->memb.adm[b].valid)
                continue;
            if (memcmp(n->memb.adm[b].author, pk, AGAH_PK_LEN) == 0)
                by = 1;
            else
                other = 1;
        }
        if (by && !other && !node__is_me(n, k->pk))
            memcpy(v[c++], k->pk, AGAH_PK_LEN);
    }
    *out = v;
    *cnt = c;
    return 0;
}

int node_revoke_ex(struct node *n, const uint8_t pk[AGAH_PK_LEN], const char *reason,
                   unsigned flags, struct node_revoke_out *out, struct agah_why *why)
{
    return node_revoke_since(n, pk, reason, flags, 0, out, why);
}

int node_revoke_since(struct node *n, const uint8_t pk[AGAH_PK_LEN], const char *reason,
                      unsigned flags, uint64_t since, struct node_revoke_out *out,
                      struct agah_why *why)
{
    struct node_revoke_out dummy;
    uint8_t (*also)[AGAH_PK_LEN] = NULL;
    size_t n_also = 0;
    int role, rc;

    if (out == NULL)
        out = &dummy;
    memset(out, 0, sizeof *out);
    if ((rc = node__my_role(n, &role, why)) != 0)
        goto out;
    if (role != AGAH_ROLE_ORGANISER) {
        rc = agah_fail(why, AGAH_EPERM, "only organisers can revoke");
        goto out;
    }
    if (node__is_me(n, pk)) {
        rc = agah_fail(why, AGAH_EINVAL, "you cannot revoke yourself");
        goto out;
    }
    if (!memb_known(&n->memb, pk)) {
        rc = agah_fail(why, AGAH_ENOENT, "no such member");
        goto out;
    }
    /* Revoked by others, this node may still add its own: it can settle a
     * fight between two organisers, or count towards the founder's quorum. */
    if (memb_has_revocation(&n->memb, agah_identity_pk(n->id), pk)) {
        out->already = 1; /* nothing to do, and no rekey */
        out->effective = memb_revoked(&n->memb, pk);
        goto votes;
    }
    if (reason == NULL)
        reason = "";
    if (strnlen(reason, AGAH_NOTE_MAX + 1) > AGAH_NOTE_MAX) {
        rc = agah_fail(why, AGAH_EINVAL, "the reason is longer than %d bytes", AGAH_NOTE_MAX);
        goto out;
    }
    /* Those it admitted are chosen before: its revocation keeps their
     * admissions, so they would otherwise stay members. */
    if ((flags & (NODE_REVOKE_ALSO_ADMITTED | NODE_REVOKE_DRY_RUN)) &&
        (rc = node__admitted_by(n, pk, &also, &n_also)) != 0)
        goto out;
    for (size_t i = 0; i < n_also && i < NODE_REVOKE_LIST_MAX; i++)
        memcpy(out->also_pk[i], also[i], AGAH_PK_LEN);
    if (flags & NODE_REVOKE_DRY_RUN) {
        out->also = n_also;
        rc = 0;
        goto out;
    }
    if ((rc = node__revoke_one(n, pk, reason, flags, since, out, why)) != 0)
        goto out;
    for (size_t i = 0; i < n_also; i++) {
        if ((rc = node__revoke_one(n, also[i], reason, flags, since, out, why)) != 0)
            goto out;
        out->also++;
    }
    out->effective = memb_revoked(&n->memb, pk);
    if (out->effective) {
        /* `revoke` always rekeys (CONTRACT.md), even when the revoked key
         * is a relay that never held an epoch key. The rekey and the
         * cascaded deletions are committed before we answer. */
        n->rekey_at = 0;
        if ((rc = node__rekey(n, 1)) != 0) {
            rc = agah_fail(why, rc, "revoked, but the rekey failed: %s", agah_strerror(rc));
            goto out;
        }
    }
    (void)node__maintain(n);
    if ((rc = node_flush(n)) != 0)
        goto out;
votes:
    out->votes = memb_revocation_votes(&n->memb, pk);
    out->quorum = memb_is_founder(&n->memb, pk) ? n->memb.quorum : 1;
    rc = 0;
out:
    free(also);
    return rc;
}

int node_revoke(struct node *n, const uint8_t pk[AGAH_PK_LEN], const char *reason,
                struct agah_why *why)
{
    struct node_revoke_out out;
    int rc = node_revoke_ex(n, pk, reason, 0, &out, why);
    return rc == 0 && out.already ? 1 : rc;
}

/* Sorts newest first, then by id, so every node lists the same order. */
static int node__alert_cmp(const void *pa, const void *pb)
{
    const struct node_alert *a = pa, *b = pb;
    if (a->created != b->created)
        return a->created > b->created ? -1 : 1;
    return memcmp(a->id, b->id, AGAH_HASH_LEN);
}

int node_check(struct node *n, const char *normalized, struct node_alert **out, size_t *count)
{
    struct node_alert *v = NULL;
    size_t cnt = 0, cap = 0;
    uint64_t now = node_now(n);

    *out = NULL;
    *count = 0;
    for (const struct alert_ent *a = alerts_first(&n->alerts, normalized); a != NULL;
         a = alerts_next(&n->alerts, a)) {
        if (cnt == cap) {
            size_t nc = cap == 0 ? 4 : cap * 2;
            struct node_alert *p = realloc(v, nc * sizeof *p);
            if (p == NULL) {
                free(v);
                return AGAH_ENOMEM;
            }
            v = p;
            cap = nc;
        }
        node__alert_fill(n, a, now, &v[cnt++]);
    }
    if (cnt > 1)
        qsort(v, cnt, sizeof *v, node__alert_cmp);
    *out = v;
    *count = cnt;
    return 0;
}

/* One alert of a listing, for sorting without copying bodies. */
struct node_lref {
    uint64_t created;
    const struct alert_ent *e;
};

/* Newest first, then by id: the order `list` shows and pages in. */
static int node__lref_cmp(const void *pa, const void *pb)
{
    const struct node_lref *a = pa, *b = pb;
    if (a->created != b->created)
        return a->created > b->created ? -1 : 1;
    return memcmp(a->e->id, b->e->id, AGAH_HASH_LEN);
}

/* The alerts a listing shows, sorted: into *out (caller frees). */
static int node__list_refs(const struct node *n, int kind, int all, uint64_t now,
                           struct node_lref **out, size_t *count)
{
    struct node_lref *v = NULL;
    size_t cnt = 0;

    if (n->alerts.live > 0 && (v = malloc(n->alerts.live * sizeof *v)) == NULL)
        return AGAH_ENOMEM;
    for (size_t i = 0; i < n->alerts.n_a && cnt < n->alerts.live; i++) {
        const struct alert_ent *a = &n->alerts.a[i];
        if (!a->live || (kind != 0 && a->kind != kind) ||
            (!all && node__alert_status(n, a, now) != NODE_ACTIVE))
            continue;
        v[cnt].created = a->created;
        v[cnt++].e = a;
    }
    if (cnt > 1)
        qsort(v, cnt, sizeof *v, node__lref_cmp);
    *out = v;
    *count = cnt;
    return 0;
}

int node_list_page(struct node *n, int kind, int all, const uint8_t *after, size_t limit,
                   struct node_alert **out, size_t *count, int *more)
{
    struct node_lref *v = NULL, key = {0, NULL};
    struct node_alert *page = NULL;
    size_t cnt = 0, start = 0, take;
    uint64_t now = node_now(n);
    int rc;

    *out = NULL;
    *count = 0;
    *more = 0;
    if (after != NULL) {
        /* The cursor is an alert: the page starts right after it in the
         * listing's order, whether or not it is in this listing itself. */
        if ((key.e = alerts_get(&n->alerts, after)) == NULL)
            return AGAH_ENOENT;
        key.created = key.e->created;
    }
    if ((rc = node__list_refs(n, kind, all, now, &v, &cnt)) != 0)
        return rc;
    if (after != NULL) {
        size_t lo = 0, hi = cnt; /* first entry that sorts after the cursor */
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (node__lref_cmp(&v[mid], &key) <= 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        start = lo;
    }
    take = cnt - start < limit ? cnt - start : limit;
    if (take > 0 && (page = malloc(take * sizeof *page)) == NULL) {
        free(v);
        return AGAH_ENOMEM;
    }
    for (size_t i = 0; i < take; i++)
        node__alert_fill(n, v[start + i].e, now, &page[i]);
    *more = start + take < cnt;
    free(v);
    *out = page;
    *count = take;
    return 0;
}

int node_list(struct node *n, int kind, int all, struct node_alert **out, size_t *count)
{
    int more;
    return node_list_page(n, kind, all, NULL, SIZE_MAX, out, count, &more);
}

static int node__hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int node_find(struct node *n, const char *hex_prefix, uint8_t id[AGAH_HASH_LEN])
{
    size_t len = strnlen(hex_prefix, 2 * AGAH_HASH_LEN + 1);
    uint8_t nib[2 * AGAH_HASH_LEN];
    const struct alert_ent *found = NULL;

    if (len < 4 || len > 2 * AGAH_HASH_LEN)
        return AGAH_EINVAL;
    for (size_t i = 0; i < len; i++) {
        int v = node__hexval(hex_prefix[i]);
        if (v < 0)
            return AGAH_EINVAL;
        nib[i] = (uint8_t)v;
    }
    for (size_t i = 0; i < n->alerts.n_a; i++) {
        const struct alert_ent *a = &n->alerts.a[i];
        size_t k;
        if (!a->live)
            continue;
        for (k = 0; k < len; k++) {
            uint8_t b = a->id[k / 2];
            if (((k % 2 == 0) ? (b >> 4) : (b & 15)) != nib[k])
                break;
        }
        if (k < len)
            continue;
        if (found != NULL)
            return AGAH_EINVAL;
        found = a;
    }
    if (found == NULL)
        return AGAH_ENOENT;
    memcpy(id, found->id, AGAH_HASH_LEN);
    return 0;
}

int node_alert_get(struct node *n, const uint8_t id[AGAH_HASH_LEN], struct node_alert *out)
{
    const struct alert_ent *a = alerts_get(&n->alerts, id);
    if (a == NULL)
        return AGAH_ENOENT;
    node__alert_fill(n, a, node_now(n), out);
    return 0;
}

static int node__member_cmp(const void *pa, const void *pb)
{
    const struct node_member *a = pa, *b = pb;
    return memcmp(a->pk, b->pk, AGAH_PK_LEN);
}

int node_members(struct node *n, struct node_member **out, size_t *count)
{
    struct node_member *v = NULL;
    size_t cnt = 0;

    *out = NULL;
    *count = 0;
    if (n->memb.n_keys > 0 && (v = calloc(n->memb.n_keys, sizeof *v)) == NULL)
        return AGAH_ENOMEM;
    for (size_t i = 0; i < n->memb.n_keys; i++) {
        const struct memb_key *k = &n->memb.keys[i];
        int founder = n->memb.have_genesis &&
                      memcmp(k->pk, n->memb.founder, AGAH_PK_LEN) == 0;
        long a = memb_best_admission(&n->memb, k->pk);
        if (!founder && a < 0)
            continue;
        memcpy(v[cnt].pk, k->pk, AGAH_PK_LEN);
        memb_name(&n->memb, k->pk, v[cnt].name);
        v[cnt].role = founder ? AGAH_ROLE_ORGANISER : n->memb.adm[a].role;
        v[cnt].revoked = k->revoked_at != MEMB_NEVER;
        v[cnt].invited_until = memb_invited_until(&n->memb, k->pk);
        if (founder) {
            v[cnt].admitted = n->memb.genesis_created;
        } else {
            v[cnt].has_admitter = 1;
            memcpy(v[cnt].admitted_by, n->memb.adm[a].author, AGAH_PK_LEN);
            v[cnt].admitted = n->memb.adm[a].created;
        }
        cnt++;
    }
    if (cnt > 1)
        qsort(v, cnt, sizeof *v, node__member_cmp);
    *out = v;
    *count = cnt;
    return 0;
}

size_t node_active_alerts(const struct node *n)
{
    size_t cnt = 0;
    uint64_t now = node_now(n);

    for (size_t i = 0; i < n->alerts.n_a; i++)
        cnt += n->alerts.a[i].live && node__alert_status(n, &n->alerts.a[i], now) == NODE_ACTIVE;
    return cnt;
}

uint64_t node_annot_visits(const struct node *n) { return n->alerts.an.visits; }

int node_peer_joined(struct node *n, const uint8_t pk[AGAH_PK_LEN])
{
    uint64_t now = node_now(n);
    uint8_t *buf = NULL;
    const char *name;
    size_t len = 0;
    long a;
    int role, rc;

    if (memb_role_at(&n->memb, agah_identity_pk(n->id), now, &role) != 0 ||
        role != AGAH_ROLE_ORGANISER || memb_invited_until(&n->memb, pk) <= now ||
        memb_role_at(&n->memb, pk, now, NULL) != 0 ||
        (a = memb_best_admission(&n->memb, pk)) < 0)
        return 0;
    /* The inviter confirms, so `members` keeps saying who admitted whom;
     * another organiser only if the inviter can no longer, or in the last
     * day before the invitation lapses (the inviter's node may be away). */
    if (!node__is_me(n, n->memb.adm[a].author) &&
        memb_role_at(&n->memb, n->memb.adm[a].author, now, &role) == 0 &&
        role == AGAH_ROLE_ORGANISER &&
        now + NODE_CONFIRM_ANYONE < memb_invited_until(&n->memb, pk))
        return 0;
    /* The same name, if this node can read it and has a key to hide it
     * under; else the permanent admission goes without one. */
    name = n->memb.adm[a].name_open ? n->memb.adm[a].name : "";
    if ((rc = node__sign_admission(n, pk, n->memb.adm[a].role, name, now, 0, 1, &buf, &len,
                                   NULL)) != 0)
        return rc;
    rc = node__local(n, buf, len, NULL, NULL);
    free(buf);
    if (rc != 0)
        return rc;
    log_info("a newly admitted member's node linked with this one: its admission is now "
             "permanent");
    (void)node__maintain(n);
    return 1;
}

size_t node_unreadable(const struct node *n)
{
    /* The view holds exactly the stored alerts this node could open. */
    return n->n_alerts > n->alerts.live ? n->n_alerts - n->alerts.live : 0;
}

uint64_t node_epoch_number(const struct node *n)
{
    long e = node__posting_epoch(n);
    return e < 0 ? 0 : n->memb.ep[e].number;
}

static int node__tomb_gone(void *ctx, const uint8_t id[AGAH_HASH_LEN])
{
    struct node *n = ctx;
    if (alerts_id_state(&n->alerts, id) == ALERTS_ID_TOMB)
        (void)alerts_id_forget(&n->alerts, id);
    return 0;
}

int node_prune(struct node *n)
{
    struct node_rows rows = {0};
    uint64_t now = node_now(n);
    int rc;
    size_t pruned = 0;

    if ((rc = store_scan_expired(n->store, now, node__rows_cb, &rows)) != 0)
        goto out;
    for (size_t i = 0; rc == 0 && i < rows.n; i++) {
        /* Expired admissions stay (see node__validate). */
        if (rows.v[i].type != AGAH_REC_ALERT)
            continue;
        rc = node__drop(n, rows.v[i].id, rows.v[i].type, 1,
                        node__tomb_until(now, rows.v[i].expires));
        if (rc == 0)
            rc = node__drop_annotations(n, rows.v[i].id, now);
        pruned++;
    }
    if (rc == 0)
        rc = store_begin(n->store);
    if (rc == 0)
        rc = store_tombstone_expire(n->store, now, node__tomb_gone, n);
    if (rc == 0)
        rc = node_flush(n);
    /* secure_delete zeroed the pruned rows in the file; older copies of
     * their pages wait in the WAL until overwritten. Not fatal: a reader
     * holding a snapshot only delays it to the next prune. */
    if (rc == 0 && pruned > 0 && store_wal_truncate(n->store) != 0)
        log_debug("store: the WAL could not be truncated after a prune; next time");
out:
    free(rows.v);
    if (rc != 0)
        return rc;
    return pruned > INT32_MAX ? INT32_MAX : (int)pruned;
}

/* ------------------------------------------------------------------ */
/* The handshake's admission slot                                      */

/* Membership is decided before anything from the slot is stored: a link
 * that is refused leaves nothing behind (issue 22). The slot holds only
 * pk's own admission (or the genesis record when pk is the founder), so
 * it cannot carry any other record into the store; an admission new to
 * this node is tried on a copy of the membership first, and kept only if
 * it makes pk a member now. */
int node_admit_peer(struct node *n, const uint8_t pk[AGAH_PK_LEN], const uint8_t *buf,
                    size_t len, int *role, struct agah_why *why)
{
    struct agah_rec r;
    int rc, remember, trial;
    uint64_t now = node_now(n);

    if (buf == NULL || len == 0)
        return agah_fail(why, AGAH_ETRUNC, "no admission record");
    if (len > AGAH_REC_MAX)
        return agah_fail(why, AGAH_ETOOBIG, "admission record of %zu bytes", len);
    if ((rc = agah_rec_decode(buf, len, node_community(n), &r, why)) != 0)
        return rc;
    if (r.type == AGAH_REC_ADMISSION) {
        if (memcmp(r.u.admission.member, pk, AGAH_PK_LEN) != 0)
            return agah_fail(why, AGAH_EPERM, "the admission slot holds another key's admission");
    } else if (r.type == AGAH_REC_GENESIS) {
        if (memcmp(r.author, pk, AGAH_PK_LEN) != 0)
            return agah_fail(why, AGAH_EPERM, "the admission slot holds a genesis record "
                                              "of another key");
    } else {
        return agah_fail(why, AGAH_EPERM, "the admission slot holds a record of type %d, "
                                          "not an admission", r.type);
    }
    rc = memb_role_at(&n->memb, pk, now, role);
    if (rc == AGAH_EPERM)
        return agah_fail(why, rc, "revoked");
    if (rc == 0 || alerts_id_state(&n->alerts, r.id) != ALERTS_ID_NONE) {
        /* Already a member, or the record is known and pk still is not. A
         * member's admission new to us (a changed role) is stored like any
         * record from a member's link. */
        if (rc == 0 && alerts_id_state(&n->alerts, r.id) == ALERTS_ID_NONE) {
            struct agah_why ign = {{0}};
            if (node__ingest_rec(n, &r, &ign) < 0)
                log_debug("a member's admission record was not stored: %s", ign.msg);
            (void)node__maintain(n);
        }
        return rc == 0 ? 0 : agah_fail(why, rc, "not a member");
    }
    /* New to us: would it make pk a member now? Rules 1-7 first (its
     * signer must be an organiser we know), then the membership with it
     * added, without storing anything. */
    if ((rc = node__validate(n, &r, now, &remember, why)) != 0)
        return rc == AGAH_EPERM ? AGAH_ENOENT : rc;
    if ((rc = memb_add(&n->memb, &r)) != 0)
        return agah_fail(why, rc, "membership is full");
    if ((rc = memb_recompute(&n->memb)) == 0)
        trial = memb_role_at(&n->memb, pk, now, role);
    else
        trial = rc;
    if ((rc = memb_remove(&n->memb, r.id)) < 0) {
        log_error("membership could not be restored after a trial: %s", agah_strerror(rc));
        return agah_fail(why, AGAH_EINTERNAL, "membership trial failed");
    }
    if (trial != 0)
        return agah_fail(why, trial == AGAH_EPERM ? AGAH_EPERM : AGAH_ENOENT,
                         "its admission does not make it a member now (expired, or "
                         "signed by a key that could not admit then)");
    rc = node__ingest_rec(n, &r, why);
    (void)node__maintain(n);
    if (rc < 0)
        return rc;
    return node_member_status(n, pk, role);
}

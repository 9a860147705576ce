/* Ingest: every record, from a peer or from this node, is validated,
 * stored, indexed and counted here (quota hooks, the pending list of
 * records waiting for their author's admission, drops and revalidation
 * when membership changes). The rules are in proto/PROTOCOL.md, "Validity". */
#include "node_int.h"

static int node__quota(struct node *n, const struct agah_rec *r, struct agah_why *why);
static void node__quota_recount(struct node *n);
static void node__pending_add(struct node *n, const uint8_t *buf, size_t len,
                              const uint8_t id[AGAH_HASH_LEN]);

/* ------------------------------------------------------------------ */
/* Storing and removing                                                */

const struct node_src node__src_here = {NULL, 1}, node__src_released = {NULL, 0};

static void node__notify(struct node *n, const struct agah_rec *r, const struct node_src *src)
{
    for (size_t i = 0; i < n->n_listeners; i++)
        n->listeners[i].cb(n->listeners[i].ctx, r, src);
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
int node__drop(struct node *n, const uint8_t id[AGAH_HASH_LEN], int type, int tomb,
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

int node__rows_cb(void *ctx, const struct store_rec *sr)
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
int node__drop_annotations(struct node *n, const uint8_t alert[AGAH_HASH_LEN],
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

int node__decrypt_cb(void *ctx, const struct store_rec *sr)
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

/* Opens the chain links of the stored EPOCH `id`, whose key this node
 * holds: each key it lacks is kept (written with the walk's last) and the
 * posts sealed under it are opened; its id goes on the queue `q` (*nq of
 * *cap), to be followed in turn. *added counts the keys kept. */
static int node__links_open(struct node *n, const uint8_t id[AGAH_HASH_LEN], uint8_t *link_key,
                            uint8_t (**q)[AGAH_HASH_LEN], size_t *nq, size_t *cap,
                            size_t *added)
{
    const uint8_t *key = node__key(n, id), *pid;
    uint8_t *buf = NULL;
    size_t len = 0;
    struct agah_rec r;
    int rc = 0;

    if (key == NULL || store_get(n->store, id, &buf, &len) != 0)
        return 0; /* followed when the record arrives */
    if (agah_rec_decode_stored(buf, len, node_community(n), &r, NULL) != 0 ||
        r.type != AGAH_REC_EPOCH) {
        free(buf);
        return 0;
    }
    for (size_t i = 0; rc == 0 && (pid = agah_rec_epoch_prev_id(&r, i)) != NULL; i++) {
        if (node__key(n, pid) != NULL || agah_rec_epoch_prev_open(&r, i, key, link_key) != 0)
            continue;
        if ((rc = agah_array_reserve((void **)q, cap, *nq, sizeof **q, 16,
                                     AGAH_LOCAL_MAX_EPOCHS + 1)) != 0)
            break;
        memcpy((*q)[(*nq)++], pid, AGAH_HASH_LEN);
        if ((rc = node__key_put(n, pid, link_key, 0)) == 0) {
            (*added)++;
            rc = node__decrypt_epoch(n, pid);
        }
    }
    free(buf);
    return rc;
}

/* Follows the chain links back from an epoch whose key this node holds,
 * breadth first: each link holds the key of an earlier epoch, so a member
 * admitted late reads the whole history, and one left out of an epoch
 * reads what was posted under it once a later epoch links to it. Stops at
 * a key it already holds (what lies behind it was followed when that key
 * came), at a record it does not have yet (followed when that record
 * arrives, node__epoch_arrived), or when it holds no more links. Each step
 * adds a key, so the walk is as long as the community file is. */
int node__chain_walk(struct node *n, const uint8_t start[AGAH_HASH_LEN])
{
    uint8_t (*q)[AGAH_HASH_LEN] = NULL, *link_key;
    size_t nq = 0, cap = 0, added = 0;
    int rc;

    if ((link_key = sodium_malloc(AGAH_KEY_LEN)) == NULL)
        return AGAH_ENOMEM;
    rc = agah_array_reserve((void **)&q, &cap, 0, sizeof *q, 16, AGAH_LOCAL_MAX_EPOCHS + 1);
    if (rc == 0)
        memcpy(q[nq++], start, AGAH_HASH_LEN);
    for (size_t k = 0; rc == 0 && k < nq; k++)
        rc = node__links_open(n, q[k], link_key, &q, &nq, &cap, &added);
    if (rc == AGAH_ETOOBIG) {
        /* The community file holds AGAH_LOCAL_MAX_EPOCHS keys: what lies
         * further back stays unread, and the node keeps going. */
        log_warn("%d epoch keys held: older alerts stay unreadable", AGAH_LOCAL_MAX_EPOCHS);
        rc = 0;
    }
    sodium_free(link_key);
    free(q);
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
int node__validate(const struct node *n, const struct agah_rec *r, uint64_t now,
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

/* Stores a valid record and updates the views, then tells the listeners
 * it came from `src`. With `durable`, it is committed before this returns
 * (R1); otherwise it joins the open ingest transaction that node_flush
 * commits. Returns 1 stored, 0 already there. */
static int node__accept(struct node *n, const struct agah_rec *r, int durable,
                        const struct node_src *src)
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
    node__notify(n, r, src);
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
int node__quota_trim(struct node *n)
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

void node__pending_drop_oldest(struct node *n)
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
void node__pending_retry(struct node *n)
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
                (void)node__ingest_rec(n, &r, &node__src_released, NULL);
            free(batch[i].buf);
        }
        free(batch);
    }
    n->retry_pending = 0;
}

/* ------------------------------------------------------------------ */
/* Ingest                                                              */

/* A valid record, stored (node__accept) if its author's quota lets it
 * in: 1 stored, 0 already there, else why not. The count the quota took
 * is given back when nothing was stored. */
int node__store(struct node *n, const struct agah_rec *r, int durable,
                const struct node_src *src, struct agah_why *why)
{
    int rc = node__quota(n, r, why);

    if (rc != 0)
        return rc;
    rc = node__accept(n, r, durable, src);
    if (rc <= 0 && r->type >= AGAH_REC_ALERT)
        quota_sub(&n->quota, r->author, r->created, r->len);
    if (rc < 0)
        return agah_fail(why, rc, "cannot store the record: %s", agah_strerror(rc));
    return rc;
}

/* What a refused record leaves behind (node__validate's *remember): its
 * id tombstoned so it is not fetched again (and, for an alert, its
 * annotations gone with it), or the record kept pending until its
 * author's admission comes. */
static void node__remember_refused(struct node *n, const struct agah_rec *r, int remember,
                                   uint64_t now)
{
    if (remember == REJ_TOMB) {
        int t = node__tombstone(n, r->id, node__tomb_until(now, r->expires));
        if (t != 0)
            log_warn("cannot remember a rejected id: %s", agah_strerror(t));
        if (r->type == AGAH_REC_ALERT)
            (void)node__drop_annotations(n, r->id, now);
    } else if (remember == REJ_PENDING) {
        node__pending_add(n, r->bytes, r->len, r->id);
    }
}

/* A record decoded and verified (agah_rec_decode), new to this node:
 * validated, then stored, or remembered as refused or pending. */
int node__ingest_rec(struct node *n, const struct agah_rec *r, const struct node_src *src,
                     struct agah_why *why)
{
    uint64_t now = node_now(n);
    int remember, rc = node__validate(n, r, now, &remember, why);

    if (rc == 0)
        return node__store(n, r, 0, src, why);
    node__remember_refused(n, r, remember, now);
    return rc;
}

/* The last step of both ingest entries: a record this node already holds
 * (or refused for good) costs nothing more; a new one is ingested, and
 * whatever it changed (pending records an admission releases, an epoch
 * to issue) follows. */
static int node__ingest_if_new(struct node *n, const struct agah_rec *r,
                               const struct node_src *src, struct agah_why *why)
{
    int rc;

    if (alerts_id_state(&n->alerts, r->id) != ALERTS_ID_NONE)
        return 0;
    rc = node__ingest_rec(n, r, src != NULL ? src : &node__src_here, why);
    (void)node__maintain(n);
    return rc;
}

int node_ingest(struct node *n, const uint8_t *buf, size_t len, struct agah_why *why)
{
    uint8_t id[AGAH_HASH_LEN];
    struct agah_rec r;
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
    if ((rc = agah_rec_decode(buf, len, node_community(n), &r, why)) != 0)
        return rc;
    return node__ingest_if_new(n, &r, NULL, why);
}

int node_ingest_decoded(struct node *n, const struct agah_rec *r, const struct node_src *src,
                        struct agah_why *why)
{
    if (r == NULL || r->bytes == NULL || r->len == 0)
        return agah_fail(why, AGAH_EINVAL, "no record");
    if (memcmp(r->community, node_community(n), AGAH_HASH_LEN) != 0 &&
        !(r->type == AGAH_REC_GENESIS && memcmp(r->id, node_community(n), AGAH_HASH_LEN) == 0))
        return agah_fail(why, AGAH_ECOMMUNITY, "a record of another community");
    return node__ingest_if_new(n, r, src, why);
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

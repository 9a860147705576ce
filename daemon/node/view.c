/* Reading the alert view: opening an alert, its status and retractions,
 * check, list, show, members, pruning, and the handshake's admission slot. */
#define _DEFAULT_SOURCE /* strnlen */
#include "node_int.h"

/* ------------------------------------------------------------------ */
/* The alert view                                                      */

/* Decrypts an ALERT this node has the key for. 1 readable, 0 not. */
int node__open_alert(const struct node *n, const struct agah_rec *r,
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
int node__alert_status(const struct node *n, const struct alert_ent *a, uint64_t now)
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

/* Reads an alert's note from the store into note[AGAH_NOTE_MAX + 1]: the
 * sealed record, decoded and opened under its epoch key as ingest opens
 * it, in n->rbody (guarded memory), wiped right after. The view keeps no
 * note, so a flood of long notes costs disk, not RAM (issue 24), and a
 * note is in memory only while an answer that shows it is built. */
static int node__alert_note(struct node *n, const uint8_t id[AGAH_HASH_LEN],
                            char note[AGAH_NOTE_MAX + 1])
{
    uint8_t *buf = NULL;
    size_t len = 0, nl;
    struct agah_rec r;
    int rc;

    note[0] = '\0';
    if ((rc = store_get(n->store, id, &buf, &len)) != 0)
        return rc;
    rc = AGAH_EIO;
    if (agah_rec_decode_stored(buf, len, node_community(n), &r, NULL) == 0 &&
        r.type == AGAH_REC_ALERT && node__open_alert(n, &r, n->rbody)) {
        nl = strnlen(n->rbody->note, AGAH_NOTE_MAX);
        memcpy(note, n->rbody->note, nl);
        note[nl] = '\0';
        rc = 0;
    }
    sodium_memzero(n->rbody, sizeof *n->rbody);
    free(buf);
    return rc;
}

/* Fills *out from the view; the note too (read from the store) when
 * with_note is set, else it is left empty. 0, or the error reading the
 * note. */
int node__alert_fill(struct node *n, const struct alert_ent *a, uint64_t now,
                     int with_note, struct node_alert *out)
{
    unsigned confirms = 0;
    const char *target = alerts_target(&n->alerts, a);
    size_t tl = strlen(target);
    const uint8_t *author = alerts_author(&n->alerts, a);

    /* `check` runs this per hit: copy the target by length instead of
     * clearing the whole 2 KiB body first. alerts.c bounded it when it
     * stored it. */
    memcpy(out->id, a->id, AGAH_HASH_LEN);
    memcpy(out->author, author, AGAH_PK_LEN);
    out->body.kind = a->kind;
    out->body.category = a->category;
    out->body.severity = a->severity;
    memcpy(out->body.target, target, tl + 1);
    out->body.note[0] = '\0';
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
    return with_note ? node__alert_note(n, a->id, out->body.note) : 0;
}
/* One alert of a listing, for sorting without copying bodies. */
struct node_lref {
    uint64_t created;
    const struct alert_ent *e;
};

/* Newest first, then by id: the order `list` and `check` show and page in,
 * the same on every node. */
static int node__lref_cmp(const void *pa, const void *pb)
{
    const struct node_lref *a = pa, *b = pb;
    if (a->created != b->created)
        return a->created > b->created ? -1 : 1;
    return memcmp(a->e->id, b->e->id, AGAH_HASH_LEN);
}

/* The cursor of a page: the alert `after` (NULL: none). AGAH_ENOENT when
 * the node holds no such alert. */
static int node__cursor(const struct node *n, const uint8_t *after, struct node_lref *key)
{
    key->created = 0;
    key->e = NULL;
    if (after == NULL)
        return 0;
    if ((key->e = alerts_get(&n->alerts, after)) == NULL)
        return AGAH_ENOENT;
    key->created = key->e->created;
    return 0;
}

/* Sorts v[0..cnt) and copies out the page of at most `limit` alerts that
 * follows the cursor (which need not be in v itself), notes (with_notes)
 * read from the store for that page only. Frees v. */
static int node__page(struct node *n, struct node_lref *v, size_t cnt,
                      const struct node_lref *key, size_t limit, uint64_t now, int with_notes,
                      struct node_alert **out, size_t *count, int *more)
{
    struct node_alert *page = NULL;
    size_t start = 0, take, i;
    int rc = 0;

    if (cnt > 1)
        qsort(v, cnt, sizeof *v, node__lref_cmp);
    if (key->e != NULL) {
        size_t lo = 0, hi = cnt; /* first entry that sorts after the cursor */
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (node__lref_cmp(&v[mid], key) <= 0)
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
    for (i = 0; i < take && rc == 0; i++)
        rc = node__alert_fill(n, v[start + i].e, now, with_notes, &page[i]);
    free(v);
    if (rc != 0) {
        sodium_memzero(page, i * sizeof *page);
        free(page);
        return rc;
    }
    *more = start + take < cnt;
    *out = page;
    *count = take;
    return 0;
}

int node_check_page(struct node *n, const char *normalized, const uint8_t *after, size_t limit,
                    int with_notes, struct node_alert **out, size_t *count, int *more,
                    int *flagged)
{
    struct node_lref *v = NULL, key;
    size_t cnt = 0, cap = 0;
    uint64_t now = node_now(n);
    int rc, any = 0;

    *out = NULL;
    *count = 0;
    *more = 0;
    if (flagged != NULL)
        *flagged = 0;
    if ((rc = node__cursor(n, after, &key)) != 0)
        return rc;
    /* 16 bytes an alert of the target while it sorts; only the page is
     * copied out, so one author's thousands of alerts on one number make
     * no answer larger than `limit` alerts. */
    for (const struct alert_ent *a = alerts_first(&n->alerts, normalized); a != NULL;
         a = alerts_next(&n->alerts, a)) {
        /* A target holds at most every alert of the view. */
        if ((rc = agah_array_reserve((void **)&v, &cap, cnt, sizeof *v, 4, ALERTS_MAX)) != 0) {
            free(v);
            return rc;
        }
        v[cnt].created = a->created;
        v[cnt++].e = a;
        /* Flagged is over every alert of the target, not the page. */
        if (flagged != NULL && !any && node__alert_status(n, a, now) == NODE_ACTIVE)
            any = 1;
    }
    if (flagged != NULL)
        *flagged = any;
    return node__page(n, v, cnt, &key, limit, now, with_notes, out, count, more);
}

int node_check(struct node *n, const char *normalized, struct node_alert **out, size_t *count)
{
    int more;
    return node_check_page(n, normalized, NULL, SIZE_MAX, 1, out, count, &more, NULL);
}

/* The alerts a listing shows, unsorted: into *out (caller frees). */
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
    *out = v;
    *count = cnt;
    return 0;
}

int node_list_page(struct node *n, int kind, int all, const uint8_t *after, size_t limit,
                   struct node_alert **out, size_t *count, int *more)
{
    struct node_lref *v = NULL, key;
    size_t cnt = 0;
    uint64_t now = node_now(n);
    int rc;

    *out = NULL;
    *count = 0;
    *more = 0;
    /* The cursor is an alert: the page starts right after it in the
     * listing's order, whether or not it is in this listing itself. */
    if ((rc = node__cursor(n, after, &key)) != 0)
        return rc;
    if ((rc = node__list_refs(n, kind, all, now, &v, &cnt)) != 0)
        return rc;
    return node__page(n, v, cnt, &key, limit, now, 1, out, count, more);
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
    return node__alert_fill(n, a, node_now(n), 1, out);
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
            if (node__ingest_rec(n, &r, &node__src_here, &ign) < 0)
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
    rc = node__ingest_rec(n, &r, &node__src_here, why);
    (void)node__maintain(n);
    if (rc < 0)
        return rc;
    return node_member_status(n, pk, role);
}

/* What a member asks of its node through control/: post, confirm,
 * retract, invite (join codes), revoke. Each makes a record and stores it
 * through node__local. */
#define _DEFAULT_SOURCE /* strnlen */
#include "node_int.h"

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
    (void)node__alert_fill(n, a, node_now(n), 0, &view);
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
int node__sign_admission(struct node *n, const uint8_t pk[AGAH_PK_LEN], int role,
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

/* Epochs: the keys this node holds, the epoch it posts under, records it
 * makes itself (node__local), and the periodic tick that rekeys when the
 * membership changed. */
#include "node_int.h"

uint64_t node_now(const struct node *n)
{
    if (n->now != NULL)
        return n->now();
    time_t t = time(NULL);
    return t < 0 ? 0 : (uint64_t)t;
}

int node__is_me(const struct node *n, const uint8_t pk[AGAH_PK_LEN])
{
    return memcmp(pk, agah_identity_pk(n->id), AGAH_PK_LEN) == 0;
}

uint64_t node__tomb_until(uint64_t now, uint64_t expires)
{
    uint64_t base = expires > now ? expires : now;
    return base > UINT64_MAX - NODE_TOMB_KEEP ? UINT64_MAX : base + NODE_TOMB_KEEP;
}

/* ------------------------------------------------------------------ */
/* Epoch keys                                                          */

const uint8_t *node__key(const struct node *n, const uint8_t epoch[AGAH_HASH_LEN])
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
int node__key_put(struct node *n, const uint8_t epoch[AGAH_HASH_LEN],
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

int node__key_add(struct node *n, const uint8_t epoch[AGAH_HASH_LEN],
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
void node__names(struct node *n)
{
    if (n->local->n_epochs > 0)
        (void)memb_names_open(&n->memb, node__key_cb, n);
}

/* The epoch this node posts under: the community's posting epoch
 * (memb_posting_epoch) when this node holds its key, else the best clean
 * one it holds by the same order (a complete one first), so a member whose
 * key is on its way can still post. -1 if it holds no clean epoch. */
long node__posting_epoch(const struct node *n)
{
    uint64_t now = node_now(n);
    long best = memb_posting_epoch(&n->memb, now);
    if (best >= 0 && node__key(n, n->memb.ep[best].id) != NULL)
        return best;
    return memb_best_held_epoch(&n->memb, now, node__key_cb, (void *)n);
}

/* The epoch a name or reason this node signs is encrypted under: the one
 * it posts under, so every member can read it and no revoked key. 0 with
 * both set, or AGAH_ENOENT (both NULL) when it holds no clean epoch. */
int node__text_epoch(const struct node *n, const uint8_t **eid, const uint8_t **key)
{
    long e = node__posting_epoch(n);
    *eid = *key = NULL;
    if (e < 0)
        return AGAH_ENOENT;
    *eid = n->memb.ep[e].id;
    *key = node__key(n, *eid);
    return *key != NULL ? 0 : AGAH_ENOENT;
}

/* Signs-and-stores path for records this node makes: validated like any
 * other, committed durably before returning (R1). */
int node__local(struct node *n, uint8_t *buf, size_t len, uint8_t id[AGAH_HASH_LEN],
                struct agah_why *why)
{
    struct agah_rec r;
    int rc, remember;

    if ((rc = agah_rec_decode(buf, len, node_community(n), &r, why)) != 0)
        return rc;
    if ((rc = node__validate(n, &r, node_now(n), &remember, why)) != 0 ||
        (rc = node__store(n, &r, 1, &node__src_here, why)) < 0)
        return rc;
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

/* The chain links of an epoch this node issues: the posting epoch's key
 * and that of the newest epoch it holds, then every key it holds that
 * those do not reach (memb_reach) and under which posts are stored, newest
 * first; at most AGAH_EPOCH_MAX_LINKS. So whoever opens the new epoch can
 * read every post this node can, also those sealed under an epoch that
 * left a member out or whose record the community has since refused (an
 * informant's). Returns how many are *stray*: keys with posts that the
 * posting epoch does not reach, which are reason enough to rekey. */
/* Whether `id` is among the n ids at v. */
static int node__among(const uint8_t (*v)[AGAH_HASH_LEN], size_t n, const uint8_t *id)
{
    for (size_t j = 0; j < n; j++)
        if (memcmp(v[j], id, AGAH_HASH_LEN) == 0)
            return 1;
    return 0;
}

static size_t node__links(struct node *n, uint64_t now, uint8_t (*ids)[AGAH_HASH_LEN],
                          const uint8_t **keys, size_t *n_links)
{
    uint8_t (*reach)[AGAH_HASH_LEN] = NULL;
    size_t n_pe = 0, n_reach = 0, stray = 0, max = n->local->n_epochs + 1;
    long pe = memb_posting_epoch(&n->memb, now), newest = -1;

    *n_links = 0;
    for (size_t i = 0; i < n->memb.n_ep; i++)
        if (node__key(n, n->memb.ep[i].id) != NULL &&
            (newest < 0 || n->memb.ep[i].number > n->memb.ep[newest].number))
            newest = (long)i;
    if ((reach = malloc(2 * max * sizeof *reach)) == NULL)
        return 0;
    /* What the posting epoch reaches (stray is measured against it), then
     * what the newest held epoch reaches too (linked anyway, so what it
     * reaches needs no link of its own). */
    for (int k = 0; k < 2; k++) {
        long e = k == 0 ? pe : newest;
        const uint8_t *key;
        size_t got;
        if (e < 0 || (k == 1 && e == pe))
            continue;
        got = memb_reach(&n->memb, n->memb.ep[e].id, reach + n_reach, max);
        n_reach += got < max ? got : max;
        if (k == 0)
            n_pe = n_reach;
        if ((key = node__key(n, n->memb.ep[e].id)) != NULL) {
            memcpy(ids[*n_links], n->memb.ep[e].id, AGAH_HASH_LEN);
            keys[(*n_links)++] = key;
        }
    }
    /* Newest first: the community file keeps keys in the order learned,
     * each once. The epochs linked above are in reach (each is where its
     * memb_reach began), so a key not in reach is not linked yet. */
    for (size_t i = n->local->n_epochs; i-- > 0;) {
        const uint8_t *id = n->local->epochs[i].id;
        if (memcmp(id, node_community(n), AGAH_HASH_LEN) == 0 ||
            node__among((const uint8_t (*)[AGAH_HASH_LEN])reach, n_pe, id) ||
            store_epoch_used(n->store, id) != 1)
            continue;
        stray++;
        if (!node__among((const uint8_t (*)[AGAH_HASH_LEN])reach + n_pe, n_reach - n_pe, id) &&
            *n_links < AGAH_EPOCH_MAX_LINKS) {
            memcpy(ids[*n_links], id, AGAH_HASH_LEN);
            keys[(*n_links)++] = n->local->epochs[i].key;
        }
    }
    free(reach);
    return stray;
}

/* An organiser whose community posts under no clean epoch, or under one
 * that misses a current organiser or member, or that does not reach a key
 * under which posts are stored (node__links), issues a new one sealed to
 * every current organiser and member (never relays); with `force`, any
 * organiser issues one. */
int node__rekey(struct node *n, int force)
{
    uint64_t now = node_now(n), number = 0, created;
    uint8_t (*recips)[AGAH_PK_LEN] = NULL, (*rels)[AGAH_PK_LEN];
    uint8_t *key = NULL, *buf = NULL, eid[AGAH_HASH_LEN];
    uint8_t link_ids[AGAH_EPOCH_MAX_LINKS][AGAH_HASH_LEN];
    const uint8_t *link_keys[AGAH_EPOCH_MAX_LINKS];
    size_t cnt = 0, n_rel = 0, len = 0, n_links = 0, stray;
    int role, rc = 0;

    if (memb_role_at(&n->memb, agah_identity_pk(n->id), now, &role) != 0 ||
        role != AGAH_ROLE_ORGANISER)
        goto out;
    stray = node__links(n, now, link_ids, link_keys, &n_links);
    if (!force && !memb_needs_rekey(&n->memb, now) && stray == 0)
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
    /* Linked back (node__links), so whoever opens the new one can walk
     * back through the history (node__chain_walk). */
    struct agah_epoch_spec sp = {
        .number = number + 1, .recipients = (const uint8_t (*)[32])recips, .n = cnt,
        .relays = (const uint8_t (*)[32])rels, .n_relays = n_rel, .key = key,
        .prev_ids = (const uint8_t (*)[32])link_ids, .prev_keys = link_keys,
        .n_prev = n_links, .created = created};
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
    log_info("issued epoch %llu to %zu members and %zu relays%s%s",
             (unsigned long long)(number + 1), cnt, n_rel,
             sp.net != NULL ? "" : ", with a new network secret",
             stray > 0 ? ", linking keys of posts the posting epoch did not reach" : "");
out:
    if (rc != 0)
        log_error("rekey failed: %s", agah_strerror(rc));
    if (key != NULL)
        sodium_free(key);
    free(recips);
    free(buf);
    return rc;
}

void node__want_rekey(struct node *n, uint64_t delay)
{
    uint64_t at = node_now(n) + delay;
    if (n->rekey_at == 0 || n->rekey_at > at)
        n->rekey_at = at;
}

int node__maintain(struct node *n)
{
    int rc = 0;
    uint64_t now = node_now(n);

    node__pending_retry(n);
    if (now >= n->stray_at) {
        n->stray_at = now + NODE_STRAY_EVERY;
        if (n->rekey_at == 0)
            n->rekey_at = now;
    }
    if (n->rekey_at != 0 && now >= n->rekey_at) {
        n->rekey_at = 0;
        rc = node__rekey(n, 0);
    }
    return rc;
}

int node_tick(struct node *n)
{
    return node__maintain(n);
}

/* Opening and closing a node: the data directory's files and lock, the
 * store, rebuilding the view from it, and the accessors other layers read. */
#define _DEFAULT_SOURCE /* flock */
#include "node_int.h"

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
    if (lstat(sk_path, &sb) != 0 && errno == ENOENT && store_is_sealed(db_path, &sealed) == 0 &&
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
    n->stray_at = UINT64_MAX; /* not while the community file's records go in */
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
    if (lstat(key_path, &st) != 0) {
        rc = agah_fail(why, AGAH_ENOENT, "no identity in %.90s: run `agah --data %.90s init` first",
                       data_dir, data_dir);
        goto out;
    }
    if (lstat(n->local_path, &st) != 0) {
        rc = agah_fail(why, AGAH_ENOENT,
                       "no community in %.90s: run `agah community create NAME` or "
                       "`agah join CODE`, with --data %.90s",
                       data_dir, data_dir);
        goto out;
    }
    /* The lock comes before anything is read or written, so a second
     * agahd never touches the store. flock locks belong to the open file,
     * so even a second open in the same process is refused. */
    /* O_NOFOLLOW: a link planted as agahd.lock would make agahd create or
     * open whatever it points at. */
    n->lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (n->lock_fd < 0) {
        if (errno == ELOOP)
            rc = agah_fail(why, AGAH_EPERM, "refusing %s: it is a symbolic link", lock_path);
        else
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
        (n->rbody = sodium_malloc(sizeof *n->rbody)) == NULL ||
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
    n->stray_at = n->opened_at + NODE_STRAY_EVERY; /* this first check looks too */
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
    if (n->rbody != NULL)
        sodium_free(n->rbody);
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
int node__net_open(void *ctx, size_t i, uint8_t out[32])
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

int node__addr_ok(const char *addr)
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

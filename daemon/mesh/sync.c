/* Synchronisation: reconciliation (ranges and sketches) with one peer,
 * the OFFER/WANT exchange it leads to, the work budget it is charged to,
 * and the reconciliation set built from the node's ids. */
#define _POSIX_C_SOURCE 200809L /* what uv.h needs */
#include "mesh_int.h"

/* Reconciliation callbacks for one peer. What we lack we ask for with
 * WANT, so the bodies come as answers and skip the rate limit.
 * What the peer lacks we do not push: pushed bodies would be charged to
 * its token bucket like any unsolicited record, throttling its catch-up
 * to NET_RATE. We OFFER the ids and let it WANT them. */
static void net__recon_need(void *ctx, const uint8_t id[AGAH_HASH_LEN])
{
    struct peer *p = ctx;
    struct mesh_peer *mp = mesh_peer(p);

    if (p->state != PEER_UP || net__have(mesh_net(p), id))
        return;
    if (mp->wantq == NULL && (mp->wantq = malloc(NET_WANTQ_MAX * AGAH_HASH_LEN)) == NULL) {
        mp->recon_again = 1;
        return;
    }
    if (mp->wq_len == NET_WANTQ_MAX) {
        mp->recon_again = 1; /* the next reconciliation finds it again */
        return;
    }
    memcpy(mp->wantq[(mp->wq_head + mp->wq_len) % NET_WANTQ_MAX], id, AGAH_HASH_LEN);
    mp->wq_len++;
}

static void net__recon_have(void *ctx, const uint8_t id[AGAH_HASH_LEN])
{
    struct peer *p = ctx;
    struct mesh_peer *mp = mesh_peer(p);

    if (p->state != PEER_UP)
        return;
    mp->offered++;
    memcpy(mp->offer[mp->n_offer++], id, AGAH_HASH_LEN);
    if (mp->n_offer == GOSSIP_IDS_MAX)
        (void)net__send_ids(mp, GOSSIP_OFFER, mp->offer, &mp->n_offer);
}

/* Sends what reconciling one message left in the OFFER batch, and asks
 * for what it found missing. */
static void net__recon_flush(struct peer *p)
{
    struct mesh_peer *mp = mesh_peer(p);

    if (p->state == PEER_UP)
        (void)net__send_ids(mp, GOSSIP_OFFER, mp->offer, &mp->n_offer);
    net__want_pump(mp);
}

static int net__recon_send(void *ctx, const uint8_t *msg, size_t len)
{
    return peer__send(ctx, msg, len);
}

static int net__set_ready(struct net *net);

/* A short id a sketch found missing: queued for SWANT under the salt of
 * the sketch. A table with another salt replaces what is still queued
 * (dropped ids are found again by the next reconciliation). */
static void net__sketch_need(void *ctx, const uint8_t salt[SKETCH_SALT_LEN], uint64_t sid)
{
    struct peer *p = ctx;
    struct mesh_peer *mp = mesh_peer(p);

    if (p->state != PEER_UP)
        return;
    if (mp->swq == NULL &&
        (mp->swq = malloc(SKETCH_K * SKETCH_Q_MAX * sizeof *mp->swq)) == NULL) {
        mp->recon_again = 1;
        return;
    }
    if (memcmp(mp->ssalt, salt, SKETCH_SALT_LEN) != 0) {
        if (mp->swq_len > 0)
            mp->recon_again = 1;
        mp->swq_len = 0;
        memcpy(mp->ssalt, salt, SKETCH_SALT_LEN);
    }
    if (mp->swq_len == SKETCH_K * SKETCH_Q_MAX) {
        mp->recon_again = 1;
        return;
    }
    mp->swq[(mp->swq_head + mp->swq_len) % (SKETCH_K * SKETCH_Q_MAX)] = sid;
    mp->swq_len++;
}

void net__recon_start(struct peer *p)
{
    struct mesh_peer *mp = mesh_peer(p);
    struct sketch_cb cb = {net__sketch_need, net__recon_have, net__recon_send, p};
    int r;

    if (net__set_ready(mesh_net(p)) != 0)
        return;
    mp->sk_retry = 1;
    if ((r = sketch_initiate(mesh_net(p)->set, NULL, &cb, NULL)) != 0 && p->state == PEER_UP)
        log_peer(LOG_WARN, p->remote, "cannot start reconciliation: %s", agah_strerror(r));
    else
        log_debug("peer %s: reconciliation started", p->remote);
    net__recon_flush(p);
}

/* Whether a reconciliation message from p may be answered now (its work
 * budget, workmeter.h). A dropped message is only logged (the periodic
 * reconciliation settles what it would have); a peer that keeps sending
 * into an empty budget is closed. */
static int net__work_admit(struct peer *p, const char *what)
{
    struct mesh_peer *mp = mesh_peer(p);
    enum workmeter_verdict v = workmeter_admit(&mp->work, net__now(mesh_net(p)));

    if (v == WORK_ANSWER)
        return 1;
    if (mp->work.drops == 1)
        log_peer(LOG_INFO, p->remote, "reconciliation beyond its budget: %s dropped", what);
    if (v == WORK_CLOSE)
        peer__close(p, "reconciliation far beyond its budget");
    return 0;
}

void net__on_recon(struct peer *p, const struct gossip_msg *m)
{
    struct mesh_peer *mp = mesh_peer(p);
    size_t visited = 0, offered = mp->offered;
    struct recon_cb cb = {net__recon_need, net__recon_have, net__recon_send, p,
                          NET_OFFER_MAX, &visited};
    struct agah_why why = {{0}};
    int r;

    if (!net__work_admit(p, "RECON") || net__set_ready(mesh_net(p)) != 0)
        return;
    r = recon_process(mesh_net(p)->set, m->obj, &cb, NULL, &why);
    workmeter_charge(&mp->work,
                     WORK_MSG + (double)visited + WORK_OFFER * (double)(mp->offered - offered));
    if (r != 0) {
        if (r == AGAH_ENOMEM || r == AGAH_EINTERNAL)
            log_peer(LOG_WARN, p->remote, "reconciliation failed: %s", agah_strerror(r));
        else
            peer__close(p, why.msg[0] ? why.msg : "malformed RECON");
        return;
    }
    net__recon_flush(p);
}

void net__on_skreq(struct peer *p, const struct gossip_msg *m)
{
    struct mesh_peer *mp = mesh_peer(p);
    struct sketch_cb cb = {net__sketch_need, net__recon_have, net__recon_send, p};
    int r;

    /* One sketch exchange in flight: a SKREQ while our answer to the
     * previous one has not yet left is dropped (an honest peer sends the
     * next only after reading that answer). */
    if (p->n_written < mp->skreq_mark) {
        log_debug("peer %s: SKREQ while the previous one is answered: dropped", p->remote);
        return;
    }
    if (!net__work_admit(p, "SKREQ") || net__set_ready(mesh_net(p)) != 0)
        return;
    workmeter_charge(&mp->work, WORK_MSG + WORK_SKREQ * (double)recon_set_size(mesh_net(p)->set));
    r = sketch_on_request(mesh_net(p)->set, m->salt, m->count, m->blob, &cb, NULL);
    mp->skreq_mark = p->n_queued;
    if (r != 0 &&
        p->state == PEER_UP)
        log_peer(LOG_WARN, p->remote, "cannot answer a sketch request: %s", agah_strerror(r));
}

void net__on_sketch(struct peer *p, const struct gossip_msg *m)
{
    struct mesh_peer *mp = mesh_peer(p);
    struct sketch_cb cb = {net__sketch_need, net__recon_have, net__recon_send, p};
    int r, out = 0;

    if (net__set_ready(mesh_net(p)) != 0)
        return;
    if ((r = sketch_on_iblt(mesh_net(p)->set, m->salt, m->count, m->blob, m->blob_len, mp->sk_retry,
                            &cb, &out)) != 0 &&
        p->state == PEER_UP)
        log_peer(LOG_WARN, p->remote, "cannot decode a sketch: %s", agah_strerror(r));
    if (out == SKETCH_RETRIED || out == SKETCH_SENT_RANGE)
        log_debug("peer %s: a sketch did not decode, %s", p->remote,
                  out == SKETCH_RETRIED ? "asked again" : "reconciling by ranges");
    mp->sk_retry = 0;
    net__recon_flush(p);
}

static void net__swant_give(void *ctx, const uint8_t id[AGAH_HASH_LEN])
{
    struct peer *p = ctx;
    struct mesh_peer *mp = mesh_peer(p);

    workmeter_charge(&mp->work, WORK_BODY);
    net__push(mp, id);
}

void net__on_swant(struct peer *p, const struct gossip_msg *m)
{
    struct mesh_peer *mp = mesh_peer(p);
    int r;

    if (!net__work_admit(p, "SWANT") || net__set_ready(mesh_net(p)) != 0)
        return;
    workmeter_charge(&mp->work, WORK_MSG + (double)recon_set_size(mesh_net(p)->set));
    if ((r = sketch_on_swant(mesh_net(p)->set, m->salt, m->blob, m->blob_len / 8, net__swant_give,
                             p)) != 0)
        log_peer(LOG_WARN, p->remote, "cannot answer SWANT: %s", agah_strerror(r));
    net__drain(mp);
}

/* The peer's reconciliation found ids we lack: ask for those we still
 * lack (a record may have arrived meanwhile by gossip). */
void net__on_offer(struct peer *p, const struct gossip_msg *m)
{
    struct mesh_peer *mp = mesh_peer(p);

    for (size_t i = 0; i < m->n_ids && p->state == PEER_UP; i++)
        net__recon_need(p, gossip_id(m, i));
    net__want_pump(mp);
}

/* ------------------------------------------------------------------ */
/* Reconciliation set                                                  */

static void net__fill_cb(void *ctx, uint64_t created, const uint8_t id[AGAH_HASH_LEN])
{
    struct net *net = ctx;

    if (!net->set_failed &&
        recon_set_add_ref(net->set, created, node_id_ref(net->links.node, id)) != 0)
        net->set_failed = 1;
}

/* Rebuilds the set from the store (at start, and when pruning made the
 * two disagree). */
int net__set_fill(struct net *net)
{
    int r;

    recon_set_clear(net->set);
    net->set_failed = 0;
    net->set_gen = node_ref_gen(net->links.node);
    if ((r = node_foreach(net->links.node, net__fill_cb, net)) != 0 || net->set_failed) {
        log_error("cannot load the reconciliation set: %s",
                  agah_strerror(r != 0 ? r : AGAH_ENOMEM));
        net->set_failed = 1;
        return r != 0 ? r : AGAH_ENOMEM;
    }
    return 0;
}

/* Before the set is used in a reconciliation: records can leave the node
 * behind our back (pruning, a batch whose commit failed on a full disk),
 * and a set that still holds them would tell the peer we have them; and
 * the set refers to ids where the node keeps them, so once any of those
 * references stops standing for its id (a record removed, or moved in the
 * view when its epoch key arrived) the set is rebuilt before it is read.
 * Both are rare. */
static int net__set_ready(struct net *net)
{
    if ((net->set_failed || net->set_gen != node_ref_gen(net->links.node) ||
         node_record_count(net->links.node) != recon_set_size(net->set)) &&
        net__set_fill(net) != 0)
        return AGAH_ENOMEM;
    return 0;
}

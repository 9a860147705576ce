/* Synchronisation: reconciliation (ranges and sketches) with one peer,
 * the OFFER/WANT exchange it leads to, the work budget it is charged to,
 * and the reconciliation set built from the node's ids. */
#define _POSIX_C_SOURCE 200809L /* what uv.h needs */
#include "net_int.h"

/* Reconciliation callbacks for one peer. What we lack we ask for with
 * WANT, so the bodies come as answers and skip the rate limit.
 * What the peer lacks we do not push: pushed bodies would be charged to
 * its token bucket like any unsolicited record, throttling its catch-up
 * to NET_RATE. We OFFER the ids and let it WANT them. */
static void net__recon_need(void *ctx, const uint8_t id[AGAH_HASH_LEN])
{
    struct peer *p = ctx;

    if (p->state != PEER_UP || net__have(p->net, id))
        return;
    if (p->wantq == NULL && (p->wantq = malloc(NET_WANTQ_MAX * AGAH_HASH_LEN)) == NULL) {
        p->recon_again = 1;
        return;
    }
    if (p->wq_len == NET_WANTQ_MAX) {
        p->recon_again = 1; /* the next reconciliation finds it again */
        return;
    }
    memcpy(p->wantq[(p->wq_head + p->wq_len) % NET_WANTQ_MAX], id, AGAH_HASH_LEN);
    p->wq_len++;
}

static void net__recon_have(void *ctx, const uint8_t id[AGAH_HASH_LEN])
{
    struct peer *p = ctx;

    if (p->state != PEER_UP)
        return;
    p->offered++;
    memcpy(p->offer[p->n_offer++], id, AGAH_HASH_LEN);
    if (p->n_offer == GOSSIP_IDS_MAX)
        (void)peer__send_ids(p, GOSSIP_OFFER, p->offer, &p->n_offer);
}

/* Sends what reconciling one message left in the OFFER batch, and asks
 * for what it found missing. */
static void net__recon_flush(struct peer *p)
{
    if (p->state == PEER_UP)
        (void)peer__send_ids(p, GOSSIP_OFFER, p->offer, &p->n_offer);
    peer__want_pump(p);
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

    if (p->state != PEER_UP)
        return;
    if (p->swq == NULL &&
        (p->swq = malloc(SKETCH_K * SKETCH_Q_MAX * sizeof *p->swq)) == NULL) {
        p->recon_again = 1;
        return;
    }
    if (memcmp(p->ssalt, salt, SKETCH_SALT_LEN) != 0) {
        if (p->swq_len > 0)
            p->recon_again = 1;
        p->swq_len = 0;
        memcpy(p->ssalt, salt, SKETCH_SALT_LEN);
    }
    if (p->swq_len == SKETCH_K * SKETCH_Q_MAX) {
        p->recon_again = 1;
        return;
    }
    p->swq[(p->swq_head + p->swq_len) % (SKETCH_K * SKETCH_Q_MAX)] = sid;
    p->swq_len++;
}

void net__recon_start(struct peer *p)
{
    struct sketch_cb cb = {net__sketch_need, net__recon_have, net__recon_send, p};
    int r;

    if (net__set_ready(p->net) != 0)
        return;
    p->sk_retry = 1;
    if ((r = sketch_initiate(p->net->set, NULL, &cb, NULL)) != 0 && p->state == PEER_UP)
        log_peer(LOG_WARN, p->remote, "cannot start reconciliation: %s", agah_strerror(r));
    else
        log_debug("peer %s: reconciliation started", p->remote);
    net__recon_flush(p);
}

/* Whether a reconciliation message from p may be answered now (its work
 * budget, workmeter.h). A dropped message is only logged (the periodic
 * reconciliation settles what it would have); a peer that keeps sending
 * into an empty budget is closed. */
static int peer__work_admit(struct peer *p, const char *what)
{
    enum workmeter_verdict v = workmeter_admit(&p->work, net__now(p->net));

    if (v == WORK_ANSWER)
        return 1;
    if (p->work.drops == 1)
        log_peer(LOG_INFO, p->remote, "reconciliation beyond its budget: %s dropped", what);
    if (v == WORK_CLOSE)
        peer__close(p, "reconciliation far beyond its budget");
    return 0;
}

void net__on_recon(struct peer *p, const struct gossip_msg *m)
{
    size_t visited = 0, offered = p->offered;
    struct recon_cb cb = {net__recon_need, net__recon_have, net__recon_send, p,
                          NET_OFFER_MAX, &visited};
    struct agah_why why = {{0}};
    int r;

    if (!peer__work_admit(p, "RECON") || net__set_ready(p->net) != 0)
        return;
    r = recon_process(p->net->set, m->obj, &cb, NULL, &why);
    workmeter_charge(&p->work,
                     WORK_MSG + (double)visited + WORK_OFFER * (double)(p->offered - offered));
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
    struct sketch_cb cb = {net__sketch_need, net__recon_have, net__recon_send, p};
    int r;

    /* One sketch exchange in flight: a SKREQ while our answer to the
     * previous one has not yet left is dropped (an honest peer sends the
     * next only after reading that answer). */
    if (p->n_written < p->skreq_mark) {
        log_debug("peer %s: SKREQ while the previous one is answered: dropped", p->remote);
        return;
    }
    if (!peer__work_admit(p, "SKREQ") || net__set_ready(p->net) != 0)
        return;
    workmeter_charge(&p->work, WORK_MSG + WORK_SKREQ * (double)recon_set_size(p->net->set));
    r = sketch_on_request(p->net->set, m->salt, m->count, m->blob, &cb, NULL);
    p->skreq_mark = p->n_queued;
    if (r != 0 &&
        p->state == PEER_UP)
        log_peer(LOG_WARN, p->remote, "cannot answer a sketch request: %s", agah_strerror(r));
}

void net__on_sketch(struct peer *p, const struct gossip_msg *m)
{
    struct sketch_cb cb = {net__sketch_need, net__recon_have, net__recon_send, p};
    int r, out = 0;

    if (net__set_ready(p->net) != 0)
        return;
    if ((r = sketch_on_iblt(p->net->set, m->salt, m->count, m->blob, m->blob_len, p->sk_retry,
                            &cb, &out)) != 0 &&
        p->state == PEER_UP)
        log_peer(LOG_WARN, p->remote, "cannot decode a sketch: %s", agah_strerror(r));
    if (out == SKETCH_RETRIED || out == SKETCH_SENT_RANGE)
        log_debug("peer %s: a sketch did not decode, %s", p->remote,
                  out == SKETCH_RETRIED ? "asked again" : "reconciling by ranges");
    p->sk_retry = 0;
    net__recon_flush(p);
}

static void net__swant_give(void *ctx, const uint8_t id[AGAH_HASH_LEN])
{
    struct peer *p = ctx;

    workmeter_charge(&p->work, WORK_BODY);
    peer__push(p, id);
}

void net__on_swant(struct peer *p, const struct gossip_msg *m)
{
    int r;

    if (!peer__work_admit(p, "SWANT") || net__set_ready(p->net) != 0)
        return;
    workmeter_charge(&p->work, WORK_MSG + (double)recon_set_size(p->net->set));
    if ((r = sketch_on_swant(p->net->set, m->salt, m->blob, m->blob_len / 8, net__swant_give,
                             p)) != 0)
        log_peer(LOG_WARN, p->remote, "cannot answer SWANT: %s", agah_strerror(r));
    peer__drain(p);
}

/* The peer's reconciliation found ids we lack: ask for those we still
 * lack (a record may have arrived meanwhile by gossip). */
void net__on_offer(struct peer *p, const struct gossip_msg *m)
{
    for (size_t i = 0; i < m->n_ids && p->state == PEER_UP; i++)
        net__recon_need(p, gossip_id(m, i));
    peer__want_pump(p);
}

/* ------------------------------------------------------------------ */
/* Reconciliation set                                                  */

static void net__fill_cb(void *ctx, uint64_t created, const uint8_t id[AGAH_HASH_LEN])
{
    struct net *net = ctx;

    if (!net->set_failed && recon_set_add_ref(net->set, created, node_id_ref(net->node, id)) != 0)
        net->set_failed = 1;
}

/* Rebuilds the set from the store (at start, and when pruning made the
 * two disagree). */
int net__set_fill(struct net *net)
{
    int r;

    recon_set_clear(net->set);
    net->set_failed = 0;
    net->set_gen = node_ref_gen(net->node);
    if ((r = node_foreach(net->node, net__fill_cb, net)) != 0 || net->set_failed) {
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
    if ((net->set_failed || net->set_gen != node_ref_gen(net->node) ||
         node_record_count(net->node) != recon_set_size(net->set)) &&
        net__set_fill(net) != 0)
        return AGAH_ENOMEM;
    return 0;
}

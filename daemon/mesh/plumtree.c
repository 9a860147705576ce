/* Plumtree: records from peers through the verify queue into the node,
 * RECORD/BODY/IHAVE/GRAFT/WANT/PRUNE/PING/PONG handlers, and the eager
 * and lazy forwarding of what was just stored. */
#define _POSIX_C_SOURCE 200809L /* what uv.h needs */
#include "mesh_int.h"
#include "verify.h"

static void net__arm_gossip(struct net *net, uint64_t ms);
static struct peer *net__by_serial(struct net *net, uint64_t serial);

/* ------------------------------------------------------------------ */
/* Messages after the handshake: one handler per type                  */

/* Stores a record that agah_rec_decode gave `rc` for (0: decoded and its
 * signature verified), to be passed on (net__on_stored) as news from
 * `from` (NULL: that link is gone) if fwd is NET_FWD_EAGER, as old news
 * if NET_FWD_LAZY; or logs why it was refused. */
static void net__ingest(struct net *net, struct peer *from, int fwd, int rc,
                        const struct agah_rec *rec, struct agah_why *why)
{
    const struct node_src src = {.link = from, .fresh = fwd == NET_FWD_EAGER};

    if (rc == 0)
        rc = node_ingest_decoded(net->links.node, rec, &src, why);
    if (rc < 0)
        log_debug("peer %s: record refused: %s", from != NULL ? from->remote : "(gone)",
                  why->msg[0] ? why->msg : agah_strerror(rc));
}

/* A record out of the verify queue. */
void net__on_verified(void *ctx, const struct vq_item *it)
{
    struct net *net = ctx;
    struct agah_why why = it->why;

    net__ingest(net, net__by_serial(net, it->from), it->fwd, it->rc, &it->rec, &why);
}

/* The verify queue has room again: every peer it paused reads on. */
void net__on_vq_drained(void *ctx)
{
    struct net *net = ctx;

    for (struct peer *q = net->links.peers; q != NULL; q = q->next)
        peer__resume_vq(q);
}

/* Hands a new record to the verify queue; it is ingested when it comes
 * out (net__on_verified). A lone record (the first of this read, with
 * the queue empty) is checked and ingested here and now instead: that is
 * gossip, one record per hop, and handing it to another thread and back
 * costs two wake-ups, which on a busy machine added 25 ms to the spread of
 * an alert over 100 nodes. Records behind it in the same read, or behind
 * records still in the queue, go through the queue, so order is kept. A
 * record the queue refuses (out of memory) is also checked here, ahead of
 * what is queued; the validity rules do not depend on arrival order. */
static void net__forward_ingest(struct peer *p, const struct gossip_msg *m,
                                const uint8_t id[AGAH_HASH_LEN], int fwd)
{
    struct mesh_peer *mp = mesh_peer(p);
    struct net *net = mesh_net(p);
    struct agah_why why = {{0}};
    struct agah_rec rec;
    int r;

    if (mp->turn != p->turn) {
        mp->turn = p->turn;
        mp->turn_records = 0;
    }
    if ((mp->turn_records++ > 0 || vq_count(net->vq) > 0) &&
        vq_push(net->vq, m->rec, m->rec_len, id, p->serial, fwd) == 0)
        return;
    r = agah_rec_decode(m->rec, m->rec_len, node_community(net->links.node), &rec, &why);
    net__ingest(net, p, fwd, r, &rec, &why);
}

void net__on_record(struct peer *p, const struct gossip_msg *m)
{
    struct mesh_peer *mp = mesh_peer(p);
    struct net *net = mesh_net(p);
    uint8_t id[AGAH_HASH_LEN];

    peer__charge(p);
    agah_hash(m->rec, m->rec_len, id);
    if (net__have(net, id)) {
        /* A second eager copy: this link is redundant in the tree. */
        if (mp->eager) {
            mp->eager = 0;
            (void)peer__send_simple(p, GOSSIP_PRUNE);
        }
        return;
    }
    (void)gossip_missing_del(net->missing, id);
    net__forward_ingest(p, m, id, NET_FWD_EAGER);
}

void net__on_body(struct peer *p, const struct gossip_msg *m)
{
    struct mesh_peer *mp = mesh_peer(p);
    struct net *net = mesh_net(p);
    uint8_t id[AGAH_HASH_LEN];
    int grafted;

    /* A body we asked this peer for is not charged: the requests bound
     * it, and the limit would otherwise throttle our own catch-up. Any
     * other is, even while requests are outstanding. */
    agah_hash(m->rec, m->rec_len, id);
    if (net__asked_take(mp, id)) {
        if (mp->asked > 0 && --mp->asked == 0 && mp->askset.n == 0)
            net__asked_clear(mp);
        mp->asked_at = net__now(net);
        if ((mp->wq_len > 0 || mp->swq_len > 0) && mp->asked + GOSSIP_IDS_MAX <= NET_ASK_WINDOW)
            net__want_pump(mp);
    } else {
        peer__charge(p);
    }
    if (p->state != PEER_UP)
        return;
    if (net__have(net, id))
        return;
    /* A body we grafted continues the tree eagerly; one that came from
     * reconciliation is old news to most and is only announced. */
    grafted = gossip_missing_del(net->missing, id);
    net__forward_ingest(p, m, id, grafted ? NET_FWD_EAGER : NET_FWD_LAZY);
}

void net__on_ihave(struct peer *p, const struct gossip_msg *m)
{
    struct net *net = mesh_net(p);
    uint64_t due = net__now(net) + NET_GRAFT_MS;
    int added = 0;

    for (size_t i = 0; i < m->n_ids; i++) {
        const uint8_t *id = gossip_id(m, i);

        if (net__have(net, id))
            continue;
        if (gossip_missing_add(net->missing, id, p->serial, due) == 0)
            added = 1;
    }
    if (added)
        net__arm_gossip(net, NET_GRAFT_MS);
}

void net__on_graft(struct peer *p, const struct gossip_msg *m)
{
    struct mesh_peer *mp = mesh_peer(p);

    mp->eager = 1;
    for (size_t i = 0; i < m->n_ids; i++)
        net__push(mp, gossip_id(m, i));
    net__drain(mp);
}

void net__on_want(struct peer *p, const struct gossip_msg *m)
{
    struct mesh_peer *mp = mesh_peer(p);

    for (size_t i = 0; i < m->n_ids; i++)
        net__push(mp, gossip_id(m, i));
    net__drain(mp);
}

void net__on_prune(struct peer *p, const struct gossip_msg *m)
{
    struct mesh_peer *mp = mesh_peer(p);

    (void)m;
    mp->eager = 0;
}

void net__on_ping(struct peer *p, const struct gossip_msg *m)
{
    (void)m;
    (void)peer__send_simple(p, GOSSIP_PONG);
}

void net__on_pong(struct peer *p, const struct gossip_msg *m)
{
    (void)p;
    (void)m; /* last_rx is refreshed by every read */
}

/* ------------------------------------------------------------------ */
/* Gossip                                                              */

/* Every record stored (received, posted here, or released by the node
 * from its pending set) is passed on, never back to the link it came
 * over: news (src->fresh) eagerly as RECORD to eager links, everything
 * else as an IHAVE id. */
void net__on_stored(void *ctx, const struct agah_rec *rec, const struct node_src *src)
{
    struct net *net = ctx;
    int r;

    if (net->closing)
        return;
    if (!net->set_failed && (r = recon_set_add_ref(net->set, rec->created,
                                                   node_id_ref(net->links.node, rec->id))) != 0) {
        log_error("reconciliation set: %s", agah_strerror(r));
        net->set_failed = 1;
    }
    for (struct peer *q = net->links.peers; q != NULL; q = q->next) {
        struct mesh_peer *mq = mesh_peer(q);

        if (q == src->link || q->state != PEER_UP)
            continue;
        if (src->fresh && mq->eager) {
            if (peer__wq(q) < NET_WQ_HIGH)
                (void)peer__send_record(q, GOSSIP_RECORD, rec->bytes, rec->len);
            else
                net__push(mq, rec->id);
            continue;
        }
        memcpy(mq->ihave[mq->n_ihave++], rec->id, AGAH_HASH_LEN);
        if (mq->n_ihave == GOSSIP_IDS_MAX)
            (void)net__send_ids(mq, GOSSIP_IHAVE, mq->ihave, &mq->n_ihave);
        else
            net__arm_gossip(net, NET_IHAVE_MS);
    }
    /* Membership is checked in the handshake; a link that is already up
     * is checked again whenever membership changes, so a revoked key loses
     * its links at once rather than when they next drop. (Closing here is
     * safe: a peer's memory outlives peer__close until its handles close,
     * and every loop over input stops at a closing peer.) */
    if (rec->type == AGAH_REC_REVOCATION)
        net__revoke_addrs(net);
    if (rec->type == AGAH_REC_ADMISSION)
        net__retry_pending(net);
    if (rec->type == AGAH_REC_REVOCATION || rec->type == AGAH_REC_ADMISSION) {
        for (struct peer *q = net->links.peers; q != NULL; q = q->next) {
            int role = 0;

            if (q->state != PEER_UP)
                continue;
            if (node_member_status(net->links.node, q->pk, &role) == 0) {
                q->role = role;
                continue;
            }
            char who[AGAH_IDSTR_SIZE];
            net__member_id(q->pk, who);
            log_ident(LOG_INFO, "a peer is no longer a member (revoked); closing the link",
                      "peer %s: member %s is no longer a member (revoked); closing the link",
                      q->remote, who);
            peer__close(q, "no longer a member");
        }
    }
}

static struct peer *net__by_serial(struct net *net, uint64_t serial)
{
    for (struct peer *q = net->links.peers; q != NULL; q = q->next)
        if (q->serial == serial)
            return q->state == PEER_UP ? q : NULL;
    return NULL;
}

/* Flushes IHAVE batches and grafts what was announced but has not come. */
static void net__on_gossip(uv_timer_t *t)
{
    struct net *net = t->data;
    uint64_t now = net__now(net), serial;
    uint8_t id[AGAH_HASH_LEN];
    int64_t next;

    if (net->closing)
        return;
    for (struct peer *q = net->links.peers; q != NULL; q = q->next) {
        struct mesh_peer *mq = mesh_peer(q);

        if (q->state != PEER_UP)
            continue;
        /* IHAVE is a hint; a peer that is not reading goes without. */
        if (peer__wq(q) < NET_WQ_HIGH)
            (void)net__send_ids(mq, GOSSIP_IHAVE, mq->ihave, &mq->n_ihave);
        else
            mq->n_ihave = 0;
    }
    while (gossip_missing_due(net->missing, now, now + NET_GRAFT_RETRY_MS, id, &serial)) {
        struct mesh_peer *mq;
        struct peer *q;

        if (net__have(net, id)) {
            (void)gossip_missing_del(net->missing, id);
            continue;
        }
        if ((q = net__by_serial(net, serial)) == NULL)
            continue;
        mq = mesh_peer(q);
        memcpy(mq->graft[mq->n_graft++], id, AGAH_HASH_LEN);
        mq->eager = 1;
        if (mq->n_graft == GOSSIP_IDS_MAX)
            (void)net__send_ids(mq, GOSSIP_GRAFT, mq->graft, &mq->n_graft);
    }
    for (struct peer *q = net->links.peers; q != NULL; q = q->next)
        if (q->state == PEER_UP)
            (void)net__send_ids(mesh_peer(q), GOSSIP_GRAFT, mesh_peer(q)->graft,
                                &mesh_peer(q)->n_graft);
    next = gossip_missing_next(net->missing, now);
    if (next >= 0)
        net__arm_gossip(net, (uint64_t)next + 1);
}

static void net__arm_gossip(struct net *net, uint64_t ms)
{
    uint64_t due = uv_timer_get_due_in(&net->gossip);

    if (net->closing)
        return;
    if (uv_is_active((uv_handle_t *)&net->gossip) && due <= ms)
        return;
    if (uv_timer_start(&net->gossip, net__on_gossip, ms, 0) != 0)
        log_error("cannot start the gossip timer");
}

/* agahd's network: the public interface (net.h), the message table that
 * gives each message type after the handshake its mesh handler, the
 * mesh's side of a link's life (struct link_ops), and starting and closing
 * the listener, timers and links. */
#define _POSIX_C_SOURCE 200809L /* what uv.h needs */
#include "net.h"
#include "mesh_int.h"
#include "verify.h"

/* The loop's clock in ms, which every deadline of the mesh reads. */
uint64_t net__now(const struct net *net) { return links__now(&net->links); }

/* Whether a record is here or on its way in: stored, or in the verify
 * queue. Anything asked for or announced is checked against both, so a
 * record being verified is not asked for again. */
int net__have(const struct net *net, const uint8_t id[AGAH_HASH_LEN])
{
    return node_have(net->links.node, id) || vq_has(net->vq, id);
}

static int net__vq_full(struct links *l) { return vq_full(mesh_of(l)->vq); }

/* ------------------------------------------------------------------ */
/* The message table                                                   */

typedef void (*net_handler)(struct peer *p, const struct gossip_msg *m);

/* Every message type legal after the handshake; before it, only the
 * handshake's own messages are (peer__process). */
static const net_handler net__handlers[GOSSIP_NTYPES] = {
    [GOSSIP_RECORD] = net__on_record,
    [GOSSIP_IHAVE] = net__on_ihave,
    [GOSSIP_GRAFT] = net__on_graft,
    [GOSSIP_PRUNE] = net__on_prune,
    [GOSSIP_RECON] = net__on_recon,
    [GOSSIP_PEERS] = net__on_peers,
    [GOSSIP_PING] = net__on_ping,
    [GOSSIP_PONG] = net__on_pong,
    [GOSSIP_WANT] = net__on_want,
    [GOSSIP_BODY] = net__on_body,
    [GOSSIP_OFFER] = net__on_offer,
    [GOSSIP_SKREQ] = net__on_skreq,
    [GOSSIP_SKETCH] = net__on_sketch,
    [GOSSIP_SWANT] = net__on_swant,
};

static void net__dispatch(struct peer *p, const uint8_t *pt, size_t len)
{
    msgpack_unpacked u;
    struct gossip_msg m;
    struct agah_why why = {{0}};
    int r;

    msgpack_unpacked_init(&u);
    r = gossip_decode(pt, len, &u, &m, &why);
    if (r != 0) {
        /* R3: a malformed message closes this one link. */
        log_peer(LOG_INFO, p->remote, "malformed message: %s",
                 why.msg[0] ? why.msg : agah_strerror(r));
        peer__close(p, "malformed message");
    } else {
        net__handlers[m.type](p, &m);
    }
    msgpack_unpacked_destroy(&u);
}

/* ------------------------------------------------------------------ */
/* A link's life, as the mesh sees it                                  */

/* The mesh's state with a link inside: this layer owns the block, from
 * here to net__link_gone. */
static struct peer *net__link_alloc(void)
{
    struct mesh_peer *mp = calloc(1, sizeof *mp);

    if (mp == NULL)
        return NULL;
    idmap_init(&mp->askset, NET_ASKSET_MAX);
    return &mp->link;
}

/* The link's handles are closed and its own memory freed. */
static void net__link_gone(struct peer *p)
{
    struct mesh_peer *mp = mesh_peer(p);
    struct net *net = mesh_net(p);

    idmap_free(&mp->askset);
    free(mp->pushq);
    free(mp->wantq);
    free(mp->swq);
    free(mp);
    net__maybe_done(net);
}

/* An address we dialled answered with a revoked member's key (learned
 * before we knew the key, or kept across a restart): dial it no more. */
static void net__link_revoked(struct peer *p, const uint8_t pk[AGAH_PK_LEN])
{
    struct net_addr *a = mesh_peer(p)->addr;

    if (a == NULL)
        return;
    a->has_pk = 1;
    a->pk_dialled = 0;
    memcpy(a->pk, pk, AGAH_PK_LEN);
    net__addr_revoked(mesh_net(p), a);
}

/* The handshake reached p->pk: a dialled address learns its key, or that
 * it is this node's own (never dialled again), or that our connection was
 * turned back to us through another host (issue 22, 3.3): the address may
 * well be a real peer's, so it is only redialled with the usual backoff. */
static void net__link_reached(struct peer *p, enum link_reached how)
{
    struct net_addr *a = mesh_peer(p)->addr;

    if (a == NULL)
        return;
    if (how == LINK_REACHED_PEER) {
        a->has_pk = 1;
        a->pk_dialled = 1;
        memcpy(a->pk, p->pk, AGAH_PK_LEN);
    } else if (how == LINK_REACHED_SELF) {
        a->self = 1;
        log_ident(LOG_INFO, "an address dialled is this node's own; not dialling it again",
                  "%s is this node's own address; not dialling it again", a->addr);
    } else {
        log_ident(LOG_WARN,
                  "dialled an address and reached this node's own key through another host (a "
                  "reflected connection?); it is not taken as this node's address",
                  "dialled %s and reached this node's own key through another host (a "
                  "reflected connection?); it is not taken as this node's address",
                  a->addr);
    }
}

/* A link came up: its member's work budget goes on where its last link
 * left it, it is in the eager tree (before anything is stored: an
 * admission confirmed here goes to it like any news), and it hears the
 * addresses we know (PEERS); on a link we dialled, reconciliation
 * starts. */
static void net__link_up(struct peer *p)
{
    struct mesh_peer *mp = mesh_peer(p);
    struct net *net = mesh_net(p);
    uint64_t now = net__now(net);

    if (mp->addr != NULL)
        mp->addr->fails = 0;
    mp->eager = 1;
    mp->up = 1;
    workmeter_init(&mp->work, now);
    workmeter_restore(&net->work_kept, p->pk, &mp->work, now);
    /* An invitation taken up: an organiser's node makes the admission
     * permanent, and the record spreads like any other. */
    if (node_peer_joined(net->links.node, p->pk) < 0)
        log_peer(LOG_WARN, p->remote, "cannot confirm its admission");
    net__send_peers(net, p);
    if (p->dialer)
        net__recon_start(p);
}

/* A link starts closing: its member's budget is kept for its next link,
 * and a dialled address is scheduled for a redial. */
static void net__link_down(struct peer *p)
{
    struct mesh_peer *mp = mesh_peer(p);
    struct net *net = mesh_net(p);
    struct net_addr *a = mp->addr;
    uint64_t delay = NET_BACKOFF_MIN_MS;

    if (mp->up) {
        mp->up = 0;
        workmeter_keep(&net->work_kept, p->pk, &mp->work, net__now(net));
    }
    if (a == NULL)
        return;
    if (p->state == PEER_HANDSHAKE && p->hs_bound_dial && p->hs_msgs == 0)
        a->net_try++; /* no M2: try the next secret next time */
    a->peer = NULL;
    if (a->fails < 16)
        a->fails++;
    for (unsigned i = 1; i < a->fails && delay < NET_BACKOFF_MAX_MS; i++)
        delay *= 2;
    if (delay > NET_BACKOFF_MAX_MS)
        delay = NET_BACKOFF_MAX_MS;
    /* Jitter of +-25% so a restarted node is not redialled by all at once. */
    delay = delay * 3 / 4 + randombytes_uniform((uint32_t)(delay / 2 + 1));
    a->next_try = net__now(net) + delay;
    mp->addr = NULL;
}

/* The link's write queue drained: bodies waiting for room may go. */
static void net__link_writable(struct peer *p)
{
    struct mesh_peer *mp = mesh_peer(p);

    if (mp->pq_len > 0)
        net__drain(mp);
}

/* The mesh as link/ sees it (link.h): link/ calls up only through this
 * table, never a mesh function by name. */
static const struct link_ops net__link_ops = {
    .alloc = net__link_alloc,
    .revoked = net__link_revoked,
    .reached = net__link_reached,
    .up = net__link_up,
    .message = net__dispatch,
    .full = net__vq_full,
    .writable = net__link_writable,
    .down = net__link_down,
    .gone = net__link_gone,
};

/* ------------------------------------------------------------------ */
/* Public interface                                                    */

static void net__on_handle_closed(uv_handle_t *h)
{
    struct net *net = h->data;

    net->handles_pending--;
    net__maybe_done(net);
}

static void net__on_vq_done(void *ctx)
{
    struct net *net = ctx;

    net->vq_busy = 0;
    net__maybe_done(net);
}

void net__maybe_done(struct net *net)
{
    if (!net->closing || net->done_called || net->handles_pending > 0 || net->links.peers != NULL ||
        net->resolving > 0 || net->vq_busy)
        return;
    net->done_called = 1;
    if (net->done != NULL)
        net->done(net->done_ctx);
}

static int net__listen(struct net *net, const char *listen, struct agah_why *why)
{
    char host[AGAH_ADDR_MAX], port[8];
    struct sockaddr_storage ss;
    int r, len, p;
    char *end;

    if (net__split(listen, host, port) != 0)
        return agah_fail(why, AGAH_EINVAL, "listen address %s is not HOST:PORT", listen);
    p = (int)strtol(port, &end, 10);
    if (*end != '\0' || p < 0 || p > 65535)
        return agah_fail(why, AGAH_EINVAL, "listen port %s is not a port", port);
    if (strcmp(host, "localhost") == 0)
        (void)snprintf(host, sizeof host, "127.0.0.1");
    if (uv_ip4_addr(host, p, (struct sockaddr_in *)&ss) != 0 &&
        uv_ip6_addr(host, p, (struct sockaddr_in6 *)&ss) != 0)
        return agah_fail(why, AGAH_EINVAL, "listen host %s is not a numeric IP address", host);
    if ((r = uv_tcp_init(net->links.loop, &net->listener)) != 0)
        return agah_fail(why, AGAH_EIO, "libuv: %s", uv_strerror(r));
    net->listener.data = net;
    net->listener_open = 1;
    if ((r = uv_tcp_bind(&net->listener, (const struct sockaddr *)&ss, 0)) != 0 ||
        (r = uv_listen((uv_stream_t *)&net->listener, 128, net__on_connection)) != 0)
        return agah_fail(why, AGAH_EIO, "cannot listen on %s: %s", listen, uv_strerror(r));
    /* Port 0 means any: tell peers the one we got. */
    len = sizeof ss;
    if (uv_tcp_getsockname(&net->listener, (struct sockaddr *)&ss, &len) == 0)
        p = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                          : ((struct sockaddr_in6 *)&ss)->sin6_port);
    (void)snprintf(net->advertise, sizeof net->advertise, strchr(host, ':') ? "[%s]:%d" : "%s:%d",
                   host, p);
    log_ident(LOG_INFO, "listening for peers", "listening for peers on %s", net->advertise);
    /* Join codes made here name this node first, when it can be dialled. */
    if (!net__wildcard(host) && (r = node_set_listen_addr(net->links.node, net->advertise)) != 0)
        log_warn("join codes will not name this node's address: %s", agah_strerror(r));
    return 0;
}

static void net__known_cb(void *ctx, const char *addr)
{
    struct net *net = ctx;

    if (agah_addr_parse(addr, strlen(addr), NULL, NULL) == 0 && net__addr_add(net, addr, 1) == NULL)
        log_ident(LOG_WARN, "too many peer addresses: one is not dialled",
                  "too many peer addresses: %s not dialled", addr);
}

static void net__on_fail_closed(uv_handle_t *h)
{
    struct net *net = h->data;

    if (--net->handles_pending == 0)
        net_free(net);
}

static void net__close_on_fail(struct net *net, uv_handle_t *h)
{
    net->handles_pending++;
    uv_close(h, net__on_fail_closed);
}

int net_start(uv_loop_t *loop, struct node *node, const struct net_config *cfg,
              struct net **out, struct agah_why *why)
{
    struct net *net;
    int r;

    net = calloc(1, sizeof *net);
    if (net == NULL)
        return agah_fail(why, AGAH_ENOMEM, "out of memory");
    if (links__init(&net->links, loop, node, &net__link_ops) != 0 ||
        recon_set_new_ext(&net->set, node_ref_id, node) != 0 ||
        gossip_missing_new(&net->missing) != 0) {
        r = agah_fail(why, AGAH_ENOMEM, "out of memory");
        goto fail;
    }
    {
        struct vq_config vc = {net__on_verified, net__on_vq_drained, net, 0};

        if ((r = vq_new(loop, node_community(node), &vc, &net->vq)) != 0) {
            r = agah_fail(why, r, "cannot make the verify queue: %s", agah_strerror(r));
            goto fail;
        }
    }
    for (size_t i = 0; i < cfg->n_peers; i++) {
        if (agah_addr_parse(cfg->peers[i], strlen(cfg->peers[i]), NULL, NULL) != 0) {
            r = agah_fail(why, AGAH_EINVAL, "peer address %s is not HOST:PORT", cfg->peers[i]);
            goto fail;
        }
        if ((r = node_peer_remember(node, cfg->peers[i])) != 0)
            log_warn("cannot remember a --peer address: %s", agah_strerror(r));
    }
    (void)node_peers_foreach(node, net__known_cb, net);
    for (size_t i = 0; i < cfg->n_peers; i++)
        net__known_cb(net, cfg->peers[i]);
    if ((r = net__set_fill(net)) != 0) {
        r = agah_fail(why, r, "cannot load the records for reconciliation");
        goto fail;
    }
    if ((r = uv_timer_init(loop, &net->tick)) != 0) {
        r = agah_fail(why, AGAH_EIO, "libuv: %s", uv_strerror(r));
        goto fail;
    }
    net->tick.data = net;
    net->tick_open = 1;
    if ((r = uv_timer_init(loop, &net->gossip)) != 0) {
        r = agah_fail(why, AGAH_EIO, "libuv: %s", uv_strerror(r));
        goto fail;
    }
    net->gossip.data = net;
    net->gossip_open = 1;
    if (cfg->listen != NULL && (r = net__listen(net, cfg->listen, why)) != 0)
        goto fail;
    net->last_recon = uv_now(loop);
    if ((r = uv_timer_start(&net->tick, net__on_tick, 0, NET_TICK_MS)) != 0) {
        r = agah_fail(why, AGAH_EIO, "libuv: %s", uv_strerror(r));
        goto fail;
    }
    /* Last, as it cannot be undone: the node keeps its listeners. */
    if ((r = node_listen(node, net__on_stored, net)) != 0) {
        r = agah_fail(why, r, "cannot listen for new records");
        goto fail;
    }
    *out = net;
    return 0;
fail:
    /* The caller forgets a net that failed to start, so the handles
     * already open free it from their close callbacks. */
    net->closing = 1;
    net->done_called = 1;
    if (net->listener_open)
        net__close_on_fail(net, (uv_handle_t *)&net->listener);
    if (net->tick_open)
        net__close_on_fail(net, (uv_handle_t *)&net->tick);
    if (net->gossip_open)
        net__close_on_fail(net, (uv_handle_t *)&net->gossip);
    if (net->handles_pending == 0)
        net_free(net);
    return r;
}

void net_close(struct net *net, void (*done)(void *ctx), void *ctx)
{
    struct peer *q, *next;

    if (net->done_called || (net->closing && net->done != NULL))
        return;
    net->closing = 1;
    net->done = done;
    net->done_ctx = ctx;
    if (net->listener_open && !uv_is_closing((uv_handle_t *)&net->listener)) {
        net->handles_pending++;
        uv_close((uv_handle_t *)&net->listener, net__on_handle_closed);
    }
    if (net->tick_open && !uv_is_closing((uv_handle_t *)&net->tick)) {
        net->handles_pending++;
        uv_close((uv_handle_t *)&net->tick, net__on_handle_closed);
    }
    if (net->gossip_open && !uv_is_closing((uv_handle_t *)&net->gossip)) {
        net->handles_pending++;
        uv_close((uv_handle_t *)&net->gossip, net__on_handle_closed);
    }
    for (q = net->links.peers; q != NULL; q = next) {
        next = q->next;
        peer__close(q, "shutting down");
    }
    /* Records being verified are still stored (the caller flushes after
     * `done`): they were valid when they came and losing them would cost a
     * fetch on the next start. */
    if (net->vq != NULL) {
        net->vq_busy = 1;
        vq_close(net->vq, net__on_vq_done, net);
    }
    /* Pending lookups cannot be stopped once running; their callbacks
     * see `closing`. Queued ones are cancelled. */
    net__maybe_done(net);
}

void net_free(struct net *net)
{
    if (net == NULL)
        return;
    vq_free(net->vq);
    recon_set_free(net->set);
    gossip_missing_free(net->missing);
    links__free(&net->links);
    free(net);
}

int net_peer_add(struct net *net, const char *addr, struct agah_why *why)
{
    struct net_addr *a;
    int r;

    if (net->closing)
        return agah_fail(why, AGAH_EINVAL, "the network is shutting down");
    if (addr == NULL || agah_addr_parse(addr, strlen(addr), NULL, NULL) != 0)
        return agah_fail(why, AGAH_EINVAL, "%s is not HOST:PORT", addr ? addr : "(null)");
    if ((r = node_peer_remember(net->links.node, addr)) != 0)
        return agah_fail(why, r, "cannot remember %s: %s", addr, agah_strerror(r));
    a = net__addr_add(net, addr, 1);
    if (a == NULL)
        return agah_fail(why, AGAH_ETOOBIG, "too many peer addresses");
    a->self = 0;
    a->revoked = 0; /* the user asks for it again, maybe for a new member */
    a->has_pk = 0;
    a->pk_dialled = 0;
    net__unban(net, addr);
    a->fails = 0;
    a->next_try = 0;
    net__dial_some(net);
    return 0;
}

int net_peers_foreach(struct net *net,
                      void (*cb)(void *ctx, const char *addr, const uint8_t *member, int connected),
                      void *ctx)
{
    for (size_t i = 0; i < NET_ADDRS_MAX; i++) {
        struct net_addr *a = &net->addrs[i];
        int up;

        if (!a->used || a->self)
            continue;
        up = (a->peer != NULL && a->peer->state == PEER_UP) ||
             (a->has_pk && net__member_up(net, a->pk));
        cb(ctx, a->addr, up ? a->pk : NULL, up);
    }
    /* Links with no address of ours (accepted from a node that does not
     * listen, or not yet told us where it listens). */
    for (struct peer *q = net->links.peers; q != NULL; q = q->next) {
        int known = 0;

        if (q->state != PEER_UP)
            continue;
        for (size_t i = 0; i < NET_ADDRS_MAX && !known; i++)
            known = net->addrs[i].used && !net->addrs[i].self && net->addrs[i].has_pk &&
                    memcmp(net->addrs[i].pk, q->pk, AGAH_PK_LEN) == 0;
        if (!known)
            cb(ctx, mesh_peer(q)->listen[0] ? mesh_peer(q)->listen : q->remote, q->pk, 1);
    }
    return 0;
}

size_t net_connected(const struct net *net)
{
    return net->links.n_up;
}

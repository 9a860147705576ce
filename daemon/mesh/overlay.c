/* The overlay: known addresses (kept, passive, banned), dialling with
 * backoff, accepting connections into slots, the tick, and PEERS. */
#define _POSIX_C_SOURCE 200809L /* what uv.h needs */
#include "mesh_int.h"

/* ------------------------------------------------------------------ */
/* Revoked members' addresses (issue 22, 3.4)                          */

static int net__banned(const struct net *net, const char *addr)
{
    for (size_t i = 0; i < net->n_banned; i++)
        if (strcmp(net->banned[i], addr) == 0)
            return 1;
    return 0;
}

void net__unban(struct net *net, const char *addr)
{
    for (size_t i = 0; i < net->n_banned; i++)
        if (strcmp(net->banned[i], addr) == 0)
            net->banned[i][0] = '\0';
}

/* The member last seen at `a` is revoked: the address is dialled no more
 * (a kept one stays listed, `agah peer add` dials it again), not passed on
 * in PEERS, and PEERS from others cannot bring it back. A revoked node
 * still holds K and would take every redial as far as M4, for ever. */
void net__addr_revoked(struct net *net, struct net_addr *a)
{
    char who[AGAH_IDSTR_SIZE];

    if (a->revoked)
        return;
    a->revoked = 1;
    if (!net__banned(net, a->addr)) {
        (void)snprintf(net->banned[net->banned_next], AGAH_ADDR_MAX, "%s", a->addr);
        net->banned_next = (net->banned_next + 1) % NET_BANNED_MAX;
        if (net->n_banned < NET_BANNED_MAX)
            net->n_banned++;
    }
    net__member_id(a->pk, who);
    log_ident(LOG_INFO, "not dialling an address any more: its member is revoked",
              "not dialling %s any more: its member %s is revoked", a->addr, who);
}

/* After a revocation: every address whose member is now revoked. */
void net__revoke_addrs(struct net *net)
{
    for (size_t i = 0; i < NET_ADDRS_MAX; i++) {
        struct net_addr *a = &net->addrs[i];
        int role = 0;

        if (a->used && a->has_pk && !a->revoked &&
            node_member_status(net->links.node, a->pk, &role) == AGAH_EPERM)
            net__addr_revoked(net, a);
    }
}

/* ------------------------------------------------------------------ */
/* Overlay                                                             */

/* An address's host (without brackets) and port, as getaddrinfo takes
 * them, by the one parser (include/agah/addr.h). */
int net__split(const char *addr, char host[AGAH_ADDR_MAX], char port[8])
{
    struct agah_addr a;

    if (agah_addr_parse(addr, strnlen(addr, AGAH_ADDR_MAX), &a, NULL) != 0)
        return AGAH_EINVAL;
    memcpy(host, a.host, sizeof a.host);
    (void)snprintf(port, 8, "%u", (unsigned)a.port);
    return 0;
}

/* A host that names every interface ("0.0.0.0", "::"), and so no address
 * another machine could dial. */
int net__wildcard(const char *host)
{
    return strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0;
}

static struct net_addr *net__addr_find(struct net *net, const char *addr)
{
    for (size_t i = 0; i < NET_ADDRS_MAX; i++)
        if (net->addrs[i].used && strcmp(net->addrs[i].addr, addr) == 0)
            return &net->addrs[i];
    return NULL;
}

/* Adds an address (kept: dialled always; else part of the passive view,
 * replacing an idle passive one at random when full). */
struct net_addr *net__addr_add(struct net *net, const char *addr, int kept)
{
    struct net_addr *a = net__addr_find(net, addr), *free_slot = NULL;
    size_t n_kept = 0, n_passive = 0;

    if (a != NULL) {
        if (kept && !a->kept) {
            a->kept = 1;
            a->fails = 0;
            a->next_try = 0;
        }
        return a;
    }
    for (size_t i = 0; i < NET_ADDRS_MAX; i++) {
        if (!net->addrs[i].used) {
            if (free_slot == NULL)
                free_slot = &net->addrs[i];
        } else if (net->addrs[i].kept) {
            n_kept++;
        } else {
            n_passive++;
        }
    }
    if (kept ? n_kept >= NET_KEPT_MAX : n_passive >= NET_PASSIVE_MAX) {
        if (kept)
            return NULL;
        /* HyParView: a new passive entry replaces a random idle one. */
        uint32_t pick = randombytes_uniform((uint32_t)n_passive), k = 0;

        free_slot = NULL;
        for (size_t i = 0; i < NET_ADDRS_MAX; i++) {
            struct net_addr *b = &net->addrs[i];

            if (!b->used || b->kept)
                continue;
            if (k++ >= pick && b->peer == NULL && !b->resolving) {
                free_slot = b;
                break;
            }
        }
        if (free_slot == NULL)
            return NULL;
    }
    if (free_slot == NULL)
        return NULL;
    memset(free_slot, 0, sizeof *free_slot);
    (void)snprintf(free_slot->addr, sizeof free_slot->addr, "%s", addr);
    free_slot->used = 1;
    free_slot->kept = kept;
    return free_slot;
}

int net__member_up(struct net *net, const uint8_t pk[AGAH_PK_LEN])
{
    for (struct peer *q = net->links.peers; q != NULL; q = q->next)
        if (q->state == PEER_UP && memcmp(q->pk, pk, AGAH_PK_LEN) == 0)
            return 1;
    return 0;
}

/* Makes room for a connection just accepted (slots.c decides, net.c
 * closes what it marks), or says it must go: 0, or AGAH_ETOOBIG when
 * authenticated links hold the slots. */
static int net__make_room(struct net *net, struct peer *p)
{
    struct slot all[SLOTS_SCAN_MAX + 1];
    struct peer *who[SLOTS_SCAN_MAX + 1];
    size_t n = 0;
    const char *why;
    int r;

    for (struct peer *q = net->links.peers; q != NULL && n <= SLOTS_SCAN_MAX; q = q->next) {
        if (q == p || q->dialer || q->state == PEER_CLOSING)
            continue;
        all[n] = q->slot;
        all[n].serial = q->serial;
        all[n].authed = q->state == PEER_UP;
        all[n].got_m1 = (uint8_t)q->got_m1;
        who[n++] = q;
    }
    p->slot.serial = p->serial;
    if ((r = slots_admit(all, n, &p->slot, &why)) != 0) {
        log_debug("peer %s refused: %s", p->remote, why);
        return r;
    }
    for (size_t i = 0; i < n; i++)
        if (all[i].evict)
            peer__close(who[i], slots_why(all[i].evict));
    return 0;
}

static size_t net__out_count(const struct net *net)
{
    size_t n = 0;

    for (const struct peer *q = net->links.peers; q != NULL; q = q->next)
        if (q->dialer && q->state != PEER_CLOSING)
            n++;
    return n;
}

static void peer__on_connect(uv_connect_t *req, int status)
{
    struct peer *p = req->data;
    struct net_addr *a;
    int bound;

    if (p->state == PEER_CLOSING)
        return;
    if (status < 0) {
        peer__close(p, uv_strerror(status));
        return;
    }
    peer__name(p);
    /* The member we reached here before: only its node may read who we
     * are (an impostor holding K learns nothing). Read now, not when the
     * dial began: PEERS may have told us the key meanwhile. */
    a = mesh_peer(p)->addr;
    bound = a != NULL && a->has_pk && a->pk_dialled;
    (void)peer__start_hs(p, bound ? a->pk : NULL, a != NULL ? a->net_try : 0);
}

static void net__on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    struct net_resolve *rs = req->data;
    struct net *net = rs->net;
    struct net_addr *a = rs->a;
    struct peer *p;
    int r;

    free(rs);
    net->resolving--;
    a->resolving = 0;
    if (net->closing || status < 0 || res == NULL) {
        if (!net->closing) {
            log_debug("cannot resolve %s: %s", a->addr, uv_strerror(status));
            if (a->fails < 16)
                a->fails++;
            a->next_try = net__now(net) + NET_BACKOFF_MAX_MS / 2;
        }
        if (res != NULL)
            uv_freeaddrinfo(res);
        net__maybe_done(net);
        return;
    }
    p = peer__new(&net->links, 1);
    if (p == NULL) {
        uv_freeaddrinfo(res);
        a->next_try = net__now(net) + NET_BACKOFF_MIN_MS;
        return;
    }
    mesh_peer(p)->addr = a;
    a->peer = p;
    (void)snprintf(p->remote, sizeof p->remote, "%s", a->addr);
    p->conn.data = p;
    r = uv_tcp_connect(&p->conn, &p->tcp, res->ai_addr, peer__on_connect);
    uv_freeaddrinfo(res);
    if (r != 0)
        peer__close(p, uv_strerror(r));
}

static void net__dial(struct net *net, struct net_addr *a)
{
    struct addrinfo hints;
    struct net_resolve *rs;
    char host[AGAH_ADDR_MAX], port[8];
    int r;

    if (net__split(a->addr, host, port) != 0) {
        a->used = 0; /* cannot happen: addresses are checked on entry */
        return;
    }
    rs = malloc(sizeof *rs);
    if (rs == NULL)
        return;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    /* Addresses learned from peers are never looked up in the DNS. */
    hints.ai_flags = AI_NUMERICSERV | (a->kept ? 0 : AI_NUMERICHOST);
    rs->net = net;
    rs->a = a;
    rs->req.data = rs;
    r = uv_getaddrinfo(net->links.loop, &rs->req, net__on_resolved, host, port, &hints);
    if (r != 0) {
        free(rs);
        a->next_try = net__now(net) + NET_BACKOFF_MAX_MS;
        return;
    }
    a->resolving = 1;
    net->resolving++;
}

/* Keeps the active view filled: every kept address, and passive ones
 * while fewer than NET_ACTIVE_DIAL dialled links are up. */
void net__dial_some(struct net *net)
{
    uint64_t now = net__now(net);
    size_t out = net__out_count(net), dialled = out;

    for (size_t i = 0; i < NET_ADDRS_MAX; i++) {
        struct net_addr *a = &net->addrs[i];

        if (!a->used || a->self || a->revoked || a->peer != NULL || a->resolving ||
            now < a->next_try)
            continue;
        if (a->has_pk && net__member_up(net, a->pk))
            continue;
        if (!a->kept && a->fails >= NET_PASSIVE_FAILS) {
            a->used = 0; /* HyParView drops passive entries that fail */
            continue;
        }
        /* Dials have slots of their own: accepted connections, however
         * many, never stop this node from reaching its members. */
        if (out + net->resolving >= NET_OUT_MAX)
            return;
        if (!a->kept && dialled >= NET_ACTIVE_DIAL)
            continue;
        net__dial(net, a);
        dialled++;
    }
}

void net__on_tick(uv_timer_t *t)
{
    struct net *net = t->data;
    uint64_t now = net__now(net);

    if (net->closing)
        return;
    net__dial_some(net);
    (void)gossip_missing_release(net->missing); /* once nothing is missing */
    for (struct peer *q = net->links.peers; q != NULL; q = q->next) {
        struct mesh_peer *mq = mesh_peer(q);

        if (q->state != PEER_UP)
            continue;
        /* peer__close only starts closing; q->next stays valid. */
        if (q->partial_since != 0 && now - q->partial_since >= NET_PARTIAL_MS) {
            peer__close(q, "a message took over 20 s to arrive");
            continue;
        }
        /* Bodies asked for that never came (the peer pruned them, or
         * will not answer) must not hold the window shut for ever. */
        if (mq->asked > 0 && now - mq->asked_at >= NET_ASK_STALE_MS) {
            net__asked_clear(mq);
            net__want_pump(mq);
        }
        if (q->state == PEER_UP && mq->recon_again && mq->pq_len == 0 && mq->wq_len == 0 &&
            mq->swq_len == 0)
            net__drain(mq); /* starts the reconciliation it asked for */
    }
    if (net->links.n_up > 0 && now - net->last_recon >= NET_RECON_MS) {
        uint32_t pick = randombytes_uniform((uint32_t)net->links.n_up), k = 0;

        net->last_recon = now;
        /* Pruning removes records behind our back: resync when the counts
         * disagree. */
        if (node_record_count(net->links.node) != recon_set_size(net->set))
            (void)net__set_fill(net);
        for (struct peer *q = net->links.peers; q != NULL; q = q->next)
            if (q->state == PEER_UP && k++ == pick) {
                net__recon_start(q);
                break;
            }
    }
}

void net__on_connection(uv_stream_t *server, int status)
{
    struct net *net = server->data;
    struct peer *p;

    if (status < 0 || net->closing)
        return;
    p = peer__new(&net->links, 0);
    if (p == NULL)
        return;
    if (uv_accept(server, (uv_stream_t *)&p->tcp) != 0) {
        peer__close(p, "accept failed");
        return;
    }
    peer__name(p);
    /* Over a limit with nothing to evict: closed at once, nothing sent. */
    if (net__make_room(net, p) != 0) {
        peer__close(p, "too many connections");
        return;
    }
    (void)peer__start_hs(p, NULL, 0);
}

/* PEERS: our own listen address, signed now, and the signed statements of
 * other members we hold, still valid, up to GOSSIP_PEERS_MAX in all. An
 * address we know only unsigned (--peer, a join code, a wildcard listener)
 * is not passed on: its receiver could not check it. */
void net__send_peers(struct net *net, struct peer *p)
{
    struct peeraddr list[GOSSIP_PEERS_MAX];
    uint64_t now = node_now(net->links.node);
    size_t n = 0, len;

    if (net->advertise[0] != '\0' &&
        peeraddr_sign(node_identity(net->links.node), node_community(net->links.node),
                      net->advertise, now + PEERADDR_TTL_S, &list[n]) == 0)
        n++;
    for (size_t i = 0; i < NET_ADDRS_MAX && n < GOSSIP_PEERS_MAX; i++) {
        struct net_addr *a = &net->addrs[i];
        int role = 0;

        if (!a->used || a->self || a->revoked || !a->has_pk || a->ann_expires <= now ||
            memcmp(a->pk, p->pk, AGAH_PK_LEN) == 0 ||
            node_member_status(net->links.node, a->pk, &role) != 0)
            continue;
        memset(&list[n], 0, sizeof list[n]);
        (void)snprintf(list[n].addr, sizeof list[n].addr, "%s", a->addr);
        memcpy(list[n].pk, a->pk, AGAH_PK_LEN);
        list[n].expires = a->ann_expires;
        memcpy(list[n].sig, a->ann_sig, AGAH_SIG_LEN);
        n++;
    }
    if (gossip_enc_peers(list, n, net->links.enc, FRAME_PT_MAX, &len) == 0)
        (void)peer__send(p, net->links.enc, len);
}

/* How many passive addresses are held for `pk`. */
static size_t net__addrs_of(const struct net *net, const uint8_t pk[AGAH_PK_LEN])
{
    size_t n = 0;

    for (size_t i = 0; i < NET_ADDRS_MAX; i++) {
        const struct net_addr *a = &net->addrs[i];

        if (a->used && !a->kept && a->has_pk && memcmp(a->pk, pk, AGAH_PK_LEN) == 0)
            n++;
    }
    return n;
}

/* One entry of a PEERS from `p` (NULL: an entry kept until its key was
 * known, net__retry_pending): 1 if it added an address to the passive
 * view, else 0. Only a statement signed by a member in good standing, for
 * an address no other key holds, within the per-key bound, gets in; the
 * address is then dialled bound to the signer's key, so a claim of
 * another's address costs one failed dial and impersonates no one. */
static int net__take_entry(struct net *net, struct peer *p, const struct peeraddr *e)
{
    char addr[AGAH_ADDR_MAX], host[AGAH_ADDR_MAX], port[8], who[AGAH_IDSTR_SIZE];
    const char *from = p != NULL ? p->remote : "(an entry kept for its key)";
    int role = 0, own = p != NULL && memcmp(e->pk, p->pk, AGAH_PK_LEN) == 0, wild = 0, r;
    struct net_addr *a;

    net__member_id(e->pk, who);
    if ((r = peeraddr_verify(e, node_community(net->links.node), node_now(net->links.node))) != 0) {
        log_debug("peer %s: PEERS entry %s of %s refused: %s", from, e->addr, who,
                  agah_strerror(r));
        return 0;
    }
    if ((r = node_member_status(net->links.node, e->pk, &role)) != 0) {
        log_debug("peer %s: PEERS entry %s signed by %s, not a member: %s", from, e->addr,
                  who, agah_strerror(r));
        if (r == AGAH_ENOENT && p != NULL) {
            net->pend[net->pend_next] = *e;
            net->pend_next = (net->pend_next + 1) % NET_PEND_MAX;
            if (net->n_pend < NET_PEND_MAX)
                net->n_pend++;
        }
        return 0;
    }
    if (sodium_memcmp(e->pk, agah_identity_pk(node_identity(net->links.node)), AGAH_PK_LEN) == 0 ||
        net__split(e->addr, host, port) != 0)
        return 0;
    (void)snprintf(addr, sizeof addr, "%s", e->addr);
    /* A node listening on every interface signs 0.0.0.0: from the node
     * itself, we know which of its addresses reaches it (not passed on,
     * since its signature does not cover that address). */
    if (net__wildcard(host)) {
        if (!own || p->ip[0] == '\0')
            return 0;
        (void)snprintf(addr, sizeof addr, strchr(p->ip, ':') ? "[%s]:%s" : "%s:%s", p->ip, port);
        wild = 1;
    }
    if (!agah_addr_numeric(addr) || strcmp(addr, net->advertise) == 0)
        return 0;
    if (own) {
        (void)snprintf(mesh_peer(p)->listen, sizeof mesh_peer(p)->listen, "%s", addr);
        /* A member with a link up now listens there: whoever was revoked
         * there before, the address is good again. */
        net__unban(net, addr);
    } else if (net__banned(net, addr)) {
        return 0;
    }
    a = net__addr_find(net, addr);
    if (a != NULL && a->has_pk && memcmp(a->pk, e->pk, AGAH_PK_LEN) != 0) {
        /* First key wins: another member's claim cannot take an address
         * away from the member we know there (it is dropped from the
         * passive view when its dials keep failing). */
        log_debug("peer %s: PEERS entry %s signed by %s: the address is held by another key",
                  from, addr, who);
        return 0;
    }
    /* A kept address whose key no dial has shown yet: a claim must not
     * bind our dials to a key of the claimant's choosing. */
    if (a != NULL && a->kept && !a->has_pk)
        return 0;
    if (a == NULL) {
        if (net__addrs_of(net, e->pk) >= NET_ADDRS_PER_KEY) {
            log_debug("peer %s: PEERS entry %s: %s has %d addresses already", from, addr, who,
                      NET_ADDRS_PER_KEY);
            return 0;
        }
        if ((a = net__addr_add(net, addr, 0)) == NULL)
            return 0;
        r = 1;
    } else {
        r = 0;
    }
    if (!a->kept)
        a->pk_dialled = 1; /* pk signed for this address: dial it bound */
    a->has_pk = 1;
    memcpy(a->pk, e->pk, AGAH_PK_LEN);
    a->revoked = 0;
    if (!wild && e->expires > a->ann_expires) {
        a->ann_expires = e->expires;
        memcpy(a->ann_sig, e->sig, AGAH_SIG_LEN);
    }
    return r;
}

void net__on_peers(struct peer *p, const struct gossip_msg *m)
{
    struct mesh_peer *mp = mesh_peer(p);
    size_t taken = 0;

    /* One PEERS per link (each side sends one when the link comes up): a
     * member sending more would make this node churn its address table
     * and dial whatever it names, again and again. */
    if (mp->peers_msgs++ > 0) {
        log_debug("peer %s: a PEERS message after the first on this link; ignored", p->remote);
        return;
    }
    for (size_t i = 0; i < m->n_entries && taken < NET_PEERS_TAKE; i++) {
        struct peeraddr e;

        if (peeraddr_parse(&m->entries[i], &e, NULL) == 0)
            taken += (size_t)net__take_entry(mesh_net(p), p, &e);
    }
}

/* An admission arrived: entries kept for want of their key are taken now
 * if it is theirs (or dropped if their key turned out revoked). */
void net__retry_pending(struct net *net)
{
    size_t n = net->n_pend;
    int role = 0;

    if (n == 0)
        return;
    net->n_pend = 0;
    for (size_t i = 0; i < n; i++) {
        struct peeraddr e = net->pend[i];

        if (node_member_status(net->links.node, e.pk, &role) == AGAH_ENOENT) {
            net->pend[net->n_pend++] = e; /* still unknown: kept */
            continue;
        }
        (void)net__take_entry(net, NULL, &e);
    }
    net->pend_next = net->n_pend % NET_PEND_MAX;
}

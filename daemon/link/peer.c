/* A link's life: what all links share (struct links), the handshake glue
 * (admission, duplicates, links to ourselves, coming up), and creating,
 * naming, timing out and closing a peer. What each step means to the
 * overlay is the mesh's, told through struct link_ops (link.h). */
#define _POSIX_C_SOURCE 200809L /* what uv.h needs */
#include "link.h"

/* The loop's clock in ms, which every deadline of links and mesh reads. */
uint64_t links__now(const struct links *l) { return uv_now(l->loop); }

/* The buffers and the replay memory every link shares; l is zeroed. */
int links__init(struct links *l, uv_loop_t *loop, struct node *node,
                const struct link_ops *ops)
{
    l->loop = loop;
    l->node = node;
    l->ops = ops;
    l->pt = malloc(FRAME_PT_MAX);
    l->enc = malloc(FRAME_PT_MAX);
    if (l->pt == NULL || l->enc == NULL || hs_replay_new(&l->replay) != 0)
        return AGAH_ENOMEM;
    return 0;
}

/* Once every link is gone (or none was made). */
void links__free(struct links *l)
{
    hs_replay_free(l->replay);
    free(l->pt);
    free(l->enc);
    l->replay = NULL;
    l->pt = l->enc = NULL;
}

/* A peer's member id as `agah members` and `agah peers` print it, so a
 * log line can be matched with them. */
void net__member_id(const uint8_t *pk, char out[AGAH_IDSTR_SIZE])
{
    agah_id_encode(AGAH_IDPFX_MEMBER, pk, out);
}

/* ------------------------------------------------------------------ */
/* Handshake                                                           */

static int net__verify(void *ctx, const uint8_t pk[AGAH_PK_LEN], const uint8_t *adm, size_t len)
{
    struct peer *p = ctx;
    struct links *l = p->links;
    struct agah_why why = {{0}};
    int r, role = 0;

    /* Ourselves: accepted here and recognised once up, so the dialling
     * side learns the address is its own and stops dialling it. */
    if (sodium_memcmp(pk, agah_identity_pk(node_identity(l->node)), AGAH_PK_LEN) == 0)
        return 0;
    /* Membership first, and the slot's record stored only if the link is
     * accepted: a refused link leaves nothing behind (node_admit_peer). */
    r = node_admit_peer(l->node, pk, adm, len, &role, &why);
    if (r != 0) {
        log_debug("peer %s: refused: %s", p->remote, why.msg[0] ? why.msg : agah_strerror(r));
        /* An address we dialled answers with a revoked key (learned before
         * we knew the key, or kept across a restart): dial it no more. */
        if (p->dialer && node_member_status(l->node, pk, &role) == AGAH_EPERM)
            l->ops->revoked(p, pk);
        return r;
    }
    p->role = role;
    return 0;
}

/* A peer with the same member key already holding an up link: keep the
 * link dialled by the smaller key (both ends decide alike), else the older. */
static int peer__dedupe(struct peer *p)
{
    const uint8_t *me = agah_identity_pk(node_identity(p->links->node));
    int me_first = memcmp(me, p->pk, AGAH_PK_LEN) < 0;

    for (struct peer *q = p->links->peers; q != NULL; q = q->next) {
        if (q == p || q->state != PEER_UP || memcmp(q->pk, p->pk, AGAH_PK_LEN) != 0)
            continue;
        /* The preferred link is the one the smaller key dialled. */
        int p_pref = p->dialer == me_first, q_pref = q->dialer == me_first;
        if (p_pref && !q_pref) {
            peer__close(q, "duplicate link");
            return 0;
        }
        peer__close(p, "duplicate link");
        return -1;
    }
    return 0;
}

/* "ip:port" (or "[ip]:port") of a socket address, as peer__name writes
 * remote ends; "" if it is neither IPv4 nor IPv6. */
static void net__fmt_addr(const struct sockaddr_storage *ss, char out[AGAH_ADDR_MAX])
{
    char ip[48] = "";

    out[0] = '\0';
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;

        (void)uv_ip4_name(s4, ip, sizeof ip);
        (void)snprintf(out, AGAH_ADDR_MAX, "%s:%d", ip, ntohs(s4->sin_port));
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

        (void)uv_ip6_name(s6, ip, sizeof ip);
        (void)snprintf(out, AGAH_ADDR_MAX, "[%s]:%d", ip, ntohs(s6->sin6_port));
    }
}

/* A link presented our own key. Only the two ends of one connection
 * within this process prove that an address is ours: the accepted end is
 * remembered by its remote address, and a dialled end whose local address
 * is among those tells the mesh (LINK_REACHED_SELF) that the address it
 * dialled is ours, never to be dialled again. Any other dialled link that
 * reaches our key went through someone who turned our connection back to
 * our own listener (a reflection, LINK_REACHED_REFLECTED): the address
 * may well belong to a real peer, so it is only closed and redialled with
 * the usual backoff (issue 22, 3.3). */
static void net__reached_self(struct links *l, struct peer *p)
{
    struct sockaddr_storage ss;
    char local[AGAH_ADDR_MAX];
    int len = sizeof ss;
    uint64_t now = links__now(l);

    if (!p->dialer) {
        if (p->remote[0] == '\0')
            return;
        if (l->n_self_in == NET_SELF_IN) {
            memmove(&l->self_in[0], &l->self_in[1],
                    (NET_SELF_IN - 1) * sizeof l->self_in[0]);
            l->n_self_in--;
        }
        (void)snprintf(l->self_in[l->n_self_in].addr, AGAH_ADDR_MAX, "%s", p->remote);
        l->self_in[l->n_self_in++].at = now;
        return;
    }
    if (uv_tcp_getsockname(&p->tcp, (struct sockaddr *)&ss, &len) != 0)
        return;
    net__fmt_addr(&ss, local);
    for (size_t i = 0; i < l->n_self_in && local[0] != '\0'; i++) {
        /* The accepted end finished the handshake before it sent M4, so
         * it is here by the time this end has read M4. */
        if (now - l->self_in[i].at <= HS_TIMEOUT_MS && strcmp(l->self_in[i].addr, local) == 0) {
            l->ops->reached(p, LINK_REACHED_SELF);
            return;
        }
    }
    l->ops->reached(p, LINK_REACHED_REFLECTED);
}

void peer__up(struct peer *p)
{
    struct links *l = p->links;
    uint8_t tx[32], rx[32];
    uint8_t *in;
    char who[AGAH_IDSTR_SIZE];
    int bound;

    memcpy(p->pk, hs_peer_pk(p->hs), AGAH_PK_LEN);
    if (hs_session_keys(p->hs, tx, rx) != 0 || (p->keys = frame_keys_new(tx, rx)) == NULL) {
        sodium_memzero(tx, sizeof tx);
        sodium_memzero(rx, sizeof rx);
        peer__close(p, "cannot set up session keys");
        return;
    }
    sodium_memzero(tx, sizeof tx);
    sodium_memzero(rx, sizeof rx);
    bound = hs_bound(p->hs);
    hs_free(p->hs);
    p->hs = NULL;
    if (sodium_memcmp(p->pk, agah_identity_pk(node_identity(l->node)), AGAH_PK_LEN) == 0) {
        net__reached_self(l, p);
        peer__close(p, "it is this node");
        return;
    }
    l->ops->reached(p, LINK_REACHED_PEER);
    in = realloc(p->in, FRAME_WIRE_MAX);
    if (in == NULL) {
        peer__close(p, "out of memory");
        return;
    }
    p->in = in;
    p->in_cap = FRAME_WIRE_MAX;
    /* Counted as up before the duplicate check, which may close it again
     * (peer__close uncounts an up peer): counted after, a link that lost
     * to a duplicate was uncounted without ever being counted. */
    p->state = PEER_UP;
    l->n_up++;
    if (peer__dedupe(p) != 0)
        return;
    /* No Nagle: a WANT or GRAFT is a small write right after another, and
     * Nagle would hold it until the peer's delayed ACK (up to 40 ms), which
     * stalls catch-up and gossip alike. Writes are already whole frames. */
    if (uv_tcp_nodelay(&p->tcp, 1) != 0)
        log_debug("peer %s: cannot set TCP_NODELAY", p->remote);
    p->tokens = NET_BURST;
    p->tokens_at = links__now(l);
    /* The handshake deadline becomes the keepalive: PING every
     * NET_PING_MS, close after NET_IDLE_MS of silence. */
    if (uv_timer_start(&p->timer, peer__on_timer, NET_PING_MS, NET_PING_MS) != 0) {
        peer__close(p, "cannot start a timer");
        return;
    }
    net__member_id(p->pk, who);
    log_ident(LOG_INFO,
              p->dialer ? "a peer's link is up (dialled)" : "a peer's link is up (accepted)",
              "peer %s up (%s, member %s%s)", p->remote, p->dialer ? "dialled" : "accepted", who,
              bound ? ", M3 bound to its key" : "");
    l->ops->up(p);
}

/* ------------------------------------------------------------------ */
/* Peer lifecycle                                                      */

/* The link's own memory; then the mesh frees its state and the block. */
static void peer__free(struct peer *p)
{
    hs_free(p->hs);
    frame_keys_free(p->keys);
    free(p->in);
    p->hs = NULL;
    p->keys = NULL;
    p->in = NULL;
    p->links->ops->gone(p);
}

static void peer__on_close(uv_handle_t *h)
{
    struct peer *p = h->data;
    struct links *l = p->links;

    if (--p->closes_pending > 0)
        return;
    if (p->prev != NULL)
        p->prev->next = p->next;
    else
        l->peers = p->next;
    if (p->next != NULL)
        p->next->prev = p->prev;
    l->n_peers--;
    peer__free(p);
}

/* Idempotent: closes every handle of the peer; the memory goes in the
 * last close callback. The mesh hears of it first (link_ops.down), while
 * p->state still says how far the link got. */
void peer__close(struct peer *p, const char *why)
{
    struct links *l = p->links;

    if (p->state == PEER_CLOSING)
        return;
    if (p->state == PEER_UP) {
        l->n_up--;
        log_peer(LOG_INFO, p->remote, "down: %s", why);
    } else {
        log_debug("peer %s closed: %s", p->remote[0] ? p->remote : "(dialling)", why);
    }
    l->ops->down(p);
    p->state = PEER_CLOSING;
    p->closes_pending = 0;
    if (p->inited & 1) {
        p->closes_pending++;
        uv_close((uv_handle_t *)&p->tcp, peer__on_close);
    }
    if (p->inited & 2) {
        p->closes_pending++;
        uv_close((uv_handle_t *)&p->timer, peer__on_close);
    }
    if (p->inited & 4) {
        p->closes_pending++;
        uv_close((uv_handle_t *)&p->resume, peer__on_close);
    }
}

/* A link stands while its member does: a revocation closes it when the
 * record arrives (net__on_record), and an admission that expires (an
 * invitation never confirmed by an organiser's node) or a revocation that
 * took effect another way is caught here, on the keepalive tick. 0 and
 * the link closed when the peer is no member any more. */
static int net__still_member(struct peer *p)
{
    char who[AGAH_IDSTR_SIZE];
    int role = 0, rc = node_member_status(p->links->node, p->pk, &role);

    if (rc == 0) {
        p->role = role;
        return 1;
    }
    net__member_id(p->pk, who);
    log_ident(LOG_INFO, "a peer is no longer a member; closing the link",
              "peer %s: member %s is no longer a member (%s); closing the link", p->remote, who,
              rc == AGAH_EPERM ? "revoked" : "its admission expired");
    peer__close(p, "no longer a member");
    return 0;
}

void peer__on_timer(uv_timer_t *t)
{
    struct peer *p = t->data;
    uint64_t now;

    if (p->state == PEER_CLOSING)
        return;
    if (p->state != PEER_UP) {
        peer__close(p, p->dialer || p->got_m1 ? "handshake timed out"
                                              : "no first handshake message within 3 s");
        return;
    }
    now = links__now(p->links);
    if (now - p->last_rx >= NET_IDLE_MS) {
        peer__close(p, "idle");
        return;
    }
    if (!net__still_member(p))
        return;
    (void)peer__send_simple(p, GOSSIP_PING);
}

/* A new peer with its handles initialised (and counted in l->peers).
 * Its memory comes from the mesh (link_ops.alloc) and goes back to it
 * (link_ops.gone), also when this fails. */
struct peer *peer__new(struct links *l, int dialer)
{
    struct peer *p = l->ops->alloc();

    if (p == NULL)
        return NULL;
    p->links = l;
    p->dialer = dialer;
    p->serial = ++l->next_serial;
    p->state = PEER_CONNECTING;
    p->in_cap = NET_IN_HS;
    p->last_rx = p->born = links__now(l);
    p->in = malloc(p->in_cap);
    if (p->in == NULL) {
        l->ops->gone(p);
        return NULL;
    }
    p->tcp.data = p->timer.data = p->resume.data = p;
    p->next = l->peers;
    if (l->peers != NULL)
        l->peers->prev = p;
    l->peers = p;
    l->n_peers++;
    if (uv_tcp_init(l->loop, &p->tcp) == 0)
        p->inited |= 1;
    if (uv_timer_init(l->loop, &p->timer) == 0)
        p->inited |= 2;
    if (uv_timer_init(l->loop, &p->resume) == 0)
        p->inited |= 4;
    /* An accepted connection must show it holds K soon (M1): an outsider's
     * silent socket holds a slot for NET_M1_MS at most. */
    if (p->inited != 7 ||
        uv_timer_start(&p->timer, peer__on_timer, dialer ? HS_TIMEOUT_MS : NET_M1_MS, 0) != 0) {
        if (p->inited == 0) {
            l->peers = p->next;
            if (p->next != NULL)
                p->next->prev = NULL;
            l->n_peers--;
            peer__free(p);
            return NULL;
        }
        peer__close(p, "cannot initialise handles");
        return NULL;
    }
    return p;
}

void peer__name(struct peer *p)
{
    struct sockaddr_storage ss;
    int len = sizeof ss;
    int port = 0;

    if (uv_tcp_getpeername(&p->tcp, (struct sockaddr *)&ss, &len) != 0)
        return;
    slots_addr(&p->slot, (const struct sockaddr *)&ss);
    if (ss.ss_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)&ss;

        (void)uv_ip4_name(s4, p->ip, sizeof p->ip);
        port = ntohs(s4->sin_port);
        (void)snprintf(p->remote, sizeof p->remote, "%s:%d", p->ip, port);
    } else if (ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&ss;

        (void)uv_ip6_name(s6, p->ip, sizeof p->ip);
        port = ntohs(s6->sin6_port);
        (void)snprintf(p->remote, sizeof p->remote, "[%s]:%d", p->ip, port);
    }
}

/* Creates the handshake and starts reading; the dialler sends M1. */
int peer__start_hs(struct peer *p, const uint8_t *bind_pk, unsigned secret_try)
{
    struct links *l = p->links;
    const uint8_t *adm;
    size_t adm_len;
    uint8_t m1[HS_M1_LEN];
    struct netsecret_set ns;
    size_t k = 0;
    int r;

    /* A dial bound to a known listener may fall back to earlier secrets
     * (only that listener's node can read our M3); any other dial uses the
     * newest, so a revoked key's listener holding an old one learns
     * nothing of who dials. */
    node_net_secrets(l->node, &ns);
    p->hs_bound_dial = p->dialer && bind_pk != NULL;
    if (p->hs_bound_dial && ns.n > 0)
        k = secret_try % ns.n;
    if ((r = node_my_admission(l->node, &adm, &adm_len)) != 0 ||
        (r = hs_new(p->dialer, ns.s[k], node_identity(l->node), adm,
                    adm_len, net__verify, p, node_now(l->node), l->replay, &p->hs)) != 0 ||
        (!p->dialer && ns.n > 1 &&
         (r = hs_accept_also(p->hs, (const uint8_t(*)[32])ns.s[1], ns.n - 1)) != 0)) {
        sodium_memzero(&ns, sizeof ns);
        log_error("cannot start a handshake: %s", agah_strerror(r));
        peer__close(p, "no handshake");
        return r;
    }
    sodium_memzero(&ns, sizeof ns);
    p->state = PEER_HANDSHAKE;
    if (p->dialer) {
        /* The member we reached here before: only its node may read who
         * we are (an impostor holding K learns nothing). */
        if (p->hs_bound_dial && hs_expect_server(p->hs, bind_pk) != 0)
            log_debug("peer %s: cannot bind M3 to its member key", p->remote);
        if ((r = hs_start(p->hs, m1)) != 0 || (r = peer__send_raw(p, m1, sizeof m1)) != 0) {
            peer__close(p, "cannot send M1");
            return r;
        }
    }
    peer__update_reading(p);
    return 0;
}

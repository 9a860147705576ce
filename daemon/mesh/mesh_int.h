/* Private to mesh/: the state of the overlay (struct net) and the mesh's
 * per-link state (struct mesh_peer), and the helpers mesh/'s files share.
 * mesh/net.h is the public interface; nothing outside mesh/ includes this.
 *
 * agahd's network layer above the links: Plumtree dissemination (eager
 * RECORD to some links, lazy IHAVE to the others), reconciliation on every
 * new link and periodically (a difference sketch, sketch.c, with
 * Negentropy-style ranges, recon.c, as the fallback), and a HyParView-style
 * overlay (dialled addresses, a passive view learned from PEERS, redials
 * with backoff). Every queue and buffer is bounded; a flood from one peer
 * pauses that peer only. proto/PROTOCOL.md ("Peer protocol") is the
 * specification.
 *
 * A link (struct peer, link/link.h) is the link's own state; the mesh
 * allocates each one inside a struct mesh_peer (link_ops.alloc) and frees
 * it when the link is gone (link_ops.gone), so one layer owns the memory and
 * link/ never sees a mesh field. mesh_peer(p) and mesh_net(p) go from a
 * link to the mesh's state around it. */
#ifndef AGAH_MESH_INT_H
#define AGAH_MESH_INT_H

#include <stddef.h>
#include "idmap.h"
#include "link.h"
#include "peeraddr.h"
#include "recon.h"
#include "sketch.h"
#include "workmeter.h"

/* Connection slots (issue 24). Dials and accepted links are counted apart
 * so that outsiders filling the listener can never stop this node from
 * dialling its members; which accepted connection stays is slots.c's rule
 * (a small budget for those still in the handshake, the oldest giving way
 * to a new one; authenticated links never displaced). */
#define NET_OUT_MAX 16 /* dialled (or being resolved), reserved; 64 in all with SLOTS_IN_MAX */
#define NET_ACTIVE_DIAL 5        /* links we dial from the passive view */
#define NET_KEPT_MAX AGAH_LOCAL_MAX_PEERS /* --peer, join code, peer add */
#define NET_PASSIVE_MAX 30       /* learned from PEERS */
#define NET_ADDRS_MAX (NET_KEPT_MAX + NET_PASSIVE_MAX)
#define NET_PASSIVE_FAILS 4      /* a passive address failing this often is dropped */
#define NET_BACKOFF_MIN_MS 1000
#define NET_BACKOFF_MAX_MS 60000
#define NET_TICK_MS 1000
#define NET_RECON_MS 60000
#define NET_IHAVE_MS 25          /* IHAVE batching delay */
#define NET_GRAFT_MS 100         /* wait this long for an announced body */
#define NET_GRAFT_RETRY_MS 1000  /* then ask the next announcer after this */
#define NET_PUSHQ_MAX 16384      /* ids waiting to be sent to one peer */
#define NET_WANTQ_MAX 65536      /* ids found missing, waiting to be asked for */
#define NET_ASK_WINDOW 4096      /* most bodies asked of one peer at a time */
#define NET_ASK_STALE_MS 10000   /* a peer silent this long owes us nothing */
#define NET_ASKSET_MAX 16384     /* ids and short ids remembered as asked of one peer */
#define NET_DRAIN_BATCH 256
/* Most ids one RECON makes us OFFER: four ask windows, so the peer has the
 * next ids queued while it asks for a window's bodies (one window a round
 * halved a 100,000-record catch-up's speed: 4,051 against 7,929 records a
 * second in bench --only pair); the rest of the message's ranges is
 * answered as a fingerprint and settled on the next round, so a RECON of
 * a few bytes cannot make us send our whole set's ids (recon_cb.have_max),
 * and every id offered is charged to the peer's work budget. */
#define NET_OFFER_MAX (4 * NET_ASK_WINDOW)
_Static_assert(WORK_PK_LEN == AGAH_PK_LEN, "workmeter keys members by their public key");
#define NET_BANNED_MAX 64        /* addresses of revoked members remembered */
/* Signed addresses taken from PEERS (issue 24): at most this many per
 * signing key in the passive view, so a member who signs 100 addresses of
 * a victim gets 2 dialled; and at most this many new ones per message. */
#define NET_ADDRS_PER_KEY 2
#define NET_PEERS_TAKE 16
/* Entries signed by a key not yet known here (a newcomer learns of other
 * members by reconciliation, after PEERS): kept and taken again when an
 * admission arrives. */
#define NET_PEND_MAX 16

struct vq;
struct vq_item;

/* How a record that was just stored travels on (Plumtree). */
enum { NET_FWD_EAGER = 0, NET_FWD_LAZY = 1 };

struct net_addr {
    char addr[AGAH_ADDR_MAX];
    int used, kept, self, resolving;
    int revoked; /* its last member was revoked: never dialled or passed on */
    int has_pk;
    /* pk is proven, not claimed: a link we dialled here reached it, or pk
     * itself signed the address (peeraddr.h). Our M3 to this address is
     * then sealed so only pk's node can open it. */
    int pk_dialled;
    /* pk's signed statement about this address, passed on in PEERS while
     * it is valid (ann_expires 0: none, e.g. a wildcard address). */
    uint64_t ann_expires;
    uint8_t ann_sig[AGAH_SIG_LEN];
    uint8_t pk[AGAH_PK_LEN];
    struct peer *peer; /* our dialled link to it, in any state */
    /* Which of this node's network secrets the next bound dial here uses:
     * moves on when a dial got no M2 (the listener may have slept through
     * a rotation and know only an earlier one). */
    unsigned net_try;
    unsigned fails;
    uint64_t next_try;
};

struct net_resolve {
    uv_getaddrinfo_t req;
    struct net *net;
    struct net_addr *a;
};

/* The mesh's state of one link, around the link's own (link/link.h). */
struct mesh_peer {
    struct peer link;
    struct net_addr *addr; /* what we dialled, or NULL */
    int up;    /* net__link_up ran: the work budget is live */
    int eager;
    int recon_again;
    int sk_retry; /* a table that fails may be asked for again (once per start) */
    unsigned peers_msgs; /* PEERS messages received on this link */
    /* Records taken in the link's current peer__process call (link.turn
     * says which), so that only the first of a read skips the verify
     * queue (net__forward_ingest). */
    uint64_t turn;
    unsigned turn_records;
    char listen[AGAH_ADDR_MAX]; /* what it advertised, "" if nothing */
    /* Reconciliation work budget (workmeter.h, issue 24). */
    struct workmeter work;
    size_t offered; /* ids put in OFFER since the link came up */
    /* How many frames had been queued on the link (link.n_queued) when we
     * last answered a SKREQ: a SKREQ is answered only once that answer has
     * left (link.n_written), so one sketch exchange at most is in flight
     * per peer. */
    uint64_t skreq_mark;
    /* Bodies asked of this peer (ids sent in WANT and GRAFT) and not yet
     * answered: that many BODY messages bypass the token bucket, since
     * what we asked for bounds them; anything beyond is charged. */
    uint64_t asked;
    uint64_t asked_at; /* when we last asked or were answered */
    /* Which bodies those are: the ids sent in WANT and GRAFT, and the
     * short ids sent in SWANT (keyed with ssalt, net__short_key). Only a
     * BODY that answers one of them goes uncharged: a peer that made us
     * ask for ids of its choosing (OFFER) cannot then push anything else
     * for free (issue 24). Memory only while something is asked. */
    struct idmap askset;
    uint8_t ihave[GOSSIP_IDS_MAX][AGAH_HASH_LEN];
    size_t n_ihave;
    uint8_t graft[GOSSIP_IDS_MAX][AGAH_HASH_LEN];
    size_t n_graft;
    uint8_t want[GOSSIP_IDS_MAX][AGAH_HASH_LEN];
    size_t n_want;
    uint8_t offer[GOSSIP_IDS_MAX][AGAH_HASH_LEN];
    size_t n_offer;
    uint8_t (*pushq)[AGAH_HASH_LEN]; /* ring of NET_PUSHQ_MAX, allocated on use */
    size_t pq_head, pq_len;
    /* Ids reconciliation found we lack, asked for NET_ASK_WINDOW at a
     * time so the peer's push queue never overflows; ring of
     * NET_WANTQ_MAX, allocated on use. */
    uint8_t (*wantq)[AGAH_HASH_LEN];
    size_t wq_head, wq_len;
    /* Short ids a sketch found we lack, under salt ssalt, asked for with
     * SWANT in the same window; at most one table's worth, allocated on
     * use. */
    uint8_t ssalt[SKETCH_SALT_LEN];
    uint64_t *swq;
    size_t swq_head, swq_len;
};

struct net {
    struct links links; /* every link, and what they share */
    uv_tcp_t listener;
    uv_timer_t tick, gossip;
    int listener_open, tick_open, gossip_open;
    int handles_pending;
    int closing, done_called;
    void (*done)(void *ctx);
    void *done_ctx;
    unsigned resolving;
    struct net_addr addrs[NET_ADDRS_MAX];
    char advertise[AGAH_ADDR_MAX]; /* our listen address as we tell peers */
    struct recon_set *set; /* refers to the node's ids (node_ref_id) */
    int set_failed;
    uint64_t set_gen; /* node_ref_gen when the set was filled */
    struct gossip_missing *missing;
    uint64_t last_recon;
    /* Records from peers wait here while a worker thread checks their
     * signatures (verify.h); vq_busy while batches are out at shutdown. */
    struct vq *vq;
    int vq_busy;
    /* Addresses whose last member was revoked, so PEERS cannot bring them
     * back into the passive view once their entry is gone; a ring, the
     * oldest forgotten first. */
    char banned[NET_BANNED_MAX][AGAH_ADDR_MAX];
    size_t n_banned, banned_next;
    /* Reconciliation budgets left by links that went down. */
    struct workmeter_kept work_kept;
    /* PEERS entries whose key was unknown when they came; a ring. */
    struct peeraddr pend[NET_PEND_MAX];
    size_t n_pend, pend_next;
};

/* The mesh's state around a link, and the net around the links. */
static inline struct mesh_peer *mesh_peer(struct peer *p)
{
    return (struct mesh_peer *)(void *)((char *)p - offsetof(struct mesh_peer, link));
}

static inline struct net *mesh_of(struct links *l)
{
    return (struct net *)(void *)((char *)l - offsetof(struct net, links));
}

static inline struct net *mesh_net(const struct peer *p) { return mesh_of(p->links); }

/* mesh/queue.c */
int net__send_ids(struct mesh_peer *mp, int type, uint8_t (*ids)[AGAH_HASH_LEN], size_t *n);
int net__asked_take(struct mesh_peer *mp, const uint8_t id[AGAH_HASH_LEN]);
void net__asked_clear(struct mesh_peer *mp);
void net__push(struct mesh_peer *mp, const uint8_t id[AGAH_HASH_LEN]);
void net__drain(struct mesh_peer *mp);
void net__want_pump(struct mesh_peer *mp);

/* mesh/plumtree.c */
void net__on_verified(void *ctx, const struct vq_item *it);
void net__on_vq_drained(void *ctx);
void net__on_record(struct peer *p, const struct gossip_msg *m);
void net__on_body(struct peer *p, const struct gossip_msg *m);
void net__on_ihave(struct peer *p, const struct gossip_msg *m);
void net__on_graft(struct peer *p, const struct gossip_msg *m);
void net__on_want(struct peer *p, const struct gossip_msg *m);
void net__on_prune(struct peer *p, const struct gossip_msg *m);
void net__on_ping(struct peer *p, const struct gossip_msg *m);
void net__on_pong(struct peer *p, const struct gossip_msg *m);
void net__on_stored(void *ctx, const struct agah_rec *rec, const struct node_src *src);

/* mesh/sync.c */
void net__recon_start(struct peer *p);
void net__on_recon(struct peer *p, const struct gossip_msg *m);
void net__on_skreq(struct peer *p, const struct gossip_msg *m);
void net__on_sketch(struct peer *p, const struct gossip_msg *m);
void net__on_swant(struct peer *p, const struct gossip_msg *m);
void net__on_offer(struct peer *p, const struct gossip_msg *m);
int net__set_fill(struct net *net);

/* mesh/overlay.c */
void net__unban(struct net *net, const char *addr);
void net__addr_revoked(struct net *net, struct net_addr *a);
void net__revoke_addrs(struct net *net);
int net__split(const char *addr, char host[AGAH_ADDR_MAX], char port[8]);
int net__wildcard(const char *host);
struct net_addr *net__addr_add(struct net *net, const char *addr, int kept);
int net__member_up(struct net *net, const uint8_t pk[AGAH_PK_LEN]);
void net__dial_some(struct net *net);
void net__on_tick(uv_timer_t *t);
void net__on_connection(uv_stream_t *server, int status);
void net__send_peers(struct net *net, struct peer *p);
void net__on_peers(struct peer *p, const struct gossip_msg *m);
void net__retry_pending(struct net *net);

/* mesh/net.c */
uint64_t net__now(const struct net *net);
int net__have(const struct net *net, const uint8_t id[AGAH_HASH_LEN]);
void net__maybe_done(struct net *net);

#endif

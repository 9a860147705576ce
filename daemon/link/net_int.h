/* Private to the network (link/ and mesh/): the state of a link (struct
 * peer), of the overlay (struct net) and the helpers their files share.
 * mesh/net.h is the public interface; nothing outside link/ and mesh/
 * includes this. link/ never calls a mesh/ function: what a link asks of
 * the mesh goes through struct link_ops, which mesh/net.c fills in. struct
 * peer still carries the mesh's per-link queues: the prototypes below say
 * which file owns what.
 *
 * agahd's network layer: the TCP listener and dialer, one struct peer per
 * link (handshake, encrypted frames, a dispatch table per message type),
 * Plumtree dissemination (eager RECORD to some links, lazy IHAVE to the
 * others), reconciliation on every new link and periodically (a
 * difference sketch, sketch.c, with Negentropy-style ranges, recon.c, as
 * the fallback), and a HyParView-style overlay (dialled addresses, a passive
 * view learned from PEERS, redials with backoff). Every queue and buffer is
 * bounded; a flood from one peer pauses that peer only.
 * proto/PROTOCOL.md ("Peer protocol") is the specification. */
#ifndef AGAH_NET_INT_H
#define AGAH_NET_INT_H

#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <uv.h>
#include "frame.h"
#include "gossip.h"
#include "handshake.h"
#include "idmap.h"
#include "log.h"
#include "netsecret.h"
#include "node.h"
#include "peeraddr.h"
#include "recon.h"
#include "sketch.h"
#include "slots.h"
#include "workmeter.h"

/* Connection slots (issue 24). Dials and accepted links are counted apart
 * so that outsiders filling the listener can never stop this node from
 * dialling its members; which accepted connection stays is slots.c's rule
 * (a small budget for those still in the handshake, the oldest giving way
 * to a new one; authenticated links never displaced). */
#define NET_OUT_MAX 16 /* dialled (or being resolved), reserved; 64 in all with SLOTS_IN_MAX */
#define NET_M1_MS 3000           /* an accepted connection's M1 must arrive by then */
#define NET_ACTIVE_DIAL 5        /* links we dial from the passive view */
#define NET_KEPT_MAX AGAH_LOCAL_MAX_PEERS /* --peer, join code, peer add */
#define NET_PASSIVE_MAX 30       /* learned from PEERS */
#define NET_ADDRS_MAX (NET_KEPT_MAX + NET_PASSIVE_MAX)
#define NET_PASSIVE_FAILS 4      /* a passive address failing this often is dropped */
#define NET_BACKOFF_MIN_MS 1000
#define NET_BACKOFF_MAX_MS 60000
#define NET_TICK_MS 1000
#define NET_PING_MS 30000
#define NET_IDLE_MS 90000
#define NET_RECON_MS 60000
#define NET_IHAVE_MS 25          /* IHAVE batching delay */
#define NET_GRAFT_MS 100         /* wait this long for an announced body */
#define NET_GRAFT_RETRY_MS 1000  /* then ask the next announcer after this */
#define NET_WQ_LOW (256u << 10)  /* resume reading / pushing below this */
#define NET_WQ_HIGH (1u << 20)   /* stop reading from a peer that does not read */
#define NET_WQ_HARD (8u << 20)   /* and drop it above this */
#define NET_PUSHQ_MAX 16384      /* ids waiting to be sent to one peer */
#define NET_WANTQ_MAX 65536      /* ids found missing, waiting to be asked for */
#define NET_ASK_WINDOW 4096      /* most bodies asked of one peer at a time */
#define NET_ASK_STALE_MS 10000   /* a peer silent this long owes us nothing */
#define NET_ASKSET_MAX 16384     /* ids and short ids remembered as asked of one peer */
#define NET_DRAIN_BATCH 256
#define NET_RATE 5000.0          /* records per second from one peer */
#define NET_BURST 10000.0
#define NET_IN_HS (2 * HS_MSG_MAX) /* input buffer before the handshake */
/* Most ids one RECON makes us OFFER: four ask windows, so the peer has the
 * next ids queued while it asks for a window's bodies (one window a round
 * halved a 100,000-record catch-up's speed: 4,051 against 7,929 records a
 * second in bench --only pair); the rest of the message's ranges is
 * answered as a fingerprint and settled on the next round, so a RECON of
 * a few bytes cannot make us send our whole set's ids (recon_cb.have_max),
 * and every id offered is charged to the peer's work budget. */
#define NET_OFFER_MAX (4 * NET_ASK_WINDOW)
_Static_assert(WORK_PK_LEN == AGAH_PK_LEN, "workmeter keys members by their public key");
#define NET_SELF_IN 8            /* accepted links to ourselves remembered */
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
/* Time spent on one peer's input before the loop turns: libuv calls
 * read_cb up to 32 times per turn for a socket that keeps having data, and
 * each call may carry 128 KiB of records, so without a bound one flooding
 * peer holds the loop for seconds while the control socket and the other
 * links wait (R4). The rest is handled from the peer's resume timer, 1 ms
 * on (a 0 ms timer re-armed from its own callback would run again in the
 * same turn with libuv 1.44). */
#define NET_TURN_NS (8u * 1000u * 1000u)
#define NET_TURN_MS 1
/* A message must arrive whole within this long once it has begun, so an
 * authenticated peer trickling a byte at a time cannot hold a link (and one
 * of the connection slots) forever; checked every tick. A 128 KiB frame
 * in 20 s needs 6.5 KiB/s, far below any link that carries agah. */
#define NET_PARTIAL_MS 20000

/* The verify queue is the mesh's (mesh/verify.h); a link sees only the
 * pointer. */
struct vq;
struct vq_item;

enum peer_state { PEER_CONNECTING, PEER_HANDSHAKE, PEER_UP, PEER_CLOSING };
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

struct peer {
    struct net *net;
    struct peer *prev, *next;
    uv_tcp_t tcp;
    uv_timer_t timer;  /* handshake deadline, then keepalive */
    uv_timer_t resume; /* resumes reading after a pause */
    uv_connect_t conn;
    int inited;        /* handles initialised, closed by peer__close */
    int closes_pending;
    int state;
    int dialer;
    int reading, paused_rate, paused_wq;
    int paused_vq; /* the verify queue is full */
    unsigned turn_records; /* records taken in this peer__process call */
    int eager;
    int recon_again;
    int sk_retry; /* a table that fails may be asked for again (once per start) */
    struct net_addr *addr; /* what we dialled, or NULL */
    uint64_t serial;
    char remote[AGAH_ADDR_MAX]; /* ip:port of the socket */
    char ip[48];
    /* The remote address as slots.c weighs it (per address, per prefix;
     * only 127.0.0.1 and ::1 exempt, not the rest of 127/8). */
    struct slot slot;
    int got_m1;      /* accepted: its M1 verified */
    uint64_t born;   /* when the connection was made */
    char listen[AGAH_ADDR_MAX]; /* what it advertised, "" if nothing */
    uint8_t pk[AGAH_PK_LEN];
    int role;
    struct hs *hs;
    unsigned hs_msgs;  /* handshake messages received so far */
    unsigned peers_msgs; /* PEERS messages received on this link */
    int hs_bound_dial; /* we dialled with M3 bound to the listener's key */
    struct frame_keys *keys;
    uint8_t *in;
    size_t in_len, in_cap;
    double tokens;
    uint64_t tokens_at, last_rx;
    /* Reconciliation work budget (workmeter.h, issue 24). */
    struct workmeter work;
    size_t offered; /* ids put in OFFER since the link came up */
    /* Frames queued and handed to the kernel on this link (libuv completes
     * a stream's writes in order), and how many had been queued when we
     * last answered a SKREQ: a SKREQ is answered only once that answer has
     * left, so one sketch exchange at most is in flight per peer. */
    uint64_t n_queued, n_written, skreq_mark;
    uint64_t partial_since; /* part of a message waits since then (0: none) */
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

/* What a link asks of the mesh above it. link/ carries bytes and keeps a
 * connection alive; what a link coming up, a message or a refused dial
 * means is the mesh's to decide. So link/ calls these, never a mesh/
 * function by name, and dependencies run one way (docs/ARCHITECTURE.md);
 * mesh/net.c fills the table in when the net starts. Every entry is set. */
struct link_ops {
    /* The link is up, its member admitted: send PEERS and, on a link we
     * dialled, start reconciliation. */
    void (*up)(struct peer *p);
    /* Start a reconciliation round that was put off while the link's
     * queues were busy (recon_again). */
    void (*recon)(struct peer *p);
    /* One decrypted message after the handshake: decode and handle it. */
    void (*message)(struct peer *p, const uint8_t *pt, size_t len);
    /* An address we dialled answered with a revoked member's key (a->pk
     * set): dial it no more. */
    void (*revoked)(struct net *net, struct net_addr *a);
    /* Whether a record is here or on its way in, so it is not asked for. */
    int (*have)(const struct net *net, const uint8_t id[AGAH_HASH_LEN]);
    /* Whether the mesh can take no more records for now (its verify queue
     * is full): the link then stops reading until the mesh resumes it. */
    int (*full)(const struct net *net);
    /* A link's memory is gone: the net may have finished closing. */
    void (*gone)(struct net *net);
};

struct net {
    uv_loop_t *loop;
    const struct link_ops *ops; /* the mesh, as links see it */
    struct node *node;
    uv_tcp_t listener;
    uv_timer_t tick, gossip;
    int listener_open, tick_open, gossip_open;
    int handles_pending;
    int closing, done_called;
    void (*done)(void *ctx);
    void *done_ctx;
    unsigned resolving;
    struct peer *peers;
    size_t n_peers, n_up;
    uint64_t next_serial;
    struct net_addr addrs[NET_ADDRS_MAX];
    char advertise[AGAH_ADDR_MAX]; /* our listen address as we tell peers */
    struct recon_set *set; /* refers to the node's ids (node_ref_id) */
    int set_failed;
    uint64_t set_gen; /* node_ref_gen when the set was filled */
    struct gossip_missing *missing;
    uint8_t *pt;  /* decrypted plaintext of the frame being handled */
    uint8_t *enc; /* plaintext being encoded for sending */
    uint64_t last_recon;
    /* Records from peers wait here while a worker thread checks their
     * signatures (verify.h); vq_busy while batches are out at shutdown. */
    struct vq *vq;
    int vq_busy;
    /* M1s answered within the handshake window, so none is answered twice. */
    struct hs_replay *replay;
    uint64_t hs_logged[2]; /* when a version, a clock mismatch was last logged */
    /* The remote ends of accepted links that presented our own key, newest
     * last: a dialled link that reaches our key is truly to ourselves only
     * if its local end is one of these (see peer__up). */
    struct {
        char addr[AGAH_ADDR_MAX];
        uint64_t at;
    } self_in[NET_SELF_IN];
    size_t n_self_in;
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

struct net_wreq {
    uv_write_t req;
    uv_buf_t buf;
    uint8_t data[];
};

/* link/peer_io.c */
size_t peer__wq(const struct peer *p);
int peer__send_raw(struct peer *p, const uint8_t *buf, size_t len);
int peer__send(struct peer *p, const uint8_t *pt, size_t len);
int peer__send_simple(struct peer *p, int type);
int peer__asked_take(struct peer *p, const uint8_t id[AGAH_HASH_LEN]);
void peer__asked_clear(struct peer *p);
int peer__send_ids(struct peer *p, int type, uint8_t (*ids)[AGAH_HASH_LEN], size_t *n);
int peer__send_record(struct peer *p, int type, const uint8_t *rec, size_t len);
void peer__push(struct peer *p, const uint8_t id[AGAH_HASH_LEN]);
void peer__drain(struct peer *p);
void peer__want_pump(struct peer *p);
void peer__update_reading(struct peer *p);
void peer__kick(struct peer *p);
void peer__charge(struct peer *p);
void peer__process(struct peer *p);

/* link/peer.c */
uint64_t net__now(const struct net *net);
void net__member_id(const uint8_t *pk, char out[AGAH_IDSTR_SIZE]);
void peer__up(struct peer *p);
void peer__close(struct peer *p, const char *why);
void peer__on_timer(uv_timer_t *t);
struct peer *peer__new(struct net *net, int dialer);
void peer__name(struct peer *p);
int peer__start_hs(struct peer *p);

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
int net__have(const struct net *net, const uint8_t id[AGAH_HASH_LEN]);
void net__maybe_done(struct net *net);

#endif

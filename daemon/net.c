/* agahd's network layer: the TCP listener and dialer, one struct peer per
 * link (handshake, encrypted frames, a dispatch table per message type),
 * Plumtree dissemination (eager RECORD to some links, lazy IHAVE to the
 * others), reconciliation on every new link and periodically (a
 * difference sketch, sketch.c, with Negentropy-style ranges, recon.c, as
 * the fallback), and a HyParView-style overlay (dialled addresses, a passive
 * view learned from PEERS, redials with backoff). Every queue and buffer is
 * bounded; a flood from one peer pauses that peer only.
 * proto/PROTOCOL.md ("Peer protocol") is the specification. */
#define _POSIX_C_SOURCE 200809L /* what uv.h needs */
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <uv.h>
#include "frame.h"
#include "gossip.h"
#include "handshake.h"
#include "idmap.h"
#include "log.h"
#include "net.h"
#include "netsecret.h"
#include "peeraddr.h"
#include "recon.h"
#include "sketch.h"
#include "slots.h"
#include "verify.h"
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
/* Most ids one RECON makes us OFFER: what the peer asks for at a time
 * (NET_ASK_WINDOW); the rest of its ranges is answered as a fingerprint
 * and settled on the next round, so a RECON of a few bytes cannot make us send
 * our whole set's ids (recon_cb.have_max). */
#define NET_OFFER_MAX NET_ASK_WINDOW
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

struct net {
    uv_loop_t *loop;
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
    struct peer *ingest_from;
    int ingest_fwd;
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

static void peer__close(struct peer *p, const char *why);
static void peer__process(struct peer *p);
static void peer__drain(struct peer *p);
static void net__maybe_done(struct net *net);
static void net__on_vq_done(void *ctx);
static void net__arm_gossip(struct net *net, uint64_t ms);
static void net__on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void net__on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);
static void peer__on_timer(uv_timer_t *t);
static struct peer *net__by_serial(struct net *net, uint64_t serial);
static void net__addr_revoked(struct net *net, struct net_addr *a);
static void net__retry_pending(struct net *net);

static uint64_t net__now(const struct net *net) { return uv_now(net->loop); }

/* A peer's member id as `agah members` and `agah peers` print it, so a
 * log line can be matched with them. */
static void net__member_id(const uint8_t *pk, char out[AGAH_IDSTR_SIZE])
{
    agah_id_encode(AGAH_IDPFX_MEMBER, pk, out);
}

/* Whether a record is here or on its way in: stored, or in the verify
 * queue. Anything asked for or announced is checked against both, so a
 * record being verified is not asked for again. */
static int net__have(const struct net *net, const uint8_t id[AGAH_HASH_LEN])
{
    return node_have(net->node, id) || vq_has(net->vq, id);
}

/* ------------------------------------------------------------------ */
/* Writing                                                             */

static size_t peer__wq(const struct peer *p)
{
    return uv_stream_get_write_queue_size((const uv_stream_t *)&p->tcp);
}

static void peer__kick(struct peer *p);

static void peer__on_write(uv_write_t *req, int status)
{
    struct peer *p = req->handle->data;

    free(req);
    p->n_written++;
    if (p->state == PEER_CLOSING)
        return;
    if (status < 0) {
        peer__close(p, uv_strerror(status));
        return;
    }
    if (peer__wq(p) <= NET_WQ_LOW) {
        if (p->paused_wq) {
            p->paused_wq = 0;
            peer__kick(p);
        }
        if (p->state == PEER_UP && p->pq_len > 0)
            peer__drain(p);
    }
}

/* Queues bytes as they are (handshake messages). A peer whose queue has
 * grown past NET_WQ_HARD has not read for a long time: it is dropped. */
static int peer__send_raw(struct peer *p, const uint8_t *buf, size_t len)
{
    struct net_wreq *w;
    int r;

    if (p->state == PEER_CLOSING)
        return AGAH_EIO;
    if (peer__wq(p) > NET_WQ_HARD) {
        peer__close(p, "does not read what it is sent");
        return AGAH_EIO;
    }
    w = malloc(sizeof *w + len);
    if (w == NULL)
        return AGAH_ENOMEM;
    memcpy(w->data, buf, len);
    w->buf = uv_buf_init((char *)w->data, (unsigned)len);
    if ((r = uv_write(&w->req, (uv_stream_t *)&p->tcp, &w->buf, 1, peer__on_write)) != 0) {
        free(w); /* the callback never runs when uv_write fails */
        peer__close(p, uv_strerror(r));
        return AGAH_EIO;
    }
    p->n_queued++;
    return 0;
}

/* Seals one plaintext message into a frame and queues it. */
static int peer__send(struct peer *p, const uint8_t *pt, size_t len)
{
    struct net_wreq *w;
    int r;

    if (p->state != PEER_UP)
        return AGAH_EIO;
    if (peer__wq(p) > NET_WQ_HARD) {
        peer__close(p, "does not read what it is sent");
        return AGAH_EIO;
    }
    if (len == 0 || len > FRAME_PT_MAX)
        return AGAH_ETOOBIG;
    w = malloc(sizeof *w + FRAME_HDR + len + FRAME_TAG);
    if (w == NULL)
        return AGAH_ENOMEM;
    if ((r = frame_seal(p->keys, pt, len, w->data)) != 0) {
        free(w);
        peer__close(p, "cannot seal a frame");
        return r;
    }
    w->buf = uv_buf_init((char *)w->data, (unsigned)(FRAME_HDR + len + FRAME_TAG));
    if ((r = uv_write(&w->req, (uv_stream_t *)&p->tcp, &w->buf, 1, peer__on_write)) != 0) {
        free(w);
        peer__close(p, uv_strerror(r));
        return AGAH_EIO;
    }
    p->n_queued++;
    return 0;
}

static int peer__send_simple(struct peer *p, int type)
{
    size_t n;
    int r = gossip_enc_simple(type, p->net->enc, FRAME_PT_MAX, &n);

    return r != 0 ? r : peer__send(p, p->net->enc, n);
}

/* The askset key of a short id under a salt; ids are BLAKE2b outputs, so
 * none is one of these in practice. */
static void net__short_key(const uint8_t salt[SKETCH_SALT_LEN], uint64_t sid,
                           uint8_t key[AGAH_HASH_LEN])
{
    memset(key, 0, AGAH_HASH_LEN);
    memcpy(key, salt, SKETCH_SALT_LEN);
    for (int i = 0; i < 8; i++)
        key[SKETCH_SALT_LEN + i] = (uint8_t)(sid >> (8 * i));
    key[AGAH_HASH_LEN - 1] = 0xa5;
}

/* Remembers a body asked of p. A full set only costs the peer its free
 * pass for that body (it is charged), never a request. */
static void peer__asked_add(struct peer *p, const uint8_t key[AGAH_HASH_LEN])
{
    (void)idmap_put(&p->askset, key, 0);
}

/* Whether a BODY with this id answers something we asked p for; if so it
 * is no longer owed. */
static int peer__asked_take(struct peer *p, const uint8_t id[AGAH_HASH_LEN])
{
    uint8_t key[AGAH_HASH_LEN];

    if (p->askset.n == 0)
        return 0;
    if (idmap_del(&p->askset, id))
        return 1;
    net__short_key(p->ssalt, sketch_short_id(p->ssalt, id), key);
    return idmap_del(&p->askset, key);
}

/* Nothing is owed any more: forget the asked set and its memory. */
static void peer__asked_clear(struct peer *p)
{
    p->asked = 0;
    idmap_free(&p->askset);
}

static int peer__send_ids(struct peer *p, int type, uint8_t (*ids)[AGAH_HASH_LEN], size_t *n)
{
    size_t len;
    int r;

    if (*n == 0)
        return 0;
    if (type == GOSSIP_WANT || type == GOSSIP_GRAFT) {
        p->asked += *n;
        p->asked_at = net__now(p->net);
        for (size_t i = 0; i < *n; i++)
            peer__asked_add(p, ids[i]);
    }
    r = gossip_enc_ids(type, (const uint8_t(*)[AGAH_HASH_LEN])ids, *n, p->net->enc,
                       FRAME_PT_MAX, &len);
    *n = 0;
    return r != 0 ? r : peer__send(p, p->net->enc, len);
}

static int peer__send_record(struct peer *p, int type, const uint8_t *rec, size_t len)
{
    size_t n;
    int r = gossip_enc_record(type, rec, len, p->net->enc, FRAME_PT_MAX, &n);

    return r != 0 ? r : peer__send(p, p->net->enc, n);
}

/* Ids to send as BODY when the link has room. A full queue drops the id
 * and asks for a reconciliation later, which finds it again. */
static void peer__push(struct peer *p, const uint8_t id[AGAH_HASH_LEN])
{
    if (p->pushq == NULL && (p->pushq = malloc(NET_PUSHQ_MAX * AGAH_HASH_LEN)) == NULL) {
        p->recon_again = 1;
        return;
    }
    if (p->pq_len == NET_PUSHQ_MAX) {
        p->recon_again = 1;
        return;
    }
    memcpy(p->pushq[(p->pq_head + p->pq_len) % NET_PUSHQ_MAX], id, AGAH_HASH_LEN);
    p->pq_len++;
}

static void net__recon_start(struct peer *p);

/* Sends queued bodies while the link keeps up; write callbacks continue. */
static void peer__drain(struct peer *p)
{
    struct net *net = p->net;
    int sent = 0;

    while (p->state == PEER_UP && p->pq_len > 0 && sent < NET_DRAIN_BATCH &&
           peer__wq(p) < NET_WQ_LOW) {
        uint8_t *buf = NULL;
        size_t len = 0;
        const uint8_t *id = p->pushq[p->pq_head];

        p->pq_head = (p->pq_head + 1) % NET_PUSHQ_MAX;
        p->pq_len--;
        if (node_get(net->node, id, &buf, &len) != 0)
            continue; /* pruned meanwhile */
        (void)peer__send_record(p, GOSSIP_BODY, buf, len);
        free(buf);
        sent++;
    }
    if (p->pq_len == 0 && p->pushq != NULL) {
        free(p->pushq); /* 512 KiB, allocated again on the next push */
        p->pushq = NULL;
        p->pq_head = 0;
    }
    if (p->state == PEER_UP && p->pq_len == 0 && p->wq_len == 0 && p->swq_len == 0 &&
        p->recon_again) {
        p->recon_again = 0;
        net__recon_start(p);
    }
}

/* Asks for queued missing ids while fewer than NET_ASK_WINDOW bodies are
 * outstanding, a WANT of up to GOSSIP_IDS_MAX ids at a time. */
static void peer__want_pump(struct peer *p)
{
    struct net *net = p->net;

    while (p->state == PEER_UP && p->wq_len > 0 &&
           p->asked + p->n_want < NET_ASK_WINDOW) {
        const uint8_t *id = p->wantq[p->wq_head];

        p->wq_head = (p->wq_head + 1) % NET_WANTQ_MAX;
        p->wq_len--;
        if (net__have(net, id))
            continue; /* arrived meanwhile by gossip */
        memcpy(p->want[p->n_want++], id, AGAH_HASH_LEN);
        if (p->n_want == GOSSIP_IDS_MAX)
            (void)peer__send_ids(p, GOSSIP_WANT, p->want, &p->n_want);
    }
    if (p->state == PEER_UP)
        (void)peer__send_ids(p, GOSSIP_WANT, p->want, &p->n_want);
    while (p->state == PEER_UP && p->swq_len > 0 && p->asked < NET_ASK_WINDOW) {
        uint64_t batch[SKETCH_SHORTS_MAX];
        size_t n = 0, len;

        while (n < SKETCH_SHORTS_MAX && p->swq_len > 0) {
            batch[n++] = p->swq[p->swq_head];
            p->swq_head = (p->swq_head + 1) % (SKETCH_K * SKETCH_Q_MAX);
            p->swq_len--;
        }
        if (sketch_enc_swant(p->ssalt, batch, n, net->enc, FRAME_PT_MAX, &len) != 0 ||
            peer__send(p, net->enc, len) != 0)
            break;
        p->asked += n;
        p->asked_at = net__now(net);
        for (size_t i = 0; i < n; i++) {
            uint8_t key[AGAH_HASH_LEN];

            net__short_key(p->ssalt, batch[i], key);
            peer__asked_add(p, key);
        }
    }
    /* An empty queue gives its memory back (2 MiB for the id ring): a
     * catch-up is rare, and a node holds a queue per peer. */
    if (p->wq_len == 0 && p->wantq != NULL) {
        free(p->wantq);
        p->wantq = NULL;
        p->wq_head = 0;
    }
    if (p->swq_len == 0 && p->swq != NULL) {
        free(p->swq);
        p->swq = NULL;
        p->swq_head = 0;
    }
    if (p->state == PEER_UP && p->pq_len == 0 && p->wq_len == 0 && p->swq_len == 0 &&
        p->recon_again)
        peer__drain(p); /* starts the reconciliation it asked for */
}

/* ------------------------------------------------------------------ */
/* Reading and flow control                                            */

static void peer__update_reading(struct peer *p)
{
    int want = (p->state == PEER_HANDSHAKE || p->state == PEER_UP) && !p->paused_rate &&
               !p->paused_wq && !p->paused_vq;

    if (want && !p->reading) {
        int r = uv_read_start((uv_stream_t *)&p->tcp, net__on_alloc, net__on_read);

        if (r != 0) {
            peer__close(p, uv_strerror(r));
            return;
        }
        p->reading = 1;
    } else if (!want && p->reading) {
        (void)uv_read_stop((uv_stream_t *)&p->tcp);
        p->reading = 0;
    }
}

static void peer__on_resume(uv_timer_t *t)
{
    struct peer *p = t->data;

    if (p->state == PEER_CLOSING)
        return;
    p->paused_rate = 0;
    /* Bytes that arrived before the pause are handled first. */
    peer__process(p);
    if (p->state != PEER_CLOSING)
        peer__update_reading(p);
}

/* Resumes a paused peer from its own timer, never synchronously: the
 * caller may be in the middle of handling another peer's frame. */
static void peer__kick(struct peer *p)
{
    if (p->paused_rate || p->state == PEER_CLOSING)
        return;
    if (uv_timer_start(&p->resume, peer__on_resume, 0, 0) != 0)
        peer__close(p, "cannot start a timer");
}

/* Token bucket on records received: a peer above NET_RATE is not read
 * from until its bucket refills, so it cannot take the loop from others. */
static void peer__charge(struct peer *p)
{
    uint64_t now = net__now(p->net);

    p->tokens += (double)(now - p->tokens_at) * NET_RATE / 1000.0;
    if (p->tokens > NET_BURST)
        p->tokens = NET_BURST;
    p->tokens_at = now;
    p->tokens -= 1.0;
    if (p->tokens < 0.0) {
        uint64_t ms = (uint64_t)((-p->tokens + NET_RATE / 20.0) * 1000.0 / NET_RATE) + 1;

        p->paused_rate = 1;
        if (uv_timer_start(&p->resume, peer__on_resume, ms, 0) != 0)
            peer__close(p, "cannot start a timer");
    }
}

static void net__on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct peer *p = h->data;

    (void)suggested;
    /* Reads land directly after the buffered bytes; whole frames are taken
     * out in peer__process, so the free space never runs out while the
     * frame being assembled is within the bound. */
    *buf = uv_buf_init((char *)p->in + p->in_len, (unsigned)(p->in_cap - p->in_len));
}

static void net__on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct peer *p = s->data;

    (void)buf; /* points into p->in, owned by the peer */
    if (p->state == PEER_CLOSING)
        return;
    if (nread < 0) {
        peer__close(p, nread == UV_EOF ? "closed by peer" : uv_strerror((int)nread));
        return;
    }
    if (nread == 0)
        return;
    p->in_len += (size_t)nread;
    p->last_rx = net__now(p->net);
    peer__process(p);
}

/* ------------------------------------------------------------------ */
/* Handshake                                                           */

static void net__on_stored(void *ctx, const struct agah_rec *rec);

static int net__verify(void *ctx, const uint8_t pk[AGAH_PK_LEN], const uint8_t *adm, size_t len)
{
    struct peer *p = ctx;
    struct net *net = p->net;
    struct agah_why why = {{0}};
    int r, role = 0;

    /* Ourselves: accepted here and recognised once up, so the dialling
     * side learns the address is its own and stops dialling it. */
    if (sodium_memcmp(pk, agah_identity_pk(node_identity(net->node)), AGAH_PK_LEN) == 0)
        return 0;
    /* Membership first, and the slot's record stored only if the link is
     * accepted: a refused link leaves nothing behind (node_admit_peer). */
    r = node_admit_peer(net->node, pk, adm, len, &role, &why);
    if (r != 0) {
        log_debug("peer %s: refused: %s", p->remote, why.msg[0] ? why.msg : agah_strerror(r));
        /* An address we dialled answers with a revoked key (learned before
         * we knew the key, or kept across a restart): dial it no more. */
        if (p->dialer && p->addr != NULL && node_member_status(net->node, pk, &role) == AGAH_EPERM) {
            p->addr->has_pk = 1;
            p->addr->pk_dialled = 0;
            memcpy(p->addr->pk, pk, AGAH_PK_LEN);
            net__addr_revoked(net, p->addr);
        }
        return r;
    }
    p->role = role;
    return 0;
}

static void net__send_peers(struct net *net, struct peer *p);

/* A peer with the same member key already holding an up link: keep the
 * link dialled by the smaller key (both ends decide alike), else the older. */
static int peer__dedupe(struct peer *p)
{
    const uint8_t *me = agah_identity_pk(node_identity(p->net->node));
    int me_first = memcmp(me, p->pk, AGAH_PK_LEN) < 0;

    for (struct peer *q = p->net->peers; q != NULL; q = q->next) {
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
 * is among those marks its address as ourselves, never to be dialled
 * again. Any other dialled link that reaches our key went through someone
 * who turned our connection back to our own listener (a reflection): the
 * address may well belong to a real peer, so it is only closed and
 * redialled with the usual backoff (issue 22, 3.3). */
static void net__reached_self(struct net *net, struct peer *p)
{
    struct sockaddr_storage ss;
    char local[AGAH_ADDR_MAX];
    int len = sizeof ss;
    uint64_t now = net__now(net);

    if (!p->dialer) {
        if (p->remote[0] == '\0')
            return;
        if (net->n_self_in == NET_SELF_IN) {
            memmove(&net->self_in[0], &net->self_in[1],
                    (NET_SELF_IN - 1) * sizeof net->self_in[0]);
            net->n_self_in--;
        }
        (void)snprintf(net->self_in[net->n_self_in].addr, AGAH_ADDR_MAX, "%s", p->remote);
        net->self_in[net->n_self_in++].at = now;
        return;
    }
    if (p->addr == NULL)
        return;
    if (uv_tcp_getsockname(&p->tcp, (struct sockaddr *)&ss, &len) != 0)
        return;
    net__fmt_addr(&ss, local);
    for (size_t i = 0; i < net->n_self_in && local[0] != '\0'; i++) {
        /* The accepted end finished the handshake before it sent M4, so
         * it is here by the time this end has read M4. */
        if (now - net->self_in[i].at <= HS_TIMEOUT_MS && strcmp(net->self_in[i].addr, local) == 0) {
            p->addr->self = 1;
            log_ident(LOG_INFO, "an address dialled is this node's own; not dialling it again",
                      "%s is this node's own address; not dialling it again", p->addr->addr);
            return;
        }
    }
    log_ident(LOG_WARN,
              "dialled an address and reached this node's own key through another host (a "
              "reflected connection?); it is not taken as this node's address",
              "dialled %s and reached this node's own key through another host (a reflected "
              "connection?); it is not taken as this node's address",
              p->addr->addr);
}

static void peer__up(struct peer *p)
{
    struct net *net = p->net;
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
    if (sodium_memcmp(p->pk, agah_identity_pk(node_identity(net->node)), AGAH_PK_LEN) == 0) {
        net__reached_self(net, p);
        peer__close(p, "it is this node");
        return;
    }
    if (p->addr != NULL) {
        p->addr->has_pk = 1;
        p->addr->pk_dialled = 1;
        memcpy(p->addr->pk, p->pk, AGAH_PK_LEN);
    }
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
    net->n_up++;
    if (peer__dedupe(p) != 0)
        return;
    /* No Nagle: a WANT or GRAFT is a small write right after another, and
     * Nagle would hold it until the peer's delayed ACK (up to 40 ms), which
     * stalls catch-up and gossip alike. Writes are already whole frames. */
    if (uv_tcp_nodelay(&p->tcp, 1) != 0)
        log_debug("peer %s: cannot set TCP_NODELAY", p->remote);
    if (p->addr != NULL)
        p->addr->fails = 0;
    p->eager = 1;
    p->tokens = NET_BURST;
    p->tokens_at = net__now(net);
    workmeter_init(&p->work, p->tokens_at);
    workmeter_restore(&net->work_kept, p->pk, &p->work, p->tokens_at);
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
    /* An invitation taken up: an organiser's node makes the admission
     * permanent, and the record spreads like any other. */
    if (node_peer_joined(net->node, p->pk) < 0)
        log_peer(LOG_WARN, p->remote, "cannot confirm its admission");
    net__send_peers(net, p);
    if (p->dialer)
        net__recon_start(p);
}

/* ------------------------------------------------------------------ */
/* Messages after the handshake: one handler per type                  */

/* Stores a record that agah_rec_decode gave `rc` for (0: decoded and its
 * signature verified), passing it on as if it had just arrived from
 * `from` (NULL: that link is gone), or logs why it was refused. */
static void net__ingest(struct net *net, struct peer *from, int fwd, int rc,
                        const struct agah_rec *rec, struct agah_why *why)
{
    if (rc == 0) {
        net->ingest_from = from;
        net->ingest_fwd = fwd;
        rc = node_ingest_decoded(net->node, rec, why);
        net->ingest_from = NULL;
        net->ingest_fwd = NET_FWD_EAGER;
    }
    if (rc < 0)
        log_debug("peer %s: record refused: %s", from != NULL ? from->remote : "(gone)",
                  why->msg[0] ? why->msg : agah_strerror(rc));
}

/* A record out of the verify queue. */
static void net__on_verified(void *ctx, const struct vq_item *it)
{
    struct net *net = ctx;
    struct agah_why why = it->why;

    net__ingest(net, net__by_serial(net, it->from), it->fwd, it->rc, &it->rec, &why);
}

/* The verify queue has room again: every peer it paused reads on. */
static void net__on_vq_drained(void *ctx)
{
    struct net *net = ctx;

    for (struct peer *q = net->peers; q != NULL; q = q->next) {
        if (q->paused_vq) {
            q->paused_vq = 0;
            peer__kick(q);
        }
    }
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
    struct net *net = p->net;
    struct agah_why why = {{0}};
    struct agah_rec rec;
    int r;

    if ((p->turn_records++ > 0 || vq_count(net->vq) > 0) &&
        vq_push(net->vq, m->rec, m->rec_len, id, p->serial, fwd) == 0)
        return;
    r = agah_rec_decode(m->rec, m->rec_len, node_community(net->node), &rec, &why);
    net__ingest(net, p, fwd, r, &rec, &why);
}

static void net__on_record(struct peer *p, const struct gossip_msg *m)
{
    struct net *net = p->net;
    uint8_t id[AGAH_HASH_LEN];

    peer__charge(p);
    agah_hash(m->rec, m->rec_len, id);
    if (net__have(net, id)) {
        /* A second eager copy: this link is redundant in the tree. */
        if (p->eager) {
            p->eager = 0;
            (void)peer__send_simple(p, GOSSIP_PRUNE);
        }
        return;
    }
    (void)gossip_missing_del(net->missing, id);
    net__forward_ingest(p, m, id, NET_FWD_EAGER);
}

static void net__on_body(struct peer *p, const struct gossip_msg *m)
{
    struct net *net = p->net;
    uint8_t id[AGAH_HASH_LEN];
    int grafted;

    /* A body we asked this peer for is not charged: the requests bound
     * it, and the limit would otherwise throttle our own catch-up. Any
     * other is, even while requests are outstanding. */
    agah_hash(m->rec, m->rec_len, id);
    if (peer__asked_take(p, id)) {
        if (p->asked > 0 && --p->asked == 0 && p->askset.n == 0)
            peer__asked_clear(p);
        p->asked_at = net__now(net);
        if ((p->wq_len > 0 || p->swq_len > 0) && p->asked + GOSSIP_IDS_MAX <= NET_ASK_WINDOW)
            peer__want_pump(p);
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

static void net__on_ihave(struct peer *p, const struct gossip_msg *m)
{
    struct net *net = p->net;
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

static void net__on_graft(struct peer *p, const struct gossip_msg *m)
{
    p->eager = 1;
    for (size_t i = 0; i < m->n_ids; i++)
        peer__push(p, gossip_id(m, i));
    peer__drain(p);
}

static void net__on_want(struct peer *p, const struct gossip_msg *m)
{
    for (size_t i = 0; i < m->n_ids; i++)
        peer__push(p, gossip_id(m, i));
    peer__drain(p);
}

static void net__on_prune(struct peer *p, const struct gossip_msg *m)
{
    (void)m;
    p->eager = 0;
}

static void net__on_ping(struct peer *p, const struct gossip_msg *m)
{
    (void)m;
    (void)peer__send_simple(p, GOSSIP_PONG);
}

static void net__on_pong(struct peer *p, const struct gossip_msg *m)
{
    (void)p;
    (void)m; /* last_rx is refreshed by every read */
}

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

static void net__recon_start(struct peer *p)
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

static void net__on_recon(struct peer *p, const struct gossip_msg *m)
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

static void net__on_skreq(struct peer *p, const struct gossip_msg *m)
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

static void net__on_sketch(struct peer *p, const struct gossip_msg *m)
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

static void net__on_swant(struct peer *p, const struct gossip_msg *m)
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
static void net__on_offer(struct peer *p, const struct gossip_msg *m)
{
    for (size_t i = 0; i < m->n_ids && p->state == PEER_UP; i++)
        net__recon_need(p, gossip_id(m, i));
    peer__want_pump(p);
}

static void net__on_peers(struct peer *p, const struct gossip_msg *m);

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

static void peer__dispatch(struct peer *p, const uint8_t *pt, size_t len)
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

/* An accepted connection's M1 verified: it holds K, so it gets the rest
 * of the handshake time (HS_TIMEOUT_MS from the connection), and is no
 * longer the first to be evicted for a newcomer. */
static int peer__m1_ok(struct peer *p)
{
    uint64_t spent = net__now(p->net) - p->born;
    uint64_t left = spent < HS_TIMEOUT_MS ? HS_TIMEOUT_MS - spent : 1;

    p->got_m1 = 1;
    if (uv_timer_start(&p->timer, peer__on_timer, left, 0) != 0) {
        peer__close(p, "cannot start a timer");
        return AGAH_EIO;
    }
    return 0;
}

/* Takes every whole message out of the input buffer, in order, until the
 * buffer runs dry, the link closes or the peer is paused. */
static void peer__process(struct peer *p)
{
    struct net *net = p->net;
    size_t off = 0;
    uint64_t start = uv_hrtime();

    p->turn_records = 0;

    while (p->state == PEER_HANDSHAKE || p->state == PEER_UP) {
        const uint8_t *buf = p->in + off;
        size_t avail = p->in_len - off, need, ct;
        int r;

        if (p->paused_rate || p->paused_wq || p->paused_vq)
            break;
        if (p->state == PEER_HANDSHAKE) {
            uint8_t out[HS_MSG_MAX];
            size_t outlen = 0;
            struct agah_why why = {{0}};

            r = hs_next_len(p->hs, buf, avail, &need);
            if (r == AGAH_ETRUNC)
                break;
            if (r != 0) {
                peer__close(p, "handshake message out of bounds");
                break;
            }
            if (avail < need)
                break;
            /* Nothing is sent on failure: an outsider learns nothing. */
            if ((r = hs_step(p->hs, buf, need, out, &outlen, &why)) != 0) {
                /* An old node, or a member whose clock is off, can never
                 * link: say so where an operator looks. At most once a
                 * minute, since a captured M1 replayed (a version 1 one, or
                 * one past the window) says the same. */
                uint64_t *last = r == AGAH_EVERSION   ? &net->hs_logged[0]
                                 : r == AGAH_EEXPIRED ? &net->hs_logged[1]
                                                      : NULL;

                if (last != NULL && (*last == 0 || net__now(net) - *last >= 60000)) {
                    *last = net__now(net);
                    log_peer(LOG_WARN, p->remote, "it %s", why.msg);
                } else {
                    log_debug("peer %s: handshake failed: %s", p->remote,
                              why.msg[0] ? why.msg : agah_strerror(r));
                }
                peer__close(p, "handshake failed");
                break;
            }
            off += need;
            p->hs_msgs++;
            if (!p->dialer && !p->got_m1 && peer__m1_ok(p) != 0)
                break;
            if (outlen > 0 && peer__send_raw(p, out, outlen) != 0)
                break;
            if (hs_done(p->hs))
                peer__up(p);
            continue;
        }
        if (avail < FRAME_HDR)
            break;
        if ((r = frame_peek(buf, &ct)) != 0) {
            peer__close(p, "frame length out of bounds");
            break;
        }
        if (avail < FRAME_HDR + ct)
            break;
        if (frame_open(p->keys, buf, FRAME_HDR + ct, net->pt, &need) != 0) {
            peer__close(p, "frame does not authenticate");
            break;
        }
        off += FRAME_HDR + ct;
        peer__dispatch(p, net->pt, need);
        if (p->state == PEER_UP && vq_full(net->vq)) {
            /* Records arrive faster than they are verified: hear no more
             * from anyone until the queue drains (net__on_vq_drained). */
            p->paused_vq = 1;
        }
        if (p->state == PEER_UP && peer__wq(p) > NET_WQ_HIGH) {
            /* It asks faster than it reads: hear no more until it drains. */
            p->paused_wq = 1;
        }
        /* Enough for this turn: the rest waits in p->in, reading stops, and
         * the resume timer picks it up after the other handles had theirs. */
        if (p->state == PEER_UP && !p->paused_rate && uv_hrtime() - start >= NET_TURN_NS) {
            p->paused_rate = 1;
            if (uv_timer_start(&p->resume, peer__on_resume, NET_TURN_MS, 0) != 0)
                peer__close(p, "cannot start a timer");
        }
    }
    if (p->state != PEER_CLOSING && off > 0) {
        memmove(p->in, p->in + off, p->in_len - off);
        p->in_len -= off;
    }
    /* The clock for a partial message runs only while we are reading and
     * restarts with every whole message: a pause of ours is not the
     * peer's delay. */
    if (p->in_len == 0 || p->paused_rate || p->paused_wq || p->paused_vq)
        p->partial_since = 0;
    else if (off > 0 || p->partial_since == 0)
        p->partial_since = net__now(net);
    /* No commit here: a record from a peer is acknowledged to no one, so
     * it waits for agahd's flush timer or node.c's batch bound rather than
     * paying an fsync per read. */
    if (p->state != PEER_CLOSING)
        peer__update_reading(p);
}

/* ------------------------------------------------------------------ */
/* Peer lifecycle                                                      */

static void peer__free(struct peer *p)
{
    idmap_free(&p->askset);
    hs_free(p->hs);
    frame_keys_free(p->keys);
    free(p->in);
    free(p->pushq);
    free(p->wantq);
    free(p->swq);
    free(p);
}

static void peer__on_close(uv_handle_t *h)
{
    struct peer *p = h->data;
    struct net *net = p->net;

    if (--p->closes_pending > 0)
        return;
    if (p->prev != NULL)
        p->prev->next = p->next;
    else
        net->peers = p->next;
    if (p->next != NULL)
        p->next->prev = p->prev;
    net->n_peers--;
    peer__free(p);
    net__maybe_done(net);
}

/* Idempotent: closes every handle of the peer; the memory goes in the
 * last close callback. A dialled address is scheduled for a redial. */
static void peer__close(struct peer *p, const char *why)
{
    struct net *net = p->net;

    if (p->state == PEER_CLOSING)
        return;
    if (p->state == PEER_UP) {
        net->n_up--;
        workmeter_keep(&net->work_kept, p->pk, &p->work, net__now(net));
        log_peer(LOG_INFO, p->remote, "down: %s", why);
    } else {
        log_debug("peer %s closed: %s", p->remote[0] ? p->remote : "(dialling)", why);
    }
    if (p->addr != NULL && p->state == PEER_HANDSHAKE && p->hs_bound_dial && p->hs_msgs == 0)
        p->addr->net_try++; /* no M2: try the next secret next time */
    p->state = PEER_CLOSING;
    if (p->addr != NULL) {
        struct net_addr *a = p->addr;
        uint64_t delay = NET_BACKOFF_MIN_MS;

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
        p->addr = NULL;
    }
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
    int role = 0, rc = node_member_status(p->net->node, p->pk, &role);

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

static void peer__on_timer(uv_timer_t *t)
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
    now = net__now(p->net);
    if (now - p->last_rx >= NET_IDLE_MS) {
        peer__close(p, "idle");
        return;
    }
    if (!net__still_member(p))
        return;
    (void)peer__send_simple(p, GOSSIP_PING);
}

/* A new peer with its handles initialised (and counted in net->peers). */
static struct peer *peer__new(struct net *net, int dialer)
{
    struct peer *p = calloc(1, sizeof *p);

    if (p == NULL)
        return NULL;
    p->net = net;
    p->dialer = dialer;
    p->serial = ++net->next_serial;
    p->state = PEER_CONNECTING;
    p->in_cap = NET_IN_HS;
    p->last_rx = p->born = net__now(net);
    idmap_init(&p->askset, NET_ASKSET_MAX);
    p->in = malloc(p->in_cap);
    if (p->in == NULL) {
        free(p);
        return NULL;
    }
    p->tcp.data = p->timer.data = p->resume.data = p;
    p->next = net->peers;
    if (net->peers != NULL)
        net->peers->prev = p;
    net->peers = p;
    net->n_peers++;
    if (uv_tcp_init(net->loop, &p->tcp) == 0)
        p->inited |= 1;
    if (uv_timer_init(net->loop, &p->timer) == 0)
        p->inited |= 2;
    if (uv_timer_init(net->loop, &p->resume) == 0)
        p->inited |= 4;
    /* An accepted connection must show it holds K soon (M1): an outsider's
     * silent socket holds a slot for NET_M1_MS at most. */
    if (p->inited != 7 ||
        uv_timer_start(&p->timer, peer__on_timer, dialer ? HS_TIMEOUT_MS : NET_M1_MS, 0) != 0) {
        if (p->inited == 0) {
            net->peers = p->next;
            if (p->next != NULL)
                p->next->prev = NULL;
            net->n_peers--;
            peer__free(p);
            return NULL;
        }
        peer__close(p, "cannot initialise handles");
        return NULL;
    }
    return p;
}

static void peer__name(struct peer *p)
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
static int peer__start_hs(struct peer *p)
{
    struct net *net = p->net;
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
    node_net_secrets(net->node, &ns);
    p->hs_bound_dial = p->dialer && p->addr != NULL && p->addr->has_pk && p->addr->pk_dialled;
    if (p->hs_bound_dial && ns.n > 0)
        k = p->addr->net_try % ns.n;
    if ((r = node_my_admission(net->node, &adm, &adm_len)) != 0 ||
        (r = hs_new(p->dialer, ns.s[k], node_identity(net->node), adm,
                    adm_len, net__verify, p, node_now(net->node), net->replay, &p->hs)) != 0 ||
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
        if (p->hs_bound_dial && hs_expect_server(p->hs, p->addr->pk) != 0)
            log_debug("peer %s: cannot bind M3 to its member key", p->remote);
        if ((r = hs_start(p->hs, m1)) != 0 || (r = peer__send_raw(p, m1, sizeof m1)) != 0) {
            peer__close(p, "cannot send M1");
            return r;
        }
    }
    peer__update_reading(p);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Revoked members' addresses (issue 22, 3.4)                          */

static int net__banned(const struct net *net, const char *addr)
{
    for (size_t i = 0; i < net->n_banned; i++)
        if (strcmp(net->banned[i], addr) == 0)
            return 1;
    return 0;
}

static void net__unban(struct net *net, const char *addr)
{
    for (size_t i = 0; i < net->n_banned; i++)
        if (strcmp(net->banned[i], addr) == 0)
            net->banned[i][0] = '\0';
}

/* The member last seen at `a` is revoked: the address is dialled no more
 * (a kept one stays listed, `agah peer add` dials it again), not passed on
 * in PEERS, and PEERS from others cannot bring it back. A revoked node
 * still holds K and would take every redial as far as M4, for ever. */
static void net__addr_revoked(struct net *net, struct net_addr *a)
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
static void net__revoke_addrs(struct net *net)
{
    for (size_t i = 0; i < NET_ADDRS_MAX; i++) {
        struct net_addr *a = &net->addrs[i];
        int role = 0;

        if (a->used && a->has_pk && !a->revoked &&
            node_member_status(net->node, a->pk, &role) == AGAH_EPERM)
            net__addr_revoked(net, a);
    }
}

/* ------------------------------------------------------------------ */
/* Gossip                                                              */

/* Every record stored (received, posted here, or released by the node
 * from its pending set) is passed on: eagerly as RECORD to eager links,
 * as an IHAVE id to lazy ones, never back to where it came from. */
static void net__on_stored(void *ctx, const struct agah_rec *rec)
{
    struct net *net = ctx;
    int r;

    if (net->closing)
        return;
    if (!net->set_failed && (r = recon_set_add_ref(net->set, rec->created,
                                                   node_id_ref(net->node, rec->id))) != 0) {
        log_error("reconciliation set: %s", agah_strerror(r));
        net->set_failed = 1;
    }
    for (struct peer *q = net->peers; q != NULL; q = q->next) {
        if (q == net->ingest_from || q->state != PEER_UP)
            continue;
        if (net->ingest_fwd == NET_FWD_EAGER && q->eager) {
            if (peer__wq(q) < NET_WQ_HIGH)
                (void)peer__send_record(q, GOSSIP_RECORD, rec->bytes, rec->len);
            else
                peer__push(q, rec->id);
            continue;
        }
        memcpy(q->ihave[q->n_ihave++], rec->id, AGAH_HASH_LEN);
        if (q->n_ihave == GOSSIP_IDS_MAX)
            (void)peer__send_ids(q, GOSSIP_IHAVE, q->ihave, &q->n_ihave);
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
        for (struct peer *q = net->peers; q != NULL; q = q->next) {
            int role = 0;

            if (q->state != PEER_UP)
                continue;
            if (node_member_status(net->node, q->pk, &role) == 0) {
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
    for (struct peer *q = net->peers; q != NULL; q = q->next)
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
    for (struct peer *q = net->peers; q != NULL; q = q->next) {
        if (q->state != PEER_UP)
            continue;
        /* IHAVE is a hint; a peer that is not reading goes without. */
        if (peer__wq(q) < NET_WQ_HIGH)
            (void)peer__send_ids(q, GOSSIP_IHAVE, q->ihave, &q->n_ihave);
        else
            q->n_ihave = 0;
    }
    while (gossip_missing_due(net->missing, now, now + NET_GRAFT_RETRY_MS, id, &serial)) {
        struct peer *q;

        if (net__have(net, id)) {
            (void)gossip_missing_del(net->missing, id);
            continue;
        }
        if ((q = net__by_serial(net, serial)) == NULL)
            continue;
        memcpy(q->graft[q->n_graft++], id, AGAH_HASH_LEN);
        q->eager = 1;
        if (q->n_graft == GOSSIP_IDS_MAX)
            (void)peer__send_ids(q, GOSSIP_GRAFT, q->graft, &q->n_graft);
    }
    for (struct peer *q = net->peers; q != NULL; q = q->next)
        if (q->state == PEER_UP)
            (void)peer__send_ids(q, GOSSIP_GRAFT, q->graft, &q->n_graft);
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
static int net__set_fill(struct net *net)
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

/* ------------------------------------------------------------------ */
/* Overlay                                                             */

/* An address's host (without brackets) and port, as getaddrinfo takes
 * them, by the one parser (include/agah/addr.h). */
static int net__split(const char *addr, char host[AGAH_ADDR_MAX], char port[8])
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
static int net__wildcard(const char *host)
{
    return strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0;
}

static int net__numeric(const char *addr) { return agah_addr_numeric(addr); }

static struct net_addr *net__addr_find(struct net *net, const char *addr)
{
    for (size_t i = 0; i < NET_ADDRS_MAX; i++)
        if (net->addrs[i].used && strcmp(net->addrs[i].addr, addr) == 0)
            return &net->addrs[i];
    return NULL;
}

/* Adds an address (kept: dialled always; else part of the passive view,
 * replacing an idle passive one at random when full). */
static struct net_addr *net__addr_add(struct net *net, const char *addr, int kept)
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

static int net__member_up(struct net *net, const uint8_t pk[AGAH_PK_LEN])
{
    for (struct peer *q = net->peers; q != NULL; q = q->next)
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

    for (struct peer *q = net->peers; q != NULL && n <= SLOTS_SCAN_MAX; q = q->next) {
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

    for (const struct peer *q = net->peers; q != NULL; q = q->next)
        if (q->dialer && q->state != PEER_CLOSING)
            n++;
    return n;
}

static void peer__on_connect(uv_connect_t *req, int status)
{
    struct peer *p = req->data;

    if (p->state == PEER_CLOSING)
        return;
    if (status < 0) {
        peer__close(p, uv_strerror(status));
        return;
    }
    peer__name(p);
    (void)peer__start_hs(p);
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
    p = peer__new(net, 1);
    if (p == NULL) {
        uv_freeaddrinfo(res);
        a->next_try = net__now(net) + NET_BACKOFF_MIN_MS;
        return;
    }
    p->addr = a;
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
    if ((r = uv_getaddrinfo(net->loop, &rs->req, net__on_resolved, host, port, &hints)) != 0) {
        free(rs);
        a->next_try = net__now(net) + NET_BACKOFF_MAX_MS;
        return;
    }
    a->resolving = 1;
    net->resolving++;
}

/* Keeps the active view filled: every kept address, and passive ones
 * while fewer than NET_ACTIVE_DIAL dialled links are up. */
static void net__dial_some(struct net *net)
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

static void net__on_tick(uv_timer_t *t)
{
    struct net *net = t->data;
    uint64_t now = net__now(net);

    if (net->closing)
        return;
    net__dial_some(net);
    (void)gossip_missing_release(net->missing); /* once nothing is missing */
    for (struct peer *q = net->peers; q != NULL; q = q->next) {
        if (q->state != PEER_UP)
            continue;
        /* peer__close only starts closing; q->next stays valid. */
        if (q->partial_since != 0 && now - q->partial_since >= NET_PARTIAL_MS) {
            peer__close(q, "a message took over 20 s to arrive");
            continue;
        }
        /* Bodies asked for that never came (the peer pruned them, or
         * will not answer) must not hold the window shut for ever. */
        if (q->asked > 0 && now - q->asked_at >= NET_ASK_STALE_MS) {
            peer__asked_clear(q);
            peer__want_pump(q);
        }
        if (q->state == PEER_UP && q->recon_again && q->pq_len == 0 && q->wq_len == 0 &&
            q->swq_len == 0)
            peer__drain(q); /* starts the reconciliation it asked for */
    }
    if (net->n_up > 0 && now - net->last_recon >= NET_RECON_MS) {
        uint32_t pick = randombytes_uniform((uint32_t)net->n_up), k = 0;

        net->last_recon = now;
        /* Pruning removes records behind our back: resync when the counts
         * disagree. */
        if (node_record_count(net->node) != recon_set_size(net->set))
            (void)net__set_fill(net);
        for (struct peer *q = net->peers; q != NULL; q = q->next)
            if (q->state == PEER_UP && k++ == pick) {
                net__recon_start(q);
                break;
            }
    }
}

static void net__on_connection(uv_stream_t *server, int status)
{
    struct net *net = server->data;
    struct peer *p;

    if (status < 0 || net->closing)
        return;
    p = peer__new(net, 0);
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
    (void)peer__start_hs(p);
}

/* PEERS: our own listen address, signed now, and the signed statements of
 * other members we hold, still valid, up to GOSSIP_PEERS_MAX in all. An
 * address we know only unsigned (--peer, a join code, a wildcard listener)
 * is not passed on: its receiver could not check it. */
static void net__send_peers(struct net *net, struct peer *p)
{
    struct peeraddr list[GOSSIP_PEERS_MAX];
    uint64_t now = node_now(net->node);
    size_t n = 0, len;

    if (net->advertise[0] != '\0' &&
        peeraddr_sign(node_identity(net->node), node_community(net->node), net->advertise,
                      now + PEERADDR_TTL_S, &list[n]) == 0)
        n++;
    for (size_t i = 0; i < NET_ADDRS_MAX && n < GOSSIP_PEERS_MAX; i++) {
        struct net_addr *a = &net->addrs[i];
        int role = 0;

        if (!a->used || a->self || a->revoked || !a->has_pk || a->ann_expires <= now ||
            memcmp(a->pk, p->pk, AGAH_PK_LEN) == 0 ||
            node_member_status(net->node, a->pk, &role) != 0)
            continue;
        memset(&list[n], 0, sizeof list[n]);
        (void)snprintf(list[n].addr, sizeof list[n].addr, "%s", a->addr);
        memcpy(list[n].pk, a->pk, AGAH_PK_LEN);
        list[n].expires = a->ann_expires;
        memcpy(list[n].sig, a->ann_sig, AGAH_SIG_LEN);
        n++;
    }
    if (gossip_enc_peers(list, n, net->enc, FRAME_PT_MAX, &len) == 0)
        (void)peer__send(p, net->enc, len);
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
    if ((r = peeraddr_verify(e, node_community(net->node), node_now(net->node))) != 0) {
        log_debug("peer %s: PEERS entry %s of %s refused: %s", from, e->addr, who,
                  agah_strerror(r));
        return 0;
    }
    if ((r = node_member_status(net->node, e->pk, &role)) != 0) {
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
    if (sodium_memcmp(e->pk, agah_identity_pk(node_identity(net->node)), AGAH_PK_LEN) == 0 ||
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
    if (!net__numeric(addr) || !gossip_addr_ok(addr, strlen(addr)) ||
        strcmp(addr, net->advertise) == 0)
        return 0;
    if (own) {
        (void)snprintf(p->listen, sizeof p->listen, "%s", addr);
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

static void net__on_peers(struct peer *p, const struct gossip_msg *m)
{
    size_t taken = 0;

    /* One PEERS per link (each side sends one when the link comes up): a
     * member sending more would make this node churn its address table
     * and dial whatever it names, again and again. */
    if (p->peers_msgs++ > 0) {
        log_debug("peer %s: a PEERS message after the first on this link; ignored", p->remote);
        return;
    }
    for (size_t i = 0; i < m->n_entries && taken < NET_PEERS_TAKE; i++) {
        struct peeraddr e;

        if (peeraddr_parse(&m->entries[i], &e, NULL) == 0)
            taken += (size_t)net__take_entry(p->net, p, &e);
    }
}

/* An admission arrived: entries kept for want of their key are taken now
 * if it is theirs (or dropped if their key turned out revoked). */
static void net__retry_pending(struct net *net)
{
    size_t n = net->n_pend;
    int role = 0;

    if (n == 0)
        return;
    net->n_pend = 0;
    for (size_t i = 0; i < n; i++) {
        struct peeraddr e = net->pend[i];

        if (node_member_status(net->node, e.pk, &role) == AGAH_ENOENT) {
            net->pend[net->n_pend++] = e; /* still unknown: kept */
            continue;
        }
        (void)net__take_entry(net, NULL, &e);
    }
    net->pend_next = net->n_pend % NET_PEND_MAX;
}

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

static void net__maybe_done(struct net *net)
{
    if (!net->closing || net->done_called || net->handles_pending > 0 || net->peers != NULL ||
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

    if (net__split(listen, host, port) != 0 || !gossip_addr_ok(listen, strlen(listen)))
        return agah_fail(why, AGAH_EINVAL, "listen address %s is not HOST:PORT", listen);
    p = (int)strtol(port, &end, 10);
    if (*end != '\0' || p < 0 || p > 65535)
        return agah_fail(why, AGAH_EINVAL, "listen port %s is not a port", port);
    if (strcmp(host, "localhost") == 0)
        (void)snprintf(host, sizeof host, "127.0.0.1");
    if (uv_ip4_addr(host, p, (struct sockaddr_in *)&ss) != 0 &&
        uv_ip6_addr(host, p, (struct sockaddr_in6 *)&ss) != 0)
        return agah_fail(why, AGAH_EINVAL, "listen host %s is not a numeric IP address", host);
    if ((r = uv_tcp_init(net->loop, &net->listener)) != 0)
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
    if (!net__wildcard(host) && (r = node_set_listen_addr(net->node, net->advertise)) != 0)
        log_warn("join codes will not name this node's address: %s", agah_strerror(r));
    return 0;
}

static void net__known_cb(void *ctx, const char *addr)
{
    struct net *net = ctx;

    if (gossip_addr_ok(addr, strlen(addr)) && net__addr_add(net, addr, 1) == NULL)
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
    net->loop = loop;
    net->node = node;
    net->ingest_fwd = NET_FWD_EAGER;
    net->pt = malloc(FRAME_PT_MAX);
    net->enc = malloc(FRAME_PT_MAX);
    if (net->pt == NULL || net->enc == NULL ||
        recon_set_new_ext(&net->set, node_ref_id, net->node) != 0 ||
        gossip_missing_new(&net->missing) != 0 || hs_replay_new(&net->replay) != 0) {
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
        if (!gossip_addr_ok(cfg->peers[i], strlen(cfg->peers[i]))) {
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
    for (q = net->peers; q != NULL; q = next) {
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
    hs_replay_free(net->replay);
    free(net->pt);
    free(net->enc);
    free(net);
}

int net_peer_add(struct net *net, const char *addr, struct agah_why *why)
{
    struct net_addr *a;
    int r;

    if (net->closing)
        return agah_fail(why, AGAH_EINVAL, "the network is shutting down");
    if (addr == NULL || !gossip_addr_ok(addr, strlen(addr)))
        return agah_fail(why, AGAH_EINVAL, "%s is not HOST:PORT", addr ? addr : "(null)");
    if ((r = node_peer_remember(net->node, addr)) != 0)
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
    for (struct peer *q = net->peers; q != NULL; q = q->next) {
        int known = 0;

        if (q->state != PEER_UP)
            continue;
        for (size_t i = 0; i < NET_ADDRS_MAX && !known; i++)
            known = net->addrs[i].used && !net->addrs[i].self && net->addrs[i].has_pk &&
                    memcmp(net->addrs[i].pk, q->pk, AGAH_PK_LEN) == 0;
        if (!known)
            cb(ctx, q->listen[0] ? q->listen : q->remote, q->pk, 1);
    }
    return 0;
}

size_t net_connected(const struct net *net)
{
    return net->n_up;
}

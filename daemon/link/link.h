/* Layer link/: one TCP connection to a peer (struct peer: its socket and
 * timers, the handshake, frame keys, input buffer, token bucket, deadlines
 * and connection slot) and what all links share (struct links). It speaks
 * wire/ and asks node/ who may link; it knows nothing of the overlay.
 *
 * What a link asks of the layer above goes through struct link_ops, never
 * a mesh/ function by name, and no field here belongs to the mesh: the mesh
 * hangs its per-link state around the link (it allocates a larger block
 * with a struct peer inside, link_ops.alloc, and frees it, link_ops.gone),
 * so link/ includes no mesh header and dependencies run one way
 * (docs/ARCHITECTURE.md). proto/PROTOCOL.md ("Peer protocol") is the
 * specification. */
#ifndef AGAH_LINK_H
#define AGAH_LINK_H

#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <uv.h>
#include "frame.h"
#include "gossip.h"
#include "handshake.h"
#include "log.h"
#include "netsecret.h"
#include "node.h"
#include "slots.h"

#define NET_M1_MS 3000           /* an accepted connection's M1 must arrive by then */
#define NET_PING_MS 30000
#define NET_IDLE_MS 90000
#define NET_WQ_LOW (256u << 10)  /* resume reading / pushing below this */
#define NET_WQ_HIGH (1u << 20)   /* stop reading from a peer that does not read */
#define NET_WQ_HARD (8u << 20)   /* and drop it above this */
#define NET_RATE 5000.0          /* records per second from one peer */
#define NET_BURST 10000.0
#define NET_IN_HS (2 * HS_MSG_MAX) /* input buffer before the handshake */
#define NET_SELF_IN 8            /* accepted links to ourselves remembered */
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

/* How a finished handshake that reached a key ends for the address we
 * dialled (link_ops.reached). */
enum link_reached {
    LINK_REACHED_PEER,      /* another member's node */
    LINK_REACHED_SELF,      /* proven to be this node: both ends are here */
    LINK_REACHED_REFLECTED, /* our key, through another host */
};

struct links;

/* One link. Its memory belongs to the layer above (link_ops.alloc and
 * link_ops.gone); everything here is the link's own and filled in by
 * link/, but for `remote`, which the mesh sets to the address it dials
 * until the socket can name its end. */
struct peer {
    struct links *links;
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
    int paused_vq; /* the mesh can take no more records (link_ops.full) */
    /* peer__process calls so far: what reached the mesh in one call came
     * in one read (or one resume). */
    uint64_t turn;
    uint64_t serial;
    char remote[AGAH_ADDR_MAX]; /* ip:port of the socket */
    char ip[48];
    /* The remote address as slots.c weighs it (per address, per prefix;
     * only 127.0.0.1 and ::1 exempt, not the rest of 127/8). */
    struct slot slot;
    int got_m1;      /* accepted: its M1 verified */
    uint64_t born;   /* when the connection was made */
    uint8_t pk[AGAH_PK_LEN];
    int role;
    struct hs *hs;
    unsigned hs_msgs;  /* handshake messages received so far */
    int hs_bound_dial; /* we dialled with M3 bound to the listener's key */
    struct frame_keys *keys;
    uint8_t *in;
    size_t in_len, in_cap;
    double tokens;
    uint64_t tokens_at, last_rx;
    /* Frames queued and handed to the kernel on this link (libuv completes
     * a stream's writes in order): the mesh compares the two to know
     * whether an answer has left. */
    uint64_t n_queued, n_written;
    uint64_t partial_since; /* part of a message waits since then (0: none) */
};

/* What a link asks of the layer above (the mesh). link/ carries bytes and
 * keeps a connection alive; what a link coming up, a message or a refused
 * dial means is the mesh's to decide. So link/ calls these, never a mesh/
 * function by name, and dependencies run one way (docs/ARCHITECTURE.md);
 * mesh/net.c fills the table in when the net starts. Every entry is set. */
struct link_ops {
    /* Zeroed memory for a new link: the mesh's per-link state with a
     * struct peer inside, which link/ fills in. NULL when out of memory. */
    struct peer *(*alloc)(void);
    /* A link we dialled answered with a revoked member's key: dial its
     * address no more. */
    void (*revoked)(struct peer *p, const uint8_t pk[AGAH_PK_LEN]);
    /* The handshake finished and p->pk is set: what the link reached. On
     * LINK_REACHED_SELF and LINK_REACHED_REFLECTED the link closes next. */
    void (*reached)(struct peer *p, enum link_reached how);
    /* The link is up, its member admitted: send PEERS and, on a link we
     * dialled, start reconciliation. */
    void (*up)(struct peer *p);
    /* One decrypted message after the handshake: decode and handle it. */
    void (*message)(struct peer *p, const uint8_t *pt, size_t len);
    /* Whether the mesh can take no more records for now (its verify queue
     * is full): the link then stops reading until the mesh resumes it. */
    int (*full)(struct links *l);
    /* An up link's write queue fell to NET_WQ_LOW: queued bodies may go. */
    void (*writable)(struct peer *p);
    /* The link starts closing (p->state still says what it was). */
    void (*down)(struct peer *p);
    /* The link's handles are closed, it has left l->peers and its own
     * memory is freed: the mesh frees its state and the block, and may
     * have finished closing. */
    void (*gone)(struct peer *p);
};

/* Every link of this node and what they share. The mesh's struct net
 * holds one. */
struct links {
    uv_loop_t *loop;
    const struct link_ops *ops; /* the mesh, as links see it */
    struct node *node;
    struct peer *peers;
    size_t n_peers, n_up;
    uint64_t next_serial;
    uint8_t *pt;  /* decrypted plaintext of the frame being handled */
    uint8_t *enc; /* plaintext being encoded for sending */
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
};

struct net_wreq {
    uv_write_t req;
    uv_buf_t buf;
    uint8_t data[];
};

/* link/peer.c */
int links__init(struct links *l, uv_loop_t *loop, struct node *node,
                const struct link_ops *ops);
void links__free(struct links *l);
uint64_t links__now(const struct links *l);
void net__member_id(const uint8_t *pk, char out[AGAH_IDSTR_SIZE]);
void peer__close(struct peer *p, const char *why);
struct peer *peer__new(struct links *l, int dialer);
void peer__name(struct peer *p);
/* bind_pk: the member a dial is bound to (only its node can read our M3),
 * NULL for none; secret_try picks which of the network secrets it uses. */
int peer__start_hs(struct peer *p, const uint8_t *bind_pk, unsigned secret_try);
/* Between link/'s own files. */
void peer__up(struct peer *p);
void peer__on_timer(uv_timer_t *t);

/* link/peer_io.c */
size_t peer__wq(const struct peer *p);
int peer__send_raw(struct peer *p, const uint8_t *buf, size_t len);
int peer__send(struct peer *p, const uint8_t *pt, size_t len);
int peer__send_simple(struct peer *p, int type);
int peer__send_record(struct peer *p, int type, const uint8_t *rec, size_t len);
void peer__resume_vq(struct peer *p);
void peer__charge(struct peer *p);
void peer__process(struct peer *p);
void peer__update_reading(struct peer *p);

#endif

/* What the files of daemon/control/ share and nothing else sees: the
 * server's and a client's state, the response buffer and its packing
 * helpers (result.c), the senders (server.c), the request parser
 * (request.c) and one handler per command (alerts.c, members.c,
 * network.c). daemon/control.h stays the interface for main.c. */
#ifndef AGAH_CONTROL_INT_H
#define AGAH_CONTROL_INT_H

#include <stddef.h>
#include <stdint.h>
#include <msgpack.h>
#include <uv.h>
#include <agah/ctl.h>
#include <agah/datadir.h>
#include "control.h"

struct control_client {
    struct control *ctl;
    struct control_client *prev, *next;
    uv_pipe_t pipe;
    uv_shutdown_t shut;
    int closing;     /* uv_close called */
    int finishing;   /* shutdown pending: close once the output is flushed */
    int paused;      /* reading stopped for backpressure */
    int watching;
    uint64_t stall_since; /* loop time the queue was first seen stuck, 0 = not */
    size_t rlen;
    /* One whole request (length prefix and body) fits; alloc_cb hands out
     * the free tail of this buffer, so reads never allocate. */
    uint8_t rbuf[4 + AGAH_CTL_REQ_MAX];
};

struct control {
    uv_loop_t *loop;
    struct node *node;
    struct net *net;
    uv_pipe_t pipe;
    uv_timer_t sweep;
    char path[AGAH_PATH_MAX];
    struct control_client *clients;
    size_t n_clients;
    size_t n_watchers;
    uint64_t refused;         /* connections refused at the cap, ever */
    uint64_t refused_logged;  /* how many of them the log has reported */
    uint64_t refused_log_at;  /* loop time of that report */
    int handles;   /* initialised handles not yet through their close_cb */
    int bound;     /* the socket file is ours to remove */
    int sweep_open;
    int closing;
    int done_called;
    int self_free; /* control_start failed: free in the last close_cb */
    void (*done)(void *ctx);
    void *done_ctx;
};

/* One queued write: request, buffer and bytes in one allocation, freed in
 * the write callback whatever its status. data = 4-byte length + body. */
struct wreq {
    uv_write_t req;
    uv_buf_t buf;
    uint8_t data[];
};

/* A response being packed: msgpack writes straight into a growing wreq, so
 * sending needs no copy; packing fails once the body would exceed
 * AGAH_CTL_RESP_MAX, before the memory is spent. */
struct control_out {
    struct wreq *w;
    size_t len, cap; /* body bytes used and available after the prefix */
    int err;         /* 0 or the first AGAH_E* met */
    msgpack_packer pk;
};

/* --- result.c: packing a response --- */

void co_init(struct control_out *o);
void co_free(struct control_out *o);
/* Each records the first failure in o->err; the sender checks it once. */
void co_check(struct control_out *o, int r);
void co_map(struct control_out *o, size_t n);
void co_array(struct control_out *o, size_t n);
void co_strn(struct control_out *o, const char *s, size_t n);
void co_str(struct control_out *o, const char *s);
void co_uint(struct control_out *o, uint64_t v);
void co_bool(struct control_out *o, int v);
void co_nil(struct control_out *o);
void co_kstr(struct control_out *o, const char *k, const char *v);
void co_kuint(struct control_out *o, const char *k, uint64_t v);
/* The envelope before a value: "result" (event 0) or "event" (event 1). */
void co_head(struct control_out *o, int event);
void co_ok(struct control_out *o);
void co_alert(struct control_out *o, const struct node_alert *a);
void co_member(struct control_out *o, const struct node_member *m);
/* "name" of an enum, or "unknown" so a response never carries NULL. */
const char *control__nz(const char *s);

/* --- server.c: answering a client --- */

/* Sends a packed response (o->w is handed over), or an error response if
 * packing failed. */
void control__send(struct control_client *cl, struct control_out *o);
void control__send_error(struct control_client *cl, int exit_code, const char *msg);
/* A node/net failure: exit code by kind, message from `why` or the code. */
void control__fail(struct control_client *cl, int err, const struct agah_why *why);

/* --- the handlers, one per command (server.c's dispatch table) --- */

typedef void (*control_handler)(struct control_client *cl, const struct control_req *r);

/* alerts.c */
void control__h_post(struct control_client *cl, const struct control_req *r);
void control__h_check(struct control_client *cl, const struct control_req *r);
void control__h_list(struct control_client *cl, const struct control_req *r);
void control__h_show(struct control_client *cl, const struct control_req *r);
void control__h_confirm(struct control_client *cl, const struct control_req *r);
void control__h_retract(struct control_client *cl, const struct control_req *r);
void control__h_watch(struct control_client *cl, const struct control_req *r);
/* members.c */
void control__h_invite(struct control_client *cl, const struct control_req *r);
void control__h_revoke(struct control_client *cl, const struct control_req *r);
void control__h_members(struct control_client *cl, const struct control_req *r);
/* network.c */
void control__h_status(struct control_client *cl, const struct control_req *r);
void control__h_peers(struct control_client *cl, const struct control_req *r);
void control__h_peer_add(struct control_client *cl, const struct control_req *r);

#endif

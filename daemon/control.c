/* The control socket server: a uv_pipe_t listening on DATA_DIR/agahd.sock,
 * one small state machine per connected CLI, a request parser driven by a
 * dispatch table of commands and their argument schemas, and the handlers
 * that turn node.h / net.h answers into the result shapes of CONTRACT.md.
 * The socket is reachable by the local user only (0600 in a 0700 dir, and
 * a client of another uid is closed at once), but every request is still
 * treated as untrusted bytes. */
#define _POSIX_C_SOURCE 200809L /* lstat, S_ISSOCK, and what uv.h needs */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <sodium.h>
#include <agah/datadir.h>
#include <agah/mp.h>
#include "control.h"
#include "log.h"

/* Stop reading a client's requests while more than this many response
 * bytes wait to be written, so a client that sends but never reads cannot
 * grow our memory; resume below the low mark. */
#define CONTROL_WQ_HIGH (1u << 20)
#define CONTROL_WQ_LOW (256u << 10)
/* A client whose queue still grows past this (a `watch` client that stopped
 * reading while alerts keep arriving) is disconnected. */
#define CONTROL_WQ_KILL (64u << 20)
/* A client whose queued output makes no progress for this long is dropped. */
#define CONTROL_STALL_MS 60000
#define CONTROL_SWEEP_MS 5000

/* ------------------------------------------------------------------ */
/* State                                                                */

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
    uint8_t rbuf[4 + CONTROL_REQ_MAX];
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
 * CONTROL_RESP_MAX, before the memory is spent. */
struct out {
    struct wreq *w;
    size_t len, cap; /* body bytes used and available after the prefix */
    int err;         /* 0 or the first AGAH_E* met */
    msgpack_packer pk;
};

/* ------------------------------------------------------------------ */
/* Response packing                                                     */

static int out_write(void *data, const char *buf, size_t len)
{
    struct out *o = data;

    if (o->err != 0)
        return -1;
    if (len > CONTROL_RESP_MAX - o->len) {
        o->err = AGAH_ETOOBIG;
        return -1;
    }
    if (len > o->cap - o->len) {
        size_t cap = o->cap < 256 ? 256 : o->cap;
        while (cap - o->len < len)
            cap *= 2;
        if (cap > CONTROL_RESP_MAX)
            cap = CONTROL_RESP_MAX;
        struct wreq *w = realloc(o->w, sizeof *w + 4 + cap);
        if (w == NULL) {
            o->err = AGAH_ENOMEM;
            return -1;
        }
        o->w = w;
        o->cap = cap;
    }
    memcpy(o->w->data + 4 + o->len, buf, len);
    o->len += len;
    return 0;
}

static void out_init(struct out *o)
{
    memset(o, 0, sizeof *o);
    msgpack_packer_init(&o->pk, o, out_write);
}

static void out_free(struct out *o)
{
    free(o->w);
    o->w = NULL;
}

/* Each helper records the first failure in o->err; the sender checks it
 * once, so a handler can pack a whole result without a branch per field. */
static void o_check(struct out *o, int r)
{
    if (r != 0 && o->err == 0)
        o->err = AGAH_ENOMEM;
}
static void o_map(struct out *o, size_t n)
{
    o_check(o, n > UINT32_MAX ? -1 : msgpack_pack_map(&o->pk, (uint32_t)n));
}
static void o_array(struct out *o, size_t n)
{
    o_check(o, n > UINT32_MAX ? -1 : msgpack_pack_array(&o->pk, n));
}
static void o_strn(struct out *o, const char *s, size_t n)
{
    o_check(o, msgpack_pack_str(&o->pk, n));
    o_check(o, msgpack_pack_str_body(&o->pk, s, n));
}
static void o_str(struct out *o, const char *s) { o_strn(o, s, strlen(s)); }
static void o_uint(struct out *o, uint64_t v) { o_check(o, msgpack_pack_uint64(&o->pk, v)); }
static void o_bool(struct out *o, int v)
{
    o_check(o, v ? msgpack_pack_true(&o->pk) : msgpack_pack_false(&o->pk));
}
static void o_nil(struct out *o) { o_check(o, msgpack_pack_nil(&o->pk)); }
static void o_kstr(struct out *o, const char *k, const char *v) { o_str(o, k); o_str(o, v); }
static void o_kuint(struct out *o, const char *k, uint64_t v) { o_str(o, k); o_uint(o, v); }

static void hex_encode(const uint8_t *b, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 15];
    }
    out[2 * n] = '\0';
}

/* "name" of an enum, or "unknown" so a response never carries NULL. */
static const char *nz(const char *s) { return s != NULL ? s : "unknown"; }

static const char *status_name(int st)
{
    switch (st) {
    case NODE_ACTIVE: return "active";
    case NODE_RETRACTED: return "retracted";
    case NODE_EXPIRED: return "expired";
    default: return "unknown";
    }
}

/* An ALERT as CONTRACT.md shapes it. */
static void o_alert(struct out *o, const struct node_alert *a)
{
    char hex[2 * AGAH_HASH_LEN + 1], author[AGAH_IDSTR_SIZE];

    hex_encode(a->id, AGAH_HASH_LEN, hex);
    agah_id_encode(AGAH_IDPFX_MEMBER, a->author, author);
    o_map(o, 15);
    o_kstr(o, "id", hex);
    o_kstr(o, "kind", nz(agah_kind_name(a->body.kind)));
    o_str(o, "target");
    if (a->body.kind == AGAH_KIND_ALERT)
        o_nil(o);
    else
        o_str(o, a->body.target);
    o_kstr(o, "category", nz(agah_category_name(a->body.category)));
    o_kstr(o, "note", a->body.note);
    o_kstr(o, "severity", nz(agah_severity_name(a->body.severity)));
    o_kstr(o, "author", author);
    o_kstr(o, "author_name", a->author_name);
    o_kuint(o, "created", a->created);
    o_kuint(o, "expires", a->expires);
    o_kstr(o, "status", status_name(a->status));
    o_kuint(o, "confirmations", a->confirmations);
    /* What the reader needs to weigh an alert: an informant's alerts stay
     * listed after the revocation, marked; a retraction says by whom. */
    o_str(o, "author_revoked");
    o_bool(o, a->author_revoked);
    o_str(o, "retracted_by");
    if (a->has_retractor) {
        char rid[AGAH_IDSTR_SIZE];
        agah_id_encode(AGAH_IDPFX_MEMBER, a->retracted_by, rid);
        o_str(o, rid);
        o_kstr(o, "retracted_by_name", a->retracted_by_name);
    } else {
        o_nil(o);
        o_str(o, "retracted_by_name");
        o_nil(o);
    }
}

/* A `members` entry: who admitted whom, and when (the founder was admitted
 * by no one, at the founding). */
static void o_member(struct out *o, const struct node_member *m)
{
    char mid[AGAH_IDSTR_SIZE];

    agah_id_encode(AGAH_IDPFX_MEMBER, m->pk, mid);
    o_map(o, 7);
    o_kstr(o, "member_id", mid);
    o_kstr(o, "name", m->name);
    o_kstr(o, "role", nz(agah_role_name(m->role)));
    o_kstr(o, "status", m->revoked ? "revoked" : "active");
    o_str(o, "admitted_by");
    if (m->has_admitter) {
        agah_id_encode(AGAH_IDPFX_MEMBER, m->admitted_by, mid);
        o_str(o, mid);
    } else {
        o_nil(o);
    }
    o_kuint(o, "admitted", m->admitted);
    /* 0 once its node has linked with an organiser's; else when the
     * invitation lapses. */
    o_kuint(o, "invited_until", m->invited_until);
}

/* Copies what o packed out for the unit test. */
static int out_take(struct out *o, uint8_t **buf, size_t *len)
{
    int r = o->err;

    if (r == 0 && (*buf = malloc(o->len > 0 ? o->len : 1)) == NULL)
        r = AGAH_ENOMEM;
    if (r == 0) {
        memcpy(*buf, o->w->data + 4, o->len);
        *len = o->len;
    }
    out_free(o);
    return r;
}

int control__pack_alerts(const struct node_alert *a, size_t n, uint8_t **buf, size_t *len)
{
    struct out o;

    out_init(&o);
    o_array(&o, n);
    for (size_t i = 0; i < n && o.err == 0; i++)
        o_alert(&o, &a[i]);
    return out_take(&o, buf, len);
}

int control__pack_members(const struct node_member *m, size_t n, uint8_t **buf, size_t *len)
{
    struct out o;

    out_init(&o);
    o_array(&o, n);
    for (size_t i = 0; i < n && o.err == 0; i++)
        o_member(&o, &m[i]);
    return out_take(&o, buf, len);
}

/* {"v":1,"ok":true,"result": ...}: the caller packs the result next. */
static void o_ok(struct out *o)
{
    o_map(o, 3);
    o_kuint(o, "v", 1);
    o_str(o, "ok");
    o_bool(o, 1);
    o_str(o, "result");
}

/* ------------------------------------------------------------------ */
/* Clients: reading, writing, closing                                   */

static void control_maybe_done(struct control *c)
{
    if (!c->closing || c->handles > 0 || c->done_called)
        return;
    c->done_called = 1;
    if (c->done != NULL)
        c->done(c->done_ctx);
    if (c->self_free)
        free(c);
}

static void client_close_cb(uv_handle_t *h)
{
    struct control_client *cl = h->data;
    struct control *c = cl->ctl;

    if (cl->prev != NULL)
        cl->prev->next = cl->next;
    else
        c->clients = cl->next;
    if (cl->next != NULL)
        cl->next->prev = cl->prev;
    c->n_clients--;
    free(cl);
    c->handles--;
    control_maybe_done(c);
}

/* Idempotent: the first call closes the pipe; the client is freed in its
 * close callback, after libuv has cancelled its pending writes. */
static void client_close(struct control_client *cl)
{
    if (cl->closing)
        return;
    cl->closing = 1;
    if (cl->watching) {
        cl->watching = 0;
        cl->ctl->n_watchers--;
    }
    uv_close((uv_handle_t *)&cl->pipe, client_close_cb);
}

static void client_shutdown_cb(uv_shutdown_t *req, int status)
{
    (void)status; /* flushed or not, the client is done */
    client_close(req->data);
}

/* Close after what is queued has been written (an error response to a
 * client that sent garbage must reach it before the connection drops). */
static void client_finish(struct control_client *cl)
{
    if (cl->closing || cl->finishing)
        return;
    cl->finishing = 1;
    (void)uv_read_stop((uv_stream_t *)&cl->pipe);
    cl->shut.data = cl;
    if (uv_shutdown(&cl->shut, (uv_stream_t *)&cl->pipe, client_shutdown_cb) != 0)
        client_close(cl);
}

static void client_process(struct control_client *cl);
static void client_read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

static void client_alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct control_client *cl = h->data;

    (void)suggested;
    /* Never empty: a full buffer holds a whole frame, which is taken out
     * before reading resumes. */
    buf->base = (char *)cl->rbuf + cl->rlen;
    buf->len = sizeof cl->rbuf - cl->rlen;
}

static void client_resume(struct control_client *cl)
{
    if (!cl->paused || cl->closing || cl->finishing)
        return;
    cl->paused = 0;
    client_process(cl);
    if (cl->paused || cl->closing || cl->finishing)
        return;
    if (uv_read_start((uv_stream_t *)&cl->pipe, client_alloc_cb, client_read_cb) != 0)
        client_close(cl);
}

static void client_write_cb(uv_write_t *req, int status)
{
    struct wreq *w = (struct wreq *)req;
    struct control_client *cl = req->handle->data;

    free(w);
    if (cl->closing)
        return;
    if (status < 0) {
        log_debug("control: write failed: %s", uv_strerror(status));
        client_close(cl);
        return;
    }
    cl->stall_since = 0;
    if (cl->paused && uv_stream_get_write_queue_size((uv_stream_t *)&cl->pipe) <= CONTROL_WQ_LOW)
        client_resume(cl);
}

/* Queues body bytes w->data[4..4+len) (the wreq is consumed). */
static void client_write(struct control_client *cl, struct wreq *w, size_t len)
{
    int r;

    if (cl->closing) {
        free(w);
        return;
    }
    w->data[0] = (uint8_t)(len >> 24);
    w->data[1] = (uint8_t)(len >> 16);
    w->data[2] = (uint8_t)(len >> 8);
    w->data[3] = (uint8_t)len;
    w->buf = uv_buf_init((char *)w->data, (unsigned)(4 + len));
    r = uv_write(&w->req, (uv_stream_t *)&cl->pipe, &w->buf, 1, client_write_cb);
    if (r != 0) {
        /* The callback never runs for a write that was not queued. */
        free(w);
        log_debug("control: write failed: %s", uv_strerror(r));
        client_close(cl);
        return;
    }
    if (uv_stream_get_write_queue_size((uv_stream_t *)&cl->pipe) > CONTROL_WQ_KILL) {
        log_warn("control: dropping a client that does not read its output");
        client_close(cl);
    }
}

static void client_send_error(struct control_client *cl, int exit_code, const char *msg)
{
    struct out o;

    out_init(&o);
    o_map(&o, 4);
    o_kuint(&o, "v", 1);
    o_str(&o, "ok");
    o_bool(&o, 0);
    o_kuint(&o, "exit", (uint64_t)exit_code);
    o_kstr(&o, "error", msg);
    if (o.err != 0) {
        out_free(&o);
        client_close(cl); /* not even an error fits in memory */
        return;
    }
    client_write(cl, o.w, o.len);
}

/* Sends a packed response, or an error response if packing failed. */
static void client_send(struct control_client *cl, struct out *o)
{
    if (o->err != 0) {
        int e = o->err;
        out_free(o);
        client_send_error(cl, 5,
                          e == AGAH_ETOOBIG ? "the response would exceed 16 MiB"
                                            : "out of memory building the response");
        return;
    }
    client_write(cl, o->w, o->len);
    o->w = NULL;
}

/* A node/net failure: exit code by kind, message from `why` or the code. */
static void client_fail(struct control_client *cl, int err, const struct agah_why *why)
{
    client_send_error(cl, control__exit_code(err),
                      why != NULL && why->msg[0] != '\0' ? why->msg : agah_strerror(err));
}

static void handle_frame(struct control_client *cl, const uint8_t *buf, size_t len);

/* Takes whole frames out of the read buffer, in order, until it runs out,
 * the client is closing, or its output queue is over the high mark. */
static void client_process(struct control_client *cl)
{
    size_t off = 0;

    while (!cl->closing && !cl->finishing) {
        size_t avail = cl->rlen - off;
        uint32_t n;

        if (uv_stream_get_write_queue_size((uv_stream_t *)&cl->pipe) > CONTROL_WQ_HIGH) {
            if (!cl->paused) {
                cl->paused = 1;
                (void)uv_read_stop((uv_stream_t *)&cl->pipe);
            }
            break;
        }
        if (avail < 4)
            break;
        n = (uint32_t)cl->rbuf[off] << 24 | (uint32_t)cl->rbuf[off + 1] << 16 |
            (uint32_t)cl->rbuf[off + 2] << 8 | cl->rbuf[off + 3];
        if (n > CONTROL_REQ_MAX) {
            char msg[96];
            (void)snprintf(msg, sizeof msg, "request of %lu bytes is over the %d-byte limit",
                           (unsigned long)n, CONTROL_REQ_MAX);
            client_send_error(cl, 2, msg);
            client_finish(cl);
            break;
        }
        if (avail - 4 < n)
            break;
        handle_frame(cl, cl->rbuf + off + 4, n);
        off += 4 + (size_t)n;
    }
    if (cl->closing || cl->finishing) {
        cl->rlen = 0;
        return;
    }
    if (off > 0) {
        memmove(cl->rbuf, cl->rbuf + off, cl->rlen - off);
        cl->rlen -= off;
    }
}

static void client_read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct control_client *cl = s->data;

    (void)buf; /* it points into cl->rbuf: nothing to free */
    if (nread == 0 || cl->closing)
        return;
    if (nread < 0) {
        /* EOF: let the answers already queued reach the client first. */
        if (nread == UV_EOF)
            client_finish(cl);
        else
            client_close(cl);
        return;
    }
    cl->rlen += (size_t)nread;
    client_process(cl);
}

static void reject_close_cb(uv_handle_t *h)
{
    struct control *ctl = h->data;

    free(h);
    ctl->handles--;
    control_maybe_done(ctl);
}

/* Whether the client runs as our euid (SO_PEERCRED). The socket is 0600 in
 * a 0700 directory, but root, or a mode loosened by hand, reaches it all
 * the same; such a client is closed before a byte is read or written. */
static int client_is_ours(struct control_client *cl)
{
    struct agah_why why = {{0}};
    uv_os_fd_t fd;
    int r;

    if ((r = uv_fileno((uv_handle_t *)&cl->pipe, &fd)) != 0) {
        log_warn("control: cannot examine a client: %s", uv_strerror(r));
        return 0;
    }
    if (agah_sock_peer_check(fd, &why) != 0) {
        log_debug("control: refused a client: %s", why.msg);
        return 0;
    }
    return 1;
}

static void on_connection(uv_stream_t *server, int status)
{
    struct control *c = server->data;
    struct control_client *cl;

    if (status < 0) {
        log_warn("control: accept: %s", uv_strerror(status));
        return;
    }
    if (c->closing)
        return;
    if (c->n_clients >= CONTROL_MAX_CLIENTS) {
        /* Accept and drop at once: leaving it unaccepted would stall the
         * listener for everyone. */
        uv_pipe_t *p = malloc(sizeof *p);
        if (p == NULL || uv_pipe_init(c->loop, p, 0) != 0) {
            free(p);
            return;
        }
        p->data = c;
        c->handles++;
        (void)uv_accept(server, (uv_stream_t *)p);
        uv_close((uv_handle_t *)p, reject_close_cb);
        /* One line per ten seconds at most: a flood of clients must not
         * become a flood of log lines. */
        c->refused++;
        if (c->refused_log_at == 0 || uv_now(c->loop) - c->refused_log_at >= 10000) {
            log_warn("control: %d clients already connected; refused %llu more since "
                     "the last report",
                     CONTROL_MAX_CLIENTS, (unsigned long long)(c->refused - c->refused_logged));
            c->refused_logged = c->refused;
            c->refused_log_at = uv_now(c->loop);
        }
        return;
    }
    if ((cl = calloc(1, sizeof *cl)) == NULL) {
        log_error("control: out of memory accepting a client");
        return;
    }
    cl->ctl = c;
    if (uv_pipe_init(c->loop, &cl->pipe, 0) != 0) {
        free(cl);
        return;
    }
    cl->pipe.data = cl;
    c->handles++;
    cl->next = c->clients;
    if (c->clients != NULL)
        c->clients->prev = cl;
    c->clients = cl;
    c->n_clients++;
    if (uv_accept(server, (uv_stream_t *)&cl->pipe) != 0 || !client_is_ours(cl) ||
        uv_read_start((uv_stream_t *)&cl->pipe, client_alloc_cb, client_read_cb) != 0) {
        client_close(cl);
        return;
    }
}

/* ------------------------------------------------------------------ */
/* The request schema                                                   */

enum arg_id {
    ARG_KIND, ARG_TARGET, ARG_CATEGORY, ARG_NOTE, ARG_SEVERITY, ARG_EXPIRES, ARG_ALL,
    ARG_ID, ARG_REASON, ARG_MEMBER_ID, ARG_ROLE, ARG_NAME, ARG_ADDRESS, ARG_QUERY, ARG_REGION,
    ARG_RETRACT_ALERTS, ARG_ALSO_ADMITTED, ARG_DRY_RUN, ARG_LIMIT, ARG_AFTER, ARG_PURGE_SINCE,
    ARG_COUNT
};
enum arg_type { T_STR, T_UINT, T_BOOL };

struct arg_def {
    const char *key;
    int type;
    size_t max; /* bytes for strings, value for integers */
};

static const struct arg_def arg_defs[ARG_COUNT] = {
    [ARG_KIND] = {"kind", T_STR, 16},
    [ARG_TARGET] = {"target", T_STR, AGAH_TARGET_MAX - 1},
    [ARG_CATEGORY] = {"category", T_STR, 32},
    [ARG_NOTE] = {"note", T_STR, AGAH_NOTE_MAX},
    [ARG_SEVERITY] = {"severity", T_STR, 16},
    [ARG_EXPIRES] = {"expires", T_UINT, CONTROL_EXPIRES_MAX},
    [ARG_ALL] = {"all", T_BOOL, 0},
    [ARG_RETRACT_ALERTS] = {"retract_alerts", T_BOOL, 0},
    [ARG_ALSO_ADMITTED] = {"also_admitted", T_BOOL, 0},
    [ARG_DRY_RUN] = {"dry_run", T_BOOL, 0},
    [ARG_ID] = {"id", T_STR, 2 * AGAH_HASH_LEN},
    [ARG_REASON] = {"reason", T_STR, AGAH_NOTE_MAX},
    [ARG_MEMBER_ID] = {"member_id", T_STR, AGAH_IDSTR_LEN},
    [ARG_ROLE] = {"role", T_STR, 16},
    [ARG_NAME] = {"name", T_STR, AGAH_NAME_MAX},
    [ARG_ADDRESS] = {"address", T_STR, AGAH_ADDR_MAX - 1},
    [ARG_QUERY] = {"query", T_STR, CONTROL_QUERY_MAX},
    [ARG_REGION] = {"region", T_STR, 2},
    [ARG_LIMIT] = {"limit", T_UINT, CONTROL_LIST_LIMIT_MAX},
    [ARG_AFTER] = {"after", T_STR, 2 * AGAH_HASH_LEN},
    [ARG_PURGE_SINCE] = {"purge_since", T_UINT, UINT64_MAX},
};

#define F_REQ 1u /* must be present */
#define F_NIL 2u /* nil is accepted and means "not given" */

struct cmd_arg {
    int arg;
    unsigned flags;
};

#define CMD_MAX_ARGS 7

typedef void (*cmd_handler)(struct control_client *cl, const struct control_req *r);

struct cmd_def {
    const char *name;
    cmd_handler handler;
    /* Cross-field checks after every argument has been read, or NULL. */
    int (*check)(struct control_req *r, unsigned have, struct agah_why *why);
    size_t n_args;
    struct cmd_arg args[CMD_MAX_ARGS];
};

static void h_status(struct control_client *cl, const struct control_req *r);
static void h_post(struct control_client *cl, const struct control_req *r);
static void h_check(struct control_client *cl, const struct control_req *r);
static void h_list(struct control_client *cl, const struct control_req *r);
static void h_show(struct control_client *cl, const struct control_req *r);
static void h_confirm(struct control_client *cl, const struct control_req *r);
static void h_retract(struct control_client *cl, const struct control_req *r);
static void h_invite(struct control_client *cl, const struct control_req *r);
static void h_revoke(struct control_client *cl, const struct control_req *r);
static void h_members(struct control_client *cl, const struct control_req *r);
static void h_peers(struct control_client *cl, const struct control_req *r);
static void h_peer_add(struct control_client *cl, const struct control_req *r);
static void h_watch(struct control_client *cl, const struct control_req *r);
static int check_post(struct control_req *r, unsigned have, struct agah_why *why);
static int check_check(struct control_req *r, unsigned have, struct agah_why *why);

/* The dispatch table: which commands exist, which arguments each takes and
 * of what type, and who answers it. Anything not listed is refused. */
static const struct cmd_def cmd_defs[CONTROL_NCMDS] = {
    [CONTROL_STATUS] = {"status", h_status, NULL, 0, {{0, 0}}},
    [CONTROL_POST] = {"post", h_post, check_post, 7,
                      {{ARG_KIND, F_REQ}, {ARG_TARGET, F_NIL}, {ARG_CATEGORY, 0},
                       {ARG_NOTE, F_NIL}, {ARG_SEVERITY, 0}, {ARG_EXPIRES, 0},
                       {ARG_REGION, F_NIL}}},
    [CONTROL_CHECK] = {"check", h_check, check_check, 3,
                       {{ARG_TARGET, 0}, {ARG_QUERY, 0}, {ARG_REGION, F_NIL}}},
    [CONTROL_LIST] = {"list", h_list, NULL, 4,
                      {{ARG_KIND, F_NIL}, {ARG_ALL, 0}, {ARG_LIMIT, 0}, {ARG_AFTER, F_NIL}}},
    [CONTROL_SHOW] = {"show", h_show, NULL, 1, {{ARG_ID, F_REQ}}},
    [CONTROL_CONFIRM] = {"confirm", h_confirm, NULL, 2, {{ARG_ID, F_REQ}, {ARG_NOTE, F_NIL}}},
    [CONTROL_RETRACT] = {"retract", h_retract, NULL, 2,
                         {{ARG_ID, F_REQ}, {ARG_REASON, F_NIL}}},
    [CONTROL_INVITE] = {"invite", h_invite, NULL, 4,
                        {{ARG_MEMBER_ID, F_REQ}, {ARG_ROLE, 0}, {ARG_NAME, F_NIL},
                         {ARG_ADDRESS, F_NIL}}},
    [CONTROL_REVOKE] = {"revoke", h_revoke, NULL, 6,
                        {{ARG_MEMBER_ID, F_REQ}, {ARG_REASON, F_NIL}, {ARG_RETRACT_ALERTS, 0},
                         {ARG_ALSO_ADMITTED, 0}, {ARG_DRY_RUN, 0}, {ARG_PURGE_SINCE, 0}}},
    [CONTROL_MEMBERS] = {"members", h_members, NULL, 0, {{0, 0}}},
    [CONTROL_PEERS] = {"peers", h_peers, NULL, 0, {{0, 0}}},
    [CONTROL_PEER_ADD] = {"peer_add", h_peer_add, NULL, 1, {{ARG_ADDRESS, F_REQ}}},
    [CONTROL_WATCH] = {"watch", h_watch, NULL, 0, {{0, 0}}},
};

const char *control__cmd_name(int cmd)
{
    return cmd >= 0 && cmd < CONTROL_NCMDS ? cmd_defs[cmd].name : NULL;
}

int control__exit_code(int err)
{
    switch (err) {
    case AGAH_EPERM:
        return 4;
    case AGAH_EINVAL: case AGAH_ENOENT: case AGAH_ENUMBER: case AGAH_EACCOUNT:
    case AGAH_EREGION: case AGAH_ECHECKSUM: case AGAH_EEXIST: case AGAH_EEXPIRED:
    case AGAH_EVALUE: case AGAH_ETOOBIG: case AGAH_ETYPE: case AGAH_EFIELDS:
    case AGAH_EVERSION: case AGAH_ETRUNC: case AGAH_ETRAILING:
        return 2;
    default:
        return 5;
    }
}

/* A key or command name from the client, made safe to quote in a message:
 * printable ASCII only, at most 32 characters. */
static void quote(const char *p, size_t n, char out[40])
{
    size_t k = 0;

    for (size_t i = 0; i < n && k < 32; i++)
        out[k++] = (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"') ? p[i] : '?';
    if (n > 32) {
        out[k++] = '.';
        out[k++] = '.';
        out[k++] = '.';
    }
    out[k] = '\0';
}

static int key_is(const msgpack_object *k, const char *s)
{
    size_t n = strlen(s);
    return k->via.str.size == n && memcmp(k->via.str.ptr, s, n) == 0;
}

/* Reads a string argument into dst (NUL-terminated; dst holds max + 1). */
static int take_str(const msgpack_object *o, const char *what, size_t max, char *dst,
                    struct agah_why *why)
{
    const char *p;
    size_t n;
    int r = agah_mp_str(o, what, max, &p, &n, why);

    if (r != 0)
        return r;
    memcpy(dst, p, n);
    dst[n] = '\0';
    return 0;
}

/* "host:port" by the one parser (include/agah/addr.h). */
static int address_check(const char *a, struct agah_why *why)
{
    struct agah_why aw = {{0}};
    int r = agah_addr_parse(a, strlen(a), NULL, &aw);
    return r == 0 ? 0 : agah_fail(why, r, "address: %s", aw.msg);
}

/* Reads one argument's value into the request, converting and checking it. */
static int arg_take(struct control_req *r, int arg, const msgpack_object *o,
                    struct agah_why *why)
{
    const struct arg_def *d = &arg_defs[arg];
    char buf[40];
    int v, rc;

    switch (d->type) {
    case T_UINT:
        return agah_mp_uint(o, d->key, d->max,
                            arg == ARG_LIMIT         ? &r->limit
                            : arg == ARG_PURGE_SINCE ? &r->purge_since
                                                     : &r->expires,
                            why);
    case T_BOOL:
        if (o->type != MSGPACK_OBJECT_BOOLEAN)
            return agah_fail(why, AGAH_ETYPE, "%s: expected a bool", d->key);
        v = o->via.boolean ? 1 : 0;
        if (arg == ARG_RETRACT_ALERTS)
            r->retract_alerts = v;
        else if (arg == ARG_ALSO_ADMITTED)
            r->also_admitted = v;
        else if (arg == ARG_DRY_RUN)
            r->dry_run = v;
        else
            r->all = v;
        return 0;
    default:
        break;
    }
    switch (arg) {
    case ARG_KIND:
        if ((rc = take_str(o, d->key, d->max, buf, why)) != 0)
            return rc;
        if ((v = agah_kind_parse(buf)) < 0)
            return agah_fail(why, AGAH_EINVAL, "kind: expected number, account or alert");
        r->kind = v;
        return 0;
    case ARG_TARGET:
        return take_str(o, d->key, d->max, r->target, why);
    case ARG_QUERY:
        return take_str(o, d->key, d->max, r->query, why);
    case ARG_REGION:
        if ((rc = take_str(o, d->key, d->max, r->region, why)) != 0)
            return rc;
        /* "" means none, as an absent or nil region does. */
        if (r->region[0] != '\0' &&
            (strlen(r->region) != 2 || !isalpha((unsigned char)r->region[0]) ||
             !isalpha((unsigned char)r->region[1])))
            return agah_fail(why, AGAH_EINVAL,
                             "region \"%s\" is not a two-letter country code (e.g. GB, TR)",
                             r->region);
        return 0;
    case ARG_CATEGORY:
        if ((rc = take_str(o, d->key, d->max, buf, why)) != 0)
            return rc;
        if ((v = agah_category_parse(buf)) < 0)
            return agah_fail(why, AGAH_EINVAL, "category: expected harassment, impersonation, "
                                               "scam, surveillance or other");
        r->category = v;
        return 0;
    case ARG_SEVERITY:
        if ((rc = take_str(o, d->key, d->max, buf, why)) != 0)
            return rc;
        if ((v = agah_severity_parse(buf)) < 0)
            return agah_fail(why, AGAH_EINVAL, "severity: expected info, warning or danger");
        r->severity = v;
        return 0;
    case ARG_ROLE:
        if ((rc = take_str(o, d->key, d->max, buf, why)) != 0)
            return rc;
        if ((v = agah_role_parse(buf)) < 0)
            return agah_fail(why, AGAH_EINVAL, "role: expected member, organiser or relay");
        r->role = v;
        return 0;
    case ARG_NOTE:
    case ARG_REASON:
        return take_str(o, d->key, d->max, r->note, why);
    case ARG_NAME:
        if ((rc = take_str(o, d->key, d->max, r->name, why)) != 0)
            return rc;
        /* A name is a one-line label other members will see. */
        for (const char *p = r->name; *p != '\0'; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f)
                return agah_fail(why, AGAH_EINVAL, "name: control characters are not allowed");
        return 0;
    case ARG_ID: {
        size_t n;
        if ((rc = take_str(o, d->key, d->max, r->id, why)) != 0)
            return rc;
        n = strlen(r->id);
        if (n < 4)
            return agah_fail(why, AGAH_EINVAL, "id: give at least 4 hex digits of the alert id");
        for (size_t i = 0; i < n; i++) {
            char ch = r->id[i];
            if (ch >= 'A' && ch <= 'F')
                r->id[i] = (char)(ch - 'A' + 'a');
            else if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f')))
                return agah_fail(why, AGAH_EINVAL, "id: an alert id is hex digits 0-9, a-f");
        }
        return 0;
    }
    case ARG_AFTER: {
        /* A whole alert id: a cursor, never a prefix that could grow
         * ambiguous between two pages. */
        char hex[2 * AGAH_HASH_LEN + 1];
        if ((rc = take_str(o, d->key, d->max, hex, why)) != 0)
            return rc;
        if (strlen(hex) != 2 * AGAH_HASH_LEN ||
            sodium_hex2bin(r->after, AGAH_HASH_LEN, hex, strlen(hex), NULL, NULL, NULL) != 0)
            return agah_fail(why, AGAH_EINVAL, "after: give the whole alert id (64 hex digits)");
        r->has_after = 1;
        return 0;
    }
    case ARG_MEMBER_ID:
        if ((rc = take_str(o, d->key, d->max, r->member_id, why)) != 0)
            return rc;
        return agah_id_decode(r->member_id, AGAH_IDPFX_MEMBER, r->member, why);
    case ARG_ADDRESS:
        if ((rc = take_str(o, d->key, d->max, r->address, why)) != 0)
            return rc;
        return address_check(r->address, why);
    default:
        return agah_fail(why, AGAH_EINTERNAL, "argument %d has no reader", arg);
    }
}

/* Normalises a target as the user typed it, with the region for a national
 * number, into out. On failure the message is written for the person who
 * typed it (the CLI shows it as is) and names the input. */
static int target_normalize(const char *input, const char *region, int kind,
                            char out[AGAH_TARGET_MAX], struct agah_why *why)
{
    struct agah_why w = {{0}};
    const char *detail;
    int got, rc;

    if (kind == AGAH_TARGET_NUMBER)
        rc = agah_number_normalize(input, region, out, &w);
    else if (kind == AGAH_TARGET_ACCOUNT)
        rc = agah_account_normalize(input, region, out, &w);
    else
        rc = agah_target_normalize(input, region, out, &got, &w);
    if (rc == 0)
        return 0;
    detail = w.msg[0] ? w.msg : agah_strerror(rc);
    if (rc == AGAH_EREGION)
        return agah_fail(why, rc, "\"%.60s\" is a national number: give its country with "
                         "--region CC (e.g. --region GB) or set AGAH_REGION, or write it "
                         "with + and the country code", input);
    /* Most details already quote the input ('abc' contains letters...):
     * those stand alone rather than quote it twice. */
    if ((rc == AGAH_ENUMBER || rc == AGAH_EACCOUNT) && detail[0] == '\'')
        return agah_fail(why, rc, "%s", detail);
    if (rc == AGAH_ENUMBER)
        return agah_fail(why, rc, "\"%.60s\" is not a phone number: %s", input, detail);
    if (rc == AGAH_EACCOUNT)
        return agah_fail(why, rc, "\"%.60s\" is not a valid account: %s", input, detail);
    return agah_fail(why, rc, "\"%.60s\": %s", input, detail);
}

/* post: the target must suit the kind and is normalised here (with the
 * region, if given), so a client that skipped normalisation cannot store
 * a second spelling. */
static int check_post(struct control_req *r, unsigned have, struct agah_why *why)
{
    char norm[AGAH_TARGET_MAX];
    int rc;

    if (r->kind == AGAH_KIND_ALERT) {
        if ((have & (1u << ARG_TARGET)) && r->target[0] != '\0')
            return agah_fail(why, AGAH_EINVAL, "target: a free-text alert has no target");
        if (r->note[0] == '\0')
            return agah_fail(why, AGAH_EINVAL, "note: a free-text alert needs a note");
        r->target[0] = '\0';
        return 0;
    }
    if (!(have & (1u << ARG_TARGET)))
        return agah_fail(why, AGAH_EINVAL, "target: a %s alert needs a target",
                         r->kind == AGAH_KIND_NUMBER ? "number" : "account");
    rc = target_normalize(r->target, r->region,
                          r->kind == AGAH_KIND_NUMBER ? AGAH_TARGET_NUMBER : AGAH_TARGET_ACCOUNT,
                          norm, why);
    if (rc != 0)
        return rc;
    memcpy(r->target, norm, sizeof norm);
    return 0;
}

/* check: either `query` (as typed, normalised here with `region`, so the
 * CLI needs no phone-number library) or `target`; never both. */
static int check_check(struct control_req *r, unsigned have, struct agah_why *why)
{
    char norm[AGAH_TARGET_MAX];
    int has_q = (have & (1u << ARG_QUERY)) != 0, has_t = (have & (1u << ARG_TARGET)) != 0;
    int rc;

    if (has_q == has_t)
        return agah_fail(why, AGAH_EFIELDS, "check needs the argument \"target\" or "
                                            "\"query\", not both");
    if (has_t && r->region[0] != '\0')
        return agah_fail(why, AGAH_EFIELDS, "check: \"region\" goes with \"query\"");
    if ((rc = target_normalize(has_q ? r->query : r->target, r->region, 0, norm, why)) != 0)
        return rc;
    memcpy(r->target, norm, sizeof norm);
    return 0;
}

static void req_defaults(struct control_req *r)
{
    memset(r, 0, sizeof *r);
    r->cmd = -1;
    r->category = AGAH_CAT_HARASSMENT;
    r->severity = AGAH_SEV_WARNING;
    r->role = -1; /* invite: not given */
}

int control__parse_request(const uint8_t *buf, size_t len, struct control_req *r,
                           struct agah_why *why)
{
    msgpack_unpacked up;
    const msgpack_object_map *m;
    const struct cmd_def *cd = NULL;
    unsigned have = 0, seen = 0; /* bits: arguments given (non-nil) / keys met */
    int have_v = 0, n_cmd = 0;
    char q[40];
    int rc;

    req_defaults(r);
    msgpack_unpacked_init(&up);
    if ((rc = agah_mp_unpack(buf, len, 0, &up, why)) != 0) {
        r->fatal = 1;
        goto out;
    }
    if (up.data.type != MSGPACK_OBJECT_MAP) {
        r->fatal = 1;
        rc = agah_fail(why, AGAH_ETYPE, "a request must be a msgpack map");
        goto out;
    }
    m = &up.data.via.map;
    /* First find the command: it decides which other keys are legal. */
    for (uint32_t i = 0; i < m->size; i++) {
        const msgpack_object *k = &m->ptr[i].key, *v = &m->ptr[i].val;
        if (k->type != MSGPACK_OBJECT_STR) {
            rc = agah_fail(why, AGAH_EFIELDS, "request keys must be strings");
            goto out;
        }
        if (!key_is(k, "cmd"))
            continue;
        if (++n_cmd > 1) {
            rc = agah_fail(why, AGAH_EFIELDS, "duplicate key \"cmd\"");
            goto out;
        }
        if (v->type != MSGPACK_OBJECT_STR) {
            rc = agah_fail(why, AGAH_ETYPE, "cmd: expected a string");
            goto out;
        }
        for (int c = 0; c < CONTROL_NCMDS; c++)
            if (key_is(v, cmd_defs[c].name)) {
                cd = &cmd_defs[c];
                r->cmd = c;
            }
        if (cd == NULL) {
            quote(v->via.str.ptr, v->via.str.size, q);
            rc = agah_fail(why, AGAH_EINVAL, "unknown command \"%s\"", q);
            goto out;
        }
    }
    if (cd == NULL) {
        rc = agah_fail(why, AGAH_EFIELDS, "missing key \"cmd\"");
        goto out;
    }
    for (uint32_t i = 0; i < m->size; i++) {
        const msgpack_object *k = &m->ptr[i].key, *v = &m->ptr[i].val;
        const struct cmd_arg *ca = NULL;

        if (key_is(k, "cmd"))
            continue;
        if (key_is(k, "v")) {
            uint64_t ver;
            if (have_v++) {
                rc = agah_fail(why, AGAH_EFIELDS, "duplicate key \"v\"");
                goto out;
            }
            if ((rc = agah_mp_uint(v, "v", UINT64_MAX, &ver, why)) != 0)
                goto out;
            if (ver != 1) {
                rc = agah_fail(why, AGAH_EVERSION,
                               "control protocol version %llu is not supported (this "
                               "agahd speaks 1)", (unsigned long long)ver);
                goto out;
            }
            continue;
        }
        for (size_t j = 0; j < cd->n_args; j++)
            if (key_is(k, arg_defs[cd->args[j].arg].key))
                ca = &cd->args[j];
        if (ca == NULL) {
            quote(k->via.str.ptr, k->via.str.size, q);
            rc = agah_fail(why, AGAH_EFIELDS, "%s takes no argument \"%s\"", cd->name, q);
            goto out;
        }
        if (seen & (1u << ca->arg)) {
            rc = agah_fail(why, AGAH_EFIELDS, "duplicate key \"%s\"", arg_defs[ca->arg].key);
            goto out;
        }
        seen |= 1u << ca->arg;
        if (v->type == MSGPACK_OBJECT_NIL && (ca->flags & F_NIL))
            continue;
        if ((rc = arg_take(r, ca->arg, v, why)) != 0)
            goto out;
        have |= 1u << ca->arg;
    }
    if (!have_v) {
        rc = agah_fail(why, AGAH_EFIELDS, "missing key \"v\"");
        goto out;
    }
    for (size_t j = 0; j < cd->n_args; j++)
        if ((cd->args[j].flags & F_REQ) && !(have & (1u << cd->args[j].arg))) {
            rc = agah_fail(why, AGAH_EFIELDS, "%s needs the argument \"%s\"", cd->name,
                           arg_defs[cd->args[j].arg].key);
            goto out;
        }
    rc = cd->check != NULL ? cd->check(r, have, why) : 0;
out:
    msgpack_unpacked_destroy(&up);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Handlers                                                             */

static void h_status(struct control_client *cl, const struct control_req *r)
{
    struct control *c = cl->ctl;
    char me[AGAH_IDSTR_SIZE], comm[AGAH_IDSTR_SIZE];
    struct out o;

    (void)r;
    agah_id_encode(AGAH_IDPFX_MEMBER, agah_identity_pk(node_identity(c->node)), me);
    agah_id_encode(AGAH_IDPFX_COMMUNITY, node_community(c->node), comm);
    out_init(&o);
    o_ok(&o);
    o_map(&o, 7);
    o_kstr(&o, "member_id", me);
    o_kstr(&o, "community_id", comm);
    o_kstr(&o, "role", nz(agah_role_name(node_role(c->node))));
    o_kuint(&o, "peers", c->net != NULL ? net_connected(c->net) : 0);
    o_kuint(&o, "alerts", node_active_alerts(c->node));
    o_kuint(&o, "epoch", node_epoch_number(c->node));
    o_kuint(&o, "unreadable", node_unreadable(c->node));
    client_send(cl, &o);
}

/* {"id": HEX} plus, when `extra_key` is set, one more string or uint. */
static void send_id_result(struct control_client *cl, const uint8_t id[AGAH_HASH_LEN],
                           const char *extra_key, const char *extra_str, uint64_t extra_uint)
{
    char hex[2 * AGAH_HASH_LEN + 1];
    struct out o;

    hex_encode(id, AGAH_HASH_LEN, hex);
    out_init(&o);
    o_ok(&o);
    o_map(&o, extra_key != NULL ? 2 : 1);
    o_kstr(&o, "id", hex);
    if (extra_key != NULL) {
        o_str(&o, extra_key);
        if (extra_str != NULL)
            o_str(&o, extra_str);
        else
            o_uint(&o, extra_uint);
    }
    client_send(cl, &o);
}

static void h_post(struct control_client *cl, const struct control_req *r)
{
    struct agah_alert_body body;
    struct agah_why why = {{0}};
    uint8_t id[AGAH_HASH_LEN];
    uint64_t expires = 0;
    int rc;

    memset(&body, 0, sizeof body);
    body.kind = r->kind;
    memcpy(body.target, r->target, sizeof body.target);
    body.category = r->category;
    memcpy(body.note, r->note, sizeof body.note);
    body.severity = r->severity;
    /* The request carries a duration; records carry the absolute time. */
    if (r->expires != 0)
        expires = node_now(cl->ctl->node) + r->expires;
    rc = node_post(cl->ctl->node, &body, expires, id, &why);
    sodium_memzero(&body, sizeof body);
    if (rc < 0) {
        client_fail(cl, rc, &why);
        return;
    }
    /* The normalised target goes back so the poster sees what was stored
     * (a number typed in a local format, say). */
    if (r->kind == AGAH_KIND_ALERT)
        send_id_result(cl, id, NULL, NULL, 0);
    else
        send_id_result(cl, id, "normalized", r->target, 0);
}

/* Packs a result that is an array of alerts. */
static void send_alerts(struct control_client *cl, const struct node_alert *a, size_t n)
{
    struct out o;

    out_init(&o);
    o_ok(&o);
    o_array(&o, n);
    for (size_t i = 0; i < n && o.err == 0; i++)
        o_alert(&o, &a[i]);
    client_send(cl, &o);
}

/* What a relay answers to a command that needs to read alerts. */
static int relay_refusal(struct agah_why *why, const char *cannot)
{
    return agah_fail(why, AGAH_EPERM,
                     "this node is a relay: it keeps the community's alerts but cannot read "
                     "them, so it cannot %s",
                     cannot);
}

static void h_check(struct control_client *cl, const struct control_req *r)
{
    struct node_alert *a = NULL;
    size_t n = 0;
    int flagged = 0, rc;
    struct out o;

    /* A relay holds alerts it cannot read: "not flagged" from it would be
     * a confident wrong answer, so it gives none (exit 4, like its posts). */
    if (node_role(cl->ctl->node) == AGAH_ROLE_RELAY) {
        struct agah_why why = {{0}};

        client_fail(cl,
                    relay_refusal(&why, "tell whether this is flagged; check on a member's node"),
                    &why);
        return;
    }
    if ((rc = node_check(cl->ctl->node, r->target, &a, &n)) < 0) {
        client_fail(cl, rc, NULL);
        return;
    }
    for (size_t i = 0; i < n; i++)
        if (a[i].status == NODE_ACTIVE)
            flagged = 1;
    out_init(&o);
    o_ok(&o);
    o_map(&o, 3);
    o_kstr(&o, "normalized", r->target);
    o_str(&o, "flagged");
    o_bool(&o, flagged);
    o_str(&o, "alerts");
    o_array(&o, n);
    for (size_t i = 0; i < n && o.err == 0; i++)
        o_alert(&o, &a[i]);
    free(a);
    client_send(cl, &o);
}

static void h_list(struct control_client *cl, const struct control_req *r)
{
    struct node_alert *a = NULL;
    struct agah_why why = {{0}};
    size_t n = 0;
    int rc, more;

    rc = node_list_page(cl->ctl->node, r->kind, r->all, r->has_after ? r->after : NULL,
                        r->limit > 0 ? (size_t)r->limit : SIZE_MAX, &a, &n, &more);
    if (rc == AGAH_ENOENT)
        (void)agah_fail(&why, rc, "after: this node holds no alert with that id (it may have "
                                  "expired or been retracted and pruned since)");
    if (rc < 0) {
        client_fail(cl, rc, why.msg[0] ? &why : NULL);
        return;
    }
    send_alerts(cl, a, n);
    free(a);
}

/* Resolves an id or prefix to a full id, answering the error itself. */
static int find_alert(struct control_client *cl, const char *hex, uint8_t id[AGAH_HASH_LEN])
{
    struct agah_why why = {{0}};
    int rc = node_find(cl->ctl->node, hex, id);

    /* A relay lists no alert because it can read none: say that, as its
     * post and check do, rather than that the id is unknown. */
    if (rc == AGAH_ENOENT && node_role(cl->ctl->node) == AGAH_ROLE_RELAY)
        rc = relay_refusal(&why, "show, confirm or retract one");
    else if (rc == AGAH_ENOENT)
        (void)agah_fail(&why, rc, "no alert with id %s", hex);
    else if (rc == AGAH_EINVAL)
        (void)agah_fail(&why, rc, "%s is the start of more than one alert id: give more digits",
                        hex);
    if (rc < 0)
        client_fail(cl, rc, &why);
    return rc;
}

static void h_show(struct control_client *cl, const struct control_req *r)
{
    uint8_t id[AGAH_HASH_LEN];
    struct node_alert a;
    int rc;

    if (find_alert(cl, r->id, id) < 0)
        return;
    if ((rc = node_alert_get(cl->ctl->node, id, &a)) < 0) {
        client_fail(cl, rc, NULL);
        return;
    }
    /* `show` answers one ALERT object, not a list (CONTRACT.md). */
    struct out o;
    out_init(&o);
    o_ok(&o);
    o_alert(&o, &a);
    client_send(cl, &o);
}

static void h_confirm(struct control_client *cl, const struct control_req *r)
{
    uint8_t id[AGAH_HASH_LEN];
    struct agah_why why = {{0}};
    unsigned count = 0;
    int rc;

    if (find_alert(cl, r->id, id) < 0)
        return;
    if ((rc = node_confirm(cl->ctl->node, id, r->note, &count, &why)) < 0) {
        client_fail(cl, rc, &why);
        return;
    }
    send_id_result(cl, id, "confirmations", NULL, count);
}

static void h_retract(struct control_client *cl, const struct control_req *r)
{
    uint8_t id[AGAH_HASH_LEN];
    struct agah_why why = {{0}};
    int rc;

    if (find_alert(cl, r->id, id) < 0)
        return;
    if ((rc = node_retract(cl->ctl->node, id, r->note, &why)) < 0) {
        client_fail(cl, rc, &why);
        return;
    }
    send_id_result(cl, id, "status", "retracted", 0);
}

static void h_invite(struct control_client *cl, const struct control_req *r)
{
    struct agah_why why = {{0}};
    char *code = NULL;
    struct out o;
    size_t n_peers = 0;
    int rc;

    rc = node_invite(cl->ctl->node, r->member, r->role, r->name, r->address, &code, &n_peers,
                     &why);
    if (rc < 0) {
        client_fail(cl, rc, &why);
        return;
    }
    out_init(&o);
    o_ok(&o);
    o_map(&o, 2);
    o_kstr(&o, "code", code);
    o_kuint(&o, "peers", n_peers);
    free(code);
    client_send(cl, &o);
}

static void h_revoke(struct control_client *cl, const struct control_req *r)
{
    struct agah_why why = {{0}};
    struct node_revoke_out res;
    struct out o;
    unsigned flags = (r->retract_alerts ? NODE_REVOKE_RETRACT_ALERTS : 0) |
                     (r->also_admitted ? NODE_REVOKE_ALSO_ADMITTED : 0) |
                     (r->dry_run ? NODE_REVOKE_DRY_RUN : 0);
    char mid[AGAH_IDSTR_SIZE];
    int rc;

    if ((rc = node_revoke_since(cl->ctl->node, r->member, r->note, flags, r->purge_since, &res,
                                &why)) < 0) {
        client_fail(cl, rc, &why);
        return;
    }
    out_init(&o);
    o_ok(&o);
    o_map(&o, 10);
    o_kstr(&o, "member_id", r->member_id);
    /* "pending": the founder, until a quorum of organisers revokes it. */
    o_kstr(&o, "status", res.effective ? "revoked" : "pending");
    o_str(&o, "already");
    o_bool(&o, res.already);
    o_kuint(&o, "kept", res.kept);
    o_kuint(&o, "dropped", res.dropped);
    o_kuint(&o, "also", res.also);
    o_kuint(&o, "votes", res.votes);
    o_kuint(&o, "quorum", res.quorum == SIZE_MAX ? 0 : res.quorum);
    o_kuint(&o, "epoch", node_epoch_number(cl->ctl->node));
    /* The keys --also-admitted takes (or took), for the CLI to list. */
    o_str(&o, "also_ids");
    o_array(&o, res.also < NODE_REVOKE_LIST_MAX ? res.also : NODE_REVOKE_LIST_MAX);
    for (size_t i = 0; i < res.also && i < NODE_REVOKE_LIST_MAX; i++) {
        agah_id_encode(AGAH_IDPFX_MEMBER, res.also_pk[i], mid);
        o_str(&o, mid);
    }
    client_send(cl, &o);
}

static void h_members(struct control_client *cl, const struct control_req *r)
{
    struct node_member *m = NULL;
    size_t n = 0;
    struct out o;
    int rc;

    (void)r;
    if ((rc = node_members(cl->ctl->node, &m, &n)) < 0) {
        client_fail(cl, rc, NULL);
        return;
    }
    out_init(&o);
    o_ok(&o);
    o_array(&o, n);
    for (size_t i = 0; i < n && o.err == 0; i++)
        o_member(&o, &m[i]);
    free(m);
    client_send(cl, &o);
}

/* net_peers_foreach gives no count up front, so peers are gathered into a
 * bounded list first and packed after. */
#define CONTROL_MAX_PEERS 1024
struct peer_row {
    char address[AGAH_ADDR_MAX];
    int has_member, connected;
    uint8_t member[AGAH_PK_LEN];
};
struct peer_rows {
    struct peer_row *rows;
    size_t n, cap;
    int err;
};

static void peer_row_cb(void *ctx, const char *addr, const uint8_t *member, int connected)
{
    struct peer_rows *pr = ctx;
    struct peer_row *row;

    if (pr->err != 0 || pr->n >= CONTROL_MAX_PEERS)
        return;
    if (pr->n == pr->cap) {
        size_t cap = pr->cap == 0 ? 16 : pr->cap * 2;
        struct peer_row *rows = realloc(pr->rows, cap * sizeof *rows);
        if (rows == NULL) {
            pr->err = AGAH_ENOMEM;
            return;
        }
        pr->rows = rows;
        pr->cap = cap;
    }
    row = &pr->rows[pr->n++];
    memset(row, 0, sizeof *row);
    (void)snprintf(row->address, sizeof row->address, "%s", addr != NULL ? addr : "");
    row->connected = connected != 0;
    if (member != NULL) {
        row->has_member = 1;
        memcpy(row->member, member, AGAH_PK_LEN);
    }
}

static void h_peers(struct control_client *cl, const struct control_req *r)
{
    struct peer_rows pr = {0};
    struct out o;
    int rc = 0;

    (void)r;
    if (cl->ctl->net != NULL)
        rc = net_peers_foreach(cl->ctl->net, peer_row_cb, &pr);
    if (rc == 0)
        rc = pr.err;
    if (rc < 0) {
        free(pr.rows);
        client_fail(cl, rc, NULL);
        return;
    }
    out_init(&o);
    o_ok(&o);
    o_array(&o, pr.n);
    for (size_t i = 0; i < pr.n; i++) {
        o_map(&o, 3);
        o_kstr(&o, "address", pr.rows[i].address);
        o_str(&o, "member_id");
        if (pr.rows[i].has_member) {
            char mid[AGAH_IDSTR_SIZE];
            agah_id_encode(AGAH_IDPFX_MEMBER, pr.rows[i].member, mid);
            o_str(&o, mid);
        } else {
            o_nil(&o);
        }
        o_str(&o, "connected");
        o_bool(&o, pr.rows[i].connected);
    }
    free(pr.rows);
    client_send(cl, &o);
}

static void h_peer_add(struct control_client *cl, const struct control_req *r)
{
    struct agah_why why = {{0}};
    struct out o;
    int rc;

    if (cl->ctl->net == NULL) {
        client_send_error(cl, 5, "this agahd runs without a network layer");
        return;
    }
    if ((rc = net_peer_add(cl->ctl->net, r->address, &why)) < 0) {
        client_fail(cl, rc, &why);
        return;
    }
    out_init(&o);
    o_ok(&o);
    o_map(&o, 1);
    o_kstr(&o, "address", r->address);
    client_send(cl, &o);
}

static void h_watch(struct control_client *cl, const struct control_req *r)
{
    struct out o;

    (void)r;
    if (!cl->watching) {
        cl->watching = 1;
        cl->ctl->n_watchers++;
    }
    out_init(&o);
    o_ok(&o);
    o_map(&o, 1);
    o_str(&o, "watching");
    o_bool(&o, 1);
    client_send(cl, &o);
}

static void handle_frame(struct control_client *cl, const uint8_t *buf, size_t len)
{
    struct control_req req;
    struct agah_why why = {{0}};
    int rc = control__parse_request(buf, len, &req, &why);

    if (rc != 0) {
        /* why.msg goes back to the client, which typed it; the log gets only
         * the kind of error, since the message may quote a number, account
         * or name from the request. */
        log_debug("control: bad request: %s", agah_strerror(rc));
        client_send_error(cl, 2, why.msg[0] != '\0' ? why.msg : agah_strerror(rc));
        if (req.fatal)
            client_finish(cl);
    } else {
        cmd_defs[req.cmd].handler(cl, &req);
    }
    /* Requests may carry notes and targets: do not leave them on the stack. */
    sodium_memzero(&req, sizeof req);
}

/* ------------------------------------------------------------------ */
/* watch: every new or changed alert goes to every watching client      */

static void on_record(void *ctx, const struct agah_rec *rec)
{
    struct control *c = ctx;
    const uint8_t *alert_id;
    struct node_alert a;
    struct out o;

    if (c->closing || c->n_watchers == 0)
        return;
    if (rec->type == AGAH_REC_ALERT)
        alert_id = rec->id;
    else if (rec->type == AGAH_REC_CONFIRM || rec->type == AGAH_REC_RETRACT)
        alert_id = rec->u.sealed.ref;
    else
        return;
    /* A relay, or a member without this epoch's key, cannot read it. */
    if (node_alert_get(c->node, alert_id, &a) < 0)
        return;
    out_init(&o);
    o_map(&o, 3);
    o_kuint(&o, "v", 1);
    o_str(&o, "ok");
    o_bool(&o, 1);
    o_str(&o, "event");
    o_alert(&o, &a);
    sodium_memzero(&a, sizeof a);
    if (o.err != 0) {
        log_warn("control: cannot pack a watch event: %s", agah_strerror(o.err));
        out_free(&o);
        return;
    }
    for (struct control_client *cl = c->clients; cl != NULL; cl = cl->next) {
        struct wreq *w;
        if (!cl->watching || cl->closing)
            continue;
        if ((w = malloc(sizeof *w + 4 + o.len)) == NULL) {
            log_warn("control: out of memory: dropping a watch client");
            client_close(cl);
            continue;
        }
        memcpy(w->data + 4, o.w->data + 4, o.len);
        client_write(cl, w, o.len);
    }
    out_free(&o);
}

/* ------------------------------------------------------------------ */
/* The server                                                           */

/* Drops clients whose queued output has not moved for CONTROL_STALL_MS. */
static void sweep_cb(uv_timer_t *t)
{
    struct control *c = t->data;
    uint64_t now = uv_now(c->loop);

    if (c->closing)
        return;
    for (struct control_client *cl = c->clients; cl != NULL; cl = cl->next) {
        if (cl->closing)
            continue;
        if (uv_stream_get_write_queue_size((uv_stream_t *)&cl->pipe) == 0) {
            cl->stall_since = 0;
        } else if (cl->stall_since == 0) {
            cl->stall_since = now;
        } else if (now - cl->stall_since >= CONTROL_STALL_MS) {
            log_warn("control: dropping a client whose output has not moved for %d s",
                     CONTROL_STALL_MS / 1000);
            client_close(cl);
        }
    }
}

static void server_close_cb(uv_handle_t *h)
{
    struct control *c = h->data;

    c->handles--;
    control_maybe_done(c);
}

void control_close(struct control *c, void (*done)(void *ctx), void *ctx)
{
    struct control_client *cl, *next;

    if (c == NULL || c->closing)
        return;
    c->closing = 1;
    c->done = done;
    c->done_ctx = ctx;
    /* control_start opened the pipe, so at least one close callback is
     * pending when this returns: `done` always runs from the loop. */
    if (!uv_is_closing((uv_handle_t *)&c->pipe))
        uv_close((uv_handle_t *)&c->pipe, server_close_cb);
    if (c->sweep_open && !uv_is_closing((uv_handle_t *)&c->sweep))
        uv_close((uv_handle_t *)&c->sweep, server_close_cb);
    for (cl = c->clients; cl != NULL; cl = next) {
        next = cl->next;
        client_close(cl);
    }
    if (c->bound && unlink(c->path) != 0 && errno != ENOENT)
        log_warn("control: cannot remove %s: %s", c->path, strerror(errno));
    c->bound = 0;
}

void control_free(struct control *c)
{
    if (c == NULL)
        return;
    free(c);
}

size_t control_clients(const struct control *c)
{
    return c->n_clients;
}

int control_start(uv_loop_t *loop, struct node *node, struct net *net, const char *path,
                  struct control **out, struct agah_why *why)
{
    struct control *c;
    struct stat st;
    mode_t old;
    int r, rc = 0;

    if (strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
        return agah_fail(why, AGAH_EINVAL,
                         "the control socket's path is %zu bytes, over the %zu that Unix "
                         "sockets allow: use a shorter --data directory",
                         strlen(path), sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
    /* The caller holds the node lock, so a socket file here is stale. */
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode))
            return agah_fail(why, AGAH_EEXIST, "%s exists and is not a socket: remove it",
                             path);
        if (unlink(path) != 0)
            return agah_fail(why, AGAH_EIO, "cannot remove the stale %s: %s", path,
                             strerror(errno));
    } else if (errno != ENOENT) {
        return agah_fail(why, AGAH_EIO, "%s: %s", path, strerror(errno));
    }
    if ((c = calloc(1, sizeof *c)) == NULL)
        return agah_fail(why, AGAH_ENOMEM, "out of memory");
    c->loop = loop;
    c->node = node;
    c->net = net;
    (void)snprintf(c->path, sizeof c->path, "%s", path);
    if ((r = uv_pipe_init(loop, &c->pipe, 0)) != 0) {
        free(c);
        return agah_fail(why, AGAH_EINTERNAL, "uv_pipe_init: %s", uv_strerror(r));
    }
    c->pipe.data = c;
    c->handles++;
    if ((r = uv_timer_init(loop, &c->sweep)) != 0) {
        /* Only the pipe is open: close it, and free in its callback. */
        c->self_free = 1;
        control_close(c, NULL, NULL);
        return agah_fail(why, AGAH_EINTERNAL, "uv_timer_init: %s", uv_strerror(r));
    }
    c->sweep.data = c;
    c->sweep_open = 1;
    c->handles++;
    /* Created 0600 from the start (umask), and chmod'ed to be sure. */
    old = umask(0177);
    r = uv_pipe_bind(&c->pipe, path);
    (void)umask(old);
    if (r == 0)
        c->bound = 1;
    if (r != 0) {
        rc = agah_fail(why, AGAH_EIO, "cannot listen on %s: %s", path, uv_strerror(r));
    } else if (chmod(path, 0600) != 0) {
        rc = agah_fail(why, AGAH_EIO, "chmod %s: %s", path, strerror(errno));
    } else if ((r = uv_listen((uv_stream_t *)&c->pipe, 128, on_connection)) != 0) {
        rc = agah_fail(why, AGAH_EIO, "cannot listen on %s: %s", path, uv_strerror(r));
    } else if ((r = uv_timer_start(&c->sweep, sweep_cb, CONTROL_SWEEP_MS,
                                   CONTROL_SWEEP_MS)) != 0) {
        rc = agah_fail(why, AGAH_EINTERNAL, "uv_timer_start: %s", uv_strerror(r));
    } else if ((r = node_listen(node, on_record, c)) < 0) {
        rc = agah_fail(why, r, "cannot register the watch listener: %s", agah_strerror(r));
    }
    if (rc != 0) {
        c->self_free = 1;
        control_close(c, NULL, NULL);
        return rc;
    }
    *out = c;
    return 0;
}

/* The control socket server: a uv_pipe_t listening on DATA_DIR/agahd.sock,
 * one small state machine per connected CLI (framing, backpressure, peer
 * credentials, closing), the dispatch of each parsed request to its
 * command's handler, and the `watch` stream. The socket is reachable by
 * the local user only (0600 in a 0700 dir, and a client of another uid is
 * closed at once), but every request is still treated as untrusted bytes. */
#define _POSIX_C_SOURCE 200809L /* lstat, S_ISSOCK, and what uv.h needs */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <sodium.h>
#include "control_int.h"
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

void control__send_error(struct control_client *cl, int exit_code, const char *msg)
{
    size_t cap = strlen(msg) + AGAH_CTL_RESP_ERROR_OVERHEAD, len = 0;
    struct wreq *w = malloc(sizeof *w + 4 + cap);

    if (w == NULL || agah_ctl_resp_error(exit_code, msg, w->data + 4, cap, &len) != 0) {
        free(w);
        client_close(cl); /* not even an error fits in memory */
        return;
    }
    client_write(cl, w, len);
}

void control__send(struct control_client *cl, struct control_out *o)
{
    if (o->err != 0) {
        int e = o->err;
        co_free(o);
        control__send_error(cl, AGAH_CTL_EXIT_FAIL,
                            e == AGAH_ETOOBIG ? "the response would exceed 16 MiB"
                                              : "out of memory building the response");
        return;
    }
    client_write(cl, o->w, o->len);
    o->w = NULL;
}

void control__fail(struct control_client *cl, int err, const struct agah_why *why)
{
    control__send_error(cl, agah_ctl_exit_code(err),
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
        if (n > AGAH_CTL_REQ_MAX) {
            char msg[96];
            (void)snprintf(msg, sizeof msg, "request of %lu bytes is over the %d-byte limit",
                           (unsigned long)n, AGAH_CTL_REQ_MAX);
            control__send_error(cl, AGAH_CTL_EXIT_USAGE, msg);
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

/* The dispatch table: who answers each command of the schema
 * (include/agah/ctl.h), which has already checked its arguments. */
static const control_handler handlers[AGAH_CTL_NCMDS] = {
    [AGAH_CTL_STATUS] = control__h_status,   [AGAH_CTL_POST] = control__h_post,
    [AGAH_CTL_CHECK] = control__h_check,     [AGAH_CTL_LIST] = control__h_list,
    [AGAH_CTL_SHOW] = control__h_show,       [AGAH_CTL_CONFIRM] = control__h_confirm,
    [AGAH_CTL_RETRACT] = control__h_retract, [AGAH_CTL_INVITE] = control__h_invite,
    [AGAH_CTL_REVOKE] = control__h_revoke,   [AGAH_CTL_MEMBERS] = control__h_members,
    [AGAH_CTL_PEERS] = control__h_peers,     [AGAH_CTL_PEER_ADD] = control__h_peer_add,
    [AGAH_CTL_WATCH] = control__h_watch,
};

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
        control__send_error(cl, AGAH_CTL_EXIT_USAGE,
                            why.msg[0] != '\0' ? why.msg : agah_strerror(rc));
        if (req.fatal)
            client_finish(cl);
    } else {
        handlers[req.cmd](cl, &req);
    }
    /* Requests may carry notes and targets: do not leave them on the stack. */
    sodium_memzero(&req, sizeof req);
}

/* ------------------------------------------------------------------ */
/* watch: every new or changed alert goes to every watching client      */

static void on_record(void *ctx, const struct agah_rec *rec, const struct node_src *src)
{
    struct control *c = ctx;
    const uint8_t *alert_id;
    struct node_alert a;
    struct control_out o;

    (void)src; /* a watcher is told of every change, however it came */
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
    co_init(&o);
    co_head(&o, 1);
    co_alert(&o, &a);
    sodium_memzero(&a, sizeof a);
    if (o.err != 0) {
        log_warn("control: cannot pack a watch event: %s", agah_strerror(o.err));
        co_free(&o);
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
    co_free(&o);
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


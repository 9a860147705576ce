/* A link's bytes: writing frames, reading with flow control (token
 * bucket, write-queue marks, the mesh's pause), and turning input into
 * frames and messages (peer__process). */
#define _POSIX_C_SOURCE 200809L /* what uv.h needs */
#include "link.h"

static void net__on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void net__on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);
static void peer__kick(struct peer *p);

/* ------------------------------------------------------------------ */
/* Writing                                                             */

size_t peer__wq(const struct peer *p)
{
    return uv_stream_get_write_queue_size((const uv_stream_t *)&p->tcp);
}

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
        if (p->state == PEER_UP)
            p->links->ops->writable(p);
    }
}

/* Queues bytes as they are (handshake messages). A peer whose queue has
 * grown past NET_WQ_HARD has not read for a long time: it is dropped. */
int peer__send_raw(struct peer *p, const uint8_t *buf, size_t len)
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
int peer__send(struct peer *p, const uint8_t *pt, size_t len)
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

int peer__send_simple(struct peer *p, int type)
{
    size_t n;
    int r = gossip_enc_simple(type, p->links->enc, FRAME_PT_MAX, &n);

    return r != 0 ? r : peer__send(p, p->links->enc, n);
}

int peer__send_record(struct peer *p, int type, const uint8_t *rec, size_t len)
{
    size_t n;
    int r = gossip_enc_record(type, rec, len, p->links->enc, FRAME_PT_MAX, &n);

    return r != 0 ? r : peer__send(p, p->links->enc, n);
}

/* ------------------------------------------------------------------ */
/* Reading and flow control                                            */

void peer__update_reading(struct peer *p)
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

/* The mesh can take records again: a link it paused (link_ops.full)
 * reads on. */
void peer__resume_vq(struct peer *p)
{
    if (!p->paused_vq)
        return;
    p->paused_vq = 0;
    peer__kick(p);
}

/* Token bucket on records received: a peer above NET_RATE is not read
 * from until its bucket refills, so it cannot take the loop from others. */
void peer__charge(struct peer *p)
{
    uint64_t now = links__now(p->links);

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
    p->last_rx = links__now(p->links);
    peer__process(p);
}

/* An accepted connection's M1 verified: it holds K, so it gets the rest
 * of the handshake time (HS_TIMEOUT_MS from the connection), and is no
 * longer the first to be evicted for a newcomer. */
static int peer__m1_ok(struct peer *p)
{
    uint64_t spent = links__now(p->links) - p->born;
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
void peer__process(struct peer *p)
{
    struct links *l = p->links;
    size_t off = 0;
    uint64_t start = uv_hrtime();

    p->turn++;

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
                uint64_t *last = r == AGAH_EVERSION   ? &l->hs_logged[0]
                                 : r == AGAH_EEXPIRED ? &l->hs_logged[1]
                                                      : NULL;

                if (last != NULL && (*last == 0 || links__now(l) - *last >= 60000)) {
                    *last = links__now(l);
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
        if (frame_open(p->keys, buf, FRAME_HDR + ct, l->pt, &need) != 0) {
            peer__close(p, "frame does not authenticate");
            break;
        }
        off += FRAME_HDR + ct;
        l->ops->message(p, l->pt, need);
        if (p->state == PEER_UP && l->ops->full(l)) {
            /* Records arrive faster than the mesh checks them: hear no
             * more until it resumes the link (peer__resume_vq). */
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
        p->partial_since = links__now(l);
    /* No commit here: a record from a peer is acknowledged to no one, so
     * it waits for agahd's flush timer or node.c's batch bound rather than
     * paying an fsync per read. */
    if (p->state != PEER_CLOSING)
        peer__update_reading(p);
}

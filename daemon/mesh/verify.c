/* Signature verification off the loop thread; see verify.h.
 *
 * Records collect in batches of at most VQ_BATCH_MAX while the workers are
 * busy; a batch goes to the thread pool as soon as a worker is free, so
 * one record alone is verified at once (gossip latency) and a stream of
 * them in batches of what arrived meanwhile (throughput). Batches form one
 * list in arrival order: sent ones come back in any order and are
 * delivered from the head, so records leave in the order they came. A
 * batch's delivery runs on the loop thread, which the bound keeps to a few
 * milliseconds. A worker touches only its batch: the records' bytes, the
 * community id (a copy) and libsodium, which is thread-safe once
 * initialised. */
#define _POSIX_C_SOURCE 200809L /* what uv.h needs */
#include <stdlib.h>
#include <string.h>
#include "idmap.h"
#include "log.h"
#include "verify.h"

#define VQ_WORKERS_MAX 4u /* libuv's default thread pool */

enum { VQ_WAITING, VQ_SENT, VQ_DONE };

struct vq_batch {
    uv_work_t req;
    struct vq *q;
    struct vq_batch *next;
    struct vq_item *head, *tail;
    size_t n;
    int state;
};

struct vq {
    uv_loop_t *loop;
    struct vq_config cfg;
    uint8_t community[AGAH_HASH_LEN];
    struct vq_batch *head, *tail; /* every batch, oldest first */
    struct vq_batch *unsent;      /* the oldest not yet sent, or NULL */
    unsigned out, workers;        /* batches with a worker; most at once */
    size_t items, bytes;
    struct idmap ids; /* id -> how many copies are queued */
    int was_full;
    int closing, done_called;
    void (*done)(void *ctx);
    void *done_ctx;
};

static void vq__verify(const uint8_t community[AGAH_HASH_LEN], struct vq_batch *b)
{
    for (struct vq_item *it = b->head; it != NULL; it = it->next)
        it->rc = agah_rec_decode(it->buf, it->len, community, &it->rec, &it->why);
}

static void vq__work(uv_work_t *req)
{
    struct vq_batch *b = req->data;

    vq__verify(b->q->community, b);
}

static void vq__forget(struct vq *q, const struct vq_item *it)
{
    uint32_t c = 0;

    if (idmap_get(&q->ids, it->id, &c) && c > 1)
        (void)idmap_put(&q->ids, it->id, c - 1);
    else
        (void)idmap_del(&q->ids, it->id);
    q->items--;
    q->bytes -= it->len;
}

/* Hands a batch's records to the caller, in order, and frees it. */
static void vq__deliver(struct vq *q, struct vq_batch *b)
{
    struct vq_item *it = b->head, *next;

    for (; it != NULL; it = next) {
        next = it->next;
        vq__forget(q, it);
        q->cfg.deliver(q->cfg.ctx, it);
        free(it);
    }
    free(b);
}

static void vq__after(uv_work_t *req, int status);
static void vq__flush(struct vq *q);

static void vq__unlink_head(struct vq *q)
{
    struct vq_batch *h = q->head;

    q->head = h->next;
    if (q->head == NULL)
        q->tail = NULL;
    if (q->unsent == h)
        q->unsent = q->head;
}

/* Sends waiting batches, oldest first, while a worker is free. */
static void vq__send(struct vq *q)
{
    int failed = 0;

    while (q->unsent != NULL && q->out < q->workers) {
        struct vq_batch *b = q->unsent;
        int r;

        q->unsent = b->next;
        b->req.data = b;
        b->state = VQ_SENT;
        if ((r = uv_queue_work(q->loop, &b->req, vq__work, vq__after)) != 0) {
            /* Cannot happen with a live loop; verify here rather than
             * drop, and deliver in order with the rest. */
            log_warn("thread pool: %s; verifying on the loop thread", uv_strerror(r));
            vq__verify(q->community, b);
            b->state = VQ_DONE;
            failed = 1;
            continue;
        }
        q->out++;
    }
    if (failed)
        vq__flush(q);
}

/* Delivers the done batches at the head of the list. */
static void vq__flush(struct vq *q)
{
    while (q->head != NULL && q->head->state == VQ_DONE) {
        struct vq_batch *h = q->head;

        vq__unlink_head(q);
        vq__deliver(q, h);
    }
}

static void vq__maybe_done(struct vq *q)
{
    if (!q->closing || q->done_called || q->out > 0)
        return;
    q->done_called = 1;
    if (q->done != NULL)
        q->done(q->done_ctx);
}

static void vq__after(uv_work_t *req, int status)
{
    struct vq_batch *b = req->data;
    struct vq *q = b->q;

    /* Nothing cancels our requests, but if something did the batch would
     * come back unverified: do it here. */
    if (status != 0)
        vq__verify(q->community, b);
    b->state = VQ_DONE;
    q->out--;
    /* The next batch goes out first, so the worker verifies it while this
     * thread stores the one that came back. */
    if (!q->closing)
        vq__send(q);
    vq__flush(q);
    if (q->was_full && !vq_full(q)) {
        q->was_full = 0;
        if (q->cfg.drained != NULL && !q->closing)
            q->cfg.drained(q->cfg.ctx);
    }
    vq__maybe_done(q);
}

int vq_new(uv_loop_t *loop, const uint8_t community[AGAH_HASH_LEN], const struct vq_config *cfg,
           struct vq **out)
{
    struct vq *q;
    unsigned w = cfg->workers;

    if (cfg->deliver == NULL)
        return AGAH_EINVAL;
    if ((q = calloc(1, sizeof *q)) == NULL)
        return AGAH_ENOMEM;
    if (w == 0) {
        unsigned cores = uv_available_parallelism();
        w = cores > 1 ? cores - 1 : 1;
    }
    q->workers = w < VQ_WORKERS_MAX ? w : VQ_WORKERS_MAX;
    q->loop = loop;
    q->cfg = *cfg;
    memcpy(q->community, community, AGAH_HASH_LEN);
    /* Room for a whole read past the bound (see vq_push). */
    idmap_init(&q->ids, 2 * VQ_MAX_ITEMS);
    *out = q;
    return 0;
}

int vq_push(struct vq *q, const uint8_t *buf, size_t len, const uint8_t id[AGAH_HASH_LEN],
            uint64_t from, int fwd)
{
    struct vq_batch *b = q->tail;
    struct vq_item *it;
    uint32_t c = 0;
    int r;

    if (len == 0 || len > AGAH_REC_MAX)
        return AGAH_ETOOBIG;
    if (q->closing)
        return AGAH_EINVAL;
    if (b == NULL || b->state != VQ_WAITING || b->n >= VQ_BATCH_MAX) {
        if ((b = calloc(1, sizeof *b)) == NULL)
            return AGAH_ENOMEM;
        b->q = q;
        b->state = VQ_WAITING;
        if (q->tail != NULL)
            q->tail->next = b;
        else
            q->head = b;
        q->tail = b;
        if (q->unsent == NULL)
            q->unsent = b;
    }
    if ((it = malloc(sizeof *it + len)) == NULL)
        return AGAH_ENOMEM; /* an empty batch left behind is harmless */
    (void)idmap_get(&q->ids, id, &c);
    if ((r = idmap_put(&q->ids, id, c + 1)) != 0) {
        free(it);
        return r;
    }
    memset(it, 0, sizeof *it);
    memcpy(it->buf, buf, len);
    it->len = len;
    memcpy(it->id, id, AGAH_HASH_LEN);
    it->from = from;
    it->fwd = fwd;
    it->rc = AGAH_EINTERNAL;
    if (b->tail != NULL)
        b->tail->next = it;
    else
        b->head = it;
    b->tail = it;
    b->n++;
    q->items++;
    q->bytes += len;
    if (vq_full(q))
        q->was_full = 1;
    vq__send(q);
    return 0;
}

int vq_has(const struct vq *q, const uint8_t id[AGAH_HASH_LEN])
{
    return q->items > 0 && idmap_get(&q->ids, id, NULL);
}

int vq_full(const struct vq *q)
{
    return q->items >= VQ_MAX_ITEMS || q->bytes >= VQ_MAX_BYTES;
}

size_t vq_count(const struct vq *q) { return q->items; }

void vq_close(struct vq *q, void (*done)(void *ctx), void *ctx)
{
    if (q->closing)
        return;
    q->closing = 1;
    q->done = done;
    q->done_ctx = ctx;
    /* What no worker has yet is verified here; what a worker has comes
     * back through vq__after, and everything is delivered in order. */
    for (struct vq_batch *b = q->unsent; b != NULL; b = b->next) {
        vq__verify(q->community, b);
        b->state = VQ_DONE;
    }
    q->unsent = NULL;
    vq__flush(q);
    vq__maybe_done(q);
}

void vq_free(struct vq *q)
{
    if (q == NULL)
        return;
    /* Without vq_close only unsent batches can be left (a sent one keeps
     * the loop alive until it comes back): free them unverified, nothing
     * was promised about them. */
    while (q->head != NULL) {
        struct vq_batch *h = q->head;
        struct vq_item *it = h->head, *next;

        for (; it != NULL; it = next) {
            next = it->next;
            free(it);
        }
        vq__unlink_head(q);
        free(h);
    }
    idmap_free(&q->ids);
    free(q);
}

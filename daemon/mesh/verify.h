/* Layer mesh/: the overlay of links (Plumtree, reconciliation rounds,
 * addresses and dialling, the verify queue that feeds node/); it sits on
 * link/ and wire/ and hands records down to node/. */
/* The verify queue: records from peers have their signatures checked on
 * libuv's thread pool, so that the loop thread's own share of ingest
 * (decrypting frames, storing, indexing, forwarding) runs beside it on
 * another core. Verification is about half the cost of taking in a record
 * and needs nothing but the record's bytes and the community id; everything
 * that reads or changes the node stays on the loop thread. Records come out
 * in the order they went in, each with the result of agah_rec_decode.
 * Bounded: vq_full says when the caller must stop reading from peers. */
#ifndef AGAH_VERIFY_H
#define AGAH_VERIFY_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>
#include <agah/error.h>
#include <agah/record.h>

#define VQ_MAX_ITEMS 8192u        /* records waiting or being verified */
#define VQ_MAX_BYTES (8u << 20)   /* and their bytes */
#define VQ_BATCH_MAX 256u         /* records handed to one worker at a time */

/* One record through the queue. `rc` and `why` are agah_rec_decode's
 * result; when rc is 0, `rec` is the decoded record (pointing into `buf`,
 * valid during the callback only). `from` and `fwd` are the caller's. */
struct vq_item {
    struct vq_item *next;
    uint64_t from;
    int fwd;
    int rc;
    struct agah_why why;
    struct agah_rec rec;
    uint8_t id[AGAH_HASH_LEN];
    size_t len;
    uint8_t buf[];
};

struct vq;

/* `deliver` is called on the loop thread for every record, in order.
 * `drained` (may be NULL) is called once the queue is no longer full after
 * vq_full said it was. `workers` is how many batches may be verified at
 * once (0: one less than the cores, at least 1). */
struct vq_config {
    void (*deliver)(void *ctx, const struct vq_item *it);
    void (*drained)(void *ctx);
    void *ctx;
    unsigned workers;
};

int vq_new(uv_loop_t *loop, const uint8_t community[AGAH_HASH_LEN], const struct vq_config *cfg,
           struct vq **out);
/* Queues a record (copied) whose id the caller computed. AGAH_ETOOBIG for
 * a record above AGAH_REC_MAX, AGAH_ENOMEM; the caller then handles it
 * itself. Accepted even when full: vq_full is the caller's signal to stop
 * reading, the bounds are how far it may overshoot by one read. */
int vq_push(struct vq *q, const uint8_t *buf, size_t len, const uint8_t id[AGAH_HASH_LEN],
            uint64_t from, int fwd);
/* 1 if a record with this id is in the queue. */
int vq_has(const struct vq *q, const uint8_t id[AGAH_HASH_LEN]);
int vq_full(const struct vq *q);
/* Records in the queue. */
size_t vq_count(const struct vq *q);
/* Stops taking records and delivers every queued one: those not yet handed
 * to a worker are verified here, on the calling thread; `done` is called
 * (on the loop) once the last batch in a worker has come back and been
 * delivered, possibly before this returns. */
void vq_close(struct vq *q, void (*done)(void *ctx), void *ctx);
/* Frees a queue that is closed and done (or never had a batch out). */
void vq_free(struct vq *q);

#endif

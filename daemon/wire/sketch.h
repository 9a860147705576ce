/* Layer wire/: the bytes peers exchange (frames, the handshake, the peer
 * message codec, range reconciliation and sketches, address announcements).
 * Pure code on buffers: no libuv, no store; it depends on proto/ only. */
/* Set-difference sketches for catch-up (proto/PROTOCOL.md, "Sketch
 * reconciliation"): an invertible Bloom lookup table (IBLT) of short ids,
 * sized from a strata estimator of the difference (Eppstein, Goodrich,
 * Uyeda, Varghese, "What's the difference?", SIGCOMM 2011). Two sets that
 * differ in d items settle with about 2d cells of 13 bytes instead of
 * range fingerprints and lists of full ids; when the estimate is too large
 * or the table does not decode, the range reconciliation of recon.h takes
 * over. Pure code, no I/O: the caller sends what it is handed. */
#ifndef AGAH_SKETCH_H
#define AGAH_SKETCH_H

#include <stddef.h>
#include <stdint.h>
#include <agah/error.h>
#include "recon.h"

#define SKETCH_SALT_LEN 16
#define SKETCH_CELL_LEN 13          /* count (1) || key sum (8) || check sum (4) */
#define SKETCH_K 3                  /* cells per item, one in each third */
#define SKETCH_STRATA 12            /* levels of the estimator */
#define SKETCH_STRATUM_Q 14         /* cells per third in one stratum */
#define SKETCH_STRATA_BYTES (SKETCH_STRATA * SKETCH_K * SKETCH_STRATUM_Q * SKETCH_CELL_LEN)
#define SKETCH_Q_MAX 3000           /* 9,000 cells, 117,000 bytes: one frame */
#define SKETCH_MIN_SET 33           /* smaller sets are listed by range recon */
#define SKETCH_SHORTS_MAX 256       /* short ids in one SWANT */

/* Message types (gossip.h has the same numbers). */
#define SKETCH_MSG_REQ 12   /* [12, salt, count, strata] */
#define SKETCH_MSG_IBLT 13  /* [13, salt, count, cells] */
#define SKETCH_MSG_SWANT 14 /* [14, salt, short ids] */

/* What a sketch tells the caller. need_short: the peer has an item we
 * lack, known by its short id under salt (ask for it with SWANT). have:
 * we have the item and the peer lacks it (offer it). send: one complete
 * message (bytes valid during the call); negative aborts. */
struct sketch_cb {
    void (*need_short)(void *ctx, const uint8_t salt[SKETCH_SALT_LEN], uint64_t sid);
    void (*have)(void *ctx, const uint8_t id[RECON_ID_LEN]);
    int (*send)(void *ctx, const uint8_t *msg, size_t len);
    void *ctx;
};

/* What happened, for tests and the benchmark. */
enum sketch_outcome {
    SKETCH_SENT_REQ = 1,  /* asked with a strata estimator */
    SKETCH_SENT_RANGE,    /* fell back to (or chose) range reconciliation */
    SKETCH_SENT_IBLT,     /* answered a request with a table */
    SKETCH_EQUAL,         /* estimated no difference: nothing sent */
    SKETCH_DECODED,       /* a table decoded and was checked */
    SKETCH_RETRIED,       /* a table failed: asked again under a new salt */
};

/* The short id of a record id under salt: SipHash-2-4 keyed by the salt,
 * read little-endian. */
uint64_t sketch_short_id(const uint8_t salt[SKETCH_SALT_LEN], const uint8_t id[RECON_ID_LEN]);

/* Starts a reconciliation: a SKETCH request for a set of at least
 * SKETCH_MIN_SET items, else the range reconciliation's first message.
 * `salt` NULL draws a random one (tests pass their own). */
int sketch_initiate(struct recon_set *s, const uint8_t *salt, const struct sketch_cb *cb,
                    int *outcome);

/* Answers a request (fields checked by gossip_decode: salt 16 bytes,
 * strata exactly SKETCH_STRATA_BYTES): sends a table sized for the
 * estimated difference, nothing when the sets look equal, or the range
 * reconciliation's first message when the difference is too large. */
int sketch_on_request(struct recon_set *s, const uint8_t salt[SKETCH_SALT_LEN], uint64_t count,
                      const uint8_t *strata, const struct sketch_cb *cb, int *outcome);

/* Decodes a table (cells: a multiple of SKETCH_K cells, at most
 * SKETCH_K * SKETCH_Q_MAX): on success calls need_short and have for
 * every difference. When it does not decode or fails its checks, nothing
 * is reported and, if `retry` is nonzero, a new request under a fresh
 * salt is sent (outcome SKETCH_RETRIED; the caller allows this once per
 * reconciliation it started), else the range reconciliation is started.
 * Most failures are two differing items that share all three cells, which
 * a new salt separates: about 1 table in 100 at d = 10-1,000. */
int sketch_on_iblt(struct recon_set *s, const uint8_t salt[SKETCH_SALT_LEN], uint64_t count,
                   const uint8_t *cells, size_t len, int retry, const struct sketch_cb *cb,
                   int *outcome);

/* Answers SWANT: calls give for every item whose short id under salt is
 * among sids (n of them, 8 bytes little-endian each, n <= SKETCH_SHORTS_MAX). */
int sketch_on_swant(struct recon_set *s, const uint8_t salt[SKETCH_SALT_LEN], const uint8_t *sids,
                    size_t n, void (*give)(void *ctx, const uint8_t id[RECON_ID_LEN]), void *ctx);

/* Encodes SWANT into buf[0..cap). */
int sketch_enc_swant(const uint8_t salt[SKETCH_SALT_LEN], const uint64_t *sids, size_t n,
                     uint8_t *buf, size_t cap, size_t *len);

/* The estimator alone, for tests: the difference between the set and the
 * one whose strata are given, or UINT64_MAX when too large to tell. */
uint64_t sketch_estimate(struct recon_set *s, const uint8_t salt[SKETCH_SALT_LEN],
                         const uint8_t *strata);
/* The cells of the table sent for an estimated difference d (0 when it
 * would exceed SKETCH_Q_MAX), for tests and tuning. */
size_t sketch_cells_for(uint64_t d);

#endif

/* The verify queue (daemon/mesh/verify.c): every record comes out once, in the
 * order it went in, with agah_rec_decode's verdict; vq_has tracks what is
 * inside; vq_full and the drained callback bound it; vq_close delivers
 * what is left and reports done only after the last worker came back. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <uv.h>
#include <agah/agah.h>
#include "check.h"
#include "verify.h"

#define NREC 600

struct fixture {
    struct agah_identity *founder;
    uint8_t community[AGAH_HASH_LEN];
    uint8_t *rec[NREC];
    size_t len[NREC];
    uint8_t id[NREC][AGAH_HASH_LEN];
    int bad[NREC]; /* signature spoiled */
};

/* What the callbacks saw. */
struct seen {
    struct vq *q;
    struct fixture *f;
    size_t n;
    size_t order_errors, verdict_errors, still_inside;
    uint64_t last_from;
    int drained, done;
};

static void make_fixture(struct fixture *f)
{
    uint8_t *g = NULL;
    size_t gl = 0;

    memset(f, 0, sizeof *f);
    CHECK(agah_identity_generate(&f->founder) == 0);
    CHECK(agah_rec_genesis(f->founder, TEST_GKEY, "test", "founder", 1700000000, &g, &gl) == 0);
    agah_hash(g, gl, f->community);
    free(g);
    for (size_t i = 0; i < NREC; i++) {
        uint8_t member[AGAH_PK_LEN];

        randombytes_buf(member, sizeof member);
        CHECK(agah_rec_admission(f->founder, f->community, member, AGAH_ROLE_MEMBER, "m", TEST_EID, TEST_EKEY,
                                 1700000000 + i, 0, &f->rec[i], &f->len[i]) == 0);
        /* Every seventh record has a spoiled signature. */
        if (i % 7 == 3) {
            f->rec[i][f->len[i] - 5] ^= 0x40;
            f->bad[i] = 1;
        }
        agah_hash(f->rec[i], f->len[i], f->id[i]);
    }
}

static void free_fixture(struct fixture *f)
{
    for (size_t i = 0; i < NREC; i++)
        free(f->rec[i]);
    agah_identity_free(f->founder);
}

static void on_deliver(void *ctx, const struct vq_item *it)
{
    struct seen *s = ctx;
    struct fixture *f = s->f;
    size_t i = (size_t)it->from;

    /* `from` carries the record's index: they must come in order. */
    if (i != s->n || i >= NREC) {
        s->order_errors++;
        s->n++;
        return;
    }
    s->n++;
    if (memcmp(it->id, f->id[i], AGAH_HASH_LEN) != 0 || it->len != f->len[i] ||
        it->fwd != (int)(i % 2))
        s->verdict_errors++;
    if (f->bad[i] ? it->rc != AGAH_ESIG
                  : (it->rc != 0 || memcmp(it->rec.id, f->id[i], AGAH_HASH_LEN) != 0 ||
                     it->rec.type != AGAH_REC_ADMISSION))
        s->verdict_errors++;
    /* Gone from the queue by the time it is handed over. */
    if (vq_has(s->q, it->id))
        s->still_inside++;
}

static void on_drained(void *ctx) { ((struct seen *)ctx)->drained++; }
static void on_done(void *ctx) { ((struct seen *)ctx)->done++; }

/* A loop and a queue for one test, with every callback counted. */
static void start(struct seen *s, uv_loop_t *loop, struct fixture *f,
                  const uint8_t community[AGAH_HASH_LEN], unsigned workers)
{
    struct vq_config cfg = {on_deliver, on_drained, s, workers};

    memset(s, 0, sizeof *s);
    s->f = f;
    CHECK(uv_loop_init(loop) == 0);
    CHECK(vq_new(loop, community, &cfg, &s->q) == 0);
}

/* Closes the queue (done must come exactly once) and the loop. */
static void finish(struct seen *s, uv_loop_t *loop)
{
    vq_close(s->q, on_done, s);
    CHECK(uv_run(loop, UV_RUN_DEFAULT) == 0);
    CHECK(s->done == 1);
    vq_free(s->q);
    CHECK(uv_loop_close(loop) == 0);
}

static void test_order_and_verdicts(struct fixture *f, unsigned workers)
{
    uv_loop_t loop;
    struct seen s;

    start(&s, &loop, f, f->community, workers);
    /* The first record goes to a worker alone; the rest wait in batches. */
    for (size_t i = 0; i < NREC; i++)
        CHECK(vq_push(s.q, f->rec[i], f->len[i], f->id[i], i, (int)(i % 2)) == 0);
    CHECK(vq_count(s.q) == NREC);
    CHECK(vq_has(s.q, f->id[0]) && vq_has(s.q, f->id[NREC - 1]));
    CHECK(!vq_full(s.q));
    CHECK(uv_run(&loop, UV_RUN_DEFAULT) == 0);
    CHECK(s.n == NREC);
    CHECK(s.order_errors == 0);
    CHECK(s.verdict_errors == 0);
    CHECK(s.still_inside == 0);
    CHECK(vq_count(s.q) == 0 && !vq_has(s.q, f->id[5]));
    CHECK(s.drained == 0); /* never full */
    finish(&s, &loop);
}

/* Past VQ_MAX_ITEMS the queue says full (the caller stops reading) but
 * still takes what is pushed; once below the bound, drained is called
 * exactly once, and everything comes out. */
static void test_full_and_drained(struct fixture *f)
{
    uv_loop_t loop;
    struct seen s;
    size_t total = VQ_MAX_ITEMS + 10, pushed = 0;
    int full_seen = 0;

    start(&s, &loop, f, f->community, 1);
    /* The same record many times: the count per id goes up and down. */
    for (; pushed < total; pushed++) {
        CHECK(vq_push(s.q, f->rec[0], f->len[0], f->id[0], 0, 0) == 0);
        if (vq_full(s.q))
            full_seen = 1;
    }
    CHECK(full_seen);
    CHECK(vq_count(s.q) == total);
    CHECK(vq_has(s.q, f->id[0]));
    CHECK(uv_run(&loop, UV_RUN_DEFAULT) == 0);
    CHECK(s.drained == 1);
    CHECK(vq_count(s.q) == 0 && !vq_has(s.q, f->id[0]));
    /* Every delivery carried index 0, so all but the first count as out of
     * order here: what matters is that all came out. */
    CHECK(s.n == total);
    finish(&s, &loop);
}

/* A record above AGAH_REC_MAX or empty is refused at the door. */
static void test_refused(struct fixture *f)
{
    uv_loop_t loop;
    struct seen s;
    uint8_t *big = calloc(1, AGAH_REC_MAX + 1);

    CHECK(big != NULL);
    start(&s, &loop, f, f->community, 1);
    CHECK(vq_push(s.q, big, AGAH_REC_MAX + 1, f->id[0], 0, 0) == AGAH_ETOOBIG);
    CHECK(vq_push(s.q, big, 0, f->id[0], 0, 0) == AGAH_ETOOBIG);
    CHECK(vq_count(s.q) == 0);
    CHECK(uv_run(&loop, UV_RUN_DEFAULT) == 0);
    vq_close(s.q, on_done, &s);
    CHECK(s.done == 1); /* nothing was out: done at once */
    CHECK(vq_push(s.q, f->rec[0], f->len[0], f->id[0], 0, 0) != 0); /* closed */
    vq_free(s.q);
    CHECK(uv_loop_close(&loop) == 0);
    free(big);
}

/* Closing with records still waiting: those no worker has are verified by
 * vq_close itself, in order behind the one a worker has; `done` comes once
 * that worker is back and everything is delivered. */
static void test_close_delivers(struct fixture *f)
{
    uv_loop_t loop;
    struct seen s;

    start(&s, &loop, f, f->community, 1);
    for (size_t i = 0; i < NREC; i++)
        CHECK(vq_push(s.q, f->rec[i], f->len[i], f->id[i], i, (int)(i % 2)) == 0);
    vq_close(s.q, on_done, &s);
    CHECK(s.done == 0); /* record 0 is with a worker */
    CHECK(s.n == 0);    /* and the rest wait behind it */
    CHECK(uv_run(&loop, UV_RUN_DEFAULT) == 0);
    CHECK(s.done == 1);
    CHECK(s.n == NREC);
    CHECK(s.order_errors == 0 && s.verdict_errors == 0);
    vq_free(s.q);
    CHECK(uv_loop_close(&loop) == 0);
}

/* A record of another community is refused by the worker. */
static void test_other_community(struct fixture *f)
{
    uv_loop_t loop;
    struct seen s;
    uint8_t other[AGAH_HASH_LEN];

    memcpy(other, f->community, sizeof other);
    other[0] ^= 1;
    start(&s, &loop, f, other, 2);
    CHECK(vq_push(s.q, f->rec[0], f->len[0], f->id[0], 0, 0) == 0);
    CHECK(uv_run(&loop, UV_RUN_DEFAULT) == 0);
    CHECK(s.n == 1);
    CHECK(s.verdict_errors == 1); /* rc is AGAH_ECOMMUNITY, not 0 */
    finish(&s, &loop);
}

int main(void)
{
    static struct fixture f;

    if (agah_init() != 0) {
        fprintf(stderr, "agah_init failed\n");
        return 1;
    }
    make_fixture(&f);
    test_order_and_verdicts(&f, 1);
    test_order_and_verdicts(&f, 3); /* batches back out of order */
    test_full_and_drained(&f);
    test_refused(&f);
    test_close_delivers(&f);
    test_other_community(&f);
    free_fixture(&f);
    printf("test_verify: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}

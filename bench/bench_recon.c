/* bench_recon: catch-up between two nodes in process, through the
 * daemon's own reconciliation and message code (recon.c, gossip.c) with
 * every message carried by hand, so round trips and bytes are exact.
 *
 * A holds N items, B the same less `diff` of them spread evenly (mode
 * "oneway"), or each lacks diff/2 of the other's ("twoway"). B starts, as
 * the dialling side does in agahd after a handshake, with a sketch request
 * (sketch.c; "range" as the fifth argument starts with range
 * reconciliation instead). Each side answers the other's messages as
 * net.c does: a sketch request is answered with a table (or range
 * reconciliation), a table is decoded into SWANT (short ids asked for,
 * 256 a message) and OFFER, a SWANT is answered with BODYs; a RECON message is processed, the
 * ids it needs are asked for with WANT (at most 256 ids a message), the
 * ids the other side lacks are offered with OFFER (which the other side
 * answers with WANT), and a WANT is answered with BODYs. A flight is everything one side sends in answer to the
 * previous flight; a round trip is two flights. Bytes are counted as they
 * would be on the link: each message sealed in a frame (4-byte length,
 * 16-byte tag). Records are RECLEN bytes (the benchmark alert's length).
 *
 *   bench_recon N DIFF RECLEN [oneway|twoway] [sketch|range]
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "frame.h"
#include "gossip.h"
#include "recon.h"
#include "sketch.h"
#include "bench_util.h"

#define IDS_PER_WANT GOSSIP_IDS_MAX

struct msg {
    uint8_t *buf;
    size_t len;
};

struct side {
    const char *name;
    struct recon_set *set;
    struct side *peer;
    /* Messages sent in the current flight (delivered in the next one). */
    struct msg *out;
    size_t n_out, cap_out;
    uint8_t (*want)[32];
    size_t n_want;
    uint8_t (*offer)[32];
    size_t n_offer;
    uint64_t shorts[SKETCH_SHORTS_MAX];
    uint8_t ssalt[SKETCH_SALT_LEN];
    size_t n_shorts;
    size_t sketch_msgs, sketch_bytes;
    int outcome;
    int sk_retry; /* the initiator may ask again once when a table fails */
    size_t bodies_out, bytes_out, recon_msgs, recon_bytes, want_bytes, body_bytes;
    size_t received; /* items that arrived as BODY */
};

/* What the RECON messages of one flight carried. */
struct flight_stat {
    size_t msgs, bytes, skip, fp, idlist, ids;
};
static struct flight_stat fstat[64];
static size_t cur_flight;

static size_t reclen;
static uint8_t *fake_body; /* RECLEN bytes standing in for a record */
static uint8_t encbuf[FRAME_PT_MAX];

static void side_send(struct side *s, const uint8_t *pt, size_t len)
{
    if (s->n_out == s->cap_out) {
        s->cap_out = s->cap_out ? 2 * s->cap_out : 64;
        if ((s->out = realloc(s->out, s->cap_out * sizeof *s->out)) == NULL)
            bu_die("out of memory");
    }
    if ((s->out[s->n_out].buf = malloc(len)) == NULL)
        bu_die("out of memory");
    memcpy(s->out[s->n_out].buf, pt, len);
    s->out[s->n_out].len = len;
    s->n_out++;
    s->bytes_out += FRAME_HDR + len + FRAME_TAG;
}

/* A BODY message carries the record; its id rides along after the
 * record bytes only inside this simulation (the receiver would hash the
 * record), so the frame size counted is that of the real message. */
static void side_push_body(struct side *s, const uint8_t id[32])
{
    size_t len;
    if (gossip_enc_record(GOSSIP_BODY, fake_body, reclen, encbuf, sizeof encbuf - 32, &len) != 0)
        bu_die("gossip_enc_record failed");
    s->body_bytes += FRAME_HDR + len + FRAME_TAG;
    memcpy(encbuf + len, id, 32);
    side_send(s, encbuf, len + 32);
    s->bytes_out -= 32;
    s->bodies_out++;
}

static void side_flush_want(struct side *s)
{
    size_t len;
    if (s->n_want == 0)
        return;
    if (gossip_enc_ids(GOSSIP_WANT, (const uint8_t(*)[32])s->want, s->n_want, encbuf,
                       sizeof encbuf, &len) != 0)
        bu_die("gossip_enc_ids failed");
    s->want_bytes += FRAME_HDR + len + FRAME_TAG;
    side_send(s, encbuf, len);
    s->n_want = 0;
}

static void cb_need(void *ctx, const uint8_t id[32])
{
    struct side *s = ctx;
    memcpy(s->want[s->n_want++], id, 32);
    if (s->n_want == IDS_PER_WANT)
        side_flush_want(s);
}

static void side_flush_offer(struct side *s)
{
    size_t len;
    if (s->n_offer == 0)
        return;
    if (gossip_enc_ids(GOSSIP_OFFER, (const uint8_t(*)[32])s->offer, s->n_offer, encbuf,
                       sizeof encbuf, &len) != 0)
        bu_die("gossip_enc_ids failed");
    s->want_bytes += FRAME_HDR + len + FRAME_TAG;
    side_send(s, encbuf, len);
    s->n_offer = 0;
}

static void cb_have(void *ctx, const uint8_t id[32])
{
    struct side *s = ctx;
    memcpy(s->offer[s->n_offer++], id, 32);
    if (s->n_offer == IDS_PER_WANT)
        side_flush_offer(s);
}

static void side_flush_shorts(struct side *s)
{
    size_t len;
    if (s->n_shorts == 0)
        return;
    if (sketch_enc_swant(s->ssalt, s->shorts, s->n_shorts, encbuf, sizeof encbuf, &len) != 0)
        bu_die("sketch_enc_swant failed");
    s->want_bytes += FRAME_HDR + len + FRAME_TAG;
    side_send(s, encbuf, len);
    s->n_shorts = 0;
}

static void cb_need_short(void *ctx, const uint8_t salt[SKETCH_SALT_LEN], uint64_t sid)
{
    struct side *s = ctx;
    if (s->n_shorts > 0 && memcmp(s->ssalt, salt, SKETCH_SALT_LEN) != 0)
        side_flush_shorts(s);
    memcpy(s->ssalt, salt, SKETCH_SALT_LEN);
    s->shorts[s->n_shorts++] = sid;
    if (s->n_shorts == SKETCH_SHORTS_MAX)
        side_flush_shorts(s);
}

static struct side *give_side;
static void cb_give(void *ctx, const uint8_t id[32])
{
    (void)ctx;
    side_push_body(give_side, id);
}

static int cb_send_sketch(void *ctx, const uint8_t *msg, size_t len)
{
    struct side *s = ctx;
    /* A range fallback sends RECON through here too. */
    if (len > 1 && (msg[1] == GOSSIP_SKREQ || msg[1] == GOSSIP_SKETCH)) {
        s->sketch_msgs++;
        s->sketch_bytes += FRAME_HDR + len + FRAME_TAG;
    } else {
        s->recon_msgs++;
        s->recon_bytes += FRAME_HDR + len + FRAME_TAG;
    }
    side_send(s, msg, len);
    return 0;
}

static int cb_send(void *ctx, const uint8_t *msg, size_t len)
{
    struct side *s = ctx;
    s->recon_msgs++;
    s->recon_bytes += FRAME_HDR + len + FRAME_TAG;
    side_send(s, msg, len);
    return 0;
}

/* s handles one message from its peer. */
static void side_handle(struct side *s, const struct msg *m)
{
    struct recon_cb cb = {cb_need, cb_have, cb_send, s, 0, NULL};
    struct sketch_cb scb = {cb_need_short, cb_have, cb_send_sketch, s};
    struct agah_why why = {{0}};
    msgpack_unpacked u;
    struct gossip_msg g;
    size_t plen = m->len;
    int r;

    /* A BODY carries its id after the message bytes (see side_push_body). */
    if (m->len > 32 && m->buf[1] == GOSSIP_BODY)
        plen = m->len - 32;
    msgpack_unpacked_init(&u);
    if ((r = gossip_decode(m->buf, plen, &u, &g, &why)) != 0)
        bu_die("%s: cannot decode a message: %s (%s)", s->name, agah_strerror(r), why.msg);
    switch (g.type) {
    case GOSSIP_RECON: {
        const msgpack_object *rg = &g.obj->via.array.ptr[2];
        struct flight_stat *f = &fstat[cur_flight < 64 ? cur_flight : 63];

        f->msgs++;
        f->bytes += FRAME_HDR + plen + FRAME_TAG;
        for (size_t i = 0; i < rg->via.array.size; i++) {
            const msgpack_object *x = &rg->via.array.ptr[i];
            uint64_t mode = x->via.array.ptr[1].via.u64;
            if (mode == RECON_SKIP)
                f->skip++;
            else if (mode == RECON_FINGERPRINT)
                f->fp++;
            else {
                f->idlist++;
                f->ids += x->via.array.ptr[2].via.array.size;
            }
        }
    }
        if ((r = recon_process(s->set, g.obj, &cb, NULL, &why)) != 0)
            bu_die("%s: recon_process: %s (%s)", s->name, agah_strerror(r), why.msg);
        side_flush_want(s);
        side_flush_offer(s);
        break;
    case GOSSIP_SKREQ:
        if ((r = sketch_on_request(s->set, g.salt, g.count, g.blob, &scb, &s->outcome)) != 0)
            bu_die("%s: sketch_on_request: %s", s->name, agah_strerror(r));
        break;
    case GOSSIP_SKETCH:
        if ((r = sketch_on_iblt(s->set, g.salt, g.count, g.blob, g.blob_len, s->sk_retry, &scb,
                                &s->outcome)) != 0)
            bu_die("%s: sketch_on_iblt: %s", s->name, agah_strerror(r));
        s->sk_retry = 0; /* as agahd: one new request per reconciliation */
        side_flush_shorts(s);
        side_flush_offer(s);
        break;
    case GOSSIP_SWANT:
        give_side = s;
        if ((r = sketch_on_swant(s->set, g.salt, g.blob, g.blob_len / 8, cb_give, NULL)) != 0)
            bu_die("%s: sketch_on_swant: %s", s->name, agah_strerror(r));
        break;
    case GOSSIP_OFFER:
        for (size_t i = 0; i < g.n_ids; i++)
            cb_need(s, gossip_id(&g, i));
        side_flush_want(s);
        break;
    case GOSSIP_WANT:
        for (size_t i = 0; i < g.n_ids; i++)
            side_push_body(s, gossip_id(&g, i));
        break;
    case GOSSIP_BODY:
        s->received++;
        break;
    default:
        bu_die("%s: unexpected message type %d", s->name, g.type);
    }
    msgpack_unpacked_destroy(&u);
}

struct item {
    uint64_t created;
    uint8_t id[32];
};

int main(int argc, char **argv)
{
    struct side a = {.name = "A"}, b = {.name = "B"};
    struct item *items;
    size_t n, diff, missing_a = 0, missing_b = 0, flights = 0, done_flight = 0;
    int twoway, range;
    struct recon_cb cb;
    uint64_t base = bu_now() - 86400;

    if (argc < 4 || argc > 6)
        bu_die("usage: bench_recon N DIFF RECLEN [oneway|twoway] [sketch|range]");
    n = strtoul(argv[1], NULL, 10);
    diff = strtoul(argv[2], NULL, 10);
    reclen = strtoul(argv[3], NULL, 10);
    twoway = argc >= 5 && strcmp(argv[4], "twoway") == 0;
    range = argc == 6 && strcmp(argv[5], "range") == 0;
    if (agah_init() != 0 || n == 0 || diff == 0 || diff > n || reclen < 100 ||
        reclen > AGAH_REC_MAX)
        bu_die("bad arguments");
    if ((items = malloc(n * sizeof *items)) == NULL || (fake_body = calloc(1, reclen)) == NULL ||
        (a.want = malloc(IDS_PER_WANT * 32)) == NULL || (b.want = malloc(IDS_PER_WANT * 32)) == NULL ||
        (a.offer = malloc(IDS_PER_WANT * 32)) == NULL || (b.offer = malloc(IDS_PER_WANT * 32)) == NULL)
        bu_die("out of memory");
    if (recon_set_new(&a.set) != 0 || recon_set_new(&b.set) != 0)
        bu_die("out of memory");
    a.peer = &b;
    b.peer = &a;
    /* Items a hundred a second, as records arrive in a busy community. */
    for (size_t i = 0; i < n; i++) {
        size_t step = n / diff;
        int skip = i % step == step / 2 && (i / step) < diff;
        int to_a = 1, to_b = 1;

        items[i].created = base + i / 100;
        randombytes_buf(items[i].id, 32);
        if (skip) {
            if (twoway && (i / step) % 2)
                to_a = 0;
            else
                to_b = 0;
        }
        missing_a += !to_a;
        missing_b += !to_b;
        if ((to_a && recon_set_add(a.set, items[i].created, items[i].id) != 0) ||
            (to_b && recon_set_add(b.set, items[i].created, items[i].id) != 0))
            bu_die("recon_set_add failed");
    }

    cb = (struct recon_cb){cb_need, cb_have, cb_send, &b, 0, NULL};
    b.sk_retry = 1;
    if (range ? recon_initiate(b.set, &cb) != 0
              : sketch_initiate(b.set, NULL, &(struct sketch_cb){cb_need_short, cb_have,
                                                                 cb_send_sketch, &b},
                                &b.outcome) != 0)
        bu_die("initiating failed");
    flights = 1;
    /* Deliver flights until nothing is in flight. */
    for (struct side *from = &b; from->n_out > 0; from = from->peer) {
        struct side *to = from->peer;
        struct msg *batch = from->out;
        size_t cnt = from->n_out;

        cur_flight = flights - 1;
        from->out = NULL;
        from->n_out = from->cap_out = 0;
        for (size_t i = 0; i < cnt; i++) {
            side_handle(to, &batch[i]);
            free(batch[i].buf);
        }
        free(batch);
        if (a.received == missing_a && b.received == missing_b && done_flight == 0)
            done_flight = flights;
        if (to->n_out > 0)
            flights++;
        if (flights > 1000)
            bu_die("no convergence after 1000 flights");
    }
    if (a.received != missing_a || b.received != missing_b)
        bu_die("did not converge: A got %zu of %zu, B got %zu of %zu", a.received, missing_a,
               b.received, missing_b);
    {
        size_t total = a.bytes_out + b.bytes_out;
        size_t missing_bytes = (missing_a + missing_b) * reclen;

        printf("catchup_items %zu catchup_missing %zu mode %s\n", n, missing_a + missing_b,
               twoway ? "twoway" : "oneway");
        printf("catchup_flights %zu catchup_round_trips %zu\n", done_flight,
               (done_flight + 1) / 2);
        printf("catchup_bytes_total %zu catchup_missing_bytes %zu catchup_bytes_ratio %.3f\n",
               total, missing_bytes, (double)total / (double)missing_bytes);
        printf("sketch_msgs %zu sketch_bytes %zu sketch_outcome_a %d sketch_outcome_b %d\n",
               a.sketch_msgs + b.sketch_msgs, a.sketch_bytes + b.sketch_bytes, a.outcome,
               b.outcome);
        printf("recon_msgs %zu recon_bytes %zu want_bytes %zu body_bytes %zu bodies %zu\n",
               a.recon_msgs + b.recon_msgs, a.recon_bytes + b.recon_bytes,
               a.want_bytes + b.want_bytes, a.body_bytes + b.body_bytes,
               a.bodies_out + b.bodies_out);
        /* One word per flight: sender:recon messages/bytes/skip ranges/
         * fingerprint ranges/id-list ranges/ids listed. */
        printf("recon_flights ");
        for (size_t f = 0; f < flights && f < 64; f++)
            printf("%s%c:%zu/%zu/%zu/%zu/%zu/%zu", f ? "," : "", f % 2 ? 'A' : 'B',
                   fstat[f].msgs, fstat[f].bytes, fstat[f].skip, fstat[f].fp, fstat[f].idlist,
                   fstat[f].ids);
        printf("\n");
    }
    recon_set_free(a.set);
    recon_set_free(b.set);
    free(a.want);
    free(b.want);
    free(a.offer);
    free(b.offer);
    free(items);
    free(fake_body);
    return 0;
}

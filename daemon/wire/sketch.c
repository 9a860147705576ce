/* Sketch reconciliation: strata estimator and invertible Bloom lookup
 * table over short ids (SipHash-2-4 of the record id under a per-session
 * salt, so nobody can grind colliding ids in advance). Layout of the
 * messages and of the cells: proto/PROTOCOL.md, "Sketch reconciliation".
 *
 * Everything read from the wire arrives checked for size (gossip.c); the
 * decoder's work is bounded by the number of cells, whatever they hold:
 * each peel step reports one item and at most one item per cell may be
 * reported before the decode is declared failed. */
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <agah/mp.h>
#include "sketch.h"

/* Tables are sized ALPHA * d + BETA cells for an estimated difference d:
 * the strata estimate errs by about a quarter either way, and a table of
 * 3 hashes peels reliably from about 1.3 cells per item at d = 1,000 (more
 * for small d, hence BETA). Measured in tests/unit/test_sketch.c. */
#define SKETCH_ALPHA_NUM 2
#define SKETCH_ALPHA_DEN 1
#define SKETCH_BETA 32

struct sk_cell {
    uint64_t key;
    uint32_t check;
    uint8_t count;
};

static uint64_t sk_le64(const uint8_t *p)
{
    uint64_t v = 0;

    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static uint32_t sk_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void sk_put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

uint64_t sketch_short_id(const uint8_t salt[SKETCH_SALT_LEN], const uint8_t id[RECON_ID_LEN])
{
    uint8_t out[crypto_shorthash_BYTES];

    (void)crypto_shorthash(out, id, RECON_ID_LEN, salt);
    return sk_le64(out);
}

/* Where a short id goes and its check value, both from its 128-bit
 * SipHash under the salt, so a decoder holding only the key can tell a
 * cell holding exactly one item from a mixture. */
struct sk_where {
    uint32_t h[SKETCH_K];
    uint32_t check;
};

static void sk_derive(const uint8_t salt[SKETCH_SALT_LEN], uint64_t sid, struct sk_where *w)
{
    uint8_t in[8], out[crypto_shorthash_siphashx24_BYTES];

    sk_put64(in, sid);
    (void)crypto_shorthash_siphashx24(out, in, sizeof in, salt);
    for (int j = 0; j < SKETCH_K; j++)
        w->h[j] = sk_le32(out + 4 * j);
    w->check = sk_le32(out + 12);
}

static size_t sk_index(const struct sk_where *w, int j, size_t q)
{
    return (size_t)j * q + (size_t)(((uint64_t)w->h[j] * q) >> 32);
}

static void sk_toggle(struct sk_cell *c, size_t q, uint64_t sid, const struct sk_where *w,
                      int sign)
{
    for (int j = 0; j < SKETCH_K; j++) {
        struct sk_cell *x = &c[sk_index(w, j, q)];

        x->count = (uint8_t)(x->count + sign);
        x->key ^= sid;
        x->check ^= w->check;
    }
}

static void sk_cells_dec(const uint8_t *p, size_t n, struct sk_cell *c)
{
    for (size_t i = 0; i < n; i++, p += SKETCH_CELL_LEN) {
        c[i].count = p[0];
        c[i].key = sk_le64(p + 1);
        c[i].check = sk_le32(p + 9);
    }
}

static void sk_cells_enc(const struct sk_cell *c, size_t n, uint8_t *p)
{
    for (size_t i = 0; i < n; i++, p += SKETCH_CELL_LEN) {
        p[0] = c[i].count;
        sk_put64(p + 1, c[i].key);
        for (int b = 0; b < 4; b++)
            p[9 + b] = (uint8_t)(c[i].check >> (8 * b));
    }
}

/* c[i] = theirs[i] - ours[i], in place in theirs. */
static void sk_subtract(struct sk_cell *theirs, const struct sk_cell *ours, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        theirs[i].count = (uint8_t)(theirs[i].count - ours[i].count);
        theirs[i].key ^= ours[i].key;
        theirs[i].check ^= ours[i].check;
    }
}

static int sk_pure(const struct sk_cell *x)
{
    return x->count == 1 || x->count == 0xff;
}

/* Peels a difference table of 3q cells. plus (items only the other side
 * has, count +1) and minus (only ours, -1) receive at most max_out keys
 * together. 0 when every cell ends empty; AGAH_EVALUE when the table
 * does not decode (too many differences, or made up). */
static int sk_peel(struct sk_cell *c, size_t q, const uint8_t salt[SKETCH_SALT_LEN],
                   uint64_t *plus, size_t *np, uint64_t *minus, size_t *nm, size_t max_out)
{
    size_t m = SKETCH_K * q, top = 0, cap = m + SKETCH_K * max_out, found = 0;
    size_t *stack = malloc(cap * sizeof *stack);
    int r = AGAH_EVALUE;

    *np = *nm = 0;
    if (stack == NULL)
        return AGAH_ENOMEM;
    for (size_t i = 0; i < m; i++)
        if (sk_pure(&c[i]))
            stack[top++] = i;
    while (top > 0) {
        size_t i = stack[--top];
        struct sk_cell *x = &c[i];
        struct sk_where w;
        uint64_t sid;
        int sign, home = 0;

        if (!sk_pure(x))
            continue;
        sid = x->key;
        sk_derive(salt, sid, &w);
        if (w.check != x->check)
            continue;
        for (int j = 0; j < SKETCH_K; j++)
            home |= sk_index(&w, j, q) == i;
        if (!home)
            continue; /* a mixture that happens to look pure */
        if (found == max_out)
            goto out; /* more than a real difference can hold */
        sign = x->count == 1 ? 1 : -1;
        if (sign > 0)
            plus[(*np)++] = sid;
        else
            minus[(*nm)++] = sid;
        found++;
        sk_toggle(c, q, sid, &w, -sign);
        for (int j = 0; j < SKETCH_K; j++) {
            size_t k = sk_index(&w, j, q);

            if (sk_pure(&c[k]) && top < cap)
                stack[top++] = k;
        }
    }
    for (size_t i = 0; i < m; i++)
        if (c[i].count != 0 || c[i].key != 0 || c[i].check != 0)
            goto out;
    r = 0;
out:
    free(stack);
    return r;
}

/* --- building tables from the set --- */

struct sk_build {
    const uint8_t *salt;
    struct sk_cell *cells; /* one table of 3q cells, or SKETCH_STRATA of them */
    size_t q;
    int strata;
};

static int sk_stratum(uint64_t sid)
{
    int l = 0;

    while (l < SKETCH_STRATA - 1 && (sid & 1) == 0) {
        sid >>= 1;
        l++;
    }
    return l;
}

static int sk_build_cb(void *ctx, const uint8_t id[RECON_ID_LEN])
{
    struct sk_build *b = ctx;
    uint64_t sid = sketch_short_id(b->salt, id);
    struct sk_where w;
    struct sk_cell *t = b->cells;

    sk_derive(b->salt, sid, &w);
    if (b->strata)
        t += (size_t)sk_stratum(sid) * SKETCH_K * b->q;
    sk_toggle(t, b->q, sid, &w, 1);
    return 0;
}

/* The set's table of 3q cells (strata 0) or its SKETCH_STRATA estimator
 * tables of 3 * SKETCH_STRATUM_Q cells each. Caller frees *out. */
static int sk_build(struct recon_set *s, const uint8_t salt[SKETCH_SALT_LEN], size_t q,
                    int strata, struct sk_cell **out)
{
    size_t n = (strata ? SKETCH_STRATA : 1) * SKETCH_K * q;
    struct sk_build b = {salt, calloc(n, sizeof(struct sk_cell)), q, strata};
    int r;

    if (b.cells == NULL)
        return AGAH_ENOMEM;
    if ((r = recon_set_foreach(s, sk_build_cb, &b)) != 0) {
        free(b.cells);
        return r;
    }
    *out = b.cells;
    return 0;
}

/* --- messages --- */

static int sk_send_blob(const struct sketch_cb *cb, int type, const uint8_t salt[SKETCH_SALT_LEN],
                        uint64_t count, const uint8_t *blob, size_t len)
{
    struct agah_mp_fixbuf fb;
    msgpack_packer pk;
    int r = AGAH_EINTERNAL;

    fb.cap = len + 64;
    fb.len = 0;
    if ((fb.p = malloc(fb.cap)) == NULL)
        return AGAH_ENOMEM;
    msgpack_packer_init(&pk, &fb, agah_mp_fixbuf_write);
    if (msgpack_pack_array(&pk, 4) == 0 && msgpack_pack_uint64(&pk, (uint64_t)type) == 0 &&
        msgpack_pack_bin(&pk, SKETCH_SALT_LEN) == 0 &&
        msgpack_pack_bin_body(&pk, salt, SKETCH_SALT_LEN) == 0 &&
        msgpack_pack_uint64(&pk, count) == 0 && msgpack_pack_bin(&pk, len) == 0 &&
        msgpack_pack_bin_body(&pk, blob, len) == 0) {
        r = cb->send(cb->ctx, fb.p, fb.len);
        if (r > 0)
            r = 0;
    }
    free(fb.p);
    return r;
}

int sketch_enc_swant(const uint8_t salt[SKETCH_SALT_LEN], const uint64_t *sids, size_t n,
                     uint8_t *buf, size_t cap, size_t *len)
{
    struct agah_mp_fixbuf fb = {buf, 0, cap};
    msgpack_packer pk;
    uint8_t le[8];

    if (n == 0 || n > SKETCH_SHORTS_MAX)
        return AGAH_EINVAL;
    msgpack_packer_init(&pk, &fb, agah_mp_fixbuf_write);
    if (msgpack_pack_array(&pk, 3) != 0 || msgpack_pack_uint64(&pk, SKETCH_MSG_SWANT) != 0 ||
        msgpack_pack_bin(&pk, SKETCH_SALT_LEN) != 0 ||
        msgpack_pack_bin_body(&pk, salt, SKETCH_SALT_LEN) != 0 ||
        msgpack_pack_bin(&pk, 8 * n) != 0)
        return AGAH_ETOOBIG;
    for (size_t i = 0; i < n; i++) {
        sk_put64(le, sids[i]);
        if (msgpack_pack_bin_body(&pk, le, sizeof le) != 0)
            return AGAH_ETOOBIG;
    }
    *len = fb.len;
    return 0;
}

/* The range reconciliation's first message, through the same send. */
static int sk_range(struct recon_set *s, const struct sketch_cb *cb, int *outcome)
{
    struct recon_cb rc = {NULL, NULL, cb->send, cb->ctx, 0, NULL};

    if (outcome != NULL)
        *outcome = SKETCH_SENT_RANGE;
    return recon_initiate(s, &rc);
}

int sketch_initiate(struct recon_set *s, const uint8_t *salt, const struct sketch_cb *cb,
                    int *outcome)
{
    uint8_t rnd[SKETCH_SALT_LEN], *blob;
    struct sk_cell *strata = NULL;
    size_t n = recon_set_size(s);
    int r;

    if (n < SKETCH_MIN_SET)
        return sk_range(s, cb, outcome);
    if (salt == NULL) {
        randombytes_buf(rnd, sizeof rnd);
        salt = rnd;
    }
    if ((r = sk_build(s, salt, SKETCH_STRATUM_Q, 1, &strata)) != 0)
        return r;
    if ((blob = malloc(SKETCH_STRATA_BYTES)) == NULL) {
        free(strata);
        return AGAH_ENOMEM;
    }
    sk_cells_enc(strata, SKETCH_STRATA * SKETCH_K * SKETCH_STRATUM_Q, blob);
    r = sk_send_blob(cb, SKETCH_MSG_REQ, salt, n, blob, SKETCH_STRATA_BYTES);
    if (r == 0 && outcome != NULL)
        *outcome = SKETCH_SENT_REQ;
    free(blob);
    free(strata);
    return r;
}

/* Eppstein's estimate: peel strata from the sparsest down; the first that
 * fails scales what was counted above it by 2^(level + 1). */
static uint64_t sk_estimate_cells(struct sk_cell *diff, const uint8_t salt[SKETCH_SALT_LEN])
{
    size_t per = SKETCH_K * SKETCH_STRATUM_Q;
    uint64_t plus[SKETCH_K * SKETCH_STRATUM_Q], minus[SKETCH_K * SKETCH_STRATUM_Q];
    uint64_t count = 0;

    for (int l = SKETCH_STRATA - 1; l >= 0; l--) {
        size_t np, nm;
        int r = sk_peel(diff + (size_t)l * per, SKETCH_STRATUM_Q, salt, plus, &np, minus, &nm,
                        per);

        if (r != 0) {
            if (l == SKETCH_STRATA - 1)
                return UINT64_MAX;
            return (count > 0 ? count : 1) << (l + 1);
        }
        count += np + nm;
    }
    return count;
}

uint64_t sketch_estimate(struct recon_set *s, const uint8_t salt[SKETCH_SALT_LEN],
                         const uint8_t *strata)
{
    size_t n = SKETCH_STRATA * SKETCH_K * SKETCH_STRATUM_Q;
    struct sk_cell *ours = NULL, *theirs = malloc(n * sizeof *theirs);
    uint64_t est = UINT64_MAX;

    if (theirs != NULL && sk_build(s, salt, SKETCH_STRATUM_Q, 1, &ours) == 0) {
        sk_cells_dec(strata, n, theirs);
        sk_subtract(theirs, ours, n);
        est = sk_estimate_cells(theirs, salt);
    }
    free(ours);
    free(theirs);
    return est;
}

size_t sketch_cells_for(uint64_t d)
{
    uint64_t cells, q;

    if (d > (uint64_t)SKETCH_K * SKETCH_Q_MAX)
        return 0;
    cells = d * SKETCH_ALPHA_NUM / SKETCH_ALPHA_DEN + SKETCH_BETA;
    q = (cells + SKETCH_K - 1) / SKETCH_K;
    return q > SKETCH_Q_MAX ? 0 : (size_t)(q * SKETCH_K);
}

int sketch_on_request(struct recon_set *s, const uint8_t salt[SKETCH_SALT_LEN], uint64_t count,
                      const uint8_t *strata, const struct sketch_cb *cb, int *outcome)
{
    uint64_t n = recon_set_size(s), est, d;
    struct sk_cell *table = NULL;
    uint8_t *blob = NULL;
    size_t cells;
    int r;

    est = sketch_estimate(s, salt, strata);
    if (est == UINT64_MAX)
        return sk_range(s, cb, outcome);
    /* The difference is at least the difference in sizes; when one set
     * holds the other (the common catch-up) that bound is exact. */
    d = n > count ? n - count : count - n;
    if (est > d)
        d = est;
    if (d == 0) {
        if (outcome != NULL)
            *outcome = SKETCH_EQUAL;
        return 0;
    }
    if ((cells = sketch_cells_for(d)) == 0)
        return sk_range(s, cb, outcome);
    if ((r = sk_build(s, salt, cells / SKETCH_K, 0, &table)) != 0)
        return r;
    if ((blob = malloc(cells * SKETCH_CELL_LEN)) == NULL) {
        free(table);
        return AGAH_ENOMEM;
    }
    sk_cells_enc(table, cells, blob);
    r = sk_send_blob(cb, SKETCH_MSG_IBLT, salt, n, blob, cells * SKETCH_CELL_LEN);
    if (r == 0 && outcome != NULL)
        *outcome = SKETCH_SENT_IBLT;
    free(blob);
    free(table);
    return r;
}

static int sk_u64_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

/* Matches our items against the decoded keys: none of ours may be among
 * the keys only they have, and every key only we have must be ours. */
struct sk_match {
    const uint8_t *salt;
    const uint64_t *plus, *minus;
    size_t np, nm;
    uint8_t (*ids)[RECON_ID_LEN]; /* full ids of minus, in order found */
    uint8_t *seen;
    size_t nids;
    int bad;
};

static int sk_match_cb(void *ctx, const uint8_t id[RECON_ID_LEN])
{
    struct sk_match *mt = ctx;
    uint64_t sid = sketch_short_id(mt->salt, id);
    const uint64_t *hit;

    if (mt->np > 0 && bsearch(&sid, mt->plus, mt->np, sizeof sid, sk_u64_cmp) != NULL) {
        mt->bad = 1;
        return 1;
    }
    if (mt->nm > 0 && (hit = bsearch(&sid, mt->minus, mt->nm, sizeof sid, sk_u64_cmp)) != NULL) {
        size_t k = (size_t)(hit - mt->minus);

        if (mt->seen[k]) {
            mt->bad = 1; /* two of our ids share a short id: let ranges sort it out */
            return 1;
        }
        mt->seen[k] = 1;
        memcpy(mt->ids[mt->nids++], id, RECON_ID_LEN);
    }
    return 0;
}

int sketch_on_iblt(struct recon_set *s, const uint8_t salt[SKETCH_SALT_LEN], uint64_t count,
                   const uint8_t *cells, size_t len, int retry, const struct sketch_cb *cb,
                   int *outcome)
{
    size_t m = len / SKETCH_CELL_LEN, q = m / SKETCH_K, np = 0, nm = 0;
    struct sk_cell *theirs = NULL, *ours = NULL;
    uint64_t *plus = NULL, *minus = NULL, n = recon_set_size(s);
    struct sk_match mt = {0};
    int r, ok = 0;

    if (len % (SKETCH_K * SKETCH_CELL_LEN) != 0 || q == 0 || q > SKETCH_Q_MAX)
        return AGAH_EVALUE; /* gossip_decode refuses these first */
    theirs = malloc(m * sizeof *theirs);
    plus = malloc(m * sizeof *plus);
    minus = malloc(m * sizeof *minus);
    if (theirs == NULL || plus == NULL || minus == NULL) {
        r = AGAH_ENOMEM;
        goto out;
    }
    if ((r = sk_build(s, salt, q, 0, &ours)) != 0)
        goto out;
    sk_cells_dec(cells, m, theirs);
    sk_subtract(theirs, ours, m);
    r = sk_peel(theirs, q, salt, plus, &np, minus, &nm, m);
    if (r == AGAH_ENOMEM)
        goto out;
    /* Their count less ours must be what the table says each side has
     * alone: a cheap check against a false decode. */
    if (r == 0 && (uint64_t)np + n == (uint64_t)nm + count) {
        qsort(plus, np, sizeof *plus, sk_u64_cmp);
        qsort(minus, nm, sizeof *minus, sk_u64_cmp);
        mt.salt = salt;
        mt.plus = plus;
        mt.minus = minus;
        mt.np = np;
        mt.nm = nm;
        mt.ids = malloc((nm ? nm : 1) * RECON_ID_LEN);
        mt.seen = calloc(nm ? nm : 1, 1);
        if (mt.ids == NULL || mt.seen == NULL) {
            r = AGAH_ENOMEM;
            goto out;
        }
        if ((r = recon_set_foreach(s, sk_match_cb, &mt)) < 0)
            goto out;
        for (size_t i = 1; i < np; i++)
            if (plus[i] == plus[i - 1])
                mt.bad = 1;
        ok = !mt.bad && mt.nids == nm;
    }
    if (!ok) {
        r = retry ? sketch_initiate(s, NULL, cb, outcome) : sk_range(s, cb, outcome);
        if (r == 0 && retry && outcome != NULL && *outcome == SKETCH_SENT_REQ)
            *outcome = SKETCH_RETRIED;
        goto out;
    }
    for (size_t i = 0; i < np && cb->need_short != NULL; i++)
        cb->need_short(cb->ctx, salt, plus[i]);
    for (size_t i = 0; i < mt.nids && cb->have != NULL; i++)
        cb->have(cb->ctx, mt.ids[i]);
    if (outcome != NULL)
        *outcome = SKETCH_DECODED;
    r = 0;
out:
    free(theirs);
    free(ours);
    free(plus);
    free(minus);
    free(mt.ids);
    free(mt.seen);
    return r;
}

struct sk_give {
    const uint8_t *salt;
    uint64_t want[SKETCH_SHORTS_MAX];
    size_t n;
    void (*give)(void *ctx, const uint8_t id[RECON_ID_LEN]);
    void *ctx;
};

static int sk_give_cb(void *ctx, const uint8_t id[RECON_ID_LEN])
{
    struct sk_give *g = ctx;
    uint64_t sid = sketch_short_id(g->salt, id);

    if (bsearch(&sid, g->want, g->n, sizeof sid, sk_u64_cmp) != NULL)
        g->give(g->ctx, id);
    return 0;
}

int sketch_on_swant(struct recon_set *s, const uint8_t salt[SKETCH_SALT_LEN], const uint8_t *sids,
                    size_t n, void (*give)(void *ctx, const uint8_t id[RECON_ID_LEN]), void *ctx)
{
    struct sk_give g;

    if (n == 0 || n > SKETCH_SHORTS_MAX)
        return AGAH_EVALUE;
    g.salt = salt;
    g.n = n;
    g.give = give;
    g.ctx = ctx;
    for (size_t i = 0; i < n; i++)
        g.want[i] = sk_le64(sids + 8 * i);
    qsort(g.want, n, sizeof g.want[0], sk_u64_cmp);
    return recon_set_foreach(s, sk_give_cb, &g);
}

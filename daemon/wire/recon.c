/* Range-based set reconciliation (Negentropy-style) over the (created, id)
 * of stored records. A bound is (created, id prefix) or infinity; an item
 * lies below a bound when its created is smaller, or equal with an id
 * lexicographically below the prefix. A range's fingerprint is the first 16
 * bytes of BLAKE2b-256 over the sum of its ids (as 256-bit little-endian
 * integers, mod 2^256) followed by the item count (uint64 little-endian).
 * Layout of the messages: proto/PROTOCOL.md, "Reconciliation". */
#define _GNU_SOURCE /* qsort_r */
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <agah/array.h>
#include <agah/mp.h>
#include "recon.h"

#define RECON_MSG_TYPE 5
/* Estimated encoded sizes, upper bounds, used to budget replies. */
#define RECON_EST_BOUND 44
#define RECON_EST_SKIP (RECON_EST_BOUND + 2)
#define RECON_EST_FP (RECON_EST_BOUND + 2 + 2 + RECON_FP_LEN)
#define RECON_EST_IDLIST(k) (RECON_EST_BOUND + 2 + 3 + (k) * (2 + RECON_ID_LEN))
#define RECON_OUT_MAX 65536 /* most ranges in one reply */

/* 12 bytes: created in two halves (4-byte alignment) and a reference
 * that the set's resolver turns into the id. agahd's ids already live in
 * its record view, so the set does not hold a second copy of each. */
struct recon_item {
    uint32_t c_lo, c_hi;
    uint32_t ref;
};

struct recon_set {
    struct recon_item *items; /* sorted, distinct */
    size_t n, cap;
    struct recon_item *tail;  /* unsorted recent additions */
    size_t ntail, tailcap;
    recon_id_fn id_of;        /* NULL: ids are in own[ref - 1] */
    void *ctx;
    uint8_t (*own)[RECON_ID_LEN];
    size_t n_own, cap_own;
};

static uint64_t recon__created(const struct recon_item *it)
{
    return (uint64_t)it->c_hi << 32 | it->c_lo;
}

static const uint8_t *recon__id(const struct recon_set *s, const struct recon_item *it)
{
    return s->id_of != NULL ? s->id_of(s->ctx, it->ref) : s->own[it->ref - 1];
}

struct recon_bound {
    uint64_t created;
    uint8_t prefix[RECON_ID_LEN];
    uint8_t plen;
    uint8_t inf;
};

/* One range of a reply being built. IDLIST ranges point at our items. */
struct recon_out {
    struct recon_bound b;
    int mode;
    uint8_t fp[RECON_FP_LEN];
    size_t lo, hi;
};

/* Orders items by created, then id; the same reference is the same id. */
static int recon__item_cmp(const void *a, const void *b, void *set)
{
    const struct recon_item *x = a, *y = b;
    uint64_t cx = recon__created(x), cy = recon__created(y);

    if (cx != cy)
        return cx < cy ? -1 : 1;
    if (x->ref == y->ref)
        return 0;
    return memcmp(recon__id(set, x), recon__id(set, y), RECON_ID_LEN);
}

int recon_set_new_ext(struct recon_set **out, recon_id_fn id_of, void *ctx)
{
    struct recon_set *s = calloc(1, sizeof *s);

    if (s == NULL)
        return AGAH_ENOMEM;
    s->id_of = id_of;
    s->ctx = ctx;
    *out = s;
    return 0;
}

int recon_set_new(struct recon_set **out)
{
    return recon_set_new_ext(out, NULL, NULL);
}

void recon_set_free(struct recon_set *s)
{
    if (s == NULL)
        return;
    free(s->items);
    free(s->tail);
    free(s->own);
    free(s);
}

void recon_set_clear(struct recon_set *s)
{
    s->n = 0;
    s->ntail = 0;
    s->n_own = 0;
}

/* Room for `need` sorted items, with an eighth more for what comes next:
 * not doubling, which at 100,000 records would hold up to 2.6 MB unused. */
static int recon__reserve(struct recon_set *s, size_t need)
{
    size_t nc;
    struct recon_item *t;

    if (need <= s->cap)
        return 0;
    nc = need + need / 8;
    if (nc < 1024)
        nc = 1024;
    if ((t = realloc(s->items, nc * sizeof *t)) == NULL)
        return AGAH_ENOMEM;
    s->items = t;
    s->cap = nc;
    return 0;
}

static int recon__add(struct recon_set *s, uint64_t created, uint32_t ref);

int recon_set_add(struct recon_set *s, uint64_t created, const uint8_t id[RECON_ID_LEN])
{
    int r;

    if (s->id_of != NULL)
        return AGAH_EINVAL;
    /* Every copy counts, duplicates too, until the set is cleared. */
    if (s->n + s->ntail >= RECON_SET_MAX || s->n_own >= RECON_SET_MAX)
        return AGAH_ETOOBIG;
    if ((r = agah_array_reserve((void **)&s->own, &s->cap_own, s->n_own, sizeof *s->own, 1024,
                                RECON_SET_MAX)) != 0)
        return r;
    memcpy(s->own[s->n_own], id, RECON_ID_LEN);
    s->n_own++;
    return recon__add(s, created, (uint32_t)s->n_own);
}

int recon_set_add_ref(struct recon_set *s, uint64_t created, uint32_t ref)
{
    if (s->id_of == NULL || ref == 0)
        return AGAH_EINVAL;
    if (s->n + s->ntail >= RECON_SET_MAX)
        return AGAH_ETOOBIG;
    return recon__add(s, created, ref);
}

static int recon__add(struct recon_set *s, uint64_t created, uint32_t ref)
{
    struct recon_item it;
    int r;

    it.c_lo = (uint32_t)created;
    it.c_hi = (uint32_t)(created >> 32);
    it.ref = ref;
    /* Records mostly come in order (the store is scanned by created, new
     * ones are newest): those go straight onto the sorted array. */
    if (s->ntail == 0 && (s->n == 0 || recon__item_cmp(&s->items[s->n - 1], &it, s) < 0)) {
        if ((r = recon__reserve(s, s->n + 1)) != 0)
            return r;
        s->items[s->n++] = it;
        return 0;
    }
    if ((r = agah_array_reserve((void **)&s->tail, &s->tailcap, s->ntail, sizeof *s->tail, 256,
                                RECON_SET_MAX)) != 0)
        return r;
    s->tail[s->ntail++] = it;
    return 0;
}

/* Sorts the tail and merges it into the sorted array from the back, so
 * a burst of k insertions costs O(n + k log k) rather than k memmoves. */
static int recon__merge(struct recon_set *s)
{
    size_t i, j, k, need;

    if (s->ntail == 0)
        return 0;
    qsort_r(s->tail, s->ntail, sizeof *s->tail, recon__item_cmp, s);
    need = s->n + s->ntail;
    if (recon__reserve(s, need) != 0)
        return AGAH_ENOMEM;
    /* Merge from the back into items[0..need), then squeeze out
     * duplicates in one forward pass. */
    i = s->n;
    j = s->ntail;
    k = need;
    while (j > 0) {
        if (i > 0 && recon__item_cmp(&s->items[i - 1], &s->tail[j - 1], s) > 0)
            s->items[--k] = s->items[--i];
        else
            s->items[--k] = s->tail[--j];
    }
    for (i = 0, k = 0; i < need; i++)
        if (k == 0 || recon__item_cmp(&s->items[k - 1], &s->items[i], s) != 0)
            s->items[k++] = s->items[i];
    s->n = k;
    s->ntail = 0;
    /* A large tail was a burst out of order (a refill, a catch-up of old
     * records): give its memory back rather than keep it for the next. */
    if (s->tailcap > 4096) {
        free(s->tail);
        s->tail = NULL;
        s->tailcap = 0;
    }
    return 0;
}

size_t recon_set_size(struct recon_set *s)
{
    if (recon__merge(s) != 0)
        return s->n + s->ntail; /* an upper bound; the next merge retries */
    return s->n;
}

int recon_set_has(struct recon_set *s, uint64_t created, const uint8_t id[RECON_ID_LEN])
{
    size_t lo = 0, hi;
    int r;

    if ((r = recon__merge(s)) != 0)
        return r;
    hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        uint64_t c = recon__created(&s->items[mid]);
        int d = c != created ? (c < created ? -1 : 1)
                             : memcmp(recon__id(s, &s->items[mid]), id, RECON_ID_LEN);

        if (d == 0)
            return 1;
        if (d < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

int recon_set_foreach(struct recon_set *s, int (*cb)(void *ctx, const uint8_t id[RECON_ID_LEN]),
                      void *ctx)
{
    int r;

    if ((r = recon__merge(s)) != 0)
        return r;
    for (size_t i = 0; i < s->n; i++)
        if ((r = cb(ctx, recon__id(s, &s->items[i]))) != 0)
            return r;
    return 0;
}

/* --- bounds --- */

static int recon__below(const struct recon_set *s, const struct recon_item *it,
                        const struct recon_bound *b)
{
    uint64_t c = recon__created(it);

    if (b->inf)
        return 1;
    if (c != b->created)
        return c < b->created;
    return memcmp(recon__id(s, it), b->prefix, b->plen) < 0;
}

/* Index of the first item not below b. */
static size_t recon__find(const struct recon_set *s, const struct recon_bound *b)
{
    size_t lo = 0, hi = s->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (recon__below(s, &s->items[mid], b))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int recon__bound_cmp(const struct recon_bound *a, const struct recon_bound *b)
{
    size_t m;
    int c;

    if (a->inf || b->inf)
        return a->inf - b->inf;
    if (a->created != b->created)
        return a->created < b->created ? -1 : 1;
    m = a->plen < b->plen ? a->plen : b->plen;
    if ((c = memcmp(a->prefix, b->prefix, m)) != 0)
        return c;
    return (int)a->plen - (int)b->plen;
}

/* The shortest bound that separates prev (below) from next (not below). */
static void recon__min_bound(const struct recon_set *s, const struct recon_item *prev,
                             const struct recon_item *next, struct recon_bound *b)
{
    memset(b, 0, sizeof *b);
    b->created = recon__created(next);
    if (recon__created(prev) == b->created) {
        const uint8_t *p = recon__id(s, prev), *q = recon__id(s, next);
        size_t l = 0;

        while (l < RECON_ID_LEN - 1 && p[l] == q[l])
            l++;
        b->plen = (uint8_t)(l + 1);
        memcpy(b->prefix, q, b->plen);
    }
}

static void recon__fingerprint(const struct recon_set *s, size_t lo, size_t hi,
                               uint8_t fp[RECON_FP_LEN])
{
    uint64_t acc[4] = {0, 0, 0, 0};
    uint8_t buf[40], h[32];
    uint64_t count = hi - lo;

    for (size_t i = lo; i < hi; i++) {
        const uint8_t *id = recon__id(s, &s->items[i]);
        unsigned carry = 0;

        for (int l = 0; l < 4; l++) {
            uint64_t v = 0, sum;

            for (int b = 7; b >= 0; b--)
                v = (v << 8) | id[8 * l + b];
            sum = acc[l] + v;
            unsigned c1 = sum < v;
            acc[l] = sum + carry;
            carry = c1 | (acc[l] < sum);
        }
    }
    for (int l = 0; l < 4; l++)
        for (int b = 0; b < 8; b++)
            buf[8 * l + b] = (uint8_t)(acc[l] >> (8 * b));
    for (int b = 0; b < 8; b++)
        buf[32 + b] = (uint8_t)(count >> (8 * b));
    (void)crypto_generichash(h, sizeof h, buf, sizeof buf, NULL, 0);
    memcpy(fp, h, RECON_FP_LEN);
}

/* --- decoding --- */

static int recon__bound_dec(const msgpack_object *o, struct recon_bound *b,
                            struct agah_why *why)
{
    const uint8_t *p;
    size_t n;
    uint64_t created;
    int r;

    memset(b, 0, sizeof *b);
    if (o->type == MSGPACK_OBJECT_NIL) {
        b->inf = 1;
        return 0;
    }
    if ((r = agah_mp_array(o, "bound", 2, why)) != 0 ||
        (r = agah_mp_uint(&o->via.array.ptr[0], "bound created", UINT64_MAX, &created,
                          why)) != 0 ||
        (r = agah_mp_bin(&o->via.array.ptr[1], "bound prefix", RECON_ID_LEN, &p, &n, why)) != 0)
        return r;
    b->created = created;
    b->plen = (uint8_t)n;
    if (n > 0)
        memcpy(b->prefix, p, n);
    return 0;
}

static int recon__id_cmp(const void *a, const void *b)
{
    return memcmp(a, b, RECON_ID_LEN);
}

/* Copies and sorts the ids of an IDLIST range into ids[]; refuses
 * duplicates and anything but bin32. */
static int recon__idlist(const msgpack_object *o, uint8_t (*ids)[RECON_ID_LEN], size_t *n,
                         struct agah_why *why)
{
    if (o->type != MSGPACK_OBJECT_ARRAY)
        return agah_fail(why, AGAH_ETYPE, "IDLIST ids: expected an array");
    if (o->via.array.size > RECON_IDLIST_ACCEPT)
        return agah_fail(why, AGAH_ETOOBIG, "IDLIST of %u ids, at most %d",
                         (unsigned)o->via.array.size, RECON_IDLIST_ACCEPT);
    for (size_t i = 0; i < o->via.array.size; i++) {
        int r = agah_mp_bin_exact(&o->via.array.ptr[i], "IDLIST id", RECON_ID_LEN, ids[i], why);
        if (r != 0)
            return r;
    }
    *n = o->via.array.size;
    qsort(ids, *n, RECON_ID_LEN, recon__id_cmp);
    for (size_t i = 1; i < *n; i++)
        if (memcmp(ids[i - 1], ids[i], RECON_ID_LEN) == 0)
            return agah_fail(why, AGAH_EVALUE, "IDLIST repeats an id");
    return 0;
}

/* Checks the whole message without acting on it. */
static int recon__validate(const msgpack_object *msg, struct agah_why *why)
{
    struct recon_bound prev, b;
    const msgpack_object *ranges;
    uint8_t (*ids)[RECON_ID_LEN] = NULL;
    uint64_t type;
    int r;

    if ((r = agah_mp_array(msg, "RECON", 3, why)) != 0 ||
        (r = agah_mp_uint(&msg->via.array.ptr[0], "type", 255, &type, why)) != 0)
        return r;
    if (type != RECON_MSG_TYPE)
        return agah_fail(why, AGAH_EVALUE, "not a RECON message");
    if ((r = recon__bound_dec(&msg->via.array.ptr[1], &prev, why)) != 0)
        return r;
    if (prev.inf)
        return agah_fail(why, AGAH_EVALUE, "RECON lower bound is infinity");
    ranges = &msg->via.array.ptr[2];
    if (ranges->type != MSGPACK_OBJECT_ARRAY || ranges->via.array.size == 0)
        return agah_fail(why, AGAH_ETYPE, "RECON ranges: expected a non-empty array");
    ids = malloc(RECON_IDLIST_ACCEPT * RECON_ID_LEN);
    if (ids == NULL)
        return AGAH_ENOMEM;
    for (size_t i = 0; i < ranges->via.array.size; i++) {
        const msgpack_object *rg = &ranges->via.array.ptr[i];
        uint64_t mode;
        const uint8_t *fp;
        size_t n;

        if (rg->type != MSGPACK_OBJECT_ARRAY || rg->via.array.size < 2 ||
            rg->via.array.size > 3) {
            r = agah_fail(why, AGAH_EFIELDS, "range %zu: expected an array of 2 or 3", i);
            goto out;
        }
        if ((r = recon__bound_dec(&rg->via.array.ptr[0], &b, why)) != 0 ||
            (r = agah_mp_uint(&rg->via.array.ptr[1], "range mode", RECON_IDLIST, &mode,
                              why)) != 0)
            goto out;
        if (recon__bound_cmp(&prev, &b) >= 0) {
            r = agah_fail(why, AGAH_EVALUE, "range %zu: bounds must increase", i);
            goto out;
        }
        if (rg->via.array.size != (mode == RECON_SKIP ? 2u : 3u)) {
            r = agah_fail(why, AGAH_EFIELDS, "range %zu: wrong size for mode %llu", i,
                          (unsigned long long)mode);
            goto out;
        }
        if (mode == RECON_FINGERPRINT &&
            (r = agah_mp_bin(&rg->via.array.ptr[2], "fingerprint", RECON_FP_LEN, &fp, &n,
                             why)) != 0)
            goto out;
        if (mode == RECON_FINGERPRINT && n != RECON_FP_LEN) {
            r = agah_fail(why, AGAH_ETYPE, "fingerprint: expected %d bytes", RECON_FP_LEN);
            goto out;
        }
        if (mode == RECON_IDLIST && (r = recon__idlist(&rg->via.array.ptr[2], ids, &n, why)) != 0)
            goto out;
        prev = b;
    }
    r = 0;
out:
    free(ids);
    return r;
}

/* --- replies --- */

struct recon__reply {
    struct recon_set *s;
    struct recon_out *out;
    size_t n, cap;
    size_t est;     /* estimated bytes so far */
    int overflow;   /* budget reached: the rest is one fingerprint */
    size_t rest_lo; /* where that fingerprint starts */
    size_t visited; /* set items touched, for recon_cb.visited */
};

static int recon__push(struct recon__reply *rp, const struct recon_bound *b, int mode,
                       size_t lo, size_t hi)
{
    struct recon_out *o;
    int r;

    /* Adjacent skips merge into one. */
    if (mode == RECON_SKIP && rp->n > 0 && rp->out[rp->n - 1].mode == RECON_SKIP) {
        rp->out[rp->n - 1].b = *b;
        return 0;
    }
    if ((r = agah_array_reserve((void **)&rp->out, &rp->cap, rp->n, sizeof *rp->out, 64,
                                RECON_OUT_MAX)) != 0)
        return r;
    o = &rp->out[rp->n++];
    o->b = *b;
    o->mode = mode;
    o->lo = lo;
    o->hi = hi;
    if (mode == RECON_FINGERPRINT) {
        recon__fingerprint(rp->s, lo, hi, o->fp);
        rp->visited += hi - lo;
    }
    rp->est += mode == RECON_SKIP ? RECON_EST_SKIP
               : mode == RECON_FINGERPRINT ? RECON_EST_FP : RECON_EST_IDLIST(hi - lo);
    return 0;
}

/* Describes our items [lo, hi) up to bound b: as ids when few, else as
 * RECON_SPLIT fingerprinted sub-ranges of nearly equal counts. */
static int recon__describe(struct recon__reply *rp, size_t lo, size_t hi,
                           const struct recon_bound *b)
{
    size_t n = hi - lo, base, rem, start = lo;
    int r;

    if (n <= RECON_IDLIST_THRESHOLD)
        return recon__push(rp, b, RECON_IDLIST, lo, hi);
    base = n / RECON_SPLIT;
    rem = n % RECON_SPLIT;
    for (size_t j = 0; j < RECON_SPLIT; j++) {
        size_t end = start + base + (j < rem ? 1 : 0);
        struct recon_bound sb;

        if (j == RECON_SPLIT - 1)
            sb = *b;
        else
            recon__min_bound(rp->s, &rp->s->items[end - 1], &rp->s->items[end], &sb);
        if ((r = recon__push(rp, &sb, RECON_FINGERPRINT, start, end)) != 0)
            return r;
        start = end;
    }
    return 0;
}

static int recon__pack_bound(msgpack_packer *pk, const struct recon_bound *b)
{
    if (b->inf)
        return msgpack_pack_nil(pk);
    if (msgpack_pack_array(pk, 2) != 0 || msgpack_pack_uint64(pk, b->created) != 0 ||
        msgpack_pack_bin(pk, b->plen) != 0)
        return -1;
    return b->plen ? msgpack_pack_bin_body(pk, b->prefix, b->plen) : 0;
}

static int recon__pack_range(msgpack_packer *pk, const struct recon_set *s,
                             const struct recon_out *o)
{
    if (msgpack_pack_array(pk, o->mode == RECON_SKIP ? 2 : 3) != 0 ||
        recon__pack_bound(pk, &o->b) != 0 || msgpack_pack_uint64(pk, (uint64_t)o->mode) != 0)
        return -1;
    if (o->mode == RECON_FINGERPRINT)
        return msgpack_pack_bin(pk, RECON_FP_LEN) != 0 ||
               msgpack_pack_bin_body(pk, o->fp, RECON_FP_LEN) != 0 ? -1 : 0;
    if (o->mode == RECON_IDLIST) {
        if (msgpack_pack_array(pk, o->hi - o->lo) != 0)
            return -1;
        for (size_t i = o->lo; i < o->hi; i++)
            if (msgpack_pack_bin(pk, RECON_ID_LEN) != 0 ||
                msgpack_pack_bin_body(pk, recon__id(s, &s->items[i]), RECON_ID_LEN) != 0)
                return -1;
    }
    return 0;
}

static size_t recon__est(const struct recon_out *o)
{
    return o->mode == RECON_SKIP ? RECON_EST_SKIP
           : o->mode == RECON_FINGERPRINT ? RECON_EST_FP : RECON_EST_IDLIST(o->hi - o->lo);
}

/* Packs the reply ranges into messages of about RECON_MSG_BUDGET bytes,
 * each starting where the previous one ended. Messages made only of skips
 * tell the other side nothing and are not sent. */
static int recon__emit(struct recon__reply *rp, const struct recon_bound *lower,
                       const struct recon_cb *cb, size_t *sent)
{
    struct agah_mp_fixbuf fb;
    msgpack_packer pk;
    struct recon_bound lo = *lower;
    size_t i = 0;
    int r = 0;

    fb.cap = RECON_MSG_BUDGET + 4096;
    fb.p = malloc(fb.cap);
    if (fb.p == NULL)
        return AGAH_ENOMEM;
    while (i < rp->n) {
        size_t j = i, est = 0, k;
        int useful = 0;

        while (j < rp->n && (j == i || est + recon__est(&rp->out[j]) <= RECON_MSG_BUDGET)) {
            est += recon__est(&rp->out[j]);
            useful |= rp->out[j].mode != RECON_SKIP;
            j++;
        }
        if (useful) {
            fb.len = 0;
            msgpack_packer_init(&pk, &fb, agah_mp_fixbuf_write);
            if (msgpack_pack_array(&pk, 3) != 0 ||
                msgpack_pack_uint64(&pk, RECON_MSG_TYPE) != 0 ||
                recon__pack_bound(&pk, &lo) != 0 || msgpack_pack_array(&pk, j - i) != 0) {
                r = AGAH_EINTERNAL;
                break;
            }
            for (k = i; k < j; k++)
                if (recon__pack_range(&pk, rp->s, &rp->out[k]) != 0)
                    break;
            if (k < j) {
                r = AGAH_EINTERNAL;
                break;
            }
            if ((r = cb->send(cb->ctx, fb.p, fb.len)) < 0)
                break;
            r = 0;
            if (sent != NULL)
                (*sent)++;
        }
        lo = rp->out[j - 1].b;
        i = j;
    }
    free(fb.p);
    return r;
}

int recon_initiate(struct recon_set *s, const struct recon_cb *cb)
{
    struct recon__reply rp = {.s = s};
    struct recon_bound lower, inf;
    int r;

    if ((r = recon__merge(s)) != 0)
        return r;
    memset(&lower, 0, sizeof lower);
    memset(&inf, 0, sizeof inf);
    inf.inf = 1;
    if ((r = recon__describe(&rp, 0, s->n, &inf)) == 0) {
        /* Even an empty set must speak first, so the other side learns
         * that it has everything to give. */
        struct agah_mp_fixbuf fb;
        msgpack_packer pk;

        fb.cap = RECON_MSG_BUDGET + 4096;
        fb.p = malloc(fb.cap);
        fb.len = 0;
        if (fb.p == NULL) {
            r = AGAH_ENOMEM;
        } else {
            msgpack_packer_init(&pk, &fb, agah_mp_fixbuf_write);
            if (msgpack_pack_array(&pk, 3) != 0 || msgpack_pack_uint64(&pk, RECON_MSG_TYPE) != 0 ||
                recon__pack_bound(&pk, &lower) != 0 || msgpack_pack_array(&pk, rp.n) != 0)
                r = AGAH_EINTERNAL;
            for (size_t i = 0; r == 0 && i < rp.n; i++)
                if (recon__pack_range(&pk, s, &rp.out[i]) != 0)
                    r = AGAH_EINTERNAL;
            if (r == 0 && (r = cb->send(cb->ctx, fb.p, fb.len)) > 0)
                r = 0;
            free(fb.p);
        }
    }
    free(rp.out);
    return r;
}

/* An IDLIST from the other side: every id they list that we lack is a
 * need; every item of ours in the range they did not list is a have, at
 * most *haves_left of them. Returns the index of our first item past the
 * last one reported (hi when the range is settled): the caller answers the
 * rest as a fingerprint. The scan goes on past that index only while
 * listed ids are still unmatched, so that every need is exact; *visited
 * counts the items scanned. */
static size_t recon__diff(struct recon_set *s, size_t lo, size_t hi,
                          uint8_t (*ids)[RECON_ID_LEN], size_t n, uint8_t *seen,
                          const struct recon_cb *cb, size_t *haves_left, size_t *visited)
{
    size_t stop = hi, unseen = n;

    memset(seen, 0, n);
    for (size_t i = lo; i < hi && (stop == hi || unseen > 0); i++) {
        const uint8_t *id = recon__id(s, &s->items[i]);
        uint8_t (*hit)[RECON_ID_LEN] = n ? bsearch(id, ids, n, RECON_ID_LEN, recon__id_cmp)
                                         : NULL;
        (*visited)++;
        if (hit != NULL) {
            if (!seen[hit - ids])
                unseen--;
            seen[hit - ids] = 1;
        } else if (stop == hi && *haves_left == 0) {
            stop = i;
        } else if (stop == hi) {
            (*haves_left)--;
            if (cb->have != NULL)
                cb->have(cb->ctx, id);
        }
    }
    for (size_t k = 0; k < n; k++)
        if (!seen[k] && cb->need != NULL)
            cb->need(cb->ctx, ids[k]);
    return stop;
}

int recon_process(struct recon_set *s, const msgpack_object *msg, const struct recon_cb *cb,
                  size_t *sent, struct agah_why *why)
{
    struct recon__reply rp = {.s = s};
    struct recon_bound lower, b;
    const msgpack_object *ranges;
    uint8_t (*ids)[RECON_ID_LEN] = NULL;
    uint8_t *seen = NULL;
    size_t cur, haves_left = cb->have_max ? cb->have_max : SIZE_MAX;
    int r;

    if ((r = recon__validate(msg, why)) != 0)
        return r;
    if ((r = recon__merge(s)) != 0)
        return r;
    ids = malloc(RECON_IDLIST_ACCEPT * RECON_ID_LEN);
    seen = malloc(RECON_IDLIST_ACCEPT);
    if (ids == NULL || seen == NULL) {
        r = AGAH_ENOMEM;
        goto out;
    }
    (void)recon__bound_dec(&msg->via.array.ptr[1], &lower, NULL);
    ranges = &msg->via.array.ptr[2];
    cur = recon__find(s, &lower);
    for (size_t i = 0; i < ranges->via.array.size; i++) {
        const msgpack_object *rg = &ranges->via.array.ptr[i];
        uint64_t mode = rg->via.array.ptr[1].via.u64;
        size_t end, n;
        uint8_t fp[RECON_FP_LEN];

        (void)recon__bound_dec(&rg->via.array.ptr[0], &b, NULL);
        end = recon__find(s, &b);
        if (rp.overflow) {
            /* Past the budget: what remains of the message is answered as
             * one fingerprint up to its last bound, so the reply stays
             * bounded and the other side continues from there. */
            if (i == ranges->via.array.size - 1 &&
                (r = recon__push(&rp, &b, RECON_FINGERPRINT, rp.rest_lo, end)) != 0)
                goto out;
            continue;
        }
        switch (mode) {
        case RECON_SKIP:
            r = recon__push(&rp, &b, RECON_SKIP, cur, end);
            break;
        case RECON_FINGERPRINT:
            recon__fingerprint(s, cur, end, fp);
            rp.visited += end - cur;
            if (memcmp(fp, rg->via.array.ptr[2].via.bin.ptr, RECON_FP_LEN) == 0)
                r = recon__push(&rp, &b, RECON_SKIP, cur, end);
            else
                r = recon__describe(&rp, cur, end, &b);
            break;
        default: { /* RECON_IDLIST */
            size_t stop;

            (void)recon__idlist(&rg->via.array.ptr[2], ids, &n, NULL);
            stop = recon__diff(s, cur, end, ids, n, seen, cb, &haves_left, &rp.visited);
            if (stop == end) {
                r = recon__push(&rp, &b, RECON_SKIP, cur, end);
                break;
            }
            /* Too many ids of ours to offer for one message: settled up
             * to the last one offered, the rest of the message becomes one
             * fingerprint that the other side splits and lists again, so a
             * small message never makes a large reply (issue 24). */
            if (stop > cur) {
                struct recon_bound mb;

                recon__min_bound(s, &s->items[stop - 1], &s->items[stop], &mb);
                if ((r = recon__push(&rp, &mb, RECON_SKIP, cur, stop)) != 0)
                    goto out;
            }
            rp.overflow = 1;
            rp.rest_lo = stop;
            if (i + 1 == ranges->via.array.size &&
                (r = recon__push(&rp, &b, RECON_FINGERPRINT, stop, end)) != 0)
                goto out;
            cur = end;
            continue;
        }
        }
        if (r != 0)
            goto out;
        if (rp.est > RECON_EXPAND_MAX && i + 1 < ranges->via.array.size) {
            rp.overflow = 1;
            rp.rest_lo = end;
        }
        cur = end;
    }
    r = recon__emit(&rp, &lower, cb, sent);
out:
    if (cb->visited != NULL)
        *cb->visited += rp.visited;
    free(rp.out);
    free(ids);
    free(seen);
    return r;
}

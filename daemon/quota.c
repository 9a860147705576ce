/* Per-author post counts for the quotas, and the rule that keeps each
 * author's posts within them (quota.h). Authors are a few hundred keys,
 * each with, per class, a sorted array of the UTC days it posted on: at
 * most as many days as posts, since a day without posts is removed, so an
 * insider backdating its posts over years costs no more than its quota. */
#include <stdlib.h>
#include <string.h>

#include <agah/array.h>

#include "quota.h"

#define QUOTA_DAY_SECONDS 86400u

static struct quota_limits quota__defaults = {
    .day_posts = {QUOTA_SMALL_DAY, QUOTA_LARGE_DAY},
    .posts = {QUOTA_SMALL_POSTS, QUOTA_LARGE_POSTS},
};

const struct quota_limits *quota_default_limits(void) { return &quota__defaults; }

void quota_scale_defaults(unsigned scale)
{
    for (int k = 0; k < QUOTA_CLASSES; k++) {
        uint64_t d = (uint64_t)(k == 0 ? QUOTA_SMALL_DAY : QUOTA_LARGE_DAY) * scale;
        uint64_t t = (uint64_t)(k == 0 ? QUOTA_SMALL_POSTS : QUOTA_LARGE_POSTS) * scale;
        quota__defaults.day_posts[k] = d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
        quota__defaults.posts[k] = t > UINT32_MAX ? UINT32_MAX : (uint32_t)t;
    }
}

int quota_class_of(size_t len) { return len < QUOTA_SMALL_MAX ? 0 : 1; }

void quota_init(struct quota *q, const struct quota_limits *lim)
{
    memset(q, 0, sizeof *q);
    q->lim = lim != NULL ? *lim : quota__defaults;
    idmap_init(&q->map, QUOTA_AUTHORS_MAX);
}

void quota_clear(struct quota *q)
{
    for (size_t i = 0; i < q->n_a; i++)
        for (int c = 0; c < QUOTA_CLASSES; c++)
            free(q->a[i].c[c].days);
    q->n_a = 0;
    idmap_clear(&q->map);
}

void quota_free(struct quota *q)
{
    quota_clear(q);
    free(q->a);
    idmap_free(&q->map);
    memset(q, 0, sizeof *q);
}

static uint32_t quota__day(uint64_t created)
{
    uint64_t d = created / QUOTA_DAY_SECONDS;
    return d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
}

static struct quota_author *quota__find(const struct quota *q, const uint8_t pk[AGAH_PK_LEN])
{
    uint32_t i;
    return idmap_get(&q->map, pk, &i) ? &q->a[i] : NULL;
}

/* The index of `day` in the class's array, or where it would go. */
static size_t quota__day_pos(const struct quota_class *c, uint32_t day)
{
    size_t lo = 0, hi = c->n_days;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->days[mid].day < day)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Posts of the class dated `day`. */
static uint32_t quota__day_n(const struct quota_class *c, uint32_t day)
{
    size_t at = quota__day_pos(c, day);
    return at < c->n_days && c->days[at].day == day ? c->days[at].n : 0;
}

static int quota__author(struct quota *q, const uint8_t pk[AGAH_PK_LEN],
                         struct quota_author **out)
{
    struct quota_author *a = quota__find(q, pk);
    int r;

    if (a != NULL) {
        *out = a;
        return 0;
    }
    if ((r = agah_array_reserve((void **)&q->a, &q->cap_a, q->n_a, sizeof *q->a, 16,
                                QUOTA_AUTHORS_MAX)) != 0)
        return r;
    if ((r = idmap_put(&q->map, pk, (uint32_t)q->n_a)) != 0)
        return r;
    a = &q->a[q->n_a++];
    memset(a, 0, sizeof *a);
    memcpy(a->pk, pk, AGAH_PK_LEN);
    *out = a;
    return 0;
}

int quota_add(struct quota *q, const uint8_t author[AGAH_PK_LEN], uint64_t created, size_t len)
{
    struct quota_author *a;
    struct quota_class *c;
    uint32_t day = quota__day(created);
    size_t at;
    int r;

    if ((r = quota__author(q, author, &a)) != 0)
        return r;
    c = &a->c[quota_class_of(len)];
    at = quota__day_pos(c, day);
    if (at == c->n_days || c->days[at].day != day) {
        if ((r = agah_array_reserve((void **)&c->days, &c->cap_days, c->n_days,
                                    sizeof *c->days, 4, SIZE_MAX)) != 0)
            return r;
        memmove(&c->days[at + 1], &c->days[at], (c->n_days - at) * sizeof *c->days);
        c->days[at].day = day;
        c->days[at].n = 0;
        c->n_days++;
    }
    c->days[at].n++;
    c->posts++;
    return 0;
}

void quota_sub(struct quota *q, const uint8_t author[AGAH_PK_LEN], uint64_t created, size_t len)
{
    struct quota_author *a = quota__find(q, author);
    struct quota_class *c;
    uint32_t day = quota__day(created);
    size_t at;

    if (a == NULL)
        return;
    c = &a->c[quota_class_of(len)];
    at = quota__day_pos(c, day);
    if (at < c->n_days && c->days[at].day == day && --c->days[at].n == 0) {
        memmove(&c->days[at], &c->days[at + 1], (c->n_days - at - 1) * sizeof *c->days);
        c->n_days--;
    }
    if (c->posts > 0)
        c->posts--;
}

int quota_over(const struct quota *q, const uint8_t author[AGAH_PK_LEN], uint64_t created,
               size_t len, int *day)
{
    const struct quota_author *a = quota__find(q, author);
    int k = quota_class_of(len);

    *day = 0;
    if (a == NULL)
        return 0;
    if (quota__day_n(&a->c[k], quota__day(created)) > q->lim.day_posts[k]) {
        *day = 1;
        return 1;
    }
    return a->c[k].posts > q->lim.posts[k];
}

int quota_over_any(const struct quota *q, const uint8_t author[AGAH_PK_LEN])
{
    const struct quota_author *a = quota__find(q, author);

    if (a == NULL)
        return 0;
    for (int k = 0; k < QUOTA_CLASSES; k++) {
        if (a->c[k].posts > q->lim.posts[k])
            return 1;
        for (size_t i = 0; i < a->c[k].n_days; i++)
            if (a->c[k].days[i].n > q->lim.day_posts[k])
                return 1;
    }
    return 0;
}

void quota_get(const struct quota *q, const uint8_t author[AGAH_PK_LEN], size_t len,
               uint64_t created, uint32_t *posts, uint32_t *day_posts)
{
    const struct quota_author *a = quota__find(q, author);
    int k = quota_class_of(len);

    *posts = a != NULL ? a->c[k].posts : 0;
    *day_posts = a != NULL ? quota__day_n(&a->c[k], quota__day(created)) : 0;
}

size_t quota_n_authors(const struct quota *q) { return q->n_a; }

const uint8_t *quota_author_pk(const struct quota *q, size_t i)
{
    return i < q->n_a ? q->a[i].pk : NULL;
}

/* (created, id) order. */
static int quota__cmp(uint64_t ca, const uint8_t *ia, uint64_t cb, const uint8_t *ib)
{
    if (ca != cb)
        return ca < cb ? -1 : 1;
    return memcmp(ia, ib, AGAH_HASH_LEN);
}

int quota_admit(struct quota *q, struct store *st, const uint8_t author[AGAH_PK_LEN],
                uint64_t created, const uint8_t id[AGAH_HASH_LEN], size_t len,
                quota_drop_fn drop, void *ctx)
{
    struct store_post last;
    uint64_t lo = 0, hi = UINT64_MAX;
    size_t len_lo = 0, len_hi = QUOTA_SMALL_MAX - 1;
    uint32_t before, after, d;
    int r, day;

    if ((r = quota_add(q, author, created, len)) != 0)
        return r;
    if (!quota_over(q, author, created, len, &day))
        return 0;
    /* Over by one: the day's latest post of the class goes if the day is
     * over, else the class's latest. Replacing one post of a day by an
     * earlier one leaves the total as it was, so one step is enough. */
    if (day) {
        lo = created - created % QUOTA_DAY_SECONDS;
        hi = lo + QUOTA_DAY_SECONDS - 1;
    }
    if (quota_class_of(len) != 0) {
        len_lo = QUOTA_SMALL_MAX;
        len_hi = SIZE_MAX;
    }
    if ((r = store_post_last(st, author, lo, hi, len_lo, len_hi, &last)) < 0)
        goto refuse;
    if (r == 0 || quota__cmp(created, id, last.created, last.id) > 0) {
        r = AGAH_EQUOTA;
        goto refuse;
    }
    quota_get(q, author, len, created, &before, &d);
    if ((r = drop(ctx, &last)) != 0)
        goto refuse;
    quota_get(q, author, len, created, &after, &d);
    if (after >= before || quota_over(q, author, created, len, &day)) {
        r = AGAH_EINTERNAL; /* the counts and the store disagree */
        goto refuse;
    }
    return 0;
refuse:
    quota_sub(q, author, created, len);
    return r;
}

/* One author's posts in order, counted afresh: a post is kept if it fits
 * with the kept ones before it (which is the rule, as the walk never
 * counts a post it drops). */
struct quota_walk {
    struct quota fresh;
    const uint8_t *author;
    struct store_post *drop;
    size_t n, cap;
};

static int quota__walk_cb(void *ctx, const struct store_post *p)
{
    struct quota_walk *w = ctx;
    int r, day;

    if ((r = quota_add(&w->fresh, w->author, p->created, p->len)) != 0)
        return r;
    if (!quota_over(&w->fresh, w->author, p->created, p->len, &day))
        return 0;
    quota_sub(&w->fresh, w->author, p->created, p->len);
    if ((r = agah_array_reserve((void **)&w->drop, &w->cap, w->n, sizeof *w->drop, 64,
                                SIZE_MAX)) != 0)
        return r;
    w->drop[w->n++] = *p;
    return 0;
}

static int quota__trim(struct quota *q, struct store *st, const uint8_t author[AGAH_PK_LEN],
                       quota_drop_fn drop, void *ctx, size_t *dropped)
{
    struct quota_walk w;
    int r;

    memset(&w, 0, sizeof w);
    quota_init(&w.fresh, &q->lim);
    w.author = author;
    r = store_scan_posts(st, author, quota__walk_cb, &w);
    for (size_t i = 0; r == 0 && i < w.n; i++) {
        r = drop(ctx, &w.drop[i]);
        (*dropped)++;
    }
    free(w.drop);
    quota_free(&w.fresh);
    return r;
}

int quota_trim_all(struct quota *q, struct store *st, quota_drop_fn drop, void *ctx,
                   size_t *dropped)
{
    int r = 0;

    *dropped = 0;
    for (size_t i = 0; r == 0 && i < q->n_a; i++) {
        uint8_t pk[AGAH_PK_LEN];
        if (!quota_over_any(q, q->a[i].pk))
            continue;
        memcpy(pk, q->a[i].pk, AGAH_PK_LEN);
        r = quota__trim(q, st, pk, drop, ctx, dropped);
    }
    return r;
}

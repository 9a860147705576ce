/* Which network secrets a node dials with and accepts: netsecret.h. */
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <agah/agah.h>
#include "netsecret.h"

struct netsecret_cache {
    size_t n, next;
    struct { uint8_t id[AGAH_HASH_LEN], s[32]; } e[NETSECRET_CACHE];
    /* The last answer of netsecret_collect and what it was made from. */
    int have_set;
    uint64_t set_gen, set_keys, set_at;
    uint8_t set_fallback[32];
    struct netsecret_set set;
};

int netsecret_cache_new(struct netsecret_cache **out)
{
    struct netsecret_cache *c = sodium_malloc(sizeof *c);
    if (c == NULL)
        return AGAH_ENOMEM;
    sodium_memzero(c, sizeof *c);
    *out = c;
    return 0;
}

void netsecret_cache_free(struct netsecret_cache *c)
{
    if (c != NULL)
        sodium_free(c); /* wipes */
}

/* Whether a comes after b in the order newest first: higher number first,
 * then the lower id (as memb_posting_epoch ranks them). */
static int ns__after(const struct memb_epoch *a, const struct memb_epoch *b)
{
    if (a->number != b->number)
        return a->number < b->number;
    return memcmp(a->id, b->id, AGAH_HASH_LEN) > 0;
}

/* The secret that epochs naming net_id carry, from the cache or opened
 * from the newest such epoch this node can open. 0 or < 0. */
static int ns__get(const struct memb *m, struct netsecret_cache *c, netsecret_open_fn open,
                   void *ctx, const uint8_t net_id[AGAH_HASH_LEN], uint8_t out[32])
{
    long best = -1;
    for (size_t i = 0; i < c->n; i++)
        if (memcmp(c->e[i].id, net_id, AGAH_HASH_LEN) == 0) {
            memcpy(out, c->e[i].s, 32);
            return 0;
        }
    for (;;) {
        /* Newest first among those not tried yet. */
        long pick = -1;
        for (size_t i = 0; i < m->n_ep; i++) {
            const struct memb_epoch *e = &m->ep[i];
            if (!e->valid || memcmp(e->net_id, net_id, AGAH_HASH_LEN) != 0 ||
                (best >= 0 && !ns__after(e, &m->ep[best])))
                continue;
            if (pick < 0 || ns__after(&m->ep[pick], e))
                pick = (long)i;
        }
        if (pick < 0)
            return AGAH_ENOENT;
        best = pick;
        if (open(ctx, (size_t)pick, out) == 0)
            break;
    }
    memcpy(c->e[c->next].id, net_id, AGAH_HASH_LEN);
    memcpy(c->e[c->next].s, out, 32);
    c->next = (c->next + 1) % NETSECRET_CACHE;
    if (c->n < NETSECRET_CACHE)
        c->n++;
    return 0;
}

static int ns__has(const struct netsecret_set *out, const uint8_t s[32])
{
    for (size_t i = 0; i < out->n; i++)
        if (sodium_memcmp(out->s[i], s, 32) == 0)
            return 1;
    return 0;
}

static void ns__add(struct netsecret_set *out, const uint8_t s[32])
{
    if (ns__has(out, s))
        return;
    if (out->n < NETSECRET_MAX)
        memcpy(out->s[out->n++], s, 32);
}

/* Whether `secret` is the one some valid epoch carries (an earlier one,
 * past its grace), looking at NETSECRET_SCAN distinct net ids at most. */
static int ns__known(const struct memb *m, struct netsecret_cache *c, netsecret_open_fn open,
                     void *ctx, const uint8_t secret[32])
{
    const uint8_t *seen[NETSECRET_SCAN];
    size_t n_seen = 0;
    uint8_t s[32];
    int found = 0;

    for (size_t i = 0; i < m->n_ep && n_seen < NETSECRET_SCAN && !found; i++) {
        int dup = 0;
        if (!m->ep[i].valid)
            continue;
        for (size_t k = 0; k < n_seen && !dup; k++)
            dup = memcmp(seen[k], m->ep[i].net_id, AGAH_HASH_LEN) == 0;
        if (dup)
            continue;
        seen[n_seen++] = m->ep[i].net_id;
        found = ns__get(m, c, open, ctx, m->ep[i].net_id, s) == 0 && sodium_memcmp(s, secret, 32) == 0;
    }
    sodium_memzero(s, sizeof s);
    return found;
}

static const struct memb *ns__sort_m;

static int ns__cmp(const void *pa, const void *pb)
{
    const struct memb_epoch *a = &ns__sort_m->ep[*(const uint32_t *)pa];
    const struct memb_epoch *b = &ns__sort_m->ep[*(const uint32_t *)pb];
    if (ns__after(a, b))
        return 1;
    return ns__after(b, a) ? -1 : 0;
}

/* netsecret_collect's work, when the cache cannot answer. */
static void ns__collect(const struct memb *m, uint64_t now, struct netsecret_cache *c,
                        netsecret_open_fn open, void *ctx, const uint8_t fallback[32],
                        struct netsecret_set *out)
{
    static uint32_t idx[MEMB_MAX_EPOCHS];
    long post = memb_posting_epoch(m, now);
    uint8_t s[32];
    int have_post = 0;
    size_t n = 0;

    out->n = 0;
    out->have_post = 0;
    out->post_i = 0;
    if (post >= 0 && ns__get(m, c, open, ctx, m->ep[post].net_id, s) == 0) {
        ns__add(out, s);
        have_post = 1;
    }
    /* Then the secrets of the valid epochs within the grace, newest first. */
    for (size_t i = 0; i < m->n_ep && n < MEMB_MAX_EPOCHS; i++)
        if (m->ep[i].valid && m->ep[i].created + NETSECRET_GRACE_S >= now)
            idx[n++] = (uint32_t)i;
    ns__sort_m = m; /* single-threaded daemon: qsort has no context argument */
    qsort(idx, n, sizeof idx[0], ns__cmp);
    /* Bounded work: a hostile organiser's thousands of epochs cost no more
     * than NETSECRET_SCAN lookups (the cache answers repeats). */
    for (size_t k = 0; k < n && k < NETSECRET_SCAN && out->n < NETSECRET_MAX; k++) {
        const uint8_t *nid = m->ep[idx[k]].net_id;
        int seen = 0;
        for (size_t j = 0; j < k && !seen; j++)
            seen = memcmp(m->ep[idx[j]].net_id, nid, AGAH_HASH_LEN) == 0;
        if (!seen && ns__get(m, c, open, ctx, nid, s) == 0)
            ns__add(out, s);
    }
    out->have_post = have_post;
    if (have_post)
        memcpy(out->post_net_id, m->ep[post].net_id, AGAH_HASH_LEN);
    out->fallback_known = fallback != NULL &&
                          (ns__has(out, fallback) || ns__known(m, c, open, ctx, fallback));
    if (fallback != NULL && !out->fallback_known) {
        /* A secret newer than any this node can open (a rejoin's code, or a
         * join code's before the records arrive): dial with it first. */
        if (out->n == NETSECRET_MAX)
            out->n--;
        memmove(out->s[1], out->s[0], out->n * 32);
        memcpy(out->s[0], fallback, 32);
        out->n++;
        out->post_i = 1;
    }
    sodium_memzero(s, sizeof s);
}

void netsecret_collect(const struct memb *m, uint64_t now, struct netsecret_cache *c,
                       netsecret_open_fn open, void *ctx, uint64_t keys,
                       const uint8_t fallback[32], struct netsecret_set *out)
{
    static const uint8_t none[32];
    const uint8_t *fb = fallback != NULL ? fallback : none;

    if (c->have_set && c->set_gen == m->gen && c->set_keys == keys && c->set_at == now &&
        sodium_memcmp(c->set_fallback, fb, 32) == 0) {
        *out = c->set;
        return;
    }
    ns__collect(m, now, c, open, ctx, fallback, out);
    c->set = *out;
    c->set_gen = m->gen;
    c->set_keys = keys;
    c->set_at = now;
    memcpy(c->set_fallback, fb, 32);
    c->have_set = 1;
}

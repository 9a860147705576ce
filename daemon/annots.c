/* The annotation index of the alert view; see annots.h. Every change is
 * O(1) (a hash, a few links); a group's earliest record is kept as records
 * arrive and, when it leaves, looked for again on the next read, so a
 * bulk removal (an expired alert, a revoked author) walks each group once. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <agah/array.h>
#include "annots.h"

void annots_init(struct annots *an, size_t max)
{
    memset(an, 0, sizeof *an);
    an->free_n = an->free_g = an->free_s = ANNOTS_NIL;
    idmap_init(&an->by_ref, max);
    idmap_init(&an->by_grp, max);
}

void annots_free(struct annots *an)
{
    free(an->n);
    free(an->g);
    free(an->s);
    idmap_free(&an->by_ref);
    idmap_free(&an->by_grp);
    memset(an, 0, sizeof *an);
}

static int annots__type(int type) { return type == AGAH_REC_RETRACT; }

static void annots__grp_key(const uint8_t ref[AGAH_HASH_LEN], const uint8_t author[AGAH_PK_LEN],
                            int type, uint8_t key[32])
{
    uint8_t in[AGAH_HASH_LEN + AGAH_PK_LEN + 1];

    memcpy(in, ref, AGAH_HASH_LEN);
    memcpy(in + AGAH_HASH_LEN, author, AGAH_PK_LEN);
    in[sizeof in - 1] = (uint8_t)annots__type(type);
    (void)crypto_generichash(key, 32, in, sizeof in, NULL, 0);
}

/* Grows one of the three arrays to hold one more entry. */
static int annots__grow(void **arr, size_t *cap, size_t n, size_t size, size_t max)
{
    return agah_array_reserve(arr, cap, n, size, 256, max);
}

int annots_slot(struct annots *an, uint32_t *idx)
{
    int r;

    if (an->free_n != ANNOTS_NIL) {
        *idx = an->free_n;
        return 0;
    }
    if ((r = annots__grow((void **)&an->n, &an->cap_n, an->n_n, sizeof *an->n,
                          an->by_ref.max)) != 0)
        return r;
    *idx = (uint32_t)an->n_n;
    return 0;
}

/* Whether a is earlier than b: lower created, then lower id. */
static int annots__before(const struct annot_ent *a, const struct annot_ent *b)
{
    if (a->created != b->created)
        return a->created < b->created;
    return memcmp(a->id, b->id, AGAH_HASH_LEN) < 0;
}

/* The alert's entry, made if new: 0 and *out, or an error. */
static int annots__sum(struct annots *an, const uint8_t ref[AGAH_HASH_LEN], uint32_t *out)
{
    uint32_t si;
    int r;

    if (idmap_get(&an->by_ref, ref, out))
        return 0;
    if (an->free_s != ANNOTS_NIL) {
        si = an->free_s;
    } else {
        if ((r = annots__grow((void **)&an->s, &an->cap_s, an->n_s, sizeof *an->s,
                              an->by_ref.max)) != 0)
            return r;
        si = (uint32_t)an->n_s;
    }
    if ((r = idmap_put(&an->by_ref, ref, si)) != 0)
        return r;
    if (si == an->n_s)
        an->n_s++;
    else
        an->free_s = an->s[si].first[0];
    memset(&an->s[si], 0, sizeof an->s[si]);
    memcpy(an->s[si].ref, ref, AGAH_HASH_LEN);
    an->s[si].first[0] = an->s[si].first[1] = ANNOTS_NIL;
    *out = si;
    return 0;
}

static void annots__sum_release(struct annots *an, uint32_t si)
{
    struct annot_sum *s = &an->s[si];

    if (s->groups[0] != 0 || s->groups[1] != 0)
        return;
    (void)idmap_del(&an->by_ref, s->ref);
    memset(s, 0, sizeof *s);
    s->first[0] = an->free_s;
    an->free_s = si;
}

/* The group of (ref, author, type), made if new and filed under sum si. */
static int annots__grp(struct annots *an, uint32_t si, const uint8_t author[AGAH_PK_LEN],
                       int type, uint32_t *out)
{
    struct annot_sum *s = &an->s[si];
    uint8_t key[32];
    uint32_t gi;
    int t = annots__type(type), r;

    annots__grp_key(s->ref, author, type, key);
    if (idmap_get(&an->by_grp, key, out))
        return 0;
    if (an->free_g != ANNOTS_NIL) {
        gi = an->free_g;
    } else {
        if ((r = annots__grow((void **)&an->g, &an->cap_g, an->n_g, sizeof *an->g,
                              an->by_grp.max)) != 0)
            return r;
        gi = (uint32_t)an->n_g;
    }
    if ((r = idmap_put(&an->by_grp, key, gi)) != 0)
        return r;
    if (gi == an->n_g)
        an->n_g++;
    else
        an->free_g = an->g[gi].next;
    memset(&an->g[gi], 0, sizeof an->g[gi]);
    memcpy(an->g[gi].author, author, AGAH_PK_LEN);
    an->g[gi].sum = si;
    an->g[gi].type = type;
    an->g[gi].first = an->g[gi].best = ANNOTS_NIL;
    an->g[gi].prev = ANNOTS_NIL;
    an->g[gi].next = s->first[t];
    if (s->first[t] != ANNOTS_NIL)
        an->g[s->first[t]].prev = gi;
    s->first[t] = gi;
    s->groups[t]++;
    *out = gi;
    return 0;
}

static void annots__grp_release(struct annots *an, uint32_t gi)
{
    struct annot_grp *g = &an->g[gi];
    struct annot_sum *s = &an->s[g->sum];
    uint32_t si = g->sum;
    uint8_t key[32];
    int t = annots__type(g->type);

    if (g->n != 0)
        return;
    annots__grp_key(s->ref, g->author, g->type, key);
    (void)idmap_del(&an->by_grp, key);
    if (g->prev != ANNOTS_NIL)
        an->g[g->prev].next = g->next;
    else
        s->first[t] = g->next;
    if (g->next != ANNOTS_NIL)
        an->g[g->next].prev = g->prev;
    s->groups[t]--;
    memset(g, 0, sizeof *g);
    g->next = an->free_g;
    an->free_g = gi;
    annots__sum_release(an, si);
}

int annots_link(struct annots *an, uint32_t idx, const uint8_t ref[AGAH_HASH_LEN],
                const uint8_t author[AGAH_PK_LEN], uint64_t created, int type)
{
    struct annot_ent *e;
    struct annot_grp *g;
    uint32_t si, gi;
    int r;

    if ((r = annots__sum(an, ref, &si)) != 0)
        return r;
    if ((r = annots__grp(an, si, author, type, &gi)) != 0) {
        annots__sum_release(an, si);
        return r;
    }
    if (idx == an->n_n)
        an->n_n++;
    else
        an->free_n = an->n[idx].next;
    e = &an->n[idx];
    g = &an->g[gi];
    memcpy(e->ref, ref, AGAH_HASH_LEN);
    memcpy(e->author, author, AGAH_PK_LEN);
    e->created = created;
    e->type = type;
    e->grp = gi;
    e->prev = ANNOTS_NIL;
    e->next = g->first;
    if (g->first != ANNOTS_NIL)
        an->n[g->first].prev = idx;
    g->first = idx;
    /* An empty group's best is its first record; a group whose best left
     * is looked at again on the next read, not now. */
    if (g->n == 0 || (g->best != ANNOTS_NIL && annots__before(e, &an->n[g->best])))
        g->best = idx;
    g->n++;
    an->s[si].records[annots__type(type)]++;
    return 0;
}

void annots_unlink(struct annots *an, uint32_t idx)
{
    struct annot_ent *e = &an->n[idx];
    struct annot_grp *g = &an->g[e->grp];
    uint32_t gi = e->grp;

    if (e->prev != ANNOTS_NIL)
        an->n[e->prev].next = e->next;
    else
        g->first = e->next;
    if (e->next != ANNOTS_NIL)
        an->n[e->next].prev = e->prev;
    if (g->best == idx)
        g->best = ANNOTS_NIL;
    g->n--;
    an->s[g->sum].records[annots__type(e->type)]--;
    memset(e, 0, sizeof *e);
    e->next = an->free_n;
    an->free_n = idx;
    annots__grp_release(an, gi);
}

static const struct annot_sum *annots__find(const struct annots *an,
                                            const uint8_t ref[AGAH_HASH_LEN])
{
    uint32_t si;

    return idmap_get(&an->by_ref, ref, &si) ? &an->s[si] : NULL;
}

uint32_t annots_authors(const struct annots *an, const uint8_t ref[AGAH_HASH_LEN], int type)
{
    const struct annot_sum *s = an->n_s > 0 ? annots__find(an, ref) : NULL;

    return s == NULL ? 0 : s->groups[annots__type(type)];
}

uint32_t annots_records(const struct annots *an, const uint8_t ref[AGAH_HASH_LEN], int type)
{
    const struct annot_sum *s = an->n_s > 0 ? annots__find(an, ref) : NULL;

    return s == NULL ? 0 : s->records[annots__type(type)];
}

int annots_by(const struct annots *an, const uint8_t ref[AGAH_HASH_LEN],
              const uint8_t author[AGAH_PK_LEN], int type)
{
    uint8_t key[32];

    if (an->n_g == 0)
        return 0;
    annots__grp_key(ref, author, type, key);
    return idmap_get(&an->by_grp, key, NULL);
}

uint32_t annots_grp_first(struct annots *an, const uint8_t ref[AGAH_HASH_LEN], int type)
{
    const struct annot_sum *s = an->n_s > 0 ? annots__find(an, ref) : NULL;
    uint32_t gi = s == NULL ? ANNOTS_NIL : s->first[annots__type(type)];

    an->visits += gi != ANNOTS_NIL;
    return gi;
}

uint32_t annots_grp_next(struct annots *an, uint32_t grp)
{
    uint32_t gi = an->g[grp].next;

    an->visits += gi != ANNOTS_NIL;
    return gi;
}

const struct annot_ent *annots_grp_best(struct annots *an, uint32_t grp)
{
    struct annot_grp *g = &an->g[grp];

    if (g->best == ANNOTS_NIL) {
        /* Its best left (annots_unlink): one walk finds the next. */
        for (uint32_t i = g->first; i != ANNOTS_NIL; i = an->n[i].next) {
            an->visits++;
            if (g->best == ANNOTS_NIL || annots__before(&an->n[i], &an->n[g->best]))
                g->best = i;
        }
    }
    return &an->n[g->best];
}

/* Open-addressing hash map of 32-byte keys; see idmap.h. The table is kept
 * at most 3/4 full so probe runs stay short. */
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <agah/error.h>
#include <agah/keys.h>
#include "idmap.h"

#define IDMAP_MIN_CAP 64

static size_t idmap__slot(const struct idmap *m, const uint8_t key[32])
{
    uint8_t h[crypto_shorthash_BYTES];
    uint64_t v;
    (void)crypto_shorthash(h, key, 32, m->sip);
    memcpy(&v, h, sizeof v);
    return (size_t)v & (m->cap - 1);
}

void idmap_init(struct idmap *m, size_t max)
{
    memset(m, 0, sizeof *m);
    m->max = max;
    (void)agah_init();
    randombytes_buf(m->sip, sizeof m->sip);
}

void idmap_free(struct idmap *m)
{
    free(m->keys);
    free(m->vals);
    m->keys = NULL;
    m->vals = NULL;
    m->cap = m->n = 0;
}

void idmap_clear(struct idmap *m)
{
    if (m->vals != NULL)
        memset(m->vals, 0, m->cap * sizeof *m->vals);
    m->n = 0;
}

int idmap_get(const struct idmap *m, const uint8_t key[32], uint32_t *val)
{
    if (m->n == 0)
        return 0;
    for (size_t i = idmap__slot(m, key);; i = (i + 1) & (m->cap - 1)) {
        if (m->vals[i] == 0)
            return 0;
        if (memcmp(m->keys[i], key, 32) == 0) {
            if (val != NULL)
                *val = m->vals[i] - 1;
            return 1;
        }
    }
}

/* Rehashes into a table of `cap` slots. */
static int idmap__grow(struct idmap *m, size_t cap)
{
    struct idmap next = *m;
    next.cap = cap;
    next.n = 0;
    next.keys = malloc(cap * sizeof *next.keys);
    next.vals = calloc(cap, sizeof *next.vals);
    if (next.keys == NULL || next.vals == NULL) {
        free(next.keys);
        free(next.vals);
        return AGAH_ENOMEM;
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (m->vals[i] == 0)
            continue;
        size_t j = idmap__slot(&next, m->keys[i]);
        while (next.vals[j] != 0)
            j = (j + 1) & (cap - 1);
        memcpy(next.keys[j], m->keys[i], 32);
        next.vals[j] = m->vals[i];
        next.n++;
    }
    free(m->keys);
    free(m->vals);
    *m = next;
    return 0;
}

int idmap_put(struct idmap *m, const uint8_t key[32], uint32_t val)
{
    size_t i;
    int r;

    if (val == UINT32_MAX)
        return AGAH_EINVAL;
    if (m->cap == 0 || (m->n + 1) * 4 > m->cap * 3) {
        size_t cap = m->cap == 0 ? IDMAP_MIN_CAP : m->cap * 2;
        if (cap > SIZE_MAX / 64)
            return AGAH_ENOMEM;
        if ((r = idmap__grow(m, cap)) != 0)
            return r;
    }
    for (i = idmap__slot(m, key); m->vals[i] != 0; i = (i + 1) & (m->cap - 1)) {
        if (memcmp(m->keys[i], key, 32) == 0) {
            m->vals[i] = val + 1;
            return 0;
        }
    }
    if (m->n >= m->max)
        return AGAH_ETOOBIG;
    memcpy(m->keys[i], key, 32);
    m->vals[i] = val + 1;
    m->n++;
    return 0;
}

int idmap_del(struct idmap *m, const uint8_t key[32])
{
    size_t i, j, mask;

    if (m->n == 0)
        return 0;
    mask = m->cap - 1;
    for (i = idmap__slot(m, key);; i = (i + 1) & mask) {
        if (m->vals[i] == 0)
            return 0;
        if (memcmp(m->keys[i], key, 32) == 0)
            break;
    }
    /* Backward-shift deletion: pull later members of the probe run into
     * the hole so no tombstone markers are needed. */
    for (j = (i + 1) & mask; m->vals[j] != 0; j = (j + 1) & mask) {
        size_t home = idmap__slot(m, m->keys[j]);
        /* Move j to i when its home is not cyclically in (i, j]. */
        int in_range = (i <= j) ? (home > i && home <= j) : (home > i || home <= j);
        if (!in_range) {
            memcpy(m->keys[i], m->keys[j], 32);
            m->vals[i] = m->vals[j];
            i = j;
        }
    }
    m->vals[i] = 0;
    m->n--;
    return 1;
}

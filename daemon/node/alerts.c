/* The in-memory record view; see alerts.h. Slots of the alert, annotation
 * and other-id arrays are reused through free lists so indexes stay stable
 * while entries come and go. Both hash tables use open addressing with
 * linear probing and backward-shift deletion, keyed by SipHash under a
 * random per-process key, so a peer choosing ids or targets cannot pile
 * them into one probe run. */
#define _DEFAULT_SOURCE /* madvise, MADV_DONTDUMP */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sodium.h>
#include <agah/array.h>
#include "alerts.h"
#include "log.h"

#define ALERTS_TMIN 1024
#define ALERTS_IMIN 64
/* The id table's references: the array in the top two bits, index + 1
 * below (so 0 stays free for an empty slot). */
#define ALERTS_K_ALERT 0u
#define ALERTS_K_ANNOT 1u
#define ALERTS_K_OTHER 2u /* stored, not in the view */
#define ALERTS_K_TOMB 3u
#define ALERTS_KSHIFT 30
#define ALERTS_IMASK ((1u << ALERTS_KSHIFT) - 1)
/* Arena references: chunk index in the high 16 bits, offset in the low. */
#define ALERTS_CHUNK 65536u
#define ALERTS_MAX_CHUNKS 65536u
/* Compact the arena once this much is dead and more than is live. */
#define ALERTS_DEAD_MIN (4u * ALERTS_CHUNK)

/* One entry per cache line's worth; every index fits beside the kind. */
_Static_assert(sizeof(struct alert_ent) == 64, "alert_ent is 64 bytes");
_Static_assert(ALERTS_MAX_IDS < ALERTS_IMASK && ALERTS_MAX < ALERTS_IMASK,
               "indexes fit in an id reference");

static uint32_t alerts__ref(uint32_t kind, uint32_t idx)
{
    return (kind << ALERTS_KSHIFT) | (idx + 1);
}
static uint32_t alerts__kind(uint32_t ref) { return ref >> ALERTS_KSHIFT; }
static uint32_t alerts__idx(uint32_t ref) { return (ref & ALERTS_IMASK) - 1; }

void alerts_init(struct alerts *al)
{
    memset(al, 0, sizeof *al);
    al->free_a = ALERTS_NIL;
    al->free_o = ALERTS_NIL;
    idmap_init(&al->au_map, ALERTS_MAX);
    annots_init(&al->an, ALERTS_MAX);
    (void)agah_init();
    randombytes_buf(al->sip, sizeof al->sip);
}

/* A chunk for plaintext: page-aligned, locked into RAM so it is never
 * written to swap, and left out of core dumps. Locking is best effort
 * (RLIMIT_MEMLOCK bounds it; SECURITY.md says what is then not locked):
 * al->n_locked counts the chunks it held for, and the first refusal is
 * logged once. */
static int alerts__chunk_new(struct alerts *al, struct alerts_chunk *c)
{
    void *p = NULL;
    *c = (struct alerts_chunk){0};
    if (posix_memalign(&p, 4096, ALERTS_CHUNK) != 0)
        return AGAH_ENOMEM;
    c->mem = p;
    (void)madvise(p, ALERTS_CHUNK, MADV_DONTDUMP);
    if (mlock(p, ALERTS_CHUNK) == 0) {
        c->locked = 1;
        al->n_locked++;
    } else if (!al->lock_warned) {
        al->lock_warned = 1;
        log_warn("decrypted alerts past %zu KiB are not locked in memory (RLIMIT_MEMLOCK): "
                 "they may be written to swap; see SECURITY.md",
                 al->n_locked * (ALERTS_CHUNK / 1024));
    }
    return 0;
}

/* Wipes what a chunk held and gives it back. */
static void alerts__chunk_free(struct alerts *al, struct alerts_chunk *c)
{
    if (c->mem == NULL)
        return;
    sodium_memzero(c->mem, c->used);
    if (c->locked) {
        (void)munlock(c->mem, ALERTS_CHUNK);
        al->n_locked--;
    }
    free(c->mem);
    c->mem = NULL;
    c->locked = 0;
}

size_t alerts_locked_bytes(const struct alerts *al) { return al->n_locked * ALERTS_CHUNK; }

void alerts_free(struct alerts *al)
{
    for (size_t i = 0; i < al->n_ch; i++)
        alerts__chunk_free(al, &al->ch[i]);
    if (al->a != NULL)
        sodium_memzero(al->a, al->n_a * sizeof *al->a);
    free(al->ch);
    free(al->a);
    free(al->ts);
    free(al->is);
    free(al->o);
    free(al->au);
    annots_free(&al->an);
    idmap_free(&al->au_map);
    memset(al, 0, sizeof *al);
}

static uint32_t alerts__hash(const struct alerts *al, const void *p, size_t len)
{
    uint8_t h[crypto_shorthash_BYTES];
    uint32_t v;
    (void)crypto_shorthash(h, p, len, al->sip);
    memcpy(&v, h, sizeof v);
    return v;
}

/* ------------------------------------------------------------------ */
/* Slot tables                                                         */

/* Rehashes a table into `cap` slots; homes come from the stored hash
 * bits, so no key is read. */
static int alerts__sgrow(struct alerts_slot **t, size_t *tcap, size_t cap)
{
    struct alerts_slot *nt = calloc(cap, sizeof *nt), *ot = *t;
    if (nt == NULL)
        return AGAH_ENOMEM;
    for (size_t i = 0; i < *tcap; i++) {
        size_t j;
        if (ot[i].ref == 0)
            continue;
        for (j = ot[i].h & (cap - 1); nt[j].ref != 0; j = (j + 1) & (cap - 1))
            ;
        nt[j] = ot[i];
    }
    free(ot);
    *t = nt;
    *tcap = cap;
    return 0;
}

/* Empties slot i, pulling later members of its probe run back into the
 * hole so no tombstone markers are needed. */
static void alerts__sdel(struct alerts_slot *t, size_t cap, size_t i)
{
    size_t mask = cap - 1;
    for (size_t j = (i + 1) & mask; t[j].ref != 0; j = (j + 1) & mask) {
        size_t home = t[j].h & mask;
        /* Move j to i when its home is not cyclically in (i, j]. */
        int in_range = (i <= j) ? (home > i && home <= j) : (home > i || home <= j);
        if (!in_range) {
            t[i] = t[j];
            i = j;
        }
    }
    t[i].ref = 0;
}

/* ------------------------------------------------------------------ */
/* The id set                                                          */

static const uint8_t *alerts__idkey(const struct alerts *al, uint32_t ref)
{
    uint32_t i = alerts__idx(ref);
    switch (alerts__kind(ref)) {
    case ALERTS_K_ALERT:
        return al->a[i].id;
    case ALERTS_K_ANNOT:
        return al->an.n[i].id;
    default:
        return al->o[i];
    }
}

/* The slot holding id (*found = 1) or the empty slot where it would go.
 * The table must have slots. */
static size_t alerts__ifind(const struct alerts *al, const uint8_t id[AGAH_HASH_LEN],
                            uint32_t h, int *found)
{
    size_t mask = al->icap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        uint32_t ref = al->is[i].ref;
        if (ref == 0) {
            *found = 0;
            return i;
        }
        if (al->is[i].h == h && memcmp(alerts__idkey(al, ref), id, AGAH_HASH_LEN) == 0) {
            *found = 1;
            return i;
        }
    }
}

/* The slot of id, or SIZE_MAX. */
static size_t alerts__ilookup(const struct alerts *al, const uint8_t id[AGAH_HASH_LEN])
{
    int found;
    size_t s;
    if (al->in == 0)
        return SIZE_MAX;
    s = alerts__ifind(al, id, alerts__hash(al, id, AGAH_HASH_LEN), &found);
    return found ? s : SIZE_MAX;
}

/* Inserts an id known to be absent. */
static int alerts__iinsert(struct alerts *al, const uint8_t id[AGAH_HASH_LEN], uint32_t ref)
{
    uint32_t h = alerts__hash(al, id, AGAH_HASH_LEN);
    size_t s;
    int found, r;

    if (al->in >= ALERTS_MAX_IDS)
        return AGAH_ETOOBIG;
    if ((al->in + 1) * 4 > al->icap * 3 &&
        (r = alerts__sgrow(&al->is, &al->icap, al->icap == 0 ? ALERTS_IMIN : al->icap * 2)) != 0)
        return r;
    s = alerts__ifind(al, id, h, &found);
    al->is[s].ref = ref;
    al->is[s].h = h;
    al->in++;
    return 0;
}

static void alerts__iremove(struct alerts *al, size_t slot)
{
    alerts__sdel(al->is, al->icap, slot);
    al->in--;
    al->ref_gen++;
}

/* A slot of o[] holding id. */
static int alerts__o_take(struct alerts *al, const uint8_t id[AGAH_HASH_LEN], uint32_t *idx)
{
    if (al->free_o != ALERTS_NIL) {
        *idx = al->free_o;
        memcpy(&al->free_o, al->o[*idx], sizeof al->free_o);
    } else {
        int r = agah_array_reserve((void **)&al->o, &al->cap_o, al->n_o, sizeof *al->o, 64,
                                   ALERTS_MAX_IDS);
        if (r != 0)
            return r;
        *idx = (uint32_t)al->n_o++;
    }
    memcpy(al->o[*idx], id, AGAH_HASH_LEN);
    return 0;
}

static void alerts__o_release(struct alerts *al, uint32_t idx)
{
    al->ref_gen++; /* the id moved into the view, or left */
    memset(al->o[idx], 0, AGAH_HASH_LEN);
    memcpy(al->o[idx], &al->free_o, sizeof al->free_o);
    al->free_o = idx;
}

int alerts_id_state(const struct alerts *al, const uint8_t id[AGAH_HASH_LEN])
{
    size_t s = alerts__ilookup(al, id);
    if (s == SIZE_MAX)
        return ALERTS_ID_NONE;
    return alerts__kind(al->is[s].ref) == ALERTS_K_TOMB ? ALERTS_ID_TOMB : ALERTS_ID_STORED;
}

int alerts_id_mark(struct alerts *al, const uint8_t id[AGAH_HASH_LEN], int state)
{
    uint32_t kind, idx;
    size_t s;
    int r;

    if (state != ALERTS_ID_STORED && state != ALERTS_ID_TOMB)
        return AGAH_EINVAL;
    kind = state == ALERTS_ID_TOMB ? ALERTS_K_TOMB : ALERTS_K_OTHER;
    if ((s = alerts__ilookup(al, id)) != SIZE_MAX) {
        uint32_t k = alerts__kind(al->is[s].ref);
        if (k == ALERTS_K_OTHER || k == ALERTS_K_TOMB) {
            al->is[s].ref = alerts__ref(kind, alerts__idx(al->is[s].ref));
            return 0;
        }
        if (state == ALERTS_ID_STORED)
            return 0; /* the view holds it, so it is stored */
        /* A tombstone replaces the view's entry. */
        (void)alerts_id_forget(al, id);
    }
    if ((r = alerts__o_take(al, id, &idx)) != 0)
        return r;
    if ((r = alerts__iinsert(al, id, alerts__ref(kind, idx))) != 0)
        alerts__o_release(al, idx);
    return r;
}

int alerts_id_forget(struct alerts *al, const uint8_t id[AGAH_HASH_LEN])
{
    size_t s = alerts__ilookup(al, id);
    uint32_t ref;

    if (s == SIZE_MAX)
        return 0;
    ref = al->is[s].ref;
    switch (alerts__kind(ref)) {
    case ALERTS_K_ALERT:
        return alerts_remove(al, id);
    case ALERTS_K_ANNOT:
        return alerts_annot_remove(al, id);
    default:
        alerts__iremove(al, s);
        alerts__o_release(al, alerts__idx(ref));
        return 1;
    }
}

size_t alerts_id_count(const struct alerts *al) { return al->in; }

uint32_t alerts_id_ref(const struct alerts *al, const uint8_t id[AGAH_HASH_LEN])
{
    size_t s = alerts__ilookup(al, id);
    return s == SIZE_MAX ? 0 : al->is[s].ref;
}

const uint8_t *alerts_ref_id(const struct alerts *al, uint32_t ref)
{
    static const uint8_t none[AGAH_HASH_LEN];
    uint32_t i = alerts__idx(ref);
    size_t n;

    switch (alerts__kind(ref)) {
    case ALERTS_K_ALERT:
        n = al->n_a;
        break;
    case ALERTS_K_ANNOT:
        n = al->an.n_n;
        break;
    default:
        n = al->n_o;
        break;
    }
    /* The arrays never shrink, so only a reference never handed out can
     * be out of range; it reads as an id of zeros rather than past the end. */
    return ref != 0 && i < n ? alerts__idkey(al, ref) : none;
}

uint64_t alerts_ref_gen(const struct alerts *al) { return al->ref_gen; }

/* ------------------------------------------------------------------ */
/* The string arena                                                    */

static char *alerts__str(const struct alerts *al, uint32_t ref)
{
    return al->ch[ref >> 16].mem + (ref & 0xffffu);
}

/* Bytes of the "target\0" string at p. */
static size_t alerts__strlen(const char *p) { return strlen(p) + 1; }

/* A chunk with room for len more bytes: the current one, else a fresh one
 * in the first unused index. */
static int alerts__chunk_for(struct alerts *al, size_t len, size_t *ci)
{
    size_t i;
    if (al->n_ch > 0 && al->ch[al->cur_ch].mem != NULL &&
        ALERTS_CHUNK - al->ch[al->cur_ch].used >= len) {
        *ci = al->cur_ch;
        return 0;
    }
    for (i = 0; i < al->n_ch && al->ch[i].mem != NULL; i++)
        ;
    if (i == al->n_ch) {
        int r = agah_array_reserve((void **)&al->ch, &al->cap_ch, al->n_ch, sizeof *al->ch, 16,
                                   ALERTS_MAX_CHUNKS);
        if (r != 0)
            return r;
        al->ch[al->n_ch++] = (struct alerts_chunk){0};
    }
    if (alerts__chunk_new(al, &al->ch[i]) != 0)
        return AGAH_ENOMEM;
    al->cur_ch = i;
    *ci = i;
    return 0;
}

/* Copies the target ("" for none) into the arena. Notes are not kept
 * here: the node reads one from the store when an answer shows it, so a
 * flood of long notes costs disk, not RAM (issue 24). */
static int alerts__str_put(struct alerts *al, const char *target, uint32_t *ref)
{
    size_t tl = strnlen(target, AGAH_TARGET_MAX - 1), len = tl + 1, ci;
    char *d;
    int r;

    if ((r = alerts__chunk_for(al, len, &ci)) != 0)
        return r;
    d = al->ch[ci].mem + al->ch[ci].used;
    memcpy(d, target, tl);
    d[tl] = '\0';
    *ref = (uint32_t)(ci << 16) | al->ch[ci].used;
    al->ch[ci].used += (uint32_t)len;
    al->ch[ci].live += (uint32_t)len;
    al->str_live += len;
    return 0;
}

/* Rewrites every live string into fresh chunks, in entry order, so dead
 * bytes left by removals are given back. All chunks are allocated before
 * anything moves; on failure nothing changes. */
static void alerts__compact(struct alerts *al)
{
    size_t need = 0, fill = ALERTS_CHUNK, k = 0;
    struct alerts_chunk *nc = NULL;

    for (size_t i = 0; i < al->n_a; i++) {
        size_t len;
        if (!al->a[i].live)
            continue;
        len = alerts__strlen(alerts__str(al, al->a[i].str));
        if (fill + len > ALERTS_CHUNK) {
            need++;
            fill = 0;
        }
        fill += len;
    }
    if (need > ALERTS_MAX_CHUNKS || (need > 0 && (nc = calloc(need, sizeof *nc)) == NULL))
        return;
    for (k = 0; k < need; k++)
        if (alerts__chunk_new(al, &nc[k]) != 0)
            break;
    if (k < need) {
        while (k > 0)
            alerts__chunk_free(al, &nc[--k]);
        free(nc);
        return;
    }
    k = 0;
    for (size_t i = 0; i < al->n_a; i++) {
        const char *s;
        size_t len;
        if (!al->a[i].live)
            continue;
        s = alerts__str(al, al->a[i].str);
        len = alerts__strlen(s);
        if (nc[k].used + len > ALERTS_CHUNK)
            k++;
        memcpy(nc[k].mem + nc[k].used, s, len);
        al->a[i].str = (uint32_t)(k << 16) | nc[k].used;
        nc[k].used += (uint32_t)len;
        nc[k].live += (uint32_t)len;
    }
    for (size_t i = 0; i < al->n_ch; i++)
        alerts__chunk_free(al, &al->ch[i]);
    free(al->ch);
    al->ch = nc;
    al->n_ch = al->cap_ch = need;
    al->cur_ch = need > 0 ? need - 1 : 0;
    al->str_dead = 0;
}

/* Wipes an entry's strings and gives their bytes back. */
static void alerts__str_drop(struct alerts *al, uint32_t ref)
{
    struct alerts_chunk *c = &al->ch[ref >> 16];
    char *p = alerts__str(al, ref);
    size_t len = alerts__strlen(p);

    sodium_memzero(p, len);
    c->live -= (uint32_t)len;
    al->str_live -= len;
    al->str_dead += len;
    if (c->live == 0) {
        /* Alerts expire roughly in the order they came, so whole chunks
         * empty out: free them, or refill the current one from its start. */
        al->str_dead -= c->used;
        c->used = 0;
        if ((size_t)(c - al->ch) != al->cur_ch)
            alerts__chunk_free(al, c);
    }
    if (al->str_dead > ALERTS_DEAD_MIN && al->str_dead > al->str_live)
        alerts__compact(al);
}

/* ------------------------------------------------------------------ */
/* Authors                                                             */

static int alerts__author_idx(struct alerts *al, const uint8_t pk[AGAH_PK_LEN], uint32_t *idx)
{
    int r;
    if (idmap_get(&al->au_map, pk, idx))
        return 0;
    if ((r = agah_array_reserve((void **)&al->au, &al->cap_au, al->n_au, sizeof *al->au, 16,
                                ALERTS_MAX)) != 0)
        return r;
    if ((r = idmap_put(&al->au_map, pk, (uint32_t)al->n_au)) != 0)
        return r;
    memcpy(al->au[al->n_au], pk, AGAH_PK_LEN);
    *idx = (uint32_t)al->n_au++;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Alerts                                                              */

const char *alerts_target(const struct alerts *al, const struct alert_ent *e)
{
    return alerts__str(al, e->str);
}

const uint8_t *alerts_author(const struct alerts *al, const struct alert_ent *e)
{
    return al->au[e->author];
}

/* The target-table slot of the bucket of `target` (hash h), or the empty
 * slot where it goes. Buckets hold one exact target each: a slot whose
 * hash bits match is checked against its first alert's string. */
static size_t alerts__tfind(const struct alerts *al, const char *target, uint32_t h)
{
    size_t mask = al->tcap - 1, i;
    for (i = h & mask; al->ts[i].ref != 0; i = (i + 1) & mask)
        if (al->ts[i].h == h &&
            strcmp(alerts__str(al, al->a[al->ts[i].ref - 1].str), target) == 0)
            break;
    return i;
}

int alerts_add(struct alerts *al, const uint8_t id[AGAH_HASH_LEN],
               const uint8_t author[AGAH_PK_LEN], uint64_t created, uint64_t expires,
               const struct agah_alert_body *body)
{
    struct alert_ent e;
    size_t islot = alerts__ilookup(al, id);
    uint32_t idx, th = 0;
    int has_target = body->target[0] != '\0', r;

    if (islot != SIZE_MAX) {
        uint32_t k = alerts__kind(al->is[islot].ref);
        if (k == ALERTS_K_ALERT || k == ALERTS_K_ANNOT)
            return 0;
    }
    memset(&e, 0, sizeof e);
    memcpy(e.id, id, AGAH_HASH_LEN);
    e.created = created;
    e.expires = expires;
    e.kind = (uint8_t)body->kind;
    e.category = (uint8_t)body->category;
    e.severity = (uint8_t)body->severity;
    e.live = 1;
    e.tnext = ALERTS_NIL;
    if ((r = alerts__author_idx(al, author, &e.author)) != 0)
        return r;
    if (has_target && (al->tn + 1) * 2 > al->tcap &&
        (r = alerts__sgrow(&al->ts, &al->tcap, al->tcap == 0 ? ALERTS_TMIN : al->tcap * 2)) != 0)
        return r;
    /* Take a slot: a freed one, or a new one at the end. */
    if (al->free_a != ALERTS_NIL) {
        idx = al->free_a;
    } else {
        if ((r = agah_array_reserve((void **)&al->a, &al->cap_a, al->n_a, sizeof *al->a, 1024,
                                    ALERTS_MAX)) != 0)
            return r;
        idx = (uint32_t)al->n_a;
    }
    if ((r = alerts__str_put(al, body->target, &e.str)) != 0)
        return r;
    /* The id goes in last of the steps that can fail: until then nothing
     * points at the new entry. */
    if (islot != SIZE_MAX) {
        alerts__o_release(al, alerts__idx(al->is[islot].ref));
        al->is[islot].ref = alerts__ref(ALERTS_K_ALERT, idx);
    } else if ((r = alerts__iinsert(al, id, alerts__ref(ALERTS_K_ALERT, idx))) != 0) {
        /* The slot was not taken yet; only the strings go back. */
        alerts__str_drop(al, e.str);
        sodium_memzero(&e, sizeof e);
        return r;
    }
    if (idx == al->n_a)
        al->n_a++;
    else
        al->free_a = al->a[idx].tnext;
    if (has_target) {
        const char *t = alerts__str(al, e.str);
        size_t s;
        th = alerts__hash(al, t, strlen(t));
        s = alerts__tfind(al, t, th);
        if (al->ts[s].ref == 0) {
            al->ts[s].h = th;
            al->tn++;
        } else {
            e.tnext = al->ts[s].ref - 1;
        }
        al->ts[s].ref = idx + 1;
    }
    al->a[idx] = e;
    al->live++;
    return 1;
}

int alerts_remove(struct alerts *al, const uint8_t id[AGAH_HASH_LEN])
{
    size_t islot = alerts__ilookup(al, id);
    uint32_t idx;
    struct alert_ent *e;
    const char *t;

    if (islot == SIZE_MAX || alerts__kind(al->is[islot].ref) != ALERTS_K_ALERT)
        return 0;
    idx = alerts__idx(al->is[islot].ref);
    e = &al->a[idx];
    t = alerts__str(al, e->str);
    if (t[0] != '\0') {
        size_t s = alerts__tfind(al, t, alerts__hash(al, t, strlen(t)));
        if (al->ts[s].ref != 0) {
            uint32_t cur = al->ts[s].ref - 1;
            if (cur == idx) {
                if (e->tnext == ALERTS_NIL) {
                    alerts__sdel(al->ts, al->tcap, s);
                    al->tn--;
                } else {
                    al->ts[s].ref = e->tnext + 1;
                }
            } else {
                while (al->a[cur].tnext != ALERTS_NIL && al->a[cur].tnext != idx)
                    cur = al->a[cur].tnext;
                if (al->a[cur].tnext == idx)
                    al->a[cur].tnext = e->tnext;
            }
        }
    }
    alerts__iremove(al, islot);
    e->live = 0; /* before the drop: a compaction it starts skips this entry */
    alerts__str_drop(al, e->str);
    e = &al->a[idx];
    sodium_memzero(e, sizeof *e);
    e->tnext = al->free_a;
    al->free_a = idx;
    al->live--;
    return 1;
}

const struct alert_ent *alerts_get(const struct alerts *al, const uint8_t id[AGAH_HASH_LEN])
{
    size_t s = alerts__ilookup(al, id);
    if (s == SIZE_MAX || alerts__kind(al->is[s].ref) != ALERTS_K_ALERT)
        return NULL;
    return &al->a[alerts__idx(al->is[s].ref)];
}

const struct alert_ent *alerts_first(const struct alerts *al, const char *target)
{
    size_t len, s;
    if (al->tn == 0)
        return NULL;
    len = strnlen(target, AGAH_TARGET_MAX);
    if (len == 0 || len >= AGAH_TARGET_MAX)
        return NULL;
    s = alerts__tfind(al, target, alerts__hash(al, target, len));
    return al->ts[s].ref == 0 ? NULL : &al->a[al->ts[s].ref - 1];
}

const struct alert_ent *alerts_next(const struct alerts *al, const struct alert_ent *prev)
{
    /* A bucket chains one exact target, so no compare is needed. */
    return prev->tnext == ALERTS_NIL ? NULL : &al->a[prev->tnext];
}

/* ------------------------------------------------------------------ */
/* Annotations                                                         */

int alerts_annot_add(struct alerts *al, const uint8_t id[AGAH_HASH_LEN],
                     const uint8_t ref[AGAH_HASH_LEN], const uint8_t author[AGAH_PK_LEN],
                     uint64_t created, int type)
{
    size_t islot = alerts__ilookup(al, id);
    uint32_t idx;
    int r;

    if (islot != SIZE_MAX) {
        uint32_t k = alerts__kind(al->is[islot].ref);
        if (k == ALERTS_K_ALERT || k == ALERTS_K_ANNOT)
            return 0;
    }
    if ((r = annots_slot(&al->an, &idx)) != 0)
        return r;
    /* The id table reads the key from the entry. */
    memcpy(al->an.n[idx].id, id, AGAH_HASH_LEN);
    if ((r = annots_link(&al->an, idx, ref, author, created, type)) != 0)
        return r; /* the slot was not taken */
    if (islot != SIZE_MAX) {
        alerts__o_release(al, alerts__idx(al->is[islot].ref));
        al->is[islot].ref = alerts__ref(ALERTS_K_ANNOT, idx);
    } else if ((r = alerts__iinsert(al, id, alerts__ref(ALERTS_K_ANNOT, idx))) != 0) {
        annots_unlink(&al->an, idx);
        return r;
    }
    return 1;
}

int alerts_annot_remove(struct alerts *al, const uint8_t id[AGAH_HASH_LEN])
{
    size_t islot = alerts__ilookup(al, id);
    uint32_t idx;

    if (islot == SIZE_MAX || alerts__kind(al->is[islot].ref) != ALERTS_K_ANNOT)
        return 0;
    idx = alerts__idx(al->is[islot].ref);
    alerts__iremove(al, islot);
    annots_unlink(&al->an, idx);
    return 1;
}

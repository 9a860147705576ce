/* The in-memory alert view; see alerts.h. Slots of the alert and
 * annotation arrays are reused through free lists so indexes stay stable
 * while entries come and go. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "alerts.h"

#define ALERTS_TMIN 1024

void alerts_init(struct alerts *al)
{
    memset(al, 0, sizeof *al);
    al->free_a = ALERTS_NIL;
    al->free_n = ALERTS_NIL;
    idmap_init(&al->by_id, ALERTS_MAX);
    idmap_init(&al->by_ref, ALERTS_MAX);
    idmap_init(&al->annot_ids, ALERTS_MAX);
    (void)agah_init();
    randombytes_buf(al->sip, sizeof al->sip);
}

/* Wipes and frees an entry's strings: target and note share one block,
 * which starts at the target, or at the note when there is no target. */
static void alerts__wipe_strs(struct alert_ent *e)
{
    char *block = e->target != NULL ? e->target : e->note;
    if (block != NULL && e->note != NULL) {
        sodium_memzero(block, (size_t)(e->note - block) + strlen(e->note));
        free(block);
    }
    e->target = e->note = NULL;
}

void alerts_free(struct alerts *al)
{
    for (size_t i = 0; i < al->n_a; i++)
        alerts__wipe_strs(&al->a[i]);
    free(al->a);
    free(al->ts);
    free(al->n);
    idmap_free(&al->by_id);
    idmap_free(&al->by_ref);
    idmap_free(&al->annot_ids);
    memset(al, 0, sizeof *al);
}

static uint64_t alerts__thash(const struct alerts *al, const char *t, size_t len)
{
    uint8_t h[crypto_shorthash_BYTES];
    uint64_t v;
    (void)crypto_shorthash(h, (const uint8_t *)t, len, al->sip);
    memcpy(&v, h, sizeof v);
    return v;
}

/* The bucket slot for hash h: its index, or the empty slot where it goes. */
static size_t alerts__tslot(const struct alerts *al, uint64_t h)
{
    size_t i = (size_t)h & (al->tcap - 1);
    while (al->ts[i].head != 0 && al->ts[i].h != h)
        i = (i + 1) & (al->tcap - 1);
    return i;
}

static int alerts__tgrow(struct alerts *al)
{
    size_t cap = al->tcap == 0 ? ALERTS_TMIN : al->tcap * 2;
    struct alerts_tslot *ts = calloc(cap, sizeof *ts), *ots = al->ts;
    size_t ocap = al->tcap;

    if (ts == NULL)
        return AGAH_ENOMEM;
    al->ts = ts;
    al->tcap = cap;
    for (size_t i = 0; i < ocap; i++)
        if (ots[i].head != 0)
            ts[alerts__tslot(al, ots[i].h)] = ots[i];
    free(ots);
    return 0;
}

/* Copies target (NULL for none) and note into one block, target first:
 * one allocation per alert, and a lookup that matched the target finds
 * the note next to it. */
static int alerts__dup_strs(struct alert_ent *e, const char *target, const char *note)
{
    size_t tl = target != NULL ? strnlen(target, AGAH_TARGET_MAX - 1) : 0;
    size_t nl = strnlen(note, AGAH_NOTE_MAX);
    size_t toff = target != NULL ? tl + 1 : 0;
    char *d = malloc(toff + nl + 1);

    if (d == NULL)
        return AGAH_ENOMEM;
    if (target != NULL) {
        memcpy(d, target, tl);
        d[tl] = '\0';
        e->target = d;
    }
    memcpy(d + toff, note, nl);
    d[toff + nl] = '\0';
    e->note = d + toff;
    return 0;
}

int alerts_add(struct alerts *al, const uint8_t id[AGAH_HASH_LEN],
               const uint8_t author[AGAH_PK_LEN], uint64_t created, uint64_t expires,
               const struct agah_alert_body *body)
{
    struct alert_ent e;
    uint32_t idx;
    int r = AGAH_ENOMEM;

    if (idmap_get(&al->by_id, id, NULL))
        return 0;
    memset(&e, 0, sizeof e);
    memcpy(e.id, id, AGAH_HASH_LEN);
    memcpy(e.author, author, AGAH_PK_LEN);
    e.created = created;
    e.expires = expires;
    e.kind = (uint8_t)body->kind;
    e.category = (uint8_t)body->category;
    e.severity = (uint8_t)body->severity;
    e.live = 1;
    e.tnext = ALERTS_NIL;
    if (alerts__dup_strs(&e, body->target[0] != '\0' ? body->target : NULL, body->note) != 0)
        goto fail;
    if (e.target != NULL) {
        e.thash = alerts__thash(al, e.target, strlen(e.target));
        if ((al->tn + 1) * 2 > al->tcap && (r = alerts__tgrow(al)) != 0)
            goto fail;
    }
    /* Take a slot: a freed one, or a new one at the end. */
    if (al->free_a != ALERTS_NIL) {
        idx = al->free_a;
        al->free_a = al->a[idx].tnext;
    } else {
        if (al->n_a >= ALERTS_MAX) {
            r = AGAH_ETOOBIG;
            goto fail;
        }
        if (al->n_a == al->cap_a) {
            size_t cap = al->cap_a == 0 ? 1024 : al->cap_a * 2;
            struct alert_ent *p = realloc(al->a, cap * sizeof *p);
            if (p == NULL)
                goto fail;
            al->a = p;
            al->cap_a = cap;
        }
        idx = (uint32_t)al->n_a++;
        al->a[idx].live = 0;
    }
    if ((r = idmap_put(&al->by_id, id, idx)) != 0) {
        al->a[idx].tnext = al->free_a;
        al->free_a = idx;
        goto fail;
    }
    if (e.target != NULL) {
        size_t s = alerts__tslot(al, e.thash);
        if (al->ts[s].head == 0) {
            al->ts[s].h = e.thash;
            al->tn++;
        } else {
            e.tnext = al->ts[s].head - 1;
        }
        al->ts[s].head = idx + 1;
    }
    al->a[idx] = e;
    al->live++;
    return 1;
fail:
    alerts__wipe_strs(&e);
    return r;
}

/* Removes bucket slot i, shifting later members of its run back. */
static void alerts__tdel(struct alerts *al, size_t i)
{
    size_t mask = al->tcap - 1;
    for (size_t j = (i + 1) & mask; al->ts[j].head != 0; j = (j + 1) & mask) {
        size_t home = (size_t)al->ts[j].h & mask;
        int in_range = (i <= j) ? (home > i && home <= j) : (home > i || home <= j);
        if (!in_range) {
            al->ts[i] = al->ts[j];
            i = j;
        }
    }
    al->ts[i].head = 0;
    al->tn--;
}

int alerts_remove(struct alerts *al, const uint8_t id[AGAH_HASH_LEN])
{
    uint32_t idx;
    struct alert_ent *e;

    if (!idmap_get(&al->by_id, id, &idx))
        return 0;
    e = &al->a[idx];
    if (e->target != NULL) {
        size_t s = alerts__tslot(al, e->thash);
        if (al->ts[s].head != 0) {
            uint32_t cur = al->ts[s].head - 1;
            if (cur == idx) {
                if (e->tnext == ALERTS_NIL)
                    alerts__tdel(al, s);
                else
                    al->ts[s].head = e->tnext + 1;
            } else {
                while (al->a[cur].tnext != ALERTS_NIL && al->a[cur].tnext != idx)
                    cur = al->a[cur].tnext;
                if (al->a[cur].tnext == idx)
                    al->a[cur].tnext = e->tnext;
            }
        }
    }
    (void)idmap_del(&al->by_id, id);
    alerts__wipe_strs(e);
    sodium_memzero(e, sizeof *e);
    e->tnext = al->free_a;
    al->free_a = idx;
    al->live--;
    return 1;
}

const struct alert_ent *alerts_get(const struct alerts *al, const uint8_t id[AGAH_HASH_LEN])
{
    uint32_t idx;
    if (!idmap_get(&al->by_id, id, &idx))
        return NULL;
    return &al->a[idx];
}

/* From index i on, the first alert in the chain whose target is `target`.
 * Every member of a chain has the same 64-bit hash, so the string compare
 * is the only one left; it almost always matches. */
static const struct alert_ent *alerts__match(const struct alerts *al, uint32_t i,
                                             const char *target)
{
    for (; i != ALERTS_NIL; i = al->a[i].tnext)
        if (strcmp(al->a[i].target, target) == 0)
            return &al->a[i];
    return NULL;
}

const struct alert_ent *alerts_first(const struct alerts *al, const char *target)
{
    size_t len, s;
    if (al->tn == 0)
        return NULL;
    len = strnlen(target, AGAH_TARGET_MAX);
    if (len == 0 || len >= AGAH_TARGET_MAX)
        return NULL;
    s = alerts__tslot(al, alerts__thash(al, target, len));
    if (al->ts[s].head == 0)
        return NULL;
    return alerts__match(al, al->ts[s].head - 1, target);
}

const struct alert_ent *alerts_next(const struct alerts *al, const struct alert_ent *prev)
{
    return alerts__match(al, prev->tnext, prev->target);
}

int alerts_annot_add(struct alerts *al, const uint8_t id[AGAH_HASH_LEN],
                     const uint8_t ref[AGAH_HASH_LEN], const uint8_t author[AGAH_PK_LEN],
                     uint64_t created, int type)
{
    uint32_t idx, head;
    int r;

    if (idmap_get(&al->annot_ids, id, NULL))
        return 0;
    if (al->free_n != ALERTS_NIL) {
        idx = al->free_n;
        al->free_n = al->n[idx].next;
    } else {
        if (al->n_n >= ALERTS_MAX)
            return AGAH_ETOOBIG;
        if (al->n_n == al->cap_n) {
            size_t cap = al->cap_n == 0 ? 1024 : al->cap_n * 2;
            struct annot_ent *p = realloc(al->n, cap * sizeof *p);
            if (p == NULL)
                return AGAH_ENOMEM;
            al->n = p;
            al->cap_n = cap;
        }
        idx = (uint32_t)al->n_n++;
    }
    if ((r = idmap_put(&al->annot_ids, id, idx)) != 0)
        goto fail;
    head = ALERTS_NIL;
    (void)idmap_get(&al->by_ref, ref, &head);
    if ((r = idmap_put(&al->by_ref, ref, idx)) != 0) {
        (void)idmap_del(&al->annot_ids, id);
        goto fail;
    }
    memcpy(al->n[idx].id, id, AGAH_HASH_LEN);
    memcpy(al->n[idx].ref, ref, AGAH_HASH_LEN);
    memcpy(al->n[idx].author, author, AGAH_PK_LEN);
    al->n[idx].created = created;
    al->n[idx].type = type;
    al->n[idx].next = head;
    return 1;
fail:
    al->n[idx].next = al->free_n;
    al->free_n = idx;
    return r;
}

int alerts_annot_remove(struct alerts *al, const uint8_t id[AGAH_HASH_LEN])
{
    uint32_t idx, head;
    struct annot_ent *e;

    if (!idmap_get(&al->annot_ids, id, &idx))
        return 0;
    e = &al->n[idx];
    if (idmap_get(&al->by_ref, e->ref, &head)) {
        if (head == idx) {
            if (e->next == ALERTS_NIL)
                (void)idmap_del(&al->by_ref, e->ref);
            else
                (void)idmap_put(&al->by_ref, e->ref, e->next);
        } else {
            uint32_t cur = head;
            while (al->n[cur].next != ALERTS_NIL && al->n[cur].next != idx)
                cur = al->n[cur].next;
            if (al->n[cur].next == idx)
                al->n[cur].next = e->next;
        }
    }
    (void)idmap_del(&al->annot_ids, id);
    memset(e, 0, sizeof *e);
    e->next = al->free_n;
    al->free_n = idx;
    return 1;
}

uint32_t alerts_annot_first(const struct alerts *al, const uint8_t ref[AGAH_HASH_LEN])
{
    uint32_t head;
    if (!idmap_get(&al->by_ref, ref, &head))
        return ALERTS_NIL;
    return head;
}

/* Membership derived from the stored records (proto/PROTOCOL.md,
 * "Validity"). Everything in the derived half of struct memb is rebuilt
 * from the record lists by memb_recompute, so the answer is a function of
 * the set of records alone, whatever order they arrived in. Membership
 * records are few (hundreds to thousands), so rebuilding on each change is
 * cheap next to verifying one signature per alert.
 *
 * The times a key signs are its own claim, and a revoked key can sign
 * anything with any time. So revocations are applied level by level from
 * the founder down (a key's level, its rank, is the number of organiser
 * admissions between it and the founder, whatever their times), each level
 * judged against the outcome of the levels above it; and a revoked key's
 * records stand only if a revocation that applies lists them. */
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <agah/array.h>
#include "membership.h"
#include "memb_int.h"

void memb_init(struct memb *m)
{
    memset(m, 0, sizeof *m);
    idmap_init(&m->keymap, 2 * MEMB_MAX_ADMISSIONS + 2 * MEMB_MAX_REVOCATIONS + 1);
    idmap_init(&m->authmap, MEMB_MAX_ADMISSIONS + MEMB_MAX_REVOCATIONS + MEMB_MAX_EPOCHS + 1);
}

void memb_free(struct memb *m)
{
    for (size_t i = 0; i < m->n_adm; i++)
        free(m->adm[i].bytes);
    for (size_t i = 0; i < m->n_rev; i++)
        free(m->rev[i].keep);
    for (size_t i = 0; i < m->n_ep; i++)
        free(m->ep[i].recips);
    free(m->adm);
    free(m->rev);
    free(m->ep);
    free(m->keys);
    free(m->counts);
    free(m->genesis);
    idmap_free(&m->keymap);
    idmap_free(&m->authmap);
    memset(m, 0, sizeof *m);
}

/* Makes room for one more element of `size` bytes in *arr, up to `max`. */
static int memb__reserve(void **arr, size_t *cap, size_t n, size_t size, size_t max)
{
    return agah_array_reserve(arr, cap, n, size, 16, max);
}

/* The per-author counters of `author`, made if missing (NULL on failure). */
static struct memb_count *memb__count(struct memb *m, const uint8_t author[AGAH_PK_LEN],
                                      int make)
{
    uint32_t i;
    if (idmap_get(&m->authmap, author, &i))
        return &m->counts[i];
    if (!make || memb__reserve((void **)&m->counts, &m->cap_counts, m->n_counts,
                               sizeof *m->counts, m->authmap.max) != 0 ||
        idmap_put(&m->authmap, author, (uint32_t)m->n_counts) != 0)
        return NULL;
    memset(&m->counts[m->n_counts], 0, sizeof *m->counts);
    return &m->counts[m->n_counts++];
}

static int memb__add_genesis(struct memb *m, const struct agah_rec *r)
{
    uint8_t *copy;
    if (m->have_genesis)
        return 0;
    if ((copy = malloc(r->len)) == NULL)
        return AGAH_ENOMEM;
    memcpy(copy, r->bytes, r->len);
    m->genesis = copy;
    m->genesis_len = r->len;
    m->have_genesis = 1;
    memcpy(m->community, r->id, AGAH_HASH_LEN);
    memcpy(m->founder, r->author, AGAH_PK_LEN);
    m->genesis_created = r->created;
    return 0;
}

static int memb__add_admission(struct memb *m, const struct agah_rec *r)
{
    struct memb_adm *a;
    struct memb_count *c;
    int rc;
    if ((c = memb__count(m, r->author, 1)) == NULL)
        return AGAH_ENOMEM;
    if (c->adm >= MEMB_AUTHOR_MAX_ADMISSIONS)
        return AGAH_ETOOBIG;
    if ((rc = memb__reserve((void **)&m->adm, &m->cap_adm, m->n_adm, sizeof *m->adm,
                            MEMB_MAX_ADMISSIONS)) != 0)
        return rc;
    a = &m->adm[m->n_adm];
    memset(a, 0, sizeof *a);
    if ((a->bytes = malloc(r->len)) == NULL)
        return AGAH_ENOMEM;
    memcpy(a->bytes, r->bytes, r->len);
    a->len = r->len;
    memcpy(a->id, r->id, AGAH_HASH_LEN);
    memcpy(a->author, r->author, AGAH_PK_LEN);
    memcpy(a->member, r->u.admission.member, AGAH_PK_LEN);
    a->role = r->u.admission.role;
    a->created = r->created;
    a->expires = r->expires;
    /* An admission without a name has nothing to open. */
    a->name_open = !r->u.admission.name.has;
    if (r->u.admission.name.has)
        memcpy(a->name_key, r->u.admission.name.epoch, AGAH_HASH_LEN);
    a->next = a->anext = MEMB_NIL;
    m->n_adm++;
    c->adm++;
    return 0;
}

static int memb__add_revocation(struct memb *m, const struct agah_rec *r)
{
    struct memb_rev *v;
    struct memb_count *c;
    size_t n = r->u.revocation.n_keep;
    int rc;
    if (n > AGAH_REV_KEEP_MAX)
        return AGAH_ETOOBIG;
    if ((c = memb__count(m, r->author, 1)) == NULL)
        return AGAH_ENOMEM;
    if (c->rev >= MEMB_AUTHOR_MAX_REVOCATIONS)
        return AGAH_ETOOBIG;
    if ((rc = memb__reserve((void **)&m->rev, &m->cap_rev, m->n_rev, sizeof *m->rev,
                            MEMB_MAX_REVOCATIONS)) != 0)
        return rc;
    v = &m->rev[m->n_rev];
    memset(v, 0, sizeof *v);
    if (n > 0 && (v->keep = malloc(n * AGAH_HASH_LEN)) == NULL)
        return AGAH_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *id = agah_rec_revocation_keep(r, i);
        if (id == NULL) {
            free(v->keep);
            v->keep = NULL;
            return AGAH_EINTERNAL;
        }
        memcpy(v->keep[i], id, AGAH_HASH_LEN);
    }
    v->n_keep = n;
    memcpy(v->id, r->id, AGAH_HASH_LEN);
    memcpy(v->author, r->author, AGAH_PK_LEN);
    memcpy(v->target, r->u.revocation.member, AGAH_PK_LEN);
    v->created = r->created;
    v->next = MEMB_NIL;
    m->n_rev++;
    c->rev++;
    return 0;
}

static int memb__add_epoch(struct memb *m, const struct agah_rec *r)
{
    struct memb_epoch *e;
    struct memb_count *c;
    int rc;
    if (r->u.epoch.n > AGAH_EPOCH_MAX_MEMBERS)
        return AGAH_ETOOBIG;
    if ((c = memb__count(m, r->author, 1)) == NULL)
        return AGAH_ENOMEM;
    if (c->ep >= MEMB_AUTHOR_MAX_EPOCHS)
        return AGAH_ETOOBIG;
    if ((rc = memb__reserve((void **)&m->ep, &m->cap_ep, m->n_ep, sizeof *m->ep,
                            MEMB_MAX_EPOCHS)) != 0)
        return rc;
    e = &m->ep[m->n_ep];
    memset(e, 0, sizeof *e);
    if ((e->recips = malloc((r->u.epoch.n + r->u.epoch.n_relays + r->u.epoch.n_prev + 1) *
                            AGAH_PK_LEN)) == NULL)
        return AGAH_ENOMEM;
    for (size_t i = 0; i < r->u.epoch.n + r->u.epoch.n_relays; i++) {
        const uint8_t *pk = i < r->u.epoch.n ? agah_rec_epoch_member(r, i)
                                             : agah_rec_epoch_relay(r, i - r->u.epoch.n);
        if (pk == NULL) {
            free(e->recips);
            e->recips = NULL;
            return AGAH_EINTERNAL;
        }
        memcpy(e->recips[i], pk, AGAH_PK_LEN);
    }
    e->n = r->u.epoch.n;
    e->n_relays = r->u.epoch.n_relays;
    e->relays = e->recips + e->n;
    e->links = e->relays + e->n_relays;
    e->n_links = r->u.epoch.n_prev;
    for (size_t i = 0; i < e->n_links; i++)
        memcpy(e->links[i], agah_rec_epoch_prev_id(r, i), AGAH_HASH_LEN);
    agah_rec_epoch_net_id(r, e->net_id);
    memcpy(e->id, r->id, AGAH_HASH_LEN);
    memcpy(e->author, r->author, AGAH_PK_LEN);
    e->number = r->u.epoch.number;
    e->created = r->created;
    m->n_ep++;
    c->ep++;
    return 0;
}

int memb_add(struct memb *m, const struct agah_rec *r)
{
    switch (r->type) {
    case AGAH_REC_GENESIS:
        return memb__add_genesis(m, r);
    case AGAH_REC_ADMISSION:
        return memb__add_admission(m, r);
    case AGAH_REC_REVOCATION:
        return memb__add_revocation(m, r);
    case AGAH_REC_EPOCH:
        return memb__add_epoch(m, r);
    default:
        return AGAH_EINVAL;
    }
}

int memb_remove(struct memb *m, const uint8_t id[AGAH_HASH_LEN])
{
    struct memb_count *c;
    int found = 0;
    for (size_t i = 0; !found && i < m->n_adm; i++) {
        if (memcmp(m->adm[i].id, id, AGAH_HASH_LEN) == 0) {
            if ((c = memb__count(m, m->adm[i].author, 0)) != NULL && c->adm > 0)
                c->adm--;
            free(m->adm[i].bytes);
            m->adm[i] = m->adm[--m->n_adm];
            found = 1;
        }
    }
    for (size_t i = 0; !found && i < m->n_ep; i++) {
        if (memcmp(m->ep[i].id, id, AGAH_HASH_LEN) == 0) {
            if ((c = memb__count(m, m->ep[i].author, 0)) != NULL && c->ep > 0)
                c->ep--;
            free(m->ep[i].recips);
            m->ep[i] = m->ep[--m->n_ep];
            found = 1;
        }
    }
    for (size_t i = 0; !found && i < m->n_rev; i++) {
        if (memcmp(m->rev[i].id, id, AGAH_HASH_LEN) == 0) {
            if ((c = memb__count(m, m->rev[i].author, 0)) != NULL && c->rev > 0)
                c->rev--;
            free(m->rev[i].keep);
            m->rev[i] = m->rev[--m->n_rev];
            found = 1;
        }
    }
    if (!found && m->have_genesis && memcmp(m->community, id, AGAH_HASH_LEN) == 0) {
        free(m->genesis);
        m->genesis = NULL;
        m->genesis_len = 0;
        m->have_genesis = 0;
        m->names_open = 0;
        sodium_memzero(m->name, sizeof m->name);
        sodium_memzero(m->founder_name, sizeof m->founder_name);
        found = 1;
    }
    if (!found)
        return 0;
    /* Indexes into the arrays moved: derive everything again at once so
     * no reader ever walks a stale list. */
    int rc = memb_recompute(m);
    return rc == 0 ? 1 : rc;
}

struct memb_key *memb__key(const struct memb *m, const uint8_t pk[AGAH_PK_LEN])
{
    uint32_t i;
    if (!idmap_get(&m->keymap, pk, &i))
        return NULL;
    return &m->keys[i];
}

/* The key entry for pk, added if missing. */
static int memb__key_add(struct memb *m, const uint8_t pk[AGAH_PK_LEN], struct memb_key **out)
{
    uint32_t i;
    int rc;
    if (idmap_get(&m->keymap, pk, &i)) {
        *out = &m->keys[i];
        return 0;
    }
    if ((rc = memb__reserve((void **)&m->keys, &m->cap_keys, m->n_keys, sizeof *m->keys,
                            m->keymap.max)) != 0)
        return rc;
    if ((rc = idmap_put(&m->keymap, pk, (uint32_t)m->n_keys)) != 0)
        return rc;
    *out = &m->keys[m->n_keys++];
    memset(*out, 0, sizeof **out);
    memcpy((*out)->pk, pk, AGAH_PK_LEN);
    (*out)->revoked_at = MEMB_NEVER;
    (*out)->rank = MEMB_NIL;
    (*out)->adm_head = (*out)->by_head = (*out)->rev_head = MEMB_NIL;
    return 0;
}

int memb__is_founder(const struct memb *m, const uint8_t pk[AGAH_PK_LEN])
{
    return m->have_genesis && memcmp(pk, m->founder, AGAH_PK_LEN) == 0;
}

static int memb__keeps(const struct memb_rev *v, const uint8_t id[AGAH_HASH_LEN])
{
    return v->n_keep > 0 && agah_ids_find(v->keep[0], v->n_keep, AGAH_HASH_LEN, id);
}

/* Whether record `id` by k stands against the revocations that apply now:
 * k is not revoked, or one of them keeps it. */
static int memb__standing(const struct memb *m, const struct memb_key *k,
                          const uint8_t id[AGAH_HASH_LEN])
{
    if (k == NULL || !k->revoked)
        return 1;
    for (uint32_t v = k->rev_head; v != MEMB_NIL; v = m->rev[v].next)
        if (m->rev[v].applies && memb__keeps(&m->rev[v], id))
            return 1;
    return 0;
}

/* The strongest role k held at t through its valid admissions (the
 * founder: organiser), ignoring revocations; -1 if none. */
int memb__role_at(const struct memb *m, const struct memb_key *k, uint64_t t)
{
    int best = -1;
    if (k == NULL)
        return -1;
    if (memb__is_founder(m, k->pk))
        return AGAH_ROLE_ORGANISER;
    for (uint32_t b = k->adm_head; b != MEMB_NIL; b = m->adm[b].next) {
        const struct memb_adm *a = &m->adm[b];
        if (!a->valid || a->created > t || (a->expires != 0 && t >= a->expires))
            continue;
        /* Lower enum values are stronger roles. */
        if (best < 0 || a->role < best)
            best = a->role;
    }
    return best;
}

/* Valid admissions under the revocations that apply now: the least
 * fixpoint grounded in the founder. An admission is valid if its author
 * was an organiser when it was signed and the admission stands. */
static void memb__admissions(struct memb *m)
{
    int changed;
    for (size_t i = 0; i < m->n_adm; i++)
        m->adm[i].valid = 0;
    do {
        changed = 0;
        for (size_t i = 0; i < m->n_adm; i++) {
            struct memb_adm *a = &m->adm[i];
            const struct memb_key *ak;
            if (a->valid)
                continue;
            ak = memb__key(m, a->author);
            if (memb__role_at(m, ak, a->created) != AGAH_ROLE_ORGANISER ||
                !memb__standing(m, ak, a->id))
                continue;
            a->valid = 1;
            changed = 1;
        }
    } while (changed);
}

/* Marks revoked keys from the revocations that apply: any one for a key
 * other than the founder; for the founder, `quorum` distinct authors. */
static void memb__mark_revoked(struct memb *m)
{
    for (size_t i = 0; i < m->n_keys; i++) {
        struct memb_key *k = &m->keys[i];
        size_t authors = 0;
        k->revoked = 0;
        k->revoked_at = MEMB_NEVER;
        k->revsig = 0;
        for (uint32_t v = k->rev_head; v != MEMB_NIL; v = m->rev[v].next) {
            const struct memb_rev *rv = &m->rev[v];
            uint64_t sig;
            int seen = 0;
            if (!rv->applies)
                continue;
            /* Count each author once (the founder's quorum). */
            for (uint32_t w = k->rev_head; w != v && !seen; w = m->rev[w].next)
                seen = m->rev[w].applies && memcmp(m->rev[w].author, rv->author,
                                                   AGAH_PK_LEN) == 0;
            authors += !seen;
            if (rv->created < k->revoked_at)
                k->revoked_at = rv->created;
            memcpy(&sig, rv->id, sizeof sig);
            k->revsig ^= sig;
        }
        k->votes = authors;
        if (memb__is_founder(m, k->pk))
            k->revoked = authors >= m->quorum;
        else
            k->revoked = authors > 0;
        if (!k->revoked) {
            k->revoked_at = MEMB_NEVER;
            k->revsig = 0;
        }
    }
}

static int memb__rank_cmp(const void *pa, const void *pb)
{
    uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
    return a < b ? -1 : a > b;
}

/* Ranks: breadth first from the founder over organiser admissions, valid
 * or not, so that no time and no revocation can move a key up. */
static int memb__ranks(struct memb *m)
{
    uint32_t *queue;
    size_t head = 0, tail = 0;
    struct memb_key *f = memb__key(m, m->founder);
    if (f == NULL)
        return AGAH_EINTERNAL;
    if ((queue = malloc((m->n_keys + 1) * sizeof *queue)) == NULL)
        return AGAH_ENOMEM;
    f->rank = 0;
    queue[tail++] = (uint32_t)(f - m->keys);
    while (head < tail) {
        const struct memb_key *k = &m->keys[queue[head++]];
        for (uint32_t b = k->by_head; b != MEMB_NIL; b = m->adm[b].anext) {
            struct memb_key *mk;
            if (m->adm[b].role != AGAH_ROLE_ORGANISER)
                continue;
            mk = memb__key(m, m->adm[b].member);
            if (mk != NULL && mk->rank == MEMB_NIL) {
                mk->rank = k->rank + 1;
                queue[tail++] = (uint32_t)(mk - m->keys);
            }
        }
    }
    free(queue);
    return 0;
}

/* Applies the revocations level by level: those signed by keys of one
 * rank are judged together against the outcome of the ranks above, so two
 * organisers of one rank who revoke each other are both revoked, and a key
 * revoked from above cannot undo it by signing a revocation "earlier". */
static int memb__revocations(struct memb *m)
{
    uint32_t *ranks = NULL;
    int *decide = NULL;
    size_t nr = 0;
    int rc = 0;

    for (size_t i = 0; i < m->n_rev; i++)
        m->rev[i].applies = 0;
    memb__mark_revoked(m);
    memb__admissions(m);
    if (m->n_rev == 0)
        return 0;
    if ((ranks = malloc(m->n_rev * sizeof *ranks)) == NULL ||
        (decide = malloc(m->n_rev * sizeof *decide)) == NULL) {
        rc = AGAH_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < m->n_rev; i++) {
        const struct memb_key *ak = memb__key(m, m->rev[i].author);
        if (ak != NULL && ak->rank != MEMB_NIL)
            ranks[nr++] = ak->rank;
    }
    qsort(ranks, nr, sizeof *ranks, memb__rank_cmp);
    for (size_t r = 0; r < nr; r++) {
        int any = 0;
        if (r > 0 && ranks[r] == ranks[r - 1])
            continue;
        if (ranks[r] > 0 && m->quorum == SIZE_MAX) {
            /* The founder's own revocations are in: count the organisers
             * left, founder included, for the quorum that removes it. */
            size_t org = 0;
            for (size_t i = 0; i < m->n_keys; i++) {
                const struct memb_key *k = &m->keys[i];
                if (!k->revoked && memb__role_at(m, k, UINT64_MAX - 1) == AGAH_ROLE_ORGANISER)
                    org++;
            }
            m->quorum = org / 2 + 1;
            if (m->quorum < MEMB_FOUNDER_QUORUM_MIN)
                m->quorum = MEMB_FOUNDER_QUORUM_MIN;
        }
        for (size_t i = 0; i < m->n_rev; i++) {
            const struct memb_rev *v = &m->rev[i];
            const struct memb_key *ak = memb__key(m, v->author);
            decide[i] = ak != NULL && ak->rank == ranks[r] &&
                        memb__role_at(m, ak, v->created) == AGAH_ROLE_ORGANISER &&
                        memb__standing(m, ak, v->id);
        }
        for (size_t i = 0; i < m->n_rev; i++) {
            if (decide[i]) {
                m->rev[i].applies = 1;
                any = 1;
            }
        }
        if (any) {
            memb__mark_revoked(m);
            memb__admissions(m);
        }
    }
out:
    free(ranks);
    free(decide);
    return rc;
}

int memb_recompute(struct memb *m)
{
    struct memb_key *k, *f;
    int rc;

    m->gen++;
    idmap_clear(&m->keymap);
    m->n_keys = 0;
    m->clean_after = 0;
    /* Until the founder's own revocations are in, nobody can remove it. */
    m->quorum = SIZE_MAX;
    for (size_t i = 0; i < m->n_ep; i++)
        m->ep[i].valid = 0;
    for (size_t i = 0; i < m->n_rev; i++)
        m->rev[i].applies = 0;
    if (!m->have_genesis) {
        for (size_t i = 0; i < m->n_adm; i++)
            m->adm[i].valid = 0;
        return 0;
    }
    if ((rc = memb__key_add(m, m->founder, &f)) != 0)
        return rc;
    f->exposed = 1;
    /* Index admissions by member and by author, revocations by target. */
    for (size_t i = 0; i < m->n_adm; i++) {
        struct memb_adm *a = &m->adm[i];
        a->valid = 0;
        if ((rc = memb__key_add(m, a->author, &k)) != 0)
            return rc;
        a->anext = k->by_head;
        k->by_head = (uint32_t)i;
        if ((rc = memb__key_add(m, a->member, &k)) != 0)
            return rc;
        a->next = k->adm_head;
        k->adm_head = (uint32_t)i;
    }
    for (size_t i = 0; i < m->n_rev; i++) {
        struct memb_rev *v = &m->rev[i];
        if ((rc = memb__key_add(m, v->author, &k)) != 0 ||
            (rc = memb__key_add(m, v->target, &k)) != 0)
            return rc;
        v->next = k->rev_head;
        k->rev_head = (uint32_t)i;
    }
    if ((rc = memb__ranks(m)) != 0 || (rc = memb__revocations(m)) != 0)
        return rc;
    /* Epochs stand like any record: an organiser at created, not revoked
     * or kept. */
    for (size_t i = 0; i < m->n_ep; i++) {
        struct memb_epoch *e = &m->ep[i];
        const struct memb_key *ak = memb__key(m, e->author);
        e->valid = ak != NULL && memb__role_at(m, ak, e->created) == AGAH_ROLE_ORGANISER &&
                   memb__standing(m, ak, e->id);
    }
    /* Which revoked keys may hold epoch keys, and since when. Only valid
     * admissions count: a join code made by a revoked organiser can only
     * carry keys that organiser had, which its own revocation already
     * makes unclean. */
    for (size_t i = 0; i < m->n_adm; i++) {
        const struct memb_adm *a = &m->adm[i];
        if (!a->valid)
            continue;
        k = memb__key(m, a->member);
        if (a->created > k->last_admitted)
            k->last_admitted = a->created;
        /* A relay holds no epoch key but a network secret, which is
         * rotated the same way: a revoked relay makes earlier epochs
         * unclean too. */
        k->exposed = 1;
    }
    for (size_t i = 0; i < m->n_ep; i++) {
        for (size_t j = 0; j < m->ep[i].n + m->ep[i].n_relays; j++) {
            struct memb_key *rk = memb__key(m, m->ep[i].recips[j]);
            if (rk != NULL)
                rk->exposed = 1;
        }
    }
    for (size_t i = 0; i < m->n_keys; i++) {
        k = &m->keys[i];
        if (!k->revoked || !k->exposed)
            continue;
        /* A join code made with its admission may carry every epoch key
         * its organiser had at that second, so only later epochs are safe. */
        uint64_t adm = k->last_admitted == UINT64_MAX ? UINT64_MAX : k->last_admitted + 1;
        uint64_t t = k->revoked_at > adm ? k->revoked_at : adm;
        if (t > m->clean_after)
            m->clean_after = t;
    }
    return 0;
}

int memb_role_at(const struct memb *m, const uint8_t pk[AGAH_PK_LEN], uint64_t t, int *role)
{
    const struct memb_key *k = memb__key(m, pk);
    int best;

    if (k == NULL)
        return AGAH_ENOENT;
    if (k->revoked)
        return AGAH_EPERM;
    if ((best = memb__role_at(m, k, t)) < 0)
        return AGAH_ENOENT;
    if (role != NULL)
        *role = best;
    return 0;
}

int memb_record_ok(const struct memb *m, const uint8_t author[AGAH_PK_LEN],
                   const uint8_t id[AGAH_HASH_LEN], uint64_t created, int *role)
{
    const struct memb_key *k = memb__key(m, author);
    int best;

    if (k == NULL)
        return AGAH_ENOENT;
    if (!memb__standing(m, k, id))
        return AGAH_EPERM;
    if ((best = memb__role_at(m, k, created)) < 0)
        return AGAH_ENOENT;
    if (role != NULL)
        *role = best;
    return 0;
}

int memb_in_closure(const struct memb *m, const uint8_t pk[AGAH_PK_LEN])
{
    const struct memb_key *k = memb__key(m, pk);
    return k != NULL && k->rank != MEMB_NIL;
}

int memb_is_founder(const struct memb *m, const uint8_t pk[AGAH_PK_LEN])
{
    return memb__is_founder(m, pk);
}

int memb_has_revocation(const struct memb *m, const uint8_t author[AGAH_PK_LEN],
                        const uint8_t target[AGAH_PK_LEN])
{
    const struct memb_key *k = memb__key(m, target);
    if (k == NULL)
        return 0;
    for (uint32_t v = k->rev_head; v != MEMB_NIL; v = m->rev[v].next)
        if (memcmp(m->rev[v].author, author, AGAH_PK_LEN) == 0)
            return 1;
    return 0;
}

size_t memb_revocation_votes(const struct memb *m, const uint8_t pk[AGAH_PK_LEN])
{
    const struct memb_key *k = memb__key(m, pk);
    return k == NULL ? 0 : k->votes;
}

int memb_revoked(const struct memb *m, const uint8_t pk[AGAH_PK_LEN])
{
    const struct memb_key *k = memb__key(m, pk);
    return k != NULL && k->revoked;
}

uint64_t memb_revoked_at(const struct memb *m, const uint8_t pk[AGAH_PK_LEN])
{
    const struct memb_key *k = memb__key(m, pk);
    return k == NULL || !k->revoked ? MEMB_NEVER : k->revoked_at;
}

int memb_known(const struct memb *m, const uint8_t pk[AGAH_PK_LEN])
{
    const struct memb_key *k = memb__key(m, pk);
    if (k == NULL)
        return 0;
    return k->adm_head != MEMB_NIL || memb__is_founder(m, pk);
}

long memb_best_admission(const struct memb *m, const uint8_t pk[AGAH_PK_LEN])
{
    const struct memb_key *k = memb__key(m, pk);
    long best = -1;
    if (k == NULL)
        return -1;
    for (uint32_t b = k->adm_head; b != MEMB_NIL; b = m->adm[b].next) {
        const struct memb_adm *a = &m->adm[b];
        if (!a->valid)
            continue;
        if (best < 0 || a->role < m->adm[best].role ||
            (a->role == m->adm[best].role &&
             (a->created > m->adm[best].created ||
              (a->created == m->adm[best].created &&
               memcmp(a->id, m->adm[best].id, AGAH_HASH_LEN) < 0))))
            best = (long)b;
    }
    return best;
}

uint64_t memb_invited_until(const struct memb *m, const uint8_t pk[AGAH_PK_LEN])
{
    const struct memb_key *k = memb__key(m, pk);
    uint64_t until = 0;
    if (k == NULL || memb__is_founder(m, pk))
        return 0;
    for (uint32_t b = k->adm_head; b != MEMB_NIL; b = m->adm[b].next) {
        const struct memb_adm *a = &m->adm[b];
        if (!a->valid)
            continue;
        if (a->expires == 0)
            return 0;
        if (a->expires > until)
            until = a->expires;
    }
    return until;
}

long memb_find_epoch(const struct memb *m, const uint8_t id[AGAH_HASH_LEN])
{
    for (size_t i = 0; i < m->n_ep; i++)
        if (memcmp(m->ep[i].id, id, AGAH_HASH_LEN) == 0)
            return (long)i;
    return -1;
}

size_t memb_reach(const struct memb *m, const uint8_t from[AGAH_HASH_LEN],
                  uint8_t (*out)[AGAH_HASH_LEN], size_t max)
{
    size_t n = 0, total = 1;

    if (max == 0)
        return 1;
    memcpy(out[n++], from, AGAH_HASH_LEN);
    /* out is the queue; an id is added once. Past max the count goes on
     * (the caller learns its list is short) but nothing more is followed
     * from what could not be written. */
    for (size_t k = 0; k < n; k++) {
        long e = memb_find_epoch(m, out[k]);
        if (e < 0 || !m->ep[e].valid)
            continue;
        for (size_t l = 0; l < m->ep[e].n_links; l++) {
            const uint8_t *id = m->ep[e].links[l];
            int seen = 0;
            for (size_t j = 0; j < n && !seen; j++)
                seen = memcmp(out[j], id, AGAH_HASH_LEN) == 0;
            if (seen)
                continue;
            total++;
            if (n < max)
                memcpy(out[n++], id, AGAH_HASH_LEN);
        }
    }
    return total;
}

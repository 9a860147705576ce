/* Membership derived from the stored records (proto/PROTOCOL.md,
 * "Validity"). Everything in the derived half of struct memb is rebuilt
 * from the record lists by memb_recompute, so the answer is a function of
 * the set of records alone, whatever order they arrived in. Membership
 * records are few (hundreds to thousands), so rebuilding on each change is
 * cheap next to verifying one signature per alert. */
#include <stdlib.h>
#include <string.h>
#include "membership.h"

void memb_init(struct memb *m)
{
    memset(m, 0, sizeof *m);
    idmap_init(&m->keymap, 2 * MEMB_MAX_ADMISSIONS + 2 * MEMB_MAX_REVOCATIONS + 1);
}

void memb_free(struct memb *m)
{
    for (size_t i = 0; i < m->n_adm; i++)
        free(m->adm[i].bytes);
    for (size_t i = 0; i < m->n_ep; i++)
        free(m->ep[i].recips);
    free(m->adm);
    free(m->rev);
    free(m->ep);
    free(m->keys);
    free(m->genesis);
    idmap_free(&m->keymap);
    memset(m, 0, sizeof *m);
}

/* Makes room for one more element of `size` bytes in *arr, up to `max`. */
static int memb__reserve(void **arr, size_t *cap, size_t n, size_t size, size_t max)
{
    void *p;
    size_t next;
    if (n < *cap)
        return 0;
    if (n >= max)
        return AGAH_ETOOBIG;
    next = *cap == 0 ? 16 : *cap * 2;
    if (next > max)
        next = max;
    if ((p = realloc(*arr, next * size)) == NULL)
        return AGAH_ENOMEM;
    *arr = p;
    *cap = next;
    return 0;
}

static void memb__copy_str(char *dst, const char *src, size_t n)
{
    if (n > AGAH_NAME_MAX)
        n = AGAH_NAME_MAX;
    if (n > 0)
        memcpy(dst, src, n);
    dst[n] = '\0';
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
    memb__copy_str(m->name, r->u.genesis.name, r->u.genesis.name_len);
    memb__copy_str(m->founder_name, r->u.genesis.founder_name, r->u.genesis.founder_name_len);
    return 0;
}

static int memb__add_admission(struct memb *m, const struct agah_rec *r)
{
    struct memb_adm *a;
    int rc;
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
    memb__copy_str(a->name, r->u.admission.name, r->u.admission.name_len);
    a->next = MEMB_NIL;
    m->n_adm++;
    return 0;
}

static int memb__add_revocation(struct memb *m, const struct agah_rec *r)
{
    struct memb_rev *v;
    int rc;
    if ((rc = memb__reserve((void **)&m->rev, &m->cap_rev, m->n_rev, sizeof *m->rev,
                            MEMB_MAX_REVOCATIONS)) != 0)
        return rc;
    v = &m->rev[m->n_rev++];
    memcpy(v->id, r->id, AGAH_HASH_LEN);
    memcpy(v->author, r->author, AGAH_PK_LEN);
    memcpy(v->target, r->u.revocation.member, AGAH_PK_LEN);
    v->created = r->created;
    return 0;
}

static int memb__add_epoch(struct memb *m, const struct agah_rec *r)
{
    struct memb_epoch *e;
    int rc;
    if (r->u.epoch.n > AGAH_EPOCH_MAX_MEMBERS)
        return AGAH_ETOOBIG;
    if ((rc = memb__reserve((void **)&m->ep, &m->cap_ep, m->n_ep, sizeof *m->ep,
                            MEMB_MAX_EPOCHS)) != 0)
        return rc;
    e = &m->ep[m->n_ep];
    memset(e, 0, sizeof *e);
    if (r->u.epoch.n > 0 && (e->recips = malloc(r->u.epoch.n * AGAH_PK_LEN)) == NULL)
        return AGAH_ENOMEM;
    for (size_t i = 0; i < r->u.epoch.n; i++) {
        const uint8_t *pk = agah_rec_epoch_member(r, i);
        if (pk == NULL) {
            free(e->recips);
            e->recips = NULL;
            return AGAH_EINTERNAL;
        }
        memcpy(e->recips[i], pk, AGAH_PK_LEN);
    }
    e->n = r->u.epoch.n;
    memcpy(e->id, r->id, AGAH_HASH_LEN);
    memcpy(e->author, r->author, AGAH_PK_LEN);
    e->number = r->u.epoch.number;
    e->created = r->created;
    m->n_ep++;
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
    int found = 0;
    for (size_t i = 0; !found && i < m->n_adm; i++) {
        if (memcmp(m->adm[i].id, id, AGAH_HASH_LEN) == 0) {
            free(m->adm[i].bytes);
            m->adm[i] = m->adm[--m->n_adm];
            found = 1;
        }
    }
    for (size_t i = 0; !found && i < m->n_ep; i++) {
        if (memcmp(m->ep[i].id, id, AGAH_HASH_LEN) == 0) {
            free(m->ep[i].recips);
            m->ep[i] = m->ep[--m->n_ep];
            found = 1;
        }
    }
    for (size_t i = 0; !found && i < m->n_rev; i++) {
        if (memcmp(m->rev[i].id, id, AGAH_HASH_LEN) == 0) {
            m->rev[i] = m->rev[--m->n_rev];
            found = 1;
        }
    }
    if (!found && m->have_genesis && memcmp(m->community, id, AGAH_HASH_LEN) == 0) {
        free(m->genesis);
        m->genesis = NULL;
        m->genesis_len = 0;
        m->have_genesis = 0;
        found = 1;
    }
    if (!found)
        return 0;
    /* Indexes into the arrays moved: derive everything again at once so
     * no reader ever walks a stale list. */
    int rc = memb_recompute(m);
    return rc == 0 ? 1 : rc;
}

static struct memb_key *memb__key(const struct memb *m, const uint8_t pk[AGAH_PK_LEN])
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
    (*out)->adm_head = MEMB_NIL;
    return 0;
}

static int memb__revoked(const struct memb_key *k, uint64_t t)
{
    return k != NULL && k->revoked_at <= t;
}

/* Whether admission a is valid given the current valid flags: its author
 * was a valid organiser when it was signed (rule 4). */
static int memb__adm_ok(const struct memb *m, const struct memb_adm *a)
{
    const struct memb_key *author = memb__key(m, a->author);
    if (author == NULL || memb__revoked(author, a->created))
        return 0;
    if (memcmp(a->author, m->founder, AGAH_PK_LEN) == 0)
        return 1;
    for (uint32_t b = author->adm_head; b != MEMB_NIL; b = m->adm[b].next) {
        const struct memb_adm *ba = &m->adm[b];
        if (ba->valid && ba->role == AGAH_ROLE_ORGANISER && ba->created <= a->created &&
            (ba->expires == 0 || a->created < ba->expires))
            return 1;
    }
    return 0;
}

int memb_recompute(struct memb *m)
{
    struct memb_key *k, *f;
    int rc, changed;

    idmap_clear(&m->keymap);
    m->n_keys = 0;
    m->clean_after = 0;
    if (!m->have_genesis) {
        for (size_t i = 0; i < m->n_adm; i++)
            m->adm[i].valid = 0;
        return 0;
    }
    if ((rc = memb__key_add(m, m->founder, &f)) != 0)
        return rc;
    f->in_closure = 1;
    f->exposed = 1;
    /* Index admissions by member; make sure every author has an entry. */
    for (size_t i = 0; i < m->n_adm; i++) {
        struct memb_adm *a = &m->adm[i];
        a->valid = 0;
        if ((rc = memb__key_add(m, a->author, &k)) != 0 ||
            (rc = memb__key_add(m, a->member, &k)) != 0)
            return rc;
        a->next = k->adm_head;
        k->adm_head = (uint32_t)i;
    }
    /* Rule 2: the organiser closure, ignoring revocations (fixpoint). */
    do {
        changed = 0;
        for (size_t i = 0; i < m->n_adm; i++) {
            struct memb_adm *a = &m->adm[i];
            struct memb_key *mk = memb__key(m, a->member);
            if (a->role != AGAH_ROLE_ORGANISER || mk->in_closure)
                continue;
            if (memb__key(m, a->author)->in_closure) {
                mk->in_closure = 1;
                changed = 1;
            }
        }
    } while (changed);
    /* Rule 3: a revocation by a closure member revokes from its created on. */
    for (size_t i = 0; i < m->n_rev; i++) {
        struct memb_rev *v = &m->rev[i];
        struct memb_key *ak = memb__key(m, v->author);
        if (ak == NULL || !ak->in_closure)
            continue;
        if ((rc = memb__key_add(m, v->target, &k)) != 0)
            return rc;
        if (v->created < k->revoked_at)
            k->revoked_at = v->created;
    }
    /* Rule 4: valid admissions, least fixpoint grounded in the founder. */
    do {
        changed = 0;
        for (size_t i = 0; i < m->n_adm; i++) {
            if (!m->adm[i].valid && memb__adm_ok(m, &m->adm[i])) {
                m->adm[i].valid = 1;
                changed = 1;
            }
        }
    } while (changed);
    /* Rule 9: which revoked keys may hold epoch keys, and since when. Only
     * valid admissions count: a join code made by a revoked organiser can
     * only carry keys that organiser had, which its own revocation already
     * makes unclean. */
    for (size_t i = 0; i < m->n_adm; i++) {
        const struct memb_adm *a = &m->adm[i];
        if (!a->valid)
            continue;
        k = memb__key(m, a->member);
        if (a->created > k->last_admitted)
            k->last_admitted = a->created;
        if (a->role != AGAH_ROLE_RELAY)
            k->exposed = 1;
    }
    for (size_t i = 0; i < m->n_ep; i++) {
        for (size_t j = 0; j < m->ep[i].n; j++) {
            struct memb_key *rk = memb__key(m, m->ep[i].recips[j]);
            if (rk != NULL)
                rk->exposed = 1;
        }
    }
    for (size_t i = 0; i < m->n_keys; i++) {
        k = &m->keys[i];
        if (k->revoked_at == MEMB_NEVER || !k->exposed)
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
    int best = -1;

    if (k == NULL)
        return AGAH_ENOENT;
    if (memb__revoked(k, t))
        return AGAH_EPERM;
    if (m->have_genesis && memcmp(pk, m->founder, AGAH_PK_LEN) == 0) {
        best = AGAH_ROLE_ORGANISER;
    } else {
        for (uint32_t b = k->adm_head; b != MEMB_NIL; b = m->adm[b].next) {
            const struct memb_adm *a = &m->adm[b];
            if (!a->valid || a->created > t || (a->expires != 0 && t >= a->expires))
                continue;
            /* Lower enum values are stronger roles. */
            if (best < 0 || a->role < best)
                best = a->role;
        }
    }
    if (best < 0)
        return AGAH_ENOENT;
    if (role != NULL)
        *role = best;
    return 0;
}

int memb_in_closure(const struct memb *m, const uint8_t pk[AGAH_PK_LEN])
{
    const struct memb_key *k = memb__key(m, pk);
    return k != NULL && k->in_closure;
}

uint64_t memb_revoked_at(const struct memb *m, const uint8_t pk[AGAH_PK_LEN])
{
    const struct memb_key *k = memb__key(m, pk);
    return k == NULL ? MEMB_NEVER : k->revoked_at;
}

int memb_known(const struct memb *m, const uint8_t pk[AGAH_PK_LEN])
{
    const struct memb_key *k = memb__key(m, pk);
    if (k == NULL)
        return 0;
    return k->adm_head != MEMB_NIL ||
           (m->have_genesis && memcmp(pk, m->founder, AGAH_PK_LEN) == 0);
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

long memb_find_epoch(const struct memb *m, const uint8_t id[AGAH_HASH_LEN])
{
    for (size_t i = 0; i < m->n_ep; i++)
        if (memcmp(m->ep[i].id, id, AGAH_HASH_LEN) == 0)
            return (long)i;
    return -1;
}

int memb_epoch_clean(const struct memb *m, size_t i)
{
    const struct memb_epoch *e = &m->ep[i];
    if (e->created < m->clean_after)
        return 0;
    for (size_t j = 0; j < e->n; j++)
        if (memb_revoked_at(m, e->recips[j]) != MEMB_NEVER)
            return 0;
    return 1;
}

void memb_name(const struct memb *m, const uint8_t pk[AGAH_PK_LEN], char out[AGAH_NAME_MAX + 1])
{
    const struct memb_key *k;
    const struct memb_adm *latest = NULL;
    out[0] = '\0';
    if (m->have_genesis && memcmp(pk, m->founder, AGAH_PK_LEN) == 0) {
        memcpy(out, m->founder_name, sizeof m->founder_name);
        return;
    }
    if ((k = memb__key(m, pk)) == NULL)
        return;
    for (uint32_t b = k->adm_head; b != MEMB_NIL; b = m->adm[b].next) {
        const struct memb_adm *a = &m->adm[b];
        if (!a->valid)
            continue;
        if (latest == NULL || a->created > latest->created ||
            (a->created == latest->created && memcmp(a->id, latest->id, AGAH_HASH_LEN) < 0))
            latest = a;
    }
    if (latest != NULL)
        memcpy(out, latest->name, sizeof latest->name);
}

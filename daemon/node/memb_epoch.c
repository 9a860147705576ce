/* Membership and epochs: whether an epoch reached every member who should
 * read it (complete, clean), whether this node must issue a new one, who
 * its recipients and relays are, and members' names opened from the
 * epochs that carry them. The rules are in proto/PROTOCOL.md ("Epochs and
 * rekeying"). */
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "memb_int.h"

int memb_epoch_clean(const struct memb *m, size_t i)
{
    const struct memb_epoch *e = &m->ep[i];
    if (!e->valid || e->created < m->clean_after)
        return 0;
    for (size_t j = 0; j < e->n + e->n_relays; j++)
        if (memb_revoked(m, e->recips[j]))
            return 0;
    return 1;
}

int memb_net_clean(const struct memb *m, size_t i)
{
    const uint8_t *net = m->ep[i].net_id;
    /* Every valid epoch that carries the secret must be clean: a revoked
     * key that opened any of them holds it. */
    for (size_t j = 0; j < m->n_ep; j++)
        if (m->ep[j].valid && memcmp(m->ep[j].net_id, net, AGAH_HASH_LEN) == 0 &&
            !memb_epoch_clean(m, j))
            return 0;
    return memb_epoch_clean(m, i);
}

static int memb__recipient(const struct memb_epoch *e, const uint8_t pk[AGAH_PK_LEN])
{
    return e->n > 0 && agah_ids_find(e->recips[0], e->n, AGAH_PK_LEN, pk);
}

/* Whether k is an organiser or member now: one who must read every alert. */
static int memb__reader(const struct memb *m, const struct memb_key *k, uint64_t now)
{
    int role;
    if (k->revoked)
        return 0;
    role = memb__role_at(m, k, now);
    return role == AGAH_ROLE_ORGANISER || role == AGAH_ROLE_MEMBER;
}

/* Whether k is a relay now (and nothing more). */
static int memb__relay(const struct memb *m, const struct memb_key *k, uint64_t now)
{
    return !k->revoked && memb__role_at(m, k, now) == AGAH_ROLE_RELAY;
}

int memb_epoch_complete(const struct memb *m, size_t i, uint64_t now)
{
    const struct memb_epoch *e = &m->ep[i];
    for (size_t j = 0; j < m->n_keys; j++) {
        const struct memb_key *k = &m->keys[j];
        if (memb__reader(m, k, now) && !memb__recipient(e, k->pk))
            return 0;
        if (memb__relay(m, k, now) &&
            (e->n_relays == 0 || !agah_ids_find(e->relays[0], e->n_relays, AGAH_PK_LEN, k->pk)))
            return 0;
    }
    return 1;
}

struct memb_eref {
    uint64_t number;
    const uint8_t *id;
    uint32_t i;
};

/* Highest number first, then the lowest id. */
static int memb__eref_cmp(const void *pa, const void *pb)
{
    const struct memb_eref *a = pa, *b = pb;
    if (a->number != b->number)
        return a->number > b->number ? -1 : 1;
    return memcmp(a->id, b->id, AGAH_HASH_LEN);
}

long memb_best_held_epoch(const struct memb *m, uint64_t now, memb_key_fn held, void *ctx)
{
    struct memb_eref *v, stack[32];
    size_t n = 0;
    long best = -1;

    /* In that order the first complete epoch answers: usually the newest,
     * so one completeness check rather than one per epoch. */
    v = m->n_ep <= 32 ? stack : malloc(m->n_ep * sizeof *v);
    if (v == NULL)
        return -1; /* out of memory: "none" makes callers refuse, not guess */
    for (size_t i = 0; i < m->n_ep; i++) {
        if (!memb_epoch_clean(m, i) || (held != NULL && held(ctx, m->ep[i].id) == NULL))
            continue;
        v[n].number = m->ep[i].number;
        v[n].id = m->ep[i].id;
        v[n++].i = (uint32_t)i;
    }
    if (n > 1)
        qsort(v, n, sizeof *v, memb__eref_cmp);
    if (n > 0)
        best = (long)v[0].i;
    for (size_t k = 0; k < n; k++) {
        if (memb_epoch_complete(m, v[k].i, now)) {
            best = (long)v[k].i;
            break;
        }
    }
    if (v != stack)
        free(v);
    return best;
}

long memb_posting_epoch(const struct memb *m, uint64_t now)
{
    return memb_best_held_epoch(m, now, NULL, NULL);
}

int memb_needs_rekey(const struct memb *m, uint64_t now)
{
    long e = memb_posting_epoch(m, now);
    return e < 0 || !memb_epoch_complete(m, (size_t)e, now) || !memb_net_clean(m, (size_t)e);
}

size_t memb_recipients(const struct memb *m, uint64_t now, uint8_t (*out)[AGAH_PK_LEN],
                       size_t max)
{
    size_t cnt = 0;
    for (size_t i = 0; i < m->n_keys; i++) {
        if (!memb__reader(m, &m->keys[i], now))
            continue;
        if (cnt < max && out != NULL)
            memcpy(out[cnt], m->keys[i].pk, AGAH_PK_LEN);
        cnt++;
    }
    return cnt;
}

size_t memb_relays(const struct memb *m, uint64_t now, uint8_t (*out)[AGAH_PK_LEN], size_t max)
{
    size_t cnt = 0;
    for (size_t i = 0; i < m->n_keys; i++) {
        if (!memb__relay(m, &m->keys[i], now))
            continue;
        if (cnt < max && out != NULL)
            memcpy(out[cnt], m->keys[i].pk, AGAH_PK_LEN);
        cnt++;
    }
    return cnt;
}

/* Opens the names of one stored record (its bytes were verified when
 * stored) with `key`: 1 if opened. A record that does not open (a key
 * that is not its epoch's: a hostile author) stays unopened, and shows
 * no name. */
static int memb__open_names(const uint8_t *bytes, size_t len, const uint8_t *key, char *a,
                            char *b)
{
    struct agah_rec r;
    if (agah_rec_decode_stored(bytes, len, NULL, &r, NULL) != 0)
        return 0;
    if (r.type == AGAH_REC_GENESIS)
        return agah_rec_open_names(&r, key, a, b, NULL) == 0;
    return agah_rec_open_name(&r, key, a, NULL) == 0;
}

size_t memb_names_open(struct memb *m, memb_key_fn key, void *ctx)
{
    const uint8_t *k;
    size_t cnt = 0;

    if (m->have_genesis && !m->names_open && (k = key(ctx, m->community)) != NULL &&
        memb__open_names(m->genesis, m->genesis_len, k, m->name, m->founder_name)) {
        m->names_open = 1;
        cnt++;
    }
    for (size_t i = 0; i < m->n_adm; i++) {
        struct memb_adm *a = &m->adm[i];
        if (a->name_open || (k = key(ctx, a->name_key)) == NULL)
            continue;
        if (memb__open_names(a->bytes, a->len, k, a->name, NULL)) {
            a->name_open = 1;
            cnt++;
        }
    }
    return cnt;
}

void memb_name(const struct memb *m, const uint8_t pk[AGAH_PK_LEN], char out[AGAH_NAME_MAX + 1])
{
    const struct memb_key *k;
    const struct memb_adm *latest = NULL;
    out[0] = '\0';
    if (memb__is_founder(m, pk)) {
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

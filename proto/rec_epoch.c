/* EPOCH records: the epoch key sealed to each organiser and member, the
 * chain link to an earlier key, and the community's network secret, which
 * members read through the epoch key and relays from a box of their own.
 * proto/PROTOCOL.md ("Epoch keys", "Network secrets") is the specification. */
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <msgpack.h>
#include <agah/mp.h>
#include <agah/record.h>
#include "rec_int.h"

/* A link (chain or network secret): a 32-byte key and its tag. */
#define EP_LINK_CT (AGAH_KEY_LEN + crypto_aead_xchacha20poly1305_ietf_ABYTES)
#define EP_PREV_AD "agah-epoch-chain-v1"
#define EP_NET_AD "agah-epoch-net-v1"
#define EP_AD_MAX (sizeof EP_PREV_AD - 1 + AGAH_HASH_LEN)
/* crypto_kdf context and subkey id of the secret an epoch key mints. */
#define EP_NET_CTX "agahnet1"
#define EP_NET_SUBKEY 1

/* ------------------------------------------------------------------ */
/* Decoding                                                            */

/* Item i of a list kept strictly ascending by its 32-byte key `cur` (a
 * member's key, an epoch id): one set has one encoding, and no key appears
 * twice. `prev` holds item i - 1's key and then becomes this one's. `item`,
 * `one` and `order` name them in errors ("entry", "a member", "member
 * key"). */
static int ep__after(uint8_t prev[32], const uint8_t cur[32], uint32_t i, const char *what,
                     const char *item, const char *one, const char *order,
                     struct agah_why *why)
{
    int c = i > 0 ? memcmp(prev, cur, 32) : -1;

    if (c == 0)
        return agah_fail(why, AGAH_EFIELDS, "%s: %s %u repeats %s", what, item,
                         (unsigned)i + 1, one);
    if (c > 0)
        return agah_fail(why, AGAH_ENONCANON, "%s: %s %u is not sorted by %s", what, item,
                         (unsigned)i + 1, order);
    memcpy(prev, cur, 32);
    return 0;
}

/* A list of [key bin32, sealed bin80] entries sorted by key: fixed-size
 * canonical arrays back to back, which lets the decoded record point into
 * the buffer. `what` names the field in errors; `min` is 1 or 0. */
static int ep__entries(const msgpack_object *o, const uint8_t *buf, const char *what,
                       uint32_t min, size_t *n, const uint8_t **first, struct agah_why *why)
{
    const msgpack_object_array *a;
    const uint8_t *base = NULL;
    uint8_t prev[AGAH_PK_LEN], cur[AGAH_PK_LEN], sealed[AGAH_KEY_LEN + AGAH_SEAL_OVERHEAD];
    int r;

    if (o->type != MSGPACK_OBJECT_ARRAY)
        return agah_fail(why, AGAH_ETYPE, "%s: expected an array", what);
    a = &o->via.array;
    if (a->size < min)
        return agah_fail(why, AGAH_EVALUE, "%s: an epoch needs a recipient", what);
    if (a->size > AGAH_EPOCH_MAX_MEMBERS)
        return agah_fail(why, AGAH_ETOOBIG, "%s: %u entries, at most %d", what,
                         (unsigned)a->size, AGAH_EPOCH_MAX_MEMBERS);
    for (uint32_t i = 0; i < a->size; i++) {
        const msgpack_object *e = &a->ptr[i];
        if ((r = agah_mp_array(e, what, 2, why)) != 0)
            return r;
        if ((r = agah_mp_bin_exact(&e->via.array.ptr[0], what, AGAH_PK_LEN, cur, why)) != 0 ||
            (r = agah_mp_bin_exact(&e->via.array.ptr[1], what, sizeof sealed, sealed, why)) != 0)
            return r;
        if ((r = ep__after(prev, cur, i, what, "entry", "a member", "member key", why)) != 0)
            return r;
        /* Canonical encoding fixes the layout: 92 c4 20 <32> c4 50 <80>. */
        if (i == 0)
            base = (const uint8_t *)e->via.array.ptr[0].via.bin.ptr - 3;
        if ((const uint8_t *)e->via.array.ptr[0].via.bin.ptr !=
                base + (size_t)i * AGAH_EPOCH_ENTRY_WIRE + 3 ||
            (const uint8_t *)e->via.array.ptr[1].via.bin.ptr !=
                base + (size_t)i * AGAH_EPOCH_ENTRY_WIRE + 3 + AGAH_PK_LEN + 2 ||
            base < buf)
            return agah_fail(why, AGAH_EINTERNAL, "%s: unexpected layout", what);
    }
    *n = a->size;
    *first = base;
    return 0;
}

/* One chain link [epoch bin 32 (not all zero), nonce bin 24, ct bin 48],
 * canonically 93 c4 20 <32> c4 18 <24> c4 30 <48>; its first byte's
 * address in *at. */
static int ep__prev_one(const msgpack_object *o, const char *what, uint8_t id[32],
                        const uint8_t **at, struct agah_why *why)
{
    const msgpack_object *p;
    uint8_t nonce[AGAH_NONCE_LEN];
    int r;

    if ((r = agah_mp_array(o, what, 3, why)) != 0)
        return r;
    p = o->via.array.ptr;
    if ((r = agah_mp_bin_exact(&p[0], what, AGAH_HASH_LEN, id, why)) != 0 ||
        (r = agah_mp_bin_exact(&p[1], what, AGAH_NONCE_LEN, nonce, why)) != 0)
        return r;
    if (p[2].type != MSGPACK_OBJECT_BIN || p[2].via.bin.size != EP_LINK_CT)
        return agah_fail(why, AGAH_ETYPE, "%s: the key must be bin %d", what, (int)EP_LINK_CT);
    if (sodium_is_zero(id, AGAH_HASH_LEN))
        return agah_fail(why, AGAH_EVALUE, "%s: must name an epoch record", what);
    *at = (const uint8_t *)p[0].via.bin.ptr - 3;
    if ((const uint8_t *)p[1].via.bin.ptr != *at + 3 + AGAH_HASH_LEN + 2 ||
        (const uint8_t *)p[2].via.bin.ptr != *at + 3 + AGAH_HASH_LEN + 2 + AGAH_NONCE_LEN + 2)
        return agah_fail(why, AGAH_EINTERNAL, "%s: unexpected layout", what);
    return 0;
}

/* The network secret's link: [] or one link as ep__prev_one reads it. */
static int ep__link(const msgpack_object *o, const char *what, int *has, uint8_t id[32],
                    uint8_t nonce[AGAH_NONCE_LEN], const uint8_t **ct, struct agah_why *why)
{
    const uint8_t *at;
    int r;

    if (o->type != MSGPACK_OBJECT_ARRAY)
        return agah_fail(why, AGAH_ETYPE, "%s: expected an array", what);
    if (o->via.array.size == 0) {
        *has = 0;
        return 0;
    }
    if ((r = ep__prev_one(o, what, id, &at, why)) != 0)
        return r;
    memcpy(nonce, at + 3 + AGAH_HASH_LEN + 2, AGAH_NONCE_LEN);
    *ct = at + 3 + AGAH_HASH_LEN + 2 + AGAH_NONCE_LEN + 2;
    *has = 1;
    return 0;
}

/* The chain links: [] for none, one link as [epoch, nonce, ct] (what
 * version 3 always wrote), or 2..AGAH_EPOCH_MAX_LINKS links as an array of
 * them, strictly ascending by epoch id. */
static int ep__prev(const msgpack_object *o, const uint8_t *buf, size_t *n,
                    const uint8_t **first, struct agah_why *why)
{
    static const char what[] = "field 9 (prev)";
    const msgpack_object_array *a;
    uint8_t prev[AGAH_HASH_LEN], cur[AGAH_HASH_LEN];
    const uint8_t *at;
    int r;

    *n = 0;
    *first = NULL;
    if (o->type != MSGPACK_OBJECT_ARRAY)
        return agah_fail(why, AGAH_ETYPE, "%s: expected an array", what);
    a = &o->via.array;
    if (a->size == 0)
        return 0;
    if (a->ptr[0].type != MSGPACK_OBJECT_ARRAY) {
        if ((r = ep__prev_one(o, what, cur, first, why)) != 0)
            return r;
        *n = 1;
        return *first < buf ? agah_fail(why, AGAH_EINTERNAL, "%s: unexpected layout", what) : 0;
    }
    if (a->size == 1)
        return agah_fail(why, AGAH_ENONCANON, "%s: one link is written [epoch, nonce, ct]", what);
    if (a->size > AGAH_EPOCH_MAX_LINKS)
        return agah_fail(why, AGAH_ETOOBIG, "%s: %u links, at most %d", what,
                         (unsigned)a->size, AGAH_EPOCH_MAX_LINKS);
    for (uint32_t i = 0; i < a->size; i++) {
        if ((r = ep__prev_one(&a->ptr[i], what, cur, &at, why)) != 0)
            return r;
        if ((r = ep__after(prev, cur, i, what, "link", "an epoch", "epoch id", why)) != 0)
            return r;
        if (i == 0)
            *first = at;
        if (at != *first + (size_t)i * AGAH_EPOCH_LINK_WIRE || *first < buf)
            return agah_fail(why, AGAH_EINTERNAL, "%s: unexpected layout", what);
    }
    *n = a->size;
    return 0;
}

/* No key is both a recipient and a relay: both lists are sorted, so one
 * merge pass tells. */
static int ep__disjoint(const struct agah_rec *r, struct agah_why *why)
{
    size_t i = 0, j = 0;
    while (i < r->u.epoch.n && j < r->u.epoch.n_relays) {
        int c = memcmp(agah_rec_epoch_member(r, i), agah_rec_epoch_relay(r, j), AGAH_PK_LEN);
        if (c == 0)
            return agah_fail(why, AGAH_EFIELDS,
                             "field 11 (relays): relay entry %zu is also a recipient", j + 1);
        if (c < 0)
            i++;
        else
            j++;
    }
    return 0;
}

int rec__epoch_fields(const msgpack_object *f, const uint8_t *buf, struct agah_rec *out,
                      struct agah_why *why)
{
    uint64_t v;
    int r;

    if ((r = agah_mp_uint(&f[6], "field 7 (number)", UINT64_MAX, &v, why)) != 0)
        return r;
    if (v == 0)
        return agah_fail(why, AGAH_EVALUE, "field 7 (number): epochs count from 1");
    out->u.epoch.number = v;
    if ((r = ep__entries(&f[7], buf, "field 8 (entries)", 1, &out->u.epoch.n,
                         &out->u.epoch.entries, why)) != 0 ||
        (r = ep__prev(&f[8], buf, &out->u.epoch.n_prev, &out->u.epoch.prev, why)) != 0 ||
        (r = ep__link(&f[9], "field 10 (net)", &out->u.epoch.has_net, out->u.epoch.net_origin,
                      out->u.epoch.net_nonce, &out->u.epoch.net_ct, why)) != 0 ||
        (r = ep__entries(&f[10], buf, "field 11 (relays)", 0, &out->u.epoch.n_relays,
                         &out->u.epoch.relays, why)) != 0)
        return r;
    return ep__disjoint(out, why);
}

static const uint8_t *ep__at(const uint8_t *base, size_t n, size_t i, size_t off)
{
    if (base == NULL || i >= n)
        return NULL;
    return base + i * AGAH_EPOCH_ENTRY_WIRE + off;
}

const uint8_t *agah_rec_epoch_member(const struct agah_rec *r, size_t i)
{
    if (r == NULL || r->type != AGAH_REC_EPOCH)
        return NULL;
    return ep__at(r->u.epoch.entries, r->u.epoch.n, i, 3);
}

const uint8_t *agah_rec_epoch_sealed(const struct agah_rec *r, size_t i)
{
    if (r == NULL || r->type != AGAH_REC_EPOCH)
        return NULL;
    return ep__at(r->u.epoch.entries, r->u.epoch.n, i, 3 + AGAH_PK_LEN + 2);
}

const uint8_t *agah_rec_epoch_relay(const struct agah_rec *r, size_t i)
{
    if (r == NULL || r->type != AGAH_REC_EPOCH)
        return NULL;
    return ep__at(r->u.epoch.relays, r->u.epoch.n_relays, i, 3);
}

const uint8_t *agah_rec_epoch_relay_sealed(const struct agah_rec *r, size_t i)
{
    if (r == NULL || r->type != AGAH_REC_EPOCH)
        return NULL;
    return ep__at(r->u.epoch.relays, r->u.epoch.n_relays, i, 3 + AGAH_PK_LEN + 2);
}

/* ------------------------------------------------------------------ */
/* Encoding                                                            */

/* The associated data of a link: a label and the epoch id it names, so a
 * link cannot be moved to name another epoch or serve as the other kind. */
static size_t ep__ad(const char *label, const uint8_t id[32], uint8_t ad[EP_AD_MAX])
{
    size_t n = strlen(label);
    memcpy(ad, label, n);
    memcpy(ad + n, id, 32);
    return n + 32;
}

/* Packs an entry list: each key with `secret` sealed to it. */
static int ep__pack_entries(msgpack_packer *pk, const uint8_t (*keys)[32], size_t n,
                            const uint8_t secret[AGAH_KEY_LEN])
{
    uint8_t sealed[AGAH_KEY_LEN + AGAH_SEAL_OVERHEAD];
    int r;

    if (msgpack_pack_array(pk, n) != 0)
        return AGAH_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if ((r = agah_seal(keys[i], secret, AGAH_KEY_LEN, sealed)) != 0)
            return r;
        if (msgpack_pack_array(pk, 2) != 0 || rec__pack_bin(pk, keys[i], AGAH_PK_LEN) != 0 ||
            rec__pack_bin(pk, sealed, sizeof sealed) != 0)
            return AGAH_ENOMEM;
    }
    return 0;
}

/* Packs a link: [] without an id, else `secret` encrypted under `key`. */
static int ep__pack_link(msgpack_packer *pk, const char *label, const uint8_t *id,
                         const uint8_t *secret, const uint8_t key[AGAH_KEY_LEN])
{
    uint8_t nonce[AGAH_NONCE_LEN], ct[EP_LINK_CT], ad[EP_AD_MAX];
    size_t adlen;

    if (id == NULL)
        return msgpack_pack_array(pk, 0) != 0 ? AGAH_ENOMEM : 0;
    /* A fresh random nonce: the epoch key also seals alerts, each under
     * its own random nonce. */
    agah_random(nonce, sizeof nonce);
    adlen = ep__ad(label, id, ad);
    if (crypto_aead_xchacha20poly1305_ietf_encrypt(ct, NULL, secret, AGAH_KEY_LEN, ad, adlen,
                                                   NULL, nonce, key) != 0)
        return AGAH_ECRYPTO;
    if (msgpack_pack_array(pk, 3) != 0 || rec__pack_bin(pk, id, 32) != 0 ||
        rec__pack_bin(pk, nonce, sizeof nonce) != 0 || rec__pack_bin(pk, ct, sizeof ct) != 0)
        return AGAH_ENOMEM;
    return 0;
}

/* Packs the chain links in ascending order of epoch id: [] for none, a
 * lone link as itself, several as an array of them. The spec's order is
 * kept in `ord` (indices), sorted here; a repeated id is AGAH_EINVAL. */
static int ep__pack_prev(msgpack_packer *pk, const struct agah_epoch_spec *s,
                         const uint8_t key[AGAH_KEY_LEN])
{
    size_t ord[AGAH_EPOCH_MAX_LINKS];
    int r;

    for (size_t i = 0; i < s->n_prev; i++) {
        size_t j = i;
        for (; j > 0 && memcmp(s->prev_ids[ord[j - 1]], s->prev_ids[i], 32) > 0; j--)
            ord[j] = ord[j - 1];
        if (j > 0 && memcmp(s->prev_ids[ord[j - 1]], s->prev_ids[i], 32) == 0)
            return AGAH_EINVAL;
        ord[j] = i;
    }
    if (s->n_prev == 0)
        return msgpack_pack_array(pk, 0) != 0 ? AGAH_ENOMEM : 0;
    if (s->n_prev > 1 && msgpack_pack_array(pk, (uint32_t)s->n_prev) != 0)
        return AGAH_ENOMEM;
    for (size_t i = 0; i < s->n_prev; i++)
        if ((r = ep__pack_link(pk, EP_PREV_AD, s->prev_ids[ord[i]], s->prev_keys[ord[i]],
                               key)) != 0)
            return r;
    return 0;
}

static int ep__spec_ok(const struct agah_epoch_spec *s)
{
    if (s->n > AGAH_EPOCH_MAX_MEMBERS || s->n_relays > AGAH_EPOCH_MAX_MEMBERS ||
        s->n_prev > AGAH_EPOCH_MAX_LINKS)
        return AGAH_ETOOBIG;
    if (s->n == 0 || s->number == 0 || s->recipients == NULL || s->key == NULL ||
        (s->n_relays > 0 && s->relays == NULL) ||
        (s->n_prev > 0 && (s->prev_ids == NULL || s->prev_keys == NULL)) ||
        (s->net_origin == NULL) != (s->net == NULL) ||
        (s->net_origin != NULL && sodium_is_zero(s->net_origin, 32)))
        return AGAH_EINVAL;
    for (size_t i = 0; i < s->n_prev; i++)
        if (s->prev_keys[i] == NULL || sodium_is_zero(s->prev_ids[i], 32))
            return AGAH_EINVAL;
    return 0;
}

int agah_rec_epoch_make(const struct agah_identity *id, const uint8_t community[32],
                        const struct agah_epoch_spec *s, uint8_t **out, size_t *outlen)
{
    struct rec__enc e;
    uint8_t (*recips)[32] = NULL, (*relays)[32] = NULL, net[AGAH_KEY_LEN];
    int r, begun = 0;

    if ((r = ep__spec_ok(s)) != 0)
        return r;
    /* Both lists sorted so the record has one encoding. */
    if ((r = rec__sorted_set(s->recipients, s->n, &recips)) != 0 ||
        (r = rec__sorted_set(s->relays, s->n_relays, &relays)) != 0)
        goto out;
    for (size_t i = 0; i < s->n_relays; i++)
        if (agah_ids_find(recips[0], s->n, 32, relays[i])) {
            r = AGAH_EINVAL;
            goto out;
        }
    if (s->net != NULL)
        memcpy(net, s->net, sizeof net);
    else
        agah_net_secret_derive(s->key, net);
    if ((r = rec__begin(&e, AGAH_REC_EPOCH, community, id, s->created, 0)) != 0)
        goto out;
    begun = 1;
    if (msgpack_pack_uint64(&e.pk, s->number) != 0) {
        r = AGAH_ENOMEM;
        goto out;
    }
    if ((r = ep__pack_entries(&e.pk, (const uint8_t(*)[32])recips, s->n, s->key)) != 0 ||
        (r = ep__pack_prev(&e.pk, s, s->key)) != 0 ||
        (r = ep__pack_link(&e.pk, EP_NET_AD, s->net_origin, net, s->key)) != 0 ||
        (r = ep__pack_entries(&e.pk, (const uint8_t(*)[32])relays, s->n_relays, net)) != 0)
        goto out;
    r = rec__finish(&e, id, out, outlen);
out:
    if (r != 0 && begun)
        rec__abort(&e);
    sodium_memzero(net, sizeof net);
    free(recips);
    free(relays);
    return r;
}

int agah_rec_epoch_chained(const struct agah_identity *id, const uint8_t community[32],
                           uint64_t number, const uint8_t (*recipients)[32], size_t n,
                           const uint8_t key[AGAH_KEY_LEN], const uint8_t prev_id[32],
                           const uint8_t prev_key[AGAH_KEY_LEN], uint64_t created,
                           uint8_t **out, size_t *outlen)
{
    const uint8_t *const keys[1] = {prev_key};
    struct agah_epoch_spec s = {.number = number, .recipients = recipients, .n = n,
                                .key = key, .prev_ids = (const uint8_t(*)[32])prev_id,
                                .prev_keys = keys, .n_prev = prev_id != NULL,
                                .created = created};
    if ((prev_id == NULL) != (prev_key == NULL))
        return AGAH_EINVAL;
    return agah_rec_epoch_make(id, community, &s, out, outlen);
}

int agah_rec_epoch(const struct agah_identity *id, const uint8_t community[32], uint64_t number,
                   const uint8_t (*recipients)[32], size_t n, const uint8_t key[AGAH_KEY_LEN],
                   uint64_t created, uint8_t **out, size_t *outlen)
{
    return agah_rec_epoch_chained(id, community, number, recipients, n, key, NULL, NULL,
                                  created, out, outlen);
}

/* ------------------------------------------------------------------ */
/* Opening                                                             */

static int ep__link_open(const char *label, const uint8_t id[32], const uint8_t nonce[24],
                         const uint8_t *ct, const uint8_t key[AGAH_KEY_LEN],
                         uint8_t secret[AGAH_KEY_LEN])
{
    uint8_t ad[EP_AD_MAX];
    size_t adlen = ep__ad(label, id, ad);
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(secret, NULL, NULL, ct, EP_LINK_CT, ad, adlen,
                                                   nonce, key) != 0) {
        sodium_memzero(secret, AGAH_KEY_LEN);
        return AGAH_ECRYPTO;
    }
    return 0;
}

const uint8_t *agah_rec_epoch_prev_id(const struct agah_rec *r, size_t i)
{
    if (r == NULL || r->type != AGAH_REC_EPOCH || r->u.epoch.prev == NULL ||
        i >= r->u.epoch.n_prev)
        return NULL;
    return r->u.epoch.prev + i * AGAH_EPOCH_LINK_WIRE + 3;
}

int agah_rec_epoch_prev_open(const struct agah_rec *r, size_t i, const uint8_t key[AGAH_KEY_LEN],
                             uint8_t prev_key[AGAH_KEY_LEN])
{
    const uint8_t *id;

    if (r == NULL || r->type != AGAH_REC_EPOCH)
        return AGAH_EINVAL;
    if ((id = agah_rec_epoch_prev_id(r, i)) == NULL)
        return AGAH_ENOENT;
    /* 93 c4 20 <id 32> c4 18 <nonce 24> c4 30 <ct 48> */
    return ep__link_open(EP_PREV_AD, id, id + AGAH_HASH_LEN + 2,
                         id + AGAH_HASH_LEN + 2 + AGAH_NONCE_LEN + 2, key, prev_key);
}

/* Opens the box of `me` among n entries starting at base. */
static int ep__open_entry(const struct agah_rec *r, int relays, const struct agah_identity *me,
                          uint8_t secret[AGAH_KEY_LEN])
{
    const uint8_t *pk = agah_identity_pk(me);
    size_t n = relays ? r->u.epoch.n_relays : r->u.epoch.n;

    for (size_t i = 0; i < n; i++) {
        const uint8_t *k = relays ? agah_rec_epoch_relay(r, i) : agah_rec_epoch_member(r, i);
        if (memcmp(k, pk, AGAH_PK_LEN) == 0)
            return agah_seal_open(me,
                                  relays ? agah_rec_epoch_relay_sealed(r, i)
                                         : agah_rec_epoch_sealed(r, i),
                                  AGAH_KEY_LEN + AGAH_SEAL_OVERHEAD, secret);
    }
    return AGAH_ENOENT;
}

int agah_rec_epoch_open(const struct agah_rec *r, const struct agah_identity *me,
                        uint8_t key[AGAH_KEY_LEN])
{
    if (r == NULL || r->type != AGAH_REC_EPOCH)
        return AGAH_EINVAL;
    return ep__open_entry(r, 0, me, key);
}

void agah_net_secret_derive(const uint8_t key[AGAH_KEY_LEN], uint8_t net[AGAH_KEY_LEN])
{
    /* crypto_kdf cannot fail for a 32-byte subkey; a one-way step, so a
     * relay holding the secret learns nothing of the key. */
    (void)crypto_kdf_derive_from_key(net, AGAH_KEY_LEN, EP_NET_SUBKEY, EP_NET_CTX, key);
}

void agah_rec_epoch_net_id(const struct agah_rec *r, uint8_t net_id[AGAH_HASH_LEN])
{
    memcpy(net_id, r->u.epoch.has_net ? r->u.epoch.net_origin : r->id, AGAH_HASH_LEN);
}

int agah_rec_epoch_net_open(const struct agah_rec *r, const uint8_t key[AGAH_KEY_LEN],
                            uint8_t net[AGAH_KEY_LEN])
{
    if (r == NULL || r->type != AGAH_REC_EPOCH)
        return AGAH_EINVAL;
    if (!r->u.epoch.has_net) {
        agah_net_secret_derive(key, net);
        return 0;
    }
    return ep__link_open(EP_NET_AD, r->u.epoch.net_origin, r->u.epoch.net_nonce,
                         r->u.epoch.net_ct, key, net);
}

int agah_rec_epoch_net_relay_open(const struct agah_rec *r, const struct agah_identity *me,
                                  uint8_t net[AGAH_KEY_LEN])
{
    if (r == NULL || r->type != AGAH_REC_EPOCH)
        return AGAH_EINVAL;
    return ep__open_entry(r, 1, me, net);
}

/* Peer messages: their shapes as a table, the strict decoder, the
 * encoders, and the missing-id table of Plumtree's lazy push. */
#include <agah/mp.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "gossip.h"
#include "peeraddr.h"
#include "sketch.h"

_Static_assert(GOSSIP_SKREQ == SKETCH_MSG_REQ && GOSSIP_SKETCH == SKETCH_MSG_IBLT &&
                   GOSSIP_SWANT == SKETCH_MSG_SWANT,
               "sketch.h and gossip.h number the sketch messages alike");

/* --- decoding --- */

typedef int (*gossip_parse_fn)(const msgpack_object *a, struct gossip_msg *m,
                               struct agah_why *why);

static int gossip__record(const msgpack_object *a, struct gossip_msg *m, struct agah_why *why)
{
    int r = agah_mp_bin(&a[1], "record", AGAH_REC_MAX, &m->rec, &m->rec_len, why);

    if (r == 0 && m->rec_len == 0)
        return agah_fail(why, AGAH_ETRUNC, "record: empty");
    return r;
}

static int gossip__ids(const msgpack_object *a, struct gossip_msg *m, struct agah_why *why)
{
    const msgpack_object *o = &a[1];

    if (o->type != MSGPACK_OBJECT_ARRAY)
        return agah_fail(why, AGAH_ETYPE, "ids: expected an array");
    if (o->via.array.size == 0 || o->via.array.size > GOSSIP_IDS_MAX)
        return agah_fail(why, AGAH_ETOOBIG, "ids: %u ids, 1 to %d allowed",
                         (unsigned)o->via.array.size, GOSSIP_IDS_MAX);
    for (size_t i = 0; i < o->via.array.size; i++)
        if (o->via.array.ptr[i].type != MSGPACK_OBJECT_BIN ||
            o->via.array.ptr[i].via.bin.size != AGAH_HASH_LEN)
            return agah_fail(why, AGAH_ETYPE, "ids[%zu]: expected bin of 32 bytes", i);
    m->ids = o->via.array.ptr;
    m->n_ids = o->via.array.size;
    return 0;
}

static int gossip__none(const msgpack_object *a, struct gossip_msg *m, struct agah_why *why)
{
    (void)a;
    (void)m;
    (void)why;
    return 0;
}

static int gossip__recon(const msgpack_object *a, struct gossip_msg *m, struct agah_why *why)
{
    (void)a;
    (void)m;
    (void)why;
    return 0; /* recon_process checks every range before acting */
}

/* [type, salt, ...]: the salt of a sketch message. */
static int gossip__salt(const msgpack_object *a, struct gossip_msg *m, struct agah_why *why)
{
    size_t n;
    int r = agah_mp_bin(&a[1], "salt", SKETCH_SALT_LEN, &m->salt, &n, why);

    if (r == 0 && n != SKETCH_SALT_LEN)
        return agah_fail(why, AGAH_ETYPE, "salt: expected %d bytes", SKETCH_SALT_LEN);
    return r;
}

static int gossip__skreq(const msgpack_object *a, struct gossip_msg *m, struct agah_why *why)
{
    int r;

    if ((r = gossip__salt(a, m, why)) != 0 ||
        (r = agah_mp_uint(&a[2], "count", UINT64_MAX, &m->count, why)) != 0 ||
        (r = agah_mp_bin(&a[3], "strata", SKETCH_STRATA_BYTES, &m->blob, &m->blob_len, why)) != 0)
        return r;
    if (m->blob_len != SKETCH_STRATA_BYTES)
        return agah_fail(why, AGAH_ETYPE, "strata: expected %d bytes", SKETCH_STRATA_BYTES);
    return 0;
}

static int gossip__sketch(const msgpack_object *a, struct gossip_msg *m, struct agah_why *why)
{
    int r;

    if ((r = gossip__salt(a, m, why)) != 0 ||
        (r = agah_mp_uint(&a[2], "count", UINT64_MAX, &m->count, why)) != 0 ||
        (r = agah_mp_bin(&a[3], "cells", SKETCH_K * SKETCH_Q_MAX * SKETCH_CELL_LEN, &m->blob,
                         &m->blob_len, why)) != 0)
        return r;
    if (m->blob_len == 0 || m->blob_len % (SKETCH_K * SKETCH_CELL_LEN) != 0)
        return agah_fail(why, AGAH_EVALUE, "cells: %zu bytes, not a positive multiple of %d",
                         m->blob_len, SKETCH_K * SKETCH_CELL_LEN);
    return 0;
}

static int gossip__swant(const msgpack_object *a, struct gossip_msg *m, struct agah_why *why)
{
    int r;

    if ((r = gossip__salt(a, m, why)) != 0 ||
        (r = agah_mp_bin(&a[2], "short ids", 8 * SKETCH_SHORTS_MAX, &m->blob, &m->blob_len,
                         why)) != 0)
        return r;
    if (m->blob_len == 0 || m->blob_len % 8 != 0)
        return agah_fail(why, AGAH_EVALUE, "short ids: %zu bytes, not 8 to %d in steps of 8",
                         m->blob_len, 8 * SKETCH_SHORTS_MAX);
    return 0;
}

/* [6, [entry...]]: every entry's shape is checked here, its signature and
 * its key's membership by the receiver (net.c), which needs the node. */
static int gossip__peers(const msgpack_object *a, struct gossip_msg *m, struct agah_why *why)
{
    const msgpack_object *l = &a[1];
    struct peeraddr e;
    int r;

    if (l->type != MSGPACK_OBJECT_ARRAY)
        return agah_fail(why, AGAH_ETYPE, "peers: expected an array");
    if (l->via.array.size > GOSSIP_PEERS_MAX)
        return agah_fail(why, AGAH_ETOOBIG, "peers: more than %d", GOSSIP_PEERS_MAX);
    for (size_t i = 0; i < l->via.array.size; i++)
        if ((r = peeraddr_parse(&l->via.array.ptr[i], &e, why)) != 0)
            return r;
    m->entries = l->via.array.ptr;
    m->n_entries = l->via.array.size;
    return 0;
}

/* What each message type looks like: its name, its exact element count
 * and the parser of its fields. */
static const struct {
    const char *name;
    uint32_t nfields;
    gossip_parse_fn parse;
} gossip__types[GOSSIP_NTYPES] = {
    [GOSSIP_RECORD] = {"RECORD", 2, gossip__record},
    [GOSSIP_IHAVE] = {"IHAVE", 2, gossip__ids},
    [GOSSIP_GRAFT] = {"GRAFT", 2, gossip__ids},
    [GOSSIP_PRUNE] = {"PRUNE", 1, gossip__none},
    [GOSSIP_RECON] = {"RECON", 3, gossip__recon},
    [GOSSIP_PEERS] = {"PEERS", 2, gossip__peers},
    [GOSSIP_PING] = {"PING", 1, gossip__none},
    [GOSSIP_PONG] = {"PONG", 1, gossip__none},
    [GOSSIP_WANT] = {"WANT", 2, gossip__ids},
    [GOSSIP_BODY] = {"BODY", 2, gossip__record},
    [GOSSIP_OFFER] = {"OFFER", 2, gossip__ids},
    [GOSSIP_SKREQ] = {"SKREQ", 4, gossip__skreq},
    [GOSSIP_SKETCH] = {"SKETCH", 4, gossip__sketch},
    [GOSSIP_SWANT] = {"SWANT", 3, gossip__swant},
};

int gossip_decode(const uint8_t *pt, size_t len, msgpack_unpacked *u, struct gossip_msg *m,
                  struct agah_why *why)
{
    const msgpack_object *o;
    uint64_t type;
    int r;

    memset(m, 0, sizeof *m);
    if ((r = agah_mp_unpack(pt, len, 1, u, why)) != 0)
        return r;
    o = &u->data;
    if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size == 0)
        return agah_fail(why, AGAH_ETYPE, "message: expected a non-empty array");
    if ((r = agah_mp_uint(&o->via.array.ptr[0], "message type", GOSSIP_NTYPES - 1, &type,
                          why)) != 0)
        return r;
    if (gossip__types[type].parse == NULL)
        return agah_fail(why, AGAH_EVERSION, "unknown message type %llu",
                         (unsigned long long)type);
    if (o->via.array.size != gossip__types[type].nfields)
        return agah_fail(why, AGAH_EFIELDS, "%s: expected %u elements, got %u",
                         gossip__types[type].name, gossip__types[type].nfields,
                         (unsigned)o->via.array.size);
    m->type = (int)type;
    m->obj = o;
    return gossip__types[type].parse(o->via.array.ptr, m, why);
}

/* --- encoding --- */

#define GOSSIP_BEGIN(buf, cap)                                                  \
    struct agah_mp_fixbuf fb = {(buf), 0, (cap)};                                  \
    msgpack_packer pk;                                                          \
    msgpack_packer_init(&pk, &fb, agah_mp_fixbuf_write)

int gossip_enc_simple(int type, uint8_t *buf, size_t cap, size_t *len)
{
    GOSSIP_BEGIN(buf, cap);
    if (msgpack_pack_array(&pk, 1) != 0 || msgpack_pack_uint64(&pk, (uint64_t)type) != 0)
        return AGAH_ETOOBIG;
    *len = fb.len;
    return 0;
}

int gossip_enc_record(int type, const uint8_t *rec, size_t rec_len, uint8_t *buf, size_t cap,
                      size_t *len)
{
    GOSSIP_BEGIN(buf, cap);
    if (msgpack_pack_array(&pk, 2) != 0 || msgpack_pack_uint64(&pk, (uint64_t)type) != 0 ||
        msgpack_pack_bin(&pk, rec_len) != 0 || msgpack_pack_bin_body(&pk, rec, rec_len) != 0)
        return AGAH_ETOOBIG;
    *len = fb.len;
    return 0;
}

int gossip_enc_ids(int type, const uint8_t (*ids)[AGAH_HASH_LEN], size_t n, uint8_t *buf,
                   size_t cap, size_t *len)
{
    GOSSIP_BEGIN(buf, cap);
    if (n == 0 || n > GOSSIP_IDS_MAX)
        return AGAH_EINVAL;
    if (msgpack_pack_array(&pk, 2) != 0 || msgpack_pack_uint64(&pk, (uint64_t)type) != 0 ||
        msgpack_pack_array(&pk, n) != 0)
        return AGAH_ETOOBIG;
    for (size_t i = 0; i < n; i++)
        if (msgpack_pack_bin(&pk, AGAH_HASH_LEN) != 0 ||
            msgpack_pack_bin_body(&pk, ids[i], AGAH_HASH_LEN) != 0)
            return AGAH_ETOOBIG;
    *len = fb.len;
    return 0;
}

int gossip_enc_peers(const struct peeraddr *entries, size_t n, uint8_t *buf, size_t cap,
                     size_t *len)
{
    GOSSIP_BEGIN(buf, cap);
    if (n > GOSSIP_PEERS_MAX)
        return AGAH_EINVAL;
    if (msgpack_pack_array(&pk, 2) != 0 || msgpack_pack_uint64(&pk, GOSSIP_PEERS) != 0 ||
        msgpack_pack_array(&pk, n) != 0)
        return AGAH_ETOOBIG;
    for (size_t i = 0; i < n; i++)
        if (peeraddr_pack(&pk, &entries[i]) != 0)
            return AGAH_ETOOBIG;
    *len = fb.len;
    return 0;
}

/* --- missing ids --- */

#define GOSSIP_SLOTS (2 * GOSSIP_MISSING_MAX) /* power of two */
#define GOSSIP_FIFO (2 * GOSSIP_MISSING_MAX)

struct gossip__entry {
    uint8_t id[AGAH_HASH_LEN];
    uint64_t peers[GOSSIP_ANNOUNCERS];
    uint32_t gen;
    uint8_t n, tried, used;
};

struct gossip__due {
    uint8_t id[AGAH_HASH_LEN];
    uint64_t deadline;
    uint32_t gen;
};

/* 896 KiB, allocated when the first id goes missing and given back by
 * gossip_missing_release once nothing is left in it: after a burst its
 * slots, touched at random, would otherwise stay resident. */
struct gossip__tables {
    struct gossip__entry slots[GOSSIP_SLOTS];
    /* FIFO of deadlines; entries that were received or re-queued leave
     * stale elements behind, recognised by their generation. */
    struct gossip__due fifo[GOSSIP_FIFO];
};

/* Entries first announced by one peer (its serial): the per-peer quota. */
struct gossip__owner {
    uint64_t peer;
    uint32_t n;
};

struct gossip_missing {
    struct gossip__tables *t; /* NULL while empty */
    size_t count;
    uint32_t gen;
    size_t head, len;
    /* SipHash key of the slot index: ids are chosen by peers, and a peer
     * announcing ids that share their first bytes would pile them into
     * one probe run of an unkeyed table. */
    uint8_t key[crypto_shorthash_KEYBYTES];
    struct gossip__owner owners[GOSSIP_OWNERS];
};

int gossip_missing_new(struct gossip_missing **out)
{
    struct gossip_missing *g = calloc(1, sizeof *g);

    if (g == NULL)
        return AGAH_ENOMEM;
    randombytes_buf(g->key, sizeof g->key);
    *out = g;
    return 0;
}

void gossip_missing_free(struct gossip_missing *g)
{
    if (g == NULL)
        return;
    free(g->t);
    free(g);
}

size_t gossip_missing_count(const struct gossip_missing *g) { return g->count; }

int gossip_missing_release(struct gossip_missing *g)
{
    if (g->t == NULL || g->count != 0 || g->len != 0)
        return 0;
    free(g->t);
    g->t = NULL;
    g->head = 0;
    return 1;
}

/* Ids are BLAKE2b outputs, but a peer picks which ones it announces (it
 * may grind ids that share their first bytes), so the slot comes from a
 * keyed hash (libsodium's SipHash-2-4) under this table's random key. */
static size_t gossip__home(const struct gossip_missing *g, const uint8_t id[AGAH_HASH_LEN])
{
    uint8_t h[crypto_shorthash_BYTES];
    uint64_t v = 0;

    (void)crypto_shorthash(h, id, AGAH_HASH_LEN, g->key);
    for (int i = 0; i < 8; i++)
        v = (v << 8) | h[i];
    return (size_t)(v & (GOSSIP_SLOTS - 1));
}

/* The quota entry of `peer`, made when `make` (NULL when full or absent). */
static struct gossip__owner *gossip__owner(struct gossip_missing *g, uint64_t peer, int make)
{
    struct gossip__owner *free_slot = NULL;
    for (size_t i = 0; i < GOSSIP_OWNERS; i++) {
        if (g->owners[i].n > 0 && g->owners[i].peer == peer)
            return &g->owners[i];
        if (g->owners[i].n == 0 && free_slot == NULL)
            free_slot = &g->owners[i];
    }
    if (!make || free_slot == NULL)
        return NULL;
    free_slot->peer = peer;
    return free_slot;
}

static struct gossip__entry *gossip__find(struct gossip_missing *g,
                                          const uint8_t id[AGAH_HASH_LEN])
{
    if (g->t == NULL)
        return NULL;
    for (size_t i = gossip__home(g, id), k = 0; k < GOSSIP_SLOTS; k++, i = (i + 1) & (GOSSIP_SLOTS - 1)) {
        if (!g->t->slots[i].used)
            return NULL;
        if (memcmp(g->t->slots[i].id, id, AGAH_HASH_LEN) == 0)
            return &g->t->slots[i];
    }
    return NULL;
}

static int gossip__enqueue(struct gossip_missing *g, const struct gossip__entry *e,
                           uint64_t deadline)
{
    struct gossip__due *d;

    if (g->len == GOSSIP_FIFO)
        return AGAH_ETOOBIG;
    d = &g->t->fifo[(g->head + g->len) % GOSSIP_FIFO];
    memcpy(d->id, e->id, AGAH_HASH_LEN);
    d->deadline = deadline;
    d->gen = e->gen;
    g->len++;
    return 0;
}

int gossip_missing_add(struct gossip_missing *g, const uint8_t id[AGAH_HASH_LEN], uint64_t peer,
                       uint64_t deadline)
{
    struct gossip__entry *e = gossip__find(g, id);
    size_t i;

    if (e != NULL) {
        for (i = 0; i < e->n; i++)
            if (e->peers[i] == peer)
                return 0;
        if (e->n < GOSSIP_ANNOUNCERS)
            e->peers[e->n++] = peer;
        return 0;
    }
    if (g->count >= GOSSIP_MISSING_MAX || g->len == GOSSIP_FIFO)
        return AGAH_ETOOBIG;
    /* One peer's announcements may take a quarter of the table, so a
     * hostile member cannot crowd out what the others announce. */
    struct gossip__owner *o = gossip__owner(g, peer, 1);
    if (o == NULL || o->n >= GOSSIP_MISSING_PEER_MAX)
        return AGAH_ETOOBIG;
    if (g->t == NULL && (g->t = calloc(1, sizeof *g->t)) == NULL)
        return AGAH_ENOMEM;
    o->n++;
    for (i = gossip__home(g, id); g->t->slots[i].used; i = (i + 1) & (GOSSIP_SLOTS - 1))
        ;
    e = &g->t->slots[i];
    memset(e, 0, sizeof *e);
    memcpy(e->id, id, AGAH_HASH_LEN);
    e->peers[0] = peer;
    e->n = 1;
    e->used = 1;
    e->gen = ++g->gen;
    g->count++;
    return gossip__enqueue(g, e, deadline);
}

/* Linear-probing deletion by backward shift, so lookups never need
 * tombstones. */
static void gossip__remove(struct gossip_missing *g, struct gossip__entry *e)
{
    struct gossip__entry *slots = g->t->slots;
    size_t i = (size_t)(e - slots), j = i;

    struct gossip__owner *o = gossip__owner(g, slots[i].peers[0], 0);
    if (o != NULL)
        o->n--;
    slots[i].used = 0;
    g->count--;
    for (;;) {
        size_t k;

        j = (j + 1) & (GOSSIP_SLOTS - 1);
        if (!slots[j].used)
            return;
        k = gossip__home(g, slots[j].id);
        /* Move j back to i unless its home lies cyclically in (i, j]. */
        if ((i <= j) ? (i < k && k <= j) : (i < k || k <= j))
            continue;
        slots[i] = slots[j];
        slots[j].used = 0;
        i = j;
    }
}

int gossip_missing_del(struct gossip_missing *g, const uint8_t id[AGAH_HASH_LEN])
{
    struct gossip__entry *e = gossip__find(g, id);

    if (e == NULL)
        return 0;
    gossip__remove(g, e);
    return 1;
}

int gossip_missing_due(struct gossip_missing *g, uint64_t now, uint64_t retry,
                       uint8_t id[AGAH_HASH_LEN], uint64_t *peer)
{
    while (g->len > 0) {
        struct gossip__due d = g->t->fifo[g->head];
        struct gossip__entry *e;

        if (d.deadline > now)
            return 0;
        g->head = (g->head + 1) % GOSSIP_FIFO;
        g->len--;
        e = gossip__find(g, d.id);
        if (e == NULL || e->gen != d.gen)
            continue; /* received meanwhile, or re-queued */
        if (e->tried >= e->n) {
            gossip__remove(g, e); /* every announcer failed us: recon's job now */
            continue;
        }
        memcpy(id, e->id, AGAH_HASH_LEN);
        *peer = e->peers[e->tried++];
        e->gen = ++g->gen;
        if (gossip__enqueue(g, e, retry) != 0)
            gossip__remove(g, e);
        return 1;
    }
    return 0;
}

int64_t gossip_missing_next(const struct gossip_missing *g, uint64_t now)
{
    if (g->len == 0)
        return -1;
    return g->t->fifo[g->head].deadline > now ? (int64_t)(g->t->fifo[g->head].deadline - now)
                                               : 0;
}

/* Unit tests of the node's in-memory parts: membership derivation
 * (daemon/node/membership.c) on hand-made records, the id map and the alert
 * index. No files are written. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <agah/agah.h>
#include "alerts.h"
#include "idmap.h"
#include "membership.h"

#include "check.h"

#define T0 1700000000ull

/* Records are decoded from buffers that must outlive the decode. */
/* memb_names_open's key lookups: none held; the test keys (the genesis
 * key under the community id ctx, the test epoch's key). */
static const uint8_t *no_key(void *ctx, const uint8_t id[AGAH_HASH_LEN])
{
    (void)ctx;
    (void)id;
    return NULL;
}

static const uint8_t *test_key(void *ctx, const uint8_t id[AGAH_HASH_LEN])
{
    if (memcmp(id, ctx, AGAH_HASH_LEN) == 0)
        return TEST_GKEY;
    return memcmp(id, TEST_EID, AGAH_HASH_LEN) == 0 ? TEST_EKEY : NULL;
}

static uint8_t *bufs[64];
static size_t n_bufs;

static void keep(uint8_t *buf)
{
    if (n_bufs >= 64)
        exit(2);
    bufs[n_bufs++] = buf;
}

static void free_bufs(void)
{
    for (size_t i = 0; i < n_bufs; i++)
        free(bufs[i]);
    n_bufs = 0;
}

static void add(struct memb *m, uint8_t *buf, size_t len, uint8_t id[32])
{
    struct agah_rec r;
    keep(buf);
    if (agah_rec_decode(buf, len, NULL, &r, NULL) != 0)
        exit(2);
    if (id != NULL)
        memcpy(id, r.id, 32);
    CHECK(memb_add(m, &r) == 0);
}

static struct agah_identity *ident(void)
{
    struct agah_identity *id = NULL;
    if (agah_identity_generate(&id) != 0)
        exit(2);
    return id;
}

/* A membership with a genesis by f. */
static void genesis(struct memb *m, const struct agah_identity *f, uint8_t cid[32])
{
    uint8_t *g;
    size_t gl;
    if (agah_rec_genesis(f, TEST_GKEY, "c", "founder", T0, &g, &gl) != 0)
        exit(2);
    add(m, g, gl, cid);
}

static void admit(struct memb *m, const struct agah_identity *by, const uint8_t cid[32],
                  const struct agah_identity *who, int role, uint64_t created, uint64_t expires,
                  uint8_t id[32])
{
    uint8_t *b;
    size_t l;
    if (agah_rec_admission(by, cid, agah_identity_pk(who), role, "n", TEST_EID, TEST_EKEY, created, expires, &b, &l) !=
        0)
        exit(2);
    add(m, b, l, id);
}

static void revoke(struct memb *m, const struct agah_identity *by, const uint8_t cid[32],
                   const struct agah_identity *who, uint64_t created)
{
    uint8_t *b;
    size_t l;
    if (agah_rec_revocation(by, cid, agah_identity_pk(who), "", TEST_EID, TEST_EKEY, NULL, 0, created, &b, &l) != 0)
        exit(2);
    add(m, b, l, NULL);
}

static int role_at(const struct memb *m, const struct agah_identity *who, uint64_t t)
{
    int role = -1;
    int r = memb_role_at(m, agah_identity_pk(who), t, &role);
    return r == 0 ? role : r;
}

static void test_chains(void)
{
    struct memb m;
    struct agah_identity *f = ident(), *o1 = ident(), *o2 = ident(), *x = ident(), *y = ident();
    uint8_t cid[32], aid[32];

    memb_init(&m);
    genesis(&m, f, cid);
    /* x and y admit each other as organisers: a cycle not reaching the
     * founder is never valid, nor in the closure. */
    admit(&m, x, cid, y, AGAH_ROLE_ORGANISER, T0 + 1, 0, NULL);
    admit(&m, y, cid, x, AGAH_ROLE_ORGANISER, T0 + 1, 0, NULL);
    admit(&m, f, cid, o1, AGAH_ROLE_ORGANISER, T0 + 2, 0, NULL);
    admit(&m, o1, cid, o2, AGAH_ROLE_MEMBER, T0 + 3, T0 + 100, aid);
    /* A weaker role later does not weaken the stronger one. */
    admit(&m, f, cid, o2, AGAH_ROLE_RELAY, T0 + 4, 0, NULL);
    CHECK(memb_recompute(&m) == 0);
    CHECK(role_at(&m, x, T0 + 10) == AGAH_ENOENT);
    CHECK(!memb_in_closure(&m, agah_identity_pk(x)));
    CHECK(memb_known(&m, agah_identity_pk(x)));
    CHECK(role_at(&m, f, T0) == AGAH_ROLE_ORGANISER);
    CHECK(role_at(&m, o1, T0 + 1) == AGAH_ENOENT); /* before its admission */
    CHECK(role_at(&m, o1, T0 + 2) == AGAH_ROLE_ORGANISER);
    CHECK(role_at(&m, o2, T0 + 3) == AGAH_ROLE_MEMBER);
    CHECK(role_at(&m, o2, T0 + 50) == AGAH_ROLE_MEMBER);
    CHECK(role_at(&m, o2, T0 + 100) == AGAH_ROLE_RELAY); /* member admission expired */
    CHECK(memb_best_admission(&m, agah_identity_pk(o2)) >= 0);

    /* Revoking o1 with nothing kept makes its admission of o2 invalid,
     * whatever the times say, and o1 is out at every time. */
    revoke(&m, f, cid, o1, T0 + 3);
    CHECK(memb_recompute(&m) == 0);
    CHECK(role_at(&m, o1, T0 + 2) == AGAH_EPERM);
    CHECK(role_at(&m, o1, T0 + 3) == AGAH_EPERM);
    CHECK(role_at(&m, o2, T0 + 50) == AGAH_ROLE_RELAY);
    CHECK(memb_in_closure(&m, agah_identity_pk(o1))); /* closure ignores revocations */
    /* Removing the relay admission leaves o2 with nothing valid. */
    CHECK(memb_remove(&m, aid) == 1);
    CHECK(memb_remove(&m, aid) == 0);
    CHECK(role_at(&m, o2, T0 + 50) == AGAH_ROLE_RELAY);

    /* A revocation by a non-closure key does nothing. */
    revoke(&m, x, cid, f, T0);
    CHECK(memb_recompute(&m) == 0);
    CHECK(role_at(&m, f, T0 + 1000) == AGAH_ROLE_ORGANISER);
    /* One organiser (here a revoked one) cannot remove the founder. */
    revoke(&m, o1, cid, f, T0 + 500);
    CHECK(memb_recompute(&m) == 0);
    CHECK(role_at(&m, f, T0 + 499) == AGAH_ROLE_ORGANISER);
    CHECK(role_at(&m, f, T0 + 500) == AGAH_ROLE_ORGANISER);
    CHECK(!memb_revoked(&m, agah_identity_pk(f)));

    char name[AGAH_NAME_MAX + 1];
    /* Names are encrypted (record version 3): none until the key is there. */
    memb_name(&m, agah_identity_pk(f), name);
    CHECK(name[0] == '\0');
    CHECK(memb_names_open(&m, no_key, NULL) == 0);
    CHECK(memb_names_open(&m, test_key, cid) >= 1);
    memb_name(&m, agah_identity_pk(f), name);
    CHECK(strcmp(name, "founder") == 0);
    memb_free(&m);
    free_bufs();
    agah_identity_free(f);
    agah_identity_free(o1);
    agah_identity_free(o2);
    agah_identity_free(x);
    agah_identity_free(y);
}

static void test_clean_epochs(void)
{
    struct memb m;
    struct agah_identity *f = ident(), *a = ident(), *b = ident();
    uint8_t cid[32], key[32], *buf;
    size_t len;
    const uint8_t *pk[2];
    uint8_t recips[2][32];

    memset(key, 3, sizeof key);
    memb_init(&m);
    genesis(&m, f, cid);
    admit(&m, f, cid, a, AGAH_ROLE_MEMBER, T0 + 1, 0, NULL);
    admit(&m, f, cid, b, AGAH_ROLE_MEMBER, T0 + 20, 0, NULL);
    pk[0] = agah_identity_pk(f);
    pk[1] = agah_identity_pk(a);
    memcpy(recips[0], pk[0], 32);
    memcpy(recips[1], pk[1], 32);
    /* Epoch 1 at T0+10 sealed to f and a; epoch 2 at T0+30 to f only. */
    if (agah_rec_epoch(f, cid, 1, (const uint8_t(*)[32])recips, 2, key, T0 + 10, &buf, &len) != 0)
        exit(2);
    add(&m, buf, len, NULL);
    if (agah_rec_epoch(f, cid, 2, (const uint8_t(*)[32])recips, 1, key, T0 + 30, &buf, &len) != 0)
        exit(2);
    add(&m, buf, len, NULL);
    CHECK(memb_recompute(&m) == 0);
    CHECK(memb_epoch_clean(&m, 0) && memb_epoch_clean(&m, 1));
    /* a revoked: epoch 1 names it; epoch 2 does not and is newer. */
    revoke(&m, f, cid, a, T0 + 25);
    CHECK(memb_recompute(&m) == 0);
    CHECK(!memb_epoch_clean(&m, 0));
    CHECK(memb_epoch_clean(&m, 1));
    /* b revoked at T0+40: its join code (T0+20) may have carried epoch 1
     * and any epoch up to its revocation; epoch 2 is no longer clean. */
    revoke(&m, f, cid, b, T0 + 40);
    CHECK(memb_recompute(&m) == 0);
    CHECK(!memb_epoch_clean(&m, 1));
    CHECK(m.clean_after == T0 + 40);
    memb_free(&m);
    free_bufs();
    agah_identity_free(f);
    agah_identity_free(a);
    agah_identity_free(b);
}

/* The keys a node holds, for memb_best_held_epoch: the ids in held[]. */
static uint8_t held_ids[4][32];
static size_t n_held;

static const uint8_t *held_key(void *ctx, const uint8_t id[AGAH_HASH_LEN])
{
    (void)ctx;
    for (size_t i = 0; i < n_held; i++)
        if (memcmp(held_ids[i], id, 32) == 0)
            return held_ids[i];
    return NULL;
}

/* A node whose posting epoch's key is on its way posts under the best
 * clean epoch it holds by the posting order, a complete one first
 * (PROTOCOL.md, "Epochs and rekeying"): not under a newer one that leaves
 * out a member, which that member could never read. */
static void test_best_held_epoch(void)
{
    struct memb m;
    struct agah_identity *f = ident(), *a = ident(), *b = ident();
    uint8_t cid[32], key[32], *buf, e1[32], e2[32], e3[32];
    size_t len;
    uint8_t all[3][32], some[2][32];

    memset(key, 3, sizeof key);
    memb_init(&m);
    genesis(&m, f, cid);
    admit(&m, f, cid, a, AGAH_ROLE_MEMBER, T0 + 1, 0, NULL);
    admit(&m, f, cid, b, AGAH_ROLE_MEMBER, T0 + 2, 0, NULL);
    memcpy(all[0], agah_identity_pk(f), 32);
    memcpy(all[1], agah_identity_pk(a), 32);
    memcpy(all[2], agah_identity_pk(b), 32);
    memcpy(some[0], agah_identity_pk(f), 32);
    memcpy(some[1], agah_identity_pk(a), 32);
    /* Epoch 1 to everyone, epoch 2 without b, epoch 3 to everyone. */
    if (agah_rec_epoch(f, cid, 1, (const uint8_t(*)[32])all, 3, key, T0 + 10, &buf, &len) != 0)
        exit(2);
    add(&m, buf, len, e1);
    if (agah_rec_epoch(f, cid, 2, (const uint8_t(*)[32])some, 2, key, T0 + 11, &buf, &len) != 0)
        exit(2);
    add(&m, buf, len, e2);
    if (agah_rec_epoch(f, cid, 3, (const uint8_t(*)[32])all, 3, key, T0 + 12, &buf, &len) != 0)
        exit(2);
    add(&m, buf, len, e3);
    CHECK(memb_recompute(&m) == 0);
    CHECK(memb_posting_epoch(&m, T0 + 20) >= 0 &&
          memcmp(m.ep[memb_posting_epoch(&m, T0 + 20)].id, e3, 32) == 0);
    /* Holding epochs 1 and 2, not 3: epoch 1, complete, not epoch 2. */
    memcpy(held_ids[0], e1, 32);
    memcpy(held_ids[1], e2, 32);
    n_held = 2;
    long best = memb_best_held_epoch(&m, T0 + 20, held_key, NULL);
    CHECK(best >= 0 && memcmp(m.ep[best].id, e1, 32) == 0);
    /* Holding only the incomplete one: that one, as nothing better is held. */
    memcpy(held_ids[0], e2, 32);
    n_held = 1;
    best = memb_best_held_epoch(&m, T0 + 20, held_key, NULL);
    CHECK(best >= 0 && memcmp(m.ep[best].id, e2, 32) == 0);
    n_held = 0;
    CHECK(memb_best_held_epoch(&m, T0 + 20, held_key, NULL) == -1);
    memb_free(&m);
    free_bufs();
    agah_identity_free(f);
    agah_identity_free(a);
    agah_identity_free(b);
}

static void test_idmap(void)
{
    enum { N = 20000 };
    struct idmap m;
    static uint8_t keys[N][32];
    uint32_t v;
    int ok = 1;

    idmap_init(&m, N);
    randombytes_buf(keys, sizeof keys);
    for (uint32_t i = 0; i < N; i++)
        ok &= idmap_put(&m, keys[i], i) == 0;
    CHECK(ok && m.n == N);
    CHECK(idmap_put(&m, keys[0], 7) == 0 && idmap_get(&m, keys[0], &v) && v == 7);
    uint8_t extra[32];
    randombytes_buf(extra, sizeof extra);
    CHECK(idmap_put(&m, extra, 1) == AGAH_ETOOBIG);
    /* Delete every third key; the rest must all still be found. */
    for (uint32_t i = 0; i < N; i += 3)
        ok &= idmap_del(&m, keys[i]) == 1;
    CHECK(ok);
    for (uint32_t i = 0; i < N; i++) {
        int found = idmap_get(&m, keys[i], &v);
        if (i % 3 == 0)
            ok &= !found;
        else
            ok &= found && v == i;
    }
    CHECK(ok);
    CHECK(idmap_del(&m, keys[0]) == 0);
    idmap_clear(&m);
    CHECK(m.n == 0 && !idmap_get(&m, keys[1], NULL));
    idmap_free(&m);
}

static void test_alert_index(void)
{
    enum { N = 3000 };
    struct alerts al;
    struct agah_alert_body b;
    static uint8_t ids[N][32];
    uint8_t author[32] = {1};
    int ok = 1;

    alerts_init(&al);
    randombytes_buf(ids, sizeof ids);
    memset(&b, 0, sizeof b);
    b.kind = AGAH_KIND_NUMBER;
    for (int i = 0; i < N; i++) {
        /* 100 targets, 30 alerts each. */
        (void)snprintf(b.target, sizeof b.target, "+1555%07d", i % 100);
        (void)snprintf(b.note, sizeof b.note, "note %d", i);
        ok &= alerts_add(&al, ids[i], author, T0 + (uint64_t)i, 0, &b) == 1;
    }
    CHECK(ok);
    CHECK(alerts_add(&al, ids[0], author, T0, 0, &b) == 0);
    for (int i = 0; i < N; i += 2)
        ok &= alerts_remove(&al, ids[i]) == 1;
    CHECK(ok);
    CHECK(al.live == N / 2);
    for (int t = 0; t < 100; t++) {
        char target[32];
        int cnt = 0;
        (void)snprintf(target, sizeof target, "+1555%07d", t);
        for (const struct alert_ent *e = alerts_first(&al, target); e != NULL;
             e = alerts_next(&al, e)) {
            ok &= strcmp(alerts_target(&al, e), target) == 0;
            cnt++;
        }
        ok &= cnt == (t % 2 == 0 ? 0 : 30);
    }
    CHECK(ok);
    CHECK(alerts_first(&al, "+15559999999") == NULL);
    CHECK(alerts_get(&al, ids[1]) != NULL && alerts_get(&al, ids[0]) == NULL);
    /* Annotations by alert id, removal from the middle of a list. */
    uint8_t n1[32], n2[32], n3[32];
    randombytes_buf(n1, 32);
    randombytes_buf(n2, 32);
    randombytes_buf(n3, 32);
    CHECK(alerts_annot_add(&al, n1, ids[1], author, T0, AGAH_REC_CONFIRM) == 1);
    CHECK(alerts_annot_add(&al, n2, ids[1], author, T0, AGAH_REC_RETRACT) == 1);
    CHECK(alerts_annot_add(&al, n3, ids[1], author, T0, AGAH_REC_CONFIRM) == 1);
    CHECK(alerts_annot_add(&al, n3, ids[1], author, T0, AGAH_REC_CONFIRM) == 0);
    CHECK(alerts_annot_remove(&al, n2) == 1);
    /* Two confirmations by one author: two records, one author. */
    CHECK(annots_records(&al.an, ids[1], AGAH_REC_CONFIRM) == 2);
    CHECK(annots_authors(&al.an, ids[1], AGAH_REC_CONFIRM) == 1);
    CHECK(annots_records(&al.an, ids[1], AGAH_REC_RETRACT) == 0);
    CHECK(alerts_annot_remove(&al, n1) == 1 && alerts_annot_remove(&al, n3) == 1);
    CHECK(annots_authors(&al.an, ids[1], AGAH_REC_CONFIRM) == 0 && al.an.n_s == 1 &&
          al.an.free_s == 0);
    alerts_free(&al);
}

int main(void)
{
    if (agah_init() != 0)
        return 2;
    test_chains();
    test_clean_epochs();
    test_best_held_epoch();
    test_idmap();
    test_alert_index();
    printf("test_membership: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}

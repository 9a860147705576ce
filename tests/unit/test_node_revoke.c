/* Unit tests of daemon/node/ (see test_node.c): who may admit and revoke,
 * which records a revocation keeps, and that every order of arrival of the
 * same admissions and revocations ends in the same store and membership. */
#define _GNU_SOURCE /* mkdtemp, nftw, memmem */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>
#include <agah/agah.h>
#include "alerts.h"
#include "node.h"

#include "check.h"
#include "node_fixture.h"
#include "node_helpers.h"

static void test_member_cannot_admit_or_revoke(void)
{
    char da[512], db[512];
    struct agah_identity *fa, *bid, *x;
    struct node *a, *b;
    char *code = NULL;
    struct agah_why why = {{0}};
    uint8_t *buf = NULL;
    size_t len;

    sub_dir("a", da);
    sub_dir("b", db);
    fa = make_founder(da, "c");
    a = open_node(da);
    b = invite_open(a, db, AGAH_ROLE_MEMBER, "bob", &bid, NULL);
    (void)sync_into(b, a);
    if (agah_identity_generate(&x) != 0)
        exit(2);
    CHECK(node_invite(b, agah_identity_pk(x), AGAH_ROLE_MEMBER, "x", NULL, &code, NULL, &why) == AGAH_EPERM);
    CHECK(strstr(why.msg, "only organisers can invite") != NULL);
    CHECK(code == NULL);
    CHECK(node_revoke(b, agah_identity_pk(fa), "coup", &why) == AGAH_EPERM);
    /* Records a member signs by hand are refused by an organiser's node. */
    CHECK(agah_rec_admission(bid, node_community(a), agah_identity_pk(x), AGAH_ROLE_ORGANISER,
                             "x", TEST_EID, TEST_EKEY, clk, 0, &buf, &len) == 0);
    CHECK(node_ingest(a, buf, len, &why) == AGAH_EPERM);
    free(buf);
    CHECK(agah_rec_revocation(bid, node_community(a), agah_identity_pk(fa), "coup", TEST_EID, TEST_EKEY, NULL, 0, clk, &buf,
                              &len) == 0);
    CHECK(node_ingest(a, buf, len, &why) == AGAH_EPERM);
    free(buf);
    int role;
    CHECK(node_member_status(a, agah_identity_pk(fa), &role) == 0);
    /* Organiser-only errors the CLI reaches. */
    CHECK(node_revoke(a, agah_identity_pk(fa), "self", &why) == AGAH_EINVAL);
    CHECK(node_revoke(a, agah_identity_pk(x), "who", &why) == AGAH_ENOENT);
    node_close(b);
    node_close(a);
    agah_identity_free(x);
    agah_identity_free(bid);
    agah_identity_free(fa);
}

/* Revocation wins: a revocation keeps exactly the records of the key that
 * its signer held; anything else the key signs is refused whatever its
 * time says, and what was stored elsewhere before the revocation arrived
 * is deleted there. */
static void test_revocation_wins(void)
{
    char da[512], db[512], dc[512];
    struct agah_identity *fa, *bid;
    struct node *a, *b, *c;
    uint8_t x[32], y[32], z[32];
    struct agah_why why = {{0}};
    uint8_t *buf;
    size_t len;

    sub_dir("a", da);
    sub_dir("b", db);
    sub_dir("c", dc);
    fa = make_founder(da, "c");
    a = open_node(da);
    b = invite_open(a, db, AGAH_ROLE_MEMBER, "bob", &bid, NULL);
    c = invite_open(a, dc, AGAH_ROLE_MEMBER, "carol", NULL, NULL);
    (void)sync_into(b, a);
    (void)sync_into(c, a);
    clk = T0 + 1000;
    CHECK(post(b, "+15551230001", "before", x) == 0);
    CHECK(sync_into(a, b) == 1);
    /* y is signed later but dated before x and before the revocation: the
     * back-dating a revoked insider would try. a never saw it; c did. */
    clk = T0 + 900;
    CHECK(post(b, "+15551230002", "back-dated", y) == 0);
    CHECK(node_get(b, y, &buf, &len) == 0);
    CHECK(node_ingest(c, buf, len, &why) == 1);
    free(buf);
    CHECK(readable(c, y));
    clk = T0 + 1050;
    CHECK(node_revoke(a, agah_identity_pk(bid), "informant", NULL) == 0);
    CHECK(readable(a, x)); /* kept: a held it */
    CHECK(node_get(b, y, &buf, &len) == 0);
    CHECK(node_ingest(a, buf, len, &why) == AGAH_EPERM);
    CHECK(strstr(why.msg, "revoked") != NULL);
    free(buf);
    /* Not tombstoned: it waits with the pending records, in case the
     * revocation stops applying (a revoker revoked from above). */
    CHECK(node_have(a, y) == 0);
    CHECK(count_check(a, "+15551230002") == 0);

    /* c learns of the revocation: y, which it held, is deleted; x stays. */
    clk = T0 + 1200;
    CHECK(sync_into(c, a) > 0);
    CHECK(!readable(c, y));
    CHECK(node_get(c, y, &buf, &len) == AGAH_ENOENT);
    CHECK(count_check(c, "+15551230002") == 0);
    CHECK(readable(c, x));
    /* Anything b signs now, dated whenever, is refused. */
    clk = T0 + 10;
    CHECK(post(b, "+15551230004", "dated at the start", z) == 0);
    clk = T0 + 1200;
    CHECK(node_get(b, z, &buf, &len) == 0);
    CHECK(node_ingest(c, buf, len, &why) == AGAH_EPERM);
    free(buf);
    /* The revoked member cannot read what is posted after the rekey. */
    CHECK(post(a, "+15551230003", "new", z) == 0);
    CHECK(readable(c, z) || sync_into(c, a) > 0);
    CHECK(readable(c, z));
    (void)sync_into(b, a);
    CHECK(node_have(b, z) == 1);
    CHECK(!readable(b, z));
    CHECK(count_check(b, "+15551230003") == 0);
    node_close(c);
    node_close(b);
    node_close(a);
    agah_identity_free(bid);
    agah_identity_free(fa);
}

/* Feeds a bag to a node in a given order, twice (the second pass is what
 * reconciliation would do for records refused the first time). */
static void feed(struct node *n, const struct bag *b, const size_t *order)
{
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < b->n; i++) {
            struct agah_why why = {{0}};
            int rc = node_ingest(n, b->buf[order[i]], b->len[order[i]], &why);
            if (rc < 0 && getenv("TEST_NODE_DEBUG") != NULL)
                fprintf(stderr, "feed pass %d: record %zu: %d %s\n", pass, order[i], rc, why.msg);
        }
    (void)node_flush(n);
}

static uint64_t rng_state = 88172645463325252ull;
static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}


static int same_members(struct node *x, struct node *y)
{
    struct node_member *a = NULL, *b = NULL;
    size_t na = 0, nb = 0;
    int same = node_members(x, &a, &na) == 0 && node_members(y, &b, &nb) == 0 && na == nb;
    for (size_t i = 0; same && i < na; i++)
        same = memcmp(a[i].pk, b[i].pk, 32) == 0 && a[i].role == b[i].role &&
               a[i].revoked == b[i].revoked && strcmp(a[i].name, b[i].name) == 0;
    free(a);
    free(b);
    return same;
}

static int is_revoked(struct node *n, const struct agah_identity *id)
{
    int role;
    return node_member_status(n, agah_identity_pk(id), &role) == AGAH_EPERM;
}

/* The same records in different orders give the same store and the same
 * membership: revocation and admission arrival order does not matter. */
static void test_convergence(void)
{
    enum { NOBS = 6 };
    char d[512], name[32];
    struct agah_identity *fa, *oid, *m1id, *m2id, *m3id;
    struct node *a, *o, *m1, *m2, *m3, *obs[NOBS];
    uint8_t x1[32], x2[32], x3[32], x4[32];
    unsigned conf;
    struct bag b = {0};
    size_t order[512];

    sub_dir("a", d);
    fa = make_founder(d, "c");
    a = open_node(d);
    sub_dir("o", d);
    o = invite_open(a, d, AGAH_ROLE_ORGANISER, "olga", &oid, NULL);
    char obs_dirs[NOBS][512];
    for (int i = 0; i < NOBS; i++) {
        (void)snprintf(name, sizeof name, "r%d", i);
        sub_dir(name, obs_dirs[i]);
        struct agah_identity *rid = make_identity(obs_dirs[i]);
        char *code = NULL;
        if (node_invite(a, agah_identity_pk(rid), AGAH_ROLE_RELAY, name, NULL, &code, NULL, NULL) != 0)
            exit(2);
        CHECK(do_join(obs_dirs[i], rid, code) == 0); /* relays get no keys */
        free(code);
        agah_identity_free(rid);
    }
    (void)sync_into(o, a);
    clk = T0 + 10;
    sub_dir("m1", d);
    m1 = invite_open(o, d, AGAH_ROLE_MEMBER, "m1", &m1id, NULL);
    sub_dir("m2", d);
    m2 = invite_open(o, d, AGAH_ROLE_MEMBER, "m2", &m2id, NULL);
    {
        /* Before m1 has seen o's own admission it is not a member yet, but
         * it can still show peers the admission from its join code. */
        const uint8_t *my;
        size_t mylen;
        int role;
        CHECK(node_my_admission(m1, &my, &mylen) == 0 && mylen > 0);
        CHECK(node_member_status(m1, agah_identity_pk(m1id), &role) == AGAH_ENOENT);
    }
    (void)sync_into(m1, o);
    (void)sync_into(m2, o);
    clk = T0 + 20;
    CHECK(post(m1, "+15550000001", "x1", x1) == 0);
    CHECK(post(m2, "+15550000002", "x2", x2) == 0);
    (void)sync_into(a, o);
    (void)sync_into(a, m1);
    (void)sync_into(a, m2);
    (void)sync_into(m2, m1);
    clk = T0 + 30;
    CHECK(node_revoke(a, agah_identity_pk(m1id), "informant", NULL) == 0);
    clk = T0 + 40;
    CHECK(post(m1, "+15550000003", "x3 after revocation", x3) == 0);
    clk = T0 + 45;
    CHECK(node_confirm(m2, x1, "", &conf, NULL) == 0 && conf == 1);
    clk = T0 + 50;
    CHECK(node_revoke(a, agah_identity_pk(oid), "compromised", NULL) == 0);
    /* o has not heard: it admits m3 and revokes m2 after its own revocation. */
    clk = T0 + 55;
    CHECK(node_revoke(o, agah_identity_pk(m2id), "", NULL) == 0);
    clk = T0 + 60;
    sub_dir("m3", d);
    m3 = invite_open(o, d, AGAH_ROLE_MEMBER, "m3", &m3id, NULL);
    (void)sync_into(m3, o);
    clk = T0 + 70;
    CHECK(post(m3, "+15550000004", "x4", x4) == 0);

    bag_from(&b, a);
    bag_from(&b, o);
    bag_from(&b, m1);
    bag_from(&b, m2);
    bag_from(&b, m3);
    clk = T0 + 100;
    for (int k = 0; k < NOBS; k++) {
        obs[k] = open_node(obs_dirs[k]);
        for (size_t i = 0; i < b.n; i++)
            order[i] = i;
        if (k == 1) {
            for (size_t i = 0; i < b.n; i++)
                order[i] = b.n - 1 - i;
        } else if (k > 1) {
            for (size_t i = b.n - 1; i > 0; i--) {
                size_t j = (size_t)(rng() % (i + 1)), t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
        }
        feed(obs[k], &b, order);
    }
    if (getenv("TEST_NODE_DEBUG") != NULL) {
        for (size_t i = 0; i < b.n; i++) {
            struct agah_rec r;
            uint8_t id[32];
            agah_hash(b.buf[i], b.len[i], id);
            if (agah_rec_decode(b.buf[i], b.len[i], NULL, &r, NULL) != 0)
                continue;
            fprintf(stderr, "bag %2zu: %02x%02x type %d created +%llu by %02x have", i, id[0],
                    id[1], r.type, (unsigned long long)(r.created - T0), r.author[0]);
            for (int k = 0; k < NOBS; k++) {
                uint8_t *bb = NULL;
                size_t bl = 0;
                fprintf(stderr, " %d", node_get(obs[k], id, &bb, &bl) == 0);
                free(bb);
            }
            fprintf(stderr, "\n");
        }
    }
    for (int k = 1; k < NOBS; k++) {
        CHECK(same_ids(obs[0], obs[k]));
        CHECK(same_members(obs[0], obs[k]));
    }
    /* And what the rules say the set is. */
    CHECK(node_have(obs[0], x1) && node_have(obs[0], x2));
    uint8_t *buf;
    size_t len;
    CHECK(node_get(obs[0], x1, &buf, &len) == 0);
    free(buf);
    CHECK(node_get(obs[0], x3, &buf, &len) == AGAH_ENOENT); /* revocation wins */
    CHECK(node_get(obs[0], x4, &buf, &len) == AGAH_ENOENT); /* admitted by a revoked key */
    CHECK(is_revoked(obs[0], m1id) && is_revoked(obs[0], oid));
    /* o revoked m2 after its own revocation, which kept nothing of that. */
    CHECK(!is_revoked(obs[0], m2id));
    CHECK(!is_revoked(obs[0], fa));
    int role;
    CHECK(node_member_status(obs[0], agah_identity_pk(m3id), &role) == AGAH_ENOENT);
    /* The founder's node, fed everything, agrees on membership too. */
    (void)sync_into(a, o);
    (void)sync_into(a, m1);
    (void)sync_into(a, m3);
    CHECK(node_get(a, x3, &buf, &len) == AGAH_ENOENT);
    CHECK(node_get(a, x4, &buf, &len) == AGAH_ENOENT);
    CHECK(!is_revoked(a, m2id));
    CHECK(node_get(a, x2, &buf, &len) == 0);
    free(buf);

    for (int k = 0; k < NOBS; k++)
        node_close(obs[k]);
    node_close(m3);
    node_close(m2);
    node_close(m1);
    node_close(o);
    node_close(a);
    bag_free(&b);
    agah_identity_free(m3id);
    agah_identity_free(m2id);
    agah_identity_free(m1id);
    agah_identity_free(oid);
    agah_identity_free(fa);
}

/* The epoch a decoded alert was sealed under. */
static void alert_epoch(struct node *n, const uint8_t id[32], uint8_t epoch[32])
{
    uint8_t *buf = NULL;
    size_t len = 0;
    struct agah_rec r;
    memset(epoch, 0, 32);
    if (node_get(n, id, &buf, &len) == 0 && agah_rec_decode(buf, len, NULL, &r, NULL) == 0)
        memcpy(epoch, r.u.sealed.epoch, 32);
    free(buf);
}

/* Two organisers revoke two members at once: after they meet, both rekey
 * again and settle on one epoch that excludes both. */
static void test_concurrent_revocations(void)
{
    char d[512];
    struct agah_identity *fa, *oid, *m1id, *m2id;
    struct node *a, *o, *m1, *m2;
    uint8_t p[32], q[32], ep[32], eq[32];

    sub_dir("a", d);
    fa = make_founder(d, "c");
    a = open_node(d);
    sub_dir("o", d);
    o = invite_open(a, d, AGAH_ROLE_ORGANISER, "olga", &oid, NULL);
    sub_dir("m1", d);
    m1 = invite_open(a, d, AGAH_ROLE_MEMBER, "m1", &m1id, NULL);
    sub_dir("m2", d);
    m2 = invite_open(a, d, AGAH_ROLE_MEMBER, "m2", &m2id, NULL);
    (void)sync_into(o, a);
    (void)sync_into(m1, a);
    (void)sync_into(m2, a);
    clk = T0 + 10;
    uint64_t e0 = node_epoch_number(a);
    CHECK(node_epoch_number(o) == e0);
    CHECK(node_revoke(a, agah_identity_pk(m1id), "", NULL) == 0);
    CHECK(node_revoke(o, agah_identity_pk(m2id), "", NULL) == 0);
    CHECK(node_epoch_number(a) == e0 + 1 && node_epoch_number(o) == e0 + 1);
    clk = T0 + 20;
    (void)sync_into(a, o);
    (void)sync_into(o, a);
    /* Each now sees the other's epoch sealed to a revoked key: a moment
     * later (node_tick), both issue one, and both settle on the same. */
    clk = T0 + 25;
    CHECK(node_tick(a) == 0 && node_tick(o) == 0);
    (void)sync_into(a, o);
    (void)sync_into(o, a);
    clk = T0 + 30;
    CHECK(node_tick(a) == 0 && node_tick(o) == 0);
    CHECK(node_epoch_number(a) == e0 + 2);
    CHECK(node_epoch_number(o) == e0 + 2);
    CHECK(post(a, "+15550000011", "p", p) == 0);
    CHECK(post(o, "+15550000012", "q", q) == 0);
    alert_epoch(a, p, ep);
    alert_epoch(o, q, eq);
    CHECK(memcmp(ep, eq, 32) == 0); /* the same epoch: lowest id of the two */
    (void)sync_into(m1, a);
    (void)sync_into(m2, a);
    (void)sync_into(m1, o);
    (void)sync_into(m2, o);
    CHECK(!readable(m1, p) && !readable(m1, q));
    CHECK(!readable(m2, p) && !readable(m2, q));
    CHECK(node_have(m1, p) && node_have(m2, q));
    /* A revoked member refuses to post rather than sign what nobody takes. */
    struct agah_why why = {{0}};
    struct agah_alert_body body;
    uint8_t z[32];
    body_number(&body, "+15550000013", "z");
    CHECK(node_post(m1, &body, 0, z, &why) == AGAH_EPERM);

    node_close(m2);
    node_close(m1);
    node_close(o);
    node_close(a);
    agah_identity_free(m2id);
    agah_identity_free(m1id);
    agah_identity_free(oid);
    agah_identity_free(fa);
}

/* One organiser cannot remove the founder; two organisers of one rank
 * (both admitted by the founder) revoking each other are both revoked, and
 * the founder's own revocation of one of them decides it. */
static void test_mutual_revocation(void)
{
    char d[512];
    struct agah_identity *fa, *oid, *pid;
    struct node *a, *o, *p;
    struct agah_why why = {{0}};
    uint8_t z[32];
    struct agah_alert_body body;

    sub_dir("a", d);
    fa = make_founder(d, "c");
    a = open_node(d);
    sub_dir("o", d);
    o = invite_open(a, d, AGAH_ROLE_ORGANISER, "olga", &oid, NULL);
    sub_dir("p", d);
    p = invite_open(a, d, AGAH_ROLE_ORGANISER, "pat", &pid, NULL);
    (void)sync_into(o, a);
    (void)sync_into(p, a);
    clk = T0 + 10;
    /* o alone against the founder: recorded, without effect. */
    struct node_revoke_out out;
    CHECK(node_revoke_ex(o, agah_identity_pk(fa), "coup", 0, &out, &why) == 0);
    CHECK(!out.effective && out.votes == 1 && out.quorum == 2);
    (void)sync_into(a, o);
    CHECK(!is_revoked(a, fa) && !is_revoked(o, fa));
    body_number(&body, "+15550000020", "z");
    CHECK(node_post(a, &body, 0, z, &why) == 0);
    /* o and p revoke each other. */
    CHECK(node_revoke(o, agah_identity_pk(pid), "", NULL) == 0);
    CHECK(node_revoke(p, agah_identity_pk(oid), "", NULL) == 0);
    (void)sync_into(o, p);
    (void)sync_into(p, o);
    (void)sync_into(a, o);
    CHECK(is_revoked(o, pid) && is_revoked(o, oid));
    CHECK(is_revoked(p, pid) && is_revoked(p, oid));
    CHECK(is_revoked(a, pid) && is_revoked(a, oid));
    CHECK(!is_revoked(a, fa));
    CHECK(same_members(a, o) && same_members(o, p));
    body_number(&body, "+15550000021", "z");
    CHECK(node_post(o, &body, 0, z, &why) == AGAH_EPERM);
    CHECK(strstr(why.msg, "revoked") != NULL);
    /* With o and p both revoked, their two votes are no quorum either. */
    CHECK(!is_revoked(a, fa));
    /* The founder revokes o, keeping nothing o signed after: o's
     * revocation of p stops applying, and p is back. */
    clk = T0 + 20;
    CHECK(node_revoke(a, agah_identity_pk(oid), "informant", NULL) == 0);
    CHECK(node_revoke(a, agah_identity_pk(oid), "again", NULL) == 1); /* already */
    (void)sync_into(o, a);
    (void)sync_into(p, a);
    CHECK(is_revoked(a, oid) && !is_revoked(a, pid));
    CHECK(is_revoked(p, oid) && !is_revoked(p, pid));
    CHECK(node_post(p, &body, 0, z, &why) == 0);
    node_close(p);
    node_close(o);
    node_close(a);
    agah_identity_free(pid);
    agah_identity_free(oid);
    agah_identity_free(fa);
}

int main(void)
{
    static const struct fixture_test tests[] = {
        {"member_cannot_admit_or_revoke", test_member_cannot_admit_or_revoke},
        {"revocation_wins", test_revocation_wins},
        {"convergence", test_convergence},
        {"concurrent_revocations", test_concurrent_revocations},
        {"mutual_revocation", test_mutual_revocation},
    };

    return fixture_run("test_node_revoke", tests, sizeof tests / sizeof tests[0]);
}

/* Unit tests of daemon/node/ (see test_node.c): epoch keys and records
 * that arrive out of order: chained epochs, invitations that lapse, late
 * members reading everything, authors and keys that arrive late. */
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

/* A member admitted after more rekeys than a join code carries keys for
 * still reads the first alert: each epoch chains to the one before. */
static void test_epoch_chain(void)
{
    char d[512];
    struct agah_identity *fa, *x;
    struct node *a, *m;
    uint8_t p0[32], *buf = NULL;
    size_t len = 0, ne = 0;

    sub_dir("a", d);
    fa = make_founder(d, "c");
    a = open_node(d);
    CHECK(post(a, "+15550000051", "the first", p0) == 0);
    /* 40 invitations and revocations: 80 epochs, beyond a code's 64. */
    for (int i = 0; i < 40; i++) {
        char name[16];
        struct node *t;
        (void)snprintf(name, sizeof name, "t%d", i);
        sub_dir(name, d);
        t = invite_open(a, d, AGAH_ROLE_MEMBER, name, &x, NULL);
        clk++;
        CHECK(node_revoke(a, agah_identity_pk(x), "", NULL) == 0);
        node_close(t);
        agah_identity_free(x);
    }
    CHECK(node_epoch_number(a) > AGAH_JOIN_MAX_EPOCHS + 1);
    sub_dir("late", d);
    m = invite_open(a, d, AGAH_ROLE_MEMBER, "late", NULL, &ne);
    CHECK(ne == AGAH_JOIN_MAX_EPOCHS);
    /* The first alert is sealed under an epoch its code does not carry. */
    (void)sync_into(m, a);
    CHECK(readable(m, p0));
    CHECK(count_check(m, "+15550000051") == 1);
    CHECK(node_unreadable(m) == 0);
    /* And after a restart, from the store alone. */
    node_close(m);
    m = open_node(d);
    CHECK(readable(m, p0));
    (void)buf;
    (void)len;
    node_close(m);
    node_close(a);
    agah_identity_free(fa);
}

/* An invitation lapses with its code unless the invitee's node links with
 * an organiser's, which then makes the admission permanent; a lapsed
 * invitee is no longer sealed into epochs. */
static void test_invitation_lapses(void)
{
    char d[512];
    struct agah_identity *fa, *m1id, *m2id;
    struct node *a, *m1, *m2;
    struct node_member *v = NULL;
    size_t cnt = 0;
    int role;

    sub_dir("a", d);
    fa = make_founder(d, "c");
    a = open_node(d);
    sub_dir("m1", d);
    m1 = invite_open(a, d, AGAH_ROLE_MEMBER, "m1", &m1id, NULL);
    sub_dir("m2", d);
    m2 = invite_open(a, d, AGAH_ROLE_MEMBER, "m2", &m2id, NULL);
    CHECK(node_members(a, &v, &cnt) == 0);
    for (size_t i = 0; i < cnt; i++)
        if (memcmp(v[i].pk, agah_identity_pk(m1id), 32) == 0)
            CHECK(v[i].invited_until == T0 + 7 * 86400);
    free(v);
    /* m1's node links with the founder's; m2's never does. */
    clk = T0 + 3600;
    CHECK(node_peer_joined(a, agah_identity_pk(m1id)) == 1);
    CHECK(node_peer_joined(a, agah_identity_pk(m1id)) == 0); /* once */
    CHECK(node_peer_joined(m1, agah_identity_pk(m2id)) == 0); /* members do not */
    clk = T0 + 8 * 86400;
    CHECK(node_member_status(a, agah_identity_pk(m1id), &role) == 0);
    CHECK(node_member_status(a, agah_identity_pk(m2id), &role) == AGAH_ENOENT);
    /* Too late for m2: an organiser does not revive a lapsed invitation. */
    CHECK(node_peer_joined(a, agah_identity_pk(m2id)) == 0);
    CHECK(node_tick(a) == 0);
    uint64_t e0 = node_epoch_number(a);
    sub_dir("m3", d);
    struct node *m3 = invite_open(a, d, AGAH_ROLE_MEMBER, "m3", NULL, NULL);
    CHECK(node_epoch_number(a) == e0 + 1);
    (void)sync_into(m2, a);
    (void)sync_into(m1, a);
    uint8_t p[32];
    CHECK(post(a, "+15550000041", "after the lapse", p) == 0);
    (void)sync_into(m1, a);
    (void)sync_into(m2, a);
    CHECK(readable(m1, p));
    CHECK(!readable(m2, p));
    /* Another organiser leaves the confirmation to the inviter until the
     * invitation's last day. */
    struct agah_identity *oid, *m4id;
    sub_dir("o", d);
    struct node *o = invite_open(a, d, AGAH_ROLE_ORGANISER, "o", &oid, NULL);
    CHECK(node_peer_joined(a, agah_identity_pk(oid)) == 1);
    sub_dir("m4", d);
    struct node *m4 = invite_open(a, d, AGAH_ROLE_MEMBER, "m4", &m4id, NULL);
    (void)sync_into(o, a);
    clk += 86400;
    CHECK(node_peer_joined(o, agah_identity_pk(m4id)) == 0);
    clk += 5 * 86400 + 60;
    CHECK(node_peer_joined(o, agah_identity_pk(m4id)) == 1);
    (void)sync_into(a, o);
    clk += 3 * 86400;
    CHECK(node_member_status(a, agah_identity_pk(m4id), &role) == 0);
    node_close(m4);
    node_close(o);
    agah_identity_free(m4id);
    agah_identity_free(oid);
    node_close(m3);
    node_close(m2);
    node_close(m1);
    node_close(a);
    agah_identity_free(m2id);
    agah_identity_free(m1id);
    agah_identity_free(fa);
}

/* A member admitted after several rekeys reads every alert through the
 * keys in its join code. */
static void test_late_member_reads_all(void)
{
    char d[512];
    struct agah_identity *fa, *m1id, *m2id;
    struct node *a, *m1, *m2, *m3;
    uint8_t p1[32], p2[32], p3[32];
    struct node_alert *v = NULL;
    size_t cnt = 0, ne = 0;

    sub_dir("a", d);
    fa = make_founder(d, "c");
    a = open_node(d);
    CHECK(post(a, "+15550000031", "p1", p1) == 0);
    sub_dir("m1", d);
    m1 = invite_open(a, d, AGAH_ROLE_MEMBER, "m1", &m1id, NULL);
    clk = T0 + 10;
    CHECK(node_revoke(a, agah_identity_pk(m1id), "", NULL) == 0);
    CHECK(post(a, "+15550000032", "p2", p2) == 0);
    sub_dir("m2", d);
    m2 = invite_open(a, d, AGAH_ROLE_MEMBER, "m2", &m2id, NULL);
    clk = T0 + 20;
    CHECK(node_revoke(a, agah_identity_pk(m2id), "", NULL) == 0);
    CHECK(post(a, "+15550000033", "p3", p3) == 0);
    /* Each invitation and each revocation issued an epoch. */
    CHECK(node_epoch_number(a) == 5);
    clk = T0 + 30;
    sub_dir("m3", d);
    m3 = invite_open(a, d, AGAH_ROLE_MEMBER, "m3", NULL, &ne);
    CHECK(ne == 7); /* six epochs and the genesis key */
    (void)sync_into(m3, a);
    CHECK(readable(m3, p1) && readable(m3, p2) && readable(m3, p3));
    CHECK(node_list(m3, 0, 0, &v, &cnt) == 0 && cnt == 3);
    if (cnt == 3)
        CHECK(memcmp(v[0].id, p3, 32) == 0); /* newest first */
    free(v);
    CHECK(node_epoch_number(m3) == 6);
    node_close(m3);
    node_close(m2);
    node_close(m1);
    node_close(a);
    agah_identity_free(m2id);
    agah_identity_free(m1id);
    agah_identity_free(fa);
}

/* Rule 7: a record whose author's admission has not arrived is refused,
 * not remembered, and stored once the admission comes. */
static void test_pending_author(void)
{
    char da[512], db[512], dr[512];
    struct agah_identity *fa, *bid;
    struct node *a, *b, *r;
    uint8_t x[32], *buf = NULL, *abuf = NULL;
    size_t len = 0, alen = 0;
    struct agah_why why = {{0}};

    sub_dir("a", da);
    sub_dir("b", db);
    sub_dir("r", dr);
    fa = make_founder(da, "c");
    a = open_node(da);
    r = invite_open(a, dr, AGAH_ROLE_RELAY, "relay", NULL, NULL);
    b = invite_open(a, db, AGAH_ROLE_MEMBER, "bob", &bid, NULL);
    (void)sync_into(b, a);
    CHECK(post(b, "+15550000051", "early", x) == 0);
    CHECK(node_get(b, x, &buf, &len) == 0);
    CHECK(node_ingest(r, buf, len, &why) == AGAH_EPERM);
    CHECK(strstr(why.msg, "unknown author") != NULL);
    CHECK(node_have(r, x) == 0);
    const uint8_t *my;
    size_t mylen;
    CHECK(node_my_admission(b, &my, &mylen) == 0);
    abuf = malloc(mylen);
    memcpy(abuf, my, mylen);
    alen = mylen;
    CHECK(node_ingest(r, abuf, alen, &why) == 1);
    CHECK(node_have(r, x) == 1); /* retried from the pending list */
    CHECK(node_ingest(r, buf, len, &why) == 0);
    free(buf);
    free(abuf);
    node_close(b);
    node_close(r);
    node_close(a);
    agah_identity_free(bid);
    agah_identity_free(fa);
}

/* An alert under an epoch whose key arrives later becomes readable then,
 * and stays readable after a restart. */
static void test_epoch_arrives_late(void)
{
    char da[512], d1[512], d2[512];
    struct agah_identity *fa, *m1id;
    struct node *a, *m1, *m2;
    uint8_t p[32], *buf = NULL;
    size_t len = 0;

    sub_dir("a", da);
    sub_dir("m1", d1);
    sub_dir("m2", d2);
    fa = make_founder(da, "c");
    a = open_node(da);
    m1 = invite_open(a, d1, AGAH_ROLE_MEMBER, "m1", &m1id, NULL);
    m2 = invite_open(a, d2, AGAH_ROLE_MEMBER, "m2", NULL, NULL);
    (void)sync_into(m2, a);
    clk = T0 + 10;
    CHECK(node_revoke(a, agah_identity_pk(m1id), "", NULL) == 0);
    CHECK(post(a, "+15550000071", "late key", p) == 0);
    CHECK(node_get(a, p, &buf, &len) == 0);
    CHECK(node_ingest(m2, buf, len, NULL) == 1);
    free(buf);
    CHECK(!readable(m2, p));
    CHECK(node_epoch_number(m2) == 3); /* the epoch of m2's invitation */
    (void)sync_into(m2, a);
    CHECK(readable(m2, p));
    CHECK(node_epoch_number(m2) == 4);
    node_close(m2);
    m2 = open_node(d2);
    CHECK(readable(m2, p));
    CHECK(count_check(m2, "+15550000071") == 1);
    node_close(m2);
    node_close(m1);
    node_close(a);
    agah_identity_free(m1id);
    agah_identity_free(fa);
}

int main(void)
{
    static const struct fixture_test tests[] = {
        {"late_member_reads_all", test_late_member_reads_all},
        {"invitation_lapses", test_invitation_lapses},
        {"epoch_chain", test_epoch_chain},
        {"pending_author", test_pending_author},
        {"epoch_arrives_late", test_epoch_arrives_late},
    };

    return fixture_run("test_node_epoch", tests, sizeof tests / sizeof tests[0]);
}

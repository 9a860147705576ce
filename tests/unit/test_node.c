/* Unit tests of daemon/node/: data directories are built here (identity,
 * community file, join codes), nodes are driven directly with an injected
 * clock, and records are carried between nodes by hand. Each test runs in
 * its own mkdtemp directory. */
#define _GNU_SOURCE /* mkdtemp, nftw, memmem */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>
#include <sqlite3.h>
#include <agah/agah.h>
#include "alerts.h"
#include "node.h"

#include "check.h"
#include "node_fixture.h"

/* A bag of raw records. */
struct bag {
    uint8_t *buf[512];
    size_t len[512];
    size_t n;
};

static void bag_add(struct bag *b, const uint8_t *buf, size_t len)
{
    uint8_t id[32], id2[32];
    agah_hash(buf, len, id);
    for (size_t i = 0; i < b->n; i++) {
        agah_hash(b->buf[i], b->len[i], id2);
        if (memcmp(id, id2, 32) == 0)
            return;
    }
    if (b->n >= 512 || (b->buf[b->n] = malloc(len)) == NULL)
        exit(2);
    memcpy(b->buf[b->n], buf, len);
    b->len[b->n++] = len;
}

static void bag_from(struct bag *b, struct node *n)
{
    struct idlist l = ids_of(n);
    for (size_t i = 0; i < l.n; i++) {
        uint8_t *buf;
        size_t len;
        if (node_get(n, l.v[i], &buf, &len) != 0)
            exit(2);
        bag_add(b, buf, len);
        free(buf);
    }
    free(l.v);
}

static void bag_free(struct bag *b)
{
    for (size_t i = 0; i < b->n; i++)
        free(b->buf[i]);
    b->n = 0;
}

/* Feeds every record of `from` to `to`; returns how many were stored. */
static int sync_into(struct node *to, struct node *from)
{
    struct bag b = {0};
    int stored = 0;
    bag_from(&b, from);
    /* Twice: the second pass is what reconciliation does later. */
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < b.n; i++)
            stored += node_ingest(to, b.buf[i], b.len[i], NULL) == 1;
    (void)node_flush(to);
    bag_free(&b);
    return stored;
}

static void body_number(struct agah_alert_body *b, const char *target, const char *note)
{
    memset(b, 0, sizeof *b);
    b->kind = AGAH_KIND_NUMBER;
    (void)snprintf(b->target, sizeof b->target, "%s", target);
    (void)snprintf(b->note, sizeof b->note, "%s", note);
    b->category = AGAH_CAT_HARASSMENT;
    b->severity = AGAH_SEV_WARNING;
}

static int post(struct node *n, const char *target, const char *note, uint8_t id[32])
{
    struct agah_alert_body b;
    struct agah_why why = {{0}};
    body_number(&b, target, note);
    int r = node_post(n, &b, clk + 86400 * 30, id, &why);
    if (r != 0)
        fprintf(stderr, "post: %s (%s)\n", agah_strerror(r), why.msg);
    return r;
}

static size_t count_check(struct node *n, const char *target)
{
    struct node_alert *v = NULL;
    size_t cnt = 0;
    if (node_check(n, target, &v, &cnt) != 0)
        return (size_t)-1;
    free(v);
    return cnt;
}

static int readable(struct node *n, const uint8_t id[32])
{
    struct node_alert a;
    return node_alert_get(n, id, &a) == 0;
}

/* ------------------------------------------------------------------ */
/* Tests                                                               */

static void test_open_errors(void)
{
    char d[512], d2[512];
    struct node *n = NULL, *n2 = NULL;
    struct agah_why why = {{0}};
    struct agah_identity *id;

    sub_dir("empty", d);
    CHECK(node_open(d, NULL, 0, test_clock, &n, &why) == AGAH_ENOENT);
    CHECK(strstr(why.msg, " init") != NULL && strstr(why.msg, d) != NULL);
    CHECK(n == NULL);
    id = make_identity(d);
    CHECK(node_open(d, NULL, 0, test_clock, &n, &why) == AGAH_ENOENT);
    CHECK(strstr(why.msg, " join CODE") != NULL && strstr(why.msg, d) != NULL);
    agah_identity_free(id);

    sub_dir("founder", d2);
    id = make_founder(d2, "c");
    CHECK(node_open(d2, NULL, 0, test_clock, &n, &why) == 0);
    CHECK(node_open(d2, NULL, 0, test_clock, &n2, &why) == AGAH_EEXIST);
    CHECK(strstr(why.msg, "another agahd is running") != NULL);
    CHECK(n2 == NULL);
    node_close(n);
    /* The lock goes with the node. */
    CHECK(node_open(d2, NULL, 0, test_clock, &n, &why) == 0);
    node_close(n);
    agah_identity_free(id);

    /* A data directory made by an agah of another record version is
     * refused, naming both versions, rather than run without its
     * community. */
    char d3[512], lp[600];
    struct agah_local *loc = NULL;
    sub_dir("v1", d3);
    id = make_founder(d3, "c");
    (void)snprintf(lp, sizeof lp, "%s/community", d3);
    CHECK(agah_local_read(lp, id, &loc, NULL) == 0);
    if (loc != NULL && loc->n_records > 0 && loc->record_lens[0] > 2) {
        loc->records[0][1] = 0x02; /* [version 2, ...]: names in clear */
        CHECK(agah_local_write(lp, id, loc) == 0);
    }
    agah_local_free(loc);
    CHECK(node_open(d3, NULL, 0, test_clock, &n, &why) == AGAH_EVERSION);
    CHECK(strstr(why.msg, "record version 2") != NULL && strstr(why.msg, "version 3") != NULL);
    agah_identity_free(id);
}

static void test_founder_basics(void)
{
    char d[512];
    struct agah_identity *id;
    struct node *n;
    uint8_t aid[32], fid[32];
    struct node_alert *v = NULL;
    size_t cnt = 0;
    const uint8_t *buf;
    size_t len;
    int role;
    char hex[65];

    sub_dir("f", d);
    id = make_founder(d, "diaspora");
    n = open_node(d);
    CHECK(node_record_count(n) == 3); /* genesis, admission, epoch 1 */
    CHECK(node_role(n) == AGAH_ROLE_ORGANISER);
    CHECK(node_epoch_number(n) == 1);
    CHECK(strcmp(node_community_name(n), "diaspora") == 0);
    CHECK(node_my_admission(n, &buf, &len) == 0 && len > 0);
    CHECK(node_member_status(n, agah_identity_pk(id), &role) == 0 && role == AGAH_ROLE_ORGANISER);

    CHECK(post(n, "+85251234567", "called at night", aid) == 0);
    CHECK(node_have(n, aid) == 1);
    CHECK(node_record_count(n) == 4);
    CHECK(node_check(n, "+85251234567", &v, &cnt) == 0 && cnt == 1);
    if (cnt == 1) {
        CHECK(memcmp(v[0].id, aid, 32) == 0);
        CHECK(strcmp(v[0].body.note, "called at night") == 0);
        CHECK(strcmp(v[0].author_name, "founder") == 0);
        CHECK(v[0].status == NODE_ACTIVE);
        CHECK(v[0].confirmations == 0);
    }
    free(v);
    CHECK(count_check(n, "+85251234568") == 0);
    CHECK(node_active_alerts(n) == 1);

    sodium_bin2hex(hex, sizeof hex, aid, 32);
    hex[8] = '\0';
    CHECK(node_find(n, hex, fid) == 0 && memcmp(fid, aid, 32) == 0);
    CHECK(node_find(n, "zz12", fid) == AGAH_EINVAL);
    CHECK(node_find(n, "abc", fid) == AGAH_EINVAL);

    /* Retraction by the author: shown as retracted, not in the default list. */
    CHECK(node_retract(n, aid, "mistake", NULL) == 0);
    CHECK(node_check(n, "+85251234567", &v, &cnt) == 0 && cnt == 1);
    if (cnt == 1)
        CHECK(v[0].status == NODE_RETRACTED);
    free(v);
    CHECK(node_list(n, 0, 0, &v, &cnt) == 0 && cnt == 0);
    free(v);
    CHECK(node_list(n, 0, 1, &v, &cnt) == 0 && cnt == 1);
    free(v);
    CHECK(node_active_alerts(n) == 0);

    /* Bad input. */
    struct agah_alert_body b;
    body_number(&b, "", "no target");
    CHECK(node_post(n, &b, 0, aid, NULL) == AGAH_EINVAL);
    body_number(&b, "+85251234567", "past");
    CHECK(node_post(n, &b, clk - 1, aid, NULL) == AGAH_EINVAL);
    memset(&b, 0, sizeof b);
    b.kind = AGAH_KIND_ALERT;
    (void)snprintf(b.note, sizeof b.note, "meeting on Friday is watched");
    b.severity = AGAH_SEV_DANGER;
    CHECK(node_post(n, &b, 0, aid, NULL) == 0);
    CHECK(node_list(n, AGAH_KIND_ALERT, 0, &v, &cnt) == 0 && cnt == 1);
    free(v);
    CHECK(node_list(n, AGAH_KIND_NUMBER, 0, &v, &cnt) == 0 && cnt == 0);
    free(v);

    /* Peers persist. */
    CHECK(node_peer_remember(n, "10.0.0.1:7433") == 0);
    CHECK(node_peer_remember(n, "bad addr") == AGAH_EINVAL);
    node_close(n);
    n = open_node(d);
    CHECK(node_record_count(n) == 6);
    CHECK(node_list(n, 0, 1, &v, &cnt) == 0 && cnt == 2);
    free(v);
    /* A target with many alerts: all of them, newest first. */
    {
        uint8_t many[21][32];
        int ok = 1;
        for (int i = 0; i < 21; i++) {
            char note[32];
            (void)snprintf(note, sizeof note, "report %d", i);
            clk++;
            ok &= post(n, "+85251230099", note, many[i]) == 0;
        }
        CHECK(ok);
        CHECK(node_check(n, "+85251230099", &v, &cnt) == 0 && cnt == 21);
        for (size_t i = 0; i < cnt && i < 21; i++) {
            char note[32];
            /* Each note is read back from the store, whole. */
            (void)snprintf(note, sizeof note, "report %d", (int)(20 - i));
            ok &= memcmp(v[i].id, many[20 - i], 32) == 0 && strcmp(v[i].body.note, note) == 0;
        }
        CHECK(ok);
        free(v);
        /* In pages of 5, each after the last of the one before: the same
         * 21, and flagged on every page. */
        {
            const uint8_t *after = NULL;
            uint8_t last[32];
            size_t got = 0, pages = 0;
            int more = 1, flagged = 0;
            while (more && pages < 10) {
                CHECK(node_check_page(n, "+85251230099", after, 5, 1, &v, &cnt, &more,
                                      &flagged) == 0 && flagged && cnt <= 5);
                for (size_t i = 0; i < cnt && got < 21; i++, got++)
                    ok &= memcmp(v[i].id, many[20 - got], 32) == 0;
                if (cnt > 0) {
                    memcpy(last, v[cnt - 1].id, 32);
                    after = last;
                }
                free(v);
                pages++;
            }
            CHECK(ok && got == 21 && pages == 5 && !more);
            /* Without notes: the same page, notes empty (memory only). */
            CHECK(node_check_page(n, "+85251230099", NULL, 3, 0, &v, &cnt, &more, &flagged) ==
                      0 && cnt == 3 && more && flagged);
            for (size_t i = 0; i < cnt && i < 3; i++)
                ok &= memcmp(v[i].id, many[20 - i], 32) == 0 && v[i].body.note[0] == '\0';
            CHECK(ok);
            free(v);
            /* A cursor that is no alert is refused, not an empty page. */
            memset(last, 0, sizeof last);
            CHECK(node_check_page(n, "+85251230099", last, 5, 1, &v, &cnt, &more, &flagged) ==
                  AGAH_ENOENT);
            free(v);
        }
    }
    node_close(n);
    agah_identity_free(id);
}

/* Every record type travels from one node to another; duplicates are 0. */
static void test_ingest_all_types(void)
{
    char da[512], db[512];
    struct agah_identity *fa;
    struct node *a, *b, *c;
    uint8_t alert[32];
    unsigned conf = 0;
    size_t ne;

    sub_dir("a", da);
    sub_dir("b", db);
    fa = make_founder(da, "c");
    a = open_node(da);
    b = invite_open(a, db, AGAH_ROLE_MEMBER, "bob", NULL, &ne);
    /* The invitation issued epoch 2, sealed to bob too; the code has both
     * and the genesis key. */
    CHECK(ne == 3);
    CHECK(node_epoch_number(a) == 2);
    CHECK(node_role(b) == AGAH_ROLE_MEMBER);
    /* b knows genesis and its admission; it gets the rest from a. */
    CHECK(sync_into(b, a) == 3); /* founder admission, epochs 1 and 2 */
    CHECK(post(a, "+447700900123", "threat", alert) == 0);
    CHECK(sync_into(b, a) == 1);
    CHECK(count_check(b, "+447700900123") == 1);
    CHECK(node_confirm(b, alert, "me too", &conf, NULL) == 0 && conf == 1);
    CHECK(node_confirm(b, alert, "again", &conf, NULL) == 0 && conf == 1);
    CHECK(node_confirm(a, alert, "own", &conf, NULL) == AGAH_EINVAL);
    /* A member may not retract someone else's alert. */
    CHECK(node_retract(b, alert, "no", NULL) == AGAH_EPERM);
    CHECK(sync_into(a, b) == 1);
    struct node_alert v;
    CHECK(node_alert_get(a, alert, &v) == 0 && v.confirmations == 1);
    CHECK(node_retract(a, alert, "resolved", NULL) == 0);
    CHECK(sync_into(b, a) == 1);
    CHECK(node_alert_get(b, alert, &v) == 0 && v.status == NODE_RETRACTED);

    /* A second member, then its revocation: ADMISSION and REVOCATION. */
    char dc[512];
    struct agah_identity *cid;
    sub_dir("c", dc);
    c = invite_open(a, dc, AGAH_ROLE_MEMBER, "carol", &cid, NULL);
    CHECK(node_epoch_number(a) == 3); /* carol's invitation */
    CHECK(node_revoke(a, agah_identity_pk(cid), "phone lost", NULL) == 0);
    CHECK(node_epoch_number(a) == 4);
    int stored = sync_into(b, a);
    CHECK(stored == 4); /* admission, epoch 3, revocation, epoch 4 */
    CHECK(node_epoch_number(b) == 4);
    int role;
    CHECK(node_member_status(b, agah_identity_pk(cid), &role) == AGAH_EPERM);

    /* Everything again: all duplicates, no work. */
    struct bag bg = {0};
    bag_from(&bg, a);
    int dups = 0;
    for (size_t i = 0; i < bg.n; i++)
        dups += node_ingest(b, bg.buf[i], bg.len[i], NULL) == 0;
    CHECK((size_t)dups == bg.n);
    /* Many duplicates again: each is recognised (0), none stored twice.
     * (That a duplicate costs a hash rather than a signature check is a
     * speed, measured by bench/, not asserted here.) */
    size_t before = node_record_count(b);
    int again = 0;
    for (int k = 0; k < 20000; k++)
        again += node_ingest(b, bg.buf[k % bg.n], bg.len[k % bg.n], NULL) == 0;
    CHECK(again == 20000);
    CHECK(node_record_count(b) == before);
    bag_free(&bg);

    /* Garbage is rejected with a reason. */
    struct agah_why why = {{0}};
    uint8_t junk[8] = {0xdd, 0xff, 0xff, 0xff, 0xff, 0, 0, 0};
    CHECK(node_ingest(b, junk, sizeof junk, &why) < 0 && why.msg[0] != '\0');

    node_close(c);
    node_close(b);
    node_close(a);
    agah_identity_free(cid);
    agah_identity_free(fa);
}

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

static int same_ids(struct node *x, struct node *y)
{
    struct idlist a = ids_of(x), b = ids_of(y);
    int same = a.n == b.n && (a.n == 0 || memcmp(a.v, b.v, a.n * 32) == 0);
    if (!same && getenv("TEST_NODE_DEBUG") != NULL) {
        for (size_t i = 0, j = 0; i < a.n || j < b.n;) {
            int c = i >= a.n ? 1 : j >= b.n ? -1 : memcmp(a.v[i], b.v[j], 32);
            const uint8_t *id = c <= 0 ? a.v[i] : b.v[j];
            uint8_t *buf = NULL;
            size_t len = 0;
            struct agah_rec r;
            int type = -1;
            if ((node_get(c <= 0 ? x : y, id, &buf, &len) == 0) &&
                agah_rec_decode(buf, len, NULL, &r, NULL) == 0)
                type = r.type;
            free(buf);
            if (c != 0)
                fprintf(stderr, "only in %s: %02x%02x type %d created %llu\n",
                        c < 0 ? "first" : "second", id[0], id[1], type,
                        type >= 0 ? (unsigned long long)r.created : 0ull);
            if (c <= 0)
                i++;
            if (c >= 0)
                j++;
        }
    }
    free(a.v);
    free(b.v);
    return same;
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

/* Whether a file holds a byte string. */
static int file_has(const char *path, const char *needle)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long len;
    int found = 0;
    if (f == NULL)
        return 0;
    if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (buf = malloc((size_t)len)) != NULL && fread(buf, 1, (size_t)len, f) == (size_t)len)
        found = memmem(buf, (size_t)len, needle, strlen(needle)) != NULL;
    free(buf);
    fclose(f);
    return found;
}

static int dir_has(const char *dir, const char *needle)
{
    static const char *files[] = {"store.db", "store.db-wal", "store.db-shm", "community"};
    char p[600];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        (void)snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        if (file_has(p, needle))
            return 1;
    }
    return 0;
}

/* A relay stores and forwards but cannot read, and no store.db (the
 * relay's or a member's) ever holds the plaintext. */
static void test_relay_holds_no_plaintext(void)
{
    char da[512], dr[512], dm[512];
    struct agah_identity *fa;
    struct node *a, *r, *m;
    uint8_t x[32];
    size_t ne = 99;
    unsigned conf;
    const char *note = "Xq7 secret note \xc3\x9cr\xc3\xbcmchi";
    const char *target = "+85259998888";

    sub_dir("a", da);
    sub_dir("r", dr);
    sub_dir("m", dm);
    fa = make_founder(da, "c");
    a = open_node(da);
    struct agah_identity *rid;
    r = invite_open(a, dr, AGAH_ROLE_RELAY, "relay", &rid, &ne);
    CHECK(ne == 0);
    CHECK(node_role(r) == AGAH_ROLE_RELAY);
    m = invite_open(a, dm, AGAH_ROLE_MEMBER, "m", NULL, NULL);
    CHECK(post(a, target, note, x) == 0);
    (void)sync_into(m, a);
    CHECK(node_confirm(m, x, "Zk9 confirm note", &conf, NULL) == 0);
    (void)sync_into(r, a);
    (void)sync_into(r, m);
    CHECK(node_have(r, x) == 1);
    CHECK(count_check(r, target) == 0);
    struct node_alert *v = NULL;
    size_t cnt = 9;
    CHECK(node_list(r, 0, 1, &v, &cnt) == 0 && cnt == 0);
    free(v);
    CHECK(node_epoch_number(r) == 0);
    struct agah_alert_body body;
    body_number(&body, target, "relay post");
    CHECK(node_post(r, &body, 0, x, NULL) == AGAH_EPERM);
    /* Files on disk, WAL included, while the nodes are open and after. */
    CHECK(!dir_has(dr, note) && !dir_has(dr, target) && !dir_has(dr, "Zk9 confirm"));
    CHECK(!dir_has(da, note) && !dir_has(da, target) && !dir_has(da, "Zk9 confirm"));
    CHECK(!dir_has(dm, note) && !dir_has(dm, target));
    /* `revoke` rekeys even for a relay, which never held a key. */
    uint64_t e0 = node_epoch_number(a);
    CHECK(node_revoke(a, agah_identity_pk(rid), "", NULL) == 0);
    CHECK(node_epoch_number(a) == e0 + 1);
    agah_identity_free(rid);
    node_close(m);
    node_close(r);
    node_close(a);
    CHECK(!dir_has(dr, note) && !dir_has(dr, target));
    CHECK(!dir_has(da, note) && !dir_has(da, target));
    /* The member's index survives a restart (rebuilt from the store). */
    m = open_node(dm);
    CHECK(count_check(m, target) == 1);
    node_close(m);
    agah_identity_free(fa);
}

/* The name of pk in n's members ("" if not listed). */
static void member_name(struct node *n, const uint8_t *pk, char out[AGAH_NAME_MAX + 1])
{
    struct node_member *v = NULL;
    size_t cnt = 0;
    out[0] = '\0';
    CHECK(node_members(n, &v, &cnt) == 0);
    for (size_t i = 0; i < cnt; i++)
        if (memcmp(v[i].pk, pk, AGAH_PK_LEN) == 0)
            memcpy(out, v[i].name, AGAH_NAME_MAX + 1);
    free(v);
}

/* Record version 3: names and revocation reasons travel encrypted to
 * members. A member's node reads every name, the community's included;
 * a relay's reads none; neither's files hold one, nor the reason. */
static void test_names_private(void)
{
    char da[512], dr[512], dm[512], dg[512], nm[AGAH_NAME_MAX + 1];
    struct agah_identity *fa, *mid, *gid, *rid;
    struct node *a, *r, *m, *g;
    static const char *secret[] = {"Kq9community", "Kq9member", "Kq9relay", "Kq9gone",
                                   "Kq9reason"};

    sub_dir("a", da);
    sub_dir("r", dr);
    sub_dir("m", dm);
    sub_dir("g", dg);
    fa = make_founder(da, "Kq9community");
    a = open_node(da);
    r = invite_open(a, dr, AGAH_ROLE_RELAY, "Kq9relay", &rid, NULL);
    m = invite_open(a, dm, AGAH_ROLE_MEMBER, "Kq9member", &mid, NULL);
    g = invite_open(a, dg, AGAH_ROLE_MEMBER, "Kq9gone", &gid, NULL);
    CHECK(node_revoke(a, agah_identity_pk(gid), "Kq9reason: phone seized", NULL) == 0);
    (void)sync_into(m, a);
    (void)sync_into(r, a);
    member_name(m, agah_identity_pk(fa), nm);
    CHECK(strcmp(nm, "founder") == 0);
    member_name(m, agah_identity_pk(rid), nm);
    CHECK(strcmp(nm, "Kq9relay") == 0);
    member_name(m, agah_identity_pk(gid), nm);
    CHECK(strcmp(nm, "Kq9gone") == 0);
    member_name(m, agah_identity_pk(mid), nm);
    CHECK(strcmp(nm, "Kq9member") == 0);
    CHECK(strcmp(node_community_name(m), "Kq9community") == 0);
    member_name(r, agah_identity_pk(fa), nm);
    CHECK(nm[0] == '\0');
    member_name(r, agah_identity_pk(mid), nm);
    CHECK(nm[0] == '\0');
    CHECK(node_community_name(r)[0] == '\0');
    node_close(g);
    node_close(m);
    node_close(r);
    node_close(a);
    for (size_t i = 0; i < sizeof secret / sizeof secret[0]; i++) {
        CHECK(!dir_has(dr, secret[i]));
        CHECK(!dir_has(dm, secret[i]));
        CHECK(!dir_has(da, secret[i]));
    }
    /* Reopened, the member reads the names again from its store. */
    m = open_node(dm);
    member_name(m, agah_identity_pk(rid), nm);
    CHECK(strcmp(nm, "Kq9relay") == 0);
    CHECK(strcmp(node_community_name(m), "Kq9community") == 0);
    node_close(m);
    agah_identity_free(fa);
    agah_identity_free(mid);
    agah_identity_free(gid);
    agah_identity_free(rid);
}

static void peer_seen(void *ctx, const char *addr)
{
    if (strcmp(addr, "10.1.2.3:7433") == 0)
        (*(int *)ctx)++;
}

/* A data directory of an agah before issue 23: the name in a plaintext
 * DIR/name, a store.db of schema version 2 holding the genesis record in
 * clear and a peer in its peers table. node_open seals it: the peer moves
 * to the community file, the name into store.key, and no byte of the
 * directory's files holds the community's name, the founder's or the
 * address. A sealed store whose store.key is gone is refused, not given a
 * new key. */
static void test_old_data_dir(void)
{
    char d[512], p[PATH_LEN], sql[4096];
    struct agah_identity *id;
    struct agah_local *l = NULL;
    struct agah_why why = {{0}};
    struct node *n;
    sqlite3 *db = NULL;
    int seen = 0;

    sub_dir("old", d);
    id = make_founder(d, "Oldtown Circle");
    (void)snprintf(p, sizeof p, "%s/name", d);
    CHECK(agah_file_write_atomic(p, (const uint8_t *)"Gulnara Founder", 15, 0600) == 0);
    comm_path(d, p);
    CHECK(agah_local_read(p, id, &l, &why) == 0);
    {
        const uint8_t *g = l->records[0];
        uint8_t gid[32];
        char *q = sql;
        agah_hash(g, l->record_lens[0], gid);
        q += snprintf(q, 512,
                      "PRAGMA journal_mode = WAL;"
                      "CREATE TABLE records (id BLOB NOT NULL UNIQUE, type INTEGER NOT NULL,"
                      " author BLOB NOT NULL, created INTEGER NOT NULL, expires INTEGER NOT "
                      "NULL, ref BLOB, epoch BLOB, lookup BLOB, bytes BLOB NOT NULL);"
                      "CREATE TABLE tombstones (id BLOB PRIMARY KEY NOT NULL, until INTEGER "
                      "NOT NULL) WITHOUT ROWID;"
                      "CREATE TABLE peers (addr TEXT PRIMARY KEY NOT NULL, added INTEGER);"
                      "INSERT INTO peers VALUES ('10.1.2.3:7433', 1);"
                      "INSERT INTO records VALUES (x'");
        for (int i = 0; i < 32; i++)
            q += snprintf(q, 3, "%02x", gid[i]);
        q += snprintf(q, 64, "', 1, x'");
        for (int i = 0; i < 32; i++)
            q += snprintf(q, 3, "%02x", agah_identity_pk(id)[i]);
        q += snprintf(q, 64, "', %llu, 0, NULL, NULL, NULL, x'", (unsigned long long)clk);
        for (size_t i = 0; i < l->record_lens[0] && q < sql + sizeof sql - 64; i++)
            q += snprintf(q, 3, "%02x", g[i]);
        (void)snprintf(q, 64, "'); PRAGMA user_version = 2;");
    }
    agah_local_free(l);
    (void)snprintf(p, sizeof p, "%s/store.db", d);
    CHECK(sqlite3_open(p, &db) == SQLITE_OK && sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);
    (void)sqlite3_close(db);
    /* (The genesis names are encrypted since record version 3.) */
    (void)snprintf(p, sizeof p, "%s/name", d);
    CHECK(file_has(p, "Gulnara Founder"));
    CHECK(dir_has(d, "10.1.2.3:7433"));

    n = open_node(d);
    CHECK(node_peers_foreach(n, peer_seen, &seen) == 0 && seen == 1);
    node_close(n);
    (void)snprintf(p, sizeof p, "%s/name", d);
    CHECK(access(p, F_OK) != 0);
    CHECK(!dir_has(d, "Oldtown Circle") && !dir_has(d, "Gulnara") && !dir_has(d, "founder") &&
          !dir_has(d, "10.1.2.3"));
    (void)snprintf(p, sizeof p, "%s/store.key", d);
    CHECK(!file_has(p, "Gulnara"));
    /* Reopened: the peer is still known, from the community file alone. */
    n = open_node(d);
    seen = 0;
    CHECK(node_peers_foreach(n, peer_seen, &seen) == 0 && seen == 1);
    node_close(n);

    CHECK(unlink(p) == 0);
    n = NULL;
    CHECK(node_open(d, NULL, 0, test_clock, &n, &why) == AGAH_ECRYPTO && n == NULL);
    CHECK(strstr(why.msg, "store.key is gone") != NULL);
    CHECK(access(p, F_OK) != 0); /* no new key was made */
    agah_identity_free(id);
}

/* R1: after node_post returns, the alert survives the process dying
 * without node_close. */
static void test_durable_post(void)
{
    char d[512];
    struct agah_identity *fa;
    int fds[2];
    pid_t pid;
    uint8_t id[32] = {0};
    int status = 0;

    sub_dir("a", d);
    fa = make_founder(d, "c");
    if (pipe(fds) != 0)
        exit(2);
    pid = fork();
    if (pid == 0) {
        struct node *n = open_node(d);
        uint8_t x[32];
        if (post(n, "+15550000041", "durable", x) != 0)
            _exit(1);
        if (write(fds[1], x, 32) != 32)
            _exit(1);
        _exit(0); /* no node_close, no flush: like kill -9 */
    }
    close(fds[1]);
    CHECK(read(fds[0], id, 32) == 32);
    close(fds[0]);
    CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    struct node *n = open_node(d);
    CHECK(readable(n, id));
    CHECK(count_check(n, "+15550000041") == 1);
    node_close(n);
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

/* Rule 6 and rule 14: future and expired records, pruning, tombstones. */
static void test_clock_and_prune(void)
{
    char da[512], db[512];
    struct agah_identity *fa, *bid;
    struct node *a, *b;
    uint8_t *buf = NULL, id[32], x[32];
    size_t len = 0;
    struct agah_why why = {{0}};
    struct agah_alert_body body;
    uint8_t key[32];
    const uint8_t *eid;

    sub_dir("a", da);
    sub_dir("b", db);
    fa = make_founder(da, "c");
    a = open_node(da);
    b = invite_open(a, db, AGAH_ROLE_MEMBER, "bob", &bid, NULL);
    (void)sync_into(b, a);
    /* Hand-made alerts under epoch 1, whose key the test reads from a's
     * community file through b's join: b has it too. */
    {
        struct agah_local *l = NULL;
        char p[PATH_LEN];
        comm_path(db, p);
        if (agah_local_read(p, bid, &l, NULL) != 0)
            exit(2);
        memcpy(key, l->epochs[0].key, 32);
        static uint8_t e1[32];
        memcpy(e1, l->epochs[0].id, 32);
        eid = e1;
        agah_local_free(l);
    }
    body_number(&body, "+15550000061", "future");
    CHECK(agah_rec_alert(bid, node_community(a), eid, key, &body, clk + 601, 0, &buf, &len) == 0);
    agah_hash(buf, len, id);
    CHECK(node_ingest(a, buf, len, &why) == AGAH_EVALUE);
    CHECK(strstr(why.msg, "future") != NULL);
    CHECK(node_have(a, id) == 0);
    free(buf);
    CHECK(agah_rec_alert(bid, node_community(a), eid, key, &body, clk + 600, 0, &buf, &len) == 0);
    CHECK(node_ingest(a, buf, len, &why) == 1);
    free(buf);
    body_number(&body, "+15550000062", "old");
    CHECK(agah_rec_alert(bid, node_community(a), eid, key, &body, clk - 1000, clk - 10, &buf,
                         &len) == 0);
    agah_hash(buf, len, id);
    CHECK(node_ingest(a, buf, len, &why) == AGAH_EEXPIRED);
    CHECK(node_have(a, id) == 1); /* remembered */
    CHECK(node_ingest(a, buf, len, &why) == 0);
    free(buf);

    /* An admission that has expired still grounds what its member signed
     * while admitted: stored on arrival, kept by prune. */
    {
        struct agah_identity *late;
        uint8_t *ab = NULL, lid[32];
        size_t al = 0;
        int role;
        if (agah_identity_generate(&late) != 0)
            exit(2);
        CHECK(agah_rec_admission(fa, node_community(a), agah_identity_pk(late), AGAH_ROLE_MEMBER,
                                 "late", TEST_EID, TEST_EKEY, clk - 1000, clk - 500, &ab, &al) == 0);
        body_number(&body, "+15550000064", "while admitted");
        CHECK(agah_rec_alert(late, node_community(a), eid, key, &body, clk - 800, 0, &buf,
                             &len) == 0);
        agah_hash(buf, len, lid);
        CHECK(node_ingest(a, buf, len, &why) == AGAH_EPERM); /* admission not seen yet */
        CHECK(node_ingest(a, ab, al, &why) == 1);
        CHECK(node_have(a, lid) == 1); /* retried from the pending list */
        CHECK(node_member_status(a, agah_identity_pk(late), &role) == AGAH_ENOENT);
        CHECK(count_check(a, "+15550000064") == 1);
        free(ab);
        free(buf);
        agah_identity_free(late);
    }

    /* An alert that expires, its confirmation, then the prune. */
    struct agah_why w2 = {{0}};
    body_number(&body, "+15550000063", "short");
    CHECK(node_post(a, &body, clk + 100, x, &w2) == 0);
    (void)sync_into(b, a);
    unsigned conf;
    CHECK(node_confirm(b, x, "", &conf, NULL) == 0);
    (void)sync_into(a, b);
    struct node_alert v;
    clk += 200;
    CHECK(node_alert_get(a, x, &v) == 0 && v.status == NODE_EXPIRED);
    CHECK(node_prune(a) == 1);
    CHECK(count_check(a, "+15550000064") == 1);
    CHECK(node_alert_get(a, x, &v) == AGAH_ENOENT);
    CHECK(node_get(a, x, &buf, &len) == AGAH_ENOENT);
    CHECK(node_have(a, x) == 1);
    CHECK(node_prune(a) == 0);
    /* b prunes too; its confirmation went with the alert on a. */
    CHECK(node_prune(b) == 1);
    CHECK(same_ids(a, b));
    /* Tombstones are forgotten after 30 days. */
    clk += 31ull * 86400;
    CHECK(node_prune(a) == 0);
    CHECK(node_have(a, x) == 0);
    node_close(b);
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

/* The target index on its own: shared targets chain, removal from the
 * head, middle and end of a chain and of probe runs keeps every other
 * alert findable, free-text alerts stay out, and freed slots are reused. */
static void test_alert_index(void)
{
    enum { N = 3000 };
    struct alerts al;
    struct agah_alert_body *body = calloc(1, sizeof *body);
    uint8_t id[32], author[32] = {7};
    static unsigned char live[N];

    CHECK(body != NULL);
    if (body == NULL)
        return;
    alerts_init(&al);
    body->kind = AGAH_KIND_NUMBER;
    for (unsigned i = 0; i < N; i++) {
        memset(id, 0, sizeof id);
        memcpy(id, &i, sizeof i);
        /* Three alerts per target; every tenth is free text. */
        if (i % 10 == 9) {
            body->kind = AGAH_KIND_ALERT;
            body->target[0] = '\0';
        } else {
            body->kind = AGAH_KIND_NUMBER;
            (void)snprintf(body->target, sizeof body->target, "+1555%07u", i / 3);
        }
        (void)snprintf(body->note, sizeof body->note, "note %u", i);
        CHECK(alerts_add(&al, id, author, i, 0, body) == 1);
        live[i] = 1;
    }
    CHECK(alerts_add(&al, id, author, 0, 0, body) == 0);
    /* Remove two thirds, in an order that hits every chain position. */
    for (unsigned i = 0; i < N; i++) {
        if (i % 3 == 2 || (i % 7) == 0)
            continue;
        memset(id, 0, sizeof id);
        memcpy(id, &i, sizeof i);
        CHECK(alerts_remove(&al, id) == 1);
        CHECK(alerts_remove(&al, id) == 0);
        live[i] = 0;
    }
    for (unsigned t = 0; t < N / 3; t++) {
        char q[32];
        unsigned want = 0, got = 0;
        (void)snprintf(q, sizeof q, "+1555%07u", t);
        for (unsigned i = 3 * t; i < 3 * t + 3; i++)
            want += live[i] && i % 10 != 9;
        for (const struct alert_ent *a = alerts_first(&al, q); a != NULL; a = alerts_next(&al, a)) {
            unsigned idx;
            memcpy(&idx, a->id, sizeof idx);
            CHECK(idx / 3 == t && live[idx] && strcmp(alerts_target(&al, a), q) == 0 &&
                  memcmp(alerts_author(&al, a), author, 32) == 0);
            got++;
        }
        CHECK(got == want);
    }
    CHECK(alerts_first(&al, "+15559999999") == NULL);
    CHECK(alerts_first(&al, "") == NULL);
    /* Freed slots come back, and the new alert is found by its target. */
    {
        size_t n_a = al.n_a;
        unsigned k = N + 1;
        memset(id, 0, sizeof id);
        memcpy(id, &k, sizeof k);
        body->kind = AGAH_KIND_NUMBER;
        (void)snprintf(body->target, sizeof body->target, "+15550000000");
        CHECK(alerts_add(&al, id, author, 1, 0, body) == 1);
        CHECK(al.n_a == n_a);
        const struct alert_ent *a = alerts_get(&al, id);
        CHECK(a != NULL && strcmp(alerts_target(&al, a), "+15550000000") == 0);
    }
    alerts_free(&al);
    free(body);
}

/* The id set and the view are one: ids marked stored or tombstoned turn
 * into alerts and annotations when those arrive, a tombstone replaces a
 * view entry, forgetting an id removes its entry, and the string arena
 * gives back chunks whose alerts are gone while keeping the rest intact. */
static void test_id_set(void)
{
    enum { N = 20000 };
    struct alerts al;
    struct agah_alert_body *body = calloc(1, sizeof *body);
    uint8_t id[32], other[32], ref[32], author[32] = {9};
    unsigned i;
    size_t chunks_full, chunks_left = 0;

    CHECK(body != NULL);
    if (body == NULL)
        return;
    alerts_init(&al);
    memset(id, 1, sizeof id);
    memset(other, 2, sizeof other);
    memset(ref, 3, sizeof ref);
    body->kind = AGAH_KIND_NUMBER;
    (void)snprintf(body->target, sizeof body->target, "+15551230000");
    (void)snprintf(body->note, sizeof body->note, "first");

    CHECK(alerts_id_state(&al, id) == ALERTS_ID_NONE);
    CHECK(alerts_id_mark(&al, id, 7) == AGAH_EINVAL);
    CHECK(alerts_id_mark(&al, id, ALERTS_ID_STORED) == 0);
    CHECK(alerts_id_state(&al, id) == ALERTS_ID_STORED && alerts_get(&al, id) == NULL);
    /* References (what the reconciliation set holds instead of ids) stand
     * for their id until the generation changes; adding changes nothing. */
    uint32_t r1 = alerts_id_ref(&al, id), r2;
    uint64_t g0 = alerts_ref_gen(&al);
    static const uint8_t zeros[32];
    CHECK(r1 != 0 && memcmp(alerts_ref_id(&al, r1), id, 32) == 0);
    CHECK(alerts_id_ref(&al, other) == 0 && memcmp(alerts_ref_id(&al, 0), zeros, 32) == 0 &&
          memcmp(alerts_ref_id(&al, r1 + 1000), zeros, 32) == 0);
    /* A stored, unreadable alert becomes readable (an epoch key came):
     * its id moves into the view, so its reference changes. */
    CHECK(alerts_add(&al, id, author, 5, 0, body) == 1);
    CHECK(alerts_id_count(&al) == 1 && alerts_id_state(&al, id) == ALERTS_ID_STORED);
    r2 = alerts_id_ref(&al, id);
    CHECK(r2 != r1 && memcmp(alerts_ref_id(&al, r2), id, 32) == 0 && alerts_ref_gen(&al) != g0);
    g0 = alerts_ref_gen(&al);
    CHECK(alerts_id_mark(&al, other, ALERTS_ID_STORED) == 0 && alerts_ref_gen(&al) == g0);
    CHECK(alerts_id_forget(&al, other) == 1 && alerts_ref_gen(&al) != g0);
    CHECK(alerts_id_mark(&al, id, ALERTS_ID_STORED) == 0 && alerts_get(&al, id) != NULL);
    CHECK(alerts_first(&al, "+15551230000") == alerts_get(&al, id));
    /* A tombstone replaces it, and the target no longer finds it. */
    CHECK(alerts_id_mark(&al, id, ALERTS_ID_TOMB) == 0);
    CHECK(alerts_id_state(&al, id) == ALERTS_ID_TOMB && alerts_get(&al, id) == NULL);
    CHECK(alerts_first(&al, "+15551230000") == NULL && al.live == 0);
    CHECK(alerts_id_count(&al) == 1);
    /* A stored record outranks its tombstone. */
    CHECK(alerts_id_mark(&al, id, ALERTS_ID_STORED) == 0);
    CHECK(alerts_id_state(&al, id) == ALERTS_ID_STORED);
    CHECK(alerts_id_forget(&al, id) == 1 && alerts_id_forget(&al, id) == 0);
    CHECK(alerts_id_state(&al, id) == ALERTS_ID_NONE && alerts_id_count(&al) == 0);
    /* Annotations take over a marked id too, and forgetting removes them. */
    CHECK(alerts_id_mark(&al, other, ALERTS_ID_TOMB) == 0);
    CHECK(alerts_annot_add(&al, other, ref, author, 1, AGAH_REC_CONFIRM) == 1);
    CHECK(alerts_id_state(&al, other) == ALERTS_ID_STORED);
    CHECK(annots_records(&al.an, ref, AGAH_REC_CONFIRM) == 1);
    CHECK(alerts_annot_add(&al, other, ref, author, 1, AGAH_REC_CONFIRM) == 0);
    CHECK(alerts_add(&al, other, author, 1, 0, body) == 0); /* the id is taken */
    CHECK(alerts_id_forget(&al, other) == 1);
    CHECK(annots_records(&al.an, ref, AGAH_REC_CONFIRM) == 0 && alerts_id_count(&al) == 0);

    /* The arena: fill many chunks, remove nine in ten, and what is left
     * reads back exactly. */
    for (i = 0; i < N; i++) {
        memset(id, 0, sizeof id);
        memcpy(id, &i, sizeof i);
        /* Long targets: the arena holds no notes. */
        (void)snprintf(body->target, sizeof body->target, "x:%0200u", i);
        CHECK(alerts_add(&al, id, author, i, 0, body) == 1);
    }
    chunks_full = al.n_ch;
    CHECK(chunks_full > 10);
    for (i = 0; i < N; i++) {
        if (i % 10 == 3)
            continue;
        memset(id, 0, sizeof id);
        memcpy(id, &i, sizeof i);
        CHECK(alerts_remove(&al, id) == 1);
    }
    for (size_t c = 0; c < al.n_ch; c++)
        chunks_left += al.ch[c].mem != NULL;
    CHECK(chunks_left < chunks_full / 4);
    CHECK(al.str_dead <= al.str_live || al.str_dead <= 4u * 65536u);
    for (i = 3; i < N; i += 10) {
        char t[256];
        const struct alert_ent *a;
        memset(id, 0, sizeof id);
        memcpy(id, &i, sizeof i);
        (void)snprintf(t, sizeof t, "x:%0200u", i);
        a = alerts_first(&al, t);
        CHECK(a != NULL && a == alerts_get(&al, id) && alerts_next(&al, a) == NULL);
        if (a != NULL)
            CHECK(strcmp(alerts_target(&al, a), t) == 0 && a->created == i);
    }
    CHECK(alerts_id_count(&al) == N / 10 && al.live == N / 10);
    alerts_free(&al);
    free(body);
}

/* Issue 24: one member's 10,000 alerts with 2 KiB notes made every node
 * hold 20 MB more in RAM, notes in the view's arena. The view now keeps
 * only targets: the arena holds their bytes, not one of the notes'. */
static void test_notes_not_in_view(void)
{
    struct alerts al;
    struct agah_alert_body *body = calloc(1, sizeof *body);
    uint8_t id[32], author[32];
    size_t want = 0;
    int ok = 1;

    CHECK(body != NULL);
    if (body == NULL)
        return;
    alerts_init(&al);
    memset(author, 7, sizeof author);
    body->kind = AGAH_KIND_NUMBER;
    memset(body->note, 'n', AGAH_NOTE_MAX);
    body->note[AGAH_NOTE_MAX] = '\0';
    for (uint32_t i = 0; i < 10000; i++) {
        memset(id, 0, sizeof id);
        memcpy(id, &i, sizeof i);
        (void)snprintf(body->target, sizeof body->target, "+1777%07u", (unsigned)(i % 100));
        want += strlen(body->target) + 1;
        ok &= alerts_add(&al, id, author, i, 0, body) == 1;
    }
    CHECK(ok && al.live == 10000);
    CHECKF(al.str_live == want, "the view holds %zu bytes of strings for %zu of targets",
           al.str_live, want);
    CHECK(al.n_ch * 65536u < 10000u * AGAH_NOTE_MAX / 4);
    alerts_free(&al);
    free(body);
}

int main(void)
{
    static const struct fixture_test tests[] = {
        {"open_errors", test_open_errors},
        {"founder_basics", test_founder_basics},
        {"ingest_all_types", test_ingest_all_types},
        {"member_cannot_admit_or_revoke", test_member_cannot_admit_or_revoke},
        {"revocation_wins", test_revocation_wins},
        {"convergence", test_convergence},
        {"concurrent_revocations", test_concurrent_revocations},
        {"mutual_revocation", test_mutual_revocation},
        {"late_member_reads_all", test_late_member_reads_all},
        {"invitation_lapses", test_invitation_lapses},
        {"epoch_chain", test_epoch_chain},
        {"relay_holds_no_plaintext", test_relay_holds_no_plaintext},
        {"names_private", test_names_private},
        {"old_data_dir", test_old_data_dir},
        {"durable_post", test_durable_post},
        {"pending_author", test_pending_author},
        {"clock_and_prune", test_clock_and_prune},
        {"epoch_arrives_late", test_epoch_arrives_late},
        {"alert_index", test_alert_index},
        {"id_set", test_id_set},
        {"notes_not_in_view", test_notes_not_in_view},
    };

    return fixture_run("test_node", tests, sizeof tests / sizeof tests[0]);
}

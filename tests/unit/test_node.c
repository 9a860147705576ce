/* Unit tests of daemon/node/: data directories are built here (identity,
 * community file, join codes), nodes are driven directly with an injected
 * clock, and records are carried between nodes by hand. Each test runs in
 * its own mkdtemp directory. This program: opening a data directory,
 * posting and reading, every record type carried between nodes, and
 * durability. The other test_node_*.c take revocation, epochs, privacy on
 * disk and the alert view. */
#define _GNU_SOURCE /* mkdtemp, nftw, memmem */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <sodium.h>
#include <agah/agah.h>
#include "alerts.h"
#include "node.h"

#include "check.h"
#include "node_fixture.h"
#include "node_helpers.h"

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

int main(void)
{
    static const struct fixture_test tests[] = {
        {"open_errors", test_open_errors},
        {"founder_basics", test_founder_basics},
        {"ingest_all_types", test_ingest_all_types},
        {"durable_post", test_durable_post},
    };

    return fixture_run("test_node", tests, sizeof tests / sizeof tests[0]);
}

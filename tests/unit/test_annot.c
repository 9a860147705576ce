/* Annotations cannot freeze `check` (issue 24): an insider's thousands of
 * CONFIRM and RETRACT records about one alert are counted once per author,
 * the view is the same whatever order they arrive in, and a lookup visits
 * one index entry per retracting author, never one per record. Work is
 * asserted on the index's visit counter, never on timings. */
#define _XOPEN_SOURCE 700
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
#include "quota.h"

#include "check.h"
#include "node_fixture.h"

#define N_ANNOT 20000
#define TARGET "+447700900123"

struct rec {
    uint8_t *buf;
    size_t len;
};

/* One CONFIRM or RETRACT by `id` about `alert`, signed at `created` under
 * the newest epoch key in the founder's community file `l`. */
static struct rec annotate(const struct agah_identity *id, const struct agah_local *l, int type,
                           const uint8_t alert[32], uint64_t created)
{
    struct rec r = {0};
    size_t e = l->n_epochs - 1;

    if (agah_rec_annotate(id, type, l->community, alert, l->epochs[e].id, l->epochs[e].key,
                          type == AGAH_REC_CONFIRM ? "seen it" : "wrong", created, &r.buf,
                          &r.len) != 0)
        exit(2);
    return r;
}

/* Ingests recs[order[i]] into n; how many were stored. */
static size_t feed(struct node *n, const struct rec *recs, const size_t *order, size_t count)
{
    size_t stored = 0;

    for (size_t i = 0; i < count; i++)
        stored += node_ingest(n, recs[order[i]].buf, recs[order[i]].len, NULL) == 1;
    (void)node_flush(n);
    return stored;
}

/* The view of the one alert on TARGET, and the index entries it visited. */
static struct node_alert check_one(struct node *n, uint64_t *visits)
{
    struct node_alert *v = NULL, out;
    size_t cnt = 0;
    uint64_t before = node_annot_visits(n);

    memset(&out, 0, sizeof out);
    CHECK(node_check(n, TARGET, &v, &cnt) == 0 && cnt == 1);
    if (cnt == 1)
        out = v[0];
    free(v);
    *visits = node_annot_visits(n) - before;
    return out;
}

static void test_many_annotations(void)
{
    char da[512], dm[3][512], db2[512], p[PATH_LEN];
    struct agah_identity *fa, *mid[3];
    struct agah_local *l = NULL;
    struct node *a, *m[3], *b;
    struct agah_alert_body body;
    struct node_alert v;
    struct rec *recs = calloc(N_ANNOT, sizeof *recs);
    size_t *order = calloc(N_ANNOT, sizeof *order);
    uint8_t alert[32];
    uint64_t visits;

    CHECK(recs != NULL && order != NULL);
    if (recs == NULL || order == NULL)
        exit(2);
    sub_dir("a", da);
    fa = make_founder(da, "founder");
    a = open_node(da);
    /* The per-author quotas (1,000 posts a day) would bound this flood
     * too; here the view must bound it alone. */
    const struct quota_limits unlimited = {.day_posts = {1000000, 1000000},
                                           .posts = {1000000, 1000000}};
    CHECK(node_set_quota_limits(a, &unlimited) == 0);
    for (int i = 0; i < 3; i++) {
        char name[8];
        (void)snprintf(name, sizeof name, "m%d", i);
        sub_dir(name, dm[i]);
        m[i] = invite_open(a, dm[i], AGAH_ROLE_MEMBER, name, &mid[i], NULL);
    }
    memset(&body, 0, sizeof body);
    body.kind = AGAH_KIND_NUMBER;
    (void)snprintf(body.target, sizeof body.target, "%s", TARGET);
    body.category = AGAH_CAT_HARASSMENT;
    body.severity = AGAH_SEV_WARNING;
    CHECK(node_post(a, &body, 0, alert, NULL) == 0);
    comm_path(da, p);
    CHECK(agah_local_read(p, fa, &l, NULL) == 0 && l->n_epochs > 0);

    /* Three members each send a third of 20,000 records, confirmations
     * and retractions alternating, with distinct times; retractions by a
     * member of someone else's alert never take effect. */
    for (size_t i = 0; i < N_ANNOT; i++) {
        int type = i % 2 == 0 ? AGAH_REC_CONFIRM : AGAH_REC_RETRACT;
        recs[i] = annotate(mid[i % 3], l, type, alert, clk + 1 + i);
        order[i] = i;
    }
    clk += N_ANNOT + 10;
    CHECK(feed(a, recs, order, N_ANNOT) == N_ANNOT);
    v = check_one(a, &visits);
    CHECK(v.confirmations == 3 && v.status == NODE_ACTIVE);
    /* One retracting group per member: three entries, not 10,000. */
    CHECK(visits == 3);
    uint64_t before = node_annot_visits(a);
    for (int k = 0; k < 1000; k++)
        (void)check_one(a, &visits);
    CHECK(node_annot_visits(a) - before == 3000);
    CHECK(node_active_alerts(a) == 1);

    /* The founder, the alert's author, retracts it: retracted, by it. */
    CHECK(node_retract(a, alert, "resolved", NULL) == 0);
    v = check_one(a, &visits);
    CHECK(v.status == NODE_RETRACTED && v.has_retractor &&
          memcmp(v.retracted_by, agah_identity_pk(fa), 32) == 0);
    CHECK(visits <= 2 * 4);
    /* A member confirming again changes nothing: one per author. */
    struct rec again = annotate(mid[0], l, AGAH_REC_CONFIRM, alert, clk);
    CHECK(node_ingest(a, again.buf, again.len, NULL) == 1);
    v = check_one(a, &visits);
    CHECK(v.confirmations == 3);
    free(again.buf);

    /* Another node gets every record in a random order: the same view. */
    sub_dir("b", db2);
    b = invite_open(a, db2, AGAH_ROLE_MEMBER, "b", NULL, NULL);
    CHECK(node_set_quota_limits(b, &unlimited) == 0);
    /* In a random order, twice: records that came before their author's
     * admission are refused the first time. */
    uint64_t order_seed = 1;
    (void)copy_records(b, a, &order_seed, 100, 2);
    CHECK(node_record_count(b) == node_record_count(a));
    v = check_one(b, &visits);
    CHECK(v.confirmations == 3 && v.status == NODE_RETRACTED && v.has_retractor &&
          memcmp(v.retracted_by, agah_identity_pk(fa), 32) == 0);
    CHECK(visits <= 2 * 4);

    for (size_t i = 0; i < N_ANNOT; i++)
        free(recs[i].buf);
    free(recs);
    free(order);
    agah_local_free(l);
    node_close(b);
    for (int i = 0; i < 3; i++) {
        node_close(m[i]);
        agah_identity_free(mid[i]);
    }
    node_close(a);
    agah_identity_free(fa);
}

/* The index alone: a group's earliest record is kept as records come and,
 * when it leaves, found again by one walk at the next read, so removing a
 * whole group in its worst order (earliest first) is linear, not quadratic. */
static void test_group_best(void)
{
    enum { N = 5000 };
    struct alerts al;
    uint8_t ref[32], author[32], id[32];
    uint64_t walks = 0;
    int ok = 1;

    alerts_init(&al);
    randombytes_buf(ref, sizeof ref);
    randombytes_buf(author, sizeof author);
    for (uint32_t i = 0; i < N; i++) {
        memset(id, 0, sizeof id);
        memcpy(id, &i, sizeof i);
        ok &= alerts_annot_add(&al, id, ref, author, T0 + i, AGAH_REC_RETRACT) == 1;
    }
    CHECK(ok);
    CHECK(annots_authors(&al.an, ref, AGAH_REC_RETRACT) == 1 &&
          annots_records(&al.an, ref, AGAH_REC_RETRACT) == N &&
          annots_authors(&al.an, ref, AGAH_REC_CONFIRM) == 0);
    uint32_t g = annots_grp_first(&al.an, ref, AGAH_REC_RETRACT);
    CHECK(g != ANNOTS_NIL && annots_grp_best(&al.an, g)->created == T0);
    CHECK(annots_grp_next(&al.an, g) == ANNOTS_NIL);
    /* Remove the earliest each time; read only every 1,000th time. */
    for (uint32_t i = 0; i < N - 1; i++) {
        memset(id, 0, sizeof id);
        memcpy(id, &i, sizeof i);
        ok &= alerts_annot_remove(&al, id) == 1;
        if (i % 1000 == 999) {
            uint64_t before = al.an.visits;
            ok &= annots_grp_best(&al.an, g)->created == T0 + i + 1;
            walks += al.an.visits - before;
        }
    }
    CHECK(ok);
    /* Each read after a removal of the best walks the group once. */
    CHECK(walks <= 5u * N);
    CHECK(annots_grp_best(&al.an, g)->created == T0 + N - 1);
    uint32_t last = N - 1;
    memset(id, 0, sizeof id);
    memcpy(id, &last, sizeof last);
    CHECK(alerts_annot_remove(&al, id) == 1 && alerts_annot_remove(&al, id) == 0);
    CHECK(annots_authors(&al.an, ref, AGAH_REC_RETRACT) == 0 &&
          annots_grp_first(&al.an, ref, AGAH_REC_RETRACT) == ANNOTS_NIL &&
          alerts_id_count(&al) == 0);
    /* A record earlier than the best replaces it at once. */
    for (uint32_t i = 0; i < 3; i++) {
        memset(id, 0, sizeof id);
        memcpy(id, &i, sizeof i);
        CHECK(alerts_annot_add(&al, id, ref, author, T0 + 10 - i, AGAH_REC_CONFIRM) == 1);
    }
    g = annots_grp_first(&al.an, ref, AGAH_REC_CONFIRM);
    CHECK(g != ANNOTS_NIL && annots_grp_best(&al.an, g)->created == T0 + 8);
    CHECK(annots_by(&al.an, ref, author, AGAH_REC_CONFIRM) &&
          !annots_by(&al.an, ref, author, AGAH_REC_RETRACT));
    alerts_free(&al);
}

int main(void)
{
    static const struct fixture_test tests[] = {
        {"group_best", test_group_best},
        {"many_annotations", test_many_annotations},
    };

    return fixture_run("test_annot", tests, sizeof tests / sizeof tests[0]);
}

/* Unit tests of daemon/node/ (see test_node.c): the alerts a node shows
 * over time (future and expired records, pruning, tombstones) and its
 * in-memory view (daemon/node/alerts.c): the target index, the id set,
 * and notes kept out of memory. */
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
        {"clock_and_prune", test_clock_and_prune},
        {"alert_index", test_alert_index},
        {"id_set", test_id_set},
        {"notes_not_in_view", test_notes_not_in_view},
    };

    return fixture_run("test_node_view", tests, sizeof tests / sizeof tests[0]);
}

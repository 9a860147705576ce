/* How a stored record reaches the node's listeners (node.h, struct
 * node_src; issue 14): the source travels as an argument, from
 * node_ingest_decoded's caller to the listener, never through state the
 * caller sets before the call and reads back in the callback.
 *
 *  - a record from a link reaches every listener with that link and its
 *    freshness, exactly as the caller passed them;
 *  - a record this node signs has no link and is fresh (pushed on);
 *  - a record released from the pending set, because the admission of its
 *    author arrived, has no link and is not fresh (it is old news: it is
 *    announced, and not pushed back to whoever sent the admission);
 *  - a refused or duplicate record reaches no listener. */
#define _GNU_SOURCE /* mkdtemp, nftw */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>
#include <agah/agah.h>
#include "node.h"

#include "check.h"
#include "node_fixture.h"

#define MAX_SEEN 16

/* What the listener was told, in order. */
struct seen {
    size_t n;
    struct {
        uint8_t id[32];
        int type;
        const void *link;
        int fresh;
    } v[MAX_SEEN];
};

static void listener(void *ctx, const struct agah_rec *rec, const struct node_src *src)
{
    struct seen *s = ctx;

    CHECK(src != NULL);
    if (src == NULL || s->n == MAX_SEEN)
        return;
    memcpy(s->v[s->n].id, rec->id, 32);
    s->v[s->n].type = rec->type;
    s->v[s->n].link = src->link;
    s->v[s->n].fresh = src->fresh;
    s->n++;
}

static void post(struct node *n, const char *target, uint8_t id[32])
{
    struct agah_alert_body b;
    struct agah_why why = {{0}};

    memset(&b, 0, sizeof b);
    b.kind = AGAH_KIND_NUMBER;
    (void)snprintf(b.target, sizeof b.target, "%s", target);
    b.category = AGAH_CAT_HARASSMENT;
    b.severity = AGAH_SEV_DANGER;
    if (node_post(n, &b, clk + 86400 * 30, id, &why) != 0) {
        fprintf(stderr, "post: %s\n", why.msg);
        exit(2);
    }
}

/* Hands node `to` the record `id` held by `from`, as if it had come over
 * `link`: decoded and verified first, as agahd's verify queue does. */
static int deliver(struct node *to, struct node *from, const uint8_t id[32], const void *link,
                   int fresh)
{
    const struct node_src src = {.link = link, .fresh = fresh};
    struct agah_why why = {{0}};
    struct agah_rec r;
    uint8_t *buf;
    size_t len;
    int rc;

    if (node_get(from, id, &buf, &len) != 0)
        exit(2);
    rc = agah_rec_decode(buf, len, node_community(to), &r, &why);
    if (rc == 0)
        rc = node_ingest_decoded(to, &r, &src, &why);
    free(buf);
    return rc;
}

static void test_sources(void)
{
    char da[512], dm[512], dy[512];
    struct node *a, *m, *y;
    struct seen s = {0};
    struct idlist yl;
    uint8_t own[32], alert[32], adm[32];
    int link_a, link_b, have_adm = 0;

    sub_dir("a", da);
    sub_dir("m", dm);
    sub_dir("y", dy);
    agah_identity_free(make_founder(da, "founder"));
    a = open_node(da);
    m = invite_open(a, dm, AGAH_ROLE_MEMBER, "m", NULL, NULL);
    (void)copy_records(m, a, NULL, 100, 1);
    CHECK(node_listen(m, listener, &s) == 0);

    /* Signed here: no link, fresh. */
    post(m, "+15551230001", own);
    CHECK(s.n == 1 && memcmp(s.v[0].id, own, 32) == 0 && s.v[0].link == NULL &&
          s.v[0].fresh == 1);

    /* y's alert before y's admission: m does not know y yet, so it waits
     * pending, and no listener hears of it. */
    y = invite_open(a, dy, AGAH_ROLE_MEMBER, "y", NULL, NULL);
    (void)copy_records(y, a, NULL, 100, 1);
    post(y, "+15551230002", alert);
    s.n = 0;
    CHECK(deliver(m, y, alert, &link_a, 1) == AGAH_EPERM);
    CHECK(s.n == 0);

    /* The admission, over another link, marked old news by its caller:
     * the listener gets that link and that freshness, then the released
     * alert, with no link and not fresh. */
    yl = ids_of(y);
    for (size_t i = 0; i < yl.n; i++) {
        uint8_t *buf;
        size_t len;
        struct agah_rec r;
        if (node_get(y, yl.v[i], &buf, &len) != 0)
            exit(2);
        if (!node_have(m, yl.v[i]) &&
            agah_rec_decode(buf, len, node_community(m), &r, NULL) == 0 &&
            r.type == AGAH_REC_ADMISSION) {
            memcpy(adm, yl.v[i], 32);
            have_adm++;
        }
        free(buf);
    }
    free(yl.v);
    CHECK(have_adm == 1);
    CHECK(deliver(m, y, adm, &link_b, 0) == 1);
    CHECK(s.n == 2);
    if (s.n == 2) {
        CHECK(memcmp(s.v[0].id, adm, 32) == 0 && s.v[0].type == AGAH_REC_ADMISSION);
        CHECK(s.v[0].link == &link_b && s.v[0].fresh == 0);
        CHECK(memcmp(s.v[1].id, alert, 32) == 0 && s.v[1].type == AGAH_REC_ALERT);
        CHECK(s.v[1].link == NULL && s.v[1].fresh == 0);
    }

    /* A duplicate is heard of by nobody. */
    s.n = 0;
    CHECK(deliver(m, y, alert, &link_a, 1) == 0);
    CHECK(s.n == 0);

    /* A fresh record from a link keeps both, and NULL means "as if signed
     * here". */
    post(a, "+15551230003", alert);
    CHECK(deliver(m, a, alert, &link_a, 1) == 1);
    CHECK(s.n == 1 && s.v[0].link == &link_a && s.v[0].fresh == 1);
    post(a, "+15551230004", alert);
    {
        uint8_t *buf;
        size_t len;
        struct agah_rec r;
        if (node_get(a, alert, &buf, &len) != 0)
            exit(2);
        CHECK(agah_rec_decode(buf, len, node_community(m), &r, NULL) == 0 &&
              node_ingest_decoded(m, &r, NULL, NULL) == 1);
        free(buf);
    }
    CHECK(s.n == 2 && s.v[1].link == NULL && s.v[1].fresh == 1);

    node_close(y);
    node_close(m);
    node_close(a);
}

int main(void)
{
    static const struct fixture_test tests[] = {
        {"sources", test_sources},
    };
    return fixture_run("test_node_src", tests, sizeof tests / sizeof tests[0]);
}

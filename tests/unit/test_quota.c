/* Per-author quotas (daemon/node/quota.c, node.c; PROTOCOL.md "Per-author
 * quotas"): the counts alone, the rule on one node, and a model over
 * random delivery orders: three nodes that each receive a random part of
 * one insider's posts in a random order, then exchange what they hold
 * until nothing changes, must all hold exactly the set the rule defines
 * (computed here by a separate reference walk), whatever the order. */
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
#include "node.h"
#include "quota.h"

#include "check.h"
#include "node_fixture.h"

#define DAY 86400ull

static void test_counts(void)
{
    struct quota q;
    const struct quota_limits lim = {.day_posts = {2, 1}, .posts = {4, 2}};
    uint8_t a[32], b[32];
    uint32_t posts, day;
    int over_day;

    memset(a, 1, sizeof a);
    memset(b, 2, sizeof b);
    quota_init(&q, &lim);
    CHECK(quota_class_of(319) == 0 && quota_class_of(1099) == 0 && quota_class_of(1100) == 1);
    CHECK(quota_add(&q, a, 10 * DAY + 5, 300) == 0);
    CHECK(quota_add(&q, a, 10 * DAY + 6, 300) == 0);
    CHECK(!quota_over(&q, a, 10 * DAY, 300, &over_day));
    CHECK(quota_add(&q, a, 10 * DAY + 7, 300) == 0);
    CHECK(quota_over(&q, a, 10 * DAY + 1, 300, &over_day) && over_day);
    CHECK(!quota_over(&q, a, 11 * DAY, 300, &over_day) && quota_over_any(&q, a));
    CHECK(!quota_over(&q, a, 10 * DAY, 2000, &over_day)); /* per class */
    CHECK(!quota_over(&q, b, 10 * DAY, 300, &over_day));  /* per author */
    quota_sub(&q, a, 10 * DAY + 7, 300);
    CHECK(!quota_over_any(&q, a));
    CHECK(quota_add(&q, a, 11 * DAY, 300) == 0 && quota_add(&q, a, 12 * DAY, 300) == 0);
    CHECK(!quota_over_any(&q, a));
    CHECK(quota_add(&q, a, 13 * DAY, 300) == 0); /* a fifth small post: total */
    CHECK(quota_over(&q, a, 14 * DAY, 300, &over_day) && !over_day);
    quota_get(&q, a, 300, 10 * DAY, &posts, &day);
    CHECK(posts == 5 && day == 2);
    CHECK(quota_add(&q, a, 13 * DAY, 5000) == 0 && quota_add(&q, a, 13 * DAY, 5000) == 0);
    CHECK(quota_over(&q, a, 13 * DAY, 5000, &over_day) && over_day);
    /* Days emptied leave the array. */
    quota_sub(&q, a, 11 * DAY, 300);
    quota_sub(&q, a, 12 * DAY, 300);
    CHECK(q.a[0].c[0].n_days == 2);
    quota_free(&q);
}

/* ------------------------------------------------------------------ */
/* A community: founder a, members b and c, and the insider m, whose
 * posts the nodes receive.                                            */

struct post {
    uint8_t *buf;
    size_t len;
    uint8_t id[32];
    uint64_t created;
};

struct world {
    struct node *n[3];
    struct agah_identity *m;
    struct agah_local *l; /* the founder's community file: epoch keys */
};

static const struct quota_limits small = {.day_posts = {4, 2}, .posts = {10, 4}};

static void world_open(struct world *w)
{
    char d[4][512], p[PATH_LEN];
    struct agah_identity *fa;
    struct node *mn;

    sub_dir("a", d[0]);
    fa = make_founder(d[0], "founder");
    w->n[0] = open_node(d[0]);
    sub_dir("b", d[1]);
    w->n[1] = invite_open(w->n[0], d[1], AGAH_ROLE_MEMBER, "b", NULL, NULL);
    sub_dir("c", d[2]);
    w->n[2] = invite_open(w->n[0], d[2], AGAH_ROLE_MEMBER, "c", NULL, NULL);
    sub_dir("m", d[3]);
    mn = invite_open(w->n[0], d[3], AGAH_ROLE_MEMBER, "m", &w->m, NULL);
    node_close(mn);
    comm_path(d[0], p);
    w->l = NULL;
    if (agah_local_read(p, fa, &w->l, NULL) != 0 || w->l->n_epochs == 0)
        exit(2);
    agah_identity_free(fa);
    /* Every node knows every admission before the posts arrive. */
    (void)copy_records(w->n[1], w->n[0], NULL, 100, 1);
    (void)copy_records(w->n[2], w->n[0], NULL, 100, 1);
    for (int i = 0; i < 3; i++)
        CHECK(node_set_quota_limits(w->n[i], &small) == 0);
}

static void world_close(struct world *w)
{
    for (int i = 0; i < 3; i++)
        node_close(w->n[i]);
    agah_identity_free(w->m);
    agah_local_free(w->l);
}

/* A CONFIRM by m of a random alert id at `created`, its note `note_len`
 * bytes (the padding buckets give records of a few sizes). */
static struct post make_post(const struct world *w, uint64_t created, size_t note_len)
{
    struct post p = {0};
    size_t e = w->l->n_epochs - 1;
    uint8_t alert[32];
    char note[1100];

    if (note_len >= sizeof note)
        note_len = sizeof note - 1;
    memset(note, 'n', note_len);
    note[note_len] = '\0';
    randombytes_buf(alert, sizeof alert);
    if (agah_rec_annotate(w->m, AGAH_REC_CONFIRM, w->l->community, alert, w->l->epochs[e].id,
                          w->l->epochs[e].key, note, created, &p.buf, &p.len) != 0)
        exit(2);
    agah_hash(p.buf, p.len, p.id);
    p.created = created;
    return p;
}

static int post_cmp(const void *pa, const void *pb)
{
    const struct post *a = pa, *b = pb;
    if (a->created != b->created)
        return a->created < b->created ? -1 : 1;
    return memcmp(a->id, b->id, 32);
}

/* The reference, from the rule's definition rather than quota.c's walk:
 * x is kept if fewer than the day limit of posts of its class and UTC day
 * come before it, and fewer than the total limit of posts of its class
 * that are day-kept (the sum over days of min(day limit, posts of that
 * day before x)). */
static void reference(struct post *p, size_t n, const struct quota_limits *lim, int *keep)
{
    qsort(p, n, sizeof *p, post_cmp);
    for (size_t i = 0; i < n; i++) {
        int k = quota_class_of(p[i].len);
        uint64_t d = p[i].created / DAY;
        uint32_t per_day[64] = {0}, same = 0, before = 0;
        for (size_t j = 0; j < i; j++) {
            uint64_t dj = p[j].created / DAY;
            if (quota_class_of(p[j].len) != k)
                continue;
            if (dj == d)
                same++;
            if (dj - T0 / DAY >= 64)
                exit(2);
            per_day[dj - T0 / DAY]++;
        }
        for (int e = 0; e < 64; e++)
            before += per_day[e] < lim->day_posts[k] ? per_day[e] : lim->day_posts[k];
        keep[i] = same < lim->day_posts[k] && before < lim->posts[k];
    }
}

/* The model's choices come from the seed (splitmix64), so a failing seed
 * can be run again; only the records' nonces and the alert ids they
 * confirm are random. */
static uint64_t rnd_state;

static uint32_t rnd(uint32_t bound) { return fixture_rnd(&rnd_state, bound); }

static void shuffle(size_t *v, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = rnd((uint32_t)i);
        size_t t = v[i - 1];
        v[i - 1] = v[j];
        v[j] = t;
    }
}

/* Exchanges everything until a round changes nothing, as reconciliation
 * would; the number of rounds. */
static int settle(struct world *w)
{
    for (int round = 1; round <= 20; round++) {
        size_t before = 0, after = 0;
        for (int i = 0; i < 3; i++)
            before += node_record_count(w->n[i]);
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++)
                if (i != j)
                    (void)copy_records(w->n[j], w->n[i], NULL, 100, 1);
        for (int i = 0; i < 3; i++)
            after += node_record_count(w->n[i]);
        if (after == before)
            return round;
    }
    return -1;
}

#define MODEL_POSTS 40

/* One seed: 40 posts spread over five days (a few backdated into a full
 * day), of four sizes, delivered in parts and in random orders. */
static int model_one(unsigned seed)
{
    struct world w;
    struct post p[MODEL_POSTS];
    int keep[MODEL_POSTS], sent[MODEL_POSTS] = {0}, bad = 0;
    size_t order[MODEL_POSTS], n_sent = 0;
    static const size_t sizes[4] = {8, 100, 600, 1000};

    rnd_state = seed;
    clk = T0 + 600;
    world_open(&w);
    for (size_t i = 0; i < MODEL_POSTS; i++) {
        uint64_t created = T0 + 600 + rnd(5) * DAY + rnd(3600);
        p[i] = make_post(&w, created, sizes[rnd(4)]);
    }
    clk = T0 + 6 * DAY;
    /* Each node gets a random two thirds of the posts, in its own order;
     * some of them, twice. */
    for (int k = 0; k < 3; k++) {
        for (size_t i = 0; i < MODEL_POSTS; i++)
            order[i] = i;
        shuffle(order, MODEL_POSTS);
        for (size_t i = 0; i < MODEL_POSTS * 2 / 3; i++) {
            (void)node_ingest(w.n[k], p[order[i]].buf, p[order[i]].len, NULL);
            sent[order[i]] = 1;
        }
        (void)node_flush(w.n[k]);
    }
    if (settle(&w) < 0)
        bad = 1;
    /* The rule's set of what reached some node (a post no node was sent
     * cannot be anywhere). */
    for (size_t i = 0; i < MODEL_POSTS; i++)
        if (sent[i]) {
            struct post t = p[n_sent];
            p[n_sent++] = p[i];
            p[i] = t;
        }
    reference(p, n_sent, &small, keep);
    for (int k = 0; k < 3; k++)
        for (size_t i = 0; i < n_sent; i++)
            if (node_have(w.n[k], p[i].id) != keep[i]) {
                fprintf(stderr, "seed %u: node %d %s a post of UTC day %llu, %zu bytes\n", seed,
                        k, keep[i] ? "lacks" : "holds",
                        (unsigned long long)(p[i].created / DAY - T0 / DAY), p[i].len);
                bad = 1;
            }
    for (size_t i = 0; i < MODEL_POSTS; i++)
        free(p[i].buf);
    world_close(&w);
    return bad;
}

static void test_model(void)
{
    const char *env = getenv("AGAH_QUOTA_SEEDS");
    unsigned seeds = env != NULL ? (unsigned)strtoul(env, NULL, 10) : 30;
    unsigned bad = 0;

    for (unsigned s = 0; s < seeds; s++) {
        /* Each seed in a directory of its own under the test's. */
        char keep_base[sizeof base_dir];
        memcpy(keep_base, base_dir, sizeof keep_base);
        if (snprintf(base_dir, sizeof base_dir, "%.200s/s%u", keep_base, s) >= (int)sizeof base_dir ||
            mkdir(base_dir, 0700) != 0)
            exit(2);
        bad += (unsigned)model_one(s);
        memcpy(base_dir, keep_base, sizeof keep_base);
    }
    CHECKF(bad == 0, "%u of %u seeds do not converge on the rule's set\n", bad, seeds);
}

/* The rule on one node, step by step, and the refusal of this node's own
 * post past its quota. */
static void test_rule(void)
{
    struct world w;
    struct post p[6];
    struct agah_alert_body body;
    struct agah_why why = {{0}};
    uint8_t id[32];

    clk = T0 + 600;
    world_open(&w);
    clk = T0 + 3 * DAY;
    /* Day 1: four posts fill it; a fifth, later, is refused. */
    for (int i = 0; i < 5; i++)
        p[i] = make_post(&w, T0 + DAY + 100 + (uint64_t)i, 8);
    for (int i = 0; i < 4; i++)
        CHECK(node_ingest(w.n[0], p[i].buf, p[i].len, NULL) == 1);
    CHECK(node_ingest(w.n[0], p[4].buf, p[4].len, &why) == AGAH_EQUOTA);
    CHECK(strstr(why.msg, "quota") != NULL);
    CHECK(!node_have(w.n[0], p[4].id));
    /* A post of day 2 is taken. */
    p[5] = make_post(&w, T0 + 2 * DAY, 8);
    CHECK(node_ingest(w.n[0], p[5].buf, p[5].len, NULL) == 1);
    /* One backdated into day 1, before the others: it stays, and the
     * latest of day 1 goes; day 2 is not touched. */
    struct post early = make_post(&w, T0 + DAY + 1, 8);
    uint64_t dropped = node_quota_dropped(w.n[0]);
    CHECK(node_ingest(w.n[0], early.buf, early.len, NULL) == 1);
    CHECK(node_have(w.n[0], early.id) && node_have(w.n[0], p[0].id) && node_have(w.n[0], p[2].id));
    CHECK(!node_have(w.n[0], p[3].id) && node_have(w.n[0], p[5].id));
    CHECK(node_quota_dropped(w.n[0]) - dropped == 1);
    /* A large post counts apart from the small ones. */
    struct post large = make_post(&w, T0 + DAY + 200, 1000);
    CHECK(node_ingest(w.n[0], large.buf, large.len, NULL) == 1);
    /* A dropped post is not tombstoned: it is only refused again while it
     * is past the cut. */
    CHECK(node_ingest(w.n[0], p[3].buf, p[3].len, NULL) == AGAH_EQUOTA);

    /* The founder's own posts: four a day, then a clear refusal. */
    memset(&body, 0, sizeof body);
    body.kind = AGAH_KIND_ALERT;
    (void)snprintf(body.note, sizeof body.note, "a meeting is watched");
    body.category = AGAH_CAT_OTHER;
    body.severity = AGAH_SEV_WARNING;
    for (int i = 0; i < 4; i++) {
        clk++;
        CHECK(node_post(w.n[0], &body, 0, id, NULL) == 0);
    }
    clk++;
    memset(&why, 0, sizeof why);
    CHECK(node_post(w.n[0], &body, 0, id, &why) == AGAH_EQUOTA);
    CHECK(strstr(why.msg, "quota") != NULL);
    for (int i = 0; i < 6; i++)
        free(p[i].buf);
    free(early.buf);
    free(large.buf);
    world_close(&w);
}

/* A store that holds more than the limits (written before the quotas, or
 * under larger ones) is cut to the rule's prefix: at open, and here when
 * the limits shrink. */
static void test_trim_at_open(void)
{
    struct world w;
    const struct quota_limits big = {.day_posts = {100, 100}, .posts = {100, 100}};
    struct post p[10];

    clk = T0 + 600;
    world_open(&w);
    CHECK(node_set_quota_limits(w.n[1], &big) == 0);
    clk = T0 + 3 * DAY;
    for (int i = 0; i < 10; i++) {
        p[i] = make_post(&w, T0 + DAY + (uint64_t)i, 8);
        CHECK(node_ingest(w.n[1], p[i].buf, p[i].len, NULL) == 1);
    }
    (void)node_flush(w.n[1]);
    CHECK(node_set_quota_limits(w.n[1], &small) == 0);
    for (int i = 0; i < 10; i++)
        CHECK(node_have(w.n[1], p[i].id) == (i < 4));
    for (int i = 0; i < 10; i++)
        free(p[i].buf);
    world_close(&w);
}

int main(void)
{
    static const struct fixture_test tests[] = {
        {"counts", test_counts},
        {"rule", test_rule},
        {"trim_at_open", test_trim_at_open},
        {"model", test_model},
    };
    return fixture_run("test_quota", tests, sizeof tests / sizeof tests[0]);
}

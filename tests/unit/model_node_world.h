/* The world of test_model_node.c: a community of real nodes (daemon/node/)
 * with small quotas, what each one stored, every post made, and the
 * moves of its script (found, post, confirm, retract, forge, gossip,
 * settle). Included once, by test_model_node.c, after node_fixture.h. */
#ifndef AGAH_TEST_MODEL_NODE_WORLD_H
#define AGAH_TEST_MODEL_NODE_WORLD_H

#define DAY 86400ull
#define MAXN 12
#define MAXP 1024
#define LOG_MAX 32
#define N_TARGETS 5

/* Small quotas, so that a few dozen posts reach the cut. */
static const struct quota_limits small_q = {.day_posts = {4, 2}, .posts = {10, 4}};

enum { K_FOUNDER, K_ORG, K_MEMBER, K_RELAY, K_PUPPET };

/* A record a node stored: what its listener saw. */
struct logged {
    uint8_t id[32];
    int type;
    uint64_t created;
    uint8_t member[32]; /* REVOCATION: whom it revokes */
};

struct mnode {
    struct node *n;
    struct agah_identity *id;
    char dir[512];
    int kind;
    int offline; /* receives and sends nothing */
    struct logged log[LOG_MAX]; /* stored since the script last cleared it */
    size_t n_log;
};

/* Every post made, by whoever signed it. */
struct mpost {
    uint8_t id[32];
    size_t author; /* index in nd[] */
    uint64_t created;
    size_t len;
    int type;
};

static struct mnode nd[MAXN];
static size_t n_nd;
static struct mpost posts[MAXP];
static size_t n_posts;
static uint64_t rng;
static unsigned long long cur_seed;

static uint32_t rnd(uint32_t bound) { return fixture_rnd(&rng, bound); }

static const uint8_t *pk_of(size_t i) { return agah_identity_pk(nd[i].id); }

static void on_stored(void *ctx, const struct agah_rec *r, const struct node_src *src)
{
    struct mnode *m = ctx;
    struct logged *l;
    (void)src;
    if (m->n_log >= LOG_MAX)
        return;
    l = &m->log[m->n_log++];
    memcpy(l->id, r->id, 32);
    l->type = r->type;
    l->created = r->created;
    if (r->type == AGAH_REC_REVOCATION)
        memcpy(l->member, r->u.revocation.member, 32);
    else
        memset(l->member, 0, 32);
}

/* The record of `type` node i stored last since its log was cleared. */
static const struct logged *logged_last(size_t i, int type)
{
    for (size_t k = nd[i].n_log; k > 0; k--)
        if (nd[i].log[k - 1].type == type)
            return &nd[i].log[k - 1];
    return NULL;
}

static void setup_node(size_t i)
{
    CHECK(node_set_quota_limits(nd[i].n, &small_q) == 0);
    CHECK(node_listen(nd[i].n, on_stored, &nd[i]) == 0);
}

/* A new node of `kind`, admitted by node `by` (unused for the founder). */
static size_t add_node(int kind, size_t by)
{
    size_t i = n_nd++;
    char name[16];
    static const int role[] = {AGAH_ROLE_ORGANISER, AGAH_ROLE_ORGANISER, AGAH_ROLE_MEMBER,
                               AGAH_ROLE_RELAY, AGAH_ROLE_MEMBER};
    if (i >= MAXN)
        exit(2);
    memset(&nd[i], 0, sizeof nd[i]);
    nd[i].kind = kind;
    (void)snprintf(name, sizeof name, "n%zu", i);
    sub_dir(name, nd[i].dir);
    if (kind == K_FOUNDER) {
        nd[i].id = make_founder(nd[i].dir, "founder");
        nd[i].n = open_node(nd[i].dir);
    } else {
        nd[i].n = invite_open(nd[by].n, nd[i].dir, role[kind], name, &nd[i].id, NULL);
        /* Its node links with its inviter's, which makes the admission
         * permanent, and catches up from it. */
        CHECK(node_peer_joined(nd[by].n, pk_of(i)) >= 0);
        (void)copy_records(nd[i].n, nd[by].n, NULL, 100, 2);
    }
    setup_node(i);
    return i;
}

/* The start of the d-th UTC day after T0's, which the quotas count in. */
static uint64_t utc_day(int d) { return (T0 / DAY + (uint64_t)d) * DAY; }

static int online(size_t i) { return nd[i].n != NULL && !nd[i].offline; }

static void tick_all(void)
{
    clk += 3; /* past the 2 s a rekey waits after a membership record */
    for (size_t i = 0; i < n_nd; i++)
        if (online(i))
            (void)node_tick(nd[i].n);
}

/* Registers a post by node `author` that reached some node: the rule's
 * set for an author is computed over every post it registered. */
static void reg_post(size_t author, const uint8_t *buf, size_t len)
{
    struct agah_rec r;
    struct mpost *p;
    if (n_posts >= MAXP || agah_rec_decode_stored(buf, len, NULL, &r, NULL) != 0)
        exit(2);
    p = &posts[n_posts++];
    memcpy(p->id, r.id, 32);
    p->author = author;
    p->created = r.created;
    p->len = len;
    p->type = r.type;
}

/* Registers the post `id` that node `author` just signed and stored. */
static void reg_stored(size_t author, const uint8_t id[32])
{
    uint8_t *buf;
    size_t len;
    if (node_get(nd[author].n, id, &buf, &len) != 0)
        exit(2);
    reg_post(author, buf, len);
    free(buf);
}

static const char *target_of(unsigned k)
{
    static char t[N_TARGETS][24];
    (void)snprintf(t[k], sizeof t[k], "+8525123456%u", k);
    return t[k];
}

static void make_body(struct agah_alert_body *b, int large)
{
    memset(b, 0, sizeof *b);
    b->kind = AGAH_KIND_NUMBER;
    (void)snprintf(b->target, sizeof b->target, "%s", target_of(rnd(N_TARGETS)));
    b->category = AGAH_CAT_HARASSMENT;
    b->severity = AGAH_SEV_WARNING;
    /* Past ~900 bytes of note the padding makes the record large. */
    memset(b->note, 'n', large ? 1000 : 1 + rnd(100));
}

/* `agah post` on node a: 0, or why its node refused (quota, no key). */
static int act_alert(size_t a, int large)
{
    struct agah_alert_body b;
    uint8_t id[32];
    int r;
    make_body(&b, large);
    nd[a].n_log = 0;
    if ((r = node_post(nd[a].n, &b, 0, id, NULL)) == 0)
        reg_stored(a, id);
    return r;
}

/* A random alert node a holds (SIZE_MAX: none), not its own unless
 * `own`, only its own if `own` is 2. */
static size_t pick_alert(size_t a, int own)
{
    size_t c[MAXP], n = 0;
    for (size_t i = 0; i < n_posts; i++)
        if (posts[i].type == AGAH_REC_ALERT && node_have(nd[a].n, posts[i].id) &&
            (own == 1 || (own == 2) == (posts[i].author == a)))
            c[n++] = i;
    return n == 0 ? SIZE_MAX : c[rnd((uint32_t)n)];
}

static void act_confirm(size_t a)
{
    size_t p = pick_alert(a, 0);
    const struct logged *l;
    nd[a].n_log = 0;
    if (p != SIZE_MAX && node_confirm(nd[a].n, posts[p].id, "seen it", NULL, NULL) == 0 &&
        (l = logged_last(a, AGAH_REC_CONFIRM)) != NULL)
        reg_stored(a, l->id);
}

static void act_retract(size_t a)
{
    size_t p = pick_alert(a, nd[a].kind == K_MEMBER ? 2 : 1);
    const struct logged *l;
    nd[a].n_log = 0;
    if (p != SIZE_MAX && node_retract(nd[a].n, posts[p].id, "resolved", NULL) == 0 &&
        (l = logged_last(a, AGAH_REC_RETRACT)) != NULL)
        reg_stored(a, l->id);
}

/* A modified client: a's key signs a post its node would refuse, dated
 * earlier today, and hands it to a random node that knows a. It is signed
 * the way a's node signs (under the epoch it would post under: an
 * insider's client that chose an older epoch would hide its alert from the
 * newest members, which no rule forbids and this model does not test), by
 * lifting that node's quota for the one post; restoring it cuts a's own
 * store back to the rule. Every such post reached a node, so the rule's
 * set is computed over all of them. */
static void act_forge(size_t a)
{
    static const struct quota_limits lifted = {.day_posts = {1000000, 1000000},
                                               .posts = {1000000, 1000000}};
    struct agah_alert_body b;
    uint8_t id[32], *buf;
    size_t len, to = rnd((uint32_t)n_nd);
    uint64_t now = clk, day0 = clk / DAY * DAY;
    int role, r;

    if (!online(to) || node_member_status(nd[to].n, pk_of(a), &role) != 0)
        to = a;
    make_body(&b, rnd(4) == 0);
    CHECK(node_set_quota_limits(nd[a].n, &lifted) == 0);
    clk = day0 + rnd((uint32_t)(now - day0 + 1));
    r = node_post(nd[a].n, &b, 0, id, NULL);
    clk = now;
    if (r == 0) {
        if (node_get(nd[a].n, id, &buf, &len) != 0)
            exit(2);
        reg_post(a, buf, len);
        if (to != a) {
            (void)node_ingest(nd[to].n, buf, len, NULL);
            (void)node_flush(nd[to].n);
        }
        free(buf);
    }
    CHECK(node_set_quota_limits(nd[a].n, &small_q) == 0);
}

/* One honest author's random act. */
static void act(size_t a)
{
    switch (rnd(8)) {
    case 0: case 1: case 2:
        (void)act_alert(a, rnd(5) == 0);
        break;
    case 3: case 4:
        act_confirm(a);
        break;
    case 5:
        act_retract(a);
        break;
    default:
        act_forge(a);
        break;
    }
}

/* Random pairs of online nodes exchange a random part of what they hold. */
static void gossip(void)
{
    for (size_t k = 0; k < n_nd; k++) {
        size_t i = rnd((uint32_t)n_nd), j = rnd((uint32_t)n_nd);
        if (i != j && online(i) && online(j))
            (void)copy_records(nd[i].n, nd[j].n, &rng, 20 + rnd(81), 1);
    }
    tick_all();
}

/* Everything every online node holds, in one hash. */
static void fingerprint(uint8_t out[32])
{
    crypto_generichash_state st;
    (void)crypto_generichash_init(&st, NULL, 0, 32);
    for (size_t i = 0; i < n_nd; i++) {
        struct idlist l = ids_of(nd[i].n);
        (void)crypto_generichash_update(&st, (const uint8_t *)l.v, l.n * 32);
        (void)crypto_generichash_update(&st, (const uint8_t *)"|", 1);
        free(l.v);
    }
    (void)crypto_generichash_final(&st, out, 32);
}

/* Every online pair exchanges everything, in a random order of pairs and
 * records, until a round changes nothing. The number of rounds, -1 if it
 * does not settle. */
static int settle(void)
{
    size_t pairs[MAXN * MAXN], n_pairs = 0;
    uint8_t before[32], after[32];

    for (size_t i = 0; i < n_nd; i++)
        for (size_t j = 0; j < n_nd; j++)
            if (i != j && online(i) && online(j))
                pairs[n_pairs++] = i * MAXN + j;
    fingerprint(before);
    for (int round = 1; round <= 30; round++) {
        for (size_t k = n_pairs; k > 1; k--) {
            size_t j = rnd((uint32_t)k), t = pairs[k - 1];
            pairs[k - 1] = pairs[j];
            pairs[j] = t;
        }
        for (size_t k = 0; k < n_pairs; k++)
            (void)copy_records(nd[pairs[k] / MAXN].n, nd[pairs[k] % MAXN].n, &rng, 100, 2);
        tick_all();
        fingerprint(after);
        if (memcmp(before, after, 32) == 0)
            return round;
        memcpy(before, after, 32);
    }
    return -1;
}

#endif

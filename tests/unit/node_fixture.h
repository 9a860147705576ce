/* Fixtures shared by the unit tests that drive daemon/node/ directly
 * (test_node.c, test_admit.c, test_quota.c, test_annot.c,
 * test_model_node.c): an injected clock, a private directory per test, data
 * directories made as `agah init`, `community create` and `agah join` would
 * make them, nodes opened on them, and records carried between them as
 * reconciliation would (all, or a seeded random part in a seeded order).
 * Included once by each test program, after check.h. */
#ifndef AGAH_TEST_NODE_FIXTURE_H
#define AGAH_TEST_NODE_FIXTURE_H

#define T0 1700000000ull
static uint64_t clk = T0;
static uint64_t test_clock(void) { return clk; }

/* ------------------------------------------------------------------ */
/* Directories                                                         */

static char base_dir[256];

static int rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb; (void)flag; (void)ftw;
    return remove(path);
}

/* A fresh directory under this test's temp dir. */
static void sub_dir(const char *name, char out[512])
{
    (void)snprintf(out, 512, "%s/%s", base_dir, name);
    if (mkdir(out, 0700) != 0) {
        perror(out);
        exit(2);
    }
}

#define PATH_LEN 640
static void key_path(const char *dir, char out[PATH_LEN]) { (void)snprintf(out, PATH_LEN, "%s/identity.key", dir); }
static void comm_path(const char *dir, char out[PATH_LEN]) { (void)snprintf(out, PATH_LEN, "%s/community", dir); }

/* A founder's data directory, as `agah init` + `community create` make it. */
static struct agah_identity *make_founder(const char *dir, const char *name)
{
    struct agah_identity *id = NULL;
    struct agah_local *l = NULL;
    char p[PATH_LEN];

    if (agah_identity_generate(&id) != 0)
        exit(2);
    key_path(dir, p);
    if (agah_keyfile_write(p, id, NULL, 0) != 0 ||
        agah_local_found(id, name, "founder", clk, &l) != 0)
        exit(2);
    comm_path(dir, p);
    if (agah_local_write(p, id, l) != 0)
        exit(2);
    agah_local_free(l);
    return id;
}

/* An identity alone, as `agah init` makes it. */
static struct agah_identity *make_identity(const char *dir)
{
    struct agah_identity *id = NULL;
    char p[PATH_LEN];
    key_path(dir, p);
    if (agah_identity_generate(&id) != 0 || agah_keyfile_write(p, id, NULL, 0) != 0)
        exit(2);
    return id;
}

/* `agah join CODE`: the community file from a join code. Returns the
 * number of epoch keys it carried. */
static size_t do_join(const char *dir, const struct agah_identity *id, const char *code)
{
    struct agah_join *j = NULL;
    struct agah_local *l = agah_local_new();
    struct agah_rec adm;
    struct agah_why why = {{0}};
    size_t ne;
    char p[PATH_LEN];

    if (l == NULL || agah_join_decode(code, id, clk, &j, &why) != 0) {
        fprintf(stderr, "join: %s\n", why.msg);
        exit(2);
    }
    if (agah_rec_decode(j->admission, j->admission_len, j->community, &adm, NULL) != 0)
        exit(2);
    memcpy(l->community, j->community, 32);
    memcpy(l->network_secret, j->network_secret, 32);
    (void)snprintf(l->name, sizeof l->name, "%s", j->community_name);
    l->role = adm.u.admission.role;
    for (size_t i = 0; i < j->n_epochs; i++) {
        memcpy(l->epochs[i].id, j->epochs[i].id, 32);
        memcpy(l->epochs[i].key, j->epochs[i].key, 32);
    }
    l->n_epochs = j->n_epochs;
    for (size_t i = 0; i < j->n_peers; i++)
        (void)snprintf(l->peers[i], AGAH_ADDR_MAX, "%s", j->peers[i]);
    l->n_peers = j->n_peers;
    comm_path(dir, p);
    if (agah_local_add_record(l, j->genesis, j->genesis_len) != 0 ||
        agah_local_add_record(l, j->admission, j->admission_len) != 0 ||
        agah_local_write(p, id, l) != 0)
        exit(2);
    ne = j->n_epochs;
    agah_join_free(j);
    agah_local_free(l);
    return ne;
}

static struct node *open_node(const char *dir)
{
    struct node *n = NULL;
    struct agah_why why = {{0}};
    int r = node_open(dir, NULL, 0, test_clock, &n, &why);
    if (r != 0) {
        fprintf(stderr, "node_open %s: %s (%s)\n", dir, agah_strerror(r), why.msg);
        exit(2);
    }
    return n;
}

/* Admits a new identity in `dir` through organiser node `org`, joins,
 * and opens its node. */
static struct node *invite_open(struct node *org, const char *dir, int role, const char *name,
                                struct agah_identity **idp, size_t *n_epochs)
{
    struct agah_identity *id = make_identity(dir);
    char *code = NULL;
    struct agah_why why = {{0}};
    size_t ne;
    int r = node_invite(org, agah_identity_pk(id), role, name, NULL, &code, NULL, &why);
    if (r != 0) {
        fprintf(stderr, "invite: %s (%s)\n", agah_strerror(r), why.msg);
        exit(2);
    }
    ne = do_join(dir, id, code);
    free(code);
    if (n_epochs != NULL)
        *n_epochs = ne;
    if (idp != NULL)
        *idp = id;
    else
        agah_identity_free(id);
    return open_node(dir);
}

/* ------------------------------------------------------------------ */
/* Carrying records                                                    */


/* Every id a node holds, in the store's order. */
struct idlist {
    uint8_t (*v)[32];
    size_t n, cap;
};

static void idlist_cb(void *ctx, uint64_t created, const uint8_t id[32])
{
    struct idlist *l = ctx;
    (void)created;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->v = realloc(l->v, l->cap * 32);
        if (l->v == NULL)
            exit(2);
    }
    memcpy(l->v[l->n++], id, 32);
}

static struct idlist ids_of(struct node *n)
{
    struct idlist l = {0};
    if (node_foreach(n, idlist_cb, &l) != 0)
        exit(2);
    return l;
}

/* A seeded choice (splitmix64), so that a model test's failing seed can
 * be run again: a value below `bound` (> 0) from the state *s. */
static inline uint32_t fixture_rnd(uint64_t *s, uint32_t bound)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return (uint32_t)(z % bound);
}

/* Carries records of `from` into `to` as reconciliation would, then
 * commits them. With rng NULL: every record, in the store's order. Else in
 * an order shuffled from *rng, each record with probability pct/100 (a
 * random part of what `from` holds). `passes` (1 or 2) walks the list
 * again, as reconciliation brings back a record refused because it came
 * before its author's admission. How many `to` stored. */
static inline size_t copy_records(struct node *to, struct node *from, uint64_t *rng, unsigned pct,
                                  int passes)
{
    struct idlist l = ids_of(from);
    size_t stored = 0;

    if (rng != NULL) {
        size_t kept = 0;
        for (size_t i = l.n; i > 1; i--) {
            size_t j = fixture_rnd(rng, (uint32_t)i);
            uint8_t t[32];
            memcpy(t, l.v[i - 1], 32);
            memcpy(l.v[i - 1], l.v[j], 32);
            memcpy(l.v[j], t, 32);
        }
        for (size_t i = 0; i < l.n; i++)
            if (fixture_rnd(rng, 100) < pct)
                memmove(l.v[kept++], l.v[i], 32);
        l.n = kept;
    }
    for (int pass = 0; pass < passes; pass++)
        for (size_t i = 0; i < l.n; i++) {
            uint8_t *buf;
            size_t len;
            if (node_get(from, l.v[i], &buf, &len) != 0)
                exit(2);
            stored += node_ingest(to, buf, len, NULL) == 1;
            free(buf);
        }
    if (node_flush(to) != 0)
        exit(2);
    free(l.v);
    return stored;
}

/* Removes a directory and everything under it (a model seed's nodes). */
static inline void remove_tree(const char *dir)
{
    (void)nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

/* ------------------------------------------------------------------ */
/* Running                                                             */

struct fixture_test {
    const char *name;
    void (*fn)(void);
};

/* Runs each test in its own mkdtemp directory with the clock at T0
 * (inline: test_admit does not use it),
 * removes the directory of a test that passed and names the one kept for
 * a test that failed; prints the totals. The exit status for main. */
static inline int fixture_run(const char *prog, const struct fixture_test *tests, size_t n)
{
    if (agah_init() != 0)
        return 2;
    for (size_t i = 0; i < n; i++) {
        int before = failed;
        (void)snprintf(base_dir, sizeof base_dir, "/tmp/agah-%s-XXXXXX", prog);
        if (mkdtemp(base_dir) == NULL) {
            perror("mkdtemp");
            return 2;
        }
        clk = T0;
        tests[i].fn();
        if (failed == before)
            remove_tree(base_dir);
        else
            fprintf(stderr, "%s: %s failed; files kept in %s\n", prog, tests[i].name, base_dir);
    }
    printf("%s: %d passed, %d failed\n", prog, passed, failed);
    return failed == 0 ? 0 : 1;
}

#endif

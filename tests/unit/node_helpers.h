/* Helpers of the test_node*.c programs, on top of node_fixture.h: records
 * carried between nodes by hand (a bag of raw records, sync_into), alerts
 * posted and looked up, and whether two nodes hold the same ids. Static
 * inline, so a program that uses only some of them builds without
 * warnings. Included after check.h and node_fixture.h. */
#ifndef AGAH_TEST_NODE_HELPERS_H
#define AGAH_TEST_NODE_HELPERS_H

/* A bag of raw records. */
struct bag {
    uint8_t *buf[512];
    size_t len[512];
    size_t n;
};

static inline void bag_add(struct bag *b, const uint8_t *buf, size_t len)
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

static inline void bag_from(struct bag *b, struct node *n)
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

static inline void bag_free(struct bag *b)
{
    for (size_t i = 0; i < b->n; i++)
        free(b->buf[i]);
    b->n = 0;
}

/* Feeds every record of `from` to `to`; returns how many were stored. */
static inline int sync_into(struct node *to, struct node *from)
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

static inline void body_number(struct agah_alert_body *b, const char *target, const char *note)
{
    memset(b, 0, sizeof *b);
    b->kind = AGAH_KIND_NUMBER;
    (void)snprintf(b->target, sizeof b->target, "%s", target);
    (void)snprintf(b->note, sizeof b->note, "%s", note);
    b->category = AGAH_CAT_HARASSMENT;
    b->severity = AGAH_SEV_WARNING;
}

static inline int post(struct node *n, const char *target, const char *note, uint8_t id[32])
{
    struct agah_alert_body b;
    struct agah_why why = {{0}};
    body_number(&b, target, note);
    int r = node_post(n, &b, clk + 86400 * 30, id, &why);
    if (r != 0)
        fprintf(stderr, "post: %s (%s)\n", agah_strerror(r), why.msg);
    return r;
}

static inline size_t count_check(struct node *n, const char *target)
{
    struct node_alert *v = NULL;
    size_t cnt = 0;
    if (node_check(n, target, &v, &cnt) != 0)
        return (size_t)-1;
    free(v);
    return cnt;
}

static inline int readable(struct node *n, const uint8_t id[32])
{
    struct node_alert a;
    return node_alert_get(n, id, &a) == 0;
}

static inline int same_ids(struct node *x, struct node *y)
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

#endif

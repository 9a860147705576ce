/* bench_check: how fast the daemon answers `check` from memory.
 *
 *   bench_check DIR N [SECONDS [index]]
 *
 * Founds a community in DIR, signs N alerts (targets bu_target(0..N-1)) on
 * every core and ingests them through node_ingest, the path records from
 * peers take (signature, decryption, store, index). Then times, over random
 * targets, half flagged and half not, with every answer checked:
 * 1. node_check_page, the function agahd's control socket answers `check`
 *    with, as the human `agah check` asks: without notes, from memory
 *    alone (index lookup, then a node_alert filled for each hit):
 *    check_lookups_per_s, the "is this number flagged?" answer; then with
 *    each hit's note read from the store, as `check --json` asks:
 *    check_notes_*.
 * 2. The alert index alone (daemon/node/alerts.c, what node_check walks), a
 *    second copy filled with alerts_add: how much of (1) is the lookup.
 * With `index`, only (2): it needs no signing, so changes to the index can
 * be compared back to back in seconds rather than the minutes (1) takes. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <time.h>
#include <unistd.h>
#include "alerts.h"
#include "bench_gen.h"
#include "bench_util.h"

#define QUERIES 65536 /* distinct query strings, cycled */
#define BATCH 65536   /* alerts signed, then ingested, at a time */

struct queries {
    char (*q)[AGAH_TARGET_MAX];
    int *flagged;
};

static void make_queries(struct queries *qs, size_t present_n)
{
    if ((qs->q = malloc(QUERIES * sizeof *qs->q)) == NULL ||
        (qs->flagged = malloc(QUERIES * sizeof *qs->flagged)) == NULL)
        bu_die("out of memory");
    for (size_t i = 0; i < QUERIES; i++) {
        qs->flagged[i] = (int)randombytes_uniform(2);
        bu_target(qs->flagged[i] ? randombytes_uniform((uint32_t)present_n)
                                 : randombytes_uniform(10000000),
                  !qs->flagged[i], qs->q[i]);
    }
}

/* The rate of the last timing per second of this thread's CPU time: on a
 * machine shared with other work the wall-clock rate falls with the load,
 * this one much less, so before/after comparisons stay meaningful. */
static double cpu_rate;

static double cpu_now(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
        bu_die("clock_gettime failed");
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long rss_kb(void)
{
    char line[256];
    long kb = -1;
    FILE *f = fopen("/proc/self/status", "r");
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof line, f) != NULL)
        if (strncmp(line, "VmRSS:", 6) == 0)
            kb = strtol(line + 6, NULL, 10);
    fclose(f);
    return kb;
}

/* which: 0 absent only, 1 flagged only, 2 both. Lookups per second. */
static double time_index(const struct alerts *al, const struct queries *qs, int which,
                         double seconds)
{
    unsigned long long done = 0;
    double t0 = bu_mono(), c0 = cpu_now(), t;

    do {
        for (size_t i = 0; i < QUERIES; i++) {
            size_t hits = 0;
            if (which != 2 && qs->flagged[i] != which)
                continue;
            for (const struct alert_ent *a = alerts_first(al, qs->q[i]); a != NULL;
                 a = alerts_next(al, a))
                hits++;
            if ((hits > 0) != (qs->flagged[i] != 0))
                bu_die("index lookup of %s: %zu hits", qs->q[i], hits);
            done++;
        }
        t = bu_mono();
    } while (t - t0 < seconds);
    cpu_rate = (double)done / (cpu_now() - c0);
    return (double)done / (t - t0);
}

static double time_node(struct node *n, const struct queries *qs, int which, int notes,
                        double seconds)
{
    unsigned long long done = 0;
    double t0 = bu_mono(), c0 = cpu_now(), t;

    do {
        for (size_t i = 0; i < QUERIES; i++) {
            struct node_alert *out = NULL;
            size_t cnt = 0;

            if (which != 2 && qs->flagged[i] != which)
                continue;
            int more;
            if (node_check_page(n, qs->q[i], NULL, SIZE_MAX, notes, &out, &cnt, &more, NULL) != 0)
                bu_die("node_check failed");
            if ((cnt > 0) != (qs->flagged[i] != 0))
                bu_die("node_check(%s): %zu alerts", qs->q[i], cnt);
            free(out);
            done++;
        }
        t = bu_mono();
    } while (t - t0 < seconds);
    cpu_rate = (double)done / (cpu_now() - c0);
    return (double)done / (t - t0);
}

/* Ingests alerts 0..total-1, signed by the founder of the node's
 * community, in batches signed on every core. Returns seconds spent in
 * node_ingest and node_flush. */
static double fill_node(struct node *n, const struct bu_author *a, size_t total)
{
    long threads = sysconf(_SC_NPROCESSORS_ONLN);
    uint64_t created0 = bu_now() - total / 100 - 1;
    double ingest_s = 0, t0;
    size_t stored = 0;

    for (size_t first = 0; first < total; first += BATCH) {
        struct bu_recs r;
        size_t cnt = total - first < BATCH ? total - first : BATCH;

        bu_gen(a, first, cnt, created0 + first / 100, 100, (int)(threads > 0 ? threads : 1), &r);
        t0 = bu_mono();
        for (size_t i = 0; i < r.n; i++)
            stored += (size_t)bu_ingest(n, r.buf[i], r.len[i]);
        if (node_flush(n) != 0)
            bu_die("node_flush failed");
        ingest_s += bu_mono() - t0;
        bu_recs_free(&r);
    }
    if (stored != total || node_active_alerts(n) != total)
        bu_die("stored %zu of %zu alerts, %zu active", stored, total, node_active_alerts(n));
    return ingest_s;
}

int main(int argc, char **argv)
{
    struct alerts al;
    struct agah_alert_body *body;
    struct bu_author a;
    struct agah_identity *fid;
    struct queries qs;
    struct node *n;
    size_t total;
    double seconds, t0, ingest_s;
    long rss0;
    uint8_t id[32], author[32];
    int index_only = argc == 5 && strcmp(argv[4], "index") == 0;

    if (argc < 3 || argc > 5 || (argc == 5 && !index_only))
        bu_die("usage: bench_check DIR N [SECONDS [index]]");
    total = strtoul(argv[2], NULL, 10);
    seconds = argc > 3 ? atof(argv[3]) : 2.0;
    if (agah_init() != 0 || total == 0 || total > 10000000 || seconds <= 0)
        bu_die("bad arguments");
    if (index_only) {
        make_queries(&qs, total);
        goto index;
    }

    /* 1. node_check on a node holding N alerts. */
    fid = bu_make_founder(argv[1], "bench");
    agah_identity_free(fid);
    bu_author_load(argv[1], &a);
    n = bu_open(argv[1]);
    t0 = bu_mono();
    ingest_s = fill_node(n, &a, total);
    printf("node_alerts %zu build_seconds %.1f ingest_inproc_per_s %.0f node_rss_mb %.1f\n",
           total, bu_mono() - t0, (double)total / ingest_s, (double)rss_kb() / 1024.0);
    make_queries(&qs, total);
    (void)time_node(n, &qs, 2, 1, 0.001); /* warm the caches, as a running daemon's are */
    /* The human `agah check` asks without notes: memory only. */
    printf("check_present_per_s %.0f\n", time_node(n, &qs, 1, 0, seconds / 2));
    printf("check_absent_per_s %.0f\n", time_node(n, &qs, 0, 0, seconds / 2));
    printf("check_lookups_per_s %.0f\n", time_node(n, &qs, 2, 0, seconds));
    printf("check_lookups_per_cpu_s %.0f\n", cpu_rate);
    /* `check --json` shows each hit's note, read from the store. */
    printf("check_notes_present_per_s %.0f\n", time_node(n, &qs, 1, 1, seconds / 2));
    printf("check_notes_lookups_per_s %.0f\n", time_node(n, &qs, 2, 1, seconds));
    node_close(n);
    bu_author_free(&a);

index:
    /* 2. The index alone, filled the same way. */
    if ((body = calloc(1, sizeof *body)) == NULL)
        bu_die("out of memory");
    body->kind = AGAH_KIND_NUMBER;
    body->category = AGAH_CAT_SCAM;
    body->severity = AGAH_SEV_WARNING;
    bu_note(body->note);
    randombytes_buf(author, sizeof author);
    rss0 = rss_kb();
    alerts_init(&al);
    for (size_t i = 0; i < total; i++) {
        randombytes_buf(id, sizeof id);
        bu_target(i, 0, body->target);
        if (alerts_add(&al, id, author, bu_now(), 0, body) != 1)
            bu_die("alerts_add failed at %zu", i);
    }
    printf("index_alerts %zu index_mb %.1f\n", total, (double)(rss_kb() - rss0) / 1024.0);
    (void)time_index(&al, &qs, 2, 0.001);
    printf("index_present_per_s %.0f\n", time_index(&al, &qs, 1, seconds / 2));
    printf("index_absent_per_s %.0f\n", time_index(&al, &qs, 0, seconds / 2));
    printf("index_per_s %.0f\n", time_index(&al, &qs, 2, seconds));
    printf("index_per_cpu_s %.0f\n", cpu_rate);
    alerts_free(&al);
    free(qs.q);
    free(qs.flagged);
    free(body);
    return 0;
}

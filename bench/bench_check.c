/* bench_check: how fast the daemon answers `check` in memory.
 *
 *   bench_check NODE_DIR INDEX_N [SECONDS]
 *
 * 1. The daemon's alert index itself (daemon/alerts.c, what node_check
 *    walks) filled with INDEX_N alerts through alerts_add, timed with
 *    alerts_first/alerts_next over random targets, half flagged and half
 *    not: check_lookups_per_s. Filling the index through a node instead
 *    would first put INDEX_N records through the SQLite store at the
 *    store's ingest rate (see docs/BENCHMARKS.md), far past the time the
 *    whole benchmark may take at a million.
 * 2. node_check, the function agahd's control socket answers `check` with
 *    (index lookup plus copying each hit into a node_alert), on a real node
 *    opened from NODE_DIR, whose store holds alerts for the targets
 *    bu_target(0..K-1) (bench_setup load): node_check_per_s.
 * Every answer is checked (a flagged target must find its alert, an
 * absent one nothing). */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "alerts.h"
#include "bench_util.h"

#define QUERIES 65536 /* distinct query strings, cycled */

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
    double t0 = bu_mono(), t;

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
    return (double)done / (t - t0);
}

static double time_node(struct node *n, const struct queries *qs, int which, double seconds)
{
    unsigned long long done = 0;
    double t0 = bu_mono(), t;

    do {
        for (size_t i = 0; i < QUERIES; i++) {
            struct node_alert *out = NULL;
            size_t cnt = 0;

            if (which != 2 && qs->flagged[i] != which)
                continue;
            if (node_check(n, qs->q[i], &out, &cnt) != 0)
                bu_die("node_check failed");
            if ((cnt > 0) != (qs->flagged[i] != 0))
                bu_die("node_check(%s): %zu alerts", qs->q[i], cnt);
            free(out);
            done++;
        }
        t = bu_mono();
    } while (t - t0 < seconds);
    return (double)done / (t - t0);
}

int main(int argc, char **argv)
{
    struct alerts al;
    struct agah_alert_body *body;
    struct queries qs;
    struct node *n;
    size_t index_n, node_n;
    double seconds, t0;
    long rss0;
    uint8_t id[32], author[32];

    if (argc < 3 || argc > 4)
        bu_die("usage: bench_check NODE_DIR INDEX_N [SECONDS]");
    index_n = strtoul(argv[2], NULL, 10);
    seconds = argc > 3 ? atof(argv[3]) : 2.0;
    if (agah_init() != 0 || index_n == 0 || index_n > 10000000 || seconds <= 0)
        bu_die("bad arguments");

    /* 1. The index at INDEX_N. */
    if ((body = calloc(1, sizeof *body)) == NULL)
        bu_die("out of memory");
    body->kind = AGAH_KIND_NUMBER;
    body->category = AGAH_CAT_SCAM;
    body->severity = AGAH_SEV_WARNING;
    bu_note(body->note);
    randombytes_buf(author, sizeof author);
    rss0 = rss_kb();
    t0 = bu_mono();
    alerts_init(&al);
    for (size_t i = 0; i < index_n; i++) {
        randombytes_buf(id, sizeof id);
        bu_target(i, 0, body->target);
        if (alerts_add(&al, id, author, bu_now(), 0, body) != 1)
            bu_die("alerts_add failed at %zu", i);
    }
    printf("index_alerts %zu index_fill_seconds %.2f index_mb %.1f\n", index_n, bu_mono() - t0,
           (double)(rss_kb() - rss0) / 1024.0);
    make_queries(&qs, index_n);
    (void)time_index(&al, &qs, 2, 0.001); /* warm the caches, as a running daemon's are */
    printf("index_present_per_s %.0f\n", time_index(&al, &qs, 1, seconds / 2));
    printf("index_absent_per_s %.0f\n", time_index(&al, &qs, 0, seconds / 2));
    printf("check_lookups_per_s %.0f\n", time_index(&al, &qs, 2, seconds));
    alerts_free(&al);
    free(qs.q);
    free(qs.flagged);

    /* 2. node_check on a real node. */
    t0 = bu_mono();
    n = bu_open(argv[1]);
    node_n = node_active_alerts(n);
    printf("node_alerts %zu node_open_seconds %.2f\n", node_n, bu_mono() - t0);
    if (node_n == 0)
        bu_die("%s holds no alerts", argv[1]);
    make_queries(&qs, node_n);
    (void)time_node(n, &qs, 2, 0.001);
    printf("node_check_present_per_s %.0f\n", time_node(n, &qs, 1, seconds / 2));
    printf("node_check_absent_per_s %.0f\n", time_node(n, &qs, 0, seconds / 2));
    printf("node_check_per_s %.0f\n", time_node(n, &qs, 2, seconds));
    node_close(n);
    free(qs.q);
    free(qs.flagged);
    free(body);
    return 0;
}

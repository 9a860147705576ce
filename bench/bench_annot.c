/* bench_annot: what an insider's annotations cost `check` (issue 24).
 *
 *   bench_annot DIR M [AUTHORS [SECONDS]]
 *
 * Founds a community in DIR with AUTHORS members (default 3), posts one
 * alert as the founder, then has the members sign M CONFIRM and M RETRACT
 * records about it (round robin, distinct times) and ingests them through
 * node_ingest, the path records from peers take. Then calls node_check on
 * the alert's number for SECONDS (default 2) and prints, as "key value"
 * pairs (the format bench.py reads):
 * the ingest time, the mean, median, 99th percentile and worst time of
 * one node_check (the first 2^20 checks for the percentiles), and the
 * annotation index entries one check visits (node_annot_visits). Before
 * issue 24 every check walked them all: 9.9 ms a check with 70,000 of
 * each here, and `agah check` gave up after 10 s in the attack.
 * bench.py runs it with M = 70,000 and one author (details: check_annot). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "bench_util.h"
#include "node.h"

#define MAX_AUTHORS 64
#define MAX_SAMPLES (1u << 20) /* check times kept for the percentiles */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void sign_annots(struct bu_author *au, size_t n_au, const uint8_t alert[32], size_t m,
                        uint64_t t0, uint8_t **buf, size_t *len)
{
    for (size_t i = 0; i < 2 * m; i++) {
        const struct bu_author *a = &au[i % n_au];
        int type = i % 2 == 0 ? AGAH_REC_CONFIRM : AGAH_REC_RETRACT;
        size_t e = a->local->n_epochs - 1;

        if (agah_rec_annotate(a->id, type, a->local->community, alert, a->local->epochs[e].id,
                              a->local->epochs[e].key, "seen", t0 + i * 500 / (2 * m),
                              &buf[i], &len[i]) != 0)
            bu_die("cannot sign an annotation");
    }
}

int main(int argc, char **argv)
{
    struct bu_author founder, au[MAX_AUTHORS];
    struct agah_identity *fid;
    struct node *n;
    char fdir[4096], target[AGAH_TARGET_MAX];
    uint8_t alert[32], *rec, **buf;
    size_t len, *lens, m, n_au = 3, checks = 0, ns = 0;
    double secs = 2, t, *samples;
    uint64_t now = bu_now(), v0;

    if (argc < 3 || argc > 5)
        bu_die("usage: bench_annot DIR M [AUTHORS [SECONDS]]");
    m = strtoul(argv[2], NULL, 10);
    if (argc > 3)
        n_au = strtoul(argv[3], NULL, 10);
    if (argc > 4)
        secs = strtod(argv[4], NULL);
    if (m == 0 || m > 10000000 || n_au == 0 || n_au > MAX_AUTHORS || !(secs > 0))
        bu_die("M, AUTHORS or SECONDS out of range");
    (void)snprintf(fdir, sizeof fdir, "%s/founder", argv[1]);
    fid = bu_make_founder(fdir, "founder");
    n = bu_open(fdir);
    for (size_t i = 0; i < n_au; i++) {
        char d[4096], name[16];
        (void)snprintf(d, sizeof d, "%s/m%zu", argv[1], i);
        (void)snprintf(name, sizeof name, "m%zu", i);
        bu_invite_join(n, d, name);
        bu_author_load(d, &au[i]);
    }
    bu_author_load(fdir, &founder);
    bu_alert(&founder, 0, now - 3600, &rec, &len);
    agah_hash(rec, len, alert);
    (void)bu_ingest(n, rec, len);
    free(rec);
    bu_target(0, 0, target);

    if ((buf = calloc(2 * m, sizeof *buf)) == NULL || (lens = calloc(2 * m, sizeof *lens)) == NULL ||
        (samples = malloc(MAX_SAMPLES * sizeof *samples)) == NULL)
        bu_die("out of memory");
    /* After the members' admissions (now), and within the 600 s a record
     * may be ahead of the clock. */
    sign_annots(au, n_au, alert, m, now + 1, buf, lens);
    t = bu_mono();
    for (size_t i = 0; i < 2 * m; i++) {
        (void)bu_ingest(n, buf[i], lens[i]);
        free(buf[i]);
    }
    (void)node_flush(n);
    printf("annotations %zu authors %zu ingest_s %.2f\n", 2 * m, n_au, bu_mono() - t);

    v0 = node_annot_visits(n);
    t = bu_mono();
    while (bu_mono() - t < secs) {
        struct node_alert *out = NULL;
        size_t cnt = 0;
        double c0 = bu_mono(), dt;

        if (node_check(n, target, &out, &cnt) != 0 || cnt != 1 ||
            out[0].confirmations != n_au)
            bu_die("check gave a wrong answer");
        free(out);
        dt = bu_mono() - c0;
        if (ns < MAX_SAMPLES)
            samples[ns++] = dt;
        checks++;
    }
    t = bu_mono() - t;
    qsort(samples, ns, sizeof *samples, cmp_double);
    printf("checks %zu check_us_mean %.3f check_us_median %.3f check_us_p99 %.3f "
           "check_us_max %.1f visits_per_check %.1f\n",
           checks, t / (double)checks * 1e6, samples[ns / 2] * 1e6, samples[ns * 99 / 100] * 1e6,
           samples[ns - 1] * 1e6, (double)(node_annot_visits(n) - v0) / (double)checks);
    free(samples);
    free(buf);
    free(lens);
    node_close(n);
    for (size_t i = 0; i < n_au; i++)
        bu_author_free(&au[i]);
    bu_author_free(&founder);
    agah_identity_free(fid);
    return 0;
}

/* bench_setup: builds the data directories and stores the benchmark's
 * daemons start from, without any daemon running.
 *
 *   bench_setup community BASE N      BASE/n000 founds a community, n001..
 *                                     are admitted members; every member's
 *                                     store gets the founder's records, so
 *                                     all start with the full membership
 *   bench_setup gen DIR N FILE        N alerts signed by DIR's identity
 *                                     (the founder), into a record file
 *   bench_setup load DIR FILE [SKIP_MOD SKIP_REM]
 *                                     ingests the file into DIR's store,
 *                                     leaving out records whose index i has
 *                                     i % SKIP_MOD == SKIP_REM
 *   bench_setup reclen DIR            length of one benchmark alert record
 *   bench_setup mem DIR               where an opened node's memory goes:
 *                                     resident size and its high-water,
 *                                     SQLite's share, heap, and what
 *                                     malloc_trim would give back
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <malloc.h>
#include <unistd.h>
#include <sqlite3.h>
#include "bench_gen.h"
#include "bench_util.h"

struct copy_ctx {
    struct node *from;
    struct node **to;
    size_t n_to;
};

static void copy_cb(void *ctx, uint64_t created, const uint8_t id[AGAH_HASH_LEN])
{
    struct copy_ctx *c = ctx;
    uint8_t *buf = NULL;
    size_t len = 0;

    (void)created;
    if (node_get(c->from, id, &buf, &len) != 0)
        bu_die("node_get failed");
    for (size_t i = 0; i < c->n_to; i++)
        (void)bu_ingest(c->to[i], buf, len);
    free(buf);
}

static int cmd_community(const char *base, size_t n)
{
    char dir[AGAH_PATH_MAX], name[32];
    struct agah_identity *fid;
    struct node *org, **members;
    struct agah_why why = {{0}};

    if (n < 1 || n > 1000)
        bu_die("community: 1..1000 nodes");
    if (agah_datadir_ensure(base, &why) != 0)
        bu_die("%s: %s", base, why.msg);
    (void)snprintf(dir, sizeof dir, "%s/n000", base);
    fid = bu_make_founder(dir, "bench");
    agah_identity_free(fid);
    org = bu_open(dir);
    if ((members = calloc(n, sizeof *members)) == NULL)
        bu_die("out of memory");
    for (size_t i = 1; i < n; i++) {
        (void)snprintf(dir, sizeof dir, "%s/n%03zu", base, i);
        (void)snprintf(name, sizeof name, "node%03zu", i);
        bu_invite_join(org, dir, name);
    }
    /* Every member starts with every admission, as a long-running
     * community's nodes do, so the spread test measures alerts alone. */
    for (size_t i = 1; i < n; i++) {
        (void)snprintf(dir, sizeof dir, "%s/n%03zu", base, i);
        members[i - 1] = bu_open(dir);
    }
    {
        struct copy_ctx c = {org, members, n - 1};
        if (node_foreach(org, copy_cb, &c) != 0)
            bu_die("node_foreach failed");
    }
    for (size_t i = 0; i + 1 < n; i++) {
        if (node_flush(members[i]) != 0)
            bu_die("node_flush failed");
        node_close(members[i]);
    }
    free(members);
    node_close(org);
    printf("nodes %zu\n", n);
    return 0;
}

static int cmd_gen(const char *dir, size_t n, const char *file)
{
    struct bu_author a;
    struct bu_recs r;
    FILE *f;
    uint64_t per_second = 100, created0 = bu_now() - n / per_second - 1;
    long threads = sysconf(_SC_NPROCESSORS_ONLN);
    double t0 = bu_mono();

    bu_author_load(dir, &a);
    bu_gen(&a, 0, n, created0, (unsigned)per_second, (int)(threads > 0 ? threads : 1), &r);
    if ((f = fopen(file, "wb")) == NULL)
        bu_die("cannot create %s", file);
    for (size_t i = 0; i < r.n; i++)
        bu_rec_write(f, r.buf[i], r.len[i]);
    if (fclose(f) != 0)
        bu_die("cannot write %s", file);
    printf("generated %zu seconds %.2f\n", n, bu_mono() - t0);
    bu_recs_free(&r);
    bu_author_free(&a);
    return 0;
}

static int cmd_load(const char *dir, const char *file, unsigned long mod, unsigned long rem)
{
    struct node *n = bu_open(dir);
    FILE *f = fopen(file, "rb");
    uint8_t *buf;
    size_t len, i = 0, stored = 0, bytes = 0, skipped_bytes = 0;
    double t0, secs;

    if (f == NULL)
        bu_die("cannot open %s", file);
    t0 = bu_mono();
    for (; bu_rec_read(f, &buf, &len); i++, free(buf)) {
        if (mod != 0 && i % mod == rem) {
            skipped_bytes += len;
            continue;
        }
        stored += (size_t)bu_ingest(n, buf, len);
        bytes += len;
    }
    if (node_flush(n) != 0)
        bu_die("node_flush failed");
    secs = bu_mono() - t0;
    fclose(f);
    printf("stored %zu bytes %zu skipped_bytes %zu seconds %.2f per_s %.0f records %zu\n",
           stored, bytes, skipped_bytes, secs, (double)stored / secs, node_record_count(n));
    node_close(n);
    return 0;
}

static int cmd_reclen(const char *dir)
{
    struct bu_author a;
    uint8_t *buf = NULL;
    size_t len = 0;

    bu_author_load(dir, &a);
    bu_alert(&a, 1234567, bu_now(), &buf, &len);
    printf("reclen %zu\n", len);
    free(buf);
    bu_author_free(&a);
    return 0;
}

static long status_kb(const char *field)
{
    char line[256];
    long kb = -1;
    size_t fl = strlen(field);
    FILE *f = fopen("/proc/self/status", "r");
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof line, f) != NULL)
        if (strncmp(line, field, fl) == 0 && line[fl] == ':')
            kb = strtol(line + fl + 1, NULL, 10);
    fclose(f);
    return kb;
}

static int cmd_mem(const char *dir)
{
    long rss0 = status_kb("VmRSS");
    struct mallinfo2 m0 = mallinfo2(), m1;
    struct node *n;
    double t0 = bu_mono();

    n = bu_open(dir);
    m1 = mallinfo2();
    printf("records %zu alerts %zu open_seconds %.2f\n", node_record_count(n),
           node_active_alerts(n), bu_mono() - t0);
    printf("rss_mb %.1f rss_before_mb %.1f sqlite_mb %.1f sqlite_highwater_mb %.1f "
           "heap_mb %.1f mmap_mb %.1f\n",
           (double)status_kb("VmRSS") / 1024.0, (double)rss0 / 1024.0,
           (double)sqlite3_memory_used() / 1048576.0,
           (double)sqlite3_memory_highwater(0) / 1048576.0,
           (double)(m1.uordblks - m0.uordblks) / 1048576.0,
           (double)(m1.hblkhd - m0.hblkhd) / 1048576.0);
    /* What malloc holds free but resident after the rebuild: how much
     * malloc_trim would give back. */
    {
        long before = status_kb("VmRSS");
        (void)malloc_trim(0);
        printf("rss_hwm_mb %.1f malloc_free_mb %.1f trim_gain_mb %.1f\n",
               (double)status_kb("VmHWM") / 1024.0, (double)mallinfo2().fordblks / 1048576.0,
               (double)(before - status_kb("VmRSS")) / 1024.0);
    }
    node_close(n);
    return 0;
}

int main(int argc, char **argv)
{
    if (agah_init() != 0)
        bu_die("libsodium failed to start");
    if (argc == 4 && strcmp(argv[1], "community") == 0)
        return cmd_community(argv[2], strtoul(argv[3], NULL, 10));
    if (argc == 5 && strcmp(argv[1], "gen") == 0)
        return cmd_gen(argv[2], strtoul(argv[3], NULL, 10), argv[4]);
    if (argc == 4 && strcmp(argv[1], "load") == 0)
        return cmd_load(argv[2], argv[3], 0, 0);
    if (argc == 6 && strcmp(argv[1], "load") == 0)
        return cmd_load(argv[2], argv[3], strtoul(argv[4], NULL, 10),
                        strtoul(argv[5], NULL, 10));
    if (argc == 3 && strcmp(argv[1], "reclen") == 0)
        return cmd_reclen(argv[2]);
    if (argc == 3 && strcmp(argv[1], "mem") == 0)
        return cmd_mem(argv[2]);
    fprintf(stderr, "usage: bench_setup community BASE N | gen DIR N FILE |\n"
                    "       load DIR FILE [SKIP_MOD SKIP_REM] | reclen DIR | mem DIR\n");
    return 2;
}

/* bench_spawn: times whole processes, for check_cli_ms_* (`agah check` end
 * to end). Starting any process costs most of a `check` on a small virtual
 * machine, so the harness must add little and say how much it adds: each
 * run is posix_spawn (clone and exec, no copy of the parent) and waitpid,
 * timed with CLOCK_MONOTONIC around the two; a reference command (default
 * /bin/true) is timed the same way before every measured run, so both see
 * the same load.
 *
 *   bench_spawn [-n RUNS] [-w WARMUP] [-r REF|none] [-q FILE] -- PROG [ARG...]
 *
 * With -q, FILE holds one query per line, "STATUS ARGUMENT": run i appends
 * the argument of line i (cycling) and expects exit status STATUS; without
 * it every run expects 0. REF is split at spaces. stdin and stdout are
 * /dev/null; stderr is a pipe read to EOF, printed when a run exits with
 * the wrong status (bench_spawn then exits 1). WARMUP runs of each (default
 * 5) come first and are not counted.
 *
 * Prints "key value" pairs, in milliseconds: median, p99, min, mean and max
 * of each run's wall-clock time, and "cpu_..." of the child's CPU time
 * (user + system, getrusage(RUSAGE_CHILDREN) around each waitpid); the same
 * prefixed "ref_" for the reference; and "harness_...": posix_spawn of a
 * path that does not exist (clone, failed exec, reaping), which is what the
 * harness itself adds to each run. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BS_MAX_ARGS 64
#define BS_MAX_RUNS 100000
#define BS_ERR_KEEP 2048

extern char **environ;

struct bs_query {
    int status;
    char *arg; /* NULL: nothing appended */
};

/* One timed series: wall and CPU milliseconds of each run. */
struct bs_series {
    double *wall, *cpu;
    size_t n;
};

static int bs_devnull = -1;

static double bs_ms(const struct timespec *a, const struct timespec *b)
{
    return (double)(b->tv_sec - a->tv_sec) * 1e3 + (double)(b->tv_nsec - a->tv_nsec) / 1e6;
}

static double bs_cpu_ms(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_CHILDREN, &ru) != 0)
        return 0;
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

/* Runs argv once; returns its exit status (128 + signal if killed, -1 if
 * it could not be started), its wall and CPU time, and the start of its
 * stderr in err (NUL-terminated). */
static int bs_run(char *const argv[], double *wall, double *cpu, char *err, size_t errsize)
{
    posix_spawn_file_actions_t fa;
    int p[2], st = 0, r;
    pid_t pid;
    size_t got = 0;
    struct timespec t0, t1;
    double c0;

    err[0] = '\0';
    if (pipe(p) != 0)
        return -1;
    (void)fcntl(p[0], F_SETFD, FD_CLOEXEC);
    (void)fcntl(p[1], F_SETFD, FD_CLOEXEC);
    posix_spawn_file_actions_init(&fa);
    /* dup2 clears close-on-exec on the target, so only 0, 1 and 2 stay
     * open in the child. */
    posix_spawn_file_actions_adddup2(&fa, bs_devnull, 0);
    posix_spawn_file_actions_adddup2(&fa, bs_devnull, 1);
    posix_spawn_file_actions_adddup2(&fa, p[1], 2);
    c0 = bs_cpu_ms();
    clock_gettime(CLOCK_MONOTONIC, &t0);
    r = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
    (void)close(p[1]);
    posix_spawn_file_actions_destroy(&fa);
    if (r != 0) {
        (void)close(p[0]);
        (void)snprintf(err, errsize, "cannot run %s: %s", argv[0], strerror(r));
        return -1;
    }
    /* Read stderr to EOF so a chatty child never blocks on a full pipe;
     * keep the first errsize - 1 bytes for the report. */
    for (;;) {
        char buf[512];
        ssize_t k = read(p[0], buf, sizeof buf);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        if (got + 1 < errsize) {
            size_t take = (size_t)k < errsize - 1 - got ? (size_t)k : errsize - 1 - got;
            memcpy(err + got, buf, take);
            got += take;
            err[got] = '\0';
        }
    }
    (void)close(p[0]);
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    *wall = bs_ms(&t0, &t1);
    *cpu = bs_cpu_ms() - c0;
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : -1;
}

/* The harness's own share of a run: posix_spawn of a path that does not
 * exist clones, fails the exec in the child and reaps it, which is what
 * bench_spawn adds to every run without any program's start. */
static double bs_probe(void)
{
    char *none[] = {"/nonexistent/bench_spawn-probe", NULL};
    struct timespec t0, t1;
    pid_t pid;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (posix_spawn(&pid, none[0], NULL, NULL, none, environ) == 0)
        (void)waitpid(pid, NULL, 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return bs_ms(&t0, &t1);
}

static int bs_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Sorts v and prints PREFIXmedian_ms, PREFIXp99_ms, PREFIXmin_ms,
 * PREFIXmean_ms and PREFIXmax_ms on one line: the median as
 * Python's statistics.median takes it, p99 as the nearest rank, as bench.py
 * does elsewhere. */
static void bs_report(const char *prefix, double *v, size_t n)
{
    double sum = 0, med;
    size_t k99 = (99 * n + 99) / 100;

    qsort(v, n, sizeof *v, bs_cmp);
    for (size_t i = 0; i < n; i++)
        sum += v[i];
    med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    k99 = k99 > 0 ? k99 - 1 : 0;
    printf("%smedian_ms %.4f %sp99_ms %.4f %smin_ms %.4f %smean_ms %.4f %smax_ms %.4f\n",
           prefix, med, prefix, v[k99], prefix, v[0], prefix, sum / (double)n, prefix, v[n - 1]);
}

/* "STATUS ARGUMENT" lines; blank lines are skipped. */
static size_t bs_queries(const char *path, struct bs_query **out)
{
    FILE *f = fopen(path, "r");
    struct bs_query *q = NULL;
    size_t n = 0, cap = 0, lcap = 0;
    char *line = NULL;
    ssize_t len;

    if (f == NULL) {
        fprintf(stderr, "bench_spawn: %s: %s\n", path, strerror(errno));
        exit(2);
    }
    while ((len = getline(&line, &lcap, f)) >= 0) {
        char *sp;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (len == 0)
            continue;
        sp = strchr(line, ' ');
        if (sp == NULL || sp == line) {
            fprintf(stderr, "bench_spawn: %s: want \"STATUS ARGUMENT\", got \"%s\"\n", path, line);
            exit(2);
        }
        *sp = '\0';
        if (n == cap) {
            cap = cap ? 2 * cap : 256;
            if ((q = realloc(q, cap * sizeof *q)) == NULL)
                exit(2);
        }
        q[n].status = atoi(line);
        if ((q[n].arg = strdup(sp + 1)) == NULL)
            exit(2);
        n++;
    }
    free(line);
    (void)fclose(f);
    *out = q;
    return n;
}

static void bs_usage(void)
{
    fprintf(stderr, "usage: bench_spawn [-n RUNS] [-w WARMUP] [-r REF|none] [-q FILE] "
                    "-- PROG [ARG...]\n");
    exit(2);
}

static void bs_alloc(struct bs_series *s, size_t n)
{
    s->wall = calloc(n, sizeof *s->wall);
    s->cpu = calloc(n, sizeof *s->cpu);
    s->n = 0;
    if (s->wall == NULL || s->cpu == NULL)
        exit(2);
}

static void bs_free(struct bs_series *s)
{
    free(s->wall);
    free(s->cpu);
}

int main(int argc, char **argv)
{
    long runs = 200, warmup = 5;
    const char *ref = "/bin/true", *qpath = NULL;
    char *refargv[BS_MAX_ARGS + 1], *argvx[BS_MAX_ARGS + 2], *refcopy = NULL;
    char err[BS_ERR_KEEP];
    struct bs_query *q = NULL, always0 = {0, NULL};
    struct bs_series prog, refs, self;
    size_t nq = 1, nargs = 0, nref = 0;
    int i;

    for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (i + 1 >= argc)
            bs_usage();
        if (strcmp(argv[i], "-n") == 0)
            runs = strtol(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "-w") == 0)
            warmup = strtol(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "-r") == 0)
            ref = argv[++i];
        else if (strcmp(argv[i], "-q") == 0)
            qpath = argv[++i];
        else
            bs_usage();
    }
    if (i >= argc || i + 1 >= argc || runs < 1 || runs > BS_MAX_RUNS || warmup < 0 ||
        argc - i - 1 > BS_MAX_ARGS)
        bs_usage();
    for (i++; i < argc; i++)
        argvx[nargs++] = argv[i];
    argvx[nargs + 1] = NULL;
    if (strcmp(ref, "none") != 0) {
        if ((refcopy = strdup(ref)) == NULL)
            return 2;
        for (char *save = NULL, *t = strtok_r(refcopy, " ", &save); t != NULL;
             t = strtok_r(NULL, " ", &save))
            if (nref < BS_MAX_ARGS)
                refargv[nref++] = t;
        refargv[nref] = NULL;
    }
    if (qpath != NULL && (nq = bs_queries(qpath, &q)) == 0) {
        fprintf(stderr, "bench_spawn: %s holds no query\n", qpath);
        return 2;
    }
    if (q == NULL)
        q = &always0;
    if ((bs_devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0) {
        perror("bench_spawn: /dev/null");
        return 2;
    }
    bs_alloc(&prog, (size_t)runs);
    bs_alloc(&refs, (size_t)runs);
    bs_alloc(&self, (size_t)runs);

    /* Warm-up runs fill the page cache and the daemon's first-use paths;
     * then the probe, the reference and the program take turns, so
     * drifting load from other work on the machine falls on all alike. */
    for (long k = -warmup; k < runs; k++) {
        const struct bs_query *x = &q[(size_t)(k + warmup) % nq];
        double w, c;
        int st;
        if (k >= 0)
            self.wall[self.n++] = bs_probe();
        if (nref > 0) {
            st = bs_run(refargv, &w, &c, err, sizeof err);
            if (st != 0) {
                fprintf(stderr, "bench_spawn: %s exited %d: %s\n", refargv[0], st, err);
                return 1;
            }
            if (k >= 0) {
                refs.wall[refs.n] = w;
                refs.cpu[refs.n++] = c;
            }
        }
        argvx[nargs] = x->arg;
        st = bs_run(argvx, &w, &c, err, sizeof err);
        if (st != x->status) {
            fputs("bench_spawn:", stderr);
            for (size_t j = 0; argvx[j] != NULL; j++)
                fprintf(stderr, " %s", argvx[j]);
            fprintf(stderr, ": exited %d, expected %d: %s\n", st, x->status, err);
            return 1;
        }
        if (k >= 0) {
            prog.wall[prog.n] = w;
            prog.cpu[prog.n++] = c;
        }
    }

    printf("runs %ld\n", runs);
    bs_report("", prog.wall, prog.n);
    bs_report("cpu_", prog.cpu, prog.n);
    if (refs.n > 0) {
        bs_report("ref_", refs.wall, refs.n);
        bs_report("ref_cpu_", refs.cpu, refs.n);
    }
    bs_report("harness_", self.wall, self.n);
    bs_free(&prog);
    bs_free(&refs);
    bs_free(&self);
    if (q != &always0) {
        for (size_t j = 0; j < nq; j++)
            free(q[j].arg);
        free(q);
    }
    free(refcopy);
    (void)close(bs_devnull);
    return 0;
}

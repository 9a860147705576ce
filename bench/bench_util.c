/* See bench_util.h. */
#define _POSIX_C_SOURCE 200809L
#include "bench_util.h"
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sodium.h>
#include "bench_gen.h"
#include "quota.h"

uint64_t bu_now(void)
{
    return (uint64_t)time(NULL);
}

double bu_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void bu_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("bench: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

static void bu__path(char out[AGAH_PATH_MAX], const char *dir, const char *name)
{
    if (snprintf(out, AGAH_PATH_MAX, "%s/%s", dir, name) >= AGAH_PATH_MAX)
        bu_die("path too long: %s", dir);
}

struct agah_identity *bu_make_founder(const char *dir, const char *name)
{
    struct agah_identity *id = NULL;
    struct agah_local *l = NULL;
    char p[AGAH_PATH_MAX];
    struct agah_why why = {{0}};

    if (agah_init() != 0 || agah_identity_generate(&id) != 0)
        bu_die("cannot make an identity");
    if (agah_datadir_ensure(dir, &why) != 0)
        bu_die("%s: %s", dir, why.msg);
    bu__path(p, dir, "identity.key");
    if (agah_keyfile_write(p, id, NULL, 0) != 0 ||
        agah_local_found(id, name, "founder", bu_now(), &l) != 0)
        bu_die("cannot make the founder's identity and community");
    bu__path(p, dir, "community");
    if (agah_local_write(p, id, l) != 0)
        bu_die("cannot write the community file");
    agah_local_free(l);
    return id;
}

struct node *bu_open(const char *dir)
{
    struct node *n = NULL;
    struct agah_why why = {{0}};
    int r;
    /* One author posts every benchmark record: the per-author quotas are
     * raised as agahd --quota-scale 1000 does, on every node alike. */
    quota_scale_defaults(BU_QUOTA_SCALE);
    r = node_open(dir, NULL, 0, NULL, &n, &why);
    if (r != 0)
        bu_die("node_open %s: %s (%s)", dir, agah_strerror(r), why.msg);
    return n;
}

void bu_invite_join(struct node *org, const char *dir, const char *name)
{
    struct agah_identity *id = NULL;
    struct agah_join *j = NULL;
    struct agah_local *l = agah_local_new();
    struct agah_why why = {{0}};
    char p[AGAH_PATH_MAX], *code = NULL;
    int r;

    if (l == NULL || agah_identity_generate(&id) != 0)
        bu_die("cannot make an identity");
    if (agah_datadir_ensure(dir, &why) != 0)
        bu_die("%s: %s", dir, why.msg);
    bu__path(p, dir, "identity.key");
    if (agah_keyfile_write(p, id, NULL, 0) != 0)
        bu_die("cannot write %s", p);
    if ((r = node_invite(org, agah_identity_pk(id), AGAH_ROLE_MEMBER, name, NULL, &code, NULL, &why)) != 0)
        bu_die("invite: %s (%s)", agah_strerror(r), why.msg);
    if ((r = agah_join_decode(code, id, bu_now(), &j, &why)) != 0)
        bu_die("join: %s (%s)", agah_strerror(r), why.msg);
    memcpy(l->community, j->community, 32);
    memcpy(l->network_secret, j->network_secret, 32);
    (void)snprintf(l->name, sizeof l->name, "%s", j->community_name);
    l->role = AGAH_ROLE_MEMBER;
    for (size_t i = 0; i < j->n_epochs; i++) {
        memcpy(l->epochs[i].id, j->epochs[i].id, 32);
        memcpy(l->epochs[i].key, j->epochs[i].key, 32);
    }
    l->n_epochs = j->n_epochs;
    bu__path(p, dir, "community");
    if (agah_local_add_record(l, j->genesis, j->genesis_len) != 0 ||
        agah_local_add_record(l, j->admission, j->admission_len) != 0 ||
        agah_local_write(p, id, l) != 0)
        bu_die("cannot write %s", p);
    free(code);
    agah_join_free(j);
    agah_local_free(l);
    agah_identity_free(id);
}

void bu_author_load(const char *dir, struct bu_author *a)
{
    char p[AGAH_PATH_MAX];
    struct agah_why why = {{0}};
    int r;

    memset(a, 0, sizeof *a);
    bu__path(p, dir, "identity.key");
    if ((r = agah_keyfile_read(p, NULL, 0, &a->id, &why)) != 0)
        bu_die("%s: %s (%s)", p, agah_strerror(r), why.msg);
    bu__path(p, dir, "community");
    if ((r = agah_local_read(p, a->id, &a->local, &why)) != 0)
        bu_die("%s: %s (%s)", p, agah_strerror(r), why.msg);
    if (a->local->n_epochs == 0)
        bu_die("%s holds no epoch key", dir);
}

void bu_author_free(struct bu_author *a)
{
    agah_local_free(a->local);
    agah_identity_free(a->id);
    memset(a, 0, sizeof *a);
}

void bu_target(uint64_t i, int absent, char out[AGAH_TARGET_MAX])
{
    (void)snprintf(out, AGAH_TARGET_MAX, "+852%c%07llu", absent ? '6' : '5',
                   (unsigned long long)(i % 10000000u));
}

void bu_note(char out[BU_NOTE_LEN + 1])
{
    static const char text[] = "Benchmark alert: caller claims to be from the consulate and asks "
                               "for passport numbers. ";
    for (size_t i = 0; i < BU_NOTE_LEN; i++)
        out[i] = text[i % (sizeof text - 1)];
    out[BU_NOTE_LEN] = '\0';
}

void bu_alert(const struct bu_author *a, uint64_t i, uint64_t created, uint8_t **out, size_t *len)
{
    struct agah_alert_body *b = calloc(1, sizeof *b);
    int r;

    if (b == NULL)
        bu_die("out of memory");
    b->kind = AGAH_KIND_NUMBER;
    bu_target(i, 0, b->target);
    b->category = AGAH_CAT_SCAM;
    bu_note(b->note);
    b->severity = AGAH_SEV_WARNING;
    r = agah_rec_alert(a->id, a->local->community, a->local->epochs[0].id,
                       a->local->epochs[0].key, b, created, 0, out, len);
    if (r != 0)
        bu_die("agah_rec_alert: %s", agah_strerror(r));
    free(b);
}

void bu_rec_write(FILE *f, const uint8_t *buf, size_t len)
{
    uint8_t h[4] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
                    (uint8_t)len};
    if (fwrite(h, 1, 4, f) != 4 || fwrite(buf, 1, len, f) != len)
        bu_die("cannot write a record file");
}

int bu_rec_read(FILE *f, uint8_t **buf, size_t *len)
{
    uint8_t h[4];
    size_t n = fread(h, 1, 4, f);

    if (n == 0)
        return 0;
    if (n != 4)
        bu_die("record file truncated");
    *len = ((size_t)h[0] << 24) | ((size_t)h[1] << 16) | ((size_t)h[2] << 8) | h[3];
    if (*len == 0 || *len > AGAH_REC_MAX || (*buf = malloc(*len)) == NULL)
        bu_die("bad record length %zu", *len);
    if (fread(*buf, 1, *len, f) != *len)
        bu_die("record file truncated");
    return 1;
}

int bu_ingest(struct node *n, const uint8_t *buf, size_t len)
{
    struct agah_why why = {{0}};
    int r = node_ingest(n, buf, len, &why);
    if (r < 0)
        bu_die("node_ingest: %s (%s)", agah_strerror(r), why.msg);
    return r;
}

/* ------------------------------------------------------------------ */
/* Parallel generation (bench_gen.h)                                   */

struct bu__gen_job {
    const struct bu_author *a;
    struct bu_recs *out;
    uint64_t first, created0;
    unsigned per_second;
    size_t from, to;
};

static void *bu__gen_thread(void *arg)
{
    struct bu__gen_job *j = arg;
    for (size_t k = j->from; k < j->to; k++) {
        uint64_t i = j->first + k;
        bu_alert(j->a, i, j->created0 + k / j->per_second, &j->out->buf[k], &j->out->len[k]);
    }
    return NULL;
}

void bu_gen(const struct bu_author *a, uint64_t first, size_t n, uint64_t created0,
            unsigned per_second, int threads, struct bu_recs *out)
{
    pthread_t th[16];
    struct bu__gen_job jobs[16];

    if (threads < 1)
        threads = 1;
    if (threads > 16)
        threads = 16;
    if (per_second == 0)
        per_second = 1;
    out->n = n;
    out->buf = calloc(n ? n : 1, sizeof *out->buf);
    out->len = calloc(n ? n : 1, sizeof *out->len);
    if (out->buf == NULL || out->len == NULL)
        bu_die("out of memory");
    for (int t = 0; t < threads; t++) {
        jobs[t] = (struct bu__gen_job){a, out, first, created0, per_second,
                                       n * (size_t)t / (size_t)threads,
                                       n * (size_t)(t + 1) / (size_t)threads};
        if (pthread_create(&th[t], NULL, bu__gen_thread, &jobs[t]) != 0)
            bu_die("pthread_create failed");
    }
    for (int t = 0; t < threads; t++)
        pthread_join(th[t], NULL);
}

void bu_recs_free(struct bu_recs *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->buf[i]);
    free(r->buf);
    free(r->len);
    memset(r, 0, sizeof *r);
}

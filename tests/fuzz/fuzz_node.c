/* Structure-aware libFuzzer target for the node (issue 24, "fuzzing where
 * the bugs were"): validation, membership, epochs, the alert view and the
 * store, fed correctly signed records. fuzz_record stops at the decoder,
 * and a mutated signature never gets further; here the input is a script
 * of operations, each turned into a validly signed record by one of four
 * members of a real community (founder, organiser, two members) or by an
 * outsider: alerts, confirmations, retractions, revocations with any keep
 * list, admissions, epochs, replays and back-dated times. Every input runs
 * against a fresh copy of the same data directory, then asks the node what
 * a user would (check, list, members, status) and checks what it answers.
 *
 * Input: a sequence of ops, each one byte (op, author) then its bytes. */
#define _DEFAULT_SOURCE
#define _XOPEN_SOURCE 700
#include <dirent.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>
#include <agah/agah.h>
#include "node.h"
#include "../unit/check.h" /* node_fixture.h's runner counts with it */
#include "../unit/node_fixture.h"

#define AUTHORS 5   /* founder, organiser, member, member, outsider */
#define OPS_MAX 48
#define RECS_MAX 64

static char pristine[512], work[512];
static struct agah_identity *who[AUTHORS];
static uint8_t community[32];
static uint8_t ekey[8][32], eid[8][32];
static size_t n_ekeys;

struct script {
    const uint8_t *p;
    size_t left;
};

static unsigned take(struct script *s)
{
    if (s->left == 0)
        return 0;
    s->left--;
    return *s->p++;
}

static void copy_file(const char *from_dir, const char *to_dir, const char *name)
{
    char a[640], b[640];
    uint8_t buf[65536];
    size_t n;
    FILE *in, *out;
    (void)snprintf(a, sizeof a, "%s/%s", from_dir, name);
    (void)snprintf(b, sizeof b, "%s/%s", to_dir, name);
    if ((in = fopen(a, "rb")) == NULL)
        return;
    if ((out = fopen(b, "wb")) == NULL)
        abort();
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, n, out) != n)
            abort();
    fclose(in);
    if (fclose(out) != 0 || chmod(b, 0600) != 0)
        abort();
}

/* A fresh copy of the pristine data directory in `work`. */
static void reset_work(void)
{
    static const char *files[] = {"identity.key", "store.key", "community", "store.db"};
    DIR *d = opendir(work);
    struct dirent *e;
    if (d != NULL) {
        while ((e = readdir(d)) != NULL) {
            char p[640];
            if (e->d_name[0] == '.')
                continue;
            (void)snprintf(p, sizeof p, "%s/%s", work, e->d_name);
            (void)unlink(p);
        }
        closedir(d);
    }
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        copy_file(pristine, work, files[i]);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char base[] = "/tmp/agah-fuzz-node.XXXXXX", dir[512], p[PATH_LEN];
    struct agah_local *l = NULL;
    struct node *f, *n;
    (void)argc;
    (void)argv;
    if (agah_init() != 0 || mkdtemp(base) == NULL)
        abort();
    (void)snprintf(base_dir, sizeof base_dir, "%s", base);
    sub_dir("founder", pristine);
    who[0] = make_founder(pristine, "Fuzz community");
    f = open_node(pristine);
    sub_dir("organiser", dir);
    node_close(invite_open(f, dir, AGAH_ROLE_ORGANISER, "o", &who[1], NULL));
    sub_dir("member1", dir);
    node_close(invite_open(f, dir, AGAH_ROLE_MEMBER, "m1", &who[2], NULL));
    sub_dir("member2", dir);
    node_close(invite_open(f, dir, AGAH_ROLE_MEMBER, "m2", &who[3], NULL));
    node_close(f);
    if (agah_identity_generate(&who[4]) != 0)
        abort();
    comm_path(pristine, p);
    if (agah_local_read(p, who[0], &l, NULL) != 0)
        abort();
    memcpy(community, l->community, 32);
    for (size_t i = 0; i < l->n_epochs && n_ekeys < 8; i++) {
        if (memcmp(l->epochs[i].id, community, 32) == 0)
            continue; /* the genesis key */
        memcpy(eid[n_ekeys], l->epochs[i].id, 32);
        memcpy(ekey[n_ekeys++], l->epochs[i].key, 32);
    }
    agah_local_free(l);
    if (n_ekeys == 0)
        abort();
    sub_dir("work", work);
    reset_work();
    /* The copy opens: the harness is sound before any input runs. */
    n = open_node(work);
    node_close(n);
    return 0;
}

/* Builds the record op `op` describes; 0 and *buf set, or < 0. */
static int make_record(struct script *s, unsigned op, const struct agah_identity *a,
                       uint8_t (*recs)[32], size_t n_recs, uint8_t **buf, size_t *len,
                       char target[AGAH_TARGET_MAX])
{
    unsigned k = take(s) % n_ekeys;
    uint64_t created = T0 + 3600 + (uint64_t)take(s) * 97 - 12000;
    uint8_t ref[32], member[32];
    struct agah_alert_body b;

    switch (op % 6) {
    case 0:
        memset(&b, 0, sizeof b);
        b.kind = AGAH_KIND_NUMBER;
        (void)snprintf(b.target, sizeof b.target, "+8525123%04u", take(s) % 16);
        (void)snprintf(b.note, sizeof b.note, "n%u", take(s));
        b.severity = (int)(take(s) % 3);
        memcpy(target, b.target, sizeof b.target);
        return agah_rec_alert(a, community, eid[k], ekey[k], &b, created,
                              take(s) % 4 == 0 ? created + 600 : 0, buf, len);
    case 1:
        if (n_recs == 0)
            return AGAH_EINVAL;
        memcpy(ref, recs[take(s) % n_recs], 32);
        return agah_rec_annotate(a, take(s) % 2 ? AGAH_REC_CONFIRM : AGAH_REC_RETRACT, community,
                                 ref, eid[k], ekey[k], "r", created, buf, len);
    case 2: {
        size_t nk = n_recs > 0 ? take(s) % (n_recs + 1) : 0;
        memcpy(member, agah_identity_pk(who[take(s) % AUTHORS]), 32);
        return agah_rec_revocation(a, community, member, "", eid[k], ekey[k],
                                   (const uint8_t(*)[32])recs, nk, created, buf, len);
    }
    case 3:
        memcpy(member, agah_identity_pk(who[take(s) % AUTHORS]), 32);
        return agah_rec_admission(a, community, member, (int)(take(s) % 3), "", NULL, NULL,
                                  created, take(s) % 2 ? created + 3600 : 0, buf, len);
    default: {
        uint8_t recips[AUTHORS][32], key[32];
        size_t nr = 0;
        unsigned mask = take(s);
        for (size_t i = 0; i < AUTHORS; i++)
            if (mask & (1u << i))
                memcpy(recips[nr++], agah_identity_pk(who[i]), 32);
        if (nr == 0)
            return AGAH_EINVAL;
        memset(key, (int)take(s), sizeof key);
        struct agah_epoch_spec sp = {.number = 1 + take(s) % 8, .recipients =
                                     (const uint8_t(*)[32])recips, .n = nr, .key = key,
                                     .created = created};
        return agah_rec_epoch_make(a, community, &sp, buf, len);
    }
    }
}

/* What a user would ask, and what must hold of the answers. */
static void ask(struct node *n, char (*targets)[AGAH_TARGET_MAX], size_t n_targets)
{
    struct node_alert *v = NULL;
    struct node_member *mv = NULL;
    size_t cnt = 0, mc = 0;
    int more;

    for (size_t i = 0; i < n_targets; i++) {
        if (node_check(n, targets[i], &v, &cnt) == 0)
            for (size_t k = 0; k < cnt; k++)
                if (strcmp(v[k].body.target, targets[i]) != 0)
                    abort();
        free(v);
        v = NULL;
    }
    if (node_list(n, 0, 1, &v, &cnt) == 0 && cnt > node_record_count(n))
        abort();
    free(v);
    v = NULL;
    if (node_list_page(n, 0, 1, NULL, 2, &v, &cnt, &more) == 0 && cnt > 2)
        abort();
    free(v);
    if (node_members(n, &mv, &mc) == 0 && mc > 64)
        abort();
    free(mv);
    (void)node_unreadable(n);
    (void)node_tick(n);
    (void)node_prune(n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct script s = {data, size};
    static uint8_t recs[RECS_MAX][32];
    static char targets[OPS_MAX][AGAH_TARGET_MAX];
    size_t n_recs = 0, n_targets = 0;
    struct node *n;

    reset_work();
    clk = T0 + 3600;
    n = open_node(work);
    for (int i = 0; i < OPS_MAX && s.left > 0; i++) {
        unsigned op = take(&s), author = take(&s) % AUTHORS;
        uint8_t *buf = NULL;
        size_t len = 0;
        struct agah_why why;
        char target[AGAH_TARGET_MAX] = "";

        if (op % 8 == 7) {
            clk += 60 * (1 + take(&s)); /* time passes */
            continue;
        }
        if (make_record(&s, op, who[author], recs, n_recs, &buf, &len, target) != 0)
            continue;
        if (op % 8 == 6 && len > 70)
            buf[len - 70] ^= 1; /* a field altered: the signature no longer holds */
        (void)node_ingest(n, buf, len, &why);
        if (n_recs < RECS_MAX)
            agah_hash(buf, len, recs[n_recs++]);
        if (target[0] != '\0' && n_targets < OPS_MAX)
            memcpy(targets[n_targets++], target, AGAH_TARGET_MAX);
        /* A replay changes nothing, whatever the first copy did. */
        if (take(&s) % 4 == 0)
            (void)node_ingest(n, buf, len, &why);
        free(buf);
    }
    (void)node_flush(n);
    ask(n, targets, n_targets);
    node_close(n);
    return 0;
}

/* Unit tests for the local community file (proto/local.c): a full round
 * trip at every bound, refusal of other identities and of any alteration,
 * and the writer refusing what the reader would refuse. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>
#include <agah/agah.h>

#include "check.h"

static char dir[64];
static struct agah_identity *me, *stranger;

static void path_of(const char *name, char out[256])
{
    snprintf(out, 256, "%s/%s", dir, name);
}

static int same_local(const struct agah_local *a, const struct agah_local *b)
{
    if (memcmp(a->community, b->community, AGAH_HASH_LEN) != 0 ||
        strcmp(a->name, b->name) != 0 ||
        memcmp(a->network_secret, b->network_secret, 32) != 0 || a->role != b->role ||
        a->n_epochs != b->n_epochs || a->n_records != b->n_records || a->n_peers != b->n_peers)
        return 0;
    for (size_t i = 0; i < a->n_epochs; i++)
        if (memcmp(a->epochs[i].id, b->epochs[i].id, AGAH_HASH_LEN) != 0 ||
            memcmp(a->epochs[i].key, b->epochs[i].key, AGAH_KEY_LEN) != 0)
            return 0;
    for (size_t i = 0; i < a->n_records; i++)
        if (a->record_lens[i] != b->record_lens[i] ||
            memcmp(a->records[i], b->records[i], a->record_lens[i]) != 0)
            return 0;
    for (size_t i = 0; i < a->n_peers; i++)
        if (strcmp(a->peers[i], b->peers[i]) != 0)
            return 0;
    return 1;
}

/* A small but complete state: 2 epochs, 2 records, 1 peer. */
static struct agah_local *small_local(void)
{
    struct agah_local *l = agah_local_new();
    static const uint8_t rec1[] = {1, 2, 3}, rec2[] = {4, 5, 6, 7};

    if (l == NULL)
        return NULL;
    randombytes_buf(l->community, sizeof l->community);
    strcpy(l->name, "Istanbul");
    randombytes_buf(l->network_secret, sizeof l->network_secret);
    l->role = AGAH_ROLE_MEMBER;
    l->n_epochs = 2;
    randombytes_buf(l->epochs, 2 * sizeof l->epochs[0]);
    CHECK(agah_local_add_record(l, rec1, sizeof rec1) == 0);
    CHECK(agah_local_add_record(l, rec2, sizeof rec2) == 0);
    l->n_peers = 1;
    strcpy(l->peers[0], "192.0.2.1:7433");
    return l;
}

static void test_round_trip_full(void)
{
    char p[256];
    struct agah_local *l = agah_local_new(), *got = NULL;
    struct agah_why why = {{0}};
    uint8_t *rec = malloc(AGAH_REC_MAX);
    struct stat st;

    path_of("community", p);
    CHECK(l != NULL && rec != NULL);
    if (l == NULL || rec == NULL)
        goto out;
    /* Every bound at once: name of AGAH_NAME_MAX bytes in Uyghur script,
     * all epochs, all records at their largest, all peers. */
    randombytes_buf(l->community, sizeof l->community);
    {
        static const char uy[] = "\xd8\xa6\xdb\x87\xd9\x8a\xd8\xba\xdb\x87\xd8\xb1"; /* 12 B */
        for (size_t i = 0; i + 12 <= AGAH_NAME_MAX; i += 12)
            memcpy(l->name + i, uy, 12);
        memset(l->name + (AGAH_NAME_MAX / 12) * 12, 'x', AGAH_NAME_MAX % 12);
        l->name[AGAH_NAME_MAX] = '\0';
    }
    randombytes_buf(l->network_secret, sizeof l->network_secret);
    l->role = AGAH_ROLE_ORGANISER;
    l->n_epochs = AGAH_LOCAL_MAX_EPOCHS;
    randombytes_buf(l->epochs, sizeof l->epochs);
    for (size_t i = 0; i < AGAH_LOCAL_MAX_RECORDS; i++) {
        randombytes_buf(rec, AGAH_REC_MAX);
        CHECK(agah_local_add_record(l, rec, i == 0 ? 1 : AGAH_REC_MAX) == 0);
    }
    CHECK(agah_local_add_record(l, rec, 10) == AGAH_ETOOBIG);
    CHECK(l->n_records == AGAH_LOCAL_MAX_RECORDS);
    l->n_peers = AGAH_LOCAL_MAX_PEERS;
    for (size_t i = 0; i < AGAH_LOCAL_MAX_PEERS; i++)
        snprintf(l->peers[i], AGAH_ADDR_MAX, "peer-%zu.example.org:%zu", i, 7000 + i);

    CHECK(agah_local_write(p, me, l) == 0);
    CHECK(stat(p, &st) == 0 && (st.st_mode & 07777) == 0600);
    CHECK(agah_local_read(p, me, &got, &why) == 0);
    CHECK(got != NULL && same_local(l, got));
    agah_local_free(got);
    got = NULL;

    /* Another identity cannot open it. */
    memset(&why, 0, sizeof why);
    CHECK(agah_local_read(p, stranger, &got, &why) == AGAH_ECRYPTO && got == NULL);
    CHECK(why.msg[0] != '\0');
    CHECK(unlink(p) == 0);
out:
    free(rec);
    agah_local_free(l);
}

static void test_round_trip_empty(void)
{
    char p[256];
    struct agah_local *l = agah_local_new(), *got = NULL;

    path_of("relay-community", p);
    CHECK(l != NULL);
    if (l == NULL)
        return;
    l->role = AGAH_ROLE_RELAY; /* no name, no epochs, records or peers */
    CHECK(agah_local_write(p, me, l) == 0);
    CHECK(agah_local_read(p, me, &got, NULL) == 0);
    CHECK(got != NULL && same_local(l, got) && got->role == AGAH_ROLE_RELAY);
    agah_local_free(got);
    got = NULL;
    /* Rewriting replaces the whole state. */
    l->n_peers = 1;
    strcpy(l->peers[0], "10.0.0.1:7433");
    CHECK(agah_local_write(p, me, l) == 0);
    CHECK(agah_local_read(p, me, &got, NULL) == 0);
    CHECK(got != NULL && got->n_peers == 1 && strcmp(got->peers[0], "10.0.0.1:7433") == 0);
    agah_local_free(got);
    agah_local_free(l);
    CHECK(unlink(p) == 0);
}

static void test_alterations(void)
{
    char p[256], q[256];
    struct agah_local *l = small_local(), *got = NULL;
    uint8_t *file = NULL, *mut = NULL;
    size_t len = 0;
    int ok = 1, r;

    path_of("community", p);
    path_of("community.altered", q);
    if (l == NULL)
        return;
    CHECK(agah_local_write(p, me, l) == 0);
    CHECK(agah_file_read(p, AGAH_LOCAL_MAX, &file, &len) == 0);
    mut = malloc(len + 1);
    if (file == NULL || mut == NULL)
        goto out;
    /* One flipped bit anywhere: never opens. */
    for (size_t i = 0; i < len; i++) {
        memcpy(mut, file, len);
        mut[i] ^= (uint8_t)(1u << (i % 8));
        if (agah_file_write_atomic(q, mut, len, 0600) != 0)
            ok = 0;
        r = agah_local_read(q, me, &got, NULL);
        if (r == 0 || got != NULL)
            ok = 0;
        if (i < 8 && r != AGAH_EVERSION)
            ok = 0;
        if (i >= 8 && r != AGAH_ECRYPTO)
            ok = 0;
        agah_local_free(got);
        got = NULL;
    }
    CHECK(ok);
    /* Truncated at several lengths, and a byte appended. */
    ok = 1;
    for (size_t n = 0; n < len; n += (n < 64 ? 1 : 37)) {
        if (agah_file_write_atomic(q, file, n, 0600) != 0)
            ok = 0;
        r = agah_local_read(q, me, &got, NULL);
        if (r == 0 || got != NULL || (n < 8 + 24 + 16 + 1 && r != AGAH_ETRUNC))
            ok = 0;
        agah_local_free(got);
        got = NULL;
    }
    CHECK(ok);
    memcpy(mut, file, len);
    mut[len] = 0;
    CHECK(agah_file_write_atomic(q, mut, len + 1, 0600) == 0);
    CHECK(agah_local_read(q, me, &got, NULL) == AGAH_ECRYPTO && got == NULL);
    CHECK(unlink(q) == 0);
out:
    free(file);
    free(mut);
    agah_local_free(l);
    CHECK(unlink(p) == 0);
}

static void test_read_refusals(void)
{
    char p[256];
    struct agah_local *got = NULL;
    struct agah_why why = {{0}};
    uint8_t *big = calloc(1, AGAH_LOCAL_MAX + 1);

    path_of("missing", p);
    CHECK(agah_local_read(p, me, &got, &why) == AGAH_ENOENT && got == NULL);
    CHECK(strstr(why.msg, "no community file") != NULL);
    path_of("big", p);
    CHECK(big != NULL);
    if (big == NULL)
        return;
    memcpy(big, "AGAHLOC1", 8);
    CHECK(agah_file_write_atomic(p, big, AGAH_LOCAL_MAX + 1, 0600) == 0);
    CHECK(agah_local_read(p, me, &got, NULL) == AGAH_ETOOBIG && got == NULL);
    CHECK(unlink(p) == 0);
    free(big);
}

/* The writer refuses anything the reader would refuse, and writes nothing. */
static void test_write_refusals(void)
{
    char p[256];
    struct agah_local *l = small_local();
    struct stat st;

    path_of("refused", p);
    if (l == NULL)
        return;
    l->role = 3;
    CHECK(agah_local_write(p, me, l) == AGAH_EINVAL);
    l->role = AGAH_ROLE_MEMBER;
    memset(l->name, 'n', sizeof l->name); /* no NUL within AGAH_NAME_MAX + 1 */
    CHECK(agah_local_write(p, me, l) == AGAH_EINVAL);
    strcpy(l->name, "bad \xc3\x28 utf-8");
    CHECK(agah_local_write(p, me, l) == AGAH_EINVAL);
    strcpy(l->name, "Istanbul");
    strcpy(l->peers[0], "has space:1");
    CHECK(agah_local_write(p, me, l) == AGAH_EINVAL);
    strcpy(l->peers[0], "ok:1");
    l->n_epochs = AGAH_LOCAL_MAX_EPOCHS + 1;
    CHECK(agah_local_write(p, me, l) == AGAH_EINVAL);
    l->n_epochs = 0;
    l->n_peers = AGAH_LOCAL_MAX_PEERS + 1;
    CHECK(agah_local_write(p, me, l) == AGAH_EINVAL);
    l->n_peers = 0;
    CHECK(stat(p, &st) != 0);
    CHECK(agah_local_write(p, me, l) == 0);
    CHECK(unlink(p) == 0);

    CHECK(agah_local_add_record(l, NULL, 3) == AGAH_EINVAL);
    CHECK(agah_local_add_record(l, (const uint8_t *)"x", 0) == AGAH_EINVAL);
    {
        uint8_t *rec = calloc(1, AGAH_REC_MAX + 1);
        CHECK(rec != NULL && agah_local_add_record(l, rec, AGAH_REC_MAX + 1) == AGAH_ETOOBIG);
        free(rec);
    }
    agah_local_free(l);
}

/* `community create`: genesis, the founder's admission and epoch 1, the
 * genesis key held under the community id and carried by epoch 1's chain
 * link, names only inside the encrypted texts. */
static void test_found(void)
{
    struct agah_local *l = NULL;
    struct agah_rec g, a, e;
    char cn[AGAH_NAME_MAX + 1], fn[AGAH_NAME_MAX + 1], an[AGAH_NAME_MAX + 1];
    uint8_t prev[AGAH_KEY_LEN];
    char longname[AGAH_NAME_MAX + 2];

    CHECK(agah_local_found(me, "Yq4 community", "Yq4 founder", 1700000000, &l) == 0);
    if (l == NULL)
        return;
    CHECK(l->role == AGAH_ROLE_ORGANISER && strcmp(l->name, "Yq4 community") == 0);
    CHECK(l->n_records == 3 && l->n_epochs == 2);
    CHECK(agah_rec_decode(l->records[0], l->record_lens[0], NULL, &g, NULL) == 0 &&
          g.type == AGAH_REC_GENESIS && memcmp(g.id, l->community, 32) == 0);
    CHECK(agah_rec_decode(l->records[1], l->record_lens[1], l->community, &a, NULL) == 0 &&
          a.type == AGAH_REC_ADMISSION && a.u.admission.role == AGAH_ROLE_ORGANISER);
    CHECK(agah_rec_decode(l->records[2], l->record_lens[2], l->community, &e, NULL) == 0 &&
          e.type == AGAH_REC_EPOCH && e.u.epoch.number == 1);
    CHECK(memcmp(l->epochs[0].id, e.id, 32) == 0 && memcmp(l->epochs[1].id, l->community, 32) == 0);
    CHECK(e.u.epoch.n_prev == 1 && agah_rec_epoch_prev_open(&e, 0, l->epochs[0].key, prev) == 0 &&
          memcmp(prev, l->epochs[1].key, 32) == 0 &&
          memcmp(agah_rec_epoch_prev_id(&e, 0), l->community, 32) == 0);
    CHECK(agah_rec_open_names(&g, l->epochs[1].key, cn, fn, NULL) == 0 &&
          strcmp(cn, "Yq4 community") == 0 && strcmp(fn, "Yq4 founder") == 0);
    CHECK(memcmp(agah_rec_text_key_id(&a), e.id, 32) == 0 &&
          agah_rec_open_name(&a, l->epochs[0].key, an, NULL) == 0 && strcmp(an, "Yq4 founder") == 0);
    int clear = 0;
    for (size_t i = 0; i < l->n_records; i++)
        for (size_t k = 0; k + 3 <= l->record_lens[i]; k++)
            clear |= memcmp(l->records[i] + k, "Yq4", 3) == 0;
    CHECK(!clear);
    agah_local_free(l);
    l = NULL;
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    CHECK(agah_local_found(me, longname, "", 1, &l) == AGAH_EINVAL && l == NULL);
    CHECK(agah_local_found(me, "", "", 1, &l) == AGAH_EINVAL && l == NULL);
}

int main(void)
{
    CHECK(agah_init() == 0);
    snprintf(dir, sizeof dir, "/tmp/agah-test-local-XXXXXX");
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    CHECK(agah_identity_generate(&me) == 0);
    CHECK(agah_identity_generate(&stranger) == 0);
    if (me != NULL && stranger != NULL) {
        test_round_trip_full();
        test_round_trip_empty();
        test_alterations();
        test_read_refusals();
        test_write_refusals();
        test_found();
    }
    agah_identity_free(me);
    agah_identity_free(stranger);
    CHECK(rmdir(dir) == 0);
    printf("test_local: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}

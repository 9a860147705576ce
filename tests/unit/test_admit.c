/* Unit test of node_admit_peer (daemon/node/view.c), the handshake's admission
 * slot (issue 22): only the presented key's own admission (or the genesis
 * record for the founder) is taken; membership is decided before anything
 * is stored; a refused key leaves nothing behind: an alert, another key's
 * admission, a revoked key's admission, an expired admission. The
 * fixtures are node_fixture.h's. */
#define _GNU_SOURCE /* mkdtemp, nftw */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>
#include <agah/agah.h>
#include "node.h"

#include "check.h"
#include "node_fixture.h"

static int post(struct node *n, const char *note, uint8_t id[32])
{
    struct agah_alert_body b;
    struct agah_why why = {{0}};

    memset(&b, 0, sizeof b);
    b.kind = AGAH_KIND_NUMBER;
    (void)snprintf(b.target, sizeof b.target, "+15551230001");
    (void)snprintf(b.note, sizeof b.note, "%s", note);
    b.category = AGAH_CAT_HARASSMENT;
    b.severity = AGAH_SEV_WARNING;
    return node_post(n, &b, clk + 86400 * 30, id, &why);
}

static int is_member(struct node *n, const uint8_t pk[32])
{
    struct node_member *v = NULL;
    size_t cnt = 0;
    int found = 0;

    if (node_members(n, &v, &cnt) != 0)
        exit(2);
    for (size_t i = 0; i < cnt; i++)
        found |= memcmp(v[i].pk, pk, 32) == 0;
    free(v);
    return found;
}

/* The first record of `type` that node `from` holds, copied to *buf. */
static void first_of_type(struct node *from, int type, uint8_t **buf, size_t *len)
{
    struct idlist l = ids_of(from);

    *buf = NULL;
    for (size_t i = 0; i < l.n && *buf == NULL; i++) {
        struct agah_rec r;
        if (node_get(from, l.v[i], buf, len) != 0)
            exit(2);
        if (agah_rec_decode(*buf, *len, NULL, &r, NULL) != 0 || r.type != type) {
            free(*buf);
            *buf = NULL;
        }
    }
    free(l.v);
    if (*buf == NULL)
        exit(2);
}

static void test_slot(void)
{
    char da[512], db[512], dc[512], dd[512];
    struct agah_identity *fa, *cid, *did, *eid, *tid;
    struct node *a, *b, *c, *d;
    struct agah_why why = {{0}};
    const uint8_t *adm_c, *adm_d, *gen;
    uint8_t alert[32], rid[32], *abuf, *rev, *exp_adm;
    size_t adm_c_len, adm_d_len, gen_len, alen, rlen, exp_len;
    int role = -1;

    sub_dir("a", da);
    sub_dir("b", db);
    sub_dir("c", dc);
    sub_dir("d", dd);
    fa = make_founder(da, "c");
    a = open_node(da);
    /* b joins first and hears nothing more from a: every record below is
     * news to b, so only the slot could bring it. */
    b = invite_open(a, db, AGAH_ROLE_MEMBER, "bob", NULL, NULL);
    c = invite_open(a, dc, AGAH_ROLE_MEMBER, "carol", &cid, NULL);
    d = invite_open(a, dd, AGAH_ROLE_MEMBER, "dave", &did, NULL);
    CHECK(node_my_admission(c, &adm_c, &adm_c_len) == 0);
    CHECK(node_my_admission(d, &adm_d, &adm_d_len) == 0);
    CHECK(node_my_admission(a, &gen, &gen_len) == 0);
    CHECK(post(a, "from the organiser", alert) == 0);
    CHECK(node_get(a, alert, &abuf, &alen) == 0);
    CHECK(agah_identity_generate(&tid) == 0 && agah_identity_generate(&eid) == 0);
    size_t before = node_record_count(b);

    /* (a) A throwaway key with an alert in the slot: refused, not stored. */
    CHECK(node_admit_peer(b, agah_identity_pk(tid), abuf, alen, &role, &why) == AGAH_EPERM);
    CHECK(node_have(b, alert) == 0);
    /* (b) A throwaway key with another key's (valid) admission. */
    CHECK(node_admit_peer(b, agah_identity_pk(tid), adm_c, adm_c_len, &role, &why) ==
          AGAH_EPERM);
    CHECK(!is_member(b, agah_identity_pk(cid)));
    /* A member's key with someone else's admission is refused alike. */
    CHECK(node_admit_peer(b, agah_identity_pk(did), adm_c, adm_c_len, &role, &why) ==
          AGAH_EPERM);
    /* The genesis record is the founder's slot only. */
    CHECK(node_admit_peer(b, agah_identity_pk(tid), gen, gen_len, &role, &why) == AGAH_EPERM);
    CHECK(node_record_count(b) == before);

    /* (c) A revoked key presenting its own, valid admission that b has
     * not seen: refused, and the admission is not stored. */
    clk = T0 + 100;
    CHECK(node_revoke(a, agah_identity_pk(did), "lost phone", NULL) == 0);
    first_of_type(a, AGAH_REC_REVOCATION, &rev, &rlen);
    CHECK(node_ingest(b, rev, rlen, &why) == 1);
    before = node_record_count(b);
    agah_hash(adm_d, adm_d_len, rid);
    CHECK(node_admit_peer(b, agah_identity_pk(did), adm_d, adm_d_len, &role, &why) ==
          AGAH_EPERM);
    CHECK(node_have(b, rid) == 0 && node_record_count(b) == before);

    /* (d) An expired admission, signed by the organiser: refused and not
     * stored. */
    CHECK(agah_rec_admission(fa, node_community(a), agah_identity_pk(eid), AGAH_ROLE_MEMBER,
                             "erin", TEST_EID, TEST_EKEY, T0 + 10, T0 + 50, &exp_adm, &exp_len) == 0);
    agah_hash(exp_adm, exp_len, rid);
    CHECK(node_admit_peer(b, agah_identity_pk(eid), exp_adm, exp_len, &role, &why) ==
          AGAH_ENOENT);
    CHECK(node_have(b, rid) == 0 && node_record_count(b) == before);
    CHECK(!is_member(b, agah_identity_pk(eid)));

    /* (e) The honest case: carol presents her own admission, new to b;
     * she is accepted and her admission is stored. */
    agah_hash(adm_c, adm_c_len, rid);
    role = -1;
    CHECK(node_admit_peer(b, agah_identity_pk(cid), adm_c, adm_c_len, &role, &why) == 0);
    CHECK(role == AGAH_ROLE_MEMBER);
    CHECK(node_have(b, rid) == 1 && is_member(b, agah_identity_pk(cid)));
    /* Again: a duplicate costs nothing and is still accepted. */
    CHECK(node_admit_peer(b, agah_identity_pk(cid), adm_c, adm_c_len, &role, &why) == 0);
    /* The founder with the genesis record. */
    CHECK(node_admit_peer(b, agah_identity_pk(fa), gen, gen_len, &role, &why) == 0 &&
          role == AGAH_ROLE_ORGANISER);
    /* Garbage in the slot is refused. */
    CHECK(node_admit_peer(b, agah_identity_pk(tid), (const uint8_t *)"xyz", 3, &role, &why) < 0);
    CHECK(node_have(b, alert) == 0);

    free(abuf);
    free(rev);
    free(exp_adm);
    node_close(d);
    node_close(c);
    node_close(b);
    node_close(a);
    agah_identity_free(fa);
    agah_identity_free(cid);
    agah_identity_free(did);
    agah_identity_free(eid);
    agah_identity_free(tid);
}

int main(void)
{
    if (agah_init() != 0)
        return 2;
    (void)snprintf(base_dir, sizeof base_dir, "/tmp/agah-test-admit-XXXXXX");
    if (mkdtemp(base_dir) == NULL) {
        perror("mkdtemp");
        return 2;
    }
    test_slot();
    if (failed == 0)
        (void)nftw(base_dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    else
        fprintf(stderr, "test_admit: files kept in %s\n", base_dir);
    printf("test_admit: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}

/* A seeded model test of ingest on real nodes (issue 14): quotas,
 * membership and an insider who turns, together. test_model.c models
 * membership alone and test_quota.c one insider's posts on three nodes;
 * here a whole community of real `struct node`s (daemon/node/) lives
 * through a seeded script: a founder, two organisers (the second admitted
 * by the first), three to five members (the last joins while an
 * organiser's node is offline and receives nothing) and a relay. Members
 * post alerts, confirmations and retractions, some past their quota (a
 * modified client signs what its own node refuses). Then one organiser
 * turns informant: it posts noise up to its quota and past it, admits a
 * puppet that posts too, perhaps revokes an honest member, and is revoked
 * by the founder (with `--since` the turn, or keeping what its node
 * holds); not knowing it yet, it signs on (a post, perhaps another
 * revocation, perhaps a second puppet's admission). Records travel between
 * the nodes in random orders, in random parts, until nothing changes.
 * Then, from PROTOCOL.md's rules ("Validity, membership and the store",
 * "Who may sign what", "Per-author quotas", "Revoking"):
 *
 *  - every node, relay included, holds exactly the same record ids and
 *    derives the same membership;
 *  - no author holds more posts than the quota allows on any node, and an
 *    author in good standing holds exactly the posts the rule keeps;
 *  - no post or epoch the informant signs after its revocation (nor, with
 *    `--since`, after that point) stands anywhere, nor any post of its
 *    puppet; its admissions and revocations signed after it are stored (it
 *    stays in the closure) but admit and revoke nobody; an honest member it
 *    revoked before is revoked exactly when the founder's revocation keeps
 *    that revocation (rules 3 and 5);
 *  - `check` answers the same for every posted number on every reader,
 *    except for alerts under an informant's disowned epoch that only
 *    members opened (known_bug below, gap 1), counted and reported unless
 *    AGAH_MODEL_STRICT=1 makes them failures.
 *
 * `test_model_node SEED` runs one seed, `--seeds N` seeds 1..N; without
 * arguments the 10 seeds `make test` runs. A seed fixes the script (who
 * does what, when, and which records travel where), not the keys and
 * nonces, which come from libsodium: a failure shows on most runs of its
 * seed, not necessarily on every one. */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>
#include <agah/agah.h>
#include "log.h"
#include "node.h"
#include "quota.h"

#include "check.h"
#include "node_fixture.h"

#include "model_node_world.h"

/* ------------------------------------------------------------------ */
/* The rules, as PROTOCOL.md states them                               */

static int post_cmp(const void *pa, const void *pb)
{
    const struct mpost *a = pa, *b = pb;
    if (a->created != b->created)
        return a->created < b->created ? -1 : 1;
    return memcmp(a->id, b->id, 32);
}

/* "Per-author quotas": in (created, id) order a post is day-kept if fewer
 * than D posts of its class and UTC day come before it, kept if also
 * fewer than T day-kept posts of its class come before it. `p` holds one
 * author's valid posts; keep[i] for p[i] after sorting. */
static void quota_rule(struct mpost *p, size_t n, int *keep)
{
    int day_kept[MAXP];
    qsort(p, n, sizeof *p, post_cmp);
    for (size_t i = 0; i < n; i++) {
        int k = quota_class_of(p[i].len);
        uint32_t same = 0, before = 0;
        for (size_t j = 0; j < i; j++) {
            if (quota_class_of(p[j].len) != k)
                continue;
            same += p[j].created / DAY == p[i].created / DAY;
            before += (uint32_t)day_kept[j];
        }
        day_kept[i] = same < small_q.day_posts[k];
        keep[i] = day_kept[i] && before < small_q.posts[k];
    }
}

/* No author holds more posts on node i than the limits allow. */
static void check_quota_bound(size_t i)
{
    struct idlist l = ids_of(nd[i].n);
    struct {
        uint8_t pk[32];
        uint32_t total[2], per_day[2][8];
        uint64_t day[2][8];
    } a[MAXN + 4];
    size_t n_a = 0;

    memset(a, 0, sizeof a);
    for (size_t k = 0; k < l.n; k++) {
        uint8_t *buf;
        size_t len, x;
        struct agah_rec r;
        if (node_get(nd[i].n, l.v[k], &buf, &len) != 0 ||
            agah_rec_decode_stored(buf, len, NULL, &r, NULL) != 0)
            exit(2);
        if (r.type >= AGAH_REC_ALERT) {
            int c = quota_class_of(len);
            uint64_t d = r.created / DAY;
            for (x = 0; x < n_a && memcmp(a[x].pk, r.author, 32) != 0; x++)
                ;
            if (x == n_a && n_a < MAXN + 4)
                memcpy(a[n_a++].pk, r.author, 32);
            if (x < n_a) {
                size_t s;
                a[x].total[c]++;
                for (s = 0; s < 8 && a[x].per_day[c][s] != 0 && a[x].day[c][s] != d; s++)
                    ;
                if (s < 8) {
                    a[x].day[c][s] = d;
                    a[x].per_day[c][s]++;
                    CHECKF(a[x].per_day[c][s] <= small_q.day_posts[c],
                           "seed %llu: node %zu holds %u posts of class %d of one day by one "
                           "author",
                           cur_seed, i, a[x].per_day[c][s], c);
                }
            }
        }
        free(buf);
    }
    for (size_t x = 0; x < n_a; x++)
        for (int c = 0; c < 2; c++)
            CHECKF(a[x].total[c] <= small_q.posts[c],
                   "seed %llu: node %zu holds %u posts of class %d by one author", cur_seed, i,
                   a[x].total[c], c);
    free(l.v);
}

/* An author in good standing all along: every node holds exactly the
 * posts the rule keeps among all it signed. */
static void check_quota_exact(size_t author)
{
    struct mpost p[MAXP];
    int keep[MAXP];
    size_t n = 0;
    for (size_t k = 0; k < n_posts; k++)
        if (posts[k].author == author)
            p[n++] = posts[k];
    quota_rule(p, n, keep);
    for (size_t i = 0; i < n_nd; i++)
        for (size_t k = 0; k < n; k++)
            CHECKF(node_have(nd[i].n, p[k].id) == keep[k],
                   "seed %llu: node %zu %s a post by node %zu (type %d, %zu bytes, day %llu)",
                   cur_seed, i, keep[k] ? "lacks" : "holds", author, p[k].type, p[k].len,
                   (unsigned long long)(p[k].created / DAY - T0 / DAY));
}

static int alert_same(const struct node_alert *a, const struct node_alert *b)
{
    return memcmp(a->id, b->id, 32) == 0 && a->status == b->status &&
           a->confirmations == b->confirmations && a->author_revoked == b->author_revoked &&
           a->has_retractor == b->has_retractor &&
           (!a->has_retractor || memcmp(a->retracted_by, b->retracted_by, 32) == 0) &&
           strcmp(a->body.note, b->body.note) == 0;
}

/* How often each branch of the script ran, so a run shows it covered them. */
static unsigned long long st_plain, st_mx, st_mx_revoked, st_my, st_puppet2;

static size_t idx_of(const uint8_t pk[32])
{
    for (size_t i = 0; i < n_nd; i++)
        if (memcmp(pk_of(i), pk, 32) == 0)
            return i;
    return SIZE_MAX;
}

static int strict; /* AGAH_MODEL_STRICT=1: no allowance for the known bugs */
static unsigned long long seeds_bug[4];
static size_t reinstated = SIZE_MAX; /* the honest member whose revocation stopped applying */
static size_t informant = SIZE_MAX; /* the organiser who turns */

/* When node `reader`'s admission that gives its role was signed, in node
 * holder's view (UINT64_MAX: not a member). */
static uint64_t admitted_at(size_t holder, size_t reader)
{
    struct node_member *mm = NULL;
    size_t n = 0;
    uint64_t at = UINT64_MAX;
    if (node_members(nd[holder].n, &mm, &n) == 0)
        for (size_t k = 0; k < n; k++)
            if (memcmp(mm[k].pk, pk_of(reader), 32) == 0 && !mm[k].revoked)
                at = mm[k].admitted;
    free(mm);
    return at;
}

/* Which known bug, if any, hides alert `id` (held by node `holder`) from
 * node `reader`, both holding the same records by then: 0 none; 1 its
 * EPOCH record is stored nowhere; 2 the reader is the member the informant
 * revoked, whose revocation then stopped applying, and the alert's epoch
 * was issued while it stood, without the reader; 3 the alert's epoch
 * leaves out the reader, admitted before that epoch was made.
 *
 * All are alerts that are valid (an alert's validity does not depend on
 * its epoch) under an epoch that leaves out a reader. Since an EPOCH links
 * to every key its organiser holds with posts that the posting epoch does
 * not reach (node__links, up to 16), 2 and 3 are repaired by the next
 * rekey and fail this test if seen; 1 is repaired when an honest
 * organiser's node opened the disowned epoch before its revocation came,
 * and stays (counted, not failed, unless AGAH_MODEL_STRICT=1) when only
 * members did: a member issues no epochs. 1: an EPOCH the informant signed after the
 * point its revocation keeps is invalid everywhere, so only the nodes that
 * opened it before can read the alerts members posted under it in good
 * faith. 2: an epoch that rightly left out a member revoked at the time
 * stays the epoch of what was posted under it when the revocation stops
 * applying (the informant's revocation not kept by its own). 3 (seen once
 * in 200 seeds, its path inferred from the records, not traced): two
 * organisers each issued an epoch of one number, one of them without a
 * member the other had just admitted; a node whose newest key was still on
 * its way posted under "the best clean epoch it holds" (PROTOCOL.md,
 * "Epochs and rekeying"), which by the order complete, number, lowest id
 * can be the one without that member when no epoch it holds is complete
 * (a newer member is in none of them). Each time `check` differs between
 * nodes that hold the same records. */
static int known_bug(size_t holder, size_t reader, const uint8_t id[32])
{
    uint8_t *buf, *ebuf;
    size_t len, elen;
    struct agah_rec r, e;
    int bug = 0;

    if (node_get(nd[holder].n, id, &buf, &len) != 0)
        return 0;
    if (agah_rec_decode_stored(buf, len, NULL, &r, NULL) == 0) {
        if (node_get(nd[holder].n, r.u.sealed.epoch, &ebuf, &elen) != 0) {
            /* Excused only if no honest organiser's node reads it: one
             * that does links the key into its next epoch (stray keys). */
            bug = 1;
            for (size_t k = 0; k < n_nd; k++) {
                struct node_alert a;
                if ((nd[k].kind == K_FOUNDER || nd[k].kind == K_ORG) && k != informant &&
                    nd[k].n != NULL && node_alert_get(nd[k].n, id, &a) == 0)
                    bug = 0;
            }
        } else {
            if (agah_rec_decode_stored(ebuf, elen, NULL, &e, NULL) == 0 &&
                !agah_ids_find(agah_rec_epoch_member(&e, 0), e.u.epoch.n, 32, pk_of(reader)))
                bug = reader == reinstated ? 2 : admitted_at(holder, reader) <= e.created ? 3 : 0;
            free(ebuf);
        }
    }
    free(buf);
    return bug;
}

static int answer_has(const struct node_alert *v, size_t n, const uint8_t id[32])
{
    for (size_t k = 0; k < n; k++)
        if (memcmp(v[k].id, id, 32) == 0)
            return 1;
    return 0;
}

/* Removes from node holder's answer `v` to `check` the alerts missing
 * from node lacker's answer `w` because of a known bug, counting them in
 * seen[bug] (unless strict: then nothing is removed and the comparison
 * fails). Call it for both answers before removing anything. */
static size_t mark_known(size_t holder, size_t lacker, const struct node_alert *v, size_t n,
                         const struct node_alert *w, size_t nw, int *drop, size_t seen[4])
{
    size_t c = 0;
    for (size_t k = 0; k < n; k++) {
        int bug = answer_has(w, nw, v[k].id) ? 0 : known_bug(holder, lacker, v[k].id);
        seen[bug] += bug != 0;
        drop[k] = bug == 1 && !strict; /* 2 and 3 are closed: never excused */
        c += (size_t)drop[k];
    }
    return c;
}

static void drop_marked(struct node_alert *v, size_t *n, const int *drop)
{
    size_t kept = 0;
    for (size_t k = 0; k < *n; k++)
        if (!drop[k])
            v[kept++] = v[k];
    *n = kept;
}

/* For a failing seed: why the alerts of node `from`'s answer `v` are
 * missing from node `to`'s answer `w` (whose alert, under which epoch,
 * whether `to` is among that epoch's recipients). */
static void explain(size_t from, size_t to, const struct node_alert *v, size_t nv,
                    const struct node_alert *w, size_t nw)
{
    for (size_t k = 0; k < nv; k++) {
        uint8_t *buf = NULL, *ebuf = NULL;
        size_t len, elen, m;
        struct agah_rec r, e;
        int rec = 0;
        for (m = 0; m < nw && memcmp(v[k].id, w[m].id, 32) != 0; m++)
            ;
        if (m < nw || node_get(nd[from].n, v[k].id, &buf, &len) != 0)
            continue;
        if (agah_rec_decode_stored(buf, len, NULL, &r, NULL) == 0 &&
            node_get(nd[from].n, r.u.sealed.epoch, &ebuf, &elen) == 0 &&
            agah_rec_decode_stored(ebuf, elen, NULL, &e, NULL) == 0) {
            for (size_t x = 0; x < e.u.epoch.n; x++)
                rec |= memcmp(agah_rec_epoch_member(&e, x), pk_of(to), 32) == 0;
            fprintf(stderr, "  node %zu lacks an alert by node %zu of day %llu under epoch %llu "
                    "by node %zu of day %llu, %zu recipients, node %zu %s them\n", to,
                    idx_of(r.author), (unsigned long long)(r.created / DAY - T0 / DAY),
                    (unsigned long long)e.u.epoch.number, idx_of(e.author),
                    (unsigned long long)(e.created / DAY - T0 / DAY), e.u.epoch.n, to,
                    rec ? "among" : "not among");
        } else {
            fprintf(stderr, "  node %zu lacks an alert by node %zu whose epoch record is not "
                    "stored\n", to, idx_of(r.author));
        }
        free(buf);
        free(ebuf);
    }
}

/* For a failing seed: every epoch node f stores, and whom it misses. */
static void explain_epochs(size_t f)
{
    struct idlist l = ids_of(nd[f].n);
    struct node_member *mm = NULL;
    size_t n_mm = 0;
    if (node_members(nd[f].n, &mm, &n_mm) == 0)
        for (size_t k = 0; k < n_mm; k++)
            fprintf(stderr, "  member node %zu role %d revoked %d admitted by %zu at %llu, "
                    "invited until %llu\n", idx_of(mm[k].pk), mm[k].role, mm[k].revoked,
                    mm[k].has_admitter ? idx_of(mm[k].admitted_by) : SIZE_MAX,
                    (unsigned long long)(mm[k].admitted - T0),
                    (unsigned long long)(mm[k].invited_until ? mm[k].invited_until - T0 : 0));
    free(mm);
    for (size_t k = 0; k < l.n; k++) {
        uint8_t *buf;
        size_t len;
        struct agah_rec e;
        if (node_get(nd[f].n, l.v[k], &buf, &len) != 0)
            continue;
        if (agah_rec_decode_stored(buf, len, NULL, &e, NULL) == 0 && e.type == AGAH_REC_EPOCH) {
            fprintf(stderr, "  epoch %llu by node %zu at %llu to",
                    (unsigned long long)e.u.epoch.number,
                    idx_of(e.author), (unsigned long long)(e.created - T0));
            for (size_t x = 0; x < e.u.epoch.n; x++)
                fprintf(stderr, " %zu", idx_of(agah_rec_epoch_member(&e, x)));
            fprintf(stderr, "\n");
        }
        free(buf);
    }
    for (size_t i = 0; i < n_nd; i++)
        fprintf(stderr, "  node %zu posts under epoch %llu\n", i,
                (unsigned long long)node_epoch_number(nd[i].n));
    free(l.v);
}

/* ------------------------------------------------------------------ */
/* One seed                                                            */

/* What one seed's script did, for the checks after it. */
struct script {
    size_t f, o1, o2, relay, mem[5], n_mem, inf, puppet, mx, my;
    uint8_t mx_rev[32], frev_id[32];
    uint8_t after_rev[LOG_MAX * 2][32]; /* what the informant signed after */
    int after_type[LOG_MAX * 2];
    size_t n_after;
    struct agah_identity *puppet2;
    int plain, mx_held;
    uint64_t t_turn, t_rev, since;
};

/* Day 0: the founding and the admissions; the last member joins while an
 * organiser's node is away. */
static void script_found(struct script *sc)
{
    size_t away;

    sc->f = add_node(K_FOUNDER, 0);
    sc->o1 = add_node(K_ORG, sc->f);
    gossip();
    sc->o2 = add_node(K_ORG, sc->o1);
    sc->relay = add_node(K_RELAY, sc->f);
    sc->n_mem = 3 + rnd(3);
    away = rnd(2) ? sc->o1 : sc->o2;
    for (size_t k = 0; k < sc->n_mem; k++) {
        size_t by;
        gossip();
        if (k == sc->n_mem - 1)
            nd[away].offline = 1; /* the last one joins while it is away */
        do
            by = rnd(3) == 0 ? sc->f : rnd(2) ? sc->o1 : sc->o2;
        while (nd[by].offline);
        sc->mem[k] = add_node(K_MEMBER, by);
    }
    for (int k = 0; k < 3; k++)
        gossip();
    nd[away].offline = 0;
    CHECKF(settle() > 0, "seed %llu: the admissions do not settle", cur_seed);
}

/* Days 1 and 2: posts, some past the quota, while records travel. */
static void script_post_days(struct script *sc)
{
    for (int day = 1; day <= 2; day++) {
        clk = utc_day(day) + 60;
        /* One member fills its day from its own node, which the others
         * receive in part; later its modified client backdates more. */
        size_t flooder = sc->mem[rnd((uint32_t)sc->n_mem)];
        for (int k = 0; k < 6 && act_alert(flooder, 0) == 0; k++)
            clk += 1 + rnd(600);
        gossip();
        for (int s = 0; s < 14; s++) {
            size_t a = rnd(4) == 0 ? (rnd(3) == 0 ? sc->f : rnd(2) ? sc->o1 : sc->o2)
                                   : sc->mem[rnd((uint32_t)sc->n_mem)];
            act(a);
            if (s % 4 == 1)
                act_forge(flooder);
            if (s % 3 == 2)
                gossip();
        }
    }
    CHECKF(settle() > 0, "seed %llu: the posts do not settle", cur_seed);
}

/* Day 3: an organiser turns: noise to its quota and past it, a puppet that
 * posts, perhaps a revocation of an honest member. */
static void script_turn(struct script *sc)
{
    size_t inf;

    inf = sc->inf = informant = rnd(2) ? sc->o1 : sc->o2;
    clk = utc_day(3) + 60;
    sc->t_turn = clk;
    for (int large = 0; large < 2; large++)
        for (int k = 0; k < 12 && act_alert(inf, large) == 0; k++)
            clk++;
    for (int k = 0; k < 3; k++)
        act_forge(inf);
    clk += 10;
    sc->puppet = add_node(K_PUPPET, inf);
    for (int k = 0; k < 3; k++) {
        clk++;
        (void)act_alert(sc->puppet, 0);
    }
    if (rnd(2)) {
        const struct logged *l;
        sc->mx = sc->mem[rnd((uint32_t)sc->n_mem)];
        clk += 5;
        nd[inf].n_log = 0;
        CHECK(node_revoke(nd[inf].n, pk_of(sc->mx), "", NULL) == 0);
        l = logged_last(inf, AGAH_REC_REVOCATION);
        CHECK(l != NULL);
        if (l == NULL)
            exit(2);
        memcpy(sc->mx_rev, l->id, 32);
        /* Sometimes the founder's node links with the informant's now. */
        if (rnd(2))
            (void)copy_records(nd[sc->f].n, nd[inf].n, &rng, 100, 2);
    }
    /* The honest go on; the informant's records spread in part. */
    for (int s = 0; s < 8; s++) {
        size_t a = sc->mem[rnd((uint32_t)sc->n_mem)];
        if (a != sc->mx)
            act(a);
        if (s % 2 == 1)
            gossip();
    }
}

/* Day 4: the founder revokes it, either purging all it signed since a
 * moment at or before the turn (`revoke --since`), or keeping what its
 * node holds (`revoke`); then the puppet, if its node knows it. */
static void script_revoke(struct script *sc)
{
    size_t f = sc->f, inf = sc->inf;
    const struct logged *frev;
    int role;

    clk = utc_day(4) + 60;
    sc->t_rev = clk;
    sc->plain = rnd(2);
    sc->since = sc->plain ? 0 : sc->t_turn - rnd(600);
    if (sc->mx != SIZE_MAX)
        sc->mx_held = node_have(nd[f].n, sc->mx_rev);
    nd[f].n_log = 0;
    CHECK(node_revoke_since(nd[f].n, pk_of(inf), "informant",
                            rnd(2) ? NODE_REVOKE_RETRACT_ALERTS : 0,
                            sc->since, NULL, NULL) == 0);
    frev = logged_last(f, AGAH_REC_REVOCATION);
    CHECK(frev != NULL && memcmp(frev->member, pk_of(inf), 32) == 0);
    if (frev == NULL)
        exit(2);
    memcpy(sc->frev_id, frev->id, 32);
    if (node_member_status(nd[f].n, pk_of(sc->puppet), &role) == 0)
        CHECK(node_revoke_since(nd[f].n, pk_of(sc->puppet), "puppet", 0, sc->t_turn, NULL,
                                NULL) == 0);
}

/* The informant has not heard yet: it signs on (a post, perhaps another
 * revocation, perhaps a second puppet's admission), and so does the
 * puppet, while the others go on. */
static void script_informant_goes_on(struct script *sc)
{
    size_t inf = sc->inf;

    clk += 5;
    nd[inf].n_log = 0;
    (void)act_alert(inf, 0);
    if (rnd(2)) {
        do
            sc->my = sc->mem[rnd((uint32_t)sc->n_mem)];
        while (sc->my == sc->mx);
        clk++;
        CHECK(node_revoke(nd[inf].n, pk_of(sc->my), "", NULL) == 0);
    }
    if (rnd(2)) {
        /* And it invites a second puppet (only the code is made). */
        char *code = NULL;
        clk++;
        if (agah_identity_generate(&sc->puppet2) != 0)
            exit(2);
        CHECK(node_invite(nd[inf].n, agah_identity_pk(sc->puppet2), AGAH_ROLE_ORGANISER, "p2",
                          NULL, &code, NULL, NULL) == 0);
        free(code);
    }
    for (size_t k = 0; k < nd[inf].n_log; k++) {
        CHECK(nd[inf].log[k].created > sc->t_rev);
        sc->after_type[sc->n_after] = nd[inf].log[k].type;
        memcpy(sc->after_rev[sc->n_after++], nd[inf].log[k].id, 32);
    }
    clk++;
    nd[sc->puppet].n_log = 0;
    (void)act_alert(sc->puppet, 0);
    for (int s = 0; s < 10; s++) {
        size_t a = rnd(3) == 0 ? sc->f : sc->mem[rnd((uint32_t)sc->n_mem)];
        if (a != sc->mx)
            act(a);
        if (s % 3 == 2)
            gossip();
    }
}

/* Day 5: everything travels until nothing changes; some time later an
 * organiser's node looks again for keys of posts the posting epoch does
 * not reach (NODE_STRAY_EVERY, 10 minutes) and links them into a new
 * epoch, which then reaches everyone. */
static void script_settle(void)
{
    clk = utc_day(5) + 60;
    CHECKF(settle() > 0, "seed %llu: the community does not settle", cur_seed);
    clk += 601;
    tick_all();
    CHECKF(settle() > 0, "seed %llu: the community does not settle again", cur_seed);
}

/* 1. One set of records and one membership everywhere. */
static void check_one_state(const struct script *sc)
{
    struct idlist ref = ids_of(nd[sc->f].n);
    for (size_t i = 1; i < n_nd; i++) {
        struct idlist l = ids_of(nd[i].n);
        CHECKF(l.n == ref.n && memcmp(l.v, ref.v, l.n * 32) == 0,
               "seed %llu: node %zu (kind %d) holds %zu records, the founder's %zu, not the same",
               cur_seed, i, nd[i].kind, l.n, ref.n);
        free(l.v);
        for (size_t k = 0; k < n_nd; k++) {
            int ra = -1, rb = -1;
            int sa = node_member_status(nd[sc->f].n, pk_of(k), &ra);
            int sb = node_member_status(nd[i].n, pk_of(k), &rb);
            CHECKF(sa == sb && (sa != 0 || ra == rb),
                   "seed %llu: node %zu sees node %zu as %d/%d, the founder %d/%d", cur_seed,
                   i, k, sb, rb, sa, ra);
        }
    }
    free(ref.v);
}

/* 2. Quotas: bounded everywhere, exact for authors in good standing. */
static void check_quotas(const struct script *sc)
{
    for (size_t i = 0; i < n_nd; i++)
        check_quota_bound(i);
    for (size_t a = 0; a < n_nd; a++) {
        int role;
        if (a != sc->inf && a != sc->puppet && nd[a].kind != K_RELAY &&
            node_member_status(nd[sc->f].n, pk_of(a), &role) == 0)
            check_quota_exact(a);
    }
}

/* 3. The informant and its puppet; the honest member it revoked; the
 * relay. */
static void check_informant(struct script *sc)
{
    CHECKF(node_member_status(nd[sc->f].n, pk_of(sc->inf), NULL) == AGAH_EPERM,
           "seed %llu: the informant is not revoked", cur_seed);
    CHECKF(node_member_status(nd[sc->f].n, pk_of(sc->puppet), NULL) != 0,
           "seed %llu: the puppet is a member", cur_seed);
    for (size_t i = 0; i < n_nd; i++) {
        /* "Who may sign what": an ADMISSION or REVOCATION by a key of the
         * closure is stored even when it does not apply (rule 5 then
         * gives it no effect, asserted below); anything else the informant
         * signed after its revocation does not stand. */
        for (size_t k = 0; k < sc->n_after; k++)
            if (sc->after_type[k] != AGAH_REC_ADMISSION && sc->after_type[k] != AGAH_REC_REVOCATION)
                CHECKF(!node_have(nd[i].n, sc->after_rev[k]),
                       "seed %llu: node %zu holds a record (type %d) the informant signed after "
                       "its revocation", cur_seed, i, sc->after_type[k]);
        for (size_t k = 0; k < n_posts; k++) {
            const struct mpost *p = &posts[k];
            if (p->author == sc->puppet ||
                (p->author == sc->inf && !sc->plain && p->created >= sc->since))
                CHECKF(!node_have(nd[i].n, p->id),
                       "seed %llu: node %zu holds a post by the %s (day %llu)", cur_seed, i,
                       p->author == sc->puppet ? "puppet" : "informant, purged by --since",
                       (unsigned long long)(p->created / DAY - T0 / DAY));
        }
    }
    /* The honest member the informant revoked before its revocation: rule
     * 3 and 5 make that revocation apply exactly when the founder's keeps
     * it, and "Revoking" has `revoke` keep every record of the key its node
     * holds (none signed at or after `--since`). */
    if (sc->mx != SIZE_MAX) {
        uint8_t *buf;
        size_t len;
        struct agah_rec r;
        int expect = sc->plain && sc->mx_held, kept = -1;
        st_mx++;
        st_mx_revoked += (unsigned long long)expect;
        if (node_get(nd[sc->f].n, sc->frev_id, &buf, &len) == 0) {
            if (agah_rec_decode_stored(buf, len, NULL, &r, NULL) == 0)
                kept = agah_rec_revocation_keeps(&r, sc->mx_rev);
            free(buf);
        }
        CHECKF(kept == expect, "seed %llu: the founder's revocation keeps the informant's "
               "revocation of node %zu: %d, expected %d", cur_seed, sc->mx, kept, expect);
        CHECKF((node_member_status(nd[sc->f].n, pk_of(sc->mx), NULL) == AGAH_EPERM) == expect,
               "seed %llu: honest node %zu revoked by the informant: revoked %d, the rules say %d",
               cur_seed, sc->mx,
               node_member_status(nd[sc->f].n, pk_of(sc->mx), NULL) == AGAH_EPERM, expect);
    }
    st_plain += (unsigned long long)sc->plain;
    st_my += sc->my != SIZE_MAX;
    if (sc->puppet2 != NULL) {
        st_puppet2++;
        for (size_t i = 0; i < n_nd; i++)
            CHECKF(node_member_status(nd[i].n, agah_identity_pk(sc->puppet2), NULL) != 0,
                   "seed %llu: node %zu takes the organiser the informant admitted after its "
                   "revocation as a member", cur_seed, i);
        agah_identity_free(sc->puppet2);
    }
    if (sc->my != SIZE_MAX)
        CHECKF(node_member_status(nd[sc->f].n, pk_of(sc->my), NULL) == 0,
               "seed %llu: node %zu, revoked by the informant after its revocation, is out",
               cur_seed, sc->my);

    /* The relay holds every record and reads none ("The alert view"). */
    for (unsigned t = 0; t < N_TARGETS; t++) {
        struct node_alert *v = NULL;
        size_t nv = 1;
        CHECKF(node_check(nd[sc->relay].n, target_of(t), &v, &nv) == 0 && nv == 0,
               "seed %llu: the relay answers check with %zu alerts", cur_seed, nv);
        free(v);
    }

}

/* 4. `check` answers alike on every reader. */
static void check_answers(const struct script *sc)
{
    /* Except, unless AGAH_MODEL_STRICT=1, for the alerts gap 1 hides
     * (known_bug): counted and reported. */
    size_t seen[4] = {0, 0, 0, 0};
    int explained = 0;
    reinstated = sc->mx != SIZE_MAX && node_member_status(nd[sc->f].n, pk_of(sc->mx), NULL) == 0
                     ? sc->mx
                     : SIZE_MAX;
    for (size_t i = 0; i < n_nd; i++) {
        int role;
        if (i == sc->f || nd[i].kind == K_RELAY || i == sc->inf || i == sc->puppet ||
            node_member_status(nd[sc->f].n, pk_of(i), &role) != 0)
            continue;
        for (unsigned t = 0; t < N_TARGETS; t++) {
            struct node_alert *a = NULL, *b = NULL;
            size_t na = 0, nb = 0;
            int same;
            CHECK(node_check(nd[sc->f].n, target_of(t), &a, &na) == 0);
            CHECK(node_check(nd[i].n, target_of(t), &b, &nb) == 0);
            {
                int da[MAXP], db[MAXP];
                if (na > MAXP || nb > MAXP)
                    exit(2);
                (void)mark_known(sc->f, i, a, na, b, nb, da, seen);
                (void)mark_known(i, sc->f, b, nb, a, na, db, seen);
                drop_marked(a, &na, da);
                drop_marked(b, &nb, db);
            }
            same = na == nb;
            for (size_t k = 0; same && k < na; k++)
                same = alert_same(&a[k], &b[k]);
            if (!same) {
                explain(sc->f, i, a, na, b, nb);
                explain(i, sc->f, b, nb, a, na);
                if (!explained++)
                    explain_epochs(sc->f);
            }
            CHECKF(same, "seed %llu: node %zu answers check %s with %zu alerts, the founder "
                   "with %zu, not the same (unreadable here %zu, there %zu)", cur_seed, i,
                   target_of(t), nb, na, node_unreadable(nd[i].n), node_unreadable(nd[sc->f].n));
            free(a);
            free(b);
        }
    }

    if (seen[1] > 0) {
        fprintf(stderr, "seed %llu: KNOWN BUG 1: %zu times a reader's `check` lacked an alert "
                "the founder's shows, or the other way round, sealed under an epoch whose record "
                "no node stores (one the informant issued that its revocation does not keep)\n",
                cur_seed, seen[1]);
        seeds_bug[1]++;
    }
    if (seen[2] > 0) {
        fprintf(stderr, "seed %llu: KNOWN BUG 2: %zu times node %zu's `check` lacked an alert "
                "sealed under an epoch that left it out while the informant's revocation of it "
                "stood, which no longer applies\n", cur_seed, seen[2], reinstated);
        seeds_bug[2]++;
    }
    if (seen[3] > 0) {
        fprintf(stderr, "seed %llu: KNOWN BUG 3: %zu times a reader's `check` lacked an alert "
                "sealed under an epoch that leaves out that reader, admitted before the epoch "
                "was made (posted under the best clean epoch held while the newest was on its "
                "way)\n", cur_seed, seen[3]);
        seeds_bug[3]++;
    }
}

static void run(void)
{
    struct script sc = {.puppet = SIZE_MAX, .mx = SIZE_MAX, .my = SIZE_MAX};

    n_nd = n_posts = 0;
    rng = cur_seed * 0x9e3779b97f4a7c15ull + 7;
    clk = T0 + 600;
    script_found(&sc);
    script_post_days(&sc);
    script_turn(&sc);
    script_revoke(&sc);
    script_informant_goes_on(&sc);
    script_settle();
    check_one_state(&sc);
    check_quotas(&sc);
    check_informant(&sc);
    check_answers(&sc);
    for (size_t i = 0; i < n_nd; i++) {
        node_close(nd[i].n);
        agah_identity_free(nd[i].id);
    }
}

static unsigned long long first_seed = 1, n_seeds = 10;

static void test_model(void)
{
    unsigned long long bad = 0;
    char keep_base[sizeof base_dir];

    memcpy(keep_base, base_dir, sizeof keep_base);
    for (cur_seed = first_seed; cur_seed < first_seed + n_seeds; cur_seed++) {
        int before = failed;
        /* Each seed in a directory of its own, removed if it passed. */
        if (snprintf(base_dir, sizeof base_dir, "%.200s/s%llu", keep_base, cur_seed) >=
                (int)sizeof base_dir ||
            mkdir(base_dir, 0700) != 0)
            exit(2);
        run();
        if (failed != before) {
            bad++;
            fprintf(stderr, "test_model_node: seed %llu failed; rerun with: test_model_node %llu\n",
                    cur_seed, cur_seed);
        } else {
            remove_tree(base_dir);
        }
    }
    memcpy(base_dir, keep_base, sizeof keep_base);
    printf("test_model_node: %llu seeds, %llu failed; known bugs: %llu seeds with alerts under "
           "a void epoch, %llu under an epoch without a reinstated member, %llu under an older "
           "epoch without a member%s\n", n_seeds, bad, seeds_bug[1], seeds_bug[2], seeds_bug[3],
           strict ? " (strict: counted as failures)" : "");
    printf("test_model_node: plain revoke %llu (else --since), honest member revoked by the "
           "informant %llu (revoked by the rules %llu), after its revocation %llu, second "
           "puppet %llu\n", st_plain, st_mx, st_mx_revoked, st_my, st_puppet2);
}

int main(int argc, char **argv)
{
    static const struct fixture_test tests[] = {{"model", test_model}};

    log_set_level(LOG_ERROR);
    strict = getenv("AGAH_MODEL_STRICT") != NULL && strcmp(getenv("AGAH_MODEL_STRICT"), "1") == 0;
    if (argc == 3 && strcmp(argv[1], "--seeds") == 0) {
        n_seeds = strtoull(argv[2], NULL, 10);
    } else if (argc == 2) {
        first_seed = strtoull(argv[1], NULL, 10);
        n_seeds = 1;
    } else if (argc != 1) {
        fprintf(stderr, "usage: test_model_node [SEED | --seeds N]\n");
        return 2;
    }
    return fixture_run("test_model_node", tests, sizeof tests / sizeof tests[0]);
}

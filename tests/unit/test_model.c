/* A deterministic model test of the membership and epoch rules
 * (daemon/node/membership.c, proto/PROTOCOL.md "Validity"): a community of a
 * founder, one to three organisers (one of them admitted by another, a
 * rank below), members and a relay lives through a seeded script of
 * admissions, alerts, revocations and insider attacks while its records
 * travel between simulated nodes in a random order, split into two sides
 * for a while, with an organiser offline for part of it. Organiser nodes
 * issue epochs as agahd does (memb_needs_rekey). Then everything is
 * delivered to everyone, in another random order, until nothing new is
 * made, and the test asserts:
 *
 *  - every node derives the same membership, the same revocations and the
 *    same posting epoch from the same records;
 *  - every valid organiser and member opens the posting epoch's key, and no
 *    revoked key (or relay) does;
 *  - what a revoked insider signs after its revocation, whatever time it
 *    claims (an organiser admitted by it, a revocation of the founder or of
 *    an organiser of its rank, an alert), is invalid everywhere; one
 *    organiser alone never removes the founder.
 *
 * Each run is reproducible from its seed: `test_model SEED` runs that one,
 * `test_model --seeds N` runs seeds 1..N (make test runs 200; make soak
 * many more); `test_model --corpus DIR` writes 8 communities' membership
 * records as seeds for tests/fuzz/fuzz_memb. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <agah/agah.h>
#include "membership.h"

#include "check.h"

#define T0 1700000000ull
#define MAXN 12
#define MAXR 1024
/* A new organiser waits this many steps for the records of the epoch keys
 * its code carried before it issues one itself (NODE_REKEY_WAIT_KEYS). */
#define HOLD_STEPS 30

enum { R_FOUNDER, R_ORG, R_MEMBER, R_RELAY, R_PUPPET };

struct rec {
    uint8_t *buf;
    size_t len;
    uint8_t id[32], author[32];
    int type;
    int origin;     /* node that made it */
    int side;       /* -1: anyone may get it; else only that side until the heal */
    uint64_t created;
    int forged;     /* signed by a revoked key after its revocation */
    uint8_t key[32], net[32]; /* EPOCH: its key and network secret (the model sees all) */
};

struct snode {
    struct agah_identity *id;
    int kind;       /* R_* */
    int exists;     /* admitted and started */
    int offline;
    int side;
    uint64_t started;
    struct memb m;
    uint8_t have[MAXR];
    int held[8];    /* epoch records whose keys its join code carried */
    size_t inviter;
    size_t n_held;
};

static struct rec pool[MAXR];
static size_t n_pool;
static struct snode nodes[MAXN];
static size_t n_nodes;
static uint8_t community[32];
static uint64_t step;
static int healed;
static uint64_t rs;
static const char *corpus_dir; /* --corpus DIR: write fuzz_memb seeds */

static uint64_t rnd(void)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return rs;
}

static uint64_t now(void) { return T0 + step; }

/* Adds a made record to the pool; returns its index. */
static size_t pool_add(uint8_t *buf, size_t len, int origin, int forged)
{
    struct agah_rec r;
    struct rec *p;
    if (n_pool >= MAXR || agah_rec_decode(buf, len, NULL, &r, NULL) != 0)
        exit(2);
    p = &pool[n_pool];
    p->buf = buf;
    p->len = len;
    memcpy(p->id, r.id, 32);
    memcpy(p->author, r.author, 32);
    p->type = r.type;
    p->origin = origin;
    p->side = origin >= 0 && !healed ? nodes[origin].side : -1;
    p->created = r.created;
    p->forged = forged;
    return n_pool++;
}

static void deliver(size_t ni, size_t ri)
{
    struct snode *n = &nodes[ni];
    struct agah_rec r;
    if (n->have[ri])
        return;
    n->have[ri] = 1;
    if (pool[ri].type > AGAH_REC_EPOCH)
        return;
    if (agah_rec_decode_stored(pool[ri].buf, pool[ri].len, NULL, &r, NULL) != 0)
        exit(2);
    CHECK(memb_add(&n->m, &r) == 0);
    CHECK(memb_recompute(&n->m) == 0);
}

static size_t make_node(int kind)
{
    uint8_t seed[32];
    struct snode *n = &nodes[n_nodes];
    memset(n, 0, sizeof *n);
    for (size_t i = 0; i < 32; i++)
        seed[i] = (uint8_t)rnd();
    if (agah_identity_from_seed(seed, &n->id) != 0)
        exit(2);
    n->kind = kind;
    memb_init(&n->m);
    return n_nodes++;
}

static uint64_t max_number(const struct memb *m)
{
    uint64_t num = 0;
    for (size_t i = 0; i < m->n_ep; i++)
        if (m->ep[i].number > num)
            num = m->ep[i].number;
    return num;
}

static size_t pool_find(const uint8_t id[32])
{
    for (size_t i = 0; i < n_pool; i++)
        if (memcmp(pool[i].id, id, 32) == 0)
            return i;
    return SIZE_MAX;
}

/* Whether node ni could hold network secret `net_id`: it was a recipient
 * or relay of an epoch that carries it, or its join code carried one. */
static int could_hold_net(size_t ni, const uint8_t net_id[32])
{
    const uint8_t *pk = agah_identity_pk(nodes[ni].id);
    for (size_t i = 0; i < n_pool; i++) {
        struct agah_rec r;
        uint8_t nid[32];
        if (pool[i].type != AGAH_REC_EPOCH ||
            agah_rec_decode_stored(pool[i].buf, pool[i].len, NULL, &r, NULL) != 0)
            continue;
        agah_rec_epoch_net_id(&r, nid);
        if (memcmp(nid, net_id, 32) != 0)
            continue;
        for (size_t k = 0; k < r.u.epoch.n; k++)
            if (memcmp(agah_rec_epoch_member(&r, k), pk, 32) == 0)
                return 1;
        for (size_t k = 0; k < r.u.epoch.n_relays; k++)
            if (memcmp(agah_rec_epoch_relay(&r, k), pk, 32) == 0)
                return 1;
        for (size_t k = 0; k < nodes[ni].n_held; k++)
            if ((size_t)nodes[ni].held[k] == i)
                return 1;
    }
    return 0;
}

/* The rekey agahd's node__rekey does, on this node's view. */
static void maybe_rekey(size_t ni)
{
    struct snode *n = &nodes[ni];
    static uint8_t recips[AGAH_EPOCH_MAX_MEMBERS][32], rels[AGAH_EPOCH_MAX_MEMBERS][32];
    uint8_t key[32], *buf;
    size_t cnt, n_rel, len, ri;
    int role;
    uint64_t created;

    if (!n->exists || n->offline ||
        memb_role_at(&n->m, agah_identity_pk(n->id), now(), &role) != 0 ||
        role != AGAH_ROLE_ORGANISER || !memb_needs_rekey(&n->m, now()))
        return;
    for (size_t i = 0; i < n->n_held; i++)
        if (!n->have[n->held[i]] && step < n->started + HOLD_STEPS)
            return;
    cnt = memb_recipients(&n->m, now(), recips, AGAH_EPOCH_MAX_MEMBERS);
    n_rel = memb_relays(&n->m, now(), rels, AGAH_EPOCH_MAX_MEMBERS);
    if (cnt == 0 || cnt > AGAH_EPOCH_MAX_MEMBERS || n_rel > AGAH_EPOCH_MAX_MEMBERS)
        return;
    created = now() > n->m.clean_after ? now() : n->m.clean_after;
    randombytes_buf(key, sizeof key);
    struct agah_epoch_spec sp = {.number = max_number(&n->m) + 1,
                                 .recipients = (const uint8_t(*)[32])recips, .n = cnt,
                                 .relays = (const uint8_t(*)[32])rels, .n_relays = n_rel,
                                 .key = key, .created = created};
    /* As agahd: the posting epoch's network secret goes on while no
     * revoked key can hold it; otherwise the new epoch mints one. */
    long pe = memb_posting_epoch(&n->m, now());
    size_t pi = pe >= 0 ? pool_find(n->m.ep[pe].id) : SIZE_MAX;
    if (pe >= 0 && memb_net_clean(&n->m, (size_t)pe) && pi != SIZE_MAX &&
        agah_ids_find(n->m.ep[pe].recips[0], n->m.ep[pe].n, 32, agah_identity_pk(n->id))) {
        sp.net_origin = n->m.ep[pe].net_id;
        sp.net = pool[pi].net;
    }
    if (agah_rec_epoch_make(n->id, community, &sp, &buf, &len) != 0)
        exit(2);
    ri = pool_add(buf, len, (int)ni, 0);
    memcpy(pool[ri].key, key, 32);
    if (sp.net != NULL)
        memcpy(pool[ri].net, sp.net, 32);
    else
        agah_net_secret_derive(key, pool[ri].net);
    deliver(ni, ri);
}

/* What node ni holds of author pk's records: a revocation's keep list. */
static size_t held_of(size_t ni, const uint8_t pk[32], uint8_t (*out)[32])
{
    size_t cnt = 0;
    for (size_t i = 0; i < n_pool && cnt < AGAH_REV_KEEP_MAX; i++)
        if (nodes[ni].have[i] && memcmp(pool[i].author, pk, 32) == 0)
            memcpy(out[cnt++], pool[i].id, 32);
    return cnt;
}

static size_t revoke(size_t by, size_t target, uint64_t created, int keep, int forged)
{
    static uint8_t ids[AGAH_REV_KEEP_MAX][32];
    size_t nk = keep ? held_of(by, agah_identity_pk(nodes[target].id), ids) : 0;
    uint8_t *buf;
    size_t len, ri;
    if (agah_rec_revocation(nodes[by].id, community, agah_identity_pk(nodes[target].id), "", TEST_EID, TEST_EKEY,
                            (const uint8_t(*)[32])ids, nk, created, &buf, &len) != 0)
        exit(2);
    ri = pool_add(buf, len, (int)by, forged);
    deliver(by, ri);
    return ri;
}

static size_t admit(size_t by, size_t who, int role, uint64_t created, int forged)
{
    uint8_t *buf;
    size_t len, ri;
    if (agah_rec_admission(nodes[by].id, community, agah_identity_pk(nodes[who].id), role, "n", TEST_EID, TEST_EKEY,
                           created, 0, &buf, &len) != 0)
        exit(2);
    ri = pool_add(buf, len, (int)by, forged);
    deliver(by, ri);
    return ri;
}

/* The invitee starts with genesis and its admission, like a join code, and
 * the epoch keys its inviter had (the records come later). */
static void start(size_t who, size_t inviter, size_t adm)
{
    struct snode *n = &nodes[who];
    n->exists = 1;
    n->inviter = inviter;
    n->side = nodes[inviter].side;
    n->started = step;
    deliver(who, 0);
    deliver(who, adm);
    for (size_t i = 0; i < n_pool && n->n_held < 8; i++)
        if (pool[i].type == AGAH_REC_EPOCH && nodes[inviter].have[i])
            n->held[n->n_held++] = (int)i;
}

static size_t post(size_t by, uint64_t created, int forged)
{
    struct agah_alert_body body;
    uint8_t key[32] = {0}, eid[32], *buf;
    size_t len, ri;
    long e = memb_posting_epoch(&nodes[by].m, created);
    memset(&body, 0, sizeof body);
    body.kind = AGAH_KIND_NUMBER;
    (void)snprintf(body.target, sizeof body.target, "+8525123%04u", (unsigned)(rnd() % 10000));
    if (e >= 0)
        memcpy(eid, nodes[by].m.ep[e].id, 32);
    else
        memset(eid, 0x11, 32);
    if (agah_rec_alert(nodes[by].id, community, eid, key, &body, created, 0, &buf, &len) != 0)
        exit(2);
    ri = pool_add(buf, len, (int)by, forged);
    deliver(by, ri);
    return ri;
}

/* One random delivery step: a node gets a record it may see now. */
static void gossip(void)
{
    for (int tries = 0; tries < 64; tries++) {
        size_t ni = (size_t)(rnd() % n_nodes), ri = (size_t)(rnd() % n_pool);
        struct snode *n = &nodes[ni];
        if (!n->exists || n->offline || n->have[ri])
            continue;
        if (!healed && pool[ri].side >= 0 && pool[ri].side != n->side)
            continue;
        deliver(ni, ri);
        maybe_rekey(ni);
        return;
    }
}

static void advance(int steps)
{
    for (int i = 0; i < steps; i++) {
        step++;
        for (int g = 0; g < 6; g++)
            gossip();
    }
}

static int same_state(const struct memb *a, const struct memb *b, uint64_t t)
{
    long ea = memb_posting_epoch(a, t), eb = memb_posting_epoch(b, t);
    if ((ea < 0) != (eb < 0) ||
        (ea >= 0 && memcmp(a->ep[ea].id, b->ep[eb].id, 32) != 0))
        return 0;
    for (size_t i = 0; i < n_nodes; i++) {
        const uint8_t *pk = agah_identity_pk(nodes[i].id);
        int ra = -1, rb = -1;
        int ca = memb_role_at(a, pk, t, &ra), cb = memb_role_at(b, pk, t, &rb);
        if (ca != cb || ra != rb)
            return 0;
    }
    for (size_t i = 0; i < n_pool; i++) {
        int ra = -1, rb = -1;
        if (memb_record_ok(a, pool[i].author, pool[i].id, pool[i].created, &ra) !=
            memb_record_ok(b, pool[i].author, pool[i].id, pool[i].created, &rb))
            return 0;
    }
    return 1;
}

/* Whether node i owes its admission, directly or through organisers, to
 * node `bad`. */
static int through(size_t i, size_t bad)
{
    for (int hops = 0; hops < MAXN && i != 0; hops++) {
        if (i == bad)
            return 1;
        i = nodes[i].inviter;
    }
    return i == bad;
}

static int run(uint64_t seed)
{
    int failed_before = failed;
    size_t f, orgs[3], n_org, mem[5], n_mem, relay, puppet, informant = SIZE_MAX;
    size_t forged_ids[8], n_forged = 0, honest_alerts[8], n_honest = 0;
    uint8_t *buf;
    size_t len;
    int quiet;

    rs = seed * 0x9e3779b97f4a7c15ull + 1;
    n_pool = n_nodes = 0;
    step = 0;
    healed = 0;
    f = make_node(R_FOUNDER);
    n_org = 1 + (size_t)(rnd() % 3);
    for (size_t i = 0; i < n_org; i++)
        orgs[i] = make_node(R_ORG);
    n_mem = 2 + (size_t)(rnd() % 4);
    for (size_t i = 0; i < n_mem; i++)
        mem[i] = make_node(R_MEMBER);
    relay = make_node(R_RELAY);
    puppet = make_node(R_PUPPET);

    /* The founding, as `community create` does it. */
    if (agah_rec_genesis(nodes[f].id, TEST_GKEY, "c", "founder", now(), &buf, &len) != 0)
        exit(2);
    {
        struct agah_rec r;
        if (agah_rec_decode(buf, len, NULL, &r, NULL) != 0)
            exit(2);
        memcpy(community, r.id, 32);
    }
    nodes[f].exists = 1;
    nodes[f].side = 0;
    deliver(f, pool_add(buf, len, (int)f, 0));
    maybe_rekey(f);
    /* Organisers: the first by the founder, the others by the founder or
     * by an earlier organiser (one rank below it). */
    for (size_t i = 0; i < n_org; i++) {
        size_t by = i == 0 || rnd() % 2 ? f : orgs[rnd() % i];
        advance(1 + (int)(rnd() % 3));
        start(orgs[i], by, admit(by, orgs[i], AGAH_ROLE_ORGANISER, now(), 0));
        nodes[orgs[i]].side = (int)(rnd() % 2);
        maybe_rekey(by);
    }
    /* One organiser other than the founder is offline for a while. */
    size_t away = n_org > 1 ? orgs[1 + rnd() % (n_org - 1)] : SIZE_MAX;
    if (away != SIZE_MAX)
        nodes[away].offline = 1;
    start(relay, f, admit(f, relay, AGAH_ROLE_RELAY, now(), 0));
    for (size_t i = 0; i < n_mem; i++) {
        size_t by;
        do
            by = rnd() % 2 ? f : orgs[rnd() % n_org];
        while (nodes[by].offline);
        advance(1 + (int)(rnd() % 4));
        start(mem[i], by, admit(by, mem[i], AGAH_ROLE_MEMBER, now(), 0));
        maybe_rekey(by);
        if (i == n_mem / 2 && away != SIZE_MAX)
            nodes[away].offline = 0;
    }
    if (away != SIZE_MAX)
        nodes[away].offline = 0;
    advance(10);
    for (size_t i = 0; i < n_mem && n_honest < 4; i++)
        honest_alerts[n_honest++] = post(mem[i], now(), 0);
    honest_alerts[n_honest++] = post(orgs[0], now(), 0);
    advance(10);

    /* Insider attacks. A member is revoked by an organiser (one the
     * informant did not bring in), then signs an alert dated before that. */
    if (rnd() % 4 != 0)
        informant = orgs[rnd() % n_org];
    {
        size_t m = mem[rnd() % n_mem], by = rnd() % 2 ? f : orgs[rnd() % n_org];
        if (informant != SIZE_MAX && through(by, informant))
            by = f;
        uint64_t at = now();
        revoke(by, m, at, 1, 0);
        advance(2);
        forged_ids[n_forged++] = post(m, at - 5, 1);
        nodes[m].exists = 0; /* it is out; its node stops taking part */
    }
    /* An organiser turns: the founder revokes it; from an old copy of its
     * data directory, with the clock set back, it admits a fresh organiser,
     * revokes the founder, revokes another organiser and posts. */
    if (informant != SIZE_MAX) {
        uint64_t at;
        advance(3);
        at = now();
        revoke(f, informant, at, 1, 0);
        advance(2);
        forged_ids[n_forged++] = admit(informant, puppet, AGAH_ROLE_ORGANISER, at - 3, 1);
        forged_ids[n_forged++] = revoke(informant, f, at - 2, 0, 1);
        forged_ids[n_forged++] = post(informant, at - 1, 1);
        for (size_t i = 0; i < n_org; i++)
            if (orgs[i] != informant) {
                forged_ids[n_forged++] = revoke(informant, orgs[i], at - 1, 0, 1);
                break;
            }
        nodes[informant].exists = 0;
        /* The puppet signs too, with the powers its admission claims. */
        forged_ids[n_forged++] = revoke(puppet, f, at - 1, 0, 1);
    }
    /* Sometimes the relay is lost or turns: it held network secrets. */
    if (rnd() % 3 == 0) {
        advance(2);
        revoke(f, relay, now(), 1, 0);
        nodes[relay].exists = 0;
    }
    /* One organiser (not revoked) alone signs a revocation of the founder
     * dated just after its own admission. */
    for (size_t i = 0; i < n_org; i++) {
        if (orgs[i] == informant || !nodes[orgs[i]].exists)
            continue;
        if (rnd() % 2)
            revoke(orgs[i], f, T0 + 2, 1, 0);
        break;
    }
    advance(20);

    /* Heal: everyone gets everything, until nothing new is made. */
    healed = 1;
    for (size_t i = 0; i < n_nodes; i++)
        nodes[i].offline = 0;
    do {
        size_t before = n_pool;
        size_t order[MAXN * MAXR], n_order = 0;
        step++;
        for (size_t ni = 0; ni < n_nodes; ni++)
            for (size_t ri = 0; ri < n_pool; ri++)
                if (nodes[ni].exists && !nodes[ni].have[ri])
                    order[n_order++] = ni * MAXR + ri;
        for (size_t i = n_order; i > 1; i--) {
            size_t j = (size_t)(rnd() % i), t = order[i - 1];
            order[i - 1] = order[j];
            order[j] = t;
        }
        for (size_t i = 0; i < n_order; i++) {
            deliver(order[i] / MAXR, order[i] % MAXR);
            maybe_rekey(order[i] / MAXR);
        }
        for (size_t ni = 0; ni < n_nodes; ni++)
            maybe_rekey(ni);
        quiet = n_pool == before && n_order == 0;
        CHECKF(step < 1000, "seed %llu: no quiescence\n", (unsigned long long)seed);
    } while (!quiet && step < 1000);

    /* Every node that takes part agrees. */
    for (size_t i = 1; i < n_nodes; i++)
        if (nodes[i].exists)
            CHECKF(same_state(&nodes[f].m, &nodes[i].m, now()),
                   "seed %llu: node %zu disagrees with the founder's\n",
                   (unsigned long long)seed, i);
    /* The founder is still there: one organiser (and an informant with its
     * puppet) is no quorum. */
    const struct memb *m = &nodes[f].m;
    CHECKF(!memb_revoked(m, agah_identity_pk(nodes[f].id)), "seed %llu: founder removed\n",
           (unsigned long long)seed);
    CHECKF(memb_role_at(m, agah_identity_pk(nodes[puppet].id), now(), NULL) != 0,
           "seed %llu: the informant's back-dated organiser got in\n", (unsigned long long)seed);
    for (size_t i = 0; i < n_forged; i++)
        CHECKF(memb_record_ok(m, pool[forged_ids[i]].author, pool[forged_ids[i]].id,
                              pool[forged_ids[i]].created, NULL) != 0,
               "seed %llu: a back-dated record of type %d by a revoked key stands\n",
               (unsigned long long)seed, pool[forged_ids[i]].type);
    for (size_t i = 0; i < n_honest; i++) {
        const struct rec *p = &pool[honest_alerts[i]];
        /* Kept by whoever revoked its author, or its author is in good
         * standing: either way an honest alert stays. */
        /* A revoked author's alert stands only if its revoker held it by
         * then: that is the rule, not something to assert here. */
        if (memb_revoked(m, p->author))
            continue;
        /* Nor can an admission by the informant that the founder's node
         * had not seen when it revoked it stand: nothing tells it from one
         * the informant signs afterwards. Its organisers invite again. */
        if (informant != SIZE_MAX && through((size_t)p->origin, informant))
            continue;
        int ok = memb_record_ok(m, p->author, p->id, p->created, NULL);
        CHECKF(ok == 0, "seed %llu: an honest alert by node %d was lost (%d, role now %d)\n",
               (unsigned long long)seed, p->origin, ok,
               memb_role_at(m, p->author, now(), NULL));
    }
    /* The posting epoch: every organiser and member opens it, no revoked
     * key and no relay does. */
    long e = memb_posting_epoch(m, now());
    CHECKF(e >= 0, "seed %llu: no posting epoch\n", (unsigned long long)seed);
    if (e >= 0) {
        size_t ri = SIZE_MAX;
        struct agah_rec r;
        uint8_t key[32];
        CHECK(memb_epoch_complete(m, (size_t)e, now()));
        for (size_t i = 0; i < n_pool; i++)
            if (memcmp(pool[i].id, m->ep[e].id, 32) == 0)
                ri = i;
        if (ri == SIZE_MAX || agah_rec_decode(pool[ri].buf, pool[ri].len, NULL, &r, NULL) != 0)
            exit(2);
        for (size_t i = 0; i < n_nodes; i++) {
            const uint8_t *pk = agah_identity_pk(nodes[i].id);
            int role = -1, member = memb_role_at(m, pk, now(), &role) == 0 &&
                                    role != AGAH_ROLE_RELAY;
            int opens = agah_rec_epoch_open(&r, nodes[i].id, key) == 0;
            CHECKF(member == opens, "seed %llu: node %zu (kind %d, member %d) opens %d\n",
                   (unsigned long long)seed, i, nodes[i].kind, member, opens);
            if (memb_revoked(m, pk))
                CHECKF(!opens, "seed %llu: revoked node %zu opens the posting epoch\n",
                       (unsigned long long)seed, i);
            /* The network secret: every member and relay in good standing
             * gets it from the posting epoch (members through its key,
             * relays from their own box); no revoked key ever held it. */
            uint8_t net[32];
            int gets = opens ? agah_rec_epoch_net_open(&r, key, net) == 0
                             : agah_rec_epoch_net_relay_open(&r, nodes[i].id, net) == 0;
            int standing = memb_role_at(m, pk, now(), NULL) == 0;
            CHECKF(!gets || memcmp(net, pool[ri].net, 32) == 0,
                   "seed %llu: node %zu opened a wrong network secret\n",
                   (unsigned long long)seed, i);
            CHECKF(standing == gets, "seed %llu: node %zu (kind %d, standing %d) gets the "
                   "network secret %d\n", (unsigned long long)seed, i, nodes[i].kind, standing,
                   gets);
            if (memb_revoked(m, pk))
                CHECKF(!could_hold_net(i, m->ep[e].net_id),
                       "seed %llu: revoked node %zu (kind %d) held the network secret\n",
                       (unsigned long long)seed, i, nodes[i].kind);
        }
        sodium_memzero(key, sizeof key);
    }

    if (corpus_dir != NULL) {
        /* A seed for fuzz_memb: [op, len16, record] per membership record. */
        char path[512];
        FILE *fp;
        (void)snprintf(path, sizeof path, "%s/community-%llu", corpus_dir,
                       (unsigned long long)seed);
        if ((fp = fopen(path, "wb")) == NULL)
            exit(2);
        for (size_t i = 0, k = 0; i < n_pool && k < 64; i++) {
            uint8_t hdr[3] = {0, (uint8_t)(pool[i].len >> 8), (uint8_t)pool[i].len};
            if (pool[i].type > AGAH_REC_EPOCH || pool[i].len > 0xffff)
                continue;
            if (fwrite(hdr, 1, 3, fp) != 3 || fwrite(pool[i].buf, 1, pool[i].len, fp) != pool[i].len)
                exit(2);
            k++;
        }
        if (fclose(fp) != 0)
            exit(2);
    }
    for (size_t i = 0; i < n_nodes; i++) {
        memb_free(&nodes[i].m);
        agah_identity_free(nodes[i].id);
    }
    for (size_t i = 0; i < n_pool; i++)
        free(pool[i].buf);
    if (failed != failed_before)
        fprintf(stderr, "test_model: seed %llu failed; rerun with: test_model %llu\n",
                (unsigned long long)seed, (unsigned long long)seed);
    return failed == failed_before;
}

int main(int argc, char **argv)
{
    unsigned long long first = 1, count = 200;
    if (sodium_init() < 0)
        return 2;
    if (argc == 3 && strcmp(argv[1], "--seeds") == 0) {
        count = strtoull(argv[2], NULL, 10);
    } else if (argc == 3 && strcmp(argv[1], "--corpus") == 0) {
        corpus_dir = argv[2];
        count = 8;
    } else if (argc == 2) {
        first = strtoull(argv[1], NULL, 10);
        count = 1;
    } else if (argc != 1) {
        fprintf(stderr, "usage: test_model [SEED | --seeds N | --corpus DIR]\n");
        return 2;
    }
    unsigned long long bad = 0;
    for (unsigned long long s = first; s < first + count; s++)
        bad += !run(s);
    printf("test_model: %llu seeds, %llu failed; %d passed, %d failed\n", count, bad, passed,
           failed);
    return failed == 0 ? 0 : 1;
}

/* libFuzzer target for the membership rules (daemon/node/membership.c): a
 * sequence of records, each read with the decoder that skips signatures
 * (the rules, not Ed25519, are under test), is added, removed and
 * recomputed in the order the input gives, as a hostile organiser's
 * records would arrive: deep organiser chains, cycles, revocations of
 * revocations, keep lists naming anything. Every query must stay within
 * bounds, and the derived state must not depend on the order: the same
 * records added in reverse give the same answers.
 *
 * Input: repeated [op (1 byte), len (2 bytes, big-endian), len bytes]. op
 * bit 0 set: remove the record with that id afterwards (if it was added).
 * Records are decoded with the community of the first GENESIS seen. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <agah/agah.h>
#include "membership.h"

#define FUZZ_MAX_RECS 64

struct item {
    const uint8_t *p;
    size_t len;
    int remove;
};

static void add_all(struct memb *m, const struct item *it, size_t n, const uint8_t *community,
                    int reverse)
{
    for (size_t k = 0; k < n; k++) {
        const struct item *x = &it[reverse ? n - 1 - k : k];
        struct agah_rec r;
        if (agah_rec_decode_stored(x->p, x->len, community, &r, NULL) != 0 ||
            r.type > AGAH_REC_EPOCH)
            continue;
        (void)memb_add(m, &r);
    }
    (void)memb_recompute(m);
    for (size_t k = 0; k < n; k++) {
        uint8_t id[AGAH_HASH_LEN];
        if (!it[k].remove)
            continue;
        agah_hash(it[k].p, it[k].len, id);
        (void)memb_remove(m, id);
    }
}

/* A digest of what the rules derive, for the order check. */
static void digest(const struct memb *m, const struct item *it, size_t n,
                   const uint8_t *community, uint8_t out[32])
{
    crypto_generichash_state st;
    uint64_t now = 1700000000ull + 86400;
    long e = memb_posting_epoch(m, now);
    crypto_generichash_init(&st, NULL, 0, 32);
    if (e >= 0)
        crypto_generichash_update(&st, m->ep[e].id, AGAH_HASH_LEN);
    for (size_t k = 0; k < n; k++) {
        struct agah_rec r;
        int role = -1;
        uint8_t v[3];
        if (agah_rec_decode_stored(it[k].p, it[k].len, community, &r, NULL) != 0)
            continue;
        v[0] = (uint8_t)memb_record_ok(m, r.author, r.id, r.created, &role);
        v[1] = (uint8_t)role;
        v[2] = (uint8_t)memb_revoked(m, r.author);
        crypto_generichash_update(&st, v, sizeof v);
    }
    crypto_generichash_final(&st, out, 32);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct item it[FUZZ_MAX_RECS];
    size_t n = 0, off = 0;
    uint8_t community[AGAH_HASH_LEN], d1[32], d2[32];
    int have_community = 0;
    struct memb a, b;

    if (sodium_init() < 0)
        abort();
    while (off + 3 <= size && n < FUZZ_MAX_RECS) {
        size_t len = ((size_t)data[off + 1] << 8) | data[off + 2];
        if (off + 3 + len > size)
            break;
        it[n].p = data + off + 3;
        it[n].len = len;
        it[n].remove = data[off] & 1;
        if (!have_community) {
            struct agah_rec r;
            if (agah_rec_decode_stored(it[n].p, len, NULL, &r, NULL) == 0 &&
                r.type == AGAH_REC_GENESIS) {
                memcpy(community, r.id, AGAH_HASH_LEN);
                have_community = 1;
            }
        }
        n++;
        off += 3 + len;
    }
    if (!have_community)
        return 0;
    memb_init(&a);
    memb_init(&b);
    add_all(&a, it, n, community, 0);
    add_all(&b, it, n, community, 1);
    /* Removals made the two differ only if a removed record was added in
     * one order and refused (a bound) in the other: compare without them. */
    int removals = 0;
    for (size_t k = 0; k < n; k++)
        removals |= it[k].remove;
    digest(&a, it, n, community, d1);
    digest(&b, it, n, community, d2);
    if (!removals && a.n_adm < MEMB_AUTHOR_MAX_ADMISSIONS && memcmp(d1, d2, 32) != 0)
        abort();
    for (size_t i = 0; i < a.n_ep; i++) {
        (void)memb_epoch_clean(&a, i);
        (void)memb_epoch_complete(&a, i, 1700000000ull);
    }
    (void)memb_needs_rekey(&a, 1700000000ull);
    {
        uint8_t recips[8][AGAH_PK_LEN];
        (void)memb_recipients(&a, 1700000000ull, recips, 8);
    }
    memb_free(&a);
    memb_free(&b);
    return 0;
}

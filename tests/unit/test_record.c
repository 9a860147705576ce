/* Unit tests for records and keys: round trips of every record type, every
 * single-byte corruption rejected, a table of malformed inputs each with its
 * exact error code, the alert body's strict decoding, the AEAD binding of
 * the outer fields, printable ids and sealed boxes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <agah/keys.h>
#include <agah/mp.h>
#include <agah/record.h>

#include "check.h"

/* Whether the NUL-terminated text t occurs in b[0..n). */
static int has_bytes(const uint8_t *b, size_t n, const char *t)
{
    size_t l = strlen(t);
    for (size_t i = 0; l > 0 && i + l <= n; i++)
        if (memcmp(b + i, t, l) == 0)
            return 1;
    return 0;
}

/* A CHECK that also says which case of a table failed. */
#define CHECK_CASE(cond, name, got, want)                                              \
    do {                                                                               \
        if (cond) {                                                                    \
            passed++;                                                                  \
        } else {                                                                       \
            failed++;                                                                  \
            fprintf(stderr, "%s:%d: case '%s': got %d, want %d (%s)\n", __FILE__,     \
                    __LINE__, name, got, want, why.msg);                               \
        }                                                                              \
    } while (0)

/* ------------------------------------------------------------------ */
/* Fixtures                                                            */

static struct agah_identity *founder, *member, *relay, *outsider;
static uint8_t community[32];
static uint8_t epoch_id[32];
static uint8_t epoch_key[32];
static uint64_t rng_counter;

/* Deterministic nonces, so failures reproduce. */
static void test_fill(void *buf, size_t len)
{
    uint8_t seed[randombytes_SEEDBYTES] = {0};
    memcpy(seed, &rng_counter, sizeof rng_counter);
    rng_counter++;
    randombytes_buf_deterministic(buf, len, seed);
}

static struct agah_identity *ident(uint8_t b)
{
    uint8_t seed[32];
    struct agah_identity *id = NULL;
    memset(seed, b, sizeof seed);
    if (agah_identity_from_seed(seed, &id) != 0)
        abort();
    return id;
}

/* A byte builder for hand-made (often malformed) records. */
struct tb {
    uint8_t d[72000];
    size_t n;
};

static void tb_raw(struct tb *t, const void *p, size_t n)
{
    if (t->n + n > sizeof t->d)
        abort();
    memcpy(t->d + t->n, p, n);
    t->n += n;
}

static void tb_hex(struct tb *t, const char *hex)
{
    for (const char *h = hex; *h != '\0';) {
        unsigned v;
        if (*h == ' ') {
            h++;
            continue;
        }
        if (sscanf(h, "%2x", &v) != 1)
            abort();
        uint8_t b = (uint8_t)v;
        tb_raw(t, &b, 1);
        h += 2;
    }
}

static void tb_u8(struct tb *t, uint8_t b) { tb_raw(t, &b, 1); }

/* Canonical encoders written independently of the library's. */
static void tb_uint(struct tb *t, uint64_t v)
{
    if (v < 0x80) {
        tb_u8(t, (uint8_t)v);
    } else if (v < 0x100) {
        tb_u8(t, 0xcc); tb_u8(t, (uint8_t)v);
    } else if (v < 0x10000) {
        tb_u8(t, 0xcd); tb_u8(t, (uint8_t)(v >> 8)); tb_u8(t, (uint8_t)v);
    } else if (v < 0x100000000ull) {
        tb_u8(t, 0xce);
        for (int i = 3; i >= 0; i--) tb_u8(t, (uint8_t)(v >> (8 * i)));
    } else {
        tb_u8(t, 0xcf);
        for (int i = 7; i >= 0; i--) tb_u8(t, (uint8_t)(v >> (8 * i)));
    }
}

static void tb_bin(struct tb *t, const void *p, size_t n)
{
    if (n < 0x100) {
        tb_u8(t, 0xc4); tb_u8(t, (uint8_t)n);
    } else {
        tb_u8(t, 0xc5); tb_u8(t, (uint8_t)(n >> 8)); tb_u8(t, (uint8_t)n);
    }
    tb_raw(t, p, n);
}

static void tb_str(struct tb *t, const void *p, size_t n)
{
    if (n < 32) {
        tb_u8(t, (uint8_t)(0xa0 | n));
    } else if (n < 0x100) {
        tb_u8(t, 0xd9); tb_u8(t, (uint8_t)n);
    } else {
        tb_u8(t, 0xda); tb_u8(t, (uint8_t)(n >> 8)); tb_u8(t, (uint8_t)n);
    }
    tb_raw(t, p, n);
}

static void tb_cstr(struct tb *t, const char *s) { tb_str(t, s, strlen(s)); }

/* Appends a valid signature by `by` over the prefix and everything so far. */
static void tb_sign(struct tb *t, const struct agah_identity *by)
{
    static uint8_t msg[sizeof ((struct tb *)0)->d + 16];
    uint8_t sig[64];
    memcpy(msg, "agah-record-v1", 14);
    memcpy(msg + 14, t->d, t->n);
    agah_identity_sign(by, msg, 14 + t->n, sig);
    tb_bin(t, sig, sizeof sig);
}

static size_t stored_agreed, stored_sig_only;

/* agah_rec_decode_stored must give the strict decoder's answer for every
 * input, except that a record whose only fault is its signature decodes. */
static void check_stored(const uint8_t *buf, size_t len, const uint8_t *comm, int strict,
                         const struct agah_rec *sr)
{
    struct agah_rec r2;
    struct agah_why why;
    int got;

    memset(&why, 0, sizeof why);
    got = agah_rec_decode_stored(buf, len, comm, &r2, &why);
    if (strict == AGAH_ESIG) {
        CHECK(got == 0);
        stored_sig_only++;
    } else {
        CHECK_CASE(got == strict, "agah_rec_decode_stored", got, strict);
        if (got != 0)
            CHECK(why.msg[0] != '\0');
    }
    if (strict == 0 && got == 0) {
        CHECK(r2.type == sr->type && r2.len == sr->len && r2.bytes == sr->bytes);
        CHECK(memcmp(r2.id, sr->id, AGAH_HASH_LEN) == 0);
        CHECK(memcmp(r2.author, sr->author, AGAH_PK_LEN) == 0);
        CHECK(memcmp(r2.community, sr->community, AGAH_HASH_LEN) == 0);
        CHECK(r2.created == sr->created && r2.expires == sr->expires);
    }
    stored_agreed++;
}

static int dec(const struct tb *t, const uint8_t *comm, struct agah_rec *r, struct agah_why *why)
{
    int got;
    memset(why, 0, sizeof *why);
    got = agah_rec_decode(t->d, t->n, comm, r, why);
    check_stored(t->d, t->n, comm, got, r);
    return got;
}

/* The common fields: [hdr, 1, type, community, author, created, expires]. */
static void tb_common(struct tb *t, uint8_t hdr, uint64_t type, const uint8_t *comm,
                      const struct agah_identity *author, uint64_t created, uint64_t expires)
{
    tb_u8(t, hdr);
    tb_uint(t, AGAH_REC_VERSION);
    tb_uint(t, type);
    tb_bin(t, comm, 32);
    tb_bin(t, agah_identity_pk(author), 32);
    tb_uint(t, created);
    tb_uint(t, expires);
}

/* ------------------------------------------------------------------ */

static void test_enums(void)
{
    CHECK(strcmp(agah_role_name(AGAH_ROLE_ORGANISER), "organiser") == 0);
    CHECK(strcmp(agah_role_name(AGAH_ROLE_RELAY), "relay") == 0);
    CHECK(agah_role_name(3) == NULL && agah_role_name(-1) == NULL);
    CHECK(agah_role_parse("member") == AGAH_ROLE_MEMBER);
    CHECK(agah_role_parse("Member") == -1 && agah_role_parse("") == -1);
    CHECK(agah_role_parse(NULL) == -1);
    for (int i = 0; i <= AGAH_CAT_OTHER; i++)
        CHECK(agah_category_parse(agah_category_name(i)) == i);
    CHECK(agah_category_name(5) == NULL);
    CHECK(agah_category_parse("surveillance") == AGAH_CAT_SURVEILLANCE);
    CHECK(agah_severity_parse("danger") == AGAH_SEV_DANGER);
    CHECK(agah_severity_name(3) == NULL);
    CHECK(agah_kind_parse("number") == AGAH_KIND_NUMBER);
    CHECK(agah_kind_parse("alert") == AGAH_KIND_ALERT);
    CHECK(agah_kind_name(0) == NULL && agah_kind_name(4) == NULL);
    CHECK(strcmp(agah_kind_name(AGAH_KIND_ACCOUNT), "account") == 0);
}

static void test_ids(void)
{
    static const char alpha[] = "abcdefghijklmnopqrstuvwxyz234567";
    char s[AGAH_IDSTR_SIZE], t[AGAH_IDSTR_SIZE + 1];
    uint8_t k[32];
    struct agah_why why;
    int missed = 0, wrong = 0;

    agah_id_encode(AGAH_IDPFX_MEMBER, agah_identity_pk(member), s);
    CHECK(strlen(s) == AGAH_IDSTR_LEN && s[0] == 'm');
    CHECK(agah_id_decode(s, 'm', k, &why) == 0);
    CHECK(memcmp(k, agah_identity_pk(member), 32) == 0);
    CHECK(agah_id_decode(s, 'c', k, &why) == AGAH_EINVAL);
    /* Every single-character substitution, at every position. */
    for (size_t i = 1; i < AGAH_IDSTR_LEN; i++) {
        for (size_t j = 0; j < 32; j++) {
            if (alpha[j] == s[i])
                continue;
            memcpy(t, s, sizeof s);
            t[i] = alpha[j];
            if (agah_id_decode(t, 'm', k, &why) != AGAH_ECHECKSUM)
                missed++;
        }
        /* Outside the alphabet: uppercase, '0', '1', '8', punctuation. */
        const char bad[] = "A01 8=-";
        for (size_t j = 0; j < sizeof bad - 1; j++) {
            memcpy(t, s, sizeof s);
            t[i] = bad[j];
            if (agah_id_decode(t, 'm', k, &why) != AGAH_EINVAL)
                wrong++;
        }
    }
    CHECK(missed == 0);
    CHECK(wrong == 0);
    /* Adjacent transpositions are typos too. */
    missed = 0;
    for (size_t i = 1; i + 1 < AGAH_IDSTR_LEN; i++) {
        if (s[i] == s[i + 1])
            continue;
        memcpy(t, s, sizeof s);
        t[i] = s[i + 1];
        t[i + 1] = s[i];
        if (agah_id_decode(t, 'm', k, &why) != AGAH_ECHECKSUM)
            missed++;
    }
    CHECK(missed == 0);
    memcpy(t, s, sizeof s);
    t[AGAH_IDSTR_LEN - 1] = '\0';
    CHECK(agah_id_decode(t, 'm', k, &why) == AGAH_EINVAL);
    memcpy(t, s, sizeof s);
    t[AGAH_IDSTR_LEN] = 'a';
    t[AGAH_IDSTR_LEN + 1] = '\0';
    CHECK(agah_id_decode(t, 'm', k, &why) == AGAH_EINVAL);
    CHECK(agah_id_decode("", 'm', k, &why) == AGAH_EINVAL);
    CHECK(agah_id_decode(NULL, 'm', k, &why) == AGAH_EINVAL);
    /* The same key under another prefix is another id. */
    agah_id_encode(AGAH_IDPFX_COMMUNITY, agah_identity_pk(member), t);
    CHECK(t[0] == 'c' && strcmp(t + 1, s + 1) != 0);
    t[0] = 'm';
    CHECK(agah_id_decode(t, 'm', k, &why) == AGAH_ECHECKSUM);
}

static void test_keys(void)
{
    uint8_t m[40], c[40 + AGAH_SEAL_OVERHEAD], o[40], sig[64];
    struct agah_identity *g = NULL, *again = NULL;
    uint8_t seed[32], seed2[32];

    for (size_t i = 0; i < sizeof m; i++)
        m[i] = (uint8_t)i;
    CHECK(agah_seal(agah_identity_pk(member), m, sizeof m, c) == 0);
    CHECK(agah_seal_open(member, c, sizeof c, o) == 0 && memcmp(o, m, sizeof m) == 0);
    CHECK(agah_seal_open(founder, c, sizeof c, o) == AGAH_ECRYPTO);
    CHECK(agah_seal_open(member, c, AGAH_SEAL_OVERHEAD - 1, o) == AGAH_ECRYPTO);
    c[10] ^= 1;
    CHECK(agah_seal_open(member, c, sizeof c, o) == AGAH_ECRYPTO);
    /* An all-zero key is a small-order point with no X25519 counterpart. */
    memset(seed, 0, sizeof seed);
    CHECK(agah_seal(seed, m, sizeof m, c) == AGAH_EINVAL);

    agah_identity_sign(founder, m, sizeof m, sig);
    CHECK(agah_sig_verify(agah_identity_pk(founder), m, sizeof m, sig) == 0);
    CHECK(agah_sig_verify(agah_identity_pk(member), m, sizeof m, sig) == AGAH_ESIG);
    m[0] ^= 1;
    CHECK(agah_sig_verify(agah_identity_pk(founder), m, sizeof m, sig) == AGAH_ESIG);

    CHECK(agah_identity_generate(&g) == 0);
    agah_identity_seed(g, seed);
    CHECK(agah_identity_from_seed(seed, &again) == 0);
    CHECK(memcmp(agah_identity_pk(g), agah_identity_pk(again), 32) == 0);
    agah_identity_seed(again, seed2);
    CHECK(sodium_memcmp(seed, seed2, 32) == 0);
    sodium_memzero(seed, sizeof seed);
    sodium_memzero(seed2, sizeof seed2);
    agah_identity_free(g);
    agah_identity_free(again);
    agah_identity_free(NULL);

    uint8_t h1[32], h2[32];
    agah_hash((const uint8_t *)"abc", 3, h1);
    CHECK(crypto_generichash(h2, 32, (const uint8_t *)"abc", 3, NULL, 0) == 0);
    CHECK(memcmp(h1, h2, 32) == 0);
}

/* Every position, several bit patterns: nothing altered decodes. */
static int flips_accepted(const uint8_t *buf, size_t len)
{
    static const uint8_t pats[] = {0x01, 0x80, 0xff, 0x10};
    uint8_t *c = malloc(len);
    struct agah_rec r;
    int accepted = 0;

    if (c == NULL)
        abort();
    for (size_t i = 0; i < len; i++) {
        for (size_t p = 0; p < sizeof pats; p++) {
            memcpy(c, buf, len);
            c[i] ^= pats[p];
            if (agah_rec_decode(c, len, NULL, &r, NULL) == 0) {
                fprintf(stderr, "flip at %zu by %02x accepted\n", i, pats[p]);
                accepted++;
            }
        }
    }
    /* Every truncation, too. */
    for (size_t n = 0; n < len; n++)
        if (agah_rec_decode(buf, n, NULL, &r, NULL) == 0)
            accepted++;
    free(c);
    return accepted;
}

static uint8_t *alert_num;
static size_t alert_num_len;

static void test_roundtrip(void)
{
    uint8_t *b = NULL;
    size_t n = 0;
    struct agah_rec r;
    struct agah_why why;
    uint8_t id[32];

    /* GENESIS */
    CHECK(agah_rec_genesis(founder, TEST_GKEY, "Agah test", "Founder", 1700000000, &b, &n) == 0);
    CHECK(agah_rec_decode(b, n, NULL, &r, &why) == 0);
    CHECK(r.type == AGAH_REC_GENESIS && r.created == 1700000000 && r.expires == 0);
    {
        char cn[AGAH_NAME_MAX + 1], fn[AGAH_NAME_MAX + 1];
        /* The names are under the genesis key, held under the community id. */
        CHECK(agah_rec_text_key_id(&r) == r.id);
        CHECK(agah_rec_open_names(&r, TEST_GKEY, cn, fn, &why) == 0);
        CHECK(strcmp(cn, "Agah test") == 0 && strcmp(fn, "Founder") == 0);
        CHECK(agah_rec_open_names(&r, TEST_EKEY, cn, fn, &why) == AGAH_ECRYPTO && cn[0] == '\0');
        CHECK(!has_bytes(b, n, "Agah test") && !has_bytes(b, n, "Founder"));
        CHECK(r.u.genesis.names.ct_len == AGAH_PAD_NAMES + 16);
    }
    CHECK(memcmp(r.author, agah_identity_pk(founder), 32) == 0);
    CHECK(sodium_is_zero(r.community, 32));
    agah_hash(b, n, id);
    CHECK(memcmp(r.id, id, 32) == 0 && r.bytes == b && r.len == n);
    memcpy(community, r.id, 32);
    CHECK(agah_rec_decode(b, n, community, &r, &why) == 0);
    CHECK(flips_accepted(b, n) == 0);
    free(b);

    /* ADMISSION */
    CHECK(agah_rec_admission(founder, community, agah_identity_pk(member), AGAH_ROLE_MEMBER,
                             "Member \xd8\xa6\xd8\xa7\xda\xaf\xd8\xa7\xda\xbe", TEST_EID, TEST_EKEY, 1700000100,
                             1800000000, &b, &n) == 0);
    CHECK(agah_rec_decode(b, n, community, &r, &why) == 0);
    CHECK(r.type == AGAH_REC_ADMISSION && r.u.admission.role == AGAH_ROLE_MEMBER);
    CHECK(memcmp(r.u.admission.member, agah_identity_pk(member), 32) == 0);
    CHECK(r.expires == 1800000000 && r.u.admission.name.ct_len == AGAH_PAD_NAME + 16);
    {
        char nm[AGAH_NAME_MAX + 1];
        CHECK(memcmp(agah_rec_text_key_id(&r), TEST_EID, 32) == 0);
        CHECK(agah_rec_open_name(&r, TEST_EKEY, nm, &why) == 0 &&
              strcmp(nm, "Member \xd8\xa6\xd8\xa7\xda\xaf\xd8\xa7\xda\xbe") == 0);
        CHECK(agah_rec_open_name(&r, TEST_GKEY, nm, &why) == AGAH_ECRYPTO);
        CHECK(!has_bytes(b, n, "Member"));
    }
    CHECK(memcmp(r.community, community, 32) == 0);
    CHECK(flips_accepted(b, n) == 0);
    free(b);

    /* REVOCATION */
    CHECK(agah_rec_revocation(founder, community, agah_identity_pk(relay), "lost phone", TEST_EID, TEST_EKEY, NULL, 0,
                              1700000200, &b, &n) == 0);
    CHECK(agah_rec_decode(b, n, community, &r, &why) == 0);
    CHECK(r.type == AGAH_REC_REVOCATION && r.u.revocation.reason.has);
    {
        char why_text[AGAH_NOTE_MAX + 1];
        CHECK(agah_rec_open_reason(&r, TEST_EKEY, why_text, &why) == 0 &&
              strcmp(why_text, "lost phone") == 0);
        CHECK(!has_bytes(b, n, "lost phone"));
        CHECK(r.u.revocation.reason.ct_len == 64 + 16);
    }
    CHECK(memcmp(r.u.revocation.member, agah_identity_pk(relay), 32) == 0);
    CHECK(flips_accepted(b, n) == 0);
    free(b);

    /* EPOCH: recipients given unsorted come out sorted; each opens its key. */
    const uint8_t(*pks)[32];
    uint8_t rec3[3][32], k[32];
    memcpy(rec3[0], agah_identity_pk(relay), 32);
    memcpy(rec3[1], agah_identity_pk(founder), 32);
    memcpy(rec3[2], agah_identity_pk(member), 32);
    pks = (const uint8_t(*)[32])rec3;
    memset(epoch_key, 0x42, sizeof epoch_key);
    CHECK(agah_rec_epoch(founder, community, 1, pks, 3, epoch_key, 1700000300, &b, &n) == 0);
    CHECK(agah_rec_decode(b, n, community, &r, &why) == 0);
    CHECK(r.type == AGAH_REC_EPOCH && r.u.epoch.number == 1 && r.u.epoch.n == 3);
    CHECK(memcmp(agah_rec_epoch_member(&r, 0), agah_rec_epoch_member(&r, 1), 32) < 0);
    CHECK(memcmp(agah_rec_epoch_member(&r, 1), agah_rec_epoch_member(&r, 2), 32) < 0);
    CHECK(agah_rec_epoch_member(&r, 3) == NULL && agah_rec_epoch_sealed(&r, 3) == NULL);
    memset(k, 0, sizeof k);
    CHECK(agah_rec_epoch_open(&r, member, k) == 0 && memcmp(k, epoch_key, 32) == 0);
    memset(k, 0, sizeof k);
    CHECK(agah_rec_epoch_open(&r, relay, k) == 0 && memcmp(k, epoch_key, 32) == 0);
    CHECK(agah_rec_epoch_open(&r, outsider, k) == AGAH_ENOENT);
    memcpy(epoch_id, r.id, 32);
    CHECK(flips_accepted(b, n) == 0);
    free(b);
    /* Duplicate recipients, none, too many, epoch 0: refused. */
    memcpy(rec3[1], rec3[0], 32);
    CHECK(agah_rec_epoch(founder, community, 2, pks, 3, epoch_key, 1, &b, &n) == AGAH_EINVAL);
    CHECK(agah_rec_epoch(founder, community, 2, pks, 0, epoch_key, 1, &b, &n) == AGAH_EINVAL);
    CHECK(agah_rec_epoch(founder, community, 0, pks, 1, epoch_key, 1, &b, &n) == AGAH_EINVAL);
    CHECK(agah_rec_epoch(founder, community, 2, pks, AGAH_EPOCH_MAX_MEMBERS + 1, epoch_key, 1,
                         &b, &n) == AGAH_ETOOBIG);
    /* A chained epoch: its key opens the previous one's, nothing else does,
     * and the link is bound to the id it names. */
    {
        uint8_t key2[32], got[32];
        memset(key2, 0x43, sizeof key2);
        memcpy(rec3[1], agah_identity_pk(founder), 32);
        CHECK(agah_rec_epoch_chained(founder, community, 2, pks, 3, key2, epoch_id, epoch_key,
                                     1700000400, &b, &n) == 0);
        CHECK(agah_rec_decode(b, n, community, &r, &why) == 0);
        CHECK(r.u.epoch.has_prev && memcmp(r.u.epoch.prev_id, epoch_id, 32) == 0);
        CHECK(agah_rec_epoch_prev_open(&r, key2, got) == 0 && memcmp(got, epoch_key, 32) == 0);
        CHECK(agah_rec_epoch_prev_open(&r, epoch_key, got) == AGAH_ECRYPTO);
        r.u.epoch.prev_id[0] ^= 1; /* as if the link named another epoch */
        CHECK(agah_rec_epoch_prev_open(&r, key2, got) == AGAH_ECRYPTO);
        CHECK(flips_accepted(b, n) == 0);
        free(b);
        CHECK(agah_rec_epoch_chained(founder, community, 2, pks, 3, key2, epoch_id, NULL,
                                     1700000400, &b, &n) == AGAH_EINVAL);
    }
    /* Network secrets: an epoch mints one from its key (members derive it),
     * seals it alone to its relays, and a later epoch carries it on under
     * its own key with the minting epoch's id. */
    {
        uint8_t key2[32], net1[32], got[32], nid[32], mid[32];
        const uint8_t(*two)[32] = (const uint8_t(*)[32])rec3[1];
        const uint8_t(*rl)[32] = (const uint8_t(*)[32])rec3;
        memset(key2, 0x45, sizeof key2);
        memcpy(rec3[1], agah_identity_pk(founder), 32);
        struct agah_epoch_spec sp = {.number = 3, .recipients = two, .n = 2, .relays = rl,
                                     .n_relays = 1, .key = epoch_key, .created = 1700000500};
        CHECK(agah_rec_epoch_make(founder, community, &sp, &b, &n) == 0);
        CHECK(agah_rec_decode(b, n, community, &r, &why) == 0);
        CHECK(!r.u.epoch.has_net && r.u.epoch.n_relays == 1 && r.u.epoch.n == 2);
        agah_net_secret_derive(epoch_key, net1);
        CHECK(memcmp(net1, epoch_key, 32) != 0);
        CHECK(agah_rec_epoch_net_open(&r, epoch_key, got) == 0 && memcmp(got, net1, 32) == 0);
        memset(got, 0, sizeof got);
        CHECK(agah_rec_epoch_net_relay_open(&r, relay, got) == 0 && memcmp(got, net1, 32) == 0);
        CHECK(agah_rec_epoch_open(&r, relay, got) == AGAH_ENOENT); /* never the key */
        CHECK(agah_rec_epoch_net_relay_open(&r, member, got) == AGAH_ENOENT);
        agah_rec_epoch_net_id(&r, mid);
        CHECK(memcmp(mid, r.id, 32) == 0);
        CHECK(flips_accepted(b, n) == 0);
        free(b);
        sp.number = 4;
        sp.key = key2;
        sp.net_origin = mid;
        sp.net = net1;
        CHECK(agah_rec_epoch_make(founder, community, &sp, &b, &n) == 0);
        CHECK(agah_rec_decode(b, n, community, &r, &why) == 0);
        agah_rec_epoch_net_id(&r, nid);
        CHECK(r.u.epoch.has_net && memcmp(nid, mid, 32) == 0);
        CHECK(agah_rec_epoch_net_open(&r, key2, got) == 0 && memcmp(got, net1, 32) == 0);
        CHECK(agah_rec_epoch_net_open(&r, epoch_key, got) == AGAH_ECRYPTO);
        CHECK(agah_rec_epoch_net_relay_open(&r, relay, got) == 0 && memcmp(got, net1, 32) == 0);
        CHECK(flips_accepted(b, n) == 0);
        free(b);
        /* A key both recipient and relay, or a secret without its origin. */
        sp.relays = two;
        CHECK(agah_rec_epoch_make(founder, community, &sp, &b, &n) == AGAH_EINVAL);
        sp.relays = rl;
        sp.net_origin = NULL;
        CHECK(agah_rec_epoch_make(founder, community, &sp, &b, &n) == AGAH_EINVAL);
    }

    /* ALERT, all three kinds. */
    struct agah_alert_body body, got;
    static const struct { int kind; const char *target; int cat, sev; const char *note; } al[] = {
        {AGAH_KIND_NUMBER, "+85251234567", AGAH_CAT_HARASSMENT, AGAH_SEV_WARNING,
         "threats at night \xd9\x83\xdb\x90\xda\x86\xd9\x89\xd8\xaf\xdb\x95"},
        {AGAH_KIND_ACCOUNT, "telegram:example_user", AGAH_CAT_IMPERSONATION, AGAH_SEV_INFO, ""},
        {AGAH_KIND_ALERT, "", AGAH_CAT_SURVEILLANCE, AGAH_SEV_DANGER,
         "someone photographs attendees at the meeting"},
    };
    for (size_t i = 0; i < sizeof al / sizeof al[0]; i++) {
        memset(&body, 0, sizeof body);
        body.kind = al[i].kind;
        strcpy(body.target, al[i].target);
        body.category = al[i].cat;
        body.severity = al[i].sev;
        strcpy(body.note, al[i].note);
        CHECK(agah_rec_alert(member, community, epoch_id, epoch_key, &body, 1700000400,
                             1731536400, &b, &n) == 0);
        CHECK(agah_rec_decode(b, n, community, &r, &why) == 0);
        CHECK(r.type == AGAH_REC_ALERT && sodium_is_zero(r.u.sealed.ref, 32));
        CHECK(memcmp(r.u.sealed.epoch, epoch_id, 32) == 0);
        memset(&got, 0x5a, sizeof got);
        CHECK(agah_rec_open_alert(&r, epoch_key, &got, &why) == 0);
        CHECK(got.kind == body.kind && got.category == body.category &&
              got.severity == body.severity);
        CHECK(strcmp(got.target, body.target) == 0 && strcmp(got.note, body.note) == 0);
        /* The wrong epoch key opens nothing. */
        memset(k, 0x43, sizeof k);
        CHECK(agah_rec_open_alert(&r, k, &got, &why) == AGAH_ECRYPTO);
        char note[AGAH_NOTE_MAX + 1];
        CHECK(agah_rec_open_note(&r, epoch_key, note, &why) == AGAH_EINVAL);
        if (i == 0) {
            CHECK(flips_accepted(b, n) == 0);
            alert_num = b;
            alert_num_len = n;
        } else {
            free(b);
        }
    }
    /* Longest target and note, multi-byte text. */
    memset(&body, 0, sizeof body);
    body.kind = AGAH_KIND_ACCOUNT;
    memset(body.target, 'x', AGAH_TARGET_MAX - 1);
    memset(body.note, 'y', AGAH_NOTE_MAX);
    CHECK(agah_rec_alert(member, community, epoch_id, epoch_key, &body, 5, 0, &b, &n) == 0);
    CHECK(agah_rec_decode(b, n, community, &r, &why) == 0);
    CHECK(agah_rec_open_alert(&r, epoch_key, &got, &why) == 0);
    CHECK(strlen(got.target) == AGAH_TARGET_MAX - 1 && strlen(got.note) == AGAH_NOTE_MAX);
    free(b);
    /* Bodies the decoder would refuse are refused by the encoder. */
    body.target[0] = '\0';
    CHECK(agah_rec_alert(member, community, epoch_id, epoch_key, &body, 5, 0, &b, &n) ==
          AGAH_EINVAL);
    body.kind = AGAH_KIND_ALERT;
    strcpy(body.target, "x");
    CHECK(agah_rec_alert(member, community, epoch_id, epoch_key, &body, 5, 0, &b, &n) ==
          AGAH_EINVAL);
    body.target[0] = '\0';
    body.note[0] = (char)0xc3; /* cut UTF-8 */
    body.note[1] = '\0';
    CHECK(agah_rec_alert(member, community, epoch_id, epoch_key, &body, 5, 0, &b, &n) ==
          AGAH_EINVAL);
    body.note[0] = '\0';
    body.severity = 3;
    CHECK(agah_rec_alert(member, community, epoch_id, epoch_key, &body, 5, 0, &b, &n) ==
          AGAH_EINVAL);
    body.severity = 0;
    CHECK(agah_rec_alert(member, community, epoch_id, epoch_key, &body, 5, 5, &b, &n) ==
          AGAH_EINVAL);
    memset(body.note, 'z', sizeof body.note); /* unterminated */
    CHECK(agah_rec_alert(member, community, epoch_id, epoch_key, &body, 5, 0, &b, &n) ==
          AGAH_EINVAL);

    /* CONFIRM and RETRACT. */
    uint8_t ref[32];
    char note[AGAH_NOTE_MAX + 1];
    agah_hash(alert_num, alert_num_len, ref);
    CHECK(agah_rec_annotate(relay, AGAH_REC_CONFIRM, community, ref, epoch_id, epoch_key,
                            "same number called me", 1700000500, &b, &n) == 0);
    CHECK(agah_rec_decode(b, n, community, &r, &why) == 0);
    CHECK(r.type == AGAH_REC_CONFIRM && memcmp(r.u.sealed.ref, ref, 32) == 0);
    CHECK(agah_rec_open_note(&r, epoch_key, note, &why) == 0);
    CHECK(strcmp(note, "same number called me") == 0);
    CHECK(agah_rec_open_note(&r, k, note, &why) == AGAH_ECRYPTO);
    CHECK(agah_rec_open_alert(&r, epoch_key, &got, &why) == AGAH_EINVAL);
    CHECK(flips_accepted(b, n) == 0);
    free(b);
    CHECK(agah_rec_annotate(member, AGAH_REC_RETRACT, community, ref, epoch_id, epoch_key, "",
                            1700000600, &b, &n) == 0);
    CHECK(agah_rec_decode(b, n, community, &r, &why) == 0);
    CHECK(r.type == AGAH_REC_RETRACT && r.expires == 0);
    CHECK(agah_rec_open_note(&r, epoch_key, note, &why) == 0 && note[0] == '\0');
    CHECK(flips_accepted(b, n) == 0);
    free(b);
    CHECK(agah_rec_annotate(member, AGAH_REC_ALERT, community, ref, epoch_id, epoch_key, "", 1,
                            &b, &n) == AGAH_EINVAL);
    memset(ref, 0, sizeof ref);
    CHECK(agah_rec_annotate(member, AGAH_REC_CONFIRM, community, ref, epoch_id, epoch_key, "", 1,
                            &b, &n) == AGAH_EINVAL);

    /* Encoder argument checks. */
    char big[AGAH_NOTE_MAX + 2];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    CHECK(agah_rec_genesis(founder, TEST_GKEY, "", "x", 1, &b, &n) == AGAH_EINVAL);
    CHECK(agah_rec_genesis(founder, TEST_GKEY, big + sizeof big - 2 - AGAH_NAME_MAX, "", 1, &b, &n) ==
          AGAH_ETOOBIG);
    CHECK(agah_rec_genesis(founder, TEST_GKEY, "a\xff", "", 1, &b, &n) == AGAH_EINVAL);
    CHECK(agah_rec_admission(founder, community, ref, 3, "", TEST_EID, TEST_EKEY, 1, 0, &b, &n) == AGAH_EINVAL);
    CHECK(agah_rec_admission(founder, community, ref, 1, "", TEST_EID, TEST_EKEY, 10, 9, &b, &n) == AGAH_EINVAL);
    CHECK(agah_rec_revocation(founder, community, ref, big, TEST_EID, TEST_EKEY, NULL, 0, 1, &b, &n) == AGAH_ETOOBIG);
    /* A name or reason is never written in clear: without a key, none. */
    memset(ref, 7, sizeof ref);
    CHECK(agah_rec_admission(founder, community, ref, 1, "Ayse", NULL, NULL, 1, 0, &b, &n) ==
          AGAH_EINVAL);
    CHECK(agah_rec_admission(founder, community, ref, 1, "", TEST_EID, NULL, 1, 0, &b, &n) ==
          AGAH_EINVAL);
    CHECK(agah_rec_revocation(founder, community, ref, "why", NULL, NULL, NULL, 0, 1, &b, &n) ==
          AGAH_EINVAL);
    CHECK(agah_rec_genesis(founder, NULL, "c", "", 1, &b, &n) == AGAH_EINVAL);
    CHECK(agah_rec_admission(founder, community, ref, 1, "", NULL, NULL, 1, 0, &b, &n) == 0);
    {
        struct agah_rec nr;
        char nm[AGAH_NAME_MAX + 1] = "x";
        CHECK(agah_rec_decode(b, n, community, &nr, &why) == 0 && !nr.u.admission.name.has);
        CHECK(agah_rec_text_key_id(&nr) == NULL);
        CHECK(agah_rec_open_name(&nr, TEST_EKEY, nm, &why) == 0 && nm[0] == '\0');
        free(b);
    }
}

/* A full epoch: the largest record the encoder makes still decodes. */
static void test_epoch_max(void)
{
    static uint8_t pks[AGAH_EPOCH_MAX_MEMBERS][32];
    uint8_t *b = NULL, k[32];
    size_t n = 0;
    struct agah_rec r;
    struct agah_why why;

    for (size_t i = 0; i < AGAH_EPOCH_MAX_MEMBERS; i++) {
        /* Real Ed25519 points: public keys of seeded identities. */
        uint8_t seed[32] = {0};
        struct agah_identity *id = NULL;
        seed[0] = (uint8_t)i;
        seed[1] = (uint8_t)(i >> 8);
        seed[2] = 0x99;
        if (agah_identity_from_seed(seed, &id) != 0)
            abort();
        memcpy(pks[i], agah_identity_pk(id), 32);
        agah_identity_free(id);
    }
    memcpy(pks[123], agah_identity_pk(member), 32);
    CHECK(agah_rec_epoch(founder, community, 7, (const uint8_t(*)[32])pks,
                         AGAH_EPOCH_MAX_MEMBERS, epoch_key, 1700001000, &b, &n) == 0);
    CHECK(n <= AGAH_REC_MAX);
    CHECK(agah_rec_decode(b, n, community, &r, &why) == 0);
    CHECK(r.u.epoch.n == AGAH_EPOCH_MAX_MEMBERS && r.u.epoch.number == 7);
    CHECK(agah_rec_epoch_open(&r, member, k) == 0 && memcmp(k, epoch_key, 32) == 0);
    CHECK(agah_rec_epoch_open(&r, outsider, k) == AGAH_ENOENT);
    free(b);
}

/* ------------------------------------------------------------------ */
/* Malformed inputs, each with the exact code expected.                */

/* Builds an admission record with one part replaced by raw hex. */
struct adm {
    const char *hdr, *ver, *type, *comm, *author, *created, *expires, *member, *role, *name;
    const char *extra; /* appended before the signature */
    int omit_name;
    int signer; /* 0 author, 1 another key, 2 no signature, 3 zero signature */
};

static void hex_of(char *out, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", p[i]);
}

static void build_adm(struct tb *t, const struct adm *a)
{
    char comm[80] = "c420", auth[80] = "c420", mem[80] = "c420";

    hex_of(comm + 4, community, 32);
    hex_of(auth + 4, agah_identity_pk(founder), 32);
    hex_of(mem + 4, agah_identity_pk(member), 32);
    t->n = 0;
    tb_hex(t, a->hdr ? a->hdr : (a->omit_name ? "99" : "9a"));
    tb_hex(t, a->ver ? a->ver : "03");
    tb_hex(t, a->type ? a->type : "02");
    tb_hex(t, a->comm ? a->comm : comm);
    tb_hex(t, a->author ? a->author : auth);
    tb_hex(t, a->created ? a->created : "ce 65 53 f1 00");
    tb_hex(t, a->expires ? a->expires : "00");
    tb_hex(t, a->member ? a->member : mem);
    tb_hex(t, a->role ? a->role : "01");
    if (!a->omit_name)
        tb_hex(t, a->name ? a->name : "90");
    if (a->extra)
        tb_hex(t, a->extra);
    if (a->signer == 0)
        tb_sign(t, founder);
    else if (a->signer == 1)
        tb_sign(t, outsider);
    else if (a->signer == 3)
        tb_hex(t, "c440 00000000000000000000000000000000000000000000000000000000000000000000"
                  "000000000000000000000000000000000000000000000000000000000000");
}

static void test_malformed_admission(void)
{
    static const struct {
        const char *name;
        struct adm a;
        int want;
    } cases[] = {
        {"valid", {0}, 0},
        {"version 2 (names in clear)", {.ver = "02"}, AGAH_EVERSION},
        {"version 1 (before keep lists)", {.ver = "01"}, AGAH_EVERSION},
        {"version 0", {.ver = "00"}, AGAH_EVERSION},
        {"version as str", {.ver = "a1 31"}, AGAH_ETYPE},
        {"version non-canonical cc 01", {.ver = "cc 01"}, AGAH_ENONCANON},
        {"type 8", {.type = "08"}, AGAH_EVERSION},
        {"type 0", {.type = "00"}, AGAH_EVERSION},
        {"type huge", {.type = "cf 01 00 00 00 00 00 00 02"}, AGAH_EVERSION},
        {"type genesis with admission shape", {.type = "01"}, AGAH_EFIELDS},
        {"type as negative int", {.type = "ff"}, AGAH_ETYPE},
        {"array header non-canonical dc 00 0a", {.hdr = "dc 00 0a"}, AGAH_ENONCANON},
        {"extra field", {.hdr = "9b", .extra = "c0"}, AGAH_EFIELDS},
        {"missing field", {.omit_name = 1}, AGAH_EFIELDS},
        {"header says 11, 10 present", {.hdr = "9b"}, AGAH_ETRUNC},
        {"header says 9, 10 present", {.hdr = "99"}, AGAH_ETRAILING},
        {"community as str", {.comm = "a3 61 62 63"}, AGAH_ETYPE},
        {"community bin31", {.comm = "c41f 00000000000000000000000000000000000000000000000000000000000000"}, AGAH_ETYPE},
        {"community bin16 form", {.comm = "c5 0020 0101010101010101010101010101010101010101010101010101010101010101"}, AGAH_ENONCANON},
        {"community all zero", {.comm = "c420 0000000000000000000000000000000000000000000000000000000000000000"}, AGAH_EVALUE},
        {"author as nil", {.author = "c0"}, AGAH_ETYPE},
        {"created float64", {.created = "cb 41 d9 54 fc 40 00 00 00"}, AGAH_ETYPE},
        {"created float32", {.created = "ca 4e ca a7 e2"}, AGAH_ETYPE},
        {"created negative", {.created = "ff"}, AGAH_ETYPE},
        {"created int8 positive d0 05", {.created = "d0 05"}, AGAH_ENONCANON},
        {"created uint64 small cf", {.created = "cf 00 00 00 00 65 53 f1 00"}, AGAH_ENONCANON},
        {"created uint8 small cc 05", {.created = "cc 05"}, AGAH_ENONCANON},
        {"created bool", {.created = "c3"}, AGAH_ETYPE},
        {"created ext", {.created = "d4 01 00"}, AGAH_ETYPE},
        {"created byte c1", {.created = "c1"}, AGAH_ETYPE},
        {"created as map", {.created = "81 01 02"}, AGAH_ETYPE},
        {"expires before created", {.expires = "01"}, AGAH_EVALUE},
        {"expires equal created", {.expires = "ce 65 53 f1 00"}, AGAH_EVALUE},
        {"member as str", {.member = "a1 78"}, AGAH_ETYPE},
        {"role 3", {.role = "03"}, AGAH_EVALUE},
        {"role 127", {.role = "7f"}, AGAH_EVALUE},
        {"role nil", {.role = "c0"}, AGAH_ETYPE},
        {"role str", {.role = "a6 6d 65 6d 62 65 72"}, AGAH_ETYPE},
        /* Version 3: the name is [] or [epoch, nonce, ct], never a str. */
        {"name as str (version 2 shape)", {.name = "a3 62 6f 62"}, AGAH_ETYPE},
        {"name as bin", {.name = "c4 03 62 6f 62"}, AGAH_ETYPE},
        {"name encrypted", {.name = "93 c420 1111111111111111111111111111111111111111111111111111111111111111 c418 222222222222222222222222222222222222222222222222 c460 333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333"}, 0},
        {"name array of 2", {.name = "92 c420 1111111111111111111111111111111111111111111111111111111111111111 c418 222222222222222222222222222222222222222222222222"}, AGAH_EFIELDS},
        {"name array of 4", {.name = "94 c420 1111111111111111111111111111111111111111111111111111111111111111 c418 222222222222222222222222222222222222222222222222 c460 333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333 c0"}, AGAH_EFIELDS},
        {"name epoch all zero", {.name = "93 c420 0000000000000000000000000000000000000000000000000000000000000000 c418 222222222222222222222222222222222222222222222222 c460 333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333"}, AGAH_EVALUE},
        {"name epoch bin31", {.name = "93 c41f 11111111111111111111111111111111111111111111111111111111111111 c418 222222222222222222222222222222222222222222222222 c460 333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333"}, AGAH_ETYPE},
        {"name nonce bin23", {.name = "93 c420 1111111111111111111111111111111111111111111111111111111111111111 c417 2222222222222222222222222222222222222222222222 c460 333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333"}, AGAH_ETYPE},
        {"name ct 95 bytes (not padded)", {.name = "93 c420 1111111111111111111111111111111111111111111111111111111111111111 c418 222222222222222222222222222222222222222222222222 c45f 3333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333"}, AGAH_ETYPE},
        {"name ct 97 bytes (not padded)", {.name = "93 c420 1111111111111111111111111111111111111111111111111111111111111111 c418 222222222222222222222222222222222222222222222222 c461 33333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333"}, AGAH_ETYPE},
        {"name ct 80 bytes (a note's size)", {.name = "93 c420 1111111111111111111111111111111111111111111111111111111111111111 c418 222222222222222222222222222222222222222222222222 c450 3333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333"}, AGAH_ETYPE},
        {"name ct as str", {.name = "93 c420 1111111111111111111111111111111111111111111111111111111111111111 c418 222222222222222222222222222222222222222222222222 a3 62 6f 62"}, AGAH_ETYPE},
        {"name str8 for short", {.name = "d9 03 62 6f 62"}, AGAH_ENONCANON},
        {"name str32 claiming 4 GiB", {.name = "db ff ff ff ff"}, AGAH_ETOOBIG},
        {"name nested depth bomb",
         {.name = "91 91 91 91 91 91 91 91 91 91 91 91 91 91 91 91 91 91 91 91 c0"},
         AGAH_ETOOBIG},
        {"signature by another key", {.signer = 1}, AGAH_ESIG},
        {"signature all zero", {.signer = 3}, AGAH_ESIG},
        {"signature missing", {.signer = 2}, AGAH_ETRUNC},
        {"extra bin before the signature", {.hdr = "9b", .extra = "c4 01 00"}, AGAH_EFIELDS},
    };
    struct tb *t = malloc(sizeof *t);
    struct agah_rec r;
    struct agah_why why;
    size_t ncases = sizeof cases / sizeof cases[0];

    for (size_t i = 0; i < ncases; i++) {
        build_adm(t, &cases[i].a);
        int got = dec(t, community, &r, &why);
        CHECK_CASE(got == cases[i].want, cases[i].name, got, cases[i].want);
        if (got != 0)
            CHECK(why.msg[0] != '\0');
    }

    /* Record-level shapes built around a valid admission. */
    build_adm(t, &(struct adm){0});
    uint8_t *valid = malloc(t->n);
    size_t vlen = t->n;
    memcpy(valid, t->d, vlen);
    /* A count or length larger than the whole input is ETOOBIG (it could
     * not fit whatever followed); one that fits the input but runs past
     * its end is ETRUNC. */
    struct { const char *name; size_t cut; int want; } cuts[] = {
        {"truncated to the array header (10 objects > 1 byte)", 1, AGAH_ETOOBIG},
        {"truncated inside community (bin32 > 8 bytes)", 8, AGAH_ETOOBIG},
        {"truncated to 10 bytes", 10, AGAH_ETRUNC},
        {"truncated inside author", 50, AGAH_ETRUNC},
        {"truncated before the signature", vlen - 66, AGAH_ETRUNC},
        {"truncated inside the signature header", vlen - 65, AGAH_ETRUNC},
        {"truncated by one byte", vlen - 1, AGAH_ETRUNC},
    };
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        memset(&why, 0, sizeof why);
        int got = agah_rec_decode(valid, cuts[i].cut, NULL, &r, &why);
        CHECK_CASE(got == cuts[i].want, cuts[i].name, got, cuts[i].want);
    }
    /* Trailing bytes, and two records back to back. */
    t->n = 0;
    tb_raw(t, valid, vlen);
    tb_hex(t, "00");
    CHECK(dec(t, NULL, &r, &why) == AGAH_ETRAILING);
    t->n = 0;
    tb_raw(t, valid, vlen);
    tb_raw(t, valid, vlen);
    CHECK(dec(t, NULL, &r, &why) == AGAH_ETRAILING);
    /* Another community. */
    uint8_t other[32];
    memset(other, 9, sizeof other);
    t->n = 0;
    tb_raw(t, valid, vlen);
    CHECK(dec(t, other, &r, &why) == AGAH_ECOMMUNITY);
    CHECK(dec(t, NULL, &r, &why) == 0);
    free(valid);

    /* Raw oversize claims and non-records. */
    static const struct { const char *name, *hex; int want; } raw[] = {
        {"array32 of 4 billion", "dd ff ff ff ff", AGAH_ETOOBIG},
        {"array32 of 1M", "dd 00 10 00 00 01 02 03", AGAH_ETOOBIG},
        {"array16 of 65535", "dc ff ff", AGAH_ETOOBIG},
        {"map32 of 4 billion", "df ff ff ff ff", AGAH_ETOOBIG},
        {"str32 of 4 GiB", "db ff ff ff ff", AGAH_ETOOBIG},
        {"bin32 of 4 GiB", "c6 ff ff ff ff", AGAH_ETOOBIG},
        {"array header cut", "dd ff ff", AGAH_ETRUNC},
        {"root is a map", "80", AGAH_ETYPE},
        {"root is an int", "01", AGAH_ETYPE},
        {"root is nil", "c0", AGAH_ETYPE},
        {"empty array", "90", AGAH_EFIELDS},
        {"one-element array", "91 01", AGAH_EFIELDS},
        {"version only with type", "92 03 05", AGAH_EFIELDS},
        {"unknown version short", "92 04 05", AGAH_EVERSION},
        {"version 2 short", "92 02 05", AGAH_EVERSION},
        {"float root", "cb 00 00 00 00 00 00 00 00", AGAH_ETYPE},
        {"depth bomb", "91 91 91 91 91 91 91 91 91 91 91 91 91 91 91 91", AGAH_ETOOBIG},
        {"trailing after array", "90 00", AGAH_ETRAILING},
        {"empty", "", AGAH_ETRUNC},
    };
    for (size_t i = 0; i < sizeof raw / sizeof raw[0]; i++) {
        t->n = 0;
        tb_hex(t, raw[i].hex);
        int got = dec(t, NULL, &r, &why);
        CHECK_CASE(got == raw[i].want, raw[i].name, got, raw[i].want);
    }
    /* Longer than any record may be, whatever it holds. */
    t->n = AGAH_REC_MAX + 1;
    memset(t->d, 0x90, t->n);
    CHECK(dec(t, NULL, &r, &why) == AGAH_ETOOBIG);
    CHECK(agah_rec_decode(NULL, 0, NULL, &r, &why) == AGAH_ETRUNC);
    free(t);
}

/* An encrypted text field [epoch, nonce, ct] of ctlen bytes of ct (the
 * decoder checks sizes, not contents): epoch all zero with zero_epoch. */
static void tb_text(struct tb *t, int zero_epoch, size_t ctlen)
{
    static uint8_t filler[4096];
    uint8_t ep[32], nonce[24];
    memset(ep, zero_epoch ? 0 : 0x11, sizeof ep);
    memset(nonce, 0x22, sizeof nonce);
    memset(filler, 0x33, sizeof filler);
    tb_u8(t, 0x93);
    tb_bin(t, ep, 32);
    tb_bin(t, nonce, 24);
    tb_bin(t, filler, ctlen);
}

/* Genesis, revocation and epoch shapes. */
static void test_malformed_other(void)
{
    struct tb *t = malloc(sizeof *t);
    struct agah_rec r;
    struct agah_why why;
    uint8_t zero[32] = {0}, other[32];

    memset(other, 9, sizeof other);
    /* Genesis: valid, then each way it can be wrong. Its names are one
     * encrypted text under the genesis key (epoch all zero), 144 + 16. */
    t->n = 0;
    tb_common(t, 0x98, AGAH_REC_GENESIS, zero, founder, 1700000000, 0);
    tb_text(t, 1, AGAH_PAD_NAMES + 16);
    tb_sign(t, founder);
    CHECK(dec(t, NULL, &r, &why) == 0);
    uint8_t gid[32];
    memcpy(gid, r.id, 32);
    CHECK(dec(t, gid, &r, &why) == 0);
    CHECK(dec(t, other, &r, &why) == AGAH_ECOMMUNITY);
    t->n = 0;
    tb_common(t, 0x98, AGAH_REC_GENESIS, other, founder, 1700000000, 0);
    tb_text(t, 1, AGAH_PAD_NAMES + 16);
    tb_sign(t, founder);
    CHECK(dec(t, NULL, &r, &why) == AGAH_EVALUE);
    t->n = 0; /* no names: a community needs one */
    tb_common(t, 0x98, AGAH_REC_GENESIS, zero, founder, 1700000000, 0);
    tb_u8(t, 0x90);
    tb_sign(t, founder);
    CHECK(dec(t, NULL, &r, &why) == AGAH_EVALUE);
    t->n = 0; /* names under an epoch, not the genesis key */
    tb_common(t, 0x98, AGAH_REC_GENESIS, zero, founder, 1700000000, 0);
    tb_text(t, 0, AGAH_PAD_NAMES + 16);
    tb_sign(t, founder);
    CHECK(dec(t, NULL, &r, &why) == AGAH_EVALUE);
    t->n = 0; /* names of an admission's size */
    tb_common(t, 0x98, AGAH_REC_GENESIS, zero, founder, 1700000000, 0);
    tb_text(t, 1, AGAH_PAD_NAME + 16);
    tb_sign(t, founder);
    CHECK(dec(t, NULL, &r, &why) == AGAH_ETYPE);
    t->n = 0; /* the version 2 shape: two strs */
    tb_common(t, 0x99, AGAH_REC_GENESIS, zero, founder, 1700000000, 0);
    tb_cstr(t, "name");
    tb_cstr(t, "");
    tb_sign(t, founder);
    CHECK(dec(t, NULL, &r, &why) == AGAH_EFIELDS);
    t->n = 0;
    tb_common(t, 0x98, AGAH_REC_GENESIS, zero, founder, 1700000000, 1800000000);
    tb_text(t, 1, AGAH_PAD_NAMES + 16);
    tb_sign(t, founder);
    CHECK(dec(t, NULL, &r, &why) == AGAH_EVALUE);

    /* Revocation: [member, keep, reason]; expires must be 0, the reason
     * [] or encrypted to a padded size, keep list sorted, unique and at
     * most AGAH_REV_KEEP_MAX ids of 32 bytes. */
    t->n = 0;
    tb_common(t, 0x9a, AGAH_REC_REVOCATION, community, founder, 1700000000, 1800000000);
    tb_bin(t, agah_identity_pk(member), 32);
    tb_u8(t, 0x90);
    tb_u8(t, 0x90);
    tb_sign(t, founder);
    CHECK(dec(t, community, &r, &why) == AGAH_EVALUE);
    {
        static const struct { size_t ct; int want; } rc[] = {
            {80, 0}, {272, 0}, {1040, 0}, {2368, 0}, {96, AGAH_ETYPE}, {2369, AGAH_ETYPE},
            {17, AGAH_ETYPE}, {81, AGAH_ETYPE},
        };
        for (size_t i = 0; i < sizeof rc / sizeof rc[0]; i++) {
            t->n = 0;
            tb_common(t, 0x9a, AGAH_REC_REVOCATION, community, founder, 1700000000, 0);
            tb_bin(t, agah_identity_pk(member), 32);
            tb_u8(t, 0x90);
            tb_text(t, 0, rc[i].ct);
            tb_sign(t, founder);
            int gotr = dec(t, community, &r, &why);
            CHECK_CASE(gotr == rc[i].want, "reason ct size", gotr, rc[i].want);
        }
    }
    t->n = 0; /* a reason in clear (version 2) */
    tb_common(t, 0x9a, AGAH_REC_REVOCATION, community, founder, 1700000000, 0);
    tb_bin(t, agah_identity_pk(member), 32);
    tb_u8(t, 0x90);
    tb_cstr(t, "x");
    tb_sign(t, founder);
    CHECK(dec(t, community, &r, &why) == AGAH_ETYPE);
    t->n = 0;
    tb_common(t, 0x9a, AGAH_REC_REVOCATION, zero, founder, 1700000000, 0);
    tb_bin(t, agah_identity_pk(member), 32);
    tb_u8(t, 0x90);
    tb_u8(t, 0x90);
    tb_sign(t, founder);
    CHECK(dec(t, NULL, &r, &why) == AGAH_EVALUE);
    /* The version-1 shape, without a keep list, is refused. */
    t->n = 0;
    tb_common(t, 0x99, AGAH_REC_REVOCATION, community, founder, 1700000000, 0);
    tb_bin(t, agah_identity_pk(member), 32);
    tb_u8(t, 0x90);
    tb_sign(t, founder);
    CHECK(dec(t, community, &r, &why) == AGAH_EFIELDS);
    {
        static uint8_t ids[AGAH_REV_KEEP_MAX + 1][32];
        struct { const char *name; size_t n; int mode; int want; } kc[] = {
            {"keep empty", 0, 0, 0},
            {"keep 3", 3, 0, 0},
            {"keep max", AGAH_REV_KEEP_MAX, 0, 0},
            {"keep max + 1", AGAH_REV_KEEP_MAX + 1, 0, AGAH_ETOOBIG},
            {"keep unsorted", 3, 1, AGAH_ENONCANON},
            {"keep repeated", 3, 2, AGAH_EFIELDS},
            {"keep bin31", 3, 3, AGAH_ETYPE},
            {"keep a map", 0, 4, AGAH_ETYPE},
        };
        for (size_t i = 0; i <= AGAH_REV_KEEP_MAX; i++) {
            memset(ids[i], 0x5a, 32);
            ids[i][0] = (uint8_t)(i >> 8);
            ids[i][1] = (uint8_t)i;
        }
        for (size_t c = 0; c < sizeof kc / sizeof kc[0]; c++) {
            t->n = 0;
            tb_common(t, 0x9a, AGAH_REC_REVOCATION, community, founder, 1700000000, 0);
            tb_bin(t, agah_identity_pk(member), 32);
            if (kc[c].mode == 4) {
                tb_u8(t, 0x80);
            } else {
                if (kc[c].n < 16) {
                    tb_u8(t, (uint8_t)(0x90 | kc[c].n));
                } else {
                    tb_u8(t, 0xdc);
                    tb_u8(t, (uint8_t)(kc[c].n >> 8));
                    tb_u8(t, (uint8_t)kc[c].n);
                }
                for (size_t i = 0; i < kc[c].n; i++) {
                    size_t k = i;
                    if (kc[c].mode == 1 && i < 2)
                        k = 1 - i;
                    if (kc[c].mode == 2 && i == 2)
                        k = 1;
                    if (kc[c].mode == 3 && i == 2)
                        tb_bin(t, ids[k], 31);
                    else
                        tb_bin(t, ids[k], 32);
                }
            }
            tb_u8(t, 0x90); /* no reason */
            tb_sign(t, founder);
            int got = dec(t, community, &r, &why);
            if (got != kc[c].want)
                fprintf(stderr, "revocation case '%s': got %d, want %d (%s)\n", kc[c].name, got,
                        kc[c].want, why.msg);
            CHECK(got == kc[c].want);
            if (got == 0) {
                CHECK(r.u.revocation.n_keep == kc[c].n);
                CHECK(kc[c].n == 0 || (agah_rec_revocation_keeps(&r, ids[0]) &&
                                       agah_rec_revocation_keeps(&r, ids[kc[c].n - 1])));
                CHECK(!agah_rec_revocation_keeps(&r, ids[AGAH_REV_KEEP_MAX]) ||
                      kc[c].n > AGAH_REV_KEEP_MAX);
                CHECK(t->n <= AGAH_REC_MAX);
            }
        }
    }

    /* Epoch entries: sorted, unique, 1..400, exact shapes. */
    uint8_t keys[402][32], sealed[80];
    for (size_t i = 0; i < 402; i++) {
        memset(keys[i], 0, 32);
        keys[i][0] = (uint8_t)(i >> 8);
        keys[i][1] = (uint8_t)i;
    }
    memset(sealed, 0x33, sizeof sealed);
    struct { const char *name; uint64_t number; size_t n; int mode; int want; } ep[] = {
        {"valid", 1, 3, 0, 0},
        {"unsorted", 1, 3, 1, AGAH_ENONCANON},
        {"duplicate", 1, 3, 2, AGAH_EFIELDS},
        {"no entries", 1, 0, 0, AGAH_EVALUE},
        {"401 entries", 1, 401, 0, AGAH_ETOOBIG},
        {"400 entries", 1, 400, 0, 0},
        {"number 0", 0, 3, 0, AGAH_EVALUE},
        {"sealed bin79", 1, 3, 3, AGAH_ETYPE},
        {"entry of 3 elements", 1, 3, 4, AGAH_EFIELDS},
        {"entry not an array", 1, 3, 5, AGAH_ETYPE},
        {"entries a map", 1, 3, 6, AGAH_ETYPE},
        {"no chain, net or relays field (version 1 shape)", 1, 3, 7, AGAH_EFIELDS},
        {"chain link of 2", 1, 3, 8, AGAH_EFIELDS},
        {"chain link key bin47", 1, 3, 9, AGAH_ETYPE},
        {"chain link to a zero id", 1, 3, 10, AGAH_EVALUE},
        {"chain link a map", 1, 3, 11, AGAH_ETYPE},
        {"chain link", 1, 3, 12, 0},
        {"carried network secret", 1, 3, 13, 0},
        {"network secret bin47", 1, 3, 14, AGAH_ETYPE},
        {"two relays", 1, 3, 15, 0},
        {"a relay that is also a recipient", 1, 3, 16, AGAH_EFIELDS},
        {"relays unsorted", 1, 3, 17, AGAH_ENONCANON},
        {"relays a map", 1, 3, 18, AGAH_ETYPE},
    };
    for (size_t c = 0; c < sizeof ep / sizeof ep[0]; c++) {
        t->n = 0;
        tb_common(t, ep[c].mode == 7 ? 0x99 : 0x9c, AGAH_REC_EPOCH, community, founder,
                  1700000000, 0);
        tb_uint(t, ep[c].number);
        if (ep[c].mode == 6) {
            tb_hex(t, "81 01 02");
        } else {
            if (ep[c].n < 16)
                tb_u8(t, (uint8_t)(0x90 | ep[c].n));
            else {
                tb_u8(t, 0xdc); tb_u8(t, (uint8_t)(ep[c].n >> 8)); tb_u8(t, (uint8_t)ep[c].n);
            }
            for (size_t i = 0; i < ep[c].n; i++) {
                size_t k = i;
                if (ep[c].mode == 1 && i == 1) k = 2;
                if (ep[c].mode == 1 && i == 2) k = 1;
                if (ep[c].mode == 2 && i == 2) k = 1;
                if (ep[c].mode == 5 && i == 1) {
                    tb_bin(t, keys[k], 32);
                    continue;
                }
                tb_u8(t, ep[c].mode == 4 && i == 1 ? 0x93 : 0x92);
                tb_bin(t, keys[k], 32);
                tb_bin(t, sealed, ep[c].mode == 3 && i == 2 ? 79 : 80);
                if (ep[c].mode == 4 && i == 1)
                    tb_u8(t, 0xc0);
            }
        }
        /* The chain link: [] or [prev_id bin32, nonce bin24, ct bin48]. */
        uint8_t nz[48];
        memset(nz, 0x44, sizeof nz);
        switch (ep[c].mode) {
        case 7:
            break;
        case 8:
            tb_u8(t, 0x92);
            tb_bin(t, keys[0] + 0, 32);
            tb_bin(t, nz, 24);
            break;
        case 9:
        case 10:
        case 12:
            tb_u8(t, 0x93);
            if (ep[c].mode == 10)
                tb_bin(t, (const uint8_t[32]){0}, 32);
            else
                tb_bin(t, nz, 32);
            tb_bin(t, nz, 24);
            tb_bin(t, nz, ep[c].mode == 9 ? 47 : 48);
            break;
        case 11:
            tb_hex(t, "80");
            break;
        default:
            tb_u8(t, 0x90);
            break;
        }
        /* The network secret link (same shape), then the relays. */
        if (ep[c].mode == 13 || ep[c].mode == 14) {
            tb_u8(t, 0x93);
            tb_bin(t, nz, 32);
            tb_bin(t, nz, 24);
            tb_bin(t, nz, ep[c].mode == 14 ? 47 : 48);
        } else if (ep[c].mode != 7) {
            tb_u8(t, 0x90);
        }
        if (ep[c].mode >= 15 && ep[c].mode <= 17) {
            /* keys[0..2] are the recipients; relays 300 and 301. */
            size_t a = ep[c].mode == 16 ? 1 : 300, b = 301;
            if (ep[c].mode == 17) { a = 301; b = 300; }
            tb_u8(t, 0x92);
            tb_u8(t, 0x92); tb_bin(t, keys[a], 32); tb_bin(t, sealed, 80);
            tb_u8(t, 0x92); tb_bin(t, keys[b], 32); tb_bin(t, sealed, 80);
        } else if (ep[c].mode == 18) {
            tb_hex(t, "80");
        } else if (ep[c].mode != 7) {
            tb_u8(t, 0x90);
        }
        tb_sign(t, founder);
        int got = dec(t, community, &r, &why);
        CHECK_CASE(got == ep[c].want, ep[c].name, got, ep[c].want);
        if (got == 0) {
            uint8_t pk2[32], net_id[32];
            CHECK(r.u.epoch.has_net == (ep[c].mode == 13));
            CHECK(r.u.epoch.n_relays == (ep[c].mode == 15 ? 2u : 0u));
            if (ep[c].mode == 15) {
                CHECK(memcmp(agah_rec_epoch_relay(&r, 1), keys[301], 32) == 0);
                CHECK(agah_rec_epoch_relay(&r, 2) == NULL);
            }
            agah_rec_epoch_net_id(&r, net_id);
            CHECK(memcmp(net_id, ep[c].mode == 13 ? nz : r.id, 32) == 0);
            CHECK(r.u.epoch.has_prev == (ep[c].mode == 12));
            /* A link not made with this key does not open. */
            CHECK(agah_rec_epoch_prev_open(&r, epoch_key, pk2) ==
                  (ep[c].mode == 12 ? AGAH_ECRYPTO : AGAH_ENOENT));
        }
        if (got == 0) {
            CHECK(r.u.epoch.n == ep[c].n);
            CHECK(memcmp(agah_rec_epoch_member(&r, ep[c].n - 1), keys[ep[c].n - 1], 32) == 0);
            CHECK(memcmp(agah_rec_epoch_sealed(&r, 0), sealed, 80) == 0);
            /* Entry not sealed to anyone real: opening fails cleanly. */
            CHECK(agah_rec_epoch_open(&r, member, other) == AGAH_ENOENT);
        }
    }
    free(t);
}

/* Pads b[0..n) in place (room for 4096 bytes) to its size class: the
 * smallest of 64, 256, 1024, 2352 above n, as record version 3 does. */
static int pad_bucket(uint8_t *b, size_t n, size_t *out)
{
    static const size_t sizes[] = AGAH_PAD_SIZES;
    for (size_t i = 0; i < AGAH_PAD_NSIZES; i++)
        if (n < sizes[i])
            return sodium_pad(out, b, n, sizes[i], 4096);
    return -1;
}

/* Builds a sealed record with chosen outer fields and plaintext. */
static void build_sealed(struct tb *t, int type, uint8_t hdr, const uint8_t *ref,
                         const uint8_t *ep, uint64_t created, uint64_t expires,
                         const uint8_t *pt, size_t ptlen, const uint8_t key[32],
                         size_t nonce_len, size_t ct_override)
{
    uint8_t nonce[24], ct[4096], padded[4096];
    unsigned long long ctlen;
    size_t adlen, plen = ptlen;

    t->n = 0;
    tb_common(t, hdr, (uint64_t)type, community, member, created, expires);
    tb_bin(t, ref, 32);
    tb_bin(t, ep, 32);
    adlen = t->n;
    memset(nonce, 0x17, sizeof nonce);
    /* Padded as a writer pads (version 3), unless the test overrides ct. */
    if (ptlen > sizeof padded)
        abort();
    memcpy(padded, pt, ptlen);
    if (!ct_override && pad_bucket(padded, ptlen, &plen) != 0)
        abort();
    if (crypto_aead_xchacha20poly1305_ietf_encrypt(ct, &ctlen, padded, plen, t->d, adlen, NULL,
                                                   nonce, key) != 0)
        abort();
    tb_bin(t, nonce, nonce_len);
    tb_bin(t, ct, ct_override ? ct_override : (size_t)ctlen);
    tb_sign(t, member);
}

static void test_sealed(void)
{
    static const uint8_t zero[32];
    struct tb *t = malloc(sizeof *t);
    struct agah_rec r;
    struct agah_why why;
    struct agah_alert_body got;
    char note[AGAH_NOTE_MAX + 1];
    uint8_t ref[32], pt[3000];

    memset(ref, 0xab, sizeof ref);
    /* [1, "+85251234567", 0, "hi", 1] */
    const char *okbody = "95 01 ac 2b 38 35 32 35 31 32 33 34 35 36 37 00 a2 68 69 01";
    struct tb *p = malloc(sizeof *p);
    p->n = 0;
    tb_hex(p, okbody);
    build_sealed(t, AGAH_REC_ALERT, 0x9b, zero, epoch_id, 100, 200, p->d, p->n, epoch_key, 24, 0);
    CHECK(dec(t, community, &r, &why) == 0);
    CHECK(agah_rec_open_alert(&r, epoch_key, &got, &why) == 0);
    CHECK(strcmp(got.target, "+85251234567") == 0 && strcmp(got.note, "hi") == 0);
    CHECK(got.severity == AGAH_SEV_WARNING && got.kind == AGAH_KIND_NUMBER);

    /* Outer-field cases. */
    build_sealed(t, AGAH_REC_ALERT, 0x9b, ref, epoch_id, 100, 200, p->d, p->n, epoch_key, 24, 0);
    CHECK(dec(t, community, &r, &why) == AGAH_EVALUE); /* ref in an alert */
    build_sealed(t, AGAH_REC_CONFIRM, 0x9b, zero, epoch_id, 100, 0, p->d, p->n, epoch_key, 24, 0);
    CHECK(dec(t, community, &r, &why) == AGAH_EVALUE); /* confirm without ref */
    build_sealed(t, AGAH_REC_CONFIRM, 0x9b, ref, epoch_id, 100, 200, p->d, p->n, epoch_key, 24, 0);
    CHECK(dec(t, community, &r, &why) == AGAH_EVALUE); /* confirm with expiry */
    build_sealed(t, AGAH_REC_ALERT, 0x9b, zero, zero, 100, 200, p->d, p->n, epoch_key, 24, 0);
    CHECK(dec(t, community, &r, &why) == AGAH_EVALUE); /* zero epoch id */
    build_sealed(t, AGAH_REC_ALERT, 0x9b, zero, epoch_id, 100, 200, p->d, p->n, epoch_key, 23, 0);
    CHECK(dec(t, community, &r, &why) == AGAH_ETYPE); /* nonce 23 */
    build_sealed(t, AGAH_REC_ALERT, 0x9b, zero, epoch_id, 100, 200, p->d, 0, epoch_key, 24, 16);
    CHECK(dec(t, community, &r, &why) == AGAH_ETYPE); /* ct of only a tag */
    memset(pt, 'n', sizeof pt);
    build_sealed(t, AGAH_REC_ALERT, 0x9b, zero, epoch_id, 100, 200, pt, 2400, epoch_key, 24,
                 2368 + 1);
    CHECK(dec(t, community, &r, &why) == AGAH_ETOOBIG); /* ct one byte too long */
    /* Only the padded sizes 64, 256, 1024, 2352 (plus the tag) pass. */
    {
        static const size_t cts[] = {80, 272, 1040, 2368, 17, 79, 81, 100, 271, 1041, 2367};
        for (size_t i = 0; i < sizeof cts / sizeof cts[0]; i++) {
            build_sealed(t, AGAH_REC_ALERT, 0x9b, zero, epoch_id, 100, 200, pt, 2400, epoch_key,
                         24, cts[i]);
            int gotc = dec(t, community, &r, &why);
            CHECK_CASE(gotc == (i < 4 ? 0 : AGAH_ETYPE), "ct size", gotc, i < 4 ? 0 : AGAH_ETYPE);
        }
    }
    /* Plaintexts: padded beyond their size class, or not padded as ISO/IEC
     * 7816-4 says (no 0x80 marker), decrypt but do not open. */
    {
        uint8_t nonce[24], ct[2400], big[2352];
        unsigned long long ctlen;
        size_t plen = 0;
        struct tb *a = malloc(sizeof *a);
        for (int mode = 0; mode < 3; mode++) {
            memset(big, 0, sizeof big);
            memcpy(big, p->d, p->n);
            if (mode == 0)
                CHECK(sodium_pad(&plen, big, p->n, 64, sizeof big) == 0 && plen == 64);
            else if (mode == 1)
                CHECK(sodium_pad(&plen, big, p->n, 256, sizeof big) == 0 && plen == 256);
            else
                plen = 64; /* zeros after the body, no marker */
            a->n = 0;
            tb_common(a, 0x9b, AGAH_REC_ALERT, community, member, 100, 200);
            tb_bin(a, zero, 32);
            tb_bin(a, epoch_id, 32);
            memset(nonce, 0x17, sizeof nonce);
            CHECK(crypto_aead_xchacha20poly1305_ietf_encrypt(ct, &ctlen, big, plen, a->d, a->n,
                                                             NULL, nonce, epoch_key) == 0);
            tb_bin(a, nonce, 24);
            tb_bin(a, ct, (size_t)ctlen);
            tb_sign(a, member);
            CHECK(dec(a, community, &r, &why) == 0);
            int gotp = agah_rec_open_alert(&r, epoch_key, &got, &why);
            CHECK_CASE(gotp == (mode == 0 ? 0 : AGAH_EVALUE), "padding", gotp,
                       mode == 0 ? 0 : AGAH_EVALUE);
        }
        free(a);
    }
    build_sealed(t, AGAH_REC_ALERT, 0x9a, zero, epoch_id, 100, 200, p->d, p->n, epoch_key, 24, 0);
    CHECK(dec(t, community, &r, &why) == AGAH_ETRAILING); /* header says 10 of 11 */

    /* The outer fields are bound by the AEAD: a re-signed record whose
     * created, expires, type, ref, epoch or author changed does not open. */
    {
        /* Same ciphertext, re-signed with different created. */
        uint8_t ct[512], nonce[24], padded[4096];
        unsigned long long ctlen;
        size_t plen = 0;
        struct tb *a = malloc(sizeof *a);
        a->n = 0;
        tb_common(a, 0x9b, AGAH_REC_ALERT, community, member, 100, 200);
        tb_bin(a, zero, 32);
        tb_bin(a, epoch_id, 32);
        memset(nonce, 0x17, sizeof nonce);
        memcpy(padded, p->d, p->n);
        CHECK(pad_bucket(padded, p->n, &plen) == 0);
        CHECK(crypto_aead_xchacha20poly1305_ietf_encrypt(ct, &ctlen, padded, plen, a->d, a->n,
                                                         NULL, nonce, epoch_key) == 0);
        struct { const char *name; uint64_t created, expires; const uint8_t *ep;
                 const struct agah_identity *author; } alt[] = {
            {"created", 101, 200, epoch_id, member},
            {"expires", 100, 201, epoch_id, member},
            {"epoch", 100, 200, ref, member},
            {"author", 100, 200, epoch_id, relay},
        };
        for (size_t i = 0; i < sizeof alt / sizeof alt[0]; i++) {
            a->n = 0;
            tb_common(a, 0x9b, AGAH_REC_ALERT, community, alt[i].author, alt[i].created,
                      alt[i].expires);
            tb_bin(a, zero, 32);
            tb_bin(a, alt[i].ep, 32);
            tb_bin(a, nonce, 24);
            tb_bin(a, ct, (size_t)ctlen);
            tb_sign(a, alt[i].author);
            int got1 = dec(a, community, &r, &why);
            CHECK_CASE(got1 == 0, alt[i].name, got1, 0);
            int got2 = agah_rec_open_alert(&r, epoch_key, &got, &why);
            CHECK_CASE(got2 == AGAH_ECRYPTO, alt[i].name, got2, AGAH_ECRYPTO);
        }
        free(a);
    }
    /* An alert's ciphertext moved into a CONFIRM does not open either. */
    build_sealed(t, AGAH_REC_CONFIRM, 0x9b, ref, epoch_id, 100, 0, p->d, p->n, epoch_key, 24, 0);
    CHECK(dec(t, community, &r, &why) == 0);
    /* (It was encrypted with the CONFIRM header here, so it opens as a
     * note only if the plaintext is a str: it is an array, so ETYPE.) */
    CHECK(agah_rec_open_note(&r, epoch_key, note, &why) == AGAH_ETYPE);

    /* Strict decoding of the plaintext body. */
    static const struct { const char *name, *hex; int want; } bodies[] = {
        {"valid alert kind", "95 03 c0 02 a0 02", 0},
        {"alert kind with target", "95 03 a1 78 02 a0 02", AGAH_ETYPE},
        {"number with nil target", "95 01 c0 00 a0 00", AGAH_ETYPE},
        {"number with empty target", "95 01 a0 00 a0 00", AGAH_EVALUE},
        {"kind 0", "95 00 a1 78 00 a0 00", AGAH_EVALUE},
        {"kind 4", "95 04 a1 78 00 a0 00", AGAH_EVALUE},
        {"category 5", "95 02 a1 78 05 a0 00", AGAH_EVALUE},
        {"severity 3", "95 02 a1 78 00 a0 03", AGAH_EVALUE},
        {"note bad UTF-8", "95 02 a1 78 00 a1 ff 00", AGAH_EVALUE},
        {"note NUL", "95 02 a1 78 00 a1 00 00", AGAH_EVALUE},
        {"target NUL", "95 02 a2 78 00 00 a0 00", AGAH_EVALUE},
        {"six elements", "96 02 a1 78 00 a0 00 00", AGAH_EFIELDS},
        {"four elements", "94 02 a1 78 00 a0", AGAH_EFIELDS},
        {"not an array", "a1 78", AGAH_ETYPE},
        {"non-canonical kind", "95 cc 02 a1 78 00 a0 00", AGAH_ENONCANON},
        {"trailing byte", "95 02 a1 78 00 a0 00 00", AGAH_ETRAILING},
        {"float severity", "95 02 a1 78 00 a0 ca 00 00 00 00", AGAH_ETYPE},
        {"note as bin", "95 02 a1 78 00 c4 00 00", AGAH_ETYPE},
        {"truncated", "95 02 a1 78 00 a1", AGAH_ETRUNC},
        {"count above input", "95 02 a1 78", AGAH_ETOOBIG},
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        p->n = 0;
        tb_hex(p, bodies[i].hex);
        build_sealed(t, AGAH_REC_ALERT, 0x9b, zero, epoch_id, 100, 0, p->d, p->n, epoch_key, 24,
                     0);
        int got0 = dec(t, community, &r, &why);
        CHECK(got0 == 0);
        int gotb = agah_rec_open_alert(&r, epoch_key, &got, &why);
        CHECK_CASE(gotb == bodies[i].want, bodies[i].name, gotb, bodies[i].want);
    }
    /* Notes: a str, bounded, valid UTF-8. */
    static const struct { const char *name, *hex; int want; } notes[] = {
        {"empty note", "a0", 0},
        {"note as nil", "c0", AGAH_ETYPE},
        {"note bad UTF-8", "a1 80", AGAH_EVALUE},
        {"note trailing", "a0 a0", AGAH_ETRAILING},
    };
    for (size_t i = 0; i < sizeof notes / sizeof notes[0]; i++) {
        p->n = 0;
        tb_hex(p, notes[i].hex);
        build_sealed(t, AGAH_REC_RETRACT, 0x9b, ref, epoch_id, 100, 0, p->d, p->n, epoch_key, 24,
                     0);
        CHECK(dec(t, community, &r, &why) == 0);
        int gotn = agah_rec_open_note(&r, epoch_key, note, &why);
        CHECK_CASE(gotn == notes[i].want, notes[i].name, gotn, notes[i].want);
    }
    free(p);
    free(t);
}

/* The decoder for a node's own store: every flip and truncation of a
 * valid record gets the strict decoder's answer, except those that only
 * break the signature, and the record itself decodes to the same fields. */
static void test_decode_stored(void)
{
    static const uint8_t pats[] = {0x01, 0x80, 0xff, 0x10};
    uint8_t *c = malloc(alert_num_len);
    struct agah_rec r;
    size_t sig_only = stored_sig_only;
    int got;

    CHECK(c != NULL && alert_num != NULL);
    if (c == NULL || alert_num == NULL)
        return;
    got = agah_rec_decode(alert_num, alert_num_len, NULL, &r, NULL);
    CHECK(got == 0);
    check_stored(alert_num, alert_num_len, NULL, got, &r);
    for (size_t i = 0; i < alert_num_len; i++) {
        for (size_t p = 0; p < sizeof pats; p++) {
            memcpy(c, alert_num, alert_num_len);
            c[i] ^= pats[p];
            got = agah_rec_decode(c, alert_num_len, NULL, &r, NULL);
            check_stored(c, alert_num_len, NULL, got, &r);
        }
    }
    for (size_t n = 0; n < alert_num_len; n++) {
        got = agah_rec_decode(alert_num, n, NULL, &r, NULL);
        check_stored(alert_num, n, NULL, got, &r);
    }
    /* The 64 signature bytes are the only ones whose flips are ESIG alone. */
    CHECK(stored_sig_only - sig_only >= 64 * sizeof pats);
    CHECK(stored_sig_only > 0 && stored_agreed > stored_sig_only);
    free(c);
}

int main(void)
{
    if (agah_init() != 0) {
        fprintf(stderr, "test_record: libsodium failed to start\n");
        return 1;
    }
    agah_set_random(test_fill);
    founder = ident(1);
    member = ident(2);
    relay = ident(3);
    outsider = ident(4);

    test_enums();
    test_ids();
    test_keys();
    test_roundtrip();
    test_epoch_max();
    test_malformed_admission();
    test_malformed_other();
    test_sealed();
    test_decode_stored();

    free(alert_num);
    agah_identity_free(founder);
    agah_identity_free(member);
    agah_identity_free(relay);
    agah_identity_free(outsider);
    agah_set_random(NULL);
    printf("test_record: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}

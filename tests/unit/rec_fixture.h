/* Fixtures of the record tests (test_record.c, test_rec_malformed.c,
 * test_rec_sealed.c): four seeded identities, deterministic nonces, a byte
 * builder for hand-made (often malformed) records with canonical encoders
 * written independently of the library's, and dec(), which checks that the
 * store's decoder agrees with the strict one on every input it decodes.
 * Included once by each program, after check.h. */
#ifndef AGAH_TEST_REC_FIXTURE_H
#define AGAH_TEST_REC_FIXTURE_H

/* Whether the NUL-terminated text t occurs in b[0..n). */
static inline int has_bytes(const uint8_t *b, size_t n, const char *t)
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
static inline void test_fill(void *buf, size_t len)
{
    uint8_t seed[randombytes_SEEDBYTES] = {0};
    memcpy(seed, &rng_counter, sizeof rng_counter);
    rng_counter++;
    randombytes_buf_deterministic(buf, len, seed);
}

static inline struct agah_identity *ident(uint8_t b)
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

static inline void tb_raw(struct tb *t, const void *p, size_t n)
{
    if (t->n + n > sizeof t->d)
        abort();
    memcpy(t->d + t->n, p, n);
    t->n += n;
}

static inline void tb_hex(struct tb *t, const char *hex)
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

static inline void tb_u8(struct tb *t, uint8_t b) { tb_raw(t, &b, 1); }

/* Canonical encoders written independently of the library's. */
static inline void tb_uint(struct tb *t, uint64_t v)
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

static inline void tb_bin(struct tb *t, const void *p, size_t n)
{
    if (n < 0x100) {
        tb_u8(t, 0xc4); tb_u8(t, (uint8_t)n);
    } else {
        tb_u8(t, 0xc5); tb_u8(t, (uint8_t)(n >> 8)); tb_u8(t, (uint8_t)n);
    }
    tb_raw(t, p, n);
}

static inline void tb_str(struct tb *t, const void *p, size_t n)
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

static inline void tb_cstr(struct tb *t, const char *s) { tb_str(t, s, strlen(s)); }

/* Appends a valid signature by `by` over the prefix and everything so far. */
static inline void tb_sign(struct tb *t, const struct agah_identity *by)
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
static inline void check_stored(const uint8_t *buf, size_t len, const uint8_t *comm, int strict,
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

static inline int dec(const struct tb *t, const uint8_t *comm, struct agah_rec *r, struct agah_why *why)
{
    int got;
    memset(why, 0, sizeof *why);
    got = agah_rec_decode(t->d, t->n, comm, r, why);
    check_stored(t->d, t->n, comm, got, r);
    return got;
}

/* The common fields: [hdr, 1, type, community, author, created, expires]. */
static inline void tb_common(struct tb *t, uint8_t hdr, uint64_t type, const uint8_t *comm,
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

/* Starts libsodium, makes the nonces deterministic and the identities
 * founder, member, relay and outsider. 0, or -1 when libsodium fails. */
static inline int rec_fixture_init(const char *prog)
{
    if (agah_init() != 0) {
        fprintf(stderr, "%s: libsodium failed to start\n", prog);
        return -1;
    }
    agah_set_random(test_fill);
    founder = ident(1);
    member = ident(2);
    relay = ident(3);
    outsider = ident(4);
    return 0;
}

/* The community and its first epoch as test_record.c's round trip makes
 * them (community, epoch_id, epoch_key), for a program that needs them
 * but does not test their making. */
static inline void rec_fixture_community(void)
{
    uint8_t *b = NULL, rec3[3][32];
    size_t n = 0;

    if (agah_rec_genesis(founder, TEST_GKEY, "Agah test", "Founder", 1700000000, &b, &n) != 0)
        abort();
    agah_hash(b, n, community);
    free(b);
    memcpy(rec3[0], agah_identity_pk(relay), 32);
    memcpy(rec3[1], agah_identity_pk(founder), 32);
    memcpy(rec3[2], agah_identity_pk(member), 32);
    memset(epoch_key, 0x42, sizeof epoch_key);
    if (agah_rec_epoch(founder, community, 1, (const uint8_t(*)[32])rec3, 3, epoch_key,
                       1700000300, &b, &n) != 0)
        abort();
    agah_hash(b, n, epoch_id);
    free(b);
}

/* Frees the identities and prints the totals. The exit status for main. */
static inline int rec_fixture_done(const char *prog)
{
    agah_identity_free(founder);
    agah_identity_free(member);
    agah_identity_free(relay);
    agah_identity_free(outsider);
    agah_set_random(NULL);
    printf("%s: %d passed, %d failed\n", prog, passed, failed);
    return failed == 0 ? 0 : 1;
}

#endif

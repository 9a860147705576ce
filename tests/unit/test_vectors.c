/* Protocol test vectors: fixed seeds and a fixed random source give exact
 * bytes for every record type, ids and member ids. This program regenerates
 * them and compares with the committed reference proto/vectors/records.txt,
 * so an accidental change to the wire format fails here, and a second
 * implementation can check itself against the same file.
 *   test_vectors                 compare with AGAH_VECTORS_DIR/records.txt
 *   test_vectors --write DIR     write DIR/records.txt (after a deliberate change)
 *   test_vectors --corpus DIR    write each record as DIR/NAME.bin (fuzz seeds) */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <agah/keys.h>
#include <agah/record.h>

#include "check.h"

/* ------------------------------------------------------------------ */
/* A deterministic libsodium random source. Each generation step reseeds
 * it from a label, so the vectors do not depend on how many random bytes
 * libsodium itself consumes at start-up. */

static uint8_t vec_seed[randombytes_SEEDBYTES];
static uint64_t vec_calls;

static void vec_reseed(const char *label)
{
    if (crypto_generichash(vec_seed, sizeof vec_seed, (const uint8_t *)label, strlen(label),
                           NULL, 0) != 0)
        abort();
    vec_calls = 0;
}

static void vec_buf(void *buf, size_t size)
{
    uint8_t s[randombytes_SEEDBYTES];
    memcpy(s, vec_seed, sizeof s);
    for (size_t i = 0; i < 8; i++)
        s[i] ^= (uint8_t)(vec_calls >> (8 * i));
    vec_calls++;
    randombytes_buf_deterministic(buf, size, s);
}

static uint32_t vec_random(void)
{
    uint32_t v;
    vec_buf(&v, sizeof v);
    return v;
}

static const char *vec_name(void) { return "agah-test-vectors"; }

static struct randombytes_implementation vec_impl = {
    .implementation_name = vec_name,
    .random = vec_random,
    .stir = NULL,
    .uniform = NULL,
    .buf = vec_buf,
    .close = NULL,
};

/* ------------------------------------------------------------------ */
/* The output: "key value" lines, and the records as binary files. */

static char *out;
static size_t out_len, out_cap;
static const char *corpus_dir;

static void emit(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void emit(const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        abort();
    if (out_len + (size_t)n + 1 > out_cap) {
        out_cap = (out_len + (size_t)n + 1) * 2;
        if ((out = realloc(out, out_cap)) == NULL)
            abort();
    }
    va_start(ap, fmt);
    vsnprintf(out + out_len, out_cap - out_len, fmt, ap);
    va_end(ap);
    out_len += (size_t)n;
}

static void emit_hex(const char *key, const uint8_t *p, size_t n)
{
    emit("%s ", key);
    for (size_t i = 0; i < n; i++)
        emit("%02x", p[i]);
    emit("\n");
}

/* Emits a record's bytes and id, checks it decodes, writes a corpus file. */
static void emit_record(const char *name, const uint8_t *b, size_t n, const uint8_t *comm,
                        struct agah_rec *r)
{
    char key[64];
    struct agah_why why = {{0}};

    snprintf(key, sizeof key, "%s.hex", name);
    emit_hex(key, b, n);
    CHECK(agah_rec_decode(b, n, comm, r, &why) == 0);
    snprintf(key, sizeof key, "%s.id", name);
    emit_hex(key, r->id, sizeof r->id);
    if (corpus_dir != NULL) {
        char path[512];
        FILE *f;
        snprintf(path, sizeof path, "%s/%s.bin", corpus_dir, name);
        f = fopen(path, "wb");
        CHECK(f != NULL);
        if (f != NULL) {
            CHECK(fwrite(b, 1, n, f) == n);
            CHECK(fclose(f) == 0);
        }
    }
}

static struct agah_identity *seeded(const char *name, uint8_t byte)
{
    uint8_t seed[32];
    char key[64], ids[AGAH_IDSTR_SIZE];
    struct agah_identity *id = NULL;

    memset(seed, byte, sizeof seed);
    if (agah_identity_from_seed(seed, &id) != 0)
        abort();
    snprintf(key, sizeof key, "%s.seed", name);
    emit_hex(key, seed, sizeof seed);
    snprintf(key, sizeof key, "%s.pk", name);
    emit_hex(key, agah_identity_pk(id), AGAH_PK_LEN);
    agah_id_encode(AGAH_IDPFX_MEMBER, agah_identity_pk(id), ids);
    emit("%s.member_id %s\n", name, ids);
    return id;
}

/* Decrypts one ciphertext of record r, strips the padding and emits the
 * plaintext (canonical msgpack) and the padded length, for implementations
 * checking their encoding and padding. */
static void emit_plain(const char *name, const struct agah_rec *r, size_t ad_len,
                       const uint8_t *nonce, const uint8_t *ct, size_t ct_len,
                       const uint8_t key[32])
{
    uint8_t pt[4096];
    unsigned long long ptlen = 0;
    size_t un = 0;
    char k[64];

    CHECK(ct_len <= sizeof pt + 16);
    CHECK(crypto_aead_xchacha20poly1305_ietf_decrypt(pt, &ptlen, NULL, ct, ct_len, r->bytes,
                                                     ad_len, nonce, key) == 0);
    CHECK(sodium_unpad(&un, pt, (size_t)ptlen, (size_t)ptlen) == 0);
    snprintf(k, sizeof k, "%s.plaintext", name);
    emit_hex(k, pt, un);
    snprintf(k, sizeof k, "%s.padded_len", name);
    emit("%s %llu\n", k, ptlen);
    snprintf(k, sizeof k, "%s.ad_len", name);
    emit("%s %zu\n", k, ad_len);
}

static void emit_text(const char *name, const struct agah_rec *r, const struct agah_rec_text *t,
                      const uint8_t key[32])
{
    emit_plain(name, r, t->ad_len, t->nonce, t->ct, t->ct_len, key);
}

static void alert_vector(const char *name, const struct agah_identity *author,
                         const uint8_t comm[32], const uint8_t ep[32], const uint8_t key[32],
                         int kind, const char *target, int cat, int sev, const char *note,
                         uint64_t created, uint64_t expires, uint8_t ref_out[32])
{
    struct agah_alert_body body, got;
    struct agah_rec r;
    struct agah_why why = {{0}};
    uint8_t *b = NULL;
    size_t n = 0;

    memset(&body, 0, sizeof body);
    body.kind = kind;
    snprintf(body.target, sizeof body.target, "%s", target);
    body.category = cat;
    body.severity = sev;
    snprintf(body.note, sizeof body.note, "%s", note);
    vec_reseed(name);
    CHECK(agah_rec_alert(author, comm, ep, key, &body, created, expires, &b, &n) == 0);
    if (b == NULL)
        return;
    emit_record(name, b, n, comm, &r);
    emit_plain(name, &r, r.u.sealed.ad_len, r.u.sealed.nonce, r.u.sealed.ct,
               r.u.sealed.ct_len, key);
    CHECK(agah_rec_open_alert(&r, key, &got, &why) == 0);
    CHECK(got.kind == kind && got.category == cat && got.severity == sev);
    CHECK(strcmp(got.target, target) == 0 && strcmp(got.note, note) == 0);
    if (ref_out != NULL)
        memcpy(ref_out, r.id, 32);
    free(b);
}

static void generate(void)
{
    struct agah_identity *founder, *member, *relay;
    uint8_t *b = NULL;
    size_t n = 0;
    struct agah_rec r;
    uint8_t comm[32], ep[32], key[32], ref[32], k2[32];
    char ids[AGAH_IDSTR_SIZE], note[AGAH_NOTE_MAX + 1];
    struct agah_why why = {{0}};

    emit("# agah protocol test vectors, record format version 3.\n");
    emit("# Generated by tests/unit/test_vectors --write; see proto/PROTOCOL.md (Records).\n");
    emit("# Identities come from fixed seeds. Random bytes (nonces, sealed-box\n");
    emit("# ephemeral keys) come from randombytes_buf_deterministic, reseeded per\n");
    emit("# record; they are reproducible here, random in real use. A .plaintext is\n");
    emit("# the msgpack inside a ciphertext before its ISO/IEC 7816-4 padding to\n");
    emit("# .padded_len bytes.\n");
    founder = seeded("founder", 0x01);
    member = seeded("member", 0x02);
    relay = seeded("relay", 0x03);

    /* The names go under the genesis key (44x32), which epoch 1 carries. */
    uint8_t gkey[32];
    memset(gkey, 0x44, sizeof gkey);
    emit_hex("genesis.key", gkey, sizeof gkey);
    vec_reseed("genesis");
    CHECK(agah_rec_genesis(founder, gkey, "Agah test community", "Founder", 1700000000, &b, &n) ==
          0);
    emit_record("genesis", b, n, NULL, &r);
    emit_text("genesis.names", &r, &r.u.genesis.names, gkey);
    memcpy(comm, r.id, 32);
    agah_id_encode(AGAH_IDPFX_COMMUNITY, comm, ids);
    emit("community_id %s\n", ids);
    {
        char cn[AGAH_NAME_MAX + 1], fn[AGAH_NAME_MAX + 1];
        CHECK(agah_rec_open_names(&r, gkey, cn, fn, &why) == 0 &&
              strcmp(cn, "Agah test community") == 0 && strcmp(fn, "Founder") == 0);
    }
    free(b);

    /* Epoch 1 (key 42x32), sealed to founder and member, chained to the
     * genesis key: its holders read the community's names. */
    memset(key, 0x42, sizeof key);
    emit_hex("epoch_1.key", key, sizeof key);
    uint8_t rcpt[2][32];
    memcpy(rcpt[0], agah_identity_pk(member), 32);
    memcpy(rcpt[1], agah_identity_pk(founder), 32);
    vec_reseed("epoch_1");
    CHECK(agah_rec_epoch_chained(founder, comm, 1, (const uint8_t(*)[32])rcpt, 2, key, comm, gkey,
                                 1700000050, &b, &n) == 0);
    emit_record("epoch_1", b, n, comm, &r);
    memcpy(ep, r.id, 32);
    CHECK(agah_rec_epoch_open(&r, member, k2) == 0 && memcmp(k2, key, 32) == 0);
    CHECK(agah_rec_epoch_open(&r, founder, k2) == 0 && memcmp(k2, key, 32) == 0);
    CHECK(agah_rec_epoch_open(&r, relay, k2) == AGAH_ENOENT);
    CHECK(agah_rec_epoch_prev_open(&r, 0, key, k2) == 0 && memcmp(k2, gkey, 32) == 0);
    free(b);

    /* Names under epoch 1. */
    vec_reseed("admission_member");
    CHECK(agah_rec_admission(founder, comm, agah_identity_pk(member), AGAH_ROLE_MEMBER,
                             "Member \xd8\xa6\xd8\xa7\xda\xaf\xd8\xa7\xda\xbe", ep, key,
                             1700000100, 1731636100, &b, &n) == 0);
    emit_record("admission_member", b, n, comm, &r);
    emit_text("admission_member.name", &r, &r.u.admission.name, key);
    CHECK(r.u.admission.role == AGAH_ROLE_MEMBER);
    free(b);

    vec_reseed("admission_relay");
    CHECK(agah_rec_admission(founder, comm, agah_identity_pk(relay), AGAH_ROLE_RELAY, "relay-1", ep,
                             key, 1700000110, 0, &b, &n) == 0);
    emit_record("admission_relay", b, n, comm, &r);
    emit_text("admission_relay.name", &r, &r.u.admission.name, key);
    free(b);

    /* Epoch 1 minted the network secret: derived from its key. */
    uint8_t net1[32];
    agah_net_secret_derive(key, net1);
    emit_hex("epoch_1.network_secret", net1, sizeof net1);

    /* Epoch 2 (key 43x32) chained to epoch 1: its holders open epoch 1. It
     * carries epoch 1's network secret on and seals it to the relay. */
    uint8_t key2[32], relay_pk[1][32];
    memset(key2, 0x43, sizeof key2);
    memcpy(relay_pk[0], agah_identity_pk(relay), 32);
    emit_hex("epoch_2.key", key2, sizeof key2);
    const uint8_t *const prev_keys[1] = {key};
    vec_reseed("epoch_2");
    struct agah_epoch_spec sp = {.number = 2, .recipients = (const uint8_t(*)[32])rcpt, .n = 2,
                                 .relays = (const uint8_t(*)[32])relay_pk, .n_relays = 1,
                                 .key = key2, .prev_ids = (const uint8_t(*)[32])ep, .prev_keys = prev_keys,
                                 .n_prev = 1, .net_origin = ep,
                                 .net = net1, .created = 1700000250};
    CHECK(agah_rec_epoch_make(founder, comm, &sp, &b, &n) == 0);
    emit_record("epoch_2", b, n, comm, &r);
    CHECK(agah_rec_epoch_prev_open(&r, 0, key2, k2) == 0 && memcmp(k2, key, 32) == 0);
    CHECK(agah_rec_epoch_net_open(&r, key2, k2) == 0 && memcmp(k2, net1, 32) == 0);
    CHECK(agah_rec_epoch_net_relay_open(&r, relay, k2) == 0 && memcmp(k2, net1, 32) == 0);
    free(b);

    alert_vector("alert_number", member, comm, ep, key, AGAH_KIND_NUMBER, "+85251234567",
                 AGAH_CAT_HARASSMENT, AGAH_SEV_WARNING,
                 "Threatening calls at night. \xd9\x83\xdb\x90\xda\x86\xd9\x89\xd8\xaf\xdb\x95 "
                 "\xd8\xaa\xdb\x95\xda\xbe\xd8\xaf\xd9\x89\xd8\xaa",
                 1700000300, 1731836300, ref);
    alert_vector("alert_account", member, comm, ep, key, AGAH_KIND_ACCOUNT,
                 "telegram:example_user", AGAH_CAT_IMPERSONATION, AGAH_SEV_INFO, "", 1700000310,
                 0, NULL);
    alert_vector("alert_text", founder, comm, ep, key, AGAH_KIND_ALERT, "",
                 AGAH_CAT_SURVEILLANCE, AGAH_SEV_DANGER,
                 "Someone photographs attendees at Sunday's meeting", 1700000320, 1700086720,
                 NULL);

    vec_reseed("confirm");
    CHECK(agah_rec_annotate(founder, AGAH_REC_CONFIRM, comm, ref, ep, key,
                            "Same number called me", 1700000400, &b, &n) == 0);
    emit_record("confirm", b, n, comm, &r);
    emit_plain("confirm", &r, r.u.sealed.ad_len, r.u.sealed.nonce, r.u.sealed.ct, r.u.sealed.ct_len,
               key);
    CHECK(agah_rec_open_note(&r, key, note, &why) == 0 &&
          strcmp(note, "Same number called me") == 0);
    free(b);

    vec_reseed("retract");
    CHECK(agah_rec_annotate(member, AGAH_REC_RETRACT, comm, ref, ep, key, "Wrong digit",
                            1700000500, &b, &n) == 0);
    emit_record("retract", b, n, comm, &r);
    emit_plain("retract", &r, r.u.sealed.ad_len, r.u.sealed.nonce, r.u.sealed.ct, r.u.sealed.ct_len,
               key);
    CHECK(agah_rec_open_note(&r, key, note, &why) == 0 && strcmp(note, "Wrong digit") == 0);
    uint8_t keep[2][32];
    memcpy(keep[0], ref, 32);
    memcpy(keep[1], r.id, 32);
    free(b);

    /* The member's revocation keeps its number alert and its retraction;
     * anything else it signs, whatever its time, is invalid. */
    vec_reseed("revocation");
    CHECK(agah_rec_revocation(founder, comm, agah_identity_pk(member), "lost phone", ep, key,
                              (const uint8_t(*)[32])keep, 2, 1700000600, &b, &n) == 0);
    emit_record("revocation", b, n, comm, &r);
    emit_text("revocation.reason", &r, &r.u.revocation.reason, key);
    CHECK(r.u.revocation.n_keep == 2 && agah_rec_revocation_keeps(&r, keep[0]) &&
          agah_rec_revocation_keeps(&r, keep[1]) && !agah_rec_revocation_keeps(&r, ep));
    free(b);

    agah_identity_free(founder);
    agah_identity_free(member);
    agah_identity_free(relay);
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0, got;

    if (f == NULL)
        return NULL;
    do {
        if (n + 4096 + 1 > cap) {
            cap = (n + 4096 + 1) * 2;
            if ((buf = realloc(buf, cap)) == NULL)
                abort();
        }
        got = fread(buf + n, 1, 4096, f);
        n += got;
    } while (got > 0);
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* Prints the first line where the two texts differ. */
static void show_diff(const char *want, const char *got)
{
    int line = 1;
    while (*want != '\0' && *want == *got) {
        if (*want == '\n')
            line++;
        want++;
        got++;
    }
    fprintf(stderr, "test_vectors: first difference at line %d\n", line);
}

int main(int argc, char **argv)
{
    const char *write_dir = NULL;
    char path[512];

    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--write") == 0)
            write_dir = argv[i + 1];
        else if (strcmp(argv[i], "--corpus") == 0)
            corpus_dir = argv[i + 1];
    }
    /* Must precede sodium_init, which the first agah call performs. */
    vec_reseed("start");
    if (randombytes_set_implementation(&vec_impl) != 0 || agah_init() != 0) {
        fprintf(stderr, "test_vectors: cannot set up libsodium\n");
        return 1;
    }
    generate();
    /* Generating twice gives the same bytes. */
    char *first = malloc(out_len + 1);
    size_t first_len = out_len;
    if (first == NULL)
        abort();
    memcpy(first, out, out_len + 1);
    out_len = 0;
    generate();
    CHECK(out_len == first_len && memcmp(first, out, out_len) == 0);
    free(first);

    if (write_dir != NULL) {
        FILE *f;
        snprintf(path, sizeof path, "%s/records.txt", write_dir);
        f = fopen(path, "wb");
        CHECK(f != NULL);
        if (f != NULL) {
            CHECK(fwrite(out, 1, out_len, f) == out_len);
            CHECK(fclose(f) == 0);
        }
    } else {
        size_t len = 0;
        char *ref;
        snprintf(path, sizeof path, "%s/records.txt", AGAH_VECTORS_DIR);
        ref = read_all(path, &len);
        CHECK(ref != NULL);
        if (ref != NULL) {
            int same = len == out_len && memcmp(ref, out, len) == 0;
            if (!same)
                show_diff(ref, out);
            CHECK(same);
            free(ref);
        }
    }
    free(out);
    printf("test_vectors: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}

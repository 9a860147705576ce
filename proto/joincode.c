/* Join codes: everything a new member needs, signed by the organiser who
 * admits them, sealed to their key, as one copy-pasteable line:
 * "agah1-" || base64url(sealed || checksum4). The checksum (first 4 bytes
 * of BLAKE2b-256 of `sealed`) turns a typo into "damaged or mistyped" before
 * any cryptography is tried. The sealed plaintext is a canonical msgpack
 * array (proto/PROTOCOL.md, "Join codes"):
 *   [version=2, signer bin32, payload bin, signature bin64]
 *   payload = [community bin32, network_secret bin32, expires uint,
 *              genesis bin, admission bin, [[epoch_id bin32, epoch_key bin32]...],
 *              [peer str...], inviter_admission bin]
 * The seal alone proves nothing about who made a code (anyone can seal to a
 * public key), so the signature, by the author of the admission inside, is
 * verified before the payload is even parsed. Secrets (the payload, the
 * network secret, epoch keys) only ever live in guarded memory and are
 * wiped. */
#define _POSIX_C_SOURCE 200809L /* strnlen */
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <msgpack.h>
#include <agah/joincode.h>
#include <agah/mp.h>
#include "joincode_internal.h"

#define JC_PREFIX "agah1-"
#define JC_PREFIX_LEN 6
#define JC_VERSION AGAH_JOIN_VERSION
#define JC_WRAP_FIELDS 4
#define JC_FIELDS 8
#define JC_SUM_LEN 4
#define JC_CTX AGAH_JOIN_SIG_CONTEXT
#define JC_CTX_LEN (sizeof JC_CTX - 1)
#define JC_B64 sodium_base64_VARIANT_URLSAFE_NO_PADDING
/* Base64 may be wrapped or indented when pasted; these are skipped. */
#define JC_B64_IGNORE " \t\r\n"

static const char jc_damaged[] = "the code is damaged or mistyped";

static void jc__checksum(const uint8_t *sealed, size_t len, uint8_t sum[JC_SUM_LEN])
{
    uint8_t h[32];

    /* generichash cannot fail with these sizes; a zero checksum would then
     * simply never match. */
    if (crypto_generichash(h, sizeof h, sealed, len, NULL, 0) != 0)
        memset(h, 0, sizeof h);
    memcpy(sum, h, JC_SUM_LEN);
}

static int jc__pack_bin(msgpack_packer *pk, const void *p, size_t n)
{
    if (msgpack_pack_bin(pk, n) != 0 || msgpack_pack_bin_body(pk, p, n) != 0)
        return -1;
    return 0;
}

int agah_join__encode_plain(const struct agah_join *j, struct agah_mp_fixbuf *out)
{
    msgpack_packer pk;
    size_t cap;
    int r;

    out->p = NULL;
    out->len = out->cap = 0;
    if (j == NULL || j->genesis == NULL || j->admission == NULL || j->genesis_len == 0 ||
        j->genesis_len > AGAH_REC_MAX || j->admission_len == 0 ||
        j->admission_len > AGAH_REC_MAX || j->n_epochs > AGAH_JOIN_MAX_EPOCHS ||
        j->n_peers > AGAH_JOIN_MAX_PEERS || j->inviter_admission_len > AGAH_REC_MAX ||
        (j->inviter_admission == NULL && j->inviter_admission_len != 0))
        return AGAH_EINVAL;
    for (size_t i = 0; i < j->n_peers; i++)
        if (agah_addr_parse(j->peers[i], strnlen(j->peers[i], AGAH_ADDR_MAX), NULL, NULL) != 0)
            return AGAH_EINVAL;
    /* An upper bound of the encoding: headers at their widest. */
    cap = 1 + 2 * (2 + 32) + 9 + (5 + j->genesis_len) + (5 + j->admission_len) + 3 +
          j->n_epochs * (1 + 2 * (2 + 32)) + 3 + j->n_peers * (2 + AGAH_ADDR_MAX) +
          (5 + j->inviter_admission_len);
    if ((r = agah_secbuf_init(out, cap)) != 0)
        return r;
    msgpack_packer_init(&pk, out, agah_mp_fixbuf_write);
    if (msgpack_pack_array(&pk, JC_FIELDS) != 0 ||
        jc__pack_bin(&pk, j->community, AGAH_HASH_LEN) != 0 ||
        jc__pack_bin(&pk, j->network_secret, 32) != 0 ||
        msgpack_pack_uint64(&pk, j->expires) != 0 ||
        jc__pack_bin(&pk, j->genesis, j->genesis_len) != 0 ||
        jc__pack_bin(&pk, j->admission, j->admission_len) != 0 ||
        msgpack_pack_array(&pk, j->n_epochs) != 0)
        goto fail;
    for (size_t i = 0; i < j->n_epochs; i++)
        if (msgpack_pack_array(&pk, 2) != 0 ||
            jc__pack_bin(&pk, j->epochs[i].id, AGAH_HASH_LEN) != 0 ||
            jc__pack_bin(&pk, j->epochs[i].key, AGAH_KEY_LEN) != 0)
            goto fail;
    if (msgpack_pack_array(&pk, j->n_peers) != 0)
        goto fail;
    for (size_t i = 0; i < j->n_peers; i++) {
        size_t n = strlen(j->peers[i]);
        if (msgpack_pack_str(&pk, n) != 0 || msgpack_pack_str_body(&pk, j->peers[i], n) != 0)
            goto fail;
    }
    /* msgpack-c packs an empty body from a NULL pointer as nothing at all. */
    if (jc__pack_bin(&pk, j->inviter_admission != NULL ? j->inviter_admission : (const uint8_t *)"",
                     j->inviter_admission_len) != 0)
        goto fail;
    return 0;
fail:
    agah_secbuf_free(out);
    return AGAH_EINTERNAL; /* the capacity bound above was wrong */
}

/* The signed message: the context string, then the payload, contiguous in
 * guarded memory (the payload holds the network secret). */
static int jc__signed_msg(const uint8_t *payload, size_t len, struct agah_mp_fixbuf *msg)
{
    int r;
    if (len > SIZE_MAX - JC_CTX_LEN)
        return AGAH_ETOOBIG;
    if ((r = agah_secbuf_init(msg, JC_CTX_LEN + len)) != 0)
        return r;
    memcpy(msg->p, JC_CTX, JC_CTX_LEN);
    memcpy(msg->p + JC_CTX_LEN, payload, len);
    msg->len = JC_CTX_LEN + len;
    return 0;
}

int agah_join__wrap(const struct agah_identity *signer, const uint8_t *payload, size_t len,
                    struct agah_mp_fixbuf *out)
{
    struct agah_mp_fixbuf msg = {0};
    msgpack_packer pk;
    uint8_t sig[AGAH_SIG_LEN];
    int r;

    out->p = NULL;
    out->len = out->cap = 0;
    if (signer == NULL || payload == NULL || len == 0)
        return AGAH_EINVAL;
    /* A code of AGAH_JOINCODE_MAX characters holds fewer bytes than this. */
    if (len > AGAH_JOINCODE_MAX)
        return AGAH_ETOOBIG;
    if ((r = jc__signed_msg(payload, len, &msg)) != 0)
        return r;
    agah_identity_sign(signer, msg.p, msg.len, sig);
    agah_secbuf_free(&msg);
    /* array, version, signer, payload (bin header at most 5), signature. */
    if ((r = agah_secbuf_init(out, 1 + 1 + (2 + AGAH_PK_LEN) + (5 + len) + (2 + AGAH_SIG_LEN))) !=
        0)
        return r;
    msgpack_packer_init(&pk, out, agah_mp_fixbuf_write);
    if (msgpack_pack_array(&pk, JC_WRAP_FIELDS) != 0 ||
        msgpack_pack_uint64(&pk, JC_VERSION) != 0 ||
        jc__pack_bin(&pk, agah_identity_pk(signer), AGAH_PK_LEN) != 0 ||
        jc__pack_bin(&pk, payload, len) != 0 || jc__pack_bin(&pk, sig, AGAH_SIG_LEN) != 0) {
        agah_secbuf_free(out);
        return AGAH_EINTERNAL; /* the capacity above was wrong */
    }
    return 0;
}

int agah_join__seal(const uint8_t *plain, size_t len, const uint8_t invitee_pk[AGAH_PK_LEN],
                    char **out)
{
    uint8_t *sealed = NULL;
    char *code = NULL;
    size_t sealed_len, b64_size;
    int r;

    if (plain == NULL || invitee_pk == NULL || out == NULL)
        return AGAH_EINVAL;
    if (len > AGAH_JOINCODE_MAX)
        return AGAH_ETOOBIG;
    sealed_len = len + AGAH_SEAL_OVERHEAD;
    b64_size = sodium_base64_ENCODED_LEN(sealed_len + JC_SUM_LEN, JC_B64);
    /* b64_size counts the NUL; the code must decode within our own bound. */
    if (JC_PREFIX_LEN + b64_size - 1 > AGAH_JOINCODE_MAX)
        return AGAH_ETOOBIG;
    sealed = malloc(sealed_len + JC_SUM_LEN);
    code = malloc(JC_PREFIX_LEN + b64_size);
    if (sealed == NULL || code == NULL) {
        r = AGAH_ENOMEM;
        goto out;
    }
    if ((r = agah_seal(invitee_pk, plain, len, sealed)) != 0)
        goto out;
    jc__checksum(sealed, sealed_len, sealed + sealed_len);
    memcpy(code, JC_PREFIX, JC_PREFIX_LEN);
    if (sodium_bin2base64(code + JC_PREFIX_LEN, b64_size, sealed, sealed_len + JC_SUM_LEN,
                          JC_B64) == NULL) {
        r = AGAH_EINTERNAL;
        goto out;
    }
    *out = code;
    code = NULL;
    r = 0;
out:
    free(sealed);
    free(code);
    return r;
}

int agah_join_encode(const struct agah_join *j, const struct agah_identity *inviter,
                     const uint8_t invitee_pk[AGAH_PK_LEN], char **out)
{
    struct agah_mp_fixbuf payload = {0}, plain = {0};
    struct agah_rec adm;
    int r;

    if (j == NULL || inviter == NULL || out == NULL || invitee_pk == NULL)
        return AGAH_EINVAL;
    if (agah_init() != 0)
        return AGAH_EINTERNAL;
    if ((r = agah_join__encode_plain(j, &payload)) != 0)
        goto out;
    /* The reader accepts a code only from the author of the admission in
     * it: refuse here what it would refuse there. */
    if (agah_rec_decode(j->admission, j->admission_len, j->community, &adm, NULL) != 0 ||
        adm.type != AGAH_REC_ADMISSION ||
        memcmp(adm.author, agah_identity_pk(inviter), AGAH_PK_LEN) != 0) {
        r = AGAH_EINVAL;
        goto out;
    }
    if ((r = agah_join__wrap(inviter, payload.p, payload.len, &plain)) != 0)
        goto out;
    r = agah_join__seal(plain.p, plain.len, invitee_pk, out);
out:
    agah_secbuf_free(&payload);
    agah_secbuf_free(&plain);
    return r;
}

void agah_join_free(struct agah_join *j)
{
    if (j == NULL)
        return;
    free(j->genesis);
    free(j->admission);
    free(j->inviter_admission);
    sodium_memzero(j, sizeof *j);
    sodium_free(j);
}

/* A copy of a bin field of 1..AGAH_REC_MAX bytes (0.. with may_be_empty,
 * then *p stays NULL for an empty one). */
static int jc__copy_bin(const msgpack_object *o, const char *what, int may_be_empty, uint8_t **p,
                        size_t *n, struct agah_why *why)
{
    const uint8_t *src;
    size_t len;
    int r;

    if ((r = agah_mp_bin(o, what, AGAH_REC_MAX, &src, &len, why)) != 0)
        return r;
    if (len == 0) {
        if (may_be_empty)
            return 0;
        return agah_fail(why, AGAH_EVALUE, "%s: empty", what);
    }
    *p = malloc(len);
    if (*p == NULL)
        return agah_fail(why, AGAH_ENOMEM, "out of memory");
    memcpy(*p, src, len);
    *n = len;
    return 0;
}

/* The signed payload, strictly, into j (zeroed, in guarded memory). */
static int jc__decode_payload(const uint8_t *buf, size_t len, struct agah_join *j,
                              struct agah_why *why)
{
    msgpack_unpacked res;
    const msgpack_object *f, *ep, *pe;
    int r;

    msgpack_unpacked_init(&res);
    if ((r = agah_mp_unpack(buf, len, 1, &res, why)) != 0)
        goto out;
    if ((r = agah_mp_array(&res.data, "join code payload", JC_FIELDS, why)) != 0)
        goto out;
    f = res.data.via.array.ptr;
    if ((r = agah_mp_bin_exact(&f[0], "community", AGAH_HASH_LEN, j->community, why)) != 0 ||
        (r = agah_mp_bin_exact(&f[1], "network secret", 32, j->network_secret, why)) != 0 ||
        (r = agah_mp_uint(&f[2], "expires", UINT64_MAX, &j->expires, why)) != 0 ||
        (r = jc__copy_bin(&f[3], "genesis", 0, &j->genesis, &j->genesis_len, why)) != 0 ||
        (r = jc__copy_bin(&f[4], "admission", 0, &j->admission, &j->admission_len, why)) != 0)
        goto out;

    ep = &f[5];
    if (ep->type != MSGPACK_OBJECT_ARRAY) {
        r = agah_fail(why, AGAH_ETYPE, "epochs: expected an array");
        goto out;
    }
    /* The count is checked against the fixed array before anything is
     * written into it. */
    if (ep->via.array.size > AGAH_JOIN_MAX_EPOCHS) {
        r = agah_fail(why, AGAH_ETOOBIG, "epochs: %u, at most %d allowed",
                      ep->via.array.size, AGAH_JOIN_MAX_EPOCHS);
        goto out;
    }
    for (uint32_t i = 0; i < ep->via.array.size; i++) {
        const msgpack_object *e = &ep->via.array.ptr[i];
        if ((r = agah_mp_array(e, "epoch", 2, why)) != 0 ||
            (r = agah_mp_bin_exact(&e->via.array.ptr[0], "epoch id", AGAH_HASH_LEN,
                                   j->epochs[i].id, why)) != 0 ||
            (r = agah_mp_bin_exact(&e->via.array.ptr[1], "epoch key", AGAH_KEY_LEN,
                                   j->epochs[i].key, why)) != 0)
            goto out;
        j->n_epochs = i + 1;
    }

    pe = &f[6];
    if (pe->type != MSGPACK_OBJECT_ARRAY) {
        r = agah_fail(why, AGAH_ETYPE, "peers: expected an array");
        goto out;
    }
    if (pe->via.array.size > AGAH_JOIN_MAX_PEERS) {
        r = agah_fail(why, AGAH_ETOOBIG, "peers: %u, at most %d allowed", pe->via.array.size,
                      AGAH_JOIN_MAX_PEERS);
        goto out;
    }
    for (uint32_t i = 0; i < pe->via.array.size; i++) {
        const char *s;
        size_t n;
        if ((r = agah_mp_str(&pe->via.array.ptr[i], "peer", AGAH_ADDR_MAX - 1, &s, &n, why)) !=
            0)
            goto out;
        struct agah_why aw = {{0}};
        if (agah_addr_parse(s, n, NULL, &aw) != 0) {
            r = agah_fail(why, AGAH_EVALUE, "peer %u: %s", i, aw.msg);
            goto out;
        }
        memcpy(j->peers[i], s, n);
        j->peers[i][n] = '\0';
        j->n_peers = i + 1;
    }
    r = jc__copy_bin(&f[7], "inviter admission", 1, &j->inviter_admission,
                     &j->inviter_admission_len, why);
out:
    msgpack_unpacked_destroy(&res);
    return r;
}

/* Checks that the unpacked code w is an array starting with the version
 * this agah reads; a code from another agah is named as such. */
static int jc__decode_version(const msgpack_object *w, struct agah_why *why)
{
    uint64_t version;
    int r;

    /* Every version's plaintext is an array that starts with the version,
     * so a code from another agah is named as such, not as garbage. */
    if (w->type != MSGPACK_OBJECT_ARRAY || w->via.array.size == 0)
        return agah_fail(why, AGAH_ETYPE, "join code: expected an array starting with a version");
    if ((r = agah_mp_uint(&w->via.array.ptr[0], "version", UINT64_MAX, &version, why)) != 0)
        return r;
    if (version == 1)
        return agah_fail(why, AGAH_EVERSION,
                         "this join code was made by an older agah (version 1); ask for a new "
                         "code: this agah reads version %d",
                         JC_VERSION);
    if (version != JC_VERSION)
        return agah_fail(why, AGAH_EVERSION,
                         "this join code has version %llu, which this agah cannot read (it "
                         "reads version %d); a newer agah may have made it",
                         (unsigned long long)version, JC_VERSION);
    return 0;
}

/* The wrapper w of a code of len bytes: [version, signer, payload,
 * signature]; the payload stays unread, pointed to in place. */
static int jc__decode_wrapper(const msgpack_object *w, size_t len, uint8_t signer[AGAH_PK_LEN],
                              const uint8_t **payload, size_t *payload_len,
                              uint8_t sig[AGAH_SIG_LEN], struct agah_why *why)
{
    const msgpack_object *f = w->via.array.ptr;
    int r;

    if ((r = agah_mp_array(w, "join code", JC_WRAP_FIELDS, why)) != 0 ||
        (r = agah_mp_bin_exact(&f[1], "signer", AGAH_PK_LEN, signer, why)) != 0 ||
        (r = agah_mp_bin(&f[2], "payload", len, payload, payload_len, why)) != 0 ||
        (r = agah_mp_bin_exact(&f[3], "signature", AGAH_SIG_LEN, sig, why)) != 0)
        return r;
    if (*payload_len == 0)
        return agah_fail(why, AGAH_EVALUE, "payload: empty");
    return 0;
}

/* Verifies sig by signer over the exact payload bytes, with the domain
 * prefix. */
static int jc__verify_payload(const uint8_t signer[AGAH_PK_LEN], const uint8_t *payload,
                              size_t payload_len, const uint8_t sig[AGAH_SIG_LEN],
                              struct agah_why *why)
{
    struct agah_mp_fixbuf msg = {0};
    int r;

    if ((r = jc__signed_msg(payload, payload_len, &msg)) != 0)
        r = agah_fail(why, r, "out of memory");
    else if (agah_sig_verify(signer, msg.p, msg.len, sig) != 0)
        r = agah_fail(why, AGAH_ESIG,
                      "the join code's signature does not verify: the code was altered, or "
                      "was not signed by the key it names");
    agah_secbuf_free(&msg);
    return r;
}

int agah_join__decode_plain(const uint8_t *buf, size_t len, struct agah_join **out,
                            struct agah_why *why)
{
    msgpack_unpacked res;
    struct agah_join *j = NULL;
    const uint8_t *payload;
    uint8_t signer[AGAH_PK_LEN], sig[AGAH_SIG_LEN];
    size_t payload_len;
    int r;

    msgpack_unpacked_init(&res);
    if (out == NULL || buf == NULL) {
        r = agah_fail(why, AGAH_EINVAL, "no input or output given");
        goto out;
    }
    if (agah_init() != 0) {
        r = agah_fail(why, AGAH_EINTERNAL, "libsodium cannot start");
        goto out;
    }
    if ((r = agah_mp_unpack(buf, len, 1, &res, why)) != 0 ||
        (r = jc__decode_version(&res.data, why)) != 0 ||
        (r = jc__decode_wrapper(&res.data, len, signer, &payload, &payload_len, sig, why)) !=
            0)
        goto out;
    /* Nothing in the payload is read before the signature over its exact
     * bytes verifies: the key comes from the wrapper, and whether it is the
     * admission's author is checked once the payload is trusted. */
    if ((r = jc__verify_payload(signer, payload, payload_len, sig, why)) != 0)
        goto out;
    j = sodium_malloc(sizeof *j);
    if (j == NULL) {
        r = agah_fail(why, AGAH_ENOMEM, "out of memory");
        goto out;
    }
    sodium_memzero(j, sizeof *j);
    memcpy(j->inviter, signer, AGAH_PK_LEN);
    if ((r = jc__decode_payload(payload, payload_len, j, why)) != 0)
        goto out;
    *out = j;
    j = NULL;
    r = 0;
out:
    agah_join_free(j);
    msgpack_unpacked_destroy(&res);
    return r;
}

/* The key the code carries under `id` (an epoch id, or the community id
 * for the genesis key), NULL if none: names travel encrypted to members
 * (record version 3), so a code opens those whose keys it carries, and a
 * relay's code, which carries no key, opens none. */
static const uint8_t *jc__key(const struct agah_join *j, const uint8_t *id)
{
    if (id == NULL)
        return NULL;
    for (size_t i = 0; i < j->n_epochs; i++)
        if (memcmp(j->epochs[i].id, id, AGAH_HASH_LEN) == 0)
            return j->epochs[i].key;
    return NULL;
}

int agah_join__check(struct agah_join *j, const uint8_t me_pk[AGAH_PK_LEN], uint64_t now,
                     struct agah_why *why)
{
    struct agah_rec rec;
    const uint8_t *key;
    uint8_t founder[AGAH_PK_LEN];
    char a_id[AGAH_IDSTR_SIZE], s_id[AGAH_IDSTR_SIZE];
    int r;

    if (j->expires != 0 && now >= j->expires)
        return agah_fail(why, AGAH_EEXPIRED,
                         "this join code expired (at %llu); ask for a new one",
                         (unsigned long long)j->expires);

    /* With the community given, agah_rec_decode requires a genesis record's
     * id to be exactly that community id. */
    if ((r = agah_rec_decode(j->genesis, j->genesis_len, j->community, &rec, why)) != 0)
        return r;
    if (rec.type != AGAH_REC_GENESIS)
        return agah_fail(why, AGAH_EVALUE, "the code's genesis field holds a record of type %d",
                         rec.type);
    if (memcmp(rec.id, j->community, AGAH_HASH_LEN) != 0)
        return agah_fail(why, AGAH_ECOMMUNITY, "the code's genesis record founds another community");
    memcpy(founder, rec.author, AGAH_PK_LEN);
    /* A name the code cannot open stays "" and is shown as an id. */
    if ((key = jc__key(j, agah_rec_text_key_id(&rec))) != NULL)
        (void)agah_rec_open_names(&rec, key, j->community_name, j->inviter_name, NULL);

    if ((r = agah_rec_decode(j->admission, j->admission_len, j->community, &rec, why)) != 0)
        return r;
    if (rec.type != AGAH_REC_ADMISSION)
        return agah_fail(why, AGAH_EVALUE,
                         "the code's admission field holds a record of type %d", rec.type);
    if (memcmp(rec.community, j->community, AGAH_HASH_LEN) != 0)
        return agah_fail(why, AGAH_ECOMMUNITY, "the code's admission is for another community");
    if (memcmp(rec.u.admission.member, me_pk, AGAH_PK_LEN) != 0)
        return agah_fail(why, AGAH_EVALUE, "the code's admission is for another member");
    if (rec.expires != 0 && now >= rec.expires)
        return agah_fail(why, AGAH_EEXPIRED, "the admission in this code has expired");
    /* The signature binds the code to a key; only the key that admitted
     * this identity may speak for the community here. */
    if (memcmp(rec.author, j->inviter, AGAH_PK_LEN) != 0) {
        agah_id_encode(AGAH_IDPFX_MEMBER, j->inviter, s_id);
        agah_id_encode(AGAH_IDPFX_MEMBER, rec.author, a_id);
        return agah_fail(why, AGAH_EPERM,
                         "the code is signed by %s, not by the organiser who admitted you (%s)",
                         s_id, a_id);
    }

    /* The inviter's name: the founder's from genesis, anyone else's from
     * its own admission in this community, as an organiser. */
    if (memcmp(j->inviter, founder, AGAH_PK_LEN) == 0) {
        if (j->inviter_admission_len != 0)
            return agah_fail(why, AGAH_EVALUE,
                             "the code carries an admission of its inviter, the founder");
        return 0;
    }
    /* Not the founder: the genesis record's founder name is not theirs. */
    sodium_memzero(j->inviter_name, sizeof j->inviter_name);
    if (j->inviter_admission_len == 0)
        return agah_fail(why, AGAH_EVALUE, "the code does not carry its inviter's admission");
    if ((r = agah_rec_decode(j->inviter_admission, j->inviter_admission_len, j->community, &rec,
                             why)) != 0)
        return r;
    if (rec.type != AGAH_REC_ADMISSION)
        return agah_fail(why, AGAH_EVALUE,
                         "the code's inviter admission holds a record of type %d", rec.type);
    if (memcmp(rec.community, j->community, AGAH_HASH_LEN) != 0)
        return agah_fail(why, AGAH_ECOMMUNITY,
                         "the code's inviter admission is for another community");
    if (memcmp(rec.u.admission.member, j->inviter, AGAH_PK_LEN) != 0)
        return agah_fail(why, AGAH_EVALUE, "the code's inviter admission admits someone else");
    if (rec.u.admission.role != AGAH_ROLE_ORGANISER)
        return agah_fail(why, AGAH_EPERM, "the code's inviter is not admitted as an organiser");
    if (rec.expires != 0 && now >= rec.expires)
        return agah_fail(why, AGAH_EEXPIRED, "the inviter's admission in this code has expired");
    if ((key = jc__key(j, agah_rec_text_key_id(&rec))) != NULL)
        (void)agah_rec_open_name(&rec, key, j->inviter_name, NULL);
    return 0;
}

int agah_join_decode(const char *code, const struct agah_identity *me, uint64_t now,
                     struct agah_join **out, struct agah_why *why)
{
    struct agah_join *j = NULL;
    uint8_t *bin = NULL, *plain = NULL, sum[JC_SUM_LEN];
    size_t code_len, b64_len, bin_max, bin_len = 0, sealed_len, plain_len = 0;
    int r;

    if (code == NULL || me == NULL || out == NULL) {
        r = agah_fail(why, AGAH_EINVAL, "no code, identity or output given");
        goto out;
    }
    if (agah_init() != 0) {
        r = agah_fail(why, AGAH_EINTERNAL, "libsodium cannot start");
        goto out;
    }
    code_len = strnlen(code, (size_t)AGAH_JOINCODE_MAX + 1);
    if (code_len > AGAH_JOINCODE_MAX) {
        r = agah_fail(why, AGAH_ETOOBIG, "a join code is at most %d characters",
                      AGAH_JOINCODE_MAX);
        goto out;
    }
    if (code_len < JC_PREFIX_LEN || memcmp(code, JC_PREFIX, JC_PREFIX_LEN) != 0) {
        r = agah_fail(why, AGAH_EINVAL, "not an agah join code (those start with \"%s\")",
                      JC_PREFIX);
        goto out;
    }
    b64_len = code_len - JC_PREFIX_LEN;
    /* Bounded by AGAH_JOINCODE_MAX above, so this allocation is too. */
    bin_max = b64_len / 4 * 3 + 3;
    bin = malloc(bin_max);
    if (bin == NULL) {
        r = agah_fail(why, AGAH_ENOMEM, "out of memory");
        goto out;
    }
    /* No end pointer: any character outside the alphabet (and not
     * whitespace) fails the whole decode. */
    if (sodium_base642bin(bin, bin_max, code + JC_PREFIX_LEN, b64_len, JC_B64_IGNORE, &bin_len,
                          NULL, JC_B64) != 0 ||
        bin_len < AGAH_SEAL_OVERHEAD + 1 + JC_SUM_LEN) {
        r = agah_fail(why, AGAH_ECHECKSUM, "%s", jc_damaged);
        goto out;
    }
    sealed_len = bin_len - JC_SUM_LEN;
    jc__checksum(bin, sealed_len, sum);
    if (memcmp(sum, bin + sealed_len, JC_SUM_LEN) != 0) {
        r = agah_fail(why, AGAH_ECHECKSUM, "%s", jc_damaged);
        goto out;
    }
    plain_len = sealed_len - AGAH_SEAL_OVERHEAD;
    plain = sodium_malloc(plain_len);
    if (plain == NULL) {
        r = agah_fail(why, AGAH_ENOMEM, "out of memory");
        goto out;
    }
    if (agah_seal_open(me, bin, sealed_len, plain) != 0) {
        r = agah_fail(why, AGAH_ECRYPTO, "this code was made for another identity");
        goto out;
    }
    if ((r = agah_join__decode_plain(plain, plain_len, &j, why)) != 0)
        goto out;
    if ((r = agah_join__check(j, agah_identity_pk(me), now, why)) != 0)
        goto out;
    *out = j;
    j = NULL;
    r = 0;
out:
    agah_join_free(j);
    if (plain != NULL) {
        sodium_memzero(plain, plain_len);
        sodium_free(plain);
    }
    free(bin);
    return r;
}

/* Records: the strict decoder for untrusted record bytes and the frame of
 * the encoders (prefix, common fields, signature). The record types'
 * encoders and the end-to-end encryption of their texts are in
 * rec_sealed.c, EPOCH records in rec_epoch.c. proto/PROTOCOL.md
 * ("Records") is the specification this follows. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <msgpack.h>
#include <agah/mp.h>
#include <agah/record.h>
#include "rec_int.h"

/* Padded plaintext sizes of alert bodies, notes and reasons (record.h):
 * the largest holds the largest alert body (2,312 bytes) and one padding
 * byte. Every ciphertext is one of these plus the tag. */
const size_t rec__pad_sizes[AGAH_PAD_NSIZES] = AGAH_PAD_SIZES;

/* The signature element c4 40 <64 bytes> always ends a record. */
#define REC_SIG_ELEM (2 + AGAH_SIG_LEN)
/* Fields shared by every type: version, type, community, author, created,
 * expires; the signature comes last. */
#define REC_COMMON 6

/* ------------------------------------------------------------------ */
/* Random source                                                       */

static void (*rec__fill)(void *buf, size_t len);

void agah_set_random(void (*fill)(void *buf, size_t len))
{
    rec__fill = fill;
}

void agah_random(void *buf, size_t len)
{
    if (rec__fill != NULL) {
        rec__fill(buf, len);
        return;
    }
    /* randombytes_buf works before sodium_init too, but initialise so the
     * best source is chosen once. A failing sodium_init leaves the default
     * source, which is still the system's CSPRNG. */
    (void)agah_init();
    randombytes_buf(buf, len);
}

/* ------------------------------------------------------------------ */
/* Enum names                                                          */

static const char *const rec__roles[] = {"organiser", "member", "relay"};
static const char *const rec__cats[] = {"harassment", "impersonation", "scam",
                                        "surveillance", "other"};
static const char *const rec__sevs[] = {"info", "warning", "danger"};
/* Kinds start at 1; index 0 is unused. */
static const char *const rec__kinds[] = {NULL, "number", "account", "alert"};

#define REC_NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char *rec__name(const char *const *names, size_t n, int v)
{
    if (v < 0 || (size_t)v >= n)
        return NULL;
    return names[v];
}

static int rec__parse(const char *const *names, size_t n, const char *s)
{
    if (s == NULL)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (names[i] != NULL && strcmp(names[i], s) == 0)
            return (int)i;
    return -1;
}

const char *agah_role_name(int role) { return rec__name(rec__roles, REC_NELEM(rec__roles), role); }
const char *agah_category_name(int cat) { return rec__name(rec__cats, REC_NELEM(rec__cats), cat); }
const char *agah_severity_name(int sev) { return rec__name(rec__sevs, REC_NELEM(rec__sevs), sev); }
const char *agah_kind_name(int kind) { return rec__name(rec__kinds, REC_NELEM(rec__kinds), kind); }
int agah_role_parse(const char *s) { return rec__parse(rec__roles, REC_NELEM(rec__roles), s); }
int agah_category_parse(const char *s) { return rec__parse(rec__cats, REC_NELEM(rec__cats), s); }
int agah_severity_parse(const char *s) { return rec__parse(rec__sevs, REC_NELEM(rec__sevs), s); }
int agah_kind_parse(const char *s) { return rec__parse(rec__kinds, REC_NELEM(rec__kinds), s); }

/* ------------------------------------------------------------------ */
/* Decoding                                                            */

size_t rec__nfields(int type)
{
    switch (type) {
    case AGAH_REC_GENESIS: return REC_COMMON + 1 + 1;
    case AGAH_REC_ADMISSION: return REC_COMMON + 3 + 1;
    case AGAH_REC_REVOCATION: return REC_COMMON + 3 + 1;
    case AGAH_REC_EPOCH: return REC_COMMON + 5 + 1;
    case AGAH_REC_ALERT:
    case AGAH_REC_CONFIRM:
    case AGAH_REC_RETRACT: return REC_COMMON + 4 + 1;
    default: return 0;
    }
}

/* Only admissions and alerts carry an expiry; everything else is
 * permanent and must say so with 0. */
static int rec__may_expire(int type)
{
    return type == AGAH_REC_ADMISSION || type == AGAH_REC_ALERT;
}

/* A REVOCATION's keep list: 0..AGAH_REV_KEEP_MAX record ids, strictly
 * ascending, so one set has one encoding and lookups can bisect. */
static int rec__keep_ids(const msgpack_object *o, const uint8_t *buf, struct agah_rec *out,
                         struct agah_why *why)
{
    const msgpack_object_array *a;
    const uint8_t *base = NULL;
    uint8_t prev[AGAH_HASH_LEN], cur[AGAH_HASH_LEN];
    int r;

    if (o->type != MSGPACK_OBJECT_ARRAY)
        return agah_fail(why, AGAH_ETYPE, "field 8 (keep): expected an array");
    a = &o->via.array;
    if (a->size > AGAH_REV_KEEP_MAX)
        return agah_fail(why, AGAH_ETOOBIG, "field 8 (keep): %u ids, at most %d",
                         (unsigned)a->size, AGAH_REV_KEEP_MAX);
    for (uint32_t i = 0; i < a->size; i++) {
        if ((r = agah_mp_bin_exact(&a->ptr[i], "field 8 (keep): an id", AGAH_HASH_LEN, cur,
                                   why)) != 0)
            return r;
        if (i > 0 && memcmp(prev, cur, sizeof cur) == 0)
            return agah_fail(why, AGAH_EFIELDS, "field 8 (keep): id %u repeats one",
                             (unsigned)i + 1);
        if (i > 0 && memcmp(prev, cur, sizeof cur) > 0)
            return agah_fail(why, AGAH_ENONCANON, "field 8 (keep): id %u is not sorted",
                             (unsigned)i + 1);
        memcpy(prev, cur, sizeof cur);
        /* Canonical encoding fixes the layout: c4 20 <32> per id. */
        if (i == 0)
            base = (const uint8_t *)a->ptr[0].via.bin.ptr - 2;
        if ((const uint8_t *)a->ptr[i].via.bin.ptr != base + (size_t)i * AGAH_REV_KEEP_WIRE + 2 ||
            base < buf)
            return agah_fail(why, AGAH_EINTERNAL, "field 8 (keep): unexpected layout");
    }
    out->u.revocation.n_keep = a->size;
    out->u.revocation.keep = base;
    return 0;
}

const uint8_t *agah_rec_revocation_keep(const struct agah_rec *r, size_t i)
{
    if (r == NULL || r->type != AGAH_REC_REVOCATION || i >= r->u.revocation.n_keep)
        return NULL;
    return r->u.revocation.keep + i * AGAH_REV_KEEP_WIRE + 2;
}

int agah_ids_find(const uint8_t *base, size_t n, size_t stride, const uint8_t id[32])
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = memcmp(base + mid * stride, id, 32);
        if (c == 0)
            return 1;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

int agah_rec_revocation_keeps(const struct agah_rec *r, const uint8_t id[32])
{
    if (r == NULL || r->type != AGAH_REC_REVOCATION || r->u.revocation.n_keep == 0)
        return 0;
    return agah_ids_find(agah_rec_revocation_keep(r, 0), r->u.revocation.n_keep,
                         AGAH_REV_KEEP_WIRE, id);
}

/* Whether a ciphertext length is one the padding rule can produce. */
int rec__ct_len_ok(int pad, size_t ct_len)
{
    if (pad == REC_PAD_NAME)
        return ct_len == AGAH_PAD_NAME + REC_TAG;
    if (pad == REC_PAD_NAMES)
        return ct_len == AGAH_PAD_NAMES + REC_TAG;
    for (size_t i = 0; i < AGAH_PAD_NSIZES; i++)
        if (ct_len == rec__pad_sizes[i] + REC_TAG)
            return 1;
    return 0;
}

/* The encrypted text of GENESIS, ADMISSION and REVOCATION (field `no`):
 * [] or [epoch bin 32, nonce bin 24, ct bin]. Only GENESIS has a zero
 * epoch (its genesis key), and it must have a text: the community name. */
static int rec__text_field(const msgpack_object *o, const uint8_t *buf, int no, int type,
                           struct agah_rec_text *t, struct agah_why *why)
{
    const msgpack_object *p;
    int pad = type == AGAH_REC_GENESIS ? REC_PAD_NAMES
              : type == AGAH_REC_ADMISSION ? REC_PAD_NAME : REC_PAD_BUCKETS;
    char what[48];
    int r;

    memset(t, 0, sizeof *t);
    (void)snprintf(what, sizeof what, "field %d (%s)", no,
                   type == AGAH_REC_GENESIS ? "names"
                   : type == AGAH_REC_ADMISSION ? "name" : "reason");
    if (o->type != MSGPACK_OBJECT_ARRAY)
        return agah_fail(why, AGAH_ETYPE, "%s: expected an array", what);
    if (o->via.array.size == 0) {
        if (type == AGAH_REC_GENESIS)
            return agah_fail(why, AGAH_EVALUE, "%s: a community needs a name", what);
        return 0;
    }
    if ((r = agah_mp_array(o, what, 3, why)) != 0)
        return r;
    p = o->via.array.ptr;
    if ((r = agah_mp_bin_exact(&p[0], what, AGAH_HASH_LEN, t->epoch, why)) != 0 ||
        (r = agah_mp_bin_exact(&p[1], what, AGAH_NONCE_LEN, t->nonce, why)) != 0)
        return r;
    if (p[2].type != MSGPACK_OBJECT_BIN || !rec__ct_len_ok(pad, p[2].via.bin.size))
        return agah_fail(why, AGAH_ETYPE, "%s: the ciphertext is not bin of a padded size",
                         what);
    if ((type == AGAH_REC_GENESIS) != sodium_is_zero(t->epoch, AGAH_HASH_LEN))
        return agah_fail(why, AGAH_EVALUE, "%s: the epoch must be %s", what,
                         type == AGAH_REC_GENESIS ? "all zero in a genesis record"
                                                  : "an epoch record's id");
    t->ct = (const uint8_t *)p[2].via.bin.ptr;
    t->ct_len = p[2].via.bin.size;
    /* The associated data ends where the nonce element (c4 18) starts. */
    t->ad_len = (size_t)((const uint8_t *)p[1].via.bin.ptr - 2 - buf);
    t->has = 1;
    return 0;
}

/* ALERT, CONFIRM, RETRACT: ref, epoch, nonce, ct. */
static int rec__sealed_fields(const msgpack_object *f, const uint8_t *buf, int type,
                              struct agah_rec *out, struct agah_why *why)
{
    const uint8_t *ct;
    size_t ct_len;
    int r;

    if ((r = agah_mp_bin_exact(&f[6], "field 7 (ref)", AGAH_HASH_LEN, out->u.sealed.ref,
                               why)) != 0 ||
        (r = agah_mp_bin_exact(&f[7], "field 8 (epoch)", AGAH_HASH_LEN, out->u.sealed.epoch,
                               why)) != 0 ||
        (r = agah_mp_bin_exact(&f[8], "field 9 (nonce)", AGAH_NONCE_LEN,
                               out->u.sealed.nonce, why)) != 0 ||
        (r = agah_mp_bin(&f[9], "field 10 (ct)", REC_CT_MAX, &ct, &ct_len, why)) != 0)
        return r;
    if (!rec__ct_len_ok(REC_PAD_BUCKETS, ct_len))
        return agah_fail(why, AGAH_ETYPE, "field 10 (ct): %zu bytes, not a padded size", ct_len);
    if (type == AGAH_REC_ALERT && !sodium_is_zero(out->u.sealed.ref, AGAH_HASH_LEN))
        return agah_fail(why, AGAH_EVALUE, "field 7 (ref): must be all zero in an alert");
    if (type != AGAH_REC_ALERT && sodium_is_zero(out->u.sealed.ref, AGAH_HASH_LEN))
        return agah_fail(why, AGAH_EVALUE, "field 7 (ref): must name an alert");
    if (sodium_is_zero(out->u.sealed.epoch, AGAH_HASH_LEN))
        return agah_fail(why, AGAH_EVALUE, "field 8 (epoch): must name an epoch record");
    out->u.sealed.ct = ct;
    out->u.sealed.ct_len = ct_len;
    /* The associated data ends where the nonce element (c4 18) starts. */
    out->u.sealed.ad_len = (size_t)((const uint8_t *)f[8].via.bin.ptr - 2 - buf);
    return 0;
}

/* Checks the fields of one record type (the common ones are done). */
static int rec__type_fields(const msgpack_object *f, const uint8_t *buf, int type,
                            struct agah_rec *out, struct agah_why *why)
{
    uint64_t v;
    int r;

    switch (type) {
    case AGAH_REC_GENESIS:
        return rec__text_field(&f[6], buf, 7, type, &out->u.genesis.names, why);
    case AGAH_REC_ADMISSION:
        if ((r = agah_mp_bin_exact(&f[6], "field 7 (member)", AGAH_PK_LEN,
                                   out->u.admission.member, why)) != 0 ||
            (r = agah_mp_uint(&f[7], "field 8 (role)", AGAH_ROLE_RELAY, &v, why)) != 0)
            return r;
        out->u.admission.role = (int)v;
        return rec__text_field(&f[8], buf, 9, type, &out->u.admission.name, why);
    case AGAH_REC_REVOCATION:
        if ((r = agah_mp_bin_exact(&f[6], "field 7 (member)", AGAH_PK_LEN,
                                   out->u.revocation.member, why)) != 0 ||
            (r = rec__keep_ids(&f[7], buf, out, why)) != 0)
            return r;
        return rec__text_field(&f[8], buf, 9, type, &out->u.revocation.reason, why);
    case AGAH_REC_EPOCH:
        return rec__epoch_fields(f, buf, out, why);
    default:
        return rec__sealed_fields(f, buf, type, out, why);
    }
}

/* Bounds the record, unpacks it into res and checks its shape: an array
 * (*f, *nf elements) of a known version and type with that type's number of
 * fields. Sets out->type. Nothing is sized from the input before the bound. */
static int rec__decode_header(const uint8_t *buf, size_t len, msgpack_unpacked *res,
                              const msgpack_object **f, size_t *nf, struct agah_rec *out,
                              struct agah_why *why)
{
    uint64_t version, type;
    int r;

    if (buf == NULL || len == 0)
        return agah_fail(why, AGAH_ETRUNC, "empty record");
    if (len > AGAH_REC_MAX)
        return agah_fail(why, AGAH_ETOOBIG, "record of %zu bytes, at most %d allowed", len,
                         AGAH_REC_MAX);
    if ((r = agah_mp_unpack(buf, len, 1, res, why)) != 0)
        return r;
    if (res->data.type != MSGPACK_OBJECT_ARRAY)
        return agah_fail(why, AGAH_ETYPE, "a record is a msgpack array");
    *f = res->data.via.array.ptr;
    *nf = res->data.via.array.size;
    if (*nf < 2)
        return agah_fail(why, AGAH_EFIELDS, "a record has at least %d fields, this one %zu",
                         REC_COMMON + 1, *nf);
    if ((r = agah_mp_uint(&(*f)[0], "field 1 (version)", UINT64_MAX, &version, why)) != 0 ||
        (r = agah_mp_uint(&(*f)[1], "field 2 (type)", UINT64_MAX, &type, why)) != 0)
        return r;
    if (version != AGAH_REC_VERSION)
        return agah_fail(why, AGAH_EVERSION, "record version %llu, only %d is known",
                         (unsigned long long)version, AGAH_REC_VERSION);
    if (type < AGAH_REC_GENESIS || type > AGAH_REC_RETRACT)
        return agah_fail(why, AGAH_EVERSION, "unknown record type %llu",
                         (unsigned long long)type);
    out->type = (int)type;
    if (*nf != rec__nfields(out->type))
        return agah_fail(why, AGAH_EFIELDS, "a record of type %d has %zu fields, this one %zu",
                         out->type, rec__nfields(out->type), *nf);
    return 0;
}

/* Checks the nf fields f of the record buf[0..len) of type out->type, the
 * common ones, the type's own and the signature (copied to sig), and that
 * the signature is the last element in canonical form. */
static int rec__decode_fields(const msgpack_object *f, size_t nf, const uint8_t *buf,
                              size_t len, struct agah_rec *out, uint8_t sig[AGAH_SIG_LEN],
                              struct agah_why *why)
{
    int r;

    if ((r = agah_mp_bin_exact(&f[2], "field 3 (community)", AGAH_HASH_LEN, out->community,
                               why)) != 0 ||
        (r = agah_mp_bin_exact(&f[3], "field 4 (author)", AGAH_PK_LEN, out->author, why)) != 0 ||
        (r = agah_mp_uint(&f[4], "field 5 (created)", UINT64_MAX, &out->created, why)) != 0 ||
        (r = agah_mp_uint(&f[5], "field 6 (expires)", UINT64_MAX, &out->expires, why)) != 0 ||
        (r = rec__type_fields(f, buf, out->type, out, why)) != 0 ||
        (r = agah_mp_bin_exact(&f[nf - 1], "last field (signature)", AGAH_SIG_LEN, sig,
                               why)) != 0)
        return r;
    if (!rec__may_expire(out->type) && out->expires != 0)
        return agah_fail(why, AGAH_EVALUE, "field 6 (expires): must be 0 in this record type");
    if (out->expires != 0 && out->expires <= out->created)
        return agah_fail(why, AGAH_EVALUE, "field 6 (expires): not after field 5 (created)");
    /* Canonical form puts the signature element in the last 66 bytes. */
    if (len < REC_SIG_ELEM || (const uint8_t *)f[nf - 1].via.bin.ptr != buf + len - AGAH_SIG_LEN)
        return agah_fail(why, AGAH_EINTERNAL, "signature is not the last element");
    return 0;
}

/* Checks the record's community field (all zero in a genesis record, whose
 * id names the community) and, when community is not NULL, that the record
 * belongs to it. rec->id must be set. */
static int rec__check_community(const struct agah_rec *rec, const uint8_t *community,
                                struct agah_why *why)
{
    if (rec->type == AGAH_REC_GENESIS) {
        if (!sodium_is_zero(rec->community, AGAH_HASH_LEN))
            return agah_fail(why, AGAH_EVALUE,
                             "field 3 (community): must be all zero in a genesis record");
        if (community != NULL && memcmp(rec->id, community, AGAH_HASH_LEN) != 0)
            return agah_fail(why, AGAH_ECOMMUNITY, "the genesis record of another community");
        return 0;
    }
    if (sodium_is_zero(rec->community, AGAH_HASH_LEN))
        return agah_fail(why, AGAH_EVALUE, "field 3 (community): all zero");
    if (community != NULL && memcmp(rec->community, community, AGAH_HASH_LEN) != 0)
        return agah_fail(why, AGAH_ECOMMUNITY, "a record of another community");
    return 0;
}

/* Verifies sig by author over the exact bytes received, with the domain
 * prefix. len is at most AGAH_REC_MAX and at least REC_SIG_ELEM (checked by
 * the caller), which bounds the copy. */
static int rec__verify_sig(const uint8_t *buf, size_t len, const uint8_t *author,
                           const uint8_t sig[AGAH_SIG_LEN], struct agah_why *why)
{
    uint8_t *msg;
    int r = 0;

    if ((msg = malloc(REC_SIG_PREFIX_LEN + len - REC_SIG_ELEM)) == NULL)
        return AGAH_ENOMEM;
    memcpy(msg, REC_SIG_PREFIX, REC_SIG_PREFIX_LEN);
    memcpy(msg + REC_SIG_PREFIX_LEN, buf, len - REC_SIG_ELEM);
    if (agah_sig_verify(author, msg, REC_SIG_PREFIX_LEN + len - REC_SIG_ELEM, sig) != 0)
        r = agah_fail(why, AGAH_ESIG, "the signature does not verify");
    free(msg);
    return r;
}

/* Both decoders: every check, and the signature too when verify_sig. */
static int rec__decode(const uint8_t *buf, size_t len, const uint8_t *community, int verify_sig,
                       struct agah_rec *out, struct agah_why *why)
{
    msgpack_unpacked res;
    const msgpack_object *f = NULL;
    struct agah_rec rec;
    uint8_t sig[AGAH_SIG_LEN];
    size_t nf = 0;
    int r;

    msgpack_unpacked_init(&res);
    memset(&rec, 0, sizeof rec);
    /* Bound first: nothing below is sized from the input before this. */
    if ((r = rec__decode_header(buf, len, &res, &f, &nf, &rec, why)) != 0 ||
        (r = rec__decode_fields(f, nf, buf, len, &rec, sig, why)) != 0)
        goto out;
    agah_hash(buf, len, rec.id);
    if ((r = rec__check_community(&rec, community, why)) != 0)
        goto out;
    if (verify_sig && (r = rec__verify_sig(buf, len, rec.author, sig, why)) != 0)
        goto out;
    rec.bytes = buf;
    rec.len = len;
    *out = rec;
    r = 0;
out:
    msgpack_unpacked_destroy(&res);
    return r;
}

int agah_rec_decode(const uint8_t *buf, size_t len, const uint8_t *community,
                    struct agah_rec *out, struct agah_why *why)
{
    return rec__decode(buf, len, community, 1, out, why);
}

int agah_rec_decode_stored(const uint8_t *buf, size_t len, const uint8_t *community,
                           struct agah_rec *out, struct agah_why *why)
{
    return rec__decode(buf, len, community, 0, out, why);
}

/* ------------------------------------------------------------------ */
/* Encoding                                                            */

int rec__pack_bin(msgpack_packer *pk, const uint8_t *p, size_t n)
{
    if (msgpack_pack_bin(pk, n) != 0)
        return -1;
    return n == 0 ? 0 : msgpack_pack_bin_body(pk, p, n);
}

int rec__pack_str(msgpack_packer *pk, const char *s, size_t n)
{
    if (msgpack_pack_str(pk, n) != 0)
        return -1;
    return n == 0 ? 0 : msgpack_pack_str_body(pk, s, n);
}

int rec__begin(struct rec__enc *e, int type, const uint8_t *community,
                      const struct agah_identity *id, uint64_t created, uint64_t expires)
{
    static const uint8_t zero[AGAH_HASH_LEN];

    msgpack_sbuffer_init(&e->sb);
    msgpack_packer_init(&e->pk, &e->sb, msgpack_sbuffer_write);
    if (msgpack_sbuffer_write(&e->sb, REC_SIG_PREFIX, REC_SIG_PREFIX_LEN) != 0 ||
        msgpack_pack_array(&e->pk, rec__nfields(type)) != 0 ||
        msgpack_pack_uint64(&e->pk, AGAH_REC_VERSION) != 0 ||
        msgpack_pack_uint64(&e->pk, (uint64_t)type) != 0 ||
        rec__pack_bin(&e->pk, community != NULL ? community : zero, AGAH_HASH_LEN) != 0 ||
        rec__pack_bin(&e->pk, agah_identity_pk(id), AGAH_PK_LEN) != 0 ||
        msgpack_pack_uint64(&e->pk, created) != 0 ||
        msgpack_pack_uint64(&e->pk, expires) != 0)
        return AGAH_ENOMEM;
    return 0;
}

/* Signs, appends the signature and hands the encoding (without the
 * prefix) to the caller, who owns *out. */
int rec__finish(struct rec__enc *e, const struct agah_identity *id, uint8_t **out,
                       size_t *outlen)
{
    uint8_t sig[AGAH_SIG_LEN];
    size_t n;
    char *data;

    agah_identity_sign(id, (const uint8_t *)e->sb.data, e->sb.size, sig);
    if (rec__pack_bin(&e->pk, sig, sizeof sig) != 0)
        return AGAH_ENOMEM;
    n = e->sb.size - REC_SIG_PREFIX_LEN;
    if (n > AGAH_REC_MAX)
        return AGAH_ETOOBIG;
    memmove(e->sb.data, e->sb.data + REC_SIG_PREFIX_LEN, n);
    data = msgpack_sbuffer_release(&e->sb);
    *out = (uint8_t *)data;
    *outlen = n;
    return 0;
}

void rec__abort(struct rec__enc *e)
{
    msgpack_sbuffer_destroy(&e->sb);
}

static int rec__cmp_key(const void *a, const void *b)
{
    return memcmp(a, b, AGAH_PK_LEN);
}

/* A sorted copy of n 32-byte keys or ids (malloc'd into *out, caller
 * frees), so a set has one encoding: AGAH_EINVAL if one repeats. */
int rec__sorted_set(const uint8_t (*in)[32], size_t n, uint8_t (**out)[32])
{
    uint8_t (*v)[32] = malloc(n * sizeof *v + 1);
    *out = NULL;
    if (v == NULL)
        return AGAH_ENOMEM;
    if (n > 0)
        memcpy(v, in, n * sizeof *v);
    qsort(v, n, sizeof *v, rec__cmp_key);
    for (size_t i = 1; i < n; i++) {
        if (memcmp(v[i - 1], v[i], 32) == 0) {
            free(v);
            return AGAH_EINVAL;
        }
    }
    *out = v;
    return 0;
}


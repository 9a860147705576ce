/* Records with encrypted texts: padding and sealing of alert bodies,
 * notes, reasons and names, the encoders of GENESIS, ADMISSION,
 * REVOCATION, ALERT, CONFIRM and RETRACT, and opening what they seal.
 * proto/PROTOCOL.md ("Alert encryption", "Padding", "Names and reasons"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <msgpack.h>
#include <agah/mp.h>
#include <agah/record.h>
#include "rec_int.h"

/* Checks a caller's C string: at most max bytes (else AGAH_ETOOBIG) of
 * valid UTF-8 (else AGAH_EINVAL), the same rules the decoder applies.
 * Sets *n to its length. */
static int rec__text(const char *s, size_t max, size_t *n)
{
    size_t l;

    if (s == NULL)
        return AGAH_EINVAL;
    l = strlen(s);
    if (l > max)
        return AGAH_ETOOBIG;
    if (!agah_mp_utf8_ok(s, l))
        return AGAH_EINVAL;
    *n = l;
    return 0;
}

/* The padded size of an alert body, note or reason of n bytes: the
 * smallest size that exceeds it (sodium_pad adds at least one byte), 0 if
 * none does. */
static size_t rec__bucket(size_t n)
{
    for (size_t i = 0; i < AGAH_PAD_NSIZES; i++)
        if (n < rec__pad_sizes[i])
            return rec__pad_sizes[i];
    return 0;
}

/* Pads pt[0..n) in place to `size` bytes (ISO/IEC 7816-4, one block);
 * pt holds REC_PT_MAX bytes. */
static int rec__pad(uint8_t pt[REC_PT_MAX], size_t n, size_t size, size_t *padded)
{
    size_t out = 0;
    if (size == 0 || n >= size || size > REC_PT_MAX ||
        sodium_pad(&out, pt, n, size, REC_PT_MAX) != 0 || out != size)
        return AGAH_ETOOBIG;
    *padded = out;
    return 0;
}

/* Appends nonce and ciphertext of pt under key, with every byte packed so
 * far (the signature prefix left out) as the associated data. */
static int rec__seal_tail(struct rec__enc *e, const uint8_t key[AGAH_KEY_LEN], const uint8_t *pt,
                          size_t ptlen)
{
    uint8_t nonce[AGAH_NONCE_LEN];
    uint8_t ct[REC_CT_MAX];
    unsigned long long ctlen = 0;

    if (ptlen > REC_PT_MAX)
        return AGAH_ETOOBIG;
    agah_random(nonce, sizeof nonce);
    if (crypto_aead_xchacha20poly1305_ietf_encrypt(
            ct, &ctlen, pt, ptlen, (const uint8_t *)e->sb.data + REC_SIG_PREFIX_LEN,
            e->sb.size - REC_SIG_PREFIX_LEN, NULL, nonce, key) != 0)
        return AGAH_EINTERNAL;
    if (rec__pack_bin(&e->pk, nonce, sizeof nonce) != 0 ||
        rec__pack_bin(&e->pk, ct, (size_t)ctlen) != 0)
        return AGAH_ENOMEM;
    return 0;
}

/* Packs the encrypted text field [epoch, nonce, ct] of one or two strings
 * (s2 NULL: one str, else an array of both), padded to `size` (0: the
 * bucket). epoch_id NULL writes all zero (the genesis key). */
static int rec__pack_text(struct rec__enc *e, const uint8_t *epoch_id,
                          const uint8_t key[AGAH_KEY_LEN], const char *s1, size_t l1,
                          const char *s2, size_t l2, size_t size)
{
    static const uint8_t zero[AGAH_HASH_LEN];
    uint8_t pt[REC_PT_MAX];
    struct agah_mp_fixbuf fb = {pt, 0, sizeof pt};
    msgpack_packer pk;
    size_t padded = 0;
    int r;

    msgpack_packer_init(&pk, &fb, agah_mp_fixbuf_write);
    if ((s2 != NULL && msgpack_pack_array(&pk, 2) != 0) || rec__pack_str(&pk, s1, l1) != 0 ||
        (s2 != NULL && rec__pack_str(&pk, s2, l2) != 0)) {
        r = AGAH_ETOOBIG;
        goto out;
    }
    if ((r = rec__pad(pt, fb.len, size != 0 ? size : rec__bucket(fb.len), &padded)) != 0)
        goto out;
    if (msgpack_pack_array(&e->pk, 3) != 0 ||
        rec__pack_bin(&e->pk, epoch_id != NULL ? epoch_id : zero, AGAH_HASH_LEN) != 0) {
        r = AGAH_ENOMEM;
        goto out;
    }
    r = rec__seal_tail(e, key, pt, padded);
out:
    sodium_memzero(pt, sizeof pt);
    return r;
}

/* An optional text (admission name, revocation reason): encrypted when a
 * key is given, else [] and then it must be empty. */
static int rec__pack_opt_text(struct rec__enc *e, const uint8_t *epoch_id, const uint8_t *key,
                              const char *s, size_t l, size_t size)
{
    if (epoch_id == NULL && key == NULL)
        return msgpack_pack_array(&e->pk, 0) != 0 ? AGAH_ENOMEM : 0;
    return rec__pack_text(e, epoch_id, key, s, l, NULL, 0, size);
}

/* Whether an optional text's key arguments make sense: both or neither,
 * a non-zero epoch, and no text without a key. */
static int rec__opt_text_ok(const uint8_t *epoch_id, const uint8_t *key, size_t l)
{
    if ((epoch_id == NULL) != (key == NULL))
        return 0;
    if (epoch_id == NULL)
        return l == 0;
    return !sodium_is_zero(epoch_id, AGAH_HASH_LEN);
}

int agah_rec_genesis(const struct agah_identity *id, const uint8_t gkey[AGAH_KEY_LEN],
                     const char *name, const char *founder_name, uint64_t created,
                     uint8_t **out, size_t *outlen)
{
    struct rec__enc e;
    size_t nl, fl;
    int r;

    if ((r = rec__text(name, AGAH_NAME_MAX, &nl)) != 0 ||
        (r = rec__text(founder_name, AGAH_NAME_MAX, &fl)) != 0)
        return r;
    if (nl == 0 || gkey == NULL)
        return AGAH_EINVAL;
    if ((r = rec__begin(&e, AGAH_REC_GENESIS, NULL, id, created, 0)) != 0)
        goto out;
    if ((r = rec__pack_text(&e, NULL, gkey, name, nl, founder_name, fl, AGAH_PAD_NAMES)) != 0)
        goto out;
    r = rec__finish(&e, id, out, outlen);
out:
    if (r != 0)
        rec__abort(&e);
    return r;
}

static int rec__expiry_ok(uint64_t created, uint64_t expires)
{
    return expires == 0 || expires > created;
}

int agah_rec_admission(const struct agah_identity *id, const uint8_t community[32],
                       const uint8_t member[32], int role, const char *name,
                       const uint8_t *epoch_id, const uint8_t *key,
                       uint64_t created, uint64_t expires, uint8_t **out, size_t *outlen)
{
    struct rec__enc e;
    size_t nl;
    int r;

    if ((r = rec__text(name, AGAH_NAME_MAX, &nl)) != 0)
        return r;
    if (role < AGAH_ROLE_ORGANISER || role > AGAH_ROLE_RELAY ||
        !rec__expiry_ok(created, expires) || !rec__opt_text_ok(epoch_id, key, nl))
        return AGAH_EINVAL;
    if ((r = rec__begin(&e, AGAH_REC_ADMISSION, community, id, created, expires)) != 0)
        goto out;
    if (rec__pack_bin(&e.pk, member, AGAH_PK_LEN) != 0 ||
        msgpack_pack_uint64(&e.pk, (uint64_t)role) != 0) {
        r = AGAH_ENOMEM;
        goto out;
    }
    if ((r = rec__pack_opt_text(&e, epoch_id, key, name, nl, AGAH_PAD_NAME)) != 0)
        goto out;
    r = rec__finish(&e, id, out, outlen);
out:
    if (r != 0)
        rec__abort(&e);
    return r;
}


int agah_rec_revocation(const struct agah_identity *id, const uint8_t community[32],
                        const uint8_t member[32], const char *reason,
                        const uint8_t *epoch_id, const uint8_t *key,
                        const uint8_t (*keep)[32], size_t n_keep, uint64_t created,
                        uint8_t **out, size_t *outlen)
{
    struct rec__enc e;
    uint8_t (*sorted)[32] = NULL;
    size_t rl;
    int r, begun = 0;

    if ((r = rec__text(reason, AGAH_NOTE_MAX, &rl)) != 0)
        return r;
    if (!rec__opt_text_ok(epoch_id, key, rl))
        return AGAH_EINVAL;
    if (n_keep > AGAH_REV_KEEP_MAX)
        return AGAH_ETOOBIG;
    if (n_keep > 0 && keep == NULL)
        return AGAH_EINVAL;
    /* Sorted, so the kept set has one encoding and readers can bisect. */
    if ((r = rec__sorted_set(keep, n_keep, &sorted)) != 0)
        return r;
    if ((r = rec__begin(&e, AGAH_REC_REVOCATION, community, id, created, 0)) != 0)
        goto out;
    begun = 1;
    if (rec__pack_bin(&e.pk, member, AGAH_PK_LEN) != 0 || msgpack_pack_array(&e.pk, n_keep) != 0) {
        r = AGAH_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n_keep; i++) {
        if (rec__pack_bin(&e.pk, sorted[i], AGAH_HASH_LEN) != 0) {
            r = AGAH_ENOMEM;
            goto out;
        }
    }
    /* Last, so the reason's associated data covers the keep list too. */
    if ((r = rec__pack_opt_text(&e, epoch_id, key, reason, rl, 0)) != 0)
        goto out;
    r = rec__finish(&e, id, out, outlen);
out:
    if (r != 0 && begun)
        rec__abort(&e);
    free(sorted);
    return r;
}

/* Packs the header through `epoch`, pads pt (REC_PT_MAX bytes, ptlen
 * used) to its bucket in place, encrypts it under key with everything
 * packed so far (minus the signature prefix) as associated data, then
 * packs nonce and ciphertext and signs. */
static int rec__sealed(const struct agah_identity *id, int type, const uint8_t community[32],
                       const uint8_t *ref, const uint8_t epoch_id[32],
                       const uint8_t key[AGAH_KEY_LEN], uint8_t pt[REC_PT_MAX], size_t ptlen,
                       uint64_t created, uint64_t expires, uint8_t **out, size_t *outlen)
{
    static const uint8_t zero[AGAH_HASH_LEN];
    struct rec__enc e;
    size_t padded = 0;
    int r;

    if ((r = rec__pad(pt, ptlen, rec__bucket(ptlen), &padded)) != 0)
        return r;
    if ((r = rec__begin(&e, type, community, id, created, expires)) != 0)
        goto out;
    if (rec__pack_bin(&e.pk, ref != NULL ? ref : zero, AGAH_HASH_LEN) != 0 ||
        rec__pack_bin(&e.pk, epoch_id, AGAH_HASH_LEN) != 0) {
        r = AGAH_ENOMEM;
        goto out;
    }
    if ((r = rec__seal_tail(&e, key, pt, padded)) != 0)
        goto out;
    r = rec__finish(&e, id, out, outlen);
out:
    if (r != 0)
        rec__abort(&e);
    return r;
}

int agah_rec_alert(const struct agah_identity *id, const uint8_t community[32],
                   const uint8_t epoch_id[32], const uint8_t key[AGAH_KEY_LEN],
                   const struct agah_alert_body *body, uint64_t created, uint64_t expires,
                   uint8_t **out, size_t *outlen)
{
    uint8_t pt[REC_PT_MAX];
    struct agah_mp_fixbuf fb = {pt, 0, sizeof pt};
    msgpack_packer pk;
    const char *tend, *nend;
    size_t tl, nl;
    int r = AGAH_EINVAL;

    /* Both strings must be terminated inside their arrays. */
    tend = memchr(body->target, '\0', sizeof body->target);
    nend = memchr(body->note, '\0', sizeof body->note);
    if (tend == NULL || nend == NULL)
        goto out;
    tl = (size_t)(tend - body->target);
    nl = (size_t)(nend - body->note);
    if (body->kind < AGAH_KIND_NUMBER || body->kind > AGAH_KIND_ALERT ||
        body->category < AGAH_CAT_HARASSMENT || body->category > AGAH_CAT_OTHER ||
        body->severity < AGAH_SEV_INFO || body->severity > AGAH_SEV_DANGER ||
        (body->kind == AGAH_KIND_ALERT) != (tl == 0) ||
        !agah_mp_utf8_ok(body->target, tl) || !agah_mp_utf8_ok(body->note, nl) ||
        !rec__expiry_ok(created, expires))
        goto out;
    msgpack_packer_init(&pk, &fb, agah_mp_fixbuf_write);
    if (msgpack_pack_array(&pk, 5) != 0 || msgpack_pack_uint64(&pk, (uint64_t)body->kind) != 0 ||
        (tl == 0 ? msgpack_pack_nil(&pk) : rec__pack_str(&pk, body->target, tl)) != 0 ||
        msgpack_pack_uint64(&pk, (uint64_t)body->category) != 0 ||
        rec__pack_str(&pk, body->note, nl) != 0 ||
        msgpack_pack_uint64(&pk, (uint64_t)body->severity) != 0) {
        r = AGAH_ETOOBIG;
        goto out;
    }
    r = rec__sealed(id, AGAH_REC_ALERT, community, NULL, epoch_id, key, pt, fb.len, created,
                    expires, out, outlen);
out:
    sodium_memzero(pt, sizeof pt);
    return r;
}

int agah_rec_annotate(const struct agah_identity *id, int type, const uint8_t community[32],
                      const uint8_t ref[32], const uint8_t epoch_id[32],
                      const uint8_t key[AGAH_KEY_LEN], const char *note, uint64_t created,
                      uint8_t **out, size_t *outlen)
{
    uint8_t pt[REC_PT_MAX];
    struct agah_mp_fixbuf fb = {pt, 0, sizeof pt};
    msgpack_packer pk;
    size_t nl;
    int r;

    if (type != AGAH_REC_CONFIRM && type != AGAH_REC_RETRACT) {
        r = AGAH_EINVAL;
        goto out;
    }
    if ((r = rec__text(note, AGAH_NOTE_MAX, &nl)) != 0)
        goto out;
    if (sodium_is_zero(ref, AGAH_HASH_LEN)) {
        r = AGAH_EINVAL;
        goto out;
    }
    msgpack_packer_init(&pk, &fb, agah_mp_fixbuf_write);
    if (rec__pack_str(&pk, note, nl) != 0) {
        r = AGAH_ETOOBIG;
        goto out;
    }
    r = rec__sealed(id, type, community, ref, epoch_id, key, pt, fb.len, created, 0, out,
                    outlen);
out:
    sodium_memzero(pt, sizeof pt);
    return r;
}

/* Opens one ciphertext of record r (nonce, ct, associated data
 * r->bytes[0..ad_len)) into pt (REC_PT_MAX bytes) and strips its padding;
 * `pad` says which size rule the padded length must follow. */
static int rec__open_ct(const struct agah_rec *r, size_t ad_len,
                        const uint8_t nonce[AGAH_NONCE_LEN], const uint8_t *ct, size_t ct_len,
                        int pad, const uint8_t key[AGAH_KEY_LEN], uint8_t pt[REC_PT_MAX],
                        size_t *ptlen, struct agah_why *why)
{
    unsigned long long n = 0;
    size_t un = 0;

    if (!rec__ct_len_ok(pad, ct_len) || ad_len > r->len)
        return agah_fail(why, AGAH_EINVAL, "not a decoded encrypted field");
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(pt, &n, NULL, ct, ct_len, r->bytes, ad_len,
                                                   nonce, key) != 0)
        return agah_fail(why, AGAH_ECRYPTO,
                         "cannot decrypt: wrong epoch key, or the record was altered");
    /* One block: the padded length is the block size. */
    if (sodium_unpad(&un, pt, (size_t)n, (size_t)n) != 0)
        return agah_fail(why, AGAH_EVALUE, "the plaintext's padding is not ISO/IEC 7816-4");
    if (pad == REC_PAD_BUCKETS && rec__bucket(un) != (size_t)n)
        return agah_fail(why, AGAH_EVALUE, "the plaintext is padded beyond its size");
    *ptlen = un;
    return 0;
}

/* Opens the ciphertext of an ALERT, CONFIRM or RETRACT into pt. */
static int rec__open(const struct agah_rec *r, const uint8_t key[AGAH_KEY_LEN], uint8_t *pt,
                     size_t *ptlen, struct agah_why *why)
{
    return rec__open_ct(r, r->u.sealed.ad_len, r->u.sealed.nonce, r->u.sealed.ct,
                        r->u.sealed.ct_len, REC_PAD_BUCKETS, key, pt, ptlen, why);
}

int agah_rec_open_alert(const struct agah_rec *r, const uint8_t key[AGAH_KEY_LEN],
                        struct agah_alert_body *out, struct agah_why *why)
{
    uint8_t pt[REC_PT_MAX];
    size_t ptlen = 0;
    msgpack_unpacked res;
    const msgpack_object *f;
    struct agah_alert_body body;
    const char *s;
    size_t sl;
    uint64_t kind, cat, sev;
    int rc;

    msgpack_unpacked_init(&res);
    memset(&body, 0, sizeof body);
    if (r->type != AGAH_REC_ALERT) {
        rc = agah_fail(why, AGAH_EINVAL, "not an alert record");
        goto out;
    }
    if ((rc = rec__open(r, key, pt, &ptlen, why)) != 0)
        goto out;
    if ((rc = agah_mp_unpack(pt, ptlen, 1, &res, why)) != 0 ||
        (rc = agah_mp_array(&res.data, "alert body", 5, why)) != 0)
        goto out;
    f = res.data.via.array.ptr;
    if ((rc = agah_mp_uint(&f[0], "alert body: kind", AGAH_KIND_ALERT, &kind, why)) != 0)
        goto out;
    if (kind < AGAH_KIND_NUMBER) {
        rc = agah_fail(why, AGAH_EVALUE, "alert body: kind 0 is not a kind");
        goto out;
    }
    if (kind == AGAH_KIND_ALERT) {
        if (f[1].type != MSGPACK_OBJECT_NIL) {
            rc = agah_fail(why, AGAH_ETYPE, "alert body: target must be nil for a free-text alert");
            goto out;
        }
    } else {
        if ((rc = agah_mp_str(&f[1], "alert body: target", AGAH_TARGET_MAX - 1, &s, &sl,
                              why)) != 0)
            goto out;
        if (sl == 0) {
            rc = agah_fail(why, AGAH_EVALUE, "alert body: empty target");
            goto out;
        }
        memcpy(body.target, s, sl);
    }
    if ((rc = agah_mp_uint(&f[2], "alert body: category", AGAH_CAT_OTHER, &cat, why)) != 0 ||
        (rc = agah_mp_str(&f[3], "alert body: note", AGAH_NOTE_MAX, &s, &sl, why)) != 0)
        goto out;
    memcpy(body.note, s, sl);
    if ((rc = agah_mp_uint(&f[4], "alert body: severity", AGAH_SEV_DANGER, &sev, why)) != 0)
        goto out;
    body.kind = (int)kind;
    body.category = (int)cat;
    body.severity = (int)sev;
    *out = body;
    rc = 0;
out:
    sodium_memzero(&body, sizeof body);
    sodium_memzero(pt, sizeof pt);
    msgpack_unpacked_destroy(&res);
    return rc;
}

int agah_rec_open_note(const struct agah_rec *r, const uint8_t key[AGAH_KEY_LEN],
                       char note[AGAH_NOTE_MAX + 1], struct agah_why *why)
{
    uint8_t pt[REC_PT_MAX];
    size_t ptlen = 0, sl;
    msgpack_unpacked res;
    const char *s;
    int rc;

    msgpack_unpacked_init(&res);
    if (r->type != AGAH_REC_CONFIRM && r->type != AGAH_REC_RETRACT) {
        rc = agah_fail(why, AGAH_EINVAL, "not a confirm or retract record");
        goto out;
    }
    if ((rc = rec__open(r, key, pt, &ptlen, why)) != 0 ||
        (rc = agah_mp_unpack(pt, ptlen, 1, &res, why)) != 0 ||
        (rc = agah_mp_str(&res.data, "note", AGAH_NOTE_MAX, &s, &sl, why)) != 0)
        goto out;
    memcpy(note, s, sl);
    note[sl] = '\0';
    rc = 0;
out:
    sodium_memzero(pt, sizeof pt);
    msgpack_unpacked_destroy(&res);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Names and reasons                                                   */

/* The encrypted text of r and the size rule its padding follows; NULL
 * for a type without one. */
static const struct agah_rec_text *rec__text_of(const struct agah_rec *r, int *pad)
{
    switch (r->type) {
    case AGAH_REC_GENESIS:
        *pad = REC_PAD_NAMES;
        return &r->u.genesis.names;
    case AGAH_REC_ADMISSION:
        *pad = REC_PAD_NAME;
        return &r->u.admission.name;
    case AGAH_REC_REVOCATION:
        *pad = REC_PAD_BUCKETS;
        return &r->u.revocation.reason;
    default:
        return NULL;
    }
}

const uint8_t *agah_rec_text_key_id(const struct agah_rec *r)
{
    const struct agah_rec_text *t;
    int pad;
    if (r == NULL || (t = rec__text_of(r, &pad)) == NULL || !t->has)
        return NULL;
    /* The genesis key is held under the community id, the genesis id. */
    return r->type == AGAH_REC_GENESIS ? r->id : t->epoch;
}

/* Copies a decoded str of at most max bytes into a NUL-terminated out. */
static int rec__take_str(const msgpack_object *o, const char *what, size_t max, char *out,
                         struct agah_why *why)
{
    const char *s;
    size_t n;
    int r;
    if ((r = agah_mp_str(o, what, max, &s, &n, why)) != 0)
        return r;
    if (n > 0)
        memcpy(out, s, n);
    out[n] = '\0';
    return 0;
}

/* Opens the text of a record of `type` with key and decodes it as
 * strictly as a record: one str of at most amax bytes into a, or with b an
 * array [str 1..amax, str 0..bmax] (a genesis record's names). Record
 * without a text: "". Nothing is left in a or b on failure. */
static int rec__open_text(const struct agah_rec *r, int type, const uint8_t key[AGAH_KEY_LEN],
                          char *a, size_t amax, char *b, size_t bmax, struct agah_why *why)
{
    uint8_t pt[REC_PT_MAX];
    size_t ptlen = 0;
    msgpack_unpacked res;
    const msgpack_object *o;
    const struct agah_rec_text *t = NULL;
    int pad = 0, rc;

    msgpack_unpacked_init(&res);
    a[0] = '\0';
    if (b != NULL)
        b[0] = '\0';
    if (r == NULL || r->type != type || (t = rec__text_of(r, &pad)) == NULL) {
        rc = agah_fail(why, AGAH_EINVAL, "not a record of this type");
        goto out;
    }
    rc = 0;
    if (!t->has)
        goto out;
    if ((rc = rec__open_ct(r, t->ad_len, t->nonce, t->ct, t->ct_len, pad, key, pt, &ptlen,
                           why)) != 0 ||
        (rc = agah_mp_unpack(pt, ptlen, 1, &res, why)) != 0)
        goto out;
    o = &res.data;
    if (b != NULL) {
        if ((rc = agah_mp_array(o, "names", 2, why)) != 0)
            goto out;
        o = o->via.array.ptr;
    }
    if ((rc = rec__take_str(&o[0], b != NULL ? "names: community" : "text", amax, a, why)) != 0)
        goto out;
    if (b != NULL) {
        if ((rc = rec__take_str(&o[1], "names: founder", bmax, b, why)) != 0)
            goto out;
        if (a[0] == '\0')
            rc = agah_fail(why, AGAH_EVALUE, "names: a community needs a name");
    }
out:
    if (rc != 0) {
        sodium_memzero(a, amax + 1);
        if (b != NULL)
            sodium_memzero(b, bmax + 1);
    }
    sodium_memzero(pt, sizeof pt);
    msgpack_unpacked_destroy(&res);
    return rc;
}

int agah_rec_open_names(const struct agah_rec *r, const uint8_t key[AGAH_KEY_LEN],
                        char name[AGAH_NAME_MAX + 1], char founder_name[AGAH_NAME_MAX + 1],
                        struct agah_why *why)
{
    return rec__open_text(r, AGAH_REC_GENESIS, key, name, AGAH_NAME_MAX, founder_name,
                          AGAH_NAME_MAX, why);
}

int agah_rec_open_name(const struct agah_rec *r, const uint8_t key[AGAH_KEY_LEN],
                       char name[AGAH_NAME_MAX + 1], struct agah_why *why)
{
    return rec__open_text(r, AGAH_REC_ADMISSION, key, name, AGAH_NAME_MAX, NULL, 0, why);
}

int agah_rec_open_reason(const struct agah_rec *r, const uint8_t key[AGAH_KEY_LEN],
                         char reason[AGAH_NOTE_MAX + 1], struct agah_why *why)
{
    return rec__open_text(r, AGAH_REC_REVOCATION, key, reason, AGAH_NOTE_MAX, NULL, 0, why);
}

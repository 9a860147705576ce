/* libFuzzer target for the decoders behind the encryption (issue 24): the
 * alert body, confirmation and retraction notes, and member names.
 * fuzz_record cannot reach them, since a mutated ciphertext never opens.
 * Here the input is the plaintext itself: the first byte picks the field
 * (0 alert body, 1 confirmation note, 2 retraction reason, 3 member name),
 * the rest, zero-extended to the field's next padded size, is encrypted
 * under a fixed key in place of the ciphertext of a valid record of that
 * kind (same nonce, same associated data), and the record is decoded
 * without its now stale signature (agah_rec_decode_stored) and opened.
 * Whatever opens must be bounded, NUL-terminated and, for an alert,
 * consistent with its kind. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <agah/agah.h>

#define KINDS 4
#define SIZES 4

static struct agah_identity *me;
static uint8_t key[AGAH_KEY_LEN], eid[AGAH_HASH_LEN], community[AGAH_HASH_LEN];
/* A valid record per field and padded size to graft plaintexts into. */
static uint8_t *base[KINDS][SIZES];
static size_t base_len[KINDS][SIZES], base_pt[KINDS][SIZES];

static int make(int kind, size_t note_len, uint8_t **out, size_t *len)
{
    static char note[AGAH_NOTE_MAX + 1];
    struct agah_alert_body b;
    memset(note, 'n', note_len);
    note[note_len] = '\0';
    switch (kind) {
    case 0:
        memset(&b, 0, sizeof b);
        b.kind = AGAH_KIND_ALERT;
        memcpy(b.note, note, note_len + 1);
        return agah_rec_alert(me, community, eid, key, &b, 1700000000, 0, out, len);
    case 1:
    case 2:
        return agah_rec_annotate(me, kind == 1 ? AGAH_REC_CONFIRM : AGAH_REC_RETRACT, community,
                                 eid, eid, key, note, 1700000000, out, len);
    default:
        if (note_len > AGAH_NAME_MAX)
            return AGAH_EINVAL;
        return agah_rec_admission(me, community, agah_identity_pk(me), AGAH_ROLE_MEMBER, note,
                                  eid, key, 1700000000, 0, out, len);
    }
}

/* The ciphertext, nonce and associated data of a decoded record's field. */
static int field(const struct agah_rec *r, const uint8_t **ct, size_t *ct_len,
                 const uint8_t **nonce, size_t *ad_len)
{
    if (r->type == AGAH_REC_ADMISSION) {
        if (!r->u.admission.name.has)
            return -1;
        *ct = r->u.admission.name.ct;
        *ct_len = r->u.admission.name.ct_len;
        *nonce = r->u.admission.name.nonce;
        *ad_len = r->u.admission.name.ad_len;
        return 0;
    }
    *ct = r->u.sealed.ct;
    *ct_len = r->u.sealed.ct_len;
    *nonce = r->u.sealed.nonce;
    *ad_len = r->u.sealed.ad_len;
    return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static const size_t notes[SIZES] = {0, 100, 600, 2048};
    (void)argc;
    (void)argv;
    if (agah_init() != 0 || agah_identity_generate(&me) != 0)
        abort();
    memset(key, 0x42, sizeof key);
    memset(eid, 0x24, sizeof eid);
    memset(community, 0x33, sizeof community);
    for (int k = 0; k < KINDS; k++)
        for (int s = 0; s < SIZES; s++) {
            struct agah_rec r;
            const uint8_t *ct, *nonce;
            size_t ct_len, ad_len;
            if (make(k, k == 3 ? (size_t)s : notes[s], &base[k][s], &base_len[k][s]) != 0 ||
                agah_rec_decode(base[k][s], base_len[k][s], community, &r, NULL) != 0 ||
                field(&r, &ct, &ct_len, &nonce, &ad_len) != 0)
                abort();
            base_pt[k][s] = ct_len - crypto_aead_xchacha20poly1305_ietf_ABYTES;
        }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t pt[4096], buf[70000];
    struct agah_rec r;
    struct agah_why why;
    const uint8_t *ct, *nonce;
    size_t ct_len, ad_len, n = size > 0 ? size - 1 : 0;
    int k, s;

    if (size == 0)
        return 0;
    k = data[0] % KINDS;
    /* The smallest padded size of this field that holds the input. */
    for (s = 0; s < SIZES && base_pt[k][s] < n; s++)
        ;
    if (s == SIZES || base_len[k][s] > sizeof buf)
        return 0;
    memset(pt, 0, base_pt[k][s]);
    memcpy(pt, data + 1, n);
    memcpy(buf, base[k][s], base_len[k][s]);
    if (agah_rec_decode_stored(buf, base_len[k][s], community, &r, NULL) != 0 ||
        field(&r, &ct, &ct_len, &nonce, &ad_len) != 0)
        abort();
    /* Encrypt in place: the ciphertext sits inside buf. */
    if (crypto_aead_xchacha20poly1305_ietf_encrypt((uint8_t *)ct, NULL, pt, base_pt[k][s], buf,
                                                   ad_len, NULL, nonce, key) != 0)
        abort();
    if (agah_rec_decode_stored(buf, base_len[k][s], community, &r, &why) != 0)
        abort(); /* only ciphertext bytes changed */
    if (k == 0) {
        struct agah_alert_body b;
        if (agah_rec_open_alert(&r, key, &b, &why) == 0 &&
            (b.kind < AGAH_KIND_NUMBER || b.kind > AGAH_KIND_ALERT ||
             strnlen(b.note, sizeof b.note) > AGAH_NOTE_MAX ||
             strnlen(b.target, sizeof b.target) >= sizeof b.target ||
             (b.kind == AGAH_KIND_ALERT) != (b.target[0] == '\0')))
            abort();
    } else if (k == 1 || k == 2) {
        char note[AGAH_NOTE_MAX + 1];
        if (agah_rec_open_note(&r, key, note, &why) == 0 && strnlen(note, sizeof note) > AGAH_NOTE_MAX)
            abort();
    } else {
        char name[AGAH_NAME_MAX + 1];
        if (agah_rec_open_name(&r, key, name, &why) == 0 && strnlen(name, sizeof name) > AGAH_NAME_MAX)
            abort();
    }
    return 0;
}

/* What the record codec's source files share and nothing else sees:
 * proto/record.c (the decoder and the encoders' frame), proto/rec_sealed.c
 * (the other record types and the encryption of their texts) and
 * proto/rec_epoch.c (EPOCH records: sealing, chain links and network
 * secrets). Not installed, not part of the public API. */
#ifndef AGAH_REC_INT_H
#define AGAH_REC_INT_H

#include <msgpack.h>
#include <sodium.h>
#include <agah/record.h>

/* The signature's domain separation prefix. */
#define REC_SIG_PREFIX "agah-record-v1"
#define REC_SIG_PREFIX_LEN (sizeof REC_SIG_PREFIX - 1)
#define REC_TAG crypto_aead_xchacha20poly1305_ietf_ABYTES
/* The largest padded plaintext (rec__pad_sizes) and the ciphertext sizes
 * around it. */
#define REC_PT_MAX 2352
#define REC_CT_MIN (64 + REC_TAG)
#define REC_CT_MAX (REC_PT_MAX + REC_TAG)
/* The three kinds of padded text, for the decoder's size checks. */
enum { REC_PAD_BUCKETS, REC_PAD_NAME, REC_PAD_NAMES };

/* A record under construction. The buffer starts with the signature
 * prefix so the signed message is contiguous; it is cut off at the end. */
struct rec__enc {
    msgpack_sbuffer sb;
    msgpack_packer pk;
};

/* The number of array elements of a record of `type`, signature included
 * (0 for an unknown type). */
size_t rec__nfields(int type);
int rec__pack_bin(msgpack_packer *pk, const uint8_t *p, size_t n);
int rec__pack_str(msgpack_packer *pk, const char *s, size_t n);
/* The padded plaintext sizes (AGAH_PAD_SIZES), and whether a ciphertext
 * length is one the padding rule `pad` can produce (record.c). */
extern const size_t rec__pad_sizes[AGAH_PAD_NSIZES];
int rec__ct_len_ok(int pad, size_t ct_len);
/* Starts a record: signature prefix, array header, the common fields. */
int rec__begin(struct rec__enc *e, int type, const uint8_t *community,
               const struct agah_identity *id, uint64_t created, uint64_t expires);
/* Signs and hands the encoding (without the prefix) to the caller, who
 * owns *out. */
int rec__finish(struct rec__enc *e, const struct agah_identity *id, uint8_t **out,
                size_t *outlen);
void rec__abort(struct rec__enc *e);
/* A sorted copy of n 32-byte keys or ids (malloc'd into *out, caller
 * frees): AGAH_EINVAL if one repeats. */
int rec__sorted_set(const uint8_t (*in)[32], size_t n, uint8_t (**out)[32]);
/* The type fields of an EPOCH record, f[6] to f[10] (rec_epoch.c). */
int rec__epoch_fields(const msgpack_object *f, const uint8_t *buf, struct agah_rec *out,
                      struct agah_why *why);

#endif

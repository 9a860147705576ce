/* Layer wire/: the bytes peers exchange (frames, the handshake, the peer
 * message codec, range reconciliation and sketches, address announcements).
 * Pure code on buffers: no libuv, no store; it depends on proto/ only. */
/* Encrypted frames of a peer link after the handshake: a 4-byte big-endian
 * length, authenticated as associated data, then XChaCha20-Poly1305-IETF
 * ciphertext under a per-direction session key with a 64-bit counter nonce.
 * Pure code: no I/O, so the unit test and the fuzzer drive it directly. */
#ifndef AGAH_FRAME_H
#define AGAH_FRAME_H

#include <stddef.h>
#include <stdint.h>
#include <agah/error.h>

#define FRAME_HDR 4
#define FRAME_TAG 16
/* Largest ciphertext (plaintext + tag) a frame may carry. A larger length
 * field closes the link before anything is allocated for it. */
#define FRAME_CT_MAX (128u * 1024u)
#define FRAME_PT_MAX (FRAME_CT_MAX - FRAME_TAG)
#define FRAME_WIRE_MAX (FRAME_HDR + FRAME_CT_MAX)
#define FRAME_KEY_LEN 32

/* The two session keys of one link and the next nonce counter of each
 * direction. Lives in sodium_malloc'd memory; frame_keys_free wipes it. */
struct frame_keys;

/* Copies both keys in (the caller wipes its own copies). NULL on ENOMEM. */
struct frame_keys *frame_keys_new(const uint8_t tx[FRAME_KEY_LEN], const uint8_t rx[FRAME_KEY_LEN]);
void frame_keys_free(struct frame_keys *k);
uint64_t frame_keys_sent(const struct frame_keys *k);
uint64_t frame_keys_received(const struct frame_keys *k);

/* Reads the length field of a frame header: AGAH_ETOOBIG above
 * FRAME_CT_MAX, AGAH_ETRUNC below FRAME_TAG (no plaintext can be empty
 * either, but the AEAD decides that). */
int frame_peek(const uint8_t hdr[FRAME_HDR], size_t *ct_len);

/* Seals pt[0..len) (len >= 1, <= FRAME_PT_MAX) into out, which must hold
 * FRAME_HDR + len + FRAME_TAG bytes, with the next send counter as nonce.
 * AGAH_ETOOBIG if too long, AGAH_EINTERNAL if the counter is exhausted. */
int frame_seal(struct frame_keys *k, const uint8_t *pt, size_t len, uint8_t *out);

/* Opens one whole frame (header and ciphertext, `len` = FRAME_HDR +
 * ct_len) with the next receive counter into pt (at least ct_len -
 * FRAME_TAG bytes). AGAH_ECRYPTO on any alteration, replay, reordering or
 * wrong key; the counter advances only on success. */
int frame_open(struct frame_keys *k, const uint8_t *frame, size_t len, uint8_t *pt,
               size_t *pt_len);

#endif

/* Identities (Ed25519 key pairs, with their X25519 counterparts for sealed
 * boxes), printable checksummed ids, and the passphrase-protected key file.
 * Secret keys live in sodium_malloc'd memory and are wiped on free. */
#ifndef AGAH_KEYS_H
#define AGAH_KEYS_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"

#define AGAH_PK_LEN 32
#define AGAH_SEED_LEN 32
#define AGAH_HASH_LEN 32 /* record ids, community ids: BLAKE2b-256 */
#define AGAH_SIG_LEN 64

/* Printable ids: a one-letter kind prefix, then RFC 4648 base32 (lowercase,
 * no padding) of the 32 key bytes followed by a 4-byte checksum: the first
 * 4 bytes of unkeyed BLAKE2b-256 over "agah-id" || prefix || key
 * (libsodium's generichash has no 4-byte output). The two bits left over
 * in the last character must be zero. 1 + 58 characters. A mistyped
 * character fails the checksum (all but 1 in 2^32 typos). */
#define AGAH_IDSTR_LEN 59
#define AGAH_IDSTR_SIZE (AGAH_IDSTR_LEN + 1)
#define AGAH_IDPFX_MEMBER 'm'
#define AGAH_IDPFX_COMMUNITY 'c'

/* Initialises libsodium (idempotent, thread-safe); entry points that need
 * it call it themselves. AGAH_EINTERNAL if libsodium cannot start. */
int agah_init(void);

void agah_id_encode(char prefix, const uint8_t key[32], char out[AGAH_IDSTR_SIZE]);
/* AGAH_EINVAL: wrong length, prefix or alphabet; AGAH_ECHECKSUM: a typo. */
int agah_id_decode(const char *s, char prefix, uint8_t key[32], struct agah_why *why);

/* An identity. Opaque; the secret half is in guarded memory. */
struct agah_identity;

/* Fresh random identity. Caller owns *out; free with agah_identity_free. */
int agah_identity_generate(struct agah_identity **out);
/* Deterministic identity from a seed (test vectors). */
int agah_identity_from_seed(const uint8_t seed[AGAH_SEED_LEN], struct agah_identity **out);
void agah_identity_free(struct agah_identity *id);
const uint8_t *agah_identity_pk(const struct agah_identity *id);
/* Copies the 32-byte seed out (for the key file and the local-state key).
 * The caller wipes its copy with sodium_memzero. */
void agah_identity_seed(const struct agah_identity *id, uint8_t seed[AGAH_SEED_LEN]);
/* A 32-byte key for one purpose, derived from the identity's seed:
 * BLAKE2b-256 keyed by the seed over the context string (e.g.
 * "agah-local-v1"), so no caller handles the seed itself. Implemented in
 * keyfile.c. The caller wipes `out`. */
int agah_identity_derive(const struct agah_identity *id, const char *context, uint8_t out[32]);
/* Detached Ed25519 signature of msg. */
void agah_identity_sign(const struct agah_identity *id, const uint8_t *msg, size_t len,
                        uint8_t sig[AGAH_SIG_LEN]);
int agah_sig_verify(const uint8_t pk[AGAH_PK_LEN], const uint8_t *msg, size_t len,
                    const uint8_t sig[AGAH_SIG_LEN]);

/* X25519 of this identity's secret key (converted from Ed25519) with a
 * peer's X25519 public key, so a handshake can bind a message to a known
 * member without the secret leaving this module. AGAH_ECRYPTO for a
 * low-order point (out is zeroed). The caller wipes out. */
int agah_identity_dh(const struct agah_identity *id, const uint8_t peer_x25519[32],
                     uint8_t out[32]);
/* The X25519 public key of an Ed25519 member key; AGAH_EINVAL if it is not
 * a valid point. */
int agah_pk_to_x25519(const uint8_t pk[AGAH_PK_LEN], uint8_t out[32]);

/* Sealed boxes to an Ed25519 public key (converted to X25519).
 * agah_seal writes mlen + AGAH_SEAL_OVERHEAD bytes. */
#define AGAH_SEAL_OVERHEAD 48
int agah_seal(const uint8_t pk[AGAH_PK_LEN], const uint8_t *m, size_t mlen, uint8_t *c);
/* AGAH_ECRYPTO when the box was not sealed to this identity or was altered. */
int agah_seal_open(const struct agah_identity *id, const uint8_t *c, size_t clen, uint8_t *m);

/* BLAKE2b-256 of bytes (record ids). */
void agah_hash(const uint8_t *buf, size_t len, uint8_t out[AGAH_HASH_LEN]);

#endif

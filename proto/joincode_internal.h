/* The stages of join-code encoding and decoding, exposed to the unit test
 * (which makes codes an honest encoder refuses to make), the fuzz target
 * and the tool that writes its seed corpus. Not part of the public API. */
#ifndef AGAH_JOINCODE_INTERNAL_H
#define AGAH_JOINCODE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <agah/joincode.h>
#include "secbuf.h"

/* The signature covers this context string, then the payload bytes. */
#define AGAH_JOIN_SIG_CONTEXT "agah-join-v2"

/* The canonical msgpack payload of j (what the inviter signs) into *out,
 * which this function initialises in guarded memory; the caller frees it
 * with agah_secbuf_free. AGAH_EINVAL when j breaks a bound. */
int agah_join__encode_plain(const struct agah_join *j, struct agah_mp_fixbuf *out);

/* The opened plaintext of a code: [version, signer bin32, payload bin,
 * signature bin64], signed by `signer` whoever it is (no check that it
 * admitted anyone), into *out (guarded memory, agah_secbuf_free). */
int agah_join__wrap(const struct agah_identity *signer, const uint8_t *payload, size_t len,
                    struct agah_mp_fixbuf *out);

/* Seals any plaintext to invitee_pk and makes it a code line (malloc'd). */
int agah_join__seal(const uint8_t *plain, size_t len, const uint8_t invitee_pk[AGAH_PK_LEN],
                    char **out);

/* Strict decoding of an opened plaintext: prescan, the version (1 is named
 * as an older agah's), the wrapper's exact schema, the signature verified
 * with the key the wrapper names over the exact payload bytes, then the
 * payload (prescan, exact schema, bounds before filling). *out is a new
 * struct in guarded memory (free with agah_join_free) with `inviter` set to
 * the signing key; nothing is handed out on failure. */
int agah_join__decode_plain(const uint8_t *buf, size_t len, struct agah_join **out,
                            struct agah_why *why);

/* The checks after decoding: expiry at `now`, then the genesis and
 * admission records (agah_rec_decode; genesis id == community; admission
 * of `me_pk` in that community, not expired; its author is the signer),
 * then the inviter's name (founder, or its own admission in
 * inviter_admission). Fills j->inviter_name and j->community_name. */
int agah_join__check(struct agah_join *j, const uint8_t me_pk[AGAH_PK_LEN], uint64_t now,
                     struct agah_why *why);

#endif

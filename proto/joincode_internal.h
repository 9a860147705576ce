/* The stages of join-code decoding, exposed to the fuzz target and the
 * tools that make its seed corpus. Not part of the public API. */
#ifndef AGAH_JOINCODE_INTERNAL_H
#define AGAH_JOINCODE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <agah/joincode.h>
#include "secbuf.h"

/* The canonical msgpack payload of j (before sealing) into *out, which this
 * function initialises in guarded memory; the caller frees it with
 * agah_secbuf_free. AGAH_EINVAL when j breaks a bound. */
int agah_join__encode_plain(const struct agah_join *j, struct agah_mp_fixbuf *out);

/* Strict decoding of an opened payload: prescan, exact schema, bounds
 * before filling. *out is a new struct in guarded memory (free with
 * agah_join_free); nothing is handed out on failure. */
int agah_join__decode_plain(const uint8_t *buf, size_t len, struct agah_join **out,
                            struct agah_why *why);

/* The checks after decoding: expiry at `now`, then the genesis and
 * admission records (agah_rec_decode; genesis id == community; admission
 * of `me_pk` in that community, not expired). */
int agah_join__check(const struct agah_join *j, const uint8_t me_pk[AGAH_PK_LEN], uint64_t now,
                     struct agah_why *why);

/* A peer address as stored in join codes and the local community file:
 * 1 to AGAH_ADDR_MAX-1 bytes of printable ASCII ("host:port"). */
int agah_join__addr_ok(const char *s, size_t n);

#endif

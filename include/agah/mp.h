/* Guards for msgpack-c on untrusted bytes. msgpack-c has no limits of its
 * own (the five bytes dd ff ff ff ff make msgpack_unpack_next ask for
 * 128 GiB), so every decoder first runs agah_mp_prescan over the bytes,
 * which walks the headers without allocating. */
#ifndef AGAH_MP_H
#define AGAH_MP_H

#include <stddef.h>
#include <stdint.h>
#include <msgpack.h>
#include "error.h"

/* Maximum nesting depth accepted anywhere. */
#define AGAH_MP_MAX_DEPTH 8

/* Checks that buf[0..len) holds exactly one msgpack object:
 * - every array of n adds n expected objects, a map 2n, and the total
 *   expected never exceeds the bytes remaining (each object is >= 1 byte);
 * - str/bin/ext bodies fit in what remains;
 * - nesting is at most AGAH_MP_MAX_DEPTH; floats and ext types are refused;
 * - with `canonical`, every integer, length and count uses its shortest
 *   encoding (so one value has one byte string);
 * - nothing follows the object (AGAH_ETRAILING).
 * Returns 0 or AGAH_ETRUNC / AGAH_ETOOBIG / AGAH_ETYPE / AGAH_ENONCANON /
 * AGAH_ETRAILING with `why`. */
int agah_mp_prescan(const uint8_t *buf, size_t len, int canonical, struct agah_why *why);

/* prescan, then msgpack_unpack_next; accepts only MSGPACK_UNPACK_SUCCESS
 * with the whole buffer consumed. `res` must be msgpack_unpacked_init'ed
 * by the caller and destroyed by it. Strings and bins in the result point
 * into `buf`, which must outlive `res`. */
int agah_mp_unpack(const uint8_t *buf, size_t len, int canonical, msgpack_unpacked *res,
                   struct agah_why *why);

/* Schema helpers for decoders: each checks one object and fills `why`
 * naming `what` (e.g. "author") on mismatch. */
int agah_mp_uint(const msgpack_object *o, const char *what, uint64_t max, uint64_t *out,
                 struct agah_why *why);
int agah_mp_bin_exact(const msgpack_object *o, const char *what, size_t n, uint8_t *out,
                      struct agah_why *why);
/* bin of at most max bytes; *p points into the unpacked buffer (never NULL,
 * even for an empty body). */
int agah_mp_bin(const msgpack_object *o, const char *what, size_t max, const uint8_t **p,
                size_t *n, struct agah_why *why);
/* str of at most max bytes, valid UTF-8 with no NUL; *p points into the
 * buffer (never NULL, even for an empty string). */
int agah_mp_str(const msgpack_object *o, const char *what, size_t max, const char **p,
                size_t *n, struct agah_why *why);
/* 1 if s[0..len) is valid UTF-8 (no overlong forms, surrogates or code
 * points above U+10FFFF) containing no NUL, else 0. Encoders use it to
 * refuse what the decoders would refuse. */
int agah_mp_utf8_ok(const char *s, size_t len);
int agah_mp_array(const msgpack_object *o, const char *what, size_t n_exact,
                  struct agah_why *why);

/* A msgpack_packer target over caller-provided memory of fixed capacity.
 * agah_mp_fixbuf_write (the packer's write callback) refuses (-1) rather
 * than grow: a capacity computed too small shows up as an error, and the
 * bytes never move, so secrets and plaintext are not left behind in heap
 * blocks that realloc freed. */
struct agah_mp_fixbuf {
    uint8_t *p;
    size_t len, cap;
};
int agah_mp_fixbuf_write(void *data, const char *buf, size_t len);

#endif

/* Reading the daemon's answers (mpget.c): typed look-ups of a key in a
 * msgpack map, each safe on a missing key or a value of another type. */
#ifndef AGAH_MPGET_H
#define AGAH_MPGET_H

#include <stddef.h>
#include <stdint.h>
#include <agah/mp.h>

/* The value of key `k` in map `m`, or NULL. */
const msgpack_object *mp_get(const msgpack_object *m, const char *k);
/* Copies a str (or bin as text) value into buf as a NUL-terminated string;
 * "" when absent or of another type. */
const char *mp_str(const msgpack_object *m, const char *k, char *buf, size_t size);
int mp_has_str(const msgpack_object *m, const char *k);
uint64_t mp_uint(const msgpack_object *m, const char *k);
int mp_bool(const msgpack_object *m, const char *k);

#endif

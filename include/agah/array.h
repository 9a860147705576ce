/* Growing heap arrays: the one body of the "double the capacity, realloc,
 * refuse past a bound" step that daemon, client and proto all need. */
#ifndef AGAH_ARRAY_H
#define AGAH_ARRAY_H

#include <stddef.h>

/* Makes room in *arr (an array of *cap elements of `size` bytes, of which
 * `n` are used) for one more: capacity `min` first, then doubled, never
 * past `max` elements. 0; AGAH_ETOOBIG when n >= max; AGAH_ENOMEM when the
 * allocation fails or its size would overflow. On failure *arr and *cap
 * are as they were. */
int agah_array_reserve(void **arr, size_t *cap, size_t n, size_t size, size_t min, size_t max);

#endif

/* A fixed-capacity output buffer in guarded (sodium_malloc'd) memory, usable
 * as a msgpack-c write callback. msgpack_sbuffer grows with realloc, which
 * would leave copies of secrets (network secret, epoch keys) in freed heap
 * memory; this buffer never moves, and is wiped when freed. Internal to the
 * protocol library (join codes, the local community file). */
#ifndef AGAH_SECBUF_H
#define AGAH_SECBUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sodium.h>
#include <agah/error.h>
#include <agah/mp.h>

/* AGAH_ENOMEM when the guarded allocation fails. */
static inline int agah_secbuf_init(struct agah_mp_fixbuf *b, size_t cap)
{
    b->len = 0;
    b->cap = cap;
    b->p = sodium_malloc(cap > 0 ? cap : 1);
    return b->p != NULL ? 0 : AGAH_ENOMEM;
}

static inline void agah_secbuf_free(struct agah_mp_fixbuf *b)
{
    if (b->p != NULL) {
        sodium_memzero(b->p, b->cap > 0 ? b->cap : 1);
        sodium_free(b->p);
    }
    b->p = NULL;
    b->len = b->cap = 0;
}

#endif

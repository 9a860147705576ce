/* Reading the daemon's answers: typed look-ups of a key in a msgpack map.
 * Each is safe on a missing key, a value of another type or a map that is
 * not one, so a printer need not check the shape of every field first. */
#include <string.h>
#include "mpget.h"
#include "utf8.h"

const msgpack_object *mp_get(const msgpack_object *m, const char *k)
{
    size_t kl = strlen(k);
    if (m == NULL || m->type != MSGPACK_OBJECT_MAP)
        return NULL;
    for (uint32_t i = 0; i < m->via.map.size; i++) {
        const msgpack_object *key = &m->via.map.ptr[i].key;
        if (key->type == MSGPACK_OBJECT_STR && key->via.str.size == kl &&
            memcmp(key->via.str.ptr, k, kl) == 0)
            return &m->via.map.ptr[i].val;
    }
    return NULL;
}

const char *mp_str(const msgpack_object *m, const char *k, char *buf, size_t size)
{
    const msgpack_object *v = mp_get(m, k);
    size_t n;

    if (size == 0)
        return buf;
    buf[0] = '\0';
    if (v == NULL || v->type != MSGPACK_OBJECT_STR)
        return buf;
    n = v->via.str.size;
    if (n >= size)
        n = utf8_fit(v->via.str.ptr, size - 1, (size_t)-1);
    memcpy(buf, v->via.str.ptr, n);
    buf[n] = '\0';
    return buf;
}

int mp_has_str(const msgpack_object *m, const char *k)
{
    const msgpack_object *v = mp_get(m, k);
    return v != NULL && v->type == MSGPACK_OBJECT_STR;
}

uint64_t mp_uint(const msgpack_object *m, const char *k)
{
    const msgpack_object *v = mp_get(m, k);
    if (v == NULL || v->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return 0;
    return v->via.u64;
}

int mp_bool(const msgpack_object *m, const char *k)
{
    const msgpack_object *v = mp_get(m, k);
    return v != NULL && v->type == MSGPACK_OBJECT_BOOLEAN && v->via.boolean;
}

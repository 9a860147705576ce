/* libFuzzer target for the msgpack prescan: it must never read outside the
 * input, and whatever it accepts msgpack-c must unpack whole, with
 * allocations bounded by the input size. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <agah/mp.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = malloc(size ? size : 1);

    if (buf == NULL)
        return 0;
    memcpy(buf, data, size);
    for (int canonical = 0; canonical < 2; canonical++) {
        msgpack_unpacked res;
        struct agah_why why;
        msgpack_unpacked_init(&res);
        int r = agah_mp_unpack(buf, size, canonical, &res, &why);
        /* A disagreement with msgpack-c is a bug in the prescan. */
        if (r == AGAH_EINTERNAL)
            abort();
        if (r == 0) {
            const msgpack_object *o = &res.data;
            uint64_t u;
            const char *s;
            const uint8_t *b;
            size_t n;
            (void)agah_mp_uint(o, "root", UINT64_MAX, &u, &why);
            (void)agah_mp_str(o, "root", 4096, &s, &n, &why);
            (void)agah_mp_bin(o, "root", 4096, &b, &n, &why);
            if (o->type == MSGPACK_OBJECT_ARRAY && o->via.array.size > 0)
                (void)agah_mp_str(&o->via.array.ptr[0], "first", 4096, &s, &n, &why);
        }
        /* The canonical check only ever narrows what is accepted. */
        if (canonical == 1 && r == 0 && agah_mp_prescan(buf, size, 0, NULL) != 0)
            abort();
        msgpack_unpacked_destroy(&res);
    }
    free(buf);
    return 0;
}

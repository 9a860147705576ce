/* msgpack on untrusted bytes: a pre-scan that walks the headers of one
 * object without allocating (so msgpack-c's unpacker is only ever given
 * input whose allocations are bounded by its length), the canonical-form
 * check that makes one value have one byte string, and the schema helpers
 * every decoder uses to check a field's type and size. */
#include <string.h>
#include <agah/mp.h>
#include <agah/utf8.h>

/* Reads a big-endian unsigned integer of n bytes (n <= 8). */
static uint64_t mp__be(const uint8_t *p, size_t n)
{
    uint64_t v = 0;

    for (size_t i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

/* What one header says: how many header bytes, how many body bytes follow
 * (str/bin), and how many child objects it opens (array n, map 2n). */
struct mp__hdr {
    size_t hlen;
    uint64_t body;
    uint64_t children;
    int container;
};

/* Decodes the header at buf[p] (p < len). Checks the shortest-encoding rule
 * when `canonical` and refuses floats, ext and the never-used byte c1. */
static int mp__header(const uint8_t *buf, size_t len, size_t p, int canonical,
                      struct mp__hdr *h, struct agah_why *why)
{
    uint8_t b = buf[p];
    size_t avail = len - p - 1; /* bytes after the type byte */
    size_t n = 0;                /* width of the length/value that follows */
    uint64_t v;
    enum { K_UINT, K_INT, K_STR, K_BIN, K_ARRAY, K_MAP } kind;

    memset(h, 0, sizeof *h);
    h->hlen = 1;
    if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3)
        return 0; /* fixint, nil, false, true: the byte is the whole object */
    if ((b & 0xe0) == 0xa0) {
        h->body = b & 0x1f;
        return 0;
    }
    if ((b & 0xf0) == 0x90 || (b & 0xf0) == 0x80) {
        h->container = 1;
        h->children = (uint64_t)(b & 0x0f) * ((b & 0xf0) == 0x80 ? 2 : 1);
        return 0;
    }
    switch (b) {
    case 0xcc: kind = K_UINT; n = 1; break;
    case 0xcd: kind = K_UINT; n = 2; break;
    case 0xce: kind = K_UINT; n = 4; break;
    case 0xcf: kind = K_UINT; n = 8; break;
    case 0xd0: kind = K_INT; n = 1; break;
    case 0xd1: kind = K_INT; n = 2; break;
    case 0xd2: kind = K_INT; n = 4; break;
    case 0xd3: kind = K_INT; n = 8; break;
    case 0xd9: kind = K_STR; n = 1; break;
    case 0xda: kind = K_STR; n = 2; break;
    case 0xdb: kind = K_STR; n = 4; break;
    case 0xc4: kind = K_BIN; n = 1; break;
    case 0xc5: kind = K_BIN; n = 2; break;
    case 0xc6: kind = K_BIN; n = 4; break;
    case 0xdc: kind = K_ARRAY; n = 2; break;
    case 0xdd: kind = K_ARRAY; n = 4; break;
    case 0xde: kind = K_MAP; n = 2; break;
    case 0xdf: kind = K_MAP; n = 4; break;
    case 0xca: case 0xcb:
        return agah_fail(why, AGAH_ETYPE, "offset %zu: floats are not accepted", p);
    case 0xc1:
        return agah_fail(why, AGAH_ETYPE, "offset %zu: byte c1 is never used in msgpack", p);
    default: /* c7-c9, d4-d8: ext types */
        return agah_fail(why, AGAH_ETYPE, "offset %zu: ext types are not accepted", p);
    }
    if (avail < n)
        return agah_fail(why, AGAH_ETRUNC, "offset %zu: input ends inside a header", p);
    v = mp__be(buf + p + 1, n);
    h->hlen = 1 + n;
    switch (kind) {
    case K_UINT:
        /* Shortest form: fixint below 128, then 1, 2, 4, 8 bytes. */
        if (canonical && (n == 1 ? v < 0x80 : v < (UINT64_C(1) << (4 * n))))
            goto noncanon;
        break;
    case K_INT: {
        /* Non-negative values must be packed unsigned; negative ones in the
         * narrowest signed form (fixint covers -32..-1). */
        int64_t s;
        uint64_t sign = UINT64_C(1) << (8 * n - 1);
        s = (v & sign) ? (int64_t)(v - sign) - (int64_t)(sign - 1) - 1 : (int64_t)v;
        if (canonical && (s >= 0 || (n == 1 && s >= -32) ||
                          (n > 1 && s >= -(int64_t)(UINT64_C(1) << (4 * n - 1)))))
            goto noncanon;
        break;
    }
    case K_STR:
    case K_BIN:
        h->body = v;
        /* str has a fix form below 32; bin starts at bin8. */
        if (canonical && ((n == 1 && kind == K_STR && v < 32) ||
                          (n == 2 && v < 0x100) || (n == 4 && v < 0x10000)))
            goto noncanon;
        break;
    case K_ARRAY:
    case K_MAP:
        h->container = 1;
        h->children = kind == K_MAP ? 2 * v : v;
        if (canonical && ((n == 2 && v < 16) || (n == 4 && v < 0x10000)))
            goto noncanon;
        break;
    }
    return 0;
noncanon:
    return agah_fail(why, AGAH_ENONCANON,
                     "offset %zu: value not in its shortest msgpack encoding", p);
}

int agah_mp_prescan(const uint8_t *buf, size_t len, int canonical, struct agah_why *why)
{
    /* remaining[d] = objects still expected inside the d-th open container;
     * `pending` is their sum plus the root while it is unread. */
    uint64_t remaining[AGAH_MP_MAX_DEPTH];
    size_t depth = 0, p = 0;
    uint64_t pending = 1;
    struct mp__hdr h;
    int r;

    if (buf == NULL || len == 0)
        return agah_fail(why, AGAH_ETRUNC, "empty input");
    while (pending > 0) {
        if (p >= len)
            return agah_fail(why, AGAH_ETRUNC,
                             "input ends with %llu object(s) still expected",
                             (unsigned long long)pending);
        if ((r = mp__header(buf, len, p, canonical, &h, why)) != 0)
            return r;
        /* A body longer than the whole input is a lie or an oversized
         * object; one that merely runs past the end is a truncation. */
        if (h.body > len - p - h.hlen)
            return agah_fail(why, h.body > len ? AGAH_ETOOBIG : AGAH_ETRUNC,
                             "offset %zu: a body of %llu bytes does not fit in the %zu "
                             "bytes left", p, (unsigned long long)h.body,
                             len - p - h.hlen);
        pending--;
        if (depth > 0)
            remaining[depth - 1]--;
        if (h.container && depth >= AGAH_MP_MAX_DEPTH)
            return agah_fail(why, AGAH_ETOOBIG, "offset %zu: nested deeper than %d", p,
                             AGAH_MP_MAX_DEPTH);
        p += h.hlen + (size_t)h.body;
        if (h.container && h.children > 0) {
            /* Every expected object takes at least one byte, so the count
             * is checked against what remains before anything is sized
             * from it. */
            if (h.children > len - p || pending + h.children > len - p)
                return agah_fail(why, h.children > len ? AGAH_ETOOBIG : AGAH_ETRUNC,
                                 "offset %zu: %llu objects announced, only %zu bytes left",
                                 p - h.hlen, (unsigned long long)h.children, len - p);
            remaining[depth++] = h.children;
            pending += h.children;
        }
        while (depth > 0 && remaining[depth - 1] == 0)
            depth--;
    }
    if (p != len)
        return agah_fail(why, AGAH_ETRAILING, "%zu bytes follow the object", len - p);
    return 0;
}

int agah_mp_unpack(const uint8_t *buf, size_t len, int canonical, msgpack_unpacked *res,
                   struct agah_why *why)
{
    size_t off = 0;
    msgpack_unpack_return ur;
    int r;

    if ((r = agah_mp_prescan(buf, len, canonical, why)) != 0)
        return r;
    ur = msgpack_unpack_next(res, (const char *)buf, len, &off);
    if (ur == MSGPACK_UNPACK_NOMEM_ERROR)
        return agah_fail(why, AGAH_ENOMEM, "out of memory unpacking msgpack");
    /* The prescan accepted it, so anything but a whole object is a
     * disagreement between the two parsers: refuse rather than guess. */
    if (ur != MSGPACK_UNPACK_SUCCESS || off != len)
        return agah_fail(why, AGAH_EINTERNAL, "msgpack-c disagrees with the prescan");
    return 0;
}

static const char *mp__type_name(const msgpack_object *o)
{
    switch (o->type) {
    case MSGPACK_OBJECT_NIL: return "nil";
    case MSGPACK_OBJECT_BOOLEAN: return "bool";
    case MSGPACK_OBJECT_POSITIVE_INTEGER: return "unsigned integer";
    case MSGPACK_OBJECT_NEGATIVE_INTEGER: return "negative integer";
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64: return "float";
    case MSGPACK_OBJECT_STR: return "str";
    case MSGPACK_OBJECT_ARRAY: return "array";
    case MSGPACK_OBJECT_MAP: return "map";
    case MSGPACK_OBJECT_BIN: return "bin";
    case MSGPACK_OBJECT_EXT: return "ext";
    default: return "unknown";
    }
}

int agah_mp_uint(const msgpack_object *o, const char *what, uint64_t max, uint64_t *out,
                 struct agah_why *why)
{
    if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return agah_fail(why, AGAH_ETYPE, "%s: expected an unsigned integer, got %s", what,
                         mp__type_name(o));
    if (o->via.u64 > max)
        return agah_fail(why, AGAH_EVALUE, "%s: %llu is above the maximum %llu", what,
                         (unsigned long long)o->via.u64, (unsigned long long)max);
    *out = o->via.u64;
    return 0;
}

int agah_mp_bin_exact(const msgpack_object *o, const char *what, size_t n, uint8_t *out,
                      struct agah_why *why)
{
    if (o->type != MSGPACK_OBJECT_BIN)
        return agah_fail(why, AGAH_ETYPE, "%s: expected bin of %zu bytes, got %s", what, n,
                         mp__type_name(o));
    if (o->via.bin.size != n)
        return agah_fail(why, AGAH_ETYPE, "%s: expected bin of %zu bytes, got %u bytes", what,
                         n, (unsigned)o->via.bin.size);
    if (n > 0)
        memcpy(out, o->via.bin.ptr, n);
    return 0;
}

int agah_mp_bin(const msgpack_object *o, const char *what, size_t max, const uint8_t **p,
                size_t *n, struct agah_why *why)
{
    if (o->type != MSGPACK_OBJECT_BIN)
        return agah_fail(why, AGAH_ETYPE, "%s: expected bin, got %s", what, mp__type_name(o));
    if (o->via.bin.size > max)
        return agah_fail(why, AGAH_ETOOBIG, "%s: %u bytes, at most %zu allowed", what,
                         (unsigned)o->via.bin.size, max);
    /* msgpack-c gives NULL for an empty body; callers get a valid pointer. */
    *p = o->via.bin.size > 0 ? (const uint8_t *)o->via.bin.ptr : (const uint8_t *)"";
    *n = o->via.bin.size;
    return 0;
}

/* Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above
 * U+10FFFF, and no NUL, which C strings could not carry. Returns the offset
 * of the first bad byte, or len when all is well. */
static size_t mp__utf8_bad(const uint8_t *s, size_t len)
{
    size_t i = 0;

    while (i < len) {
        uint32_t cp;
        size_t n;

        if (s[i] == 0 || (n = agah_utf8_decode(s + i, len - i, &cp)) == 0)
            return i;
        i += n;
    }
    return len;
}

int agah_mp_utf8_ok(const char *s, size_t len)
{
    return mp__utf8_bad((const uint8_t *)s, len) == len;
}

int agah_mp_str(const msgpack_object *o, const char *what, size_t max, const char **p,
                size_t *n, struct agah_why *why)
{
    size_t bad;

    if (o->type != MSGPACK_OBJECT_STR)
        return agah_fail(why, AGAH_ETYPE, "%s: expected str, got %s", what, mp__type_name(o));
    if (o->via.str.size > max)
        return agah_fail(why, AGAH_ETOOBIG, "%s: %u bytes, at most %zu allowed", what,
                         (unsigned)o->via.str.size, max);
    bad = mp__utf8_bad((const uint8_t *)o->via.str.ptr, o->via.str.size);
    if (bad != o->via.str.size)
        return agah_fail(why, AGAH_EVALUE, "%s: %s at byte %zu", what,
                         o->via.str.ptr[bad] == '\0' ? "NUL character" : "invalid UTF-8",
                         bad);
    *p = o->via.str.size > 0 ? o->via.str.ptr : "";
    *n = o->via.str.size;
    return 0;
}

int agah_mp_array(const msgpack_object *o, const char *what, size_t n_exact,
                  struct agah_why *why)
{
    if (o->type != MSGPACK_OBJECT_ARRAY)
        return agah_fail(why, AGAH_ETYPE, "%s: expected an array, got %s", what,
                         mp__type_name(o));
    if (o->via.array.size != n_exact)
        return agah_fail(why, AGAH_EFIELDS, "%s: expected %zu elements, got %u", what,
                         n_exact, (unsigned)o->via.array.size);
    return 0;
}

int agah_mp_fixbuf_write(void *data, const char *buf, size_t len)
{
    struct agah_mp_fixbuf *fb = data;

    if (len > fb->cap - fb->len)
        return -1;
    memcpy(fb->p + fb->len, buf, len);
    fb->len += len;
    return 0;
}

/* Unit tests for the msgpack guards: the allocation-free prescan (bounds,
 * depth, refused types, canonical form at every width boundary), the
 * unpack wrapper, the schema helpers and UTF-8 validation; and agreement
 * with msgpack-c on random inputs and on everything its packer produces. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <agah/mp.h>

#include "check.h"

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    for (const char *h = hex; *h != '\0';) {
        unsigned v;
        if (*h == ' ') {
            h++;
            continue;
        }
        if (n >= cap || sscanf(h, "%2x", &v) != 1)
            abort();
        out[n++] = (uint8_t)v;
        h += 2;
    }
    return n;
}

static int scan(const char *hex, int canonical)
{
    uint8_t b[4096];
    struct agah_why why;
    size_t n = unhex(hex, b, sizeof b);
    memset(&why, 0, sizeof why);
    int r = agah_mp_prescan(b, n, canonical, &why);
    if (r != 0 && why.msg[0] == '\0')
        return 999; /* every failure must say why */
    return r;
}

static void test_prescan_table(void)
{
    static const struct { const char *hex; int canon, noncanon; } t[] = {
        /* unsigned integers at every width boundary */
        {"00", 0, 0}, {"7f", 0, 0},
        {"cc 7f", AGAH_ENONCANON, 0}, {"cc 80", 0, 0}, {"cc ff", 0, 0},
        {"cd 00 ff", AGAH_ENONCANON, 0}, {"cd 01 00", 0, 0},
        {"ce 00 00 ff ff", AGAH_ENONCANON, 0}, {"ce 00 01 00 00", 0, 0},
        {"cf 00 00 00 00 ff ff ff ff", AGAH_ENONCANON, 0},
        {"cf 00 00 00 01 00 00 00 00", 0, 0},
        {"cf ff ff ff ff ff ff ff ff", 0, 0},
        /* signed integers: non-negative values belong to the unsigned forms */
        {"e0", 0, 0}, {"ff", 0, 0},
        {"d0 e0", AGAH_ENONCANON, 0}, {"d0 df", 0, 0}, {"d0 05", AGAH_ENONCANON, 0},
        {"d1 ff 80", AGAH_ENONCANON, 0}, {"d1 ff 7f", 0, 0}, {"d1 00 05", AGAH_ENONCANON, 0},
        {"d2 ff ff 80 00", AGAH_ENONCANON, 0}, {"d2 ff ff 7f ff", 0, 0},
        {"d3 ff ff ff ff 80 00 00 00", AGAH_ENONCANON, 0},
        {"d3 ff ff ff ff 7f ff ff ff", 0, 0},
        {"d3 80 00 00 00 00 00 00 00", 0, 0},
        {"d3 00 00 00 00 00 00 00 01", AGAH_ENONCANON, 0},
        /* nil, bools */
        {"c0", 0, 0}, {"c2", 0, 0}, {"c3", 0, 0},
        /* refused outright */
        {"c1", AGAH_ETYPE, AGAH_ETYPE},
        {"ca 00 00 00 00", AGAH_ETYPE, AGAH_ETYPE},
        {"cb 00 00 00 00 00 00 00 00", AGAH_ETYPE, AGAH_ETYPE},
        {"d4 01 00", AGAH_ETYPE, AGAH_ETYPE}, {"d8 01", AGAH_ETYPE, AGAH_ETYPE},
        {"c7 00 01", AGAH_ETYPE, AGAH_ETYPE},
        /* strings */
        {"a0", 0, 0}, {"a1 41", 0, 0}, {"a2 41", AGAH_ETRUNC, AGAH_ETRUNC},
        {"d9 01 41", AGAH_ENONCANON, 0}, {"d9 00", AGAH_ENONCANON, 0},
        {"da 00 01 41", AGAH_ENONCANON, 0},
        {"db 00 00 00 01 41", AGAH_ENONCANON, 0},
        {"db ff ff ff ff", AGAH_ETOOBIG, AGAH_ETOOBIG},
        {"d9 05 41 41", AGAH_ENONCANON, AGAH_ETOOBIG},
        {"d9 03 41 41", AGAH_ENONCANON, AGAH_ETRUNC},
        {"d9 30 41 41", AGAH_ETOOBIG, AGAH_ETOOBIG},
        {"d9", AGAH_ETRUNC, AGAH_ETRUNC},
        /* bin: bin8 is canonical for every length below 256 */
        {"c4 00", 0, 0}, {"c4 01 00", 0, 0},
        {"c5 00 01 00", AGAH_ENONCANON, 0},
        {"c6 00 00 00 00", AGAH_ENONCANON, 0},
        {"c6 ff ff ff ff", AGAH_ETOOBIG, AGAH_ETOOBIG},
        {"c5 ff", AGAH_ETRUNC, AGAH_ETRUNC},
        /* arrays and maps */
        {"90", 0, 0}, {"91 c0", 0, 0}, {"92 c0", AGAH_ETRUNC, AGAH_ETRUNC},
        {"dc 00 01 c0", AGAH_ENONCANON, 0}, {"dc 00 00", AGAH_ENONCANON, 0},
        {"dd 00 00 00 01 c0", AGAH_ENONCANON, 0},
        {"dd ff ff ff ff", AGAH_ETOOBIG, AGAH_ETOOBIG},
        {"dc ff ff", AGAH_ETOOBIG, AGAH_ETOOBIG},
        {"dd 00 10 00 00", AGAH_ETOOBIG, AGAH_ETOOBIG},
        {"80", 0, 0}, {"81 01 02", 0, 0}, {"81 01", AGAH_ETRUNC, AGAH_ETRUNC},
        {"de 00 01 01 02", AGAH_ENONCANON, 0},
        {"df ff ff ff ff", AGAH_ETOOBIG, AGAH_ETOOBIG},
        /* a count that fits the input but not what is left after nesting */
        {"92 93 c0 c0 c0", AGAH_ETRUNC, AGAH_ETRUNC},
        {"92 92 c0 c0 c0", 0, 0},
        /* trailing bytes and empty input */
        {"c0 c0", AGAH_ETRAILING, AGAH_ETRAILING},
        {"90 00", AGAH_ETRAILING, AGAH_ETRAILING},
        {"", AGAH_ETRUNC, AGAH_ETRUNC},
        /* depth: 8 nested containers pass, 9 do not */
        {"91 91 91 91 91 91 91 90", 0, 0},
        {"91 91 91 91 91 91 91 91 90", AGAH_ETOOBIG, AGAH_ETOOBIG},
        {"91 91 91 91 91 91 91 91 91 90", AGAH_ETOOBIG, AGAH_ETOOBIG},
        {"81 01 91 91 91 91 91 91 91 80", AGAH_ETOOBIG, AGAH_ETOOBIG},
        {"92 91 91 91 91 91 91 90 91 91 91 91 91 91 90", 0, 0},
        /* depth is per path, not cumulative */
        {"93 91 91 90 91 91 90 91 91 90", 0, 0},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        int c = scan(t[i].hex, 1), nc = scan(t[i].hex, 0);
        if (c != t[i].canon || nc != t[i].noncanon)
            fprintf(stderr, "prescan '%s': canonical %d (want %d), lax %d (want %d)\n",
                    t[i].hex, c, t[i].canon, nc, t[i].noncanon);
        CHECK(c == t[i].canon);
        CHECK(nc == t[i].noncanon);
    }
    CHECK(agah_mp_prescan(NULL, 0, 1, NULL) == AGAH_ETRUNC);
}

/* Whatever msgpack-c's packer writes for values is canonical to us. */
static void test_packer_is_canonical(void)
{
    static const uint64_t us[] = {0, 1, 127, 128, 255, 256, 65535, 65536, 0xffffffffu,
                                  0x100000000ull, UINT64_MAX};
    static const int64_t ss[] = {-1, -32, -33, -128, -129, -32768, -32769, INT32_MIN,
                                 (int64_t)INT32_MIN - 1, INT64_MIN};
    static const size_t lens[] = {0, 1, 15, 16, 31, 32, 255, 256, 65535, 65536};
    static uint8_t body[70000];
    msgpack_sbuffer sb;
    msgpack_packer pk;
    int bad = 0;

    for (size_t i = 0; i < sizeof us / sizeof us[0]; i++) {
        msgpack_sbuffer_init(&sb);
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        CHECK(msgpack_pack_uint64(&pk, us[i]) == 0);
        bad += agah_mp_prescan((uint8_t *)sb.data, sb.size, 1, NULL) != 0;
        msgpack_sbuffer_destroy(&sb);
    }
    for (size_t i = 0; i < sizeof ss / sizeof ss[0]; i++) {
        msgpack_sbuffer_init(&sb);
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        CHECK(msgpack_pack_int64(&pk, ss[i]) == 0);
        bad += agah_mp_prescan((uint8_t *)sb.data, sb.size, 1, NULL) != 0;
        msgpack_sbuffer_destroy(&sb);
    }
    memset(body, 'a', sizeof body);
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        for (int kind = 0; kind < 3; kind++) {
            msgpack_sbuffer_init(&sb);
            msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
            if (kind == 0) {
                CHECK(msgpack_pack_str_with_body(&pk, body, lens[i]) == 0);
            } else if (kind == 1) {
                CHECK(msgpack_pack_bin_with_body(&pk, body, lens[i]) == 0);
            } else {
                int perr = msgpack_pack_array(&pk, lens[i]) != 0;
                for (size_t k = 0; k < lens[i]; k++)
                    perr += msgpack_pack_nil(&pk) != 0;
                CHECK(perr == 0);
            }
            int r = agah_mp_prescan((uint8_t *)sb.data, sb.size, 1, NULL);
            if (r != 0)
                fprintf(stderr, "packer kind %d len %zu: %d\n", kind, lens[i], r);
            bad += r != 0;
            msgpack_sbuffer_destroy(&sb);
        }
    }
    CHECK(bad == 0);
}

static void test_unpack_and_schema(void)
{
    uint8_t b[256], k[4];
    msgpack_unpacked res;
    struct agah_why why;
    uint64_t u;
    const uint8_t *bp;
    const char *sp;
    size_t n;

    /* [5, "héllo", bin(4), -3, nil, [1,2]] */
    size_t len = unhex("96 05 a6 68 c3 a9 6c 6c 6f c4 04 01 02 03 04 fd c0 92 01 02", b, sizeof b);
    msgpack_unpacked_init(&res);
    CHECK(agah_mp_unpack(b, len, 1, &res, &why) == 0);
    const msgpack_object *f = res.data.via.array.ptr;
    CHECK(agah_mp_array(&res.data, "root", 6, &why) == 0);
    CHECK(agah_mp_array(&res.data, "root", 5, &why) == AGAH_EFIELDS);
    CHECK(agah_mp_array(&f[0], "x", 1, &why) == AGAH_ETYPE);
    CHECK(agah_mp_uint(&f[0], "x", 5, &u, &why) == 0 && u == 5);
    CHECK(agah_mp_uint(&f[0], "x", 4, &u, &why) == AGAH_EVALUE);
    CHECK(strstr(why.msg, "x") != NULL);
    CHECK(agah_mp_uint(&f[3], "neg", 100, &u, &why) == AGAH_ETYPE);
    CHECK(strstr(why.msg, "negative") != NULL);
    CHECK(agah_mp_uint(&f[4], "nil", 100, &u, &why) == AGAH_ETYPE);
    CHECK(agah_mp_str(&f[1], "s", 6, &sp, &n, &why) == 0 && n == 6);
    /* Strings point into the caller's buffer, not into a copy. */
    CHECK((const uint8_t *)sp == b + 3);
    CHECK(agah_mp_str(&f[1], "s", 5, &sp, &n, &why) == AGAH_ETOOBIG);
    CHECK(agah_mp_str(&f[2], "s", 6, &sp, &n, &why) == AGAH_ETYPE);
    CHECK(agah_mp_bin(&f[2], "b", 4, &bp, &n, &why) == 0 && n == 4 && bp == b + 11);
    CHECK(agah_mp_bin(&f[2], "b", 3, &bp, &n, &why) == AGAH_ETOOBIG);
    CHECK(agah_mp_bin(&f[1], "b", 9, &bp, &n, &why) == AGAH_ETYPE);
    CHECK(agah_mp_bin_exact(&f[2], "b", 4, k, &why) == 0 && k[3] == 4);
    CHECK(agah_mp_bin_exact(&f[2], "b", 5, k, &why) == AGAH_ETYPE);
    CHECK(agah_mp_bin_exact(&f[0], "b", 4, k, &why) == AGAH_ETYPE);
    msgpack_unpacked_destroy(&res);

    /* The wrapper refuses what the prescan refuses, before unpacking. */
    static const char *refused[] = {"dd ff ff ff ff", "cc 05", "c0 c0", "ca 00 00 00 00", ""};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        len = unhex(refused[i], b, sizeof b);
        msgpack_unpacked_init(&res);
        CHECK(agah_mp_unpack(b, len, 1, &res, &why) != 0);
        msgpack_unpacked_destroy(&res);
    }
    /* Non-canonical input passes when canonical is off. */
    len = unhex("92 cc 05 d9 01 41", b, sizeof b);
    msgpack_unpacked_init(&res);
    CHECK(agah_mp_unpack(b, len, 0, &res, &why) == 0);
    CHECK(res.data.via.array.ptr[0].via.u64 == 5);
    msgpack_unpacked_destroy(&res);
    msgpack_unpacked_init(&res);
    CHECK(agah_mp_unpack(b, len, 1, &res, &why) == AGAH_ENONCANON);
    msgpack_unpacked_destroy(&res);

    /* A full input of small objects: allocation stays bounded by len. */
    static uint8_t big[65536];
    big[0] = 0xdc;
    big[1] = 0xff;
    big[2] = 0xfc;
    memset(big + 3, 0xc0, sizeof big - 3);
    msgpack_unpacked_init(&res);
    CHECK(agah_mp_unpack(big, 3 + 0xfffc, 1, &res, &why) == 0);
    CHECK(res.data.via.array.size == 0xfffc);
    msgpack_unpacked_destroy(&res);
}

static void test_utf8(void)
{
    static const struct { const char *hex; int ok; } t[] = {
        {"", 1}, {"41", 1}, {"c3 a9", 1}, {"e2 82 ac", 1}, {"f0 9f 98 80", 1},
        {"f4 8f bf bf", 1}, {"d8 a6 d8 a7", 1}, {"ef bb bf", 1},
        {"00", 0}, {"41 00", 0}, {"80", 0}, {"bf", 0}, {"c0 80", 0}, {"c1 bf", 0},
        {"c3", 0}, {"c3 41", 0}, {"e0 80 80", 0}, {"e0 9f bf", 0}, {"ed a0 80", 0},
        {"ed bf bf", 0}, {"f0 80 80 80", 0}, {"f0 8f bf bf", 0}, {"f4 90 80 80", 0},
        {"f5 80 80 80", 0}, {"ff", 0}, {"fe", 0}, {"e2 82", 0}, {"f0 9f 98", 0},
        {"e2 28 a1", 0},
    };
    uint8_t b[16];
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        size_t n = unhex(t[i].hex, b, sizeof b);
        int ok = agah_mp_utf8_ok((const char *)b, n);
        if (ok != t[i].ok)
            fprintf(stderr, "utf8 '%s': %d, want %d\n", t[i].hex, ok, t[i].ok);
        CHECK(ok == t[i].ok);
    }
}

/* On random bytes the prescan and msgpack-c must agree: whatever the
 * prescan accepts, msgpack-c unpacks whole. */
static void test_random_agreement(void)
{
    uint8_t b[64];
    uint8_t seed[randombytes_SEEDBYTES] = {7};
    static uint8_t stream[64 * 20000];
    int accepted = 0, disagree = 0;

    randombytes_buf_deterministic(stream, sizeof stream, seed);
    for (size_t i = 0; i < 20000; i++) {
        size_t len = 1 + stream[i * 64] % 24;
        memcpy(b, stream + i * 64 + 1, len);
        /* Bias toward small headers so nested objects appear. */
        for (size_t k = 0; k < len; k++)
            if (b[k] & 0x40)
                b[k] &= 0x9f;
        for (int canonical = 0; canonical < 2; canonical++) {
            if (agah_mp_prescan(b, len, canonical, NULL) != 0)
                continue;
            accepted++;
            msgpack_unpacked res;
            size_t off = 0;
            msgpack_unpacked_init(&res);
            if (msgpack_unpack_next(&res, (const char *)b, len, &off) != MSGPACK_UNPACK_SUCCESS ||
                off != len)
                disagree++;
            msgpack_unpacked_destroy(&res);
        }
    }
    CHECK(accepted > 100);
    CHECK(disagree == 0);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    test_prescan_table();
    test_packer_is_canonical();
    test_unpack_and_schema();
    test_utf8();
    test_random_agreement();
    printf("test_mp: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}

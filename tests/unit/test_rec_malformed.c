/* Unit tests of the record decoder against malformed input: a table of
 * hand-made admissions, truncations and raw non-records, then genesis,
 * revocation and epoch shapes, each with the exact error code expected. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <agah/keys.h>
#include <agah/mp.h>
#include <agah/record.h>

#include "check.h"
#include "rec_fixture.h"

/* ------------------------------------------------------------------ */
/* Malformed inputs, each with the exact code expected.                */

/* Builds an admission record with one part replaced by raw hex. */
struct adm {
    const char *hdr, *ver, *type, *comm, *author, *created, *expires, *member, *role, *name;
    const char *extra; /* appended before the signature */
    int omit_name;
    int signer; /* 0 author, 1 another key, 2 no signature, 3 zero signature */
};

static void hex_of(char *out, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", p[i]);
}

static void build_adm(struct tb *t, const struct adm *a)
{
    char comm[80] = "c420", auth[80] = "c420", mem[80] = "c420";

    hex_of(comm + 4, community, 32);
    hex_of(auth + 4, agah_identity_pk(founder), 32);
    hex_of(mem + 4, agah_identity_pk(member), 32);
    t->n = 0;
    tb_hex(t, a->hdr ? a->hdr : (a->omit_name ? "99" : "9a"));
    tb_hex(t, a->ver ? a->ver : "03");
    tb_hex(t, a->type ? a->type : "02");
    tb_hex(t, a->comm ? a->comm : comm);
    tb_hex(t, a->author ? a->author : auth);
    tb_hex(t, a->created ? a->created : "ce 65 53 f1 00");
    tb_hex(t, a->expires ? a->expires : "00");
    tb_hex(t, a->member ? a->member : mem);
    tb_hex(t, a->role ? a->role : "01");
    if (!a->omit_name)
        tb_hex(t, a->name ? a->name : "90");
    if (a->extra)
        tb_hex(t, a->extra);
    if (a->signer == 0)
        tb_sign(t, founder);
    else if (a->signer == 1)
        tb_sign(t, outsider);
    else if (a->signer == 3)
        tb_hex(t, "c440 00000000000000000000000000000000000000000000000000000000000000000000"
                  "000000000000000000000000000000000000000000000000000000000000");
}

static void test_malformed_admission(void)
{
    static const struct {
        const char *name;
        struct adm a;
        int want;
    } cases[] = {
        {"valid", {0}, 0},
        {"version 2 (names in clear)", {.ver = "02"}, AGAH_EVERSION},
        {"version 1 (before keep lists)", {.ver = "01"}, AGAH_EVERSION},
        {"version 0", {.ver = "00"}, AGAH_EVERSION},
        {"version as str", {.ver = "a1 31"}, AGAH_ETYPE},
        {"version non-canonical cc 01", {.ver = "cc 01"}, AGAH_ENONCANON},
        {"type 8", {.type = "08"}, AGAH_EVERSION},
        {"type 0", {.type = "00"}, AGAH_EVERSION},
        {"type huge", {.type = "cf 01 00 00 00 00 00 00 02"}, AGAH_EVERSION},
        {"type genesis with admission shape", {.type = "01"}, AGAH_EFIELDS},
        {"type as negative int", {.type = "ff"}, AGAH_ETYPE},
        {"array header non-canonical dc 00 0a", {.hdr = "dc 00 0a"}, AGAH_ENONCANON},
        {"extra field", {.hdr = "9b", .extra = "c0"}, AGAH_EFIELDS},
        {"missing field", {.omit_name = 1}, AGAH_EFIELDS},
        {"header says 11, 10 present", {.hdr = "9b"}, AGAH_ETRUNC},
        {"header says 9, 10 present", {.hdr = "99"}, AGAH_ETRAILING},
        {"community as str", {.comm = "a3 61 62 63"}, AGAH_ETYPE},
        {"community bin31", {.comm = "c41f 00000000000000000000000000000000000000000000000000000000000000"}, AGAH_ETYPE},
        {"community bin16 form", {.comm = "c5 0020 0101010101010101010101010101010101010101010101010101010101010101"}, AGAH_ENONCANON},
        {"community all zero", {.comm = "c420 0000000000000000000000000000000000000000000000000000000000000000"}, AGAH_EVALUE},
        {"author as nil", {.author = "c0"}, AGAH_ETYPE},
        {"created float64", {.created = "cb 41 d9 54 fc 40 00 00 00"}, AGAH_ETYPE},
        {"created float32", {.created = "ca 4e ca a7 e2"}, AGAH_ETYPE},
        {"created negative", {.created = "ff"}, AGAH_ETYPE},
        {"created int8 positive d0 05", {.created = "d0 05"}, AGAH_ENONCANON},
        {"created uint64 small cf", {.created = "cf 00 00 00 00 65 53 f1 00"}, AGAH_ENONCANON},
        {"created uint8 small cc 05", {.created = "cc 05"}, AGAH_ENONCANON},
        {"created bool", {.created = "c3"}, AGAH_ETYPE},
        {"created ext", {.created = "d4 01 00"}, AGAH_ETYPE},
        {"created byte c1", {.created = "c1"}, AGAH_ETYPE},
        {"created as map", {.created = "81 01 02"}, AGAH_ETYPE},
        {"expires before created", {.expires = "01"}, AGAH_EVALUE},
        {"expires equal created", {.expires = "ce 65 53 f1 00"}, AGAH_EVALUE},
        {"member as str", {.member = "a1 78"}, AGAH_ETYPE},
        {"role 3", {.role = "03"}, AGAH_EVALUE},
        {"role 127", {.role = "7f"}, AGAH_EVALUE},
        {"role nil", {.role = "c0"}, AGAH_ETYPE},
        {"role str", {.role = "a6 6d 65 6d 62 65 72"}, AGAH_ETYPE},
        /* Version 3: the name is [] or [epoch, nonce, ct], never a str. */
        {"name as str (version 2 shape)", {.name = "a3 62 6f 62"}, AGAH_ETYPE},
        {"name as bin", {.name = "c4 03 62 6f 62"}, AGAH_ETYPE},
        {"name encrypted", {.name = "93 c420 1111111111111111111111111111111111111111111111111111111111111111 c418 222222222222222222222222222222222222222222222222 c460 333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333"}, 0},
        {"name array of 2", {.name = "92 c420 1111111111111111111111111111111111111111111111111111111111111111 c418 222222222222222222222222222222222222222222222222"}, AGAH_EFIELDS},
        {"name array of 4", {.name = "94 c420 1111111111111111111111111111111111111111111111111111111111111111 c418 222222222222222222222222222222222222222222222222 c460 333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333 c0"}, AGAH_EFIELDS},
        {"name epoch all zero", {.name = "93 c420 0000000000000000000000000000000000000000000000000000000000000000 c418 222222222222222222222222222222222222222222222222 c460 333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333"}, AGAH_EVALUE},
        {"name epoch bin31", {.name = "93 c41f 11111111111111111111111111111111111111111111111111111111111111 c418 222222222222222222222222222222222222222222222222 c460 333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333"}, AGAH_ETYPE},
        {"name nonce bin23", {.name = "93 c420 1111111111111111111111111111111111111111111111111111111111111111 c417 2222222222222222222222222222222222222222222222 c460 333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333"}, AGAH_ETYPE},
        {"name ct 95 bytes (not padded)", {.name = "93 c420 1111111111111111111111111111111111111111111111111111111111111111 c418 222222222222222222222222222222222222222222222222 c45f 3333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333"}, AGAH_ETYPE},
        {"name ct 97 bytes (not padded)", {.name = "93 c420 1111111111111111111111111111111111111111111111111111111111111111 c418 222222222222222222222222222222222222222222222222 c461 33333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333"}, AGAH_ETYPE},
        {"name ct 80 bytes (a note's size)", {.name = "93 c420 1111111111111111111111111111111111111111111111111111111111111111 c418 222222222222222222222222222222222222222222222222 c450 3333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333"}, AGAH_ETYPE},
        {"name ct as str", {.name = "93 c420 1111111111111111111111111111111111111111111111111111111111111111 c418 222222222222222222222222222222222222222222222222 a3 62 6f 62"}, AGAH_ETYPE},
        {"name str8 for short", {.name = "d9 03 62 6f 62"}, AGAH_ENONCANON},
        {"name str32 claiming 4 GiB", {.name = "db ff ff ff ff"}, AGAH_ETOOBIG},
        {"name nested depth bomb",
         {.name = "91 91 91 91 91 91 91 91 91 91 91 91 91 91 91 91 91 91 91 91 c0"},
         AGAH_ETOOBIG},
        {"signature by another key", {.signer = 1}, AGAH_ESIG},
        {"signature all zero", {.signer = 3}, AGAH_ESIG},
        {"signature missing", {.signer = 2}, AGAH_ETRUNC},
        {"extra bin before the signature", {.hdr = "9b", .extra = "c4 01 00"}, AGAH_EFIELDS},
    };
    struct tb *t = malloc(sizeof *t);
    struct agah_rec r;
    struct agah_why why;
    size_t ncases = sizeof cases / sizeof cases[0];

    for (size_t i = 0; i < ncases; i++) {
        build_adm(t, &cases[i].a);
        int got = dec(t, community, &r, &why);
        CHECK_CASE(got == cases[i].want, cases[i].name, got, cases[i].want);
        if (got != 0)
            CHECK(why.msg[0] != '\0');
    }

    /* Record-level shapes built around a valid admission. */
    build_adm(t, &(struct adm){0});
    uint8_t *valid = malloc(t->n);
    size_t vlen = t->n;
    memcpy(valid, t->d, vlen);
    /* A count or length larger than the whole input is ETOOBIG (it could
     * not fit whatever followed); one that fits the input but runs past
     * its end is ETRUNC. */
    struct { const char *name; size_t cut; int want; } cuts[] = {
        {"truncated to the array header (10 objects > 1 byte)", 1, AGAH_ETOOBIG},
        {"truncated inside community (bin32 > 8 bytes)", 8, AGAH_ETOOBIG},
        {"truncated to 10 bytes", 10, AGAH_ETRUNC},
        {"truncated inside author", 50, AGAH_ETRUNC},
        {"truncated before the signature", vlen - 66, AGAH_ETRUNC},
        {"truncated inside the signature header", vlen - 65, AGAH_ETRUNC},
        {"truncated by one byte", vlen - 1, AGAH_ETRUNC},
    };
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        memset(&why, 0, sizeof why);
        int got = agah_rec_decode(valid, cuts[i].cut, NULL, &r, &why);
        CHECK_CASE(got == cuts[i].want, cuts[i].name, got, cuts[i].want);
    }
    /* Trailing bytes, and two records back to back. */
    t->n = 0;
    tb_raw(t, valid, vlen);
    tb_hex(t, "00");
    CHECK(dec(t, NULL, &r, &why) == AGAH_ETRAILING);
    t->n = 0;
    tb_raw(t, valid, vlen);
    tb_raw(t, valid, vlen);
    CHECK(dec(t, NULL, &r, &why) == AGAH_ETRAILING);
    /* Another community. */
    uint8_t other[32];
    memset(other, 9, sizeof other);
    t->n = 0;
    tb_raw(t, valid, vlen);
    CHECK(dec(t, other, &r, &why) == AGAH_ECOMMUNITY);
    CHECK(dec(t, NULL, &r, &why) == 0);
    free(valid);

    /* Raw oversize claims and non-records. */
    static const struct { const char *name, *hex; int want; } raw[] = {
        {"array32 of 4 billion", "dd ff ff ff ff", AGAH_ETOOBIG},
        {"array32 of 1M", "dd 00 10 00 00 01 02 03", AGAH_ETOOBIG},
        {"array16 of 65535", "dc ff ff", AGAH_ETOOBIG},
        {"map32 of 4 billion", "df ff ff ff ff", AGAH_ETOOBIG},
        {"str32 of 4 GiB", "db ff ff ff ff", AGAH_ETOOBIG},
        {"bin32 of 4 GiB", "c6 ff ff ff ff", AGAH_ETOOBIG},
        {"array header cut", "dd ff ff", AGAH_ETRUNC},
        {"root is a map", "80", AGAH_ETYPE},
        {"root is an int", "01", AGAH_ETYPE},
        {"root is nil", "c0", AGAH_ETYPE},
        {"empty array", "90", AGAH_EFIELDS},
        {"one-element array", "91 01", AGAH_EFIELDS},
        {"version only with type", "92 03 05", AGAH_EFIELDS},
        {"unknown version short", "92 04 05", AGAH_EVERSION},
        {"version 2 short", "92 02 05", AGAH_EVERSION},
        {"float root", "cb 00 00 00 00 00 00 00 00", AGAH_ETYPE},
        {"depth bomb", "91 91 91 91 91 91 91 91 91 91 91 91 91 91 91 91", AGAH_ETOOBIG},
        {"trailing after array", "90 00", AGAH_ETRAILING},
        {"empty", "", AGAH_ETRUNC},
    };
    for (size_t i = 0; i < sizeof raw / sizeof raw[0]; i++) {
        t->n = 0;
        tb_hex(t, raw[i].hex);
        int got = dec(t, NULL, &r, &why);
        CHECK_CASE(got == raw[i].want, raw[i].name, got, raw[i].want);
    }
    /* Longer than any record may be, whatever it holds. */
    t->n = AGAH_REC_MAX + 1;
    memset(t->d, 0x90, t->n);
    CHECK(dec(t, NULL, &r, &why) == AGAH_ETOOBIG);
    CHECK(agah_rec_decode(NULL, 0, NULL, &r, &why) == AGAH_ETRUNC);
    free(t);
}

/* An encrypted text field [epoch, nonce, ct] of ctlen bytes of ct (the
 * decoder checks sizes, not contents): epoch all zero with zero_epoch. */
static void tb_text(struct tb *t, int zero_epoch, size_t ctlen)
{
    static uint8_t filler[4096];
    uint8_t ep[32], nonce[24];
    memset(ep, zero_epoch ? 0 : 0x11, sizeof ep);
    memset(nonce, 0x22, sizeof nonce);
    memset(filler, 0x33, sizeof filler);
    tb_u8(t, 0x93);
    tb_bin(t, ep, 32);
    tb_bin(t, nonce, 24);
    tb_bin(t, filler, ctlen);
}

/* Genesis, revocation and epoch shapes. */
static void test_malformed_other(void)
{
    struct tb *t = malloc(sizeof *t);
    struct agah_rec r;
    struct agah_why why;
    uint8_t zero[32] = {0}, other[32];

    memset(other, 9, sizeof other);
    /* Genesis: valid, then each way it can be wrong. Its names are one
     * encrypted text under the genesis key (epoch all zero), 144 + 16. */
    t->n = 0;
    tb_common(t, 0x98, AGAH_REC_GENESIS, zero, founder, 1700000000, 0);
    tb_text(t, 1, AGAH_PAD_NAMES + 16);
    tb_sign(t, founder);
    CHECK(dec(t, NULL, &r, &why) == 0);
    uint8_t gid[32];
    memcpy(gid, r.id, 32);
    CHECK(dec(t, gid, &r, &why) == 0);
    CHECK(dec(t, other, &r, &why) == AGAH_ECOMMUNITY);
    t->n = 0;
    tb_common(t, 0x98, AGAH_REC_GENESIS, other, founder, 1700000000, 0);
    tb_text(t, 1, AGAH_PAD_NAMES + 16);
    tb_sign(t, founder);
    CHECK(dec(t, NULL, &r, &why) == AGAH_EVALUE);
    t->n = 0; /* no names: a community needs one */
    tb_common(t, 0x98, AGAH_REC_GENESIS, zero, founder, 1700000000, 0);
    tb_u8(t, 0x90);
    tb_sign(t, founder);
    CHECK(dec(t, NULL, &r, &why) == AGAH_EVALUE);
    t->n = 0; /* names under an epoch, not the genesis key */
    tb_common(t, 0x98, AGAH_REC_GENESIS, zero, founder, 1700000000, 0);
    tb_text(t, 0, AGAH_PAD_NAMES + 16);
    tb_sign(t, founder);
    CHECK(dec(t, NULL, &r, &why) == AGAH_EVALUE);
    t->n = 0; /* names of an admission's size */
    tb_common(t, 0x98, AGAH_REC_GENESIS, zero, founder, 1700000000, 0);
    tb_text(t, 1, AGAH_PAD_NAME + 16);
    tb_sign(t, founder);
    CHECK(dec(t, NULL, &r, &why) == AGAH_ETYPE);
    t->n = 0; /* the version 2 shape: two strs */
    tb_common(t, 0x99, AGAH_REC_GENESIS, zero, founder, 1700000000, 0);
    tb_cstr(t, "name");
    tb_cstr(t, "");
    tb_sign(t, founder);
    CHECK(dec(t, NULL, &r, &why) == AGAH_EFIELDS);
    t->n = 0;
    tb_common(t, 0x98, AGAH_REC_GENESIS, zero, founder, 1700000000, 1800000000);
    tb_text(t, 1, AGAH_PAD_NAMES + 16);
    tb_sign(t, founder);
    CHECK(dec(t, NULL, &r, &why) == AGAH_EVALUE);

    /* Revocation: [member, keep, reason]; expires must be 0, the reason
     * [] or encrypted to a padded size, keep list sorted, unique and at
     * most AGAH_REV_KEEP_MAX ids of 32 bytes. */
    t->n = 0;
    tb_common(t, 0x9a, AGAH_REC_REVOCATION, community, founder, 1700000000, 1800000000);
    tb_bin(t, agah_identity_pk(member), 32);
    tb_u8(t, 0x90);
    tb_u8(t, 0x90);
    tb_sign(t, founder);
    CHECK(dec(t, community, &r, &why) == AGAH_EVALUE);
    {
        static const struct { size_t ct; int want; } rc[] = {
            {80, 0}, {272, 0}, {1040, 0}, {2368, 0}, {96, AGAH_ETYPE}, {2369, AGAH_ETYPE},
            {17, AGAH_ETYPE}, {81, AGAH_ETYPE},
        };
        for (size_t i = 0; i < sizeof rc / sizeof rc[0]; i++) {
            t->n = 0;
            tb_common(t, 0x9a, AGAH_REC_REVOCATION, community, founder, 1700000000, 0);
            tb_bin(t, agah_identity_pk(member), 32);
            tb_u8(t, 0x90);
            tb_text(t, 0, rc[i].ct);
            tb_sign(t, founder);
            int gotr = dec(t, community, &r, &why);
            CHECK_CASE(gotr == rc[i].want, "reason ct size", gotr, rc[i].want);
        }
    }
    t->n = 0; /* a reason in clear (version 2) */
    tb_common(t, 0x9a, AGAH_REC_REVOCATION, community, founder, 1700000000, 0);
    tb_bin(t, agah_identity_pk(member), 32);
    tb_u8(t, 0x90);
    tb_cstr(t, "x");
    tb_sign(t, founder);
    CHECK(dec(t, community, &r, &why) == AGAH_ETYPE);
    t->n = 0;
    tb_common(t, 0x9a, AGAH_REC_REVOCATION, zero, founder, 1700000000, 0);
    tb_bin(t, agah_identity_pk(member), 32);
    tb_u8(t, 0x90);
    tb_u8(t, 0x90);
    tb_sign(t, founder);
    CHECK(dec(t, NULL, &r, &why) == AGAH_EVALUE);
    /* The version-1 shape, without a keep list, is refused. */
    t->n = 0;
    tb_common(t, 0x99, AGAH_REC_REVOCATION, community, founder, 1700000000, 0);
    tb_bin(t, agah_identity_pk(member), 32);
    tb_u8(t, 0x90);
    tb_sign(t, founder);
    CHECK(dec(t, community, &r, &why) == AGAH_EFIELDS);
    {
        static uint8_t ids[AGAH_REV_KEEP_MAX + 1][32];
        struct { const char *name; size_t n; int mode; int want; } kc[] = {
            {"keep empty", 0, 0, 0},
            {"keep 3", 3, 0, 0},
            {"keep max", AGAH_REV_KEEP_MAX, 0, 0},
            {"keep max + 1", AGAH_REV_KEEP_MAX + 1, 0, AGAH_ETOOBIG},
            {"keep unsorted", 3, 1, AGAH_ENONCANON},
            {"keep repeated", 3, 2, AGAH_EFIELDS},
            {"keep bin31", 3, 3, AGAH_ETYPE},
            {"keep a map", 0, 4, AGAH_ETYPE},
        };
        for (size_t i = 0; i <= AGAH_REV_KEEP_MAX; i++) {
            memset(ids[i], 0x5a, 32);
            ids[i][0] = (uint8_t)(i >> 8);
            ids[i][1] = (uint8_t)i;
        }
        for (size_t c = 0; c < sizeof kc / sizeof kc[0]; c++) {
            t->n = 0;
            tb_common(t, 0x9a, AGAH_REC_REVOCATION, community, founder, 1700000000, 0);
            tb_bin(t, agah_identity_pk(member), 32);
            if (kc[c].mode == 4) {
                tb_u8(t, 0x80);
            } else {
                if (kc[c].n < 16) {
                    tb_u8(t, (uint8_t)(0x90 | kc[c].n));
                } else {
                    tb_u8(t, 0xdc);
                    tb_u8(t, (uint8_t)(kc[c].n >> 8));
                    tb_u8(t, (uint8_t)kc[c].n);
                }
                for (size_t i = 0; i < kc[c].n; i++) {
                    size_t k = i;
                    if (kc[c].mode == 1 && i < 2)
                        k = 1 - i;
                    if (kc[c].mode == 2 && i == 2)
                        k = 1;
                    if (kc[c].mode == 3 && i == 2)
                        tb_bin(t, ids[k], 31);
                    else
                        tb_bin(t, ids[k], 32);
                }
            }
            tb_u8(t, 0x90); /* no reason */
            tb_sign(t, founder);
            int got = dec(t, community, &r, &why);
            if (got != kc[c].want)
                fprintf(stderr, "revocation case '%s': got %d, want %d (%s)\n", kc[c].name, got,
                        kc[c].want, why.msg);
            CHECK(got == kc[c].want);
            if (got == 0) {
                CHECK(r.u.revocation.n_keep == kc[c].n);
                CHECK(kc[c].n == 0 || (agah_rec_revocation_keeps(&r, ids[0]) &&
                                       agah_rec_revocation_keeps(&r, ids[kc[c].n - 1])));
                CHECK(!agah_rec_revocation_keeps(&r, ids[AGAH_REV_KEEP_MAX]) ||
                      kc[c].n > AGAH_REV_KEEP_MAX);
                CHECK(t->n <= AGAH_REC_MAX);
            }
        }
    }

    /* Epoch entries: sorted, unique, 1..400, exact shapes. */
    uint8_t keys[402][32], sealed[80];
    for (size_t i = 0; i < 402; i++) {
        memset(keys[i], 0, 32);
        keys[i][0] = (uint8_t)(i >> 8);
        keys[i][1] = (uint8_t)i;
    }
    memset(sealed, 0x33, sizeof sealed);
    struct { const char *name; uint64_t number; size_t n; int mode; int want; } ep[] = {
        {"valid", 1, 3, 0, 0},
        {"unsorted", 1, 3, 1, AGAH_ENONCANON},
        {"duplicate", 1, 3, 2, AGAH_EFIELDS},
        {"no entries", 1, 0, 0, AGAH_EVALUE},
        {"401 entries", 1, 401, 0, AGAH_ETOOBIG},
        {"400 entries", 1, 400, 0, 0},
        {"number 0", 0, 3, 0, AGAH_EVALUE},
        {"sealed bin79", 1, 3, 3, AGAH_ETYPE},
        {"entry of 3 elements", 1, 3, 4, AGAH_EFIELDS},
        {"entry not an array", 1, 3, 5, AGAH_ETYPE},
        {"entries a map", 1, 3, 6, AGAH_ETYPE},
        {"no chain, net or relays field (version 1 shape)", 1, 3, 7, AGAH_EFIELDS},
        {"chain link of 2", 1, 3, 8, AGAH_EFIELDS},
        {"chain link key bin47", 1, 3, 9, AGAH_ETYPE},
        {"chain link to a zero id", 1, 3, 10, AGAH_EVALUE},
        {"chain link a map", 1, 3, 11, AGAH_ETYPE},
        {"chain link", 1, 3, 12, 0},
        {"carried network secret", 1, 3, 13, 0},
        {"network secret bin47", 1, 3, 14, AGAH_ETYPE},
        {"two relays", 1, 3, 15, 0},
        {"a relay that is also a recipient", 1, 3, 16, AGAH_EFIELDS},
        {"relays unsorted", 1, 3, 17, AGAH_ENONCANON},
        {"relays a map", 1, 3, 18, AGAH_ETYPE},
    };
    for (size_t c = 0; c < sizeof ep / sizeof ep[0]; c++) {
        t->n = 0;
        tb_common(t, ep[c].mode == 7 ? 0x99 : 0x9c, AGAH_REC_EPOCH, community, founder,
                  1700000000, 0);
        tb_uint(t, ep[c].number);
        if (ep[c].mode == 6) {
            tb_hex(t, "81 01 02");
        } else {
            if (ep[c].n < 16)
                tb_u8(t, (uint8_t)(0x90 | ep[c].n));
            else {
                tb_u8(t, 0xdc); tb_u8(t, (uint8_t)(ep[c].n >> 8)); tb_u8(t, (uint8_t)ep[c].n);
            }
            for (size_t i = 0; i < ep[c].n; i++) {
                size_t k = i;
                if (ep[c].mode == 1 && i == 1) k = 2;
                if (ep[c].mode == 1 && i == 2) k = 1;
                if (ep[c].mode == 2 && i == 2) k = 1;
                if (ep[c].mode == 5 && i == 1) {
                    tb_bin(t, keys[k], 32);
                    continue;
                }
                tb_u8(t, ep[c].mode == 4 && i == 1 ? 0x93 : 0x92);
                tb_bin(t, keys[k], 32);
                tb_bin(t, sealed, ep[c].mode == 3 && i == 2 ? 79 : 80);
                if (ep[c].mode == 4 && i == 1)
                    tb_u8(t, 0xc0);
            }
        }
        /* The chain link: [] or [prev_id bin32, nonce bin24, ct bin48]. */
        uint8_t nz[48];
        memset(nz, 0x44, sizeof nz);
        switch (ep[c].mode) {
        case 7:
            break;
        case 8:
            tb_u8(t, 0x92);
            tb_bin(t, keys[0] + 0, 32);
            tb_bin(t, nz, 24);
            break;
        case 9:
        case 10:
        case 12:
            tb_u8(t, 0x93);
            if (ep[c].mode == 10)
                tb_bin(t, (const uint8_t[32]){0}, 32);
            else
                tb_bin(t, nz, 32);
            tb_bin(t, nz, 24);
            tb_bin(t, nz, ep[c].mode == 9 ? 47 : 48);
            break;
        case 11:
            tb_hex(t, "80");
            break;
        default:
            tb_u8(t, 0x90);
            break;
        }
        /* The network secret link (same shape), then the relays. */
        if (ep[c].mode == 13 || ep[c].mode == 14) {
            tb_u8(t, 0x93);
            tb_bin(t, nz, 32);
            tb_bin(t, nz, 24);
            tb_bin(t, nz, ep[c].mode == 14 ? 47 : 48);
        } else if (ep[c].mode != 7) {
            tb_u8(t, 0x90);
        }
        if (ep[c].mode >= 15 && ep[c].mode <= 17) {
            /* keys[0..2] are the recipients; relays 300 and 301. */
            size_t a = ep[c].mode == 16 ? 1 : 300, b = 301;
            if (ep[c].mode == 17) { a = 301; b = 300; }
            tb_u8(t, 0x92);
            tb_u8(t, 0x92); tb_bin(t, keys[a], 32); tb_bin(t, sealed, 80);
            tb_u8(t, 0x92); tb_bin(t, keys[b], 32); tb_bin(t, sealed, 80);
        } else if (ep[c].mode == 18) {
            tb_hex(t, "80");
        } else if (ep[c].mode != 7) {
            tb_u8(t, 0x90);
        }
        tb_sign(t, founder);
        int got = dec(t, community, &r, &why);
        CHECK_CASE(got == ep[c].want, ep[c].name, got, ep[c].want);
        if (got == 0) {
            uint8_t pk2[32], net_id[32];
            CHECK(r.u.epoch.has_net == (ep[c].mode == 13));
            CHECK(r.u.epoch.n_relays == (ep[c].mode == 15 ? 2u : 0u));
            if (ep[c].mode == 15) {
                CHECK(memcmp(agah_rec_epoch_relay(&r, 1), keys[301], 32) == 0);
                CHECK(agah_rec_epoch_relay(&r, 2) == NULL);
            }
            agah_rec_epoch_net_id(&r, net_id);
            CHECK(memcmp(net_id, ep[c].mode == 13 ? nz : r.id, 32) == 0);
            CHECK(r.u.epoch.n_prev == (ep[c].mode == 12 ? 1u : 0u));
            /* A link not made with this key does not open. */
            CHECK(agah_rec_epoch_prev_open(&r, 0, epoch_key, pk2) ==
                  (ep[c].mode == 12 ? AGAH_ECRYPTO : AGAH_ENOENT));
            CHECK(agah_rec_epoch_prev_open(&r, 1, epoch_key, pk2) == AGAH_ENOENT);
        }
        if (got == 0) {
            CHECK(r.u.epoch.n == ep[c].n);
            CHECK(memcmp(agah_rec_epoch_member(&r, ep[c].n - 1), keys[ep[c].n - 1], 32) == 0);
            CHECK(memcmp(agah_rec_epoch_sealed(&r, 0), sealed, 80) == 0);
            /* Entry not sealed to anyone real: opening fails cleanly. */
            CHECK(agah_rec_epoch_open(&r, member, other) == AGAH_ENOENT);
        }
    }
    free(t);
}

int main(void)
{
    if (rec_fixture_init("test_rec_malformed") != 0)
        return 1;
    rec_fixture_community();
    test_malformed_admission();
    test_malformed_other();
    return rec_fixture_done("test_rec_malformed");
}

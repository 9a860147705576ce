/* Unit test of the control-socket request parser: a table of good and bad
 * requests, each built with msgpack-c (or given as raw hex for what no
 * encoder would produce), with the exact outcome expected: accepted with
 * the converted values, refused with the connection kept, or refused with
 * the connection closed. */
#define _POSIX_C_SOURCE 200809L
#include <agah/mp.h>
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "control.h"

/* A key/value of a request. Types: s string, u uint, i negative int, b bool,
 * n nil, L a string of `u` 'x' bytes, k an integer key (value nil). The
 * string "@MID" is replaced by a valid member id, "@BADMID" by one with a
 * typo. */
struct kv {
    const char *k;
    char t;
    const char *s;
    uint64_t u;
};
#define S(k, v) {k, 's', v, 0}
#define U(k, v) {k, 'u', NULL, v}
#define NEG(k, v) {k, 'i', NULL, v}
#define B(k, v) {k, 'b', NULL, v}
#define NIL(k) {k, 'n', NULL, 0}
#define LONG(k, n) {k, 'L', NULL, n}
#define IKEY(v) {"", 'k', NULL, v}
#define V1 U("v", 1)

enum { OK, BAD, FATAL };

struct tcase {
    const char *name;
    const char *hex; /* raw body, or NULL to pack kvs */
    struct kv kvs[10];
    int outcome;
    int cmd;           /* expected on OK */
    const char *why;   /* substring expected in the reason on failure */
    int code;          /* expected AGAH_E* on failure, 0 = any */
};

static const struct tcase cases[] = {
    {"status", NULL, {V1, S("cmd", "status")}, OK, AGAH_CTL_STATUS, NULL, 0},
    {"status, keys in any order", NULL, {S("cmd", "status"), V1}, OK, AGAH_CTL_STATUS, NULL, 0},
    {"not a map: array", "9101", {{0}}, FATAL, 0, "must be a msgpack map", AGAH_ETYPE},
    {"not a map: string", "a6737461747573", {{0}}, FATAL, 0, "map", AGAH_ETYPE},
    {"not a map: nil", "c0", {{0}}, FATAL, 0, "map", AGAH_ETYPE},
    {"empty body", "", {{0}}, FATAL, 0, "empty", AGAH_ETRUNC},
    {"array32 of 4 billion", "ddffffffff", {{0}}, FATAL, 0, NULL, 0},
    {"map32 of 4 billion", "dfffffffff", {{0}}, FATAL, 0, NULL, 0},
    {"str32 of 4 GiB", "dbffffffff41", {{0}}, FATAL, 0, NULL, 0},
    {"truncated map", "82a17601a3636d64a373", {{0}}, FATAL, 0, NULL, AGAH_ETRUNC},
    {"trailing bytes", "82a17601a3636d64a6737461747573c0", {{0}}, FATAL, 0, "follow",
     AGAH_ETRAILING},
    {"float value", "82a176cb3ff0000000000000a3636d64a6737461747573", {{0}}, FATAL, 0,
     "float", AGAH_ETYPE},
    {"nested too deep", "81a178919191919191919191c0", {{0}}, FATAL, 0, "deeper", 0},
    {"unknown command", NULL, {V1, S("cmd", "launch")}, BAD, 0, "unknown command \"launch\"",
     AGAH_EINVAL},
    {"command with a control char", NULL, {V1, S("cmd", "st\x01tus")}, BAD, 0, "st?tus", 0},
    {"unknown key", NULL, {V1, S("cmd", "status"), U("extra", 1)}, BAD, 0,
     "takes no argument \"extra\"", AGAH_EFIELDS},
    {"argument of another command", NULL, {V1, S("cmd", "status"), S("note", "x")}, BAD, 0,
     "no argument \"note\"", AGAH_EFIELDS},
    {"duplicate cmd", NULL, {V1, S("cmd", "status"), S("cmd", "status")}, BAD, 0,
     "duplicate key \"cmd\"", AGAH_EFIELDS},
    {"duplicate v", NULL, {V1, V1, S("cmd", "status")}, BAD, 0, "duplicate key \"v\"",
     AGAH_EFIELDS},
    {"duplicate argument", NULL,
     {V1, S("cmd", "post"), S("kind", "alert"), S("note", "a"), S("note", "b")}, BAD, 0,
     "duplicate key \"note\"", AGAH_EFIELDS},
    {"duplicate argument, one nil", NULL,
     {V1, S("cmd", "post"), S("kind", "alert"), NIL("note"), S("note", "b")}, BAD, 0,
     "duplicate key \"note\"", AGAH_EFIELDS},
    {"missing cmd", NULL, {V1}, BAD, 0, "missing key \"cmd\"", AGAH_EFIELDS},
    {"missing v", NULL, {S("cmd", "status")}, BAD, 0, "missing key \"v\"", AGAH_EFIELDS},
    {"v = 2", NULL, {U("v", 2), S("cmd", "status")}, BAD, 0, "version 2", AGAH_EVERSION},
    {"v a string", NULL, {S("v", "1"), S("cmd", "status")}, BAD, 0, "v: expected",
     AGAH_ETYPE},
    {"cmd not a string", NULL, {V1, U("cmd", 1)}, BAD, 0, "cmd: expected a string",
     AGAH_ETYPE},
    {"integer key", NULL, {V1, S("cmd", "status"), IKEY(7)}, BAD, 0, "keys must be strings",
     AGAH_EFIELDS},
    {"post number", NULL,
     {V1, S("cmd", "post"), S("kind", "number"), S("target", "+852 5123 4567"),
      S("category", "scam"), S("note", "\xd8\xa6\xdb\x87\xd9\x8a\xd8\xba\xdb\x87\xd8\xb1"),
      S("severity", "danger"), U("expires", 86400)},
     OK, AGAH_CTL_POST, NULL, 0},
    {"post number, defaults", NULL,
     {V1, S("cmd", "post"), S("kind", "number"), S("target", "0085251234567")}, OK,
     AGAH_CTL_POST, NULL, 0},
    {"post account", NULL,
     {V1, S("cmd", "post"), S("kind", "account"), S("target", "telegram:@Some_User")}, OK,
     AGAH_CTL_POST, NULL, 0},
    {"post alert", NULL,
     {V1, S("cmd", "post"), S("kind", "alert"), NIL("target"), S("note", "meeting watched"),
      S("severity", "info"), U("expires", 0)},
     OK, AGAH_CTL_POST, NULL, 0},
    {"post alert without note", NULL, {V1, S("cmd", "post"), S("kind", "alert")}, BAD, 0,
     "needs a note", AGAH_EINVAL},
    {"post alert with a target", NULL,
     {V1, S("cmd", "post"), S("kind", "alert"), S("target", "+85251234567"), S("note", "x")},
     BAD, 0, "has no target", AGAH_EINVAL},
    {"post number without target", NULL, {V1, S("cmd", "post"), S("kind", "number")}, BAD, 0,
     "needs a target", AGAH_EINVAL},
    {"post number, nil target", NULL,
     {V1, S("cmd", "post"), S("kind", "number"), NIL("target")}, BAD, 0, "needs a target",
     AGAH_EINVAL},
    {"post without kind", NULL, {V1, S("cmd", "post"), S("target", "+85251234567")}, BAD, 0,
     "needs the argument \"kind\"", AGAH_EFIELDS},
    {"post, nil kind", NULL, {V1, S("cmd", "post"), NIL("kind"), S("note", "x")}, BAD, 0,
     "kind: expected str", AGAH_ETYPE},
    {"post, unknown kind", NULL,
     {V1, S("cmd", "post"), S("kind", "rumour"), S("note", "x")}, BAD, 0,
     "kind: expected number, account or alert", AGAH_EINVAL},
    {"post, unknown category", NULL,
     {V1, S("cmd", "post"), S("kind", "alert"), S("note", "x"), S("category", "gossip")},
     BAD, 0, "category:", AGAH_EINVAL},
    {"post, severity of wrong type", NULL,
     {V1, S("cmd", "post"), S("kind", "alert"), S("note", "x"), U("severity", 2)}, BAD, 0,
     "severity: expected str", AGAH_ETYPE},
    {"post, note of 2048 bytes", NULL,
     {V1, S("cmd", "post"), S("kind", "alert"), LONG("note", AGAH_NOTE_MAX)}, OK,
     AGAH_CTL_POST, NULL, 0},
    {"post, oversized note", NULL,
     {V1, S("cmd", "post"), S("kind", "alert"), LONG("note", AGAH_NOTE_MAX + 1)}, BAD, 0,
     "note: 2049 bytes, at most 2048", AGAH_ETOOBIG},
    {"post, note not UTF-8", NULL,
     {V1, S("cmd", "post"), S("kind", "alert"), S("note", "caf\xe9")}, BAD, 0,
     "invalid UTF-8", AGAH_EVALUE},
    {"post, note with NUL", "84a176" "01" "a3636d64a4706f7374" "a46b696e64a5616c657274"
     "a46e6f7465a3610062", {{0}}, BAD, 0, "NUL", AGAH_EVALUE},
    {"post, negative expires", NULL,
     {V1, S("cmd", "post"), S("kind", "alert"), S("note", "x"), NEG("expires", 5)}, BAD, 0,
     "expires: expected an unsigned integer", AGAH_ETYPE},
    {"post, expires past 100 years", NULL,
     {V1, S("cmd", "post"), S("kind", "alert"), S("note", "x"),
      U("expires", AGAH_CTL_EXPIRES_MAX + 1)},
     BAD, 0, "above the maximum", AGAH_EVALUE},
    {"post, letters for a number", NULL,
     {V1, S("cmd", "post"), S("kind", "number"), S("target", "call me maybe")}, BAD, 0, NULL,
     AGAH_ENUMBER},
    {"post, national number without region", NULL,
     {V1, S("cmd", "post"), S("kind", "number"), S("target", "07700 900123")}, BAD, 0, NULL,
     AGAH_EREGION},
    {"post, unknown service", NULL,
     {V1, S("cmd", "post"), S("kind", "account"), S("target", "myspace:tom")}, BAD, 0, NULL,
     AGAH_EACCOUNT},
    {"post, target too long", NULL,
     {V1, S("cmd", "post"), S("kind", "account"), LONG("target", AGAH_TARGET_MAX)}, BAD, 0,
     "target:", AGAH_ETOOBIG},
    {"check number", NULL, {V1, S("cmd", "check"), S("target", "(+852) 5123.4567")}, OK,
     AGAH_CTL_CHECK, NULL, 0},
    {"check account", NULL, {V1, S("cmd", "check"), S("target", "Telegram:@Some_User")}, OK,
     AGAH_CTL_CHECK, NULL, 0},
    {"check without target", NULL, {V1, S("cmd", "check")}, BAD, 0,
     "needs the argument \"target\"", AGAH_EFIELDS},
    {"check, empty target", NULL, {V1, S("cmd", "check"), S("target", "")}, BAD, 0, NULL, 0},
    {"check, bin target", "83a17601a3636d64a5636865636ba6746172676574c403616263", {{0}}, BAD,
     0, "target: expected str, got bin", AGAH_ETYPE},
    {"list", NULL, {V1, S("cmd", "list")}, OK, AGAH_CTL_LIST, NULL, 0},
    {"list all numbers", NULL, {V1, S("cmd", "list"), S("kind", "number"), B("all", 1)}, OK,
     AGAH_CTL_LIST, NULL, 0},
    {"list, nil kind", NULL, {V1, S("cmd", "list"), NIL("kind"), B("all", 0)}, OK,
     AGAH_CTL_LIST, NULL, 0},
    {"list, all as integer", NULL, {V1, S("cmd", "list"), U("all", 1)}, BAD, 0,
     "all: expected a bool", AGAH_ETYPE},
    {"list, unknown kind", NULL, {V1, S("cmd", "list"), S("kind", "numbers")}, BAD, 0,
     "kind:", AGAH_EINVAL},
    {"show prefix", NULL, {V1, S("cmd", "show"), S("id", "ABcd12")}, OK, AGAH_CTL_SHOW, NULL,
     0},
    {"show, 3 digits", NULL, {V1, S("cmd", "show"), S("id", "abc")}, BAD, 0, "at least 4",
     AGAH_EINVAL},
    {"show, not hex", NULL, {V1, S("cmd", "show"), S("id", "abcg")}, BAD, 0, "hex",
     AGAH_EINVAL},
    {"show, 65 digits", NULL, {V1, S("cmd", "show"), LONG("id", 65)}, BAD, 0, "id: 65 bytes",
     AGAH_ETOOBIG},
    {"show without id", NULL, {V1, S("cmd", "show")}, BAD, 0, "needs the argument \"id\"",
     AGAH_EFIELDS},
    {"confirm", NULL, {V1, S("cmd", "confirm"), S("id", "abcd"), NIL("note")}, OK,
     AGAH_CTL_CONFIRM, NULL, 0},
    {"confirm, reason is not its key", NULL,
     {V1, S("cmd", "confirm"), S("id", "abcd"), S("reason", "x")}, BAD, 0, "no argument",
     AGAH_EFIELDS},
    {"retract", NULL, {V1, S("cmd", "retract"), S("id", "abcd"), S("reason", "was wrong")},
     OK, AGAH_CTL_RETRACT, NULL, 0},
    {"invite", NULL,
     {V1, S("cmd", "invite"), S("member_id", "@MID"), S("role", "organiser"),
      S("name", "Ay\xc5\x9f" "e")},
     OK, AGAH_CTL_INVITE, NULL, 0},
    {"invite, typo in member id", NULL, {V1, S("cmd", "invite"), S("member_id", "@BADMID")},
     BAD, 0, NULL, AGAH_ECHECKSUM},
    {"invite, community id", NULL, {V1, S("cmd", "invite"), S("member_id", "@CID")}, BAD, 0,
     NULL, 0},
    {"invite, unknown role", NULL,
     {V1, S("cmd", "invite"), S("member_id", "@MID"), S("role", "king")}, BAD, 0, "role:",
     AGAH_EINVAL},
    {"invite, name too long", NULL,
     {V1, S("cmd", "invite"), S("member_id", "@MID"), LONG("name", AGAH_NAME_MAX + 1)}, BAD,
     0, "name: 65 bytes", AGAH_ETOOBIG},
    {"invite, newline in name", NULL,
     {V1, S("cmd", "invite"), S("member_id", "@MID"), S("name", "two\nlines")}, BAD, 0,
     "control characters", AGAH_EINVAL},
    {"revoke", NULL, {V1, S("cmd", "revoke"), S("member_id", "@MID"), S("reason", "lost")},
     OK, AGAH_CTL_REVOKE, NULL, 0},
    {"members", NULL, {V1, S("cmd", "members")}, OK, AGAH_CTL_MEMBERS, NULL, 0},
    {"members with an argument", NULL, {V1, S("cmd", "members"), B("all", 1)}, BAD, 0,
     "no argument \"all\"", AGAH_EFIELDS},
    {"peers", NULL, {V1, S("cmd", "peers")}, OK, AGAH_CTL_PEERS, NULL, 0},
    {"peer_add ipv4", NULL, {V1, S("cmd", "peer_add"), S("address", "127.0.0.1:7433")}, OK,
     AGAH_CTL_PEER_ADD, NULL, 0},
    {"peer_add name", NULL, {V1, S("cmd", "peer_add"), S("address", "relay.example:1")}, OK,
     AGAH_CTL_PEER_ADD, NULL, 0},
    {"peer_add ipv6", NULL, {V1, S("cmd", "peer_add"), S("address", "[::1]:7433")}, OK,
     AGAH_CTL_PEER_ADD, NULL, 0},
    {"peer_add without port", NULL, {V1, S("cmd", "peer_add"), S("address", "relay")}, BAD,
     0, "HOST:PORT", AGAH_EINVAL},
    {"peer_add port 0", NULL, {V1, S("cmd", "peer_add"), S("address", "relay:0")}, BAD, 0,
     "port", AGAH_EINVAL},
    {"peer_add port 70000", NULL, {V1, S("cmd", "peer_add"), S("address", "relay:70000")},
     BAD, 0, "port", AGAH_EINVAL},
    {"peer_add space in host", NULL, {V1, S("cmd", "peer_add"), S("address", "a b:1")}, BAD,
     0, "host", AGAH_EINVAL},
    {"peer_add too long", NULL, {V1, S("cmd", "peer_add"), LONG("address", AGAH_ADDR_MAX)},
     BAD, 0, "address:", AGAH_ETOOBIG},
    {"watch", NULL, {V1, S("cmd", "watch")}, OK, AGAH_CTL_WATCH, NULL, 0},
};

static char mid[AGAH_IDSTR_SIZE], badmid[AGAH_IDSTR_SIZE], cid[AGAH_IDSTR_SIZE];
static uint8_t member_pk[32];

static const char *subst(const char *s)
{
    if (strcmp(s, "@MID") == 0)
        return mid;
    if (strcmp(s, "@BADMID") == 0)
        return badmid;
    if (strcmp(s, "@CID") == 0)
        return cid;
    return s;
}

static size_t unhex(const char *h, uint8_t *out)
{
    size_t n = strlen(h) / 2;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        assert(sscanf(h + 2 * i, "%2x", &v) == 1);
        out[i] = (uint8_t)v;
    }
    return n;
}

static void pack(const struct tcase *t, msgpack_sbuffer *sb)
{
    msgpack_packer pk;
    size_t n = 0;
    char *longstr = malloc(70000);

    assert(longstr != NULL);
    memset(longstr, 'x', 70000);
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    while (n < 10 && t->kvs[n].k != NULL)
        n++;
    assert(msgpack_pack_map(&pk, (uint32_t)n) == 0);
    for (size_t i = 0; i < n; i++) {
        const struct kv *kv = &t->kvs[i];
        if (kv->t == 'k') {
            assert(msgpack_pack_uint64(&pk, kv->u) == 0);
            assert(msgpack_pack_nil(&pk) == 0);
            continue;
        }
        assert(msgpack_pack_str_with_body(&pk, kv->k, strlen(kv->k)) == 0);
        switch (kv->t) {
        case 's': {
            const char *s = subst(kv->s);
            assert(msgpack_pack_str_with_body(&pk, s, strlen(s)) == 0);
            break;
        }
        case 'L':
            assert(kv->u <= 70000);
            assert(msgpack_pack_str_with_body(&pk, longstr, kv->u) == 0);
            break;
        case 'u': assert(msgpack_pack_uint64(&pk, kv->u) == 0); break;
        case 'i': assert(msgpack_pack_int64(&pk, -(int64_t)kv->u) == 0); break;
        case 'b': assert((kv->u ? msgpack_pack_true(&pk) : msgpack_pack_false(&pk)) == 0); break;
        case 'n': assert(msgpack_pack_nil(&pk) == 0); break;
        default: assert(0);
        }
    }
    free(longstr);
}

static int run_case(const struct tcase *t, struct control_req *r, struct agah_why *why)
{
    uint8_t raw[256];
    msgpack_sbuffer sb;
    int rc;

    memset(why, 0, sizeof *why);
    if (t->hex != NULL) {
        size_t n = unhex(t->hex, raw);
        return control__parse_request(n > 0 ? raw : NULL, n, r, why);
    }
    msgpack_sbuffer_init(&sb);
    pack(t, &sb);
    rc = control__parse_request((const uint8_t *)sb.data, sb.size, r, why);
    msgpack_sbuffer_destroy(&sb);
    return rc;
}

/* Values a few accepted requests must have been converted to. */
static int check_values(const struct tcase *t, const struct control_req *r)
{
    const char *n = t->name;

    if (strcmp(n, "post number") == 0)
        return r->kind == AGAH_KIND_NUMBER && strcmp(r->target, "+85251234567") == 0 &&
               r->category == AGAH_CAT_SCAM && r->severity == AGAH_SEV_DANGER &&
               r->expires == 86400 && strlen(r->note) == 12;
    if (strcmp(n, "post number, defaults") == 0)
        return strcmp(r->target, "+85251234567") == 0 && r->category == AGAH_CAT_HARASSMENT &&
               r->severity == AGAH_SEV_WARNING && r->expires == 0 && r->note[0] == '\0';
    if (strcmp(n, "post account") == 0)
        return r->kind == AGAH_KIND_ACCOUNT && strcmp(r->target, "telegram:some_user") == 0;
    if (strcmp(n, "post alert") == 0)
        return r->kind == AGAH_KIND_ALERT && r->target[0] == '\0' &&
               strcmp(r->note, "meeting watched") == 0 && r->severity == AGAH_SEV_INFO;
    if (strcmp(n, "post, note of 2048 bytes") == 0)
        return strlen(r->note) == AGAH_NOTE_MAX;
    if (strcmp(n, "check number") == 0)
        return strcmp(r->target, "+85251234567") == 0;
    if (strcmp(n, "check account") == 0)
        return strcmp(r->target, "telegram:some_user") == 0;
    if (strcmp(n, "list") == 0)
        return r->kind == 0 && r->all == 0;
    if (strcmp(n, "list all numbers") == 0)
        return r->kind == AGAH_KIND_NUMBER && r->all == 1;
    if (strcmp(n, "show prefix") == 0)
        return strcmp(r->id, "abcd12") == 0;
    if (strcmp(n, "confirm") == 0)
        return strcmp(r->id, "abcd") == 0 && r->note[0] == '\0';
    if (strcmp(n, "retract") == 0)
        return strcmp(r->note, "was wrong") == 0;
    if (strcmp(n, "invite") == 0)
        return memcmp(r->member, member_pk, 32) == 0 && strcmp(r->member_id, mid) == 0 &&
               r->role == AGAH_ROLE_ORGANISER && strcmp(r->name, "Ay\xc5\x9f" "e") == 0;
    if (strcmp(n, "revoke") == 0)
        return memcmp(r->member, member_pk, 32) == 0 && strcmp(r->note, "lost") == 0;
    if (strcmp(n, "peer_add ipv6") == 0)
        return strcmp(r->address, "[::1]:7433") == 0;
    return 1;
}

/* The length-prefix limit and the close-after-error rule are the server's;
 * the exit-code mapping is checked here. */
static int test_exit_codes(void)
{
    int fails = 0;
    struct { int err, code; } m[] = {
        {AGAH_EPERM, 4}, {AGAH_EINVAL, 2}, {AGAH_ENOENT, 2}, {AGAH_ENUMBER, 2},
        {AGAH_EACCOUNT, 2}, {AGAH_ECHECKSUM, 2}, {AGAH_EREGION, 2}, {AGAH_EIO, 5},
        {AGAH_ENOMEM, 5}, {AGAH_EINTERNAL, 5}, {AGAH_ENOSPC, 5}, {AGAH_ECRYPTO, 5},
    };
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
        if (agah_ctl_exit_code(m[i].err) != m[i].code) {
            printf("FAIL exit code of %s: %d, want %d\n", agah_strerror(m[i].err),
                   agah_ctl_exit_code(m[i].err), m[i].code);
            fails++;
        }
    return fails;
}

/* The value of key k in a msgpack map, or NULL. */
static const msgpack_object *map_get(const msgpack_object *m, const char *k)
{
    if (m->type != MSGPACK_OBJECT_MAP)
        return NULL;
    for (uint32_t i = 0; i < m->via.map.size; i++) {
        const msgpack_object *key = &m->via.map.ptr[i].key;
        if (key->type == MSGPACK_OBJECT_STR && key->via.str.size == strlen(k) &&
            memcmp(key->via.str.ptr, k, key->via.str.size) == 0)
            return &m->via.map.ptr[i].val;
    }
    return NULL;
}

static int is_str(const msgpack_object *o, const char *want)
{
    return o != NULL && o->type == MSGPACK_OBJECT_STR && o->via.str.size == strlen(want) &&
           memcmp(o->via.str.ptr, want, o->via.str.size) == 0;
}

static int is_bool(const msgpack_object *o, int want)
{
    return o != NULL && o->type == MSGPACK_OBJECT_BOOLEAN && o->via.boolean == (want != 0);
}

static int is_nil(const msgpack_object *o) { return o != NULL && o->type == MSGPACK_OBJECT_NIL; }

/* The ALERT and `members` shapes as packed for the CLI: the marks a reader
 * weighs an alert by (author revoked, retracted by whom) and who admitted
 * whom, with null where there is no one to name. */
static int test_result_shapes(void)
{
    struct node_alert a[2];
    struct node_member m[2];
    uint8_t retractor[32], *buf = NULL;
    char rid[AGAH_IDSTR_SIZE];
    size_t len = 0;
    msgpack_unpacked res;
    int fails = 0;

    memset(a, 0, sizeof a);
    memset(m, 0, sizeof m);
    for (int i = 0; i < 32; i++)
        retractor[i] = (uint8_t)(255 - i);
    agah_id_encode(AGAH_IDPFX_MEMBER, retractor, rid);
    for (int i = 0; i < 2; i++) {
        a[i].body.kind = AGAH_KIND_ALERT;
        memcpy(a[i].author, member_pk, 32);
        (void)snprintf(a[i].author_name, sizeof a[i].author_name, "Ali");
    }
    /* An informant's alert, still active, and one an organiser retracted. */
    a[0].status = NODE_ACTIVE;
    a[0].author_revoked = 1;
    a[1].status = NODE_RETRACTED;
    a[1].has_retractor = 1;
    memcpy(a[1].retracted_by, retractor, 32);
    (void)snprintf(a[1].retracted_by_name, sizeof a[1].retracted_by_name, "Olga");

    msgpack_unpacked_init(&res);
    if (control__pack_alerts(a, 2, &buf, &len) != 0 ||
        msgpack_unpack_next(&res, (const char *)buf, len, NULL) != MSGPACK_UNPACK_SUCCESS ||
        res.data.type != MSGPACK_OBJECT_ARRAY || res.data.via.array.size != 2) {
        printf("FAIL packing two alerts\n");
        fails++;
    } else {
        const msgpack_object *x = &res.data.via.array.ptr[0], *y = &res.data.via.array.ptr[1];
        if (x->via.map.size != 15 || !is_bool(map_get(x, "author_revoked"), 1) ||
            !is_nil(map_get(x, "retracted_by")) || !is_nil(map_get(x, "retracted_by_name")) ||
            !is_str(map_get(x, "status"), "active") || !is_str(map_get(x, "author"), mid)) {
            printf("FAIL alert by a revoked author: author_revoked true, retracted_by null\n");
            fails++;
        }
        if (y->via.map.size != 15 || !is_bool(map_get(y, "author_revoked"), 0) ||
            !is_str(map_get(y, "retracted_by"), rid) ||
            !is_str(map_get(y, "retracted_by_name"), "Olga") ||
            !is_str(map_get(y, "status"), "retracted")) {
            printf("FAIL retracted alert: retracted_by names the retractor\n");
            fails++;
        }
    }
    msgpack_unpacked_destroy(&res);
    free(buf);
    buf = NULL;

    /* The founder (admitted by no one, at the founding) and a member. */
    memcpy(m[0].pk, retractor, 32);
    m[0].role = AGAH_ROLE_ORGANISER;
    m[0].admitted = 1700000000;
    memcpy(m[1].pk, member_pk, 32);
    m[1].role = AGAH_ROLE_MEMBER;
    m[1].revoked = 1;
    m[1].has_admitter = 1;
    memcpy(m[1].admitted_by, retractor, 32);
    m[1].admitted = 1700000100;
    msgpack_unpacked_init(&res);
    if (control__pack_members(m, 2, &buf, &len) != 0 ||
        msgpack_unpack_next(&res, (const char *)buf, len, NULL) != MSGPACK_UNPACK_SUCCESS ||
        res.data.type != MSGPACK_OBJECT_ARRAY || res.data.via.array.size != 2) {
        printf("FAIL packing two members\n");
        fails++;
    } else {
        const msgpack_object *x = &res.data.via.array.ptr[0], *y = &res.data.via.array.ptr[1];
        const msgpack_object *xa = map_get(x, "admitted"), *ya = map_get(y, "admitted");
        if (x->via.map.size != 7 || !is_nil(map_get(x, "admitted_by")) || xa == NULL ||
            xa->type != MSGPACK_OBJECT_POSITIVE_INTEGER || xa->via.u64 != 1700000000 ||
            !is_str(map_get(x, "role"), "organiser")) {
            printf("FAIL founder: admitted_by null, admitted at the founding\n");
            fails++;
        }
        if (y->via.map.size != 7 || !is_str(map_get(y, "admitted_by"), rid) || ya == NULL ||
            ya->type != MSGPACK_OBJECT_POSITIVE_INTEGER || ya->via.u64 != 1700000100 ||
            !is_str(map_get(y, "status"), "revoked") || !is_str(map_get(y, "member_id"), mid)) {
            printf("FAIL member: admitted_by the organiser, admitted when\n");
            fails++;
        }
    }
    msgpack_unpacked_destroy(&res);
    free(buf);
    return fails;
}

int main(void)
{
    size_t n = sizeof cases / sizeof cases[0];
    int pass = 0, fail = 0;

    assert(agah_init() == 0);
    for (int i = 0; i < 32; i++)
        member_pk[i] = (uint8_t)(i * 7 + 1);
    agah_id_encode(AGAH_IDPFX_MEMBER, member_pk, mid);
    agah_id_encode(AGAH_IDPFX_COMMUNITY, member_pk, cid);
    memcpy(badmid, mid, sizeof mid);
    badmid[10] = badmid[10] == 'a' ? 'b' : 'a';
    for (int c = 0; c < AGAH_CTL_NCMDS; c++)
        assert(agah_ctl_cmd_name(c) != NULL);
    assert(agah_ctl_cmd_name(AGAH_CTL_NCMDS) == NULL);

    for (size_t i = 0; i < n; i++) {
        const struct tcase *t = &cases[i];
        struct control_req r;
        struct agah_why why;
        int rc = run_case(t, &r, &why), ok = 1;

        if (t->outcome == OK) {
            ok = rc == 0 && r.cmd == t->cmd && check_values(t, &r);
        } else {
            ok = rc < 0 && r.fatal == (t->outcome == FATAL) && why.msg[0] != '\0' &&
                 (t->why == NULL || strstr(why.msg, t->why) != NULL) &&
                 (t->code == 0 || rc == t->code);
        }
        if (ok) {
            pass++;
        } else {
            fail++;
            printf("FAIL %s: rc %d (%s) fatal %d cmd %d why \"%s\"\n", t->name, rc,
                   agah_strerror(rc), r.fatal, r.cmd, why.msg);
        }
    }
    if (test_exit_codes() == 0)
        pass++;
    else
        fail++;
    if (test_result_shapes() == 0)
        pass++;
    else
        fail++;
    printf("test_control: %d passed, %d failed\n", pass, fail);
    return fail == 0 ? 0 : 1;
}

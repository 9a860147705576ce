/* Who belongs: `members` lists them, `invite` makes a join code for a new
 * member id, `revoke` removes one (with its alerts and whom only it
 * admitted, when asked). */
#define _DEFAULT_SOURCE /* strptime, timegm */
#define _XOPEN_SOURCE 700
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "commands.h"
#include "mpget.h"
#include "output.h"
#include "print.h"
#include "request.h"

/* Ids agahd lists for `revoke --also-admitted` (NODE_REVOKE_LIST_MAX). */
#define REVOKE_LIST_SHOWN 64u

static int member_id_ok(const char *s)
{
    uint8_t pk[AGAH_PK_LEN];
    struct agah_why why = {{0}};
    int r = agah_id_decode(s, AGAH_IDPFX_MEMBER, pk, &why);
    if (r == AGAH_ECHECKSUM)
        return cli_fail(EXIT_USAGE, "\"%.70s\" is not a member id: it has a typo (the checksum "
                        "does not match)", s);
    if (r != 0)
        return cli_fail(EXIT_USAGE, "\"%.70s\" is not a member id: %s", s,
                        why.msg[0] ? why.msg : agah_strerror(r));
    return 0;
}

int cmd_members(struct cli *c)
{
    struct ctl ctl;
    const msgpack_object *res;
    int r;

    r = req_noargs(c, &ctl, "members", &res);
    if (r == 0)
        r = members_print(c, res, (uint64_t)time(NULL));
    ctl_close(&ctl);
    return r;
}

int members_print(const struct cli *c, const msgpack_object *res, uint64_t now)
{
    if (res->type != MSGPACK_OBJECT_ARRAY)
        return cli_fail(EXIT_FAIL, "agahd sent a member list that is not an array");
    if (c->json)
        return json_print(res);
    static const char *const head[] = {"MEMBER ID", "NAME", "ROLE", "STATUS", "ADMITTED BY",
                                       "ADMITTED"};
    struct table *t = table_new(6, head);
    for (uint32_t i = 0; i < res->via.array.size; i++) {
        const msgpack_object *m = &res->via.array.ptr[i];
        char id[AGAH_IDSTR_SIZE], name[AGAH_NAME_MAX + 1], role[16], st[16], by_id[AGAH_IDSTR_SIZE],
            by[AGAH_NAME_MAX + 8], when[64];
        (void)mp_str(m, "member_id", id, sizeof id);
        (void)mp_str(m, "name", name, sizeof name);
        (void)mp_str(m, "role", role, sizeof role);
        (void)mp_str(m, "status", st, sizeof st);
        uint64_t inv = mp_uint(m, "invited_until");
        if (strcmp(st, "active") == 0 && inv != 0)
            (void)snprintf(st, sizeof st, "%s", inv > now ? "invited" : "lapsed");
        /* Who admitted this key: by name when the admitter is in the same
         * list, else the start of its id; the founder by no one. */
        (void)mp_str(m, "admitted_by", by_id, sizeof by_id);
        (void)snprintf(by, sizeof by, "%s", by_id[0] ? "" : "(founder)");
        for (uint32_t k = 0; by_id[0] != '\0' && k < res->via.array.size; k++) {
            char kid[AGAH_IDSTR_SIZE];
            (void)mp_str(&res->via.array.ptr[k], "member_id", kid, sizeof kid);
            if (strcmp(kid, by_id) == 0)
                (void)mp_str(&res->via.array.ptr[k], "name", by, sizeof by);
        }
        if (by[0] == '\0')
            (void)snprintf(by, sizeof by, "%.12s\xe2\x80\xa6", by_id);
        out_reltime(when, sizeof when, mp_uint(m, "admitted"), now);
        const char *cells[] = {id, name[0] ? name : "-", role, st, by, when};
        const char *cols[] = {NULL, NULL, strcmp(role, "organiser") == 0 ? "\033[1m" : NULL,
                              strcmp(st, "revoked") == 0 ? "\033[31m" : NULL, NULL, NULL};
        table_row(t, cells, cols);
    }
    return table_end(t, stdout) == 0 ? 0 : cli_fail(EXIT_FAIL, "out of memory");
}

int cmd_invite(struct cli *c)
{
    const char *role = cli_opt(c, "role"), *name = cli_opt(c, "name"), *peer = cli_opt(c, "peer");
    struct ctl ctl;
    struct req q;
    const msgpack_object *res;
    int r;

    if ((r = member_id_ok(c->pos[0])) != 0)
        return r;
    if (role != NULL && agah_role_parse(role) < 0)
        return cli_fail(EXIT_USAGE, "unknown role \"%.40s\": use member, organiser or relay", role);
    if (name == NULL)
        name = "";
    if (strlen(name) > AGAH_NAME_MAX || !agah_mp_utf8_ok(name, strlen(name)))
        return cli_fail(EXIT_USAGE, "--name must be valid UTF-8 of at most %d bytes", AGAH_NAME_MAX);
    for (const char *p = name; *p != '\0'; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return cli_fail(EXIT_USAGE, "--name contains a control character");
    if (peer != NULL && (r = req_addr_ok(peer)) != 0)
        return r;
    req_init(&q);
    /* Without --role the daemon keeps the role of someone already admitted. */
    int ok = ctl_req_begin(&q.pk, "invite", 2 + (role != NULL) + (peer != NULL)) == 0 &&
             ctl_pack_kv_str(&q.pk, "member_id", c->pos[0]) == 0 &&
             (role == NULL || ctl_pack_kv_str(&q.pk, "role", role) == 0) &&
             ctl_pack_kv_str(&q.pk, "name", name) == 0 &&
             (peer == NULL || ctl_pack_kv_str(&q.pk, "address", peer) == 0);
    r = req_call(c, &ctl, &q, ok, &res);
    if (r == 0) {
        const msgpack_object *code = mp_get(res, "code");

        if (code == NULL || code->type != MSGPACK_OBJECT_STR) {
            r = cli_fail(EXIT_FAIL, "agahd sent an invite without a code");
        } else if (c->json) {
            (void)fputs("{\"code\": ", stdout);
            json_string(stdout, code->via.str.ptr, code->via.str.size);
            (void)fputs("}\n", stdout);
        } else {
            (void)fwrite(code->via.str.ptr, 1, code->via.str.size, stdout);
            (void)fputc('\n', stdout);
            (void)fflush(stdout);
            (void)fprintf(stderr, "agah: hand this code to %s in person; only their identity "
                          "can open it. They run: agah join CODE\n",
                          name[0] ? name : "the new member");
        }
        /* A code with no address strands the newcomer with no one to dial. */
        if (r == 0 && mp_get(res, "peers") != NULL && mp_uint(res, "peers") == 0)
            (void)fprintf(stderr,
                          "agah: warning: the code names no address to dial (this node keeps "
                          "no peers and listens on a wildcard address or none); give --peer "
                          "HOST:PORT with this node's or a relay's reachable address, or tell "
                          "the newcomer to run `agah peer add HOST:PORT` after joining\n");
    }
    ctl_close(&ctl);
    return r;
}

/* --also-admitted: lists the members it would revoke too and asks for
 * "yes" on standard input (a terminal or not) unless --yes. */
static int revoke__confirm_also(struct cli *c)
{
    struct ctl ctl;
    struct req q;
    const msgpack_object *res, *ids;
    char line[16];
    int r;

    req_init(&q);
    int ok = ctl_req_begin(&q.pk, "revoke", 3) == 0 &&
             ctl_pack_kv_str(&q.pk, "member_id", c->pos[0]) == 0 &&
             ctl_pack_kv_bool(&q.pk, "also_admitted", 1) == 0 &&
             ctl_pack_kv_bool(&q.pk, "dry_run", 1) == 0;
    r = req_call(c, &ctl, &q, ok, &res);
    if (r != 0)
        goto out;
    uint64_t n = mp_uint(res, "also");
    if (n == 0)
        goto out;
    /* The question goes to stderr, so --json output stays one document. */
    (void)fprintf(stderr, "agah: --also-admitted also revokes %" PRIu64
                          " member(s) that only %s admitted:\n", n, c->pos[0]);
    ids = mp_get(res, "also_ids");
    for (uint32_t i = 0; ids != NULL && ids->type == MSGPACK_OBJECT_ARRAY && i < ids->via.array.size;
         i++) {
        const msgpack_object *o = &ids->via.array.ptr[i];
        if (o->type == MSGPACK_OBJECT_STR)
            (void)fprintf(stderr, "  %.*s\n", (int)o->via.str.size, o->via.str.ptr);
    }
    if (n > REVOKE_LIST_SHOWN)
        (void)fprintf(stderr, "  ... and %" PRIu64 " more\n", n - REVOKE_LIST_SHOWN);
    if (cli_opt(c, "yes") != NULL)
        goto out;
    (void)fprintf(stderr, "agah: type yes to revoke them all: ");
    if (fgets(line, sizeof line, stdin) != NULL)
        line[strcspn(line, "\r\n")] = '\0';
    else
        line[0] = '\0';
    if (strcmp(line, "yes") != 0) {
        r = cli_fail(EXIT_USAGE, "not confirmed; nothing revoked (add --yes to skip the question)");
        goto out;
    }
out:
    ctl_close(&ctl);
    return r;
}

/* --purge-since WHEN: Unix seconds, or a UTC date YYYY-MM-DD with an
 * optional THH:MM[:SS]. 0 when not given. */
static int revoke__since(struct cli *c, uint64_t *since)
{
    const char *w = cli_opt(c, "purge-since");
    struct tm tm;
    const char *end;
    time_t t;

    *since = 0;
    if (w == NULL)
        return 0;
    if (w[0] >= '0' && w[0] <= '9' && strspn(w, "0123456789") == strlen(w) && strlen(w) <= 12) {
        *since = strtoull(w, NULL, 10);
    } else {
        memset(&tm, 0, sizeof tm);
        end = strptime(w, "%Y-%m-%d", &tm);
        if (end != NULL && *end == 'T')
            end = strptime(end + 1, strchr(end, ':') != strrchr(end, ':') ? "%H:%M:%S" : "%H:%M",
                           &tm);
        if (end == NULL || *end != '\0' || (t = timegm(&tm)) == (time_t)-1)
            return cli_fail(EXIT_USAGE, "--purge-since takes a UTC date (2026-12-01 or "
                                        "2026-12-01T18:30) or Unix seconds, not \"%.40s\"", w);
        *since = (uint64_t)t;
    }
    if (*since == 0 || *since > (uint64_t)time(NULL) + 600)
        return cli_fail(EXIT_USAGE, "--purge-since is in the future");
    return 0;
}

int cmd_revoke(struct cli *c)
{
    const char *reason = cli_opt(c, "reason");
    int retract = cli_opt(c, "retract-alerts") != NULL, also = cli_opt(c, "also-admitted") != NULL;
    char id[AGAH_IDSTR_SIZE], status[16];
    struct ctl ctl;
    struct req q;
    const msgpack_object *res;
    int r;

    if ((r = member_id_ok(c->pos[0])) != 0)
        return r;
    if (reason == NULL)
        reason = "";
    if ((r = req_note_ok("reason", reason)) != 0)
        return r;
    uint64_t since;
    if ((r = revoke__since(c, &since)) != 0)
        return r;
    if (also && (r = revoke__confirm_also(c)) != 0)
        return r;
    req_init(&q);
    int ok = ctl_req_begin(&q.pk, "revoke", since != 0 ? 5 : 4) == 0 &&
             (since == 0 || ctl_pack_kv_uint(&q.pk, "purge_since", since) == 0) &&
             ctl_pack_kv_str(&q.pk, "member_id", c->pos[0]) == 0 &&
             ctl_pack_kv_str(&q.pk, "reason", reason) == 0 &&
             ctl_pack_kv_bool(&q.pk, "retract_alerts", retract) == 0 &&
             ctl_pack_kv_bool(&q.pk, "also_admitted", also) == 0;
    r = req_call(c, &ctl, &q, ok, &res);
    if (r == 0) {
        const msgpack_object *already = mp_get(res, "already");
        int was = already != NULL && already->type == MSGPACK_OBJECT_BOOLEAN &&
                  already->via.boolean;
        uint64_t kept = mp_uint(res, "kept"), dropped = mp_uint(res, "dropped"),
                 n_also = mp_uint(res, "also"), votes = mp_uint(res, "votes"),
                 quorum = mp_uint(res, "quorum");

        mp_str(res, "member_id", id, sizeof id);
        mp_str(res, "status", status, sizeof status);
        if (c->json) {
            json_strings(stdout, "member_id", id, "status", status, NULL);
        } else if (was) {
            (void)printf("%s was already revoked by this node; nothing changed\n", id);
        } else if (strcmp(status, "pending") == 0) {
            (void)printf("recorded your revocation of the founder %s; it takes effect once %" PRIu64
                         " organisers agree (%" PRIu64 " so far). Until then the founder keeps "
                         "every power.\n",
                         id, quorum, votes);
        } else {
            (void)printf("revoked %s; a new epoch key went to the remaining members\n", id);
            (void)printf("kept %" PRIu64 " of its records that this node holds%s", kept,
                         retract ? " (its alerts retracted)" : "");
            if (dropped > 0)
                (void)printf("; %" PRIu64 " left out", dropped);
            (void)printf(". Anything else it signs, dated whenever, is refused.\n");
            if (n_also > 0)
                (void)printf("also revoked %" PRIu64 " member(s) that only it had admitted\n",
                             n_also);
        }
    }
    ctl_close(&ctl);
    return r;
}

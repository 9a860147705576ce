/* This node: `status` (its identity, community, role and counts, and
 * whether its key has a passphrase), `peers` and `peer add`. */
#define _POSIX_C_SOURCE 200809L
#include <agah/keyfile.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "commands.h"
#include "mpget.h"
#include "output.h"
#include "print.h"
#include "request.h"

int cmd_peers(struct cli *c)
{
    struct ctl ctl;
    const msgpack_object *res;
    int r;

    r = req_noargs(c, &ctl, "peers", &res);
    if (r == 0)
        r = peers_print(c, res);
    ctl_close(&ctl);
    return r;
}

int peers_print(const struct cli *c, const msgpack_object *res)
{
    if (res->type != MSGPACK_OBJECT_ARRAY)
        return cli_fail(EXIT_FAIL, "agahd sent a peer list that is not an array");
    if (c->json)
        return json_print(res);
    if (res->via.array.size == 0) {
        (void)printf("no peers known; add one with `agah peer add HOST:PORT`\n");
        return 0;
    }
    static const char *const head[] = {"ADDRESS", "MEMBER ID", "STATE"};
    struct table *t = table_new(3, head);
    for (uint32_t i = 0; i < res->via.array.size; i++) {
        const msgpack_object *p = &res->via.array.ptr[i];
        char addr[AGAH_ADDR_MAX + 1], id[AGAH_IDSTR_SIZE];
        int conn = mp_bool(p, "connected");
        (void)mp_str(p, "address", addr, sizeof addr);
        (void)mp_str(p, "member_id", id, sizeof id);
        const char *cells[] = {addr[0] ? addr : "-", id[0] ? id : "-",
                               conn ? "connected" : "not connected"};
        const char *cols[] = {NULL, NULL, conn ? "\033[32m" : "\033[2m"};
        table_row(t, cells, cols);
    }
    return table_end(t, stdout) == 0 ? 0 : cli_fail(EXIT_FAIL, "out of memory");
}

int cmd_peer_add(struct cli *c)
{
    char addr[AGAH_ADDR_MAX + 1];
    struct ctl ctl;
    struct req q;
    const msgpack_object *res;
    int r;

    if ((r = req_addr_ok(c->pos[0])) != 0)
        return r;
    req_init(&q);
    int ok = ctl_req_begin(&q.pk, "peer_add", 1) == 0 &&
             ctl_pack_kv_str(&q.pk, "address", c->pos[0]) == 0;
    r = req_call(c, &ctl, &q, ok, &res);
    if (r == 0) {
        if (c->json)
            json_print(res);
        else
            (void)printf("added peer %s; agahd dials it now and keeps it\n",
                         mp_str(res, "address", addr, sizeof addr));
    }
    ctl_close(&ctl);
    return r;
}

/* Whether this node's key file has a passphrase: AGAH_KEYFILE_PROTECTED,
 * _NOPASS or _NOPASS_UNSAFE, or -1 when it cannot be read. The CLI reads
 * it from the file itself: agahd only read the key once at start. */
static int status_keyfile_pass(const struct cli *c)
{
    char path[AGAH_PATH_MAX];
    uint8_t pk[AGAH_PK_LEN];
    int nopass = 0;

    if (agah_datadir_path(c->datadir, "identity.key", path) != 0 ||
        agah_keyfile_peek(path, pk, &nopass, NULL) != 0)
        return -1;
    return nopass;
}

/* The daemon's status reply as JSON, with "passphrase": BOOL added when
 * the key file could be read. */
static int status_json(const msgpack_object *res, int nopass)
{
    msgpack_object_kv *kv;
    msgpack_object o;
    uint32_t n;

    if (nopass < 0 || res->type != MSGPACK_OBJECT_MAP)
        return json_print(res);
    n = res->via.map.size;
    if ((kv = calloc((size_t)n + 1, sizeof *kv)) == NULL)
        return cli_fail(EXIT_FAIL, "out of memory");
    if (n > 0)
        memcpy(kv, res->via.map.ptr, (size_t)n * sizeof *kv);
    kv[n].key.type = MSGPACK_OBJECT_STR;
    kv[n].key.via.str.ptr = "passphrase";
    kv[n].key.via.str.size = (uint32_t)strlen("passphrase");
    kv[n].val.type = MSGPACK_OBJECT_BOOLEAN;
    kv[n].val.via.boolean = nopass == AGAH_KEYFILE_PROTECTED;
    o.type = MSGPACK_OBJECT_MAP;
    o.via.map.size = n + 1;
    o.via.map.ptr = kv;
    (void)json_print(&o);
    free(kv);
    return 0;
}

/* An organiser's or member's key without a passphrase is given away with
 * the disk: say so at every status, whatever the output format. A relay is
 * passphrase-less by design (it holds no member data), so a note does. */
static void status_warn(const struct cli *c, const char *role, int nopass)
{
    if (nopass <= AGAH_KEYFILE_PROTECTED)
        return;
    if (strcmp(role, "relay") == 0) {
        if (!c->json)
            (void)printf("%snote: this identity has no passphrase; anyone who can read %s has "
                         "its key%s\n", out_c("\033[33m"), c->datadir, out_reset());
        return;
    }
    (void)fflush(stdout);
    (void)fprintf(stderr, "agah: warning: this identity has no passphrase, and it is %s: "
                          "anyone who can read %s has its key. Set one with `agah --data %s "
                          "passphrase`.\n",
                  strcmp(role, "organiser") == 0 ? "an organiser's" : "a member's", c->datadir,
                  c->datadir);
}

int cmd_status(struct cli *c)
{
    struct ctl ctl;
    const msgpack_object *res;
    int r;

    r = req_noargs(c, &ctl, "status", &res);
    if (r == 0)
        r = status_print(c, res, status_keyfile_pass(c));
    ctl_close(&ctl);
    return r;
}

int status_print(const struct cli *c, const msgpack_object *res, int nopass)
{
    char mid[AGAH_IDSTR_SIZE], cid[AGAH_IDSTR_SIZE], role[16];
    int r;

    (void)mp_str(res, "role", role, sizeof role);
    if (c->json) {
        r = status_json(res, nopass);
        status_warn(c, role, nopass);
        return r;
    }
    (void)printf("data        %s\n", c->datadir);
    (void)printf("member      %s\n", mp_str(res, "member_id", mid, sizeof mid));
    (void)printf("community   %s\n", mp_str(res, "community_id", cid, sizeof cid));
    (void)printf("role        %s\n", role);
    (void)printf("epoch       %" PRIu64 "\n", mp_uint(res, "epoch"));
    uint64_t np = mp_uint(res, "peers"), na = mp_uint(res, "alerts");
    (void)printf("peers       %" PRIu64 " connected\n", np);
    (void)printf("alerts      %" PRIu64 " active\n", na);
    (void)printf("passphrase  %s\n", nopass < 0                          ? "unknown"
                                     : nopass == AGAH_KEYFILE_PROTECTED ? "yes"
                                                                        : "none");
    uint64_t nu = mp_uint(res, "unreadable");
    if (nu > 0 && strcmp(role, "relay") != 0)
        (void)printf("%sunreadable  %" PRIu64 " alert(s) sealed under an epoch key this node does "
                     "not hold yet; they open when it arrives%s\n",
                     out_c("\033[33m"), nu, out_reset());
    status_warn(c, role, nopass);
    return 0;
}

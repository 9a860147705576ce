/* The control protocol's one schema (include/agah/ctl.h): the command and
 * argument tables, the exit codes, and the envelope codec both ends use,
 * so the daemon cannot accept what the CLI never sends, or answer in a
 * shape the CLI does not read. */
#include <string.h>
#include <agah/agah.h>
#include <agah/ctl.h>
#include <agah/mp.h>

#define R AGAH_CTL_F_REQ
#define N AGAH_CTL_F_NIL

static const struct agah_ctl_arg_def ctl_args[AGAH_CTL_NARGS] = {
    [AGAH_CTL_ARG_KIND] = {"kind", AGAH_CTL_T_STR, 16},
    [AGAH_CTL_ARG_TARGET] = {"target", AGAH_CTL_T_STR, AGAH_TARGET_MAX - 1},
    [AGAH_CTL_ARG_CATEGORY] = {"category", AGAH_CTL_T_STR, 32},
    [AGAH_CTL_ARG_NOTE] = {"note", AGAH_CTL_T_STR, AGAH_NOTE_MAX},
    [AGAH_CTL_ARG_SEVERITY] = {"severity", AGAH_CTL_T_STR, 16},
    [AGAH_CTL_ARG_EXPIRES] = {"expires", AGAH_CTL_T_UINT, AGAH_CTL_EXPIRES_MAX},
    [AGAH_CTL_ARG_ALL] = {"all", AGAH_CTL_T_BOOL, 0},
    [AGAH_CTL_ARG_RETRACT_ALERTS] = {"retract_alerts", AGAH_CTL_T_BOOL, 0},
    [AGAH_CTL_ARG_ALSO_ADMITTED] = {"also_admitted", AGAH_CTL_T_BOOL, 0},
    [AGAH_CTL_ARG_DRY_RUN] = {"dry_run", AGAH_CTL_T_BOOL, 0},
    [AGAH_CTL_ARG_ID] = {"id", AGAH_CTL_T_STR, 2 * AGAH_HASH_LEN},
    [AGAH_CTL_ARG_REASON] = {"reason", AGAH_CTL_T_STR, AGAH_NOTE_MAX},
    [AGAH_CTL_ARG_MEMBER_ID] = {"member_id", AGAH_CTL_T_STR, AGAH_IDSTR_LEN},
    [AGAH_CTL_ARG_ROLE] = {"role", AGAH_CTL_T_STR, 16},
    [AGAH_CTL_ARG_NAME] = {"name", AGAH_CTL_T_STR, AGAH_NAME_MAX},
    [AGAH_CTL_ARG_ADDRESS] = {"address", AGAH_CTL_T_STR, AGAH_ADDR_MAX - 1},
    [AGAH_CTL_ARG_QUERY] = {"query", AGAH_CTL_T_STR, AGAH_CTL_QUERY_MAX},
    [AGAH_CTL_ARG_REGION] = {"region", AGAH_CTL_T_STR, 2},
    [AGAH_CTL_ARG_LIMIT] = {"limit", AGAH_CTL_T_UINT, AGAH_CTL_LIST_LIMIT_MAX},
    [AGAH_CTL_ARG_AFTER] = {"after", AGAH_CTL_T_STR, 2 * AGAH_HASH_LEN},
    [AGAH_CTL_ARG_PURGE_SINCE] = {"purge_since", AGAH_CTL_T_UINT, UINT64_MAX},
    [AGAH_CTL_ARG_NOTES] = {"notes", AGAH_CTL_T_BOOL, 0},
};

/* Which commands exist and which arguments each takes. Anything not
 * listed is refused. */
static const struct agah_ctl_cmd_def ctl_cmds[AGAH_CTL_NCMDS] = {
    [AGAH_CTL_STATUS] = {"status", 0, {{0, 0}}},
    [AGAH_CTL_POST] = {"post", 7,
                       {{AGAH_CTL_ARG_KIND, R}, {AGAH_CTL_ARG_TARGET, N},
                        {AGAH_CTL_ARG_CATEGORY, 0}, {AGAH_CTL_ARG_NOTE, N},
                        {AGAH_CTL_ARG_SEVERITY, 0}, {AGAH_CTL_ARG_EXPIRES, 0},
                        {AGAH_CTL_ARG_REGION, N}}},
    [AGAH_CTL_CHECK] = {"check", 6,
                        {{AGAH_CTL_ARG_TARGET, 0}, {AGAH_CTL_ARG_QUERY, 0},
                         {AGAH_CTL_ARG_REGION, N}, {AGAH_CTL_ARG_LIMIT, 0},
                         {AGAH_CTL_ARG_AFTER, N}, {AGAH_CTL_ARG_NOTES, 0}}},
    [AGAH_CTL_LIST] = {"list", 4,
                       {{AGAH_CTL_ARG_KIND, N}, {AGAH_CTL_ARG_ALL, 0}, {AGAH_CTL_ARG_LIMIT, 0},
                        {AGAH_CTL_ARG_AFTER, N}}},
    [AGAH_CTL_SHOW] = {"show", 1, {{AGAH_CTL_ARG_ID, R}}},
    [AGAH_CTL_CONFIRM] = {"confirm", 2, {{AGAH_CTL_ARG_ID, R}, {AGAH_CTL_ARG_NOTE, N}}},
    [AGAH_CTL_RETRACT] = {"retract", 2, {{AGAH_CTL_ARG_ID, R}, {AGAH_CTL_ARG_REASON, N}}},
    [AGAH_CTL_INVITE] = {"invite", 4,
                         {{AGAH_CTL_ARG_MEMBER_ID, R}, {AGAH_CTL_ARG_ROLE, 0},
                          {AGAH_CTL_ARG_NAME, N}, {AGAH_CTL_ARG_ADDRESS, N}}},
    [AGAH_CTL_REVOKE] = {"revoke", 6,
                         {{AGAH_CTL_ARG_MEMBER_ID, R}, {AGAH_CTL_ARG_REASON, N},
                          {AGAH_CTL_ARG_RETRACT_ALERTS, 0}, {AGAH_CTL_ARG_ALSO_ADMITTED, 0},
                          {AGAH_CTL_ARG_DRY_RUN, 0}, {AGAH_CTL_ARG_PURGE_SINCE, 0}}},
    [AGAH_CTL_MEMBERS] = {"members", 0, {{0, 0}}},
    [AGAH_CTL_PEERS] = {"peers", 0, {{0, 0}}},
    [AGAH_CTL_PEER_ADD] = {"peer_add", 1, {{AGAH_CTL_ARG_ADDRESS, R}}},
    [AGAH_CTL_WATCH] = {"watch", 0, {{0, 0}}},
};

#undef R
#undef N

const struct agah_ctl_cmd_def *agah_ctl_cmd(int cmd)
{
    return cmd >= 0 && cmd < AGAH_CTL_NCMDS ? &ctl_cmds[cmd] : NULL;
}

const struct agah_ctl_arg_def *agah_ctl_arg(int arg)
{
    return arg >= 0 && arg < AGAH_CTL_NARGS ? &ctl_args[arg] : NULL;
}

const char *agah_ctl_cmd_name(int cmd)
{
    return cmd >= 0 && cmd < AGAH_CTL_NCMDS ? ctl_cmds[cmd].name : NULL;
}

int agah_ctl_cmd_find(const char *name, size_t n)
{
    for (int c = 0; c < AGAH_CTL_NCMDS; c++)
        if (strlen(ctl_cmds[c].name) == n && memcmp(ctl_cmds[c].name, name, n) == 0)
            return c;
    return -1;
}

int agah_ctl_exit_code(int err)
{
    switch (err) {
    case AGAH_EPERM:
        return AGAH_CTL_EXIT_PERM;
    case AGAH_EINVAL: case AGAH_ENOENT: case AGAH_ENUMBER: case AGAH_EACCOUNT:
    case AGAH_EREGION: case AGAH_ECHECKSUM: case AGAH_EEXIST: case AGAH_EEXPIRED:
    case AGAH_EVALUE: case AGAH_ETOOBIG: case AGAH_ETYPE: case AGAH_EFIELDS:
    case AGAH_EVERSION: case AGAH_ETRUNC: case AGAH_ETRAILING:
        return AGAH_CTL_EXIT_USAGE;
    default:
        return AGAH_CTL_EXIT_FAIL;
    }
}

/* ------------------------------------------------------------------ */
/* Encoding                                                             */

/* Packs a string; the packer's fixbuf refuses what does not fit. */
static int ctl__pack_str(msgpack_packer *pk, const char *s)
{
    size_t n = strlen(s);
    return msgpack_pack_str(pk, n) != 0 || msgpack_pack_str_body(pk, s, n) != 0 ? -1 : 0;
}

int agah_ctl_req_head(int cmd, size_t nargs, uint8_t buf[AGAH_CTL_REQ_HEAD_MAX], size_t *len)
{
    struct agah_mp_fixbuf fb = {buf, 0, AGAH_CTL_REQ_HEAD_MAX};
    msgpack_packer pk;

    if (agah_ctl_cmd(cmd) == NULL || nargs > AGAH_CTL_CMD_MAX_ARGS)
        return AGAH_EINVAL;
    msgpack_packer_init(&pk, &fb, agah_mp_fixbuf_write);
    if (msgpack_pack_map(&pk, (uint32_t)nargs + 2) != 0 ||
        ctl__pack_str(&pk, AGAH_CTL_K_VERSION) != 0 ||
        msgpack_pack_uint64(&pk, AGAH_CTL_VERSION) != 0 ||
        ctl__pack_str(&pk, AGAH_CTL_K_CMD) != 0 || ctl__pack_str(&pk, ctl_cmds[cmd].name) != 0)
        return AGAH_ETOOBIG;
    *len = fb.len;
    return 0;
}

/* {"v": 1, "ok": ok, ...}: the start of every response. */
static int ctl__resp_start(msgpack_packer *pk, size_t n_keys, int ok)
{
    if (msgpack_pack_map(pk, (uint32_t)n_keys) != 0 ||
        ctl__pack_str(pk, AGAH_CTL_K_VERSION) != 0 ||
        msgpack_pack_uint64(pk, AGAH_CTL_VERSION) != 0 || ctl__pack_str(pk, AGAH_CTL_K_OK) != 0 ||
        (ok ? msgpack_pack_true(pk) : msgpack_pack_false(pk)) != 0)
        return -1;
    return 0;
}

size_t agah_ctl_resp_head(int event, uint8_t buf[AGAH_CTL_RESP_HEAD_MAX])
{
    struct agah_mp_fixbuf fb = {buf, 0, AGAH_CTL_RESP_HEAD_MAX};
    msgpack_packer pk;

    msgpack_packer_init(&pk, &fb, agah_mp_fixbuf_write);
    /* Fixed keys that fit by construction: the packer cannot fail. */
    (void)ctl__resp_start(&pk, 3, 1);
    (void)ctl__pack_str(&pk, event ? AGAH_CTL_K_EVENT : AGAH_CTL_K_RESULT);
    return fb.len;
}

int agah_ctl_resp_error(int exit_code, const char *msg, uint8_t *buf, size_t cap, size_t *len)
{
    struct agah_mp_fixbuf fb = {buf, 0, cap};
    msgpack_packer pk;

    msgpack_packer_init(&pk, &fb, agah_mp_fixbuf_write);
    if (exit_code < 0 || ctl__resp_start(&pk, 4, 0) != 0 ||
        ctl__pack_str(&pk, AGAH_CTL_K_EXIT) != 0 ||
        msgpack_pack_uint64(&pk, (uint64_t)exit_code) != 0 ||
        ctl__pack_str(&pk, AGAH_CTL_K_ERROR) != 0 || ctl__pack_str(&pk, msg) != 0)
        return AGAH_ETOOBIG;
    *len = fb.len;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Decoding                                                             */

static int key_is(const msgpack_object *k, const char *s)
{
    size_t n = strlen(s);
    return k->type == MSGPACK_OBJECT_STR && k->via.str.size == n &&
           memcmp(k->via.str.ptr, s, n) == 0;
}

/* A key or command name from the client, made safe to quote in a message:
 * printable ASCII only, at most 32 characters. */
static void quote(const char *p, size_t n, char out[40])
{
    size_t k = 0;

    for (size_t i = 0; i < n && k < 32; i++)
        out[k++] = (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"') ? p[i] : '?';
    if (n > 32) {
        out[k++] = '.';
        out[k++] = '.';
        out[k++] = '.';
    }
    out[k] = '\0';
}

/* First pass over the map: every key a string, exactly one "cmd" naming a
 * known command. It decides which other keys are legal. */
static int req_find_cmd(const msgpack_object_map *m, int *cmd, struct agah_why *why)
{
    char q[40];
    int n_cmd = 0;

    *cmd = -1;
    for (uint32_t i = 0; i < m->size; i++) {
        const msgpack_object *k = &m->ptr[i].key, *v = &m->ptr[i].val;
        if (k->type != MSGPACK_OBJECT_STR)
            return agah_fail(why, AGAH_EFIELDS, "request keys must be strings");
        if (!key_is(k, AGAH_CTL_K_CMD))
            continue;
        if (++n_cmd > 1)
            return agah_fail(why, AGAH_EFIELDS, "duplicate key \"cmd\"");
        if (v->type != MSGPACK_OBJECT_STR)
            return agah_fail(why, AGAH_ETYPE, "cmd: expected a string");
        if ((*cmd = agah_ctl_cmd_find(v->via.str.ptr, v->via.str.size)) < 0) {
            quote(v->via.str.ptr, v->via.str.size, q);
            return agah_fail(why, AGAH_EINVAL, "unknown command \"%s\"", q);
        }
    }
    if (*cmd < 0)
        return agah_fail(why, AGAH_EFIELDS, "missing key \"cmd\"");
    return 0;
}

static int req_version(const msgpack_object *v, struct agah_why *why)
{
    uint64_t ver;
    int rc = agah_mp_uint(v, AGAH_CTL_K_VERSION, UINT64_MAX, &ver, why);

    if (rc != 0)
        return rc;
    if (ver != AGAH_CTL_VERSION)
        return agah_fail(why, AGAH_EVERSION,
                         "control protocol version %llu is not supported (this agahd speaks %d)",
                         (unsigned long long)ver, AGAH_CTL_VERSION);
    return 0;
}

/* Second pass: "v" once and right, then each argument the command takes,
 * once, handed to `take`. */
static int req_args(const msgpack_object_map *m, const struct agah_ctl_cmd_def *cd,
                    agah_ctl_arg_fn take, void *ctx, unsigned *have, struct agah_why *why)
{
    unsigned seen = 0; /* bits: keys met */
    int have_v = 0, rc;
    char q[40];

    for (uint32_t i = 0; i < m->size; i++) {
        const msgpack_object *k = &m->ptr[i].key, *v = &m->ptr[i].val;
        int arg = -1;
        unsigned flags = 0;

        if (key_is(k, AGAH_CTL_K_CMD))
            continue;
        if (key_is(k, AGAH_CTL_K_VERSION)) {
            if (have_v++)
                return agah_fail(why, AGAH_EFIELDS, "duplicate key \"v\"");
            if ((rc = req_version(v, why)) != 0)
                return rc;
            continue;
        }
        for (size_t j = 0; j < cd->n_args; j++)
            if (key_is(k, ctl_args[cd->args[j].arg].key)) {
                arg = cd->args[j].arg;
                flags = cd->args[j].flags;
            }
        if (arg < 0) {
            quote(k->via.str.ptr, k->via.str.size, q);
            return agah_fail(why, AGAH_EFIELDS, "%s takes no argument \"%s\"", cd->name, q);
        }
        if (seen & AGAH_CTL_ARG_BIT(arg))
            return agah_fail(why, AGAH_EFIELDS, "duplicate key \"%s\"", ctl_args[arg].key);
        seen |= AGAH_CTL_ARG_BIT(arg);
        if (v->type == MSGPACK_OBJECT_NIL && (flags & AGAH_CTL_F_NIL))
            continue;
        if ((rc = take(ctx, arg, v, why)) != 0)
            return rc;
        *have |= AGAH_CTL_ARG_BIT(arg);
    }
    if (!have_v)
        return agah_fail(why, AGAH_EFIELDS, "missing key \"v\"");
    for (size_t j = 0; j < cd->n_args; j++)
        if ((cd->args[j].flags & AGAH_CTL_F_REQ) && !(*have & AGAH_CTL_ARG_BIT(cd->args[j].arg)))
            return agah_fail(why, AGAH_EFIELDS, "%s needs the argument \"%s\"", cd->name,
                             ctl_args[cd->args[j].arg].key);
    return 0;
}

int agah_ctl_req_decode(const uint8_t *buf, size_t len, agah_ctl_arg_fn take, void *ctx,
                        struct agah_ctl_req_info *info, struct agah_why *why)
{
    msgpack_unpacked up;
    int rc;

    info->cmd = -1;
    info->fatal = 0;
    info->have = 0;
    msgpack_unpacked_init(&up);
    if ((rc = agah_mp_unpack(buf, len, 0, &up, why)) != 0) {
        info->fatal = 1;
        goto out;
    }
    if (up.data.type != MSGPACK_OBJECT_MAP) {
        info->fatal = 1;
        rc = agah_fail(why, AGAH_ETYPE, "a request must be a msgpack map");
        goto out;
    }
    if ((rc = req_find_cmd(&up.data.via.map, &info->cmd, why)) != 0)
        goto out;
    rc = req_args(&up.data.via.map, &ctl_cmds[info->cmd], take, ctx, &info->have, why);
out:
    msgpack_unpacked_destroy(&up);
    return rc;
}

/* The value under key k in map m, or NULL. */
static const msgpack_object *ctl__get(const msgpack_object *m, const char *k)
{
    for (uint32_t i = 0; i < m->via.map.size; i++)
        if (key_is(&m->via.map.ptr[i].key, k))
            return &m->via.map.ptr[i].val;
    return NULL;
}

int agah_ctl_resp_decode(const msgpack_object *m, struct agah_ctl_resp *out,
                         struct agah_why *why)
{
    const msgpack_object *v, *ok, *ex, *er;

    memset(out, 0, sizeof *out);
    out->exit = AGAH_CTL_EXIT_FAIL;
    if (m->type != MSGPACK_OBJECT_MAP)
        return agah_fail(why, AGAH_ETYPE, "not a map");
    v = ctl__get(m, AGAH_CTL_K_VERSION);
    ok = ctl__get(m, AGAH_CTL_K_OK);
    if (v == NULL || v->type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
        v->via.u64 != AGAH_CTL_VERSION || ok == NULL || ok->type != MSGPACK_OBJECT_BOOLEAN)
        return agah_fail(why, AGAH_EVERSION, "a response of an unknown version or shape");
    if (!ok->via.boolean) {
        ex = ctl__get(m, AGAH_CTL_K_EXIT);
        er = ctl__get(m, AGAH_CTL_K_ERROR);
        /* Only the codes a failure may map to; anything else is "other". */
        if (ex != NULL && ex->type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
            (ex->via.u64 == AGAH_CTL_EXIT_USAGE || ex->via.u64 == AGAH_CTL_EXIT_PERM ||
             ex->via.u64 == AGAH_CTL_EXIT_FAIL))
            out->exit = (int)ex->via.u64;
        if (er != NULL && er->type == MSGPACK_OBJECT_STR && er->via.str.size > 0) {
            out->error = er->via.str.ptr;
            out->error_len = er->via.str.size;
        }
        return 0;
    }
    out->ok = 1;
    out->result = ctl__get(m, AGAH_CTL_K_RESULT);
    if (out->result == NULL)
        out->result = ctl__get(m, AGAH_CTL_K_EVENT);
    if (out->result == NULL)
        return agah_fail(why, AGAH_EFIELDS, "a response without a result");
    return 0;
}

/* The control requests, decoded: the schema (include/agah/ctl.h) checks
 * the envelope, the command and which arguments it takes; here each
 * argument's value is converted into a struct control_req (enums parsed,
 * ids decoded, addresses checked) and the cross-field rules of `post` and
 * `check` run, normalising targets so that a client which skipped
 * normalisation cannot store a second spelling. Pure: no I/O, no node. */
#define _POSIX_C_SOURCE 200809L /* what uv.h needs */
#include <ctype.h>
#include <string.h>
#include <sodium.h>
#include <agah/mp.h>
#include "control_int.h"

/* Reads a string argument into dst (NUL-terminated; dst holds max + 1). */
static int take_str(const msgpack_object *o, const char *what, size_t max, char *dst,
                    struct agah_why *why)
{
    const char *p;
    size_t n;
    int r = agah_mp_str(o, what, max, &p, &n, why);

    if (r != 0)
        return r;
    memcpy(dst, p, n);
    dst[n] = '\0';
    return 0;
}

/* "host:port" by the one parser (include/agah/addr.h). */
static int address_check(const char *a, struct agah_why *why)
{
    struct agah_why aw = {{0}};
    int r = agah_addr_parse(a, strlen(a), NULL, &aw);
    return r == 0 ? 0 : agah_fail(why, r, "address: %s", aw.msg);
}

/* Reads one argument's value into the request (ctx), converting and
 * checking it: the agah_ctl_arg_fn of agah_ctl_req_decode. */
static int arg_take(void *ctx, int arg, const msgpack_object *o, struct agah_why *why)
{
    struct control_req *r = ctx;
    const struct agah_ctl_arg_def *d = agah_ctl_arg(arg);
    char buf[40];
    int v, rc;

    switch (d->type) {
    case AGAH_CTL_T_UINT:
        return agah_mp_uint(o, d->key, d->max,
                            arg == AGAH_CTL_ARG_LIMIT         ? &r->limit
                            : arg == AGAH_CTL_ARG_PURGE_SINCE ? &r->purge_since
                                                     : &r->expires,
                            why);
    case AGAH_CTL_T_BOOL:
        if (o->type != MSGPACK_OBJECT_BOOLEAN)
            return agah_fail(why, AGAH_ETYPE, "%s: expected a bool", d->key);
        v = o->via.boolean ? 1 : 0;
        if (arg == AGAH_CTL_ARG_RETRACT_ALERTS)
            r->retract_alerts = v;
        else if (arg == AGAH_CTL_ARG_ALSO_ADMITTED)
            r->also_admitted = v;
        else if (arg == AGAH_CTL_ARG_DRY_RUN)
            r->dry_run = v;
        else if (arg == AGAH_CTL_ARG_NOTES)
            r->notes = v;
        else
            r->all = v;
        return 0;
    default:
        break;
    }
    switch (arg) {
    case AGAH_CTL_ARG_KIND:
        if ((rc = take_str(o, d->key, d->max, buf, why)) != 0)
            return rc;
        if ((v = agah_kind_parse(buf)) < 0)
            return agah_fail(why, AGAH_EINVAL, "kind: expected number, account or alert");
        r->kind = v;
        return 0;
    case AGAH_CTL_ARG_TARGET:
        return take_str(o, d->key, d->max, r->target, why);
    case AGAH_CTL_ARG_QUERY:
        return take_str(o, d->key, d->max, r->query, why);
    case AGAH_CTL_ARG_REGION:
        if ((rc = take_str(o, d->key, d->max, r->region, why)) != 0)
            return rc;
        /* "" means none, as an absent or nil region does. */
        if (r->region[0] != '\0' &&
            (strlen(r->region) != 2 || !isalpha((unsigned char)r->region[0]) ||
             !isalpha((unsigned char)r->region[1])))
            return agah_fail(why, AGAH_EINVAL,
                             "region \"%s\" is not a two-letter country code (e.g. GB, TR)",
                             r->region);
        return 0;
    case AGAH_CTL_ARG_CATEGORY:
        if ((rc = take_str(o, d->key, d->max, buf, why)) != 0)
            return rc;
        if ((v = agah_category_parse(buf)) < 0)
            return agah_fail(why, AGAH_EINVAL, "category: expected harassment, impersonation, "
                                               "scam, surveillance or other");
        r->category = v;
        return 0;
    case AGAH_CTL_ARG_SEVERITY:
        if ((rc = take_str(o, d->key, d->max, buf, why)) != 0)
            return rc;
        if ((v = agah_severity_parse(buf)) < 0)
            return agah_fail(why, AGAH_EINVAL, "severity: expected info, warning or danger");
        r->severity = v;
        return 0;
    case AGAH_CTL_ARG_ROLE:
        if ((rc = take_str(o, d->key, d->max, buf, why)) != 0)
            return rc;
        if ((v = agah_role_parse(buf)) < 0)
            return agah_fail(why, AGAH_EINVAL, "role: expected member, organiser or relay");
        r->role = v;
        return 0;
    case AGAH_CTL_ARG_NOTE:
    case AGAH_CTL_ARG_REASON:
        return take_str(o, d->key, d->max, r->note, why);
    case AGAH_CTL_ARG_NAME:
        if ((rc = take_str(o, d->key, d->max, r->name, why)) != 0)
            return rc;
        /* A name is a one-line label other members will see. */
        for (const char *p = r->name; *p != '\0'; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f)
                return agah_fail(why, AGAH_EINVAL, "name: control characters are not allowed");
        return 0;
    case AGAH_CTL_ARG_ID: {
        size_t n;
        if ((rc = take_str(o, d->key, d->max, r->id, why)) != 0)
            return rc;
        n = strlen(r->id);
        if (n < 4)
            return agah_fail(why, AGAH_EINVAL, "id: give at least 4 hex digits of the alert id");
        for (size_t i = 0; i < n; i++) {
            char ch = r->id[i];
            if (ch >= 'A' && ch <= 'F')
                r->id[i] = (char)(ch - 'A' + 'a');
            else if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f')))
                return agah_fail(why, AGAH_EINVAL, "id: an alert id is hex digits 0-9, a-f");
        }
        return 0;
    }
    case AGAH_CTL_ARG_AFTER: {
        /* A whole alert id: a cursor, never a prefix that could grow
         * ambiguous between two pages. */
        char hex[2 * AGAH_HASH_LEN + 1];
        if ((rc = take_str(o, d->key, d->max, hex, why)) != 0)
            return rc;
        if (strlen(hex) != 2 * AGAH_HASH_LEN ||
            sodium_hex2bin(r->after, AGAH_HASH_LEN, hex, strlen(hex), NULL, NULL, NULL) != 0)
            return agah_fail(why, AGAH_EINVAL, "after: give the whole alert id (64 hex digits)");
        r->has_after = 1;
        return 0;
    }
    case AGAH_CTL_ARG_MEMBER_ID:
        if ((rc = take_str(o, d->key, d->max, r->member_id, why)) != 0)
            return rc;
        return agah_id_decode(r->member_id, AGAH_IDPFX_MEMBER, r->member, why);
    case AGAH_CTL_ARG_ADDRESS:
        if ((rc = take_str(o, d->key, d->max, r->address, why)) != 0)
            return rc;
        return address_check(r->address, why);
    default:
        return agah_fail(why, AGAH_EINTERNAL, "argument %d has no reader", arg);
    }
}

/* Normalises a target as the user typed it, with the region for a national
 * number, into out. On failure the message is written for the person who
 * typed it (the CLI shows it as is) and names the input. */
static int target_normalize(const char *input, const char *region, int kind,
                            char out[AGAH_TARGET_MAX], struct agah_why *why)
{
    struct agah_why w = {{0}};
    const char *detail;
    int got, rc;

    if (kind == AGAH_TARGET_NUMBER)
        rc = agah_number_normalize(input, region, out, &w);
    else if (kind == AGAH_TARGET_ACCOUNT)
        rc = agah_account_normalize(input, region, out, &w);
    else
        rc = agah_target_normalize(input, region, out, &got, &w);
    if (rc == 0)
        return 0;
    detail = w.msg[0] ? w.msg : agah_strerror(rc);
    if (rc == AGAH_EREGION)
        return agah_fail(why, rc, "\"%.60s\" is a national number: give its country with "
                         "--region CC (e.g. --region GB) or set AGAH_REGION, or write it "
                         "with + and the country code", input);
    /* Most details already quote the input ('abc' contains letters...):
     * those stand alone rather than quote it twice. */
    if ((rc == AGAH_ENUMBER || rc == AGAH_EACCOUNT) && detail[0] == '\'')
        return agah_fail(why, rc, "%s", detail);
    if (rc == AGAH_ENUMBER)
        return agah_fail(why, rc, "\"%.60s\" is not a phone number: %s", input, detail);
    if (rc == AGAH_EACCOUNT)
        return agah_fail(why, rc, "\"%.60s\" is not a valid account: %s", input, detail);
    return agah_fail(why, rc, "\"%.60s\": %s", input, detail);
}

/* post: the target must suit the kind and is normalised here (with the
 * region, if given), so a client that skipped normalisation cannot store
 * a second spelling. */
static int check_post(struct control_req *r, unsigned have, struct agah_why *why)
{
    char norm[AGAH_TARGET_MAX];
    int rc;

    if (r->kind == AGAH_KIND_ALERT) {
        if ((have & AGAH_CTL_ARG_BIT(AGAH_CTL_ARG_TARGET)) && r->target[0] != '\0')
            return agah_fail(why, AGAH_EINVAL, "target: a free-text alert has no target");
        if (r->note[0] == '\0')
            return agah_fail(why, AGAH_EINVAL, "note: a free-text alert needs a note");
        r->target[0] = '\0';
        return 0;
    }
    if (!(have & AGAH_CTL_ARG_BIT(AGAH_CTL_ARG_TARGET)))
        return agah_fail(why, AGAH_EINVAL, "target: a %s alert needs a target",
                         r->kind == AGAH_KIND_NUMBER ? "number" : "account");
    rc = target_normalize(r->target, r->region,
                          r->kind == AGAH_KIND_NUMBER ? AGAH_TARGET_NUMBER : AGAH_TARGET_ACCOUNT,
                          norm, why);
    if (rc != 0)
        return rc;
    memcpy(r->target, norm, sizeof norm);
    return 0;
}

/* check: either `query` (as typed, normalised here with `region`, so the
 * CLI needs no phone-number library) or `target`; never both. */
static int check_check(struct control_req *r, unsigned have, struct agah_why *why)
{
    char norm[AGAH_TARGET_MAX];
    int has_q = (have & AGAH_CTL_ARG_BIT(AGAH_CTL_ARG_QUERY)) != 0;
    int has_t = (have & AGAH_CTL_ARG_BIT(AGAH_CTL_ARG_TARGET)) != 0;
    int rc;

    if (has_q == has_t)
        return agah_fail(why, AGAH_EFIELDS, "check needs the argument \"target\" or "
                                            "\"query\", not both");
    if (has_t && r->region[0] != '\0')
        return agah_fail(why, AGAH_EFIELDS, "check: \"region\" goes with \"query\"");
    if ((rc = target_normalize(has_q ? r->query : r->target, r->region, 0, norm, why)) != 0)
        return rc;
    memcpy(r->target, norm, sizeof norm);
    return 0;
}

static void req_defaults(struct control_req *r)
{
    memset(r, 0, sizeof *r);
    r->cmd = -1;
    r->category = AGAH_CAT_HARASSMENT;
    r->severity = AGAH_SEV_WARNING;
    r->role = -1; /* invite: not given */
    r->notes = 1;  /* check: with notes unless asked without */
}

/* Cross-field checks after every argument has been read, by command. */
static int (*const cmd_checks[AGAH_CTL_NCMDS])(struct control_req *r, unsigned have,
                                               struct agah_why *why) = {
    [AGAH_CTL_POST] = check_post,
    [AGAH_CTL_CHECK] = check_check,
};

int control__parse_request(const uint8_t *buf, size_t len, struct control_req *r,
                           struct agah_why *why)
{
    struct agah_ctl_req_info info;
    int rc;

    req_defaults(r);
    rc = agah_ctl_req_decode(buf, len, arg_take, r, &info, why);
    r->cmd = info.cmd;
    r->fatal = info.fatal;
    if (rc == 0 && cmd_checks[r->cmd] != NULL)
        rc = cmd_checks[r->cmd](r, info.have, why);
    return rc;
}

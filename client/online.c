/* The online commands: each checks its input here first (so a bad id or
 * option exits 2 before anything is sent; numbers and accounts are
 * normalised by agahd, which refuses bad ones the same way), sends one request over
 * the control socket and prints the daemon's result, as JSON unchanged with
 * --json or for people otherwise. */
#define _DEFAULT_SOURCE /* strptime, timegm */
#define _XOPEN_SOURCE 700
#include <agah/keyfile.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "cli.h"

/* 100 years, the daemon's bound on an expiry (daemon/control.h). */
#define ON_EXPIRES_MAX (100ull * 366 * 86400)
#define ON_DEFAULT_EXPIRES (365ull * 86400)
/* Ids agahd lists for `revoke --also-admitted` (NODE_REVOKE_LIST_MAX). */
#define NODE_LIST_SHOWN 64u

/* A request being built. */
struct on_req {
    msgpack_sbuffer sb;
    msgpack_packer pk;
};

static void on_req_init(struct on_req *q)
{
    msgpack_sbuffer_init(&q->sb);
    msgpack_packer_init(&q->pk, &q->sb, msgpack_sbuffer_write);
}

/* Sends the request, prints an error and returns its exit code, or 0 with
 * *res valid until ctl_close. The request is released either way. */
static int on_call(struct cli *c, struct ctl *ctl, struct on_req *q, int packed_ok,
                   const msgpack_object **res)
{
    int r;
    memset(ctl, 0, sizeof *ctl);
    ctl->fd = -1;
    if (!packed_ok) {
        msgpack_sbuffer_destroy(&q->sb);
        return cli_fail(EXIT_FAIL, "cannot encode the request");
    }
    r = ctl_open(ctl, c->datadir);
    if (r == 0)
        r = ctl_call(ctl, &q->sb, CTL_TIMEOUT_SECONDS, res);
    msgpack_sbuffer_destroy(&q->sb);
    return r;
}

/* Prints a result as one JSON document. */
static int on_print_json(const msgpack_object *res)
{
    json_object(stdout, res);
    (void)fputc('\n', stdout);
    return 0;
}

static const char *on_region(const struct cli *c)
{
    const char *r = cli_opt(c, "region");
    if (r == NULL)
        r = getenv("AGAH_REGION");
    return r;
}

/* --region must look like an ISO 3166 alpha-2 code. */
/* --region, or else AGAH_REGION, must be a two-letter code; the message
 * names whichever one is wrong (a stale AGAH_REGION is easy to forget). */
static int on_region_ok(const struct cli *c)
{
    const char *opt = cli_opt(c, "region"), *region = on_region(c);

    if (region == NULL || region[0] == '\0')
        return 0;
    if (strlen(region) != 2 || !isalpha((unsigned char)region[0]) ||
        !isalpha((unsigned char)region[1]))
        return cli_fail(EXIT_USAGE, "%s \"%.20s\" is not a two-letter country code (e.g. GB, TR)",
                        opt != NULL ? "--region" : "AGAH_REGION", region);
    return 0;
}

/* Strict durations: a positive whole number of days, hours or minutes, or
 * "never" (0). Anything else is refused rather than guessed at. */
static int on_duration(const char *s, uint64_t *out)
{
    uint64_t v = 0, unit;
    size_t n = strlen(s), i;

    if (strcmp(s, "never") == 0) {
        *out = 0;
        return 0;
    }
    if (n < 2 || n > 12)
        goto bad;
    switch (s[n - 1]) {
    case 'd': unit = 86400; break;
    case 'h': unit = 3600; break;
    case 'm': unit = 60; break;
    default: goto bad;
    }
    if (s[0] == '0')
        goto bad;
    for (i = 0; i + 1 < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            goto bad;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v > ON_EXPIRES_MAX / unit)
        return cli_fail(EXIT_USAGE, "--expires %s is too far away (at most 100 years)", s);
    *out = v * unit;
    return 0;
bad:
    return cli_fail(EXIT_USAGE, "--expires \"%.40s\" is not a duration: use e.g. 90d, 12h, 30m or never",
                    s);
}

static int on_note_ok(const char *what, const char *s)
{
    size_t n = strlen(s);
    if (n > AGAH_NOTE_MAX)
        return cli_fail(EXIT_USAGE, "the %s is %zu bytes long; at most %d are allowed", what, n,
                        AGAH_NOTE_MAX);
    if (!agah_mp_utf8_ok(s, n))
        return cli_fail(EXIT_USAGE, "the %s is not valid UTF-8", what);
    return 0;
}

/* An alert id or a prefix of one: 4 to 64 hex digits, lowercased. */
static int on_alert_id(const char *s, char out[2 * AGAH_HASH_LEN + 1])
{
    size_t n = strlen(s);
    if (n < 4 || n > 2 * AGAH_HASH_LEN)
        goto bad;
    for (size_t i = 0; i < n; i++) {
        if (!isxdigit((unsigned char)s[i]))
            goto bad;
        out[i] = (char)tolower((unsigned char)s[i]);
    }
    out[n] = '\0';
    return 0;
bad:
    return cli_fail(EXIT_USAGE, "\"%.70s\" is not an alert id: use 4 to 64 hex digits as "
                    "printed by `agah list`", s);
}

static int on_member_id(const char *s)
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

/* Bytes `post` reads from standard input at most: a target line and a note. */
#define ON_STDIN_MAX (AGAH_TARGET_MAX + AGAH_NOTE_MAX + 8)

static void on_wipe(void *p, size_t n)
{
    volatile unsigned char *v = p;
    while (n-- > 0)
        *v++ = 0;
}

/* `post -` and `--note -`: the target is the first line of standard input
 * and the note the rest (or all of it when the target was given), so
 * neither shows in argv, /proc or a shell's history. *buf (caller wipes and
 * frees) holds both; *target and *note point into it, or stay as they were. */
static int on_post_stdin(int want_target, int want_note, char **buf, const char **target,
                         const char **note)
{
    size_t len = 0;
    char *b = malloc(ON_STDIN_MAX + 1), *rest;

    *buf = b;
    if (b == NULL)
        return cli_fail(EXIT_FAIL, "out of memory");
    for (;;) {
        size_t n = fread(b + len, 1, ON_STDIN_MAX + 1 - len, stdin);
        len += n;
        if (n == 0 || len > ON_STDIN_MAX)
            break;
    }
    if (ferror(stdin))
        return cli_fail(EXIT_USAGE, "cannot read standard input");
    if (len > ON_STDIN_MAX)
        return cli_fail(EXIT_USAGE, "standard input holds more than a target and a note "
                                    "(%d bytes at most)", ON_STDIN_MAX);
    if (memchr(b, '\0', len) != NULL)
        return cli_fail(EXIT_USAGE, "standard input holds a NUL byte");
    b[len] = '\0';
    rest = b;
    if (want_target) {
        char *nl = strchr(b, '\n');
        *target = b;
        if (nl != NULL) {
            *nl = '\0';
            rest = nl + 1;
        } else {
            rest = b + len;
        }
        if (nl != NULL && nl > b && nl[-1] == '\r')
            nl[-1] = '\0';
        if ((*target)[0] == '\0')
            return cli_fail(EXIT_USAGE, "`-` as the target: its first line on standard input is "
                                        "empty");
    }
    if (want_note) {
        size_t n = strlen(rest);
        /* One trailing line end goes, as a shell's here-string adds it. */
        if (n > 0 && rest[n - 1] == '\n')
            rest[--n] = '\0';
        if (n > 0 && rest[n - 1] == '\r')
            rest[--n] = '\0';
        *note = rest;
    }
    return 0;
}

static int on_post(struct cli *c, const char *what, const char *typed, const char *cat,
                   const char *note, const char *sev, const char *exp, const char *region);

int cmd_post(struct cli *c)
{
    const char *what = c->cmd + 5; /* "number", "account" or "alert" */
    const char *cat = cli_opt(c, "category"), *note = cli_opt(c, "note");
    const char *sev = cli_opt(c, "severity"), *exp = cli_opt(c, "expires");
    const char *region = on_region(c);
    const char *typed = c->npos > 0 ? c->pos[0] : "";
    char *in = NULL;
    int r;

    /* Sensitive text can come on standard input rather than in argv. */
    if ((strcmp(what, "alert") != 0 && strcmp(typed, "-") == 0) ||
        (note != NULL && strcmp(note, "-") == 0)) {
        if ((r = on_post_stdin(strcmp(what, "alert") != 0 && strcmp(typed, "-") == 0,
                               note != NULL && strcmp(note, "-") == 0, &in, &typed, &note)) != 0)
            goto done;
    }
    r = on_post(c, what, typed, cat, note, sev, exp, region);
done:
    if (in != NULL) {
        on_wipe(in, ON_STDIN_MAX + 1);
        free(in);
    }
    return r;
}

/* `post` once its target and note are known (typed, or from standard input). */
static int on_post(struct cli *c, const char *what, const char *typed, const char *cat,
                   const char *note, const char *sev, const char *exp, const char *region)
{
    const char *target;
    char rel[64];
    uint64_t expires = ON_DEFAULT_EXPIRES;
    int kind, r;
    struct ctl ctl;
    struct on_req q;
    const msgpack_object *res;

    if (strcmp(what, "number") == 0) {
        kind = AGAH_KIND_NUMBER;
        if (strchr(typed, ':') != NULL)
            return cli_fail(EXIT_USAGE, "\"%.60s\" is not a phone number (it has a ':'); for an "
                            "account use `agah post account SERVICE:HANDLE`", typed);
    } else if (strcmp(what, "account") == 0) {
        kind = AGAH_KIND_ACCOUNT;
        if (strchr(typed, ':') == NULL)
            return cli_fail(EXIT_USAGE, "\"%.60s\" is not an account: write SERVICE:HANDLE, e.g. "
                            "telegram:@name or wechat:wxid", typed);
    } else {
        kind = AGAH_KIND_ALERT;
        if (note == NULL || note[0] == '\0')
            return cli_fail(EXIT_USAGE, "`agah post alert` needs --note TEXT: the warning itself");
    }
    if (cat == NULL)
        cat = "harassment";
    if (agah_category_parse(cat) < 0)
        return cli_fail(EXIT_USAGE, "unknown category \"%.40s\": use harassment, impersonation, "
                        "scam, surveillance or other", cat);
    if (sev == NULL)
        sev = "warning";
    if (agah_severity_parse(sev) < 0)
        return cli_fail(EXIT_USAGE, "unknown severity \"%.40s\": use info, warning or danger", sev);
    if (note == NULL)
        note = "";
    if ((r = on_note_ok("note", note)) != 0)
        return r;
    if (exp != NULL && (r = on_duration(exp, &expires)) != 0)
        return r;
    /* The target goes as typed, with the region: agahd normalises it and
     * refuses bad input (exit 2, nothing stored), so this program needs no
     * phone-number library. */
    if (kind != AGAH_KIND_ALERT && (r = on_region_ok(c)) != 0)
        return r;
    target = kind == AGAH_KIND_ALERT ? "" : typed;

    on_req_init(&q);
    int ok = ctl_req_begin(&q.pk, "post", 7) == 0 &&
             ctl_pack_kv_str(&q.pk, "kind", what) == 0 &&
             ctl_pack_kv_str(&q.pk, "target", kind == AGAH_KIND_ALERT ? NULL : target) == 0 &&
             ctl_pack_kv_str(&q.pk, "region", kind != AGAH_KIND_ALERT && region != NULL &&
                                                  region[0] ? region : NULL) == 0 &&
             ctl_pack_kv_str(&q.pk, "category", cat) == 0 &&
             ctl_pack_kv_str(&q.pk, "note", note) == 0 &&
             ctl_pack_kv_str(&q.pk, "severity", sev) == 0 &&
             ctl_pack_kv_uint(&q.pk, "expires", expires) == 0;
    r = on_call(c, &ctl, &q, ok, &res);
    if (r == 0) {
        char id[2 * AGAH_HASH_LEN + 1];
        char norm[AGAH_TARGET_MAX];
        if (strlen(mp_str(res, "id", id, sizeof id)) != 2 * AGAH_HASH_LEN)
            r = cli_fail(EXIT_FAIL, "agahd answered the post without an id");
        else if (c->json) {
            /* CONTRACT.md: exactly {"id": ALERT_ID}. */
            (void)printf("{\"id\": \"%s\"}\n", id);
        } else {
            /* Show the target as agahd stored it, not as typed. */
            if (kind != AGAH_KIND_ALERT && mp_has_str(res, "normalized"))
                target = mp_str(res, "normalized", norm, sizeof norm);
            out_reltime(rel, sizeof rel, expires ? (uint64_t)time(NULL) + expires : 0,
                        (uint64_t)time(NULL));
            (void)printf("%s\n", id);
            (void)fflush(stdout);
            (void)fprintf(stderr, "agah: posted %s%s%s (%s, expires %s); it is on its way to "
                          "the other members.\n", what, target[0] ? " " : "", target, cat, rel);
        }
    }
    ctl_close(&ctl);
    return r;
}

/* One check request on an open connection: the query goes as typed, with
 * the region, and agahd normalises it (so this program needs no
 * phone-number library). Returns 0 (flagged), 1 (not) or an exit code; prints
 * the answer. In batch mode each human answer starts with the normalised
 * identifier, and a refusal (bad input) is printed here with its line. */
static int on_check_one(struct cli *c, struct ctl *ctl, const char *query, const char *region,
                        size_t lineno)
{
    struct on_req q;
    const msgpack_object *res;
    char target[AGAH_TARGET_MAX], why[512] = "";
    int r;

    on_req_init(&q);
    if (ctl_req_begin(&q.pk, "check", 2) != 0 || ctl_pack_kv_str(&q.pk, "query", query) != 0 ||
        ctl_pack_kv_str(&q.pk, "region", region != NULL && region[0] ? region : NULL) != 0) {
        msgpack_sbuffer_destroy(&q.sb);
        return cli_fail(EXIT_FAIL, "cannot encode the request");
    }
    if (lineno > 0) {
        ctl->refusal = why;
        ctl->refusal_size = sizeof why;
    }
    r = ctl_call(ctl, &q.sb, CTL_CHECK_TIMEOUT_SECONDS, &res);
    ctl->refusal = NULL;
    ctl->refusal_size = 0;
    msgpack_sbuffer_destroy(&q.sb);
    if (r != 0 && lineno > 0 && why[0] != '\0') {
        if (c->json) {
            (void)fputs("{\"query\": ", stdout);
            json_string(stdout, query, strlen(query));
            (void)fputs(", \"error\": ", stdout);
            json_string(stdout, why, strlen(why));
            (void)fputs("}\n", stdout);
        }
        return cli_fail(r, "line %zu: %s", lineno, why);
    }
    if (r != 0)
        return r;
    const msgpack_object *fl = mp_get(res, "flagged"), *alerts = mp_get(res, "alerts");
    target[0] = '\0';
    (void)mp_str(res, "normalized", target, sizeof target);
    if (fl == NULL || fl->type != MSGPACK_OBJECT_BOOLEAN || target[0] == '\0')
        return cli_fail(EXIT_FAIL, "agahd sent a check result without \"flagged\" or "
                                   "\"normalized\"");
    int flagged = fl->via.boolean;
    if (c->json) {
        (void)fputs("{\"query\": ", stdout);
        json_string(stdout, query, strlen(query));
        (void)fputs(", \"normalized\": ", stdout);
        json_string(stdout, target, strlen(target));
        (void)printf(", \"flagged\": %s, \"alerts\": ", flagged ? "true" : "false");
        if (alerts != NULL)
            json_object(stdout, alerts);
        else
            (void)fputs("[]", stdout);
        (void)fputs("}\n", stdout);
    } else {
        char line[512];
        if (lineno > 0)
            (void)printf("%s  ", target);
        if (flagged) {
            out_flagged_summary(line, sizeof line, alerts, (uint64_t)time(NULL));
            (void)printf("%s%s%s\n", out_c("\033[1;31m"), line, out_reset());
        } else {
            (void)printf("not flagged\n");
        }
    }
    return flagged ? 0 : 1;
}

/* `check` with no argument or "-": one identifier per line on stdin, one
 * answer per line; 0 if any is flagged, 1 if none, 2 if any line was
 * invalid (its answer is unknown, so it outweighs a "no"), 3 or 5 if the
 * daemon failed. */
static int on_check_batch(struct cli *c, const char *region)
{
    struct ctl ctl;
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t n;
    int any_flagged = 0, any_invalid = 0, connected = 0, r = 0;

    memset(&ctl, 0, sizeof ctl);
    ctl.fd = -1;
    while ((n = getline(&line, &cap, stdin)) >= 0) {
        char *s = line;
        lineno++;
        while (n > 0 && isspace((unsigned char)s[n - 1]))
            s[--n] = '\0';
        while (*s != '\0' && isspace((unsigned char)*s))
            s++;
        if (*s == '\0' || *s == '#')
            continue;
        if (!connected) {
            if ((r = ctl_open(&ctl, c->datadir)) != 0)
                goto out;
            connected = 1;
        }
        r = on_check_one(c, &ctl, s, region, lineno);
        if (r == 0)
            any_flagged = 1;
        else if (r == EXIT_USAGE)
            any_invalid = 1;
        else if (r != 1)
            goto out;
        (void)fflush(stdout);
    }
    if (ferror(stdin)) {
        r = cli_fail(EXIT_USAGE, "cannot read standard input: %s", strerror(errno));
        goto out;
    }
    /* No question has no answer: `agah check $empty` must not read as
     * "not flagged". */
    if (!connected) {
        r = cli_fail(EXIT_USAGE, "check: no NUMBER or SERVICE:HANDLE given, and none on "
                                 "standard input");
        goto out;
    }
    r = any_invalid ? EXIT_USAGE : any_flagged ? 0 : EXIT_NO;
out:
    free(line);
    ctl_close(&ctl);
    return r;
}

int cmd_check(struct cli *c)
{
    const char *region = on_region(c);
    struct ctl ctl;
    int r;

    if ((r = on_region_ok(c)) != 0)
        return r;
    if (c->npos == 0 && isatty(STDIN_FILENO))
        return cli_fail(EXIT_USAGE, "check: give a NUMBER or SERVICE:HANDLE, or pipe one per "
                                    "line on standard input (see agah check --help)");
    if (c->npos == 0 || strcmp(c->pos[0], "-") == 0)
        return on_check_batch(c, region);
    if ((r = ctl_open(&ctl, c->datadir)) != 0)
        return r;
    r = on_check_one(c, &ctl, c->pos[0], region, 0);
    ctl_close(&ctl);
    return r;
}

/* A name, else the first characters of the member id, from the keys
 * name_key and id_key of an ALERT. */
static void on_short_member(const msgpack_object *a, const char *name_key, const char *id_key,
                            char *buf, size_t size)
{
    char id[AGAH_IDSTR_SIZE];
    (void)mp_str(a, name_key, buf, size);
    if (buf[0] != '\0')
        return;
    (void)mp_str(a, id_key, id, sizeof id);
    (void)snprintf(buf, size, "%.12s%s", id, strlen(id) > 12 ? "\xe2\x80\xa6" : "");
}

/* The BY column: the author, marked when revoked since. */
static void on_short_author(const msgpack_object *a, char *buf, size_t size)
{
    on_short_member(a, "author_name", "author", buf, size);
    if (mp_bool(a, "author_revoked")) {
        size_t n = strlen(buf);
        (void)snprintf(buf + n, size - n, " (revoked)");
    }
}

/* The page size the CLI asks for: far below the 16 MiB a response may
 * hold (an alert is at most about 2.6 KiB of msgpack). */
#define LIST_PAGE 1000

/* One table row of `list`. */
static int list_row(struct table *t, const msgpack_object *a, int all, uint64_t now)
{
    char id[13], kd[16], tg[AGAH_TARGET_MAX], ca[32], by[AGAH_NAME_MAX + 16], po[32], ex[32],
        st[AGAH_NAME_MAX + 32], cf[16], note[AGAH_NOTE_MAX + 1], nshort[AGAH_NOTE_MAX + 4];
    const char *cells[10], *cols[10], *sevc = NULL;
    char sev[16];
    size_t k = 0;

    (void)mp_str(a, "id", id, sizeof id);
    (void)mp_str(a, "kind", kd, sizeof kd);
    (void)mp_str(a, "target", tg, sizeof tg);
    if (tg[0] == '\0')
        (void)snprintf(tg, sizeof tg, "-");
    (void)mp_str(a, "category", ca, sizeof ca);
    on_short_author(a, by, sizeof by);
    out_reltime(po, sizeof po, mp_uint(a, "created"), now);
    out_reltime(ex, sizeof ex, mp_uint(a, "expires"), now);
    (void)mp_str(a, "status", st, sizeof st);
    if (strcmp(st, "retracted") == 0 && mp_has_str(a, "retracted_by")) {
        char who[AGAH_NAME_MAX + 8];
        on_short_member(a, "retracted_by_name", "retracted_by", who, sizeof who);
        (void)snprintf(st, sizeof st, "retracted by %s", who);
    }
    (void)snprintf(cf, sizeof cf, "%" PRIu64, mp_uint(a, "confirmations"));
    (void)mp_str(a, "note", note, sizeof note);
    /* Notes are cut to 40 columns here, on a character boundary; `show`
     * prints them whole. */
    size_t nl = strlen(note), fit = out_fit(note, nl, 40);
    for (size_t j = 0; j < fit; j++)
        if (note[j] == '\n')
            fit = j;
    memcpy(nshort, note, fit);
    (void)snprintf(nshort + fit, sizeof nshort - fit, "%s", fit < nl ? "\xe2\x80\xa6" : "");
    (void)mp_str(a, "severity", sev, sizeof sev);
    if (strcmp(sev, "danger") == 0)
        sevc = "\033[1;31m";
    cells[k] = id; cols[k++] = "\033[2m";
    cells[k] = kd; cols[k++] = sevc;
    cells[k] = tg; cols[k++] = "\033[1m";
    cells[k] = ca; cols[k++] = NULL;
    cells[k] = by; cols[k++] = NULL;
    cells[k] = po; cols[k++] = NULL;
    cells[k] = ex; cols[k++] = NULL;
    if (all) {
        cells[k] = st;
        cols[k++] = strcmp(st, "active") == 0 ? NULL : "\033[2m";
    }
    cells[k] = cf; cols[k++] = NULL;
    cells[k] = nshort; cols[k++] = NULL;
    return table_row(t, cells, cols);
}

/* The table's heading: STATUS only with --all; NOTE last, so
 * right-to-left text cannot disturb the alignment of the other columns. */
static struct table *list_table(int all)
{
    static const char *const head_all[] = {"ID", "KIND", "TARGET", "CATEGORY", "BY", "POSTED",
                                           "EXPIRES", "STATUS", "CONF", "NOTE"};
    const char *head[10], *hc[10];
    size_t nc = 0;
    struct table *t;
    for (size_t i = 0; i < 10; i++) {
        if (!all && strcmp(head_all[i], "STATUS") == 0)
            continue;
        head[nc] = head_all[i];
        hc[nc++] = "\033[1m";
    }
    if ((t = table_new(nc)) != NULL && table_row(t, head, hc) != 0) {
        table_free(t);
        t = NULL;
    }
    return t;
}

/* What one `list` prints, across the pages it fetches. */
struct list_out {
    struct cli *c;
    int all;
    size_t shown;
    struct table *t;   /* human output */
    uint64_t now;
};

/* Prints one page's alerts: JSON elements as they come (so a listing of
 * any size streams out as one array), table rows kept for the end. */
static int list_page_out(struct list_out *o, const msgpack_object *res)
{
    for (uint32_t i = 0; i < res->via.array.size; i++, o->shown++) {
        if (o->c->json) {
            (void)fputs(o->shown == 0 ? "[" : ", ", stdout);
            json_object(stdout, &res->via.array.ptr[i]);
        } else if (list_row(o->t, &res->via.array.ptr[i], o->all, o->now) != 0) {
            return cli_fail(EXIT_FAIL, "out of memory");
        }
    }
    return 0;
}

/* Asks for one page; on success *res holds it (an array) until ctl_close
 * and *last the id of its last alert, the next page's cursor. */
static int list_fetch(struct cli *c, struct ctl *ctl, const char *kind, int all, uint64_t limit,
                      const char *after, const msgpack_object **res, char last[65])
{
    struct on_req q;
    int r;

    on_req_init(&q);
    int ok = ctl_req_begin(&q.pk, "list", after != NULL ? 4 : 3) == 0 &&
             ctl_pack_kv_str(&q.pk, "kind", kind) == 0 &&
             ctl_pack_kv_bool(&q.pk, "all", all) == 0 &&
             ctl_pack_kv_uint(&q.pk, "limit", limit) == 0 &&
             (after == NULL || ctl_pack_kv_str(&q.pk, "after", after) == 0);
    if ((r = on_call(c, ctl, &q, ok, res)) != 0)
        return r;
    if ((*res)->type != MSGPACK_OBJECT_ARRAY)
        return cli_fail(EXIT_FAIL, "agahd sent a list that is not an array");
    last[0] = '\0';
    if ((*res)->via.array.size > 0 &&
        strlen(mp_str(&(*res)->via.array.ptr[(*res)->via.array.size - 1], "id", last, 65)) != 64)
        return cli_fail(EXIT_FAIL, "agahd sent an alert without a whole id");
    return 0;
}

/* --limit N: that many at most; --after ID: the page after that alert. */
static int list_opts(struct cli *c, uint64_t *limit, const char **after)
{
    const char *l = cli_opt(c, "limit"), *a = cli_opt(c, "after");
    char *end = NULL;

    *limit = 0;
    *after = a;
    if (l != NULL) {
        unsigned long long v = strtoull(l, &end, 10);
        if (l[0] < '0' || l[0] > '9' || *end != '\0' || v == 0 || v > 100000)
            return cli_fail(EXIT_USAGE, "--limit takes a number from 1 to 100000, not \"%.40s\"",
                            l);
        *limit = v;
    }
    if (a != NULL && strspn(a, "0123456789abcdefABCDEF") != 64)
        return cli_fail(EXIT_USAGE, "--after takes a whole alert id (64 hex digits), as "
                                    "`list --json` prints it");
    return 0;
}

int cmd_list(struct cli *c)
{
    const char *kind = cli_opt(c, "kind"), *after;
    struct list_out o = {.c = c, .all = cli_opt(c, "all") != NULL, .now = (uint64_t)time(NULL)};
    uint64_t limit, left;
    char cursor[65];
    int r;

    if (kind != NULL && (agah_kind_parse(kind) < 0))
        return cli_fail(EXIT_USAGE, "unknown kind \"%.40s\": use number, account or alert", kind);
    if ((r = list_opts(c, &limit, &after)) != 0)
        return r;
    if (!c->json && (o.t = list_table(o.all)) == NULL)
        return cli_fail(EXIT_FAIL, "out of memory");
    left = limit > 0 ? limit : UINT64_MAX;
    /* Page by page, so no answer is ever too large to send. */
    for (;;) {
        struct ctl ctl;
        const msgpack_object *res = NULL;
        uint64_t ask = left < LIST_PAGE ? left : LIST_PAGE;
        size_t got;
        r = list_fetch(c, &ctl, kind, o.all, ask, after, &res, cursor);
        if (r == 0)
            r = list_page_out(&o, res);
        got = res != NULL && res->type == MSGPACK_OBJECT_ARRAY ? res->via.array.size : 0;
        ctl_close(&ctl);
        if (r != 0)
            goto out;
        left -= got;
        if (got < ask || left == 0)
            break;
        after = cursor;
    }
    if (c->json)
        (void)fputs(o.shown == 0 ? "[]\n" : "]\n", stdout);
    else if (o.shown == 0)
        (void)printf("no%s%s%s alerts\n", o.all ? "" : " active", kind ? " " : "",
                     kind ? kind : "");
    else
        table_print(o.t, stdout);
out:
    table_free(o.t);
    return r;
}

int cmd_show(struct cli *c)
{
    char id[2 * AGAH_HASH_LEN + 1];
    struct ctl ctl;
    struct on_req q;
    const msgpack_object *res;
    int r;

    if ((r = on_alert_id(c->pos[0], id)) != 0)
        return r;
    on_req_init(&q);
    int ok = ctl_req_begin(&q.pk, "show", 1) == 0 && ctl_pack_kv_str(&q.pk, "id", id) == 0;
    r = on_call(c, &ctl, &q, ok, &res);
    if (r == 0) {
        if (c->json)
            on_print_json(res);
        else
            out_alert_long(stdout, res, (uint64_t)time(NULL));
    }
    ctl_close(&ctl);
    return r;
}

int cmd_confirm(struct cli *c)
{
    char id[2 * AGAH_HASH_LEN + 1], full[2 * AGAH_HASH_LEN + 1];
    const char *note = cli_opt(c, "note");
    struct ctl ctl;
    struct on_req q;
    const msgpack_object *res;
    int r;

    if ((r = on_alert_id(c->pos[0], id)) != 0)
        return r;
    if (note == NULL)
        note = "";
    if ((r = on_note_ok("note", note)) != 0)
        return r;
    on_req_init(&q);
    int ok = ctl_req_begin(&q.pk, "confirm", 2) == 0 && ctl_pack_kv_str(&q.pk, "id", id) == 0 &&
             ctl_pack_kv_str(&q.pk, "note", note) == 0;
    r = on_call(c, &ctl, &q, ok, &res);
    if (r == 0) {
        if (c->json) {
            on_print_json(res);
        } else {
            uint64_t n = mp_uint(res, "confirmations");
            (void)printf("confirmed %s (%" PRIu64 " confirmation%s)\n",
                         mp_str(res, "id", full, sizeof full), n, n == 1 ? "" : "s");
        }
    }
    ctl_close(&ctl);
    return r;
}

int cmd_retract(struct cli *c)
{
    char id[2 * AGAH_HASH_LEN + 1], full[2 * AGAH_HASH_LEN + 1];
    const char *reason = cli_opt(c, "reason");
    struct ctl ctl;
    struct on_req q;
    const msgpack_object *res;
    int r;

    if ((r = on_alert_id(c->pos[0], id)) != 0)
        return r;
    if (reason == NULL)
        reason = "";
    if ((r = on_note_ok("reason", reason)) != 0)
        return r;
    on_req_init(&q);
    int ok = ctl_req_begin(&q.pk, "retract", 2) == 0 && ctl_pack_kv_str(&q.pk, "id", id) == 0 &&
             ctl_pack_kv_str(&q.pk, "reason", reason) == 0;
    r = on_call(c, &ctl, &q, ok, &res);
    if (r == 0) {
        if (c->json)
            on_print_json(res);
        else
            (void)printf("retracted %s\n", mp_str(res, "id", full, sizeof full));
    }
    ctl_close(&ctl);
    return r;
}

static volatile sig_atomic_t on_stop;

static void on_signal(int sig)
{
    on_stop = sig;
}

int cmd_watch(struct cli *c)
{
    struct ctl ctl;
    struct on_req q;
    const msgpack_object *res;
    struct sigaction sa;
    int r;

    /* SIGINT/SIGTERM end the watch normally (exit 0): the handler only
     * notes it, and the blocking read returns EINTR (no SA_RESTART). */
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    (void)sigemptyset(&sa.sa_mask);
    if (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0)
        return cli_fail(EXIT_FAIL, "cannot install signal handlers");
    on_req_init(&q);
    int ok = ctl_req_begin(&q.pk, "watch", 0) == 0;
    r = on_call(c, &ctl, &q, ok, &res);
    if (r != 0)
        goto out;
    /* Whatever went to stdout first, so the two streams read in order when
     * they share a pipe or a terminal. */
    (void)fflush(stdout);
    if (!c->json)
        (void)fprintf(stderr, "agah: watching for alerts on %s; press Ctrl-C to stop.\n",
                      c->datadir);
    for (;;) {
        (void)fflush(stdout);
        r = ctl_next_event(&ctl, &on_stop, &res);
        if (r == 2) {
            r = 0;
            break;
        }
        if (r == 1) {
            r = cli_fail(EXIT_DAEMON, "agahd on %s stopped", c->datadir);
            break;
        }
        if (r != 0)
            break;
        if (c->json)
            on_print_json(res);
        else
            out_alert_line(stdout, res, (uint64_t)time(NULL));
        if (ferror(stdout)) {
            r = cli_fail(EXIT_FAIL, "cannot write the output");
            break;
        }
    }
out:
    ctl_close(&ctl);
    return r;
}

int cmd_members(struct cli *c)
{
    struct ctl ctl;
    struct on_req q;
    const msgpack_object *res;
    int r;

    on_req_init(&q);
    int ok = ctl_req_begin(&q.pk, "members", 0) == 0;
    r = on_call(c, &ctl, &q, ok, &res);
    if (r != 0)
        goto out;
    if (res->type != MSGPACK_OBJECT_ARRAY) {
        r = cli_fail(EXIT_FAIL, "agahd sent a member list that is not an array");
        goto out;
    }
    if (c->json) {
        on_print_json(res);
        goto out;
    }
    struct table *t = table_new(6);
    static const char *const head[] = {"MEMBER ID", "NAME", "ROLE", "STATUS", "ADMITTED BY",
                                       "ADMITTED"};
    static const char *const hc[] = {"\033[1m", "\033[1m", "\033[1m",
                                     "\033[1m", "\033[1m", "\033[1m"};
    uint64_t now = (uint64_t)time(NULL);
    if (t == NULL || table_row(t, head, hc) != 0) {
        table_free(t);
        r = cli_fail(EXIT_FAIL, "out of memory");
        goto out;
    }
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
        if (table_row(t, cells, cols) != 0) {
            table_free(t);
            r = cli_fail(EXIT_FAIL, "out of memory");
            goto out;
        }
    }
    table_print(t, stdout);
    table_free(t);
out:
    ctl_close(&ctl);
    return r;
}

static int on_addr_ok(const char *a);

int cmd_invite(struct cli *c)
{
    const char *role = cli_opt(c, "role"), *name = cli_opt(c, "name"), *peer = cli_opt(c, "peer");
    struct ctl ctl;
    struct on_req q;
    const msgpack_object *res;
    int r;

    if ((r = on_member_id(c->pos[0])) != 0)
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
    if (peer != NULL && (r = on_addr_ok(peer)) != 0)
        return r;
    on_req_init(&q);
    /* Without --role the daemon keeps the role of someone already admitted. */
    int ok = ctl_req_begin(&q.pk, "invite", 2 + (role != NULL) + (peer != NULL)) == 0 &&
             ctl_pack_kv_str(&q.pk, "member_id", c->pos[0]) == 0 &&
             (role == NULL || ctl_pack_kv_str(&q.pk, "role", role) == 0) &&
             ctl_pack_kv_str(&q.pk, "name", name) == 0 &&
             (peer == NULL || ctl_pack_kv_str(&q.pk, "address", peer) == 0);
    r = on_call(c, &ctl, &q, ok, &res);
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
    struct on_req q;
    const msgpack_object *res, *ids;
    char line[16];
    int r;

    on_req_init(&q);
    int ok = ctl_req_begin(&q.pk, "revoke", 3) == 0 &&
             ctl_pack_kv_str(&q.pk, "member_id", c->pos[0]) == 0 &&
             ctl_pack_kv_bool(&q.pk, "also_admitted", 1) == 0 &&
             ctl_pack_kv_bool(&q.pk, "dry_run", 1) == 0;
    r = on_call(c, &ctl, &q, ok, &res);
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
    if (n > NODE_LIST_SHOWN)
        (void)fprintf(stderr, "  ... and %" PRIu64 " more\n", n - NODE_LIST_SHOWN);
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
    struct on_req q;
    const msgpack_object *res;
    int r;

    if ((r = on_member_id(c->pos[0])) != 0)
        return r;
    if (reason == NULL)
        reason = "";
    if ((r = on_note_ok("reason", reason)) != 0)
        return r;
    uint64_t since;
    if ((r = revoke__since(c, &since)) != 0)
        return r;
    if (also && (r = revoke__confirm_also(c)) != 0)
        return r;
    on_req_init(&q);
    int ok = ctl_req_begin(&q.pk, "revoke", since != 0 ? 5 : 4) == 0 &&
             (since == 0 || ctl_pack_kv_uint(&q.pk, "purge_since", since) == 0) &&
             ctl_pack_kv_str(&q.pk, "member_id", c->pos[0]) == 0 &&
             ctl_pack_kv_str(&q.pk, "reason", reason) == 0 &&
             ctl_pack_kv_bool(&q.pk, "retract_alerts", retract) == 0 &&
             ctl_pack_kv_bool(&q.pk, "also_admitted", also) == 0;
    r = on_call(c, &ctl, &q, ok, &res);
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
            (void)fputs("{\"member_id\": ", stdout);
            json_string(stdout, id, strlen(id));
            (void)fputs(", \"status\": ", stdout);
            json_string(stdout, status, strlen(status));
            (void)fputs("}\n", stdout);
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

int cmd_peers(struct cli *c)
{
    struct ctl ctl;
    struct on_req q;
    const msgpack_object *res;
    int r;

    on_req_init(&q);
    int ok = ctl_req_begin(&q.pk, "peers", 0) == 0;
    r = on_call(c, &ctl, &q, ok, &res);
    if (r != 0)
        goto out;
    if (res->type != MSGPACK_OBJECT_ARRAY) {
        r = cli_fail(EXIT_FAIL, "agahd sent a peer list that is not an array");
        goto out;
    }
    if (c->json) {
        on_print_json(res);
        goto out;
    }
    if (res->via.array.size == 0) {
        (void)printf("no peers known; add one with `agah peer add HOST:PORT`\n");
        goto out;
    }
    struct table *t = table_new(3);
    static const char *const head[] = {"ADDRESS", "MEMBER ID", "STATE"};
    static const char *const hc[] = {"\033[1m", "\033[1m", "\033[1m"};
    if (t == NULL || table_row(t, head, hc) != 0) {
        table_free(t);
        r = cli_fail(EXIT_FAIL, "out of memory");
        goto out;
    }
    for (uint32_t i = 0; i < res->via.array.size; i++) {
        const msgpack_object *p = &res->via.array.ptr[i];
        char addr[AGAH_ADDR_MAX + 1], id[AGAH_IDSTR_SIZE];
        int conn = mp_bool(p, "connected");
        (void)mp_str(p, "address", addr, sizeof addr);
        (void)mp_str(p, "member_id", id, sizeof id);
        const char *cells[] = {addr[0] ? addr : "-", id[0] ? id : "-",
                               conn ? "connected" : "not connected"};
        const char *cols[] = {NULL, NULL, conn ? "\033[32m" : "\033[2m"};
        if (table_row(t, cells, cols) != 0) {
            table_free(t);
            r = cli_fail(EXIT_FAIL, "out of memory");
            goto out;
        }
    }
    table_print(t, stdout);
    table_free(t);
out:
    ctl_close(&ctl);
    return r;
}

/* HOST:PORT with a port in 1..65535; an IPv6 host in brackets. */
static int on_addr_ok(const char *a)
{
    struct agah_why why = {{0}};

    if (agah_addr_parse(a, strlen(a), NULL, &why) == 0)
        return 0;
    return cli_fail(EXIT_USAGE, "\"%.70s\" is not a peer address (%s): use HOST:PORT, e.g. "
                    "203.0.113.7:7433 or [2001:db8::1]:7433", a, why.msg);
}

int cmd_peer_add(struct cli *c)
{
    char addr[AGAH_ADDR_MAX + 1];
    struct ctl ctl;
    struct on_req q;
    const msgpack_object *res;
    int r;

    if ((r = on_addr_ok(c->pos[0])) != 0)
        return r;
    on_req_init(&q);
    int ok = ctl_req_begin(&q.pk, "peer_add", 1) == 0 &&
             ctl_pack_kv_str(&q.pk, "address", c->pos[0]) == 0;
    r = on_call(c, &ctl, &q, ok, &res);
    if (r == 0) {
        if (c->json)
            on_print_json(res);
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
static int on_keyfile_pass(const struct cli *c)
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
static int on_status_json(const msgpack_object *res, int nopass)
{
    msgpack_object_kv *kv;
    msgpack_object o;
    uint32_t n;

    if (nopass < 0 || res->type != MSGPACK_OBJECT_MAP)
        return on_print_json(res);
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
    (void)on_print_json(&o);
    free(kv);
    return 0;
}

/* An organiser's or member's key without a passphrase is given away with
 * the disk: say so at every status, whatever the output format. A relay is
 * passphrase-less by design (it holds no member data), so a note does. */
static void on_status_warn(const struct cli *c, const char *role, int nopass)
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
    struct on_req q;
    const msgpack_object *res;
    char mid[AGAH_IDSTR_SIZE], cid[AGAH_IDSTR_SIZE], role[16];
    int nopass, r;

    on_req_init(&q);
    int ok = ctl_req_begin(&q.pk, "status", 0) == 0;
    r = on_call(c, &ctl, &q, ok, &res);
    if (r != 0)
        goto out;
    nopass = on_keyfile_pass(c);
    (void)mp_str(res, "role", role, sizeof role);
    if (c->json) {
        r = on_status_json(res, nopass);
        on_status_warn(c, role, nopass);
        goto out;
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
    on_status_warn(c, role, nopass);
out:
    ctl_close(&ctl);
    return r;
}

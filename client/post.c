/* `agah post number|account|alert`: checks the input here first (so a bad
 * option exits 2 before anything is sent; targets are normalised by agahd,
 * which refuses bad ones the same way), sends one `post` and prints the new
 * alert's id. The target and note may come on standard input. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "commands.h"
#include "mpget.h"
#include "output.h"
#include "request.h"

/* The daemon's bound on an expiry, from the control schema: 100 years. */
#define POST_EXPIRES_MAX AGAH_CTL_EXPIRES_MAX
#define POST_DEFAULT_EXPIRES (365ull * 86400)

/* Strict durations: a positive whole number of days, hours or minutes, or
 * "never" (0). Anything else is refused rather than guessed at. */
static int post_duration(const char *s, uint64_t *out)
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
    if (v > POST_EXPIRES_MAX / unit)
        return cli_fail(EXIT_USAGE, "--expires %s is too far away (at most 100 years)", s);
    *out = v * unit;
    return 0;
bad:
    return cli_fail(EXIT_USAGE, "--expires \"%.40s\" is not a duration: use e.g. 90d, 12h, 30m or never",
                    s);
}

/* Bytes `post` reads from standard input at most: a target line and a note. */
#define POST_STDIN_MAX (AGAH_TARGET_MAX + AGAH_NOTE_MAX + 8)

static void post_wipe(void *p, size_t n)
{
    volatile unsigned char *v = p;
    while (n-- > 0)
        *v++ = 0;
}

/* `post -` and `--note -`: the target is the first line of standard input
 * and the note the rest (or all of it when the target was given), so
 * neither shows in argv, /proc or a shell's history. *buf (caller wipes and
 * frees) holds both; *target and *note point into it, or stay as they were. */
static int post_stdin(int want_target, int want_note, char **buf, const char **target,
                      const char **note)
{
    size_t len = 0;
    char *b = malloc(POST_STDIN_MAX + 1), *rest;

    *buf = b;
    if (b == NULL)
        return cli_fail(EXIT_FAIL, "out of memory");
    for (;;) {
        size_t n = fread(b + len, 1, POST_STDIN_MAX + 1 - len, stdin);
        len += n;
        if (n == 0 || len > POST_STDIN_MAX)
            break;
    }
    if (ferror(stdin))
        return cli_fail(EXIT_USAGE, "cannot read standard input");
    if (len > POST_STDIN_MAX)
        return cli_fail(EXIT_USAGE, "standard input holds more than a target and a note "
                                    "(%d bytes at most)", POST_STDIN_MAX);
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

static int post_send(struct cli *c, const char *what, const char *typed, const char *cat,
                     const char *note, const char *sev, const char *exp, const char *region);

int cmd_post(struct cli *c)
{
    const char *what = c->cmd + 5; /* "number", "account" or "alert" */
    const char *cat = cli_opt(c, "category"), *note = cli_opt(c, "note");
    const char *sev = cli_opt(c, "severity"), *exp = cli_opt(c, "expires");
    const char *region = req_region(c);
    const char *typed = c->npos > 0 ? c->pos[0] : "";
    char *in = NULL;
    int r;

    /* Sensitive text can come on standard input rather than in argv. */
    if ((strcmp(what, "alert") != 0 && strcmp(typed, "-") == 0) ||
        (note != NULL && strcmp(note, "-") == 0)) {
        if ((r = post_stdin(strcmp(what, "alert") != 0 && strcmp(typed, "-") == 0,
                               note != NULL && strcmp(note, "-") == 0, &in, &typed, &note)) != 0)
            goto done;
    }
    r = post_send(c, what, typed, cat, note, sev, exp, region);
done:
    if (in != NULL) {
        post_wipe(in, POST_STDIN_MAX + 1);
        free(in);
    }
    return r;
}

/* `post` once its target and note are known (typed, or from standard input). */
static int post_send(struct cli *c, const char *what, const char *typed, const char *cat,
                     const char *note, const char *sev, const char *exp, const char *region)
{
    const char *target;
    char rel[64];
    uint64_t expires = POST_DEFAULT_EXPIRES;
    int kind, r;
    struct ctl ctl;
    struct req q;
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
    if ((r = req_note_ok("note", note)) != 0)
        return r;
    if (exp != NULL && (r = post_duration(exp, &expires)) != 0)
        return r;
    /* The target goes as typed, with the region: agahd normalises it and
     * refuses bad input (exit 2, nothing stored), so this program needs no
     * phone-number library. */
    if (kind != AGAH_KIND_ALERT && (r = req_region_ok(c)) != 0)
        return r;
    target = kind == AGAH_KIND_ALERT ? "" : typed;

    req_init(&q);
    int ok = ctl_req_begin(&q.pk, "post", 7) == 0 &&
             ctl_pack_kv_str(&q.pk, "kind", what) == 0 &&
             ctl_pack_kv_str(&q.pk, "target", kind == AGAH_KIND_ALERT ? NULL : target) == 0 &&
             ctl_pack_kv_str(&q.pk, "region", kind != AGAH_KIND_ALERT && region != NULL &&
                                                  region[0] ? region : NULL) == 0 &&
             ctl_pack_kv_str(&q.pk, "category", cat) == 0 &&
             ctl_pack_kv_str(&q.pk, "note", note) == 0 &&
             ctl_pack_kv_str(&q.pk, "severity", sev) == 0 &&
             ctl_pack_kv_uint(&q.pk, "expires", expires) == 0;
    r = req_call(c, &ctl, &q, ok, &res);
    if (r == 0) {
        char id[2 * AGAH_HASH_LEN + 1];
        char norm[AGAH_TARGET_MAX];
        if (strlen(mp_str(res, "id", id, sizeof id)) != 2 * AGAH_HASH_LEN)
            r = cli_fail(EXIT_FAIL, "agahd answered the post without an id");
        else if (c->json) {
            /* CONTRACT.md: exactly {"id": ALERT_ID}. */
            json_strings(stdout, "id", id, NULL);
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

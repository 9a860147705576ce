/* `agah check`: is this number or account flagged? One query from the
 * command line, or one per line on standard input (batch), each answered
 * page by page over one connection. */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "commands.h"
#include "mpget.h"
#include "output.h"
#include "print.h"
#include "request.h"

/* check answers from memory in microseconds; a script screening a call
 * must not hang for a minute on a stuck daemon. */
#define CHECK_TIMEOUT_SECONDS 10

/* The page size `check` asks for: what agahd gives at most in one answer
 * (the control schema's AGAH_CTL_CHECK_LIMIT_MAX). */
#define CHECK_PAGE AGAH_CTL_CHECK_LIMIT_MAX

/* One page of a check: the query goes as typed, with the region, and agahd
 * normalises it (so this program needs no phone-number library); `after`
 * (NULL for the first page) is the last alert id of the previous page.
 * Without `notes` agahd leaves the notes out and answers from memory
 * alone: the human answer shows none. */
static int check_fetch(struct ctl *ctl, const char *query, const char *region, int notes,
                       const char *after, const msgpack_object **res)
{
    struct req q;
    int r;

    req_init(&q);
    if (ctl_req_begin(&q.pk, "check", after != NULL ? 5 : 4) != 0 ||
        ctl_pack_kv_str(&q.pk, "query", query) != 0 ||
        ctl_pack_kv_str(&q.pk, "region", region != NULL && region[0] ? region : NULL) != 0 ||
        ctl_pack_kv_uint(&q.pk, "limit", CHECK_PAGE) != 0 ||
        ctl_pack_kv_bool(&q.pk, "notes", notes) != 0 ||
        (after != NULL && ctl_pack_kv_str(&q.pk, "after", after) != 0)) {
        msgpack_sbuffer_destroy(&q.sb);
        return cli_fail(EXIT_FAIL, "cannot encode the request");
    }
    r = ctl_call(ctl, &q.sb, CHECK_TIMEOUT_SECONDS, res);
    msgpack_sbuffer_destroy(&q.sb);
    return r;
}

/* Prints the alerts of one check page as JSON array elements, `shown`
 * counting those printed before, and puts the last one's id in last[65]
 * (the next page's cursor). */
static int check_page_out(const msgpack_object *alerts, size_t *shown, char last[65])
{
    last[0] = '\0';
    if (alerts == NULL || alerts->type != MSGPACK_OBJECT_ARRAY)
        return 0;
    for (uint32_t i = 0; i < alerts->via.array.size; i++, (*shown)++) {
        (void)fputs(*shown == 0 ? "" : ", ", stdout);
        json_object(stdout, &alerts->via.array.ptr[i]);
    }
    if (alerts->via.array.size > 0 &&
        strlen(mp_str(&alerts->via.array.ptr[alerts->via.array.size - 1], "id", last, 65)) != 64)
        return cli_fail(EXIT_FAIL, "agahd sent an alert without a whole id");
    return 0;
}

/* One check on an open connection. Returns 0 (flagged), 1 (not) or an
 * exit code; prints the answer. agahd answers in pages (at most
 * CHECK_PAGE alerts each, `more` while others follow): --json fetches
 * them all and streams them out as one `alerts` array, so one author's
 * thousands of alerts on a number make no answer too large; the human
 * answer summarises the first page, the newest alerts. `flagged` comes
 * from the first page and covers every alert. In batch mode each human
 * answer starts with the normalised identifier, and a refusal (bad input)
 * is printed here with its line. */
static int check_one(struct cli *c, struct ctl *ctl, const char *query, const char *region,
                     size_t lineno)
{
    const msgpack_object *res;
    struct check_more more = {ctl, region};
    char why[512] = "";
    int r;

    if (lineno > 0) {
        ctl->refusal = why;
        ctl->refusal_size = sizeof why;
    }
    r = check_fetch(ctl, query, region, c->json, NULL, &res);
    ctl->refusal = NULL;
    ctl->refusal_size = 0;
    if (r != 0 && lineno > 0 && why[0] != '\0') {
        if (c->json) {
            json_strings(stdout, "query", query, "error", why, NULL);
        }
        return cli_fail(r, "line %zu: %s", lineno, why);
    }
    if (r != 0)
        return r;
    return check_print(c, query, lineno, res, &more);
}

int check_print(const struct cli *c, const char *query, size_t lineno,
                const msgpack_object *res, const struct check_more *more)
{
    char target[AGAH_TARGET_MAX], last[65];
    const msgpack_object *fl = mp_get(res, "flagged"), *alerts = mp_get(res, "alerts");
    size_t shown = 0;
    int r;

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
        (void)printf(", \"flagged\": %s, \"alerts\": [", flagged ? "true" : "false");
        r = check_page_out(alerts, &shown, last);
        /* The next page is asked for by the query as typed again: agahd
         * normalises it the same way every time. */
        while (r == 0 && more != NULL && mp_bool(res, "more") && last[0] != '\0') {
            char after[65];
            memcpy(after, last, sizeof after);
            if ((r = check_fetch(more->ctl, query, more->region, 1, after, &res)) == 0)
                r = check_page_out(mp_get(res, "alerts"), &shown, last);
        }
        if (r != 0) {
            /* The answer is unknown: end the line, so no half a document
             * reads as a whole one, and say why on stderr (already done). */
            (void)fputs("\n", stdout);
            return r;
        }
        (void)fputs("]}\n", stdout);
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
static int check_batch(struct cli *c, const char *region)
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
        r = check_one(c, &ctl, s, region, lineno);
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
    const char *region = req_region(c);
    struct ctl ctl;
    int r;

    if ((r = req_region_ok(c)) != 0)
        return r;
    if (c->npos == 0 && isatty(STDIN_FILENO))
        return cli_fail(EXIT_USAGE, "check: give a NUMBER or SERVICE:HANDLE, or pipe one per "
                                    "line on standard input (see agah check --help)");
    if (c->npos == 0 || strcmp(c->pos[0], "-") == 0)
        return check_batch(c, region);
    if ((r = ctl_open(&ctl, c->datadir)) != 0)
        return r;
    r = check_one(c, &ctl, c->pos[0], region, 0);
    ctl_close(&ctl);
    return r;
}

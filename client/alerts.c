/* Reading and acting on the alerts agahd holds: `list` (page by page),
 * `show`, `confirm`, `retract` and `watch` (a stream until a signal). */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "commands.h"
#include "mpget.h"
#include "output.h"
#include "print.h"
#include "request.h"
#include "utf8.h"

/* An alert id or a prefix of one: 4 to 64 hex digits, lowercased. */
static int alert_id_parse(const char *s, char out[2 * AGAH_HASH_LEN + 1])
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

/* A name, else the first characters of the member id, from the keys
 * name_key and id_key of an ALERT. */
static void list_short_member(const msgpack_object *a, const char *name_key, const char *id_key,
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
static void list_short_author(const msgpack_object *a, char *buf, size_t size)
{
    list_short_member(a, "author_name", "author", buf, size);
    if (mp_bool(a, "author_revoked")) {
        size_t n = strlen(buf);
        (void)snprintf(buf + n, size - n, " (revoked)");
    }
}

/* The page size the CLI asks for: far below the 16 MiB a response may
 * hold (an alert is at most about 2.6 KiB of msgpack). */
#define LIST_PAGE 1000

/* One table row of `list`. */
static void list_row(struct table *t, const msgpack_object *a, int all, uint64_t now)
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
    list_short_author(a, by, sizeof by);
    out_reltime(po, sizeof po, mp_uint(a, "created"), now);
    out_reltime(ex, sizeof ex, mp_uint(a, "expires"), now);
    (void)mp_str(a, "status", st, sizeof st);
    if (strcmp(st, "retracted") == 0 && mp_has_str(a, "retracted_by")) {
        char who[AGAH_NAME_MAX + 8];
        list_short_member(a, "retracted_by_name", "retracted_by", who, sizeof who);
        (void)snprintf(st, sizeof st, "retracted by %s", who);
    }
    (void)snprintf(cf, sizeof cf, "%" PRIu64, mp_uint(a, "confirmations"));
    (void)mp_str(a, "note", note, sizeof note);
    /* Notes are cut to 40 columns here, on a character boundary; `show`
     * prints them whole. */
    size_t nl = strlen(note), fit = utf8_fit(note, nl, 40);
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
    table_row(t, cells, cols);
}

/* The table's heading: STATUS only with --all; NOTE last, so
 * right-to-left text cannot disturb the alignment of the other columns. */
static struct table *list_table(int all)
{
    static const char *const head_all[] = {"ID", "KIND", "TARGET", "CATEGORY", "BY", "POSTED",
                                           "EXPIRES", "STATUS", "CONF", "NOTE"};
    const char *head[10];
    size_t nc = 0;
    for (size_t i = 0; i < 10; i++)
        if (all || strcmp(head_all[i], "STATUS") != 0)
            head[nc++] = head_all[i];
    return table_new(nc, head);
}

int list_begin(struct list_out *o, const struct cli *c, int all, uint64_t now)
{
    memset(o, 0, sizeof *o);
    o->c = c;
    o->all = all;
    o->now = now;
    if (!c->json && (o->t = list_table(all)) == NULL)
        return cli_fail(EXIT_FAIL, "out of memory");
    return 0;
}

/* JSON elements as they come (so a listing of any size streams out as one
 * array), table rows kept for list_end. */
int list_page(struct list_out *o, const msgpack_object *res, char last[65])
{
    if (res->type != MSGPACK_OBJECT_ARRAY)
        return cli_fail(EXIT_FAIL, "agahd sent a list that is not an array");
    last[0] = '\0';
    if (res->via.array.size > 0 &&
        strlen(mp_str(&res->via.array.ptr[res->via.array.size - 1], "id", last, 65)) != 64)
        return cli_fail(EXIT_FAIL, "agahd sent an alert without a whole id");
    for (uint32_t i = 0; i < res->via.array.size; i++, o->shown++) {
        if (o->c->json) {
            (void)fputs(o->shown == 0 ? "[" : ", ", stdout);
            json_object(stdout, &res->via.array.ptr[i]);
        } else {
            list_row(o->t, &res->via.array.ptr[i], o->all, o->now);
        }
    }
    return 0;
}

int list_end(struct list_out *o, const char *kind)
{
    struct table *t = o->t;

    o->t = NULL;
    if (!o->c->json && o->shown > 0)
        return table_end(t, stdout) == 0 ? 0 : cli_fail(EXIT_FAIL, "out of memory");
    table_free(t);
    if (o->c->json)
        (void)fputs(o->shown == 0 ? "[]\n" : "]\n", stdout);
    else
        (void)printf("no%s%s%s alerts\n", o->all ? "" : " active", kind ? " " : "",
                     kind ? kind : "");
    return 0;
}

/* Asks for one page; on success *res holds it until ctl_close. */
static int list_fetch(struct cli *c, struct ctl *ctl, const char *kind, int all, uint64_t limit,
                      const char *after, const msgpack_object **res)
{
    struct req q;

    req_init(&q);
    int ok = ctl_req_begin(&q.pk, "list", after != NULL ? 4 : 3) == 0 &&
             ctl_pack_kv_str(&q.pk, "kind", kind) == 0 &&
             ctl_pack_kv_bool(&q.pk, "all", all) == 0 &&
             ctl_pack_kv_uint(&q.pk, "limit", limit) == 0 &&
             (after == NULL || ctl_pack_kv_str(&q.pk, "after", after) == 0);
    return req_call(c, ctl, &q, ok, res);
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
    struct list_out o;
    uint64_t limit, left;
    char cursor[65];
    int r;

    if (kind != NULL && (agah_kind_parse(kind) < 0))
        return cli_fail(EXIT_USAGE, "unknown kind \"%.40s\": use number, account or alert", kind);
    if ((r = list_opts(c, &limit, &after)) != 0)
        return r;
    if ((r = list_begin(&o, c, cli_opt(c, "all") != NULL, (uint64_t)time(NULL))) != 0)
        return r;
    left = limit > 0 ? limit : UINT64_MAX;
    /* Page by page, so no answer is ever too large to send. */
    for (;;) {
        struct ctl ctl;
        const msgpack_object *res = NULL;
        uint64_t ask = left < LIST_PAGE ? left : LIST_PAGE;
        size_t got;
        r = list_fetch(c, &ctl, kind, o.all, ask, after, &res);
        if (r == 0)
            r = list_page(&o, res, cursor);
        got = res != NULL && res->type == MSGPACK_OBJECT_ARRAY ? res->via.array.size : 0;
        ctl_close(&ctl);
        if (r != 0)
            goto out;
        left -= got;
        if (got < ask || left == 0)
            break;
        after = cursor;
    }
    r = list_end(&o, kind);
out:
    table_free(o.t);
    return r;
}

int cmd_show(struct cli *c)
{
    char id[2 * AGAH_HASH_LEN + 1];
    struct ctl ctl;
    struct req q;
    const msgpack_object *res;
    int r;

    if ((r = alert_id_parse(c->pos[0], id)) != 0)
        return r;
    req_init(&q);
    int ok = ctl_req_begin(&q.pk, "show", 1) == 0 && ctl_pack_kv_str(&q.pk, "id", id) == 0;
    r = req_call(c, &ctl, &q, ok, &res);
    if (r == 0)
        show_print(c, res, (uint64_t)time(NULL));
    ctl_close(&ctl);
    return r;
}

void show_print(const struct cli *c, const msgpack_object *res, uint64_t now)
{
    if (c->json)
        (void)json_print(res);
    else
        out_alert_long(stdout, res, now);
}

/* confirm and retract: the alert id, an optional text (--note, --reason)
 * checked as a note, and one request carrying both. */
static int annotate_call(struct cli *c, const char *cmd, const char *key, struct ctl *ctl,
                         const msgpack_object **res)
{
    char id[2 * AGAH_HASH_LEN + 1];
    const char *text = cli_opt(c, key);
    struct req q;
    int r;

    memset(ctl, 0, sizeof *ctl);
    ctl->fd = -1;
    if ((r = alert_id_parse(c->pos[0], id)) != 0)
        return r;
    if (text == NULL)
        text = "";
    if ((r = req_note_ok(key, text)) != 0)
        return r;
    req_init(&q);
    int ok = ctl_req_begin(&q.pk, cmd, 2) == 0 && ctl_pack_kv_str(&q.pk, "id", id) == 0 &&
             ctl_pack_kv_str(&q.pk, key, text) == 0;
    return req_call(c, ctl, &q, ok, res);
}

int cmd_confirm(struct cli *c)
{
    char full[2 * AGAH_HASH_LEN + 1];
    struct ctl ctl;
    const msgpack_object *res;
    int r = annotate_call(c, "confirm", "note", &ctl, &res);

    if (r == 0) {
        if (c->json) {
            json_print(res);
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
    char full[2 * AGAH_HASH_LEN + 1];
    struct ctl ctl;
    const msgpack_object *res;
    int r = annotate_call(c, "retract", "reason", &ctl, &res);

    if (r == 0) {
        if (c->json)
            json_print(res);
        else
            (void)printf("retracted %s\n", mp_str(res, "id", full, sizeof full));
    }
    ctl_close(&ctl);
    return r;
}

static volatile sig_atomic_t watch_stop;

static void watch_signal(int sig)
{
    watch_stop = sig;
}

int cmd_watch(struct cli *c)
{
    struct ctl ctl;
    const msgpack_object *res;
    struct sigaction sa;
    int r;

    /* SIGINT/SIGTERM end the watch normally (exit 0): the handler only
     * notes it, and the blocking read returns EINTR (no SA_RESTART). */
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = watch_signal;
    (void)sigemptyset(&sa.sa_mask);
    if (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0)
        return cli_fail(EXIT_FAIL, "cannot install signal handlers");
    r = req_noargs(c, &ctl, "watch", &res);
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
        r = ctl_next_event(&ctl, &watch_stop, &res);
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
            json_print(res);
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

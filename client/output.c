/* What the CLI prints: JSON converted from the daemon's msgpack, aligned
 * tables measured in terminal columns, relative times and optional colour.
 * Text from the network (notes, names) is written intact, whatever its
 * script, except for control characters, which are replaced so that an
 * alert cannot drive the reader's terminal. */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <agah/array.h>
#include "mpget.h"
#include "output.h"
#include "utf8.h"

static int out__colour;

void out_init(int json)
{
    const char *term = getenv("TERM");
    out__colour = !json && isatty(STDOUT_FILENO) && getenv("NO_COLOR") == NULL &&
                  !(term != NULL && strcmp(term, "dumb") == 0);
}

int out_colour(void) { return out__colour; }
const char *out_c(const char *sgr) { return out__colour ? sgr : ""; }
const char *out_reset(void) { return out__colour ? "\033[0m" : ""; }

/* Invisible characters that change how the text around them reads: bidi
 * embeddings, overrides, isolates and marks (a phone number shown in
 * reverse, "Trojan Source"), zero-width spaces and joiners that are no
 * part of a script's shaping, the BOM, interlinear annotations, Unicode
 * tags, and line and paragraph separators. ZWNJ and ZWJ (U+200C, U+200D)
 * stay: Arabic-script text, Uyghur's included, uses them to shape. */
static int out__format(long cp)
{
    return cp == 0x061c || cp == 0x00ad || cp == 0x180e || cp == 0x200b ||
           (cp >= 0x200e && cp <= 0x200f) || (cp >= 0x2028 && cp <= 0x202e) ||
           (cp >= 0x2060 && cp <= 0x206f) || cp == 0xfeff || (cp >= 0xfff9 && cp <= 0xfffb) ||
           (cp >= 0xe0000 && cp <= 0xe007f);
}

/* Writes text with C0/C1 control characters, DEL and the format
 * characters above replaced by '?' (a newline kept when `newlines`), and
 * invalid UTF-8 bytes by U+FFFD. JSON output keeps the exact text. */
static void out__text(FILE *f, const char *s, size_t n, int newlines)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        long cp;
        size_t k = utf8_decode(p + i, n - i, &cp);
        if (cp < 0)
            (void)fputs("\xef\xbf\xbd", f);
        else if (cp == '\n' && newlines)
            (void)fputc('\n', f);
        else if (cp == '\t')
            (void)fputc(' ', f);
        else if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) || out__format(cp))
            (void)fputc('?', f);
        else
            (void)fwrite(p + i, 1, k, f);
        i += k;
    }
}

void out_text(FILE *f, const char *s, size_t n) { out__text(f, s, n, 0); }

/* The same into a malloc'd string (for table cells). */
static char *out__clean(const char *s, size_t n)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *m = open_memstream(&buf, &size);
    if (m == NULL)
        return NULL;
    out__text(m, s, n, 0);
    if (fclose(m) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

void json_string(FILE *f, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    (void)fputc('"', f);
    while (i < n) {
        long cp;
        size_t k = utf8_decode(p + i, n - i, &cp);
        if (cp < 0)
            (void)fputs("\\ufffd", f);
        else if (cp == '"')
            (void)fputs("\\\"", f);
        else if (cp == '\\')
            (void)fputs("\\\\", f);
        else if (cp == '\n')
            (void)fputs("\\n", f);
        else if (cp == '\r')
            (void)fputs("\\r", f);
        else if (cp == '\t')
            (void)fputs("\\t", f);
        else if (cp < 0x20 || cp == 0x7f)
            (void)fprintf(f, "\\u%04lx", cp);
        else
            (void)fwrite(p + i, 1, k, f);
        i += k;
    }
    (void)fputc('"', f);
}

void json_object(FILE *f, const msgpack_object *o)
{
    switch (o->type) {
    case MSGPACK_OBJECT_NIL:
        (void)fputs("null", f);
        break;
    case MSGPACK_OBJECT_BOOLEAN:
        (void)fputs(o->via.boolean ? "true" : "false", f);
        break;
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        (void)fprintf(f, "%" PRIu64, o->via.u64);
        break;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        (void)fprintf(f, "%" PRId64, o->via.i64);
        break;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        if (isfinite(o->via.f64))
            (void)fprintf(f, "%.17g", o->via.f64);
        else
            (void)fputs("null", f);
        break;
    case MSGPACK_OBJECT_STR:
        json_string(f, o->via.str.ptr, o->via.str.size);
        break;
    case MSGPACK_OBJECT_BIN:
        (void)fputc('"', f);
        for (uint32_t i = 0; i < o->via.bin.size; i++)
            (void)fprintf(f, "%02x", (unsigned char)o->via.bin.ptr[i]);
        (void)fputc('"', f);
        break;
    case MSGPACK_OBJECT_ARRAY:
        (void)fputc('[', f);
        for (uint32_t i = 0; i < o->via.array.size; i++) {
            if (i > 0)
                (void)fputs(", ", f);
            json_object(f, &o->via.array.ptr[i]);
        }
        (void)fputc(']', f);
        break;
    case MSGPACK_OBJECT_MAP:
        (void)fputc('{', f);
        for (uint32_t i = 0; i < o->via.map.size; i++) {
            const msgpack_object *k = &o->via.map.ptr[i].key;
            if (i > 0)
                (void)fputs(", ", f);
            /* JSON keys are strings; the protocol only uses str keys, but
             * anything else is written as its JSON text, quoted. */
            if (k->type == MSGPACK_OBJECT_STR) {
                json_string(f, k->via.str.ptr, k->via.str.size);
            } else {
                char *buf = NULL;
                size_t size = 0;
                FILE *m = open_memstream(&buf, &size);
                if (m != NULL) {
                    json_object(m, k);
                    if (fclose(m) == 0)
                        json_string(f, buf, size);
                    else
                        (void)fputs("\"\"", f);
                } else {
                    (void)fputs("\"\"", f);
                }
                free(buf);
            }
            (void)fputs(": ", f);
            json_object(f, &o->via.map.ptr[i].val);
        }
        (void)fputc('}', f);
        break;
    default:
        (void)fputs("null", f);
        break;
    }
}

void json_strings(FILE *f, const char *key, ...)
{
    const char *sep = "";
    va_list ap;

    va_start(ap, key);
    (void)fputc('{', f);
    for (const char *k = key; k != NULL; k = va_arg(ap, const char *), sep = ", ") {
        const char *v = va_arg(ap, const char *);
        (void)fputs(sep, f);
        json_string(f, k, strlen(k));
        (void)fputs(": ", f);
        json_string(f, v, strlen(v));
    }
    (void)fputs("}\n", f);
    va_end(ap);
}

int json_print(const msgpack_object *res)
{
    json_object(stdout, res);
    (void)fputc('\n', stdout);
    return 0;
}

void out_reltime(char *buf, size_t size, uint64_t t, uint64_t now)
{
    uint64_t d;
    int future = t > now;
    const char *unit;
    uint64_t v;

    if (t == 0) {
        (void)snprintf(buf, size, "never");
        return;
    }
    d = future ? t - now : now - t;
    if (d < 60) {
        (void)snprintf(buf, size, "%s", future ? "in under a minute" : "just now");
        return;
    }
    uint64_t u = d < 3600 ? 60 : d < 86400 ? 3600 : 86400;

    unit = u == 60 ? "min" : u == 3600 ? "h" : "d";
    /* Past times count whole units ("3 d ago" until the 4th day is over);
     * a time to come is rounded, so an alert posted for 365 days shows
     * "in 365 d" and not, seconds later, "in 364 d". */
    v = future ? (d + u / 2) / u : d / u;
    if (future)
        (void)snprintf(buf, size, "in %" PRIu64 " %s", v, unit);
    else
        (void)snprintf(buf, size, "%" PRIu64 " %s ago", v, unit);
}

/* "2026-11-23 09:00 UTC" */
static void out__abstime(char *buf, size_t size, uint64_t t)
{
    struct tm tm;
    time_t tt = (time_t)t;
    if (t == 0 || gmtime_r(&tt, &tm) == NULL || strftime(buf, size, "%Y-%m-%d %H:%M UTC", &tm) == 0)
        (void)snprintf(buf, size, "%s", t == 0 ? "never" : "?");
}

struct table_cell {
    char *text;         /* cleaned for the terminal */
    const char *colour; /* a static string, or NULL */
};

struct table {
    size_t ncols, nrows, cap; /* cap in rows */
    struct table_cell *cells; /* nrows * ncols */
    int failed;               /* a row could not be added: print nothing */
};

/* Adds a row: each cell's colour from colours[], else `colour`. A row
 * that cannot be added fails the table, which then takes no more. */
static void table__add(struct table *t, const char *const *cells, const char *const *colours,
                       const char *colour)
{
    struct table_cell *row;

    if (t->failed || agah_array_reserve((void **)&t->cells, &t->cap, t->nrows,
                                        t->ncols * sizeof *t->cells, 16, SIZE_MAX) != 0) {
        t->failed = 1;
        return;
    }
    row = &t->cells[t->nrows * t->ncols];
    for (size_t i = 0; i < t->ncols; i++) {
        const char *s = cells[i] != NULL ? cells[i] : "";
        if ((row[i].text = out__clean(s, strlen(s))) == NULL) {
            while (i > 0)
                free(row[--i].text);
            t->failed = 1;
            return;
        }
        row[i].colour = colours != NULL ? colours[i] : colour;
    }
    t->nrows++;
}

struct table *table_new(size_t ncols, const char *const *head)
{
    struct table *t = calloc(1, sizeof *t);
    if (t == NULL)
        return NULL;
    t->ncols = ncols;
    table__add(t, head, NULL, "\033[1m");
    return t;
}

void table_row(struct table *t, const char *const *cells, const char *const *colours)
{
    if (t != NULL)
        table__add(t, cells, colours, NULL);
}

static int table__print(const struct table *t, FILE *f)
{
    size_t *w = calloc(t->ncols, sizeof *w);
    if (w == NULL)
        return -1;
    for (size_t r = 0; r < t->nrows; r++)
        for (size_t c = 0; c < t->ncols; c++) {
            const char *s = t->cells[r * t->ncols + c].text;
            size_t cw = utf8_width(s, strlen(s));
            if (cw > w[c])
                w[c] = cw;
        }
    for (size_t r = 0; r < t->nrows; r++) {
        for (size_t c = 0; c < t->ncols; c++) {
            const char *s = t->cells[r * t->ncols + c].text;
            const char *col = t->cells[r * t->ncols + c].colour;
            if (col != NULL && out__colour)
                (void)fprintf(f, "%s%s%s", col, s, out_reset());
            else
                (void)fputs(s, f);
            if (c + 1 < t->ncols) {
                size_t pad = w[c] - utf8_width(s, strlen(s)) + 2;
                for (size_t i = 0; i < pad; i++)
                    (void)fputc(' ', f);
            }
        }
        (void)fputc('\n', f);
    }
    free(w);
    return 0;
}

int table_end(struct table *t, FILE *f)
{
    int r = t == NULL || t->failed ? -1 : table__print(t, f);
    table_free(t);
    return r;
}

void table_free(struct table *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i].text);
    free(t->cells);
    free(t);
}

static const char *out__str(const msgpack_object *a, const char *k, size_t *n)
{
    const msgpack_object *v = mp_get(a, k);
    if (v == NULL || v->type != MSGPACK_OBJECT_STR) {
        *n = 0;
        return "";
    }
    *n = v->via.str.size;
    return v->via.str.ptr;
}

/* "alice" or the first characters of the member id, from the ALERT keys
 * name_key and id_key (the author's, or the retractor's); with_id adds the
 * whole id after a name. */
static void out__member(FILE *f, const msgpack_object *a, const char *name_key,
                        const char *id_key, int with_id)
{
    size_t nn, in;
    const char *name = out__str(a, name_key, &nn);
    const char *id = out__str(a, id_key, &in);
    if (nn > 0) {
        out__text(f, name, nn, 0);
        if (with_id) {
            (void)fputs(" (", f);
            out__text(f, id, in, 0);
            (void)fputc(')', f);
        }
    } else {
        out__text(f, id, with_id ? in : (in < 12 ? in : 12), 0);
        if (!with_id && in > 12)
            (void)fputs("\xe2\x80\xa6", f);
    }
}

void out_alert_long(FILE *f, const msgpack_object *a, uint64_t now)
{
    char rel[64], abs[64];
    size_t n;
    const char *s;
    uint64_t created = mp_uint(a, "created"), expires = mp_uint(a, "expires");
    const msgpack_object *target = mp_get(a, "target");

#define OUT_FIELD(label, key)                                  \
    do {                                                       \
        s = out__str(a, key, &n);                              \
        (void)fprintf(f, "%-14s", label);                      \
        out__text(f, s, n, 0);                                 \
        (void)fputc('\n', f);                                  \
    } while (0)
    OUT_FIELD("id", "id");
    OUT_FIELD("kind", "kind");
    if (target != NULL && target->type == MSGPACK_OBJECT_STR)
        OUT_FIELD("target", "target");
    OUT_FIELD("category", "category");
    OUT_FIELD("severity", "severity");
    s = out__str(a, "status", &n);
    (void)fprintf(f, "%-14s%s", "status",
                  n == 6 && memcmp(s, "active", 6) == 0 ? out_c("\033[1m") : out_c("\033[2m"));
    out__text(f, s, n, 0);
    (void)fprintf(f, "%s\n", out_reset());
    if (mp_has_str(a, "retracted_by")) {
        (void)fprintf(f, "%-14s", "retracted by");
        out__member(f, a, "retracted_by_name", "retracted_by", 1);
        (void)fputc('\n', f);
    }
    (void)fprintf(f, "%-14s", "author");
    out__member(f, a, "author_name", "author", 1);
    /* Revoked since: an informant's alerts stay, so the reader can weigh
     * them knowing who wrote them. */
    if (mp_bool(a, "author_revoked"))
        (void)fprintf(f, "  %s[author revoked]%s", out_c("\033[1;31m"), out_reset());
    (void)fputc('\n', f);
    out_reltime(rel, sizeof rel, created, now);
    out__abstime(abs, sizeof abs, created);
    (void)fprintf(f, "%-14s%s (%s)\n", "created", abs, rel);
    if (expires == 0) {
        (void)fprintf(f, "%-14snever\n", "expires");
    } else {
        out_reltime(rel, sizeof rel, expires, now);
        out__abstime(abs, sizeof abs, expires);
        (void)fprintf(f, "%-14s%s (%s)\n", "expires", abs, rel);
    }
    (void)fprintf(f, "%-14s%" PRIu64 "\n", "confirmations", mp_uint(a, "confirmations"));
    s = out__str(a, "note", &n);
    if (n > 0) {
        /* The whole note, never cut: each of its lines indented under the
         * label so a multi-line note stays readable. */
        (void)fprintf(f, "%-14s", "note");
        size_t start = 0;
        for (size_t i = 0; i <= n; i++) {
            if (i == n || s[i] == '\n') {
                if (start > 0)
                    (void)fprintf(f, "%-14s", "");
                out__text(f, s + start, i - start, 0);
                (void)fputc('\n', f);
                start = i + 1;
            }
        }
    }
#undef OUT_FIELD
}

void out_alert_line(FILE *f, const msgpack_object *a, uint64_t now)
{
    char rel[64];
    size_t n;
    const char *s;
    const msgpack_object *target = mp_get(a, "target");

    out_reltime(rel, sizeof rel, mp_uint(a, "created"), now);
    s = out__str(a, "severity", &n);
    int danger = n == 6 && memcmp(s, "danger", 6) == 0;
    (void)fprintf(f, "%s[%s]%s ", out_c("\033[2m"), rel, out_reset());
    /* watch sends an alert again when it is confirmed or retracted: say
     * which state this line shows, or the three lines read the same. */
    uint64_t conf = mp_uint(a, "confirmations");

    s = out__str(a, "status", &n);
    if (n == 9 && memcmp(s, "retracted", 9) == 0 && mp_has_str(a, "retracted_by")) {
        (void)fprintf(f, "%sretracted by ", out_c("\033[33m"));
        out__member(f, a, "retracted_by_name", "retracted_by", 0);
        (void)fprintf(f, ":%s ", out_reset());
    } else if (n == 9 && memcmp(s, "retracted", 9) == 0)
        (void)fprintf(f, "%sretracted:%s ", out_c("\033[33m"), out_reset());
    else if (n == 7 && memcmp(s, "expired", 7) == 0)
        (void)fputs("expired: ", f);
    else if (conf > 0)
        (void)fprintf(f, "confirmed by %" PRIu64 ": ", conf);
    else
        (void)fputs("new: ", f);
    s = out__str(a, "kind", &n);
    (void)fputs(out_c(danger ? "\033[1;31m" : "\033[1m"), f);
    out__text(f, s, n, 0);
    if (target != NULL && target->type == MSGPACK_OBJECT_STR) {
        (void)fputc(' ', f);
        out__text(f, target->via.str.ptr, target->via.str.size, 0);
    }
    (void)fputs(out_reset(), f);
    s = out__str(a, "category", &n);
    (void)fputs(" (", f);
    out__text(f, s, n, 0);
    s = out__str(a, "severity", &n);
    (void)fputs(", ", f);
    out__text(f, s, n, 0);
    (void)fputs(") by ", f);
    out__member(f, a, "author_name", "author", 0);
    if (mp_bool(a, "author_revoked"))
        (void)fprintf(f, " %s[author revoked]%s", out_c("\033[1;31m"), out_reset());
    s = out__str(a, "note", &n);
    if (n > 0) {
        (void)fputs(": ", f);
        out__text(f, s, n, 0);
    }
    s = out__str(a, "id", &n);
    (void)fprintf(f, "  %sid ", out_c("\033[2m"));
    out__text(f, s, n < 12 ? n : 12, 0);
    (void)fprintf(f, "%s\n", out_reset());
}

/* Whether cats ("a/b/c") holds the category c[0..cn). */
static int out__has_cat(const char *cats, const char *c, size_t cn)
{
    for (const char *p = cats; *p != '\0';) {
        size_t k = strcspn(p, "/");
        if (k == cn && memcmp(p, c, cn) == 0)
            return 1;
        p += k;
        if (*p == '/')
            p++;
    }
    return 0;
}

void out_flagged_summary(char *buf, size_t size, const msgpack_object *alerts, uint64_t now)
{
    char cats[128] = "", rel[64];
    const char *seen_authors[64];
    size_t seen_lens[64], nseen = 0, nactive = 0;
    uint64_t reporters = 0, last = 0, by_revoked = 0;
    int only_active;

    if (alerts == NULL || alerts->type != MSGPACK_OBJECT_ARRAY) {
        (void)snprintf(buf, size, "FLAGGED");
        return;
    }
    for (uint32_t i = 0; i < alerts->via.array.size; i++) {
        size_t n;
        const char *st = out__str(&alerts->via.array.ptr[i], "status", &n);
        if (n == 6 && memcmp(st, "active", 6) == 0)
            nactive++;
    }
    /* Summarise the active alerts; if the daemon flagged the target on
     * others only, summarise those rather than say nothing. */
    only_active = nactive > 0;
    for (uint32_t i = 0; i < alerts->via.array.size; i++) {
        const msgpack_object *a = &alerts->via.array.ptr[i];
        size_t n, cn, an;
        const char *st = out__str(a, "status", &n);
        if (only_active && !(n == 6 && memcmp(st, "active", 6) == 0))
            continue;
        const char *cat = out__str(a, "category", &cn);
        /* Each category once, in the order first seen. A NUL or '/' in
         * one (not from agahd, but anyone on the socket can answer) is
         * left out: a category of NULs once walked this search past the
         * end of cats (fuzz_ctlresp). */
        if (cn > 0 && cn < 32 && memchr(cat, '\0', cn) == NULL && memchr(cat, '/', cn) == NULL &&
            !out__has_cat(cats, cat, cn) && strlen(cats) + cn + 2 < sizeof cats) {
            size_t l = strlen(cats);
            if (l > 0)
                cats[l++] = '/';
            memcpy(cats + l, cat, cn);
            cats[l + cn] = '\0';
        }
        by_revoked += mp_bool(a, "author_revoked") != 0;
        const char *au = out__str(a, "author", &an);
        int dup = 0;
        for (size_t j = 0; j < nseen; j++)
            if (seen_lens[j] == an && memcmp(seen_authors[j], au, an) == 0)
                dup = 1;
        if (!dup) {
            reporters++;
            if (nseen < 64) {
                seen_authors[nseen] = au;
                seen_lens[nseen++] = an;
            }
        }
        /* Each confirmation is another member who received the same harassment. */
        reporters += mp_uint(a, "confirmations");
        uint64_t c = mp_uint(a, "created");
        if (c > last)
            last = c;
    }
    out_reltime(rel, sizeof rel, last, now);
    /* An alert by a since-revoked member may be a plant: say so. */
    int k = snprintf(buf, size, "FLAGGED: %s, reported by %" PRIu64 " member%s, last %s",
                     cats[0] ? cats : "flagged", reporters, reporters == 1 ? "" : "s", rel);
    if (by_revoked > 0 && k > 0 && (size_t)k < size)
        (void)snprintf(buf + k, size - (size_t)k, " (%" PRIu64 " alert%s by a revoked author)",
                       by_revoked, by_revoked == 1 ? "" : "s");
}

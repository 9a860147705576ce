/* agahd's stderr log. Lines look like "2026-11-23T09:00:00Z agahd info: ...". */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "log.h"

static int log_level = LOG_INFO;

void log_set_level(int level) { log_level = level; }

int log_level_parse(const char *s)
{
    static const char *names[] = {"error", "warn", "info", "debug"};
    for (int i = 0; i < 4; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

__attribute__((format(printf, 2, 0))) static void log__line(int level, const char *fmt, va_list ap)
{
    static const char *names[] = {"error", "warn", "info", "debug"};
    char ts[32] = "";
    time_t t = time(NULL);
    struct tm tm;
    if (gmtime_r(&t, &tm) != NULL)
        (void)strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
    char line[1024];
    (void)vsnprintf(line, sizeof line, fmt, ap);
    (void)fprintf(stderr, "%s agahd %s: %s\n", ts, names[level], line);
}

void log_msg(int level, const char *fmt, ...)
{
    if (level > log_level || level < 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    log__line(level, fmt, ap);
    va_end(ap);
}

/* The arguments are not formatted at all below debug: a caller cannot leak an
 * address through `terse` except by writing it there literally. */
void log_ident(int level, const char *terse, const char *fmt, ...)
{
    if (level > log_level || level < 0)
        return;
    if (log_level < LOG_DEBUG) {
        log_msg(level, "%s", terse);
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    log__line(level, fmt, ap);
    va_end(ap);
}

void log_peer(int level, const char *remote, const char *fmt, ...)
{
    if (level > log_level || level < 0)
        return;
    char msg[900];
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (log_level >= LOG_DEBUG)
        log_msg(level, "peer %s: %s", remote != NULL && remote[0] != '\0' ? remote : "(dialling)",
                msg);
    else
        log_msg(level, "a peer: %s", msg);
}

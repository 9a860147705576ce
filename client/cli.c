/* What every command shares: failing with a message, reading an option, a
 * path in the data directory and checking a name. Kept apart from main.c so
 * that the fuzzer of the response printers (tests/fuzz/fuzz_ctlresp.c)
 * links the client's code without its main(). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <agah/mp.h>
#include "cli.h"

int cli_fail(int code, const char *fmt, ...)
{
    va_list ap;
    (void)fflush(stdout);
    (void)fputs("agah: ", stderr);
    va_start(ap, fmt);
    (void)vfprintf(stderr, fmt, ap);
    va_end(ap);
    (void)fputc('\n', stderr);
    return code;
}

const char *cli_opt(const struct cli *c, const char *name)
{
    for (size_t i = 0; i < c->nopts; i++)
        if (strcmp(c->opt_names[i], name) == 0)
            return c->opt_vals[i];
    return NULL;
}

int cli_name_ok(const char *what, const char *s, int may_be_empty)
{
    size_t n = strlen(s);
    if (n == 0 && !may_be_empty)
        return cli_fail(EXIT_USAGE, "the %s is empty", what);
    if (n > AGAH_NAME_MAX)
        return cli_fail(EXIT_USAGE, "the %s is %zu bytes long; at most %d are allowed", what, n,
                        AGAH_NAME_MAX);
    if (!agah_mp_utf8_ok(s, n))
        return cli_fail(EXIT_USAGE, "the %s is not valid UTF-8", what);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return cli_fail(EXIT_USAGE, "the %s contains a control character", what);
    return 0;
}

int cli_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 || errno != ENOENT;
}

int cli_path(const struct cli *c, const char *name, char out[AGAH_PATH_MAX])
{
    if (agah_datadir_path(c->datadir, name, out) != 0)
        return cli_fail(EXIT_USAGE, "the data directory path %s is too long", c->datadir);
    return 0;
}

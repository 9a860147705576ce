/* What every command shares with the printers of online.c and output.c:
 * failing with a message and reading an option. Kept apart from main.c so
 * that the fuzzer of the response printers (tests/fuzz/fuzz_ctlresp.c)
 * links the client's code without its main(). */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <string.h>
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

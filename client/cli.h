/* What every file of the agah command-line client shares: the parsed
 * command line, the exit codes of CONTRACT.md and failing with a message.
 * The commands are in commands.h, the control socket in ctl.h, printing in
 * output.h. Nothing here is used outside client/. */
#ifndef AGAH_CLI_H
#define AGAH_CLI_H

#include <stddef.h>
#include <agah/agah.h>
#include <agah/ctl.h>
#include <agah/datadir.h>

/* Exit codes (CONTRACT.md), as the control schema defines them. */
enum {
    EXIT_OK_ = AGAH_CTL_EXIT_OK,
    EXIT_NO = AGAH_CTL_EXIT_NO,         /* a "no" answer: check found nothing */
    EXIT_USAGE = AGAH_CTL_EXIT_USAGE,   /* usage or input error */
    EXIT_DAEMON = AGAH_CTL_EXIT_DAEMON, /* agahd not running or not reachable */
    EXIT_PERM = AGAH_CTL_EXIT_PERM,     /* permission (not an organiser...) */
    EXIT_FAIL = AGAH_CTL_EXIT_FAIL,     /* any other failure */
};

#define CLI_MAX_POS 8
#define CLI_MAX_OPTS 8

/* The options and positional arguments of one command, after parsing. */
struct cli {
    char datadir[AGAH_PATH_MAX];
    const char *data_opt;        /* --data as given, or NULL */
    const char *passphrase_file; /* --passphrase-file */
    int json;
    const char *cmd;             /* "post number", "community create", ... */
    size_t npos;
    const char *pos[CLI_MAX_POS];
    /* Per-command options: names (without "--") and values; a flag that
     * takes no value gets "" when present. */
    size_t nopts;
    char opt_names[CLI_MAX_OPTS][32];
    const char *opt_vals[CLI_MAX_OPTS];
};

/* The value of --NAME for this command, or NULL when not given. */
const char *cli_opt(const struct cli *c, const char *name);

/* Prints "agah: MESSAGE" to stderr and returns `code`, so a command can
 * end with `return cli_fail(EXIT_USAGE, "...")`. */
int cli_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The path of `name` in the data directory, or exit 2 after saying that
 * the directory's path is too long. */
int cli_path(const struct cli *c, const char *name, char out[AGAH_PATH_MAX]);
/* Whether something is at `path` (or it cannot be told: not ENOENT). */
int cli_exists(const char *path);
/* A community or member name: 1..AGAH_NAME_MAX bytes of UTF-8 without
 * control characters (names are shown in other members' terminals); "" is
 * allowed when may_be_empty. 0 or exit 2 after saying why. */
int cli_name_ok(const char *what, const char *s, int may_be_empty);

#endif

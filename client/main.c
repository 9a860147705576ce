/* agah: the command-line client. Parses the global options and the command
 * line against a table of commands (CONTRACT.md, "Client"), then runs the
 * command; offline ones work on the data directory, online ones talk to the
 * local agahd through its control socket. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <agah/harden.h>
#include "commands.h"
#include "output.h"

/* One command: its words, how many positional arguments it takes, its
 * options ("name" for a flag, "name=" for one that takes a value), and
 * whether it uses libsodium. */
struct cli_command {
    const char *name;
    size_t min_pos, max_pos;
    const char *opts[CLI_MAX_OPTS];
    int (*run)(struct cli *c);
    int sodium;
};

/* Commands that call libsodium (keys, ids with a checksum, sealed files)
 * get sodium_init first. The others only talk to agahd and skip it: it
 * probes the CPU with cpuid, which traps to the hypervisor on a virtual
 * machine, and faults in pages of libsodium: about 0.06 ms a `check` on
 * the benchmark machine, whose median was 1 to 3.5 ms (docs/BENCHMARKS.md). */
#define CLI_SODIUM 1
#define CLI_NO_SODIUM 0

static const struct cli_command cli_commands[] = {
    {"init", 0, 0, {"name=", "no-passphrase", "unsafe-no-passphrase"}, cmd_init, CLI_SODIUM},
    {"passphrase", 0, 0, {"new-passphrase-file=", "no-passphrase", "unsafe-no-passphrase"},
     cmd_passphrase, CLI_SODIUM},
    {"id", 0, 0, {NULL}, cmd_id, CLI_SODIUM},
    {"community create", 1, 1, {NULL}, cmd_community_create, CLI_SODIUM},
    {"join", 1, 1, {NULL}, cmd_join, CLI_SODIUM},
    {"invite", 1, 1, {"role=", "name=", "peer="}, cmd_invite, CLI_SODIUM},
    {"post number", 1, 1, {"category=", "note=", "expires=", "region="}, cmd_post, CLI_NO_SODIUM},
    {"post account", 1, 1, {"category=", "note=", "expires=", "region="}, cmd_post, CLI_NO_SODIUM},
    {"post alert", 0, 0, {"note=", "severity=", "expires=", "category="}, cmd_post, CLI_NO_SODIUM},
    {"check", 0, 1, {"region="}, cmd_check, CLI_NO_SODIUM},
    {"list", 0, 0, {"kind=", "all", "limit=", "after="}, cmd_list, CLI_NO_SODIUM},
    {"show", 1, 1, {NULL}, cmd_show, CLI_NO_SODIUM},
    {"confirm", 1, 1, {"note="}, cmd_confirm, CLI_NO_SODIUM},
    {"retract", 1, 1, {"reason="}, cmd_retract, CLI_NO_SODIUM},
    {"watch", 0, 0, {NULL}, cmd_watch, CLI_NO_SODIUM},
    {"members", 0, 0, {NULL}, cmd_members, CLI_NO_SODIUM},
    {"revoke", 1, 1, {"reason=", "retract-alerts", "also-admitted", "yes", "purge-since="}, cmd_revoke,
     CLI_SODIUM},
    {"peers", 0, 0, {NULL}, cmd_peers, CLI_NO_SODIUM},
    {"peer add", 1, 1, {NULL}, cmd_peer_add, CLI_NO_SODIUM},
    {"status", 0, 0, {NULL}, cmd_status, CLI_NO_SODIUM},
};
#define CLI_NCOMMANDS (sizeof cli_commands / sizeof cli_commands[0])

/* Commands made of two words: the first word alone is a group. */
static const char *const cli_groups[] = {"community", "post", "peer"};

static const struct cli_command *cli_find(const char *name)
{
    for (size_t i = 0; i < CLI_NCOMMANDS; i++)
        if (strcmp(cli_commands[i].name, name) == 0)
            return &cli_commands[i];
    return NULL;
}

static int cli_is_group(const char *w)
{
    for (size_t i = 0; i < sizeof cli_groups / sizeof cli_groups[0]; i++)
        if (strcmp(cli_groups[i], w) == 0)
            return 1;
    return 0;
}

/* Handles the options every command accepts, wherever they appear. Returns
 * 1 if argv[*i] was one (consuming its value), 0 if not, or an exit code
 * (negated) on error. `help` is set by --help / -h. */
static int cli_global(struct cli *c, int argc, char **argv, int *i, int *help)
{
    const char *a = argv[*i];
    static const char *const with_value[] = {"--data", "--passphrase-file"};

    if (strcmp(a, "--json") == 0) {
        c->json = 1;
        return 1;
    }
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
        *help = 1;
        return 1;
    }
    for (size_t k = 0; k < 2; k++) {
        size_t n = strlen(with_value[k]);
        const char *v = NULL;
        if (strncmp(a, with_value[k], n) != 0)
            continue;
        if (a[n] == '=') {
            v = a + n + 1;
        } else if (a[n] == '\0') {
            if (*i + 1 >= argc)
                return -cli_fail(EXIT_USAGE, "%s needs a value", with_value[k]);
            v = argv[++*i];
        } else {
            continue;
        }
        if (v[0] == '\0')
            return -cli_fail(EXIT_USAGE, "%s needs a non-empty value", with_value[k]);
        if (k == 0)
            c->data_opt = v;
        else
            c->passphrase_file = v;
        return 1;
    }
    return 0;
}

/* Matches argv[*i] against the command's own options. */
static int cli_option(struct cli *c, const struct cli_command *cmd, int argc, char **argv, int *i)
{
    const char *a = argv[*i] + 2;
    const char *eq = strchr(a, '=');
    size_t an = eq != NULL ? (size_t)(eq - a) : strlen(a);

    for (size_t k = 0; k < CLI_MAX_OPTS && cmd->opts[k] != NULL; k++) {
        const char *o = cmd->opts[k];
        size_t on = strlen(o);
        int takes = o[on - 1] == '=';
        if (takes)
            on--;
        if (on != an || strncmp(o, a, an) != 0)
            continue;
        const char *v = "";
        if (takes) {
            if (eq != NULL)
                v = eq + 1;
            else if (*i + 1 < argc)
                v = argv[++*i];
            else
                return cli_fail(EXIT_USAGE, "--%.*s needs a value (see `agah %s --help`)",
                                (int)an, a, cmd->name);
        } else if (eq != NULL) {
            return cli_fail(EXIT_USAGE, "--%.*s takes no value", (int)an, a);
        }
        /* The last of a repeated option wins, as with most tools. */
        size_t slot = c->nopts;
        for (size_t j = 0; j < c->nopts; j++)
            if (strncmp(c->opt_names[j], o, on) == 0 && c->opt_names[j][on] == '\0')
                slot = j;
        if (slot == c->nopts) {
            if (c->nopts >= CLI_MAX_OPTS)
                return cli_fail(EXIT_USAGE, "too many options");
            /* Names are stored without the "=" marker. */
            (void)snprintf(c->opt_names[slot], sizeof c->opt_names[slot], "%.*s", (int)on, o);
            c->nopts++;
        }
        c->opt_vals[slot] = v;
        return 0;
    }
    return cli_fail(EXIT_USAGE, "unknown option --%.*s for `agah %s` (see `agah %s --help`)",
                    (int)an, a, cmd->name, cmd->name);
}

/* What a step of main returns when the command line goes on; any other
 * value is the exit code to stop with. */
#define CLI_GO (-1)

/* Before anything secret is in memory: no core file, no /proc/PID/mem for
 * other processes of this user (a long `agah watch` holds alerts), and the
 * passphrase out of the environment (/proc/PID/environ). Returns 0 or the
 * exit code. */
static int cli_harden(void)
{
    struct agah_why why = {{0}};
    int r;

    if ((r = agah_harden_process(&why)) != 0)
        return cli_fail(EXIT_FAIL, "%s; refusing to run", why.msg[0] ? why.msg : agah_strerror(r));
    if ((r = agah_passphrase_env_take(&why)) != 0)
        return cli_fail(r == AGAH_EINVAL ? EXIT_USAGE : EXIT_FAIL, "%s",
                        why.msg[0] ? why.msg : agah_strerror(r));
    return 0;
}

/* The global options before the command (and --version); leaves *i at the
 * command's first word. */
static int cli_leading(struct cli *c, int argc, char **argv, int *i, int *help)
{
    int r;

    for (; *i < argc; ++*i) {
        if (strcmp(argv[*i], "--version") == 0) {
            (void)printf("agah %s\n", AGAH_VERSION_STRING);
            return 0;
        }
        r = cli_global(c, argc, argv, i, help);
        if (r < 0)
            return -r;
        if (r == 0)
            break;
    }
    if (*i >= argc) {
        if (*help) {
            (void)help_print(stdout, NULL);
            return 0;
        }
        help_usage(stderr);
        return EXIT_USAGE;
    }
    if (argv[*i][0] == '-') {
        (void)cli_fail(EXIT_USAGE, "unknown option %s", argv[*i]);
        help_usage(stderr);
        return EXIT_USAGE;
    }
    return CLI_GO;
}

/* `agah help [COMMAND [SUBCOMMAND]]`, argv[i] being "help". */
static int cli_help_command(int argc, char **argv, int i)
{
    char name[64];

    if (i + 1 >= argc) {
        (void)help_print(stdout, NULL);
        return 0;
    }
    (void)snprintf(name, sizeof name, "%s%s%s", argv[i + 1], i + 2 < argc ? " " : "",
                   i + 2 < argc ? argv[i + 2] : "");
    if (help_print(stdout, name) != 0)
        return cli_fail(EXIT_USAGE, "no such command: %s (see `agah --help`)", name);
    return 0;
}

/* Finds the command of two words whose group is argv[*i] into *cmd; leaves
 * *i after its second word. */
static int cli_group_command(struct cli *c, int argc, char **argv, int *i, int *help,
                             const struct cli_command **cmd)
{
    char name[64];
    const char *group = argv[*i];
    int j = *i + 1, r;

    /* Global options may sit between the two words. */
    while (j < argc && argv[j][0] == '-') {
        r = cli_global(c, argc, argv, &j, help);
        if (r < 0)
            return -r;
        if (r == 0)
            break;
        j++;
    }
    if (j >= argc || argv[j][0] == '-') {
        if (*help) {
            (void)help_print(stdout, group);
            return 0;
        }
        (void)cli_fail(EXIT_USAGE, "`agah %s` needs a subcommand", group);
        (void)help_print(stderr, group);
        return EXIT_USAGE;
    }
    (void)snprintf(name, sizeof name, "%s %s", group, argv[j]);
    *cmd = cli_find(name);
    if (*cmd == NULL)
        return cli_fail(EXIT_USAGE, "unknown command `agah %s %.40s` (see `agah %s --help`)",
                        group, argv[j], group);
    *i = j + 1;
    return CLI_GO;
}

/* Finds the command named at argv[*i] into *cmd; leaves *i after it. */
static int cli_pick_command(struct cli *c, int argc, char **argv, int *i, int *help,
                            const struct cli_command **cmd)
{
    if (cli_is_group(argv[*i]))
        return cli_group_command(c, argc, argv, i, help, cmd);
    *cmd = cli_find(argv[*i]);
    if (*cmd == NULL) {
        (void)cli_fail(EXIT_USAGE, "unknown command `%.40s`", argv[*i]);
        help_usage(stderr);
        return EXIT_USAGE;
    }
    ++*i;
    return CLI_GO;
}

/* The command's options and positional arguments from argv[i] on, in any
 * order; "--" ends the options and "-" alone is an argument (standard
 * input). Returns 0 or the exit code. */
static int cli_arguments(struct cli *c, const struct cli_command *cmd, int argc, char **argv,
                         int i, int *help)
{
    int only_pos = 0, r;

    for (; i < argc; i++) {
        const char *a = argv[i];
        if (!only_pos && strcmp(a, "--") == 0) {
            only_pos = 1;
            continue;
        }
        if (!only_pos && a[0] == '-' && a[1] != '\0') {
            r = cli_global(c, argc, argv, &i, help);
            if (r < 0)
                return -r;
            if (r == 1)
                continue;
            if (a[1] != '-')
                return cli_fail(EXIT_USAGE, "unknown option %s for `agah %s` (see `agah %s --help`)",
                                a, cmd->name, cmd->name);
            r = cli_option(c, cmd, argc, argv, &i);
            if (r != 0)
                return r;
            continue;
        }
        if (c->npos >= CLI_MAX_POS || c->npos >= cmd->max_pos) {
            if (*help)
                break;
            return cli_fail(EXIT_USAGE, "unexpected argument `%.60s` for `agah %s` (see `agah %s --help`)",
                            a, cmd->name, cmd->name);
        }
        c->pos[c->npos++] = a;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static struct cli c;
    const struct cli_command *cmd = NULL;
    int i = 1, help = 0, r;
    struct agah_why why = {{0}};

    if ((r = cli_harden()) != 0)
        return r;
    if ((r = cli_leading(&c, argc, argv, &i, &help)) != CLI_GO)
        return r;
    if (strcmp(argv[i], "help") == 0)
        return cli_help_command(argc, argv, i);
    if ((r = cli_pick_command(&c, argc, argv, &i, &help, &cmd)) != CLI_GO)
        return r;
    c.cmd = cmd->name;
    if ((r = cli_arguments(&c, cmd, argc, argv, i, &help)) != 0)
        return r;
    if (help) {
        (void)help_print(stdout, cmd->name);
        return 0;
    }
    if (c.npos < cmd->min_pos)
        return cli_fail(EXIT_USAGE, "`agah %s` needs %s (see `agah %s --help`)", cmd->name,
                        cmd->min_pos == 1 ? "an argument" : "more arguments", cmd->name);

    if (cmd->sodium && agah_init() != 0)
        return cli_fail(EXIT_FAIL, "cannot initialise libsodium");
    if (agah_datadir_resolve(c.data_opt, c.datadir, &why) != 0)
        return cli_fail(EXIT_USAGE, "%s", why.msg);
    out_init(c.json);
    r = cmd->run(&c);
    if (fflush(stdout) != 0 && r == 0)
        return cli_fail(EXIT_FAIL, "cannot write the output");
    return r;
}

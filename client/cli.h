/* Internals of the agah command-line client: the parsed command line, the
 * control-socket client (ctl_*), output helpers (out_*) and the commands
 * themselves (cmd_*). Nothing here is used outside client/. */
#ifndef AGAH_CLI_H
#define AGAH_CLI_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <agah/agah.h>
#include <agah/ctl.h>
#include <agah/mp.h>
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

/* --- commands, each returns the process exit code --- */
int cmd_init(struct cli *c);
int cmd_id(struct cli *c);
int cmd_community_create(struct cli *c);
int cmd_join(struct cli *c);
int cmd_invite(struct cli *c);
int cmd_post(struct cli *c); /* post number|account|alert: c->cmd says which */
int cmd_check(struct cli *c);
int cmd_list(struct cli *c);
int cmd_show(struct cli *c);
int cmd_confirm(struct cli *c);
int cmd_retract(struct cli *c);
int cmd_watch(struct cli *c);
int cmd_members(struct cli *c);
int cmd_revoke(struct cli *c);
int cmd_peers(struct cli *c);
int cmd_peer_add(struct cli *c);
int cmd_status(struct cli *c);
int cmd_passphrase(struct cli *c);

/* 0 if the passphrase (NUL-terminated) is strong enough to set, else an
 * exit code after saying why (client/strength.c). `old`: the passphrase it
 * replaces, or NULL. */
int cli_pass_strong(const char *pass, const char *old);
/* The identity in c->datadir, asking for its passphrase only when the key
 * file has one; that passphrase is handed to *pass (sodium memory, free with
 * agah_passphrase_free; NULL when none) if pass is non-NULL. 0 or an exit
 * code after saying why (client/offline.c). */
int off__load_identity(const struct cli *c, struct agah_identity **out, char **pass,
                       size_t *passlen);

/* --- help texts (help.c) --- */
/* Prints the help of a command ("post number", "check", ...) or the general
 * help when cmd is NULL. Returns 0, or -1 when there is no such command. */
int help_print(FILE *f, const char *cmd);
void help_usage(FILE *f);

/* --- control socket client (ctl.c) --- */
#define CTL_RESP_MAX AGAH_CTL_RESP_MAX
#define CTL_TIMEOUT_SECONDS 60
/* check answers from memory in microseconds; a script screening a call
 * must not hang for a minute on a stuck daemon. */
#define CTL_CHECK_TIMEOUT_SECONDS 10

struct ctl {
    int fd;
    char datadir[AGAH_PATH_MAX];
    uint8_t *resp;        /* the last response body (the result points into it) */
    size_t resp_len;
    msgpack_unpacked unp; /* the last response, unpacked */
    int have_unp;
    /* When set (after ctl_open), a refusal from the daemon is copied here,
     * control characters replaced, instead of printed: batch `check` puts
     * its line number in front. */
    char *refusal;
    size_t refusal_size;
    int timeout; /* of the call in progress, for the message if it runs out */
};

/* Connects to DIR/agahd.sock. On failure prints why and returns the exit
 * code (3 when the daemon is not running). */
int ctl_open(struct ctl *ctl, const char *datadir);
void ctl_close(struct ctl *ctl);
/* Sends the packed request in sbuf, waits for the response and checks it.
 * Returns 0 with *result pointing into ctl (valid until the next call), or
 * prints the daemon's error and returns its exit code. `timeout` in
 * seconds, 0 for none. */
int ctl_call(struct ctl *ctl, const msgpack_sbuffer *req, int timeout,
             const msgpack_object **result);
/* Reads the next message of a stream (`watch`): 0 with *event set; 1 when
 * the daemon closed the connection; 2 when `*stop` became non-zero (a
 * signal); otherwise an exit code after printing why. */
int ctl_next_event(struct ctl *ctl, volatile sig_atomic_t *stop, const msgpack_object **event);
/* The pure half of receiving: checks the response body in ctl->resp
 * (resp_len bytes, already read) and unpacks it into ctl->unp. Returns 0
 * with *out set to its "result" or "event", or prints the daemon's error
 * (or copies it to ctl->refusal) and returns its exit code. No I/O but
 * stderr, so tests/fuzz/fuzz_ctlresp.c runs exactly what the CLI runs. */
int ctl_decode(struct ctl *ctl, const msgpack_object **out);
/* Frees the last response and its unpacked objects. */
void ctl_drop_response(struct ctl *ctl);

/* Starts a request {"v": 1, "cmd": CMD, ...} with `nargs` more pairs to
 * come; -1 if CMD is not a command of the schema (include/agah/ctl.h). */
int ctl_req_begin(msgpack_packer *pk, const char *cmd, size_t nargs);
int ctl_pack_str(msgpack_packer *pk, const char *s);
int ctl_pack_kv_str(msgpack_packer *pk, const char *k, const char *v); /* v NULL: nil */
int ctl_pack_kv_uint(msgpack_packer *pk, const char *k, uint64_t v);
int ctl_pack_kv_bool(msgpack_packer *pk, const char *k, int v);

/* --- printing a result (online.c) ---
 * What each command prints from the daemon's result, as JSON with --json
 * or for people otherwise, split from the request so that the fuzzer
 * (tests/fuzz/fuzz_ctlresp.c) drives the same code with any result. Each
 * checks the result's shape itself and returns 0 or an exit code after
 * saying why; output goes to stdout (warnings to stderr). */
/* Where further pages of a check come from (NULL: print the one page). */
struct check_more {
    struct ctl *ctl;
    const char *region;
};
/* `check QUERY`: 0 flagged, 1 not, else an exit code. lineno > 0 in batch
 * mode (each answer starts with the normalised identifier). */
int on_check_print(const struct cli *c, const char *query, size_t lineno,
                   const msgpack_object *res, const struct check_more *more);
/* `list`, across the pages it fetches. */
struct table;
struct list_out {
    const struct cli *c;
    int all;
    size_t shown;
    struct table *t; /* human output: rows kept for on_list_end */
    uint64_t now;
};
int on_list_begin(struct list_out *o, const struct cli *c, int all, uint64_t now);
/* One page (an array of alerts); *last gets the id of its last alert, the
 * next page's cursor ("" for an empty page). */
int on_list_page(struct list_out *o, const msgpack_object *res, char last[65]);
/* Prints what is kept and frees it. */
void on_list_end(struct list_out *o, const char *kind);
void on_show_print(const struct cli *c, const msgpack_object *res, uint64_t now);
int on_members_print(const struct cli *c, const msgpack_object *res, uint64_t now);
int on_peers_print(const struct cli *c, const msgpack_object *res);
/* nopass: what on_keyfile_pass says of the key file (-1: unknown). */
int on_status_print(const struct cli *c, const msgpack_object *res, int nopass);

/* --- msgpack object access (ctl.c) --- */
/* The value of key `k` in map `m`, or NULL. */
const msgpack_object *mp_get(const msgpack_object *m, const char *k);
/* Copies a str (or bin as text) value into buf as a NUL-terminated string;
 * "" when absent or of another type. */
const char *mp_str(const msgpack_object *m, const char *k, char *buf, size_t size);
int mp_has_str(const msgpack_object *m, const char *k);
uint64_t mp_uint(const msgpack_object *m, const char *k);
int mp_bool(const msgpack_object *m, const char *k);

/* --- output (output.c) --- */
/* Colour is used only when stdout is a terminal, NO_COLOR is unset and
 * TERM is not "dumb". */
void out_init(int json);
int out_colour(void);
const char *out_c(const char *sgr); /* the escape for sgr, or "" without colour */
const char *out_reset(void);

/* JSON writer: any msgpack object to JSON (strings escaped, UTF-8 kept,
 * invalid bytes replaced by U+FFFD, bin as lowercase hex). */
void json_object(FILE *f, const msgpack_object *o);
void json_string(FILE *f, const char *s, size_t n);

/* Text from another party (a name, a note) for a terminal: control
 * characters become '?', invalid UTF-8 U+FFFD. */
void out_text(FILE *f, const char *s, size_t n);

/* Display width of UTF-8 text in terminal columns (wide East Asian
 * characters count 2, combining marks 0). */
size_t out_width(const char *s, size_t n);
/* The longest prefix of s[0..n) that is whole UTF-8 characters and at most
 * `cols` columns wide; returns its byte length. */
size_t out_fit(const char *s, size_t n, size_t cols);
/* Relative time: "3 h ago", "in 364 d", "just now", "never". */
void out_reltime(char *buf, size_t size, uint64_t t, uint64_t now);

/* A table of text cells, printed with aligned columns (by display width).
 * The last column is never padded (notes in right-to-left scripts go last
 * so they cannot disturb the alignment of the others). */
struct table;
struct table *table_new(size_t ncols);
/* Adds a row of ncols cells (copied); colours per cell may be NULL. */
int table_row(struct table *t, const char *const *cells, const char *const *colours);
void table_print(struct table *t, FILE *f);
void table_free(struct table *t);

/* Prints one ALERT (as the daemon sends it) in human form. */
void out_alert_long(FILE *f, const msgpack_object *a, uint64_t now);
/* One line for an ALERT (watch's), led by its state: new, confirmed by N,
 * retracted or expired (watch sends an alert again as it changes). */
void out_alert_line(FILE *f, const msgpack_object *a, uint64_t now);
/* "FLAGGED: harassment, reported by 2 members, last 3 d ago" from a list of
 * alerts. */
void out_flagged_summary(char *buf, size_t size, const msgpack_object *alerts, uint64_t now);

#endif

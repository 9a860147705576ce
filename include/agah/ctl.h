/* The control protocol between `agah` and agahd (proto/PROTOCOL.md,
 * "Control socket"), written once: the version, the commands, their
 * argument keys with types and limits, the envelope keys, the exit codes
 * of CONTRACT.md and which error maps to which, and the encoders and
 * decoders of the request and response envelopes. The daemon
 * (daemon/control/), the CLI's transport (client/ctl.c) and the fuzz
 * targets use this table; tests/agahctl.py is its Python twin. A new
 * command is one entry here and one handler in the daemon.
 *
 * Codec only, no I/O. It does not include <msgpack.h>: the decoders take
 * or hand out `struct msgpack_object` pointers, which callers that look
 * inside them get from <agah/mp.h>. */
#ifndef AGAH_CTL_H
#define AGAH_CTL_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"

struct msgpack_object;

#define AGAH_CTL_VERSION 1
#define AGAH_CTL_REQ_MAX 65536          /* largest request body, bytes */
#define AGAH_CTL_RESP_MAX (16u << 20)   /* largest response body, bytes */

/* The envelope: a request is {"v", "cmd", ARGS...}; a response is
 * {"v", "ok": true, "result"} (or "event" for what `watch` streams) or
 * {"v", "ok": false, "exit", "error"}. */
#define AGAH_CTL_K_VERSION "v"
#define AGAH_CTL_K_CMD "cmd"
#define AGAH_CTL_K_OK "ok"
#define AGAH_CTL_K_EXIT "exit"
#define AGAH_CTL_K_ERROR "error"
#define AGAH_CTL_K_RESULT "result"
#define AGAH_CTL_K_EVENT "event"

/* The exit codes of CONTRACT.md, also carried in error responses. */
enum agah_ctl_exit {
    AGAH_CTL_EXIT_OK = 0,
    AGAH_CTL_EXIT_NO = 1,     /* a "no" answer: check found nothing */
    AGAH_CTL_EXIT_USAGE = 2,  /* usage or input error */
    AGAH_CTL_EXIT_DAEMON = 3, /* agahd not running or not reachable */
    AGAH_CTL_EXIT_PERM = 4,   /* permission (not an organiser...) */
    AGAH_CTL_EXIT_FAIL = 5,   /* any other failure */
};

/* The exit code an AGAH_E* failure maps to: 4 permission, 2 input, 5 other. */
int agah_ctl_exit_code(int err);

enum agah_ctl_cmd {
    AGAH_CTL_STATUS = 0, AGAH_CTL_POST, AGAH_CTL_CHECK, AGAH_CTL_LIST, AGAH_CTL_SHOW,
    AGAH_CTL_CONFIRM, AGAH_CTL_RETRACT, AGAH_CTL_INVITE, AGAH_CTL_REVOKE, AGAH_CTL_MEMBERS,
    AGAH_CTL_PEERS, AGAH_CTL_PEER_ADD, AGAH_CTL_WATCH, AGAH_CTL_NCMDS
};

/* Every argument any command takes; at most 32 (they are bits of a mask). */
enum agah_ctl_arg {
    AGAH_CTL_ARG_KIND, AGAH_CTL_ARG_TARGET, AGAH_CTL_ARG_CATEGORY, AGAH_CTL_ARG_NOTE,
    AGAH_CTL_ARG_SEVERITY, AGAH_CTL_ARG_EXPIRES, AGAH_CTL_ARG_ALL, AGAH_CTL_ARG_ID,
    AGAH_CTL_ARG_REASON, AGAH_CTL_ARG_MEMBER_ID, AGAH_CTL_ARG_ROLE, AGAH_CTL_ARG_NAME,
    AGAH_CTL_ARG_ADDRESS, AGAH_CTL_ARG_QUERY, AGAH_CTL_ARG_REGION,
    AGAH_CTL_ARG_RETRACT_ALERTS, AGAH_CTL_ARG_ALSO_ADMITTED, AGAH_CTL_ARG_DRY_RUN,
    AGAH_CTL_ARG_LIMIT, AGAH_CTL_ARG_AFTER, AGAH_CTL_ARG_PURGE_SINCE, AGAH_CTL_ARG_NOTES,
    AGAH_CTL_NARGS
};
#define AGAH_CTL_ARG_BIT(a) (1u << (a))

enum agah_ctl_type { AGAH_CTL_T_STR, AGAH_CTL_T_UINT, AGAH_CTL_T_BOOL };

/* Limits of the arguments that are not a record field's. */
#define AGAH_CTL_QUERY_MAX 1024                 /* check's raw query, bytes */
#define AGAH_CTL_LIST_LIMIT_MAX 100000          /* list: the largest page */
/* check: the largest page, whatever `limit` asks. An ALERT packs to at
 * most about 2.6 KiB, so a page stays near 2.6 MiB, well below
 * AGAH_CTL_RESP_MAX. */
#define AGAH_CTL_CHECK_LIMIT_MAX 1000
#define AGAH_CTL_EXPIRES_MAX (100ull * 366 * 86400) /* post: 100 years, seconds */

struct agah_ctl_arg_def {
    const char *key;
    int type;     /* enum agah_ctl_type */
    uint64_t max; /* bytes for strings, value for integers */
};

#define AGAH_CTL_F_REQ 1u /* must be present */
#define AGAH_CTL_F_NIL 2u /* nil is accepted and means "not given" */
#define AGAH_CTL_CMD_MAX_ARGS 7

struct agah_ctl_cmd_def {
    const char *name;
    size_t n_args;
    struct {
        int arg;        /* enum agah_ctl_arg */
        unsigned flags; /* AGAH_CTL_F_* */
    } args[AGAH_CTL_CMD_MAX_ARGS];
};

/* The table entries, or NULL out of range. */
const struct agah_ctl_cmd_def *agah_ctl_cmd(int cmd);
const struct agah_ctl_arg_def *agah_ctl_arg(int arg);
/* The command's name ("status", ...), or NULL. */
const char *agah_ctl_cmd_name(int cmd);
/* The command named by the n bytes at name (no NUL needed), or -1. */
int agah_ctl_cmd_find(const char *name, size_t n);

/* --- requests --- */

/* The start of a request body: a map header for `nargs` arguments, "v"
 * and "cmd". The caller packs the nargs key/value pairs after it. Writes
 * at most AGAH_CTL_REQ_HEAD_MAX bytes to buf; 0 with *len, or AGAH_EINVAL
 * for an unknown command. */
#define AGAH_CTL_REQ_HEAD_MAX 32
int agah_ctl_req_head(int cmd, size_t nargs, uint8_t buf[AGAH_CTL_REQ_HEAD_MAX], size_t *len);

/* Called by agah_ctl_req_decode for each argument the request gives a
 * value for (a nil where the command allows one is skipped): converts and
 * checks `val` (a msgpack_object) into the caller's request. 0 or a
 * negative AGAH_E* code with `why`. */
typedef int (*agah_ctl_arg_fn)(void *ctx, int arg, const struct msgpack_object *val,
                               struct agah_why *why);

struct agah_ctl_req_info {
    int cmd;       /* enum agah_ctl_cmd, -1 until known */
    int fatal;     /* on failure: 1 if the body is not a msgpack map at all */
    unsigned have; /* AGAH_CTL_ARG_BIT of each argument given a value */
};

/* Decodes one request body (without its length prefix) against the table:
 * a msgpack map (pre-scanned, <agah/mp.h>) with string keys, a known
 * "cmd", "v" equal to AGAH_CTL_VERSION, no key twice, no argument the
 * command does not take, every required one present. Pure. 0, or a
 * negative AGAH_E* code with `why` (info->fatal says whether the
 * connection must close). */
int agah_ctl_req_decode(const uint8_t *buf, size_t len, agah_ctl_arg_fn take, void *ctx,
                        struct agah_ctl_req_info *info, struct agah_why *why);

/* --- responses --- */

/* The start of a successful response: {"v", "ok": true, and the key
 * "result" (event 0) or "event" (event 1)}; the caller packs the value
 * next. Writes at most AGAH_CTL_RESP_HEAD_MAX bytes; returns the length. */
#define AGAH_CTL_RESP_HEAD_MAX 24
size_t agah_ctl_resp_head(int event, uint8_t buf[AGAH_CTL_RESP_HEAD_MAX]);

/* A whole error response {"v", "ok": false, "exit", "error": msg} in
 * buf[0..cap). 0 with *len, or AGAH_ETOOBIG; strlen(msg) +
 * AGAH_CTL_RESP_ERROR_OVERHEAD bytes are always enough. */
#define AGAH_CTL_RESP_ERROR_OVERHEAD 40
int agah_ctl_resp_error(int exit_code, const char *msg, uint8_t *buf, size_t cap,
                        size_t *len);

struct agah_ctl_resp {
    int ok;                              /* 1: result or event; 0: refusal */
    int exit;                            /* refusal: 2, 4 or 5 (anything else is 5) */
    const char *error;                   /* refusal: the message, not terminated, or NULL */
    size_t error_len;
    const struct msgpack_object *result; /* ok: "result", else "event" */
};

/* Checks an unpacked response (a msgpack_object) against the envelope.
 * 0 with *out pointing into `m`, or AGAH_EVERSION / AGAH_EFIELDS with why. */
int agah_ctl_resp_decode(const struct msgpack_object *m, struct agah_ctl_resp *out,
                         struct agah_why *why);

#endif

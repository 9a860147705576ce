/* The control socket of agahd: a Unix socket at DATA_DIR/agahd.sock through
 * which the local `agah` CLI asks the daemon to post, check, list... Each
 * request is a length-prefixed msgpack map (proto/PROTOCOL.md, "Control
 * socket"); the daemon checks it against the schema of include/agah/ctl.h,
 * calls node.h or net.h, and answers with the exact result shape of
 * CONTRACT.md. The code is in daemon/control/. */
#ifndef AGAH_CONTROL_H
#define AGAH_CONTROL_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>
#include <agah/agah.h>
#include <agah/ctl.h>
#include "net.h"
#include "node.h"

#define CONTROL_MAX_CLIENTS 256

struct control;

/* Listens on `path` (removing a stale socket file first: the caller must
 * already hold the node's lock, so the file cannot be a live daemon's),
 * chmod 0600, and registers a node listener for `watch`. `net` may be NULL
 * (then `peers` lists nothing and `peer_add` fails). Caller owns *out:
 * control_close starts closing every handle, `done` runs once when all are
 * closed, then control_free releases the memory. */
int control_start(uv_loop_t *loop, struct node *node, struct net *net, const char *path,
                  struct control **out, struct agah_why *why);
/* Stops listening, drops every client, removes the socket file. Idempotent;
 * `done` (may be NULL) is called from a close callback, never from here. */
void control_close(struct control *c, void (*done)(void *ctx), void *ctx);
/* Frees a control whose close has completed (or NULL). */
void control_free(struct control *c);
size_t control_clients(const struct control *c);

/* --- the request parser, exposed for the unit test and the fuzzer --- */

/* A request after parsing and validation: every string is NUL-terminated,
 * bounded, valid UTF-8 without NUL, and every value has been checked and
 * converted (enums parsed, targets normalised again, member ids decoded).
 * Fields a command does not take keep their defaults. */
struct control_req {
    int cmd;                          /* enum agah_ctl_cmd */
    int fatal;                        /* on failure: 1 if the connection must close */
    int kind;                         /* post: agah_alert_kind; list: 0 = all kinds */
    char target[AGAH_TARGET_MAX];     /* normalised; "" for a free-text alert */
    char query[AGAH_CTL_QUERY_MAX + 1]; /* check: as the user typed it */
    char region[3];                   /* check, post: "" or an ISO 3166 alpha-2 code */
    int category;                     /* agah_category, default harassment */
    int severity;                     /* agah_severity, default warning */
    uint64_t expires;                 /* post: seconds from now, 0 = never */
    int all;                          /* list */
    uint64_t limit;                   /* list, check: alerts at most; 0 = no limit */
    int has_after;                    /* list, check: page after this alert */
    uint8_t after[AGAH_HASH_LEN];
    int retract_alerts, also_admitted, dry_run; /* revoke */
    uint64_t purge_since;             /* revoke: Unix seconds, 0 = none */
    int notes;                        /* check: 1 (default) with the notes, 0 without */
    char id[2 * AGAH_HASH_LEN + 1];   /* lowercase hex, 4..64 digits */
    char note[AGAH_NOTE_MAX + 1];     /* post/confirm note, retract/revoke reason */
    uint8_t member[AGAH_PK_LEN];      /* invite, revoke */
    char member_id[AGAH_IDSTR_SIZE];
    int role;                         /* invite; -1 if not given */
    char name[AGAH_NAME_MAX + 1];     /* invite */
    char address[AGAH_ADDR_MAX];      /* peer_add: "host:port" */
};

/* Parses one request body (without its length prefix) against the schema
 * (include/agah/ctl.h) into `out`. Pure: no I/O, no node. Returns 0, or a
 * negative AGAH_E* code with `why` saying what is wrong; then out->fatal is 1 when the body is not a msgpack map at all
 * (the connection is closed after the error response) and 0 when it is a
 * map with a bad command or argument (the connection stays). */
int control__parse_request(const uint8_t *buf, size_t len, struct control_req *out,
                           struct agah_why *why);
/* The result shapes, packed as the daemon sends them (an array of ALERTs,
 * an array of `members` entries) into a malloc'd buffer the caller frees:
 * for the unit test. */
int control__pack_alerts(const struct node_alert *a, size_t n, uint8_t **buf, size_t *len);
int control__pack_members(const struct node_member *m, size_t n, uint8_t **buf, size_t *len);

#endif

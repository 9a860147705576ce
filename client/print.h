/* What the online commands print from the daemon's result, as JSON with
 * --json or for people otherwise, split from the request so that the fuzzer
 * (tests/fuzz/fuzz_ctlresp.c) drives the same code with any result. Each
 * checks the result's shape itself and returns 0 or an exit code after
 * saying why; output goes to stdout (warnings to stderr). */
#ifndef AGAH_PRINT_H
#define AGAH_PRINT_H

#include <stddef.h>
#include <stdint.h>
#include <agah/mp.h>
#include "cli.h"
#include "ctl.h"

/* check.c. Where further pages of a check come from (NULL: print the one
 * page). */
struct check_more {
    struct ctl *ctl;
    const char *region;
};
/* `check QUERY`: 0 flagged, 1 not, else an exit code. lineno > 0 in batch
 * mode (each answer starts with the normalised identifier). */
int check_print(const struct cli *c, const char *query, size_t lineno,
                const msgpack_object *res, const struct check_more *more);

/* alerts.c: `list`, across the pages it fetches. */
struct table;
struct list_out {
    const struct cli *c;
    int all;
    size_t shown;
    struct table *t; /* human output: rows kept for list_end */
    uint64_t now;
};
int list_begin(struct list_out *o, const struct cli *c, int all, uint64_t now);
/* One page (an array of alerts); *last gets the id of its last alert, the
 * next page's cursor ("" for an empty page). */
int list_page(struct list_out *o, const msgpack_object *res, char last[65]);
/* Prints what is kept and frees it: 0, or cli_fail's code when the table
 * ran out of memory (checked here once, not row by row). */
int list_end(struct list_out *o, const char *kind);
void show_print(const struct cli *c, const msgpack_object *res, uint64_t now);

/* members.c */
int members_print(const struct cli *c, const msgpack_object *res, uint64_t now);

/* node.c. nopass: what the key file says (AGAH_KEYFILE_PROTECTED, _NOPASS,
 * _NOPASS_UNSAFE; -1: unknown). */
int peers_print(const struct cli *c, const msgpack_object *res);
int status_print(const struct cli *c, const msgpack_object *res, int nopass);

#endif

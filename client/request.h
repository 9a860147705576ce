/* What the online commands share (request.c): checking the input several
 * of them take the same way, and building and sending one request. */
#ifndef AGAH_REQUEST_H
#define AGAH_REQUEST_H

#include <agah/mp.h>
#include "cli.h"
#include "ctl.h"

/* A request being built. */
struct req {
    msgpack_sbuffer sb;
    msgpack_packer pk;
};

void req_init(struct req *q);
/* Sends the request, prints an error and returns its exit code, or 0 with
 * *res valid until ctl_close. The request is released either way. */
int req_call(struct cli *c, struct ctl *ctl, struct req *q, int packed_ok,
             const msgpack_object **res);

/* The same for a command that takes no arguments (members, peers, status,
 * watch). */
int req_noargs(struct cli *c, struct ctl *ctl, const char *cmd, const msgpack_object **res);

/* --region, else $AGAH_REGION, or NULL. */
const char *req_region(const struct cli *c);
/* 0 when that region is absent or a two-letter code, else exit 2 after
 * naming whichever of the two is wrong. */
int req_region_ok(const struct cli *c);
/* A note or reason: at most AGAH_NOTE_MAX bytes of UTF-8. */
int req_note_ok(const char *what, const char *s);
/* HOST:PORT with a port in 1..65535; an IPv6 host in brackets. */
int req_addr_ok(const char *a);

#endif

/* What the online commands share: the input several of them check the same
 * way (a region, a note, a peer address) and sending one request over the
 * control socket. */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include "request.h"

void req_init(struct req *q)
{
    msgpack_sbuffer_init(&q->sb);
    msgpack_packer_init(&q->pk, &q->sb, msgpack_sbuffer_write);
}

/* Sends the request, prints an error and returns its exit code, or 0 with
 * *res valid until ctl_close. The request is released either way. */
int req_call(struct cli *c, struct ctl *ctl, struct req *q, int packed_ok,
             const msgpack_object **res)
{
    int r;
    memset(ctl, 0, sizeof *ctl);
    ctl->fd = -1;
    if (!packed_ok) {
        msgpack_sbuffer_destroy(&q->sb);
        return cli_fail(EXIT_FAIL, "cannot encode the request");
    }
    r = ctl_open(ctl, c->datadir);
    if (r == 0)
        r = ctl_call(ctl, &q->sb, CTL_TIMEOUT_SECONDS, res);
    msgpack_sbuffer_destroy(&q->sb);
    return r;
}

int req_noargs(struct cli *c, struct ctl *ctl, const char *cmd, const msgpack_object **res)
{
    struct req q;

    req_init(&q);
    return req_call(c, ctl, &q, ctl_req_begin(&q.pk, cmd, 0) == 0, res);
}

/* --region, else $AGAH_REGION, or NULL. */
const char *req_region(const struct cli *c)
{
    const char *r = cli_opt(c, "region");
    if (r == NULL)
        r = getenv("AGAH_REGION");
    return r;
}

/* --region, or else AGAH_REGION, must be a two-letter code; the message
 * names whichever one is wrong (a stale AGAH_REGION is easy to forget). */
int req_region_ok(const struct cli *c)
{
    const char *opt = cli_opt(c, "region"), *region = req_region(c);

    if (region == NULL || region[0] == '\0')
        return 0;
    if (strlen(region) != 2 || !isalpha((unsigned char)region[0]) ||
        !isalpha((unsigned char)region[1]))
        return cli_fail(EXIT_USAGE, "%s \"%.20s\" is not a two-letter country code (e.g. GB, TR)",
                        opt != NULL ? "--region" : "AGAH_REGION", region);
    return 0;
}

/* A note or reason: at most AGAH_NOTE_MAX bytes of UTF-8. */
int req_note_ok(const char *what, const char *s)
{
    size_t n = strlen(s);
    if (n > AGAH_NOTE_MAX)
        return cli_fail(EXIT_USAGE, "the %s is %zu bytes long; at most %d are allowed", what, n,
                        AGAH_NOTE_MAX);
    if (!agah_mp_utf8_ok(s, n))
        return cli_fail(EXIT_USAGE, "the %s is not valid UTF-8", what);
    return 0;
}

/* HOST:PORT with a port in 1..65535; an IPv6 host in brackets. */
int req_addr_ok(const char *a)
{
    struct agah_why why = {{0}};

    if (agah_addr_parse(a, strlen(a), NULL, &why) == 0)
        return 0;
    return cli_fail(EXIT_USAGE, "\"%.70s\" is not a peer address (%s): use HOST:PORT, e.g. "
                    "203.0.113.7:7433 or [2001:db8::1]:7433", a, why.msg);
}

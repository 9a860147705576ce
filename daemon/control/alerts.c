/* The alert commands of the control socket: post, check, list, show,
 * confirm, retract and watch. Each turns a parsed request into node.h
 * calls and answers with the result shape of CONTRACT.md. */
#define _POSIX_C_SOURCE 200809L /* what uv.h needs */
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "control_int.h"

/* {"id": HEX} plus, when `extra_key` is set, one more string or uint. */
static void send_id_result(struct control_client *cl, const uint8_t id[AGAH_HASH_LEN],
                           const char *extra_key, const char *extra_str, uint64_t extra_uint)
{
    char hex[2 * AGAH_HASH_LEN + 1];
    struct control_out o;

    (void)sodium_bin2hex(hex, sizeof hex, id, AGAH_HASH_LEN);
    co_init(&o);
    co_ok(&o);
    co_map(&o, extra_key != NULL ? 2 : 1);
    co_kstr(&o, "id", hex);
    if (extra_key != NULL) {
        co_str(&o, extra_key);
        if (extra_str != NULL)
            co_str(&o, extra_str);
        else
            co_uint(&o, extra_uint);
    }
    control__send(cl, &o);
}

void control__h_post(struct control_client *cl, const struct control_req *r)
{
    struct agah_alert_body body;
    struct agah_why why = {{0}};
    uint8_t id[AGAH_HASH_LEN];
    uint64_t expires = 0;
    int rc;

    memset(&body, 0, sizeof body);
    body.kind = r->kind;
    memcpy(body.target, r->target, sizeof body.target);
    body.category = r->category;
    memcpy(body.note, r->note, sizeof body.note);
    body.severity = r->severity;
    /* The request carries a duration; records carry the absolute time. */
    if (r->expires != 0)
        expires = node_now(cl->ctl->node) + r->expires;
    rc = node_post(cl->ctl->node, &body, expires, id, &why);
    sodium_memzero(&body, sizeof body);
    if (rc < 0) {
        control__fail(cl, rc, &why);
        return;
    }
    /* The normalised target goes back so the poster sees what was stored
     * (a number typed in a local format, say). */
    if (r->kind == AGAH_KIND_ALERT)
        send_id_result(cl, id, NULL, NULL, 0);
    else
        send_id_result(cl, id, "normalized", r->target, 0);
}

/* Packs a result that is an array of alerts. */
static void send_alerts(struct control_client *cl, const struct node_alert *a, size_t n)
{
    struct control_out o;

    co_init(&o);
    co_ok(&o);
    co_array(&o, n);
    for (size_t i = 0; i < n && o.err == 0; i++)
        co_alert(&o, &a[i]);
    control__send(cl, &o);
}

/* What a relay answers to a command that needs to read alerts. */
static int relay_refusal(struct agah_why *why, const char *cannot)
{
    return agah_fail(why, AGAH_EPERM,
                     "this node is a relay: it keeps the community's alerts but cannot read "
                     "them, so it cannot %s",
                     cannot);
}

/* A page of `check` or `list` that could not be read: an `after` cursor
 * this node does not hold is named; anything else answers by its code. */
static void page_fail(struct control_client *cl, int rc)
{
    struct agah_why why = {{0}};

    if (rc == AGAH_ENOENT)
        (void)agah_fail(&why, rc, "after: this node holds no alert with that id (it may have "
                                  "expired or been retracted and pruned since)");
    control__fail(cl, rc, why.msg[0] ? &why : NULL);
}

/* check answers one page: at most AGAH_CTL_CHECK_LIMIT_MAX alerts (fewer
 * with `limit`), after `after`, with `more` saying whether the CLI must
 * ask for the next. One author's thousands of alerts on one number then
 * make no answer larger than a page, and `flagged` is over all of them.
 * With `notes` false the notes are left empty and the store is not read:
 * the CLI's human answer shows none. */
void control__h_check(struct control_client *cl, const struct control_req *r)
{
    struct node_alert *a = NULL;
    struct agah_why why = {{0}};
    size_t n = 0, limit = AGAH_CTL_CHECK_LIMIT_MAX;
    int flagged = 0, more = 0, rc;
    struct control_out o;

    /* A relay holds alerts it cannot read: "not flagged" from it would be
     * a confident wrong answer, so it gives none (exit 4, like its posts). */
    if (node_role(cl->ctl->node) == AGAH_ROLE_RELAY) {
        control__fail(
            cl, relay_refusal(&why, "tell whether this is flagged; check on a member's node"),
            &why);
        return;
    }
    if (r->limit > 0 && r->limit < limit)
        limit = (size_t)r->limit;
    rc = node_check_page(cl->ctl->node, r->target, r->has_after ? r->after : NULL, limit,
                         r->notes, &a, &n, &more, &flagged);
    if (rc < 0) {
        page_fail(cl, rc);
        return;
    }
    co_init(&o);
    co_ok(&o);
    co_map(&o, 4);
    co_kstr(&o, "normalized", r->target);
    co_str(&o, "flagged");
    co_bool(&o, flagged);
    co_str(&o, "more");
    co_bool(&o, more);
    co_str(&o, "alerts");
    co_array(&o, n);
    for (size_t i = 0; i < n && o.err == 0; i++)
        co_alert(&o, &a[i]);
    sodium_memzero(a, n * sizeof *a);
    free(a);
    control__send(cl, &o);
}

void control__h_list(struct control_client *cl, const struct control_req *r)
{
    struct node_alert *a = NULL;
    size_t n = 0;
    int rc, more;

    rc = node_list_page(cl->ctl->node, r->kind, r->all, r->has_after ? r->after : NULL,
                        r->limit > 0 ? (size_t)r->limit : SIZE_MAX, &a, &n, &more);
    if (rc < 0) {
        page_fail(cl, rc);
        return;
    }
    send_alerts(cl, a, n);
    free(a);
}

/* Resolves an id or prefix to a full id, answering the error itself. */
static int find_alert(struct control_client *cl, const char *hex, uint8_t id[AGAH_HASH_LEN])
{
    struct agah_why why = {{0}};
    int rc = node_find(cl->ctl->node, hex, id);

    /* A relay lists no alert because it can read none: say that, as its
     * post and check do, rather than that the id is unknown. */
    if (rc == AGAH_ENOENT && node_role(cl->ctl->node) == AGAH_ROLE_RELAY)
        rc = relay_refusal(&why, "show, confirm or retract one");
    else if (rc == AGAH_ENOENT)
        (void)agah_fail(&why, rc, "no alert with id %s", hex);
    else if (rc == AGAH_EINVAL)
        (void)agah_fail(&why, rc, "%s is the start of more than one alert id: give more digits",
                        hex);
    if (rc < 0)
        control__fail(cl, rc, &why);
    return rc;
}

void control__h_show(struct control_client *cl, const struct control_req *r)
{
    uint8_t id[AGAH_HASH_LEN];
    struct node_alert a;
    int rc;

    if (find_alert(cl, r->id, id) < 0)
        return;
    if ((rc = node_alert_get(cl->ctl->node, id, &a)) < 0) {
        control__fail(cl, rc, NULL);
        return;
    }
    /* `show` answers one ALERT object, not a list (CONTRACT.md). */
    struct control_out o;
    co_init(&o);
    co_ok(&o);
    co_alert(&o, &a);
    control__send(cl, &o);
}

void control__h_confirm(struct control_client *cl, const struct control_req *r)
{
    uint8_t id[AGAH_HASH_LEN];
    struct agah_why why = {{0}};
    unsigned count = 0;
    int rc;

    if (find_alert(cl, r->id, id) < 0)
        return;
    if ((rc = node_confirm(cl->ctl->node, id, r->note, &count, &why)) < 0) {
        control__fail(cl, rc, &why);
        return;
    }
    send_id_result(cl, id, "confirmations", NULL, count);
}

void control__h_retract(struct control_client *cl, const struct control_req *r)
{
    uint8_t id[AGAH_HASH_LEN];
    struct agah_why why = {{0}};
    int rc;

    if (find_alert(cl, r->id, id) < 0)
        return;
    if ((rc = node_retract(cl->ctl->node, id, r->note, &why)) < 0) {
        control__fail(cl, rc, &why);
        return;
    }
    send_id_result(cl, id, "status", "retracted", 0);
}

void control__h_watch(struct control_client *cl, const struct control_req *r)
{
    struct control_out o;

    (void)r;
    if (!cl->watching) {
        cl->watching = 1;
        cl->ctl->n_watchers++;
    }
    co_init(&o);
    co_ok(&o);
    co_map(&o, 1);
    co_str(&o, "watching");
    co_bool(&o, 1);
    control__send(cl, &o);
}

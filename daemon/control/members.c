/* The membership commands of the control socket: invite, revoke and
 * members (organisers' powers are checked by node.h, which refuses with
 * AGAH_EPERM: exit 4). */
#define _POSIX_C_SOURCE 200809L /* what uv.h needs */
#include <stdlib.h>
#include <string.h>
#include "control_int.h"

void control__h_invite(struct control_client *cl, const struct control_req *r)
{
    struct agah_why why = {{0}};
    char *code = NULL;
    struct control_out o;
    size_t n_peers = 0;
    int rc;

    rc = node_invite(cl->ctl->node, r->member, r->role, r->name, r->address, &code, &n_peers,
                     &why);
    if (rc < 0) {
        control__fail(cl, rc, &why);
        return;
    }
    co_init(&o);
    co_ok(&o);
    co_map(&o, 2);
    co_kstr(&o, "code", code);
    co_kuint(&o, "peers", n_peers);
    free(code);
    control__send(cl, &o);
}

void control__h_revoke(struct control_client *cl, const struct control_req *r)
{
    struct agah_why why = {{0}};
    struct node_revoke_out res;
    struct control_out o;
    unsigned flags = (r->retract_alerts ? NODE_REVOKE_RETRACT_ALERTS : 0) |
                     (r->also_admitted ? NODE_REVOKE_ALSO_ADMITTED : 0) |
                     (r->dry_run ? NODE_REVOKE_DRY_RUN : 0);
    char mid[AGAH_IDSTR_SIZE];
    int rc;

    if ((rc = node_revoke_since(cl->ctl->node, r->member, r->note, flags, r->purge_since, &res,
                                &why)) < 0) {
        control__fail(cl, rc, &why);
        return;
    }
    co_init(&o);
    co_ok(&o);
    co_map(&o, 10);
    co_kstr(&o, "member_id", r->member_id);
    /* "pending": the founder, until a quorum of organisers revokes it. */
    co_kstr(&o, "status", res.effective ? "revoked" : "pending");
    co_str(&o, "already");
    co_bool(&o, res.already);
    co_kuint(&o, "kept", res.kept);
    co_kuint(&o, "dropped", res.dropped);
    co_kuint(&o, "also", res.also);
    co_kuint(&o, "votes", res.votes);
    co_kuint(&o, "quorum", res.quorum == SIZE_MAX ? 0 : res.quorum);
    co_kuint(&o, "epoch", node_epoch_number(cl->ctl->node));
    /* The keys --also-admitted takes (or took), for the CLI to list. */
    co_str(&o, "also_ids");
    co_array(&o, res.also < NODE_REVOKE_LIST_MAX ? res.also : NODE_REVOKE_LIST_MAX);
    for (size_t i = 0; i < res.also && i < NODE_REVOKE_LIST_MAX; i++) {
        agah_id_encode(AGAH_IDPFX_MEMBER, res.also_pk[i], mid);
        co_str(&o, mid);
    }
    control__send(cl, &o);
}

void control__h_members(struct control_client *cl, const struct control_req *r)
{
    struct node_member *m = NULL;
    size_t n = 0;
    struct control_out o;
    int rc;

    (void)r;
    if ((rc = node_members(cl->ctl->node, &m, &n)) < 0) {
        control__fail(cl, rc, NULL);
        return;
    }
    co_init(&o);
    co_ok(&o);
    co_array(&o, n);
    for (size_t i = 0; i < n && o.err == 0; i++)
        co_member(&o, &m[i]);
    free(m);
    control__send(cl, &o);
}

/* The node and network commands of the control socket: status, peers and
 * peer_add. */
#define _POSIX_C_SOURCE 200809L /* what uv.h needs */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <agah/array.h>
#include "control_int.h"

void control__h_status(struct control_client *cl, const struct control_req *r)
{
    struct control *c = cl->ctl;
    char me[AGAH_IDSTR_SIZE], comm[AGAH_IDSTR_SIZE];
    struct control_out o;

    (void)r;
    agah_id_encode(AGAH_IDPFX_MEMBER, agah_identity_pk(node_identity(c->node)), me);
    agah_id_encode(AGAH_IDPFX_COMMUNITY, node_community(c->node), comm);
    co_init(&o);
    co_ok(&o);
    co_map(&o, 7);
    co_kstr(&o, "member_id", me);
    co_kstr(&o, "community_id", comm);
    co_kstr(&o, "role", control__nz(agah_role_name(node_role(c->node))));
    co_kuint(&o, "peers", c->net != NULL ? net_connected(c->net) : 0);
    co_kuint(&o, "alerts", node_active_alerts(c->node));
    co_kuint(&o, "epoch", node_epoch_number(c->node));
    co_kuint(&o, "unreadable", node_unreadable(c->node));
    control__send(cl, &o);
}


/* net_peers_foreach gives no count up front, so peers are gathered into a
 * bounded list first and packed after. */
#define CONTROL_MAX_PEERS 1024
struct peer_row {
    char address[AGAH_ADDR_MAX];
    int has_member, connected;
    uint8_t member[AGAH_PK_LEN];
};
struct peer_rows {
    struct peer_row *rows;
    size_t n, cap;
    int err;
};

static void peer_row_cb(void *ctx, const char *addr, const uint8_t *member, int connected)
{
    struct peer_rows *pr = ctx;
    struct peer_row *row;

    if (pr->err != 0 || pr->n >= CONTROL_MAX_PEERS)
        return;
    if ((pr->err = agah_array_reserve((void **)&pr->rows, &pr->cap, pr->n, sizeof *pr->rows, 16,
                                      CONTROL_MAX_PEERS)) != 0)
        return;
    row = &pr->rows[pr->n++];
    memset(row, 0, sizeof *row);
    (void)snprintf(row->address, sizeof row->address, "%s", addr != NULL ? addr : "");
    row->connected = connected != 0;
    if (member != NULL) {
        row->has_member = 1;
        memcpy(row->member, member, AGAH_PK_LEN);
    }
}

void control__h_peers(struct control_client *cl, const struct control_req *r)
{
    struct peer_rows pr = {0};
    struct control_out o;
    int rc = 0;

    (void)r;
    if (cl->ctl->net != NULL)
        rc = net_peers_foreach(cl->ctl->net, peer_row_cb, &pr);
    if (rc == 0)
        rc = pr.err;
    if (rc < 0) {
        free(pr.rows);
        control__fail(cl, rc, NULL);
        return;
    }
    co_init(&o);
    co_ok(&o);
    co_array(&o, pr.n);
    for (size_t i = 0; i < pr.n; i++) {
        co_map(&o, 3);
        co_kstr(&o, "address", pr.rows[i].address);
        co_str(&o, "member_id");
        if (pr.rows[i].has_member) {
            char mid[AGAH_IDSTR_SIZE];
            agah_id_encode(AGAH_IDPFX_MEMBER, pr.rows[i].member, mid);
            co_str(&o, mid);
        } else {
            co_nil(&o);
        }
        co_str(&o, "connected");
        co_bool(&o, pr.rows[i].connected);
    }
    free(pr.rows);
    control__send(cl, &o);
}

void control__h_peer_add(struct control_client *cl, const struct control_req *r)
{
    struct agah_why why = {{0}};
    struct control_out o;
    int rc;

    if (cl->ctl->net == NULL) {
        control__send_error(cl, AGAH_CTL_EXIT_FAIL, "this agahd runs without a network layer");
        return;
    }
    if ((rc = net_peer_add(cl->ctl->net, r->address, &why)) < 0) {
        control__fail(cl, rc, &why);
        return;
    }
    co_init(&o);
    co_ok(&o);
    co_map(&o, 1);
    co_kstr(&o, "address", r->address);
    control__send(cl, &o);
}

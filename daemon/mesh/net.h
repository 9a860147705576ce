/* Layer mesh/: the overlay of links (Plumtree, reconciliation rounds,
 * addresses and dialling, the verify queue that feeds node/); it sits on
 * link/ and wire/ and hands records down to node/. */
/* The network layer of agahd: TCP listener and dialer, the authenticated
 * handshake, encrypted frames, membership of the overlay (HyParView-style
 * active/passive views), Plumtree dissemination and set reconciliation
 * (difference sketches, Negentropy-style ranges as the fallback). It talks to the rest of the daemon only through node.h. */
#ifndef AGAH_NET_H
#define AGAH_NET_H

#include <stddef.h>
#include <uv.h>
#include "node.h"

struct net;

struct net_config {
    const char *listen;       /* "HOST:PORT", or NULL for no listener */
    const char **peers;       /* --peer addresses, dialled and kept */
    size_t n_peers;
};

/* Starts listening and dialling on `loop`. Registers a node listener to
 * push new records. Caller owns *out; net_close starts closing every
 * handle, and `done` runs (once) when all are closed, after which the caller
 * frees with net_free. */
int net_start(uv_loop_t *loop, struct node *node, const struct net_config *cfg,
              struct net **out, struct agah_why *why);
void net_close(struct net *net, void (*done)(void *ctx), void *ctx);
void net_free(struct net *net);

/* `agah peer add`: remember the address and dial it now. */
int net_peer_add(struct net *net, const char *addr, struct agah_why *why);
/* Known and connected peers, for `agah peers`. member is NULL when not connected. */
int net_peers_foreach(struct net *net,
                      void (*cb)(void *ctx, const char *addr, const uint8_t *member, int connected),
                      void *ctx);
size_t net_connected(const struct net *net);

#endif

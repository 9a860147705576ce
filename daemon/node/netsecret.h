/* Layer node/: the community's state (ingest, ids, the alert index,
 * membership, epochs, the store, quotas, network secrets). No libuv and no
 * sockets: mesh/ and control/ call it; it includes neither. */
/* The community's network secrets: which ones this node dials with and
 * which it accepts in a handshake's M1 (proto/PROTOCOL.md, "Network
 * secrets"). Each EPOCH names the secret it carries (net_id: the epoch
 * that minted it); an organiser mints a new one whenever a revoked key may
 * hold the current one, so a revoked member or relay is shut out of the
 * handshake once the grace period of the old secret has passed. Pure
 * logic over the membership; how a secret is opened is the caller's. */
#ifndef AGAH_NETSECRET_H
#define AGAH_NETSECRET_H

#include <stddef.h>
#include <stdint.h>
#include "membership.h"

/* An earlier secret is still accepted this long after the newest epoch
 * carrying it was created, so a node that was offline through a rekey can
 * still link and learn the new one. Longer than that, it needs a new join
 * code. */
#define NETSECRET_GRACE_S (30ull * 86400)
/* Secrets tried against one M1 at most (each costs one HMAC). */
#define NETSECRET_MAX 8
/* Epochs within the grace looked at, newest first, at most. */
#define NETSECRET_SCAN 64
/* Opened secrets remembered by net_id. */
#define NETSECRET_CACHE 16

struct netsecret_set {
    size_t n;                  /* s[0] is the one to dial with */
    uint8_t s[NETSECRET_MAX][32];
    int have_post;             /* s holds the posting epoch's secret: */
    size_t post_i;             /* s[post_i], */
    uint8_t post_net_id[32];   /* minted by this epoch */
    int fallback_known;        /* the fallback is a secret some epoch carries */
};

struct netsecret_cache; /* guarded memory; netsecret_cache_new/free */
int netsecret_cache_new(struct netsecret_cache **out);
void netsecret_cache_free(struct netsecret_cache *c);

/* Opens the network secret of epoch i of the membership into out (a
 * member: from the epoch key it holds; a relay: from its relay box):
 * 0, or a negative AGAH_E* when this node cannot. */
typedef int (*netsecret_open_fn)(void *ctx, size_t i, uint8_t out[32]);

/* The secrets to dial with and accept at `now`: the posting epoch's first
 * (or, if this node cannot open it, the newest it can), then one for each
 * other secret carried by a valid epoch created within the grace period,
 * newest first. `fallback` is the community file's secret. If no valid
 * epoch this node knows carries it, it is newer than all of them (a
 * newcomer whose records have not arrived, a relay not sealed to yet, a
 * node that rejoined after the grace) and comes first; if one does and it
 * is past its grace, it is neither dialled nor accepted. */
/* Every handshake asks, outsiders' included, so the answer is kept and
 * given again while the membership (m->gen), the keys this node holds
 * (`keys`: any count that grows when one is added) and the second stay
 * the same. */
void netsecret_collect(const struct memb *m, uint64_t now, struct netsecret_cache *c,
                       netsecret_open_fn open, void *ctx, uint64_t keys,
                       const uint8_t fallback[32], struct netsecret_set *out);

#endif

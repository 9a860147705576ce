/* The mesh's queues on one link: bodies to push (GRAFT, WANT, SWANT
 * answered as the link has room), ids to ask for (reconciliation's finds,
 * NET_ASK_WINDOW at a time), and the bodies asked and still owed, which
 * come in free of the link's token bucket. */
#define _POSIX_C_SOURCE 200809L /* what uv.h needs */
#include "mesh_int.h"

/* The askset key of a short id under a salt; ids are BLAKE2b outputs, so
 * none is one of these in practice. */
static void net__short_key(const uint8_t salt[SKETCH_SALT_LEN], uint64_t sid,
                           uint8_t key[AGAH_HASH_LEN])
{
    memset(key, 0, AGAH_HASH_LEN);
    memcpy(key, salt, SKETCH_SALT_LEN);
    for (int i = 0; i < 8; i++)
        key[SKETCH_SALT_LEN + i] = (uint8_t)(sid >> (8 * i));
    key[AGAH_HASH_LEN - 1] = 0xa5;
}

/* Remembers a body asked of the peer. A full set only costs the peer its free
 * pass for that body (it is charged), never a request. */
static void net__asked_add(struct mesh_peer *mp, const uint8_t key[AGAH_HASH_LEN])
{
    (void)idmap_put(&mp->askset, key, 0);
}

/* Whether a BODY with this id answers something we asked the peer for;
 * if so it is no longer owed. */
int net__asked_take(struct mesh_peer *mp, const uint8_t id[AGAH_HASH_LEN])
{
    uint8_t key[AGAH_HASH_LEN];

    if (mp->askset.n == 0)
        return 0;
    if (idmap_del(&mp->askset, id))
        return 1;
    net__short_key(mp->ssalt, sketch_short_id(mp->ssalt, id), key);
    return idmap_del(&mp->askset, key);
}

/* Nothing is owed any more: forget the asked set and its memory. */
void net__asked_clear(struct mesh_peer *mp)
{
    mp->asked = 0;
    idmap_free(&mp->askset);
}

/* Sends a batch of ids (IHAVE, GRAFT, WANT, OFFER) and empties it; what
 * WANT and GRAFT ask for is remembered as owed. */
int net__send_ids(struct mesh_peer *mp, int type, uint8_t (*ids)[AGAH_HASH_LEN], size_t *n)
{
    struct peer *p = &mp->link;
    size_t len;
    int r;

    if (*n == 0)
        return 0;
    if (type == GOSSIP_WANT || type == GOSSIP_GRAFT) {
        mp->asked += *n;
        mp->asked_at = net__now(mesh_net(p));
        for (size_t i = 0; i < *n; i++)
            net__asked_add(mp, ids[i]);
    }
    r = gossip_enc_ids(type, (const uint8_t(*)[AGAH_HASH_LEN])ids, *n, p->links->enc,
                       FRAME_PT_MAX, &len);
    *n = 0;
    return r != 0 ? r : peer__send(p, p->links->enc, len);
}


/* Ids to send as BODY when the link has room. A full queue drops the id
 * and asks for a reconciliation later, which finds it again. */
void net__push(struct mesh_peer *mp, const uint8_t id[AGAH_HASH_LEN])
{
    if (mp->pushq == NULL && (mp->pushq = malloc(NET_PUSHQ_MAX * AGAH_HASH_LEN)) == NULL) {
        mp->recon_again = 1;
        return;
    }
    if (mp->pq_len == NET_PUSHQ_MAX) {
        mp->recon_again = 1;
        return;
    }
    memcpy(mp->pushq[(mp->pq_head + mp->pq_len) % NET_PUSHQ_MAX], id, AGAH_HASH_LEN);
    mp->pq_len++;
}

/* Sends queued bodies while the link keeps up; write callbacks continue. */
void net__drain(struct mesh_peer *mp)
{
    struct peer *p = &mp->link;
    struct net *net = mesh_net(p);
    int sent = 0;

    while (p->state == PEER_UP && mp->pq_len > 0 && sent < NET_DRAIN_BATCH &&
           peer__wq(p) < NET_WQ_LOW) {
        uint8_t *buf = NULL;
        size_t len = 0;
        const uint8_t *id = mp->pushq[mp->pq_head];

        mp->pq_head = (mp->pq_head + 1) % NET_PUSHQ_MAX;
        mp->pq_len--;
        if (node_get(net->links.node, id, &buf, &len) != 0)
            continue; /* pruned meanwhile */
        (void)peer__send_record(p, GOSSIP_BODY, buf, len);
        free(buf);
        sent++;
    }
    if (mp->pq_len == 0 && mp->pushq != NULL) {
        free(mp->pushq); /* 512 KiB, allocated again on the next push */
        mp->pushq = NULL;
        mp->pq_head = 0;
    }
    if (p->state == PEER_UP && mp->pq_len == 0 && mp->wq_len == 0 && mp->swq_len == 0 &&
        mp->recon_again) {
        mp->recon_again = 0;
        net__recon_start(p);
    }
}

/* Asks for queued missing ids while fewer than NET_ASK_WINDOW bodies are
 * outstanding, a WANT of up to GOSSIP_IDS_MAX ids at a time. */
void net__want_pump(struct mesh_peer *mp)
{
    struct peer *p = &mp->link;
    struct net *net = mesh_net(p);

    while (p->state == PEER_UP && mp->wq_len > 0 &&
           mp->asked + mp->n_want < NET_ASK_WINDOW) {
        const uint8_t *id = mp->wantq[mp->wq_head];

        mp->wq_head = (mp->wq_head + 1) % NET_WANTQ_MAX;
        mp->wq_len--;
        if (net__have(net, id))
            continue; /* arrived meanwhile by gossip */
        memcpy(mp->want[mp->n_want++], id, AGAH_HASH_LEN);
        if (mp->n_want == GOSSIP_IDS_MAX)
            (void)net__send_ids(mp, GOSSIP_WANT, mp->want, &mp->n_want);
    }
    if (p->state == PEER_UP)
        (void)net__send_ids(mp, GOSSIP_WANT, mp->want, &mp->n_want);
    while (p->state == PEER_UP && mp->swq_len > 0 && mp->asked < NET_ASK_WINDOW) {
        uint64_t batch[SKETCH_SHORTS_MAX];
        size_t n = 0, len;

        while (n < SKETCH_SHORTS_MAX && mp->swq_len > 0) {
            batch[n++] = mp->swq[mp->swq_head];
            mp->swq_head = (mp->swq_head + 1) % (SKETCH_K * SKETCH_Q_MAX);
            mp->swq_len--;
        }
        if (sketch_enc_swant(mp->ssalt, batch, n, net->links.enc, FRAME_PT_MAX, &len) != 0 ||
            peer__send(p, net->links.enc, len) != 0)
            break;
        mp->asked += n;
        mp->asked_at = net__now(net);
        for (size_t i = 0; i < n; i++) {
            uint8_t key[AGAH_HASH_LEN];

            net__short_key(mp->ssalt, batch[i], key);
            net__asked_add(mp, key);
        }
    }
    /* An empty queue gives its memory back (2 MiB for the id ring): a
     * catch-up is rare, and a node holds a queue per peer. */
    if (mp->wq_len == 0 && mp->wantq != NULL) {
        free(mp->wantq);
        mp->wantq = NULL;
        mp->wq_head = 0;
    }
    if (mp->swq_len == 0 && mp->swq != NULL) {
        free(mp->swq);
        mp->swq = NULL;
        mp->swq_head = 0;
    }
    if (p->state == PEER_UP && mp->pq_len == 0 && mp->wq_len == 0 && mp->swq_len == 0 &&
        mp->recon_again)
        net__drain(mp); /* starts the reconciliation it asked for */
}


/* peerctl: `flood TYPE N K`, a stream of one message type as fast as the
 * link takes it, for bench/msgcost.py. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sodium.h>

#include <agah/agah.h>
#include "frame.h"
#include "gossip.h"
#include "peeraddr.h"
#include "recon.h"
#include "sketch.h"

#include "peerctl.h"

/* The first message of a reconciliation (RECON or SKREQ, by `sketch`) of
 * k random ids created over the last year, into enc. */
struct flood_first {
    uint8_t *enc;
    size_t cap, len;
};

static int flood_keep(void *ctx, const uint8_t *msg, size_t len)
{
    struct flood_first *f = ctx;

    if (f->len != 0 || len > f->cap)
        return -1;
    memcpy(f->enc, msg, len);
    f->len = len;
    return 0;
}

static size_t flood_first_msg(int sketch, long k, uint8_t *enc, size_t cap)
{
    struct flood_first f = {enc, cap, 0};
    struct recon_cb rcb = {NULL, NULL, flood_keep, &f, 0, NULL};
    struct sketch_cb scb = {NULL, NULL, flood_keep, &f};
    struct recon_set *set = NULL;
    uint64_t now = (uint64_t)time(NULL);
    int r, outcome = 0;

    if ((r = recon_set_new(&set)) != 0)
        die("recon_set_new", r);
    for (long i = 0; i < k; i++) {
        uint8_t id[RECON_ID_LEN];

        randombytes_buf(id, sizeof id);
        if ((r = recon_set_add(set, now - randombytes_uniform(365u * 86400u), id)) != 0)
            die("recon_set_add", r);
    }
    r = sketch ? sketch_initiate(set, NULL, &scb, &outcome) : recon_initiate(set, &rcb);
    if (r != 0 || f.len == 0 || (sketch && outcome != SKETCH_SENT_REQ))
        die("cannot make the first reconciliation message", r ? r : AGAH_EINTERNAL);
    recon_set_free(set);
    return f.len;
}

/* One message of `type` for flood into enc (fresh random ids or short ids
 * each time; `first` holds the reconciliation message made once). */
static size_t flood_msg(const char *type, long k, const uint8_t *first, size_t first_len,
                        uint8_t *enc, size_t cap)
{
    static const struct {
        const char *name;
        int type;
    } ids[] = {{"ihave", GOSSIP_IHAVE}, {"want", GOSSIP_WANT}, {"graft", GOSSIP_GRAFT},
               {"offer", GOSSIP_OFFER}};
    uint8_t idv[GOSSIP_IDS_MAX][AGAH_HASH_LEN];
    size_t len = 0;
    int r = AGAH_EINVAL;

    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
        if (strcmp(type, ids[i].name) == 0) {
            size_t n = k > GOSSIP_IDS_MAX ? GOSSIP_IDS_MAX : (size_t)k;

            randombytes_buf(idv, n * AGAH_HASH_LEN);
            if ((r = gossip_enc_ids(ids[i].type, (const uint8_t(*)[AGAH_HASH_LEN])idv, n, enc,
                                    cap, &len)) != 0)
                die("cannot encode ids", r);
            return len;
        }
    if (strcmp(type, "ping") == 0)
        r = gossip_enc_simple(GOSSIP_PING, enc, cap, &len);
    if (strcmp(type, "peers") == 0) {
        /* Signed by a key no one admitted, for a community of zeros: what
         * an attacker can send, refused after one signature check each. */
        static struct peeraddr e[GOSSIP_PEERS_MAX];
        struct agah_identity *id = NULL;
        uint8_t community[AGAH_HASH_LEN] = {0};
        size_t n = k > GOSSIP_PEERS_MAX ? GOSSIP_PEERS_MAX : (size_t)k;

        if ((r = agah_identity_generate(&id)) != 0)
            die("cannot make a key", r);
        for (size_t i = 0; i < n && r == 0; i++) {
            char addr[AGAH_ADDR_MAX];
            (void)snprintf(addr, sizeof addr, "10.9.%zu.%zu:7433", i / 250, i % 250 + 1);
            r = peeraddr_sign(id, community, addr, (uint64_t)time(NULL) + 3600, &e[i]);
        }
        agah_identity_free(id);
        if (r == 0)
            r = gossip_enc_peers(e, n, enc, cap, &len);
    }
    if (strcmp(type, "swant") == 0) {
        uint64_t sids[SKETCH_SHORTS_MAX];
        uint8_t salt[SKETCH_SALT_LEN];
        size_t n = k > SKETCH_SHORTS_MAX ? SKETCH_SHORTS_MAX : (size_t)k;

        randombytes_buf(salt, sizeof salt);
        randombytes_buf(sids, n * sizeof sids[0]);
        r = sketch_enc_swant(salt, sids, n, enc, cap, &len);
    }
    if ((strcmp(type, "recon") == 0 || strcmp(type, "skreq") == 0) && first_len <= cap) {
        memcpy(enc, first, first_len);
        len = first_len;
        r = 0;
    }
    if (r != 0)
        die(type, r);
    return len;
}

/* `flood TYPE N K`: N messages of TYPE, written in batches. */
void act_flood(struct link *l, const char *type, long total, long k)
{
    uint8_t *batch = malloc(FRAME_WIRE_MAX + (256u << 10)), *enc = malloc(FRAME_PT_MAX);
    uint8_t *first = malloc(FRAME_PT_MAX);
    size_t blen = 0, first_len = 0;

    if (batch == NULL || enc == NULL || first == NULL)
        die("out of memory", AGAH_ENOMEM);
    if (strcmp(type, "recon") == 0 || strcmp(type, "skreq") == 0)
        first_len = flood_first_msg(strcmp(type, "skreq") == 0, k, first, FRAME_PT_MAX);
    for (long i = 0; i < total && !l->closed; i++) {
        size_t len = flood_msg(type, k, first, first_len, enc, FRAME_PT_MAX);

        batch_frame(l, batch, &blen, enc, len);
    }
    link_write_all(l, batch, blen);
    free(batch);
    free(enc);
    free(first);
}

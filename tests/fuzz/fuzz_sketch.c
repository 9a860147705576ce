/* libFuzzer target for the sketch messages (SKREQ, SKETCH, SWANT): the
 * input is decoded as a peer message and handled against a fixed set of
 * 600 items, as agahd would. Whatever the cells hold, every message sent
 * must be a valid SKETCH or RECON that gossip_decode accepts, a decoded
 * table may only report short ids we lack and ids we have, and SWANT may
 * only give ids of ours whose short id was asked for. The seeds
 * (corpus/fuzz_sketch) are a request and a table made from the same sets
 * with salt 00..0f, so the fuzzer starts from tables that decode. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <agah/mp.h>
#include "gossip.h"
#include "recon.h"
#include "sketch.h"

static struct recon_set *ours;
static uint8_t (*our_ids)[32];
static size_t n_ours;
static const uint8_t *cur_salt;
static const uint8_t *cur_sids;
static size_t cur_n;

static int mine(const uint8_t id[32])
{
    for (size_t i = 0; i < n_ours; i++)
        if (memcmp(our_ids[i], id, 32) == 0)
            return 1;
    return 0;
}

static void on_need_short(void *ctx, const uint8_t salt[SKETCH_SALT_LEN], uint64_t sid)
{
    (void)ctx;
    /* The decoder checked it against our set: none of ours has it. */
    for (size_t i = 0; i < n_ours; i++)
        if (sketch_short_id(salt, our_ids[i]) == sid)
            abort();
}

static void on_have(void *ctx, const uint8_t id[32])
{
    (void)ctx;
    if (!mine(id))
        abort();
}

static void on_give(void *ctx, const uint8_t id[32])
{
    uint64_t sid = sketch_short_id(cur_salt, id);
    int asked = 0;

    (void)ctx;
    if (!mine(id))
        abort();
    for (size_t i = 0; i < cur_n; i++) {
        uint64_t v = 0;
        for (int b = 7; b >= 0; b--)
            v = (v << 8) | cur_sids[8 * i + (size_t)b];
        asked |= v == sid;
    }
    if (!asked)
        abort();
}

static int on_send(void *ctx, const uint8_t *m, size_t len)
{
    msgpack_unpacked u;
    struct gossip_msg g;
    struct agah_why why;
    int r;

    (void)ctx;
    msgpack_unpacked_init(&u);
    r = gossip_decode(m, len, &u, &g, &why);
    /* A table answers a request; a request follows a table that failed
     * when asking again is allowed; RECON starts ranges. */
    if (r != 0 ||
        (g.type != GOSSIP_SKETCH && g.type != GOSSIP_SKREQ && g.type != GOSSIP_RECON) ||
        len > 131056)
        abort(); /* we produced something a peer would refuse */
    msgpack_unpacked_destroy(&u);
    return 0;
}

static void setup(void)
{
    if (sodium_init() < 0 || recon_set_new(&ours) != 0 ||
        (our_ids = malloc(600 * sizeof *our_ids)) == NULL)
        abort();
    for (uint32_t i = 0; i < 600; i++) {
        crypto_generichash(our_ids[n_ours], 32, (const uint8_t *)&i, sizeof i, NULL, 0);
        if (recon_set_add(ours, 1000 + i % 40, our_ids[n_ours]) != 0)
            abort();
        n_ours++;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    msgpack_unpacked u;
    struct gossip_msg m;
    struct agah_why why;
    struct sketch_cb cb = {on_need_short, on_have, on_send, NULL};

    if (ours == NULL)
        setup();
    msgpack_unpacked_init(&u);
    if (gossip_decode(data, size, &u, &m, &why) == 0) {
        switch (m.type) {
        case GOSSIP_SKREQ:
            (void)sketch_on_request(ours, m.salt, m.count, m.blob, &cb, NULL);
            break;
        case GOSSIP_SKETCH:
            (void)sketch_on_iblt(ours, m.salt, m.count, m.blob, m.blob_len, (int)(m.count & 1), &cb,
                                 NULL);
            break;
        case GOSSIP_SWANT:
            cur_salt = m.salt;
            cur_sids = m.blob;
            cur_n = m.blob_len / 8;
            (void)sketch_on_swant(ours, m.salt, m.blob, m.blob_len / 8, on_give, NULL);
            break;
        default:
            break;
        }
    }
    msgpack_unpacked_destroy(&u);
    return 0;
}

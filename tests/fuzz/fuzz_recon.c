/* libFuzzer target for RECON messages: the input is decoded as a peer
 * message and, when it is a RECON, answered against a fixed set of 600
 * items (many sharing a timestamp, so prefix bounds occur). Every reply
 * the answer produces must itself be a valid RECON message that another
 * set can process, and ids reported as ours to offer must be ours. (An id
 * reported missing may still be ours: a peer can list it in a range where
 * it does not belong; net.c looks every one up before asking.) */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <agah/mp.h>
#include "gossip.h"
#include "recon.h"

static struct recon_set *ours, *theirs;
static uint8_t our_ids[600][RECON_ID_LEN];

static int mine(const uint8_t id[RECON_ID_LEN])
{
    for (size_t i = 0; i < 600; i++)
        if (memcmp(our_ids[i], id, RECON_ID_LEN) == 0)
            return 1;
    return 0;
}

static void on_id(void *ctx, const uint8_t id[RECON_ID_LEN])
{
    (void)ctx;
    (void)id;
}

static void on_have(void *ctx, const uint8_t id[RECON_ID_LEN])
{
    (void)ctx;
    if (!mine(id))
        abort();
}

/* Replies are processed by the other set; their replies are dropped. */
static int drop(void *ctx, const uint8_t *m, size_t len)
{
    (void)ctx;
    (void)m;
    (void)len;
    return 0;
}

static int answer(void *ctx, const uint8_t *m, size_t len)
{
    msgpack_unpacked u;
    struct agah_why why;
    struct recon_cb cb = {on_id, on_id, drop, NULL, 0, NULL};
    int r;

    (void)ctx;
    msgpack_unpacked_init(&u);
    r = agah_mp_unpack(m, len, 1, &u, &why);
    if (r == 0)
        r = recon_process(theirs, &u.data, &cb, NULL, &why);
    msgpack_unpacked_destroy(&u);
    if (r != 0 || len > RECON_MSG_BUDGET + 4096)
        abort(); /* we produced something a peer would refuse */
    return 0;
}

static void setup(void)
{
    uint8_t id[32];

    if (sodium_init() < 0 || recon_set_new(&ours) != 0 || recon_set_new(&theirs) != 0)
        abort();
    for (uint32_t i = 0; i < 600; i++) {
        crypto_generichash(id, 32, (const uint8_t *)&i, sizeof i, NULL, 0);
        memcpy(our_ids[i], id, sizeof id);
        if (recon_set_add(ours, 1000 + i % 40, id) != 0)
            abort();
        if (i % 7 != 0 && recon_set_add(theirs, 1000 + i % 40, id) != 0)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    msgpack_unpacked u;
    struct gossip_msg m;
    struct agah_why why;
    struct recon_cb cb = {on_id, on_have, answer, NULL, 0, NULL};

    if (ours == NULL)
        setup();
    msgpack_unpacked_init(&u);
    if (gossip_decode(data, size, &u, &m, &why) == 0 && m.type == GOSSIP_RECON)
        (void)recon_process(ours, m.obj, &cb, NULL, &why);
    msgpack_unpacked_destroy(&u);
    return 0;
}

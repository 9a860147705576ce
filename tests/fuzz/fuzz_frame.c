/* libFuzzer target for what a peer sends after the handshake: the frame
 * layer and the message decoder behind it. The first byte picks the path:
 * 0 feeds the rest to frame_open as a wire frame (only the bounds and the
 * AEAD see it); anything else seals the rest as a plaintext with one key,
 * opens it with its pair (which must give the same bytes back) and decodes
 * it. Whatever decodes must re-encode to exactly the bytes received, since
 * the encoding is canonical. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "frame.h"
#include "gossip.h"
#include "peeraddr.h"

static uint8_t *wire, *back, *enc;

static void reencode(const uint8_t *pt, size_t len, const struct gossip_msg *m)
{
    uint8_t ids[GOSSIP_IDS_MAX][AGAH_HASH_LEN];
    struct peeraddr entries[GOSSIP_PEERS_MAX];
    size_t n = 0;
    int r;

    switch (m->type) {
    case GOSSIP_RECORD:
    case GOSSIP_BODY:
        r = gossip_enc_record(m->type, m->rec, m->rec_len, enc, FRAME_PT_MAX, &n);
        break;
    case GOSSIP_IHAVE:
    case GOSSIP_GRAFT:
    case GOSSIP_WANT:
    case GOSSIP_OFFER:
        for (size_t i = 0; i < m->n_ids; i++)
            memcpy(ids[i], gossip_id(m, i), AGAH_HASH_LEN);
        r = gossip_enc_ids(m->type, (const uint8_t(*)[AGAH_HASH_LEN])ids, m->n_ids, enc,
                           FRAME_PT_MAX, &n);
        break;
    case GOSSIP_PEERS:
        /* The decoder checked every entry with peeraddr_parse; it must
         * parse again the same and re-encode to the same bytes. */
        for (size_t i = 0; i < m->n_entries; i++)
            if (peeraddr_parse(&m->entries[i], &entries[i], NULL) != 0)
                abort();
        r = gossip_enc_peers(entries, m->n_entries, enc, FRAME_PT_MAX, &n);
        break;
    case GOSSIP_RECON:
        return; /* fuzz_recon's business */
    case GOSSIP_SKREQ:
    case GOSSIP_SKETCH:
    case GOSSIP_SWANT:
        return; /* fuzz_sketch's business */
    default:
        r = gossip_enc_simple(m->type, enc, FRAME_PT_MAX, &n);
        break;
    }
    if (r != 0 || n != len || memcmp(enc, pt, len) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t k1[32] = {1}, k2[32] = {2};
    struct frame_keys *a, *b;
    size_t n = 0;

    if (wire == NULL) {
        wire = malloc(FRAME_WIRE_MAX);
        back = malloc(FRAME_PT_MAX);
        enc = malloc(FRAME_PT_MAX);
        if (wire == NULL || back == NULL || enc == NULL)
            abort();
    }
    if (size < 1 || size - 1 > FRAME_PT_MAX)
        return 0;
    a = frame_keys_new(k1, k2);
    b = frame_keys_new(k2, k1);
    if (a == NULL || b == NULL)
        abort();
    if (data[0] == 0) {
        if (frame_open(b, data + 1, size - 1, back, &n) == 0)
            abort(); /* nobody can forge a frame under k1 */
    } else if (size > 1) {
        msgpack_unpacked u;
        struct gossip_msg m;
        struct agah_why why;

        if (frame_seal(a, data + 1, size - 1, wire) != 0 ||
            frame_open(b, wire, FRAME_HDR + size - 1 + FRAME_TAG, back, &n) != 0 ||
            n != size - 1 || memcmp(back, data + 1, n) != 0)
            abort();
        msgpack_unpacked_init(&u);
        if (gossip_decode(back, n, &u, &m, &why) == 0)
            reencode(back, n, &m);
        msgpack_unpacked_destroy(&u);
    }
    frame_keys_free(a);
    frame_keys_free(b);
    return 0;
}

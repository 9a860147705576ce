/* Unit test of the frame layer (daemon/wire/frame.c) and the peer message codec
 * (daemon/wire/gossip.c): round trips, counters, replay and reordering, every
 * single-bit alteration, length bounds, and the decoder's refusal of every
 * malformed message shape, including msgpack's allocation bombs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "frame.h"
#include "gossip.h"
#include "peeraddr.h"

#include "check.h"

static uint8_t k1[32], k2[32];

static void pair(struct frame_keys **a, struct frame_keys **b)
{
    *a = frame_keys_new(k1, k2);
    *b = frame_keys_new(k2, k1);
}

static void test_round_trip(void)
{
    struct frame_keys *a, *b;
    uint8_t pt[1000], out[FRAME_HDR + 1000 + FRAME_TAG], back[1000];
    size_t n = 0, ct = 0;
    int bad = 0;

    pair(&a, &b);
    CHECKF(a != NULL && b != NULL, "keys");
    for (unsigned i = 0; i < 200; i++) {
        size_t len = 1 + (i * 7) % sizeof pt;

        randombytes_buf(pt, len);
        if (frame_seal(a, pt, len, out) != 0 || frame_peek(out, &ct) != 0 ||
            ct != len + FRAME_TAG || frame_open(b, out, FRAME_HDR + ct, back, &n) != 0 ||
            n != len || memcmp(pt, back, len) != 0)
            bad++;
    }
    CHECKF(bad == 0, "%d of 200 frames did not round-trip", bad);
    CHECKF(frame_keys_sent(a) == 200 && frame_keys_received(b) == 200,
          "counters %llu %llu", (unsigned long long)frame_keys_sent(a),
          (unsigned long long)frame_keys_received(b));
    /* The other direction has its own key and counter. */
    CHECKF(frame_seal(b, pt, 10, out) == 0, "seal b->a");
    CHECKF(frame_open(a, out, FRAME_HDR + 10 + FRAME_TAG, back, &n) == 0 && n == 10, "open b->a");
    /* A frame cannot be opened by its own sender (reflection). */
    CHECKF(frame_seal(a, pt, 10, out) == 0, "seal");
    CHECKF(frame_open(a, out, FRAME_HDR + 10 + FRAME_TAG, back, &n) == AGAH_ECRYPTO,
          "reflected frame opened");
    frame_keys_free(a);
    frame_keys_free(b);
}

static void test_replay_reorder(void)
{
    struct frame_keys *a, *b;
    uint8_t pt[16] = "hello, frames!!", f1[FRAME_HDR + 16 + FRAME_TAG],
            f2[FRAME_HDR + 16 + FRAME_TAG], back[16];
    size_t n;

    pair(&a, &b);
    CHECKF(frame_seal(a, pt, 16, f1) == 0 && frame_seal(a, pt, 16, f2) == 0, "seal two");
    CHECKF(memcmp(f1 + FRAME_HDR, f2 + FRAME_HDR, 16 + FRAME_TAG) != 0,
          "the same plaintext twice gave the same ciphertext: nonce reused");
    CHECKF(frame_open(b, f2, sizeof f2, back, &n) == AGAH_ECRYPTO, "second frame opened first");
    CHECKF(frame_keys_received(b) == 0, "failed open advanced the counter");
    CHECKF(frame_open(b, f1, sizeof f1, back, &n) == 0, "first frame");
    CHECKF(frame_open(b, f1, sizeof f1, back, &n) == AGAH_ECRYPTO, "replayed frame opened");
    CHECKF(frame_open(b, f2, sizeof f2, back, &n) == 0, "second frame in order");
    frame_keys_free(a);
    frame_keys_free(b);
}

static void test_tamper(void)
{
    struct frame_keys *a, *b;
    uint8_t pt[40], f[FRAME_HDR + 40 + FRAME_TAG], g[sizeof f], back[40];
    size_t n;
    int opened = 0;

    pair(&a, &b);
    randombytes_buf(pt, sizeof pt);
    CHECKF(frame_seal(a, pt, sizeof pt, f) == 0, "seal");
    for (size_t bit = 0; bit < 8 * sizeof f; bit++) {
        memcpy(g, f, sizeof f);
        g[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        /* A changed length is caught by the length check or the AEAD
         * (the length is associated data). */
        if (frame_open(b, g, sizeof g, back, &n) == 0)
            opened++;
    }
    CHECKF(opened == 0, "%d altered frames opened", opened);
    CHECKF(frame_open(b, f, sizeof f, back, &n) == 0 && memcmp(back, pt, 40) == 0,
          "the original still opens after the failures");
    /* Wrong key. */
    {
        struct frame_keys *c = frame_keys_new(k1, k1);
        CHECKF(frame_seal(a, pt, sizeof pt, f) == 0, "seal");
        CHECKF(frame_open(c, f, sizeof f, back, &n) == AGAH_ECRYPTO, "wrong key opened");
        frame_keys_free(c);
    }
    frame_keys_free(a);
    frame_keys_free(b);
}

static void test_bounds(void)
{
    struct frame_keys *a, *b;
    uint8_t hdr[4];
    size_t ct = 0, n = 0;
    uint8_t *pt = malloc(FRAME_PT_MAX + 1), *f = malloc(FRAME_WIRE_MAX + 1),
            *back = malloc(FRAME_PT_MAX);

    pair(&a, &b);
    hdr[0] = 0; hdr[1] = 2; hdr[2] = 0; hdr[3] = 1; /* 128 KiB + 1 */
    CHECKF(frame_peek(hdr, &ct) == AGAH_ETOOBIG, "oversize length accepted");
    hdr[0] = 0xff; hdr[1] = 0xff; hdr[2] = 0xff; hdr[3] = 0xff;
    CHECKF(frame_peek(hdr, &ct) == AGAH_ETOOBIG, "4 GiB length accepted");
    hdr[0] = 0; hdr[1] = 0; hdr[2] = 0; hdr[3] = FRAME_TAG;
    CHECKF(frame_peek(hdr, &ct) == AGAH_ETRUNC, "empty plaintext accepted");
    hdr[0] = 0; hdr[1] = 2; hdr[2] = 0; hdr[3] = 0;
    CHECKF(frame_peek(hdr, &ct) == 0 && ct == FRAME_CT_MAX, "largest frame refused");
    CHECKF(frame_seal(a, pt, 0, f) == AGAH_ETOOBIG, "empty plaintext sealed");
    CHECKF(frame_seal(a, pt, FRAME_PT_MAX + 1, f) == AGAH_ETOOBIG, "oversize plaintext sealed");
    randombytes_buf(pt, FRAME_PT_MAX);
    CHECKF(frame_seal(a, pt, FRAME_PT_MAX, f) == 0, "largest plaintext");
    CHECKF(frame_open(b, f, FRAME_WIRE_MAX, back, &n) == 0 && n == FRAME_PT_MAX &&
          memcmp(back, pt, n) == 0, "largest frame round trip");
    CHECKF(frame_open(b, f, FRAME_WIRE_MAX - 1, back, &n) == AGAH_ETRUNC, "short frame");
    frame_keys_free(a);
    frame_keys_free(b);
    free(pt);
    free(f);
    free(back);
}

/* --- messages --- */

static int decode(const uint8_t *buf, size_t len, struct gossip_msg *m)
{
    msgpack_unpacked u;
    struct agah_why why;
    int r;

    msgpack_unpacked_init(&u);
    r = gossip_decode(buf, len, &u, m, &why);
    msgpack_unpacked_destroy(&u);
    return r;
}

static void test_messages(void)
{
    uint8_t buf[70000], rec[300], ids[GOSSIP_IDS_MAX + 1][32];
    size_t len;
    struct gossip_msg m;
    msgpack_unpacked u;
    struct agah_why why;
    static const int simple[] = {GOSSIP_PRUNE, GOSSIP_PING, GOSSIP_PONG};
    static const int idtypes[] = {GOSSIP_IHAVE, GOSSIP_GRAFT, GOSSIP_WANT};
    const char *addrs[2] = {"127.0.0.1:7433", "[::1]:9"};
    struct peeraddr pe[GOSSIP_PEERS_MAX + 1], back;

    randombytes_buf(rec, sizeof rec);
    randombytes_buf(ids, sizeof ids);
    for (size_t i = 0; i < 3; i++) {
        CHECKF(gossip_enc_simple(simple[i], buf, sizeof buf, &len) == 0 && len == 2, "enc");
        CHECKF(decode(buf, len, &m) == 0 && m.type == simple[i], "simple %d", simple[i]);
    }
    CHECKF(gossip_enc_record(GOSSIP_RECORD, rec, sizeof rec, buf, sizeof buf, &len) == 0, "enc");
    msgpack_unpacked_init(&u);
    CHECKF(gossip_decode(buf, len, &u, &m, &why) == 0 && m.type == GOSSIP_RECORD &&
          m.rec_len == sizeof rec && memcmp(m.rec, rec, sizeof rec) == 0, "record");
    msgpack_unpacked_destroy(&u);
    CHECKF(gossip_enc_record(GOSSIP_BODY, rec, sizeof rec, buf, sizeof buf, &len) == 0 &&
          decode(buf, len, &m) == 0 && m.type == GOSSIP_BODY, "body");
    for (size_t i = 0; i < 3; i++) {
        CHECKF(gossip_enc_ids(idtypes[i], (const uint8_t(*)[32])ids, GOSSIP_IDS_MAX, buf,
                             sizeof buf, &len) == 0, "enc ids");
        msgpack_unpacked_init(&u);
        CHECKF(gossip_decode(buf, len, &u, &m, &why) == 0 && m.type == idtypes[i] &&
              m.n_ids == GOSSIP_IDS_MAX && memcmp(gossip_id(&m, 255), ids[255], 32) == 0,
              "ids %d", idtypes[i]);
        msgpack_unpacked_destroy(&u);
    }
    CHECKF(gossip_enc_ids(GOSSIP_IHAVE, (const uint8_t(*)[32])ids, GOSSIP_IDS_MAX + 1, buf,
                         sizeof buf, &len) == AGAH_EINVAL, "257 ids encoded");
    memset(pe, 0, sizeof pe);
    for (size_t i = 0; i < 2; i++) {
        (void)snprintf(pe[i].addr, sizeof pe[i].addr, "%s", addrs[i]);
        pe[i].expires = 1000 + i;
    }
    CHECKF(gossip_enc_peers(pe, 2, buf, sizeof buf, &len) == 0, "enc peers");
    msgpack_unpacked_init(&u);
    CHECKF(gossip_decode(buf, len, &u, &m, &why) == 0 && m.type == GOSSIP_PEERS &&
          m.n_entries == 2 && peeraddr_parse(&m.entries[1], &back, NULL) == 0 &&
          strcmp(back.addr, "[::1]:9") == 0 && back.expires == 1001, "peers: %s", why.msg);
    msgpack_unpacked_destroy(&u);
    CHECKF(gossip_enc_peers(pe, 0, buf, sizeof buf, &len) == 0 &&
          decode(buf, len, &m) == 0 && m.n_entries == 0, "empty peers");
    CHECKF(gossip_enc_peers(pe, GOSSIP_PEERS_MAX + 1, buf, sizeof buf, &len) == AGAH_EINVAL,
           "33 entries encoded");
    CHECKF(gossip_enc_simple(GOSSIP_PING, buf, 1, &len) == AGAH_ETOOBIG, "tiny buffer");
}

struct bad { const char *what; const char *hex; };

static size_t unhex(const char *h, uint8_t *out)
{
    size_t n = 0;

    for (; h[0] && h[1]; h += 2) {
        unsigned v;
        if (sscanf(h, "%2x", &v) != 1)
            break;
        out[n++] = (uint8_t)v;
    }
    return n;
}

static void test_malformed(void)
{
    /* Hex of whole messages, each wrong in one way. */
    static const struct bad bad[] = {
        {"empty input", ""},
        {"array32 of 4 billion", "ddffffffff"},
        {"array32 of a million", "dd00100000"},
        {"map instead of array", "81 07 c0"},
        {"empty array", "90"},
        {"unknown type 0", "9100"},
        {"unknown type 11", "910b"},
        {"type as negative int", "91ff"},
        {"type as str", "91a107"},
        {"PING with a field", "9207c0"},
        {"PRUNE as 16-bit int", "91cd0004"},
        {"non-canonical array16", "dc000107"},
        {"trailing byte", "910700"},
        {"RECORD of str", "9201a3616263"},
        {"RECORD empty bin", "9201c400"},
        {"RECORD bin runs past end", "9201c4ff00"},
        {"RECORD without body", "9101"},
        {"IHAVE empty list", "920290"},
        {"IHAVE id of 31 bytes", "920291c41f00000000000000000000000000000000000000000000000000000000000000"},
        {"IHAVE id as str", "920291a0"},
        {"PEERS self not str", "93060190"},
        {"PEERS bad self", "9306a3616263 90"},
        {"PEERS addr without port", "9306c091a9312e322e332e343a"},
        {"PEERS addr port 0", "9306c091a9312e322e332e343a30"},
        {"PEERS addr port 70000", "9306c091ad312e322e332e343a3730303030"},
        {"PEERS list not array", "9306c0c0"},
        {"float type", "91ca40e00000"},
        {"nested too deep", "929192919191919191919191919107"},
    };
    uint8_t buf[256], clean[256];
    struct gossip_msg m;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t n = 0, k = 0;
        const char *h = bad[i].hex;
        /* Strip spaces used for readability. */
        char compact[600];
        for (; *h; h++)
            if (*h != ' ')
                compact[k++] = *h;
        compact[k] = '\0';
        n = unhex(compact, buf);
        memcpy(clean, buf, n);
        CHECKF(decode(n ? clean : NULL, n, &m) != 0, "accepted: %s", bad[i].what);
    }
    {
        /* 257 ids. */
        uint8_t big[12000];
        size_t n = 0;
        big[n++] = 0x92; big[n++] = 0x02; big[n++] = 0xdc; big[n++] = 0x01; big[n++] = 0x01;
        for (int i = 0; i < 257; i++) {
            big[n++] = 0xc4; big[n++] = 0x20;
            memset(big + n, i, 32);
            n += 32;
        }
        CHECKF(decode(big, n, &m) == AGAH_ETOOBIG, "257 ids accepted");
    }
}

static void test_missing(void)
{
    struct gossip_missing *g;
    uint8_t id[32], got[32];
    uint64_t peer;
    int n;

    CHECKF(gossip_missing_new(&g) == 0, "new");
    memset(id, 7, 32);
    CHECKF(gossip_missing_add(g, id, 1, 100) == 0, "add");
    CHECKF(gossip_missing_add(g, id, 2, 150) == 0, "second announcer");
    CHECKF(gossip_missing_add(g, id, 2, 150) == 0 && gossip_missing_count(g) == 1, "same twice");
    CHECKF(gossip_missing_next(g, 50) == 50, "next %lld", (long long)gossip_missing_next(g, 50));
    CHECKF(gossip_missing_due(g, 99, 1000, got, &peer) == 0, "due early");
    CHECKF(gossip_missing_due(g, 100, 1000, got, &peer) == 1 && peer == 1 &&
          memcmp(got, id, 32) == 0, "first announcer asked first");
    CHECKF(gossip_missing_due(g, 999, 2000, got, &peer) == 0, "retry early");
    CHECKF(gossip_missing_due(g, 1000, 2000, got, &peer) == 1 && peer == 2, "then the second");
    CHECKF(gossip_missing_due(g, 2000, 3000, got, &peer) == 0 && gossip_missing_count(g) == 0,
          "given up after every announcer");
    /* Empty: the tables go, once, and come back with the next id. */
    CHECKF(gossip_missing_release(g) == 1 && gossip_missing_release(g) == 0 &&
              gossip_missing_next(g, 0) == -1 && gossip_missing_del(g, id) == 0 &&
              gossip_missing_due(g, 9000, 9000, got, &peer) == 0,
          "released when empty");
    /* Received before due: nothing happens. */
    CHECKF(gossip_missing_add(g, id, 1, 100) == 0 && gossip_missing_del(g, id) == 1, "del");
    CHECKF(gossip_missing_release(g) == 0, "released with a deadline still queued");
    CHECKF(gossip_missing_due(g, 5000, 6000, got, &peer) == 0, "deleted entry came due");
    CHECKF(gossip_missing_release(g) == 1, "released once the queue drained");
    /* One peer alone fills a quarter of the table at most, whatever ids
     * it announces (here all sharing their first 16 bytes, which an
     * unkeyed table would have piled into one probe run). */
    for (n = 0; n < GOSSIP_MISSING_MAX; n++) {
        uint8_t k[32];
        memset(k, 0x5a, 16);
        crypto_generichash(k + 16, 16, (const uint8_t *)&n, sizeof n, NULL, 0);
        if (gossip_missing_add(g, k, 9, 10000) != 0)
            break;
    }
    CHECKF(n == GOSSIP_MISSING_PEER_MAX, "one peer filled %d", n);
    CHECKF(gossip_missing_add(g, id, 8, 10000) == 0 && gossip_missing_del(g, id) == 1,
           "another peer still announces");
    for (n = 0; n < GOSSIP_MISSING_PEER_MAX; n++) {
        uint8_t k[32];
        memset(k, 0x5a, 16);
        crypto_generichash(k + 16, 16, (const uint8_t *)&n, sizeof n, NULL, 0);
        if (gossip_missing_del(g, k) != 1)
            break;
    }
    CHECKF(n == GOSSIP_MISSING_PEER_MAX && gossip_missing_count(g) == 0,
           "clustered ids all found again: %d", n);
    /* Fill to the bound (four peers), delete half in a scattered order,
     * all still found. */
    for (n = 0; n < GOSSIP_MISSING_MAX; n++) {
        uint8_t k[32];
        crypto_generichash(k, 32, (const uint8_t *)&n, sizeof n, NULL, 0);
        if (gossip_missing_add(g, k, 1 + (uint64_t)(n % 4), 10000) != 0)
            break;
    }
    CHECKF(n == GOSSIP_MISSING_MAX, "filled %d", n);
    CHECKF(gossip_missing_add(g, id, 5, 10000) == AGAH_ETOOBIG, "beyond the bound");
    {
        int gone = 0, kept = 0;
        for (n = 0; n < GOSSIP_MISSING_MAX; n += 2) {
            uint8_t k[32];
            crypto_generichash(k, 32, (const uint8_t *)&n, sizeof n, NULL, 0);
            gone += gossip_missing_del(g, k);
        }
        for (n = 1; n < GOSSIP_MISSING_MAX; n += 2) {
            uint8_t k[32];
            crypto_generichash(k, 32, (const uint8_t *)&n, sizeof n, NULL, 0);
            kept += gossip_missing_del(g, k);
        }
        CHECKF(gone == GOSSIP_MISSING_MAX / 2 && kept == GOSSIP_MISSING_MAX / 2,
              "deleted %d, then found %d", gone, kept);
        CHECKF(gossip_missing_count(g) == 0, "count %zu", gossip_missing_count(g));
    }
    /* Freed with its tables in use (ASan checks nothing leaks). */
    CHECKF(gossip_missing_add(g, id, 1, 10000) == 0, "add after a release");
    gossip_missing_free(g);
}

int main(void)
{
    if (sodium_init() < 0)
        return 2;
    randombytes_buf(k1, sizeof k1);
    randombytes_buf(k2, sizeof k2);
    test_round_trip();
    test_replay_reorder();
    test_tamper();
    test_bounds();
    test_messages();
    test_malformed();
    test_missing();
    printf("test_frame: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}

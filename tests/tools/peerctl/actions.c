/* peerctl: the actions of `connect` that send what an insider would:
 * records and bodies, OFFERs, PEERS, reconciliation messages as small as
 * the protocol allows (issue 24), oversized frame headers and trickles. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sodium.h>

#include <agah/agah.h>
#include <agah/datadir.h>
#include <agah/mp.h>
#include "frame.h"
#include "gossip.h"
#include "peeraddr.h"
#include "sketch.h"

#include "peerctl.h"

/* Sends `total` frames of `type` (RECORD, or BODY as if asked for)
 * cycling through the file's records. The frames are sealed in batches of
 * about 256 KiB so one write moves many. */
void act_send(struct link *l, const char *file, long total, int type)
{
    size_t *lens, n;
    uint8_t **recs = read_records(file, &lens, &n);
    uint8_t *batch = malloc(FRAME_WIRE_MAX + (256u << 10)), *enc = malloc(FRAME_PT_MAX);
    size_t blen = 0;

    if (batch == NULL || enc == NULL)
        die("out of memory", AGAH_ENOMEM);
    if (total < 0)
        total = (long)n;
    for (long i = 0; i < total && n > 0 && !l->closed; i++) {
        size_t k = (size_t)i % n, len;
        int r;

        if ((r = gossip_enc_record(type, recs[k], lens[k], enc, FRAME_PT_MAX, &len)) != 0)
            die("cannot encode a record frame", r);
        batch_frame(l, batch, &blen, enc, len);
    }
    link_write_all(l, batch, blen);
    for (size_t i = 0; i < n; i++)
        free(recs[i]);
    free(recs);
    free(lens);
    free(batch);
    free(enc);
}

/* OFFERs of `n` random ids, which the daemon lacks and so asks for with
 * WANT: before issue 24 every BODY was then free until that many had come,
 * whatever their ids (the rate-limit bypass). */
void act_offer(struct link *l, long n)
{
    uint8_t ids[GOSSIP_IDS_MAX][AGAH_HASH_LEN], enc[FRAME_PT_MAX / 2];
    uint8_t frame[FRAME_PT_MAX / 2 + FRAME_HDR + FRAME_TAG];
    size_t len;
    int r;

    while (n > 0 && !l->closed) {
        size_t k = n > GOSSIP_IDS_MAX ? GOSSIP_IDS_MAX : (size_t)n;

        randombytes_buf(ids, k * AGAH_HASH_LEN);
        if ((r = gossip_enc_ids(GOSSIP_OFFER, (const uint8_t(*)[AGAH_HASH_LEN])ids, k, enc,
                                sizeof enc, &len)) != 0 ||
            (r = frame_seal(l->keys, enc, len, frame)) != 0)
            die("cannot seal an OFFER", r);
        link_write_all(l, frame, FRAME_HDR + len + FRAME_TAG);
        n -= (long)k;
    }
}

/* `n` RECONs of one empty IDLIST over the whole key space: before issue 24
 * each made the daemon OFFER every id it holds. */
void act_recon(struct link *l, long n)
{
    uint8_t buf[64];
    struct agah_mp_fixbuf fb = {buf, 0, sizeof buf};
    msgpack_packer pk;

    msgpack_packer_init(&pk, &fb, agah_mp_fixbuf_write);
    if (msgpack_pack_array(&pk, 3) != 0 || msgpack_pack_uint64(&pk, GOSSIP_RECON) != 0 ||
        msgpack_pack_array(&pk, 2) != 0 || msgpack_pack_uint64(&pk, 0) != 0 ||
        msgpack_pack_bin(&pk, 0) != 0 || msgpack_pack_array(&pk, 1) != 0 ||
        msgpack_pack_array(&pk, 3) != 0 || msgpack_pack_nil(&pk) != 0 ||
        msgpack_pack_uint64(&pk, 2) != 0 || msgpack_pack_array(&pk, 0) != 0)
        die("cannot pack a RECON", AGAH_EINTERNAL);
    for (long i = 0; i < n && !l->closed; i++)
        link_send_pt(l, buf, fb.len);
}

/* `n` SKREQs under fresh salts with an all-zero estimator (an empty set):
 * each makes the daemon build its estimator over its whole set. */
void act_skreq(struct link *l, long n)
{
    static uint8_t buf[SKETCH_STRATA_BYTES + 64], strata[SKETCH_STRATA_BYTES];
    uint8_t salt[SKETCH_SALT_LEN];

    for (long i = 0; i < n && !l->closed; i++) {
        struct agah_mp_fixbuf fb = {buf, 0, sizeof buf};
        msgpack_packer pk;

        randombytes_buf(salt, sizeof salt);
        msgpack_packer_init(&pk, &fb, agah_mp_fixbuf_write);
        if (msgpack_pack_array(&pk, 4) != 0 || msgpack_pack_uint64(&pk, GOSSIP_SKREQ) != 0 ||
            msgpack_pack_bin(&pk, sizeof salt) != 0 ||
            msgpack_pack_bin_body(&pk, salt, sizeof salt) != 0 ||
            msgpack_pack_uint64(&pk, 0) != 0 || msgpack_pack_bin(&pk, sizeof strata) != 0 ||
            msgpack_pack_bin_body(&pk, strata, sizeof strata) != 0)
            die("cannot pack a SKREQ", AGAH_EINTERNAL);
        link_send_pt(l, buf, fb.len);
    }
}

/* `n` SWANTs for FILE's records (their ids are the first word of each
 * line), up to SKETCH_SHORTS_MAX a message, cycling through the file: each
 * makes the daemon pass over its set and send the bodies. */
void act_swant(struct link *l, const char *file, long n)
{
    FILE *f = fopen(file, "r");
    uint8_t (*ids)[AGAH_HASH_LEN] = NULL, salt[SKETCH_SALT_LEN], buf[FRAME_PT_MAX / 2];
    uint64_t sids[SKETCH_SHORTS_MAX];
    size_t n_ids = 0, cap = 0, next = 0, len;
    char line[256];
    int r;

    if (f == NULL)
        die(file, 0);
    while (fgets(line, sizeof line, f) != NULL) {
        size_t bl = 0;

        if (strlen(line) < 2 * AGAH_HASH_LEN || line[2 * AGAH_HASH_LEN] != ' ') {
            /* the rest of a long record line */
            while (strchr(line, '\n') == NULL && fgets(line, sizeof line, f) != NULL)
                ;
            continue;
        }
        if (n_ids == cap) {
            cap = cap ? 2 * cap : 1024;
            if ((ids = realloc(ids, cap * AGAH_HASH_LEN)) == NULL)
                die("out of memory", AGAH_ENOMEM);
        }
        if (sodium_hex2bin(ids[n_ids], AGAH_HASH_LEN, line, 2 * AGAH_HASH_LEN, NULL, &bl, NULL) ==
                0 &&
            bl == AGAH_HASH_LEN)
            n_ids++;
        while (strchr(line, '\n') == NULL && fgets(line, sizeof line, f) != NULL)
            ;
    }
    fclose(f);
    if (n_ids == 0)
        die("no ids in the file", AGAH_ENOENT);
    randombytes_buf(salt, sizeof salt);
    for (long i = 0; i < n && !l->closed; i++) {
        size_t k = n_ids < SKETCH_SHORTS_MAX ? n_ids : SKETCH_SHORTS_MAX;

        for (size_t j = 0; j < k; j++, next = (next + 1) % n_ids)
            sids[j] = sketch_short_id(salt, ids[next]);
        if ((r = sketch_enc_swant(salt, sids, k, buf, sizeof buf, &len)) != 0)
            die("cannot encode a SWANT", r);
        link_send_pt(l, buf, len);
    }
    free(ids);
}

/* A PEERS message of `n` signed address entries A.B.x.y:PORT (x.y counting
 * from 0.1), valid for `ttl` seconds from now (negative: expired already),
 * signed by `signer`: "self" (DIR's own key), "none" (DIR's key named, the
 * signature random: an unsigned claim), "stranger" (a fresh key no one
 * admitted) or a data directory (that node's key, e.g. a revoked member's).
 * What a member that wants every node to dial where it says would send. */
void act_peers(struct link *l, const struct me *m, const char *signer, long ttl, long n,
               const char *net, const char *port)
{
    static struct peeraddr e[GOSSIP_PEERS_MAX];
    struct agah_identity *id = m->id;
    uint8_t enc[FRAME_PT_MAX / 2], frame[FRAME_PT_MAX / 2 + FRAME_HDR + FRAME_TAG];
    size_t len, k = n > GOSSIP_PEERS_MAX ? GOSSIP_PEERS_MAX : n < 0 ? 0 : (size_t)n;
    int64_t exp = (int64_t)time(NULL) + ttl;
    int r;

    if (strcmp(signer, "stranger") == 0) {
        if ((r = agah_identity_generate(&id)) != 0)
            die("cannot make a stranger's key", r);
    } else if (strcmp(signer, "self") != 0 && strcmp(signer, "none") != 0) {
        char path[AGAH_PATH_MAX];
        struct agah_why why = {{0}};

        if ((r = agah_datadir_path(signer, "identity.key", path)) != 0 ||
            (r = agah_keyfile_read(path, NULL, 0, &id, &why)) != 0)
            die(why.msg[0] ? why.msg : "the signer's identity.key", r);
    }
    for (size_t i = 0; i < k; i++) {
        char addr[AGAH_ADDR_MAX];

        (void)snprintf(addr, sizeof addr, "%.16s.%zu.%zu:%.5s", net, i / 250, i % 250 + 1, port);
        if ((r = peeraddr_sign(id, m->local->community, addr, exp < 0 ? 0 : (uint64_t)exp,
                               &e[i])) != 0)
            die("cannot sign an address", r);
        if (strcmp(signer, "none") == 0)
            randombytes_buf(e[i].sig, sizeof e[i].sig);
    }
    if (id != m->id)
        agah_identity_free(id);
    if ((r = gossip_enc_peers(e, k, enc, sizeof enc, &len)) != 0 ||
        (r = frame_seal(l->keys, enc, len, frame)) != 0)
        die("cannot seal a PEERS", r);
    link_write_all(l, frame, FRAME_HDR + len + FRAME_TAG);
}

/* A frame header announcing `len` bytes, then 1 KiB of zeros; then read
 * until the daemon closes. Prints how long that took and what came back. */
void act_oversize(struct link *l, unsigned long len, uint64_t *after)
{
    uint8_t buf[FRAME_HDR + 1024] = {0};
    uint64_t before;
    double t0;

    link_pump(l, 0.2); /* what the daemon sent on its own is read first */
    before = l->bytes_in;
    buf[0] = (uint8_t)(len >> 24);
    buf[1] = (uint8_t)(len >> 16);
    buf[2] = (uint8_t)(len >> 8);
    buf[3] = (uint8_t)len;
    t0 = now_s();
    link_write_all(l, buf, sizeof buf);
    link_pump(l, 20);
    *after = l->bytes_in - before;
    (void)fprintf(stderr, "peerctl: oversize %lu: closed=%d after %.2f s\n", len, l->closed,
                  now_s() - t0);
}

/* One byte of a valid PING frame each second. */
void act_trickle(struct link *l, double secs)
{
    uint8_t pt[16], frame[FRAME_HDR + 16 + FRAME_TAG];
    size_t n, flen, i = 0;
    double end = now_s() + secs;

    if (gossip_enc_simple(GOSSIP_PING, pt, sizeof pt, &n) != 0 || frame_seal(l->keys, pt, n, frame) != 0)
        die("cannot seal a PING", AGAH_EINTERNAL);
    flen = FRAME_HDR + n + FRAME_TAG;
    while (!l->closed && now_s() < end) {
        link_write_all(l, frame + (i++ % flen), 1);
        link_pump(l, 1.0);
    }
}

/* peerctl: a scripted, authenticated agah peer for the integration tests of
 * hostile members (tests/integration/test_net_abuse.sh, test_net_flood.sh).
 * It loads a member's identity and community file from a data directory
 * whose own agahd is not running, makes records with the real encoders, and
 * speaks the real handshake and frames (daemon/wire/handshake.c, daemon/wire/frame.c)
 * to one agahd, then does what the command line says: send records as fast
 * as it can, send a frame header of any length, trickle bytes, and so on.
 *
 *   peerctl alerts DIR N [NOTE_BYTES] [OPTS]   N alerts by DIR's member,
 *                                         one "ID HEX" line each, on stdout
 *   peerctl annotate DIR confirm|retract ALERT_ID [OPTS]   one "ID HEX" line
 *                      (--count N: N of them, each with its own nonce)
 *     OPTS, for the tests of insiders who lie about time (issue 22):
 *     --created UNIX   the record's `created` (default: now), e.g. a revoked
 *                      key back-dating what it signs to before its revocation
 *     --epoch ID       seal under that epoch (64 hex digits), which DIR's
 *                      community file must hold; default: the one added last
 *     --number E164    (alerts) kind number with this normalised target, so
 *                      `agah check` finds it; default: a free-text alert
 *   peerctl admission DIR                 DIR's own admission record
 *   peerctl records DIR                   every record in DIR's community file
 *   peerctl m1 DIR N [v1]                 N fresh M1s under DIR's network
 *                                         secret, raw, on stdout (v1: the
 *                                         64-byte M1 of handshake version 1)
 *   peerctl connect DIR HOST:PORT [--m3-len N] [--throwaway] [--slot FILE] ACTION...
 *     send FILE        RECORD frames of FILE's records, in file order
 *     bodies FILE N    N BODY frames cycling through FILE's records, as if
 *                      the daemon had asked for them
 *     offer N          OFFER frames of N random ids (the daemon asks for them)
 *     repeat FILE N    N RECORD frames cycling through FILE's records
 *     wait SECONDS     keep reading (answering PING) for SECONDS
 *     until PATH SECS  keep reading until PATH exists (SECS at most): a
 *                      test holds the link open until the daemon has
 *                      taken everything, since closing with unread input
 *                      sends an RST that discards what the daemon has not
 *                      read yet
 *     oversize LEN     a frame header announcing LEN bytes and 1 KiB after
 *                      it; then read until the daemon closes (20 s at most)
 *     trickle SECONDS  one byte of a valid frame per second, for SECONDS
 *     peers SIGNER TTL N A.B PORT   a PEERS message of N address entries
 *                      A.B.x.y:PORT valid for TTL seconds (negative:
 *                      expired), signed by SIGNER: self, none (random
 *                      signature), stranger (a key no one admitted) or a
 *                      data directory (that node's key, e.g. a revoked one)
 *     flood TYPE N K   N messages of TYPE as fast as the link takes them,
 *                      for bench/msgcost.py: ihave, want, graft or offer
 *                      (K fresh random ids each), ping, peers (K made-up
 *                      addresses), recon or skreq (the first message of a
 *                      reconciliation of K random ids, sent N times), swant
 *                      (K random short ids under a random salt)
 *   Reconciliation as an insider would abuse it (issue 24), each message
 *   as small as the protocol allows:
 *     recon N          N RECON messages [5, [0, ""], [[nil, 2, []]]]: "I have
 *                      nothing at all", which asks for every id in OFFER
 *     skreq N          N SKREQ under fresh salts with an empty estimator
 *     swant FILE N     N SWANTs, each the short ids of up to 256 of FILE's
 *                      records (FILE as for send: "ID HEX" lines), cycling
 *   --m3-len N replaces the handshake after M2 by a 4-byte M3 length of N
 *   and 1 KiB of zeros, then reads until closed (the pre-handshake bound).
 *   --throwaway signs the handshake with a fresh key that no one admitted
 *   (DIR still gives the network secret): an outsider who learnt K.
 *   --slot FILE puts the first record of FILE in M3's admission slot instead
 *   of DIR's own admission (tests/integration/test_net_admission.sh).
 *
 * `connect` ends with one line on stdout:
 *   up=1 closed=0 sent=N secs=S record=R body=B ihave=I after_oversize=X out=BYTES
 * (BYTES: everything written after the handshake, frame headers and tags
 * included).  * Exit 0 when every action ran, 1 on a failure to set up (printed). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sodium.h>

#include <agah/agah.h>
#include <agah/datadir.h>
#include "frame.h"
#include "gossip.h"
#include "handshake.h"
#include "sketch.h"
#include <agah/mp.h>
#include "peeraddr.h"
#include "recon.h"
#include "sketch.h"

struct me {
    struct agah_identity *id;
    struct agah_local *local;
    const uint8_t *adm; /* borrowed from local->records */
    size_t adm_len;
};

struct link {
    int fd;
    int up, closed;
    struct frame_keys *keys;
    uint8_t *in;
    size_t in_len;
    uint8_t *pt;
    uint64_t sent, bytes_in, bytes_out;
    unsigned long n_record, n_body, n_ihave_ids;
    /* Reconciliation: OFFER ids and their plaintext bytes, RECON and
     * SKETCH messages received; plaintext bytes of our crafted ones. */
    unsigned long n_offer_ids, n_recon, n_sketch;
    uint64_t offer_bytes, atk_bytes;
};

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, int r)
{
    (void)fprintf(stderr, "peerctl: %s: %s\n", what, r ? agah_strerror(r) : strerror(errno));
    exit(1);
}

/* The identity (tests use --no-passphrase ones) and the community file of
 * DIR, and this member's admission record (the founder's genesis record). */
static void me_load(const char *dir, struct me *m)
{
    char path[AGAH_PATH_MAX];
    struct agah_why why = {{0}};
    int r;

    memset(m, 0, sizeof *m);
    if ((r = agah_init()) != 0)
        die("agah_init", r);
    if ((r = agah_datadir_path(dir, "identity.key", path)) != 0 ||
        (r = agah_keyfile_read(path, NULL, 0, &m->id, &why)) != 0)
        die(why.msg[0] ? why.msg : "identity.key", r);
    if ((r = agah_datadir_path(dir, "community", path)) != 0 ||
        (r = agah_local_read(path, m->id, &m->local, &why)) != 0)
        die(why.msg[0] ? why.msg : "community", r);
    for (size_t i = 0; i < m->local->n_records; i++) {
        struct agah_rec rec;

        if (agah_rec_decode(m->local->records[i], m->local->record_lens[i], NULL, &rec, NULL) != 0)
            continue;
        if ((rec.type == AGAH_REC_ADMISSION &&
             memcmp(rec.u.admission.member, agah_identity_pk(m->id), AGAH_PK_LEN) == 0) ||
            (rec.type == AGAH_REC_GENESIS && m->adm == NULL &&
             memcmp(rec.author, agah_identity_pk(m->id), AGAH_PK_LEN) == 0)) {
            m->adm = m->local->records[i];
            m->adm_len = m->local->record_lens[i];
        }
    }
    if (m->adm == NULL)
        die("no admission record in the community file", AGAH_ENOENT);
}

static void me_free(struct me *m)
{
    agah_local_free(m->local);
    agah_identity_free(m->id);
}

static void print_rec(const uint8_t *buf, size_t len)
{
    uint8_t id[AGAH_HASH_LEN];
    char *hex = malloc(2 * len + 1);
    char idhex[2 * AGAH_HASH_LEN + 1];

    if (hex == NULL)
        die("out of memory", AGAH_ENOMEM);
    agah_hash(buf, len, id);
    sodium_bin2hex(idhex, sizeof idhex, id, sizeof id);
    sodium_bin2hex(hex, 2 * len + 1, buf, len);
    printf("%s %s\n", idhex, hex);
    free(hex);
}

/* What the record-making commands take after their positional arguments. */
struct rec_opts {
    uint64_t created;   /* 0: now */
    const char *epoch;  /* hex id, or NULL: the epoch key added last */
    const char *number; /* ALERT of kind number, or NULL: free text */
    long count;         /* annotate: how many records (default 1) */
};

static void rec_opts_parse(int argc, char **argv, int i, struct rec_opts *o)
{
    memset(o, 0, sizeof *o);
    for (; i < argc; i++) {
        if (i + 1 < argc && strcmp(argv[i], "--created") == 0)
            o->created = strtoull(argv[++i], NULL, 10);
        else if (i + 1 < argc && strcmp(argv[i], "--epoch") == 0)
            o->epoch = argv[++i];
        else if (i + 1 < argc && strcmp(argv[i], "--number") == 0)
            o->number = argv[++i];
        else if (i + 1 < argc && strcmp(argv[i], "--count") == 0)
            o->count = strtol(argv[++i], NULL, 10);
        else {
            (void)fprintf(stderr, "peerctl: unknown option %s\n", argv[i]);
            exit(2);
        }
    }
    if (o->created == 0)
        o->created = (uint64_t)time(NULL);
    if (o->count <= 0)
        o->count = 1;
}

/* The epoch key to seal under: the one named (which the community file
 * must hold), else the one added last (without revocations, the newest,
 * which agahd posts under too). */
static void me_epoch(const struct me *m, const char *want_hex, const uint8_t **eid,
                     const uint8_t **key)
{
    uint8_t want[AGAH_HASH_LEN];
    size_t wl = 0;

    if (m->local->n_epochs == 0)
        die("no epoch key (a relay?)", AGAH_ENOENT);
    if (want_hex == NULL) {
        *eid = m->local->epochs[m->local->n_epochs - 1].id;
        *key = m->local->epochs[m->local->n_epochs - 1].key;
        return;
    }
    if (sodium_hex2bin(want, sizeof want, want_hex, strlen(want_hex), NULL, &wl, NULL) != 0 ||
        wl != sizeof want)
        die("--epoch is not 64 hex digits", AGAH_EINVAL);
    for (size_t i = 0; i < m->local->n_epochs; i++)
        if (memcmp(m->local->epochs[i].id, want, sizeof want) == 0) {
            *eid = m->local->epochs[i].id;
            *key = m->local->epochs[i].key;
            return;
        }
    die("the community file does not hold that epoch's key", AGAH_ENOENT);
}

static int cmd_alerts(const char *dir, long n, long note_bytes, const struct rec_opts *o)
{
    struct me m;
    const uint8_t *eid, *key;
    struct agah_alert_body body;
    uint64_t now = o->created;

    me_load(dir, &m);
    me_epoch(&m, o->epoch, &eid, &key);
    if (o->number != NULL && (strlen(o->number) < 2 || strlen(o->number) >= AGAH_TARGET_MAX))
        die("--number: a normalised number such as +85251234567", AGAH_EINVAL);
    if (note_bytes < 16 || note_bytes > AGAH_NOTE_MAX)
        die("note size out of 16..2048", AGAH_EINVAL);
    for (long i = 0; i < n; i++) {
        uint8_t *buf = NULL;
        size_t len = 0;
        int r;

        memset(&body, 0, sizeof body);
        body.kind = AGAH_KIND_ALERT;
        if (o->number != NULL) {
            body.kind = AGAH_KIND_NUMBER;
            (void)snprintf(body.target, sizeof body.target, "%s", o->number);
        }
        body.category = AGAH_CAT_OTHER;
        body.severity = AGAH_SEV_INFO;
        memset(body.note, 'x', (size_t)note_bytes);
        (void)snprintf(body.note, sizeof body.note, "peerctl %ld %lu ", i, (unsigned long)now);
        body.note[strlen(body.note)] = 'x';
        body.note[note_bytes] = '\0';
        if ((r = agah_rec_alert(m.id, m.local->community, eid, key, &body, now, 0, &buf, &len)) != 0)
            die("agah_rec_alert", r);
        print_rec(buf, len);
        free(buf);
    }
    me_free(&m);
    return 0;
}

static int cmd_annotate(const char *dir, const char *kind, const char *ref_hex,
                        const struct rec_opts *o)
{
    struct me m;
    const uint8_t *eid, *key;
    uint8_t ref[AGAH_HASH_LEN], *buf = NULL;
    size_t len = 0, rl = 0;
    int type = strcmp(kind, "retract") == 0 ? AGAH_REC_RETRACT : AGAH_REC_CONFIRM;
    int r;

    me_load(dir, &m);
    me_epoch(&m, o->epoch, &eid, &key);
    if (sodium_hex2bin(ref, sizeof ref, ref_hex, strlen(ref_hex), NULL, &rl, NULL) != 0 ||
        rl != sizeof ref)
        die("ALERT_ID is not 64 hex digits", AGAH_EINVAL);
    for (long i = 0; i < o->count; i++) {
        if ((r = agah_rec_annotate(m.id, type, m.local->community, ref, eid, key, "peerctl",
                                   o->created, &buf, &len)) != 0)
            die("agah_rec_annotate", r);
        print_rec(buf, len);
        free(buf);
        buf = NULL;
    }
    me_free(&m);
    return 0;
}

/* ------------------------------------------------------------------ */
/* The link                                                            */

static int verify_any(void *ctx, const uint8_t pk[AGAH_PK_LEN], const uint8_t *adm, size_t len)
{
    (void)ctx;
    (void)pk;
    (void)adm;
    (void)len;
    return 0; /* a test harness trusts the daemon it was pointed at */
}

static void link_write_all(struct link *l, const uint8_t *buf, size_t len);

static void link_on_message(struct link *l, const uint8_t *pt, size_t len)
{
    msgpack_unpacked u;
    struct gossip_msg m;
    uint8_t out[16];
    size_t n;

    msgpack_unpacked_init(&u);
    if (gossip_decode(pt, len, &u, &m, NULL) == 0) {
        switch (m.type) {
        case GOSSIP_RECORD: l->n_record++; break;
        case GOSSIP_BODY: l->n_body++; break;
        case GOSSIP_IHAVE: l->n_ihave_ids += m.n_ids; break;
        case GOSSIP_OFFER:
            l->n_offer_ids += m.n_ids;
            l->offer_bytes += len;
            break;
        case GOSSIP_RECON: l->n_recon++; break;
        case GOSSIP_SKETCH: l->n_sketch++; break;
        case GOSSIP_PING: {
            uint8_t frame[FRAME_HDR + 16 + FRAME_TAG];

            if (gossip_enc_simple(GOSSIP_PONG, out, sizeof out, &n) == 0 &&
                frame_seal(l->keys, out, n, frame) == 0)
                link_write_all(l, frame, FRAME_HDR + n + FRAME_TAG);
            break;
        }
        default: break;
        }
    }
    msgpack_unpacked_destroy(&u);
}

/* Reads what is there (never blocks); once up, takes whole frames out. */
static void link_read(struct link *l)
{
    for (;;) {
        ssize_t n;

        if (l->closed || l->in_len == 2 * FRAME_WIRE_MAX)
            return;
        n = read(l->fd, l->in + l->in_len, 2 * FRAME_WIRE_MAX - l->in_len);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        if (n <= 0) {
            l->closed = 1;
            return;
        }
        l->bytes_in += (uint64_t)n;
        if (!l->up) {
            l->in_len = 0; /* only counted */
            continue;
        }
        l->in_len += (size_t)n;
        for (;;) {
            size_t ct, ptl;

            if (l->in_len < FRAME_HDR || frame_peek(l->in, &ct) != 0 || l->in_len < FRAME_HDR + ct)
                break;
            if (frame_open(l->keys, l->in, FRAME_HDR + ct, l->pt, &ptl) != 0) {
                (void)fprintf(stderr, "peerctl: a frame from agahd does not open\n");
                exit(1);
            }
            memmove(l->in, l->in + FRAME_HDR + ct, l->in_len - FRAME_HDR - ct);
            l->in_len -= FRAME_HDR + ct;
            link_on_message(l, l->pt, ptl);
        }
    }
}

/* Writes everything, reading whenever there is something to read, so a
 * daemon that talks back while we flood it never deadlocks with us. */
static void link_write_all(struct link *l, const uint8_t *buf, size_t len)
{
    while (len > 0 && !l->closed) {
        struct pollfd p = {l->fd, POLLIN | POLLOUT, 0};
        ssize_t n;

        if (poll(&p, 1, 1000) < 0 && errno != EINTR)
            die("poll", 0);
        if (p.revents & (POLLIN | POLLHUP | POLLERR))
            link_read(l);
        if (!(p.revents & POLLOUT))
            continue;
        n = write(l->fd, buf, len);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (n < 0) {
            l->closed = 1;
            return;
        }
        buf += n;
        len -= (size_t)n;
        l->bytes_out += (uint64_t)n;
    }
}

/* Reads for `secs` seconds or until closed. */
static void link_pump(struct link *l, double secs)
{
    double end = now_s() + secs;

    while (!l->closed) {
        double left = end - now_s();
        struct pollfd p = {l->fd, POLLIN, 0};

        if (left <= 0)
            return;
        if (poll(&p, 1, (int)(left * 1000) + 1) < 0 && errno != EINTR)
            die("poll", 0);
        if (p.revents)
            link_read(l);
    }
}

/* Blocking read of exactly len bytes during the handshake (20 s at most). */
static int read_exact(int fd, uint8_t *buf, size_t len)
{
    double end = now_s() + 20;

    while (len > 0) {
        struct pollfd p = {fd, POLLIN, 0};
        ssize_t n;

        if (now_s() > end)
            return -1;
        if (poll(&p, 1, 1000) < 0 && errno != EINTR)
            return -1;
        n = read(fd, buf, len);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (n <= 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

static int dial(const char *addr)
{
    char host[128], *colon;
    struct addrinfo hints, *res = NULL;
    int fd, one = 1;

    (void)snprintf(host, sizeof host, "%s", addr);
    if ((colon = strrchr(host, ':')) == NULL)
        die("HOST:PORT expected", AGAH_EINVAL);
    *colon = '\0';
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, colon + 1, &hints, &res) != 0 || res == NULL)
        die("cannot resolve the address", AGAH_EINVAL);
    fd = socket(res->ai_family, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, res->ai_addr, res->ai_addrlen) != 0)
        die("connect", 0);
    freeaddrinfo(res);
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    (void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

/* The real handshake as the dialling side, signed by `id` and presenting
 * adm in the admission slot; with m3_len >= 0 it stops after M2 and sends a
 * bare M3 length instead. */
static void link_handshake_as(struct link *l, const struct me *m, long m3_len,
                              const struct agah_identity *id, const uint8_t *adm, size_t adm_len)
{
    struct hs *hs = NULL;
    uint8_t msg[HS_MSG_MAX], out[HS_MSG_MAX], tx[32], rx[32];
    size_t outlen = 0, need = 0;
    struct agah_why why = {{0}};
    int r;

    if ((r = hs_new(1, m->local->network_secret, id, adm, adm_len, verify_any, NULL,
                    (uint64_t)time(NULL), NULL, &hs)) != 0 ||
        (r = hs_start(hs, out)) != 0)
        die("hs_new", r);
    link_write_all(l, out, HS_M1_LEN);
    if (read_exact(l->fd, msg, HS_M2_LEN) != 0)
        die("no M2 from agahd", AGAH_EIO);
    if ((r = hs_step(hs, msg, HS_M2_LEN, out, &outlen, &why)) != 0)
        die(why.msg[0] ? why.msg : "M2", r);
    if (m3_len >= 0) {
        uint8_t fake[4 + 1024] = {0};

        fake[0] = (uint8_t)(m3_len >> 24);
        fake[1] = (uint8_t)(m3_len >> 16);
        fake[2] = (uint8_t)(m3_len >> 8);
        fake[3] = (uint8_t)m3_len;
        link_write_all(l, fake, sizeof fake);
        hs_free(hs);
        return;
    }
    link_write_all(l, out, outlen);
    if (read_exact(l->fd, msg, 4) != 0 || hs_next_len(hs, msg, 4, &need) != 0 ||
        read_exact(l->fd, msg + 4, need - 4) != 0)
        die("no M4 from agahd", AGAH_EIO);
    if ((r = hs_step(hs, msg, need, out, &outlen, &why)) != 0 || !hs_done(hs))
        die(why.msg[0] ? why.msg : "M4", r);
    if ((r = hs_session_keys(hs, tx, rx)) != 0 || (l->keys = frame_keys_new(tx, rx)) == NULL)
        die("session keys", r);
    sodium_memzero(tx, sizeof tx);
    sodium_memzero(rx, sizeof rx);
    hs_free(hs);
    l->up = 1;
}

static void link_handshake(struct link *l, const struct me *m, long m3_len)
{
    link_handshake_as(l, m, m3_len, m->id, m->adm, m->adm_len);
}

/* FILE's records: lines "ID HEX" (or just "HEX"). */
static uint8_t **read_records(const char *file, size_t **lens, size_t *count)
{
    FILE *f = fopen(file, "r");
    char *line = NULL;
    size_t cap = 0, n = 0, alloc = 0;
    uint8_t **recs = NULL;
    ssize_t got;

    if (f == NULL)
        die(file, 0);
    *lens = NULL;
    while ((got = getline(&line, &cap, f)) > 0) {
        char *hex = strchr(line, ' ');
        size_t hl, bl = 0;

        hex = hex != NULL ? hex + 1 : line;
        hl = strcspn(hex, "\r\n");
        if (hl == 0)
            continue;
        if (n == alloc) {
            alloc = alloc ? 2 * alloc : 64;
            recs = realloc(recs, alloc * sizeof *recs);
            *lens = realloc(*lens, alloc * sizeof **lens);
            if (recs == NULL || *lens == NULL)
                die("out of memory", AGAH_ENOMEM);
        }
        if ((recs[n] = malloc(hl / 2 + 1)) == NULL)
            die("out of memory", AGAH_ENOMEM);
        if (sodium_hex2bin(recs[n], hl / 2 + 1, hex, hl, NULL, &bl, NULL) != 0 || bl == 0)
            die("a record line is not hex", AGAH_EINVAL);
        (*lens)[n++] = bl;
    }
    free(line);
    fclose(f);
    *count = n;
    return recs;
}

/* Seals pt as the next frame into batch (room for FRAME_WIRE_MAX more than
 * 256 KiB) and writes the batch out once it holds 256 KiB, so that one
 * write moves many frames. */
static void batch_frame(struct link *l, uint8_t *batch, size_t *blen, const uint8_t *pt,
                        size_t len)
{
    int r;

    if ((r = frame_seal(l->keys, pt, len, batch + *blen)) != 0)
        die("cannot seal a frame", r);
    *blen += FRAME_HDR + len + FRAME_TAG;
    l->sent++;
    if (*blen >= (256u << 10)) {
        link_write_all(l, batch, *blen);
        *blen = 0;
    }
}

/* Sends `total` frames of `type` (RECORD, or BODY as if asked for)
 * cycling through the file's records. The frames are sealed in batches of
 * about 256 KiB so one write moves many. */
static void act_send(struct link *l, const char *file, long total, int type)
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
static void act_offer(struct link *l, long n)
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

/* Seals one plaintext message and writes it, counting its bytes. */
static void link_send_pt(struct link *l, const uint8_t *pt, size_t len)
{
    static uint8_t frame[FRAME_HDR + FRAME_PT_MAX + FRAME_TAG];
    int r;

    if ((r = frame_seal(l->keys, pt, len, frame)) != 0)
        die("cannot seal a frame", r);
    l->atk_bytes += len;
    link_write_all(l, frame, FRAME_HDR + len + FRAME_TAG);
}

/* `n` RECONs of one empty IDLIST over the whole key space: before issue 24
 * each made the daemon OFFER every id it holds. */
static void act_recon(struct link *l, long n)
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
static void act_skreq(struct link *l, long n)
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
static void act_swant(struct link *l, const char *file, long n)
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
static void act_peers(struct link *l, const struct me *m, const char *signer, long ttl, long n,
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
static void act_flood(struct link *l, const char *type, long total, long k)
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

/* A frame header announcing `len` bytes, then 1 KiB of zeros; then read
 * until the daemon closes. Prints how long that took and what came back. */
static void act_oversize(struct link *l, unsigned long len, uint64_t *after)
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
static void act_trickle(struct link *l, double secs)
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

static int cmd_connect(int argc, char **argv)
{
    struct me m;
    struct link l;
    long m3_len = -1;
    int i = 4, throwaway = 0;
    const char *slot = NULL;
    uint64_t after = 0;
    double t0;

    if (argc < 4)
        return 2;
    me_load(argv[2], &m);
    memset(&l, 0, sizeof l);
    if ((l.in = malloc(2 * FRAME_WIRE_MAX)) == NULL || (l.pt = malloc(FRAME_WIRE_MAX)) == NULL)
        die("out of memory", AGAH_ENOMEM);
    for (;;) {
        if (i + 1 < argc && strcmp(argv[i], "--m3-len") == 0) {
            m3_len = strtol(argv[i + 1], NULL, 0);
            i += 2;
        } else if (i < argc && strcmp(argv[i], "--throwaway") == 0) {
            throwaway = 1;
            i++;
        } else if (i + 1 < argc && strcmp(argv[i], "--slot") == 0) {
            slot = argv[i + 1];
            i += 2;
        } else {
            break;
        }
    }
    l.fd = dial(argv[3]);
    if (throwaway || slot != NULL) {
        struct agah_identity *id = m.id;
        size_t *lens = NULL, n = 0;
        uint8_t **recs = NULL;
        int r;

        if (throwaway && (r = agah_identity_generate(&id)) != 0)
            die("cannot make a throwaway key", r);
        if (slot != NULL && ((recs = read_records(slot, &lens, &n)) == NULL || n == 0))
            die("no record in the slot file", AGAH_ENOENT);
        link_handshake_as(&l, &m, m3_len, id, n > 0 ? recs[0] : m.adm,
                          n > 0 ? lens[0] : m.adm_len);
        for (size_t k = 0; k < n; k++)
            free(recs[k]);
        free(recs);
        free(lens);
        if (id != m.id)
            agah_identity_free(id);
    } else {
        link_handshake(&l, &m, m3_len);
    }
    l.bytes_out = 0; /* the figure is what follows the handshake */
    t0 = now_s();
    if (m3_len >= 0) {
        uint64_t before = l.bytes_in;

        link_pump(&l, 20);
        after = l.bytes_in - before;
    }
    for (; i < argc && l.up; i++) {
        const char *a = argv[i];

        if (strcmp(a, "send") == 0 && i + 1 < argc) {
            act_send(&l, argv[++i], -1, GOSSIP_RECORD);
        } else if (strcmp(a, "bodies") == 0 && i + 2 < argc) {
            act_send(&l, argv[i + 1], strtol(argv[i + 2], NULL, 10), GOSSIP_BODY);
            i += 2;
        } else if (strcmp(a, "peers") == 0 && i + 5 < argc) {
            act_peers(&l, &m, argv[i + 1], strtol(argv[i + 2], NULL, 10),
                      strtol(argv[i + 3], NULL, 10), argv[i + 4], argv[i + 5]);
            i += 5;
        } else if (strcmp(a, "flood") == 0 && i + 3 < argc) {
            act_flood(&l, argv[i + 1], strtol(argv[i + 2], NULL, 10),
                      strtol(argv[i + 3], NULL, 10));
            i += 3;
        } else if (strcmp(a, "recon") == 0 && i + 1 < argc) {
            act_recon(&l, strtol(argv[++i], NULL, 10));
        } else if (strcmp(a, "skreq") == 0 && i + 1 < argc) {
            act_skreq(&l, strtol(argv[++i], NULL, 10));
        } else if (strcmp(a, "swant") == 0 && i + 2 < argc) {
            act_swant(&l, argv[i + 1], strtol(argv[i + 2], NULL, 10));
            i += 2;
        } else if (strcmp(a, "offer") == 0 && i + 1 < argc) {
            act_offer(&l, strtol(argv[++i], NULL, 10));
        } else if (strcmp(a, "repeat") == 0 && i + 2 < argc) {
            act_send(&l, argv[i + 1], strtol(argv[i + 2], NULL, 10), GOSSIP_RECORD);
            i += 2;
        } else if (strcmp(a, "wait") == 0 && i + 1 < argc) {
            link_pump(&l, strtod(argv[++i], NULL));
        } else if (strcmp(a, "until") == 0 && i + 2 < argc) {
            double end = now_s() + strtod(argv[i + 2], NULL);

            while (l.up && !l.closed && access(argv[i + 1], F_OK) != 0 && now_s() < end)
                link_pump(&l, 0.1);
            i += 2;
        } else if (strcmp(a, "oversize") == 0 && i + 1 < argc) {
            act_oversize(&l, strtoul(argv[++i], NULL, 0), &after);
        } else if (strcmp(a, "trickle") == 0 && i + 1 < argc) {
            act_trickle(&l, strtod(argv[++i], NULL));
        } else {
            (void)fprintf(stderr, "peerctl: unknown action %s\n", a);
            return 2;
        }
    }
    printf("up=%d closed=%d sent=%llu secs=%.2f record=%lu body=%lu ihave=%lu after_oversize=%llu "
           "out=%llu offer=%lu offer_bytes=%llu recon=%lu sketch=%lu atk_bytes=%llu\n",
           l.up, l.closed, (unsigned long long)l.sent, now_s() - t0, l.n_record, l.n_body,
           l.n_ihave_ids, (unsigned long long)after, (unsigned long long)l.bytes_out,
           l.n_offer_ids, (unsigned long long)l.offer_bytes, l.n_recon, l.n_sketch,
           (unsigned long long)l.atk_bytes);
    close(l.fd);
    frame_keys_free(l.keys);
    free(l.in);
    free(l.pt);
    me_free(&m);
    return 0;
}

/* N fresh M1s: what a dialling member sends first, for hostile_peer.py,
 * which holds no network secret of its own. */
static int cmd_m1(const char *dir, long n, int v1)
{
    struct me m;

    me_load(dir, &m);
    for (long i = 0; i < n; i++) {
        uint8_t out[HS_MSG_MAX];
        struct hs *hs = NULL;
        int r;

        if (v1) {
            uint8_t sk[32];

            randombytes_buf(sk, sizeof sk);
            if (crypto_scalarmult_base(out, sk) != 0)
                die("X25519", AGAH_EINTERNAL);
            sodium_memzero(sk, sizeof sk);
            crypto_auth_hmacsha512256(out + 32, out, 32, m.local->network_secret);
            if (fwrite(out, 1, HS_M1_V1_LEN, stdout) != HS_M1_V1_LEN)
                die("stdout", 0);
            continue;
        }
        if ((r = hs_new(1, m.local->network_secret, m.id, m.adm, m.adm_len, verify_any, NULL,
                        (uint64_t)time(NULL), NULL, &hs)) != 0 ||
            (r = hs_start(hs, out)) != 0)
            die("hs_new", r);
        hs_free(hs);
        if (fwrite(out, 1, HS_M1_LEN, stdout) != HS_M1_LEN)
            die("stdout", 0);
    }
    me_free(&m);
    return fflush(stdout) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    struct me m;
    struct rec_opts o;

    signal(SIGPIPE, SIG_IGN);
    if (argc >= 4 && strcmp(argv[1], "alerts") == 0) {
        int opt = argc > 4 && strncmp(argv[4], "--", 2) != 0 ? 5 : 4;

        rec_opts_parse(argc, argv, opt, &o);
        return cmd_alerts(argv[2], strtol(argv[3], NULL, 10),
                          opt == 5 ? strtol(argv[4], NULL, 10) : 64, &o);
    }
    if (argc >= 5 && strcmp(argv[1], "annotate") == 0) {
        rec_opts_parse(argc, argv, 5, &o);
        return cmd_annotate(argv[2], argv[3], argv[4], &o);
    }
    if (argc == 3 && strcmp(argv[1], "admission") == 0) {
        me_load(argv[2], &m);
        print_rec(m.adm, m.adm_len);
        me_free(&m);
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "records") == 0) {
        me_load(argv[2], &m);
        for (size_t i = 0; i < m.local->n_records; i++)
            print_rec(m.local->records[i], m.local->record_lens[i]);
        me_free(&m);
        return 0;
    }
    if ((argc == 4 || argc == 5) && strcmp(argv[1], "m1") == 0)
        return cmd_m1(argv[2], strtol(argv[3], NULL, 10), argc == 5 && strcmp(argv[4], "v1") == 0);
    if (argc >= 4 && strcmp(argv[1], "connect") == 0)
        return cmd_connect(argc, argv);
    (void)fprintf(stderr, "usage: peerctl alerts DIR N [NOTE_BYTES] [OPTS] | annotate DIR confirm|retract ID [OPTS] |\n"
                          "       admission DIR | records DIR | m1 DIR N [v1] |\n"
                          "       connect DIR HOST:PORT [--m3-len N] [--throwaway] [--slot FILE] ACTION...\n"
                          "OPTS: --created UNIX --epoch ID --number E164 --count N\n");
    return 2;
}

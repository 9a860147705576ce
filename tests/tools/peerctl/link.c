/* peerctl: one link to an agahd, made with the real handshake
 * (daemon/wire/handshake.c) and frames (daemon/wire/frame.c): dialling,
 * reading and answering PING, writing without deadlock, and the raw M1s
 * of the m1 command. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
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
#include "frame.h"
#include "gossip.h"
#include "handshake.h"

#include "peerctl.h"

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
void link_write_all(struct link *l, const uint8_t *buf, size_t len)
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
void link_pump(struct link *l, double secs)
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

int dial(const char *addr)
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
void link_handshake_as(struct link *l, const struct me *m, long m3_len,
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

void link_handshake(struct link *l, const struct me *m, long m3_len)
{
    link_handshake_as(l, m, m3_len, m->id, m->adm, m->adm_len);
}

/* Seals pt as the next frame into batch (room for FRAME_WIRE_MAX more than
 * 256 KiB) and writes the batch out once it holds 256 KiB, so that one
 * write moves many frames. */
void batch_frame(struct link *l, uint8_t *batch, size_t *blen, const uint8_t *pt,
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

/* Seals one plaintext message and writes it, counting its bytes. */
void link_send_pt(struct link *l, const uint8_t *pt, size_t len)
{
    static uint8_t frame[FRAME_HDR + FRAME_PT_MAX + FRAME_TAG];
    int r;

    if ((r = frame_seal(l->keys, pt, len, frame)) != 0)
        die("cannot seal a frame", r);
    l->atk_bytes += len;
    link_write_all(l, frame, FRAME_HDR + len + FRAME_TAG);
}

/* N fresh M1s: what a dialling member sends first, for hostile_peer.py,
 * which holds no network secret of its own. */
int cmd_m1(const char *dir, long n, int v1)
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

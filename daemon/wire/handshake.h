/* Layer wire/: the bytes peers exchange (frames, the handshake, the peer
 * message codec, range reconciliation and sketches, address announcements).
 * Pure code on buffers: no libuv, no store; it depends on proto/ only. */
/* The peer handshake (proto/PROTOCOL.md, "Handshake"): four messages that
 * prove both ends hold the community's network secret, agree on fresh
 * session keys from ephemeral X25519 keys, and then, under encryption,
 * exchange and check each other's long-term member keys and admission
 * records. A node without the network secret gets nothing back at all.
 * Pure state machine: bytes in, bytes out, no I/O. */
#ifndef AGAH_HANDSHAKE_H
#define AGAH_HANDSHAKE_H

#include <stddef.h>
#include <stdint.h>
#include <agah/agah.h>

/* Handshake version 2: M1 carries the client's clock, so a captured M1
 * replayed later draws nothing (version 1's M1 was e_c || MAC, 64 bytes). */
#define HS_VERSION 2
#define HS_M1_LEN 72            /* e_c || time (8, big-endian) || MAC */
#define HS_M1_V1_LEN 64         /* version 1's M1: e_c || HMAC_K(e_c) */
#define HS_M2_LEN 64            /* e_s || MAC */
/* A server answers an M1 only if its time is within this many seconds of
 * its own clock, and only once (see struct hs_replay). */
#define HS_WINDOW_S 120
/* M1 ephemerals remembered at most: each is kept 2 * HS_WINDOW_S after it
 * was seen (by then its time is outside every later window). */
#define HS_REPLAY_MAX 16384
#define HS_BOX_MAX 4096         /* largest M3/M4 ciphertext */
#define HS_MSG_MAX (4 + HS_BOX_MAX)
/* M3/M4 plaintext: pk(32) || sig(64) || admission record. */
#define HS_ADMISSION_MAX (HS_BOX_MAX - 16 - AGAH_PK_LEN - AGAH_SIG_LEN)
#define HS_TIMEOUT_MS 10000

struct hs;

/* The ephemeral keys of the M1s a server answered within the window, so a
 * replayed M1 is answered by nothing. Bounded: when it is full of entries
 * still inside the window, new M1s are refused (closed unanswered) rather
 * than an entry forgotten, which would let that M1 be replayed. Only holders
 * of the network secret can add entries (the MAC is checked first). One per
 * listener, shared by its handshakes; caller owns *out. */
struct hs_replay;
int hs_replay_new(struct hs_replay **out);
void hs_replay_free(struct hs_replay *rc);
/* Entries currently remembered (for tests). */
size_t hs_replay_count(const struct hs_replay *rc);

/* Decides whether the authenticated peer `pk`, presenting admission record
 * adm[0..len), may hold a link: 0 to accept, a negative AGAH_E* to refuse
 * (AGAH_EPERM revoked, AGAH_ENOENT unknown, ...). */
typedef int (*hs_verify_fn)(void *ctx, const uint8_t pk[AGAH_PK_LEN], const uint8_t *adm,
                            size_t len);

/* A handshake for one link. `initiator` is the dialling side. The network
 * secret and `admission` are copied into guarded memory; `me` is borrowed
 * and must outlive the handshake. `now` (unix seconds) is the time the
 * client stamps into M1 and the server checks M1's time against; `replay`
 * is required of a server (borrowed, outlives the handshake) and ignored
 * for a client. Caller owns *out (hs_free). */
int hs_new(int initiator, const uint8_t network_secret[32], const struct agah_identity *me,
           const uint8_t *admission, size_t admission_len, hs_verify_fn verify, void *ctx,
           uint64_t now, struct hs_replay *replay, struct hs **out);
void hs_free(struct hs *hs); /* wipes every secret */

/* Server only, before M1: the network secrets it accepts besides the one
 * given to hs_new (an earlier secret within its grace period, the join
 * code's). M1 is checked against each; the one it proves is used for the
 * rest of the handshake, so the client never learns which others exist. */
#define HS_SECRETS_MAX 8
int hs_accept_also(struct hs *hs, const uint8_t (*secrets)[32], size_t n);

/* Client only, before hs_start: the listener is expected to be member pk
 * (the one last linked at the address dialled). M3 is then sealed under
 * k_m3 mixed with X25519(e_c, pk as X25519), so only that member's node can
 * open it and learn who dials, and M4 must carry pk. AGAH_EINVAL if pk is
 * not a valid key or the handshake has started. */
int hs_expect_server(struct hs *hs, const uint8_t pk[AGAH_PK_LEN]);
/* 1 if M3 is bound to the listener's key (client: asked for; server: the
 * M3 received was). */
int hs_bound(const struct hs *hs);

/* The initiator's first message (M1) into out[HS_M1_LEN]. */
int hs_start(struct hs *hs, uint8_t out[HS_M1_LEN]);

/* How long the next expected message is, given the first `avail` bytes
 * received: 0 and *need set when known, AGAH_ETRUNC when more bytes are
 * needed to tell, AGAH_ETOOBIG (or AGAH_EVALUE) when the announced length
 * is out of bounds: close the link. A server that holds 64 to 71 bytes
 * which are a version 1 M1 (its MAC verifies under K) is told HS_M1_V1_LEN,
 * so hs_step can refuse it by name instead of waiting for bytes that a
 * version 1 client never sends. */
int hs_next_len(const struct hs *hs, const uint8_t *buf, size_t avail, size_t *need);

/* Processes one whole message and writes the reply (maybe none: *outlen 0)
 * into out[HS_MSG_MAX]. Any error means: close the link, send nothing.
 * AGAH_EVERSION: the peer speaks handshake version 1 (why says so). */
int hs_step(struct hs *hs, const uint8_t *msg, size_t len, uint8_t *out, size_t *outlen,
            struct agah_why *why);

/* 1 once the handshake completed (client: after M4; server: after M3). */
int hs_done(const struct hs *hs);
/* The peer's member key, valid once done. */
const uint8_t *hs_peer_pk(const struct hs *hs);
/* Copies the session keys (tx: what we send with, rx: what we receive
 * with). The caller wipes them. AGAH_EINVAL before completion. */
int hs_session_keys(const struct hs *hs, uint8_t tx[32], uint8_t rx[32]);

/* Test and fuzz hook: seals `pt` as this side's encrypted message (M3 for
 * the initiator, M4 for the responder) under the current handshake key, so a
 * fuzzer can reach the plaintext parser of the other side. */
int hs__seal_box(struct hs *hs, const uint8_t *pt, size_t len, uint8_t *out, size_t *outlen);
/* Test and fuzz hook: the transcript hash T (valid once both ephemerals
 * are known), so a harness can sign what a real peer would. */
const uint8_t *hs__transcript(const struct hs *hs);

#endif

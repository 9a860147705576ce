/* Layer wire/: the bytes peers exchange (frames, the handshake, the peer
 * message codec, range reconciliation and sketches, address announcements).
 * Pure code on buffers: no libuv, no store; it depends on proto/ only. */
/* Signed address announcements (issue 24): "member key K listens at ADDR
 * until T", signed by K for one community, carried in PEERS. A node dials
 * an address it learned from a peer only when such a statement verifies
 * and K is a member in good standing, and it dials it bound to K, so a
 * member cannot make every node dial addresses of its choosing, nor claim
 * another member's address. proto/PROTOCOL.md, "Messages" (PEERS). Pure
 * code, no I/O: the fuzzer feeds peeraddr_parse directly. */
#ifndef AGAH_PEERADDR_H
#define AGAH_PEERADDR_H

#include <stddef.h>
#include <stdint.h>
#include <msgpack.h>
#include <agah/agah.h>

/* What the signature covers: this context, the community id, the key, the
 * expiry (8 bytes big-endian), the address; never valid for anything else
 * the same key signs (records sign "agah-record-v1"). */
#define PEERADDR_CTX "agah-peeraddr-v1"
/* A node signs its own address for this long, each time it sends PEERS. */
#define PEERADDR_TTL_S (7u * 24u * 3600u)
/* Clock skew allowed on "expires" beyond now + PEERADDR_TTL_S: a statement
 * dated further ahead is refused, so none lives for ever. */
#define PEERADDR_SKEW_S 600u

/* One announcement as it travels: [addr str, pk bin32, expires uint, sig bin64]. */
struct peeraddr {
    char addr[AGAH_ADDR_MAX]; /* NUL-terminated, agah_addr_parse */
    uint8_t pk[AGAH_PK_LEN];
    uint64_t expires; /* unix seconds */
    uint8_t sig[AGAH_SIG_LEN];
};

/* Fills *out with `addr` (which must pass agah_addr_parse) signed by `id`
 * for `community`, valid until `expires`. AGAH_EINVAL on a bad address. */
int peeraddr_sign(const struct agah_identity *id, const uint8_t community[AGAH_HASH_LEN],
                  const char *addr, uint64_t expires, struct peeraddr *out);
/* 0 if e's signature verifies for `community` and it is valid at `now`
 * (expires > now and expires <= now + PEERADDR_TTL_S + PEERADDR_SKEW_S);
 * AGAH_ESIG, AGAH_EEXPIRED, or AGAH_EVALUE (dated too far ahead). Does not
 * check membership: the caller asks node_member_status about e->pk. */
int peeraddr_verify(const struct peeraddr *e, const uint8_t community[AGAH_HASH_LEN],
                    uint64_t now);
/* Strictly decodes one entry (shape, sizes, address syntax); no signature
 * check. */
int peeraddr_parse(const msgpack_object *o, struct peeraddr *out, struct agah_why *why);
/* Appends e as one msgpack array. 0 or AGAH_ETOOBIG. */
int peeraddr_pack(msgpack_packer *pk, const struct peeraddr *e);

#endif

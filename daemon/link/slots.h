/* Layer link/: one peer connection (its socket, queues, flow control and
 * connection slot); it speaks wire/ and knows nothing of the overlay. */
/* Who gets a connection slot (issue 24): the rule agahd applies to each
 * connection it accepts, as a pure function of the connections already
 * accepted, so that it can be tested without sockets. net.c keeps dials
 * apart (they have slots of their own) and applies what this decides.
 * The numbers are in proto/PROTOCOL.md, "Overlay and limits". */
#ifndef AGAH_SLOTS_H
#define AGAH_SLOTS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define SLOTS_IN_MAX 48       /* accepted connections, any state */
#define SLOTS_PER_IP 8        /* accepted from one address, any state */
#define SLOTS_UNAUTH_MAX 16   /* accepted, handshake not done */
#define SLOTS_UNAUTH_PER_IP 4 /* of those, from one address */
#define SLOTS_UNAUTH_PER_PFX 8 /* of those, from one /24 (IPv4) or /56 (IPv6) */
#define SLOTS_SCAN_MAX 256    /* connections slots_admit looks at */

/* One accepted connection as the rule sees it. */
struct slot {
    uint8_t ip[16];  /* IPv4 as the mapped ::ffff:a.b.c.d */
    uint64_t serial; /* arrival order: lower is older */
    uint8_t v4;      /* IPv4 or IPv4-mapped */
    uint8_t exempt;  /* 127.0.0.1 or ::1: no per-address or per-prefix cap */
    uint8_t authed;  /* the handshake is done */
    uint8_t got_m1;  /* a valid M1 came (it holds the network secret) */
    uint8_t evict;   /* set by slots_admit: 0, or which cap evicts it (1...) */
};

/* Fills ip, v4 and exempt from a peer's address (AF_INET or AF_INET6);
 * anything else leaves them zero. */
void slots_addr(struct slot *s, const struct sockaddr *sa);
/* Makes room for `nw` among the n connections already accepted in `all`
 * (nw is not one of them; n at most SLOTS_SCAN_MAX): each cap in turn, and
 * while one is reached, the oldest connection within it that is still in
 * the handshake, one without a valid M1 first, is marked for eviction (its
 * `evict` names the cap). 0 when nw may stay once the marked ones are
 * closed; AGAH_ETOOBIG when it must be refused because authenticated links
 * hold the slots (then nothing is marked). *why (may be NULL) says which
 * cap decided, for the log. */
int slots_admit(struct slot *all, size_t n, const struct slot *nw, const char **why);
/* What an `evict` value means, for the log. */
const char *slots_why(uint8_t evict);

#endif

/* Peer addresses, "host:port": the one parser that join codes, the
 * community file, `agah peer add`, `agahd --listen/--peer`, the control
 * socket and PEERS messages all use, so an address one part accepts is an
 * address every other part accepts. Codec only: no I/O, no DNS. */
#ifndef AGAH_ADDR_H
#define AGAH_ADDR_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"

/* "host:port" including the NUL: room for a v3 onion name (62 characters)
 * and a port. */
#define AGAH_ADDR_MAX 80

enum agah_addr_kind {
    AGAH_ADDR_IPV4 = 1,  /* dotted quad, as inet_pton reads it */
    AGAH_ADDR_IPV6 = 2,  /* written in brackets: [2001:db8::1]:7433 */
    AGAH_ADDR_NAME = 3,  /* a DNS name: labels of letters, digits and '-' */
    AGAH_ADDR_ONION = 4, /* a v3 onion service: 56 base32 characters + ".onion" */
};

struct agah_addr {
    char host[AGAH_ADDR_MAX]; /* without the brackets of an IPv6 address */
    uint16_t port;            /* 1-65535 */
    int kind;                 /* enum agah_addr_kind */
};

/* Parses `len` bytes of "host:port" (no NUL needed, none allowed inside).
 * The port is 1 to 5 decimal digits without a leading zero, 1-65535. An
 * IPv6 host is in brackets; a host of digits and dots only must be a valid
 * IPv4 address; a name has labels of 1-63 letters, digits and '-' (not at
 * either end), 253 characters at most; a name ending in ".onion" must be a
 * v3 onion name (lower case). 0 and *out (may be NULL), or AGAH_EINVAL
 * with the reason in `why`. */
int agah_addr_parse(const char *s, size_t len, struct agah_addr *out, struct agah_why *why);

/* Writes the address back as "host:port" ("[host]:port" for IPv6): what
 * agah_addr_parse reads. 0, or AGAH_ETOOBIG if it does not fit. */
int agah_addr_format(const struct agah_addr *a, char out[AGAH_ADDR_MAX]);

/* 1 if `s` is a valid address whose host is an IP address (no DNS lookup
 * needed to dial it), else 0. */
int agah_addr_numeric(const char *s);

/* 1 if the host names every interface ("0.0.0.0", "[::]"): an address to
 * listen on, not one another machine can dial. */
int agah_addr_wildcard(const struct agah_addr *a);

#endif

/* Signed address announcements: the statement a node signs about its own
 * listen address, its strict decoder and its check (peeraddr.h). */
#include <string.h>
#include <sodium.h>
#include <agah/mp.h>
#include <agah/agah.h>
#include "peeraddr.h"

#define PEERADDR_MSG_MAX (sizeof PEERADDR_CTX - 1 + AGAH_HASH_LEN + AGAH_PK_LEN + 8 + AGAH_ADDR_MAX)

/* The signed bytes: context || community || pk || expires (BE) || addr. */
static size_t peeraddr__msg(const uint8_t community[AGAH_HASH_LEN], const uint8_t pk[AGAH_PK_LEN],
                            uint64_t expires, const char *addr, uint8_t out[PEERADDR_MSG_MAX])
{
    size_t n = 0, alen = strlen(addr);

    memcpy(out, PEERADDR_CTX, sizeof PEERADDR_CTX - 1);
    n += sizeof PEERADDR_CTX - 1;
    memcpy(out + n, community, AGAH_HASH_LEN);
    n += AGAH_HASH_LEN;
    memcpy(out + n, pk, AGAH_PK_LEN);
    n += AGAH_PK_LEN;
    for (int i = 7; i >= 0; i--)
        out[n++] = (uint8_t)(expires >> (8 * i));
    memcpy(out + n, addr, alen); /* alen < AGAH_ADDR_MAX: agah_addr_parse */
    return n + alen;
}

int peeraddr_sign(const struct agah_identity *id, const uint8_t community[AGAH_HASH_LEN],
                  const char *addr, uint64_t expires, struct peeraddr *out)
{
    uint8_t msg[PEERADDR_MSG_MAX];
    size_t n;

    if (addr == NULL || agah_addr_parse(addr, strlen(addr), NULL, NULL) != 0)
        return AGAH_EINVAL;
    memset(out, 0, sizeof *out);
    memcpy(out->addr, addr, strlen(addr) + 1);
    memcpy(out->pk, agah_identity_pk(id), AGAH_PK_LEN);
    out->expires = expires;
    n = peeraddr__msg(community, out->pk, expires, addr, msg);
    agah_identity_sign(id, msg, n, out->sig);
    return 0;
}

int peeraddr_verify(const struct peeraddr *e, const uint8_t community[AGAH_HASH_LEN],
                    uint64_t now)
{
    uint8_t msg[PEERADDR_MSG_MAX];
    size_t n;
    const char *z = memchr(e->addr, '\0', sizeof e->addr);

    if (z == NULL || agah_addr_parse(e->addr, (size_t)(z - e->addr), NULL, NULL) != 0)
        return AGAH_EVALUE;
    if (e->expires <= now)
        return AGAH_EEXPIRED;
    if (e->expires - now > (uint64_t)PEERADDR_TTL_S + PEERADDR_SKEW_S)
        return AGAH_EVALUE;
    n = peeraddr__msg(community, e->pk, e->expires, e->addr, msg);
    return agah_sig_verify(e->pk, msg, n, e->sig) == 0 ? 0 : AGAH_ESIG;
}

int peeraddr_parse(const msgpack_object *o, struct peeraddr *out, struct agah_why *why)
{
    const msgpack_object *f;
    const char *s;
    size_t n;
    int r;

    if ((r = agah_mp_array(o, "peer entry", 4, why)) != 0)
        return r;
    f = o->via.array.ptr;
    memset(out, 0, sizeof *out);
    if ((r = agah_mp_str(&f[0], "peer address", AGAH_ADDR_MAX - 1, &s, &n, why)) != 0)
        return r;
    if (agah_addr_parse(s, n, NULL, NULL) != 0)
        return agah_fail(why, AGAH_EVALUE, "peer address: not host:port");
    memcpy(out->addr, s, n);
    out->addr[n] = '\0';
    if ((r = agah_mp_bin_exact(&f[1], "peer key", AGAH_PK_LEN, out->pk, why)) != 0 ||
        (r = agah_mp_uint(&f[2], "peer expires", UINT64_MAX, &out->expires, why)) != 0 ||
        (r = agah_mp_bin_exact(&f[3], "peer signature", AGAH_SIG_LEN, out->sig, why)) != 0)
        return r;
    return 0;
}

int peeraddr_pack(msgpack_packer *pk, const struct peeraddr *e)
{
    size_t n = strlen(e->addr);

    if (msgpack_pack_array(pk, 4) != 0 || msgpack_pack_str(pk, n) != 0 ||
        msgpack_pack_str_body(pk, e->addr, n) != 0 || msgpack_pack_bin(pk, AGAH_PK_LEN) != 0 ||
        msgpack_pack_bin_body(pk, e->pk, AGAH_PK_LEN) != 0 ||
        msgpack_pack_uint64(pk, e->expires) != 0 || msgpack_pack_bin(pk, AGAH_SIG_LEN) != 0 ||
        msgpack_pack_bin_body(pk, e->sig, AGAH_SIG_LEN) != 0)
        return AGAH_ETOOBIG;
    return 0;
}

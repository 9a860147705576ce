/* Signed address announcements (daemon/wire/peeraddr.c): a statement verifies
 * only for the key, address, expiry and community it was signed for; it is
 * refused once expired and when dated too far ahead; the decoder refuses
 * every wrong shape; encode and decode round-trip. */
#include <stdio.h>
#include <string.h>
#include <sodium.h>
#include <agah/agah.h>
#include "gossip.h"
#include "peeraddr.h"

#include "check.h"

#define NOW 1800000000u

static const uint8_t cid[AGAH_HASH_LEN] = {1, 2, 3};

static void test_sign_verify(void)
{
    struct agah_identity *id = NULL, *other = NULL;
    struct peeraddr e, t;
    uint8_t cid2[AGAH_HASH_LEN] = {9};

    CHECK(agah_identity_generate(&id) == 0 && agah_identity_generate(&other) == 0);
    CHECK(peeraddr_sign(id, cid, "127.0.0.1:7433", NOW + 3600, &e) == 0);
    CHECK(memcmp(e.pk, agah_identity_pk(id), AGAH_PK_LEN) == 0 && e.expires == NOW + 3600);
    CHECK(peeraddr_verify(&e, cid, NOW) == 0);
    /* Another community: the same statement means nothing there. */
    CHECK(peeraddr_verify(&e, cid2, NOW) == AGAH_ESIG);
    /* Each signed field, changed. */
    t = e;
    (void)snprintf(t.addr, sizeof t.addr, "127.0.0.2:7433");
    CHECK(peeraddr_verify(&t, cid, NOW) == AGAH_ESIG);
    t = e;
    t.expires++;
    CHECK(peeraddr_verify(&t, cid, NOW) == AGAH_ESIG);
    t = e;
    memcpy(t.pk, agah_identity_pk(other), AGAH_PK_LEN); /* a claim of id's address */
    CHECK(peeraddr_verify(&t, cid, NOW) == AGAH_ESIG);
    t = e;
    t.sig[10] ^= 1;
    CHECK(peeraddr_verify(&t, cid, NOW) == AGAH_ESIG);
    /* Time: expired at its expiry, and too far ahead past TTL + skew. */
    CHECK(peeraddr_verify(&e, cid, NOW + 3600) == AGAH_EEXPIRED);
    CHECK(peeraddr_verify(&e, cid, NOW + 3599) == 0);
    CHECK(peeraddr_sign(id, cid, "10.0.0.1:1", NOW + PEERADDR_TTL_S + PEERADDR_SKEW_S, &t) == 0 &&
          peeraddr_verify(&t, cid, NOW) == 0);
    CHECK(peeraddr_sign(id, cid, "10.0.0.1:1", NOW + PEERADDR_TTL_S + PEERADDR_SKEW_S + 1,
                        &t) == 0 &&
          peeraddr_verify(&t, cid, NOW) == AGAH_EVALUE);
    CHECK(peeraddr_sign(id, cid, "10.0.0.1:1", UINT64_MAX, &t) == 0 &&
          peeraddr_verify(&t, cid, NOW) == AGAH_EVALUE);
    /* Addresses that are not host:port are neither signed nor taken. */
    CHECK(peeraddr_sign(id, cid, "no-port", NOW + 1, &t) == AGAH_EINVAL);
    t = e;
    memset(t.addr, 'a', sizeof t.addr); /* no NUL */
    CHECK(peeraddr_verify(&t, cid, NOW) == AGAH_EVALUE);
    agah_identity_free(id);
    agah_identity_free(other);
}

/* Encodes a one-entry PEERS around `entry` (raw msgpack) and decodes it. */
static int decode_raw(const uint8_t *entry, size_t n)
{
    uint8_t buf[512];
    msgpack_unpacked u;
    struct gossip_msg m;
    struct agah_why why = {{0}};
    int r;

    buf[0] = 0x92; /* [6, [entry]] */
    buf[1] = 0x06;
    buf[2] = 0x91;
    memcpy(buf + 3, entry, n);
    msgpack_unpacked_init(&u);
    r = gossip_decode(buf, n + 3, &u, &m, &why);
    msgpack_unpacked_destroy(&u);
    return r;
}

static size_t put_entry(uint8_t *p, const char *addr, size_t pklen, int exp_type, size_t siglen,
                        unsigned fields)
{
    size_t n = 0, al = strlen(addr);

    p[n++] = (uint8_t)(0x90 | fields);
    p[n++] = (uint8_t)(0xa0 | al);
    memcpy(p + n, addr, al);
    n += al;
    p[n++] = 0xc4;
    p[n++] = (uint8_t)pklen;
    memset(p + n, 7, pklen);
    n += pklen;
    if (exp_type == 0) {
        p[n++] = 0x05; /* uint 5 */
    } else {
        p[n++] = 0xa1; /* a string */
        p[n++] = 'x';
    }
    p[n++] = 0xc4;
    p[n++] = (uint8_t)siglen;
    memset(p + n, 8, siglen);
    n += siglen;
    return n;
}

static void test_decode(void)
{
    uint8_t e[256], buf[4096];
    struct peeraddr pe[GOSSIP_PEERS_MAX], back;
    msgpack_unpacked u;
    struct gossip_msg m;
    struct agah_why why = {{0}};
    struct agah_identity *id = NULL;
    size_t n, len;

    CHECK((n = put_entry(e, "1.2.3.4:5", 32, 0, 64, 4)) > 0 && decode_raw(e, n) == 0);
    CHECK((n = put_entry(e, "1.2.3.4", 32, 0, 64, 4)) > 0 && decode_raw(e, n) == AGAH_EVALUE);
    CHECK((n = put_entry(e, "1.2.3.4:5", 31, 0, 64, 4)) > 0 && decode_raw(e, n) != 0);
    CHECK((n = put_entry(e, "1.2.3.4:5", 32, 1, 64, 4)) > 0 && decode_raw(e, n) != 0);
    CHECK((n = put_entry(e, "1.2.3.4:5", 32, 0, 63, 4)) > 0 && decode_raw(e, n) != 0);
    CHECK((n = put_entry(e, "1.2.3.4:5", 32, 0, 64, 5)) > 0 && decode_raw(e, n) != 0);
    CHECK((n = put_entry(e, "1.2.3.4:5", 32, 0, 64, 3)) > 0 && decode_raw(e, n) != 0);
    /* A bare address, as PEERS carried before: refused. */
    CHECK(decode_raw((const uint8_t *)"\xa9" "1.2.3.4:5", 10) == AGAH_ETYPE);
    /* Round trip of a full message of signed entries. */
    CHECK(agah_identity_generate(&id) == 0);
    for (size_t i = 0; i < GOSSIP_PEERS_MAX; i++) {
        char a[AGAH_ADDR_MAX];

        (void)snprintf(a, sizeof a, "[fe80::%zx]:%zu", i + 1, 1000 + i);
        CHECK(peeraddr_sign(id, cid, a, NOW + 1 + i, &pe[i]) == 0);
    }
    CHECK(gossip_enc_peers(pe, GOSSIP_PEERS_MAX, buf, sizeof buf, &len) == 0);
    msgpack_unpacked_init(&u);
    CHECKF(gossip_decode(buf, len, &u, &m, &why) == 0 && m.n_entries == GOSSIP_PEERS_MAX,
           "%s", why.msg);
    for (size_t i = 0; i < m.n_entries; i++)
        CHECK(peeraddr_parse(&m.entries[i], &back, NULL) == 0 &&
              memcmp(&back, &pe[i], sizeof back) == 0 && peeraddr_verify(&back, cid, NOW) == 0);
    msgpack_unpacked_destroy(&u);
    /* 33 entries: refused by the decoder, whatever they say. */
    {
        msgpack_sbuffer sb;
        msgpack_packer pk;

        msgpack_sbuffer_init(&sb);
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        CHECK(msgpack_pack_array(&pk, 2) == 0 && msgpack_pack_uint64(&pk, GOSSIP_PEERS) == 0 &&
              msgpack_pack_array(&pk, GOSSIP_PEERS_MAX + 1) == 0);
        for (size_t i = 0; i <= GOSSIP_PEERS_MAX; i++)
            CHECK(peeraddr_pack(&pk, &pe[i % GOSSIP_PEERS_MAX]) == 0);
        msgpack_unpacked_init(&u);
        CHECK(gossip_decode((const uint8_t *)sb.data, sb.size, &u, &m, &why) == AGAH_ETOOBIG);
        msgpack_unpacked_destroy(&u);
        msgpack_sbuffer_destroy(&sb);
    }
    agah_identity_free(id);
}

int main(void)
{
    if (agah_init() != 0)
        return 2;
    test_sign_verify();
    test_decode();
    printf("test_peeraddr: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}

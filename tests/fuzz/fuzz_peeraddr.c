/* libFuzzer target for one PEERS entry (daemon/wire/peeraddr.c), as a hostile
 * member would send it: the bytes are unpacked as canonical msgpack, the
 * entry decoded strictly, re-encoded (which must give the same bytes back)
 * and checked, signature and time window, against a fixed community and
 * clock. The first 8 bytes of the input are the clock. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <agah/agah.h>
#include <agah/mp.h>
#include "peeraddr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t cid[AGAH_HASH_LEN] = {7};
    uint8_t back[256];
    struct agah_mp_fixbuf fb = {back, 0, sizeof back};
    msgpack_packer pk;
    msgpack_unpacked u;
    struct peeraddr e;
    uint64_t now = 0;
    int r;

    if (size < 8)
        return 0;
    for (int i = 0; i < 8; i++)
        now = now << 8 | data[i];
    data += 8;
    size -= 8;
    msgpack_unpacked_init(&u);
    if (agah_mp_unpack(data, size, 1, &u, NULL) == 0 && peeraddr_parse(&u.data, &e, NULL) == 0) {
        msgpack_packer_init(&pk, &fb, agah_mp_fixbuf_write);
        if (peeraddr_pack(&pk, &e) != 0 || fb.len != size || memcmp(back, data, size) != 0)
            abort();
        r = peeraddr_verify(&e, cid, now);
        if (r != 0 && r != AGAH_ESIG && r != AGAH_EEXPIRED && r != AGAH_EVALUE)
            abort();
    }
    msgpack_unpacked_destroy(&u);
    return 0;
}

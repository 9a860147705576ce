/* Join codes: one copy-pasteable line an organiser hands a new member in
 * person. It carries everything needed to join (community id and name, the
 * network secret, the genesis record and the invitee's admission record, the
 * inviter's own admission, the epoch keys the invitee may read, bootstrap
 * peer addresses, an expiry), signed by the inviting organiser (the author
 * of the admission), sealed to the invitee's key so it is useless to anyone
 * else, and checksummed so a typo is reported as a typo.
 *   "agah1-" || base64url(sealed || checksum4), checksum = BLAKE2b-32 of sealed.
 * The seal only says who may read a code, not who made it: anyone who knows
 * a member id can seal a look-alike community to it. The signature names the
 * inviter, whose member id the newcomer compares in person. */
#ifndef AGAH_JOINCODE_H
#define AGAH_JOINCODE_H

#include "addr.h"
#include <stddef.h>
#include <stdint.h>
#include "error.h"
#include "keys.h"
#include "record.h"

#define AGAH_JOIN_MAX_EPOCHS 64
#define AGAH_JOIN_MAX_PEERS 8
#define AGAH_JOINCODE_MAX 16384 /* characters */
#define AGAH_JOIN_VERSION 2     /* the payload version this agah writes and reads */

struct agah_join {
    uint8_t community[AGAH_HASH_LEN];
    uint8_t network_secret[32];
    uint64_t expires; /* Unix seconds; refused from that second on; 0 = never */
    /* Genesis record bytes and the invitee's admission record bytes. In a
     * struct from agah_join_decode they are malloc'd and owned by it
     * (agah_join_free frees them); agah_join_encode only reads them. */
    uint8_t *genesis; size_t genesis_len;
    uint8_t *admission; size_t admission_len;
    size_t n_epochs; /* relays get none */
    struct { uint8_t id[AGAH_HASH_LEN]; uint8_t key[AGAH_KEY_LEN]; } epochs[AGAH_JOIN_MAX_EPOCHS];
    size_t n_peers;
    char peers[AGAH_JOIN_MAX_PEERS][AGAH_ADDR_MAX];
    /* The inviter's own admission record (its latest valid one, which gives
     * its name), NULL and 0 when the inviter is the founder, whose name is in
     * the genesis record. Owned as genesis and admission are. */
    uint8_t *inviter_admission; size_t inviter_admission_len;
    /* Filled by agah_join_decode only, from what it verified: the key that
     * signed the code (the admission's author), the inviter's name (the
     * founder's from genesis, else from inviter_admission) and the
     * community's name (from genesis). Ignored by agah_join_encode. */
    uint8_t inviter[AGAH_PK_LEN];
    char inviter_name[AGAH_NAME_MAX + 1];
    char community_name[AGAH_NAME_MAX + 1];
};

/* Encodes j, signs it with `inviter` (which must be the author of
 * j->admission: AGAH_EINVAL otherwise, so no code is made that its reader
 * would refuse) and seals it to invitee_pk. *out is a malloc'd
 * NUL-terminated line the caller frees. */
int agah_join_encode(const struct agah_join *j, const struct agah_identity *inviter,
                     const uint8_t invitee_pk[AGAH_PK_LEN], char **out);
/* Opens a code with `me`: AGAH_ECHECKSUM (typo), AGAH_ECRYPTO (not for this
 * identity), AGAH_EVERSION (a version-1 code, or an unknown version),
 * AGAH_ESIG (the signature does not verify), AGAH_EPERM (signed by a key
 * other than the admission's author), AGAH_EEXPIRED (expired at `now`),
 * strict decoding otherwise. The records inside are checked with
 * agah_rec_decode. *out is heap-allocated in sodium memory; free with
 * agah_join_free (wipes the secrets). */
int agah_join_decode(const char *code, const struct agah_identity *me, uint64_t now,
                     struct agah_join **out, struct agah_why *why);
void agah_join_free(struct agah_join *j);

#endif

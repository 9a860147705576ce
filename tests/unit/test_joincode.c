/* Unit tests for join codes (proto/joincode.c): round trips, the order of
 * the checks (typo before cryptography, cryptography before parsing, the
 * signature before the payload), and every refusal a user or an attacker
 * can reach.
 *   test_joincode --corpus DIR   also writes the fuzz target's seeds
 *                                (tests/fuzz/corpus/fuzz_joincode) to DIR. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <msgpack.h>
#include <sodium.h>
#include <agah/agah.h>
#include "../../proto/joincode_internal.h"

#include "check.h"

#define NOW 1800000000u /* also the fuzz target's FUZZ_NOW */

static struct agah_identity *founder, *invitee, *other, *org;
static uint8_t *genesis, *adm, *adm_other, *adm_expired, *adm_org, *adm_by_org, *adm_org_member;
static size_t genesis_len, adm_len, adm_other_len, adm_expired_len, adm_org_len, adm_by_org_len,
    adm_org_member_len;
static uint8_t community[AGAH_HASH_LEN];

/* The fuzz target's identities: the invitee ("me") from seed 42 42 ...,
 * the founder from 43 43 ...; random ones otherwise. */
static int make_identity(int seed_byte, struct agah_identity **out)
{
    uint8_t seed[AGAH_SEED_LEN];
    if (seed_byte < 0)
        return agah_identity_generate(out);
    memset(seed, seed_byte, sizeof seed);
    return agah_identity_from_seed(seed, out);
}

static int setup(int fuzz_ids)
{
    if (make_identity(fuzz_ids ? 0x43 : -1, &founder) != 0 ||
        make_identity(fuzz_ids ? 0x42 : -1, &invitee) != 0 ||
        agah_identity_generate(&other) != 0 || agah_identity_generate(&org) != 0)
        return -1;
    if (agah_rec_genesis(founder, TEST_GKEY, "Istanbul", "Founder", NOW - 100, &genesis, &genesis_len) != 0)
        return -1;
    agah_hash(genesis, genesis_len, community);
    if (agah_rec_admission(founder, community, agah_identity_pk(invitee), AGAH_ROLE_MEMBER,
                           "Alice", TEST_EID, TEST_EKEY, NOW - 10, 0, &adm, &adm_len) != 0 ||
        agah_rec_admission(founder, community, agah_identity_pk(other), AGAH_ROLE_MEMBER, "Bob", TEST_EID, TEST_EKEY,
                           NOW - 10, 0, &adm_other, &adm_other_len) != 0 ||
        agah_rec_admission(founder, community, agah_identity_pk(invitee), AGAH_ROLE_MEMBER,
                           "Alice", TEST_EID, TEST_EKEY, NOW - 10, NOW - 1, &adm_expired, &adm_expired_len) != 0)
        return -1;
    /* A second organiser, Olga, who admits the invitee herself; and a
     * member-only admission of her key. */
    if (agah_rec_admission(founder, community, agah_identity_pk(org), AGAH_ROLE_ORGANISER, "Olga", TEST_EID, TEST_EKEY,
                           NOW - 50, 0, &adm_org, &adm_org_len) != 0 ||
        agah_rec_admission(org, community, agah_identity_pk(invitee), AGAH_ROLE_MEMBER, "Alice", TEST_EID, TEST_EKEY,
                           NOW - 10, 0, &adm_by_org, &adm_by_org_len) != 0 ||
        agah_rec_admission(founder, community, agah_identity_pk(org), AGAH_ROLE_MEMBER, "Olga", TEST_EID, TEST_EKEY,
                           NOW - 50, 0, &adm_org_member, &adm_org_member_len) != 0)
        return -1;
    return 0;
}

/* A complete join for the invitee: 3 keys (the genesis key, the epoch the
 * admissions' names are under, a random one), 2 peers. */
static void make_join(struct agah_join *j)
{
    memset(j, 0, sizeof *j);
    memcpy(j->community, community, sizeof community);
    randombytes_buf(j->network_secret, sizeof j->network_secret);
    j->expires = NOW + 7 * 86400;
    j->genesis = genesis;
    j->genesis_len = genesis_len;
    j->admission = adm;
    j->admission_len = adm_len;
    j->n_epochs = 3;
    memcpy(j->epochs[0].id, community, AGAH_HASH_LEN);
    memcpy(j->epochs[0].key, TEST_GKEY, AGAH_KEY_LEN);
    memcpy(j->epochs[1].id, TEST_EID, AGAH_HASH_LEN);
    memcpy(j->epochs[1].key, TEST_EKEY, AGAH_KEY_LEN);
    randombytes_buf(j->epochs[2].id, AGAH_HASH_LEN);
    randombytes_buf(j->epochs[2].key, AGAH_KEY_LEN);
    j->n_peers = 2;
    strcpy(j->peers[0], "192.0.2.7:7433");
    strcpy(j->peers[1], "[2001:db8::1]:7433");
}

static int same_join(const struct agah_join *a, const struct agah_join *b)
{
    if (memcmp(a->community, b->community, AGAH_HASH_LEN) != 0 ||
        memcmp(a->network_secret, b->network_secret, 32) != 0 || a->expires != b->expires ||
        a->genesis_len != b->genesis_len || memcmp(a->genesis, b->genesis, a->genesis_len) != 0 ||
        a->admission_len != b->admission_len ||
        memcmp(a->admission, b->admission, a->admission_len) != 0 ||
        a->inviter_admission_len != b->inviter_admission_len ||
        (a->inviter_admission_len > 0 &&
         memcmp(a->inviter_admission, b->inviter_admission, a->inviter_admission_len) != 0) ||
        a->n_epochs != b->n_epochs || a->n_peers != b->n_peers)
        return 0;
    for (size_t i = 0; i < a->n_epochs; i++)
        if (memcmp(a->epochs[i].id, b->epochs[i].id, AGAH_HASH_LEN) != 0 ||
            memcmp(a->epochs[i].key, b->epochs[i].key, AGAH_KEY_LEN) != 0)
            return 0;
    for (size_t i = 0; i < a->n_peers; i++)
        if (strcmp(a->peers[i], b->peers[i]) != 0)
            return 0;
    return 1;
}

/* Decodes with the invitee at NOW and returns the code; frees any result. */
static int try_decode(const char *code, const struct agah_identity *me, uint64_t now,
                      struct agah_why *why)
{
    struct agah_join *got = NULL;
    int r = agah_join_decode(code, me, now, &got, why);
    if (r != 0 && got != NULL)
        r = 999; /* an error must hand nothing out */
    agah_join_free(got);
    return r;
}

static void test_round_trip(void)
{
    struct agah_join j, *got = NULL;
    struct agah_why why = {{0}};
    char *code = NULL;

    make_join(&j);
    CHECK(agah_join_encode(&j, founder, agah_identity_pk(invitee), &code) == 0);
    CHECK(code != NULL && strncmp(code, "agah1-", 6) == 0);
    CHECK(code != NULL && strlen(code) <= AGAH_JOINCODE_MAX);
    CHECK(code != NULL && strspn(code + 6, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                           "0123456789-_") == strlen(code) - 6);
    if (code == NULL)
        return;
    CHECK(agah_join_decode(code, invitee, NOW, &got, &why) == 0);
    CHECK(got != NULL && same_join(&j, got));
    /* What `agah join` shows the newcomer comes from what was verified. */
    CHECK(got != NULL && memcmp(got->inviter, agah_identity_pk(founder), AGAH_PK_LEN) == 0);
    CHECK(got != NULL && strcmp(got->inviter_name, "Founder") == 0);
    CHECK(got != NULL && strcmp(got->community_name, "Istanbul") == 0);
    agah_join_free(got);
    got = NULL;
    free(code);
    code = NULL;
    /* A relay's code carries no key: it opens no name (record version 3
     * keeps names from relays), and the ids still identify everything. */
    j.n_epochs = 0;
    CHECK(agah_join_encode(&j, founder, agah_identity_pk(invitee), &code) == 0);
    CHECK(code != NULL && agah_join_decode(code, invitee, NOW, &got, &why) == 0);
    CHECK(got != NULL && got->community_name[0] == '\0' && got->inviter_name[0] == '\0');
    agah_join_free(got);
    got = NULL;

    /* Pasted with a line break and indentation, it still opens. */
    {
        size_t n = strlen(code);
        char *wrapped = malloc(n + 4);
        if (wrapped != NULL) {
            memcpy(wrapped, code, 40);
            memcpy(wrapped + 40, "\n  ", 3);
            memcpy(wrapped + 43, code + 40, n - 40 + 1);
            CHECK(try_decode(wrapped, invitee, NOW, NULL) == 0);
            free(wrapped);
        }
    }

    /* Anyone else: the sealed box does not open. */
    memset(&why, 0, sizeof why);
    CHECK(try_decode(code, other, NOW, &why) == AGAH_ECRYPTO);
    CHECK(strcmp(why.msg, "this code was made for another identity") == 0);
    CHECK(try_decode(code, founder, NOW, NULL) == AGAH_ECRYPTO);

    /* Expiry: valid up to the second before, refused from that second on. */
    CHECK(try_decode(code, invitee, j.expires - 1, NULL) == 0);
    memset(&why, 0, sizeof why);
    CHECK(try_decode(code, invitee, j.expires, &why) == AGAH_EEXPIRED);
    CHECK(strstr(why.msg, "expired") != NULL);
    CHECK(try_decode(code, invitee, UINT64_MAX, NULL) == AGAH_EEXPIRED);
    free(code);

    /* A relay's code: no epochs, no peers, no expiry (0 = never). */
    make_join(&j);
    j.n_epochs = 0;
    j.n_peers = 0;
    j.expires = 0;
    code = NULL;
    CHECK(agah_join_encode(&j, founder, agah_identity_pk(invitee), &code) == 0);
    got = NULL;
    CHECK(code != NULL && agah_join_decode(code, invitee, UINT64_MAX, &got, NULL) == 0);
    CHECK(got != NULL && same_join(&j, got) && got->n_epochs == 0 && got->n_peers == 0);
    agah_join_free(got);
    free(code);

    /* The largest join the header allows still fits in a code. */
    make_join(&j);
    j.n_epochs = AGAH_JOIN_MAX_EPOCHS;
    j.n_peers = AGAH_JOIN_MAX_PEERS;
    for (size_t i = 0; i < j.n_peers; i++) {
        memset(j.peers[i], 'h', AGAH_ADDR_MAX - 6);
        j.peers[i][40] = '.'; /* a name's labels are 63 characters at most */
        strcpy(j.peers[i] + AGAH_ADDR_MAX - 6, ":7433");
    }
    code = NULL;
    got = NULL;
    CHECK(agah_join_encode(&j, founder, agah_identity_pk(invitee), &code) == 0);
    CHECK(code != NULL && agah_join_decode(code, invitee, NOW, &got, NULL) == 0);
    CHECK(got != NULL && same_join(&j, got));
    agah_join_free(got);
    free(code);
}

static void test_typos(void)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    struct agah_join j;
    struct agah_why why = {{0}};
    char *code = NULL, *bad;
    size_t n;
    int all_checksum = 1;

    make_join(&j);
    CHECK(agah_join_encode(&j, founder, agah_identity_pk(invitee), &code) == 0);
    if (code == NULL)
        return;
    n = strlen(code);
    bad = malloc(n + 2);
    if (bad == NULL) {
        free(code);
        return;
    }
    /* One mistyped character anywhere after the prefix: a typo, reported as
     * such, before any decryption is tried. */
    for (size_t i = 6; i < n; i++) {
        const char *pos = strchr(alphabet, code[i]);
        memcpy(bad, code, n + 1);
        bad[i] = alphabet[(size_t)(pos - alphabet + 1) % 64];
        if (try_decode(bad, invitee, NOW, NULL) != AGAH_ECHECKSUM)
            all_checksum = 0;
    }
    CHECK(all_checksum);
    memcpy(bad, code, n + 1);
    bad[n / 2] = '!';
    CHECK(try_decode(bad, invitee, NOW, &why) == AGAH_ECHECKSUM);
    CHECK(strcmp(why.msg, "the code is damaged or mistyped") == 0);
    /* A character dropped, one added. */
    memcpy(bad, code, n / 2);
    memcpy(bad + n / 2, code + n / 2 + 1, n - n / 2);
    CHECK(try_decode(bad, invitee, NOW, NULL) == AGAH_ECHECKSUM);
    memcpy(bad, code, n + 1);
    bad[n] = 'A';
    bad[n + 1] = '\0';
    CHECK(try_decode(bad, invitee, NOW, NULL) == AGAH_ECHECKSUM);
    /* Cut short. */
    CHECK(try_decode("agah1-", invitee, NOW, NULL) == AGAH_ECHECKSUM);
    CHECK(try_decode("agah1-AAAA", invitee, NOW, NULL) == AGAH_ECHECKSUM);
    /* Not a join code at all. */
    memcpy(bad, code, n + 1);
    bad[4] = '2';
    CHECK(try_decode(bad, invitee, NOW, NULL) == AGAH_EINVAL);
    CHECK(try_decode("", invitee, NOW, NULL) == AGAH_EINVAL);
    CHECK(try_decode(code + 1, invitee, NOW, NULL) == AGAH_EINVAL);
    free(bad);
    free(code);

    /* Longer than any code can be: refused before anything else. */
    bad = malloc(AGAH_JOINCODE_MAX + 2);
    if (bad != NULL) {
        memset(bad, 'A', AGAH_JOINCODE_MAX + 1);
        memcpy(bad, "agah1-", 6);
        bad[AGAH_JOINCODE_MAX + 1] = '\0';
        CHECK(try_decode(bad, invitee, NOW, NULL) == AGAH_ETOOBIG);
        free(bad);
    }
}

/* Encodes, signs with `signer` (whoever it is) and seals to the invitee,
 * without the encoder's check that the signer made the admission: what an
 * attacker can make. */
static int raw_code(const struct agah_join *j, const struct agah_identity *signer, char **code)
{
    struct agah_mp_fixbuf payload = {0}, plain = {0};
    int r = agah_join__encode_plain(j, &payload);
    if (r == 0)
        r = agah_join__wrap(signer, payload.p, payload.len, &plain);
    if (r == 0)
        r = agah_join__seal(plain.p, plain.len, agah_identity_pk(invitee), code);
    agah_secbuf_free(&payload);
    agah_secbuf_free(&plain);
    return r;
}

/* Builds a join by hand so the records inside can be wrong. */
static int code_with(const uint8_t *g, size_t glen, const uint8_t *a, size_t alen,
                     const uint8_t comm[32], char **code)
{
    struct agah_join j;

    make_join(&j);
    j.genesis = (uint8_t *)g;
    j.genesis_len = glen;
    j.admission = (uint8_t *)a;
    j.admission_len = alen;
    memcpy(j.community, comm, 32);
    return raw_code(&j, founder, code);
}

static void test_records(void)
{
    struct agah_why why = {{0}};
    uint8_t wrong[32];
    uint8_t *g2 = NULL, *a2 = NULL;
    size_t g2_len = 0, a2_len = 0;
    uint8_t comm2[32];
    char *code = NULL;

    /* An admission of someone else, sealed to the invitee. */
    CHECK(code_with(genesis, genesis_len, adm_other, adm_other_len, community, &code) == 0);
    CHECK(code != NULL && try_decode(code, invitee, NOW, &why) == AGAH_EVALUE);
    CHECK(strstr(why.msg, "another member") != NULL);
    free(code);

    /* An admission that has itself expired. */
    code = NULL;
    CHECK(code_with(genesis, genesis_len, adm_expired, adm_expired_len, community, &code) == 0);
    CHECK(code != NULL && try_decode(code, invitee, NOW, NULL) == AGAH_EEXPIRED);
    free(code);

    /* A community id that is not the genesis record's id. */
    memcpy(wrong, community, 32);
    wrong[0] ^= 1;
    code = NULL;
    CHECK(code_with(genesis, genesis_len, adm, adm_len, wrong, &code) == 0);
    CHECK(code != NULL && try_decode(code, invitee, NOW, NULL) != 0);
    free(code);

    /* Fields swapped: an admission where the genesis belongs. */
    code = NULL;
    CHECK(code_with(adm, adm_len, genesis, genesis_len, community, &code) == 0);
    CHECK(code != NULL && try_decode(code, invitee, NOW, NULL) != 0);
    free(code);

    /* An admission from another community, with that community's genesis
     * left out. */
    CHECK(agah_rec_genesis(founder, TEST_GKEY, "Elsewhere", "Founder", NOW - 100, &g2, &g2_len) == 0);
    if (g2 != NULL) {
        agah_hash(g2, g2_len, comm2);
        CHECK(agah_rec_admission(founder, comm2, agah_identity_pk(invitee), AGAH_ROLE_MEMBER,
                                 "Alice", TEST_EID, TEST_EKEY, NOW - 10, 0, &a2, &a2_len) == 0);
        code = NULL;
        CHECK(code_with(genesis, genesis_len, a2, a2_len, community, &code) == 0);
        CHECK(code != NULL && try_decode(code, invitee, NOW, NULL) == AGAH_ECOMMUNITY);
        free(code);
    }
    free(g2);
    free(a2);

    /* A damaged record: one byte of the admission's signature. */
    {
        uint8_t *copy = malloc(adm_len);
        if (copy != NULL) {
            memcpy(copy, adm, adm_len);
            copy[adm_len - 1] ^= 0x40;
            code = NULL;
            CHECK(code_with(genesis, genesis_len, copy, adm_len, community, &code) == 0);
            CHECK(code != NULL && try_decode(code, invitee, NOW, NULL) == AGAH_ESIG);
            free(code);
            free(copy);
        }
    }
}

static void test_encode_refusals(void)
{
    struct agah_join j;
    char *code = NULL;

    make_join(&j);
    j.n_epochs = AGAH_JOIN_MAX_EPOCHS + 1;
    CHECK(agah_join_encode(&j, founder, agah_identity_pk(invitee), &code) == AGAH_EINVAL && !code);
    make_join(&j);
    j.n_peers = AGAH_JOIN_MAX_PEERS + 1;
    CHECK(agah_join_encode(&j, founder, agah_identity_pk(invitee), &code) == AGAH_EINVAL && !code);
    make_join(&j);
    strcpy(j.peers[1], "host name:1");
    CHECK(agah_join_encode(&j, founder, agah_identity_pk(invitee), &code) == AGAH_EINVAL && !code);
    make_join(&j);
    memset(j.peers[0], 'x', AGAH_ADDR_MAX); /* no NUL */
    CHECK(agah_join_encode(&j, founder, agah_identity_pk(invitee), &code) == AGAH_EINVAL && !code);
    make_join(&j);
    j.genesis = NULL;
    CHECK(agah_join_encode(&j, founder, agah_identity_pk(invitee), &code) == AGAH_EINVAL && !code);
    make_join(&j);
    j.admission_len = AGAH_REC_MAX + 1;
    CHECK(agah_join_encode(&j, founder, agah_identity_pk(invitee), &code) == AGAH_EINVAL && !code);
    make_join(&j);
    j.inviter_admission_len = 1; /* with no bytes */
    CHECK(agah_join_encode(&j, founder, agah_identity_pk(invitee), &code) == AGAH_EINVAL && !code);
    /* Only the admission's author may sign: no code the reader refuses. */
    make_join(&j);
    CHECK(agah_join_encode(&j, other, agah_identity_pk(invitee), &code) == AGAH_EINVAL && !code);
    make_join(&j);
    j.admission = genesis; /* not an admission at all */
    j.admission_len = genesis_len;
    CHECK(agah_join_encode(&j, founder, agah_identity_pk(invitee), &code) == AGAH_EINVAL && !code);
    /* A payload that would make a code longer than AGAH_JOINCODE_MAX. */
    {
        uint8_t *big = calloc(1, AGAH_JOINCODE_MAX);
        make_join(&j);
        j.inviter_admission = big;
        j.inviter_admission_len = AGAH_JOINCODE_MAX;
        CHECK(big != NULL &&
              agah_join_encode(&j, founder, agah_identity_pk(invitee), &code) == AGAH_ETOOBIG &&
              !code);
        free(big);
    }
}

/* Decodes a code for the invitee at NOW; returns the result and the
 * message in why. */
static int decode_msg(const char *code, struct agah_why *why)
{
    memset(why, 0, sizeof *why);
    return try_decode(code, invitee, NOW, why);
}

/* The plaintext of a valid code signed by the founder, with one byte
 * changed at `flip` (bytes from the end when negative), sealed. */
static char *flipped_code(long flip)
{
    struct agah_join j;
    struct agah_mp_fixbuf payload = {0}, plain = {0};
    char *code = NULL;

    make_join(&j);
    if (agah_join__encode_plain(&j, &payload) == 0 &&
        agah_join__wrap(founder, payload.p, payload.len, &plain) == 0) {
        size_t at = flip < 0 ? plain.len - (size_t)(-flip) : (size_t)flip;
        plain.p[at] ^= 0x01;
        if (agah_join__seal(plain.p, plain.len, agah_identity_pk(invitee), &code) != 0)
            code = NULL;
    }
    agah_secbuf_free(&payload);
    agah_secbuf_free(&plain);
    return code;
}

/* The signature: a look-alike community can be sealed to anyone's member
 * id, so a code counts only when signed by the organiser who admitted its
 * holder, and a version-1 code (which had no signature) is refused with a
 * message of its own. Each refusal has its own message. */
static void test_signature(void)
{
    static const char v1_msg[] =
        "this join code was made by an older agah (version 1); ask for a new code: this agah "
        "reads version 2";
    struct agah_why why;
    struct agah_join j;
    char *code;

    /* The last byte of the signature, then a byte of the payload (the
     * network secret: 32 bytes after the payload's array header and the
     * community field, counted from the wrapper's start). */
    code = flipped_code(-1);
    CHECK(code != NULL && decode_msg(code, &why) == AGAH_ESIG);
    CHECK(strstr(why.msg, "signature does not verify") != NULL);
    free(code);
    code = flipped_code(1 + 1 + 2 + 32 + 3 + 1 + 2 + 32 + 2 + 5);
    CHECK(code != NULL && decode_msg(code, &why) == AGAH_ESIG);
    CHECK(strstr(why.msg, "signature does not verify") != NULL);
    free(code);
    /* The signer field changed: the signature is checked with that key. */
    code = flipped_code(1 + 1 + 2 + 5);
    CHECK(code != NULL && decode_msg(code, &why) == AGAH_ESIG);
    free(code);

    /* A payload signed, validly, by a key other than the admission's
     * author: an insider who knows a real admission (every member sees
     * them) re-wrapping it with their own network secret or peers. */
    make_join(&j);
    code = NULL;
    CHECK(raw_code(&j, other, &code) == 0);
    CHECK(code != NULL && decode_msg(code, &why) == AGAH_EPERM);
    CHECK(strstr(why.msg, "not by the organiser who admitted you") != NULL);
    free(code);
    /* The same by another organiser of the community, with her admission. */
    make_join(&j);
    j.inviter_admission = adm_org;
    j.inviter_admission_len = adm_org_len;
    code = NULL;
    CHECK(raw_code(&j, org, &code) == 0);
    CHECK(code != NULL && decode_msg(code, &why) == AGAH_EPERM);
    free(code);

    /* A version-1 code, packed as agah 1 did: [1, community, secret,
     * expires, genesis, admission, epochs, peers], no signature. */
    {
        msgpack_sbuffer sb;
        msgpack_packer pk;
        uint8_t z[32] = {0};
        int e = 0;

        msgpack_sbuffer_init(&sb);
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        e |= msgpack_pack_array(&pk, 8);
        e |= msgpack_pack_uint64(&pk, 1);
        e |= msgpack_pack_bin(&pk, 32) | msgpack_pack_bin_body(&pk, community, 32);
        e |= msgpack_pack_bin(&pk, 32) | msgpack_pack_bin_body(&pk, z, 32);
        e |= msgpack_pack_uint64(&pk, 0);
        e |= msgpack_pack_bin(&pk, genesis_len) | msgpack_pack_bin_body(&pk, genesis, genesis_len);
        e |= msgpack_pack_bin(&pk, adm_len) | msgpack_pack_bin_body(&pk, adm, adm_len);
        e |= msgpack_pack_array(&pk, 0);
        e |= msgpack_pack_array(&pk, 0);
        code = NULL;
        CHECK(e == 0 && agah_join__seal((const uint8_t *)sb.data, sb.size,
                                        agah_identity_pk(invitee), &code) == 0);
        CHECK(code != NULL && decode_msg(code, &why) == AGAH_EVERSION);
        CHECK(strcmp(why.msg, v1_msg) == 0);
        free(code);
        msgpack_sbuffer_destroy(&sb);
    }
    /* A version from the future: named as such, not as version 1. */
    {
        static const uint8_t v3[] = {0x94, 0x03, 0xc0, 0xc0, 0xc0};
        code = NULL;
        CHECK(agah_join__seal(v3, sizeof v3, agah_identity_pk(invitee), &code) == 0);
        CHECK(code != NULL && decode_msg(code, &why) == AGAH_EVERSION);
        CHECK(strstr(why.msg, "version 3") != NULL && strstr(why.msg, "older") == NULL);
        free(code);
    }
}

/* An organiser other than the founder invites: the code carries her own
 * admission, which gives her name, and must be that of an organiser. */
static void test_inviter(void)
{
    struct agah_join j, *got = NULL;
    struct agah_why why;
    char *code = NULL;

    make_join(&j);
    j.admission = adm_by_org;
    j.admission_len = adm_by_org_len;
    j.inviter_admission = adm_org;
    j.inviter_admission_len = adm_org_len;
    CHECK(agah_join_encode(&j, org, agah_identity_pk(invitee), &code) == 0);
    CHECK(code != NULL && agah_join_decode(code, invitee, NOW, &got, NULL) == 0);
    CHECK(got != NULL && same_join(&j, got));
    CHECK(got != NULL && memcmp(got->inviter, agah_identity_pk(org), AGAH_PK_LEN) == 0);
    CHECK(got != NULL && strcmp(got->inviter_name, "Olga") == 0);
    CHECK(got != NULL && strcmp(got->community_name, "Istanbul") == 0);
    agah_join_free(got);
    free(code);

    /* Without her admission, her name is unknown: refused. */
    j.inviter_admission = NULL;
    j.inviter_admission_len = 0;
    code = NULL;
    CHECK(agah_join_encode(&j, org, agah_identity_pk(invitee), &code) == 0);
    CHECK(code != NULL && decode_msg(code, &why) == AGAH_EVALUE);
    CHECK(strstr(why.msg, "inviter's admission") != NULL);
    free(code);
    /* Her admission as a member only. */
    j.inviter_admission = adm_org_member;
    j.inviter_admission_len = adm_org_member_len;
    code = NULL;
    CHECK(agah_join_encode(&j, org, agah_identity_pk(invitee), &code) == 0);
    CHECK(code != NULL && decode_msg(code, &why) == AGAH_EPERM);
    CHECK(strstr(why.msg, "not admitted as an organiser") != NULL);
    free(code);
    /* Someone else's admission in her place. */
    j.inviter_admission = adm_other;
    j.inviter_admission_len = adm_other_len;
    code = NULL;
    CHECK(agah_join_encode(&j, org, agah_identity_pk(invitee), &code) == 0);
    CHECK(code != NULL && decode_msg(code, &why) == AGAH_EVALUE);
    free(code);
    /* The founder's code carries no admission of the founder. */
    make_join(&j);
    j.inviter_admission = adm_org;
    j.inviter_admission_len = adm_org_len;
    code = NULL;
    CHECK(agah_join_encode(&j, founder, agah_identity_pk(invitee), &code) == 0);
    CHECK(code != NULL && decode_msg(code, &why) == AGAH_EVALUE);
    free(code);
}

/* Payloads packed by hand, signed by the founder, fed to the strict
 * decoder directly. */
struct plain_opts {
    uint32_t fields;   /* 8 */
    uint32_t n_epochs; /* <= 70 */
    const char *peer;  /* one peer */
    int trailing;      /* append a byte */
};

static size_t pack_payload(const struct plain_opts *o, uint8_t *out, size_t cap)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    uint8_t z[32] = {0};
    size_t n = 0;
    int e = 0;

    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    e |= msgpack_pack_array(&pk, o->fields);
    e |= msgpack_pack_bin(&pk, 32);
    e |= msgpack_pack_bin_body(&pk, community, 32);
    e |= msgpack_pack_bin(&pk, 32);
    e |= msgpack_pack_bin_body(&pk, z, 32);
    e |= msgpack_pack_uint64(&pk, 0);
    e |= msgpack_pack_bin(&pk, genesis_len);
    e |= msgpack_pack_bin_body(&pk, genesis, genesis_len);
    e |= msgpack_pack_bin(&pk, adm_len);
    e |= msgpack_pack_bin_body(&pk, adm, adm_len);
    e |= msgpack_pack_array(&pk, o->n_epochs);
    for (uint32_t i = 0; i < o->n_epochs; i++) {
        e |= msgpack_pack_array(&pk, 2);
        e |= msgpack_pack_bin(&pk, 32);
        e |= msgpack_pack_bin_body(&pk, z, 32);
        e |= msgpack_pack_bin(&pk, 32);
        e |= msgpack_pack_bin_body(&pk, z, 32);
    }
    e |= msgpack_pack_array(&pk, 1);
    e |= msgpack_pack_str(&pk, strlen(o->peer));
    e |= msgpack_pack_str_body(&pk, o->peer, strlen(o->peer));
    e |= msgpack_pack_bin(&pk, 0);
    for (uint32_t i = 8; i < o->fields; i++)
        e |= msgpack_pack_nil(&pk);
    if (o->trailing)
        e |= msgpack_pack_nil(&pk);
    if (e == 0 && sb.size <= cap) {
        memcpy(out, sb.data, sb.size);
        n = sb.size;
    }
    msgpack_sbuffer_destroy(&sb);
    return n;
}

/* Signs a payload with the founder and decodes the plaintext. */
static int decode_payload(const uint8_t *buf, size_t len)
{
    struct agah_mp_fixbuf plain = {0};
    struct agah_join *j = NULL;
    struct agah_why why = {{0}};
    int r = len == 0 ? AGAH_EINVAL : agah_join__wrap(founder, buf, len, &plain);
    if (r == 0)
        r = agah_join__decode_plain(plain.p, plain.len, &j, &why);
    if (r == 0 && (j == NULL || agah_join__check(j, agah_identity_pk(invitee), NOW, NULL) != 0))
        r = 998;
    if (r != 0 && (j != NULL || (plain.p != NULL && why.msg[0] == '\0')))
        r = 999;
    agah_join_free(j);
    agah_secbuf_free(&plain);
    return r;
}

/* The wrapper decoded as is (no signing). */
static int decode_plain(const uint8_t *buf, size_t len)
{
    struct agah_join *j = NULL;
    struct agah_why why = {{0}};
    int r = agah_join__decode_plain(buf, len, &j, &why);
    if (r != 0 && (j != NULL || why.msg[0] == '\0'))
        r = 999;
    agah_join_free(j);
    return r;
}

static void test_plain(void)
{
    static uint8_t buf[16384];
    struct plain_opts o = {8, 2, "relay.example:7433", 0};
    struct agah_mp_fixbuf sb, plain;
    struct agah_join j;
    size_t n;

    n = pack_payload(&o, buf, sizeof buf);
    CHECK(n > 0 && decode_payload(buf, n) == 0);
    /* What our encoder produces is exactly what the decoder accepts. */
    make_join(&j);
    CHECK(agah_join__encode_plain(&j, &sb) == 0);
    CHECK(decode_payload(sb.p, sb.len) == 0);
    agah_secbuf_free(&sb);

    o.fields = 9;
    n = pack_payload(&o, buf, sizeof buf);
    CHECK(decode_payload(buf, n) == AGAH_EFIELDS);
    o.fields = 8;
    o.trailing = 1;
    n = pack_payload(&o, buf, sizeof buf);
    CHECK(decode_payload(buf, n) == AGAH_ETRAILING);
    o.trailing = 0;
    o.n_epochs = AGAH_JOIN_MAX_EPOCHS;
    n = pack_payload(&o, buf, sizeof buf);
    CHECK(decode_payload(buf, n) == 0);
    o.n_epochs = AGAH_JOIN_MAX_EPOCHS + 1;
    n = pack_payload(&o, buf, sizeof buf);
    CHECK(decode_payload(buf, n) == AGAH_ETOOBIG);
    o.n_epochs = 1;
    o.peer = "bad peer:1";
    n = pack_payload(&o, buf, sizeof buf);
    CHECK(decode_payload(buf, n) == AGAH_EVALUE);
    o.peer = "";
    n = pack_payload(&o, buf, sizeof buf);
    CHECK(decode_payload(buf, n) == AGAH_EVALUE);
    o.peer = "relay.example:7433";
    n = pack_payload(&o, buf, sizeof buf);
    /* The same payload with a non-shortest array header. */
    if (n > 0 && n + 2 <= sizeof buf) {
        memmove(buf + 3, buf + 1, n - 1);
        buf[0] = 0xdc;
        buf[1] = 0x00;
        buf[2] = 0x08;
        CHECK(decode_payload(buf, n + 2) == AGAH_ENONCANON);
    }
    /* Hostile headers (msgpack-c would try to allocate 128 GiB), signed
     * so they reach the payload decoder, and bare as a wrapper. */
    {
        static const uint8_t huge[] = {0xdd, 0xff, 0xff, 0xff, 0xff};
        static const uint8_t huge_bin[] = {0x98, 0x01, 0xc6, 0xff, 0xff, 0xff, 0xff};
        CHECK(decode_payload(huge, sizeof huge) != 0);
        CHECK(decode_payload(huge_bin, sizeof huge_bin) != 0);
        CHECK(decode_plain(huge, sizeof huge) != 0);
        CHECK(decode_plain(huge_bin, sizeof huge_bin) != 0);
        CHECK(decode_plain(huge, 0) != 0);
    }
    /* The wrapper: exactly [2, bin32, bin, bin64], canonical, nothing after. */
    n = pack_payload(&o, buf, sizeof buf);
    CHECK(agah_join__wrap(founder, buf, n, &plain) == 0);
    if (plain.p != NULL) {
        CHECK(decode_plain(plain.p, plain.len) == 0);
        plain.p[0] = 0x95; /* five elements announced, four there */
        CHECK(decode_plain(plain.p, plain.len) != 0);
        plain.p[0] = 0x93;
        CHECK(decode_plain(plain.p, plain.len) != 0);
        plain.p[0] = 0x94;
        plain.p[2] = 0xd9; /* the signer as a str */
        CHECK(decode_plain(plain.p, plain.len) != 0);
        agah_secbuf_free(&plain);
    }
    {
        static const uint8_t empty[] = {0x90};
        static const uint8_t no_version[] = {0x91, 0xc0};
        static const uint8_t empty_payload[] = {0x94, 0x02, 0xc4, 0x00, 0xc4, 0x00, 0xc4, 0x00};
        CHECK(decode_plain(empty, sizeof empty) == AGAH_ETYPE);
        CHECK(decode_plain(no_version, sizeof no_version) == AGAH_ETYPE);
        CHECK(decode_plain(empty_payload, sizeof empty_payload) == AGAH_ETYPE);
    }
}

/* --corpus DIR: the fuzz target's seeds, for its identities at its NOW:
 * payload-N (what it signs and wraps itself), plain-N (signed wrappers)
 * and code-N (whole codes). */
static int write_file(const char *dir, const char *name, int i, const void *p, size_t n)
{
    char path[4096];
    FILE *f;
    int ok;

    (void)snprintf(path, sizeof path, "%s/%s-%d", dir, name, i);
    f = fopen(path, "wb");
    if (f == NULL)
        return -1;
    ok = fwrite(p, 1, n, f) == n;
    return fclose(f) == 0 && ok ? 0 : -1;
}

static int write_corpus(const char *dir)
{
    for (int i = 0; i < 3; i++) {
        struct agah_join j;
        struct agah_mp_fixbuf payload = {0}, plain = {0};
        char *code = NULL;
        int r;

        make_join(&j);
        j.n_epochs = (size_t)i;             /* 0: a relay's */
        j.n_peers = (size_t)(i < 2 ? i : 2);
        j.expires = i == 1 ? 0 : j.expires;
        if (i == 2) {
            /* Invited by a second organiser, with her admission. */
            j.admission = adm_by_org;
            j.admission_len = adm_by_org_len;
            j.inviter_admission = adm_org;
            j.inviter_admission_len = adm_org_len;
        }
        r = agah_join__encode_plain(&j, &payload);
        if (r == 0)
            r = agah_join__wrap(i == 2 ? org : founder, payload.p, payload.len, &plain);
        if (r == 0)
            r = agah_join__seal(plain.p, plain.len, agah_identity_pk(invitee), &code);
        if (r == 0 && (write_file(dir, "payload", i, payload.p, payload.len) != 0 ||
                       write_file(dir, "plain", i, plain.p, plain.len) != 0 ||
                       write_file(dir, "code", i, code, strlen(code)) != 0))
            r = -1;
        agah_secbuf_free(&payload);
        agah_secbuf_free(&plain);
        free(code);
        if (r != 0)
            return r;
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *corpus = argc == 3 && strcmp(argv[1], "--corpus") == 0 ? argv[2] : NULL;

    CHECK(agah_init() == 0);
    if (setup(corpus != NULL) != 0) {
        fprintf(stderr, "test_joincode: setup failed\n");
        return 1;
    }
    if (corpus != NULL) {
        if (write_corpus(corpus) != 0) {
            fprintf(stderr, "test_joincode: cannot write the corpus to %s\n", corpus);
            return 1;
        }
        return 0;
    }
    test_round_trip();
    test_typos();
    test_records();
    test_encode_refusals();
    test_signature();
    test_inviter();
    test_plain();
    free(genesis);
    free(adm);
    free(adm_other);
    free(adm_expired);
    free(adm_org);
    free(adm_by_org);
    free(adm_org_member);
    agah_identity_free(founder);
    agah_identity_free(invitee);
    agah_identity_free(other);
    agah_identity_free(org);
    printf("test_joincode: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}

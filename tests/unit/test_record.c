/* Unit tests for records and keys: round trips of every record type with
 * every single-byte corruption and truncation rejected, the largest epoch,
 * the store's decoder against the strict one, printable ids and sealed
 * boxes, and an EPOCH's chain links (0..16, well formed or not). Other
 * malformed inputs are in test_rec_malformed.c, the sealed records' outer
 * fields and bodies in test_rec_sealed.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <agah/keys.h>
#include <agah/mp.h>
#include <agah/record.h>

#include "check.h"
#include "rec_fixture.h"

static void test_enums(void)
{
    CHECK(strcmp(agah_role_name(AGAH_ROLE_ORGANISER), "organiser") == 0);
    CHECK(strcmp(agah_role_name(AGAH_ROLE_RELAY), "relay") == 0);
    CHECK(agah_role_name(3) == NULL && agah_role_name(-1) == NULL);
    CHECK(agah_role_parse("member") == AGAH_ROLE_MEMBER);
    CHECK(agah_role_parse("Member") == -1 && agah_role_parse("") == -1);
    CHECK(agah_role_parse(NULL) == -1);
    for (int i = 0; i <= AGAH_CAT_OTHER; i++)
        CHECK(agah_category_parse(agah_category_name(i)) == i);
    CHECK(agah_category_name(5) == NULL);
    CHECK(agah_category_parse("surveillance") == AGAH_CAT_SURVEILLANCE);
    CHECK(agah_severity_parse("danger") == AGAH_SEV_DANGER);
    CHECK(agah_severity_name(3) == NULL);
    CHECK(agah_kind_parse("number") == AGAH_KIND_NUMBER);
    CHECK(agah_kind_parse("alert") == AGAH_KIND_ALERT);
    CHECK(agah_kind_name(0) == NULL && agah_kind_name(4) == NULL);
    CHECK(strcmp(agah_kind_name(AGAH_KIND_ACCOUNT), "account") == 0);
}

static void test_ids(void)
{
    static const char alpha[] = "abcdefghijklmnopqrstuvwxyz234567";
    char s[AGAH_IDSTR_SIZE], t[AGAH_IDSTR_SIZE + 1];
    uint8_t k[32];
    struct agah_why why;
    int missed = 0, wrong = 0;

    agah_id_encode(AGAH_IDPFX_MEMBER, agah_identity_pk(member), s);
    CHECK(strlen(s) == AGAH_IDSTR_LEN && s[0] == 'm');
    CHECK(agah_id_decode(s, 'm', k, &why) == 0);
    CHECK(memcmp(k, agah_identity_pk(member), 32) == 0);
    CHECK(agah_id_decode(s, 'c', k, &why) == AGAH_EINVAL);
    /* Every single-character substitution, at every position. */
    for (size_t i = 1; i < AGAH_IDSTR_LEN; i++) {
        for (size_t j = 0; j < 32; j++) {
            if (alpha[j] == s[i])
                continue;
            memcpy(t, s, sizeof s);
            t[i] = alpha[j];
            if (agah_id_decode(t, 'm', k, &why) != AGAH_ECHECKSUM)
                missed++;
        }
        /* Outside the alphabet: uppercase, '0', '1', '8', punctuation. */
        const char bad[] = "A01 8=-";
        for (size_t j = 0; j < sizeof bad - 1; j++) {
            memcpy(t, s, sizeof s);
            t[i] = bad[j];
            if (agah_id_decode(t, 'm', k, &why) != AGAH_EINVAL)
                wrong++;
        }
    }
    CHECK(missed == 0);
    CHECK(wrong == 0);
    /* Adjacent transpositions are typos too. */
    missed = 0;
    for (size_t i = 1; i + 1 < AGAH_IDSTR_LEN; i++) {
        if (s[i] == s[i + 1])
            continue;
        memcpy(t, s, sizeof s);
        t[i] = s[i + 1];
        t[i + 1] = s[i];
        if (agah_id_decode(t, 'm', k, &why) != AGAH_ECHECKSUM)
            missed++;
    }
    CHECK(missed == 0);
    memcpy(t, s, sizeof s);
    t[AGAH_IDSTR_LEN - 1] = '\0';
    CHECK(agah_id_decode(t, 'm', k, &why) == AGAH_EINVAL);
    memcpy(t, s, sizeof s);
    t[AGAH_IDSTR_LEN] = 'a';
    t[AGAH_IDSTR_LEN + 1] = '\0';
    CHECK(agah_id_decode(t, 'm', k, &why) == AGAH_EINVAL);
    CHECK(agah_id_decode("", 'm', k, &why) == AGAH_EINVAL);
    CHECK(agah_id_decode(NULL, 'm', k, &why) == AGAH_EINVAL);
    /* The same key under another prefix is another id. */
    agah_id_encode(AGAH_IDPFX_COMMUNITY, agah_identity_pk(member), t);
    CHECK(t[0] == 'c' && strcmp(t + 1, s + 1) != 0);
    t[0] = 'm';
    CHECK(agah_id_decode(t, 'm', k, &why) == AGAH_ECHECKSUM);
}

static void test_keys(void)
{
    uint8_t m[40], c[40 + AGAH_SEAL_OVERHEAD], o[40], sig[64];
    struct agah_identity *g = NULL, *again = NULL;
    uint8_t seed[32], seed2[32];

    for (size_t i = 0; i < sizeof m; i++)
        m[i] = (uint8_t)i;
    CHECK(agah_seal(agah_identity_pk(member), m, sizeof m, c) == 0);
    CHECK(agah_seal_open(member, c, sizeof c, o) == 0 && memcmp(o, m, sizeof m) == 0);
    CHECK(agah_seal_open(founder, c, sizeof c, o) == AGAH_ECRYPTO);
    CHECK(agah_seal_open(member, c, AGAH_SEAL_OVERHEAD - 1, o) == AGAH_ECRYPTO);
    c[10] ^= 1;
    CHECK(agah_seal_open(member, c, sizeof c, o) == AGAH_ECRYPTO);
    /* An all-zero key is a small-order point with no X25519 counterpart. */
    memset(seed, 0, sizeof seed);
    CHECK(agah_seal(seed, m, sizeof m, c) == AGAH_EINVAL);

    agah_identity_sign(founder, m, sizeof m, sig);
    CHECK(agah_sig_verify(agah_identity_pk(founder), m, sizeof m, sig) == 0);
    CHECK(agah_sig_verify(agah_identity_pk(member), m, sizeof m, sig) == AGAH_ESIG);
    m[0] ^= 1;
    CHECK(agah_sig_verify(agah_identity_pk(founder), m, sizeof m, sig) == AGAH_ESIG);

    CHECK(agah_identity_generate(&g) == 0);
    agah_identity_seed(g, seed);
    CHECK(agah_identity_from_seed(seed, &again) == 0);
    CHECK(memcmp(agah_identity_pk(g), agah_identity_pk(again), 32) == 0);
    agah_identity_seed(again, seed2);
    CHECK(sodium_memcmp(seed, seed2, 32) == 0);
    sodium_memzero(seed, sizeof seed);
    sodium_memzero(seed2, sizeof seed2);
    agah_identity_free(g);
    agah_identity_free(again);
    agah_identity_free(NULL);

    uint8_t h1[32], h2[32];
    agah_hash((const uint8_t *)"abc", 3, h1);
    CHECK(crypto_generichash(h2, 32, (const uint8_t *)"abc", 3, NULL, 0) == 0);
    CHECK(memcmp(h1, h2, 32) == 0);
}

/* Every position, several bit patterns: nothing altered decodes. */
static int flips_accepted(const uint8_t *buf, size_t len)
{
    static const uint8_t pats[] = {0x01, 0x80, 0xff, 0x10};
    uint8_t *c = malloc(len);
    struct agah_rec r;
    int accepted = 0;

    if (c == NULL)
        abort();
    for (size_t i = 0; i < len; i++) {
        for (size_t p = 0; p < sizeof pats; p++) {
            memcpy(c, buf, len);
            c[i] ^= pats[p];
            if (agah_rec_decode(c, len, NULL, &r, NULL) == 0) {
                fprintf(stderr, "flip at %zu by %02x accepted\n", i, pats[p]);
                accepted++;
            }
        }
    }
    /* Every truncation, too. */
    for (size_t n = 0; n < len; n++)
        if (agah_rec_decode(buf, n, NULL, &r, NULL) == 0)
            accepted++;
    free(c);
    return accepted;
}

static uint8_t *alert_num;
static size_t alert_num_len;

static void test_roundtrip(void)
{
    uint8_t *b = NULL;
    size_t n = 0;
    struct agah_rec r;
    struct agah_why why;
    uint8_t id[32];

    /* GENESIS */
    CHECK(agah_rec_genesis(founder, TEST_GKEY, "Agah test", "Founder", 1700000000, &b, &n) == 0);
    CHECK(agah_rec_decode(b, n, NULL, &r, &why) == 0);
    CHECK(r.type == AGAH_REC_GENESIS && r.created == 1700000000 && r.expires == 0);
    {
        char cn[AGAH_NAME_MAX + 1], fn[AGAH_NAME_MAX + 1];
        /* The names are under the genesis key, held under the community id. */
        CHECK(agah_rec_text_key_id(&r) == r.id);
        CHECK(agah_rec_open_names(&r, TEST_GKEY, cn, fn, &why) == 0);
        CHECK(strcmp(cn, "Agah test") == 0 && strcmp(fn, "Founder") == 0);
        CHECK(agah_rec_open_names(&r, TEST_EKEY, cn, fn, &why) == AGAH_ECRYPTO && cn[0] == '\0');
        CHECK(!has_bytes(b, n, "Agah test") && !has_bytes(b, n, "Founder"));
        CHECK(r.u.genesis.names.ct_len == AGAH_PAD_NAMES + 16);
    }
    CHECK(memcmp(r.author, agah_identity_pk(founder), 32) == 0);
    CHECK(sodium_is_zero(r.community, 32));
    agah_hash(b, n, id);
    CHECK(memcmp(r.id, id, 32) == 0 && r.bytes == b && r.len == n);
    memcpy(community, r.id, 32);
    CHECK(agah_rec_decode(b, n, community, &r, &why) == 0);
    CHECK(flips_accepted(b, n) == 0);
    free(b);

    /* ADMISSION */
    CHECK(agah_rec_admission(founder, community, agah_identity_pk(member), AGAH_ROLE_MEMBER,
                             "Member \xd8\xa6\xd8\xa7\xda\xaf\xd8\xa7\xda\xbe", TEST_EID, TEST_EKEY, 1700000100,
                             1800000000, &b, &n) == 0);
    CHECK(agah_rec_decode(b, n, community, &r, &why) == 0);
    CHECK(r.type == AGAH_REC_ADMISSION && r.u.admission.role == AGAH_ROLE_MEMBER);
    CHECK(memcmp(r.u.admission.member, agah_identity_pk(member), 32) == 0);
    CHECK(r.expires == 1800000000 && r.u.admission.name.ct_len == AGAH_PAD_NAME + 16);
    {
        char nm[AGAH_NAME_MAX + 1];
        CHECK(memcmp(agah_rec_text_key_id(&r), TEST_EID, 32) == 0);
        CHECK(agah_rec_open_name(&r, TEST_EKEY, nm, &why) == 0 &&
              strcmp(nm, "Member \xd8\xa6\xd8\xa7\xda\xaf\xd8\xa7\xda\xbe") == 0);
        CHECK(agah_rec_open_name(&r, TEST_GKEY, nm, &why) == AGAH_ECRYPTO);
        CHECK(!has_bytes(b, n, "Member"));
    }
    CHECK(memcmp(r.community, community, 32) == 0);
    CHECK(flips_accepted(b, n) == 0);
    free(b);

    /* REVOCATION */
    CHECK(agah_rec_revocation(founder, community, agah_identity_pk(relay), "lost phone", TEST_EID, TEST_EKEY, NULL, 0,
                              1700000200, &b, &n) == 0);
    CHECK(agah_rec_decode(b, n, community, &r, &why) == 0);
    CHECK(r.type == AGAH_REC_REVOCATION && r.u.revocation.reason.has);
    {
        char why_text[AGAH_NOTE_MAX + 1];
        CHECK(agah_rec_open_reason(&r, TEST_EKEY, why_text, &why) == 0 &&
              strcmp(why_text, "lost phone") == 0);
        CHECK(!has_bytes(b, n, "lost phone"));
        CHECK(r.u.revocation.reason.ct_len == 64 + 16);
    }
    CHECK(memcmp(r.u.revocation.member, agah_identity_pk(relay), 32) == 0);
    CHECK(flips_accepted(b, n) == 0);
    free(b);

    /* EPOCH: recipients given unsorted come out sorted; each opens its key. */
    const uint8_t(*pks)[32];
    uint8_t rec3[3][32], k[32];
    memcpy(rec3[0], agah_identity_pk(relay), 32);
    memcpy(rec3[1], agah_identity_pk(founder), 32);
    memcpy(rec3[2], agah_identity_pk(member), 32);
    pks = (const uint8_t(*)[32])rec3;
    memset(epoch_key, 0x42, sizeof epoch_key);
    CHECK(agah_rec_epoch(founder, community, 1, pks, 3, epoch_key, 1700000300, &b, &n) == 0);
    CHECK(agah_rec_decode(b, n, community, &r, &why) == 0);
    CHECK(r.type == AGAH_REC_EPOCH && r.u.epoch.number == 1 && r.u.epoch.n == 3);
    CHECK(memcmp(agah_rec_epoch_member(&r, 0), agah_rec_epoch_member(&r, 1), 32) < 0);
    CHECK(memcmp(agah_rec_epoch_member(&r, 1), agah_rec_epoch_member(&r, 2), 32) < 0);
    CHECK(agah_rec_epoch_member(&r, 3) == NULL && agah_rec_epoch_sealed(&r, 3) == NULL);
    memset(k, 0, sizeof k);
    CHECK(agah_rec_epoch_open(&r, member, k) == 0 && memcmp(k, epoch_key, 32) == 0);
    memset(k, 0, sizeof k);
    CHECK(agah_rec_epoch_open(&r, relay, k) == 0 && memcmp(k, epoch_key, 32) == 0);
    CHECK(agah_rec_epoch_open(&r, outsider, k) == AGAH_ENOENT);
    memcpy(epoch_id, r.id, 32);
    CHECK(flips_accepted(b, n) == 0);
    free(b);
    /* Duplicate recipients, none, too many, epoch 0: refused. */
    memcpy(rec3[1], rec3[0], 32);
    CHECK(agah_rec_epoch(founder, community, 2, pks, 3, epoch_key, 1, &b, &n) == AGAH_EINVAL);
    CHECK(agah_rec_epoch(founder, community, 2, pks, 0, epoch_key, 1, &b, &n) == AGAH_EINVAL);
    CHECK(agah_rec_epoch(founder, community, 0, pks, 1, epoch_key, 1, &b, &n) == AGAH_EINVAL);
    CHECK(agah_rec_epoch(founder, community, 2, pks, AGAH_EPOCH_MAX_MEMBERS + 1, epoch_key, 1,
                         &b, &n) == AGAH_ETOOBIG);
    /* A chained epoch: its key opens the previous one's, nothing else does,
     * and the link is bound to the id it names. */
    {
        uint8_t key2[32], got[32];
        memset(key2, 0x43, sizeof key2);
        memcpy(rec3[1], agah_identity_pk(founder), 32);
        CHECK(agah_rec_epoch_chained(founder, community, 2, pks, 3, key2, epoch_id, epoch_key,
                                     1700000400, &b, &n) == 0);
        CHECK(agah_rec_decode(b, n, community, &r, &why) == 0);
        CHECK(r.u.epoch.n_prev == 1 && memcmp(agah_rec_epoch_prev_id(&r, 0), epoch_id, 32) == 0);
        CHECK(agah_rec_epoch_prev_open(&r, 0, key2, got) == 0 && memcmp(got, epoch_key, 32) == 0);
        CHECK(agah_rec_epoch_prev_open(&r, 0, epoch_key, got) == AGAH_ECRYPTO);
        CHECK(agah_rec_epoch_prev_open(&r, 1, key2, got) == AGAH_ENOENT);
        CHECK(agah_rec_epoch_prev_id(&r, 1) == NULL);
        b[agah_rec_epoch_prev_id(&r, 0) - b] ^= 1; /* as if the link named another epoch */
        CHECK(agah_rec_epoch_prev_open(&r, 0, key2, got) == AGAH_ECRYPTO);
        b[agah_rec_epoch_prev_id(&r, 0) - b] ^= 1;
        CHECK(flips_accepted(b, n) == 0);
        free(b);
        CHECK(agah_rec_epoch_chained(founder, community, 2, pks, 3, key2, epoch_id, NULL,
                                     1700000400, &b, &n) == AGAH_EINVAL);
    }
    /* Network secrets: an epoch mints one from its key (members derive it),
     * seals it alone to its relays, and a later epoch carries it on under
     * its own key with the minting epoch's id. */
    {
        uint8_t key2[32], net1[32], got[32], nid[32], mid[32];
        const uint8_t(*two)[32] = (const uint8_t(*)[32])rec3[1];
        const uint8_t(*rl)[32] = (const uint8_t(*)[32])rec3;
        memset(key2, 0x45, sizeof key2);
        memcpy(rec3[1], agah_identity_pk(founder), 32);
        struct agah_epoch_spec sp = {.number = 3, .recipients = two, .n = 2, .relays = rl,
                                     .n_relays = 1, .key = epoch_key, .created = 1700000500};
        CHECK(agah_rec_epoch_make(founder, community, &sp, &b, &n) == 0);
        CHECK(agah_rec_decode(b, n, community, &r, &why) == 0);
        CHECK(!r.u.epoch.has_net && r.u.epoch.n_relays == 1 && r.u.epoch.n == 2);
        agah_net_secret_derive(epoch_key, net1);
        CHECK(memcmp(net1, epoch_key, 32) != 0);
        CHECK(agah_rec_epoch_net_open(&r, epoch_key, got) == 0 && memcmp(got, net1, 32) == 0);
        memset(got, 0, sizeof got);
        CHECK(agah_rec_epoch_net_relay_open(&r, relay, got) == 0 && memcmp(got, net1, 32) == 0);
        CHECK(agah_rec_epoch_open(&r, relay, got) == AGAH_ENOENT); /* never the key */
        CHECK(agah_rec_epoch_net_relay_open(&r, member, got) == AGAH_ENOENT);
        agah_rec_epoch_net_id(&r, mid);
        CHECK(memcmp(mid, r.id, 32) == 0);
        CHECK(flips_accepted(b, n) == 0);
        free(b);
        sp.number = 4;
        sp.key = key2;
        sp.net_origin = mid;
        sp.net = net1;
        CHECK(agah_rec_epoch_make(founder, community, &sp, &b, &n) == 0);
        CHECK(agah_rec_decode(b, n, community, &r, &why) == 0);
        agah_rec_epoch_net_id(&r, nid);
        CHECK(r.u.epoch.has_net && memcmp(nid, mid, 32) == 0);
        CHECK(agah_rec_epoch_net_open(&r, key2, got) == 0 && memcmp(got, net1, 32) == 0);
        CHECK(agah_rec_epoch_net_open(&r, epoch_key, got) == AGAH_ECRYPTO);
        CHECK(agah_rec_epoch_net_relay_open(&r, relay, got) == 0 && memcmp(got, net1, 32) == 0);
        CHECK(flips_accepted(b, n) == 0);
        free(b);
        /* A key both recipient and relay, or a secret without its origin. */
        sp.relays = two;
        CHECK(agah_rec_epoch_make(founder, community, &sp, &b, &n) == AGAH_EINVAL);
        sp.relays = rl;
        sp.net_origin = NULL;
        CHECK(agah_rec_epoch_make(founder, community, &sp, &b, &n) == AGAH_EINVAL);
    }

    /* ALERT, all three kinds. */
    struct agah_alert_body body, got;
    static const struct { int kind; const char *target; int cat, sev; const char *note; } al[] = {
        {AGAH_KIND_NUMBER, "+85251234567", AGAH_CAT_HARASSMENT, AGAH_SEV_WARNING,
         "threats at night \xd9\x83\xdb\x90\xda\x86\xd9\x89\xd8\xaf\xdb\x95"},
        {AGAH_KIND_ACCOUNT, "telegram:example_user", AGAH_CAT_IMPERSONATION, AGAH_SEV_INFO, ""},
        {AGAH_KIND_ALERT, "", AGAH_CAT_SURVEILLANCE, AGAH_SEV_DANGER,
         "someone photographs attendees at the meeting"},
    };
    for (size_t i = 0; i < sizeof al / sizeof al[0]; i++) {
        memset(&body, 0, sizeof body);
        body.kind = al[i].kind;
        strcpy(body.target, al[i].target);
        body.category = al[i].cat;
        body.severity = al[i].sev;
        strcpy(body.note, al[i].note);
        CHECK(agah_rec_alert(member, community, epoch_id, epoch_key, &body, 1700000400,
                             1731536400, &b, &n) == 0);
        CHECK(agah_rec_decode(b, n, community, &r, &why) == 0);
        CHECK(r.type == AGAH_REC_ALERT && sodium_is_zero(r.u.sealed.ref, 32));
        CHECK(memcmp(r.u.sealed.epoch, epoch_id, 32) == 0);
        memset(&got, 0x5a, sizeof got);
        CHECK(agah_rec_open_alert(&r, epoch_key, &got, &why) == 0);
        CHECK(got.kind == body.kind && got.category == body.category &&
              got.severity == body.severity);
        CHECK(strcmp(got.target, body.target) == 0 && strcmp(got.note, body.note) == 0);
        /* The wrong epoch key opens nothing. */
        memset(k, 0x43, sizeof k);
        CHECK(agah_rec_open_alert(&r, k, &got, &why) == AGAH_ECRYPTO);
        char note[AGAH_NOTE_MAX + 1];
        CHECK(agah_rec_open_note(&r, epoch_key, note, &why) == AGAH_EINVAL);
        if (i == 0) {
            CHECK(flips_accepted(b, n) == 0);
            alert_num = b;
            alert_num_len = n;
        } else {
            free(b);
        }
    }
    /* Longest target and note, multi-byte text. */
    memset(&body, 0, sizeof body);
    body.kind = AGAH_KIND_ACCOUNT;
    memset(body.target, 'x', AGAH_TARGET_MAX - 1);
    memset(body.note, 'y', AGAH_NOTE_MAX);
    CHECK(agah_rec_alert(member, community, epoch_id, epoch_key, &body, 5, 0, &b, &n) == 0);
    CHECK(agah_rec_decode(b, n, community, &r, &why) == 0);
    CHECK(agah_rec_open_alert(&r, epoch_key, &got, &why) == 0);
    CHECK(strlen(got.target) == AGAH_TARGET_MAX - 1 && strlen(got.note) == AGAH_NOTE_MAX);
    free(b);
    /* Bodies the decoder would refuse are refused by the encoder. */
    body.target[0] = '\0';
    CHECK(agah_rec_alert(member, community, epoch_id, epoch_key, &body, 5, 0, &b, &n) ==
          AGAH_EINVAL);
    body.kind = AGAH_KIND_ALERT;
    strcpy(body.target, "x");
    CHECK(agah_rec_alert(member, community, epoch_id, epoch_key, &body, 5, 0, &b, &n) ==
          AGAH_EINVAL);
    body.target[0] = '\0';
    body.note[0] = (char)0xc3; /* cut UTF-8 */
    body.note[1] = '\0';
    CHECK(agah_rec_alert(member, community, epoch_id, epoch_key, &body, 5, 0, &b, &n) ==
          AGAH_EINVAL);
    body.note[0] = '\0';
    body.severity = 3;
    CHECK(agah_rec_alert(member, community, epoch_id, epoch_key, &body, 5, 0, &b, &n) ==
          AGAH_EINVAL);
    body.severity = 0;
    CHECK(agah_rec_alert(member, community, epoch_id, epoch_key, &body, 5, 5, &b, &n) ==
          AGAH_EINVAL);
    memset(body.note, 'z', sizeof body.note); /* unterminated */
    CHECK(agah_rec_alert(member, community, epoch_id, epoch_key, &body, 5, 0, &b, &n) ==
          AGAH_EINVAL);

    /* CONFIRM and RETRACT. */
    uint8_t ref[32];
    char note[AGAH_NOTE_MAX + 1];
    agah_hash(alert_num, alert_num_len, ref);
    CHECK(agah_rec_annotate(relay, AGAH_REC_CONFIRM, community, ref, epoch_id, epoch_key,
                            "same number called me", 1700000500, &b, &n) == 0);
    CHECK(agah_rec_decode(b, n, community, &r, &why) == 0);
    CHECK(r.type == AGAH_REC_CONFIRM && memcmp(r.u.sealed.ref, ref, 32) == 0);
    CHECK(agah_rec_open_note(&r, epoch_key, note, &why) == 0);
    CHECK(strcmp(note, "same number called me") == 0);
    CHECK(agah_rec_open_note(&r, k, note, &why) == AGAH_ECRYPTO);
    CHECK(agah_rec_open_alert(&r, epoch_key, &got, &why) == AGAH_EINVAL);
    CHECK(flips_accepted(b, n) == 0);
    free(b);
    CHECK(agah_rec_annotate(member, AGAH_REC_RETRACT, community, ref, epoch_id, epoch_key, "",
                            1700000600, &b, &n) == 0);
    CHECK(agah_rec_decode(b, n, community, &r, &why) == 0);
    CHECK(r.type == AGAH_REC_RETRACT && r.expires == 0);
    CHECK(agah_rec_open_note(&r, epoch_key, note, &why) == 0 && note[0] == '\0');
    CHECK(flips_accepted(b, n) == 0);
    free(b);
    CHECK(agah_rec_annotate(member, AGAH_REC_ALERT, community, ref, epoch_id, epoch_key, "", 1,
                            &b, &n) == AGAH_EINVAL);
    memset(ref, 0, sizeof ref);
    CHECK(agah_rec_annotate(member, AGAH_REC_CONFIRM, community, ref, epoch_id, epoch_key, "", 1,
                            &b, &n) == AGAH_EINVAL);

    /* Encoder argument checks. */
    char big[AGAH_NOTE_MAX + 2];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    CHECK(agah_rec_genesis(founder, TEST_GKEY, "", "x", 1, &b, &n) == AGAH_EINVAL);
    CHECK(agah_rec_genesis(founder, TEST_GKEY, big + sizeof big - 2 - AGAH_NAME_MAX, "", 1, &b, &n) ==
          AGAH_ETOOBIG);
    CHECK(agah_rec_genesis(founder, TEST_GKEY, "a\xff", "", 1, &b, &n) == AGAH_EINVAL);
    CHECK(agah_rec_admission(founder, community, ref, 3, "", TEST_EID, TEST_EKEY, 1, 0, &b, &n) == AGAH_EINVAL);
    CHECK(agah_rec_admission(founder, community, ref, 1, "", TEST_EID, TEST_EKEY, 10, 9, &b, &n) == AGAH_EINVAL);
    CHECK(agah_rec_revocation(founder, community, ref, big, TEST_EID, TEST_EKEY, NULL, 0, 1, &b, &n) == AGAH_ETOOBIG);
    /* A name or reason is never written in clear: without a key, none. */
    memset(ref, 7, sizeof ref);
    CHECK(agah_rec_admission(founder, community, ref, 1, "Ayse", NULL, NULL, 1, 0, &b, &n) ==
          AGAH_EINVAL);
    CHECK(agah_rec_admission(founder, community, ref, 1, "", TEST_EID, NULL, 1, 0, &b, &n) ==
          AGAH_EINVAL);
    CHECK(agah_rec_revocation(founder, community, ref, "why", NULL, NULL, NULL, 0, 1, &b, &n) ==
          AGAH_EINVAL);
    CHECK(agah_rec_genesis(founder, NULL, "c", "", 1, &b, &n) == AGAH_EINVAL);
    CHECK(agah_rec_admission(founder, community, ref, 1, "", NULL, NULL, 1, 0, &b, &n) == 0);
    {
        struct agah_rec nr;
        char nm[AGAH_NAME_MAX + 1] = "x";
        CHECK(agah_rec_decode(b, n, community, &nr, &why) == 0 && !nr.u.admission.name.has);
        CHECK(agah_rec_text_key_id(&nr) == NULL);
        CHECK(agah_rec_open_name(&nr, TEST_EKEY, nm, &why) == 0 && nm[0] == '\0');
        free(b);
    }
}

/* A full epoch: the largest record the encoder makes still decodes. */
/* ------------------------------------------------------------------ */
/* EPOCH chain links: field 9 is [] (none), one link [epoch, nonce, ct]  */
/* (version 3's form), or 2..AGAH_EPOCH_MAX_LINKS links in a list,       */
/* strictly ascending by epoch id.                                      */

#define LK_N (AGAH_EPOCH_MAX_LINKS + 1)
static uint8_t lk_ids[LK_N][32], lk_keys[LK_N][32], lk_new[32];

/* Earlier epoch j has an id whose first byte is j + 1 (so ascending ids
 * are ascending j) and key 60+j repeated. */
static void links_init(void)
{
    for (size_t j = 0; j < LK_N; j++) {
        test_fill(lk_ids[j], 32);
        lk_ids[j][0] = (uint8_t)(j + 1);
        memset(lk_keys[j], 0x60 + (int)j, 32);
    }
    memset(lk_new, 0x5f, sizeof lk_new);
}

/* Makes epoch 5 (key lk_new, sealed to member) linking to the earlier
 * epochs which[0..n), in that order in the spec. */
static int links_make(const size_t *which, size_t n, uint8_t **b, size_t *len)
{
    uint8_t ids[LK_N][32];
    const uint8_t *keys[LK_N];
    const uint8_t(*rc)[32] = (const uint8_t(*)[32])agah_identity_pk(member);

    for (size_t i = 0; i < n && i < LK_N; i++) {
        memcpy(ids[i], lk_ids[which[i]], 32);
        keys[i] = lk_keys[which[i]];
    }
    struct agah_epoch_spec sp = {.number = 5, .recipients = rc, .n = 1, .key = lk_new,
                                 .prev_ids = (const uint8_t(*)[32])ids, .prev_keys = keys,
                                 .n_prev = n, .created = 1700000600};
    return agah_rec_epoch_make(founder, community, &sp, b, len);
}

/* The faults of a decoded epoch that should link to earlier epochs 0..n):
 * link i names epoch i and opens to its key with lk_new, with no other key;
 * there is no link n. */
static int links_faults(const struct agah_rec *r, size_t n)
{
    uint8_t got[32];
    int bad = r->u.epoch.n_prev != n;

    for (size_t i = 0; i < n; i++) {
        const uint8_t *id = agah_rec_epoch_prev_id(r, i);
        bad += id == NULL || memcmp(id, lk_ids[i], 32) != 0;
        bad += agah_rec_epoch_prev_open(r, i, lk_new, got) != 0 || memcmp(got, lk_keys[i], 32) != 0;
        bad += agah_rec_epoch_prev_open(r, i, lk_keys[i], got) != AGAH_ECRYPTO;
    }
    bad += agah_rec_epoch_prev_id(r, n) != NULL;
    bad += agah_rec_epoch_prev_open(r, n, lk_new, got) != AGAH_ENOENT;
    return bad;
}

static void test_epoch_max(void)
{
    static uint8_t pks[AGAH_EPOCH_MAX_MEMBERS][32];
    uint8_t *b = NULL, k[32];
    size_t n = 0;
    struct agah_rec r;
    struct agah_why why;

    for (size_t i = 0; i < AGAH_EPOCH_MAX_MEMBERS; i++) {
        /* Real Ed25519 points: public keys of seeded identities. */
        uint8_t seed[32] = {0};
        struct agah_identity *id = NULL;
        seed[0] = (uint8_t)i;
        seed[1] = (uint8_t)(i >> 8);
        seed[2] = 0x99;
        if (agah_identity_from_seed(seed, &id) != 0)
            abort();
        memcpy(pks[i], agah_identity_pk(id), 32);
        agah_identity_free(id);
    }
    memcpy(pks[123], agah_identity_pk(member), 32);
    CHECK(agah_rec_epoch(founder, community, 7, (const uint8_t(*)[32])pks,
                         AGAH_EPOCH_MAX_MEMBERS, epoch_key, 1700001000, &b, &n) == 0);
    CHECK(n <= AGAH_REC_MAX);
    CHECK(agah_rec_decode(b, n, community, &r, &why) == 0);
    CHECK(r.u.epoch.n == AGAH_EPOCH_MAX_MEMBERS && r.u.epoch.number == 7);
    CHECK(agah_rec_epoch_open(&r, member, k) == 0 && memcmp(k, epoch_key, 32) == 0);
    free(b);
    b = NULL;
    /* With every chain link too. */
    {
        const uint8_t *keys[AGAH_EPOCH_MAX_LINKS];
        for (size_t i = 0; i < AGAH_EPOCH_MAX_LINKS; i++)
            keys[i] = lk_keys[i];
        struct agah_epoch_spec sp = {.number = 7, .recipients = (const uint8_t(*)[32])pks,
                                     .n = AGAH_EPOCH_MAX_MEMBERS, .key = lk_new,
                                     .prev_ids = (const uint8_t(*)[32])lk_ids, .prev_keys = keys,
                                     .n_prev = AGAH_EPOCH_MAX_LINKS, .created = 1700001000};
        CHECK(agah_rec_epoch_make(founder, community, &sp, &b, &n) == 0);
    }
    CHECK(n <= AGAH_REC_MAX);
    CHECK(agah_rec_decode(b, n, community, &r, &why) == 0);
    CHECK(r.u.epoch.n == AGAH_EPOCH_MAX_MEMBERS && links_faults(&r, AGAH_EPOCH_MAX_LINKS) == 0);
    CHECK(agah_rec_epoch_open(&r, member, k) == 0 && memcmp(k, lk_new, 32) == 0);
    CHECK(agah_rec_epoch_open(&r, outsider, k) == AGAH_ENOENT);
    free(b);
}

/* The decoder for a node's own store: every flip and truncation of a
 * valid record gets the strict decoder's answer, except those that only
 * break the signature, and the record itself decodes to the same fields. */
static void test_decode_stored(void)
{
    static const uint8_t pats[] = {0x01, 0x80, 0xff, 0x10};
    uint8_t *c = malloc(alert_num_len);
    struct agah_rec r;
    size_t sig_only = stored_sig_only;
    int got;

    CHECK(c != NULL && alert_num != NULL);
    if (c == NULL || alert_num == NULL)
        return;
    got = agah_rec_decode(alert_num, alert_num_len, NULL, &r, NULL);
    CHECK(got == 0);
    check_stored(alert_num, alert_num_len, NULL, got, &r);
    for (size_t i = 0; i < alert_num_len; i++) {
        for (size_t p = 0; p < sizeof pats; p++) {
            memcpy(c, alert_num, alert_num_len);
            c[i] ^= pats[p];
            got = agah_rec_decode(c, alert_num_len, NULL, &r, NULL);
            check_stored(c, alert_num_len, NULL, got, &r);
        }
    }
    for (size_t n = 0; n < alert_num_len; n++) {
        got = agah_rec_decode(alert_num, n, NULL, &r, NULL);
        check_stored(alert_num, n, NULL, got, &r);
    }
    /* The 64 signature bytes are the only ones whose flips are ESIG alone. */
    CHECK(stored_sig_only - sig_only >= 64 * sizeof pats);
    CHECK(stored_sig_only > 0 && stored_agreed > stored_sig_only);
    free(c);
}

/* One hand-made link naming `id` (it opens with nothing): its id and ct
 * after the headers given in hex, "c4 20" and "c4 30" when canonical. */
static void tb_link_as(struct tb *t, const uint8_t *id, const char *id_hdr, const char *ct_hdr,
                       size_t ct_len)
{
    uint8_t nz[48];
    memset(nz, 0x44, sizeof nz);
    tb_u8(t, 0x93);
    tb_hex(t, id_hdr);
    tb_raw(t, id, 32);
    tb_bin(t, nz, 24);
    tb_hex(t, ct_hdr);
    tb_raw(t, nz, ct_len);
}

/* A canonical hand-made link naming earlier epoch j. */
static void tb_link(struct tb *t, size_t j) { tb_link_as(t, lk_ids[j], "c4 20", "c4 30", 48); }

static void test_links_roundtrip(void)
{
    static const size_t perm[AGAH_EPOCH_MAX_LINKS] = {9, 2, 15, 0, 7, 12, 4, 1,
                                                      14, 3, 11, 6, 13, 8, 5, 10};
    static const size_t counts[] = {0, 1, 2, 3, AGAH_EPOCH_MAX_LINKS};
    uint8_t *b = NULL, *b1 = NULL;
    size_t n = 0, n1 = 0;
    struct agah_rec r;
    struct agah_why why;

    /* 0, 1, 2, 3 and 16 links, given in any order, come back ascending and
     * each opens with the new key to its earlier key. */
    for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
        size_t k = counts[c], which[AGAH_EPOCH_MAX_LINKS], m = 0;
        for (size_t i = 0; i < AGAH_EPOCH_MAX_LINKS; i++)
            if (perm[i] < k)
                which[m++] = perm[i];
        CHECK(m == k && links_make(which, k, &b, &n) == 0);
        CHECK(agah_rec_decode(b, n, community, &r, &why) == 0);
        CHECK(links_faults(&r, k) == 0);
        const uint8_t *p = r.u.epoch.prev;
        if (k == 0) {
            CHECK(p == NULL);
        } else if (k == 1) {
            /* Version 3's form: 93 c4 20 <id> c4 18 <nonce> c4 30 <ct>, then
             * field 10 (a minted network secret: []). */
            CHECK(p[0] == 0x93 && p[1] == 0xc4 && p[2] == 0x20 && p[35] == 0xc4 &&
                  p[36] == 0x18 && p[61] == 0xc4 && p[62] == 0x30 && p[111] == 0x90);
        } else if (k < 16) {
            CHECK(p[-1] == (0x90 | k) && p[k * AGAH_EPOCH_LINK_WIRE] == 0x90);
        } else {
            CHECK(p[-3] == 0xdc && p[-2] == 0x00 && p[-1] == 0x10);
        }
        if (k == 3)
            CHECK(flips_accepted(b, n) == 0);
        free(b);
        b = NULL;
    }
    /* One link through the spec is what agah_rec_epoch_chained makes: the
     * same length, and field 9 byte for byte at the same place, given the
     * same nonces (the sealed boxes differ: their ephemeral keys are
     * libsodium's own). */
    {
        const uint8_t(*rc)[32] = (const uint8_t(*)[32])agah_identity_pk(member);
        uint64_t at = rng_counter;
        size_t zero = 0;
        CHECK(links_make(&zero, 1, &b, &n) == 0);
        rng_counter = at;
        CHECK(agah_rec_epoch_chained(founder, community, 5, rc, 1, lk_new, lk_ids[0], lk_keys[0],
                                     1700000600, &b1, &n1) == 0);
        CHECK(b != NULL && b1 != NULL && n == n1);
        if (b != NULL && b1 != NULL) {
            struct agah_rec r1;
            CHECK(agah_rec_decode(b, n, community, &r, &why) == 0 &&
                  agah_rec_decode(b1, n1, community, &r1, &why) == 0);
            CHECK(r.u.epoch.prev - b == r1.u.epoch.prev - b1 &&
                  memcmp(r.u.epoch.prev, r1.u.epoch.prev, AGAH_EPOCH_LINK_WIRE) == 0);
        }
        free(b);
        free(b1);
        b = NULL;
    }
    /* The encoder refuses 17 links, an id twice, a link without its key
     * or naming no epoch. */
    {
        size_t w[LK_N], twice[3] = {0, 1, 0};
        for (size_t i = 0; i < LK_N; i++)
            w[i] = i;
        CHECK(links_make(w, LK_N, &b, &n) == AGAH_ETOOBIG);
        CHECK(links_make(twice, 3, &b, &n) == AGAH_EINVAL);
        CHECK(links_make(twice + 1, 2, &b, &n) == 0 && agah_rec_decode(b, n, community, &r, &why) == 0);
        free(b);
        b = NULL;
        const uint8_t(*rc)[32] = (const uint8_t(*)[32])agah_identity_pk(member);
        const uint8_t *keys[2] = {lk_keys[0], NULL};
        uint8_t ids[2][32];
        memcpy(ids[0], lk_ids[0], 32);
        memcpy(ids[1], lk_ids[1], 32);
        struct agah_epoch_spec sp = {.number = 5, .recipients = rc, .n = 1, .key = lk_new,
                                     .prev_ids = (const uint8_t(*)[32])ids, .prev_keys = keys,
                                     .n_prev = 2, .created = 1700000600};
        CHECK(agah_rec_epoch_make(founder, community, &sp, &b, &n) == AGAH_EINVAL);
        keys[1] = lk_keys[1];
        memset(ids[1], 0, 32);
        CHECK(agah_rec_epoch_make(founder, community, &sp, &b, &n) == AGAH_EINVAL);
        sp.prev_ids = NULL;
        CHECK(agah_rec_epoch_make(founder, community, &sp, &b, &n) == AGAH_EINVAL);
        sp.prev_ids = (const uint8_t(*)[32])ids;
        sp.prev_keys = NULL;
        CHECK(agah_rec_epoch_make(founder, community, &sp, &b, &n) == AGAH_EINVAL);
    }
}

/* Field 9 replaced by hand in a record the encoder made (2 links), then
 * signed again by its author: what a malicious organiser could publish. */
static void test_links_malformed(void)
{
    static const struct {
        const char *name;
        int shape, want;
        size_t n_prev;
    } cases[] = {
        {"as made (2 links)", 0, 0, 2},
        {"[] (none)", 1, 0, 0},
        {"one link, version 3's form", 2, 0, 1},
        {"one link as a list of one", 3, AGAH_ENONCANON, 0},
        {"3 links", 4, 0, 3},
        {"16 links (dc 00 10)", 5, 0, 16},
        {"17 links (dc 00 11)", 6, AGAH_ETOOBIG, 0},
        {"an id twice", 7, AGAH_EFIELDS, 0},
        {"links out of order", 8, AGAH_ENONCANON, 0},
        {"2 links under dc 00 02", 9, AGAH_ENONCANON, 0},
        {"a list holding nil", 10, AGAH_ETYPE, 0},
        {"a list holding [id, nonce]", 11, AGAH_EFIELDS, 0},
        {"a list link naming no epoch", 12, AGAH_EVALUE, 0},
        {"a list link with ct bin 47", 13, AGAH_ETYPE, 0},
        {"one link, id as bin16", 14, AGAH_ENONCANON, 0},
        {"a list link with ct as bin16", 15, AGAH_ENONCANON, 0},
        {"a list of 3 lists of links", 16, AGAH_EFIELDS, 0},
        {"a map", 17, AGAH_ETYPE, 0},
    };
    static const size_t two[2] = {1, 0};
    struct tb *t = malloc(sizeof *t);
    uint8_t *b = NULL, nz[48];
    size_t n = 0, start, end;
    struct agah_rec r;
    struct agah_why why;

    if (t == NULL)
        abort();
    memset(nz, 0x44, sizeof nz);
    CHECK(links_make(two, 2, &b, &n) == 0 && agah_rec_decode(b, n, community, &r, &why) == 0);
    start = (size_t)(r.u.epoch.prev - b) - 1;
    end = start + 1 + 2 * AGAH_EPOCH_LINK_WIRE;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        t->n = 0;
        tb_raw(t, b, start);
        switch (cases[c].shape) {
        case 0:
            tb_raw(t, b + start, end - start);
            break;
        case 1:
            tb_u8(t, 0x90);
            break;
        case 2:
        case 3:
            if (cases[c].shape == 3)
                tb_u8(t, 0x91);
            tb_link(t, 0);
            break;
        case 4:
        case 5:
        case 6: {
            size_t k = cases[c].shape == 4 ? 3 : cases[c].shape == 5 ? 16 : 17;
            tb_hex(t, k == 3 ? "93" : k == 16 ? "dc 00 10" : "dc 00 11");
            for (size_t j = 0; j < k; j++)
                tb_link(t, j);
            break;
        }
        case 7: /* [link 1, link 1] */
        case 8: /* [link 1, link 0] */
            tb_u8(t, 0x92);
            tb_link(t, 1);
            tb_link(t, cases[c].shape == 7 ? 1 : 0);
            break;
        case 9:
            tb_hex(t, "dc 00 02");
            tb_raw(t, b + start + 1, end - start - 1);
            break;
        case 10:
            tb_u8(t, 0x92);
            tb_link(t, 0);
            tb_u8(t, 0xc0);
            break;
        case 11:
            tb_u8(t, 0x92);
            tb_link(t, 0);
            tb_u8(t, 0x92);
            tb_bin(t, lk_ids[1], 32);
            tb_bin(t, nz, 24);
            break;
        case 12: /* the zero id sorts first, so out of order too */
        case 13:
        case 15: {
            int sh = cases[c].shape;
            tb_u8(t, 0x92);
            tb_link(t, 0);
            tb_link_as(t, sh == 12 ? (const uint8_t[32]){0} : lk_ids[1], "c4 20",
                       sh == 13 ? "c4 2f" : sh == 15 ? "c5 00 30" : "c4 30", sh == 13 ? 47 : 48);
            break;
        }
        case 14:
            tb_link_as(t, lk_ids[0], "c5 00 20", "c4 30", 48);
            break;
        case 16:
            tb_u8(t, 0x93);
            for (size_t j = 0; j < 3; j++) {
                tb_u8(t, 0x92);
                tb_link(t, 2 * j);
                tb_link(t, 2 * j + 1);
            }
            break;
        default:
            tb_hex(t, "80");
            break;
        }
        tb_raw(t, b + end, n - 66 - end);
        tb_sign(t, founder);
        int got = dec(t, community, &r, &why);
        CHECK_CASE(got == cases[c].want, cases[c].name, got, cases[c].want);
        if (got == 0) {
            CHECK(r.u.epoch.n_prev == cases[c].n_prev);
            for (size_t i = 0; i < r.u.epoch.n_prev; i++)
                CHECK(memcmp(agah_rec_epoch_prev_id(&r, i), lk_ids[i], 32) == 0);
            CHECK(agah_rec_epoch_prev_id(&r, r.u.epoch.n_prev) == NULL);
        }
    }
    /* A bit flipped in link 1's id (its last byte: the order holds), nonce
     * or ct, signed again: that link no longer opens, link 0 still does.
     * Unsigned, the flip fails the signature. */
    static const size_t off[] = {3 + 31, 3 + 32 + 2 + 5, 3 + 32 + 2 + 24 + 2 + 40};
    for (size_t f = 0; f < sizeof off / sizeof off[0]; f++) {
        uint8_t got[32];
        size_t at = end - AGAH_EPOCH_LINK_WIRE + off[f];
        t->n = 0;
        tb_raw(t, b, n);
        t->d[at] ^= 0x01;
        CHECK(agah_rec_decode(t->d, t->n, community, &r, &why) == AGAH_ESIG);
        t->n = n - 66;
        tb_sign(t, founder);
        CHECK(dec(t, community, &r, &why) == 0 && r.u.epoch.n_prev == 2);
        CHECK(agah_rec_epoch_prev_open(&r, 0, lk_new, got) == 0 && memcmp(got, lk_keys[0], 32) == 0);
        CHECK(agah_rec_epoch_prev_open(&r, 1, lk_new, got) == AGAH_ECRYPTO);
    }
    free(b);
    free(t);
}

int main(void)
{
    if (rec_fixture_init("test_record") != 0)
        return 1;
    test_enums();
    test_ids();
    test_keys();
    test_roundtrip();
    links_init();
    test_epoch_max();
    test_decode_stored();
    test_links_roundtrip();
    test_links_malformed();

    free(alert_num);
    return rec_fixture_done("test_record");
}

/* libFuzzer target for the record decoder, the path every byte from a peer
 * takes first. Whatever decodes must be self-consistent, and the decrypting
 * entry points must cope with whatever the decoder accepted. Each input is
 * tried twice: as received, and with a valid signature by the vectors'
 * member appended, so mutations of member-authored records get past the
 * signature check and reach the field checks behind it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <agah/keys.h>
#include <agah/record.h>

static struct agah_identity *me;

static void check_one(const uint8_t *buf, size_t size)
{
    struct agah_rec r;
    struct agah_why why;
    uint8_t id[AGAH_HASH_LEN], key[AGAH_KEY_LEN];
    struct agah_alert_body body;
    char note[AGAH_NOTE_MAX + 1];

    if (agah_rec_decode(buf, size, NULL, &r, &why) != 0)
        return;
    agah_hash(buf, size, id);
    if (r.len != size || r.bytes != buf || memcmp(id, r.id, sizeof id) != 0)
        abort();
    memset(key, 0x42, sizeof key); /* the vectors' epoch key */
    /* Names and reasons (record version 3): a text names its key exactly
     * when it has one, and opening it copes with whatever decoded. */
    {
        char n1[AGAH_NAME_MAX + 1], n2[AGAH_NAME_MAX + 1], reason[AGAH_NOTE_MAX + 1];
        uint8_t gkey[AGAH_KEY_LEN];
        const uint8_t *kid = agah_rec_text_key_id(&r);
        memset(gkey, 0x44, sizeof gkey); /* the vectors' genesis key */
        if (r.type == AGAH_REC_GENESIS && (kid != r.id || !r.u.genesis.names.has))
            abort();
        if (r.type == AGAH_REC_GENESIS)
            (void)agah_rec_open_names(&r, gkey, n1, n2, &why);
        if (r.type == AGAH_REC_ADMISSION && (kid != NULL) != r.u.admission.name.has)
            abort();
        if (r.type == AGAH_REC_ADMISSION)
            (void)agah_rec_open_name(&r, key, n1, &why);
        if (r.type == AGAH_REC_REVOCATION)
            (void)agah_rec_open_reason(&r, key, reason, &why);
    }
    switch (r.type) {
    case AGAH_REC_EPOCH:
        if (r.u.epoch.n == 0 || agah_rec_epoch_member(&r, r.u.epoch.n - 1) == NULL)
            abort();
        (void)agah_rec_epoch_open(&r, me, key);
        {
            /* The chain links: every one below n_prev is there, ids
             * strictly ascending, and none at n_prev. */
            uint8_t prev[AGAH_KEY_LEN];
            if (r.u.epoch.n_prev > AGAH_EPOCH_MAX_LINKS)
                abort();
            for (size_t i = 0; i < r.u.epoch.n_prev; i++) {
                const uint8_t *pid = agah_rec_epoch_prev_id(&r, i);
                if (pid == NULL || agah_rec_epoch_prev_open(&r, i, key, prev) == AGAH_ENOENT ||
                    (i > 0 && memcmp(agah_rec_epoch_prev_id(&r, i - 1), pid, AGAH_HASH_LEN) >= 0))
                    abort();
            }
            if (agah_rec_epoch_prev_open(&r, r.u.epoch.n_prev, key, prev) != AGAH_ENOENT ||
                agah_rec_epoch_prev_id(&r, r.u.epoch.n_prev) != NULL)
                abort();
            /* The network secret: its id is the origin or this record's
             * own; opening copes with whatever decoded; relay entries are
             * in bounds and hold no recipient. */
            uint8_t nid[AGAH_HASH_LEN], net[AGAH_KEY_LEN];
            agah_rec_epoch_net_id(&r, nid);
            if (memcmp(nid, r.u.epoch.has_net ? r.u.epoch.net_origin : r.id, AGAH_HASH_LEN) != 0)
                abort();
            (void)agah_rec_epoch_net_open(&r, key, net);
            (void)agah_rec_epoch_net_relay_open(&r, me, net);
            if (r.u.epoch.n_relays > 0 &&
                agah_rec_epoch_relay(&r, r.u.epoch.n_relays - 1) == NULL)
                abort();
            if (agah_rec_epoch_relay(&r, r.u.epoch.n_relays) != NULL)
                abort();
        }
        break;
    case AGAH_REC_REVOCATION:
        /* The keep list: bounded, every listed id found, a prefix of
         * the record (never past it) not. */
        if (r.u.revocation.n_keep > AGAH_REV_KEEP_MAX)
            abort();
        for (size_t i = 0; i < r.u.revocation.n_keep; i++) {
            const uint8_t *k = agah_rec_revocation_keep(&r, i);
            if (k == NULL || k < buf || k + AGAH_HASH_LEN > buf + size ||
                !agah_rec_revocation_keeps(&r, k))
                abort();
        }
        if (agah_rec_revocation_keep(&r, r.u.revocation.n_keep) != NULL)
            abort();
        break;
    case AGAH_REC_ALERT:
        (void)agah_rec_open_alert(&r, key, &body, &why);
        break;
    case AGAH_REC_CONFIRM:
    case AGAH_REC_RETRACT:
        (void)agah_rec_open_note(&r, key, note, &why);
        break;
    default:
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf;
    uint8_t sig[AGAH_SIG_LEN];

    if (me == NULL) {
        uint8_t seed[AGAH_SEED_LEN];
        memset(seed, 0x02, sizeof seed); /* the vectors' member */
        if (agah_identity_from_seed(seed, &me) != 0)
            abort();
    }
    if (size > AGAH_REC_MAX)
        return 0;
    /* Copies of exactly the decoded length, so reads past the end are caught. */
    if ((buf = malloc(14 + size + 2 + AGAH_SIG_LEN)) == NULL)
        return 0;
    memcpy(buf, data, size);
    check_one(buf, size);
    memcpy(buf, "agah-record-v1", 14);
    memcpy(buf + 14, data, size);
    agah_identity_sign(me, buf, 14 + size, sig);
    memmove(buf, buf + 14, size);
    buf[size] = 0xc4;
    buf[size + 1] = AGAH_SIG_LEN;
    memcpy(buf + size + 2, sig, sizeof sig);
    uint8_t *exact = malloc(size + 2 + AGAH_SIG_LEN);
    if (exact != NULL) {
        memcpy(exact, buf, size + 2 + AGAH_SIG_LEN);
        check_one(exact, size + 2 + AGAH_SIG_LEN);
        free(exact);
    }
    free(buf);
    return 0;
}

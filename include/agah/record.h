/* Records: the signed, msgpack-encoded units that agah stores and gossips.
 *
 * Every record is one canonical msgpack array
 *   [version=3, type, community(bin32), author(bin32), created(uint),
 *    expires(uint, 0 = never), ...type fields..., signature(bin64)]
 * The Ed25519 signature covers "agah-record-v1" || every byte of the
 * encoding before the signature element. The record id is BLAKE2b-256 of all
 * the bytes, signature included. Canonical encoding + non-malleable Ed25519
 * mean one record has exactly one valid byte string, so ids are stable.
 * Names and revocation reasons travel encrypted to members (version 3), so
 * a relay and the network see keys, times and sizes but no names.
 * proto/PROTOCOL.md is the full specification. */
#ifndef AGAH_RECORD_H
#define AGAH_RECORD_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"
#include "ident.h"
#include "keys.h"

/* The one place the record version lives: version 3 encrypts names and
 * reasons and pads every encrypted text (version 2 carried them in clear). */
#define AGAH_REC_VERSION 3
#define AGAH_REC_MAX 65536        /* largest encoded record, bytes */
#define AGAH_NAME_MAX 64          /* community and member names, bytes */
#define AGAH_NOTE_MAX 2048        /* alert notes, reasons, bytes */
#define AGAH_EPOCH_MAX_MEMBERS 400 /* sealed keys in one epoch record */
/* Record ids a revocation keeps valid: a REVOCATION of 2 KiB of reason and
 * this many ids (34 bytes each on the wire) still fits AGAH_REC_MAX. */
#define AGAH_REV_KEEP_MAX 1800
#define AGAH_NONCE_LEN 24
#define AGAH_KEY_LEN 32
/* Encrypted texts are padded (ISO/IEC 7816-4, libsodium's sodium_pad) so
 * their length says little: alert bodies, notes and reasons to the smallest
 * of AGAH_PAD_SIZES that exceeds them (the last holds the largest alert
 * body, 2,312 bytes), an admission's name to AGAH_PAD_NAME and a genesis
 * record's two names to AGAH_PAD_NAMES. Ciphertexts add a 16-byte tag. */
#define AGAH_PAD_NSIZES 4
#define AGAH_PAD_SIZES {64, 256, 1024, 2352}
#define AGAH_PAD_NAME 80
#define AGAH_PAD_NAMES 144

enum agah_rec_type {
    AGAH_REC_GENESIS = 1,    /* founds a community; author = founder */
    AGAH_REC_ADMISSION = 2,  /* organiser admits a key with a role */
    AGAH_REC_REVOCATION = 3, /* organiser revokes a key */
    AGAH_REC_EPOCH = 4,      /* organiser issues an epoch key, sealed per member */
    AGAH_REC_ALERT = 5,      /* an encrypted alert */
    AGAH_REC_CONFIRM = 6,    /* "this reached me too", encrypted note */
    AGAH_REC_RETRACT = 7,    /* withdraws an alert, encrypted reason */
};

enum agah_role { AGAH_ROLE_ORGANISER = 0, AGAH_ROLE_MEMBER = 1, AGAH_ROLE_RELAY = 2 };
enum agah_alert_kind { AGAH_KIND_NUMBER = 1, AGAH_KIND_ACCOUNT = 2, AGAH_KIND_ALERT = 3 };
enum agah_category {
    AGAH_CAT_HARASSMENT = 0, AGAH_CAT_IMPERSONATION = 1, AGAH_CAT_SCAM = 2,
    AGAH_CAT_SURVEILLANCE = 3, AGAH_CAT_OTHER = 4,
};
enum agah_severity { AGAH_SEV_INFO = 0, AGAH_SEV_WARNING = 1, AGAH_SEV_DANGER = 2 };

/* One sealed epoch-key entry: recipient key and crypto_box_seal of the
 * 32-byte epoch key to its X25519 counterpart. */
#define AGAH_EPOCH_ENTRY_LEN (AGAH_PK_LEN + AGAH_KEY_LEN + AGAH_SEAL_OVERHEAD)
/* On the wire each entry is the canonical msgpack [bin32, bin80]:
 * 92 c4 20 <member 32> c4 50 <sealed 80>, always 117 bytes, so the entries
 * of a decoded record sit in its buffer at a fixed stride. */
#define AGAH_REV_KEEP_WIRE (2 + AGAH_HASH_LEN)
#define AGAH_EPOCH_ENTRY_WIRE (1 + 2 + AGAH_PK_LEN + 2 + AGAH_KEY_LEN + AGAH_SEAL_OVERHEAD)
/* An EPOCH links back to at most this many earlier keys. Each link is the
 * canonical [epoch bin32, nonce bin24, ct bin48]: 93 c4 20 <32> c4 18 <24>
 * c4 30 <48>, always 111 bytes, so they too sit at a fixed stride. */
#define AGAH_EPOCH_MAX_LINKS 16
#define AGAH_EPOCH_LINK_WIRE (1 + 2 + AGAH_HASH_LEN + 2 + AGAH_NONCE_LEN + 2 + AGAH_KEY_LEN + 16)

/* An encrypted text of a GENESIS (its names), ADMISSION (the name) or
 * REVOCATION (the reason): [] (has 0) or [epoch, nonce, ct], ct under the
 * key of EPOCH record `epoch` (in GENESIS all zero: the genesis key, which
 * the community's first epoch carries in its chain link). */
struct agah_rec_text {
    int has;
    uint8_t epoch[AGAH_HASH_LEN];
    uint8_t nonce[AGAH_NONCE_LEN];
    const uint8_t *ct;
    size_t ct_len;
    size_t ad_len; /* bytes[0..ad_len) is the AEAD associated data */
};

/* A decoded record. Every pointer borrows from the buffer given to
 * agah_rec_decode, which must outlive this struct. Strings are not
 * NUL-terminated: use the lengths. */
struct agah_rec {
    uint8_t id[AGAH_HASH_LEN];
    int type;
    uint8_t community[AGAH_HASH_LEN]; /* all zero in a genesis record */
    uint8_t author[AGAH_PK_LEN];
    uint64_t created, expires;        /* Unix seconds; expires 0 = never */
    union {
        /* names: the community's and the founder's, encrypted. */
        struct { struct agah_rec_text names; } genesis;
        struct { uint8_t member[AGAH_PK_LEN]; int role;
                 struct agah_rec_text name; } admission;
        /* keep: the first of n_keep record ids (AGAH_REV_KEEP_WIRE bytes
         * apart, strictly ascending) of the member's records that stay
         * valid; read them with agah_rec_revocation_keep. */
        struct { uint8_t member[AGAH_PK_LEN];
                 size_t n_keep; const uint8_t *keep;
                 struct agah_rec_text reason; } revocation;
        /* entries: the first of n wire entries (AGAH_EPOCH_ENTRY_WIRE bytes
         * apart, sorted by member key); read them with
         * agah_rec_epoch_member / agah_rec_epoch_sealed. */
        /* prev: the first of n_prev links (AGAH_EPOCH_LINK_WIRE bytes
         * apart, ascending by epoch id), each an earlier epoch's key
         * encrypted under this one's: whoever opens this epoch opens those
         * too, and so back through the history. Read them with
         * agah_rec_epoch_prev_id / agah_rec_epoch_prev_open. */
        /* net: the community's network secret while this epoch is the
         * posting one. has_net 0: derived from this epoch's key (the epoch
         * mints it); 1: the secret minted by epoch net_origin, carried
         * encrypted under this epoch's key. relays: n_relays entries laid
         * out like `entries`, each sealing the network secret (never the
         * epoch key) to a relay; read them with agah_rec_epoch_relay_*. */
        struct { uint64_t number; size_t n;
                 const uint8_t *entries;
                 size_t n_prev;
                 const uint8_t *prev;
                 int has_net;
                 uint8_t net_origin[AGAH_HASH_LEN], net_nonce[AGAH_NONCE_LEN];
                 const uint8_t *net_ct;
                 size_t n_relays;
                 const uint8_t *relays; } epoch;
        /* ALERT, CONFIRM, RETRACT: ref is the alert id (zero for ALERT). */
        struct { uint8_t ref[AGAH_HASH_LEN]; uint8_t epoch[AGAH_HASH_LEN];
                 uint8_t nonce[AGAH_NONCE_LEN];
                 const uint8_t *ct; size_t ct_len;
                 size_t ad_len; /* bytes[0..ad_len) is the AEAD associated data */ } sealed;
    } u;
    const uint8_t *bytes; /* the exact encoding */
    size_t len;
};

/* Strict decoder for untrusted bytes: bounds, prescan (canonical), exact
 * types and sizes, known version and type, no trailing bytes, signature
 * verified over the received bytes, id computed. With `community` non-NULL,
 * a non-genesis record of another community is AGAH_ECOMMUNITY (a genesis
 * record must have id == *community). Does NOT check who may sign what:
 * that needs the membership state (daemon). Allocates only msgpack-c's
 * zone, which the prescan bounds by len, and one copy of at most len + 14
 * bytes for the signature check (prefix and bytes must be contiguous). */
int agah_rec_decode(const uint8_t *buf, size_t len, const uint8_t *community,
                    struct agah_rec *out, struct agah_why *why);

/* agah_rec_decode without the signature check, and only that: for bytes
 * this node verified with agah_rec_decode itself before it stored them,
 * read back from its own store (an Ed25519 verification is most of the
 * cost of rebuilding the in-memory state at start-up). Never for bytes
 * from the network, the control socket or any file another party wrote:
 * a record that decodes here may carry any author. */
int agah_rec_decode_stored(const uint8_t *buf, size_t len, const uint8_t *community,
                           struct agah_rec *out, struct agah_why *why);

/* Encoders. Each signs with `id`, returns a malloc'd encoding in *out
 * (caller frees) and its length; the record id is agah_hash(*out).
 * `gkey` is the genesis key: random, kept under the community id, and
 * carried by the first EPOCH's chain link (agah_rec_epoch_chained with
 * prev_id = the community id). */
int agah_rec_genesis(const struct agah_identity *id, const uint8_t gkey[AGAH_KEY_LEN],
                     const char *name, const char *founder_name, uint64_t created,
                     uint8_t **out, size_t *outlen);
/* The name is encrypted under epoch `epoch_id`'s key `key` (the epoch the
 * signer posts under). Both NULL: no name field ([]), and `name` must be
 * "" (AGAH_EINVAL otherwise: a name is never written in clear). */
int agah_rec_admission(const struct agah_identity *id, const uint8_t community[32],
                       const uint8_t member[32], int role, const char *name,
                       const uint8_t *epoch_id, const uint8_t *key,
                       uint64_t created, uint64_t expires, uint8_t **out, size_t *outlen);
/* keep: n_keep record ids of the member's records that stay valid, in any
 * order (the encoder sorts them; a repeated id is AGAH_EINVAL). The reason
 * is encrypted as an admission's name is. */
int agah_rec_revocation(const struct agah_identity *id, const uint8_t community[32],
                        const uint8_t member[32], const char *reason,
                        const uint8_t *epoch_id, const uint8_t *key,
                        const uint8_t (*keep)[32], size_t n_keep, uint64_t created,
                        uint8_t **out, size_t *outlen);
/* The id under which the key of a decoded GENESIS, ADMISSION or
 * REVOCATION's text is held: the community id (the genesis record's own
 * id) for GENESIS, the epoch id otherwise; NULL when it has no text. */
const uint8_t *agah_rec_text_key_id(const struct agah_rec *r);
/* Open that text with the key: a GENESIS's names (community, founder), an
 * ADMISSION's name, a REVOCATION's reason, NUL-terminated. A record with
 * no text gives "". AGAH_ECRYPTO for a wrong key or an altered record. */
int agah_rec_open_names(const struct agah_rec *r, const uint8_t key[AGAH_KEY_LEN],
                        char name[AGAH_NAME_MAX + 1], char founder_name[AGAH_NAME_MAX + 1],
                        struct agah_why *why);
int agah_rec_open_name(const struct agah_rec *r, const uint8_t key[AGAH_KEY_LEN],
                       char name[AGAH_NAME_MAX + 1], struct agah_why *why);
int agah_rec_open_reason(const struct agah_rec *r, const uint8_t key[AGAH_KEY_LEN],
                         char reason[AGAH_NOTE_MAX + 1], struct agah_why *why);
/* Record id i of a decoded REVOCATION's keep list; NULL when out of range. */
const uint8_t *agah_rec_revocation_keep(const struct agah_rec *r, size_t i);
/* Whether `id` is among n 32-byte ids sorted bytewise, the first at base
 * and each `stride` bytes after the one before (binary search). */
int agah_ids_find(const uint8_t *base, size_t n, size_t stride, const uint8_t id[32]);
/* Whether a decoded REVOCATION keeps record `id` (binary search). */
int agah_rec_revocation_keeps(const struct agah_rec *r, const uint8_t id[32]);
/* What an EPOCH record carries. */
struct agah_epoch_spec {
    uint64_t number;                  /* >= 1 */
    const uint8_t (*recipients)[32];  /* organisers and members: sealed the key */
    size_t n;                         /* 1..AGAH_EPOCH_MAX_MEMBERS */
    const uint8_t (*relays)[32];      /* relays: sealed the network secret only */
    size_t n_relays;                  /* 0..AGAH_EPOCH_MAX_MEMBERS, none a recipient */
    const uint8_t *key;               /* the epoch key, AGAH_KEY_LEN */
    /* The chain links: the key prev_keys[i] of epoch prev_ids[i], for i
     * below n_prev (0..AGAH_EPOCH_MAX_LINKS, no id twice; sorted here). */
    const uint8_t (*prev_ids)[32];
    const uint8_t *const *prev_keys;
    size_t n_prev;
    /* The network secret: NULL/NULL mints a new one from `key`; else the
     * secret `net` that epoch `net_origin` minted, carried on. */
    const uint8_t *net_origin, *net;
    uint64_t created;
};
/* Encodes and signs an EPOCH (recipients and relays are sorted here; a key
 * twice, or in both lists, is AGAH_EINVAL). */
int agah_rec_epoch_make(const struct agah_identity *id, const uint8_t community[32],
                        const struct agah_epoch_spec *s, uint8_t **out, size_t *outlen);
/* Shorthands: a fresh network secret, no relays; with or without a link. */
int agah_rec_epoch(const struct agah_identity *id, const uint8_t community[32], uint64_t number,
                   const uint8_t (*recipients)[32], size_t n, const uint8_t key[AGAH_KEY_LEN],
                   uint64_t created, uint8_t **out, size_t *outlen);
int agah_rec_epoch_chained(const struct agah_identity *id, const uint8_t community[32],
                           uint64_t number, const uint8_t (*recipients)[32], size_t n,
                           const uint8_t key[AGAH_KEY_LEN], const uint8_t prev_id[32],
                           const uint8_t prev_key[AGAH_KEY_LEN], uint64_t created,
                           uint8_t **out, size_t *outlen);
/* Member key and sealed key (AGAH_KEY_LEN + AGAH_SEAL_OVERHEAD bytes) of
 * entry i of a decoded EPOCH record; NULL when i is out of range. */
const uint8_t *agah_rec_epoch_member(const struct agah_rec *r, size_t i);
const uint8_t *agah_rec_epoch_sealed(const struct agah_rec *r, size_t i);
/* The same for relay entry i (its box holds the network secret). */
const uint8_t *agah_rec_epoch_relay(const struct agah_rec *r, size_t i);
const uint8_t *agah_rec_epoch_relay_sealed(const struct agah_rec *r, size_t i);
/* The epoch id chain link i of a decoded EPOCH names; NULL when i is out
 * of range. */
const uint8_t *agah_rec_epoch_prev_id(const struct agah_rec *r, size_t i);
/* Opens chain link i of a decoded EPOCH with its key: that earlier epoch's
 * key in prev_key. AGAH_ENOENT if it has no link i, AGAH_ECRYPTO if `key`
 * is not this epoch's or the link was altered. */
int agah_rec_epoch_prev_open(const struct agah_rec *r, size_t i, const uint8_t key[AGAH_KEY_LEN],
                             uint8_t prev_key[AGAH_KEY_LEN]);
/* Finds this identity's entry and opens it: AGAH_ENOENT if not a recipient. */
int agah_rec_epoch_open(const struct agah_rec *r, const struct agah_identity *me,
                        uint8_t key[AGAH_KEY_LEN]);
/* Which network secret an EPOCH carries: the id of the epoch that minted
 * it (its own id when it mints one). Public, so nodes that cannot open
 * it still agree on which epochs share a secret. */
void agah_rec_epoch_net_id(const struct agah_rec *r, uint8_t net_id[AGAH_HASH_LEN]);
/* The network secret of a decoded EPOCH from its key (a recipient's way):
 * AGAH_ECRYPTO if `key` is not this epoch's or the secret was altered. */
int agah_rec_epoch_net_open(const struct agah_rec *r, const uint8_t key[AGAH_KEY_LEN],
                            uint8_t net[AGAH_KEY_LEN]);
/* The network secret from this identity's relay entry (a relay's way):
 * AGAH_ENOENT if it has none. */
int agah_rec_epoch_net_relay_open(const struct agah_rec *r, const struct agah_identity *me,
                                  uint8_t net[AGAH_KEY_LEN]);
/* The network secret an epoch with key `key` mints. */
void agah_net_secret_derive(const uint8_t key[AGAH_KEY_LEN], uint8_t net[AGAH_KEY_LEN]);

/* The plaintext of an alert. */
struct agah_alert_body {
    int kind;                     /* agah_alert_kind */
    char target[AGAH_TARGET_MAX]; /* normalised; "" for AGAH_KIND_ALERT */
    int category;                 /* agah_category */
    char note[AGAH_NOTE_MAX + 1]; /* UTF-8, NUL-terminated */
    int severity;                 /* agah_severity */
};

/* Alert body encrypted with XChaCha20-Poly1305 under the epoch key; the
 * associated data is every byte of the record before the nonce element
 * (version, type, community, author, created, expires, ref, epoch), so the
 * outer fields cannot be swapped. Nonce random. */
int agah_rec_alert(const struct agah_identity *id, const uint8_t community[32],
                   const uint8_t epoch_id[32], const uint8_t key[AGAH_KEY_LEN],
                   const struct agah_alert_body *body, uint64_t created, uint64_t expires,
                   uint8_t **out, size_t *outlen);
/* CONFIRM / RETRACT: `type` is AGAH_REC_CONFIRM or AGAH_REC_RETRACT; `ref`
 * the alert id; `note` the encrypted note or reason (may be ""). */
int agah_rec_annotate(const struct agah_identity *id, int type, const uint8_t community[32],
                      const uint8_t ref[32], const uint8_t epoch_id[32],
                      const uint8_t key[AGAH_KEY_LEN], const char *note, uint64_t created,
                      uint8_t **out, size_t *outlen);

/* Decrypts and strictly decodes an ALERT body (AGAH_ECRYPTO if the key is
 * wrong or anything was altered). */
int agah_rec_open_alert(const struct agah_rec *r, const uint8_t key[AGAH_KEY_LEN],
                        struct agah_alert_body *out, struct agah_why *why);
/* Decrypts the note of a CONFIRM or RETRACT into note (NUL-terminated). */
int agah_rec_open_note(const struct agah_rec *r, const uint8_t key[AGAH_KEY_LEN],
                       char note[AGAH_NOTE_MAX + 1], struct agah_why *why);

/* Test hook: the random source for nonces and keys (callers pass the
 * clock explicitly as `created`). NULL restores randombytes_buf. */
void agah_set_random(void (*fill)(void *buf, size_t len));
void agah_random(void *buf, size_t len);

/* Names for enums ("organiser", "harassment", ...); NULL if out of range.
 * agah_*_parse return the enum value or -1. */
const char *agah_role_name(int role);
const char *agah_category_name(int cat);
const char *agah_severity_name(int sev);
const char *agah_kind_name(int kind);
int agah_role_parse(const char *s);
int agah_category_parse(const char *s);
int agah_severity_parse(const char *s);
int agah_kind_parse(const char *s);

#endif

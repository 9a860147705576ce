/* The node's private community state, DATA_DIR/community: network secret,
 * readable epoch keys, bootstrap records and peers. Encrypted under a key
 * derived from the identity seed, so a seized data directory reveals
 * nothing without the passphrase (S5).
 *
 * File: magic "AGAHLOC1"(8) | nonce(24) | XChaCha20-Poly1305 ciphertext of
 * the payload with the magic as associated data. The key is BLAKE2b-256
 * keyed by the seed over "agah-local-v1". The payload is a canonical
 * msgpack array (proto/PROTOCOL.md, "The local community file"):
 *   [version=1, community bin32, name str, network_secret bin32, role uint,
 *    [[epoch_id bin32, epoch_key bin32]...], [record bin...], [peer str...]] */
#define _POSIX_C_SOURCE 200809L /* strnlen */
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <msgpack.h>
#include <agah/local.h>
#include <agah/mp.h>
#include <agah/keyfile.h>
#include "joincode_internal.h"
#include "secbuf.h"

#define LOCAL_MAGIC "AGAHLOC1"
#define LOCAL_MAGIC_LEN 8
#define LOCAL_NONCE_LEN crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define LOCAL_TAG_LEN crypto_aead_xchacha20poly1305_ietf_ABYTES
#define LOCAL_HDR_LEN (LOCAL_MAGIC_LEN + LOCAL_NONCE_LEN)
#define LOCAL_CONTEXT "agah-local-v1"
#define LOCAL_VERSION 1
#define LOCAL_FIELDS 8

struct agah_local *agah_local_new(void)
{
    struct agah_local *l;

    if (agah_init() != 0)
        return NULL;
    l = sodium_malloc(sizeof *l);
    if (l != NULL)
        sodium_memzero(l, sizeof *l);
    return l;
}

void agah_local_free(struct agah_local *l)
{
    if (l == NULL)
        return;
    for (size_t i = 0; i < l->n_records && i < AGAH_LOCAL_MAX_RECORDS; i++)
        free(l->records[i]);
    sodium_memzero(l, sizeof *l);
    sodium_free(l);
}

int agah_local_add_record(struct agah_local *l, const uint8_t *buf, size_t len)
{
    uint8_t *copy;

    if (l == NULL || buf == NULL || len == 0)
        return AGAH_EINVAL;
    if (len > AGAH_REC_MAX || l->n_records >= AGAH_LOCAL_MAX_RECORDS)
        return AGAH_ETOOBIG;
    copy = malloc(len);
    if (copy == NULL)
        return AGAH_ENOMEM;
    memcpy(copy, buf, len);
    l->records[l->n_records] = copy;
    l->record_lens[l->n_records] = len;
    l->n_records++;
    return 0;
}

/* Signs the founding records into l: genesis, epoch 1 (chained to the
 * genesis key, so members who reach epoch 1 read the names and a relay
 * never does), the founder's admission. */
static int local__found_records(const struct agah_identity *id, struct agah_local *l,
                                const char *name, const char *founder_name, uint64_t created)
{
    const uint8_t *pk = agah_identity_pk(id);
    uint8_t *g = NULL, *a = NULL, *e = NULL;
    size_t gl = 0, al = 0, el = 0;
    int r;

    /* epochs[1] is the genesis key, under the community id. */
    agah_random(l->epochs[1].key, AGAH_KEY_LEN);
    if ((r = agah_rec_genesis(id, l->epochs[1].key, name, founder_name, created, &g, &gl)) != 0)
        goto out;
    agah_hash(g, gl, l->community);
    memcpy(l->epochs[1].id, l->community, AGAH_HASH_LEN);
    agah_random(l->epochs[0].key, AGAH_KEY_LEN);
    if ((r = agah_rec_epoch_chained(id, l->community, 1, (const uint8_t(*)[32])pk, 1,
                                    l->epochs[0].key, l->community, l->epochs[1].key, created,
                                    &e, &el)) != 0)
        goto out;
    agah_hash(e, el, l->epochs[0].id);
    l->n_epochs = 2;
    if ((r = agah_rec_admission(id, l->community, pk, AGAH_ROLE_ORGANISER, founder_name,
                                l->epochs[0].id, l->epochs[0].key, created, 0, &a, &al)) != 0)
        goto out;
    if ((r = agah_local_add_record(l, g, gl)) != 0 || (r = agah_local_add_record(l, a, al)) != 0 ||
        (r = agah_local_add_record(l, e, el)) != 0)
        goto out;
out:
    free(g);
    free(a);
    free(e);
    return r;
}

int agah_local_found(const struct agah_identity *id, const char *name, const char *founder_name,
                     uint64_t created, struct agah_local **out)
{
    struct agah_local *l = NULL;
    int r;

    *out = NULL;
    if (id == NULL || name == NULL || founder_name == NULL ||
        strlen(name) > AGAH_NAME_MAX)
        return AGAH_EINVAL;
    if ((l = agah_local_new()) == NULL)
        return AGAH_ENOMEM;
    if ((r = local__found_records(id, l, name, founder_name, created)) != 0) {
        agah_local_free(l);
        return r;
    }
    /* Epoch 1 mints the network secret (PROTOCOL.md, "Network secrets");
     * the file keeps it for a start before the store is read. */
    agah_net_secret_derive(l->epochs[0].key, l->network_secret);
    (void)snprintf(l->name, sizeof l->name, "%s", name);
    l->role = AGAH_ROLE_ORGANISER;
    *out = l;
    return 0;
}

static int local__pack_bin(msgpack_packer *pk, const void *p, size_t n)
{
    if (msgpack_pack_bin(pk, n) != 0 || msgpack_pack_bin_body(pk, p, n) != 0)
        return -1;
    return 0;
}

/* The payload into `out` (guarded memory, initialised here; the caller
 * frees it). AGAH_EINVAL when l breaks a bound. Writes at `off` so the
 * caller can reserve room for the file header in front. */
static int local__encode(const struct agah_local *l, size_t off, size_t tail,
                         struct agah_mp_fixbuf *out)
{
    msgpack_packer pk;
    size_t name_len, cap;
    int r;

    out->p = NULL;
    out->len = out->cap = 0;
    name_len = strnlen(l->name, AGAH_NAME_MAX + 1);
    if (name_len > AGAH_NAME_MAX || l->role < AGAH_ROLE_ORGANISER || l->role > AGAH_ROLE_RELAY ||
        l->n_epochs > AGAH_LOCAL_MAX_EPOCHS || l->n_records > AGAH_LOCAL_MAX_RECORDS ||
        l->n_peers > AGAH_LOCAL_MAX_PEERS)
        return AGAH_EINVAL;
    cap = off + tail + 1 + 9 + (2 + AGAH_HASH_LEN) + (5 + name_len) + (2 + 32) + 9 + 3 +
          l->n_epochs * (1 + 2 * (2 + 32)) + 3 + 3 + l->n_peers * (2 + AGAH_ADDR_MAX);
    for (size_t i = 0; i < l->n_records; i++) {
        if (l->records[i] == NULL || l->record_lens[i] == 0 ||
            l->record_lens[i] > AGAH_REC_MAX)
            return AGAH_EINVAL;
        cap += 5 + l->record_lens[i];
    }
    for (size_t i = 0; i < l->n_peers; i++)
        if (agah_addr_parse(l->peers[i], strnlen(l->peers[i], AGAH_ADDR_MAX), NULL, NULL) != 0)
            return AGAH_EINVAL;
    if ((r = agah_secbuf_init(out, cap)) != 0)
        return r;
    out->len = off;
    msgpack_packer_init(&pk, out, agah_mp_fixbuf_write);
    if (msgpack_pack_array(&pk, LOCAL_FIELDS) != 0 ||
        msgpack_pack_uint64(&pk, LOCAL_VERSION) != 0 ||
        local__pack_bin(&pk, l->community, AGAH_HASH_LEN) != 0 ||
        msgpack_pack_str(&pk, name_len) != 0 || msgpack_pack_str_body(&pk, l->name, name_len) != 0 ||
        local__pack_bin(&pk, l->network_secret, 32) != 0 ||
        msgpack_pack_uint64(&pk, (uint64_t)l->role) != 0 ||
        msgpack_pack_array(&pk, l->n_epochs) != 0)
        goto fail;
    for (size_t i = 0; i < l->n_epochs; i++)
        if (msgpack_pack_array(&pk, 2) != 0 ||
            local__pack_bin(&pk, l->epochs[i].id, AGAH_HASH_LEN) != 0 ||
            local__pack_bin(&pk, l->epochs[i].key, AGAH_KEY_LEN) != 0)
            goto fail;
    if (msgpack_pack_array(&pk, l->n_records) != 0)
        goto fail;
    for (size_t i = 0; i < l->n_records; i++)
        if (local__pack_bin(&pk, l->records[i], l->record_lens[i]) != 0)
            goto fail;
    if (msgpack_pack_array(&pk, l->n_peers) != 0)
        goto fail;
    for (size_t i = 0; i < l->n_peers; i++) {
        size_t n = strlen(l->peers[i]);
        if (msgpack_pack_str(&pk, n) != 0 || msgpack_pack_str_body(&pk, l->peers[i], n) != 0)
            goto fail;
    }
    if (out->len + tail > out->cap)
        goto fail;
    return 0;
fail:
    agah_secbuf_free(out);
    return AGAH_EINTERNAL; /* the capacity bound above was wrong */
}

/* Checks that `o` is an array of at most `max` elements; the bound is
 * checked before the caller fills anything. */
static int local__array_max(const msgpack_object *o, const char *what, size_t max,
                            struct agah_why *why)
{
    if (o->type != MSGPACK_OBJECT_ARRAY)
        return agah_fail(why, AGAH_ETYPE, "%s: expected an array", what);
    if (o->via.array.size > max)
        return agah_fail(why, AGAH_ETOOBIG, "%s: %u, at most %zu allowed", what,
                         o->via.array.size, max);
    return 0;
}

/* Strict decoding of the opened payload into a new struct (guarded memory;
 * nothing handed out on failure). */
static int local__decode(const uint8_t *buf, size_t len, struct agah_local **out,
                         struct agah_why *why)
{
    msgpack_unpacked res;
    struct agah_local *l = NULL;
    const msgpack_object *f;
    const char *s;
    size_t n;
    uint64_t v;
    int r;

    msgpack_unpacked_init(&res);
    if ((r = agah_mp_unpack(buf, len, 1, &res, why)) != 0)
        goto out;
    if ((r = agah_mp_array(&res.data, "community file", LOCAL_FIELDS, why)) != 0)
        goto out;
    f = res.data.via.array.ptr;
    if ((r = agah_mp_uint(&f[0], "version", UINT64_MAX, &v, why)) != 0)
        goto out;
    if (v != LOCAL_VERSION) {
        r = agah_fail(why, AGAH_EVERSION, "community file version %llu is not known",
                      (unsigned long long)v);
        goto out;
    }
    l = agah_local_new();
    if (l == NULL) {
        r = agah_fail(why, AGAH_ENOMEM, "out of memory");
        goto out;
    }
    if ((r = agah_mp_bin_exact(&f[1], "community", AGAH_HASH_LEN, l->community, why)) != 0 ||
        (r = agah_mp_str(&f[2], "name", AGAH_NAME_MAX, &s, &n, why)) != 0)
        goto out;
    memcpy(l->name, s, n);
    l->name[n] = '\0';
    if ((r = agah_mp_bin_exact(&f[3], "network secret", 32, l->network_secret, why)) != 0 ||
        (r = agah_mp_uint(&f[4], "role", AGAH_ROLE_RELAY, &v, why)) != 0)
        goto out;
    l->role = (int)v;

    if ((r = local__array_max(&f[5], "epochs", AGAH_LOCAL_MAX_EPOCHS, why)) != 0)
        goto out;
    for (uint32_t i = 0; i < f[5].via.array.size; i++) {
        const msgpack_object *e = &f[5].via.array.ptr[i];
        if ((r = agah_mp_array(e, "epoch", 2, why)) != 0 ||
            (r = agah_mp_bin_exact(&e->via.array.ptr[0], "epoch id", AGAH_HASH_LEN,
                                   l->epochs[i].id, why)) != 0 ||
            (r = agah_mp_bin_exact(&e->via.array.ptr[1], "epoch key", AGAH_KEY_LEN,
                                   l->epochs[i].key, why)) != 0)
            goto out;
        l->n_epochs = i + 1;
    }

    if ((r = local__array_max(&f[6], "records", AGAH_LOCAL_MAX_RECORDS, why)) != 0)
        goto out;
    for (uint32_t i = 0; i < f[6].via.array.size; i++) {
        const uint8_t *p;
        if ((r = agah_mp_bin(&f[6].via.array.ptr[i], "record", AGAH_REC_MAX, &p, &n, why)) != 0)
            goto out;
        if (n == 0) {
            r = agah_fail(why, AGAH_EVALUE, "record %u: empty", i);
            goto out;
        }
        if ((r = agah_local_add_record(l, p, n)) != 0) {
            r = agah_fail(why, r, "record %u: %s", i, agah_strerror(r));
            goto out;
        }
    }

    if ((r = local__array_max(&f[7], "peers", AGAH_LOCAL_MAX_PEERS, why)) != 0)
        goto out;
    for (uint32_t i = 0; i < f[7].via.array.size; i++) {
        if ((r = agah_mp_str(&f[7].via.array.ptr[i], "peer", AGAH_ADDR_MAX - 1, &s, &n, why)) !=
            0)
            goto out;
        /* An address an older agah kept that the parser now refuses (it
         * could not be dialled either) is left out rather than making the
         * whole file, and the node, unusable; the next write drops it. */
        if (agah_addr_parse(s, n, NULL, NULL) != 0)
            continue;
        memcpy(l->peers[l->n_peers], s, n);
        l->peers[l->n_peers][n] = '\0';
        l->n_peers++;
    }
    *out = l;
    l = NULL;
    r = 0;
out:
    agah_local_free(l);
    msgpack_unpacked_destroy(&res);
    return r;
}

int agah_local_write(const char *path, const struct agah_identity *id, const struct agah_local *l)
{
    struct agah_mp_fixbuf file = {0};
    struct agah_local *check = NULL;
    uint8_t *key = NULL;
    unsigned long long ctlen = 0;
    size_t plen;
    int r;

    if (path == NULL || id == NULL || l == NULL)
        return AGAH_EINVAL;
    if (agah_init() != 0)
        return AGAH_EINTERNAL;
    /* The payload goes right after the header and is encrypted in place,
     * so the plaintext exists only in this one guarded buffer. */
    if ((r = local__encode(l, LOCAL_HDR_LEN, LOCAL_TAG_LEN, &file)) != 0)
        goto out;
    plen = file.len - LOCAL_HDR_LEN;
    /* Never write a file we could not read back: run the reader's strict
     * decoder over what we are about to encrypt. */
    if ((r = local__decode(file.p + LOCAL_HDR_LEN, plen, &check, NULL)) != 0) {
        r = AGAH_EINVAL;
        goto out;
    }
    if (file.len + LOCAL_TAG_LEN > AGAH_LOCAL_MAX) {
        r = AGAH_ETOOBIG;
        goto out;
    }
    key = sodium_malloc(32);
    if (key == NULL) {
        r = AGAH_ENOMEM;
        goto out;
    }
    if ((r = agah_identity_derive(id, LOCAL_CONTEXT, key)) != 0)
        goto out;
    memcpy(file.p, LOCAL_MAGIC, LOCAL_MAGIC_LEN);
    randombytes_buf(file.p + LOCAL_MAGIC_LEN, LOCAL_NONCE_LEN);
    if (crypto_aead_xchacha20poly1305_ietf_encrypt(file.p + LOCAL_HDR_LEN, &ctlen,
                                                   file.p + LOCAL_HDR_LEN, plen, file.p,
                                                   LOCAL_MAGIC_LEN, NULL,
                                                   file.p + LOCAL_MAGIC_LEN, key) != 0 ||
        ctlen != plen + LOCAL_TAG_LEN) {
        r = AGAH_EINTERNAL;
        goto out;
    }
    r = agah_file_write_atomic(path, file.p, LOCAL_HDR_LEN + (size_t)ctlen, 0600);
out:
    agah_local_free(check);
    if (key != NULL) {
        sodium_memzero(key, 32);
        sodium_free(key);
    }
    agah_secbuf_free(&file);
    return r;
}

int agah_local_read(const char *path, const struct agah_identity *id, struct agah_local **out,
                    struct agah_why *why)
{
    uint8_t *file = NULL, *key = NULL, *plain = NULL;
    size_t len = 0, plen = 0;
    unsigned long long mlen = 0;
    int r;

    if (path == NULL || id == NULL || out == NULL)
        return agah_fail(why, AGAH_EINVAL, "no path, identity or output given");
    if (agah_init() != 0)
        return agah_fail(why, AGAH_EINTERNAL, "libsodium cannot start");
    r = agah_file_read(path, AGAH_LOCAL_MAX, &file, &len);
    if (r == AGAH_ENOENT) {
        r = agah_fail(why, r, "no community file at %s (run `agah community create` or "
                              "`agah join`)", path);
        goto out;
    }
    if (r == AGAH_ETOOBIG) {
        r = agah_fail(why, r, "%s is larger than a community file may be (%u bytes)", path,
                      AGAH_LOCAL_MAX);
        goto out;
    }
    if (r != 0) {
        r = agah_fail(why, r, "cannot read the community file %s", path);
        goto out;
    }
    if (len < LOCAL_HDR_LEN + LOCAL_TAG_LEN + 1) {
        r = agah_fail(why, AGAH_ETRUNC, "the community file is truncated (%zu bytes)", len);
        goto out;
    }
    if (memcmp(file, LOCAL_MAGIC, LOCAL_MAGIC_LEN) != 0) {
        r = agah_fail(why, AGAH_EVERSION,
                      "not an agah community file (or one of a version this program does not "
                      "know)");
        goto out;
    }
    plen = len - LOCAL_HDR_LEN - LOCAL_TAG_LEN;
    key = sodium_malloc(32);
    plain = sodium_malloc(plen);
    if (key == NULL || plain == NULL) {
        r = agah_fail(why, AGAH_ENOMEM, "out of memory");
        goto out;
    }
    if ((r = agah_identity_derive(id, LOCAL_CONTEXT, key)) != 0) {
        r = agah_fail(why, r, "cannot derive the community file key");
        goto out;
    }
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(plain, &mlen, NULL, file + LOCAL_HDR_LEN,
                                                   len - LOCAL_HDR_LEN, file, LOCAL_MAGIC_LEN,
                                                   file + LOCAL_MAGIC_LEN, key) != 0 ||
        mlen != plen) {
        r = agah_fail(why, AGAH_ECRYPTO,
                      "the community file was not written by this identity, or was altered");
        goto out;
    }
    if ((r = local__decode(plain, plen, out, why)) != 0)
        goto out;
    r = 0;
out:
    if (key != NULL) {
        sodium_memzero(key, 32);
        sodium_free(key);
    }
    if (plain != NULL) {
        sodium_memzero(plain, plen);
        sodium_free(plain);
    }
    free(file);
    return r;
}

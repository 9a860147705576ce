/* relaykeys: what a thief computes from a seized relay's data directory
 * (a passphrase-less identity, as documented) for the seized-store test
 * (tests/integration/test_seized_store.sh). It opens the relay's identity
 * and community file exactly as agahd does and prints, for each candidate
 * target given, the keyed hash an agah before issue 23 kept in every
 * member's store.db ("lookup": BLAKE2b-256 keyed by BLAKE2b-256(key =
 * network secret, "agah-lookup-v1")), as hex, one per line. The test then
 * looks for those bytes on a member's disk: a match would let anyone with
 * a relay's disk confirm which numbers the community flagged.
 *
 *   relaykeys DIR TARGET...
 */
#include <stdio.h>
#include <string.h>
#include <sodium.h>
#include <agah/agah.h>
#include <agah/datadir.h>

static void hex(const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        printf("%02x", b[i]);
    putchar('\n');
}

int main(int argc, char **argv)
{
    char path[AGAH_PATH_MAX];
    struct agah_identity *id = NULL;
    struct agah_local *l = NULL;
    struct agah_why why = {{0}};
    uint8_t lk[32], h[32];
    int r = 1;

    if (argc < 3) {
        fprintf(stderr, "usage: relaykeys DIR TARGET...\n");
        return 2;
    }
    if (agah_init() != 0 || agah_datadir_path(argv[1], "identity.key", path) != 0 ||
        agah_keyfile_read(path, NULL, 0, &id, &why) != 0 ||
        agah_datadir_path(argv[1], "community", path) != 0 ||
        agah_local_read(path, id, &l, &why) != 0) {
        fprintf(stderr, "relaykeys: cannot open %s: %s\n", argv[1], why.msg);
        goto out;
    }
    if (crypto_generichash(lk, sizeof lk, (const uint8_t *)"agah-lookup-v1", 14,
                           l->network_secret, 32) != 0)
        goto out;
    for (int i = 2; i < argc; i++) {
        if (crypto_generichash(h, sizeof h, (const uint8_t *)argv[i], strlen(argv[i]), lk,
                               sizeof lk) != 0)
            goto out;
        hex(h, sizeof h);
    }
    r = 0;
out:
    sodium_memzero(lk, sizeof lk);
    agah_local_free(l);
    agah_identity_free(id);
    return r;
}

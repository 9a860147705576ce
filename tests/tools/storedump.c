/* storedump: what a thief reads from a seized relay's store (a relay's
 * identity has no passphrase, as documented, so its store key opens): for
 * each stored record of one type, its ciphertext length, one per line.
 * tests/integration/test_names_private.sh checks that alert ciphertexts on
 * a relay's disk come in padded sizes only. Read-only; may run beside the
 * relay's agahd.
 *
 *   storedump DIR TYPE        TYPE as in PROTOCOL.md (5 ALERT, 6, 7)
 */
#include <stdio.h>
#include <stdlib.h>
#include <sodium.h>
#include <agah/agah.h>
#include <agah/datadir.h>
#include <agah/storekey.h>
#include "store.h"

static int print_ct(void *ctx, const struct store_rec *sr)
{
    struct agah_rec r;
    (void)ctx;
    if (agah_rec_decode_stored(sr->bytes, sr->len, NULL, &r, NULL) != 0)
        return AGAH_EVALUE;
    printf("%zu\n", r.type >= AGAH_REC_ALERT ? r.u.sealed.ct_len : (size_t)0);
    return 0;
}

int main(int argc, char **argv)
{
    char path[AGAH_PATH_MAX];
    struct agah_identity *id = NULL;
    struct agah_storekey *k = NULL;
    struct store *s = NULL;
    struct agah_why why = {{0}};
    int type, r = 1;

    if (argc != 3 || (type = atoi(argv[2])) < AGAH_REC_GENESIS || type > AGAH_REC_RETRACT) {
        fprintf(stderr, "usage: storedump DIR TYPE\n");
        return 2;
    }
    if (agah_init() != 0 || agah_datadir_path(argv[1], "identity.key", path) != 0 ||
        agah_keyfile_read(path, NULL, 0, &id, &why) != 0 ||
        agah_datadir_path(argv[1], "store.key", path) != 0 ||
        agah_storekey_read(path, id, &k, &why) != 0 ||
        agah_datadir_path(argv[1], "store.db", path) != 0 ||
        store_open_readonly(path, k->key, &s, &why) != 0 ||
        store_scan(s, type, type, print_ct, NULL) != 0) {
        fprintf(stderr, "storedump: %s\n", why.msg[0] ? why.msg : "failed");
        goto out;
    }
    r = fflush(stdout) == 0 ? 0 : 1;
out:
    if (s != NULL)
        store_close(s);
    agah_storekey_free(k);
    agah_identity_free(id);
    return r;
}

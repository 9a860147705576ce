/* libFuzzer target for the key file decoder (agah_keyfile_decode): the
 * bytes of a key file an attacker with access to the data directory could
 * plant. With a fixed passphrase, and without one. A header with in-bounds
 * Argon2id limits costs a real hash (tens of MiB, ~0.1 s); the limit checks
 * keep anything larger from ever being hashed. */
#include <stddef.h>
#include <stdint.h>
#include <agah/keys.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct agah_identity *id = NULL;
    struct agah_why why;

    if (agah_keyfile_decode(data, size, "fuzz passphrase", 15, &id, &why) == 0)
        agah_identity_free(id);
    id = NULL;
    if (agah_keyfile_decode(data, size, NULL, 0, &id, &why) == 0)
        agah_identity_free(id);
    return 0;
}

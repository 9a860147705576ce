/* What proto/ reads and writes on disk: the identity key file
 * (proto/keyfile.c) and the atomic file helpers every file writer uses
 * (proto/fileio.c). The codec and cryptography headers (keys.h, record.h,
 * joincode.h, addr.h, mp.h) do no I/O. */
#ifndef AGAH_KEYFILE_H
#define AGAH_KEYFILE_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"
#include "keys.h"

/* The key file: magic "AGAHKEY1", flags, Argon2id parameters and salt, the
 * public key in clear (so `agah id` needs no passphrase), and the seed under
 * XChaCha20-Poly1305 keyed by Argon2id(passphrase) with the header as
 * associated data. Limits: crypto_pwhash OPSLIMIT_MODERATE and
 * MEMLIMIT_MODERATE (256 MiB) when writing; files of the older interactive
 * setting (64 MiB) keep opening; readers refuse, before any hashing, files
 * asking for more than opslimit 16 or 256 MiB, so a crafted file cannot
 * exhaust the machine. `passphrase` NULL means an identity made with
 * --no-passphrase (marked so in the file; a passphrase given to read it is
 * ignored).
 * Written atomically (temp file, fsync, rename), mode 0600. */
#define AGAH_KEYFILE_SIZE 145 /* 8+1+8+8+16+24+32+48: see proto/PROTOCOL.md */
#define AGAH_KEYFILE_OPSLIMIT 3ULL          /* crypto_pwhash_OPSLIMIT_MODERATE */
#define AGAH_KEYFILE_MEMLIMIT 268435456ULL  /* crypto_pwhash_MEMLIMIT_MODERATE */
/* What agah_keyfile_peek says about the passphrase. */
#define AGAH_KEYFILE_PROTECTED 0     /* it has one */
#define AGAH_KEYFILE_NOPASS 1        /* none: fit for a relay */
#define AGAH_KEYFILE_NOPASS_UNSAFE 2 /* none, and the user said a member's key may go without */
struct agah_keyfile_params {
    uint64_t opslimit, memlimit; /* Argon2id, for a file with a passphrase */
    int unsafe_nopass;           /* for a file without: AGAH_KEYFILE_NOPASS_UNSAFE */
};
int agah_keyfile_write(const char *path, const struct agah_identity *id,
                       const char *passphrase, size_t passlen);
/* The same with chosen limits (tests write the older interactive setting)
 * or the unsafe mark; `params` NULL means the defaults above. AGAH_EINVAL
 * for limits a reader would refuse. */
int agah_keyfile_write_params(const char *path, const struct agah_identity *id,
                              const char *passphrase, size_t passlen,
                              const struct agah_keyfile_params *params);
/* Reads just the public key and whether a passphrase is needed:
 * *no_passphrase is one of AGAH_KEYFILE_PROTECTED (0), _NOPASS, _NOPASS_UNSAFE. */
int agah_keyfile_peek(const char *path, uint8_t pk[AGAH_PK_LEN], int *no_passphrase,
                      struct agah_why *why);
/* AGAH_EPASS: wrong passphrase (or none given when one is needed). */
int agah_keyfile_read(const char *path, const char *passphrase, size_t passlen,
                      struct agah_identity **out, struct agah_why *why);
/* The same on bytes in memory (the fuzz target's entry point). */
int agah_keyfile_decode(const uint8_t *buf, size_t len, const char *passphrase,
                        size_t passlen, struct agah_identity **out, struct agah_why *why);

/* Writes `len` bytes to `path` atomically (temp file in the same directory,
 * fsync, rename, fsync of the directory) with the given mode. */
int agah_file_write_atomic(const char *path, const uint8_t *buf, size_t len, int mode);
/* Reads a whole file of at most `max` bytes (AGAH_ETOOBIG, before any
 * allocation, if it is larger; AGAH_ENOENT if it does not exist; AGAH_EIO
 * with errno otherwise). Caller frees *out with free(). */
int agah_file_read(const char *path, size_t max, uint8_t **out, size_t *len);

#endif

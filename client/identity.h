/* This node's identity, for the commands that open or change it
 * (identity.c, strength.c): reading its key file and judging a new
 * passphrase. */
#ifndef AGAH_IDENTITY_H
#define AGAH_IDENTITY_H

#include <stddef.h>
#include <agah/agah.h>
#include "cli.h"

/* The identity's key file in the data directory. */
#define IDENTITY_KEYFILE "identity.key"

/* The identity in c->datadir, asking for its passphrase only when the key
 * file has one; that passphrase is handed to *pass (sodium memory, free with
 * agah_passphrase_free; NULL when none) if pass is non-NULL. 0 or an exit
 * code after saying why. */
int identity_load(const struct cli *c, struct agah_identity **out, char **pass,
                  size_t *passlen);
/* Warns on stderr that `what` ("founding a community", ...) is done with
 * an identity that has no passphrase (unless it was made so on purpose).
 * 0 or an exit code when the key file cannot be read. */
int identity_warn_nopass(const struct cli *c, const char *what);

/* 0 if the passphrase (NUL-terminated) is strong enough to set, else an
 * exit code after saying why (strength.c). `old`: the passphrase it
 * replaces, or NULL. */
int cli_pass_strong(const char *pass, const char *old);

#endif

/* `agah passphrase`: changes the passphrase of this node's identity key,
 * adds one to an identity made without, or (with --no-passphrase and
 * --unsafe-no-passphrase) removes it. Only DATA/identity.key is rewritten:
 * store.key and the community file are sealed under keys derived from the
 * identity's seed, which does not change, so they need nothing. A running
 * agahd read the key once at start and keeps it; it needs the new
 * passphrase at its next start. */
#define _POSIX_C_SOURCE 200809L
#include <string.h>
#include "commands.h"
#include "identity.h"

/* The options, checked before any passphrase is asked for. */
static int pass_opts(const struct cli *c, int *nopass, struct agah_keyfile_params *kp)
{
    int unsafe = cli_opt(c, "unsafe-no-passphrase") != NULL;

    *nopass = cli_opt(c, "no-passphrase") != NULL;
    kp->opslimit = AGAH_KEYFILE_OPSLIMIT;
    kp->memlimit = AGAH_KEYFILE_MEMLIMIT;
    kp->unsafe_nopass = unsafe;
    if (unsafe && !*nopass)
        return cli_fail(EXIT_USAGE, "--unsafe-no-passphrase goes with --no-passphrase");
    if (*nopass && !unsafe)
        return cli_fail(EXIT_USAGE,
                        "--no-passphrase leaves this identity's key to anyone who can read %s: "
                        "add --unsafe-no-passphrase if that is what you mean",
                        c->datadir);
    if (*nopass && cli_opt(c, "new-passphrase-file") != NULL)
        return cli_fail(EXIT_USAGE, "--no-passphrase and --new-passphrase-file exclude each other");
    return 0;
}

/* The new passphrase from --new-passphrase-file or the terminal (twice),
 * checked for strength against the old one (NULL if none). */
static int pass_new(const struct cli *c, const char *old, char **pass, size_t *passlen)
{
    struct agah_why why = {{0}};
    int r;

    r = agah_passphrase_get_new(cli_opt(c, "new-passphrase-file"),
                                "New passphrase for this identity: ", pass, passlen, &why);
    if (r != 0)
        return cli_fail(EXIT_USAGE, "%s", why.msg[0] ? why.msg : agah_strerror(r));
    /* pwquality refuses the old passphrase itself and ones too close to it. */
    if ((r = cli_pass_strong(*pass, old)) != 0) {
        agah_passphrase_free(*pass, *passlen);
        *pass = NULL;
        *passlen = 0;
    }
    return r;
}

int cmd_passphrase(struct cli *c)
{
    char path[AGAH_PATH_MAX];
    struct agah_keyfile_params kp;
    struct agah_identity *id = NULL;
    char *old = NULL, *pass = NULL;
    size_t oldlen = 0, passlen = 0;
    int nopass = 0, r;

    if ((r = pass_opts(c, &nopass, &kp)) != 0)
        return r;
    if (agah_datadir_path(c->datadir, "identity.key", path) != 0)
        return cli_fail(EXIT_USAGE, "the data directory path %s is too long", c->datadir);
    /* The current passphrase, the usual ways: $AGAH_PASSPHRASE,
     * --passphrase-file, or the terminal. */
    if ((r = identity_load(c, &id, &old, &oldlen)) != 0)
        return r;
    if (!nopass && (r = pass_new(c, old, &pass, &passlen)) != 0)
        goto out;
    /* Atomic (temp file, fsync, rename): a crash leaves the old file or
     * the new one, never half of each. */
    r = agah_keyfile_write_params(path, id, pass, passlen, &kp);
    if (r != 0) {
        r = cli_fail(EXIT_FAIL, "cannot write %s: %s", path, agah_strerror(r));
        goto out;
    }
    if (c->json) {
        (void)fputs("{}\n", stdout);
    } else {
        (void)fprintf(stderr, "agah: %s the identity in %s.\n",
                      nopass ? "removed the passphrase of" : "set a new passphrase for",
                      c->datadir);
        (void)fprintf(stderr, "agah: a running agahd keeps the key it read at start; it needs "
                              "the new passphrase when it next starts.\n");
        if (nopass)
            (void)fprintf(stderr, "agah: warning: anyone who can read %s now has this "
                                  "identity's key.\n", c->datadir);
    }
    r = 0;
out:
    agah_passphrase_free(old, oldlen);
    agah_passphrase_free(pass, passlen);
    agah_identity_free(id);
    return r;
}

/* The identity commands, offline on the data directory whether agahd runs
 * or not: `init` makes this node's identity (key file and store key), `id`
 * prints it. Also what the other offline commands need of the identity:
 * loading it, with its passphrase, and warning when it has none. */
#define _POSIX_C_SOURCE 200809L
#include <agah/keyfile.h>
#include <string.h>
#include "commands.h"
#include "identity.h"
#include "output.h"

#define IDENTITY_STOREKEY "store.key"

/* Reads this node's public key and whether its key file needs a
 * passphrase, with the CLI's messages for a missing or unreadable file. */
static int identity_peek(const struct cli *c, char path[AGAH_PATH_MAX],
                         uint8_t pk[AGAH_PK_LEN], int *nopass)
{
    struct agah_why why = {{0}};
    int r;

    if ((r = cli_path(c, IDENTITY_KEYFILE, path)) != 0)
        return r;
    r = agah_keyfile_peek(path, pk, nopass, &why);
    if (r == AGAH_ENOENT)
        return cli_fail(EXIT_USAGE, "no identity in %s: run `agah --data %s init` first",
                        c->datadir, c->datadir);
    if (r != 0)
        return cli_fail(EXIT_FAIL, "cannot read %s: %s", path, why.msg[0] ? why.msg : agah_strerror(r));
    return 0;
}

/* Reads and decrypts this node's identity, asking for the passphrase only
 * when the key file has one. Exit 2 when there is none or the passphrase is
 * wrong (an input error the user can fix), 5 on other failures. */
int identity_load(const struct cli *c, struct agah_identity **out, char **keep,
                  size_t *keeplen)
{
    char path[AGAH_PATH_MAX], prompt[128];
    uint8_t pk[AGAH_PK_LEN];
    char *pass = NULL;
    size_t passlen = 0;
    int nopass = 0, r;
    struct agah_why why = {{0}};

    if ((r = identity_peek(c, path, pk, &nopass)) != 0)
        return r;
    if (!nopass) {
        (void)snprintf(prompt, sizeof prompt, "Passphrase for the identity in %.80s: ", c->datadir);
        r = agah_passphrase_get(c->passphrase_file, prompt, 0, &pass, &passlen, &why);
        if (r != 0)
            return cli_fail(EXIT_USAGE, "%s", why.msg[0] ? why.msg : agah_strerror(r));
    }
    r = agah_keyfile_read(path, pass, passlen, out, &why);
    if (r == 0 && keep != NULL) {
        *keep = pass;
        *keeplen = passlen;
        pass = NULL;
    }
    agah_passphrase_free(pass, passlen);
    if (r == AGAH_EPASS)
        return cli_fail(EXIT_USAGE, "wrong passphrase for the identity in %s", c->datadir);
    if (r != 0)
        return cli_fail(EXIT_FAIL, "cannot read %s: %s", path, why.msg[0] ? why.msg : agah_strerror(r));
    return 0;
}

/* Prints {"member_id": ID} or the id. */
static void identity_print_member(const struct cli *c, const char *id)
{
    if (c->json) {
        json_strings(stdout, "member_id", id, NULL);
    } else {
        (void)printf("%s\n", id);
    }
}

/* The passphrase `init` sets, from the options: none with --no-passphrase
 * (marked unsafe-but-meant with --unsafe-no-passphrase too), else a new
 * one, asked twice on a terminal, which must pass the strength check. */
static int init_pass(const struct cli *c, char **pass, size_t *passlen,
                     struct agah_keyfile_params *kp)
{
    int nopass = cli_opt(c, "no-passphrase") != NULL;
    int unsafe = cli_opt(c, "unsafe-no-passphrase") != NULL;
    struct agah_why why = {{0}};
    int r;

    kp->opslimit = AGAH_KEYFILE_OPSLIMIT;
    kp->memlimit = AGAH_KEYFILE_MEMLIMIT;
    kp->unsafe_nopass = unsafe;
    if (unsafe && !nopass)
        return cli_fail(EXIT_USAGE, "--unsafe-no-passphrase goes with --no-passphrase");
    if (nopass)
        return 0;
    r = agah_passphrase_get(c->passphrase_file, "New passphrase for this identity: ", 1, pass,
                            passlen, &why);
    if (r != 0)
        return cli_fail(EXIT_USAGE, "%s", why.msg[0] ? why.msg : agah_strerror(r));
    if ((r = cli_pass_strong(*pass, NULL)) != 0) {
        agah_passphrase_free(*pass, *passlen);
        *pass = NULL;
        *passlen = 0;
    }
    return r;
}

/* What `init` says on stderr once the identity is made. */
static void init_said(const struct cli *c, const struct agah_keyfile_params *kp, int nopass)
{
    (void)fprintf(stderr, "agah: made a new identity in %s%s.\n", c->datadir,
                  nopass ? " with no passphrase" : "");
    if (nopass && !kp->unsafe_nopass)
        (void)fprintf(stderr,
                      "agah: warning: without a passphrase this identity is fit for a relay or a\n"
                      "agah: test; as an organiser or member anyone who reads %s has its key:\n"
                      "agah: set one with `agah passphrase` (`status` will keep saying so).\n",
                      c->datadir);
    else if (nopass)
        (void)fprintf(stderr,
                      "agah: warning: anyone who can read %s has this identity's key; set a\n"
                      "agah: passphrase with `agah passphrase` before using it for real.\n",
                      c->datadir);
    (void)fprintf(stderr,
                  "agah: next: found a community with `agah community create NAME`, or give\n"
                  "agah: the id above to an organiser, who runs `agah invite ID` and hands\n"
                  "agah: you a code for `agah join CODE`.\n");
}

int cmd_init(struct cli *c)
{
    char path[AGAH_PATH_MAX], npath[AGAH_PATH_MAX], idstr[AGAH_IDSTR_SIZE];
    const char *name = cli_opt(c, "name");
    int nopass = cli_opt(c, "no-passphrase") != NULL;
    struct agah_keyfile_params kp;
    struct agah_identity *id = NULL;
    struct agah_storekey *sk = NULL;
    struct agah_why why = {{0}};
    char *pass = NULL;
    size_t passlen = 0;
    int r;

    if (name != NULL && (r = cli_name_ok("name", name, 0)) != 0)
        return r;
    if ((r = cli_path(c, IDENTITY_KEYFILE, path)) != 0 ||
        (r = cli_path(c, IDENTITY_STOREKEY, npath)) != 0)
        return r;
    if (agah_datadir_ensure(c->datadir, &why) != 0)
        return cli_fail(EXIT_FAIL, "%s", why.msg);
    if (cli_exists(path))
        return cli_fail(EXIT_USAGE, "%s already holds an identity (%s); refusing to overwrite it",
                        c->datadir, path);
    if ((r = init_pass(c, &pass, &passlen, &kp)) != 0)
        return r;
    r = agah_identity_generate(&id);
    if (r != 0) {
        r = cli_fail(EXIT_FAIL, "cannot make an identity: %s", agah_strerror(r));
        goto out;
    }
    /* The store key (with the name inside it) first: if it cannot be
     * written, no identity is left behind. */
    if ((sk = agah_storekey_new()) == NULL) {
        r = cli_fail(EXIT_FAIL, "out of memory");
        goto out;
    }
    agah_random(sk->key, sizeof sk->key);
    if (name != NULL)
        (void)snprintf(sk->name, sizeof sk->name, "%s", name);
    if ((r = agah_storekey_write(npath, id, sk)) != 0) {
        r = cli_fail(EXIT_FAIL, "cannot write %s: %s", npath, agah_strerror(r));
        goto out;
    }
    r = agah_keyfile_write_params(path, id, pass, passlen, &kp);
    if (r != 0) {
        r = cli_fail(EXIT_FAIL, "cannot write %s: %s", path, agah_strerror(r));
        goto out;
    }
    agah_id_encode(AGAH_IDPFX_MEMBER, agah_identity_pk(id), idstr);
    identity_print_member(c, idstr);
    /* Whatever went to stdout first, so the two streams read in order when
     * they share a pipe or a terminal. */
    (void)fflush(stdout);
    if (!c->json)
        init_said(c, &kp, nopass);
    r = 0;
out:
    agah_passphrase_free(pass, passlen);
    agah_storekey_free(sk);
    agah_identity_free(id);
    return r;
}

int cmd_id(struct cli *c)
{
    char path[AGAH_PATH_MAX], idstr[AGAH_IDSTR_SIZE];
    uint8_t pk[AGAH_PK_LEN];
    int nopass, r;

    if ((r = identity_peek(c, path, pk, &nopass)) != 0)
        return r;
    agah_id_encode(AGAH_IDPFX_MEMBER, pk, idstr);
    identity_print_member(c, idstr);
    return 0;
}


/* Organisers and members should have a passphrase (issue 23): a key
 * without one is anyone's who reads the disk. CONTRACT.md keeps `init
 * --no-passphrase` usable for every role ("for relays and tests"), so this
 * warns rather than refuses, unless `--unsafe-no-passphrase` (kept in the
 * key file) said it is meant; `status` keeps warning either way. */
int identity_warn_nopass(const struct cli *c, const char *what)
{
    char path[AGAH_PATH_MAX];
    uint8_t pk[AGAH_PK_LEN];
    int nopass = AGAH_KEYFILE_PROTECTED, r;

    if ((r = identity_peek(c, path, pk, &nopass)) != 0)
        return r;
    if (nopass == AGAH_KEYFILE_NOPASS)
        (void)fprintf(stderr,
                      "agah: warning: %s with an identity that has no passphrase: anyone who "
                      "can read %s has its key. Set one with `agah --data %s passphrase`.\n",
                      what, c->datadir, c->datadir);
    return 0;
}

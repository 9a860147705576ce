/* The offline commands: they work on the data directory directly, whether
 * agahd runs or not. `init` makes the identity, `community create` founds a
 * community (genesis, the founder's admission, the first epoch key), `join`
 * opens a join code made for this identity. Secrets (passphrase, seed
 * derived keys, network secret, epoch keys) stay in sodium memory and are
 * wiped before exit. */
#define _DEFAULT_SOURCE /* flock */
#define _POSIX_C_SOURCE 200809L
#include <agah/keyfile.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>
#include "cli.h"

#define OFF_KEYFILE "identity.key"
#define OFF_COMMUNITY "community"
#define OFF_STOREKEY "store.key"

/* A community or member name: 1..AGAH_NAME_MAX bytes of UTF-8 without
 * control characters (names are shown in other members' terminals). */
static int off_name_ok(const char *what, const char *s, int may_be_empty)
{
    size_t n = strlen(s);
    if (n == 0 && !may_be_empty)
        return cli_fail(EXIT_USAGE, "the %s is empty", what);
    if (n > AGAH_NAME_MAX)
        return cli_fail(EXIT_USAGE, "the %s is %zu bytes long; at most %d are allowed", what, n,
                        AGAH_NAME_MAX);
    if (!agah_mp_utf8_ok(s, n))
        return cli_fail(EXIT_USAGE, "the %s is not valid UTF-8", what);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return cli_fail(EXIT_USAGE, "the %s contains a control character", what);
    return 0;
}

static int off_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 || errno != ENOENT;
}

static int off_path(const struct cli *c, const char *name, char out[AGAH_PATH_MAX])
{
    if (agah_datadir_path(c->datadir, name, out) != 0)
        return cli_fail(EXIT_USAGE, "the data directory path %s is too long", c->datadir);
    return 0;
}

/* Reads this node's public key and whether its key file needs a
 * passphrase, with the CLI's messages for a missing or unreadable file. */
static int off_peek_identity(const struct cli *c, char path[AGAH_PATH_MAX],
                             uint8_t pk[AGAH_PK_LEN], int *nopass)
{
    struct agah_why why = {{0}};
    int r;

    if ((r = off_path(c, OFF_KEYFILE, path)) != 0)
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
int off__load_identity(const struct cli *c, struct agah_identity **out, char **keep,
                       size_t *keeplen)
{
    char path[AGAH_PATH_MAX], prompt[128];
    uint8_t pk[AGAH_PK_LEN];
    char *pass = NULL;
    size_t passlen = 0;
    int nopass = 0, r;
    struct agah_why why = {{0}};

    if ((r = off_peek_identity(c, path, pk, &nopass)) != 0)
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
static void off_print_member(const struct cli *c, const char *id)
{
    if (c->json) {
        (void)fputs("{\"member_id\": ", stdout);
        json_string(stdout, id, strlen(id));
        (void)fputs("}\n", stdout);
    } else {
        (void)printf("%s\n", id);
    }
}

/* The passphrase `init` sets, from the options: none with --no-passphrase
 * (marked unsafe-but-meant with --unsafe-no-passphrase too), else a new
 * one, asked twice on a terminal, which must pass the strength check. */
static int off_init_pass(const struct cli *c, char **pass, size_t *passlen,
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
static void off_init_said(const struct cli *c, const struct agah_keyfile_params *kp, int nopass)
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

    if (name != NULL && (r = off_name_ok("name", name, 0)) != 0)
        return r;
    if ((r = off_path(c, OFF_KEYFILE, path)) != 0 || (r = off_path(c, OFF_STOREKEY, npath)) != 0)
        return r;
    if (agah_datadir_ensure(c->datadir, &why) != 0)
        return cli_fail(EXIT_FAIL, "%s", why.msg);
    if (off_exists(path))
        return cli_fail(EXIT_USAGE, "%s already holds an identity (%s); refusing to overwrite it",
                        c->datadir, path);
    if ((r = off_init_pass(c, &pass, &passlen, &kp)) != 0)
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
    off_print_member(c, idstr);
    /* Whatever went to stdout first, so the two streams read in order when
     * they share a pipe or a terminal. */
    (void)fflush(stdout);
    if (!c->json)
        off_init_said(c, &kp, nopass);
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

    if ((r = off_peek_identity(c, path, pk, &nopass)) != 0)
        return r;
    agah_id_encode(AGAH_IDPFX_MEMBER, pk, idstr);
    off_print_member(c, idstr);
    return 0;
}

/* This node's name, sealed in DIR/store.key (moved there from the
 * plaintext DIR/name of an older agah, which is then removed), or "". */
static int off_read_name(const struct cli *c, const struct agah_identity *id,
                         char name[AGAH_NAME_MAX + 1])
{
    struct agah_storekey *sk = NULL;
    struct agah_why why = {{0}};
    int r;

    name[0] = '\0';
    if ((r = agah_storekey_open(c->datadir, id, &sk, &why)) != 0)
        return cli_fail(EXIT_FAIL, "cannot open the store key in %s: %s", c->datadir,
                        why.msg[0] ? why.msg : agah_strerror(r));
    (void)snprintf(name, AGAH_NAME_MAX + 1, "%s", sk->name);
    agah_storekey_free(sk);
    return 0;
}

static void off_print_community(const struct cli *c, const uint8_t community[AGAH_HASH_LEN],
                                const char *key, const char *val)
{
    char cid[AGAH_IDSTR_SIZE];
    agah_id_encode(AGAH_IDPFX_COMMUNITY, community, cid);
    if (c->json) {
        (void)fputs("{\"community_id\": ", stdout);
        json_string(stdout, cid, strlen(cid));
        (void)printf(", \"%s\": ", key);
        json_string(stdout, val, strlen(val));
        (void)fputs("}\n", stdout);
    } else {
        (void)printf("%s\n", cid);
    }
}

/* Organisers and members should have a passphrase (issue 23): a key
 * without one is anyone's who reads the disk. CONTRACT.md keeps `init
 * --no-passphrase` usable for every role ("for relays and tests"), so this
 * warns rather than refuses, unless `--unsafe-no-passphrase` (kept in the
 * key file) said it is meant; `status` keeps warning either way. */
static int off_role_needs_pass(const struct cli *c, const char *what)
{
    char path[AGAH_PATH_MAX];
    uint8_t pk[AGAH_PK_LEN];
    int nopass = AGAH_KEYFILE_PROTECTED, r;

    if ((r = off_peek_identity(c, path, pk, &nopass)) != 0)
        return r;
    if (nopass == AGAH_KEYFILE_NOPASS)
        (void)fprintf(stderr,
                      "agah: warning: %s with an identity that has no passphrase: anyone who "
                      "can read %s has its key. Set one with `agah --data %s passphrase`.\n",
                      what, c->datadir, c->datadir);
    return 0;
}

int cmd_community_create(struct cli *c)
{
    char kpath[AGAH_PATH_MAX], cpath[AGAH_PATH_MAX], founder[AGAH_NAME_MAX + 1];
    const char *name = c->pos[0];
    struct agah_identity *id = NULL;
    struct agah_local *l = NULL;
    uint64_t now = (uint64_t)time(NULL);
    struct agah_why why = {{0}};
    int r;

    if ((r = off_name_ok("community name", name, 0)) != 0)
        return r;
    if ((r = off_path(c, OFF_KEYFILE, kpath)) != 0 || (r = off_path(c, OFF_COMMUNITY, cpath)) != 0)
        return r;
    if (!off_exists(kpath))
        return cli_fail(EXIT_USAGE, "no identity in %s: run `agah --data %s init` first",
                        c->datadir, c->datadir);
    /* One node, one community: founding a second would orphan the first. */
    if (off_exists(cpath))
        return cli_fail(EXIT_USAGE, "%s already belongs to a community (%s); use another --data DIR",
                        c->datadir, cpath);
    if (agah_datadir_ensure(c->datadir, &why) != 0)
        return cli_fail(EXIT_FAIL, "%s", why.msg);
    if ((r = off_role_needs_pass(c, "founding a community")) != 0)
        return r;
    if ((r = off__load_identity(c, &id, NULL, NULL)) != 0)
        return r;
    if ((r = off_read_name(c, id, founder)) != 0)
        goto out;
    if ((r = agah_local_found(id, name, founder, now, &l)) != 0) {
        r = cli_fail(EXIT_FAIL, "cannot make the founding records: %s", agah_strerror(r));
        goto out;
    }
    r = agah_local_write(cpath, id, l);
    if (r != 0) {
        r = cli_fail(EXIT_FAIL, "cannot write %s: %s", cpath, agah_strerror(r));
        goto out;
    }
    off_print_community(c, l->community, "name", name);
    /* Whatever went to stdout first, so the two streams read in order when
     * they share a pipe or a terminal. */
    (void)fflush(stdout);
    if (!c->json)
        (void)fprintf(stderr,
                      "agah: founded the community \"%s\"; you are its first organiser.\n"
                      "agah: next: start the daemon with `agahd --data %s`, then admit members\n"
                      "agah: with `agah invite MEMBER_ID`.\n",
                      name, c->datadir);
    r = 0;
out:
    agah_local_free(l);
    agah_identity_free(id);
    return r;
}

/* Reads a join code from standard input (`agah join -`): the first
 * non-empty line, bounded by AGAH_JOINCODE_MAX. */
static int off_read_code(char **out)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;

    while ((n = getline(&line, &cap, stdin)) >= 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' '))
            line[--n] = '\0';
        if (n > AGAH_JOINCODE_MAX) {
            free(line);
            return cli_fail(EXIT_USAGE, "the join code on standard input is too long");
        }
        if (n > 0) {
            *out = line;
            return 0;
        }
    }
    free(line);
    return cli_fail(EXIT_USAGE, "no join code on standard input");
}

/* A new community file from a join code. */
static int off_join_fill(struct agah_local *l, const struct agah_join *j,
                         const struct agah_rec *adm)
{
    int r;

    memcpy(l->community, j->community, AGAH_HASH_LEN);
    /* "" for a relay, whose code opens no name. */
    (void)snprintf(l->name, sizeof l->name, "%s", j->community_name);
    memcpy(l->network_secret, j->network_secret, sizeof l->network_secret);
    l->role = adm->u.admission.role;
    for (size_t i = 0; i < j->n_epochs && i < AGAH_LOCAL_MAX_EPOCHS; i++) {
        memcpy(l->epochs[i].id, j->epochs[i].id, AGAH_HASH_LEN);
        memcpy(l->epochs[i].key, j->epochs[i].key, AGAH_KEY_LEN);
        l->n_epochs++;
    }
    for (size_t i = 0; i < j->n_peers && i < AGAH_LOCAL_MAX_PEERS; i++) {
        (void)snprintf(l->peers[i], sizeof l->peers[i], "%s", j->peers[i]);
        l->n_peers++;
    }
    if ((r = agah_local_add_record(l, j->genesis, j->genesis_len)) != 0 ||
        (r = agah_local_add_record(l, j->admission, j->admission_len)) != 0)
        return cli_fail(EXIT_FAIL, "cannot keep the bootstrap records: %s", agah_strerror(r));
    return 0;
}

/* Holds DATA/agahd.lock for the CLI while it rewrites the community file,
 * which a running agahd writes too: exit 2 if agahd runs. *fd stays -1
 * when no daemon ever ran here (no lock file). */
static int off_lock(const struct cli *c, int *fd)
{
    char path[AGAH_PATH_MAX];
    int r;
    if ((r = off_path(c, "agahd.lock", path)) != 0)
        return r;
    if ((*fd = open(path, O_RDWR | O_CLOEXEC)) < 0)
        return errno == ENOENT ? 0
                               : cli_fail(EXIT_FAIL, "cannot open %s: %s", path, strerror(errno));
    if (flock(*fd, LOCK_EX | LOCK_NB) != 0) {
        (void)close(*fd);
        *fd = -1;
        return cli_fail(EXIT_USAGE, "agahd is running on %s: stop it, then join again",
                        c->datadir);
    }
    return 0;
}

/* Adds the code's epoch keys and peers that l lacks, as far as they fit;
 * returns how many. */
static size_t off_merge(struct agah_local *l, const struct agah_join *j)
{
    size_t added = 0;

    for (size_t i = 0; i < j->n_epochs && l->n_epochs < AGAH_LOCAL_MAX_EPOCHS; i++) {
        int have = 0;
        for (size_t k = 0; k < l->n_epochs && !have; k++)
            have = memcmp(l->epochs[k].id, j->epochs[i].id, AGAH_HASH_LEN) == 0;
        if (!have) {
            memcpy(l->epochs[l->n_epochs].id, j->epochs[i].id, AGAH_HASH_LEN);
            memcpy(l->epochs[l->n_epochs].key, j->epochs[i].key, AGAH_KEY_LEN);
            l->n_epochs++;
            added++;
        }
    }
    for (size_t i = 0; i < j->n_peers && l->n_peers < AGAH_LOCAL_MAX_PEERS; i++) {
        int have = 0;
        for (size_t k = 0; k < l->n_peers && !have; k++)
            have = strcmp(l->peers[k], j->peers[i]) == 0;
        if (!have) {
            (void)snprintf(l->peers[l->n_peers++], sizeof l->peers[0], "%s", j->peers[i]);
            added++;
        }
    }
    return added;
}

/* Rejoining (PROTOCOL.md, "Network secrets"): a node offline for more than
 * the 30-day grace across a revocation holds only network secrets no one
 * accepts. An organiser invites its key again; the new code's secret,
 * epoch keys, peers and admission go into the community file it has, and
 * its store is kept. A code of another community is refused. */
static int off_rejoin(const struct cli *c, const char *cpath, const struct agah_identity *id,
                      const struct agah_join *j, const struct agah_rec *adm,
                      struct agah_local **out)
{
    struct agah_local *l = NULL;
    struct agah_why why = {{0}};
    int r;

    if (agah_local_read(cpath, id, &l, &why) != 0)
        return cli_fail(EXIT_FAIL, "cannot read %s: %s", cpath, why.msg);
    if (sodium_memcmp(l->community, j->community, AGAH_HASH_LEN) != 0) {
        agah_local_free(l);
        return cli_fail(EXIT_USAGE, "%s already belongs to another community (%s); use another "
                        "--data DIR", c->datadir, cpath);
    }
    int news = sodium_memcmp(l->network_secret, j->network_secret, 32) != 0;
    memcpy(l->network_secret, j->network_secret, sizeof l->network_secret);
    if (adm->u.admission.role < l->role)
        l->role = adm->u.admission.role; /* organiser (0) is the highest */
    if (off_merge(l, j) == 0 && !news) {
        agah_local_free(l);
        return cli_fail(EXIT_USAGE, "%s already belongs to this community, and this code adds "
                        "nothing to what it holds", c->datadir);
    }
    /* The new admission also arrives by gossip; keeping it here lets the
     * daemon present it at once. A full list of boot records is no error. */
    r = agah_local_add_record(l, j->admission, j->admission_len);
    if (r != 0 && r != AGAH_ETOOBIG) {
        agah_local_free(l);
        return cli_fail(EXIT_FAIL, "cannot keep the new admission: %s", agah_strerror(r));
    }
    *out = l;
    return 0;
}

int cmd_join(struct cli *c)
{
    char kpath[AGAH_PATH_MAX], cpath[AGAH_PATH_MAX];
    char *stdin_code = NULL;
    const char *code = c->pos[0];
    struct agah_identity *id = NULL;
    struct agah_join *j = NULL;
    struct agah_local *l = NULL;
    struct agah_rec gen, adm;
    struct agah_why why = {{0}};
    int r, rejoin, lock_fd = -1;

    if ((r = off_path(c, OFF_KEYFILE, kpath)) != 0 || (r = off_path(c, OFF_COMMUNITY, cpath)) != 0)
        return r;
    if (strcmp(code, "-") == 0) {
        if ((r = off_read_code(&stdin_code)) != 0)
            return r;
        code = stdin_code;
    }
    if (strlen(code) > AGAH_JOINCODE_MAX) {
        r = cli_fail(EXIT_USAGE, "that is not a join code: it is too long");
        goto out;
    }
    if (strncmp(code, "agah1-", 6) != 0) {
        r = cli_fail(EXIT_USAGE, "that is not a join code: codes start with \"agah1-\"");
        goto out;
    }
    if (!off_exists(kpath)) {
        r = cli_fail(EXIT_USAGE, "no identity in %s: run `agah --data %s init` first",
                     c->datadir, c->datadir);
        goto out;
    }
    /* A community file already here: the same community's new code is a
     * rejoin (off_rejoin), another community's is refused below. */
    rejoin = off_exists(cpath);
    if (rejoin && (r = off_lock(c, &lock_fd)) != 0)
        goto out;
    if (agah_datadir_ensure(c->datadir, &why) != 0) {
        r = cli_fail(EXIT_FAIL, "%s", why.msg);
        goto out;
    }
    if ((r = off__load_identity(c, &id, NULL, NULL)) != 0)
        goto out;
    r = agah_join_decode(code, id, (uint64_t)time(NULL), &j, &why);
    if (r != 0) {
        const char *m = why.msg[0] ? why.msg : agah_strerror(r);
        if (r == AGAH_ECHECKSUM)
            r = cli_fail(EXIT_USAGE, "the join code is damaged or mistyped: check it "
                         "character by character, or ask the organiser for a new one");
        else if (r == AGAH_ECRYPTO)
            r = cli_fail(EXIT_USAGE, "this join code was made for another identity; give the "
                         "organiser the id printed by `agah id`");
        else if (r == AGAH_EEXPIRED)
            r = cli_fail(EXIT_USAGE, "this join code has expired; ask the organiser for a new one");
        else if (r == AGAH_EVERSION)
            r = cli_fail(EXIT_USAGE, "%s", m);
        else if (r == AGAH_ESIG || r == AGAH_EPERM)
            /* Someone other than the organiser who admitted this identity
             * made or altered the code: it may lead to a look-alike. */
            r = cli_fail(EXIT_USAGE, "refusing this join code: %s; do not use it, and get a new "
                         "code from the organiser in person", m);
        else
            r = cli_fail(EXIT_USAGE, "invalid join code: %s", m);
        goto out;
    }
    r = agah_rec_decode(j->genesis, j->genesis_len, j->community, &gen, &why);
    if (r == 0 && gen.type != AGAH_REC_GENESIS)
        r = AGAH_EVALUE;
    if (r == 0)
        r = agah_rec_decode(j->admission, j->admission_len, j->community, &adm, &why);
    if (r == 0 && (adm.type != AGAH_REC_ADMISSION ||
                   sodium_memcmp(adm.u.admission.member, agah_identity_pk(id), AGAH_PK_LEN) != 0))
        r = AGAH_EVALUE;
    if (r != 0) {
        r = cli_fail(EXIT_USAGE, "invalid join code: %s",
                     why.msg[0] ? why.msg : "it does not admit this identity");
        goto out;
    }
    if (adm.u.admission.role != AGAH_ROLE_RELAY &&
        (r = off_role_needs_pass(c, adm.u.admission.role == AGAH_ROLE_ORGANISER
                                        ? "joining as an organiser"
                                        : "joining as a member")) != 0)
        goto out;
    if (rejoin) {
        if ((r = off_rejoin(c, cpath, id, j, &adm, &l)) != 0)
            goto out;
    } else if ((l = agah_local_new()) == NULL) {
        r = cli_fail(EXIT_FAIL, "out of memory");
        goto out;
    } else if ((r = off_join_fill(l, j, &adm)) != 0) {
        goto out;
    }
    r = agah_local_write(cpath, id, l);
    if (r != 0) {
        r = cli_fail(EXIT_FAIL, "cannot write %s: %s", cpath, agah_strerror(r));
        goto out;
    }
    const char *role = agah_role_name(l->role);
    char cid[AGAH_IDSTR_SIZE], inviter[AGAH_IDSTR_SIZE];
    agah_id_encode(AGAH_IDPFX_COMMUNITY, l->community, cid);
    agah_id_encode(AGAH_IDPFX_MEMBER, j->inviter, inviter);
    if (c->json) {
        (void)fputs("{\"community_id\": ", stdout);
        json_string(stdout, cid, strlen(cid));
        (void)fputs(", \"role\": ", stdout);
        json_string(stdout, role != NULL ? role : "member", strlen(role != NULL ? role : "member"));
        (void)fputs(", \"community_name\": ", stdout);
        json_string(stdout, j->community_name, strlen(j->community_name));
        (void)fputs(", \"inviter\": ", stdout);
        json_string(stdout, inviter, strlen(inviter));
        (void)fputs(", \"inviter_name\": ", stdout);
        json_string(stdout, j->inviter_name, strlen(j->inviter_name));
        (void)fprintf(stdout, ", \"rejoined\": %s}\n", rejoin ? "true" : "false");
        r = 0;
        goto out;
    }
    (void)printf("%s\n", cid);
    /* Whatever went to stdout first, so the two streams read in order when
     * they share a pipe or a terminal. */
    (void)fflush(stdout);
    /* The code proves who signed it, not that this is the community the
     * newcomer meant: anyone who knows a member id can found a look-alike
     * with the same name and invite into it. Only the ids, compared with
     * the organiser in person, tell the two apart. */
    if (j->community_name[0] != '\0') {
        (void)fputs(rejoin ? "agah: rejoined the community \"" : "agah: joined the community \"",
                    stderr);
        out_text(stderr, j->community_name, strlen(j->community_name));
        (void)fprintf(stderr, "\" as %s.\n", role != NULL ? role : "member");
    } else {
        /* A relay's code carries no key, so it opens no name. */
        (void)fprintf(stderr, "agah: %s a community as %s (names are for members only).\n",
                      rejoin ? "rejoined" : "joined", role != NULL ? role : "member");
    }
    (void)fprintf(stderr, "agah:   community id  %s\n", cid);
    (void)fprintf(stderr, "agah:   invited by    %s (", inviter);
    out_text(stderr, j->inviter_name[0] ? j->inviter_name : "no name",
             strlen(j->inviter_name[0] ? j->inviter_name : "no name"));
    (void)fputs(")\n", stderr);
    (void)fprintf(stderr,
                  "agah: before you trust it, compare both ids with the organiser's `agah status`\n"
                  "agah: (its \"community\" and \"member\" lines), in person: anyone who knows\n"
                  "agah: your member id can make a look-alike community with the same name.\n"
                  "agah: next: start the daemon with `agahd --data %s`.\n",
                  c->datadir);
    r = 0;
out:
    if (lock_fd >= 0)
        (void)close(lock_fd); /* releases the lock */
    agah_local_free(l);
    agah_join_free(j);
    agah_identity_free(id);
    free(stdin_code);
    return r;
}

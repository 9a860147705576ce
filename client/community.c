/* The community commands, offline on the data directory: `community
 * create` founds one (genesis, the founder's admission, the first epoch
 * key), `join` opens a join code made for this identity, or merges a new
 * one into the community it already has (rejoining). Secrets (network
 * secret, epoch keys) stay in sodium memory and are wiped before exit. */
#define _DEFAULT_SOURCE /* flock */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>
#include "commands.h"
#include "identity.h"
#include "output.h"

#define COMMUNITY_FILE "community"

/* This node's name, sealed in DIR/store.key (moved there from the
 * plaintext DIR/name of an older agah, which is then removed), or "". */
static int community_read_name(const struct cli *c, const struct agah_identity *id,
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

static void community_print(const struct cli *c, const uint8_t community[AGAH_HASH_LEN],
                            const char *key, const char *val)
{
    char cid[AGAH_IDSTR_SIZE];
    agah_id_encode(AGAH_IDPFX_COMMUNITY, community, cid);
    if (c->json) {
        json_strings(stdout, "community_id", cid, key, val, NULL);
    } else {
        (void)printf("%s\n", cid);
    }
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

    if ((r = cli_name_ok("community name", name, 0)) != 0)
        return r;
    if ((r = cli_path(c, IDENTITY_KEYFILE, kpath)) != 0 ||
        (r = cli_path(c, COMMUNITY_FILE, cpath)) != 0)
        return r;
    if (!cli_exists(kpath))
        return cli_fail(EXIT_USAGE, "no identity in %s: run `agah --data %s init` first",
                        c->datadir, c->datadir);
    /* One node, one community: founding a second would orphan the first. */
    if (cli_exists(cpath))
        return cli_fail(EXIT_USAGE, "%s already belongs to a community (%s); use another --data DIR",
                        c->datadir, cpath);
    if (agah_datadir_ensure(c->datadir, &why) != 0)
        return cli_fail(EXIT_FAIL, "%s", why.msg);
    if ((r = identity_warn_nopass(c, "founding a community")) != 0)
        return r;
    if ((r = identity_load(c, &id, NULL, NULL)) != 0)
        return r;
    if ((r = community_read_name(c, id, founder)) != 0)
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
    community_print(c, l->community, "name", name);
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
static int join_read_code(char **out)
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
static int join_fill(struct agah_local *l, const struct agah_join *j,
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
static int join_lock(const struct cli *c, int *fd)
{
    char path[AGAH_PATH_MAX];
    int r;
    if ((r = cli_path(c, "agahd.lock", path)) != 0)
        return r;
    /* Not through a link: a planted one would lock a file someone else chose. */
    if ((*fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC)) < 0)
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
static size_t join_merge(struct agah_local *l, const struct agah_join *j)
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
static int join_rejoin(const struct cli *c, const char *cpath, const struct agah_identity *id,
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
    if (join_merge(l, j) == 0 && !news) {
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

/* Refuses what cannot be a join code before any file is touched. */
static int join_syntax(const char *code)
{
    if (strlen(code) > AGAH_JOINCODE_MAX)
        return cli_fail(EXIT_USAGE, "that is not a join code: it is too long");
    if (strncmp(code, "agah1-", 6) != 0)
        return cli_fail(EXIT_USAGE, "that is not a join code: codes start with \"agah1-\"");
    return 0;
}

/* Opens the code for identity id into *j, telling the user what to do
 * when it cannot be opened. */
static int join_decode(const char *code, const struct agah_identity *id,
                       struct agah_join **j)
{
    struct agah_why why = {{0}};
    int r = agah_join_decode(code, id, (uint64_t)time(NULL), j, &why);
    if (r == 0)
        return 0;
    const char *m = why.msg[0] ? why.msg : agah_strerror(r);
    if (r == AGAH_ECHECKSUM)
        return cli_fail(EXIT_USAGE, "the join code is damaged or mistyped: check it "
                        "character by character, or ask the organiser for a new one");
    if (r == AGAH_ECRYPTO)
        return cli_fail(EXIT_USAGE, "this join code was made for another identity; give the "
                        "organiser the id printed by `agah id`");
    if (r == AGAH_EEXPIRED)
        return cli_fail(EXIT_USAGE, "this join code has expired; ask the organiser for a new one");
    if (r == AGAH_EVERSION)
        return cli_fail(EXIT_USAGE, "%s", m);
    if (r == AGAH_ESIG || r == AGAH_EPERM)
        /* Someone other than the organiser who admitted this identity made
         * or altered the code: it may lead to a look-alike. */
        return cli_fail(EXIT_USAGE, "refusing this join code: %s; do not use it, and get a new "
                        "code from the organiser in person", m);
    return cli_fail(EXIT_USAGE, "invalid join code: %s", m);
}

/* Checks the code's genesis record and that its admission admits identity
 * id, which it decodes into *adm. */
static int join_records(const struct agah_join *j, const struct agah_identity *id,
                        struct agah_rec *adm)
{
    struct agah_rec gen;
    struct agah_why why = {{0}};
    int r = agah_rec_decode(j->genesis, j->genesis_len, j->community, &gen, &why);
    if (r == 0 && gen.type != AGAH_REC_GENESIS)
        r = AGAH_EVALUE;
    if (r == 0)
        r = agah_rec_decode(j->admission, j->admission_len, j->community, adm, &why);
    if (r == 0 && (adm->type != AGAH_REC_ADMISSION ||
                   sodium_memcmp(adm->u.admission.member, agah_identity_pk(id), AGAH_PK_LEN) != 0))
        r = AGAH_EVALUE;
    if (r != 0)
        return cli_fail(EXIT_USAGE, "invalid join code: %s",
                        why.msg[0] ? why.msg : "it does not admit this identity");
    return 0;
}

/* The community file to write: the one here with the code merged in when
 * rejoining, else a new one from the code. */
static int join_local(const struct cli *c, const char *cpath, const struct agah_identity *id,
                      const struct agah_join *j, const struct agah_rec *adm, int rejoin,
                      struct agah_local **out)
{
    struct agah_local *l;
    int r;

    if (rejoin)
        return join_rejoin(c, cpath, id, j, adm, out);
    if ((l = agah_local_new()) == NULL)
        return cli_fail(EXIT_FAIL, "out of memory");
    if ((r = join_fill(l, j, adm)) != 0) {
        agah_local_free(l);
        return r;
    }
    *out = l;
    return 0;
}

/* `agah --json join`: one object on stdout. */
static void join_print_json(const struct agah_join *j, const char *cid, const char *role,
                            const char *inviter, int rejoin)
{
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
}

/* `agah join`: the community id on stdout, and on stderr what was joined
 * and how to tell it from a look-alike. */
static void join_print_text(const struct cli *c, const struct agah_join *j, const char *cid,
                            const char *role, const char *inviter, int rejoin)
{
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
}

/* Tells the user what was joined, as JSON or as text. */
static void join_print(const struct cli *c, const struct agah_local *l,
                       const struct agah_join *j, int rejoin)
{
    const char *role = agah_role_name(l->role);
    char cid[AGAH_IDSTR_SIZE], inviter[AGAH_IDSTR_SIZE];
    agah_id_encode(AGAH_IDPFX_COMMUNITY, l->community, cid);
    agah_id_encode(AGAH_IDPFX_MEMBER, j->inviter, inviter);
    if (c->json)
        join_print_json(j, cid, role, inviter, rejoin);
    else
        join_print_text(c, j, cid, role, inviter, rejoin);
}

int cmd_join(struct cli *c)
{
    char kpath[AGAH_PATH_MAX], cpath[AGAH_PATH_MAX];
    char *stdin_code = NULL;
    const char *code = c->pos[0];
    struct agah_identity *id = NULL;
    struct agah_join *j = NULL;
    struct agah_local *l = NULL;
    struct agah_rec adm;
    struct agah_why why = {{0}};
    int r, rejoin, lock_fd = -1;

    if ((r = cli_path(c, IDENTITY_KEYFILE, kpath)) != 0 ||
        (r = cli_path(c, COMMUNITY_FILE, cpath)) != 0)
        return r;
    if (strcmp(code, "-") == 0) {
        if ((r = join_read_code(&stdin_code)) != 0)
            return r;
        code = stdin_code;
    }
    if ((r = join_syntax(code)) != 0)
        goto out;
    if (!cli_exists(kpath)) {
        r = cli_fail(EXIT_USAGE, "no identity in %s: run `agah --data %s init` first",
                     c->datadir, c->datadir);
        goto out;
    }
    /* A community file already here: the same community's new code is a
     * rejoin (join_rejoin), another community's is refused below. */
    rejoin = cli_exists(cpath);
    if (rejoin && (r = join_lock(c, &lock_fd)) != 0)
        goto out;
    if (agah_datadir_ensure(c->datadir, &why) != 0) {
        r = cli_fail(EXIT_FAIL, "%s", why.msg);
        goto out;
    }
    if ((r = identity_load(c, &id, NULL, NULL)) != 0 ||
        (r = join_decode(code, id, &j)) != 0 || (r = join_records(j, id, &adm)) != 0)
        goto out;
    if (adm.u.admission.role != AGAH_ROLE_RELAY &&
        (r = identity_warn_nopass(c, adm.u.admission.role == AGAH_ROLE_ORGANISER
                                        ? "joining as an organiser"
                                        : "joining as a member")) != 0)
        goto out;
    if ((r = join_local(c, cpath, id, j, &adm, rejoin, &l)) != 0)
        goto out;
    r = agah_local_write(cpath, id, l);
    if (r != 0) {
        r = cli_fail(EXIT_FAIL, "cannot write %s: %s", cpath, agah_strerror(r));
        goto out;
    }
    join_print(c, l, j, rejoin);
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

/* agahd: the agah daemon. Parses the command line, opens the node (identity,
 * community state, store), then runs one libuv loop carrying the peer
 * network, the control socket for the local CLI, a prune timer and the
 * signal handlers, until SIGINT or SIGTERM closes everything cleanly. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sodium.h>
#include <uv.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <agah/agah.h>
#include <agah/datadir.h>
#include <agah/harden.h>
#include "control.h"
#include "gossip.h"
#include "log.h"
#include "net.h"
#include "node.h"
#include "quota.h"
#include "store.h"

#define AGAHD_DEFAULT_LISTEN "0.0.0.0:7433"
#define AGAHD_KEYFILE "identity.key"
#define AGAHD_SOCKET "agahd.sock"
#define AGAHD_STORE "store.db"
#define AGAHD_STOREKEY "store.key"
/* --check prints at most this many problems, then only counts them. */
#define AGAHD_CHECK_SHOW 20
#define AGAHD_MAX_PEERS 64
/* Expired records are pruned at start and then this often. */
#define AGAHD_PRUNE_MS (3600u * 1000u)
/* Records received from peers are committed in batches (node_flush); this
 * bounds how long one can wait uncommitted when traffic stops. */
#define AGAHD_FLUSH_MS 200u
/* glibc's malloc: blocks above this come from mmap and go back to the
 * system when freed. Fixed, because glibc otherwise raises it to the size
 * of any large block freed (up to 32 MiB), after which the big arrays
 * (id tables, the reconciliation set) grow inside the heap and leave holes
 * in it that a long-running daemon never gives back. */
#define AGAHD_MMAP_THRESHOLD (128 * 1024)
/* Records that must arrive (or leave) before a pause trims the heap. */
#define AGAHD_TRIM_RECORDS 4096u

/* Exit statuses: 0 clean stop, 1 a failure while starting or running, 2 bad
 * usage or a data directory this daemon may not or cannot serve. */
enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2, EXIT_HARDEN = 5 };

static const char usage_text[] =
    "usage: agahd [--data DIR] [--listen HOST:PORT | --listen none] [--peer HOST:PORT]...\n"
    "             [--log-level error|warn|info|debug] [--passphrase-file FILE]\n"
    "             [--quota-scale N]\n"
    "       agahd --check [--data DIR]\n"
    "       agahd --help | --version\n";

static const char help_text[] =
    "NAME\n"
    "    agahd - the agah daemon: stores and gossips a community's signed, encrypted alerts\n"
    "\n"
    "SYNOPSIS\n"
    "    agahd [--data DIR] [--listen HOST:PORT | --listen none] [--peer HOST:PORT]...\n"
    "          [--log-level error|warn|info|debug] [--passphrase-file FILE]\n"
    "          [--quota-scale N]\n"
    "    agahd --check [--data DIR]\n"
    "    agahd --help | --version\n"
    "\n"
    "DESCRIPTION\n"
    "    agahd runs one node of an agah community: it connects to other members' and\n"
    "    relays' daemons over mutually authenticated, encrypted links, exchanges the\n"
    "    community's signed records (alerts, confirmations, retractions, membership\n"
    "    changes) with them, stores what is valid, and answers the local `agah` command\n"
    "    through a Unix socket. It runs in the foreground and logs to standard error.\n"
    "\n"
    "    The data directory must already hold an identity (`agah init`) and a community\n"
    "    (`agah community create NAME` or `agah join CODE`). The daemon is ready when\n"
    "    DIR/agahd.sock accepts connections. Only one agahd may serve a data directory\n"
    "    at a time. A node with no reachable peer keeps serving its CLI; lost peers are\n"
    "    redialled with backoff.\n"
    "\n"
    "OPTIONS\n"
    "    --data DIR\n"
    "        The node's data directory. Default: $AGAH_DATA, else $XDG_DATA_HOME/agah,\n"
    "        else ~/.local/share/agah. It is created 0700 if missing (CONTRACT.md: both\n"
    "        programs do), and agahd then refuses it for having no identity. agahd\n"
    "        refuses a DIR that is a symbolic link, is another user's, or that group\n"
    "        or others can write (exit 2).\n"
    "    --listen HOST:PORT\n"
    "        Accept peer connections on this address. Default: " AGAHD_DEFAULT_LISTEN ".\n"
    "        `--listen none` accepts none (the node still dials out); a laptop behind\n"
    "        NAT usually wants this. Unless its host is a wildcard (0.0.0.0, [::]),\n"
    "        the address also goes into the join codes this node makes, as one to\n"
    "        dial.\n"
    "    --peer HOST:PORT\n"
    "        Dial this peer and keep it; may be given up to 64 times. Peers also come\n"
    "        from the join code, from `agah peer add` and from other peers.\n"
    "    --log-level error|warn|info|debug\n"
    "        How much to log. Default: info. No level logs keys, passphrases,\n"
    "        numbers, accounts, notes, member or community names, or what a\n"
    "        request carried; peer addresses and member ids appear only at debug.\n"
    "    --passphrase-file FILE\n"
    "        Read the identity passphrase from the first line of FILE, which group and\n"
    "        others must not be able to read (see PASSPHRASE).\n"
    "    --quota-scale N\n"
    "        Multiply the per-author post quotas by N (1 to 10000; default 1). Every\n"
    "        node keeps, per author and UTC day, the earliest 1,000 posts (alerts,\n"
    "        confirmations, retractions) with short notes and 100 with notes over\n"
    "        about 900 bytes, and of those at most 10,000 and 1,000 at once; later\n"
    "        ones are refused (`agah post` exits 5 saying so). Every node of a\n"
    "        community must use the same N, or they disagree on what to keep: it is\n"
    "        meant for benchmarks and tests with synthetic loads.\n"
    "    --check\n"
    "        Do not start: verify DIR/store.db and exit. Runs SQLite's integrity\n"
    "        check over the whole file, then re-verifies every stored record: its\n"
    "        signature and canonical encoding, that its id is the hash of its bytes,\n"
    "        that the indexed columns match the record, and that every record belongs\n"
    "        to the one community founded by the store's genesis record. The records\n"
    "        are sealed under the store key, so it opens the identity (asking for the\n"
    "        passphrase as agahd does) to read DIR/store.key. It opens the store\n"
    "        read-only, so it works on a full disk and beside a running agahd (it\n"
    "        reads one consistent snapshot). Prints one line per problem (the first\n"
    "        20) and a summary.\n"
    "    --help\n"
    "        Print this help and exit.\n"
    "    --version\n"
    "        Print the version and exit.\n"
    "\n"
    "PASSPHRASE\n"
    "    The identity key is encrypted under a passphrase. agahd takes it from\n"
    "    $AGAH_PASSPHRASE, else --passphrase-file, else asks on the terminal; with none\n"
    "    of these it refuses to start. An identity made with `agah init --no-passphrase`\n"
    "    (relays, tests) needs none. agahd wipes $AGAH_PASSPHRASE from its environment\n"
    "    at start, but whoever started it may still hold it (a shell's history, a unit\n"
    "    file's Environment=). Safer: --passphrase-file FILE, which must not be readable\n"
    "    by group or others (mode 0600, else exit 2), or under systemd a credential:\n"
    "        LoadCredential=passphrase:/etc/agah/passphrase\n"
    "        ExecStart=/usr/bin/agahd --passphrase-file ${CREDENTIALS_DIRECTORY}/passphrase\n"
    "    agahd leaves no core file and other processes of its user cannot read its\n"
    "    memory (RLIMIT_CORE 0, PR_SET_DUMPABLE 0).\n"
    "\n"
    "SIGNALS\n"
    "    SIGINT, SIGTERM\n"
    "        Stop cleanly: close the control socket and every peer link, flush the\n"
    "        store, remove DIR/agahd.sock, exit 0.\n"
    "\n"
    "FILES\n"
    "    DIR/identity.key   this node's identity, encrypted under the passphrase\n"
    "    DIR/community      the community's private state and peers, encrypted\n"
    "    DIR/store.key      the store key and your name, encrypted to the identity\n"
    "    DIR/store.db       the record store (SQLite), each record sealed under the\n"
    "                       store key\n"
    "    DIR/agahd.lock     held while an agahd serves DIR\n"
    "    DIR/agahd.sock     the control socket (mode 0600) used by `agah`; a client\n"
    "                       running as another uid is closed unanswered\n"
    "\n"
    "EXIT STATUS\n"
    "    0   stopped by SIGINT or SIGTERM, or --help / --version; with --check, the\n"
    "        store passed every check\n"
    "    1   a failure while starting or running (e.g. the listen address is in use);\n"
    "        with --check, the store is damaged or cannot be read\n"
    "    2   bad usage; a DIR that is a link, another user's or writable by others;\n"
    "        no identity or no community in DIR; another agahd already\n"
    "        serves DIR; a wrong or missing passphrase; with --check, no store in DIR\n"
    "        (said before any passphrase is asked for)\n"
    "    5   the process cannot be made safe to hold keys (core dumps or\n"
    "        PR_SET_DUMPABLE cannot be turned off)\n"
    "\n"
    "ENVIRONMENT\n"
    "    AGAH_DATA, XDG_DATA_HOME, HOME   locate the data directory (see --data)\n"
    "    AGAH_PASSPHRASE                  the identity passphrase\n"
    "\n"
    "EXAMPLES\n"
    "    Run a member's node with the default data directory, asking for the passphrase:\n"
    "        agahd\n"
    "\n"
    "    Run a relay on a home server, always on, reachable on port 7433:\n"
    "        agah --data /srv/agah init --no-passphrase\n"
    "        agah --data /srv/agah join agah1-...\n"
    "        agahd --data /srv/agah --listen 0.0.0.0:7433\n"
    "\n"
    "    A laptop that only dials out, to a relay it knows:\n"
    "        agahd --listen none --peer relay.example.org:7433\n"
    "\n"
    "    Verify a node's store, e.g. after a crash or a full disk:\n"
    "        agahd --data /srv/agah --check\n"
    "\n"
    "    Two throwaway nodes on one machine:\n"
    "        agahd --data /tmp/a --listen 127.0.0.1:7501 &\n"
    "        agahd --data /tmp/b --listen 127.0.0.1:7502 --peer 127.0.0.1:7501 &\n"
    "        agah --data /tmp/b status\n"
    "\n"
    "SEE ALSO\n"
    "    agah(1), agah --help\n";

struct opts {
    const char *data;
    const char *listen; /* NULL: --listen none */
    const char *peers[AGAHD_MAX_PEERS];
    size_t n_peers;
    int log_level;
    const char *passfile;
    unsigned quota_scale;
    int check; /* --check: verify the store and exit */
};

/* The daemon's running state: every handle main owns lives here. */
struct agahd {
    uv_loop_t loop;
    struct node *node;
    struct net *net;
    struct control *ctl;
    uv_signal_t sigint, sigterm;
    uv_timer_t prune, flush;
    int prune_open, flush_open, sigint_open, sigterm_open; /* initialised: ours to close */
    int stopping;
    int net_done, ctl_done;
    size_t trimmed_at, last_count; /* node_record_count at the last trim, flush */
};

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
    va_list ap;

    (void)fputs("agahd: ", stderr);
    va_start(ap, fmt);
    (void)vfprintf(stderr, fmt, ap);
    va_end(ap);
    (void)fputc('\n', stderr);
    (void)fputs(usage_text, stderr);
    (void)fputs("Try `agahd --help` for more.\n", stderr);
    return EXIT_USAGE;
}

/* Parses argv into o. Returns -1 to go on, or an exit status (0 after
 * --help or --version). Options take "--opt VALUE" or "--opt=VALUE". */
static int parse_args(int argc, char **argv, struct opts *o)
{
    static const char *const with_value[] = {"--data", "--listen", "--peer", "--log-level",
                                             "--passphrase-file", "--quota-scale"};

    memset(o, 0, sizeof *o);
    o->listen = AGAHD_DEFAULT_LISTEN;
    o->log_level = LOG_INFO;
    o->quota_scale = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = NULL, *eq;
        struct agah_why aw = {{0}};
        char name[32];
        size_t nlen;
        int known = 0;

        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            (void)fputs(help_text, stdout);
            return EXIT_OK;
        }
        if (strcmp(a, "--version") == 0) {
            (void)printf("agahd %s\n", AGAH_VERSION_STRING);
            return EXIT_OK;
        }
        if (strcmp(a, "--check") == 0) {
            o->check = 1;
            continue;
        }
        if (strncmp(a, "--", 2) != 0)
            return usage_error("unexpected argument '%s'", a);
        eq = strchr(a, '=');
        nlen = eq != NULL ? (size_t)(eq - a) : strlen(a);
        if (nlen >= sizeof name)
            return usage_error("unknown option '%s'", a);
        memcpy(name, a, nlen);
        name[nlen] = '\0';
        for (size_t k = 0; k < sizeof with_value / sizeof with_value[0]; k++)
            if (strcmp(name, with_value[k]) == 0)
                known = 1;
        if (!known)
            return usage_error("unknown option '%s'", name);
        if (eq != NULL) {
            val = eq + 1;
        } else {
            if (i + 1 >= argc)
                return usage_error("%s needs a value", name);
            val = argv[++i];
        }
        if (val[0] == '\0')
            return usage_error("%s needs a non-empty value", name);
        if (strcmp(name, "--data") == 0) {
            o->data = val;
        } else if (strcmp(name, "--listen") == 0) {
            if (strcmp(val, "none") == 0) {
                o->listen = NULL;
            } else if (agah_addr_parse(val, strlen(val), NULL, &aw) != 0) {
                return usage_error("--listen: expected HOST:PORT or none, got '%.80s' (%s)", val,
                                   aw.msg);
            } else {
                o->listen = val;
            }
        } else if (strcmp(name, "--peer") == 0) {
            if (agah_addr_parse(val, strlen(val), NULL, &aw) != 0)
                return usage_error("--peer: expected HOST:PORT, got '%.80s' (%s)", val, aw.msg);
            if (o->n_peers >= AGAHD_MAX_PEERS)
                return usage_error("--peer: at most 64 peers (at '%s')", val);
            o->peers[o->n_peers++] = val;
        } else if (strcmp(name, "--log-level") == 0) {
            if ((o->log_level = log_level_parse(val)) < 0)
                return usage_error("--log-level: expected error, warn, info or debug, got '%s'",
                                   val);
        } else if (strcmp(name, "--quota-scale") == 0) {
            char *end = NULL;
            unsigned long v;
            errno = 0;
            v = strtoul(val, &end, 10);
            if (errno != 0 || end == val || *end != '\0' || val[0] == '-' || v < 1 || v > 10000)
                return usage_error("--quota-scale: expected a whole number from 1 to 10000, "
                                   "got '%.20s'", val);
            o->quota_scale = (unsigned)v;
        } else {
            o->passfile = val;
        }
    }
    return -1;
}

/* --- shutdown ---------------------------------------------------------- */

static void on_net_closed(void *ctx)
{
    ((struct agahd *)ctx)->net_done = 1;
}

static void on_ctl_closed(void *ctx)
{
    ((struct agahd *)ctx)->ctl_done = 1;
}

static void close_if_open(uv_handle_t *h)
{
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

/* Starts closing everything: the control socket first (no new requests),
 * then the network, then main's own handles. The loop returns once every
 * close callback has run. Idempotent. */
static void agahd_stop(struct agahd *d)
{
    if (d->stopping)
        return;
    d->stopping = 1;
    if (d->ctl != NULL)
        control_close(d->ctl, on_ctl_closed, d);
    if (d->net != NULL)
        net_close(d->net, on_net_closed, d);
    if (d->prune_open)
        close_if_open((uv_handle_t *)&d->prune);
    if (d->flush_open)
        close_if_open((uv_handle_t *)&d->flush);
    if (d->sigint_open)
        close_if_open((uv_handle_t *)&d->sigint);
    if (d->sigterm_open)
        close_if_open((uv_handle_t *)&d->sigterm);
}

static void on_signal(uv_signal_t *s, int signum)
{
    struct agahd *d = s->data;

    log_info("%s: stopping", signum == SIGINT ? "SIGINT" : "SIGTERM");
    agahd_stop(d);
}

static void prune_now(struct agahd *d)
{
    int n = node_prune(d->node);

    if (n < 0)
        log_warn("prune: %s", agah_strerror(n));
    else if (n > 0)
        log_info("pruned %d expired record(s)", n);
}

static void on_flush(uv_timer_t *t)
{
    struct agahd *d = t->data;
    int r;

    if (!d->stopping && (r = node_flush(d->node)) < 0)
        log_error("cannot commit received records: %s", agah_strerror(r));
    /* A rekey that a membership change asked for a moment ago. */
    if (!d->stopping && (r = node_tick(d->node)) < 0)
        log_error("cannot issue an epoch: %s", agah_strerror(r));
#ifdef __GLIBC__
    /* A large burst of records (a catch-up, a flood) has just ended: hand
     * the heap pages its buffers used back to the system (about a
     * millisecond for a heap of tens of MB), rather than keep them
     * resident. Not after every few records: the pages given back are
     * faulted in again by the next ones (16-21 us a fault on a virtual
     * machine), and trimming after every alert added 10-25 ms to the
     * spread of an alert over 100 nodes. */
    {
        size_t n = node_record_count(d->node);
        size_t moved = n > d->trimmed_at ? n - d->trimmed_at : d->trimmed_at - n;

        if (n == d->last_count && moved >= AGAHD_TRIM_RECORDS) {
            (void)malloc_trim(0);
            d->trimmed_at = n;
        }
        d->last_count = n;
    }
#endif
}

static void on_prune(uv_timer_t *t)
{
    struct agahd *d = t->data;

    if (!d->stopping)
        prune_now(d);
}

/* A handle still open after every owner has closed its own is a bug in
 * that owner; close it anyway so the loop can close, and say so. */
static void walk_close(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h)) {
        log_warn("closing a leftover %s handle", uv_handle_type_name(uv_handle_get_type(h)));
        uv_close(h, NULL);
    }
}

/* Runs the loop until nothing is left, closing stragglers, then closes it.
 * Returns 0 if the loop closed cleanly. */
static int loop_finish(struct agahd *d)
{
    int r;

    (void)uv_run(&d->loop, UV_RUN_DEFAULT);
    uv_walk(&d->loop, walk_close, NULL);
    (void)uv_run(&d->loop, UV_RUN_DEFAULT);
    if ((r = uv_loop_close(&d->loop)) != 0) {
        log_error("the event loop did not close cleanly: %s", uv_strerror(r));
        return -1;
    }
    return 0;
}

/* --- agahd --check ------------------------------------------------------ */

/* What the check has seen so far. Records come in rowid (arrival) order, so
 * the community is known only at the end: each record's is compared with
 * the first one seen, and that with the genesis record's id. */
struct check {
    uint64_t rows, verified, problems;
    int have_community;
    uint64_t geneses;
    uint8_t genesis[AGAH_HASH_LEN];
    uint8_t community[AGAH_HASH_LEN];
};

static void check_problem(struct check *c, int64_t rowid, const uint8_t *id, const char *what)
{
    char hex[2 * AGAH_HASH_LEN + 1] = "?";

    if (c->problems++ >= AGAHD_CHECK_SHOW)
        return;
    if (id != NULL)
        (void)sodium_bin2hex(hex, sizeof hex, id, AGAH_HASH_LEN);
    (void)fprintf(stderr, "agahd: check: row %lld (record %.16s): %s\n", (long long)rowid, hex,
                  what);
}

/* Optional columns must be present exactly when the record has the field. */
static int check_opt(const uint8_t *col, const uint8_t *want)
{
    if (want == NULL)
        return col == NULL;
    return col != NULL && memcmp(col, want, AGAH_HASH_LEN) == 0;
}

static int check_row(void *ctx, int64_t rowid, const struct store_rec *sr)
{
    struct check *c = ctx;
    struct agah_rec r;
    struct agah_why why = {{0}};
    char msg[AGAH_WHY_MAX + 64];
    int rc;

    c->rows++;
    if (sr == NULL) {
        check_problem(c, rowid, NULL, "malformed columns");
        return 0;
    }
    if (sr->bytes == NULL) {
        check_problem(c, rowid, sr->id,
                      "does not verify: its sealed bytes do not open under this node's store "
                      "key (altered, or another node's)");
        return 0;
    }
    /* The full decoder, signature included: nothing read back is trusted. */
    if ((rc = agah_rec_decode(sr->bytes, sr->len, NULL, &r, &why)) != 0) {
        (void)snprintf(msg, sizeof msg, "does not verify: %s",
                       why.msg[0] ? why.msg : agah_strerror(rc));
        check_problem(c, rowid, sr->id, msg);
        return 0;
    }
    if (memcmp(r.id, sr->id, AGAH_HASH_LEN) != 0) {
        check_problem(c, rowid, sr->id, "its id is not the hash of its bytes");
        return 0;
    }
    if (r.type != sr->type || memcmp(r.author, sr->author, AGAH_PK_LEN) != 0 ||
        r.created != sr->created || r.expires != sr->expires ||
        !check_opt(sr->ref, r.type > AGAH_REC_ALERT ? r.u.sealed.ref : NULL) ||
        !check_opt(sr->epoch, r.type >= AGAH_REC_ALERT ? r.u.sealed.epoch : NULL)) {
        check_problem(c, rowid, sr->id, "its indexed columns do not match its bytes");
        return 0;
    }
    if (r.type == AGAH_REC_GENESIS) {
        if (c->geneses++ == 0)
            memcpy(c->genesis, r.id, AGAH_HASH_LEN);
        else if (memcmp(c->genesis, r.id, AGAH_HASH_LEN) != 0)
            check_problem(c, rowid, sr->id, "a second genesis record");
    } else if (!c->have_community) {
        memcpy(c->community, r.community, AGAH_HASH_LEN);
        c->have_community = 1;
    } else if (memcmp(c->community, r.community, AGAH_HASH_LEN) != 0) {
        check_problem(c, rowid, sr->id, "belongs to another community");
    }
    c->verified++;
    return 0;
}

/* The store key for --check: the identity is opened (with the passphrase
 * if it has one) and DIR/store.key read, writing nothing. Returns 0 or an
 * exit status after printing why. `sk` is the caller's to free. */
static int check_key(const char *dir, const struct opts *o, struct agah_storekey **sk)
{
    char kpath[AGAH_PATH_MAX], spath[AGAH_PATH_MAX];
    struct agah_identity *id = NULL;
    struct agah_why why = {{0}};
    uint8_t pk[AGAH_PK_LEN];
    char *pass = NULL;
    size_t passlen = 0;
    int no_pass = 1, r;

    if (agah_datadir_path(dir, AGAHD_KEYFILE, kpath) != 0 ||
        agah_datadir_path(dir, AGAHD_STOREKEY, spath) != 0) {
        (void)fprintf(stderr, "agahd: the data directory path %s is too long\n", dir);
        return EXIT_USAGE;
    }
    if (agah_keyfile_peek(kpath, pk, &no_pass, &why) == 0 && !no_pass &&
        (r = agah_passphrase_get(o->passfile, "agahd: passphrase for the identity key: ", 0,
                                 &pass, &passlen, &why)) != 0) {
        (void)fprintf(stderr, "agahd: %s\n", why.msg[0] ? why.msg : agah_strerror(r));
        return EXIT_USAGE;
    }
    r = agah_keyfile_read(kpath, pass, passlen, &id, &why);
    if (pass != NULL)
        agah_passphrase_free(pass, passlen);
    agah_passphrase_env_forget();
    if (r != 0) {
        (void)fprintf(stderr, "agahd: check: %s\n",
                      r == AGAH_EPASS ? "wrong passphrase" : why.msg[0] ? why.msg
                                                                        : agah_strerror(r));
        return EXIT_USAGE;
    }
    r = agah_storekey_read(spath, id, sk, &why);
    agah_identity_free(id);
    if (r == AGAH_ENOENT)
        (void)fprintf(stderr, "agahd: check: there is no %s: the store is of an older agah; "
                              "start agahd once to migrate it, then check\n", spath);
    else if (r != 0)
        (void)fprintf(stderr, "agahd: check: %s\n", why.msg[0] ? why.msg : agah_strerror(r));
    return r == 0 ? 0 : EXIT_FAIL;
}

/* agahd --check: exit 0 sound, 1 damaged or unreadable, 2 no store (or a
 * wrong passphrase). */
static int check_store(const char *dir, const struct opts *o)
{
    char path[AGAH_PATH_MAX];
    struct agah_why why = {{0}};
    struct agah_storekey *sk = NULL;
    struct store *s = NULL;
    struct stat sb;
    struct check c;
    int r, status = EXIT_FAIL;

    memset(&c, 0, sizeof c);
    if (agah_datadir_path(dir, AGAHD_STORE, path) != 0) {
        (void)fprintf(stderr, "agahd: the data directory path %s is too long\n", dir);
        return EXIT_USAGE;
    }
    /* Before any passphrase is asked for. */
    if (stat(path, &sb) != 0) {
        (void)fprintf(stderr, "agahd: check: store: there is no %s\n", path);
        return EXIT_USAGE;
    }
    if ((r = check_key(dir, o, &sk)) != 0)
        return r;
    r = store_open_readonly(path, sk->key, &s, &why);
    agah_storekey_free(sk);
    if (r != 0) {
        (void)fprintf(stderr, "agahd: check: %s\n", why.msg[0] ? why.msg : agah_strerror(r));
        return r == AGAH_ENOENT ? EXIT_USAGE : EXIT_FAIL;
    }
    if ((r = store_integrity(s, &why)) != 0) {
        (void)fprintf(stderr, "agahd: check: %s: %s\n", path,
                      why.msg[0] ? why.msg : agah_strerror(r));
        c.problems++;
    }
    if ((r = store_check_rows(s, check_row, &c)) != 0) {
        (void)fprintf(stderr, "agahd: check: cannot read every record of %s: %s\n", path,
                      agah_strerror(r));
        c.problems++;
    }
    if (c.rows > 0 && c.geneses == 0) {
        (void)fprintf(stderr, "agahd: check: no genesis record\n");
        c.problems++;
    } else if (c.have_community && c.geneses > 0 &&
               memcmp(c.community, c.genesis, AGAH_HASH_LEN) != 0) {
        (void)fprintf(stderr, "agahd: check: the records belong to another community than "
                              "the genesis record founds\n");
        c.problems++;
    }
    if (c.problems == 0) {
        (void)printf("%s: ok: integrity check passed, %llu record(s) verified\n", path,
                     (unsigned long long)c.verified);
        status = EXIT_OK;
    } else {
        (void)printf("%s: DAMAGED: %llu problem(s); %llu of %llu record(s) verified\n", path,
                     (unsigned long long)c.problems, (unsigned long long)c.verified,
                     (unsigned long long)c.rows);
    }
    store_close(s);
    return status;
}

/* --- start-up ------------------------------------------------------------ */

/* Opens the node, asking for the passphrase only if the key file says one
 * is needed. Returns 0 or an exit status after printing why. */
static int open_node(const char *dir, const struct opts *o, struct node **node)
{
    char keypath[AGAH_PATH_MAX];
    uint8_t pk[AGAH_PK_LEN];
    struct agah_why why = {{0}};
    char *pass = NULL;
    size_t passlen = 0;
    int no_pass = 1, r;

    if (agah_datadir_path(dir, AGAHD_KEYFILE, keypath) != 0) {
        (void)fprintf(stderr, "agahd: the data directory path %s is too long\n", dir);
        return EXIT_USAGE;
    }
    quota_scale_defaults(o->quota_scale);
    /* A missing or unreadable key file is node_open's to report, with the
     * advice to run `agah init`. */
    if (agah_keyfile_peek(keypath, pk, &no_pass, &why) != 0)
        no_pass = 1;
    if (!no_pass) {
        memset(&why, 0, sizeof why);
        r = agah_passphrase_get(o->passfile, "agahd: passphrase for the identity key: ", 0,
                                &pass, &passlen, &why);
        if (r != 0) {
            (void)fprintf(stderr, "agahd: %s\n", why.msg[0] ? why.msg : agah_strerror(r));
            return EXIT_USAGE;
        }
    }
    memset(&why, 0, sizeof why);
    r = node_open(dir, pass, passlen, NULL, node, &why);
    if (pass != NULL)
        agah_passphrase_free(pass, passlen);
    /* Read once; nothing later needs the passphrase. */
    agah_passphrase_env_forget();
    if (r == 0)
        return 0;
    switch (r) {
    case AGAH_ENOENT:
        (void)fprintf(stderr, "agahd: %s\n",
                      why.msg[0] ? why.msg
                                 : "no identity or community here: run `agah init`, then "
                                   "`agah community create NAME` or `agah join CODE`");
        return EXIT_USAGE;
    case AGAH_EEXIST:
        (void)fprintf(stderr,
                      "agahd: another agahd is already running on %s; stop it first or "
                      "use another --data directory\n",
                      dir);
        return EXIT_USAGE;
    case AGAH_EPASS:
        (void)fprintf(stderr, "agahd: wrong passphrase for the identity in %s\n", dir);
        return EXIT_USAGE;
    case AGAH_EVERSION:
        /* As with no community at all: the directory is unusable here. */
        (void)fprintf(stderr, "agahd: %s\n", why.msg);
        return EXIT_USAGE;
    default:
        (void)fprintf(stderr, "agahd: cannot open %s: %s\n", dir,
                      why.msg[0] ? why.msg : agah_strerror(r));
        return EXIT_FAIL;
    }
}

/* Starts the network, the control socket, the timer and the signal
 * handlers on d->loop. Returns 0 or an exit status after logging why; on
 * failure whatever was started is closed by agahd_stop. */
static int start_services(struct agahd *d, const char *dir, struct opts *o)
{
    char sock[AGAH_PATH_MAX];
    struct agah_why why = {{0}};
    struct net_config cfg;
    int r;

    if ((r = uv_timer_init(&d->loop, &d->prune)) == 0) {
        d->prune_open = 1;
        if ((r = uv_timer_init(&d->loop, &d->flush)) == 0) {
            d->flush_open = 1;
            if ((r = uv_signal_init(&d->loop, &d->sigint)) == 0) {
                d->sigint_open = 1;
                if ((r = uv_signal_init(&d->loop, &d->sigterm)) == 0)
                    d->sigterm_open = 1;
            }
        }
    }
    if (r != 0) {
        log_error("libuv: %s", uv_strerror(r));
        return EXIT_FAIL;
    }
    d->prune.data = d->flush.data = d->sigint.data = d->sigterm.data = d;
    if ((r = uv_signal_start(&d->sigint, on_signal, SIGINT)) != 0 ||
        (r = uv_signal_start(&d->sigterm, on_signal, SIGTERM)) != 0) {
        log_error("cannot handle signals: %s", uv_strerror(r));
        return EXIT_FAIL;
    }

    memset(&cfg, 0, sizeof cfg);
    cfg.listen = o->listen;
    cfg.peers = o->peers;
    cfg.n_peers = o->n_peers;
    if ((r = net_start(&d->loop, d->node, &cfg, &d->net, &why)) != 0) {
        log_error("cannot start the network: %s", why.msg[0] ? why.msg : agah_strerror(r));
        d->net = NULL;
        return EXIT_FAIL;
    }

    prune_now(d);
    if ((r = uv_timer_start(&d->prune, on_prune, AGAHD_PRUNE_MS, AGAHD_PRUNE_MS)) != 0 ||
        (r = uv_timer_start(&d->flush, on_flush, AGAHD_FLUSH_MS, AGAHD_FLUSH_MS)) != 0) {
        log_error("libuv: %s", uv_strerror(r));
        return EXIT_FAIL;
    }

    /* Last: a socket that accepts connections means the daemon is ready. */
    if (agah_datadir_path(dir, AGAHD_SOCKET, sock) != 0) {
        log_error("the data directory path %s is too long", dir);
        return EXIT_USAGE;
    }
    memset(&why, 0, sizeof why);
    if ((r = control_start(&d->loop, d->node, d->net, sock, &d->ctl, &why)) != 0) {
        log_error("control socket: %s", why.msg[0] ? why.msg : agah_strerror(r));
        d->ctl = NULL;
        return r == AGAH_EINVAL ? EXIT_USAGE : EXIT_FAIL;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct agahd d;
    struct opts o;
    struct agah_why why = {{0}};
    char dir[AGAH_PATH_MAX];
    int r, status;

    /* Before anything secret is in memory: no core file, no /proc/PID/mem
     * for other processes of this user, and the passphrase out of the
     * environment (/proc/PID/environ) for the daemon's whole life. */
    if ((r = agah_harden_process(&why)) != 0) {
        (void)fprintf(stderr, "agahd: %s; refusing to run\n", why.msg[0] ? why.msg : agah_strerror(r));
        return EXIT_HARDEN;
    }
    if ((r = agah_passphrase_env_take(&why)) != 0) {
        (void)fprintf(stderr, "agahd: %s\n", why.msg[0] ? why.msg : agah_strerror(r));
        return r == AGAH_EINVAL ? EXIT_USAGE : EXIT_FAIL;
    }
    memset(&why, 0, sizeof why);

    /* A CLI that disconnects mid-answer must cost an EPIPE, not the daemon. */
#ifdef __GLIBC__
    (void)mallopt(M_MMAP_THRESHOLD, AGAHD_MMAP_THRESHOLD);
#endif
    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
        (void)fprintf(stderr, "agahd: cannot ignore SIGPIPE: %s\n", strerror(errno));
        return EXIT_FAIL;
    }
    if ((r = parse_args(argc, argv, &o)) >= 0)
        return r;
    log_set_level(o.log_level);
    if (agah_init() != 0) {
        (void)fputs("agahd: libsodium cannot start\n", stderr);
        return EXIT_FAIL;
    }
    /* A check creates nothing: no directory, no store. */
    if (o.check) {
        if ((r = agah_datadir_resolve(o.data, dir, &why)) != 0) {
            (void)fprintf(stderr, "agahd: %s\n", why.msg[0] ? why.msg : agah_strerror(r));
            return EXIT_USAGE;
        }
        return check_store(dir, &o);
    }
    if ((r = agah_datadir_resolve(o.data, dir, &why)) != 0 ||
        (r = agah_datadir_ensure(dir, &why)) != 0) {
        (void)fprintf(stderr, "agahd: %s\n", why.msg[0] ? why.msg : agah_strerror(r));
        return EXIT_USAGE;
    }

    memset(&d, 0, sizeof d);
    if ((status = open_node(dir, &o, &d.node)) != 0)
        return status;
    if ((r = uv_loop_init(&d.loop)) != 0) {
        (void)fprintf(stderr, "agahd: libuv: %s\n", uv_strerror(r));
        node_close(d.node);
        return EXIT_FAIL;
    }

    status = start_services(&d, dir, &o);
    if (status == 0) {
        char me[AGAH_IDSTR_SIZE], comm[AGAH_IDSTR_SIZE];
        const char *role = agah_role_name(node_role(d.node));
        /* Ids only: the community's name is for its members, not for logs. */
        agah_id_encode(AGAH_IDPFX_MEMBER, agah_identity_pk(node_identity(d.node)), me);
        agah_id_encode(AGAH_IDPFX_COMMUNITY, node_community(d.node), comm);
        /* Who and where only at debug (see log_ident). */
        log_info("agahd %s ready: %s, control socket %s/%s", AGAH_VERSION_STRING,
                 role != NULL ? role : "member", dir, AGAHD_SOCKET);
        log_debug("member %s in %s, listening on %s", me, comm,
                  o.listen != NULL ? o.listen : "nothing (--listen none)");
        r = uv_run(&d.loop, UV_RUN_DEFAULT);
        (void)r; /* returns once agahd_stop has closed everything */
    }
    agahd_stop(&d);
    if (loop_finish(&d) != 0 && status == 0)
        status = EXIT_FAIL;
    if (d.net != NULL) {
        if (!d.net_done)
            log_warn("the network layer did not report its close");
        net_free(d.net);
    }
    /* What peers sent last is committed before the store closes. */
    if ((r = node_flush(d.node)) < 0) {
        log_error("cannot commit received records: %s", agah_strerror(r));
        if (status == 0)
            status = EXIT_FAIL;
    }
    node_close(d.node);
    if (d.ctl != NULL)
        control_free(d.ctl);
    if (status == 0)
        log_info("stopped");
    return status;
}

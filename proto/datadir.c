/* Where a node's data directory is, making it private (0700, ours), telling
 * whether a directory, a socket or the process behind one is ours, and
 * getting the identity passphrase from the environment, a file or the
 * terminal. Shared by agahd and agah so both find the same DIR and ask for
 * the passphrase the same way (CONTRACT.md, "Common to both programs"). */
#define _GNU_SOURCE /* struct ucred, SO_PEERCRED */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <termios.h>
#include <unistd.h>
#include <sodium.h>
#include <agah/datadir.h>
#include <agah/keys.h>

/* The longest passphrase we accept, in bytes. Argon2id takes any length,
 * but a bound keeps a hostile passphrase file from growing our memory. */
#define DATADIR_PASS_MAX 1024

/* Joins a and b into out, refusing (rather than truncating) a path that
 * would not fit. */
static int datadir__join(char out[AGAH_PATH_MAX], const char *a, const char *b)
{
    int n = snprintf(out, AGAH_PATH_MAX, "%s/%s", a, b);
    if (n < 0 || (size_t)n >= AGAH_PATH_MAX)
        return AGAH_EINVAL;
    return 0;
}

static int datadir__copy(char out[AGAH_PATH_MAX], const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= AGAH_PATH_MAX)
        return AGAH_EINVAL;
    memcpy(out, s, n + 1);
    return 0;
}

int agah_datadir_resolve(const char *opt, char out[AGAH_PATH_MAX], struct agah_why *why)
{
    const char *env;

    if (opt != NULL) {
        if (datadir__copy(out, opt) != 0)
            return agah_fail(why, AGAH_EINVAL, "--data: the directory name is empty or too long");
        return 0;
    }
    env = getenv("AGAH_DATA");
    if (env != NULL && env[0] != '\0') {
        if (datadir__copy(out, env) != 0)
            return agah_fail(why, AGAH_EINVAL, "AGAH_DATA is too long");
        return 0;
    }
    /* The XDG base directory spec says a relative XDG_DATA_HOME is invalid
     * and must be ignored. */
    env = getenv("XDG_DATA_HOME");
    if (env != NULL && env[0] == '/') {
        if (datadir__join(out, env, "agah") != 0)
            return agah_fail(why, AGAH_EINVAL, "XDG_DATA_HOME is too long");
        return 0;
    }
    env = getenv("HOME");
    if (env == NULL || env[0] == '\0') {
        struct passwd *pw = getpwuid(geteuid());
        env = pw != NULL ? pw->pw_dir : NULL;
    }
    if (env == NULL || env[0] == '\0')
        return agah_fail(why, AGAH_EINVAL,
                         "no data directory: HOME is not set; use --data DIR or set AGAH_DATA");
    if (datadir__join(out, env, ".local/share/agah") != 0)
        return agah_fail(why, AGAH_EINVAL, "HOME is too long");
    return 0;
}

/* mkdir -p with mode 0700 for every directory we create. Existing parents
 * are left as they are: they are not ours to change. */
static int datadir__mkdirs(const char *dir, struct agah_why *why)
{
    char path[AGAH_PATH_MAX];
    size_t n = strlen(dir);

    if (n == 0 || n >= sizeof path)
        return agah_fail(why, AGAH_EINVAL, "data directory name is empty or too long");
    memcpy(path, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (path[i] != '/' && path[i] != '\0')
            continue;
        char c = path[i];
        path[i] = '\0';
        if (mkdir(path, 0700) != 0 && errno != EEXIST) {
            int e = errno;
            return agah_fail(why, AGAH_EIO, "cannot create %s: %s", path, strerror(e));
        }
        path[i] = c;
    }
    return 0;
}

/* lstat() of `path` without its trailing slashes: "dir/" would resolve a
 * symbolic link named dir, which is exactly what must not be followed. */
static int datadir__lstat(const char *path, struct stat *st)
{
    char copy[AGAH_PATH_MAX];
    size_t n = strlen(path);

    if (n == 0 || n >= sizeof copy) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(copy, path, n + 1);
    while (n > 1 && copy[n - 1] == '/')
        copy[--n] = '\0';
    return lstat(copy, st);
}

int agah_datadir_check_owned(const char *path, enum agah_owned_kind kind, struct agah_why *why)
{
    const char *what = kind == AGAH_OWNED_DIR ? "data directory" : "control socket";
    struct stat st;

    if (path == NULL)
        return agah_fail(why, AGAH_EINVAL, "no %s", what);
    if (datadir__lstat(path, &st) != 0) {
        int e = errno;
        if (e == ENOENT)
            return agah_fail(why, AGAH_ENOENT, "%s does not exist", path);
        return agah_fail(why, AGAH_EIO, "cannot examine the %s %s: %s", what, path, strerror(e));
    }
    /* A link could point anywhere another user chose; whoever owns the
     * link (not its target) decides where we go, so it is not followed. */
    if (S_ISLNK(st.st_mode))
        return agah_fail(why, AGAH_EPERM,
                         "refusing the %s %s: it is a symbolic link; give the real path", what,
                         path);
    if (kind == AGAH_OWNED_DIR && !S_ISDIR(st.st_mode))
        return agah_fail(why, AGAH_EPERM, "refusing the %s %s: it is not a directory", what,
                         path);
    if (kind == AGAH_OWNED_SOCKET && !S_ISSOCK(st.st_mode))
        return agah_fail(why, AGAH_EPERM, "refusing the %s %s: it is not a socket", what, path);
    /* Another user's directory or socket may answer in agahd's name (and
     * read every number we check), or hold files they planted. */
    if (st.st_uid != geteuid())
        return agah_fail(why, AGAH_EPERM,
                         "refusing the %s %s: it belongs to another user (uid %ld, you are %ld)",
                         what, path, (long)st.st_uid, (long)geteuid());
    if ((st.st_mode & 022) != 0)
        return agah_fail(why, AGAH_EPERM,
                         "refusing the %s %s: group or others can write to it (mode %03o); "
                         "only you may (chmod %s)",
                         what, path, (unsigned)(st.st_mode & 0777),
                         kind == AGAH_OWNED_DIR ? "700" : "600");
    return 0;
}

int agah_sock_peer_check(int fd, struct agah_why *why)
{
    struct ucred cred;
    socklen_t len = sizeof cred;

    memset(&cred, 0, sizeof cred);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || len != sizeof cred) {
        int e = errno;
        return agah_fail(why, AGAH_EIO, "cannot learn who is at the other end: %s",
                         strerror(e));
    }
    if (cred.uid != geteuid())
        return agah_fail(why, AGAH_EPERM, "the other end runs as uid %ld, not as uid %ld",
                         (long)cred.uid, (long)geteuid());
    return 0;
}

int agah_datadir_ensure(const char *dir, struct agah_why *why)
{
    struct stat st;
    int r;

    if (dir == NULL)
        return agah_fail(why, AGAH_EINVAL, "no data directory");
    r = agah_datadir_check_owned(dir, AGAH_OWNED_DIR, why);
    if (r == AGAH_ENOENT) {
        r = datadir__mkdirs(dir, why);
        if (r != 0)
            return r;
        r = agah_datadir_check_owned(dir, AGAH_OWNED_DIR, why);
    }
    if (r != 0)
        return r;
    if (datadir__lstat(dir, &st) != 0) {
        int e = errno;
        return agah_fail(why, AGAH_EIO, "cannot use %s: %s", dir, strerror(e));
    }
    /* Group or others may still read or enter it (a 0755 directory made
     * by hand): tighten it, since nobody else could have written to it. */
    if ((st.st_mode & 07777) != 0700 && chmod(dir, 0700) != 0) {
        int e = errno;
        return agah_fail(why, AGAH_EIO, "cannot make %s private (chmod 0700): %s", dir,
                         strerror(e));
    }
    return 0;
}

int agah_datadir_path(const char *dir, const char *name, char out[AGAH_PATH_MAX])
{
    if (dir == NULL || name == NULL)
        return AGAH_EINVAL;
    return datadir__join(out, dir, name);
}

void agah_passphrase_free(char *p, size_t len)
{
    if (p == NULL)
        return;
    sodium_memzero(p, len);
    sodium_free(p);
}

/* A passphrase buffer in guarded memory, holding a copy of s[0..n). */
static int datadir__pass_dup(const char *s, size_t n, char **out)
{
    char *p = sodium_malloc(n + 1);
    if (p == NULL)
        return AGAH_ENOMEM;
    memcpy(p, s, n);
    p[n] = '\0';
    *out = p;
    return 0;
}

/* Reads one line (without its "\n" or "\r\n") from fd into buf, which has
 * room for DATADIR_PASS_MAX bytes and a NUL. Byte at a time, so nothing past
 * the line is consumed and nothing is left in a stdio buffer we cannot wipe. */
static int datadir__read_line(int fd, char *buf, size_t *len, volatile sig_atomic_t *stop)
{
    size_t n = 0;
    for (;;) {
        char c;
        ssize_t k = read(fd, &c, 1);
        if (k < 0) {
            if (errno == EINTR && (stop == NULL || *stop == 0))
                continue;
            return AGAH_EIO;
        }
        if (k == 0 || c == '\n')
            break;
        if (n >= DATADIR_PASS_MAX)
            return AGAH_ETOOBIG;
        buf[n++] = c;
    }
    if (n > 0 && buf[n - 1] == '\r')
        n--;
    buf[n] = '\0';
    *len = n;
    return 0;
}

static int datadir__from_file(const char *file, char **out, size_t *len, struct agah_why *why)
{
    char *buf = sodium_malloc(DATADIR_PASS_MAX + 1);
    struct stat st;
    size_t n = 0;
    int fd = -1, r;

    if (buf == NULL)
        return AGAH_ENOMEM;
    fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        r = agah_fail(why, AGAH_EINVAL, "cannot read passphrase file %s: %s", file, strerror(e));
        goto out;
    }
    /* A passphrase others can read protects nothing: refuse it rather
     * than use it, as ssh does with a private key readable by others. The
     * mode is checked on the open file, so it is the file we read. */
    if (fstat(fd, &st) != 0) {
        int e = errno;
        r = agah_fail(why, AGAH_EINVAL, "cannot read passphrase file %s: %s", file, strerror(e));
        goto out;
    }
    if ((st.st_mode & 077) != 0) {
        r = agah_fail(why, AGAH_EINVAL,
                      "passphrase file %s can be read by group or others (mode %03o); "
                      "run `chmod 600 %s`",
                      file, (unsigned)(st.st_mode & 0777), file);
        goto out;
    }
    r = datadir__read_line(fd, buf, &n, NULL);
    if (r == AGAH_ETOOBIG) {
        r = agah_fail(why, AGAH_EINVAL, "passphrase file %s: the first line is longer than %d bytes",
                      file, DATADIR_PASS_MAX);
        goto out;
    }
    if (r != 0) {
        int e = errno;
        r = agah_fail(why, AGAH_EINVAL, "cannot read passphrase file %s: %s", file, strerror(e));
        goto out;
    }
    if (n == 0) {
        r = agah_fail(why, AGAH_EINVAL, "passphrase file %s: the first line is empty", file);
        goto out;
    }
    r = datadir__pass_dup(buf, n, out);
    if (r == 0)
        *len = n;
out:
    if (fd >= 0)
        (void)close(fd);
    sodium_memzero(buf, DATADIR_PASS_MAX + 1);
    sodium_free(buf);
    return r;
}

/* A signal while echo is off must not leave the user's terminal without
 * echo: the handler only notes it, the prompt restores the terminal and
 * then re-raises the signal with its old disposition. */
static volatile sig_atomic_t datadir__signalled;

static void datadir__on_signal(int sig)
{
    datadir__signalled = sig;
}

static const int datadir__signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP};
#define DATADIR_NSIG (sizeof datadir__signals / sizeof datadir__signals[0])

/* Prompts on the terminal with echo off and reads one line into buf. */
static int datadir__prompt(int tty, const char *prompt, char *buf, size_t *len,
                           struct agah_why *why)
{
    struct termios old, quiet;
    struct sigaction sa, saved[DATADIR_NSIG];
    int r, have_termios = 0, sig;

    if (tcgetattr(tty, &old) == 0) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
        quiet.c_lflag |= ICANON;
        have_termios = 1;
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = datadir__on_signal;
    (void)sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: read() must return EINTR */
    datadir__signalled = 0;
    for (size_t i = 0; i < DATADIR_NSIG; i++)
        if (sigaction(datadir__signals[i], &sa, &saved[i]) != 0)
            return agah_fail(why, AGAH_EIO, "cannot set up the passphrase prompt");

    /* Echo goes off before the prompt is shown (as readpassphrase does):
     * an answer typed as soon as the prompt appears is then neither echoed
     * nor thrown away by the TCSAFLUSH. */
    if (have_termios && tcsetattr(tty, TCSAFLUSH, &quiet) != 0) {
        r = agah_fail(why, AGAH_EIO, "cannot turn off echo on the terminal");
        goto out;
    }
    if (write(tty, prompt, strlen(prompt)) < 0) {
        r = agah_fail(why, AGAH_EIO, "cannot write the passphrase prompt to the terminal");
        if (have_termios)
            (void)tcsetattr(tty, TCSAFLUSH, &old);
        goto out;
    }
    r = datadir__read_line(tty, buf, len, &datadir__signalled);
    if (have_termios)
        (void)tcsetattr(tty, TCSAFLUSH, &old);
    /* Echo was off, so the user's Enter did not move to a new line. */
    (void)!write(tty, "\n", 1);
    if (r == AGAH_ETOOBIG)
        r = agah_fail(why, AGAH_EINVAL, "the passphrase is longer than %d bytes", DATADIR_PASS_MAX);
    else if (r != 0)
        r = agah_fail(why, AGAH_EIO, "cannot read the passphrase from the terminal");
out:
    for (size_t i = 0; i < DATADIR_NSIG; i++)
        (void)sigaction(datadir__signals[i], &saved[i], NULL);
    sig = datadir__signalled;
    if (sig != 0) {
        sodium_memzero(buf, DATADIR_PASS_MAX + 1);
        (void)raise(sig);
        return agah_fail(why, AGAH_EINVAL, "interrupted");
    }
    return r;
}

static int datadir__from_tty(const char *prompt, int confirm, char **out, size_t *len,
                             struct agah_why *why)
{
    char *a = NULL, *b = NULL;
    size_t alen = 0, blen = 0;
    int tty, r;

    tty = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (tty < 0)
        return agah_fail(why, AGAH_EINVAL,
                         "no passphrase: set AGAH_PASSPHRASE, use --passphrase-file, or run on a terminal");
    a = sodium_malloc(DATADIR_PASS_MAX + 1);
    b = sodium_malloc(DATADIR_PASS_MAX + 1);
    if (a == NULL || b == NULL) {
        r = AGAH_ENOMEM;
        goto out;
    }
    r = datadir__prompt(tty, prompt != NULL ? prompt : "Passphrase: ", a, &alen, why);
    if (r != 0)
        goto out;
    if (alen == 0) {
        r = agah_fail(why, AGAH_EINVAL, "the passphrase is empty");
        goto out;
    }
    if (confirm) {
        r = datadir__prompt(tty, "Again, to confirm: ", b, &blen, why);
        if (r != 0)
            goto out;
        if (blen != alen || sodium_memcmp(a, b, alen) != 0) {
            r = agah_fail(why, AGAH_EINVAL, "the passphrases do not match");
            goto out;
        }
    }
    r = datadir__pass_dup(a, alen, out);
    if (r == 0)
        *len = alen;
out:
    if (a != NULL) {
        sodium_memzero(a, DATADIR_PASS_MAX + 1);
        sodium_free(a);
    }
    if (b != NULL) {
        sodium_memzero(b, DATADIR_PASS_MAX + 1);
        sodium_free(b);
    }
    (void)close(tty);
    return r;
}

/* The passphrase taken out of the environment, in guarded memory until
 * agah_passphrase_env_forget; NULL when the variable was not set. */
static char *datadir__env_pass;
static size_t datadir__env_len;

int agah_passphrase_env_take(struct agah_why *why)
{
    char *env = getenv("AGAH_PASSPHRASE");
    size_t n;
    int r = 0;

    if (env == NULL)
        return 0;
    n = strlen(env);
    if (n > DATADIR_PASS_MAX)
        r = agah_fail(why, AGAH_EINVAL, "AGAH_PASSPHRASE is longer than %d bytes", DATADIR_PASS_MAX);
    else if (n > 0 && datadir__env_pass == NULL && (r = agah_init()) == 0 &&
             (r = datadir__pass_dup(env, n, &datadir__env_pass)) == 0)
        datadir__env_len = n;
    /* getenv points into the environment block itself, which is what
     * /proc/PID/environ shows for the process's whole life: unsetenv only
     * drops the pointer, so the bytes are wiped first, whatever happened. */
    sodium_memzero(env, n);
    if (unsetenv("AGAH_PASSPHRASE") != 0 && r == 0)
        r = agah_fail(why, AGAH_EINTERNAL, "cannot remove AGAH_PASSPHRASE from the environment");
    return r;
}

void agah_passphrase_env_forget(void)
{
    agah_passphrase_free(datadir__env_pass, datadir__env_len);
    datadir__env_pass = NULL;
    datadir__env_len = 0;
}

int agah_passphrase_get(const char *file, const char *prompt, int confirm, char **out,
                        size_t *len, struct agah_why *why)
{
    int r;

    if (out == NULL || len == NULL)
        return AGAH_EINVAL;
    *out = NULL;
    *len = 0;
    r = agah_init();
    if (r != 0)
        return r;
    /* Normally taken at the start of main; this covers a caller that did
     * not, and a variable set since. */
    r = agah_passphrase_env_take(why);
    if (r != 0)
        return r;
    if (datadir__env_pass != NULL) {
        r = datadir__pass_dup(datadir__env_pass, datadir__env_len, out);
        if (r == 0)
            *len = datadir__env_len;
        return r;
    }
    if (file != NULL)
        return datadir__from_file(file, out, len, why);
    return datadir__from_tty(prompt, confirm, out, len, why);
}

int agah_passphrase_get_new(const char *file, const char *prompt, char **out, size_t *len,
                            struct agah_why *why)
{
    int tty, r;

    if (out == NULL || len == NULL)
        return AGAH_EINVAL;
    *out = NULL;
    *len = 0;
    if ((r = agah_init()) != 0)
        return r;
    if (file != NULL)
        return datadir__from_file(file, out, len, why);
    /* Said here rather than by datadir__from_tty, whose advice to set
     * AGAH_PASSPHRASE is about the current passphrase, not a new one. */
    tty = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (tty < 0)
        return agah_fail(why, AGAH_EINVAL,
                         "no new passphrase: use --new-passphrase-file FILE, or run on a terminal");
    (void)close(tty);
    return datadir__from_tty(prompt, 1, out, len, why);
}

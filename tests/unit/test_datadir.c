/* The ownership checks agah and agahd make before trusting a data
 * directory or a control socket, and the peer uid check on a connected
 * socket (issue 23): owned and private is accepted; writable by group or
 * others, another user's, a symbolic link or the wrong kind of file is
 * refused with a sentence naming the path. The other-uid cases need root
 * (to chown, or to connect as another uid) and are skipped otherwise. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <agah/agah.h>
#include <agah/datadir.h>
#include "check.h"

#define NOBODY 65534

static char base[] = "/tmp/agah-test-datadir.XXXXXX";

static void join(char out[AGAH_PATH_MAX], const char *name)
{
    CHECK(agah_datadir_path(base, name, out) == 0);
}

static int check_dir(const char *path, const char *want)
{
    struct agah_why why = {{0}};
    int r = agah_datadir_check_owned(path, AGAH_OWNED_DIR, &why);
    if (want != NULL)
        CHECKF(strstr(why.msg, want) != NULL && strstr(why.msg, path) != NULL,
               "'%s' lacks '%s' or the path", why.msg, want);
    return r;
}

/* A listening socket at path (mode 0600 unless chmod'ed later), or -1. */
static int listen_at(const char *path)
{
    struct sockaddr_un sa;
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);

    CHECK(fd >= 0);
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    (void)snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    CHECK(bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0);
    CHECK(chmod(path, 0600) == 0);
    CHECK(listen(fd, 4) == 0);
    return fd;
}

static void test_dirs(void)
{
    char d[AGAH_PATH_MAX], link[AGAH_PATH_MAX], file[AGAH_PATH_MAX], slash[AGAH_PATH_MAX];
    static const mode_t writable[] = {0770, 0707, 0777, 0720, 0702, 01777};

    join(d, "d");
    CHECK(check_dir(d, "does not exist") == AGAH_ENOENT);
    CHECK(mkdir(d, 0700) == 0);
    CHECK(check_dir(d, NULL) == 0);
    CHECK(chmod(d, 0755) == 0);
    CHECK(check_dir(d, NULL) == 0); /* others may read, but not plant */
    for (size_t i = 0; i < sizeof writable / sizeof writable[0]; i++) {
        CHECK(chmod(d, writable[i]) == 0);
        CHECKF(check_dir(d, "group or others can write") == AGAH_EPERM, "mode %o",
               (unsigned)writable[i]);
    }
    CHECK(chmod(d, 0700) == 0);

    join(link, "link");
    CHECK(symlink(d, link) == 0);
    CHECK(check_dir(link, "symbolic link") == AGAH_EPERM);
    int n = snprintf(slash, sizeof slash, "%s//", link);
    CHECK(n > 0 && (size_t)n < sizeof slash);
    CHECK(check_dir(slash, "symbolic link") == AGAH_EPERM);

    join(file, "file");
    FILE *f = fopen(file, "w");
    CHECK(f != NULL && fclose(f) == 0);
    CHECK(check_dir(file, "not a directory") == AGAH_EPERM);

    if (geteuid() == 0) {
        CHECK(chown(d, NOBODY, (gid_t)-1) == 0);
        CHECK(check_dir(d, "belongs to another user (uid 65534") == AGAH_EPERM);
        CHECK(chown(d, 0, (gid_t)-1) == 0);
    } else {
        printf("test_datadir: not root: another owner's directory not tried\n");
    }
    CHECK(unlink(link) == 0 && unlink(file) == 0 && rmdir(d) == 0);
}

/* agah_datadir_ensure creates a missing directory 0700, tightens a
 * readable one, and refuses (without touching) one others can write. */
static void test_ensure(void)
{
    char d[AGAH_PATH_MAX], link[AGAH_PATH_MAX];
    struct agah_why why = {{0}};
    struct stat st;

    join(d, "e/f");
    CHECK(agah_datadir_ensure(d, &why) == 0);
    CHECK(lstat(d, &st) == 0 && (st.st_mode & 07777) == 0700);
    CHECK(chmod(d, 0755) == 0);
    CHECK(agah_datadir_ensure(d, &why) == 0);
    CHECK(lstat(d, &st) == 0 && (st.st_mode & 07777) == 0700);
    CHECK(chmod(d, 0777) == 0);
    CHECK(agah_datadir_ensure(d, &why) == AGAH_EPERM);
    CHECK(strstr(why.msg, "group or others can write") != NULL);
    CHECK(lstat(d, &st) == 0 && (st.st_mode & 07777) == 0777);
    CHECK(chmod(d, 0700) == 0);
    join(link, "elink");
    CHECK(symlink(d, link) == 0);
    CHECK(agah_datadir_ensure(link, &why) == AGAH_EPERM);
    CHECK(strstr(why.msg, "symbolic link") != NULL);
    CHECK(unlink(link) == 0 && rmdir(d) == 0);
    join(d, "e");
    CHECK(rmdir(d) == 0);
}

static void test_socket(void)
{
    char s[AGAH_PATH_MAX], link[AGAH_PATH_MAX];
    struct agah_why why = {{0}};
    int fd;

    join(s, "agahd.sock");
    CHECK(agah_datadir_check_owned(s, AGAH_OWNED_SOCKET, &why) == AGAH_ENOENT);
    fd = listen_at(s);
    CHECK(agah_datadir_check_owned(s, AGAH_OWNED_SOCKET, &why) == 0);
    CHECK(chmod(s, 0666) == 0);
    CHECK(agah_datadir_check_owned(s, AGAH_OWNED_SOCKET, &why) == AGAH_EPERM);
    CHECK(strstr(why.msg, "control socket") != NULL && strstr(why.msg, "chmod 600") != NULL);
    CHECK(chmod(s, 0600) == 0);
    join(link, "sock.link");
    CHECK(symlink(s, link) == 0);
    CHECK(agah_datadir_check_owned(link, AGAH_OWNED_SOCKET, &why) == AGAH_EPERM);
    CHECK(strstr(why.msg, "symbolic link") != NULL);
    CHECK(agah_datadir_check_owned(base, AGAH_OWNED_SOCKET, &why) == AGAH_EPERM);
    CHECK(strstr(why.msg, "not a socket") != NULL);
    if (geteuid() == 0) {
        CHECK(chown(s, NOBODY, (gid_t)-1) == 0);
        CHECK(agah_datadir_check_owned(s, AGAH_OWNED_SOCKET, &why) == AGAH_EPERM);
        CHECK(strstr(why.msg, "belongs to another user") != NULL);
    }
    CHECK(close(fd) == 0 && unlink(s) == 0 && unlink(link) == 0);
}

/* A child connects as uid 65534 and holds on until the parent has looked. */
static void test_peer_other_uid(void)
{
    char s[AGAH_PATH_MAX];
    struct agah_why why = {{0}};
    int lfd, cfd, status = 0;
    pid_t pid;

    join(s, "peer.sock");
    lfd = listen_at(s);
    CHECK(chmod(base, 0711) == 0 && chmod(s, 0666) == 0);
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        struct sockaddr_un sa;
        char c;
        int fd;
        if (setgid(NOBODY) != 0 || setuid(NOBODY) != 0)
            _exit(2);
        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        memset(&sa, 0, sizeof sa);
        sa.sun_family = AF_UNIX;
        if (strlen(s) >= sizeof sa.sun_path)
            _exit(3);
        memcpy(sa.sun_path, s, strlen(s) + 1);
        if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
            _exit(3);
        /* Also from this side: the listener is root's, not ours. */
        if (agah_sock_peer_check(fd, NULL) != AGAH_EPERM)
            _exit(4);
        (void)!read(fd, &c, 1);
        _exit(0);
    }
    cfd = accept(lfd, NULL, NULL);
    CHECK(cfd >= 0);
    CHECK(agah_sock_peer_check(cfd, &why) == AGAH_EPERM);
    CHECKF(strstr(why.msg, "runs as uid 65534, not as uid 0") != NULL, "%s", why.msg);
    CHECK(close(cfd) == 0);
    CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(chmod(base, 0700) == 0);
    CHECK(close(lfd) == 0 && unlink(s) == 0);
}

static void test_peer(void)
{
    int sv[2];

    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    CHECK(agah_sock_peer_check(sv[0], NULL) == 0);
    CHECK(agah_sock_peer_check(sv[1], NULL) == 0);
    CHECK(close(sv[0]) == 0 && close(sv[1]) == 0);
    CHECK(agah_sock_peer_check(-1, NULL) == AGAH_EIO);
    if (geteuid() == 0)
        test_peer_other_uid();
    else
        printf("test_datadir: not root: a peer of another uid not tried\n");
}

int main(void)
{
    CHECK(agah_init() == 0);
    if (mkdtemp(base) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    test_dirs();
    test_ensure();
    test_socket();
    test_peer();
    CHECK(rmdir(base) == 0);
    printf("test_datadir: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}

/* Whole-file I/O for the small files a node keeps (key file, community
 * state): atomic replacement so a crash or power cut leaves either the old
 * file or the new one, never a torn mix, and bounded reads so a huge or
 * hostile file cannot make us allocate without limit. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#include <sodium.h>
#include <agah/keyfile.h>

/* How many random temp names to try before giving up: a collision on 64
 * random bits means something else is wrong. */
#define FILEIO_TMP_TRIES 8

/* Writes all of buf, retrying short writes and EINTR. */
static int fileio__write_all(int fd, const uint8_t *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return AGAH_EIO;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Opens the directory holding `path` once, refusing a symbolic link in its
 * place (O_NOFOLLOW), and points *base at the file's name in it: the file
 * is then opened, created and renamed relative to that descriptor, so the
 * directory cannot be swapped for a link between a check and the open.
 * Returns the descriptor, or -1 with errno (ELOOP for a link). */
static int fileio__open_dir(const char *path, const char **base)
{
    const char *slash = strrchr(path, '/');
    char dir[4096];
    size_t n;

    if (slash == NULL) {
        *base = path;
        return open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    }
    *base = slash + 1;
    n = slash == path ? 1 : (size_t)(slash - path);
    /* "a//b": the directory is "a", whatever the number of slashes. */
    while (n > 1 && path[n - 1] == '/')
        n--;
    if (n >= sizeof dir) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(dir, path, n);
    dir[n] = '\0';
    return open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/* The AGAH_* code for a failed open: a symbolic link where a directory or
 * file of ours should be is refused, not an I/O error. */
static int fileio__open_error(int e)
{
    if (e == ENOENT)
        return AGAH_ENOENT;
    if (e == ELOOP || e == ENOTDIR)
        return AGAH_EPERM;
    return AGAH_EIO;
}

int agah_file_fail(struct agah_why *why, int r, const char *what, const char *path)
{
    if (r == AGAH_EPERM)
        return agah_fail(why, r, "refusing the %s %s: it or its directory is a symbolic link "
                                 "or not what it should be; give the real path",
                         what, path);
    return agah_fail(why, r, "cannot read the %s %s: %s", what, path, agah_strerror(r));
}

int agah_file_write_atomic(const char *path, const uint8_t *buf, size_t len, int mode)
{
    char tmp[4096];
    const char *base;
    struct stat st;
    size_t blen;
    int dfd = -1, fd = -1, r = AGAH_EIO, saved = 0, made = 0;

    if (path == NULL || (buf == NULL && len > 0) || mode < 0 || (mode & ~07777) != 0)
        return AGAH_EINVAL;
    if (agah_init() != 0)
        return AGAH_EINTERNAL;
    if ((dfd = fileio__open_dir(path, &base)) < 0) {
        r = fileio__open_error(errno);
        goto out_nofile;
    }
    /* base + ".tmp-" + 16 hex digits + NUL */
    blen = strlen(base);
    if (blen == 0 || blen + 5 + 16 + 1 > sizeof tmp) {
        r = AGAH_EINVAL;
        goto out_nofile;
    }
    /* Replacing a link would be harmless (rename never follows one), but a
     * link where our file should be means someone else was here: say so. */
    if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISREG(st.st_mode)) {
        r = AGAH_EPERM;
        goto out_nofile;
    }
    /* The temp file lives beside the target so rename() stays within one
     * file system and is atomic. O_EXCL refuses to follow a planted link
     * or reuse someone else's file. */
    for (int i = 0; i < FILEIO_TMP_TRIES && fd < 0; i++) {
        uint8_t rnd[8];
        char hex[17];

        randombytes_buf(rnd, sizeof rnd);
        if (sodium_bin2hex(hex, sizeof hex, rnd, sizeof rnd) == NULL) {
            r = AGAH_EINTERNAL;
            goto out_nofile;
        }
        memcpy(tmp, base, blen);
        memcpy(tmp + blen, ".tmp-", 5);
        memcpy(tmp + blen + 5, hex, 17);
        fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                    (mode_t)mode);
        if (fd < 0 && errno != EEXIST)
            goto out_nofile;
    }
    if (fd < 0)
        goto out_nofile;
    made = 1;
    /* The umask may only have narrowed the mode; set it exactly so a key
     * file is 0600 whatever the caller's umask. */
    if (fchmod(fd, (mode_t)mode) != 0)
        goto out;
    if ((r = fileio__write_all(fd, buf, len)) != 0)
        goto out;
    r = AGAH_EIO;
    if (fsync(fd) != 0)
        goto out;
    if (close(fd) != 0) {
        fd = -1;
        goto out;
    }
    fd = -1;
    if (renameat(dfd, tmp, dfd, base) != 0)
        goto out;
    /* From here the new file is in place; the temp name no longer exists.
     * fsync of the directory makes the rename itself durable (R1: an
     * acknowledged write survives a power cut). */
    made = 0;
    r = fsync(dfd) == 0 ? 0 : AGAH_EIO;
    goto out_nofile;
out:
    saved = errno;
    if (fd >= 0)
        (void)close(fd);
    /* Best effort: the temp file must not linger with partial contents. */
    if (made)
        (void)unlinkat(dfd, tmp, 0);
    errno = saved;
out_nofile:
    if (dfd >= 0)
        (void)close(dfd);
    return r;
}

int agah_file_read(const char *path, size_t max, uint8_t **out, size_t *len)
{
    struct stat st;
    const char *base;
    uint8_t *buf = NULL;
    size_t size, got = 0;
    int dfd = -1, fd = -1, r = AGAH_EIO;

    if (path == NULL || out == NULL || len == NULL)
        return AGAH_EINVAL;
    if ((dfd = fileio__open_dir(path, &base)) < 0 ||
        (fd = openat(dfd, base, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)) <
            0) {
        r = fileio__open_error(errno);
        goto out;
    }
    if (fstat(fd, &st) != 0)
        goto out;
    /* A fifo or device in our directory is not one of our files. */
    if (!S_ISREG(st.st_mode)) {
        r = AGAH_EPERM;
        goto out;
    }
    /* Refuse before allocating: the size comes from the file system, which
     * an attacker with access to the data directory controls. */
    if (st.st_size < 0 || (uintmax_t)st.st_size > (uintmax_t)max) {
        r = AGAH_ETOOBIG;
        goto out;
    }
    size = (size_t)st.st_size;
    buf = malloc(size > 0 ? size : 1);
    if (buf == NULL) {
        r = AGAH_ENOMEM;
        goto out;
    }
    while (got < size) {
        ssize_t n = read(fd, buf + got, size - got);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            goto out;
        }
        if (n == 0)
            break; /* shrank while we read: take what is there */
        got += (size_t)n;
    }
    if (got == size) {
        /* A file that grew after fstat would be read torn; refuse it. */
        uint8_t extra;
        ssize_t n;
        do {
            n = read(fd, &extra, 1);
        } while (n < 0 && errno == EINTR);
        if (n < 0)
            goto out;
        if (n > 0) {
            r = size >= max ? AGAH_ETOOBIG : AGAH_EIO;
            errno = EAGAIN;
            goto out;
        }
    }
    *out = buf;
    *len = got;
    buf = NULL;
    r = 0;
out:
    if (fd >= 0)
        (void)close(fd); /* read-only: nothing to lose on close */
    if (dfd >= 0)
        (void)close(dfd);
    free(buf);
    return r;
}

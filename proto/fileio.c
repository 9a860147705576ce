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

/* fsync of the directory holding `path`, so the rename itself is durable
 * (R1: an acknowledged write survives a power cut). */
static int fileio__sync_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = NULL;
    int fd = -1, r = AGAH_EIO;

    if (slash == NULL) {
        dir = strdup(".");
    } else if (slash == path) {
        dir = strdup("/");
    } else {
        size_t n = (size_t)(slash - path);
        dir = malloc(n + 1);
        if (dir != NULL) {
            memcpy(dir, path, n);
            dir[n] = '\0';
        }
    }
    if (dir == NULL) {
        r = AGAH_ENOMEM;
        goto out;
    }
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        goto out;
    if (fsync(fd) != 0)
        goto out;
    r = 0;
out:
    if (fd >= 0 && close(fd) != 0 && r == 0)
        r = AGAH_EIO;
    free(dir);
    return r;
}

int agah_file_write_atomic(const char *path, const uint8_t *buf, size_t len, int mode)
{
    char *tmp = NULL;
    size_t plen;
    int fd = -1, r = AGAH_EIO, saved = 0;

    if (path == NULL || (buf == NULL && len > 0) || mode < 0 || (mode & ~07777) != 0)
        return AGAH_EINVAL;
    if (agah_init() != 0)
        return AGAH_EINTERNAL;
    plen = strlen(path);
    /* path + ".tmp-" + 16 hex digits + NUL */
    tmp = malloc(plen + 5 + 16 + 1);
    if (tmp == NULL) {
        r = AGAH_ENOMEM;
        goto out;
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
        memcpy(tmp, path, plen);
        memcpy(tmp + plen, ".tmp-", 5);
        memcpy(tmp + plen + 5, hex, 17);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, (mode_t)mode);
        if (fd < 0 && errno != EEXIST)
            goto out_nofile;
    }
    if (fd < 0)
        goto out_nofile;
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
    if (rename(tmp, path) != 0)
        goto out;
    /* From here the new file is in place; the temp name no longer exists. */
    free(tmp);
    tmp = NULL;
    r = fileio__sync_dir(path);
    goto out_nofile;
out:
    saved = errno;
    if (fd >= 0)
        (void)close(fd);
    /* Best effort: the temp file must not linger with partial contents. */
    if (tmp != NULL)
        (void)unlink(tmp);
    errno = saved;
out_nofile:
    free(tmp);
    return r;
}

int agah_file_read(const char *path, size_t max, uint8_t **out, size_t *len)
{
    struct stat st;
    uint8_t *buf = NULL;
    size_t size, got = 0;
    int fd = -1, r = AGAH_EIO;

    if (path == NULL || out == NULL || len == NULL)
        return AGAH_EINVAL;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        r = errno == ENOENT ? AGAH_ENOENT : AGAH_EIO;
        goto out;
    }
    if (fstat(fd, &st) != 0)
        goto out;
    if (!S_ISREG(st.st_mode)) {
        errno = EINVAL;
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
    free(buf);
    return r;
}

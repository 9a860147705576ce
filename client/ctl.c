/* The client side of agahd's control socket (proto/PROTOCOL.md, "Control
 * socket"): a plain blocking AF_UNIX connection, 4-byte big-endian length
 * prefixed msgpack maps. The daemon is trusted more than the network but its
 * answers are still bounded and pre-scanned before msgpack-c sees them, so a
 * confused or hostile process on the socket cannot make the CLI allocate
 * without limit. The envelope and the exit codes come from the control
 * schema (include/agah/ctl.h), which the daemon uses too. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "cli.h"
#include "ctl.h"
#include "mpget.h"

/* The "agahd is not running" refusal, pointing at `agah init` when the
 * directory holds no identity (starting agahd would not help then). */
static int ctl__not_running(const char *datadir)
{
    char key[AGAH_PATH_MAX];

    if (agah_datadir_path(datadir, "identity.key", key) == 0 && access(key, F_OK) != 0 &&
        errno == ENOENT)
        return cli_fail(EXIT_DAEMON,
                        "agahd is not running on %s, which holds no identity yet: "
                        "run `agah --data %s init` first",
                        datadir, datadir);
    return cli_fail(EXIT_DAEMON, "agahd is not running on %s (start it with `agahd --data %s`)",
                    datadir, datadir);
}

/* Before connecting: the data directory and the socket must be ours and
 * writable by us only, or another local user could stand in for agahd and
 * read every number we check (issue 23). Nothing is followed, nothing is
 * sent. Returns 0, or an exit code after saying why. */
static int ctl__trust_path(const char *datadir, const char *sock)
{
    struct agah_why why = {{0}};
    int r = agah_datadir_check_owned(datadir, AGAH_OWNED_DIR, &why);

    if (r == 0)
        r = agah_datadir_check_owned(sock, AGAH_OWNED_SOCKET, &why);
    if (r == 0)
        return 0;
    if (r == AGAH_ENOENT)
        return ctl__not_running(datadir);
    if (r == AGAH_EPERM)
        return cli_fail(EXIT_USAGE, "%s", why.msg);
    return cli_fail(EXIT_DAEMON, "cannot reach agahd: %s", why.msg);
}

int ctl_open(struct ctl *ctl, const char *datadir)
{
    struct sockaddr_un sa;
    struct agah_why why = {{0}};
    char path[AGAH_PATH_MAX];
    int fd, r;

    memset(ctl, 0, sizeof *ctl);
    ctl->fd = -1;
    (void)snprintf(ctl->datadir, sizeof ctl->datadir, "%s", datadir);
    if (agah_datadir_path(datadir, "agahd.sock", path) != 0 ||
        strlen(path) >= sizeof sa.sun_path)
        return cli_fail(EXIT_DAEMON, "cannot reach agahd: the socket path %s/agahd.sock is "
                        "longer than a Unix socket allows (%zu bytes); use a shorter --data",
                        datadir, sizeof sa.sun_path - 1);
    if ((r = ctl__trust_path(datadir, path)) != 0)
        return r;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, path, strlen(path) + 1);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return cli_fail(EXIT_FAIL, "cannot create a socket: %s", strerror(errno));
    while (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        int e = errno;
        if (e == EINTR)
            continue;
        (void)close(fd);
        if (e == ENOENT || e == ECONNREFUSED || e == ENOTDIR)
            return ctl__not_running(datadir);
        return cli_fail(EXIT_DAEMON, "cannot reach agahd on %s: %s", datadir, strerror(e));
    }
    /* The path checks leave a window (a parent directory others can
     * write could be swapped in between); the listener's uid, which the
     * kernel vouches for, closes it. Checked before a byte is sent. */
    if ((r = agah_sock_peer_check(fd, &why)) != 0) {
        (void)close(fd);
        if (r != AGAH_EPERM)
            return cli_fail(EXIT_DAEMON, "cannot reach agahd on %s: %s", datadir, why.msg);
        return cli_fail(EXIT_USAGE, "refusing the control socket %s: %s, so it is not your agahd",
                        path, why.msg);
    }
    ctl->fd = fd;
    return 0;
}

void ctl_drop_response(struct ctl *ctl)
{
    if (ctl->have_unp) {
        msgpack_unpacked_destroy(&ctl->unp);
        ctl->have_unp = 0;
    }
    free(ctl->resp);
    ctl->resp = NULL;
    ctl->resp_len = 0;
}

void ctl_close(struct ctl *ctl)
{
    ctl_drop_response(ctl);
    if (ctl->fd >= 0)
        (void)close(ctl->fd);
    ctl->fd = -1;
}

static int ctl__write_all(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n > 0) {
        ssize_t k = send(fd, b, n, MSG_NOSIGNAL);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        b += k;
        n -= (size_t)k;
    }
    return 0;
}

/* Reads exactly n bytes, waiting at most until `deadline` (0: forever).
 * Returns 0, 1 on a clean EOF before the first byte, 2 when *stop was set,
 * -1 on error or EOF in the middle (errno set; ETIMEDOUT on timeout). */
static int ctl__read_all(int fd, void *p, size_t n, time_t deadline, volatile sig_atomic_t *stop)
{
    uint8_t *b = p;
    size_t got = 0;

    while (got < n) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int ms = -1;
        if (stop != NULL && *stop)
            return 2;
        if (deadline != 0) {
            time_t left = deadline - time(NULL);
            if (left <= 0) {
                errno = ETIMEDOUT;
                return -1;
            }
            ms = (int)(left * 1000);
        }
        int pr = poll(&pfd, 1, ms);
        if (pr < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (pr == 0)
            continue; /* the deadline check above ends it */
        ssize_t k = read(fd, b + got, n - got);
        if (k < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            return -1;
        }
        if (k == 0) {
            if (got == 0)
                return 1;
            errno = EPIPE;
            return -1;
        }
        got += (size_t)k;
    }
    return 0;
}

/* Writes s to stderr with control characters replaced, so a message from
 * the daemon cannot drive the user's terminal. */
static void ctl__print_safe(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        (void)fputc(ch < 0x20 || ch == 0x7f ? '?' : ch, stderr);
    }
}

int ctl_decode(struct ctl *ctl, const msgpack_object **out)
{
    struct agah_why why = {{0}};
    struct agah_ctl_resp resp;
    int r;

    if (ctl->have_unp) {
        msgpack_unpacked_destroy(&ctl->unp);
        ctl->have_unp = 0;
    }
    msgpack_unpacked_init(&ctl->unp);
    ctl->have_unp = 1;
    r = agah_mp_unpack(ctl->resp, ctl->resp_len, 0, &ctl->unp, &why);
    if (r != 0)
        return cli_fail(EXIT_FAIL, "agahd sent a malformed response: %s",
                        why.msg[0] ? why.msg : agah_strerror(r));
    r = agah_ctl_resp_decode(&ctl->unp.data, &resp, &why);
    if (r == AGAH_ETYPE)
        return cli_fail(EXIT_FAIL, "agahd sent a malformed response: %s", why.msg);
    if (r != 0)
        return cli_fail(EXIT_FAIL, "agahd sent %s", why.msg);
    if (!resp.ok) {
        if (ctl->refusal != NULL && ctl->refusal_size > 0) {
            size_t n = 0;
            if (resp.error != NULL) {
                for (; n < resp.error_len && n + 1 < ctl->refusal_size; n++) {
                    unsigned char ch = (unsigned char)resp.error[n];
                    ctl->refusal[n] = (char)(ch < 0x20 || ch == 0x7f ? '?' : ch);
                }
                ctl->refusal[n] = '\0';
            } else {
                (void)snprintf(ctl->refusal, ctl->refusal_size, "agahd refused the request");
            }
            return resp.exit;
        }
        (void)fputs("agah: ", stderr);
        if (resp.error != NULL)
            ctl__print_safe(resp.error, resp.error_len);
        else
            (void)fputs("agahd refused the request", stderr);
        (void)fputc('\n', stderr);
        return resp.exit;
    }
    *out = resp.result;
    return 0;
}

/* Reads one response and checks it (ctl_decode). Returns 0 with *out set
 * to "result" or "event", 1 at EOF, 2 on *stop, or an exit code (after
 * printing why). */
static int ctl__receive(struct ctl *ctl, time_t deadline, volatile sig_atomic_t *stop,
                        const msgpack_object **out)
{
    uint8_t hdr[4];
    uint32_t len;
    int r;

    ctl_drop_response(ctl);
    r = ctl__read_all(ctl->fd, hdr, sizeof hdr, deadline, stop);
    if (r == 1 || r == 2)
        return r;
    if (r != 0) {
        if (errno == ETIMEDOUT)
            return cli_fail(EXIT_DAEMON, "agahd on %s did not answer within %d s",
                            ctl->datadir, ctl->timeout);
        return cli_fail(EXIT_DAEMON, "lost the connection to agahd on %s: %s", ctl->datadir,
                        strerror(errno));
    }
    len = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
    /* Bound before allocating: a response is at most 16 MiB. */
    if (len == 0 || len > CTL_RESP_MAX)
        return cli_fail(EXIT_FAIL, "agahd sent a malformed response (%u bytes announced)", len);
    ctl->resp = malloc(len);
    if (ctl->resp == NULL)
        return cli_fail(EXIT_FAIL, "out of memory");
    ctl->resp_len = len;
    r = ctl__read_all(ctl->fd, ctl->resp, len, deadline, stop);
    if (r == 2)
        return 2;
    if (r != 0) {
        if (r == -1 && errno == ETIMEDOUT)
            return cli_fail(EXIT_DAEMON, "agahd on %s did not answer within %d s",
                            ctl->datadir, ctl->timeout);
        return cli_fail(EXIT_DAEMON, "lost the connection to agahd on %s", ctl->datadir);
    }
    return ctl_decode(ctl, out);
}

int ctl_call(struct ctl *ctl, const msgpack_sbuffer *req, int timeout,
             const msgpack_object **result)
{
    uint8_t hdr[4];
    time_t deadline = timeout > 0 ? time(NULL) + timeout : 0;
    int r;

    ctl->timeout = timeout;
    if (req->size > AGAH_CTL_REQ_MAX)
        return cli_fail(EXIT_USAGE, "the request is too large");
    hdr[0] = (uint8_t)(req->size >> 24);
    hdr[1] = (uint8_t)(req->size >> 16);
    hdr[2] = (uint8_t)(req->size >> 8);
    hdr[3] = (uint8_t)req->size;
    if (ctl__write_all(ctl->fd, hdr, sizeof hdr) != 0 ||
        ctl__write_all(ctl->fd, req->data, req->size) != 0)
        return cli_fail(EXIT_DAEMON, "lost the connection to agahd on %s: %s", ctl->datadir,
                        strerror(errno));
    r = ctl__receive(ctl, deadline, NULL, result);
    if (r == 1)
        return cli_fail(EXIT_DAEMON, "agahd on %s closed the connection without answering",
                        ctl->datadir);
    return r;
}

int ctl_next_event(struct ctl *ctl, volatile sig_atomic_t *stop, const msgpack_object **event)
{
    return ctl__receive(ctl, 0, stop, event);
}

int ctl_pack_str(msgpack_packer *pk, const char *s)
{
    size_t n = strlen(s);
    if (msgpack_pack_str(pk, n) != 0 || msgpack_pack_str_body(pk, s, n) != 0)
        return -1;
    return 0;
}

int ctl_req_begin(msgpack_packer *pk, const char *cmd, size_t nargs)
{
    uint8_t head[AGAH_CTL_REQ_HEAD_MAX];
    size_t len;

    if (agah_ctl_req_head(agah_ctl_cmd_find(cmd, strlen(cmd)), nargs, head, &len) != 0 ||
        pk->callback(pk->data, (const char *)head, len) != 0)
        return -1;
    return 0;
}

int ctl_pack_kv_str(msgpack_packer *pk, const char *k, const char *v)
{
    if (ctl_pack_str(pk, k) != 0)
        return -1;
    if (v == NULL)
        return msgpack_pack_nil(pk);
    return ctl_pack_str(pk, v);
}

int ctl_pack_kv_uint(msgpack_packer *pk, const char *k, uint64_t v)
{
    if (ctl_pack_str(pk, k) != 0 || msgpack_pack_uint64(pk, v) != 0)
        return -1;
    return 0;
}

int ctl_pack_kv_bool(msgpack_packer *pk, const char *k, int v)
{
    if (ctl_pack_str(pk, k) != 0 || (v ? msgpack_pack_true(pk) : msgpack_pack_false(pk)) != 0)
        return -1;
    return 0;
}

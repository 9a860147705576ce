/* libFuzzer target for the CLI's side of the control socket: whatever a
 * confused or hostile process listening on agahd.sock answers, `agah` must
 * neither crash nor read out of bounds while it decodes and prints it. The
 * input is one selector byte and then the bytes the socket delivers: frames
 * of a 4-byte big-endian length and a msgpack body, as ctl__receive reads
 * them. Each frame goes through ctl_decode and the printer of the command
 * the selector names (client/check.c, alerts.c, members.c, node.c and
 * output.c), exactly as the CLI runs them; stdout and stderr go to
 * /dev/null.
 *
 * Selector: bits 0-2 the command (0 check, 1 list, 2 show, 3 members,
 * 4 peers, 5 status, 6 watch, 7 batch check), bit 3 --json, bits 4-5 what
 * the key file says for status (-1 unknown, 0 protected, 1 none, 2 none
 * and unsafe), bit 6 list --all. Several frames are the pages of one `list`, the events of
 * one `watch` or the answers of one batch `check`. */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sanitizer/common_interface_defs.h>
#include "cli.h"
#include "ctl.h"
#include "output.h"
#include "print.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The most frames one input is cut into: a few pages are enough to reach
 * every state of a listing. */
#define FUZZ_FRAMES_MAX 8
/* A fixed clock, so that a crash replays. */
#define FUZZ_NOW 1780000000u

static int fuzz_devnull = -1, fuzz_stderr = -1;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (freopen("/dev/null", "w", stdout) == NULL)
        abort();
    fuzz_devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    fuzz_stderr = dup(STDERR_FILENO);
    if (fuzz_devnull < 0 || fuzz_stderr < 0)
        abort();
    /* Sanitizer reports keep the real stderr while the CLI's is muted. */
    __sanitizer_set_report_fd((void *)(intptr_t)fuzz_stderr);
    out_init(0);
    return 0;
}

/* One decoded result through the printer the selector names; returns what
 * the CLI would exit with. */
static int fuzz_print(const struct cli *c, unsigned cmd, int nopass, struct list_out *lo,
                      size_t frame, const msgpack_object *res)
{
    char cursor[65];

    switch (cmd) {
    case 0:
        return check_print(c, "+852 5123 4567", 0, res, NULL);
    case 1:
        return list_page(lo, res, cursor);
    case 2:
        show_print(c, res, FUZZ_NOW);
        return 0;
    case 3:
        return members_print(c, res, FUZZ_NOW);
    case 4:
        return peers_print(c, res);
    case 5:
        return status_print(c, res, nopass);
    case 6:
        if (c->json) {
            json_object(stdout, res);
            (void)fputc('\n', stdout);
        } else {
            out_alert_line(stdout, res, FUZZ_NOW);
        }
        return 0;
    default:
        return check_print(c, "+852 5123 4567", frame + 1, res, NULL);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cli c;
    struct ctl ctl;
    struct list_out lo;
    char why[512];
    unsigned cmd;
    int nopass, r = 0;

    if (size < 1)
        return 0;
    memset(&c, 0, sizeof c);
    (void)snprintf(c.datadir, sizeof c.datadir, "/nonexistent/agah");
    cmd = data[0] & 7u;
    c.json = (data[0] >> 3) & 1;
    nopass = (int)((data[0] >> 4) & 3u) - 1;
    data++;
    size--;

    memset(&ctl, 0, sizeof ctl);
    ctl.fd = -1;
    if (cmd == 7) {
        /* Batch check copies a refusal to show it with its line. */
        ctl.refusal = why;
        ctl.refusal_size = sizeof why;
    }
    (void)fflush(stderr);
    if (dup2(fuzz_devnull, STDERR_FILENO) < 0)
        abort();
    if (cmd == 1 && list_begin(&lo, &c, data[-1] >> 6 & 1, FUZZ_NOW) != 0)
        goto out;
    for (size_t frame = 0; frame < FUZZ_FRAMES_MAX && size >= 4; frame++) {
        const msgpack_object *res = NULL;
        uint32_t len = (uint32_t)data[0] << 24 | (uint32_t)data[1] << 16 |
                       (uint32_t)data[2] << 8 | data[3];

        /* The bound ctl__receive puts on a frame before reading it. */
        if (len == 0 || len > CTL_RESP_MAX || len > size - 4)
            break;
        ctl_drop_response(&ctl);
        if ((ctl.resp = malloc(len)) == NULL)
            abort();
        memcpy(ctl.resp, data + 4, len);
        ctl.resp_len = len;
        data += 4 + (size_t)len;
        size -= 4 + (size_t)len;
        why[0] = '\0';
        r = ctl_decode(&ctl, &res);
        if (r == 0 && res == NULL)
            abort();
        if (r == 0)
            r = fuzz_print(&c, cmd, nopass, &lo, frame, res);
        /* A batch check carries on after a "no" or a refusal; every other
         * command stops at its first failure. */
        if (r != 0 && !(cmd == 7 && (r == 1 || r == EXIT_USAGE)))
            break;
        if (cmd == 7)
            r = 0;
        if (cmd == 7 && ctl.refusal[0] != '\0' && memchr(why, 0, sizeof why) == NULL)
            abort();
    }
    /* cmd_list prints what it kept only when every page was good. */
    if (cmd == 1 && r == 0)
        list_end(&lo, NULL);
    else if (cmd == 1)
        table_free(lo.t);
out:
    ctl_close(&ctl);
    (void)fflush(stdout);
    (void)fflush(stderr);
    if (dup2(fuzz_stderr, STDERR_FILENO) < 0)
        abort();
    return 0;
}

/* libFuzzer target for the control-socket request parser: whatever bytes a
 * local client sends as one request body, the parser must neither crash nor
 * allocate beyond the input's bound, and its verdict must be consistent:
 * accepted requests name a known command and carry bounded, terminated
 * strings; refused ones say why. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include "control.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (agah_init() != 0)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct control_req r;
    struct agah_why why;

    if (size > AGAH_CTL_REQ_MAX)
        return 0; /* the server refuses these before parsing */
    memset(&why, 0, sizeof why);
    if (control__parse_request(data, size, &r, &why) == 0) {
        if (agah_ctl_cmd_name(r.cmd) == NULL)
            abort();
        if (memchr(r.target, 0, sizeof r.target) == NULL ||
            memchr(r.note, 0, sizeof r.note) == NULL ||
            memchr(r.id, 0, sizeof r.id) == NULL ||
            memchr(r.name, 0, sizeof r.name) == NULL ||
            memchr(r.address, 0, sizeof r.address) == NULL ||
            memchr(r.member_id, 0, sizeof r.member_id) == NULL)
            abort();
        if (r.expires > AGAH_CTL_EXPIRES_MAX)
            abort();
        if (r.cmd == AGAH_CTL_POST && (r.kind == AGAH_KIND_ALERT) != (r.target[0] == '\0'))
            abort();
    } else if (why.msg[0] == '\0' || memchr(why.msg, 0, sizeof why.msg) == NULL) {
        abort();
    }
    return 0;
}

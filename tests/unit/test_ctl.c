/* Unit test of the control schema (include/agah/ctl.h, proto/ctl.c): the
 * tables are consistent, every command's request head decodes back to
 * that command with the arguments packed after it, and the response
 * envelopes the daemon writes decode as the CLI reads them, exit codes
 * included. The daemon's conversion of each argument is test_control.c's. */
#include <agah/agah.h>
#include <agah/ctl.h>
#include <agah/mp.h>
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int checks;
#define CHECK(x)                                                      \
    do {                                                              \
        checks++;                                                     \
        if (!(x)) {                                                   \
            printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #x);       \
            exit(1);                                                  \
        }                                                             \
    } while (0)

/* Every key is unique, every command's arguments are in range and given
 * once, and every name is found back. */
static void test_tables(void)
{
    for (int a = 0; a < AGAH_CTL_NARGS; a++) {
        const struct agah_ctl_arg_def *d = agah_ctl_arg(a);
        CHECK(d != NULL && d->key != NULL && d->key[0] != '\0');
        CHECK(strcmp(d->key, AGAH_CTL_K_VERSION) != 0 && strcmp(d->key, AGAH_CTL_K_CMD) != 0);
        for (int b = 0; b < a; b++)
            CHECK(strcmp(agah_ctl_arg(b)->key, d->key) != 0);
    }
    CHECK(agah_ctl_arg(AGAH_CTL_NARGS) == NULL && agah_ctl_arg(-1) == NULL);
    CHECK(AGAH_CTL_NARGS <= 32);
    for (int c = 0; c < AGAH_CTL_NCMDS; c++) {
        const struct agah_ctl_cmd_def *cd = agah_ctl_cmd(c);
        unsigned seen = 0;
        CHECK(cd != NULL && cd->n_args <= AGAH_CTL_CMD_MAX_ARGS);
        CHECK(agah_ctl_cmd_find(cd->name, strlen(cd->name)) == c);
        for (size_t j = 0; j < cd->n_args; j++) {
            int a = cd->args[j].arg;
            CHECK(a >= 0 && a < AGAH_CTL_NARGS && !(seen & AGAH_CTL_ARG_BIT(a)));
            seen |= AGAH_CTL_ARG_BIT(a);
        }
    }
    CHECK(agah_ctl_cmd(AGAH_CTL_NCMDS) == NULL && agah_ctl_cmd_name(-1) == NULL);
    CHECK(agah_ctl_cmd_find("stat", 4) == -1 && agah_ctl_cmd_find("statusx", 7) == -1);
}

static int count_arg(void *ctx, int arg, const struct msgpack_object *val, struct agah_why *why)
{
    unsigned *got = ctx;

    (void)val;
    (void)why;
    *got |= AGAH_CTL_ARG_BIT(arg);
    return 0;
}

/* A value of the argument's type within its limit. */
static void pack_value(msgpack_packer *pk, const struct agah_ctl_arg_def *d)
{
    if (d->type == AGAH_CTL_T_BOOL)
        assert(msgpack_pack_true(pk) == 0);
    else if (d->type == AGAH_CTL_T_UINT)
        assert(msgpack_pack_uint64(pk, 1) == 0);
    else
        assert(msgpack_pack_str(pk, 2) == 0 && msgpack_pack_str_body(pk, "GB", 2) == 0);
}

/* Each command with every argument it takes: the head the CLI writes and
 * the arguments after it decode to that command and those arguments. */
static void test_requests(void)
{
    struct agah_ctl_req_info info;
    struct agah_why why = {{0}};
    uint8_t head[AGAH_CTL_REQ_HEAD_MAX];
    size_t len = 0;

    for (int c = 0; c < AGAH_CTL_NCMDS; c++) {
        const struct agah_ctl_cmd_def *cd = agah_ctl_cmd(c);
        msgpack_sbuffer sb;
        msgpack_packer pk;
        unsigned want = 0, got = 0;

        CHECK(agah_ctl_req_head(c, cd->n_args, head, &len) == 0 && len <= sizeof head);
        msgpack_sbuffer_init(&sb);
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        assert(msgpack_sbuffer_write(&sb, (const char *)head, len) == 0);
        for (size_t j = 0; j < cd->n_args; j++) {
            const struct agah_ctl_arg_def *d = agah_ctl_arg(cd->args[j].arg);
            assert(msgpack_pack_str(&pk, strlen(d->key)) == 0 &&
                   msgpack_pack_str_body(&pk, d->key, strlen(d->key)) == 0);
            pack_value(&pk, d);
            want |= AGAH_CTL_ARG_BIT(cd->args[j].arg);
        }
        CHECK(agah_ctl_req_decode((const uint8_t *)sb.data, sb.size, count_arg, &got, &info,
                                  &why) == 0);
        CHECK(info.cmd == c && info.have == want && got == want && !info.fatal);
        /* Without its required arguments it is refused, naming one. */
        for (size_t j = 0; j < cd->n_args; j++)
            if (cd->args[j].flags & AGAH_CTL_F_REQ) {
                CHECK(agah_ctl_req_head(c, 0, head, &len) == 0);
                CHECK(agah_ctl_req_decode(head, len, count_arg, &got, &info, &why) < 0);
                CHECK(info.cmd == c && !info.fatal && strstr(why.msg, "needs") != NULL);
                break;
            }
        msgpack_sbuffer_destroy(&sb);
    }
    CHECK(agah_ctl_req_head(AGAH_CTL_NCMDS, 0, head, &len) == AGAH_EINVAL);
    CHECK(agah_ctl_req_head(-1, 0, head, &len) == AGAH_EINVAL);
    /* Not a map: fatal. */
    CHECK(agah_ctl_req_decode((const uint8_t *)"\x91\x01", 2, count_arg, NULL, &info, &why) < 0);
    CHECK(info.fatal == 1 && info.cmd == -1);
}

static int unpack_resp(const uint8_t *buf, size_t len, msgpack_unpacked *up,
                       struct agah_ctl_resp *resp)
{
    struct agah_why why = {{0}};

    msgpack_unpacked_init(up);
    if (agah_mp_unpack(buf, len, 0, up, &why) != 0)
        return -1;
    return agah_ctl_resp_decode(&up->data, resp, &why);
}

static void test_responses(void)
{
    struct agah_ctl_resp resp;
    msgpack_unpacked up;
    uint8_t buf[256];
    size_t len = 0;

    /* A result and an event: the value after the head is what decodes. */
    for (int event = 0; event <= 1; event++) {
        len = agah_ctl_resp_head(event, buf);
        CHECK(len > 0 && len <= AGAH_CTL_RESP_HEAD_MAX);
        buf[len++] = 0x2a; /* 42 */
        CHECK(unpack_resp(buf, len, &up, &resp) == 0);
        CHECK(resp.ok == 1 && resp.result != NULL &&
              resp.result->type == MSGPACK_OBJECT_POSITIVE_INTEGER && resp.result->via.u64 == 42);
        msgpack_unpacked_destroy(&up);
    }
    /* Refusals: the exit codes a failure may carry come through; any other
     * (0, 1, 3, 99) is read as 5, so a daemon cannot make check say "no". */
    const struct { int sent, read; } codes[] = {{2, 2}, {4, 4}, {5, 5}, {0, 5}, {1, 5},
                                                {3, 5}, {99, 5}};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        CHECK(agah_ctl_resp_error(codes[i].sent, "no such alert", buf, sizeof buf, &len) == 0);
        CHECK(unpack_resp(buf, len, &up, &resp) == 0);
        CHECK(resp.ok == 0 && resp.exit == codes[i].read && resp.error_len == 13 &&
              memcmp(resp.error, "no such alert", 13) == 0);
        msgpack_unpacked_destroy(&up);
    }
    /* The documented capacity always fits; less does not, and says so. */
    CHECK(agah_ctl_resp_error(INT32_MAX, "x", buf, 1 + AGAH_CTL_RESP_ERROR_OVERHEAD, &len) == 0);
    CHECK(agah_ctl_resp_error(2, "x", buf, 8, &len) == AGAH_ETOOBIG);
    {
        char msg[300];
        uint8_t big[sizeof msg + AGAH_CTL_RESP_ERROR_OVERHEAD];
        memset(msg, 'm', sizeof msg - 1);
        msg[sizeof msg - 1] = '\0';
        CHECK(agah_ctl_resp_error(5, msg, big, strlen(msg) + AGAH_CTL_RESP_ERROR_OVERHEAD,
                                  &len) == 0);
        CHECK(unpack_resp(big, len, &up, &resp) == 0 && resp.error_len == sizeof msg - 1);
        msgpack_unpacked_destroy(&up);
    }
    /* Shapes the CLI refuses: another version, no "ok", no result. */
    CHECK(unpack_resp((const uint8_t *)"\x82\xa1v\x02\xa2ok\xc3", 8, &up, &resp) ==
          AGAH_EVERSION);
    msgpack_unpacked_destroy(&up);
    CHECK(unpack_resp((const uint8_t *)"\x81\xa1v\x01", 4, &up, &resp) == AGAH_EVERSION);
    msgpack_unpacked_destroy(&up);
    CHECK(unpack_resp((const uint8_t *)"\x82\xa1v\x01\xa2ok\xc3", 8, &up, &resp) ==
          AGAH_EFIELDS);
    msgpack_unpacked_destroy(&up);
    CHECK(unpack_resp((const uint8_t *)"\x93\x01\x02\x03", 4, &up, &resp) == AGAH_ETYPE);
    msgpack_unpacked_destroy(&up);
}

static void test_exit_codes(void)
{
    CHECK(agah_ctl_exit_code(AGAH_EPERM) == AGAH_CTL_EXIT_PERM);
    CHECK(agah_ctl_exit_code(AGAH_ENUMBER) == AGAH_CTL_EXIT_USAGE);
    CHECK(agah_ctl_exit_code(AGAH_EIO) == AGAH_CTL_EXIT_FAIL);
    CHECK(agah_ctl_exit_code(AGAH_ENOMEM) == AGAH_CTL_EXIT_FAIL);
}

int main(void)
{
    assert(agah_init() == 0);
    test_tables();
    test_requests();
    test_responses();
    test_exit_codes();
    printf("test_ctl: %d checks passed\n", checks);
    return 0;
}

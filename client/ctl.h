/* The client side of agahd's control socket (ctl.c): connecting, sending a
 * request, receiving and checking a response. It knows the envelope of a
 * message, not what any command asks or answers. */
#ifndef AGAH_CLIENT_CTL_H
#define AGAH_CLIENT_CTL_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <agah/ctl.h>
#include <agah/mp.h>
#include <agah/datadir.h>

#define CTL_RESP_MAX AGAH_CTL_RESP_MAX
#define CTL_TIMEOUT_SECONDS 60

struct ctl {
    int fd;
    char datadir[AGAH_PATH_MAX];
    uint8_t *resp;        /* the last response body (the result points into it) */
    size_t resp_len;
    msgpack_unpacked unp; /* the last response, unpacked */
    int have_unp;
    /* When set (after ctl_open), a refusal from the daemon is copied here,
     * control characters replaced, instead of printed: batch `check` puts
     * its line number in front. */
    char *refusal;
    size_t refusal_size;
    int timeout; /* of the call in progress, for the message if it runs out */
};

/* Connects to DIR/agahd.sock. On failure prints why and returns the exit
 * code (3 when the daemon is not running). */
int ctl_open(struct ctl *ctl, const char *datadir);
void ctl_close(struct ctl *ctl);
/* Sends the packed request in sbuf, waits for the response and checks it.
 * Returns 0 with *result pointing into ctl (valid until the next call), or
 * prints the daemon's error and returns its exit code. `timeout` in
 * seconds, 0 for none. */
int ctl_call(struct ctl *ctl, const msgpack_sbuffer *req, int timeout,
             const msgpack_object **result);
/* Reads the next message of a stream (`watch`): 0 with *event set; 1 when
 * the daemon closed the connection; 2 when `*stop` became non-zero (a
 * signal); otherwise an exit code after printing why. */
int ctl_next_event(struct ctl *ctl, volatile sig_atomic_t *stop, const msgpack_object **event);
/* The pure half of receiving: checks the response body in ctl->resp
 * (resp_len bytes, already read) and unpacks it into ctl->unp. Returns 0
 * with *out set to its "result" or "event", or prints the daemon's error
 * (or copies it to ctl->refusal) and returns its exit code. No I/O but
 * stderr, so tests/fuzz/fuzz_ctlresp.c runs exactly what the CLI runs. */
int ctl_decode(struct ctl *ctl, const msgpack_object **out);
/* Frees the last response and its unpacked objects. */
void ctl_drop_response(struct ctl *ctl);

/* Starts a request {"v": 1, "cmd": CMD, ...} with `nargs` more pairs to come. */
int ctl_req_begin(msgpack_packer *pk, const char *cmd, size_t nargs);
int ctl_pack_str(msgpack_packer *pk, const char *s);
int ctl_pack_kv_str(msgpack_packer *pk, const char *k, const char *v); /* v NULL: nil */
int ctl_pack_kv_uint(msgpack_packer *pk, const char *k, uint64_t v);
int ctl_pack_kv_bool(msgpack_packer *pk, const char *k, int v);

#endif

/* peerctl: a scripted, authenticated agah peer for the integration tests of
 * hostile members (tests/integration/test_net_abuse.sh, test_net_flood.sh).
 * It loads a member's identity and community file from a data directory
 * whose own agahd is not running, makes records with the real encoders, and
 * speaks the real handshake and frames (daemon/wire/handshake.c, daemon/wire/frame.c)
 * to one agahd, then does what the command line says: send records as fast
 * as it can, send a frame header of any length, trickle bytes, and so on.
 *
 *   peerctl alerts DIR N [NOTE_BYTES] [OPTS]   N alerts by DIR's member,
 *                                         one "ID HEX" line each, on stdout
 *   peerctl annotate DIR confirm|retract ALERT_ID [OPTS]   one "ID HEX" line
 *                      (--count N: N of them, each with its own nonce)
 *     OPTS, for the tests of insiders who lie about time (issue 22):
 *     --created UNIX   the record's `created` (default: now), e.g. a revoked
 *                      key back-dating what it signs to before its revocation
 *     --epoch ID       seal under that epoch (64 hex digits), which DIR's
 *                      community file must hold; default: the one added last
 *     --number E164    (alerts) kind number with this normalised target, so
 *                      `agah check` finds it; default: a free-text alert
 *   peerctl admission DIR                 DIR's own admission record
 *   peerctl records DIR                   every record in DIR's community file
 *   peerctl m1 DIR N [v1]                 N fresh M1s under DIR's network
 *                                         secret, raw, on stdout (v1: the
 *                                         64-byte M1 of handshake version 1)
 *   peerctl connect DIR HOST:PORT [--m3-len N] [--throwaway] [--slot FILE] ACTION...
 *     send FILE        RECORD frames of FILE's records, in file order
 *     bodies FILE N    N BODY frames cycling through FILE's records, as if
 *                      the daemon had asked for them
 *     offer N          OFFER frames of N random ids (the daemon asks for them)
 *     repeat FILE N    N RECORD frames cycling through FILE's records
 *     wait SECONDS     keep reading (answering PING) for SECONDS
 *     until PATH SECS  keep reading until PATH exists (SECS at most): a
 *                      test holds the link open until the daemon has
 *                      taken everything, since closing with unread input
 *                      sends an RST that discards what the daemon has not
 *                      read yet
 *     oversize LEN     a frame header announcing LEN bytes and 1 KiB after
 *                      it; then read until the daemon closes (20 s at most)
 *     trickle SECONDS  one byte of a valid frame per second, for SECONDS
 *     peers SIGNER TTL N A.B PORT   a PEERS message of N address entries
 *                      A.B.x.y:PORT valid for TTL seconds (negative:
 *                      expired), signed by SIGNER: self, none (random
 *                      signature), stranger (a key no one admitted) or a
 *                      data directory (that node's key, e.g. a revoked one)
 *     flood TYPE N K   N messages of TYPE as fast as the link takes them,
 *                      for bench/msgcost.py: ihave, want, graft or offer
 *                      (K fresh random ids each), ping, peers (K made-up
 *                      addresses), recon or skreq (the first message of a
 *                      reconciliation of K random ids, sent N times), swant
 *                      (K random short ids under a random salt)
 *   Reconciliation as an insider would abuse it (issue 24), each message
 *   as small as the protocol allows:
 *     recon N          N RECON messages [5, [0, ""], [[nil, 2, []]]]: "I have
 *                      nothing at all", which asks for every id in OFFER
 *     skreq N          N SKREQ under fresh salts with an empty estimator
 *     swant FILE N     N SWANTs, each the short ids of up to 256 of FILE's
 *                      records (FILE as for send: "ID HEX" lines), cycling
 *   --m3-len N replaces the handshake after M2 by a 4-byte M3 length of N
 *   and 1 KiB of zeros, then reads until closed (the pre-handshake bound).
 *   --throwaway signs the handshake with a fresh key that no one admitted
 *   (DIR still gives the network secret): an outsider who learnt K.
 *   --slot FILE puts the first record of FILE in M3's admission slot instead
 *   of DIR's own admission (tests/integration/test_net_admission.sh).
 *
 * `connect` ends with one line on stdout:
 *   up=1 closed=0 sent=N secs=S record=R body=B ihave=I after_oversize=X out=BYTES
 * (BYTES: everything written after the handshake, frame headers and tags
 * included).  * Exit 0 when every action ran, 1 on a failure to set up (printed).
 *
 * This file reads the command line and runs connect's actions; records.c
 * (who peerctl speaks as, the records it makes), link.c (the handshake and
 * frames), actions.c and flood.c (what it sends) do the work, through
 * peerctl.h. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <agah/agah.h>
#include "frame.h"
#include "gossip.h"

#include "peerctl.h"

double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

_Noreturn void die(const char *what, int r)
{
    (void)fprintf(stderr, "peerctl: %s: %s\n", what, r ? agah_strerror(r) : strerror(errno));
    exit(1);
}

static int cmd_connect(int argc, char **argv)
{
    struct me m;
    struct link l;
    long m3_len = -1;
    int i = 4, throwaway = 0;
    const char *slot = NULL;
    uint64_t after = 0;
    double t0;

    if (argc < 4)
        return 2;
    me_load(argv[2], &m);
    memset(&l, 0, sizeof l);
    if ((l.in = malloc(2 * FRAME_WIRE_MAX)) == NULL || (l.pt = malloc(FRAME_WIRE_MAX)) == NULL)
        die("out of memory", AGAH_ENOMEM);
    for (;;) {
        if (i + 1 < argc && strcmp(argv[i], "--m3-len") == 0) {
            m3_len = strtol(argv[i + 1], NULL, 0);
            i += 2;
        } else if (i < argc && strcmp(argv[i], "--throwaway") == 0) {
            throwaway = 1;
            i++;
        } else if (i + 1 < argc && strcmp(argv[i], "--slot") == 0) {
            slot = argv[i + 1];
            i += 2;
        } else {
            break;
        }
    }
    l.fd = dial(argv[3]);
    if (throwaway || slot != NULL) {
        struct agah_identity *id = m.id;
        size_t *lens = NULL, n = 0;
        uint8_t **recs = NULL;
        int r;

        if (throwaway && (r = agah_identity_generate(&id)) != 0)
            die("cannot make a throwaway key", r);
        if (slot != NULL && ((recs = read_records(slot, &lens, &n)) == NULL || n == 0))
            die("no record in the slot file", AGAH_ENOENT);
        link_handshake_as(&l, &m, m3_len, id, n > 0 ? recs[0] : m.adm,
                          n > 0 ? lens[0] : m.adm_len);
        for (size_t k = 0; k < n; k++)
            free(recs[k]);
        free(recs);
        free(lens);
        if (id != m.id)
            agah_identity_free(id);
    } else {
        link_handshake(&l, &m, m3_len);
    }
    l.bytes_out = 0; /* the figure is what follows the handshake */
    t0 = now_s();
    if (m3_len >= 0) {
        uint64_t before = l.bytes_in;

        link_pump(&l, 20);
        after = l.bytes_in - before;
    }
    for (; i < argc && l.up; i++) {
        const char *a = argv[i];

        if (strcmp(a, "send") == 0 && i + 1 < argc) {
            act_send(&l, argv[++i], -1, GOSSIP_RECORD);
        } else if (strcmp(a, "bodies") == 0 && i + 2 < argc) {
            act_send(&l, argv[i + 1], strtol(argv[i + 2], NULL, 10), GOSSIP_BODY);
            i += 2;
        } else if (strcmp(a, "peers") == 0 && i + 5 < argc) {
            act_peers(&l, &m, argv[i + 1], strtol(argv[i + 2], NULL, 10),
                      strtol(argv[i + 3], NULL, 10), argv[i + 4], argv[i + 5]);
            i += 5;
        } else if (strcmp(a, "flood") == 0 && i + 3 < argc) {
            act_flood(&l, argv[i + 1], strtol(argv[i + 2], NULL, 10),
                      strtol(argv[i + 3], NULL, 10));
            i += 3;
        } else if (strcmp(a, "recon") == 0 && i + 1 < argc) {
            act_recon(&l, strtol(argv[++i], NULL, 10));
        } else if (strcmp(a, "skreq") == 0 && i + 1 < argc) {
            act_skreq(&l, strtol(argv[++i], NULL, 10));
        } else if (strcmp(a, "swant") == 0 && i + 2 < argc) {
            act_swant(&l, argv[i + 1], strtol(argv[i + 2], NULL, 10));
            i += 2;
        } else if (strcmp(a, "offer") == 0 && i + 1 < argc) {
            act_offer(&l, strtol(argv[++i], NULL, 10));
        } else if (strcmp(a, "repeat") == 0 && i + 2 < argc) {
            act_send(&l, argv[i + 1], strtol(argv[i + 2], NULL, 10), GOSSIP_RECORD);
            i += 2;
        } else if (strcmp(a, "wait") == 0 && i + 1 < argc) {
            link_pump(&l, strtod(argv[++i], NULL));
        } else if (strcmp(a, "until") == 0 && i + 2 < argc) {
            double end = now_s() + strtod(argv[i + 2], NULL);

            while (l.up && !l.closed && access(argv[i + 1], F_OK) != 0 && now_s() < end)
                link_pump(&l, 0.1);
            i += 2;
        } else if (strcmp(a, "oversize") == 0 && i + 1 < argc) {
            act_oversize(&l, strtoul(argv[++i], NULL, 0), &after);
        } else if (strcmp(a, "trickle") == 0 && i + 1 < argc) {
            act_trickle(&l, strtod(argv[++i], NULL));
        } else {
            (void)fprintf(stderr, "peerctl: unknown action %s\n", a);
            return 2;
        }
    }
    printf("up=%d closed=%d sent=%llu secs=%.2f record=%lu body=%lu ihave=%lu after_oversize=%llu "
           "out=%llu offer=%lu offer_bytes=%llu recon=%lu sketch=%lu atk_bytes=%llu\n",
           l.up, l.closed, (unsigned long long)l.sent, now_s() - t0, l.n_record, l.n_body,
           l.n_ihave_ids, (unsigned long long)after, (unsigned long long)l.bytes_out,
           l.n_offer_ids, (unsigned long long)l.offer_bytes, l.n_recon, l.n_sketch,
           (unsigned long long)l.atk_bytes);
    close(l.fd);
    frame_keys_free(l.keys);
    free(l.in);
    free(l.pt);
    me_free(&m);
    return 0;
}

int main(int argc, char **argv)
{
    struct me m;
    struct rec_opts o;

    signal(SIGPIPE, SIG_IGN);
    if (argc >= 4 && strcmp(argv[1], "alerts") == 0) {
        int opt = argc > 4 && strncmp(argv[4], "--", 2) != 0 ? 5 : 4;

        rec_opts_parse(argc, argv, opt, &o);
        return cmd_alerts(argv[2], strtol(argv[3], NULL, 10),
                          opt == 5 ? strtol(argv[4], NULL, 10) : 64, &o);
    }
    if (argc >= 5 && strcmp(argv[1], "annotate") == 0) {
        rec_opts_parse(argc, argv, 5, &o);
        return cmd_annotate(argv[2], argv[3], argv[4], &o);
    }
    if (argc == 3 && strcmp(argv[1], "admission") == 0) {
        me_load(argv[2], &m);
        print_rec(m.adm, m.adm_len);
        me_free(&m);
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "records") == 0) {
        me_load(argv[2], &m);
        for (size_t i = 0; i < m.local->n_records; i++)
            print_rec(m.local->records[i], m.local->record_lens[i]);
        me_free(&m);
        return 0;
    }
    if ((argc == 4 || argc == 5) && strcmp(argv[1], "m1") == 0)
        return cmd_m1(argv[2], strtol(argv[3], NULL, 10), argc == 5 && strcmp(argv[4], "v1") == 0);
    if (argc >= 4 && strcmp(argv[1], "connect") == 0)
        return cmd_connect(argc, argv);
    (void)fprintf(stderr, "usage: peerctl alerts DIR N [NOTE_BYTES] [OPTS] | annotate DIR confirm|retract ID [OPTS] |\n"
                          "       admission DIR | records DIR | m1 DIR N [v1] |\n"
                          "       connect DIR HOST:PORT [--m3-len N] [--throwaway] [--slot FILE] ACTION...\n"
                          "OPTS: --created UNIX --epoch ID --number E164 --count N\n");
    return 2;
}

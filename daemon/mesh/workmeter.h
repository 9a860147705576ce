/* Layer mesh/: the overlay of links; this file is pure code it uses. */
/* The reconciliation work budget of one member (issue 24): a token bucket
 * in units of one set item touched, which RECON, SKREQ and SWANT are
 * charged to after they are answered, and a small memory of the budgets
 * that members' links left behind, so that reconnecting does not refill
 * one. Pure code: the caller passes the time (ms). It is the mesh's, not
 * the link's: only reconciliation (mesh/sync.c) is charged to it, and the
 * mesh starts, keeps and hands a member's budget on as its links come up
 * and go down (mesh/net.c); proto/PROTOCOL.md ("Overlay and limits") is
 * the rule. */
#ifndef AGAH_WORKMETER_H
#define AGAH_WORKMETER_H

#include <stddef.h>
#include <stdint.h>

/* The bucket: WORK_BURST units, refilled at WORK_RATE a second. The burst
 * covers an honest catch-up of 100,000 records (about 100,000 items
 * touched and 3.2 million units of OFFER), and the refill a SKREQ and a
 * sketch catch-up against a set of 100,000 records every few seconds; an
 * insider who keeps asking gets 250,000 units a second, about 1 ms of CPU
 * or 250 KB of OFFER. */
#define WORK_RATE 250000.0
#define WORK_BURST 6000000.0
/* Costs: every message WORK_MSG; a RECON the items it fingerprints, splits
 * or compares and WORK_OFFER per id it makes us OFFER; a SKREQ WORK_SKREQ
 * per item of our set (the estimator and the table each pass over it with
 * SipHash per item: measured about 13 times a SWANT's pass); a SWANT one
 * per item and WORK_BODY per body it makes us send. */
#define WORK_MSG 64.0
#define WORK_SKREQ 13.0
#define WORK_OFFER 32.0
#define WORK_BODY 256.0
#define WORK_DROPS 256 /* messages dropped in a row that close the link */
#define WORK_KEPT 64   /* members whose budget outlives their link */
#define WORK_PK_LEN 32

struct workmeter {
    double units;
    uint64_t at;     /* when last refilled (ms) */
    unsigned drops;  /* messages dropped in a row */
};

enum workmeter_verdict {
    WORK_ANSWER = 0, /* answer it, then charge what it cost */
    WORK_DROP,       /* over budget: drop it */
    WORK_CLOSE,      /* WORK_DROPS in a row: close the link */
};

struct workmeter_kept {
    struct {
        uint8_t pk[WORK_PK_LEN];
        double units;
        uint64_t at; /* 0: a free entry */
    } e[WORK_KEPT];
    size_t next; /* the ring's oldest entry */
};

/* A full bucket, as of now. */
void workmeter_init(struct workmeter *m, uint64_t now);
/* Refills, then says whether a message may be answered: while the bucket
 * is not negative (a message is charged after, so one costing more than
 * the burst is still answered once). */
enum workmeter_verdict workmeter_admit(struct workmeter *m, uint64_t now);
void workmeter_charge(struct workmeter *m, double units);

/* A link of member pk goes down with budget m: remembered unless full
 * (then any older entry of pk is forgotten); a full ring forgets its
 * oldest entry. */
void workmeter_keep(struct workmeter_kept *k, const uint8_t pk[WORK_PK_LEN],
                    const struct workmeter *m, uint64_t now);
/* A link of member pk comes up: m (just initialised) takes what pk's last
 * link left, refilled for the time between; the entry is freed. */
void workmeter_restore(struct workmeter_kept *k, const uint8_t pk[WORK_PK_LEN],
                       struct workmeter *m, uint64_t now);

#endif

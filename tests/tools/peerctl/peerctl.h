/* peerctl's parts (tests/tools/peerctl/, one program; main.c says what it
 * does): who it speaks as (struct me, records.c), the link to one agahd
 * (struct link, link.c) and what it sends over it (actions.c, flood.c). */
#ifndef AGAH_PEERCTL_H
#define AGAH_PEERCTL_H

#include <stddef.h>
#include <stdint.h>

struct agah_identity;
struct agah_local;
struct frame_keys;

/* Who peerctl speaks as: DIR's identity, community file and admission. */
struct me {
    struct agah_identity *id;
    struct agah_local *local;
    const uint8_t *adm; /* borrowed from local->records */
    size_t adm_len;
};

/* One link to an agahd, and counts of what crossed it (printed by connect). */
struct link {
    int fd;
    int up, closed;
    struct frame_keys *keys;
    uint8_t *in;
    size_t in_len;
    uint8_t *pt;
    uint64_t sent, bytes_in, bytes_out;
    unsigned long n_record, n_body, n_ihave_ids;
    /* Reconciliation: OFFER ids and their plaintext bytes, RECON and
     * SKETCH messages received; plaintext bytes of our crafted ones. */
    unsigned long n_offer_ids, n_recon, n_sketch;
    uint64_t offer_bytes, atk_bytes;
};

/* What the record-making commands take after their positional arguments. */
struct rec_opts {
    uint64_t created;   /* 0: now */
    const char *epoch;  /* hex id, or NULL: the epoch key added last */
    const char *number; /* ALERT of kind number, or NULL: free text */
    long count;         /* annotate: how many records (default 1) */
};

/* main.c */
double now_s(void);
/* Prints "peerctl: WHAT: " and r's message (errno's when r is 0); exits 1. */
_Noreturn void die(const char *what, int r);

/* records.c */
void me_load(const char *dir, struct me *m);
void me_free(struct me *m);
void print_rec(const uint8_t *buf, size_t len);
void rec_opts_parse(int argc, char **argv, int i, struct rec_opts *o);
void me_epoch(const struct me *m, const char *want_hex, const uint8_t **eid,
              const uint8_t **key);
int cmd_alerts(const char *dir, long n, long note_bytes, const struct rec_opts *o);
int cmd_annotate(const char *dir, const char *kind, const char *ref_hex,
                 const struct rec_opts *o);
uint8_t **read_records(const char *file, size_t **lens, size_t *count);

/* link.c */
int dial(const char *addr);
void link_handshake_as(struct link *l, const struct me *m, long m3_len,
                       const struct agah_identity *id, const uint8_t *adm, size_t adm_len);
void link_handshake(struct link *l, const struct me *m, long m3_len);
void link_write_all(struct link *l, const uint8_t *buf, size_t len);
void link_pump(struct link *l, double secs);
void link_send_pt(struct link *l, const uint8_t *pt, size_t len);
void batch_frame(struct link *l, uint8_t *batch, size_t *blen, const uint8_t *pt,
                 size_t len);
int cmd_m1(const char *dir, long n, int v1);

/* actions.c and flood.c: the actions of `connect`. */
void act_send(struct link *l, const char *file, long total, int type);
void act_offer(struct link *l, long n);
void act_recon(struct link *l, long n);
void act_skreq(struct link *l, long n);
void act_swant(struct link *l, const char *file, long n);
void act_peers(struct link *l, const struct me *m, const char *signer, long ttl, long n,
               const char *net, const char *port);
void act_oversize(struct link *l, unsigned long len, uint64_t *after);
void act_trickle(struct link *l, double secs);
void act_flood(struct link *l, const char *type, long total, long k);

#endif

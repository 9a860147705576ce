/* Layer wire/: the bytes peers exchange (frames, the handshake, the peer
 * message codec, range reconciliation and sketches, address announcements).
 * Pure code on buffers: no libuv, no store; it depends on proto/ only. */
/* The messages carried in frames after the handshake (proto/PROTOCOL.md,
 * "Messages"): one canonical msgpack array [type, ...] each, with a table
 * saying how each type is shaped, and the encoders. Also the table of ids
 * announced by IHAVE but not yet received (Plumtree's missing set). Pure
 * code, no I/O: the fuzzer feeds gossip_decode directly. */
#ifndef AGAH_GOSSIP_H
#define AGAH_GOSSIP_H

#include <stddef.h>
#include <stdint.h>
#include <msgpack.h>
#include <agah/agah.h>

enum gossip_type {
    GOSSIP_RECORD = 1, /* [1, bin]          eager push of a new record */
    GOSSIP_IHAVE = 2,  /* [2, [bin32...]]   lazy push: ids only */
    GOSSIP_GRAFT = 3,  /* [3, [bin32...]]   send these; make the link eager */
    GOSSIP_PRUNE = 4,  /* [4]               make the link lazy */
    GOSSIP_RECON = 5,  /* [5, lower, [range...]] reconciliation (recon.h) */
    GOSSIP_PEERS = 6,  /* [6, [entry...]]   signed listen addresses (peeraddr.h) */
    GOSSIP_PING = 7,   /* [7] */
    GOSSIP_PONG = 8,   /* [8] */
    GOSSIP_WANT = 9,   /* [9, [bin32...]]   send these; link mode unchanged */
    GOSSIP_BODY = 10,  /* [10, bin]         a record asked for (WANT, GRAFT) */
    GOSSIP_OFFER = 11, /* [11, [bin32...]]  reconciliation: you lack these, WANT them */
    GOSSIP_SKREQ = 12, /* [12, salt, count, strata] sketch request (sketch.h) */
    GOSSIP_SKETCH = 13, /* [13, salt, count, cells] the difference table */
    GOSSIP_SWANT = 14, /* [14, salt, bin]   send the records with these short ids */
    GOSSIP_NTYPES = 15
};

#define GOSSIP_IDS_MAX 256   /* ids in one IHAVE, GRAFT, WANT or OFFER */
#define GOSSIP_PEERS_MAX 32  /* entries in one PEERS */

/* A decoded message; pointers borrow from the plaintext buffer. */
struct gossip_msg {
    int type;
    const uint8_t *rec; size_t rec_len;  /* RECORD, BODY */
    const msgpack_object *ids; size_t n_ids; /* IHAVE, GRAFT, WANT, OFFER: bin32 each */
    const msgpack_object *obj;           /* the whole message (RECON) */
    const msgpack_object *entries; size_t n_entries; /* PEERS: shapes checked (peeraddr_parse) */
    const uint8_t *salt;                 /* SKREQ, SKETCH, SWANT: 16 bytes */
    uint64_t count;                      /* SKREQ, SKETCH: the sender's set size */
    const uint8_t *blob; size_t blob_len; /* SKREQ strata, SKETCH cells, SWANT short ids */
};

/* The id of element i of an ids message. */
static inline const uint8_t *gossip_id(const struct gossip_msg *m, size_t i)
{
    return (const uint8_t *)m->ids[i].via.bin.ptr;
}

/* Pre-scans and strictly decodes one plaintext. `u` must be
 * msgpack_unpacked_init'ed by the caller and destroyed after use; `pt`
 * must outlive `m`. RECON ranges are checked by recon_process. */
int gossip_decode(const uint8_t *pt, size_t len, msgpack_unpacked *u, struct gossip_msg *m,
                  struct agah_why *why);

/* Encoders: into buf[0..cap), setting *len; AGAH_ETOOBIG if it does not fit. */
int gossip_enc_simple(int type, uint8_t *buf, size_t cap, size_t *len);
int gossip_enc_record(int type, const uint8_t *rec, size_t rec_len, uint8_t *buf, size_t cap,
                      size_t *len);
int gossip_enc_ids(int type, const uint8_t (*ids)[AGAH_HASH_LEN], size_t n, uint8_t *buf,
                   size_t cap, size_t *len);
struct peeraddr;
int gossip_enc_peers(const struct peeraddr *entries, size_t n, uint8_t *buf, size_t cap,
                     size_t *len);

/* The ids announced by IHAVE and not yet received: who announced each
 * (up to GOSSIP_ANNOUNCERS peers, by serial number) and when to act.
 * A fixed open-addressing table plus a FIFO of deadlines, since every
 * deadline is "now + constant". */
#define GOSSIP_MISSING_MAX 4096
/* Of those, at most this many first announced by one peer. */
#define GOSSIP_MISSING_PEER_MAX (GOSSIP_MISSING_MAX / 4)
/* Peers holding entries tracked for that quota (links are at most 64). */
#define GOSSIP_OWNERS 128
#define GOSSIP_ANNOUNCERS 3
struct gossip_missing;

int gossip_missing_new(struct gossip_missing **out);
void gossip_missing_free(struct gossip_missing *g);
size_t gossip_missing_count(const struct gossip_missing *g);
/* Records that `peer` announced id. The first announcement starts the
 * timer (due at `deadline`); later ones add fallbacks. 0 or AGAH_ETOOBIG
 * when the table is full (the id is then left to reconciliation). */
int gossip_missing_add(struct gossip_missing *g, const uint8_t id[AGAH_HASH_LEN], uint64_t peer,
                       uint64_t deadline);
/* Forgets id (received). 1 if it was there. */
int gossip_missing_del(struct gossip_missing *g, const uint8_t id[AGAH_HASH_LEN]);
/* Pops the next entry due at `now`: its id and the announcer to ask now
 * (the next untried one); the entry stays, due again at `retry`, while
 * untried announcers remain. 1 when one was popped, 0 when none is due. */
int gossip_missing_due(struct gossip_missing *g, uint64_t now, uint64_t retry,
                       uint8_t id[AGAH_HASH_LEN], uint64_t *peer);
/* Milliseconds until the next deadline (0 when one is due), or -1 if empty. */
int64_t gossip_missing_next(const struct gossip_missing *g, uint64_t now);
/* Gives the tables' memory back when nothing is missing and no deadline is
 * queued (they are allocated again by the next add): 1 if it did. Called
 * now and then, not after every removal, so a burst reuses them. */
int gossip_missing_release(struct gossip_missing *g);

#endif

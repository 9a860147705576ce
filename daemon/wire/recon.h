/* Layer wire/: the bytes peers exchange (frames, the handshake, the peer
 * message codec, range reconciliation and sketches, address announcements).
 * Pure code on buffers: no libuv, no store; it depends on proto/ only. */
/* Range-based set reconciliation in the style of Negentropy
 * (proto/PROTOCOL.md, "Reconciliation"). Each side keeps the (created, id)
 * of every stored record in a sorted array; a RECON message splits the key
 * space into consecutive ranges, each skipped, summarised by a fingerprint,
 * or listed id by id. Processing a message is stateless: either side
 * answers any RECON message against its current set, so a round trip
 * narrows every mismatching range sixteen-fold until its ids are listed.
 * Pure code: no I/O; the caller sends the messages it is handed. */
#ifndef AGAH_RECON_H
#define AGAH_RECON_H

#include <stddef.h>
#include <stdint.h>
#include <msgpack.h>
#include <agah/error.h>

#define RECON_ID_LEN 32
#define RECON_FP_LEN 16
#define RECON_SPLIT 16             /* sub-ranges of a mismatching range */
#define RECON_IDLIST_THRESHOLD 32  /* ranges this small are sent as ids */
#define RECON_IDLIST_ACCEPT 256    /* most ids accepted in one IDLIST range */
#define RECON_MSG_BUDGET (96u * 1024u) /* one RECON message's size target */
#define RECON_EXPAND_MAX (1u << 20)    /* most reply bytes for one message */
#define RECON_SET_MAX (4u << 20)       /* most items in a set */

enum recon_mode { RECON_SKIP = 0, RECON_FINGERPRINT = 1, RECON_IDLIST = 2 };

struct recon_set;

/* Turns a reference given to recon_set_add_ref into the id it stands for.
 * The set calls it whenever it compares, lists or sums ids, so the id
 * behind a reference must not change while the set holds it: a caller
 * whose references change or are reused clears and refills the set first. */
typedef const uint8_t *(*recon_id_fn)(void *ctx, uint32_t ref);

/* A set that keeps a copy of each id it is given (recon_set_add; a
 * duplicate's copy too, until recon_set_clear: at most RECON_SET_MAX). */
int recon_set_new(struct recon_set **out);
/* A set of references into the caller's ids (recon_set_add_ref): 12 bytes
 * an item instead of 44 (12 and a 32-byte copy). */
int recon_set_new_ext(struct recon_set **out, recon_id_fn id_of, void *ctx);
void recon_set_free(struct recon_set *s);
/* Adds an item (duplicates are ignored). Cheap: items are appended to a
 * tail that is sorted and merged in before the next use. AGAH_ETOOBIG
 * beyond RECON_SET_MAX, AGAH_ENOMEM; AGAH_EINVAL on a set made by
 * recon_set_new_ext. */
int recon_set_add(struct recon_set *s, uint64_t created, const uint8_t id[RECON_ID_LEN]);
/* The same for a set of references (ref != 0), else AGAH_EINVAL. */
int recon_set_add_ref(struct recon_set *s, uint64_t created, uint32_t ref);
void recon_set_clear(struct recon_set *s);
/* Number of distinct items (merges the tail first). */
size_t recon_set_size(struct recon_set *s);
int recon_set_has(struct recon_set *s, uint64_t created, const uint8_t id[RECON_ID_LEN]);
/* Calls cb for every distinct item in order (merges the tail first); a
 * non-zero return from cb stops and is returned. */
int recon_set_foreach(struct recon_set *s, int (*cb)(void *ctx, const uint8_t id[RECON_ID_LEN]),
                      void *ctx);

/* What reconciling tells the caller. need: the other side has this id and
 * we do not (ask for it). have: we have it and the other side does not
 * (push it). send: one complete RECON message to transmit (the bytes are
 * only valid during the call); a negative return aborts. */
struct recon_cb {
    void (*need)(void *ctx, const uint8_t id[RECON_ID_LEN]);
    void (*have)(void *ctx, const uint8_t id[RECON_ID_LEN]);
    int (*send)(void *ctx, const uint8_t *msg, size_t len);
    void *ctx;
    /* Metering (issue 24), both optional (zero-initialised: unlimited and
     * uncounted). have_max: the most ids one recon_process reports through
     * have; an IDLIST range with more of ours is settled up to the last one
     * reported and the rest of the message is answered as one FINGERPRINT,
     * which the other side narrows and lists again on the next round.
     * visited: incremented by the number of set items the call touched
     * (fingerprinted, split or compared), the work the caller charges. */
    size_t have_max;
    size_t *visited;
};

/* Starts a reconciliation: sends the first message (always exactly one). */
int recon_initiate(struct recon_set *s, const struct recon_cb *cb);

/* Checks a decoded RECON message [5, lower, [range...]] completely, then
 * answers it: calls need/have for listed ranges and sends the reply
 * messages, none when every range matched. A malformed message is
 * refused (AGAH_ETYPE, AGAH_EFIELDS, AGAH_EVALUE...) before anything is
 * done. *sent (may be NULL) counts the messages sent. */
int recon_process(struct recon_set *s, const msgpack_object *msg, const struct recon_cb *cb,
                  size_t *sent, struct agah_why *why);

#endif

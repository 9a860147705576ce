/* Helpers shared by the benchmark programs: data directories made the way
 * `agah init --no-passphrase`, `agah community create` and `agah join` make
 * them, alert records signed by a community's founder, and record files
 * (a stream of u32 big-endian length + record bytes) that carry records
 * between the programs. Benchmark code: failures print and exit(2). */
#ifndef AGAH_BENCH_UTIL_H
#define AGAH_BENCH_UTIL_H

/* The per-author quota scale of every benchmark node (agahd --quota-scale):
 * one author posts all the records. */
#define BU_QUOTA_SCALE 1000u

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <agah/agah.h>
#include <agah/datadir.h>
#include "node.h"

/* The clock the node and the records use: real time, because agahd
 * processes later validate the same records against their own clock. */
uint64_t bu_now(void);
double bu_mono(void); /* monotonic seconds */

_Noreturn void bu_die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The founder's data directory, as init + community create make it.
 * Returns the identity (caller frees). */
struct agah_identity *bu_make_founder(const char *dir, const char *name);
/* Opens a node on dir (no passphrase, real clock). */
struct node *bu_open(const char *dir);
/* Admits a fresh identity in `dir` as a member through organiser `org`
 * and writes its community file from the join code. */
void bu_invite_join(struct node *org, const char *dir, const char *name);

/* The founder's signing material, read back from its data directory. */
struct bu_author {
    struct agah_identity *id;
    struct agah_local *local; /* community, epochs[0] */
};
void bu_author_load(const char *dir, struct bu_author *a);
void bu_author_free(struct bu_author *a);

/* Alert i's normalised target: "+8525" followed by i in 7 digits, a Hong
 * Kong mobile number, so 10,000,000 distinct ones exist. `absent` gives
 * "+8526..." numbers no alert uses. */
void bu_target(uint64_t i, int absent, char out[AGAH_TARGET_MAX]);
/* The note every benchmark alert carries: BU_NOTE_LEN bytes, so all alert
 * records have one length and their frames one size on the wire. */
#define BU_NOTE_LEN 80
void bu_note(char out[BU_NOTE_LEN + 1]);
/* Signs alert i (target bu_target(i, 0)) as `a`, created `created`, never
 * expiring. Caller frees *out. */
void bu_alert(const struct bu_author *a, uint64_t i, uint64_t created, uint8_t **out,
              size_t *len);

/* Record files. */
void bu_rec_write(FILE *f, const uint8_t *buf, size_t len);
/* 1 and a malloc'd record (caller frees), 0 at the end of the file. */
int bu_rec_read(FILE *f, uint8_t **buf, size_t *len);

/* Ingests buf into n (1 stored, 0 duplicate); dies on a rejection. */
int bu_ingest(struct node *n, const uint8_t *buf, size_t len);

#endif

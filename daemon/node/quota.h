/* Layer node/: the community's state (ingest, ids, the alert index,
 * membership, epochs, the store, quotas, network secrets). No libuv and no
 * sockets: mesh/ and control/ call it; it includes neither. */
/* Per-author quotas on posts (ALERT, CONFIRM and RETRACT records), so that
 * one member, before or after its revocation, cannot fill every node's disk
 * and memory with valid records (issue 24). This module only counts: per
 * author the stored posts and their bytes, and the posts of each UTC day of
 * their `created`. node.c decides what to keep with these counts and the
 * store (proto/PROTOCOL.md, "Per-author quotas"). */
#ifndef AGAH_QUOTA_H
#define AGAH_QUOTA_H

#include <stddef.h>
#include <stdint.h>
#include <agah/agah.h>
#include "idmap.h"
#include "store.h"

/* The limits every node applies, in two classes of posts by size, each a
 * count: counts (unlike bytes) make the rule a function of the set that
 * every node reaches in any order (PROTOCOL.md). Records are padded to a
 * few sizes (about 320, 510, 1,280 and 2,610 bytes), so a class's count
 * bounds its bytes: at most about 5.2 MB of small and 2.7 MB of large
 * posts per author. An organiser importing a list of a few hundred numbers
 * in one sitting, or posting a few dozen a day for a year (alerts expire
 * after 365 days unless told otherwise), stays well inside. */
#define QUOTA_SMALL_MAX 1100u     /* records below this many bytes are small */
#define QUOTA_SMALL_DAY 1000u     /* small posts with `created` in one UTC day */
#define QUOTA_SMALL_POSTS 10000u  /* small posts stored at once */
#define QUOTA_LARGE_DAY 100u      /* and large ones (notes over ~900 bytes) */
#define QUOTA_LARGE_POSTS 1000u
#define QUOTA_CLASSES 2

#define QUOTA_AUTHORS_MAX 65536u /* distinct authors counted (keys with a valid admission) */

struct quota_limits {
    uint32_t day_posts[QUOTA_CLASSES], posts[QUOTA_CLASSES];
};

/* Posts of one author and class with `created` in one UTC day. */
struct quota_day {
    uint32_t day, n;
};

struct quota_class {
    uint32_t posts;
    struct quota_day *days; /* sorted by day, no zero counts */
    size_t n_days, cap_days;
};

struct quota_author {
    uint8_t pk[AGAH_PK_LEN];
    struct quota_class c[QUOTA_CLASSES];
};

struct quota {
    struct quota_limits lim;
    struct quota_author *a;
    size_t n_a, cap_a;
    struct idmap map; /* author key -> index in a[] */
};

/* The class of a post of `len` bytes (0 small, 1 large). */
int quota_class_of(size_t len);

/* Empty counts under `lim` (NULL: the defaults above). */
void quota_init(struct quota *q, const struct quota_limits *lim);
void quota_free(struct quota *q);
/* Forgets every count, keeping the limits. */
void quota_clear(struct quota *q);

/* Counts one stored post of `len` bytes (which gives its class). 0,
 * AGAH_ENOMEM or AGAH_ETOOBIG. */
int quota_add(struct quota *q, const uint8_t author[AGAH_PK_LEN], uint64_t created, size_t len);
/* Uncounts one (a post that was counted). */
void quota_sub(struct quota *q, const uint8_t author[AGAH_PK_LEN], uint64_t created, size_t len);

/* 1 if the author's posts of the class of `len` exceed its total limit or
 * that of the UTC day of `created`, else 0; *day says which (1: the day). */
int quota_over(const struct quota *q, const uint8_t author[AGAH_PK_LEN], uint64_t created,
               size_t len, int *day);
/* 1 if the author's posts exceed a limit on any day or in total. */
int quota_over_any(const struct quota *q, const uint8_t author[AGAH_PK_LEN]);

/* The counts of one author in the class of `len`: stored, and dated the
 * UTC day of `created` (zeros when it has none). */
void quota_get(const struct quota *q, const uint8_t author[AGAH_PK_LEN], size_t len,
               uint64_t created, uint32_t *posts, uint32_t *day_posts);

/* Authors counted, for a walk over them (index 0 .. quota_n_authors - 1). */
size_t quota_n_authors(const struct quota *q);
const uint8_t *quota_author_pk(const struct quota *q, size_t i);

/* Deletes one stored post, uncounting it (node.c: from the store, the
 * views and these counts). 0 or a negative code. */
typedef int (*quota_drop_fn)(void *ctx, const struct store_post *p);

/* The rule (PROTOCOL.md, "Per-author quotas"), per author and class, in
 * (created, id) order: a post is kept if fewer than the day's limit of
 * posts of its UTC day come before it, and fewer than the total limit of
 * such day-kept posts come before it. For a new post `x` (id, created,
 * len) of `author`: counts it; if its day is then over, the latest post of
 * that day goes, else if the total is over, the latest post. 0 when `x`
 * may be stored (it stays counted; at most one other post was dropped);
 * AGAH_EQUOTA when `x` itself is that latest (no longer counted, nothing
 * dropped); another negative code on a store failure. */
int quota_admit(struct quota *q, struct store *st, const uint8_t author[AGAH_PK_LEN],
                uint64_t created, const uint8_t id[AGAH_HASH_LEN], size_t len,
                quota_drop_fn drop, void *ctx);
/* Applies the rule to every author over a limit (a store made before the
 * quotas, or by a node with other limits): drops what it does not keep.
 * *dropped counts them. */
int quota_trim_all(struct quota *q, struct store *st, quota_drop_fn drop, void *ctx,
                   size_t *dropped);

/* The limits nodes opened from now on apply: the defaults above, times
 * `scale` (agahd --quota-scale, for benchmarks and tests; every node of a
 * community must use the same). */
const struct quota_limits *quota_default_limits(void);
void quota_scale_defaults(unsigned scale);

#endif

/* Signing many benchmark alerts on every core: the records are made in
 * parallel (signing is read-only on the identity) and handed back in order. */
#ifndef AGAH_BENCH_GEN_H
#define AGAH_BENCH_GEN_H

#include <stddef.h>
#include <stdint.h>
#include "bench_util.h"

struct bu_recs {
    uint8_t **buf;
    size_t *len;
    size_t n;
};

/* Alerts first..first+n-1, alert i created at created0 + i / per_second. */
void bu_gen(const struct bu_author *a, uint64_t first, size_t n, uint64_t created0,
            unsigned per_second, int threads, struct bu_recs *out);
void bu_recs_free(struct bu_recs *r);

#endif

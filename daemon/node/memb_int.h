/* Private to membership.c and memb_epoch.c: the helpers they share.
 * membership.h is the public interface. */
#ifndef AGAH_MEMB_INT_H
#define AGAH_MEMB_INT_H

#include "membership.h"

struct memb_key *memb__key(const struct memb *m, const uint8_t pk[AGAH_PK_LEN]);
int memb__is_founder(const struct memb *m, const uint8_t pk[AGAH_PK_LEN]);
int memb__role_at(const struct memb *m, const struct memb_key *k, uint64_t t);

#endif

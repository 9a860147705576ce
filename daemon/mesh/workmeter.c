/* The reconciliation work budget (workmeter.h): a token bucket per member
 * and the ring of budgets left by links that went down. */
#include <string.h>
#include <sodium.h>
#include "workmeter.h"

static void workmeter__refill(struct workmeter *m, uint64_t now)
{
    if (now > m->at)
        m->units += (double)(now - m->at) * WORK_RATE / 1000.0;
    if (m->units > WORK_BURST)
        m->units = WORK_BURST;
    if (now > m->at)
        m->at = now;
}

void workmeter_init(struct workmeter *m, uint64_t now)
{
    m->units = WORK_BURST;
    m->at = now;
    m->drops = 0;
}

enum workmeter_verdict workmeter_admit(struct workmeter *m, uint64_t now)
{
    workmeter__refill(m, now);
    if (m->units >= 0.0) {
        m->drops = 0;
        return WORK_ANSWER;
    }
    if (m->drops < WORK_DROPS)
        m->drops++;
    return m->drops >= WORK_DROPS ? WORK_CLOSE : WORK_DROP;
}

void workmeter_charge(struct workmeter *m, double units)
{
    m->units -= units;
}

static size_t workmeter__find(const struct workmeter_kept *k, const uint8_t pk[WORK_PK_LEN])
{
    size_t i;

    for (i = 0; i < WORK_KEPT; i++)
        if (k->e[i].at != 0 && sodium_memcmp(k->e[i].pk, pk, WORK_PK_LEN) == 0)
            break;
    return i;
}

void workmeter_keep(struct workmeter_kept *k, const uint8_t pk[WORK_PK_LEN],
                    const struct workmeter *m, uint64_t now)
{
    struct workmeter left = *m;
    size_t i = workmeter__find(k, pk);

    workmeter__refill(&left, now);
    if (left.units >= WORK_BURST) {
        if (i < WORK_KEPT)
            k->e[i].at = 0; /* full again: nothing to remember */
        return;
    }
    if (i == WORK_KEPT) {
        i = k->next;
        k->next = (k->next + 1) % WORK_KEPT;
    }
    memcpy(k->e[i].pk, pk, WORK_PK_LEN);
    k->e[i].units = left.units;
    k->e[i].at = now != 0 ? now : 1; /* 0 marks a free entry */
}

void workmeter_restore(struct workmeter_kept *k, const uint8_t pk[WORK_PK_LEN],
                       struct workmeter *m, uint64_t now)
{
    size_t i = workmeter__find(k, pk);

    if (i == WORK_KEPT)
        return;
    m->units = k->e[i].units;
    m->at = k->e[i].at;
    workmeter__refill(m, now);
    k->e[i].at = 0;
}

/* The reconciliation work budget alone (daemon/mesh/workmeter.c, issue 24):
 * the bucket answers while not negative, refills at WORK_RATE up to
 * WORK_BURST, closes after WORK_DROPS drops in a row; a member's budget
 * outlives its link in a ring of WORK_KEPT. The clock is passed in. */
#include <string.h>
#include "workmeter.h"

#include "check.h"

static void pk_of(uint8_t pk[WORK_PK_LEN], unsigned n)
{
    memset(pk, 0, WORK_PK_LEN);
    memcpy(pk, &n, sizeof n);
}

static void test_bucket(void)
{
    struct workmeter m;
    unsigned i;

    workmeter_init(&m, 1000);
    CHECK(m.units == WORK_BURST);
    /* Charged after: a message dearer than the whole burst is answered once. */
    CHECK(workmeter_admit(&m, 1000) == WORK_ANSWER);
    workmeter_charge(&m, WORK_BURST + 250000.0);
    CHECK(workmeter_admit(&m, 1000) == WORK_DROP);
    CHECK(m.drops == 1);
    /* 250,000 units a second: 999 ms leave it negative, 1,000 ms do not. */
    CHECK(workmeter_admit(&m, 1999) == WORK_DROP);
    CHECK(workmeter_admit(&m, 2000) == WORK_ANSWER);
    CHECK(m.drops == 0);
    /* Refill stops at the burst, however long the wait. */
    CHECK(workmeter_admit(&m, 1000000) == WORK_ANSWER);
    CHECKF(m.units == WORK_BURST, "units %.0f", m.units);
    /* A clock that goes back adds nothing. */
    workmeter_charge(&m, WORK_BURST + 1.0);
    CHECK(workmeter_admit(&m, 500) == WORK_DROP);
    /* WORK_DROPS in a row close; one answered message in between resets. */
    for (i = 2; i < WORK_DROPS; i++)
        CHECK(workmeter_admit(&m, 1000000) == WORK_DROP);
    CHECK(workmeter_admit(&m, 1000000) == WORK_CLOSE);
    workmeter_init(&m, 0);
    workmeter_charge(&m, WORK_BURST + 1.0);
    for (i = 1; i < WORK_DROPS; i++)
        CHECK(workmeter_admit(&m, 0) == WORK_DROP);
    CHECK(workmeter_admit(&m, 1) == WORK_ANSWER); /* 250 units came back */
    workmeter_charge(&m, 1000.0);
    CHECK(workmeter_admit(&m, 1) == WORK_DROP && m.drops == 1);
}

static void test_kept(void)
{
    static struct workmeter_kept k;
    struct workmeter m, n;
    uint8_t pk[WORK_PK_LEN], other[WORK_PK_LEN];
    unsigned i;

    pk_of(pk, 1);
    pk_of(other, 2);
    /* A link that spent its budget leaves it to the member's next link,
     * refilled for the time between, and the entry is used once. */
    workmeter_init(&m, 1000);
    workmeter_charge(&m, WORK_BURST + 500000.0);
    workmeter_keep(&k, pk, &m, 1000);
    workmeter_init(&n, 1000);
    workmeter_restore(&k, other, &n, 1000);
    CHECK(n.units == WORK_BURST); /* another member: untouched */
    workmeter_restore(&k, pk, &n, 2000);
    CHECKF(n.units == -250000.0, "restored %.0f", n.units);
    CHECK(workmeter_admit(&n, 2000) == WORK_DROP);
    workmeter_init(&n, 2000);
    workmeter_restore(&k, pk, &n, 2000);
    CHECK(n.units == WORK_BURST);
    /* A budget full again by the time the link goes is not remembered,
     * and forgets what an earlier link left. */
    workmeter_init(&m, 0);
    workmeter_charge(&m, 1000.0);
    workmeter_keep(&k, pk, &m, 0);
    workmeter_init(&m, 0);
    workmeter_keep(&k, pk, &m, 10);
    workmeter_init(&n, 10);
    workmeter_charge(&n, 5.0);
    workmeter_restore(&k, pk, &n, 10);
    CHECK(n.units == WORK_BURST - 5.0);
    /* The ring holds WORK_KEPT members; one more forgets the oldest. */
    for (i = 0; i <= WORK_KEPT; i++) {
        uint8_t x[WORK_PK_LEN];

        pk_of(x, 100 + i);
        workmeter_init(&m, 0);
        workmeter_charge(&m, WORK_BURST);
        workmeter_keep(&k, x, &m, 0);
    }
    pk_of(pk, 100);
    workmeter_init(&n, 0);
    workmeter_restore(&k, pk, &n, 0);
    CHECK(n.units == WORK_BURST); /* forgotten */
    pk_of(pk, 101);
    workmeter_restore(&k, pk, &n, 0);
    CHECK(n.units == 0.0); /* still there */
}

int main(void)
{
    test_bucket();
    test_kept();
    printf("test_workmeter: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}

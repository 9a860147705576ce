/* bench_verify: libsodium's raw Ed25519 verification rate on one core, the
 * reference for the daemon's ingest rate (ingest_ratio). Messages are the
 * size of an alert record's signed part, one key pair per message, as the
 * daemon sees them; each is verified against its own key in turn for about
 * SECONDS seconds. Prints "verify_per_s N". */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <sodium.h>

#define MSGS 64
#define MSG_LEN 300

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    static unsigned char pk[MSGS][crypto_sign_PUBLICKEYBYTES];
    static unsigned char sk[MSGS][crypto_sign_SECRETKEYBYTES];
    static unsigned char msg[MSGS][MSG_LEN], sig[MSGS][crypto_sign_BYTES];
    double seconds = argc > 1 ? atof(argv[1]) : 2.0, t0, t;
    unsigned long long n = 0;
    int bad = 0;

    if (sodium_init() < 0 || seconds <= 0) {
        fprintf(stderr, "usage: bench_verify [SECONDS]\n");
        return 2;
    }
    for (int i = 0; i < MSGS; i++) {
        crypto_sign_keypair(pk[i], sk[i]);
        randombytes_buf(msg[i], MSG_LEN);
        crypto_sign_detached(sig[i], NULL, msg[i], MSG_LEN, sk[i]);
    }
    /* Warm up caches and the CPU's clock before timing. */
    for (int i = 0; i < 200; i++)
        bad |= crypto_sign_verify_detached(sig[i % MSGS], msg[i % MSGS], MSG_LEN, pk[i % MSGS]);
    t0 = now_s();
    do {
        for (int i = 0; i < MSGS; i++)
            bad |= crypto_sign_verify_detached(sig[i], msg[i], MSG_LEN, pk[i]);
        n += MSGS;
        t = now_s();
    } while (t - t0 < seconds);
    if (bad != 0) {
        fprintf(stderr, "bench_verify: a signature failed to verify\n");
        return 1;
    }
    printf("verify_per_s %.0f\n", (double)n / (t - t0));
    return 0;
}

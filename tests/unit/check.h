/* The unit tests' one assertion: count every check, report each failure
 * with its place and condition, and keep going, so one run shows every
 * broken expectation. main() prints `passed` and `failed` and exits 1 if
 * anything failed. CHECKF adds a printf-style sentence on failure. */
#ifndef AGAH_TEST_CHECK_H
#define AGAH_TEST_CHECK_H

#include <stdio.h>

static int passed, failed;

#define CHECK(cond)                                                                \
    do {                                                                           \
        if (cond) {                                                                \
            passed++;                                                              \
        } else {                                                                   \
            failed++;                                                              \
            fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
        }                                                                          \
    } while (0)

#define CHECKF(cond, ...)                                                    \
    do {                                                                     \
        if (cond) {                                                          \
            passed++;                                                        \
        } else {                                                             \
            failed++;                                                        \
            fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, \
                    #cond);                                                  \
            fprintf(stderr, __VA_ARGS__);                                    \
            fputc('\n', stderr);                                             \
        }                                                                    \
    } while (0)

/* Keys for records whose encrypted names a test does not read (record
 * version 3 encrypts names and reasons): a genesis key, and an epoch id
 * and key for admissions and revocations. 32 bytes each. */
#define TEST_GKEY ((const uint8_t *)"agah-test-genesis-key-32-bytes!!")
#define TEST_EID ((const uint8_t *)"agah-test-epoch-id-32-bytes-long")
#define TEST_EKEY ((const uint8_t *)"agah-test-epoch-key-32-bytes-lon")

#endif

/* agah_harden_process leaves no core and no dumpable process, and the
 * passphrase helpers take $AGAH_PASSPHRASE out of the environment and
 * refuse a passphrase file others can read (issue 23). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <agah/agah.h>
#include <agah/datadir.h>
#include <agah/harden.h>
#include "alerts.h"
#include "check.h"

/* AddressSanitizer intercepts mlock and does nothing, so the kernel's
 * count cannot move under it. */
#if defined(__SANITIZE_ADDRESS__)
#define AGAH_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define AGAH_TEST_ASAN 1
#endif
#endif
#ifndef AGAH_TEST_ASAN
#define AGAH_TEST_ASAN 0
#endif

/* VmLck of this process, in KiB (-1 if /proc says nothing). */
static long vm_locked_kib(void)
{
    char line[256];
    long v = -1;
    FILE *f = fopen("/proc/self/status", "r");
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof line, f) != NULL)
        if (strncmp(line, "VmLck:", 6) == 0)
            v = strtol(line + 6, NULL, 10);
    fclose(f);
    return v;
}

/* Decrypted targets and notes live in chunks locked into RAM (never
 * swapped), as far as RLIMIT_MEMLOCK allows: the kernel's count of locked
 * memory moves with alerts_locked_bytes, and back to where it was when the
 * view is freed. Where nothing may be locked, the view still works. */
static void test_locked_view(void)
{
    struct alerts al;
    struct agah_alert_body b;
    uint8_t id[AGAH_HASH_LEN], author[AGAH_PK_LEN];
    long before = vm_locked_kib(), during;

    memset(&b, 0, sizeof b);
    b.kind = AGAH_KIND_NUMBER;
    strcpy(b.target, "+85251234567");
    strcpy(b.note, "locked note");
    memset(author, 7, sizeof author);
    alerts_init(&al);
    for (int i = 0; i < 200; i++) {
        memset(id, 0, sizeof id);
        id[0] = (uint8_t)i;
        id[1] = 1;
        CHECK(alerts_add(&al, id, author, 1700000000, 0, &b) == 1);
    }
    during = vm_locked_kib();
    {
        /* Where the limit allows a chunk (or root may lock past it), one is. */
        struct rlimit ml;
        int may = geteuid() == 0 ||
                  (getrlimit(RLIMIT_MEMLOCK, &ml) == 0 &&
                   (ml.rlim_cur == RLIM_INFINITY || ml.rlim_cur >= 1024 * 1024));
        if (may)
            CHECKF(alerts_locked_bytes(&al) > 0, "nothing locked though the limit allows it");
    }
    CHECK(strcmp(alerts_target(&al, alerts_first(&al, "+85251234567")), "+85251234567") == 0);
    if (AGAH_TEST_ASAN)
        printf("note: AddressSanitizer turns mlock into a no-op; VmLck not compared\n");
    else if (alerts_locked_bytes(&al) > 0 && before >= 0)
        CHECKF(during - before >= (long)(alerts_locked_bytes(&al) / 1024),
               "VmLck %ld -> %ld KiB, %zu bytes said locked", before, during,
               alerts_locked_bytes(&al));
    else
        printf("note: no memory could be locked here (RLIMIT_MEMLOCK); VmLck %ld KiB\n", during);
    alerts_free(&al);
    CHECK(AGAH_TEST_ASAN || vm_locked_kib() == before);
}

static void test_harden(void)
{
    struct agah_why why = {{0}};
    struct rlimit rl;

    CHECK(agah_harden_process(&why) == 0);
    CHECK(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 0);
    CHECK(getrlimit(RLIMIT_CORE, &rl) == 0);
    CHECK(rl.rlim_cur == 0 && rl.rlim_max == 0);
    /* Calling it again is harmless (both programs might, via a library). */
    CHECK(agah_harden_process(&why) == 0);
}

static void test_env(void)
{
    struct agah_why why = {{0}};
    char *pass = NULL, *env;
    size_t len = 0;

    CHECK(setenv("AGAH_PASSPHRASE", "correct horse", 1) == 0);
    env = getenv("AGAH_PASSPHRASE");
    CHECK(agah_passphrase_env_take(&why) == 0);
    CHECK(getenv("AGAH_PASSPHRASE") == NULL);
    /* The environment's own bytes are wiped, not only unlinked. */
    CHECK(env != NULL && env[0] == '\0' && memcmp(env, "\0\0\0\0\0\0\0\0\0\0\0\0\0", 13) == 0);
    CHECK(agah_passphrase_get(NULL, NULL, 0, &pass, &len, &why) == 0);
    CHECK(pass != NULL && len == 13 && memcmp(pass, "correct horse", 13) == 0);
    agah_passphrase_free(pass, len);
    agah_passphrase_env_forget();

    /* Not taken beforehand: agah_passphrase_get takes it itself. */
    CHECK(setenv("AGAH_PASSPHRASE", "other", 1) == 0);
    pass = NULL;
    CHECK(agah_passphrase_get(NULL, NULL, 0, &pass, &len, &why) == 0);
    CHECK(pass != NULL && len == 5 && memcmp(pass, "other", 5) == 0);
    CHECK(getenv("AGAH_PASSPHRASE") == NULL);
    agah_passphrase_free(pass, len);
    agah_passphrase_env_forget();
}

static void test_file_mode(void)
{
    struct agah_why why = {{0}};
    char path[] = "/tmp/agah-test-harden-XXXXXX";
    char *pass = NULL;
    size_t len = 0;
    int fd = mkstemp(path);

    CHECK(fd >= 0);
    if (fd < 0)
        return;
    CHECK(write(fd, "file pass\n", 10) == 10);
    CHECK(close(fd) == 0);
    CHECK(chmod(path, 0644) == 0);
    CHECK(agah_passphrase_get(path, NULL, 0, &pass, &len, &why) == AGAH_EINVAL);
    CHECK(pass == NULL);
    CHECKF(strstr(why.msg, path) != NULL && strstr(why.msg, "group or others") != NULL, "%s", why.msg);
    CHECK(chmod(path, 0640) == 0);
    CHECK(agah_passphrase_get(path, NULL, 0, &pass, &len, &why) == AGAH_EINVAL);
    CHECK(chmod(path, 0600) == 0);
    CHECK(agah_passphrase_get(path, NULL, 0, &pass, &len, &why) == 0);
    CHECK(pass != NULL && len == 9 && memcmp(pass, "file pass", 9) == 0);
    agah_passphrase_free(pass, len);
    CHECK(chmod(path, 0400) == 0);
    pass = NULL;
    CHECK(agah_passphrase_get(path, NULL, 0, &pass, &len, &why) == 0);
    agah_passphrase_free(pass, len);
    CHECK(unlink(path) == 0);
}

int main(void)
{
    CHECK(agah_init() == 0);
    unsetenv("AGAH_PASSPHRASE");
    test_harden();
    test_env();
    test_file_mode();
    test_locked_view();
    printf("test_harden: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}

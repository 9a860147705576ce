/* agah_harden_process leaves no core and no dumpable process, and the
 * passphrase helpers take $AGAH_PASSPHRASE out of the environment and
 * refuse a passphrase file others can read (issue 23). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <agah/agah.h>
#include <agah/datadir.h>
#include <agah/harden.h>
#include "check.h"

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
    printf("test_harden: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}

/* log_ident and log_peer: a peer's address and a member id reach stderr only
 * at --log-level debug; below it the fixed wording does, and nothing at all
 * above the line's level. stderr goes to a temporary file and is read back. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "log.h"

#include "check.h"

static FILE *cap;

/* Everything logged since the last call, NUL-terminated in buf. */
static const char *logged(char *buf, size_t size)
{
    size_t n;

    (void)fflush(stderr);
    rewind(cap);
    n = fread(buf, 1, size - 1, cap);
    buf[n] = '\0';
    rewind(cap);
    CHECK(ftruncate(fileno(cap), 0) == 0);
    return buf;
}

int main(void)
{
    static const char addr[] = "127.0.0.1:40123", id[] = "mabcdefmemberid";
    char buf[4096];
    int saved = dup(2);

    cap = tmpfile();
    if (cap == NULL || saved < 0 || dup2(fileno(cap), 2) < 0)
        return 2;

    for (int level = LOG_ERROR; level <= LOG_INFO; level++) {
        log_set_level(level);
        log_ident(LOG_INFO, "a peer's link is up", "peer %s up (member %s)", addr, id);
        log_peer(LOG_WARN, addr, "down: %s", "idle");
        const char *s = logged(buf, sizeof buf);
        CHECKF(strstr(s, addr) == NULL && strstr(s, "40123") == NULL && strstr(s, id) == NULL,
               "level %d: %s", level, s);
        CHECK((strstr(s, "info: a peer's link is up\n") != NULL) == (level >= LOG_INFO));
        CHECK((strstr(s, "warn: a peer: down: idle\n") != NULL) == (level >= LOG_WARN));
    }

    log_set_level(LOG_DEBUG);
    log_ident(LOG_INFO, "a peer's link is up", "peer %s up (member %s)", addr, id);
    log_peer(LOG_WARN, addr, "down: %s", "idle");
    log_peer(LOG_DEBUG, "", "closed: %s", "refused");
    const char *s = logged(buf, sizeof buf);
    CHECKF(strstr(s, "info: peer 127.0.0.1:40123 up (member mabcdefmemberid)\n") != NULL, "%s", s);
    CHECKF(strstr(s, "warn: peer 127.0.0.1:40123: down: idle\n") != NULL, "%s", s);
    CHECKF(strstr(s, "debug: peer (dialling): closed: refused\n") != NULL, "%s", s);
    CHECK(strstr(s, "a peer") == NULL);

    (void)dup2(saved, 2);
    (void)close(saved);
    (void)fclose(cap);
    printf("test_log: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}

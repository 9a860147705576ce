/* Process hardening for agahd and agah: no core files and no access to
 * this process's memory by other processes of the same user. Linux only,
 * as the rest of agah. */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <agah/harden.h>

int agah_harden_process(struct agah_why *why)
{
    /* Hard limit 0 too: nothing this process runs later (a library, an
     * exec'd helper) can raise it again. */
    const struct rlimit none = {0, 0};

    if (setrlimit(RLIMIT_CORE, &none) != 0) {
        int e = errno;
        return agah_fail(why, AGAH_EINTERNAL, "cannot turn off core dumps (setrlimit RLIMIT_CORE): %s",
                         strerror(e));
    }
    /* Also stops cores written by a core_pattern pipe, which ignores
     * RLIMIT_CORE, and makes /proc/PID/{mem,environ,maps} and ptrace
     * unavailable to the same user (not to root). */
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
        int e = errno;
        return agah_fail(why, AGAH_EINTERNAL, "cannot make the process non-dumpable (prctl PR_SET_DUMPABLE): %s",
                         strerror(e));
    }
    return 0;
}

/* Process hardening shared by agahd and agah: what a crash or another
 * process of the same user can take from a running agah (issue 23). */
#ifndef AGAH_HARDEN_H
#define AGAH_HARDEN_H

#include "error.h"

/* Makes this process leave no core dump (RLIMIT_CORE soft and hard 0) and
 * non-dumpable (PR_SET_DUMPABLE 0), so its memory (keys, notes, the
 * passphrase) is neither written to a core file on a crash nor readable
 * through /proc/PID/mem, environ or ptrace by other processes of the same
 * user; /proc/PID files then belong to root. Call first thing in main(),
 * before any secret is read. Returns 0, or AGAH_EINTERNAL with why naming
 * the call that failed; the caller should then refuse to run. */
int agah_harden_process(struct agah_why *why);

#endif

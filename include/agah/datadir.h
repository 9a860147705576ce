/* What agahd and agah share about the local node: where its data directory
 * is and how the identity passphrase is obtained (CONTRACT.md). */
#ifndef AGAH_DATADIR_H
#define AGAH_DATADIR_H

#include <stddef.h>
#include "error.h"

#define AGAH_PATH_MAX 4096

/* --data DIR if given, else $AGAH_DATA, else $XDG_DATA_HOME/agah, else
 * ~/.local/share/agah. AGAH_EINVAL if none can be formed or it is too long. */
int agah_datadir_resolve(const char *opt, char out[AGAH_PATH_MAX], struct agah_why *why);
/* Creates the directory (and parents) 0700 if missing; if it exists, makes
 * sure agah_datadir_check_owned accepts it and tightens it to 0700. */
int agah_datadir_ensure(const char *dir, struct agah_why *why);

/* What agah_datadir_check_owned expects to find at a path. */
enum agah_owned_kind { AGAH_OWNED_DIR, AGAH_OWNED_SOCKET };
/* Whether `path` is safe to trust as our data directory (AGAH_OWNED_DIR) or
 * our control socket (AGAH_OWNED_SOCKET): lstat'ed, so a symbolic link is
 * refused rather than followed; it must be of that kind, owned by the
 * effective uid and not writable by group or others (whoever can write the
 * directory can put their own socket in it). Returns 0; AGAH_ENOENT when
 * nothing is there; AGAH_EPERM with `why` naming the path and the problem;
 * AGAH_EIO when it cannot be examined. */
int agah_datadir_check_owned(const char *path, enum agah_owned_kind kind, struct agah_why *why);
/* Whether the process at the other end of the connected Unix socket `fd`
 * runs as our effective uid (SO_PEERCRED): 0, or AGAH_EPERM with `why`
 * giving both uids, or AGAH_EIO when the kernel does not say. */
int agah_sock_peer_check(int fd, struct agah_why *why);
/* DIR/name into out. */
int agah_datadir_path(const char *dir, const char *name, char out[AGAH_PATH_MAX]);

/* The passphrase: $AGAH_PASSPHRASE (see agah_passphrase_env_take), else
 * the first line of `file` (if non-NULL; refused with AGAH_EINVAL naming it
 * when group or others may read it), else a prompt on /dev/tty with echo
 * off (asked twice when `confirm`), else AGAH_EINVAL "no passphrase: set AGAH_PASSPHRASE, use
 * --passphrase-file, or run on a terminal". *out is sodium_malloc'd; free
 * with agah_passphrase_free (wipes). */
int agah_passphrase_get(const char *file, const char *prompt, int confirm, char **out,
                        size_t *len, struct agah_why *why);
void agah_passphrase_free(char *p, size_t len);
/* A new passphrase (for `agah passphrase`): the first line of `file` (if
 * non-NULL, with the same mode check), else asked twice on /dev/tty; never
 * $AGAH_PASSPHRASE, which is the current one. Same ownership as above. */
int agah_passphrase_get_new(const char *file, const char *prompt, char **out, size_t *len,
                            struct agah_why *why);
/* Takes $AGAH_PASSPHRASE out of the environment: copies it into guarded
 * memory for agah_passphrase_get, wipes the original bytes (which
 * /proc/PID/environ shows) and unsets it. Call at the start of main, after
 * agah_harden_process; later calls only take a variable set since. The
 * variable is gone afterwards even on error (AGAH_EINVAL: too long). */
int agah_passphrase_env_take(struct agah_why *why);
/* Wipes and frees what agah_passphrase_env_take kept, once it is used. */
void agah_passphrase_env_forget(void);

#endif

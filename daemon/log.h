/* agahd's log: one line per event on stderr, with a level. journald keeps it,
 * so it is read by whoever seizes the disk: never log keys, passphrases,
 * alert plaintext (numbers, accounts, notes), member or community names, or
 * what a user typed; peer addresses and member ids only through log_ident. */
#ifndef AGAH_LOG_H
#define AGAH_LOG_H

enum log_level { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

void log_set_level(int level);
/* "error" "warn" "info" "debug" -> level, or -1. */
int log_level_parse(const char *s);
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* An event that names a peer's address or a member id: with --log-level
 * debug, fmt (which may name them) is logged at `level`; below debug, the
 * fixed text `terse`, which must not. One call keeps the two wordings side
 * by side, so an operator's default log says what happened, never to whom. */
void log_ident(int level, const char *terse, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* An event on one peer's link: "peer ADDR: ..." with --log-level debug,
 * "a peer: ..." below it. fmt must name neither the address nor the member. */
void log_peer(int level, const char *remote, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif

/* Normalisation of the identifiers alerts are about: phone numbers to E.164
 * (through libphonenumber, in proto/number.cc) and messaging accounts to
 * "service:handle". The same number or account written any way normalises to
 * the same string, so it finds the same alert. */
#ifndef AGAH_IDENT_H
#define AGAH_IDENT_H

#include <stddef.h>
#include "error.h"

/* Longest normalised target, including the terminating NUL. */
#define AGAH_TARGET_MAX 256

/* Normalises a phone number to E.164 ("+85251234567").
 * Accepts "+" and "00" international prefixes and formatting characters
 * (spaces, dashes, dots, brackets, slashes). A national number needs
 * `region` (ISO 3166 alpha-2, e.g. "GB"; NULL or "" means none): without it
 * the result is AGAH_EREGION. Numbers that are *possible* but not *valid* are
 * kept (spoofed numbers often are invalid). Letters, empty input, or too few
 * or too many digits give AGAH_ENUMBER with the reason in `why`.
 * Returns 0 and writes a NUL-terminated string to `out`. */
int agah_number_normalize(const char *input, const char *region,
                          char out[AGAH_TARGET_MAX], struct agah_why *why);

/* Normalises "service:handle" per service rules, to "service:handle":
 *   whatsapp, signal, sms: the handle is a phone number -> "whatsapp:+E164"
 *   telegram: drops a leading "@", lowercases; 5-32 of [a-z0-9_]
 *   wechat: WeChat ID, lowercased; 6-20 of [a-z0-9_-], starts with a letter
 *   email: local part kept, domain lowercased; one "@", no spaces
 *   url: scheme and host lowercased, "http"/"https" only
 *   others in a fixed list (twitter/x, facebook, instagram, tiktok, line,
 *   viber, imo, qq, weibo, douyin): "@" dropped, lowercased, no spaces.
 * The service name is case-insensitive. Unknown services, empty handles and
 * handles that break their service's rules give AGAH_EACCOUNT with `why`. */
int agah_account_normalize(const char *input, const char *region,
                           char out[AGAH_TARGET_MAX], struct agah_why *why);

enum agah_target_kind { AGAH_TARGET_NUMBER = 1, AGAH_TARGET_ACCOUNT = 2 };

/* For `check`: an input containing ':' is an account, anything else a number.
 * Sets *kind and normalises as above. */
int agah_target_normalize(const char *input, const char *region,
                          char out[AGAH_TARGET_MAX], int *kind,
                          struct agah_why *why);

#endif

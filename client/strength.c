/* The passphrase strength check for every command that sets one (`init`,
 * `passphrase`): libpwquality with its dictionary check (cracklib), at
 * settings of our own rather than the system's /etc/security/pwquality.conf,
 * so every machine refuses the same passphrases. A seized disk lets the
 * adversary guess offline, so the passphrase's own strength is what the
 * Argon2id cost multiplies (docs/SECURITY.md). */
#include <string.h>
#include <pwquality.h>
#include "identity.h"

/* At least this long: a few words, or a dozen random characters. */
#define STRENGTH_MIN_LEN 12
/* pwquality scores what passes its checks from 0 to 100; below this, a
 * passphrase is mostly a repeated or common word ("passwordpassword"
 * scores 20, "correct horse battery staple" 100). */
#define STRENGTH_MIN_SCORE 30

int cli_pass_strong(const char *pass, const char *old)
{
    pwquality_settings_t *pwq = NULL;
    void *aux = NULL;
    char buf[PWQ_MAX_ERROR_MESSAGE_LEN];
    int score;

    if ((pwq = pwquality_default_settings()) == NULL)
        return cli_fail(EXIT_FAIL, "out of memory");
    if (pwquality_set_int_value(pwq, PWQ_SETTING_MIN_LENGTH, STRENGTH_MIN_LEN) != 0) {
        pwquality_free_settings(pwq);
        return cli_fail(EXIT_FAIL, "cannot set up the passphrase strength check");
    }
    score = pwquality_check(pwq, pass, old, NULL, &aux);
    pwquality_free_settings(pwq);
    if (score < 0) {
        /* pwquality_strerror frees aux, whatever the error. */
        const char *why = pwquality_strerror(buf, sizeof buf, score, aux);
        if (score == PWQ_ERROR_MEM_ALLOC)
            return cli_fail(EXIT_FAIL, "out of memory");
        return cli_fail(EXIT_USAGE, "this passphrase is refused: %s (a strong one is four or "
                        "five unrelated words, or %d or more random characters)",
                        why, STRENGTH_MIN_LEN);
    }
    if (score < STRENGTH_MIN_SCORE)
        return cli_fail(EXIT_USAGE, "this passphrase is refused: it is too predictable "
                        "(strength %d of 100, at least %d needed; a strong one is four or five "
                        "unrelated words, or %d or more random characters)",
                        score, STRENGTH_MIN_SCORE, STRENGTH_MIN_LEN);
    return 0;
}

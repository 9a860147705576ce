/* libFuzzer target for identifier normalisation: any bytes, as a number, an
 * account or a `check` target, with any region. The outputs must be
 * NUL-terminated and well formed, refusals must explain themselves in
 * printable text, and normalising an output again must give it back (a
 * stored target is found again).
 *
 * Input layout: byte 0 picks the region (its low two bits: 0 NULL, 1 "",
 * 2 a real region from the table below chosen by byte 1, 3 the next two raw
 * bytes); the rest, up to its first NUL, is the text. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <agah/ident.h>

static const char *const regions[] = {
    "GB", "US", "HK", "TR", "DE", "FR", "CN", "KZ", "AU", "CA", "IT", "BR",
    "AR", "IN", "JP", "RU", "IR", "NL", "SE", "MX", "gb", "hk", "Tr", "kz",
};

#define FAIL(...)                                                           \
    do {                                                                    \
        fprintf(stderr, "fuzz_ident: " __VA_ARGS__);                        \
        fputc('\n', stderr);                                                \
        abort();                                                            \
    } while (0)

static void check_why(int rc, const struct agah_why *why, const char *text)
{
    if (rc == 0)
        return;
    const char *end = memchr(why->msg, '\0', sizeof why->msg);
    if (end == NULL || end == why->msg)
        FAIL("code %d with no NUL-terminated reason for \"%s\"", rc, text);
    for (const char *p = why->msg; p < end; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            FAIL("reason \"%s\" contains a control character", why->msg);
}

/* Fills out with a non-NUL pattern, so an output that is not terminated
 * shows. */
static void poison(char out[AGAH_TARGET_MAX], struct agah_why *why)
{
    memset(out, 0xa5, AGAH_TARGET_MAX);
    memset(why->msg, 0xa5, sizeof why->msg);
}

static size_t terminated(const char out[AGAH_TARGET_MAX])
{
    const char *end = memchr(out, '\0', AGAH_TARGET_MAX);
    if (end == NULL)
        FAIL("output is not NUL-terminated");
    return (size_t)(end - out);
}

/* ^\+[0-9]{2,15}$ */
static int is_e164(const char *s)
{
    size_t len = strlen(s);
    if (len < 3 || len > 16 || s[0] != '+')
        return 0;
    return strspn(s + 1, "0123456789") == len - 1;
}

static void fuzz_number(const char *text, const char *region)
{
    char out[AGAH_TARGET_MAX], again[AGAH_TARGET_MAX];
    struct agah_why why, w2;

    poison(out, &why);
    int rc = agah_number_normalize(text, region, out, &why);
    size_t len = terminated(out);
    check_why(rc, &why, text);
    if (rc != 0) {
        if (rc != AGAH_ENUMBER && rc != AGAH_EREGION && rc != AGAH_EINVAL)
            FAIL("number \"%s\": unexpected code %d (%s)", text, rc, why.msg);
        if (len != 0)
            FAIL("number \"%s\" refused but output \"%s\"", text, out);
        return;
    }
    if (!is_e164(out))
        FAIL("number \"%s\" gave \"%s\", not E.164", text, out);
    poison(again, &w2);
    rc = agah_number_normalize(out, NULL, again, &w2);
    terminated(again);
    if (rc != 0 || strcmp(again, out) != 0)
        FAIL("number \"%s\" gave \"%s\", which gives %d \"%s\" (%s)", text,
             out, rc, rc == 0 ? again : "", rc == 0 ? "" : w2.msg);
}

static void fuzz_account(const char *text, const char *region)
{
    char out[AGAH_TARGET_MAX], again[AGAH_TARGET_MAX];
    struct agah_why why, w2;

    poison(out, &why);
    int rc = agah_account_normalize(text, region, out, &why);
    size_t len = terminated(out);
    check_why(rc, &why, text);
    if (rc != 0) {
        if (rc != AGAH_EACCOUNT && rc != AGAH_EREGION && rc != AGAH_EINVAL)
            FAIL("account \"%s\": unexpected code %d (%s)", text, rc, why.msg);
        if (len != 0)
            FAIL("account \"%s\" refused but output \"%s\"", text, out);
        return;
    }
    /* "service:handle": a lower-case service, then a handle without
     * spaces or control characters. */
    const char *colon = strchr(out, ':');
    if (colon == NULL || colon == out || colon[1] == '\0')
        FAIL("account \"%s\" gave \"%s\", not service:handle", text, out);
    for (const char *p = out; p < colon; p++)
        if (*p < 'a' || *p > 'z')
            FAIL("account \"%s\" gave service \"%s\"", text, out);
    for (const char *p = colon + 1; *p != '\0'; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f)
            FAIL("account \"%s\" gave \"%s\" with a space or control", text,
                 out);
    size_t slen = (size_t)(colon - out);
    if ((slen == 8 && memcmp(out, "whatsapp", 8) == 0) ||
        (slen == 6 && memcmp(out, "signal", 6) == 0) ||
        (slen == 3 && memcmp(out, "sms", 3) == 0)) {
        if (!is_e164(colon + 1))
            FAIL("account \"%s\" gave \"%s\", not a number", text, out);
    }
    poison(again, &w2);
    rc = agah_account_normalize(out, NULL, again, &w2);
    terminated(again);
    if (rc != 0 || strcmp(again, out) != 0)
        FAIL("account \"%s\" gave \"%s\", which gives %d \"%s\" (%s)", text,
             out, rc, rc == 0 ? again : "", rc == 0 ? "" : w2.msg);
}

/* `check` must say exactly what the direct call says. */
static void fuzz_target(const char *text, const char *region)
{
    char out[AGAH_TARGET_MAX], direct[AGAH_TARGET_MAX];
    struct agah_why why, w2;
    int kind = 0;

    poison(out, &why);
    int rc = agah_target_normalize(text, region, out, &kind, &why);
    terminated(out);
    check_why(rc, &why, text);
    int want = strchr(text, ':') != NULL ? AGAH_TARGET_ACCOUNT
                                         : AGAH_TARGET_NUMBER;
    if (kind != want)
        FAIL("target \"%s\": kind %d, expected %d", text, kind, want);
    poison(direct, &w2);
    int rc2 = want == AGAH_TARGET_ACCOUNT
                  ? agah_account_normalize(text, region, direct, &w2)
                  : agah_number_normalize(text, region, direct, &w2);
    if (rc != rc2 || strcmp(out, direct) != 0)
        FAIL("target \"%s\": %d \"%s\" but direct call %d \"%s\"", text, rc,
             out, rc2, direct);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char reg[3];
    const char *region = NULL;
    size_t skip;

    if (size < 1)
        return 0;
    switch (data[0] & 3) {
    case 0:
        skip = 1;
        break;
    case 1:
        region = "";
        skip = 1;
        break;
    case 2:
        if (size < 2)
            return 0;
        region = regions[data[1] % (sizeof regions / sizeof regions[0])];
        skip = 2;
        break;
    default:
        if (size < 3)
            return 0;
        reg[0] = (char)data[1];
        reg[1] = (char)data[2];
        reg[2] = '\0';
        region = reg;
        skip = 3;
        break;
    }

    char *text = malloc(size - skip + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data + skip, size - skip);
    text[size - skip] = '\0';

    fuzz_number(text, region);
    fuzz_account(text, region);
    fuzz_target(text, region);
    free(text);
    return 0;
}

/* Normalisation of alert targets: phone numbers to E.164 and messaging
 * accounts to "service:handle", as specified in proto/PROTOCOL.md
 * ("Identifier normalisation"). The character rules live here; what a number
 * means (country codes, national prefixes, lengths) is libphonenumber's,
 * reached through proto/number.cc. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <agah/ident.h>
#include <agah/utf8.h>

/* Copy of the declarations in proto/number.cc; keep the two in sync. */
enum ident__pn_result {
    IDENT__PN_OK = 0,
    IDENT__PN_BAD_COUNTRY = 1,
    IDENT__PN_TOO_SHORT = 2,
    IDENT__PN_TOO_LONG = 3,
    IDENT__PN_BAD_LENGTH = 4,
    IDENT__PN_LOCAL_ONLY = 5,
    IDENT__PN_NOT_NUMBER = 6,
    IDENT__PN_NOMEM = 7,
    IDENT__PN_INTERNAL = 8,
};
int ident__pn_region(const char *region);
int ident__pn_e164(const char *digits, int international, const char *region,
                   char *out, size_t outlen, int *country_code);

/* Longer inputs are refused before any parsing: no real number, however
 * formatted, needs more, and libphonenumber never sees unbounded input. */
#define NUMBER_INPUT_MAX 128
/* An account input longer than this cannot normalise into AGAH_TARGET_MAX. */
#define ACCOUNT_INPUT_MAX 1024
/* How much of the user's input an error message quotes. */
#define QUOTE_MAX 40

/* Control characters, spaces and invisible formatting characters: none of
 * them may appear inside a handle, and an error message never echoes them
 * (a control character could drive the user's terminal). */
static bool is_space_or_invisible(uint32_t c)
{
    return c <= 0x20 || (c >= 0x7f && c <= 0xa0) || c == 0xad ||
           c == 0x1680 || c == 0x180e || (c >= 0x2000 && c <= 0x200f) ||
           (c >= 0x2028 && c <= 0x202f) || (c >= 0x205f && c <= 0x206f) ||
           c == 0x3000 || c == 0xfeff;
}

/* Writes a printable excerpt of the user's input to q for an error message:
 * at most QUOTE_MAX bytes, "?" for anything unprintable or invalid, "..."
 * when cut short. */
static void quote(const char *in, char q[QUOTE_MAX + 4])
{
    const unsigned char *s = (const unsigned char *)in;
    size_t len = strlen(in), i = 0, o = 0;

    while (i < len) {
        uint32_t c = 0;
        size_t n = agah_utf8_decode(s + i, len - i, &c);
        bool shown = n > 0 && (c == ' ' || !is_space_or_invisible(c));
        size_t w = shown ? n : 1;
        if (o + w > QUOTE_MAX) {
            memcpy(q + o, "...", 3);
            o += 3;
            break;
        }
        if (shown)
            memcpy(q + o, s + i, w);
        else
            q[o] = '?';
        o += w;
        i += n > 0 ? n : 1;
    }
    q[o] = '\0';
}

/* Maps the digits and plus signs of other scripts that a phone or a
 * copy-paste commonly produces to ASCII: Arabic-Indic and Extended
 * Arabic-Indic (Persian, Urdu) digits and full-width forms. Returns the
 * ASCII character, 0 for an ignorable separator or invisible mark, or -1 for
 * a character that cannot be part of a number. */
static int number_char(uint32_t c)
{
    if ((c >= '0' && c <= '9') || c == '+')
        return (int)c;
    if (c >= 0x660 && c <= 0x669)
        return (int)('0' + (c - 0x660));
    if (c >= 0x6f0 && c <= 0x6f9)
        return (int)('0' + (c - 0x6f0));
    if (c >= 0xff10 && c <= 0xff19)
        return (int)('0' + (c - 0xff10));
    if (c == 0xff0b)
        return '+';
    switch (c) {
    case ' ': case '-': case '.': case '(': case ')': case '/':
    case 0xa0:                      /* no-break space */
    case 0x2007: case 0x2009: case 0x202f: /* figure, thin, narrow spaces */
    case 0x2010: case 0x2011: case 0x2012: case 0x2013: case 0x2014:
    case 0x2015: case 0x2212:       /* hyphens, dashes, minus */
    case 0x3000:                    /* ideographic space */
    case 0xff08: case 0xff09: case 0xff0d: case 0xff0e: case 0xff0f:
        return 0;
    /* Direction marks and zero-width characters: copying a number out of a
     * right-to-left chat (Uyghur, Persian, Arabic) often brings them along. */
    case 0x200b: case 0x200c: case 0x200d: case 0x200e: case 0x200f:
    case 0x202a: case 0x202b: case 0x202c: case 0x202d: case 0x202e:
    case 0x2060: case 0x2066: case 0x2067: case 0x2068: case 0x2069:
    case 0xfeff:
        return 0;
    default:
        return -1;
    }
}

/* Checks a region code and writes it upper-cased to up[3]; "" when none. */
static int region_check(const char *region, char up[3], struct agah_why *why)
{
    up[0] = '\0';
    if (region == NULL || region[0] == '\0')
        return 0;
    size_t len = strlen(region);
    bool letters = len == 2;
    for (size_t i = 0; letters && i < 2; i++) {
        char c = region[i];
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        letters = c >= 'A' && c <= 'Z';
        up[i] = c;
    }
    if (!letters) {
        char q[QUOTE_MAX + 4];
        quote(region, q);
        up[0] = '\0';
        return agah_fail(why, AGAH_EINVAL,
                         "region '%s' is not a two-letter country code "
                         "such as GB, TR or HK", q);
    }
    up[2] = '\0';
    /* ISO 3166 reserves UK for the United Kingdom, whose code is GB; people
     * in the UK type UK, so read it as GB. */
    if (strcmp(up, "UK") == 0)
        memcpy(up, "GB", 3);
    if (ident__pn_region(up) == 0) {
        char q[QUOTE_MAX + 4];
        quote(region, q);
        up[0] = '\0';
        return agah_fail(why, AGAH_EINVAL,
                         "region '%s' is not a country code with phone "
                         "numbers", q);
    }
    return 0;
}

/* Reduces the input to an optional "+" (*plus) and ASCII digits (digits,
 * *nd of them), refusing anything that cannot be part of a phone number.
 * q is the input quoted for error messages. */
static int number_reduce(const char *input, size_t len, const char *q,
                         char digits[NUMBER_INPUT_MAX + 1], size_t *nd,
                         bool *plus, struct agah_why *why)
{
    const unsigned char *s = (const unsigned char *)input;
    for (size_t i = 0; i < len;) {
        uint32_t c;
        size_t n = agah_utf8_decode(s + i, len - i, &c);
        if (n == 0)
            return agah_fail(why, AGAH_ENUMBER,
                             "'%s' is not valid UTF-8 text", q);
        i += n;
        int a = number_char(c);
        if (a == 0)
            continue;
        if (a == '+') {
            if (*plus || *nd > 0)
                return agah_fail(why, AGAH_ENUMBER,
                                 "'%s' has a '+' that is not at the start",
                                 q);
            *plus = true;
        } else if (a > 0) {
            digits[(*nd)++] = (char)a;
        } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
            /* libphonenumber would read "1-800-FLOWERS" as keypad digits,
             * but a letter here is far more often a typo or an account
             * handle in the wrong place: refuse rather than guess. */
            return agah_fail(why, AGAH_ENUMBER,
                             "'%s' contains letters; a phone number is "
                             "written with digits only", q);
        } else if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) {
            return agah_fail(why, AGAH_ENUMBER,
                             "'%s' contains a control character", q);
        } else {
            return agah_fail(why, AGAH_ENUMBER,
                             "'%s' contains a character that cannot be part "
                             "of a phone number (only digits, '+', spaces, "
                             "'-', '.', '/' and brackets are)", q);
        }
    }
    digits[*nd] = '\0';
    return 0;
}

/* Refuses a number with no digits left (after its international prefix,
 * if any) or, without a country code, with no region to read it in; len is
 * the length of the raw input, nd the number of digits left. */
static int number_check_digits(size_t len, size_t nd, bool intl,
                               const char *reg, const char *q,
                               struct agah_why *why)
{
    if (nd == 0) {
        if (len == 0)
            return agah_fail(why, AGAH_ENUMBER, "the phone number is empty");
        if (intl)
            return agah_fail(why, AGAH_ENUMBER,
                             "'%s' has no digits after its international "
                             "prefix", q);
        return agah_fail(why, AGAH_ENUMBER,
                         "'%s' has no digits; it is not a phone number", q);
    }
    if (!intl && reg[0] == '\0')
        return agah_fail(why, AGAH_EREGION,
                         "'%s' has no country code: write it as +CC..., or "
                         "say which country it is from (--region CC or "
                         "AGAH_REGION)", q);
    return 0;
}

/* Turns libphonenumber's refusal (pn, for the nd digits of an international
 * or national number, country code cc) into the error the user reads. */
static int number_pn_fail(int pn, bool intl, size_t nd, int cc,
                          const char *q, struct agah_why *why)
{
    switch (pn) {
    case IDENT__PN_BAD_COUNTRY:
        /* No country's numbers, even Austria's shortest (+43 and four
         * digits), have fewer than 6 digits: for "+85 12" that is the real
         * problem, not the country code its first digits fail to make. */
        if (intl && nd < 6)
            return agah_fail(why, AGAH_ENUMBER,
                             "'%s' has too few digits to be a phone number",
                             q);
        return agah_fail(why, AGAH_ENUMBER,
                         "'%s' does not start with a country code that "
                         "exists", q);
    case IDENT__PN_TOO_SHORT:
        return agah_fail(why, AGAH_ENUMBER,
                         "'%s' has too few digits to be a phone number", q);
    case IDENT__PN_TOO_LONG:
        return agah_fail(why, AGAH_ENUMBER,
                         "'%s' has too many digits to be a phone number", q);
    case IDENT__PN_BAD_LENGTH:
        return agah_fail(why, AGAH_ENUMBER,
                         "'%s' has the wrong number of digits for a number "
                         "with country code +%d", q, cc);
    case IDENT__PN_LOCAL_ONLY:
        return agah_fail(why, AGAH_ENUMBER,
                         "'%s' has too few digits: it looks like a local "
                         "number without its area code", q);
    case IDENT__PN_NOT_NUMBER:
        return agah_fail(why, AGAH_ENUMBER, "'%s' is not a phone number", q);
    case IDENT__PN_NOMEM:
        return agah_fail(why, AGAH_ENOMEM,
                         "out of memory while reading '%s'", q);
    default:
        return agah_fail(why, AGAH_EINTERNAL,
                         "libphonenumber failed on '%s'", q);
    }
}

int agah_number_normalize(const char *input, const char *region,
                          char out[AGAH_TARGET_MAX], struct agah_why *why)
{
    char q[QUOTE_MAX + 4], reg[3];
    char digits[NUMBER_INPUT_MAX + 1];
    size_t nd = 0;
    bool plus = false;
    int r, cc = 0;

    if (out != NULL)
        out[0] = '\0';
    if (input == NULL || out == NULL)
        return agah_fail(why, AGAH_EINVAL, "no phone number given");
    if ((r = region_check(region, reg, why)) != 0)
        return r;
    quote(input, q);

    size_t len = strlen(input);
    if (len > NUMBER_INPUT_MAX)
        return agah_fail(why, AGAH_ENUMBER,
                         "'%s' is too long to be a phone number "
                         "(over %d characters)", q, NUMBER_INPUT_MAX);
    if ((r = number_reduce(input, len, q, digits, &nd, &plus, why)) != 0)
        return r;

    const char *d = digits;
    bool intl = plus;
    if (!plus && nd >= 2 && d[0] == '0' && d[1] == '0') {
        /* "00" is the international prefix of most of the world; read it
         * as "+" whatever the region (libphonenumber would only do so in
         * regions that dial 00 abroad). */
        d += 2;
        nd -= 2;
        intl = true;
    }
    if ((r = number_check_digits(len, nd, intl, reg, q, why)) != 0)
        return r;

    int pn = ident__pn_e164(d, intl, intl ? NULL : reg, out, AGAH_TARGET_MAX,
                            &cc);
    if (pn == IDENT__PN_OK)
        return 0;
    r = number_pn_fail(pn, intl, nd, cc, q, why);
    out[0] = '\0';
    return r;
}

/* ---- accounts ---------------------------------------------------------- */

enum handle_rule {
    RULE_NUMBER,   /* the handle is a phone number */
    RULE_TELEGRAM,
    RULE_WECHAT,
    RULE_EMAIL,
    RULE_URL,
    RULE_GENERIC,  /* "@" dropped, lowercased, no spaces */
};

/* The services agah knows, their canonical names and rules. An alias (x)
 * normalises to its canonical name so both spellings find the same alert. */
static const struct service {
    const char *name;
    const char *canonical;
    enum handle_rule rule;
} services[] = {
    {"whatsapp", "whatsapp", RULE_NUMBER},
    {"signal", "signal", RULE_NUMBER},
    {"sms", "sms", RULE_NUMBER},
    {"telegram", "telegram", RULE_TELEGRAM},
    {"wechat", "wechat", RULE_WECHAT},
    {"email", "email", RULE_EMAIL},
    {"url", "url", RULE_URL},
    {"twitter", "twitter", RULE_GENERIC},
    {"x", "twitter", RULE_GENERIC},
    {"facebook", "facebook", RULE_GENERIC},
    {"instagram", "instagram", RULE_GENERIC},
    {"tiktok", "tiktok", RULE_GENERIC},
    {"line", "line", RULE_GENERIC},
    {"viber", "viber", RULE_GENERIC},
    {"imo", "imo", RULE_GENERIC},
    {"qq", "qq", RULE_GENERIC},
    {"weibo", "weibo", RULE_GENERIC},
    {"douyin", "douyin", RULE_GENERIC},
};

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static bool is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_hex(char c)
{
    return (c >= 'a' && c <= 'f') || (c >= '0' && c <= '9');
}

/* Does h[0..len) start with the ASCII string p, ignoring case? */
static bool has_prefix_ci(const char *h, size_t len, const char *p)
{
    size_t n = strlen(p);
    if (len < n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (lower(h[i]) != p[i])
            return false;
    return true;
}

/* Checks that h[0..len) is valid UTF-8 with no space, control or invisible
 * character. */
static bool handle_chars_ok(const char *h, size_t len)
{
    const unsigned char *s = (const unsigned char *)h;
    for (size_t i = 0; i < len;) {
        uint32_t c;
        size_t n = agah_utf8_decode(s + i, len - i, &c);
        if (n == 0 || is_space_or_invisible(c))
            return false;
        i += n;
    }
    return true;
}

/* Writes "service:" and then the handle to out, or fails if it would not
 * fit in AGAH_TARGET_MAX. */
static int emit(char out[AGAH_TARGET_MAX], const char *service,
                const char *h, size_t hlen, const char *q,
                struct agah_why *why)
{
    size_t slen = strlen(service);
    if (slen + 1 + hlen + 1 > AGAH_TARGET_MAX)
        return agah_fail(why, AGAH_EACCOUNT,
                         "'%s' is too long for an account (at most %d "
                         "characters)", q, AGAH_TARGET_MAX - 1);
    memcpy(out, service, slen);
    out[slen] = ':';
    memcpy(out + slen + 1, h, hlen);
    out[slen + 1 + hlen] = '\0';
    return 0;
}

static int account_number(const struct service *sv, const char *h,
                          const char *region, char out[AGAH_TARGET_MAX],
                          struct agah_why *why)
{
    char num[AGAH_TARGET_MAX];
    struct agah_why inner = {{0}};
    int r = agah_number_normalize(h, region, num, &inner);
    if (r == AGAH_ENUMBER)
        r = AGAH_EACCOUNT;
    if (r != 0)
        return agah_fail(why, r, "%s accounts are phone numbers: %s",
                         sv->canonical, inner.msg);
    return emit(out, sv->canonical, num, strlen(num), "", why);
}

static int account_telegram(const char *h, size_t len, const char *q,
                            char out[AGAH_TARGET_MAX], struct agah_why *why)
{
    char buf[33];
    if (len > 0 && h[0] == '@')
        h++, len--;
    if (len < 5 || len > 32)
        return agah_fail(why, AGAH_EACCOUNT,
                         "'%s' is not a Telegram username: it must have 5 to "
                         "32 characters", q);
    for (size_t i = 0; i < len; i++) {
        buf[i] = lower(h[i]);
        if (!is_lower_alnum(buf[i]) && buf[i] != '_')
            return agah_fail(why, AGAH_EACCOUNT,
                             "'%s' is not a Telegram username: only letters "
                             "a-z, digits and '_' are allowed", q);
    }
    return emit(out, "telegram", buf, len, q, why);
}

static int account_wechat(const char *h, size_t len, const char *q,
                          char out[AGAH_TARGET_MAX], struct agah_why *why)
{
    char buf[21];
    if (len < 6 || len > 20)
        return agah_fail(why, AGAH_EACCOUNT,
                         "'%s' is not a WeChat ID: it must have 6 to 20 "
                         "characters", q);
    for (size_t i = 0; i < len; i++) {
        buf[i] = lower(h[i]);
        if (!is_lower_alnum(buf[i]) && buf[i] != '_' && buf[i] != '-')
            return agah_fail(why, AGAH_EACCOUNT,
                             "'%s' is not a WeChat ID: only letters a-z, "
                             "digits, '_' and '-' are allowed", q);
    }
    if (!(buf[0] >= 'a' && buf[0] <= 'z'))
        return agah_fail(why, AGAH_EACCOUNT,
                         "'%s' is not a WeChat ID: it must start with a "
                         "letter", q);
    return emit(out, "wechat", buf, len, q, why);
}

/* Checks a DNS name in h[0..len), lower-casing it into buf: labels of 1-63
 * letters, digits and '-', not starting or ending with '-', separated by
 * single dots; at least `min_labels` labels. */
static bool dns_name(const char *h, size_t len, char *buf, int min_labels)
{
    size_t label = 0;
    int labels = 1;
    if (len == 0 || len > 253)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = lower(h[i]);
        buf[i] = c;
        if (c == '.') {
            if (label == 0 || buf[i - 1] == '-')
                return false;
            label = 0;
            labels++;
        } else if (is_lower_alnum(c) || c == '-') {
            if (c == '-' && label == 0)
                return false;
            if (++label > 63)
                return false;
        } else {
            return false;
        }
    }
    return label > 0 && buf[len - 1] != '-' && labels >= min_labels;
}

static int account_email(const char *h, size_t len, const char *q,
                         char out[AGAH_TARGET_MAX], struct agah_why *why)
{
    char buf[AGAH_TARGET_MAX];
    const char *at = memchr(h, '@', len);
    if (at == NULL || memchr(at + 1, '@', len - (size_t)(at - h) - 1) != NULL)
        return agah_fail(why, AGAH_EACCOUNT,
                         "'%s' is not an email address: it needs exactly one "
                         "'@'", q);
    size_t local = (size_t)(at - h), dom = len - local - 1;
    if (local == 0 || local > 64)
        return agah_fail(why, AGAH_EACCOUNT,
                         "'%s' is not an email address: the part before '@' "
                         "must have 1 to 64 characters", q);
    if (!handle_chars_ok(h, local))
        return agah_fail(why, AGAH_EACCOUNT,
                         "'%s' is not an email address: it contains a space "
                         "or an invisible character", q);
    if (local + 1 + dom >= sizeof buf || !dns_name(at + 1, dom,
                                                   buf + local + 1, 2))
        return agah_fail(why, AGAH_EACCOUNT,
                         "'%s' is not an email address: the domain after '@' "
                         "must be a name like example.org", q);
    memcpy(buf, h, local);
    buf[local] = '@';
    return emit(out, "email", buf, len, q, why);
}

/* Finds where the host of the authority h[a..e) ends (*hostend) and whether
 * it is an IPv6 literal (*v6), refusing user information before the host. */
static int url_host_end(const char *h, size_t a, size_t e, const char *q,
                        size_t *hostend, bool *v6, struct agah_why *why)
{
    /* The authority is host[:port]. User information ("user@host") is
     * refused: it only ever serves to disguise the real host. */
    if (memchr(h + a, '@', e - a) != NULL)
        return agah_fail(why, AGAH_EACCOUNT,
                         "'%s' is not accepted: a web address with a user "
                         "name before '@' hides its real host", q);
    *hostend = e;
    *v6 = e > a && h[a] == '[';
    if (*v6) {
        const char *close = memchr(h + a, ']', e - a);
        if (close == NULL)
            return agah_fail(why, AGAH_EACCOUNT,
                             "'%s' is not a web address: its IPv6 host lacks "
                             "']'", q);
        *hostend = (size_t)(close - h) + 1;
    } else {
        const char *colon = memchr(h + a, ':', e - a);
        if (colon != NULL)
            *hostend = (size_t)(colon - h);
    }
    return 0;
}

/* Lower-cases h[0..hostend) into buf and says whether the host h[a..hostend)
 * is a DNS name or, when v6, looks like an IPv6 literal. */
static bool url_host_ok(const char *h, size_t a, size_t hostend, bool v6,
                        char *buf)
{
    for (size_t i = 0; i < hostend; i++)
        buf[i] = lower(h[i]);
    if (!v6)
        return dns_name(h + a, hostend - a, buf + a, 1);
    /* "[" hex digits, ':' and '.' "]": enough to tell an address from a
     * typo without parsing it. */
    bool host_ok = hostend - a > 2;
    for (size_t i = a + 1; host_ok && i < hostend - 1; i++)
        host_ok = is_hex(buf[i]) || buf[i] == ':' || buf[i] == '.';
    return host_ok;
}

/* Checks the port h[hostend..e), if any, and copies it to buf as written. */
static int url_port(const char *h, size_t hostend, size_t e, const char *q,
                    char *buf, struct agah_why *why)
{
    if (hostend == e)
        return 0;
    /* ':' and 1 to 5 digits. */
    if (h[hostend] != ':' || e - hostend < 2 || e - hostend > 6)
        return agah_fail(why, AGAH_EACCOUNT,
                         "'%s' is not a web address: bad port after the "
                         "host", q);
    for (size_t i = hostend + 1; i < e; i++)
        if (h[i] < '0' || h[i] > '9')
            return agah_fail(why, AGAH_EACCOUNT,
                             "'%s' is not a web address: bad port after "
                             "the host", q);
    memcpy(buf + hostend, h + hostend, e - hostend);
    return 0;
}

static int account_url(const char *h, size_t len, const char *q,
                       char out[AGAH_TARGET_MAX], struct agah_why *why)
{
    char buf[AGAH_TARGET_MAX];
    size_t scheme, hostend = 0;
    bool v6 = false;
    int r;

    if (has_prefix_ci(h, len, "http://"))
        scheme = 4;
    else if (has_prefix_ci(h, len, "https://"))
        scheme = 5;
    else
        return agah_fail(why, AGAH_EACCOUNT,
                         "'%s' is not a web address: it must start with "
                         "http:// or https://", q);
    size_t a = scheme + 3, e = a;
    while (e < len && h[e] != '/' && h[e] != '?' && h[e] != '#')
        e++;
    if ((r = url_host_end(h, a, e, q, &hostend, &v6, why)) != 0)
        return r;
    if (len + 2 > sizeof buf)
        return agah_fail(why, AGAH_EACCOUNT,
                         "'%s' is too long for an account (at most %d "
                         "characters)", q, AGAH_TARGET_MAX - 1);
    if (!url_host_ok(h, a, hostend, v6, buf))
        return agah_fail(why, AGAH_EACCOUNT,
                         "'%s' is not a web address: its host must be a name "
                         "like example.org or an IP address", q);
    if ((r = url_port(h, hostend, e, q, buf, why)) != 0)
        return r;
    if (!handle_chars_ok(h + e, len - e))
        return agah_fail(why, AGAH_EACCOUNT,
                         "'%s' is not a web address: it contains a space or "
                         "an invisible character", q);
    /* The path and the rest are kept as written, except that an empty path
     * is "/": "https://example.org" and "https://example.org/" are one. */
    size_t n = e;
    if (e == len || h[e] != '/')
        buf[n++] = '/';
    memcpy(buf + n, h + e, len - e);
    n += len - e;
    return emit(out, "url", buf, n, q, why);
}

static int account_generic(const struct service *sv, const char *h,
                           size_t len, const char *q,
                           char out[AGAH_TARGET_MAX], struct agah_why *why)
{
    char buf[AGAH_TARGET_MAX];
    if (len > 0 && h[0] == '@')
        h++, len--;
    if (len == 0)
        return agah_fail(why, AGAH_EACCOUNT,
                         "'%s' has an empty %s handle", q, sv->canonical);
    /* Only one "@" is dropped; refusing a second keeps normalisation
     * idempotent ("@@a" would otherwise become "@a", then "a"). */
    if (h[0] == '@')
        return agah_fail(why, AGAH_EACCOUNT,
                         "'%s' is not a valid %s handle: it starts with two "
                         "'@'", q, sv->canonical);
    if (!handle_chars_ok(h, len))
        return agah_fail(why, AGAH_EACCOUNT,
                         "'%s' is not a valid %s handle: it contains a space or an "
                         "invisible character", q, sv->canonical);
    if (len >= sizeof buf)
        return agah_fail(why, AGAH_EACCOUNT,
                         "'%s' is too long for an account (at most %d "
                         "characters)", q, AGAH_TARGET_MAX - 1);
    for (size_t i = 0; i < len; i++)
        buf[i] = lower(h[i]);
    return emit(out, sv->canonical, buf, len, q, why);
}

/* Finds the service named in input[0..colon), spaces around it trimmed and
 * case ignored, and sets *sv, or fails naming the services agah knows. */
static int account_service(const char *input, const char *colon,
                           const char *q, const struct service **sv,
                           struct agah_why *why)
{
    char name[16];
    const char *sb = input, *se = colon;

    *sv = NULL;
    while (sb < se && *sb == ' ')
        sb++;
    while (se > sb && se[-1] == ' ')
        se--;
    size_t slen = (size_t)(se - sb);
    if (slen == 0)
        return agah_fail(why, AGAH_EACCOUNT,
                         "'%s' has no service before ':'", q);
    if (slen < sizeof name) {
        for (size_t i = 0; i < slen; i++)
            name[i] = lower(sb[i]);
        name[slen] = '\0';
        for (size_t i = 0; i < sizeof services / sizeof services[0]; i++)
            if (strcmp(name, services[i].name) == 0)
                *sv = &services[i];
    }
    if (*sv == NULL) {
        char qs[QUOTE_MAX + 4];
        /* Quote only the service name, so the list of services fits. */
        char tmp[QUOTE_MAX + 1];
        size_t t = slen < QUOTE_MAX ? slen : QUOTE_MAX;
        memcpy(tmp, sb, t);
        tmp[t] = '\0';
        quote(tmp, qs);
        return agah_fail(why, AGAH_EACCOUNT,
                         "unknown service '%s'; known: whatsapp, signal, sms, "
                         "telegram, wechat, email, url, twitter (x), "
                         "facebook, instagram, tiktok, line, viber, imo, qq, "
                         "weibo, douyin", qs);
    }
    return 0;
}

/* Normalises the handle h[0..hlen) by the rule of its service. */
static int account_handle(const struct service *sv, const char *h,
                          size_t hlen, const char *region, const char *q,
                          char out[AGAH_TARGET_MAX], struct agah_why *why)
{
    switch (sv->rule) {
    case RULE_NUMBER: {
        char num[NUMBER_INPUT_MAX + 2];
        if (hlen > NUMBER_INPUT_MAX)
            return agah_fail(why, AGAH_EACCOUNT,
                             "'%s' is too long: a %s account is a phone "
                             "number", q, sv->canonical);
        memcpy(num, h, hlen);
        num[hlen] = '\0';
        return account_number(sv, num, region, out, why);
    }
    case RULE_TELEGRAM:
        return account_telegram(h, hlen, q, out, why);
    case RULE_WECHAT:
        return account_wechat(h, hlen, q, out, why);
    case RULE_EMAIL:
        return account_email(h, hlen, q, out, why);
    case RULE_URL:
        return account_url(h, hlen, q, out, why);
    default:
        return account_generic(sv, h, hlen, q, out, why);
    }
}

int agah_account_normalize(const char *input, const char *region,
                           char out[AGAH_TARGET_MAX], struct agah_why *why)
{
    char q[QUOTE_MAX + 4], reg[3];
    const struct service *sv = NULL;
    int r;

    if (out != NULL)
        out[0] = '\0';
    if (input == NULL || out == NULL)
        return agah_fail(why, AGAH_EINVAL, "no account given");
    /* A bad region is the caller's mistake whatever the service, so it is
     * reported even where the region would not be used. */
    if ((r = region_check(region, reg, why)) != 0)
        return r;
    quote(input, q);
    size_t len = strlen(input);
    if (len > ACCOUNT_INPUT_MAX)
        return agah_fail(why, AGAH_EACCOUNT,
                         "'%s' is too long for an account (at most %d "
                         "characters)", q, AGAH_TARGET_MAX - 1);
    const char *colon = strchr(input, ':');
    if (colon == NULL)
        return agah_fail(why, AGAH_EACCOUNT,
                         "'%s' is not an account: write it as service:handle, "
                         "e.g. telegram:@name", q);
    if ((r = account_service(input, colon, q, &sv, why)) != 0)
        return r;

    /* The handle, with spaces around it trimmed. */
    const char *h = colon + 1, *he = input + len;
    while (h < he && *h == ' ')
        h++;
    while (he > h && he[-1] == ' ')
        he--;
    size_t hlen = (size_t)(he - h);
    if (hlen == 0)
        return agah_fail(why, AGAH_EACCOUNT,
                         "'%s' has an empty %s handle", q, sv->canonical);

    r = account_handle(sv, h, hlen, region, q, out, why);
    if (r != 0)
        out[0] = '\0';
    return r;
}

int agah_target_normalize(const char *input, const char *region,
                          char out[AGAH_TARGET_MAX], int *kind,
                          struct agah_why *why)
{
    if (out != NULL)
        out[0] = '\0';
    if (input == NULL || out == NULL || kind == NULL)
        return agah_fail(why, AGAH_EINVAL, "nothing to check given");
    if (strchr(input, ':') != NULL) {
        *kind = AGAH_TARGET_ACCOUNT;
        return agah_account_normalize(input, region, out, why);
    }
    *kind = AGAH_TARGET_NUMBER;
    return agah_number_normalize(input, region, out, why);
}

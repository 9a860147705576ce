/* Unit test of identifier normalisation (proto/ident.c, proto/number.cc):
 * phone numbers written every way people write them, accounts of every
 * service rule, and the inputs that must be refused, each with its exact
 * expected output or error code. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <agah/ident.h>

static int passed, failed;

/* Stays on in every build type; says where and on what input it failed. */
#define CHECK(cond, input, ...)                                              \
    do {                                                                     \
        if (cond) {                                                          \
            passed++;                                                        \
        } else {                                                             \
            failed++;                                                        \
            fprintf(stderr, "%s:%d: CHECK(%s) failed for input \"%s\": ",    \
                    __FILE__, __LINE__, #cond, (input));                     \
            fprintf(stderr, __VA_ARGS__);                                    \
            fputc('\n', stderr);                                             \
        }                                                                    \
    } while (0)

struct tcase {
    int line;
    const char *input;
    const char *region;
    int rc;
    const char *out;  /* expected output when rc == 0 */
};

#define OK(in, reg, out) {__LINE__, (in), (reg), 0, (out)}
#define ERR(in, reg, rc) {__LINE__, (in), (reg), (rc), ""}

static const struct tcase numbers[] = {
    /* The three spellings CONTRACT.md fixes, and more of Hong Kong. */
    OK("+852 5123 4567", NULL, "+85251234567"),
    OK("00852-5123-4567", NULL, "+85251234567"),
    OK("(+852) 5123.4567", NULL, "+85251234567"),
    OK("+85251234567", NULL, "+85251234567"),
    OK("+852-5123-4567", "", "+85251234567"),
    OK("00852 5123 4567", "GB", "+85251234567"),
    OK("+852 (5123) 4567", NULL, "+85251234567"),
    OK("+852/5123/4567", NULL, "+85251234567"),
    OK("   +852 5123 4567   ", NULL, "+85251234567"),
    OK("5123 4567", "HK", "+85251234567"),
    OK("5123 4567", "hk", "+85251234567"),
    OK("852 5123 4567", "HK", "+85251234567"),
    /* Possible but not valid (no HK number starts with 1): kept. */
    OK("+852 1234 5678", NULL, "+85212345678"),
    /* United Kingdom. */
    OK("07911 123456", "GB", "+447911123456"),
    OK("+44 7911 123456", NULL, "+447911123456"),
    OK("+44 (0)7911 123456", NULL, "+447911123456"),
    OK("0044 7911 123456", NULL, "+447911123456"),
    OK("020 7946 0000", "gb", "+442079460000"),
    OK("07911 123456", "UK", "+447911123456"),
    OK("07911 123456", "uk", "+447911123456"),
    OK("+44 20 7946 0958", "US", "+442079460958"),
    OK("020 794 6000", "GB", "+44207946000"), /* possible, invalid: kept */
    /* United States and Canada. */
    OK("+1 (202) 555-0123", NULL, "+12025550123"),
    OK("(202) 555-0123", "US", "+12025550123"),
    OK("202.555.0123", "us", "+12025550123"),
    OK("1-202-555-0123", "US", "+12025550123"),
    OK("011 852 5123 4567", "US", "+85251234567"),
    OK("001 202 555 0123", NULL, "+12025550123"),
    OK("+1 555 555 5555", NULL, "+15555555555"), /* invalid area: kept */
    OK("613-555-0123", "CA", "+16135550123"),
    OK("+1 613 555 0123", NULL, "+16135550123"),
    /* Turkey. */
    OK("0532 123 45 67", "TR", "+905321234567"),
    OK("+90 532 123 45 67", NULL, "+905321234567"),
    OK("0090 (532) 123-45-67", NULL, "+905321234567"),
    /* Germany, France, Italy (whose leading zero stays). */
    OK("030 123456", "DE", "+4930123456"),
    OK("+49 30 123456", NULL, "+4930123456"),
    OK("0151 12345678", "DE", "+4915112345678"),
    OK("06 12 34 56 78", "FR", "+33612345678"),
    OK("+33 6 12 34 56 78", NULL, "+33612345678"),
    OK("+33 (0)6 12 34 56 78", NULL, "+33612345678"),
    OK("+39 06 1234 5678", NULL, "+390612345678"),
    OK("06 1234 5678", "IT", "+390612345678"),
    /* China, Xinjiang included, and Kazakhstan's "8" trunk prefix. */
    OK("138 1234 5678", "CN", "+8613812345678"),
    OK("+86 138 1234 5678", NULL, "+8613812345678"),
    OK("0755 1234 5678", "CN", "+8675512345678"),
    OK("0991 123 4567", "CN", "+869911234567"),
    OK("+86 123 4567 8901", NULL, "+8612345678901"), /* invalid: kept */
    OK("8 701 123 4567", "KZ", "+77011234567"),
    OK("+7 701 123 4567", NULL, "+77011234567"),
    OK("8 727 212 3456", "KZ", "+77272123456"),
    /* Australia, Iran, a non-geographic number. */
    OK("0412 345 678", "AU", "+61412345678"),
    OK("+61 4 1234 5678", NULL, "+61412345678"),
    OK("+98 912 345 6789", NULL, "+989123456789"),
    OK("+800 1234 5678", NULL, "+80012345678"),
    /* Other scripts' digits, full-width forms, typographic separators and
     * the direction marks a right-to-left chat adds when copying. */
    OK("+\u06f9\u06f8 \u06f9\u06f1\u06f2 \u06f3\u06f4\u06f5 \u06f6\u06f7"
       "\u06f8\u06f9", NULL, "+989123456789"),
    OK("+\u0668\u0665\u0662 \u0665\u0661\u0662\u0663 \u0664\u0665\u0666"
       "\u0667", NULL, "+85251234567"),
    OK("\uff0b\uff18\uff15\uff12 \uff15\uff11\uff12\uff13 \uff14\uff15"
       "\uff16\uff17", NULL, "+85251234567"),
    OK("\uff08+852\uff09 5123 4567", NULL, "+85251234567"),
    OK("\u200e+852 5123 4567\u200f", NULL, "+85251234567"),
    OK("\u2066+852\u00a05123\u202f4567\u2069", NULL, "+85251234567"),
    OK("+852\u20135123\u20144567", NULL, "+85251234567"),
    /* National prefixes written after the country code are dropped until
     * the result is stable, so that it normalises to itself. */
    OK("+20 00 1587 85580", NULL, "+20158785580"),
    OK("+200158785580", NULL, "+20158785580"),
    OK("+61 0 412 345 678", NULL, "+61412345678"),
    /* E.164's limit of 15 digits, exactly: Germany allows national
     * numbers long enough to pass it. */
    OK("+49 1234567890123", NULL, "+491234567890123"),
    ERR("+49 12345678901234", NULL, AGAH_ENUMBER),
    ERR("+49 1234567890123456", NULL, AGAH_ENUMBER),
    ERR("+1234567890123456789012", NULL, AGAH_ENUMBER),
    ERR("+852 5123 4567 8901 2345", NULL, AGAH_ENUMBER),
    ERR("1234567890123456789012", "GB", AGAH_ENUMBER),
    /* Too few digits. */
    ERR("+85 12", NULL, AGAH_ENUMBER),
    ERR("+1 555 1234", NULL, AGAH_ENUMBER), /* local: no area code */
    ERR("+33 12", NULL, AGAH_ENUMBER),
    ERR("+852 12", NULL, AGAH_ENUMBER),
    ERR("911", "US", AGAH_ENUMBER),
    ERR("12", "GB", AGAH_ENUMBER),
    ERR("0", "GB", AGAH_ENUMBER),
    ERR("+\u0668", NULL, AGAH_ENUMBER),
    ERR("+1", NULL, AGAH_ENUMBER),
    /* No such country code. */
    ERR("+999 1234 5678", NULL, AGAH_ENUMBER),
    ERR("+0 123 4567 89", NULL, AGAH_ENUMBER),
    ERR("0000 852 5123 4567", NULL, AGAH_ENUMBER),
    /* Letters, including the vanity numbers libphonenumber would accept. */
    ERR("1-800-FLOWERS", "US", AGAH_ENUMBER),
    ERR("+852 5123 456x", NULL, AGAH_ENUMBER),
    ERR("+852 5123 4567 ext. 12", NULL, AGAH_ENUMBER),
    ERR("ab", "GB", AGAH_ENUMBER),
    ERR("tel+85251234567", NULL, AGAH_ENUMBER),
    /* Nothing, or nothing but punctuation and prefixes. */
    ERR("", NULL, AGAH_ENUMBER),
    ERR("", "GB", AGAH_ENUMBER),
    ERR("   ", "GB", AGAH_ENUMBER),
    ERR("+", NULL, AGAH_ENUMBER),
    ERR("00", NULL, AGAH_ENUMBER),
    ERR("00", "GB", AGAH_ENUMBER),
    ERR("-- ()", NULL, AGAH_ENUMBER),
    ERR("+()-", NULL, AGAH_ENUMBER),
    /* A misplaced or doubled "+", characters no number has. */
    ERR("++852 5123 4567", NULL, AGAH_ENUMBER),
    ERR("852+51234567", "HK", AGAH_ENUMBER),
    ERR("+852 5123 4567+", NULL, AGAH_ENUMBER),
    ERR("+852 5123 4567#", NULL, AGAH_ENUMBER),
    ERR("*#06#", "GB", AGAH_ENUMBER),
    ERR("+852,5123,4567", NULL, AGAH_ENUMBER),
    ERR("+852_5123_4567", NULL, AGAH_ENUMBER),
    ERR("+852 \u0661\u0662\u0663\u0664 \u0434", NULL, AGAH_ENUMBER),
    ERR("+852\t5123 4567", NULL, AGAH_ENUMBER),
    ERR("+852 5123 4567\n", NULL, AGAH_ENUMBER),
    ERR("+852 \x1b[31m5123", NULL, AGAH_ENUMBER),
    ERR("+852 5123 \xff\xfe", NULL, AGAH_ENUMBER),
    ERR("+852 \xc0\xb1 5123", NULL, AGAH_ENUMBER),       /* overlong "1" */
    ERR("+852 \xed\xa0\x80 5123", NULL, AGAH_ENUMBER),   /* surrogate */
    ERR("+852 5123 4567 \xe2\x80", NULL, AGAH_ENUMBER),  /* truncated */
    /* A national number needs a region; a region must be a real one. */
    ERR("5123 4567", NULL, AGAH_EREGION),
    ERR("07911 123456", "", AGAH_EREGION),
    ERR("(202) 555-0123", NULL, AGAH_EREGION),
    ERR("07911 123456", "XX", AGAH_EINVAL),
    ERR("07911 123456", "ZZ", AGAH_EINVAL),
    ERR("07911 123456", "GBR", AGAH_EINVAL),
    ERR("07911 123456", "G1", AGAH_EINVAL),
    ERR("07911 123456", "G", AGAH_EINVAL),
    ERR("+852 5123 4567", "XX", AGAH_EINVAL),
    ERR("+852 5123 4567", "001", AGAH_EINVAL),
};

static const struct tcase accounts[] = {
    /* whatsapp, signal, sms: a phone number. */
    OK("whatsapp:+852 5123 4567", NULL, "whatsapp:+85251234567"),
    OK("WhatsApp:00852-5123-4567", NULL, "whatsapp:+85251234567"),
    OK("whatsapp: +44 7911 123456 ", NULL, "whatsapp:+447911123456"),
    OK("whatsapp:07911 123456", "GB", "whatsapp:+447911123456"),
    OK("signal:+1 202 555 0123", NULL, "signal:+12025550123"),
    OK("SMS:+90 532 123 45 67", NULL, "sms:+905321234567"),
    OK("sms:0532 123 45 67", "tr", "sms:+905321234567"),
    ERR("whatsapp:07911 123456", NULL, AGAH_EREGION),
    ERR("whatsapp:+85 12", NULL, AGAH_EACCOUNT),
    ERR("whatsapp:abcdef", NULL, AGAH_EACCOUNT),
    ERR("signal:@someone", NULL, AGAH_EACCOUNT),
    ERR("whatsapp:", NULL, AGAH_EACCOUNT),
    ERR("sms:   ", "GB", AGAH_EACCOUNT),
    /* telegram: "@" dropped, lowercased, 5-32 of [a-z0-9_]. */
    OK("telegram:@Foo_Bar", NULL, "telegram:foo_bar"),
    OK("telegram:foo_bar", NULL, "telegram:foo_bar"),
    OK("TELEGRAM:FooBar123", NULL, "telegram:foobar123"),
    OK("  telegram  :  @FooBar  ", NULL, "telegram:foobar"),
    OK("telegram:abcde", NULL, "telegram:abcde"),
    OK("telegram:@abcdefghijklmnopqrstuvwxyz012345", NULL,
       "telegram:abcdefghijklmnopqrstuvwxyz012345"),
    ERR("telegram:abcdefghijklmnopqrstuvwxyz0123456", NULL, AGAH_EACCOUNT),
    ERR("telegram:@abcd", NULL, AGAH_EACCOUNT),
    ERR("telegram:foo-bar", NULL, AGAH_EACCOUNT),
    ERR("telegram:foo bar", NULL, AGAH_EACCOUNT),
    ERR("telegram:@", NULL, AGAH_EACCOUNT),
    ERR("telegram:@@foobar", NULL, AGAH_EACCOUNT),
    ERR("telegram:f\u00f6\u00f6bar", NULL, AGAH_EACCOUNT),
    /* wechat: lowercased, 6-20 of [a-z0-9_-], starting with a letter. */
    OK("wechat:Wxid_abc1", NULL, "wechat:wxid_abc1"),
    OK("WeChat:abc-def", NULL, "wechat:abc-def"),
    OK("wechat:abcdefghijklmnopqrst", NULL, "wechat:abcdefghijklmnopqrst"),
    ERR("wechat:abcdefghijklmnopqrstu", NULL, AGAH_EACCOUNT),
    ERR("wechat:1abcdef", NULL, AGAH_EACCOUNT),
    ERR("wechat:abcde", NULL, AGAH_EACCOUNT),
    ERR("wechat:abc.def", NULL, AGAH_EACCOUNT),
    ERR("wechat:@abcdef", NULL, AGAH_EACCOUNT),
    /* email: local part kept as written, domain lowercased. */
    OK("email:John.Doe@EXAMPLE.Org", NULL, "email:John.Doe@example.org"),
    OK("EMAIL:a@b.co", NULL, "email:a@b.co"),
    OK("email:\u00dcser+tag@Mail.Example.ORG", NULL,
       "email:\u00dcser+tag@mail.example.org"),
    OK("email: x_y@xn--bcher-kva.de ", NULL, "email:x_y@xn--bcher-kva.de"),
    ERR("email:a@b@c.org", NULL, AGAH_EACCOUNT),
    ERR("email:abc", NULL, AGAH_EACCOUNT),
    ERR("email:@b.org", NULL, AGAH_EACCOUNT),
    ERR("email:a@", NULL, AGAH_EACCOUNT),
    ERR("email:a@localhost", NULL, AGAH_EACCOUNT),
    ERR("email:a b@c.org", NULL, AGAH_EACCOUNT),
    ERR("email:a@-b.org", NULL, AGAH_EACCOUNT),
    ERR("email:a@b-.org", NULL, AGAH_EACCOUNT),
    ERR("email:a@b..org", NULL, AGAH_EACCOUNT),
    ERR("email:a@b.org.", NULL, AGAH_EACCOUNT),
    ERR("email:a@b\u00fccher.de", NULL, AGAH_EACCOUNT),
    ERR("email:a\u200b@b.org", NULL, AGAH_EACCOUNT),
    /* url: http(s) only, scheme and host lowercased, empty path is "/". */
    OK("url:HTTPS://Example.COM", NULL, "url:https://example.com/"),
    OK("url:https://example.com/", NULL, "url:https://example.com/"),
    OK("url:http://Example.com/Path?Q=A#F", NULL,
       "url:http://example.com/Path?Q=A#F"),
    OK("url:https://EXAMPLE.com:8443/A", NULL,
       "url:https://example.com:8443/A"),
    OK("url:https://example.com?x=1", NULL, "url:https://example.com/?x=1"),
    OK("url:https://[2001:DB8::1]:80/x", NULL,
       "url:https://[2001:db8::1]:80/x"),
    OK("URL:https://t.me/JoinChat", NULL, "url:https://t.me/JoinChat"),
    OK("url:https://example.com/\u0626\u06c7", NULL,
       "url:https://example.com/\u0626\u06c7"),
    ERR("url:ftp://x.org", NULL, AGAH_EACCOUNT),
    ERR("url:example.com", NULL, AGAH_EACCOUNT),
    ERR("url:https://", NULL, AGAH_EACCOUNT),
    ERR("url:https:///path", NULL, AGAH_EACCOUNT),
    ERR("url:https://user@evil.org/", NULL, AGAH_EACCOUNT),
    ERR("url:https://exa mple.com", NULL, AGAH_EACCOUNT),
    ERR("url:https://example.com/a b", NULL, AGAH_EACCOUNT),
    ERR("url:https://example.com:/", NULL, AGAH_EACCOUNT),
    ERR("url:https://example.com:123456/", NULL, AGAH_EACCOUNT),
    ERR("url:https://example.com:8x/", NULL, AGAH_EACCOUNT),
    ERR("url:https://[zz]/", NULL, AGAH_EACCOUNT),
    ERR("url:https://[2001:db8::1/", NULL, AGAH_EACCOUNT),
    ERR("url:https://ex_ample.com/", NULL, AGAH_EACCOUNT),
    /* The others: "@" dropped, lowercased, no spaces; x is twitter. */
    OK("x:@Jack", NULL, "twitter:jack"),
    OK("Twitter:Jack", NULL, "twitter:jack"),
    OK("facebook:Some.Page", NULL, "facebook:some.page"),
    OK("instagram:@user.name", NULL, "instagram:user.name"),
    OK("tiktok:@User_1", NULL, "tiktok:user_1"),
    OK("line:MyID", NULL, "line:myid"),
    OK("viber:+85251234567", NULL, "viber:+85251234567"),
    OK("imo:Name", NULL, "imo:name"),
    OK("qq:123456789", NULL, "qq:123456789"),
    OK("weibo:\u7528\u6237ABC", NULL, "weibo:\u7528\u6237abc"),
    OK("douyin:@Dy123", NULL, "douyin:dy123"),
    ERR("instagram:foo bar", NULL, AGAH_EACCOUNT),
    ERR("facebook:@", NULL, AGAH_EACCOUNT),
    ERR("twitter:@@jack", NULL, AGAH_EACCOUNT),
    ERR("twitter:a\u200bb", NULL, AGAH_EACCOUNT),
    ERR("tiktok:a\u00a0b", NULL, AGAH_EACCOUNT),
    ERR("qq:\xff", NULL, AGAH_EACCOUNT),
    ERR("line:a\tb", NULL, AGAH_EACCOUNT),
    /* Not service:handle at all, or an unknown service. */
    ERR("foo:bar", NULL, AGAH_EACCOUNT),
    ERR("tel:+85251234567", NULL, AGAH_EACCOUNT),
    ERR(":bar", NULL, AGAH_EACCOUNT),
    ERR("   :bar", NULL, AGAH_EACCOUNT),
    ERR("whatsapp", NULL, AGAH_EACCOUNT),
    ERR("", NULL, AGAH_EACCOUNT),
    ERR("telegram:", NULL, AGAH_EACCOUNT),
    ERR("averyveryverylongservicename:bar", NULL, AGAH_EACCOUNT),
    /* A bad region is reported whatever the service. */
    ERR("telegram:@foobar", "XX", AGAH_EINVAL),
    ERR("whatsapp:+852 5123 4567", "Z9", AGAH_EINVAL),
};

/* Nothing a user sees may contain control characters. */
static int printable(const char *s)
{
    for (; *s != '\0'; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 0;
    return 1;
}

typedef int (*normfn)(const char *, const char *, char *, struct agah_why *);

static void run_table(const char *what, normfn fn, const struct tcase *t,
                      size_t n, int *count)
{
    for (size_t i = 0; i < n; i++, (*count)++) {
        char out[AGAH_TARGET_MAX];
        struct agah_why why = {{0}};
        memset(out, 'X', sizeof out);
        int rc = fn(t[i].input, t[i].region, out, &why);
        if (rc != t[i].rc || (rc == 0 && strcmp(out, t[i].out) != 0)) {
            failed++;
            fprintf(stderr,
                    "%s:%d: %s(\"%s\", %s%s%s): expected %d \"%s\", got %d "
                    "\"%s\" (%s)\n",
                    __FILE__, t[i].line, what, t[i].input,
                    t[i].region ? "\"" : "",
                    t[i].region ? t[i].region : "NULL",
                    t[i].region ? "\"" : "", t[i].rc, t[i].out, rc,
                    rc == 0 ? out : "", why.msg);
            continue;
        }
        passed++;
        if (rc != 0) {
            /* A refusal leaves an empty output and explains itself. */
            CHECK(out[0] == '\0', t[i].input, "output \"%.20s\"", out);
            CHECK(why.msg[0] != '\0' && printable(why.msg), t[i].input,
                  "why \"%s\"", why.msg);
        } else {
            /* Normalising a normalised target changes nothing, with or
             * without a region: stored targets are found again. */
            char again[AGAH_TARGET_MAX];
            struct agah_why w2 = {{0}};
            rc = fn(out, NULL, again, &w2);
            CHECK(rc == 0 && strcmp(again, out) == 0, out,
                  "second pass gave %d \"%s\" (%s)", rc, again, w2.msg);
        }
    }
}

/* E.164 outputs: "+" and 2 to 15 digits. */
static void check_e164_shape(void)
{
    for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++) {
        if (numbers[i].rc != 0)
            continue;
        const char *o = numbers[i].out;
        size_t len = strlen(o), digits = strspn(o + 1, "0123456789");
        CHECK(o[0] == '+' && digits == len - 1 && digits >= 2 && digits <= 15,
              numbers[i].input, "table output \"%s\" is not E.164", o);
    }
}

static void check_messages(void)
{
    char out[AGAH_TARGET_MAX];
    struct agah_why why = {{0}};

    CHECK(agah_number_normalize("+85 12", NULL, out, &why) == AGAH_ENUMBER &&
              strcmp(why.msg, "'+85 12' has too few digits to be a phone "
                              "number") == 0,
          "+85 12", "why \"%s\"", why.msg);
    CHECK(agah_number_normalize("+1 234567890123456", NULL, out, &why) ==
                  AGAH_ENUMBER && strstr(why.msg, "too many digits") != NULL,
          "+1 234567890123456", "why \"%s\"", why.msg);
    CHECK(agah_number_normalize("1-800-FLOWERS", "US", out, &why) ==
                  AGAH_ENUMBER && strstr(why.msg, "letters") != NULL,
          "1-800-FLOWERS", "why \"%s\"", why.msg);
    CHECK(agah_number_normalize("5123 4567", NULL, out, &why) ==
                  AGAH_EREGION && strstr(why.msg, "--region") != NULL,
          "5123 4567", "why \"%s\"", why.msg);
    CHECK(agah_number_normalize("5123 4567", "QQ", out, &why) ==
                  AGAH_EINVAL && strstr(why.msg, "'QQ'") != NULL,
          "5123 4567", "why \"%s\"", why.msg);
    CHECK(agah_number_normalize("+999 1234 5678", NULL, out, &why) ==
                  AGAH_ENUMBER && strstr(why.msg, "country code") != NULL,
          "+999 1234 5678", "why \"%s\"", why.msg);
    CHECK(agah_number_normalize("+1 555 1234", NULL, out, &why) ==
                  AGAH_ENUMBER && strstr(why.msg, "area code") != NULL,
          "+1 555 1234", "why \"%s\"", why.msg);
    /* A control character is never echoed back to the terminal. */
    CHECK(agah_number_normalize("+852 \x1b[2J", NULL, out, &why) ==
                  AGAH_ENUMBER && strstr(why.msg, "'+852 ?[2J'") != NULL,
          "+852 ESC[2J", "why \"%s\"", why.msg);
    CHECK(agah_account_normalize("foo:bar", NULL, out, &why) ==
                  AGAH_EACCOUNT && strstr(why.msg, "'foo'") != NULL &&
                  strstr(why.msg, "telegram") != NULL,
          "foo:bar", "why \"%s\"", why.msg);
    /* A NULL `why` is allowed. */
    CHECK(agah_number_normalize("+85 12", NULL, out, NULL) == AGAH_ENUMBER,
          "+85 12", "with why == NULL");
    CHECK(agah_number_normalize(NULL, NULL, out, &why) == AGAH_EINVAL,
          "(null)", "NULL input");
    CHECK(agah_account_normalize(NULL, NULL, out, &why) == AGAH_EINVAL,
          "(null)", "NULL input");
}

/* The input bounds: 128 bytes for a number, AGAH_TARGET_MAX for a target. */
static void check_lengths(void)
{
    char in[2048], out[AGAH_TARGET_MAX];
    struct agah_why why = {{0}};
    int rc;

    memset(in, ' ', 116);
    strcpy(in + 116, "+85251234567"); /* 128 bytes: accepted */
    rc = agah_number_normalize(in, NULL, out, &why);
    CHECK(rc == 0 && strcmp(out, "+85251234567") == 0, "116 spaces +852...",
          "got %d (%s)", rc, why.msg);
    memset(in, ' ', 117);
    strcpy(in + 117, "+85251234567"); /* 129 bytes: refused */
    rc = agah_number_normalize(in, NULL, out, &why);
    CHECK(rc == AGAH_ENUMBER && strstr(why.msg, "too long") != NULL,
          "117 spaces +852...", "got %d (%s)", rc, why.msg);

    /* "twitter:" and 247 characters make 255: the longest target. */
    strcpy(in, "twitter:");
    memset(in + 8, 'a', 247);
    in[255] = '\0';
    rc = agah_account_normalize(in, NULL, out, &why);
    CHECK(rc == 0 && strlen(out) == 255, "twitter:a*247", "got %d (%s)", rc,
          why.msg);
    in[255] = 'a';
    in[256] = '\0';
    rc = agah_account_normalize(in, NULL, out, &why);
    CHECK(rc == AGAH_EACCOUNT, "twitter:a*248", "got %d (%s)", rc, why.msg);
    /* "@" is dropped before the length counts. */
    strcpy(in, "twitter:@");
    memset(in + 9, 'B', 247);
    in[256] = '\0';
    rc = agah_account_normalize(in, NULL, out, &why);
    CHECK(rc == 0 && strlen(out) == 255 && out[8] == 'b', "twitter:@B*247",
          "got %d (%s)", rc, why.msg);
    /* An email or a url is bounded the same way. */
    strcpy(in, "email:a@");
    for (size_t i = 8; i < 8 + 240; i += 4)
        memcpy(in + i, "abc.", 4);
    strcpy(in + 248, "org");
    rc = agah_account_normalize(in, NULL, out, &why);
    CHECK(rc == 0 && strlen(out) == 251, "email:a@abc.abc...org", "got %d (%s)",
          rc, why.msg);
    memmove(in + 13, in + 8, strlen(in + 8) + 1);
    memcpy(in + 8, "bbbbb", 5); /* 256 characters */
    rc = agah_account_normalize(in, NULL, out, &why);
    CHECK(rc == AGAH_EACCOUNT, "email:a@bbbb...org", "got %d (%s)", rc,
          why.msg);
    strcpy(in, "url:https://example.org/");
    memset(in + 24, 'p', 231);
    in[255] = '\0';
    rc = agah_account_normalize(in, NULL, out, &why);
    CHECK(rc == 0 && strlen(out) == 255, "url:https://example.org/p*231",
          "got %d (%s)", rc, why.msg);
    in[255] = 'p';
    in[256] = '\0';
    rc = agah_account_normalize(in, NULL, out, &why);
    CHECK(rc == AGAH_EACCOUNT, "url:https://example.org/p*232", "got %d (%s)",
          rc, why.msg);
    /* Far beyond every bound. */
    strcpy(in, "telegram:");
    memset(in + 9, 'a', sizeof in - 10);
    in[sizeof in - 1] = '\0';
    rc = agah_account_normalize(in, NULL, out, &why);
    CHECK(rc == AGAH_EACCOUNT && printable(why.msg) && strlen(why.msg) < 200,
          "telegram:a*2038", "got %d (%s)", rc, why.msg);
}

/* `check` decides between a number and an account by the ':'. */
static void check_target(void)
{
    static const struct {
        int line;
        const char *input, *region;
        int rc, kind;
        const char *out;
    } t[] = {
        {__LINE__, "+852 5123 4567", NULL, 0, AGAH_TARGET_NUMBER,
         "+85251234567"},
        {__LINE__, "5123 4567", "HK", 0, AGAH_TARGET_NUMBER, "+85251234567"},
        {__LINE__, "5123 4567", NULL, AGAH_EREGION, AGAH_TARGET_NUMBER, ""},
        {__LINE__, "telegram:@FooBar", NULL, 0, AGAH_TARGET_ACCOUNT,
         "telegram:foobar"},
        {__LINE__, "whatsapp:5123 4567", "HK", 0, AGAH_TARGET_ACCOUNT,
         "whatsapp:+85251234567"},
        {__LINE__, "foo:bar", NULL, AGAH_EACCOUNT, AGAH_TARGET_ACCOUNT, ""},
        {__LINE__, "+852 5123:4567", NULL, AGAH_EACCOUNT, AGAH_TARGET_ACCOUNT,
         ""},
        {__LINE__, "flowers", "US", AGAH_ENUMBER, AGAH_TARGET_NUMBER, ""},
        {__LINE__, "", NULL, AGAH_ENUMBER, AGAH_TARGET_NUMBER, ""},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        char out[AGAH_TARGET_MAX];
        struct agah_why why = {{0}};
        int kind = 0;
        int rc = agah_target_normalize(t[i].input, t[i].region, out, &kind,
                                       &why);
        if (rc != t[i].rc || kind != t[i].kind || strcmp(out, t[i].out) != 0) {
            failed++;
            fprintf(stderr,
                    "%s:%d: agah_target_normalize(\"%s\"): expected %d kind "
                    "%d \"%s\", got %d kind %d \"%s\" (%s)\n",
                    __FILE__, t[i].line, t[i].input, t[i].rc, t[i].kind,
                    t[i].out, rc, kind, out, why.msg);
        } else {
            passed++;
        }
    }
    int kind = 0;
    char out[AGAH_TARGET_MAX];
    CHECK(agah_target_normalize(NULL, NULL, out, &kind, NULL) == AGAH_EINVAL,
          "(null)", "NULL input");
    CHECK(agah_target_normalize("+85251234567", NULL, out, NULL, NULL) ==
              AGAH_EINVAL, "+85251234567", "NULL kind");
}

int main(void)
{
    int nnum = 0, nacc = 0;

    run_table("agah_number_normalize", agah_number_normalize, numbers,
              sizeof numbers / sizeof numbers[0], &nnum);
    run_table("agah_account_normalize", agah_account_normalize, accounts,
              sizeof accounts / sizeof accounts[0], &nacc);
    check_e164_shape();
    check_messages();
    check_lengths();
    check_target();

    printf("test_ident: %d number and %d account table cases\n", nnum, nacc);
    printf("test_ident: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

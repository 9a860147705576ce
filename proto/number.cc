// The one C++ file of agah: a C-callable wrapper around libphonenumber.
// proto/ident.c has already reduced the user's input to an optional "+" and
// ASCII digits; this file only asks libphonenumber what that number is in
// E.164 and why it is refused. No C++ exception crosses into C.
#include <cstddef>
#include <cstring>
#include <new>
#include <string>

#include <phonenumbers/logger.h>
#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

using i18n::phonenumbers::NullLogger;
using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

// Keep in sync with the copy in proto/ident.c (the only caller). The values
// are reasons, turned into sentences for the user there.
extern "C" {
enum ident__pn_result {
    IDENT__PN_OK = 0,
    IDENT__PN_BAD_COUNTRY = 1, // no country has this calling code
    IDENT__PN_TOO_SHORT = 2,   // fewer digits than any number of the country
    IDENT__PN_TOO_LONG = 3,    // more digits than any number, or than E.164
    IDENT__PN_BAD_LENGTH = 4,  // between the country's lengths, none of them
    IDENT__PN_LOCAL_ONLY = 5,  // dialable only locally: no area code
    IDENT__PN_NOT_NUMBER = 6,  // libphonenumber sees no number at all
    IDENT__PN_NOMEM = 7,
    IDENT__PN_INTERNAL = 8,
};

int ident__pn_region(const char *region);
int ident__pn_e164(const char *digits, int international, const char *region,
                   char *out, size_t outlen, int *country_code);
}

namespace {

// libphonenumber logs some failures (an unknown region, for one) to stderr by
// default. The CLI prints its own sentence instead, so mute the library once,
// before its first use. SetLogger takes ownership of the logger.
PhoneNumberUtil *util()
{
    static PhoneNumberUtil *const u = [] {
        PhoneNumberUtil *p = PhoneNumberUtil::GetInstance();
        p->SetLogger(new NullLogger());
        return p;
    }();
    return u;
}

// E.164 allows at most 15 digits after the "+".
constexpr size_t kE164MaxDigits = 15;

int region_code(const char *region)
{
    if (region == nullptr || std::strlen(region) != 2)
        return 0;
    return util()->GetCountryCodeForRegion(std::string(region, 2));
}

int e164(const char *digits, int international, const char *region,
         char *out, size_t outlen, int *country_code)
{
    PhoneNumberUtil *u = util();
    std::string text;
    if (international)
        text.push_back('+');
    text.append(digits);
    // "ZZ" is libphonenumber's "unknown region": only "+" numbers parse.
    std::string reg = (region != nullptr && region[0] != '\0') ? region : "ZZ";

    PhoneNumber num;
    switch (u->Parse(text, reg, &num)) {
    case PhoneNumberUtil::NO_PARSING_ERROR:
        break;
    case PhoneNumberUtil::INVALID_COUNTRY_CODE_ERROR:
        return IDENT__PN_BAD_COUNTRY;
    case PhoneNumberUtil::TOO_SHORT_AFTER_IDD:
    case PhoneNumberUtil::TOO_SHORT_NSN:
        return IDENT__PN_TOO_SHORT;
    case PhoneNumberUtil::TOO_LONG_NSN:
        return IDENT__PN_TOO_LONG;
    case PhoneNumberUtil::NOT_A_NUMBER:
        // Our input is only digits, so libphonenumber refuses it for having
        // too few of them (it wants at least 2, or 3 with a "+").
        return std::strlen(digits) <= 3 ? IDENT__PN_TOO_SHORT
                                        : IDENT__PN_NOT_NUMBER;
    default:
        return IDENT__PN_NOT_NUMBER;
    }
    *country_code = num.country_code();

    // Possible but invalid numbers pass: spoofed caller ids often are
    // invalid, and an alert about one must still be storable and findable.
    switch (u->IsPossibleNumberWithReason(num)) {
    case PhoneNumberUtil::IS_POSSIBLE:
        break;
    case PhoneNumberUtil::IS_POSSIBLE_LOCAL_ONLY:
        return IDENT__PN_LOCAL_ONLY;
    case PhoneNumberUtil::INVALID_COUNTRY_CODE:
        return IDENT__PN_BAD_COUNTRY;
    case PhoneNumberUtil::TOO_SHORT:
        return IDENT__PN_TOO_SHORT;
    case PhoneNumberUtil::TOO_LONG:
        return IDENT__PN_TOO_LONG;
    case PhoneNumberUtil::INVALID_LENGTH:
        return IDENT__PN_BAD_LENGTH;
    default:
        return IDENT__PN_INTERNAL;
    }

    std::string s;
    u->Format(num, PhoneNumberUtil::E164, &s);
    // The metadata allows national numbers (Germany's, for one) long enough
    // to break E.164's limit once the country code is added: verify the
    // shape ourselves rather than trust it.
    if (s.size() < 2 || s[0] != '+')
        return IDENT__PN_INTERNAL;
    if (s.size() - 1 > kE164MaxDigits)
        return IDENT__PN_TOO_LONG;
    for (size_t i = 1; i < s.size(); i++)
        if (s[i] < '0' || s[i] > '9')
            return IDENT__PN_INTERNAL;
    if (s.size() + 1 > outlen)
        return IDENT__PN_INTERNAL;
    std::memcpy(out, s.c_str(), s.size() + 1);
    return IDENT__PN_OK;
}

} // namespace

// Returns the calling code of a region ("GB" -> 44), or 0 when libphonenumber
// does not know it. `region` must already be upper case.
extern "C" int ident__pn_region(const char *region)
{
    try {
        return region_code(region);
    } catch (...) {
        return 0;
    }
}

// Normalises `digits` (ASCII digits only; international: the "+" or "00"
// was there and has been removed) read in `region` ("" or NULL: none, upper
// case otherwise) to E.164 in `out`. Returns an ident__pn_result; on
// IDENT__PN_BAD_LENGTH *country_code says for which country.
extern "C" int ident__pn_e164(const char *digits, int international,
                              const char *region, char *out, size_t outlen,
                              int *country_code)
{
    if (digits == nullptr || out == nullptr || outlen == 0 ||
        country_code == nullptr)
        return IDENT__PN_INTERNAL;
    out[0] = '\0';
    *country_code = 0;
    try {
        int r = e164(digits, international, region, out, outlen,
                     country_code);
        // libphonenumber strips a national prefix even after a country code
        // ("+44 (0)20 ..."), so "+20 0 0158..." gives "+200158...", which
        // itself would give "+20158...". A stored target must normalise to
        // itself, so parse the result again until it is stable; each round
        // that changes it drops a prefix, and a few rounds always suffice.
        for (int round = 0; r == IDENT__PN_OK; round++) {
            char again[kE164MaxDigits + 2];
            if (round == 8)
                return IDENT__PN_NOT_NUMBER;
            r = e164(out + 1, 1, nullptr, again, sizeof again, country_code);
            if (r == IDENT__PN_OK && std::strcmp(again, out) == 0)
                return IDENT__PN_OK;
            if (r == IDENT__PN_OK)
                std::memcpy(out, again, std::strlen(again) + 1);
        }
        out[0] = '\0';
        return r;
    } catch (const std::bad_alloc &) {
        return IDENT__PN_NOMEM;
    } catch (...) {
        return IDENT__PN_INTERNAL;
    }
}

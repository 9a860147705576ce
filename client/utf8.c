/* UTF-8 text measured in terminal columns: decoding one character, the
 * display width of a string, and the longest prefix of whole characters
 * that fits a width (table columns, cut notes, fixed buffers). */
#include <agah/utf8.h>
#include "utf8.h"

size_t utf8_decode(const unsigned char *s, size_t n, long *cp)
{
    uint32_t u;
    size_t len = agah_utf8_decode(s, n, &u);

    /* An invalid byte is shown as one replacement, and skipped alone. */
    if (len == 0) {
        *cp = -1;
        return 1;
    }
    *cp = (long)u;
    return len;
}

/* Terminal columns of one code point: 0 for combining marks and
 * zero-width format characters, 2 for East Asian wide and emoji, else 1. */
static size_t utf8__cpwidth(long cp)
{
    static const long zero[][2] = {
        {0x0300, 0x036f}, {0x0483, 0x0489}, {0x0591, 0x05bd}, {0x0610, 0x061a},
        {0x061c, 0x061c}, {0x064b, 0x065f}, {0x0670, 0x0670}, {0x06d6, 0x06dc},
        {0x06df, 0x06e4}, {0x06e7, 0x06e8}, {0x06ea, 0x06ed}, {0x200b, 0x200f},
        {0x202a, 0x202e}, {0x2060, 0x2064}, {0x2066, 0x206f}, {0xfe00, 0xfe0f},
        {0xfeff, 0xfeff}, {0x1f3fb, 0x1f3ff}, {0xe0100, 0xe01ef},
    };
    static const long wide[][2] = {
        {0x1100, 0x115f}, {0x2e80, 0x303e}, {0x3041, 0x33ff}, {0x3400, 0x4dbf},
        {0x4e00, 0x9fff}, {0xa000, 0xa4cf}, {0xac00, 0xd7a3}, {0xf900, 0xfaff},
        {0xfe30, 0xfe4f}, {0xff00, 0xff60}, {0xffe0, 0xffe6}, {0x1f300, 0x1f64f},
        {0x1f900, 0x1f9ff}, {0x20000, 0x2fffd}, {0x30000, 0x3fffd},
    };
    for (size_t i = 0; i < sizeof zero / sizeof zero[0]; i++)
        if (cp >= zero[i][0] && cp <= zero[i][1])
            return 0;
    for (size_t i = 0; i < sizeof wide / sizeof wide[0]; i++)
        if (cp >= wide[i][0] && cp <= wide[i][1])
            return 2;
    return 1;
}

size_t utf8_width(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t w = 0;
    while (n > 0) {
        long cp;
        size_t k = utf8_decode(p, n, &cp);
        w += cp < 0 ? 1 : utf8__cpwidth(cp);
        p += k;
        n -= k;
    }
    return w;
}

size_t utf8_fit(const char *s, size_t n, size_t cols)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t used = 0, w = 0;
    while (used < n) {
        long cp;
        size_t k = utf8_decode(p + used, n - used, &cp);
        size_t cw = cp < 0 ? 1 : utf8__cpwidth(cp);
        /* An incomplete character at the end of the buffer is not whole. */
        if (cp < 0 && p[used] >= 0xc2 && p[used] <= 0xf4 && n - used < 4)
            break;
        if (w + cw > cols)
            break;
        w += cw;
        used += k;
    }
    return used;
}

/* UTF-8 text measured in terminal columns (utf8.c), for tables, cut notes
 * and strings copied into fixed buffers. No output and no msgpack. */
#ifndef AGAH_CLIENT_UTF8_H
#define AGAH_CLIENT_UTF8_H

#include <stddef.h>

/* Decodes one UTF-8 character at s[0..n) (n > 0): returns its length and
 * sets *cp, or returns 1 with *cp = -1 for a byte that does not start a
 * valid, complete, shortest-form character. */
size_t utf8_decode(const unsigned char *s, size_t n, long *cp);
/* Display width of UTF-8 text in terminal columns (wide East Asian
 * characters count 2, combining marks 0). */
size_t utf8_width(const char *s, size_t n);
/* The longest prefix of s[0..n) that is whole UTF-8 characters and at most
 * `cols` columns wide; returns its byte length. */
size_t utf8_fit(const char *s, size_t n, size_t cols);

#endif

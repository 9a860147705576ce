/* Decoding UTF-8, one code point at a time: the one decoder that the
 * msgpack guards, identifier normalisation and the CLI's terminal output
 * share, so "valid UTF-8" means the same thing everywhere. Codec only. */
#ifndef AGAH_UTF8_H
#define AGAH_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Decodes one code point from s[0..len): its length in bytes (1 to 4) and
 * *cp, or 0 for an empty input or an invalid sequence (a stray
 * continuation byte, a truncated sequence, an overlong form, a surrogate
 * or a code point above U+10FFFF). */
size_t agah_utf8_decode(const unsigned char *s, size_t len, uint32_t *cp);

#endif

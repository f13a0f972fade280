/* Strict UTF-8 decoding and encoding for the UI: every byte sequence that
 * is not well-formed (overlong, surrogate, out of range, truncated) is
 * reported as invalid so callers can show a placeholder instead. */
#ifndef SOTTO_UTF8_H
#define SOTTO_UTF8_H

#include <stddef.h>
#include <stdint.h>

#define UTF8_INVALID 0xFFFFFFFFu

/* Decode the character at s (len bytes available, len > 0). Returns the
 * bytes it spans and sets *cp; an ill-formed sequence sets UTF8_INVALID
 * and spans its maximal ill-formed subpart (at least 1 byte), so decoding
 * always makes progress and never reads past len. */
size_t utf8_decode(const char *s, size_t len, uint32_t *cp);
/* Encode cp (a Unicode scalar value) into out (4 bytes at least).
 * Returns the bytes written. */
size_t utf8_encode(uint32_t cp, char *out);
/* Byte offset of the character boundary before / after pos in s[0..len].
 * Both assume s is valid UTF-8 (as everything the UI holds is). */
size_t utf8_prev(const char *s, size_t pos);
size_t utf8_next(const char *s, size_t len, size_t pos);

#endif

/* How many terminal columns text takes: wcwidth() under the UTF-8 locale
 * the UI runs in (CJK and emoji 2, combining marks 0), with a built-in
 * fallback so the answer never depends on a missing locale. */
#ifndef SOTTO_WIDTH_H
#define SOTTO_WIDTH_H

#include <stddef.h>
#include <stdint.h>

/* Columns of one character: 0, 1 or 2; -1 when it is not printable
 * (controls, and code points the C library does not know). */
int width_cp(uint32_t cp);
/* Columns of len bytes of UTF-8; unprintable and invalid characters count
 * as 1 (they are drawn as placeholders). */
size_t width_str(const char *s, size_t len);
/* How many bytes of s (len bytes) fit in cols columns without splitting
 * a character; zero-width characters stay with the one before them.
 * *used (may be NULL) gets the columns those bytes take. */
size_t width_fit(const char *s, size_t len, size_t cols, size_t *used);

#endif

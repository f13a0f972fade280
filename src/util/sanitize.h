/* Peer-supplied text (message bodies, names, file names) made safe to
 * draw: every control character, escape sequence introducer, bidi
 * override and invalid byte becomes a visible inert placeholder, so
 * nothing a peer sends is ever interpreted by the terminal. */
#ifndef SOTTO_SANITIZE_H
#define SOTTO_SANITIZE_H

#include <stddef.h>

/* Keep line breaks (message bodies); without it a newline is shown as
 * U+2424 and the result is one line (names, titles). */
#define SANITIZE_MULTILINE 0x1

/* Zero-width characters (combining marks, joiners, variation selectors)
 * kept in a row; more are dropped, so a "Zalgo" text stays bounded. */
#define SANITIZE_ZERO_WIDTH_MAX 8
/* Spaces a tab becomes. */
#define SANITIZE_TAB_SPACES 4

/* Sanitise len bytes of s (NUL bytes included) into a new NUL-terminated
 * string of valid UTF-8, the caller's to free. */
char *sanitize(const char *s, size_t len, unsigned flags);
/* The same for a NUL-terminated string; NULL gives "". */
char *sanitize_str(const char *s, unsigned flags);

#endif

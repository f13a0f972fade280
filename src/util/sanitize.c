/* The one gate between peer text and the terminal. Placeholders:
 * C0 controls become their Control Pictures (U+2400 + c, so ESC shows
 * as U+241B), DEL U+2421, everything else dangerous or ill-formed
 * (C1 controls, bidi overrides and isolates, invalid UTF-8) U+FFFD. */
#include "util/sanitize.h"

#include "util/utf8.h"
#include "util/width.h"
#include "util/xmalloc.h"

#include <string.h>

#define SANITIZE_REPLACEMENT 0xFFFDu
#define SANITIZE_NEWLINE_SYMBOL 0x2424u
#define SANITIZE_DEL_SYMBOL 0x2421u
#define SANITIZE_DOTTED_CIRCLE 0x25CCu

struct sanitize_out {
	char *buf;
	size_t len, cap;
};

static void
sanitize_put(struct sanitize_out *o, uint32_t cp)
{
	if (o->len + 5 > o->cap) {
		o->cap = o->cap * 2 + 16;
		o->buf = xrealloc(o->buf, o->cap);
	}
	o->len += utf8_encode(cp, o->buf + o->len);
}

/* Characters that reorder or hide text: explicit embeddings, overrides
 * and isolates, and the invisible direction marks. */
static int
sanitize_is_bidi_control(uint32_t cp)
{
	return (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200e ||
	       cp == 0x200f || cp == 0x061c;
}

char *
sanitize(const char *s, size_t len, unsigned flags)
{
	struct sanitize_out o = {NULL, 0, 0};
	size_t pos = 0, zero_run = 0, i;
	int multiline = (flags & SANITIZE_MULTILINE) != 0, w;
	int line_start = 1; /* nothing drawn yet on this line to combine with */
	uint32_t cp;

	o.cap = len + len / 4 + 16;
	o.buf = xmalloc(o.cap);
	while (pos < len) {
		pos += utf8_decode(s + pos, len - pos, &cp);
		if (cp == '\r' && pos < len && s[pos] == '\n' && multiline)
			continue; /* CRLF is one line break */
		if (cp == '\n' || cp == 0x2028 || cp == 0x2029) {
			sanitize_put(&o, multiline ? '\n' : SANITIZE_NEWLINE_SYMBOL);
			line_start = multiline;
			zero_run = 0;
			continue;
		}
		if (cp == '\t') {
			for (i = 0; i < SANITIZE_TAB_SPACES; i++)
				sanitize_put(&o, ' ');
			line_start = 0;
			zero_run = 0;
			continue;
		}
		if (cp == UTF8_INVALID || (cp >= 0x80 && cp < 0xa0) || sanitize_is_bidi_control(cp))
			cp = SANITIZE_REPLACEMENT;
		else if (cp < 0x20)
			cp = 0x2400 + cp;
		else if (cp == 0x7f)
			cp = SANITIZE_DEL_SYMBOL;
		w = width_cp(cp);
		if (w < 0) {
			/* Unknown to the C library: its width is anyone's guess. */
			cp = SANITIZE_REPLACEMENT;
			w = 1;
		}
		if (w == 0) {
			if (++zero_run > SANITIZE_ZERO_WIDTH_MAX)
				continue;
			/* A mark with nothing before it would combine with
			 * whatever the screen drew there: give it a base. */
			if (line_start)
				sanitize_put(&o, SANITIZE_DOTTED_CIRCLE);
		} else {
			zero_run = 0;
		}
		line_start = 0;
		sanitize_put(&o, cp);
	}
	o.buf[o.len] = '\0';
	return o.buf;
}

char *
sanitize_str(const char *s, unsigned flags)
{
	if (s == NULL)
		return xstrdup("");
	return sanitize(s, strlen(s), flags);
}

/* Greedy word wrap over sanitised text (no controls but '\n'). A space
 * the line breaks at is dropped, so wrapped lines never start with the
 * separator; spaces the user typed elsewhere are kept. */
#include "ui/wrap.h"

#include "util/utf8.h"
#include "util/width.h"
#include "util/xmalloc.h"

struct wrap_out {
	struct wrap_line *lines;
	size_t n, cap;
};

static void
wrap_push(struct wrap_out *o, size_t off, size_t len, size_t cols)
{
	if (o->n == o->cap) {
		o->cap = o->cap * 2 + 8;
		o->lines = xreallocarray(o->lines, o->cap, sizeof *o->lines);
	}
	o->lines[o->n].off = off;
	o->lines[o->n].len = len;
	o->lines[o->n].cols = cols;
	o->n++;
}

static size_t
wrap_char_cols(const char *s, size_t len, size_t *cols)
{
	uint32_t cp;
	size_t n = utf8_decode(s, len, &cp);
	int w = cp == UTF8_INVALID ? 1 : width_cp(cp);

	*cols = w < 0 ? 1 : (size_t)w;
	return n;
}

size_t
wrap_text(const char *text, size_t len, size_t cols, struct wrap_line **lines)
{
	struct wrap_out o = {NULL, 0, 0};
	size_t start = 0, pos, used, n, w;
	/* The last space on the current line: where to break, and the
	 * columns before it. */
	size_t brk, brk_cols;
	int have_brk;

	if (cols == 0)
		cols = 1;
	for (;;) {
		pos = start;
		used = 0;
		have_brk = 0;
		brk = brk_cols = 0;
		while (pos < len && text[pos] != '\n') {
			n = wrap_char_cols(text + pos, len - pos, &w);
			if (used + w > cols && used > 0)
				break;
			if (text[pos] == ' ') {
				have_brk = 1;
				brk = pos;
				brk_cols = used;
			}
			used += w;
			pos += n;
		}
		if (pos >= len || text[pos] == '\n') {
			wrap_push(&o, start, pos - start, used);
			if (pos >= len)
				break;
			start = pos + 1; /* past the newline */
			continue;
		}
		/* The line is full at pos. */
		if (text[pos] == ' ') {
			wrap_push(&o, start, pos - start, used);
			start = pos + 1;
		} else if (have_brk && brk > start) {
			wrap_push(&o, start, brk - start, brk_cols);
			start = brk + 1;
		} else {
			wrap_push(&o, start, pos - start, used);
			start = pos;
		}
	}
	*lines = o.lines;
	return o.n;
}

/* Input line editing on character boundaries. Everything that moves the
 * cursor goes through utf8_prev/utf8_next, so a multi-byte character is
 * never split, whatever the keys. */
#include "ui/editor.h"

#include "cmd.h"
#include "util/utf8.h"
#include "util/xmalloc.h"

#include <string.h>

void
editor_init(struct editor *ed)
{
	memset(ed, 0, sizeof *ed);
	ed->cap = 64;
	ed->buf = xcalloc(1, ed->cap);
}

static void
editor_free_text(char *s)
{
	if (s != NULL)
		wipe_free_str(s);
}

void
editor_free(struct editor *ed)
{
	size_t i;

	wipe_free(ed->buf, ed->cap);
	editor_free_text(ed->kill);
	editor_free_text(ed->draft);
	for (i = 0; i < ed->nhistory; i++)
		free(ed->history[i]);
	free(ed->history);
	memset(ed, 0, sizeof *ed);
}

void
editor_clear(struct editor *ed)
{
	wipe(ed->buf, ed->cap);
	ed->len = ed->cursor = 0;
}

/* Grow to hold need bytes plus the NUL; the old block is wiped since it
 * may hold a passphrase. */
static void
editor_reserve(struct editor *ed, size_t need)
{
	char *nbuf;
	size_t ncap = ed->cap;

	if (need + 1 <= ed->cap)
		return;
	while (ncap < need + 1)
		ncap *= 2;
	nbuf = xcalloc(1, ncap);
	memcpy(nbuf, ed->buf, ed->len + 1);
	wipe_free(ed->buf, ed->cap);
	ed->buf = nbuf;
	ed->cap = ncap;
}

static int
editor_text_ok(const char *text, size_t len)
{
	size_t pos = 0;
	uint32_t cp;

	while (pos < len) {
		pos += utf8_decode(text + pos, len - pos, &cp);
		if (cp == UTF8_INVALID || (cp < 0x20 && cp != '\n') || cp == 0x7f ||
		    (cp >= 0x80 && cp < 0xa0))
			return 0;
	}
	return 1;
}

int
editor_insert(struct editor *ed, const char *text, size_t len)
{
	if (!editor_text_ok(text, len) || ed->len + len > EDITOR_MAX_BYTES)
		return -1;
	editor_reserve(ed, ed->len + len);
	memmove(ed->buf + ed->cursor + len, ed->buf + ed->cursor, ed->len - ed->cursor + 1);
	memcpy(ed->buf + ed->cursor, text, len);
	ed->len += len;
	ed->cursor += len;
	return 0;
}

int
editor_set(struct editor *ed, const char *text)
{
	size_t len = strlen(text);

	if (!editor_text_ok(text, len) || len > EDITOR_MAX_BYTES)
		return -1;
	editor_clear(ed);
	return editor_insert(ed, text, len);
}

/* Remove [from, to); with kill, remember it for Ctrl-Y. */
static void
editor_cut(struct editor *ed, size_t from, size_t to, bool kill)
{
	if (from >= to)
		return;
	if (kill && !ed->secret) {
		editor_free_text(ed->kill);
		ed->kill = xstrndup(ed->buf + from, to - from);
	}
	memmove(ed->buf + from, ed->buf + to, ed->len - to + 1);
	ed->len -= to - from;
	wipe(ed->buf + ed->len + 1, to - from);
	ed->cursor = from;
}

static size_t
editor_line_start(const struct editor *ed)
{
	size_t p = ed->cursor;

	while (p > 0 && ed->buf[p - 1] != '\n')
		p--;
	return p;
}

static size_t
editor_line_end(const struct editor *ed)
{
	size_t p = ed->cursor;

	while (p < ed->len && ed->buf[p] != '\n')
		p++;
	return p;
}

static size_t
editor_word_start(const struct editor *ed)
{
	size_t p = ed->cursor;

	while (p > 0 && (ed->buf[p - 1] == ' ' || ed->buf[p - 1] == '\n'))
		p--;
	while (p > 0 && ed->buf[p - 1] != ' ' && ed->buf[p - 1] != '\n')
		p--;
	return p;
}

static void
editor_history_show(struct editor *ed, const char *text)
{
	editor_clear(ed);
	editor_insert(ed, text, strlen(text));
}

static bool
editor_history_move(struct editor *ed, int dir)
{
	if (ed->secret)
		return false;
	if (dir < 0) {
		if (ed->hpos == 0)
			return false;
		if (ed->hpos == ed->nhistory) {
			editor_free_text(ed->draft);
			ed->draft = xstrdup(ed->buf);
		}
		ed->hpos--;
		editor_history_show(ed, ed->history[ed->hpos]);
		return true;
	}
	if (ed->hpos >= ed->nhistory)
		return false;
	ed->hpos++;
	if (ed->hpos == ed->nhistory) {
		editor_history_show(ed, ed->draft != NULL ? ed->draft : "");
		editor_free_text(ed->draft);
		ed->draft = NULL;
	} else {
		editor_history_show(ed, ed->history[ed->hpos]);
	}
	return true;
}

bool
editor_key(struct editor *ed, int key)
{
	size_t old_cursor = ed->cursor, old_len = ed->len, to;
	char utf8[4];

	switch (key) {
	case EDITOR_KEY_CTRL_A:
	case EDITOR_KEY_HOME:
		ed->cursor = editor_line_start(ed);
		break;
	case EDITOR_KEY_CTRL_E:
	case EDITOR_KEY_END:
		ed->cursor = editor_line_end(ed);
		break;
	case EDITOR_KEY_CTRL_B:
	case EDITOR_KEY_LEFT:
		ed->cursor = utf8_prev(ed->buf, ed->cursor);
		break;
	case EDITOR_KEY_CTRL_F:
	case EDITOR_KEY_RIGHT:
		ed->cursor = utf8_next(ed->buf, ed->len, ed->cursor);
		break;
	case EDITOR_KEY_BACKSPACE:
	case EDITOR_KEY_CTRL_H:
		editor_cut(ed, utf8_prev(ed->buf, ed->cursor), ed->cursor, false);
		break;
	case EDITOR_KEY_DELETE:
	case EDITOR_KEY_CTRL_D:
		editor_cut(ed, ed->cursor, utf8_next(ed->buf, ed->len, ed->cursor), false);
		break;
	case EDITOR_KEY_CTRL_K:
		to = editor_line_end(ed);
		/* At the end of a line, Ctrl-K joins it with the next. */
		if (to == ed->cursor && to < ed->len)
			to++;
		editor_cut(ed, ed->cursor, to, true);
		break;
	case EDITOR_KEY_CTRL_U:
		editor_cut(ed, editor_line_start(ed), ed->cursor, true);
		break;
	case EDITOR_KEY_CTRL_W:
		editor_cut(ed, editor_word_start(ed), ed->cursor, true);
		break;
	case EDITOR_KEY_CTRL_Y:
		if (ed->kill != NULL)
			editor_insert(ed, ed->kill, strlen(ed->kill));
		break;
	case EDITOR_KEY_UP:
		return editor_history_move(ed, -1);
	case EDITOR_KEY_DOWN:
		return editor_history_move(ed, 1);
	case EDITOR_KEY_ALT_ENTER:
		editor_insert(ed, "\n", 1);
		break;
	default:
		if (key < 0x20 || key == 0x7f || key >= 0x110000 ||
		    (key >= 0xd800 && key <= 0xdfff))
			return false;
		editor_insert(ed, utf8, utf8_encode((uint32_t)key, utf8));
		break;
	}
	return ed->cursor != old_cursor || ed->len != old_len || key == EDITOR_KEY_CTRL_Y;
}

char *
editor_take(struct editor *ed)
{
	char *text = xstrndup(ed->buf, ed->len);

	if (!ed->secret && ed->len > 0 &&
	    (ed->nhistory == 0 || strcmp(ed->history[ed->nhistory - 1], text) != 0)) {
		if (ed->nhistory == EDITOR_HISTORY_MAX) {
			free(ed->history[0]);
			memmove(ed->history, ed->history + 1,
			        (ed->nhistory - 1) * sizeof *ed->history);
			ed->nhistory--;
		}
		ed->history = xreallocarray(ed->history, ed->nhistory + 1, sizeof *ed->history);
		ed->history[ed->nhistory++] = xstrdup(text);
	}
	ed->hpos = ed->nhistory;
	editor_free_text(ed->draft);
	ed->draft = NULL;
	editor_clear(ed);
	return text;
}

static size_t
editor_common_prefix(const char *const *list, size_t n)
{
	size_t len, i, k;

	if (n == 0)
		return 0;
	len = strlen(list[0]);
	for (i = 1; i < n; i++) {
		for (k = 0; k < len && list[i][k] == list[0][k]; k++)
			;
		len = k;
	}
	return len;
}

#define EDITOR_COMPLETE_MAX 64

size_t
editor_complete(struct editor *ed, const char *const *names, size_t nnames, const char **out,
                size_t max)
{
	const char *found[EDITOR_COMPLETE_MAX];
	size_t ws = ed->cursor, plen, n = 0, i, common;
	char *prefix;
	bool command;

	while (ws > 0 && ed->buf[ws - 1] != ' ' && ed->buf[ws - 1] != '\n')
		ws--;
	command = ws == 0 && ed->buf[0] == '/';
	if (command)
		ws = 1;
	prefix = xstrndup(ed->buf + ws, ed->cursor - ws);
	plen = strlen(prefix);
	if (command || strncmp(ed->buf, "/help ", 6) == 0) {
		n = cmd_complete(prefix, CMD_UI, found, EDITOR_COMPLETE_MAX);
		if (n > EDITOR_COMPLETE_MAX)
			n = EDITOR_COMPLETE_MAX;
	} else {
		for (i = 0; i < nnames && n < EDITOR_COMPLETE_MAX; i++)
			if (strncmp(names[i], prefix, plen) == 0)
				found[n++] = names[i];
	}
	free(prefix);
	for (i = 0; i < n && i < max; i++)
		out[i] = found[i];
	if (n == 0)
		return 0;
	common = n == 1 ? strlen(found[0]) : editor_common_prefix(found, n);
	if (common > plen || n == 1) {
		editor_cut(ed, ws, ed->cursor, false);
		if (editor_insert(ed, found[0], common) == 0 && n == 1)
			editor_insert(ed, " ", 1);
	}
	return n;
}

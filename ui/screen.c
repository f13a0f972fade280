/* Terminal set-up, layout and key reading for the UI. Alt+key comes from
 * the terminal as ESC then the key; a lone ESC is told apart by a short
 * wait. SIGWINCH is the app's (it only sets a flag), so ncurses never
 * resizes behind our back: screen_resize() does it when the loop says. */
#include "config.h"

#include "ui/screen_int.h"

#include "ui/editor.h"
#include "util/xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* How long after ESC a key still counts as Alt+key (ms). */
#define SCREEN_ALT_WAIT_MS 30

static attr_t
screen_attrs(unsigned a)
{
	attr_t r = A_NORMAL;

	if (a & THEME_BOLD)
		r |= A_BOLD;
	if (a & THEME_REVERSE)
		r |= A_REVERSE;
	if (a & THEME_UNDERLINE)
		r |= A_UNDERLINE;
	if (a & THEME_DIM)
		r |= A_DIM;
	return r;
}

static void
screen_colours(struct screen *s)
{
	const struct theme *t = s->theme;
	short fg, bg;
	int i;

	for (i = 0; i < THEME_COUNT; i++)
		s->attr[i] = screen_attrs(t->style[i].attrs);
	if (!t->color || !has_colors() || start_color() == ERR)
		goto mono;
	use_default_colors();
	for (i = 0; i < THEME_COUNT; i++) {
		fg = t->style[i].fg;
		bg = t->style[i].bg;
		/* A 256-colour theme on an 8-colour terminal: default. */
		if (fg >= COLORS)
			fg = -1;
		if (bg >= COLORS)
			bg = -1;
		if (init_pair((short)(i + 1), fg, bg) == OK)
			s->attr[i] |= COLOR_PAIR(i + 1);
	}
	return;
mono:
	/* Without colour, bars still need to stand out. */
	s->attr[THEME_TITLE] |= A_REVERSE;
	s->attr[THEME_STATUS] |= A_REVERSE;
	s->attr[THEME_WARNING] |= A_REVERSE | A_BOLD;
}

struct screen *
screen_new(const struct theme *t, struct err *e)
{
	struct screen *s;

	if (!isatty(0) || !isatty(1)) {
		err_set(e, ERR_INVALID, "the interface needs a terminal");
		return NULL;
	}
	/* ESC arrives alone or as Alt: decide quickly. */
	set_escdelay(SCREEN_ALT_WAIT_MS);
	if (initscr() == NULL) {
		err_set(e, ERR_IO, "cannot initialise the terminal (TERM=%s)",
		        getenv("TERM") != NULL ? getenv("TERM") : "unset");
		return NULL;
	}
	s = xcalloc(1, sizeof *s);
	s->theme = t;
	raw();
	noecho();
	nonl();
	intrflush(stdscr, FALSE);
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	screen_colours(s);
	/* Bracketed paste: a pasted newline must not send half a paste. */
	screen_raw(s, "\x1b[?2004h");
	getmaxyx(stdscr, s->rows, s->cols);
	screen_layout(s, 1);
	return s;
}

static void
screen_del_windows(struct screen *s)
{
	WINDOW **w[] = {&s->title, &s->list, &s->msgs, &s->status, &s->input};
	size_t i;

	for (i = 0; i < sizeof w / sizeof w[0]; i++)
		if (*w[i] != NULL) {
			delwin(*w[i]);
			*w[i] = NULL;
		}
}

void
screen_free(struct screen *s)
{
	if (s == NULL)
		return;
	screen_del_windows(s);
	screen_raw(s, "\x1b[?2004l");
	endwin();
	free(s);
}

static WINDOW *
screen_win(int h, int w, int y, int x)
{
	WINDOW *win = newwin(h > 0 ? h : 1, w > 0 ? w : 1, y, x);

	if (win != NULL) {
		keypad(win, TRUE);
		nodelay(win, TRUE);
	}
	return win;
}

void
screen_layout(struct screen *s, int input_h)
{
	int mid;

	screen_del_windows(s);
	s->too_small = s->rows < SCREEN_MIN_ROWS || s->cols < SCREEN_MIN_COLS;
	s->input_h = input_h;
	if (s->too_small) {
		s->input_h = 1;
		s->list_w = 0;
	} else if (s->cols >= 120) {
		s->list_w = 28;
	} else if (s->cols >= 80) {
		s->list_w = 24;
	} else if (s->cols >= 60) {
		s->list_w = 20;
	} else {
		s->list_w = 0;
	}
	mid = s->rows - s->input_h - 2;
	if (mid < 1)
		mid = 1;
	s->title = screen_win(1, s->cols, 0, 0);
	s->list = s->list_w > 0 ? screen_win(mid, s->list_w, 1, 0) : NULL;
	s->msgs = screen_win(mid, s->cols - s->list_w, 1, s->list_w);
	s->status = screen_win(1, s->cols, 1 + mid, 0);
	s->input = screen_win(s->input_h, s->cols, 2 + mid, 0);
	clearok(curscr, TRUE);
}

void
screen_resize(struct screen *s)
{
	struct winsize ws;

	if (ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0)
		resizeterm(ws.ws_row, ws.ws_col);
	getmaxyx(stdscr, s->rows, s->cols);
	screen_layout(s, s->input_h);
}

size_t
screen_msg_rows(const struct screen *s)
{
	int h = s->rows - s->input_h - 2;

	return h > 0 ? (size_t)h : 1;
}

size_t
screen_msg_cols(const struct screen *s)
{
	return s->cols - s->list_w > 0 ? (size_t)(s->cols - s->list_w) : 1;
}

static int
screen_map_code(int code)
{
	switch (code) {
	case KEY_LEFT:
		return EDITOR_KEY_LEFT;
	case KEY_RIGHT:
		return EDITOR_KEY_RIGHT;
	case KEY_UP:
		return EDITOR_KEY_UP;
	case KEY_DOWN:
		return EDITOR_KEY_DOWN;
	case KEY_HOME:
		return EDITOR_KEY_HOME;
	case KEY_END:
		return EDITOR_KEY_END;
	case KEY_DC:
		return EDITOR_KEY_DELETE;
	case KEY_BACKSPACE:
		return EDITOR_KEY_BACKSPACE;
	case KEY_PPAGE:
		return SCREEN_KEY_PGUP;
	case KEY_NPAGE:
		return SCREEN_KEY_PGDN;
	case KEY_ENTER:
		return SCREEN_KEY_ENTER;
	case KEY_RESIZE:
		return SCREEN_KEY_RESIZE;
	default:
		return -1;
	}
}

/* After ESC '[': the rest of a bracketed paste marker ("200~" starts,
 * "201~" ends), or -1 with whatever was read given back. */
static int
screen_paste_marker(WINDOW *w)
{
	wint_t got[4];
	int n, r;

	wtimeout(w, SCREEN_ALT_WAIT_MS);
	for (n = 0; n < 4; n++) {
		r = wget_wch(w, &got[n]);
		if (r != OK)
			break;
	}
	nodelay(w, TRUE);
	if (n == 4 && got[0] == '2' && got[1] == '0' && (got[2] == '0' || got[2] == '1') &&
	    got[3] == '~')
		return got[2] == '0' ? SCREEN_KEY_PASTE_START : SCREEN_KEY_PASTE_END;
	while (n-- > 0)
		unget_wch((wchar_t)got[n]);
	return -1;
}

int
screen_getkey(struct screen *s)
{
	WINDOW *w = s->input != NULL ? s->input : stdscr;
	wint_t ch;
	int r, key;

	for (;;) {
		r = wget_wch(w, &ch);
		if (r == ERR)
			return -1;
		if (r == KEY_CODE_YES) {
			key = screen_map_code((int)ch);
			if (key < 0)
				continue; /* a key we have no use for */
			return key;
		}
		if (ch != 0x1b)
			return (int)ch;
		/* ESC: Alt+key when another key follows at once. */
		wtimeout(w, SCREEN_ALT_WAIT_MS);
		r = wget_wch(w, &ch);
		nodelay(w, TRUE);
		if (r == OK && ch == '\n')
			return EDITOR_KEY_ALT_ENTER;
		if (r == OK && ch == '\r')
			return EDITOR_KEY_ALT_ENTER;
		if (r == OK && ch == '[') {
			key = screen_paste_marker(w);
			if (key >= 0)
				return key;
		}
		if (r == OK && ch != 0x1b)
			return SCREEN_KEY_ALT + (int)ch;
		/* A lone ESC does nothing. */
	}
}

void
screen_suspend(struct screen *s)
{
	def_prog_mode();
	endwin();
}

void
screen_resume(struct screen *s)
{
	reset_prog_mode();
	screen_resize(s);
}

void
screen_raw(struct screen *s, const char *bytes)
{
	size_t len = strlen(bytes), off = 0;
	ssize_t n;

	fflush(stdout);
	while (off < len) {
		n = write(1, bytes + off, len - off);
		if (n <= 0)
			break;
		off += (size_t)n;
	}
}

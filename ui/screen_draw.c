/* Drawing each part of the screen from the app's data: title, list of
 * conversations, message pane, status bar and input line. Only
 * sanitised text reaches ncurses, always cut to the columns available,
 * so nothing wraps by accident or spills into the next window. */
#include "ui/screen_int.h"

#include "util/sanitize.h"
#include "util/utf8.h"
#include "util/width.h"
#include "util/xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Put at most cols columns of s (len bytes) at the cursor; returns the
 * columns used. */
static int
draw_text(WINDOW *w, const char *s, size_t len, int cols, attr_t attr)
{
	size_t used, n;

	if (cols <= 0)
		return 0;
	n = width_fit(s, len, (size_t)cols, &used);
	wattrset(w, attr);
	if (n > 0)
		waddnstr(w, s, (int)n);
	return (int)used;
}

static int
draw_str(WINDOW *w, const char *s, int cols, attr_t attr)
{
	return draw_text(w, s, strlen(s), cols, attr);
}

/* A one-row bar: fill with the style, then the text. */
static void
draw_bar(WINDOW *w, attr_t attr)
{
	int cols = getmaxx(w);

	wattrset(w, attr);
	mvwhline(w, 0, 0, ' ', cols);
	wmove(w, 0, 0);
}

static void
draw_clock(char *buf, size_t size, int64_t ms, bool with_day)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (ms <= 0 || localtime_r(&t, &tm) == NULL) {
		snprintf(buf, size, "--:--");
		return;
	}
	strftime(buf, size, with_day ? "%d %b" : "%H:%M", &tm);
}

static bool
draw_is_today(int64_t ms)
{
	time_t now = time(NULL), t = (time_t)(ms / 1000);
	struct tm a, b;

	localtime_r(&now, &a);
	localtime_r(&t, &b);
	return a.tm_year == b.tm_year && a.tm_yday == b.tm_yday;
}

static const struct convlist_item *
draw_current_item(const struct app *a)
{
	long i;

	if (a->cur == NULL || a->cur == a->system)
		return NULL;
	i = convlist_find(&a->list, a->cur->conversation, a->cur->peer);
	return i >= 0 ? &a->list.items[i] : NULL;
}

static void
draw_title(struct screen *s, struct app *a)
{
	WINDOW *w = s->title;
	int cols = getmaxx(w), x;
	const struct convlist_item *it = draw_current_item(a);
	const struct convlist_contact *c;
	char *text;

	draw_bar(w, s->attr[THEME_TITLE]);
	if (a->cur == a->system || a->cur == NULL) {
		/* The account once the engine names it: with --home the
		 * profile's name is "default" whatever the directory holds. */
		text = xasprintf(" sotto: %s  (/help lists the commands)",
		                 a->account[0] != '\0' ? a->account : a->profile->name);
		draw_str(w, text, cols, s->attr[THEME_TITLE]);
		free(text);
		return;
	}
	x = draw_str(w, " ", cols, s->attr[THEME_TITLE]);
	x += draw_str(w, it != NULL ? it->title : "?", cols - x, s->attr[THEME_TITLE]);
	c = convlist_contact(&a->list, a->cur->peer);
	if (c != NULL && c->identity_changed) {
		text = xasprintf("  safety number changed: /safety, then /trust %s",
		                 it != NULL ? it->title : "");
		draw_str(w, text, cols - x, s->attr[THEME_WARNING]);
		free(text);
	} else if (c != NULL) {
		draw_str(w, c->verified ? "  verified" : "  not verified (/safety to check)",
		         cols - x, s->attr[THEME_TITLE]);
	}
}

static void
draw_list(struct screen *s, struct app *a)
{
	WINDOW *w = s->list;
	int rows, cols, y, x;
	const struct convlist_item *cur = draw_current_item(a);
	char num[24], when[32], unread[24];
	size_t i;

	if (w == NULL)
		return;
	getmaxyx(w, rows, cols);
	werase(w);
	wattrset(w, s->attr[THEME_LIST]);
	/* The separator as a character, not the line-drawing charset: it
	 * survives every terminal and shows in tmux captures. */
	for (y = 0; y < rows; y++)
		mvwaddstr(w, y, cols - 1, "\u2502");
	cols--; /* the separator */
	wmove(w, 0, 0);
	if (a->cur == a->system)
		wattrset(w, s->attr[THEME_LIST_CURRENT]);
	mvwhline(w, 0, 0, ' ', cols);
	draw_str(w, "0 (status)", cols,
	         a->cur == a->system ? s->attr[THEME_LIST_CURRENT] : s->attr[THEME_LIST]);
	for (i = 0, y = 1; i < a->list.n && y < rows; i++, y++) {
		const struct convlist_item *it = &a->list.items[i];
		attr_t at = it == cur        ? s->attr[THEME_LIST_CURRENT]
		            : it->unread > 0 ? s->attr[THEME_LIST_UNREAD]
		                             : s->attr[THEME_LIST];
		int right = 0;
		snprintf(num, sizeof num, i < 9 ? "%zu " : "  ", i + 1);
		unread[0] = when[0] = '\0';
		if (it->unread > 0)
			snprintf(unread, sizeof unread, " %zu", it->unread);
		if (cols >= 22 && it->last_ms > 0) {
			when[0] = ' ';
			draw_clock(when + 1, sizeof when - 1, it->last_ms,
			           !draw_is_today(it->last_ms));
		}
		right = (int)(strlen(unread) + strlen(when));
		wattrset(w, at);
		mvwhline(w, y, 0, ' ', cols);
		wmove(w, y, 0);
		x = draw_str(w, num, cols, at);
		draw_str(w, it->title, cols - x - right, at);
		wmove(w, y, cols - right > 0 ? cols - right : 0);
		draw_str(w, unread, right, at);
		draw_str(w, when, right - (int)strlen(unread),
		         it == cur ? at : s->attr[THEME_TIME]);
	}
}

static void
draw_row(struct screen *s, WINDOW *w, int y, struct buffer *b, const struct buffer_row *r)
{
	const struct buffer_msg *m = &b->msgs[r->msg];
	int cols = getmaxx(w), x = 0;
	size_t end, split;
	char clock[16];
	attr_t text_attr = m->notice ? s->attr[THEME_NOTICE] : s->attr[THEME_TEXT];

	wmove(w, y, 0);
	if (r->line == 0) {
		draw_clock(clock, sizeof clock, m->time_ms, false);
		x += draw_str(w, clock, cols, s->attr[THEME_TIME]);
		x += draw_str(w, " ", cols - x, s->attr[THEME_TEXT]);
		x += draw_str(w, m->sender,
		              BUFFER_SENDER_COLS < cols - x ? BUFFER_SENDER_COLS : cols - x,
		              m->notice     ? s->attr[THEME_NOTICE]
		              : m->outgoing ? s->attr[THEME_SENDER_OUT]
		                            : s->attr[THEME_SENDER_IN]);
		draw_str(w, m->notice ? " " : ": ", cols - x, s->attr[THEME_TEXT]);
	}
	if (r->len == 0)
		return;
	wmove(w, y, (int)r->indent);
	x = (int)r->indent;
	end = r->off + r->len;
	split = m->tag_off < r->off ? r->off : m->tag_off > end ? end : m->tag_off;
	x += draw_text(w, m->display + r->off, split - r->off, cols - x, text_attr);
	draw_text(w, m->display + split, end - split, cols - x,
	          m->state == BUFFER_STATE_FAILED ? s->attr[THEME_TAG_FAILED] : s->attr[THEME_TAG]);
}

static void
draw_msgs(struct screen *s, struct app *a)
{
	WINDOW *w = s->msgs;
	int rows, cols, top;
	struct buffer_row *view;
	size_t n, i;

	getmaxyx(w, rows, cols);
	werase(w);
	if (a->cur == NULL)
		return;
	view = xcalloc((size_t)rows, sizeof *view);
	n = buffer_view(a->cur, (size_t)cols, (size_t)rows, view);
	top = rows - (int)n;
	for (i = 0; i < n; i++)
		draw_row(s, w, top + (int)i, a->cur, &view[i]);
	free(view);
}

static void
draw_status(struct screen *s, struct app *a)
{
	WINDOW *w = s->status;
	int cols = getmaxx(w), x;
	const struct convlist_contact *c;
	size_t i, elsewhere = 0;
	char *text;
	bool good = strcmp(a->connection, "connected") == 0;

	draw_bar(w, s->attr[THEME_STATUS]);
	text = xasprintf(" [%s%s%s] %s ", a->account[0] != '\0' ? a->account : a->profile->name,
	                 a->relay[0] != '\0' ? " @ " : "", a->relay, a->locked ? "(locked)" : "");
	x = draw_str(w, text, cols, s->attr[THEME_STATUS]);
	free(text);
	x += draw_str(w, a->connection, cols - x,
	              good ? s->attr[THEME_STATUS] : s->attr[THEME_WARNING]);
	for (i = 0; i < a->list.n; i++)
		if (a->cur == a->system || a->list.items[i].peer == NULL ||
		    strcmp(a->list.items[i].peer, a->cur->peer) != 0)
			elsewhere += a->list.items[i].unread;
	if (elsewhere > 0) {
		text = xasprintf("  %zu unread", elsewhere);
		x += draw_str(w, text, cols - x, s->attr[THEME_STATUS]);
		free(text);
	}
	c = a->cur != NULL && a->cur != a->system ? convlist_contact(&a->list, a->cur->peer) : NULL;
	if (c != NULL && !c->identity_changed)
		x += draw_str(w, c->verified ? "  verified" : "  unverified", cols - x,
		              s->attr[THEME_STATUS]);
	if (a->cur != NULL && a->cur->scroll > 0) {
		text = a->cur->unseen > 0 ? xasprintf("  -- %zu new below --", a->cur->unseen)
		                          : xstrdup("  -- more below --");
		x += draw_str(w, text, cols - x, s->attr[THEME_STATUS]);
		free(text);
	}
	for (i = 0; i < a->list.ncontacts; i++)
		if (a->list.contacts[i].identity_changed) {
			/* Contact names come from peers. */
			char *clean = sanitize_str(a->list.contacts[i].name, 0);
			text = xasprintf("  %s's identity changed: /trust %s", clean, clean);
			x += draw_str(w, text, cols - x, s->attr[THEME_WARNING]);
			free(text);
			free(clean);
			break;
		}
}

/* The input rows: prompt, then the editor's text line by line, the line
 * with the cursor scrolled sideways so the cursor stays visible. */
static void
draw_input(struct screen *s, struct app *a)
{
	WINDOW *w = s->input;
	const struct editor *ed = &a->ed;
	const char *prompt = a->locked ? "passphrase (Ctrl-C quits): " : "> ";
	int rows, cols, pw = (int)strlen(prompt), avail, cy = 0, cx = pw, y;
	size_t line_start = 0, line_end, nlines = 1, first_line = 0, li, start, k;

	getmaxyx(w, rows, cols);
	werase(w);
	wattrset(w, s->attr[THEME_INPUT]);
	mvwaddstr(w, 0, 0, prompt);
	avail = cols - pw - 1;
	if (avail < 1)
		avail = 1;
	if (ed->secret) {
		wmove(w, 0, pw);
		return;
	}
	for (k = 0; k < ed->cursor; k++)
		if (ed->buf[k] == '\n')
			first_line++;
	for (k = 0; k < ed->len; k++)
		nlines += ed->buf[k] == '\n';
	/* Which logical lines fit: keep the cursor's line on screen. */
	first_line = first_line >= (size_t)rows ? first_line - (size_t)rows + 1 : 0;
	for (li = 0, y = 0; line_start <= ed->len && y < rows; li++) {
		line_end = line_start;
		while (line_end < ed->len && ed->buf[line_end] != '\n')
			line_end++;
		if (li >= first_line) {
			start = line_start;
			if (ed->cursor >= line_start && ed->cursor <= line_end) {
				while (width_str(ed->buf + start, ed->cursor - start) >
				       (size_t)avail)
					start = utf8_next(ed->buf, ed->len, start);
				cy = y;
				cx = pw + (int)width_str(ed->buf + start, ed->cursor - start);
			}
			wmove(w, y, pw);
			draw_text(w, ed->buf + start, line_end - start, avail + 1,
			          s->attr[THEME_INPUT]);
			y++;
		}
		line_start = line_end + 1;
	}
	(void)nlines;
	wmove(w, cy, cx);
}

int
screen_draw_input_rows(const struct app *a)
{
	size_t k, n = 1;

	if (a->ed.secret)
		return 1;
	for (k = 0; k < a->ed.len; k++)
		n += a->ed.buf[k] == '\n';
	return n > SCREEN_INPUT_MAX_ROWS ? SCREEN_INPUT_MAX_ROWS : (int)n;
}

void
screen_draw(struct screen *s, struct app *a)
{
	int want = screen_draw_input_rows(a);

	if (want != s->input_h && !s->too_small) {
		screen_layout(s, want);
		a->dirty |= APP_DIRTY_ALL;
	}
	if (a->dirty & APP_DIRTY_LAYOUT)
		a->dirty |= APP_DIRTY_ALL;
	if (s->too_small) {
		werase(stdscr);
		mvwaddstr(stdscr, 0, 0, "terminal too small for sotto");
		wnoutrefresh(stdscr);
		doupdate();
		a->dirty = 0;
		return;
	}
	if (a->dirty & APP_DIRTY_TITLE) {
		draw_title(s, a);
		wnoutrefresh(s->title);
	}
	if ((a->dirty & APP_DIRTY_LIST) && s->list != NULL) {
		draw_list(s, a);
		wnoutrefresh(s->list);
	}
	if (a->dirty & APP_DIRTY_MSGS) {
		draw_msgs(s, a);
		wnoutrefresh(s->msgs);
	}
	if (a->dirty & APP_DIRTY_STATUS) {
		draw_status(s, a);
		wnoutrefresh(s->status);
	}
	/* The input line last, every time: its cursor is the one shown. */
	if (a->dirty & APP_DIRTY_INPUT)
		draw_input(s, a);
	wnoutrefresh(s->input);
	doupdate();
	a->dirty = 0;
}

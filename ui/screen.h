/* Drawing the application with ncursesw, and reading keys. Each part of
 * the screen is its own window, drawn only when the app marked it dirty
 * and sent with wnoutrefresh() + one doupdate(): a key redraws only the
 * input line. Everything is drawn from the app's data, so a resize is
 * just a new layout and a redraw. */
#ifndef SOTTO_UI_SCREEN_H
#define SOTTO_UI_SCREEN_H

#include <stdbool.h>
#include <stddef.h>

#include "ui/app.h"
#include "util/err.h"

/* Keys beyond enum editor_key. Alt+c arrives as SCREEN_KEY_ALT + c. */
enum screen_key {
	SCREEN_KEY_ENTER = '\r',
	SCREEN_KEY_PGUP = 0x110100,
	SCREEN_KEY_PGDN,
	SCREEN_KEY_RESIZE,
	SCREEN_KEY_PASTE_START, /* bracketed paste: newlines are text until */
	SCREEN_KEY_PASTE_END,
	SCREEN_KEY_ALT = 0x200000,
};

/* Smallest terminal drawn normally; below it a notice asks for more. */
#define SCREEN_MIN_COLS 40
#define SCREEN_MIN_ROWS 10

struct screen;

/* Take over the terminal (initscr, raw keys, colours from the theme). */
struct screen *screen_new(const struct theme *t, struct err *e);
/* Give the terminal back. */
void screen_free(struct screen *s);
/* The terminal changed size (after SIGWINCH): read the new size. */
void screen_resize(struct screen *s);
/* Draw what a->dirty says, then clear it. */
void screen_draw(struct screen *s, struct app *a);
/* The next key, or -1 when none is waiting. */
int screen_getkey(struct screen *s);
/* Rows and columns of the message pane. */
size_t screen_msg_rows(const struct screen *s);
size_t screen_msg_cols(const struct screen *s);
/* Leave curses for a child program (the editor) and come back. */
void screen_suspend(struct screen *s);
void screen_resume(struct screen *s);
/* Write raw bytes (a notification sequence) to the terminal. */
void screen_raw(struct screen *s, const char *bytes);

#endif

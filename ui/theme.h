/* How the UI looks and alerts: colours per screen element and the
 * notification settings, from an optional key=value file in the profile
 * directory (ui.conf). NO_COLOR in the environment turns colours off and
 * keeps only attributes such as bold and reverse. No ncurses here. */
#ifndef SOTTO_UI_THEME_H
#define SOTTO_UI_THEME_H

#include <stdbool.h>

#include "util/err.h"

#define THEME_FILE "ui.conf"

enum theme_element {
	THEME_TITLE,
	THEME_LIST,
	THEME_LIST_CURRENT,
	THEME_LIST_UNREAD,
	THEME_TIME,
	THEME_SENDER_IN,
	THEME_SENDER_OUT,
	THEME_TEXT,
	THEME_TAG, /* sending / sent / delivered / read */
	THEME_TAG_FAILED,
	THEME_NOTICE,
	THEME_STATUS,
	THEME_WARNING, /* identity changed, connection lost */
	THEME_INPUT,
	THEME_COUNT,
};

#define THEME_BOLD 0x1
#define THEME_REVERSE 0x2
#define THEME_UNDERLINE 0x4
#define THEME_DIM 0x8

/* -1 is the terminal's default colour; 0-255 are palette indexes. */
struct theme_style {
	short fg, bg;
	unsigned attrs;
};

/* Which terminal notifications announce a message in a conversation
 * that is not open. */
#define THEME_NOTIFY_OSC777 0x1
#define THEME_NOTIFY_OSC9 0x2

struct theme {
	struct theme_style style[THEME_COUNT];
	bool color; /* false under NO_COLOR or color=no */
	bool notify_bell;
	unsigned notify_osc; /* THEME_NOTIFY_* bits */
	bool notify_preview; /* show the message text in the notification */
};

/* The built-in look. no_color: the caller saw NO_COLOR set. */
void theme_init(struct theme *t, bool no_color);
/* Apply one "key = value" line (comments and blank lines are fine).
 * ERR_INVALID names the problem; t is unchanged then. */
int theme_parse_line(struct theme *t, const char *line, struct err *e);
/* Apply a whole file; a missing file is not an error. The first bad
 * line is reported (with its number) after the good ones are applied. */
int theme_load(struct theme *t, const char *path, struct err *e);
/* The element called name ("status", "sender_in", ...), or -1. */
int theme_element_by_name(const char *name);

#endif

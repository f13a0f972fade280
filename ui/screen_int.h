/* What screen.c and screen_draw.c share: the windows and the layout. */
#ifndef SOTTO_UI_SCREEN_INT_H
#define SOTTO_UI_SCREEN_INT_H

#include <curses.h>

#include "ui/screen.h"

struct screen {
	const struct theme *theme;
	int rows, cols;
	int list_w;  /* conversation list width, 0 when too narrow */
	int input_h; /* rows of the input area */
	bool too_small;
	WINDOW *title, *list, *msgs, *status, *input;
	attr_t attr[THEME_COUNT];
};

/* (Re)create the windows for the current size and input height. */
void screen_layout(struct screen *s, int input_h);
/* Input rows the editor text needs (1 to SCREEN_INPUT_MAX_ROWS). */
int screen_draw_input_rows(const struct app *a);

#define SCREEN_INPUT_MAX_ROWS 5

#endif

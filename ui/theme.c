/* ui.conf: "color.ELEMENT = FG [on BG] [bold] [reverse] [underline]
 * [dim]", "color = no", "notify.bell = yes|no", "notify.osc = 777 | 9 |
 * both | off", "notify.preview = yes|no". Values are words so the file
 * reads like what it does. */
#include "ui/theme.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const theme_element_names[THEME_COUNT] = {
    [THEME_TITLE] = "title",
    [THEME_LIST] = "list",
    [THEME_LIST_CURRENT] = "list_current",
    [THEME_LIST_UNREAD] = "list_unread",
    [THEME_TIME] = "time",
    [THEME_SENDER_IN] = "sender_in",
    [THEME_SENDER_OUT] = "sender_out",
    [THEME_TEXT] = "text",
    [THEME_TAG] = "tag",
    [THEME_TAG_FAILED] = "tag_failed",
    [THEME_NOTICE] = "notice",
    [THEME_STATUS] = "status",
    [THEME_WARNING] = "warning",
    [THEME_INPUT] = "input",
};

static const char *const theme_colour_names[] = {
    "black", "red", "green", "yellow", "blue", "magenta", "cyan", "white",
};

void
theme_init(struct theme *t, bool no_color)
{
	static const struct theme_style defaults[THEME_COUNT] = {
	    [THEME_TITLE] = {7, 4, THEME_BOLD},
	    [THEME_LIST] = {-1, -1, 0},
	    [THEME_LIST_CURRENT] = {-1, -1, THEME_REVERSE},
	    [THEME_LIST_UNREAD] = {3, -1, THEME_BOLD},
	    [THEME_TIME] = {-1, -1, THEME_DIM},
	    [THEME_SENDER_IN] = {6, -1, THEME_BOLD},
	    [THEME_SENDER_OUT] = {2, -1, THEME_BOLD},
	    [THEME_TEXT] = {-1, -1, 0},
	    [THEME_TAG] = {-1, -1, THEME_DIM},
	    [THEME_TAG_FAILED] = {1, -1, THEME_BOLD},
	    [THEME_NOTICE] = {5, -1, 0},
	    [THEME_STATUS] = {7, 4, 0},
	    [THEME_WARNING] = {7, 1, THEME_BOLD},
	    [THEME_INPUT] = {-1, -1, 0},
	};

	memcpy(t->style, defaults, sizeof defaults);
	t->color = !no_color;
	t->notify_bell = true;
	t->notify_osc = THEME_NOTIFY_OSC777;
	t->notify_preview = true;
}

int
theme_element_by_name(const char *name)
{
	int i;

	for (i = 0; i < THEME_COUNT; i++)
		if (strcmp(theme_element_names[i], name) == 0)
			return i;
	return -1;
}

static int
theme_colour(const char *word, short *out)
{
	char *end;
	long v;
	size_t i;

	if (strcmp(word, "default") == 0) {
		*out = -1;
		return 0;
	}
	for (i = 0; i < sizeof theme_colour_names / sizeof theme_colour_names[0]; i++)
		if (strcmp(word, theme_colour_names[i]) == 0) {
			*out = (short)i;
			return 0;
		}
	errno = 0;
	v = strtol(word, &end, 10);
	if (errno != 0 || *end != '\0' || end == word || v < 0 || v > 255)
		return -1;
	*out = (short)v;
	return 0;
}

static int
theme_bool(const char *word, bool *out)
{
	if (strcmp(word, "yes") == 0 || strcmp(word, "on") == 0 || strcmp(word, "true") == 0)
		*out = true;
	else if (strcmp(word, "no") == 0 || strcmp(word, "off") == 0 || strcmp(word, "false") == 0)
		*out = false;
	else
		return -1;
	return 0;
}

/* "FG [on BG] attrs..." into st. */
static int
theme_style_parse(char *value, struct theme_style *st, struct err *e)
{
	struct theme_style s = {-1, -1, 0};
	char *save = NULL, *w;
	bool have_fg = false;

	for (w = strtok_r(value, " \t", &save); w != NULL; w = strtok_r(NULL, " \t", &save)) {
		if (strcmp(w, "bold") == 0)
			s.attrs |= THEME_BOLD;
		else if (strcmp(w, "reverse") == 0)
			s.attrs |= THEME_REVERSE;
		else if (strcmp(w, "underline") == 0)
			s.attrs |= THEME_UNDERLINE;
		else if (strcmp(w, "dim") == 0)
			s.attrs |= THEME_DIM;
		else if (strcmp(w, "on") == 0) {
			w = strtok_r(NULL, " \t", &save);
			if (w == NULL || theme_colour(w, &s.bg) < 0)
				return err_set(e, ERR_INVALID, "'on' needs a colour");
		} else if (!have_fg && theme_colour(w, &s.fg) == 0) {
			have_fg = true;
		} else {
			return err_set(e, ERR_INVALID, "unknown colour or attribute '%s'", w);
		}
	}
	*st = s;
	return 0;
}

static char *
theme_trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

int
theme_parse_line(struct theme *t, const char *line, struct err *e)
{
	char buf[512], *key, *value, *eq;
	struct theme_style st;
	bool b;
	int el, rc = 0;

	if (strlen(line) >= sizeof buf)
		return err_set(e, ERR_INVALID, "line too long");
	strcpy(buf, line);
	key = theme_trim(buf);
	if (*key == '\0' || *key == '#')
		return 0;
	eq = strchr(key, '=');
	if (eq == NULL)
		return err_set(e, ERR_INVALID, "expected key = value");
	*eq = '\0';
	key = theme_trim(key);
	value = theme_trim(eq + 1);
	if (strncmp(key, "color.", 6) == 0) {
		el = theme_element_by_name(key + 6);
		if (el < 0)
			return err_set(e, ERR_INVALID, "unknown element '%s'", key + 6);
		if (theme_style_parse(value, &st, e) < 0)
			return -1;
		t->style[el] = st;
	} else if (strcmp(key, "color") == 0) {
		if (theme_bool(value, &b) < 0)
			return err_set(e, ERR_INVALID, "color: yes or no");
		/* NO_COLOR wins over the file. */
		t->color = t->color && b;
	} else if (strcmp(key, "notify.bell") == 0) {
		rc = theme_bool(value, &t->notify_bell);
	} else if (strcmp(key, "notify.preview") == 0) {
		rc = theme_bool(value, &t->notify_preview);
	} else if (strcmp(key, "notify.osc") == 0) {
		if (strcmp(value, "777") == 0)
			t->notify_osc = THEME_NOTIFY_OSC777;
		else if (strcmp(value, "9") == 0)
			t->notify_osc = THEME_NOTIFY_OSC9;
		else if (strcmp(value, "both") == 0)
			t->notify_osc = THEME_NOTIFY_OSC777 | THEME_NOTIFY_OSC9;
		else if (strcmp(value, "off") == 0 || strcmp(value, "no") == 0)
			t->notify_osc = 0;
		else
			return err_set(e, ERR_INVALID, "notify.osc: 777, 9, both or off");
	} else {
		return err_set(e, ERR_INVALID, "unknown setting '%s'", key);
	}
	if (rc < 0)
		return err_set(e, ERR_INVALID, "%s: yes or no", key);
	return 0;
}

int
theme_load(struct theme *t, const char *path, struct err *e)
{
	char line[512];
	struct err le;
	int lineno = 0, rc = 0;
	FILE *f = fopen(path, "re");

	if (f == NULL) {
		if (errno == ENOENT)
			return 0;
		return err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
	}
	while (fgets(line, sizeof line, f) != NULL) {
		lineno++;
		if (theme_parse_line(t, line, &le) < 0 && rc == 0)
			rc = err_set(e, ERR_INVALID, "%s:%d: %s", path, lineno, le.msg);
	}
	fclose(f);
	return rc;
}

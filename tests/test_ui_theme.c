/* Tests for ui/theme (ui.conf parsing, NO_COLOR) and ui/notify (bell and
 * OSC 777 / OSC 9 sequences that peer text can never break out of). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ui/notify.h"
#include "ui/theme.h"

static void
test_theme_parses_colours_and_attributes(void **state)
{
	struct theme t;
	struct err e;

	theme_init(&t, false);
	assert_int_equal(theme_parse_line(&t, "color.status = yellow on 235 bold underline", &e),
	                 0);
	assert_int_equal(t.style[THEME_STATUS].fg, 3);
	assert_int_equal(t.style[THEME_STATUS].bg, 235);
	assert_int_equal(t.style[THEME_STATUS].attrs, THEME_BOLD | THEME_UNDERLINE);
	assert_int_equal(theme_parse_line(&t, "  color.text=bold default  ", &e), 0);
	assert_int_equal(t.style[THEME_TEXT].fg, -1);
	assert_int_equal(t.style[THEME_TEXT].attrs, THEME_BOLD);
	assert_int_equal(theme_parse_line(&t, "# a comment", &e), 0);
	assert_int_equal(theme_parse_line(&t, "", &e), 0);
}

static void
test_theme_rejects_bad_lines_without_changing_anything(void **state)
{
	struct theme t, before;
	struct err e;

	theme_init(&t, false);
	before = t;
	assert_int_equal(theme_parse_line(&t, "color.nosuch = red", &e), -1);
	assert_non_null(strstr(e.msg, "nosuch"));
	assert_int_equal(theme_parse_line(&t, "color.status = red on", &e), -1);
	assert_int_equal(theme_parse_line(&t, "color.status = 256", &e), -1);
	assert_int_equal(theme_parse_line(&t, "color.status = red blinking", &e), -1);
	assert_int_equal(theme_parse_line(&t, "notify.bell = maybe", &e), -1);
	assert_int_equal(theme_parse_line(&t, "just words", &e), -1);
	assert_int_equal(theme_parse_line(&t, "volume = 11", &e), -1);
	assert_memory_equal(&t, &before, sizeof t);
}

static void
test_theme_no_color_wins_over_file(void **state)
{
	struct theme t;
	struct err e;

	theme_init(&t, true);
	assert_false(t.color);
	assert_int_equal(theme_parse_line(&t, "color = yes", &e), 0);
	assert_false(t.color);
	theme_init(&t, false);
	assert_int_equal(theme_parse_line(&t, "color = no", &e), 0);
	assert_false(t.color);
}

static void
test_theme_load_reports_line_and_applies_the_rest(void **state)
{
	char path[] = "/tmp/sotto-theme-XXXXXX";
	struct theme t;
	struct err e;
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");

	fputs("notify.osc = 9\nbogus line\nnotify.preview = no\n", f);
	fclose(f);
	theme_init(&t, false);
	assert_int_equal(theme_load(&t, path, &e), -1);
	assert_non_null(strstr(e.msg, ":2:"));
	assert_int_equal(t.notify_osc, THEME_NOTIFY_OSC9);
	assert_false(t.notify_preview);
	unlink(path);
	/* No file at all is the built-in look. */
	assert_int_equal(theme_load(&t, path, &e), 0);
}

static void
test_notify_builds_osc777_with_bell(void **state)
{
	struct theme t;
	char *s;

	theme_init(&t, false);
	s = notify_sequence(&t, "bob", "hi there", false);
	assert_string_equal(s, "\a\x1b]777;notify;sotto: bob;hi there\x1b\\");
	free(s);
}

static void
test_notify_hides_text_without_preview(void **state)
{
	struct theme t;
	char *s;

	theme_init(&t, false);
	t.notify_preview = false;
	t.notify_bell = false;
	t.notify_osc = THEME_NOTIFY_OSC9;
	s = notify_sequence(&t, "bob", "secret plans", false);
	assert_null(strstr(s, "secret"));
	assert_string_equal(s, "\x1b]9;sotto: bob: new message\x1b\\");
	free(s);
}

static void
test_notify_peer_text_cannot_end_the_sequence(void **state)
{
	struct theme t;
	const char *evil = "x\x1b\\\x1b]52;c;ZXZpbA==\x07;\xc2\x9c\xc2\x9b"
	                   "2J\x9c";
	size_t i, esc = 0;
	char *s;

	theme_init(&t, false);
	t.notify_bell = false;
	s = notify_sequence(&t, "ev;il\x07", evil, false);
	for (i = 0; s[i] != '\0'; i++) {
		assert_true(s[i] != '\a');
		esc += s[i] == '\x1b';
	}
	/* Only our own two: the OSC introducer and its terminator. */
	assert_int_equal(esc, 2);
	assert_null(strstr(s, "\xc2\x9c"));
	/* Exactly the three separators of the OSC 777 fields. */
	for (i = 0, esc = 0; s[i] != '\0'; i++)
		esc += s[i] == ';';
	assert_int_equal(esc, 3);
	free(s);
}

static void
test_notify_wraps_for_tmux_with_doubled_escapes(void **state)
{
	struct theme t;
	char *s;

	theme_init(&t, false);
	t.notify_bell = false;
	s = notify_sequence(&t, "bob", "hi", true);
	assert_string_equal(s, "\x1bPtmux;\x1b\x1b]777;notify;sotto: bob;hi\x1b\x1b\\\x1b\\");
	free(s);
}

static void
test_notify_clean_bounds_length_on_char_boundary(void **state)
{
	char *s = notify_clean("日本語日本語", 7);
	assert_string_equal(s, "日本");
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_theme_parses_colours_and_attributes),
	    cmocka_unit_test(test_theme_rejects_bad_lines_without_changing_anything),
	    cmocka_unit_test(test_theme_no_color_wins_over_file),
	    cmocka_unit_test(test_theme_load_reports_line_and_applies_the_rest),
	    cmocka_unit_test(test_notify_builds_osc777_with_bell),
	    cmocka_unit_test(test_notify_hides_text_without_preview),
	    cmocka_unit_test(test_notify_peer_text_cannot_end_the_sequence),
	    cmocka_unit_test(test_notify_wraps_for_tmux_with_doubled_escapes),
	    cmocka_unit_test(test_notify_clean_bounds_length_on_char_boundary),
	};

	if (setlocale(LC_ALL, "C.UTF-8") == NULL)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}

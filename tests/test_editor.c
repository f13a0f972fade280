/* Tests for ui/editor: Emacs keys on UTF-8 boundaries, multi-line
 * compose, history and tab completion of commands and names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui/editor.h"

static int
setup(void **state)
{
	struct editor *ed = malloc(sizeof *ed);
	editor_init(ed);
	*state = ed;
	return 0;
}

static int
teardown(void **state)
{
	editor_free(*state);
	free(*state);
	return 0;
}

static void
type(struct editor *ed, const char *s)
{
	assert_int_equal(editor_insert(ed, s, strlen(s)), 0);
}

static void
test_editor_inserts_at_cursor(void **state)
{
	struct editor *ed = *state;
	type(ed, "hllo");
	editor_key(ed, EDITOR_KEY_CTRL_A);
	editor_key(ed, EDITOR_KEY_RIGHT);
	editor_key(ed, 'e');
	assert_string_equal(ed->buf, "hello");
	assert_int_equal(ed->cursor, 2);
}

static void
test_editor_moves_over_multibyte_chars_whole(void **state)
{
	struct editor *ed = *state;
	type(ed, "a日😀");
	editor_key(ed, EDITOR_KEY_LEFT);
	assert_int_equal(ed->cursor, 4); /* before the 4-byte emoji */
	editor_key(ed, EDITOR_KEY_CTRL_B);
	assert_int_equal(ed->cursor, 1);
	editor_key(ed, EDITOR_KEY_CTRL_F);
	assert_int_equal(ed->cursor, 4);
	editor_key(ed, EDITOR_KEY_END);
	editor_key(ed, EDITOR_KEY_BACKSPACE);
	assert_string_equal(ed->buf, "a日");
	editor_key(ed, EDITOR_KEY_HOME);
	editor_key(ed, EDITOR_KEY_DELETE);
	assert_string_equal(ed->buf, "日");
	editor_key(ed, EDITOR_KEY_CTRL_D);
	assert_string_equal(ed->buf, "");
	assert_false(editor_key(ed, EDITOR_KEY_BACKSPACE));
}

static void
test_editor_inserts_unicode_keys_as_utf8(void **state)
{
	struct editor *ed = *state;
	editor_key(ed, 0xe9);
	editor_key(ed, 0x1f600);
	assert_string_equal(ed->buf, "é😀");
	assert_false(editor_key(ed, 0xd800));
	assert_false(editor_key(ed, 0x1b));
	assert_string_equal(ed->buf, "é😀");
}

static void
test_editor_refuses_invalid_utf8_and_controls(void **state)
{
	struct editor *ed = *state;
	assert_int_equal(editor_insert(ed, "\xc0\x9b", 2), -1);
	assert_int_equal(editor_insert(ed, "a\x1b[2J", 5), -1);
	assert_int_equal(editor_insert(ed, "\xc2\x9b", 2), -1);
	assert_int_equal(ed->len, 0);
}

static void
test_editor_ctrl_k_kills_to_end_and_ctrl_y_yanks(void **state)
{
	struct editor *ed = *state;
	type(ed, "hello world");
	ed->cursor = 5;
	editor_key(ed, EDITOR_KEY_CTRL_K);
	assert_string_equal(ed->buf, "hello");
	editor_key(ed, EDITOR_KEY_CTRL_A);
	editor_key(ed, EDITOR_KEY_CTRL_Y);
	assert_string_equal(ed->buf, " worldhello");
}

static void
test_editor_ctrl_u_kills_to_line_start(void **state)
{
	struct editor *ed = *state;
	type(ed, "hello world");
	ed->cursor = 6;
	editor_key(ed, EDITOR_KEY_CTRL_U);
	assert_string_equal(ed->buf, "world");
	assert_int_equal(ed->cursor, 0);
}

static void
test_editor_ctrl_w_kills_previous_word(void **state)
{
	struct editor *ed = *state;
	type(ed, "send to  bob  ");
	editor_key(ed, EDITOR_KEY_CTRL_W);
	assert_string_equal(ed->buf, "send to  ");
	editor_key(ed, EDITOR_KEY_CTRL_W);
	assert_string_equal(ed->buf, "send ");
}

static void
test_editor_alt_enter_composes_multiple_lines(void **state)
{
	struct editor *ed = *state;
	type(ed, "first");
	editor_key(ed, EDITOR_KEY_ALT_ENTER);
	type(ed, "second");
	assert_string_equal(ed->buf, "first\nsecond");
	/* Home/End and Ctrl-U work on the current line only. */
	editor_key(ed, EDITOR_KEY_HOME);
	assert_int_equal(ed->cursor, 6);
	editor_key(ed, EDITOR_KEY_LEFT);
	editor_key(ed, EDITOR_KEY_CTRL_A);
	assert_int_equal(ed->cursor, 0);
	editor_key(ed, EDITOR_KEY_CTRL_E);
	assert_int_equal(ed->cursor, 5);
	/* Ctrl-K at the end of a line joins the next one. */
	editor_key(ed, EDITOR_KEY_CTRL_K);
	assert_string_equal(ed->buf, "firstsecond");
}

static void
test_editor_history_browses_and_restores_draft(void **state)
{
	struct editor *ed = *state;
	char *t;

	type(ed, "one");
	free(editor_take(ed));
	type(ed, "two");
	t = editor_take(ed);
	assert_string_equal(t, "two");
	free(t);
	assert_int_equal(ed->len, 0);
	type(ed, "draft");
	assert_true(editor_key(ed, EDITOR_KEY_UP));
	assert_string_equal(ed->buf, "two");
	assert_true(editor_key(ed, EDITOR_KEY_UP));
	assert_string_equal(ed->buf, "one");
	assert_false(editor_key(ed, EDITOR_KEY_UP));
	assert_true(editor_key(ed, EDITOR_KEY_DOWN));
	assert_true(editor_key(ed, EDITOR_KEY_DOWN));
	assert_string_equal(ed->buf, "draft");
	assert_false(editor_key(ed, EDITOR_KEY_DOWN));
}

static void
test_editor_history_is_bounded_and_skips_repeats(void **state)
{
	struct editor *ed = *state;
	char line[16];
	int i;

	for (i = 0; i < EDITOR_HISTORY_MAX + 20; i++) {
		snprintf(line, sizeof line, "line %d", i);
		type(ed, line);
		free(editor_take(ed));
		type(ed, line);
		free(editor_take(ed));
	}
	assert_int_equal(ed->nhistory, EDITOR_HISTORY_MAX);
	assert_string_equal(ed->history[0], "line 20");
}

static void
test_editor_secret_mode_keeps_no_history(void **state)
{
	struct editor *ed = *state;
	char *t;

	ed->secret = true;
	type(ed, "hunter2");
	editor_key(ed, EDITOR_KEY_CTRL_U);
	assert_null(ed->kill);
	type(ed, "hunter2");
	t = editor_take(ed);
	assert_string_equal(t, "hunter2");
	free(t);
	assert_int_equal(ed->nhistory, 0);
	assert_false(editor_key(ed, EDITOR_KEY_UP));
}

static void
test_editor_completes_unique_command(void **state)
{
	struct editor *ed = *state;
	const char *out[8];

	type(ed, "/qu");
	assert_int_equal(editor_complete(ed, NULL, 0, out, 8), 1);
	assert_string_equal(ed->buf, "/quit ");
}

static void
test_editor_completion_lists_ambiguous_commands(void **state)
{
	struct editor *ed = *state;
	const char *out[8];
	size_t n;

	type(ed, "/s");
	n = editor_complete(ed, NULL, 0, out, 8);
	/* /safety and /search at least; only UI commands (not "send"). */
	assert_true(n >= 2);
	assert_string_equal(out[0], "safety");
	assert_string_equal(out[1], "search");
	assert_string_equal(ed->buf, "/s");
}

static void
test_editor_completion_never_offers_cli_only_commands(void **state)
{
	struct editor *ed = *state;
	const char *out[8];

	type(ed, "/reg");
	assert_int_equal(editor_complete(ed, NULL, 0, out, 8), 0);
	assert_string_equal(ed->buf, "/reg");
}

static void
test_editor_completes_contact_names(void **state)
{
	struct editor *ed = *state;
	const char *names[] = {"alice", "albert", "bob"};
	const char *out[8];

	type(ed, "/msg b");
	assert_int_equal(editor_complete(ed, names, 3, out, 8), 1);
	assert_string_equal(ed->buf, "/msg bob ");
	editor_clear(ed);
	type(ed, "hi al");
	assert_int_equal(editor_complete(ed, names, 3, out, 8), 2);
	assert_string_equal(ed->buf, "hi al");
	editor_clear(ed);
	type(ed, "hi ali");
	assert_int_equal(editor_complete(ed, names, 3, out, 8), 1);
	assert_string_equal(ed->buf, "hi alice ");
}

static void
test_editor_completion_extends_common_prefix(void **state)
{
	struct editor *ed = *state;
	const char *names[] = {"carol1", "carol2"};
	const char *out[8];

	type(ed, "c");
	assert_int_equal(editor_complete(ed, names, 2, out, 8), 2);
	assert_string_equal(ed->buf, "carol");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	    T(test_editor_inserts_at_cursor),
	    T(test_editor_moves_over_multibyte_chars_whole),
	    T(test_editor_inserts_unicode_keys_as_utf8),
	    T(test_editor_refuses_invalid_utf8_and_controls),
	    T(test_editor_ctrl_k_kills_to_end_and_ctrl_y_yanks),
	    T(test_editor_ctrl_u_kills_to_line_start),
	    T(test_editor_ctrl_w_kills_previous_word),
	    T(test_editor_alt_enter_composes_multiple_lines),
	    T(test_editor_history_browses_and_restores_draft),
	    T(test_editor_history_is_bounded_and_skips_repeats),
	    T(test_editor_secret_mode_keeps_no_history),
	    T(test_editor_completes_unique_command),
	    T(test_editor_completion_lists_ambiguous_commands),
	    T(test_editor_completion_never_offers_cli_only_commands),
	    T(test_editor_completes_contact_names),
	    T(test_editor_completion_extends_common_prefix),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Tests for ui/width and ui/wrap: display widths of ASCII, CJK, emoji and
 * combining marks, and word wrapping that never overflows a line or
 * splits a wide character. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "util/utf8.h"
#include "util/width.h"
#include "ui/wrap.h"

static size_t
w(const char *s)
{
	return width_str(s, strlen(s));
}

static void
test_width_counts_cjk_and_emoji_as_two(void **state)
{
	assert_int_equal(w("abc"), 3);
	assert_int_equal(w("日本語"), 6);
	assert_int_equal(w("😀"), 2);
	assert_int_equal(w("a😀b"), 4);
	assert_int_equal(width_cp(0x4e00), 2);
}

static void
test_width_counts_combining_as_zero(void **state)
{
	assert_int_equal(w("e\xcc\x81"), 1);
	assert_int_equal(width_cp(0x301), 0);
	assert_int_equal(width_cp(0x200d), 0);
}

static void
test_width_reports_controls_unprintable(void **state)
{
	assert_int_equal(width_cp(0x1b), -1);
	assert_int_equal(width_cp(0x9b), -1);
	assert_int_equal(width_cp(0x7f), -1);
	assert_int_equal(width_cp(0xd800), -1);
}

static void
test_width_fit_never_splits_a_wide_char(void **state)
{
	size_t used;
	const char *s = "ab日本";

	/* 3 columns: "ab" fits, "日" (2) would overflow. */
	assert_int_equal(width_fit(s, strlen(s), 3, &used), 2);
	assert_int_equal(used, 2);
	assert_int_equal(width_fit(s, strlen(s), 4, &used), 5);
	assert_int_equal(used, 4);
}

static void
test_width_fit_keeps_marks_with_their_base(void **state)
{
	const char *s = "e\xcc\x81x";
	size_t used;

	assert_int_equal(width_fit(s, strlen(s), 1, &used), 3);
	assert_int_equal(used, 1);
}

/* Check the invariants of a wrap: lines in order, within cols, covering
 * every non-space byte, each starting on a character boundary. */
static size_t
wrap_check(const char *text, size_t cols, struct wrap_line **out)
{
	size_t n = wrap_text(text, strlen(text), cols, out), i;
	uint32_t cp;

	for (i = 0; i < n; i++) {
		const struct wrap_line *l = &(*out)[i];
		assert_true(l->cols <= cols);
		assert_int_equal(width_str(text + l->off, l->len), l->cols);
		if (l->len > 0) {
			utf8_decode(text + l->off, l->len, &cp);
			assert_true(cp != UTF8_INVALID);
		}
		assert_null(memchr(text + l->off, '\n', l->len));
		if (i > 0)
			assert_true(l->off >= (*out)[i - 1].off + (*out)[i - 1].len);
	}
	return n;
}

static void
test_wrap_breaks_at_spaces(void **state)
{
	struct wrap_line *l;
	const char *t = "the quick brown fox";
	size_t n = wrap_check(t, 10, &l);

	assert_int_equal(n, 2);
	assert_int_equal(l[0].len, 9); /* "the quick" */
	assert_memory_equal(t + l[1].off, "brown fox", 9);
	free(l);
}

static void
test_wrap_hard_breaks_long_words(void **state)
{
	struct wrap_line *l;
	const char *t = "abcdefghijklmnopqrstuvwxyz";
	size_t n = wrap_check(t, 10, &l);

	assert_int_equal(n, 3);
	assert_int_equal(l[0].len, 10);
	assert_int_equal(l[2].len, 6);
	free(l);
}

static void
test_wrap_moves_wide_char_whole_to_next_line(void **state)
{
	struct wrap_line *l;
	/* 5 columns: "abcd" + "日" would be 6, so 日 starts line 2 whole. */
	const char *t = "abcd日本語";
	size_t n = wrap_check(t, 5, &l);

	assert_int_equal(n, 3);
	assert_int_equal(l[0].len, 4);
	assert_int_equal(l[0].cols, 4);
	assert_int_equal(l[1].cols, 4);
	assert_memory_equal(t + l[1].off, "日本", 6);
	free(l);
}

static void
test_wrap_keeps_explicit_newlines_and_empty_lines(void **state)
{
	struct wrap_line *l;
	size_t n = wrap_check("one\n\ntwo", 80, &l);

	assert_int_equal(n, 3);
	assert_int_equal(l[1].len, 0);
	assert_int_equal(l[2].len, 3);
	free(l);
}

static void
test_wrap_of_empty_text_is_one_empty_line(void **state)
{
	struct wrap_line *l;
	size_t n = wrap_text("", 0, 10, &l);

	assert_int_equal(n, 1);
	assert_int_equal(l[0].len, 0);
	free(l);
}

static void
test_wrap_emoji_and_marks_at_every_width(void **state)
{
	const char *t = "héllo 😀😀 wörld 日本語テキスト e\xcc\x81\xcc\x82 and more words here";
	struct wrap_line *l;
	size_t cols;

	for (cols = 2; cols < 40; cols++) {
		wrap_check(t, cols, &l);
		free(l);
	}
}

static void
test_wrap_gives_wide_char_its_own_line_at_one_column(void **state)
{
	struct wrap_line *l;
	size_t n = wrap_text("日本", 6, 1, &l);

	assert_int_equal(n, 2);
	assert_int_equal(l[0].len, 3);
	free(l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_width_counts_cjk_and_emoji_as_two),
	    cmocka_unit_test(test_width_counts_combining_as_zero),
	    cmocka_unit_test(test_width_reports_controls_unprintable),
	    cmocka_unit_test(test_width_fit_never_splits_a_wide_char),
	    cmocka_unit_test(test_width_fit_keeps_marks_with_their_base),
	    cmocka_unit_test(test_wrap_breaks_at_spaces),
	    cmocka_unit_test(test_wrap_hard_breaks_long_words),
	    cmocka_unit_test(test_wrap_moves_wide_char_whole_to_next_line),
	    cmocka_unit_test(test_wrap_keeps_explicit_newlines_and_empty_lines),
	    cmocka_unit_test(test_wrap_of_empty_text_is_one_empty_line),
	    cmocka_unit_test(test_wrap_emoji_and_marks_at_every_width),
	    cmocka_unit_test(test_wrap_gives_wide_char_its_own_line_at_one_column),
	};

	if (setlocale(LC_ALL, "C.UTF-8") == NULL)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Hostile-input tests for ui/sanitize: nothing a peer sends may reach the
 * terminal as a control, escape sequence, bidi override or invalid UTF-8,
 * whatever the encoding trick. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "util/sanitize.h"
#include "util/utf8.h"

/* Decode the whole output and check what a terminal must never see. */
static void
assert_inert(const char *out, int multiline)
{
	size_t len = strlen(out), pos = 0, n;
	uint32_t cp;

	while (pos < len) {
		n = utf8_decode(out + pos, len - pos, &cp);
		assert_true(cp != UTF8_INVALID);
		if (cp == '\n')
			assert_true(multiline);
		else
			assert_false(cp < 0x20 || cp == 0x7f);
		assert_false(cp >= 0x80 && cp < 0xa0);
		assert_false(cp >= 0x202a && cp <= 0x202e);
		assert_false(cp >= 0x2066 && cp <= 0x2069);
		pos += n;
	}
}

static char *
san(const char *s, unsigned flags)
{
	char *out = sanitize_str(s, flags);
	assert_inert(out, flags & SANITIZE_MULTILINE);
	return out;
}

static char *
san_len(const char *s, size_t len, unsigned flags)
{
	char *out = sanitize(s, len, flags);
	assert_inert(out, flags & SANITIZE_MULTILINE);
	return out;
}

static void
test_sanitize_keeps_plain_text_and_emoji(void **state)
{
	char *out = san("hello, wörld 日本 😀", 0);
	assert_string_equal(out, "hello, wörld 日本 😀");
	free(out);
}

static void
test_sanitize_shows_esc_as_control_picture(void **state)
{
	char *out = san("a\x1b[2Jb", 0);
	/* ESC becomes U+241B; the rest of the sequence is plain text. */
	assert_string_equal(out, "a\xe2\x90\x9b[2Jb");
	free(out);
}

static void
test_sanitize_neutralises_every_escape_family(void **state)
{
	static const char *const attacks[] = {
	    "\x1b[31mred\x1b[0m",            /* CSI SGR */
	    "\x1b]0;pwned title\x07",        /* OSC title, BEL-terminated */
	    "\x1b]52;c;ZXZpbA==\x1b\\",      /* OSC 52 clipboard, ST-terminated */
	    "\x1b]8;;http://evil\x1b\\link", /* OSC 8 hyperlink */
	    "\x1bP+q544e\x1b\\",             /* DCS */
	    "\x1b_APC payload\x1b\\",        /* APC */
	    "\x1b^PM payload\x1b\\",         /* PM */
	    "\x1bXSOS payload\x1b\\",        /* SOS */
	    "\x1b"
	    "c",                                      /* RIS full reset */
	    "\x1b(0lqk",                              /* charset switch */
	    "\x1bPtmux;\x1b\x1b]52;c;eA==\x07\x1b\\", /* tmux passthrough */
	};
	size_t i;

	for (i = 0; i < sizeof attacks / sizeof attacks[0]; i++) {
		char *out = san(attacks[i], 0);
		assert_null(strchr(out, '\x1b'));
		assert_null(strchr(out, '\x07'));
		assert_non_null(strstr(out, "\xe2\x90\x9b")); /* visible ESC */
		free(out);
	}
}

static void
test_sanitize_replaces_8bit_c1_controls(void **state)
{
	/* U+009B (CSI), U+009D (OSC), U+0090 (DCS) and U+0085 (NEL) encoded
	 * as UTF-8, and the raw 8-bit bytes 0x9B / 0x9D. */
	const char *s = "\xc2\x9b"
	                "2J \xc2\x9d"
	                "0;x \xc2\x90 \xc2\x85 \x9b"
	                "31m \x9d";
	char *out = san(s, 0);
	assert_null(strstr(out, "\xc2\x9b"));
	assert_null(strstr(out, "\xc2\x85"));
	assert_non_null(strstr(out, "\xef\xbf\xbd"
	                            "2J"));
	assert_non_null(strstr(out, "\xef\xbf\xbd"
	                            "31m"));
	free(out);
}

static void
test_sanitize_shows_c0_del_and_nul(void **state)
{
	const char s[] = {'a', 0x00, 0x07, 0x08, 0x0d, 0x7f, 'z'};
	char *out = san_len(s, sizeof s, 0);
	/* NUL U+2400, BEL U+2407, BS U+2408, CR U+240D, DEL U+2421. */
	assert_string_equal(out, "a\xe2\x90\x80\xe2\x90\x87\xe2\x90\x88\xe2\x90\x8d\xe2\x90\xa1z");
	free(out);
}

static void
test_sanitize_keeps_newlines_only_when_multiline(void **state)
{
	char *one = san("a\nb\r\nc", 0);
	char *multi = san("a\nb\r\nc\td", SANITIZE_MULTILINE);
	assert_null(strchr(one, '\n'));
	assert_non_null(strstr(one, "\xe2\x90\xa4")); /* U+2424 */
	assert_string_equal(multi, "a\nb\nc    d");
	free(one);
	free(multi);
}

static void
test_sanitize_replaces_bidi_overrides_and_isolates(void **state)
{
	/* "Trojan Source": RLO, LRE, PDF, LRI, RLI, FSI, PDI, RLM. */
	const char *s = "x\xe2\x80\xae"
	                "cba\xe2\x80\xaa\xe2\x80\xac\xe2\x81\xa6\xe2\x81\xa7"
	                "\xe2\x81\xa8\xe2\x81\xa9\xe2\x80\x8fy";
	char *out = san(s, 0);
	assert_string_equal(out, "x\xef\xbf\xbd"
	                         "cba\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
	                         "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdy");
	free(out);
}

static void
test_sanitize_rejects_overlong_encodings(void **state)
{
	/* Overlong ESC (C0 9B), overlong '/' (E0 80 AF, F0 80 80 AF), and
	 * overlong NUL (C0 80): none may decode to the character. */
	const char *s = "\xc0\x9b[2J \xe0\x80\xaf \xf0\x80\x80\xaf \xc0\x80";
	char *out = san(s, 0);
	assert_null(strchr(out, '/'));
	assert_null(strstr(out, "\xe2\x90\x9b")); /* not even as ESC */
	assert_non_null(strstr(out, "\xef\xbf\xbd"));
	free(out);
}

static void
test_sanitize_rejects_surrogates_and_out_of_range(void **state)
{
	/* CESU-style surrogate pair, a lone low surrogate, U+110000 and
	 * 5- and 6-byte forms. */
	const char *s = "\xed\xa0\xbd\xed\xb8\x80 \xed\xb0\x80 \xf4\x90\x80\x80 "
	                "\xf8\x88\x80\x80\x80 \xfc\x84\x80\x80\x80\x80 \xfe\xff";
	char *out = san(s, 0);
	size_t pos = 0, len = strlen(out);
	uint32_t cp;
	while (pos < len) {
		pos += utf8_decode(out + pos, len - pos, &cp);
		assert_false(cp >= 0xd800 && cp <= 0xdfff);
		assert_true(cp <= 0x10ffff);
	}
	free(out);
}

static void
test_sanitize_replaces_truncated_sequences(void **state)
{
	/* Truncated 2-, 3- and 4-byte sequences at the end and mid-string:
	 * the following ASCII must survive, the end must not be read past. */
	const char s1[] = {'a',        (char)0xe2, (char)0x82, 'b',
	                   (char)0xf0, (char)0x9f, 'c',        (char)0xc3};
	char *out = san_len(s1, sizeof s1, 0);
	assert_string_equal(out, "a\xef\xbf\xbd"
	                         "b\xef\xbf\xbd"
	                         "c\xef\xbf\xbd");
	free(out);
}

static void
test_sanitize_keeps_combining_marks_but_bounds_them(void **state)
{
	char zalgo[4 + 2 * 100 + 1];
	size_t i, marks = 0, pos, len;
	uint32_t cp;
	char *out;

	out = san("e\xcc\x81", 0); /* e + COMBINING ACUTE */
	assert_string_equal(out, "e\xcc\x81");
	free(out);

	strcpy(zalgo, "Z");
	for (i = 0; i < 100; i++)
		strcat(zalgo, "\xcc\x81");
	out = san(zalgo, 0);
	len = strlen(out);
	for (pos = 0; pos < len;) {
		pos += utf8_decode(out + pos, len - pos, &cp);
		marks += cp == 0x301;
	}
	assert_int_equal(marks, SANITIZE_ZERO_WIDTH_MAX);
	free(out);
}

static void
test_sanitize_keeps_zero_width_joiner_sequences(void **state)
{
	/* Family emoji: man ZWJ woman ZWJ girl; and a ZWSP. */
	const char *fam =
	    "\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x91\xa7";
	char *out = san(fam, 0);
	assert_string_equal(out, fam);
	free(out);
	out = san("a\xe2\x80\x8b"
	          "b",
	          0);
	assert_string_equal(out, "a\xe2\x80\x8b"
	                         "b");
	free(out);
}

static void
test_sanitize_gives_leading_mark_a_base(void **state)
{
	/* A combining mark first would combine with whatever is drawn
	 * before the text on screen. */
	char *out = san("\xcc\x81x", 0);
	assert_string_equal(out, "\xe2\x97\x8c\xcc\x81x");
	free(out);
}

static void
test_sanitize_handles_null_and_empty(void **state)
{
	char *a = sanitize_str(NULL, 0), *b = sanitize("", 0, 0);
	assert_string_equal(a, "");
	assert_string_equal(b, "");
	free(a);
	free(b);
}

static void
test_sanitize_survives_every_byte_value(void **state)
{
	char all[512];
	size_t i;
	char *out;

	for (i = 0; i < sizeof all; i++)
		all[i] = (char)(i * 7 + (i >> 8));
	out = san_len(all, sizeof all, SANITIZE_MULTILINE);
	free(out);
	for (i = 0; i < 256; i++)
		all[i] = (char)i;
	out = san_len(all, 256, 0);
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sanitize_keeps_plain_text_and_emoji),
	    cmocka_unit_test(test_sanitize_shows_esc_as_control_picture),
	    cmocka_unit_test(test_sanitize_neutralises_every_escape_family),
	    cmocka_unit_test(test_sanitize_replaces_8bit_c1_controls),
	    cmocka_unit_test(test_sanitize_shows_c0_del_and_nul),
	    cmocka_unit_test(test_sanitize_keeps_newlines_only_when_multiline),
	    cmocka_unit_test(test_sanitize_replaces_bidi_overrides_and_isolates),
	    cmocka_unit_test(test_sanitize_rejects_overlong_encodings),
	    cmocka_unit_test(test_sanitize_rejects_surrogates_and_out_of_range),
	    cmocka_unit_test(test_sanitize_replaces_truncated_sequences),
	    cmocka_unit_test(test_sanitize_keeps_combining_marks_but_bounds_them),
	    cmocka_unit_test(test_sanitize_keeps_zero_width_joiner_sequences),
	    cmocka_unit_test(test_sanitize_gives_leading_mark_a_base),
	    cmocka_unit_test(test_sanitize_handles_null_and_empty),
	    cmocka_unit_test(test_sanitize_survives_every_byte_value),
	};

	if (setlocale(LC_ALL, "C.UTF-8") == NULL)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}

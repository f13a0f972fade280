/* Unit tests for util/: error values and allocation helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"
#include "util/xmalloc.h"

static void
test_err_set_returns_minus_one_and_formats(void **state)
{
	struct err e;
	(void)state;
	assert_int_equal(err_set(&e, ERR_IO, "open %s: %d", "db", 5), -1);
	assert_int_equal(e.code, ERR_IO);
	assert_string_equal(e.msg, "open db: 5");
	err_prefix(&e, "profile %s", "alice");
	assert_string_equal(e.msg, "profile alice: open db: 5");
	assert_string_equal(err_code_name(e.code), "io");
	err_clear(&e);
	assert_int_equal(e.code, ERR_OK);
	assert_string_equal(e.msg, "");
}

static void
test_err_message_truncates_without_overflow(void **state)
{
	struct err e;
	char big[1000];
	(void)state;
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	err_set(&e, ERR_INVALID, "%s", big);
	assert_int_equal(strlen(e.msg), sizeof e.msg - 1);
	err_prefix(&e, "%s", big);
	assert_int_equal(strlen(e.msg), sizeof e.msg - 1);
}

static void
test_err_set_accepts_null(void **state)
{
	(void)state;
	assert_int_equal(err_set(NULL, ERR_IO, "x"), -1);
	assert_string_equal(err_code_name((enum err_code)999), "unknown");
}

static void
test_xasprintf_and_dups(void **state)
{
	char *s, *d;
	(void)state;
	s = xasprintf("%s-%d", "a", 42);
	assert_string_equal(s, "a-42");
	d = xstrndup("abcdef", 3);
	assert_string_equal(d, "abc");
	free(s);
	free(d);
	d = xmemdup("\0\1\2", 3);
	assert_memory_equal(d, "\0\1\2", 3);
	wipe_free(d, 3);
	s = xstrdup("secret");
	wipe_free_str(s);
	wipe_free(NULL, 10);
}

static void
test_wipe_zeroes_buffer(void **state)
{
	unsigned char buf[32];
	(void)state;
	memset(buf, 0xAA, sizeof buf);
	wipe(buf, sizeof buf);
	for (size_t i = 0; i < sizeof buf; i++)
		assert_int_equal(buf[i], 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_err_set_returns_minus_one_and_formats),
		cmocka_unit_test(test_err_message_truncates_without_overflow),
		cmocka_unit_test(test_err_set_accepts_null),
		cmocka_unit_test(test_xasprintf_and_dups),
		cmocka_unit_test(test_wipe_zeroes_buffer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

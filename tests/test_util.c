/* Unit tests for util/: error values and allocation helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <sys/socket.h>
#include <errno.h>

#include "util/err.h"
#include "util/fdio.h"
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

/* A pipe takes 64 KiB at a time: a bigger write comes out whole while
 * the other end reads; a reader that has gone is EPIPE, not a signal,
 * on a socket. */
static void
test_fdio_writes_everything_and_reports_a_gone_reader(void **state)
{
	enum { N = 300 * 1024 };
	unsigned char *out = xmalloc(N), *in = xmalloc(N);
	size_t got = 0;
	ssize_t n;
	pid_t pid;
	int p[2], sv[2], status, i;
	(void)state;

	for (i = 0; i < N; i++)
		out[i] = (unsigned char)(i * 7);
	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		_exit(fdio_write_all(p[1], out, N, false) == 0 ? 0 : 1);
	}
	close(p[1]);
	while ((n = read(p[0], in + got, N - got)) > 0)
		got += (size_t)n;
	close(p[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(got, N);
	assert_memory_equal(in, out, N);

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	close(sv[1]);
	errno = 0;
	assert_int_equal(fdio_write_all(sv[0], out, 16, true), -1);
	assert_int_equal(errno, EPIPE);
	close(sv[0]);
	free(out);
	free(in);
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
	    cmocka_unit_test(test_fdio_writes_everything_and_reports_a_gone_reader),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

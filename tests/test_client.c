/* Unit tests for the frontend side: passphrase files must be private,
 * unlocking never prompts without a terminal, attaching without an
 * engine fails cleanly when auto-start is off, and a zero timeout never
 * waits for a silent engine. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client.h"

static char dir[64];

static int
setup(void **state)
{
	int fd;
	(void)state;
	/* Whatever runs us, stdin is not a terminal here. */
	fd = open("/dev/null", O_RDONLY);
	if (fd < 0 || dup2(fd, 0) < 0)
		return -1;
	close(fd);
	snprintf(dir, sizeof dir, "/tmp/sotto-test-client-XXXXXX");
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char cmd[128];
	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static char *
write_file(const char *name, const char *content, mode_t mode)
{
	char *path = xasprintf("%s/%s", dir, name);
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	close(fd);
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

static void
test_client_reads_private_passphrase_file(void **state)
{
	char *path = write_file("pass", "correct horse\n", 0600);
	struct err e;
	char *pass;
	(void)state;

	assert_int_equal(client_read_passphrase_file(path, &pass, &e), 0);
	/* One trailing newline is the editor's, not the passphrase's. */
	assert_string_equal(pass, "correct horse");
	wipe_free_str(pass);
	free(path);
	path = write_file("pass2", "two\n\n", 0400);
	assert_int_equal(client_read_passphrase_file(path, &pass, &e), 0);
	assert_string_equal(pass, "two\n");
	wipe_free_str(pass);
	free(path);
}

static void
test_client_refuses_passphrase_file_others_can_read(void **state)
{
	static const mode_t bad[] = {0644, 0640, 0604, 0660, 0606};
	struct err e;
	char *pass = NULL, *path;
	size_t i;
	(void)state;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		path = write_file("open", "secret\n", bad[i]);
		assert_int_equal(client_read_passphrase_file(path, &pass, &e), -1);
		assert_int_equal(e.code, ERR_AUTH);
		assert_non_null(strstr(e.msg, "chmod 600"));
		assert_null(pass);
		free(path);
	}
}

static void
test_client_refuses_empty_or_missing_passphrase_file(void **state)
{
	char *path = write_file("empty", "\n", 0600);
	char *missing = xasprintf("%s/none", dir);
	struct err e;
	char *pass;
	(void)state;

	assert_int_equal(client_read_passphrase_file(path, &pass, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	assert_int_equal(client_read_passphrase_file(missing, &pass, &e), -1);
	assert_int_equal(e.code, ERR_NOTFOUND);
	assert_int_equal(client_read_passphrase_file(dir, &pass, &e), -1);
	free(path);
	free(missing);
}

static void
test_client_unlock_never_prompts_without_terminal(void **state)
{
	struct client_rpc_error re;
	struct client c;
	struct err e;
	(void)state;

	client_init(&c);
	/* Not locked: nothing to do, nothing read. */
	c.info = json_pack("{s:b,s:s}", "locked", 0, "profile", "p");
	assert_int_equal(client_unlock_if_locked(&c, "/nonexistent", &re, &e), 0);
	json_object_set_new(c.info, "locked", json_true());
	assert_int_equal(client_unlock_if_locked(&c, NULL, &re, &e), -1);
	assert_int_equal(e.code, ERR_AUTH);
	assert_non_null(strstr(e.msg, "--passphrase-file"));
	client_close(&c);
}

static void
test_client_attach_without_engine_or_autostart_fails(void **state)
{
	struct profile p;
	struct client c;
	struct err e;
	(void)state;

	assert_int_equal(profile_resolve(&p, dir, NULL, &e), 0);
	client_init(&c);
	assert_int_equal(client_attach(&c, &p, false, &e), -1);
	assert_int_equal(e.code, ERR_NETWORK);
	client_close(&c);
	profile_clear(&p);
}

static void
test_client_deadline_past_leaves_zero_not_forever(void **state)
{
	(void)state;
	/* The monotonic clock is far past 1 ms: -1 would mean "forever". */
	assert_int_equal(client_left_ms(1), 0);
	assert_int_equal(client_left_ms(-1), -1);
	assert_true(client_left_ms(1LL << 62) > 0);
}

/* The interface drains notifications with a zero timeout between keys: it
 * once hung in poll(-1) whenever the clock ticked over a millisecond in
 * the middle of that call, and stayed frozen until the engine spoke. */
static void
test_client_zero_timeout_returns_while_engine_is_silent(void **state)
{
	struct client c;
	json_t *note = NULL;
	struct err e;
	int sv[2], i;
	const char *line = "{\"jsonrpc\":\"2.0\",\"method\":\"event\",\"params\":{}}\n";

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	client_init(&c);
	ipc_conn_init(&c.conn, sv[0]);
	/* A hang is killed by the alarm and fails the test. */
	alarm(20);
	for (i = 0; i < 20000; i++)
		assert_int_equal(client_next_notification(&c, 0, &note, &e), 0);
	assert_int_equal(write(sv[1], line, strlen(line)), (ssize_t)strlen(line));
	assert_int_equal(client_next_notification(&c, 1000, &note, &e), 1);
	assert_string_equal(json_string_value(json_object_get(note, "method")), "event");
	json_decref(note);
	assert_int_equal(client_next_notification(&c, 0, &note, &e), 0);
	alarm(0);
	client_close(&c);
	close(sv[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_client_reads_private_passphrase_file),
	    cmocka_unit_test(test_client_refuses_passphrase_file_others_can_read),
	    cmocka_unit_test(test_client_refuses_empty_or_missing_passphrase_file),
	    cmocka_unit_test(test_client_unlock_never_prompts_without_terminal),
	    cmocka_unit_test(test_client_attach_without_engine_or_autostart_fails),
	    cmocka_unit_test(test_client_deadline_past_leaves_zero_not_forever),
	    cmocka_unit_test(test_client_zero_timeout_returns_while_engine_is_silent),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

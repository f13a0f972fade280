/* Unit tests for ipc: the listening socket's mode and stale-socket
 * handling, the SO_PEERCRED check, and line buffering with its bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ipc.h"

struct fixture {
	char dir[64];
	char sock[128];
};

static int
setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof *fx);

	snprintf(fx->dir, sizeof fx->dir, "/tmp/sotto-test-ipc-XXXXXX");
	if (mkdtemp(fx->dir) == NULL)
		return -1;
	snprintf(fx->sock, sizeof fx->sock, "%s/%s", fx->dir, IPC_SOCKET_NAME);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;

	unlink(fx->sock);
	rmdir(fx->dir);
	free(fx);
	return 0;
}

static void
test_ipc_listen_creates_socket_mode_0600(void **state)
{
	struct fixture *fx = *state;
	struct stat st;
	struct err e;
	int fd;

	fd = ipc_listen(fx->dir, &e);
	assert_true(fd >= 0);
	assert_int_equal(lstat(fx->sock, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
	close(fd);
}

static void
test_ipc_listen_replaces_stale_socket(void **state)
{
	struct fixture *fx = *state;
	struct err e;
	int fd1, fd2, c;

	fd1 = ipc_listen(fx->dir, &e);
	assert_true(fd1 >= 0);
	close(fd1); /* the engine died: its socket file stays */
	assert_int_equal(ipc_connect(fx->dir, &e), -1);
	assert_int_equal(e.code, ERR_NOTFOUND);
	fd2 = ipc_listen(fx->dir, &e);
	assert_true(fd2 >= 0);
	c = ipc_connect(fx->dir, &e);
	assert_true(c >= 0);
	close(c);
	close(fd2);
}

static void
test_ipc_listen_refuses_to_replace_a_file(void **state)
{
	struct fixture *fx = *state;
	struct err e;
	int fd = open(fx->sock, O_CREAT | O_WRONLY, 0600);

	close(fd);
	assert_int_equal(ipc_listen(fx->dir, &e), -1);
	assert_int_equal(e.code, ERR_EXISTS);
	assert_int_equal(access(fx->sock, F_OK), 0);
}

static void
test_ipc_refuses_socket_path_too_long(void **state)
{
	char dir[200];
	struct err e;
	(void)state;
	memset(dir, 'a', sizeof dir - 1);
	dir[0] = '/';
	dir[sizeof dir - 1] = '\0';
	assert_int_equal(ipc_listen(dir, &e), -1);
	assert_int_equal(e.code, ERR_TOOLARGE);
	assert_int_equal(ipc_connect(dir, &e), -1);
	assert_int_equal(e.code, ERR_TOOLARGE);
}

static void
test_ipc_connect_without_engine_is_not_found(void **state)
{
	struct fixture *fx = *state;
	struct err e;

	assert_int_equal(ipc_connect(fx->dir, &e), -1);
	assert_int_equal(e.code, ERR_NOTFOUND);
}

static void
test_ipc_accept_checks_peer_uid(void **state)
{
	struct fixture *fx = *state;
	struct err e;
	int l, c, s;

	l = ipc_listen(fx->dir, &e);
	assert_true(l >= 0);
	assert_int_equal(ipc_accept(l, &e), -1);
	assert_int_equal(e.code, ERR_BUSY); /* nothing pending yet */
	c = ipc_connect(fx->dir, &e);
	assert_true(c >= 0);
	s = ipc_accept(l, &e);
	assert_true(s >= 0); /* same uid: accepted */
	assert_int_equal(ipc_peer_check(s, geteuid(), &e), 0);
	/* The comparison itself: any other uid is refused. */
	assert_int_equal(ipc_peer_check(s, geteuid() + 1, &e), -1);
	assert_int_equal(e.code, ERR_AUTH);
	assert_non_null(strstr(e.msg, "uid"));
	close(s);
	close(c);
	close(l);
}

static void
pair(int sv[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
}

static void
test_ipc_conn_splits_lines_across_reads(void **state)
{
	struct ipc_conn c;
	struct err e;
	size_t len;
	char *line;
	int sv[2];
	(void)state;

	pair(sv);
	ipc_conn_init(&c, sv[0]);
	assert_int_equal(write(sv[1], "one\ntw", 6), 6);
	assert_int_equal(ipc_conn_read(&c, &e), 0);
	assert_int_equal(ipc_conn_next_line(&c, &line, &len, &e), 1);
	assert_string_equal(line, "one");
	assert_int_equal(len, 3);
	assert_int_equal(ipc_conn_next_line(&c, &line, &len, &e), 0);
	assert_int_equal(write(sv[1], "o\nthree", 7), 7);
	assert_int_equal(ipc_conn_read(&c, &e), 0);
	assert_int_equal(ipc_conn_next_line(&c, &line, &len, &e), 1);
	assert_string_equal(line, "two");
	assert_int_equal(ipc_conn_next_line(&c, &line, &len, &e), 0);
	/* End of stream: the unterminated tail still counts as a line. */
	close(sv[1]);
	assert_int_equal(ipc_conn_read(&c, &e), 0);
	assert_true(c.eof);
	assert_int_equal(ipc_conn_next_line(&c, &line, &len, &e), 1);
	assert_string_equal(line, "three");
	assert_int_equal(ipc_conn_next_line(&c, &line, &len, &e), 0);
	ipc_conn_clear(&c);
	close(sv[0]);
}

struct feed_result {
	int reports;      /* ERR_TOOLARGE seen */
	int lines;        /* lines delivered */
	size_t first_len; /* length of the first delivered line */
	char last[16];    /* the last delivered line, when short */
};

/* Write len bytes of 'x' then tail into w while draining c, until
 * want_lines lines came out; the input buffer must stay bounded. */
static void
feed(struct ipc_conn *c, int w, size_t len, const char *tail, int want_lines,
     struct feed_result *res)
{
	size_t sent = 0, tail_sent = 0, tail_len = strlen(tail), n;
	char chunk[8192], *line;
	struct err e;
	ssize_t k;
	int r;

	memset(res, 0, sizeof *res);
	memset(chunk, 'x', sizeof chunk);
	while (res->lines < want_lines) {
		if (sent < len) {
			k = write(w, chunk, len - sent < sizeof chunk ? len - sent : sizeof chunk);
			if (k > 0)
				sent += (size_t)k;
		} else if (tail_sent < tail_len) {
			k = write(w, tail + tail_sent, tail_len - tail_sent);
			if (k > 0)
				tail_sent += (size_t)k;
		}
		assert_int_equal(ipc_conn_read(c, &e), 0);
		while ((r = ipc_conn_next_line(c, &line, &n, &e)) != 0) {
			if (r < 0) {
				assert_int_equal(e.code, ERR_TOOLARGE);
				res->reports++;
				continue;
			}
			if (res->lines++ == 0)
				res->first_len = n;
			snprintf(res->last, sizeof res->last, "%s", line);
		}
		assert_true(c->in.cap <= 2 * (c->line_max + 65 * 1024));
	}
}

static void
test_ipc_conn_reports_oversize_line_once_and_recovers(void **state)
{
	struct feed_result res;
	struct ipc_conn c;
	int sv[2];
	(void)state;

	pair(sv);
	ipc_conn_init(&c, sv[0]);
	feed(&c, sv[1], IPC_LINE_MAX + 100000, "\nok\n", 1, &res);
	assert_int_equal(res.reports, 1);
	assert_string_equal(res.last, "ok");
	ipc_conn_clear(&c);
	close(sv[0]);
	close(sv[1]);
}

static void
test_ipc_conn_accepts_line_at_limit(void **state)
{
	struct feed_result res;
	struct ipc_conn c;
	int sv[2];
	(void)state;

	pair(sv);
	ipc_conn_init(&c, sv[0]);
	feed(&c, sv[1], IPC_LINE_MAX, "\nok\n", 2, &res);
	assert_int_equal(res.reports, 0);
	assert_int_equal(res.first_len, IPC_LINE_MAX);
	assert_string_equal(res.last, "ok");
	ipc_conn_clear(&c);
	close(sv[0]);
	close(sv[1]);
}

/* A frontend reads the engine's answers with the limit raised: one
 * history answer of thousands of messages is a single line. */
static void
test_ipc_conn_raised_limit_takes_long_answer(void **state)
{
	struct feed_result res;
	struct ipc_conn c;
	int sv[2];
	(void)state;

	pair(sv);
	ipc_conn_init(&c, sv[0]);
	c.line_max = 4 * IPC_LINE_MAX;
	feed(&c, sv[1], 3 * IPC_LINE_MAX, "\nok\n", 2, &res);
	assert_int_equal(res.reports, 0);
	assert_int_equal(res.first_len, 3 * IPC_LINE_MAX);
	assert_string_equal(res.last, "ok");
	ipc_conn_clear(&c);
	close(sv[0]);
	close(sv[1]);
}

static void
test_ipc_conn_output_is_bounded(void **state)
{
	struct ipc_conn c;
	struct err e;
	char *big = malloc(1024 * 1024);
	int sv[2], i, refused = 0;
	(void)state;

	pair(sv);
	ipc_conn_init(&c, sv[0]);
	memset(big, 'z', 1024 * 1024);
	/* Nobody reads sv[1]: output piles up until the bound. */
	for (i = 0; i < 40 && !refused; i++) {
		if (ipc_conn_queue_line(&c, big, 1024 * 1024, &e) < 0) {
			assert_int_equal(e.code, ERR_LIMIT);
			refused = 1;
		}
		assert_int_equal(ipc_conn_flush(&c, &e), 0);
	}
	assert_true(refused);
	assert_true(c.out.len - c.out.off <= IPC_OUT_MAX);
	ipc_conn_clear(&c);
	close(sv[0]);
	close(sv[1]);
	free(big);
}

static void
test_ipc_conn_flush_delivers_lines(void **state)
{
	struct ipc_conn c;
	struct err e;
	char buf[32];
	int sv[2];
	(void)state;

	pair(sv);
	ipc_conn_init(&c, sv[0]);
	assert_int_equal(ipc_conn_queue_line(&c, "a", 1, &e), 0);
	assert_int_equal(ipc_conn_queue_line(&c, "bc", 2, &e), 0);
	assert_true(ipc_conn_pending(&c));
	assert_int_equal(ipc_conn_flush(&c, &e), 0);
	assert_false(ipc_conn_pending(&c));
	assert_int_equal(read(sv[1], buf, sizeof buf), 5);
	assert_memory_equal(buf, "a\nbc\n", 5);
	/* A peer that is gone is an error, not a signal. */
	close(sv[1]);
	assert_int_equal(ipc_conn_queue_line(&c, "d", 1, &e), 0);
	assert_int_equal(ipc_conn_flush(&c, &e), -1);
	assert_int_equal(e.code, ERR_IO);
	ipc_conn_clear(&c);
	close(sv[0]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_ipc_listen_creates_socket_mode_0600, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_ipc_listen_replaces_stale_socket, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ipc_listen_refuses_to_replace_a_file, setup,
	                                    teardown),
	    cmocka_unit_test(test_ipc_refuses_socket_path_too_long),
	    cmocka_unit_test_setup_teardown(test_ipc_connect_without_engine_is_not_found, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_ipc_accept_checks_peer_uid, setup, teardown),
	    cmocka_unit_test(test_ipc_conn_splits_lines_across_reads),
	    cmocka_unit_test(test_ipc_conn_reports_oversize_line_once_and_recovers),
	    cmocka_unit_test(test_ipc_conn_accepts_line_at_limit),
	    cmocka_unit_test(test_ipc_conn_raised_limit_takes_long_answer),
	    cmocka_unit_test(test_ipc_conn_output_is_bounded),
	    cmocka_unit_test(test_ipc_conn_flush_delivers_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

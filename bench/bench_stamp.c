/* bench_stamp: a frontend for bench_e2e.sh that attaches to a profile's
 * engine socket as the interface does, subscribes to its events from a
 * cursor and prints each line it is told, prefixed with the wall-clock
 * time it arrived in microseconds since 1970. The engine emits a message
 * event after the commit, so this times what a user would see.
 * Usage: bench_stamp PROFILE_DIR CURSOR >FILE (runs until killed or the
 * engine goes away). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ipc.h"
#include "util/fdio.h"

static long long
bench_stamp_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int
main(int argc, char **argv)
{
	static char buf[1 << 20];
	char req[256], *p, *nl;
	size_t have = 0;
	long long at;
	struct err e;
	ssize_t got;
	int fd, len;

	if (argc != 3) {
		fprintf(stderr, "usage: bench_stamp PROFILE_DIR CURSOR\n");
		return 2;
	}
	if ((fd = ipc_connect(argv[1], &e)) < 0) {
		fprintf(stderr, "bench_stamp: %s\n", e.msg);
		return 1;
	}
	len = snprintf(req, sizeof req,
	               "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"engine.subscribe\","
	               "\"params\":{\"cursor\":%lld}}\n",
	               strtoll(argv[2], NULL, 10));
	if (len < 0 || (size_t)len >= sizeof req ||
	    fdio_write_all(fd, req, (size_t)len, true) < 0) {
		fprintf(stderr, "bench_stamp: cannot subscribe: %s\n", strerror(errno));
		return 1;
	}
	for (;;) {
		got = read(fd, buf + have, sizeof buf - have);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		/* Every line of one read arrived at the same moment. */
		at = bench_stamp_now_us();
		have += (size_t)got;
		for (p = buf; (nl = memchr(p, '\n', have - (size_t)(p - buf))) != NULL; p = nl + 1)
			printf("%lld %.*s\n", at, (int)(nl - p), p);
		fflush(stdout);
		have -= (size_t)(p - buf);
		memmove(buf, p, have);
		if (have == sizeof buf) {
			fprintf(stderr, "bench_stamp: a line longer than %zu bytes\n", sizeof buf);
			return 1;
		}
	}
	return 0;
}

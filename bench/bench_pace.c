/* bench_pace: a paced JSON-RPC writer for bench_e2e.sh's fixed-rate phases.
 * It writes "send" requests at a steady rate on absolute deadlines, so a
 * slow reader or a late wake-up shows up as lag instead of silently
 * lowering the offered rate: to standard output (piped into `sotto rpc`,
 * as a script does), or with PROFILE_DIR straight into that profile's
 * engine socket, as the interface does; the engine's answers then go to
 * standard output, and it exits once all have come.
 * Usage: bench_pace RATE SECONDS TO PREFIX FIRST_ID [TIMES [PROFILE_DIR]]
 * On standard error: the rate it achieved and how late writes were. With
 * TIMES, each request's number and the wall-clock time it was written, in
 * microseconds since 1970, go to that file (one per line). */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ipc.h"
#include "util/fdio.h"

/* The engine socket's reading side: answers copied to standard output
 * until `want` lines came or the engine went away. */
struct bench_pace_answers {
	int fd;
	long want, got;
};

static void *
bench_pace_read_answers(void *arg)
{
	struct bench_pace_answers *a = arg;
	char buf[65536];
	ssize_t n, i;

	while (a->got < a->want) {
		n = read(a->fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (i = 0; i < n; i++)
			a->got += buf[i] == '\n';
		if (fdio_write_all(STDOUT_FILENO, buf, (size_t)n, false) < 0)
			break;
	}
	return NULL;
}

static int64_t
bench_pace_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int
bench_pace_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static int
bench_pace_save(const char *path, const int64_t *wall, long n)
{
	FILE *fp = fopen(path, "w");
	long i;

	if (fp == NULL)
		return -1;
	for (i = 0; i < n; i++)
		fprintf(fp, "%ld %" PRId64 "\n", i + 1, wall[i]);
	return fclose(fp) == 0 ? 0 : -1;
}

int
main(int argc, char **argv)
{
	long rate, seconds, n, i, first_id;
	int64_t start, due, now, *late, *wall;
	struct bench_pace_answers answers = {.fd = -1};
	pthread_t reader;
	struct timespec ts;
	char line[512];
	int len, out = STDOUT_FILENO;
	struct err e;

	if (argc < 6 || argc > 8) {
		fprintf(stderr, "usage: bench_pace RATE SECONDS TO PREFIX FIRST_ID "
		                "[TIMES [PROFILE_DIR]]\n");
		return 2;
	}
	rate = strtol(argv[1], NULL, 10);
	seconds = strtol(argv[2], NULL, 10);
	first_id = strtol(argv[5], NULL, 10);
	if (rate <= 0 || seconds <= 0 || rate * seconds > 10000000) {
		fprintf(stderr, "bench_pace: bad rate or duration\n");
		return 2;
	}
	n = rate * seconds;
	late = calloc((size_t)n, sizeof *late);
	wall = calloc((size_t)n, sizeof *wall);
	if (late == NULL || wall == NULL)
		return 1;
	if (argc == 8) {
		if ((out = ipc_connect(argv[7], &e)) < 0) {
			fprintf(stderr, "bench_pace: %s\n", e.msg);
			return 1;
		}
		answers.fd = out;
		answers.want = n;
		if (pthread_create(&reader, NULL, bench_pace_read_answers, &answers) != 0) {
			fprintf(stderr, "bench_pace: cannot start the reader\n");
			return 1;
		}
	}
	start = bench_pace_now_ns();
	for (i = 0; i < n; i++) {
		due = start + i * (1000000000 / rate);
		ts.tv_sec = (time_t)(due / 1000000000);
		ts.tv_nsec = (long)(due % 1000000000);
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
			;
		len = snprintf(line, sizeof line,
		               "{\"jsonrpc\":\"2.0\",\"id\":%ld,\"method\":\"send\","
		               "\"params\":{\"to\":\"%s\",\"text\":\"%s %06ld\"}}\n",
		               first_id + i, argv[3], argv[4], i + 1);
		clock_gettime(CLOCK_REALTIME, &ts);
		wall[i] = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
		if (len < 0 || (size_t)len >= sizeof line ||
		    fdio_write_all(out, line, (size_t)len, answers.fd >= 0) < 0) {
			fprintf(stderr, "bench_pace: write failed after %ld requests\n", i);
			free(late);
			free(wall);
			return 1;
		}
		now = bench_pace_now_ns();
		late[i] = now - due;
	}
	now = bench_pace_now_ns();
	if (answers.fd >= 0) {
		pthread_join(reader, NULL);
		close(answers.fd);
		if (answers.got < n) {
			fprintf(stderr, "bench_pace: the engine answered %ld of %ld requests\n",
			        answers.got, n);
			return 1;
		}
	}
	if (argc >= 7 && bench_pace_save(argv[6], wall, n) < 0) {
		fprintf(stderr, "bench_pace: cannot write %s\n", argv[6]);
		return 1;
	}
	qsort(late, (size_t)n, sizeof *late, bench_pace_cmp);
	fprintf(stderr,
	        "offered %ld msg/s for %ld s: wrote %ld requests in %" PRId64
	        " ms (%.0f msg/s); write lag p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
	        rate, seconds, n, (now - start) / 1000000, (double)n * 1e9 / (double)(now - start),
	        late[n / 2] / 1e6, late[n * 99 / 100] / 1e6, late[n - 1] / 1e6);
	free(late);
	free(wall);
	return 0;
}

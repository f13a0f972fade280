/* Relay storage throughput: enqueue + group commit in batches of 1, 64 and
 * 1024 envelopes on a durable database (WAL, synchronous=FULL) and on the
 * in-memory baseline, then the acks that drain them. Prints figures only. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "relay/rstore.h"
#include "util/xmalloc.h"

#define BENCH_CONTENT 256     /* bytes per envelope, a typical padded message */
#define BENCH_MAX_MSGS 200000 /* per case, whatever the time budget */

static double bench_budget_s = 1.0; /* time per case */

static double
bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
bench_die(const char *what, const struct err *e)
{
	fprintf(stderr, "bench_relay: %s: %s\n", what, e->msg);
	exit(1);
}

static void
bench_accounts(struct rstore *s)
{
	uint8_t key[RSTORE_KEY_LEN], secret[RSTORE_SECRET_LEN];
	struct err e;

	memset(key, 7, sizeof key);
	key[0] = 0x05;
	memset(secret, 9, sizeof secret);
	if (rstore_account_register(s, "alice", key, 1, secret, NULL, &e) < 0 ||
	    rstore_account_register(s, "bob", key, 2, secret, NULL, &e) < 0)
		bench_die("register", &e);
}

/* Queue envelopes in batches of `batch` until the budget is spent; then
 * ack them all in batches of the same size. Fills the two rates in msg/s. */
static void
bench_case(struct rstore *s, size_t batch, double *enqueue_rate, double *ack_rate)
{
	static uint8_t content[BENCH_CONTENT];
	struct rstore_outgoing m = {1, 1, content, sizeof content};
	int64_t *ids = malloc(BENCH_MAX_MSGS * sizeof *ids);
	size_t n = 0, i, done;
	double t0, t;
	struct err e;

	memset(content, 0xa5, sizeof content);
	t0 = bench_now();
	do {
		if (rstore_batch_begin(s, &e) < 0)
			bench_die("begin", &e);
		for (i = 0; i < batch && n < BENCH_MAX_MSGS; i++, n++)
			if (rstore_queue_send(s, "alice", 1, "bob", &m, 1, &ids[n], NULL, &e) < 0)
				bench_die("enqueue", &e);
		if (rstore_batch_commit(s, &e) < 0)
			bench_die("commit", &e);
		t = bench_now() - t0;
	} while (t < bench_budget_s && n < BENCH_MAX_MSGS);
	*enqueue_rate = (double)n / t;

	t0 = bench_now();
	for (done = 0; done < n; done += batch) {
		size_t k = n - done < batch ? n - done : batch;
		if (rstore_batch_begin(s, &e) < 0)
			bench_die("begin", &e);
		/* The server acks one frame of ids at a time. */
		for (i = 0; i < k; i += 64) {
			size_t chunk = k - i < 64 ? k - i : 64;
			if (rstore_queue_delete(s, "bob", 1, &ids[done + i], chunk, NULL, &e) < 0)
				bench_die("ack", &e);
		}
		if (rstore_batch_commit(s, &e) < 0)
			bench_die("commit", &e);
	}
	*ack_rate = (double)n / (bench_now() - t0);
	free(ids);
}

static void
bench_mode(const char *label, const char *dir, int in_memory)
{
	static const size_t batches[] = {1, 64, 1024};
	struct rstore_options opt;
	struct rstore *s;
	struct err e;
	size_t i;

	rstore_options_default(&opt);
	opt.in_memory = in_memory;
	opt.max_queue = BENCH_MAX_MSGS + 1;
	if (rstore_open(&s, dir, &opt, &e) < 0)
		bench_die("open", &e);
	bench_accounts(s);
	for (i = 0; i < sizeof batches / sizeof batches[0]; i++) {
		double enq, ack;
		bench_case(s, batches[i], &enq, &ack);
		printf("%-8s batch %5zu   enqueue+commit %10.0f msg/s   ack+commit %10.0f msg/s\n",
		       label, batches[i], enq, ack);
		fflush(stdout);
	}
	rstore_close(s);
}

static void
bench_remove_dir(const char *dir)
{
	static const char *const files[] = {"relay.db", "relay.db-wal", "relay.db-shm",
	                                    "relay.lock", "blobs"};
	size_t i;

	for (i = 0; i < sizeof files / sizeof files[0]; i++) {
		char *path = xasprintf("%s/%s", dir, files[i]);
		remove(path);
		free(path);
	}
	rmdir(dir);
}

static void
bench_usage(void)
{
	fprintf(stderr, "usage: bench_relay [-d DIR] [-t SECONDS]\n"
	                "  -d DIR      where to put the durable database (default: .)\n"
	                "  -t SECONDS  time per case (default 1)\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *parent = ".";
	char *dir;
	struct statfs fs;
	int c;

	while ((c = getopt(argc, argv, "d:t:h")) != -1) {
		switch (c) {
		case 'd':
			parent = optarg;
			break;
		case 't':
			bench_budget_s = atof(optarg);
			if (bench_budget_s <= 0)
				bench_usage();
			break;
		default:
			bench_usage();
		}
	}
	if (optind != argc)
		bench_usage();
	dir = xasprintf("%s/bench-relay-XXXXXX", parent);
	if (mkdtemp(dir) == NULL) {
		fprintf(stderr, "bench_relay: mkdtemp %s: %s\n", dir, strerror(errno));
		free(dir);
		return 1;
	}
	printf("relay storage: %d-byte envelopes, %.1f s per case, durable db in %s\n",
	       BENCH_CONTENT, bench_budget_s, dir);
	/* On tmpfs fsync costs nothing and the durable figures mean little. */
	if (statfs(dir, &fs) == 0 && fs.f_type == 0x01021994)
		printf("note: %s is on tmpfs; use -d on a real disk\n", parent);
	bench_mode("file", dir, 0);
	bench_mode("memory", NULL, 1);
	bench_remove_dir(dir);
	free(dir);
	return 0;
}

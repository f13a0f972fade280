/* sotto-relay over real WebSockets on loopback: durable vs in-memory
 * throughput (mosquitto QoS 0 as an external baseline when installed),
 * latency at a fixed rate, fan-out to 100 accounts, and the relay's memory
 * per idle authenticated connection. Prints figures, never pass/fail. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <linux/magic.h>

#include "bench/relaynet_mq.h"
#include "bench/relaynet_peer.h"

#define BENCH_ALL 0xF

enum { PHASE_THROUGHPUT = 1, PHASE_LATENCY = 2, PHASE_FANOUT = 4, PHASE_IDLE = 8 };

struct bench_opts {
	const char *relay;
	char tmp[512];
	long messages;    /* throughput phase, per store */
	double latency_s; /* latency phase length */
	long rate;        /* latency phase, msg/s */
	long fanout;      /* receiving accounts */
	long fanout_sends;
	long idle;
	int window; /* sends in flight */
	int mosquitto;
	unsigned phases;
};

static struct bench_opts opt;

/* ---- the phases ---- */

/* A relay with a sender and a receiver account, both connected. */
static void
bench_pair(struct relaynet_peer_relay *r, const char *data, struct relaynet_peer_acct a[2],
           struct relaynet_ws *ws[2])
{
	relaynet_peer_relay_start(r, data, NULL);
	relaynet_peer_acct_init(&a[0], "tx", 0);
	relaynet_peer_acct_init(&a[1], "rx", 0);
	if (relaynet_peer_open_many(r->port, a, 2, 1, ws) != 2)
		relaynet_peer_die("%s", "registering the sender and the receiver failed");
}

static double
bench_throughput_on(const char *data, long n)
{
	struct relaynet_peer_relay r;
	struct relaynet_peer_acct a[2];
	struct relaynet_ws *ws[2];
	struct relaynet_peer_rx rx;
	double rate;

	bench_pair(&r, data, a, ws);
	memset(&rx, 0, sizeof rx);
	rx.ws = ws[1];
	rate = relaynet_peer_flow(ws[0], &rx, &a[1], 1, n, 0);
	relaynet_ws_free(ws[0]);
	relaynet_ws_free(ws[1]);
	relaynet_peer_relay_stop(&r);
	return rate;
}

static void
bench_phase_throughput(void)
{
	char *dir = xasprintf("%s/durable", opt.tmp);
	double durable, memory, mq;
	const char *why = NULL;

	printf("throughput, 1 sender -> 1 receiver, %ld messages, %d sends in flight, "
	       "acks as delivered:\n",
	       opt.messages, opt.window);
	fflush(stdout);
	durable = bench_throughput_on(dir, opt.messages);
	memory = bench_throughput_on(":memory:", opt.messages);
	printf("  durable (temp data dir, WAL fsynced before each answer)  %8.0f msg/s\n", durable);
	printf("  in-memory baseline (--data :memory:)                     %8.0f msg/s\n", memory);
	if (opt.mosquitto) {
		mq = relaynet_mq_rate(opt.tmp, opt.messages, &why);
		if (mq > 0)
			printf("  external baseline: mosquitto QoS 0, in memory              %8.0f "
			       "msg/s\n"
			       "  durable / mosquitto: %.0f%%\n",
			       mq, 100.0 * durable / mq);
		else
			printf("  external baseline: mosquitto not measured (%s)\n", why);
	}
	printf("  (clients on both sides are C programs that build no frame in the timed\n"
	       "  loop: sotto's sender writes pre-built requests, up to %d per system call,\n"
	       "  its receiver reads up to 64 KiB at a time, parses each envelope with the\n"
	       "  codec's fast path and acks every %d; mosquitto_pub -l publishes lines\n"
	       "  written to a file beforehand and mosquitto_sub prints each one)\n",
	       RELAYNET_PEER_WRITE_BATCH, RELAYNET_PEER_ACK_BATCH);
	fflush(stdout);
	free(dir);
}

static int
bench_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void
bench_phase_latency(void)
{
	char *dir = xasprintf("%s/latency", opt.tmp);
	long n = (long)(opt.latency_s * (double)opt.rate);
	struct relaynet_peer_relay r;
	struct relaynet_peer_acct a[2];
	struct relaynet_ws *ws[2];
	struct relaynet_peer_rx rx;
	double rate;

	if (n < 1)
		n = 1;
	bench_pair(&r, dir, a, ws);
	memset(&rx, 0, sizeof rx);
	rx.ws = ws[1];
	rx.lat = xcalloc((size_t)n, sizeof *rx.lat);
	printf("latency at %ld msg/s for %.1f s (durable), send -> delivery:\n", opt.rate,
	       opt.latency_s);
	rate = relaynet_peer_flow(ws[0], &rx, &a[1], 1, n, opt.rate);
	if (rx.got > 0) {
		qsort(rx.lat, (size_t)rx.got, sizeof *rx.lat, bench_cmp_u64);
		printf("  p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  max %.2f ms  (%ld messages, "
		       "%.0f msg/s achieved)\n",
		       (double)rx.lat[rx.got * 50 / 100] / 1e6,
		       (double)rx.lat[rx.got * 90 / 100] / 1e6,
		       (double)rx.lat[rx.got * 99 / 100] / 1e6, (double)rx.lat[rx.got - 1] / 1e6,
		       rx.got, rate);
	}
	fflush(stdout);
	free(rx.lat);
	relaynet_ws_free(ws[0]);
	relaynet_ws_free(ws[1]);
	relaynet_peer_relay_stop(&r);
	free(dir);
}

static void
bench_phase_fanout(void)
{
	char *dir = xasprintf("%s/fanout", opt.tmp);
	size_t n_rx = (size_t)opt.fanout, i;
	struct relaynet_peer_acct *a = xcalloc(n_rx + 1, sizeof *a);
	struct relaynet_ws **ws = xcalloc(n_rx + 1, sizeof *ws);
	struct relaynet_peer_rx *rx = xcalloc(n_rx, sizeof *rx);
	struct relaynet_peer_relay r;
	double rate;

	relaynet_peer_relay_start(&r, dir, NULL);
	relaynet_peer_acct_init(&a[0], "tx", 0);
	for (i = 1; i <= n_rx; i++)
		relaynet_peer_acct_init(&a[i], "fan", (long)i);
	if (relaynet_peer_open_many(r.port, a, (long)n_rx + 1, 1, ws) != (long)n_rx + 1)
		relaynet_peer_die("%s", "registering the fan-out accounts failed");
	for (i = 0; i < n_rx; i++)
		rx[i].ws = ws[i + 1];
	printf("fan-out 1 -> %zu (send.multi, one device each, durable), %ld sends:\n", n_rx,
	       opt.fanout_sends);
	rate = relaynet_peer_flow(ws[0], rx, a + 1, n_rx, opt.fanout_sends, 0);
	if (rate > 0)
		printf("  %.0f deliveries/s (%.0f send.multi/s)\n", rate, rate / (double)n_rx);
	fflush(stdout);
	for (i = 0; i <= n_rx; i++)
		relaynet_ws_free(ws[i]);
	relaynet_peer_relay_stop(&r);
	free(rx);
	free(ws);
	free(a);
	free(dir);
}

static void
bench_phase_idle(void)
{
	char *dir = xasprintf("%s/idle", opt.tmp);
	char maxconn[32];
	const char *extra[] = {"--max-connections", maxconn, NULL};
	long n = opt.idle, reached, i, before, after;
	struct relaynet_peer_acct *a;
	struct relaynet_ws **ws;
	struct relaynet_peer_relay r;
	struct rlimit rl;
	uint64_t t0;

	/* Our side needs a descriptor per connection too. */
	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur < (rlim_t)n + 64) {
		rl.rlim_cur = rl.rlim_max != RLIM_INFINITY && rl.rlim_max < (rlim_t)n + 64
		                  ? rl.rlim_max
		                  : (rlim_t)n + 64;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur < (rlim_t)n + 64) {
		printf("idle connections: only %ld of %ld possible: the descriptor hard limit "
		       "is %llu\n",
		       (long)rl.rlim_cur - 64, n, (unsigned long long)rl.rlim_max);
		n = (long)rl.rlim_cur - 64;
	}
	snprintf(maxconn, sizeof maxconn, "%ld", n + RELAYNET_PEER_CHUNK + 16);
	a = xcalloc((size_t)n, sizeof *a);
	ws = xcalloc((size_t)n, sizeof *ws);
	for (i = 0; i < n; i++)
		relaynet_peer_acct_init(&a[i], "idle", i);
	relaynet_peer_relay_start(&r, dir, extra);
	printf("idle authenticated connections (durable relay):\n");
	fflush(stdout);
	t0 = relaynet_peer_now_ns();
	/* Register on short-lived connections, so that the figure below
	 * counts connections and not accounts in SQLite's cache. */
	reached = relaynet_peer_open_par(r.port, a, n, 1, NULL);
	if (reached < n) {
		printf("  only %ld of %ld registrations succeeded (see %s)\n", reached, n, opt.tmp);
		n = reached;
	}
	printf("  registered %ld accounts in %.1f s\n", n,
	       (double)(relaynet_peer_now_ns() - t0) / 1e9);
	before = relaynet_peer_relay_rss_kib(&r);
	t0 = relaynet_peer_now_ns();
	reached = relaynet_peer_open_par(r.port, a, n, 0, ws);
	after = relaynet_peer_relay_rss_kib(&r);
	printf("  %ld of %ld connections authenticated in %.1f s\n", reached, n,
	       (double)(relaynet_peer_now_ns() - t0) / 1e9);
	if (reached > 0)
		printf("  relay VmRSS %ld KiB before, %ld KiB after: %.2f KiB per connection\n",
		       before, after, (double)(after - before) / (double)reached);
	fflush(stdout);
	for (i = 0; i < n; i++)
		relaynet_ws_free(ws[i]);
	relaynet_peer_relay_stop(&r);
	free(ws);
	free(a);
	free(dir);
}

/* ---- main ---- */

static void
bench_usage(FILE *fp)
{
	fprintf(fp, "usage: bench_relay_net [--relay PATH] [--only PHASES] [--messages N]\n"
	            "                       [--latency-seconds S] [--rate N] [--fanout N]\n"
	            "                       [--fanout-sends N] [--idle N] [--window N]\n"
	            "                       [--no-mosquitto]\n"
	            "PHASES: comma-separated throughput, latency, fanout, idle (default all).\n");
}

static unsigned
bench_parse_phases(const char *s)
{
	unsigned m = 0;
	char *copy = xstrdup(s), *tok, *save = NULL;

	for (tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		if (strcmp(tok, "throughput") == 0)
			m |= PHASE_THROUGHPUT;
		else if (strcmp(tok, "latency") == 0)
			m |= PHASE_LATENCY;
		else if (strcmp(tok, "fanout") == 0)
			m |= PHASE_FANOUT;
		else if (strcmp(tok, "idle") == 0)
			m |= PHASE_IDLE;
		else
			relaynet_peer_die("unknown phase '%s'", tok);
	}
	free(copy);
	return m;
}

static long
bench_num(const char *s, long min, long max)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < min || v > max)
		relaynet_peer_die("bad number '%s'", s);
	return v;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"relay", required_argument, NULL, 'r'},
	    {"only", required_argument, NULL, 'o'},
	    {"messages", required_argument, NULL, 'm'},
	    {"latency-seconds", required_argument, NULL, 's'},
	    {"rate", required_argument, NULL, 'R'},
	    {"fanout", required_argument, NULL, 'f'},
	    {"fanout-sends", required_argument, NULL, 'F'},
	    {"idle", required_argument, NULL, 'i'},
	    {"window", required_argument, NULL, 'w'},
	    {"no-mosquitto", no_argument, NULL, 'M'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *top = getenv("top_builddir"), *tmp = getenv("TMPDIR");
	struct statfs sfs;
	char *relay = xasprintf("%s/sotto-relay", top != NULL ? top : ".");
	char *cmd;
	int c;

	opt.relay = relay;
	opt.messages = 50000;
	opt.latency_s = 5.0;
	opt.rate = 1000;
	opt.fanout = 100;
	opt.fanout_sends = 500;
	opt.idle = 10000;
	opt.window = 256;
	opt.mosquitto = 1;
	opt.phases = BENCH_ALL;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			opt.relay = optarg;
			break;
		case 'o':
			opt.phases = bench_parse_phases(optarg);
			break;
		case 'm':
			opt.messages = bench_num(optarg, 1, 100000000);
			break;
		case 's':
			opt.latency_s = (double)bench_num(optarg, 1, 3600);
			break;
		case 'R':
			opt.rate = bench_num(optarg, 1, 1000000);
			break;
		case 'f':
			opt.fanout = bench_num(optarg, 1, WIRE_MAX_SENDS);
			break;
		case 'F':
			opt.fanout_sends = bench_num(optarg, 1, 10000000);
			break;
		case 'i':
			opt.idle = bench_num(optarg, 1, 1000000);
			break;
		case 'w':
			opt.window = (int)bench_num(optarg, 1, 100000);
			break;
		case 'M':
			opt.mosquitto = 0;
			break;
		case 'h':
			bench_usage(stdout);
			return 0;
		default:
			bench_usage(stderr);
			return 64;
		}
	}
	if (optind != argc) {
		bench_usage(stderr);
		return 64;
	}
	if (!access(opt.relay, X_OK) == 0)
		relaynet_peer_die("no relay at %s (give --relay or set top_builddir)", opt.relay);
	signal(SIGPIPE, SIG_IGN);
	snprintf(opt.tmp, sizeof opt.tmp, "%s/bench-relay-net-XXXXXX", tmp ? tmp : "/tmp");
	if (mkdtemp(opt.tmp) == NULL)
		relaynet_peer_die("mkdtemp: %s", strerror(errno));
	relaynet_peer_setup(opt.relay, opt.tmp, opt.window);

	printf("sotto-relay over WebSockets on loopback: %ld CPUs, %d-byte messages\n",
	       sysconf(_SC_NPROCESSORS_ONLN), RELAYNET_PEER_CONTENT);
	if (statfs(opt.tmp, &sfs) == 0 && sfs.f_type == TMPFS_MAGIC)
		printf("(note: %s is on tmpfs, so the durable figures include no real "
		       "fsync)\n",
		       opt.tmp);
	fflush(stdout);
	if (opt.phases & PHASE_THROUGHPUT)
		bench_phase_throughput();
	if (opt.phases & PHASE_LATENCY)
		bench_phase_latency();
	if (opt.phases & PHASE_FANOUT)
		bench_phase_fanout();
	if (opt.phases & PHASE_IDLE)
		bench_phase_idle();

	relaynet_peer_teardown();
	cmd = xasprintf("rm -rf '%s'", opt.tmp);
	if (system(cmd) != 0)
		fprintf(stderr, "bench_relay_net: could not remove %s\n", opt.tmp);
	free(cmd);
	free(relay);
	return 0;
}

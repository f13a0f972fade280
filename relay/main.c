/* sotto-relay: the reference relay (man/sotto-relay.8). Parses options,
 * prints "listening on ADDR:PORT" as the first line of stdout, serves until
 * SIGTERM or SIGINT, then drains and exits 0. Logs go to stderr. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "relay/server.h"

enum {
	EXIT_USAGE = 64,
	OPT_TLS_CERT = 256,
	OPT_TLS_KEY,
	OPT_REGISTRATION,
	OPT_CHAOS,
	OPT_MAX_FRAME,
	OPT_MAX_QUEUE,
	OPT_MAX_BLOB,
	OPT_BLOB_TTL,
	OPT_QUEUE_TTL,
	OPT_MAX_CONNECTIONS,
	OPT_PREKEY_FETCH_RATE,
	OPT_REGISTRATION_RATE,
	OPT_AUTH_TIMEOUT,
};

static volatile sig_atomic_t main_stop;
static struct lws_context *main_ctx;

static void
main_on_signal(int sig)
{
	(void)sig;
	main_stop = 1;
	if (main_ctx != NULL)
		lws_cancel_service(main_ctx);
}

static void
main_usage(FILE *fp)
{
	fprintf(
	    fp,
	    "usage: sotto-relay --listen ADDR:PORT --data DIR [--tls-cert FILE --tls-key FILE]\n"
	    "                   [--registration open|token:FILE] [--chaos SPEC]\n"
	    "                   [--max-frame BYTES] [--max-queue N] [--max-blob BYTES]\n"
	    "                   [--blob-ttl DURATION] [--queue-ttl DURATION]\n"
	    "                   [--max-connections N] [--prekey-fetch-rate N]\n"
	    "                   [--registration-rate N] [--auth-timeout DURATION]\n"
	    "DIR may be :memory: (nothing durable; for benchmarks only).\n"
	    "BYTES take a K, M or G suffix (1024-based); DURATION takes s, m, h or d\n"
	    "(seconds when bare). See sotto-relay(8).\n");
}

/* A number with an optional binary suffix (K, M, G), in [min, max]. */
static int
main_parse_size(const char *s, long long min, long long max, long long *out)
{
	char *end;
	long long v, mul = 1;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || v < 0)
		return -1;
	if (*end == 'K' || *end == 'k')
		mul = 1024;
	else if (*end == 'M' || *end == 'm')
		mul = 1024 * 1024;
	else if (*end == 'G' || *end == 'g')
		mul = 1024LL * 1024 * 1024;
	else if (*end != '\0')
		return -1;
	if (mul != 1 && end[1] != '\0')
		return -1;
	if (v > max / mul || v * mul < min)
		return -1;
	*out = v * mul;
	return 0;
}

/* A duration in milliseconds from "N", "Ns", "Nm", "Nh" or "Nd". */
static int
main_parse_duration(const char *s, int64_t *out_ms)
{
	char *end;
	long long v, mul = 1000;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || v <= 0)
		return -1;
	switch (*end) {
	case '\0':
	case 's':
		break;
	case 'm':
		mul = 60 * 1000LL;
		break;
	case 'h':
		mul = 3600 * 1000LL;
		break;
	case 'd':
		mul = 86400 * 1000LL;
		break;
	default:
		return -1;
	}
	if (*end != '\0' && end[1] != '\0')
		return -1;
	if (v > INT64_MAX / mul)
		return -1;
	*out_ms = v * mul;
	return 0;
}

/* "ADDR:PORT" or "[V6ADDR]:PORT". */
static int
main_parse_listen(const char *s, struct relay_config *cfg)
{
	const char *colon;
	long long port;
	size_t hlen;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (close == NULL || close[1] != ':')
			return -1;
		hlen = (size_t)(close - s - 1);
		colon = close + 1;
		s++;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL)
			return -1;
		hlen = (size_t)(colon - s);
	}
	if (hlen == 0 || hlen >= sizeof cfg->host)
		return -1;
	memcpy(cfg->host, s, hlen);
	cfg->host[hlen] = '\0';
	if (main_parse_size(colon + 1, 0, 65535, &port) < 0 || strpbrk(colon + 1, "KkMmGg"))
		return -1;
	cfg->port = (int)port;
	return 0;
}

/* Each connection is a descriptor, and lws sizes its tables from the
 * limit when the context is made: raise the soft limit toward the hard one
 * so that --max-connections can be reached without a wrapper. */
static void
main_raise_nofile(size_t max_connections)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)max_connections + 64; /* listener, database, logs, blobs */

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= want)
		return;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want) {
		fprintf(stderr,
		        "sotto-relay: descriptor limit %llu is below --max-connections %zu; "
		        "raise the hard limit (ulimit -Hn, LimitNOFILE=)\n",
		        (unsigned long long)rl.rlim_max, max_connections);
		want = rl.rlim_max;
	}
	rl.rlim_cur = want;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		fprintf(stderr, "sotto-relay: cannot raise the descriptor limit: %s\n",
		        strerror(errno));
}

static int
main_bad(const char *opt, const char *value)
{
	fprintf(stderr, "sotto-relay: bad value for %s: '%s'\n", opt, value);
	return EXIT_USAGE;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"listen", required_argument, NULL, 'l'},
	    {"data", required_argument, NULL, 'd'},
	    {"tls-cert", required_argument, NULL, OPT_TLS_CERT},
	    {"tls-key", required_argument, NULL, OPT_TLS_KEY},
	    {"registration", required_argument, NULL, OPT_REGISTRATION},
	    {"chaos", required_argument, NULL, OPT_CHAOS},
	    {"max-frame", required_argument, NULL, OPT_MAX_FRAME},
	    {"max-queue", required_argument, NULL, OPT_MAX_QUEUE},
	    {"max-blob", required_argument, NULL, OPT_MAX_BLOB},
	    {"blob-ttl", required_argument, NULL, OPT_BLOB_TTL},
	    {"queue-ttl", required_argument, NULL, OPT_QUEUE_TTL},
	    {"max-connections", required_argument, NULL, OPT_MAX_CONNECTIONS},
	    {"prekey-fetch-rate", required_argument, NULL, OPT_PREKEY_FETCH_RATE},
	    {"registration-rate", required_argument, NULL, OPT_REGISTRATION_RATE},
	    {"auth-timeout", required_argument, NULL, OPT_AUTH_TIMEOUT},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	struct relay_config cfg;
	struct server srv;
	struct err e = {0};
	struct sigaction sa;
	long long v;
	int opt, have_listen = 0;

	server_config_default(&cfg);
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'l':
			if (main_parse_listen(optarg, &cfg) < 0)
				return main_bad("--listen", optarg);
			have_listen = 1;
			break;
		case 'd':
			/* ":memory:" keeps the database in memory: a benchmark
			 * baseline, never durable, and without blobs. */
			if (strcmp(optarg, ":memory:") == 0) {
				cfg.store.in_memory = 1;
				cfg.data_dir = NULL;
			} else {
				cfg.store.in_memory = 0;
				cfg.data_dir = optarg;
			}
			break;
		case OPT_TLS_CERT:
			cfg.tls_cert = optarg;
			break;
		case OPT_TLS_KEY:
			cfg.tls_key = optarg;
			break;
		case OPT_REGISTRATION:
			if (strcmp(optarg, "open") == 0)
				cfg.token_file = NULL;
			else if (strncmp(optarg, "token:", 6) == 0 && optarg[6] != '\0')
				cfg.token_file = optarg + 6;
			else
				return main_bad("--registration", optarg);
			break;
		case OPT_CHAOS:
			if (chaos_parse(optarg, &cfg.chaos, &e) < 0) {
				fprintf(stderr, "sotto-relay: --chaos: %s\n", e.msg);
				return EXIT_USAGE;
			}
			cfg.has_chaos = 1;
			break;
		case OPT_MAX_FRAME:
			if (main_parse_size(optarg, 1024, WIRE_MAX_FRAME, &v) < 0)
				return main_bad("--max-frame", optarg);
			cfg.max_frame = (size_t)v;
			break;
		case OPT_MAX_QUEUE:
			if (main_parse_size(optarg, 1, 100000000, &v) < 0)
				return main_bad("--max-queue", optarg);
			cfg.store.max_queue = v;
			break;
		case OPT_MAX_BLOB:
			if (main_parse_size(optarg, 1, 1LL << 40, &v) < 0)
				return main_bad("--max-blob", optarg);
			cfg.store.max_blob = v;
			break;
		case OPT_BLOB_TTL:
			if (main_parse_duration(optarg, &cfg.store.blob_ttl_ms) < 0)
				return main_bad("--blob-ttl", optarg);
			break;
		case OPT_QUEUE_TTL:
			if (main_parse_duration(optarg, &cfg.store.queue_ttl_ms) < 0)
				return main_bad("--queue-ttl", optarg);
			break;
		case OPT_MAX_CONNECTIONS:
			if (main_parse_size(optarg, 1, 1000000, &v) < 0)
				return main_bad("--max-connections", optarg);
			cfg.max_connections = (size_t)v;
			break;
		case OPT_PREKEY_FETCH_RATE:
			if (main_parse_size(optarg, 1, 1000000, &v) < 0)
				return main_bad("--prekey-fetch-rate", optarg);
			cfg.prekey_fetch_rate = (uint32_t)v;
			break;
		case OPT_REGISTRATION_RATE:
			if (main_parse_size(optarg, 1, 1000000, &v) < 0)
				return main_bad("--registration-rate", optarg);
			cfg.registrations_rate = (uint32_t)v;
			break;
		case OPT_AUTH_TIMEOUT:
			if (main_parse_duration(optarg, &cfg.auth_timeout_ms) < 0)
				return main_bad("--auth-timeout", optarg);
			break;
		case 'h':
			main_usage(stdout);
			return 0;
		case 'V':
			printf("sotto-relay %s (sotto-protocol 1)\n", PACKAGE_VERSION);
			return 0;
		default:
			main_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc || !have_listen || (cfg.data_dir == NULL && !cfg.store.in_memory) ||
	    (cfg.tls_cert == NULL) != (cfg.tls_key == NULL)) {
		main_usage(stderr);
		return EXIT_USAGE;
	}

	lws_set_log_level(LLL_ERR | LLL_WARN, NULL);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = main_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	main_raise_nofile(cfg.max_connections);
	if (server_start(&srv, &cfg, &main_stop, &e) < 0) {
		fprintf(stderr, "sotto-relay: %s\n", e.msg);
		return 1;
	}
	main_ctx = srv.ctx;
	if (strchr(cfg.host, ':') != NULL)
		printf("listening on [%s]:%d\n", cfg.host, srv.port);
	else
		printf("listening on %s:%d\n", cfg.host, srv.port);
	fflush(stdout);
	server_run(&srv);
	main_ctx = NULL;
	server_stop(&srv);
	fprintf(stderr, "sotto-relay: stopped\n");
	return 0;
}

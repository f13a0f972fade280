/* The benchmark's relay side: the sotto-relay child process, accounts
 * registered with one shared identity and signed prekey, bulk connection
 * set-up, and pipelined flows with writer, reader and receiver threads. */
#include "bench/relaynet_peer.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>
#include <signal/curve.h>

#include "crypto/cprov.h"
#include "util/err.h"
#include "wire/b64.h"

#define PEER_WAIT_MS 15000 /* silence that ends a phase as failed */

static const char *peer_relay_path;
static const char *peer_tmp;
static int peer_window; /* sends in flight */
static signal_context *peer_sig;
static uint8_t peer_ik_pub[WIRE_KEY_LEN];
/* Shared by every account: the relay checks the signature, not who
 * holds the key. */
static struct wire_signed_prekey peer_spk;
static unsigned peer_relay_runs;
static pid_t peer_live_relay; /* killed by relaynet_peer_die */

/* One sending connection: a writer thread keeps peer_window requests in
 * flight, a reader thread collects the answers. */
struct peer_tx {
	struct relaynet_ws *ws;
	const struct relaynet_peer_acct *to; /* one message to each per request */
	size_t n_to;
	long n;    /* requests */
	long rate; /* per second; 0: as fast as the window allows */
	sem_t slots;
	uint8_t run_id[8]; /* msg_ids differ between runs */
	char *frames;      /* the n requests, pre-built; request i at off[i]..off[i + 1] */
	size_t *off, max_len;
	uint64_t t_first_ns;
	long answered, refused;
};

uint64_t
relaynet_peer_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void
relaynet_peer_die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "peer_relay_net: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	if (peer_live_relay > 0)
		kill(peer_live_relay, SIGKILL);
	exit(1);
}

/* ---- the relay process ---- */

/* Start the relay on data (a directory or ":memory:") with extra options
 * (NULL-terminated); its stderr goes to a log in the temp directory. */
void
relaynet_peer_relay_start(struct relaynet_peer_relay *r, const char *data, const char *const *extra)
{
	const char *argv[32];
	char line[128], *log;
	int out[2], fd;
	size_t n = 0, o = 0;
	uint64_t deadline;

	argv[n++] = peer_relay_path;
	argv[n++] = "--listen";
	argv[n++] = "127.0.0.1:0";
	argv[n++] = "--data";
	argv[n++] = data;
	argv[n++] = "--registration-rate";
	argv[n++] = "1000000";
	argv[n++] = "--max-queue";
	argv[n++] = "1000000";
	while (extra != NULL && *extra != NULL && n < 31)
		argv[n++] = *extra++;
	argv[n] = NULL;
	log = xasprintf("%s/relay-%u.log", peer_tmp, ++peer_relay_runs);
	if (pipe(out) < 0)
		relaynet_peer_die("pipe: %s", strerror(errno));
	r->pid = fork();
	if (r->pid < 0)
		relaynet_peer_die("fork: %s", strerror(errno));
	if (r->pid == 0) {
		dup2(out[1], 1);
		fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fd >= 0)
			dup2(fd, 2);
		close(out[0]);
		execv(peer_relay_path, (char *const *)argv);
		_exit(127);
	}
	close(out[1]);
	peer_live_relay = r->pid;
	deadline = relaynet_peer_now_ns() + 10 * 1000000000ull;
	while (o < sizeof line - 1 && relaynet_peer_now_ns() < deadline) {
		struct pollfd pfd = {.fd = out[0], .events = POLLIN};
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		if (read(out[0], line + o, 1) != 1 || line[o] == '\n')
			break;
		o++;
	}
	line[o] = '\0';
	close(out[0]);
	if (sscanf(line, "listening on 127.0.0.1:%d", &r->port) != 1)
		relaynet_peer_die("the relay did not start; see %s", log);
	free(log);
}

void
relaynet_peer_relay_stop(struct relaynet_peer_relay *r)
{
	int status;

	kill(r->pid, SIGTERM);
	waitpid(r->pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fprintf(stderr, "peer_relay_net: relay exit status %d (logs in %s)\n", status,
		        peer_tmp);
	r->pid = 0;
	peer_live_relay = 0;
}

long
relaynet_peer_relay_rss_kib(const struct relaynet_peer_relay *r)
{
	char path[64], line[256];
	long kib = -1;
	FILE *fp;

	snprintf(path, sizeof path, "/proc/%d/status", (int)r->pid);
	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof line, fp) != NULL)
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(fp);
	return kib;
}

/* ---- accounts and frames ---- */

static void
peer_keys_init(void)
{
	ec_key_pair *ik = NULL, *kp = NULL;
	signal_buffer *buf = NULL, *sig = NULL;
	struct err e = {0};

	if (cprov_context_create(&peer_sig, &e) < 0)
		relaynet_peer_die("libsignal: %s", e.msg);
	if (curve_generate_key_pair(peer_sig, &ik) != 0 ||
	    curve_generate_key_pair(peer_sig, &kp) != 0)
		relaynet_peer_die("%s", "key generation failed");
	if (ec_public_key_serialize(&buf, ec_key_pair_get_public(ik)) != 0)
		relaynet_peer_die("%s", "key serialization failed");
	memcpy(peer_ik_pub, signal_buffer_data(buf), WIRE_KEY_LEN);
	signal_buffer_free(buf);
	if (ec_public_key_serialize(&buf, ec_key_pair_get_public(kp)) != 0)
		relaynet_peer_die("%s", "key serialization failed");
	peer_spk.id = 1;
	memcpy(peer_spk.pub, signal_buffer_data(buf), WIRE_KEY_LEN);
	signal_buffer_free(buf);
	if (curve_calculate_signature(peer_sig, &sig, ec_key_pair_get_private(ik), peer_spk.pub,
	                              WIRE_KEY_LEN) != 0)
		relaynet_peer_die("%s", "signing failed");
	memcpy(peer_spk.sig, signal_buffer_data(sig), WIRE_SIG_LEN);
	signal_buffer_free(sig);
	SIGNAL_UNREF(kp);
	SIGNAL_UNREF(ik);
}

void
relaynet_peer_setup(const char *relay, const char *tmp, int window)
{
	peer_relay_path = relay;
	peer_tmp = tmp;
	peer_window = window;
	peer_keys_init();
}

void
relaynet_peer_teardown(void)
{
	cprov_context_destroy(peer_sig);
	peer_sig = NULL;
}

void
relaynet_peer_acct_init(struct relaynet_peer_acct *a, const char *prefix, long i)
{
	snprintf(a->name, sizeof a->name, "%s%ld", prefix, i);
	RAND_bytes(a->secret, sizeof a->secret);
	a->reg_id = 1 + (uint32_t)(i % WIRE_REG_ID_MAX);
}

static void
peer_send_frame(struct relaynet_ws *ws, const struct wire_frame *f)
{
	struct err e = {0};
	size_t len;
	char *text = wire_build(f, &len, &e);

	if (text == NULL)
		relaynet_peer_die("building a frame: %s", e.msg);
	if (relaynet_ws_send(ws, text, len) < 0)
		relaynet_peer_die("%s", "the relay hung up");
	wipe_free_str(text);
}

/* The next frame within timeout_ms: 1, 0 on timeout, -1 if closed. */
static int
peer_recv_frame(struct relaynet_ws *ws, int timeout_ms, struct wire_frame *f)
{
	struct err e = {0};
	const char *text;
	size_t len;
	int rc = relaynet_ws_recv(ws, timeout_ms, &text, &len);

	if (rc <= 0)
		return rc;
	if (wire_parse(text, len, f, &e) < 0)
		relaynet_peer_die("unreadable frame from the relay: %s", e.msg);
	return 1;
}

/* Open a connection and send register (or auth) as request 1. */
static struct relaynet_ws *
peer_hello(int port, const struct relaynet_peer_acct *a, int reg)
{
	struct relaynet_ws *ws = relaynet_ws_connect(port);
	struct wire_frame f;

	if (ws == NULL)
		return NULL;
	memset(&f, 0, sizeof f);
	f.kind = WIRE_REQUEST;
	f.id = 1;
	if (reg) {
		f.type = WIRE_T_REGISTER;
		memcpy(f.u.req.u.reg.account, a->name, sizeof a->name);
		f.u.req.u.reg.registration_id = a->reg_id;
		memcpy(f.u.req.u.reg.identity_key, peer_ik_pub, WIRE_KEY_LEN);
		f.u.req.u.reg.signed_prekey = peer_spk;
		memcpy(f.u.req.u.reg.secret, a->secret, WIRE_SECRET_LEN);
	} else {
		f.type = WIRE_T_AUTH;
		memcpy(f.u.req.u.auth.account, a->name, sizeof a->name);
		f.u.req.u.auth.device = 1;
		memcpy(f.u.req.u.auth.secret, a->secret, WIRE_SECRET_LEN);
	}
	peer_send_frame(ws, &f);
	wipe(&f, sizeof f);
	return ws;
}

/* Read until the answer to request 1 and then the queue.empty push, so
 * the relay has finished with the connection. 0 if the answer was 200. */
static int
peer_hello_wait(struct relaynet_ws *ws)
{
	struct wire_frame f;
	int status = -1, empty = 0;

	while (!empty && peer_recv_frame(ws, PEER_WAIT_MS, &f) > 0) {
		if (f.kind == WIRE_RESPONSE && f.id == 1) {
			status = f.u.resp.status;
			if (status != 200) {
				fprintf(stderr, "peer_relay_net: %s answered %d %s\n",
				        wire_type_name(f.type), status, f.u.resp.message);
				empty = 1;
			}
		} else if (f.kind == WIRE_PUSH && f.push == WIRE_P_QUEUE_EMPTY) {
			empty = 1;
		}
		wire_frame_free(&f);
	}
	return status == 200 ? 0 : -1;
}

/* Register (reg) or authenticate n accounts, RELAYNET_PEER_CHUNK connections at a
 * time so the relay batches them. Connections are kept in ws (NULL: closed
 * once answered). Returns how many succeeded. */
long
relaynet_peer_open_many(int port, const struct relaynet_peer_acct *a, long n, int reg,
                        struct relaynet_ws **ws)
{
	struct relaynet_ws *chunk[RELAYNET_PEER_CHUNK];
	long i, k, m, ok = 0;

	for (i = 0; i < n; i += RELAYNET_PEER_CHUNK) {
		m = n - i < RELAYNET_PEER_CHUNK ? n - i : RELAYNET_PEER_CHUNK;
		for (k = 0; k < m; k++)
			chunk[k] = peer_hello(port, &a[i + k], reg);
		for (k = 0; k < m; k++) {
			if (chunk[k] != NULL && peer_hello_wait(chunk[k]) == 0) {
				relaynet_ws_trim(chunk[k]);
				ok++;
			} else if (chunk[k] != NULL) {
				relaynet_ws_free(chunk[k]);
				chunk[k] = NULL;
			}
			if (ws != NULL)
				ws[i + k] = chunk[k];
			else
				relaynet_ws_free(chunk[k]);
		}
		if (ok < i + m)
			break;
	}
	return ok;
}

struct peer_opener {
	int port, reg;
	const struct relaynet_peer_acct *a;
	long n, ok;
	struct relaynet_ws **ws;
};

static void *
peer_opener_run(void *arg)
{
	struct peer_opener *o = arg;

	o->ok = relaynet_peer_open_many(o->port, o->a, o->n, o->reg, o->ws);
	return NULL;
}

static pthread_t peer_thread(void *(*fn)(void *), void *arg);

/* relaynet_peer_open_many() from two threads, each on half the accounts, so the
 * handshakes of one overlap the relay's work on the other's. */
long
relaynet_peer_open_par(int port, const struct relaynet_peer_acct *a, long n, int reg,
                       struct relaynet_ws **ws)
{
	struct peer_opener o[2];
	pthread_t th[2];
	long half = n / 2;
	int i;

	for (i = 0; i < 2; i++) {
		o[i].port = port;
		o[i].reg = reg;
		o[i].a = a + (i ? half : 0);
		o[i].n = i ? n - half : half;
		o[i].ws = ws != NULL ? ws + (i ? half : 0) : NULL;
		o[i].ok = 0;
		th[i] = peer_thread(peer_opener_run, &o[i]);
	}
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	return o[0].ok + o[1].ok;
}

/* ---- sending and receiving ---- */

/* Build every request of a flow before the clock starts, with a zero
 * send time in each content: the writer only stamps and masks them. */
static void
peer_tx_prebuild(struct peer_tx *t)
{
	struct wire_send *sends = xcalloc(t->n_to, sizeof *sends);
	struct wire_message msg;
	struct wire_frame f;
	uint8_t content[RELAYNET_PEER_CONTENT], mid[16];
	char *mid_b64, *text;
	size_t k, len, cap = 0, used = 0;
	struct err e = {0};
	long i;

	memset(content, 0x5a, sizeof content);
	memset(content, 0, 8);
	memset(&msg, 0, sizeof msg);
	msg.device = 1;
	msg.type = WIRE_MSG_NORMAL;
	msg.content = content;
	msg.content_len = sizeof content;
	for (k = 0; k < t->n_to; k++) {
		memcpy(sends[k].to, t->to[k].name, sizeof sends[k].to);
		sends[k].messages = xmemdup(&msg, sizeof msg);
		sends[k].messages[0].registration_id = t->to[k].reg_id;
		sends[k].n_messages = 1;
	}
	t->off = xcalloc((size_t)t->n + 1, sizeof *t->off);
	for (i = 0; i < t->n; i++) {
		memset(&f, 0, sizeof f);
		f.kind = WIRE_REQUEST;
		f.id = (uint64_t)i + 1;
		f.type = t->n_to == 1 ? WIRE_T_SEND : WIRE_T_SEND_MULTI;
		memcpy(mid, t->run_id, 8);
		memcpy(mid + 8, &i, sizeof i);
		mid_b64 = b64_encode(mid, sizeof mid);
		snprintf(f.u.req.u.send.msg_id, sizeof f.u.req.u.send.msg_id, "%s", mid_b64);
		free(mid_b64);
		f.u.req.u.send.sends = sends;
		f.u.req.u.send.n_sends = t->n_to;
		if ((text = wire_build(&f, &len, &e)) == NULL)
			relaynet_peer_die("building a send: %s", e.msg);
		if (used + len > cap) {
			cap = (used + len) * 2;
			t->frames = xrealloc(t->frames, cap);
		}
		memcpy(t->frames + used, text, len);
		free(text);
		used += len;
		t->off[i + 1] = used;
		if (len > t->max_len)
			t->max_len = len;
	}
	for (k = 0; k < t->n_to; k++)
		free(sends[k].messages);
	free(sends);
}

/* Write the send time into every content of a pre-built request: the
 * first 12 base64 characters encode its first 9 bytes, the 8 of the time
 * and one of the fixed filler. */
static void
peer_tx_stamp(char *text, size_t len, const char stamp[12])
{
	static const char key[] = "\"content\":\"";
	char *p = text, *end = text + len;

	while ((p = memmem(p, (size_t)(end - p), key, sizeof key - 1)) != NULL) {
		p += sizeof key - 1;
		if (end - p < 12)
			break;
		memcpy(p, stamp, 12);
	}
}

/* Keeps peer_window requests in flight. As fast as it may, it writes as
 * many pre-built requests per system call as the window has room for (up
 * to RELAYNET_PEER_WRITE_BATCH); at a fixed rate, one at a time, on time. */
static void *
peer_tx_writer(void *arg)
{
	struct peer_tx *t = arg;
	uint8_t *wbuf = xmalloc(RELAYNET_PEER_WRITE_BATCH * (t->max_len + RELAYNET_WS_HEADER_MAX));
	uint8_t first[9];
	char *stamp;
	struct timespec due;
	uint64_t t0 = 0, now;
	size_t o;
	long i, j, k;

	memset(first, 0x5a, sizeof first);
	for (i = 0; i < t->n; i += k) {
		if (t->rate > 0) {
			if (i == 0)
				t0 = relaynet_peer_now_ns();
			now = t0 + (uint64_t)i * 1000000000u / (uint64_t)t->rate;
			due.tv_sec = (time_t)(now / 1000000000u);
			due.tv_nsec = (long)(now % 1000000000u);
			while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &due, NULL) == EINTR)
				;
		}
		while (sem_wait(&t->slots) < 0 && errno == EINTR)
			;
		k = 1;
		while (t->rate == 0 && k < RELAYNET_PEER_WRITE_BATCH && i + k < t->n &&
		       sem_trywait(&t->slots) == 0)
			k++;
		/* The receiver takes the latency from the send time inside. */
		now = relaynet_peer_now_ns();
		if (i == 0)
			t->t_first_ns = now;
		memcpy(first, &now, sizeof now);
		stamp = b64_encode(first, sizeof first);
		for (o = 0, j = i; j < i + k; j++) {
			char *text = t->frames + t->off[j];
			size_t len = t->off[j + 1] - t->off[j];

			peer_tx_stamp(text, len, stamp);
			o += relaynet_ws_frame(t->ws, wbuf + o, text, len);
		}
		free(stamp);
		if (relaynet_ws_write(t->ws, wbuf, o) < 0)
			relaynet_peer_die("%s", "the relay hung up");
	}
	free(wbuf);
	return NULL;
}

static void *
peer_tx_reader(void *arg)
{
	struct peer_tx *t = arg;
	struct wire_frame f;

	while (t->answered + t->refused < t->n) {
		if (peer_recv_frame(t->ws, PEER_WAIT_MS, &f) <= 0)
			break;
		if (f.kind == WIRE_RESPONSE) {
			if (f.u.resp.status == 200) {
				t->answered++;
			} else {
				if (t->refused++ == 0)
					fprintf(stderr, "peer_relay_net: send answered %d %s\n",
					        f.u.resp.status, f.u.resp.message);
			}
			sem_post(&t->slots);
		}
		wire_frame_free(&f);
	}
	return NULL;
}

static void
peer_rx_ack(struct relaynet_peer_rx *r, uint64_t *ids, size_t *n)
{
	struct wire_frame f;

	if (*n == 0)
		return;
	memset(&f, 0, sizeof f);
	f.kind = WIRE_REQUEST;
	f.id = 1;
	f.type = WIRE_T_ACK;
	f.u.req.u.ack.ids = ids;
	f.u.req.u.ack.n_ids = *n;
	peer_send_frame(r->ws, &f);
	*n = 0;
}

static void *
peer_rx_run(void *arg)
{
	struct relaynet_peer_rx *r = arg;
	uint64_t ids[RELAYNET_PEER_ACK_BATCH], sent, now;
	size_t n_ids = 0;
	struct wire_frame f;
	int rc;

	while (r->got < r->expect) {
		/* Ack what came as soon as the socket has nothing more. */
		rc = peer_recv_frame(r->ws, n_ids > 0 ? 0 : PEER_WAIT_MS, &f);
		if (rc == 0 && n_ids > 0) {
			peer_rx_ack(r, ids, &n_ids);
			continue;
		}
		if (rc <= 0)
			break;
		if (f.kind == WIRE_PUSH && f.push == WIRE_P_ENVELOPE) {
			now = relaynet_peer_now_ns();
			if (f.u.push.envelope.content_len == RELAYNET_PEER_CONTENT) {
				memcpy(&sent, f.u.push.envelope.content, sizeof sent);
				if (r->lat != NULL)
					r->lat[r->got] = now - sent;
				r->got++;
				r->t_last_ns = now;
			} else {
				r->bad++;
			}
			ids[n_ids++] = f.u.push.envelope.id;
			if (n_ids == RELAYNET_PEER_ACK_BATCH)
				peer_rx_ack(r, ids, &n_ids);
		} else if (f.kind == WIRE_RESPONSE && f.u.resp.status != 200) {
			r->bad++;
		}
		wire_frame_free(&f);
	}
	peer_rx_ack(r, ids, &n_ids);
	return NULL;
}

static pthread_t
peer_thread(void *(*fn)(void *), void *arg)
{
	pthread_attr_t attr;
	pthread_t th;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	if (pthread_create(&th, &attr, fn, arg) != 0)
		relaynet_peer_die("%s", "pthread_create failed");
	pthread_attr_destroy(&attr);
	return th;
}

/* Send n requests from tx to the n_rx receivers (one message each per
 * request) and wait for every delivery. Returns deliveries per second from
 * the first send to the last delivery, or -1 (reported) if some were lost. */
double
relaynet_peer_flow(struct relaynet_ws *txws, struct relaynet_peer_rx *rx,
                   const struct relaynet_peer_acct *to, size_t n_rx, long n, long rate)
{
	struct peer_tx t;
	pthread_t writer, reader, *readers = xcalloc(n_rx, sizeof *readers);
	uint64_t last = 0;
	long got = 0;
	size_t i;

	memset(&t, 0, sizeof t);
	t.ws = txws;
	t.to = to;
	t.n_to = n_rx;
	t.n = n;
	t.rate = rate;
	RAND_bytes(t.run_id, sizeof t.run_id);
	sem_init(&t.slots, 0, (unsigned)peer_window);
	peer_tx_prebuild(&t);
	for (i = 0; i < n_rx; i++) {
		rx[i].expect = n;
		readers[i] = peer_thread(peer_rx_run, &rx[i]);
	}
	reader = peer_thread(peer_tx_reader, &t);
	writer = peer_thread(peer_tx_writer, &t);
	pthread_join(writer, NULL);
	pthread_join(reader, NULL);
	for (i = 0; i < n_rx; i++) {
		pthread_join(readers[i], NULL);
		got += rx[i].got;
		if (rx[i].t_last_ns > last)
			last = rx[i].t_last_ns;
	}
	sem_destroy(&t.slots);
	free(t.frames);
	free(t.off);
	free(readers);
	if (t.refused > 0 || got < n * (long)n_rx) {
		printf("  (incomplete: %ld of %ld sends answered 200, %ld of %ld delivered)\n",
		       t.answered, n, got, n * (long)n_rx);
		return -1;
	}
	return (double)got * 1e9 / (double)(last - t.t_first_ns);
}

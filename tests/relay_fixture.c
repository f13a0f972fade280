/* The relay integration tests' fixture: starting and killing the real
 * sotto-relay, accounts with libsignal keys, and blocking request/response
 * helpers over tests/wsclient. */
#include "tests/relay_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>
#include <signal/curve.h>

#include "crypto/cprov.h"
#include "util/xmalloc.h"
#include "wire/b64.h"

signal_context *relay_fixture_signal_ctx;

int64_t
relay_fixture_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the relay process ---- */

void
relay_fixture_start(struct relay_fixture *r, const char *data, const char *extra1,
                    const char *extra2)
{
	const char *top = getenv("top_builddir");
	char *bin = xasprintf("%s/sotto-relay", top != NULL ? top : ".");
	char *log = xasprintf("%s.log", data);
	char line[128];
	int out[2], logfd;
	size_t o = 0;
	int64_t deadline;

	snprintf(r->data, sizeof r->data, "%s", data);
	assert_int_equal(pipe(out), 0);
	r->pid = fork();
	assert_true(r->pid >= 0);
	if (r->pid == 0) {
		const char *argv[] = {
		    bin,    "--listen", "127.0.0.1:0", "--data", data, "--registration-rate",
		    "1000", extra1,     extra2,        NULL};
		dup2(out[1], 1);
		logfd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (logfd >= 0)
			dup2(logfd, 2);
		close(out[0]);
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	close(out[1]);
	deadline = relay_fixture_now_ms() + RELAY_FIXTURE_TIMEOUT_MS;
	while (o < sizeof line - 1 && relay_fixture_now_ms() < deadline) {
		struct pollfd pfd = {.fd = out[0], .events = POLLIN};
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		if (read(out[0], line + o, 1) != 1)
			break;
		if (line[o] == '\n')
			break;
		o++;
	}
	line[o] = '\0';
	close(out[0]);
	if (sscanf(line, "listening on 127.0.0.1:%d", &r->port) != 1)
		fail_msg("relay did not announce its port: \"%s\"", line);
	free(bin);
	free(log);
}

int
relay_fixture_stop(struct relay_fixture *r)
{
	int status = -1;

	kill(r->pid, SIGTERM);
	waitpid(r->pid, &status, 0);
	r->pid = 0;
	return status;
}

void
relay_fixture_kill9(struct relay_fixture *r)
{
	int status;

	kill(r->pid, SIGKILL);
	waitpid(r->pid, &status, 0);
	r->pid = 0;
}

int
relay_fixture_finish(struct relay_fixture *r, const char *tmp_root)
{
	int status = relay_fixture_stop(r);
	char *cmd;

	cprov_context_destroy(relay_fixture_signal_ctx);
	relay_fixture_signal_ctx = NULL;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "relay exit status %d; log in %s\n", status, tmp_root);
		return -1;
	}
	cmd = xasprintf("rm -rf '%s'", tmp_root);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmp_root);
	free(cmd);
	return 0;
}

/* ---- accounts and keys ---- */

void
relay_fixture_key_serialize(ec_public_key *key, uint8_t out[WIRE_KEY_LEN])
{
	signal_buffer *buf = NULL;

	assert_int_equal(ec_public_key_serialize(&buf, key), 0);
	assert_int_equal(signal_buffer_len(buf), WIRE_KEY_LEN);
	memcpy(out, signal_buffer_data(buf), WIRE_KEY_LEN);
	signal_buffer_free(buf);
}

void
relay_fixture_acct_init(struct relay_fixture_acct *a, const char *name)
{
	memset(a, 0, sizeof *a);
	snprintf(a->name, sizeof a->name, "%s", name);
	RAND_bytes(a->secret, sizeof a->secret);
	a->reg_id = 1 + (uint32_t)(rand() % 16000);
	a->device = 1;
	assert_int_equal(curve_generate_key_pair(relay_fixture_signal_ctx, &a->ik), 0);
	relay_fixture_key_serialize(ec_key_pair_get_public(a->ik), a->ik_pub);
}

void
relay_fixture_acct_free(struct relay_fixture_acct *a)
{
	SIGNAL_UNREF(a->ik);
	a->ik = NULL;
}

/* A signed prekey signed by signer's identity key. */
void
relay_fixture_spk(ec_key_pair *signer, uint32_t id, struct wire_signed_prekey *spk)
{
	ec_key_pair *kp = NULL;
	signal_buffer *sig = NULL;

	assert_int_equal(curve_generate_key_pair(relay_fixture_signal_ctx, &kp), 0);
	spk->id = id;
	relay_fixture_key_serialize(ec_key_pair_get_public(kp), spk->pub);
	assert_int_equal(curve_calculate_signature(relay_fixture_signal_ctx, &sig,
	                                           ec_key_pair_get_private(signer), spk->pub,
	                                           WIRE_KEY_LEN),
	                 0);
	memcpy(spk->sig, signal_buffer_data(sig), WIRE_SIG_LEN);
	signal_buffer_free(sig);
	SIGNAL_UNREF(kp);
}

void
relay_fixture_prekeys(struct wire_prekey *pk, size_t n, uint32_t first)
{
	ec_key_pair *kp = NULL;
	size_t i;

	memset(pk, 0, n * sizeof *pk);
	for (i = 0; i < n; i++) {
		assert_int_equal(curve_generate_key_pair(relay_fixture_signal_ctx, &kp), 0);
		pk[i].id = first + (uint32_t)i;
		relay_fixture_key_serialize(ec_key_pair_get_public(kp), pk[i].pub);
		SIGNAL_UNREF(kp);
	}
}

/* ---- frames ---- */

struct relay_fixture_peer *
relay_fixture_connect(int port)
{
	struct relay_fixture_peer *p = xcalloc(1, sizeof *p);

	p->ws = wsclient_connect(port, WIRE_PATH, WIRE_SUBPROTOCOL, NULL);
	assert_non_null(p->ws);
	return p;
}

void
relay_fixture_close(struct relay_fixture_peer *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->n_pushes; i++)
		free(p->pushes[i]);
	wsclient_free(p->ws);
	free(p);
}

void
relay_fixture_send_frame(struct relay_fixture_peer *p, struct wire_frame *req)
{
	struct err e = {0};
	char *text;

	req->kind = WIRE_REQUEST;
	req->id = ++p->next_id;
	text = wire_build(req, NULL, &e);
	if (text == NULL)
		fail_msg("build: %s", e.msg);
	assert_int_equal(wsclient_send_text(p->ws, text), 0);
	wipe_free_str(text);
}

/* Wait for the response to request id; pushes are stashed. */
struct wire_frame
relay_fixture_response(struct relay_fixture_peer *p, uint64_t id)
{
	struct wire_frame f;
	struct err e = {0};
	char *m;

	for (;;) {
		m = wsclient_recv(p->ws, RELAY_FIXTURE_TIMEOUT_MS);
		if (m == NULL)
			fail_msg("no response to request %llu (close code %d)",
			         (unsigned long long)id, wsclient_close_code(p->ws));
		if (wire_parse(m, strlen(m), &f, &e) < 0)
			fail_msg("relay sent an invalid frame: %s: %s", e.msg, m);
		if (f.kind == WIRE_PUSH) {
			assert_true(p->n_pushes < sizeof p->pushes / sizeof p->pushes[0]);
			p->pushes[p->n_pushes++] = m;
			wire_frame_free(&f);
			continue;
		}
		free(m);
		if (f.id != id)
			fail_msg("response to %llu while waiting for %llu",
			         (unsigned long long)f.id, (unsigned long long)id);
		return f;
	}
}

struct wire_frame
relay_fixture_call(struct relay_fixture_peer *p, struct wire_frame *req)
{
	relay_fixture_send_frame(p, req);
	return relay_fixture_response(p, req->id);
}

/* The next push of the given kind (stashed ones first, in order). */
int
relay_fixture_push(struct relay_fixture_peer *p, enum wire_push kind, struct wire_frame *out,
                   int timeout_ms)
{
	struct err e = {0};
	size_t i;
	char *m;

	for (i = 0; i < p->n_pushes; i++) {
		if (wire_parse(p->pushes[i], strlen(p->pushes[i]), out, &e) == 0 &&
		    out->push == kind) {
			free(p->pushes[i]);
			memmove(&p->pushes[i], &p->pushes[i + 1],
			        (p->n_pushes - i - 1) * sizeof p->pushes[0]);
			p->n_pushes--;
			return 1;
		}
		wire_frame_free(out);
	}
	while ((m = wsclient_recv(p->ws, timeout_ms)) != NULL) {
		if (wire_parse(m, strlen(m), out, &e) < 0)
			fail_msg("invalid frame: %s", m);
		if (out->kind == WIRE_PUSH && out->push == kind) {
			free(m);
			return 1;
		}
		wire_frame_free(out);
		p->pushes[p->n_pushes++] = m;
	}
	return 0;
}

struct relay_fixture_peer *
relay_fixture_register(int port, struct relay_fixture_acct *a)
{
	struct relay_fixture_peer *p = relay_fixture_connect(port);
	struct wire_frame req = {0}, resp;

	req.type = WIRE_T_REGISTER;
	snprintf(req.u.req.u.reg.account, sizeof req.u.req.u.reg.account, "%s", a->name);
	req.u.req.u.reg.registration_id = a->reg_id;
	memcpy(req.u.req.u.reg.identity_key, a->ik_pub, WIRE_KEY_LEN);
	relay_fixture_spk(a->ik, 1, &req.u.req.u.reg.signed_prekey);
	memcpy(req.u.req.u.reg.secret, a->secret, WIRE_SECRET_LEN);
	resp = relay_fixture_call(p, &req);
	if (resp.u.resp.status != 200)
		fail_msg("register %s: %d %s", a->name, resp.u.resp.status, resp.u.resp.message);
	assert_int_equal(resp.u.resp.device, 1);
	wire_frame_free(&resp);
	return p;
}

int
relay_fixture_try_auth(struct relay_fixture_peer *p, const char *name, uint32_t device,
                       const uint8_t *secret)
{
	struct wire_frame req = {0}, resp;
	int status;

	req.type = WIRE_T_AUTH;
	snprintf(req.u.req.u.auth.account, sizeof req.u.req.u.auth.account, "%s", name);
	req.u.req.u.auth.device = device;
	memcpy(req.u.req.u.auth.secret, secret, WIRE_SECRET_LEN);
	resp = relay_fixture_call(p, &req);
	status = resp.u.resp.status;
	wire_frame_free(&resp);
	return status;
}

struct relay_fixture_peer *
relay_fixture_auth(int port, struct relay_fixture_acct *a)
{
	struct relay_fixture_peer *p = relay_fixture_connect(port);

	assert_int_equal(relay_fixture_try_auth(p, a->name, a->device, a->secret), 200);
	return p;
}

int
relay_fixture_simple(struct relay_fixture_peer *p, enum wire_type type)
{
	struct wire_frame req = {0}, resp;
	int status;

	req.type = type;
	resp = relay_fixture_call(p, &req);
	status = resp.u.resp.status;
	wire_frame_free(&resp);
	return status;
}

/* A send of one message per (device, registration id) pair. */
struct wire_frame
relay_fixture_send(struct relay_fixture_peer *p, const char *to, const char *msg_id,
                   const uint32_t *devs, const uint32_t *regs, size_t n, const char *content)
{
	struct wire_frame req = {0};
	struct wire_message msgs[8];
	struct wire_send send;
	size_t i;

	memset(msgs, 0, sizeof msgs);
	memset(&send, 0, sizeof send);
	for (i = 0; i < n; i++) {
		msgs[i].device = devs[i];
		msgs[i].registration_id = regs[i];
		msgs[i].type = WIRE_MSG_NORMAL;
		msgs[i].content = (uint8_t *)content;
		msgs[i].content_len = strlen(content);
	}
	snprintf(send.to, sizeof send.to, "%s", to);
	send.messages = msgs;
	send.n_messages = n;
	req.type = WIRE_T_SEND;
	snprintf(req.u.req.u.send.msg_id, sizeof req.u.req.u.send.msg_id, "%s", msg_id);
	req.u.req.u.send.sends = &send;
	req.u.req.u.send.n_sends = 1;
	return relay_fixture_call(p, &req);
}

char *
relay_fixture_msg_id(unsigned n)
{
	uint8_t raw[16] = {0};

	memcpy(raw, &n, sizeof n);
	raw[15] = 0x5a;
	return b64_encode(raw, sizeof raw);
}

void
relay_fixture_ack(struct relay_fixture_peer *p, const uint64_t *ids, size_t n)
{
	struct wire_frame req = {0}, resp;

	req.type = WIRE_T_ACK;
	req.u.req.u.ack.ids = (uint64_t *)ids;
	req.u.req.u.ack.n_ids = n;
	resp = relay_fixture_call(p, &req);
	assert_int_equal(resp.u.resp.status, 200);
	wire_frame_free(&resp);
}

/* The next frame: stashed pushes first, then the socket. */
char *
relay_fixture_next(struct relay_fixture_peer *p)
{
	char *m;

	if (p->n_pushes > 0) {
		m = p->pushes[0];
		memmove(&p->pushes[0], &p->pushes[1], (p->n_pushes - 1) * sizeof p->pushes[0]);
		p->n_pushes--;
		return m;
	}
	return wsclient_recv(p->ws, RELAY_FIXTURE_TIMEOUT_MS);
}

/* Receive envelopes until queue.empty; contents (NUL-terminated, may be
 * NULL) and ids go to the arrays. With ack set, envelopes are acked as
 * they come, so the window never stalls. Returns the count. */
size_t
relay_fixture_drain_ack(struct relay_fixture_peer *p, char **contents, uint64_t *ids, size_t max,
                        int ack)
{
	struct wire_frame f;
	struct err e = {0};
	size_t n = 0, acked = 0;
	char *m;

	for (;;) {
		m = relay_fixture_next(p);
		if (m == NULL)
			fail_msg("queue did not drain (close %d)", wsclient_close_code(p->ws));
		if (wire_parse(m, strlen(m), &f, &e) < 0)
			fail_msg("invalid frame %s", m);
		free(m);
		if (f.kind == WIRE_PUSH && f.push == WIRE_P_QUEUE_EMPTY) {
			wire_frame_free(&f);
			if (ack && n > acked)
				relay_fixture_ack(p, ids + acked, n - acked);
			return n;
		}
		if (f.kind == WIRE_PUSH && f.push == WIRE_P_ENVELOPE) {
			assert_true(n < max);
			if (contents != NULL)
				contents[n] = xstrndup((char *)f.u.push.envelope.content,
				                       f.u.push.envelope.content_len);
			ids[n++] = f.u.push.envelope.id;
		}
		wire_frame_free(&f);
		if (ack && n - acked == 64) {
			relay_fixture_ack(p, ids + acked, 64);
			acked = n;
		}
	}
}

size_t
relay_fixture_drain(struct relay_fixture_peer *p, char **contents, uint64_t *ids, size_t max)
{
	return relay_fixture_drain_ack(p, contents, ids, max, 0);
}

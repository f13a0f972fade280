/* Tests of the relay transport against the real sotto-relay on a free
 * loopback port: authentication, requests, pushes and acks, reconnecting
 * with backoff after the relay dies, dead-link detection, and the close
 * codes that must stop it (4001, 4004). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <libwebsockets.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "crypto/cprov.h"
#include "tests/relay_fixture.h"
#include "transport.h"
#include "transport_int.h"
#include "util/err.h"
#include "wire/wire.h"

#define WAIT_MS 8000

static char tmp_root[256];
static struct relay_fixture shared;
static struct relay_fixture own; /* a test's private relay */
static struct lws_context *lws;
static lws_sorted_usec_list_t tick_sul;

/* What the hooks saw. */
struct seen {
	enum transport_state state;
	unsigned n_states[TRANSPORT_FAILED + 1];
	struct err why;
	uint64_t env_ids[16];
	char env_text[16][64];
	size_t n_env;
	unsigned n_queue_empty;
	unsigned n_keys_low;
};

struct reply {
	int done;
	int status;
	uint64_t count;
	struct err e;
};

static void
on_state(void *ctx, enum transport_state st, const struct err *why)
{
	struct seen *s = ctx;

	s->state = st;
	s->n_states[st]++;
	if (why != NULL)
		s->why = *why;
}

static void
on_envelope(void *ctx, const struct wire_envelope *env)
{
	struct seen *s = ctx;

	if (s->n_env < 16) {
		s->env_ids[s->n_env] = env->id;
		snprintf(s->env_text[s->n_env], sizeof s->env_text[0], "%.*s",
		         (int)env->content_len, (const char *)env->content);
		s->n_env++;
	}
}

static void
on_push(void *ctx, const struct wire_frame *push)
{
	struct seen *s = ctx;

	if (push->push == WIRE_P_QUEUE_EMPTY)
		s->n_queue_empty++;
	else if (push->push == WIRE_P_KEYS_LOW)
		s->n_keys_low++;
}

static const struct transport_hooks hooks = {on_state, on_envelope, on_push};

static void
on_reply(void *arg, const struct wire_frame *resp, const struct err *e)
{
	struct reply *r = arg;

	r->done++;
	if (resp != NULL) {
		r->status = resp->u.resp.status;
		r->count = resp->u.resp.count;
	} else {
		r->status = -1;
		r->e = *e;
	}
}

/* Keeps lws_service() from sleeping longer than this between checks. */
static void
tick(lws_sorted_usec_list_t *sul)
{
	lws_sul_schedule(lws, 0, sul, tick, 20 * 1000);
}

/* Serve the loop until cond(arg) holds or ms passed; the final answer. */
static int
run_until_fn(int (*cond)(void *), void *arg, int ms)
{
	int64_t deadline = relay_fixture_now_ms() + ms;

	while (!cond(arg) && relay_fixture_now_ms() < deadline)
		lws_service(lws, 0);
	return cond(arg);
}

static void
run_for(int ms)
{
	int64_t deadline = relay_fixture_now_ms() + ms;

	while (relay_fixture_now_ms() < deadline)
		lws_service(lws, 0);
}

static int
is_connected(void *arg)
{
	return ((struct seen *)arg)->state == TRANSPORT_CONNECTED;
}

static int
is_offline(void *arg)
{
	return ((struct seen *)arg)->state == TRANSPORT_OFFLINE;
}

static int
is_terminal(void *arg)
{
	enum transport_state st = ((struct seen *)arg)->state;

	return st == TRANSPORT_AUTH_FAILED || st == TRANSPORT_REPLACED || st == TRANSPORT_REMOVED ||
	       st == TRANSPORT_FAILED;
}

static int
has_queue_empty(void *arg)
{
	return ((struct seen *)arg)->n_queue_empty > 0;
}

static int
has_envelope(void *arg)
{
	return ((struct seen *)arg)->n_env > 0;
}

static int
reply_done(void *arg)
{
	return ((struct reply *)arg)->done > 0;
}

static char *
url_of(int port)
{
	return xasprintf("ws://127.0.0.1:%d", port);
}

/* A transport authenticating as a on port, with fast timers. */
static struct transport *
connect_as(int port, const struct relay_fixture_acct *a, struct seen *s)
{
	struct transport_config cfg = {0};
	struct err e = {0};
	struct transport *tp;
	char *url = url_of(port);

	cfg.url = url;
	cfg.account = a->name;
	cfg.device = a->device;
	memcpy(cfg.secret, a->secret, WIRE_SECRET_LEN);
	cfg.keepalive_ms = 400;
	cfg.request_timeout_ms = 3000;
	cfg.backoff_min_ms = 20;
	cfg.backoff_max_ms = 200;
	tp = transport_new(lws, &cfg, &hooks, s, &e);
	free(url);
	assert_non_null(tp);
	return tp;
}

/* Register a on the relay (through the fixture's own client). */
static void
make_account(int port, struct relay_fixture_acct *a, const char *name)
{
	relay_fixture_acct_init(a, name);
	relay_fixture_close(relay_fixture_register(port, a));
}

static int
group_setup(void **state)
{
	struct lws_context_creation_info info;
	struct err e = {0};
	char *data;
	const char *tmp = getenv("TMPDIR");
	(void)state;

	signal(SIGPIPE, SIG_IGN);
	srand((unsigned)time(NULL));
	if (cprov_context_create(&relay_fixture_signal_ctx, &e) < 0)
		return -1;
	snprintf(tmp_root, sizeof tmp_root, "%s/transport-XXXXXX", tmp ? tmp : "/tmp");
	if (mkdtemp(tmp_root) == NULL)
		return -1;
	data = xasprintf("%s/shared", tmp_root);
	relay_fixture_start(&shared, data, NULL, NULL);
	free(data);
	lws_set_log_level(LLL_ERR, NULL);
	memset(&info, 0, sizeof info);
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.gid = (gid_t)-1;
	info.uid = (uid_t)-1;
	lws = lws_create_context(&info);
	if (lws == NULL)
		return -1;
	tick(&tick_sul);
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;

	lws_sul_cancel(&tick_sul);
	lws_context_destroy(lws);
	if (own.pid > 0)
		relay_fixture_kill9(&own);
	return relay_fixture_finish(&shared, tmp_root);
}

/* ---- pure parts ---- */

static void
test_url_gets_protocol_path_and_default_ports(void **state)
{
	struct transport_url u;
	struct err e = {0};
	(void)state;

	assert_int_equal(transport_url_parse("ws://relay.example:8080", &u, &e), 0);
	assert_false(u.tls);
	assert_string_equal(u.host, "relay.example");
	assert_int_equal(u.port, 8080);
	assert_string_equal(u.path, "/v1/ws");
	transport_url_clear(&u);

	assert_int_equal(transport_url_parse("wss://relay.example/sotto/", &u, &e), 0);
	assert_true(u.tls);
	assert_int_equal(u.port, 443);
	assert_string_equal(u.path, "/sotto/v1/ws");
	transport_url_clear(&u);

	assert_int_equal(transport_url_parse("ws://[::1]:9/v1/ws", &u, &e), 0);
	assert_string_equal(u.host, "::1");
	assert_int_equal(u.port, 9);
	assert_string_equal(u.path, "/v1/ws");
	transport_url_clear(&u);

	assert_int_equal(transport_url_parse("http://relay.example", &u, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	assert_int_equal(transport_url_parse("ws://relay.example:99999", &u, &e), -1);
	assert_int_equal(transport_url_parse("ws://:80", &u, &e), -1);
	assert_int_equal(transport_url_parse("ws://h/x?q=1", &u, &e), -1);
}

static void
test_backoff_doubles_to_the_cap_with_full_jitter(void **state)
{
	uint32_t max0 = 0, max3 = 0, max20 = 0, v;
	int i;
	(void)state;

	for (i = 0; i < 2000; i++) {
		v = transport_backoff_ms(500, 60000, 0);
		assert_true(v <= 500);
		max0 = v > max0 ? v : max0;
		v = transport_backoff_ms(500, 60000, 3);
		assert_true(v <= 4000);
		max3 = v > max3 ? v : max3;
		v = transport_backoff_ms(500, 60000, 20);
		assert_true(v <= 60000);
		max20 = v > max20 ? v : max20;
	}
	/* The ranges are really used, not just bounded. */
	assert_true(max0 > 400);
	assert_true(max3 > 3000);
	assert_true(max20 > 50000);
}

static void
test_pin_compares_the_certificate_digest(void **state)
{
	const unsigned char der[] = "not really a certificate";
	uint8_t pin[32];
	unsigned int len = 0;
	(void)state;

	assert_int_equal(EVP_Digest(der, sizeof der, pin, &len, EVP_sha256(), NULL), 1);
	assert_true(transport_pin_matches(der, sizeof der, pin));
	pin[31] ^= 1;
	assert_false(transport_pin_matches(der, sizeof der, pin));
}

static void
test_response_status_maps_to_error_codes(void **state)
{
	struct wire_frame f = {0};
	struct err e = {0};
	(void)state;

	f.kind = WIRE_RESPONSE;
	f.u.resp.status = 200;
	assert_int_equal(transport_resp_err(&f, &e), 0);
	f.u.resp.status = 403;
	strcpy(f.u.resp.error, "name_taken");
	assert_int_equal(transport_resp_err(&f, &e), -1);
	assert_int_equal(e.code, ERR_EXISTS);
	strcpy(f.u.resp.error, "registration_closed");
	transport_resp_err(&f, &e);
	assert_int_equal(e.code, ERR_AUTH);
	f.u.resp.status = 404;
	transport_resp_err(&f, &e);
	assert_int_equal(e.code, ERR_NOTFOUND);
	f.u.resp.status = 409;
	transport_resp_err(&f, &e);
	assert_int_equal(e.code, ERR_STALE);
	f.u.resp.status = 429;
	transport_resp_err(&f, &e);
	assert_int_equal(e.code, ERR_RATE);
	f.u.resp.status = 503;
	transport_resp_err(&f, &e);
	assert_int_equal(e.code, ERR_NETWORK);
}

/* ---- against the relay ---- */

static void
test_authenticates_and_matches_responses(void **state)
{
	struct relay_fixture_acct a;
	struct seen s = {0};
	struct reply r1 = {0}, r2 = {0};
	struct wire_frame req;
	struct transport *tp;
	struct err e = {0};
	(void)state;

	make_account(shared.port, &a, "tp.auth");
	tp = connect_as(shared.port, &a, &s);
	/* Refused before authentication, and the callback never runs. */
	memset(&req, 0, sizeof req);
	req.type = WIRE_T_KEYS_COUNT;
	assert_int_equal(transport_request(tp, &req, on_reply, &r1, &e), -1);
	assert_int_equal(e.code, ERR_NETWORK);
	assert_true(run_until_fn(is_connected, &s, WAIT_MS));
	assert_int_equal(s.n_states[TRANSPORT_CONNECTING], 1);
	assert_true(run_until_fn(has_queue_empty, &s, WAIT_MS));

	/* Two requests in flight, each answered to its own callback. */
	memset(&req, 0, sizeof req);
	req.type = WIRE_T_KEYS_COUNT;
	assert_int_equal(transport_request(tp, &req, on_reply, &r1, &e), 0);
	assert_true(req.id != 0);
	memset(&req, 0, sizeof req);
	req.type = WIRE_T_PING;
	assert_int_equal(transport_request(tp, &req, on_reply, &r2, &e), 0);
	assert_true(run_until_fn(reply_done, &r1, WAIT_MS));
	assert_true(run_until_fn(reply_done, &r2, WAIT_MS));
	assert_int_equal(r1.status, 200);
	assert_int_equal(r1.count, 0);
	assert_int_equal(r2.status, 200);
	/* Fresh account without prekeys: the relay says so after auth. */
	assert_int_equal(s.n_keys_low, 1);

	/* Idle longer than the keep-alive: pings keep it up. */
	run_for(1200);
	assert_int_equal(s.state, TRANSPORT_CONNECTED);
	assert_int_equal(s.n_states[TRANSPORT_OFFLINE], 0);
	transport_free(tp);
	relay_fixture_acct_free(&a);
}

static void
test_envelope_is_delivered_and_ack_removes_it(void **state)
{
	struct relay_fixture_acct a, b;
	struct relay_fixture_peer *pb;
	struct seen s = {0}, s2 = {0};
	struct wire_frame resp;
	struct transport *tp;
	struct err e = {0};
	uint32_t dev = 1;
	char *mid;
	(void)state;

	make_account(shared.port, &a, "tp.push.a");
	relay_fixture_acct_init(&b, "tp.push.b");
	pb = relay_fixture_register(shared.port, &b);
	tp = connect_as(shared.port, &a, &s);
	assert_true(run_until_fn(has_queue_empty, &s, WAIT_MS));

	mid = relay_fixture_msg_id(1);
	resp = relay_fixture_send(pb, a.name, mid, &dev, &a.reg_id, 1, "hello a");
	assert_int_equal(resp.u.resp.status, 200);
	wire_frame_free(&resp);
	free(mid);
	assert_true(run_until_fn(has_envelope, &s, WAIT_MS));
	assert_int_equal(s.n_env, 1);
	assert_string_equal(s.env_text[0], "hello a");
	assert_int_equal(transport_ack(tp, s.env_ids, 1, &e), 0);
	/* The ack is on the wire once a later request was answered. */
	{
		struct reply r = {0};
		struct wire_frame req = {0};

		req.type = WIRE_T_PING;
		assert_int_equal(transport_request(tp, &req, on_reply, &r, &e), 0);
		assert_true(run_until_fn(reply_done, &r, WAIT_MS));
	}
	transport_free(tp);

	/* A new connection gets nothing again: the relay deleted it. */
	tp = connect_as(shared.port, &a, &s2);
	assert_true(run_until_fn(has_queue_empty, &s2, WAIT_MS));
	assert_int_equal(s2.n_env, 0);
	transport_free(tp);

	/* Whereas an unacked envelope comes again on the next connection. */
	memset(&s, 0, sizeof s);
	tp = connect_as(shared.port, &a, &s);
	assert_true(run_until_fn(has_queue_empty, &s, WAIT_MS));
	mid = relay_fixture_msg_id(2);
	resp = relay_fixture_send(pb, a.name, mid, &dev, &a.reg_id, 1, "again");
	wire_frame_free(&resp);
	free(mid);
	assert_true(run_until_fn(has_envelope, &s, WAIT_MS));
	transport_free(tp);
	memset(&s2, 0, sizeof s2);
	tp = connect_as(shared.port, &a, &s2);
	assert_true(run_until_fn(has_envelope, &s2, WAIT_MS));
	assert_string_equal(s2.env_text[0], "again");
	assert_int_equal(s2.env_ids[0], s.env_ids[0]);
	transport_free(tp);

	relay_fixture_close(pb);
	relay_fixture_acct_free(&a);
	relay_fixture_acct_free(&b);
}

static void
test_pending_requests_fail_and_it_reconnects_after_relay_restart(void **state)
{
	struct relay_fixture_acct a;
	struct seen s = {0};
	struct reply r = {0};
	struct wire_frame req = {0};
	struct transport *tp;
	struct err e = {0};
	char *data = xasprintf("%s/own", tmp_root), port[32];
	unsigned offline_before;
	(void)state;

	relay_fixture_start(&own, data, NULL, NULL);
	make_account(own.port, &a, "tp.restart");
	tp = connect_as(own.port, &a, &s);
	assert_true(run_until_fn(is_connected, &s, WAIT_MS));

	/* A frozen relay cannot answer: the request is surely pending when
	 * the relay dies. */
	kill(own.pid, SIGSTOP);
	req.type = WIRE_T_KEYS_COUNT;
	assert_int_equal(transport_request(tp, &req, on_reply, &r, &e), 0);
	run_for(50);
	assert_int_equal(r.done, 0);
	relay_fixture_kill9(&own);
	assert_true(run_until_fn(reply_done, &r, WAIT_MS));
	assert_int_equal(r.done, 1);
	assert_int_equal(r.status, -1);
	assert_int_equal(r.e.code, ERR_NETWORK);
	assert_true(run_until_fn(is_offline, &s, WAIT_MS));

	/* While the relay is down it keeps trying, with backoff. */
	run_for(600);
	offline_before = s.n_states[TRANSPORT_OFFLINE];
	assert_true(offline_before >= 2);
	assert_int_equal(s.state == TRANSPORT_CONNECTED, 0);

	/* Back on the same port with the same data: connected again. */
	snprintf(port, sizeof port, "127.0.0.1:%d", own.port);
	relay_fixture_start(&own, data, "--listen", port);
	assert_true(run_until_fn(is_connected, &s, WAIT_MS));
	assert_int_equal(s.n_states[TRANSPORT_CONNECTED], 2);
	assert_int_equal(r.done, 1); /* exactly once */
	transport_free(tp);
	relay_fixture_kill9(&own);
	relay_fixture_acct_free(&a);
	free(data);
}

static void
test_silent_relay_is_noticed_by_keepalive(void **state)
{
	struct relay_fixture_acct a;
	struct seen s = {0};
	struct transport *tp;
	char *data = xasprintf("%s/frozen", tmp_root);
	int64_t t0;
	(void)state;

	relay_fixture_start(&own, data, NULL, NULL);
	make_account(own.port, &a, "tp.frozen");
	tp = connect_as(own.port, &a, &s);
	assert_true(run_until_fn(is_connected, &s, WAIT_MS));
	/* The TCP connection stays up but nothing answers any more. */
	kill(own.pid, SIGSTOP);
	t0 = relay_fixture_now_ms();
	assert_true(run_until_fn(is_offline, &s, WAIT_MS));
	/* keepalive 400 ms: idle 400 ms, then a ping unanswered 400 ms. */
	assert_true(relay_fixture_now_ms() - t0 < 2500);
	assert_int_equal(s.why.code, ERR_NETWORK);
	kill(own.pid, SIGCONT);
	assert_true(run_until_fn(is_connected, &s, WAIT_MS));
	transport_free(tp);
	relay_fixture_kill9(&own);
	relay_fixture_acct_free(&a);
	free(data);
}

static void
test_replaced_connection_does_not_reconnect(void **state)
{
	struct relay_fixture_acct a;
	struct relay_fixture_peer *other;
	struct seen s = {0};
	struct transport *tp;
	(void)state;

	make_account(shared.port, &a, "tp.replaced");
	tp = connect_as(shared.port, &a, &s);
	assert_true(run_until_fn(is_connected, &s, WAIT_MS));
	other = relay_fixture_auth(shared.port, &a);
	assert_true(run_until_fn(is_terminal, &s, WAIT_MS));
	assert_int_equal(s.state, TRANSPORT_REPLACED);
	/* Backoff is 20..200 ms: a reconnect would have happened by now. */
	run_for(600);
	assert_int_equal(s.state, TRANSPORT_REPLACED);
	assert_int_equal(s.n_states[TRANSPORT_CONNECTING], 1);
	assert_int_equal(relay_fixture_simple(other, WIRE_T_PING), 200);
	relay_fixture_close(other);

	/* Taking over again is an explicit decision. */
	transport_reconnect(tp);
	assert_true(run_until_fn(is_connected, &s, WAIT_MS));
	transport_free(tp);
	relay_fixture_acct_free(&a);
}

static void
test_wrong_secret_fails_auth_for_good(void **state)
{
	struct relay_fixture_acct a;
	struct seen s = {0};
	struct transport *tp;
	(void)state;

	make_account(shared.port, &a, "tp.badauth");
	a.secret[0] ^= 1;
	tp = connect_as(shared.port, &a, &s);
	assert_true(run_until_fn(is_terminal, &s, WAIT_MS));
	assert_int_equal(s.state, TRANSPORT_AUTH_FAILED);
	assert_int_equal(s.why.code, ERR_AUTH);
	run_for(500);
	assert_int_equal(s.n_states[TRANSPORT_CONNECTING], 1);
	transport_free(tp);
	relay_fixture_acct_free(&a);
}

static void
test_registration_mode_registers_or_reports_taken_name(void **state)
{
	struct relay_fixture_acct a;
	struct transport_config cfg = {0};
	struct wire_frame reg = {0};
	struct seen s = {0}, s2 = {0};
	struct reply r = {0};
	struct wire_frame req = {0};
	struct transport *tp;
	struct err e = {0};
	char *url = url_of(shared.port);
	(void)state;

	relay_fixture_acct_init(&a, "tp.register");
	reg.type = WIRE_T_REGISTER;
	strcpy(reg.u.req.u.reg.account, a.name);
	reg.u.req.u.reg.registration_id = a.reg_id;
	memcpy(reg.u.req.u.reg.identity_key, a.ik_pub, WIRE_KEY_LEN);
	relay_fixture_spk(a.ik, 1, &reg.u.req.u.reg.signed_prekey);
	memcpy(reg.u.req.u.reg.secret, a.secret, WIRE_SECRET_LEN);
	cfg.url = url;
	cfg.register_req = &reg;
	cfg.backoff_min_ms = 20;
	tp = transport_new(lws, &cfg, &hooks, &s, &e);
	assert_non_null(tp);
	assert_true(run_until_fn(is_connected, &s, WAIT_MS));
	req.type = WIRE_T_KEYS_COUNT;
	assert_int_equal(transport_request(tp, &req, on_reply, &r, &e), 0);
	assert_true(run_until_fn(reply_done, &r, WAIT_MS));
	assert_int_equal(r.status, 200);
	transport_free(tp);

	/* The same name again: refused, reported, not retried. */
	tp = transport_new(lws, &cfg, &hooks, &s2, &e);
	assert_non_null(tp);
	assert_true(run_until_fn(is_terminal, &s2, WAIT_MS));
	assert_int_equal(s2.state, TRANSPORT_FAILED);
	assert_int_equal(s2.why.code, ERR_EXISTS);
	transport_free(tp);

	/* And an unreachable relay fails a registration instead of looping. */
	free(url);
	url = xasprintf("ws://127.0.0.1:%d", 1);
	cfg.url = url;
	memset(&s2, 0, sizeof s2);
	tp = transport_new(lws, &cfg, &hooks, &s2, &e);
	assert_non_null(tp);
	assert_true(run_until_fn(is_terminal, &s2, WAIT_MS));
	assert_int_equal(s2.state, TRANSPORT_FAILED);
	assert_int_equal(s2.why.code, ERR_NETWORK);
	transport_free(tp);

	/* A malformed register frame is refused up front. */
	strcpy(reg.u.req.u.reg.account, "Bad Name");
	assert_null(transport_new(lws, &cfg, &hooks, &s2, &e));
	assert_int_equal(e.code, ERR_INVALID);
	free(url);
	relay_fixture_acct_free(&a);
}

static void
test_free_fails_pending_requests_once(void **state)
{
	struct relay_fixture_acct a;
	struct seen s = {0};
	struct reply r = {0};
	struct wire_frame req = {0};
	struct transport *tp;
	struct err e = {0};
	(void)state;

	make_account(shared.port, &a, "tp.free");
	tp = connect_as(shared.port, &a, &s);
	assert_true(run_until_fn(is_connected, &s, WAIT_MS));
	req.type = WIRE_T_KEYS_COUNT;
	assert_int_equal(transport_request(tp, &req, on_reply, &r, &e), 0);
	transport_free(tp);
	assert_int_equal(r.done, 1);
	assert_int_equal(r.e.code, ERR_NETWORK);
	run_for(100);
	assert_int_equal(r.done, 1);
	relay_fixture_acct_free(&a);
}

#define TP_MANY 300

struct replies {
	struct reply r[TP_MANY];
	size_t n;
};

static int
all_replied(void *arg)
{
	struct replies *rs = arg;
	size_t i;

	for (i = 0; i < rs->n; i++)
		if (rs->r[i].done == 0)
			return 0;
	return 1;
}

static void
test_many_requests_are_answered_once_and_silence_times_them_out(void **state)
{
	static struct replies rs;
	struct transport_config cfg = {0};
	struct relay_fixture_acct a;
	struct seen s = {0};
	struct wire_frame req;
	struct transport *tp;
	struct err e = {0};
	char *url, *data = xasprintf("%s/many", tmp_root);
	int64_t t0, took;
	size_t i;
	(void)state;

	relay_fixture_start(&own, data, NULL, NULL);
	make_account(own.port, &a, "tp.many");
	url = url_of(own.port);
	cfg.url = url;
	cfg.account = a.name;
	cfg.device = a.device;
	memcpy(cfg.secret, a.secret, WIRE_SECRET_LEN);
	/* Requests time out long before the keep-alive notices anything. */
	cfg.keepalive_ms = 30000;
	cfg.request_timeout_ms = 300;
	tp = transport_new(lws, &cfg, &hooks, &s, &e);
	assert_non_null(tp);
	assert_true(run_until_fn(is_connected, &s, WAIT_MS));
	/* Hundreds in flight at once: each callback runs exactly once. */
	memset(&rs, 0, sizeof rs);
	rs.n = TP_MANY;
	for (i = 0; i < TP_MANY; i++) {
		memset(&req, 0, sizeof req);
		req.type = WIRE_T_PING;
		assert_int_equal(transport_request(tp, &req, on_reply, &rs.r[i], &e), 0);
	}
	assert_true(run_until_fn(all_replied, &rs, WAIT_MS));
	run_for(50);
	for (i = 0; i < TP_MANY; i++) {
		assert_int_equal(rs.r[i].done, 1);
		assert_true(rs.r[i].status > 0);
	}
	/* A relay that stops answering: each request fails on its own
	 * timeout, staggered as they were sent. */
	kill(own.pid, SIGSTOP);
	memset(&rs, 0, sizeof rs);
	rs.n = 3;
	t0 = relay_fixture_now_ms();
	for (i = 0; i < rs.n; i++) {
		memset(&req, 0, sizeof req);
		req.type = WIRE_T_PING;
		assert_int_equal(transport_request(tp, &req, on_reply, &rs.r[i], &e), 0);
		run_for(100);
	}
	assert_true(run_until_fn(all_replied, &rs, WAIT_MS));
	took = relay_fixture_now_ms() - t0;
	assert_true(took >= 500 && took < 3000);
	for (i = 0; i < rs.n; i++) {
		assert_int_equal(rs.r[i].done, 1);
		assert_int_equal(rs.r[i].status, -1);
		assert_int_equal(rs.r[i].e.code, ERR_NETWORK);
		assert_non_null(strstr(rs.r[i].e.msg, "in time"));
	}
	assert_int_equal(s.state, TRANSPORT_CONNECTED);
	kill(own.pid, SIGCONT);
	transport_free(tp);
	relay_fixture_kill9(&own);
	relay_fixture_acct_free(&a);
	free(url);
	free(data);
}

/* A self-signed certificate for localhost, written as PEM files; its
 * SHA-256 over the DER encoding goes to pin. */
static void
make_self_signed(const char *cert_path, const char *key_path, uint8_t pin[32])
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *name;
	unsigned char *der = NULL;
	unsigned int len = 0;
	int der_len;
	FILE *f;

	assert_non_null(key);
	assert_non_null(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600L * 24);
	X509_set_pubkey(x, key);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"localhost", -1,
	                           -1, 0);
	X509_set_issuer_name(x, name);
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	f = fopen(cert_path, "w");
	assert_non_null(f);
	assert_int_equal(PEM_write_X509(f, x), 1);
	fclose(f);
	f = fopen(key_path, "w");
	assert_non_null(f);
	assert_int_equal(PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL), 1);
	fclose(f);
	der_len = i2d_X509(x, &der);
	assert_true(der_len > 0);
	assert_int_equal(EVP_Digest(der, (size_t)der_len, pin, &len, EVP_sha256(), NULL), 1);
	OPENSSL_free(der);
	X509_free(x);
	EVP_PKEY_free(key);
}

static struct transport *
connect_tls(int port, const struct relay_fixture_acct *a, const uint8_t *pin, struct seen *s)
{
	struct transport_config cfg = {0};
	struct err e = {0};
	struct transport *tp;
	char *url = xasprintf("wss://localhost:%d", port);

	cfg.url = url;
	cfg.account = a->name;
	cfg.device = 1;
	memcpy(cfg.secret, a->secret, WIRE_SECRET_LEN);
	cfg.backoff_min_ms = 20;
	cfg.backoff_max_ms = 100;
	if (pin != NULL) {
		cfg.has_pin = true;
		memcpy(cfg.pin_sha256, pin, 32);
	}
	tp = transport_new(lws, &cfg, &hooks, s, &e);
	free(url);
	assert_non_null(tp);
	return tp;
}

static int
is_offline_or_connected(void *arg)
{
	struct seen *s = arg;

	return s->n_states[TRANSPORT_OFFLINE] > 0 || s->state == TRANSPORT_CONNECTED;
}

static void
test_tls_needs_a_trusted_or_pinned_certificate(void **state)
{
	struct relay_fixture_acct a;
	struct relay_fixture_peer *p;
	struct wire_frame req = {0}, resp;
	struct seen s = {0};
	struct transport *tp;
	uint8_t pin[32];
	char *cert = xasprintf("%s/cert.pem", tmp_root), *key = xasprintf("%s/key.pem", tmp_root);
	char *opt_cert = xasprintf("--tls-cert=%s", cert),
	     *opt_key = xasprintf("--tls-key=%s", key);
	char *data = xasprintf("%s/tls", tmp_root);
	struct relay_fixture plain;
	(void)state;

	make_self_signed(cert, key, pin);
	/* Register over plain ws on the same data, then serve it with TLS. */
	relay_fixture_start(&plain, data, NULL, NULL);
	relay_fixture_acct_init(&a, "tp.tls");
	p = relay_fixture_register(plain.port, &a);
	req.type = WIRE_T_PING;
	resp = relay_fixture_call(p, &req);
	wire_frame_free(&resp);
	relay_fixture_close(p);
	relay_fixture_stop(&plain);
	relay_fixture_start(&own, data, opt_cert, opt_key);

	/* The right pin: connected, though no CA vouches for the cert. */
	tp = connect_tls(own.port, &a, pin, &s);
	assert_true(run_until_fn(is_connected, &s, WAIT_MS));
	transport_free(tp);

	/* A wrong pin: the secret is never sent, the link is dropped. */
	memset(&s, 0, sizeof s);
	pin[0] ^= 0xff;
	tp = connect_tls(own.port, &a, pin, &s);
	assert_true(run_until_fn(is_offline_or_connected, &s, WAIT_MS));
	assert_int_equal(s.state, TRANSPORT_OFFLINE);
	assert_int_equal(s.why.code, ERR_AUTH);
	assert_int_equal(s.n_states[TRANSPORT_CONNECTED], 0);
	transport_free(tp);

	/* No pin: the system CAs do not know a self-signed certificate. */
	memset(&s, 0, sizeof s);
	tp = connect_tls(own.port, &a, NULL, &s);
	assert_true(run_until_fn(is_offline_or_connected, &s, WAIT_MS));
	assert_int_equal(s.state, TRANSPORT_OFFLINE);
	run_for(200);
	assert_int_equal(s.n_states[TRANSPORT_CONNECTED], 0);
	transport_free(tp);

	relay_fixture_kill9(&own);
	relay_fixture_acct_free(&a);
	free(cert);
	free(key);
	free(opt_cert);
	free(opt_key);
	free(data);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_url_gets_protocol_path_and_default_ports),
	    cmocka_unit_test(test_backoff_doubles_to_the_cap_with_full_jitter),
	    cmocka_unit_test(test_pin_compares_the_certificate_digest),
	    cmocka_unit_test(test_response_status_maps_to_error_codes),
	    cmocka_unit_test(test_authenticates_and_matches_responses),
	    cmocka_unit_test(test_envelope_is_delivered_and_ack_removes_it),
	    cmocka_unit_test(test_pending_requests_fail_and_it_reconnects_after_relay_restart),
	    cmocka_unit_test(test_silent_relay_is_noticed_by_keepalive),
	    cmocka_unit_test(test_replaced_connection_does_not_reconnect),
	    cmocka_unit_test(test_wrong_secret_fails_auth_for_good),
	    cmocka_unit_test(test_registration_mode_registers_or_reports_taken_name),
	    cmocka_unit_test(test_free_fails_pending_requests_once),
	    cmocka_unit_test(test_many_requests_are_answered_once_and_silence_times_them_out),
	    cmocka_unit_test(test_tls_needs_a_trusted_or_pinned_certificate),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

/* End to end over the real sotto-relay: two engines (each a child process
 * running engine + core, as `sotto daemon` does) register, send, receive,
 * acknowledge and read receipts, and a message sent while the recipient's
 * engine is down arrives when it comes back. Frontends talk to the
 * engines over their sockets with the client library. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "core.h"
#include "crypto/cprov.h"
#include "engine.h"
#include "jsonrpc.h"
#include "profile.h"
#include "tests/relay_fixture.h"

#define WAIT_MS 15000

struct peer {
	const char *name;
	struct profile p;
	pid_t pid;
	struct client cl;
};

static struct relay_fixture relay;
static char root[] = "/tmp/sotto-test-msg-relay-XXXXXX";
static char relay_url[64];

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The engine of a profile in a child process, as `sotto daemon` runs it. */
static void
peer_start(struct peer *pr)
{
	struct err e;
	int64_t deadline;

	pr->pid = fork();
	assert_true(pr->pid >= 0);
	if (pr->pid == 0) {
		struct engine_config cfg = {.profile = &pr->p, .persistent = true};
		struct engine *eng;
		struct core *c;

		/* A failed test must not leave engines behind. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		eng = engine_new(&cfg, &e);
		if (eng == NULL)
			_exit(2);
		c = core_new(eng, &e);
		if (c == NULL)
			_exit(3);
		engine_run(eng, &e);
		core_free(c);
		engine_free(eng);
		exit(0); /* not _exit: the leak checker runs at exit */
	}
	/* Attach once it listens. */
	deadline = now_ms() + WAIT_MS;
	for (;;) {
		client_init(&pr->cl);
		if (client_attach(&pr->cl, &pr->p, false, &e) == 0)
			break;
		client_close(&pr->cl);
		assert_true(now_ms() < deadline);
		usleep(20000);
	}
}

static void
peer_stop(struct peer *pr)
{
	struct client_rpc_error re;
	json_t *result = NULL;
	struct err e;
	int status;

	if (client_call(&pr->cl, "engine.shutdown", NULL, &result, &re, &e) == 0)
		json_decref(result);
	client_close(&pr->cl);
	assert_int_equal(waitpid(pr->pid, &status, 0), pr->pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void
peer_init(struct peer *pr, const char *name)
{
	char *home = xasprintf("%s/%s", root, name);
	struct err e;

	memset(pr, 0, sizeof *pr);
	pr->name = name;
	assert_int_equal(profile_resolve(&pr->p, home, NULL, &e), 0);
	assert_int_equal(profile_prepare(&pr->p, &e), 0);
	free(home);
}

/* A call that must succeed; the caller decrefs. */
static json_t *
call(struct peer *pr, const char *method, json_t *params)
{
	struct client_rpc_error re;
	json_t *result = NULL;
	struct err e;
	int r;

	r = client_call(&pr->cl, method, params, &result, &re, &e);
	if (r < 0)
		fail_msg("%s: %s: %s", pr->name, method, e.msg);
	if (r > 0)
		fail_msg("%s: %s: error %d %s", pr->name, method, re.code, re.message);
	return result;
}

static int
call_error(struct peer *pr, const char *method, json_t *params)
{
	struct client_rpc_error re;
	json_t *result = NULL;
	struct err e;
	int r;

	r = client_call(&pr->cl, method, params, &result, &re, &e);
	assert_int_equal(r, 1);
	return re.code;
}

static void
peer_register(struct peer *pr)
{
	json_t *r =
	    call(pr, "register",
	         json_pack("{s:s,s:s,s:b}", "name", pr->name, "relay", relay_url, "keyfile", 1));

	assert_string_equal(json_string_value(json_object_get(r, "account")), pr->name);
	json_decref(r);
}

/* The state of the newest message with peer, polled until it is want. */
static void
wait_state(struct peer *pr, const char *with, const char *want)
{
	int64_t deadline = now_ms() + WAIT_MS;
	const char *st = NULL;
	json_t *r, *msgs;

	for (;;) {
		r = call(pr, "history", json_pack("{s:s,s:i}", "with", with, "limit", 1));
		msgs = json_object_get(r, "messages");
		st = json_string_value(json_object_get(json_array_get(msgs, 0), "state"));
		if (st != NULL && strcmp(st, want) == 0) {
			json_decref(r);
			return;
		}
		json_decref(r);
		if (now_ms() > deadline)
			fail_msg("%s: message with %s never became %s", pr->name, with, want);
		usleep(20000);
	}
}

/* recv with a timeout until n messages came; returns them (caller
 * decrefs). */
static json_t *
recv_n(struct peer *pr, size_t n)
{
	int64_t deadline = now_ms() + WAIT_MS;
	json_t *all = json_array(), *r;

	while (json_array_size(all) < n) {
		if (now_ms() > deadline)
			fail_msg("%s: got %zu of %zu messages", pr->name, json_array_size(all), n);
		r = call(pr, "recv", json_pack("{s:i}", "timeout", 5));
		json_array_extend(all, json_object_get(r, "messages"));
		json_decref(r);
	}
	return all;
}

static int
group_setup(void **state)
{
	char *data;
	struct err e;

	if (mkdtemp(root) == NULL || cprov_context_create(&relay_fixture_signal_ctx, &e) < 0)
		return -1;
	data = xasprintf("%s/relay", root);
	relay_fixture_start(&relay, data, NULL, NULL);
	free(data);
	snprintf(relay_url, sizeof relay_url, "ws://127.0.0.1:%d", relay.port);
	return 0;
}

static int
group_teardown(void **state)
{
	char *cmd = xasprintf("rm -rf '%s'", root);
	int r;

	relay_fixture_stop(&relay);
	cprov_context_destroy(relay_fixture_signal_ctx);
	r = system(cmd);
	free(cmd);
	return r == 0 ? 0 : -1;
}

static void
test_msg_relay_two_engines_talk_and_nothing_is_lost(void **state)
{
	struct peer alice, bob;
	json_t *r, *m, *msgs;

	peer_init(&alice, "alice");
	peer_init(&bob, "bob");
	peer_start(&alice);
	peer_start(&bob);
	peer_register(&alice);
	peer_register(&bob);

	/* First contact: keys fetched, sent, acked by the relay. */
	r = call(&alice, "send", json_pack("{s:s,s:s}", "to", "bob", "text", "hello bob"));
	m = json_object_get(r, "message");
	assert_string_equal(json_string_value(json_object_get(m, "state")), "sent");
	assert_string_equal(json_string_value(json_object_get(m, "peer")), "bob");
	json_decref(r);
	msgs = recv_n(&bob, 1);
	m = json_array_get(msgs, 0);
	assert_string_equal(json_string_value(json_object_get(m, "text")), "hello bob");
	assert_string_equal(json_string_value(json_object_get(m, "sender")), "alice");
	json_decref(msgs);
	wait_state(&alice, "bob", "delivered");

	/* And back, on the session bob now has. */
	json_decref(call(&bob, "send", json_pack("{s:s,s:s}", "to", "alice", "text", "hi alice")));
	msgs = recv_n(&alice, 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(msgs, 0), "text")),
	                    "hi alice");
	json_decref(msgs);

	/* Bob's engine is down: the relay keeps alice's messages. */
	peer_stop(&bob);
	json_decref(
	    call(&alice, "send", json_pack("{s:s,s:s}", "to", "bob", "text", "while away 1")));
	json_decref(
	    call(&alice, "send", json_pack("{s:s,s:s}", "to", "bob", "text", "while away 2")));
	peer_start(&bob);
	msgs = recv_n(&bob, 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(msgs, 0), "text")),
	                    "while away 1");
	assert_string_equal(json_string_value(json_object_get(json_array_get(msgs, 1), "text")),
	                    "while away 2");
	json_decref(msgs);
	wait_state(&alice, "bob", "delivered");

	/* Read receipts travel too. */
	r = call(&bob, "conversations", json_object());
	m = json_array_get(json_object_get(r, "conversations"), 0);
	assert_int_equal(json_integer_value(json_object_get(m, "unread")), 3);
	json_decref(call(
	    &bob, "mark_read",
	    json_pack("{s:O,s:i}", "conversation", json_object_get(m, "id"), "up_to_id", 1000000)));
	json_decref(r);
	wait_state(&alice, "bob", "read");

	/* An account the relay does not know. */
	assert_int_equal(
	    call_error(&alice, "send", json_pack("{s:s,s:s}", "to", "nobody", "text", "hello?")),
	    JSONRPC_NOT_FOUND);

	/* Both sides have the whole conversation, in order. */
	r = call(&bob, "history", json_pack("{s:s}", "with", "alice"));
	assert_int_equal(json_array_size(json_object_get(r, "messages")), 4);
	json_decref(r);
	peer_stop(&alice);
	peer_stop(&bob);
	profile_clear(&alice.p);
	profile_clear(&bob.p);
}

/* A frontend of its own, in a thread, blocked in one call. */
struct waiting_call {
	struct peer *pr;
	const char *method;
	json_t *params;
	bool subscribe;
	json_t *result;
	json_t *notes; /* what arrived while the call was out */
	int64_t took_ms;
	/* Set once attached (and subscribed): the call goes out next. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool ready;
};

static void *waiting_call_run(void *arg);

static void
waiting_call_ready(struct waiting_call *w)
{
	pthread_mutex_lock(&w->lock);
	w->ready = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

/* Start w in a thread and return once its frontend is attached, so that
 * its call is (almost certainly) in before what the test does next; the
 * assertions hold either way except where noted. */
static void
waiting_call_start(struct waiting_call *w, pthread_t *th)
{
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	assert_int_equal(pthread_create(th, NULL, waiting_call_run, w), 0);
	pthread_mutex_lock(&w->lock);
	while (!w->ready)
		pthread_cond_wait(&w->cond, &w->lock);
	pthread_mutex_unlock(&w->lock);
}

static void
waiting_call_join(struct waiting_call *w, pthread_t th)
{
	assert_int_equal(pthread_join(th, NULL), 0);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->cond);
}

static void *
waiting_call_run(void *arg)
{
	struct waiting_call *w = arg;
	struct client_rpc_error re;
	struct client cl;
	json_t *r = NULL, *note;
	struct err e;
	int64_t t0;

	client_init(&cl);
	if (client_attach(&cl, &w->pr->p, false, &e) < 0) {
		waiting_call_ready(w);
		return NULL;
	}
	if (w->subscribe && client_call(&cl, "engine.subscribe", NULL, &r, &re, &e) == 0)
		json_decref(r);
	waiting_call_ready(w);
	t0 = now_ms();
	if (client_call(&cl, w->method, w->params, &w->result, &re, &e) != 0)
		w->result = NULL;
	w->took_ms = now_ms() - t0;
	w->notes = json_array();
	while (client_next_notification(&cl, 0, &note, &e) == 1)
		json_array_append_new(w->notes, note);
	client_close(&cl);
	return NULL;
}

static void
test_msg_relay_recv_waits_for_a_message_and_follow_hands_them_out(void **state)
{
	struct waiting_call w = {0};
	struct peer carol, dave;
	pthread_t th;
	json_t *r, *note;
	size_t i;
	bool seen = false;

	peer_init(&carol, "carol");
	peer_init(&dave, "dave");
	peer_start(&carol);
	peer_start(&dave);
	peer_register(&carol);
	peer_register(&dave);

	/* recv with a timeout answers as soon as a message lands, whether
	 * the call or the message comes first. */
	w.pr = &dave;
	w.method = "recv";
	w.params = json_pack("{s:i}", "timeout", 10);
	waiting_call_start(&w, &th);
	json_decref(call(&carol, "send", json_pack("{s:s,s:s}", "to", "dave", "text", "ping")));
	waiting_call_join(&w, th);
	assert_non_null(w.result);
	assert_true(w.took_ms < 9000);
	assert_int_equal(json_array_size(json_object_get(w.result, "messages")), 1);
	assert_string_equal(json_string_value(json_object_get(
	                        json_array_get(json_object_get(w.result, "messages"), 0), "text")),
	                    "ping");
	json_decref(w.result);
	json_decref(w.notes);

	/* follow: the answer comes at the timeout, the messages as events,
	 * and a later recv does not hand them out again. (Should the message
	 * beat the follow call to the engine, the last check fails: the
	 * message's trip through the relay makes that practically
	 * impossible.) */
	memset(&w, 0, sizeof w);
	w.pr = &dave;
	w.method = "recv";
	w.params = json_pack("{s:b,s:i}", "follow", 1, "timeout", 2);
	w.subscribe = true;
	waiting_call_start(&w, &th);
	json_decref(call(&carol, "send", json_pack("{s:s,s:s}", "to", "dave", "text", "followed")));
	waiting_call_join(&w, th);
	assert_non_null(w.result);
	assert_true(w.took_ms >= 1500);
	assert_int_equal(json_array_size(json_object_get(w.result, "messages")), 0);
	json_array_foreach(w.notes, i, note) {
		json_t *p = json_object_get(note, "params");
		const char *type = json_string_value(json_object_get(p, "type"));
		json_t *msg = json_object_get(json_object_get(p, "data"), "message");

		if (type != NULL && strcmp(type, "message") == 0 &&
		    strcmp(json_string_value(json_object_get(msg, "text")), "followed") == 0)
			seen = true;
	}
	assert_true(seen);
	json_decref(w.result);
	json_decref(w.notes);
	r = call(&dave, "recv", json_object());
	assert_int_equal(json_array_size(json_object_get(r, "messages")), 0);
	json_decref(r);
	peer_stop(&carol);
	peer_stop(&dave);
	profile_clear(&carol.p);
	profile_clear(&dave.p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_msg_relay_two_engines_talk_and_nothing_is_lost),
	    cmocka_unit_test(test_msg_relay_recv_waits_for_a_message_and_follow_hands_them_out),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

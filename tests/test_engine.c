/* Unit tests for the engine: the event ring and its cursors, and JSON-RPC
 * dispatch driven in-process (a real socket, the loop stepped by hand):
 * error codes, registered methods, deferred answers, locking, events. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <libwebsockets.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"
#include "ipc.h"
#include "jsonrpc.h"

static void
test_engine_events_cursors_grow_from_one(void **state)
{
	struct engine_events ev;
	const struct engine_event *e;
	json_t *j;
	(void)state;

	engine_events_init(&ev, 8);
	assert_int_equal(engine_events_oldest(&ev), 1);
	assert_null(engine_events_after(&ev, 0, 0));
	assert_int_equal(engine_events_push(&ev, "a", NULL), 1);
	assert_int_equal(engine_events_push(&ev, "b", json_pack("{s:i}", "n", 2)), 2);
	assert_int_equal(engine_events_push(&ev, "c", NULL), 3);
	e = engine_events_after(&ev, 0, 0);
	assert_string_equal(e->type, "a");
	assert_true(json_is_object(e->data));
	e = engine_events_after(&ev, 1, 0);
	assert_int_equal(e->cursor, 2);
	assert_int_equal(json_integer_value(json_object_get(e->data, "n")), 2);
	assert_int_equal(engine_events_after(&ev, 1, 1)->cursor, 3);
	assert_null(engine_events_after(&ev, 1, 2));
	assert_null(engine_events_after(&ev, 3, 0));
	assert_null(engine_events_after(&ev, 99, 0));
	j = engine_events_json(engine_events_after(&ev, 1, 0));
	assert_int_equal(json_integer_value(json_object_get(j, "cursor")), 2);
	assert_string_equal(json_string_value(json_object_get(j, "type")), "b");
	/* When it happened: seconds and milliseconds of the same moment,
	 * of today, not of 1970. */
	assert_true(json_integer_value(json_object_get(j, "time_ms")) > 1700000000000LL);
	assert_int_equal(json_integer_value(json_object_get(j, "time")),
	                 json_integer_value(json_object_get(j, "time_ms")) / 1000);
	assert_non_null(json_object_get(j, "data"));
	json_decref(j);
	engine_events_clear(&ev);
}

static void
test_engine_events_ring_keeps_newest(void **state)
{
	struct engine_events ev;
	uint64_t i;
	(void)state;

	engine_events_init(&ev, 4);
	for (i = 1; i <= 10; i++)
		assert_int_equal(engine_events_push(&ev, "x", NULL), i);
	assert_int_equal(engine_events_oldest(&ev), 7);
	/* A cursor from before the ring starts gets what is still held. */
	assert_int_equal(engine_events_after(&ev, 2, 0)->cursor, 7);
	assert_int_equal(engine_events_after(&ev, 2, 3)->cursor, 10);
	assert_null(engine_events_after(&ev, 2, 4));
	assert_int_equal(engine_events_after(&ev, 8, 0)->cursor, 9);
	engine_events_clear(&ev);
}

/* A lazy event's data is built each time it is read, from its argument,
 * and the argument is freed when the ring drops the event (ASan would
 * report the leak or a double free). */
static int lazy_builds;

static json_t *
lazy_build(const void *arg)
{
	lazy_builds++;
	return json_pack("{s:s}", "text", (const char *)arg);
}

static void
test_engine_events_lazy_data_built_when_read(void **state)
{
	struct engine_events ev;
	json_t *j;
	int i;
	(void)state;

	lazy_builds = 0;
	engine_events_init(&ev, 2);
	assert_int_equal(engine_events_push_lazy(&ev, "message", lazy_build, xstrdup("hi")), 1);
	assert_int_equal(lazy_builds, 0);
	for (i = 0; i < 2; i++) {
		j = engine_events_json(engine_events_after(&ev, 0, 0));
		assert_string_equal(json_string_value(json_object_get(j, "type")), "message");
		assert_string_equal(
		    json_string_value(json_object_get(json_object_get(j, "data"), "text")), "hi");
		json_decref(j);
	}
	assert_int_equal(lazy_builds, 2);
	/* Pushed out by newer events, built never. */
	engine_events_push_lazy(&ev, "message", lazy_build, xstrdup("a"));
	engine_events_push_lazy(&ev, "message", lazy_build, xstrdup("b"));
	assert_int_equal(engine_events_oldest(&ev), 2);
	assert_int_equal(lazy_builds, 2);
	engine_events_clear(&ev);
}

/* An engine on a temporary profile and one frontend connected to it. */
struct rig {
	char dir[64];
	struct profile p;
	struct engine *eng;
	struct ipc_conn io;
	lws_sorted_usec_list_t wake;
	json_t *held; /* a request a deferred handler kept */
};

static void
rig_wake(lws_sorted_usec_list_t *sul)
{
	(void)sul; /* only there so lws_service() never blocks for long */
}

static int
rig_setup(void **state)
{
	struct rig *r = calloc(1, sizeof *r);
	struct engine_config cfg = {0};
	struct err e;
	int fd;

	snprintf(r->dir, sizeof r->dir, "/tmp/sotto-test-engine-XXXXXX");
	if (mkdtemp(r->dir) == NULL || profile_resolve(&r->p, r->dir, "test", &e) < 0 ||
	    profile_prepare(&r->p, &e) < 0)
		return -1;
	cfg.profile = &r->p;
	cfg.persistent = true;
	r->eng = engine_new(&cfg, &e);
	if (r->eng == NULL)
		return -1;
	fd = ipc_connect(r->p.dir, &e);
	if (fd < 0 || ipc_set_nonblocking(fd, true, &e) < 0)
		return -1;
	ipc_conn_init(&r->io, fd);
	*state = r;
	return 0;
}

static int
rig_teardown(void **state)
{
	struct rig *r = *state;
	char cmd[128];

	close(r->io.fd);
	ipc_conn_clear(&r->io);
	lws_sul_cancel(&r->wake);
	engine_free(r->eng);
	profile_clear(&r->p);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", r->dir);
	free(r);
	return system(cmd) == 0 ? 0 : -1;
}

static void
rig_send(struct rig *r, const char *line)
{
	struct err e;

	assert_int_equal(ipc_conn_queue_line(&r->io, line, strlen(line), &e), 0);
	while (ipc_conn_pending(&r->io)) {
		struct pollfd pfd = {r->io.fd, POLLOUT, 0};
		assert_int_equal(ipc_conn_flush(&r->io, &e), 0);
		if (ipc_conn_pending(&r->io)) {
			/* The engine must read for us to write on. */
			lws_sul_schedule(engine_lws_context(r->eng), 0, &r->wake, rig_wake,
			                 100 * LWS_US_PER_MS);
			lws_service(engine_lws_context(r->eng), 0);
			poll(&pfd, 1, 0);
		}
	}
}

/* Step the engine until one line comes back; it is parsed as JSON. */
static json_t *
rig_receive(struct rig *r)
{
	time_t deadline = time(NULL) + 10;
	struct pollfd pfd;
	struct err e;
	size_t len;
	char *line;
	json_t *j;

	for (;;) {
		if (ipc_conn_next_line(&r->io, &line, &len, &e) == 1) {
			j = json_loadb(line, len, 0, NULL);
			assert_non_null(j);
			return j;
		}
		assert_false(r->io.eof);
		assert_true(time(NULL) < deadline);
		pfd.fd = r->io.fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 0) > 0) {
			assert_int_equal(ipc_conn_read(&r->io, &e), 0);
			continue;
		}
		lws_sul_schedule(engine_lws_context(r->eng), 0, &r->wake, rig_wake,
		                 100 * LWS_US_PER_MS);
		lws_service(engine_lws_context(r->eng), 0);
	}
}

static json_t *
rig_call(struct rig *r, const char *line)
{
	rig_send(r, line);
	return rig_receive(r);
}

static int
error_code(json_t *reply)
{
	json_t *error = json_object_get(reply, "error");

	assert_non_null(error);
	return (int)json_integer_value(json_object_get(error, "code"));
}

/* Timers fire in due order, never early, a cancelled one never, and the
 * loop sleeps while it waits: libwebsockets' own timers spin through
 * poll(0) for their last millisecond, thousands of passes. */
struct timer_probe {
	struct engine_timer t;
	int64_t set_us, due_us, fired_us;
	int order;
};

static int timer_fired;

static void
timer_probe_fire(struct engine_timer *t)
{
	struct timer_probe *p = (struct timer_probe *)t;

	p->fired_us = engine_now_us();
	p->order = ++timer_fired;
}

static void
timer_probe_set(struct rig *r, struct timer_probe *p, int64_t delay_us)
{
	p->set_us = engine_now_us();
	p->due_us = p->set_us + delay_us;
	engine_timer_schedule(r->eng, &p->t, timer_probe_fire, delay_us);
}

static void
test_engine_timers_fire_in_order_on_time_without_spinning(void **state)
{
	struct rig *r = *state;
	struct timer_probe a = {0}, b = {0}, c = {0}, d = {0}, now = {0};
	int64_t deadline = engine_now_us() + 5 * 1000000;
	int passes = 0;

	timer_fired = 0;
	timer_probe_set(r, &c, 4500);
	timer_probe_set(r, &a, 1500);
	timer_probe_set(r, &d, 300);
	timer_probe_set(r, &b, 3200);
	timer_probe_set(r, &d, 6000); /* moved later */
	engine_timer_cancel(r->eng, &b.t);
	engine_timer_cancel(r->eng, &b.t); /* twice is harmless */
	timer_probe_set(r, &now, 0);       /* the next pass */
	while (timer_fired < 4 && engine_now_us() < deadline) {
		lws_service(engine_lws_context(r->eng), 0);
		passes++;
	}
	assert_int_equal(timer_fired, 4);
	assert_int_equal(now.order, 1);
	assert_int_equal(a.order, 2);
	assert_int_equal(c.order, 3);
	assert_int_equal(d.order, 4);
	assert_int_equal(b.order, 0);
	assert_true(a.fired_us >= a.due_us);
	assert_true(c.fired_us >= c.due_us);
	assert_true(d.fired_us >= d.due_us);
	assert_false(a.t.armed || b.t.armed || c.t.armed || d.t.armed || now.t.armed);
	/* Four wake-ups and a few spurious ones; a spinning loop makes
	 * thousands of passes in 6 ms. */
	assert_in_range(passes, 4, 40);
}

static void
test_engine_answers_each_error_code(void **state)
{
	struct rig *r = *state;
	json_t *j;

	j = rig_call(r, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"no.such\"}");
	assert_int_equal(error_code(j), JSONRPC_METHOD_NOT_FOUND);
	assert_int_equal(json_integer_value(json_object_get(j, "id")), 1);
	json_decref(j);
	j = rig_call(r, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"send\","
	                "\"params\":{\"to\":\"bob\",\"text\":\"hi\"}}");
	assert_int_equal(error_code(j), JSONRPC_NOT_IMPLEMENTED);
	assert_non_null(
	    strstr(json_string_value(json_object_get(json_object_get(j, "error"), "message")),
	           "not implemented yet"));
	json_decref(j);
	j = rig_call(r, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"send\",\"params\":{\"to\":1}}");
	assert_int_equal(error_code(j), JSONRPC_INVALID_PARAMS);
	json_decref(j);
	j = rig_call(r, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"engine.info\",\"params\":[]}");
	assert_int_equal(error_code(j), JSONRPC_INVALID_PARAMS);
	json_decref(j);
	j = rig_call(r, "{not json");
	assert_int_equal(error_code(j), JSONRPC_PARSE_ERROR);
	assert_true(json_is_null(json_object_get(j, "id")));
	json_decref(j);
	j = rig_call(r, "[{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"engine.info\"}]");
	assert_int_equal(error_code(j), JSONRPC_INVALID_REQUEST);
	json_decref(j);
	j = rig_call(r, "{\"jsonrpc\":\"2.0\",\"id\":6,\"result\":1}");
	assert_int_equal(error_code(j), JSONRPC_INVALID_REQUEST);
	json_decref(j);
	j = rig_call(r, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"unlock\","
	                "\"params\":{\"passphrase\":\"\"}}");
	assert_int_equal(error_code(j), JSONRPC_INVALID_PARAMS);
	json_decref(j);
	j = rig_call(r, "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"unlock\","
	                "\"params\":{\"passphrase\":\"correct horse\"}}");
	assert_int_equal(error_code(j), JSONRPC_NOT_IMPLEMENTED);
	json_decref(j);
}

static void
test_engine_skips_notifications_and_blank_lines(void **state)
{
	struct rig *r = *state;
	json_t *j;

	rig_send(r, "");
	rig_send(r, "{\"jsonrpc\":\"2.0\",\"method\":\"no.such\"}");
	rig_send(r, "{\"jsonrpc\":\"2.0\",\"method\":\"engine.info\"}");
	j = rig_call(r, "{\"jsonrpc\":\"2.0\",\"id\":\"last\",\"method\":\"engine.info\"}");
	/* The first answer is the one asked for: the rest got none. */
	assert_string_equal(json_string_value(json_object_get(j, "id")), "last");
	json_decref(j);
}

static void
test_engine_info_describes_engine(void **state)
{
	struct rig *r = *state;
	json_t *j, *res;

	j = rig_call(r, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"engine.info\"}");
	res = json_object_get(j, "result");
	assert_int_equal(json_integer_value(json_object_get(res, "pid")), getpid());
	assert_string_equal(json_string_value(json_object_get(res, "profile")), "test");
	assert_string_equal(json_string_value(json_object_get(res, "home")), r->p.dir);
	assert_int_equal(json_integer_value(json_object_get(res, "frontends")), 1);
	assert_true(json_is_true(json_object_get(res, "persistent")));
	assert_true(json_is_false(json_object_get(res, "locked")));
	json_decref(j);
}

static void
echo_method(struct engine_req *req, json_t *params, void *ctx)
{
	json_t *result = json_object();

	json_object_set_new(result, "params",
	                    params != NULL ? json_deep_copy(params) : json_null());
	json_object_set_new(result, "ctx", json_string(ctx));
	json_object_set_new(result, "method", json_string(engine_req_method(req)));
	engine_req_reply(req, result);
}

static void
test_engine_registered_method_gets_params(void **state)
{
	struct rig *r = *state;
	struct err e;
	json_t *j, *res;

	assert_int_equal(engine_method_register(r->eng, "test.echo", echo_method, "c1", &e), 0);
	assert_int_equal(engine_method_register(r->eng, "test.echo", echo_method, "c2", &e), -1);
	assert_int_equal(e.code, ERR_EXISTS);
	assert_int_equal(engine_method_register(r->eng, "engine.info", echo_method, "c", &e), -1);
	j = rig_call(r, "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"test.echo\","
	                "\"params\":{\"a\":[1,2]}}");
	res = json_object_get(j, "result");
	assert_string_equal(json_string_value(json_object_get(res, "ctx")), "c1");
	assert_string_equal(json_string_value(json_object_get(res, "method")), "test.echo");
	assert_int_equal(json_array_size(json_object_get(json_object_get(res, "params"), "a")), 2);
	json_decref(j);
	/* A placeholder the messaging core replaces. */
	assert_int_equal(engine_method_register(r->eng, "unlock", echo_method, "core", &e), 0);
	j = rig_call(r, "{\"jsonrpc\":\"2.0\",\"id\":10,\"method\":\"unlock\","
	                "\"params\":{\"passphrase\":\"pw\"}}");
	res = json_object_get(j, "result");
	assert_string_equal(json_string_value(json_object_get(res, "ctx")), "core");
	json_decref(j);
	/* Table methods get their parameters checked before the handler. */
	assert_int_equal(engine_method_register(r->eng, "history", echo_method, "h", &e), 0);
	j = rig_call(r, "{\"jsonrpc\":\"2.0\",\"id\":11,\"method\":\"history\","
	                "\"params\":{\"limit\":\"x\"}}");
	assert_int_equal(error_code(j), JSONRPC_INVALID_PARAMS);
	json_decref(j);
}

static struct engine_req *deferred;

static void
deferred_method(struct engine_req *req, json_t *params, void *ctx)
{
	deferred = req; /* answered later, from outside the handler */
}

static void
test_engine_deferred_answer_arrives_later(void **state)
{
	struct rig *r = *state;
	struct err e;
	json_t *j;

	assert_int_equal(engine_method_register(r->eng, "test.later", deferred_method, NULL, &e),
	                 0);
	rig_send(r, "{\"jsonrpc\":\"2.0\",\"id\":\"slow\",\"method\":\"test.later\"}");
	j = rig_call(r, "{\"jsonrpc\":\"2.0\",\"id\":\"fast\",\"method\":\"engine.info\"}");
	assert_string_equal(json_string_value(json_object_get(j, "id")), "fast");
	json_decref(j);
	assert_non_null(deferred);
	engine_req_fail(deferred, JSONRPC_UNAVAILABLE, "relay down: %d", 42);
	deferred = NULL;
	j = rig_receive(r);
	assert_string_equal(json_string_value(json_object_get(j, "id")), "slow");
	assert_int_equal(error_code(j), JSONRPC_UNAVAILABLE);
	json_decref(j);
}

static void
test_engine_locked_profile_serves_only_engine_and_unlock(void **state)
{
	struct rig *r = *state;
	json_t *j;

	engine_set_locked(r->eng, true);
	j = rig_call(r, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"engine.info\"}");
	assert_true(json_is_true(json_object_get(json_object_get(j, "result"), "locked")));
	json_decref(j);
	j = rig_call(r, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"engine.persist\"}");
	assert_non_null(json_object_get(j, "result"));
	json_decref(j);
	/* Unimplemented or not, a locked profile says so first. */
	{
		struct err e;
		assert_int_equal(engine_method_register(r->eng, "contacts", echo_method, "x", &e),
		                 0);
	}
	j = rig_call(r, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"contacts\"}");
	assert_int_equal(error_code(j), JSONRPC_LOCKED);
	json_decref(j);
	engine_set_locked(r->eng, false);
	j = rig_call(r, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"contacts\"}");
	assert_non_null(json_object_get(j, "result"));
	json_decref(j);
}

static void
test_engine_subscribe_sends_backlog_then_new_events(void **state)
{
	struct rig *r = *state;
	json_t *j, *params;
	uint64_t first;

	/* Cursor 1 is our own "frontend.attached", emitted on accept. */
	j = rig_call(r, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"engine.info\"}");
	json_decref(j);
	first = engine_emit(r->eng, "test.one", NULL);
	engine_emit(r->eng, "test.two", json_pack("{s:s}", "k", "v"));
	j = rig_call(r, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"engine.subscribe\","
	                "\"params\":{\"cursor\":1}}");
	assert_int_equal(
	    json_integer_value(json_object_get(json_object_get(j, "result"), "cursor")), first + 1);
	assert_true(json_is_false(json_object_get(json_object_get(j, "result"), "missed")));
	json_decref(j);
	j = rig_receive(r);
	assert_string_equal(json_string_value(json_object_get(j, "method")), "event");
	params = json_object_get(j, "params");
	assert_int_equal(json_integer_value(json_object_get(params, "cursor")), first);
	assert_string_equal(json_string_value(json_object_get(params, "type")), "test.one");
	json_decref(j);
	j = rig_receive(r);
	params = json_object_get(j, "params");
	assert_string_equal(json_string_value(json_object_get(params, "type")), "test.two");
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(params, "data"), "k")), "v");
	json_decref(j);
	/* Live from now on. */
	engine_emit(r->eng, "test.three", NULL);
	j = rig_receive(r);
	params = json_object_get(j, "params");
	assert_int_equal(json_integer_value(json_object_get(params, "cursor")), first + 2);
	json_decref(j);
}

/* A burst of events far larger than a socket buffer: the engine must keep
 * writing as the frontend drains it, and the answer must follow. */
static void
flood_method(struct engine_req *req, json_t *params, void *ctx)
{
	char pad[500];
	int i;

	(void)params;
	(void)ctx;
	memset(pad, 'x', sizeof pad - 1);
	pad[sizeof pad - 1] = '\0';
	for (i = 0; i < 5000; i++)
		engine_emit(engine_req_engine(req), "test.flood",
		            json_pack("{s:i,s:s}", "n", i, "pad", pad));
	engine_req_reply(req, json_pack("{s:b}", "done", 1));
}

static void
test_engine_flood_of_events_reaches_a_slow_frontend_then_the_answer(void **state)
{
	struct rig *r = *state;
	int events = 0;
	json_t *j;
	struct err e;

	assert_int_equal(engine_method_register(r->eng, "test.flood", flood_method, NULL, &e), 0);
	j = rig_call(r, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"engine.subscribe\","
	                "\"params\":{\"cursor\":0}}");
	json_decref(j);
	rig_send(r, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"test.flood\"}");
	for (;;) {
		j = rig_receive(r);
		if (json_object_get(j, "id") != NULL) {
			assert_true(
			    json_is_true(json_object_get(json_object_get(j, "result"), "done")));
			json_decref(j);
			break;
		}
		if (strcmp(json_string_value(json_object_get(json_object_get(j, "params"), "type")),
		           "test.flood") == 0)
			events++;
		json_decref(j);
	}
	assert_int_equal(events, 5000);
}

static void
test_engine_survives_oversize_line(void **state)
{
	struct rig *r = *state;
	size_t n = JSONRPC_LINE_MAX + 10;
	char *big = malloc(n + 1);
	json_t *j;

	memset(big, ' ', n);
	big[n] = '\0';
	rig_send(r, big);
	free(big);
	j = rig_receive(r);
	assert_int_equal(error_code(j), JSONRPC_INVALID_REQUEST);
	assert_non_null(
	    strstr(json_string_value(json_object_get(json_object_get(j, "error"), "message")),
	           "too long"));
	json_decref(j);
	j = rig_call(r, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"engine.info\"}");
	assert_non_null(json_object_get(j, "result"));
	json_decref(j);
}

static void
test_engine_second_engine_for_profile_is_busy(void **state)
{
	struct rig *r = *state;
	struct engine_config cfg = {0};
	struct err e;

	cfg.profile = &r->p;
	assert_null(engine_new(&cfg, &e));
	assert_int_equal(e.code, ERR_BUSY);
	/* ... and it left the running engine's socket alone. */
	json_decref(rig_call(r, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"engine.info\"}"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_engine_events_cursors_grow_from_one),
	    cmocka_unit_test(test_engine_events_ring_keeps_newest),
	    cmocka_unit_test(test_engine_events_lazy_data_built_when_read),
	    cmocka_unit_test_setup_teardown(
	        test_engine_timers_fire_in_order_on_time_without_spinning, rig_setup, rig_teardown),
	    cmocka_unit_test_setup_teardown(test_engine_answers_each_error_code, rig_setup,
	                                    rig_teardown),
	    cmocka_unit_test_setup_teardown(test_engine_skips_notifications_and_blank_lines,
	                                    rig_setup, rig_teardown),
	    cmocka_unit_test_setup_teardown(test_engine_info_describes_engine, rig_setup,
	                                    rig_teardown),
	    cmocka_unit_test_setup_teardown(test_engine_registered_method_gets_params, rig_setup,
	                                    rig_teardown),
	    cmocka_unit_test_setup_teardown(test_engine_deferred_answer_arrives_later, rig_setup,
	                                    rig_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_engine_locked_profile_serves_only_engine_and_unlock, rig_setup, rig_teardown),
	    cmocka_unit_test_setup_teardown(test_engine_subscribe_sends_backlog_then_new_events,
	                                    rig_setup, rig_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_engine_flood_of_events_reaches_a_slow_frontend_then_the_answer, rig_setup,
	        rig_teardown),
	    cmocka_unit_test_setup_teardown(test_engine_survives_oversize_line, rig_setup,
	                                    rig_teardown),
	    cmocka_unit_test_setup_teardown(test_engine_second_engine_for_profile_is_busy,
	                                    rig_setup, rig_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The engine: the one process per profile that owns its database, keys and
 * relay connection. A single-threaded libwebsockets event loop serves the
 * frontends attached to engine.sock with JSON-RPC; the messaging core
 * plugs in by registering methods, emitting events and adding its own
 * libwebsockets connections to the same context. */
#ifndef SOTTO_ENGINE_H
#define SOTTO_ENGINE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "profile.h"
#include "util/err.h"

struct engine;
struct engine_req;
struct lws_context;

struct engine_config {
	const struct profile *profile; /* copied */
	/* Stay after the last frontend leaves (sotto daemon); otherwise the
	 * engine exits then, or when none attaches at all for a while. */
	bool persistent;
	/* Unlock with this at start (daemon --foreground --passphrase-file):
	 * copied, and wiped once the core took it. NULL for none. */
	const char *passphrase;
	size_t passphrase_len;
};

/* Take the profile's lock (ERR_BUSY when another engine holds it), create
 * the event loop and listen on engine.sock. Writes engine.pid. */
struct engine *engine_new(const struct engine_config *cfg, struct err *e);
/* Serve until engine_stop(), SIGTERM/SIGINT, or (unless persistent) the
 * last frontend leaving. */
int engine_run(struct engine *eng, struct err *e);
/* Ask the loop to end; safe from any engine callback. */
void engine_stop(struct engine *eng);
/* Remove the socket and pid file, close everything, release the lock. */
void engine_free(struct engine *eng);

void engine_set_persistent(struct engine *eng, bool persistent);
/* The start-up passphrase of engine_config, handed over once: 1 with
 * *pass (the caller's, to wipe_free(*pass, *len + 1)), 0 when none. */
int engine_take_passphrase(struct engine *eng, char **pass, size_t *len);
/* The messaging core says whether the database still needs unlocking;
 * while locked only engine.* and unlock are served. */
void engine_set_locked(struct engine *eng, bool locked);
bool engine_is_locked(const struct engine *eng);
/* For the relay transport: its connections join this loop. */
struct lws_context *engine_lws_context(struct engine *eng);
const struct profile *engine_profile(const struct engine *eng);

/* Work finished on another thread (the unlock's key derivation): that
 * thread calls engine_wake(), which is safe from any thread, and fn(ctx)
 * then runs on the loop, where its result is taken up. fn may also run
 * when nobody called engine_wake: it checks for itself. One hook. */
typedef void engine_wake_fn(void *ctx);
void engine_set_wake(struct engine *eng, engine_wake_fn *fn, void *ctx);
void engine_wake(struct engine *eng);

/* A method handler. params is borrowed for the call (an object, or NULL
 * when absent) and was already checked against the command table when the
 * method is listed there. The handler must answer req exactly once, now
 * or later from the event loop, with engine_req_reply/engine_req_fail. */
typedef void engine_method_fn(struct engine_req *req, json_t *params, void *ctx);

/* Add or replace a method. Built-in placeholders (such as "unlock") may be
 * replaced; a method registered by someone else may not (ERR_EXISTS). */
int engine_method_register(struct engine *eng, const char *name, engine_method_fn *fn, void *ctx,
                           struct err *e);

/* Answer a request (result taken over; NULL means null). Replies to a
 * frontend that has left, or to a notification, are dropped. */
void engine_req_reply(struct engine_req *req, json_t *result);
void engine_req_fail(struct engine_req *req, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Fail with the JSON-RPC code matching e->code, and e->msg. */
void engine_req_fail_err(struct engine_req *req, const struct err *e);
struct engine *engine_req_engine(const struct engine_req *req);
const char *engine_req_method(const struct engine_req *req);

/* A timer that fires when due, to the microsecond (engine_timer.c):
 * libwebsockets' own timers spin the loop through their last millisecond.
 * The struct belongs to its user, who cancels it before freeing it. */
struct engine_timer;
typedef void engine_timer_fn(struct engine_timer *t);
struct engine_timer {
	engine_timer_fn *fn;
	int64_t due_us; /* engine_now_us() clock */
	struct engine_timer *next;
	bool armed;
};

/* Run fn(t) delay_us from now (again, if t was armed: it moves). */
void engine_timer_schedule(struct engine *eng, struct engine_timer *t, engine_timer_fn *fn,
                           int64_t delay_us);
/* Not armed afterwards; harmless when it was not. */
void engine_timer_cancel(struct engine *eng, struct engine_timer *t);
/* Microseconds on the monotonic clock. */
int64_t engine_now_us(void);

/* Emit an event to every subscribed frontend; data is taken over (NULL
 * for none). Returns the event's cursor. */
uint64_t engine_emit(struct engine *eng, const char *type, json_t *data);
/* The same with data built only when a frontend needs it: build(arg)
 * returns a new reference, and arg (one allocation, taken over) is freed
 * with free() when the event leaves the ring. Most events are never read
 * (a catch-up with no frontend attached), and building their JSON cost
 * about a tenth of a received message's time. */
typedef json_t *engine_event_build_fn(const void *arg);
uint64_t engine_emit_lazy(struct engine *eng, const char *type, engine_event_build_fn *build,
                          void *arg);

/* engine_events.c: the in-memory event ring behind engine_emit and
 * engine.subscribe. Cursors start at 1 and only grow; the ring keeps the
 * newest cap events. (The database's events table will replace it.) */
struct engine_event {
	uint64_t cursor;
	int64_t time_ms; /* when it happened: Unix milliseconds */
	char *type;
	json_t *data; /* NULL when build makes it */
	engine_event_build_fn *build;
	void *arg;
};

struct engine_events {
	struct engine_event *ring;
	size_t cap, start, count;
	uint64_t last; /* cursor of the newest event, 0 before any */
};

void engine_events_init(struct engine_events *ev, size_t cap);
void engine_events_clear(struct engine_events *ev);
/* Append; data (or build's arg) taken over. Returns the new cursor. */
uint64_t engine_events_push(struct engine_events *ev, const char *type, json_t *data);
uint64_t engine_events_push_lazy(struct engine_events *ev, const char *type,
                                 engine_event_build_fn *build, void *arg);
/* The i-th held event with a cursor greater than after, or NULL. */
const struct engine_event *engine_events_after(const struct engine_events *ev, uint64_t after,
                                               size_t i);
/* Cursor of the oldest event still held (last + 1 when empty). */
uint64_t engine_events_oldest(const struct engine_events *ev);
/* The notification params for an event: {cursor, time, time_ms, type,
 * data}. */
json_t *engine_events_json(const struct engine_event *event);

#endif

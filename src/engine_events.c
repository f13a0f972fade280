/* Events the engine emits (a message arrived, a frontend attached, ...),
 * each with a cursor that only grows, kept in a ring so a frontend that
 * reconnects can ask for what it missed. The database's events table will
 * take the ring's place; engine_emit() and engine.subscribe stay. */
#include "engine_int.h"

#include "jsonrpc.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

void
engine_events_init(struct engine_events *ev, size_t cap)
{
	memset(ev, 0, sizeof *ev);
	ev->cap = cap > 0 ? cap : 1;
	ev->ring = xcalloc(ev->cap, sizeof *ev->ring);
}

static void
engine_events_drop_oldest(struct engine_events *ev)
{
	struct engine_event *old = &ev->ring[ev->start];

	free(old->type);
	json_decref(old->data);
	free(old->arg);
	memset(old, 0, sizeof *old);
	ev->start = (ev->start + 1) % ev->cap;
	ev->count--;
}

void
engine_events_clear(struct engine_events *ev)
{
	while (ev->count > 0)
		engine_events_drop_oldest(ev);
	free(ev->ring);
	memset(ev, 0, sizeof *ev);
}

static struct engine_event *
engine_events_slot(struct engine_events *ev, const char *type)
{
	struct engine_event *slot;
	struct timespec now;

	if (ev->count == ev->cap)
		engine_events_drop_oldest(ev);
	slot = &ev->ring[(ev->start + ev->count) % ev->cap];
	slot->cursor = ++ev->last;
	clock_gettime(CLOCK_REALTIME, &now);
	slot->time_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
	slot->type = xstrdup(type);
	ev->count++;
	return slot;
}

uint64_t
engine_events_push(struct engine_events *ev, const char *type, json_t *data)
{
	struct engine_event *slot = engine_events_slot(ev, type);

	slot->data = data != NULL ? data : json_object();
	return slot->cursor;
}

uint64_t
engine_events_push_lazy(struct engine_events *ev, const char *type, engine_event_build_fn *build,
                        void *arg)
{
	struct engine_event *slot = engine_events_slot(ev, type);

	slot->build = build;
	slot->arg = arg;
	return slot->cursor;
}

uint64_t
engine_events_oldest(const struct engine_events *ev)
{
	return ev->last - ev->count + 1;
}

const struct engine_event *
engine_events_after(const struct engine_events *ev, uint64_t after, size_t i)
{
	uint64_t oldest = engine_events_oldest(ev);
	size_t first;

	/* Held cursors are consecutive: oldest .. last. */
	if (after >= ev->last)
		return NULL;
	first = after < oldest ? 0 : (size_t)(after - oldest + 1);
	if (first + i >= ev->count)
		return NULL;
	return &ev->ring[(ev->start + first + i) % ev->cap];
}

json_t *
engine_events_json(const struct engine_event *event)
{
	json_t *data = event->data != NULL ? json_incref(event->data) : event->build(event->arg);

	/* time (seconds) came first; time_ms says when a message event's
	 * commit ended, to the millisecond. */
	return json_pack("{s:I,s:I,s:I,s:s,s:o}", "cursor", (json_int_t)event->cursor, "time",
	                 (json_int_t)(event->time_ms / 1000), "time_ms", (json_int_t)event->time_ms,
	                 "type", event->type, "data", data != NULL ? data : json_object());
}

static void
engine_events_send(struct engine_conn *conn, const struct engine_event *event)
{
	char *line = jsonrpc_notification_line("event", engine_events_json(event));

	engine_conn_send(conn, line);
	free(line);
}

/* The newest event to every subscribed frontend. */
static uint64_t
engine_events_announce(struct engine *eng, uint64_t cursor)
{
	const struct engine_event *event = engine_events_after(&eng->events, cursor - 1, 0);
	struct engine_conn *conn;

	for (conn = eng->conns; conn != NULL; conn = conn->next)
		if (conn->subscribed)
			engine_events_send(conn, event);
	return cursor;
}

uint64_t
engine_emit(struct engine *eng, const char *type, json_t *data)
{
	return engine_events_announce(eng, engine_events_push(&eng->events, type, data));
}

uint64_t
engine_emit_lazy(struct engine *eng, const char *type, engine_event_build_fn *build, void *arg)
{
	return engine_events_announce(eng, engine_events_push_lazy(&eng->events, type, build, arg));
}

void
engine_events_subscribe(struct engine *eng, struct engine_conn *conn, uint64_t cursor)
{
	const struct engine_event *event;
	size_t i;

	conn->subscribed = true;
	for (i = 0; (event = engine_events_after(&eng->events, cursor, i)) != NULL; i++)
		engine_events_send(conn, event);
}

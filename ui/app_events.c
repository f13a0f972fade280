/* Engine events into the windows: new messages (unread counts, the
 * bell and desktop notifications for conversations that are not open),
 * delivery states, identity changes, the relay connection, contacts. */
#include "ui/app.h"

#include "ui/notify.h"
#include "util/sanitize.h"
#include "ui/screen.h"
#include "util/xmalloc.h"

#include <stdlib.h>
#include <string.h>

static bool
app_events_is_open(const struct app *a, const struct buffer *b)
{
	return b != NULL && a->cur == b;
}

static void
app_events_notify(struct app *a, json_t *m)
{
	char *seq = notify_sequence(&a->theme, json_string_value(json_object_get(m, "sender")),
	                            json_string_value(json_object_get(m, "text")), a->in_tmux);

	screen_raw(a->screen, seq);
	free(seq);
}

static void
app_events_message(struct app *a, json_t *data, bool replayed)
{
	json_t *m = json_object_get(data, "message");
	const char *peer = json_string_value(json_object_get(m, "peer"));
	const char *dir = json_string_value(json_object_get(m, "direction"));
	json_t *jc = json_object_get(m, "conversation");
	int64_t conv = json_is_integer(jc) ? (int64_t)json_integer_value(jc) : 0;
	struct buffer *b;
	bool open, incoming = dir != NULL && strcmp(dir, "in") == 0;

	if (peer == NULL)
		return;
	b = app_find_buffer(a, conv, peer);
	open = app_events_is_open(a, b);
	if (b != NULL) {
		if (b->conversation <= 0)
			b->conversation = conv;
		buffer_add(b, m);
	}
	/* A replayed message is already counted in the reloaded list. */
	convlist_note_message(&a->list, m, replayed || (open && b->scroll == 0));
	/* Told once the burst is handled, not once per message. */
	if (open && incoming)
		a->read_pending = true;
	/* The engine's counts are the truth: counting events here counts
	 * twice what a reload already saw. Recount once the burst is
	 * handled. */
	if (!open && incoming)
		a->list_stale = true;
	if (!open && incoming && !replayed)
		app_events_notify(a, m);
	a->dirty |= APP_DIRTY_LIST | APP_DIRTY_MSGS | APP_DIRTY_STATUS;
}

static void
app_events_state(struct app *a, json_t *data)
{
	json_t *jid = json_object_get(data, "id");
	int64_t id = json_is_integer(jid) ? (int64_t)json_integer_value(jid) : 0;
	const char *msg_id = json_string_value(json_object_get(data, "msg_id"));
	const char *state = json_string_value(json_object_get(data, "state"));
	size_t i;

	for (i = 0; i < a->nbufs; i++)
		if (buffer_set_state(a->bufs[i], id, msg_id, state) && a->bufs[i] == a->cur)
			a->dirty |= APP_DIRTY_MSGS;
}

static void
app_events_identity(struct app *a, json_t *data)
{
	const char *name = json_string_value(json_object_get(data, "name"));
	bool blocked = json_is_true(json_object_get(data, "blocked"));
	struct convlist_contact *c;
	struct buffer *b;
	char *clean, *text;

	if (name == NULL)
		return;
	app_load_contacts(a);
	c = convlist_contact(&a->list, name);
	if (c != NULL)
		c->identity_changed = true;
	clean = sanitize_str(name, 0);
	text = xasprintf("%s's safety number changed%s. Compare it with /safety %s, then accept "
	                 "the new key with /trust %s.",
	                 clean, blocked ? " and messages to them are held" : "", clean, clean);
	b = app_find_buffer(a, 0, name);
	if (b != NULL)
		buffer_notice(b, text);
	if (b != a->system)
		buffer_notice(a->system, text);
	free(text);
	free(clean);
	if (a->theme.notify_bell)
		screen_raw(a->screen, "\a");
	a->dirty |= APP_DIRTY_TITLE | APP_DIRTY_STATUS | APP_DIRTY_MSGS;
}

static void
app_events_one(struct app *a, json_t *note)
{
	json_t *params = json_object_get(note, "params");
	const char *method = json_string_value(json_object_get(note, "method"));
	const char *type = json_string_value(json_object_get(params, "type"));
	json_t *data = json_object_get(params, "data");
	json_t *cur = json_object_get(params, "cursor");

	if (method == NULL || strcmp(method, "event") != 0 || type == NULL)
		return;
	if (json_is_integer(cur) && (uint64_t)json_integer_value(cur) > a->cursor)
		a->cursor = (uint64_t)json_integer_value(cur);
	if (strcmp(type, "message") == 0) {
		app_events_message(a, data,
		                   json_is_integer(cur) &&
		                       (uint64_t)json_integer_value(cur) <= a->replayed_upto);
	} else if (strcmp(type, "message.state") == 0) {
		app_events_state(a, data);
	} else if (strcmp(type, "conversation.read") == 0) {
		/* Read here or in another frontend: the unread count goes. */
		json_t *jc = json_object_get(data, "conversation");
		long i =
		    convlist_find(&a->list, json_is_integer(jc) ? json_integer_value(jc) : 0, NULL);
		if (i >= 0) {
			convlist_mark_read(&a->list, (size_t)i);
			a->dirty |= APP_DIRTY_LIST | APP_DIRTY_STATUS;
		}
	} else if (strcmp(type, "identity.changed") == 0) {
		app_events_identity(a, data);
	} else if (strcmp(type, "connection") == 0) {
		free(a->connection);
		a->connection = sanitize_str(json_string_value(json_object_get(data, "state")), 0);
		a->dirty |= APP_DIRTY_STATUS;
	} else if (strcmp(type, "contact") == 0) {
		app_load_contacts(a);
		a->dirty |= APP_DIRTY_LIST;
	}
}

/* Handle every notification already read or readable now. */
void
app_events_drain(struct app *a)
{
	json_t *note;
	struct err e;
	int r;

	while (a->client.conn.fd >= 0) {
		r = client_next_notification(&a->client, 0, &note, &e);
		if (r == 0) {
			if (!a->read_pending && !a->list_stale)
				return;
			if (a->read_pending)
				app_mark_read(a);
			if (a->list_stale && a->messaging)
				app_load_conversations(a);
			a->read_pending = a->list_stale = false;
			/* Those calls may have queued notifications: the
			 * socket will not say so. */
			continue;
		}
		if (r < 0) {
			/* Attaching to a new engine queues its replayed events
			 * (the connection state among them) without the socket
			 * saying so: read on, or they wait for the next one. */
			app_engine_lost(a, &e);
			continue;
		}
		app_events_one(a, note);
		json_decref(note);
	}
}

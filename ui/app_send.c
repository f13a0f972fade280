/* Sending without freezing the screen. The engine answers "send" only
 * once the relay took the message, or after a few seconds when it is slow
 * or gone; waiting for that answer would stop keys and redraws. So sends
 * go over a second connection to the same engine, and the loop reads
 * their answers when they come. The message itself shows at once, from
 * the engine's "message" event ("sending"), and its state events follow. */
#include "config.h"

#include "ui/app.h"

#include "jsonrpc.h"
#include "util/sanitize.h"
#include "util/xmalloc.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct app_send_pending {
	long long id;
	char *peer;
	char *text;
};

static void
app_send_pending_free(struct app_send_pending *p)
{
	free(p->peer);
	free(p->text);
}

/* A refused send: say why, and give the text back when the input line is
 * empty, so nothing typed is lost. */
static void
app_send_refused(struct app *a, const char *peer, const char *text, int code, const char *why)
{
	char *who = sanitize_str(peer, 0);

	if (code == JSONRPC_UNTRUSTED)
		/* One line: the identity notice above it says the rest. */
		app_notice(a, "Not sent: %s's key changed; /trust %s", who, who);
	else if (code == JSONRPC_NOT_FOUND)
		app_notice(a, "Not sent: there is no account called %s on the relay.", who);
	else
		app_notice(a, "Not sent: %s", why);
	if (a->ed.len == 0)
		editor_set(&a->ed, text);
	a->dirty |= APP_DIRTY_INPUT;
	free(who);
}

/* The message the engine stored, into its window and the list. */
static void
app_send_accepted(struct app *a, const char *peer, json_t *res)
{
	json_t *m = json_object_get(res, "message"), *jc, *jid;
	struct buffer *b = app_find_buffer(a, 0, peer);

	if (b == NULL || !json_is_object(m))
		return;
	jc = json_object_get(m, "conversation");
	if (b->conversation <= 0 && json_is_integer(jc))
		b->conversation = (int64_t)json_integer_value(jc);
	/* Its "message" event on the other connection usually came first,
	 * and state events after it: the answer's older state must not
	 * overwrite theirs. */
	jid = json_object_get(m, "id");
	if (json_is_integer(jid) && buffer_holds(b, (int64_t)json_integer_value(jid)))
		return;
	buffer_add(b, m);
	convlist_note_message(&a->list, m, true);
	a->dirty |= APP_DIRTY_MSGS | APP_DIRTY_LIST | APP_DIRTY_STATUS;
}

/* The sending connection is gone: what was waiting may or may not have
 * been stored, and the conversation (reloaded on reattaching) tells. */
static void
app_send_lost(struct app *a)
{
	size_t i;

	if (a->npending > 0)
		app_notice(a,
		           "The engine went away before confirming %zu message%s; the "
		           "conversation shows what was stored.",
		           a->npending, a->npending == 1 ? "" : "s");
	for (i = 0; i < a->npending; i++)
		app_send_pending_free(&a->pending[i]);
	a->npending = 0;
	client_close(&a->sender);
	client_init(&a->sender);
}

void
app_send(struct app *a, const char *peer, const char *text)
{
	struct app_send_pending *p;
	struct buffer *b;
	struct err e;
	json_t *id;
	char *line;
	int rc;

	if (a->sender.conn.fd < 0 && client_attach(&a->sender, a->profile, false, &e) < 0) {
		client_close(&a->sender);
		client_init(&a->sender);
		app_send_refused(a, peer, text, 0, e.msg);
		return;
	}
	id = json_integer(a->sender.next_id);
	line = jsonrpc_request_line(id, "send", json_pack("{s:s,s:s}", "to", peer, "text", text));
	json_decref(id);
	rc = ipc_conn_queue_line(&a->sender.conn, line, strlen(line), &e);
	free(line);
	/* A request line is small; the engine reads it at once. */
	while (rc == 0 && ipc_conn_pending(&a->sender.conn)) {
		struct pollfd pfd = {a->sender.conn.fd, POLLOUT, 0};
		rc = ipc_conn_flush(&a->sender.conn, &e);
		if (rc == 0 && ipc_conn_pending(&a->sender.conn))
			poll(&pfd, 1, 1000);
	}
	if (rc < 0) {
		app_send_lost(a);
		app_send_refused(a, peer, text, 0, e.msg);
		return;
	}
	a->pending = xreallocarray(a->pending, a->npending + 1, sizeof *a->pending);
	p = &a->pending[a->npending++];
	p->id = a->sender.next_id++;
	p->peer = xstrdup(peer);
	p->text = xstrdup(text);
	/* What you just sent is what you want to see. */
	b = app_find_buffer(a, 0, peer);
	if (b != NULL)
		b->scroll = b->unseen = 0;
	a->dirty |= APP_DIRTY_MSGS;
}

int
app_send_fd(const struct app *a)
{
	return a->sender.conn.fd;
}

static void
app_send_answer(struct app *a, const struct jsonrpc_msg *m)
{
	size_t i;

	if (!json_is_integer(m->id))
		return;
	for (i = 0; i < a->npending; i++)
		if (a->pending[i].id == (long long)json_integer_value(m->id))
			break;
	if (i == a->npending)
		return;
	if (m->kind == JSONRPC_RESULT)
		app_send_accepted(a, a->pending[i].peer, m->result);
	else
		app_send_refused(a, a->pending[i].peer, a->pending[i].text, m->error_code,
		                 m->error_message != NULL ? m->error_message : "?");
	app_send_pending_free(&a->pending[i]);
	memmove(a->pending + i, a->pending + i + 1, (a->npending - i - 1) * sizeof *a->pending);
	a->npending--;
}

void
app_send_drain(struct app *a)
{
	struct jsonrpc_msg m;
	struct err e;
	int r;

	if (a->sender.conn.fd < 0)
		return;
	while ((r = client_read_message(&a->sender, 0, &m, &e)) == 1) {
		if (m.kind == JSONRPC_RESULT || m.kind == JSONRPC_ERROR)
			app_send_answer(a, &m);
		jsonrpc_msg_clear(&m);
	}
	if (r < 0)
		app_send_lost(a);
}

void
app_send_free(struct app *a)
{
	size_t i;

	for (i = 0; i < a->npending; i++)
		app_send_pending_free(&a->pending[i]);
	free(a->pending);
	a->pending = NULL;
	a->npending = 0;
	client_close(&a->sender);
}

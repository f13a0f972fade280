/* /search and jumping to what it found: the results are listed, numbered,
 * newest first, and kept; Ctrl-G opens the next one in its conversation
 * with the message on screen, fetching the history around it when it is
 * older than what the window holds. */
#include "config.h"

#include "ui/app.h"

#include "ui/screen.h"
#include "util/sanitize.h"
#include "util/xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Search results shown at most (the engine sends a bounded list). */
#define APP_SEARCH_SHOW 50

void
app_search(struct app *a, const char *text)
{
	json_t *params = json_pack("{s:s}", "text", text), *res, *arr, *m;
	char when[32], *clean, *body;
	size_t i, n, shown;

	if (a->cur != a->system && a->cur != NULL && a->cur->peer[0] != '\0')
		json_object_set_new(params, "with", json_string(a->cur->peer));
	if (app_call(a, "search", params, &res, NULL) != 0)
		return;
	arr = json_is_array(res) ? res : json_object_get(res, "messages");
	n = json_array_size(arr);
	shown = n > APP_SEARCH_SHOW ? APP_SEARCH_SHOW : n;
	clean = sanitize_str(text, 0);
	app_notice(a, "Search for \"%s\": %zu message%s%s%s", clean, n, n == 1 ? "" : "s",
	           n > shown ? " (the newest shown)" : "",
	           n > 0 ? ", newest first; Ctrl-G jumps to each in turn" : "");
	free(clean);
	json_decref(a->results);
	a->results = json_array();
	a->result_next = 0;
	for (i = 0; i < shown; i++) {
		json_t *t;
		time_t secs;
		struct tm tm;
		m = json_array_get(arr, i);
		json_array_append(a->results, m);
		t = json_object_get(m, "sent_ms");
		secs = (time_t)(json_is_integer(t) ? json_integer_value(t) / 1000 : 0);
		localtime_r(&secs, &tm);
		strftime(when, sizeof when, "%Y-%m-%d %H:%M", &tm);
		body = xasprintf("[%zu] %s %s -> %s: %s", i + 1, when,
		                 json_string_value(json_object_get(m, "sender")) ?: "?",
		                 json_string_value(json_object_get(m, "peer")) ?: "?",
		                 json_string_value(json_object_get(m, "text")) ?: "");
		/* buffer_notice() sanitises. */
		app_notice(a, "%s", body);
		free(body);
	}
	json_decref(res);
}

static ssize_t
app_search_held(const struct buffer *b, int64_t id)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		if (b->msgs[i].id == id)
			return (ssize_t)i;
	return -1;
}

/* The window holds no message id: load the pages just before and just
 * after it instead. */
static void
app_search_load_around(struct app *a, struct buffer *b, int64_t id)
{
	struct client_rpc_error re;
	json_t *before, *after, *all;
	size_t nb, na;

	if (app_call(a, "messages",
	             json_pack("{s:I,s:I,s:i}", "conversation", (json_int_t)b->conversation,
	                       "before_id", (json_int_t)(id + 1), "limit", BUFFER_PAGE),
	             &before, &re) != 0)
		return;
	if (app_call(a, "messages",
	             json_pack("{s:I,s:I,s:i}", "conversation", (json_int_t)b->conversation,
	                       "after_id", (json_int_t)id, "limit", BUFFER_PAGE),
	             &after, &re) != 0) {
		json_decref(before);
		return;
	}
	all = json_array();
	json_array_extend(all, json_object_get(before, "messages"));
	json_array_extend(all, json_object_get(after, "messages"));
	nb = json_array_size(json_object_get(before, "messages"));
	na = json_array_size(json_object_get(after, "messages"));
	/* A full page before means there may be more before it. */
	buffer_load(b, all, nb >= BUFFER_PAGE ? json_array_size(all) : json_array_size(all) + 1,
	            true);
	/* The newest were not fetched: scrolling back down fetches them. */
	b->more_after = na >= BUFFER_PAGE;
	json_decref(all);
	json_decref(before);
	json_decref(after);
}

void
app_search_jump(struct app *a)
{
	json_t *m, *jc, *jid;
	const char *peer;
	struct buffer *b;
	size_t i, rows, cols, below = 0, half;
	ssize_t at;
	int64_t id;

	if (json_array_size(a->results) == 0) {
		app_notice(a, "No search results to jump to: /search TEXT first.");
		return;
	}
	if (a->result_next >= json_array_size(a->results))
		a->result_next = 0;
	m = json_array_get(a->results, a->result_next++);
	jc = json_object_get(m, "conversation");
	jid = json_object_get(m, "id");
	peer = json_string_value(json_object_get(m, "peer"));
	if (peer == NULL || !json_is_integer(jid))
		return;
	id = (int64_t)json_integer_value(jid);
	app_open(a, json_is_integer(jc) ? (int64_t)json_integer_value(jc) : 0, peer);
	b = a->cur;
	if (b == NULL || b == a->system || b->conversation <= 0)
		return;
	at = app_search_held(b, id);
	if (at < 0) {
		app_search_load_around(a, b, id);
		at = app_search_held(b, id);
	}
	if (at < 0) {
		app_notice(a, "Result %zu is no longer in the history.", a->result_next);
		return;
	}
	/* Scroll so the message sits in the middle of the pane. */
	cols = screen_msg_cols(a->screen);
	rows = screen_msg_rows(a->screen);
	for (i = (size_t)at + 1; i < b->n; i++)
		below += buffer_msg_rows(b, i, cols);
	half = rows / 2;
	b->scroll = below > half ? below - half : 0;
	a->dirty |= APP_DIRTY_MSGS | APP_DIRTY_STATUS;
}

/* The read-side JSON-RPC methods of the messaging contract: recv (with a
 * per-profile cursor, waiting and following), history, messages, search,
 * conversations and contacts. Safety numbers, trust and mark_read live in
 * msg_trust.c. */
#include "msg_int.h"

#include <stdlib.h>
#include <string.h>

#include "store/contacts.h"
#include "store/conversations.h"
#include "store/kv.h"

#define MSG_RECV_CURSOR "msg.recv_cursor"
#define MSG_PAGE 500
#define MSG_WINDOW_MAX 1000
/* A recv while the relay is still pushing the backlog waits this long for
 * it to end (queue.empty), so a script never misses what was waiting. */
#define MSG_CATCHUP_WAIT_S 10

/* A recv call waiting for a message (timeout) or following them. */
struct msg_waiter {
	struct msg *m;
	struct engine_req *req;
	bool follow;
	bool catchup; /* waiting for the relay's backlog (queue.empty) first */
	bool linger;  /* asked for a timeout: after the backlog, wait for one */
	lws_sorted_usec_list_t sul;
	bool armed;
	struct msg_waiter *next;
};

/* --- helpers --- */

static int
msg_methods_cmp_id(const void *a, const void *b)
{
	const struct history_message *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static void
msg_methods_append(struct history_message **all, size_t *n, struct history_message *page, size_t np)
{
	*all = xreallocarray(*all, *n + np + 1, sizeof **all);
	if (np > 0)
		memcpy(*all + *n, page, np * sizeof *page);
	*n += np;
	free(page); /* the rows moved, their strings with them */
}

static json_t *
msg_methods_array(struct msg *m, const struct history_message *list, size_t n)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; i < n; i++)
		json_array_append_new(arr, msg_json_message(m, &list[i], NULL));
	return arr;
}

/* The time a message shows: when it arrived, or when we wrote it. */
static int64_t
msg_methods_time(const struct history_message *h)
{
	return h->direction == HISTORY_IN && h->received_at > 0 ? h->received_at : h->sent_at;
}

static bool
msg_methods_ready(struct core *c, struct engine_req *req)
{
	struct err e;

	if (c->db != NULL)
		return true;
	err_set(&e, ERR_AUTH, "%s: the profile is locked or has no account yet",
	        engine_req_method(req));
	msg_fail(req, &e);
	return false;
}

/* A direct conversation by peer name: ERR_NOTFOUND if none. */
static int
msg_methods_conv(struct core *c, const char *name, int64_t *id, struct err *e)
{
	if (conversations_find(c->db, CONVERSATIONS_DIRECT, name, id, e) < 0) {
		if (e->code == ERR_NOTFOUND)
			err_set(e, ERR_NOTFOUND, "no conversation with %s", name);
		return -1;
	}
	return 0;
}

/* --- recv --- */

/* Incoming messages after the cursor, oldest first, over every
 * conversation. */
static int
msg_methods_unreturned(struct msg *m, int64_t cursor, struct history_message **out, size_t *n,
                       struct err *e)
{
	struct conversations_entry *convs = NULL;
	struct history_message *page, *all = NULL;
	size_t nconv = 0, np, i, j, k;

	*out = NULL;
	*n = 0;
	if (conversations_list(m->c->db, &convs, &nconv, e) < 0)
		return -1;
	for (i = 0; i < nconv && *n < MSG_LIST_MAX; i++) {
		if (history_page_after(m->c->db, convs[i].id, cursor, MSG_LIST_MAX, &page, &np, e) <
		    0) {
			conversations_list_free(convs, nconv);
			history_messages_free(all, *n);
			return -1;
		}
		/* Keep the incoming ones only. */
		for (j = k = 0; j < np; j++) {
			if (page[j].direction == HISTORY_IN)
				page[k++] = page[j];
			else
				history_message_clear(&page[j]);
		}
		msg_methods_append(&all, n, page, k);
	}
	conversations_list_free(convs, nconv);
	if (*n > 1)
		qsort(all, *n, sizeof *all, msg_methods_cmp_id);
	*out = all;
	return 0;
}

/* Answer a recv with everything unreturned and move the cursor. */
static void
msg_methods_recv_answer(struct msg *m, struct engine_req *req)
{
	struct history_message *list = NULL;
	int64_t cursor = 0;
	size_t n = 0;
	struct err e;

	if (kv_get_int(m->c->db, MSG_RECV_CURSOR, 0, &cursor, &e) < 0 ||
	    msg_methods_unreturned(m, cursor, &list, &n, &e) < 0) {
		msg_fail(req, &e);
		return;
	}
	if (n > 0 && kv_set_int(m->c->db, MSG_RECV_CURSOR, list[n - 1].id, &e) < 0) {
		history_messages_free(list, n);
		msg_fail(req, &e);
		return;
	}
	engine_req_reply(req, json_pack("{s:o}", "messages", msg_methods_array(m, list, n)));
	history_messages_free(list, n);
}

static void
msg_methods_waiter_remove(struct msg_waiter *w)
{
	struct msg_waiter **pp;

	for (pp = &w->m->waiters; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	}
	if (w->armed)
		lws_sul_cancel(&w->sul);
	free(w);
}

static void
msg_methods_waiter_fire(lws_sorted_usec_list_t *sul)
{
	struct msg_waiter *w = lws_container_of(sul, struct msg_waiter, sul);

	w->armed = false;
	if (w->follow)
		engine_req_reply(w->req, json_pack("{s:[]}", "messages"));
	else
		msg_methods_recv_answer(w->m, w->req);
	msg_methods_waiter_remove(w);
}

static void
msg_methods_recv(struct engine_req *req, json_t *params, void *ctx)
{
	struct core *c = ctx;
	struct msg *m = c->msg;
	bool follow = json_is_true(json_object_get(params, "follow"));
	json_t *jt = json_object_get(params, "timeout");
	struct lws_context *lws = msg_lws(m);
	int64_t cursor = 0, timeout = json_is_integer(jt) ? json_integer_value(jt) : -1;
	struct msg_waiter *w;
	struct err e;
	bool backlog, pending = false;

	if (!msg_methods_ready(c, req))
		return;
	/* Not connected: the next connection starts with a backlog. (A new
	 * engine starts with caught_up false.) */
	if (c->conn != CORE_CONN_CONNECTED)
		m->caught_up = false;
	backlog = !m->caught_up && lws != NULL &&
	          (c->conn == CORE_CONN_CONNECTING || c->conn == CORE_CONN_CONNECTED);
	if (!follow) {
		if (kv_get_int(c->db, MSG_RECV_CURSOR, 0, &cursor, &e) < 0 ||
		    history_has_incoming_after(c->db, cursor, &pending, &e) < 0) {
			msg_fail(req, &e);
			return;
		}
		if (!backlog && (pending || timeout <= 0 || lws == NULL)) {
			msg_methods_recv_answer(m, req);
			return;
		}
	}
	/* Wait: for the backlog, for the first message (timeout), or for
	 * ever (follow: the messages themselves go out as "message"
	 * events). */
	w = xcalloc(1, sizeof *w);
	w->m = m;
	w->req = req;
	w->follow = follow;
	w->catchup = !follow && backlog;
	w->linger = timeout > 0;
	w->next = m->waiters;
	m->waiters = w;
	if (w->catchup && timeout <= 0)
		timeout = MSG_CATCHUP_WAIT_S;
	if (timeout > 0 && lws != NULL) {
		w->armed = true;
		lws_sul_schedule(lws, 0, &w->sul, msg_methods_waiter_fire,
		                 (lws_usec_t)timeout * LWS_US_PER_SEC);
	}
}

void
msg_methods_caught_up(struct msg *m)
{
	struct msg_waiter *w, *next;
	int64_t cursor = 0;
	bool pending = false;
	struct err e;

	m->caught_up = true;
	if (m->c->db == NULL || kv_get_int(m->c->db, MSG_RECV_CURSOR, 0, &cursor, &e) < 0 ||
	    history_has_incoming_after(m->c->db, cursor, &pending, &e) < 0)
		pending = false;
	for (w = m->waiters; w != NULL; w = next) {
		next = w->next;
		if (!w->catchup)
			continue;
		w->catchup = false;
		/* Nothing came and a timeout was asked for: keep waiting. */
		if (!pending && w->linger)
			continue;
		msg_methods_recv_answer(m, w->req);
		msg_methods_waiter_remove(w);
	}
}

void
msg_methods_new_message(struct msg *m, const struct history_message *h)
{
	struct msg_waiter *w, *next;
	bool followed = false;

	if (h->direction != HISTORY_IN)
		return;
	for (w = m->waiters; w != NULL; w = next) {
		next = w->next;
		if (w->follow) {
			followed = true;
			continue;
		}
		if (w->catchup)
			continue; /* answered with the whole backlog */
		msg_methods_recv_answer(m, w->req);
		msg_methods_waiter_remove(w);
	}
	/* A follower was handed this one as an event: move the cursor past
	 * it (written once per batch). */
	if (followed && h->id > m->follow_cursor)
		m->follow_cursor = h->id;
}

void
msg_methods_batch_done(struct msg *m)
{
	struct err e;

	if (m->follow_cursor == 0 || m->c->db == NULL)
		return;
	kv_set_int(m->c->db, MSG_RECV_CURSOR, m->follow_cursor, &e);
	m->follow_cursor = 0;
}

void
msg_methods_free(struct msg *m)
{
	msg_methods_batch_done(m);
	while (m->waiters != NULL) {
		engine_req_reply(m->waiters->req, json_pack("{s:[]}", "messages"));
		msg_methods_waiter_remove(m->waiters);
	}
}

/* --- history, messages, search --- */

/* Up to limit of the newest messages of conv not older than since, oldest
 * first, appended to *all. */
static int
msg_methods_collect(struct core *c, int64_t conv, int64_t since, size_t limit,
                    struct history_message **all, size_t *n, struct err *e)
{
	struct history_message *page, *mine = NULL;
	size_t np, nmine = 0, i, k;
	int64_t before = 0;
	bool older = false;

	while (nmine < limit && !older) {
		if (history_page_before(c->db, conv, before, MSG_PAGE, &page, &np, e) < 0) {
			history_messages_free(mine, nmine);
			return -1;
		}
		if (np == 0) {
			free(page);
			break;
		}
		before = page[0].id;
		for (i = k = 0; i < np; i++) {
			if (msg_methods_time(&page[i]) < since) {
				older = true;
				history_message_clear(&page[i]);
			} else {
				page[k++] = page[i];
			}
		}
		msg_methods_append(&mine, &nmine, page, k);
		if (np < MSG_PAGE)
			break;
	}
	msg_methods_append(all, n, mine, nmine);
	return 0;
}

static void
msg_methods_history(struct engine_req *req, json_t *params, void *ctx)
{
	struct core *c = ctx;
	const char *with = json_string_value(json_object_get(params, "with"));
	const char *since_s = json_string_value(json_object_get(params, "since"));
	json_t *jl = json_object_get(params, "limit");
	struct conversations_entry *convs = NULL;
	struct history_message *all = NULL;
	size_t nconv = 0, n = 0, i, limit = MSG_LIST_MAX, skip;
	int64_t since = 0, conv;
	struct err e;

	if (!msg_methods_ready(c, req))
		return;
	if (json_is_integer(jl) && json_integer_value(jl) >= 0 &&
	    json_integer_value(jl) < MSG_LIST_MAX)
		limit = (size_t)json_integer_value(jl);
	if (since_s != NULL && msg_json_parse_since(since_s, db_now_ms(c->db), &since, &e) < 0)
		goto fail;
	if (with != NULL) {
		if (msg_methods_conv(c, with, &conv, &e) < 0)
			goto fail;
		if (msg_methods_collect(c, conv, since, limit, &all, &n, &e) < 0)
			goto fail;
	} else {
		if (conversations_list(c->db, &convs, &nconv, &e) < 0)
			goto fail;
		for (i = 0; i < nconv; i++) {
			if (msg_methods_collect(c, convs[i].id, since, limit, &all, &n, &e) < 0) {
				conversations_list_free(convs, nconv);
				goto fail;
			}
		}
		conversations_list_free(convs, nconv);
	}
	if (n > 1)
		qsort(all, n, sizeof *all, msg_methods_cmp_id);
	skip = n > limit ? n - limit : 0;
	engine_req_reply(
	    req, json_pack("{s:o}", "messages", msg_methods_array(c->msg, all + skip, n - skip)));
	history_messages_free(all, n);
	return;
fail:
	history_messages_free(all, n);
	msg_fail(req, &e);
}

static void
msg_methods_messages(struct engine_req *req, json_t *params, void *ctx)
{
	struct core *c = ctx;
	json_t *jc = json_object_get(params, "conversation");
	json_t *jb = json_object_get(params, "before_id");
	json_t *ja = json_object_get(params, "after_id");
	json_t *jl = json_object_get(params, "limit");
	struct history_message *list = NULL;
	int64_t limit = json_is_integer(jl) ? json_integer_value(jl) : 50;
	size_t n = 0;
	struct err e;
	int r;

	if (!msg_methods_ready(c, req))
		return;
	if (!json_is_integer(jc) || (jb != NULL && !json_is_integer(jb)) ||
	    (ja != NULL && !json_is_integer(ja)) || limit < 1 || limit > MSG_WINDOW_MAX) {
		err_set(&e, ERR_INVALID,
		        "messages: needs an integer conversation, limit 1..%d, and integer "
		        "before_id/after_id",
		        MSG_WINDOW_MAX);
		msg_fail(req, &e);
		return;
	}
	if (ja != NULL)
		r = history_page_after(c->db, json_integer_value(jc), json_integer_value(ja),
		                       (int)limit, &list, &n, &e);
	else
		r = history_page_before(c->db, json_integer_value(jc),
		                        jb != NULL ? json_integer_value(jb) : 0, (int)limit, &list,
		                        &n, &e);
	if (r < 0) {
		msg_fail(req, &e);
		return;
	}
	engine_req_reply(req, json_pack("{s:o}", "messages", msg_methods_array(c->msg, list, n)));
	history_messages_free(list, n);
}

static void
msg_methods_search(struct engine_req *req, json_t *params, void *ctx)
{
	struct core *c = ctx;
	const char *text = json_string_value(json_object_get(params, "text"));
	const char *with = json_string_value(json_object_get(params, "with"));
	struct history_message *list = NULL;
	int64_t conv = 0;
	size_t n = 0;
	struct err e;

	if (!msg_methods_ready(c, req))
		return;
	if (text == NULL || *text == '\0') {
		err_set(&e, ERR_INVALID, "search: \"text\" must be a non-empty string");
		msg_fail(req, &e);
		return;
	}
	if ((with != NULL && msg_methods_conv(c, with, &conv, &e) < 0) ||
	    history_search(c->db, conv, text, MSG_WINDOW_MAX, &list, &n, &e) < 0) {
		msg_fail(req, &e);
		return;
	}
	engine_req_reply(req, json_pack("{s:o}", "messages", msg_methods_array(c->msg, list, n)));
	history_messages_free(list, n);
}

/* --- conversations, contacts --- */

static void
msg_methods_conversations(struct engine_req *req, json_t *params, void *ctx)
{
	struct core *c = ctx;
	struct conversations_entry *convs = NULL;
	struct history_message *last;
	size_t n = 0, nl, i;
	json_t *arr;
	struct err e;

	if (!msg_methods_ready(c, req))
		return;
	if (conversations_list(c->db, &convs, &n, &e) < 0) {
		msg_fail(req, &e);
		return;
	}
	arr = json_array();
	for (i = 0; i < n; i++) {
		last = NULL;
		nl = 0;
		history_page_before(c->db, convs[i].id, 0, 1, &last, &nl, &e);
		json_array_append_new(
		    arr, json_pack("{s:I,s:s,s:s,s:I,s:o,s:s?}", "id", (json_int_t)convs[i].id,
		                   "peer", convs[i].peer, "title",
		                   convs[i].title != NULL ? convs[i].title : convs[i].peer,
		                   "unread", (json_int_t)convs[i].unread, "last_activity_ms",
		                   convs[i].last_activity > 0 ? json_integer(convs[i].last_activity)
		                                              : json_null(),
		                   "last_text", nl > 0 ? last[0].body : NULL));
		history_messages_free(last, nl);
	}
	conversations_list_free(convs, n);
	engine_req_reply(req, json_pack("{s:o}", "conversations", arr));
}

static json_t *
msg_methods_contact(struct core *c, const struct contacts_entry *ce)
{
	struct contacts_device *devs = NULL;
	struct conversations_entry conv;
	int64_t changed = 0, unread = 0, last = 0, conv_id;
	size_t nd = 0, i;
	json_t *jd = json_array();
	struct err e;
	char *key;

	if (contacts_devices(c->db, ce->name, &devs, &nd, &e) == 0)
		for (i = 0; i < nd; i++)
			json_array_append_new(jd, json_integer(devs[i].device_id));
	free(devs);
	key = msg_kv_key("idchanged", ce->name);
	kv_get_int(c->db, key, 0, &changed, &e);
	free(key);
	if (changed == 0) {
		/* A refused key (the old one was verified) is a change too. */
		key = msg_kv_key("untrusted", ce->name);
		kv_get_int(c->db, key, 0, &changed, &e);
		free(key);
	}
	if (conversations_find(c->db, CONVERSATIONS_DIRECT, ce->name, &conv_id, &e) == 0 &&
	    conversations_get(c->db, conv_id, &conv, &e) == 0) {
		unread = conv.unread;
		last = conv.last_activity;
		conversations_entry_clear(&conv);
	}
	return json_pack("{s:s,s:b,s:b,s:o,s:I,s:o}", "name", ce->name, "verified", ce->verified,
	                 "identity_changed", changed != 0, "devices", jd, "unread",
	                 (json_int_t)unread, "last_activity_ms",
	                 last > 0 ? json_integer(last) : json_null());
}

static void
msg_methods_contacts(struct engine_req *req, json_t *params, void *ctx)
{
	struct core *c = ctx;
	struct contacts_entry *list = NULL;
	size_t n = 0, i;
	json_t *arr;
	struct err e;

	if (!msg_methods_ready(c, req))
		return;
	if (contacts_list(c->db, &list, &n, &e) < 0) {
		msg_fail(req, &e);
		return;
	}
	arr = json_array();
	for (i = 0; i < n; i++) {
		/* Our own account is kept as a contact for its device list. */
		if (c->account_name != NULL && strcmp(list[i].name, c->account_name) == 0)
			continue;
		json_array_append_new(arr, msg_methods_contact(c, &list[i]));
	}
	contacts_list_free(list, n);
	engine_req_reply(req, json_pack("{s:o}", "contacts", arr));
}

int
msg_methods_register(struct core *c, struct err *e)
{
	static const struct {
		const char *name;
		engine_method_fn *fn;
	} methods[] = {
	    {"recv", msg_methods_recv},
	    {"history", msg_methods_history},
	    {"messages", msg_methods_messages},
	    {"search", msg_methods_search},
	    {"conversations", msg_methods_conversations},
	    {"contacts", msg_methods_contacts},
	};
	size_t i;

	for (i = 0; i < sizeof methods / sizeof methods[0]; i++)
		if (engine_method_register(c->eng, methods[i].name, methods[i].fn, c, e) < 0)
			return -1;
	return msg_trust_register(c, e);
}

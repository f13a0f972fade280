/* The msg tests' harness (see test_msg_harness.h): stubs for the engine,
 * the transport and account.c, and an in-process relay. */
#include "tests/test_msg_harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/cprov.h"
#include "crypto/e2e.h"
#include "crypto/keygen.h"
#include "store/contacts.h"
#include "store/conversations.h"
#include "store/history.h"
#include "store/outbox.h"
#include "transport.h"

#define must(expr, e)                                                                              \
	do {                                                                                       \
		if ((expr) != 0)                                                                   \
			fail_msg("%s: %s (%s)", #expr, (e).msg, err_code_name((e).code));          \
	} while (0)

struct h_relay h_relay;
signal_context *h_sig;

/* --- engine stubs: methods in a table, answers captured --- */

struct engine {
	int unused;
};

struct engine_req {
	const char *method;
	bool answered;
	json_t *result;
	enum err_code code;
	char msg[256];
};

static struct engine h_engine;

static struct {
	struct core *c;
	char name[32];
	engine_method_fn *fn;
} h_methods[128];
static size_t h_nmethods;

int
engine_method_register(struct engine *eng, const char *name, engine_method_fn *fn, void *ctx,
                       struct err *e)
{
	assert_true(h_nmethods < 128);
	h_methods[h_nmethods].c = ctx;
	snprintf(h_methods[h_nmethods].name, sizeof h_methods[h_nmethods].name, "%s", name);
	h_methods[h_nmethods].fn = fn;
	h_nmethods++;
	return 0;
}

void
engine_req_reply(struct engine_req *req, json_t *result)
{
	assert_false(req->answered);
	req->answered = true;
	req->result = result != NULL ? result : json_null();
}

void
engine_req_fail_err(struct engine_req *req, const struct err *e)
{
	assert_false(req->answered);
	req->answered = true;
	req->code = e->code;
	snprintf(req->msg, sizeof req->msg, "%s", e->msg);
}

const char *
engine_req_method(const struct engine_req *req)
{
	return req->method;
}

uint64_t
engine_emit(struct engine *eng, const char *type, json_t *data)
{
	json_decref(data);
	return 0;
}

uint64_t
engine_emit_lazy(struct engine *eng, const char *type, engine_event_build_fn *build, void *arg)
{
	free(arg);
	return 0;
}

struct lws_context *
engine_lws_context(struct engine *eng)
{
	return NULL;
}

/* Without a loop (engine_lws_context is NULL) the core sets no timers. */
void
engine_timer_schedule(struct engine *eng, struct engine_timer *t, engine_timer_fn *fn,
                      int64_t delay_us)
{
	fail_msg("a timer without an event loop");
}

void
engine_timer_cancel(struct engine *eng, struct engine_timer *t)
{
}

int64_t
engine_now_us(void)
{
	return 0;
}

/* --- transport stubs (the hooks carry the traffic) --- */

enum transport_state
transport_state(const struct transport *tp)
{
	return TRANSPORT_OFFLINE;
}

int
transport_request(struct transport *tp, struct wire_frame *req, transport_reply_fn *cb, void *arg,
                  struct err *e)
{
	return err_set(e, ERR_NETWORK, "no transport in tests");
}

int
transport_ack(struct transport *tp, const uint64_t *ids, size_t n, struct err *e)
{
	return err_set(e, ERR_NETWORK, "no transport in tests");
}

int
transport_resp_err(const struct wire_frame *resp, struct err *e)
{
	int s = resp->u.resp.status;

	if (s == 200)
		return 0;
	return err_set(e,
	               s == 404   ? ERR_NOTFOUND
	               : s == 409 ? ERR_STALE
	               : s == 429 ? ERR_RATE
	               : s >= 500 ? ERR_NETWORK
	                          : ERR_INVALID,
	               "relay said %d", s);
}

/* --- account.c stub: bundles straight from the other party's store --- */

static void
h_fetch_one(struct core *c, struct h_party *to, struct err *e, int *rc)
{
	struct keygen_bundle b;
	uint32_t pk = 0;
	int has = to->ep.handed_out < to->ep.n_prekeys;

	if (*rc < 0)
		return;
	if (has)
		pk = to->ep.prekeys[to->ep.handed_out++].id;
	must(keygen_bundle_from_store(to->ep.store, (int32_t)to->device, has, pk, to->ep.signed_id,
	                              &b, e),
	     *e);
	if (e2e_session_build(c->store, c->sig, to->ep.name, (int32_t)to->device, &b, e) < 0) {
		*rc = -1;
		return;
	}
	must(contacts_ensure(c->db, to->ep.name, e), *e);
	must(contacts_device_set(c->db, to->ep.name, (int32_t)to->device, b.registration_id, e),
	     *e);
}

int
account_fetch_sessions(struct core *c, const char *name, uint32_t device, account_done_fn *done,
                       void *arg, struct err *e)
{
	struct err fe = {0};
	size_t i, found = 0;
	int rc = 0;

	for (i = 0; i < h_relay.np; i++) {
		struct h_party *p = h_relay.parties[i];

		if (p->removed || strcmp(p->ep.name, name) != 0)
			continue;
		if (device != 0 && p->device != device)
			continue;
		if (strcmp(name, c->account_name) == 0 && p->device == c->device_id)
			continue;
		found++;
		h_fetch_one(c, p, &fe, &rc);
	}
	if (found == 0 && strcmp(name, c->account_name) != 0) {
		err_set(&fe, ERR_NOTFOUND, "no account %s", name);
		rc = -1;
	}
	done(c, rc, rc < 0 ? &fe : NULL, arg);
	return 0;
}

/* --- hooks --- */

static void
h_emit(void *arg, const char *type, json_t *data)
{
	struct h_party *p = arg;

	json_array_append_new(p->events, json_pack("{s:s,s:o}", "type", type, "data",
	                                           data != NULL ? data : json_object()));
}

static void
h_ack(void *arg, const uint64_t *ids, size_t n)
{
	struct h_party *p = arg;
	size_t i, k;

	for (i = 0; i < n; i++)
		for (k = 0; k < h_relay.nenv; k++)
			if (h_relay.env[k].to == p && h_relay.env[k].env.id == ids[i])
				h_relay.env[k].acked = true;
	p->n_acks += n;
}

static int
h_request(void *arg, struct wire_frame *f, struct msg_job *job)
{
	struct h_party *p = arg;
	struct h_req *r;
	size_t i, k;

	assert_int_equal(f->type, WIRE_T_SEND_MULTI);
	assert_true(h_relay.nreq < H_MAX_REQ);
	r = &h_relay.req[h_relay.nreq++];
	memset(r, 0, sizeof *r);
	r->from = p;
	r->job = job;
	snprintf(r->msg_id, sizeof r->msg_id, "%s", f->u.req.u.send.msg_id);
	assert_true(wire_msg_id_valid(r->msg_id));
	r->n_sends = f->u.req.u.send.n_sends;
	assert_true(r->n_sends >= 1 && r->n_sends <= 2);
	for (i = 0; i < r->n_sends; i++) {
		const struct wire_send *s = &f->u.req.u.send.sends[i];

		snprintf(r->s[i].to, sizeof r->s[i].to, "%s", s->to);
		assert_true(s->n_messages <= 16);
		for (k = 0; k < s->n_messages; k++) {
			r->s[i].m[k].device = s->messages[k].device;
			r->s[i].m[k].reg = s->messages[k].registration_id;
			r->s[i].m[k].type = (int)s->messages[k].type;
			r->s[i].m[k].ct =
			    xmemdup(s->messages[k].content, s->messages[k].content_len);
			r->s[i].m[k].len = s->messages[k].content_len;
		}
		r->s[i].n = s->n_messages;
	}
	return 0;
}

/* --- the relay --- */

static bool
h_has_device(const struct h_req *r, size_t s, uint32_t device)
{
	size_t k;

	for (k = 0; k < r->s[s].n; k++)
		if (r->s[s].m[k].device == device)
			return true;
	return false;
}

static void
h_answer(struct h_req *r, int status, struct wire_mismatch *mm, size_t nmm)
{
	struct wire_frame resp;

	memset(&resp, 0, sizeof resp);
	resp.kind = WIRE_RESPONSE;
	resp.type = WIRE_T_SEND_MULTI;
	resp.u.resp.status = status;
	resp.u.resp.mismatches = mm;
	resp.u.resp.n_mismatches = nmm;
	msg_send_reply(r->job, &resp, NULL);
}

static void
h_process(struct h_req *r)
{
	struct wire_mismatch mm[2];
	uint32_t lists[2][3][16];
	size_t nmm = 0, i, k, d;
	bool unknown = false;
	struct err e;

	if (h_relay.drop_answer) {
		h_relay.drop_answer = false;
		err_set(&e, ERR_NETWORK, "connection lost");
		msg_send_reply(r->job, NULL, &e);
		return;
	}
	if (h_relay.force_status != 0) {
		int s = h_relay.force_status;

		h_relay.force_status = 0;
		h_answer(r, s, NULL, 0);
		return;
	}
	for (i = 0; i < h_relay.ndone; i++) {
		if (strcmp(h_relay.done_ids[i], r->msg_id) == 0) {
			h_answer(r, 200, NULL, 0); /* idempotent: queue nothing */
			return;
		}
	}
	memset(mm, 0, sizeof mm);
	for (i = 0; i < r->n_sends; i++) {
		struct wire_mismatch *w = &mm[nmm];
		bool self = strcmp(r->s[i].to, r->from->ep.name) == 0, any = false;

		w->missing = lists[i][0];
		w->extra = lists[i][1];
		w->stale = lists[i][2];
		for (d = 0; d < h_relay.np; d++) {
			struct h_party *q = h_relay.parties[d];

			if (q->removed || strcmp(q->ep.name, r->s[i].to) != 0)
				continue;
			any = true;
			if (self && q->device == r->from->device)
				continue;
			if (!h_has_device(r, i, q->device))
				w->missing[w->n_missing++] = q->device;
		}
		if (!any && !self)
			unknown = true;
		for (k = 0; k < r->s[i].n; k++) {
			struct h_party *q = NULL;

			for (d = 0; d < h_relay.np; d++)
				if (!h_relay.parties[d]->removed &&
				    strcmp(h_relay.parties[d]->ep.name, r->s[i].to) == 0 &&
				    h_relay.parties[d]->device == r->s[i].m[k].device)
					q = h_relay.parties[d];
			if (q == NULL || (self && q->device == r->from->device))
				w->extra[w->n_extra++] = r->s[i].m[k].device;
			else if (q->ep.id.registration_id != r->s[i].m[k].reg)
				w->stale[w->n_stale++] = q->device;
		}
		if (w->n_missing + w->n_extra + w->n_stale > 0) {
			snprintf(w->to, sizeof w->to, "%s", r->s[i].to);
			nmm++;
		}
	}
	if (unknown) {
		h_answer(r, 404, NULL, 0);
		return;
	}
	if (nmm > 0) {
		h_answer(r, 409, mm, nmm);
		return;
	}
	for (i = 0; i < r->n_sends; i++) {
		for (k = 0; k < r->s[i].n; k++) {
			struct h_env *env = &h_relay.env[h_relay.nenv];

			assert_true(h_relay.nenv < H_MAX_ENV);
			memset(env, 0, sizeof *env);
			for (d = 0; d < h_relay.np; d++)
				if (strcmp(h_relay.parties[d]->ep.name, r->s[i].to) == 0 &&
				    h_relay.parties[d]->device == r->s[i].m[k].device &&
				    !h_relay.parties[d]->removed)
					env->to = h_relay.parties[d];
			env->env.id = ++h_relay.next_id;
			snprintf(env->env.from, sizeof env->env.from, "%s", r->from->ep.name);
			env->env.from_device = r->from->device;
			env->env.from_registration_id = r->from->ep.id.registration_id;
			env->env.type = (enum wire_msg_type)r->s[i].m[k].type;
			env->env.ts = 1764160000000LL + (int64_t)h_relay.next_id;
			env->env.content = xmemdup(r->s[i].m[k].ct, r->s[i].m[k].len);
			env->env.content_len = r->s[i].m[k].len;
			h_relay.nenv++;
		}
	}
	h_relay.done_ids[h_relay.ndone++] = xstrdup(r->msg_id);
	h_answer(r, 200, NULL, 0);
}

void
h_pump(void)
{
	bool moved = true;
	size_t k, i;

	while (moved) {
		moved = false;
		while (h_relay.next_req < h_relay.nreq) {
			struct h_req *r = &h_relay.req[h_relay.next_req++];

			if (!r->from->online) {
				struct err e;

				err_set(&e, ERR_NETWORK, "connection lost");
				msg_send_reply(r->job, NULL, &e);
			} else {
				h_process(r);
			}
			moved = true;
		}
		for (k = 0; k < h_relay.nenv; k++) {
			struct h_env *env = &h_relay.env[k];

			if (env->delivered || env->acked || env->to == NULL || !env->to->online)
				continue;
			env->delivered = true;
			msg_on_envelope(&env->to->c, &env->env);
			moved = true;
		}
		for (i = 0; i < h_relay.np; i++)
			if (h_relay.parties[i]->online && h_relay.parties[i]->c.msg != NULL &&
			    h_relay.parties[i]->c.msg->batch_open)
				msg_flush(&h_relay.parties[i]->c);
	}
}

void
h_reconnect(struct h_party *p)
{
	size_t k;

	for (k = 0; k < h_relay.nenv; k++)
		if (h_relay.env[k].to == p && !h_relay.env[k].acked)
			h_relay.env[k].delivered = false;
	h_set_online(p, true);
	msg_on_connected(&p->c);
}

/* --- parties --- */

static void
h_hooks(struct h_party *p)
{
	struct msg_hooks hooks = {0};

	hooks.emit = h_emit;
	hooks.ack = h_ack;
	hooks.request = p->online ? h_request : NULL;
	hooks.arg = p;
	msg_set_hooks(&p->c, &hooks);
}

void
h_set_online(struct h_party *p, bool online)
{
	p->online = online;
	h_hooks(p);
}

static void
h_party_start(struct h_party *p)
{
	struct err e;

	p->c.db = p->ep.f->db;
	p->c.sig = p->ep.ctx;
	p->c.store = p->ep.store;
	must(msg_init(&p->c, &e), e);
	h_hooks(p);
	msg_on_unlocked(&p->c);
}

void
h_party_new(struct h_party *p, const char *name, uint32_t device)
{
	memset(p, 0, sizeof *p);
	e2e_party_new(&p->ep, h_sig, name, true, 20);
	p->device = device;
	p->online = true;
	p->events = json_array();
	p->c.eng = &h_engine;
	p->c.account_name = xstrdup(name);
	p->c.device_id = device;
	assert_true(h_relay.np < H_MAX_PARTIES);
	h_relay.parties[h_relay.np++] = p;
	h_party_start(p);
}

static void
h_methods_forget(struct core *c)
{
	size_t i, k = 0;

	for (i = 0; i < h_nmethods; i++)
		if (h_methods[i].c != c)
			h_methods[k++] = h_methods[i];
	h_nmethods = k;
}

void
h_party_restart(struct h_party *p)
{
	msg_free(&p->c);
	h_methods_forget(&p->c);
	e2e_party_reopen(&p->ep);
	h_party_start(p);
}

void
h_party_free(struct h_party *p)
{
	size_t i;

	msg_free(&p->c);
	h_methods_forget(&p->c);
	free(p->c.account_name);
	e2e_party_free(&p->ep);
	json_decref(p->events);
	for (i = 0; i < h_relay.np; i++)
		if (h_relay.parties[i] == p)
			h_relay.parties[i]->removed = true;
}

int
h_setup(void **state)
{
	struct err e;

	memset(&h_relay, 0, sizeof h_relay);
	if (cprov_context_create(&h_sig, &e) < 0)
		return -1;
	return 0;
}

int
h_teardown(void **state)
{
	size_t i, k;

	for (i = 0; i < h_relay.nenv; i++)
		free(h_relay.env[i].env.content);
	for (i = 0; i < h_relay.nreq; i++)
		for (k = 0; k < 2; k++) {
			size_t j;

			for (j = 0; j < h_relay.req[i].s[k].n; j++)
				free(h_relay.req[i].s[k].m[j].ct);
		}
	for (i = 0; i < h_relay.ndone; i++)
		free(h_relay.done_ids[i]);
	memset(&h_relay, 0, sizeof h_relay);
	cprov_context_destroy(h_sig);
	h_sig = NULL;
	return 0;
}

/* --- helpers --- */

int64_t
h_send(struct h_party *p, const char *to, const char *text)
{
	int64_t id = 0;
	struct err e;

	must(msg_send_text(&p->c, to, text, &id, &e), e);
	return id;
}

json_t *
h_call(struct h_party *p, const char *method, json_t *params, enum err_code *code)
{
	struct engine_req req;
	size_t i;

	memset(&req, 0, sizeof req);
	req.method = method;
	for (i = 0; i < h_nmethods; i++)
		if (h_methods[i].c == &p->c && strcmp(h_methods[i].name, method) == 0)
			break;
	if (i == h_nmethods)
		fail_msg("no method %s", method);
	h_methods[i].fn(&req, params, &p->c);
	json_decref(params);
	assert_true(req.answered);
	*code = req.code;
	return req.result;
}

json_t *
h_event(struct h_party *p, const char *type)
{
	json_t *found = NULL, *ev;
	size_t i;

	json_array_foreach(p->events, i, ev)
		if (strcmp(json_string_value(json_object_get(ev, "type")), type) == 0)
			found = json_object_get(ev, "data");
	return found;
}

size_t
h_count_events(struct h_party *p, const char *type)
{
	size_t i, n = 0;
	json_t *ev;

	json_array_foreach(p->events, i, ev)
		if (strcmp(json_string_value(json_object_get(ev, "type")), type) == 0)
			n++;
	return n;
}

void
h_get(struct h_party *p, int64_t id, struct history_message *out)
{
	struct err e;

	must(history_get(p->c.db, id, out, &e), e);
}

size_t
h_history_count(struct h_party *p, const char *peer)
{
	struct history_message *list = NULL;
	int64_t conv;
	size_t n = 0;
	struct err e;

	if (conversations_find(p->c.db, CONVERSATIONS_DIRECT, peer, &conv, &e) < 0)
		return 0;
	must(history_page_before(p->c.db, conv, 0, 100000, &list, &n, &e), e);
	history_messages_free(list, n);
	return n;
}

size_t
h_outbox_pending(struct h_party *p)
{
	struct outbox_item *items = NULL;
	size_t n = 0;
	struct err e;

	must(outbox_list_pending(p->c.db, 100000, &items, &n, &e), e);
	outbox_items_free(items, n);
	return n;
}

/* Sending, the caller's side: the "send" method and msg_send_text (store
 * the outgoing message, start its job), receipts, the relay's answer to a
 * send (200, 409 device-list repair, retryable and final errors), and
 * resuming every queued send after an unlock or a reconnect. */
#include "msg_int.h"

#include <stdlib.h>
#include <string.h>

#include "store/contacts.h"
#include "store/conversations.h"
#include "store/kv.h"
#include "store/outbox.h"
#include "transport.h"

/* Retry delay after a 5xx without retry_after_ms. */
#define MSG_RETRY_MS 5000

static void
msg_send_retry_fire(lws_sorted_usec_list_t *sul)
{
	struct msg_job *job = lws_container_of(sul, struct msg_job, retry_sul);

	job->retry_armed = false;
	msg_job_run(job);
	msg_batch_kick(job->m);
}

static void
msg_send_retry_later(struct msg_job *job, uint64_t ms)
{
	struct lws_context *lws = msg_lws(job->m);

	if (lws == NULL || job->retry_armed)
		return;
	job->retry_armed = true;
	lws_sul_schedule(lws, 0, &job->retry_sul, msg_send_retry_fire,
	                 (lws_usec_t)ms * LWS_US_PER_MS);
}

/* 409: forget devices that are gone, rebuild stale sessions, fetch the
 * missing ones, then encrypt again for those and retry the same msg_id. */
static void
msg_send_mismatch(struct msg_job *job, const struct wire_response *r)
{
	struct msg *m = job->m;
	struct db *db = m->c->db;
	struct outbox_item *rows = NULL;
	size_t n = 0, i, k, x;
	struct err e;

	if (outbox_list_client_id(db, job->client_id, &rows, &n, &e) < 0)
		return;
	for (i = 0; i < r->n_mismatches; i++) {
		const struct wire_mismatch *mm = &r->mismatches[i];
		const char *name = mm->to[0] != '\0' ? mm->to : job->to;

		if (strcmp(name, job->to) != 0 && strcmp(name, m->c->account_name) != 0)
			continue;
		for (k = 0; k < mm->n_extra + mm->n_stale; k++) {
			int32_t dev =
			    (int32_t)(k < mm->n_extra ? mm->extra[k] : mm->stale[k - mm->n_extra]);

			msg_job_forget_session(m, name, dev);
			for (x = 0; x < n; x++)
				if (rows[x].device_id == dev &&
				    strcmp(rows[x].recipient, name) == 0)
					outbox_delete(db, rows[x].id, &e);
			if (k >= mm->n_extra)
				msg_job_want_fetch(job, name, (uint32_t)dev);
		}
		for (k = 0; k < mm->n_missing; k++)
			msg_job_want_fetch(job, name, mm->missing[k]);
	}
	outbox_items_free(rows, n);
}

static void msg_send_reply_in_batch(struct msg_job *job, const struct wire_frame *resp);

/* The contact's device list has this device with this registration id
 * already: a read instead of a write for every answer. */
static bool
msg_send_device_known(struct msg *m, const struct outbox_item *row)
{
	struct contacts_device *devs = NULL;
	size_t n = 0, i;
	bool known = false;
	struct err e;

	if (contacts_devices(m->c->db, row->recipient, &devs, &n, &e) < 0)
		return false;
	for (i = 0; i < n && !known; i++)
		known = devs[i].device_id == row->device_id &&
		        devs[i].registration_id == row->registration_id;
	free(devs);
	return known;
}

void
msg_send_reply(struct msg_job *job, const struct wire_frame *resp, const struct err *resp_err)
{
	struct msg *m = job->m;

	job->in_flight = false;
	if (resp == NULL) {
		/* Lost on the way: it stays queued and goes again on connect
		 * (same bytes, same msg_id: the relay deduplicates). */
		(void)resp_err;
		return;
	}
	/* What the answer changes (rows sent, states, device lists) joins
	 * the write batch: one commit for many answers. */
	msg_batch_join(m, MSG_BATCH_LAZY, NULL);
	msg_send_reply_in_batch(job, resp);
	msg_batch_kick(m);
}

static void
msg_send_reply_in_batch(struct msg_job *job, const struct wire_frame *resp)
{
	struct msg *m = job->m;
	struct outbox_item *rows = NULL;
	const struct wire_response *r;
	size_t n = 0, i;
	struct err e;

	r = &resp->u.resp;
	if (r->status == 200) {
		if (outbox_list_client_id(m->c->db, job->client_id, &rows, &n, &e) == 0) {
			for (i = 0; i < n; i++) {
				/* The relay has it: the ciphertext goes. */
				outbox_delete(m->c->db, rows[i].id, &e);
				/* The relay just confirmed this device list. */
				if (!msg_send_device_known(m, &rows[i]) &&
				    contacts_ensure(m->c->db, rows[i].recipient, &e) == 0)
					contacts_device_set(m->c->db, rows[i].recipient,
					                    rows[i].device_id,
					                    rows[i].registration_id, &e);
			}
			outbox_items_free(rows, n);
		}
		if (job->unsent_listed)
			msg_job_unsent_update(m->c->db, job->history_id, false, &e);
		msg_job_set_state(job, HISTORY_SENT);
		msg_job_finish(job, NULL);
		return;
	}
	transport_resp_err(resp, &e);
	switch (r->status) {
	case 409:
		if (++job->mismatch_tries > MSG_MISMATCH_TRIES) {
			err_set(&e, ERR_STALE, "send: the device list of %s keeps changing",
			        job->to);
			msg_job_fail(job, &e);
			return;
		}
		job->fetch_rounds = 0;
		msg_send_mismatch(job, r);
		msg_job_run(job);
		return;
	case 429:
	case 500:
	case 502:
	case 503:
	case 504:
		msg_send_retry_later(job, r->has_retry_after ? r->retry_after_ms : MSG_RETRY_MS);
		return;
	default:
		/* 404: the account is gone; 400/413: we cannot fix it by
		 * retrying. */
		msg_job_fail(job, &e);
		return;
	}
}

/* --- text --- */

/* Store the message in the write batch and start its job, which
 * encrypts it in the same batch; it goes to the relay once the batch
 * commits, together with the "message" event. The job, or NULL when it
 * is already over. */
static struct msg_job *
msg_send_store(struct core *c, const char *to, const char *text, int64_t *history_id, struct err *e)
{
	struct msg *m = c->msg;
	struct history_message h;
	char client_id[WIRE_MSG_ID_MAX + 1];
	struct msg_job *job;
	int64_t conv, id;
	bool blocked;

	if (c->db == NULL || c->account_name == NULL) {
		err_set(e, ERR_AUTH, "send: no account yet: register or unlock first");
		return NULL;
	}
	if (to == NULL || !wire_name_valid(to)) {
		err_set(e, ERR_INVALID, "send: \"%s\" is not an account name",
		        to != NULL ? to : "");
		return NULL;
	}
	if (text == NULL || strlen(text) > CONTENT_BODY_MAX) {
		err_set(e, ERR_TOOLARGE, "send: a message holds at most %d bytes",
		        CONTENT_BODY_MAX);
		return NULL;
	}
	if (msg_untrusted(m, to, &blocked, e) < 0)
		return NULL;
	if (blocked) {
		err_set(e, ERR_UNTRUSTED,
		        "send: the identity key of %s changed after you verified it; "
		        "compare safety numbers, then run trust",
		        to);
		return NULL;
	}
	msg_new_id(client_id);
	memset(&h, 0, sizeof h);
	h.sender_name = c->account_name;
	h.sender_device = (int32_t)c->device_id;
	h.client_id = client_id;
	h.body = (char *)text;
	/* No savepoint of its own: after a failure the batch keeps at most a
	 * contact and a conversation that were ensured, which is harmless. */
	if (msg_batch_join(m, MSG_BATCH_SEND, e) < 0)
		return NULL;
	if (contacts_ensure(c->db, to, e) < 0 || conversations_direct(c->db, to, &conv, e) < 0)
		return NULL;
	h.conversation_id = conv;
	if (history_insert_outgoing(c->db, &h, &id, e) < 0)
		return NULL;
	*history_id = id;
	job = msg_job_new(m, MSG_JOB_TEXT, client_id, id, to);
	job->announce = true;
	msg_batch_remember_job(job);
	msg_job_run(job);
	/* msg_job_run may have failed it (and freed it). */
	return msg_job_find_history(m, id);
}

int
msg_send_text(struct core *c, const char *to, const char *text, int64_t *history_id, struct err *e)
{
	*history_id = 0;
	msg_send_store(c, to, text, history_id, e); /* its job runs on its own */
	if (c->msg != NULL)
		msg_batch_kick(c->msg);
	return *history_id != 0 ? 0 : -1;
}

void
msg_send_wait_remove(struct msg_job *job)
{
	struct msg *m = job->m;

	if (!job->waiting || m == NULL)
		return;
	job->waiting = false;
	if (job->wait_prev != NULL)
		job->wait_prev->wait_next = job->wait_next;
	else
		m->waits = job->wait_next;
	if (job->wait_next != NULL)
		job->wait_next->wait_prev = job->wait_prev;
	else
		m->waits_tail = job->wait_prev;
	job->wait_prev = job->wait_next = NULL;
	/* The timer stays armed for the old head; it re-arms when it fires. */
}

static void msg_send_wait_fire(lws_sorted_usec_list_t *sul);

static void
msg_send_wait_arm(struct msg *m)
{
	struct lws_context *lws = msg_lws(m);
	lws_usec_t now;

	if (m->waits == NULL || lws == NULL)
		return;
	now = lws_now_usecs();
	m->waits_armed = true;
	lws_sul_schedule(lws, 0, &m->waits_sul, msg_send_wait_fire,
	                 m->waits->wait_due > now ? m->waits->wait_due - now : 1);
}

/* Answer every call whose wait is over "sending" (queued, it goes out
 * later), then wait for the next. */
static void
msg_send_wait_fire(lws_sorted_usec_list_t *sul)
{
	struct msg *m = lws_container_of(sul, struct msg, waits_sul);
	lws_usec_t now = lws_now_usecs();
	struct msg_job *job;

	m->waits_armed = false;
	while ((job = m->waits) != NULL && job->wait_due <= now) {
		msg_send_wait_remove(job);
		msg_job_answer(job, NULL);
	}
	msg_send_wait_arm(m);
}

/* Answer the job's call when the relay acks, or "sending" after
 * MSG_SEND_WAIT_MS. Every wait is as long, so the list stays in order. */
static void
msg_send_wait_add(struct msg_job *job, struct engine_req *req)
{
	struct msg *m = job->m;

	job->req = req;
	job->waiting = true;
	job->wait_due = lws_now_usecs() + (lws_usec_t)MSG_SEND_WAIT_MS * LWS_US_PER_MS;
	job->wait_next = NULL;
	job->wait_prev = m->waits_tail;
	if (m->waits_tail != NULL)
		m->waits_tail->wait_next = job;
	else
		m->waits = job;
	m->waits_tail = job;
	if (!m->waits_armed)
		msg_send_wait_arm(m);
}

static void
msg_send_method(struct engine_req *req, json_t *params, void *ctx)
{
	struct core *c = ctx;
	const char *to = json_string_value(json_object_get(params, "to"));
	json_t *jtext = json_object_get(params, "text");
	struct history_message h;
	struct lws_context *lws;
	struct msg_job *job;
	struct err e;
	int64_t id;

	if (!json_is_string(jtext) ||
	    strlen(json_string_value(jtext)) != json_string_length(jtext)) {
		err_set(&e, ERR_INVALID, "send: \"text\" must be a string without NUL");
		msg_fail(req, &e);
		return;
	}
	id = 0;
	job = msg_send_store(c, to, json_string_value(jtext), &id, &e);
	if (id == 0) {
		msg_batch_kick(c->msg);
		msg_fail(req, &e);
		return;
	}
	lws = msg_lws(c->msg);
	if (job != NULL && lws != NULL && json_is_true(json_object_get(params, "queue"))) {
		/* Answered "sending" once the batch holding it commits. */
		job->req = req;
		job->answer_on_commit = true;
		return;
	}
	if (job != NULL && lws != NULL) {
		msg_send_wait_add(job, req);
		return;
	}
	msg_batch_kick(c->msg);
	if (history_get(c->db, id, &h, &e) < 0) {
		msg_fail(req, &e);
		return;
	}
	engine_req_reply(req, json_pack("{s:o}", "message", msg_json_message(c->msg, &h, to)));
	history_message_clear(&h);
}

/* --- receipts --- */

void
msg_send_receipt(struct msg *m, const char *peer, enum content_receipt r, char **ids, size_t n)
{
	char client_id[WIRE_MSG_ID_MAX + 1];
	struct msg_job *job;
	struct content *ct;
	size_t i, start, chunk;

	if (m->c->db == NULL || n == 0 || !wire_name_valid(peer))
		return;
	for (start = 0; start < n; start += chunk) {
		chunk = n - start > CONTENT_IDS_MAX ? CONTENT_IDS_MAX : n - start;
		msg_new_id(client_id);
		ct = xcalloc(1, sizeof *ct);
		ct->kind = CONTENT_RECEIPT;
		ct->id = xstrdup(client_id);
		ct->ts = db_now_ms(m->c->db);
		ct->receipt = r;
		ct->ids = xcalloc(chunk, sizeof *ct->ids);
		for (i = 0; i < chunk; i++)
			ct->ids[i] = xstrdup(ids[start + i]);
		ct->n_ids = chunk;
		job = msg_job_new(m, MSG_JOB_RECEIPT, client_id, 0, peer);
		job->content = ct;
		msg_job_run(job);
	}
}

void
msg_send_repair(struct msg *m, const char *peer, uint32_t device, uint64_t envelope_id)
{
	char client_id[WIRE_MSG_ID_MAX + 1];
	char *key = xasprintf("msg.repair.%s.%u", peer, device);
	int64_t last = 0, now;
	struct msg_job *job;
	struct content *ct;
	struct err e;

	now = db_now_ms(m->c->db);
	if (kv_get_int(m->c->db, key, 0, &last, &e) < 0 ||
	    (last != 0 && now - last < MSG_REPAIR_INTERVAL_MS && now >= last) ||
	    kv_set_int(m->c->db, key, now, &e) < 0) {
		free(key);
		return;
	}
	free(key);
	msg_new_id(client_id);
	ct = xcalloc(1, sizeof *ct);
	ct->kind = CONTENT_REPAIR;
	ct->id = xstrdup(client_id);
	ct->ts = now;
	ct->envelope_ids = xmemdup(&envelope_id, sizeof envelope_id);
	ct->n_envelope_ids = 1;
	job = msg_job_new(m, MSG_JOB_RECEIPT, client_id, 0, peer);
	job->content = ct;
	msg_job_want_fetch(job, peer, device);
	msg_job_run(job);
}

/* --- resuming --- */

/* Jobs for everything queued: pending outbox rows (grouped by msg_id) and
 * messages stored but never encrypted. */
void
msg_send_load(struct msg *m)
{
	struct core *c = m->c;
	struct outbox_item *rows = NULL;
	struct history_message h;
	struct conversations_entry conv;
	size_t n = 0, i;
	json_t *list, *v;
	const char *to;
	struct err e;

	if (outbox_list_pending(c->db, MSG_LIST_MAX, &rows, &n, &e) == 0) {
		for (i = 0; i < n; i++) {
			if (msg_job_find(m, rows[i].client_id) != NULL)
				continue;
			to = rows[i].recipient;
			/* A text's first row may be a copy for our own device. */
			if (rows[i].message_id != 0 && strcmp(to, c->account_name) == 0 &&
			    history_get(c->db, rows[i].message_id, &h, &e) == 0) {
				if (conversations_get(c->db, h.conversation_id, &conv, &e) == 0) {
					msg_job_new(m, MSG_JOB_TEXT, rows[i].client_id,
					            rows[i].message_id, conv.peer);
					conversations_entry_clear(&conv);
				}
				history_message_clear(&h);
				continue;
			}
			msg_job_new(m, rows[i].message_id != 0 ? MSG_JOB_TEXT : MSG_JOB_RECEIPT,
			            rows[i].client_id, rows[i].message_id, to);
		}
		outbox_items_free(rows, n);
	}
	if (msg_job_unsent_load(c->db, &list, &e) < 0)
		return;
	json_array_foreach(list, i, v) {
		if (history_get(c->db, json_integer_value(v), &h, &e) < 0) {
			/* Deleted meanwhile: nothing left to send. */
			if (e.code == ERR_NOTFOUND)
				msg_job_unsent_update(c->db, json_integer_value(v), false, &e);
			continue;
		}
		if (h.client_id != NULL && msg_job_find(m, h.client_id) == NULL &&
		    conversations_get(c->db, h.conversation_id, &conv, &e) == 0) {
			msg_job_new(m, MSG_JOB_TEXT, h.client_id, h.id, conv.peer)->unsent_listed =
			    true;
			conversations_entry_clear(&conv);
		}
		history_message_clear(&h);
	}
	json_decref(list);
	msg_send_flush(m);
}

void
msg_send_flush(struct msg *m)
{
	struct msg_job *job, *next;

	/* msg_job_run may finish (free) the job it is given. */
	for (job = m->jobs; job != NULL; job = next) {
		next = job->next;
		job->fetch_rounds = 0;
		msg_job_run(job);
	}
	msg_batch_kick(m);
}

void
msg_send_free_all(struct msg *m)
{
	struct msg_job *job, *next;
	struct err e;

	err_set(&e, ERR_NETWORK, "send: the engine is stopping; the message stays queued");
	for (job = m->jobs; job != NULL; job = next) {
		next = job->next;
		msg_job_answer(job, &e);
		msg_job_unlink(job);
		job->m = NULL;
		/* A callback still owes us an answer: it frees the job. */
		if (!job->in_flight)
			msg_job_free(job);
	}
	m->jobs = m->jobs_tail = NULL;
	if (m->waits_armed)
		lws_sul_cancel(&m->waits_sul);
	m->waits_armed = false;
	m->waits = m->waits_tail = NULL;
}

int
msg_send_register(struct core *c, struct err *e)
{
	return engine_method_register(c->eng, "send", msg_send_method, c, e);
}

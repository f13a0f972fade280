/* Send jobs: one per client msg_id takes a message from its history row
 * to the relay. It finds every device of the recipient and our other
 * devices, fetches bundles for the ones without a session, encrypts and
 * queues the exact ciphertexts in the outbox in the transaction that
 * stores the ratchet, and sends them all in one send.multi (msg_send.c
 * handles the answer). */
#include "msg_int.h"

#include <stdlib.h>
#include <string.h>

#include "crypto/e2e.h"
#include "store/contacts.h"
#include "store/conversations.h"
#include "store/kv.h"
#include "store/outbox.h"
#include "transport.h"

#define MSG_UNSENT_KEY "msg.unsent"
#define MSG_FETCH_ROUNDS 3

/* One device a job must reach. */
struct msg_target {
	const char *name; /* borrowed: job->to or the account name */
	int32_t device;
	bool has_row;
	bool has_session;
};

/* --- the list of messages stored but not yet encrypted (kv) --- */

int
msg_job_unsent_load(struct db *db, json_t **out, struct err *e)
{
	unsigned char *blob = NULL;
	size_t len = 0;

	*out = NULL;
	if (kv_get_blob(db, MSG_UNSENT_KEY, &blob, &len, e) < 0) {
		if (e->code != ERR_NOTFOUND)
			return -1;
		*out = json_array();
		return 0;
	}
	*out = json_loadb((const char *)blob, len, 0, NULL);
	free(blob);
	if (!json_is_array(*out)) {
		json_decref(*out);
		*out = json_array(); /* unreadable: start over, nothing to resume */
	}
	return 0;
}

static int
msg_job_unsent_store(struct db *db, json_t *list, struct err *e)
{
	char *s = json_dumps(list, JSON_COMPACT);
	int r;

	if (s == NULL)
		return err_set(e, ERR_INTERNAL, "cannot serialize the unsent list");
	r = kv_set_blob(db, MSG_UNSENT_KEY, s, strlen(s), e);
	free(s);
	return r;
}

int
msg_job_unsent_update(struct db *db, int64_t id, bool add, struct err *e)
{
	json_t *list, *v;
	size_t i;
	int r;

	if (msg_job_unsent_load(db, &list, e) < 0)
		return -1;
	json_array_foreach(list, i, v) {
		if (json_integer_value(v) == id) {
			if (add) {
				json_decref(list);
				return 0;
			}
			json_array_remove(list, i);
			break;
		}
	}
	if (add)
		json_array_append_new(list, json_integer(id));
	r = msg_job_unsent_store(db, list, e);
	json_decref(list);
	return r;
}

/* --- jobs --- */

struct msg_job *
msg_job_new(struct msg *m, enum msg_job_kind kind, const char *client_id, int64_t history_id,
            const char *to)
{
	struct msg_job *job = xcalloc(1, sizeof *job);

	job->m = m;
	job->kind = kind;
	snprintf(job->client_id, sizeof job->client_id, "%s", client_id);
	job->history_id = history_id;
	job->to = xstrdup(to);
	job->prev = m->jobs_tail;
	if (m->jobs_tail != NULL)
		m->jobs_tail->next = job;
	else
		m->jobs = job;
	m->jobs_tail = job;
	return job;
}

struct msg_job *
msg_job_find(struct msg *m, const char *client_id)
{
	struct msg_job *job;

	for (job = m->jobs; job != NULL; job = job->next)
		if (strcmp(job->client_id, client_id) == 0)
			return job;
	return NULL;
}

struct msg_job *
msg_job_find_history(struct msg *m, int64_t id)
{
	struct msg_job *job;

	for (job = m->jobs_tail; job != NULL; job = job->prev)
		if (job->history_id == id)
			return job;
	return NULL;
}

void
msg_job_free(struct msg_job *job)
{
	if (job->m != NULL) {
		job->m->moved = true;
		if (job->behind)
			job->m->n_behind--;
	}
	msg_batch_forget_job(job);
	msg_send_wait_remove(job);
	if (job->retry_armed)
		lws_sul_cancel(&job->retry_sul);
	free(job->to);
	if (job->content != NULL) {
		content_clear(job->content);
		free(job->content);
	}
	free(job->fetch_names);
	free(job->fetch_devices);
	free(job);
}

void
msg_job_unlink(struct msg_job *job)
{
	struct msg *m = job->m;

	if (m == NULL)
		return;
	if (job->prev != NULL)
		job->prev->next = job->next;
	else
		m->jobs = job->next;
	if (job->next != NULL)
		job->next->prev = job->prev;
	else
		m->jobs_tail = job->prev;
	job->prev = job->next = NULL;
}

/* The job's message as the contract shows it; NULL for receipts. */
static json_t *
msg_job_message(struct msg_job *job)
{
	struct history_message h;
	struct err e;
	json_t *o;

	if (job->history_id == 0 || job->m->c->db == NULL ||
	    history_get(job->m->c->db, job->history_id, &h, &e) < 0)
		return NULL;
	o = msg_json_message(job->m, &h, job->to);
	history_message_clear(&h);
	return o;
}

/* Answer the waiting "send" call with the message as it stands. */
void
msg_job_answer(struct msg_job *job, const struct err *fail)
{
	struct engine_req *req = job->req;
	json_t *msg;

	if (req == NULL)
		return;
	job->req = NULL;
	msg_send_wait_remove(job);
	if (fail != NULL) {
		msg_fail(req, fail);
		return;
	}
	msg = msg_job_message(job);
	engine_req_reply(req, json_pack("{s:o}", "message", msg != NULL ? msg : json_null()));
}

/* The job is over (sent, or failed for good): drop it. Newer messages to
 * the same peer that waited for it to encrypt go on. */
void
msg_job_finish(struct msg_job *job, const struct err *fail)
{
	struct msg *m = job->m;
	bool queued = job->queued;
	char *to = xstrdup(job->to);

	msg_job_answer(job, fail);
	msg_job_unlink(job);
	msg_job_free(job);
	if (m != NULL && !queued)
		msg_job_kick(m, to);
	free(to);
}

void
msg_job_set_state(struct msg_job *job, enum history_state state)
{
	struct msg *m = job->m;
	bool changed = false;
	struct err e;

	if (job->history_id == 0 ||
	    history_set_state(m->c->db, job->history_id, state, &changed, &e) < 0 || !changed)
		return;
	msg_emit(m, "message.state",
	         json_pack("{s:I,s:s,s:s}", "id", (json_int_t)job->history_id, "msg_id",
	                   job->client_id, "state", msg_json_state(state, HISTORY_OUT)));
}

/* Give up on a send: the message is marked failed, its ciphertexts are
 * dropped, and the caller learns why. */
static void msg_job_forget_unknown(struct msg *m, const char *name);

void
msg_job_fail(struct msg_job *job, const struct err *why)
{
	struct db *db = job->m->c->db;
	struct outbox_item *rows = NULL;
	size_t n = 0, i;
	struct err e;

	if (db != NULL && outbox_list_client_id(db, job->client_id, &rows, &n, &e) == 0) {
		for (i = 0; i < n; i++)
			outbox_delete(db, rows[i].id, &e);
		outbox_items_free(rows, n);
	}
	if (db != NULL && job->history_id != 0) {
		msg_job_unsent_update(db, job->history_id, false, &e);
		msg_job_set_state(job, HISTORY_FAILED);
		if (why != NULL && why->code == ERR_NOTFOUND)
			msg_job_forget_unknown(job->m, job->to);
	}
	msg_job_finish(job, why);
}

/* The relay knows no such account: a mistyped name should not leave a
 * contact and a conversation behind, unless there is more in it than
 * messages that failed for that reason. */
static void
msg_job_forget_unknown(struct msg *m, const char *name)
{
	struct db *db = m->c->db;
	struct history_message *list = NULL;
	struct contacts_device *devs = NULL;
	size_t n = 0, nd = 0, i;
	bool only_failed = true;
	struct err e;
	int64_t conv;

	if (strcmp(name, m->c->account_name) == 0 ||
	    contacts_devices(db, name, &devs, &nd, &e) < 0 || nd > 0 ||
	    e2e_has_session(m->c->store, name, 1, NULL) != 0) {
		free(devs);
		return;
	}
	if (conversations_find(db, CONVERSATIONS_DIRECT, name, &conv, &e) == 0) {
		if (history_page_before(db, conv, 0, 100, &list, &n, &e) < 0)
			return;
		for (i = 0; i < n; i++)
			if (list[i].direction != HISTORY_OUT || list[i].state != HISTORY_FAILED)
				only_failed = false;
		history_messages_free(list, n);
		if (!only_failed || n >= 100)
			return;
		conversations_delete(db, conv, &e);
	}
	contacts_delete(db, name, &e);
}

/* --- devices and sessions --- */

static void
msg_targets_add(struct msg_target **t, size_t *n, const char *name, int32_t device)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if ((*t)[i].device == device && strcmp((*t)[i].name, name) == 0)
			return;
	*t = xreallocarray(*t, *n + 1, sizeof **t);
	memset(&(*t)[*n], 0, sizeof **t);
	(*t)[*n].name = name;
	(*t)[*n].device = device;
	(*n)++;
}

/* Every device of name we know: the contact's device list and every
 * device we hold a session with (account.c records either). */
static int
msg_targets_of(struct msg *m, const char *name, struct msg_target **t, size_t *n, struct err *e)
{
	struct contacts_device *devs = NULL;
	int32_t *sessions = NULL;
	size_t nd = 0, ns = 0, i;
	bool self = strcmp(name, m->c->account_name) == 0;

	if (contacts_devices(m->c->db, name, &devs, &nd, e) < 0)
		return -1;
	for (i = 0; i < nd; i++)
		if (!(self && (uint32_t)devs[i].device_id == m->c->device_id))
			msg_targets_add(t, n, name, devs[i].device_id);
	free(devs);
	/* A device we hold a session with but the list lacks still gets the
	 * message; a failure to list only narrows the targets (the relay's
	 * 409 names what is missing). */
	if (e2e_session_devices(m->c->store, name, &sessions, &ns, e) == 0)
		for (i = 0; i < ns; i++)
			if (sessions[i] > 0 && !(self && (uint32_t)sessions[i] == m->c->device_id))
				msg_targets_add(t, n, name, sessions[i]);
	free(sessions);
	return 0;
}

static bool
msg_targets_have(const struct msg_target *t, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(t[i].name, name) == 0)
			return true;
	return false;
}

void
msg_job_forget_session(struct msg *m, const char *name, int32_t device)
{
	struct err e;

	e2e_session_delete(m->c->store, name, device, &e);
	contacts_device_remove(m->c->db, name, device, &e);
}

void
msg_job_want_fetch(struct msg_job *job, const char *name, uint32_t device)
{
	size_t i;

	for (i = 0; i < job->n_fetch; i++)
		if (job->fetch_devices[i] == device && strcmp(job->fetch_names[i], name) == 0)
			return;
	job->fetch_names =
	    xreallocarray(job->fetch_names, job->n_fetch + 1, sizeof *job->fetch_names);
	job->fetch_devices =
	    xreallocarray(job->fetch_devices, job->n_fetch + 1, sizeof *job->fetch_devices);
	/* Names point at job->to or the account name, which outlive this. */
	job->fetch_names[job->n_fetch] =
	    strcmp(name, job->to) == 0 ? job->to : job->m->c->account_name;
	job->fetch_devices[job->n_fetch] = device;
	job->n_fetch++;
}

static void
msg_job_fetched(struct core *c, int rc, const struct err *e, void *arg)
{
	struct msg_job *job = arg;

	job->pending_fetches--;
	if (rc < 0 && job->fetch_failed == 0) {
		job->fetch_failed = e != NULL ? (int)e->code : ERR_NETWORK;
		snprintf(job->fetch_msg, sizeof job->fetch_msg, "%s",
		         e != NULL ? e->msg : "fetching keys failed");
	}
	if (job->pending_fetches > 0)
		return;
	job->in_flight = false;
	if (job->m == NULL) { /* the core went away meanwhile */
		msg_job_free(job);
		return;
	}
	if (job->fetch_failed != 0) {
		struct err why;

		err_set(&why, (enum err_code)job->fetch_failed, "%s", job->fetch_msg);
		job->fetch_failed = 0;
		if (why.code == ERR_UNTRUSTED) {
			char *key = msg_kv_key("untrusted", job->to);
			struct err ke;

			/* account.c told frontends already. */
			kv_set_int(c->db, key, 1, &ke);
			free(key);
			msg_job_fail(job, &why);
			return;
		}
		if (why.code == ERR_NOTFOUND || why.code == ERR_INVALID || why.code == ERR_CRYPTO) {
			msg_job_fail(job, &why);
			return;
		}
		/* Network trouble or rate limits: try again on the next connect. */
		return;
	}
	msg_identity_sweep(job->m, false);
	msg_job_run(job);
}

/* account.c's callback: msg_job_fetched, then commit what it wrote when
 * there is no loop to do it. */
static void
msg_job_fetch_done(struct core *c, int rc, const struct err *e, void *arg)
{
	msg_job_fetched(c, rc, e, arg);
	if (c->msg != NULL)
		msg_batch_kick(c->msg);
}

static int
msg_job_start_fetches(struct msg_job *job)
{
	struct core *c = job->m->c;
	size_t i, n = job->n_fetch;
	struct err e;
	int started = 0;

	job->n_fetch = 0;
	job->fetch_rounds++;
	job->in_flight = true;
	job->pending_fetches = (int)n + 1; /* held until every fetch is started */
	for (i = 0; i < n; i++) {
		if (account_fetch_sessions(c, job->fetch_names[i], job->fetch_devices[i],
		                           msg_job_fetch_done, job, &e) < 0) {
			job->pending_fetches--;
			if (job->fetch_failed == 0) {
				job->fetch_failed = (int)e.code;
				snprintf(job->fetch_msg, sizeof job->fetch_msg, "%s", e.msg);
			}
		} else {
			started++;
		}
	}
	/* Drop the hold; runs the completion if no fetch is outstanding. */
	msg_job_fetched(c, 0, NULL, job);
	return started;
}

/* --- encryption --- */

static enum wire_msg_type
msg_wire_type(enum e2e_type t)
{
	return t == E2E_PREKEY ? WIRE_MSG_PREKEY : WIRE_MSG_NORMAL;
}

/* The padded content for the peer's devices and for our own (sent_to). */
static int
msg_job_plaintexts(struct msg_job *job, uint8_t **pt_to, size_t *len_to, uint8_t **pt_self,
                   size_t *len_self, struct err *e)
{
	struct history_message h;
	struct content c;
	int r;

	*pt_to = *pt_self = NULL;
	if (job->kind == MSG_JOB_RECEIPT) {
		if (job->content == NULL)
			return err_set(e, ERR_NOTFOUND, "the receipt's content is gone");
		return content_encode(job->content, pt_to, len_to, e);
	}
	if (history_get(job->m->c->db, job->history_id, &h, e) < 0)
		return -1;
	memset(&c, 0, sizeof c);
	c.kind = CONTENT_TEXT;
	c.id = job->client_id;
	c.ts = h.sent_at;
	c.body = h.body;
	r = content_encode(&c, pt_to, len_to, e);
	if (r == 0) {
		c.sent_to = job->to;
		r = content_encode(&c, pt_self, len_self, e);
		if (r < 0) {
			free(*pt_to);
			*pt_to = NULL;
		}
	}
	history_message_clear(&h);
	return r;
}

/* Encrypt for every target without an outbox row, queue the ciphertexts
 * and take the message off the unsent list, all in one transaction with
 * the ratchet advances. */
static int
msg_job_encrypt(struct msg_job *job, struct msg_target *t, size_t n, struct err *e)
{
	struct core *c = job->m->c;
	uint8_t *pt_to = NULL, *pt_self = NULL, *ct = NULL, *pt;
	size_t len_to = 0, len_self = 0, ct_len, len, i;
	struct outbox_item item;
	enum e2e_type type;
	uint32_t reg;
	bool own;

	if (msg_job_plaintexts(job, &pt_to, &len_to, &pt_self, &len_self, e) < 0)
		return -1;
	/* Alone it is one transaction. Inside the write batch no savepoint
	 * (SQLCipher encrypts every page it journals): what a failure
	 * halfway leaves is harmless, ratchet steps with their rows, each
	 * row sent, and at worst a step with no row, which the peer skips
	 * like a lost message. */
	own = !job->m->batch_open;
	if (own && db_begin(c->db, e) < 0)
		goto fail_free;
	for (i = 0; i < n; i++) {
		if (t[i].has_row)
			continue;
		if (strcmp(t[i].name, job->to) != 0 && pt_self != NULL) {
			pt = pt_self;
			len = len_self;
		} else {
			pt = pt_to;
			len = len_to;
		}
		if (e2e_encrypt(c->store, c->sig, t[i].name, t[i].device, pt, len, &type, &ct,
		                &ct_len, e) < 0)
			goto fail;
		if (e2e_remote_registration_id(c->store, c->sig, t[i].name, t[i].device, &reg, e) <
		    0) {
			free(ct);
			goto fail;
		}
		memset(&item, 0, sizeof item);
		item.client_id = job->client_id;
		item.message_id = job->history_id;
		item.recipient = (char *)t[i].name;
		item.device_id = t[i].device;
		item.registration_id = reg;
		item.msg_type = (int)msg_wire_type(type);
		item.ciphertext = ct;
		item.ciphertext_len = ct_len;
		if (outbox_enqueue(c->db, &item, NULL, e) < 0) {
			free(ct);
			goto fail;
		}
		free(ct);
		t[i].has_row = true;
	}
	if (job->unsent_listed && msg_job_unsent_update(c->db, job->history_id, false, e) < 0)
		goto fail;
	if (own && db_commit(c->db, e) < 0)
		goto fail_free;
	job->unsent_listed = false;
	/* Not durable before the batch commits: send only then. */
	job->wait_commit = job->m->batch_open;
	if (job->wait_commit)
		msg_batch_remember_job(job);
	free(pt_to);
	free(pt_self);
	return 0;
fail:
	if (own)
		db_rollback(c->db, NULL);
fail_free:
	free(pt_to);
	free(pt_self);
	return -1;
}

/* --- the relay request --- */

static void
msg_job_relay_cb(void *arg, const struct wire_frame *resp, const struct err *resp_err)
{
	struct msg_job *job = arg;

	job->in_flight = false;
	if (job->m == NULL) {
		msg_job_free(job);
		return;
	}
	msg_send_reply(job, resp, resp_err);
}

/* One send.multi with every stored ciphertext of the job. A text also
 * names our own account (even with no other device), so that the relay
 * tells us about devices of ours we do not know yet. */
static int
msg_job_transmit(struct msg_job *job, struct err *e)
{
	struct msg *m = job->m;
	struct core *c = m->c;
	struct outbox_item *rows = NULL;
	struct wire_send sends[2];
	struct wire_frame f;
	size_t n = 0, i, k;
	int r;

	if (outbox_list_client_id(c->db, job->client_id, &rows, &n, e) < 0)
		return -1;
	/* The attempt counters are bookkeeping: they ride on the next batch
	 * commit instead of one commit per row. */
	msg_batch_join(m, MSG_BATCH_LAZY, NULL);
	memset(sends, 0, sizeof sends);
	memset(&f, 0, sizeof f);
	snprintf(sends[0].to, sizeof sends[0].to, "%s", job->to);
	snprintf(sends[1].to, sizeof sends[1].to, "%s", c->account_name);
	f.kind = WIRE_REQUEST;
	f.type = WIRE_T_SEND_MULTI;
	snprintf(f.u.req.u.send.msg_id, sizeof f.u.req.u.send.msg_id, "%s", job->client_id);
	f.u.req.u.send.sends = sends;
	f.u.req.u.send.n_sends =
	    job->kind == MSG_JOB_TEXT && strcmp(job->to, c->account_name) != 0 ? 2 : 1;
	for (k = 0; k < 2; k++)
		sends[k].messages = xcalloc(n + 1, sizeof *sends[k].messages);
	for (i = 0; i < n; i++) {
		struct wire_message *wm;

		k = strcmp(rows[i].recipient, job->to) == 0 ? 0 : 1;
		if (k >= f.u.req.u.send.n_sends)
			continue;
		wm = &sends[k].messages[sends[k].n_messages++];
		wm->device = (uint32_t)rows[i].device_id;
		wm->registration_id = rows[i].registration_id;
		wm->type = (enum wire_msg_type)rows[i].msg_type;
		wm->content = rows[i].ciphertext;
		wm->content_len = rows[i].ciphertext_len;
		outbox_note_attempt(c->db, rows[i].id, NULL);
	}
	job->in_flight = true;
	if (m->has_hooks)
		r = m->hooks.request != NULL ? m->hooks.request(m->hooks.arg, &f, job)
		                             : err_set(e, ERR_NETWORK, "offline");
	else
		r = transport_request(c->tp, &f, msg_job_relay_cb, job, e);
	if (r < 0)
		job->in_flight = false;
	for (k = 0; k < 2; k++)
		free(sends[k].messages);
	outbox_items_free(rows, n);
	return r;
}

/* A text stored but not encrypted yet: remember it across a restart. In
 * the write batch of the history insert when it is new, so both or
 * neither are stored. */
static void
msg_job_list_unsent(struct msg_job *job)
{
	struct err e;

	if (job->kind != MSG_JOB_TEXT || job->history_id == 0 || job->unsent_listed)
		return;
	if (msg_job_unsent_update(job->m->c->db, job->history_id, true, &e) == 0)
		job->unsent_listed = true;
}

static void msg_job_step(struct msg_job *job);

/* Messages to one peer are encrypted in the order they were written, so
 * the relay queues them, and the peer shows them, in that order; and a
 * burst to a new contact fetches its keys once, for the first message,
 * not once per message. True while an older job to the same peer has
 * not queued its ciphertexts. Jobs get queued only in that order, so the
 * nearest older one to the peer says it for all of them. */
static bool
msg_job_behind(const struct msg_job *job)
{
	const struct msg_job *o;

	for (o = job->prev; o != NULL; o = o->prev)
		if (strcmp(o->to, job->to) == 0)
			return !o->queued;
	return false;
}

/* Run the jobs to `to` that waited behind an older one, oldest first, as
 * long as each gets queued or goes away. The list is searched afresh
 * each time: running a job may free jobs (its own, or others through a
 * commit), so no pointer into it is kept across a run. Only jobs that
 * found themselves behind are looked for, so a peer nobody waits for
 * costs nothing here. */
void
msg_job_kick(struct msg *m, const char *to)
{
	struct msg_job *job;

	/* An outer kick is already walking the list. */
	if (m->kicking || m->n_behind == 0)
		return;
	m->kicking = true;
	for (;;) {
		for (job = m->jobs; job != NULL; job = job->next)
			if (!job->queued && strcmp(job->to, to) == 0)
				break;
		if (job == NULL || !job->behind)
			break;
		m->moved = false;
		msg_job_run(job);
		if (!m->moved)
			break; /* it waits for keys, the relay or a commit */
	}
	m->kicking = false;
}

void
msg_job_run(struct msg_job *job)
{
	struct msg *m = job->m;

	m->busy++;
	msg_job_step(job);
	m->busy--;
}

/* Take the job as far as it can go now: find devices, fetch what is
 * missing (connected only), encrypt what is not queued, send. */
static void
msg_job_step(struct msg_job *job)
{
	struct msg *m = job->m;
	struct core *c = m->c;
	struct msg_target *t = NULL;
	struct outbox_item *rows = NULL;
	size_t n = 0, nrows = 0, i, j;
	bool need_encrypt = false, can_encrypt;
	char *kick_to = NULL;
	struct err e;

	/* Encrypted in the open batch: it goes out when that commits. */
	if (job->in_flight || job->wait_commit || c->db == NULL || c->account_name == NULL)
		return;
	if (!job->queued && msg_job_behind(job)) {
		if (!job->behind) {
			job->behind = true;
			m->n_behind++;
		}
		return;
	}
	if (job->behind) {
		job->behind = false;
		m->n_behind--;
	}
	if (msg_targets_of(m, job->to, &t, &n, &e) < 0)
		goto park;
	if (job->kind == MSG_JOB_TEXT && strcmp(job->to, c->account_name) != 0 &&
	    msg_targets_of(m, c->account_name, &t, &n, &e) < 0)
		goto park;
	if (outbox_list_client_id(c->db, job->client_id, &rows, &nrows, &e) < 0)
		goto park;
	for (i = 0; i < nrows; i++)
		msg_targets_add(&t, &n,
		                strcmp(rows[i].recipient, job->to) == 0 ? job->to : c->account_name,
		                rows[i].device_id);
	can_encrypt = job->kind == MSG_JOB_TEXT || job->content != NULL;
	for (i = 0; i < n; i++) {
		for (j = 0; j < nrows; j++)
			if (rows[j].device_id == t[i].device &&
			    strcmp(rows[j].recipient, t[i].name) == 0)
				t[i].has_row = true;
		if (t[i].has_row || !can_encrypt)
			continue;
		if (e2e_has_session(c->store, t[i].name, t[i].device, &e) == 1)
			t[i].has_session = true;
		else
			msg_job_want_fetch(job, t[i].name, (uint32_t)t[i].device);
		need_encrypt = true;
	}
	outbox_items_free(rows, nrows);
	rows = NULL;
	/* Nobody known at all for the peer: ask the relay for every device. */
	if (can_encrypt && !msg_targets_have(t, n, job->to) &&
	    strcmp(job->to, c->account_name) != 0)
		msg_job_want_fetch(job, job->to, 0);
	if (job->n_fetch > 0) {
		if (!msg_connected(m))
			goto park;
		if (job->fetch_rounds >= MSG_FETCH_ROUNDS) {
			err_set(&e, ERR_NOSESSION,
			        "send: no session with %s after fetching its keys", job->to);
			free(t);
			msg_job_fail(job, &e);
			return;
		}
		free(t);
		msg_job_list_unsent(job);
		msg_job_start_fetches(job);
		return;
	}
	if (need_encrypt && msg_job_encrypt(job, t, n, &e) < 0) {
		free(t);
		if (e.code == ERR_NOSPACE || e.code == ERR_BUSY || e.code == ERR_IO) {
			msg_job_list_unsent(job);
			return; /* try again later */
		}
		msg_job_fail(job, &e);
		return;
	}
	/* Newer messages to the peer waiting for this one may follow, once
	 * this one is on its way (sent after it, they queue after it). */
	if (!job->queued) {
		job->queued = true;
		m->moved = true;
		if (m->n_behind > 0 && !m->kicking)
			kick_to = xstrdup(job->to);
	}
	if (!msg_targets_have(t, n, job->to) && job->kind == MSG_JOB_RECEIPT) {
		free(t);
		msg_job_finish(job, NULL); /* nobody to tell; may free job */
		goto out;
	}
	free(t);
	if (msg_connected(m) && !job->wait_commit && msg_job_transmit(job, &e) < 0 &&
	    e.code != ERR_NETWORK)
		msg_job_fail(job, &e);
out:
	if (kick_to != NULL) {
		msg_job_kick(m, kick_to);
		free(kick_to);
	}
	return;
park:
	free(t);
	outbox_items_free(rows, nrows);
	msg_job_list_unsent(job);
}

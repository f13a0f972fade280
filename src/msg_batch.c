/* The write batch: one open SQLCipher transaction that the envelopes
 * received and the messages sent since it opened share, committed when
 * msg_batch_clock.c says: at once for a lone send or live envelope, after
 * a pause in a backlog's burst, with the next of a stream of sends, or
 * when full or old. Nothing resting on it reaches the relay before its
 * commit; msg_recv_flush commits it and then acks, announces and sends. */
#include "msg_int.h"

#include <stdlib.h>
#include <string.h>

static void
msg_batch_fire(struct engine_timer *t)
{
	struct msg *m = lws_container_of(t, struct msg, batch_timer);

	m->batch_clock.armed = false;
	msg_recv_flush(m);
}

void
msg_batch_arm(struct msg *m, enum msg_batch_why why)
{
	int64_t now;

	if (msg_lws(m) == NULL)
		return; /* msg_batch_kick commits at the end of the entry point */
	now = engine_now_us();
	if (msg_batch_clock_join(&m->batch_clock, why, now))
		engine_timer_schedule(m->c->eng, &m->batch_timer, msg_batch_fire,
		                      m->batch_clock.due_us - now);
}

void
msg_batch_cancel(struct msg *m)
{
	if (m->batch_clock.armed)
		engine_timer_cancel(m->c->eng, &m->batch_timer);
	msg_batch_clock_reset(&m->batch_clock);
}

int
msg_batch_join(struct msg *m, enum msg_batch_why why, struct err *e)
{
	struct err local;

	if (!m->batch_open) {
		if (m->c->db == NULL || db_begin(m->c->db, e != NULL ? e : &local) < 0)
			return -1;
		m->batch_open = true;
	}
	msg_batch_arm(m, why);
	return 0;
}

void
msg_batch_kick(struct msg *m)
{
	if (!m->batch_open || m->busy > 0 || m->flushing || msg_lws(m) != NULL ||
	    (m->has_hooks && m->hooks.manual_flush))
		return;
	msg_recv_flush(m);
}

/* A text stored in the batch is announced now that it is durable. */
static void
msg_batch_announce(struct msg_job *job)
{
	struct msg *m = job->m;
	struct history_message h;
	struct err e;

	if (history_get(m->c->db, job->history_id, &h, &e) < 0)
		return;
	msg_json_emit_snapshot(m, msg_json_snapshot(m, &h, job->to));
	msg_methods_new_message(m, &h);
	history_message_clear(&h);
}

void
msg_batch_remember_job(struct msg_job *job)
{
	struct msg *m = job->m;

	if (job->pending)
		return;
	if (m->n_pending == m->cap_pending) {
		m->cap_pending = m->cap_pending ? 2 * m->cap_pending : 64;
		m->pending = xreallocarray(m->pending, m->cap_pending, sizeof *m->pending);
	}
	m->pending[m->n_pending++] = job;
	job->pending = true;
}

void
msg_batch_forget_job(struct msg_job *job)
{
	struct msg *m = job->m;
	size_t i;

	if (!job->pending || m == NULL)
		return;
	job->pending = false;
	for (i = m->n_pending; i-- > 0;) {
		if (m->pending[i] == job) {
			m->pending[i] = m->pending[--m->n_pending];
			return;
		}
	}
}

/* Take the pending list over: what runs next may add to a new one. */
static struct msg_job **
msg_batch_take_pending(struct msg *m, size_t *n)
{
	struct msg_job **list = m->pending;
	size_t i;

	*n = m->n_pending;
	m->pending = NULL;
	m->n_pending = m->cap_pending = 0;
	for (i = 0; i < *n; i++)
		list[i]->pending = false;
	return list;
}

void
msg_batch_committed(struct msg *m)
{
	struct msg_job **list, *job;
	size_t n, i;

	/* Each job was added once, and msg_job_run frees at most the job it
	 * is given: the others in the list stay valid. */
	list = msg_batch_take_pending(m, &n);
	for (i = 0; i < n; i++) {
		job = list[i];
		if (job->announce) {
			job->announce = false;
			msg_batch_announce(job);
		}
		if (job->answer_on_commit) {
			job->answer_on_commit = false;
			msg_job_answer(job, NULL);
		}
		if (job->wait_commit) {
			job->wait_commit = false;
			msg_job_run(job);
		}
	}
	free(list);
}

void
msg_batch_dropped(struct msg *m, const struct err *why)
{
	struct msg_job **list, *job;
	size_t n, i;

	list = msg_batch_take_pending(m, &n);
	for (i = 0; i < n; i++) {
		job = list[i];
		if (!job->announce && job->kind != MSG_JOB_RECEIPT) {
			/* An older text: encrypted again on its next run. */
			job->wait_commit = false;
			continue;
		}
		/* Its history row (or its receipt's rows) went with the batch. */
		job->announce = job->wait_commit = false;
		msg_job_answer(job, why);
		msg_job_unlink(job);
		if (job->in_flight)
			job->m = NULL; /* the pending callback frees it */
		else
			msg_job_free(job);
	}
	free(list);
}

/* --- delivered receipts --- */

static void
msg_batch_rcpt_fire(struct engine_timer *t)
{
	struct msg *m = lws_container_of(t, struct msg, rcpt_timer);

	m->rcpt_armed = false;
	msg_batch_receipts_send(m);
}

void
msg_batch_receipt_add(struct msg *m, const char *peer, const char *id)
{
	bool loop = msg_lws(m) != NULL;

	m->rcpt_peer = xreallocarray(m->rcpt_peer, m->n_rcpt + 1, sizeof *m->rcpt_peer);
	m->rcpt_id = xreallocarray(m->rcpt_id, m->n_rcpt + 1, sizeof *m->rcpt_id);
	m->rcpt_peer[m->n_rcpt] = xstrdup(peer);
	m->rcpt_id[m->n_rcpt] = xstrdup(id);
	m->n_rcpt++;
	if (loop && !m->rcpt_armed && m->n_rcpt < CONTENT_IDS_MAX) {
		m->rcpt_armed = true;
		engine_timer_schedule(m->c->eng, &m->rcpt_timer, msg_batch_rcpt_fire,
		                      MSG_RECEIPT_DELAY_US);
	}
}

void
msg_batch_receipts_send(struct msg *m)
{
	char **peer = m->rcpt_peer, **id = m->rcpt_id, **ids;
	size_t n = m->n_rcpt, i, k, nids;

	if (m->rcpt_armed)
		engine_timer_cancel(m->c->eng, &m->rcpt_timer);
	m->rcpt_armed = false;
	m->rcpt_peer = m->rcpt_id = NULL;
	m->n_rcpt = 0;
	/* Encrypted in the batch, sent when it commits. */
	if (n > 0 && m->c->db != NULL && msg_batch_join(m, MSG_BATCH_SOON, NULL) == 0) {
		ids = xcalloc(n, sizeof *ids);
		for (i = 0; i < n; i++) {
			if (peer[i] == NULL)
				continue;
			nids = 0;
			for (k = i; k < n; k++) {
				if (peer[k] == NULL || strcmp(peer[k], peer[i]) != 0)
					continue;
				ids[nids++] = id[k];
				if (k != i) {
					free(peer[k]);
					peer[k] = NULL;
				}
			}
			msg_send_receipt(m, peer[i], CONTENT_RECEIPT_DELIVERED, ids, nids);
		}
		free(ids);
		msg_batch_kick(m);
	}
	for (i = 0; i < n; i++) {
		free(peer[i]);
		free(id[i]);
	}
	free(peer);
	free(id);
}

/* sotto-relay's group commit: answers held until what they report is on
 * disk, the batch of one service pass committed at once, and the work
 * (pushes, notices) that waits for the same moment. */
#include "relay/server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The connection an answer is for. Held answers point at their
 * connection, and a closing connection clears those pointers (see
 * server_conn_free), so this is not a walk over every connection: with
 * thousands connected, that walk per answer dominated. */
static struct server_conn *
server_pending_conn(const struct server_pending *p)
{
	return p->conn != NULL && p->conn->serial == p->conn_serial ? p->conn : NULL;
}

static struct server_pending *
server_pending_add(struct server *s, struct server_conn *c, uint64_t id, enum wire_type type)
{
	struct server_pending *p = xcalloc(1, sizeof *p);

	p->conn_serial = c->serial;
	p->conn = c;
	p->in_batch = rstore_batch_is_open(s->store);
	p->gen = s->batch_gen;
	p->req_id = id;
	p->type = type;
	if (s->pend_open == NULL)
		s->pend_open = p;
	if (s->pend_tail != NULL)
		s->pend_tail->next = p;
	else
		s->pend_head = p;
	s->pend_tail = p;
	return p;
}

void
server_answer(struct server *s, struct server_conn *c, uint64_t id, enum wire_type type, char *text,
              size_t len)
{
	struct server_pending *p = server_pending_add(s, c, id, type);

	p->text = text;
	p->len = len;
}

void
server_answer_error(struct server *s, struct server_conn *c, uint64_t id, enum wire_type type,
                    int status, const char *error, const char *message, int64_t retry_after_ms)
{
	size_t len;
	char *text = wire_build_error(id, type, status, error, message, retry_after_ms, &len);

	server_answer(s, c, id, type, text, len);
}

struct server_pending *
server_last_pending(struct server *s)
{
	return s->pend_tail;
}

void
server_close_after_commit(struct server *s, struct server_conn *c, int code)
{
	struct server_pending *p = server_pending_add(s, c, 0, WIRE_T_NONE);

	p->close_code = code;
}

/* The batch of the current generation is lost: its answers become 503. */
static void
server_batch_failed(struct server *s)
{
	struct server_pending *p;
	struct server_conn *c;

	for (p = s->pend_head; p != NULL; p = p->next) {
		if (!p->in_batch || p->gen != s->batch_gen)
			continue;
		p->in_batch = 0;
		if (p->text == NULL) {
			p->close_code = 0; /* a removal that did not happen */
			continue;
		}
		free(p->text);
		p->text = wire_build_error(p->req_id, p->type, 503, "unavailable",
		                           "the relay could not store this; retry", 1000, &p->len);
		if (p->unauth_on_failure && (c = server_pending_conn(p)) != NULL) {
			c->authed = 0;
			p->close_code = 1011;
		}
	}
	s->batch_gen++;
}

void
server_batch_abort(struct server *s)
{
	rstore_batch_rollback(s->store);
	server_batch_failed(s);
}

/* Send the answers whose fsync is done, in the order they were queued,
 * and do the work of the connections whose rows are now on disk. */
static void
server_release(struct server *s)
{
	struct server_pending *p;
	struct server_conn *c;
	uint64_t done;
	int64_t bound;
	size_t i, kept = 0;
	int error;

	if (s->sync != NULL) {
		error = server_sync_poll(s->sync, &done, &bound);
		if (error != 0) {
			/* What the log holds is unknown now: answer nothing more,
			 * as after kill -9; clients retry against a restart. */
			fprintf(stderr, "sotto-relay: fsync of the log failed: %s; exiting\n",
			        strerror(error));
			_exit(1);
		}
		if (done == s->sync_done && !s->release_due)
			return;
		s->sync_done = done;
		s->durable_id = bound;
	}
	s->release_due = 0;
	while ((p = s->pend_head) != NULL && p->sync_gen != 0 && p->sync_gen <= s->sync_done) {
		s->pend_head = p->next;
		if (s->pend_head == NULL)
			s->pend_tail = NULL;
		if ((c = server_pending_conn(p)) != NULL) {
			if (p->text != NULL)
				server_conn_send_text(c, p->text, p->len);
			if (p->close_code != 0)
				server_conn_close(c, p->close_code);
		}
		free(p->text);
		free(p);
	}
	/* Work after the answers it follows. A connection with work from
	 * later commits too (a busy recipient is touched by every batch) is
	 * pumped now for what is on disk and kept for the rest. */
	for (i = 0; i < s->n_touched; i++) {
		if ((c = s->touched[i]) == NULL)
			continue; /* closed meanwhile */
		if (c->touch_first != 0 && c->touch_first <= s->sync_done) {
			c->delivering = c->authed;
			if (c->check_keys_low)
				server_push_keys_low(c);
			if (c->wake)
				server_push_pump(c);
			c->touch_first = c->touch_last > s->sync_done ? c->touch_last : 0;
			if (c->touch_first == 0)
				c->wake = 0; /* all it was woken for is on disk and seen */
		}
		if (c->touch_first != 0 || c->touch_open)
			s->touched[kept++] = c;
		else
			c->touched = 0;
	}
	s->n_touched = kept;
}

void
server_commit(struct server *s)
{
	struct server_pending *p;
	struct err e = {0};
	int64_t last = s->durable_id;
	int work = s->pend_open != NULL, ride;
	uint64_t gen = 0;
	size_t i;

	if (rstore_batch_is_open(s->store)) {
		work = 1;
		if (rstore_batch_commit(s->store, &e) < 0) {
			fprintf(stderr, "sotto-relay: commit failed: %s\n", e.msg);
			server_batch_failed(s);
		} else {
			s->batch_gen++;
		}
	}
	for (i = 0; i < s->n_touched && !work; i++)
		work = s->touched[i] != NULL && s->touched[i]->touch_open;
	/* Acks alone (or answers with nothing written) ride on the last
	 * fsync asked for; anything else is covered by the next one. */
	ride = !s->batch_needs_disk && s->sync != NULL && s->sync_asked > 0;
	s->batch_needs_disk = 0;
	if (work && ride) {
		gen = s->sync_asked;
		if (gen <= s->sync_done)
			s->release_due = 1;
	} else if (work) {
		if (rstore_queue_last_id(s->store, &last, &e) < 0)
			fprintf(stderr, "sotto-relay: %s\n", e.msg);
		gen = ++s->sync_asked;
		s->committed_id = last;
	}
	if (work) {
		/* Connections already being fed get what is committed now,
		 * without waiting for the fsync (see committed_id): new
		 * envelopes, or more after an ack opened the window. One whose
		 * answer must go out first is fed on release. */
		for (i = 0; i < s->n_touched; i++) {
			struct server_conn *c = s->touched[i];
			if (c != NULL && c->touch_open && c->wake && c->delivering)
				server_push_pump(c);
		}
		for (p = s->pend_open; p != NULL; p = p->next)
			p->sync_gen = gen;
		s->pend_open = NULL;
		for (i = 0; i < s->n_touched; i++) {
			struct server_conn *c = s->touched[i];
			if (c == NULL || !c->touch_open)
				continue;
			c->touch_open = 0;
			if (c->touch_first == 0)
				c->touch_first = gen;
			c->touch_last = gen;
		}
		if (ride) {
			/* nothing to ask */
		} else if (s->sync != NULL) {
			server_sync_ask(s->sync, gen, last);
		} else {
			s->sync_done = gen;
			s->durable_id = last;
		}
	}
	server_release(s);
}

void
server_commit_wait(struct server *s)
{
	server_commit(s);
	if (s->sync != NULL) {
		server_sync_wait(s->sync);
		server_release(s);
	}
}

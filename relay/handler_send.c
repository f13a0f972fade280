/* send / send.multi (all-or-nothing, device-list checked, idempotent by
 * msg_id) and ack. A send is answered only after its envelopes commit. */
#include "relay/handler.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
handler_send_ok(struct server *s, struct server_conn *c, const struct wire_frame *f, int64_t ts)
{
	struct wire_frame resp;

	memset(&resp, 0, sizeof resp);
	resp.kind = WIRE_RESPONSE;
	resp.id = f->id;
	resp.type = f->type;
	resp.u.resp.status = 200;
	resp.u.resp.ts = ts;
	handler_answer(s, c, &resp);
}

/* A retried send: answer the recorded result. Returns 1 if answered. */
static int
handler_send_replay(struct server *s, struct server_conn *c, const struct wire_frame *f)
{
	uint8_t *result = NULL;
	size_t len = 0;
	struct err e = {0};
	char buf[32];
	int64_t ts;

	if (rstore_send_lookup(s->store, c->account, c->device, f->u.req.u.send.msg_id, &result,
	                       &len, &e) < 0) {
		if (e.code == ERR_NOTFOUND)
			return 0;
		handler_store_error(s, c, f, &e);
		return 1;
	}
	/* We record the server timestamp as decimal text. */
	if (len == 0 || len >= sizeof buf) {
		free(result);
		server_answer_error(s, c, f->id, f->type, 500, "internal", "bad stored result", -1);
		return 1;
	}
	memcpy(buf, result, len);
	buf[len] = '\0';
	free(result);
	ts = strtoll(buf, NULL, 10);
	handler_send_ok(s, c, f, ts);
	return 1;
}

static void
handler_send_mismatch_free(struct wire_mismatch *mm, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(mm[i].missing);
		free(mm[i].extra);
		free(mm[i].stale);
	}
	free(mm);
}

/* Check every recipient's device list. Returns 0 when all match; else
 * answers 404 / 409 / an error and returns -1. */
static int
handler_send_check(struct server *s, struct server_conn *c, const struct wire_frame *f)
{
	const struct wire_send *sends = f->u.req.u.send.sends;
	size_t n_sends = f->u.req.u.send.n_sends, i, j;
	char(*unknown)[WIRE_NAME_MAX + 1] = xcalloc(n_sends, sizeof *unknown);
	struct wire_mismatch *mm = xcalloc(n_sends, sizeof *mm);
	size_t n_unknown = 0, n_mm = 0;
	struct rstore_target *targets;
	struct rstore_mismatch m;
	struct wire_frame resp;
	struct err e = {0};
	int rc = 0;

	for (i = 0; i < n_sends && rc == 0; i++) {
		const struct wire_send *sd = &sends[i];
		uint32_t skip = strcmp(sd->to, c->account) == 0 ? c->device : 0;
		targets = xcalloc(sd->n_messages, sizeof *targets);
		for (j = 0; j < sd->n_messages; j++) {
			targets[j].device_id = sd->messages[j].device;
			targets[j].registration_id = sd->messages[j].registration_id;
		}
		memset(&m, 0, sizeof m);
		if (rstore_device_check(s->store, sd->to, skip, targets, sd->n_messages, &m, &e) <
		    0) {
			if (e.code == ERR_NOTFOUND) {
				snprintf(unknown[n_unknown++], WIRE_NAME_MAX + 1, "%s", sd->to);
			} else {
				handler_store_error(s, c, f, &e);
				rc = -2;
			}
		} else if (!rstore_device_mismatch_empty(&m)) {
			struct wire_mismatch *w = &mm[n_mm++];
			snprintf(w->to, sizeof w->to, "%s", f->type == WIRE_T_SEND ? "" : sd->to);
			w->missing = xmemdup(m.missing, m.n_missing * sizeof *m.missing);
			w->n_missing = m.n_missing;
			w->extra = xmemdup(m.extra, m.n_extra * sizeof *m.extra);
			w->n_extra = m.n_extra;
			w->stale = xmemdup(m.stale, m.n_stale * sizeof *m.stale);
			w->n_stale = m.n_stale;
			rstore_device_mismatch_free(&m);
		} else {
			rstore_device_mismatch_free(&m);
		}
		free(targets);
	}
	if (rc == 0 && n_unknown > 0) {
		if (f->type == WIRE_T_SEND) {
			server_answer_error(s, c, f->id, f->type, 404, "not_found",
			                    "no such account", -1);
		} else {
			memset(&resp, 0, sizeof resp);
			resp.kind = WIRE_RESPONSE;
			resp.id = f->id;
			resp.type = f->type;
			resp.u.resp.status = 404;
			strcpy(resp.u.resp.error, "not_found");
			strcpy(resp.u.resp.message, "no such account");
			resp.u.resp.unknown = unknown;
			resp.u.resp.n_unknown = n_unknown;
			handler_answer(s, c, &resp);
		}
		rc = -1;
	} else if (rc == 0 && n_mm > 0) {
		memset(&resp, 0, sizeof resp);
		resp.kind = WIRE_RESPONSE;
		resp.id = f->id;
		resp.type = f->type;
		resp.u.resp.status = 409;
		strcpy(resp.u.resp.error, "mismatched_devices");
		strcpy(resp.u.resp.message, "the device list changed");
		resp.u.resp.mismatches = mm;
		resp.u.resp.n_mismatches = n_mm;
		handler_answer(s, c, &resp);
		rc = -1;
	}
	handler_send_mismatch_free(mm, n_mm);
	free(unknown);
	return rc == 0 ? 0 : -1;
}

void
handler_send(struct server *s, struct server_conn *c, const struct wire_frame *f)
{
	const struct wire_send *sends = f->u.req.u.send.sends;
	size_t n_sends = f->u.req.u.send.n_sends, i, j, n_to = 0;
	struct rstore_recipient *to = xcalloc(n_sends, sizeof *to);
	struct rstore_outgoing *out;
	struct server_conn *rc;
	struct err e = {0};
	int64_t ts = server_now_ms();
	char tsbuf[32];
	int failed = 0;

	/* A full recipient queue needs no check of its own: the store
	 * refuses the whole send (ERR_LIMIT below) and keeps the rest of the
	 * batch. */
	if (handler_send_replay(s, c, f) || handler_send_check(s, c, f) < 0 ||
	    handler_batch_begin(s, c, f) < 0) {
		free(to);
		return;
	}
	for (i = 0; i < n_sends; i++) {
		if (sends[i].n_messages == 0)
			continue; /* one's own account with no other device */
		out = xcalloc(sends[i].n_messages, sizeof *out);
		for (j = 0; j < sends[i].n_messages; j++) {
			out[j].device_id = sends[i].messages[j].device;
			out[j].type = (int)sends[i].messages[j].type;
			out[j].content = sends[i].messages[j].content;
			out[j].content_len = sends[i].messages[j].content_len;
		}
		to[n_to].account = sends[i].to;
		to[n_to].msgs = out;
		to[n_to].n = sends[i].n_messages;
		n_to++;
	}
	/* All-or-nothing across every recipient: a refusal leaves nothing of
	 * this request in the batch. */
	if (n_to > 0 &&
	    rstore_queue_send_multi(s->store, c->account, c->device, to, n_to, &ts, &e) < 0) {
		failed = 1;
		if (e.code == ERR_LIMIT)
			server_answer_error(s, c, f->id, f->type, 503, "queue_full",
			                    "a recipient's queue is full", 60000);
		else if (e.code == ERR_TOOLARGE)
			server_answer_error(s, c, f->id, f->type, 413, "too_large", e.msg, -1);
		else if (e.code == ERR_NOTFOUND)
			server_answer_error(s, c, f->id, f->type, 409, "mismatched_devices",
			                    "the device list changed; fetch it again", -1);
		else
			handler_store_error(s, c, f, &e);
	}
	for (i = 0; i < n_to; i++)
		free((void *)to[i].msgs);
	free(to);
	if (failed)
		return;
	for (i = 0; i < n_sends; i++)
		for (j = 0; j < sends[i].n_messages; j++)
			if ((rc = server_conn_find(s, sends[i].to, sends[i].messages[j].device)) !=
			    NULL)
				rc->wake = 1;
	snprintf(tsbuf, sizeof tsbuf, "%" PRId64, ts);
	if (rstore_send_record(s->store, c->account, c->device, f->u.req.u.send.msg_id, tsbuf,
	                       strlen(tsbuf), &e) < 0) {
		server_batch_abort(s);
		handler_store_error(s, c, f, &e);
		return;
	}
	handler_send_ok(s, c, f, ts);
}

void
handler_send_ack(struct server *s, struct server_conn *c, const struct wire_frame *f)
{
	const uint64_t *ids = f->u.req.u.ack.ids;
	size_t n = f->u.req.u.ack.n_ids, i, k;
	struct wire_frame resp;
	struct err e = {0};
	int64_t *del;

	if (handler_batch_begin(s, c, f) < 0)
		return;
	del = xcalloc(n, sizeof *del);
	for (i = 0; i < n; i++)
		del[i] = (int64_t)ids[i];
	if (rstore_queue_delete(s->store, c->account, c->device, del, n, NULL, &e) < 0) {
		free(del);
		server_batch_abort(s);
		handler_store_error(s, c, f, &e);
		return;
	}
	free(del);
	/* The window opens for what this connection had in flight. */
	for (i = 0; i < n; i++) {
		for (k = 0; k < c->n_inflight; k++) {
			if (c->inflight[k] == (int64_t)ids[i]) {
				c->inflight[k] = c->inflight[--c->n_inflight];
				break;
			}
		}
	}
	c->wake = 1;
	memset(&resp, 0, sizeof resp);
	resp.kind = WIRE_RESPONSE;
	resp.id = f->id;
	resp.type = f->type;
	resp.u.resp.status = 200;
	handler_answer(s, c, &resp);
}

/* sotto-relay's delivery: envelopes pushed from a device's queue within
 * the window (only those known durable), through the chaos decision when
 * enabled, and the prekeys-low notice. */
#include "relay/server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Chaos timer: a held push is released, or a delayed one is due. */
void
server_push_chaos_timer(lws_sorted_usec_list_t *sul)
{
	struct server_conn *c = lws_container_of(sul, struct server_conn, chaos_sul);

	if (c->held != NULL) {
		server_conn_out_append(c, c->held);
		c->held = NULL;
	}
	lws_callback_on_writable(c->wsi);
}

/* Queue one envelope push, through the chaos decision when enabled.
 * Returns 1 if it went out (or will), 0 if chaos dropped it. */
static int
server_push_envelope(struct server_conn *c, const char *text, size_t len)
{
	struct server *s = c->srv;
	struct chaos_decision d;
	struct server_out *o = server_conn_out_new(text, len);
	lws_usec_t hold_us;

	if (!s->chaos_on) {
		server_conn_out_append(c, o);
		return 1;
	}
	chaos_decide(&s->chaos, &d);
	if (d.delay_ms > 0)
		o->due_us = lws_now_usecs() + (lws_usec_t)d.delay_ms * 1000;
	switch (d.action) {
	case CHAOS_DROP:
		free(o);
		return 0;
	case CHAOS_DUPLICATE:
		server_conn_out_append(c, server_conn_out_new(text, len));
		c->out_tail->due_us = o->due_us;
		break;
	case CHAOS_HOLD:
		if (c->held == NULL) {
			c->held = o;
			hold_us = (lws_usec_t)(d.delay_ms > 0 ? d.delay_ms : 1000) * 1000;
			lws_sul_schedule(s->ctx, 0, &c->chaos_sul, server_push_chaos_timer,
			                 hold_us);
			return 1;
		}
		break;
	case CHAOS_SEND:
		break;
	}
	server_conn_out_append(c, o);
	if (c->held != NULL) {
		server_conn_out_append(c, c->held);
		c->held = NULL;
	}
	return 1;
}

void
server_push_pump(struct server_conn *c)
{
	struct server *s = c->srv;
	struct rstore_envelope *env;
	struct wire_frame f;
	struct err e = {0};
	size_t n, i, want;
	char *text;
	size_t len;

	/* c->wake stays: a refill from here sees only what is on disk, and
	 * the release of a later fsync still has to look (server_release). */
	if (!c->authed || !c->delivering || c->closing)
		return;
	while (c->n_inflight < WIRE_WINDOW && c->out_bytes < SERVER_OUT_HIGH) {
		want = WIRE_WINDOW - c->n_inflight;
		if (want > 32)
			want = 32;
		/* Only what is committed: the open batch's rows have higher
		 * ids. */
		if (rstore_queue_fetch_upto(s->store, c->account, c->device, c->last_pushed,
		                            s->committed_id, want, &env, &n, &e) < 0) {
			fprintf(stderr, "sotto-relay: queue of %s.%u: %s\n", c->account, c->device,
			        e.msg);
			return;
		}
		for (i = 0; i < n; i++) {
			memset(&f, 0, sizeof f);
			f.kind = WIRE_PUSH;
			f.push = WIRE_P_ENVELOPE;
			f.u.push.envelope.id = (uint64_t)env[i].id;
			snprintf(f.u.push.envelope.from, sizeof f.u.push.envelope.from, "%s",
			         env[i].sender);
			f.u.push.envelope.from_device = env[i].sender_device;
			f.u.push.envelope.from_registration_id = env[i].sender_registration_id;
			f.u.push.envelope.type = (enum wire_msg_type)env[i].type;
			f.u.push.envelope.ts = env[i].server_ts_ms;
			f.u.push.envelope.content = env[i].content;
			f.u.push.envelope.content_len = env[i].content_len;
			c->last_pushed = env[i].id;
			text = wire_build(&f, &len, &e);
			if (text == NULL) {
				/* Cannot happen for what our send path stored. */
				fprintf(stderr, "sotto-relay: envelope %lld unsendable: %s\n",
				        (long long)env[i].id, e.msg);
				continue;
			}
			if (c->inflight == NULL)
				c->inflight = xcalloc(WIRE_WINDOW, sizeof *c->inflight);
			if (server_push_envelope(c, text, len))
				c->inflight[c->n_inflight++] = env[i].id;
			free(text);
		}
		rstore_queue_free(env, n);
		if (n < want) {
			if (!c->queue_empty_sent) {
				static const char qe[] = "{\"push\":\"queue.empty\"}";
				server_conn_send_text(c, qe, sizeof qe - 1);
				c->queue_empty_sent = 1;
			}
			break;
		}
	}
}

void
server_push_keys_low(struct server_conn *c)
{
	struct server *s = c->srv;
	struct wire_frame f;
	size_t count;
	char *text;
	size_t len;

	c->check_keys_low = 0;
	if (!c->authed || c->closing ||
	    rstore_prekey_count(s->store, c->account, c->device, &count, NULL) < 0 ||
	    count >= WIRE_PREKEY_LOW)
		return;
	memset(&f, 0, sizeof f);
	f.kind = WIRE_PUSH;
	f.push = WIRE_P_KEYS_LOW;
	f.u.push.count = count;
	text = wire_build(&f, &len, NULL);
	if (text != NULL)
		server_conn_send_text(c, text, len);
	free(text);
}

/* sotto-relay's connections: the (account, device) index, output queued
 * per connection and written in bursts, frame reassembly, closing with a
 * code, and the lws WebSocket callback that ties them together. */
#include "relay/server.h"

#include <stdlib.h>
#include <string.h>

#include "relay/handler.h"

static size_t
server_index_bucket(const char *account, uint32_t device)
{
	uint32_t h = 2166136261u ^ device; /* FNV-1a */

	while (*account != '\0')
		h = (h ^ (unsigned char)*account++) * 16777619u;
	return h & (SERVER_INDEX_SIZE - 1);
}

static void
server_index_add(struct server *s, struct server_conn *c)
{
	size_t b = server_index_bucket(c->account, c->device);

	c->hnext = s->index[b];
	s->index[b] = c;
	c->indexed = 1;
}

static void
server_index_remove(struct server *s, struct server_conn *c)
{
	struct server_conn **pp = &s->index[server_index_bucket(c->account, c->device)];

	while (*pp != NULL && *pp != c)
		pp = &(*pp)->hnext;
	if (*pp != NULL)
		*pp = c->hnext;
	c->indexed = 0;
}

void
server_conn_touch(struct server *s, struct server_conn *c)
{
	c->touch_open = 1;
	if (c->touched)
		return;
	if (s->n_touched == s->touched_cap) {
		s->touched_cap = s->touched_cap * 2 + 64;
		s->touched = xreallocarray(s->touched, s->touched_cap, sizeof *s->touched);
	}
	s->touched[s->n_touched++] = c;
	c->touched = 1;
}

/* Handlers flag only connections they got from here or the one whose
 * frame they handle, so touching both is enough for server_release. */
struct server_conn *
server_conn_find(struct server *s, const char *account, uint32_t device)
{
	struct server_conn *c;

	for (c = s->index[server_index_bucket(account, device)]; c != NULL; c = c->hnext)
		if (c->authed && !c->closing && c->device == device &&
		    strcmp(c->account, account) == 0) {
			server_conn_touch(s, c);
			return c;
		}
	return NULL;
}

struct server_out *
server_conn_out_new(const char *text, size_t len)
{
	struct server_out *o = xmalloc(sizeof *o + LWS_PRE + len);

	o->next = NULL;
	o->len = len;
	o->due_us = 0;
	memcpy(o->buf + LWS_PRE, text, len);
	return o;
}

void
server_conn_out_append(struct server_conn *c, struct server_out *o)
{
	if (c->out_tail != NULL)
		c->out_tail->next = o;
	else
		c->out_head = o;
	c->out_tail = o;
	c->out_bytes += o->len;
	lws_callback_on_writable(c->wsi);
}

void
server_conn_send_text(struct server_conn *c, const char *text, size_t len)
{
	if (c->closing)
		return;
	server_conn_out_append(c, server_conn_out_new(text, len));
}

void
server_conn_close(struct server_conn *c, int code)
{
	if (c->close_code == 0)
		c->close_code = code;
	c->closing = 1;
	lws_callback_on_writable(c->wsi);
}

static void
server_auth_timeout(lws_sorted_usec_list_t *sul)
{
	struct server_conn *c = lws_container_of(sul, struct server_conn, auth_sul);

	if (!c->authed)
		server_conn_close(c, WIRE_CLOSE_AUTH_TIMEOUT);
}

static int
server_close_now(struct lws *wsi, int code, const char *why)
{
	lws_close_reason(wsi, (enum lws_close_status)code, (unsigned char *)why, strlen(why));
	return -1;
}

static const char *
server_close_text(int code)
{
	switch (code) {
	case WIRE_CLOSE_GOING_AWAY:
		return "relay shutting down";
	case WIRE_CLOSE_AUTH_FAILED:
		return "authentication failed";
	case WIRE_CLOSE_AUTH_TIMEOUT:
		return "no authentication in time";
	case WIRE_CLOSE_NOT_AUTHENTICATED:
		return "first frame must be auth or register";
	case WIRE_CLOSE_REPLACED:
		return "replaced by a newer connection";
	case WIRE_CLOSE_REMOVED:
		return "device removed";
	default:
		return "closing";
	}
}

/* A WebSocket frame header for an unmasked, final text frame of len
 * bytes (server frames are never masked); returns its size. */
static size_t
server_ws_header(unsigned char *h, size_t len)
{
	h[0] = 0x81;
	if (len < 126) {
		h[1] = (unsigned char)len;
		return 2;
	}
	if (len <= 0xFFFF) {
		h[1] = 126;
		h[2] = (unsigned char)(len >> 8);
		h[3] = (unsigned char)len;
		return 4;
	}
	h[1] = 127;
	for (int i = 0; i < 8; i++)
		h[2 + i] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
	return 10;
}

/* Drop the first n queued messages of c (written). */
static void
server_out_consume(struct server_conn *c, int n)
{
	struct server_out *o;

	while (n-- > 0 && (o = c->out_head) != NULL) {
		c->out_head = o->next;
		if (c->out_head == NULL)
			c->out_tail = NULL;
		c->out_bytes -= o->len;
		free(o);
	}
}

/* Write the messages at the head of c's queue that are due, each as its
 * own WebSocket frame but together in one write (a burst of answers or
 * pushes then costs one system call, not one each). Returns how many
 * went, or -1 if the connection failed. */
static int
server_write_burst(struct server_conn *c, lws_usec_t now, int max)
{
	struct server *s = c->srv;
	unsigned char *p = s->wbuf + LWS_PRE;
	struct server_out *o = c->out_head;
	size_t total = 0;
	int n = 0;

	if (o->next == NULL || o->len > SERVER_BURST_BYTES / 2) {
		if (lws_write(c->wsi, o->buf + LWS_PRE, o->len, LWS_WRITE_TEXT) < (int)o->len)
			return -1;
		return 1;
	}
	for (; o != NULL && n < max && o->due_us <= now; o = o->next, n++) {
		if (total + 10 + o->len > SERVER_BURST_BYTES)
			break;
		total += server_ws_header(p + total, o->len);
		memcpy(p + total, o->buf + LWS_PRE, o->len);
		total += o->len;
	}
	/* Raw: the frames are complete; lws keeps any part the socket does
	 * not take and sends it before anything else. */
	if (lws_write(c->wsi, p, total, LWS_WRITE_RAW) < (int)total)
		return -1;
	return n;
}

/* Write what is queued while the socket takes it: one message per
 * writeable callback would cost a poll round trip per message and cap a
 * busy connection at a few thousand messages a second. */
static int
server_writeable(struct server_conn *c)
{
	struct server_out *o;
	lws_usec_t now;
	int n, budget = SERVER_WRITE_BUDGET;

	while ((o = c->out_head) != NULL) {
		now = lws_now_usecs();
		if (o->due_us > now) {
			lws_sul_schedule(c->srv->ctx, 0, &c->chaos_sul, server_push_chaos_timer,
			                 o->due_us - now);
			return 0;
		}
		n = server_write_burst(c, now, budget);
		if (n < 0)
			return -1;
		server_out_consume(c, n);
		if (c->out_head == NULL) {
			/* Refill from the queue; the loop writes what that adds. */
			server_push_pump(c);
			if (c->out_head == NULL)
				break;
		}
		budget -= n;
		if (budget <= 0 || lws_send_pipe_choked(c->wsi)) {
			lws_callback_on_writable(c->wsi);
			return 0;
		}
	}
	if (c->close_code != 0)
		return server_close_now(c->wsi, c->close_code, server_close_text(c->close_code));
	return 0;
}

static void
server_conn_free(struct server *s, struct server_conn *c)
{
	struct server_out *o, *next;
	struct server_pending *p;
	size_t i;

	lws_sul_cancel(&c->auth_sul);
	lws_sul_cancel(&c->chaos_sul);
	for (p = s->pend_head; p != NULL; p = p->next)
		if (p->conn == c)
			p->conn = NULL;
	if (c->touched)
		for (i = 0; i < s->n_touched; i++)
			if (s->touched[i] == c)
				s->touched[i] = NULL;
	if (c->indexed)
		server_index_remove(s, c);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	s->n_conns--;
	for (o = c->out_head; o != NULL; o = next) {
		next = o->next;
		free(o);
	}
	free(c->held);
	free(c->inflight);
	free(c->rx);
	wipe(c, sizeof *c);
	free(c);
}

static void
server_note_busy(struct server *s, int fd)
{
	size_t i;

	for (i = 0; i < s->n_busy; i++)
		if (s->busy_fd[i] == fd)
			return;
	if (s->n_busy < SERVER_BUSY_MAX)
		s->busy_fd[s->n_busy++] = fd;
}

/* One whole message; a connection that just authenticated joins the
 * index (its account and device never change afterwards). */
static void
server_handle(struct server *s, struct server_conn *c, const char *buf, size_t len)
{
	handler_frame(s, c, buf, len);
	if (c->authed && !c->indexed)
		server_index_add(s, c);
}

/* A piece of a message. A message that comes whole is handled where it
 * lies; only one in pieces is copied, into a buffer that lives as long as
 * the message, so an idle connection holds no receive buffer of its own. */
static int
server_receive(struct server_conn *c, const char *in, size_t len, int last)
{
	struct server *s = c->srv;
	size_t n;

	if (last) {
		server_note_busy(s, lws_get_socket_fd(c->wsi));
		server_conn_touch(s, c);
	}
	if (c->rx_len == 0 && last) {
		server_handle(s, c, in, len);
		return 0;
	}
	if (c->rx_len + len > c->rx_cap) {
		n = c->rx_cap * 2 > c->rx_len + len ? c->rx_cap * 2 : c->rx_len + len;
		if (n > s->cfg.max_frame)
			n = s->cfg.max_frame;
		c->rx = xrealloc(c->rx, n);
		c->rx_cap = n;
	}
	memcpy(c->rx + c->rx_len, in, len);
	c->rx_len += len;
	if (last) {
		n = c->rx_len;
		c->rx_len = 0;
		server_handle(s, c, c->rx, n);
		free(c->rx);
		c->rx = NULL;
		c->rx_cap = 0;
	}
	return 0;
}

int
server_conn_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                     size_t len)
{
	struct server *s = lws_context_user(lws_get_context(wsi));
	struct server_conn **pc = user, *c = pc != NULL ? *pc : NULL;

	switch (reason) {
	case LWS_CALLBACK_ESTABLISHED:
		c = xcalloc(1, sizeof *c);
		c->srv = s;
		c->wsi = wsi;
		c->serial = ++s->next_serial;
		lws_get_peer_simple(wsi, c->peer, sizeof c->peer);
		c->next = s->conns;
		if (s->conns != NULL)
			s->conns->prev = c;
		s->conns = c;
		s->n_conns++;
		*pc = c;
		lws_sul_schedule(s->ctx, 0, &c->auth_sul, server_auth_timeout,
		                 (lws_usec_t)s->cfg.auth_timeout_ms * 1000);
		return 0;
	case LWS_CALLBACK_RECEIVE:
		if (c == NULL || c->closing)
			return 0;
		if (lws_frame_is_binary(wsi))
			return server_close_now(wsi, WIRE_CLOSE_BINARY,
			                        "binary frames are not used");
		if (len > s->cfg.max_frame - c->rx_len)
			return server_close_now(wsi, WIRE_CLOSE_TOO_BIG, "frame too large");
		return server_receive(c, in, len,
		                      lws_is_final_fragment(wsi) &&
		                          lws_remaining_packet_payload(wsi) == 0);
	case LWS_CALLBACK_SERVER_WRITEABLE:
		if (c == NULL)
			return 0;
		return server_writeable(c);
	case LWS_CALLBACK_CLOSED:
		if (c != NULL) {
			server_conn_free(s, c);
			*pc = NULL;
		}
		return 0;
	default:
		return 0;
	}
}

/* sotto-relay's event loop: the lws context, WebSocket connections (frame
 * reassembly, ordered output, closing with a code), group commit of the
 * answers of one service pass, and envelope delivery within the window. */
#include "relay/server.h"

#include <poll.h>
#include <signal/signal_protocol.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "relay/handler.h"

static struct lws_protocols server_protocols[3];
/* Messages written in one writeable callback before other connections get
 * their turn. */
#define SERVER_WRITE_BUDGET 256
/* Bytes of frames gathered into one write. */
#define SERVER_BURST_BYTES (64 * 1024)
/* Bytes read from a connection per service pass. lws gives every
 * connection a receive buffer this size for its whole life, so it is what
 * an idle connection costs; a busy one gets more passes, not a bigger
 * buffer (see server_batch_wants_more). */
#define SERVER_RX_BUFFER 512
/* How long a batch may stay open while requests keep coming. */
#define SERVER_BATCH_MAX_US 2000
/* Ping a connection idle for 30 s; hang up after 90 s without a sign of
 * life, i.e. two missed pongs. */
static const lws_retry_bo_t server_keepalive = {
    .secs_since_valid_ping = 30,
    .secs_since_valid_hangup = 90,
};

int64_t
server_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
server_config_default(struct relay_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	strcpy(cfg->host, "127.0.0.1");
	cfg->max_frame = WIRE_MAX_FRAME;
	cfg->max_connections = SERVER_DEFAULT_MAX_CONNECTIONS;
	cfg->auth_timeout_ms = (int64_t)WIRE_AUTH_TIMEOUT_S * 1000;
	cfg->prekey_fetch_rate = RATELIMIT_DEFAULT_PREKEY_FETCHES;
	cfg->registrations_rate = SERVER_DEFAULT_REGISTRATIONS;
	rstore_options_default(&cfg->store);
}

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

/* c may have something due at the commit (c->wake, c->check_keys_low). */
static void
server_touch(struct server *s, struct server_conn *c)
{
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
 * frame they handle, so touching both is enough for server_commit. */
struct server_conn *
server_conn_find(struct server *s, const char *account, uint32_t device)
{
	struct server_conn *c;

	for (c = s->index[server_index_bucket(account, device)]; c != NULL; c = c->hnext)
		if (c->authed && !c->closing && c->device == device &&
		    strcmp(c->account, account) == 0) {
			server_touch(s, c);
			return c;
		}
	return NULL;
}

/* The connection an answer is for. Held answers point at their
 * connection, and a closing connection clears those pointers (see
 * server_conn_free), so this is not a walk over every connection: with
 * thousands connected, that walk per answer dominated. */
static struct server_conn *
server_pending_conn(const struct server_pending *p)
{
	return p->conn != NULL && p->conn->serial == p->conn_serial ? p->conn : NULL;
}

/* ---- output ---- */

static struct server_out *
server_out_new(const char *text, size_t len)
{
	struct server_out *o = xmalloc(sizeof *o + LWS_PRE + len);

	o->next = NULL;
	o->len = len;
	o->due_us = 0;
	memcpy(o->buf + LWS_PRE, text, len);
	return o;
}

static void
server_out_append(struct server_conn *c, struct server_out *o)
{
	if (c->out_tail != NULL)
		c->out_tail->next = o;
	else
		c->out_head = o;
	c->out_tail = o;
	c->out_bytes += o->len;
	lws_callback_on_writable(c->wsi);
}

static void
server_send_text(struct server_conn *c, const char *text, size_t len)
{
	if (c->closing)
		return;
	server_out_append(c, server_out_new(text, len));
}

void
server_conn_close(struct server_conn *c, int code)
{
	if (c->close_code == 0)
		c->close_code = code;
	c->closing = 1;
	lws_callback_on_writable(c->wsi);
}

/* Chaos timer: a held push is released, or a delayed one is due. */
static void
server_chaos_timer(lws_sorted_usec_list_t *sul)
{
	struct server_conn *c = lws_container_of(sul, struct server_conn, chaos_sul);

	if (c->held != NULL) {
		server_out_append(c, c->held);
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
	struct server_out *o = server_out_new(text, len);
	lws_usec_t hold_us;

	if (!s->chaos_on) {
		server_out_append(c, o);
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
		server_out_append(c, server_out_new(text, len));
		c->out_tail->due_us = o->due_us;
		break;
	case CHAOS_HOLD:
		if (c->held == NULL) {
			c->held = o;
			hold_us = (lws_usec_t)(d.delay_ms > 0 ? d.delay_ms : 1000) * 1000;
			lws_sul_schedule(s->ctx, 0, &c->chaos_sul, server_chaos_timer, hold_us);
			return 1;
		}
		break;
	case CHAOS_SEND:
		break;
	}
	server_out_append(c, o);
	if (c->held != NULL) {
		server_out_append(c, c->held);
		c->held = NULL;
	}
	return 1;
}

/* ---- delivery ---- */

void
server_pump(struct server_conn *c)
{
	struct server *s = c->srv;
	struct rstore_envelope *env;
	struct wire_frame f;
	struct err e = {0};
	size_t n, i, want;
	char *text;
	size_t len;

	if (!c->authed || c->closing)
		return;
	/* Inside a batch the queue shows uncommitted rows: wait for it. */
	if (rstore_batch_is_open(s->store)) {
		c->wake = 1;
		server_touch(s, c);
		return;
	}
	c->wake = 0;
	while (c->n_inflight < WIRE_WINDOW && c->out_bytes < SERVER_OUT_HIGH) {
		want = WIRE_WINDOW - c->n_inflight;
		if (want > 32)
			want = 32;
		if (rstore_queue_fetch(s->store, c->account, c->device, c->last_pushed, want, &env,
		                       &n, &e) < 0) {
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
				server_send_text(c, qe, sizeof qe - 1);
				c->queue_empty_sent = 1;
			}
			break;
		}
	}
}

static void
server_check_keys_low(struct server_conn *c)
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
		server_send_text(c, text, len);
	free(text);
}

/* ---- deferred answers and group commit ---- */

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

void
server_commit(struct server *s)
{
	struct server_pending *p, *next;
	struct server_conn *c;
	struct err e = {0};
	size_t i;

	if (rstore_batch_is_open(s->store)) {
		if (rstore_batch_commit(s->store, &e) < 0) {
			fprintf(stderr, "sotto-relay: commit failed: %s\n", e.msg);
			server_batch_failed(s);
		} else {
			s->batch_gen++;
		}
	}
	for (p = s->pend_head; p != NULL; p = next) {
		next = p->next;
		c = server_pending_conn(p);
		if (c != NULL) {
			if (p->text != NULL)
				server_send_text(c, p->text, p->len);
			if (p->close_code != 0)
				server_conn_close(c, p->close_code);
		}
		free(p->text);
		free(p);
	}
	s->pend_head = s->pend_tail = NULL;
	for (i = 0; i < s->n_touched; i++) {
		if ((c = s->touched[i]) == NULL)
			continue; /* closed meanwhile */
		c->touched = 0;
		if (c->check_keys_low)
			server_check_keys_low(c);
		if (c->wake)
			server_pump(c);
	}
	s->n_touched = 0;
}

/* ---- the WebSocket protocol ---- */

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
			lws_sul_schedule(c->srv->ctx, 0, &c->chaos_sul, server_chaos_timer,
			                 o->due_us - now);
			return 0;
		}
		n = server_write_burst(c, now, budget);
		if (n < 0)
			return -1;
		server_out_consume(c, n);
		if (c->out_head == NULL) {
			/* Refill from the queue; the loop writes what that adds. */
			server_pump(c);
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
		server_touch(s, c);
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

static int
server_ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
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

/* ---- start, run, stop ---- */

static void
server_expire(struct server *s)
{
	struct rstore_expired x = {0};
	struct err e = {0};
	int64_t now = server_now_ms();

	if (now < s->next_expire_ms || rstore_batch_is_open(s->store))
		return;
	if (rstore_expire(s->store, &x, &e) < 0) {
		fprintf(stderr, "sotto-relay: expiry: %s\n", e.msg);
		s->next_expire_ms = now + 60000;
		return;
	}
	s->next_expire_ms = now + (x.more ? 1000 : 60000);
}

int
server_start(struct server *s, const struct relay_config *cfg, volatile sig_atomic_t *stop,
             struct err *e)
{
	struct lws_context_creation_info info;
	signal_context *sig = NULL;

	memset(s, 0, sizeof *s);
	s->cfg = *cfg;
	s->stop = stop;
	s->index = xcalloc(SERVER_INDEX_SIZE, sizeof *s->index);
	s->wbuf = xmalloc(LWS_PRE + SERVER_BURST_BYTES);
	if (s->cfg.max_frame == 0 || s->cfg.max_frame > WIRE_MAX_FRAME)
		s->cfg.max_frame = WIRE_MAX_FRAME;
	if (rstore_open(&s->store, cfg->data_dir, &cfg->store, e) < 0) {
		server_stop(s);
		return err_prefix(e, "opening %s", cfg->data_dir ? cfg->data_dir : ":memory:");
	}
	if (signal_context_create(&sig, s) != 0) {
		server_stop(s);
		return err_set(e, ERR_INTERNAL, "libsignal context");
	}
	s->signal_ctx = sig;
	s->fetch_rl =
	    ratelimit_new(cfg->prekey_fetch_rate ? cfg->prekey_fetch_rate : 1,
	                  60000 / (cfg->prekey_fetch_rate ? cfg->prekey_fetch_rate : 1), 4096);
	s->reg_rl =
	    ratelimit_new(cfg->registrations_rate ? cfg->registrations_rate : 1,
	                  3600000 / (cfg->registrations_rate ? cfg->registrations_rate : 1), 4096);
	if (cfg->has_chaos && !chaos_is_noop(&cfg->chaos)) {
		chaos_init(&s->chaos, &cfg->chaos, (uint64_t)server_now_ms());
		s->chaos_on = 1;
	}

	memset(server_protocols, 0, sizeof server_protocols);
	server_protocols[0].name = "http";
	server_protocols[0].callback = server_http_callback;
	server_protocols[0].per_session_data_size = server_http_session_size();
	server_protocols[0].rx_buffer_size = 0;
	server_protocols[1].name = WIRE_SUBPROTOCOL;
	server_protocols[1].callback = server_ws_callback;
	server_protocols[1].per_session_data_size = sizeof(struct server_conn *);
	server_protocols[1].rx_buffer_size = SERVER_RX_BUFFER;

	memset(&info, 0, sizeof info);
	info.port = cfg->port;
	info.iface = cfg->host;
	info.protocols = server_protocols;
	info.user = s;
	info.retry_and_idle_policy = &server_keepalive;
	info.max_http_header_data = 4096;
	info.timeout_secs = 30;
	info.options = LWS_SERVER_OPTION_VALIDATE_UTF8;
	if (cfg->tls_cert != NULL) {
		info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
		info.ssl_cert_filepath = cfg->tls_cert;
		info.ssl_private_key_filepath = cfg->tls_key;
	}
	s->ctx = lws_create_context(&info);
	if (s->ctx == NULL) {
		server_stop(s);
		return err_set(e, ERR_IO, "cannot listen on %s:%d", cfg->host, cfg->port);
	}
	s->vhost = lws_get_vhost_by_name(s->ctx, "default");
	s->port = s->vhost != NULL ? lws_get_vhost_listen_port(s->vhost) : -1;
	if (s->port <= 0) {
		server_stop(s);
		return err_set(e, ERR_IO, "cannot find the listening port");
	}
	return 0;
}

/* Group commit: keep the batch open while the sockets that just brought
 * requests have more to read (up to SERVER_BATCH_MAX_US), so one fsync
 * covers what a busy client pipelines even when it takes many reads;
 * commit as soon as they are drained. Never waits: the next service pass
 * only runs when one of them is readable now. Returns 1 to service once
 * more before committing. */
static int
server_batch_wants_more(struct server *s)
{
	struct pollfd pfd[SERVER_BUSY_MAX];
	int64_t now;
	size_t i, n = s->n_busy;

	s->n_busy = 0;
	if (!rstore_batch_is_open(s->store) || n == 0 || s->draining) {
		s->batch_since_us = 0;
		return 0;
	}
	now = (int64_t)lws_now_usecs();
	if (s->batch_since_us == 0)
		s->batch_since_us = now;
	if (now - s->batch_since_us >= SERVER_BATCH_MAX_US) {
		s->batch_since_us = 0;
		return 0;
	}
	for (i = 0; i < n; i++) {
		pfd[i].fd = s->busy_fd[i];
		pfd[i].events = POLLIN;
		pfd[i].revents = 0;
	}
	if (poll(pfd, (nfds_t)n, 0) > 0)
		for (i = 0; i < n; i++)
			if (pfd[i].revents & POLLIN)
				return 1;
	s->batch_since_us = 0;
	return 0;
}

int
server_run(struct server *s)
{
	struct server_conn *c;
	int64_t deadline;

	while (!*s->stop) {
		if (lws_service(s->ctx, 0) < 0)
			break;
		if (server_batch_wants_more(s))
			continue;
		server_commit(s);
		server_expire(s);
	}
	/* Drain: nothing new is accepted, what was answered goes out. */
	s->draining = 1;
	server_commit(s);
	for (c = s->conns; c != NULL; c = c->next)
		server_conn_close(c, WIRE_CLOSE_GOING_AWAY);
	deadline = server_now_ms() + 2000;
	while (s->n_conns > 0 && server_now_ms() < deadline) {
		if (lws_service(s->ctx, 0) < 0)
			break;
		server_commit(s);
	}
	return 0;
}

void
server_stop(struct server *s)
{
	struct server_pending *p, *next;

	if (s->ctx != NULL)
		lws_context_destroy(s->ctx);
	s->ctx = NULL;
	for (p = s->pend_head; p != NULL; p = next) {
		next = p->next;
		free(p->text);
		free(p);
	}
	s->pend_head = s->pend_tail = NULL;
	if (s->signal_ctx != NULL)
		signal_context_destroy(s->signal_ctx);
	s->signal_ctx = NULL;
	ratelimit_free(s->fetch_rl);
	ratelimit_free(s->reg_rl);
	s->fetch_rl = s->reg_rl = NULL;
	rstore_close(s->store);
	s->store = NULL;
	free(s->index);
	free(s->touched);
	free(s->wbuf);
	s->wbuf = NULL;
	s->index = s->touched = NULL;
	s->n_touched = s->touched_cap = 0;
}

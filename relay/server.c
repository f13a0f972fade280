/* sotto-relay's event loop: the lws context, WebSocket connections (frame
 * reassembly, ordered output, closing with a code), group commit of the
 * answers of one service pass, and envelope delivery within the window. */
#include "relay/server.h"

#include <signal/signal_protocol.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "relay/handler.h"

static struct lws_protocols server_protocols[3];
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
	cfg->prekey_fetch_rate = RATELIMIT_DEFAULT_PREKEY_FETCHES;
	cfg->registrations_rate = SERVER_DEFAULT_REGISTRATIONS;
	rstore_options_default(&cfg->store);
}

struct server_conn *
server_conn_find(struct server *s, const char *account, uint32_t device)
{
	struct server_conn *c;

	for (c = s->conns; c != NULL; c = c->next)
		if (c->authed && !c->closing && c->device == device &&
		    strcmp(c->account, account) == 0)
			return c;
	return NULL;
}

static struct server_conn *
server_conn_by_serial(struct server *s, uint64_t serial)
{
	struct server_conn *c;

	for (c = s->conns; c != NULL; c = c->next)
		if (c->serial == serial)
			return c;
	return NULL;
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
		if (p->unauth_on_failure &&
		    (c = server_conn_by_serial(s, p->conn_serial)) != NULL) {
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
		c = server_conn_by_serial(s, p->conn_serial);
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
	for (c = s->conns; c != NULL; c = c->next) {
		if (c->check_keys_low)
			server_check_keys_low(c);
		if (c->wake)
			server_pump(c);
	}
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
		return "no authentication within 10 s";
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

static int
server_writeable(struct server_conn *c)
{
	struct server_out *o = c->out_head;
	lws_usec_t now;
	int n;

	if (o == NULL) {
		if (c->close_code != 0)
			return server_close_now(c->wsi, c->close_code,
			                        server_close_text(c->close_code));
		return 0;
	}
	now = lws_now_usecs();
	if (o->due_us > now) {
		lws_sul_schedule(c->srv->ctx, 0, &c->chaos_sul, server_chaos_timer,
		                 o->due_us - now);
		return 0;
	}
	n = lws_write(c->wsi, o->buf + LWS_PRE, o->len, LWS_WRITE_TEXT);
	if (n < (int)o->len)
		return -1;
	c->out_head = o->next;
	if (c->out_head == NULL)
		c->out_tail = NULL;
	c->out_bytes -= o->len;
	free(o);
	if (c->out_head != NULL || c->close_code != 0)
		lws_callback_on_writable(c->wsi);
	else
		server_pump(c);
	return 0;
}

static void
server_conn_free(struct server *s, struct server_conn *c)
{
	struct server_out *o, *next;

	lws_sul_cancel(&c->auth_sul);
	lws_sul_cancel(&c->chaos_sul);
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
	free(c->rx);
	wipe(c, sizeof *c);
	free(c);
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
		c->rx = xmalloc(s->cfg.max_frame);
		c->next = s->conns;
		if (s->conns != NULL)
			s->conns->prev = c;
		s->conns = c;
		s->n_conns++;
		*pc = c;
		lws_sul_schedule(s->ctx, 0, &c->auth_sul, server_auth_timeout,
		                 (lws_usec_t)WIRE_AUTH_TIMEOUT_S * LWS_US_PER_SEC);
		return 0;
	case LWS_CALLBACK_RECEIVE:
		if (c == NULL || c->closing)
			return 0;
		if (lws_frame_is_binary(wsi))
			return server_close_now(wsi, WIRE_CLOSE_BINARY,
			                        "binary frames are not used");
		if (len > s->cfg.max_frame - c->rx_len)
			return server_close_now(wsi, WIRE_CLOSE_TOO_BIG, "frame too large");
		memcpy(c->rx + c->rx_len, in, len);
		c->rx_len += len;
		if (lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0) {
			size_t n = c->rx_len;
			c->rx_len = 0;
			handler_frame(s, c, c->rx, n);
		}
		return 0;
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
	if (s->cfg.max_frame == 0 || s->cfg.max_frame > WIRE_MAX_FRAME)
		s->cfg.max_frame = WIRE_MAX_FRAME;
	if (rstore_open(&s->store, cfg->data_dir, &cfg->store, e) < 0)
		return err_prefix(e, "opening %s", cfg->data_dir);
	if (signal_context_create(&sig, s) != 0) {
		rstore_close(s->store);
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
	server_protocols[1].rx_buffer_size = 65536;

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

int
server_run(struct server *s)
{
	struct server_conn *c;
	int64_t deadline;

	while (!*s->stop) {
		if (lws_service(s->ctx, 0) < 0)
			break;
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
}

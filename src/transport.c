/* The relay connection on the engine's libwebsockets loop: connect,
 * authenticate (or register), match responses to requests, deliver
 * pushes, keep the link alive and reconnect with jittered backoff. Each
 * connection attempt owns one wsi; when a link goes down the wsi is
 * detached at once, so late callbacks from it can never touch a newer one. */
#include "transport_int.h"

#include <libwebsockets.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#define TP_VHOST "sotto-relay-client"
#define TP_VHOST_TLS "sotto-relay-client-tls"
#define TP_SYSTEM_CAS "/etc/ssl/certs/ca-certificates.crt"
#define TP_DEF_KEEPALIVE_MS 10000
#define TP_DEF_TIMEOUT_MS 20000
#define TP_DEF_BACKOFF_MIN_MS 500
#define TP_DEF_BACKOFF_MAX_MS 60000

/* One text frame waiting for a WRITEABLE callback, LWS_PRE bytes ahead. */
struct tp_out {
	struct tp_out *next;
	size_t len;
	unsigned char buf[];
};

/* What an internal request is for. */
enum tp_kind {
	TP_USER,
	TP_HELLO, /* the auth or register frame */
	TP_PING,
	TP_ACK,
};

struct tp_pending {
	struct tp_pending *next;
	uint64_t id;
	enum tp_kind kind;
	transport_reply_fn *cb;
	void *arg;
	lws_usec_t due; /* its timeout */
};

struct transport {
	struct lws_context *lws;
	struct lws_vhost *vh;
	struct transport_url url;
	char account[WIRE_NAME_MAX + 1];
	uint32_t device;
	uint8_t secret[WIRE_SECRET_LEN];
	bool has_pin;
	uint8_t pin[32];
	/* Registration mode until the relay said 200. */
	bool registering;
	struct wire_frame reg;

	uint32_t keepalive_ms, timeout_ms, backoff_min_ms, backoff_max_ms;
	struct transport_hooks hooks;
	void *ctx;

	enum transport_state state;
	struct lws *wsi;  /* the current attempt's, NULL when none */
	bool live;        /* an attempt is under way or up */
	unsigned attempt; /* failed attempts since the last successful auth */
	uint64_t next_id;
	struct tp_out *out_head, **out_tail;
	/* Requests in flight, oldest first: answers mostly come in order, so
	 * finding one is cheap, and one timer (for the earliest timeout)
	 * serves them all (a timer each costs a walk of every timer when
	 * thousands are in flight). */
	struct tp_pending *pending, **pending_tail;
	lws_sorted_usec_list_t pending_sul;
	bool pending_armed;
	lws_usec_t pending_due;
	unsigned char *rx;
	size_t rx_len, rx_cap;
	int close_code; /* from the relay's close frame, 0 when none */
	int64_t last_rx_us;
	bool ping_out;
	lws_sorted_usec_list_t reconnect_sul, keepalive_sul;
};

static int tp_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                       size_t len);

static const struct lws_protocols tp_protocols[] = {
    {WIRE_SUBPROTOCOL, tp_callback, 0, 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void
tp_emit_state(struct transport *tp, const struct err *why)
{
	if (tp->hooks.on_state != NULL)
		tp->hooks.on_state(tp->ctx, tp->state, why);
}

static void
tp_out_clear(struct transport *tp)
{
	struct tp_out *o, *next;

	for (o = tp->out_head; o != NULL; o = next) {
		next = o->next;
		/* Auth and register frames carry the device secret. */
		wipe_free(o, sizeof *o + LWS_PRE + o->len);
	}
	tp->out_head = NULL;
	tp->out_tail = &tp->out_head;
}

static void
tp_enqueue(struct transport *tp, const char *text, size_t len)
{
	struct tp_out *o = xmalloc(sizeof *o + LWS_PRE + len);

	o->next = NULL;
	o->len = len;
	memcpy(o->buf + LWS_PRE, text, len);
	*tp->out_tail = o;
	tp->out_tail = &o->next;
	if (tp->wsi != NULL)
		lws_callback_on_writable(tp->wsi);
}

static struct tp_pending *
tp_pending_take(struct transport *tp, uint64_t id)
{
	struct tp_pending **pp, *p;

	for (pp = &tp->pending; (p = *pp) != NULL; pp = &p->next)
		if (p->id == id) {
			*pp = p->next;
			if (tp->pending_tail == &p->next)
				tp->pending_tail = pp;
			return p;
		}
	return NULL;
}

/* Detach the whole list (oldest first); the timer goes with it. */
static struct tp_pending *
tp_pending_take_all(struct transport *tp)
{
	struct tp_pending *all = tp->pending;

	tp->pending = NULL;
	tp->pending_tail = &tp->pending;
	if (tp->pending_armed)
		lws_sul_cancel(&tp->pending_sul);
	tp->pending_armed = false;
	return all;
}

static void tp_pending_done(struct transport *tp, struct tp_pending *p,
                            const struct wire_frame *resp, const struct err *why);

/* Fail every request in flight: their answers can no longer arrive. */
static void
tp_fail_pending(struct transport *tp, const char *why)
{
	struct err e = {0};
	struct tp_pending *p, *all;

	err_set(&e, ERR_NETWORK, "%s", why);
	all = tp_pending_take_all(tp);
	while ((p = all) != NULL) {
		all = p->next;
		tp_pending_done(tp, p, NULL, &e);
	}
}

static void tp_reconnect_cb(lws_sorted_usec_list_t *sul);

/* The link is gone (or must go): detach and kill the wsi, drop what was
 * queued, fail what was pending, and move to next (OFFLINE schedules a
 * reconnect). Safe from inside the wsi's own callback. */
static void
tp_down(struct transport *tp, enum transport_state next, const struct err *why)
{
	struct err fallback = {0};

	if (!tp->live)
		return;
	tp->live = false;
	if (tp->wsi != NULL) {
		lws_set_opaque_user_data(tp->wsi, NULL);
		lws_set_timeout(tp->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
		tp->wsi = NULL;
	}
	lws_sul_cancel(&tp->keepalive_sul);
	tp->ping_out = false;
	tp->rx_len = 0;
	tp->close_code = 0;
	tp_out_clear(tp);
	if (why == NULL) {
		err_set(&fallback, ERR_NETWORK, "connection to the relay lost");
		why = &fallback;
	}
	/* A registration never retries by itself: the user is waiting for
	 * an answer and may pick another name. */
	if (tp->registering && next != TRANSPORT_CONNECTED)
		next = TRANSPORT_FAILED;
	/* State first, so reply callbacks see that requests are refused. */
	tp->state = next;
	tp_fail_pending(tp, why->msg);
	if (next == TRANSPORT_OFFLINE) {
		uint32_t ms =
		    transport_backoff_ms(tp->backoff_min_ms, tp->backoff_max_ms, tp->attempt);
		if (tp->attempt < 32)
			tp->attempt++;
		lws_sul_schedule(tp->lws, 0, &tp->reconnect_sul, tp_reconnect_cb,
		                 (lws_usec_t)ms * 1000);
	}
	tp_emit_state(tp, why);
}

/* The wsi is being closed by lws itself (its callback returns -1, or it
 * reported its own end): forget it without asking for another kill. */
static void
tp_release(struct transport *tp, struct lws *wsi)
{
	lws_set_opaque_user_data(wsi, NULL);
	if (tp->wsi == wsi)
		tp->wsi = NULL;
}

static void
tp_down_msg(struct transport *tp, enum transport_state next, enum err_code code, const char *msg)
{
	struct err e = {0};

	err_set(&e, code, "%s", msg);
	tp_down(tp, next, &e);
}

static void tp_pending_timeout(lws_sorted_usec_list_t *sul);

/* Arm the timer for due unless it fires earlier already. */
static void
tp_pending_arm(struct transport *tp, lws_usec_t due)
{
	lws_usec_t now = lws_now_usecs();

	if (tp->pending_armed && tp->pending_due <= due)
		return;
	tp->pending_armed = true;
	tp->pending_due = due;
	lws_sul_schedule(tp->lws, 0, &tp->pending_sul, tp_pending_timeout,
	                 due > now ? due - now : 1);
}

/* Fail the requests whose time is up, then wait for the next. */
static void
tp_pending_timeout(lws_sorted_usec_list_t *sul)
{
	struct transport *tp = lws_container_of(sul, struct transport, pending_sul);
	struct tp_pending **pp, *p, *expired = NULL, **etail = &expired;
	lws_usec_t now = lws_now_usecs(), next = 0;
	struct err e = {0};

	tp->pending_armed = false;
	for (pp = &tp->pending; (p = *pp) != NULL;) {
		if (p->due > now) {
			if (next == 0 || p->due < next)
				next = p->due;
			pp = &p->next;
			continue;
		}
		*pp = p->next;
		p->next = NULL;
		*etail = p;
		etail = &p->next;
	}
	tp->pending_tail = pp;
	if (next != 0)
		tp_pending_arm(tp, next);
	/* Their callbacks may send more, or drop the link (a ping). */
	while ((p = expired) != NULL) {
		expired = p->next;
		err_set(&e, ERR_NETWORK, "the relay did not answer %s",
		        p->kind == TP_PING ? "a ping" : "in time");
		tp_pending_done(tp, p, NULL, &e);
	}
}

/* Build, queue and remember a request. */
static int
tp_send_request(struct transport *tp, struct wire_frame *req, enum tp_kind kind,
                transport_reply_fn *cb, void *arg, uint32_t timeout_ms, struct err *e)
{
	struct tp_pending *p;
	size_t len;
	char *text;

	req->kind = WIRE_REQUEST;
	req->id = ++tp->next_id;
	text = wire_build(req, &len, e);
	if (text == NULL)
		return -1;
	tp_enqueue(tp, text, len);
	wipe_free(text, len);
	p = xcalloc(1, sizeof *p);
	p->id = req->id;
	p->kind = kind;
	p->cb = cb;
	p->arg = arg;
	p->due = lws_now_usecs() + (lws_usec_t)timeout_ms * 1000;
	*tp->pending_tail = p;
	tp->pending_tail = &p->next;
	tp_pending_arm(tp, p->due);
	return 0;
}

static void tp_keepalive_cb(lws_sorted_usec_list_t *sul);

static void
tp_hello_done(struct transport *tp, const struct wire_frame *resp, const struct err *why)
{
	struct err e = {0};

	if (resp == NULL) {
		tp_down(tp, TRANSPORT_OFFLINE, why);
		return;
	}
	if (transport_resp_err(resp, &e) < 0) {
		/* 401 is final; 429 and 5xx are worth another try later. */
		if (resp->u.resp.status == 401)
			tp_down(tp, TRANSPORT_AUTH_FAILED, &e);
		else if (resp->u.resp.status == 400 && !tp->registering)
			tp_down(tp, TRANSPORT_AUTH_FAILED, &e);
		else
			tp_down(tp, TRANSPORT_OFFLINE, &e);
		return;
	}
	if (tp->registering) {
		tp->registering = false;
		tp->device = resp->u.resp.device != 0 ? resp->u.resp.device : 1;
		wire_frame_free(&tp->reg);
	}
	tp->attempt = 0;
	tp->state = TRANSPORT_CONNECTED;
	tp->last_rx_us = lws_now_usecs();
	lws_sul_schedule(tp->lws, 0, &tp->keepalive_sul, tp_keepalive_cb,
	                 (lws_usec_t)tp->keepalive_ms * 1000);
	tp_emit_state(tp, NULL);
}

static void
tp_pending_done(struct transport *tp, struct tp_pending *p, const struct wire_frame *resp,
                const struct err *why)
{
	enum tp_kind kind = p->kind;
	transport_reply_fn *cb = p->cb;
	void *arg = p->arg;

	free(p);
	switch (kind) {
	case TP_USER:
		cb(arg, resp, why);
		break;
	case TP_HELLO:
		if (tp->live)
			tp_hello_done(tp, resp, why);
		break;
	case TP_PING:
		tp->ping_out = false;
		if (resp == NULL && tp->live)
			tp_down(tp, TRANSPORT_OFFLINE, why);
		break;
	case TP_ACK:
		break; /* unacked envelopes simply come again */
	}
}

static void
tp_keepalive_cb(lws_sorted_usec_list_t *sul)
{
	struct transport *tp = lws_container_of(sul, struct transport, keepalive_sul);
	int64_t idle_us = lws_now_usecs() - tp->last_rx_us;
	int64_t period_us = (int64_t)tp->keepalive_ms * 1000;
	struct wire_frame ping;
	struct err e = {0};

	if (tp->state != TRANSPORT_CONNECTED)
		return;
	if (idle_us < period_us) {
		lws_sul_schedule(tp->lws, 0, &tp->keepalive_sul, tp_keepalive_cb,
		                 (lws_usec_t)(period_us - idle_us));
		return;
	}
	if (!tp->ping_out) {
		memset(&ping, 0, sizeof ping);
		ping.type = WIRE_T_PING;
		if (tp_send_request(tp, &ping, TP_PING, NULL, NULL, tp->keepalive_ms, &e) == 0)
			tp->ping_out = true;
	}
	lws_sul_schedule(tp->lws, 0, &tp->keepalive_sul, tp_keepalive_cb, (lws_usec_t)period_us);
}

static struct lws_vhost *
tp_vhost(struct lws_context *lws, bool tls, struct err *e)
{
	const char *name = tls ? TP_VHOST_TLS : TP_VHOST;
	struct lws_context_creation_info info;
	struct lws_vhost *vh;

	/* One client vhost per kind for every transport of the loop (the
	 * context destroys them); lws keeps the name pointer, hence the
	 * literals. Only wss:// gets a TLS context: reading the system's
	 * certificate authorities took most of an engine's start. */
	vh = lws_get_vhost_by_name(lws, name);
	if (vh != NULL)
		return vh;
	memset(&info, 0, sizeof info);
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = tp_protocols;
	info.vhost_name = name;
	if (tls) {
		info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
		info.client_ssl_ca_filepath = TP_SYSTEM_CAS;
	}
	info.gid = (gid_t)-1;
	info.uid = (uid_t)-1;
	vh = lws_create_vhost(lws, &info);
	if (vh == NULL)
		err_set(e, ERR_INTERNAL, "libwebsockets refused the relay client vhost");
	return vh;
}

static void
tp_connect(struct transport *tp)
{
	struct lws_client_connect_info info;
	struct lws *wsi;

	memset(&info, 0, sizeof info);
	info.context = tp->lws;
	info.vhost = tp->vh;
	info.address = tp->url.host;
	info.port = tp->url.port;
	info.path = tp->url.path;
	info.host = tp->url.host;
	info.origin = tp->url.host;
	info.protocol = WIRE_SUBPROTOCOL;
	info.local_protocol_name = WIRE_SUBPROTOCOL;
	info.opaque_user_data = tp;
	if (tp->url.tls) {
		info.ssl_connection = LCCSCF_USE_SSL;
		/* The pin replaces the CA check; it is verified at
		 * ESTABLISHED, before the first frame goes out. */
		if (tp->has_pin)
			info.ssl_connection |= LCCSCF_ALLOW_SELFSIGNED |
			                       LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK |
			                       LCCSCF_ALLOW_EXPIRED;
	}
	tp->live = true;
	tp->wsi = NULL;
	tp->rx_len = 0;
	tp->close_code = 0;
	tp->state = TRANSPORT_CONNECTING;
	tp_emit_state(tp, NULL);
	if (!tp->live)
		return;
	wsi = lws_client_connect_via_info(&info);
	/* A connection error may already have been reported from inside
	 * that call; then the attempt is over and wsi means nothing. */
	if (!tp->live)
		return;
	if (wsi == NULL)
		tp_down_msg(tp, TRANSPORT_OFFLINE, ERR_NETWORK, "cannot connect to the relay");
	else
		tp->wsi = wsi;
}

static void
tp_reconnect_cb(lws_sorted_usec_list_t *sul)
{
	struct transport *tp = lws_container_of(sul, struct transport, reconnect_sul);

	if (!tp->live)
		tp_connect(tp);
}

static int
tp_check_pin(struct transport *tp, struct lws *wsi)
{
	SSL *ssl = lws_get_ssl(wsi);
	X509 *cert;
	unsigned char *der = NULL;
	int len, ok;

	if (ssl == NULL)
		return 0;
	cert = SSL_get1_peer_certificate(ssl);
	if (cert == NULL)
		return 0;
	len = i2d_X509(cert, &der);
	ok = len > 0 && transport_pin_matches(der, (size_t)len, tp->pin);
	OPENSSL_free(der);
	X509_free(cert);
	return ok;
}

static void
tp_established(struct transport *tp, struct lws *wsi)
{
	struct wire_frame hello;
	struct err e = {0};

	tp->wsi = wsi;
	tp->last_rx_us = lws_now_usecs();
	if (tp->url.tls && tp->has_pin && !tp_check_pin(tp, wsi)) {
		tp_down_msg(tp, TRANSPORT_OFFLINE, ERR_AUTH,
		            "the relay's certificate does not match the pinned fingerprint");
		return;
	}
	if (tp->registering) {
		hello = tp->reg;
	} else {
		memset(&hello, 0, sizeof hello);
		hello.type = WIRE_T_AUTH;
		memcpy(hello.u.req.u.auth.account, tp->account, sizeof tp->account);
		hello.u.req.u.auth.device = tp->device;
		memcpy(hello.u.req.u.auth.secret, tp->secret, WIRE_SECRET_LEN);
	}
	if (tp_send_request(tp, &hello, TP_HELLO, NULL, NULL, tp->timeout_ms, &e) < 0)
		tp_down(tp, TRANSPORT_FAILED, &e);
	if (!tp->registering)
		wipe(&hello, sizeof hello);
}

static void
tp_handle_frame(struct transport *tp)
{
	struct wire_frame f;
	struct tp_pending *p;
	struct err e = {0};

	if (wire_parse((const char *)tp->rx, tp->rx_len, &f, &e) < 0) {
		/* An answer we cannot read still ends its request. */
		if (f.kind == WIRE_RESPONSE && f.id != 0 && (p = tp_pending_take(tp, f.id)) != NULL)
			tp_pending_done(tp, p, NULL, &e);
		return;
	}
	switch (f.kind) {
	case WIRE_RESPONSE:
		p = tp_pending_take(tp, f.id);
		if (p != NULL)
			tp_pending_done(tp, p, &f, NULL);
		break;
	case WIRE_PUSH:
		if (tp->state != TRANSPORT_CONNECTED)
			break;
		if (f.push == WIRE_P_ENVELOPE) {
			if (tp->hooks.on_envelope != NULL)
				tp->hooks.on_envelope(tp->ctx, &f.u.push.envelope);
		} else if (tp->hooks.on_push != NULL) {
			tp->hooks.on_push(tp->ctx, &f);
		}
		break;
	case WIRE_REQUEST:
		break; /* the relay sends none */
	}
	wire_frame_free(&f);
}

static int
tp_receive(struct transport *tp, struct lws *wsi, const void *in, size_t len)
{
	tp->last_rx_us = lws_now_usecs();
	if (lws_frame_is_binary(wsi)) {
		lws_close_reason(wsi, LWS_CLOSE_STATUS_UNACCEPTABLE_OPCODE, NULL, 0);
		tp_release(tp, wsi);
		tp_down_msg(tp, TRANSPORT_OFFLINE, ERR_INVALID, "the relay sent a binary frame");
		return -1;
	}
	if (len > WIRE_MAX_FRAME - tp->rx_len) {
		lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, NULL, 0);
		tp_release(tp, wsi);
		tp_down_msg(tp, TRANSPORT_OFFLINE, ERR_TOOLARGE,
		            "the relay sent a frame over 256 KiB");
		return -1;
	}
	if (tp->rx_len + len > tp->rx_cap) {
		size_t cap = tp->rx_cap ? tp->rx_cap : 4096;

		while (cap < tp->rx_len + len)
			cap *= 2;
		tp->rx = xrealloc(tp->rx, cap);
		tp->rx_cap = cap;
	}
	memcpy(tp->rx + tp->rx_len, in, len);
	tp->rx_len += len;
	if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi) != 0)
		return 0;
	tp_handle_frame(tp);
	/* The frame's hooks may have taken the link down. */
	tp->rx_len = 0;
	return 0;
}

static int
tp_writeable(struct transport *tp, struct lws *wsi)
{
	struct tp_out *o = tp->out_head;
	int n;

	if (o == NULL)
		return 0;
	tp->out_head = o->next;
	if (tp->out_head == NULL)
		tp->out_tail = &tp->out_head;
	n = lws_write(wsi, o->buf + LWS_PRE, o->len, LWS_WRITE_TEXT);
	wipe_free(o, sizeof *o + LWS_PRE + o->len);
	if (n < 0) {
		tp_release(tp, wsi);
		tp_down_msg(tp, TRANSPORT_OFFLINE, ERR_NETWORK, "writing to the relay failed");
		return -1;
	}
	if (tp->out_head != NULL)
		lws_callback_on_writable(wsi);
	return 0;
}

static void
tp_closed(struct transport *tp)
{
	struct err e = {0};

	switch (tp->close_code) {
	case WIRE_CLOSE_AUTH_FAILED:
		err_set(&e, ERR_AUTH, "the relay refused our credentials (close 4001)");
		tp_down(tp, TRANSPORT_AUTH_FAILED, &e);
		break;
	case WIRE_CLOSE_REPLACED:
		err_set(&e, ERR_BUSY, "another instance of this device connected (close 4004)");
		tp_down(tp, TRANSPORT_REPLACED, &e);
		break;
	case WIRE_CLOSE_REMOVED:
		err_set(&e, ERR_AUTH, "this device was removed from its account (close 4005)");
		tp_down(tp, TRANSPORT_REMOVED, &e);
		break;
	default:
		if (tp->close_code != 0)
			err_set(&e, ERR_NETWORK, "the relay closed the connection (%d)",
			        tp->close_code);
		else
			err_set(&e, ERR_NETWORK, "connection to the relay lost");
		tp_down(tp, TRANSPORT_OFFLINE, &e);
		break;
	}
}

/* Why a connection failed, in words a user can act on: lws says only
 * "SSL err 1" when the relay's certificate is not trusted, while OpenSSL
 * still knows what was wrong with it. */
static enum err_code
tp_connect_error(struct transport *tp, struct lws *wsi, const char *why, char *msg, size_t size)
{
	SSL *ssl = tp->url.tls ? lws_get_ssl(wsi) : NULL;
	long verify = ssl != NULL ? SSL_get_verify_result(ssl) : X509_V_OK;

	if (verify != X509_V_OK) {
		snprintf(msg, size, "the relay's certificate is not trusted (%s)%s",
		         X509_verify_cert_error_string(verify),
		         tp->has_pin ? ""
		                     : "; if it is yours, register with --pin and its SHA-256");
		return ERR_AUTH; /* as a pin that does not match */
	}
	snprintf(msg, size, "cannot connect to the relay: %.100s",
	         why != NULL ? why : "unknown error");
	return ERR_NETWORK;
}

static int
tp_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct transport *tp = lws_get_opaque_user_data(wsi);
	const unsigned char *b = in;
	enum err_code code;
	char msg[160];

	(void)user;
	if (tp == NULL || !tp->live)
		return 0;
	switch (reason) {
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		code = tp_connect_error(tp, wsi, in, msg, sizeof msg);
		/* lws frees this wsi itself: detach it without killing. */
		tp_release(tp, wsi);
		tp_down_msg(tp, TRANSPORT_OFFLINE, code, msg);
		return 0;
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		tp_established(tp, wsi);
		return 0;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		return tp_receive(tp, wsi, in, len);
	case LWS_CALLBACK_CLIENT_RECEIVE_PONG:
		tp->last_rx_us = lws_now_usecs();
		return 0;
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		return tp_writeable(tp, wsi);
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		if (len >= 2)
			tp->close_code = (b[0] << 8) | b[1];
		return 0;
	case LWS_CALLBACK_CLIENT_CLOSED:
	case LWS_CALLBACK_CLOSED_CLIENT_HTTP:
	case LWS_CALLBACK_WSI_DESTROY:
		tp_release(tp, wsi);
		tp_closed(tp);
		return 0;
	default:
		return 0;
	}
}

/* Refuse a register frame that could never be sent, now rather than at
 * connect time. */
static int
tp_check_register(struct transport *tp, struct err *e)
{
	size_t len;
	char *text;

	tp->reg.id = 1;
	text = wire_build(&tp->reg, &len, e);
	if (text == NULL)
		return err_prefix(e, "registration");
	wipe_free(text, len);
	return 0;
}

struct transport *
transport_new(struct lws_context *lws, const struct transport_config *cfg,
              const struct transport_hooks *hooks, void *ctx, struct err *e)
{
	struct transport *tp;

	if (lws == NULL)
		return err_set(e, ERR_INTERNAL, "no event loop"), NULL;
	if (cfg->register_req == NULL && (cfg->account == NULL || !wire_name_valid(cfg->account)))
		return err_set(e, ERR_INVALID, "transport: bad account name"), NULL;
	if (cfg->register_req != NULL && cfg->register_req->type != WIRE_T_REGISTER)
		return err_set(e, ERR_INVALID, "transport: registration frame is not register"),
		       NULL;
	tp = xcalloc(1, sizeof *tp);
	tp->out_tail = &tp->out_head;
	tp->pending_tail = &tp->pending;
	if (transport_url_parse(cfg->url, &tp->url, e) < 0) {
		free(tp);
		return NULL;
	}
	tp->lws = lws;
	tp->vh = tp_vhost(lws, tp->url.tls, e);
	if (tp->vh == NULL) {
		transport_url_clear(&tp->url);
		free(tp);
		return NULL;
	}
	if (cfg->register_req != NULL) {
		tp->registering = true;
		tp->reg = *cfg->register_req;
		tp->reg.kind = WIRE_REQUEST;
		if (cfg->register_req->u.req.u.reg.token != NULL)
			tp->reg.u.req.u.reg.token = xstrdup(cfg->register_req->u.req.u.reg.token);
		snprintf(tp->account, sizeof tp->account, "%s", tp->reg.u.req.u.reg.account);
		memcpy(tp->secret, tp->reg.u.req.u.reg.secret, WIRE_SECRET_LEN);
		tp->device = 1;
		if (tp_check_register(tp, e) < 0) {
			transport_free(tp);
			return NULL;
		}
	} else {
		snprintf(tp->account, sizeof tp->account, "%s", cfg->account);
		memcpy(tp->secret, cfg->secret, WIRE_SECRET_LEN);
		tp->device = cfg->device;
	}
	tp->has_pin = cfg->has_pin;
	memcpy(tp->pin, cfg->pin_sha256, sizeof tp->pin);
	tp->keepalive_ms = cfg->keepalive_ms ? cfg->keepalive_ms : TP_DEF_KEEPALIVE_MS;
	tp->timeout_ms = cfg->request_timeout_ms ? cfg->request_timeout_ms : TP_DEF_TIMEOUT_MS;
	tp->backoff_min_ms = cfg->backoff_min_ms ? cfg->backoff_min_ms : TP_DEF_BACKOFF_MIN_MS;
	tp->backoff_max_ms = cfg->backoff_max_ms ? cfg->backoff_max_ms : TP_DEF_BACKOFF_MAX_MS;
	if (hooks != NULL)
		tp->hooks = *hooks;
	tp->ctx = ctx;
	tp->state = TRANSPORT_OFFLINE;
	lws_sul_schedule(lws, 0, &tp->reconnect_sul, tp_reconnect_cb, 1);
	return tp;
}

void
transport_free(struct transport *tp)
{
	struct err e = {0};
	struct tp_pending *p, *all;

	if (tp == NULL)
		return;
	lws_sul_cancel(&tp->reconnect_sul);
	lws_sul_cancel(&tp->keepalive_sul);
	if (tp->wsi != NULL) {
		lws_set_opaque_user_data(tp->wsi, NULL);
		lws_set_timeout(tp->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
		tp->wsi = NULL;
	}
	tp->live = false;
	tp->state = TRANSPORT_OFFLINE;
	tp_out_clear(tp);
	err_set(&e, ERR_NETWORK, "the relay connection was closed");
	all = tp_pending_take_all(tp);
	while ((p = all) != NULL) {
		all = p->next;
		if (p->kind == TP_USER)
			p->cb(p->arg, NULL, &e);
		free(p);
	}
	wire_frame_free(&tp->reg);
	transport_url_clear(&tp->url);
	free(tp->rx);
	wipe_free(tp, sizeof *tp);
}

enum transport_state
transport_state(const struct transport *tp)
{
	return tp->state;
}

int
transport_request(struct transport *tp, struct wire_frame *req, transport_reply_fn *cb, void *arg,
                  struct err *e)
{
	if (cb == NULL)
		return err_set(e, ERR_INTERNAL, "transport_request without a callback");
	if (tp->state != TRANSPORT_CONNECTED)
		return err_set(e, ERR_NETWORK, "not connected to the relay (%s)",
		               transport_state_name(tp->state));
	return tp_send_request(tp, req, TP_USER, cb, arg, tp->timeout_ms, e);
}

int
transport_ack(struct transport *tp, const uint64_t *ids, size_t n, struct err *e)
{
	struct wire_frame f;
	size_t chunk;

	if (tp->state != TRANSPORT_CONNECTED)
		return err_set(e, ERR_NETWORK, "not connected to the relay (%s)",
		               transport_state_name(tp->state));
	while (n > 0) {
		chunk = n < WIRE_MAX_ACK ? n : WIRE_MAX_ACK;
		memset(&f, 0, sizeof f);
		f.type = WIRE_T_ACK;
		f.u.req.u.ack.ids = (uint64_t *)ids; /* borrowed; not freed */
		f.u.req.u.ack.n_ids = chunk;
		if (tp_send_request(tp, &f, TP_ACK, NULL, NULL, tp->timeout_ms, e) < 0)
			return -1;
		ids += chunk;
		n -= chunk;
	}
	return 0;
}

void
transport_reconnect(struct transport *tp)
{
	if (tp->live)
		return;
	tp->attempt = 0;
	lws_sul_schedule(tp->lws, 0, &tp->reconnect_sul, tp_reconnect_cb, 1);
}

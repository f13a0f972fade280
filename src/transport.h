/* The relay connection: one sotto-protocol 1 WebSocket client on the
 * engine's libwebsockets loop. It authenticates (or registers), matches
 * responses to requests, hands envelopes and pushes up, keeps the link alive
 * and reconnects with backoff. Everything runs on the event-loop thread. */
#ifndef SOTTO_TRANSPORT_H
#define SOTTO_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"
#include "wire/wire.h"

struct lws_context;
struct transport;

enum transport_state {
	/* Not connected; a reconnect is scheduled (backoff). */
	TRANSPORT_OFFLINE,
	/* TCP/TLS/WebSocket handshake or the auth/register frame in flight. */
	TRANSPORT_CONNECTING,
	/* Authenticated: requests may be sent. */
	TRANSPORT_CONNECTED,
	/* Terminal states: no automatic reconnect (transport_reconnect()
	 * starts again). */
	TRANSPORT_AUTH_FAILED, /* 401 / close 4001: wrong or unknown secret */
	TRANSPORT_REPLACED,    /* close 4004: the same device connected elsewhere */
	TRANSPORT_REMOVED,     /* close 4005: this device was removed */
	TRANSPORT_FAILED,      /* registration mode only: the register failed */
};

struct transport_config {
	/* ws://HOST[:PORT][/PREFIX] or wss://...; "/v1/ws" is appended to
	 * the path unless it already ends with it. Copied. */
	const char *url;
	/* Who we are (copied). In registration mode device is ignored. */
	const char *account;
	uint32_t device;
	uint8_t secret[WIRE_SECRET_LEN]; /* copied, wiped on free */
	/* wss:// only. When has_pin, the server certificate's SHA-256 (over
	 * its DER encoding) must equal pin_sha256 and nothing else is
	 * checked (self-signed is fine); otherwise the chain is verified
	 * against the system CAs and the host name must match. */
	bool has_pin;
	uint8_t pin_sha256[32];
	/* Registration mode when non-NULL: the first frame on the first
	 * connection is this "register" request (copied; id and kind are
	 * set by the transport) instead of "auth". On 200 the transport is
	 * CONNECTED as device 1 and later reconnects use auth. Any failure
	 * before that (connection refused, 403 name_taken, ...) ends in
	 * TRANSPORT_FAILED with the reason in on_state's err: ERR_EXISTS
	 * (name_taken), ERR_AUTH (registration_closed), ERR_RATE (429),
	 * ERR_INVALID (400), ERR_NETWORK (no connection, timeout, 5xx). It
	 * never reconnects before registration succeeded. */
	const struct wire_frame *register_req;
	/* Tuning; 0 means the default in brackets. */
	uint32_t keepalive_ms;       /* [10000] ping after this much silence; a ping
	                                unanswered for as long drops the link */
	uint32_t request_timeout_ms; /* [20000] per request, and for the auth frame */
	uint32_t backoff_min_ms;     /* [500] first reconnect delay (full jitter) */
	uint32_t backoff_max_ms;     /* [60000] cap of the doubling delay */
};

/* Hooks into the owner; all optional (NULL). Called from the event loop,
 * never from inside a transport_* call. They may call transport_request()
 * and transport_ack() but NOT transport_free(). */
struct transport_hooks {
	/* The state changed. why is NULL for normal transitions and says
	 * why for OFFLINE after a drop, the terminal states and
	 * registration failures. */
	void (*on_state)(void *ctx, enum transport_state state, const struct err *why);
	/* An envelope push; env and its content are borrowed for the call.
	 * Ack it with transport_ack() only once it is durably processed. */
	void (*on_envelope)(void *ctx, const struct wire_envelope *env);
	/* Any other push (WIRE_P_QUEUE_EMPTY, WIRE_P_KEYS_LOW); borrowed. */
	void (*on_push)(void *ctx, const struct wire_frame *push);
};

/* Called exactly once per accepted request: with the response (any
 * status; borrowed for the call) and resp_err NULL, or with resp NULL and
 * resp_err set (ERR_NETWORK: the connection dropped or the request timed
 * out before an answer came, so the request may or may not have reached
 * the relay; ERR_INVALID: the answer could not be parsed). Never called from inside
 * transport_request(). During transport_free() pending callbacks run with ERR_NETWORK. */
typedef void transport_reply_fn(void *arg, const struct wire_frame *resp,
                                const struct err *resp_err);

/* Create and start connecting at once (the first attempt runs from the
 * event loop). cfg, hooks and the frame behind cfg->register_req are
 * copied; ctx is passed to the hooks. ERR_INVALID for a bad URL, account
 * name or register frame; ERR_INTERNAL when libwebsockets refuses the
 * client vhost. The caller owns the result: transport_free(). */
struct transport *transport_new(struct lws_context *lws, const struct transport_config *cfg,
                                const struct transport_hooks *hooks, void *ctx, struct err *e);
/* Close the connection (if any), fail pending requests with ERR_NETWORK
 * (their callbacks run now), cancel timers, wipe the secret. NULL is fine.
 * Must not be called from a hook or a reply callback. */
void transport_free(struct transport *tp);

enum transport_state transport_state(const struct transport *tp);
const char *transport_state_name(enum transport_state s); /* "connected" ... */

/* Send a request. req->kind is set to WIRE_REQUEST and req->id assigned
 * here; the transport serialises it at once and keeps no pointer to req
 * (the caller still owns and frees it). Only while CONNECTED: otherwise
 * -1 with ERR_NETWORK and cb is never called. ERR_INVALID / ERR_TOOLARGE
 * when the frame cannot be built. On 0, cb(arg, ...) runs exactly once
 * later. */
int transport_request(struct transport *tp, struct wire_frame *req, transport_reply_fn *cb,
                      void *arg, struct err *e);

/* Acknowledge delivered envelopes (split into requests of at most
 * WIRE_MAX_ACK ids). Fire and forget: when not connected, or the
 * connection drops first, the relay simply pushes them again on the next
 * connection. -1 (ERR_NETWORK) when not connected. */
int transport_ack(struct transport *tp, const uint64_t *ids, size_t n, struct err *e);

/* Reset the backoff and connect now: after a terminal state (the user
 * asked to take over from another instance), or to skip the wait while
 * OFFLINE. A no-op while CONNECTING or CONNECTED. */
void transport_reconnect(struct transport *tp);

/* The error a non-200 response stands for: 0 for 200, else -1 with
 * e set from the status (400 ERR_INVALID, 401 ERR_AUTH, 403 ERR_EXISTS
 * for name_taken else ERR_AUTH, 404 ERR_NOTFOUND, 409 ERR_STALE, 410
 * ERR_NOTFOUND, 413 ERR_TOOLARGE, 429 ERR_RATE, 5xx ERR_NETWORK) and
 * the relay's message. */
int transport_resp_err(const struct wire_frame *resp, struct err *e);

/* Delay before reconnect attempt number attempt (0-based): a uniformly
 * random value in [0, min(max_ms, min_ms * 2^attempt)] ("full jitter").
 * Exposed for tests. */
uint32_t transport_backoff_ms(uint32_t min_ms, uint32_t max_ms, unsigned attempt);

#endif

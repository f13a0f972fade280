/* Harness for the msg tests: parties (a real SQLCipher profile, libsignal
 * keys and a struct core running msg.c) and an in-process relay that
 * checks device lists like sotto-relay does (409 missing/extra/stale, 404,
 * idempotent msg_id), queues envelopes and delivers them until acked.
 * The engine, transport and account.c are replaced by stubs, so the tests
 * run without an event loop. */
#ifndef SOTTO_TESTS_TEST_MSG_HARNESS_H
#define SOTTO_TESTS_TEST_MSG_HARNESS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core.h"
#include "msg.h"
#include "msg_int.h"
#include "tests/e2e_party.h"
#include "wire/wire.h"

#define H_MAX_PARTIES 8
#ifndef H_MAX_ENV /* a benchmark may ask for more */
#define H_MAX_ENV 4096
#define H_MAX_REQ 1024
#endif

struct h_party {
	struct core c; /* first: the fetch stub finds the party from its core */
	struct e2e_party ep;
	uint32_t device;
	bool online;
	bool removed;   /* no longer on the relay */
	json_t *events; /* [{type, data}] */
	size_t n_acks;
};

struct h_env {
	struct h_party *to;
	struct wire_envelope env;
	bool delivered, acked;
};

struct h_msg {
	uint32_t device, reg;
	int type;
	uint8_t *ct;
	size_t len;
};

struct h_req {
	struct h_party *from;
	struct msg_job *job;
	char msg_id[WIRE_MSG_ID_MAX + 1];
	size_t n_sends;
	struct {
		char to[WIRE_NAME_MAX + 1];
		struct h_msg m[16];
		size_t n;
	} s[2];
};

struct h_relay {
	struct h_party *parties[H_MAX_PARTIES];
	size_t np;
	struct h_env env[H_MAX_ENV];
	size_t nenv;
	uint64_t next_id;
	struct h_req req[H_MAX_REQ];
	size_t nreq, next_req;
	char *done_ids[H_MAX_REQ]; /* msg_ids answered 200 */
	size_t ndone;
	/* Fault injection for the next request: a status to answer instead
	 * (0: none), or drop the answer (ERR_NETWORK to the sender). */
	int force_status;
	bool drop_answer;
};

extern struct h_relay h_relay;
extern signal_context *h_sig;

/* cmocka group setup/teardown: the signal context and an empty relay. */
int h_setup(void **state);
int h_teardown(void **state);

/* A party on the relay, unlocked, online. */
void h_party_new(struct h_party *p, const char *name, uint32_t device);
void h_party_free(struct h_party *p);
void h_set_online(struct h_party *p, bool online);
/* Close and reopen the profile and the msg half (a restart). */
void h_party_restart(struct h_party *p);

/* Run relay requests and deliveries until nothing moves. */
void h_pump(void);
/* Deliver p's unacked envelopes again (a new connection). */
void h_reconnect(struct h_party *p);

/* Send text through msg_send_text; returns the history id. */
int64_t h_send(struct h_party *p, const char *to, const char *text);
/* A JSON-RPC method as frontends call it. Returns the result (caller
 * decrefs) or NULL with *code set (the error's err_code). */
json_t *h_call(struct h_party *p, const char *method, json_t *params, enum err_code *code);

/* The newest event of a type since the start (NULL if none). */
json_t *h_event(struct h_party *p, const char *type);
size_t h_count_events(struct h_party *p, const char *type);
/* The stored message (caller clears). */
void h_get(struct h_party *p, int64_t id, struct history_message *out);
size_t h_history_count(struct h_party *p, const char *peer);
size_t h_outbox_pending(struct h_party *p);

#endif

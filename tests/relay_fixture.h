/* Fixture for tests/test_relay_integ.c: the real sotto-relay as a child
 * process, accounts whose keys come from libsignal, and blocking
 * request/response helpers. Helpers fail the running cmocka test on any
 * unexpected answer. */
#ifndef SOTTO_TESTS_RELAY_FIXTURE_H
#define SOTTO_TESTS_RELAY_FIXTURE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <signal/signal_protocol.h>

#include "tests/wsclient.h"
#include "util/err.h"
#include "wire/wire.h"

#define RELAY_FIXTURE_TIMEOUT_MS 5000

/* Set by the test's setup (cprov_context_create) before keys are made. */
extern signal_context *relay_fixture_signal_ctx;

struct relay_fixture {
	pid_t pid;
	int port;
	char data[512];
};

struct relay_fixture_acct {
	char name[WIRE_NAME_MAX + 1];
	uint8_t secret[WIRE_SECRET_LEN];
	uint32_t reg_id;
	uint32_t device;
	ec_key_pair *ik;
	uint8_t ik_pub[WIRE_KEY_LEN];
};

struct relay_fixture_peer {
	struct wsclient *ws;
	uint64_t next_id;
	char *pushes[4096];
	size_t n_pushes;
};

int64_t relay_fixture_now_ms(void);

/* Start $top_builddir/sotto-relay on 127.0.0.1:0 with data dir `data`
 * (stderr to data.log) and up to two extra arguments (NULL for none);
 * reads the port from its first line. */
void relay_fixture_start(struct relay_fixture *r, const char *data, const char *extra1,
                         const char *extra2);
/* SIGTERM and wait: the wait status. */
int relay_fixture_stop(struct relay_fixture *r);
void relay_fixture_kill9(struct relay_fixture *r);
/* End of a test group: stop r, free relay_fixture_signal_ctx, and remove
 * tmp_root if the relay exited cleanly (else keep it for its log). 0 when
 * the relay exited 0, -1 otherwise. */
int relay_fixture_finish(struct relay_fixture *r, const char *tmp_root);

void relay_fixture_key_serialize(ec_public_key *key, uint8_t out[WIRE_KEY_LEN]);
/* A fresh identity, registration id and secret under that name. */
void relay_fixture_acct_init(struct relay_fixture_acct *a, const char *name);
void relay_fixture_acct_free(struct relay_fixture_acct *a);
/* A signed prekey with a new key pair, signed by signer. */
void relay_fixture_spk(ec_key_pair *signer, uint32_t id, struct wire_signed_prekey *spk);
/* n one-time prekeys with ids first, first + 1, ... */
void relay_fixture_prekeys(struct wire_prekey *pk, size_t n, uint32_t first);

struct relay_fixture_peer *relay_fixture_connect(int port);
void relay_fixture_close(struct relay_fixture_peer *p);
/* Give req the next id and send it. */
void relay_fixture_send_frame(struct relay_fixture_peer *p, struct wire_frame *req);
/* The response to request id (pushes meanwhile are stashed). */
struct wire_frame relay_fixture_response(struct relay_fixture_peer *p, uint64_t id);
struct wire_frame relay_fixture_call(struct relay_fixture_peer *p, struct wire_frame *req);
/* The next push of that kind, stashed ones first; 0 on timeout. */
int relay_fixture_push(struct relay_fixture_peer *p, enum wire_push kind, struct wire_frame *out,
                       int timeout_ms);
/* The next frame's text, stashed pushes first. */
char *relay_fixture_next(struct relay_fixture_peer *p);

/* Register a (must succeed) / authenticate (must succeed) / try. */
struct relay_fixture_peer *relay_fixture_register(int port, struct relay_fixture_acct *a);
struct relay_fixture_peer *relay_fixture_auth(int port, struct relay_fixture_acct *a);
int relay_fixture_try_auth(struct relay_fixture_peer *p, const char *name, uint32_t device,
                           const uint8_t *secret);
/* A request without members; its status. */
int relay_fixture_simple(struct relay_fixture_peer *p, enum wire_type type);
/* A send with the same content for each (device, registration id). */
struct wire_frame relay_fixture_send(struct relay_fixture_peer *p, const char *to,
                                     const char *msg_id, const uint32_t *devs, const uint32_t *regs,
                                     size_t n, const char *content);
/* A msg_id (base64 of 16 bytes) derived from n; the caller frees it. */
char *relay_fixture_msg_id(unsigned n);
void relay_fixture_ack(struct relay_fixture_peer *p, const uint64_t *ids, size_t n);
/* Envelopes until queue.empty (contents may be NULL); with ack set they
 * are acked as they come so the window never stalls. The count. */
size_t relay_fixture_drain_ack(struct relay_fixture_peer *p, char **contents, uint64_t *ids,
                               size_t max, int ack);
size_t relay_fixture_drain(struct relay_fixture_peer *p, char **contents, uint64_t *ids,
                           size_t max);

#endif

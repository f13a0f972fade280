/* Integration test of sotto-relay: starts the real binary on 127.0.0.1:0
 * with a temporary data directory and speaks sotto-protocol 1 to it over
 * real sockets, with keys made by libsignal itself. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>
#include <signal/curve.h>

#include "crypto/cprov.h"
#include "tests/relay_fixture.h"
#include "tests/wsclient.h"
#include "util/err.h"
#include "wire/b64.h"
#include "wire/wire.h"

/* The shared relay's --auth-timeout, short so the deadline test does not
 * wait out the default 10 s, long enough for every other test to
 * authenticate its connections first. */
#define INTEG_AUTH_TIMEOUT_S 2
#define INTEG_STR(x) #x
#define INTEG_XSTR(x) INTEG_STR(x)

static char tmp_root[256];
static struct relay_fixture shared;
static struct relay_fixture own;   /* a test's private relay; teardown kills it after a failure */
static struct wsclient *idle_conn; /* never authenticates: the auth deadline */
static int64_t idle_since_ms;

/* ---- setup ---- */

static int
group_setup(void **state)
{
	struct err e = {0};
	char *data;
	const char *tmp = getenv("TMPDIR");
	(void)state;

	srand((unsigned)time(NULL));
	if (cprov_context_create(&relay_fixture_signal_ctx, &e) < 0)
		return -1;
	snprintf(tmp_root, sizeof tmp_root, "%s/relay-integ-XXXXXX", tmp ? tmp : "/tmp");
	if (mkdtemp(tmp_root) == NULL)
		return -1;
	data = xasprintf("%s/shared", tmp_root);
	relay_fixture_start(&shared, data, "--max-blob=64K",
	                    "--auth-timeout=" INTEG_XSTR(INTEG_AUTH_TIMEOUT_S));
	free(data);
	idle_conn = wsclient_connect(shared.port, WIRE_PATH, WIRE_SUBPROTOCOL, NULL);
	idle_since_ms = relay_fixture_now_ms();
	return idle_conn == NULL ? -1 : 0;
}

static int
group_teardown(void **state)
{
	(void)state;

	wsclient_free(idle_conn);
	if (own.pid > 0)
		relay_fixture_kill9(&own);
	return relay_fixture_finish(&shared, tmp_root);
}

/* ---- tests ---- */

static void
test_register_takes_a_name_once(void **state)
{
	struct relay_fixture_acct a, thief;
	struct relay_fixture_peer *p, *q;
	struct wire_frame req = {0}, resp;
	(void)state;

	relay_fixture_acct_init(&a, "reg.alice");
	relay_fixture_acct_init(&thief, "reg.alice");
	p = relay_fixture_register(shared.port, &a);
	assert_int_equal(relay_fixture_simple(p, WIRE_T_PING), 200);
	/* Registering again on the same connection is refused. */
	req.type = WIRE_T_REGISTER;
	strcpy(req.u.req.u.reg.account, "reg.other");
	req.u.req.u.reg.registration_id = 1;
	memcpy(req.u.req.u.reg.identity_key, a.ik_pub, WIRE_KEY_LEN);
	relay_fixture_spk(a.ik, 1, &req.u.req.u.reg.signed_prekey);
	resp = relay_fixture_call(p, &req);
	assert_int_equal(resp.u.resp.status, 400);
	assert_string_equal(resp.u.resp.error, "already_authenticated");
	wire_frame_free(&resp);

	/* Someone else's keys and secret cannot take the name over. */
	q = relay_fixture_connect(shared.port);
	memset(&req, 0, sizeof req);
	req.type = WIRE_T_REGISTER;
	strcpy(req.u.req.u.reg.account, thief.name);
	req.u.req.u.reg.registration_id = thief.reg_id;
	memcpy(req.u.req.u.reg.identity_key, thief.ik_pub, WIRE_KEY_LEN);
	relay_fixture_spk(thief.ik, 1, &req.u.req.u.reg.signed_prekey);
	memcpy(req.u.req.u.reg.secret, thief.secret, WIRE_SECRET_LEN);
	resp = relay_fixture_call(q, &req);
	assert_int_equal(resp.u.resp.status, 403);
	assert_string_equal(resp.u.resp.error, "name_taken");
	wire_frame_free(&resp);
	/* And the thief's secret does not authenticate as the owner. */
	assert_int_equal(relay_fixture_try_auth(q, a.name, 1, thief.secret), 401);
	assert_int_equal(wsclient_wait_close(q->ws, RELAY_FIXTURE_TIMEOUT_MS),
	                 WIRE_CLOSE_AUTH_FAILED);
	relay_fixture_close(q);
	relay_fixture_close(p);

	/* The owner still gets in. */
	p = relay_fixture_auth(shared.port, &a);
	relay_fixture_close(p);
	relay_fixture_acct_free(&a);
	relay_fixture_acct_free(&thief);
}

static void
test_first_frame_must_authenticate(void **state)
{
	struct relay_fixture_peer *p;
	struct wire_frame resp;
	int status = 0;
	(void)state;

	p = relay_fixture_connect(shared.port);
	assert_int_equal(relay_fixture_simple(p, WIRE_T_KEYS_COUNT), 401);
	assert_int_equal(wsclient_wait_close(p->ws, RELAY_FIXTURE_TIMEOUT_MS),
	                 WIRE_CLOSE_NOT_AUTHENTICATED);
	relay_fixture_close(p);

	p = relay_fixture_connect(shared.port);
	assert_int_equal(wsclient_send_text(p->ws, "garbage"), 0);
	resp = relay_fixture_response(p, 0);
	assert_int_equal(resp.u.resp.status, 401);
	wire_frame_free(&resp);
	assert_int_equal(wsclient_wait_close(p->ws, RELAY_FIXTURE_TIMEOUT_MS),
	                 WIRE_CLOSE_NOT_AUTHENTICATED);
	relay_fixture_close(p);

	/* Upgrades without the subprotocol or on another path are refused. */
	assert_null(wsclient_connect(shared.port, WIRE_PATH, NULL, &status));
	assert_int_equal(status, 400);
	assert_null(wsclient_connect(shared.port, "/v2/ws", WIRE_SUBPROTOCOL, &status));
	assert_int_equal(status, 404);
}

static void
test_bad_signatures_are_refused(void **state)
{
	struct relay_fixture_acct a, mallory;
	struct relay_fixture_peer *p;
	struct wire_frame req = {0}, resp;
	(void)state;

	relay_fixture_acct_init(&a, "sig.alice");
	relay_fixture_acct_init(&mallory, "sig.mallory");
	/* Registration with a signed prekey signed by another key. */
	p = relay_fixture_connect(shared.port);
	req.type = WIRE_T_REGISTER;
	strcpy(req.u.req.u.reg.account, a.name);
	req.u.req.u.reg.registration_id = a.reg_id;
	memcpy(req.u.req.u.reg.identity_key, a.ik_pub, WIRE_KEY_LEN);
	relay_fixture_spk(mallory.ik, 1, &req.u.req.u.reg.signed_prekey);
	memcpy(req.u.req.u.reg.secret, a.secret, WIRE_SECRET_LEN);
	resp = relay_fixture_call(p, &req);
	assert_int_equal(resp.u.resp.status, 400);
	assert_string_equal(resp.u.resp.error, "bad_signature");
	wire_frame_free(&resp);
	relay_fixture_close(p);

	p = relay_fixture_register(shared.port, &a);
	memset(&req, 0, sizeof req);
	req.type = WIRE_T_KEYS_UPLOAD;
	req.u.req.u.keys_upload.has_signed_prekey = 1;
	relay_fixture_spk(mallory.ik, 2, &req.u.req.u.keys_upload.signed_prekey);
	resp = relay_fixture_call(p, &req);
	assert_int_equal(resp.u.resp.status, 400);
	assert_string_equal(resp.u.resp.error, "bad_signature");
	wire_frame_free(&resp);
	/* A flipped bit in a good signature is refused too. */
	relay_fixture_spk(a.ik, 2, &req.u.req.u.keys_upload.signed_prekey);
	req.u.req.u.keys_upload.signed_prekey.sig[10] ^= 1;
	resp = relay_fixture_call(p, &req);
	assert_int_equal(resp.u.resp.status, 400);
	wire_frame_free(&resp);
	req.u.req.u.keys_upload.signed_prekey.sig[10] ^= 1;
	resp = relay_fixture_call(p, &req);
	assert_int_equal(resp.u.resp.status, 200);
	wire_frame_free(&resp);
	relay_fixture_close(p);
	relay_fixture_acct_free(&a);
	relay_fixture_acct_free(&mallory);
}

static void
test_prekey_fetches_never_share_a_key(void **state)
{
	enum { N_KEYS = 30, N_FETCH = 20 };
	struct relay_fixture_acct bob, al, cy;
	struct relay_fixture_peer *pb, *pa, *pc;
	struct wire_prekey pk[N_KEYS];
	struct wire_frame req = {0}, resp;
	int seen[N_KEYS] = {0}, with_key = 0, without = 0;
	uint64_t ida[N_FETCH], idc[N_FETCH];
	size_t i, k;
	(void)state;

	relay_fixture_acct_init(&bob, "pk.bob");
	relay_fixture_acct_init(&al, "pk.al");
	relay_fixture_acct_init(&cy, "pk.cy");
	pb = relay_fixture_register(shared.port, &bob);
	pa = relay_fixture_register(shared.port, &al);
	pc = relay_fixture_register(shared.port, &cy);
	relay_fixture_prekeys(pk, N_KEYS, 1000);
	req.type = WIRE_T_KEYS_UPLOAD;
	req.u.req.u.keys_upload.prekeys = pk;
	req.u.req.u.keys_upload.n_prekeys = N_KEYS;
	resp = relay_fixture_call(pb, &req);
	assert_int_equal(resp.u.resp.status, 200);
	assert_int_equal(resp.u.resp.count, N_KEYS);
	wire_frame_free(&resp);
	/* The same ids again: refused, nothing added. */
	resp = relay_fixture_call(pb, &req);
	assert_int_equal(resp.u.resp.status, 400);
	assert_string_equal(resp.u.resp.error, "prekey_exists");
	wire_frame_free(&resp);

	/* Two fetchers race, each with requests in flight. */
	for (i = 0; i < N_FETCH; i++) {
		memset(&req, 0, sizeof req);
		req.type = WIRE_T_KEYS_FETCH;
		strcpy(req.u.req.u.keys_fetch.account, bob.name);
		relay_fixture_send_frame(pa, &req);
		ida[i] = req.id;
		relay_fixture_send_frame(pc, &req);
		idc[i] = req.id;
	}
	for (i = 0; i < 2 * N_FETCH; i++) {
		resp = i % 2 ? relay_fixture_response(pc, idc[i / 2])
		             : relay_fixture_response(pa, ida[i / 2]);
		assert_int_equal(resp.u.resp.status, 200);
		assert_int_equal(resp.u.resp.n_bundles, 1);
		assert_memory_equal(resp.u.resp.identity_key, bob.ik_pub, WIRE_KEY_LEN);
		assert_int_equal(resp.u.resp.bundles[0].registration_id, bob.reg_id);
		if (resp.u.resp.bundles[0].has_prekey) {
			k = resp.u.resp.bundles[0].prekey.id - 1000;
			assert_true(k < N_KEYS);
			assert_int_equal(seen[k], 0);
			seen[k] = 1;
			assert_memory_equal(resp.u.resp.bundles[0].prekey.pub, pk[k].pub,
			                    WIRE_KEY_LEN);
			with_key++;
		} else {
			without++;
		}
		wire_frame_free(&resp);
	}
	assert_int_equal(with_key, N_KEYS);
	assert_int_equal(without, 2 * N_FETCH - N_KEYS);
	assert_int_equal(relay_fixture_simple(pb, WIRE_T_KEYS_COUNT), 200);
	/* Bob, connected, was told his keys ran low. */
	assert_true(relay_fixture_push(pb, WIRE_P_KEYS_LOW, &resp, RELAY_FIXTURE_TIMEOUT_MS));
	assert_true(resp.u.push.count < WIRE_PREKEY_LOW);
	wire_frame_free(&resp);
	/* Unknown accounts and devices. */
	memset(&req, 0, sizeof req);
	req.type = WIRE_T_KEYS_FETCH;
	strcpy(req.u.req.u.keys_fetch.account, "pk.nobody");
	resp = relay_fixture_call(pa, &req);
	assert_int_equal(resp.u.resp.status, 404);
	wire_frame_free(&resp);
	strcpy(req.u.req.u.keys_fetch.account, bob.name);
	req.u.req.u.keys_fetch.device = 9;
	resp = relay_fixture_call(pa, &req);
	assert_int_equal(resp.u.resp.status, 404);
	wire_frame_free(&resp);
	relay_fixture_close(pa);
	relay_fixture_close(pb);
	relay_fixture_close(pc);
	relay_fixture_acct_free(&bob);
	relay_fixture_acct_free(&al);
	relay_fixture_acct_free(&cy);
}

static void
test_send_delivers_in_order_and_redelivers_unacked(void **state)
{
	struct relay_fixture_acct al, bob;
	struct relay_fixture_peer *pa, *pb;
	struct wire_frame resp;
	char *contents[8], *mid;
	uint64_t ids[8];
	size_t n, i;
	char text[32];
	(void)state;

	relay_fixture_acct_init(&al, "dl.al");
	relay_fixture_acct_init(&bob, "dl.bob");
	pa = relay_fixture_register(shared.port, &al);
	pb = relay_fixture_register(shared.port, &bob);
	relay_fixture_close(pb);
	for (i = 0; i < 3; i++) {
		snprintf(text, sizeof text, "message %zu", i);
		mid = relay_fixture_msg_id((unsigned)(100 + i));
		resp = relay_fixture_send(pa, bob.name, mid, &bob.device, &bob.reg_id, 1, text);
		free(mid);
		assert_int_equal(resp.u.resp.status, 200);
		assert_true(resp.u.resp.ts > 0);
		wire_frame_free(&resp);
	}
	pb = relay_fixture_auth(shared.port, &bob);
	n = relay_fixture_drain(pb, contents, ids, 8);
	assert_int_equal(n, 3);
	for (i = 0; i < n; i++) {
		snprintf(text, sizeof text, "message %zu", i);
		assert_string_equal(contents[i], text);
		if (i > 0)
			assert_true(ids[i] > ids[i - 1]);
		free(contents[i]);
	}
	relay_fixture_ack(pb, ids, 1);
	relay_fixture_close(pb);

	/* The two unacked come again, in order; the acked one does not. */
	pb = relay_fixture_auth(shared.port, &bob);
	n = relay_fixture_drain(pb, contents, ids, 8);
	assert_int_equal(n, 2);
	assert_string_equal(contents[0], "message 1");
	assert_string_equal(contents[1], "message 2");
	free(contents[0]);
	free(contents[1]);
	relay_fixture_ack(pb, ids, 2);

	/* A message sent while bob is connected arrives as a push. */
	mid = relay_fixture_msg_id(200);
	resp = relay_fixture_send(pa, bob.name, mid, &bob.device, &bob.reg_id, 1, "live");
	free(mid);
	assert_int_equal(resp.u.resp.status, 200);
	wire_frame_free(&resp);
	assert_true(relay_fixture_push(pb, WIRE_P_ENVELOPE, &resp, RELAY_FIXTURE_TIMEOUT_MS));
	assert_string_equal(resp.u.push.envelope.from, al.name);
	assert_int_equal(resp.u.push.envelope.from_device, 1);
	assert_int_equal(resp.u.push.envelope.from_registration_id, al.reg_id);
	assert_memory_equal(resp.u.push.envelope.content, "live", 4);
	ids[0] = resp.u.push.envelope.id;
	wire_frame_free(&resp);
	relay_fixture_ack(pb, ids, 1);
	relay_fixture_close(pb);

	pb = relay_fixture_auth(shared.port, &bob);
	assert_int_equal(relay_fixture_drain(pb, NULL, ids, 8), 0);
	relay_fixture_close(pb);
	relay_fixture_close(pa);
	relay_fixture_acct_free(&al);
	relay_fixture_acct_free(&bob);
}

static void
test_device_list_mismatches_are_reported(void **state)
{
	struct relay_fixture_acct al, bob;
	struct relay_fixture_peer *pa, *pb, *pb2, *pb2b;
	struct wire_frame req = {0}, resp;
	uint8_t secret2[WIRE_SECRET_LEN];
	uint32_t devs[3], regs[3], reg2 = 4242;
	struct wire_send sends[2];
	struct wire_message m;
	(void)state;

	relay_fixture_acct_init(&al, "mm.al");
	relay_fixture_acct_init(&bob, "mm.bob");
	pa = relay_fixture_register(shared.port, &al);
	pb = relay_fixture_register(shared.port, &bob);
	/* Bob enrols a second device. */
	RAND_bytes(secret2, sizeof secret2);
	req.type = WIRE_T_DEVICE_ADD;
	req.u.req.u.device_add.registration_id = reg2;
	memcpy(req.u.req.u.device_add.secret, secret2, WIRE_SECRET_LEN);
	relay_fixture_spk(bob.ik, 7, &req.u.req.u.device_add.signed_prekey);
	resp = relay_fixture_call(pb, &req);
	assert_int_equal(resp.u.resp.status, 200);
	assert_int_equal(resp.u.resp.device, 2);
	wire_frame_free(&resp);
	req.type = WIRE_T_DEVICE_LIST;
	resp = relay_fixture_call(pb, &req);
	assert_int_equal(resp.u.resp.status, 200);
	assert_int_equal(resp.u.resp.n_devices, 2);
	assert_int_equal(resp.u.resp.devices[1].registration_id, reg2);
	wire_frame_free(&resp);

	devs[0] = 1, regs[0] = bob.reg_id;
	resp = relay_fixture_send(pa, bob.name, "3q2+7wAAAAAAAAAAAAAAAA==", devs, regs, 1, "x");
	assert_int_equal(resp.u.resp.status, 409);
	assert_int_equal(resp.u.resp.mismatches[0].n_missing, 1);
	assert_int_equal(resp.u.resp.mismatches[0].missing[0], 2);
	wire_frame_free(&resp);
	devs[1] = 2, regs[1] = reg2, devs[2] = 3, regs[2] = 5;
	resp = relay_fixture_send(pa, bob.name, "3q2+7wAAAAAAAAAAAAAAAA==", devs, regs, 3, "x");
	assert_int_equal(resp.u.resp.status, 409);
	assert_int_equal(resp.u.resp.mismatches[0].n_extra, 1);
	assert_int_equal(resp.u.resp.mismatches[0].extra[0], 3);
	assert_int_equal(resp.u.resp.mismatches[0].n_missing, 0);
	wire_frame_free(&resp);
	regs[1] = reg2 + 1;
	resp = relay_fixture_send(pa, bob.name, "3q2+7wAAAAAAAAAAAAAAAA==", devs, regs, 2, "x");
	assert_int_equal(resp.u.resp.status, 409);
	assert_int_equal(resp.u.resp.mismatches[0].n_stale, 1);
	assert_int_equal(resp.u.resp.mismatches[0].stale[0], 2);
	wire_frame_free(&resp);
	/* A refused send queued nothing; the corrected retry goes through. */
	regs[1] = reg2;
	resp = relay_fixture_send(pa, bob.name, "3q2+7wAAAAAAAAAAAAAAAA==", devs, regs, 2, "x");
	assert_int_equal(resp.u.resp.status, 200);
	wire_frame_free(&resp);
	resp = relay_fixture_send(pa, "mm.nobody", "3q2+7wAAAAAAAAAAAAAAAQ==", devs, regs, 1, "x");
	assert_int_equal(resp.u.resp.status, 404);
	wire_frame_free(&resp);

	/* Bob's own account: the sending device leaves itself out. */
	devs[0] = 2, regs[0] = reg2;
	resp = relay_fixture_send(pb, bob.name, "123e4567-e89b-12d3-a456-426614174000", devs, regs,
	                          1, "s");
	assert_int_equal(resp.u.resp.status, 200);
	wire_frame_free(&resp);
	devs[0] = 1, regs[0] = bob.reg_id, devs[1] = 2, regs[1] = reg2;
	resp = relay_fixture_send(pb, bob.name, "123e4567-e89b-12d3-a456-426614174001", devs, regs,
	                          2, "s");
	assert_int_equal(resp.u.resp.status, 409);
	assert_int_equal(resp.u.resp.mismatches[0].extra[0], 1);
	wire_frame_free(&resp);

	/* send.multi: one unknown account fails the whole request. */
	memset(&req, 0, sizeof req);
	memset(sends, 0, sizeof sends);
	memset(&m, 0, sizeof m);
	m.device = 1;
	m.registration_id = al.reg_id;
	m.type = WIRE_MSG_SENDERKEY;
	m.content = (uint8_t *)"g";
	m.content_len = 1;
	strcpy(sends[0].to, al.name);
	sends[0].messages = &m;
	sends[0].n_messages = 1;
	strcpy(sends[1].to, "mm.ghost");
	sends[1].messages = &m;
	sends[1].n_messages = 1;
	req.type = WIRE_T_SEND_MULTI;
	strcpy(req.u.req.u.send.msg_id, "3q2+7wAAAAAAAAAAAAAAAg==");
	req.u.req.u.send.sends = sends;
	req.u.req.u.send.n_sends = 2;
	resp = relay_fixture_call(pb, &req);
	assert_int_equal(resp.u.resp.status, 404);
	assert_int_equal(resp.u.resp.n_unknown, 1);
	assert_string_equal(resp.u.resp.unknown[0], "mm.ghost");
	wire_frame_free(&resp);
	req.u.req.u.send.n_sends = 1;
	resp = relay_fixture_call(pb, &req);
	assert_int_equal(resp.u.resp.status, 200);
	wire_frame_free(&resp);

	/* A second connection of device 2 replaces the first. */
	pb2 = relay_fixture_connect(shared.port);
	assert_int_equal(relay_fixture_try_auth(pb2, bob.name, 2, secret2), 200);
	pb2b = relay_fixture_connect(shared.port);
	assert_int_equal(relay_fixture_try_auth(pb2b, bob.name, 2, secret2), 200);
	assert_int_equal(wsclient_wait_close(pb2->ws, RELAY_FIXTURE_TIMEOUT_MS),
	                 WIRE_CLOSE_REPLACED);
	assert_int_equal(relay_fixture_simple(pb2b, WIRE_T_PING), 200);
	/* Removing device 2 closes it; device 1 cannot be removed. */
	memset(&req, 0, sizeof req);
	req.type = WIRE_T_DEVICE_REMOVE;
	req.u.req.u.device_remove.device = 2;
	resp = relay_fixture_call(pb, &req);
	assert_int_equal(resp.u.resp.status, 200);
	wire_frame_free(&resp);
	assert_int_equal(wsclient_wait_close(pb2b->ws, RELAY_FIXTURE_TIMEOUT_MS),
	                 WIRE_CLOSE_REMOVED);
	req.u.req.u.device_remove.device = 1;
	resp = relay_fixture_call(pb, &req);
	assert_int_equal(resp.u.resp.status, 403);
	assert_string_equal(resp.u.resp.error, "primary_device");
	wire_frame_free(&resp);
	relay_fixture_close(pb2);
	relay_fixture_close(pb2b);
	pb2 = relay_fixture_connect(shared.port);
	assert_int_equal(relay_fixture_try_auth(pb2, bob.name, 2, secret2), 401);
	relay_fixture_close(pb2);
	relay_fixture_close(pa);
	relay_fixture_close(pb);
	relay_fixture_acct_free(&al);
	relay_fixture_acct_free(&bob);
}

static void
test_resend_with_same_msg_id_queues_once(void **state)
{
	struct relay_fixture_acct al, bob;
	struct relay_fixture_peer *pa, *pb;
	struct wire_frame r1, r2;
	char *contents[4];
	uint64_t ids[4];
	(void)state;

	relay_fixture_acct_init(&al, "id.al");
	relay_fixture_acct_init(&bob, "id.bob");
	pa = relay_fixture_register(shared.port, &al);
	pb = relay_fixture_register(shared.port, &bob);
	relay_fixture_close(pb);
	r1 = relay_fixture_send(pa, bob.name, "123e4567-e89b-12d3-a456-4266141740aa", &bob.device,
	                        &bob.reg_id, 1, "once");
	assert_int_equal(r1.u.resp.status, 200);
	usleep(5000);
	r2 = relay_fixture_send(pa, bob.name, "123e4567-e89b-12d3-a456-4266141740aa", &bob.device,
	                        &bob.reg_id, 1, "twice?");
	assert_int_equal(r2.u.resp.status, 200);
	assert_int_equal(r1.u.resp.ts, r2.u.resp.ts);
	wire_frame_free(&r1);
	wire_frame_free(&r2);
	pb = relay_fixture_auth(shared.port, &bob);
	assert_int_equal(relay_fixture_drain(pb, contents, ids, 4), 1);
	assert_string_equal(contents[0], "once");
	free(contents[0]);
	relay_fixture_close(pb);
	relay_fixture_close(pa);
	relay_fixture_acct_free(&al);
	relay_fixture_acct_free(&bob);
}

static void
test_blobs_upload_download_and_limits(void **state)
{
	struct relay_fixture_acct al;
	struct relay_fixture_peer *pa;
	uint8_t body[4000], *resp = NULL;
	size_t len = 0, i;
	char *auth, *path, *bad;
	char id[64];
	uint8_t wrong[WIRE_SECRET_LEN] = {0};
	int status;
	(void)state;

	relay_fixture_acct_init(&al, "blob.al");
	pa = relay_fixture_register(shared.port, &al);
	for (i = 0; i < sizeof body; i++)
		body[i] = (uint8_t)(i * 31);
	auth = wire_http_auth_build(al.name, 1, al.secret);
	status = wsclient_http(shared.port, "POST", "/v1/blobs", auth, body, sizeof body, -1, &resp,
	                       &len, RELAY_FIXTURE_TIMEOUT_MS);
	assert_int_equal(status, 201);
	assert_int_equal(sscanf((char *)resp, "{\"id\":\"%63[^\"]\"}", id), 1);
	assert_int_equal(strlen(id), WIRE_BLOB_ID_CHARS);
	free(resp);
	path = xasprintf("/v1/blobs/%s", id);
	status = wsclient_http(shared.port, "GET", path, auth, NULL, 0, -1, &resp, &len,
	                       RELAY_FIXTURE_TIMEOUT_MS);
	assert_int_equal(status, 200);
	assert_int_equal(len, sizeof body);
	assert_memory_equal(resp, body, sizeof body);
	free(resp);
	/* Without or with wrong credentials. */
	status = wsclient_http(shared.port, "GET", path, NULL, NULL, 0, -1, NULL, NULL,
	                       RELAY_FIXTURE_TIMEOUT_MS);
	assert_int_equal(status, 401);
	bad = wire_http_auth_build(al.name, 1, wrong);
	status = wsclient_http(shared.port, "GET", path, bad, NULL, 0, -1, NULL, NULL,
	                       RELAY_FIXTURE_TIMEOUT_MS);
	assert_int_equal(status, 401);
	status = wsclient_http(shared.port, "POST", "/v1/blobs", bad, body, 10, -1, NULL, NULL,
	                       RELAY_FIXTURE_TIMEOUT_MS);
	assert_int_equal(status, 401);
	free(bad);
	/* Unknown id; past the 64 KiB limit this relay runs with. */
	status = wsclient_http(shared.port, "GET", "/v1/blobs/AAAAAAAAAAAAAAAAAAAAAA", auth, NULL,
	                       0, -1, NULL, NULL, RELAY_FIXTURE_TIMEOUT_MS);
	assert_int_equal(status, 404);
	status = wsclient_http(shared.port, "POST", "/v1/blobs", auth, NULL, 0, 65 * 1024, &resp,
	                       &len, RELAY_FIXTURE_TIMEOUT_MS);
	assert_int_equal(status, 413);
	assert_non_null(strstr((char *)resp, "too_large"));
	free(resp);
	free(path);
	wipe_free_str(auth);
	relay_fixture_close(pa);
	relay_fixture_acct_free(&al);
}

static void
test_devices_cannot_touch_other_accounts(void **state)
{
	struct relay_fixture_acct al, bob, eve;
	struct relay_fixture_peer *pa, *pb, *pe;
	struct wire_frame req = {0}, resp;
	struct wire_prekey pk[2];
	uint64_t ids[4];
	size_t count;
	(void)state;

	relay_fixture_acct_init(&al, "x.al");
	relay_fixture_acct_init(&bob, "x.bob");
	relay_fixture_acct_init(&eve, "x.eve");
	pa = relay_fixture_register(shared.port, &al);
	pb = relay_fixture_register(shared.port, &bob);
	pe = relay_fixture_register(shared.port, &eve);
	relay_fixture_close(pb);
	resp = relay_fixture_send(pa, bob.name, "3q2+7wAAAAAAAAAAAAAAAA==", &bob.device,
	                          &bob.reg_id, 1, "m");
	assert_int_equal(resp.u.resp.status, 200);
	wire_frame_free(&resp);
	/* Eve acks every plausible envelope id: bob's message survives. */
	{
		uint64_t guess[1024];
		size_t i;
		for (i = 0; i < 1024; i++)
			guess[i] = i + 1;
		relay_fixture_ack(pe, guess, 1024);
	}
	/* Eve uploads prekeys: they are hers, bob's count does not move. */
	relay_fixture_prekeys(pk, 2, 5);
	req.type = WIRE_T_KEYS_UPLOAD;
	req.u.req.u.keys_upload.prekeys = pk;
	req.u.req.u.keys_upload.n_prekeys = 2;
	resp = relay_fixture_call(pe, &req);
	assert_int_equal(resp.u.resp.status, 200);
	wire_frame_free(&resp);
	/* Eve's secret does not open bob's device. */
	relay_fixture_close(pe);
	pe = relay_fixture_connect(shared.port);
	assert_int_equal(relay_fixture_try_auth(pe, bob.name, 1, eve.secret), 401);
	relay_fixture_close(pe);

	pb = relay_fixture_auth(shared.port, &bob);
	memset(&req, 0, sizeof req);
	req.type = WIRE_T_KEYS_COUNT;
	resp = relay_fixture_call(pb, &req);
	count = resp.u.resp.count;
	wire_frame_free(&resp);
	assert_int_equal(count, 0);
	assert_int_equal(relay_fixture_drain(pb, NULL, ids, 4), 1);
	relay_fixture_close(pb);
	relay_fixture_close(pa);
	relay_fixture_acct_free(&al);
	relay_fixture_acct_free(&bob);
	relay_fixture_acct_free(&eve);
}

static void
test_garbage_frames_get_errors_or_a_clean_close(void **state)
{
	struct relay_fixture_acct al;
	struct relay_fixture_peer *p;
	struct wire_frame resp;
	char *big;
	(void)state;

	relay_fixture_acct_init(&al, "gb.al");
	p = relay_fixture_register(shared.port, &al);
	assert_int_equal(wsclient_send_text(p->ws, "{not json"), 0);
	resp = relay_fixture_response(p, 0);
	assert_int_equal(resp.u.resp.status, 400);
	assert_int_equal(resp.type, WIRE_T_NONE);
	wire_frame_free(&resp);
	assert_int_equal(wsclient_send_text(p->ws, "{\"id\":77,\"type\":\"keys.steal\"}"), 0);
	resp = relay_fixture_response(p, 77);
	assert_int_equal(resp.u.resp.status, 400);
	wire_frame_free(&resp);
	assert_int_equal(wsclient_send_text(p->ws, "{\"id\":78,\"type\":\"device.remove\"}"), 0);
	resp = relay_fixture_response(p, 78);
	assert_int_equal(resp.u.resp.status, 400);
	assert_int_equal(resp.type, WIRE_T_DEVICE_REMOVE);
	assert_non_null(strstr(resp.u.resp.message, "device"));
	wire_frame_free(&resp);
	assert_int_equal(wsclient_send_text(p->ws, "{\"push\":\"queue.empty\"}"), 0);
	resp = relay_fixture_response(p, 0);
	assert_int_equal(resp.u.resp.status, 400);
	wire_frame_free(&resp);
	/* Still usable. */
	assert_int_equal(relay_fixture_simple(p, WIRE_T_PING), 200);
	/* Binary frames end the connection with 1003. */
	assert_int_equal(wsclient_send(p->ws, WSCLIENT_BINARY, "\x01\x02", 2), 0);
	assert_int_equal(wsclient_wait_close(p->ws, RELAY_FIXTURE_TIMEOUT_MS), WIRE_CLOSE_BINARY);
	relay_fixture_close(p);
	/* A frame past 256 KiB with 1009. */
	p = relay_fixture_auth(shared.port, &al);
	big = xmalloc(WIRE_MAX_FRAME + 2);
	memset(big, ' ', WIRE_MAX_FRAME + 1);
	big[0] = '{';
	big[WIRE_MAX_FRAME] = '}';
	big[WIRE_MAX_FRAME + 1] = '\0';
	assert_int_equal(wsclient_send_text(p->ws, big), 0);
	assert_int_equal(wsclient_wait_close(p->ws, RELAY_FIXTURE_TIMEOUT_MS), WIRE_CLOSE_TOO_BIG);
	free(big);
	relay_fixture_close(p);
	relay_fixture_acct_free(&al);
}

/* Read send answers: wait (up to RELAY_FIXTURE_TIMEOUT_MS) until at least min new ones
 * came, then take what else is already there. Marks the 200s in acked by
 * request index; returns how many new ones. */
static size_t
read_answers(struct relay_fixture_peer *p, uint64_t first_id, int *acked, size_t n, size_t min)
{
	struct wire_frame f;
	struct err e = {0};
	size_t got = 0;
	char *msg;

	while ((msg = wsclient_recv(p->ws, got < min ? RELAY_FIXTURE_TIMEOUT_MS : 0)) != NULL) {
		assert_int_equal(wire_parse(msg, strlen(msg), &f, &e), 0);
		free(msg);
		if (f.kind == WIRE_RESPONSE && f.u.resp.status == 200) {
			assert_true(f.id >= first_id && f.id < first_id + n);
			if (!acked[f.id - first_id])
				got++;
			acked[f.id - first_id] = 1;
		}
		wire_frame_free(&f);
	}
	return got;
}

static void
test_acked_sends_survive_kill9(void **state)
{
	enum { BURST = 2000, KILL_AFTER = 300 };
	struct relay_fixture_acct al, bob;
	struct relay_fixture_peer *pa, *pb;
	struct wire_frame req;
	struct wire_message m;
	struct wire_send send;
	static char *contents[BURST];
	static uint64_t ids[BURST];
	static int acked[BURST], delivered[BURST];
	static uint64_t req_ids[BURST];
	char text[32], *data, *mid, *out;
	size_t i, n, n_acked = 0;
	int killed = 0, rc;
	unsigned k;
	(void)state;

	data = xasprintf("%s/kill9", tmp_root);
	relay_fixture_start(&own, data, NULL, NULL);
	relay_fixture_acct_init(&al, "k.al");
	relay_fixture_acct_init(&bob, "k.bob");
	pa = relay_fixture_register(own.port, &al);
	pb = relay_fixture_register(own.port, &bob);
	relay_fixture_close(pb);
	memset(acked, 0, sizeof acked);
	memset(delivered, 0, sizeof delivered);
	/* Sends keep flowing while answers are read; the relay dies after
	 * KILL_AFTER answers, in the middle of the burst. */
	for (i = 0; i < BURST && !killed; i++) {
		memset(&req, 0, sizeof req);
		memset(&m, 0, sizeof m);
		memset(&send, 0, sizeof send);
		snprintf(text, sizeof text, "burst %zu", i);
		m.device = 1;
		m.registration_id = bob.reg_id;
		m.type = WIRE_MSG_NORMAL;
		m.content = (uint8_t *)text;
		m.content_len = strlen(text);
		strcpy(send.to, bob.name);
		send.messages = &m;
		send.n_messages = 1;
		req.type = WIRE_T_SEND;
		mid = relay_fixture_msg_id((unsigned)i);
		strcpy(req.u.req.u.send.msg_id, mid);
		free(mid);
		req.u.req.u.send.sends = &send;
		req.u.req.u.send.n_sends = 1;
		req.kind = WIRE_REQUEST;
		req.id = ++pa->next_id;
		req_ids[i] = req.id;
		out = wire_build(&req, NULL, NULL);
		assert_non_null(out);
		rc = wsclient_send_text(pa->ws, out);
		free(out);
		if (rc < 0)
			break;
		/* Pace the burst on the relay's answers, so that it is busy
		 * with the rest when it dies. */
		if (i % 50 == 49)
			n_acked += read_answers(pa, req_ids[0], acked, BURST, 1);
		if (n_acked >= KILL_AFTER) {
			relay_fixture_kill9(&own);
			killed = 1;
		}
	}
	if (!killed) {
		while (n_acked < KILL_AFTER)
			n_acked += read_answers(pa, req_ids[0], acked, BURST, 1);
		relay_fixture_kill9(&own);
	}
	/* Answers that were already on their way still count. */
	n_acked += read_answers(pa, req_ids[0], acked, BURST, 0);
	assert_true(n_acked >= KILL_AFTER);
	relay_fixture_close(pa);

	/* Same data directory, new process: every acked send is there. */
	relay_fixture_start(&own, data, NULL, NULL);
	pb = relay_fixture_auth(own.port, &bob);
	n = relay_fixture_drain_ack(pb, contents, ids, BURST, 1);
	for (i = 0; i < n; i++) {
		assert_int_equal(sscanf(contents[i], "burst %u", &k), 1);
		assert_true(k < BURST);
		assert_int_equal(delivered[k], 0);
		delivered[k] = 1;
		free(contents[i]);
	}
	print_message("kill -9 with %zu of %zu sends answered 200; %zu delivered after restart\n",
	              n_acked, i, n);
	for (i = 0; i < BURST; i++)
		if (acked[i] && !delivered[i])
			fail_msg("send %zu was acked 200 but is lost", i);
	relay_fixture_close(pb);
	assert_int_equal(relay_fixture_stop(&own), 0); /* exit(0), not a signal */
	free(data);
	relay_fixture_acct_free(&al);
	relay_fixture_acct_free(&bob);
}

static void
test_full_queue_refuses_sends_until_acked(void **state)
{
	struct relay_fixture_acct al, bob;
	struct relay_fixture_peer *pa, *pb;
	struct wire_frame r;
	char *data, *mid, *contents[4];
	uint64_t ids[4];
	unsigned i;
	(void)state;

	data = xasprintf("%s/fullq", tmp_root);
	relay_fixture_start(&own, data, "--max-queue=2", NULL);
	relay_fixture_acct_init(&al, "fq.al");
	relay_fixture_acct_init(&bob, "fq.bob");
	pa = relay_fixture_register(own.port, &al);
	pb = relay_fixture_register(own.port, &bob);
	relay_fixture_close(pb);
	for (i = 0; i < 3; i++) {
		mid = relay_fixture_msg_id(900 + i);
		r = relay_fixture_send(pa, bob.name, mid, &bob.device, &bob.reg_id, 1, "fill");
		if (i < 2) {
			assert_int_equal(r.u.resp.status, 200);
		} else {
			assert_int_equal(r.u.resp.status, 503);
			assert_string_equal(r.u.resp.error, "queue_full");
			assert_int_equal(r.u.resp.retry_after_ms, 60000);
		}
		wire_frame_free(&r);
		free(mid);
	}
	/* Once the recipient acks, the same message goes through. */
	pb = relay_fixture_auth(own.port, &bob);
	assert_int_equal(relay_fixture_drain(pb, contents, ids, 4), 2);
	free(contents[0]);
	free(contents[1]);
	relay_fixture_ack(pb, ids, 2);
	mid = relay_fixture_msg_id(902);
	r = relay_fixture_send(pa, bob.name, mid, &bob.device, &bob.reg_id, 1, "fits");
	assert_int_equal(r.u.resp.status, 200);
	wire_frame_free(&r);
	free(mid);
	relay_fixture_close(pb);
	relay_fixture_close(pa);
	assert_int_equal(relay_fixture_stop(&own), 0);
	free(data);
	relay_fixture_acct_free(&al);
	relay_fixture_acct_free(&bob);
}

static void
test_chaos_drops_and_duplicates_pushes_but_loses_nothing(void **state)
{
	enum { N = 12 };
	struct relay_fixture_acct al, bob;
	struct relay_fixture_peer *pa, *pb;
	struct wire_frame resp;
	char *contents[4 * N], *data, *mid, text[32];
	uint64_t ids[4 * N];
	int got[N] = {0}, have = 0, rounds = 0;
	size_t i, n;
	unsigned k;
	(void)state;

	data = xasprintf("%s/chaos", tmp_root);
	relay_fixture_start(&own, data, "--chaos", "drop=0.5,dup=0.3,seed=7");
	relay_fixture_acct_init(&al, "ch.al");
	relay_fixture_acct_init(&bob, "ch.bob");
	pa = relay_fixture_register(own.port, &al);
	pb = relay_fixture_register(own.port, &bob);
	relay_fixture_close(pb);
	for (i = 0; i < N; i++) {
		snprintf(text, sizeof text, "chaos %zu", i);
		mid = relay_fixture_msg_id((unsigned)(900 + i));
		resp = relay_fixture_send(pa, bob.name, mid, &bob.device, &bob.reg_id, 1, text);
		free(mid);
		assert_int_equal(resp.u.resp.status, 200);
		wire_frame_free(&resp);
	}
	/* Each connection sees some pushes; acking what came and reconnecting
	 * brings the rest, duplicates included, until everything arrived. */
	while (have < N && rounds++ < 60) {
		pb = relay_fixture_auth(own.port, &bob);
		n = relay_fixture_drain_ack(pb, contents, ids, 4 * N, 1);
		for (i = 0; i < n; i++) {
			assert_int_equal(sscanf(contents[i], "chaos %u", &k), 1);
			assert_true(k < N);
			if (!got[k])
				have++;
			got[k] = 1;
			free(contents[i]);
		}
		relay_fixture_close(pb);
	}
	assert_int_equal(have, N);
	assert_true(rounds > 1); /* drop=0.5 over 12 pushes: some were dropped */
	relay_fixture_close(pa);
	assert_int_equal(relay_fixture_stop(&own), 0); /* exit(0), not a signal */
	free(data);
	relay_fixture_acct_free(&al);
	relay_fixture_acct_free(&bob);
}

static void
test_idle_connection_closed_after_auth_deadline(void **state)
{
	int64_t waited;
	int code;
	(void)state;

	code = wsclient_wait_close(idle_conn, (INTEG_AUTH_TIMEOUT_S + 3) * 1000);
	waited = relay_fixture_now_ms() - idle_since_ms;
	assert_int_equal(code, WIRE_CLOSE_AUTH_TIMEOUT);
	assert_true(waited >= INTEG_AUTH_TIMEOUT_S * 1000 - 100);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_register_takes_a_name_once),
	    cmocka_unit_test(test_first_frame_must_authenticate),
	    cmocka_unit_test(test_bad_signatures_are_refused),
	    cmocka_unit_test(test_prekey_fetches_never_share_a_key),
	    cmocka_unit_test(test_send_delivers_in_order_and_redelivers_unacked),
	    cmocka_unit_test(test_device_list_mismatches_are_reported),
	    cmocka_unit_test(test_resend_with_same_msg_id_queues_once),
	    cmocka_unit_test(test_blobs_upload_download_and_limits),
	    cmocka_unit_test(test_devices_cannot_touch_other_accounts),
	    cmocka_unit_test(test_garbage_frames_get_errors_or_a_clean_close),
	    cmocka_unit_test(test_acked_sends_survive_kill9),
	    cmocka_unit_test(test_full_queue_refuses_sends_until_acked),
	    cmocka_unit_test(test_chaos_drops_and_duplicates_pushes_but_loses_nothing),
	    cmocka_unit_test(test_idle_connection_closed_after_auth_deadline),
	};
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

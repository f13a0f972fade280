/* Tests for the messaging half's send and receive paths (src/msg_*.c):
 * real profiles and libsignal sessions, an in-process relay that checks
 * device lists and redelivers until acked (tests/test_msg_harness.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/e2e.h"
#include "store/contacts.h"
#include "store/conversations.h"
#include "store/history.h"
#include "store/idstore.h"
#include "store/outbox.h"
#include "tests/test_msg_harness.h"

static void
assert_state(struct h_party *p, int64_t id, enum history_state st)
{
	struct history_message h;

	h_get(p, id, &h);
	assert_int_equal(h.state, st);
	history_message_clear(&h);
}

static enum err_code
call_trust(struct h_party *p, const char *name)
{
	enum err_code code = ERR_OK;
	json_t *r = h_call(p, "trust", json_pack("{s:s}", "name", name), &code);
	bool ok = r != NULL;

	json_decref(r);
	return ok ? ERR_OK : code;
}

/* The newest message of p with peer. */
static void
newest(struct h_party *p, const char *peer, struct history_message *out)
{
	json_t *r;
	enum err_code code;
	json_t *msgs;

	r = h_call(p, "history", json_pack("{s:s,s:i}", "with", peer, "limit", 1), &code);
	assert_non_null(r);
	msgs = json_object_get(r, "messages");
	assert_int_equal(json_array_size(msgs), 1);
	h_get(p, json_integer_value(json_object_get(json_array_get(msgs, 0), "id")), out);
	json_decref(r);
}

/* p compared peer's safety number and marked the key verified. */
static void
verify_key(struct h_party *p, const char *peer)
{
	unsigned char *key;
	bool verified;
	size_t len;
	struct err e;

	assert_int_equal(idstore_get(p->c.db, peer, 1, &key, &len, &verified, &e), 0);
	assert_int_equal(idstore_set_verified(p->c.db, peer, key, len, true, &e), 0);
	free(key);
}

static void
test_msg_text_reaches_peer_and_comes_back_delivered(void **state)
{
	struct h_party alice, bob;
	struct history_message h;
	json_t *ev;
	int64_t id;

	h_party_new(&alice, "alice", 1);
	h_party_new(&bob, "bob", 1);
	id = h_send(&alice, "bob", "hello bob \xf0\x9f\x91\x8b");
	/* The new message is announced at once, as sending. */
	ev = h_event(&alice, "message");
	assert_non_null(ev);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(ev, "message"), "state")), "sending");
	h_pump();
	newest(&bob, "alice", &h);
	assert_int_equal(h.direction, HISTORY_IN);
	assert_string_equal(h.body, "hello bob \xf0\x9f\x91\x8b");
	assert_string_equal(h.sender_name, "alice");
	assert_int_equal(h.state, HISTORY_RECEIVED);
	history_message_clear(&h);
	assert_int_equal(bob.n_acks, 1);
	assert_non_null(h_event(&bob, "message"));
	/* Bob's delivered receipt moved alice's message past "sent". */
	assert_state(&alice, id, HISTORY_DELIVERED);
	ev = h_event(&alice, "message.state");
	assert_non_null(ev);
	assert_string_equal(json_string_value(json_object_get(ev, "state")), "delivered");
	assert_int_equal(h_outbox_pending(&alice), 0);
	assert_int_equal(h_outbox_pending(&bob), 0);
	/* Receipts are not answered with receipts: alice stored nothing. */
	assert_int_equal(h_history_count(&alice, "bob"), 1);
	assert_int_equal(alice.n_acks, 1);
	/* And back. */
	h_send(&bob, "alice", "hi alice");
	h_pump();
	newest(&alice, "bob", &h);
	assert_string_equal(h.body, "hi alice");
	history_message_clear(&h);
	assert_int_equal(h_history_count(&alice, "bob"), 2);
	h_party_free(&alice);
	h_party_free(&bob);
}

static void
test_msg_redelivery_after_lost_ack_is_dropped(void **state)
{
	struct h_party alice, bob;

	h_party_new(&alice, "alice", 1);
	h_party_new(&bob, "bob", 1);
	h_send(&alice, "bob", "once");
	h_send(&alice, "bob", "twice");
	h_pump();
	assert_int_equal(h_history_count(&bob, "alice"), 2);
	/* The acks got lost: the relay pushes both again. */
	h_relay.env[0].acked = false;
	h_relay.env[1].acked = false;
	h_reconnect(&bob);
	h_pump();
	assert_int_equal(h_history_count(&bob, "alice"), 2);
	assert_true(h_relay.env[0].acked && h_relay.env[1].acked);
	assert_int_equal(h_count_events(&bob, "message.failed"), 0);
	assert_int_equal(h_count_events(&bob, "message"), 2);
	h_party_free(&alice);
	h_party_free(&bob);
}

static void
test_msg_same_ciphertext_under_a_new_relay_id_is_dropped(void **state)
{
	struct h_party alice, bob;
	struct h_env *copy;
	size_t k;

	h_party_new(&alice, "alice", 1);
	h_party_new(&bob, "bob", 1);
	h_send(&alice, "bob", "first");
	h_send(&alice, "bob", "second");
	h_pump();
	assert_int_equal(h_history_count(&bob, "alice"), 2);
	/* The relay pushed them before they were durable, its machine
	 * crashed, and alice sent them again: the same bytes come back
	 * under new ids. */
	for (k = 0; k < 2; k++) {
		copy = &h_relay.env[h_relay.nenv++];
		*copy = h_relay.env[k];
		copy->env.content =
		    xmemdup(h_relay.env[k].env.content, h_relay.env[k].env.content_len);
		copy->env.id = ++h_relay.next_id;
		copy->delivered = copy->acked = false;
	}
	h_pump();
	assert_true(h_relay.env[h_relay.nenv - 2].acked && h_relay.env[h_relay.nenv - 1].acked);
	assert_int_equal(h_history_count(&bob, "alice"), 2);
	assert_int_equal(h_count_events(&bob, "message.failed"), 0);
	assert_int_equal(h_count_events(&bob, "message"), 2);
	h_party_free(&alice);
	h_party_free(&bob);
}

static void
test_msg_tampered_envelope_is_acked_and_reported(void **state)
{
	struct h_party alice, bob;
	struct history_message h;

	h_party_new(&alice, "alice", 1);
	h_party_new(&bob, "bob", 1);
	h_send(&alice, "bob", "first");
	h_pump();
	h_set_online(&bob, false);
	h_send(&alice, "bob", "tampered");
	h_pump();
	h_relay.env[h_relay.nenv - 1]
	    .env.content[h_relay.env[h_relay.nenv - 1].env.content_len - 3] ^= 0x40;
	h_send(&alice, "bob", "third");
	h_pump();
	h_reconnect(&bob);
	h_pump();
	assert_int_equal(h_count_events(&bob, "message.failed"), 1);
	/* Acked anyway, so it does not come back forever. */
	assert_true(h_relay.env[h_relay.nenv - 2].acked || h_relay.env[2].acked);
	assert_int_equal(h_history_count(&bob, "alice"), 2);
	newest(&bob, "alice", &h);
	assert_string_equal(h.body, "third"); /* the session survived */
	history_message_clear(&h);
	h_party_free(&alice);
	h_party_free(&bob);
}

static void
test_msg_offline_send_is_queued_and_resent_with_same_bytes(void **state)
{
	struct h_party alice, bob;
	struct outbox_item *rows = NULL;
	struct history_message h;
	size_t n = 0, first;
	struct err e;
	int64_t id;

	h_party_new(&alice, "alice", 1);
	h_party_new(&bob, "bob", 1);
	h_send(&alice, "bob", "warm up");
	h_pump();
	h_set_online(&alice, false);
	id = h_send(&alice, "bob", "while offline");
	assert_state(&alice, id, HISTORY_SENDING);
	assert_int_equal(h_outbox_pending(&alice), 1);
	h_get(&alice, id, &h);
	assert_int_equal(outbox_list_client_id(alice.c.db, h.client_id, &rows, &n, &e), 0);
	assert_int_equal(n, 1);
	/* Back online, but the relay's answer is lost on the way. */
	first = h_relay.nreq;
	h_relay.drop_answer = true;
	h_reconnect(&alice);
	h_pump();
	assert_state(&alice, id, HISTORY_SENDING);
	assert_int_equal(h_outbox_pending(&alice), 1);
	/* The next connection sends the very same bytes under the same id. */
	h_reconnect(&alice);
	h_pump();
	assert_true(h_relay.nreq >= first + 2);
	assert_string_equal(h_relay.req[first].msg_id, h.client_id);
	assert_string_equal(h_relay.req[first + 1].msg_id, h.client_id);
	assert_int_equal(h_relay.req[first + 1].s[0].m[0].len, rows[0].ciphertext_len);
	assert_memory_equal(h_relay.req[first + 1].s[0].m[0].ct, rows[0].ciphertext,
	                    rows[0].ciphertext_len);
	assert_int_equal(h_outbox_pending(&alice), 0);
	assert_int_equal(h_history_count(&bob, "alice"), 1 + 0 + 1);
	assert_state(&alice, id, HISTORY_DELIVERED);
	outbox_items_free(rows, n);
	history_message_clear(&h);
	h_party_free(&alice);
	h_party_free(&bob);
}

static void
test_msg_first_message_offline_waits_for_the_connection(void **state)
{
	struct h_party alice, bob;
	struct history_message h;
	int64_t id;

	h_party_new(&alice, "alice", 1);
	h_party_new(&bob, "bob", 1);
	h_set_online(&alice, false);
	/* No session and no relay to fetch keys from: stored, not lost. */
	id = h_send(&alice, "bob", "first contact");
	assert_state(&alice, id, HISTORY_SENDING);
	assert_int_equal(h_outbox_pending(&alice), 0);
	/* It even survives a restart before the connection comes. */
	h_party_restart(&alice);
	h_set_online(&alice, false);
	h_reconnect(&alice);
	h_pump();
	assert_state(&alice, id, HISTORY_DELIVERED);
	newest(&bob, "alice", &h);
	assert_string_equal(h.body, "first contact");
	history_message_clear(&h);
	h_party_free(&alice);
	h_party_free(&bob);
}

static void
test_msg_queued_sends_survive_a_restart(void **state)
{
	struct h_party alice, bob;
	int64_t id;

	h_party_new(&alice, "alice", 1);
	h_party_new(&bob, "bob", 1);
	h_send(&alice, "bob", "warm up");
	h_pump();
	h_set_online(&alice, false);
	id = h_send(&alice, "bob", "queued before the crash");
	h_party_restart(&alice);
	assert_int_equal(h_outbox_pending(&alice), 1);
	h_reconnect(&alice);
	h_pump();
	assert_state(&alice, id, HISTORY_DELIVERED);
	assert_int_equal(h_history_count(&bob, "alice"), 2);
	h_party_free(&alice);
	h_party_free(&bob);
}

static void
test_msg_device_list_is_repaired_under_the_same_msg_id(void **state)
{
	struct h_party alice, bob, bob2;
	struct history_message h;
	size_t first;
	int64_t id;

	h_party_new(&alice, "alice", 1);
	h_party_new(&bob, "bob", 1);
	h_send(&alice, "bob", "only device 1 exists");
	h_pump();
	/* Bob adds a device: the relay answers 409 missing [2]. */
	h_party_new(&bob2, "bob", 2);
	first = h_relay.nreq;
	id = h_send(&alice, "bob", "to both devices");
	h_pump();
	assert_state(&alice, id, HISTORY_DELIVERED);
	assert_true(h_relay.nreq >= first + 2);
	assert_string_equal(h_relay.req[first].msg_id, h_relay.req[first + 1].msg_id);
	assert_int_equal(h_relay.req[first].s[0].n, 1);
	assert_int_equal(h_relay.req[first + 1].s[0].n, 2);
	newest(&bob2, "alice", &h);
	assert_string_equal(h.body, "to both devices");
	history_message_clear(&h);
	newest(&bob, "alice", &h);
	assert_string_equal(h.body, "to both devices");
	history_message_clear(&h);
	/* Device 2 is removed: 409 extra [2], its session is dropped. */
	bob2.removed = true;
	first = h_relay.nreq;
	id = h_send(&alice, "bob", "device 1 again");
	h_pump();
	assert_state(&alice, id, HISTORY_DELIVERED);
	assert_int_equal(h_relay.req[h_relay.nreq - 2].s[0].n, 1);
	assert_int_equal(h_history_count(&bob, "alice"), 3);
	h_party_free(&alice);
	h_party_free(&bob);
	h_party_free(&bob2);
}

static void
test_msg_copies_reach_our_other_device_with_sent_to(void **state)
{
	struct h_party alice, alice2, bob;
	struct history_message h;
	int64_t id;

	h_party_new(&alice, "alice", 1);
	h_party_new(&alice2, "alice", 2);
	h_party_new(&bob, "bob", 1);
	id = h_send(&alice, "bob", "seen on both of mine");
	h_pump();
	assert_state(&alice, id, HISTORY_DELIVERED);
	/* alice's second device files it under the conversation with bob. */
	newest(&alice2, "bob", &h);
	assert_int_equal(h.direction, HISTORY_OUT);
	assert_string_equal(h.body, "seen on both of mine");
	assert_string_equal(h.sender_name, "alice");
	/* Bob's delivered receipt reached both of alice's devices. */
	assert_int_equal(h.state, HISTORY_DELIVERED);
	history_message_clear(&h);
	assert_int_equal(h_history_count(&alice2, "alice"), 0);
	h_party_free(&alice);
	h_party_free(&alice2);
	h_party_free(&bob);
}

static void
test_msg_changed_verified_key_blocks_until_trusted(void **state)
{
	struct h_party alice, bob, bob_new;
	struct history_message h;
	size_t before;
	enum err_code code;
	struct err e;
	json_t *r, *ev;
	int64_t id;

	h_party_new(&alice, "alice", 1);
	h_party_new(&bob, "bob", 1);
	h_send(&alice, "bob", "hello");
	h_pump();
	/* Alice verified bob's key. */
	verify_key(&alice, "bob");
	/* Bob reinstalls: a new identity under the same name and device. */
	bob.removed = true;
	h_party_new(&bob_new, "bob", 1);
	h_send(&bob_new, "alice", "it's me, new phone");
	h_pump();
	/* Held back, not acked, not stored; alice is told. */
	assert_int_equal(h_history_count(&alice, "bob"), 1);
	assert_false(h_relay.env[h_relay.nenv - 1].acked);
	ev = h_event(&alice, "identity.changed");
	assert_non_null(ev);
	assert_true(json_is_true(json_object_get(ev, "blocked")));
	/* Sending is refused and nothing is queued. */
	before = h_history_count(&alice, "bob");
	assert_int_equal(msg_send_text(&alice.c, "bob", "refused", &id, &e), -1);
	assert_int_equal(e.code, ERR_UNTRUSTED);
	assert_int_equal(h_history_count(&alice, "bob"), before);
	assert_int_equal(h_outbox_pending(&alice), 0);
	r = h_call(&alice, "send", json_pack("{s:s,s:s}", "to", "bob", "text", "x"), &code);
	assert_null(r);
	assert_int_equal(code, ERR_UNTRUSTED);
	/* The contacts list shows it. */
	r = h_call(&alice, "contacts", json_object(), &code);
	assert_true(json_is_true(json_object_get(json_array_get(json_object_get(r, "contacts"), 0),
	                                         "identity_changed")));
	json_decref(r);
	/* Trusting the new key lets the held message through. */
	r = h_call(&alice, "trust", json_pack("{s:s}", "name", "bob"), &code);
	assert_non_null(r);
	assert_false(json_is_true(json_object_get(r, "verified")));
	json_decref(r);
	h_pump();
	assert_true(h_relay.env[h_relay.nenv - 2].acked || h_relay.env[h_relay.nenv - 1].acked);
	newest(&alice, "bob", &h);
	assert_string_equal(h.body, "it's me, new phone");
	history_message_clear(&h);
	id = h_send(&alice, "bob", "welcome back");
	h_pump();
	assert_state(&alice, id, HISTORY_DELIVERED);
	newest(&bob_new, "alice", &h);
	assert_string_equal(h.body, "welcome back");
	history_message_clear(&h);
	h_party_free(&alice);
	h_party_free(&bob);
	h_party_free(&bob_new);
}

/* Alice verified bob; a second device appears under bob's name with a key
 * she never verified (what a relay adding a device of its own would look
 * like). Its message is held and sending to bob is refused until alice
 * trusts bob again; then the message shows and her next one reaches both
 * devices. */
static void
test_msg_new_device_of_verified_peer_blocks_until_trusted(void **state)
{
	struct h_party alice, bob, bob2;
	struct history_message h;
	struct err e;
	json_t *ev;
	int64_t id;

	(void)state;
	h_party_new(&alice, "alice", 1);
	h_party_new(&bob, "bob", 1);
	h_send(&alice, "bob", "hello");
	h_pump();
	verify_key(&alice, "bob");
	h_party_new(&bob2, "bob", 2);
	h_send(&bob2, "alice", "a device you never saw");
	h_pump();
	assert_int_equal(h_history_count(&alice, "bob"), 1);
	ev = h_event(&alice, "identity.changed");
	assert_non_null(ev);
	assert_true(json_is_true(json_object_get(ev, "blocked")));
	assert_int_equal(msg_send_text(&alice.c, "bob", "refused", &id, &e), -1);
	assert_int_equal(e.code, ERR_UNTRUSTED);
	assert_int_equal(h_outbox_pending(&alice), 0);
	assert_int_equal(call_trust(&alice, "bob"), ERR_OK);
	h_pump();
	newest(&alice, "bob", &h);
	assert_string_equal(h.body, "a device you never saw");
	history_message_clear(&h);
	id = h_send(&alice, "bob", "both of you");
	h_pump();
	assert_state(&alice, id, HISTORY_DELIVERED);
	newest(&bob, "alice", &h);
	assert_string_equal(h.body, "both of you");
	history_message_clear(&h);
	newest(&bob2, "alice", &h);
	assert_string_equal(h.body, "both of you");
	history_message_clear(&h);
	h_party_free(&alice);
	h_party_free(&bob);
	h_party_free(&bob2);
}

static void
test_msg_reinstalled_verified_peer_fails_the_send_until_trusted(void **state)
{
	struct h_party alice, bob, bob_new;
	struct history_message h;
	enum err_code code;
	struct err e;
	json_t *r;
	int64_t id;

	h_party_new(&alice, "alice", 1);
	h_party_new(&bob, "bob", 1);
	h_send(&alice, "bob", "hello");
	h_pump();
	verify_key(&alice, "bob");
	/* Bob reinstalls; alice learns it from the relay (409 stale) and the
	 * fresh bundle carries a key she never verified. */
	bob.removed = true;
	h_party_new(&bob_new, "bob", 1);
	id = h_send(&alice, "bob", "are you still you?");
	h_pump();
	assert_state(&alice, id, HISTORY_FAILED);
	assert_int_equal(h_outbox_pending(&alice), 0);
	assert_int_equal(h_history_count(&bob_new, "alice"), 0);
	assert_int_equal(msg_send_text(&alice.c, "bob", "again", &id, &e), -1);
	assert_int_equal(e.code, ERR_UNTRUSTED);
	assert_int_equal(call_trust(&alice, "nobody"), ERR_NOTFOUND);
	assert_int_equal(call_trust(&alice, "bob"), ERR_OK);
	id = h_send(&alice, "bob", "trusted again");
	h_pump();
	assert_state(&alice, id, HISTORY_DELIVERED);
	r = h_call(&bob_new, "history", json_pack("{s:s}", "with", "alice"), &code);
	assert_int_equal(json_array_size(json_object_get(r, "messages")), 1);
	json_decref(r);
	h_get(&alice, id, &h);
	assert_string_equal(h.body, "trusted again");
	history_message_clear(&h);
	h_party_free(&alice);
	h_party_free(&bob);
	h_party_free(&bob_new);
}

static void
test_msg_lost_session_is_repaired_once(void **state)
{
	signal_protocol_address addr = {"alice", 5, 1};
	struct h_party alice, bob;
	struct history_message h;
	size_t requests;

	h_party_new(&alice, "alice", 1);
	h_party_new(&bob, "bob", 1);
	h_send(&alice, "bob", "before");
	h_pump();
	h_send(&bob, "alice", "ack that");
	h_pump();
	/* Bob's device lost its session with alice (restored from a backup). */
	assert_true(signal_protocol_session_delete_session(bob.c.store, &addr) >= 0);
	h_send(&alice, "bob", "lost in the gap");
	h_pump();
	/* Unreadable: acked, reported, and bob started a new session. */
	assert_int_equal(h_count_events(&bob, "message.failed"), 1);
	assert_int_equal(h_history_count(&bob, "alice"), 2);
	assert_true(e2e_has_session(bob.c.store, "alice", 1, NULL) == 1);
	/* Alice was told, on the new session, which she now uses. */
	assert_non_null(h_event(&alice, "message.failed"));
	h_send(&alice, "bob", "after the repair");
	h_pump();
	newest(&bob, "alice", &h);
	assert_string_equal(h.body, "after the repair");
	history_message_clear(&h);
	/* A second loss within the hour: reported, but no second repair. */
	assert_true(signal_protocol_session_delete_session(bob.c.store, &addr) >= 0);
	requests = h_relay.nreq;
	h_send(&alice, "bob", "lost again");
	h_pump();
	assert_int_equal(h_count_events(&bob, "message.failed"), 2);
	assert_int_equal(h_relay.nreq, requests + 1); /* alice's send only */
	assert_true(e2e_has_session(bob.c.store, "alice", 1, NULL) == 0);
	h_party_free(&alice);
	h_party_free(&bob);
}

static void
test_msg_batch_acks_only_after_commit(void **state)
{
	const size_t total = 40 + MSG_BATCH_MAX + 20;
	struct conversations_entry conv;
	struct h_party alice, bob;
	struct msg_hooks hooks;
	int64_t conv_id;
	size_t i, k;
	char text[32];
	struct err e;

	h_party_new(&alice, "alice", 1);
	h_party_new(&bob, "bob", 1);
	h_set_online(&bob, false);
	for (i = 0; i < total; i++) {
		snprintf(text, sizeof text, "message %zu", i);
		h_send(&alice, "bob", text);
	}
	h_pump();
	/* Bob comes back with batching: envelopes share one transaction. */
	bob.online = true;
	hooks = bob.c.msg->hooks;
	hooks.request = NULL; /* keep the receipts queued for now */
	hooks.manual_flush = true;
	msg_set_hooks(&bob.c, &hooks);
	for (k = 0; k < 40; k++) {
		h_relay.env[k].delivered = true;
		msg_on_envelope(&bob.c, &h_relay.env[k].env);
	}
	assert_int_equal(bob.n_acks, 0);
	assert_true(bob.c.msg->batch_open);
	msg_flush(&bob.c);
	assert_int_equal(bob.n_acks, 40);
	assert_int_equal(h_history_count(&bob, "alice"), 40);
	/* A full batch commits by itself. */
	for (k = 40; k < total; k++) {
		h_relay.env[k].delivered = true;
		msg_on_envelope(&bob.c, &h_relay.env[k].env);
	}
	assert_int_equal(bob.n_acks, 40 + MSG_BATCH_MAX);
	msg_flush(&bob.c);
	assert_int_equal(bob.n_acks, total);
	assert_int_equal(h_history_count(&bob, "alice"), total);
	/* The conversation is touched once per batch, yet counts every
	 * message unread. */
	assert_int_equal(conversations_find(bob.c.db, CONVERSATIONS_DIRECT, "alice", &conv_id, &e),
	                 0);
	assert_int_equal(conversations_get(bob.c.db, conv_id, &conv, &e), 0);
	assert_int_equal(conv.unread, total);
	assert_true(conv.last_activity > 0);
	conversations_entry_clear(&conv);
	/* One delivered receipt per batch and sender, not one per message. */
	assert_true(h_outbox_pending(&bob) <= 3);
	h_set_online(&bob, true);
	h_reconnect(&bob);
	h_pump();
	assert_int_equal(h_outbox_pending(&bob), 0);
	h_party_free(&alice);
	h_party_free(&bob);
}

static void
test_msg_sends_share_one_commit_and_go_out_only_after_it(void **state)
{
	struct h_party alice, bob;
	struct msg_hooks hooks;
	struct history_message h;
	int64_t ids[5];
	size_t base, events, i;
	char text[32];

	h_party_new(&alice, "alice", 1);
	h_party_new(&bob, "bob", 1);
	h_send(&alice, "bob", "first");
	h_pump();
	/* As in the engine, where the loop commits on its next pass. */
	hooks = alice.c.msg->hooks;
	hooks.manual_flush = true;
	msg_set_hooks(&alice.c, &hooks);
	base = h_relay.nreq;
	events = h_count_events(&alice, "message");
	for (i = 0; i < 5; i++) {
		snprintf(text, sizeof text, "grouped %zu", i);
		ids[i] = h_send(&alice, "bob", text);
	}
	/* Stored and encrypted in one open transaction: each message has its
	 * own queued ciphertext, none is on the wire or announced yet. */
	assert_true(alice.c.msg->batch_open);
	assert_int_equal(db_depth(alice.c.db), 1);
	assert_int_equal(h_outbox_pending(&alice), 5);
	assert_int_equal(h_relay.nreq, base);
	assert_int_equal(h_count_events(&alice, "message"), events);
	msg_flush(&alice.c);
	assert_int_equal(h_relay.nreq, base + 5);
	assert_int_equal(h_count_events(&alice, "message"), events + 5);
	h_pump();
	msg_flush(&alice.c);
	assert_int_equal(h_outbox_pending(&alice), 0);
	for (i = 0; i < 5; i++) {
		h_get(&alice, ids[i], &h);
		assert_true(h.state == HISTORY_SENT || h.state == HISTORY_DELIVERED);
		history_message_clear(&h);
	}
	assert_int_equal(h_history_count(&bob, "alice"), 6);
	h_party_free(&alice);
	h_party_free(&bob);
}

static void
test_msg_unknown_account_fails_the_send(void **state)
{
	struct h_party alice;
	struct history_message h;
	enum err_code code;
	struct err e;
	json_t *r;
	int64_t id;

	h_party_new(&alice, "alice", 1);
	id = h_send(&alice, "nobody", "hello?");
	h_pump();
	/* A mistyped name leaves no contact, conversation or message. */
	assert_int_equal(h_outbox_pending(&alice), 0);
	assert_int_equal(history_get(alice.c.db, id, &h, &e), -1);
	assert_int_equal(h_history_count(&alice, "nobody"), 0);
	r = h_call(&alice, "contacts", json_object(), &code);
	assert_int_equal(json_array_size(json_object_get(r, "contacts")), 0);
	json_decref(r);
	r = h_call(&alice, "send", json_pack("{s:s,s:s}", "to", "nobody", "text", "again"), &code);
	assert_null(r);
	assert_int_equal(code, ERR_NOTFOUND);
	r = h_call(&alice, "send", json_pack("{s:s,s:s}", "to", "Not A Name", "text", "x"), &code);
	assert_null(r);
	assert_int_equal(code, ERR_INVALID);
	h_party_free(&alice);
}

/* Message ids are version 7 UUIDs the relay accepts, and one made later
 * sorts after: appended to the indexes on them, not scattered. */
static void
test_msg_ids_are_uuid7_growing_with_time(void **state)
{
	char a[WIRE_MSG_ID_MAX + 1], b[WIRE_MSG_ID_MAX + 1], c[WIRE_MSG_ID_MAX + 1];
	struct timespec pause = {0, 2 * 1000 * 1000};
	(void)state;

	msg_new_id(a);
	msg_new_id(c);
	nanosleep(&pause, NULL);
	msg_new_id(b);
	assert_int_equal(strlen(a), 36);
	assert_true(wire_msg_id_valid(a));
	assert_int_equal(a[14], '7');
	assert_non_null(strchr("89ab", a[19]));
	assert_true(strcmp(a, b) < 0);
	assert_true(strcmp(c, b) < 0);
	assert_string_not_equal(a, c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_msg_ids_are_uuid7_growing_with_time),
	    cmocka_unit_test_setup_teardown(test_msg_text_reaches_peer_and_comes_back_delivered,
	                                    h_setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_msg_same_ciphertext_under_a_new_relay_id_is_dropped, h_setup, h_teardown),
	    cmocka_unit_test_setup_teardown(test_msg_redelivery_after_lost_ack_is_dropped, h_setup,
	                                    h_teardown),
	    cmocka_unit_test_setup_teardown(test_msg_tampered_envelope_is_acked_and_reported,
	                                    h_setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_msg_offline_send_is_queued_and_resent_with_same_bytes, h_setup, h_teardown),
	    cmocka_unit_test_setup_teardown(test_msg_first_message_offline_waits_for_the_connection,
	                                    h_setup, h_teardown),
	    cmocka_unit_test_setup_teardown(test_msg_queued_sends_survive_a_restart, h_setup,
	                                    h_teardown),
	    cmocka_unit_test_setup_teardown(test_msg_device_list_is_repaired_under_the_same_msg_id,
	                                    h_setup, h_teardown),
	    cmocka_unit_test_setup_teardown(test_msg_copies_reach_our_other_device_with_sent_to,
	                                    h_setup, h_teardown),
	    cmocka_unit_test_setup_teardown(test_msg_changed_verified_key_blocks_until_trusted,
	                                    h_setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_msg_reinstalled_verified_peer_fails_the_send_until_trusted, h_setup,
	        h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_msg_new_device_of_verified_peer_blocks_until_trusted, h_setup, h_teardown),
	    cmocka_unit_test_setup_teardown(test_msg_lost_session_is_repaired_once, h_setup,
	                                    h_teardown),
	    cmocka_unit_test_setup_teardown(test_msg_batch_acks_only_after_commit, h_setup,
	                                    h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_msg_sends_share_one_commit_and_go_out_only_after_it, h_setup, h_teardown),
	    cmocka_unit_test_setup_teardown(test_msg_unknown_account_fails_the_send, h_setup,
	                                    h_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

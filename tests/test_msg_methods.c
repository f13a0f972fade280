/* Tests for the messaging JSON-RPC methods (recv, history, messages,
 * search, conversations, contacts, mark_read, safety, trust) on real
 * profiles talking through the harness relay. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "store/history.h"
#include "tests/test_msg_harness.h"

static json_t *
call_ok(struct h_party *p, const char *method, json_t *params)
{
	enum err_code code = ERR_OK;
	json_t *r = h_call(p, method, params, &code);

	if (r == NULL)
		fail_msg("%s failed with %s", method, err_code_name(code));
	return r;
}

static enum err_code
call_err(struct h_party *p, const char *method, json_t *params)
{
	enum err_code code = ERR_OK;
	json_t *r = h_call(p, method, params, &code);

	if (r != NULL) {
		json_decref(r);
		fail_msg("%s succeeded", method);
	}
	return code;
}

static const char *
str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static json_int_t
num(json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

static void
pair(struct h_party *alice, struct h_party *bob)
{
	h_party_new(alice, "alice", 1);
	h_party_new(bob, "bob", 1);
}

static void
test_msg_methods_recv_returns_each_incoming_message_once(void **state)
{
	struct h_party alice, bob;
	json_t *r, *msgs, *m;

	pair(&alice, &bob);
	h_send(&alice, "bob", "one");
	h_send(&alice, "bob", "two");
	h_pump();
	r = call_ok(&bob, "recv", json_object());
	msgs = json_object_get(r, "messages");
	assert_int_equal(json_array_size(msgs), 2);
	m = json_array_get(msgs, 0);
	assert_string_equal(str(m, "text"), "one");
	assert_string_equal(str(m, "peer"), "alice");
	assert_string_equal(str(m, "sender"), "alice");
	assert_string_equal(str(m, "direction"), "in");
	assert_string_equal(str(m, "state"), "received");
	assert_int_equal(num(m, "sender_device"), 1);
	assert_true(num(m, "received_ms") > 0);
	assert_non_null(str(m, "msg_id"));
	assert_true(wire_msg_id_valid(str(m, "msg_id"))); /* not our "alice/..." key */
	assert_string_equal(str(json_array_get(msgs, 1), "text"), "two");
	json_decref(r);
	/* Nothing new: empty (and a timeout needs a loop to wait on). */
	r = call_ok(&bob, "recv", json_pack("{s:i}", "timeout", 0));
	assert_int_equal(json_array_size(json_object_get(r, "messages")), 0);
	json_decref(r);
	/* Our own messages are not "received". */
	h_send(&bob, "alice", "reply");
	h_send(&alice, "bob", "three");
	h_pump();
	r = call_ok(&bob, "recv", json_object());
	msgs = json_object_get(r, "messages");
	assert_int_equal(json_array_size(msgs), 1);
	assert_string_equal(str(json_array_get(msgs, 0), "text"), "three");
	json_decref(r);
	/* The cursor is in the profile: it survives a restart. */
	h_party_restart(&bob);
	r = call_ok(&bob, "recv", json_object());
	assert_int_equal(json_array_size(json_object_get(r, "messages")), 0);
	json_decref(r);
	h_party_free(&alice);
	h_party_free(&bob);
}

static void
test_msg_methods_history_filters_by_peer_limit_and_since(void **state)
{
	struct h_party alice, bob, carol;
	json_t *r, *msgs;

	pair(&alice, &bob);
	h_party_new(&carol, "carol", 1);
	h_send(&alice, "bob", "a1");
	h_send(&alice, "carol", "c1");
	h_pump();
	h_send(&bob, "alice", "b1");
	h_pump();
	h_send(&alice, "bob", "a2");
	h_pump();
	r = call_ok(&alice, "history", json_object());
	msgs = json_object_get(r, "messages");
	assert_int_equal(json_array_size(msgs), 4);
	/* Oldest first, across conversations. */
	assert_string_equal(str(json_array_get(msgs, 0), "text"), "a1");
	assert_string_equal(str(json_array_get(msgs, 1), "text"), "c1");
	assert_string_equal(str(json_array_get(msgs, 3), "text"), "a2");
	assert_string_equal(str(json_array_get(msgs, 2), "direction"), "in");
	json_decref(r);
	r = call_ok(&alice, "history", json_pack("{s:s}", "with", "bob"));
	assert_int_equal(json_array_size(json_object_get(r, "messages")), 3);
	json_decref(r);
	/* limit keeps the most recent, still oldest first. */
	r = call_ok(&alice, "history", json_pack("{s:s,s:i}", "with", "bob", "limit", 2));
	msgs = json_object_get(r, "messages");
	assert_int_equal(json_array_size(msgs), 2);
	assert_string_equal(str(json_array_get(msgs, 0), "text"), "b1");
	assert_string_equal(str(json_array_get(msgs, 1), "text"), "a2");
	json_decref(r);
	/* since: everything is from the last hour, nothing from the future. */
	r = call_ok(&alice, "history", json_pack("{s:s}", "since", "1h"));
	assert_int_equal(json_array_size(json_object_get(r, "messages")), 4);
	json_decref(r);
	r = call_ok(&alice, "history", json_pack("{s:s}", "since", "2999-01-01T00:00:00Z"));
	assert_int_equal(json_array_size(json_object_get(r, "messages")), 0);
	json_decref(r);
	assert_int_equal(call_err(&alice, "history", json_pack("{s:s}", "since", "yesterday-ish")),
	                 ERR_INVALID);
	assert_int_equal(call_err(&alice, "history", json_pack("{s:s}", "with", "nobody")),
	                 ERR_NOTFOUND);
	h_party_free(&alice);
	h_party_free(&bob);
	h_party_free(&carol);
}

static void
test_msg_methods_conversations_and_contacts_show_unread_and_activity(void **state)
{
	struct h_party alice, bob;
	json_t *r, *list, *c;

	pair(&alice, &bob);
	h_send(&alice, "bob", "hey");
	h_send(&alice, "bob", "you there?");
	h_pump();
	r = call_ok(&bob, "conversations", json_object());
	list = json_object_get(r, "conversations");
	assert_int_equal(json_array_size(list), 1);
	c = json_array_get(list, 0);
	assert_string_equal(str(c, "peer"), "alice");
	assert_string_equal(str(c, "title"), "alice");
	assert_int_equal(num(c, "unread"), 2);
	assert_string_equal(str(c, "last_text"), "you there?");
	assert_true(num(c, "last_activity_ms") > 0);
	json_decref(r);
	r = call_ok(&bob, "contacts", json_object());
	list = json_object_get(r, "contacts");
	assert_int_equal(json_array_size(list), 1);
	c = json_array_get(list, 0);
	assert_string_equal(str(c, "name"), "alice");
	assert_false(json_is_true(json_object_get(c, "verified")));
	assert_false(json_is_true(json_object_get(c, "identity_changed")));
	assert_int_equal(json_array_size(json_object_get(c, "devices")), 1);
	assert_int_equal(json_integer_value(json_array_get(json_object_get(c, "devices"), 0)), 1);
	assert_int_equal(num(c, "unread"), 2);
	json_decref(r);
	/* Alice's list does not show alice herself. */
	r = call_ok(&alice, "contacts", json_object());
	list = json_object_get(r, "contacts");
	assert_int_equal(json_array_size(list), 1);
	assert_string_equal(str(json_array_get(list, 0), "name"), "bob");
	json_decref(r);
	h_party_free(&alice);
	h_party_free(&bob);
}

static void
test_msg_methods_messages_pages_by_id_and_search_finds_text(void **state)
{
	struct h_party alice, bob;
	json_t *r, *msgs;
	json_int_t conv, mid;
	char text[32];
	int i;

	pair(&alice, &bob);
	for (i = 0; i < 10; i++) {
		snprintf(text, sizeof text, "note %d%s", i, i == 7 ? " Banana" : "");
		h_send(&alice, "bob", text);
	}
	h_pump();
	r = call_ok(&bob, "messages", json_pack("{s:i,s:i}", "conversation", 1, "limit", 3));
	msgs = json_object_get(r, "messages");
	assert_int_equal(json_array_size(msgs), 3);
	assert_string_equal(str(json_array_get(msgs, 2), "text"), "note 9");
	conv = num(json_array_get(msgs, 0), "conversation");
	mid = num(json_array_get(msgs, 0), "id");
	json_decref(r);
	r = call_ok(&bob, "messages",
	            json_pack("{s:I,s:I,s:i}", "conversation", conv, "before_id", mid, "limit", 2));
	msgs = json_object_get(r, "messages");
	assert_int_equal(json_array_size(msgs), 2);
	assert_string_equal(str(json_array_get(msgs, 1), "text"), "note 6");
	json_decref(r);
	r = call_ok(&bob, "messages",
	            json_pack("{s:I,s:I,s:i}", "conversation", conv, "after_id", mid, "limit", 10));
	assert_int_equal(json_array_size(json_object_get(r, "messages")), 2);
	json_decref(r);
	assert_int_equal(call_err(&bob, "messages", json_pack("{s:s}", "conversation", "x")),
	                 ERR_INVALID);
	r = call_ok(&bob, "search", json_pack("{s:s}", "text", "banana"));
	msgs = json_object_get(r, "messages");
	assert_int_equal(json_array_size(msgs), 1);
	assert_string_equal(str(json_array_get(msgs, 0), "text"), "note 7 Banana");
	json_decref(r);
	r = call_ok(&bob, "search", json_pack("{s:s,s:s}", "text", "note", "with", "alice"));
	assert_int_equal(json_array_size(json_object_get(r, "messages")), 10);
	json_decref(r);
	assert_int_equal(call_err(&bob, "search", json_pack("{s:s}", "text", "")), ERR_INVALID);
	h_party_free(&alice);
	h_party_free(&bob);
}

static void
test_msg_methods_mark_read_clears_unread_and_sends_read_receipts(void **state)
{
	struct h_party alice, bob;
	struct history_message h;
	json_t *r, *msgs;
	json_int_t conv, last;
	int64_t a1, a2;

	pair(&alice, &bob);
	a1 = h_send(&alice, "bob", "read me");
	a2 = h_send(&alice, "bob", "me too");
	h_pump();
	r = call_ok(&bob, "history", json_pack("{s:s}", "with", "alice"));
	msgs = json_object_get(r, "messages");
	conv = num(json_array_get(msgs, 0), "conversation");
	last = num(json_array_get(msgs, 1), "id");
	json_decref(r);
	json_decref(call_ok(&bob, "mark_read",
	                    json_pack("{s:I,s:I}", "conversation", conv, "up_to_id", last)));
	r = call_ok(&bob, "conversations", json_object());
	assert_int_equal(num(json_array_get(json_object_get(r, "conversations"), 0), "unread"), 0);
	json_decref(r);
	/* One event tells every frontend, however many messages it covered. */
	assert_int_equal(h_count_events(&bob, "conversation.read"), 1);
	r = h_event(&bob, "conversation.read"); /* borrowed */
	assert_non_null(r);
	assert_int_equal(num(r, "conversation"), conv);
	assert_int_equal(num(r, "count"), 2);
	r = call_ok(&bob, "history", json_pack("{s:s}", "with", "alice"));
	assert_string_equal(str(json_array_get(json_object_get(r, "messages"), 1), "state"),
	                    "read");
	json_decref(r);
	h_pump();
	h_get(&alice, a1, &h);
	assert_int_equal(h.state, HISTORY_READ);
	history_message_clear(&h);
	h_get(&alice, a2, &h);
	assert_int_equal(h.state, HISTORY_READ);
	history_message_clear(&h);
	/* Marking again sends nothing new. */
	json_decref(call_ok(&bob, "mark_read",
	                    json_pack("{s:I,s:I}", "conversation", conv, "up_to_id", last)));
	assert_int_equal(h_outbox_pending(&bob), 0);
	assert_int_equal(
	    call_err(&bob, "mark_read", json_pack("{s:i,s:i}", "conversation", 999, "up_to_id", 1)),
	    ERR_NOTFOUND);
	h_party_free(&alice);
	h_party_free(&bob);
}

static void
test_msg_methods_safety_numbers_match_and_trust_checks_digits(void **state)
{
	struct h_party alice, bob;
	char digits[61], wrong[61];
	json_t *ra, *rb, *r;

	pair(&alice, &bob);
	assert_int_equal(call_err(&alice, "safety", json_pack("{s:s}", "name", "bob")),
	                 ERR_NOTFOUND);
	h_send(&alice, "bob", "hi");
	h_pump();
	ra = call_ok(&alice, "safety", json_pack("{s:s}", "name", "bob"));
	rb = call_ok(&bob, "safety", json_pack("{s:s}", "name", "alice"));
	assert_int_equal(strlen(str(ra, "digits")), 60);
	assert_string_equal(str(ra, "digits"), str(rb, "digits"));
	assert_int_equal(strlen(str(ra, "groups")), 71);
	assert_non_null(str(ra, "scannable"));
	assert_false(json_is_true(json_object_get(ra, "verified")));
	snprintf(digits, sizeof digits, "%s", str(ra, "digits"));
	json_decref(ra);
	json_decref(rb);
	snprintf(wrong, sizeof wrong, "%s", digits);
	wrong[10] = wrong[10] == '9' ? '0' : (char)(wrong[10] + 1);
	assert_int_equal(
	    call_err(&alice, "trust", json_pack("{s:s,s:s}", "name", "bob", "verified", wrong)),
	    ERR_CRYPTO);
	r = call_ok(&alice, "safety", json_pack("{s:s}", "name", "bob"));
	assert_false(json_is_true(json_object_get(r, "verified")));
	json_decref(r);
	/* The grouped form, as read aloud, is accepted. */
	r = call_ok(&alice, "safety", json_pack("{s:s}", "name", "bob"));
	rb = call_ok(&alice, "trust",
	             json_pack("{s:s,s:s}", "name", "bob", "verified", str(r, "groups")));
	assert_true(json_is_true(json_object_get(rb, "verified")));
	json_decref(r);
	json_decref(rb);
	r = call_ok(&alice, "contacts", json_object());
	assert_true(json_is_true(
	    json_object_get(json_array_get(json_object_get(r, "contacts"), 0), "verified")));
	json_decref(r);
	assert_non_null(h_event(&alice, "contact"));
	assert_int_equal(call_err(&alice, "trust", json_pack("{s:s}", "name", "NOT VALID")),
	                 ERR_INVALID);
	h_party_free(&alice);
	h_party_free(&bob);
}

static void
test_msg_methods_refuse_while_locked(void **state)
{
	struct h_party alice;
	struct db *db;

	h_party_new(&alice, "alice", 1);
	db = alice.c.db;
	alice.c.db = NULL;
	assert_int_equal(call_err(&alice, "history", json_object()), ERR_AUTH);
	assert_int_equal(call_err(&alice, "recv", json_object()), ERR_AUTH);
	assert_int_equal(call_err(&alice, "send", json_pack("{s:s,s:s}", "to", "bob", "text", "x")),
	                 ERR_AUTH);
	alice.c.db = db;
	h_party_free(&alice);
}

static void
test_msg_json_since_takes_durations_iso_dates_and_ms(void **state)
{
	int64_t now = 1764160000000LL, out = 0;
	struct err e;

	assert_int_equal(msg_json_parse_since("2h", now, &out, &e), 0);
	assert_int_equal(out, now - 2 * 3600 * 1000);
	assert_int_equal(msg_json_parse_since("3d", now, &out, &e), 0);
	assert_int_equal(out, now - 3 * 86400 * 1000LL);
	assert_int_equal(msg_json_parse_since("1w", now, &out, &e), 0);
	assert_int_equal(msg_json_parse_since("30s", now, &out, &e), 0);
	assert_int_equal(out, now - 30000);
	assert_int_equal(msg_json_parse_since("2025-11-26", now, &out, &e), 0);
	assert_int_equal(out, 1764115200000LL);
	assert_int_equal(msg_json_parse_since("2025-11-26T12:26:40Z", now, &out, &e), 0);
	assert_int_equal(out, 1764160000000LL);
	assert_int_equal(msg_json_parse_since("2025-11-26T12:26", now, &out, &e), 0);
	assert_int_equal(out, 1764159960000LL);
	assert_int_equal(msg_json_parse_since("1764160000000", now, &out, &e), 0);
	assert_int_equal(out, 1764160000000LL);
	assert_int_equal(msg_json_parse_since("", now, &out, &e), -1);
	assert_int_equal(msg_json_parse_since("2x", now, &out, &e), -1);
	assert_int_equal(msg_json_parse_since("h", now, &out, &e), -1);
	assert_int_equal(msg_json_parse_since("2026-13-45", now, &out, &e), -1);
	assert_int_equal(msg_json_parse_since("2026-11-26T12:26:40+99", now, &out, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_msg_methods_recv_returns_each_incoming_message_once, h_setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_msg_methods_history_filters_by_peer_limit_and_since, h_setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_msg_methods_conversations_and_contacts_show_unread_and_activity, h_setup,
	        h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_msg_methods_messages_pages_by_id_and_search_finds_text, h_setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_msg_methods_mark_read_clears_unread_and_sends_read_receipts, h_setup,
	        h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_msg_methods_safety_numbers_match_and_trust_checks_digits, h_setup, h_teardown),
	    cmocka_unit_test_setup_teardown(test_msg_methods_refuse_while_locked, h_setup,
	                                    h_teardown),
	    cmocka_unit_test(test_msg_json_since_takes_durations_iso_dates_and_ms),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Tests for store/history: deduplicated inserts, windowed pages on a large
 * conversation, search, state transitions, expiry, and rollback of a
 * decrypt's writes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "store/conversations.h"
#include "store/db.h"
#include "store/history.h"
#include "store/sigstore.h"
#include "tests/store_fixture.h"

static int64_t
incoming(struct db *db, int64_t conv, const char *relay_id, const char *body)
{
	struct history_message m = {0};
	int64_t id;
	struct err e;

	m.conversation_id = conv;
	m.sender_name = "bob";
	m.sender_device = 1;
	m.relay_id = (char *)relay_id;
	m.body = (char *)body;
	if (history_insert_incoming(db, &m, &id, &e) != 0)
		fail_msg("%s", e.msg);
	return id;
}

static int64_t
outgoing(struct db *db, int64_t conv, const char *client_id, const char *body)
{
	struct history_message m = {0};
	int64_t id;
	struct err e;

	m.conversation_id = conv;
	m.sender_name = "alice";
	m.sender_device = 1;
	m.client_id = (char *)client_id;
	m.body = (char *)body;
	if (history_insert_outgoing(db, &m, &id, &e) != 0)
		fail_msg("%s", e.msg);
	return id;
}

static int64_t
bob(struct db *db)
{
	int64_t conv;
	struct err e;

	assert_int_equal(conversations_direct(db, "bob", &conv, &e), 0);
	return conv;
}

static void
test_history_incoming_is_stored_and_counted_unread(void **state)
{
	struct fixture *f = *state;
	struct conversations_entry c;
	struct history_message m;
	int64_t conv = bob(f->db), id;
	struct err e;

	id = incoming(f->db, conv, "relay-a", "hello there");
	assert_int_equal(history_get(f->db, id, &m, &e), 0);
	assert_int_equal(m.direction, HISTORY_IN);
	assert_int_equal(m.state, HISTORY_RECEIVED);
	assert_string_equal(m.body, "hello there");
	assert_string_equal(m.sender_name, "bob");
	assert_null(m.client_id);
	assert_true(m.received_at > 0);
	assert_int_equal(conversations_get(f->db, conv, &c, &e), 0);
	assert_int_equal(c.unread, 1);
	assert_int_equal(c.last_activity, m.received_at);
	conversations_entry_clear(&c);
	history_message_clear(&m);
}

static void
test_history_redelivered_relay_id_is_duplicate_and_changes_nothing(void **state)
{
	struct fixture *f = *state;
	struct history_message m = {0};
	struct conversations_entry c;
	int64_t conv = bob(f->db), id, before;
	struct err e;

	incoming(f->db, conv, "relay-dup", "first");
	assert_int_equal(conversations_get(f->db, conv, &c, &e), 0);
	before = c.unread;
	conversations_entry_clear(&c);
	m.conversation_id = conv;
	m.sender_name = "bob";
	m.relay_id = "relay-dup";
	m.body = "second copy";
	assert_int_equal(history_insert_incoming(f->db, &m, &id, &e), -1);
	assert_int_equal(e.code, ERR_DUPLICATE);
	assert_int_equal(conversations_get(f->db, conv, &c, &e), 0);
	assert_int_equal(c.unread, before);
	conversations_entry_clear(&c);
	assert_int_equal(db_depth(f->db), 0);
}

static void
test_history_untouched_insert_leaves_the_conversation_to_the_caller(void **state)
{
	struct fixture *f = *state;
	struct history_message m = {0}, got;
	struct conversations_entry c;
	int64_t conv = bob(f->db), id, before_unread, before_activity;
	struct err e;

	assert_int_equal(conversations_get(f->db, conv, &c, &e), 0);
	before_unread = c.unread;
	before_activity = c.last_activity;
	conversations_entry_clear(&c);
	m.conversation_id = conv;
	m.sender_name = "bob";
	m.sender_device = 1;
	m.relay_id = "relay-untouched";
	m.body = "batched";
	m.received_at = before_activity + 5000;
	assert_int_equal(history_insert_incoming_untouched(f->db, &m, &id, &e), 0);
	assert_int_equal(history_get(f->db, id, &got, &e), 0);
	assert_string_equal(got.body, "batched");
	assert_int_equal(got.state, HISTORY_RECEIVED);
	history_message_clear(&got);
	assert_int_equal(conversations_get(f->db, conv, &c, &e), 0);
	assert_int_equal(c.unread, before_unread);
	assert_int_equal(c.last_activity, before_activity);
	conversations_entry_clear(&c);
	/* Still deduplicated by relay id, and a relay id is required. */
	assert_int_equal(history_insert_incoming_untouched(f->db, &m, &id, &e), -1);
	assert_int_equal(e.code, ERR_DUPLICATE);
	m.relay_id = NULL;
	assert_int_equal(history_insert_incoming_untouched(f->db, &m, &id, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	assert_int_equal(db_depth(f->db), 0);
}

static void
test_history_outgoing_client_id_is_unique(void **state)
{
	struct fixture *f = *state;
	struct history_message m = {0};
	int64_t conv = bob(f->db), id, found;
	struct err e;

	id = outgoing(f->db, conv, "client-1", "hi bob");
	assert_int_equal(history_find_client_id(f->db, "client-1", &found, &e), 0);
	assert_int_equal(found, id);
	m.conversation_id = conv;
	m.sender_name = "alice";
	m.client_id = "client-1";
	m.body = "again";
	assert_int_equal(history_insert_outgoing(f->db, &m, &found, &e), -1);
	assert_int_equal(e.code, ERR_DUPLICATE);
	assert_int_equal(history_find_client_id(f->db, "client-unknown", &found, &e), -1);
	assert_int_equal(e.code, ERR_NOTFOUND);
}

static void
test_history_rejects_unknown_conversation_and_missing_ids(void **state)
{
	struct fixture *f = *state;
	struct history_message m = {0};
	int64_t id;
	struct err e;

	m.conversation_id = 999999;
	m.sender_name = "bob";
	m.relay_id = "relay-orphan";
	m.body = "lost";
	assert_int_equal(history_insert_incoming(f->db, &m, &id, &e), -1);
	assert_int_equal(e.code, ERR_NOTFOUND);
	m.conversation_id = bob(f->db);
	m.relay_id = NULL;
	assert_int_equal(history_insert_incoming(f->db, &m, &id, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	assert_int_equal(history_insert_outgoing(f->db, &m, &id, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
}

static void
test_history_has_incoming_after_ignores_outgoing_and_older(void **state)
{
	struct fixture *f = *state;
	int64_t conv = bob(f->db), in_id;
	bool pending = true;
	struct err e;

	/* The fixture is shared: ours are the newest rows. */
	in_id = incoming(f->db, conv, "r-pending-1", "to be read");
	outgoing(f->db, conv, "c-pending-1", "our reply");
	assert_int_equal(history_has_incoming_after(f->db, in_id - 1, &pending, &e), 0);
	assert_true(pending);
	/* Past the incoming one only our own message is left. */
	assert_int_equal(history_has_incoming_after(f->db, in_id, &pending, &e), 0);
	assert_false(pending);
}

static void
test_history_state_only_moves_forward(void **state)
{
	struct fixture *f = *state;
	struct history_message m;
	int64_t id = outgoing(f->db, bob(f->db), "client-state", "tracking");
	bool changed;
	struct err e;

	assert_int_equal(history_set_state(f->db, id, HISTORY_FAILED, &changed, &e), 0);
	assert_true(changed);
	assert_int_equal(history_set_state(f->db, id, HISTORY_SENDING, &changed, &e), 0);
	assert_true(changed);
	assert_int_equal(history_set_state(f->db, id, HISTORY_READ, &changed, &e), 0);
	assert_true(changed);
	/* A late "sent" ack or "delivered" receipt must not undo "read". */
	assert_int_equal(history_set_state(f->db, id, HISTORY_SENT, &changed, &e), 0);
	assert_false(changed);
	assert_int_equal(history_set_state(f->db, id, HISTORY_DELIVERED, &changed, &e), 0);
	assert_false(changed);
	assert_int_equal(history_set_state(f->db, id, HISTORY_FAILED, &changed, &e), 0);
	assert_false(changed);
	assert_int_equal(history_get(f->db, id, &m, &e), 0);
	assert_int_equal(m.state, HISTORY_READ);
	history_message_clear(&m);
	assert_int_equal(history_set_state(f->db, 424242, HISTORY_READ, NULL, &e), -1);
	assert_int_equal(e.code, ERR_NOTFOUND);
}

static void
test_history_search_is_literal_and_scoped(void **state)
{
	struct fixture *f = *state;
	int64_t carol, conv = bob(f->db);
	struct history_message *list;
	size_t n;
	struct err e;

	assert_int_equal(conversations_direct(f->db, "carol", &carol, &e), 0);
	incoming(f->db, conv, "relay-s1", "Discount: 100% off_today");
	incoming(f->db, conv, "relay-s2", "discount 1000 offXtoday");
	incoming(f->db, carol, "relay-s3", "DISCOUNT: 100% OFF_TODAY from carol");
	assert_int_equal(history_search(f->db, conv, "100% off_", 10, &list, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].relay_id, "relay-s1");
	history_messages_free(list, n);
	assert_int_equal(history_search(f->db, 0, "100% off_", 10, &list, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].relay_id, "relay-s3"); /* newest first */
	history_messages_free(list, n);
	assert_int_equal(history_search(f->db, 0, "no such text", 10, &list, &n, &e), 0);
	assert_int_equal(n, 0);
	history_messages_free(list, n);
}

static void
test_history_expire_deletes_due_messages_only(void **state)
{
	struct fixture *f = *state;
	struct history_message m;
	int64_t conv = bob(f->db), a, b, c, next, deleted;
	struct err e;

	a = incoming(f->db, conv, "relay-x1", "goes first");
	b = incoming(f->db, conv, "relay-x2", "goes later");
	c = incoming(f->db, conv, "relay-x3", "stays");
	assert_int_equal(history_set_expires(f->db, a, 1000, &e), 0);
	assert_int_equal(history_set_expires(f->db, b, 5000, &e), 0);
	assert_int_equal(history_next_expiry(f->db, &next, &e), 0);
	assert_int_equal(next, 1000);
	assert_int_equal(history_expire(f->db, 2000, &deleted, &e), 0);
	assert_int_equal(deleted, 1);
	assert_int_equal(history_get(f->db, a, &m, &e), -1);
	assert_int_equal(e.code, ERR_NOTFOUND);
	assert_int_equal(history_get(f->db, b, &m, &e), 0);
	history_message_clear(&m);
	assert_int_equal(history_expire(f->db, 9000, &deleted, &e), 0);
	assert_int_equal(deleted, 1);
	assert_int_equal(history_get(f->db, c, &m, &e), 0);
	history_message_clear(&m);
	assert_int_equal(history_next_expiry(f->db, &next, &e), 0);
	assert_int_equal(next, 0);
}

/* The crash-between-decrypt-and-commit building block: everything a
 * decrypt writes (the session through the libsignal callback, the
 * plaintext into history) goes away with the transaction. */
static void
test_history_rollback_undoes_session_and_message(void **state)
{
	struct fixture *f = *state;
	struct sigstore_callbacks cb;
	signal_protocol_address addr = {"dave", 4, 1};
	uint8_t record[] = {1, 2, 3, 4};
	struct history_message m = {0};
	struct history_message *list;
	int64_t conv, id;
	size_t n;
	struct err e;

	sigstore_callbacks_init(&cb, f->db);
	assert_int_equal(conversations_direct(f->db, "dave", &conv, &e), 0);
	assert_int_equal(db_begin(f->db, &e), 0);
	assert_int_equal(cb.session.store_session_func(&addr, record, sizeof record, NULL, 0,
	                                               cb.session.user_data),
	                 0);
	m.conversation_id = conv;
	m.sender_name = "dave";
	m.sender_device = 1;
	m.relay_id = "relay-crash";
	m.body = "decrypted but never committed";
	assert_int_equal(history_insert_incoming(f->db, &m, &id, &e), 0);
	assert_int_equal(cb.session.contains_session_func(&addr, cb.session.user_data), 1);
	assert_int_equal(db_rollback(f->db, &e), 0);
	assert_int_equal(cb.session.contains_session_func(&addr, cb.session.user_data), 0);
	assert_int_equal(history_page_before(f->db, conv, 0, 10, &list, &n, &e), 0);
	assert_int_equal(n, 0);
	history_messages_free(list, n);
	/* The redelivery after the "crash" is new, not a duplicate. */
	assert_int_equal(history_insert_incoming(f->db, &m, &id, &e), 0);
}

#define BIG_CONVERSATION 50000

/* Two interleaved conversations of 50k messages each, written in bulk. */
static void
fill_big(struct db *db, int64_t conv_a, int64_t conv_b)
{
	sqlite3_stmt *st;
	struct err e;

	st = db_prepare(db,
	                "INSERT INTO messages (conversation_id, direction, sender_name,"
	                " sender_device, relay_id, body, state)"
	                " WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
	                " WHERE i < ?3)"
	                " SELECT CASE i % 2 WHEN 0 THEN ?1 ELSE ?2 END, 0, 'bob', 1,"
	                " 'bulk-' || i, 'message ' || i, 5 FROM n",
	                &e);
	assert_non_null(st);
	sqlite3_bind_int64(st, 1, conv_a);
	sqlite3_bind_int64(st, 2, conv_b);
	sqlite3_bind_int(st, 3, 2 * BIG_CONVERSATION);
	if (db_step_done(db, st, "bulk insert", &e) != 0)
		fail_msg("%s", e.msg);
}

static void
test_history_pages_walk_100k_rows_through_the_index(void **state)
{
	struct fixture *f = fixture_open();
	struct history_message *page;
	int64_t conv_a, conv_b, cursor = 0, last = INT64_MAX, total = 0;
	size_t n;
	char *plan;
	struct err e;

	(void)state;
	assert_int_equal(conversations_direct(f->db, "bulk-a", &conv_a, &e), 0);
	assert_int_equal(conversations_direct(f->db, "bulk-b", &conv_b, &e), 0);
	fill_big(f->db, conv_a, conv_b);

	/* Newest page first, shown oldest first. */
	assert_int_equal(history_page_before(f->db, conv_a, 0, 50, &page, &n, &e), 0);
	assert_int_equal(n, 50);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(page[i].conversation_id, conv_a);
		if (i > 0)
			assert_true(page[i].id > page[i - 1].id);
	}
	assert_int_equal(page[n - 1].id, 2 * BIG_CONVERSATION);
	assert_string_equal(page[n - 1].body, "message 100000");
	history_messages_free(page, n);

	/* Scroll all the way back: every message exactly once, in order. */
	do {
		assert_int_equal(history_page_before(f->db, conv_a, cursor, 1000, &page, &n, &e),
		                 0);
		for (size_t i = n; i-- > 0;) {
			assert_int_equal(page[i].conversation_id, conv_a);
			assert_true(page[i].id < last);
			last = page[i].id;
		}
		total += (int64_t)n;
		cursor = n > 0 ? page[0].id : cursor;
		history_messages_free(page, n);
	} while (n > 0);
	assert_int_equal(total, BIG_CONVERSATION);

	/* Catching up after a known id. */
	assert_int_equal(history_page_after(f->db, conv_b, 99, 3, &page, &n, &e), 0);
	assert_int_equal(n, 3);
	assert_int_equal(page[0].id, 101);
	assert_int_equal(page[2].id, 105);
	history_messages_free(page, n);

	/* Both queries seek the (conversation_id, id) index, no sorting. */
	const char *queries[] = {history_sql_page_before, history_sql_page_after};
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(db_query_plan(f->db, queries[i], &plan, &e), 0);
		if (strstr(plan, "USING INDEX messages_by_conversation") == NULL ||
		    strstr(plan, "TEMP B-TREE") != NULL)
			fail_msg("unexpected plan: %s", plan);
		free(plan);
	}
	fixture_free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_history_incoming_is_stored_and_counted_unread),
	    cmocka_unit_test(test_history_redelivered_relay_id_is_duplicate_and_changes_nothing),
	    cmocka_unit_test(test_history_untouched_insert_leaves_the_conversation_to_the_caller),
	    cmocka_unit_test(test_history_outgoing_client_id_is_unique),
	    cmocka_unit_test(test_history_rejects_unknown_conversation_and_missing_ids),
	    cmocka_unit_test(test_history_state_only_moves_forward),
	    cmocka_unit_test(test_history_has_incoming_after_ignores_outgoing_and_older),
	    cmocka_unit_test(test_history_search_is_literal_and_scoped),
	    cmocka_unit_test(test_history_expire_deletes_due_messages_only),
	    cmocka_unit_test(test_history_rollback_undoes_session_and_message),
	    cmocka_unit_test(test_history_pages_walk_100k_rows_through_the_index),
	};
	return cmocka_run_group_tests(tests, fixture_setup, fixture_teardown);
}

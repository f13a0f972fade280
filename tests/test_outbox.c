/* Tests for store/outbox: enqueue only inside a transaction, exact bytes
 * back, queue order, dedup per (client id, recipient, device), sent
 * marking, rollback with the session it belongs to. */
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
#include "store/outbox.h"
#include "tests/store_fixture.h"

static const unsigned char CIPHER[] = {0x33, 0x0a, 0x00, 0xff, 0x00, 0x7f, 0x80, 0x01};

static struct outbox_item
item(const char *client_id, const char *recipient, int32_t device)
{
	struct outbox_item it = {0};

	it.client_id = (char *)client_id;
	it.recipient = (char *)recipient;
	it.device_id = device;
	it.registration_id = 1000 + (uint32_t)device;
	it.msg_type = 3;
	it.ciphertext = (unsigned char *)CIPHER;
	it.ciphertext_len = sizeof CIPHER;
	return it;
}

static void
enqueue(struct db *db, struct outbox_item it, int64_t *id)
{
	struct err e;

	assert_int_equal(db_begin(db, &e), 0);
	if (outbox_enqueue(db, &it, id, &e) != 0)
		fail_msg("%s", e.msg);
	assert_int_equal(db_commit(db, &e), 0);
}

static void
test_outbox_enqueue_outside_a_transaction_is_refused(void **state)
{
	struct fixture *f = fixture_open();
	struct outbox_item it = item("c-0", "bob", 1), *list;
	size_t n;
	struct err e;

	(void)state;
	assert_int_equal(outbox_enqueue(f->db, &it, NULL, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	assert_int_equal(outbox_list_pending(f->db, 10, &list, &n, &e), 0);
	assert_int_equal(n, 0);
	outbox_items_free(list, n);
	fixture_free(f);
}

static void
test_outbox_returns_exact_bytes_in_queue_order(void **state)
{
	struct fixture *f = fixture_open();
	struct outbox_item *list;
	int64_t id1, id2, id3;
	size_t n;
	struct err e;

	(void)state;
	enqueue(f->db, item("c-1", "bob", 1), &id1);
	enqueue(f->db, item("c-1", "bob", 2), &id2);
	enqueue(f->db, item("c-2", "carol", 1), &id3);
	assert_int_equal(outbox_list_pending(f->db, 10, &list, &n, &e), 0);
	assert_int_equal(n, 3);
	assert_int_equal(list[0].id, id1);
	assert_int_equal(list[1].id, id2);
	assert_int_equal(list[2].id, id3);
	assert_int_equal(list[1].device_id, 2);
	assert_int_equal(list[1].registration_id, 1002);
	assert_int_equal(list[1].msg_type, 3);
	assert_int_equal(list[1].ciphertext_len, sizeof CIPHER);
	assert_memory_equal(list[1].ciphertext, CIPHER, sizeof CIPHER);
	assert_int_equal(list[1].attempts, 0);
	outbox_items_free(list, n);
	assert_int_equal(outbox_list_pending(f->db, 2, &list, &n, &e), 0);
	assert_int_equal(n, 2);
	outbox_items_free(list, n);
	assert_int_equal(outbox_list_client_id(f->db, "c-1", &list, &n, &e), 0);
	assert_int_equal(n, 2);
	outbox_items_free(list, n);
	fixture_free(f);
}

static void
test_outbox_same_send_to_same_device_is_duplicate(void **state)
{
	struct fixture *f = fixture_open();
	struct outbox_item it = item("c-dup", "bob", 1);
	struct err e;

	(void)state;
	enqueue(f->db, it, NULL);
	assert_int_equal(db_begin(f->db, &e), 0);
	assert_int_equal(outbox_enqueue(f->db, &it, NULL, &e), -1);
	assert_int_equal(e.code, ERR_DUPLICATE);
	assert_int_equal(db_rollback(f->db, &e), 0);
	fixture_free(f);
}

static void
test_outbox_acked_rows_are_deleted_with_their_ciphertext(void **state)
{
	struct fixture *f = fixture_open();
	struct outbox_item *list;
	int64_t id1, id2;
	size_t n;
	struct err e;

	(void)state;
	enqueue(f->db, item("c-s", "bob", 1), &id1);
	enqueue(f->db, item("c-s", "bob", 2), &id2);
	assert_int_equal(outbox_note_attempt(f->db, id1, &e), 0);
	assert_int_equal(outbox_note_attempt(f->db, id1, &e), 0);
	assert_int_equal(outbox_list_client_id(f->db, "c-s", &list, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_int_equal(list[0].attempts, 2);
	outbox_items_free(list, n);
	/* The relay acked device 1: its row is gone, device 2's waits. */
	assert_int_equal(outbox_delete(f->db, id1, &e), 0);
	assert_int_equal(outbox_list_pending(f->db, 10, &list, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_int_equal(list[0].id, id2);
	outbox_items_free(list, n);
	assert_int_equal(outbox_list_client_id(f->db, "c-s", &list, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_int_equal(list[0].id, id2);
	outbox_items_free(list, n);
	assert_int_equal(outbox_delete(f->db, id2, &e), 0);
	assert_int_equal(outbox_delete(f->db, id2, &e), -1);
	assert_int_equal(e.code, ERR_NOTFOUND);
	assert_int_equal(outbox_list_pending(f->db, 10, &list, &n, &e), 0);
	assert_int_equal(n, 0);
	fixture_free(f);
}

static void
test_outbox_rows_roll_back_with_their_transaction(void **state)
{
	struct fixture *f = fixture_open();
	struct outbox_item it = item("c-rb", "bob", 1), *list;
	size_t n;
	struct err e;

	(void)state;
	assert_int_equal(db_begin(f->db, &e), 0);
	assert_int_equal(outbox_enqueue(f->db, &it, NULL, &e), 0);
	assert_int_equal(db_rollback(f->db, &e), 0);
	assert_int_equal(outbox_list_pending(f->db, 10, &list, &n, &e), 0);
	assert_int_equal(n, 0);
	outbox_items_free(list, n);
	fixture_free(f);
}

static void
test_outbox_row_outlives_deleted_message(void **state)
{
	struct fixture *f = fixture_open();
	struct history_message m = {0};
	struct outbox_item it = item("c-msg", "bob", 1), *list;
	int64_t conv, mid;
	size_t n;
	struct err e;

	(void)state;
	assert_int_equal(conversations_direct(f->db, "bob", &conv, &e), 0);
	m.conversation_id = conv;
	m.sender_name = "alice";
	m.client_id = "c-msg";
	m.body = "hi";
	assert_int_equal(history_insert_outgoing(f->db, &m, &mid, &e), 0);
	it.message_id = mid;
	enqueue(f->db, it, NULL);
	it.message_id = 424242;
	it.device_id = 2;
	assert_int_equal(db_begin(f->db, &e), 0);
	assert_int_equal(outbox_enqueue(f->db, &it, NULL, &e), -1);
	assert_int_equal(e.code, ERR_NOTFOUND);
	assert_int_equal(db_rollback(f->db, &e), 0);
	/* Deleting the message locally must not stop the send already
	 * promised to the ratchet. */
	assert_int_equal(history_delete(f->db, mid, &e), 0);
	assert_int_equal(outbox_list_pending(f->db, 10, &list, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_int_equal(list[0].message_id, 0);
	outbox_items_free(list, n);
	fixture_free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_outbox_enqueue_outside_a_transaction_is_refused),
	    cmocka_unit_test(test_outbox_returns_exact_bytes_in_queue_order),
	    cmocka_unit_test(test_outbox_same_send_to_same_device_is_duplicate),
	    cmocka_unit_test(test_outbox_acked_rows_are_deleted_with_their_ciphertext),
	    cmocka_unit_test(test_outbox_rows_roll_back_with_their_transaction),
	    cmocka_unit_test(test_outbox_row_outlives_deleted_message),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Tests for store/attachments: attach, list with keys and digests, state
 * updates, and removal with the message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "store/attachments.h"
#include "store/conversations.h"
#include "store/db.h"
#include "store/history.h"
#include "tests/store_fixture.h"

static int64_t
message(struct db *db, const char *client_id)
{
	struct history_message m = {0};
	int64_t conv, id;
	struct err e;

	assert_int_equal(conversations_direct(db, "bob", &conv, &e), 0);
	m.conversation_id = conv;
	m.sender_name = "alice";
	m.client_id = (char *)client_id;
	m.body = "";
	assert_int_equal(history_insert_outgoing(db, &m, &id, &e), 0);
	return id;
}

static void
test_attachments_roundtrip_with_key_and_digest(void **state)
{
	struct fixture *f = fixture_open();
	static const unsigned char key[32] = {1, 2, 3}, digest[32] = {9, 8, 7};
	struct attachments_entry a = {0}, *list;
	struct history_message m;
	int64_t mid = message(f->db, "att-1"), aid;
	size_t n;
	struct err e;

	(void)state;
	a.message_id = mid;
	a.blob_id = "blob-77";
	a.content_type = "image/png";
	a.file_name = "shot.png";
	a.size = 4096;
	a.file_key = (unsigned char *)key;
	a.file_key_len = sizeof key;
	a.digest = (unsigned char *)digest;
	a.digest_len = sizeof digest;
	assert_int_equal(attachments_add(f->db, &a, &aid, &e), 0);
	a.file_name = "second.txt";
	assert_int_equal(attachments_add(f->db, &a, NULL, &e), 0);
	assert_int_equal(attachments_set_state(f->db, aid, ATTACHMENTS_DONE, "/tmp/shot.png", &e),
	                 0);
	assert_int_equal(attachments_list(f->db, mid, &list, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_int_equal(list[0].id, aid);
	assert_string_equal(list[0].blob_id, "blob-77");
	assert_string_equal(list[0].content_type, "image/png");
	assert_int_equal(list[0].size, 4096);
	assert_int_equal(list[0].file_key_len, sizeof key);
	assert_memory_equal(list[0].file_key, key, sizeof key);
	assert_memory_equal(list[0].digest, digest, sizeof digest);
	assert_int_equal(list[0].state, ATTACHMENTS_DONE);
	assert_string_equal(list[0].local_path, "/tmp/shot.png");
	assert_string_equal(list[1].file_name, "second.txt");
	assert_null(list[1].local_path);
	attachments_free(list, n);
	assert_int_equal(history_get(f->db, mid, &m, &e), 0);
	assert_int_equal(m.attachment_count, 2);
	history_message_clear(&m);
	fixture_free(f);
}

static void
test_attachments_need_a_message_and_go_with_it(void **state)
{
	struct fixture *f = fixture_open();
	struct attachments_entry a = {0}, *list;
	int64_t mid = message(f->db, "att-2");
	size_t n;
	struct err e;

	(void)state;
	a.message_id = 999999;
	a.size = 1;
	assert_int_equal(attachments_add(f->db, &a, NULL, &e), -1);
	assert_int_equal(e.code, ERR_NOTFOUND);
	assert_int_equal(db_depth(f->db), 0);
	a.message_id = mid;
	assert_int_equal(attachments_add(f->db, &a, NULL, &e), 0);
	assert_int_equal(history_delete(f->db, mid, &e), 0);
	assert_int_equal(attachments_list(f->db, mid, &list, &n, &e), 0);
	assert_int_equal(n, 0);
	attachments_free(list, n);
	assert_int_equal(attachments_set_state(f->db, 424242, ATTACHMENTS_FAILED, NULL, &e), -1);
	assert_int_equal(e.code, ERR_NOTFOUND);
	fixture_free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_attachments_roundtrip_with_key_and_digest),
	    cmocka_unit_test(test_attachments_need_a_message_and_go_with_it),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Tests for store/conversations: find-or-create, ordering by activity,
 * settings, unread counting, deletion with history. */
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
#include "tests/store_fixture.h"

static int64_t
fake_clock(void *arg)
{
	return *(int64_t *)arg;
}

static void
test_conversations_find_or_create_is_stable_per_kind_and_peer(void **state)
{
	struct fixture *f = *state;
	int64_t a, b, g, found;
	struct err e;

	assert_int_equal(conversations_direct(f->db, "ann", &a, &e), 0);
	assert_int_equal(conversations_direct(f->db, "ann", &b, &e), 0);
	assert_int_equal(a, b);
	/* A group may share its id string with an account name. */
	assert_int_equal(conversations_find_or_create(f->db, CONVERSATIONS_GROUP, "ann", &g, &e),
	                 0);
	assert_int_not_equal(g, a);
	assert_int_equal(conversations_find(f->db, CONVERSATIONS_GROUP, "ann", &found, &e), 0);
	assert_int_equal(found, g);
	assert_int_equal(conversations_find(f->db, CONVERSATIONS_DIRECT, "nobody", &found, &e), -1);
	assert_int_equal(e.code, ERR_NOTFOUND);
	assert_int_equal(conversations_find_or_create(f->db, 7, "x", &found, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
}

static void
test_conversations_list_most_recent_first_with_unread(void **state)
{
	struct fixture *f = *state;
	struct conversations_entry *list;
	struct history_message m = {0};
	/* Later than the real clock the other tests ran on. */
	int64_t base = INT64_C(4000000000000), now = base + 1000, old, fresh, id;
	size_t n;
	struct err e;

	db_set_clock(f->db, fake_clock, &now);
	assert_int_equal(conversations_direct(f->db, "old-friend", &old, &e), 0);
	now = base + 2000;
	assert_int_equal(conversations_direct(f->db, "new-friend", &fresh, &e), 0);
	now = base + 3000;
	m.conversation_id = old;
	m.sender_name = "old-friend";
	m.relay_id = "conv-r1";
	m.body = "still here";
	assert_int_equal(history_insert_incoming(f->db, &m, &id, &e), 0);
	assert_int_equal(conversations_list(f->db, &list, &n, &e), 0);
	assert_true(n >= 2);
	assert_int_equal(list[0].id, old);
	assert_int_equal(list[0].unread, 1);
	assert_int_equal(list[0].last_activity, base + 3000);
	assert_int_equal(list[1].id, fresh);
	assert_string_equal(list[0].peer, "old-friend");
	conversations_list_free(list, n);
	assert_int_equal(conversations_mark_read(f->db, old, &e), 0);
	assert_int_equal(conversations_list(f->db, &list, &n, &e), 0);
	assert_int_equal(list[0].unread, 0);
	conversations_list_free(list, n);
	db_set_clock(f->db, NULL, NULL);
}

static void
test_conversations_settings_and_delete_with_history(void **state)
{
	struct fixture *f = *state;
	struct conversations_entry c;
	struct history_message m = {0};
	int64_t conv, id;
	struct err e;

	assert_int_equal(conversations_direct(f->db, "settings", &conv, &e), 0);
	assert_int_equal(conversations_set_title(f->db, conv, "Best friend", &e), 0);
	assert_int_equal(conversations_set_timer(f->db, conv, 3600, &e), 0);
	assert_int_equal(conversations_set_timer(f->db, conv, -1, &e), -1);
	assert_int_equal(conversations_get(f->db, conv, &c, &e), 0);
	assert_string_equal(c.title, "Best friend");
	assert_int_equal(c.timer_seconds, 3600);
	assert_int_equal(c.kind, CONVERSATIONS_DIRECT);
	conversations_entry_clear(&c);
	m.conversation_id = conv;
	m.sender_name = "settings";
	m.relay_id = "conv-del";
	m.body = "gone with it";
	assert_int_equal(history_insert_incoming(f->db, &m, &id, &e), 0);
	assert_int_equal(conversations_delete(f->db, conv, &e), 0);
	assert_int_equal(history_get(f->db, id, &m, &e), -1);
	assert_int_equal(e.code, ERR_NOTFOUND);
	assert_int_equal(conversations_get(f->db, conv, &c, &e), -1);
	assert_int_equal(e.code, ERR_NOTFOUND);
	assert_int_equal(conversations_set_title(f->db, conv, "x", &e), -1);
	assert_int_equal(e.code, ERR_NOTFOUND);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_conversations_find_or_create_is_stable_per_kind_and_peer),
	    cmocka_unit_test(test_conversations_list_most_recent_first_with_unread),
	    cmocka_unit_test(test_conversations_settings_and_delete_with_history),
	};
	return cmocka_run_group_tests(tests, fixture_setup, fixture_teardown);
}

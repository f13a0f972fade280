/* Tests for store/events: monotonic cursors, catching up after a cursor,
 * and cursors that never go back even after pruning and reopening. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "store/db.h"
#include "store/events.h"
#include "tests/store_fixture.h"

static void
test_events_since_returns_what_a_frontend_missed(void **state)
{
	struct fixture *f = fixture_open();
	struct events_entry *list;
	int64_t c1, c2, c3, last;
	size_t n;
	struct err e;

	(void)state;
	assert_int_equal(events_last_cursor(f->db, &last, &e), 0);
	assert_int_equal(last, 0);
	assert_int_equal(events_append(f->db, "message", "{\"id\":1}", &c1, &e), 0);
	assert_int_equal(events_append(f->db, "delivered", "{\"id\":1}", &c2, &e), 0);
	assert_int_equal(events_append(f->db, "key-changed", "{\"name\":\"bob\"}", &c3, &e), 0);
	assert_true(c1 < c2 && c2 < c3);
	assert_int_equal(events_since(f->db, c1, 10, &list, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_int_equal(list[0].cursor, c2);
	assert_string_equal(list[0].type, "delivered");
	assert_string_equal(list[1].payload, "{\"name\":\"bob\"}");
	events_free(list, n);
	assert_int_equal(events_since(f->db, 0, 1, &list, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_int_equal(list[0].cursor, c1);
	events_free(list, n);
	assert_int_equal(events_append(f->db, NULL, "{}", NULL, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	fixture_free(f);
}

static void
test_events_cursor_never_goes_back_after_prune_and_reopen(void **state)
{
	struct fixture *f = fixture_open();
	struct events_entry *list;
	int64_t c1, c2, c3, last;
	size_t n;
	struct err e;

	(void)state;
	assert_int_equal(events_append(f->db, "a", "{}", &c1, &e), 0);
	assert_int_equal(events_append(f->db, "b", "{}", &c2, &e), 0);
	assert_int_equal(events_prune(f->db, c2, &e), 0);
	assert_int_equal(events_since(f->db, 0, 10, &list, &n, &e), 0);
	assert_int_equal(n, 0);
	events_free(list, n);
	fixture_reopen(f);
	assert_int_equal(events_last_cursor(f->db, &last, &e), 0);
	assert_int_equal(last, c2);
	assert_int_equal(events_append(f->db, "c", "{}", &c3, &e), 0);
	assert_true(c3 > c2);
	fixture_free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_events_since_returns_what_a_frontend_missed),
	    cmocka_unit_test(test_events_cursor_never_goes_back_after_prune_and_reopen),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Tests for store/contacts: add/get/list/update/delete and the device
 * list with registration ids. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "store/contacts.h"
#include "store/db.h"
#include "tests/store_fixture.h"

static void
test_contacts_add_get_and_duplicate(void **state)
{
	struct fixture *f = *state;
	struct contacts_entry c;
	struct err e;

	assert_int_equal(contacts_add(f->db, "alice", "Alice A.", &e), 0);
	assert_int_equal(contacts_add(f->db, "alice", NULL, &e), -1);
	assert_int_equal(e.code, ERR_EXISTS);
	assert_int_equal(contacts_ensure(f->db, "alice", &e), 0);
	assert_int_equal(contacts_get(f->db, "alice", &c, &e), 0);
	assert_string_equal(c.name, "alice");
	assert_string_equal(c.display_name, "Alice A."); /* ensure left it alone */
	assert_false(c.blocked);
	assert_false(c.verified);
	assert_true(c.created_at > 0);
	contacts_entry_clear(&c);
	assert_int_equal(contacts_get(f->db, "nobody", &c, &e), -1);
	assert_int_equal(e.code, ERR_NOTFOUND);
}

static void
test_contacts_update_block_and_list_by_name(void **state)
{
	struct fixture *f = *state;
	struct contacts_entry *list, c;
	size_t n;
	struct err e;

	assert_int_equal(contacts_ensure(f->db, "zed", &e), 0);
	assert_int_equal(contacts_ensure(f->db, "bert", &e), 0);
	assert_int_equal(contacts_set_display_name(f->db, "bert", "Bert", &e), 0);
	assert_int_equal(contacts_set_blocked(f->db, "zed", true, &e), 0);
	assert_int_equal(contacts_set_blocked(f->db, "ghost", true, &e), -1);
	assert_int_equal(e.code, ERR_NOTFOUND);
	assert_int_equal(contacts_get(f->db, "zed", &c, &e), 0);
	assert_true(c.blocked);
	assert_null(c.display_name);
	contacts_entry_clear(&c);
	assert_int_equal(contacts_list(f->db, &list, &n, &e), 0);
	assert_true(n >= 2);
	for (size_t i = 1; i < n; i++)
		assert_true(strcmp(list[i - 1].name, list[i].name) < 0);
	contacts_list_free(list, n);
}

static void
test_contacts_devices_follow_their_contact(void **state)
{
	struct fixture *f = *state;
	struct contacts_device *devs;
	size_t n;
	struct err e;

	assert_int_equal(contacts_device_set(f->db, "stranger", 1, 5, &e), -1);
	assert_int_equal(e.code, ERR_NOTFOUND);
	assert_int_equal(contacts_ensure(f->db, "dev", &e), 0);
	assert_int_equal(contacts_device_set(f->db, "dev", 3, 333, &e), 0);
	assert_int_equal(contacts_device_set(f->db, "dev", 1, 111, &e), 0);
	/* A reinstalled device comes back with a new registration id. */
	assert_int_equal(contacts_device_set(f->db, "dev", 3, 334, &e), 0);
	assert_int_equal(contacts_devices(f->db, "dev", &devs, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_int_equal(devs[0].device_id, 1);
	assert_int_equal(devs[0].registration_id, 111);
	assert_int_equal(devs[1].device_id, 3);
	assert_int_equal(devs[1].registration_id, 334);
	free(devs);
	assert_int_equal(contacts_device_remove(f->db, "dev", 1, &e), 0);
	assert_int_equal(contacts_device_remove(f->db, "dev", 1, &e), 0);
	assert_int_equal(contacts_delete(f->db, "dev", &e), 0);
	assert_int_equal(contacts_devices(f->db, "dev", &devs, &n, &e), 0);
	assert_int_equal(n, 0);
	free(devs);
	assert_int_equal(contacts_delete(f->db, "dev", &e), -1);
	assert_int_equal(e.code, ERR_NOTFOUND);
}

static int64_t
test_contacts_clock(void *arg)
{
	return *(int64_t *)arg;
}

/* The first envelope of every receive batch records its sender's device:
 * seen again unchanged, it must not rewrite the row (a page per commit). */
static void
test_contacts_device_seen_again_unchanged_writes_nothing(void **state)
{
	struct fixture *f = *state;
	struct contacts_device *devs;
	sqlite3 *sql = db_sqlite(f->db);
	int64_t now = 1000;
	int before;
	size_t n;
	struct err e;

	db_set_clock(f->db, test_contacts_clock, &now);
	assert_int_equal(contacts_ensure(f->db, "pat", &e), 0);
	assert_int_equal(contacts_device_set(f->db, "pat", 2, 222, &e), 0);
	now = 2000;
	before = sqlite3_total_changes(sql);
	assert_int_equal(contacts_device_set(f->db, "pat", 2, 222, &e), 0);
	assert_int_equal(sqlite3_total_changes(sql), before);
	/* Reinstalled: the new registration id is stored, with its time. */
	now = 3000;
	assert_int_equal(contacts_device_set(f->db, "pat", 2, 223, &e), 0);
	assert_int_equal(sqlite3_total_changes(sql), before + 1);
	assert_int_equal(contacts_devices(f->db, "pat", &devs, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_int_equal(devs[0].registration_id, 223);
	assert_int_equal(devs[0].updated_at, 3000);
	free(devs);
	db_set_clock(f->db, NULL, NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_contacts_add_get_and_duplicate),
	    cmocka_unit_test(test_contacts_update_block_and_list_by_name),
	    cmocka_unit_test(test_contacts_devices_follow_their_contact),
	    cmocka_unit_test(test_contacts_device_seen_again_unchanged_writes_nothing),
	};
	return cmocka_run_group_tests(tests, fixture_setup, fixture_teardown);
}

/* Tests for store/idstore: trust on first use, key change detection and
 * the verified flag, through both the API and libsignal's callbacks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "store/contacts.h"
#include "store/db.h"
#include "store/idstore.h"
#include "store/sigstore.h"
#include "tests/store_fixture.h"

#define KEY_A "\x05key-A-0123456789"
#define KEY_B "\x05key-B-9876543210"
#define KEY_LEN 16

static int
trusted(struct db *db, const char *name, int32_t device, const char *key)
{
	struct sigstore_callbacks cb;
	signal_protocol_address a = {name, strlen(name), device};

	sigstore_callbacks_init(&cb, db);
	return cb.identity.is_trusted_identity(&a, (uint8_t *)key, KEY_LEN, cb.identity.user_data);
}

static int
save(struct db *db, const char *name, int32_t device, const char *key)
{
	struct sigstore_callbacks cb;
	signal_protocol_address a = {name, strlen(name), device};

	sigstore_callbacks_init(&cb, db);
	return cb.identity.save_identity(&a, (uint8_t *)key, key != NULL ? KEY_LEN : 0,
	                                 cb.identity.user_data);
}

static size_t
pending(struct db *db, struct idstore_change **out)
{
	size_t n;
	struct err e;

	assert_int_equal(idstore_changes_pending(db, out, &n, &e), 0);
	return n;
}

static void
test_idstore_unknown_identity_is_trusted_on_first_use(void **state)
{
	struct fixture *f = *state;
	enum idstore_trust t;
	struct err e;

	assert_int_equal(trusted(f->db, "tofu", 1, KEY_A), 1);
	assert_int_equal(idstore_check(f->db, "tofu", 1, KEY_A, KEY_LEN, &t, &e), 0);
	assert_int_equal(t, IDSTORE_UNKNOWN);
	/* Asking does not store anything. */
	assert_int_equal(trusted(f->db, "tofu", 1, KEY_B), 1);
	assert_int_equal(save(f->db, "tofu", 1, KEY_A), 0);
	assert_int_equal(idstore_check(f->db, "tofu", 1, KEY_A, KEY_LEN, &t, &e), 0);
	assert_int_equal(t, IDSTORE_SAME);
	assert_int_equal(trusted(f->db, "tofu", 1, KEY_A), 1);
}

static void
test_idstore_saving_same_key_again_records_no_change(void **state)
{
	struct fixture *f = *state;
	struct idstore_change *changes;
	size_t before, after;

	before = pending(f->db, &changes);
	idstore_changes_free(changes, before);
	assert_int_equal(save(f->db, "steady", 1, KEY_A), 0);
	assert_int_equal(save(f->db, "steady", 1, KEY_A), 0);
	after = pending(f->db, &changes);
	idstore_changes_free(changes, after);
	assert_int_equal(after, before);
}

static void
test_idstore_changed_unverified_key_is_trusted_and_recorded(void **state)
{
	struct fixture *f = *state;
	struct idstore_change *changes;
	unsigned char *key;
	size_t n, key_len;
	bool verified;
	enum idstore_trust t;
	struct err e;

	assert_int_equal(save(f->db, "changer", 2, KEY_A), 0);
	assert_int_equal(idstore_check(f->db, "changer", 2, KEY_B, KEY_LEN, &t, &e), 0);
	assert_int_equal(t, IDSTORE_CHANGED);
	assert_int_equal(trusted(f->db, "changer", 2, KEY_B), 1);
	assert_int_equal(save(f->db, "changer", 2, KEY_B), 0);
	assert_int_equal(idstore_get(f->db, "changer", 2, &key, &key_len, &verified, &e), 0);
	assert_memory_equal(key, KEY_B, KEY_LEN);
	assert_false(verified);
	free(key);

	n = pending(f->db, &changes);
	assert_true(n >= 1);
	assert_string_equal(changes[n - 1].name, "changer");
	assert_int_equal(changes[n - 1].device_id, 2);
	assert_memory_equal(changes[n - 1].old_key, KEY_A, KEY_LEN);
	assert_memory_equal(changes[n - 1].new_key, KEY_B, KEY_LEN);
	assert_false(changes[n - 1].was_verified);
	assert_true(changes[n - 1].changed_at > 0);
	/* The engine shows it, then clears it. */
	assert_int_equal(idstore_changes_clear(f->db, changes[n - 1].id, &e), 0);
	idstore_changes_free(changes, n);
	n = pending(f->db, &changes);
	assert_int_equal(n, 0);
	idstore_changes_free(changes, n);
}

static void
test_idstore_changed_verified_key_is_untrusted_until_saved(void **state)
{
	struct fixture *f = *state;
	struct contacts_entry c;
	struct idstore_change *changes;
	unsigned char *key;
	size_t n, key_len;
	bool verified;
	struct err e;

	assert_int_equal(contacts_add(f->db, "verimus", NULL, &e), 0);
	assert_int_equal(save(f->db, "verimus", 1, KEY_A), 0);
	/* Verification is about the key the user compared. */
	assert_int_equal(idstore_set_verified(f->db, "verimus", KEY_B, KEY_LEN, true, &e), -1);
	assert_int_equal(e.code, ERR_NOTFOUND);
	assert_int_equal(idstore_set_verified(f->db, "verimus", KEY_A, KEY_LEN, true, &e), 0);
	assert_int_equal(contacts_get(f->db, "verimus", &c, &e), 0);
	assert_true(c.verified);
	contacts_entry_clear(&c);

	assert_int_equal(trusted(f->db, "verimus", 1, KEY_A), 1);
	assert_int_equal(trusted(f->db, "verimus", 1, KEY_B), 0);

	/* The user accepts the new key: recorded, and no longer verified. */
	assert_int_equal(idstore_save(f->db, "verimus", 1, KEY_B, KEY_LEN, &e), 0);
	assert_int_equal(idstore_get(f->db, "verimus", 1, &key, &key_len, &verified, &e), 0);
	assert_false(verified);
	free(key);
	assert_int_equal(contacts_get(f->db, "verimus", &c, &e), 0);
	assert_false(c.verified);
	contacts_entry_clear(&c);
	n = pending(f->db, &changes);
	assert_true(n >= 1);
	assert_true(changes[n - 1].was_verified);
	idstore_changes_clear(f->db, changes[n - 1].id, &e);
	idstore_changes_free(changes, n);
	assert_int_equal(trusted(f->db, "verimus", 1, KEY_B), 1);
}

static void
test_idstore_identities_are_per_device(void **state)
{
	struct fixture *f = *state;
	bool v;
	struct err e;

	assert_int_equal(save(f->db, "multi", 1, KEY_A), 0);
	assert_int_equal(save(f->db, "multi", 2, KEY_B), 0);
	assert_int_equal(idstore_set_verified(f->db, "multi", KEY_A, KEY_LEN, true, &e), 0);
	assert_int_equal(trusted(f->db, "multi", 1, KEY_B), 0);
	assert_int_equal(trusted(f->db, "multi", 2, KEY_A), 1);
	/* Not every device verified: the account is not. */
	assert_int_equal(idstore_name_verified(f->db, "multi", &v, &e), 0);
	assert_false(v);
	assert_int_equal(idstore_set_verified(f->db, "multi", KEY_B, KEY_LEN, true, &e), 0);
	assert_int_equal(idstore_name_verified(f->db, "multi", &v, &e), 0);
	assert_true(v);
	assert_int_equal(idstore_name_verified(f->db, "stranger", &v, &e), 0);
	assert_false(v);
}

/* Every device of an account presents the account's key: once the user
 * verified it, a new device with another key is refused (a relay adding a
 * device of its own looks like that), and one with the verified key is
 * trusted and verified. Before any verification, new devices are trusted
 * on first use. */
static void
test_idstore_new_device_of_verified_account_needs_the_verified_key(void **state)
{
	struct fixture *f = *state;
	unsigned char *key;
	size_t key_len;
	bool v;
	struct err e;

	assert_int_equal(save(f->db, "vera", 1, KEY_A), 0);
	assert_int_equal(trusted(f->db, "vera", 2, KEY_B), 1); /* not verified yet */
	assert_int_equal(idstore_set_verified(f->db, "vera", KEY_A, KEY_LEN, true, &e), 0);
	assert_int_equal(trusted(f->db, "vera", 2, KEY_B), 0);
	assert_int_equal(trusted(f->db, "vera", 2, KEY_A), 1);
	assert_int_equal(save(f->db, "vera", 2, KEY_A), 0);
	assert_int_equal(idstore_get(f->db, "vera", 2, &key, &key_len, &v, &e), 0);
	assert_true(v);
	free(key);
	assert_int_equal(idstore_name_verified(f->db, "vera", &v, &e), 0);
	assert_true(v);
	/* A device whose key was forgotten counts as new. */
	assert_int_equal(save(f->db, "vera", 3, KEY_A), 0);
	assert_int_equal(save(f->db, "vera", 3, NULL), 0);
	assert_int_equal(trusted(f->db, "vera", 3, KEY_B), 0);
	/* Once no verified key is held (the user trusted anew), first use. */
	assert_int_equal(idstore_set_verified(f->db, "vera", KEY_A, KEY_LEN, false, &e), 0);
	assert_int_equal(trusted(f->db, "vera", 3, KEY_B), 1);
}

static void
test_idstore_forgetting_a_key_keeps_row_and_records_no_change(void **state)
{
	struct fixture *f = *state;
	struct idstore_change *changes;
	unsigned char *key;
	size_t n, key_len;
	bool verified;
	enum idstore_trust t;
	struct err e;

	assert_int_equal(save(f->db, "forget", 1, KEY_A), 0);
	assert_int_equal(save(f->db, "forget", 1, NULL), 0);
	assert_int_equal(idstore_get(f->db, "forget", 1, &key, &key_len, &verified, &e), -1);
	assert_int_equal(e.code, ERR_NOTFOUND);
	assert_int_equal(idstore_check(f->db, "forget", 1, KEY_B, KEY_LEN, &t, &e), 0);
	assert_int_equal(t, IDSTORE_UNKNOWN);
	assert_int_equal(save(f->db, "forget", 1, KEY_B), 0);
	n = pending(f->db, &changes);
	for (size_t i = 0; i < n; i++)
		assert_string_not_equal(changes[i].name, "forget");
	idstore_changes_free(changes, n);
	/* Forgetting an unknown device is a no-op, not a row. */
	assert_int_equal(save(f->db, "never-seen", 1, NULL), 0);
	assert_int_equal(idstore_check(f->db, "never-seen", 1, KEY_A, KEY_LEN, &t, &e), 0);
	assert_int_equal(t, IDSTORE_UNKNOWN);
}

static void
test_idstore_local_identity_roundtrips_and_is_replaced(void **state)
{
	struct fixture *f = *state;
	unsigned char *pub, *priv;
	size_t pub_len, priv_len;
	uint32_t regid;
	struct err e;

	assert_int_equal(idstore_set_local(f->db, "pub1", 4, "priv1", 5, 11, &e), 0);
	assert_int_equal(idstore_set_local(f->db, "pub2", 4, "priv22", 6, 22, &e), 0);
	assert_int_equal(idstore_get_local(f->db, &pub, &pub_len, &priv, &priv_len, &regid, &e), 0);
	assert_int_equal(pub_len, 4);
	assert_memory_equal(pub, "pub2", 4);
	assert_int_equal(priv_len, 6);
	assert_memory_equal(priv, "priv22", 6);
	assert_int_equal(regid, 22);
	free(pub);
	wipe_free(priv, priv_len);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_idstore_unknown_identity_is_trusted_on_first_use),
	    cmocka_unit_test(test_idstore_saving_same_key_again_records_no_change),
	    cmocka_unit_test(test_idstore_changed_unverified_key_is_trusted_and_recorded),
	    cmocka_unit_test(test_idstore_changed_verified_key_is_untrusted_until_saved),
	    cmocka_unit_test(test_idstore_identities_are_per_device),
	    cmocka_unit_test(test_idstore_new_device_of_verified_account_needs_the_verified_key),
	    cmocka_unit_test(test_idstore_forgetting_a_key_keeps_row_and_records_no_change),
	    cmocka_unit_test(test_idstore_local_identity_roundtrips_and_is_replaced),
	};
	return cmocka_run_group_tests(tests, fixture_setup, fixture_teardown);
}

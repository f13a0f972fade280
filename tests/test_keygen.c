/* Tests for crypto/keygen: identity and registration id, one-time prekey
 * ids (wrap, skip outstanding), signed prekeys and the rotation policy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include <signal/curve.h>
#include <signal/session_pre_key.h>

#include "crypto/cprov.h"
#include "crypto/keygen.h"
#include "tests/memstore.h"

struct fixture {
	signal_context *ctx;
	struct keygen_identity id;
	struct memstore *ms;
	signal_protocol_store_context *store;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	struct err e;

	if (f == NULL || cprov_context_create(&f->ctx, &e) != 0)
		return -1;
	if (keygen_identity_generate(f->ctx, &f->id, &e) != 0)
		return -1;
	f->ms = memstore_create(f->ctx, f->id.pub, sizeof f->id.pub, f->id.priv, sizeof f->id.priv,
	                        f->id.registration_id);
	if (f->ms == NULL)
		return -1;
	f->store = memstore_context(f->ms);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	memstore_destroy(f->ms);
	keygen_identity_wipe(&f->id);
	cprov_context_destroy(f->ctx);
	free(f);
	return 0;
}

static void
test_keygen_identity_is_djb_key_with_registration_id_in_range(void **state)
{
	struct fixture *f = *state;
	struct keygen_identity other;
	uint8_t zero[KEYGEN_PRIV_LEN] = {0};
	struct err e;
	int i;

	assert_int_equal(f->id.pub[0], 0x05);
	for (i = 0; i < 200; i++) {
		assert_int_equal(keygen_identity_generate(f->ctx, &other, &e), 0);
		assert_true(other.registration_id >= KEYGEN_REG_ID_MIN);
		assert_true(other.registration_id <= KEYGEN_REG_ID_MAX);
		assert_memory_not_equal(other.pub, f->id.pub, KEYGEN_PUB_LEN);
		keygen_identity_wipe(&other);
		assert_memory_equal(other.priv, zero, sizeof zero);
	}
}

/* The public key returned for upload is the one stored under that id. */
static void
assert_prekey_stored(struct fixture *f, const struct keygen_prekey_pub *p)
{
	session_pre_key *pk = NULL;
	signal_buffer *ser = NULL;

	assert_int_equal(signal_protocol_pre_key_load_key(f->store, &pk, p->id), 0);
	assert_int_equal(
	    ec_public_key_serialize(&ser, ec_key_pair_get_public(session_pre_key_get_key_pair(pk))),
	    0);
	assert_int_equal(signal_buffer_len(ser), KEYGEN_PUB_LEN);
	assert_memory_equal(signal_buffer_data(ser), p->pub, KEYGEN_PUB_LEN);
	signal_buffer_free(ser);
	SIGNAL_UNREF(pk);
}

static void
generate_ids(struct fixture *f, uint32_t *next, size_t count, uint32_t *ids)
{
	struct keygen_prekey_pub *pubs = NULL;
	struct err e;
	size_t i;

	assert_int_equal(keygen_prekeys_generate(f->store, f->ctx, next, count, &pubs, &e), 0);
	for (i = 0; i < count; i++) {
		ids[i] = pubs[i].id;
		assert_prekey_stored(f, &pubs[i]);
	}
	free(pubs);
}

static void
test_keygen_prekey_ids_wrap_after_max_and_skip_outstanding(void **state)
{
	struct fixture *f = *state;
	uint32_t next, ids[5];

	next = KEYGEN_PREKEY_ID_MAX;
	generate_ids(f, &next, 1, ids);
	assert_int_equal(ids[0], KEYGEN_PREKEY_ID_MAX);
	assert_int_equal(next, 1);

	next = 5;
	generate_ids(f, &next, 2, ids);
	assert_int_equal(ids[0], 5);
	assert_int_equal(ids[1], 6);
	assert_int_equal(next, 7);

	/* 0xFFFFFE is still outstanding, so it is skipped on the way round. */
	next = KEYGEN_PREKEY_ID_MAX - 1;
	generate_ids(f, &next, 5, ids);
	assert_int_equal(ids[0], KEYGEN_PREKEY_ID_MAX - 1);
	assert_int_equal(ids[1], 1);
	assert_int_equal(ids[2], 2);
	assert_int_equal(ids[3], 3);
	assert_int_equal(ids[4], 4);
	assert_int_equal(next, 5);

	/* 5 and 6 are outstanding too. */
	generate_ids(f, &next, 2, ids);
	assert_int_equal(ids[0], 7);
	assert_int_equal(ids[1], 8);
	assert_int_equal(next, 9);
	assert_int_equal(memstore_pre_key_count(f->ms), 10);

	/* Once a key is used up its id is free again. */
	assert_int_equal(signal_protocol_pre_key_remove_key(f->store, 2), 0);
	next = 1;
	generate_ids(f, &next, 1, ids);
	assert_int_equal(ids[0], 2);
	assert_int_equal(next, 3);
}

static void
test_keygen_prekey_counter_out_of_range_starts_at_one_and_batch_is_bounded(void **state)
{
	struct fixture *f = *state;
	struct keygen_prekey_pub *pubs = NULL;
	uint32_t next = 0, ids[1];
	struct err e;

	generate_ids(f, &next, 1, ids);
	assert_int_equal(ids[0], 1);
	next = 0xFFFFFFFF;
	generate_ids(f, &next, 1, ids);
	assert_int_equal(ids[0], 2);

	assert_int_equal(keygen_prekeys_generate(f->store, f->ctx, &next, 0, &pubs, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	assert_int_equal(keygen_prekeys_generate(f->store, f->ctx, &next,
	                                         KEYGEN_PREKEY_BATCH_MAX + 1, &pubs, &e),
	                 -1);
	assert_null(pubs);
	assert_int_equal(next, 3);
}

static void
test_keygen_signed_prekey_signature_verifies_with_identity(void **state)
{
	struct fixture *f = *state;
	struct keygen_signed_prekey_pub spk;
	ec_public_key *identity = NULL;
	uint32_t next = 1;
	struct err e;

	assert_int_equal(
	    keygen_signed_prekey_generate(f->store, f->ctx, &next, 1700000000000ULL, &spk, &e), 0);
	assert_int_equal(spk.id, 1);
	assert_int_equal(next, 2);
	assert_int_equal(spk.created_ms, 1700000000000ULL);
	assert_int_equal(signal_protocol_signed_pre_key_contains_key(f->store, spk.id), 1);

	assert_int_equal(curve_decode_point(&identity, f->id.pub, KEYGEN_PUB_LEN, f->ctx), 0);
	assert_int_equal(
	    curve_verify_signature(identity, spk.pub, KEYGEN_PUB_LEN, spk.sig, KEYGEN_SIG_LEN), 1);
	spk.sig[10] ^= 0x40;
	assert_int_equal(
	    curve_verify_signature(identity, spk.pub, KEYGEN_PUB_LEN, spk.sig, KEYGEN_SIG_LEN), 0);
	SIGNAL_UNREF(identity);

	/* Second one takes the next id. */
	assert_int_equal(
	    keygen_signed_prekey_generate(f->store, f->ctx, &next, 1700000000001ULL, &spk, &e), 0);
	assert_int_equal(spk.id, 2);
}

static void
test_keygen_bundle_from_store_matches_generated_keys(void **state)
{
	struct fixture *f = *state;
	struct keygen_signed_prekey_pub spk;
	struct keygen_prekey_pub *pubs = NULL;
	struct keygen_bundle b;
	uint32_t next_pk = 1, next_spk = 1;
	struct err e;

	assert_int_equal(keygen_prekeys_generate(f->store, f->ctx, &next_pk, 3, &pubs, &e), 0);
	assert_int_equal(keygen_signed_prekey_generate(f->store, f->ctx, &next_spk, 1, &spk, &e),
	                 0);
	assert_int_equal(keygen_bundle_from_store(f->store, 7, 1, pubs[1].id, spk.id, &b, &e), 0);
	assert_int_equal(b.registration_id, f->id.registration_id);
	assert_int_equal(b.device_id, 7);
	assert_true(b.has_prekey);
	assert_int_equal(b.prekey_id, pubs[1].id);
	assert_memory_equal(b.prekey_pub, pubs[1].pub, KEYGEN_PUB_LEN);
	assert_int_equal(b.signed_prekey_id, spk.id);
	assert_memory_equal(b.signed_prekey_pub, spk.pub, KEYGEN_PUB_LEN);
	assert_memory_equal(b.signed_prekey_sig, spk.sig, KEYGEN_SIG_LEN);
	assert_memory_equal(b.identity_pub, f->id.pub, KEYGEN_PUB_LEN);

	assert_int_equal(keygen_bundle_from_store(f->store, 7, 0, 0, spk.id, &b, &e), 0);
	assert_false(b.has_prekey);
	assert_int_equal(keygen_bundle_from_store(f->store, 7, 1, 999, spk.id, &b, &e), -1);
	assert_int_equal(e.code, ERR_NOTFOUND);
	assert_int_equal(keygen_bundle_from_store(f->store, 7, 0, 0, 999, &b, &e), -1);
	assert_int_equal(e.code, ERR_NOTFOUND);
	free(pubs);
}

#define DAY KEYGEN_DAY_MS
#define NOW (1000 * DAY)

static int
plan(const struct keygen_spk_info *keys, size_t n, uint64_t now, uint32_t *del, size_t *n_del)
{
	return keygen_signed_prekey_plan(keys, n, now, KEYGEN_ROTATE_AFTER_MS, KEYGEN_GRACE_MS, del,
	                                 n_del);
}

static int
contains(const uint32_t *ids, size_t n, uint32_t id)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (ids[i] == id)
			return 1;
	return 0;
}

static void
test_keygen_rotation_when_none_or_active_is_two_days_old(void **state)
{
	struct keygen_spk_info k[1] = {{1, NOW - DAY}};
	uint32_t del[1];
	size_t n_del = 99;

	(void)state;
	assert_int_equal(plan(NULL, 0, NOW, del, &n_del), 1);
	assert_int_equal(n_del, 0);
	assert_int_equal(plan(k, 1, NOW, del, &n_del), 0);
	k[0].created_ms = NOW - 2 * DAY + 1;
	assert_int_equal(plan(k, 1, NOW, del, &n_del), 0);
	k[0].created_ms = NOW - 2 * DAY;
	assert_int_equal(plan(k, 1, NOW, del, &n_del), 1);
	assert_int_equal(n_del, 0); /* the active key is never deleted */
	/* A clock that went backwards does not force a rotation. */
	k[0].created_ms = NOW + DAY;
	assert_int_equal(plan(k, 1, NOW, del, &n_del), 0);
}

static void
test_keygen_rotation_deletes_old_keys_past_grace_but_keeps_newest_old(void **state)
{
	/* Active is 1 day old; 12 days old is inside grace; 35 and 40 past. */
	struct keygen_spk_info k[4] = {
	    {10, NOW - 40 * DAY}, {11, NOW - 35 * DAY}, {12, NOW - 12 * DAY}, {13, NOW - DAY}};
	/* Active is 3 days old; both old keys are past grace. */
	struct keygen_spk_info k2[3] = {
	    {20, NOW - 3 * DAY}, {21, NOW - 60 * DAY}, {22, NOW - 40 * DAY}};
	uint32_t del[4];
	size_t n_del;

	(void)state;
	assert_int_equal(plan(k, 4, NOW, del, &n_del), 0);
	assert_int_equal(n_del, 2);
	assert_true(contains(del, n_del, 10));
	assert_true(contains(del, n_del, 11));

	assert_int_equal(plan(k2, 3, NOW, del, &n_del), 1);
	assert_int_equal(n_del, 1);
	assert_int_equal(del[0], 21); /* 22 is the newest old key: kept */
}

static void
test_keygen_rotation_does_not_depend_on_list_order(void **state)
{
	struct keygen_spk_info a[5] = {{1, NOW - 50 * DAY},
	                               {2, NOW - 45 * DAY},
	                               {3, NOW - 31 * DAY},
	                               {4, NOW - 30 * DAY},
	                               {5, NOW - 5 * DAY}};
	struct keygen_spk_info b[5] = {a[3], a[0], a[4], a[2], a[1]};
	uint32_t da[5], db[5];
	size_t na, nb, i;

	(void)state;
	assert_int_equal(plan(a, 5, NOW, da, &na), 1);
	assert_int_equal(plan(b, 5, NOW, db, &nb), 1);
	assert_int_equal(na, 3); /* 1, 2, 3; 4 is the newest old key */
	assert_int_equal(nb, na);
	for (i = 0; i < na; i++)
		assert_true(contains(db, nb, da[i]));
	assert_false(contains(da, na, 4));
	assert_false(contains(da, na, 5));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_keygen_identity_is_djb_key_with_registration_id_in_range, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_keygen_prekey_ids_wrap_after_max_and_skip_outstanding, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_keygen_prekey_counter_out_of_range_starts_at_one_and_batch_is_bounded, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        test_keygen_signed_prekey_signature_verifies_with_identity, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keygen_bundle_from_store_matches_generated_keys,
	                                    setup, teardown),
	    cmocka_unit_test(test_keygen_rotation_when_none_or_active_is_two_days_old),
	    cmocka_unit_test(test_keygen_rotation_deletes_old_keys_past_grace_but_keeps_newest_old),
	    cmocka_unit_test(test_keygen_rotation_does_not_depend_on_list_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Tests for store/kv: typed integers and blobs, defaults, persistence. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "store/db.h"
#include "store/kv.h"
#include "tests/store_fixture.h"

static void
test_kv_int_defaults_then_persists(void **state)
{
	struct fixture *f = fixture_open();
	int64_t v;
	struct err e;

	(void)state;
	assert_int_equal(kv_get_int(f->db, "next_prekey_id", 1, &v, &e), 0);
	assert_int_equal(v, 1);
	assert_int_equal(kv_set_int(f->db, "next_prekey_id", 0xFFFFFE, &e), 0);
	assert_int_equal(kv_set_int(f->db, "negative", INT64_MIN, &e), 0);
	fixture_reopen(f);
	assert_int_equal(kv_get_int(f->db, "next_prekey_id", 1, &v, &e), 0);
	assert_int_equal(v, 0xFFFFFE);
	assert_int_equal(kv_get_int(f->db, "negative", 0, &v, &e), 0);
	assert_true(v == INT64_MIN);
	fixture_free(f);
}

static void
test_kv_blob_roundtrip_including_empty_and_nul_bytes(void **state)
{
	struct fixture *f = fixture_open();
	static const unsigned char data[] = {0, 1, 0, 2};
	unsigned char *out;
	size_t len;
	struct err e;

	(void)state;
	assert_int_equal(kv_get_blob(f->db, "blob", &out, &len, &e), -1);
	assert_int_equal(e.code, ERR_NOTFOUND);
	assert_null(out);
	assert_int_equal(kv_set_blob(f->db, "blob", data, sizeof data, &e), 0);
	assert_int_equal(kv_get_blob(f->db, "blob", &out, &len, &e), 0);
	assert_int_equal(len, sizeof data);
	assert_memory_equal(out, data, sizeof data);
	free(out);
	assert_int_equal(kv_set_blob(f->db, "empty", NULL, 0, &e), 0);
	assert_int_equal(kv_get_blob(f->db, "empty", &out, &len, &e), 0);
	assert_int_equal(len, 0);
	free(out);
	fixture_free(f);
}

static void
test_kv_type_mismatch_is_an_error_and_delete_is_idempotent(void **state)
{
	struct fixture *f = fixture_open();
	unsigned char *out;
	size_t len;
	int64_t v;
	struct err e;

	(void)state;
	assert_int_equal(kv_set_blob(f->db, "mixed", "ab", 2, &e), 0);
	assert_int_equal(kv_get_int(f->db, "mixed", 0, &v, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	assert_int_equal(kv_set_int(f->db, "mixed", 5, &e), 0);
	assert_int_equal(kv_get_blob(f->db, "mixed", &out, &len, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	assert_int_equal(kv_delete(f->db, "mixed", &e), 0);
	assert_int_equal(kv_delete(f->db, "mixed", &e), 0);
	assert_int_equal(kv_get_int(f->db, "mixed", 42, &v, &e), 0);
	assert_int_equal(v, 42);
	fixture_free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_kv_int_defaults_then_persists),
	    cmocka_unit_test(test_kv_blob_roundtrip_including_empty_and_nul_bytes),
	    cmocka_unit_test(test_kv_type_mismatch_is_an_error_and_delete_is_idempotent),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

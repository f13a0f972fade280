/* Unit tests for relay/rstore_blob: attachment blobs stored as files with
 * a metadata row, size limits, owner-only deletion and expiry. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <unistd.h>

#include "tests/rstore_fixture.h"

static void
test_rstore_blob_roundtrip_and_owner_delete(void **state)
{
	struct rstore_fixture *f = *state;
	uint8_t data[4500], back[4600], id[RSTORE_BLOB_ID_LEN], id2[RSTORE_BLOB_ID_LEN];
	char hex[RSTORE_BLOB_HEX_LEN + 1];
	uint64_t size;
	ssize_t k;
	struct err e;
	size_t i;
	int fd;

	for (i = 0; i < sizeof data; i++)
		data[i] = (uint8_t)(i * 7);
	rstore_fixture_account(f, "alice", 1);
	rstore_fixture_account(f, "bob", 2);
	assert_int_equal(
	    rstore_fixture_put_blob(f, "alice", data, sizeof data, sizeof data, id, &e), 0);
	assert_int_equal(
	    rstore_fixture_put_blob(f, "alice", data, 10, RSTORE_BLOB_SIZE_UNKNOWN, id2, &e), 0);
	assert_memory_not_equal(id, id2, sizeof id);
	assert_int_equal(rstore_blob_open(f->s, id, &fd, &size, &e), 0);
	assert_int_equal(size, sizeof data);
	k = read(fd, back, sizeof back);
	close(fd);
	assert_int_equal(k, sizeof data);
	assert_memory_equal(back, data, sizeof data);
	rstore_blob_id_to_hex(id, hex);
	assert_int_equal(strlen(hex), RSTORE_BLOB_HEX_LEN);
	memset(id2, 0, sizeof id2);
	assert_int_equal(rstore_blob_id_from_hex(hex, id2, &e), 0);
	assert_memory_equal(id, id2, sizeof id);
	hex[5] = 'g';
	assert_int_equal(rstore_blob_id_from_hex(hex, id2, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	assert_int_equal(rstore_fixture_blob_files(f), 2);
	/* Only the owner may delete it. */
	assert_int_equal(rstore_blob_delete(f->s, id, "bob", &e), -1);
	assert_int_equal(e.code, ERR_NOTFOUND);
	assert_int_equal(rstore_blob_delete(f->s, id, "alice", &e), 0);
	assert_int_equal(rstore_blob_open(f->s, id, &fd, &size, &e), -1);
	assert_int_equal(e.code, ERR_NOTFOUND);
	assert_int_equal(rstore_fixture_blob_files(f), 1);
}

static void
test_rstore_blob_size_limits(void **state)
{
	struct rstore_fixture *f = *state;
	uint8_t data[3000] = {0}, id[RSTORE_BLOB_ID_LEN];
	struct rstore_blob_writer *w;
	struct err e;

	f->opt.max_blob = 2500;
	rstore_fixture_reopen(f);
	rstore_fixture_account(f, "alice", 1);
	/* Announced too big: refused before any byte. */
	assert_int_equal(rstore_blob_begin(f->s, "alice", 2501, &w, &e), -1);
	assert_int_equal(e.code, ERR_TOOLARGE);
	/* Unannounced and growing past the limit. */
	assert_int_equal(
	    rstore_fixture_put_blob(f, "alice", data, 3000, RSTORE_BLOB_SIZE_UNKNOWN, id, &e), -1);
	assert_int_equal(e.code, ERR_TOOLARGE);
	/* More or fewer bytes than announced. */
	assert_int_equal(rstore_fixture_put_blob(f, "alice", data, 2000, 1500, id, &e), -1);
	assert_int_equal(e.code, ERR_TOOLARGE);
	assert_int_equal(rstore_fixture_put_blob(f, "alice", data, 1000, 1500, id, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	assert_int_equal(rstore_blob_begin(f->s, "nobody", 10, &w, &e), -1);
	assert_int_equal(e.code, ERR_NOTFOUND);
	assert_int_equal(rstore_fixture_blob_files(f), 0);
	assert_int_equal(rstore_fixture_put_blob(f, "alice", data, 2500, 2500, id, &e), 0);
	assert_int_equal(rstore_fixture_blob_files(f), 1);
	/* An upload left open is dropped by close. */
	assert_int_equal(rstore_blob_begin(f->s, "alice", 10, &w, &e), 0);
	rstore_fixture_reopen(f);
	assert_int_equal(rstore_fixture_blob_files(f), 1);
}

static void
test_rstore_blob_expires_with_its_file(void **state)
{
	struct rstore_fixture *f = *state;
	uint8_t id[RSTORE_BLOB_ID_LEN];
	struct rstore_expired x;
	uint64_t size;
	struct err e;
	int fd;

	rstore_fixture_account(f, "alice", 1);
	assert_int_equal(
	    rstore_fixture_put_blob(f, "alice", (const uint8_t *)"hello", 5, 5, id, &e), 0);
	f->now += RSTORE_DEFAULT_BLOB_TTL_MS;
	assert_int_equal(rstore_blob_open(f->s, id, &fd, &size, &e), -1);
	assert_int_equal(e.code, ERR_NOTFOUND);
	assert_int_equal(rstore_fixture_blob_files(f), 1);
	assert_int_equal(rstore_expire(f->s, &x, &e), 0);
	assert_int_equal(x.blobs, 1);
	assert_int_equal(rstore_fixture_blob_files(f), 0);
}

#define T(name) cmocka_unit_test_setup_teardown(name, rstore_fixture_setup, rstore_fixture_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_rstore_blob_roundtrip_and_owner_delete),
	    T(test_rstore_blob_size_limits),
	    T(test_rstore_blob_expires_with_its_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Tests for store/db: creating, unlocking, locking and damaging a profile
 * database, file modes, cipher settings, transactions, statement cache. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/conversations.h"
#include "store/db.h"
#include "store/history.h"
#include "store/idstore.h"
#include "store/kdf.h"
#include "tests/store_fixture.h"

static void
put(struct db *db, const char *key, int64_t value)
{
	sqlite3_stmt *st;
	struct err e;

	st = db_prepare(db, "INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)", &e);
	assert_non_null(st);
	db_bind_text(st, 1, key);
	sqlite3_bind_int64(st, 2, value);
	if (db_step_done(db, st, "put", &e) != 0)
		fail_msg("%s", e.msg);
}

/* -1 when absent. */
static int64_t
get(struct db *db, const char *key)
{
	sqlite3_stmt *st;
	struct err e;
	int64_t v = -1;

	st = db_prepare(db, "SELECT value FROM kv WHERE key = ?", &e);
	assert_non_null(st);
	db_bind_text(st, 1, key);
	if (db_step_row(db, st, "get", &e) == 1) {
		v = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
	}
	return v;
}

static int64_t
pragma_int(struct db *db, const char *sql)
{
	sqlite3_stmt *st;
	struct err e;
	int64_t v;

	st = db_prepare(db, sql, &e);
	assert_non_null(st);
	assert_int_equal(db_step_row(db, st, sql, &e), 1);
	v = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return v;
}

static void
assert_mode(const char *path, mode_t want)
{
	struct stat st;

	if (stat(path, &st) != 0)
		fail_msg("stat %s failed", path);
	if ((st.st_mode & 07777) != want)
		fail_msg("%s has mode %04o, want %04o", path, (unsigned)(st.st_mode & 07777),
		         (unsigned)want);
}

static bool
exists(const struct fixture *f, const char *name)
{
	char *p = fixture_path(f, name);
	bool yes = access(p, F_OK) == 0;

	free(p);
	return yes;
}

static void
test_db_reopens_with_right_passphrase(void **state)
{
	struct fixture *f = fixture_open();

	(void)state;
	put(f->db, "answer", 42);
	fixture_reopen(f);
	assert_int_equal(get(f->db, "answer"), 42);
	fixture_free(f);
}

static void
test_db_keyfile_profile_reopens_with_its_key_file(void **state)
{
	struct fixture *f = fixture_new();
	struct db_config cfg = fixture_config(f, true);
	struct err e;

	(void)state;
	if (db_create(&cfg, &f->db, &e) != 0)
		fail_msg("%s", e.msg);
	assert_true(exists(f, KDF_KEY_FILE));
	put(f->db, "answer", 7);
	db_close(f->db);
	f->db = NULL;
	if (db_open(&cfg, &f->db, &e) != 0)
		fail_msg("%s", e.msg);
	assert_int_equal(get(f->db, "answer"), 7);
	fixture_free(f);
}

/* Byte-for-byte snapshot of the files a failed open must not touch. */
struct snapshot {
	unsigned char *db, *kdf;
	size_t db_len, kdf_len;
};

static void
snapshot_take(const struct fixture *f, struct snapshot *s)
{
	char *db = fixture_path(f, DB_FILE), *kdf = fixture_path(f, KDF_PARAMS_FILE);

	s->db = fixture_slurp(db, &s->db_len);
	s->kdf = fixture_slurp(kdf, &s->kdf_len);
	assert_non_null(s->db);
	assert_non_null(s->kdf);
	free(db);
	free(kdf);
}

static void
snapshot_assert_same(const struct fixture *f, struct snapshot *s)
{
	struct snapshot now;

	snapshot_take(f, &now);
	assert_int_equal(now.db_len, s->db_len);
	assert_memory_equal(now.db, s->db, s->db_len);
	assert_int_equal(now.kdf_len, s->kdf_len);
	assert_memory_equal(now.kdf, s->kdf, s->kdf_len);
	assert_false(exists(f, DB_FILE "-wal"));
	assert_false(exists(f, DB_FILE "-shm"));
	free(now.db);
	free(now.kdf);
	free(s->db);
	free(s->kdf);
}

static void
test_db_wrong_passphrase_is_badkey_and_file_unchanged(void **state)
{
	struct fixture *f = fixture_open();
	struct db_config cfg = fixture_config(f, false);
	struct snapshot snap;
	struct db *db;
	struct err e;

	(void)state;
	put(f->db, "answer", 42);
	db_close(f->db);
	f->db = NULL;
	snapshot_take(f, &snap);
	cfg.passphrase = "incorrect horse";
	cfg.passphrase_len = strlen(cfg.passphrase);
	assert_int_equal(db_open(&cfg, &db, &e), -1);
	assert_null(db);
	assert_int_equal(e.code, ERR_BADKEY);
	assert_string_equal(e.msg, "wrong passphrase");
	/* No passphrase at all for a passphrase profile: also refused. */
	cfg.passphrase = NULL;
	assert_int_equal(db_open(&cfg, &db, &e), -1);
	assert_int_equal(e.code, ERR_BADKEY);
	snapshot_assert_same(f, &snap);
	fixture_reopen(f);
	assert_int_equal(get(f->db, "answer"), 42);
	fixture_free(f);
}

static void
test_db_wrong_key_file_is_badkey_and_file_unchanged(void **state)
{
	struct fixture *f = fixture_new();
	struct db_config cfg = fixture_config(f, true);
	unsigned char other[KDF_KEY_LEN];
	struct kdf_params p;
	struct snapshot snap;
	char *keypath = fixture_path(f, KDF_KEY_FILE);
	struct err e;

	(void)state;
	if (db_create(&cfg, &f->db, &e) != 0)
		fail_msg("%s", e.msg);
	put(f->db, "answer", 42);
	db_close(f->db);
	f->db = NULL;
	snapshot_take(f, &snap);
	kdf_new_keyfile(&p, other);
	assert_int_equal(kdf_keyfile_write(keypath, other, &e), 0);
	assert_int_equal(db_open(&cfg, &f->db, &e), -1);
	assert_int_equal(e.code, ERR_BADKEY);
	/* A passphrase offered to a keyfile profile is refused too. */
	cfg = fixture_config(f, false);
	assert_int_equal(db_open(&cfg, &f->db, &e), -1);
	assert_int_equal(e.code, ERR_BADKEY);
	snapshot_assert_same(f, &snap);
	free(keypath);
	fixture_free(f);
}

static void
test_db_second_open_is_busy(void **state)
{
	struct fixture *f = fixture_open();
	struct db_config cfg = fixture_config(f, false);
	struct db *second;
	struct err e;

	(void)state;
	assert_int_equal(db_open(&cfg, &second, &e), -1);
	assert_null(second);
	assert_int_equal(e.code, ERR_BUSY);
	assert_int_equal(db_create(&cfg, &second, &e), -1);
	assert_int_equal(e.code, ERR_BUSY);
	/* The lock goes with the handle. */
	db_close(f->db);
	f->db = NULL;
	if (db_open(&cfg, &f->db, &e) != 0)
		fail_msg("%s", e.msg);
	fixture_free(f);
}

static void
test_db_files_are_private_whatever_the_umask(void **state)
{
	struct fixture *f = fixture_new();
	struct db_config cfg = fixture_config(f, true);
	mode_t old = umask(0);
	char *p;
	struct err e;

	(void)state;
	if (db_create(&cfg, &f->db, &e) != 0)
		fail_msg("%s", e.msg);
	put(f->db, "x", 1); /* so the WAL exists */
	umask(old);
	assert_mode(f->dir, 0700);
	const char *files[] = {DB_FILE, DB_FILE "-wal", KDF_PARAMS_FILE, KDF_KEY_FILE,
	                       DB_LOCK_FILE};
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		p = fixture_path(f, files[i]);
		assert_mode(p, 0600);
		free(p);
	}
	/* The WAL's index stays in memory (exclusive locking): no file. */
	p = fixture_path(f, DB_FILE "-shm");
	assert_int_equal(access(p, F_OK), -1);
	free(p);
	fixture_free(f);
}

static void
test_db_open_makes_loose_directory_private(void **state)
{
	struct fixture *f = fixture_open();

	(void)state;
	db_close(f->db);
	f->db = NULL;
	assert_int_equal(chmod(f->dir, 0755), 0);
	fixture_reopen(f);
	assert_mode(f->dir, 0700);
	fixture_free(f);
}

static void
test_db_create_refuses_existing_profile(void **state)
{
	struct fixture *f = fixture_open();
	struct db_config cfg = fixture_config(f, false);
	struct snapshot snap;
	struct db *db;
	struct err e;

	(void)state;
	put(f->db, "answer", 42);
	db_close(f->db);
	f->db = NULL;
	snapshot_take(f, &snap);
	assert_int_equal(db_create(&cfg, &db, &e), -1);
	assert_int_equal(e.code, ERR_EXISTS);
	snapshot_assert_same(f, &snap);
	fixture_free(f);
}

static void
test_db_open_without_profile_is_notfound(void **state)
{
	struct fixture *f = fixture_new();
	struct db_config cfg = fixture_config(f, false);
	struct db *db;
	struct err e;

	(void)state;
	assert_int_equal(db_open(&cfg, &db, &e), -1);
	assert_int_equal(e.code, ERR_NOTFOUND);
	assert_int_equal(mkdir(f->dir, 0700), 0);
	assert_int_equal(db_open(&cfg, &db, &e), -1);
	assert_int_equal(e.code, ERR_NOTFOUND);
	fixture_free(f);
}

static void
overwrite_db(const struct fixture *f, const void *data, size_t len, off_t at, bool truncate)
{
	char *p = fixture_path(f, DB_FILE);
	int fd = open(p, O_WRONLY | (truncate ? O_TRUNC : 0));

	assert_true(fd >= 0);
	if (len > 0)
		assert_int_equal(pwrite(fd, data, len, at), (ssize_t)len);
	close(fd);
	free(p);
}

static void
test_db_garbage_file_with_right_key_is_corrupt(void **state)
{
	struct fixture *f = fixture_open();
	struct db_config cfg = fixture_config(f, false);
	unsigned char junk[8192];
	struct db *db;
	struct err e;

	(void)state;
	db_close(f->db);
	f->db = NULL;
	for (size_t i = 0; i < sizeof junk; i++)
		junk[i] = (unsigned char)(i * 7 + 3);
	overwrite_db(f, junk, sizeof junk, 0, true);
	assert_int_equal(db_open(&cfg, &db, &e), -1);
	assert_null(db);
	assert_int_equal(e.code, ERR_CORRUPT);
	assert_non_null(strstr(e.msg, "damaged"));
	fixture_free(f);
}

static void
test_db_emptied_file_is_corrupt_not_a_new_profile(void **state)
{
	struct fixture *f = fixture_open();
	struct db_config cfg = fixture_config(f, false);
	struct db *db;
	struct err e;

	(void)state;
	db_close(f->db);
	f->db = NULL;
	overwrite_db(f, NULL, 0, 0, true);
	assert_int_equal(db_open(&cfg, &db, &e), -1);
	assert_int_equal(e.code, ERR_CORRUPT);
	fixture_free(f);
}

static void
test_db_missing_key_parameters_is_corrupt(void **state)
{
	struct fixture *f = fixture_open();
	struct db_config cfg = fixture_config(f, false);
	char *p = fixture_path(f, KDF_PARAMS_FILE);
	struct db *db;
	struct err e;

	(void)state;
	db_close(f->db);
	f->db = NULL;
	assert_int_equal(unlink(p), 0);
	assert_int_equal(db_open(&cfg, &db, &e), -1);
	assert_int_equal(e.code, ERR_CORRUPT);
	free(p);
	fixture_free(f);
}

static void
test_db_damaged_page_is_reported_by_check(void **state)
{
	struct fixture *f = fixture_open();
	struct db_config cfg = fixture_config(f, false);
	char key[32];
	unsigned char flip = 0x5A;
	struct err e;
	int rc;

	(void)state;
	assert_int_equal(db_begin(f->db, &e), 0);
	for (int i = 0; i < 2000; i++) {
		snprintf(key, sizeof key, "filler-%d", i);
		put(f->db, key, i);
	}
	assert_int_equal(db_commit(f->db, &e), 0);
	assert_int_equal(db_check(f->db, &e), 0);
	db_close(f->db);
	f->db = NULL;
	/* Page 1 holds the schema; damage a later one. */
	overwrite_db(f, &flip, 1, 4096 * 6 + 100, false);
	rc = db_open(&cfg, &f->db, &e);
	if (rc == 0)
		rc = db_check(f->db, &e);
	assert_int_equal(rc, -1);
	assert_int_equal(e.code, ERR_CORRUPT);
	fixture_free(f);
}

static void
test_db_cipher_and_connection_settings_are_pinned(void **state)
{
	struct fixture *f = fixture_open();
	sqlite3_stmt *st;
	struct err e;

	(void)state;
	assert_int_equal(pragma_int(f->db, "PRAGMA cipher_page_size"), 4096);
	assert_int_equal(pragma_int(f->db, "PRAGMA cipher_use_hmac"), 1);
	assert_int_equal(pragma_int(f->db, "PRAGMA kdf_iter"), 64000);
	assert_int_equal(pragma_int(f->db, "PRAGMA foreign_keys"), 1);
	assert_int_equal(pragma_int(f->db, "PRAGMA secure_delete"), 1);
	assert_int_equal(pragma_int(f->db, "PRAGMA synchronous"), 2);
	assert_int_equal(pragma_int(f->db, "PRAGMA temp_store"), 2);
	st = db_prepare(f->db, "PRAGMA journal_mode", &e);
	assert_int_equal(db_step_row(f->db, st, "journal_mode", &e), 1);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_reset(st);
	fixture_free(f);
}

static void
test_db_inner_rollback_undoes_only_its_savepoint(void **state)
{
	struct fixture *f = fixture_open();
	struct err e;

	(void)state;
	assert_int_equal(db_begin(f->db, &e), 0);
	put(f->db, "outer", 1);
	assert_int_equal(db_begin(f->db, &e), 0);
	assert_int_equal(db_depth(f->db), 2);
	put(f->db, "inner", 2);
	assert_int_equal(db_rollback(f->db, &e), 0);
	assert_int_equal(db_commit(f->db, &e), 0);
	assert_int_equal(db_depth(f->db), 0);
	assert_int_equal(get(f->db, "outer"), 1);
	assert_int_equal(get(f->db, "inner"), -1);
	fixture_free(f);
}

static void
test_db_outer_rollback_undoes_committed_inner_work(void **state)
{
	struct fixture *f = fixture_open();
	struct err e;

	(void)state;
	assert_int_equal(db_begin(f->db, &e), 0);
	assert_int_equal(db_begin(f->db, &e), 0);
	put(f->db, "inner", 2);
	assert_int_equal(db_commit(f->db, &e), 0);
	assert_int_equal(db_rollback(f->db, &e), 0);
	assert_int_equal(get(f->db, "inner"), -1);
	/* Unpaired calls are bugs, reported as such. */
	assert_int_equal(db_commit(f->db, &e), -1);
	assert_int_equal(e.code, ERR_INTERNAL);
	assert_int_equal(db_rollback(f->db, &e), -1);
	fixture_free(f);
}

static void
test_db_full_database_is_nospace(void **state)
{
	struct fixture *f = fixture_open();
	char key[32];
	sqlite3_stmt *st;
	struct err e;
	int rc = 0;

	(void)state;
	put(f->db, "kept", 1);
	assert_int_equal(db_exec(f->db, "PRAGMA max_page_count = 40", &e), 0);
	assert_int_equal(db_begin(f->db, &e), 0);
	for (int i = 0; i < 100000 && rc == 0; i++) {
		snprintf(key, sizeof key, "filler-%d", i);
		st = db_prepare(f->db, "INSERT INTO kv (key, value) VALUES (?, zeroblob(500))", &e);
		db_bind_text(st, 1, key);
		rc = db_step_done(f->db, st, "filling", &e);
	}
	assert_int_equal(rc, -1);
	assert_int_equal(e.code, ERR_NOSPACE);
	db_rollback(f->db, &e);
	assert_int_equal(db_depth(f->db), 0);
	assert_int_equal(get(f->db, "kept"), 1);
	assert_int_equal(get(f->db, "filler-0"), -1);
	fixture_free(f);
}

static void
test_db_error_codes_map_to_err_codes(void **state)
{
	(void)state;
	assert_int_equal(db_err_code(SQLITE_FULL), ERR_NOSPACE);
	assert_int_equal(db_err_code(SQLITE_BUSY), ERR_BUSY);
	assert_int_equal(db_err_code(SQLITE_CORRUPT), ERR_CORRUPT);
	assert_int_equal(db_err_code(SQLITE_NOTADB), ERR_CORRUPT);
	assert_int_equal(db_err_code(SQLITE_CONSTRAINT_UNIQUE), ERR_EXISTS);
	assert_int_equal(db_err_code(SQLITE_IOERR_WRITE), ERR_IO);
	assert_int_equal(db_err_code(SQLITE_MISUSE), ERR_INTERNAL);
}

static void
test_db_statement_cache_reuses_and_clears_bindings(void **state)
{
	struct fixture *f = fixture_open();
	static const char sql[] = "SELECT ?";
	char copy[sizeof sql];
	sqlite3_stmt *a, *b;
	struct err e;

	(void)state;
	a = db_prepare(f->db, sql, &e);
	sqlite3_bind_int(a, 1, 5);
	assert_int_equal(db_step_row(f->db, a, "select", &e), 1);
	/* Keyed by text, not by pointer. */
	memcpy(copy, sql, sizeof sql);
	b = db_prepare(f->db, copy, &e);
	assert_ptr_equal(a, b);
	assert_int_equal(db_step_row(f->db, b, "select", &e), 1);
	assert_int_equal(sqlite3_column_type(b, 0), SQLITE_NULL);
	sqlite3_reset(b);
	/* Many distinct statements: the cache grows and still finds each. */
	for (int i = 0; i < 200; i++) {
		char *q = xasprintf("SELECT %d", i);
		sqlite3_stmt *st = db_prepare(f->db, q, &e);
		assert_ptr_equal(st, db_prepare(f->db, q, &e));
		assert_int_equal(db_step_row(f->db, st, q, &e), 1);
		assert_int_equal(sqlite3_column_int(st, 0), i);
		sqlite3_reset(st);
		free(q);
	}
	assert_null(db_prepare(f->db, "SELECT 1; SELECT 2", &e));
	assert_int_equal(e.code, ERR_INTERNAL);
	fixture_free(f);
}

/* The distinctive plaintext and key bytes must never reach the disk in
 * clear: not in the database, not in the WAL, not in its index. */
static void
test_db_plaintext_and_private_key_absent_from_files(void **state)
{
	static const char secret[] = "ZEBRA-OCTOPUS-7731-plaintext-marker";
	unsigned char pub[33], priv[32];
	struct fixture *f = fixture_open();
	struct history_message m = {0};
	int64_t conv, id;
	char *paths[3];
	struct err e;

	(void)state;
	for (size_t i = 0; i < sizeof priv; i++)
		priv[i] = (unsigned char)(0xC0 ^ (i * 13));
	pub[0] = 0x05;
	for (size_t i = 1; i < sizeof pub; i++)
		pub[i] = (unsigned char)(0x3C ^ (i * 29));
	assert_int_equal(idstore_set_local(f->db, pub, sizeof pub, priv, sizeof priv, 1234, &e), 0);
	assert_int_equal(conversations_direct(f->db, "bob", &conv, &e), 0);
	m.conversation_id = conv;
	m.sender_name = "bob";
	m.sender_device = 1;
	m.relay_id = "relay-1";
	m.body = (char *)secret;
	assert_int_equal(history_insert_incoming(f->db, &m, &id, &e), 0);
	paths[0] = fixture_path(f, DB_FILE);
	paths[1] = fixture_path(f, DB_FILE "-wal");
	paths[2] = fixture_path(f, DB_FILE "-shm");
	/* Positive control: the scanner finds what is there in clear. */
	{
		char *kdf = fixture_path(f, KDF_PARAMS_FILE);
		assert_true(fixture_file_contains(kdf, "argon2id13", 10));
		free(kdf);
	}
	for (int round = 0; round < 2; round++) {
		/* Round 0: still in the WAL; round 1: checkpointed and closed. */
		if (round == 0) {
			size_t wal_len;
			unsigned char *wal = fixture_slurp(paths[1], &wal_len);

			/* The scan means something only if the WAL holds the
			 * write. */
			assert_non_null(wal);
			assert_true(wal_len > 4096);
			free(wal);
		}
		for (int i = 0; i < 3; i++) {
			assert_false(fixture_file_contains(paths[i], secret, strlen(secret)));
			assert_false(fixture_file_contains(paths[i], priv, sizeof priv));
			assert_false(fixture_file_contains(paths[i], pub + 1, sizeof pub - 1));
		}
		if (round == 0) {
			assert_int_equal(db_checkpoint(f->db, &e), 0);
			db_close(f->db);
			f->db = NULL;
		}
	}
	for (int i = 0; i < 3; i++)
		free(paths[i]);
	fixture_free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_db_reopens_with_right_passphrase),
	    cmocka_unit_test(test_db_keyfile_profile_reopens_with_its_key_file),
	    cmocka_unit_test(test_db_wrong_passphrase_is_badkey_and_file_unchanged),
	    cmocka_unit_test(test_db_wrong_key_file_is_badkey_and_file_unchanged),
	    cmocka_unit_test(test_db_second_open_is_busy),
	    cmocka_unit_test(test_db_files_are_private_whatever_the_umask),
	    cmocka_unit_test(test_db_open_makes_loose_directory_private),
	    cmocka_unit_test(test_db_create_refuses_existing_profile),
	    cmocka_unit_test(test_db_open_without_profile_is_notfound),
	    cmocka_unit_test(test_db_garbage_file_with_right_key_is_corrupt),
	    cmocka_unit_test(test_db_emptied_file_is_corrupt_not_a_new_profile),
	    cmocka_unit_test(test_db_missing_key_parameters_is_corrupt),
	    cmocka_unit_test(test_db_damaged_page_is_reported_by_check),
	    cmocka_unit_test(test_db_cipher_and_connection_settings_are_pinned),
	    cmocka_unit_test(test_db_inner_rollback_undoes_only_its_savepoint),
	    cmocka_unit_test(test_db_outer_rollback_undoes_committed_inner_work),
	    cmocka_unit_test(test_db_full_database_is_nospace),
	    cmocka_unit_test(test_db_error_codes_map_to_err_codes),
	    cmocka_unit_test(test_db_statement_cache_reuses_and_clears_bindings),
	    cmocka_unit_test(test_db_plaintext_and_private_key_absent_from_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Tests for store/schema: fresh databases, migration from version 1 with
 * rows in place, failed steps, databases newer than the code. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/attachments.h"
#include "store/conversations.h"
#include "store/db.h"
#include "store/history.h"
#include "store/kdf.h"
#include "store/schema.h"
#include "tests/store_fixture.h"

static int
user_version(struct db *db)
{
	struct err e;
	int v = -1;

	if (db_user_version(db, &v, &e) != 0)
		fail_msg("%s", e.msg);
	return v;
}

/* True when the schema holds a table or index (type) called name. */
static bool
schema_has(struct db *db, const char *type, const char *name)
{
	sqlite3_stmt *st;
	struct err e;
	int rc;

	st = db_prepare(db, "SELECT 1 FROM sqlite_master WHERE type = ? AND name = ?", &e);
	assert_non_null(st);
	db_bind_text(st, 1, type);
	db_bind_text(st, 2, name);
	rc = db_step_row(db, st, "schema", &e);
	assert_true(rc >= 0);
	if (rc == 1)
		sqlite3_reset(st);
	return rc == 1;
}

/* A new profile created at schema version 1, open in f->db. */
static struct fixture *
make_v1_profile(void)
{
	struct fixture *f = fixture_new();
	struct db_config cfg = fixture_config(f, false);
	struct err e;

	cfg.schema_version = 1;
	if (db_create(&cfg, &f->db, &e) != 0)
		fail_msg("%s", e.msg);
	assert_int_equal(user_version(f->db), 1);
	return f;
}

/* A profile created at version 1 and migrated to version, open in f->db. */
static struct fixture *
make_profile_at(int version)
{
	struct fixture *f = make_v1_profile();
	struct db_config cfg = fixture_config(f, false);
	struct err e;

	db_close(f->db);
	f->db = NULL;
	cfg.schema_version = version;
	if (db_open(&cfg, &f->db, &e) != 0)
		fail_msg("%s", e.msg);
	assert_int_equal(user_version(f->db), version);
	return f;
}

static void
test_schema_new_database_is_at_current_version(void **state)
{
	struct fixture *f = fixture_open();

	(void)state;
	assert_int_equal(user_version(f->db), SCHEMA_VERSION);
	assert_true(schema_has(f->db, "table", "attachments"));
	fixture_free(f);
}

/* True when SQLite's plan for sql names index. */
static bool
plan_uses(struct db *db, const char *sql, const char *index)
{
	char *explain = xasprintf("EXPLAIN QUERY PLAN %s", sql);
	sqlite3_stmt *st;
	struct err e;
	bool found = false;
	int rc;

	st = db_prepare(db, explain, &e);
	assert_non_null(st);
	while ((rc = db_step_row(db, st, "plan", &e)) == 1) {
		const char *detail = (const char *)sqlite3_column_text(st, 3);
		if (detail != NULL && strstr(detail, index) != NULL)
			found = true;
	}
	assert_int_equal(rc, 0);
	free(explain);
	return found;
}

/* Opening a conversation asks for its unread incoming messages: with a
 * long history that must not walk every row (schema 3's partial index;
 * the condition as store/history.c spells it). */
static void
test_schema_unread_messages_found_through_their_own_index(void **state)
{
	struct fixture *f = fixture_open();

	(void)state;
	assert_true(plan_uses(f->db,
	                      "SELECT client_id FROM messages WHERE conversation_id = 1 AND id <= 9"
	                      " AND direction = 0 AND state = 5 ORDER BY id DESC LIMIT 10",
	                      "messages_unread"));
	fixture_free(f);
}

static void
test_schema_v1_rows_survive_migration_and_new_columns_work(void **state)
{
	struct fixture *f = make_v1_profile();
	struct attachments_entry att = {0}, *list;
	struct history_message m;
	int64_t conv, att_id;
	sqlite3_stmt *st;
	size_t n;
	struct err e;

	(void)state;
	assert_false(schema_has(f->db, "table", "attachments"));
	/* Rows written the way version-1 code wrote them. */
	assert_int_equal(conversations_direct(f->db, "bob", &conv, &e), 0);
	st = db_prepare(f->db,
	                "INSERT INTO messages (id, conversation_id, direction, sender_name,"
	                " sender_device, relay_id, body, state) VALUES (7, ?, 0, 'bob', 1, 'r-7',"
	                " 'written by v1', 5)",
	                &e);
	assert_non_null(st);
	sqlite3_bind_int64(st, 1, conv);
	assert_int_equal(db_step_done(f->db, st, "v1 insert", &e), 0);

	fixture_reopen(f);
	assert_int_equal(user_version(f->db), SCHEMA_VERSION);
	assert_int_equal(history_get(f->db, 7, &m, &e), 0);
	assert_string_equal(m.body, "written by v1");
	assert_string_equal(m.relay_id, "r-7");
	assert_int_equal(m.conversation_id, conv);
	assert_int_equal(m.attachment_count, 0);
	history_message_clear(&m);

	att.message_id = 7;
	att.blob_id = "blob-1";
	att.file_name = "cat.jpg";
	att.size = 1234;
	assert_int_equal(attachments_add(f->db, &att, &att_id, &e), 0);
	assert_int_equal(history_get(f->db, 7, &m, &e), 0);
	assert_int_equal(m.attachment_count, 1);
	history_message_clear(&m);
	assert_int_equal(attachments_list(f->db, 7, &list, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].file_name, "cat.jpg");
	attachments_free(list, n);
	fixture_free(f);
}

/* A version-3 outbox kept rows the relay had acknowledged (state 1) with
 * their ciphertexts; version 4 deletes them and their index, and keeps
 * what still waits for the relay. */
static void
test_schema_v4_drops_acknowledged_outbox_rows(void **state)
{
	struct fixture *f = make_profile_at(3);
	struct err e;
	sqlite3_stmt *st;

	(void)state;
	assert_int_equal(db_exec(f->db,
	                         "INSERT INTO outbox (client_id, recipient, device_id,"
	                         " registration_id, msg_type, ciphertext, state, created_at,"
	                         " sent_at) VALUES"
	                         " ('acked', 'bob', 1, 7, 3, x'01', 1, 10, 20),"
	                         " ('waiting', 'bob', 1, 7, 3, x'02', 0, 30, NULL)",
	                         &e),
	                 0);
	fixture_reopen(f);
	assert_int_equal(user_version(f->db), SCHEMA_VERSION);
	st = db_prepare(f->db, "SELECT group_concat(client_id) FROM outbox", &e);
	assert_non_null(st);
	assert_int_equal(db_step_row(f->db, st, "outbox", &e), 1);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "waiting");
	sqlite3_reset(st);
	assert_false(schema_has(f->db, "index", "outbox_by_state"));
	fixture_free(f);
}

/* Version 5 drops the index on conversations' last activity; the list
 * still comes most recent first. */
static void
test_schema_v5_conversations_still_listed_by_activity(void **state)
{
	struct fixture *f = make_profile_at(4);
	struct conversations_entry *list;
	int64_t quiet, busy, t;
	size_t n, i, at_quiet = 0, at_busy = 0;
	struct err e;

	(void)state;
	assert_int_equal(conversations_direct(f->db, "quiet", &quiet, &e), 0);
	assert_int_equal(conversations_direct(f->db, "busy", &busy, &e), 0);
	t = db_now_ms(f->db) + 60000; /* later than their creation */
	assert_int_equal(conversations_touch(f->db, quiet, t + 1000, 0, &e), 0);
	assert_int_equal(conversations_touch(f->db, busy, t + 2000, 1, &e), 0);
	fixture_reopen(f);
	assert_int_equal(user_version(f->db), SCHEMA_VERSION);
	assert_false(schema_has(f->db, "index", "conversations_by_activity"));
	assert_int_equal(conversations_touch(f->db, quiet, t + 3000, 1, &e), 0);
	assert_int_equal(conversations_list(f->db, &list, &n, &e), 0);
	for (i = 0; i < n; i++) {
		if (list[i].id == quiet)
			at_quiet = i + 1;
		if (list[i].id == busy)
			at_busy = i + 1;
	}
	assert_true(at_quiet > 0 && at_busy > 0);
	assert_true(at_quiet < at_busy);
	conversations_list_free(list, n);
	fixture_free(f);
}

static void
test_schema_failed_step_leaves_previous_version_intact(void **state)
{
	struct fixture *f = make_v1_profile();
	struct db_config cfg = fixture_config(f, false);
	sqlite3_stmt *st;
	struct err e;

	(void)state;
	/* A table in the way makes step 2's CREATE TABLE fail midway. */
	assert_int_equal(db_exec(f->db, "CREATE TABLE attachments (x)", &e), 0);
	db_close(f->db);
	f->db = NULL;
	assert_int_equal(db_open(&cfg, &f->db, &e), -1);
	assert_null(f->db);
	assert_non_null(strstr(e.msg, "migrating to schema 2"));

	cfg.schema_version = 1;
	if (db_open(&cfg, &f->db, &e) != 0)
		fail_msg("%s", e.msg);
	assert_int_equal(user_version(f->db), 1);
	/* The step's earlier statements were rolled back with it. */
	st = db_prepare(f->db, "SELECT attachment_count FROM messages", &e);
	assert_null(st);
	assert_int_equal(db_exec(f->db, "DROP TABLE attachments", &e), 0);
	fixture_reopen(f);
	assert_int_equal(user_version(f->db), SCHEMA_VERSION);
	fixture_free(f);
}

static void
test_schema_newer_database_is_refused_and_untouched(void **state)
{
	struct fixture *f = fixture_open();
	struct db_config cfg = fixture_config(f, false);
	unsigned char *before, *after;
	size_t before_len, after_len;
	char *path = fixture_path(f, DB_FILE);
	struct err e;

	(void)state;
	assert_int_equal(db_exec(f->db, "PRAGMA user_version = 99", &e), 0);
	db_close(f->db);
	f->db = NULL;
	before = fixture_slurp(path, &before_len);
	assert_int_equal(db_open(&cfg, &f->db, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	assert_non_null(strstr(e.msg, "newer sotto"));
	after = fixture_slurp(path, &after_len);
	assert_int_equal(after_len, before_len);
	assert_memory_equal(after, before, before_len);
	free(before);
	free(after);
	free(path);
	fixture_free(f);
}

static void
test_schema_migrate_twice_is_harmless(void **state)
{
	struct fixture *f = fixture_open();
	struct err e;

	(void)state;
	assert_int_equal(schema_migrate(f->db, SCHEMA_VERSION, &e), 0);
	assert_int_equal(user_version(f->db), SCHEMA_VERSION);
	assert_int_equal(schema_migrate(f->db, SCHEMA_VERSION + 1, &e), -1);
	assert_int_equal(e.code, ERR_INTERNAL);
	fixture_free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_schema_new_database_is_at_current_version),
	    cmocka_unit_test(test_schema_unread_messages_found_through_their_own_index),
	    cmocka_unit_test(test_schema_v1_rows_survive_migration_and_new_columns_work),
	    cmocka_unit_test(test_schema_v4_drops_acknowledged_outbox_rows),
	    cmocka_unit_test(test_schema_v5_conversations_still_listed_by_activity),
	    cmocka_unit_test(test_schema_failed_step_leaves_previous_version_intact),
	    cmocka_unit_test(test_schema_newer_database_is_refused_and_untouched),
	    cmocka_unit_test(test_schema_migrate_twice_is_harmless),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

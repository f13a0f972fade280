/* The attachments table, added by schema version 2. */
#include "store/attachments.h"

#include <stdlib.h>
#include <string.h>

int
attachments_add(struct db *db, const struct attachments_entry *a, int64_t *id, struct err *e)
{
	sqlite3_stmt *st;
	int64_t rowid;
	int ext;

	if (db_begin(db, e) != 0)
		return -1;
	st = db_prepare(db,
	                "INSERT INTO attachments (message_id, blob_id, content_type, file_name,"
	                " size, file_key, digest, local_path, state)"
	                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
	                e);
	if (st == NULL)
		goto fail;
	sqlite3_bind_int64(st, 1, a->message_id);
	db_bind_text(st, 2, a->blob_id);
	db_bind_text(st, 3, a->content_type);
	db_bind_text(st, 4, a->file_name);
	sqlite3_bind_int64(st, 5, a->size);
	db_bind_blob(st, 6, a->file_key, a->file_key_len);
	db_bind_blob(st, 7, a->digest, a->digest_len);
	db_bind_text(st, 8, a->local_path);
	sqlite3_bind_int(st, 9, a->state);
	if (sqlite3_step(st) != SQLITE_DONE) {
		ext = sqlite3_extended_errcode(db_sqlite(db));
		db_fail(db, ext, "storing an attachment", e);
		sqlite3_reset(st);
		if (ext == SQLITE_CONSTRAINT_FOREIGNKEY)
			err_set(e, ERR_NOTFOUND, "no message %lld", (long long)a->message_id);
		goto fail;
	}
	sqlite3_reset(st);
	rowid = db_last_rowid(db);
	st = db_prepare(
	    db, "UPDATE messages SET attachment_count = attachment_count + 1 WHERE id = ?", e);
	if (st == NULL)
		goto fail;
	sqlite3_bind_int64(st, 1, a->message_id);
	if (db_step_done(db, st, "counting attachments", e) != 0)
		goto fail;
	if (id != NULL)
		*id = rowid;
	return db_commit(db, e);
fail:
	db_rollback(db, NULL);
	return -1;
}

static unsigned char *
attachments_blob(sqlite3_stmt *st, int col, size_t *len)
{
	*len = 0;
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return NULL;
	*len = (size_t)sqlite3_column_bytes(st, col);
	return xmemdup(sqlite3_column_blob(st, col), *len);
}

int
attachments_list(struct db *db, int64_t message_id, struct attachments_entry **out, size_t *n,
                 struct err *e)
{
	struct attachments_entry *list = NULL;
	size_t len = 0;
	sqlite3_stmt *st;
	int rc;

	*out = NULL;
	*n = 0;
	st = db_prepare(db,
	                "SELECT id, message_id, blob_id, content_type, file_name, size, file_key,"
	                " digest, local_path, state FROM attachments WHERE message_id = ?"
	                " ORDER BY id",
	                e);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, message_id);
	while ((rc = db_step_row(db, st, "listing attachments", e)) == 1) {
		struct attachments_entry *a;

		list = xreallocarray(list, len + 1, sizeof *list);
		a = &list[len++];
		a->id = sqlite3_column_int64(st, 0);
		a->message_id = sqlite3_column_int64(st, 1);
		a->blob_id = db_column_strdup(st, 2);
		a->content_type = db_column_strdup(st, 3);
		a->file_name = db_column_strdup(st, 4);
		a->size = sqlite3_column_int64(st, 5);
		a->file_key = attachments_blob(st, 6, &a->file_key_len);
		a->digest = attachments_blob(st, 7, &a->digest_len);
		a->local_path = db_column_strdup(st, 8);
		a->state = (enum attachments_state)sqlite3_column_int(st, 9);
	}
	if (rc < 0) {
		attachments_free(list, len);
		return -1;
	}
	*out = list;
	*n = len;
	return 0;
}

void
attachments_free(struct attachments_entry *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(list[i].blob_id);
		free(list[i].content_type);
		free(list[i].file_name);
		wipe_free(list[i].file_key, list[i].file_key_len);
		free(list[i].digest);
		free(list[i].local_path);
	}
	free(list);
}

int
attachments_set_state(struct db *db, int64_t id, enum attachments_state state,
                      const char *local_path, struct err *e)
{
	sqlite3_stmt *st;

	st = db_prepare(db,
	                "UPDATE attachments SET state = ?, local_path = coalesce(?, local_path)"
	                " WHERE id = ?",
	                e);
	if (st == NULL)
		return -1;
	sqlite3_bind_int(st, 1, state);
	db_bind_text(st, 2, local_path);
	sqlite3_bind_int64(st, 3, id);
	if (db_step_done(db, st, "updating an attachment", e) != 0)
		return -1;
	if (db_changes(db) == 0)
		return err_set(e, ERR_NOTFOUND, "no attachment %lld", (long long)id);
	return 0;
}

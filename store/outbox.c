/* The outbox table (see outbox.h for why it holds exact ciphertexts). */
#include "store/outbox.h"

#include <stdlib.h>
#include <string.h>

#define OUTBOX_COLUMNS                                                                             \
	"id, client_id, message_id, recipient, device_id, registration_id, msg_type,"              \
	" ciphertext, attempts, created_at"

int
outbox_enqueue(struct db *db, const struct outbox_item *item, int64_t *id, struct err *e)
{
	sqlite3_stmt *st;
	int ext;

	if (db_depth(db) == 0)
		return err_set(e, ERR_INVALID,
		               "outbox_enqueue must run inside the transaction "
		               "that stored the session");
	if (item->client_id == NULL || item->recipient == NULL || item->ciphertext == NULL)
		return err_set(e, ERR_INVALID, "an outbox row needs an id, a recipient and bytes");
	st = db_prepare(db,
	                "INSERT INTO outbox (client_id, message_id, recipient, device_id,"
	                " registration_id, msg_type, ciphertext, created_at)"
	                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
	                e);
	if (st == NULL)
		return -1;
	db_bind_text(st, 1, item->client_id);
	if (item->message_id > 0)
		sqlite3_bind_int64(st, 2, item->message_id);
	db_bind_text(st, 3, item->recipient);
	sqlite3_bind_int(st, 4, item->device_id);
	sqlite3_bind_int64(st, 5, item->registration_id);
	sqlite3_bind_int(st, 6, item->msg_type);
	db_bind_blob(st, 7, item->ciphertext, item->ciphertext_len);
	sqlite3_bind_int64(st, 8, db_now_ms(db));
	if (sqlite3_step(st) != SQLITE_DONE) {
		ext = sqlite3_extended_errcode(db_sqlite(db));
		db_fail(db, ext, "queueing a ciphertext", e);
		sqlite3_reset(st);
		if (ext == SQLITE_CONSTRAINT_UNIQUE)
			err_set(e, ERR_DUPLICATE, "%s to %s device %d is already queued",
			        item->client_id, item->recipient, (int)item->device_id);
		else if (ext == SQLITE_CONSTRAINT_FOREIGNKEY)
			err_set(e, ERR_NOTFOUND, "no message %lld", (long long)item->message_id);
		return -1;
	}
	sqlite3_reset(st);
	if (id != NULL)
		*id = db_last_rowid(db);
	return 0;
}

static void
outbox_read_row(sqlite3_stmt *st, struct outbox_item *it)
{
	it->id = sqlite3_column_int64(st, 0);
	it->client_id = db_column_strdup(st, 1);
	it->message_id = sqlite3_column_int64(st, 2);
	it->recipient = db_column_strdup(st, 3);
	it->device_id = sqlite3_column_int(st, 4);
	it->registration_id = (uint32_t)sqlite3_column_int64(st, 5);
	it->msg_type = sqlite3_column_int(st, 6);
	it->ciphertext_len = (size_t)sqlite3_column_bytes(st, 7);
	it->ciphertext = xmemdup(sqlite3_column_blob(st, 7), it->ciphertext_len);
	it->attempts = sqlite3_column_int64(st, 8);
	it->created_at = sqlite3_column_int64(st, 9);
}

static int
outbox_collect(struct db *db, sqlite3_stmt *st, struct outbox_item **out, size_t *n, struct err *e)
{
	struct outbox_item *list = NULL;
	size_t len = 0;
	int rc;

	while ((rc = db_step_row(db, st, "reading the outbox", e)) == 1) {
		list = xreallocarray(list, len + 1, sizeof *list);
		outbox_read_row(st, &list[len++]);
	}
	if (rc < 0) {
		outbox_items_free(list, len);
		return -1;
	}
	*out = list;
	*n = len;
	return 0;
}

int
outbox_list_pending(struct db *db, int limit, struct outbox_item **out, size_t *n, struct err *e)
{
	sqlite3_stmt *st;

	*out = NULL;
	*n = 0;
	st = db_prepare(db, "SELECT " OUTBOX_COLUMNS " FROM outbox ORDER BY id LIMIT ?", e);
	if (st == NULL)
		return -1;
	sqlite3_bind_int(st, 1, limit);
	return outbox_collect(db, st, out, n, e);
}

int
outbox_list_client_id(struct db *db, const char *client_id, struct outbox_item **out, size_t *n,
                      struct err *e)
{
	sqlite3_stmt *st;

	*out = NULL;
	*n = 0;
	st = db_prepare(db, "SELECT " OUTBOX_COLUMNS " FROM outbox WHERE client_id = ? ORDER BY id",
	                e);
	if (st == NULL)
		return -1;
	db_bind_text(st, 1, client_id);
	return outbox_collect(db, st, out, n, e);
}

void
outbox_items_free(struct outbox_item *items, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(items[i].client_id);
		free(items[i].recipient);
		free(items[i].ciphertext);
	}
	free(items);
}

static int
outbox_update(struct db *db, const char *sql, int64_t id, int64_t arg, const char *what,
              struct err *e)
{
	sqlite3_stmt *st = db_prepare(db, sql, e);

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, arg);
	if (db_step_done(db, st, what, e) != 0)
		return -1;
	if (db_changes(db) == 0)
		return err_set(e, ERR_NOTFOUND, "no outbox row %lld", (long long)id);
	return 0;
}

/* The UPDATEs name one row by its key and say OR FAIL: under the default
 * ABORT, SQLite copies each page into a statement journal first, which
 * SQLCipher 3.4 encrypts page by page (a tenth of a sender's time at a
 * commit per message). For one row, FAIL undoes the same: nothing. */
int
outbox_note_attempt(struct db *db, int64_t id, struct err *e)
{
	return outbox_update(db, "UPDATE OR FAIL outbox SET attempts = attempts + ?2 WHERE id = ?1",
	                     id, 1, "counting an attempt", e);
}

int
outbox_delete(struct db *db, int64_t id, struct err *e)
{
	return outbox_update(db, "DELETE FROM outbox WHERE id = ?1 AND ?2 = ?2", id, 0,
	                     "deleting an outbox row", e);
}

/* The event log table. Cursors come from an AUTOINCREMENT key, which SQLite
 * never reuses, so pruning cannot make a cursor go backwards. */
#include "store/events.h"

#include <stdlib.h>
#include <string.h>

int
events_append(struct db *db, const char *type, const char *payload, int64_t *cursor, struct err *e)
{
	sqlite3_stmt *st;

	if (type == NULL || payload == NULL)
		return err_set(e, ERR_INVALID, "an event needs a type and a payload");
	st = db_prepare(db, "INSERT INTO events (type, payload, created_at) VALUES (?, ?, ?)", e);
	if (st == NULL)
		return -1;
	db_bind_text(st, 1, type);
	db_bind_text(st, 2, payload);
	sqlite3_bind_int64(st, 3, db_now_ms(db));
	if (db_step_done(db, st, "appending an event", e) != 0)
		return -1;
	if (cursor != NULL)
		*cursor = db_last_rowid(db);
	return 0;
}

int
events_since(struct db *db, int64_t after, int limit, struct events_entry **out, size_t *n,
             struct err *e)
{
	struct events_entry *list = NULL;
	size_t len = 0;
	sqlite3_stmt *st;
	int rc;

	*out = NULL;
	*n = 0;
	st = db_prepare(db,
	                "SELECT id, type, payload, created_at FROM events WHERE id > ?"
	                " ORDER BY id LIMIT ?",
	                e);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, after);
	sqlite3_bind_int(st, 2, limit);
	while ((rc = db_step_row(db, st, "reading events", e)) == 1) {
		list = xreallocarray(list, len + 1, sizeof *list);
		list[len].cursor = sqlite3_column_int64(st, 0);
		list[len].type = db_column_strdup(st, 1);
		list[len].payload = db_column_strdup(st, 2);
		list[len].created_at = sqlite3_column_int64(st, 3);
		len++;
	}
	if (rc < 0) {
		events_free(list, len);
		return -1;
	}
	*out = list;
	*n = len;
	return 0;
}

void
events_free(struct events_entry *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(list[i].type);
		free(list[i].payload);
	}
	free(list);
}

int
events_last_cursor(struct db *db, int64_t *cursor, struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	/* sqlite_sequence remembers the highest id even after pruning. */
	st = db_prepare(db, "SELECT seq FROM sqlite_sequence WHERE name = 'events'", e);
	if (st == NULL)
		return -1;
	rc = db_step_row(db, st, "reading the event cursor", e);
	if (rc < 0)
		return -1;
	*cursor = rc == 1 ? sqlite3_column_int64(st, 0) : 0;
	if (rc == 1)
		sqlite3_reset(st);
	return 0;
}

int
events_prune(struct db *db, int64_t up_to, struct err *e)
{
	sqlite3_stmt *st = db_prepare(db, "DELETE FROM events WHERE id <= ?", e);

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, up_to);
	return db_step_done(db, st, "pruning events", e);
}

/* The conversations table: lookup-or-create by peer, the list ordered by
 * activity, and the per-conversation settings. */
#include "store/conversations.h"

#include <stdlib.h>
#include <string.h>

int
conversations_find(struct db *db, enum conversations_kind kind, const char *peer, int64_t *id,
                   struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	st = db_prepare(db, "SELECT id FROM conversations WHERE kind = ? AND peer = ?", e);
	if (st == NULL)
		return -1;
	sqlite3_bind_int(st, 1, kind);
	db_bind_text(st, 2, peer);
	rc = db_step_row(db, st, "finding a conversation", e);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return err_set(e, ERR_NOTFOUND, "no conversation with %s", peer);
	*id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return 0;
}

int
conversations_find_or_create(struct db *db, enum conversations_kind kind, const char *peer,
                             int64_t *id, struct err *e)
{
	sqlite3_stmt *st;
	int64_t now = db_now_ms(db);

	if (kind != CONVERSATIONS_DIRECT && kind != CONVERSATIONS_GROUP)
		return err_set(e, ERR_INVALID, "bad conversation kind %d", (int)kind);
	st =
	    db_prepare(db,
	               "INSERT OR IGNORE INTO conversations (kind, peer, created_at, last_activity)"
	               " VALUES (?, ?, ?, ?)",
	               e);
	if (st == NULL)
		return -1;
	sqlite3_bind_int(st, 1, kind);
	db_bind_text(st, 2, peer);
	sqlite3_bind_int64(st, 3, now);
	sqlite3_bind_int64(st, 4, now);
	if (db_step_done(db, st, "creating a conversation", e) != 0)
		return -1;
	return conversations_find(db, kind, peer, id, e);
}

int
conversations_direct(struct db *db, const char *name, int64_t *id, struct err *e)
{
	return conversations_find_or_create(db, CONVERSATIONS_DIRECT, name, id, e);
}

#define CONVERSATIONS_COLUMNS                                                                      \
	"id, kind, peer, title, created_at, last_activity, unread, timer_seconds"

static void
conversations_read_row(sqlite3_stmt *st, struct conversations_entry *c)
{
	c->id = sqlite3_column_int64(st, 0);
	c->kind = (enum conversations_kind)sqlite3_column_int(st, 1);
	c->peer = db_column_strdup(st, 2);
	c->title = db_column_strdup(st, 3);
	c->created_at = sqlite3_column_int64(st, 4);
	c->last_activity = sqlite3_column_int64(st, 5);
	c->unread = sqlite3_column_int64(st, 6);
	c->timer_seconds = sqlite3_column_int64(st, 7);
}

int
conversations_get(struct db *db, int64_t id, struct conversations_entry *out, struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	memset(out, 0, sizeof *out);
	st = db_prepare(db, "SELECT " CONVERSATIONS_COLUMNS " FROM conversations WHERE id = ?", e);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	rc = db_step_row(db, st, "reading a conversation", e);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return err_set(e, ERR_NOTFOUND, "no conversation %lld", (long long)id);
	conversations_read_row(st, out);
	sqlite3_reset(st);
	return 0;
}

int
conversations_list(struct db *db, struct conversations_entry **out, size_t *n, struct err *e)
{
	struct conversations_entry *list = NULL;
	size_t len = 0;
	sqlite3_stmt *st;
	int rc;

	*out = NULL;
	*n = 0;
	st = db_prepare(db,
	                "SELECT " CONVERSATIONS_COLUMNS " FROM conversations"
	                " ORDER BY last_activity DESC, id DESC",
	                e);
	if (st == NULL)
		return -1;
	while ((rc = db_step_row(db, st, "listing conversations", e)) == 1) {
		list = xreallocarray(list, len + 1, sizeof *list);
		conversations_read_row(st, &list[len++]);
	}
	if (rc < 0) {
		conversations_list_free(list, len);
		return -1;
	}
	*out = list;
	*n = len;
	return 0;
}

void
conversations_entry_clear(struct conversations_entry *c)
{
	free(c->peer);
	free(c->title);
	memset(c, 0, sizeof *c);
}

void
conversations_list_free(struct conversations_entry *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		conversations_entry_clear(&list[i]);
	free(list);
}

/* Run an UPDATE keyed by id in parameter 1..; ERR_NOTFOUND if no row. */
static int
conversations_update(struct db *db, sqlite3_stmt *st, int64_t id, const char *what, struct err *e)
{
	if (db_step_done(db, st, what, e) != 0)
		return -1;
	if (db_changes(db) == 0)
		return err_set(e, ERR_NOTFOUND, "no conversation %lld", (long long)id);
	return 0;
}

int
conversations_set_title(struct db *db, int64_t id, const char *title, struct err *e)
{
	sqlite3_stmt *st = db_prepare(db, "UPDATE conversations SET title = ? WHERE id = ?", e);

	if (st == NULL)
		return -1;
	db_bind_text(st, 1, title);
	sqlite3_bind_int64(st, 2, id);
	return conversations_update(db, st, id, "setting a title", e);
}

int
conversations_set_timer(struct db *db, int64_t id, int64_t seconds, struct err *e)
{
	sqlite3_stmt *st;

	if (seconds < 0)
		return err_set(e, ERR_INVALID, "negative timer");
	st = db_prepare(db, "UPDATE conversations SET timer_seconds = ? WHERE id = ?", e);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, seconds);
	sqlite3_bind_int64(st, 2, id);
	return conversations_update(db, st, id, "setting a timer", e);
}

int
conversations_mark_read(struct db *db, int64_t id, struct err *e)
{
	sqlite3_stmt *st = db_prepare(db, "UPDATE conversations SET unread = 0 WHERE id = ?", e);

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	return conversations_update(db, st, id, "marking read", e);
}

int
conversations_touch(struct db *db, int64_t id, int64_t at, int unread_delta, struct err *e)
{
	sqlite3_stmt *st;

	/* OR FAIL: one row, so no statement journal (see outbox.c). */
	st = db_prepare(db,
	                "UPDATE OR FAIL conversations SET last_activity = max(last_activity, ?),"
	                " unread = unread + ? WHERE id = ?",
	                e);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, at);
	sqlite3_bind_int(st, 2, unread_delta);
	sqlite3_bind_int64(st, 3, id);
	return conversations_update(db, st, id, "updating a conversation", e);
}

int
conversations_delete(struct db *db, int64_t id, struct err *e)
{
	sqlite3_stmt *st = db_prepare(db, "DELETE FROM conversations WHERE id = ?", e);

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	return conversations_update(db, st, id, "deleting a conversation", e);
}

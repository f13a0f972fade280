/* Message history. Pages are keyed by message id on the
 * (conversation_id, id) index, so scrolling costs the same at the top of a
 * 100k-message conversation as at the bottom; no OFFSET anywhere. */
#include "store/history.h"

#include <stdlib.h>
#include <string.h>

#include "store/conversations.h"

#define HISTORY_COLUMNS                                                                            \
	"id, conversation_id, direction, sender_name, sender_device, relay_id, client_id,"         \
	" sent_at, received_at, server_at, body, state, expires_at, attachment_count"

const char history_sql_page_before[] = "SELECT " HISTORY_COLUMNS " FROM messages"
                                       " WHERE conversation_id = ? AND id < ?"
                                       " ORDER BY id DESC LIMIT ?";
const char history_sql_page_after[] = "SELECT " HISTORY_COLUMNS " FROM messages"
                                      " WHERE conversation_id = ? AND id > ?"
                                      " ORDER BY id ASC LIMIT ?";

static void
history_bind_time(sqlite3_stmt *st, int idx, int64_t t)
{
	if (t == 0)
		sqlite3_bind_null(st, idx);
	else
		sqlite3_bind_int64(st, idx, t);
}

static int
history_insert(struct db *db, const struct history_message *m, enum history_direction dir,
               enum history_state state, int64_t sent_at, int64_t received_at, bool touch,
               int64_t *id, struct err *e)
{
	sqlite3_stmt *st;
	int64_t at = dir == HISTORY_IN ? received_at : sent_at;
	/* Inside the caller's transaction (a decrypt batch) no savepoint of
	 * our own: SQLCipher encrypts every page a savepoint journals, which
	 * halved catch-up speed. The caller rolls back on our failure. */
	bool own = db_depth(db) == 0;

	if (m->sender_name == NULL || m->body == NULL)
		return err_set(e, ERR_INVALID, "a message needs a sender and a body");
	if (own && db_begin(db, e) != 0)
		return -1;
	st = db_prepare(db,
	                "INSERT INTO messages (conversation_id, direction, sender_name,"
	                " sender_device, relay_id, client_id, sent_at, received_at, server_at,"
	                " body, state, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	                e);
	if (st == NULL)
		goto fail;
	sqlite3_bind_int64(st, 1, m->conversation_id);
	sqlite3_bind_int(st, 2, dir);
	db_bind_text(st, 3, m->sender_name);
	sqlite3_bind_int(st, 4, m->sender_device);
	db_bind_text(st, 5, dir == HISTORY_IN ? m->relay_id : NULL);
	db_bind_text(st, 6, m->client_id);
	history_bind_time(st, 7, sent_at);
	history_bind_time(st, 8, received_at);
	history_bind_time(st, 9, m->server_at);
	db_bind_text(st, 10, m->body);
	sqlite3_bind_int(st, 11, state);
	history_bind_time(st, 12, m->expires_at);
	if (sqlite3_step(st) != SQLITE_DONE) {
		int ext = sqlite3_extended_errcode(db_sqlite(db));

		db_fail(db, ext, "storing a message", e);
		sqlite3_reset(st);
		if (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY)
			err_set(e, ERR_DUPLICATE, "message %s was already stored",
			        dir == HISTORY_IN ? m->relay_id : m->client_id);
		else if (ext == SQLITE_CONSTRAINT_FOREIGNKEY)
			err_set(e, ERR_NOTFOUND, "no conversation %lld",
			        (long long)m->conversation_id);
		goto fail;
	}
	sqlite3_reset(st);
	*id = db_last_rowid(db);
	if (touch &&
	    conversations_touch(db, m->conversation_id, at, dir == HISTORY_IN ? 1 : 0, e) != 0)
		goto fail;
	return own ? db_commit(db, e) : 0;
fail:
	if (own)
		db_rollback(db, NULL);
	return -1;
}

int
history_insert_incoming(struct db *db, const struct history_message *m, int64_t *id, struct err *e)
{
	if (m->relay_id == NULL)
		return err_set(e, ERR_INVALID, "an incoming message needs its relay id");
	return history_insert(db, m, HISTORY_IN, HISTORY_RECEIVED, m->sent_at,
	                      m->received_at ? m->received_at : db_now_ms(db), true, id, e);
}

int
history_insert_incoming_untouched(struct db *db, const struct history_message *m, int64_t *id,
                                  struct err *e)
{
	if (m->relay_id == NULL)
		return err_set(e, ERR_INVALID, "an incoming message needs a relay id");
	return history_insert(db, m, HISTORY_IN, HISTORY_RECEIVED, m->sent_at,
	                      m->received_at ? m->received_at : db_now_ms(db), false, id, e);
}

int
history_insert_outgoing(struct db *db, const struct history_message *m, int64_t *id, struct err *e)
{
	if (m->client_id == NULL)
		return err_set(e, ERR_INVALID, "an outgoing message needs a client id");
	return history_insert(db, m, HISTORY_OUT, HISTORY_SENDING,
	                      m->sent_at ? m->sent_at : db_now_ms(db), m->received_at, true, id, e);
}

static void
history_read_row(sqlite3_stmt *st, struct history_message *m)
{
	m->id = sqlite3_column_int64(st, 0);
	m->conversation_id = sqlite3_column_int64(st, 1);
	m->direction = (enum history_direction)sqlite3_column_int(st, 2);
	m->sender_name = db_column_strdup(st, 3);
	m->sender_device = sqlite3_column_int(st, 4);
	m->relay_id = db_column_strdup(st, 5);
	m->client_id = db_column_strdup(st, 6);
	m->sent_at = sqlite3_column_int64(st, 7);
	m->received_at = sqlite3_column_int64(st, 8);
	m->server_at = sqlite3_column_int64(st, 9);
	m->body = db_column_strdup(st, 10);
	if (m->body == NULL)
		m->body = xstrdup("");
	m->state = (enum history_state)sqlite3_column_int(st, 11);
	m->expires_at = sqlite3_column_int64(st, 12);
	m->attachment_count = sqlite3_column_int64(st, 13);
}

/* Collect every row of a bound query. */
static int
history_collect(struct db *db, sqlite3_stmt *st, struct history_message **out, size_t *n,
                struct err *e)
{
	struct history_message *list = NULL;
	size_t len = 0;
	int rc;

	while ((rc = db_step_row(db, st, "reading history", e)) == 1) {
		list = xreallocarray(list, len + 1, sizeof *list);
		history_read_row(st, &list[len++]);
	}
	if (rc < 0) {
		history_messages_free(list, len);
		return -1;
	}
	*out = list;
	*n = len;
	return 0;
}

int
history_get(struct db *db, int64_t id, struct history_message *out, struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	memset(out, 0, sizeof *out);
	st = db_prepare(db, "SELECT " HISTORY_COLUMNS " FROM messages WHERE id = ?", e);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	rc = db_step_row(db, st, "reading a message", e);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return err_set(e, ERR_NOTFOUND, "no message %lld", (long long)id);
	history_read_row(st, out);
	sqlite3_reset(st);
	return 0;
}

int
history_find_client_id(struct db *db, const char *client_id, int64_t *id, struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	st = db_prepare(db, "SELECT id FROM messages WHERE client_id = ?", e);
	if (st == NULL)
		return -1;
	db_bind_text(st, 1, client_id);
	rc = db_step_row(db, st, "finding a message", e);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return err_set(e, ERR_NOTFOUND, "no message with client id %s", client_id);
	*id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return 0;
}

int
history_page_before(struct db *db, int64_t conversation_id, int64_t before, int limit,
                    struct history_message **out, size_t *n, struct err *e)
{
	sqlite3_stmt *st;

	*out = NULL;
	*n = 0;
	st = db_prepare(db, history_sql_page_before, e);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, conversation_id);
	sqlite3_bind_int64(st, 2, before > 0 ? before : INT64_MAX);
	sqlite3_bind_int(st, 3, limit);
	if (history_collect(db, st, out, n, e) != 0)
		return -1;
	/* Fetched newest first to use the index backwards; shown oldest
	 * first. */
	for (size_t i = 0; i < *n / 2; i++) {
		struct history_message tmp = (*out)[i];
		(*out)[i] = (*out)[*n - 1 - i];
		(*out)[*n - 1 - i] = tmp;
	}
	return 0;
}

int
history_page_after(struct db *db, int64_t conversation_id, int64_t after, int limit,
                   struct history_message **out, size_t *n, struct err *e)
{
	sqlite3_stmt *st;

	*out = NULL;
	*n = 0;
	st = db_prepare(db, history_sql_page_after, e);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, conversation_id);
	sqlite3_bind_int64(st, 2, after);
	sqlite3_bind_int(st, 3, limit);
	return history_collect(db, st, out, n, e);
}

/* LIKE pattern matching text literally: %, _ and the escape escaped. */
static char *
history_like_pattern(const char *text)
{
	size_t len = strlen(text);
	char *p = xmalloc(2 * len + 3), *q = p;

	*q++ = '%';
	for (const char *s = text; *s != '\0'; s++) {
		if (*s == '%' || *s == '_' || *s == '\\')
			*q++ = '\\';
		*q++ = *s;
	}
	*q++ = '%';
	*q = '\0';
	return p;
}

int
history_search(struct db *db, int64_t conversation_id, const char *text, int limit,
               struct history_message **out, size_t *n, struct err *e)
{
	sqlite3_stmt *st;
	char *pattern;
	int rc;

	*out = NULL;
	*n = 0;
	st = db_prepare(db,
	                "SELECT " HISTORY_COLUMNS " FROM messages"
	                " WHERE (?1 = 0 OR conversation_id = ?1) AND body LIKE ?2 ESCAPE '\\'"
	                " ORDER BY id DESC LIMIT ?3",
	                e);
	if (st == NULL)
		return -1;
	pattern = history_like_pattern(text);
	sqlite3_bind_int64(st, 1, conversation_id);
	db_bind_text(st, 2, pattern);
	sqlite3_bind_int(st, 3, limit);
	rc = history_collect(db, st, out, n, e);
	free(pattern);
	return rc;
}

void
history_message_clear(struct history_message *m)
{
	free(m->sender_name);
	free(m->relay_id);
	free(m->client_id);
	free(m->body);
	memset(m, 0, sizeof *m);
}

void
history_messages_free(struct history_message *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		history_message_clear(&list[i]);
	free(list);
}

/* Position on the delivery ladder; FAILED sits beside SENDING. */
static int
history_state_rank(enum history_state s)
{
	switch (s) {
	case HISTORY_SENDING:
	case HISTORY_FAILED:
		return 0;
	case HISTORY_SENT:
	case HISTORY_RECEIVED:
		return 1;
	case HISTORY_DELIVERED:
		return 2;
	case HISTORY_READ:
		return 3;
	}
	return -1;
}

static bool
history_state_may_move(enum history_state from, enum history_state to)
{
	if ((from == HISTORY_SENDING && to == HISTORY_FAILED) ||
	    (from == HISTORY_FAILED && to == HISTORY_SENDING))
		return true;
	return history_state_rank(to) > history_state_rank(from);
}

int
history_set_state(struct db *db, int64_t id, enum history_state state, bool *changed, struct err *e)
{
	enum history_state now;
	sqlite3_stmt *st;
	int rc;

	if (changed != NULL)
		*changed = false;
	if (history_state_rank(state) < 0)
		return err_set(e, ERR_INVALID, "bad message state %d", (int)state);
	st = db_prepare(db, "SELECT state FROM messages WHERE id = ?", e);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	rc = db_step_row(db, st, "reading a message state", e);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return err_set(e, ERR_NOTFOUND, "no message %lld", (long long)id);
	now = (enum history_state)sqlite3_column_int(st, 0);
	sqlite3_reset(st);
	if (!history_state_may_move(now, state))
		return 0;
	/* OR FAIL: one row, so no statement journal (see outbox.c). */
	st = db_prepare(db, "UPDATE OR FAIL messages SET state = ? WHERE id = ?", e);
	if (st == NULL)
		return -1;
	sqlite3_bind_int(st, 1, state);
	sqlite3_bind_int64(st, 2, id);
	if (db_step_done(db, st, "setting a message state", e) != 0)
		return -1;
	if (changed != NULL)
		*changed = true;
	return 0;
}

int
history_set_expires(struct db *db, int64_t id, int64_t expires_at, struct err *e)
{
	sqlite3_stmt *st = db_prepare(db, "UPDATE messages SET expires_at = ? WHERE id = ?", e);

	if (st == NULL)
		return -1;
	history_bind_time(st, 1, expires_at);
	sqlite3_bind_int64(st, 2, id);
	if (db_step_done(db, st, "setting a deadline", e) != 0)
		return -1;
	if (db_changes(db) == 0)
		return err_set(e, ERR_NOTFOUND, "no message %lld", (long long)id);
	return 0;
}

int
history_expire(struct db *db, int64_t now, int64_t *deleted, struct err *e)
{
	sqlite3_stmt *st;

	/* "IS NOT NULL" lets SQLite use the partial expiry index. */
	st = db_prepare(db, "DELETE FROM messages WHERE expires_at IS NOT NULL AND expires_at <= ?",
	                e);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, now);
	if (db_step_done(db, st, "expiring messages", e) != 0)
		return -1;
	if (deleted != NULL)
		*deleted = db_changes(db);
	return 0;
}

int
history_next_expiry(struct db *db, int64_t *at, struct err *e)
{
	sqlite3_stmt *st;

	st = db_prepare(db, "SELECT min(expires_at) FROM messages WHERE expires_at IS NOT NULL", e);
	if (st == NULL || db_step_row(db, st, "reading deadlines", e) != 1)
		return -1;
	*at = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return 0;
}

int
history_delete(struct db *db, int64_t id, struct err *e)
{
	sqlite3_stmt *st = db_prepare(db, "DELETE FROM messages WHERE id = ?", e);

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	if (db_step_done(db, st, "deleting a message", e) != 0)
		return -1;
	if (db_changes(db) == 0)
		return err_set(e, ERR_NOTFOUND, "no message %lld", (long long)id);
	return 0;
}

int
history_has_incoming_after(struct db *db, int64_t after, bool *out, struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	st = db_prepare(db, "SELECT 1 FROM messages WHERE id > ? AND direction = ? LIMIT 1", e);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, after);
	sqlite3_bind_int(st, 2, HISTORY_IN);
	rc = db_step_row(db, st, "looking for new messages", e);
	if (rc < 0)
		return -1;
	if (rc == 1)
		sqlite3_reset(st);
	*out = rc == 1;
	return 0;
}

/* Incoming and not read yet, written out: the partial index
 * messages_unread (schema v3) serves a query only when its condition is
 * in the SQL itself, not in bound parameters. */
#define HISTORY_UNREAD_SQL "direction = 0 AND state = 5"
_Static_assert(HISTORY_IN == 0 && HISTORY_RECEIVED == 5, "HISTORY_UNREAD_SQL spells these");

int
history_mark_read(struct db *db, int64_t conversation, int64_t up_to_id, size_t max,
                  char ***client_ids, size_t *n, struct err *e)
{
	char **ids = NULL;
	size_t len = 0;
	sqlite3_stmt *st;
	int rc;

	*client_ids = NULL;
	*n = 0;
	st = db_prepare(db,
	                "SELECT client_id FROM messages WHERE conversation_id = ? AND id <= ?"
	                " AND " HISTORY_UNREAD_SQL " ORDER BY id DESC LIMIT ?",
	                e);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, conversation);
	sqlite3_bind_int64(st, 2, up_to_id);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)max);
	while ((rc = db_step_row(db, st, "listing unread messages", e)) == 1) {
		char *id = db_column_strdup(st, 0);
		if (id == NULL)
			continue;
		ids = xreallocarray(ids, len + 1, sizeof *ids);
		ids[len++] = id;
	}
	if (rc == 0) {
		/* Bounded like the receipts: one open must not rewrite every
		 * page of a 100k-message history in one transaction. */
		st = db_prepare(db,
		                "UPDATE messages SET state = ? WHERE id IN (SELECT id FROM messages"
		                " WHERE conversation_id = ? AND id <= ? AND " HISTORY_UNREAD_SQL
		                " ORDER BY id DESC LIMIT ?)",
		                e);
		if (st == NULL)
			rc = -1;
	}
	if (rc == 0) {
		sqlite3_bind_int(st, 1, HISTORY_READ);
		sqlite3_bind_int64(st, 2, conversation);
		sqlite3_bind_int64(st, 3, up_to_id);
		sqlite3_bind_int64(st, 4, (sqlite3_int64)max);
		rc = db_step_done(db, st, "marking messages read", e);
	}
	if (rc < 0) {
		while (len > 0)
			free(ids[--len]);
		free(ids);
		return -1;
	}
	*client_ids = ids;
	*n = len;
	return 0;
}

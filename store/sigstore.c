/* libsignal's session, pre key, signed pre key and sender key stores on the
 * profile database (the identity store is in idstore.c). Return codes
 * follow LIBSIGNAL.md exactly; a database failure is a SIGSTORE_ERR_*
 * code, never a crash and never a silent "not found". */
#include "store/sigstore.h"

#include <stdlib.h>
#include <string.h>

#include "store/idstore.h"

int
sigstore_sg_code(const struct err *e)
{
	switch (e->code) {
	case ERR_NOSPACE:
		return SIGSTORE_ERR_NOSPACE;
	case ERR_BUSY:
		return SIGSTORE_ERR_BUSY;
	case ERR_CORRUPT:
		return SIGSTORE_ERR_CORRUPT;
	case ERR_DUPLICATE:
		return SIGSTORE_ERR_DUPLICATE;
	default:
		return SIGSTORE_ERR_DB;
	}
}

enum err_code
sigstore_err_code(int sg_code)
{
	switch (sg_code) {
	case SIGSTORE_ERR_NOSPACE:
		return ERR_NOSPACE;
	case SIGSTORE_ERR_BUSY:
		return ERR_BUSY;
	case SIGSTORE_ERR_CORRUPT:
		return ERR_CORRUPT;
	case SIGSTORE_ERR_NO_IDENTITY:
		return ERR_NOTFOUND;
	case SIGSTORE_ERR_DUPLICATE:
	case SG_ERR_DUPLICATE_MESSAGE:
		return ERR_DUPLICATE;
	default:
		return ERR_INTERNAL;
	}
}

/* Copy column col into a new signal_buffer (NULL column: zero length). */
static signal_buffer *
sigstore_column_buffer(sqlite3_stmt *st, int col)
{
	const void *p = sqlite3_column_blob(st, col);
	size_t len = (size_t)sqlite3_column_bytes(st, col);

	return signal_buffer_create(p != NULL ? p : (const void *)"", len);
}

/* Run a statement with no result rows, mapping failure to a SIGSTORE code. */
static int
sigstore_done(struct db *db, sqlite3_stmt *st, const char *what)
{
	struct err e;

	if (db_step_done(db, st, what, &e) != 0)
		return sigstore_sg_code(&e);
	return 0;
}

/* --- sessions ---------------------------------------------------------- */

static int
sigstore_load_session(signal_buffer **record, signal_buffer **user_record,
                      const signal_protocol_address *address, void *user_data)
{
	struct db *db = user_data;
	sqlite3_stmt *st;
	struct err e;
	int rc;

	st = db_prepare(
	    db, "SELECT record, user_record FROM sessions WHERE name = ? AND device_id = ?", &e);
	if (st == NULL)
		return sigstore_sg_code(&e);
	db_bind_textn(st, 1, address->name, address->name_len);
	sqlite3_bind_int(st, 2, address->device_id);
	rc = db_step_row(db, st, "loading a session", &e);
	if (rc < 0)
		return sigstore_sg_code(&e);
	if (rc == 0)
		return 0;
	*record = sigstore_column_buffer(st, 0);
	if (sqlite3_column_type(st, 1) != SQLITE_NULL && user_record != NULL)
		*user_record = sigstore_column_buffer(st, 1);
	sqlite3_reset(st);
	if (*record == NULL)
		return SG_ERR_NOMEM;
	return 1;
}

static int
sigstore_sub_device_sessions(signal_int_list **sessions, const char *name, size_t name_len,
                             void *user_data)
{
	struct db *db = user_data;
	signal_int_list *list;
	sqlite3_stmt *st;
	struct err e;
	int rc;

	/* Always allocated, even when empty (LIBSIGNAL.md). Every device with
	 * a session, device 1 included: only our code calls this. */
	list = signal_int_list_alloc();
	if (list == NULL)
		return SG_ERR_NOMEM;
	st = db_prepare(db, "SELECT device_id FROM sessions WHERE name = ? ORDER BY device_id", &e);
	if (st == NULL) {
		signal_int_list_free(list);
		return sigstore_sg_code(&e);
	}
	db_bind_textn(st, 1, name, name_len);
	while ((rc = db_step_row(db, st, "listing sessions", &e)) == 1) {
		if (signal_int_list_push_back(list, sqlite3_column_int(st, 0)) != 0) {
			sqlite3_reset(st);
			signal_int_list_free(list);
			return SG_ERR_NOMEM;
		}
	}
	if (rc < 0) {
		signal_int_list_free(list);
		return sigstore_sg_code(&e);
	}
	*sessions = list;
	return (int)signal_int_list_size(list);
}

/* Replace a row as DELETE then INSERT. INSERT OR REPLACE (and UPDATE)
 * make SQLite copy the page into a statement journal that SQLCipher 3.4
 * encrypts, which cost a third of a message's time in the benchmark; two
 * plain statements do not. Outside a transaction the pair gets its own, so
 * it stays atomic; inside one, the caller's transaction covers it. */
static int
sigstore_replace(struct db *db, sqlite3_stmt *del, sqlite3_stmt *ins, const char *what)
{
	bool own = db_depth(db) == 0;
	struct err e;

	if (own && db_begin(db, &e) < 0) {
		sqlite3_reset(del);
		sqlite3_reset(ins);
		return sigstore_sg_code(&e);
	}
	if (db_step_done(db, del, what, &e) < 0 || db_step_done(db, ins, what, &e) < 0) {
		sqlite3_reset(ins);
		if (own)
			db_rollback(db, NULL);
		return sigstore_sg_code(&e);
	}
	if (own && db_commit(db, &e) < 0)
		return sigstore_sg_code(&e);
	return 0;
}

static int
sigstore_store_session(const signal_protocol_address *address, uint8_t *record, size_t record_len,
                       uint8_t *user_record, size_t user_record_len, void *user_data)
{
	struct db *db = user_data;
	sqlite3_stmt *del, *ins;
	struct err e;

	del = db_prepare(db, "DELETE FROM sessions WHERE name = ? AND device_id = ?", &e);
	if (del == NULL)
		return sigstore_sg_code(&e);
	ins =
	    db_prepare(db,
	               "INSERT INTO sessions"
	               " (name, device_id, record, user_record, updated_at) VALUES (?, ?, ?, ?, ?)",
	               &e);
	if (ins == NULL) {
		sqlite3_reset(del);
		return sigstore_sg_code(&e);
	}
	db_bind_textn(del, 1, address->name, address->name_len);
	sqlite3_bind_int(del, 2, address->device_id);
	db_bind_textn(ins, 1, address->name, address->name_len);
	sqlite3_bind_int(ins, 2, address->device_id);
	db_bind_blob(ins, 3, record != NULL ? (const void *)record : "", record_len);
	db_bind_blob(ins, 4, user_record, user_record_len);
	sqlite3_bind_int64(ins, 5, db_now_ms(db));
	return sigstore_replace(db, del, ins, "storing a session");
}

static int
sigstore_contains_session(const signal_protocol_address *address, void *user_data)
{
	struct db *db = user_data;
	sqlite3_stmt *st;
	struct err e;
	int rc;

	st = db_prepare(db, "SELECT 1 FROM sessions WHERE name = ? AND device_id = ?", &e);
	if (st == NULL)
		return sigstore_sg_code(&e);
	db_bind_textn(st, 1, address->name, address->name_len);
	sqlite3_bind_int(st, 2, address->device_id);
	rc = db_step_row(db, st, "looking up a session", &e);
	if (rc < 0)
		return sigstore_sg_code(&e);
	if (rc == 1)
		sqlite3_reset(st);
	return rc;
}

static int
sigstore_delete_session(const signal_protocol_address *address, void *user_data)
{
	struct db *db = user_data;
	sqlite3_stmt *st;
	struct err e;
	int rc;

	st = db_prepare(db, "DELETE FROM sessions WHERE name = ? AND device_id = ?", &e);
	if (st == NULL)
		return sigstore_sg_code(&e);
	db_bind_textn(st, 1, address->name, address->name_len);
	sqlite3_bind_int(st, 2, address->device_id);
	rc = sigstore_done(db, st, "deleting a session");
	return rc < 0 ? rc : db_changes(db) > 0;
}

static int
sigstore_delete_all_sessions(const char *name, size_t name_len, void *user_data)
{
	struct db *db = user_data;
	sqlite3_stmt *st;
	struct err e;
	int rc;

	st = db_prepare(db, "DELETE FROM sessions WHERE name = ?", &e);
	if (st == NULL)
		return sigstore_sg_code(&e);
	db_bind_textn(st, 1, name, name_len);
	rc = sigstore_done(db, st, "deleting sessions");
	return rc < 0 ? rc : db_changes(db);
}

/* --- one-time and signed prekeys: same shape, two tables --------------- */

struct sigstore_keytable {
	const char *load, *store, *contains, *remove;
};

static const struct sigstore_keytable sigstore_prekeys = {
    "SELECT record FROM prekeys WHERE id = ?",
    "INSERT OR REPLACE INTO prekeys (id, record, created_at) VALUES (?, ?, ?)",
    "SELECT 1 FROM prekeys WHERE id = ?",
    "DELETE FROM prekeys WHERE id = ?",
};

/* A replaced signed prekey keeps its first created_at: rotation dates
 * must not move because the same record was stored again. */
static const struct sigstore_keytable sigstore_signed_prekeys = {
    "SELECT record FROM signed_prekeys WHERE id = ?",
    "INSERT OR REPLACE INTO signed_prekeys (id, record, created_at) VALUES (?1, ?2,"
    " coalesce((SELECT created_at FROM signed_prekeys WHERE id = ?1), ?3))",
    "SELECT 1 FROM signed_prekeys WHERE id = ?",
    "DELETE FROM signed_prekeys WHERE id = ?",
};

static int
sigstore_key_load(const struct sigstore_keytable *t, signal_buffer **record, uint32_t id,
                  struct db *db)
{
	sqlite3_stmt *st;
	struct err e;
	int rc;

	st = db_prepare(db, t->load, &e);
	if (st == NULL)
		return sigstore_sg_code(&e);
	sqlite3_bind_int64(st, 1, id);
	rc = db_step_row(db, st, "loading a prekey", &e);
	if (rc < 0)
		return sigstore_sg_code(&e);
	if (rc == 0)
		return SG_ERR_INVALID_KEY_ID;
	*record = sigstore_column_buffer(st, 0);
	sqlite3_reset(st);
	return *record != NULL ? SG_SUCCESS : SG_ERR_NOMEM;
}

static int
sigstore_key_store(const struct sigstore_keytable *t, uint32_t id, const uint8_t *record,
                   size_t record_len, struct db *db)
{
	sqlite3_stmt *st;
	struct err e;

	st = db_prepare(db, t->store, &e);
	if (st == NULL)
		return sigstore_sg_code(&e);
	sqlite3_bind_int64(st, 1, id);
	db_bind_blob(st, 2, record != NULL ? (const void *)record : "", record_len);
	sqlite3_bind_int64(st, 3, db_now_ms(db));
	return sigstore_done(db, st, "storing a prekey");
}

static int
sigstore_key_contains(const struct sigstore_keytable *t, uint32_t id, struct db *db)
{
	sqlite3_stmt *st;
	struct err e;
	int rc;

	st = db_prepare(db, t->contains, &e);
	if (st == NULL)
		return sigstore_sg_code(&e);
	sqlite3_bind_int64(st, 1, id);
	rc = db_step_row(db, st, "looking up a prekey", &e);
	if (rc < 0)
		return sigstore_sg_code(&e);
	if (rc == 1)
		sqlite3_reset(st);
	return rc;
}

/* Removing an absent key succeeds: remove_pre_key runs after the session
 * is stored, and failing there would fail a decrypt that already
 * committed state. */
static int
sigstore_key_remove(const struct sigstore_keytable *t, uint32_t id, struct db *db)
{
	sqlite3_stmt *st;
	struct err e;

	st = db_prepare(db, t->remove, &e);
	if (st == NULL)
		return sigstore_sg_code(&e);
	sqlite3_bind_int64(st, 1, id);
	return sigstore_done(db, st, "removing a prekey");
}

static int
sigstore_load_pre_key(signal_buffer **record, uint32_t id, void *user_data)
{
	return sigstore_key_load(&sigstore_prekeys, record, id, user_data);
}

static int
sigstore_store_pre_key(uint32_t id, uint8_t *record, size_t record_len, void *user_data)
{
	return sigstore_key_store(&sigstore_prekeys, id, record, record_len, user_data);
}

static int
sigstore_contains_pre_key(uint32_t id, void *user_data)
{
	return sigstore_key_contains(&sigstore_prekeys, id, user_data);
}

static int
sigstore_remove_pre_key(uint32_t id, void *user_data)
{
	return sigstore_key_remove(&sigstore_prekeys, id, user_data);
}

static int
sigstore_load_signed_pre_key(signal_buffer **record, uint32_t id, void *user_data)
{
	return sigstore_key_load(&sigstore_signed_prekeys, record, id, user_data);
}

static int
sigstore_store_signed_pre_key(uint32_t id, uint8_t *record, size_t record_len, void *user_data)
{
	return sigstore_key_store(&sigstore_signed_prekeys, id, record, record_len, user_data);
}

static int
sigstore_contains_signed_pre_key(uint32_t id, void *user_data)
{
	return sigstore_key_contains(&sigstore_signed_prekeys, id, user_data);
}

static int
sigstore_remove_signed_pre_key(uint32_t id, void *user_data)
{
	return sigstore_key_remove(&sigstore_signed_prekeys, id, user_data);
}

int
sigstore_signed_prekeys_list(struct db *db, struct sigstore_signed_prekey **out, size_t *n,
                             struct err *e)
{
	struct sigstore_signed_prekey *list = NULL;
	size_t len = 0;
	sqlite3_stmt *st;
	int rc;

	*out = NULL;
	*n = 0;
	st = db_prepare(db, "SELECT id, created_at FROM signed_prekeys ORDER BY created_at, id", e);
	if (st == NULL)
		return -1;
	while ((rc = db_step_row(db, st, "listing signed prekeys", e)) == 1) {
		list = xreallocarray(list, len + 1, sizeof *list);
		list[len].id = (uint32_t)sqlite3_column_int64(st, 0);
		list[len].created_at = sqlite3_column_int64(st, 1);
		len++;
	}
	if (rc < 0) {
		free(list);
		return -1;
	}
	*out = list;
	*n = len;
	return 0;
}

int
sigstore_prekey_count(struct db *db, int64_t *out, struct err *e)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT count(*) FROM prekeys", e);

	if (st == NULL || db_step_row(db, st, "counting prekeys", e) != 1)
		return -1;
	*out = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return 0;
}

/* --- sender keys ------------------------------------------------------- */

static int
sigstore_store_sender_key(const signal_protocol_sender_key_name *name, uint8_t *record,
                          size_t record_len, uint8_t *user_record, size_t user_record_len,
                          void *user_data)
{
	struct db *db = user_data;
	sqlite3_stmt *del, *ins;
	struct err e;

	del = db_prepare(db,
	                 "DELETE FROM sender_keys"
	                 " WHERE group_id = ? AND sender_name = ? AND device_id = ?",
	                 &e);
	if (del == NULL)
		return sigstore_sg_code(&e);
	ins = db_prepare(db,
	                 "INSERT INTO sender_keys (group_id, sender_name, device_id,"
	                 " record, user_record, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
	                 &e);
	if (ins == NULL) {
		sqlite3_reset(del);
		return sigstore_sg_code(&e);
	}
	db_bind_textn(del, 1, name->group_id, name->group_id_len);
	db_bind_textn(del, 2, name->sender.name, name->sender.name_len);
	sqlite3_bind_int(del, 3, name->sender.device_id);
	db_bind_textn(ins, 1, name->group_id, name->group_id_len);
	db_bind_textn(ins, 2, name->sender.name, name->sender.name_len);
	sqlite3_bind_int(ins, 3, name->sender.device_id);
	db_bind_blob(ins, 4, record != NULL ? (const void *)record : "", record_len);
	db_bind_blob(ins, 5, user_record, user_record_len);
	sqlite3_bind_int64(ins, 6, db_now_ms(db));
	return sigstore_replace(db, del, ins, "storing a sender key");
}

static int
sigstore_load_sender_key(signal_buffer **record, signal_buffer **user_record,
                         const signal_protocol_sender_key_name *name, void *user_data)
{
	struct db *db = user_data;
	sqlite3_stmt *st;
	struct err e;
	int rc;

	st = db_prepare(db,
	                "SELECT record, user_record FROM sender_keys"
	                " WHERE group_id = ? AND sender_name = ? AND device_id = ?",
	                &e);
	if (st == NULL)
		return sigstore_sg_code(&e);
	db_bind_textn(st, 1, name->group_id, name->group_id_len);
	db_bind_textn(st, 2, name->sender.name, name->sender.name_len);
	sqlite3_bind_int(st, 3, name->sender.device_id);
	rc = db_step_row(db, st, "loading a sender key", &e);
	if (rc < 0)
		return sigstore_sg_code(&e);
	if (rc == 0)
		return 0;
	*record = sigstore_column_buffer(st, 0);
	if (sqlite3_column_type(st, 1) != SQLITE_NULL && user_record != NULL)
		*user_record = sigstore_column_buffer(st, 1);
	sqlite3_reset(st);
	return *record != NULL ? 1 : SG_ERR_NOMEM;
}

int
sigstore_sender_key_delete(struct db *db, const char *group_id, const char *sender_name,
                           int32_t device_id, struct err *e)
{
	sqlite3_stmt *st;

	st = db_prepare(db,
	                "DELETE FROM sender_keys WHERE group_id = ? AND sender_name = ?"
	                " AND device_id = ?",
	                e);
	if (st == NULL)
		return -1;
	db_bind_text(st, 1, group_id);
	db_bind_text(st, 2, sender_name);
	sqlite3_bind_int(st, 3, device_id);
	return db_step_done(db, st, "deleting a sender key", e);
}

/* --- wiring ------------------------------------------------------------ */

void
sigstore_callbacks_init(struct sigstore_callbacks *cb, struct db *db)
{
	memset(cb, 0, sizeof *cb);
	cb->session.load_session_func = sigstore_load_session;
	cb->session.get_sub_device_sessions_func = sigstore_sub_device_sessions;
	cb->session.store_session_func = sigstore_store_session;
	cb->session.contains_session_func = sigstore_contains_session;
	cb->session.delete_session_func = sigstore_delete_session;
	cb->session.delete_all_sessions_func = sigstore_delete_all_sessions;
	cb->session.user_data = db;
	cb->pre_key.load_pre_key = sigstore_load_pre_key;
	cb->pre_key.store_pre_key = sigstore_store_pre_key;
	cb->pre_key.contains_pre_key = sigstore_contains_pre_key;
	cb->pre_key.remove_pre_key = sigstore_remove_pre_key;
	cb->pre_key.user_data = db;
	cb->signed_pre_key.load_signed_pre_key = sigstore_load_signed_pre_key;
	cb->signed_pre_key.store_signed_pre_key = sigstore_store_signed_pre_key;
	cb->signed_pre_key.contains_signed_pre_key = sigstore_contains_signed_pre_key;
	cb->signed_pre_key.remove_signed_pre_key = sigstore_remove_signed_pre_key;
	cb->signed_pre_key.user_data = db;
	idstore_callbacks(db, &cb->identity);
	cb->sender_key.store_sender_key = sigstore_store_sender_key;
	cb->sender_key.load_sender_key = sigstore_load_sender_key;
	cb->sender_key.user_data = db;
}

int
sigstore_create(struct db *db, signal_context *gctx, signal_protocol_store_context **out,
                struct err *e)
{
	struct sigstore_callbacks cb;
	signal_protocol_store_context *ctx = NULL;

	*out = NULL;
	sigstore_callbacks_init(&cb, db);
	/* The setters copy the structs, so cb may go out of scope. */
	if (signal_protocol_store_context_create(&ctx, gctx) != 0 ||
	    signal_protocol_store_context_set_session_store(ctx, &cb.session) != 0 ||
	    signal_protocol_store_context_set_pre_key_store(ctx, &cb.pre_key) != 0 ||
	    signal_protocol_store_context_set_signed_pre_key_store(ctx, &cb.signed_pre_key) != 0 ||
	    signal_protocol_store_context_set_identity_key_store(ctx, &cb.identity) != 0 ||
	    signal_protocol_store_context_set_sender_key_store(ctx, &cb.sender_key) != 0) {
		if (ctx != NULL)
			signal_protocol_store_context_destroy(ctx);
		return err_set(e, ERR_INTERNAL, "cannot create the libsignal store context");
	}
	*out = ctx;
	return 0;
}

/* The key-value table: typed access to one untyped column, so a counter
 * can never be read back as a blob or the reverse without an error. */
#include "store/kv.h"

#include <string.h>

static int
kv_set(struct db *db, const char *key, const void *blob, size_t len, int64_t value, struct err *e)
{
	sqlite3_stmt *st;

	st = db_prepare(db, "INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)", e);
	if (st == NULL)
		return -1;
	db_bind_text(st, 1, key);
	if (blob != NULL)
		db_bind_blob(st, 2, blob, len);
	else
		sqlite3_bind_int64(st, 2, value);
	return db_step_done(db, st, "storing a setting", e);
}

/* 1 with the row ready in *out_st, 0 when absent, -1 on error. */
static int
kv_find(struct db *db, const char *key, sqlite3_stmt **out_st, struct err *e)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT value FROM kv WHERE key = ?", e);

	if (st == NULL)
		return -1;
	db_bind_text(st, 1, key);
	*out_st = st;
	return db_step_row(db, st, "reading a setting", e);
}

int
kv_get_int(struct db *db, const char *key, int64_t def, int64_t *out, struct err *e)
{
	sqlite3_stmt *st;
	int rc = kv_find(db, key, &st, e);

	if (rc <= 0) {
		*out = def;
		return rc;
	}
	if (sqlite3_column_type(st, 0) != SQLITE_INTEGER) {
		sqlite3_reset(st);
		return err_set(e, ERR_INVALID, "setting %s is not an integer", key);
	}
	*out = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return 0;
}

int
kv_set_int(struct db *db, const char *key, int64_t value, struct err *e)
{
	return kv_set(db, key, NULL, 0, value, e);
}

int
kv_get_blob(struct db *db, const char *key, unsigned char **out, size_t *len, struct err *e)
{
	sqlite3_stmt *st;
	int rc = kv_find(db, key, &st, e);

	*out = NULL;
	*len = 0;
	if (rc < 0)
		return -1;
	if (rc == 0)
		return err_set(e, ERR_NOTFOUND, "no setting %s", key);
	if (sqlite3_column_type(st, 0) != SQLITE_BLOB) {
		sqlite3_reset(st);
		return err_set(e, ERR_INVALID, "setting %s is not a blob", key);
	}
	*len = (size_t)sqlite3_column_bytes(st, 0);
	*out = xmemdup(sqlite3_column_blob(st, 0), *len);
	sqlite3_reset(st);
	return 0;
}

int
kv_set_blob(struct db *db, const char *key, const void *value, size_t len, struct err *e)
{
	/* A non-NULL pointer keeps a zero-length value a blob. */
	return kv_set(db, key, value != NULL ? value : "", len, 0, e);
}

int
kv_delete(struct db *db, const char *key, struct err *e)
{
	sqlite3_stmt *st = db_prepare(db, "DELETE FROM kv WHERE key = ?", e);

	if (st == NULL)
		return -1;
	db_bind_text(st, 1, key);
	return db_step_done(db, st, "deleting a setting", e);
}

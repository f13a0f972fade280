/* The contacts and contact_devices tables. */
#include "store/contacts.h"

#include <stdlib.h>
#include <string.h>

#include "store/idstore.h"

static int
contacts_insert(struct db *db, const char *sql, const char *name, const char *display_name,
                struct err *e)
{
	sqlite3_stmt *st = db_prepare(db, sql, e);
	int64_t now = db_now_ms(db);

	if (st == NULL)
		return -1;
	db_bind_text(st, 1, name);
	db_bind_text(st, 2, display_name);
	sqlite3_bind_int64(st, 3, now);
	sqlite3_bind_int64(st, 4, now);
	if (db_step_done(db, st, "adding a contact", e) != 0) {
		if (e != NULL && e->code == ERR_EXISTS)
			err_set(e, ERR_EXISTS, "%s is already a contact", name);
		return -1;
	}
	return 0;
}

int
contacts_add(struct db *db, const char *name, const char *display_name, struct err *e)
{
	return contacts_insert(db,
	                       "INSERT INTO contacts (name, display_name, created_at, updated_at)"
	                       " VALUES (?, ?, ?, ?)",
	                       name, display_name, e);
}

int
contacts_ensure(struct db *db, const char *name, struct err *e)
{
	return contacts_insert(db,
	                       "INSERT OR IGNORE INTO contacts (name, display_name, created_at,"
	                       " updated_at) VALUES (?, ?, ?, ?)",
	                       name, NULL, e);
}

#define CONTACTS_COLUMNS "name, display_name, blocked, created_at, updated_at"

static void
contacts_read_row(sqlite3_stmt *st, struct contacts_entry *c)
{
	c->name = db_column_strdup(st, 0);
	c->display_name = db_column_strdup(st, 1);
	c->blocked = sqlite3_column_int(st, 2) != 0;
	c->created_at = sqlite3_column_int64(st, 3);
	c->updated_at = sqlite3_column_int64(st, 4);
}

/* verified comes from another query: fill it once the row statement is
 * reset, since idstore uses its own cached statements. */
static int
contacts_fill_verified(struct db *db, struct contacts_entry *c, struct err *e)
{
	return idstore_name_verified(db, c->name, &c->verified, e);
}

int
contacts_get(struct db *db, const char *name, struct contacts_entry *out, struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	memset(out, 0, sizeof *out);
	st = db_prepare(db, "SELECT " CONTACTS_COLUMNS " FROM contacts WHERE name = ?", e);
	if (st == NULL)
		return -1;
	db_bind_text(st, 1, name);
	rc = db_step_row(db, st, "reading a contact", e);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return err_set(e, ERR_NOTFOUND, "%s is not a contact", name);
	contacts_read_row(st, out);
	sqlite3_reset(st);
	if (contacts_fill_verified(db, out, e) != 0) {
		contacts_entry_clear(out);
		return -1;
	}
	return 0;
}

int
contacts_list(struct db *db, struct contacts_entry **out, size_t *n, struct err *e)
{
	struct contacts_entry *list = NULL;
	size_t len = 0;
	sqlite3_stmt *st;
	int rc;

	*out = NULL;
	*n = 0;
	st = db_prepare(db, "SELECT " CONTACTS_COLUMNS " FROM contacts ORDER BY name", e);
	if (st == NULL)
		return -1;
	while ((rc = db_step_row(db, st, "listing contacts", e)) == 1) {
		list = xreallocarray(list, len + 1, sizeof *list);
		memset(&list[len], 0, sizeof *list);
		contacts_read_row(st, &list[len++]);
	}
	for (size_t i = 0; rc == 0 && i < len; i++)
		if (contacts_fill_verified(db, &list[i], e) != 0)
			rc = -1;
	if (rc < 0) {
		contacts_list_free(list, len);
		return -1;
	}
	*out = list;
	*n = len;
	return 0;
}

void
contacts_entry_clear(struct contacts_entry *c)
{
	free(c->name);
	free(c->display_name);
	memset(c, 0, sizeof *c);
}

void
contacts_list_free(struct contacts_entry *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		contacts_entry_clear(&list[i]);
	free(list);
}

static int
contacts_update(struct db *db, sqlite3_stmt *st, const char *name, const char *what, struct err *e)
{
	if (db_step_done(db, st, what, e) != 0)
		return -1;
	if (db_changes(db) == 0)
		return err_set(e, ERR_NOTFOUND, "%s is not a contact", name);
	return 0;
}

int
contacts_set_display_name(struct db *db, const char *name, const char *display_name, struct err *e)
{
	sqlite3_stmt *st;

	st = db_prepare(db, "UPDATE contacts SET display_name = ?, updated_at = ? WHERE name = ?",
	                e);
	if (st == NULL)
		return -1;
	db_bind_text(st, 1, display_name);
	sqlite3_bind_int64(st, 2, db_now_ms(db));
	db_bind_text(st, 3, name);
	return contacts_update(db, st, name, "renaming a contact", e);
}

int
contacts_set_blocked(struct db *db, const char *name, bool blocked, struct err *e)
{
	sqlite3_stmt *st;

	st = db_prepare(db, "UPDATE contacts SET blocked = ?, updated_at = ? WHERE name = ?", e);
	if (st == NULL)
		return -1;
	sqlite3_bind_int(st, 1, blocked);
	sqlite3_bind_int64(st, 2, db_now_ms(db));
	db_bind_text(st, 3, name);
	return contacts_update(db, st, name, "blocking a contact", e);
}

int
contacts_delete(struct db *db, const char *name, struct err *e)
{
	sqlite3_stmt *st = db_prepare(db, "DELETE FROM contacts WHERE name = ?", e);

	if (st == NULL)
		return -1;
	db_bind_text(st, 1, name);
	return contacts_update(db, st, name, "deleting a contact", e);
}

/* A device seen again with the same registration id writes nothing: this
 * runs for the first envelope of every receive batch, and an unconditional
 * REPLACE cost each commit one more encrypted page. */
int
contacts_device_set(struct db *db, const char *name, int32_t device_id, uint32_t registration_id,
                    struct err *e)
{
	static const char *const sql[] = {
	    "INSERT OR IGNORE INTO contact_devices"
	    " (name, device_id, registration_id, updated_at) VALUES (?1, ?2, ?3, ?4)",
	    "UPDATE contact_devices SET registration_id = ?3, updated_at = ?4"
	    " WHERE name = ?1 AND device_id = ?2 AND registration_id != ?3",
	};
	sqlite3_stmt *st;
	size_t i;
	int ext;

	for (i = 0; i < sizeof sql / sizeof *sql; i++) {
		if ((st = db_prepare(db, sql[i], e)) == NULL)
			return -1;
		db_bind_text(st, 1, name);
		sqlite3_bind_int(st, 2, device_id);
		sqlite3_bind_int64(st, 3, registration_id);
		sqlite3_bind_int64(st, 4, db_now_ms(db));
		if (sqlite3_step(st) != SQLITE_DONE) {
			ext = sqlite3_extended_errcode(db_sqlite(db));
			db_fail(db, ext, "storing a device", e);
			sqlite3_reset(st);
			if (ext == SQLITE_CONSTRAINT_FOREIGNKEY)
				err_set(e, ERR_NOTFOUND, "%s is not a contact", name);
			return -1;
		}
		sqlite3_reset(st);
	}
	return 0;
}

int
contacts_device_remove(struct db *db, const char *name, int32_t device_id, struct err *e)
{
	sqlite3_stmt *st;

	st = db_prepare(db, "DELETE FROM contact_devices WHERE name = ? AND device_id = ?", e);
	if (st == NULL)
		return -1;
	db_bind_text(st, 1, name);
	sqlite3_bind_int(st, 2, device_id);
	return db_step_done(db, st, "removing a device", e);
}

int
contacts_devices(struct db *db, const char *name, struct contacts_device **out, size_t *n,
                 struct err *e)
{
	struct contacts_device *list = NULL;
	size_t len = 0;
	sqlite3_stmt *st;
	int rc;

	*out = NULL;
	*n = 0;
	st = db_prepare(db,
	                "SELECT device_id, registration_id, updated_at FROM contact_devices"
	                " WHERE name = ? ORDER BY device_id",
	                e);
	if (st == NULL)
		return -1;
	db_bind_text(st, 1, name);
	while ((rc = db_step_row(db, st, "listing devices", e)) == 1) {
		list = xreallocarray(list, len + 1, sizeof *list);
		list[len].device_id = sqlite3_column_int(st, 0);
		list[len].registration_id = (uint32_t)sqlite3_column_int64(st, 1);
		list[len].updated_at = sqlite3_column_int64(st, 2);
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

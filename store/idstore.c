/* Identity keys and the trust-on-first-use policy (see idstore.h), plus
 * libsignal's identity key store callbacks on top of them. */
#include "store/idstore.h"

#include <stdlib.h>
#include <string.h>

#include "store/sigstore.h"

int
idstore_set_local(struct db *db, const void *pub, size_t pub_len, const void *priv, size_t priv_len,
                  uint32_t registration_id, struct err *e)
{
	sqlite3_stmt *st;

	st = db_prepare(db,
	                "INSERT OR REPLACE INTO local_identity"
	                " (id, public_key, private_key, registration_id, created_at)"
	                " VALUES (1, ?, ?, ?, ?)",
	                e);
	if (st == NULL)
		return -1;
	db_bind_blob(st, 1, pub, pub_len);
	db_bind_blob(st, 2, priv, priv_len);
	sqlite3_bind_int64(st, 3, registration_id);
	sqlite3_bind_int64(st, 4, db_now_ms(db));
	return db_step_done(db, st, "storing our identity", e);
}

int
idstore_get_local(struct db *db, unsigned char **pub, size_t *pub_len, unsigned char **priv,
                  size_t *priv_len, uint32_t *registration_id, struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	st = db_prepare(db,
	                "SELECT public_key, private_key, registration_id FROM local_identity"
	                " WHERE id = 1",
	                e);
	if (st == NULL)
		return -1;
	rc = db_step_row(db, st, "reading our identity", e);
	if (rc <= 0)
		return rc < 0 ? -1 : err_set(e, ERR_NOTFOUND, "this profile has no identity yet");
	if (pub != NULL) {
		*pub_len = (size_t)sqlite3_column_bytes(st, 0);
		*pub = xmemdup(sqlite3_column_blob(st, 0), *pub_len);
	}
	if (priv != NULL) {
		*priv_len = (size_t)sqlite3_column_bytes(st, 1);
		*priv = xmemdup(sqlite3_column_blob(st, 1), *priv_len);
	}
	if (registration_id != NULL)
		*registration_id = (uint32_t)sqlite3_column_int64(st, 2);
	sqlite3_reset(st);
	return 0;
}

/* The stored row of (name, device): 1 found (key may be NULL: forgotten),
 * 0 absent, -1 error. *key is the caller's. */
static int
idstore_lookup(struct db *db, const char *name, size_t name_len, int32_t device_id,
               unsigned char **key, size_t *key_len, bool *verified, struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	*key = NULL;
	*key_len = 0;
	*verified = false;
	st = db_prepare(db,
	                "SELECT identity_key, verified FROM identities"
	                " WHERE name = ? AND device_id = ?",
	                e);
	if (st == NULL)
		return -1;
	db_bind_textn(st, 1, name, name_len);
	sqlite3_bind_int(st, 2, device_id);
	rc = db_step_row(db, st, "reading an identity", e);
	if (rc <= 0)
		return rc;
	if (sqlite3_column_type(st, 0) != SQLITE_NULL) {
		*key_len = (size_t)sqlite3_column_bytes(st, 0);
		*key = xmemdup(sqlite3_column_blob(st, 0), *key_len);
	}
	*verified = sqlite3_column_int(st, 1) != 0;
	sqlite3_reset(st);
	return 1;
}

static bool
idstore_same_key(const unsigned char *a, size_t a_len, const void *b, size_t b_len)
{
	return a != NULL && a_len == b_len && memcmp(a, b, a_len) == 0;
}

/* A device of name we hold no key for. Every device of an account
 * presents the account's identity key, so when the user verified name, a
 * new device with another key is what a relay adding a device of its own
 * would look like: refused like a changed verified key, until trusted.
 * With the verified key, or with none verified, it is trusted on first use. */
static int
idstore_check_new_device(struct db *db, const char *name, size_t name_len, int32_t device_id,
                         const void *key, size_t key_len, enum idstore_trust *out, struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	*out = IDSTORE_UNKNOWN;
	st = db_prepare(db,
	                "SELECT count(*), coalesce(max(identity_key = ?3), 0) FROM identities"
	                " WHERE name = ?1 AND device_id != ?2 AND verified = 1"
	                " AND identity_key IS NOT NULL",
	                e);
	if (st == NULL)
		return -1;
	db_bind_textn(st, 1, name, name_len);
	sqlite3_bind_int(st, 2, device_id);
	db_bind_blob(st, 3, key, key_len);
	rc = db_step_row(db, st, "checking a new device", e);
	if (rc < 0)
		return -1;
	if (rc == 1 && sqlite3_column_int(st, 0) > 0 && sqlite3_column_int(st, 1) == 0)
		*out = IDSTORE_UNTRUSTED;
	sqlite3_reset(st);
	return 0;
}

static int
idstore_check_n(struct db *db, const char *name, size_t name_len, int32_t device_id,
                const void *key, size_t key_len, enum idstore_trust *out, struct err *e)
{
	unsigned char *old = NULL;
	size_t old_len = 0;
	bool verified = false;
	int rc;

	rc = idstore_lookup(db, name, name_len, device_id, &old, &old_len, &verified, e);
	if (rc < 0)
		return -1;
	if (rc == 0 || old == NULL)
		rc = idstore_check_new_device(db, name, name_len, device_id, key, key_len, out, e);
	else if (idstore_same_key(old, old_len, key, key_len))
		*out = IDSTORE_SAME;
	else
		*out = verified ? IDSTORE_UNTRUSTED : IDSTORE_CHANGED;
	free(old);
	return rc < 0 ? -1 : 0;
}

int
idstore_check(struct db *db, const char *name, int32_t device_id, const void *key, size_t key_len,
              enum idstore_trust *out, struct err *e)
{
	return idstore_check_n(db, name, strlen(name), device_id, key, key_len, out, e);
}

static int
idstore_record_change(struct db *db, const char *name, size_t name_len, int32_t device_id,
                      const unsigned char *old, size_t old_len, const void *key, size_t key_len,
                      bool was_verified, int64_t now, struct err *e)
{
	sqlite3_stmt *st;

	st = db_prepare(db,
	                "INSERT INTO identity_changes"
	                " (name, device_id, old_key, new_key, was_verified, changed_at)"
	                " VALUES (?, ?, ?, ?, ?, ?)",
	                e);
	if (st == NULL)
		return -1;
	db_bind_textn(st, 1, name, name_len);
	sqlite3_bind_int(st, 2, device_id);
	db_bind_blob(st, 3, old, old_len);
	db_bind_blob(st, 4, key, key_len);
	sqlite3_bind_int(st, 5, was_verified);
	sqlite3_bind_int64(st, 6, now);
	return db_step_done(db, st, "recording an identity change", e);
}

static int
idstore_write(struct db *db, const char *name, size_t name_len, int32_t device_id, const void *key,
              size_t key_len, bool changed, int64_t now, struct err *e)
{
	sqlite3_stmt *st;

	/* INSERT OR REPLACE would lose first_seen; two statements keep it. */
	st = db_prepare(db,
	                "INSERT OR IGNORE INTO identities"
	                " (name, device_id, identity_key, verified, first_seen)"
	                " VALUES (?, ?, ?, 0, ?)",
	                e);
	if (st == NULL)
		return -1;
	db_bind_textn(st, 1, name, name_len);
	sqlite3_bind_int(st, 2, device_id);
	db_bind_blob(st, 3, key, key_len);
	sqlite3_bind_int64(st, 4, now);
	if (db_step_done(db, st, "storing an identity", e) != 0)
		return -1;
	/* A key the user verified on another device of name stays verified
	 * here: it is the same key. */
	st = db_prepare(db,
	                "UPDATE identities SET identity_key = ?1,"
	                " verified = EXISTS (SELECT 1 FROM identities AS o WHERE o.name = ?4"
	                " AND o.device_id != ?5 AND o.verified = 1 AND o.identity_key = ?1),"
	                " changed_at = CASE WHEN ?2 THEN ?3 ELSE changed_at END"
	                " WHERE name = ?4 AND device_id = ?5",
	                e);
	if (st == NULL)
		return -1;
	db_bind_blob(st, 1, key, key_len);
	sqlite3_bind_int(st, 2, changed);
	sqlite3_bind_int64(st, 3, now);
	db_bind_textn(st, 4, name, name_len);
	sqlite3_bind_int(st, 5, device_id);
	return db_step_done(db, st, "storing an identity", e);
}

static int
idstore_save_n(struct db *db, const char *name, size_t name_len, int32_t device_id, const void *key,
               size_t key_len, struct err *e)
{
	unsigned char *old = NULL;
	size_t old_len = 0;
	bool verified = false, changed;
	int64_t now = db_now_ms(db);
	int rc;

	if (db_begin(db, e) != 0)
		return -1;
	rc = idstore_lookup(db, name, name_len, device_id, &old, &old_len, &verified, e);
	if (rc < 0)
		goto fail;
	if ((rc == 1 && idstore_same_key(old, old_len, key, key_len)) || (rc == 0 && key == NULL)) {
		free(old);
		return db_commit(db, e);
	}
	/* Forgetting a key is not a change to warn about, and a forgotten
	 * key coming back is a fresh first use: libsignal asked for both. */
	changed = rc == 1 && old != NULL && key != NULL;
	if (changed && idstore_record_change(db, name, name_len, device_id, old, old_len, key,
	                                     key_len, verified, now, e) != 0)
		goto fail;
	if (idstore_write(db, name, name_len, device_id, key, key_len, changed, now, e) != 0)
		goto fail;
	free(old);
	return db_commit(db, e);
fail:
	free(old);
	db_rollback(db, NULL);
	return -1;
}

int
idstore_save(struct db *db, const char *name, int32_t device_id, const void *key, size_t key_len,
             struct err *e)
{
	return idstore_save_n(db, name, strlen(name), device_id, key, key_len, e);
}

int
idstore_get(struct db *db, const char *name, int32_t device_id, unsigned char **key,
            size_t *key_len, bool *verified, struct err *e)
{
	int rc = idstore_lookup(db, name, strlen(name), device_id, key, key_len, verified, e);

	if (rc < 0)
		return -1;
	if (rc == 0 || *key == NULL)
		return err_set(e, ERR_NOTFOUND, "no identity key for %s device %d", name,
		               (int)device_id);
	return 0;
}

int
idstore_set_verified(struct db *db, const char *name, const void *key, size_t key_len,
                     bool verified, struct err *e)
{
	sqlite3_stmt *st;

	st = db_prepare(
	    db, "UPDATE identities SET verified = ? WHERE name = ? AND identity_key = ?", e);
	if (st == NULL)
		return -1;
	sqlite3_bind_int(st, 1, verified);
	db_bind_text(st, 2, name);
	db_bind_blob(st, 3, key, key_len);
	if (db_step_done(db, st, "marking an identity verified", e) != 0)
		return -1;
	if (db_changes(db) == 0)
		return err_set(e, ERR_NOTFOUND, "%s has no device with that identity key", name);
	return 0;
}

int
idstore_name_verified(struct db *db, const char *name, bool *out, struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	st = db_prepare(db,
	                "SELECT count(*), coalesce(min(verified), 0) FROM identities"
	                " WHERE name = ? AND identity_key IS NOT NULL",
	                e);
	if (st == NULL)
		return -1;
	db_bind_text(st, 1, name);
	rc = db_step_row(db, st, "reading verification", e);
	if (rc < 0)
		return -1;
	*out = rc == 1 && sqlite3_column_int64(st, 0) > 0 && sqlite3_column_int(st, 1) != 0;
	if (rc == 1)
		sqlite3_reset(st);
	return 0;
}

static unsigned char *
idstore_column_blob(sqlite3_stmt *st, int col, size_t *len)
{
	*len = 0;
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return NULL;
	*len = (size_t)sqlite3_column_bytes(st, col);
	return xmemdup(sqlite3_column_blob(st, col), *len);
}

int
idstore_changes_pending(struct db *db, struct idstore_change **out, size_t *n, struct err *e)
{
	struct idstore_change *list = NULL;
	size_t len = 0;
	sqlite3_stmt *st;
	int rc;

	*out = NULL;
	*n = 0;
	st = db_prepare(db,
	                "SELECT id, name, device_id, old_key, new_key, was_verified, changed_at"
	                " FROM identity_changes WHERE pending = 1 ORDER BY id",
	                e);
	if (st == NULL)
		return -1;
	while ((rc = db_step_row(db, st, "reading identity changes", e)) == 1) {
		struct idstore_change *c;

		list = xreallocarray(list, len + 1, sizeof *list);
		c = &list[len++];
		c->id = sqlite3_column_int64(st, 0);
		c->name = db_column_strdup(st, 1);
		c->device_id = sqlite3_column_int(st, 2);
		c->old_key = idstore_column_blob(st, 3, &c->old_len);
		c->new_key = idstore_column_blob(st, 4, &c->new_len);
		c->was_verified = sqlite3_column_int(st, 5) != 0;
		c->changed_at = sqlite3_column_int64(st, 6);
	}
	if (rc < 0) {
		idstore_changes_free(list, len);
		return -1;
	}
	*out = list;
	*n = len;
	return 0;
}

void
idstore_changes_free(struct idstore_change *changes, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(changes[i].name);
		free(changes[i].old_key);
		free(changes[i].new_key);
	}
	free(changes);
}

int
idstore_changes_clear(struct db *db, int64_t up_to, struct err *e)
{
	sqlite3_stmt *st;

	st = db_prepare(db, "UPDATE identity_changes SET pending = 0 WHERE pending = 1 AND id <= ?",
	                e);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, up_to);
	return db_step_done(db, st, "clearing identity changes", e);
}

/* --- libsignal callbacks ----------------------------------------------- */

static int
idstore_cb_get_key_pair(signal_buffer **public_data, signal_buffer **private_data, void *user_data)
{
	unsigned char *pub, *priv;
	size_t pub_len, priv_len;
	struct err e;

	if (idstore_get_local(user_data, &pub, &pub_len, &priv, &priv_len, NULL, &e) != 0)
		return e.code == ERR_NOTFOUND ? SIGSTORE_ERR_NO_IDENTITY : sigstore_sg_code(&e);
	*public_data = signal_buffer_create(pub, pub_len);
	*private_data = signal_buffer_create(priv, priv_len);
	free(pub);
	wipe_free(priv, priv_len);
	if (*public_data == NULL || *private_data == NULL) {
		signal_buffer_free(*public_data);
		signal_buffer_bzero_free(*private_data);
		*public_data = *private_data = NULL;
		return SG_ERR_NOMEM;
	}
	return 0;
}

static int
idstore_cb_get_registration_id(void *user_data, uint32_t *registration_id)
{
	struct err e;

	if (idstore_get_local(user_data, NULL, NULL, NULL, NULL, registration_id, &e) != 0)
		return e.code == ERR_NOTFOUND ? SIGSTORE_ERR_NO_IDENTITY : sigstore_sg_code(&e);
	return 0;
}

static int
idstore_cb_save(const signal_protocol_address *address, uint8_t *key_data, size_t key_len,
                void *user_data)
{
	struct err e;

	if (idstore_save_n(user_data, address->name, address->name_len, address->device_id,
	                   key_data, key_len, &e) != 0)
		return sigstore_sg_code(&e);
	return 0;
}

static int
idstore_cb_is_trusted(const signal_protocol_address *address, uint8_t *key_data, size_t key_len,
                      void *user_data)
{
	enum idstore_trust trust;
	struct err e;

	if (idstore_check_n(user_data, address->name, address->name_len, address->device_id,
	                    key_data, key_len, &trust, &e) != 0)
		return sigstore_sg_code(&e);
	return trust != IDSTORE_UNTRUSTED;
}

void
idstore_callbacks(struct db *db, signal_protocol_identity_key_store *out)
{
	memset(out, 0, sizeof *out);
	out->get_identity_key_pair = idstore_cb_get_key_pair;
	out->get_local_registration_id = idstore_cb_get_registration_id;
	out->save_identity = idstore_cb_save;
	out->is_trusted_identity = idstore_cb_is_trusted;
	out->user_data = db;
}

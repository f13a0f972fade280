/* Prekeys: each device's signed prekey and its one-time prekeys, uploaded
 * all-or-nothing and handed out one per bundle fetch, never twice. */
#include "relay/rstore_db.h"

#include <stdlib.h>
#include <string.h>

int
rstore_prekey_check_signed(const struct rstore_signed_prekey *spk, struct err *e)
{
	if (spk->key_id > RSTORE_KEY_ID_MAX || spk->pub[0] != 0x05)
		return err_set(e, ERR_INVALID, "bad signed prekey");
	return 0;
}

int
rstore_prekey_write_signed(struct rstore *s, int64_t acct, uint32_t device_id,
                           const struct rstore_signed_prekey *spk, struct err *e)
{
	sqlite3_stmt *st = rstore_db_stmt(s, STMT_SPK_SET);

	sqlite3_bind_int64(st, 1, acct);
	sqlite3_bind_int64(st, 2, device_id);
	sqlite3_bind_int64(st, 3, spk->key_id);
	sqlite3_bind_blob(st, 4, spk->pub, RSTORE_KEY_LEN, SQLITE_STATIC);
	sqlite3_bind_blob(st, 5, spk->sig, RSTORE_SIG_LEN, SQLITE_STATIC);
	if (rstore_db_exec(s, st, e, "storing signed prekey") < 0)
		return -1;
	if (sqlite3_changes(s->db) == 0)
		return err_set(e, ERR_NOTFOUND, "no device %u", device_id);
	return 0;
}

int
rstore_prekey_set_signed(struct rstore *s, const char *account, uint32_t device_id,
                         const struct rstore_signed_prekey *spk, struct err *e)
{
	struct rstore_txn t;
	int64_t acct;

	if (rstore_db_check_device_id(device_id, e) < 0 || rstore_prekey_check_signed(spk, e) < 0)
		return -1;
	if (rstore_db_begin(s, &t, e) < 0)
		return -1;
	if (rstore_db_account_id(s, account, &acct, e) < 0 ||
	    rstore_prekey_write_signed(s, acct, device_id, spk, e) < 0) {
		rstore_db_abort(s, &t);
		return -1;
	}
	return rstore_db_commit(s, &t, e);
}

static int
rstore_prekey_id_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/* Reject bad keys and ids repeated within the upload before touching the
 * database. */
static int
rstore_prekey_validate(const struct rstore_prekey *keys, size_t n, struct err *e)
{
	uint32_t *ids;
	size_t i;
	int rc = 0;

	for (i = 0; i < n; i++)
		if (keys[i].key_id > RSTORE_KEY_ID_MAX || keys[i].pub[0] != 0x05)
			return err_set(e, ERR_INVALID, "bad one-time prekey %u", keys[i].key_id);
	ids = xcalloc(n, sizeof *ids);
	for (i = 0; i < n; i++)
		ids[i] = keys[i].key_id;
	qsort(ids, n, sizeof *ids, rstore_prekey_id_cmp);
	for (i = 1; i < n && rc == 0; i++)
		if (ids[i] == ids[i - 1])
			rc = err_set(e, ERR_EXISTS, "prekey id %u given twice", ids[i]);
	free(ids);
	return rc;
}

static int
rstore_prekey_count_id(struct rstore *s, int64_t acct, uint32_t device_id, size_t *count,
                       struct err *e)
{
	sqlite3_stmt *st = rstore_db_stmt(s, STMT_PREKEY_COUNT);
	int rc;

	sqlite3_bind_int64(st, 1, acct);
	sqlite3_bind_int64(st, 2, device_id);
	rc = rstore_db_step(s, st, e, "counting prekeys");
	if (rc < 0)
		return -1;
	*count = rc == 1 ? (size_t)sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	return 0;
}

int
rstore_prekey_add(struct rstore *s, const char *account, uint32_t device_id,
                  const struct rstore_prekey *keys, size_t n, struct err *e)
{
	struct rstore_txn t;
	sqlite3_stmt *st;
	int64_t acct;
	size_t count, i;

	if (n > (size_t)s->opt.max_prekeys)
		return err_set(e, ERR_LIMIT, "at most %lld one-time prekeys per device",
		               (long long)s->opt.max_prekeys);
	if (rstore_prekey_validate(keys, n, e) < 0)
		return -1;
	if (rstore_db_begin(s, &t, e) < 0)
		return -1;
	if (rstore_db_account_id(s, account, &acct, e) < 0 ||
	    rstore_db_device_get(s, acct, device_id, NULL, NULL, e) < 0 ||
	    rstore_prekey_count_id(s, acct, device_id, &count, e) < 0)
		goto fail;
	if (count + n > (size_t)s->opt.max_prekeys) {
		err_set(e, ERR_LIMIT, "device has %zu one-time prekeys; at most %lld", count,
		        (long long)s->opt.max_prekeys);
		goto fail;
	}
	for (i = 0; i < n; i++) {
		st = rstore_db_stmt(s, STMT_PREKEY_INSERT);
		sqlite3_bind_int64(st, 1, acct);
		sqlite3_bind_int64(st, 2, device_id);
		sqlite3_bind_int64(st, 3, keys[i].key_id);
		sqlite3_bind_blob(st, 4, keys[i].pub, RSTORE_KEY_LEN, SQLITE_STATIC);
		if (rstore_db_exec(s, st, e, "storing prekey") < 0) {
			if (e != NULL && e->code == ERR_EXISTS)
				err_set(e, ERR_EXISTS, "prekey id %u is already stored",
				        keys[i].key_id);
			goto fail;
		}
	}
	return rstore_db_commit(s, &t, e);
fail:
	rstore_db_abort(s, &t);
	return -1;
}

int
rstore_prekey_count(struct rstore *s, const char *account, uint32_t device_id, size_t *count,
                    struct err *e)
{
	int64_t acct;

	if (rstore_db_account_id(s, account, &acct, e) < 0 ||
	    rstore_db_device_get(s, acct, device_id, NULL, NULL, e) < 0)
		return -1;
	return rstore_prekey_count_id(s, acct, device_id, count, e);
}

/* Fill b for (acct, device_id) and take one one-time prekey. Runs inside
 * the caller's transaction. */
static int
rstore_prekey_take_id(struct rstore *s, int64_t acct, uint32_t device_id, struct rstore_bundle *b,
                      struct err *e)
{
	sqlite3_stmt *st = rstore_db_stmt(s, STMT_BUNDLE_GET);
	int rc;

	memset(b, 0, sizeof *b);
	sqlite3_bind_int64(st, 1, acct);
	sqlite3_bind_int64(st, 2, device_id);
	rc = rstore_db_step(s, st, e, "reading bundle");
	if (rc < 0)
		return -1;
	if (rc == 0)
		return err_set(e, ERR_NOTFOUND, "no device %u", device_id);
	if (sqlite3_column_type(st, 2) == SQLITE_NULL) {
		sqlite3_reset(st);
		return err_set(e, ERR_NOTFOUND, "device %u has no signed prekey", device_id);
	}
	b->device_id = device_id;
	b->registration_id = (uint32_t)sqlite3_column_int64(st, 0);
	b->signed_prekey_id = (uint32_t)sqlite3_column_int64(st, 1);
	rc = rstore_db_column_fixed(s, st, 2, b->signed_prekey, RSTORE_KEY_LEN, e);
	if (rc == 0)
		rc = rstore_db_column_fixed(s, st, 3, b->signed_prekey_sig, RSTORE_SIG_LEN, e);
	if (rc == 0)
		rc = rstore_db_column_fixed(s, st, 4, b->identity_key, RSTORE_KEY_LEN, e);
	sqlite3_reset(st);
	if (rc < 0)
		return -1;
	st = rstore_db_stmt(s, STMT_PREKEY_TAKE);
	sqlite3_bind_int64(st, 1, acct);
	sqlite3_bind_int64(st, 2, device_id);
	rc = rstore_db_step(s, st, e, "taking prekey");
	if (rc < 0)
		return -1;
	if (rc == 1) {
		b->has_prekey = 1;
		b->prekey_id = (uint32_t)sqlite3_column_int64(st, 0);
		if (rstore_db_column_fixed(s, st, 1, b->prekey, RSTORE_KEY_LEN, e) < 0) {
			sqlite3_reset(st);
			return -1;
		}
		/* Run the DELETE to completion before anything else. */
		if (rstore_db_step(s, st, e, "taking prekey") != 0)
			return err_set(e, ERR_INTERNAL, "taking prekey: more than one row");
	}
	return 0;
}

int
rstore_prekey_take(struct rstore *s, const char *account, uint32_t device_id,
                   struct rstore_bundle *out, struct err *e)
{
	struct rstore_txn t;
	int64_t acct;

	if (rstore_db_check_device_id(device_id, e) < 0)
		return -1;
	if (rstore_db_begin(s, &t, e) < 0)
		return -1;
	if (rstore_db_account_id(s, account, &acct, e) < 0 ||
	    rstore_prekey_take_id(s, acct, device_id, out, e) < 0) {
		rstore_db_abort(s, &t);
		return -1;
	}
	return rstore_db_commit(s, &t, e);
}

int
rstore_prekey_take_all(struct rstore *s, const char *account, uint32_t skip_device,
                       struct rstore_bundle **out, size_t *n, struct err *e)
{
	struct rstore_bundle *v = NULL;
	uint32_t *ids = NULL;
	size_t len = 0, i;
	struct rstore_txn t;
	sqlite3_stmt *st;
	int64_t acct;
	int rc;

	*out = NULL;
	*n = 0;
	if (rstore_db_begin(s, &t, e) < 0)
		return -1;
	if (rstore_db_account_id(s, account, &acct, e) < 0)
		goto fail;
	st = rstore_db_stmt(s, STMT_BUNDLE_DEVICES);
	sqlite3_bind_int64(st, 1, acct);
	while ((rc = rstore_db_step(s, st, e, "listing devices")) == 1) {
		uint32_t id = (uint32_t)sqlite3_column_int64(st, 0);
		if (id == skip_device)
			continue;
		ids = xreallocarray(ids, len + 1, sizeof *ids);
		ids[len++] = id;
	}
	if (rc < 0)
		goto fail;
	if (len > 0)
		v = xcalloc(len, sizeof *v);
	for (i = 0; i < len; i++)
		if (rstore_prekey_take_id(s, acct, ids[i], &v[i], e) < 0)
			goto fail;
	if (rstore_db_commit(s, &t, e) < 0) {
		free(v);
		free(ids);
		return -1;
	}
	free(ids);
	*out = v;
	*n = len;
	return 0;
fail:
	rstore_db_abort(s, &t);
	free(v);
	free(ids);
	return -1;
}

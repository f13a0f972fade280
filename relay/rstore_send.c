/* Idempotent sends: the result of a send request is recorded under the
 * client-chosen message id, so a retry after a crash or a lost answer gets
 * the original answer instead of queueing the message twice. */
#include "relay/rstore_db.h"

#include <string.h>

static int
rstore_send_check_id(const char *client_id, struct err *e)
{
	size_t len;

	if (client_id == NULL)
		return err_set(e, ERR_INVALID, "no client message id");
	len = strnlen(client_id, RSTORE_CLIENT_ID_MAX + 1);
	if (len == 0 || len > RSTORE_CLIENT_ID_MAX)
		return err_set(e, ERR_INVALID, "client message id must be 1..%d bytes",
		               RSTORE_CLIENT_ID_MAX);
	return 0;
}

int
rstore_send_lookup(struct rstore *s, const char *sender, uint32_t sender_device,
                   const char *client_id, uint8_t **result, size_t *len, struct err *e)
{
	sqlite3_stmt *st;
	int64_t acct;
	int rc;

	*result = NULL;
	*len = 0;
	if (rstore_send_check_id(client_id, e) < 0 ||
	    rstore_db_check_device_id(sender_device, e) < 0 ||
	    rstore_db_account_id(s, sender, &acct, e) < 0)
		return -1;
	st = rstore_db_stmt(s, STMT_SEND_LOOKUP);
	sqlite3_bind_int64(st, 1, acct);
	sqlite3_bind_int64(st, 2, sender_device);
	sqlite3_bind_text(st, 3, client_id, -1, SQLITE_STATIC);
	rc = rstore_db_step(s, st, e, "looking up send");
	if (rc < 0)
		return -1;
	if (rc == 0)
		return err_set(e, ERR_NOTFOUND, "no send recorded for '%s'", client_id);
	*len = (size_t)sqlite3_column_bytes(st, 0);
	*result = xmemdup(sqlite3_column_blob(st, 0), *len);
	sqlite3_reset(st);
	return 0;
}

int
rstore_send_record(struct rstore *s, const char *sender, uint32_t sender_device,
                   const char *client_id, const void *result, size_t len, struct err *e)
{
	static const uint8_t empty;
	struct rstore_txn t;
	sqlite3_stmt *st;
	int64_t acct;

	if (rstore_send_check_id(client_id, e) < 0 ||
	    rstore_db_check_device_id(sender_device, e) < 0)
		return -1;
	if (len > RSTORE_RESULT_MAX)
		return err_set(e, ERR_TOOLARGE, "send result is %zu bytes; at most %d", len,
		               RSTORE_RESULT_MAX);
	if (rstore_db_begin(s, &t, e) < 0)
		return -1;
	if (rstore_db_account_id(s, sender, &acct, e) < 0)
		goto fail;
	st = rstore_db_stmt(s, STMT_SEND_INSERT);
	sqlite3_bind_int64(st, 1, acct);
	sqlite3_bind_int64(st, 2, sender_device);
	sqlite3_bind_text(st, 3, client_id, -1, SQLITE_STATIC);
	/* A zero-length blob must not be bound as NULL (the column is NOT NULL). */
	sqlite3_bind_blob(st, 4, len ? result : &empty, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, rstore_db_now(s));
	if (rstore_db_exec(s, st, e, "recording send") < 0) {
		if (e != NULL && e->code == ERR_EXISTS)
			err_set(e, ERR_EXISTS, "send '%s' is already recorded", client_id);
		else if (e != NULL && e->code == ERR_NOTFOUND)
			err_set(e, ERR_NOTFOUND, "no device %u", sender_device);
		goto fail;
	}
	return rstore_db_commit(s, &t, e);
fail:
	rstore_db_abort(s, &t);
	return -1;
}

/* Accounts: registration (account + device 1 in one transaction, a taken
 * name is never taken over) and the account's public identity key. */
#include "relay/rstore_db.h"

#include <openssl/evp.h>

int
rstore_account_hash_secret(const uint8_t secret[RSTORE_SECRET_LEN], uint8_t out[32])
{
	unsigned int len = 0;

	if (EVP_Digest(secret, RSTORE_SECRET_LEN, out, &len, EVP_sha256(), NULL) != 1 || len != 32)
		return -1;
	return 0;
}

int
rstore_account_register(struct rstore *s, const char *name,
                        const uint8_t identity_key[RSTORE_KEY_LEN], uint32_t registration_id,
                        const uint8_t secret[RSTORE_SECRET_LEN],
                        const struct rstore_signed_prekey *spk, struct err *e)
{
	struct rstore_txn t;
	sqlite3_stmt *st;
	uint8_t hash[32];
	int64_t now = rstore_db_now(s), acct;

	if (rstore_db_check_name(name, e) < 0)
		return -1;
	if (identity_key[0] != 0x05)
		return err_set(e, ERR_INVALID, "identity key is not a Curve25519 public key");
	if (registration_id == 0 || registration_id > RSTORE_REG_ID_MAX)
		return err_set(e, ERR_INVALID, "registration id %u not in 1..%d", registration_id,
		               RSTORE_REG_ID_MAX);
	if (spk != NULL && rstore_prekey_check_signed(spk, e) < 0)
		return -1;
	if (rstore_account_hash_secret(secret, hash) < 0)
		return err_set(e, ERR_INTERNAL, "SHA-256 failed");
	if (rstore_db_begin(s, &t, e) < 0)
		return -1;
	st = rstore_db_stmt(s, STMT_ACCOUNT_INSERT);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, identity_key, RSTORE_KEY_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now);
	if (rstore_db_exec(s, st, e, "creating account") < 0) {
		if (e != NULL && e->code == ERR_EXISTS)
			err_set(e, ERR_EXISTS, "account '%s' already exists", name);
		goto fail;
	}
	acct = sqlite3_last_insert_rowid(s->db);
	st = rstore_db_stmt(s, STMT_DEVICE_INSERT);
	sqlite3_bind_int64(st, 1, acct);
	sqlite3_bind_int64(st, 2, 1);
	sqlite3_bind_int64(st, 3, registration_id);
	sqlite3_bind_blob(st, 4, hash, sizeof hash, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, now);
	if (rstore_db_exec(s, st, e, "creating device 1") < 0 ||
	    (spk != NULL && rstore_prekey_write_signed(s, acct, 1, spk, e) < 0))
		goto fail;
	rstore_db_forget_devices(s);
	return rstore_db_commit(s, &t, e);
fail:
	rstore_db_abort(s, &t);
	return -1;
}

int
rstore_account_identity(struct rstore *s, const char *name, uint8_t identity_key[RSTORE_KEY_LEN],
                        struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	if (rstore_db_check_name(name, e) < 0)
		return -1;
	st = rstore_db_stmt(s, STMT_ACCOUNT_IDENTITY);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = rstore_db_step(s, st, e, "reading identity key");
	if (rc < 0)
		return -1;
	if (rc == 0)
		return err_set(e, ERR_NOTFOUND, "no account '%s'", name);
	rc = rstore_db_column_fixed(s, st, 0, identity_key, RSTORE_KEY_LEN, e);
	sqlite3_reset(st);
	return rc;
}

/* The relay database's schema as a list of migrations (PRAGMA user_version
 * counts the ones applied) and the SQL of every prepared statement. */
#include "relay/rstore_db.h"

#include <stdio.h>

/* Append new migrations at the end; never edit a released one. */
static const char *const rstore_schema_migrations[] = {
    /* 1: initial schema */
    "CREATE TABLE accounts ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  identity_key BLOB NOT NULL,"
    "  next_device INTEGER NOT NULL," /* device ids are never reused */
    "  created INTEGER NOT NULL);"
    "CREATE TABLE devices ("
    "  account INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
    "  device_id INTEGER NOT NULL,"
    "  registration_id INTEGER NOT NULL,"
    "  secret_hash BLOB NOT NULL," /* SHA-256 of the device secret */
    "  created INTEGER NOT NULL,"
    "  last_seen INTEGER NOT NULL,"
    "  queue_len INTEGER NOT NULL DEFAULT 0," /* unused since migration 3 */
    "  spk_id INTEGER, spk_pub BLOB, spk_sig BLOB,"
    "  PRIMARY KEY (account, device_id)) WITHOUT ROWID;"
    "CREATE TABLE prekeys ("
    "  account INTEGER NOT NULL,"
    "  device_id INTEGER NOT NULL,"
    "  key_id INTEGER NOT NULL,"
    "  pub BLOB NOT NULL,"
    "  PRIMARY KEY (account, device_id, key_id),"
    "  FOREIGN KEY (account, device_id) REFERENCES devices(account, device_id)"
    "    ON DELETE CASCADE) WITHOUT ROWID;"
    /* AUTOINCREMENT: envelope ids are never reused, even after the newest
     * row is deleted, because clients deduplicate by them. */
    "CREATE TABLE queue ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  account INTEGER NOT NULL,"
    "  device_id INTEGER NOT NULL,"
    "  sender TEXT NOT NULL,"
    "  sender_device INTEGER NOT NULL,"
    "  sender_reg INTEGER NOT NULL,"
    "  type INTEGER NOT NULL,"
    "  ts INTEGER NOT NULL,"
    "  expires INTEGER NOT NULL,"
    "  content BLOB NOT NULL,"
    "  FOREIGN KEY (account, device_id) REFERENCES devices(account, device_id)"
    "    ON DELETE CASCADE);"
    "CREATE INDEX queue_by_device ON queue(account, device_id);"
    "CREATE INDEX queue_by_expiry ON queue(expires);"
    /* A per-device counter, so the depth limit costs no COUNT(*) over a
     * deep queue on every enqueue. */
    "CREATE TRIGGER queue_len_insert AFTER INSERT ON queue BEGIN"
    "  UPDATE devices SET queue_len = queue_len + 1"
    "  WHERE account = NEW.account AND device_id = NEW.device_id; END;"
    "CREATE TRIGGER queue_len_delete AFTER DELETE ON queue BEGIN"
    "  UPDATE devices SET queue_len = queue_len - 1"
    "  WHERE account = OLD.account AND device_id = OLD.device_id; END;"
    "CREATE TABLE sends ("
    "  account INTEGER NOT NULL,"
    "  device_id INTEGER NOT NULL,"
    "  client_id TEXT NOT NULL,"
    "  result BLOB NOT NULL,"
    "  ts INTEGER NOT NULL,"
    "  PRIMARY KEY (account, device_id, client_id),"
    "  FOREIGN KEY (account, device_id) REFERENCES devices(account, device_id)"
    "    ON DELETE CASCADE) WITHOUT ROWID;"
    "CREATE INDEX sends_by_ts ON sends(ts);"
    "CREATE TABLE blobs ("
    "  id BLOB PRIMARY KEY,"
    "  owner INTEGER NOT NULL REFERENCES accounts(id),"
    "  size INTEGER NOT NULL,"
    "  created INTEGER NOT NULL,"
    "  expires INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX blobs_by_owner ON blobs(owner);"
    "CREATE INDEX blobs_by_expiry ON blobs(expires);",
    /* 2: send records in arrival order. Keyed by the random client id,
     * every send dirtied its own page of `sends` at each commit; appended
     * by row id they share pages, and rstore_send.c finds them through
     * an index in memory. Device ids are never reused, so the records of
     * a removed device need no cascade: they expire. */
    "CREATE TABLE send_log ("
    "  id INTEGER PRIMARY KEY,"
    "  account INTEGER NOT NULL,"
    "  device_id INTEGER NOT NULL,"
    "  client_id TEXT NOT NULL,"
    "  result BLOB NOT NULL,"
    "  ts INTEGER NOT NULL);"
    "INSERT INTO send_log (account, device_id, client_id, result, ts)"
    "  SELECT account, device_id, client_id, result, ts FROM sends ORDER BY ts;"
    "DROP TABLE sends;"
    "CREATE INDEX send_log_by_ts ON send_log(ts);",
    /* 3: queue depths are counted in memory (rstore_queue.c): the
     * triggers cost an update of the device row, and its undo copy, for
     * every envelope queued or acked. */
    "DROP TRIGGER queue_len_insert;"
    "DROP TRIGGER queue_len_delete;",
};

#define RSTORE_SCHEMA_VERSION                                                                      \
	((int)(sizeof rstore_schema_migrations / sizeof rstore_schema_migrations[0]))

/* Expiry works in slices so one timer tick never stalls the event loop. */
const char *const rstore_schema_statements[STMT_COUNT] = {
    [STMT_BEGIN] = "BEGIN IMMEDIATE",
    [STMT_COMMIT] = "COMMIT",
    [STMT_ROLLBACK] = "ROLLBACK",
    [STMT_SAVEPOINT] = "SAVEPOINT rstore_op",
    [STMT_RELEASE] = "RELEASE rstore_op",
    [STMT_ROLLBACK_TO] = "ROLLBACK TO rstore_op",
    [STMT_ACCOUNT_ID] = "SELECT id FROM accounts WHERE name = ?1",
    [STMT_ACCOUNT_INSERT] = "INSERT INTO accounts (name, identity_key, next_device, created)"
                            " VALUES (?1, ?2, 2, ?3)",
    [STMT_ACCOUNT_IDENTITY] = "SELECT identity_key FROM accounts WHERE name = ?1",
    [STMT_ACCOUNT_NEXT_DEVICE] = "UPDATE accounts SET next_device = next_device + 1"
                                 " WHERE id = ?1 RETURNING next_device - 1",
    [STMT_DEVICE_INSERT] = "INSERT INTO devices (account, device_id, registration_id,"
                           " secret_hash, created, last_seen) VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
    [STMT_DEVICE_AUTH] = "SELECT d.account, d.secret_hash, d.last_seen FROM devices d"
                         " JOIN accounts a ON a.id = d.account"
                         " WHERE a.name = ?1 AND d.device_id = ?2",
    [STMT_DEVICE_TOUCH] = "UPDATE devices SET last_seen = ?3"
                          " WHERE account = ?1 AND device_id = ?2",
    [STMT_DEVICE_COUNT] = "SELECT COUNT(*) FROM devices WHERE account = ?1",
    [STMT_DEVICE_DELETE] = "DELETE FROM devices WHERE account = ?1 AND device_id = ?2",
    [STMT_DEVICE_LIST] = "SELECT device_id, registration_id, created, last_seen"
                         " FROM devices WHERE account = ?1 ORDER BY device_id",
    [STMT_DEVICE_GET] = "SELECT registration_id FROM devices"
                        " WHERE account = ?1 AND device_id = ?2",
    [STMT_SPK_SET] = "UPDATE devices SET spk_id = ?3, spk_pub = ?4, spk_sig = ?5"
                     " WHERE account = ?1 AND device_id = ?2",
    [STMT_PREKEY_INSERT] = "INSERT INTO prekeys (account, device_id, key_id, pub)"
                           " VALUES (?1, ?2, ?3, ?4)",
    [STMT_PREKEY_COUNT] = "SELECT COUNT(*) FROM prekeys WHERE account = ?1 AND device_id = ?2",
    /* One statement picks and deletes the key: nobody else can get it. */
    [STMT_PREKEY_TAKE] = "DELETE FROM prekeys WHERE account = ?1 AND device_id = ?2"
                         " AND key_id = (SELECT MIN(key_id) FROM prekeys"
                         " WHERE account = ?1 AND device_id = ?2)"
                         " RETURNING key_id, pub",
    [STMT_BUNDLE_GET] = "SELECT d.registration_id, d.spk_id, d.spk_pub, d.spk_sig,"
                        " a.identity_key FROM devices d JOIN accounts a ON a.id = d.account"
                        " WHERE d.account = ?1 AND d.device_id = ?2",
    [STMT_BUNDLE_DEVICES] = "SELECT device_id FROM devices"
                            " WHERE account = ?1 AND spk_pub IS NOT NULL ORDER BY device_id",
    [STMT_QUEUE_INSERT] = "INSERT INTO queue (account, device_id, sender, sender_device,"
                          " sender_reg, type, ts, expires, content)"
                          " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [STMT_QUEUE_FETCH] = "SELECT id, sender, sender_device, sender_reg, type, ts, content"
                         " FROM queue WHERE account = ?1 AND device_id = ?2 AND id > ?3"
                         " AND id <= ?6 AND expires > ?4 ORDER BY id LIMIT ?5",
    [STMT_QUEUE_DELETE] = "DELETE FROM queue WHERE account = ?1 AND device_id = ?2"
                          " AND id IN (SELECT value FROM json_each(?3))",
    [STMT_QUEUE_LAST] = "SELECT COALESCE(MAX(id), 0) FROM queue",
    [STMT_QUEUE_DEPTHS] = "SELECT account, device_id, COUNT(*) FROM queue"
                          " GROUP BY account, device_id",
    [STMT_QUEUE_EXPIRE] = "DELETE FROM queue WHERE id IN"
                          " (SELECT id FROM queue WHERE expires <= ?1 LIMIT ?2)"
                          " RETURNING account, device_id",
    [STMT_SEND_LOOKUP] = "SELECT result FROM send_log WHERE id = ?1 AND account = ?2"
                         " AND device_id = ?3 AND client_id = ?4",
    [STMT_SEND_INSERT] = "INSERT INTO send_log (account, device_id, client_id, result, ts)"
                         " VALUES (?1, ?2, ?3, ?4, ?5)",
    [STMT_SEND_EXPIRE] = "DELETE FROM send_log WHERE id IN"
                         " (SELECT id FROM send_log WHERE ts <= ?1 LIMIT ?2)",
    [STMT_SEND_ALL] = "SELECT id, account, device_id, client_id, ts FROM send_log",
    [STMT_BLOB_INSERT] = "INSERT INTO blobs (id, owner, size, created, expires)"
                         " VALUES (?1, ?2, ?3, ?4, ?5)",
    [STMT_BLOB_GET] = "SELECT size, expires FROM blobs WHERE id = ?1",
    [STMT_BLOB_DELETE] = "DELETE FROM blobs WHERE id = ?1 AND owner = ?2",
    [STMT_BLOB_EXPIRED] = "SELECT id FROM blobs WHERE expires <= ?1 LIMIT ?2",
    [STMT_BLOB_DELETE_ID] = "DELETE FROM blobs WHERE id = ?1",
};

static int
rstore_schema_exec(struct rstore *s, const char *sql, struct err *e, const char *what)
{
	char *msg = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		rstore_db_error(s, e, what);
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static int
rstore_schema_version(struct rstore *s, int *version, struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return rstore_db_error(s, e, "reading schema version");
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		rstore_db_error(s, e, "reading schema version");
		sqlite3_finalize(st);
		return -1;
	}
	*version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return 0;
}

int
rstore_schema_migrate(struct rstore *s, struct err *e)
{
	int version = 0, v;
	char pragma[64];

	if (rstore_schema_version(s, &version, e) < 0)
		return -1;
	if (version > RSTORE_SCHEMA_VERSION)
		return err_set(e, ERR_CORRUPT,
		               "database schema version %d is newer than this relay's (%d)",
		               version, RSTORE_SCHEMA_VERSION);
	for (v = version; v < RSTORE_SCHEMA_VERSION; v++) {
		/* Each step and its version number commit together. */
		if (rstore_schema_exec(s, "BEGIN IMMEDIATE", e, "starting migration") < 0)
			return -1;
		snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", v + 1);
		if (rstore_schema_exec(s, rstore_schema_migrations[v], e, "migrating schema") < 0 ||
		    rstore_schema_exec(s, pragma, e, "migrating schema") < 0 ||
		    rstore_schema_exec(s, "COMMIT", e, "committing migration") < 0) {
			if (!sqlite3_get_autocommit(s->db))
				sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
			return err_prefix(e, "schema version %d", v + 1);
		}
	}
	return 0;
}

/* Schema migrations. SQL here must run on SQLite 3.15.2 (SQLCipher 3.4.1):
 * no UPSERT, no window functions, no RETURNING. Each step ends by setting
 * user_version inside its own transaction. */
#include "store/schema.h"

#include <stddef.h>

struct schema_step {
	int version;
	const char *sql;
};

/* Version 1: keys and sessions for libsignal, contacts, conversations,
 * history, outbox, events. Names are keyed by (name, device id) wherever a
 * remote device is meant. */
static const char schema_v1[] =
    /* Our identity: exactly one row. */
    "CREATE TABLE local_identity ("
    " id INTEGER PRIMARY KEY CHECK (id = 1),"
    " public_key BLOB NOT NULL,"
    " private_key BLOB NOT NULL,"
    " registration_id INTEGER NOT NULL,"
    " created_at INTEGER NOT NULL);"
    /* Remote identity keys, trust on first use. identity_key is NULL
     * when libsignal asked us to forget the key but keep the row. */
    "CREATE TABLE identities ("
    " name TEXT NOT NULL,"
    " device_id INTEGER NOT NULL,"
    " identity_key BLOB,"
    " verified INTEGER NOT NULL DEFAULT 0,"
    " first_seen INTEGER NOT NULL,"
    " changed_at INTEGER,"
    " PRIMARY KEY (name, device_id)) WITHOUT ROWID;"
    /* Every key change, kept; pending until the engine has told the
     * user. */
    "CREATE TABLE identity_changes ("
    " id INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " device_id INTEGER NOT NULL,"
    " old_key BLOB,"
    " new_key BLOB,"
    " was_verified INTEGER NOT NULL,"
    " changed_at INTEGER NOT NULL,"
    " pending INTEGER NOT NULL DEFAULT 1);"
    "CREATE INDEX identity_changes_pending ON identity_changes (pending, id);"
    "CREATE TABLE prekeys ("
    " id INTEGER PRIMARY KEY,"
    " record BLOB NOT NULL,"
    " created_at INTEGER NOT NULL);"
    "CREATE TABLE signed_prekeys ("
    " id INTEGER PRIMARY KEY,"
    " record BLOB NOT NULL,"
    " created_at INTEGER NOT NULL);"
    "CREATE TABLE sessions ("
    " name TEXT NOT NULL,"
    " device_id INTEGER NOT NULL,"
    " record BLOB NOT NULL,"
    " user_record BLOB,"
    " updated_at INTEGER NOT NULL,"
    " PRIMARY KEY (name, device_id)) WITHOUT ROWID;"
    "CREATE TABLE sender_keys ("
    " group_id TEXT NOT NULL,"
    " sender_name TEXT NOT NULL,"
    " device_id INTEGER NOT NULL,"
    " record BLOB NOT NULL,"
    " user_record BLOB,"
    " updated_at INTEGER NOT NULL,"
    " PRIMARY KEY (group_id, sender_name, device_id)) WITHOUT ROWID;"
    /* Counters the crypto layer persists (next prekey id, ...). */
    "CREATE TABLE kv ("
    " key TEXT PRIMARY KEY,"
    " value) WITHOUT ROWID;"
    /* Whether a contact is verified is not stored here: it follows from
     * identities.verified, so a key change cannot leave it stale. */
    "CREATE TABLE contacts ("
    " name TEXT PRIMARY KEY,"
    " display_name TEXT,"
    " blocked INTEGER NOT NULL DEFAULT 0,"
    " created_at INTEGER NOT NULL,"
    " updated_at INTEGER NOT NULL);"
    "CREATE TABLE contact_devices ("
    " name TEXT NOT NULL REFERENCES contacts (name) ON DELETE CASCADE,"
    " device_id INTEGER NOT NULL,"
    " registration_id INTEGER NOT NULL,"
    " updated_at INTEGER NOT NULL,"
    " PRIMARY KEY (name, device_id)) WITHOUT ROWID;"
    /* kind 1: one-to-one (peer = account name); 2: group (peer = group
     * id). */
    "CREATE TABLE conversations ("
    " id INTEGER PRIMARY KEY,"
    " kind INTEGER NOT NULL CHECK (kind IN (1, 2)),"
    " peer TEXT NOT NULL,"
    " title TEXT,"
    " created_at INTEGER NOT NULL,"
    " last_activity INTEGER NOT NULL,"
    " unread INTEGER NOT NULL DEFAULT 0,"
    " timer_seconds INTEGER NOT NULL DEFAULT 0,"
    " UNIQUE (kind, peer));"
    "CREATE INDEX conversations_by_activity ON conversations (last_activity);"
    /* direction 0: in, 1: out. relay_id is the relay's id of an incoming
     * envelope: UNIQUE so a redelivery cannot insert twice. client_id is
     * the id we chose for an outgoing message. */
    "CREATE TABLE messages ("
    " id INTEGER PRIMARY KEY,"
    " conversation_id INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,"
    " direction INTEGER NOT NULL CHECK (direction IN (0, 1)),"
    " sender_name TEXT NOT NULL,"
    " sender_device INTEGER NOT NULL,"
    " relay_id TEXT UNIQUE,"
    " client_id TEXT UNIQUE,"
    " sent_at INTEGER,"
    " received_at INTEGER,"
    " server_at INTEGER,"
    " body TEXT NOT NULL,"
    " state INTEGER NOT NULL,"
    " expires_at INTEGER);"
    "CREATE INDEX messages_by_conversation ON messages (conversation_id, id);"
    "CREATE INDEX messages_by_expiry ON messages (expires_at) WHERE expires_at IS NOT NULL;"
    /* One row per (message, recipient, device): the exact ciphertext, so
     * a retry resends the same bytes. */
    "CREATE TABLE outbox ("
    " id INTEGER PRIMARY KEY,"
    " client_id TEXT NOT NULL,"
    " message_id INTEGER REFERENCES messages (id) ON DELETE SET NULL,"
    " recipient TEXT NOT NULL,"
    " device_id INTEGER NOT NULL,"
    " registration_id INTEGER NOT NULL,"
    " msg_type INTEGER NOT NULL,"
    " ciphertext BLOB NOT NULL,"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " state INTEGER NOT NULL DEFAULT 0,"
    " created_at INTEGER NOT NULL,"
    " sent_at INTEGER,"
    " UNIQUE (client_id, recipient, device_id));"
    "CREATE INDEX outbox_by_state ON outbox (state, id);"
    "CREATE INDEX outbox_by_message ON outbox (message_id);"
    /* AUTOINCREMENT: a cursor never goes back, even after pruning. */
    "CREATE TABLE events ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " type TEXT NOT NULL,"
    " payload TEXT NOT NULL,"
    " created_at INTEGER NOT NULL);"
    "PRAGMA user_version = 1;";

/* Version 2: attachments. A message may carry several; the per-file key
 * and the ciphertext digest live here, inside the encrypted database. */
static const char schema_v2[] =
    "CREATE TABLE attachments ("
    " id INTEGER PRIMARY KEY,"
    " message_id INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,"
    " blob_id TEXT,"
    " content_type TEXT,"
    " file_name TEXT,"
    " size INTEGER NOT NULL,"
    " file_key BLOB,"
    " digest BLOB,"
    " local_path TEXT,"
    " state INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX attachments_by_message ON attachments (message_id);"
    "ALTER TABLE messages ADD COLUMN attachment_count INTEGER NOT NULL DEFAULT 0;"
    "PRAGMA user_version = 2;";

/* Version 3: the incoming messages not read yet, indexed on their own.
 * Opening a conversation marks it read; with only the conversation index
 * that walked every row of a long history (100k rows: ~100 ms) to find
 * none. direction 0 is in, state 5 received (store/history.h). */
static const char schema_v3[] = "CREATE INDEX messages_unread ON messages (conversation_id, id)"
                                " WHERE direction = 0 AND state = 5;"
                                "PRAGMA user_version = 3;";

/* Version 4: the outbox holds only what the relay has not acknowledged;
 * an acked row is deleted, ciphertext and all, instead of kept as sent.
 * Its state index goes: a table of pending rows is read in order of id
 * anyway, and each index costs every send an encrypted page. (The index
 * on message_id stays: deleting a message looks its rows up.) */
static const char schema_v4[] = "DROP INDEX outbox_by_state;"
                                "DELETE FROM outbox WHERE state = 1;"
                                "PRAGMA user_version = 4;";

/* Version 5: conversations are no longer indexed by last activity. Every
 * message sent or received moved its conversation's entry in that index:
 * one more encrypted page per commit, to sort a list that holds one row
 * per conversation and is sorted in memory just as fast. */
static const char schema_v5[] = "DROP INDEX conversations_by_activity;"
                                "PRAGMA user_version = 5;";

static const struct schema_step schema_steps[] = {
    {1, schema_v1}, {2, schema_v2}, {3, schema_v3}, {4, schema_v4}, {5, schema_v5},
};

int
schema_migrate(struct db *db, int target, struct err *e)
{
	int version;

	if (target < 1 || target > SCHEMA_VERSION)
		return err_set(e, ERR_INTERNAL, "no schema version %d", target);
	if (db_user_version(db, &version, e) != 0)
		return -1;
	for (size_t i = 0; i < sizeof schema_steps / sizeof schema_steps[0]; i++) {
		const struct schema_step *step = &schema_steps[i];

		if (step->version <= version || step->version > target)
			continue;
		if (db_begin(db, e) != 0)
			return err_prefix(e, "migrating to schema %d", step->version);
		if (db_exec(db, step->sql, e) != 0) {
			db_rollback(db, NULL);
			return err_prefix(e, "migrating to schema %d", step->version);
		}
		if (db_commit(db, e) != 0)
			return err_prefix(e, "migrating to schema %d", step->version);
		version = step->version;
	}
	return 0;
}

/* Internals shared by the rstore_*.c files (not for the server): the store
 * struct, the prepared statements, transactions that nest inside a batch,
 * and the mapping of SQLite errors to err codes. */
#ifndef SOTTO_RSTORE_DB_H
#define SOTTO_RSTORE_DB_H

#include <sqlite3.h>

#include "relay/rstore.h"

/* Every statement the store runs, prepared once at open. */
enum rstore_stmt {
	STMT_BEGIN,
	STMT_COMMIT,
	STMT_ROLLBACK,
	STMT_SAVEPOINT,
	STMT_RELEASE,
	STMT_ROLLBACK_TO,
	STMT_ACCOUNT_ID,
	STMT_ACCOUNT_INSERT,
	STMT_ACCOUNT_IDENTITY,
	STMT_ACCOUNT_NEXT_DEVICE,
	STMT_DEVICE_INSERT,
	STMT_DEVICE_AUTH,
	STMT_DEVICE_TOUCH,
	STMT_DEVICE_COUNT,
	STMT_DEVICE_DELETE,
	STMT_DEVICE_LIST,
	STMT_DEVICE_GET,
	STMT_SPK_SET,
	STMT_PREKEY_INSERT,
	STMT_PREKEY_COUNT,
	STMT_PREKEY_TAKE,
	STMT_BUNDLE_GET,
	STMT_BUNDLE_DEVICES,
	STMT_QUEUE_INSERT,
	STMT_QUEUE_FETCH,
	STMT_QUEUE_DELETE,
	STMT_QUEUE_DEPTHS,
	STMT_QUEUE_LAST,
	STMT_QUEUE_EXPIRE,
	STMT_SEND_LOOKUP,
	STMT_SEND_INSERT,
	STMT_SEND_EXPIRE,
	STMT_SEND_ALL,
	STMT_BLOB_INSERT,
	STMT_BLOB_GET,
	STMT_BLOB_DELETE,
	STMT_BLOB_EXPIRED,
	STMT_BLOB_DELETE_ID,
	STMT_COUNT
};

/* Files to unlink when the enclosing transaction ends one way or the other. */
struct rstore_paths {
	char **v;
	size_t n, cap;
};

struct rstore_blob_writer;

/* Account row ids by name, so the several lookups of every send and ack
 * cost no statement. Accounts are never deleted or renamed; a row made in
 * a transaction that rolls back could be cached, so any rollback empties
 * the cache (rstore_db_forget_accounts). */
#define RSTORE_ACCOUNT_CACHE 256 /* entries, a power of two */
/* Devices found by rstore_db_device_get, for the same reason (three
 * lookups per send). Emptied with the accounts, and when a device is
 * removed. */
#define RSTORE_DEVICE_CACHE 1024 /* entries, a power of two */
struct rstore_device_slot {
	int64_t account; /* 0: empty */
	uint32_t device_id, registration_id;
};
/* Whole device lists, for the device check of every recipient of every
 * send; emptied with the devices, and when a device is added. */
#define RSTORE_LIST_CACHE 64 /* entries, a power of two */
struct rstore_list_slot {
	int64_t account; /* 0: empty */
	struct rstore_device *devs;
	size_t n;
};
struct rstore_account_slot {
	int64_t id; /* 0: empty */
	char name[RSTORE_NAME_MAX + 1];
};

/* Send records by a keyed hash of (account, device, client id): the row
 * id and time of each (rstore_send.c). Open addressing, key 0 = empty. */
struct rstore_send_slot {
	uint64_t key;
	int64_t row;
	int64_t ts;
};

struct rstore_send_index {
	struct rstore_send_slot *v;
	size_t cap, n;    /* cap: a power of two, or 0 */
	uint64_t seed[2]; /* SipHash key, random per open */
};

/* Queued envelopes per device, counted in memory (rstore_queue.c). The
 * changes made inside the open transaction are logged so that a rollback,
 * of a savepoint or of the whole batch, undoes them. */
struct rstore_depth {
	int64_t acct; /* 0: empty slot */
	uint32_t device;
	int64_t n;
};

struct rstore_depth_change {
	int64_t acct;
	uint32_t device;
	int64_t delta;
};

struct rstore_depths {
	struct rstore_depth *v;
	size_t cap, n; /* cap: a power of two, or 0 */
	struct rstore_depth_change *log;
	size_t log_n, log_cap;
};

struct rstore {
	sqlite3 *db;
	struct rstore_options opt;
	char *data_dir;                         /* NULL for in-memory without a directory */
	char *blob_dir;                         /* DATA/blobs, or NULL */
	int lock_fd;                            /* flock'ed DATA/relay.lock, or -1 */
	int wal_fd;                             /* relay.db-wal with sync_later, or -1 */
	int batch;                              /* a batch transaction is open */
	int batch_broken;                       /* SQLite rolled the batch back under us */
	struct rstore_paths unlink_on_commit;   /* deleted blobs */
	struct rstore_paths unlink_on_rollback; /* blobs whose row is not committed */
	struct rstore_blob_writer *writers;     /* unfinished uploads */
	sqlite3_stmt *stmt[STMT_COUNT];
	struct rstore_account_slot *accounts; /* RSTORE_ACCOUNT_CACHE slots */
	struct rstore_device_slot *devices;   /* RSTORE_DEVICE_CACHE slots */
	struct rstore_list_slot *lists;       /* RSTORE_LIST_CACHE slots */
	struct rstore_send_index sends;
	struct rstore_depths depths;
};

/* An operation's transaction: its own BEGIN IMMEDIATE..COMMIT outside a
 * batch, a savepoint inside one, so a failing call never spoils the batch. */
struct rstore_txn {
	int in_batch;
	size_t commit_mark, rollback_mark;
	size_t depth_mark; /* rstore_depths.log_n at the start */
};

int rstore_db_begin(struct rstore *s, struct rstore_txn *t, struct err *e);
/* Commit (or release the savepoint). On failure everything is rolled back. */
int rstore_db_commit(struct rstore *s, struct rstore_txn *t, struct err *e);
/* Undo the operation; always safe after a failed statement. */
void rstore_db_abort(struct rstore *s, struct rstore_txn *t);
/* Run the only write of a call: one statement is all-or-nothing by itself,
 * inside a batch or out (then it is its own durable transaction), so it
 * needs no savepoint, whose undo copies of every page it touches cost more
 * than the write. Reads before it need no transaction either. */
int rstore_db_exec_alone(struct rstore *s, sqlite3_stmt *st, struct err *e, const char *what);
/* Resolve the pending unlinks after the outermost transaction ended. */
void rstore_db_finish_paths(struct rstore *s, int committed);
/* Take ownership of path (malloc'ed): unlink it if the transaction commits
 * / rolls back. */
void rstore_db_unlink_on_commit(struct rstore *s, char *path);
void rstore_db_unlink_on_rollback(struct rstore *s, char *path);

/* The statement, reset and unbound, ready for binding. */
sqlite3_stmt *rstore_db_stmt(struct rstore *s, enum rstore_stmt id);
/* Step a statement that returns no rows, then reset it. */
int rstore_db_exec(struct rstore *s, sqlite3_stmt *st, struct err *e, const char *what);
/* Step once: 1 for a row, 0 for done (then reset), -1 for an error (reset,
 * e filled). */
int rstore_db_step(struct rstore *s, sqlite3_stmt *st, struct err *e, const char *what);
/* Fill e from the connection's last error, mapped to an err code. */
int rstore_db_error(struct rstore *s, struct err *e, const char *what);

int64_t rstore_db_now(const struct rstore *s);
/* Validate an account name (ERR_INVALID) and find its row id (ERR_NOTFOUND). */
void rstore_db_forget_accounts(struct rstore *s); /* and the devices */
void rstore_db_forget_devices(struct rstore *s);  /* and the lists */
int rstore_db_account_id(struct rstore *s, const char *name, int64_t *id, struct err *e);
int rstore_db_check_name(const char *name, struct err *e);
int rstore_db_check_device_id(uint32_t device_id, struct err *e);
/* Registration id of (account, device) and its queue length; ERR_NOTFOUND. */
int rstore_db_device_get(struct rstore *s, int64_t account, uint32_t device_id,
                         uint32_t *registration_id, int64_t *queue_len, struct err *e);
/* Copy a BLOB column of exactly len bytes; ERR_CORRUPT otherwise. */
int rstore_db_column_fixed(struct rstore *s, sqlite3_stmt *st, int col, void *out, size_t len,
                           struct err *e);

/* SHA-256 of a device secret: the relay keeps only this (rstore_account.c). */
int rstore_account_hash_secret(const uint8_t secret[RSTORE_SECRET_LEN], uint8_t out[32]);

/* Validate a signed prekey (ERR_INVALID), and write one for a device in
 * the current transaction (ERR_NOTFOUND if no such device). */
int rstore_prekey_check_signed(const struct rstore_signed_prekey *spk, struct err *e);
int rstore_prekey_write_signed(struct rstore *s, int64_t acct, uint32_t device_id,
                               const struct rstore_signed_prekey *spk, struct err *e);

/* Queue depths (rstore_queue.c): loaded at open, freed at close. add
 * applies a change (logged while a transaction is open); undo reverts the
 * logged changes from mark on; keep forgets the log once committed. */
int rstore_queue_depth_load(struct rstore *s, struct err *e);
void rstore_queue_depth_free(struct rstore *s);
int64_t rstore_queue_depth(struct rstore *s, int64_t acct, uint32_t device);
void rstore_queue_depth_add(struct rstore *s, int64_t acct, uint32_t device, int64_t delta);
void rstore_queue_depth_undo(struct rstore *s, size_t mark);
void rstore_queue_depth_keep(struct rstore *s);

/* The in-memory index of send records (rstore_send.c): built from the
 * table at open, freed at close; expiry drops entries of records at or
 * before cutoff_ms once their rows are deleted. */
int rstore_send_index_load(struct rstore *s, struct err *e);
void rstore_send_index_free(struct rstore *s);
void rstore_send_index_expire(struct rstore *s, int64_t cutoff_ms);

/* Schema creation and migration (rstore_schema.c). */
int rstore_schema_migrate(struct rstore *s, struct err *e);
/* SQL of each statement, indexed by enum rstore_stmt. */
extern const char *const rstore_schema_statements[STMT_COUNT];

/* Blob housekeeping used by open and close (rstore_blob.c). */
void rstore_blob_sweep(struct rstore *s);
void rstore_blob_abort_all(struct rstore *s);
/* Path of a blob's file under DATA/blobs (malloc'ed). */
char *rstore_blob_path(const struct rstore *s, const uint8_t id[RSTORE_BLOB_ID_LEN]);

#endif

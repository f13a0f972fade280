/* One profile's SQLCipher database: create/open/close in a private
 * directory under an exclusive lock, nested transactions, and a prepared
 * statement cache. Every other store/ module works through a struct db.
 *
 * Profile directory (0700): store.db (+ -wal/-shm while open), store.kdf,
 * store.key (keyfile profiles), store.lock; files 0600. */
#ifndef SOTTO_STORE_DB_H
#define SOTTO_STORE_DB_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define DB_FILE "store.db"
#define DB_LOCK_FILE "store.lock"

struct db;

struct db_config {
	const char *dir;        /* profile directory; db_create makes it */
	const char *passphrase; /* NULL: unattended profile with a key file */
	size_t passphrase_len;
	/* db_create only: Argon2id cost; both 0 mean kdf_default_cost(). */
	unsigned long long kdf_opslimit;
	size_t kdf_memlimit;
	/* Schema version to bring the database to; 0 means the current one.
	 * Only tests ask for less (to build an old database). */
	int schema_version;
};

/* Create a new profile database. An existing one is ERR_EXISTS and left
 * alone. On failure nothing of the new profile is left behind. On success
 * *out is the caller's, released with db_close(). */
int db_create(const struct db_config *cfg, struct db **out, struct err *e);

/* Open an existing profile database and migrate it to the current schema.
 * ERR_NOTFOUND: no database; ERR_BUSY: open in another process (or another
 * handle); ERR_BADKEY: wrong passphrase or key file, with nothing on disk
 * touched; ERR_CORRUPT: right key but a damaged or empty database;
 * ERR_INVALID: written by a newer sotto (left untouched). */
int db_open(const struct db_config *cfg, struct db **out, struct err *e);

/* Roll back any open transaction, finalize statements, close, unlock. NULL
 * is fine. */
void db_close(struct db *db);

/* Transactions nest: the outermost db_begin is BEGIN IMMEDIATE, inner ones
 * are savepoints, so a store callback can run inside the caller's
 * transaction and still undo only its own part. Every db_begin is paired
 * with exactly one db_commit or db_rollback. A failed outermost commit
 * rolls back. */
int db_begin(struct db *db, struct err *e);
int db_commit(struct db *db, struct err *e);
int db_rollback(struct db *db, struct err *e);
/* Nesting depth: 0 outside any transaction. */
int db_depth(const struct db *db);

/* A cached prepared statement for sql (a constant string; one statement),
 * reset with bindings cleared. It stays owned by the cache: never finalize
 * it, and reset it (db_step_* do) before preparing the same SQL again.
 * NULL with e filled on failure. */
sqlite3_stmt *db_prepare(struct db *db, const char *sql, struct err *e);

/* Step a statement that returns no rows, then reset it. 0 or -1 (e filled,
 * what names the operation for the message). */
int db_step_done(struct db *db, sqlite3_stmt *st, const char *what, struct err *e);
/* Step a query: 1 with a row ready (the caller resets when done), 0 at the
 * end (reset done), -1 on error (reset done, e filled). */
int db_step_row(struct db *db, sqlite3_stmt *st, const char *what, struct err *e);

/* Run constant SQL (possibly several statements) with no parameters. For
 * migrations and tests; never for SQL built from values. */
int db_exec(struct db *db, const char *sql, struct err *e);

/* Fill e from an SQLite result code and the connection's message; returns
 * -1. */
int db_fail(struct db *db, int rc, const char *what, struct err *e);
/* SQLITE_FULL -> ERR_NOSPACE, BUSY/LOCKED -> ERR_BUSY, CORRUPT/NOTADB ->
 * ERR_CORRUPT, CONSTRAINT -> ERR_EXISTS, I/O -> ERR_IO, TOOBIG ->
 * ERR_TOOLARGE, the rest ERR_INTERNAL. */
enum err_code db_err_code(int rc);

/* Binding and column helpers. Text/blob bindings are SQLITE_STATIC: the
 * value must outlive the step. NULL binds SQL NULL. */
int db_bind_text(sqlite3_stmt *st, int idx, const char *s);
int db_bind_textn(sqlite3_stmt *st, int idx, const char *s, size_t len);
int db_bind_blob(sqlite3_stmt *st, int idx, const void *p, size_t len);
/* xstrdup of a text column, NULL for SQL NULL. */
char *db_column_strdup(sqlite3_stmt *st, int col);

int64_t db_last_rowid(struct db *db);
int db_changes(struct db *db);

/* Milliseconds since the epoch, from the clock tests may replace. */
int64_t db_now_ms(struct db *db);
void db_set_clock(struct db *db, int64_t (*clock)(void *arg), void *arg);

/* Copy the WAL into the database file and truncate it. */
int db_checkpoint(struct db *db, struct err *e);
/* Read every page (PRAGMA quick_check): ERR_CORRUPT if any fails its HMAC
 * or the b-trees are inconsistent. Costs a full read; for diagnostics. */
int db_check(struct db *db, struct err *e);
/* PRAGMA user_version. */
int db_user_version(struct db *db, int *out, struct err *e);
/* EXPLAIN QUERY PLAN of sql, details joined by newlines; *out is the
 * caller's to free. For tests that pin down index use. */
int db_query_plan(struct db *db, const char *sql, char **out, struct err *e);

const char *db_dir(const struct db *db);
sqlite3 *db_sqlite(struct db *db);

#endif

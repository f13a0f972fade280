/* Opening and closing the relay store, group commit (batches) and expiry.
 * The data directory holds relay.db (SQLite, WAL, synchronous=FULL so a
 * commit is durable, or NORMAL and an fsync by the caller with
 * sync_later), relay.lock (one relay per directory) and blobs/. */
#include "relay/rstore_db.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define RSTORE_EXPIRE_ROWS 5000 /* rows of each kind per rstore_expire() call */
#define RSTORE_EXPIRE_BLOBS 500

void
rstore_options_default(struct rstore_options *o)
{
	memset(o, 0, sizeof *o);
	o->max_queue = RSTORE_DEFAULT_MAX_QUEUE;
	o->queue_ttl_ms = RSTORE_DEFAULT_QUEUE_TTL_MS;
	o->send_ttl_ms = RSTORE_DEFAULT_SEND_TTL_MS;
	o->max_blob = RSTORE_DEFAULT_MAX_BLOB;
	o->blob_ttl_ms = RSTORE_DEFAULT_BLOB_TTL_MS;
	o->max_content = RSTORE_DEFAULT_MAX_CONTENT;
	o->max_devices = RSTORE_DEFAULT_MAX_DEVICES;
	o->max_prekeys = RSTORE_DEFAULT_MAX_PREKEYS;
}

/* mkdir mode 0700 unless it exists; it must be a directory either way. */
static int
rstore_mkdir(const char *path, struct err *e)
{
	struct stat st;

	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return err_set(e, errno == ENOSPC ? ERR_NOSPACE : ERR_IO, "mkdir %s: %s", path,
		               strerror(errno));
	if (stat(path, &st) < 0)
		return err_set(e, ERR_IO, "stat %s: %s", path, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return err_set(e, ERR_IO, "%s is not a directory", path);
	return 0;
}

/* Create or check the data directory and take its lock: two relays on one
 * directory would hand out the same prekeys and envelope ids. */
static int
rstore_open_dir(struct rstore *s, const char *data_dir, struct err *e)
{
	char *path;

	if (rstore_mkdir(data_dir, e) < 0)
		return -1;
	s->data_dir = xstrdup(data_dir);
	path = xasprintf("%s/relay.lock", data_dir);
	s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (s->lock_fd < 0) {
		err_set(e, ERR_IO, "open %s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	if (flock(s->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		err_set(e, ERR_BUSY, "%s is in use by another sotto-relay", data_dir);
		free(path);
		return -1;
	}
	free(path);
	s->blob_dir = xasprintf("%s/blobs", data_dir);
	return rstore_mkdir(s->blob_dir, e);
}

static int
rstore_pragma(struct rstore *s, const char *sql, struct err *e)
{
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return rstore_db_error(s, e, sql);
	return 0;
}

/* Our own descriptor of relay.db-wal: an fsync through any descriptor
 * flushes the file, so another thread can sync what SQLite wrote while
 * SQLite goes on. The log exists once the schema was written, and stays
 * the same file while the database is open (a checkpoint rewinds it,
 * never replaces it). */
static int
rstore_open_wal(struct rstore *s, struct err *e)
{
	char *path = xasprintf("%s/relay.db-wal", s->data_dir);

	s->wal_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (s->wal_fd < 0) {
		err_set(e, ERR_IO, "open %s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	free(path);
	return 0;
}

int
rstore_sync_fd(const struct rstore *s)
{
	return s->wal_fd;
}

int
rstore_sync(struct rstore *s, struct err *e)
{
	if (s->wal_fd >= 0 && fdatasync(s->wal_fd) < 0)
		return err_set(e, ERR_IO, "fsync of the log: %s", strerror(errno));
	return 0;
}

static int
rstore_open_db(struct rstore *s, struct err *e)
{
	char *path = NULL;
	int fd, i;

	if (s->opt.in_memory) {
		path = xstrdup(":memory:");
	} else {
		/* Create the file ourselves so it is 0600 whatever the umask;
		 * SQLite gives the -wal and -shm files the same mode. */
		path = xasprintf("%s/relay.db", s->data_dir);
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0) {
			err_set(e, errno == ENOSPC ? ERR_NOSPACE : ERR_IO, "open %s: %s", path,
			        strerror(errno));
			free(path);
			return -1;
		}
		close(fd);
	}
	/* One thread uses the connection (the relay's fsync thread only
	 * fsyncs a descriptor): SQLite's own locking per call is waste. */
	if (sqlite3_open_v2(path, &s->db,
	                    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
	                    NULL) != SQLITE_OK) {
		err_set(e, ERR_IO, "opening %s: %s", path,
		        s->db ? sqlite3_errmsg(s->db) : "out of memory");
		free(path);
		return -1;
	}
	free(path);
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, 5000);
	/* Normal locking (not EXCLUSIVE, which would save a few fcntl calls
	 * per transaction): sotto-relay(8) tells admins to take live backups
	 * with sqlite3's .backup. */
	if (rstore_pragma(s, "PRAGMA journal_mode = WAL", e) < 0 ||
	    rstore_pragma(
	        s, s->opt.sync_later ? "PRAGMA synchronous = NORMAL" : "PRAGMA synchronous = FULL",
	        e) < 0 ||
	    /* Each call in a batch is a savepoint, whose undo pages
	     * (the sub-journal) went to a temporary file: 20 writes per
	     * message. They only live until the commit: keep them in memory. */
	    rstore_pragma(s, "PRAGMA temp_store = MEMORY", e) < 0 ||
	    rstore_pragma(s, "PRAGMA foreign_keys = ON", e) < 0 || rstore_schema_migrate(s, e) < 0)
		return -1;
	for (i = 0; i < STMT_COUNT; i++)
		if (sqlite3_prepare_v3(s->db, rstore_schema_statements[i], -1,
		                       SQLITE_PREPARE_PERSISTENT, &s->stmt[i], NULL) != SQLITE_OK)
			return rstore_db_error(s, e, "preparing statements");
	if (s->opt.sync_later && !s->opt.in_memory && rstore_open_wal(s, e) < 0)
		return -1;
	return rstore_queue_depth_load(s, e) < 0 ? -1 : rstore_send_index_load(s, e);
}

int
rstore_open(struct rstore **out, const char *data_dir, const struct rstore_options *opt,
            struct err *e)
{
	struct rstore *s = xcalloc(1, sizeof *s);

	*out = NULL;
	s->lock_fd = -1;
	s->wal_fd = -1;
	if (opt != NULL)
		s->opt = *opt;
	else
		rstore_options_default(&s->opt);
	if (!s->opt.in_memory && data_dir == NULL) {
		free(s);
		return err_set(e, ERR_INVALID, "no data directory");
	}
	if ((data_dir != NULL && rstore_open_dir(s, data_dir, e) < 0) || rstore_open_db(s, e) < 0) {
		if (data_dir != NULL)
			err_prefix(e, "%s", data_dir);
		rstore_close(s);
		return -1;
	}
	if (s->blob_dir != NULL)
		rstore_blob_sweep(s);
	*out = s;
	return 0;
}

void
rstore_close(struct rstore *s)
{
	int i;

	if (s == NULL)
		return;
	rstore_blob_abort_all(s);
	if (s->db != NULL) {
		rstore_batch_rollback(s);
		for (i = 0; i < STMT_COUNT; i++)
			sqlite3_finalize(s->stmt[i]);
		sqlite3_close(s->db);
	}
	rstore_db_finish_paths(s, 0);
	free(s->accounts);
	rstore_db_forget_devices(s);
	free(s->devices);
	free(s->lists);
	rstore_send_index_free(s);
	rstore_queue_depth_free(s);
	free(s->unlink_on_commit.v);
	free(s->unlink_on_rollback.v);
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	if (s->wal_fd >= 0)
		close(s->wal_fd);
	free(s->data_dir);
	free(s->blob_dir);
	free(s);
}

int
rstore_batch_begin(struct rstore *s, struct err *e)
{
	if (s->batch)
		return 0;
	if (rstore_db_exec(s, rstore_db_stmt(s, STMT_BEGIN), e, "begin batch") < 0)
		return -1;
	s->batch = 1;
	s->batch_broken = 0;
	return 0;
}

int
rstore_batch_commit(struct rstore *s, struct err *e)
{
	int broken = s->batch_broken;

	if (!s->batch)
		return 0;
	s->batch = 0;
	s->batch_broken = 0;
	if (broken) {
		rstore_db_forget_accounts(s);
		if (!sqlite3_get_autocommit(s->db))
			rstore_db_exec(s, rstore_db_stmt(s, STMT_ROLLBACK), NULL, "rollback");
		rstore_queue_depth_undo(s, 0);
		rstore_db_finish_paths(s, 0);
		return err_set(e, ERR_IO, "batch was rolled back after an earlier error");
	}
	if (rstore_db_exec(s, rstore_db_stmt(s, STMT_COMMIT), e, "commit batch") < 0) {
		rstore_db_forget_accounts(s);
		if (!sqlite3_get_autocommit(s->db))
			rstore_db_exec(s, rstore_db_stmt(s, STMT_ROLLBACK), NULL, "rollback");
		rstore_queue_depth_undo(s, 0);
		rstore_db_finish_paths(s, 0);
		return -1;
	}
	rstore_queue_depth_keep(s);
	rstore_db_finish_paths(s, 1);
	return 0;
}

void
rstore_batch_rollback(struct rstore *s)
{
	if (!s->batch)
		return;
	s->batch = 0;
	s->batch_broken = 0;
	rstore_db_forget_accounts(s);
	if (!sqlite3_get_autocommit(s->db))
		rstore_db_exec(s, rstore_db_stmt(s, STMT_ROLLBACK), NULL, "rollback batch");
	rstore_queue_depth_undo(s, 0);
	rstore_db_finish_paths(s, 0);
}

int
rstore_batch_is_open(const struct rstore *s)
{
	return s->batch;
}

/* Delete up to RSTORE_EXPIRE_BLOBS expired blobs; files go after commit. */
static int
rstore_expire_blobs(struct rstore *s, int64_t now, size_t *count, struct err *e)
{
	uint8_t(*ids)[RSTORE_BLOB_ID_LEN] = NULL;
	size_t n = 0, i;
	sqlite3_stmt *st = rstore_db_stmt(s, STMT_BLOB_EXPIRED);
	int rc;

	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int64(st, 2, RSTORE_EXPIRE_BLOBS);
	ids = xcalloc(RSTORE_EXPIRE_BLOBS, sizeof *ids);
	while ((rc = rstore_db_step(s, st, e, "listing expired blobs")) == 1) {
		if (sqlite3_column_bytes(st, 0) == RSTORE_BLOB_ID_LEN)
			memcpy(ids[n++], sqlite3_column_blob(st, 0), RSTORE_BLOB_ID_LEN);
	}
	for (i = 0; rc == 0 && i < n; i++) {
		st = rstore_db_stmt(s, STMT_BLOB_DELETE_ID);
		sqlite3_bind_blob(st, 1, ids[i], RSTORE_BLOB_ID_LEN, SQLITE_STATIC);
		rc = rstore_db_exec(s, st, e, "expiring blob");
		if (rc == 0 && s->blob_dir != NULL)
			rstore_db_unlink_on_commit(s, rstore_blob_path(s, ids[i]));
	}
	free(ids);
	*count = n;
	return rc;
}

int
rstore_expire(struct rstore *s, struct rstore_expired *out, struct err *e)
{
	struct rstore_expired r = {0, 0, 0, 0};
	struct rstore_txn t;
	sqlite3_stmt *st;
	int64_t now = rstore_db_now(s);
	int rc;

	if (rstore_db_begin(s, &t, e) < 0)
		return -1;
	st = rstore_db_stmt(s, STMT_QUEUE_EXPIRE);
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int64(st, 2, RSTORE_EXPIRE_ROWS);
	while ((rc = rstore_db_step(s, st, e, "expiring envelopes")) == 1) {
		rstore_queue_depth_add(s, sqlite3_column_int64(st, 0),
		                       (uint32_t)sqlite3_column_int64(st, 1), -1);
		r.envelopes++;
	}
	if (rc < 0)
		goto fail;
	st = rstore_db_stmt(s, STMT_SEND_EXPIRE);
	sqlite3_bind_int64(st, 1, now - s->opt.send_ttl_ms);
	sqlite3_bind_int64(st, 2, RSTORE_EXPIRE_ROWS);
	if (rstore_db_exec(s, st, e, "expiring send records") < 0)
		goto fail;
	r.sends = (size_t)sqlite3_changes(s->db);
	if (rstore_expire_blobs(s, now, &r.blobs, e) < 0)
		goto fail;
	if (rstore_db_commit(s, &t, e) < 0)
		return -1;
	/* Records past their time count as gone even while rows of them
	 * wait for the next slice. */
	rstore_send_index_expire(s, now - s->opt.send_ttl_ms);
	r.more = r.envelopes == RSTORE_EXPIRE_ROWS || r.sends == RSTORE_EXPIRE_ROWS ||
	         r.blobs == RSTORE_EXPIRE_BLOBS;
	if (out != NULL)
		*out = r;
	return 0;
fail:
	rstore_db_abort(s, &t);
	return -1;
}

/* Plumbing under every rstore call: statements, per-call transactions that
 * become savepoints inside a batch, files whose fate follows a commit, and
 * SQLite result codes turned into err codes. */
#include "relay/rstore_db.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int
rstore_db_error(struct rstore *s, struct err *e, const char *what)
{
	int rc = sqlite3_extended_errcode(s->db);
	enum err_code code;

	switch (rc & 0xff) {
	case SQLITE_FULL:
		code = ERR_NOSPACE;
		break;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		code = ERR_BUSY;
		break;
	case SQLITE_IOERR:
	case SQLITE_CANTOPEN:
	case SQLITE_READONLY:
	case SQLITE_PERM:
		code = ERR_IO;
		break;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		code = ERR_CORRUPT;
		break;
	case SQLITE_TOOBIG:
		code = ERR_TOOLARGE;
		break;
	case SQLITE_CONSTRAINT:
		if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE)
			code = ERR_EXISTS;
		else if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
			code = ERR_NOTFOUND;
		else
			code = ERR_INTERNAL;
		break;
	default:
		code = ERR_INTERNAL;
		break;
	}
	return err_set(e, code, "%s: %s", what, sqlite3_errmsg(s->db));
}

sqlite3_stmt *
rstore_db_stmt(struct rstore *s, enum rstore_stmt id)
{
	sqlite3_stmt *st = s->stmt[id];

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return st;
}

int
rstore_db_step(struct rstore *s, sqlite3_stmt *st, struct err *e, const char *what)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE) {
		sqlite3_reset(st);
		return 0;
	}
	rstore_db_error(s, e, what);
	sqlite3_reset(st);
	return -1;
}

int
rstore_db_exec(struct rstore *s, sqlite3_stmt *st, struct err *e, const char *what)
{
	int rc = rstore_db_step(s, st, e, what);

	if (rc == 1) {
		sqlite3_reset(st);
		return 0;
	}
	return rc;
}

static void
rstore_db_paths_push(struct rstore_paths *p, char *path)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 8;
		p->v = xreallocarray(p->v, p->cap, sizeof *p->v);
	}
	p->v[p->n++] = path;
}

/* Drop entries from index mark on, unlinking them if asked. */
static void
rstore_db_paths_truncate(struct rstore_paths *p, size_t mark, int do_unlink)
{
	while (p->n > mark) {
		char *path = p->v[--p->n];
		if (do_unlink)
			unlink(path);
		free(path);
	}
}

void
rstore_db_unlink_on_commit(struct rstore *s, char *path)
{
	rstore_db_paths_push(&s->unlink_on_commit, path);
}

void
rstore_db_unlink_on_rollback(struct rstore *s, char *path)
{
	rstore_db_paths_push(&s->unlink_on_rollback, path);
}

void
rstore_db_finish_paths(struct rstore *s, int committed)
{
	/* A file goes only once the commit that dropped its row is on disk:
	 * if that fsync fails, keeping the file is the safe side. */
	if (committed && s->unlink_on_commit.n > 0 && rstore_sync(s, NULL) < 0)
		committed = 0;
	rstore_db_paths_truncate(&s->unlink_on_commit, 0, committed);
	rstore_db_paths_truncate(&s->unlink_on_rollback, 0, !committed);
}

int
rstore_db_begin(struct rstore *s, struct rstore_txn *t, struct err *e)
{
	t->in_batch = s->batch;
	t->depth_mark = s->depths.log_n;
	t->commit_mark = s->unlink_on_commit.n;
	t->rollback_mark = s->unlink_on_rollback.n;
	if (s->batch) {
		if (s->batch_broken)
			return err_set(e, ERR_IO, "the open batch failed and was rolled back");
		return rstore_db_exec(s, rstore_db_stmt(s, STMT_SAVEPOINT), e, "savepoint");
	}
	return rstore_db_exec(s, rstore_db_stmt(s, STMT_BEGIN), e, "begin");
}

void
rstore_db_abort(struct rstore *s, struct rstore_txn *t)
{
	rstore_db_forget_accounts(s);
	if (t->in_batch && !sqlite3_get_autocommit(s->db)) {
		rstore_db_exec(s, rstore_db_stmt(s, STMT_ROLLBACK_TO), NULL, "rollback to");
		rstore_db_exec(s, rstore_db_stmt(s, STMT_RELEASE), NULL, "release");
		rstore_queue_depth_undo(s, t->depth_mark);
		rstore_db_paths_truncate(&s->unlink_on_commit, t->commit_mark, 0);
		rstore_db_paths_truncate(&s->unlink_on_rollback, t->rollback_mark, 1);
		return;
	}
	/* Outside a batch, or SQLite already rolled the whole batch back
	 * (disk full, I/O error): everything pending goes. */
	if (!sqlite3_get_autocommit(s->db))
		rstore_db_exec(s, rstore_db_stmt(s, STMT_ROLLBACK), NULL, "rollback");
	rstore_queue_depth_undo(s, 0);
	if (t->in_batch)
		s->batch_broken = 1;
	rstore_db_finish_paths(s, 0);
}

int
rstore_db_commit(struct rstore *s, struct rstore_txn *t, struct err *e)
{
	if (t->in_batch) {
		if (rstore_db_exec(s, rstore_db_stmt(s, STMT_RELEASE), e, "release") < 0) {
			rstore_db_abort(s, t);
			return -1;
		}
		return 0;
	}
	if (rstore_db_exec(s, rstore_db_stmt(s, STMT_COMMIT), e, "commit") < 0) {
		rstore_db_abort(s, t);
		return -1;
	}
	rstore_queue_depth_keep(s);
	rstore_db_finish_paths(s, 1);
	return 0;
}

int
rstore_db_exec_alone(struct rstore *s, sqlite3_stmt *st, struct err *e, const char *what)
{
	int in_batch = s->batch;

	if (in_batch && s->batch_broken) {
		sqlite3_reset(st);
		return err_set(e, ERR_IO, "the open batch failed and was rolled back");
	}
	if (rstore_db_exec(s, st, e, what) == 0)
		return 0;
	if (in_batch && sqlite3_get_autocommit(s->db)) {
		/* SQLite threw the whole batch away (disk full, I/O error). */
		s->batch_broken = 1;
		rstore_db_forget_accounts(s);
		rstore_queue_depth_undo(s, 0);
		rstore_db_finish_paths(s, 0);
	}
	return -1;
}

int64_t
rstore_db_now(const struct rstore *s)
{
	struct timespec ts;

	if (s->opt.clock_ms != NULL)
		return s->opt.clock_ms(s->opt.clock_arg);
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
rstore_db_check_name(const char *name, struct err *e)
{
	size_t len;

	if (name == NULL)
		return err_set(e, ERR_INVALID, "no account name");
	len = strnlen(name, RSTORE_NAME_MAX + 1);
	if (len == 0 || len > RSTORE_NAME_MAX)
		return err_set(e, ERR_INVALID, "account name must be 1..%d bytes", RSTORE_NAME_MAX);
	return 0;
}

int
rstore_db_check_device_id(uint32_t device_id, struct err *e)
{
	if (device_id == 0 || device_id > INT32_MAX)
		return err_set(e, ERR_INVALID, "bad device id %u", device_id);
	return 0;
}

void
rstore_db_forget_accounts(struct rstore *s)
{
	if (s->accounts != NULL)
		memset(s->accounts, 0, RSTORE_ACCOUNT_CACHE * sizeof *s->accounts);
	rstore_db_forget_devices(s);
}

void
rstore_db_forget_devices(struct rstore *s)
{
	size_t i;

	if (s->devices != NULL)
		memset(s->devices, 0, RSTORE_DEVICE_CACHE * sizeof *s->devices);
	for (i = 0; s->lists != NULL && i < RSTORE_LIST_CACHE; i++) {
		free(s->lists[i].devs);
		memset(&s->lists[i], 0, sizeof s->lists[i]);
	}
}

/* FNV-1a of the name picks the slot. */
static struct rstore_account_slot *
rstore_db_account_slot(struct rstore *s, const char *name)
{
	uint32_t h = 2166136261u;
	const unsigned char *p;

	if (s->accounts == NULL)
		s->accounts = xcalloc(RSTORE_ACCOUNT_CACHE, sizeof *s->accounts);
	for (p = (const unsigned char *)name; *p != '\0'; p++)
		h = (h ^ *p) * 16777619u;
	return &s->accounts[h & (RSTORE_ACCOUNT_CACHE - 1)];
}

int
rstore_db_account_id(struct rstore *s, const char *name, int64_t *id, struct err *e)
{
	struct rstore_account_slot *slot;
	sqlite3_stmt *st;
	int rc;

	if (rstore_db_check_name(name, e) < 0)
		return -1;
	slot = rstore_db_account_slot(s, name);
	if (slot->id != 0 && strcmp(slot->name, name) == 0) {
		*id = slot->id;
		return 0;
	}
	st = rstore_db_stmt(s, STMT_ACCOUNT_ID);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = rstore_db_step(s, st, e, "looking up account");
	if (rc < 0)
		return -1;
	if (rc == 0)
		return err_set(e, ERR_NOTFOUND, "no account '%s'", name);
	*id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	slot->id = *id;
	memcpy(slot->name, name, strlen(name) + 1);
	return 0;
}

int
rstore_db_device_get(struct rstore *s, int64_t account, uint32_t device_id,
                     uint32_t *registration_id, int64_t *queue_len, struct err *e)
{
	struct rstore_device_slot *slot;
	sqlite3_stmt *st;
	int rc;

	if (rstore_db_check_device_id(device_id, e) < 0)
		return -1;
	if (s->devices == NULL)
		s->devices = xcalloc(RSTORE_DEVICE_CACHE, sizeof *s->devices);
	slot = &s->devices[((uint64_t)account * 0x9E3779B97F4A7C15ull ^ device_id) &
	                   (RSTORE_DEVICE_CACHE - 1)];
	if (slot->account == account && slot->device_id == device_id) {
		if (registration_id)
			*registration_id = slot->registration_id;
		if (queue_len)
			*queue_len = rstore_queue_depth(s, account, device_id);
		return 0;
	}
	st = rstore_db_stmt(s, STMT_DEVICE_GET);
	sqlite3_bind_int64(st, 1, account);
	sqlite3_bind_int64(st, 2, device_id);
	rc = rstore_db_step(s, st, e, "looking up device");
	if (rc < 0)
		return -1;
	if (rc == 0)
		return err_set(e, ERR_NOTFOUND, "no device %u", device_id);
	slot->account = account;
	slot->device_id = device_id;
	slot->registration_id = (uint32_t)sqlite3_column_int64(st, 0);
	if (registration_id)
		*registration_id = slot->registration_id;
	sqlite3_reset(st);
	if (queue_len)
		*queue_len = rstore_queue_depth(s, account, device_id);
	return 0;
}

int
rstore_db_column_fixed(struct rstore *s, sqlite3_stmt *st, int col, void *out, size_t len,
                       struct err *e)
{
	const void *p = sqlite3_column_blob(st, col);

	(void)s;
	if (p == NULL || (size_t)sqlite3_column_bytes(st, col) != len)
		return err_set(e, ERR_CORRUPT, "stored key has the wrong size");
	memcpy(out, p, len);
	return 0;
}

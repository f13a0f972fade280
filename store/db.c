/* Opening, locking and keying one profile's SQLCipher database, nested
 * transactions and the prepared statement cache. The cipher settings are
 * pinned on every open so a library upgrade with new defaults cannot make
 * an existing profile unreadable. */
#define SQLITE_HAS_CODEC 1 /* declares sqlite3_key() in SQLCipher's header */
#include "store/db.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/fsutil.h"
#include "store/kdf.h"
#include "store/schema.h"

struct db_cached {
	char *sql;
	sqlite3_stmt *st;
};

struct db {
	sqlite3 *sql;
	char *dir;
	int lock_fd;
	int depth;
	bool aborted; /* SQLite rolled the whole transaction back under us */
	struct db_cached *cache;
	size_t cache_cap, cache_len;
	int64_t (*clock)(void *arg);
	void *clock_arg;
};

/* The settings SQLCipher 3.4.1 uses by default, written down so they never
 * drift: AES-256-CBC (the only cipher 3.x has; PRAGMA cipher is deprecated,
 * so we check it instead of setting it), 4096-byte pages, HMAC-SHA1 per
 * page. kdf_iter only matters for passphrase keys, and we hand over a raw
 * key, but pinning it costs nothing. */
static const char db_cipher_pragmas[] = "PRAGMA cipher_page_size = 4096;"
                                        "PRAGMA kdf_iter = 64000;"
                                        "PRAGMA fast_kdf_iter = 2;"
                                        "PRAGMA cipher_use_hmac = ON;";

/* secure_delete: freed pages are zeroed, so deleted messages and keys do not
 * linger even in encrypted form. temp_store: sorts and temporary tables stay
 * in memory, never in unencrypted temporary files. synchronous = FULL in WAL
 * mode syncs the WAL on every commit; we ack the relay right after a
 * commit, so a commit must survive a power cut, which NORMAL does not
 * promise. */
/* cache_size: 1 MiB of decrypted pages (SQLite's default is 2 MiB). The
 * engine runs all day; its hot set (sessions, the newest history pages,
 * indexes) fits, and windowed history reads never need the whole table. */
static const char db_conn_pragmas[] = "PRAGMA cache_size = -1024;"
                                      "PRAGMA secure_delete = ON;"
                                      "PRAGMA foreign_keys = ON;"
                                      "PRAGMA temp_store = MEMORY;"
                                      "PRAGMA synchronous = FULL;";

static int64_t
db_realtime_ms(void *arg)
{
	struct timespec ts;

	(void)arg;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

enum err_code
db_err_code(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_FULL:
		return ERR_NOSPACE;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return ERR_BUSY;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return ERR_CORRUPT;
	case SQLITE_CONSTRAINT:
		return ERR_EXISTS;
	case SQLITE_IOERR:
	case SQLITE_CANTOPEN:
	case SQLITE_READONLY:
	case SQLITE_PERM:
		return ERR_IO;
	case SQLITE_TOOBIG:
		return ERR_TOOLARGE;
	default:
		return ERR_INTERNAL;
	}
}

int
db_fail(struct db *db, int rc, const char *what, struct err *e)
{
	const char *msg =
	    db != NULL && db->sql != NULL ? sqlite3_errmsg(db->sql) : sqlite3_errstr(rc);
	return err_set(e, db_err_code(rc), "%s: %s", what, msg);
}

/* --- statement cache: open addressing keyed by the SQL text ------------ */

static uint64_t
db_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static struct db_cached *
db_cache_slot(struct db_cached *tab, size_t cap, const char *sql)
{
	size_t i = (size_t)db_hash(sql) & (cap - 1);

	while (tab[i].sql != NULL && strcmp(tab[i].sql, sql) != 0)
		i = (i + 1) & (cap - 1);
	return &tab[i];
}

static void
db_cache_grow(struct db *db)
{
	size_t cap = db->cache_cap ? db->cache_cap * 2 : 64;
	struct db_cached *tab = xcalloc(cap, sizeof *tab);

	for (size_t i = 0; i < db->cache_cap; i++)
		if (db->cache[i].sql != NULL)
			*db_cache_slot(tab, cap, db->cache[i].sql) = db->cache[i];
	free(db->cache);
	db->cache = tab;
	db->cache_cap = cap;
}

sqlite3_stmt *
db_prepare(struct db *db, const char *sql, struct err *e)
{
	struct db_cached *slot;
	const char *tail = NULL;
	sqlite3_stmt *st;
	int rc;

	if (db->cache_cap > 0) {
		slot = db_cache_slot(db->cache, db->cache_cap, sql);
		if (slot->sql != NULL) {
			sqlite3_reset(slot->st);
			sqlite3_clear_bindings(slot->st);
			return slot->st;
		}
	}
	rc = sqlite3_prepare_v2(db->sql, sql, -1, &st, &tail);
	if (rc != SQLITE_OK) {
		db_fail(db, rc, "preparing a statement", e);
		return NULL;
	}
	if (st == NULL || (tail != NULL && tail[strspn(tail, " \t\n;")] != '\0')) {
		sqlite3_finalize(st);
		err_set(e, ERR_INTERNAL, "db_prepare takes exactly one statement");
		return NULL;
	}
	if (2 * (db->cache_len + 1) > db->cache_cap)
		db_cache_grow(db);
	slot = db_cache_slot(db->cache, db->cache_cap, sql);
	slot->sql = xstrdup(sql);
	slot->st = st;
	db->cache_len++;
	return st;
}

static void
db_cache_free(struct db *db)
{
	for (size_t i = 0; i < db->cache_cap; i++) {
		if (db->cache[i].sql == NULL)
			continue;
		sqlite3_finalize(db->cache[i].st);
		free(db->cache[i].sql);
	}
	free(db->cache);
	db->cache = NULL;
	db->cache_cap = db->cache_len = 0;
}

int
db_step_done(struct db *db, sqlite3_stmt *st, const char *what, struct err *e)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_DONE || rc == SQLITE_ROW) {
		sqlite3_reset(st);
		return 0;
	}
	db_fail(db, rc, what, e);
	sqlite3_reset(st);
	return -1;
}

int
db_step_row(struct db *db, sqlite3_stmt *st, const char *what, struct err *e)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE) {
		sqlite3_reset(st);
		return 0;
	}
	db_fail(db, rc, what, e);
	sqlite3_reset(st);
	return -1;
}

int
db_exec(struct db *db, const char *sql, struct err *e)
{
	int rc = sqlite3_exec(db->sql, sql, NULL, NULL, NULL);

	if (rc != SQLITE_OK)
		return db_fail(db, rc, "executing SQL", e);
	return 0;
}

int
db_bind_text(sqlite3_stmt *st, int idx, const char *s)
{
	if (s == NULL)
		return sqlite3_bind_null(st, idx);
	return sqlite3_bind_text(st, idx, s, -1, SQLITE_STATIC);
}

int
db_bind_textn(sqlite3_stmt *st, int idx, const char *s, size_t len)
{
	if (s == NULL)
		return sqlite3_bind_null(st, idx);
	return sqlite3_bind_text64(st, idx, s, len, SQLITE_STATIC, SQLITE_UTF8);
}

int
db_bind_blob(sqlite3_stmt *st, int idx, const void *p, size_t len)
{
	if (p == NULL)
		return sqlite3_bind_null(st, idx);
	/* A zero-length blob with a non-NULL pointer stays a blob, not NULL. */
	return sqlite3_bind_blob64(st, idx, p, len, SQLITE_STATIC);
}

char *
db_column_strdup(sqlite3_stmt *st, int col)
{
	const unsigned char *s = sqlite3_column_text(st, col);

	if (s == NULL)
		return NULL;
	return xstrndup((const char *)s, (size_t)sqlite3_column_bytes(st, col));
}

int64_t
db_last_rowid(struct db *db)
{
	return sqlite3_last_insert_rowid(db->sql);
}

int
db_changes(struct db *db)
{
	return sqlite3_changes(db->sql);
}

int64_t
db_now_ms(struct db *db)
{
	return db->clock(db->clock_arg);
}

void
db_set_clock(struct db *db, int64_t (*clock)(void *arg), void *arg)
{
	db->clock = clock != NULL ? clock : db_realtime_ms;
	db->clock_arg = arg;
}

const char *
db_dir(const struct db *db)
{
	return db->dir;
}

sqlite3 *
db_sqlite(struct db *db)
{
	return db->sql;
}

int
db_depth(const struct db *db)
{
	return db->depth;
}

/* --- transactions ------------------------------------------------------ */

static int
db_run(struct db *db, const char *sql, const char *what, struct err *e)
{
	sqlite3_stmt *st = db_prepare(db, sql, e);

	if (st == NULL)
		return -1;
	return db_step_done(db, st, what, e);
}

int
db_begin(struct db *db, struct err *e)
{
	if (db->depth == 0) {
		if (db_run(db, "BEGIN IMMEDIATE", "beginning a transaction", e) != 0)
			return -1;
		db->aborted = false;
	} else if (db_run(db, "SAVEPOINT sotto_sp", "opening a savepoint", e) != 0)
		return -1;
	db->depth++;
	return 0;
}

/* True when SQLite ended the transaction on its own (it may after
 * SQLITE_FULL, SQLITE_IOERR or SQLITE_NOMEM): our depth is then stale. */
static bool
db_tx_lost(struct db *db)
{
	if (db->depth > 0 && sqlite3_get_autocommit(db->sql))
		db->aborted = true;
	return db->aborted;
}

int
db_commit(struct db *db, struct err *e)
{
	if (db->depth == 0)
		return err_set(e, ERR_INTERNAL, "commit without a transaction");
	if (db_tx_lost(db)) {
		db->depth--;
		return err_set(e, ERR_INTERNAL,
		               "the transaction was rolled back after an earlier error");
	}
	if (db->depth > 1) {
		if (db_run(db, "RELEASE sotto_sp", "releasing a savepoint", e) != 0)
			return -1;
		db->depth--;
		return 0;
	}
	db->depth = 0;
	if (db_run(db, "COMMIT", "committing", e) != 0) {
		if (!sqlite3_get_autocommit(db->sql))
			sqlite3_exec(db->sql, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	return 0;
}

int
db_rollback(struct db *db, struct err *e)
{
	int rc = 0;

	if (db->depth == 0)
		return err_set(e, ERR_INTERNAL, "rollback without a transaction");
	if (db_tx_lost(db)) {
		db->depth--;
		return 0;
	}
	if (db->depth > 1) {
		if (db_run(db, "ROLLBACK TO sotto_sp", "rolling back a savepoint", e) != 0 ||
		    db_run(db, "RELEASE sotto_sp", "releasing a savepoint", e) != 0)
			rc = -1;
		db->depth--;
		return rc;
	}
	db->depth = 0;
	return db_run(db, "ROLLBACK", "rolling back", e);
}

/* --- small queries ----------------------------------------------------- */

/* First column of the first row of a constant query, copied into buf. */
static int
db_query_text(struct db *db, const char *sql, char *buf, size_t cap, struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	rc = sqlite3_prepare_v2(db->sql, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return db_fail(db, rc, sql, e);
	rc = sqlite3_step(st);
	buf[0] = '\0';
	if (rc == SQLITE_ROW && sqlite3_column_text(st, 0) != NULL)
		snprintf(buf, cap, "%s", (const char *)sqlite3_column_text(st, 0));
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		db_fail(db, rc, sql, e);
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	return 0;
}

int
db_user_version(struct db *db, int *out, struct err *e)
{
	char buf[32];

	if (db_query_text(db, "PRAGMA user_version", buf, sizeof buf, e) != 0)
		return -1;
	*out = atoi(buf);
	return 0;
}

int
db_checkpoint(struct db *db, struct err *e)
{
	int rc = sqlite3_wal_checkpoint_v2(db->sql, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);

	if (rc != SQLITE_OK)
		return db_fail(db, rc, "checkpointing", e);
	return 0;
}

int
db_check(struct db *db, struct err *e)
{
	char buf[256];

	if (db_query_text(db, "PRAGMA quick_check", buf, sizeof buf, e) != 0) {
		if (e != NULL && e->code == ERR_IO)
			e->code = ERR_CORRUPT;
		return -1;
	}
	if (strcmp(buf, "ok") != 0)
		return err_set(e, ERR_CORRUPT, "database check failed: %s", buf);
	return 0;
}

int
db_query_plan(struct db *db, const char *sql, char **out, struct err *e)
{
	char *q = xasprintf("EXPLAIN QUERY PLAN %s", sql);
	size_t len = 0;
	sqlite3_stmt *st;
	char *plan = xstrdup("");
	int rc;

	/* The argument is the caller's constant SQL, not a value. */
	rc = sqlite3_prepare_v2(db->sql, q, -1, &st, NULL);
	free(q);
	if (rc != SQLITE_OK) {
		free(plan);
		return db_fail(db, rc, "explaining a query", e);
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *detail = (const char *)sqlite3_column_text(st, 3);
		size_t dl = detail != NULL ? strlen(detail) : 0;
		plan = xrealloc(plan, len + dl + 2);
		memcpy(plan + len, detail != NULL ? detail : "", dl);
		len += dl;
		plan[len++] = '\n';
		plan[len] = '\0';
	}
	sqlite3_finalize(st);
	*out = plan;
	return 0;
}

/* --- open / create ----------------------------------------------------- */

struct db_paths {
	char *db, *wal, *shm, *kdf, *key, *lock;
};

static void
db_paths_init(struct db_paths *p, const char *dir)
{
	p->db = xasprintf("%s/%s", dir, DB_FILE);
	p->wal = xasprintf("%s/%s-wal", dir, DB_FILE);
	p->shm = xasprintf("%s/%s-shm", dir, DB_FILE);
	p->kdf = xasprintf("%s/%s", dir, KDF_PARAMS_FILE);
	p->key = xasprintf("%s/%s", dir, KDF_KEY_FILE);
	p->lock = xasprintf("%s/%s", dir, DB_LOCK_FILE);
}

static void
db_paths_free(struct db_paths *p)
{
	free(p->db);
	free(p->wal);
	free(p->shm);
	free(p->kdf);
	free(p->key);
	free(p->lock);
}

/* flock locks belong to the open file description, so a second handle in
 * the same process is refused exactly like another process. */
static int
db_lock(struct db *db, const char *path, struct err *e)
{
	db->lock_fd = fsutil_open_private(path, 0, e);
	if (db->lock_fd < 0)
		return -1;
	if (flock(db->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno == EWOULDBLOCK)
			return err_set(e, ERR_BUSY,
			               "the profile in %s is already open in another sotto process",
			               db->dir);
		return err_set(e, ERR_IO, "locking %s: %s", path, strerror(errno));
	}
	return 0;
}

/* Key the connection, pin the cipher and prove the first page decrypts. */
static int
db_key(struct db *db, const unsigned char *key, struct err *e)
{
	char spec[KDF_KEYSPEC_LEN], buf[64];
	int rc;

	kdf_keyspec(key, spec);
	rc = sqlite3_key(db->sql, spec, KDF_KEYSPEC_LEN - 1);
	wipe(spec, sizeof spec);
	if (rc != SQLITE_OK)
		return db_fail(db, rc, "keying the database", e);
	if (db_query_text(db, "PRAGMA cipher_version", buf, sizeof buf, e) != 0)
		return -1;
	if (buf[0] == '\0')
		return err_set(e, ERR_INTERNAL, "linked SQLite has no SQLCipher codec");
	/* SQLCipher 4 changed its defaults; ask it for 3.x behaviour. */
	if (atoi(buf) >= 4 && db_exec(db, "PRAGMA cipher_compatibility = 3", e) != 0)
		return -1;
	if (db_exec(db, db_cipher_pragmas, e) != 0)
		return -1;
	if (db_query_text(db, "PRAGMA cipher", buf, sizeof buf, e) != 0)
		return -1;
	if (strcasecmp(buf, "AES-256-CBC") != 0)
		return err_set(e, ERR_INTERNAL, "unexpected SQLCipher cipher %s", buf);
	/* Only the engine opens the database (db->lock_fd says so): holding
	 * SQLite's lock for good spares two fcntl calls per transaction, and
	 * set before the first read, the WAL index lives in memory instead of
	 * a shared -shm file. */
	if (db_exec(db, "PRAGMA locking_mode = EXCLUSIVE", e) != 0)
		return -1;
	/* The first real read: an HMAC failure on page 1 shows up here. The
	 * key already matched its check value, so this is damage. */
	rc = sqlite3_exec(db->sql, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		db_fail(db, rc, "reading the database", e);
		if (e != NULL && (rc == SQLITE_NOTADB || rc == SQLITE_CORRUPT))
			err_set(e, ERR_CORRUPT,
			        "%s/%s is damaged or not a sotto database (the key is right)",
			        db->dir, DB_FILE);
		return -1;
	}
	return 0;
}

static int
db_configure(struct db *db, struct err *e)
{
	char mode[16];

	if (db_query_text(db, "PRAGMA journal_mode = WAL", mode, sizeof mode, e) != 0)
		return -1;
	if (strcasecmp(mode, "wal") != 0)
		return err_set(e, ERR_IO, "cannot switch the database to WAL mode (%s)", mode);
	return db_exec(db, db_conn_pragmas, e);
}

static struct db *
db_new(const char *dir)
{
	struct db *db = xcalloc(1, sizeof *db);

	db->dir = xstrdup(dir);
	db->lock_fd = -1;
	db->clock = db_realtime_ms;
	return db;
}

static int
db_sqlite_open(struct db *db, const char *path, struct err *e)
{
	int rc = sqlite3_open_v2(path, &db->sql, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);

	if (rc != SQLITE_OK)
		return db_fail(db, rc, "opening the database", e);
	return 0;
}

/* The unlock step shared by create and open: the key from the passphrase
 * or the key file, checked against the sidecar. */
static int
db_unlock_key(const struct db_config *cfg, const struct db_paths *paths,
              const struct kdf_params *params, unsigned char *key, struct err *e)
{
	if (params->mode == KDF_KEYFILE) {
		if (cfg->passphrase != NULL)
			return err_set(e, ERR_BADKEY,
			               "this profile is unlocked by its key file, "
			               "not a passphrase");
		if (kdf_keyfile_read(paths->key, key, e) != 0)
			return -1;
		if (kdf_verify(params, key, e) != 0) {
			wipe(key, KDF_KEY_LEN);
			return -1;
		}
		return 0;
	}
	if (cfg->passphrase == NULL)
		return err_set(e, ERR_BADKEY, "this profile needs its passphrase");
	return kdf_derive_passphrase(cfg->passphrase, cfg->passphrase_len, params, key, e);
}

int
db_open(const struct db_config *cfg, struct db **out, struct err *e)
{
	unsigned char key[KDF_KEY_LEN];
	struct kdf_params params;
	struct db_paths paths;
	struct db *db = db_new(cfg->dir);
	struct stat st;
	int version, target = cfg->schema_version ? cfg->schema_version : SCHEMA_VERSION;

	*out = NULL;
	db_paths_init(&paths, cfg->dir);
	if (stat(cfg->dir, &st) != 0) {
		err_set(e, ERR_NOTFOUND, "no profile in %s", cfg->dir);
		goto fail;
	}
	if (fsutil_private_dir(cfg->dir, e) != 0 || db_lock(db, paths.lock, e) != 0)
		goto fail;
	if (stat(paths.db, &st) != 0) {
		err_set(e, ERR_NOTFOUND, "no database in %s", cfg->dir);
		goto fail;
	}
	if (kdf_params_load(paths.kdf, &params, e) != 0) {
		if (e != NULL && e->code == ERR_NOTFOUND)
			e->code = ERR_CORRUPT;
		goto fail;
	}
	/* Nothing below touches the database file until the key is known to
	 * be right: a wrong passphrase leaves every byte as it was. */
	if (db_unlock_key(cfg, &paths, &params, key, e) != 0)
		goto fail;
	if (db_sqlite_open(db, paths.db, e) != 0 || db_key(db, key, e) != 0) {
		wipe(key, sizeof key);
		goto fail;
	}
	wipe(key, sizeof key);
	if (db_user_version(db, &version, e) != 0)
		goto fail;
	if (version == 0) {
		err_set(e, ERR_CORRUPT, "%s is empty: the profile's data is gone", paths.db);
		goto fail;
	}
	if (version > SCHEMA_VERSION) {
		err_set(e, ERR_INVALID,
		        "the database was written by a newer sotto (schema %d, this one knows %d)",
		        version, SCHEMA_VERSION);
		goto fail;
	}
	if (db_configure(db, e) != 0 || schema_migrate(db, target, e) != 0)
		goto fail;
	/* Encrypted anyway, but nobody else needs to see even its size. */
	if ((st.st_mode & 077) != 0)
		chmod(paths.db, 0600);
	db_paths_free(&paths);
	*out = db;
	return 0;
fail:
	db_paths_free(&paths);
	db_close(db);
	return -1;
}

int
db_create(const struct db_config *cfg, struct db **out, struct err *e)
{
	unsigned char key[KDF_KEY_LEN];
	struct kdf_params params;
	struct db_paths paths;
	struct db *db = db_new(cfg->dir);
	bool made_files = false;
	struct stat st;
	int fd;

	*out = NULL;
	db_paths_init(&paths, cfg->dir);
	if (fsutil_private_dir(cfg->dir, e) != 0 || db_lock(db, paths.lock, e) != 0)
		goto fail;
	if (stat(paths.db, &st) == 0) {
		err_set(e, ERR_EXISTS, "a profile database already exists in %s", cfg->dir);
		goto fail;
	}
	if (cfg->passphrase != NULL) {
		if (kdf_new_passphrase(cfg->passphrase, cfg->passphrase_len, cfg->kdf_opslimit,
		                       cfg->kdf_memlimit, &params, key, e) != 0)
			goto fail;
	} else
		kdf_new_keyfile(&params, key);
	made_files = true;
	if ((params.mode == KDF_KEYFILE && kdf_keyfile_write(paths.key, key, e) != 0) ||
	    kdf_params_save(paths.kdf, &params, e) != 0) {
		wipe(key, sizeof key);
		goto fail;
	}
	/* SQLite would create the file with the umask's say; make it 0600 and
	 * let SQLite treat the empty file as a new database. Its -wal and -shm
	 * files copy this mode. */
	fd = fsutil_open_private(paths.db, 1, e);
	if (fd < 0) {
		wipe(key, sizeof key);
		goto fail;
	}
	close(fd);
	if (db_sqlite_open(db, paths.db, e) != 0 || db_key(db, key, e) != 0) {
		wipe(key, sizeof key);
		goto fail;
	}
	wipe(key, sizeof key);
	if (db_configure(db, e) != 0 ||
	    schema_migrate(db, cfg->schema_version ? cfg->schema_version : SCHEMA_VERSION, e) !=
	        0 ||
	    fsutil_sync_parent(paths.db, e) != 0)
		goto fail;
	db_paths_free(&paths);
	*out = db;
	return 0;
fail:
	if (db->sql != NULL) {
		db_cache_free(db);
		sqlite3_close(db->sql);
		db->sql = NULL;
	}
	if (made_files) {
		unlink(paths.db);
		unlink(paths.wal);
		unlink(paths.shm);
		unlink(paths.kdf);
		unlink(paths.key);
	}
	db_paths_free(&paths);
	db_close(db);
	return -1;
}

void
db_close(struct db *db)
{
	if (db == NULL)
		return;
	db_cache_free(db);
	if (db->sql != NULL)
		sqlite3_close(db->sql); /* rolls back an open transaction */
	if (db->lock_fd >= 0)
		close(db->lock_fd);
	free(db->dir);
	free(db);
}

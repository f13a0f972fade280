/* Attachment blobs: bytes in DATA/blobs/<hex id> (written to a temporary
 * file, fsync'ed, renamed, directory fsync'ed), metadata in the database.
 * A file is only ever visible under its final name once it is complete. */
#include "relay/rstore_db.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define RSTORE_BLOB_TMP_PREFIX ".tmp-"

struct rstore_blob_writer {
	struct rstore *s;
	struct rstore_blob_writer *next; /* the store's list of open uploads */
	int64_t owner;
	uint8_t id[RSTORE_BLOB_ID_LEN];
	char *tmp_path;
	int fd;
	uint64_t size, written;
	int failed;
};

void
rstore_blob_id_to_hex(const uint8_t id[RSTORE_BLOB_ID_LEN], char hex[RSTORE_BLOB_HEX_LEN + 1])
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < RSTORE_BLOB_ID_LEN; i++) {
		hex[2 * i] = digits[id[i] >> 4];
		hex[2 * i + 1] = digits[id[i] & 15];
	}
	hex[RSTORE_BLOB_HEX_LEN] = '\0';
}

static int
rstore_blob_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
rstore_blob_id_from_hex(const char *hex, uint8_t id[RSTORE_BLOB_ID_LEN], struct err *e)
{
	size_t i;

	if (hex == NULL || strnlen(hex, RSTORE_BLOB_HEX_LEN + 1) != RSTORE_BLOB_HEX_LEN)
		return err_set(e, ERR_INVALID, "a blob id is %d hex digits", RSTORE_BLOB_HEX_LEN);
	for (i = 0; i < RSTORE_BLOB_ID_LEN; i++) {
		int hi = rstore_blob_hexval(hex[2 * i]), lo = rstore_blob_hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return err_set(e, ERR_INVALID, "a blob id is %d hex digits",
			               RSTORE_BLOB_HEX_LEN);
		id[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

char *
rstore_blob_path(const struct rstore *s, const uint8_t id[RSTORE_BLOB_ID_LEN])
{
	char hex[RSTORE_BLOB_HEX_LEN + 1];

	rstore_blob_id_to_hex(id, hex);
	return xasprintf("%s/%s", s->blob_dir, hex);
}

static int
rstore_blob_errno(struct err *e, int errnum, const char *what, const char *path)
{
	enum err_code code = (errnum == ENOSPC || errnum == EDQUOT) ? ERR_NOSPACE : ERR_IO;

	return err_set(e, code, "%s %s: %s", what, path, strerror(errnum));
}

/* Remove what a crash left: temporary files, and finished files whose row
 * never committed. */
void
rstore_blob_sweep(struct rstore *s)
{
	DIR *dir = opendir(s->blob_dir);
	struct dirent *d;
	sqlite3_stmt *st;
	uint8_t id[RSTORE_BLOB_ID_LEN];

	if (dir == NULL)
		return;
	while ((d = readdir(dir)) != NULL) {
		int orphan = 0;

		if (strncmp(d->d_name, RSTORE_BLOB_TMP_PREFIX, strlen(RSTORE_BLOB_TMP_PREFIX)) ==
		    0) {
			orphan = 1;
		} else if (rstore_blob_id_from_hex(d->d_name, id, NULL) == 0) {
			st = rstore_db_stmt(s, STMT_BLOB_GET);
			sqlite3_bind_blob(st, 1, id, sizeof id, SQLITE_STATIC);
			orphan = rstore_db_step(s, st, NULL, "sweeping blobs") == 0;
			sqlite3_reset(st);
		}
		if (orphan)
			unlinkat(dirfd(dir), d->d_name, 0);
	}
	closedir(dir);
}

static void
rstore_blob_writer_free(struct rstore_blob_writer *w)
{
	struct rstore_blob_writer **pp;

	for (pp = &w->s->writers; *pp != NULL; pp = &(*pp)->next)
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	if (w->fd >= 0)
		close(w->fd);
	free(w->tmp_path);
	free(w);
}

int
rstore_blob_begin(struct rstore *s, const char *owner, uint64_t size,
                  struct rstore_blob_writer **out, struct err *e)
{
	struct rstore_blob_writer *w;
	char hex[RSTORE_BLOB_HEX_LEN + 1];
	int64_t acct;

	*out = NULL;
	if (s->blob_dir == NULL)
		return err_set(e, ERR_INVALID, "this store has no blob directory");
	if (size != RSTORE_BLOB_SIZE_UNKNOWN && size > (uint64_t)s->opt.max_blob)
		return err_set(e, ERR_TOOLARGE, "blob of %llu bytes; at most %lld",
		               (unsigned long long)size, (long long)s->opt.max_blob);
	if (rstore_db_account_id(s, owner, &acct, e) < 0)
		return -1;
	w = xcalloc(1, sizeof *w);
	w->s = s;
	w->owner = acct;
	w->size = size;
	w->fd = -1;
	if (RAND_bytes(w->id, sizeof w->id) != 1) {
		free(w);
		return err_set(e, ERR_INTERNAL, "no randomness for a blob id");
	}
	rstore_blob_id_to_hex(w->id, hex);
	w->tmp_path = xasprintf("%s/" RSTORE_BLOB_TMP_PREFIX "%s", s->blob_dir, hex);
	w->fd = open(w->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (w->fd < 0) {
		rstore_blob_errno(e, errno, "create", w->tmp_path);
		free(w->tmp_path);
		free(w);
		return -1;
	}
	w->next = s->writers;
	s->writers = w;
	*out = w;
	return 0;
}

int
rstore_blob_write(struct rstore_blob_writer *w, const void *data, size_t len, struct err *e)
{
	const uint8_t *p = data;
	uint64_t limit =
	    w->size != RSTORE_BLOB_SIZE_UNKNOWN ? w->size : (uint64_t)w->s->opt.max_blob;

	if (w->failed)
		return err_set(e, ERR_INVALID, "blob upload already failed");
	if (len > limit - w->written) {
		w->failed = 1;
		return err_set(e, ERR_TOOLARGE, "blob is larger than %llu bytes",
		               (unsigned long long)limit);
	}
	while (len > 0) {
		ssize_t k = write(w->fd, p, len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			w->failed = 1;
			return rstore_blob_errno(e, k < 0 ? errno : EIO, "write", w->tmp_path);
		}
		p += k;
		len -= (size_t)k;
		w->written += (uint64_t)k;
	}
	return 0;
}

void
rstore_blob_abort(struct rstore_blob_writer *w)
{
	if (w == NULL)
		return;
	unlink(w->tmp_path);
	rstore_blob_writer_free(w);
}

void
rstore_blob_abort_all(struct rstore *s)
{
	while (s->writers != NULL)
		rstore_blob_abort(s->writers);
}

/* fsync the blob directory so the rename itself survives a crash. */
static int
rstore_blob_sync_dir(struct rstore *s, struct err *e)
{
	int fd = open(s->blob_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0)
		return rstore_blob_errno(e, errno, "open", s->blob_dir);
	if (fsync(fd) < 0)
		rc = rstore_blob_errno(e, errno, "fsync", s->blob_dir);
	close(fd);
	return rc;
}

int
rstore_blob_finish(struct rstore_blob_writer *w, uint8_t id[RSTORE_BLOB_ID_LEN], struct err *e)
{
	struct rstore *s = w->s;
	struct rstore_txn t;
	sqlite3_stmt *st;
	char *path;
	int64_t now = rstore_db_now(s);
	int fd;

	if (w->failed) {
		rstore_blob_abort(w);
		return err_set(e, ERR_INVALID, "blob upload already failed");
	}
	if (w->size != RSTORE_BLOB_SIZE_UNKNOWN && w->written != w->size) {
		err_set(e, ERR_INVALID, "blob is %llu bytes, announced %llu",
		        (unsigned long long)w->written, (unsigned long long)w->size);
		rstore_blob_abort(w);
		return -1;
	}
	fd = w->fd;
	w->fd = -1;
	if (fsync(fd) < 0) {
		rstore_blob_errno(e, errno, "fsync", w->tmp_path);
		close(fd);
		rstore_blob_abort(w);
		return -1;
	}
	if (close(fd) < 0) {
		rstore_blob_errno(e, errno, "close", w->tmp_path);
		rstore_blob_abort(w);
		return -1;
	}
	path = rstore_blob_path(s, w->id);
	if (rename(w->tmp_path, path) < 0) {
		rstore_blob_errno(e, errno, "rename", path);
		free(path);
		rstore_blob_abort(w);
		return -1;
	}
	if (rstore_blob_sync_dir(s, e) < 0 || rstore_db_begin(s, &t, e) < 0) {
		unlink(path);
		free(path);
		rstore_blob_writer_free(w);
		return -1;
	}
	/* From here the transaction decides the file's fate. */
	rstore_db_unlink_on_rollback(s, path);
	st = rstore_db_stmt(s, STMT_BLOB_INSERT);
	sqlite3_bind_blob(st, 1, w->id, sizeof w->id, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, w->owner);
	sqlite3_bind_int64(st, 3, (int64_t)w->written);
	sqlite3_bind_int64(st, 4, now);
	sqlite3_bind_int64(st, 5, now + s->opt.blob_ttl_ms);
	if (rstore_db_exec(s, st, e, "storing blob") < 0) {
		rstore_db_abort(s, &t);
		rstore_blob_writer_free(w);
		return -1;
	}
	memcpy(id, w->id, sizeof w->id);
	rstore_blob_writer_free(w);
	/* Whoever hears of the id may rely on it: on disk before that. */
	if (rstore_db_commit(s, &t, e) < 0)
		return -1;
	return rstore_sync(s, e);
}

int
rstore_blob_open(struct rstore *s, const uint8_t id[RSTORE_BLOB_ID_LEN], int *fd, uint64_t *size,
                 struct err *e)
{
	sqlite3_stmt *st;
	struct stat sb;
	int64_t len, expires;
	char *path;
	int rc;

	*fd = -1;
	if (s->blob_dir == NULL)
		return err_set(e, ERR_INVALID, "this store has no blob directory");
	st = rstore_db_stmt(s, STMT_BLOB_GET);
	sqlite3_bind_blob(st, 1, id, RSTORE_BLOB_ID_LEN, SQLITE_STATIC);
	rc = rstore_db_step(s, st, e, "looking up blob");
	if (rc < 0)
		return -1;
	if (rc == 0)
		return err_set(e, ERR_NOTFOUND, "no such blob");
	len = sqlite3_column_int64(st, 0);
	expires = sqlite3_column_int64(st, 1);
	sqlite3_reset(st);
	if (expires <= rstore_db_now(s))
		return err_set(e, ERR_NOTFOUND, "no such blob");
	path = rstore_blob_path(s, id);
	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0) {
		rc = errno == ENOENT ? err_set(e, ERR_NOTFOUND, "no such blob")
		                     : rstore_blob_errno(e, errno, "open", path);
		free(path);
		return rc;
	}
	free(path);
	if (fstat(*fd, &sb) < 0 || (int64_t)sb.st_size != len) {
		close(*fd);
		*fd = -1;
		return err_set(e, ERR_CORRUPT, "blob file does not match its size");
	}
	*size = (uint64_t)len;
	return 0;
}

int
rstore_blob_delete(struct rstore *s, const uint8_t id[RSTORE_BLOB_ID_LEN], const char *owner,
                   struct err *e)
{
	struct rstore_txn t;
	sqlite3_stmt *st;
	int64_t acct;

	if (s->blob_dir == NULL)
		return err_set(e, ERR_INVALID, "this store has no blob directory");
	if (rstore_db_begin(s, &t, e) < 0)
		return -1;
	if (rstore_db_account_id(s, owner, &acct, e) < 0)
		goto fail;
	st = rstore_db_stmt(s, STMT_BLOB_DELETE);
	sqlite3_bind_blob(st, 1, id, RSTORE_BLOB_ID_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, acct);
	if (rstore_db_exec(s, st, e, "deleting blob") < 0)
		goto fail;
	if (sqlite3_changes(s->db) == 0) {
		err_set(e, ERR_NOTFOUND, "no such blob");
		goto fail;
	}
	rstore_db_unlink_on_commit(s, rstore_blob_path(s, id));
	return rstore_db_commit(s, &t, e);
fail:
	rstore_db_abort(s, &t);
	return -1;
}

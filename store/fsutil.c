/* File helpers for the profile directory: modes set with fchmod so the
 * umask never decides who can read a profile, and atomic replacement so a
 * crash leaves either the old or the new file. */
#include "store/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/fdio.h"

int
fsutil_private_dir(const char *dir, struct err *e)
{
	struct stat st;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return err_set(e, ERR_IO, "creating %s: %s", dir, strerror(errno));
	if (stat(dir, &st) != 0)
		return err_set(e, ERR_IO, "%s: %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return err_set(e, ERR_INVALID, "%s is not a directory", dir);
	if (st.st_uid != geteuid())
		return err_set(e, ERR_INVALID, "%s belongs to another user", dir);
	/* mkdir honours the umask, and an old profile may have been opened
	 * up by hand: make it private either way. */
	if ((st.st_mode & 07777) != 0700 && chmod(dir, 0700) != 0)
		return err_set(e, ERR_IO, "chmod 0700 %s: %s", dir, strerror(errno));
	return 0;
}

int
fsutil_open_private(const char *path, int excl, struct err *e)
{
	int flags = O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW;
	int fd;

	if (excl)
		flags |= O_EXCL;
	fd = open(path, flags, 0600);
	if (fd < 0) {
		if (errno == EEXIST)
			return err_set(e, ERR_EXISTS, "%s already exists", path);
		return err_set(e, errno == ENOSPC ? ERR_NOSPACE : ERR_IO, "opening %s: %s", path,
		               strerror(errno));
	}
	if (fchmod(fd, 0600) != 0) {
		err_set(e, ERR_IO, "chmod 0600 %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int
fsutil_sync_parent(const char *path, struct err *e)
{
	char *copy = xstrdup(path);
	int fd, rc = 0;

	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) != 0)
		rc = err_set(e, ERR_IO, "syncing directory of %s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	free(copy);
	return rc;
}

int
fsutil_write_atomic(const char *path, const void *data, size_t len, struct err *e)
{
	char *tmp = xasprintf("%s.tmp", path);
	int fd, rc = -1;

	unlink(tmp);
	fd = fsutil_open_private(tmp, 1, e);
	if (fd < 0)
		goto out;
	if (fdio_write_all(fd, data, len, false) != 0 || fsync(fd) != 0) {
		err_set(e, errno == ENOSPC ? ERR_NOSPACE : ERR_IO, "writing %s: %s", tmp,
		        strerror(errno));
		close(fd);
		unlink(tmp);
		goto out;
	}
	close(fd);
	if (rename(tmp, path) != 0) {
		err_set(e, ERR_IO, "renaming %s: %s", tmp, strerror(errno));
		unlink(tmp);
		goto out;
	}
	rc = fsutil_sync_parent(path, e);
out:
	free(tmp);
	return rc;
}

int
fsutil_read_small(const char *path, char *buf, size_t cap, size_t *len, struct stat *st,
                  struct err *e)
{
	size_t got = 0;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			return err_set(e, ERR_NOTFOUND, "%s does not exist", path);
		return err_set(e, ERR_IO, "opening %s: %s", path, strerror(errno));
	}
	if (fstat(fd, st) != 0) {
		close(fd);
		return err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
	}
	for (;;) {
		ssize_t n = read(fd, buf + got, cap - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			close(fd);
			return err_set(e, ERR_IO, "reading %s: %s", path, strerror(errno));
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (got == cap) {
			close(fd);
			return err_set(e, ERR_CORRUPT, "%s is too large", path);
		}
	}
	close(fd);
	buf[got] = '\0';
	*len = got;
	return 0;
}

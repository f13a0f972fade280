/* The engine's UNIX socket and the line-buffered connections over it. */
#include "ipc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* How much one read() asks for. */
#define IPC_READ_CHUNK (64 * 1024)

static int
ipc_socket_addr(const char *dir, struct sockaddr_un *sa, struct err *e)
{
	int n;

	memset(sa, 0, sizeof *sa);
	sa->sun_family = AF_UNIX;
	n = snprintf(sa->sun_path, sizeof sa->sun_path, "%s/%s", dir, IPC_SOCKET_NAME);
	if (n < 0 || (size_t)n >= sizeof sa->sun_path)
		return err_set(e, ERR_TOOLARGE,
		               "socket path %s/%s is longer than %zu bytes: use a shorter --home",
		               dir, IPC_SOCKET_NAME, sizeof sa->sun_path - 1);
	return 0;
}

int
ipc_listen(const char *dir, struct err *e)
{
	struct sockaddr_un sa;
	struct stat st;
	mode_t old_mask;
	int fd, rc;

	if (ipc_socket_addr(dir, &sa, e) < 0)
		return -1;
	if (lstat(sa.sun_path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return err_set(e, ERR_EXISTS, "%s exists and is not a socket", sa.sun_path);
		if (unlink(sa.sun_path) < 0)
			return err_set(e, ERR_IO, "removing stale %s: %s", sa.sun_path,
			               strerror(errno));
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_set(e, ERR_IO, "socket: %s", strerror(errno));
	/* The file is created by bind(); the mask makes it 0600 from the
	 * first instant rather than after a chmod. */
	old_mask = umask(0177);
	rc = bind(fd, (struct sockaddr *)&sa, sizeof sa);
	umask(old_mask);
	if (rc < 0) {
		err_set(e, ERR_IO, "bind %s: %s", sa.sun_path, strerror(errno));
		close(fd);
		return -1;
	}
	if (chmod(sa.sun_path, 0600) < 0 || listen(fd, 64) < 0) {
		err_set(e, ERR_IO, "listen %s: %s", sa.sun_path, strerror(errno));
		unlink(sa.sun_path);
		close(fd);
		return -1;
	}
	return fd;
}

int
ipc_peer_check(int fd, uid_t want, struct err *e)
{
	struct ucred cred;
	socklen_t len = sizeof cred;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return err_set(e, ERR_AUTH, "reading peer credentials: %s", strerror(errno));
	if (cred.uid != want)
		return err_set(e, ERR_AUTH, "refusing peer pid %ld: uid %lu is not %lu",
		               (long)cred.pid, (unsigned long)cred.uid, (unsigned long)want);
	return 0;
}

int
ipc_accept(int listen_fd, struct err *e)
{
	int fd;

	do
		fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	if (fd < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ECONNABORTED)
			return err_set(e, ERR_BUSY, "no pending connection");
		return err_set(e, ERR_IO, "accept: %s", strerror(errno));
	}
	if (ipc_peer_check(fd, geteuid(), e) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int
ipc_connect(const char *dir, struct err *e)
{
	struct sockaddr_un sa;
	int fd, rc;

	if (ipc_socket_addr(dir, &sa, e) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_set(e, ERR_IO, "socket: %s", strerror(errno));
	do
		rc = connect(fd, (struct sockaddr *)&sa, sizeof sa);
	while (rc < 0 && errno == EINTR);
	if (rc < 0) {
		int saved = errno;
		close(fd);
		if (saved == ENOENT || saved == ECONNREFUSED)
			return err_set(e, ERR_NOTFOUND, "no engine at %s", sa.sun_path);
		return err_set(e, ERR_IO, "connect %s: %s", sa.sun_path, strerror(saved));
	}
	/* The directory is 0700, so this cannot fail unless it was tampered
	 * with; checking is cheap and the passphrase goes down this socket. */
	if (ipc_peer_check(fd, geteuid(), e) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int
ipc_set_nonblocking(int fd, bool on, struct err *e)
{
	int flags = fcntl(fd, F_GETFL);

	if (flags < 0)
		return err_set(e, ERR_IO, "fcntl: %s", strerror(errno));
	flags = on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
	if (fcntl(fd, F_SETFL, flags) < 0)
		return err_set(e, ERR_IO, "fcntl: %s", strerror(errno));
	return 0;
}

/* Make room for need more bytes after len, first sliding unconsumed bytes
 * to the front. The bytes left behind are wiped: they were lines. */
static void
ipc_buf_reserve(struct ipc_buf *b, size_t need)
{
	size_t keep;

	if (b->off > 0) {
		keep = b->len - b->off;
		memmove(b->data, b->data + b->off, keep);
		wipe(b->data + keep, b->len - keep);
		b->len = keep;
		b->off = 0;
	}
	if (b->cap - b->len >= need)
		return;
	b->cap = b->len + need > 2 * b->cap ? b->len + need : 2 * b->cap;
	/* Grow by copying so the old block can be wiped, not just freed. */
	{
		char *bigger = xmalloc(b->cap);
		if (b->len > 0)
			memcpy(bigger, b->data, b->len);
		if (b->data != NULL)
			wipe_free(b->data, b->len);
		b->data = bigger;
	}
}

static void
ipc_buf_clear(struct ipc_buf *b)
{
	wipe_free(b->data, b->cap);
	memset(b, 0, sizeof *b);
}

void
ipc_conn_init(struct ipc_conn *c, int fd)
{
	memset(c, 0, sizeof *c);
	c->fd = fd;
	c->line_max = IPC_LINE_MAX;
}

void
ipc_conn_clear(struct ipc_conn *c)
{
	ipc_buf_clear(&c->in);
	ipc_buf_clear(&c->out);
	c->fd = -1;
}

int
ipc_conn_read(struct ipc_conn *c, struct err *e)
{
	ssize_t n;

	if (c->eof)
		return 0;
	/* The spare byte is where a final unterminated line gets its NUL. */
	ipc_buf_reserve(&c->in, IPC_READ_CHUNK + 1);
	n = read(c->fd, c->in.data + c->in.len, IPC_READ_CHUNK);
	if (n > 0) {
		c->in.len += (size_t)n;
		return 0;
	}
	if (n == 0 || errno == ECONNRESET) {
		c->eof = true;
		return 0;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return 0;
	return err_set(e, ERR_IO, "read: %s", strerror(errno));
}

/* Drop everything buffered: used while skipping an over-long line. */
static void
ipc_conn_drop_input(struct ipc_conn *c)
{
	wipe(c->in.data, c->in.len);
	c->in.off = c->in.len = 0;
	c->scanned = 0;
}

int
ipc_conn_next_line(struct ipc_conn *c, char **line, size_t *len, struct err *e)
{
	for (;;) {
		char *start = c->in.data + c->in.off;
		size_t avail = c->in.len - c->in.off;
		char *nl = avail > c->scanned ? memchr(start + c->scanned, '\n', avail - c->scanned)
		                              : NULL;

		if (c->discarding) {
			if (nl == NULL) {
				ipc_conn_drop_input(c);
				return 0;
			}
			c->in.off += (size_t)(nl - start) + 1;
			c->scanned = 0;
			c->discarding = false;
			continue;
		}
		if (nl != NULL) {
			size_t n = (size_t)(nl - start);
			c->in.off += n + 1;
			c->scanned = 0;
			if (n > c->line_max)
				return err_set(e, ERR_TOOLARGE, "line longer than %zu bytes",
				               c->line_max);
			*nl = '\0';
			*line = start;
			*len = n;
			return 1;
		}
		c->scanned = avail;
		if (avail > c->line_max) {
			ipc_conn_drop_input(c);
			c->discarding = !c->eof;
			return err_set(e, ERR_TOOLARGE, "line longer than %zu bytes", c->line_max);
		}
		if (c->eof && avail > 0) {
			/* ipc_conn_read() always leaves a spare byte for this. */
			start[avail] = '\0';
			c->in.off = c->in.len;
			c->scanned = 0;
			*line = start;
			*len = avail;
			return 1;
		}
		return 0;
	}
}

int
ipc_conn_queue_line(struct ipc_conn *c, const char *data, size_t len, struct err *e)
{
	size_t unsent = c->out.len - c->out.off;

	if (len + 1 > IPC_OUT_MAX - unsent)
		return err_set(e, ERR_LIMIT, "peer is not reading: %zu bytes unsent", unsent);
	ipc_buf_reserve(&c->out, len + 1);
	memcpy(c->out.data + c->out.len, data, len);
	c->out.data[c->out.len + len] = '\n';
	c->out.len += len + 1;
	return 0;
}

int
ipc_conn_flush(struct ipc_conn *c, struct err *e)
{
	while (c->out.off < c->out.len) {
		ssize_t n =
		    send(c->fd, c->out.data + c->out.off, c->out.len - c->out.off, MSG_NOSIGNAL);
		if (n > 0) {
			c->out.off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		return err_set(e, ERR_IO, "write: %s", n < 0 ? strerror(errno) : "no progress");
	}
	wipe(c->out.data, c->out.len);
	c->out.off = c->out.len = 0;
	return 0;
}

bool
ipc_conn_pending(const struct ipc_conn *c)
{
	return c->out.off < c->out.len;
}

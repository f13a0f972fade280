/* The UNIX socket between the engine and its frontends: engine.sock in the
 * profile directory (0600 in a 0700 directory), peers checked with
 * SO_PEERCRED, and non-blocking line-buffered connections whose buffers
 * are bounded so a stuck or hostile peer cannot grow us without limit. */
#ifndef SOTTO_IPC_H
#define SOTTO_IPC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "util/err.h"

#define IPC_SOCKET_NAME "engine.sock"
/* Longest accepted line, newline excluded (the JSON-RPC limit). */
#define IPC_LINE_MAX (1024 * 1024)
/* Unsent output a connection may hold before its peer counts as stuck. */
#define IPC_OUT_MAX (16 * 1024 * 1024)

struct ipc_buf {
	char *data;
	size_t off; /* consumed bytes at the front */
	size_t len; /* bytes held, counted from data, off included */
	size_t cap;
};

struct ipc_conn {
	int fd;
	struct ipc_buf in, out;
	bool eof;        /* the peer will send nothing more */
	bool discarding; /* skipping the rest of an over-long line */
	size_t scanned;  /* bytes of in already searched for a newline */
	size_t line_max; /* longest line taken: IPC_LINE_MAX unless raised */
};

/* Bind and listen on dir/engine.sock, replacing whatever socket file is
 * there: the caller must hold the profile's engine lock, which is what
 * proves an old socket is stale. Returns a non-blocking close-on-exec fd. */
int ipc_listen(const char *dir, struct err *e);
/* Accept one pending connection and check its peer is our own uid.
 * Returns the fd, or -1: e->code ERR_BUSY when nothing was pending,
 * ERR_AUTH when a foreign peer was refused (its fd already closed). */
int ipc_accept(int listen_fd, struct err *e);
/* Refuse (ERR_AUTH) a connected peer whose uid is not want. */
int ipc_peer_check(int fd, uid_t want, struct err *e);
/* Connect to dir/engine.sock. ERR_NOTFOUND when no engine answers there
 * (no socket file, or a stale one); blocking fd, close-on-exec. */
int ipc_connect(const char *dir, struct err *e);
int ipc_set_nonblocking(int fd, bool on, struct err *e);

void ipc_conn_init(struct ipc_conn *c, int fd);
/* Free the buffers (wiping them: lines may carry a passphrase). The fd is
 * the caller's to close, since an event loop may own it. */
void ipc_conn_clear(struct ipc_conn *c);
/* One read() into the input buffer. 0 on data, EAGAIN or end of stream
 * (then c->eof is set); -1 on a socket error. */
int ipc_conn_read(struct ipc_conn *c, struct err *e);
/* Take the next complete line. Returns 1 with *line (NUL-terminated, no
 * newline, valid until the next call on c) and *len; 0 when no whole line
 * is buffered; -1 with ERR_TOOLARGE once per line longer than c->line_max,
 * which is skipped up to its newline so the stream stays in step. At
 * end of stream a final unterminated line is returned as a line. */
int ipc_conn_next_line(struct ipc_conn *c, char **line, size_t *len, struct err *e);
/* Append data and a newline to the output. ERR_LIMIT (nothing queued)
 * when that would hold more than IPC_OUT_MAX unsent bytes. */
int ipc_conn_queue_line(struct ipc_conn *c, const char *data, size_t len, struct err *e);
/* Write as much output as the socket takes now. 0 when it took what it
 * could (check ipc_conn_pending), -1 when the peer is gone. */
int ipc_conn_flush(struct ipc_conn *c, struct err *e);
bool ipc_conn_pending(const struct ipc_conn *c);

#endif

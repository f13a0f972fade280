/* fdio: the "write every byte" loop that sockets, pipes and files share. */
#ifndef SOTTO_UTIL_FDIO_H
#define SOTTO_UTIL_FDIO_H

#include <stdbool.h>
#include <stddef.h>

/* Write all len bytes of buf to fd, going on after short writes and
 * EINTR. A socket is written with send(MSG_NOSIGNAL), so a peer that has
 * gone is an error (EPIPE), not a signal. 0, or -1 with errno set. */
int fdio_write_all(int fd, const void *buf, size_t len, bool socket);

#endif

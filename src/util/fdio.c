/* fdio: the "write every byte" loop that sockets, pipes and files share. */
#include "util/fdio.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

int
fdio_write_all(int fd, const void *buf, size_t len, bool socket)
{
	const char *p = buf;
	ssize_t n;

	while (len > 0) {
		n = socket ? send(fd, p, len, MSG_NOSIGNAL) : write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

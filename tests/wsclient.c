/* Blocking WebSocket and HTTP client for the relay integration tests. */
#include "tests/wsclient.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "util/fdio.h"
#include "util/xmalloc.h"
#include "wire/b64.h"

struct wsclient {
	int fd;
	uint8_t *rx; /* bytes read but not yet parsed */
	size_t rx_len, rx_cap;
	uint8_t *msg; /* a fragmented message being reassembled */
	size_t msg_len;
	int close_code;
};

static int64_t
wsclient_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
wsclient_tcp(int port)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		return -1;
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		close(fd);
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return fd;
}

/* Read more into c->rx, waiting up to timeout_ms. 1 on data, 0 on
 * timeout, -1 on EOF or error. */
static int
wsclient_fill(struct wsclient *c, int timeout_ms)
{
	struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
	ssize_t n;
	int rc;

	rc = poll(&pfd, 1, timeout_ms < 0 ? 0 : timeout_ms);
	if (rc == 0)
		return 0;
	if (rc < 0)
		return errno == EINTR ? 0 : -1;
	if (c->rx_cap - c->rx_len < 65536) {
		c->rx_cap = c->rx_cap * 2 + 65536;
		c->rx = xrealloc(c->rx, c->rx_cap);
	}
	n = recv(c->fd, c->rx + c->rx_len, c->rx_cap - c->rx_len - 1, 0); /* room for a NUL */
	if (n <= 0)
		return -1;
	c->rx_len += (size_t)n;
	return 1;
}

static void
wsclient_consume(struct wsclient *c, size_t n)
{
	memmove(c->rx, c->rx + n, c->rx_len - n);
	c->rx_len -= n;
}

struct wsclient *
wsclient_connect(int port, const char *path, const char *subprotocol, int *http_status)
{
	static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
	struct wsclient *c;
	uint8_t nonce[16], digest[EVP_MAX_MD_SIZE];
	unsigned int dlen;
	char *key, *req, *accept, *want, *end, *concat;
	int64_t deadline;
	int status;

	if (http_status != NULL)
		*http_status = 0;
	c = xcalloc(1, sizeof *c);
	c->fd = wsclient_tcp(port);
	if (c->fd < 0) {
		free(c);
		return NULL;
	}
	RAND_bytes(nonce, sizeof nonce);
	key = b64_encode(nonce, sizeof nonce);
	if (subprotocol != NULL)
		req = xasprintf("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
		                "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
		                "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: %s\r\n\r\n",
		                path, port, key, subprotocol);
	else
		req = xasprintf("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
		                "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
		                "Sec-WebSocket-Version: 13\r\n\r\n",
		                path, port, key);
	concat = xasprintf("%s%s", key, guid);
	EVP_Digest(concat, strlen(concat), digest, &dlen, EVP_sha1(), NULL);
	want = b64_encode(digest, dlen);
	free(concat);
	free(key);
	if (fdio_write_all(c->fd, req, strlen(req), true) < 0)
		goto fail;
	deadline = wsclient_now_ms() + 5000;
	for (;;) {
		if (c->rx_len > 0) {
			c->rx[c->rx_len] = '\0';
			if ((end = strstr((char *)c->rx, "\r\n\r\n")) != NULL)
				break;
		}
		if (wsclient_now_ms() > deadline ||
		    wsclient_fill(c, (int)(deadline - wsclient_now_ms())) < 0)
			goto fail;
	}
	*end = '\0';
	if (sscanf((char *)c->rx, "HTTP/1.%*d %d", &status) != 1)
		goto fail;
	if (http_status != NULL)
		*http_status = status;
	accept = strcasestr((char *)c->rx, "\r\nSec-WebSocket-Accept: ");
	if (status != 101 || accept == NULL ||
	    strncmp(accept + strlen("\r\nSec-WebSocket-Accept: "), want, strlen(want)) != 0)
		goto fail;
	wsclient_consume(c, (size_t)(end + 4 - (char *)c->rx));
	free(req);
	free(want);
	return c;
fail:
	free(req);
	free(want);
	wsclient_free(c);
	return NULL;
}

int
wsclient_send(struct wsclient *c, int opcode, const void *buf, size_t len)
{
	uint8_t *frame = xmalloc(len + 14), mask[4];
	size_t o = 0, i;
	int rc;

	frame[o++] = (uint8_t)(0x80 | opcode);
	if (len < 126) {
		frame[o++] = (uint8_t)(0x80 | len);
	} else if (len < 65536) {
		frame[o++] = 0x80 | 126;
		frame[o++] = (uint8_t)(len >> 8);
		frame[o++] = (uint8_t)len;
	} else {
		frame[o++] = 0x80 | 127;
		for (i = 0; i < 8; i++)
			frame[o++] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
	}
	RAND_bytes(mask, sizeof mask);
	memcpy(frame + o, mask, 4);
	o += 4;
	for (i = 0; i < len; i++)
		frame[o + i] = ((const uint8_t *)buf)[i] ^ mask[i % 4];
	rc = fdio_write_all(c->fd, frame, o + len, true);
	free(frame);
	return rc;
}

int
wsclient_send_text(struct wsclient *c, const char *text)
{
	return wsclient_send(c, WSCLIENT_TEXT, text, strlen(text));
}

/* Parse one complete frame from c->rx. 1 and a finished text message in
 * *out, 0 when more bytes are needed or the frame was a control/partial
 * one, -1 when the connection closed. */
static int
wsclient_frame(struct wsclient *c, char **out)
{
	uint8_t *p = c->rx;
	size_t hdr = 2, len, i;
	int opcode, fin;

	if (c->rx_len < 2)
		return 0;
	fin = p[0] & 0x80;
	opcode = p[0] & 0x0F;
	len = p[1] & 0x7F;
	if (len == 126) {
		if (c->rx_len < 4)
			return 0;
		len = (size_t)p[2] << 8 | p[3];
		hdr = 4;
	} else if (len == 127) {
		if (c->rx_len < 10)
			return 0;
		for (len = 0, i = 0; i < 8; i++)
			len = len << 8 | p[2 + i];
		hdr = 10;
	}
	if (c->rx_len < hdr + len)
		return 0;
	p += hdr;
	switch (opcode) {
	case 0x8: /* close */
		c->close_code = len >= 2 ? (p[0] << 8 | p[1]) : 1005;
		wsclient_consume(c, hdr + len);
		return -1;
	case 0x9: /* ping: answer with the same payload */
		wsclient_send(c, 0xA, p, len);
		wsclient_consume(c, hdr + len);
		return 0;
	case 0xA:
		wsclient_consume(c, hdr + len);
		return 0;
	default:
		c->msg = xrealloc(c->msg, c->msg_len + len + 1);
		memcpy(c->msg + c->msg_len, p, len);
		c->msg_len += len;
		wsclient_consume(c, hdr + len);
		if (!fin)
			return 0;
		c->msg[c->msg_len] = '\0';
		*out = (char *)c->msg;
		c->msg = NULL;
		c->msg_len = 0;
		return 1;
	}
}

char *
wsclient_recv(struct wsclient *c, int timeout_ms)
{
	int64_t deadline = wsclient_now_ms() + timeout_ms;
	char *out = NULL;
	int rc;

	if (c->close_code != 0)
		return NULL;
	for (;;) {
		while ((rc = wsclient_frame(c, &out)) != 0) {
			if (rc < 0)
				return NULL;
			return out;
		}
		/* Always look at the socket once, even with no time left. */
		rc = wsclient_fill(c, (int)(deadline - wsclient_now_ms()));
		if (rc < 0) {
			c->close_code = -1;
			return NULL;
		}
		if (rc == 0 && wsclient_now_ms() >= deadline)
			return NULL;
	}
}

int
wsclient_close_code(const struct wsclient *c)
{
	return c->close_code;
}

int
wsclient_wait_close(struct wsclient *c, int timeout_ms)
{
	int64_t deadline = wsclient_now_ms() + timeout_ms;
	char *m;

	while (c->close_code == 0 && wsclient_now_ms() < deadline) {
		m = wsclient_recv(c, (int)(deadline - wsclient_now_ms()));
		free(m);
	}
	return c->close_code;
}

void
wsclient_free(struct wsclient *c)
{
	if (c == NULL)
		return;
	if (c->fd >= 0)
		close(c->fd);
	free(c->rx);
	free(c->msg);
	free(c);
}

int
wsclient_http(int port, const char *method, const char *path, const char *auth, const void *body,
              size_t body_len, long long content_length, uint8_t **resp, size_t *resp_len,
              int timeout_ms)
{
	struct wsclient c = {.fd = -1};
	int64_t deadline = wsclient_now_ms() + timeout_ms;
	char *head, *auth_line, *end, *cl;
	int status = -1, rc;
	size_t want = 0, hlen;

	if (resp != NULL)
		*resp = NULL;
	c.fd = wsclient_tcp(port);
	if (c.fd < 0)
		return -1;
	auth_line = auth != NULL ? xasprintf("Authorization: %s\r\n", auth) : xstrdup("");
	head = xasprintf("%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n%sContent-Length: %lld\r\n"
	                 "Connection: close\r\n\r\n",
	                 method, path, port, auth_line,
	                 content_length < 0 ? (long long)body_len : content_length);
	rc = fdio_write_all(c.fd, head, strlen(head), true);
	free(head);
	free(auth_line);
	/* A refused upload may be cut short by the server: ignore errors. */
	if (rc == 0 && body != NULL && body_len > 0)
		fdio_write_all(c.fd, body, body_len, true);
	for (;;) {
		if (c.rx_len > 0) {
			c.rx[c.rx_len] = '\0';
			end = strstr((char *)c.rx, "\r\n\r\n");
			if (end != NULL) {
				hlen = (size_t)(end + 4 - (char *)c.rx);
				cl = strcasestr((char *)c.rx, "\r\ncontent-length:");
				want = cl != NULL && cl < end ? strtoul(cl + 17, NULL, 10) : 0;
				if (c.rx_len >= hlen + want) {
					sscanf((char *)c.rx, "HTTP/1.%*d %d", &status);
					if (resp != NULL) {
						*resp = xmalloc(want + 1);
						memcpy(*resp, c.rx + hlen, want);
						(*resp)[want] = '\0';
						if (resp_len != NULL)
							*resp_len = want;
					}
					break;
				}
			}
		}
		if (wsclient_now_ms() >= deadline)
			break;
		if (c.rx_cap - c.rx_len < 65537) {
			c.rx_cap = c.rx_cap * 2 + 65537;
			c.rx = xrealloc(c.rx, c.rx_cap);
		}
		if (wsclient_fill(&c, (int)(deadline - wsclient_now_ms())) < 0)
			break;
	}
	close(c.fd);
	free(c.rx);
	return status;
}

/* The benchmark's WebSocket client (RFC 6455, client side): connect and
 * upgrade, masked text frames gathered by the caller into one write, and
 * a receive buffer read by offset and compacted once per refill rather
 * than once per frame. */
#include "bench/relaynet_ws.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
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
#include "wire/wire.h"

#define WS_RX_MIN 4096
#define WS_READ 65536 /* bytes asked of the socket per read once busy */

struct relaynet_ws {
	int fd;
	uint8_t mask[4]; /* one random key per connection */
	uint8_t *rx;     /* bytes read; rx_off..rx_len not yet parsed */
	size_t rx_off, rx_len, rx_cap;
	char *msg; /* the message handed out, or one arriving in fragments */
	size_t msg_len, msg_cap;
	int handed; /* msg was handed out: start afresh */
	int closed;
};

static int64_t
ws_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
relaynet_ws_write(struct relaynet_ws *ws, const void *buf, size_t len)
{
	return fdio_write_all(ws->fd, buf, len, true);
}

/* Read what the socket has (waiting up to timeout_ms for the first
 * byte): 1, 0 on timeout, -1 on end or error. */
static int
ws_fill(struct relaynet_ws *ws, int timeout_ms)
{
	struct pollfd pfd = {.fd = ws->fd, .events = POLLIN};
	ssize_t n;
	int rc;

	rc = poll(&pfd, 1, timeout_ms < 0 ? 0 : timeout_ms);
	if (rc == 0)
		return 0;
	if (rc < 0)
		return errno == EINTR ? 0 : -1;
	if (ws->rx_off > 0) {
		memmove(ws->rx, ws->rx + ws->rx_off, ws->rx_len - ws->rx_off);
		ws->rx_len -= ws->rx_off;
		ws->rx_off = 0;
	}
	/* Small until a connection proves busy: thousands sit idle. */
	if (ws->rx_cap - ws->rx_len < WS_RX_MIN) {
		ws->rx_cap = ws->rx_len + (ws->rx_cap == 0 ? WS_RX_MIN : WS_READ);
		ws->rx = xrealloc(ws->rx, ws->rx_cap);
	}
	n = recv(ws->fd, ws->rx + ws->rx_len, ws->rx_cap - ws->rx_len, 0);
	if (n < 0 && errno == EINTR)
		return 0;
	if (n <= 0)
		return -1;
	ws->rx_len += (size_t)n;
	return 1;
}

struct relaynet_ws *
relaynet_ws_connect(int port)
{
	struct relaynet_ws *ws = xcalloc(1, sizeof *ws);
	struct sockaddr_in sa;
	uint8_t nonce[16];
	char *key, *req, *end;
	int one = 1, status;
	int64_t deadline;

	ws->fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (ws->fd < 0 || connect(ws->fd, (struct sockaddr *)&sa, sizeof sa) < 0)
		goto fail;
	setsockopt(ws->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	RAND_bytes(ws->mask, sizeof ws->mask);
	RAND_bytes(nonce, sizeof nonce);
	key = b64_encode(nonce, sizeof nonce);
	req = xasprintf("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
	                "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
	                "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: %s\r\n\r\n",
	                WIRE_PATH, port, key, WIRE_SUBPROTOCOL);
	free(key);
	status = relaynet_ws_write(ws, req, strlen(req));
	free(req);
	if (status < 0)
		goto fail;
	deadline = ws_now_ms() + 5000;
	for (;;) {
		if (ws->rx_len > 0 && ws->rx_len < ws->rx_cap) {
			ws->rx[ws->rx_len] = '\0';
			if ((end = strstr((char *)ws->rx, "\r\n\r\n")) != NULL)
				break;
		}
		if (ws_now_ms() > deadline || ws_fill(ws, (int)(deadline - ws_now_ms())) < 0)
			goto fail;
	}
	if (sscanf((char *)ws->rx, "HTTP/1.%*d %d", &status) != 1 || status != 101)
		goto fail;
	ws->rx_off = (size_t)(end + 4 - (char *)ws->rx);
	return ws;
fail:
	relaynet_ws_free(ws);
	return NULL;
}

void
relaynet_ws_free(struct relaynet_ws *ws)
{
	if (ws == NULL)
		return;
	if (ws->fd >= 0)
		close(ws->fd);
	free(ws->rx);
	free(ws->msg);
	free(ws);
}

static size_t
ws_frame(const uint8_t mask[4], uint8_t *out, int opcode, const void *buf, size_t len)
{
	const uint8_t *in = buf;
	size_t o = 0, i;

	out[o++] = (uint8_t)(0x80 | opcode);
	if (len < 126) {
		out[o++] = (uint8_t)(0x80 | len);
	} else if (len < 65536) {
		out[o++] = 0x80 | 126;
		out[o++] = (uint8_t)(len >> 8);
		out[o++] = (uint8_t)len;
	} else {
		out[o++] = 0x80 | 127;
		for (i = 0; i < 8; i++)
			out[o++] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
	}
	memcpy(out + o, mask, 4);
	o += 4;
	for (i = 0; i < len; i++)
		out[o + i] = in[i] ^ mask[i & 3];
	return o + len;
}

size_t
relaynet_ws_frame(const struct relaynet_ws *ws, uint8_t *out, const char *text, size_t len)
{
	return ws_frame(ws->mask, out, 0x1, text, len);
}

int
relaynet_ws_send(struct relaynet_ws *ws, const char *text, size_t len)
{
	uint8_t *frame = xmalloc(len + RELAYNET_WS_HEADER_MAX);
	int rc = relaynet_ws_write(ws, frame, relaynet_ws_frame(ws, frame, text, len));

	free(frame);
	return rc;
}

static void
ws_msg_append(struct relaynet_ws *ws, const uint8_t *p, size_t len)
{
	if (ws->msg_len + len + 1 > ws->msg_cap) {
		ws->msg_cap = (ws->msg_len + len + 1) * 2;
		ws->msg = xrealloc(ws->msg, ws->msg_cap);
	}
	memcpy(ws->msg + ws->msg_len, p, len);
	ws->msg_len += len;
}

/* One frame from the buffer: 1 with a whole text message in ws->msg, 0
 * when more bytes are needed or it was a control frame or a fragment, -1
 * on close. */
static int
ws_parse(struct relaynet_ws *ws)
{
	uint8_t *p = ws->rx + ws->rx_off, pong[RELAYNET_WS_HEADER_MAX + 125];
	size_t avail = ws->rx_len - ws->rx_off, hdr = 2, len, i;
	int opcode, fin;

	if (avail < 2)
		return 0;
	fin = p[0] & 0x80;
	opcode = p[0] & 0x0F;
	len = p[1] & 0x7F;
	if (len == 126) {
		if (avail < 4)
			return 0;
		len = (size_t)p[2] << 8 | p[3];
		hdr = 4;
	} else if (len == 127) {
		if (avail < 10)
			return 0;
		for (len = 0, i = 0; i < 8; i++)
			len = len << 8 | p[2 + i];
		hdr = 10;
	}
	if (avail - hdr < len)
		return 0;
	ws->rx_off += hdr + len;
	p += hdr;
	switch (opcode) {
	case 0x8:
		ws->closed = 1;
		return -1;
	case 0x9:
		if (len <= 125)
			relaynet_ws_write(ws, pong, ws_frame(ws->mask, pong, 0xA, p, len));
		return 0;
	case 0xA:
		return 0;
	default:
		ws_msg_append(ws, p, len);
		return fin ? 1 : 0;
	}
}

int
relaynet_ws_recv(struct relaynet_ws *ws, int timeout_ms, const char **text, size_t *len)
{
	int64_t deadline = ws_now_ms() + timeout_ms;
	int rc;

	if (ws->closed)
		return -1;
	if (ws->handed)
		ws->msg_len = 0;
	ws->handed = 0;
	for (;;) {
		while ((rc = ws_parse(ws)) != 0) {
			if (rc < 0)
				return -1;
			ws->msg[ws->msg_len] = '\0';
			ws->handed = 1;
			*text = ws->msg;
			*len = ws->msg_len;
			return 1;
		}
		/* Look at the socket once even with no time left. */
		rc = ws_fill(ws, (int)(deadline - ws_now_ms()));
		if (rc < 0) {
			ws->closed = 1;
			return -1;
		}
		if (rc == 0 && ws_now_ms() >= deadline)
			return 0;
	}
}

void
relaynet_ws_trim(struct relaynet_ws *ws)
{
	if (ws->rx_off < ws->rx_len || (ws->msg_len > 0 && !ws->handed))
		return;
	free(ws->rx);
	free(ws->msg);
	ws->rx = NULL;
	ws->msg = NULL;
	ws->rx_off = ws->rx_len = ws->rx_cap = ws->msg_len = ws->msg_cap = 0;
	ws->handed = 0;
}

/* The benchmark's own WebSocket client: frames written many per system
 * call, received into one buffer consumed by offset, so that the client
 * is not what limits a relay benchmark (tests/wsclient is built for
 * checking the relay, one frame and one system call at a time). */
#ifndef SOTTO_BENCH_RELAYNET_WS_H
#define SOTTO_BENCH_RELAYNET_WS_H

#include <stddef.h>
#include <stdint.h>

#define RELAYNET_WS_HEADER_MAX 14 /* a client frame's header with its mask */

struct relaynet_ws;

/* Connect to 127.0.0.1:port and upgrade to the relay's subprotocol;
 * NULL on failure. */
struct relaynet_ws *relaynet_ws_connect(int port);
void relaynet_ws_free(struct relaynet_ws *ws);

/* Append text as one masked text frame at out (room for len +
 * RELAYNET_WS_HEADER_MAX); returns the bytes written. */
size_t relaynet_ws_frame(const struct relaynet_ws *ws, uint8_t *out, const char *text, size_t len);
/* Write bytes (whole frames) to the socket; 0 or -1. */
int relaynet_ws_write(struct relaynet_ws *ws, const void *buf, size_t len);
/* One text frame, written alone; 0 or -1. */
int relaynet_ws_send(struct relaynet_ws *ws, const char *text, size_t len);

/* The next text message within timeout_ms (pings answered on the way):
 * 1 with *text (NUL-terminated, owned by ws, valid until the next call)
 * and *len, 0 on timeout, -1 once the connection closed. */
int relaynet_ws_recv(struct relaynet_ws *ws, int timeout_ms, const char **text, size_t *len);
/* Give back the receive buffers while nothing is pending (idle
 * connections by the thousand). */
void relaynet_ws_trim(struct relaynet_ws *ws);

#endif

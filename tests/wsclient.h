/* A small blocking WebSocket (RFC 6455) and HTTP/1.1 client over plain
 * sockets for the relay integration tests. Written from the RFC rather than
 * on libwebsockets so the relay is checked against a second, independent
 * implementation, and so tests can send what a library would refuse
 * (binary frames, oversized frames, garbage). */
#ifndef SOTTO_TESTS_WSCLIENT_H
#define SOTTO_TESTS_WSCLIENT_H

#include <stddef.h>
#include <stdint.h>

#define WSCLIENT_TEXT 0x1
#define WSCLIENT_BINARY 0x2

struct wsclient;

/* Connect to 127.0.0.1:port and upgrade on path, offering subprotocol
 * (NULL: none). NULL on failure; *http_status (may be NULL) gets the
 * status line's code when the upgrade was answered but refused. */
struct wsclient *wsclient_connect(int port, const char *path, const char *subprotocol,
                                  int *http_status);
/* Send one frame (masked, as a client must); 0 or -1. */
int wsclient_send(struct wsclient *c, int opcode, const void *buf, size_t len);
int wsclient_send_text(struct wsclient *c, const char *text);
/* The next text message within timeout_ms (pings are answered on the
 * way), malloc'ed and NUL-terminated; NULL on timeout or when the
 * connection closed (see wsclient_close_code). */
char *wsclient_recv(struct wsclient *c, int timeout_ms);
/* 0 while open; the peer's close code once closed (1005 when it sent
 * none, -1 when the TCP connection ended without a close frame). */
int wsclient_close_code(const struct wsclient *c);
/* Read and drop messages until the connection closes; returns the close
 * code, or 0 if still open after timeout_ms. */
int wsclient_wait_close(struct wsclient *c, int timeout_ms);
void wsclient_free(struct wsclient *c);

/* One HTTP/1.1 request with "Connection: close". auth (may be NULL) is the
 * Authorization value. content_length < 0 sends the body's real length;
 * otherwise that number is announced (the body may then be shorter, e.g.
 * NULL to test a refusal before upload). Returns the status code (or -1),
 * with the response body in *resp (malloc'ed, NUL-terminated; may be
 * NULL to discard). */
int wsclient_http(int port, const char *method, const char *path, const char *auth,
                  const void *body, size_t body_len, long long content_length, uint8_t **resp,
                  size_t *resp_len, int timeout_ms);

#endif

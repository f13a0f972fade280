/* The HTTP side of sotto-relay's port: the WebSocket upgrade gate (path,
 * subprotocol, connection limit, draining) and the blob endpoint
 * POST /v1/blobs and GET /v1/blobs/ID, authenticated with the device
 * secret. */
#include "relay/server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wire/b64.h"

#define HTTP_CHUNK 65536

struct http_sess {
	int status;
	unsigned char *body; /* LWS_PRE + JSON answer, sent in HTTP_WRITEABLE */
	size_t body_len;
	int close_after; /* an unread request body may follow */
	int fd;          /* a blob being sent, or -1 */
	uint64_t file_left;
	int is_upload;
	struct rstore_blob_writer *writer;
	int upload_status; /* failure while receiving, 0 if none */
	char account[WIRE_NAME_MAX + 1];
};

size_t
server_http_session_size(void)
{
	return sizeof(struct http_sess);
}

static void
http_sess_reset(struct http_sess *h)
{
	free(h->body);
	h->body = NULL;
	if (h->fd > 0)
		close(h->fd);
	h->fd = -1;
	rstore_blob_abort(h->writer);
	h->writer = NULL;
}

/* Send the status line and headers now and the JSON body when writable. */
static int
http_reply(struct lws *wsi, struct http_sess *h, int status, const char *json)
{
	unsigned char buf[LWS_PRE + 1024], *start = &buf[LWS_PRE], *p = start,
	                                   *end = &buf[sizeof buf - 1];

	free(h->body);
	h->body_len = strlen(json);
	h->body = xmalloc(LWS_PRE + h->body_len);
	memcpy(h->body + LWS_PRE, json, h->body_len);
	h->status = status;
	if (lws_add_http_common_headers(wsi, (unsigned int)status, "application/json", h->body_len,
	                                &p, end) ||
	    lws_finalize_write_http_header(wsi, start, &p, end))
		return -1;
	lws_callback_on_writable(wsi);
	return 0;
}

static int
http_error(struct lws *wsi, struct http_sess *h, int status, const char *message)
{
	char *json =
	    xasprintf("{\"error\":\"%s\",\"message\":\"%s\"}", wire_status_error(status), message);
	int rc = http_reply(wsi, h, status, json);

	free(json);
	return rc;
}

/* The device named by the Authorization header, or -1 after a 401. */
static int
http_auth(struct server *s, struct lws *wsi, struct http_sess *h)
{
	char value[512];
	uint8_t secret[WIRE_SECRET_LEN];
	uint32_t device;
	int ok;

	if (lws_hdr_copy(wsi, value, sizeof value, WSI_TOKEN_HTTP_AUTHORIZATION) <= 0 ||
	    wire_http_auth_parse(value, h->account, &device, secret, NULL) < 0) {
		wipe(value, sizeof value);
		return -1;
	}
	ok = rstore_device_auth(s->store, h->account, device, secret, NULL) == 0;
	wipe(value, sizeof value);
	wipe(secret, sizeof secret);
	return ok ? 0 : -1;
}

static int
http_begin_upload(struct server *s, struct lws *wsi, struct http_sess *h)
{
	char value[32], *endp;
	unsigned long long size;
	struct err e = {0};

	h->close_after = 1; /* on any refusal the body is left unread */
	if (lws_hdr_copy(wsi, value, sizeof value, WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0)
		return http_error(wsi, h, 400, "Content-Length is required");
	errno = 0;
	size = strtoull(value, &endp, 10);
	if (errno != 0 || *endp != '\0' || value[0] < '0' || value[0] > '9')
		return http_error(wsi, h, 400, "bad Content-Length");
	if (size == 0)
		return http_error(wsi, h, 400, "empty blob");
	if (size > (unsigned long long)s->cfg.store.max_blob)
		return http_error(wsi, h, 413, "blob too large");
	if (rstore_blob_begin(s->store, h->account, size, &h->writer, &e) < 0)
		return http_error(wsi, h, e.code == ERR_TOOLARGE ? 413 : 503, "cannot store blob");
	h->is_upload = 1;
	h->close_after = 0;
	return 0;
}

static int
http_begin_download(struct server *s, struct lws *wsi, struct http_sess *h, const char *id_text)
{
	unsigned char buf[LWS_PRE + 512], *start = &buf[LWS_PRE], *p = start,
	                                  *end = &buf[sizeof buf - 1];
	uint8_t id[WIRE_BLOB_ID_LEN];
	struct err e = {0};
	uint64_t size;
	int fd;

	if (b64url_decode_exact(id_text, strlen(id_text), id, sizeof id, NULL) < 0)
		return http_error(wsi, h, 404, "no such blob");
	if (rstore_blob_open(s->store, id, &fd, &size, &e) < 0)
		return http_error(wsi, h, e.code == ERR_NOTFOUND ? 404 : 503, "no such blob");
	h->fd = fd;
	h->file_left = size;
	if (lws_add_http_common_headers(wsi, 200, "application/octet-stream", size, &p, end) ||
	    lws_finalize_write_http_header(wsi, start, &p, end))
		return -1;
	lws_callback_on_writable(wsi);
	return 0;
}

static int
http_finish_upload(struct server *s, struct lws *wsi, struct http_sess *h)
{
	uint8_t id[WIRE_BLOB_ID_LEN];
	struct err e = {0};
	char *id_text, *json;
	int rc;

	if (h->writer == NULL)
		return http_error(wsi, h, h->upload_status ? h->upload_status : 400,
		                  "upload refused");
	/* The blob must be durable by itself before we answer 201: flush
	 * whatever batch this service pass opened first. */
	server_commit(s);
	rc = rstore_blob_finish(h->writer, id, &e);
	h->writer = NULL;
	if (rc < 0)
		return http_error(wsi, h, e.code == ERR_TOOLARGE ? 413 : 503, "cannot store blob");
	id_text = b64url_encode(id, sizeof id);
	json = xasprintf("{\"id\":\"%s\"}", id_text);
	rc = http_reply(wsi, h, 201, json);
	free(json);
	free(id_text);
	return rc;
}

static int
http_write_file(struct lws *wsi, struct http_sess *h)
{
	unsigned char buf[LWS_PRE + HTTP_CHUNK];
	size_t want = h->file_left < HTTP_CHUNK ? (size_t)h->file_left : HTTP_CHUNK;
	ssize_t n = read(h->fd, buf + LWS_PRE, want);
	int last;

	if (n <= 0)
		return -1;
	h->file_left -= (uint64_t)n;
	last = h->file_left == 0;
	if (lws_write(wsi, buf + LWS_PRE, (size_t)n,
	              last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int)n)
		return -1;
	if (!last) {
		lws_callback_on_writable(wsi);
		return 0;
	}
	close(h->fd);
	h->fd = -1;
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/* Refuse a WebSocket upgrade we will not serve; >0 means answered. */
static int
http_confirm_upgrade(struct server *s, struct lws *wsi)
{
	char uri[64], proto[256], *tok, *save = NULL;
	int offered = 0;

	if (lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) <= 0 ||
	    strcmp(uri, WIRE_PATH) != 0)
		return lws_return_http_status(wsi, 404, NULL) ? -1 : 1;
	if (lws_hdr_copy(wsi, proto, sizeof proto, WSI_TOKEN_PROTOCOL) > 0) {
		for (tok = strtok_r(proto, ", ", &save); tok != NULL;
		     tok = strtok_r(NULL, ", ", &save))
			if (strcmp(tok, WIRE_SUBPROTOCOL) == 0)
				offered = 1;
	}
	if (!offered)
		return lws_return_http_status(wsi, 400, "subprotocol sotto.v1 required") ? -1 : 1;
	if (s->draining || s->n_conns >= s->cfg.max_connections)
		return lws_return_http_status(wsi, 503, NULL) ? -1 : 1;
	return 0;
}

int
server_http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                     size_t len)
{
	struct server *s = lws_context_user(lws_get_context(wsi));
	struct http_sess *h = user;
	const char *uri = in;
	struct err e = {0};

	switch (reason) {
	case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
		return http_confirm_upgrade(s, wsi);
	case LWS_CALLBACK_HTTP:
		memset(h, 0, sizeof *h);
		h->fd = -1;
		if (s->draining)
			return http_error(wsi, h, 503, "shutting down");
		if (lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0) {
			if (strcmp(uri, "/v1/blobs") != 0) {
				h->close_after = 1;
				return http_error(wsi, h, 404, "not found");
			}
			if (http_auth(s, wsi, h) < 0) {
				h->close_after = 1;
				return http_error(wsi, h, 401, "authentication required");
			}
			return http_begin_upload(s, wsi, h);
		}
		if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) > 0 &&
		    strncmp(uri, "/v1/blobs/", 10) == 0) {
			if (http_auth(s, wsi, h) < 0)
				return http_error(wsi, h, 401, "authentication required");
			return http_begin_download(s, wsi, h, uri + 10);
		}
		h->close_after = 1;
		return http_error(wsi, h, 404, "not found");
	case LWS_CALLBACK_HTTP_BODY:
		if (h->writer != NULL && rstore_blob_write(h->writer, in, len, &e) < 0) {
			h->upload_status = e.code == ERR_TOOLARGE ? 413 : 503;
			rstore_blob_abort(h->writer);
			h->writer = NULL;
		}
		return 0;
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		if (!h->is_upload)
			return 0;
		return http_finish_upload(s, wsi, h);
	case LWS_CALLBACK_HTTP_WRITEABLE:
		if (h->fd >= 0)
			return http_write_file(wsi, h);
		if (h->body == NULL)
			return 0;
		if (lws_write(wsi, h->body + LWS_PRE, h->body_len, LWS_WRITE_HTTP_FINAL) !=
		    (int)h->body_len)
			return -1;
		free(h->body);
		h->body = NULL;
		if (h->close_after)
			return -1;
		return lws_http_transaction_completed(wsi) ? -1 : 0;
	case LWS_CALLBACK_CLOSED_HTTP:
	case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
		if (h != NULL)
			http_sess_reset(h);
		return 0;
	default:
		return 0;
	}
}

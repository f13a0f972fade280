/* One attached frontend: accepting it, reading its JSON-RPC lines,
 * dispatching them to methods, and writing answers and notifications back
 * without ever blocking the loop or buffering without bound. */
#include "engine_int.h"

#include "cmd.h"
#include "jsonrpc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void
engine_conn_doom(struct engine_conn *conn)
{
	if (conn->doomed)
		return;
	conn->doomed = true;
	lws_set_timeout(conn->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

void
engine_conn_send(struct engine_conn *conn, const char *line)
{
	struct err e;

	if (conn->doomed)
		return;
	if (ipc_conn_queue_line(&conn->io, line, strlen(line), &e) < 0) {
		/* It may reconnect and catch up from its event cursor. */
		fprintf(stderr, "sotto engine: dropping a frontend: %s\n", e.msg);
		engine_conn_doom(conn);
		return;
	}
	lws_callback_on_writable(conn->wsi);
}

static void engine_conn_send_error(struct engine_conn *conn, json_t *id, int code, const char *fmt,
                                   ...) printflike(4, 5);

static void
engine_conn_send_error(struct engine_conn *conn, json_t *id, int code, const char *fmt, ...)
{
	char message[300], *line;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof message, fmt, ap);
	va_end(ap);
	line = jsonrpc_error_line(id, code, message, NULL);
	engine_conn_send(conn, line);
	free(line);
}

static void
engine_req_done(struct engine_req *req)
{
	struct engine_conn *conn = req->conn;

	if (conn != NULL) {
		if (req->prev != NULL)
			req->prev->next = req->next;
		else
			conn->reqs = req->next;
		if (req->next != NULL)
			req->next->prev = req->prev;
		/* A frontend that said goodbye is closed once answered. */
		if (conn->io.eof && conn->reqs == NULL)
			lws_callback_on_writable(conn->wsi);
	}
	json_decref(req->id);
	free(req->method);
	free(req);
}

void
engine_req_reply(struct engine_req *req, json_t *result)
{
	char *line;

	if (req->conn != NULL && req->id != NULL) {
		line = jsonrpc_result_line(req->id, result);
		engine_conn_send(req->conn, line);
		free(line);
	} else {
		json_decref(result);
	}
	engine_req_done(req);
}

void
engine_req_fail(struct engine_req *req, int code, const char *fmt, ...)
{
	char message[300];
	va_list ap;

	if (req->conn != NULL && req->id != NULL) {
		va_start(ap, fmt);
		vsnprintf(message, sizeof message, fmt, ap);
		va_end(ap);
		engine_conn_send_error(req->conn, req->id, code, "%s", message);
	}
	engine_req_done(req);
}

/* The error's class travels as data.reason ("untrusted", "badkey", ...):
 * scripts branch on it, never on the message text. */
void
engine_req_fail_err(struct engine_req *req, const struct err *e)
{
	char *line;

	if (req->conn != NULL && req->id != NULL) {
		line = jsonrpc_error_line(req->id, jsonrpc_code_from_err(e->code), e->msg,
		                          json_pack("{s:s}", "reason", err_code_name(e->code)));
		engine_conn_send(req->conn, line);
		free(line);
	}
	engine_req_done(req);
}

struct engine *
engine_req_engine(const struct engine_req *req)
{
	return req->eng;
}

const char *
engine_req_method(const struct engine_req *req)
{
	return req->method;
}

/* Methods that work before the database is unlocked ("status" says
 * whether it is, and whether an unlock is under way). */
static int
engine_conn_allowed_locked(const char *method)
{
	return strncmp(method, "engine.", 7) == 0 || strcmp(method, "unlock") == 0 ||
	       strcmp(method, "status") == 0;
}

static void
engine_conn_call(struct engine_conn *conn, struct jsonrpc_msg *m)
{
	struct engine *eng = conn->tag.eng;
	const struct cmd_entry *ce = cmd_find_method(m->method);
	struct engine_method *method = engine_method_find(eng, m->method);
	struct engine_req *req;
	struct err e;

	/* Nobody answers a notification, errors included (JSON-RPC 2.0).
	 * Parameters are checked first so that scripts written before a
	 * method is implemented already learn its shape. */
	if (method == NULL && ce == NULL) {
		if (m->id != NULL)
			engine_conn_send_error(conn, m->id, JSONRPC_METHOD_NOT_FOUND,
			                       "unknown method \"%s\"", m->method);
		return;
	}
	if (m->params != NULL && !json_is_object(m->params)) {
		if (m->id != NULL)
			engine_conn_send_error(conn, m->id, JSONRPC_INVALID_PARAMS,
			                       "params must be an object of named parameters");
		return;
	}
	if (ce != NULL && cmd_params_check(ce, m->params, &e) < 0) {
		if (m->id != NULL)
			engine_conn_send_error(conn, m->id, JSONRPC_INVALID_PARAMS, "%s", e.msg);
		return;
	}
	if (method == NULL) {
		if (m->id != NULL)
			engine_conn_send_error(conn, m->id, JSONRPC_NOT_IMPLEMENTED,
			                       "%s: not implemented yet in this build", m->method);
		return;
	}
	if (eng->locked && !engine_conn_allowed_locked(m->method)) {
		if (m->id != NULL)
			engine_conn_send_error(conn, m->id, JSONRPC_LOCKED,
			                       "the profile is locked: call unlock first");
		return;
	}
	req = xcalloc(1, sizeof *req);
	req->eng = eng;
	req->conn = conn;
	req->id = m->id != NULL ? json_incref(m->id) : NULL;
	req->method = xstrdup(m->method);
	req->next = conn->reqs;
	if (conn->reqs != NULL)
		conn->reqs->prev = req;
	conn->reqs = req;
	method->fn(req, m->params, method->ctx);
}

static void
engine_conn_line(struct engine_conn *conn, char *line, size_t len)
{
	struct jsonrpc_msg m;
	struct jsonrpc_fault f;

	if (strspn(line, " \t\r") == len)
		return; /* blank lines are harmless; scripts produce them */
	if (jsonrpc_parse(line, len, &m, &f) < 0) {
		engine_conn_send_error(conn, f.id, f.code, "%s", f.message);
		jsonrpc_fault_clear(&f);
		return;
	}
	if (m.kind == JSONRPC_RESULT || m.kind == JSONRPC_ERROR)
		engine_conn_send_error(conn, m.id, JSONRPC_INVALID_REQUEST,
		                       "the engine sends no requests, so it takes no responses");
	else
		engine_conn_call(conn, &m);
	jsonrpc_msg_clear(&m);
}

/* Handle every complete line buffered, unless output backs up. */
static void
engine_conn_process(struct engine_conn *conn)
{
	struct err e;
	size_t len;
	char *line;
	int r;

	while (!conn->doomed && !conn->paused) {
		r = ipc_conn_next_line(&conn->io, &line, &len, &e);
		if (r == 0)
			break;
		if (r < 0) {
			engine_conn_send_error(conn, NULL, JSONRPC_INVALID_REQUEST,
			                       "line too long: the limit is %d bytes",
			                       JSONRPC_LINE_MAX);
			continue;
		}
		engine_conn_line(conn, line, len);
		/* An unlock line holds the passphrase. */
		wipe(line, len);
		if (conn->io.out.len - conn->io.out.off > ENGINE_OUT_PAUSE) {
			conn->paused = true;
			lws_rx_flow_control(conn->wsi, 0);
		}
	}
}

/* Nothing more will come and nothing is owed: time to close. */
static int
engine_conn_finished(const struct engine_conn *conn)
{
	return conn->io.eof && conn->reqs == NULL && !ipc_conn_pending(&conn->io);
}

static void
engine_conn_closed(struct engine_conn *conn)
{
	struct engine *eng = conn->tag.eng;
	struct engine_req *req;

	/* Requests still being worked on answer into the void. */
	for (req = conn->reqs; req != NULL; req = req->next)
		req->conn = NULL;
	if (conn->prev != NULL)
		conn->prev->next = conn->next;
	else
		eng->conns = conn->next;
	if (conn->next != NULL)
		conn->next->prev = conn->prev;
	eng->nconns--;
	lws_sul_cancel(&conn->rearm);
	ipc_conn_clear(&conn->io); /* lws closes the descriptor */
	free(conn);
	if (!eng->stopping)
		engine_emit(eng, "frontend.detached",
		            json_pack("{s:I}", "frontends", (json_int_t)eng->nconns));
	engine_frontends_changed(eng);
}

static void
engine_conn_rearm(lws_sorted_usec_list_t *sul)
{
	struct engine_conn *conn = lws_container_of(sul, struct engine_conn, rearm);

	lws_callback_on_writable(conn->wsi);
}

int
engine_conn_callback(struct lws *wsi, enum lws_callback_reasons reason, struct engine_conn *conn)
{
	struct err e;

	switch (reason) {
	case LWS_CALLBACK_RAW_RX_FILE:
		if (conn->doomed || ipc_conn_read(&conn->io, &e) < 0)
			return -1;
		engine_conn_process(conn);
		if (conn->io.eof) {
			/* Half-closed: answer what was asked, then close. */
			if (!conn->paused)
				lws_rx_flow_control(wsi, 0);
			conn->paused = true;
			if (engine_conn_finished(conn))
				return -1;
		}
		return conn->doomed ? -1 : 0;
	case LWS_CALLBACK_RAW_WRITEABLE_FILE:
		if (conn->doomed || ipc_conn_flush(&conn->io, &e) < 0)
			return -1;
		if (ipc_conn_pending(&conn->io)) {
			lws_sul_schedule(lws_get_context(wsi), 0, &conn->rearm, engine_conn_rearm,
			                 1);
			return 0;
		}
		if (conn->paused && !conn->io.eof) {
			conn->paused = false;
			lws_rx_flow_control(wsi, 1);
			/* Lines read before the pause are still waiting. */
			engine_conn_process(conn);
		}
		return engine_conn_finished(conn) ? -1 : 0;
	case LWS_CALLBACK_RAW_CLOSE_FILE:
		engine_conn_closed(conn);
		return 0;
	default:
		return 0;
	}
}

void
engine_conn_accept_all(struct engine *eng, int listen_fd)
{
	struct engine_conn *conn;
	struct err e;
	int fd;

	for (;;) {
		fd = ipc_accept(listen_fd, &e);
		if (fd < 0) {
			if (e.code == ERR_BUSY)
				return;
			fprintf(stderr, "sotto engine: %s\n", e.msg);
			if (e.code == ERR_AUTH)
				continue;
			return;
		}
		conn = xcalloc(1, sizeof *conn);
		conn->tag.kind = ENGINE_FD_CONN;
		conn->tag.eng = eng;
		ipc_conn_init(&conn->io, fd);
		conn->wsi = engine_adopt(eng, fd, conn);
		if (conn->wsi == NULL) {
			fprintf(stderr, "sotto engine: cannot add a frontend to the loop\n");
			close(fd);
			ipc_conn_clear(&conn->io);
			free(conn);
			continue;
		}
		conn->next = eng->conns;
		if (eng->conns != NULL)
			eng->conns->prev = conn;
		eng->conns = conn;
		eng->nconns++;
		engine_frontends_changed(eng);
		engine_emit(eng, "frontend.attached",
		            json_pack("{s:I}", "frontends", (json_int_t)eng->nconns));
	}
}

void
engine_conn_flush_all(struct engine *eng)
{
	struct engine_conn *conn;
	struct err e;

	for (conn = eng->conns; conn != NULL; conn = conn->next)
		if (!conn->doomed)
			ipc_conn_flush(&conn->io, &e);
}

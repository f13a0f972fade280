/* Engine commands: `sotto rpc` (a stdin/stdout JSON-RPC bridge), `sotto
 * daemon`, the hidden `sotto engine` that auto-start runs, and the
 * engine's own JSON-RPC methods, listed here so they are documented and
 * their parameters checked like every other method. */
#include "cmd.h"

#include "client.h"
#include "engine.h"
#include "jsonrpc.h"
#include "profile.h"
#include "util/fdio.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Stop reading stdin while this much waits to go to the engine. */
#define CMD_ENGINE_BRIDGE_BACKLOG (1024 * 1024)

static int
cmd_engine_print_line(int fd, const char *line, size_t len)
{
	if (fdio_write_all(fd, line, len, false) < 0 || fdio_write_all(fd, "\n", 1, false) < 0)
		return -1;
	return 0;
}

/* Lines from stdin go to the engine, lines from the engine go to stdout,
 * notifications included. When stdin ends, the write side of the socket
 * is shut: the engine answers what it was asked, then closes, and so do
 * we. */
static int
cmd_engine_bridge(struct cmd_ctx *ctx, struct client *c)
{
	struct ipc_conn in, *sock = &c->conn;
	int out = fileno(ctx->out), status = -1, shut = 0;
	struct pollfd pfd[2];
	struct err e;
	size_t len, i;
	char *line;
	int r;

	fflush(ctx->out);
	for (i = 0; i < json_array_size(c->notifications); i++) {
		char *s = json_dumps(json_array_get(c->notifications, i), JSON_COMPACT);
		if (s != NULL)
			cmd_engine_print_line(out, s, strlen(s));
		free(s);
	}
	ipc_conn_init(&in, fileno(ctx->in));
	if (ipc_set_nonblocking(sock->fd, true, &e) < 0)
		goto fail;
	while (status < 0) {
		while ((r = ipc_conn_next_line(sock, &line, &len, &e)) != 0) {
			if (r < 0)
				goto fail;
			if (cmd_engine_print_line(out, line, len) < 0) {
				err_set(&e, ERR_IO, "writing to standard output: %s",
				        strerror(errno));
				goto fail;
			}
		}
		if (sock->eof) {
			if (!in.eof) {
				err_set(&e, ERR_NETWORK, "the engine closed the connection");
				goto fail;
			}
			status = CMD_EXIT_OK;
			break;
		}
		while (sock->out.len - sock->out.off < CMD_ENGINE_BRIDGE_BACKLOG &&
		       (r = ipc_conn_next_line(&in, &line, &len, &e)) != 0) {
			char *reply;
			if (r > 0) {
				r = ipc_conn_queue_line(sock, line, len, &e);
				wipe(line, len); /* it may be an unlock */
				if (r < 0)
					goto fail;
				continue;
			}
			/* Say what the engine would have said. */
			reply = jsonrpc_error_line(NULL, JSONRPC_INVALID_REQUEST, e.msg, NULL);
			cmd_engine_print_line(out, reply, strlen(reply));
			free(reply);
		}
		if (ipc_conn_flush(sock, &e) < 0)
			goto fail;
		if (in.eof && !shut && !ipc_conn_pending(sock) && in.in.off == in.in.len) {
			shutdown(sock->fd, SHUT_WR);
			shut = 1;
		}
		pfd[0].fd = in.eof || sock->out.len - sock->out.off >= CMD_ENGINE_BRIDGE_BACKLOG
		                ? -1
		                : in.fd;
		pfd[0].events = POLLIN;
		pfd[1].fd = sock->fd;
		pfd[1].events = POLLIN | (ipc_conn_pending(sock) ? POLLOUT : 0);
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			err_set(&e, ERR_IO, "poll: %s", strerror(errno));
			goto fail;
		}
		if (pfd[0].revents != 0 && ipc_conn_read(&in, &e) < 0)
			goto fail;
		if ((pfd[1].revents & (POLLIN | POLLHUP | POLLERR)) && ipc_conn_read(sock, &e) < 0)
			goto fail;
	}
	ipc_conn_clear(&in);
	return status;
fail:
	ipc_conn_clear(&in);
	return cmd_remote_fail(ctx, &e);
}

static int
cmd_engine_rpc_exec(struct cmd_ctx *ctx, const struct cmd_args *args)
{
	struct profile p;
	struct client c;
	int status;

	status = cmd_remote_profile(ctx, &p);
	if (status != CMD_EXIT_OK)
		return status;
	/* Stdin is the request stream, never a prompt: only unlock up front
	 * when a passphrase file was given; scripts may call unlock too. */
	status = cmd_remote_attach(ctx, &p, &c, ctx->passphrase_file != NULL);
	profile_clear(&p);
	if (status != CMD_EXIT_OK)
		return status;
	status = cmd_engine_bridge(ctx, &c);
	client_close(&c);
	return status;
}

const struct cmd_entry cmd_engine_rpc_entry = {
    .name = "rpc",
    .summary = "speak JSON-RPC with the engine over standard input and output",
    .help = "Each line read is one JSON-RPC 2.0 request or notification for the engine, "
            "starting one if needed; each line written is an answer or a notification "
            "(for example an event after engine.subscribe). Batches are refused. When "
            "standard input ends, rpc waits for the answers it is owed and exits.\n\n"
            "A locked profile is unlocked first when --passphrase-file is given; otherwise "
            "send an unlock request yourself. Nothing is ever prompted for.",
    .where = CMD_CLI,
    .exec = cmd_engine_rpc_exec,
};

/* Run an engine in this process until it stops. ready_fd, when not -1,
 * is told "ready", "busy" or "error CODE MESSAGE". */
static int
cmd_engine_serve(struct cmd_ctx *ctx, bool persistent, int ready_fd, bool detached,
                 const char *pass)
{
	struct engine_config cfg;
	struct engine *eng;
	struct core *core;
	struct profile p;
	struct err e;
	int status, fd;

	status = cmd_remote_profile(ctx, &p);
	if (status != CMD_EXIT_OK) {
		if (ready_fd >= 0)
			dprintf(ready_fd, "error %d profile directory unusable\n", ERR_AUTH);
		return status;
	}
	memset(&cfg, 0, sizeof cfg);
	cfg.profile = &p;
	cfg.persistent = persistent;
	cfg.passphrase = pass;
	cfg.passphrase_len = pass != NULL ? strlen(pass) : 0;
	eng = engine_new(&cfg, &e);
	if (eng == NULL) {
		if (ready_fd >= 0) {
			if (e.code == ERR_BUSY)
				dprintf(ready_fd, "busy\n");
			else
				dprintf(ready_fd, "error %d %s\n", (int)e.code, e.msg);
		}
		profile_clear(&p);
		if (e.code == ERR_BUSY && ready_fd >= 0)
			return CMD_EXIT_OK; /* the other engine serves */
		status = cmd_remote_fail(ctx, &e);
		return e.code == ERR_BUSY ? CMD_EXIT_UNAVAILABLE : status;
	}
	/* The messaging core registers its methods before anyone can call. */
	core = ctx->core_new != NULL ? ctx->core_new(eng, &e) : NULL;
	if (ctx->core_new != NULL && core == NULL) {
		if (ready_fd >= 0)
			dprintf(ready_fd, "error %d %s\n", (int)e.code, e.msg);
		engine_free(eng);
		profile_clear(&p);
		return cmd_remote_fail(ctx, &e);
	}
	if (detached) {
		/* Our stderr is /dev/null; keep what libwebsockets or a
		 * sanitizer has to say. Never a secret: nothing logs them. */
		char *log = profile_path(&p, "engine.log");
		fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd >= 0) {
			dup2(fd, 2);
			close(fd);
		}
		free(log);
	}
	profile_clear(&p);
	if (ready_fd >= 0) {
		dprintf(ready_fd, "ready\n");
		close(ready_fd);
	}
	status = engine_run(eng, &e) < 0 ? cmd_remote_fail(ctx, &e) : CMD_EXIT_OK;
	if (core != NULL)
		ctx->core_free(core);
	engine_free(eng);
	return status;
}

static int
cmd_engine_engine_exec(struct cmd_ctx *ctx, const struct cmd_args *args)
{
	const char *fd = cmd_args_get(args, "ready-fd");

	return cmd_engine_serve(ctx, false, fd != NULL ? atoi(fd) : -1, true, NULL);
}

static const struct cmd_arg cmd_engine_engine_options[] = {
    {"ready-fd", CMD_T_INT, "FD", 0, "write ready, busy or error to FD once started"},
    {NULL, 0, NULL, 0, NULL},
};

const struct cmd_entry cmd_engine_engine_entry = {
    .name = "engine",
    .options = cmd_engine_engine_options,
    .summary = "run an engine started on demand by a frontend",
    .help = "Internal: what a frontend runs, detached, when no engine answers.",
    .where = CMD_CLI | CMD_HIDDEN,
    .exec = cmd_engine_engine_exec,
};

static int
cmd_engine_daemon_exec(struct cmd_ctx *ctx, const struct cmd_args *args)
{
	struct client_rpc_error re;
	struct profile p;
	struct client c;
	json_t *result;
	struct err e;
	int status, r;

	if (cmd_args_get(args, "foreground") != NULL) {
		char *pass = NULL;

		/* Read (and check the file's mode) before anything starts. */
		if (ctx->passphrase_file != NULL &&
		    client_read_passphrase_file(ctx->passphrase_file, &pass, &e) < 0)
			return cmd_remote_fail(ctx, &e);
		status = cmd_engine_serve(ctx, true, -1, false, pass);
		if (pass != NULL)
			wipe_free_str(pass);
		return status;
	}
	status = cmd_remote_profile(ctx, &p);
	if (status != CMD_EXIT_OK)
		return status;
	/* Unlock before engine.persist: when the passphrase is wrong the
	 * engine we may have started is not kept, and leaves with us. */
	status = cmd_remote_attach(ctx, &p, &c, ctx->passphrase_file != NULL);
	profile_clear(&p);
	if (status != CMD_EXIT_OK)
		return status;
	r = client_call(&c, "engine.persist", NULL, &result, &re, &e);
	if (r == 0) {
		fprintf(ctx->out, "%lld\n",
		        (long long)json_integer_value(json_object_get(c.info, "pid")));
		json_decref(result);
	} else if (r < 0) {
		status = cmd_remote_fail(ctx, &e);
	} else {
		fprintf(ctx->err, "sotto: engine.persist: %s\n", re.message);
		status = cmd_exit_from_rpc(re.code);
	}
	client_close(&c);
	return status;
}

static const struct cmd_arg cmd_engine_daemon_options[] = {
    {"foreground", CMD_T_FLAG, NULL, 0,
     "run the engine in this process, logging to standard error, until SIGTERM or "
     "SIGINT (for service managers)"},
    {NULL, 0, NULL, 0, NULL},
};

const struct cmd_entry cmd_engine_daemon_entry = {
    .name = "daemon",
    .options = cmd_engine_daemon_options,
    .summary = "keep the profile's engine running in the background",
    .help = "Starts the engine if none runs, marks it to stay when its last frontend "
            "leaves, prints its process id and exits. The engine then runs until SIGTERM, "
            "SIGINT or an engine.shutdown request.\n\n"
            "With --passphrase-file a locked profile is unlocked first (with --foreground "
            "too, before the engine serves anyone); a wrong passphrase exits with status 77 "
            "and leaves no engine behind. Without it a passphrase profile's engine waits, "
            "locked, for an unlock request. Nothing is ever prompted for.",
    .where = CMD_CLI,
    .exec = cmd_engine_daemon_exec,
};

const struct cmd_entry cmd_engine_info_entry = {
    .name = "engine.info",
    .method = "engine.info",
    .summary = "describe the engine",
    .help = "Answers {pid, profile, home, version, uptime, frontends, persistent, "
            "locked, cursor}: uptime in seconds, frontends attached, cursor of the newest "
            "event.",
    .where = CMD_RPC,
};

static const struct cmd_arg cmd_engine_subscribe_args[] = {
    {"CURSOR", CMD_T_INT, NULL, CMD_A_OPTIONAL,
     "the last event already seen; 0 (the default) for everything still held"},
    {NULL, 0, NULL, 0, NULL},
};

const struct cmd_entry cmd_engine_subscribe_entry = {
    .name = "engine.subscribe",
    .method = "engine.subscribe",
    .args = cmd_engine_subscribe_args,
    .summary = "receive events as notifications, starting after cursor",
    .help = "Answers {cursor, oldest, missed} (missed is true when events after the given "
            "cursor are no longer held), then sends every held event after cursor and "
            "each new one as an \"event\" notification with params {cursor, time, time_ms, "
            "type, data}: when the event happened in Unix seconds and milliseconds (a "
            "message event happens once its commit is done), its type and its data.",
    .where = CMD_RPC,
};

const struct cmd_entry cmd_engine_persist_entry = {
    .name = "engine.persist",
    .method = "engine.persist",
    .summary = "keep the engine running after its last frontend leaves",
    .help = "What sotto daemon asks of an engine that is already running.",
    .where = CMD_RPC,
};

const struct cmd_entry cmd_engine_shutdown_entry = {
    .name = "engine.shutdown",
    .method = "engine.shutdown",
    .summary = "stop the engine",
    .help = "Answers {stopping: true}; the engine then closes every connection and exits.",
    .where = CMD_RPC,
};

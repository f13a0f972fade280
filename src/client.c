/* Frontend side of the engine socket: attaching (and starting the engine
 * when needed), calls, notifications and unlocking. */
#include "client.h"
#include "jsonrpc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define CLIENT_PASSPHRASE_MAX 4096
/* Pause between attach attempts while another engine starts or stops. */
#define CLIENT_RETRY_MS 20

static long long
client_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
client_pause_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

void
client_init(struct client *c)
{
	memset(c, 0, sizeof *c);
	ipc_conn_init(&c->conn, -1);
	c->next_id = 1;
	c->notifications = json_array();
}

static void
client_drop(struct client *c)
{
	if (c->conn.fd >= 0)
		close(c->conn.fd);
	ipc_conn_clear(&c->conn);
	ipc_conn_init(&c->conn, -1);
	json_decref(c->info);
	c->info = NULL;
}

void
client_close(struct client *c)
{
	client_drop(c);
	json_decref(c->notifications);
	c->notifications = NULL;
}

int
client_read_message(struct client *c, int timeout_ms, struct jsonrpc_msg *m, struct err *e)
{
	long long deadline = timeout_ms < 0 ? -1 : client_now_ms() + timeout_ms;
	struct jsonrpc_fault f;
	struct pollfd pfd;
	size_t len;
	char *line;
	int r, wait;

	for (;;) {
		r = ipc_conn_next_line(&c->conn, &line, &len, e);
		if (r < 0)
			return err_prefix(e, "engine");
		if (r == 1) {
			if (jsonrpc_parse_max(line, len, c->conn.line_max, m, &f) < 0) {
				jsonrpc_fault_clear(&f);
				return err_set(e, ERR_CORRUPT, "engine sent an invalid message: %s",
				               f.message);
			}
			return 1;
		}
		if (c->conn.eof)
			return err_set(e, ERR_NETWORK, "the engine closed the connection");
		wait = client_left_ms(deadline);
		pfd.fd = c->conn.fd;
		pfd.events = POLLIN;
		r = poll(&pfd, 1, wait);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return err_set(e, ERR_IO, "poll: %s", strerror(errno));
		if (r == 0)
			return 0;
		if (ipc_conn_read(&c->conn, e) < 0)
			return -1;
	}
}

static int
client_send_line(struct client *c, char *line, struct err *e)
{
	int rc = ipc_conn_queue_line(&c->conn, line, strlen(line), e);

	/* The line may hold a passphrase. */
	wipe_free_str(line);
	while (rc == 0 && ipc_conn_pending(&c->conn)) {
		struct pollfd pfd = {c->conn.fd, POLLOUT, 0};
		rc = ipc_conn_flush(&c->conn, e);
		if (rc == 0 && ipc_conn_pending(&c->conn) && poll(&pfd, 1, -1) < 0 &&
		    errno != EINTR)
			rc = err_set(e, ERR_IO, "poll: %s", strerror(errno));
	}
	if (rc < 0 && e != NULL && e->code == ERR_IO)
		e->code = ERR_NETWORK;
	return rc;
}

int
client_call(struct client *c, const char *method, json_t *params, json_t **result,
            struct client_rpc_error *rerr, struct err *e)
{
	json_t *id = json_integer(c->next_id++);
	struct jsonrpc_msg m;
	int r;

	*result = NULL;
	if (c->conn.fd < 0) {
		json_decref(params);
		json_decref(id);
		return err_set(e, ERR_INTERNAL, "not attached to an engine");
	}
	if (client_send_line(c, jsonrpc_request_line(id, method, params), e) < 0) {
		json_decref(id);
		return -1;
	}
	for (;;) {
		r = client_read_message(c, -1, &m, e);
		if (r <= 0)
			break;
		if (m.kind == JSONRPC_NOTIFICATION) {
			json_array_append(c->notifications, m.root);
		} else if ((m.kind == JSONRPC_RESULT || m.kind == JSONRPC_ERROR) &&
		           json_equal(m.id, id)) {
			if (m.kind == JSONRPC_RESULT) {
				*result = json_incref(m.result);
				r = 0;
			} else {
				rerr->code = m.error_code;
				snprintf(rerr->message, sizeof rerr->message, "%s",
				         m.error_message);
				r = 1;
			}
			jsonrpc_msg_clear(&m);
			break;
		}
		jsonrpc_msg_clear(&m);
	}
	json_decref(id);
	if (r == 0 && *result == NULL)
		r = err_set(e, ERR_NETWORK, "no answer from the engine");
	return r;
}

/* Milliseconds to a deadline, 0 once it has passed; -1 for none. A
 * deadline that expired between two clock reads must not come out
 * negative: to client_read_message (and poll) that means forever, and a
 * caller polling with timeout 0 would hang until the engine spoke. */
int
client_left_ms(long long deadline)
{
	long long left;

	if (deadline < 0)
		return -1;
	left = deadline - client_now_ms();
	return left <= 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
}

int
client_next_notification(struct client *c, int timeout_ms, json_t **note, struct err *e)
{
	long long deadline = timeout_ms < 0 ? -1 : client_now_ms() + timeout_ms;
	struct jsonrpc_msg m;
	int r;

	for (;;) {
		if (json_array_size(c->notifications) > 0) {
			*note = json_incref(json_array_get(c->notifications, 0));
			json_array_remove(c->notifications, 0);
			return 1;
		}
		r = client_read_message(c, client_left_ms(deadline), &m, e);
		if (r <= 0)
			return r;
		if (m.kind == JSONRPC_NOTIFICATION)
			json_array_append(c->notifications, m.root);
		jsonrpc_msg_clear(&m);
		if (deadline >= 0 && client_now_ms() > deadline &&
		    json_array_size(c->notifications) == 0)
			return 0;
	}
}

/* The grandchild of client_spawn_engine(): a detached engine process. */
static void
client_exec_engine(const char *exe, char **argv, int ready_fd)
{
	int null_fd;

	if (setsid() < 0)
		_exit(1);
	switch (fork()) {
	case -1:
		_exit(1);
	case 0:
		break;
	default:
		/* The middle process exits so the engine is nobody's child
		 * and can never regain a controlling terminal. */
		_exit(0);
	}
	null_fd = open("/dev/null", O_RDWR | O_NOCTTY);
	if (null_fd < 0 || dup2(null_fd, 0) < 0 || dup2(null_fd, 1) < 0 || dup2(null_fd, 2) < 0)
		_exit(1);
	if (null_fd > 2 && null_fd != ready_fd)
		close(null_fd);
	/* Only the readiness pipe crosses exec; nothing else of ours. */
	if (ready_fd > 3)
		close_range(3, (unsigned)ready_fd - 1, CLOSE_RANGE_CLOEXEC);
	close_range((unsigned)ready_fd + 1, ~0U, CLOSE_RANGE_CLOEXEC);
	if (fcntl(ready_fd, F_SETFD, 0) < 0 || chdir("/") < 0)
		_exit(1);
	umask(077);
	execv(exe, argv);
	_exit(127);
}

/* What the engine wrote on its readiness pipe: "ready", "busy" or
 * "error CODE MESSAGE". */
static int
client_read_ready(int fd, int timeout_ms, const char *dir, struct err *e)
{
	long long deadline = client_now_ms() + timeout_ms;
	char buf[512];
	size_t len = 0;
	int code;

	while (len < sizeof buf - 1 && memchr(buf, '\n', len) == NULL) {
		struct pollfd pfd = {fd, POLLIN, 0};
		long long left = deadline - client_now_ms();
		ssize_t n;
		if (left <= 0)
			return err_set(e, ERR_NETWORK, "timed out waiting for the engine to start");
		if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR)
			return err_set(e, ERR_IO, "poll: %s", strerror(errno));
		n = read(fd, buf + len, sizeof buf - 1 - len);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	if (strcmp(buf, "ready") == 0)
		return 0;
	if (strcmp(buf, "busy") == 0)
		return 1;
	if (sscanf(buf, "error %d", &code) == 1 && strchr(buf + 6, ' ') != NULL)
		return err_set(e, (enum err_code)code, "engine: %s", strchr(buf + 6, ' ') + 1);
	return err_set(e, ERR_INTERNAL, "the engine failed to start; see %s/engine.log", dir);
}

int
client_spawn_engine(const struct profile *p, int timeout_ms, struct err *e)
{
	char exe[PATH_MAX], fdbuf[16];
	int pipefd[2], status, rc;
	ssize_t n;
	pid_t pid;

	n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n < 0)
		return err_set(e, ERR_IO, "cannot find my own executable: %s", strerror(errno));
	exe[n] = '\0';
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return err_set(e, ERR_IO, "pipe: %s", strerror(errno));
	snprintf(fdbuf, sizeof fdbuf, "%d", pipefd[1]);
	{
		/* Built before fork: the child only execs. No secret here. */
		char *argv[] = {exe,      "--home",     p->dir, "--profile", p->name,
		                "engine", "--ready-fd", fdbuf,  NULL};
		pid = fork();
		if (pid == 0) {
			close(pipefd[0]);
			client_exec_engine(exe, argv, pipefd[1]);
		}
	}
	close(pipefd[1]);
	if (pid < 0) {
		close(pipefd[0]);
		return err_set(e, ERR_IO, "fork: %s", strerror(errno));
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	rc = client_read_ready(pipefd[0], timeout_ms, p->dir, e);
	close(pipefd[0]);
	return rc;
}

int
client_attach(struct client *c, const struct profile *p, bool autostart, struct err *e)
{
	long long deadline = client_now_ms() + CLIENT_ATTACH_TIMEOUT_MS;
	struct client_rpc_error rerr;
	json_t *info;
	int fd, r;

	for (;;) {
		fd = ipc_connect(p->dir, e);
		if (fd >= 0) {
			client_drop(c);
			ipc_conn_init(&c->conn, fd);
			/* The engine is ours (same uid, checked), and its answers
			 * may be long: a history of thousands of messages is one
			 * line. It never queues more than IPC_OUT_MAX. */
			c->conn.line_max = IPC_OUT_MAX;
			r = client_call(c, "engine.info", NULL, &info, &rerr, e);
			if (r == 0) {
				c->info = info;
				return 0;
			}
			client_drop(c);
			if (r == 1)
				return err_set(e, ERR_INTERNAL, "engine.info: %s", rerr.message);
			/* The engine was leaving as we arrived: try again. */
		} else if (e->code != ERR_NOTFOUND) {
			return -1;
		} else if (!autostart) {
			return err_set(e, ERR_NETWORK, "no engine is running for %s", p->dir);
		}
		if (client_now_ms() >= deadline)
			return err_set(e, ERR_NETWORK, "timed out attaching to the engine of %s",
			               p->dir);
		if (fd < 0) {
			r = client_spawn_engine(p, (int)(deadline - client_now_ms()), e);
			if (r < 0)
				return -1;
			if (r == 0)
				continue;
		}
		client_pause_ms(CLIENT_RETRY_MS);
	}
}

int
client_read_passphrase_file(const char *path, char **out, struct err *e)
{
	char *buf;
	struct stat st;
	ssize_t n;
	size_t len = 0;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, errno == ENOENT ? ERR_NOTFOUND : ERR_IO, "%s: %s", path,
		               strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return err_set(e, ERR_INVALID, "%s is not a regular file", path);
	}
	if (st.st_mode & 077) {
		close(fd);
		return err_set(e, ERR_AUTH,
		               "passphrase file %s is accessible by others (mode %04o): "
		               "run chmod 600 on it",
		               path, (unsigned)(st.st_mode & 07777));
	}
	buf = xmalloc(CLIENT_PASSPHRASE_MAX + 1);
	while (len < CLIENT_PASSPHRASE_MAX &&
	       (n = read(fd, buf + len, CLIENT_PASSPHRASE_MAX - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			wipe_free(buf, CLIENT_PASSPHRASE_MAX + 1);
			close(fd);
			return err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
		}
		len += (size_t)n;
	}
	close(fd);
	if (len > 0 && buf[len - 1] == '\n')
		len--;
	buf[len] = '\0';
	if (len == 0 || strlen(buf) != len) {
		wipe_free(buf, CLIENT_PASSPHRASE_MAX + 1);
		return err_set(e, ERR_INVALID, "%s: empty passphrase, or one with a NUL byte",
		               path);
	}
	*out = buf;
	return 0;
}

/* Ask on the terminal with echo off. Only ever called when stdin is one. */
int
client_prompt_passphrase(const char *prompt, char **out, struct err *e)
{
	struct termios saved, quiet;
	char *buf;
	size_t len = 0;
	int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	char ch;

	if (fd < 0)
		return err_set(e, ERR_AUTH, "no terminal to ask for the passphrase on");
	if (tcgetattr(fd, &saved) < 0) {
		close(fd);
		return err_set(e, ERR_AUTH, "cannot turn off echo: %s", strerror(errno));
	}
	quiet = saved;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	quiet.c_lflag |= ICANON;
	dprintf(fd, "%s: ", prompt);
	tcsetattr(fd, TCSAFLUSH, &quiet);
	buf = xmalloc(CLIENT_PASSPHRASE_MAX + 1);
	while (read(fd, &ch, 1) == 1 && ch != '\n')
		if (len < CLIENT_PASSPHRASE_MAX)
			buf[len++] = ch;
	buf[len] = '\0';
	tcsetattr(fd, TCSAFLUSH, &saved);
	dprintf(fd, "\n");
	close(fd);
	if (len == 0) {
		wipe_free(buf, CLIENT_PASSPHRASE_MAX + 1);
		return err_set(e, ERR_AUTH, "no passphrase given");
	}
	*out = buf;
	return 0;
}

int
client_unlock_if_locked(struct client *c, const char *passphrase_file,
                        struct client_rpc_error *rerr, struct err *e)
{
	json_t *params, *result;
	const char *profile;
	char *pass;
	int r;

	if (!json_is_true(json_object_get(c->info, "locked")))
		return 0;
	profile = json_string_value(json_object_get(c->info, "profile"));
	if (passphrase_file != NULL)
		r = client_read_passphrase_file(passphrase_file, &pass, e);
	else if (isatty(0)) {
		char *prompt =
		    xasprintf("Passphrase for profile %s", profile != NULL ? profile : "?");
		r = client_prompt_passphrase(prompt, &pass, e);
		free(prompt);
	} else
		r = err_set(e, ERR_AUTH,
		            "the profile is locked: give --passphrase-file FILE "
		            "(sotto never prompts when standard input is not a terminal)");
	if (r < 0)
		return -1;
	params = json_object();
	json_object_set_new(params, "passphrase", json_string(pass));
	wipe_free_str(pass);
	if (json_object_get(params, "passphrase") == NULL) {
		json_decref(params);
		return err_set(e, ERR_INVALID, "the passphrase is not valid UTF-8");
	}
	r = client_call(c, "unlock", params, &result, rerr, e);
	if (r == 0) {
		json_decref(result);
		json_object_set_new(c->info, "locked", json_false());
	}
	return r;
}

/* sotto demo: the README's first command. A private sotto-relay on
 * loopback, a demo profile ("you") and an echo peer ("echo") in a
 * temporary directory, the echo loop, then the interface on "you" with the
 * conversation with echo open; afterwards nothing of it is left behind. */
#include "config.h"

#include "cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "profile.h"
#include "util/xmalloc.h"

#define DEMO_ME "you"
#define DEMO_PEER "echo"
#define DEMO_START_MS 20000 /* the relay or an engine getting ready */
#define DEMO_STOP_MS 5000   /* a child leaving after SIGTERM, before SIGKILL */
#define DEMO_GREETING                                                                              \
	"Hello! I am echo, a demo peer on a private relay. Everything you write to me comes "      \
	"back, end-to-end encrypted both ways. /help lists the commands, /quit ends the demo."

/* The processes we start, in the order they are stopped. */
enum demo_child {
	DEMO_UI,
	DEMO_ECHO_LOOP,
	DEMO_ENGINE_ME,
	DEMO_ENGINE_PEER,
	DEMO_RELAY,
	DEMO_JANITOR,
	DEMO_NCHILD,
};

struct demo {
	char *dir;  /* mkdtemp: everything of the demo lives here */
	char *self; /* this program, to run engines */
	char *relay_bin;
	char *relay_url;
	pid_t pid[DEMO_NCHILD]; /* 0: not running (or reaped) */
	int status[DEMO_NCHILD];
	pid_t parent; /* for the children's death-signal race check */
	sigset_t saved_mask;
};

static volatile sig_atomic_t demo_stop_signal;

static void
demo_on_stop(int sig)
{
	demo_stop_signal = sig;
}

static void
demo_on_child(int sig)
{
	(void)sig; /* only there so that sigsuspend() wakes up */
}

/* Stop signals stay blocked while we set up (see demo_signals()): look
 * at the pending ones too. */
static bool
demo_stopping(void)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
	sigset_t pending;
	size_t i;

	if (demo_stop_signal)
		return true;
	sigpending(&pending);
	for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		if (sigismember(&pending, sigs[i]))
			return true;
	return false;
}

static long long
demo_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
demo_pause_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

/* dir/name of this program's own directory when executable there, else
 * the first match on PATH. NULL when there is none. */
static char *
demo_find_program(const char *self, const char *name)
{
	const char *path = getenv("PATH");
	const char *slash = strrchr(self, '/');
	char *cand, *dirs, *tok, *save = NULL;

	if (slash != NULL) {
		cand = xasprintf("%.*s/%s", (int)(slash - self), self, name);
		if (access(cand, X_OK) == 0)
			return cand;
		free(cand);
	}
	if (path == NULL)
		return NULL;
	dirs = xstrdup(path);
	for (tok = strtok_r(dirs, ":", &save); tok != NULL; tok = strtok_r(NULL, ":", &save)) {
		cand = xasprintf("%s/%s", *tok != '\0' ? tok : ".", name);
		if (access(cand, X_OK) == 0) {
			free(dirs);
			return cand;
		}
		free(cand);
	}
	free(dirs);
	return NULL;
}

/* In a new child: die with the demo, hear signals normally again, keep
 * the terminal only when asked (the interface), log to log_name. */
static void
demo_child_setup(const struct demo *d, const char *log_name, bool keep_tty)
{
	struct sigaction sa;
	char *log;
	int fd;

	/* If the demo dies, however it dies, so do its children. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != d->parent)
		_exit(CMD_EXIT_SOFTWARE);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	sigprocmask(SIG_SETMASK, &d->saved_mask, NULL);
	if (keep_tty)
		return;
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		close(fd);
	}
	log = xasprintf("%s/%s", d->dir, log_name);
	fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	free(log);
	if (fd >= 0) {
		dup2(fd, 2);
		if (strcmp(log_name, "relay.log") == 0)
			dup2(fd, 1); /* its banner: we read the port from there */
		close(fd);
	}
}

static int
demo_spawn(struct demo *d, enum demo_child which, const char *log_name, char **argv, struct err *e)
{
	pid_t pid = fork();

	if (pid < 0)
		return err_set(e, ERR_IO, "fork: %s", strerror(errno));
	if (pid == 0) {
		demo_child_setup(d, log_name, false);
		execv(argv[0], argv);
		_exit(127);
	}
	d->pid[which] = pid;
	return 0;
}

/* Reap whatever has exited; true when the given child is gone. */
static bool
demo_reap(struct demo *d, enum demo_child which)
{
	int i, st;
	pid_t pid;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
		for (i = 0; i < DEMO_NCHILD; i++)
			if (d->pid[i] == pid) {
				d->pid[i] = 0;
				d->status[i] = st;
			}
	return d->pid[which] == 0;
}

/* The last bytes of a child's log, for an error message. */
static void
demo_show_log(const struct demo *d, struct cmd_ctx *ctx, const char *log_name)
{
	char buf[1024], *path = xasprintf("%s/%s", d->dir, log_name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	off_t end;
	ssize_t n;

	free(path);
	if (fd < 0)
		return;
	end = lseek(fd, 0, SEEK_END);
	if (end > (off_t)sizeof buf)
		lseek(fd, end - (off_t)sizeof buf, SEEK_SET);
	else
		lseek(fd, 0, SEEK_SET);
	n = read(fd, buf, sizeof buf);
	close(fd);
	if (n > 0) {
		fprintf(ctx->err, "--- %s:\n", log_name);
		fwrite(buf, 1, (size_t)n, ctx->err);
	}
}

/* sotto-relay on 127.0.0.1:0; its banner names the port it got. */
static int
demo_start_relay(struct demo *d, struct err *e)
{
	char *data = xasprintf("%s/relay", d->dir), *log = xasprintf("%s/relay.log", d->dir);
	char *argv[] = {d->relay_bin, "--listen", "127.0.0.1:0", "--data", data, NULL};
	long long deadline = demo_now_ms() + DEMO_START_MS;
	char line[256];
	unsigned port;
	FILE *f;
	int r = -1;

	if (mkdir(data, 0700) < 0) {
		err_set(e, ERR_IO, "%s: %s", data, strerror(errno));
		goto out;
	}
	if (demo_spawn(d, DEMO_RELAY, "relay.log", argv, e) < 0)
		goto out;
	for (;;) {
		f = fopen(log, "re");
		while (f != NULL && fgets(line, sizeof line, f) != NULL)
			if (sscanf(line, "listening on 127.0.0.1:%u", &port) == 1 && port > 0 &&
			    port < 65536) {
				d->relay_url = xasprintf("ws://127.0.0.1:%u", port);
				r = 0;
				break;
			}
		if (f != NULL)
			fclose(f);
		if (r == 0)
			break;
		if (demo_reap(d, DEMO_RELAY)) {
			err_set(e, ERR_IO, "sotto-relay (%s) exited before listening",
			        d->relay_bin);
			break;
		}
		if (demo_stopping() || demo_now_ms() > deadline) {
			err_set(e, ERR_NETWORK, "sotto-relay did not start listening");
			break;
		}
		demo_pause_ms(20);
	}
out:
	free(data);
	free(log);
	return r;
}

/* A profile directory in the demo's and its engine (`sotto daemon
 * --foreground`, our child); c (initialised) is attached once it answers. */
static int
demo_start_engine(struct demo *d, enum demo_child which, const char *name, struct profile *p,
                  struct client *c, struct err *e)
{
	char *home = xasprintf("%s/%s", d->dir, name), *log = xasprintf("%s.log", name);
	char *argv[] = {d->self, "--home", home, "daemon", "--foreground", NULL};
	long long deadline = demo_now_ms() + DEMO_START_MS;
	int r = -1;

	memset(p, 0, sizeof *p);
	if (mkdir(home, 0700) < 0) {
		err_set(e, ERR_IO, "%s: %s", home, strerror(errno));
		goto out;
	}
	if (profile_resolve(p, home, NULL, e) < 0 || profile_prepare(p, e) < 0 ||
	    demo_spawn(d, which, log, argv, e) < 0)
		goto out;
	while (client_attach(c, p, false, e) < 0) {
		if (demo_reap(d, which)) {
			err_set(e, ERR_IO, "the engine of the %s profile exited", name);
			goto out;
		}
		if (demo_stopping() || demo_now_ms() > deadline) {
			err_set(e, ERR_NETWORK, "the engine of the %s profile did not start", name);
			goto out;
		}
		demo_pause_ms(20);
	}
	r = 0;
out:
	free(home);
	free(log);
	return r;
}

/* Make a call whose answer we only need to be a success. */
static int
demo_call(struct client *c, const char *method, json_t *params, struct err *e)
{
	struct client_rpc_error re;
	json_t *res;
	int r = client_call(c, method, params, &res, &re, e);

	if (r == 1)
		return err_set(e, ERR_INTERNAL, "%s: %s", method, re.message);
	if (r == 0)
		json_decref(res);
	return r;
}

static int
demo_register(struct demo *d, struct client *c, const char *name, struct err *e)
{
	return demo_call(
	    c, "register",
	    json_pack("{s:s, s:s, s:b}", "name", name, "relay", d->relay_url, "keyfile", 1), e);
}

/* One event: an incoming message gets its echo. */
static void
demo_echo_event(struct client *c, json_t *note)
{
	json_t *params = json_object_get(note, "params");
	json_t *m = json_object_get(json_object_get(params, "data"), "message");
	const char *type = json_string_value(json_object_get(params, "type"));
	const char *dir = json_string_value(json_object_get(m, "direction"));
	const char *peer = json_string_value(json_object_get(m, "peer"));
	const char *text = json_string_value(json_object_get(m, "text"));
	struct err e;
	char *echo;

	/* Only what others sent: echoing our own would never end. */
	if (type == NULL || strcmp(type, "message") != 0 || dir == NULL || strcmp(dir, "in") != 0 ||
	    peer == NULL || text == NULL)
		return;
	echo = xasprintf("echo: %s", text);
	if (demo_call(c, "send", json_pack("{s:s, s:s}", "to", peer, "text", echo), &e) < 0)
		fprintf(stderr, "echo: send to %s: %s\n", peer, e.msg);
	free(echo);
}

/* The echo loop (a child): follow the echo engine's events from now on,
 * greet the demo profile, then answer every incoming message. Never
 * starts an engine: when the echo engine goes, so does the loop. */
static int
demo_echo_loop(const struct profile *p)
{
	struct client_rpc_error re;
	struct client c;
	json_t *res, *note, *cur;
	struct err e;
	int r;

	client_init(&c);
	if (client_attach(&c, p, false, &e) < 0)
		goto fail;
	cur = json_object_get(c.info, "cursor");
	r = client_call(
	    &c, "engine.subscribe",
	    json_pack("{s:I}", "cursor", json_is_integer(cur) ? json_integer_value(cur) : 0), &res,
	    &re, &e);
	if (r == 1)
		err_set(&e, ERR_INTERNAL, "engine.subscribe: %s", re.message);
	if (r != 0)
		goto fail;
	json_decref(res);
	if (demo_call(&c, "send", json_pack("{s:s, s:s}", "to", DEMO_ME, "text", DEMO_GREETING),
	              &e) < 0)
		fprintf(stderr, "echo: greeting: %s\n", e.msg);
	while ((r = client_next_notification(&c, -1, &note, &e)) > 0) {
		demo_echo_event(&c, note);
		json_decref(note);
	}
	client_close(&c);
	return r < 0 ? 1 : 0;
fail:
	fprintf(stderr, "echo: %s\n", e.msg);
	client_close(&c);
	return 1;
}

static int
demo_fork_echo_loop(struct demo *d, const struct profile *p, struct err *e)
{
	pid_t pid = fork();

	if (pid < 0)
		return err_set(e, ERR_IO, "fork: %s", strerror(errno));
	if (pid == 0) {
		demo_child_setup(d, "echo-loop.log", false);
		fflush(NULL);
		_exit(demo_echo_loop(p));
	}
	d->pid[DEMO_ECHO_LOOP] = pid;
	return 0;
}

/* The interface runs in a child that keeps the terminal, so that the
 * demo can always stop everything else, whatever happens to it. */
static int
demo_fork_ui(struct demo *d, struct cmd_ctx *ctx, const struct profile *me, struct err *e)
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		return err_set(e, ERR_IO, "fork: %s", strerror(errno));
	if (pid == 0) {
		demo_child_setup(d, NULL, true);
		free(ctx->home);
		ctx->home = xstrdup(me->dir);
		free(ctx->profile);
		ctx->profile = NULL;
		free(ctx->passphrase_file);
		ctx->passphrase_file = NULL;
		ctx->ui_open = DEMO_PEER;
		status = ctx->ui_main(ctx);
		fflush(NULL);
		_exit(status);
	}
	d->pid[DEMO_UI] = pid;
	return 0;
}

/* Until the interface leaves or a signal tells us to stop. */
static void
demo_wait_ui(struct demo *d)
{
	sigset_t wait_mask;

	sigemptyset(&wait_mask);
	while (!demo_reap(d, DEMO_UI) && !demo_stop_signal)
		sigsuspend(&wait_mask);
}

static void
demo_stop_child(struct demo *d, enum demo_child which)
{
	long long deadline = demo_now_ms() + DEMO_STOP_MS;

	if (d->pid[which] == 0)
		return;
	kill(d->pid[which], SIGTERM);
	while (!demo_reap(d, which)) {
		if (demo_now_ms() > deadline) {
			kill(d->pid[which], SIGKILL);
			deadline = demo_now_ms() + DEMO_STOP_MS;
		}
		demo_pause_ms(10);
	}
}

/* A zombie counts as gone: whoever inherits an orphan may never reap it. */
static bool
demo_pid_alive(pid_t pid)
{
	char path[64], buf[512], *paren;
	ssize_t n;
	int fd;

	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	paren = strrchr(buf, ')');
	return paren != NULL && paren[1] == ' ' && paren[2] != 'Z' && paren[2] != 'X';
}

/* True when pid runs with our directory on its command line: a pid file
 * left by a killed engine may name a pid reused since. */
static bool
demo_pid_is_ours(const struct demo *d, pid_t pid)
{
	char path[64], buf[4096];
	ssize_t n, i;
	int fd;

	snprintf(path, sizeof path, "/proc/%ld/cmdline", (long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return false;
	for (i = 0; i < n; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	buf[n] = '\0';
	return strstr(buf, d->dir) != NULL;
}

/* An engine an interface started on its own (after ours died) is not
 * our child: find it by its pid file in our private directory. */
static void
demo_stop_stray_engine(const struct demo *d, const char *name)
{
	char *path = xasprintf("%s/%s/engine.pid", d->dir, name);
	long long deadline = demo_now_ms() + DEMO_STOP_MS;
	FILE *f = fopen(path, "re");
	long pid = 0;

	free(path);
	if (f == NULL)
		return;
	if (fscanf(f, "%ld", &pid) != 1)
		pid = 0;
	fclose(f);
	if (pid <= 1 || !demo_pid_is_ours(d, (pid_t)pid) || kill((pid_t)pid, SIGTERM) < 0)
		return;
	while (demo_pid_alive((pid_t)pid) && demo_now_ms() < deadline)
		demo_pause_ms(10);
	if (demo_pid_alive((pid_t)pid))
		kill((pid_t)pid, SIGKILL);
}

static int
demo_remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return (flag == FTW_DP ? rmdir(path) : unlink(path)) < 0 && errno != ENOENT ? -1 : 0;
}

/* The janitor (a child) removes the directory if the demo itself is
 * killed (SIGKILL, a crash): the death signal wakes it, it waits for the
 * others to have left on theirs, then cleans up. When the demo stops it
 * normally, the demo cleans up itself. */
static void
demo_janitor(const struct demo *d)
{
	long long deadline;
	sigset_t wait_mask;
	int i;

	sigemptyset(&wait_mask);
	while (!demo_stop_signal)
		sigsuspend(&wait_mask);
	if (getppid() == d->parent)
		_exit(0);
	deadline = demo_now_ms() + DEMO_STOP_MS;
	for (i = 0; i < DEMO_JANITOR; i++)
		while (d->pid[i] > 0 && demo_pid_alive(d->pid[i]) && demo_now_ms() < deadline)
			demo_pause_ms(10);
	demo_stop_stray_engine(d, DEMO_ME);
	demo_stop_stray_engine(d, DEMO_PEER);
	nftw(d->dir, demo_remove_one, 16, FTW_DEPTH | FTW_PHYS);
	_exit(0);
}

static int
demo_fork_janitor(struct demo *d, struct err *e)
{
	pid_t pid = fork();

	if (pid < 0)
		return err_set(e, ERR_IO, "fork: %s", strerror(errno));
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		/* Keeps our handlers, and our mask until sigsuspend(). */
		if (getppid() != d->parent)
			demo_stop_signal = SIGTERM;
		demo_janitor(d);
	}
	d->pid[DEMO_JANITOR] = pid;
	return 0;
}

static void
demo_teardown(struct demo *d)
{
	int i;

	for (i = 0; i < DEMO_NCHILD; i++)
		demo_stop_child(d, (enum demo_child)i);
	if (d->dir != NULL) {
		demo_stop_stray_engine(d, DEMO_ME);
		demo_stop_stray_engine(d, DEMO_PEER);
		nftw(d->dir, demo_remove_one, 16, FTW_DEPTH | FTW_PHYS);
	}
	free(d->dir);
	free(d->self);
	free(d->relay_bin);
	free(d->relay_url);
}

static void
demo_signals(struct demo *d)
{
	struct sigaction sa;
	sigset_t block;

	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = demo_on_stop; /* no SA_RESTART: waits must end */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = demo_on_child;
	sigaction(SIGCHLD, &sa, NULL);
	/* Blocked except inside sigsuspend(): no signal lost between a
	 * check and the wait. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGCHLD);
	sigprocmask(SIG_BLOCK, &block, &d->saved_mask);
}

/* Everything before the interface: directory, relay, engines, accounts,
 * echo loop. */
static int
demo_setup(struct demo *d, struct profile *me, struct err *e)
{
	const char *tmp = getenv("TMPDIR");
	struct profile peer;
	struct client cme, cpeer;
	char *tmpl, self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	int r = -1;

	client_init(&cme);
	client_init(&cpeer);
	memset(&peer, 0, sizeof peer);
	if (n <= 0)
		return err_set(e, ERR_IO, "cannot find my own executable: %s", strerror(errno));
	self[n] = '\0';
	d->self = xstrdup(self);
	d->relay_bin = demo_find_program(self, "sotto-relay");
	if (d->relay_bin == NULL)
		return err_set(e, ERR_NOTFOUND,
		               "no sotto-relay next to %s or on PATH: the demo runs one", self);
	tmpl = xasprintf("%s/sotto-demo-XXXXXX", tmp != NULL && *tmp == '/' ? tmp : "/tmp");
	if (mkdtemp(tmpl) == NULL) {
		err_set(e, ERR_IO, "%s: %s", tmpl, strerror(errno));
		free(tmpl);
		return -1;
	}
	d->dir = tmpl;
	if (demo_start_relay(d, e) < 0 ||
	    demo_start_engine(d, DEMO_ENGINE_ME, DEMO_ME, me, &cme, e) < 0 ||
	    demo_start_engine(d, DEMO_ENGINE_PEER, DEMO_PEER, &peer, &cpeer, e) < 0 ||
	    demo_register(d, &cme, DEMO_ME, e) < 0 || demo_register(d, &cpeer, DEMO_PEER, e) < 0 ||
	    demo_fork_echo_loop(d, &peer, e) < 0)
		goto out;
	r = 0;
out:
	client_close(&cme);
	client_close(&cpeer);
	profile_clear(&peer);
	return r;
}

static int
cmd_demo_exec(struct cmd_ctx *ctx, const struct cmd_args *args)
{
	struct demo d;
	struct profile me;
	struct err e;
	int status = CMD_EXIT_OK, st;

	(void)args;
	/* The streams, not fds 0 and 1: a caller (a test) may point them
	 * elsewhere, and must never get a full-screen demo. */
	if (ctx->in == NULL || ctx->out == NULL || !isatty(fileno(ctx->in)) ||
	    !isatty(fileno(ctx->out))) {
		fputs("sotto demo: the demonstration opens the full-screen interface and needs a "
		      "terminal; scripts should use the commands (sotto --help)\n",
		      ctx->err);
		return CMD_EXIT_USAGE;
	}
	if (ctx->ui_main == NULL) {
		fputs("sotto demo: the full-screen interface is not part of this program\n",
		      ctx->err);
		return CMD_EXIT_UNAVAILABLE;
	}
	memset(&d, 0, sizeof d);
	memset(&me, 0, sizeof me);
	d.parent = getpid();
	fflush(NULL); /* nothing buffered may be written twice by a child */
	demo_signals(&d);
	if (demo_setup(&d, &me, &e) < 0 || demo_stopping() || demo_fork_ui(&d, ctx, &me, &e) < 0 ||
	    demo_fork_janitor(&d, &e) < 0) {
		if (!demo_stopping()) {
			status = cmd_remote_fail(ctx, &e);
			demo_show_log(&d, ctx, "relay.log");
			demo_show_log(&d, ctx, DEMO_ME ".log");
			demo_show_log(&d, ctx, DEMO_PEER ".log");
		}
	} else {
		demo_wait_ui(&d);
	}
	profile_clear(&me);
	demo_teardown(&d);
	sigprocmask(SIG_SETMASK, &d.saved_mask, NULL);
	if (demo_stop_signal)
		return 128 + demo_stop_signal;
	st = d.status[DEMO_UI];
	if (status == CMD_EXIT_OK && WIFEXITED(st))
		status = WEXITSTATUS(st);
	else if (status == CMD_EXIT_OK && WIFSIGNALED(st))
		status = 128 + WTERMSIG(st);
	return status;
}

const struct cmd_entry cmd_demo_entry = {
    .name = "demo",
    .summary = "run the demonstration: a private relay, an echo peer and the interface",
    .help = "Starts a sotto-relay on loopback (the one next to this program, else the one on "
            "PATH) with a temporary data directory, registers two profiles there with key "
            "files, \"you\" and \"echo\", and keeps echo answering every message with "
            "\"echo: \" and its text, end-to-end encrypted like any message. Then it opens "
            "the full-screen interface as \"you\" on the conversation with echo. When the "
            "interface exits (/quit, Ctrl-C), the echo peer, both engines and the relay are "
            "stopped and the temporary directory is removed. Needs a terminal: without one it "
            "exits with status 64.",
    .where = CMD_CLI,
    .exec = cmd_demo_exec,
};

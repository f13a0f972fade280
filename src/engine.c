/* The engine's life: the profile lock that makes it the only one, the
 * libwebsockets loop with the listening socket and a signalfd adopted as
 * raw descriptors, the method registry, and exiting when the last
 * frontend leaves unless it was started as a daemon. */
#include "engine_int.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <unistd.h>

#define ENGINE_PROTOCOL "sotto-engine"

static void
engine_on_signal(struct engine *eng, int fd)
{
	struct signalfd_siginfo si;

	while (read(fd, &si, sizeof si) == (ssize_t)sizeof si)
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
			engine_stop(eng);
}

static int
engine_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct engine_fd *tag;
	struct engine *eng;

	switch (reason) {
	case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
		/* lws_cancel_service() from engine_wake or engine_stop. */
		eng = lws_context_user(lws_get_context(wsi));
		if (eng != NULL && eng->wake_fn != NULL && !eng->stopping)
			eng->wake_fn(eng->wake_ctx);
		return 0;
	case LWS_CALLBACK_RAW_ADOPT_FILE:
	case LWS_CALLBACK_RAW_RX_FILE:
	case LWS_CALLBACK_RAW_WRITEABLE_FILE:
	case LWS_CALLBACK_RAW_CLOSE_FILE:
		break;
	default:
		return 0;
	}
	tag = lws_get_opaque_user_data(wsi);
	if (tag == NULL)
		return 0;
	switch (tag->kind) {
	case ENGINE_FD_LISTEN:
		if (reason == LWS_CALLBACK_RAW_RX_FILE)
			engine_conn_accept_all(tag->eng, lws_get_socket_fd(wsi));
		else if (reason == LWS_CALLBACK_RAW_CLOSE_FILE)
			tag->eng->listen_wsi = NULL;
		return 0;
	case ENGINE_FD_SIGNAL:
		if (reason == LWS_CALLBACK_RAW_RX_FILE)
			engine_on_signal(tag->eng, lws_get_socket_fd(wsi));
		else if (reason == LWS_CALLBACK_RAW_CLOSE_FILE)
			tag->eng->signal_wsi = NULL;
		return 0;
	case ENGINE_FD_CONN:
		return engine_conn_callback(wsi, reason, (struct engine_conn *)tag);
	case ENGINE_FD_TIMER:
		if (reason == LWS_CALLBACK_RAW_RX_FILE) {
			engine_timer_fire(tag->eng);
		} else if (reason == LWS_CALLBACK_RAW_CLOSE_FILE) {
			tag->eng->timer_wsi = NULL;
			tag->eng->timer_fd = -1;
		}
		return 0;
	}
	return 0;
}

static const struct lws_protocols engine_protocols[] = {
    {ENGINE_PROTOCOL, engine_callback, 0, 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

struct lws *
engine_adopt(struct engine *eng, int fd, void *opaque)
{
	lws_adopt_desc_t info;

	memset(&info, 0, sizeof info);
	info.vh = eng->vhost;
	info.type = LWS_ADOPT_RAW_FILE_DESC;
	info.fd.filefd = fd;
	info.vh_prot_name = ENGINE_PROTOCOL;
	info.opaque = opaque;
	return lws_adopt_descriptor_vhost_via_info(&info);
}

int
engine_adopt_own(struct engine *eng, int fd, struct engine_fd *tag, enum engine_fd_kind kind,
                 struct lws **wsi, const char *what, struct err *e)
{
	tag->kind = kind;
	tag->eng = eng;
	*wsi = engine_adopt(eng, fd, tag);
	if (*wsi == NULL) {
		close(fd);
		return err_set(e, ERR_INTERNAL, "cannot add the %s descriptor to the loop", what);
	}
	return 0;
}

/* Exactly one engine per profile: whoever holds engine.lock. The kernel
 * drops the lock when its holder dies, which is how a stale socket left
 * by a crashed engine is told apart from a live one. */
static int
engine_lock(struct engine *eng, struct err *e)
{
	char *path = profile_path(&eng->profile, "engine.lock");

	eng->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (eng->lock_fd < 0) {
		err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	if (flock(eng->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		int saved = errno;
		err_set(e, saved == EWOULDBLOCK ? ERR_BUSY : ERR_IO, "%s: %s", path,
		        saved == EWOULDBLOCK ? "another engine is running for this profile"
		                             : strerror(saved));
		free(path);
		return -1;
	}
	free(path);
	return 0;
}

static int
engine_write_pid(struct engine *eng, struct err *e)
{
	char buf[32];
	int fd, n;

	eng->pid_path = profile_path(&eng->profile, "engine.pid");
	fd = open(eng->pid_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return err_set(e, ERR_IO, "%s: %s", eng->pid_path, strerror(errno));
	n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
	if (write(fd, buf, (size_t)n) != n) {
		close(fd);
		return err_set(e, ERR_IO, "%s: %s", eng->pid_path, strerror(errno));
	}
	close(fd);
	return 0;
}

static int
engine_start_signals(struct engine *eng, struct err *e)
{
	sigset_t set;
	int fd;

	/* A frontend vanishing mid-write must not kill us. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, &eng->saved_mask);
	eng->signals_blocked = true;
	fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return err_set(e, ERR_IO, "signalfd: %s", strerror(errno));
	return engine_adopt_own(eng, fd, &eng->signal_tag, ENGINE_FD_SIGNAL, &eng->signal_wsi,
	                        "signal", e);
}

static int
engine_start_loop(struct engine *eng, struct err *e)
{
	struct lws_context_creation_info info;

	lws_set_log_level(LLL_ERR | LLL_WARN, NULL);
	memset(&info, 0, sizeof info);
	/* No TCP listener: frontends arrive on the UNIX socket we adopt,
	 * and the relay connection is a client. */
	info.port = CONTEXT_PORT_NO_LISTEN;
	/* The relay transport's wss:// client needs lws' OpenSSL set-up,
	 * which only happens when the context is created. */
	info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT | LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
	info.protocols = engine_protocols;
	info.user = eng;
	info.gid = (gid_t)-1;
	info.uid = (uid_t)-1;
	eng->lws = lws_create_context(&info);
	if (eng->lws == NULL)
		return err_set(e, ERR_INTERNAL, "cannot create the libwebsockets context");
	/* Our own vhost, without the TLS client context lws would give the
	 * implicit one: that reads every system certificate authority, a
	 * third of the time an engine took to start. */
	info.options = 0;
	info.vhost_name = "default";
	eng->vhost = lws_create_vhost(eng->lws, &info);
	if (eng->vhost == NULL)
		return err_set(e, ERR_INTERNAL, "libwebsockets made no vhost for the engine");
	return 0;
}

static int
engine_start_listening(struct engine *eng, struct err *e)
{
	int fd = ipc_listen(eng->profile.dir, e);

	if (fd < 0)
		return -1;
	eng->sock_path = profile_path(&eng->profile, IPC_SOCKET_NAME);
	eng->listen_tag.kind = ENGINE_FD_LISTEN;
	eng->listen_tag.eng = eng;
	eng->listen_wsi = engine_adopt(eng, fd, &eng->listen_tag);
	if (eng->listen_wsi == NULL) {
		close(fd);
		return err_set(e, ERR_INTERNAL, "cannot add the socket to the loop");
	}
	return 0;
}

static void
engine_idle_check(lws_sorted_usec_list_t *sul)
{
	struct engine *eng = lws_container_of(sul, struct engine, idle_sul);

	if (eng->nconns == 0 && !eng->persistent)
		engine_stop(eng);
}

struct engine *
engine_new(const struct engine_config *cfg, struct err *e)
{
	struct engine *eng = xcalloc(1, sizeof *eng);

	eng->lock_fd = -1;
	eng->timer_fd = -1;
	eng->profile.name = xstrdup(cfg->profile->name);
	eng->profile.dir = xstrdup(cfg->profile->dir);
	eng->persistent = cfg->persistent;
	if (cfg->passphrase != NULL) {
		eng->passphrase = xmalloc(cfg->passphrase_len + 1);
		memcpy(eng->passphrase, cfg->passphrase, cfg->passphrase_len);
		eng->passphrase[cfg->passphrase_len] = '\0';
		eng->passphrase_len = cfg->passphrase_len;
	}
	eng->started_us = engine_now_us();
	engine_events_init(&eng->events, ENGINE_EVENTS_KEPT);
	engine_methods_add_builtins(eng);
	if (engine_lock(eng, e) < 0 || engine_start_loop(eng, e) < 0 ||
	    engine_start_signals(eng, e) < 0 || engine_timer_start(eng, e) < 0 ||
	    engine_start_listening(eng, e) < 0 || engine_write_pid(eng, e) < 0) {
		engine_free(eng);
		return NULL;
	}
	if (!eng->persistent)
		lws_sul_schedule(eng->lws, 0, &eng->idle_sul, engine_idle_check,
		                 ENGINE_FIRST_ATTACH_US);
	return eng;
}

int
engine_run(struct engine *eng, struct err *e)
{
	while (!eng->stopping)
		if (lws_service(eng->lws, 0) < 0)
			return err_set(e, ERR_INTERNAL, "the event loop failed");
	return 0;
}

void
engine_stop(struct engine *eng)
{
	eng->stopping = true;
	/* Wakes poll() when we are called from a timer, before it. */
	if (eng->lws != NULL)
		lws_cancel_service(eng->lws);
}

void
engine_free(struct engine *eng)
{
	size_t i;

	if (eng == NULL)
		return;
	eng->stopping = true;
	/* Socket first: a frontend arriving now starts a fresh engine,
	 * which waits for our lock instead of talking to a dying one. */
	if (eng->sock_path != NULL)
		unlink(eng->sock_path);
	if (eng->lws != NULL) {
		engine_conn_flush_all(eng);
		lws_sul_cancel(&eng->idle_sul);
		lws_sul_cancel(&eng->timer_soon);
		lws_context_destroy(eng->lws);
	}
	if (eng->signals_blocked)
		sigprocmask(SIG_SETMASK, &eng->saved_mask, NULL);
	if (eng->pid_path != NULL && eng->lock_fd >= 0)
		unlink(eng->pid_path);
	engine_events_clear(&eng->events);
	for (i = 0; i < eng->nmethods; i++)
		free(eng->methods[i].name);
	free(eng->methods);
	if (eng->passphrase != NULL)
		wipe_free(eng->passphrase, eng->passphrase_len + 1);
	free(eng->sock_path);
	free(eng->pid_path);
	profile_clear(&eng->profile);
	if (eng->lock_fd >= 0)
		close(eng->lock_fd);
	free(eng);
}

void
engine_frontends_changed(struct engine *eng)
{
	if (eng->stopping)
		return;
	if (eng->nconns > 0 || eng->persistent) {
		lws_sul_cancel(&eng->idle_sul);
		return;
	}
	/* From the loop, not from inside the closing connection's callback. */
	lws_sul_schedule(eng->lws, 0, &eng->idle_sul, engine_idle_check, 1);
}

void
engine_set_persistent(struct engine *eng, bool persistent)
{
	eng->persistent = persistent;
	engine_frontends_changed(eng);
}

void
engine_set_locked(struct engine *eng, bool locked)
{
	eng->locked = locked;
}

int
engine_take_passphrase(struct engine *eng, char **pass, size_t *len)
{
	if (eng->passphrase == NULL)
		return 0;
	*pass = eng->passphrase;
	*len = eng->passphrase_len;
	eng->passphrase = NULL;
	eng->passphrase_len = 0;
	return 1;
}

bool
engine_is_locked(const struct engine *eng)
{
	return eng->locked;
}

struct lws_context *
engine_lws_context(struct engine *eng)
{
	return eng->lws;
}

const struct profile *
engine_profile(const struct engine *eng)
{
	return &eng->profile;
}

struct engine_method *
engine_method_find(struct engine *eng, const char *name)
{
	size_t i;

	for (i = 0; i < eng->nmethods; i++)
		if (strcmp(eng->methods[i].name, name) == 0)
			return &eng->methods[i];
	return NULL;
}

int
engine_method_register(struct engine *eng, const char *name, engine_method_fn *fn, void *ctx,
                       struct err *e)
{
	struct engine_method *m = engine_method_find(eng, name);

	if (m != NULL) {
		if (!m->placeholder)
			return err_set(e, ERR_EXISTS, "method %s is already registered", name);
		m->fn = fn;
		m->ctx = ctx;
		m->placeholder = false;
		return 0;
	}
	eng->methods = xreallocarray(eng->methods, eng->nmethods + 1, sizeof *eng->methods);
	m = &eng->methods[eng->nmethods++];
	m->name = xstrdup(name);
	m->fn = fn;
	m->ctx = ctx;
	m->placeholder = false;
	return 0;
}

void
engine_set_wake(struct engine *eng, engine_wake_fn *fn, void *ctx)
{
	eng->wake_fn = fn;
	eng->wake_ctx = ctx;
}

void
engine_wake(struct engine *eng)
{
	lws_cancel_service(eng->lws);
}

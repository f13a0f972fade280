/* Internals shared by engine.c, engine_conn.c, engine_events.c and
 * engine_methods.c. Nothing outside src/engine*.c includes this. */
#ifndef SOTTO_ENGINE_INT_H
#define SOTTO_ENGINE_INT_H

#include <libwebsockets.h>
#include <signal.h>

#include "engine.h"
#include "ipc.h"

/* An auto-started engine nobody attaches to gives up after this long. */
#define ENGINE_FIRST_ATTACH_US (10 * LWS_US_PER_SEC)
#define ENGINE_EVENTS_KEPT 1024
/* Stop reading a frontend's requests while this much output waits. */
#define ENGINE_OUT_PAUSE (1024 * 1024)

/* What an adopted descriptor is; lws hands it back as opaque user data. */
enum engine_fd_kind {
	ENGINE_FD_LISTEN,
	ENGINE_FD_SIGNAL,
	ENGINE_FD_CONN,
	ENGINE_FD_TIMER,
};

struct engine_fd {
	enum engine_fd_kind kind;
	struct engine *eng;
};

struct engine_conn {
	struct engine_fd tag; /* first: lws' opaque pointer is this */
	struct lws *wsi;
	struct ipc_conn io;
	struct engine_conn *prev, *next;
	struct engine_req *reqs; /* unanswered requests */
	bool subscribed;
	bool paused; /* reading stopped until output drains */
	bool doomed; /* close as soon as possible */
	/* Asks for the next WRITEABLE from outside the callback: libwebsockets
	 * 4.1 drops a request made inside a raw file's WRITEABLE callback. */
	lws_sorted_usec_list_t rearm;
};

struct engine_req {
	struct engine *eng;
	struct engine_conn *conn; /* NULL once the frontend left */
	json_t *id;               /* NULL for a notification */
	char *method;
	struct engine_req *prev, *next;
};

struct engine_method {
	char *name;
	engine_method_fn *fn;
	void *ctx;
	bool placeholder; /* a stand-in the messaging core may replace */
};

struct engine {
	struct profile profile;
	struct lws_context *lws;
	struct lws_vhost *vhost;
	struct engine_fd listen_tag, signal_tag, timer_tag;
	struct lws *listen_wsi, *signal_wsi, *timer_wsi;
	int timer_fd;
	struct engine_timer *timers;       /* armed, soonest first */
	int64_t timer_set_us;              /* when timer_fd fires; 0: disarmed */
	lws_sorted_usec_list_t timer_soon; /* for timers due at once */
	int lock_fd;
	char *sock_path, *pid_path;
	struct engine_conn *conns;
	unsigned nconns;
	struct engine_method *methods;
	size_t nmethods;
	struct engine_events events;
	bool persistent, locked, stopping;
	bool signals_blocked;
	sigset_t saved_mask;
	int64_t started_us; /* monotonic */
	lws_sorted_usec_list_t idle_sul;
	char *passphrase; /* engine_config's, until the core takes it */
	size_t passphrase_len;
	engine_wake_fn *wake_fn;
	void *wake_ctx;
};

/* engine.c */
/* Hand a descriptor to the loop as a raw file; opaque is its struct
 * engine_fd. On failure (NULL) the descriptor is still the caller's. */
struct lws *engine_adopt(struct engine *eng, int fd, void *opaque);
/* Adopt a descriptor of the engine's own under tag (kind set), or close
 * it and fail naming what it is. */
int engine_adopt_own(struct engine *eng, int fd, struct engine_fd *tag, enum engine_fd_kind kind,
                     struct lws **wsi, const char *what, struct err *e);
/* engine_timer.c: the timerfd behind engine_timer_schedule. */
int engine_timer_start(struct engine *eng, struct err *e);
void engine_timer_fire(struct engine *eng);
struct engine_method *engine_method_find(struct engine *eng, const char *name);
/* A frontend came or went: keep the engine alive or let it go. */
void engine_frontends_changed(struct engine *eng);

/* engine_conn.c */
int engine_conn_callback(struct lws *wsi, enum lws_callback_reasons reason,
                         struct engine_conn *conn);
/* Accept every pending connection on the listening socket. */
void engine_conn_accept_all(struct engine *eng, int listen_fd);
/* Queue one line for a frontend; a frontend that stopped reading is
 * dropped rather than buffered without bound. */
void engine_conn_send(struct engine_conn *conn, const char *line);
/* Best-effort write of whatever is queued, for a clean shutdown. */
void engine_conn_flush_all(struct engine *eng);

/* engine_events.c */
/* Subscribe conn and send it every held event after cursor. */
void engine_events_subscribe(struct engine *eng, struct engine_conn *conn, uint64_t cursor);

/* engine_methods.c */
void engine_methods_add_builtins(struct engine *eng);

#endif

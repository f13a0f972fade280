/* sotto-relay's server: one libwebsockets context and service loop serving
 * the WebSocket protocol of man/sotto-protocol.7 and the blob endpoint,
 * with group commit (answers leave only after their batch is durable: its
 * commit, then an fsync of the log by a thread while the loop goes on). */
#ifndef SOTTO_RELAY_SERVER_H
#define SOTTO_RELAY_SERVER_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include <libwebsockets.h>

#include "relay/chaos.h"
#include "relay/ratelimit.h"
#include "relay/rstore.h"
#include "util/err.h"
#include "wire/wire.h"

#define SERVER_DEFAULT_MAX_CONNECTIONS 1024
#define SERVER_DEFAULT_REGISTRATIONS 10 /* per address per hour */
#define SERVER_OUT_HIGH (1024 * 1024)   /* stop pushing past this much unsent */
#define SERVER_BUSY_MAX 64              /* busy sockets a batch waits for */
#define SERVER_INDEX_SIZE 16384         /* buckets of the (account, device) index */
/* Messages written in one writeable callback before other connections get
 * their turn. */
#define SERVER_WRITE_BUDGET 256
/* Bytes of frames gathered into one write. */
#define SERVER_BURST_BYTES (64 * 1024)

struct relay_config {
	char host[256]; /* numeric address to bind */
	int port;       /* 0: any free port */
	const char *data_dir;
	const char *tls_cert, *tls_key; /* both or neither */
	const char *token_file;         /* NULL: open registration */
	int has_chaos;
	struct chaos_spec chaos;
	size_t max_frame; /* <= WIRE_MAX_FRAME */
	size_t max_connections;
	int64_t auth_timeout_ms;     /* close a connection not authenticated by then */
	uint32_t prekey_fetch_rate;  /* per requesting account per minute */
	uint32_t registrations_rate; /* per address per hour */
	struct rstore_options store;
};

/* A message waiting to be written to a connection (LWS_PRE bytes of
 * headroom before text). */
struct server_out {
	struct server_out *next;
	size_t len;
	int64_t due_us; /* chaos delay: not before this time (0: now) */
	unsigned char buf[];
};

struct server_conn {
	struct server *srv;
	struct lws *wsi;
	uint64_t serial; /* names the connection in deferred answers */
	struct server_conn *next, *prev;
	char peer[64];

	int authed;
	char account[WIRE_NAME_MAX + 1];
	uint32_t device;

	char *rx; /* a message arriving in pieces (NULL between them) */
	size_t rx_len, rx_cap;

	struct server_out *out_head, *out_tail;
	size_t out_bytes;
	struct server_out *held; /* chaos reorder: sent after the next push */
	int close_code;          /* close once everything queued is written */
	int closing;

	int64_t last_pushed; /* highest envelope id pushed here */
	int64_t *inflight;   /* pushed, not yet acked (WIRE_WINDOW; NULL until the first push) */
	size_t n_inflight;
	int queue_empty_sent;
	int wake;           /* pump once what woke it is on disk */
	int check_keys_low; /* look at the prekey count after the commit */

	lws_sorted_usec_list_t auth_sul;
	lws_sorted_usec_list_t chaos_sul;

	struct server_conn *hnext; /* next in its server_conn_find bucket */
	int indexed;               /* in a bucket (authenticated) */
	int touched;               /* in s->touched until its work is done */
	int touch_open;            /* has work from the open batch */
	uint64_t touch_first;      /* the first fsync its work waits for (0: none) */
	uint64_t touch_last;       /* the last one */
	int delivering;            /* its auth answer is out: pushes may follow */
};

/* An answer held back until the batch it depends on is committed. */
struct server_pending {
	struct server_pending *next;
	uint64_t conn_serial;
	struct server_conn *conn; /* NULL once that connection is gone */
	uint64_t gen;             /* batch generation, when in_batch */
	int in_batch;
	uint64_t req_id;
	enum wire_type type;
	char *text; /* NULL: only the close below */
	size_t len;
	int close_code;        /* close the connection after the answer (0: no) */
	int unauth_on_failure; /* a register that did not commit */
	uint64_t sync_gen;     /* the fsync it waits for (0: not committed yet) */
};

struct server_sync;

struct server {
	struct relay_config cfg;
	struct lws_context *ctx;
	struct lws_vhost *vhost;
	int port;
	struct rstore *store;
	void *signal_ctx; /* signal_context *, for signature checks */
	struct ratelimit *fetch_rl;
	struct ratelimit *reg_rl;
	struct chaos chaos;
	int chaos_on;

	struct server_conn *conns;
	size_t n_conns;
	/* Authenticated connections by (account, device), and the ones that
	 * may have a wake or prekey check due at the commit: with thousands
	 * connected, walking them all per send or per commit dominated. */
	struct server_conn **index;
	struct server_conn **touched;
	size_t n_touched, touched_cap;
	uint64_t next_serial;

	unsigned char *wbuf; /* LWS_PRE + SERVER_BURST_BYTES: frames gathered for one write */

	struct server_pending *pend_head, *pend_tail;
	struct server_pending *pend_open; /* the first not committed yet (NULL: none) */
	uint64_t batch_gen;
	/* fsyncs asked for and known done; envelopes up to durable_id are
	 * on disk and may be pushed. sync is NULL when every commit is
	 * durable by itself (in memory). */
	struct server_sync *sync;
	uint64_t sync_asked, sync_done;
	int64_t durable_id;
	/* Envelopes up to committed_id are committed, if not yet on disk,
	 * and are pushed: only the sender's answer waits for the fsync. A
	 * push lost with the page cache is sent again by its sender (no
	 * answer came), and the recipient drops the copy as a duplicate. */
	int64_t committed_id;
	/* The open batch holds more than acks. A batch of acks alone needs
	 * no fsync of its own: a delete lost with the page cache only means
	 * a redelivery, which clients drop as a duplicate. Its answers ride
	 * on the last fsync asked for (release_due: that one is done). */
	int batch_needs_disk;
	int release_due;
	/* Sockets that brought a message in the last service pass: group
	 * commit waits for them while they have more to read. */
	int busy_fd[SERVER_BUSY_MAX];
	size_t n_busy;
	int64_t batch_since_us; /* when the open batch was first seen (0: none) */

	int draining;
	int64_t next_expire_ms;
	volatile sig_atomic_t *stop;
};

/* server.c */
void server_config_default(struct relay_config *cfg);
/* Open the store, create the lws context and listen. On success prints
 * nothing; the bound port is in s->port. */
int server_start(struct server *s, const struct relay_config *cfg, volatile sig_atomic_t *stop,
                 struct err *e);
/* Serve until *stop is set, then drain: refuse new connections, commit,
 * flush answers, close every connection with 1001. */
int server_run(struct server *s);
void server_stop(struct server *s);

int64_t server_now_ms(void);
struct server_conn *server_conn_find(struct server *s, const char *account, uint32_t device);
/* Queue text (taken over: freed by the server) as the answer to request
 * id/type on c; it leaves after the open batch, if any, is committed. */
void server_answer(struct server *s, struct server_conn *c, uint64_t id, enum wire_type type,
                   char *text, size_t len);
/* The same for an error answer built from status and message. */
void server_answer_error(struct server *s, struct server_conn *c, uint64_t id, enum wire_type type,
                         int status, const char *error, const char *message,
                         int64_t retry_after_ms);
/* The last answer queued for c: set close_code / unauth_on_failure on it. */
struct server_pending *server_last_pending(struct server *s);
/* Close c once the batch commits (device removed); nothing if it fails. */
void server_close_after_commit(struct server *s, struct server_conn *c, int code);
/* Throw the open batch away: every answer that depended on it becomes a
 * 503. */
void server_batch_abort(struct server *s);
/* Commit the open batch now and release its answers (the blob endpoint
 * needs a clean slate for its own durable transaction). */
void server_commit(struct server *s);
/* Close c with code after what is queued has been written. */
void server_conn_close(struct server_conn *c, int code);
/* Commit and wait until everything answered so far is on disk, then send
 * it (drain). */
void server_commit_wait(struct server *s);

/* server_conn.c */
/* c has work due once what its frame did is durable (c->wake,
 * c->check_keys_low). */
void server_conn_touch(struct server *s, struct server_conn *c);
/* A queued message of len bytes of text (copied). */
struct server_out *server_conn_out_new(const char *text, size_t len);
void server_conn_out_append(struct server_conn *c, struct server_out *o);
void server_conn_send_text(struct server_conn *c, const char *text, size_t len);
int server_conn_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                         size_t len);

/* server_push.c */
/* Deliver what is queued and durable for c as far as the window allows. */
void server_push_pump(struct server_conn *c);
void server_push_keys_low(struct server_conn *c);
void server_push_chaos_timer(lws_sorted_usec_list_t *sul);

/* server_sync.c: the fsync thread over the log's descriptor fd. */
struct server_sync *server_sync_start(struct lws_context *ctx, int fd, int64_t bound,
                                      struct err *e);
/* Ask for fsync number gen (increasing), covering envelopes up to bound. */
void server_sync_ask(struct server_sync *y, uint64_t gen, int64_t bound);
/* The last fsync done and its bound; returns its errno if one failed. */
int server_sync_poll(struct server_sync *y, uint64_t *done, int64_t *bound);
void server_sync_wait(struct server_sync *y); /* until all asked are done */
void server_sync_stop(struct server_sync *y); /* y may be NULL */

/* server_http.c: the blob endpoint on the first (HTTP) protocol. */
int server_http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                         size_t len);
size_t server_http_session_size(void);

#endif

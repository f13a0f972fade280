/* sotto-relay's event loop: the lws context and its settings, the service
 * loop that decides when a batch commits, expiry, and drain at stop.
 * Connections are in server_conn.c, delivery in server_push.c, group
 * commit in server_commit.c and its fsync thread in server_sync.c. */
#include "relay/server.h"

#include <poll.h>
#include <signal/signal_protocol.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static struct lws_protocols server_protocols[3];
/* Bytes read from a connection per service pass. lws gives every
 * connection a receive buffer this size for its whole life, so it is what
 * an idle connection costs; a busy one gets more passes, not a bigger
 * buffer (see server_batch_wants_more). */
#define SERVER_RX_BUFFER 512
/* Bytes read from a socket at once (lws's per-thread buffer). */
#define SERVER_READ_BYTES (64 * 1024)
/* How long a batch may stay open while requests keep coming. */
#define SERVER_BATCH_MAX_US 2000
/* Ping a connection idle for 30 s; hang up after 90 s without a sign of
 * life, i.e. two missed pongs. */
static const lws_retry_bo_t server_keepalive = {
    .secs_since_valid_ping = 30,
    .secs_since_valid_hangup = 90,
};

int64_t
server_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
server_config_default(struct relay_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	strcpy(cfg->host, "127.0.0.1");
	cfg->max_frame = WIRE_MAX_FRAME;
	cfg->max_connections = SERVER_DEFAULT_MAX_CONNECTIONS;
	cfg->auth_timeout_ms = (int64_t)WIRE_AUTH_TIMEOUT_S * 1000;
	cfg->prekey_fetch_rate = RATELIMIT_DEFAULT_PREKEY_FETCHES;
	cfg->registrations_rate = SERVER_DEFAULT_REGISTRATIONS;
	rstore_options_default(&cfg->store);
}

static void
server_expire(struct server *s)
{
	struct rstore_expired x = {0};
	struct err e = {0};
	int64_t now = server_now_ms();

	if (now < s->next_expire_ms || rstore_batch_is_open(s->store))
		return;
	if (rstore_expire(s->store, &x, &e) < 0) {
		fprintf(stderr, "sotto-relay: expiry: %s\n", e.msg);
		s->next_expire_ms = now + 60000;
		return;
	}
	s->next_expire_ms = now + (x.more ? 1000 : 60000);
}

int
server_start(struct server *s, const struct relay_config *cfg, volatile sig_atomic_t *stop,
             struct err *e)
{
	struct lws_context_creation_info info;
	struct rstore_options store_opt = cfg->store;
	signal_context *sig = NULL;

	memset(s, 0, sizeof *s);
	s->cfg = *cfg;
	s->stop = stop;
	s->index = xcalloc(SERVER_INDEX_SIZE, sizeof *s->index);
	s->wbuf = xmalloc(LWS_PRE + SERVER_BURST_BYTES);
	if (s->cfg.max_frame == 0 || s->cfg.max_frame > WIRE_MAX_FRAME)
		s->cfg.max_frame = WIRE_MAX_FRAME;
	/* Commits do not wait for the disk: server_sync.c does, in parallel. */
	store_opt.sync_later = 1;
	if (rstore_open(&s->store, cfg->data_dir, &store_opt, e) < 0) {
		server_stop(s);
		return err_prefix(e, "opening %s", cfg->data_dir ? cfg->data_dir : ":memory:");
	}
	if (signal_context_create(&sig, s) != 0) {
		server_stop(s);
		return err_set(e, ERR_INTERNAL, "libsignal context");
	}
	s->signal_ctx = sig;
	s->fetch_rl =
	    ratelimit_new(cfg->prekey_fetch_rate ? cfg->prekey_fetch_rate : 1,
	                  60000 / (cfg->prekey_fetch_rate ? cfg->prekey_fetch_rate : 1), 4096);
	s->reg_rl =
	    ratelimit_new(cfg->registrations_rate ? cfg->registrations_rate : 1,
	                  3600000 / (cfg->registrations_rate ? cfg->registrations_rate : 1), 4096);
	if (cfg->has_chaos && !chaos_is_noop(&cfg->chaos)) {
		chaos_init(&s->chaos, &cfg->chaos, (uint64_t)server_now_ms());
		s->chaos_on = 1;
	}

	memset(server_protocols, 0, sizeof server_protocols);
	server_protocols[0].name = "http";
	server_protocols[0].callback = server_http_callback;
	server_protocols[0].per_session_data_size = server_http_session_size();
	server_protocols[0].rx_buffer_size = 0;
	server_protocols[1].name = WIRE_SUBPROTOCOL;
	server_protocols[1].callback = server_conn_callback;
	server_protocols[1].per_session_data_size = sizeof(struct server_conn *);
	server_protocols[1].rx_buffer_size = SERVER_RX_BUFFER;
	/* lws cuts every write to this (by default rx_buffer_size) and sends
	 * the rest a poll round later: a burst must leave whole. */
	server_protocols[1].tx_packet_size = SERVER_BURST_BYTES;

	memset(&info, 0, sizeof info);
	info.port = cfg->port;
	info.iface = cfg->host;
	info.protocols = server_protocols;
	info.user = s;
	info.retry_and_idle_policy = &server_keepalive;
	info.max_http_header_data = 4096;
	/* One buffer per service thread that every socket read goes into:
	 * a pipelining client's frames then come in one read, not 4 KiB at
	 * a time. */
	info.pt_serv_buf_size = SERVER_READ_BYTES;
	info.timeout_secs = 30;
	info.options = LWS_SERVER_OPTION_VALIDATE_UTF8;
	if (cfg->tls_cert != NULL) {
		info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
		info.ssl_cert_filepath = cfg->tls_cert;
		info.ssl_private_key_filepath = cfg->tls_key;
	}
	s->ctx = lws_create_context(&info);
	if (s->ctx == NULL) {
		server_stop(s);
		return err_set(e, ERR_IO, "cannot listen on %s:%d", cfg->host, cfg->port);
	}
	s->vhost = lws_get_vhost_by_name(s->ctx, "default");
	s->port = s->vhost != NULL ? lws_get_vhost_listen_port(s->vhost) : -1;
	if (s->port <= 0) {
		server_stop(s);
		return err_set(e, ERR_IO, "cannot find the listening port");
	}
	if (rstore_queue_last_id(s->store, &s->durable_id, e) < 0) {
		server_stop(s);
		return -1;
	}
	s->committed_id = s->durable_id;
	if (rstore_sync_fd(s->store) >= 0 &&
	    (s->sync = server_sync_start(s->ctx, rstore_sync_fd(s->store), s->durable_id, e)) ==
	        NULL) {
		server_stop(s);
		return -1;
	}
	return 0;
}

/* Group commit: keep the batch open while the sockets that just brought
 * requests have more to read (up to SERVER_BATCH_MAX_US), so one fsync
 * covers what a busy client pipelines even when it takes many reads;
 * commit as soon as they are drained. Never waits: the next service pass
 * only runs when one of them is readable now. Returns 1 to service once
 * more before committing. */
static int
server_batch_wants_more(struct server *s)
{
	struct pollfd pfd[SERVER_BUSY_MAX];
	int64_t now;
	size_t i, n = s->n_busy;

	s->n_busy = 0;
	if (!rstore_batch_is_open(s->store) || n == 0 || s->draining) {
		s->batch_since_us = 0;
		return 0;
	}
	now = (int64_t)lws_now_usecs();
	if (s->batch_since_us == 0)
		s->batch_since_us = now;
	if (now - s->batch_since_us >= SERVER_BATCH_MAX_US) {
		s->batch_since_us = 0;
		return 0;
	}
	for (i = 0; i < n; i++) {
		pfd[i].fd = s->busy_fd[i];
		pfd[i].events = POLLIN;
		pfd[i].revents = 0;
	}
	if (poll(pfd, (nfds_t)n, 0) > 0)
		for (i = 0; i < n; i++)
			if (pfd[i].revents & POLLIN)
				return 1;
	s->batch_since_us = 0;
	return 0;
}

int
server_run(struct server *s)
{
	struct server_conn *c;
	int64_t deadline;

	while (!*s->stop) {
		if (lws_service(s->ctx, 0) < 0)
			break;
		if (server_batch_wants_more(s))
			continue;
		server_commit(s);
		server_expire(s);
	}
	/* Drain: nothing new is accepted, what was answered goes out. */
	s->draining = 1;
	server_commit_wait(s);
	for (c = s->conns; c != NULL; c = c->next)
		server_conn_close(c, WIRE_CLOSE_GOING_AWAY);
	deadline = server_now_ms() + 2000;
	while (s->n_conns > 0 && server_now_ms() < deadline) {
		if (lws_service(s->ctx, 0) < 0)
			break;
		server_commit_wait(s);
	}
	return 0;
}

void
server_stop(struct server *s)
{
	struct server_pending *p, *next;

	/* The thread wakes the context: it goes first. */
	server_sync_stop(s->sync);
	s->sync = NULL;
	if (s->ctx != NULL)
		lws_context_destroy(s->ctx);
	s->ctx = NULL;
	for (p = s->pend_head; p != NULL; p = next) {
		next = p->next;
		free(p->text);
		free(p);
	}
	s->pend_head = s->pend_tail = s->pend_open = NULL;
	if (s->signal_ctx != NULL)
		signal_context_destroy(s->signal_ctx);
	s->signal_ctx = NULL;
	ratelimit_free(s->fetch_rl);
	ratelimit_free(s->reg_rl);
	s->fetch_rl = s->reg_rl = NULL;
	rstore_close(s->store);
	s->store = NULL;
	free(s->index);
	free(s->touched);
	free(s->wbuf);
	s->wbuf = NULL;
	s->index = s->touched = NULL;
	s->n_touched = s->touched_cap = 0;
}

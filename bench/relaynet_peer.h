/* The benchmark's side of sotto-relay: the relay as a child process,
 * accounts that share one key set, connections opened in bulk, and
 * pipelined send/receive flows over the benchmark's own WebSocket client. */
#ifndef SOTTO_BENCH_RELAYNET_PEER_H
#define SOTTO_BENCH_RELAYNET_PEER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "bench/relaynet_ws.h"
#include "util/xmalloc.h"
#include "wire/wire.h"

#define RELAYNET_PEER_CONTENT 200    /* bytes of ciphertext per message */
#define RELAYNET_PEER_CHUNK 500      /* connections opened before their answers are read */
#define RELAYNET_PEER_ACK_BATCH 128  /* acked at once at most: half the relay's window */
#define RELAYNET_PEER_WRITE_BATCH 64 /* pre-built requests written per system call */

struct relaynet_peer_acct {
	char name[WIRE_NAME_MAX + 1];
	uint8_t secret[WIRE_SECRET_LEN];
	uint32_t reg_id;
};

struct relaynet_peer_relay {
	pid_t pid;
	int port;
};

/* One receiving connection: counts envelopes, acks as it goes, keeps the
 * latency of each (ns) in lat when set (room for every expected one). */
struct relaynet_peer_rx {
	struct relaynet_ws *ws;
	long expect, got, bad;
	uint64_t t_last_ns;
	uint64_t *lat;
};

uint64_t relaynet_peer_now_ns(void); /* CLOCK_MONOTONIC */
/* Print, kill the running relay, exit 1. */
void relaynet_peer_die(const char *fmt, ...) printflike(1, 2);

/* Remember the relay binary, the temp directory (logs, data) and the
 * sends kept in flight; make the shared keys. Undo with _teardown(). */
void relaynet_peer_setup(const char *relay, const char *tmp, int window);
void relaynet_peer_teardown(void);

/* Start the relay on data (a directory or ":memory:") with extra options
 * (NULL-terminated, may be NULL); dies if it does not come up. */
void relaynet_peer_relay_start(struct relaynet_peer_relay *r, const char *data,
                               const char *const *extra);
void relaynet_peer_relay_stop(struct relaynet_peer_relay *r);
long relaynet_peer_relay_rss_kib(const struct relaynet_peer_relay *r); /* -1 if unknown */

/* Name prefix + i, a random secret. */
void relaynet_peer_acct_init(struct relaynet_peer_acct *a, const char *prefix, long i);
/* Register (reg) or authenticate n accounts, RELAYNET_PEER_CHUNK
 * connections at a time. Connections are kept in ws[i] (ws NULL: closed
 * once answered). Returns how many succeeded; stops at the first chunk
 * with a failure. _par does the same from two threads. */
long relaynet_peer_open_many(int port, const struct relaynet_peer_acct *a, long n, int reg,
                             struct relaynet_ws **ws);
long relaynet_peer_open_par(int port, const struct relaynet_peer_acct *a, long n, int reg,
                            struct relaynet_ws **ws);
/* Send n requests from txws, each one message to every one of the n_rx
 * accounts `to` (send, or send.multi when n_rx > 1), at `rate` per second
 * (0: as fast as the window allows), while rx[i] receive. Returns
 * deliveries per second from the first send to the last delivery, or -1
 * (reported) if some were refused or lost. */
double relaynet_peer_flow(struct relaynet_ws *txws, struct relaynet_peer_rx *rx,
                          const struct relaynet_peer_acct *to, size_t n_rx, long n, long rate);

#endif

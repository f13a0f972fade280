/* The messaging core inside the engine: one per engine process. It owns the
 * profile's open database, the libsignal context and store, and the relay
 * transport. Two halves plug into it: account.c (unlock, registration,
 * relay connection, key upkeep) and msg.c (sending, receiving, receipts,
 * history and contacts methods). core.c only glues them to the engine. */
#ifndef SOTTO_CORE_H
#define SOTTO_CORE_H

#include <stdbool.h>
#include <stdint.h>

#include "engine.h"
#include "util/err.h"

struct db;
/* libsignal typedefs these struct tags (signal_context, ...); naming the
 * tags keeps libsignal's headers out of everything that includes this. */
struct signal_context;
struct signal_protocol_store_context;
struct transport;
struct wire_envelope;
struct wire_pushed;
struct account;
struct msg;

/* Connection state as frontends see it ("status" method, "connection"
 * event). */
enum core_conn {
	CORE_CONN_OFFLINE,
	CORE_CONN_CONNECTING,
	CORE_CONN_CONNECTED, /* authenticated */
	CORE_CONN_AUTH_FAILED,
	CORE_CONN_REPLACED, /* another instance of this device connected */
};

struct core {
	struct engine *eng;
	/* NULL until the profile is unlocked (or registered). */
	struct db *db;
	struct signal_context *sig;
	struct signal_protocol_store_context *store;
	struct transport *tp; /* NULL until unlocked and registered */
	enum core_conn conn;

	/* Who we are; NULL/0 until known. Owned by the core. */
	char *account_name;
	uint32_t device_id;
	char *relay_url;

	struct account *account; /* account.c's private state */
	struct msg *msg;         /* msg.c's private state */
};

/* Create the core for eng and register every messaging method. Called
 * once by the engine at start. If the profile has a key file, the database
 * is opened at once; with a passphrase it waits for "unlock", unless the
 * engine was started with one (engine_config.passphrase): then it unlocks
 * before returning, and a passphrase that does not open the profile fails
 * here (ERR_BADKEY). */
struct core *core_new(struct engine *eng, struct err *e);
void core_free(struct core *c);

/* Halves' entry points, called by core.c (in this order at start, and in
 * reverse at the end). *_init registers the half's JSON-RPC methods. */
int account_init(struct core *c, struct err *e);
void account_free(struct core *c);
int msg_init(struct core *c, struct err *e);
void msg_free(struct core *c);

/* Called by account.c when things happen; implemented by msg.c. */
/* The database was opened (unlock/keyfile/register): load state, resume. */
void msg_on_unlocked(struct core *c);
/* The transport authenticated: flush the outbox, ask for the backlog. */
void msg_on_connected(struct core *c);
/* An envelope arrived: decrypt + commit + ack (ack only after commit). */
void msg_on_envelope(struct core *c, const struct wire_envelope *env);
/* The relay says the backlog has been delivered. */
void msg_on_queue_empty(struct core *c);

/* Used by msg.c, implemented by account.c: */
/* Set the connection state and emit a "connection" event. */
void account_set_conn(struct core *c, enum core_conn state);
/* Fetch prekey bundles of an account's devices (all, or one) from the
 * relay, build sessions for those we lack; done() runs once with 0/-1. */
typedef void account_done_fn(struct core *c, int rc, const struct err *e, void *arg);
int account_fetch_sessions(struct core *c, const char *name, uint32_t device /* 0 = all */,
                           account_done_fn *done, void *arg, struct err *e);

#endif

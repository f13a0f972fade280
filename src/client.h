/* The frontend side of the engine socket: attach to the profile's engine
 * (starting one, tmux-style, when none answers), make JSON-RPC calls and
 * collect the notifications that arrive meanwhile, and unlock the profile
 * with a passphrase that never touches argv or the environment. */
#ifndef SOTTO_CLIENT_H
#define SOTTO_CLIENT_H

#include <jansson.h>
#include <stdbool.h>

#include "ipc.h"
#include "jsonrpc.h"
#include "profile.h"
#include "util/err.h"

/* How long attaching may take, engine start-up included. */
#define CLIENT_ATTACH_TIMEOUT_MS 20000

struct client {
	struct ipc_conn conn; /* fd -1 when not attached */
	json_t *info;         /* engine.info result from attaching */
	long long next_id;
	json_t *notifications; /* array of notification objects not yet taken */
};

/* A JSON-RPC error answer, as opposed to a failure to get an answer. */
struct client_rpc_error {
	int code;
	char message[256];
};

void client_init(struct client *c);
/* Connect to the profile's engine and ask it for engine.info. With
 * autostart, start an engine when none answers and wait for it; attaching
 * is retried while an engine is starting or just leaving. The profile
 * directory must already be prepared. */
int client_attach(struct client *c, const struct profile *p, bool autostart, struct err *e);
/* Call method with params (taken over, may be NULL) and wait for its
 * answer. 0 with *result (the caller's), 1 with *rerr filled when the
 * engine answered an error, -1 with e when there was no answer. */
int client_call(struct client *c, const char *method, json_t *params, json_t **result,
                struct client_rpc_error *rerr, struct err *e);
/* Milliseconds left until deadline (client clock, ms), never negative
 * once it has passed; -1 when deadline is -1 (none). */
int client_left_ms(long long deadline);
/* Wait up to timeout_ms (-1: forever) for a notification. 1 with *note
 * (the caller's), 0 on timeout, -1 when the engine went away. */
/* The next message from the engine, whatever it is, waiting up to
 * timeout_ms (-1: forever): 1 with m (clear it with jsonrpc_msg_clear), 0
 * on timeout, -1 when the engine went away or spoke garbage. For callers
 * that match answers themselves instead of calling client_call(). */
int client_read_message(struct client *c, int timeout_ms, struct jsonrpc_msg *m, struct err *e);
int client_next_notification(struct client *c, int timeout_ms, json_t **note, struct err *e);
/* When engine.info said the profile is locked: read the passphrase from
 * passphrase_file, or ask on the terminal when stdin is one, and call
 * unlock. Never prompts otherwise (ERR_AUTH). Returns like client_call. */
int client_unlock_if_locked(struct client *c, const char *passphrase_file,
                            struct client_rpc_error *rerr, struct err *e);
/* Ask on the terminal (/dev/tty) with echo off, showing "PROMPT: ". Only
 * call it when standard input is a terminal. *out is wiped by the caller
 * (wipe_free_str). */
int client_prompt_passphrase(const char *prompt, char **out, struct err *e);
/* Read a passphrase file, which must not be readable by group or others;
 * one trailing newline is dropped. The caller wipe_free_str()s *out. */
int client_read_passphrase_file(const char *path, char **out, struct err *e);
void client_close(struct client *c);

/* Start a detached engine for the profile and wait until it listens.
 * 0 when ready, 1 when another engine holds the profile's lock (it is
 * running or still starting or stopping), -1 on failure. */
int client_spawn_engine(const struct profile *p, int timeout_ms, struct err *e);

#endif

/* Internals shared by msg.c, msg_send.c, msg_recv.c, msg_methods.c and
 * msg_json.c: the messaging half's private state, its send jobs, and the
 * hooks tests use instead of a live engine and relay. */
#ifndef SOTTO_MSG_INT_H
#define SOTTO_MSG_INT_H

#include <jansson.h>
#include <libwebsockets.h>
#include <stdbool.h>
#include <stdint.h>

#include "content.h"
#include "core.h"
#include "msg.h"
#include "store/history.h"
#include "msg_batch_clock.h"
#include "wire/wire.h"

/* How long "send" waits for the relay's ack before answering "sending". */
#define MSG_SEND_WAIT_MS 5000
/* Receive batching (and its timing: msg_batch_clock.h): at most this
 * many envelopes in a batch. Half the relay's window (WIRE_WINDOW): while
 * one half commits, the relay pushes the other instead of waiting for our
 * ack. */
#define MSG_BATCH_MAX (WIRE_WINDOW / 2)
/* Delivered receipts wait this long to go out together (one job per
 * sender instead of one per batch: at a steady rate a batch is often one
 * message). */
#define MSG_RECEIPT_DELAY_US 50000
/* Attempts at fixing a device list (409) before a send is parked. */
#define MSG_MISMATCH_TRIES 4
/* Rows read per query by recv / history over all conversations. */
#define MSG_LIST_MAX 10000
/* At most one session repair per peer device in this long. */
#define MSG_REPAIR_INTERVAL_MS (3600LL * 1000)

enum msg_job_kind {
	MSG_JOB_TEXT,    /* a history message: to the peer and our other devices */
	MSG_JOB_RECEIPT, /* to the peer's devices only; best effort */
};

/* One outgoing send, identified by its client msg_id, from the history
 * insert until the relay's 200. */
struct msg_job {
	struct msg *m;
	enum msg_job_kind kind;
	char client_id[WIRE_MSG_ID_MAX + 1];
	int64_t history_id; /* 0 for receipts */
	char *to;
	/* Receipts keep their content here; a text job rebuilds it from
	 * history. NULL: only the stored ciphertexts can be sent. */
	struct content *content;
	struct engine_req *req; /* a waiting "send" call, or NULL */
	/* On msg->waits until answered; answered "sending" at wait_due. */
	bool waiting;
	lws_usec_t wait_due;
	struct msg_job *wait_prev, *wait_next;
	lws_sorted_usec_list_t retry_sul; /* after 429 / 5xx */
	bool retry_armed;
	/* (name, device) bundles to fetch before encrypting; device 0: all.
	 * Names point at to or the core's account name. */
	const char **fetch_names;
	uint32_t *fetch_devices;
	size_t n_fetch;
	int fetch_rounds;
	bool in_flight;      /* a send request or fetches are out */
	int pending_fetches; /* account_fetch_sessions still running */
	int fetch_failed;    /* err code of the first failed fetch, 0 if none */
	char fetch_msg[256];
	int mismatch_tries;
	bool done;
	/* Encrypted inside the open write batch: sent once it commits. */
	bool wait_commit;
	/* A new text whose "message" event goes out with that commit. */
	bool announce;
	bool answer_on_commit; /* req is answered once the text is durable (send --queue) */
	/* On the kv list of messages stored but not yet encrypted. */
	bool unsent_listed;
	bool pending; /* on msg->pending */
	/* Its ciphertexts are in the outbox (or it needs none): newer jobs
	 * to the same peer may encrypt now. */
	bool queued;
	bool behind; /* it found an older job to its peer unqueued */
	struct msg_job *prev, *next;
};

/* A prekey message from a contact whose verified key changed: kept (not
 * acked) until the user trusts the new key. */
struct msg_held {
	struct wire_envelope env; /* content owned here */
	struct msg_held *next;
};

/* One envelope handled inside the current receive batch: what to do once
 * the batch's transaction has committed. */
struct msg_batch_item {
	uint64_t envelope_id;
	bool ack;
	int64_t history_id;                /* a new message, or 0 */
	struct msg_json_snapshot *message; /* for its "message" event, or NULL */
	char *receipt_to;                  /* send a delivered receipt to this peer ... */
	char *receipt_msg_id;              /* ... for this message id */
	int64_t *state_ids;                /* messages whose state a receipt moved */
	enum history_state new_state;
	size_t n_state_ids;
	bool identity_check; /* a prekey message: look for identity changes */
	bool repair;         /* no session could read it: rebuild one, tell the peer */
	char *failed;        /* why it could not be read (event), or NULL */
	char from[WIRE_NAME_MAX + 1];
	uint32_t from_device;
};

/* A conversation that received messages in the open receive batch: its
 * last activity and unread count are updated once, before the commit. */
struct msg_touch {
	int64_t conversation_id;
	int64_t at;
	int unread;
};

/* A sender whose contact, device row and conversation are known to exist
 * inside the open receive batch: later envelopes skip those writes. */
struct msg_sender {
	char name[WIRE_NAME_MAX + 1];
	uint32_t device, registration_id;
	int64_t conversation_id;
};

struct msg_hooks {
	/* Instead of engine_emit (data taken over). */
	void (*emit)(void *arg, const char *type, json_t *data);
	/* Instead of transport_ack. */
	void (*ack)(void *arg, const uint64_t *ids, size_t n);
	/* Instead of transport_request for sends: answer later with
	 * msg_send_reply(). */
	int (*request)(void *arg, struct wire_frame *req, struct msg_job *job);
	void *arg;
	/* Keep receive batches open until msg_flush() (or MSG_BATCH_MAX);
	 * otherwise, without an event loop, each envelope commits alone. */
	bool manual_flush;
};

struct msg {
	struct core *c;
	struct msg_hooks hooks;
	bool has_hooks;
	/* Oldest first: a flush after reconnecting resends in the order the
	 * user wrote, so the peer sees them in order. */
	struct msg_job *jobs, *jobs_tail;
	/* Jobs whose "send" call waits for the relay's ack, oldest (first
	 * due) first, and one timer for the head: a timer per job costs a
	 * walk of every timer when thousands are in flight. */
	struct msg_job *waits, *waits_tail;
	lws_sorted_usec_list_t waits_sul;
	bool waits_armed;
	struct msg_held *held;
	/* The write batch: one open transaction shared by the envelopes
	 * received and the messages sent (stored, encrypted, acknowledged
	 * by the relay) since it opened; one commit, then acks and sends. */
	struct msg_batch_item *batch;
	size_t n_batch;
	size_t batch_cap; /* items allocated in batch (msg_recv.c) */
	bool batch_open;
	struct engine_timer batch_timer;    /* to the microsecond: see engine_timer.c */
	struct msg_batch_clock batch_clock; /* when it commits */
	bool flushing;                      /* inside msg_recv_flush */
	int busy;                           /* msg_job_run frames on the stack */
	bool kicking;                       /* inside msg_job_kick: it runs the queue itself */
	bool moved;                         /* a job got queued or went away since last cleared */
	size_t n_behind;                    /* jobs with behind set */
	/* Jobs with something to do when the batch commits (announce,
	 * wait_commit); msg_job_free takes a job off. */
	struct msg_job **pending;
	size_t n_pending, cap_pending;
	/* Delivered receipts not yet queued: peer and message id, copies. */
	char **rcpt_peer, **rcpt_id;
	size_t n_rcpt;
	struct engine_timer rcpt_timer;
	bool rcpt_armed;
	struct msg_sender *senders; /* valid while the batch is open */
	size_t n_senders;
	struct msg_touch *touches; /* valid while the batch is open */
	size_t n_touches;
	/* recv calls waiting for a message or their timeout. */
	struct msg_waiter *waiters;
	int64_t follow_cursor; /* handed to followers, not yet stored */
	bool caught_up;        /* queue.empty seen since we were last offline */
	bool live;             /* queue.empty seen on this connection */
};

/* msg.c */
struct lws_context *msg_lws(struct msg *m);
void msg_emit(struct msg *m, const char *type, json_t *data);
bool msg_connected(struct msg *m);
/* The kv key "msg.<what>.<name>"; the caller frees. */
char *msg_kv_key(const char *what, const char *name);
/* Markers kept per contact. */
int msg_untrusted(struct msg *m, const char *name, bool *out, struct err *e);
/* Record identity changes the store saw; with emit, tell frontends
 * ("identity.changed"). */
void msg_identity_sweep(struct msg *m, bool emit);
/* A fresh random msg_id (base64 of 16 bytes). */
void msg_new_id(char out[WIRE_MSG_ID_MAX + 1]);
/* Commit the open receive batch before anything else writes: what goes
 * to the relay must never rest on state a failed batch commit undoes. */
void msg_settle(struct msg *m);
/* Reply to a JSON-RPC call with an error (NULL req: nothing). */
void msg_fail(struct engine_req *req, const struct err *e);

/* msg_json.c */
/* The message object of the JSON-RPC contract; peer may be NULL (looked
 * up). */
json_t *msg_json_message(struct msg *m, const struct history_message *h, const char *peer);
/* What a "message" event needs of h (peer: as for msg_json_message), in
 * one allocation (free() it); the event's JSON is built only when a
 * frontend reads it. */
struct msg_json_snapshot;
struct msg_json_snapshot *msg_json_snapshot(struct msg *m, const struct history_message *h,
                                            const char *peer);
const struct history_message *msg_json_snapshot_message(const struct msg_json_snapshot *snap);
/* Emit the "message" event; snap is taken over. */
void msg_json_emit_snapshot(struct msg *m, struct msg_json_snapshot *snap);
const char *msg_json_state(enum history_state s, enum history_direction dir);
/* Parse "since": ISO 8601 date/time, a duration back from now (30s, 15m,
 * 2h, 3d, 1w) or Unix ms. */
int msg_json_parse_since(const char *s, int64_t now_ms, int64_t *out, struct err *e);
/* The incoming id the sender chose, from our stored "sender/id" form. */
const char *msg_json_peer_msg_id(const struct history_message *h);

/* msg_batch.c: the write batch (msg_recv_flush commits it) */
/* Open the write batch if it is not open and time its commit for why
 * (msg_batch_clock.h). Writes after this join its transaction; nothing
 * that rests on them may go to the relay before the commit. */
int msg_batch_join(struct msg *m, enum msg_batch_why why, struct err *e);
/* At the end of an entry point (a method, a relay answer, a callback):
 * without an event loop (tests), commit the batch now. */
void msg_batch_kick(struct msg *m);
/* Time the batch's commit for what joined it (msg_batch_clock.h). */
void msg_batch_arm(struct msg *m, enum msg_batch_why why);
void msg_batch_cancel(struct msg *m);
/* The batch committed: announce the texts it stored and send what it
 * encrypted. */
void msg_batch_committed(struct msg *m);
/* The batch rolled back: the sends it stored fail with why. */
void msg_batch_dropped(struct msg *m, const struct err *why);
/* Put job on the list msg_batch_committed / msg_batch_dropped go through
 * (after setting announce or wait_commit); msg_batch_forget_job takes it
 * off (msg_job_free). */
void msg_batch_remember_job(struct msg_job *job);
void msg_batch_forget_job(struct msg_job *job);
/* Queue a delivered receipt for id to peer; they go out together after
 * MSG_RECEIPT_DELAY_US (at once without a loop). */
void msg_batch_receipt_add(struct msg *m, const char *peer, const char *id);
/* Queue the waiting receipts as jobs now (joining the batch). */
void msg_batch_receipts_send(struct msg *m);

/* msg_job.c */
struct msg_job *msg_job_new(struct msg *m, enum msg_job_kind kind, const char *client_id,
                            int64_t history_id, const char *to);
struct msg_job *msg_job_find(struct msg *m, const char *client_id);
/* The job of history message id, newest first (a new job is at the
 * tail), or NULL. */
struct msg_job *msg_job_find_history(struct msg *m, int64_t id);
/* Advance as far as possible now: fetch (when connected), encrypt, send.
 * Encrypting inside the open write batch defers the send to its commit;
 * a text that cannot be encrypted yet goes on the unsent list there. */
void msg_job_run(struct msg_job *job);
/* Answer the waiting "send" call (fail NULL: with the message). */
void msg_job_answer(struct msg_job *job, const struct err *fail);
/* Take the job off msg->waits (msg_send.c keeps that list). */
void msg_send_wait_remove(struct msg_job *job);
/* Done: answer, unlink, free. */
void msg_job_finish(struct msg_job *job, const struct err *fail);
/* Jobs to `to` that waited for an older one to encrypt: run them in order. */
void msg_job_kick(struct msg *m, const char *to);
/* Failed for good: history state failed, outbox rows dropped, finish. */
void msg_job_fail(struct msg_job *job, const struct err *why);
void msg_job_set_state(struct msg_job *job, enum history_state state);
void msg_job_unlink(struct msg_job *job);
void msg_job_free(struct msg_job *job);
void msg_job_want_fetch(struct msg_job *job, const char *name, uint32_t device);
/* Drop the session with (name, device) and forget the device. */
void msg_job_forget_session(struct msg *m, const char *name, int32_t device);
/* The kv list of history ids stored but not yet encrypted. */
int msg_job_unsent_load(struct db *db, json_t **out, struct err *e);
int msg_job_unsent_update(struct db *db, int64_t id, bool add, struct err *e);

/* msg_send.c */
int msg_send_register(struct core *c, struct err *e);
/* Queue a receipt of kind r for ids to peer (best effort). */
void msg_send_receipt(struct msg *m, const char *peer, enum content_receipt r, char **ids,
                      size_t n);
/* A message from (peer, device) found no session: build one from a fresh
 * bundle and send a repair message, at most once per
 * MSG_REPAIR_INTERVAL_MS. */
void msg_send_repair(struct msg *m, const char *peer, uint32_t device, uint64_t envelope_id);
/* Resume sends: on unlock (load) and on connect (flush). */
void msg_send_load(struct msg *m);
void msg_send_flush(struct msg *m);
void msg_send_free_all(struct msg *m);
/* The relay answered a job's send (resp) or it failed (resp_err). */
void msg_send_reply(struct msg_job *job, const struct wire_frame *resp, const struct err *resp_err);

/* msg_recv.c */
/* Commit the write batch; then ack, announce and send what rested on it. */
void msg_recv_flush(struct msg *m);
void msg_recv_free(struct msg *m);
/* Replay held envelopes of name (after trust). */
void msg_recv_release(struct msg *m, const char *name);

/* msg_trust.c: safety, trust, mark_read */
int msg_trust_register(struct core *c, struct err *e);

/* msg_methods.c */
int msg_methods_register(struct core *c, struct err *e);
/* A message was stored/sent: wake recv waiters. */
void msg_methods_new_message(struct msg *m, const struct history_message *h);
void msg_methods_free(struct msg *m);
/* The relay pushed its backlog: answer recv calls waiting for it. */
void msg_methods_caught_up(struct msg *m);
/* A receive batch's events went out: store what followers were handed. */
void msg_methods_batch_done(struct msg *m);

#endif

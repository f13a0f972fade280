/* Message history: insert incoming (deduplicated by the relay's id) and
 * outgoing (by our client id) messages, page through a conversation by
 * message id, search, move delivery state forward, expire. */
#ifndef SOTTO_STORE_HISTORY_H
#define SOTTO_STORE_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/db.h"
#include "util/err.h"

enum history_direction {
	HISTORY_IN = 0,
	HISTORY_OUT = 1,
};

/* Outgoing: SENDING -> SENT -> DELIVERED -> READ, or SENDING <-> FAILED.
 * Incoming: RECEIVED -> READ. State never moves backwards, so a late
 * "sent" ack cannot undo a "read" receipt. */
enum history_state {
	HISTORY_SENDING = 0,
	HISTORY_SENT = 1,
	HISTORY_DELIVERED = 2,
	HISTORY_READ = 3,
	HISTORY_FAILED = 4,
	HISTORY_RECEIVED = 5,
};

struct history_message {
	int64_t id;
	int64_t conversation_id;
	enum history_direction direction;
	char *sender_name;
	int32_t sender_device;
	char *relay_id;                          /* incoming: the relay's envelope id (unique) */
	char *client_id;                         /* outgoing: the id we chose (unique) */
	int64_t sent_at, received_at, server_at; /* ms; 0 = unknown */
	char *body;
	enum history_state state;
	int64_t expires_at; /* ms; 0 = never */
	int64_t attachment_count;
};

/* Insert an incoming message (relay_id required; state RECEIVED;
 * received_at defaults to now) and count it unread in its conversation.
 * A relay id seen before is ERR_DUPLICATE and changes nothing: the caller
 * acks and drops the redelivery. An unknown conversation is ERR_NOTFOUND.
 * Run it inside the decrypt's transaction; there it opens no savepoint of
 * its own, so after any failure other than ERR_DUPLICATE the caller must
 * roll its transaction back. */
int history_insert_incoming(struct db *db, const struct history_message *m, int64_t *id,
                            struct err *e);
/* The same without touching the conversation: a receive batch inserts
 * many messages into few conversations and calls conversations_touch once
 * per conversation (an UPDATE costs an encrypted statement journal) in the
 * same transaction, before it commits. */
int history_insert_incoming_untouched(struct db *db, const struct history_message *m, int64_t *id,
                                      struct err *e);
/* Insert an outgoing message (client_id required; state SENDING; sent_at
 * defaults to now). A client id seen before is ERR_DUPLICATE. */
int history_insert_outgoing(struct db *db, const struct history_message *m, int64_t *id,
                            struct err *e);

/* Mark the newest max incoming messages of the conversation up to
 * up_to_id that are still RECEIVED as READ, in one statement (older ones
 * keep their state: the conversation's unread count is cleared apart).
 * *client_ids (*n of them, the caller frees each and the array) are their
 * client ids, for read receipts. */
int history_mark_read(struct db *db, int64_t conversation, int64_t up_to_id, size_t max,
                      char ***client_ids, size_t *n, struct err *e);

/* Whether any incoming message has an id above after (cheap: no rows are
 * loaded). */
int history_has_incoming_after(struct db *db, int64_t after, bool *out, struct err *e);

/* One message; ERR_NOTFOUND. Free with history_message_clear(). */
int history_get(struct db *db, int64_t id, struct history_message *out, struct err *e);
/* The id of our outgoing message with client_id; ERR_NOTFOUND. */
int history_find_client_id(struct db *db, const char *client_id, int64_t *id, struct err *e);

/* Up to limit messages of a conversation with id < before (before <= 0:
 * the newest), oldest first, for scrolling back. */
int history_page_before(struct db *db, int64_t conversation_id, int64_t before, int limit,
                        struct history_message **out, size_t *n, struct err *e);
/* Up to limit messages with id > after, oldest first, for catching up. */
int history_page_after(struct db *db, int64_t conversation_id, int64_t after, int limit,
                       struct history_message **out, size_t *n, struct err *e);
/* Messages whose body contains text (ASCII case-insensitive, % and _ taken
 * literally), newest first; conversation_id 0 searches all. */
int history_search(struct db *db, int64_t conversation_id, const char *text, int limit,
                   struct history_message **out, size_t *n, struct err *e);
void history_message_clear(struct history_message *m);
void history_messages_free(struct history_message *list, size_t n);

/* Move a message's state forward (see enum history_state). *changed (may
 * be NULL) says whether it moved; a backward move is not an error, just
 * ignored. ERR_NOTFOUND for an unknown id. */
int history_set_state(struct db *db, int64_t id, enum history_state state, bool *changed,
                      struct err *e);
/* Start (or change) a message's disappearing deadline. */
int history_set_expires(struct db *db, int64_t id, int64_t expires_at, struct err *e);
/* Delete every message whose deadline is <= now; *deleted may be NULL. */
int history_expire(struct db *db, int64_t now, int64_t *deleted, struct err *e);
/* The earliest pending deadline, 0 if none: when to wake up next. */
int history_next_expiry(struct db *db, int64_t *at, struct err *e);
int history_delete(struct db *db, int64_t id, struct err *e);

/* The paging queries, exported so tests can check their plans. */
extern const char history_sql_page_before[];
extern const char history_sql_page_after[];

#endif

/* Conversations: one per peer account (direct) or per group, with the
 * title, last activity, unread count and disappearing-message timer the
 * UI's conversation list shows. */
#ifndef SOTTO_STORE_CONVERSATIONS_H
#define SOTTO_STORE_CONVERSATIONS_H

#include <stddef.h>
#include <stdint.h>

#include "store/db.h"
#include "util/err.h"

enum conversations_kind {
	CONVERSATIONS_DIRECT = 1,
	CONVERSATIONS_GROUP = 2,
};

struct conversations_entry {
	int64_t id;
	enum conversations_kind kind;
	char *peer;  /* account name (direct) or group id (group) */
	char *title; /* NULL: the UI shows the peer */
	int64_t created_at, last_activity;
	int64_t unread;
	int64_t timer_seconds; /* 0: messages do not disappear */
};

/* The id of the conversation with peer (kind), created if new. */
int conversations_find_or_create(struct db *db, enum conversations_kind kind, const char *peer,
                                 int64_t *id, struct err *e);
/* Shorthand for the direct conversation with name. */
int conversations_direct(struct db *db, const char *name, int64_t *id, struct err *e);
/* Look up without creating: ERR_NOTFOUND if none. */
int conversations_find(struct db *db, enum conversations_kind kind, const char *peer, int64_t *id,
                       struct err *e);

/* One conversation; ERR_NOTFOUND if no such id. Free with
 * conversations_entry_clear(). */
int conversations_get(struct db *db, int64_t id, struct conversations_entry *out, struct err *e);
/* All conversations, most recently active first. Free with
 * conversations_list_free(). */
int conversations_list(struct db *db, struct conversations_entry **out, size_t *n, struct err *e);
void conversations_entry_clear(struct conversations_entry *c);
void conversations_list_free(struct conversations_entry *list, size_t n);

/* Setters: ERR_NOTFOUND if no such id. */
int conversations_set_title(struct db *db, int64_t id, const char *title, struct err *e);
int conversations_set_timer(struct db *db, int64_t id, int64_t seconds, struct err *e);
/* Zero the unread count. */
int conversations_mark_read(struct db *db, int64_t id, struct err *e);
/* Raise last_activity to at (never lowers it) and add unread_delta. For
 * history.c when a message lands. */
int conversations_touch(struct db *db, int64_t id, int64_t at, int unread_delta, struct err *e);
/* Delete a conversation with its whole history. */
int conversations_delete(struct db *db, int64_t id, struct err *e);

#endif

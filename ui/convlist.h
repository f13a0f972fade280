/* The conversation list and the contacts the UI knows about, as plain
 * data: loaded from the engine's "conversations" and "contacts" answers
 * and kept current from message events (unread counts, last activity,
 * most recent first). */
#ifndef SOTTO_UI_CONVLIST_H
#define SOTTO_UI_CONVLIST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct convlist_item {
	int64_t id;      /* conversation id; 0 until the engine names it */
	char *peer;      /* as the engine spells it (for calls) */
	char *title;     /* sanitised, one line */
	char *last_text; /* sanitised, one line */
	size_t unread;
	int64_t last_ms;
};

struct convlist_contact {
	char *name; /* as the engine spells it */
	bool verified;
	bool identity_changed;
};

struct convlist {
	struct convlist_item *items; /* most recent first */
	size_t n, cap;
	struct convlist_contact *contacts;
	size_t ncontacts;
};

void convlist_init(struct convlist *l);
void convlist_clear(struct convlist *l);
/* Replace the list with a "conversations" answer (object or array).
 * Entries without a peer are skipped. Returns how many were taken. */
size_t convlist_load(struct convlist *l, json_t *answer);
/* Replace the contacts with a "contacts" answer. */
size_t convlist_load_contacts(struct convlist *l, json_t *answer);
/* Index of the conversation by id (when > 0) or peer, or -1. */
long convlist_find(const struct convlist *l, int64_t id, const char *peer);
/* Make sure a conversation with peer is listed (a /msg to someone new);
 * returns its index. */
size_t convlist_ensure(struct convlist *l, int64_t id, const char *peer);
/* A message (object as in the RPC contract) was sent or received: the
 * conversation moves to the top with its last text, and an incoming one
 * counts as unread unless its conversation is open. Returns the new
 * index, or -1 when the object is not a message. */
long convlist_note_message(struct convlist *l, json_t *message, bool open);
void convlist_mark_read(struct convlist *l, size_t index);
/* The contact called name, or NULL. */
struct convlist_contact *convlist_contact(const struct convlist *l, const char *name);
/* Contact names (borrowed) for completion; the array is the caller's. */
const char **convlist_names(const struct convlist *l, size_t *n);

#endif

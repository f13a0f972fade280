/* The engine's event log: every event a frontend should see (message
 * received, delivered, key changed, timer fired) gets a monotonic cursor,
 * so a frontend that reconnects asks for everything after the last cursor
 * it saw. The payload is JSON text the engine wrote; the store does not
 * parse it. */
#ifndef SOTTO_STORE_EVENTS_H
#define SOTTO_STORE_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#include "store/db.h"
#include "util/err.h"

struct events_entry {
	int64_t cursor;
	char *type;
	char *payload;
	int64_t created_at;
};

/* Append an event; *cursor (may be NULL) gets its cursor, greater than
 * every cursor handed out before, even after pruning. */
int events_append(struct db *db, const char *type, const char *payload, int64_t *cursor,
                  struct err *e);
/* Events with cursor > after, oldest first, at most limit. Free with
 * events_free(). */
int events_since(struct db *db, int64_t after, int limit, struct events_entry **out, size_t *n,
                 struct err *e);
void events_free(struct events_entry *list, size_t n);
/* The newest cursor, 0 when the log is empty and was never written. */
int events_last_cursor(struct db *db, int64_t *cursor, struct err *e);
/* Drop events with cursor <= up_to (a frontend cannot catch up past what
 * was pruned; it reloads state instead). */
int events_prune(struct db *db, int64_t up_to, struct err *e);

#endif

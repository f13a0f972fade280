/* The outbox: one row per (client message id, recipient, device) holding
 * the exact ciphertext bytes, written in the same transaction that stored
 * the advanced ratchet, so a retry after a crash resends the same bytes
 * under the same id and the relay can deduplicate. */
#ifndef SOTTO_STORE_OUTBOX_H
#define SOTTO_STORE_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include "store/db.h"
#include "util/err.h"

struct outbox_item {
	int64_t id;
	char *client_id;    /* the send id the relay deduplicates on */
	int64_t message_id; /* history row, 0 for sends without one (receipts...) */
	char *recipient;
	int32_t device_id;
	uint32_t registration_id;
	int msg_type; /* Signal message type, carried in the envelope */
	unsigned char *ciphertext;
	size_t ciphertext_len;
	int64_t attempts;
	int64_t created_at;
};

/* Queue one ciphertext. Must run inside the caller's transaction (the one
 * that stored the session): outside one it is ERR_INVALID. The same
 * (client_id, recipient, device) twice is ERR_DUPLICATE. *id may be NULL. */
int outbox_enqueue(struct db *db, const struct outbox_item *item, int64_t *id, struct err *e);
/* Rows in queue order (oldest first), at most limit. Every row is
 * pending: one the relay acknowledged is deleted. Free with
 * outbox_items_free(). */
int outbox_list_pending(struct db *db, int limit, struct outbox_item **out, size_t *n,
                        struct err *e);
/* Every row of one send, for assembling a relay request. */
int outbox_list_client_id(struct db *db, const char *client_id, struct outbox_item **out, size_t *n,
                          struct err *e);
void outbox_items_free(struct outbox_item *items, size_t n);

/* Count an attempt before sending. ERR_NOTFOUND for an unknown id. */
int outbox_note_attempt(struct db *db, int64_t id, struct err *e);
/* The relay acknowledged it, or it is given up: the row goes, ciphertext
 * and all. ERR_NOTFOUND for an unknown id. */
int outbox_delete(struct db *db, int64_t id, struct err *e);

#endif

/* Attachments of a message (schema version 2): where the encrypted blob
 * lives on the relay, its per-file key and ciphertext digest, and the
 * local copy once downloaded. The key never leaves the encrypted
 * database except inside an E2EE message. */
#ifndef SOTTO_STORE_ATTACHMENTS_H
#define SOTTO_STORE_ATTACHMENTS_H

#include <stddef.h>
#include <stdint.h>

#include "store/db.h"
#include "util/err.h"

enum attachments_state {
	ATTACHMENTS_PENDING = 0, /* announced, not yet transferred */
	ATTACHMENTS_DONE = 1,    /* uploaded (ours) or downloaded and checked */
	ATTACHMENTS_FAILED = 2,  /* digest or size mismatch, or gave up */
};

struct attachments_entry {
	int64_t id;
	int64_t message_id;
	char *blob_id; /* the relay's id for the ciphertext */
	char *content_type;
	char *file_name;
	int64_t size; /* plaintext bytes */
	unsigned char *file_key;
	size_t file_key_len;
	unsigned char *digest; /* SHA-256 of the ciphertext */
	size_t digest_len;
	char *local_path;
	enum attachments_state state;
};

/* Attach a file to a message (counted in its attachment_count). *id may be
 * NULL. Unknown message: ERR_NOTFOUND. */
int attachments_add(struct db *db, const struct attachments_entry *a, int64_t *id, struct err *e);
/* Attachments of a message in the order added. Free with
 * attachments_free() (it wipes the keys). */
int attachments_list(struct db *db, int64_t message_id, struct attachments_entry **out, size_t *n,
                     struct err *e);
void attachments_free(struct attachments_entry *list, size_t n);
/* Record the transfer outcome and, when downloaded, the local copy. */
int attachments_set_state(struct db *db, int64_t id, enum attachments_state state,
                          const char *local_path, struct err *e);

#endif

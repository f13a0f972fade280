/* Identity keys: ours (one key pair and registration id per profile) and
 * our peers', keyed by (name, device id), with trust on first use, change
 * detection and verification. Also libsignal's identity key store
 * callbacks, which sigstore_create() installs.
 *
 * Policy (is_trusted_identity): an unknown device is trusted (TOFU),
 * unless another device of the account is verified with a different key
 * (every device presents the account's key: refused, as a changed
 * verified key is); the stored key is trusted; a different key is
 * untrusted if the stored one was verified, else trusted with a warning.
 * A device stored with a key verified on another device is verified.
 * When libsignal then saves a different key, the change is recorded (old
 * key, new key, when), the verified flag is cleared and the change stays
 * pending until the engine has shown it and calls idstore_changes_clear(). */
#ifndef SOTTO_STORE_IDSTORE_H
#define SOTTO_STORE_IDSTORE_H

#include <signal/signal_protocol.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/db.h"
#include "util/err.h"

/* Set (or replace) our identity key pair (libsignal-serialized public and
 * private keys) and registration id. */
int idstore_set_local(struct db *db, const void *pub, size_t pub_len, const void *priv,
                      size_t priv_len, uint32_t registration_id, struct err *e);
/* Our identity: ERR_NOTFOUND before idstore_set_local. *pub and *priv are
 * the caller's; wipe_free(*priv, *priv_len). Either pointer may be NULL if
 * that part is not wanted. */
int idstore_get_local(struct db *db, unsigned char **pub, size_t *pub_len, unsigned char **priv,
                      size_t *priv_len, uint32_t *registration_id, struct err *e);

enum idstore_trust {
	IDSTORE_UNKNOWN,   /* first contact: trusted on first use */
	IDSTORE_SAME,      /* matches the stored key */
	IDSTORE_CHANGED,   /* differs; the old key was not verified: warn */
	IDSTORE_UNTRUSTED, /* differs from a verified key: refuse */
};

/* Classify key for (name, device) without changing anything. */
int idstore_check(struct db *db, const char *name, int32_t device_id, const void *key,
                  size_t key_len, enum idstore_trust *out, struct err *e);
/* Store key for (name, device): first sight inserts it; a different key
 * records a pending change and clears verified. key NULL forgets the key
 * but keeps the row (libsignal's contract). */
int idstore_save(struct db *db, const char *name, int32_t device_id, const void *key,
                 size_t key_len, struct err *e);
/* The stored key of (name, device): ERR_NOTFOUND if none. *key is the
 * caller's. */
int idstore_get(struct db *db, const char *name, int32_t device_id, unsigned char **key,
                size_t *key_len, bool *verified, struct err *e);

/* Mark verified (or not) every device of name whose stored key is key: a
 * verification is about the key the user compared. ERR_NOTFOUND if no
 * device of name has that key. */
int idstore_set_verified(struct db *db, const char *name, const void *key, size_t key_len,
                         bool verified, struct err *e);
/* True if name has at least one stored key and all of them are verified. */
int idstore_name_verified(struct db *db, const char *name, bool *out, struct err *e);

struct idstore_change {
	int64_t id;
	char *name;
	int32_t device_id;
	unsigned char *old_key, *new_key;
	size_t old_len, new_len;
	bool was_verified;
	int64_t changed_at;
};

/* Pending changes, oldest first; *out is the caller's: free with
 * idstore_changes_free(). */
int idstore_changes_pending(struct db *db, struct idstore_change **out, size_t *n, struct err *e);
void idstore_changes_free(struct idstore_change *changes, size_t n);
/* Mark every pending change with id <= up_to as seen (kept as history). */
int idstore_changes_clear(struct db *db, int64_t up_to, struct err *e);

/* libsignal's identity key store on db (user_data = db, no destroy_func).
 * Failures return SIGSTORE_ERR_* codes (store/sigstore.h). */
void idstore_callbacks(struct db *db, signal_protocol_identity_key_store *out);

#endif

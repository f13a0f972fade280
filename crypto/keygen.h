/* Key material for one device: identity key pair and registration id,
 * batches of one-time prekeys, signed prekeys and when to rotate them, and
 * the public bundle a peer needs to start a session with us. */
#ifndef SOTTO_CRYPTO_KEYGEN_H
#define SOTTO_CRYPTO_KEYGEN_H

#include <stddef.h>
#include <stdint.h>

#include <signal/signal_protocol.h>

#include "util/err.h"

#define KEYGEN_PUB_LEN 33  /* serialized djb public key: 0x05 + 32 bytes */
#define KEYGEN_PRIV_LEN 32 /* serialized djb private key */
#define KEYGEN_SIG_LEN 64
#define KEYGEN_REG_ID_MIN 1
#define KEYGEN_REG_ID_MAX 16380
#define KEYGEN_PREKEY_ID_MAX 0xFFFFFE /* ids run 1..this and wrap */
#define KEYGEN_PREKEY_BATCH_MAX 1000

/* Signed prekey schedule: rotate every 2 days, keep replaced keys for a
 * 30-day grace period (a message built on an old bundle may arrive late). */
#define KEYGEN_DAY_MS (24ULL * 60 * 60 * 1000)
#define KEYGEN_ROTATE_AFTER_MS (2 * KEYGEN_DAY_MS)
#define KEYGEN_GRACE_MS (30 * KEYGEN_DAY_MS)

/* What a peer needs to build a session with one of our devices. */
struct keygen_bundle {
	uint32_t registration_id;
	int32_t device_id;
	uint32_t prekey_id;
	uint8_t prekey_pub[KEYGEN_PUB_LEN];
	int has_prekey; /* 0: no one-time prekey left, use the signed one only */
	uint32_t signed_prekey_id;
	uint8_t signed_prekey_pub[KEYGEN_PUB_LEN];
	uint8_t signed_prekey_sig[KEYGEN_SIG_LEN];
	uint8_t identity_pub[KEYGEN_PUB_LEN];
};

/* A device's long-term identity, serialized for the caller to store. The
 * private half is secret: keygen_identity_wipe() when done. */
struct keygen_identity {
	uint8_t pub[KEYGEN_PUB_LEN];
	uint8_t priv[KEYGEN_PRIV_LEN];
	uint32_t registration_id; /* KEYGEN_REG_ID_MIN..KEYGEN_REG_ID_MAX */
};

/* The public half of a freshly generated one-time prekey, for upload. */
struct keygen_prekey_pub {
	uint32_t id;
	uint8_t pub[KEYGEN_PUB_LEN];
};

/* The public half of a signed prekey, for upload. */
struct keygen_signed_prekey_pub {
	uint32_t id;
	uint64_t created_ms;
	uint8_t pub[KEYGEN_PUB_LEN];
	uint8_t sig[KEYGEN_SIG_LEN];
};

/* A stored signed prekey as the rotation policy sees it. */
struct keygen_spk_info {
	uint32_t id;
	uint64_t created_ms;
};

/* Generate a new identity key pair and registration id into *out (done once
 * per install). Returns 0, or -1 with e filled. */
int keygen_identity_generate(signal_context *ctx, struct keygen_identity *out, struct err *e);

/* Erase the private key. */
void keygen_identity_wipe(struct keygen_identity *id);

/* Generate count (1..KEYGEN_PREKEY_BATCH_MAX) one-time prekeys, store each
 * through store, and return their public parts in *out (count entries,
 * caller frees with free()). *next_id is the persisted counter: it names
 * the first id to try (0 or out of range means 1) and on success is the id
 * after the last one used. Ids wrap after KEYGEN_PREKEY_ID_MAX to 1 and skip
 * any id still in the store, so an outstanding key is never overwritten. */
int keygen_prekeys_generate(signal_protocol_store_context *store, signal_context *ctx,
                            uint32_t *next_id, size_t count, struct keygen_prekey_pub **out,
                            struct err *e);

/* Generate a signed prekey, signed with the identity key held by store,
 * created at now_ms (milliseconds since the epoch), store it, and fill
 * *out. *next_id works as for keygen_prekeys_generate(), over the signed
 * prekey ids. */
int keygen_signed_prekey_generate(signal_protocol_store_context *store, signal_context *ctx,
                                  uint32_t *next_id, uint64_t now_ms,
                                  struct keygen_signed_prekey_pub *out, struct err *e);

/* Rotation policy, a pure function. keys are the stored signed prekeys (any
 * order); the newest is the active one. Returns 1 if a new signed prekey
 * should be generated (none exists, or the active one is rotate_after_ms
 * old), else 0. Writes to delete_ids (room for n entries) the ids of old
 * keys to remove: those at least grace_ms old, except that the newest old
 * key is always kept. Use KEYGEN_ROTATE_AFTER_MS and KEYGEN_GRACE_MS for
 * the defaults. Run it again after storing a new key: the previous active
 * key only becomes "old" then. Timestamps in the future count as new. */
int keygen_signed_prekey_plan(const struct keygen_spk_info *keys, size_t n, uint64_t now_ms,
                              uint64_t rotate_after_ms, uint64_t grace_ms, uint32_t *delete_ids,
                              size_t *n_delete);

/* Delete an old signed prekey the plan named; one already gone is fine. */
int keygen_signed_prekey_remove(signal_protocol_store_context *store, uint32_t id, struct err *e);

/* Fill *out with our own bundle for upload or tests: identity and
 * registration id from store, signed prekey signed_prekey_id from store,
 * and the one-time prekey prekey_id if has_prekey. */
int keygen_bundle_from_store(signal_protocol_store_context *store, int32_t device_id,
                             int has_prekey, uint32_t prekey_id, uint32_t signed_prekey_id,
                             struct keygen_bundle *out, struct err *e);

#endif

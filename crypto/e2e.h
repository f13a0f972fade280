/* Pairwise sessions: build one from a peer's prekey bundle, encrypt to it,
 * decrypt from it. Decryption hands the plaintext to the caller before the
 * ratchet state is stored, so history and state commit together. */
#ifndef SOTTO_CRYPTO_E2E_H
#define SOTTO_CRYPTO_E2E_H

#include <stddef.h>
#include <stdint.h>

#include <signal/signal_protocol.h>

#include "crypto/keygen.h"
#include "crypto/pad.h"
#include "util/err.h"

/* The Signal message type, carried in the envelope because the bytes alone
 * do not tell. Values match libsignal's CIPHERTEXT_*_TYPE; 4 and 5 are
 * reserved for E2E_SENDERKEY and E2E_DISTRIBUTION. */
enum e2e_type {
	E2E_NORMAL = 2,
	E2E_PREKEY = 3,
};

/* Bounds on what crosses this API: a padded plaintext, its ciphertext
 * (plus headers, keys and MAC), and a remote account name. */
#define E2E_MAX_PLAINTEXT PAD_MAX_PADDED
#define E2E_MAX_CIPHERTEXT (PAD_MAX_PADDED + 1024)
#define E2E_NAME_MAX 255
/* libsignal keeps at most this many skipped message keys per chain. */
#define E2E_MAX_SKIP 2000

/* Build a session with (name, device_id) from its bundle (whose device_id
 * must match). The remote identity is checked against the store's trust
 * policy first: a changed identity gives ERR_UNTRUSTED, a bad signed-prekey
 * signature ERR_CRYPTO, malformed keys ERR_INVALID. */
int e2e_session_build(signal_protocol_store_context *store, signal_context *ctx, const char *name,
                      int32_t device_id, const struct keygen_bundle *bundle, struct err *e);

/* 1 if a session with (name, device_id) exists, 0 if not, -1 on error. */
int e2e_has_session(signal_protocol_store_context *store, const char *name, int32_t device_id,
                    struct err *e);

/* The device ids of name we hold sessions with, ascending. *out (*n
 * entries, NULL when none) is the caller's to free(). */
int e2e_session_devices(signal_protocol_store_context *store, const char *name, int32_t **out,
                        size_t *n, struct err *e);
/* Forget the session with (name, device_id), if any (the device is gone,
 * or will be rebuilt from a fresh bundle). */
int e2e_session_delete(signal_protocol_store_context *store, const char *name, int32_t device_id,
                       struct err *e);

/* Encrypt len bytes of (already padded) plaintext for (name, device_id).
 * The advanced session is stored before this returns. On success *ct_out
 * (*ct_len bytes) is owned by the caller, free() it; *type_out says how the
 * peer must decode it. No session gives ERR_NOSESSION. */
int e2e_encrypt(signal_protocol_store_context *store, signal_context *ctx, const char *name,
                int32_t device_id, const uint8_t *pt, size_t len, enum e2e_type *type_out,
                uint8_t **ct_out, size_t *ct_len, struct err *e);

/* Called with the decrypted (still padded) plaintext, which it must not
 * keep: the buffer is wiped afterwards. Return 0 to let the session be
 * stored; non-zero fails the decrypt and stores nothing. A positive return
 * is taken as the enum err_code to report; other values report
 * ERR_INTERNAL. */
typedef int (*e2e_plaintext_fn)(void *arg, const uint8_t *pt, size_t len);

/* Decrypt a message of the given type from (name, device_id). on_plaintext
 * runs after decryption and before the session (and, for a prekey message,
 * the removal of our one-time prekey) is stored. Errors:
 *   ERR_DUPLICATE  already decrypted (ack and drop)
 *   ERR_CRYPTO     bad MAC or no session state that can decrypt it
 *   ERR_LIMIT      more than E2E_MAX_SKIP messages ahead of the chain
 *   ERR_NOSESSION  normal message without a session
 *   ERR_UNTRUSTED  prekey message from a changed identity
 *   ERR_NOTFOUND   prekey message for a one-time prekey we no longer have
 *   ERR_INVALID    garbage, truncated, legacy or unknown-version input
 *   ERR_TOOLARGE   longer than E2E_MAX_CIPHERTEXT
 * On any error no session state was stored by this call. */
int e2e_decrypt(signal_protocol_store_context *store, signal_context *ctx, const char *name,
                int32_t device_id, enum e2e_type type, const uint8_t *ct, size_t len,
                e2e_plaintext_fn on_plaintext, void *arg, struct err *e);

/* The registration id the peer announced in the session, to spot a
 * reinstalled device. ERR_NOSESSION if there is none. */
int e2e_remote_registration_id(signal_protocol_store_context *store, signal_context *ctx,
                               const char *name, int32_t device_id, uint32_t *out, struct err *e);

#endif

/* The five libsignal stores (session, pre key, signed pre key, identity,
 * sender key) on a profile database, with the exact return codes the
 * library expects (see LIBSIGNAL.md). Callbacks never print; a database
 * failure becomes one of the SIGSTORE_ERR_* codes below SG_ERR_MINIMUM,
 * which the caller maps back with sigstore_err_code().
 *
 * Callbacks write through the caller's connection: run a decrypt inside
 * db_begin()/db_commit() and a failed decrypt's db_rollback() undoes every
 * store write it made. */
#ifndef SOTTO_STORE_SIGSTORE_H
#define SOTTO_STORE_SIGSTORE_H

#include <signal/signal_protocol.h>
#include <stddef.h>
#include <stdint.h>

#include "store/db.h"
#include "util/err.h"

/* Our callback failures. Below SG_ERR_MINIMUM and clear of crypto/'s
 * CPROV_ERR_* codes. */
#define SIGSTORE_ERR_DB (SG_ERR_MINIMUM - 100) /* any other SQL failure */
#define SIGSTORE_ERR_NOSPACE (SG_ERR_MINIMUM - 101)
#define SIGSTORE_ERR_BUSY (SG_ERR_MINIMUM - 102)
#define SIGSTORE_ERR_CORRUPT (SG_ERR_MINIMUM - 103)
#define SIGSTORE_ERR_NO_IDENTITY (SG_ERR_MINIMUM - 104) /* no local identity yet */
/* A decryption callback found the message already stored (ERR_DUPLICATE):
 * ack and drop, like SG_ERR_DUPLICATE_MESSAGE. */
#define SIGSTORE_ERR_DUPLICATE (SG_ERR_MINIMUM - 105)

/* A SIGSTORE_ERR_* code for a failure described by e. */
int sigstore_sg_code(const struct err *e);
/* The err_code behind a SIGSTORE_ERR_* code (SG_ERR_DUPLICATE_MESSAGE too:
 * ERR_DUPLICATE); ERR_INTERNAL for anything else. */
enum err_code sigstore_err_code(int sg_code);

struct sigstore_callbacks {
	signal_protocol_session_store session;
	signal_protocol_pre_key_store pre_key;
	signal_protocol_signed_pre_key_store signed_pre_key;
	signal_protocol_identity_key_store identity;
	signal_protocol_sender_key_store sender_key;
};

/* Fill all five stores with user_data = db and no destroy functions. Tests
 * call the callbacks through this directly. */
void sigstore_callbacks_init(struct sigstore_callbacks *cb, struct db *db);

/* A store context over db for gctx. *out is the caller's
 * (signal_protocol_store_context_destroy); db must outlive it. */
int sigstore_create(struct db *db, signal_context *gctx, signal_protocol_store_context **out,
                    struct err *e);

struct sigstore_signed_prekey {
	uint32_t id;
	int64_t created_at; /* ms since the epoch, set when first stored */
};

/* Every signed prekey we hold, oldest first, for rotation. *out is the
 * caller's to free(). */
int sigstore_signed_prekeys_list(struct db *db, struct sigstore_signed_prekey **out, size_t *n,
                                 struct err *e);

/* Forget the sender key of (group, sender, device): libsignal's store
 * interface has no delete, but leaving a group needs one. Deleting an
 * absent record is not an error. */
int sigstore_sender_key_delete(struct db *db, const char *group_id, const char *sender_name,
                               int32_t device_id, struct err *e);

/* Number of one-time prekeys held (for refill decisions). */
int sigstore_prekey_count(struct db *db, int64_t *out, struct err *e);

#endif

/* One benchmark party on a real SQLCipher profile: a key-file profile (no
 * Argon2 cost) in a temporary directory, with store/'s settings untouched,
 * so the figures are what the client pays per message. */
#ifndef SOTTO_BENCH_STORE_PARTY_H
#define SOTTO_BENCH_STORE_PARTY_H

#include <signal/signal_protocol.h>

#include "crypto/keygen.h"
#include "util/err.h"

struct bench_store_party;

/* Create the profile and store identity id in it. *out is the caller's:
 * bench_store_party_destroy(). ctx must outlive it. */
int bench_store_party_create(signal_context *ctx, const struct keygen_identity *id,
                             struct bench_store_party **out, struct err *e);

/* The libsignal store context over the profile (owned by p). */
signal_protocol_store_context *bench_store_party_context(struct bench_store_party *p);

/* db_begin / db_commit on the profile: they nest, so a batch can wrap
 * calls that open their own transaction. */
int bench_store_party_begin(struct bench_store_party *p, struct err *e);
int bench_store_party_commit(struct bench_store_party *p, struct err *e);

/* Close and delete the profile directory. NULL is fine. */
void bench_store_party_destroy(struct bench_store_party *p);

#endif

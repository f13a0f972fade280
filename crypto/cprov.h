/* The libsignal-protocol-c global context, backed by OpenSSL libcrypto: the
 * crypto provider (CSPRNG, HMAC-SHA256, SHA-512, AES-CBC/CTR) and the
 * recursive lock libsignal requires. Every other crypto/ and store/ file gets
 * its signal_context from here. */
#ifndef SOTTO_CRYPTO_CPROV_H
#define SOTTO_CRYPTO_CPROV_H

#include <signal/signal_protocol.h>

#include "util/err.h"

/* Our own callback failures, below libsignal's range so they cannot be
 * mistaken for its codes. */
#define CPROV_ERR_LIBCRYPTO (SG_ERR_MINIMUM - 1)      /* OpenSSL call failed */
#define CPROV_ERR_BAD_CIPHERTEXT (SG_ERR_MINIMUM - 2) /* bad length or padding */

/* Create a libsignal context with our provider and lock installed.
 * On success *out is owned by the caller; release it with
 * cprov_context_destroy(), after every store context, cipher and builder
 * made from it is gone. Returns 0, or -1 with e filled. */
int cprov_context_create(signal_context **out, struct err *e);

/* Destroy a context made by cprov_context_create(). NULL is fine. */
void cprov_context_destroy(signal_context *ctx);

/* Copy the provider installed in ctx (callbacks and their user_data) into
 * *out, so known-answer tests can drive the callbacks directly. The copy is
 * valid while ctx lives. Returns 0, or -1 if ctx is not ours. */
int cprov_get_provider(signal_context *ctx, signal_crypto_provider *out);

#endif

/* An in-memory implementation of libsignal's five stores, for crypto/ tests
 * and the benchmark baseline. Return codes follow LIBSIGNAL.md exactly, so a
 * test passing here pins down what the SQLCipher store must also do. */
#ifndef SOTTO_TESTS_MEMSTORE_H
#define SOTTO_TESTS_MEMSTORE_H

#include <stddef.h>
#include <stdint.h>

#include <signal/signal_protocol.h>

struct memstore;

/* A store for one party whose identity is id_pub (serialized, 33 bytes) and
 * id_priv (serialized, 32 bytes) with the given registration id. The keys
 * are copied. Returns NULL if libsignal refuses the store context. The
 * caller owns the result: memstore_destroy(). ctx must outlive it. */
struct memstore *memstore_create(signal_context *ctx, const uint8_t *id_pub, size_t pub_len,
                                 const uint8_t *id_priv, size_t priv_len, uint32_t registration_id);

/* Frees everything, including the store context. NULL is fine. */
void memstore_destroy(struct memstore *ms);

/* The store context to hand to crypto/ (owned by ms). */
signal_protocol_store_context *memstore_context(struct memstore *ms);

/* Copy out the serialized session record for (name, device). Returns 1 and
 * a malloc'ed copy in *out (caller frees), or 0 if there is none. */
int memstore_session_snapshot(struct memstore *ms, const char *name, int32_t device_id,
                              uint8_t **out, size_t *len);

/* Put a snapshot back (or, with rec == NULL, delete the session). */
void memstore_session_restore(struct memstore *ms, const char *name, int32_t device_id,
                              const uint8_t *rec, size_t len);

/* Number of one-time prekeys held. */
size_t memstore_pre_key_count(const struct memstore *ms);

/* Number of stores of a session record since creation (to see that a
 * failed decrypt wrote nothing). */
unsigned long memstore_session_writes(const struct memstore *ms);

#endif

/* A small key-value table for counters and markers the other layers
 * persist (next prekey id, last signed prekey rotation, ...). Values are
 * 64-bit integers or blobs; keys are constant strings chosen in code. */
#ifndef SOTTO_STORE_KV_H
#define SOTTO_STORE_KV_H

#include <stddef.h>
#include <stdint.h>

#include "store/db.h"
#include "util/err.h"

/* *out = the stored integer, or def when the key is absent. A blob stored
 * under key is ERR_INVALID. */
int kv_get_int(struct db *db, const char *key, int64_t def, int64_t *out, struct err *e);
int kv_set_int(struct db *db, const char *key, int64_t value, struct err *e);

/* *out (caller frees; wipe_free it if it held a secret) and *len, or
 * ERR_NOTFOUND when absent. A zero-length blob is found with *len 0. */
int kv_get_blob(struct db *db, const char *key, unsigned char **out, size_t *len, struct err *e);
int kv_set_blob(struct db *db, const char *key, const void *value, size_t len, struct err *e);

/* Deleting an absent key is not an error. */
int kv_delete(struct db *db, const char *key, struct err *e);

#endif

/* Shared helpers for the relay store tests (test_rstore, test_rstore_blob):
 * each test gets a fresh data directory, a store opened on it with a fake
 * clock, and short ways to create accounts, sends and blobs. */
#ifndef SOTTO_TESTS_RSTORE_FIXTURE_H
#define SOTTO_TESTS_RSTORE_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "relay/rstore.h"

struct rstore_fixture {
	char dir[256];             /* TMP/rstore-XXXXXX/data: the data directory */
	struct rstore_options opt; /* used by every (re)open; tests may change it */
	struct rstore *s;
	int64_t now; /* the fake clock, ms */
};

/* cmocka setup/teardown: *state becomes an open fixture; teardown closes it
 * and removes the directory. */
int rstore_fixture_setup(void **state);
int rstore_fixture_teardown(void **state);
/* Close and reopen f->s with f->opt; fails the test on error. */
void rstore_fixture_reopen(struct rstore_fixture *f);

/* A valid-looking public key (0x05 then `seed` bytes) and a secret. */
void rstore_fixture_key(uint8_t key[RSTORE_KEY_LEN], int seed);
void rstore_fixture_secret(uint8_t secret[RSTORE_SECRET_LEN], int seed);
/* Register name: key and secret from seed, registration id 100 + seed. */
void rstore_fixture_account(struct rstore_fixture *f, const char *name, int seed);
/* Add a device with secret seed; returns its id. */
uint32_t rstore_fixture_device(struct rstore_fixture *f, const char *name, uint32_t reg, int seed);
/* Queue text (type 1) from (from, device 1) to (to, dev). */
int rstore_fixture_send(struct rstore_fixture *f, const char *from, const char *to, uint32_t dev,
                        const char *text, int64_t *id, struct err *e);
size_t rstore_fixture_queue_count(struct rstore_fixture *f, const char *name, uint32_t dev);

/* Upload len bytes in 1000-byte writes announcing `declared`. */
int rstore_fixture_put_blob(struct rstore_fixture *f, const char *owner, const uint8_t *data,
                            size_t len, uint64_t declared, uint8_t id[RSTORE_BLOB_ID_LEN],
                            struct err *e);
/* Files in DATA/blobs, temporary ones included. */
size_t rstore_fixture_blob_files(struct rstore_fixture *f);

#endif

/* sotto-relay's storage: accounts, devices, prekeys, per-device queues,
 * idempotent sends and attachment blobs in one SQLite database (plus blob
 * files) under the data directory. Synchronous, single-threaded, ciphertext only. */
#ifndef SOTTO_RSTORE_H
#define SOTTO_RSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/*
 * Conventions for every function below:
 * - Returns 0 on success, -1 with e filled (e may be NULL). Codes used:
 *   ERR_INVALID (bad argument), ERR_NOTFOUND, ERR_EXISTS, ERR_AUTH,
 *   ERR_LIMIT, ERR_TOOLARGE, ERR_NOSPACE (disk full), ERR_IO, ERR_CORRUPT,
 *   ERR_BUSY (database locked), ERR_INTERNAL.
 * - Accounts are named by string (1..RSTORE_NAME_MAX bytes; the protocol
 *   decides the character set, the store only bounds the length). Devices
 *   are numbered from 1 per account; device 1 is the one created by
 *   registration.
 * - A call that fails changes nothing (each call is all-or-nothing, also
 *   inside a batch).
 * - Time comes from the clock in struct rstore_options (milliseconds since
 *   the epoch), so tests can move it.
 *
 * Group commit: outside a batch every mutating call is its own durable
 * transaction (one fsync). Between rstore_batch_begin() and
 * rstore_batch_commit() all calls join one transaction; nothing in it is
 * durable until rstore_batch_commit() returns 0, so the server must hold
 * back every answer or ack that depends on the batch until then. If the
 * commit fails, the whole batch is gone: answer every request in it with an
 * error. With sync_later, "durable" moves from the commit to the next
 * fsync of rstore_sync_fd() that starts after it.
 */

#define RSTORE_NAME_MAX 64         /* account name, bytes */
#define RSTORE_KEY_LEN 33          /* Curve25519 public key with 0x05 type byte */
#define RSTORE_SIG_LEN 64          /* XEdDSA signature of the signed prekey */
#define RSTORE_SECRET_LEN 32       /* device secret (the relay stores SHA-256 of it) */
#define RSTORE_CLIENT_ID_MAX 128   /* client-chosen message id, bytes */
#define RSTORE_RESULT_MAX 65536    /* recorded send result, bytes */
#define RSTORE_BLOB_ID_LEN 16      /* random blob id, bytes */
#define RSTORE_BLOB_HEX_LEN 32     /* the same as lower-case hex, without NUL */
#define RSTORE_REG_ID_MAX 16380    /* registration ids are 1..16380 */
#define RSTORE_KEY_ID_MAX 0xFFFFFF /* prekey ids are 0..2^24-1 */

/* Defaults for struct rstore_options (also documented in sotto-relay(8)). */
#define RSTORE_DEFAULT_MAX_QUEUE 10000                        /* envelopes per device */
#define RSTORE_DEFAULT_QUEUE_TTL_MS (30LL * 24 * 3600 * 1000) /* 30 days */
#define RSTORE_DEFAULT_SEND_TTL_MS (7LL * 24 * 3600 * 1000)   /* idempotency rows: 7 days */
#define RSTORE_DEFAULT_MAX_BLOB (100LL * 1024 * 1024)         /* 100 MiB */
#define RSTORE_DEFAULT_BLOB_TTL_MS (30LL * 24 * 3600 * 1000)  /* 30 days */
#define RSTORE_DEFAULT_MAX_CONTENT (160 * 1024)               /* one envelope's content */
#define RSTORE_DEFAULT_MAX_DEVICES 16                         /* per account */
#define RSTORE_DEFAULT_MAX_PREKEYS 1000                       /* one-time prekeys per device */

struct rstore;

struct rstore_options {
	int64_t max_queue;    /* queued envelopes per device; more -> ERR_LIMIT */
	int64_t queue_ttl_ms; /* an envelope older than this is expired */
	int64_t send_ttl_ms;  /* idempotency records older than this are expired */
	int64_t max_blob;     /* bytes per blob; more -> ERR_TOOLARGE */
	int64_t blob_ttl_ms;  /* a blob older than this is expired */
	int64_t max_content;  /* bytes per envelope content; more -> ERR_TOOLARGE */
	int64_t max_devices;  /* devices per account; more -> ERR_LIMIT */
	int64_t max_prekeys;  /* stored one-time prekeys per device; more -> ERR_LIMIT */
	/* Database in memory instead of DATA/relay.db: nothing is durable. For
	 * the benchmark baseline and quick tests. Blobs still need a data
	 * directory; with data_dir NULL every blob call fails with ERR_INVALID. */
	int in_memory;
	/* Commits leave without waiting for the disk (WAL, synchronous=NORMAL)
	 * and the caller makes them durable with an fsync of the log (see
	 * rstore_sync_fd) before it tells anyone about them, so the fsync can
	 * overlap the next batch's work. The store's own durable steps (a
	 * blob stored, files unlinked after a commit) still sync first. */
	int sync_later;
	/* Clock in ms since the epoch; NULL means CLOCK_REALTIME. */
	int64_t (*clock_ms)(void *arg);
	void *clock_arg;
};

/* Fill o with the defaults above (on disk, real clock). */
void rstore_options_default(struct rstore_options *o);

/* Open (creating if needed) the store in data_dir: the directory is created
 * mode 0700, DATA/relay.db mode 0600 (WAL, synchronous=FULL or, with
 * sync_later, NORMAL; foreign keys), DATA/blobs/ for blob files; the
 * schema is created or migrated. Leftover temporary or orphaned blob
 * files from a crash are removed. opt NULL means defaults. On success *out
 * owns the store: close it with rstore_close(). */
int rstore_open(struct rstore **out, const char *data_dir, const struct rstore_options *opt,
                struct err *e);
/* Roll back an open batch, finalize everything, close. s may be NULL. */
void rstore_close(struct rstore *s);

/* Open a batch (BEGIN IMMEDIATE) unless one is already open. */
int rstore_batch_begin(struct rstore *s, struct err *e);
/* Commit the open batch durably; 0 with nothing to do if none is open. On
 * failure the batch is rolled back and nothing of it is stored. */
int rstore_batch_commit(struct rstore *s, struct err *e);
/* Throw the open batch away (nothing to do if none is open). */
void rstore_batch_rollback(struct rstore *s);
/* 1 if a batch is open. */
int rstore_batch_is_open(const struct rstore *s);
/* With sync_later: the log's descriptor, for an fsync in another thread
 * (the store touches it only in rstore_close); -1 when every commit is
 * durable by itself (no sync_later, or in memory). */
int rstore_sync_fd(const struct rstore *s);
/* fsync the log now (nothing to do without a descriptor above). */
int rstore_sync(struct rstore *s, struct err *e);

/* A device's signed prekey; the server verifies sig with the account's
 * identity key before handing it to the store. */
struct rstore_signed_prekey {
	uint32_t key_id; /* 0..RSTORE_KEY_ID_MAX */
	uint8_t pub[RSTORE_KEY_LEN];
	uint8_t sig[RSTORE_SIG_LEN];
};

/* --- accounts and devices (rstore_account.c, rstore_device.c) --- */

/* Create account `name` with its identity key and device 1 (with its
 * signed prekey if spk is not NULL), atomically. A taken name ->
 * ERR_EXISTS (an existing account is never taken over); a bad spk ->
 * ERR_INVALID and nothing is created. */
int rstore_account_register(struct rstore *s, const char *name,
                            const uint8_t identity_key[RSTORE_KEY_LEN], uint32_t registration_id,
                            const uint8_t secret[RSTORE_SECRET_LEN],
                            const struct rstore_signed_prekey *spk, struct err *e);
/* The account's identity key; ERR_NOTFOUND if there is no such account. */
int rstore_account_identity(struct rstore *s, const char *name,
                            uint8_t identity_key[RSTORE_KEY_LEN], struct err *e);

/* Check a device's secret (constant-time on the hash). Unknown account,
 * unknown device and wrong secret all give ERR_AUTH with the same message.
 * On success last_seen is refreshed (at most once an hour, so a reconnect
 * storm does not cost one write each). */
int rstore_device_auth(struct rstore *s, const char *account, uint32_t device_id,
                       const uint8_t secret[RSTORE_SECRET_LEN], struct err *e);

/* Add a device (with its signed prekey if spk is not NULL) to an existing
 * account, atomically; the relay picks its id (one more than the highest
 * ever used: never reused within the account) and stores it in
 * *device_id. ERR_NOTFOUND if no such account, ERR_LIMIT past max_devices. */
int rstore_device_add(struct rstore *s, const char *account, uint32_t registration_id,
                      const uint8_t secret[RSTORE_SECRET_LEN],
                      const struct rstore_signed_prekey *spk, uint32_t *device_id, struct err *e);

/* Remove a device with its prekeys and its queue. Device 1 cannot be
 * removed (ERR_INVALID); ERR_NOTFOUND if no such device. */
int rstore_device_remove(struct rstore *s, const char *account, uint32_t device_id, struct err *e);

struct rstore_device {
	uint32_t device_id;
	uint32_t registration_id;
	int64_t created_ms;
	int64_t last_seen_ms;
};

/* The account's devices ordered by id. *out is malloc'ed (free() it; NULL
 * when *n is 0). ERR_NOTFOUND if no such account. */
int rstore_device_list(struct rstore *s, const char *account, struct rstore_device **out, size_t *n,
                       struct err *e);

/* What the client targeted for an all-or-nothing send. */
struct rstore_target {
	uint32_t device_id;
	uint32_t registration_id;
};

/* Device ids, each list sorted ascending; arrays are malloc'ed. */
struct rstore_mismatch {
	uint32_t *missing; /* the account has them, the client did not target them */
	size_t n_missing;
	uint32_t *extra; /* targeted, but the account has no such device */
	size_t n_extra;
	uint32_t *stale; /* exists, but its registration id differs (reinstalled) */
	size_t n_stale;
};

/* Compare targets against the account's devices. skip_device is left out
 * of the account's side (the sender's own device when it syncs to its own
 * account; 0 for none): targeting it counts as extra. Returns 0 and fills
 * m (all counts 0 means the list matches); ERR_NOTFOUND if no such
 * account; ERR_INVALID if a device id is targeted twice. Free m with
 * rstore_device_mismatch_free() after success. */
int rstore_device_check(struct rstore *s, const char *account, uint32_t skip_device,
                        const struct rstore_target *targets, size_t n, struct rstore_mismatch *m,
                        struct err *e);
/* 1 if m reports no difference. */
int rstore_device_mismatch_empty(const struct rstore_mismatch *m);
void rstore_device_mismatch_free(struct rstore_mismatch *m);

/* --- prekeys (rstore_prekey.c) --- */

/* Set (replace) a device's signed prekey. ERR_NOTFOUND if no such device,
 * ERR_INVALID for a bad key or id. */
int rstore_prekey_set_signed(struct rstore *s, const char *account, uint32_t device_id,
                             const struct rstore_signed_prekey *spk, struct err *e);

struct rstore_prekey {
	uint32_t key_id;
	uint8_t pub[RSTORE_KEY_LEN];
};

/* Store one-time prekeys, all or nothing: an id already stored for this
 * device or repeated within keys -> ERR_EXISTS; past max_prekeys ->
 * ERR_LIMIT; a bad key or id -> ERR_INVALID. */
int rstore_prekey_add(struct rstore *s, const char *account, uint32_t device_id,
                      const struct rstore_prekey *keys, size_t n, struct err *e);
/* Number of one-time prekeys left for the device. */
int rstore_prekey_count(struct rstore *s, const char *account, uint32_t device_id, size_t *count,
                        struct err *e);

struct rstore_bundle {
	uint32_t device_id;
	uint32_t registration_id;
	uint8_t identity_key[RSTORE_KEY_LEN];
	uint32_t signed_prekey_id;
	uint8_t signed_prekey[RSTORE_KEY_LEN];
	uint8_t signed_prekey_sig[RSTORE_SIG_LEN];
	int has_prekey; /* 0 when the device ran out of one-time prekeys */
	uint32_t prekey_id;
	uint8_t prekey[RSTORE_KEY_LEN];
};

/* Build a device's bundle and take (delete) one one-time prekey in a single
 * statement, so two fetchers never get the same key. ERR_NOTFOUND if the
 * device does not exist or has no signed prekey yet. Inside a batch the
 * deletion becomes durable only at commit: do not answer before it. */
int rstore_prekey_take(struct rstore *s, const char *account, uint32_t device_id,
                       struct rstore_bundle *out, struct err *e);
/* The same for every device of the account that has a signed prekey,
 * except skip_device (the fetching device when it fetches its own account;
 * 0 for none), in device order. *out is malloc'ed (free() it; NULL when *n
 * is 0, which is not an error). ERR_NOTFOUND if no such account. */
int rstore_prekey_take_all(struct rstore *s, const char *account, uint32_t skip_device,
                           struct rstore_bundle **out, size_t *n, struct err *e);

/* --- queues (rstore_queue.c) and idempotent sends (rstore_send.c) --- */

/* One per-device ciphertext of a send request. */
struct rstore_outgoing {
	uint32_t device_id; /* recipient device */
	int type;           /* Signal message type, as the wire protocol numbers it */
	const uint8_t *content;
	size_t content_len; /* 1..max_content */
};

/* Queue one envelope per element of msgs for recipient's devices, from
 * (sender, sender_device) whose registration id is copied into each
 * envelope. All or nothing: a device missing -> ERR_NOTFOUND; a queue at
 * max_queue -> ERR_LIMIT; content too big -> ERR_TOOLARGE; the same device
 * twice -> ERR_INVALID. Every envelope gets the same server timestamp
 * (*server_ts_ms, may be NULL) and its own id, strictly increasing and
 * never reused (ids[i] for msgs[i]; ids may be NULL). Check the device
 * list with rstore_device_check() first. */
int rstore_queue_send(struct rstore *s, const char *sender, uint32_t sender_device,
                      const char *recipient, const struct rstore_outgoing *msgs, size_t n,
                      int64_t *ids, int64_t *server_ts_ms, struct err *e);

/* One recipient account of a multi-recipient send (send.multi). */
struct rstore_recipient {
	const char *account;
	const struct rstore_outgoing *msgs;
	size_t n;
	int64_t *ids; /* out, n entries; may be NULL */
};

/* rstore_queue_send() for several accounts at once, all or nothing across
 * all of them; an account named twice -> ERR_INVALID, an unknown one ->
 * ERR_NOTFOUND (the message names it). One server timestamp for all. */
int rstore_queue_send_multi(struct rstore *s, const char *sender, uint32_t sender_device,
                            const struct rstore_recipient *to, size_t n_to, int64_t *server_ts_ms,
                            struct err *e);

struct rstore_envelope {
	int64_t id;   /* relay envelope id: ack with it */
	char *sender; /* account name */
	uint32_t sender_device;
	uint32_t sender_registration_id;
	int type;
	int64_t server_ts_ms;
	uint8_t *content;
	size_t content_len;
};

/* Up to max unexpired envelopes of the device with id > after_id, in id
 * order. *out is owned by the caller: rstore_queue_free(*out, *n). */
int rstore_queue_fetch(struct rstore *s, const char *account, uint32_t device_id, int64_t after_id,
                       size_t max, struct rstore_envelope **out, size_t *n, struct err *e);
/* The same, only envelopes with id <= upto_id (those known durable). */
int rstore_queue_fetch_upto(struct rstore *s, const char *account, uint32_t device_id,
                            int64_t after_id, int64_t upto_id, size_t max,
                            struct rstore_envelope **out, size_t *n, struct err *e);
/* The highest envelope id committed so far (0 if none); call it outside
 * a batch. Envelopes queued later get higher ids. */
int rstore_queue_last_id(struct rstore *s, int64_t *id, struct err *e);
void rstore_queue_free(struct rstore_envelope *env, size_t n);

/* Delete (ack) envelopes by id, only among this device's own: ids of other
 * devices or unknown ids are ignored. *deleted (may be NULL) says how many
 * went. */
int rstore_queue_delete(struct rstore *s, const char *account, uint32_t device_id,
                        const int64_t *ids, size_t n, size_t *deleted, struct err *e);
/* Number of envelopes queued for the device (expired but not yet swept
 * ones included). */
int rstore_queue_count(struct rstore *s, const char *account, uint32_t device_id, size_t *count,
                       struct err *e);

/* The result recorded for (sender, sender_device, client_id): 0 and a
 * malloc'ed copy in *result / *len (free() it), or ERR_NOTFOUND. A retried
 * send request answers with it instead of queueing again. */
int rstore_send_lookup(struct rstore *s, const char *sender, uint32_t sender_device,
                       const char *client_id, uint8_t **result, size_t *len, struct err *e);
/* Record the result of a send (opaque to the store, e.g. the answer frame's
 * fields). Records are found through an index in memory: 32..48 bytes each
 * until they expire (send_ttl_ms). Call it in the same batch as its rstore_queue_send() so both
 * commit together, and only for successful sends. ERR_EXISTS if one
 * is already recorded; client_id is 1..RSTORE_CLIENT_ID_MAX bytes, result
 * at most RSTORE_RESULT_MAX. */
int rstore_send_record(struct rstore *s, const char *sender, uint32_t sender_device,
                       const char *client_id, const void *result, size_t len, struct err *e);

/* --- blobs (rstore_blob.c) --- */

/* An upload in progress: bytes go to a temporary file under DATA/blobs/.
 * rstore_close() aborts any still unfinished (their pointers die with it). */
struct rstore_blob_writer;

#define RSTORE_BLOB_SIZE_UNKNOWN UINT64_MAX

/* Start an upload by owner (an existing account) of `size` bytes
 * (RSTORE_BLOB_SIZE_UNKNOWN if not announced). size > max_blob ->
 * ERR_TOOLARGE before anything is written. */
int rstore_blob_begin(struct rstore *s, const char *owner, uint64_t size,
                      struct rstore_blob_writer **out, struct err *e);
/* Append bytes. Past the announced size or max_blob -> ERR_TOOLARGE (the
 * writer stays valid only for rstore_blob_abort). Disk full -> ERR_NOSPACE. */
int rstore_blob_write(struct rstore_blob_writer *w, const void *data, size_t len, struct err *e);
/* Make the blob durable (fsync, rename, metadata row) and free w, even on
 * failure. A size different from the announced one -> ERR_INVALID. The new
 * id is stored in id. Inside a batch the blob exists only after commit. */
int rstore_blob_finish(struct rstore_blob_writer *w, uint8_t id[RSTORE_BLOB_ID_LEN], struct err *e);
/* Drop an unfinished upload and free w. w may be NULL. */
void rstore_blob_abort(struct rstore_blob_writer *w);

/* Open a stored, unexpired blob for reading: *fd (O_RDONLY|O_CLOEXEC, the
 * caller closes it) and its *size. Anyone holding the id may read it (the
 * id is 128 random bits; the content is encrypted). ERR_NOTFOUND if
 * absent or expired (an expired blob counts as purged). */
int rstore_blob_open(struct rstore *s, const uint8_t id[RSTORE_BLOB_ID_LEN], int *fd,
                     uint64_t *size, struct err *e);
/* Delete a blob; only its owner may (anyone else gets ERR_NOTFOUND). The
 * file goes once the deletion is committed. */
int rstore_blob_delete(struct rstore *s, const uint8_t id[RSTORE_BLOB_ID_LEN], const char *owner,
                       struct err *e);

/* Blob ids as 32 lower-case hex digits (URLs, file names). to_hex writes
 * RSTORE_BLOB_HEX_LEN + 1 bytes; from_hex accepts exactly 32 hex digits
 * of either case (ERR_INVALID otherwise). */
void rstore_blob_id_to_hex(const uint8_t id[RSTORE_BLOB_ID_LEN], char hex[RSTORE_BLOB_HEX_LEN + 1]);
int rstore_blob_id_from_hex(const char *hex, uint8_t id[RSTORE_BLOB_ID_LEN], struct err *e);

/* --- expiry (rstore.c) --- */

struct rstore_expired {
	size_t envelopes; /* queue rows past queue_ttl */
	size_t sends;     /* idempotency records past send_ttl */
	size_t blobs;     /* blobs past blob_ttl (rows and files) */
	int more;         /* 1 if a limit was reached: call again soon */
};

/* Delete what is past its time, at most a few thousand rows of each kind
 * per call so the event loop never stalls; run it from a timer (e.g. every
 * minute, and again at once while out->more). out may be NULL. */
int rstore_expire(struct rstore *s, struct rstore_expired *out, struct err *e);

#endif

/* Idempotent sends: the result of a send request is recorded under the
 * client-chosen message id, so a retry after a crash or a lost answer gets
 * the original answer instead of queueing the message twice. Records are
 * appended to send_log in arrival order and found through an index in
 * memory, checked against the row on every hit. */
#include "relay/rstore_db.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define RSTORE_SEND_INDEX_MIN 1024 /* slots */

static int
rstore_send_check_id(const char *client_id, struct err *e)
{
	size_t len;

	if (client_id == NULL)
		return err_set(e, ERR_INVALID, "no client message id");
	len = strnlen(client_id, RSTORE_CLIENT_ID_MAX + 1);
	if (len == 0 || len > RSTORE_CLIENT_ID_MAX)
		return err_set(e, ERR_INVALID, "client message id must be 1..%d bytes",
		               RSTORE_CLIENT_ID_MAX);
	return 0;
}

#define ROTL64(x, b) (((x) << (b)) | ((x) >> (64 - (b))))

static void
rstore_send_sipround(uint64_t v[4])
{
	v[0] += v[1];
	v[1] = ROTL64(v[1], 13) ^ v[0];
	v[0] = ROTL64(v[0], 32);
	v[2] += v[3];
	v[3] = ROTL64(v[3], 16) ^ v[2];
	v[0] += v[3];
	v[3] = ROTL64(v[3], 21) ^ v[0];
	v[2] += v[1];
	v[1] = ROTL64(v[1], 17) ^ v[2];
	v[2] = ROTL64(v[2], 32);
}

/* SipHash-2-4 of n bytes under the 128-bit key k. */
static uint64_t
rstore_send_siphash(const uint64_t k[2], const uint8_t *p, size_t n)
{
	uint64_t v[4] = {k[0] ^ 0x736f6d6570736575ull, k[1] ^ 0x646f72616e646f6dull,
	                 k[0] ^ 0x6c7967656e657261ull, k[1] ^ 0x7465646279746573ull};
	uint64_t m;
	size_t i, j;

	for (i = 0; i + 8 <= n; i += 8) {
		for (m = 0, j = 0; j < 8; j++)
			m |= (uint64_t)p[i + j] << (8 * j);
		v[3] ^= m;
		rstore_send_sipround(v);
		rstore_send_sipround(v);
		v[0] ^= m;
	}
	for (m = (uint64_t)n << 56, j = 0; i + j < n; j++)
		m |= (uint64_t)p[i + j] << (8 * j);
	v[3] ^= m;
	rstore_send_sipround(v);
	rstore_send_sipround(v);
	v[0] ^= m;
	v[2] ^= 0xff;
	for (j = 0; j < 4; j++)
		rstore_send_sipround(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

/* The client id is chosen by the client: a hash keyed with a secret seed
 * keeps anyone from piling records onto one slot. Never 0 (empty). */
static uint64_t
rstore_send_key(const struct rstore *s, int64_t acct, uint32_t device, const char *client_id)
{
	uint8_t buf[8 + 4 + RSTORE_CLIENT_ID_MAX];
	size_t len = strlen(client_id), i;
	uint64_t key;

	for (i = 0; i < 8; i++)
		buf[i] = (uint8_t)((uint64_t)acct >> (8 * i));
	for (i = 0; i < 4; i++)
		buf[8 + i] = (uint8_t)(device >> (8 * i));
	memcpy(buf + 12, client_id, len);
	key = rstore_send_siphash(s->sends.seed, buf, 12 + len);
	return key != 0 ? key : 1;
}

static struct rstore_send_slot *
rstore_send_slot(const struct rstore_send_index *x, uint64_t key)
{
	size_t i = (size_t)key & (x->cap - 1);

	while (x->v[i].key != 0 && x->v[i].key != key)
		i = (i + 1) & (x->cap - 1);
	return &x->v[i];
}

/* Rebuild with room for twice the live entries, keeping those after
 * cutoff_ms (INT64_MIN: all). Between rebuilds the table fills up to
 * three quarters: 32..48 bytes per record kept in memory. */
static void
rstore_send_rehash(struct rstore_send_index *x, int64_t cutoff_ms)
{
	struct rstore_send_slot *old = x->v;
	size_t old_cap = x->cap, live = 0, i;

	for (i = 0; i < old_cap; i++)
		if (old[i].key != 0 && old[i].ts > cutoff_ms)
			live++;
	x->cap = RSTORE_SEND_INDEX_MIN;
	while (x->cap < live * 2)
		x->cap *= 2;
	x->v = xcalloc(x->cap, sizeof *x->v);
	x->n = 0;
	for (i = 0; i < old_cap; i++) {
		if (old[i].key != 0 && old[i].ts > cutoff_ms) {
			*rstore_send_slot(x, old[i].key) = old[i];
			x->n++;
		}
	}
	free(old);
}

/* Point key at row; a key already there (a record whose batch was rolled
 * back, or one the lookup found stale) is replaced. */
static void
rstore_send_index_put(struct rstore *s, uint64_t key, int64_t row, int64_t ts)
{
	struct rstore_send_index *x = &s->sends;
	struct rstore_send_slot *slot;

	if ((x->n + 1) * 4 > x->cap * 3)
		rstore_send_rehash(x, INT64_MIN);
	slot = rstore_send_slot(x, key);
	if (slot->key == 0)
		x->n++;
	slot->key = key;
	slot->row = row;
	slot->ts = ts;
}

int
rstore_send_index_load(struct rstore *s, struct err *e)
{
	sqlite3_stmt *st;
	const unsigned char *id;
	int rc;

	if (getrandom(s->sends.seed, sizeof s->sends.seed, 0) != (ssize_t)sizeof s->sends.seed)
		return err_set(e, ERR_INTERNAL, "no random seed for the send index");
	rstore_send_rehash(&s->sends, INT64_MIN);
	st = rstore_db_stmt(s, STMT_SEND_ALL);
	while ((rc = rstore_db_step(s, st, e, "loading send records")) == 1) {
		id = sqlite3_column_text(st, 3);
		if (id == NULL || strlen((const char *)id) > RSTORE_CLIENT_ID_MAX)
			continue; /* never written by us; no lookup can match it */
		rstore_send_index_put(s,
		                      rstore_send_key(s, sqlite3_column_int64(st, 1),
		                                      (uint32_t)sqlite3_column_int64(st, 2),
		                                      (const char *)id),
		                      sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 4));
	}
	return rc;
}

void
rstore_send_index_free(struct rstore *s)
{
	free(s->sends.v);
	memset(&s->sends, 0, sizeof s->sends);
}

void
rstore_send_index_expire(struct rstore *s, int64_t cutoff_ms)
{
	if (s->sends.v != NULL)
		rstore_send_rehash(&s->sends, cutoff_ms);
}

/* The record of (acct, device, client_id): 1 with the statement on its
 * row (result in column 0; reset it after use), 0 if none, -1 on error. */
static int
rstore_send_find(struct rstore *s, int64_t acct, uint32_t device, const char *client_id,
                 uint64_t key, sqlite3_stmt **out, struct err *e)
{
	struct rstore_send_slot *slot = rstore_send_slot(&s->sends, key);
	sqlite3_stmt *st;

	if (slot->key == 0)
		return 0;
	/* The row may be gone (expired, rolled back) or, its id reused,
	 * another record: the statement checks the whole key. */
	st = rstore_db_stmt(s, STMT_SEND_LOOKUP);
	sqlite3_bind_int64(st, 1, slot->row);
	sqlite3_bind_int64(st, 2, acct);
	sqlite3_bind_int64(st, 3, device);
	sqlite3_bind_text(st, 4, client_id, -1, SQLITE_STATIC);
	*out = st;
	return rstore_db_step(s, st, e, "looking up send");
}

int
rstore_send_lookup(struct rstore *s, const char *sender, uint32_t sender_device,
                   const char *client_id, uint8_t **result, size_t *len, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int64_t acct;
	int rc;

	*result = NULL;
	*len = 0;
	if (rstore_send_check_id(client_id, e) < 0 ||
	    rstore_db_check_device_id(sender_device, e) < 0 ||
	    rstore_db_account_id(s, sender, &acct, e) < 0)
		return -1;
	rc = rstore_send_find(s, acct, sender_device, client_id,
	                      rstore_send_key(s, acct, sender_device, client_id), &st, e);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return err_set(e, ERR_NOTFOUND, "no send recorded for '%s'", client_id);
	*len = (size_t)sqlite3_column_bytes(st, 0);
	*result = xmemdup(sqlite3_column_blob(st, 0), *len);
	sqlite3_reset(st);
	return 0;
}

int
rstore_send_record(struct rstore *s, const char *sender, uint32_t sender_device,
                   const char *client_id, const void *result, size_t len, struct err *e)
{
	static const uint8_t empty;
	sqlite3_stmt *st;
	int64_t acct, now = rstore_db_now(s);
	uint64_t key;
	int rc;

	if (rstore_send_check_id(client_id, e) < 0 ||
	    rstore_db_check_device_id(sender_device, e) < 0)
		return -1;
	if (len > RSTORE_RESULT_MAX)
		return err_set(e, ERR_TOOLARGE, "send result is %zu bytes; at most %d", len,
		               RSTORE_RESULT_MAX);
	if (rstore_db_account_id(s, sender, &acct, e) < 0 ||
	    rstore_db_device_get(s, acct, sender_device, NULL, NULL, e) < 0)
		return -1;
	key = rstore_send_key(s, acct, sender_device, client_id);
	rc = rstore_send_find(s, acct, sender_device, client_id, key, &st, e);
	if (rc != 0) {
		if (rc == 1) {
			sqlite3_reset(st);
			err_set(e, ERR_EXISTS, "send '%s' is already recorded", client_id);
		}
		return -1;
	}
	st = rstore_db_stmt(s, STMT_SEND_INSERT);
	sqlite3_bind_int64(st, 1, acct);
	sqlite3_bind_int64(st, 2, sender_device);
	sqlite3_bind_text(st, 3, client_id, -1, SQLITE_STATIC);
	/* A zero-length blob must not be bound as NULL (the column is NOT NULL). */
	sqlite3_bind_blob(st, 4, len ? result : &empty, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, now);
	if (rstore_db_exec_alone(s, st, e, "recording send") < 0)
		return -1;
	/* Indexed before a batch commits: if it rolls back, the lookup's
	 * check of the row finds nothing there. */
	rstore_send_index_put(s, key, sqlite3_last_insert_rowid(s->db), now);
	return 0;
}

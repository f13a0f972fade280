/* Devices of an account: authentication by secret hash, linking and
 * removing devices, listing them, and the device-list check behind
 * all-or-nothing sends (missing / extra / stale). */
#include "relay/rstore_db.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#define RSTORE_TOUCH_MS (3600LL * 1000) /* last_seen resolution */

int
rstore_device_auth(struct rstore *s, const char *account, uint32_t device_id,
                   const uint8_t secret[RSTORE_SECRET_LEN], struct err *e)
{
	/* A fixed stand-in so unknown devices cost the same compare. */
	static const uint8_t nobody[32] = {0};
	uint8_t want[32], got[32];
	sqlite3_stmt *st;
	int64_t acct = 0, last_seen = 0, now;
	int rc, found = 0;

	if (rstore_db_check_name(account, e) < 0 || rstore_db_check_device_id(device_id, e) < 0)
		return err_set(e, ERR_AUTH, "authentication failed");
	if (rstore_account_hash_secret(secret, got) < 0)
		return err_set(e, ERR_INTERNAL, "SHA-256 failed");
	memcpy(want, nobody, sizeof want);
	st = rstore_db_stmt(s, STMT_DEVICE_AUTH);
	sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, device_id);
	rc = rstore_db_step(s, st, e, "authenticating");
	if (rc < 0)
		return -1;
	if (rc == 1) {
		acct = sqlite3_column_int64(st, 0);
		last_seen = sqlite3_column_int64(st, 2);
		found = rstore_db_column_fixed(s, st, 1, want, sizeof want, NULL) == 0;
		sqlite3_reset(st);
	}
	if ((CRYPTO_memcmp(want, got, sizeof want) != 0) | !found)
		return err_set(e, ERR_AUTH, "authentication failed");
	now = rstore_db_now(s);
	if (now - last_seen >= RSTORE_TOUCH_MS) {
		/* Best effort: a failed touch must not refuse a good secret. */
		struct rstore_txn t;
		if (rstore_db_begin(s, &t, NULL) == 0) {
			st = rstore_db_stmt(s, STMT_DEVICE_TOUCH);
			sqlite3_bind_int64(st, 1, acct);
			sqlite3_bind_int64(st, 2, device_id);
			sqlite3_bind_int64(st, 3, now);
			if (rstore_db_exec(s, st, NULL, "touch") < 0)
				rstore_db_abort(s, &t);
			else
				rstore_db_commit(s, &t, NULL);
		}
	}
	return 0;
}

int
rstore_device_add(struct rstore *s, const char *account, uint32_t registration_id,
                  const uint8_t secret[RSTORE_SECRET_LEN], const struct rstore_signed_prekey *spk,
                  uint32_t *device_id, struct err *e)
{
	struct rstore_txn t;
	sqlite3_stmt *st;
	uint8_t hash[32];
	int64_t acct, count, id, now = rstore_db_now(s);
	int rc;

	if (registration_id == 0 || registration_id > RSTORE_REG_ID_MAX)
		return err_set(e, ERR_INVALID, "registration id %u not in 1..%d", registration_id,
		               RSTORE_REG_ID_MAX);
	if (spk != NULL && rstore_prekey_check_signed(spk, e) < 0)
		return -1;
	if (rstore_account_hash_secret(secret, hash) < 0)
		return err_set(e, ERR_INTERNAL, "SHA-256 failed");
	if (rstore_db_begin(s, &t, e) < 0)
		return -1;
	if (rstore_db_account_id(s, account, &acct, e) < 0)
		goto fail;
	st = rstore_db_stmt(s, STMT_DEVICE_COUNT);
	sqlite3_bind_int64(st, 1, acct);
	if ((rc = rstore_db_step(s, st, e, "counting devices")) != 1)
		goto fail_rc;
	count = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (count >= s->opt.max_devices) {
		err_set(e, ERR_LIMIT, "account '%s' has the maximum of %lld devices", account,
		        (long long)s->opt.max_devices);
		goto fail;
	}
	st = rstore_db_stmt(s, STMT_ACCOUNT_NEXT_DEVICE);
	sqlite3_bind_int64(st, 1, acct);
	if ((rc = rstore_db_step(s, st, e, "allocating device id")) != 1)
		goto fail_rc;
	id = sqlite3_column_int64(st, 0);
	/* Step to the end so the statement is finished before the insert. */
	if ((rc = rstore_db_step(s, st, e, "allocating device id")) != 0)
		goto fail_rc;
	if (id > INT32_MAX) {
		err_set(e, ERR_LIMIT, "account '%s' ran out of device ids", account);
		goto fail;
	}
	st = rstore_db_stmt(s, STMT_DEVICE_INSERT);
	sqlite3_bind_int64(st, 1, acct);
	sqlite3_bind_int64(st, 2, id);
	sqlite3_bind_int64(st, 3, registration_id);
	sqlite3_bind_blob(st, 4, hash, sizeof hash, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, now);
	if (rstore_db_exec(s, st, e, "adding device") < 0 ||
	    (spk != NULL && rstore_prekey_write_signed(s, acct, (uint32_t)id, spk, e) < 0))
		goto fail;
	rstore_db_forget_devices(s); /* the account's cached list lacks it */
	if (rstore_db_commit(s, &t, e) < 0)
		return -1;
	*device_id = (uint32_t)id;
	return 0;
fail_rc:
	if (rc >= 0)
		err_set(e, ERR_INTERNAL, "unexpected result from the database");
fail:
	rstore_db_abort(s, &t);
	return -1;
}

int
rstore_device_remove(struct rstore *s, const char *account, uint32_t device_id, struct err *e)
{
	struct rstore_txn t;
	sqlite3_stmt *st;
	int64_t acct;

	if (rstore_db_check_device_id(device_id, e) < 0)
		return -1;
	if (device_id == 1)
		return err_set(e, ERR_INVALID, "device 1 cannot be removed");
	if (rstore_db_begin(s, &t, e) < 0)
		return -1;
	if (rstore_db_account_id(s, account, &acct, e) < 0)
		goto fail;
	st = rstore_db_stmt(s, STMT_DEVICE_DELETE);
	sqlite3_bind_int64(st, 1, acct);
	sqlite3_bind_int64(st, 2, device_id);
	if (rstore_db_exec(s, st, e, "removing device") < 0)
		goto fail;
	if (sqlite3_changes(s->db) == 0) {
		err_set(e, ERR_NOTFOUND, "no device %u", device_id);
		goto fail;
	}
	rstore_db_forget_devices(s);
	/* Its queue went with it (ON DELETE CASCADE). */
	rstore_queue_depth_add(s, acct, device_id, -rstore_queue_depth(s, acct, device_id));
	return rstore_db_commit(s, &t, e);
fail:
	rstore_db_abort(s, &t);
	return -1;
}

int
rstore_device_list(struct rstore *s, const char *account, struct rstore_device **out, size_t *n,
                   struct err *e)
{
	struct rstore_device *v = NULL;
	size_t len = 0, cap = 0;
	sqlite3_stmt *st;
	int64_t acct;
	int rc;

	*out = NULL;
	*n = 0;
	if (rstore_db_account_id(s, account, &acct, e) < 0)
		return -1;
	st = rstore_db_stmt(s, STMT_DEVICE_LIST);
	sqlite3_bind_int64(st, 1, acct);
	while ((rc = rstore_db_step(s, st, e, "listing devices")) == 1) {
		if (len == cap) {
			cap = cap ? cap * 2 : 4;
			v = xreallocarray(v, cap, sizeof *v);
		}
		v[len].device_id = (uint32_t)sqlite3_column_int64(st, 0);
		v[len].registration_id = (uint32_t)sqlite3_column_int64(st, 1);
		v[len].created_ms = sqlite3_column_int64(st, 2);
		v[len].last_seen_ms = sqlite3_column_int64(st, 3);
		len++;
	}
	if (rc < 0) {
		free(v);
		return -1;
	}
	*out = v;
	*n = len;
	return 0;
}

/* The device list of account for rstore_device_check: from the cache, or
 * read and kept there. Owned by the cache, valid until the next call. */
static int
rstore_device_list_cached(struct rstore *s, const char *account, const struct rstore_device **out,
                          size_t *n, struct err *e)
{
	struct rstore_list_slot *slot;
	struct rstore_device *v;
	int64_t acct;

	if (rstore_db_account_id(s, account, &acct, e) < 0)
		return -1;
	if (s->lists == NULL)
		s->lists = xcalloc(RSTORE_LIST_CACHE, sizeof *s->lists);
	slot = &s->lists[(uint64_t)acct & (RSTORE_LIST_CACHE - 1)];
	if (slot->account != acct) {
		if (rstore_device_list(s, account, &v, n, e) < 0)
			return -1;
		free(slot->devs);
		slot->account = acct;
		slot->devs = v;
		slot->n = *n;
	}
	*out = slot->devs;
	*n = slot->n;
	return 0;
}

static int
rstore_device_target_cmp(const void *a, const void *b)
{
	const struct rstore_target *x = a, *y = b;

	return (x->device_id > y->device_id) - (x->device_id < y->device_id);
}

static void
rstore_device_push(uint32_t **v, size_t *n, uint32_t id)
{
	*v = xreallocarray(*v, *n + 1, sizeof **v);
	(*v)[(*n)++] = id;
}

int
rstore_device_check(struct rstore *s, const char *account, uint32_t skip_device,
                    const struct rstore_target *targets, size_t n, struct rstore_mismatch *m,
                    struct err *e)
{
	const struct rstore_device *devs;
	struct rstore_target *sorted;
	size_t ndevs, i, j;

	memset(m, 0, sizeof *m);
	if (rstore_device_list_cached(s, account, &devs, &ndevs, e) < 0)
		return -1;
	sorted = xmemdup(targets, n * sizeof *targets);
	qsort(sorted, n, sizeof *sorted, rstore_device_target_cmp);
	for (i = 1; i < n; i++)
		if (sorted[i].device_id == sorted[i - 1].device_id) {
			err_set(e, ERR_INVALID, "device %u targeted twice", sorted[i].device_id);
			free(sorted);
			return -1;
		}
	/* Both lists are sorted by device id: walk them together. */
	for (i = 0, j = 0; i < ndevs || j < n;) {
		if (i < ndevs && devs[i].device_id == skip_device) {
			i++;
		} else if (j == n || (i < ndevs && devs[i].device_id < sorted[j].device_id)) {
			rstore_device_push(&m->missing, &m->n_missing, devs[i].device_id);
			i++;
		} else if (i == ndevs || sorted[j].device_id < devs[i].device_id) {
			rstore_device_push(&m->extra, &m->n_extra, sorted[j].device_id);
			j++;
		} else {
			if (devs[i].registration_id != sorted[j].registration_id)
				rstore_device_push(&m->stale, &m->n_stale, devs[i].device_id);
			i++;
			j++;
		}
	}
	free(sorted);
	return 0;
}

int
rstore_device_mismatch_empty(const struct rstore_mismatch *m)
{
	return m->n_missing == 0 && m->n_extra == 0 && m->n_stale == 0;
}

void
rstore_device_mismatch_free(struct rstore_mismatch *m)
{
	if (m == NULL)
		return;
	free(m->missing);
	free(m->extra);
	free(m->stale);
	memset(m, 0, sizeof *m);
}

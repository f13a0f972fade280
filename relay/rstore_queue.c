/* Per-device envelope queues: enqueue a send (one row per recipient device,
 * all or nothing, depth-limited), fetch in id order, ack-delete only a
 * device's own rows, and their depths, counted in memory. */
#include "relay/rstore_db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- depths: envelopes queued per device, counted in memory ---- */

#define RSTORE_DEPTH_MIN 256 /* slots */

static struct rstore_depth *
rstore_queue_depth_slot(const struct rstore_depths *d, int64_t acct, uint32_t device)
{
	uint64_t h = ((uint64_t)acct * 0x9E3779B97F4A7C15ull) ^ (device * 0xC2B2AE3D27D4EB4Full);
	size_t i = (size_t)(h >> 17) & (d->cap - 1);

	while (d->v[i].acct != 0 && (d->v[i].acct != acct || d->v[i].device != device))
		i = (i + 1) & (d->cap - 1);
	return &d->v[i];
}

static struct rstore_depth *
rstore_queue_depth_entry(struct rstore *s, int64_t acct, uint32_t device)
{
	struct rstore_depths *d = &s->depths;
	struct rstore_depth *old = d->v, *slot;
	size_t old_cap = d->cap, i;

	if ((d->n + 1) * 2 > d->cap) {
		d->cap = d->cap ? d->cap * 2 : RSTORE_DEPTH_MIN;
		d->v = xcalloc(d->cap, sizeof *d->v);
		for (i = 0; i < old_cap; i++)
			if (old[i].acct != 0)
				*rstore_queue_depth_slot(d, old[i].acct, old[i].device) = old[i];
		free(old);
	}
	slot = rstore_queue_depth_slot(d, acct, device);
	if (slot->acct == 0) {
		slot->acct = acct;
		slot->device = device;
		slot->n = 0;
		d->n++;
	}
	return slot;
}

int64_t
rstore_queue_depth(struct rstore *s, int64_t acct, uint32_t device)
{
	struct rstore_depth *slot;

	if (s->depths.cap == 0)
		return 0;
	slot = rstore_queue_depth_slot(&s->depths, acct, device);
	return slot->acct != 0 ? slot->n : 0;
}

void
rstore_queue_depth_add(struct rstore *s, int64_t acct, uint32_t device, int64_t delta)
{
	struct rstore_depths *d = &s->depths;

	rstore_queue_depth_entry(s, acct, device)->n += delta;
	if (sqlite3_get_autocommit(s->db))
		return; /* already committed */
	if (d->log_n == d->log_cap) {
		d->log_cap = d->log_cap ? d->log_cap * 2 : 64;
		d->log = xreallocarray(d->log, d->log_cap, sizeof *d->log);
	}
	d->log[d->log_n].acct = acct;
	d->log[d->log_n].device = device;
	d->log[d->log_n].delta = delta;
	d->log_n++;
}

void
rstore_queue_depth_undo(struct rstore *s, size_t mark)
{
	struct rstore_depths *d = &s->depths;
	struct rstore_depth_change *c;

	while (d->log_n > mark) {
		c = &d->log[--d->log_n];
		rstore_queue_depth_entry(s, c->acct, c->device)->n -= c->delta;
	}
}

void
rstore_queue_depth_keep(struct rstore *s)
{
	s->depths.log_n = 0;
}

int
rstore_queue_depth_load(struct rstore *s, struct err *e)
{
	sqlite3_stmt *st = rstore_db_stmt(s, STMT_QUEUE_DEPTHS);
	int rc;

	while ((rc = rstore_db_step(s, st, e, "counting queues")) == 1)
		rstore_queue_depth_entry(s, sqlite3_column_int64(st, 0),
		                         (uint32_t)sqlite3_column_int64(st, 1))
		    ->n = sqlite3_column_int64(st, 2);
	return rc;
}

void
rstore_queue_depth_free(struct rstore *s)
{
	free(s->depths.v);
	free(s->depths.log);
	memset(&s->depths, 0, sizeof s->depths);
}

/* Arguments a send can be refused on before the database is touched. */
static int
rstore_queue_validate(const struct rstore *s, const struct rstore_outgoing *msgs, size_t n,
                      struct err *e)
{
	size_t i, j;

	if (n == 0)
		return err_set(e, ERR_INVALID, "a send needs at least one recipient device");
	if (n > (size_t)s->opt.max_devices)
		return err_set(e, ERR_INVALID, "a send targets at most %lld devices",
		               (long long)s->opt.max_devices);
	for (i = 0; i < n; i++) {
		if (rstore_db_check_device_id(msgs[i].device_id, e) < 0)
			return -1;
		if (msgs[i].content_len == 0 || msgs[i].content == NULL)
			return err_set(e, ERR_INVALID, "empty content for device %u",
			               msgs[i].device_id);
		if (msgs[i].content_len > (size_t)s->opt.max_content)
			return err_set(
			    e, ERR_TOOLARGE, "content for device %u is %zu bytes; at most %lld",
			    msgs[i].device_id, msgs[i].content_len, (long long)s->opt.max_content);
		/* n is at most max_devices, so quadratic is fine. */
		for (j = 0; j < i; j++)
			if (msgs[j].device_id == msgs[i].device_id)
				return err_set(e, ERR_INVALID, "device %u targeted twice",
				               msgs[i].device_id);
	}
	return 0;
}

/* Queue msgs for one recipient inside the caller's transaction. */
static int
rstore_queue_insert(struct rstore *s, const char *sender, uint32_t sender_device,
                    uint32_t sender_reg, const struct rstore_recipient *to, int64_t now,
                    struct err *e)
{
	sqlite3_stmt *st;
	int64_t acct, depth;
	size_t i;

	if (rstore_db_account_id(s, to->account, &acct, e) < 0)
		return -1;
	for (i = 0; i < to->n; i++) {
		const struct rstore_outgoing *m = &to->msgs[i];

		if (rstore_db_device_get(s, acct, m->device_id, NULL, &depth, e) < 0)
			return err_prefix(e, "%s", to->account);
		if (depth >= s->opt.max_queue)
			return err_set(e, ERR_LIMIT,
			               "queue of %s device %u is full (%lld envelopes)",
			               to->account, m->device_id, (long long)depth);
		st = rstore_db_stmt(s, STMT_QUEUE_INSERT);
		sqlite3_bind_int64(st, 1, acct);
		sqlite3_bind_int64(st, 2, m->device_id);
		sqlite3_bind_text(st, 3, sender, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, sender_device);
		sqlite3_bind_int64(st, 5, sender_reg);
		sqlite3_bind_int64(st, 6, m->type);
		sqlite3_bind_int64(st, 7, now);
		sqlite3_bind_int64(st, 8, now + s->opt.queue_ttl_ms);
		sqlite3_bind_blob(st, 9, m->content, (int)m->content_len, SQLITE_STATIC);
		/* Alone: notices a batch that SQLite threw away under us. */
		if (rstore_db_exec_alone(s, st, e, "queueing envelope") < 0)
			return -1;
		rstore_queue_depth_add(s, acct, m->device_id, 1);
		if (to->ids != NULL)
			to->ids[i] = sqlite3_last_insert_rowid(s->db);
	}
	return 0;
}

int
rstore_queue_send_multi(struct rstore *s, const char *sender, uint32_t sender_device,
                        const struct rstore_recipient *to, size_t n_to, int64_t *server_ts_ms,
                        struct err *e)
{
	struct rstore_txn t;
	int64_t sender_acct, now = rstore_db_now(s);
	uint32_t sender_reg;
	size_t i, j;
	int single;

	if (rstore_db_check_name(sender, e) < 0)
		return -1;
	if (n_to == 0)
		return err_set(e, ERR_INVALID, "a send needs at least one recipient");
	for (i = 0; i < n_to; i++) {
		if (rstore_db_check_name(to[i].account, e) < 0 ||
		    rstore_queue_validate(s, to[i].msgs, to[i].n, e) < 0)
			return err_prefix(e, "%s", to[i].account ? to[i].account : "(null)");
		/* Sends reach at most a few hundred accounts: quadratic is fine. */
		for (j = 0; j < i; j++)
			if (strcmp(to[j].account, to[i].account) == 0)
				return err_set(e, ERR_INVALID, "account %s named twice",
				               to[i].account);
	}
	/* One envelope inside a batch is one INSERT, all or nothing by
	 * itself: no savepoint around it (two statements of the few a
	 * message costs). */
	single = s->batch && n_to == 1 && to[0].n == 1;
	if (!single && rstore_db_begin(s, &t, e) < 0)
		return -1;
	if (rstore_db_account_id(s, sender, &sender_acct, e) < 0 ||
	    rstore_db_device_get(s, sender_acct, sender_device, &sender_reg, NULL, e) < 0) {
		err_prefix(e, "sender");
		goto fail;
	}
	for (i = 0; i < n_to; i++)
		if (rstore_queue_insert(s, sender, sender_device, sender_reg, &to[i], now, e) < 0)
			goto fail;
	if (!single && rstore_db_commit(s, &t, e) < 0)
		return -1;
	if (server_ts_ms != NULL)
		*server_ts_ms = now;
	return 0;
fail:
	if (!single)
		rstore_db_abort(s, &t);
	return -1;
}

int
rstore_queue_send(struct rstore *s, const char *sender, uint32_t sender_device,
                  const char *recipient, const struct rstore_outgoing *msgs, size_t n, int64_t *ids,
                  int64_t *server_ts_ms, struct err *e)
{
	struct rstore_recipient to = {recipient, msgs, n, ids};

	return rstore_queue_send_multi(s, sender, sender_device, &to, 1, server_ts_ms, e);
}

void
rstore_queue_free(struct rstore_envelope *env, size_t n)
{
	size_t i;

	if (env == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(env[i].sender);
		free(env[i].content);
	}
	free(env);
}

int
rstore_queue_fetch(struct rstore *s, const char *account, uint32_t device_id, int64_t after_id,
                   size_t max, struct rstore_envelope **out, size_t *n, struct err *e)
{
	return rstore_queue_fetch_upto(s, account, device_id, after_id, INT64_MAX, max, out, n, e);
}

int
rstore_queue_last_id(struct rstore *s, int64_t *id, struct err *e)
{
	sqlite3_stmt *st = rstore_db_stmt(s, STMT_QUEUE_LAST);
	int rc = rstore_db_step(s, st, e, "finding the last envelope");

	if (rc < 0)
		return -1;
	*id = rc == 1 ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	return 0;
}

int
rstore_queue_fetch_upto(struct rstore *s, const char *account, uint32_t device_id, int64_t after_id,
                        int64_t upto_id, size_t max, struct rstore_envelope **out, size_t *n,
                        struct err *e)
{
	struct rstore_envelope *v = NULL;
	size_t len = 0;
	sqlite3_stmt *st;
	int64_t acct;
	int rc;

	*out = NULL;
	*n = 0;
	if (rstore_db_account_id(s, account, &acct, e) < 0 ||
	    rstore_db_device_get(s, acct, device_id, NULL, NULL, e) < 0)
		return -1;
	if (max == 0)
		return 0;
	if (max > 100000)
		max = 100000;
	st = rstore_db_stmt(s, STMT_QUEUE_FETCH);
	sqlite3_bind_int64(st, 1, acct);
	sqlite3_bind_int64(st, 2, device_id);
	sqlite3_bind_int64(st, 3, after_id);
	sqlite3_bind_int64(st, 4, rstore_db_now(s));
	sqlite3_bind_int64(st, 5, (int64_t)max);
	sqlite3_bind_int64(st, 6, upto_id);
	v = xcalloc(max < 64 ? max : 64, sizeof *v);
	while ((rc = rstore_db_step(s, st, e, "fetching envelopes")) == 1) {
		struct rstore_envelope *env;
		const unsigned char *sender = sqlite3_column_text(st, 1);
		const void *content = sqlite3_column_blob(st, 6);

		if (len >= 64 && (len & (len - 1)) == 0)
			v = xreallocarray(v, len * 2, sizeof *v);
		env = &v[len++];
		memset(env, 0, sizeof *env);
		env->id = sqlite3_column_int64(st, 0);
		env->sender = xstrdup(sender ? (const char *)sender : "");
		env->sender_device = (uint32_t)sqlite3_column_int64(st, 2);
		env->sender_registration_id = (uint32_t)sqlite3_column_int64(st, 3);
		env->type = sqlite3_column_int(st, 4);
		env->server_ts_ms = sqlite3_column_int64(st, 5);
		env->content_len = (size_t)sqlite3_column_bytes(st, 6);
		env->content = xmemdup(content, env->content_len);
	}
	if (rc < 0) {
		rstore_queue_free(v, len);
		return -1;
	}
	if (len == 0) {
		free(v);
		v = NULL;
	}
	*out = v;
	*n = len;
	return 0;
}

/* The ids as a JSON array for json_each(): one statement deletes them
 * all, so an ack needs no savepoint however many ids it carries. */
static char *
rstore_queue_ids_json(const int64_t *ids, size_t n)
{
	char *out = xmalloc(2 + n * 21 + 1), *p = out;
	size_t i;

	*p++ = '[';
	for (i = 0; i < n; i++)
		p += sprintf(p, i == 0 ? "%lld" : ",%lld", (long long)ids[i]);
	*p++ = ']';
	*p = '\0';
	return out;
}

int
rstore_queue_delete(struct rstore *s, const char *account, uint32_t device_id, const int64_t *ids,
                    size_t n, size_t *deleted, struct err *e)
{
	sqlite3_stmt *st;
	int64_t acct;
	char *json;
	int rc;

	if (deleted != NULL)
		*deleted = 0;
	if (rstore_db_account_id(s, account, &acct, e) < 0 ||
	    rstore_db_device_get(s, acct, device_id, NULL, NULL, e) < 0)
		return -1;
	if (n == 0)
		return 0;
	/* The WHERE clause carries the device: another device's id simply
	 * matches nothing. */
	json = rstore_queue_ids_json(ids, n);
	st = rstore_db_stmt(s, STMT_QUEUE_DELETE);
	sqlite3_bind_int64(st, 1, acct);
	sqlite3_bind_int64(st, 2, device_id);
	sqlite3_bind_text(st, 3, json, -1, SQLITE_STATIC);
	rc = rstore_db_exec_alone(s, st, e, "deleting envelopes");
	free(json);
	if (rc < 0)
		return -1;
	rstore_queue_depth_add(s, acct, device_id, -(int64_t)sqlite3_changes(s->db));
	if (deleted != NULL)
		*deleted = (size_t)sqlite3_changes(s->db);
	return 0;
}

int
rstore_queue_count(struct rstore *s, const char *account, uint32_t device_id, size_t *count,
                   struct err *e)
{
	int64_t acct, depth;

	if (rstore_db_account_id(s, account, &acct, e) < 0 ||
	    rstore_db_device_get(s, acct, device_id, NULL, &depth, e) < 0)
		return -1;
	*count = depth > 0 ? (size_t)depth : 0;
	return 0;
}

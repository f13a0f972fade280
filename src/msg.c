/* The messaging half of the core: its life cycle (init, unlock, connect),
 * the small helpers every msg_*.c file shares (events, kv markers, ids),
 * and the sweep that turns identity changes the store recorded into
 * "identity.changed" events and per-contact markers. */
#include "msg_int.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/random.h>

#include "store/idstore.h"
#include "store/kv.h"
#include "transport.h"

int
msg_init(struct core *c, struct err *e)
{
	struct msg *m = xcalloc(1, sizeof *m);

	m->c = c;
	c->msg = m;
	if (c->eng != NULL && (msg_send_register(c, e) < 0 || msg_methods_register(c, e) < 0)) {
		free(m);
		c->msg = NULL;
		return -1;
	}
	return 0;
}

void
msg_free(struct core *c)
{
	struct msg *m = c->msg;

	if (m == NULL)
		return;
	/* Whatever the batch decrypted but did not commit is rolled back by
	 * closing the database; the relay redelivers it. */
	msg_recv_free(m);
	msg_send_free_all(m);
	msg_methods_free(m);
	free(m->pending);
	free(m);
	c->msg = NULL;
}

void
msg_set_hooks(struct core *c, const struct msg_hooks *hooks)
{
	c->msg->hooks = *hooks;
	c->msg->has_hooks = true;
}

void
msg_on_unlocked(struct core *c)
{
	if (c->msg == NULL || c->db == NULL || c->account_name == NULL)
		return;
	msg_identity_sweep(c->msg, true);
	msg_send_load(c->msg);
}

void
msg_on_connected(struct core *c)
{
	if (c->msg != NULL)
		c->msg->live = false; /* the relay pushes the backlog first */
	if (c->msg == NULL || c->db == NULL || c->account_name == NULL)
		return;
	msg_send_flush(c->msg);
}

void
msg_on_queue_empty(struct core *c)
{
	if (c->msg == NULL)
		return;
	c->msg->live = true;
	msg_recv_flush(c->msg);
	msg_methods_caught_up(c->msg);
}

void
msg_flush(struct core *c)
{
	msg_recv_flush(c->msg);
}

struct lws_context *
msg_lws(struct msg *m)
{
	if (m->has_hooks || m->c->eng == NULL)
		return NULL;
	return engine_lws_context(m->c->eng);
}

void
msg_emit(struct msg *m, const char *type, json_t *data)
{
	if (m->has_hooks && m->hooks.emit != NULL) {
		m->hooks.emit(m->hooks.arg, type, data);
		return;
	}
	if (m->c->eng == NULL) {
		json_decref(data);
		return;
	}
	engine_emit(m->c->eng, type, data);
}

bool
msg_connected(struct msg *m)
{
	if (m->has_hooks)
		return m->hooks.request != NULL;
	return m->c->tp != NULL && transport_state(m->c->tp) == TRANSPORT_CONNECTED;
}

char *
msg_kv_key(const char *what, const char *name)
{
	return xasprintf("msg.%s.%s", what, name);
}

int
msg_untrusted(struct msg *m, const char *name, bool *out, struct err *e)
{
	char *key = msg_kv_key("untrusted", name);
	int64_t v;
	int r;

	r = kv_get_int(m->c->db, key, 0, &v, e);
	free(key);
	*out = r == 0 && v != 0;
	return r;
}

/* A UUID of version 7 (RFC 9562): milliseconds since 1970 first, then 74
 * random bits. Ids that grow with time land at the end of the unique
 * indexes on them (history, outbox) instead of on a random page of each:
 * a batch of 128 random ids rewrote about as many index pages. The relay
 * learns the time the message was written, which the time it arrives
 * tells it already but for messages that waited offline. */
void
msg_new_id(char out[WIRE_MSG_ID_MAX + 1])
{
	uint8_t raw[16];
	struct timespec ts;
	uint64_t ms;
	size_t got = 6;
	ssize_t r;
	int i;

	clock_gettime(CLOCK_REALTIME, &ts);
	ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	for (i = 0; i < 6; i++)
		raw[i] = (uint8_t)(ms >> (40 - 8 * i));
	while (got < sizeof raw) {
		r = getrandom(raw + got, sizeof raw - got, 0);
		if (r > 0)
			got += (size_t)r;
	}
	raw[6] = (uint8_t)(0x70 | (raw[6] & 0x0F)); /* version 7 */
	raw[8] = (uint8_t)(0x80 | (raw[8] & 0x3F)); /* variant 10 */
	snprintf(out, WIRE_MSG_ID_MAX + 1,
	         "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", raw[0],
	         raw[1], raw[2], raw[3], raw[4], raw[5], raw[6], raw[7], raw[8], raw[9], raw[10],
	         raw[11], raw[12], raw[13], raw[14], raw[15]);
}

void
msg_settle(struct msg *m)
{
	if (m->batch_open)
		msg_recv_flush(m);
}

void
msg_fail(struct engine_req *req, const struct err *e)
{
	if (req != NULL)
		engine_req_fail_err(req, e);
}

/* Identity changes the store recorded (a prekey message or a bundle with
 * a new key, trusted with a warning): keep a per-contact marker the
 * contacts method shows until the user trusts the key, tell frontends
 * (unless account.c already did, for bundles), and mark the changes seen.
 * A change away from a verified key also blocks sending. */
void
msg_identity_sweep(struct msg *m, bool emit)
{
	struct db *db = m->c->db;
	struct idstore_change *ch = NULL;
	size_t n = 0, i;
	struct err e;
	char *key;
	bool ok = true;

	if (db == NULL || idstore_changes_pending(db, &ch, &n, &e) < 0 || n == 0) {
		idstore_changes_free(ch, n);
		return;
	}
	if (db_begin(db, &e) < 0) {
		idstore_changes_free(ch, n);
		return;
	}
	for (i = 0; i < n && ok; i++) {
		key = msg_kv_key("idchanged", ch[i].name);
		ok = kv_set_int(db, key, ch[i].id, &e) == 0;
		free(key);
		if (ok && ch[i].was_verified) {
			key = msg_kv_key("untrusted", ch[i].name);
			ok = kv_set_int(db, key, 1, &e) == 0;
			free(key);
		}
	}
	if (ok)
		ok = idstore_changes_clear(db, ch[n - 1].id, &e) == 0;
	if (!ok || db_commit(db, &e) < 0) {
		if (db_depth(db) > 0)
			db_rollback(db, NULL);
		idstore_changes_free(ch, n);
		return;
	}
	for (i = 0; i < n && emit; i++) {
		/* Several devices of one account change together: one event. */
		if (i > 0 && strcmp(ch[i].name, ch[i - 1].name) == 0)
			continue;
		msg_emit(m, "identity.changed",
		         json_pack("{s:s,s:b}", "name", ch[i].name, "blocked", ch[i].was_verified));
	}
	idstore_changes_free(ch, n);
}

/* Receiving: each envelope is decrypted inside the write batch's
 * transaction (msg_batch.c), and the decryption callback stores the
 * message (or applies the receipt) before libsignal stores the ratchet,
 * so both commit together. Acks go to the relay only after the commit;
 * events, delivered receipts and identity-change notices follow. A burst
 * of envelopes shares one transaction (a savepoint for prekey messages
 * only), one conversation update per conversation and one ack. */
#include "msg_int.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/e2e.h"
#include "store/contacts.h"
#include "store/conversations.h"
#include "store/idstore.h"
#include "store/kv.h"
#include "transport.h"

struct msg_recv_ctx {
	struct msg *m;
	const struct wire_envelope *env;
	struct msg_batch_item *item;
	struct err e; /* a store failure inside the callback */
	/* The sender's rows were written by this envelope: remember them
	 * once its savepoint is released. */
	bool new_sender;
	int64_t conversation_id;
	/* A message went into this conversation: touched once per batch. */
	int64_t touch_conversation, touch_at;
};

static const struct msg_sender *
msg_recv_sender_find(struct msg *m, const struct wire_envelope *env)
{
	size_t i;

	for (i = 0; i < m->n_senders; i++)
		if (m->senders[i].device == env->from_device &&
		    m->senders[i].registration_id == env->from_registration_id &&
		    strcmp(m->senders[i].name, env->from) == 0)
			return &m->senders[i];
	return NULL;
}

static void
msg_recv_sender_add(struct msg *m, const struct wire_envelope *env, int64_t conv)
{
	struct msg_sender *s;

	if (m->n_senders >= 64)
		return; /* a bounded cache: a miss only costs a few writes */
	m->senders = xreallocarray(m->senders, m->n_senders + 1, sizeof *m->senders);
	s = &m->senders[m->n_senders++];
	snprintf(s->name, sizeof s->name, "%s", env->from);
	s->device = env->from_device;
	s->registration_id = env->from_registration_id;
	s->conversation_id = conv;
}

/* Count a new message in its conversation; applied by msg_recv_touch_all. */
static void
msg_recv_touch_add(struct msg *m, int64_t conv, int64_t at)
{
	struct msg_touch *t;
	size_t i;

	for (i = 0; i < m->n_touches; i++) {
		t = &m->touches[i];
		if (t->conversation_id == conv) {
			t->unread++;
			if (at > t->at)
				t->at = at;
			return;
		}
	}
	m->touches = xreallocarray(m->touches, m->n_touches + 1, sizeof *m->touches);
	t = &m->touches[m->n_touches++];
	t->conversation_id = conv;
	t->at = at;
	t->unread = 1;
}

/* Inside the batch's transaction, before its commit. */
static int
msg_recv_touch_all(struct msg *m, struct err *e)
{
	size_t i;

	for (i = 0; i < m->n_touches; i++)
		if (conversations_touch(m->c->db, m->touches[i].conversation_id, m->touches[i].at,
		                        m->touches[i].unread, e) < 0)
			return -1;
	return 0;
}

/* The batch is over (committed or rolled back): forget what it knew. */
static void
msg_recv_batch_forget(struct msg *m)
{
	free(m->senders);
	m->senders = NULL;
	m->n_senders = 0;
	free(m->touches);
	m->touches = NULL;
	m->n_touches = 0;
}

static struct msg_batch_item *
msg_recv_item(struct msg *m, const struct wire_envelope *env)
{
	struct msg_batch_item *it;

	/* Grown by halves, not one by one: a burst fills MSG_BATCH_MAX. */
	if (m->n_batch == m->batch_cap) {
		m->batch_cap = m->batch_cap < 16 ? 16 : m->batch_cap + m->batch_cap / 2;
		m->batch = xreallocarray(m->batch, m->batch_cap, sizeof *m->batch);
	}
	it = &m->batch[m->n_batch++];
	memset(it, 0, sizeof *it);
	it->envelope_id = env->id;
	snprintf(it->from, sizeof it->from, "%s", env->from);
	it->from_device = env->from_device;
	return it;
}

static void
msg_recv_item_clear(struct msg_batch_item *it)
{
	free(it->message);
	it->message = NULL;
	free(it->receipt_to);
	free(it->receipt_msg_id);
	free(it->state_ids);
	free(it->failed);
}

/* A copy of our own message sent from another device of ours. */
static int
msg_recv_sync_copy(struct msg_recv_ctx *x, const struct content *ct)
{
	struct db *db = x->m->c->db;
	struct history_message h;
	int64_t conv, id;

	if (ct->sent_to == NULL)
		return 0; /* nothing to file it under: ignore */
	memset(&h, 0, sizeof h);
	h.sender_name = x->m->c->account_name;
	h.sender_device = (int32_t)x->env->from_device;
	h.client_id = ct->id;
	h.sent_at = ct->ts;
	h.server_at = x->env->ts;
	h.body = ct->body;
	if (contacts_ensure(db, ct->sent_to, &x->e) < 0 ||
	    conversations_direct(db, ct->sent_to, &conv, &x->e) < 0)
		return -1;
	h.conversation_id = conv;
	if (history_insert_outgoing(db, &h, &id, &x->e) < 0 ||
	    history_set_state(db, id, HISTORY_SENT, NULL, &x->e) < 0)
		return -1;
	x->item->history_id = id;
	h.id = id;
	h.direction = HISTORY_OUT;
	h.state = HISTORY_SENT;
	x->item->message = msg_json_snapshot(x->m, &h, ct->sent_to);
	return 0;
}

static int
msg_recv_text(struct msg_recv_ctx *x, const struct content *ct)
{
	const struct wire_envelope *env = x->env;
	const struct msg_sender *sender;
	struct db *db = x->m->c->db;
	struct history_message h;
	char relay_id[24];
	char *client_id;
	int64_t conv, id;
	int r;

	if (strcmp(env->from, x->m->c->account_name) == 0)
		return msg_recv_sync_copy(x, ct);
	snprintf(relay_id, sizeof relay_id, "%" PRIu64, env->id);
	client_id = xasprintf("%s/%s", env->from, ct->id);
	memset(&h, 0, sizeof h);
	h.sender_name = (char *)env->from;
	h.sender_device = (int32_t)env->from_device;
	h.relay_id = relay_id;
	h.client_id = client_id;
	h.sent_at = ct->ts;
	h.server_at = env->ts;
	h.received_at = db_now_ms(db);
	h.body = ct->body;
	r = -1;
	sender = msg_recv_sender_find(x->m, env);
	if (sender != NULL) {
		conv = sender->conversation_id;
	} else {
		if (contacts_ensure(db, env->from, &x->e) < 0 ||
		    contacts_device_set(db, env->from, (int32_t)env->from_device,
		                        env->from_registration_id, &x->e) < 0 ||
		    conversations_direct(db, env->from, &conv, &x->e) < 0)
			goto out;
		x->new_sender = true;
		x->conversation_id = conv;
	}
	h.conversation_id = conv;
	if (history_insert_incoming_untouched(db, &h, &id, &x->e) < 0)
		goto out;
	x->touch_conversation = conv;
	x->touch_at = h.received_at;
	x->item->history_id = id;
	/* What the event needs, kept now rather than read back. */
	h.id = id;
	h.direction = HISTORY_IN;
	h.state = HISTORY_RECEIVED;
	x->item->message = msg_json_snapshot(x->m, &h, env->from);
	x->item->receipt_to = xstrdup(env->from);
	x->item->receipt_msg_id = xstrdup(ct->id);
	r = 0;
out:
	free(client_id);
	return r;
}

/* A receipt moves our outgoing messages forward, but only those the
 * sender was sent (or any, from our own other devices). */
static int
msg_recv_receipt(struct msg_recv_ctx *x, const struct content *ct)
{
	struct db *db = x->m->c->db;
	struct conversations_entry conv;
	struct history_message h;
	enum history_state st =
	    ct->receipt == CONTENT_RECEIPT_READ ? HISTORY_READ : HISTORY_DELIVERED;
	bool self = strcmp(x->env->from, x->m->c->account_name) == 0, ok, changed;
	struct err e;
	int64_t id;
	size_t i;

	x->item->new_state = st;
	for (i = 0; i < ct->n_ids; i++) {
		if (history_find_client_id(db, ct->ids[i], &id, &e) < 0)
			continue;
		if (history_get(db, id, &h, &e) < 0)
			continue;
		ok = h.direction == HISTORY_OUT;
		if (ok && !self) {
			ok = conversations_get(db, h.conversation_id, &conv, &e) == 0 &&
			     strcmp(conv.peer, x->env->from) == 0;
			if (conv.peer != NULL)
				conversations_entry_clear(&conv);
		}
		history_message_clear(&h);
		if (!ok)
			continue;
		if (history_set_state(db, id, st, &changed, &x->e) < 0)
			return -1;
		if (changed) {
			x->item->state_ids =
			    xreallocarray(x->item->state_ids, x->item->n_state_ids + 1,
			                  sizeof *x->item->state_ids);
			x->item->state_ids[x->item->n_state_ids++] = id;
		}
	}
	return 0;
}

/* libsignal's decryption callback: runs before the ratchet is stored. A
 * non-zero return (the err_code) makes the whole decrypt fail. Content we
 * cannot read is still a processed message: the ratchet moves on. */
static int
msg_recv_plaintext(void *arg, const uint8_t *pt, size_t len)
{
	struct msg_recv_ctx *x = arg;
	struct content ct;
	struct err e;
	int r = 0;

	if (content_decode(pt, len, &ct, &e) < 0) {
		x->item->failed = xasprintf("unreadable content: %s", e.msg);
		return 0;
	}
	switch (ct.kind) {
	case CONTENT_TEXT:
		r = msg_recv_text(x, &ct);
		break;
	case CONTENT_RECEIPT:
		r = msg_recv_receipt(x, &ct);
		break;
	case CONTENT_REPAIR:
		/* The peer could not read something of ours and built a new
		 * session (this very message). Resending is left to the user. */
		x->item->failed =
		    xasprintf("%s could not read some earlier messages", x->env->from);
		break;
	case CONTENT_UNKNOWN:
		break; /* acked and ignored */
	}
	content_clear(&ct);
	if (r < 0)
		return x->e.code != ERR_OK ? (int)x->e.code : (int)ERR_INTERNAL;
	return 0;
}

static void
msg_recv_hold(struct msg *m, const struct wire_envelope *env)
{
	struct msg_held *h;

	for (h = m->held; h != NULL; h = h->next)
		if (h->env.id == env->id)
			return;
	h = xcalloc(1, sizeof *h);
	h->env = *env;
	h->env.content = xmemdup(env->content, env->content_len);
	h->next = m->held;
	m->held = h;
}

/* Roll the open batch back: nothing of it is stored or acked, and the
 * relay pushes it all again on the next connection. */
static void
msg_recv_abort(struct msg *m)
{
	struct err why;
	size_t i;

	msg_batch_cancel(m);
	if (m->batch_open) {
		m->batch_open = false;
		while (db_depth(m->c->db) > 0)
			db_rollback(m->c->db, NULL);
		err_set(&why, ERR_IO, "send: the message could not be stored; try again");
		msg_batch_dropped(m, &why);
	}
	for (i = 0; i < m->n_batch; i++)
		msg_recv_item_clear(&m->batch[i]);
	free(m->batch);
	m->batch = NULL;
	m->batch_cap = 0;
	m->n_batch = 0;
	msg_recv_batch_forget(m);
}

void
msg_on_envelope(struct core *c, const struct wire_envelope *env)
{
	struct msg *m = c->msg;
	struct msg_recv_ctx x;
	struct lws_context *lws;
	enum e2e_type type;
	bool savepoint;
	char *key;
	int rc;

	if (m == NULL || c->db == NULL || c->account_name == NULL)
		return; /* not acked: the relay pushes it again later */
	memset(&x, 0, sizeof x);
	x.m = m;
	x.env = env;
	if (!m->batch_open) {
		if (db_begin(c->db, &x.e) < 0)
			return;
		m->batch_open = true;
	}
	x.item = msg_recv_item(m, env);
	if (env->type != WIRE_MSG_PREKEY && env->type != WIRE_MSG_NORMAL) {
		/* Group messages are not supported yet. */
		x.item->ack = true;
		x.item->failed = xstrdup("group messages are not supported by this version");
		goto queued;
	}
	type = env->type == WIRE_MSG_PREKEY ? E2E_PREKEY : E2E_NORMAL;
	x.item->identity_check = type == E2E_PREKEY;
	/* A prekey message may store the sender's identity before its MAC is
	 * checked: a savepoint undoes that if it fails. A normal message
	 * stores nothing before it decrypted, and whatever the callback wrote
	 * before failing is harmless (ensured rows, a refused duplicate), so
	 * it skips the savepoint, whose sub-journal SQLCipher encrypts page
	 * by page (a tenth of a catch-up's time). */
	savepoint = type == E2E_PREKEY;
	if (savepoint && db_begin(c->db, &x.e) < 0) {
		msg_recv_item_clear(x.item);
		m->n_batch--; /* not acked */
		goto queued;
	}
	rc = e2e_decrypt(c->store, c->sig, env->from, (int32_t)env->from_device, type, env->content,
	                 env->content_len, msg_recv_plaintext, &x, &x.e);
	if (rc == 0 && (!savepoint || db_commit(c->db, &x.e) == 0)) {
		x.item->ack = true;
		if (x.new_sender)
			msg_recv_sender_add(m, env, x.conversation_id);
		if (x.touch_conversation != 0)
			msg_recv_touch_add(m, x.touch_conversation, x.touch_at);
		goto queued;
	}
	if (savepoint && db_depth(c->db) > 1)
		db_rollback(c->db, NULL);
	switch (x.e.code) {
	case ERR_DUPLICATE:
		/* Seen before: it was committed, the ack got lost. */
		msg_recv_item_clear(x.item);
		memset(x.item, 0, sizeof *x.item);
		x.item->envelope_id = env->id;
		x.item->ack = true;
		break;
	case ERR_UNTRUSTED:
		/* A verified contact's key changed: keep the message until the
		 * user decides; the relay keeps it too (no ack). */
		msg_recv_hold(m, env);
		key = msg_kv_key("untrusted", env->from);
		kv_set_int(c->db, key, 1, NULL);
		free(key);
		msg_recv_item_clear(x.item);
		m->n_batch--;
		msg_emit(m, "identity.changed",
		         json_pack("{s:s,s:b}", "name", env->from, "blocked", 1));
		break;
	case ERR_NOSPACE:
	case ERR_BUSY:
	case ERR_IO:
	case ERR_CORRUPT:
	case ERR_INTERNAL:
		/* Our failure, not the message's: no ack, the relay redelivers.
		 * Without a savepoint nothing says what was half written: give
		 * up the whole batch, none of it acked. */
		msg_recv_item_clear(x.item);
		m->n_batch--;
		if (!savepoint) {
			msg_recv_abort(m);
			return;
		}
		break;
	default:
		/* Tampered, garbage, no session, too far ahead: it will never
		 * decrypt. Ack it so it does not come back forever, and say so. */
		x.item->ack = true;
		x.item->history_id = 0;
		free(x.item->message);
		x.item->message = NULL;
		free(x.item->failed);
		x.item->failed = xasprintf("could not decrypt: %s", x.e.msg);
		/* Provably unread and no session at all (never one that a
		 * single failure would make us drop): start a new one. */
		x.item->repair =
		    (x.e.code == ERR_NOSESSION || x.e.code == ERR_NOTFOUND) &&
		    strcmp(env->from, c->account_name) != 0 &&
		    e2e_has_session(c->store, env->from, (int32_t)env->from_device, NULL) == 0;
		break;
	}
queued:
	lws = msg_lws(m);
	if (m->n_batch >= MSG_BATCH_MAX ||
	    (lws == NULL && !(m->has_hooks && m->hooks.manual_flush))) {
		msg_recv_flush(m);
		return;
	}
	/* A backlog commits once the burst pauses (each envelope pushes the
	 * commit back), or when the batch gets old. Once caught up, a lone
	 * envelope is shown as soon as it is durable: it commits on the next
	 * pass with whatever the same read brought. */
	msg_batch_arm(m, m->live ? MSG_BATCH_LIVE : MSG_BATCH_RECV);
}

static void
msg_recv_ack(struct msg *m, const uint64_t *ids, size_t n)
{
	struct err e;

	if (n == 0)
		return;
	if (m->has_hooks) {
		if (m->hooks.ack != NULL)
			m->hooks.ack(m->hooks.arg, ids, n);
		return;
	}
	if (m->c->tp != NULL)
		transport_ack(m->c->tp, ids, n, &e);
}

/* After the commit: events for new messages and moved states, delivered
 * receipts (one per sender for the whole batch), identity changes. */
static void
msg_recv_after_commit(struct msg *m, struct msg_batch_item *items, size_t n)
{
	struct history_message h;
	bool sweep = false;
	size_t i, j;
	struct err e;

	for (i = 0; i < n; i++) {
		struct msg_batch_item *it = &items[i];

		sweep = sweep || it->identity_check;
		if (it->history_id != 0 && it->message != NULL) {
			memset(&h, 0, sizeof h);
			h.id = msg_json_snapshot_message(it->message)->id;
			h.direction = msg_json_snapshot_message(it->message)->direction;
			msg_json_emit_snapshot(m, it->message);
			it->message = NULL;
			msg_methods_new_message(m, &h);
		}
		for (j = 0; j < it->n_state_ids; j++) {
			char *cid = NULL;

			if (history_get(m->c->db, it->state_ids[j], &h, &e) == 0) {
				cid = h.client_id;
				h.client_id = NULL;
				history_message_clear(&h);
			}
			msg_emit(m, "message.state",
			         json_pack("{s:I,s:s?,s:s}", "id", (json_int_t)it->state_ids[j],
			                   "msg_id", cid, "state",
			                   msg_json_state(it->new_state, HISTORY_OUT)));
			free(cid);
		}
		if (it->repair)
			msg_send_repair(m, it->from, it->from_device, it->envelope_id);
		if (it->failed != NULL)
			msg_emit(m, "message.failed",
			         json_pack("{s:s,s:i,s:I,s:s}", "from", it->from, "device",
			                   (int)it->from_device, "envelope",
			                   (json_int_t)it->envelope_id, "reason", it->failed));
	}
	if (sweep)
		msg_identity_sweep(m, true);
	msg_methods_batch_done(m);
	/* Delivered receipts: only texts get one, never receipts. */
	for (i = 0; i < n; i++)
		if (items[i].receipt_to != NULL)
			msg_batch_receipt_add(m, items[i].receipt_to, items[i].receipt_msg_id);
	if (m->n_rcpt > 0 && (msg_lws(m) == NULL || m->n_rcpt >= CONTENT_IDS_MAX))
		msg_batch_receipts_send(m);
}

/* Commit the write batch, then ack, announce and send what it holds.
 * Whatever runs after the commit may open the next batch; without an
 * event loop that one is committed here too. */
void
msg_recv_flush(struct msg *m)
{
	struct msg_batch_item *items;
	size_t n, i, nack;
	uint64_t *acks;
	struct err e;

	if (m->flushing)
		return;
	m->flushing = true;
	do {
		msg_batch_cancel(m);
		items = m->batch;
		n = m->n_batch;
		m->batch = NULL;
		m->batch_cap = 0;
		m->n_batch = 0;
		if (m->batch_open) {
			m->batch_open = false;
			if (msg_recv_touch_all(m, &e) < 0 || db_commit(m->c->db, &e) < 0) {
				msg_recv_batch_forget(m);
				/* Nothing of the batch is stored: no acks, no
				 * events, and its sends fail. */
				if (db_depth(m->c->db) > 0)
					db_rollback(m->c->db, NULL);
				for (i = 0; i < n; i++)
					msg_recv_item_clear(&items[i]);
				free(items);
				msg_batch_dropped(m, &e);
				break;
			}
		}
		msg_recv_batch_forget(m);
		acks = xcalloc(n + 1, sizeof *acks);
		for (i = nack = 0; i < n; i++)
			if (items[i].ack)
				acks[nack++] = items[i].envelope_id;
		msg_recv_ack(m, acks, nack);
		free(acks);
		msg_recv_after_commit(m, items, n);
		for (i = 0; i < n; i++)
			msg_recv_item_clear(&items[i]);
		free(items);
		msg_batch_committed(m);
	} while (m->batch_open && m->c->db != NULL && msg_lws(m) == NULL &&
	         !(m->has_hooks && m->hooks.manual_flush));
	m->flushing = false;
}

void
msg_recv_release(struct msg *m, const char *name)
{
	struct msg_held **pp = &m->held, *h, *mine = NULL;
	struct err e;

	/* Take name's envelopes off the list first: one that is still
	 * refused goes back on it, and must not be met again here. */
	while ((h = *pp) != NULL) {
		if (strcmp(h->env.from, name) != 0) {
			pp = &h->next;
			continue;
		}
		*pp = h->next;
		h->next = mine;
		mine = h;
	}
	while ((h = mine) != NULL) {
		mine = h->next;
		/* Forget the old key so the new one is taken as first seen. */
		idstore_save(m->c->db, name, (int32_t)h->env.from_device, NULL, 0, &e);
		msg_on_envelope(m->c, &h->env);
		free(h->env.content);
		free(h);
	}
	msg_recv_flush(m);
}

void
msg_recv_free(struct msg *m)
{
	struct msg_held *h, *next;
	size_t i;

	/* Flush what was decrypted so that it is not decrypted twice, and
	 * the receipts it owes (what runs after a commit may open one more
	 * batch: receipts, attempt counts). */
	if (m->batch_open && m->c->db != NULL)
		msg_recv_flush(m);
	if (m->c->db != NULL)
		msg_batch_receipts_send(m);
	for (i = 0; i < 3 && m->batch_open && m->c->db != NULL; i++)
		msg_recv_flush(m);
	msg_batch_cancel(m);
	msg_batch_receipts_send(m); /* without a database: only frees */
	for (i = 0; i < m->n_batch; i++)
		msg_recv_item_clear(&m->batch[i]);
	free(m->batch);
	m->batch = NULL;
	m->batch_cap = 0;
	m->n_batch = 0;
	msg_recv_batch_forget(m);
	for (h = m->held; h != NULL; h = next) {
		next = h->next;
		free(h->env.content);
		free(h);
	}
	m->held = NULL;
}

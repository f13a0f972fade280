/* Parties for the end-to-end store tests (see e2e_party.h). */
#include "tests/e2e_party.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/pad.h"
#include "store/conversations.h"
#include "store/db.h"
#include "store/idstore.h"
#include "store/kv.h"
#include "store/outbox.h"
#include "store/sigstore.h"

/* Where the persisted prekey id counters live in store/kv. */
#define KV_NEXT_PREKEY "keygen.next_prekey_id"
#define KV_NEXT_SIGNED "keygen.next_signed_prekey_id"

#define must(expr, e)                                                                              \
	do {                                                                                       \
		if ((expr) != 0)                                                                   \
			fail_msg("%s: %s (%s)", #expr, (e).msg, err_code_name((e).code));          \
	} while (0)

/* --- parties ----------------------------------------------------------- */

static void
party_open_store(struct e2e_party *p)
{
	struct err e;
	must(sigstore_create(p->f->db, p->ctx, &p->store, &e), e);
}

/* Generate count one-time prekeys (and the signed prekey, the first time)
 * with the id counters kept in kv, all in one transaction. */
void
e2e_party_publish(struct e2e_party *p, size_t count)
{
	struct keygen_prekey_pub *pubs;
	struct keygen_signed_prekey_pub spk;
	struct db *db = p->f->db;
	int64_t next;
	uint32_t next_id;
	struct err e;

	must(db_begin(db, &e), e);
	must(kv_get_int(db, KV_NEXT_PREKEY, 1, &next, &e), e);
	next_id = (uint32_t)next;
	must(keygen_prekeys_generate(p->store, p->ctx, &next_id, count, &pubs, &e), e);
	must(kv_set_int(db, KV_NEXT_PREKEY, next_id, &e), e);
	if (p->signed_id == 0) {
		must(kv_get_int(db, KV_NEXT_SIGNED, 1, &next, &e), e);
		next_id = (uint32_t)next;
		must(keygen_signed_prekey_generate(p->store, p->ctx, &next_id,
		                                   (uint64_t)db_now_ms(db), &spk, &e),
		     e);
		must(kv_set_int(db, KV_NEXT_SIGNED, next_id, &e), e);
		p->signed_id = spk.id;
	}
	must(db_commit(db, &e), e);
	p->prekeys = xreallocarray(p->prekeys, p->n_prekeys + count, sizeof *p->prekeys);
	memcpy(p->prekeys + p->n_prekeys, pubs, count * sizeof *pubs);
	p->n_prekeys += count;
	free(pubs);
}

void
e2e_party_new(struct e2e_party *p, signal_context *ctx, const char *name, bool keyfile,
              size_t prekeys)
{
	struct db_config cfg;
	struct err e;

	memset(p, 0, sizeof *p);
	p->ctx = ctx;
	p->name = name;
	p->keyfile = keyfile;
	p->f = fixture_new();
	cfg = fixture_config(p->f, keyfile);
	must(db_create(&cfg, &p->f->db, &e), e);
	must(keygen_identity_generate(p->ctx, &p->id, &e), e);
	must(idstore_set_local(p->f->db, p->id.pub, sizeof p->id.pub, p->id.priv, sizeof p->id.priv,
	                       p->id.registration_id, &e),
	     e);
	party_open_store(p);
	e2e_party_publish(p, prekeys);
}

/* Close and reopen the profile with a new store context. With a
 * transaction open this is a crash: closing rolls it back. */
void
e2e_party_reopen(struct e2e_party *p)
{
	struct db_config cfg = fixture_config(p->f, p->keyfile);
	struct err e;

	signal_protocol_store_context_destroy(p->store);
	p->store = NULL;
	db_close(p->f->db);
	p->f->db = NULL;
	must(db_open(&cfg, &p->f->db, &e), e);
	party_open_store(p);
}

void
e2e_party_crash(struct e2e_party *p)
{
	assert_true(db_depth(p->f->db) > 0);
	e2e_party_reopen(p);
}

void
e2e_party_close(struct e2e_party *p)
{
	signal_protocol_store_context_destroy(p->store);
	p->store = NULL;
	db_close(p->f->db);
	p->f->db = NULL;
}

void
e2e_party_free(struct e2e_party *p)
{
	signal_protocol_store_context_destroy(p->store);
	fixture_free(p->f);
	free(p->prekeys);
	keygen_identity_wipe(&p->id);
	memset(p, 0, sizeof *p);
}

/* p's bundle as the relay would hand it out: the next unused one-time
 * prekey, or none. */
static struct keygen_bundle
party_bundle(struct e2e_party *p, bool with_prekey)
{
	struct keygen_bundle b;
	uint32_t pk = 0;
	struct err e;

	if (with_prekey) {
		assert_true(p->handed_out < p->n_prekeys);
		pk = p->prekeys[p->handed_out++].id;
	}
	must(keygen_bundle_from_store(p->store, E2E_PARTY_DEVICE, with_prekey, pk, p->signed_id, &b,
	                              &e),
	     e);
	return b;
}

void
e2e_party_build_session(struct e2e_party *from, struct e2e_party *to, bool with_prekey)
{
	struct keygen_bundle b = party_bundle(to, with_prekey);
	struct err e;

	must(e2e_session_build(from->store, from->ctx, to->name, E2E_PARTY_DEVICE, &b, &e), e);
}

/* --- sending and receiving --------------------------------------------- */

/* Pad, encrypt and queue text for to in one transaction with its outgoing
 * history row, as the engine sends. out (may be NULL) gets the ciphertext
 * e2e_encrypt returned. */
void
e2e_party_send(struct e2e_party *from, struct e2e_party *to, const char *client_id,
               const char *text, struct e2e_party_sent *out)
{
	struct db *db = from->f->db;
	struct history_message m = {0};
	struct outbox_item item = {0};
	uint8_t *padded, *ct;
	size_t padded_len, ct_len;
	enum e2e_type type;
	uint32_t regid;
	int64_t conv, msg_id;
	struct err e;

	must(db_begin(db, &e), e);
	must(conversations_direct(db, to->name, &conv, &e), e);
	m.conversation_id = conv;
	m.sender_name = (char *)from->name;
	m.sender_device = E2E_PARTY_DEVICE;
	m.client_id = (char *)client_id;
	m.body = (char *)text;
	must(history_insert_outgoing(db, &m, &msg_id, &e), e);
	must(pad_message((const uint8_t *)text, strlen(text), &padded, &padded_len, &e), e);
	must(e2e_encrypt(from->store, from->ctx, to->name, E2E_PARTY_DEVICE, padded, padded_len,
	                 &type, &ct, &ct_len, &e),
	     e);
	wipe_free(padded, padded_len);
	must(e2e_remote_registration_id(from->store, from->ctx, to->name, E2E_PARTY_DEVICE, &regid,
	                                &e),
	     e);
	item.client_id = (char *)client_id;
	item.message_id = msg_id;
	item.recipient = (char *)to->name;
	item.device_id = E2E_PARTY_DEVICE;
	item.registration_id = regid;
	item.msg_type = (int)type;
	item.ciphertext = ct;
	item.ciphertext_len = ct_len;
	must(outbox_enqueue(db, &item, NULL, &e), e);
	must(db_commit(db, &e), e);
	if (out != NULL) {
		out->client_id = xstrdup(client_id);
		out->type = type;
		out->ct = ct;
		out->len = ct_len;
	} else
		free(ct);
}

void
e2e_party_sent_clear(struct e2e_party_sent *s)
{
	free(s->client_id);
	free(s->ct);
	memset(s, 0, sizeof *s);
}

struct inbound {
	struct db *db;
	const char *from;
	const char *relay_id;
	int64_t conv;
};

/* The decryption callback: unpad and insert into history under the relay
 * id, inside the decrypt's transaction. */
static int
store_incoming(void *arg, const uint8_t *pt, size_t len)
{
	struct inbound *in = arg;
	struct history_message m = {0};
	size_t content_len;
	int64_t id;
	struct err e;
	int rc;

	if (pad_unpad(pt, len, &content_len, &e) != 0)
		return (int)e.code;
	m.conversation_id = in->conv;
	m.sender_name = (char *)in->from;
	m.sender_device = E2E_PARTY_DEVICE;
	m.relay_id = (char *)in->relay_id;
	m.body = xstrndup((const char *)pt, content_len);
	rc = history_insert_incoming(in->db, &m, &id, &e);
	wipe_free_str(m.body);
	return rc == 0 ? 0 : (int)e.code;
}

/* BEGIN IMMEDIATE -> decrypt (history row in the callback) -> COMMIT, or
 * ROLLBACK on failure. 0, or -1 with e filled. E2E_PARTY_LEAVE_OPEN leaves a
 * successful decrypt's transaction open for the caller to crash. */
int
e2e_party_receive(struct e2e_party *to, const char *from, int type, const uint8_t *ct, size_t len,
                  const char *relay_id, enum e2e_party_end end, struct err *e)
{
	struct inbound in = {to->f->db, from, relay_id, 0};
	struct err e2;

	must(db_begin(to->f->db, &e2), e2);
	if (conversations_direct(to->f->db, from, &in.conv, e) != 0 ||
	    e2e_decrypt(to->store, to->ctx, from, E2E_PARTY_DEVICE, (enum e2e_type)type, ct, len,
	                store_incoming, &in, e) != 0) {
		must(db_rollback(to->f->db, &e2), e2);
		return -1;
	}
	if (end == E2E_PARTY_COMMIT)
		return db_commit(to->f->db, e);
	return 0;
}

void
e2e_party_receive_ok(struct e2e_party *to, struct e2e_party *from, const struct e2e_party_sent *s,
                     const char *relay_id)
{
	struct err e;
	must(e2e_party_receive(to, from->name, s->type, s->ct, s->len, relay_id, E2E_PARTY_COMMIT,
	                       &e),
	     e);
}

/* --- reading history back ---------------------------------------------- */

/* Every message of the conversation with peer, oldest first (none if the
 * conversation does not exist). */
size_t
e2e_party_history(struct e2e_party *p, const char *peer, struct history_message **out)
{
	struct history_message *all = NULL, *page;
	size_t n = 0, got;
	int64_t conv, after = 0;
	struct err e;

	*out = NULL;
	if (conversations_find(p->f->db, CONVERSATIONS_DIRECT, peer, &conv, &e) != 0) {
		assert_int_equal(e.code, ERR_NOTFOUND);
		return 0;
	}
	do {
		must(history_page_after(p->f->db, conv, after, 256, &page, &got, &e), e);
		if (got > 0) {
			all = xreallocarray(all, n + got, sizeof *all);
			memcpy(all + n, page, got * sizeof *page);
			n += got;
			after = page[got - 1].id;
		}
		free(page); /* the rows' strings moved to all */
	} while (got > 0);
	*out = all;
	return n;
}

size_t
e2e_party_history_count(struct e2e_party *p, const char *peer)
{
	struct history_message *all;
	size_t n = e2e_party_history(p, peer, &all);

	history_messages_free(all, n);
	return n;
}

/* The newest message with peer must be text, in direction dir. */
void
e2e_party_assert_newest(struct e2e_party *p, const char *peer, enum history_direction dir,
                        const char *text)
{
	struct history_message *page;
	int64_t conv;
	size_t n;
	struct err e;

	must(conversations_find(p->f->db, CONVERSATIONS_DIRECT, peer, &conv, &e), e);
	must(history_page_before(p->f->db, conv, 0, 1, &page, &n, &e), e);
	assert_int_equal(n, 1);
	assert_int_equal(page[0].direction, dir);
	assert_string_equal(page[0].body, text);
	history_messages_free(page, n);
}

/* The foundation's acceptance test: parties with their own SQLCipher
 * profiles talk only through crypto/'s API, committing ratchet state with
 * history and outbox rows the way the engine will, across reopens, crashes
 * before commit, resends, and one-time prekeys running out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/cprov.h"
#include "crypto/e2e.h"
#include "store/db.h"
#include "store/history.h"
#include "store/idstore.h"
#include "store/kdf.h"
#include "store/outbox.h"
#include "store/sigstore.h"
#include "tests/e2e_party.h"
#include "tests/store_fixture.h"

#define must(expr, e)                                                                              \
	do {                                                                                       \
		if ((expr) != 0)                                                                   \
			fail_msg("%s: %s (%s)", #expr, (e).msg, err_code_name((e).code));          \
	} while (0)

static signal_context *gctx;

/* --- the long conversation --------------------------------------------- */

#define CONVO_MESSAGES 1200
#define CONVO_REOPEN_EVERY 150
#define CONVO_MAX_BURST 12
#define CONVO_SEED 0x50770u

struct expected {
	enum history_direction dir;
	const char *text; /* points into convo.texts */
};

struct logbook {
	struct expected *v;
	size_t n;
};

struct convo {
	struct e2e_party alice, bob;
	struct logbook log_alice, log_bob;
	char *texts[CONVO_MESSAGES]; /* by sequence number = client id "m<seq>" */
	uint32_t rng;
	int shuffled; /* deliveries out of order */
	int crossed;  /* rounds with messages in flight both ways */
};

static uint32_t
convo_rand(struct convo *c)
{
	/* xorshift32: a fixed seed gives the same conversation every run. */
	c->rng ^= c->rng << 13;
	c->rng ^= c->rng >> 17;
	c->rng ^= c->rng << 5;
	return c->rng;
}

static void
logbook_add(struct logbook *l, enum history_direction dir, const char *text)
{
	l->v = xreallocarray(l->v, l->n + 1, sizeof *l->v);
	l->v[l->n].dir = dir;
	l->v[l->n].text = text;
	l->n++;
}

/* A line of 0..299 characters of filler after a unique prefix, so padded
 * sizes vary over several blocks. */
static char *
convo_text(struct convo *c, const char *from, int seq)
{
	static const char filler[] = "abcdefghijklmnopqrstuvwxyz ,.!?0123456789";
	size_t extra = convo_rand(c) % 300, n;
	char *s = xasprintf("#%d from %s: ", seq, from);

	n = strlen(s);
	s = xrealloc(s, n + extra + 1);
	for (size_t i = 0; i < extra; i++)
		s[n + i] = filler[convo_rand(c) % (sizeof filler - 1)];
	s[n + extra] = '\0';
	return s;
}

/* The relay: deliver everything pending in from's outbox to to, in queue
 * order or shuffled, checking each message from to's history; then mark
 * the batch sent at from. */
static void
convo_deliver(struct convo *c, struct e2e_party *from, struct e2e_party *to, struct logbook *to_log)
{
	struct outbox_item *items;
	size_t n, *order;
	struct err e;

	must(outbox_list_pending(from->f->db, 1000, &items, &n, &e), e);
	order = xcalloc(n ? n : 1, sizeof *order);
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	if (n > 1 && convo_rand(c) % 4 == 0) {
		c->shuffled++;
		for (size_t i = n; i > 1; i--) {
			size_t j = convo_rand(c) % i, t = order[i - 1];
			order[i - 1] = order[j];
			order[j] = t;
		}
	}
	for (size_t k = 0; k < n; k++) {
		struct outbox_item *it = &items[order[k]];
		int seq = atoi(it->client_id + 1);
		char *relay_id = xasprintf("relay-%s", it->client_id);

		assert_true(seq >= 0 && seq < CONVO_MESSAGES);
		must(e2e_party_receive(to, from->name, it->msg_type, it->ciphertext,
		                       it->ciphertext_len, relay_id, E2E_PARTY_COMMIT, &e),
		     e);
		e2e_party_assert_newest(to, from->name, HISTORY_IN, c->texts[seq]);
		logbook_add(to_log, HISTORY_IN, c->texts[seq]);
		free(relay_id);
	}
	must(db_begin(from->f->db, &e), e);
	for (size_t k = 0; k < n; k++)
		must(outbox_delete(from->f->db, items[k].id, &e), e);
	must(db_commit(from->f->db, &e), e);
	free(order);
	outbox_items_free(items, n);
}

static void
convo_deliver_all(struct convo *c)
{
	struct outbox_item *items;
	size_t na, nb;
	struct err e;

	must(outbox_list_pending(c->alice.f->db, 1, &items, &na, &e), e);
	outbox_items_free(items, na);
	must(outbox_list_pending(c->bob.f->db, 1, &items, &nb, &e), e);
	outbox_items_free(items, nb);
	if (na > 0 && nb > 0)
		c->crossed++;
	if (convo_rand(c) % 2) {
		convo_deliver(c, &c->alice, &c->bob, &c->log_bob);
		convo_deliver(c, &c->bob, &c->alice, &c->log_alice);
	} else {
		convo_deliver(c, &c->bob, &c->alice, &c->log_alice);
		convo_deliver(c, &c->alice, &c->bob, &c->log_bob);
	}
}

/* p's whole history with peer must be exactly the logbook, in order. */
static void
assert_history_is(struct e2e_party *p, const char *peer, const struct logbook *l)
{
	struct history_message *all;
	size_t n = e2e_party_history(p, peer, &all);

	assert_int_equal(n, l->n);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(all[i].direction, l->v[i].dir);
		assert_string_equal(all[i].body, l->v[i].text);
	}
	history_messages_free(all, n);
}

static void
test_e2e_store_thousand_messages_both_ways_survive_reopen(void **state)
{
	struct convo *c = xcalloc(1, sizeof *c);
	int seq = 0, next_reopen = CONVO_REOPEN_EVERY, reopens = 0;
	struct outbox_item *items;
	size_t n;
	struct err e;

	(void)state;
	c->rng = CONVO_SEED;
	e2e_party_new(&c->alice, gctx, "alice", false, 5);
	e2e_party_new(&c->bob, gctx, "bob", false, 5);
	e2e_party_build_session(&c->alice, &c->bob, true);
	while (seq < CONVO_MESSAGES) {
		/* Bob can only speak once Alice's first message reached him. */
		int bob_can = e2e_has_session(c->bob.store, "alice", E2E_PARTY_DEVICE, &e);
		bool from_bob = bob_can == 1 && convo_rand(c) % 2;
		struct e2e_party *from = from_bob ? &c->bob : &c->alice,
		                 *to = from_bob ? &c->alice : &c->bob;
		int burst = 1 + (int)(convo_rand(c) % CONVO_MAX_BURST);

		assert_true(bob_can >= 0);
		for (int i = 0; i < burst && seq < CONVO_MESSAGES; i++, seq++) {
			char cid[16];

			snprintf(cid, sizeof cid, "m%d", seq);
			c->texts[seq] = convo_text(c, from->name, seq);
			e2e_party_send(from, to, cid, c->texts[seq], NULL);
			logbook_add(from_bob ? &c->log_bob : &c->log_alice, HISTORY_OUT,
			            c->texts[seq]);
		}
		/* Both close mid-conversation, with messages still in flight. */
		if (seq >= next_reopen) {
			e2e_party_reopen(&c->alice);
			e2e_party_reopen(&c->bob);
			next_reopen += CONVO_REOPEN_EVERY;
			reopens++;
		}
		/* Sometimes both sides send before either hears the other. */
		if (convo_rand(c) % 3 != 0 || seq == CONVO_MESSAGES)
			convo_deliver_all(c);
	}
	assert_true(reopens >= CONVO_MESSAGES / CONVO_REOPEN_EVERY - 1);
	/* The seed gives the cases the test is about. */
	assert_true(c->shuffled > 0);
	assert_true(c->crossed > 0);
	assert_int_equal(c->log_alice.n, CONVO_MESSAGES);
	assert_int_equal(c->log_bob.n, CONVO_MESSAGES);
	e2e_party_reopen(&c->alice);
	e2e_party_reopen(&c->bob);
	assert_history_is(&c->alice, "bob", &c->log_alice);
	assert_history_is(&c->bob, "alice", &c->log_bob);
	must(outbox_list_pending(c->alice.f->db, 10, &items, &n, &e), e);
	assert_int_equal(n, 0);
	outbox_items_free(items, n);

	for (int i = 0; i < CONVO_MESSAGES; i++)
		free(c->texts[i]);
	free(c->log_alice.v);
	free(c->log_bob.v);
	e2e_party_free(&c->alice);
	e2e_party_free(&c->bob);
	free(c);
}

/* --- crash before commit ----------------------------------------------- */

/* What a crash must leave untouched at p for peer. */
struct snapshot {
	bool has_session;
	signal_buffer *session;
	int64_t prekeys;
	unsigned char *peer_key;
	size_t peer_key_len;
	size_t history;
};

static struct snapshot
snapshot_take(struct e2e_party *p, const char *peer)
{
	signal_protocol_address addr = {peer, strlen(peer), E2E_PARTY_DEVICE};
	struct sigstore_callbacks cb;
	struct snapshot s = {0};
	signal_buffer *user = NULL;
	bool verified;
	int rc;
	struct err e;

	sigstore_callbacks_init(&cb, p->f->db);
	rc = cb.session.load_session_func(&s.session, &user, &addr, cb.session.user_data);
	assert_true(rc == 0 || rc == 1);
	s.has_session = rc == 1;
	signal_buffer_free(user);
	must(sigstore_prekey_count(p->f->db, &s.prekeys, &e), e);
	if (idstore_get(p->f->db, peer, E2E_PARTY_DEVICE, &s.peer_key, &s.peer_key_len, &verified,
	                &e) != 0)
		assert_int_equal(e.code, ERR_NOTFOUND);
	s.history = e2e_party_history_count(p, peer);
	return s;
}

static void
snapshot_free(struct snapshot *s)
{
	signal_buffer_bzero_free(s->session);
	free(s->peer_key);
	memset(s, 0, sizeof *s);
}

static void
assert_snapshot_equal(const struct snapshot *a, const struct snapshot *b)
{
	assert_int_equal(a->has_session, b->has_session);
	if (a->has_session) {
		assert_int_equal(signal_buffer_len(a->session), signal_buffer_len(b->session));
		assert_memory_equal(signal_buffer_data(a->session), signal_buffer_data(b->session),
		                    signal_buffer_len(a->session));
	}
	assert_int_equal(a->prekeys, b->prekeys);
	assert_int_equal(a->peer_key_len, b->peer_key_len);
	if (a->peer_key_len > 0)
		assert_memory_equal(a->peer_key, b->peer_key, a->peer_key_len);
	assert_int_equal(a->history, b->history);
}

/* to decrypts s but crashes before COMMIT: nothing of it may survive. The
 * same bytes then decrypt and commit; a third delivery is a duplicate and
 * the message is in history once. */
static void
crash_then_redeliver(struct e2e_party *to, struct e2e_party *from, const struct e2e_party_sent *s,
                     const char *text)
{
	struct snapshot before = snapshot_take(to, from->name), after;
	char *relay_id = xasprintf("relay-%s", s->client_id);
	struct err e;

	must(e2e_party_receive(to, from->name, s->type, s->ct, s->len, relay_id,
	                       E2E_PARTY_LEAVE_OPEN, &e),
	     e);
	/* Inside the open transaction the message is there: the crash loses
	 * something real. */
	assert_int_equal(e2e_party_history_count(to, from->name), before.history + 1);
	e2e_party_crash(to);
	after = snapshot_take(to, from->name);
	assert_snapshot_equal(&before, &after);
	snapshot_free(&after);

	e2e_party_receive_ok(to, from, s, relay_id);
	e2e_party_assert_newest(to, from->name, HISTORY_IN, text);
	assert_int_equal(e2e_party_history_count(to, from->name), before.history + 1);
	after = snapshot_take(to, from->name);
	assert_true(after.has_session);

	assert_int_equal(e2e_party_receive(to, from->name, s->type, s->ct, s->len, relay_id,
	                                   E2E_PARTY_COMMIT, &e),
	                 -1);
	assert_int_equal(e.code, ERR_DUPLICATE);
	{
		struct snapshot dup = snapshot_take(to, from->name);
		assert_snapshot_equal(&after, &dup);
		snapshot_free(&dup);
	}
	snapshot_free(&after);
	snapshot_free(&before);
	free(relay_id);
}

static void
test_e2e_store_crash_before_commit_redecrypts(void **state)
{
	struct e2e_party alice, bob;
	struct e2e_party_sent s[6] = {{0}};
	struct snapshot snap;
	unsigned char *key;
	size_t key_len;
	bool verified;
	struct err e;

	(void)state;
	e2e_party_new(&alice, gctx, "alice", false, 1);
	e2e_party_new(&bob, gctx, "bob", false, 3);
	e2e_party_build_session(&alice, &bob, true);

	/* A prekey message: the crash must also undo the new session, the
	 * consumed one-time prekey and Alice's saved identity. */
	e2e_party_send(&alice, &bob, "a0", "first words", &s[0]);
	assert_int_equal(s[0].type, E2E_PREKEY);
	crash_then_redeliver(&bob, &alice, &s[0], "first words");
	snap = snapshot_take(&bob, "alice");
	assert_int_equal(snap.prekeys, 2);
	snapshot_free(&snap);
	must(idstore_get(bob.f->db, "alice", E2E_PARTY_DEVICE, &key, &key_len, &verified, &e), e);
	assert_int_equal(key_len, sizeof alice.id.pub);
	assert_memory_equal(key, alice.id.pub, key_len);
	free(key);

	/* The session the redelivery built is sound: Bob answers. */
	e2e_party_send(&bob, &alice, "b0", "welcome", &s[1]);
	assert_int_equal(s[1].type, E2E_NORMAL);
	e2e_party_receive_ok(&alice, &bob, &s[1], "relay-b0");

	/* A normal message in the middle of a chain. */
	e2e_party_send(&alice, &bob, "a1", "one", &s[2]);
	e2e_party_send(&alice, &bob, "a2", "two", &s[3]);
	e2e_party_send(&alice, &bob, "a3", "three", &s[4]);
	e2e_party_receive_ok(&bob, &alice, &s[2], "relay-a1");
	crash_then_redeliver(&bob, &alice, &s[3], "two");
	e2e_party_receive_ok(&bob, &alice, &s[4], "relay-a3");
	e2e_party_assert_newest(&bob, "alice", HISTORY_IN, "three");

	/* A message decrypted from a skipped key (it arrives after a later
	 * one): the crash must give the key back. */
	e2e_party_send(&alice, &bob, "a4", "four", &s[5]);
	e2e_party_sent_clear(&s[0]);
	e2e_party_send(&alice, &bob, "a5", "five", &s[0]);
	e2e_party_receive_ok(&bob, &alice, &s[0], "relay-a5");
	crash_then_redeliver(&bob, &alice, &s[5], "four");
	assert_int_equal(e2e_party_history_count(&bob, "alice"), 7); /* 6 in, 1 out */

	for (size_t i = 0; i < sizeof s / sizeof s[0]; i++)
		e2e_party_sent_clear(&s[i]);
	e2e_party_free(&alice);
	e2e_party_free(&bob);
}

/* --- nothing readable on disk ------------------------------------------ */

#define CANARY "sotto-canary: the eagle lands at 0400, bring the blue umbrella"

/* No file of p's database may hold needle. */
static void
assert_db_files_lack(struct e2e_party *p, const void *needle, size_t len, const char *what)
{
	static const char *const files[] = {DB_FILE, DB_FILE "-wal", DB_FILE "-shm"};

	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		char *path = fixture_path(p->f, files[i]);
		if (fixture_file_contains(path, needle, len))
			fail_msg("%s of %s found in %s", what, p->name, path);
		free(path);
	}
}

static void
assert_no_secret_on_disk(struct e2e_party *p, const struct e2e_party *peer)
{
	unsigned char key[KDF_KEY_LEN], *hex;
	char *key_path = fixture_path(p->f, KDF_KEY_FILE);
	size_t hex_len;
	struct err e;

	must(kdf_keyfile_read(key_path, key, &e), e);
	hex = fixture_slurp(key_path, &hex_len);
	assert_non_null(hex);
	while (hex_len > 0 && (hex[hex_len - 1] == '\n' || hex[hex_len - 1] == '\r'))
		hex_len--;
	assert_int_equal(hex_len, 2 * KDF_KEY_LEN);
	/* The scanner finds what is there: the key file holds the hex key. */
	assert_true(fixture_file_contains(key_path, hex, hex_len));

	/* SQLCipher encrypts page 1 too: not even SQLite's magic is there. */
	assert_db_files_lack(p, "SQLite format 3", 15, "the SQLite header");
	assert_db_files_lack(p, CANARY, strlen(CANARY), "the plaintext");
	/* A shorter run too, in case a row was split across pages. */
	assert_db_files_lack(p, "eagle lands", 11, "part of the plaintext");
	assert_db_files_lack(p, p->id.priv, sizeof p->id.priv, "the identity private key");
	assert_db_files_lack(p, peer->id.priv, sizeof peer->id.priv, "the peer's private key");
	assert_db_files_lack(p, key, sizeof key, "the database key");
	assert_db_files_lack(p, hex, hex_len, "the database key in hex");
	wipe(key, sizeof key);
	wipe_free(hex, hex_len);
	free(key_path);
}

static void
test_e2e_store_db_file_holds_no_plaintext_or_keys(void **state)
{
	struct e2e_party alice, bob;
	struct e2e_party_sent s = {0};
	struct history_message *found;
	char cid[16];
	size_t n;
	struct err e;

	(void)state;
	e2e_party_new(&alice, gctx, "alice", true, 2);
	e2e_party_new(&bob, gctx, "bob", true, 2);
	e2e_party_build_session(&alice, &bob, true);
	for (int i = 0; i < 6; i++) {
		struct e2e_party *from = i % 2 ? &bob : &alice, *to = i % 2 ? &alice : &bob;

		snprintf(cid, sizeof cid, "c%d", i);
		e2e_party_send(from, to, cid, CANARY, &s);
		snprintf(cid, sizeof cid, "relay-c%d", i);
		e2e_party_receive_ok(to, from, &s, cid);
		e2e_party_sent_clear(&s);
	}
	/* While open, with the WAL holding the latest commits... */
	{
		char *wal = fixture_path(bob.f, DB_FILE "-wal");
		unsigned char *bytes = fixture_slurp(wal, &n);

		assert_non_null(bytes);
		assert_true(n > 0);
		free(bytes);
		free(wal);
	}
	assert_no_secret_on_disk(&alice, &bob);
	assert_no_secret_on_disk(&bob, &alice);
	/* ...and after a clean close. */
	e2e_party_close(&alice);
	e2e_party_close(&bob);
	assert_no_secret_on_disk(&alice, &bob);
	assert_no_secret_on_disk(&bob, &alice);

	/* The text was stored, just not readably. */
	e2e_party_reopen(&bob);
	must(history_search(bob.f->db, 0, "eagle lands", 10, &found, &n, &e), e);
	assert_int_equal(n, 6);
	history_messages_free(found, n);
	e2e_party_free(&alice);
	e2e_party_free(&bob);
}

/* --- running out of one-time prekeys ----------------------------------- */

/* from starts a session from to's bundle (with or without a one-time
 * prekey) and they exchange a message each way. */
static void
converse(struct e2e_party *from, struct e2e_party *to, bool with_prekey, const char *tag)
{
	struct e2e_party_sent s = {0};
	char *hello = xasprintf("hello from %s (%s)", from->name, tag);
	char *reply = xasprintf("hello %s, this is %s", from->name, to->name);
	char *cid = xasprintf("%s-%s-1", tag, from->name);

	e2e_party_build_session(from, to, with_prekey);
	e2e_party_send(from, to, cid, hello, &s);
	assert_int_equal(s.type, E2E_PREKEY);
	e2e_party_receive_ok(to, from, &s, cid);
	e2e_party_assert_newest(to, from->name, HISTORY_IN, hello);
	e2e_party_sent_clear(&s);
	cid[strlen(cid) - 1] = '2';
	e2e_party_send(to, from, cid, reply, &s);
	e2e_party_receive_ok(from, to, &s, cid);
	e2e_party_assert_newest(from, to->name, HISTORY_IN, reply);
	e2e_party_sent_clear(&s);
	free(hello);
	free(reply);
	free(cid);
}

static void
test_e2e_store_signed_prekey_fallback_when_one_time_keys_run_out(void **state)
{
	struct e2e_party alice, dave, carol, erin, bob;
	int64_t left;
	struct err e;

	(void)state;
	e2e_party_new(&bob, gctx, "bob", false, 2);
	e2e_party_new(&alice, gctx, "alice", false, 1);
	e2e_party_new(&dave, gctx, "dave", false, 1);
	e2e_party_new(&carol, gctx, "carol", false, 1);
	e2e_party_new(&erin, gctx, "erin", false, 1);

	converse(&alice, &bob, true, "t1");
	converse(&dave, &bob, true, "t2");
	must(sigstore_prekey_count(bob.f->db, &left, &e), e);
	assert_int_equal(left, 0);

	/* The relay has no one-time key left: the bundle carries none. */
	converse(&carol, &bob, false, "t3");
	e2e_party_reopen(&bob);
	e2e_party_reopen(&carol);
	/* And the other way, on Carol's signed prekey alone. */
	converse(&bob, &carol, false, "t4");

	/* A refill after reopening continues the persisted id counter: keys
	 * that may still be outstanding are never reused. */
	e2e_party_publish(&bob, 2);
	assert_int_equal(bob.n_prekeys, 4);
	assert_int_equal(bob.prekeys[2].id, bob.prekeys[1].id + 1);
	assert_int_equal(bob.prekeys[3].id, bob.prekeys[1].id + 2);
	converse(&erin, &bob, true, "t5");

	e2e_party_free(&alice);
	e2e_party_free(&dave);
	e2e_party_free(&carol);
	e2e_party_free(&erin);
	e2e_party_free(&bob);
}

/* --- the outbox holds the exact ciphertext ----------------------------- */

/* from sends text; the queued bytes are what e2e_encrypt returned, they
 * survive a crash of the sender, they decrypt at to, and sending them again
 * after another crash (the relay's ack was lost) is only a duplicate. */
static void
send_crash_resend(struct e2e_party *from, struct e2e_party *to, const char *cid, const char *text,
                  enum e2e_type type)
{
	struct e2e_party_sent s = {0};
	struct outbox_item *items;
	char *relay_id;
	size_t n;
	struct err e;

	e2e_party_send(from, to, cid, text, &s);
	assert_int_equal(s.type, type);
	e2e_party_reopen(from);
	must(outbox_list_pending(from->f->db, 10, &items, &n, &e), e);
	assert_int_equal(n, 1);
	assert_string_equal(items[0].client_id, cid);
	assert_string_equal(items[0].recipient, to->name);
	assert_int_equal(items[0].device_id, E2E_PARTY_DEVICE);
	assert_int_equal(items[0].registration_id, to->id.registration_id);
	assert_int_equal(items[0].msg_type, (int)type);
	assert_int_equal(items[0].ciphertext_len, s.len);
	assert_memory_equal(items[0].ciphertext, s.ct, s.len);

	relay_id = xasprintf("relay-%s", cid);
	must(e2e_party_receive(to, from->name, items[0].msg_type, items[0].ciphertext,
	                       items[0].ciphertext_len, relay_id, E2E_PARTY_COMMIT, &e),
	     e);
	e2e_party_assert_newest(to, from->name, HISTORY_IN, text);
	outbox_items_free(items, n);
	free(relay_id);

	/* Crash before the relay's ack was recorded: still pending, same
	 * bytes; the relay delivers them again under a new id. */
	e2e_party_reopen(from);
	e2e_party_reopen(to);
	must(outbox_list_pending(from->f->db, 10, &items, &n, &e), e);
	assert_int_equal(n, 1);
	assert_memory_equal(items[0].ciphertext, s.ct, s.len);
	relay_id = xasprintf("relay-%s-again", cid);
	{
		size_t before = e2e_party_history_count(to, from->name);
		assert_int_equal(e2e_party_receive(to, from->name, items[0].msg_type,
		                                   items[0].ciphertext, items[0].ciphertext_len,
		                                   relay_id, E2E_PARTY_COMMIT, &e),
		                 -1);
		assert_int_equal(e.code, ERR_DUPLICATE);
		assert_int_equal(e2e_party_history_count(to, from->name), before);
	}
	must(outbox_delete(from->f->db, items[0].id, &e), e);
	outbox_items_free(items, n);
	free(relay_id);
	e2e_party_sent_clear(&s);
}

static void
test_e2e_store_outbox_holds_exact_ciphertext(void **state)
{
	struct e2e_party alice, bob;
	struct outbox_item *items;
	size_t n;
	struct err e;

	(void)state;
	e2e_party_new(&alice, gctx, "alice", false, 1);
	e2e_party_new(&bob, gctx, "bob", false, 1);
	e2e_party_build_session(&alice, &bob, true);
	send_crash_resend(&alice, &bob, "o1", "outbox one", E2E_PREKEY);
	send_crash_resend(&bob, &alice, "o2", "outbox two", E2E_NORMAL);
	send_crash_resend(&alice, &bob, "o3", "outbox three", E2E_NORMAL);
	must(outbox_list_pending(alice.f->db, 10, &items, &n, &e), e);
	assert_int_equal(n, 0);
	outbox_items_free(items, n);
	assert_int_equal(e2e_party_history_count(&alice, "bob"), 3);
	assert_int_equal(e2e_party_history_count(&bob, "alice"), 3);
	e2e_party_free(&alice);
	e2e_party_free(&bob);
}

static int
group_setup(void **state)
{
	struct err e;

	(void)state;
	return cprov_context_create(&gctx, &e);
}

static int
group_teardown(void **state)
{
	(void)state;
	cprov_context_destroy(gctx);
	gctx = NULL;
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_e2e_store_thousand_messages_both_ways_survive_reopen),
	    cmocka_unit_test(test_e2e_store_crash_before_commit_redecrypts),
	    cmocka_unit_test(test_e2e_store_db_file_holds_no_plaintext_or_keys),
	    cmocka_unit_test(test_e2e_store_signed_prekey_fallback_when_one_time_keys_run_out),
	    cmocka_unit_test(test_e2e_store_outbox_holds_exact_ciphertext),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

/* Tests for crypto/e2e with two parties, Alice and Bob, in one process over
 * in-memory stores: session setup, long interleaved conversations, skipped
 * and duplicate messages, the 2000-message limit, tampering, a refusing
 * plaintext handler, prekey edge cases and hostile input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <signal/protocol.h>

#include "crypto/cprov.h"
#include "crypto/e2e.h"
#include "crypto/keygen.h"
#include "crypto/pad.h"
#include "tests/memstore.h"

#define DEVICE 1
#define NUM_PREKEYS 5

struct party {
	const char *name;
	struct keygen_identity id;
	struct memstore *ms;
	signal_protocol_store_context *store;
	struct keygen_prekey_pub *prekeys;
	struct keygen_signed_prekey_pub spk;
};

struct fixture {
	signal_context *ctx;
	struct party alice, bob;
};

/* One encrypted message in flight. */
struct wire_msg {
	enum e2e_type type;
	uint8_t *ct;
	size_t len;
};

/* What the plaintext handler saw, and what it should answer. */
struct received {
	uint8_t *pt;
	size_t len;
	int calls;
	int refuse; /* return this instead of 0 */
};

static void
party_init(struct fixture *f, struct party *p, const char *name)
{
	uint32_t next_pk = 1, next_spk = 1;
	struct err e;

	p->name = name;
	assert_int_equal(keygen_identity_generate(f->ctx, &p->id, &e), 0);
	p->ms = memstore_create(f->ctx, p->id.pub, sizeof p->id.pub, p->id.priv, sizeof p->id.priv,
	                        p->id.registration_id);
	assert_non_null(p->ms);
	p->store = memstore_context(p->ms);
	assert_int_equal(
	    keygen_prekeys_generate(p->store, f->ctx, &next_pk, NUM_PREKEYS, &p->prekeys, &e), 0);
	assert_int_equal(
	    keygen_signed_prekey_generate(p->store, f->ctx, &next_spk, 1000, &p->spk, &e), 0);
}

static void
party_free(struct party *p)
{
	memstore_destroy(p->ms);
	free(p->prekeys);
	keygen_identity_wipe(&p->id);
	memset(p, 0, sizeof *p);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	struct err e;

	if (f == NULL || cprov_context_create(&f->ctx, &e) != 0)
		return -1;
	party_init(f, &f->alice, "alice");
	party_init(f, &f->bob, "bob");
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	party_free(&f->alice);
	party_free(&f->bob);
	cprov_context_destroy(f->ctx);
	free(f);
	return 0;
}

static struct keygen_bundle
bundle_of(struct party *p, int prekey_index)
{
	struct keygen_bundle b;
	struct err e;
	assert_int_equal(
	    keygen_bundle_from_store(p->store, DEVICE, prekey_index >= 0,
	                             prekey_index >= 0 ? p->prekeys[prekey_index].id : 0, p->spk.id,
	                             &b, &e),
	    0);
	return b;
}

static int
on_plaintext(void *arg, const uint8_t *pt, size_t len)
{
	struct received *r = arg;
	r->calls++;
	if (r->refuse)
		return r->refuse;
	free(r->pt);
	r->pt = malloc(len ? len : 1);
	assert_non_null(r->pt);
	memcpy(r->pt, pt, len);
	r->len = len;
	return 0;
}

static struct wire_msg
encrypt_to(struct fixture *f, struct party *from, struct party *to, const void *pt, size_t len)
{
	struct wire_msg m;
	struct err e;
	assert_int_equal(
	    e2e_encrypt(from->store, f->ctx, to->name, DEVICE, pt, len, &m.type, &m.ct, &m.len, &e),
	    0);
	return m;
}

/* Decrypt at to; returns 0 or the err code. Received text goes to *r. */
static int
deliver(struct fixture *f, struct party *from, struct party *to, const struct wire_msg *m,
        struct received *r)
{
	struct err e;
	if (e2e_decrypt(to->store, f->ctx, from->name, DEVICE, m->type, m->ct, m->len, on_plaintext,
	                r, &e) == 0)
		return 0;
	assert_int_not_equal(e.code, ERR_OK);
	return (int)e.code;
}

static void
deliver_ok(struct fixture *f, struct party *from, struct party *to, const struct wire_msg *m,
           const void *expect, size_t expect_len)
{
	struct received r = {0};
	assert_int_equal(deliver(f, from, to, m, &r), 0);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.len, expect_len);
	assert_memory_equal(r.pt, expect, expect_len);
	free(r.pt);
}

static void
msg_free(struct wire_msg *m)
{
	free(m->ct);
	m->ct = NULL;
}

/* Alice builds from Bob's bundle, says hello, Bob answers: a session that
 * both sides have confirmed. */
static void
establish(struct fixture *f)
{
	struct keygen_bundle b = bundle_of(&f->bob, 0);
	struct wire_msg m;
	struct err e;

	assert_int_equal(e2e_session_build(f->alice.store, f->ctx, "bob", DEVICE, &b, &e), 0);
	m = encrypt_to(f, &f->alice, &f->bob, "hello", 5);
	assert_int_equal(m.type, E2E_PREKEY);
	deliver_ok(f, &f->alice, &f->bob, &m, "hello", 5);
	msg_free(&m);
	m = encrypt_to(f, &f->bob, &f->alice, "hi", 2);
	assert_int_equal(m.type, E2E_NORMAL);
	deliver_ok(f, &f->bob, &f->alice, &m, "hi", 2);
	msg_free(&m);
}

/* Bob's record for Alice, to compare before and after a refused message. */
struct snapshot {
	int present;
	uint8_t *rec;
	size_t len;
	unsigned long writes;
	size_t prekeys;
};

static struct snapshot
snap(struct party *p, const char *peer)
{
	struct snapshot s = {0};
	s.present = memstore_session_snapshot(p->ms, peer, DEVICE, &s.rec, &s.len);
	s.writes = memstore_session_writes(p->ms);
	s.prekeys = memstore_pre_key_count(p->ms);
	return s;
}

static void
assert_unchanged(struct snapshot *before, struct party *p, const char *peer)
{
	struct snapshot now = snap(p, peer);
	assert_int_equal(now.present, before->present);
	assert_int_equal(now.writes, before->writes);
	assert_int_equal(now.prekeys, before->prekeys);
	if (now.present) {
		assert_int_equal(now.len, before->len);
		assert_memory_equal(now.rec, before->rec, now.len);
	}
	free(now.rec);
	free(before->rec);
	before->rec = NULL;
}

static void
test_e2e_session_from_bundle_uses_prekey_message_until_answered(void **state)
{
	struct fixture *f = *state;
	struct keygen_bundle b = bundle_of(&f->bob, 2);
	struct wire_msg m;
	uint32_t reg = 0;
	struct err e;

	assert_int_equal(e2e_has_session(f->alice.store, "bob", DEVICE, &e), 0);
	assert_int_equal(e2e_session_build(f->alice.store, f->ctx, "bob", DEVICE, &b, &e), 0);
	assert_int_equal(e2e_has_session(f->alice.store, "bob", DEVICE, &e), 1);
	assert_int_equal(e2e_has_session(f->bob.store, "alice", DEVICE, &e), 0);

	m = encrypt_to(f, &f->alice, &f->bob, "one", 3);
	assert_int_equal(m.type, E2E_PREKEY);
	deliver_ok(f, &f->alice, &f->bob, &m, "one", 3);
	msg_free(&m);
	/* The one-time prekey is consumed. */
	assert_int_equal(memstore_pre_key_count(f->bob.ms), NUM_PREKEYS - 1);
	assert_int_equal(signal_protocol_pre_key_contains_key(f->bob.store, f->bob.prekeys[2].id),
	                 0);
	assert_int_equal(e2e_has_session(f->bob.store, "alice", DEVICE, &e), 1);

	/* Still unanswered: Alice keeps sending prekey messages. */
	m = encrypt_to(f, &f->alice, &f->bob, "two", 3);
	assert_int_equal(m.type, E2E_PREKEY);
	deliver_ok(f, &f->alice, &f->bob, &m, "two", 3);
	msg_free(&m);

	m = encrypt_to(f, &f->bob, &f->alice, "ack", 3);
	assert_int_equal(m.type, E2E_NORMAL);
	deliver_ok(f, &f->bob, &f->alice, &m, "ack", 3);
	msg_free(&m);

	m = encrypt_to(f, &f->alice, &f->bob, "three", 5);
	assert_int_equal(m.type, E2E_NORMAL);
	deliver_ok(f, &f->alice, &f->bob, &m, "three", 5);
	msg_free(&m);

	assert_int_equal(
	    e2e_remote_registration_id(f->alice.store, f->ctx, "bob", DEVICE, &reg, &e), 0);
	assert_int_equal(reg, f->bob.id.registration_id);
	assert_int_equal(
	    e2e_remote_registration_id(f->bob.store, f->ctx, "alice", DEVICE, &reg, &e), 0);
	assert_int_equal(reg, f->alice.id.registration_id);
}

/* xorshift64*: a fixed, portable sequence for burst lengths and sizes. */
static uint64_t
rng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

static void
test_e2e_thousand_messages_in_random_bursts_all_decrypt(void **state)
{
	struct fixture *f = *state;
	uint64_t seed = 0x5eed5eed12345678ULL;
	struct keygen_bundle b = bundle_of(&f->bob, 0);
	uint8_t content[600];
	struct err e;
	int sent = 0;

	assert_int_equal(e2e_session_build(f->alice.store, f->ctx, "bob", DEVICE, &b, &e), 0);
	while (sent < 1000) {
		int alice_speaks = sent == 0 || (rng_next(&seed) & 1);
		int burst = 1 + (int)(rng_next(&seed) % 8), i;
		struct party *from = alice_speaks ? &f->alice : &f->bob;
		struct party *to = alice_speaks ? &f->bob : &f->alice;

		for (i = 0; i < burst && sent < 1000; i++, sent++) {
			size_t len = rng_next(&seed) % sizeof content, j, padded_len, back;
			uint8_t *padded;
			struct received r = {0};
			struct wire_msg m;

			for (j = 0; j < len; j++)
				content[j] = (uint8_t)rng_next(&seed);
			/* The way the client will use it: pad, encrypt, decrypt, unpad. */
			assert_int_equal(pad_message(content, len, &padded, &padded_len, &e), 0);
			m = encrypt_to(f, from, to, padded, padded_len);
			free(padded);
			assert_int_equal(deliver(f, from, to, &m, &r), 0);
			assert_int_equal(pad_unpad(r.pt, r.len, &back, &e), 0);
			assert_int_equal(back, len);
			assert_memory_equal(r.pt, content, len);
			free(r.pt);
			msg_free(&m);
		}
	}
}

static void
test_e2e_out_of_order_within_window_then_duplicates_refused(void **state)
{
	struct fixture *f = *state;
	static const int order[10] = {3, 0, 9, 1, 7, 2, 8, 5, 4, 6};
	struct wire_msg m[10];
	char text[10][8];
	struct received r = {0};
	struct snapshot s;
	int i;

	establish(f);
	for (i = 0; i < 10; i++) {
		snprintf(text[i], sizeof text[i], "msg %d", i);
		m[i] = encrypt_to(f, &f->alice, &f->bob, text[i], strlen(text[i]));
	}
	for (i = 0; i < 10; i++)
		deliver_ok(f, &f->alice, &f->bob, &m[order[i]], text[order[i]],
		           strlen(text[order[i]]));
	for (i = 0; i < 10; i++) {
		s = snap(&f->bob, "alice");
		assert_int_equal(deliver(f, &f->alice, &f->bob, &m[i], &r), ERR_DUPLICATE);
		assert_int_equal(r.calls, 0);
		assert_unchanged(&s, &f->bob, "alice");
	}
	for (i = 0; i < 10; i++)
		msg_free(&m[i]);
}

static void
test_e2e_redelivered_first_prekey_message_is_duplicate(void **state)
{
	struct fixture *f = *state;
	struct keygen_bundle b = bundle_of(&f->bob, 1);
	struct received r = {0};
	struct wire_msg first, reply;
	struct err e;

	assert_int_equal(e2e_session_build(f->alice.store, f->ctx, "bob", DEVICE, &b, &e), 0);
	first = encrypt_to(f, &f->alice, &f->bob, "first", 5);
	deliver_ok(f, &f->alice, &f->bob, &first, "first", 5);
	assert_int_equal(deliver(f, &f->alice, &f->bob, &first, &r), ERR_DUPLICATE);
	/* Also after the session moved on in both directions. */
	reply = encrypt_to(f, &f->bob, &f->alice, "reply", 5);
	deliver_ok(f, &f->bob, &f->alice, &reply, "reply", 5);
	assert_int_equal(deliver(f, &f->alice, &f->bob, &first, &r), ERR_DUPLICATE);
	assert_int_equal(r.calls, 0);
	msg_free(&first);
	msg_free(&reply);
}

/* libsignal keeps at most 2000 skipped keys: a message 2001 ahead is
 * refused without touching the session, one exactly 2000 ahead is fine. */
static void
test_e2e_counter_jump_beyond_2000_refused_without_state_change(void **state)
{
	struct fixture *f = *state;
	enum { N = E2E_MAX_SKIP + 2 };
	struct wire_msg *m = calloc(N, sizeof *m);
	struct received r = {0};
	struct snapshot s;
	int i;

	assert_non_null(m);
	establish(f);
	for (i = 0; i < N; i++)
		m[i] = encrypt_to(f, &f->alice, &f->bob, &i, sizeof i);

	s = snap(&f->bob, "alice");
	assert_int_equal(deliver(f, &f->alice, &f->bob, &m[N - 1], &r), ERR_LIMIT);
	assert_int_equal(r.calls, 0);
	assert_unchanged(&s, &f->bob, "alice");

	i = N - 2;
	deliver_ok(f, &f->alice, &f->bob, &m[N - 2], &i, sizeof i);
	i = N - 1;
	deliver_ok(f, &f->alice, &f->bob, &m[N - 1], &i, sizeof i);
	/* Skipped ones are still readable from the stored keys. */
	i = 5;
	deliver_ok(f, &f->alice, &f->bob, &m[5], &i, sizeof i);
	for (i = 0; i < N; i++)
		msg_free(&m[i]);
	free(m);
}

/* The same limit for a brand-new chain: a prekey message whose counter is
 * past 2000 because 2001 earlier ones were lost. */
static void
test_e2e_counter_jump_in_first_prekey_chain_refused(void **state)
{
	struct fixture *f = *state;
	enum { N = E2E_MAX_SKIP + 2 };
	struct keygen_bundle b = bundle_of(&f->bob, 0);
	struct wire_msg last = {0};
	struct received r = {0};
	struct snapshot s;
	struct err e;
	int i;

	assert_int_equal(e2e_session_build(f->alice.store, f->ctx, "bob", DEVICE, &b, &e), 0);
	for (i = 0; i < N; i++) {
		msg_free(&last);
		last = encrypt_to(f, &f->alice, &f->bob, "x", 1);
	}
	assert_int_equal(last.type, E2E_PREKEY);
	s = snap(&f->bob, "alice");
	assert_int_equal(deliver(f, &f->alice, &f->bob, &last, &r), ERR_LIMIT);
	assert_unchanged(&s, &f->bob, "alice");
	msg_free(&last);
}

/* Flip a bit in the body, in the MAC, or cut bytes off: refused, Bob's
 * record byte-identical, and the real message still decrypts after. */
static void
test_e2e_tampered_message_refused_and_leaves_session_untouched(void **state)
{
	struct fixture *f = *state;
	struct wire_msg m, bad;
	struct received r = {0};
	struct snapshot s;
	int variant, code;

	establish(f);
	m = encrypt_to(f, &f->alice, &f->bob, "attack at dawn", 14);
	assert_true(m.len > 20);
	for (variant = 0; variant < 4; variant++) {
		bad.type = m.type;
		bad.ct = malloc(m.len);
		assert_non_null(bad.ct);
		memcpy(bad.ct, m.ct, m.len);
		bad.len = m.len;
		switch (variant) {
		case 0: /* last ciphertext byte, just before the 8-byte MAC */
			bad.ct[m.len - 9] ^= 0x01;
			break;
		case 1: /* inside the MAC */
			bad.ct[m.len - 1] ^= 0x80;
			break;
		case 2:
			bad.len = m.len - 1;
			break;
		default:
			bad.len = m.len / 2;
			break;
		}
		s = snap(&f->bob, "alice");
		code = deliver(f, &f->alice, &f->bob, &bad, &r);
		if (variant < 2)
			assert_int_equal(code, ERR_CRYPTO);
		else
			assert_int_equal(code, ERR_INVALID);
		assert_int_equal(r.calls, 0);
		assert_unchanged(&s, &f->bob, "alice");
		msg_free(&bad);
	}
	deliver_ok(f, &f->alice, &f->bob, &m, "attack at dawn", 14);
	msg_free(&m);
}

/* Flip a bit in the MAC of the signal message inside a prekey message. The
 * inner message is not at the end of the encoding, so find it. */
static void
flip_inner_mac(struct fixture *f, struct wire_msg *m)
{
	pre_key_signal_message *pm = NULL;
	signal_buffer *inner;
	uint8_t *at;

	assert_int_equal(pre_key_signal_message_deserialize(&pm, m->ct, m->len, f->ctx), 0);
	inner = ciphertext_message_get_serialized(
	    (ciphertext_message *)pre_key_signal_message_get_signal_message(pm));
	at = memmem(m->ct, m->len, signal_buffer_data(inner), signal_buffer_len(inner));
	assert_non_null(at);
	at[signal_buffer_len(inner) - 1] ^= 0x10;
	SIGNAL_UNREF(pm);
}

static void
test_e2e_tampered_prekey_message_creates_no_session(void **state)
{
	struct fixture *f = *state;
	struct keygen_bundle b = bundle_of(&f->bob, 0);
	struct received r = {0};
	struct wire_msg m, bad;
	struct snapshot s;
	struct err e;

	assert_int_equal(e2e_session_build(f->alice.store, f->ctx, "bob", DEVICE, &b, &e), 0);
	m = encrypt_to(f, &f->alice, &f->bob, "hello", 5);
	bad.type = m.type;
	bad.len = m.len;
	bad.ct = malloc(m.len);
	assert_non_null(bad.ct);
	memcpy(bad.ct, m.ct, m.len);
	flip_inner_mac(f, &bad);
	s = snap(&f->bob, "alice");
	assert_int_equal(deliver(f, &f->alice, &f->bob, &bad, &r), ERR_CRYPTO);
	assert_int_equal(s.present, 0);
	assert_unchanged(&s, &f->bob, "alice");
	deliver_ok(f, &f->alice, &f->bob, &m, "hello", 5);
	msg_free(&bad);
	msg_free(&m);
}

static void
test_e2e_refusing_handler_stores_nothing_and_message_decrypts_again(void **state)
{
	struct fixture *f = *state;
	struct keygen_bundle b = bundle_of(&f->bob, 3);
	struct received r = {0};
	struct wire_msg first, next;
	struct snapshot s;
	struct err e;

	assert_int_equal(e2e_session_build(f->alice.store, f->ctx, "bob", DEVICE, &b, &e), 0);
	first = encrypt_to(f, &f->alice, &f->bob, "first", 5);

	/* Prekey message: no session created, one-time prekey not consumed. */
	s = snap(&f->bob, "alice");
	r.refuse = ERR_IO;
	assert_int_equal(deliver(f, &f->alice, &f->bob, &first, &r), ERR_IO);
	assert_int_equal(r.calls, 1);
	assert_unchanged(&s, &f->bob, "alice");
	assert_int_equal(signal_protocol_pre_key_contains_key(f->bob.store, f->bob.prekeys[3].id),
	                 1);
	r.refuse = -7; /* not an err code: reported as internal */
	assert_int_equal(deliver(f, &f->alice, &f->bob, &first, &r), ERR_INTERNAL);
	deliver_ok(f, &f->alice, &f->bob, &first, "first", 5);

	/* Normal message on an established session. */
	next = encrypt_to(f, &f->alice, &f->bob, "second", 6);
	s = snap(&f->bob, "alice");
	r.refuse = ERR_BUSY;
	r.calls = 0;
	assert_int_equal(deliver(f, &f->alice, &f->bob, &next, &r), ERR_BUSY);
	assert_int_equal(r.calls, 1);
	assert_unchanged(&s, &f->bob, "alice");
	deliver_ok(f, &f->alice, &f->bob, &next, "second", 6);
	msg_free(&first);
	msg_free(&next);
}

static void
test_e2e_bundle_without_one_time_prekey_falls_back_to_signed_prekey(void **state)
{
	struct fixture *f = *state;
	struct keygen_bundle b = bundle_of(&f->bob, -1);
	struct wire_msg m;
	struct err e;

	assert_false(b.has_prekey);
	assert_int_equal(e2e_session_build(f->alice.store, f->ctx, "bob", DEVICE, &b, &e), 0);
	m = encrypt_to(f, &f->alice, &f->bob, "no otk", 6);
	assert_int_equal(m.type, E2E_PREKEY);
	deliver_ok(f, &f->alice, &f->bob, &m, "no otk", 6);
	assert_int_equal(memstore_pre_key_count(f->bob.ms), NUM_PREKEYS);
	msg_free(&m);
	m = encrypt_to(f, &f->bob, &f->alice, "ok", 2);
	deliver_ok(f, &f->bob, &f->alice, &m, "ok", 2);
	msg_free(&m);
}

static void
test_e2e_prekey_message_for_removed_prekey_is_not_found(void **state)
{
	struct fixture *f = *state;
	struct keygen_bundle b = bundle_of(&f->bob, 4);
	struct received r = {0};
	struct wire_msg m;
	struct snapshot s;
	struct err e;

	assert_int_equal(e2e_session_build(f->alice.store, f->ctx, "bob", DEVICE, &b, &e), 0);
	m = encrypt_to(f, &f->alice, &f->bob, "late", 4);
	assert_int_equal(signal_protocol_pre_key_remove_key(f->bob.store, f->bob.prekeys[4].id), 0);
	s = snap(&f->bob, "alice");
	assert_int_equal(deliver(f, &f->alice, &f->bob, &m, &r), ERR_NOTFOUND);
	assert_int_equal(r.calls, 0);
	assert_unchanged(&s, &f->bob, "alice");
	msg_free(&m);
}

static void
test_e2e_changed_identity_is_untrusted_on_build_and_on_prekey_message(void **state)
{
	struct fixture *f = *state;
	struct keygen_bundle b;
	struct party bob2 = {0}, alice2 = {0};
	struct received r = {0};
	struct wire_msg m;
	struct err e;

	establish(f);
	/* Bob reinstalls: same name, new identity. Alice refuses to build. */
	party_init(f, &bob2, "bob");
	b = bundle_of(&bob2, 0);
	assert_int_equal(e2e_session_build(f->alice.store, f->ctx, "bob", DEVICE, &b, &e), -1);
	assert_int_equal(e.code, ERR_UNTRUSTED);

	/* Alice reinstalls and writes to Bob, who remembers the old key. */
	party_init(f, &alice2, "alice");
	b = bundle_of(&f->bob, 1);
	assert_int_equal(e2e_session_build(alice2.store, f->ctx, "bob", DEVICE, &b, &e), 0);
	m = encrypt_to(f, &alice2, &f->bob, "it's me", 7);
	assert_int_equal(deliver(f, &alice2, &f->bob, &m, &r), ERR_UNTRUSTED);
	assert_int_equal(r.calls, 0);
	msg_free(&m);
	party_free(&bob2);
	party_free(&alice2);
}

static void
test_e2e_no_session_refused_on_encrypt_and_decrypt(void **state)
{
	struct fixture *f = *state;
	struct received r = {0};
	struct wire_msg m;
	struct err e;
	uint32_t reg;

	m.ct = NULL;
	assert_int_equal(e2e_encrypt(f->alice.store, f->ctx, "bob", DEVICE, (const uint8_t *)"x", 1,
	                             &m.type, &m.ct, &m.len, &e),
	                 -1);
	assert_int_equal(e.code, ERR_NOSESSION);
	assert_null(m.ct);
	assert_int_equal(
	    e2e_remote_registration_id(f->alice.store, f->ctx, "bob", DEVICE, &reg, &e), -1);
	assert_int_equal(e.code, ERR_NOSESSION);

	/* A normal message from Alice reaching a Bob who lost the session. */
	establish(f);
	m = encrypt_to(f, &f->alice, &f->bob, "x", 1);
	memstore_session_restore(f->bob.ms, "alice", DEVICE, NULL, 0);
	assert_int_equal(deliver(f, &f->alice, &f->bob, &m, &r), ERR_NOSESSION);
	msg_free(&m);
}

static void
test_e2e_garbage_truncated_and_huge_input_refused_on_every_path(void **state)
{
	struct fixture *f = *state;
	static const enum e2e_type types[] = {E2E_PREKEY, E2E_NORMAL};
	uint64_t seed = 42;
	struct received r = {0};
	struct wire_msg m, junk, pre;
	struct keygen_bundle b;
	struct snapshot s;
	struct err e;
	size_t t, i, cut;
	uint8_t *huge;

	/* Bob gets a prekey message, replies; Alice has one more of each. */
	b = bundle_of(&f->bob, 0);
	assert_int_equal(e2e_session_build(f->alice.store, f->ctx, "bob", DEVICE, &b, &e), 0);
	pre = encrypt_to(f, &f->alice, &f->bob, "pre", 3);
	s = snap(&f->bob, "alice");

	for (t = 0; t < 2; t++) {
		static const size_t sizes[] = {1, 2, 9, 40, 100, 1000, 5000};
		for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
			size_t j;
			junk.type = types[t];
			junk.len = sizes[i];
			junk.ct = malloc(junk.len);
			assert_non_null(junk.ct);
			for (j = 0; j < junk.len; j++)
				junk.ct[j] = (uint8_t)rng_next(&seed);
			assert_int_equal(deliver(f, &f->alice, &f->bob, &junk, &r), ERR_INVALID);
			/* With a plausible version byte (3 << 4 | 3) too. */
			junk.ct[0] = 0x33;
			assert_true(deliver(f, &f->alice, &f->bob, &junk, &r) != 0);
			msg_free(&junk);
		}
	}
	/* Every truncation of a real prekey message, on both decode paths. */
	for (t = 0; t < 2; t++) {
		for (cut = 0; cut < pre.len; cut++) {
			junk.type = types[t];
			junk.ct = pre.ct;
			junk.len = cut;
			assert_true(deliver(f, &f->alice, &f->bob, &junk, &r) != 0);
		}
	}
	/* The right bytes under the wrong type. */
	junk = pre;
	junk.type = E2E_NORMAL;
	assert_int_equal(deliver(f, &f->alice, &f->bob, &junk, &r), ERR_INVALID);
	junk.type = (enum e2e_type)7;
	assert_int_equal(deliver(f, &f->alice, &f->bob, &junk, &r), ERR_INVALID);
	huge = calloc(1, E2E_MAX_CIPHERTEXT + 1);
	assert_non_null(huge);
	huge[0] = 0x33;
	junk.type = E2E_PREKEY;
	junk.ct = huge;
	junk.len = E2E_MAX_CIPHERTEXT + 1;
	assert_int_equal(deliver(f, &f->alice, &f->bob, &junk, &r), ERR_TOOLARGE);
	junk.type = E2E_NORMAL;
	assert_int_equal(deliver(f, &f->alice, &f->bob, &junk, &r), ERR_TOOLARGE);
	free(huge);
	assert_int_equal(r.calls, 0);
	assert_unchanged(&s, &f->bob, "alice");

	/* Bad arguments. */
	assert_int_equal(e2e_decrypt(f->bob.store, f->ctx, "alice", DEVICE, pre.type, pre.ct,
	                             pre.len, NULL, NULL, &e),
	                 -1);
	assert_int_equal(e.code, ERR_INVALID);
	assert_int_equal(e2e_decrypt(f->bob.store, f->ctx, "", DEVICE, pre.type, pre.ct, pre.len,
	                             on_plaintext, &r, &e),
	                 -1);
	assert_int_equal(e.code, ERR_INVALID);
	assert_int_equal(e2e_encrypt(f->alice.store, f->ctx, "bob", DEVICE, pre.ct,
	                             E2E_MAX_PLAINTEXT + 1, &m.type, &m.ct, &m.len, &e),
	                 -1);
	assert_int_equal(e.code, ERR_TOOLARGE);

	/* After all that, the real message still works. */
	deliver_ok(f, &f->alice, &f->bob, &pre, "pre", 3);
	msg_free(&pre);
}

static void
test_e2e_malformed_bundles_refused(void **state)
{
	struct fixture *f = *state;
	struct keygen_bundle good = bundle_of(&f->bob, 0), b;
	struct err e;

	b = good;
	b.identity_pub[0] = 0x07;
	assert_int_equal(e2e_session_build(f->alice.store, f->ctx, "bob", DEVICE, &b, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	b = good;
	b.signed_prekey_pub[0] = 0x00;
	assert_int_equal(e2e_session_build(f->alice.store, f->ctx, "bob", DEVICE, &b, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	b = good;
	b.prekey_pub[0] = 0x00;
	assert_int_equal(e2e_session_build(f->alice.store, f->ctx, "bob", DEVICE, &b, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	b = good;
	b.signed_prekey_sig[5] ^= 0x01;
	assert_int_equal(e2e_session_build(f->alice.store, f->ctx, "bob", DEVICE, &b, &e), -1);
	assert_int_equal(e.code, ERR_CRYPTO);
	b = good;
	b.signed_prekey_pub[9] ^= 0x01; /* signature no longer covers it */
	assert_int_equal(e2e_session_build(f->alice.store, f->ctx, "bob", DEVICE, &b, &e), -1);
	assert_int_equal(e.code, ERR_CRYPTO);
	b = good;
	b.device_id = DEVICE + 1;
	assert_int_equal(e2e_session_build(f->alice.store, f->ctx, "bob", DEVICE, &b, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	assert_int_equal(e2e_has_session(f->alice.store, "bob", DEVICE, &e), 0);
	/* The good one still works after the refusals. */
	assert_int_equal(e2e_session_build(f->alice.store, f->ctx, "bob", DEVICE, &good, &e), 0);
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_e2e_session_from_bundle_uses_prekey_message_until_answered),
	    T(test_e2e_thousand_messages_in_random_bursts_all_decrypt),
	    T(test_e2e_out_of_order_within_window_then_duplicates_refused),
	    T(test_e2e_redelivered_first_prekey_message_is_duplicate),
	    T(test_e2e_counter_jump_beyond_2000_refused_without_state_change),
	    T(test_e2e_counter_jump_in_first_prekey_chain_refused),
	    T(test_e2e_tampered_message_refused_and_leaves_session_untouched),
	    T(test_e2e_tampered_prekey_message_creates_no_session),
	    T(test_e2e_refusing_handler_stores_nothing_and_message_decrypts_again),
	    T(test_e2e_bundle_without_one_time_prekey_falls_back_to_signed_prekey),
	    T(test_e2e_prekey_message_for_removed_prekey_is_not_found),
	    T(test_e2e_changed_identity_is_untrusted_on_build_and_on_prekey_message),
	    T(test_e2e_no_session_refused_on_encrypt_and_decrypt),
	    T(test_e2e_garbage_truncated_and_huge_input_refused_on_every_path),
	    T(test_e2e_malformed_bundles_refused),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}

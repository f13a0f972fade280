/* Parties for the end-to-end store tests: a throwaway profile database with
 * keys made by crypto/keygen (prekey id counters persisted in store/kv),
 * and sending and receiving the way the engine does: ratchet state
 * committed in one transaction with history and outbox rows. Every helper
 * fails the running cmocka test on an unexpected error. */
#ifndef SOTTO_TESTS_E2E_PARTY_H
#define SOTTO_TESTS_E2E_PARTY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <signal/signal_protocol.h>

#include "crypto/e2e.h"
#include "crypto/keygen.h"
#include "store/history.h"
#include "tests/store_fixture.h"
#include "util/err.h"

#define E2E_PARTY_DEVICE 1

struct e2e_party {
	const char *name;
	bool keyfile; /* unlocked by store.key instead of a passphrase */
	struct fixture *f;
	signal_context *ctx;
	signal_protocol_store_context *store;
	struct keygen_identity id;         /* kept to look for the private key on disk */
	struct keygen_prekey_pub *prekeys; /* every one-time prekey published */
	size_t n_prekeys, handed_out;
	uint32_t signed_id;
};

/* A message as the sender queued it. */
struct e2e_party_sent {
	char *client_id;
	enum e2e_type type;
	uint8_t *ct; /* what e2e_encrypt returned */
	size_t len;
};

enum e2e_party_end {
	E2E_PARTY_COMMIT,
	E2E_PARTY_LEAVE_OPEN, /* the caller crashes before committing */
};

/* A new profile (passphrase at minimum cost, or key file) with an identity,
 * a signed prekey and prekeys one-time prekeys. ctx must outlive p. */
void e2e_party_new(struct e2e_party *p, signal_context *ctx, const char *name, bool keyfile,
                   size_t prekeys);
/* Generate count more one-time prekeys (and the signed prekey, the first
 * time) in one transaction, continuing the id counters kept in kv. */
void e2e_party_publish(struct e2e_party *p, size_t count);
/* Close and reopen the profile with a new store context. */
void e2e_party_reopen(struct e2e_party *p);
/* The same with a transaction open, which closing rolls back: a crash. */
void e2e_party_crash(struct e2e_party *p);
/* Close the database (files stay) until e2e_party_reopen. */
void e2e_party_close(struct e2e_party *p);
/* Close, remove the profile, wipe the identity. */
void e2e_party_free(struct e2e_party *p);

/* from builds a session from to's bundle, with to's next unused one-time
 * prekey or with none (the relay ran out). */
void e2e_party_build_session(struct e2e_party *from, struct e2e_party *to, bool with_prekey);

/* Pad, encrypt and queue text for to, with its outgoing history row, in
 * one transaction. out (may be NULL) gets what e2e_encrypt returned; free
 * it with e2e_party_sent_clear. */
void e2e_party_send(struct e2e_party *from, struct e2e_party *to, const char *client_id,
                    const char *text, struct e2e_party_sent *out);
void e2e_party_sent_clear(struct e2e_party_sent *s);

/* BEGIN IMMEDIATE -> decrypt, whose callback unpads and inserts the
 * history row under relay_id -> COMMIT, or ROLLBACK on failure. 0, or -1
 * with e filled. E2E_PARTY_LEAVE_OPEN leaves a successful decrypt's
 * transaction open for the caller to crash. */
int e2e_party_receive(struct e2e_party *to, const char *from, int type, const uint8_t *ct,
                      size_t len, const char *relay_id, enum e2e_party_end end, struct err *e);
/* Receive s and commit; anything but success fails the test. */
void e2e_party_receive_ok(struct e2e_party *to, struct e2e_party *from,
                          const struct e2e_party_sent *s, const char *relay_id);

/* Every message of p's conversation with peer, oldest first; 0 and NULL if
 * there is no such conversation. Free with history_messages_free. */
size_t e2e_party_history(struct e2e_party *p, const char *peer, struct history_message **out);
size_t e2e_party_history_count(struct e2e_party *p, const char *peer);
/* The newest message with peer must be text, in direction dir. */
void e2e_party_assert_newest(struct e2e_party *p, const char *peer, enum history_direction dir,
                             const char *text);

#endif

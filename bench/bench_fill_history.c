/* Bench set-up data, not a user tool: writes N incoming messages from one
 * peer straight into a stopped key-file profile's database, so that
 * bench_ui_real.sh can time the UI against a deep history without
 * sending 100,000 messages through a relay first.
 *
 * Usage: bench_fill_history PROFILE_DIR [COUNT [PEER]]
 * Each text starts with "#<index> " (1 = oldest) so the bench can tell on
 * screen which messages are shown; the rest is 60-200 bytes of words from
 * a fixed pseudo-random sequence, the same on every run. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/contacts.h"
#include "store/conversations.h"
#include "store/db.h"
#include "store/history.h"
#include "util/err.h"

#define FILL_DEFAULT_COUNT 100000
#define FILL_MIN_LEN 60
#define FILL_MAX_LEN 200
/* Messages a minute apart, ending now: the UI shows real-looking times. */
#define FILL_STEP_MS 60000

static const char *const fill_words[] = {
    "the",      "relay",   "tomorrow", "coffee", "meeting", "sounds",   "good",   "I",
    "think",    "we",      "should",   "ship",   "it",      "after",    "lunch",  "did",
    "you",      "see",     "my",       "last",   "message", "about",    "keys",   "no",
    "worries",  "later",   "today",    "train",  "is",      "late",     "again",  "ok",
    "héllo",    "naïve",   "café",     "✓",      "🙂",    "deadline", "review", "patch",
    "terminal", "window",  "quick",    "brown",  "fox",     "jumps",    "over",   "lazy",
    "dog",      "weekend", "plans",    "maybe",  "hiking",  "if",       "it",     "stays",
    "dry",      "call",    "me",       "when",   "free",    "thanks!",  "see",    "you",
};
#define FILL_NWORDS (sizeof fill_words / sizeof fill_words[0])

/* xorshift64: a fixed sequence so every run fills the same texts. */
static uint64_t
fill_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Text of message index into buf (at least FILL_MAX_LEN + 1 bytes). */
static void
fill_text(char *buf, long index, uint64_t *rng)
{
	size_t target = FILL_MIN_LEN + fill_next(rng) % (FILL_MAX_LEN - FILL_MIN_LEN + 1);
	size_t len = (size_t)snprintf(buf, FILL_MAX_LEN + 1, "#%ld", index);

	for (;;) {
		const char *w = fill_words[fill_next(rng) % FILL_NWORDS];
		size_t wl = strlen(w);
		if (len + 1 + wl > FILL_MAX_LEN || len >= target)
			break;
		buf[len++] = ' ';
		memcpy(buf + len, w, wl);
		len += wl;
	}
	buf[len] = '\0';
}

static int
fill(struct db *db, const char *peer, long count, struct err *e)
{
	struct history_message m;
	char body[FILL_MAX_LEN + 1], relay_id[128], client_id[128];
	int64_t conv, id, now = db_now_ms(db);
	uint64_t rng = 0x9e3779b97f4a7c15ull;
	long i;

	if (db_begin(db, e) < 0)
		return -1;
	if (contacts_ensure(db, peer, e) < 0 || conversations_direct(db, peer, &conv, e) < 0)
		goto fail;
	for (i = 1; i <= count; i++) {
		memset(&m, 0, sizeof m);
		fill_text(body, i, &rng);
		/* Not a number: cannot collide with a real relay's ids. */
		snprintf(relay_id, sizeof relay_id, "bench-%s-%ld", peer, i);
		/* As the receive path stores it: sender/message id, which read
		 * receipts quote back. */
		snprintf(client_id, sizeof client_id, "%s/bench%017ld", peer, i);
		m.conversation_id = conv;
		m.sender_name = (char *)peer;
		m.sender_device = 1;
		m.relay_id = relay_id;
		m.client_id = client_id;
		m.sent_at = now - (int64_t)(count - i + 1) * FILL_STEP_MS;
		m.server_at = m.sent_at + 10;
		m.received_at = m.sent_at + 20;
		m.body = body;
		if (history_insert_incoming(db, &m, &id, e) < 0)
			goto fail;
	}
	return db_commit(db, e);
fail:
	db_rollback(db, NULL);
	return -1;
}

static long
fill_parse_count(const char *s)
{
	char *end;
	long n = strtol(s, &end, 10);

	return *s != '\0' && *end == '\0' && n > 0 && n <= 10000000 ? n : -1;
}

int
main(int argc, char **argv)
{
	struct db_config cfg = {0};
	struct db *db;
	struct err e;
	long count = FILL_DEFAULT_COUNT;
	const char *peer = argc > 3 ? argv[3] : "bob";

	if (argc < 2 || argc > 4 || (argc > 2 && (count = fill_parse_count(argv[2])) < 0)) {
		fprintf(stderr, "usage: %s PROFILE_DIR [COUNT [PEER]]\n", argv[0]);
		return 2;
	}
	cfg.dir = argv[1]; /* no passphrase: the profile's key file */
	if (db_open(&cfg, &db, &e) < 0) {
		fprintf(stderr, "%s: opening %s: %s\n", argv[0], argv[1], e.msg);
		return 1;
	}
	if (fill(db, peer, count, &e) < 0 || db_checkpoint(db, &e) < 0) {
		fprintf(stderr, "%s: %s\n", argv[0], e.msg);
		db_close(db);
		return 1;
	}
	db_close(db);
	printf("%ld messages from %s in %s\n", count, peer, argv[1]);
	return 0;
}

/* Throughput of the crypto glue: one-way encrypt+decrypt, ping-pong (a DH
 * ratchet step every turn) and session setups, per second. The store is
 * plugged in through a party factory: the in-memory one and a real
 * SQLCipher profile run the same loops in one run, so their figures sit
 * side by side. Prints figures only. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/cprov.h"
#include "crypto/e2e.h"
#include "crypto/keygen.h"
#include "crypto/pad.h"
#include "bench/bench_store_party.h"
#include "tests/memstore.h"

/* How to make the store of one party. begin/commit may be NULL; a store
 * with transactions wraps every encrypt and decrypt in one, as the client
 * does. */
struct bench_factory {
	const char *name;
	void *(*create)(signal_context *ctx, const struct keygen_identity *id, void *arg);
	signal_protocol_store_context *(*context)(void *party);
	int (*begin)(void *party);
	int (*commit)(void *party);
	void (*destroy)(void *party);
	void *arg;
};

struct bench_party {
	const struct bench_factory *fac;
	void *impl;
	signal_protocol_store_context *store;
	struct keygen_identity id;
	uint32_t next_prekey, next_signed;
	uint32_t signed_id;
};

static signal_context *bench_ctx;

static void
bench_die(const char *what, const struct err *e)
{
	fprintf(stderr, "bench_crypto: %s: %s (%s)\n", what, e->msg, err_code_name(e->code));
	exit(1);
}

static double
bench_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
bench_party_init(struct bench_party *p, const struct bench_factory *fac)
{
	struct keygen_signed_prekey_pub spk;
	struct err e;

	memset(p, 0, sizeof *p);
	p->fac = fac;
	p->next_prekey = 1;
	p->next_signed = 1;
	if (keygen_identity_generate(bench_ctx, &p->id, &e) < 0)
		bench_die("identity", &e);
	p->impl = fac->create(bench_ctx, &p->id, fac->arg);
	if (p->impl == NULL) {
		fprintf(stderr, "bench_crypto: %s: cannot create store\n", fac->name);
		exit(1);
	}
	p->store = fac->context(p->impl);
	if (keygen_signed_prekey_generate(p->store, bench_ctx, &p->next_signed, 1, &spk, &e) < 0)
		bench_die("signed prekey", &e);
	p->signed_id = spk.id;
}

static void
bench_party_free(struct bench_party *p)
{
	p->fac->destroy(p->impl);
	keygen_identity_wipe(&p->id);
}

static void
bench_txn(struct bench_party *p, int commit)
{
	int (*fn)(void *) = commit ? p->fac->commit : p->fac->begin;
	if (fn != NULL && fn(p->impl) != 0) {
		fprintf(stderr, "bench_crypto: %s: transaction failed\n", p->fac->name);
		exit(1);
	}
}

/* A fresh bundle of p with one one-time prekey. */
static struct keygen_bundle
bench_bundle(struct bench_party *p)
{
	struct keygen_prekey_pub *pk = NULL;
	struct keygen_bundle b;
	struct err e;

	bench_txn(p, 0);
	if (keygen_prekeys_generate(p->store, bench_ctx, &p->next_prekey, 1, &pk, &e) < 0 ||
	    keygen_bundle_from_store(p->store, 1, 1, pk[0].id, p->signed_id, &b, &e) < 0)
		bench_die("bundle", &e);
	bench_txn(p, 1);
	free(pk);
	return b;
}

static int
bench_sink(void *arg, const uint8_t *pt, size_t len)
{
	size_t *total = arg;
	*total += len;
	return 0;
}

/* One message from -> to, as the client does it: encrypt in the sender's
 * transaction, decrypt in the receiver's. */
static void
bench_send(struct bench_party *from, const char *from_name, struct bench_party *to,
           const char *to_name, const uint8_t *pt, size_t len)
{
	enum e2e_type type;
	uint8_t *ct = NULL;
	size_t ct_len = 0, got = 0;
	struct err e;

	bench_txn(from, 0);
	if (e2e_encrypt(from->store, bench_ctx, to_name, 1, pt, len, &type, &ct, &ct_len, &e) < 0)
		bench_die("encrypt", &e);
	bench_txn(from, 1);
	bench_txn(to, 0);
	if (e2e_decrypt(to->store, bench_ctx, from_name, 1, type, ct, ct_len, bench_sink, &got,
	                &e) < 0)
		bench_die("decrypt", &e);
	bench_txn(to, 1);
	if (got != len) {
		fprintf(stderr, "bench_crypto: decrypted %zu bytes, sent %zu\n", got, len);
		exit(1);
	}
	free(ct);
}

static void
bench_establish(struct bench_party *a, const char *a_name, struct bench_party *b,
                const char *b_name, const uint8_t *pt, size_t len)
{
	struct keygen_bundle bundle = bench_bundle(b);
	struct err e;

	bench_txn(a, 0);
	if (e2e_session_build(a->store, bench_ctx, b_name, 1, &bundle, &e) < 0)
		bench_die("session build", &e);
	bench_txn(a, 1);
	bench_send(a, a_name, b, b_name, pt, len);
	bench_send(b, b_name, a, a_name, pt, len);
}

/* Print one figure and return it (per second). */
static double
bench_report(const char *store, const char *what, unsigned long n, double secs, const char *unit)
{
	printf("%-9s %-34s %10.0f %s/s  (%lu in %.3f s)\n", store, what, (double)n / secs, unit, n,
	       secs);
	fflush(stdout);
	return (double)n / secs;
}

/* Messages are one padded block, the size of a short chat line. */
static void
bench_message(uint8_t **pt, size_t *len)
{
	struct err e;
	if (pad_message((const uint8_t *)"the quick brown fox", 19, pt, len, &e) < 0)
		bench_die("pad", &e);
}

/* Every message in its own transaction on each side. */
static double
bench_one_way(const struct bench_factory *fac, double budget)
{
	struct bench_party a, b;
	unsigned long n = 0;
	uint8_t *pt;
	size_t len;
	double t0, t, rate;

	bench_message(&pt, &len);
	bench_party_init(&a, fac);
	bench_party_init(&b, fac);
	bench_establish(&a, "alice", &b, "bob", pt, len);
	t0 = bench_now();
	do {
		int i;
		for (i = 0; i < 100; i++)
			bench_send(&a, "alice", &b, "bob", pt, len);
		n += 100;
		t = bench_now() - t0;
	} while (t < budget);
	rate = bench_report(fac->name,
	                    fac->begin != NULL ? "one-way, commit per message"
	                                       : "one-way encrypt+decrypt",
	                    n, t, "msg");
	bench_party_free(&a);
	bench_party_free(&b);
	free(pt);
	return rate;
}

/* One-way traffic with one transaction per batch of encrypts on the sender
 * and one per batch of decrypts on the receiver, as a client draining its
 * queue would commit. No savepoint per message: with SQLCipher each page a
 * savepoint first touches is encrypted into the sub-journal, which would
 * measure the savepoints rather than the store. */
static double
bench_one_way_batched(const struct bench_factory *fac, double budget, int batch)
{
	struct bench_party a, b;
	unsigned long n = 0;
	enum e2e_type *type = calloc((size_t)batch, sizeof *type);
	uint8_t **ct = calloc((size_t)batch, sizeof *ct), *pt;
	size_t *ct_len = calloc((size_t)batch, sizeof *ct_len), len, got = 0;
	char what[64];
	double t0, t, rate;
	struct err e;

	if (type == NULL || ct == NULL || ct_len == NULL) {
		fprintf(stderr, "bench_crypto: out of memory\n");
		exit(1);
	}
	bench_message(&pt, &len);
	bench_party_init(&a, fac);
	bench_party_init(&b, fac);
	bench_establish(&a, "alice", &b, "bob", pt, len);
	t0 = bench_now();
	do {
		int i;
		bench_txn(&a, 0);
		for (i = 0; i < batch; i++) {
			if (e2e_encrypt(a.store, bench_ctx, "bob", 1, pt, len, &type[i], &ct[i],
			                &ct_len[i], &e) < 0)
				bench_die("encrypt", &e);
		}
		bench_txn(&a, 1);
		bench_txn(&b, 0);
		for (i = 0; i < batch; i++) {
			if (e2e_decrypt(b.store, bench_ctx, "alice", 1, type[i], ct[i], ct_len[i],
			                bench_sink, &got, &e) < 0)
				bench_die("decrypt", &e);
			free(ct[i]);
		}
		bench_txn(&b, 1);
		n += (unsigned long)batch;
		t = bench_now() - t0;
	} while (t < budget);
	if (got != n * len) {
		fprintf(stderr, "bench_crypto: decrypted %zu bytes, sent %lu\n", got, n * len);
		exit(1);
	}
	snprintf(what, sizeof what, "one-way, commit per %d messages", batch);
	rate = bench_report(fac->name, what, n, t, "msg");
	bench_party_free(&a);
	bench_party_free(&b);
	free(pt);
	free(type);
	free(ct);
	free(ct_len);
	return rate;
}

static void
bench_ping_pong(const struct bench_factory *fac, double budget)
{
	struct bench_party a, b;
	unsigned long n = 0;
	uint8_t *pt;
	size_t len;
	double t0, t;

	bench_message(&pt, &len);
	bench_party_init(&a, fac);
	bench_party_init(&b, fac);
	bench_establish(&a, "alice", &b, "bob", pt, len);
	t0 = bench_now();
	do {
		int i;
		for (i = 0; i < 10; i++) {
			bench_send(&a, "alice", &b, "bob", pt, len);
			bench_send(&b, "bob", &a, "alice", pt, len);
		}
		n += 20;
		t = bench_now() - t0;
	} while (t < budget);
	bench_report(fac->name, "ping-pong (DH step per turn)", n, t, "msg");
	bench_party_free(&a);
	bench_party_free(&b);
	free(pt);
}

/* A setup: build from a bundle, encrypt the first (prekey) message, and
 * decrypt it on the other side. Prekey generation is not counted. Each
 * setup uses fresh names so records stay small. */
static void
bench_setups(const struct bench_factory *fac, double budget)
{
	struct bench_party a, b;
	unsigned long n = 0;
	double spent = 0;
	uint8_t *pt;
	size_t len;

	bench_message(&pt, &len);
	bench_party_init(&a, fac);
	bench_party_init(&b, fac);
	while (spent < budget) {
		char a_name[32], b_name[32];
		struct keygen_bundle bundle = bench_bundle(&b);
		struct err e;
		double t0;

		snprintf(a_name, sizeof a_name, "alice%lu", n);
		snprintf(b_name, sizeof b_name, "bob%lu", n);
		t0 = bench_now();
		bench_txn(&a, 0);
		if (e2e_session_build(a.store, bench_ctx, b_name, 1, &bundle, &e) < 0)
			bench_die("session build", &e);
		bench_txn(&a, 1);
		bench_send(&a, a_name, &b, b_name, pt, len);
		spent += bench_now() - t0;
		n++;
	}
	bench_report(fac->name, "session setups", n, spent, "setup");
	bench_party_free(&a);
	bench_party_free(&b);
	free(pt);
}

#define BENCH_BATCH 64

struct bench_figures {
	double one_way, one_way_batched;
};

/* Run every figure for one store; budget is seconds per figure. A store
 * with transactions also gets the batched one-way figure. */
static struct bench_figures
bench_run_all(const struct bench_factory *fac, double budget)
{
	struct bench_figures fig = {0};

	fig.one_way = bench_one_way(fac, budget);
	fig.one_way_batched =
	    fac->begin != NULL ? bench_one_way_batched(fac, budget, BENCH_BATCH) : fig.one_way;
	bench_ping_pong(fac, budget);
	bench_setups(fac, budget);
	return fig;
}

/* The in-memory store from tests/memstore.c. */
static void *
bench_mem_create(signal_context *ctx, const struct keygen_identity *id, void *arg)
{
	return memstore_create(ctx, id->pub, sizeof id->pub, id->priv, sizeof id->priv,
	                       id->registration_id);
}

static signal_protocol_store_context *
bench_mem_context(void *party)
{
	return memstore_context(party);
}

static void
bench_mem_destroy(void *party)
{
	memstore_destroy(party);
}

static const struct bench_factory bench_memory = {
    .name = "memory",
    .create = bench_mem_create,
    .context = bench_mem_context,
    .destroy = bench_mem_destroy,
};

/* A real SQLCipher profile (bench/bench_store_party.c). */
static void *
bench_sql_create(signal_context *ctx, const struct keygen_identity *id, void *arg)
{
	struct bench_store_party *p;
	struct err e;

	if (bench_store_party_create(ctx, id, &p, &e) < 0)
		bench_die("creating a profile", &e);
	return p;
}

static signal_protocol_store_context *
bench_sql_context(void *party)
{
	return bench_store_party_context(party);
}

static int
bench_sql_begin(void *party)
{
	struct err e;
	if (bench_store_party_begin(party, &e) < 0)
		bench_die("begin", &e);
	return 0;
}

static int
bench_sql_commit(void *party)
{
	struct err e;
	if (bench_store_party_commit(party, &e) < 0)
		bench_die("commit", &e);
	return 0;
}

static void
bench_sql_destroy(void *party)
{
	bench_store_party_destroy(party);
}

static const struct bench_factory bench_sqlcipher = {
    .name = "sqlcipher",
    .create = bench_sql_create,
    .context = bench_sql_context,
    .begin = bench_sql_begin,
    .commit = bench_sql_commit,
    .destroy = bench_sql_destroy,
};

int
main(int argc, char **argv)
{
	double budget = argc > 1 ? strtod(argv[1], NULL) : 1.0;
	struct bench_figures mem, sql;
	struct err e;

	if (budget <= 0)
		budget = 1.0;
	if (cprov_context_create(&bench_ctx, &e) < 0)
		bench_die("context", &e);
	mem = bench_run_all(&bench_memory, budget);
	sql = bench_run_all(&bench_sqlcipher, budget);
	printf("sqlcipher one-way vs memory: %.0f%% committing per message, "
	       "%.0f%% committing per %d\n",
	       100 * sql.one_way / mem.one_way, 100 * sql.one_way_batched / mem.one_way,
	       BENCH_BATCH);
	cprov_context_destroy(bench_ctx);
	return 0;
}

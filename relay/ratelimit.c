/* Token buckets in a chained hash table with an LRU list, so the table never
 * grows past max_keys however many addresses or accounts show up. Integer
 * arithmetic only: refills are exact and carry their remainder. */
#include "relay/ratelimit.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "util/xmalloc.h"

struct ratelimit_bucket {
	struct ratelimit_bucket *hnext;               /* hash chain */
	struct ratelimit_bucket *lru_prev, *lru_next; /* most recent at head */
	uint64_t hash;
	uint32_t tokens;
	int64_t last_ms; /* time up to which refills have been credited */
	char key[];
};

struct ratelimit {
	uint32_t burst;
	int64_t interval_ms;
	size_t max_keys, nkeys;
	size_t nslots; /* power of two */
	uint64_t seed;
	struct ratelimit_bucket **slots;
	struct ratelimit_bucket *lru_head, *lru_tail;
};

/* FNV-1a over a per-table random seed: keys come from the network, so the
 * chain a key lands in should not be predictable across runs. */
static uint64_t
ratelimit_hash(const struct ratelimit *rl, const char *key, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ rl->seed;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)key[i];
		h *= 0x100000001b3ULL;
	}
	return h ^ (h >> 29);
}

struct ratelimit *
ratelimit_new(uint32_t burst, int64_t interval_ms, size_t max_keys)
{
	struct ratelimit *rl = xcalloc(1, sizeof *rl);

	rl->burst = burst ? burst : 1;
	rl->interval_ms = interval_ms > 0 ? interval_ms : 1;
	rl->max_keys = max_keys ? max_keys : 1;
	rl->nslots = 16;
	while (rl->nslots < rl->max_keys && rl->nslots < ((size_t)1 << 24))
		rl->nslots <<= 1;
	rl->slots = xcalloc(rl->nslots, sizeof *rl->slots);
	if (getrandom(&rl->seed, sizeof rl->seed, GRND_NONBLOCK) != (ssize_t)sizeof rl->seed)
		rl->seed = (uint64_t)(uintptr_t)rl; /* only spreads chains; not a secret */
	return rl;
}

void
ratelimit_free(struct ratelimit *rl)
{
	struct ratelimit_bucket *b, *next;

	if (rl == NULL)
		return;
	for (b = rl->lru_head; b != NULL; b = next) {
		next = b->lru_next;
		free(b);
	}
	free(rl->slots);
	free(rl);
}

static void
ratelimit_lru_unlink(struct ratelimit *rl, struct ratelimit_bucket *b)
{
	if (b->lru_prev)
		b->lru_prev->lru_next = b->lru_next;
	else
		rl->lru_head = b->lru_next;
	if (b->lru_next)
		b->lru_next->lru_prev = b->lru_prev;
	else
		rl->lru_tail = b->lru_prev;
	b->lru_prev = b->lru_next = NULL;
}

static void
ratelimit_lru_push(struct ratelimit *rl, struct ratelimit_bucket *b)
{
	b->lru_prev = NULL;
	b->lru_next = rl->lru_head;
	if (rl->lru_head)
		rl->lru_head->lru_prev = b;
	rl->lru_head = b;
	if (rl->lru_tail == NULL)
		rl->lru_tail = b;
}

static void
ratelimit_evict_oldest(struct ratelimit *rl)
{
	struct ratelimit_bucket *b = rl->lru_tail, **pp;

	for (pp = &rl->slots[b->hash & (rl->nslots - 1)]; *pp != b; pp = &(*pp)->hnext)
		;
	*pp = b->hnext;
	ratelimit_lru_unlink(rl, b);
	free(b);
	rl->nkeys--;
}

/* Credit the tokens earned since last_ms, keeping the part of an interval
 * not yet earned so slow trickles still add up. */
static void
ratelimit_refill(const struct ratelimit *rl, struct ratelimit_bucket *b, int64_t now_ms)
{
	int64_t earned;

	if (now_ms <= b->last_ms)
		return;
	earned = (now_ms - b->last_ms) / rl->interval_ms;
	if (earned >= (int64_t)(rl->burst - b->tokens)) {
		b->tokens = rl->burst;
		b->last_ms = now_ms;
	} else {
		b->tokens += (uint32_t)earned;
		b->last_ms += earned * rl->interval_ms;
	}
}

int
ratelimit_take(struct ratelimit *rl, const char *key, int64_t now_ms, int64_t *retry_ms)
{
	size_t len = strnlen(key, RATELIMIT_KEY_MAX);
	uint64_t h = ratelimit_hash(rl, key, len);
	struct ratelimit_bucket *b;

	for (b = rl->slots[h & (rl->nslots - 1)]; b != NULL; b = b->hnext)
		if (b->hash == h && strlen(b->key) == len && memcmp(b->key, key, len) == 0)
			break;
	if (b == NULL) {
		if (rl->nkeys >= rl->max_keys)
			ratelimit_evict_oldest(rl);
		b = xcalloc(1, sizeof *b + len + 1);
		memcpy(b->key, key, len);
		b->hash = h;
		b->tokens = rl->burst;
		b->last_ms = now_ms;
		b->hnext = rl->slots[h & (rl->nslots - 1)];
		rl->slots[h & (rl->nslots - 1)] = b;
		rl->nkeys++;
	} else {
		ratelimit_lru_unlink(rl, b);
		ratelimit_refill(rl, b, now_ms);
	}
	ratelimit_lru_push(rl, b);
	if (b->tokens > 0) {
		b->tokens--;
		if (retry_ms)
			*retry_ms = 0;
		return 1;
	}
	if (retry_ms) {
		int64_t now = now_ms > b->last_ms ? now_ms : b->last_ms;
		*retry_ms = b->last_ms + rl->interval_ms - now;
	}
	return 0;
}

size_t
ratelimit_size(const struct ratelimit *rl)
{
	return rl->nkeys;
}

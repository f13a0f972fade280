/* Fault injection for sotto-relay's envelope pushes (--chaos): parse the
 * spec and decide, with a seeded RNG, what happens to each push. Applied to
 * pushes only, never to the durable store: a dropped push is redelivered
 * when the device reconnects, so chaos exercises client resilience without
 * losing acked data. */
#ifndef SOTTO_CHAOS_H
#define SOTTO_CHAOS_H

#include <stdint.h>

#include "util/err.h"

#define CHAOS_MAX_DELAY_MS 600000 /* 10 minutes */

/* "drop=P,delay=MS,dup=P,reorder=P[,seed=N]": every key optional but at
 * least one present, each at most once; P is a decimal in [0,1], MS an
 * integer in 0..CHAOS_MAX_DELAY_MS, N an unsigned 64-bit integer. */
struct chaos_spec {
	double drop;       /* probability a push is not sent */
	double dup;        /* probability a push is sent twice */
	double reorder;    /* probability a push is held and swapped with the next */
	uint32_t delay_ms; /* every push that is sent waits this long */
	int has_seed;      /* seed= was given */
	uint64_t seed;
};

/* Parse text strictly into *out. Anything else (unknown or repeated key,
 * missing '=', trailing junk, value out of range, empty spec) -> -1 with
 * ERR_INVALID and a message naming the offending part. */
int chaos_parse(const char *text, struct chaos_spec *out, struct err *e);

struct chaos {
	struct chaos_spec spec;
	uint64_t rng; /* xorshift state, never 0 */
};

/* Seed with spec->seed if given, else with `seed` (e.g. from the clock);
 * the same spec and seed always give the same decisions. */
void chaos_init(struct chaos *c, const struct chaos_spec *spec, uint64_t seed);

enum chaos_action {
	CHAOS_SEND,      /* send it normally */
	CHAOS_DROP,      /* do not send it (the copy in the queue stays) */
	CHAOS_DUPLICATE, /* send it twice */
	CHAOS_HOLD,      /* keep it back; send it right after the next push on the
	                  * same connection (or when no next push comes within
	                  * the delay, or 1 s if the delay is 0) */
};

struct chaos_decision {
	enum chaos_action action;
	uint32_t delay_ms; /* wait this long before sending (0 for CHAOS_DROP) */
};

/* Decide the fate of one outgoing push. Drop is rolled first, then dup,
 * then reorder, each against its own probability. */
void chaos_decide(struct chaos *c, struct chaos_decision *out);

/* 1 if the spec injects nothing (all zero): the server can skip chaos. */
int chaos_is_noop(const struct chaos_spec *spec);

#endif

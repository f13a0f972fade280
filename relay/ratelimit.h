/* Token buckets keyed by string (the requesting account for prekey
 * fetches, the peer address for connections and registrations) with
 * bounded memory. Time is passed in, so behaviour is exact and testable. */
#ifndef SOTTO_RATELIMIT_H
#define SOTTO_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

#define RATELIMIT_KEY_MAX 128 /* longer keys are cut to this many bytes */

/* Defaults for the server's limits (documented in sotto-relay(8)). */
#define RATELIMIT_DEFAULT_PREKEY_FETCHES 60 /* per account per minute */

struct ratelimit;

/* A limiter whose buckets hold up to `burst` tokens (>= 1) and gain one
 * token every interval_ms (>= 1), tracking at most max_keys keys (>= 1).
 * When full, the key used least recently is forgotten (its bucket starts
 * full again if it returns). Free with ratelimit_free(). */
struct ratelimit *ratelimit_new(uint32_t burst, int64_t interval_ms, size_t max_keys);
void ratelimit_free(struct ratelimit *rl);

/* Take one token from key's bucket at time now_ms. Returns 1 if allowed,
 * 0 if limited; then *retry_ms (may be NULL) is how long until a token is
 * available. now_ms going backwards is treated as no time passing. */
int ratelimit_take(struct ratelimit *rl, const char *key, int64_t now_ms, int64_t *retry_ms);

/* Number of keys currently tracked (<= max_keys). */
size_t ratelimit_size(const struct ratelimit *rl);

#endif

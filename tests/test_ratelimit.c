/* Unit tests for relay/ratelimit: exact token-bucket arithmetic with
 * injected time, and the bound on how many keys are remembered. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "relay/ratelimit.h"

static void
test_ratelimit_allows_burst_then_limits_with_retry_time(void **state)
{
	struct ratelimit *rl = ratelimit_new(3, 1000, 16);
	int64_t retry = -1;

	(void)state;
	assert_int_equal(ratelimit_take(rl, "alice", 5000, &retry), 1);
	assert_int_equal(retry, 0);
	assert_int_equal(ratelimit_take(rl, "alice", 5000, NULL), 1);
	assert_int_equal(ratelimit_take(rl, "alice", 5100, NULL), 1);
	assert_int_equal(ratelimit_take(rl, "alice", 5200, &retry), 0);
	assert_int_equal(retry, 800);
	assert_int_equal(ratelimit_take(rl, "alice", 5999, &retry), 0);
	assert_int_equal(retry, 1);
	assert_int_equal(ratelimit_take(rl, "alice", 6000, NULL), 1);
	assert_int_equal(ratelimit_take(rl, "alice", 6000, &retry), 0);
	assert_int_equal(retry, 1000);
	ratelimit_free(rl);
}

static void
test_ratelimit_refill_keeps_partial_intervals(void **state)
{
	struct ratelimit *rl = ratelimit_new(2, 100, 16);

	(void)state;
	assert_int_equal(ratelimit_take(rl, "k", 0, NULL), 1);
	assert_int_equal(ratelimit_take(rl, "k", 0, NULL), 1);
	assert_int_equal(ratelimit_take(rl, "k", 60, NULL), 0);
	/* Taking at 150 spends the token earned at 100 but keeps the 50 ms
	 * since: the next token comes at 200, not at 250. */
	assert_int_equal(ratelimit_take(rl, "k", 150, NULL), 1);
	assert_int_equal(ratelimit_take(rl, "k", 199, NULL), 0);
	assert_int_equal(ratelimit_take(rl, "k", 200, NULL), 1);
	ratelimit_free(rl);
}

static void
test_ratelimit_refill_stops_at_burst(void **state)
{
	struct ratelimit *rl = ratelimit_new(2, 10, 16);
	int i, allowed = 0;

	(void)state;
	assert_int_equal(ratelimit_take(rl, "k", 0, NULL), 1);
	assert_int_equal(ratelimit_take(rl, "k", 0, NULL), 1);
	/* A long idle time refills to the burst, not beyond. */
	for (i = 0; i < 10; i++)
		allowed += ratelimit_take(rl, "k", 1000000, NULL);
	assert_int_equal(allowed, 2);
	ratelimit_free(rl);
}

static void
test_ratelimit_keys_are_independent(void **state)
{
	struct ratelimit *rl = ratelimit_new(1, 60000, 16);

	(void)state;
	assert_int_equal(ratelimit_take(rl, "10.0.0.1", 0, NULL), 1);
	assert_int_equal(ratelimit_take(rl, "10.0.0.1", 0, NULL), 0);
	assert_int_equal(ratelimit_take(rl, "10.0.0.2", 0, NULL), 1);
	assert_int_equal(ratelimit_size(rl), 2);
	ratelimit_free(rl);
}

static void
test_ratelimit_time_going_backwards_earns_nothing(void **state)
{
	struct ratelimit *rl = ratelimit_new(1, 100, 16);
	int64_t retry;

	(void)state;
	assert_int_equal(ratelimit_take(rl, "k", 1000, NULL), 1);
	assert_int_equal(ratelimit_take(rl, "k", 0, &retry), 0);
	assert_int_equal(retry, 100);
	assert_int_equal(ratelimit_take(rl, "k", 1099, NULL), 0);
	assert_int_equal(ratelimit_take(rl, "k", 1100, NULL), 1);
	ratelimit_free(rl);
}

static void
test_ratelimit_memory_is_bounded_by_evicting_least_recent(void **state)
{
	struct ratelimit *rl = ratelimit_new(1, 1000000, 3);
	char key[32];
	int i;

	(void)state;
	assert_int_equal(ratelimit_take(rl, "a", 0, NULL), 1);
	assert_int_equal(ratelimit_take(rl, "b", 0, NULL), 1);
	assert_int_equal(ratelimit_take(rl, "c", 0, NULL), 1);
	/* Touch "a" so "b" is the least recently used. */
	assert_int_equal(ratelimit_take(rl, "a", 1, NULL), 0);
	assert_int_equal(ratelimit_take(rl, "d", 2, NULL), 1);
	assert_int_equal(ratelimit_size(rl), 3);
	/* "a" and "c" are still limited; "b" was forgotten and starts full. */
	assert_int_equal(ratelimit_take(rl, "a", 3, NULL), 0);
	assert_int_equal(ratelimit_take(rl, "c", 3, NULL), 0);
	assert_int_equal(ratelimit_take(rl, "b", 3, NULL), 1);
	for (i = 0; i < 10000; i++) {
		snprintf(key, sizeof key, "198.51.100.%d", i);
		ratelimit_take(rl, key, 4, NULL);
		assert_true(ratelimit_size(rl) <= 3);
	}
	ratelimit_free(rl);
}

static void
test_ratelimit_long_keys_are_cut(void **state)
{
	struct ratelimit *rl = ratelimit_new(1, 1000, 16);
	char k1[RATELIMIT_KEY_MAX + 10], k2[RATELIMIT_KEY_MAX + 10];

	(void)state;
	memset(k1, 'x', sizeof k1 - 1);
	k1[sizeof k1 - 1] = '\0';
	memcpy(k2, k1, sizeof k2);
	k2[RATELIMIT_KEY_MAX + 2] = 'y';
	assert_int_equal(ratelimit_take(rl, k1, 0, NULL), 1);
	assert_int_equal(ratelimit_take(rl, k2, 0, NULL), 0);
	assert_int_equal(ratelimit_size(rl), 1);
	ratelimit_free(rl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ratelimit_allows_burst_then_limits_with_retry_time),
	    cmocka_unit_test(test_ratelimit_refill_keeps_partial_intervals),
	    cmocka_unit_test(test_ratelimit_refill_stops_at_burst),
	    cmocka_unit_test(test_ratelimit_keys_are_independent),
	    cmocka_unit_test(test_ratelimit_time_going_backwards_earns_nothing),
	    cmocka_unit_test(test_ratelimit_memory_is_bounded_by_evicting_least_recent),
	    cmocka_unit_test(test_ratelimit_long_keys_are_cut),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

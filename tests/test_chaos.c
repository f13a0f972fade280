/* Unit tests for relay/chaos: the strict --chaos parser and the seeded
 * per-push decisions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "relay/chaos.h"

static void
test_chaos_parses_every_key(void **state)
{
	struct chaos_spec s;
	struct err e;

	(void)state;
	assert_int_equal(chaos_parse("drop=0.1,delay=250,dup=0.05,reorder=1,seed=42", &s, &e), 0);
	assert_true(s.drop > 0.099 && s.drop < 0.101);
	assert_int_equal(s.delay_ms, 250);
	assert_true(s.dup > 0.049 && s.dup < 0.051);
	assert_true(s.reorder == 1.0);
	assert_true(s.has_seed);
	assert_int_equal(s.seed, 42);
	assert_false(chaos_is_noop(&s));
	/* Any subset, any order. */
	assert_int_equal(chaos_parse("reorder=.5", &s, &e), 0);
	assert_true(s.reorder == 0.5);
	assert_true(s.drop == 0.0 && s.dup == 0.0 && s.delay_ms == 0 && !s.has_seed);
	assert_int_equal(chaos_parse("delay=0,drop=0", &s, &e), 0);
	assert_true(chaos_is_noop(&s));
	assert_int_equal(chaos_parse("seed=18446744073709551615", &s, &e), 0);
	assert_true(s.seed == UINT64_MAX);
}

static void
test_chaos_rejects_malformed_specs(void **state)
{
	static const char *const bad[] = {
	    "",
	    "drop",
	    "drop=",
	    "=0.1",
	    "drop=0.1,",
	    ",drop=0.1",
	    "drop=0.1,,dup=0.1",
	    "drop=1.5",
	    "drop=-0.1",
	    "drop=inf",
	    "drop=nan",
	    "drop=0x1p-1",
	    "drop=1e-1",
	    "drop= 0.5",
	    "drop=0.5 ",
	    "drop=0..5",
	    "drop=.",
	    "Drop=0.1",
	    "lose=0.1",
	    "drop=0.1,drop=0.2",
	    "delay=-1",
	    "delay=1.5",
	    "delay=600001",
	    "delay=abc",
	    "seed=18446744073709551616",
	    "drop=0.1;dup=0.1",
	};
	struct chaos_spec s;
	struct err e;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err_clear(&e);
		if (chaos_parse(bad[i], &s, &e) != -1)
			fail_msg("accepted '%s'", bad[i]);
		assert_int_equal(e.code, ERR_INVALID);
		assert_true(strlen(e.msg) > 0);
	}
	assert_int_equal(chaos_parse(NULL, &s, &e), -1);
	/* The message names what is wrong. */
	chaos_parse("drop=0.1,jitter=5", &s, &e);
	assert_non_null(strstr(e.msg, "jitter"));
}

static void
test_chaos_same_seed_gives_same_decisions(void **state)
{
	struct chaos_spec s;
	struct chaos a, b, c;
	struct chaos_decision da, db, dc;
	int i, differ = 0;

	(void)state;
	assert_int_equal(chaos_parse("drop=0.3,dup=0.3,reorder=0.3", &s, NULL), 0);
	chaos_init(&a, &s, 7);
	chaos_init(&b, &s, 7);
	chaos_init(&c, &s, 8);
	for (i = 0; i < 1000; i++) {
		chaos_decide(&a, &da);
		chaos_decide(&b, &db);
		chaos_decide(&c, &dc);
		assert_int_equal(da.action, db.action);
		differ += da.action != dc.action;
	}
	assert_true(differ > 100);
	/* seed= in the spec wins over the seed passed in. */
	assert_int_equal(chaos_parse("drop=0.5,seed=99", &s, NULL), 0);
	chaos_init(&a, &s, 1);
	chaos_init(&b, &s, 2);
	for (i = 0; i < 200; i++) {
		chaos_decide(&a, &da);
		chaos_decide(&b, &db);
		assert_int_equal(da.action, db.action);
	}
}

static void
test_chaos_certain_outcomes(void **state)
{
	static const struct {
		const char *spec;
		enum chaos_action action;
		uint32_t delay;
	} cases[] = {
	    {"delay=40", CHAOS_SEND, 40},
	    {"drop=1,delay=40", CHAOS_DROP, 0},
	    {"dup=1,delay=5", CHAOS_DUPLICATE, 5},
	    {"reorder=1", CHAOS_HOLD, 0},
	    {"drop=1,dup=1,reorder=1", CHAOS_DROP, 0},
	    {"dup=1,reorder=1", CHAOS_DUPLICATE, 0},
	};
	struct chaos_spec s;
	struct chaos c;
	struct chaos_decision d;
	size_t i;
	int k;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		assert_int_equal(chaos_parse(cases[i].spec, &s, NULL), 0);
		chaos_init(&c, &s, i);
		for (k = 0; k < 100; k++) {
			chaos_decide(&c, &d);
			assert_int_equal(d.action, cases[i].action);
			assert_int_equal(d.delay_ms, cases[i].delay);
		}
	}
}

static void
test_chaos_frequencies_follow_probabilities(void **state)
{
	struct chaos_spec s;
	struct chaos c;
	struct chaos_decision d;
	int counts[4] = {0}, i;

	(void)state;
	assert_int_equal(chaos_parse("drop=0.2,dup=0.25,reorder=0.5", &s, NULL), 0);
	chaos_init(&c, &s, 12345);
	for (i = 0; i < 20000; i++) {
		chaos_decide(&c, &d);
		counts[d.action]++;
	}
	/* Expected: drop 20%, dup 80%*25% = 20%, hold 60%*50% = 30%, send 30%. */
	assert_in_range(counts[CHAOS_DROP], 3600, 4400);
	assert_in_range(counts[CHAOS_DUPLICATE], 3600, 4400);
	assert_in_range(counts[CHAOS_HOLD], 5400, 6600);
	assert_in_range(counts[CHAOS_SEND], 5400, 6600);
}

static void
test_chaos_drop_rate_does_not_shift_the_other_decisions(void **state)
{
	struct chaos_spec s1, s2;
	struct chaos a, b;
	struct chaos_decision da, db;
	int i;

	(void)state;
	assert_int_equal(chaos_parse("dup=0.5", &s1, NULL), 0);
	assert_int_equal(chaos_parse("dup=0.5,drop=0.3", &s2, NULL), 0);
	chaos_init(&a, &s1, 3);
	chaos_init(&b, &s2, 3);
	for (i = 0; i < 1000; i++) {
		chaos_decide(&a, &da);
		chaos_decide(&b, &db);
		if (db.action != CHAOS_DROP)
			assert_int_equal(da.action, db.action);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_chaos_parses_every_key),
	    cmocka_unit_test(test_chaos_rejects_malformed_specs),
	    cmocka_unit_test(test_chaos_same_seed_gives_same_decisions),
	    cmocka_unit_test(test_chaos_certain_outcomes),
	    cmocka_unit_test(test_chaos_frequencies_follow_probabilities),
	    cmocka_unit_test(test_chaos_drop_rate_does_not_shift_the_other_decisions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

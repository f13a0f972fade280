/* Tests for crypto/safety against libsignal-protocol-c's published
 * fingerprint vectors (its tests/test_fingerprint.c, 5200 iterations). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/cprov.h"
#include "crypto/safety.h"

/* Vector data: identity keys, the shared 60-digit number, and each side's
 * scannable encoding (version 1; version 0 only as a wrong-version input). */
static const char ALICE_ID[] = "+14152222222";
static const char BOB_ID[] = "+14153333333";
static const char ALICE_IDENTITY_HEX[] =
    "0506863bc66d02b40d27b8d49ca7c09e9239236f9d7d25d6fcca5ce13c7064d868";
static const char BOB_IDENTITY_HEX[] =
    "05f781b6fb32fed9ba1cf2de978d4d5da28dc34046ae814402b5c0dbd96fda907b";
static const char DISPLAYABLE[] = "300354477692869396892869876765458257569162576843440918079131";
static const char ALICE_SCANNABLE_V1_HEX[] =
    "080112220a201e301a0353dce3dbe7684cb8336e85136cdc0ee96219494ada30"
    "5d62a7bd61df1a220a20d62cbf73a11592015b6b9f1682ac306fea3aaf3885b8"
    "4d12bca631e9d4fb3a4d";
static const char BOB_SCANNABLE_V1_HEX[] =
    "080112220a20d62cbf73a11592015b6b9f1682ac306fea3aaf3885b84d12bca6"
    "31e9d4fb3a4d1a220a201e301a0353dce3dbe7684cb8336e85136cdc0ee96219"
    "494ada305d62a7bd61df";
static const char ALICE_SCANNABLE_V0_HEX[] =
    "080012310a210506863bc66d02b40d27b8d49ca7c09e9239236f9d7d25d6fcca"
    "5ce13c7064d868120c2b31343135323232323232321a310a2105f781b6fb32fe"
    "d9ba1cf2de978d4d5da28dc34046ae814402b5c0dbd96fda907b120c2b313431"
    "3533333333333333";

struct fixture {
	signal_context *ctx;
	uint8_t alice[33], bob[33];
};

static size_t
unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = strlen(s) / 2, i;
	assert_true(n <= cap);
	for (i = 0; i < n; i++) {
		unsigned v;
		assert_int_equal(sscanf(s + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
	return n;
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	struct err e;
	if (f == NULL || cprov_context_create(&f->ctx, &e) != 0)
		return -1;
	unhex(ALICE_IDENTITY_HEX, f->alice, sizeof f->alice);
	unhex(BOB_IDENTITY_HEX, f->bob, sizeof f->bob);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	cprov_context_destroy(f->ctx);
	free(f);
	return 0;
}

static void
test_safety_number_matches_published_vectors_on_both_sides(void **state)
{
	struct fixture *f = *state;
	struct safety_number a, b;
	uint8_t want[128];
	size_t n;
	struct err e;

	assert_int_equal(
	    safety_number_compute(f->ctx, ALICE_ID, f->alice, 33, BOB_ID, f->bob, 33, &a, &e), 0);
	assert_int_equal(
	    safety_number_compute(f->ctx, BOB_ID, f->bob, 33, ALICE_ID, f->alice, 33, &b, &e), 0);
	assert_string_equal(a.digits, DISPLAYABLE);
	assert_string_equal(b.digits, DISPLAYABLE);

	n = unhex(ALICE_SCANNABLE_V1_HEX, want, sizeof want);
	assert_int_equal(a.scannable_len, n);
	assert_memory_equal(a.scannable, want, n);
	n = unhex(BOB_SCANNABLE_V1_HEX, want, sizeof want);
	assert_int_equal(b.scannable_len, n);
	assert_memory_equal(b.scannable, want, n);
	safety_number_clear(&a);
	safety_number_clear(&b);
	assert_null(a.scannable);
}

static void
test_safety_scannable_matches_peer_and_not_a_different_key(void **state)
{
	struct fixture *f = *state;
	struct safety_number a, b, m;
	uint8_t mallory[33];
	struct err e;

	memcpy(mallory, f->bob, sizeof mallory);
	mallory[17] ^= 0x01;
	assert_int_equal(
	    safety_number_compute(f->ctx, ALICE_ID, f->alice, 33, BOB_ID, f->bob, 33, &a, &e), 0);
	assert_int_equal(
	    safety_number_compute(f->ctx, BOB_ID, f->bob, 33, ALICE_ID, f->alice, 33, &b, &e), 0);
	/* What Bob's screen shows if Mallory sits in the middle. */
	assert_int_equal(
	    safety_number_compute(f->ctx, BOB_ID, mallory, 33, ALICE_ID, f->alice, 33, &m, &e), 0);
	assert_string_not_equal(m.digits, a.digits);

	assert_int_equal(safety_scannable_compare(f->ctx, a.scannable, a.scannable_len, b.scannable,
	                                          b.scannable_len, &e),
	                 1);
	assert_int_equal(safety_scannable_compare(f->ctx, b.scannable, b.scannable_len, a.scannable,
	                                          a.scannable_len, &e),
	                 1);
	assert_int_equal(safety_scannable_compare(f->ctx, a.scannable, a.scannable_len, m.scannable,
	                                          m.scannable_len, &e),
	                 0);
	/* Our own code is not the peer's: the halves are swapped. */
	assert_int_equal(safety_scannable_compare(f->ctx, a.scannable, a.scannable_len, a.scannable,
	                                          a.scannable_len, &e),
	                 0);
	safety_number_clear(&a);
	safety_number_clear(&b);
	safety_number_clear(&m);
}

static void
test_safety_scannable_compare_rejects_garbage_and_other_versions(void **state)
{
	struct fixture *f = *state;
	struct safety_number a;
	uint8_t v0[128], junk[64], *huge;
	size_t n0, i;
	struct err e;

	assert_int_equal(
	    safety_number_compute(f->ctx, ALICE_ID, f->alice, 33, BOB_ID, f->bob, 33, &a, &e), 0);
	n0 = unhex(ALICE_SCANNABLE_V0_HEX, v0, sizeof v0);
	assert_int_equal(safety_scannable_compare(f->ctx, a.scannable, a.scannable_len, v0, n0, &e),
	                 -1);
	assert_int_equal(e.code, ERR_INVALID);
	/* A version-0 code as "ours" is refused too, never read by libsignal. */
	assert_int_equal(safety_scannable_compare(f->ctx, v0, n0, a.scannable, a.scannable_len, &e),
	                 -1);

	for (i = 0; i < sizeof junk; i++)
		junk[i] = (uint8_t)(0xff - i * 7);
	assert_int_equal(
	    safety_scannable_compare(f->ctx, a.scannable, a.scannable_len, junk, sizeof junk, &e),
	    -1);
	assert_int_equal(e.code, ERR_INVALID);
	assert_int_equal(
	    safety_scannable_compare(f->ctx, a.scannable, a.scannable_len, junk, 0, &e), -1);
	/* Every truncation of a valid code. */
	for (i = 0; i < a.scannable_len; i++)
		assert_int_equal(safety_scannable_compare(f->ctx, a.scannable, a.scannable_len,
		                                          a.scannable, i, &e),
		                 -1);
	huge = calloc(1, SAFETY_SCANNABLE_MAX + 1);
	assert_non_null(huge);
	assert_int_equal(safety_scannable_compare(f->ctx, a.scannable, a.scannable_len, huge,
	                                          SAFETY_SCANNABLE_MAX + 1, &e),
	                 -1);
	assert_int_equal(e.code, ERR_INVALID);
	free(huge);
	safety_number_clear(&a);
}

static void
test_safety_number_rejects_bad_keys_and_identifiers(void **state)
{
	struct fixture *f = *state;
	struct safety_number a;
	uint8_t bad[33];
	char long_id[SAFETY_ID_MAX + 2];
	struct err e;

	memcpy(bad, f->bob, sizeof bad);
	bad[0] = 0x04; /* not a djb key */
	assert_int_equal(
	    safety_number_compute(f->ctx, ALICE_ID, f->alice, 33, BOB_ID, bad, 33, &a, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	assert_int_equal(
	    safety_number_compute(f->ctx, ALICE_ID, f->alice, 32, BOB_ID, f->bob, 33, &a, &e), -1);
	assert_int_equal(
	    safety_number_compute(f->ctx, ALICE_ID, NULL, 33, BOB_ID, f->bob, 33, &a, &e), -1);
	assert_int_equal(
	    safety_number_compute(f->ctx, "", f->alice, 33, BOB_ID, f->bob, 33, &a, &e), -1);
	memset(long_id, 'x', sizeof long_id - 1);
	long_id[sizeof long_id - 1] = '\0';
	assert_int_equal(
	    safety_number_compute(f->ctx, ALICE_ID, f->alice, 33, long_id, f->bob, 33, &a, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	assert_null(a.scannable);
}

static void
test_safety_format_groups_makes_twelve_groups_of_five(void **state)
{
	char out[SAFETY_GROUPED_LEN];
	(void)state;
	safety_format_groups(DISPLAYABLE, out);
	assert_string_equal(out, "30035 44776 92869 39689 28698 76765 "
	                         "45825 75691 62576 84344 09180 79131");
	assert_int_equal(strlen(out), SAFETY_GROUPED_LEN - 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_safety_number_matches_published_vectors_on_both_sides),
	    cmocka_unit_test(test_safety_scannable_matches_peer_and_not_a_different_key),
	    cmocka_unit_test(test_safety_scannable_compare_rejects_garbage_and_other_versions),
	    cmocka_unit_test(test_safety_number_rejects_bad_keys_and_identifiers),
	    cmocka_unit_test(test_safety_format_groups_makes_twelve_groups_of_five),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

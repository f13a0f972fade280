/* Tests for crypto/pad: 0x80-marker padding to multiples of 160 bytes and
 * its strict inverse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/pad.h"

static void
pad_and_check(const uint8_t *content, size_t len)
{
	uint8_t *out = NULL;
	size_t out_len = 0, back = 0, i;
	struct err e;

	assert_int_equal(pad_message(content, len, &out, &out_len, &e), 0);
	assert_int_equal(out_len % PAD_BLOCK, 0);
	assert_true(out_len > len);
	assert_true(out_len - len <= PAD_BLOCK);
	assert_int_equal(out_len, pad_padded_len(len));
	if (len > 0)
		assert_memory_equal(out, content, len);
	assert_int_equal(out[len], 0x80);
	for (i = len + 1; i < out_len; i++)
		assert_int_equal(out[i], 0);
	assert_int_equal(pad_unpad(out, out_len, &back, &e), 0);
	assert_int_equal(back, len);
	free(out);
}

static void
test_pad_sizes_round_up_to_next_block_with_at_least_one_byte(void **state)
{
	(void)state;
	assert_int_equal(pad_padded_len(0), 160);
	assert_int_equal(pad_padded_len(1), 160);
	assert_int_equal(pad_padded_len(159), 160);
	assert_int_equal(pad_padded_len(160), 320);
	assert_int_equal(pad_padded_len(319), 320);
	assert_int_equal(pad_padded_len(320), 480);
}

/* Contents ending in 0x00 or 0x80 are the tricky ones for the scan back. */
static void
test_pad_round_trips_every_length_up_to_three_blocks(void **state)
{
	uint8_t content[3 * PAD_BLOCK + 1] = {0};
	size_t len, i;

	(void)state;
	for (len = 0; len <= sizeof content; len++) {
		for (i = 0; i < len; i++)
			content[i] = (uint8_t)(i * 37 + len);
		pad_and_check(content, len);
		if (len > 0) {
			content[len - 1] = 0x00;
			pad_and_check(content, len);
			content[len - 1] = 0x80;
			pad_and_check(content, len);
		}
	}
}

static void
test_pad_accepts_max_and_refuses_larger(void **state)
{
	uint8_t *big = calloc(1, PAD_MAX + 1), *out = NULL;
	size_t out_len = 0;
	struct err e;

	(void)state;
	assert_non_null(big);
	pad_and_check(big, PAD_MAX);
	assert_int_equal(pad_message(big, PAD_MAX + 1, &out, &out_len, &e), -1);
	assert_int_equal(e.code, ERR_TOOLARGE);
	assert_null(out);
	free(big);
}

static void
test_pad_unpad_rejects_empty_all_zero_and_missing_marker(void **state)
{
	uint8_t buf[PAD_BLOCK] = {0};
	size_t len = 12345;
	struct err e;

	(void)state;
	assert_int_equal(pad_unpad(buf, 0, &len, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	assert_int_equal(pad_unpad(NULL, 0, &len, &e), -1);

	memset(buf, 0, sizeof buf);
	assert_int_equal(pad_unpad(buf, sizeof buf, &len, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);

	/* Content, then zeros, but no marker. */
	memset(buf, 'a', 10);
	assert_int_equal(pad_unpad(buf, sizeof buf, &len, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);

	/* A marker followed by something other than zeros. */
	buf[10] = 0x80;
	buf[20] = 0x01;
	assert_int_equal(pad_unpad(buf, sizeof buf, &len, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);

	/* No padding at all: last byte is content. */
	memset(buf, 'a', sizeof buf);
	assert_int_equal(pad_unpad(buf, sizeof buf, &len, &e), -1);
	assert_int_equal(len, 12345); /* untouched on failure */

	/* Fixed: marker then zeros. */
	memset(buf + 10, 0, sizeof buf - 10);
	buf[10] = 0x80;
	assert_int_equal(pad_unpad(buf, sizeof buf, &len, &e), 0);
	assert_int_equal(len, 10);
}

static void
test_pad_unpad_rejects_oversized_input(void **state)
{
	size_t n = PAD_MAX_PADDED + PAD_BLOCK, len = 0;
	uint8_t *buf = calloc(1, n);
	struct err e;

	(void)state;
	assert_non_null(buf);
	buf[0] = 0x80;
	assert_int_equal(pad_unpad(buf, n, &len, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	assert_int_equal(pad_unpad(buf, PAD_MAX_PADDED, &len, &e), 0);
	assert_int_equal(len, 0);
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pad_sizes_round_up_to_next_block_with_at_least_one_byte),
	    cmocka_unit_test(test_pad_round_trips_every_length_up_to_three_blocks),
	    cmocka_unit_test(test_pad_accepts_max_and_refuses_larger),
	    cmocka_unit_test(test_pad_unpad_rejects_empty_all_zero_and_missing_marker),
	    cmocka_unit_test(test_pad_unpad_rejects_oversized_input),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

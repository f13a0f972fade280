/* qr_print: the text drawing must be the code libqrencode made, module
 * for module, with its quiet zone, or a phone cannot scan it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <qrencode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qr.h"

/* Read one drawn cell back: top and bottom module, 1 = dark. */
static void
test_qr_cell(const char *s, size_t *used, int *top, int *bottom)
{
	if (strncmp(s, "\u2588", 3) == 0) { /* full block: both light */
		*top = *bottom = 0;
		*used = 3;
	} else if (strncmp(s, "\u2580", 3) == 0) { /* upper half: bottom dark */
		*top = 0;
		*bottom = 1;
		*used = 3;
	} else if (strncmp(s, "\u2584", 3) == 0) { /* lower half: top dark */
		*top = 1;
		*bottom = 0;
		*used = 3;
	} else {
		assert_int_equal(*s, ' ');
		*top = *bottom = 1;
		*used = 1;
	}
}

static void
test_qr_drawing_matches_the_encoded_matrix_with_quiet_zone(void **state)
{
	const uint8_t data[] = "\x00\x01sotto scannable safety number\xff";
	char *text = NULL, *line, *save = NULL;
	size_t size_text = 0, used;
	FILE *f = open_memstream(&text, &size_text);
	QRcode *q = QRcode_encodeData(sizeof data, data, 0, QR_ECLEVEL_M);
	int width, y = 0, x, top, bottom, rows = 0;
	struct err e;

	(void)state;
	assert_non_null(q);
	width = q->width + 8;
	assert_int_equal(qr_print(f, data, sizeof data, &e), 0);
	fclose(f);
	for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		const char *p = line;
		for (x = 0; x < width; x++) {
			int want_top, want_bottom, mx = x - 4, my = y - 4;
			test_qr_cell(p, &used, &top, &bottom);
			p += used;
			want_top = mx >= 0 && my >= 0 && mx < q->width && my < q->width &&
			           (q->data[my * q->width + mx] & 1);
			want_bottom = mx >= 0 && my + 1 >= 0 && mx < q->width &&
			              my + 1 < q->width && (q->data[(my + 1) * q->width + mx] & 1);
			assert_int_equal(top, want_top);
			assert_int_equal(bottom, want_bottom);
		}
		assert_int_equal(*p, '\0');
		y += 2;
		rows++;
	}
	assert_int_equal(rows, (width + 1) / 2);
	QRcode_free(q);
	free(text);
}

static void
test_qr_refuses_empty_data(void **state)
{
	struct err e;

	(void)state;
	assert_int_equal(qr_print(stdout, (const uint8_t *)"", 0, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_qr_drawing_matches_the_encoded_matrix_with_quiet_zone),
	    cmocka_unit_test(test_qr_refuses_empty_data),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* QR codes as text: libqrencode makes the matrix, we draw it with half
 * blocks so a code fits an 80x24 terminal. */
#include "qr.h"

#include <qrencode.h>

#define QR_QUIET 4 /* light modules around the code, as the standard asks */

/* Module (x, y) of the code with its quiet zone: 1 if dark. */
static int
qr_dark(const QRcode *q, int x, int y)
{
	x -= QR_QUIET;
	y -= QR_QUIET;
	if (x < 0 || y < 0 || x >= q->width || y >= q->width)
		return 0;
	return q->data[y * q->width + x] & 1;
}

int
qr_print(FILE *f, const uint8_t *data, size_t len, struct err *e)
{
	/* Light modules are drawn in the foreground colour, dark ones as
	 * background, so the code reads on the usual light-on-dark terminal.
	 * Index: top module dark = 1, bottom module dark = 2. */
	static const char *const cell[4] = {"\u2588", "\u2584", "\u2580", " "};
	QRcode *q;
	int x, y, size;

	if (len == 0 || len > 2000)
		return err_set(e, ERR_INVALID, "no data for a QR code");
	q = QRcode_encodeData((int)len, data, 0, QR_ECLEVEL_M);
	if (q == NULL)
		return err_set(e, ERR_INTERNAL, "cannot make the QR code");
	size = q->width + 2 * QR_QUIET;
	for (y = 0; y < size; y += 2) {
		for (x = 0; x < size; x++)
			fputs(cell[qr_dark(q, x, y) | qr_dark(q, x, y + 1) << 1], f);
		fputc('\n', f);
	}
	QRcode_free(q);
	return 0;
}

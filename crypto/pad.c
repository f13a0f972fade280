/* Padding to multiples of PAD_BLOCK with a 0x80 marker, and its strict
 * inverse. The bound keeps a hostile length from reaching the allocator. */
#include "crypto/pad.h"

#include <string.h>

#include "util/xmalloc.h"

#define PAD_MARKER 0x80

size_t
pad_padded_len(size_t len)
{
	return (len / PAD_BLOCK + 1) * PAD_BLOCK;
}

int
pad_message(const uint8_t *content, size_t len, uint8_t **out, size_t *out_len, struct err *e)
{
	size_t total;
	uint8_t *buf;

	if (len > PAD_MAX)
		return err_set(e, ERR_TOOLARGE, "message of %zu bytes exceeds %d", len, PAD_MAX);
	if (content == NULL && len > 0)
		return err_set(e, ERR_INVALID, "no content");
	total = pad_padded_len(len);
	buf = xcalloc(1, total);
	if (len > 0)
		memcpy(buf, content, len);
	buf[len] = PAD_MARKER;
	*out = buf;
	*out_len = total;
	return 0;
}

int
pad_unpad(const uint8_t *buf, size_t len, size_t *content_len, struct err *e)
{
	size_t i;

	if (buf == NULL || len == 0)
		return err_set(e, ERR_INVALID, "empty padded message");
	if (len > PAD_MAX_PADDED)
		return err_set(e, ERR_INVALID, "padded message of %zu bytes is too long", len);
	for (i = len; i > 0 && buf[i - 1] == 0; i--)
		;
	if (i == 0)
		return err_set(e, ERR_INVALID, "padding without marker (all zeros)");
	if (buf[i - 1] != PAD_MARKER)
		return err_set(e, ERR_INVALID, "padding marker missing");
	*content_len = i - 1;
	return 0;
}

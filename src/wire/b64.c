/* Strict base64 and base64url. Written here rather than taken from OpenSSL
 * because EVP_DecodeBlock accepts white space and non-canonical padding,
 * and a frame must have exactly one valid spelling. */
#include "wire/b64.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char b64_std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Each byte's value in the alphabet, or -1: one load per character, since
 * every byte of every envelope comes through here. */
/* clang-format off */
static const int8_t b64_std_value[256] = {
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 62, -1, -1, -1, 63,
	52, 53, 54, 55, 56, 57, 58, 59, 60, 61, -1, -1, -1, -1, -1, -1,
	-1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
	15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, -1, -1, -1, -1, -1,
	-1, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
	41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
};
static const int8_t b64_url_value[256] = {
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 62, -1, -1,
	52, 53, 54, 55, 56, 57, 58, 59, 60, 61, -1, -1, -1, -1, -1, -1,
	-1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
	15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, -1, -1, -1, -1, 63,
	-1, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
	41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
};
/* clang-format on */

static const int8_t *
b64_values(const char *alphabet)
{
	return alphabet == b64_url ? b64_url_value : b64_std_value;
}

static void
b64_encode_into(const char *alphabet, int pad, const uint8_t *data, size_t n, char *out)
{
	size_t i, o = 0;
	uint32_t v;

	for (i = 0; i + 3 <= n; i += 3) {
		v = (uint32_t)data[i] << 16 | (uint32_t)data[i + 1] << 8 | data[i + 2];
		out[o++] = alphabet[v >> 18 & 63];
		out[o++] = alphabet[v >> 12 & 63];
		out[o++] = alphabet[v >> 6 & 63];
		out[o++] = alphabet[v & 63];
	}
	if (n - i == 1) {
		v = (uint32_t)data[i] << 16;
		out[o++] = alphabet[v >> 18 & 63];
		out[o++] = alphabet[v >> 12 & 63];
		if (pad) {
			out[o++] = '=';
			out[o++] = '=';
		}
	} else if (n - i == 2) {
		v = (uint32_t)data[i] << 16 | (uint32_t)data[i + 1] << 8;
		out[o++] = alphabet[v >> 18 & 63];
		out[o++] = alphabet[v >> 12 & 63];
		out[o++] = alphabet[v >> 6 & 63];
		if (pad)
			out[o++] = '=';
	}
	out[o] = '\0';
}

/* Decode len characters without padding (already stripped by the caller)
 * into out, which has room for len * 3 / 4 bytes. Returns the byte count or
 * -1 with e set. */
static int
b64_decode_into(const char *alphabet, const char *s, size_t len, uint8_t *out, size_t *out_len,
                struct err *e)
{
	const int8_t *val = b64_values(alphabet);
	const unsigned char *u = (const unsigned char *)s;
	size_t i, o = 0, rem = len % 4, k;
	int32_t a, b, c, d;
	uint32_t v;

	if (rem == 1)
		return err_set(e, ERR_INVALID, "base64: impossible length %zu", len);
	for (i = 0; i + 4 <= len; i += 4) {
		a = val[u[i]];
		b = val[u[i + 1]];
		c = val[u[i + 2]];
		d = val[u[i + 3]];
		if ((a | b | c | d) < 0)
			goto bad;
		v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | (uint32_t)d;
		out[o++] = (uint8_t)(v >> 16);
		out[o++] = (uint8_t)(v >> 8);
		out[o++] = (uint8_t)v;
	}
	if (rem != 0) {
		a = val[u[i]];
		b = val[u[i + 1]];
		c = rem == 3 ? val[u[i + 2]] : 0;
		if ((a | b | c) < 0)
			goto bad;
		v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6;
		/* Canonical form: the bits below the last output byte are zero. */
		if ((rem == 2 && (v & 0xFFFF) != 0) || (rem == 3 && (v & 0xFF) != 0))
			return err_set(e, ERR_INVALID, "base64: non-zero trailing bits");
		out[o++] = (uint8_t)(v >> 16);
		if (rem == 3)
			out[o++] = (uint8_t)(v >> 8);
	}
	*out_len = o;
	return 0;
bad:
	for (k = i; k < len && val[u[k]] >= 0; k++)
		;
	return err_set(e, ERR_INVALID, "base64: bad character at offset %zu", k);
}

size_t
b64_encoded_len(size_t n)
{
	return (n + 2) / 3 * 4;
}

char *
b64_encode(const uint8_t *data, size_t n)
{
	char *out = xmalloc(b64_encoded_len(n) + 1);
	b64_encode_into(b64_std, 1, data, n, out);
	return out;
}

/* Strip canonical padding: the length must be a multiple of 4 and at most
 * two '=' end it. Returns the length of the unpadded part or -1. */
static int
b64_strip_padding(const char *s, size_t len, size_t *unpadded, struct err *e)
{
	size_t n = len;

	if (len % 4 != 0)
		return err_set(e, ERR_INVALID, "base64: length %zu is not a multiple of 4", len);
	if (n > 0 && s[n - 1] == '=')
		n--;
	if (n > 0 && s[n - 1] == '=')
		n--;
	if (n % 4 == 1)
		return err_set(e, ERR_INVALID, "base64: bad padding");
	*unpadded = n;
	return 0;
}

int
b64_decode(const char *s, size_t len, uint8_t **out, size_t *out_len, struct err *e)
{
	size_t n, got;
	uint8_t *buf;

	if (b64_strip_padding(s, len, &n, e) < 0)
		return -1;
	buf = xmalloc(n * 3 / 4 + 1);
	if (b64_decode_into(b64_std, s, n, buf, &got, e) < 0) {
		free(buf);
		return -1;
	}
	*out = buf;
	*out_len = got;
	return 0;
}

static int
b64_decode_exact_with(const char *alphabet, int padded, const char *s, size_t len, uint8_t *out,
                      size_t want, struct err *e)
{
	size_t n = len, got = 0;
	uint8_t *buf;
	int rc;

	if (padded && b64_strip_padding(s, len, &n, e) < 0)
		return -1;
	if (!padded && len % 4 == 1)
		return err_set(e, ERR_INVALID, "base64url: impossible length %zu", len);
	/* Refuse before decoding: the length alone tells the byte count. */
	if (n * 3 / 4 != want)
		return err_set(e, ERR_INVALID, "base64: expected %zu bytes, got %zu", want,
		               n * 3 / 4);
	buf = xmalloc(want + 1);
	rc = b64_decode_into(alphabet, s, n, buf, &got, e);
	if (rc == 0 && got == want)
		memcpy(out, buf, want);
	else
		memset(out, 0, want);
	wipe_free(buf, want + 1);
	if (rc == 0 && got != want)
		return err_set(e, ERR_INVALID, "base64: expected %zu bytes, got %zu", want, got);
	return rc;
}

int
b64_decode_exact(const char *s, size_t len, uint8_t *out, size_t want, struct err *e)
{
	return b64_decode_exact_with(b64_std, 1, s, len, out, want, e);
}

size_t
b64url_encoded_len(size_t n)
{
	return n / 3 * 4 + (n % 3 == 0 ? 0 : n % 3 + 1);
}

char *
b64url_encode(const uint8_t *data, size_t n)
{
	char *out = xmalloc(b64_encoded_len(n) + 1);
	b64_encode_into(b64_url, 0, data, n, out);
	return out;
}

int
b64url_decode_exact(const char *s, size_t len, uint8_t *out, size_t want, struct err *e)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] == '=')
			return err_set(e, ERR_INVALID, "base64url: padding is not allowed");
	return b64_decode_exact_with(b64_url, 0, s, len, out, want, e);
}

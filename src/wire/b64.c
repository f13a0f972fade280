/* Strict base64 and base64url. Written here rather than taken from OpenSSL
 * because EVP_DecodeBlock accepts white space and non-canonical padding,
 * and a frame must have exactly one valid spelling. */
#include "wire/b64.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char b64_std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Each byte's value in the alphabet plus one, so that every byte not
 * listed (0) is outside it: one load per character, since every byte of
 * every envelope comes through here. The two alphabets differ only in
 * their last two characters. */
/* clang-format off */
#define B64_VALUES(c62, c63) { \
	['A'] = 1, ['B'] = 2, ['C'] = 3, ['D'] = 4, ['E'] = 5, ['F'] = 6, ['G'] = 7, \
	['H'] = 8, ['I'] = 9, ['J'] = 10, ['K'] = 11, ['L'] = 12, ['M'] = 13, ['N'] = 14, \
	['O'] = 15, ['P'] = 16, ['Q'] = 17, ['R'] = 18, ['S'] = 19, ['T'] = 20, ['U'] = 21, \
	['V'] = 22, ['W'] = 23, ['X'] = 24, ['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28, \
	['c'] = 29, ['d'] = 30, ['e'] = 31, ['f'] = 32, ['g'] = 33, ['h'] = 34, ['i'] = 35, \
	['j'] = 36, ['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40, ['o'] = 41, ['p'] = 42, \
	['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48, ['w'] = 49, \
	['x'] = 50, ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54, ['2'] = 55, ['3'] = 56, \
	['4'] = 57, ['5'] = 58, ['6'] = 59, ['7'] = 60, ['8'] = 61, ['9'] = 62, [c62] = 63, \
	[c63] = 64 }
static const int8_t b64_std_value[256] = B64_VALUES('+', '/');
static const int8_t b64_url_value[256] = B64_VALUES('-', '_');
/* clang-format on */

/* The value of character ch under table t, or -1. */
#define B64_VAL(t, ch) ((int32_t)(t)[ch] - 1)

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
		a = B64_VAL(val, u[i]);
		b = B64_VAL(val, u[i + 1]);
		c = B64_VAL(val, u[i + 2]);
		d = B64_VAL(val, u[i + 3]);
		if ((a | b | c | d) < 0)
			goto bad;
		v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | (uint32_t)d;
		out[o++] = (uint8_t)(v >> 16);
		out[o++] = (uint8_t)(v >> 8);
		out[o++] = (uint8_t)v;
	}
	if (rem != 0) {
		a = B64_VAL(val, u[i]);
		b = B64_VAL(val, u[i + 1]);
		c = rem == 3 ? B64_VAL(val, u[i + 2]) : 0;
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
	for (k = i; k < len && B64_VAL(val, u[k]) >= 0; k++)
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

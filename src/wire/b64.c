/* Strict base64 and base64url. Written here rather than taken from OpenSSL
 * because EVP_DecodeBlock accepts white space and non-canonical padding,
 * and a frame must have exactly one valid spelling. */
#include "wire/b64.h"

#include <stdlib.h>
#include <string.h>

static const char b64_std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Value of c in the alphabet, or -1. Both alphabets share their first 62
 * characters; ranges, not a search of the alphabet: every byte of every
 * envelope comes through here. */
static int
b64_value(const char *alphabet, unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == (unsigned char)alphabet[62])
		return 62;
	if (c == (unsigned char)alphabet[63])
		return 63;
	return -1;
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
	size_t i, o = 0, rem = len % 4;
	uint32_t v;
	int c[4], k;

	if (rem == 1)
		return err_set(e, ERR_INVALID, "base64: impossible length %zu", len);
	for (i = 0; i < len; i += 4) {
		size_t take = len - i < 4 ? len - i : 4;
		v = 0;
		for (k = 0; k < (int)take; k++) {
			c[k] = b64_value(alphabet, (unsigned char)s[i + k]);
			if (c[k] < 0)
				return err_set(e, ERR_INVALID,
				               "base64: bad character at offset %zu", i + k);
			v |= (uint32_t)c[k] << (18 - 6 * k);
		}
		out[o++] = (uint8_t)(v >> 16);
		if (take >= 3)
			out[o++] = (uint8_t)(v >> 8);
		if (take == 4)
			out[o++] = (uint8_t)v;
		/* Canonical form: the bits below the last output byte are zero. */
		if ((take == 2 && (v & 0xFFFF) != 0) || (take == 3 && (v & 0xFF) != 0))
			return err_set(e, ERR_INVALID, "base64: non-zero trailing bits");
	}
	*out_len = o;
	return 0;
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

/* Strict base64 (RFC 4648): the standard alphabet with padding for binary
 * fields of frames, and base64url without padding for blob ids. Decoding
 * refuses anything that is not the one canonical encoding of its bytes. */
#ifndef SOTTO_B64_H
#define SOTTO_B64_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* Characters (without NUL) that b64_encode() produces for n bytes. */
size_t b64_encoded_len(size_t n);
/* Encode n bytes; the caller owns the NUL-terminated result (free()). */
char *b64_encode(const uint8_t *data, size_t n);
/* Decode exactly len characters of s (no NUL needed). Refuses white space,
 * missing or misplaced padding, characters outside the alphabet and
 * non-zero unused bits (ERR_INVALID). On success *out is malloc'ed (owned
 * by the caller; at least one byte even when *out_len is 0). */
int b64_decode(const char *s, size_t len, uint8_t **out, size_t *out_len, struct err *e);
/* Decode into a fixed buffer that must come out exactly `want` bytes long
 * (ERR_INVALID otherwise; out is then left zeroed). */
int b64_decode_exact(const char *s, size_t len, uint8_t *out, size_t want, struct err *e);

/* base64url without padding ('-' and '_' for '+' and '/'). */
size_t b64url_encoded_len(size_t n);
char *b64url_encode(const uint8_t *data, size_t n);
int b64url_decode_exact(const char *s, size_t len, uint8_t *out, size_t want, struct err *e);

#endif

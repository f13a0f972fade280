/* Signal-style message padding: the plaintext handed to e2e_encrypt() is
 * content + 0x80 + zeros up to the next multiple of PAD_BLOCK bytes, so the
 * relay learns only a coarse length. */
#ifndef SOTTO_CRYPTO_PAD_H
#define SOTTO_CRYPTO_PAD_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define PAD_BLOCK 160
/* Largest content pad_message() accepts (256 KiB). */
#define PAD_MAX (256 * 1024)
/* Largest padded message: what PAD_MAX bytes of content pad to. */
#define PAD_MAX_PADDED ((PAD_MAX / PAD_BLOCK + 1) * PAD_BLOCK)

/* Padded length for len bytes of content: always at least one byte more,
 * a whole number of PAD_BLOCK. */
size_t pad_padded_len(size_t len);

/* Pad len bytes of content. On success *out (pad_padded_len(len) bytes,
 * stored in *out_len) is owned by the caller: free() it. Content longer than
 * PAD_MAX gives ERR_TOOLARGE. */
int pad_message(const uint8_t *content, size_t len, uint8_t **out, size_t *out_len, struct err *e);

/* Strict unpadding: skip trailing zeros, require a 0x80 marker. On success
 * *content_len is the length of the content at the start of buf (no copy).
 * Empty, all-zero, marker-less or over-long input gives ERR_INVALID. */
int pad_unpad(const uint8_t *buf, size_t len, size_t *content_len, struct err *e);

#endif

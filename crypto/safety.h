/* Safety numbers: the 60-digit code two people read to each other, and the
 * scannable (QR) form compared by a camera, both from libsignal's
 * fingerprint generator so they match every other client using it. */
#ifndef SOTTO_CRYPTO_SAFETY_H
#define SOTTO_CRYPTO_SAFETY_H

#include <stddef.h>
#include <stdint.h>

#include <signal/signal_protocol.h>

#include "util/err.h"

#define SAFETY_ITERATIONS 5200
#define SAFETY_SCANNABLE_VERSION 1
#define SAFETY_DIGITS 60
/* 12 groups of 5 digits, 11 separating spaces, NUL. */
#define SAFETY_GROUPED_LEN (SAFETY_DIGITS + SAFETY_DIGITS / 5 - 1 + 1)
/* Longest stable identifier (account name) accepted. */
#define SAFETY_ID_MAX 255
/* Longest scanned code accepted (a v1 code is 74 bytes). */
#define SAFETY_SCANNABLE_MAX 1024

struct safety_number {
	char digits[SAFETY_DIGITS + 1]; /* same text on both sides */
	uint8_t *scannable;             /* what to put in the QR code; free() */
	size_t scannable_len;
};

/* Compute the safety number between us (local_id, local_pub) and a peer
 * (remote_id, remote_pub). Ids are the stable account names; keys are
 * serialized identity public keys (33 bytes). On success the caller owns
 * out->scannable: safety_number_clear(). */
int safety_number_compute(signal_context *ctx, const char *local_id, const uint8_t *local_pub,
                          size_t local_pub_len, const char *remote_id, const uint8_t *remote_pub,
                          size_t remote_pub_len, struct safety_number *out, struct err *e);

/* Free what safety_number_compute() allocated. */
void safety_number_clear(struct safety_number *sn);

/* Write digits (SAFETY_DIGITS of them) as "12345 67890 ..." into out. */
void safety_format_groups(const char *digits, char out[SAFETY_GROUPED_LEN]);

/* Compare our scannable code with one scanned from the peer's screen.
 * Returns 1 if they match, 0 if they differ (the keys are not the ones the
 * peer sees), or -1 with ERR_INVALID for a code that cannot be read, has
 * another version, or belongs to another conversation. */
int safety_scannable_compare(signal_context *ctx, const uint8_t *ours, size_t ours_len,
                             const uint8_t *scanned, size_t scanned_len, struct err *e);

#endif

/* Safety numbers through libsignal's fingerprint generator (5200
 * iterations, scannable version 1, as every side must use the same). */
#include "crypto/safety.h"

#include <string.h>

#include <signal/curve.h>
#include <signal/fingerprint.h>

#include "util/xmalloc.h"

static int
safety_check_id(const char *id, const char *which, struct err *e)
{
	size_t len;

	if (id == NULL)
		return err_set(e, ERR_INVALID, "no %s identifier", which);
	len = strnlen(id, SAFETY_ID_MAX + 1);
	if (len == 0 || len > SAFETY_ID_MAX)
		return err_set(e, ERR_INVALID, "%s identifier empty or too long", which);
	return 0;
}

int
safety_number_compute(signal_context *ctx, const char *local_id, const uint8_t *local_pub,
                      size_t local_pub_len, const char *remote_id, const uint8_t *remote_pub,
                      size_t remote_pub_len, struct safety_number *out, struct err *e)
{
	ec_public_key *local_key = NULL, *remote_key = NULL;
	fingerprint_generator *gen = NULL;
	fingerprint *fp = NULL;
	signal_buffer *scan = NULL;
	const char *text;
	int rc, ret = -1;

	memset(out, 0, sizeof *out);
	if (safety_check_id(local_id, "local", e) < 0 ||
	    safety_check_id(remote_id, "remote", e) < 0)
		return -1;
	if (local_pub == NULL ||
	    curve_decode_point(&local_key, local_pub, local_pub_len, ctx) != 0) {
		err_set(e, ERR_INVALID, "local identity key is not a public key");
		goto out;
	}
	if (remote_pub == NULL ||
	    curve_decode_point(&remote_key, remote_pub, remote_pub_len, ctx) != 0) {
		err_set(e, ERR_INVALID, "remote identity key is not a public key");
		goto out;
	}
	rc = fingerprint_generator_create(&gen, SAFETY_ITERATIONS, SAFETY_SCANNABLE_VERSION, ctx);
	if (rc == 0)
		rc = fingerprint_generator_create_for(gen, local_id, local_key, remote_id,
		                                      remote_key, &fp);
	if (rc != 0) {
		err_set(e, ERR_INTERNAL, "computing fingerprint failed (%d)", rc);
		goto out;
	}
	text = displayable_fingerprint_text(fingerprint_get_displayable(fp));
	if (text == NULL || strlen(text) != SAFETY_DIGITS) {
		err_set(e, ERR_INTERNAL, "fingerprint is not %d digits", SAFETY_DIGITS);
		goto out;
	}
	rc = scannable_fingerprint_serialize(&scan, fingerprint_get_scannable(fp));
	if (rc != 0) {
		err_set(e, ERR_INTERNAL, "serializing scannable fingerprint failed (%d)", rc);
		goto out;
	}
	memcpy(out->digits, text, SAFETY_DIGITS + 1);
	out->scannable_len = signal_buffer_len(scan);
	out->scannable = xmemdup(signal_buffer_data(scan), out->scannable_len);
	ret = 0;
out:
	signal_buffer_free(scan);
	SIGNAL_UNREF(fp);
	fingerprint_generator_free(gen);
	SIGNAL_UNREF(remote_key);
	SIGNAL_UNREF(local_key);
	return ret;
}

void
safety_number_clear(struct safety_number *sn)
{
	free(sn->scannable);
	memset(sn, 0, sizeof *sn);
}

void
safety_format_groups(const char *digits, char out[SAFETY_GROUPED_LEN])
{
	size_t i, o = 0;

	for (i = 0; i < SAFETY_DIGITS; i++) {
		if (i > 0 && i % 5 == 0)
			out[o++] = ' ';
		out[o++] = digits[i];
	}
	out[o] = '\0';
}

/* Deserialize a scannable code and insist on our version: libsignal's own
 * compare would read absent version-0 identifiers. */
static int
safety_read_scannable(signal_context *ctx, const uint8_t *data, size_t len, const char *which,
                      scannable_fingerprint **out, struct err *e)
{
	if (data == NULL || len == 0 || len > SAFETY_SCANNABLE_MAX)
		return err_set(e, ERR_INVALID, "%s code is empty or too long", which);
	if (scannable_fingerprint_deserialize(out, data, len, ctx) != 0)
		return err_set(e, ERR_INVALID, "%s code cannot be read", which);
	if (scannable_fingerprint_get_version(*out) != SAFETY_SCANNABLE_VERSION ||
	    scannable_fingerprint_get_local_fingerprint(*out) == NULL ||
	    scannable_fingerprint_get_remote_fingerprint(*out) == NULL)
		return err_set(e, ERR_INVALID, "%s code has another version", which);
	return 0;
}

int
safety_scannable_compare(signal_context *ctx, const uint8_t *ours, size_t ours_len,
                         const uint8_t *scanned, size_t scanned_len, struct err *e)
{
	scannable_fingerprint *a = NULL, *b = NULL;
	int rc, ret = -1;

	if (safety_read_scannable(ctx, ours, ours_len, "our", &a, e) < 0 ||
	    safety_read_scannable(ctx, scanned, scanned_len, "scanned", &b, e) < 0)
		goto out;
	rc = scannable_fingerprint_compare(a, b);
	if (rc == 1 || rc == 0)
		ret = rc;
	else if (rc == SG_ERR_FP_IDENT_MISMATCH)
		err_set(e, ERR_INVALID, "scanned code belongs to another conversation");
	else
		err_set(e, ERR_INVALID, "scanned code has another version (%d)", rc);
out:
	SIGNAL_UNREF(b);
	SIGNAL_UNREF(a);
	return ret;
}

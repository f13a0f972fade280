/* Identity, one-time and signed prekey generation through libsignal, plus
 * the signed prekey rotation policy. Keys leave here serialized; storing
 * identities is the caller's business, prekeys go through the store. */
#include "crypto/keygen.h"

#include <string.h>

#include <signal/curve.h>
#include <signal/key_helper.h>
#include <signal/ratchet.h>
#include <signal/session_pre_key.h>

#include "util/xmalloc.h"

/* Serialize a public key into exactly KEYGEN_PUB_LEN bytes. */
static int
keygen_put_pub(const ec_public_key *key, uint8_t out[KEYGEN_PUB_LEN], struct err *e)
{
	signal_buffer *buf = NULL;
	int rc;

	rc = ec_public_key_serialize(&buf, key);
	if (rc != 0 || signal_buffer_len(buf) != KEYGEN_PUB_LEN) {
		signal_buffer_free(buf);
		return err_set(e, ERR_INTERNAL, "serializing public key failed (%d)", rc);
	}
	memcpy(out, signal_buffer_data(buf), KEYGEN_PUB_LEN);
	signal_buffer_free(buf);
	return 0;
}

int
keygen_identity_generate(signal_context *ctx, struct keygen_identity *out, struct err *e)
{
	ratchet_identity_key_pair *pair = NULL;
	signal_buffer *priv = NULL;
	uint32_t reg_id = 0;
	int rc, ret = -1;

	rc = signal_protocol_key_helper_generate_identity_key_pair(&pair, ctx);
	if (rc != 0)
		return err_set(e, ERR_INTERNAL, "generating identity key pair failed (%d)", rc);
	if (keygen_put_pub(ratchet_identity_key_pair_get_public(pair), out->pub, e) < 0)
		goto out;
	rc = ec_private_key_serialize(&priv, ratchet_identity_key_pair_get_private(pair));
	if (rc != 0 || signal_buffer_len(priv) != KEYGEN_PRIV_LEN) {
		err_set(e, ERR_INTERNAL, "serializing identity private key failed (%d)", rc);
		goto out;
	}
	memcpy(out->priv, signal_buffer_data(priv), KEYGEN_PRIV_LEN);
	/* 0 selects libsignal's small range, 1..16380. */
	rc = signal_protocol_key_helper_generate_registration_id(&reg_id, 0, ctx);
	if (rc != 0 || reg_id < KEYGEN_REG_ID_MIN || reg_id > KEYGEN_REG_ID_MAX) {
		err_set(e, ERR_INTERNAL, "generating registration id failed (%d)", rc);
		goto out;
	}
	out->registration_id = reg_id;
	ret = 0;
out:
	signal_buffer_bzero_free(priv);
	SIGNAL_UNREF(pair);
	if (ret < 0)
		keygen_identity_wipe(out);
	return ret;
}

void
keygen_identity_wipe(struct keygen_identity *id)
{
	wipe(id->priv, sizeof id->priv);
}

/* The id after id, wrapping KEYGEN_PREKEY_ID_MAX to 1. */
static uint32_t
keygen_id_next(uint32_t id)
{
	return id >= KEYGEN_PREKEY_ID_MAX ? 1 : id + 1;
}

/* The first id at or after *cursor not present according to contains
 * (a libsignal contains_key function); advances *cursor past it. Fails
 * only if every id is taken. */
static int
keygen_free_id(signal_protocol_store_context *store,
               int (*contains)(signal_protocol_store_context *, uint32_t), uint32_t *cursor,
               uint32_t *id_out, struct err *e)
{
	uint32_t id = *cursor, tried;

	if (id == 0 || id > KEYGEN_PREKEY_ID_MAX)
		id = 1;
	for (tried = 0; tried < KEYGEN_PREKEY_ID_MAX; tried++, id = keygen_id_next(id)) {
		int rc = contains(store, id);
		if (rc < 0)
			return err_set(e, ERR_INTERNAL, "prekey store lookup failed (%d)", rc);
		if (rc == 0) {
			*id_out = id;
			*cursor = keygen_id_next(id);
			return 0;
		}
	}
	return err_set(e, ERR_LIMIT, "every prekey id is in use");
}

int
keygen_prekeys_generate(signal_protocol_store_context *store, signal_context *ctx,
                        uint32_t *next_id, size_t count, struct keygen_prekey_pub **out,
                        struct err *e)
{
	struct keygen_prekey_pub *pubs;
	uint32_t cursor = *next_id;
	size_t i;

	if (count == 0 || count > KEYGEN_PREKEY_BATCH_MAX)
		return err_set(e, ERR_INVALID, "prekey batch of %zu (1..%d)", count,
		               KEYGEN_PREKEY_BATCH_MAX);
	pubs = xcalloc(count, sizeof *pubs);
	for (i = 0; i < count; i++) {
		ec_key_pair *pair = NULL;
		session_pre_key *pk = NULL;
		int rc;

		if (keygen_free_id(store, signal_protocol_pre_key_contains_key, &cursor,
		                   &pubs[i].id, e) < 0)
			goto fail;
		rc = curve_generate_key_pair(ctx, &pair);
		if (rc == 0)
			rc = session_pre_key_create(&pk, pubs[i].id, pair);
		if (rc == 0)
			rc = signal_protocol_pre_key_store_key(store, pk);
		if (rc != 0)
			err_set(e, ERR_INTERNAL, "generating prekey %u failed (%d)", pubs[i].id,
			        rc);
		else if (keygen_put_pub(ec_key_pair_get_public(pair), pubs[i].pub, e) < 0)
			rc = -1;
		SIGNAL_UNREF(pk);
		SIGNAL_UNREF(pair);
		if (rc != 0)
			goto fail;
	}
	*next_id = cursor;
	*out = pubs;
	return 0;
fail:
	/* Keys already stored stay: they are valid, merely not uploaded, and
	 * the counter is not advanced so nothing is skipped for good. */
	free(pubs);
	return -1;
}

int
keygen_signed_prekey_generate(signal_protocol_store_context *store, signal_context *ctx,
                              uint32_t *next_id, uint64_t now_ms,
                              struct keygen_signed_prekey_pub *out, struct err *e)
{
	ratchet_identity_key_pair *identity = NULL;
	session_signed_pre_key *spk = NULL;
	uint32_t cursor = *next_id, id;
	int rc, ret = -1;

	if (keygen_free_id(store, signal_protocol_signed_pre_key_contains_key, &cursor, &id, e) < 0)
		return -1;
	rc = signal_protocol_identity_get_key_pair(store, &identity);
	if (rc != 0)
		return err_set(e, ERR_NOTFOUND, "no identity key pair in store (%d)", rc);
	rc = signal_protocol_key_helper_generate_signed_pre_key(&spk, identity, id, now_ms, ctx);
	if (rc != 0) {
		err_set(e, ERR_INTERNAL, "generating signed prekey failed (%d)", rc);
		goto out;
	}
	if (session_signed_pre_key_get_signature_len(spk) != KEYGEN_SIG_LEN) {
		err_set(e, ERR_INTERNAL, "unexpected signature length");
		goto out;
	}
	rc = signal_protocol_signed_pre_key_store_key(store, spk);
	if (rc != 0) {
		err_set(e, ERR_INTERNAL, "storing signed prekey failed (%d)", rc);
		goto out;
	}
	if (keygen_put_pub(ec_key_pair_get_public(session_signed_pre_key_get_key_pair(spk)),
	                   out->pub, e) < 0)
		goto out;
	memcpy(out->sig, session_signed_pre_key_get_signature(spk), KEYGEN_SIG_LEN);
	out->id = id;
	out->created_ms = now_ms;
	*next_id = cursor;
	ret = 0;
out:
	SIGNAL_UNREF(spk);
	SIGNAL_UNREF(identity);
	return ret;
}

/* Is a newer than b? Ties on time go to the larger id, so the order is
 * total and the answer does not depend on the order of the list. */
static int
keygen_spk_newer(const struct keygen_spk_info *a, const struct keygen_spk_info *b)
{
	if (a->created_ms != b->created_ms)
		return a->created_ms > b->created_ms;
	return a->id > b->id;
}

static uint64_t
keygen_age(uint64_t now_ms, uint64_t created_ms)
{
	return created_ms >= now_ms ? 0 : now_ms - created_ms;
}

int
keygen_signed_prekey_plan(const struct keygen_spk_info *keys, size_t n, uint64_t now_ms,
                          uint64_t rotate_after_ms, uint64_t grace_ms, uint32_t *delete_ids,
                          size_t *n_delete)
{
	size_t i, active = 0, newest_old = SIZE_MAX;

	*n_delete = 0;
	if (n == 0)
		return 1;
	for (i = 1; i < n; i++)
		if (keygen_spk_newer(&keys[i], &keys[active]))
			active = i;
	for (i = 0; i < n; i++)
		if (i != active &&
		    (newest_old == SIZE_MAX || keygen_spk_newer(&keys[i], &keys[newest_old])))
			newest_old = i;
	for (i = 0; i < n; i++) {
		if (i == active || i == newest_old)
			continue;
		if (keygen_age(now_ms, keys[i].created_ms) >= grace_ms)
			delete_ids[(*n_delete)++] = keys[i].id;
	}
	return keygen_age(now_ms, keys[active].created_ms) >= rotate_after_ms;
}

int
keygen_bundle_from_store(signal_protocol_store_context *store, int32_t device_id, int has_prekey,
                         uint32_t prekey_id, uint32_t signed_prekey_id, struct keygen_bundle *out,
                         struct err *e)
{
	ratchet_identity_key_pair *identity = NULL;
	session_signed_pre_key *spk = NULL;
	session_pre_key *pk = NULL;
	int rc, ret = -1;

	memset(out, 0, sizeof *out);
	rc = signal_protocol_identity_get_key_pair(store, &identity);
	if (rc != 0)
		return err_set(e, ERR_NOTFOUND, "no identity key pair in store (%d)", rc);
	rc = signal_protocol_identity_get_local_registration_id(store, &out->registration_id);
	if (rc != 0) {
		err_set(e, ERR_NOTFOUND, "no registration id in store (%d)", rc);
		goto out;
	}
	if (keygen_put_pub(ratchet_identity_key_pair_get_public(identity), out->identity_pub, e) <
	    0)
		goto out;
	rc = signal_protocol_signed_pre_key_load_key(store, &spk, signed_prekey_id);
	if (rc != 0) {
		err_set(e, ERR_NOTFOUND, "no signed prekey %u (%d)", signed_prekey_id, rc);
		goto out;
	}
	if (session_signed_pre_key_get_signature_len(spk) != KEYGEN_SIG_LEN) {
		err_set(e, ERR_CORRUPT, "signed prekey %u has a bad signature length",
		        signed_prekey_id);
		goto out;
	}
	if (keygen_put_pub(ec_key_pair_get_public(session_signed_pre_key_get_key_pair(spk)),
	                   out->signed_prekey_pub, e) < 0)
		goto out;
	memcpy(out->signed_prekey_sig, session_signed_pre_key_get_signature(spk), KEYGEN_SIG_LEN);
	out->signed_prekey_id = signed_prekey_id;
	if (has_prekey) {
		rc = signal_protocol_pre_key_load_key(store, &pk, prekey_id);
		if (rc != 0) {
			err_set(e, ERR_NOTFOUND, "no prekey %u (%d)", prekey_id, rc);
			goto out;
		}
		if (keygen_put_pub(ec_key_pair_get_public(session_pre_key_get_key_pair(pk)),
		                   out->prekey_pub, e) < 0)
			goto out;
		out->prekey_id = prekey_id;
		out->has_prekey = 1;
	}
	out->device_id = device_id;
	ret = 0;
out:
	SIGNAL_UNREF(pk);
	SIGNAL_UNREF(spk);
	SIGNAL_UNREF(identity);
	return ret;
}

int
keygen_signed_prekey_remove(signal_protocol_store_context *store, uint32_t id, struct err *e)
{
	int rc = signal_protocol_signed_pre_key_remove_key(store, id);

	if (rc < 0)
		return err_set(e, ERR_INTERNAL, "removing signed prekey %u (%d)", id, rc);
	return 0;
}

/* Session building, encryption and decryption through libsignal's session
 * builder and cipher, with libsignal's error codes turned into ours. Every
 * cipher lives only for one call, so the address it points to (built on our
 * stack from the caller's NUL-terminated name) always outlives it. */
#include "crypto/e2e.h"

#include <string.h>

#include <signal/curve.h>
#include <signal/protocol.h>
#include <signal/ratchet.h>
#include <signal/session_builder.h>
#include <signal/session_cipher.h>
#include <signal/session_pre_key.h>
#include <signal/session_record.h>
#include <signal/session_state.h>

#include "util/xmalloc.h"

/* Returned from our decryption callback when on_plaintext refuses; below
 * SG_ERR_MINIMUM so libsignal cannot produce it. */
#define E2E_ERR_HANDLER (SG_ERR_MINIMUM - 100)

struct e2e_decrypt_call {
	e2e_plaintext_fn fn;
	void *arg;
	int handler_rc;
};

/* Fill *a for name after checking it is a usable account name. */
static int
e2e_address(signal_protocol_address *a, const char *name, int32_t device_id, struct err *e)
{
	size_t len;

	if (name == NULL)
		return err_set(e, ERR_INVALID, "no remote name");
	len = strnlen(name, E2E_NAME_MAX + 1);
	if (len == 0 || len > E2E_NAME_MAX)
		return err_set(e, ERR_INVALID, "remote name empty or longer than %d", E2E_NAME_MAX);
	a->name = name;
	a->name_len = len;
	a->device_id = device_id;
	return 0;
}

/* Map a libsignal failure to an err code. what says which step failed. */
static int
e2e_fail(int rc, const char *what, struct err *e)
{
	switch (rc) {
	case SG_ERR_DUPLICATE_MESSAGE:
		return err_set(e, ERR_DUPLICATE, "%s: message already received", what);
	case SG_ERR_INVALID_MAC:
	case SG_ERR_INVALID_MESSAGE:
		return err_set(e, ERR_CRYPTO, "%s: message does not authenticate", what);
	case SG_ERR_NO_SESSION:
		return err_set(e, ERR_NOSESSION, "%s: no session", what);
	case SG_ERR_UNTRUSTED_IDENTITY:
		return err_set(e, ERR_UNTRUSTED, "%s: identity key changed", what);
	case SG_ERR_INVALID_KEY_ID:
		return err_set(e, ERR_NOTFOUND, "%s: prekey no longer available", what);
	case SG_ERR_INVALID_KEY:
	case SG_ERR_INVALID_VERSION:
	case SG_ERR_LEGACY_MESSAGE:
	case SG_ERR_INVALID_PROTO_BUF:
	case SG_ERR_STALE_KEY_EXCHANGE:
		return err_set(e, ERR_INVALID, "%s: malformed or unsupported message (%d)", what,
		               rc);
	case SG_ERR_NOMEM:
		return err_set(e, ERR_INTERNAL, "%s: out of memory", what);
	default:
		return err_set(e, ERR_INTERNAL, "%s: libsignal error %d", what, rc);
	}
}

/* Decode a 33-byte public key from a bundle field. */
static int
e2e_decode_pub(ec_public_key **out, const uint8_t *data, signal_context *ctx, const char *field,
               struct err *e)
{
	int rc = curve_decode_point(out, data, KEYGEN_PUB_LEN, ctx);
	if (rc != 0)
		return err_set(e, ERR_INVALID, "bundle %s is not a public key (%d)", field, rc);
	return 0;
}

int
e2e_session_build(signal_protocol_store_context *store, signal_context *ctx, const char *name,
                  int32_t device_id, const struct keygen_bundle *b, struct err *e)
{
	ec_public_key *identity = NULL, *spk = NULL, *pk = NULL;
	session_pre_key_bundle *bundle = NULL;
	session_builder *builder = NULL;
	signal_protocol_address addr;
	int rc, ret = -1;

	if (e2e_address(&addr, name, device_id, e) < 0)
		return -1;
	if (b->device_id != device_id)
		return err_set(e, ERR_INVALID, "bundle is for device %d, not %d", b->device_id,
		               device_id);
	if (e2e_decode_pub(&identity, b->identity_pub, ctx, "identity key", e) < 0 ||
	    e2e_decode_pub(&spk, b->signed_prekey_pub, ctx, "signed prekey", e) < 0 ||
	    (b->has_prekey && e2e_decode_pub(&pk, b->prekey_pub, ctx, "prekey", e) < 0))
		goto out;
	rc = session_pre_key_bundle_create(
	    &bundle, b->registration_id, b->device_id, b->has_prekey ? b->prekey_id : 0, pk,
	    b->signed_prekey_id, spk, b->signed_prekey_sig, KEYGEN_SIG_LEN, identity);
	if (rc != 0) {
		e2e_fail(rc, "reading bundle", e);
		goto out;
	}
	rc = session_builder_create(&builder, store, &addr, ctx);
	if (rc != 0) {
		e2e_fail(rc, "creating session builder", e);
		goto out;
	}
	rc = session_builder_process_pre_key_bundle(builder, bundle);
	if (rc == SG_ERR_INVALID_KEY) {
		/* Keys were decoded above, so this is the signature check. */
		err_set(e, ERR_CRYPTO, "bundle signed prekey signature does not verify");
		goto out;
	}
	if (rc != 0) {
		e2e_fail(rc, "building session", e);
		goto out;
	}
	ret = 0;
out:
	session_builder_free(builder);
	SIGNAL_UNREF(bundle);
	SIGNAL_UNREF(pk);
	SIGNAL_UNREF(spk);
	SIGNAL_UNREF(identity);
	return ret;
}

int
e2e_has_session(signal_protocol_store_context *store, const char *name, int32_t device_id,
                struct err *e)
{
	signal_protocol_address addr;
	int rc;

	if (e2e_address(&addr, name, device_id, e) < 0)
		return -1;
	rc = signal_protocol_session_contains_session(store, &addr);
	if (rc < 0)
		return e2e_fail(rc, "looking up session", e);
	return rc ? 1 : 0;
}

int
e2e_session_devices(signal_protocol_store_context *store, const char *name, int32_t **out,
                    size_t *n, struct err *e)
{
	signal_int_list *list = NULL;
	size_t i, len;
	int rc;

	*out = NULL;
	*n = 0;
	rc = signal_protocol_session_get_sub_device_sessions(store, &list, name, strlen(name));
	if (rc < 0) {
		signal_int_list_free(list);
		return e2e_fail(rc, "listing sessions", e);
	}
	len = list != NULL ? signal_int_list_size(list) : 0;
	if (len > 0) {
		*out = xreallocarray(NULL, len, sizeof **out);
		for (i = 0; i < len; i++)
			(*out)[i] = (int32_t)signal_int_list_at(list, (unsigned)i);
	}
	*n = len;
	signal_int_list_free(list);
	return 0;
}

int
e2e_session_delete(signal_protocol_store_context *store, const char *name, int32_t device_id,
                   struct err *e)
{
	signal_protocol_address addr;
	int rc;

	if (e2e_address(&addr, name, device_id, e) < 0)
		return -1;
	rc = signal_protocol_session_delete_session(store, &addr);
	if (rc < 0)
		return e2e_fail(rc, "deleting session", e);
	return 0;
}

int
e2e_encrypt(signal_protocol_store_context *store, signal_context *ctx, const char *name,
            int32_t device_id, const uint8_t *pt, size_t len, enum e2e_type *type_out,
            uint8_t **ct_out, size_t *ct_len, struct err *e)
{
	ciphertext_message *msg = NULL;
	session_cipher *cipher = NULL;
	signal_protocol_address addr;
	signal_buffer *ser;
	int rc, ret = -1;

	if (len > E2E_MAX_PLAINTEXT)
		return err_set(e, ERR_TOOLARGE, "plaintext of %zu bytes exceeds %d", len,
		               E2E_MAX_PLAINTEXT);
	if (pt == NULL && len > 0)
		return err_set(e, ERR_INVALID, "no plaintext");
	/* libsignal says SG_ERR_UNKNOWN, not NO_SESSION, when there is none. */
	rc = e2e_has_session(store, name, device_id, e);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return err_set(e, ERR_NOSESSION, "no session with %s.%d", name, device_id);
	e2e_address(&addr, name, device_id, e);

	rc = session_cipher_create(&cipher, store, &addr, ctx);
	if (rc != 0)
		return e2e_fail(rc, "creating cipher", e);
	rc = session_cipher_encrypt(cipher, pt != NULL ? pt : (const uint8_t *)"", len, &msg);
	if (rc != 0) {
		e2e_fail(rc, "encrypting", e);
		goto out;
	}
	switch (ciphertext_message_get_type(msg)) {
	case CIPHERTEXT_PREKEY_TYPE:
		*type_out = E2E_PREKEY;
		break;
	case CIPHERTEXT_SIGNAL_TYPE:
		*type_out = E2E_NORMAL;
		break;
	default:
		err_set(e, ERR_INTERNAL, "unexpected ciphertext type %d",
		        ciphertext_message_get_type(msg));
		goto out;
	}
	/* Owned by msg: copy, never free. */
	ser = ciphertext_message_get_serialized(msg);
	*ct_len = signal_buffer_len(ser);
	*ct_out = xmemdup(signal_buffer_data(ser), *ct_len);
	ret = 0;
out:
	SIGNAL_UNREF(msg);
	session_cipher_free(cipher);
	return ret;
}

/* libsignal's decryption callback: runs before the session is stored. */
static int
e2e_on_decrypted(session_cipher *cipher, signal_buffer *plaintext, void *decrypt_context)
{
	struct e2e_decrypt_call *call = decrypt_context;

	call->handler_rc =
	    call->fn(call->arg, signal_buffer_data(plaintext), signal_buffer_len(plaintext));
	return call->handler_rc == 0 ? 0 : E2E_ERR_HANDLER;
}

/* libsignal reports a counter more than E2E_MAX_SKIP ahead of its chain as
 * a plain SG_ERR_INVALID_MESSAGE. Recompute its test from the stored state
 * so the caller can tell "too far ahead" from "forged": the chain matching
 * the sender's ratchet key, or a new chain (index 0) if there is none. */
static int
e2e_counter_too_far(signal_protocol_store_context *store, const signal_protocol_address *addr,
                    signal_message *msg)
{
	session_record *record = NULL;
	session_state *state;
	ratchet_chain_key *chain;
	uint32_t counter = signal_message_get_counter(msg), index = 0;
	ec_public_key *their_ratchet = signal_message_get_sender_ratchet_key(msg);

	if (their_ratchet == NULL)
		return 0;
	if (signal_protocol_session_load_session(store, &record, addr) >= 0 && record != NULL) {
		state = session_record_get_state(record);
		chain = state != NULL ? session_state_get_receiver_chain_key(state, their_ratchet)
		                      : NULL;
		if (chain != NULL)
			index = ratchet_chain_key_get_index(chain);
	}
	SIGNAL_UNREF(record);
	return counter >= index && counter - index > E2E_MAX_SKIP;
}

int
e2e_decrypt(signal_protocol_store_context *store, signal_context *ctx, const char *name,
            int32_t device_id, enum e2e_type type, const uint8_t *ct, size_t len,
            e2e_plaintext_fn on_plaintext, void *arg, struct err *e)
{
	struct e2e_decrypt_call call = {on_plaintext, arg, 0};
	pre_key_signal_message *prekey_msg = NULL;
	signal_message *normal_msg = NULL, *inner;
	session_cipher *cipher = NULL;
	signal_buffer *plaintext = NULL;
	signal_protocol_address addr;
	int rc, ret = -1;

	if (e2e_address(&addr, name, device_id, e) < 0)
		return -1;
	if (on_plaintext == NULL)
		return err_set(e, ERR_INVALID, "no plaintext handler");
	if (len > E2E_MAX_CIPHERTEXT)
		return err_set(e, ERR_TOOLARGE, "ciphertext of %zu bytes exceeds %d", len,
		               E2E_MAX_CIPHERTEXT);
	if (ct == NULL || len == 0)
		return err_set(e, ERR_INVALID, "empty ciphertext");

	if (type == E2E_PREKEY)
		rc = pre_key_signal_message_deserialize(&prekey_msg, ct, len, ctx);
	else if (type == E2E_NORMAL)
		rc = signal_message_deserialize(&normal_msg, ct, len, ctx);
	else
		return err_set(e, ERR_INVALID, "unknown message type %d", (int)type);
	if (rc != 0)
		return err_set(e, ERR_INVALID, "cannot decode %s message (%d)",
		               type == E2E_PREKEY ? "prekey" : "normal", rc);
	inner =
	    prekey_msg != NULL ? pre_key_signal_message_get_signal_message(prekey_msg) : normal_msg;

	rc = session_cipher_create(&cipher, store, &addr, ctx);
	if (rc != 0) {
		e2e_fail(rc, "creating cipher", e);
		goto out;
	}
	session_cipher_set_decryption_callback(cipher, e2e_on_decrypted);
	if (prekey_msg != NULL)
		rc = session_cipher_decrypt_pre_key_signal_message(cipher, prekey_msg, &call,
		                                                   &plaintext);
	else
		rc = session_cipher_decrypt_signal_message(cipher, normal_msg, &call, &plaintext);

	if (rc == E2E_ERR_HANDLER)
		err_set(e, call.handler_rc > 0 ? (enum err_code)call.handler_rc : ERR_INTERNAL,
		        "plaintext handler failed (%d)", call.handler_rc);
	else if (rc == SG_ERR_INVALID_MESSAGE && e2e_counter_too_far(store, &addr, inner))
		err_set(e, ERR_LIMIT, "message is more than %d ahead of its chain", E2E_MAX_SKIP);
	else if (rc != 0)
		e2e_fail(rc, "decrypting", e);
	else
		ret = 0;
out:
	signal_buffer_bzero_free(plaintext);
	session_cipher_free(cipher);
	SIGNAL_UNREF(prekey_msg);
	SIGNAL_UNREF(normal_msg);
	return ret;
}

int
e2e_remote_registration_id(signal_protocol_store_context *store, signal_context *ctx,
                           const char *name, int32_t device_id, uint32_t *out, struct err *e)
{
	session_cipher *cipher = NULL;
	signal_protocol_address addr;
	int rc;

	rc = e2e_has_session(store, name, device_id, e);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return err_set(e, ERR_NOSESSION, "no session with %s.%d", name, device_id);
	e2e_address(&addr, name, device_id, e);
	rc = session_cipher_create(&cipher, store, &addr, ctx);
	if (rc == 0)
		rc = session_cipher_get_remote_registration_id(cipher, out);
	session_cipher_free(cipher);
	if (rc != 0)
		return e2e_fail(rc, "reading registration id", e);
	return 0;
}

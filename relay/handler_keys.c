/* Prekey requests: keys.upload (signed prekey verified against the
 * account's identity key), keys.count, and keys.fetch, which takes one
 * one-time prekey per bundle inside the batch so two fetchers never share
 * one. */
#include "relay/handler.h"

#include <signal/curve.h>
#include <signal/signal_protocol.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
handler_keys_verify(struct server *s, const uint8_t identity_key[WIRE_KEY_LEN],
                    const struct wire_signed_prekey *spk)
{
	ec_public_key *key = NULL;
	int rc;

	if (curve_decode_point(&key, identity_key, WIRE_KEY_LEN, s->signal_ctx) < 0)
		return 0;
	rc = curve_verify_signature(key, spk->pub, WIRE_KEY_LEN, spk->sig, WIRE_SIG_LEN);
	SIGNAL_UNREF(key);
	return rc == 1;
}

static struct wire_frame
handler_keys_response(const struct wire_frame *req)
{
	struct wire_frame f;

	memset(&f, 0, sizeof f);
	f.kind = WIRE_RESPONSE;
	f.id = req->id;
	f.type = req->type;
	f.u.resp.status = 200;
	return f;
}

void
handler_keys_upload(struct server *s, struct server_conn *c, const struct wire_frame *f)
{
	const struct wire_signed_prekey *spk = &f->u.req.u.keys_upload.signed_prekey;
	const struct wire_prekey *pk = f->u.req.u.keys_upload.prekeys;
	size_t n = f->u.req.u.keys_upload.n_prekeys, i, count;
	struct rstore_prekey *keys;
	struct rstore_signed_prekey rspk;
	uint8_t ik[WIRE_KEY_LEN];
	struct wire_frame resp;
	struct err e = {0};

	if (f->u.req.u.keys_upload.has_signed_prekey) {
		if (rstore_account_identity(s->store, c->account, ik, &e) < 0) {
			handler_store_error(s, c, f, &e);
			return;
		}
		if (!handler_keys_verify(s, ik, spk)) {
			server_answer_error(
			    s, c, f->id, f->type, 400, "bad_signature",
			    "signed prekey is not signed by the account's identity key", -1);
			return;
		}
	}
	if (handler_batch_begin(s, c, f) < 0)
		return;
	/* One-time keys first: that call is all-or-nothing, so a refused
	 * batch of keys leaves the signed prekey untouched too. */
	if (n > 0) {
		keys = xcalloc(n, sizeof *keys);
		for (i = 0; i < n; i++) {
			keys[i].key_id = pk[i].id;
			memcpy(keys[i].pub, pk[i].pub, WIRE_KEY_LEN);
		}
		if (rstore_prekey_add(s->store, c->account, c->device, keys, n, &e) < 0) {
			free(keys);
			if (e.code == ERR_EXISTS)
				server_answer_error(s, c, f->id, f->type, 400, "prekey_exists",
				                    e.msg, -1);
			else if (e.code == ERR_LIMIT)
				server_answer_error(
				    s, c, f->id, f->type, 413, "too_many",
				    "the relay stores no more prekeys for this device", -1);
			else if (e.code == ERR_INVALID)
				server_answer_error(s, c, f->id, f->type, 400, "bad_request", e.msg,
				                    -1);
			else
				handler_store_error(s, c, f, &e);
			return;
		}
		free(keys);
	}
	handler_spk(&rspk, spk);
	if (f->u.req.u.keys_upload.has_signed_prekey &&
	    rstore_prekey_set_signed(s->store, c->account, c->device, &rspk, &e) < 0) {
		server_batch_abort(s);
		handler_store_error(s, c, f, &e);
		return;
	}
	if (rstore_prekey_count(s->store, c->account, c->device, &count, &e) < 0) {
		server_batch_abort(s);
		handler_store_error(s, c, f, &e);
		return;
	}
	resp = handler_keys_response(f);
	resp.u.resp.count = count;
	handler_answer(s, c, &resp);
}

void
handler_keys_count(struct server *s, struct server_conn *c, const struct wire_frame *f)
{
	struct wire_frame resp;
	struct err e = {0};
	size_t count;

	if (rstore_prekey_count(s->store, c->account, c->device, &count, &e) < 0) {
		handler_store_error(s, c, f, &e);
		return;
	}
	resp = handler_keys_response(f);
	resp.u.resp.count = count;
	handler_answer(s, c, &resp);
}

static void
handler_keys_bundle(struct wire_bundle *out, const struct rstore_bundle *b)
{
	memset(out, 0, sizeof *out);
	out->device = b->device_id;
	out->registration_id = b->registration_id;
	out->signed_prekey.id = b->signed_prekey_id;
	memcpy(out->signed_prekey.pub, b->signed_prekey, WIRE_KEY_LEN);
	memcpy(out->signed_prekey.sig, b->signed_prekey_sig, WIRE_SIG_LEN);
	out->has_prekey = b->has_prekey;
	if (b->has_prekey) {
		out->prekey.id = b->prekey_id;
		memcpy(out->prekey.pub, b->prekey, WIRE_KEY_LEN);
	}
}

void
handler_keys_fetch(struct server *s, struct server_conn *c, const struct wire_frame *f)
{
	const char *target = f->u.req.u.keys_fetch.account;
	uint32_t want = f->u.req.u.keys_fetch.device;
	int own = strcmp(target, c->account) == 0;
	struct rstore_bundle *taken = NULL, one;
	struct wire_bundle *bundles;
	struct server_conn *owner;
	struct wire_frame resp;
	struct err e = {0};
	size_t n = 0, i;
	int64_t retry;

	if (!ratelimit_take(s->fetch_rl, c->account, server_now_ms(), &retry)) {
		server_answer_error(s, c, f->id, f->type, 429, "rate_limited",
		                    "too many prekey fetches", retry);
		return;
	}
	resp = handler_keys_response(f);
	snprintf(resp.u.resp.account, sizeof resp.u.resp.account, "%s", target);
	if (rstore_account_identity(s->store, target, resp.u.resp.identity_key, &e) < 0) {
		if (e.code == ERR_NOTFOUND)
			server_answer_error(s, c, f->id, f->type, 404, "not_found",
			                    "no such account", -1);
		else
			handler_store_error(s, c, f, &e);
		return;
	}
	if (handler_batch_begin(s, c, f) < 0)
		return;
	/* Both calls are all-or-nothing: a failure leaves the batch clean. */
	if (want != 0) {
		if (rstore_prekey_take(s->store, target, want, &one, &e) == 0) {
			taken = xmemdup(&one, sizeof one);
			n = 1;
		}
	} else {
		rstore_prekey_take_all(s->store, target, own ? c->device : 0, &taken, &n, &e);
	}
	if (e.code != ERR_OK) {
		if (e.code == ERR_NOTFOUND)
			server_answer_error(s, c, f->id, f->type, 404, "not_found",
			                    want != 0 ? "no such device" : "no such account", -1);
		else
			handler_store_error(s, c, f, &e);
		free(taken);
		return;
	}
	if (n > WIRE_MAX_MESSAGES)
		n = WIRE_MAX_MESSAGES;
	bundles = xcalloc(n, sizeof *bundles);
	for (i = 0; i < n; i++) {
		handler_keys_bundle(&bundles[i], &taken[i]);
		if (taken[i].has_prekey &&
		    (owner = server_conn_find(s, target, taken[i].device_id)) != NULL)
			owner->check_keys_low = 1;
	}
	resp.u.resp.bundles = bundles;
	resp.u.resp.n_bundles = n;
	handler_answer(s, c, &resp);
	free(bundles);
	free(taken);
}

/* Frame intake (parse, the first-frame rule, dispatch) and the account and
 * device requests: auth, register, ping, device.add/list/remove. */
#include "relay/handler.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct wire_frame
handler_response(const struct wire_frame *req, int status)
{
	struct wire_frame f;

	memset(&f, 0, sizeof f);
	f.kind = WIRE_RESPONSE;
	f.id = req->id;
	f.type = req->type;
	f.u.resp.status = status;
	return f;
}

void
handler_answer(struct server *s, struct server_conn *c, struct wire_frame *f)
{
	struct err e = {0};
	size_t len;
	char *text = wire_build(f, &len, &e);

	if (text == NULL) {
		fprintf(stderr, "sotto-relay: cannot build a %s answer: %s\n",
		        wire_type_name(f->type) ? wire_type_name(f->type) : "?", e.msg);
		server_answer_error(s, c, f->id, f->type, 500, "internal", "internal error", -1);
		return;
	}
	server_answer(s, c, f->id, f->type, text, len);
}

void
handler_store_error(struct server *s, struct server_conn *c, const struct wire_frame *req,
                    const struct err *e)
{
	int status = 500;

	if (e->code == ERR_BUSY || e->code == ERR_NOSPACE || e->code == ERR_IO)
		status = 503;
	fprintf(stderr, "sotto-relay: %s for %s.%u: %s\n", wire_type_name(req->type), c->account,
	        c->device, e->msg);
	server_answer_error(s, c, req->id, req->type, status, NULL,
	                    status == 503 ? "storage unavailable; retry" : "internal error",
	                    status == 503 ? 1000 : -1);
}

void
handler_spk(struct rstore_signed_prekey *out, const struct wire_signed_prekey *in)
{
	out->key_id = in->id;
	memcpy(out->pub, in->pub, WIRE_KEY_LEN);
	memcpy(out->sig, in->sig, WIRE_SIG_LEN);
}

int
handler_batch_begin(struct server *s, struct server_conn *c, const struct wire_frame *req)
{
	struct err e = {0};

	if (rstore_batch_begin(s->store, &e) < 0) {
		handler_store_error(s, c, req, &e);
		return -1;
	}
	if (req->type != WIRE_T_ACK)
		s->batch_needs_disk = 1;
	return 0;
}

/* 1 if token is one of the lines of the token file. Re-read each time so
 * an operator can edit it while the relay runs. */
static int
handler_token_ok(const char *path, const char *token)
{
	FILE *fp;
	char line[WIRE_TOKEN_MAX + 3];
	size_t n, tlen;
	int ok = 0;

	if (token == NULL || (fp = fopen(path, "r")) == NULL)
		return 0;
	tlen = strlen(token);
	while (fgets(line, sizeof line, fp) != NULL) {
		n = strcspn(line, "\r\n");
		line[n] = '\0';
		if (n == 0 || line[0] == '#')
			continue;
		if (n == tlen && CRYPTO_memcmp(line, token, n) == 0)
			ok = 1;
	}
	wipe(line, sizeof line);
	fclose(fp);
	return ok;
}

static void
handler_authenticated(struct server *s, struct server_conn *c, const char *account, uint32_t device)
{
	struct server_conn *old = server_conn_find(s, account, device);

	if (old != NULL && old != c) {
		old->authed = 0; /* no longer found, no longer fed */
		server_conn_close(old, WIRE_CLOSE_REPLACED);
	}
	c->authed = 1;
	snprintf(c->account, sizeof c->account, "%s", account);
	c->device = device;
	lws_sul_cancel(&c->auth_sul);
	/* After the answer: queue delivery and the prekey check. */
	c->wake = 1;
	c->check_keys_low = 1;
}

static void
handler_auth(struct server *s, struct server_conn *c, const struct wire_frame *f)
{
	const struct wire_request *r = &f->u.req;
	struct wire_frame resp;
	struct err e = {0};

	if (rstore_device_auth(s->store, r->u.auth.account, r->u.auth.device, r->u.auth.secret,
	                       &e) < 0) {
		if (e.code == ERR_AUTH) {
			server_answer_error(s, c, f->id, f->type, 401, "auth_failed",
			                    "unknown device or wrong secret", -1);
			server_last_pending(s)->close_code = WIRE_CLOSE_AUTH_FAILED;
		} else {
			handler_store_error(s, c, f, &e);
			server_last_pending(s)->close_code = 1011;
		}
		return;
	}
	handler_authenticated(s, c, r->u.auth.account, r->u.auth.device);
	resp = handler_response(f, 200);
	handler_answer(s, c, &resp);
}

static void
handler_register(struct server *s, struct server_conn *c, const struct wire_frame *f)
{
	const struct wire_request *r = &f->u.req;
	struct rstore_signed_prekey spk;
	struct wire_frame resp;
	struct err e = {0};
	int64_t retry;

	if (s->cfg.token_file != NULL && !handler_token_ok(s->cfg.token_file, r->u.reg.token)) {
		server_answer_error(s, c, f->id, f->type, 403, "registration_closed",
		                    "registration needs a valid token", -1);
		return;
	}
	if (!ratelimit_take(s->reg_rl, c->peer, server_now_ms(), &retry)) {
		server_answer_error(s, c, f->id, f->type, 429, "rate_limited",
		                    "too many registrations from this address", retry);
		return;
	}
	if (!handler_keys_verify(s, r->u.reg.identity_key, &r->u.reg.signed_prekey)) {
		server_answer_error(s, c, f->id, f->type, 400, "bad_signature",
		                    "signed prekey signature does not verify with identity_key",
		                    -1);
		return;
	}
	handler_spk(&spk, &r->u.reg.signed_prekey);
	if (handler_batch_begin(s, c, f) < 0)
		return;
	if (rstore_account_register(s->store, r->u.reg.account, r->u.reg.identity_key,
	                            r->u.reg.registration_id, r->u.reg.secret, &spk, &e) < 0) {
		if (e.code == ERR_EXISTS)
			server_answer_error(s, c, f->id, f->type, 403, "name_taken",
			                    "this account name is registered", -1);
		else
			handler_store_error(s, c, f, &e);
		return;
	}
	handler_authenticated(s, c, r->u.reg.account, 1);
	resp = handler_response(f, 200);
	resp.u.resp.device = 1;
	handler_answer(s, c, &resp);
	server_last_pending(s)->unauth_on_failure = 1;
}

static void
handler_device_add(struct server *s, struct server_conn *c, const struct wire_frame *f)
{
	const struct wire_request *r = &f->u.req;
	struct rstore_signed_prekey spk;
	uint8_t ik[WIRE_KEY_LEN];
	struct wire_frame resp;
	struct err e = {0};
	uint32_t id;

	if (rstore_account_identity(s->store, c->account, ik, &e) < 0) {
		handler_store_error(s, c, f, &e);
		return;
	}
	if (!handler_keys_verify(s, ik, &r->u.device_add.signed_prekey)) {
		server_answer_error(s, c, f->id, f->type, 400, "bad_signature",
		                    "signed prekey is not signed by the account's identity key",
		                    -1);
		return;
	}
	handler_spk(&spk, &r->u.device_add.signed_prekey);
	if (handler_batch_begin(s, c, f) < 0)
		return;
	if (rstore_device_add(s->store, c->account, r->u.device_add.registration_id,
	                      r->u.device_add.secret, &spk, &id, &e) < 0) {
		if (e.code == ERR_LIMIT)
			server_answer_error(s, c, f->id, f->type, 403, "device_limit",
			                    "the account has the maximum number of devices", -1);
		else
			handler_store_error(s, c, f, &e);
		return;
	}
	resp = handler_response(f, 200);
	resp.u.resp.device = id;
	handler_answer(s, c, &resp);
}

static void
handler_device_list(struct server *s, struct server_conn *c, const struct wire_frame *f)
{
	struct rstore_device *devs = NULL;
	struct wire_device_info *info;
	struct wire_frame resp;
	struct err e = {0};
	size_t n, i;

	if (rstore_device_list(s->store, c->account, &devs, &n, &e) < 0) {
		handler_store_error(s, c, f, &e);
		return;
	}
	if (n > WIRE_MAX_MESSAGES)
		n = WIRE_MAX_MESSAGES;
	info = xcalloc(n, sizeof *info);
	for (i = 0; i < n; i++) {
		info[i].device = devs[i].device_id;
		info[i].registration_id = devs[i].registration_id;
		info[i].created = devs[i].created_ms;
		info[i].last_seen = devs[i].last_seen_ms;
	}
	resp = handler_response(f, 200);
	resp.u.resp.devices = info;
	resp.u.resp.n_devices = n;
	handler_answer(s, c, &resp);
	free(info);
	free(devs);
}

static void
handler_device_remove(struct server *s, struct server_conn *c, const struct wire_frame *f)
{
	uint32_t dev = f->u.req.u.device_remove.device;
	struct server_conn *target;
	struct wire_frame resp;
	struct err e = {0};

	if (handler_batch_begin(s, c, f) < 0)
		return;
	if (rstore_device_remove(s->store, c->account, dev, &e) < 0) {
		if (e.code == ERR_INVALID)
			server_answer_error(s, c, f->id, f->type, 403, "primary_device",
			                    "device 1 cannot be removed", -1);
		else if (e.code == ERR_NOTFOUND)
			server_answer_error(s, c, f->id, f->type, 404, "not_found",
			                    "no such device", -1);
		else
			handler_store_error(s, c, f, &e);
		return;
	}
	resp = handler_response(f, 200);
	handler_answer(s, c, &resp);
	target = server_conn_find(s, c->account, dev);
	if (target == c)
		server_last_pending(s)->close_code = WIRE_CLOSE_REMOVED;
	else if (target != NULL)
		server_close_after_commit(s, target, WIRE_CLOSE_REMOVED);
}

/* Answer a frame that did not parse. Before authentication any bad frame
 * ends the connection. */
static void
handler_bad_frame(struct server *s, struct server_conn *c, const struct wire_frame *f,
                  const struct err *e)
{
	int status = e->code == ERR_TOOLARGE ? 413 : 400;
	uint64_t id = f->kind == WIRE_REQUEST ? f->id : 0;
	enum wire_type type = id != 0 ? f->type : WIRE_T_NONE;

	if (!c->authed) {
		server_answer_error(s, c, id, type, 401, "not_authenticated", e->msg, -1);
		server_last_pending(s)->close_code = WIRE_CLOSE_NOT_AUTHENTICATED;
		return;
	}
	server_answer_error(s, c, id, type, status, NULL, e->msg, -1);
}

void
handler_frame(struct server *s, struct server_conn *c, const char *buf, size_t len)
{
	struct wire_frame f, resp;
	struct err e = {0};

	if (wire_parse(buf, len, &f, &e) < 0) {
		handler_bad_frame(s, c, &f, &e);
		return;
	}
	if (f.kind != WIRE_REQUEST) {
		err_set(&e, ERR_INVALID, "only requests are sent to the relay");
		f.id = 0;
		handler_bad_frame(s, c, &f, &e);
		wire_frame_free(&f);
		return;
	}
	if (!c->authed && f.type != WIRE_T_AUTH && f.type != WIRE_T_REGISTER) {
		server_answer_error(s, c, f.id, f.type, 401, "not_authenticated",
		                    "the first frame must be auth or register", -1);
		server_last_pending(s)->close_code = WIRE_CLOSE_NOT_AUTHENTICATED;
		wire_frame_free(&f);
		return;
	}
	if (c->authed && (f.type == WIRE_T_AUTH || f.type == WIRE_T_REGISTER)) {
		server_answer_error(s, c, f.id, f.type, 400, "already_authenticated",
		                    "this connection is already authenticated", -1);
		wire_frame_free(&f);
		return;
	}
	switch (f.type) {
	case WIRE_T_AUTH:
		handler_auth(s, c, &f);
		break;
	case WIRE_T_REGISTER:
		handler_register(s, c, &f);
		break;
	case WIRE_T_PING:
		resp = handler_response(&f, 200);
		handler_answer(s, c, &resp);
		break;
	case WIRE_T_DEVICE_ADD:
		handler_device_add(s, c, &f);
		break;
	case WIRE_T_DEVICE_LIST:
		handler_device_list(s, c, &f);
		break;
	case WIRE_T_DEVICE_REMOVE:
		handler_device_remove(s, c, &f);
		break;
	case WIRE_T_KEYS_UPLOAD:
		handler_keys_upload(s, c, &f);
		break;
	case WIRE_T_KEYS_COUNT:
		handler_keys_count(s, c, &f);
		break;
	case WIRE_T_KEYS_FETCH:
		handler_keys_fetch(s, c, &f);
		break;
	case WIRE_T_SEND:
	case WIRE_T_SEND_MULTI:
		handler_send(s, c, &f);
		break;
	case WIRE_T_ACK:
		handler_send_ack(s, c, &f);
		break;
	case WIRE_T_NONE:
		break;
	}
	wire_frame_free(&f);
}

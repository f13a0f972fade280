/* Strict parsing of sotto-protocol 1 frames into struct wire_frame. Every
 * member is checked for presence, JSON type, range and syntax, and errors
 * name the member so that a peer's bug is easy to find. */
#include "wire/wire.h"
#include "wire/wire_int.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "wire/b64.h"

/* Nesting depth of the JSON text, counted without parsing it so that a
 * hostile frame cannot make the parser recurse deeply. Returns 1 if the
 * depth stays within max. */
static int
wire_depth_ok(const char *buf, size_t len, int max)
{
	size_t i;
	int depth = 0, in_string = 0;

	for (i = 0; i < len; i++) {
		char c = buf[i];
		if (in_string) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_string = 0;
		} else if (c == '"') {
			in_string = 1;
		} else if (c == '{' || c == '[') {
			if (++depth > max)
				return 0;
		} else if (c == '}' || c == ']') {
			depth--;
		}
	}
	return 1;
}

static int
p_member(json_t *obj, const char *key, int required, json_t **out, struct err *e)
{
	*out = json_object_get(obj, key);
	if (*out == NULL && required)
		return err_set(e, ERR_INVALID, "missing member \"%s\"", key);
	return 0;
}

/* An integer member in [min, max]; *present (may be NULL for required
 * members) says whether an optional one was there. */
static int
p_uint(json_t *obj, const char *key, uint64_t min, uint64_t max, uint64_t *out, int *present,
       struct err *e)
{
	json_t *v;
	json_int_t n;

	*out = 0;
	if (p_member(obj, key, present == NULL, &v, e) < 0)
		return -1;
	if (present != NULL)
		*present = v != NULL;
	if (v == NULL)
		return 0;
	if (!json_is_integer(v))
		return err_set(e, ERR_INVALID, "\"%s\" must be an integer", key);
	n = json_integer_value(v);
	if (n < 0 || (uint64_t)n < min || (uint64_t)n > max)
		return err_set(e, ERR_INVALID, "\"%s\" out of range (%llu..%llu)", key,
		               (unsigned long long)min, (unsigned long long)max);
	*out = (uint64_t)n;
	return 0;
}

static int
p_u32(json_t *obj, const char *key, uint32_t min, uint32_t max, uint32_t *out, struct err *e)
{
	uint64_t v;

	if (p_uint(obj, key, min, max, &v, NULL, e) < 0)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int
p_i64(json_t *obj, const char *key, int64_t *out, struct err *e)
{
	uint64_t v;

	if (p_uint(obj, key, 0, WIRE_INT_MAX, &v, NULL, e) < 0)
		return -1;
	*out = (int64_t)v;
	return 0;
}

/* A string member of 1..max bytes copied into out (max + 1 bytes). */
static int
p_string(json_t *obj, const char *key, size_t max, char *out, struct err *e)
{
	json_t *v;
	size_t len;

	if (p_member(obj, key, 1, &v, e) < 0)
		return -1;
	if (!json_is_string(v))
		return err_set(e, ERR_INVALID, "\"%s\" must be a string", key);
	len = json_string_length(v);
	if (len == 0 || len > max)
		return err_set(e, ERR_INVALID, "\"%s\" must be 1..%zu bytes", key, max);
	memcpy(out, json_string_value(v), len);
	out[len] = '\0';
	return 0;
}

static int
p_name_value(json_t *v, const char *what, char out[WIRE_NAME_MAX + 1], struct err *e)
{
	const char *s;

	if (!json_is_string(v))
		return err_set(e, ERR_INVALID, "\"%s\" must be a string", what);
	s = json_string_value(v);
	if (json_string_length(v) > WIRE_NAME_MAX || !wire_name_valid(s))
		return err_set(e, ERR_INVALID,
		               "\"%s\" is not an account name (1..32 of [a-z0-9._-], "
		               "starting with a letter)",
		               what);
	strcpy(out, s);
	return 0;
}

static int
p_name(json_t *obj, const char *key, char out[WIRE_NAME_MAX + 1], struct err *e)
{
	json_t *v;

	if (p_member(obj, key, 1, &v, e) < 0)
		return -1;
	return p_name_value(v, key, out, e);
}

static int
p_b64_exact(json_t *obj, const char *key, uint8_t *out, size_t want, struct err *e)
{
	json_t *v;

	if (p_member(obj, key, 1, &v, e) < 0)
		return -1;
	if (!json_is_string(v))
		return err_set(e, ERR_INVALID, "\"%s\" must be a base64 string", key);
	if (b64_decode_exact(json_string_value(v), json_string_length(v), out, want, e) < 0)
		return err_prefix(e, "\"%s\"", key);
	return 0;
}

static int
p_key(json_t *obj, const char *key, uint8_t out[WIRE_KEY_LEN], struct err *e)
{
	if (p_b64_exact(obj, key, out, WIRE_KEY_LEN, e) < 0)
		return -1;
	if (out[0] != 0x05)
		return err_set(e, ERR_INVALID, "\"%s\" is not a Curve25519 key (type byte %u)", key,
		               out[0]);
	return 0;
}

static int
p_b64_alloc(json_t *obj, const char *key, size_t max, uint8_t **out, size_t *out_len, struct err *e)
{
	json_t *v;
	size_t len;

	if (p_member(obj, key, 1, &v, e) < 0)
		return -1;
	if (!json_is_string(v))
		return err_set(e, ERR_INVALID, "\"%s\" must be a base64 string", key);
	len = json_string_length(v);
	if (len == 0)
		return err_set(e, ERR_INVALID, "\"%s\" is empty", key);
	if (len / 4 * 3 > max + 2)
		return err_set(e, ERR_TOOLARGE, "\"%s\" exceeds %zu bytes", key, max);
	if (b64_decode(json_string_value(v), len, out, out_len, e) < 0)
		return err_prefix(e, "\"%s\"", key);
	if (*out_len > max) {
		free(*out);
		*out = NULL;
		return err_set(e, ERR_TOOLARGE, "\"%s\" exceeds %zu bytes", key, max);
	}
	return 0;
}

/* An array member of min..max elements (more is ERR_TOOLARGE). With
 * optional set, an absent member gives *out NULL. */
static int
p_array(json_t *obj, const char *key, size_t min, size_t max, int optional, json_t **out,
        struct err *e)
{
	if (p_member(obj, key, !optional, out, e) < 0)
		return -1;
	if (*out == NULL)
		return 0;
	if (!json_is_array(*out))
		return err_set(e, ERR_INVALID, "\"%s\" must be an array", key);
	if (json_array_size(*out) > max)
		return err_set(e, ERR_TOOLARGE, "\"%s\" has more than %zu elements", key, max);
	if (json_array_size(*out) < min)
		return err_set(e, ERR_INVALID, "\"%s\" needs at least %zu elements", key, min);
	return 0;
}

static int
p_object(json_t *v, const char *what, struct err *e)
{
	if (!json_is_object(v))
		return err_set(e, ERR_INVALID, "\"%s\" must be an object", what);
	return 0;
}

static int
p_signed_prekey_value(json_t *v, struct wire_signed_prekey *out, struct err *e)
{
	if (p_object(v, "signed_prekey", e) < 0 ||
	    p_u32(v, "id", 0, WIRE_KEY_ID_MAX, &out->id, e) < 0 ||
	    p_key(v, "public", out->pub, e) < 0 ||
	    p_b64_exact(v, "signature", out->sig, WIRE_SIG_LEN, e) < 0)
		return err_prefix(e, "signed_prekey");
	return 0;
}

static int
p_signed_prekey(json_t *obj, struct wire_signed_prekey *out, struct err *e)
{
	json_t *v;

	if (p_member(obj, "signed_prekey", 1, &v, e) < 0)
		return -1;
	return p_signed_prekey_value(v, out, e);
}

static int
p_prekey_value(json_t *v, struct wire_prekey *out, struct err *e)
{
	if (p_object(v, "prekey", e) < 0 || p_u32(v, "id", 0, WIRE_KEY_ID_MAX, &out->id, e) < 0 ||
	    p_key(v, "public", out->pub, e) < 0)
		return -1;
	return 0;
}

/* A list of device ids (mismatch lists). */
static int
p_device_list(json_t *obj, const char *key, uint32_t **out, size_t *n, struct err *e)
{
	json_t *arr, *v;
	size_t i;
	json_int_t x;

	if (p_array(obj, key, 0, WIRE_MAX_MESSAGES, 0, &arr, e) < 0)
		return -1;
	*n = json_array_size(arr);
	*out = xcalloc(*n, sizeof **out);
	json_array_foreach(arr, i, v) {
		if (!json_is_integer(v) || (x = json_integer_value(v)) < 1 ||
		    (uint64_t)x > WIRE_DEVICE_MAX)
			return err_set(e, ERR_INVALID, "\"%s\"[%zu] is not a device id", key, i);
		(*out)[i] = (uint32_t)x;
	}
	return 0;
}

/* ---- requests ---- */

static int
p_message(json_t *v, struct wire_message *m, struct err *e)
{
	json_t *t;

	if (p_object(v, "message", e) < 0 ||
	    p_u32(v, "device", 1, WIRE_DEVICE_MAX, &m->device, e) < 0 ||
	    p_u32(v, "registration_id", 1, WIRE_REG_ID_MAX, &m->registration_id, e) < 0 ||
	    p_member(v, "type", 1, &t, e) < 0)
		return -1;
	if (!json_is_string(t) || wire_msg_type_from_name(json_string_value(t), &m->type) < 0)
		return err_set(e, ERR_INVALID,
		               "\"type\" must be prekey, normal, senderkey or distribution");
	return p_b64_alloc(v, "content", WIRE_MAX_CONTENT, &m->content, &m->content_len, e);
}

static int
p_send(json_t *obj, struct wire_send *s, struct err *e)
{
	json_t *arr, *v;
	size_t i, j;

	if (p_name(obj, "to", s->to, e) < 0 ||
	    p_array(obj, "messages", 0, WIRE_MAX_MESSAGES, 0, &arr, e) < 0)
		return -1;
	s->messages = xcalloc(json_array_size(arr), sizeof *s->messages);
	json_array_foreach(arr, i, v) {
		if (p_message(v, &s->messages[i], e) < 0) {
			s->n_messages = i + 1;
			return err_prefix(e, "messages[%zu]", i);
		}
		s->n_messages = i + 1;
		for (j = 0; j < i; j++)
			if (s->messages[j].device == s->messages[i].device)
				return err_set(e, ERR_INVALID, "messages: device %u appears twice",
				               s->messages[i].device);
	}
	return 0;
}

static int
p_req_send(json_t *root, struct wire_frame *f, struct err *e)
{
	struct wire_request *r = &f->u.req;
	json_t *arr, *v;
	size_t i, j;

	if (p_string(root, "msg_id", WIRE_MSG_ID_MAX, r->u.send.msg_id, e) < 0)
		return -1;
	if (!wire_msg_id_valid(r->u.send.msg_id))
		return err_set(e, ERR_INVALID, "\"msg_id\" must be base64 of 16 bytes or a UUID");
	if (f->type == WIRE_T_SEND) {
		r->u.send.sends = xcalloc(1, sizeof *r->u.send.sends);
		r->u.send.n_sends = 1;
		return p_send(root, &r->u.send.sends[0], e);
	}
	if (p_array(root, "sends", 1, WIRE_MAX_SENDS, 0, &arr, e) < 0)
		return -1;
	r->u.send.sends = xcalloc(json_array_size(arr), sizeof *r->u.send.sends);
	json_array_foreach(arr, i, v) {
		r->u.send.n_sends = i + 1;
		if (p_object(v, "sends[]", e) < 0 || p_send(v, &r->u.send.sends[i], e) < 0)
			return err_prefix(e, "sends[%zu]", i);
		for (j = 0; j < i; j++)
			if (strcmp(r->u.send.sends[j].to, r->u.send.sends[i].to) == 0)
				return err_set(e, ERR_INVALID, "sends: \"%s\" appears twice",
				               r->u.send.sends[i].to);
	}
	return 0;
}

static int
p_req_keys_upload(json_t *root, struct wire_request *r, struct err *e)
{
	json_t *spk, *arr, *v;
	size_t i, j;

	if (p_member(root, "signed_prekey", 0, &spk, e) < 0 ||
	    p_array(root, "prekeys", 1, WIRE_MAX_PREKEYS, 1, &arr, e) < 0)
		return -1;
	if (spk == NULL && arr == NULL)
		return err_set(e, ERR_INVALID, "keys.upload needs signed_prekey or prekeys");
	if (spk != NULL) {
		if (p_signed_prekey_value(spk, &r->u.keys_upload.signed_prekey, e) < 0)
			return -1;
		r->u.keys_upload.has_signed_prekey = 1;
	}
	if (arr == NULL)
		return 0;
	r->u.keys_upload.prekeys = xcalloc(json_array_size(arr), sizeof *r->u.keys_upload.prekeys);
	r->u.keys_upload.n_prekeys = json_array_size(arr);
	json_array_foreach(arr, i, v) {
		if (p_prekey_value(v, &r->u.keys_upload.prekeys[i], e) < 0)
			return err_prefix(e, "prekeys[%zu]", i);
		for (j = 0; j < i; j++)
			if (r->u.keys_upload.prekeys[j].id == r->u.keys_upload.prekeys[i].id)
				return err_set(e, ERR_INVALID, "prekeys: id %u appears twice",
				               r->u.keys_upload.prekeys[i].id);
	}
	return 0;
}

static int
p_req_ack(json_t *root, struct wire_request *r, struct err *e)
{
	json_t *arr, *v;
	size_t i;
	json_int_t x;

	if (p_array(root, "ids", 1, WIRE_MAX_ACK, 0, &arr, e) < 0)
		return -1;
	r->u.ack.ids = xcalloc(json_array_size(arr), sizeof *r->u.ack.ids);
	r->u.ack.n_ids = json_array_size(arr);
	json_array_foreach(arr, i, v) {
		if (!json_is_integer(v) || (x = json_integer_value(v)) < 1 ||
		    (uint64_t)x > WIRE_INT_MAX)
			return err_set(e, ERR_INVALID, "\"ids\"[%zu] is not an envelope id", i);
		r->u.ack.ids[i] = (uint64_t)x;
	}
	return 0;
}

static int
p_request(json_t *root, struct wire_frame *f, struct err *e)
{
	struct wire_request *r = &f->u.req;
	json_t *v;
	uint64_t dev;
	int present;

	switch (f->type) {
	case WIRE_T_AUTH:
		return p_name(root, "account", r->u.auth.account, e) < 0 ||
		               p_u32(root, "device", 1, WIRE_DEVICE_MAX, &r->u.auth.device, e) <
		                   0 ||
		               p_b64_exact(root, "secret", r->u.auth.secret, WIRE_SECRET_LEN, e) < 0
		           ? -1
		           : 0;
	case WIRE_T_REGISTER:
		if (p_name(root, "account", r->u.reg.account, e) < 0 ||
		    p_u32(root, "registration_id", 1, WIRE_REG_ID_MAX, &r->u.reg.registration_id,
		          e) < 0 ||
		    p_key(root, "identity_key", r->u.reg.identity_key, e) < 0 ||
		    p_signed_prekey(root, &r->u.reg.signed_prekey, e) < 0 ||
		    p_b64_exact(root, "secret", r->u.reg.secret, WIRE_SECRET_LEN, e) < 0 ||
		    p_member(root, "token", 0, &v, e) < 0)
			return -1;
		if (v != NULL) {
			char tok[WIRE_TOKEN_MAX + 1];
			if (p_string(root, "token", WIRE_TOKEN_MAX, tok, e) < 0)
				return -1;
			r->u.reg.token = xstrdup(tok);
			wipe(tok, sizeof tok);
		}
		return 0;
	case WIRE_T_PING:
	case WIRE_T_DEVICE_LIST:
	case WIRE_T_KEYS_COUNT:
		return 0;
	case WIRE_T_DEVICE_ADD:
		return p_u32(root, "registration_id", 1, WIRE_REG_ID_MAX,
		             &r->u.device_add.registration_id, e) < 0 ||
		               p_b64_exact(root, "secret", r->u.device_add.secret, WIRE_SECRET_LEN,
		                           e) < 0 ||
		               p_signed_prekey(root, &r->u.device_add.signed_prekey, e) < 0
		           ? -1
		           : 0;
	case WIRE_T_DEVICE_REMOVE:
		return p_u32(root, "device", 1, WIRE_DEVICE_MAX, &r->u.device_remove.device, e);
	case WIRE_T_KEYS_UPLOAD:
		return p_req_keys_upload(root, r, e);
	case WIRE_T_KEYS_FETCH:
		if (p_name(root, "account", r->u.keys_fetch.account, e) < 0 ||
		    p_uint(root, "device", 1, WIRE_DEVICE_MAX, &dev, &present, e) < 0)
			return -1;
		r->u.keys_fetch.device = (uint32_t)dev;
		return 0;
	case WIRE_T_SEND:
	case WIRE_T_SEND_MULTI:
		return p_req_send(root, f, e);
	case WIRE_T_ACK:
		return p_req_ack(root, r, e);
	case WIRE_T_NONE:
		break;
	}
	return err_set(e, ERR_INTERNAL, "request type %d not handled", (int)f->type);
}

/* ---- responses ---- */

static int
p_error_token(const char *s)
{
	size_t i, len = strlen(s);

	if (len == 0 || len > WIRE_ERROR_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || s[i] == '_'))
			return 0;
	return 1;
}

static int
p_mismatch(json_t *obj, struct wire_mismatch *m, struct err *e)
{
	if (p_device_list(obj, "missing", &m->missing, &m->n_missing, e) < 0 ||
	    p_device_list(obj, "extra", &m->extra, &m->n_extra, e) < 0 ||
	    p_device_list(obj, "stale", &m->stale, &m->n_stale, e) < 0)
		return -1;
	return 0;
}

static int
p_resp_error(json_t *root, struct wire_frame *f, struct err *e)
{
	struct wire_response *r = &f->u.resp;
	json_t *arr, *v;
	size_t i;
	int present;

	if (p_string(root, "error", WIRE_ERROR_MAX, r->error, e) < 0)
		return -1;
	if (!p_error_token(r->error))
		return err_set(e, ERR_INVALID, "\"error\" must be a token of [a-z_]");
	if (p_string(root, "message", WIRE_MESSAGE_MAX, r->message, e) < 0 ||
	    p_uint(root, "retry_after_ms", 0, WIRE_INT_MAX, &r->retry_after_ms, &present, e) < 0)
		return -1;
	r->has_retry_after = present;
	if (r->status == 409 && f->type == WIRE_T_SEND) {
		r->mismatches = xcalloc(1, sizeof *r->mismatches);
		r->n_mismatches = 1;
		return p_mismatch(root, &r->mismatches[0], e);
	}
	if (r->status == 409 && f->type == WIRE_T_SEND_MULTI) {
		if (p_array(root, "mismatches", 1, WIRE_MAX_SENDS, 0, &arr, e) < 0)
			return -1;
		r->mismatches = xcalloc(json_array_size(arr), sizeof *r->mismatches);
		json_array_foreach(arr, i, v) {
			r->n_mismatches = i + 1;
			if (p_object(v, "mismatches[]", e) < 0 ||
			    p_name(v, "to", r->mismatches[i].to, e) < 0 ||
			    p_mismatch(v, &r->mismatches[i], e) < 0)
				return err_prefix(e, "mismatches[%zu]", i);
		}
		return 0;
	}
	if (r->status == 404 && f->type == WIRE_T_SEND_MULTI) {
		if (p_array(root, "unknown", 1, WIRE_MAX_SENDS, 0, &arr, e) < 0)
			return -1;
		r->unknown = xcalloc(json_array_size(arr), sizeof *r->unknown);
		r->n_unknown = json_array_size(arr);
		json_array_foreach(arr, i, v)
			if (p_name_value(v, "unknown[]", r->unknown[i], e) < 0)
				return -1;
	}
	return 0;
}

static int
p_bundle(json_t *v, struct wire_bundle *b, struct err *e)
{
	json_t *pk;

	if (p_object(v, "bundle", e) < 0 ||
	    p_u32(v, "device", 1, WIRE_DEVICE_MAX, &b->device, e) < 0 ||
	    p_u32(v, "registration_id", 1, WIRE_REG_ID_MAX, &b->registration_id, e) < 0 ||
	    p_signed_prekey(v, &b->signed_prekey, e) < 0 || p_member(v, "prekey", 0, &pk, e) < 0)
		return -1;
	if (pk != NULL) {
		if (p_prekey_value(pk, &b->prekey, e) < 0)
			return err_prefix(e, "prekey");
		b->has_prekey = 1;
	}
	return 0;
}

static int
p_resp_ok(json_t *root, struct wire_frame *f, struct err *e)
{
	struct wire_response *r = &f->u.resp;
	json_t *arr, *v;
	size_t i;
	uint64_t count;

	switch (f->type) {
	case WIRE_T_REGISTER:
	case WIRE_T_DEVICE_ADD:
		return p_u32(root, "device", 1, WIRE_DEVICE_MAX, &r->device, e);
	case WIRE_T_KEYS_UPLOAD:
	case WIRE_T_KEYS_COUNT:
		if (p_uint(root, "count", 0, WIRE_INT_MAX, &count, NULL, e) < 0)
			return -1;
		r->count = count;
		return 0;
	case WIRE_T_SEND:
	case WIRE_T_SEND_MULTI:
		return p_i64(root, "ts", &r->ts, e);
	case WIRE_T_DEVICE_LIST:
		if (p_array(root, "devices", 0, WIRE_MAX_MESSAGES, 0, &arr, e) < 0)
			return -1;
		r->devices = xcalloc(json_array_size(arr), sizeof *r->devices);
		r->n_devices = json_array_size(arr);
		json_array_foreach(arr, i, v) {
			struct wire_device_info *d = &r->devices[i];
			if (p_object(v, "devices[]", e) < 0 ||
			    p_u32(v, "device", 1, WIRE_DEVICE_MAX, &d->device, e) < 0 ||
			    p_u32(v, "registration_id", 1, WIRE_REG_ID_MAX, &d->registration_id,
			          e) < 0 ||
			    p_i64(v, "created", &d->created, e) < 0 ||
			    p_i64(v, "last_seen", &d->last_seen, e) < 0)
				return err_prefix(e, "devices[%zu]", i);
		}
		return 0;
	case WIRE_T_KEYS_FETCH:
		if (p_name(root, "account", r->account, e) < 0 ||
		    p_key(root, "identity_key", r->identity_key, e) < 0 ||
		    p_array(root, "bundles", 0, WIRE_MAX_MESSAGES, 0, &arr, e) < 0)
			return -1;
		r->bundles = xcalloc(json_array_size(arr), sizeof *r->bundles);
		r->n_bundles = json_array_size(arr);
		json_array_foreach(arr, i, v)
			if (p_bundle(v, &r->bundles[i], e) < 0)
				return err_prefix(e, "bundles[%zu]", i);
		return 0;
	case WIRE_T_NONE:
		return err_set(e, ERR_INVALID, "a successful response needs a type");
	default:
		return 0;
	}
}

static int
p_response(json_t *root, struct wire_frame *f, struct err *e)
{
	uint64_t status;

	if (p_uint(root, "status", 200, 599, &status, NULL, e) < 0)
		return -1;
	if (status != 200 && status < 400)
		return err_set(e, ERR_INVALID, "\"status\" must be 200 or 400..599");
	f->u.resp.status = (int)status;
	if (status == 200)
		return p_resp_ok(root, f, e);
	return p_resp_error(root, f, e);
}

/* ---- pushes ---- */

static int
p_push(json_t *root, struct wire_frame *f, struct err *e)
{
	struct wire_envelope *env = &f->u.push.envelope;
	json_t *t;

	switch (f->push) {
	case WIRE_P_ENVELOPE:
		if (p_uint(root, "id", 1, WIRE_INT_MAX, &env->id, NULL, e) < 0 ||
		    p_name(root, "from", env->from, e) < 0 ||
		    p_u32(root, "from_device", 1, WIRE_DEVICE_MAX, &env->from_device, e) < 0 ||
		    p_u32(root, "from_registration_id", 1, WIRE_REG_ID_MAX,
		          &env->from_registration_id, e) < 0 ||
		    p_member(root, "type", 1, &t, e) < 0)
			return -1;
		if (!json_is_string(t) ||
		    wire_msg_type_from_name(json_string_value(t), &env->type) < 0)
			return err_set(
			    e, ERR_INVALID,
			    "\"type\" must be prekey, normal, senderkey or distribution");
		if (p_i64(root, "ts", &env->ts, e) < 0)
			return -1;
		return p_b64_alloc(root, "content", WIRE_MAX_CONTENT, &env->content,
		                   &env->content_len, e);
	case WIRE_P_KEYS_LOW:
		return p_uint(root, "count", 0, WIRE_INT_MAX, &f->u.push.count, NULL, e);
	case WIRE_P_QUEUE_EMPTY:
		return 0;
	case WIRE_P_NONE:
		break;
	}
	return err_set(e, ERR_INTERNAL, "push %d not handled", (int)f->push);
}

/* Classify the frame and read id and type (kept on failure). */
static int
p_header(json_t *root, struct wire_frame *f, struct err *e)
{
	json_t *push, *status, *type, *id;
	json_int_t n;

	push = json_object_get(root, "push");
	status = json_object_get(root, "status");
	type = json_object_get(root, "type");
	id = json_object_get(root, "id");
	if (push != NULL) {
		f->kind = WIRE_PUSH;
		if (!json_is_string(push) ||
		    (f->push = wire_push_from_name(json_string_value(push))) == WIRE_P_NONE)
			return err_set(e, ERR_INVALID, "unknown push");
		return 0;
	}
	f->kind = status != NULL ? WIRE_RESPONSE : WIRE_REQUEST;
	if (id != NULL && json_is_integer(id) && (n = json_integer_value(id)) >= 0 &&
	    (uint64_t)n <= WIRE_INT_MAX)
		f->id = (uint64_t)n;
	if (type != NULL && json_is_string(type))
		f->type = wire_type_from_name(json_string_value(type));
	if (id == NULL)
		return err_set(e, ERR_INVALID, "missing member \"id\"");
	if (f->id == 0 &&
	    !(f->kind == WIRE_RESPONSE && json_is_integer(id) && json_integer_value(id) == 0)) {
		f->id = 0;
		return err_set(e, ERR_INVALID, "\"id\" must be an integer in 1..2^53-1");
	}
	if (f->kind == WIRE_REQUEST && type == NULL)
		return err_set(e, ERR_INVALID, "missing member \"type\"");
	if (type != NULL && f->type == WIRE_T_NONE)
		return err_set(e, ERR_INVALID, "unknown type");
	if (f->kind == WIRE_RESPONSE && f->id == 0 && f->type != WIRE_T_NONE)
		return err_set(e, ERR_INVALID, "a response with id 0 has no type");
	return 0;
}

int
wire_parse(const char *buf, size_t len, struct wire_frame *out, struct err *e)
{
	json_error_t jerr;
	json_t *root;
	int rc;

	memset(out, 0, sizeof *out);
	if (len > WIRE_MAX_FRAME)
		return err_set(e, ERR_TOOLARGE, "frame of %zu bytes exceeds %d", len,
		               WIRE_MAX_FRAME);
	if (!wire_depth_ok(buf, len, WIRE_MAX_DEPTH))
		return err_set(e, ERR_INVALID, "JSON nested deeper than %d", WIRE_MAX_DEPTH);
	if (wire_parse_fast(buf, len, out))
		return 0;
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
		return err_set(e, ERR_INVALID, "not JSON: %s (at byte %d)", jerr.text,
		               jerr.position);
	if (!json_is_object(root)) {
		json_decref(root);
		return err_set(e, ERR_INVALID, "a frame must be a JSON object");
	}
	rc = p_header(root, out, e);
	if (rc == 0) {
		if (out->kind == WIRE_PUSH)
			rc = p_push(root, out, e);
		else if (out->kind == WIRE_RESPONSE)
			rc = p_response(root, out, e);
		else
			rc = p_request(root, out, e);
	}
	json_decref(root);
	if (rc < 0) {
		/* Keep only what lets the caller answer the frame. */
		enum wire_kind kind = out->kind;
		uint64_t id = out->id;
		enum wire_type type = out->type;
		wire_frame_free(out);
		out->kind = kind;
		out->id = id;
		out->type = type;
		return -1;
	}
	return 0;
}

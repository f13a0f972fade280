/* Serializing struct wire_frame into sotto-protocol 1 JSON. The output is
 * checked by parsing it back, so the builder can never emit a frame the
 * parser (ours or a peer's written from the page) would refuse. */
#include "wire/wire.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "wire/b64.h"

/* jansson's setters take ownership of the value; a NULL value (only from
 * an allocation failure inside jansson) makes the whole build fail. */
static void
b_set(json_t *obj, const char *key, json_t *v, int *bad)
{
	if (v == NULL || json_object_set_new(obj, key, v) < 0)
		*bad = 1;
}

static void
b_push(json_t *arr, json_t *v, int *bad)
{
	if (v == NULL || json_array_append_new(arr, v) < 0)
		*bad = 1;
}

static json_t *
b_int(uint64_t v)
{
	/* Out-of-range values are caught by the parse-back check. */
	return json_integer(v > WIRE_INT_MAX ? -1 : (json_int_t)v);
}

static json_t *
b_b64(const uint8_t *p, size_t n)
{
	char *s = b64_encode(p, n);
	json_t *v = json_string(s);
	wipe_free_str(s);
	return v;
}

/* A name or other fixed string; invalid UTF-8 yields NULL and fails. */
static json_t *
b_str(const char *s)
{
	return json_string(s);
}

static json_t *
b_msg_type(enum wire_msg_type t)
{
	const char *name = wire_msg_type_name(t);
	return name == NULL ? NULL : json_string(name);
}

static json_t *
b_signed_prekey(const struct wire_signed_prekey *spk, int *bad)
{
	json_t *o = json_object();

	b_set(o, "id", b_int(spk->id), bad);
	b_set(o, "public", b_b64(spk->pub, WIRE_KEY_LEN), bad);
	b_set(o, "signature", b_b64(spk->sig, WIRE_SIG_LEN), bad);
	return o;
}

static json_t *
b_prekey(const struct wire_prekey *pk, int *bad)
{
	json_t *o = json_object();

	b_set(o, "id", b_int(pk->id), bad);
	b_set(o, "public", b_b64(pk->pub, WIRE_KEY_LEN), bad);
	return o;
}

static json_t *
b_messages(const struct wire_send *s, int *bad)
{
	json_t *arr = json_array(), *m;
	size_t i;

	for (i = 0; i < s->n_messages; i++) {
		const struct wire_message *msg = &s->messages[i];
		m = json_object();
		b_set(m, "device", b_int(msg->device), bad);
		b_set(m, "registration_id", b_int(msg->registration_id), bad);
		b_set(m, "type", b_msg_type(msg->type), bad);
		b_set(m, "content", b_b64(msg->content, msg->content_len), bad);
		b_push(arr, m, bad);
	}
	return arr;
}

static json_t *
b_u32_list(const uint32_t *v, size_t n, int *bad)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; i < n; i++)
		b_push(arr, b_int(v[i]), bad);
	return arr;
}

static void
b_mismatch(json_t *o, const struct wire_mismatch *m, int *bad)
{
	b_set(o, "missing", b_u32_list(m->missing, m->n_missing, bad), bad);
	b_set(o, "extra", b_u32_list(m->extra, m->n_extra, bad), bad);
	b_set(o, "stale", b_u32_list(m->stale, m->n_stale, bad), bad);
}

static void
b_request(json_t *o, const struct wire_frame *f, int *bad)
{
	const struct wire_request *r = &f->u.req;
	json_t *arr, *s;
	size_t i;

	switch (f->type) {
	case WIRE_T_AUTH:
		b_set(o, "account", b_str(r->u.auth.account), bad);
		b_set(o, "device", b_int(r->u.auth.device), bad);
		b_set(o, "secret", b_b64(r->u.auth.secret, WIRE_SECRET_LEN), bad);
		break;
	case WIRE_T_REGISTER:
		b_set(o, "account", b_str(r->u.reg.account), bad);
		b_set(o, "registration_id", b_int(r->u.reg.registration_id), bad);
		b_set(o, "identity_key", b_b64(r->u.reg.identity_key, WIRE_KEY_LEN), bad);
		b_set(o, "signed_prekey", b_signed_prekey(&r->u.reg.signed_prekey, bad), bad);
		b_set(o, "secret", b_b64(r->u.reg.secret, WIRE_SECRET_LEN), bad);
		if (r->u.reg.token != NULL)
			b_set(o, "token", b_str(r->u.reg.token), bad);
		break;
	case WIRE_T_DEVICE_ADD:
		b_set(o, "registration_id", b_int(r->u.device_add.registration_id), bad);
		b_set(o, "secret", b_b64(r->u.device_add.secret, WIRE_SECRET_LEN), bad);
		b_set(o, "signed_prekey", b_signed_prekey(&r->u.device_add.signed_prekey, bad),
		      bad);
		break;
	case WIRE_T_DEVICE_REMOVE:
		b_set(o, "device", b_int(r->u.device_remove.device), bad);
		break;
	case WIRE_T_KEYS_UPLOAD:
		if (r->u.keys_upload.has_signed_prekey)
			b_set(o, "signed_prekey",
			      b_signed_prekey(&r->u.keys_upload.signed_prekey, bad), bad);
		if (r->u.keys_upload.prekeys != NULL) {
			arr = json_array();
			for (i = 0; i < r->u.keys_upload.n_prekeys; i++)
				b_push(arr, b_prekey(&r->u.keys_upload.prekeys[i], bad), bad);
			b_set(o, "prekeys", arr, bad);
		}
		break;
	case WIRE_T_KEYS_FETCH:
		b_set(o, "account", b_str(r->u.keys_fetch.account), bad);
		if (r->u.keys_fetch.device != 0)
			b_set(o, "device", b_int(r->u.keys_fetch.device), bad);
		break;
	case WIRE_T_SEND:
		b_set(o, "msg_id", b_str(r->u.send.msg_id), bad);
		if (r->u.send.n_sends != 1) {
			*bad = 1;
			break;
		}
		b_set(o, "to", b_str(r->u.send.sends[0].to), bad);
		b_set(o, "messages", b_messages(&r->u.send.sends[0], bad), bad);
		break;
	case WIRE_T_SEND_MULTI:
		b_set(o, "msg_id", b_str(r->u.send.msg_id), bad);
		arr = json_array();
		for (i = 0; i < r->u.send.n_sends; i++) {
			s = json_object();
			b_set(s, "to", b_str(r->u.send.sends[i].to), bad);
			b_set(s, "messages", b_messages(&r->u.send.sends[i], bad), bad);
			b_push(arr, s, bad);
		}
		b_set(o, "sends", arr, bad);
		break;
	case WIRE_T_ACK:
		arr = json_array();
		for (i = 0; i < r->u.ack.n_ids; i++)
			b_push(arr, b_int(r->u.ack.ids[i]), bad);
		b_set(o, "ids", arr, bad);
		break;
	default:
		break;
	}
}

static void
b_response_ok(json_t *o, const struct wire_frame *f, int *bad)
{
	const struct wire_response *r = &f->u.resp;
	json_t *arr, *d;
	size_t i;

	switch (f->type) {
	case WIRE_T_REGISTER:
	case WIRE_T_DEVICE_ADD:
		b_set(o, "device", b_int(r->device), bad);
		break;
	case WIRE_T_KEYS_UPLOAD:
	case WIRE_T_KEYS_COUNT:
		b_set(o, "count", b_int(r->count), bad);
		break;
	case WIRE_T_SEND:
	case WIRE_T_SEND_MULTI:
		b_set(o, "ts", b_int((uint64_t)r->ts), bad);
		break;
	case WIRE_T_DEVICE_LIST:
		arr = json_array();
		for (i = 0; i < r->n_devices; i++) {
			d = json_object();
			b_set(d, "device", b_int(r->devices[i].device), bad);
			b_set(d, "registration_id", b_int(r->devices[i].registration_id), bad);
			b_set(d, "created", b_int((uint64_t)r->devices[i].created), bad);
			b_set(d, "last_seen", b_int((uint64_t)r->devices[i].last_seen), bad);
			b_push(arr, d, bad);
		}
		b_set(o, "devices", arr, bad);
		break;
	case WIRE_T_KEYS_FETCH:
		b_set(o, "account", b_str(r->account), bad);
		b_set(o, "identity_key", b_b64(r->identity_key, WIRE_KEY_LEN), bad);
		arr = json_array();
		for (i = 0; i < r->n_bundles; i++) {
			const struct wire_bundle *b = &r->bundles[i];
			d = json_object();
			b_set(d, "device", b_int(b->device), bad);
			b_set(d, "registration_id", b_int(b->registration_id), bad);
			b_set(d, "signed_prekey", b_signed_prekey(&b->signed_prekey, bad), bad);
			if (b->has_prekey)
				b_set(d, "prekey", b_prekey(&b->prekey, bad), bad);
			b_push(arr, d, bad);
		}
		b_set(o, "bundles", arr, bad);
		break;
	default:
		break;
	}
}

static void
b_response_error(json_t *o, const struct wire_frame *f, int *bad)
{
	const struct wire_response *r = &f->u.resp;
	json_t *arr, *m;
	size_t i;

	b_set(o, "error", b_str(r->error), bad);
	b_set(o, "message", b_str(r->message), bad);
	if (r->has_retry_after)
		b_set(o, "retry_after_ms", b_int(r->retry_after_ms), bad);
	if (r->status == 409 && f->type == WIRE_T_SEND) {
		if (r->n_mismatches != 1)
			*bad = 1;
		else
			b_mismatch(o, &r->mismatches[0], bad);
	} else if (r->status == 409 && f->type == WIRE_T_SEND_MULTI) {
		arr = json_array();
		for (i = 0; i < r->n_mismatches; i++) {
			m = json_object();
			b_set(m, "to", b_str(r->mismatches[i].to), bad);
			b_mismatch(m, &r->mismatches[i], bad);
			b_push(arr, m, bad);
		}
		b_set(o, "mismatches", arr, bad);
	} else if (r->status == 404 && f->type == WIRE_T_SEND_MULTI) {
		arr = json_array();
		for (i = 0; i < r->n_unknown; i++)
			b_push(arr, b_str(r->unknown[i]), bad);
		b_set(o, "unknown", arr, bad);
	}
}

static void
b_push_frame(json_t *o, const struct wire_frame *f, int *bad)
{
	const struct wire_envelope *env = &f->u.push.envelope;

	switch (f->push) {
	case WIRE_P_ENVELOPE:
		b_set(o, "id", b_int(env->id), bad);
		b_set(o, "from", b_str(env->from), bad);
		b_set(o, "from_device", b_int(env->from_device), bad);
		b_set(o, "from_registration_id", b_int(env->from_registration_id), bad);
		b_set(o, "type", b_msg_type(env->type), bad);
		b_set(o, "ts", b_int((uint64_t)env->ts), bad);
		b_set(o, "content", b_b64(env->content, env->content_len), bad);
		break;
	case WIRE_P_KEYS_LOW:
		b_set(o, "count", b_int(f->u.push.count), bad);
		break;
	default:
		break;
	}
}

/* Parse the built text back; equality of the structs is what the tests
 * check, here it is validity. */
static int
b_check(const char *s, size_t len, struct err *e)
{
	struct wire_frame back;

	if (wire_parse(s, len, &back, e) < 0)
		return err_prefix(e, "refusing to build an invalid frame");
	wire_frame_free(&back);
	return 0;
}

/* ---- the per-message frames, written directly ----
 * The relay sends an envelope push and a 200 answer for every message.
 * Every value in them is a number, a checked account name, a fixed token
 * or base64, none of which JSON needs to escape, so once the values pass
 * the parser's own range checks the text is valid by construction: no
 * jansson tree and no parse-back. Anything else, or any value out of
 * range, goes the generic way, which reports the error. */

struct b_text {
	char *p;
	size_t len, cap;
};

static void
b_text_raw(struct b_text *t, const char *s, size_t n)
{
	if (t->len + n + 1 > t->cap) {
		t->cap = (t->len + n + 1) * 2;
		t->p = xrealloc(t->p, t->cap);
	}
	memcpy(t->p + t->len, s, n);
	t->len += n;
	t->p[t->len] = '\0';
}

static void
b_text_lit(struct b_text *t, const char *s)
{
	b_text_raw(t, s, strlen(s));
}

static void
b_text_uint(struct b_text *t, uint64_t v)
{
	char digits[24];
	size_t i = sizeof digits;

	do {
		digits[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	b_text_raw(t, digits + i, sizeof digits - i);
}

/* "key": at the start of a member (the first member has no comma). */
static void
b_text_key(struct b_text *t, const char *key)
{
	if (t->len > 1)
		b_text_raw(t, ",", 1);
	b_text_raw(t, "\"", 1);
	b_text_lit(t, key);
	b_text_raw(t, "\":", 2);
}

static void
b_text_str(struct b_text *t, const char *s)
{
	b_text_raw(t, "\"", 1);
	b_text_lit(t, s);
	b_text_raw(t, "\"", 1);
}

static void
b_text_b64(struct b_text *t, const uint8_t *p, size_t n)
{
	char *b64 = b64_encode(p, n);

	b_text_str(t, b64);
	free(b64); /* ciphertext: nothing to wipe */
}

static int
b_fast_message_ok(const struct wire_message *m)
{
	return m->device >= 1 && m->device <= WIRE_DEVICE_MAX && m->registration_id >= 1 &&
	       m->registration_id <= WIRE_REG_ID_MAX && wire_msg_type_name(m->type) != NULL &&
	       m->content != NULL && m->content_len >= 1 && m->content_len <= WIRE_MAX_CONTENT;
}

/* A send to one account: {"id","type","msg_id","to","messages":[...]}. */
static int
b_fast_send(struct b_text *t, const struct wire_frame *f)
{
	const struct wire_send *sd = f->u.req.u.send.sends;
	size_t i, j, need = 128;

	if (f->u.req.u.send.n_sends != 1 || sd == NULL ||
	    !wire_msg_id_valid(f->u.req.u.send.msg_id) || !wire_name_valid(sd->to) ||
	    sd->n_messages > WIRE_MAX_MESSAGES || (sd->n_messages > 0 && sd->messages == NULL))
		return -1;
	for (i = 0; i < sd->n_messages; i++) {
		if (!b_fast_message_ok(&sd->messages[i]))
			return -1;
		for (j = 0; j < i; j++)
			if (sd->messages[j].device == sd->messages[i].device)
				return -1;
		need += 96 + b64_encoded_len(sd->messages[i].content_len);
	}
	if (need > WIRE_MAX_FRAME)
		return -1;
	t->cap = need;
	t->p = xmalloc(t->cap);
	b_text_lit(t, "{\"id\":");
	b_text_uint(t, f->id);
	b_text_lit(t, ",\"type\":\"send\",\"msg_id\":");
	b_text_str(t, f->u.req.u.send.msg_id);
	b_text_key(t, "to");
	b_text_str(t, sd->to);
	b_text_lit(t, ",\"messages\":[");
	for (i = 0; i < sd->n_messages; i++) {
		const struct wire_message *m = &sd->messages[i];
		b_text_lit(t, i == 0 ? "{\"device\":" : ",{\"device\":");
		b_text_uint(t, m->device);
		b_text_key(t, "registration_id");
		b_text_uint(t, m->registration_id);
		b_text_key(t, "type");
		b_text_str(t, wire_msg_type_name(m->type));
		b_text_key(t, "content");
		b_text_b64(t, m->content, m->content_len);
		b_text_raw(t, "}", 1);
	}
	b_text_raw(t, "]}", 2);
	return 0;
}

static int
b_fast_ack(struct b_text *t, const struct wire_frame *f)
{
	size_t i, n = f->u.req.u.ack.n_ids;

	if (n < 1 || n > WIRE_MAX_ACK || f->u.req.u.ack.ids == NULL)
		return -1;
	for (i = 0; i < n; i++)
		if (f->u.req.u.ack.ids[i] < 1 || f->u.req.u.ack.ids[i] > WIRE_INT_MAX)
			return -1;
	t->cap = 48 + n * 17;
	t->p = xmalloc(t->cap);
	b_text_lit(t, "{\"id\":");
	b_text_uint(t, f->id);
	b_text_lit(t, ",\"type\":\"ack\",\"ids\":[");
	for (i = 0; i < n; i++) {
		if (i > 0)
			b_text_raw(t, ",", 1);
		b_text_uint(t, f->u.req.u.ack.ids[i]);
	}
	b_text_raw(t, "]}", 2);
	return 0;
}

static int
b_fast_envelope(struct b_text *t, const struct wire_envelope *env)
{
	if (env->id < 1 || env->id > WIRE_INT_MAX || !wire_name_valid(env->from) ||
	    env->from_device < 1 || env->from_device > WIRE_DEVICE_MAX ||
	    env->from_registration_id < 1 || env->from_registration_id > WIRE_REG_ID_MAX ||
	    wire_msg_type_name(env->type) == NULL || env->ts < 0 ||
	    (uint64_t)env->ts > WIRE_INT_MAX || env->content == NULL || env->content_len < 1 ||
	    env->content_len > WIRE_MAX_CONTENT)
		return -1;
	t->cap = 192 + b64_encoded_len(env->content_len);
	t->p = xmalloc(t->cap);
	b_text_lit(t, "{\"push\":\"envelope\"");
	b_text_key(t, "id");
	b_text_uint(t, env->id);
	b_text_key(t, "from");
	b_text_str(t, env->from);
	b_text_key(t, "from_device");
	b_text_uint(t, env->from_device);
	b_text_key(t, "from_registration_id");
	b_text_uint(t, env->from_registration_id);
	b_text_key(t, "type");
	b_text_str(t, wire_msg_type_name(env->type));
	b_text_key(t, "ts");
	b_text_uint(t, (uint64_t)env->ts);
	b_text_key(t, "content");
	b_text_b64(t, env->content, env->content_len);
	b_text_raw(t, "}", 1);
	return 0;
}

/* The 200 answer to a send or an ack. */
static int
b_fast_ok(struct b_text *t, const struct wire_frame *f)
{
	int has_ts = f->type == WIRE_T_SEND || f->type == WIRE_T_SEND_MULTI;

	if ((!has_ts && f->type != WIRE_T_ACK) ||
	    (has_ts && (f->u.resp.ts < 0 || (uint64_t)f->u.resp.ts > WIRE_INT_MAX)))
		return -1;
	t->cap = 96;
	t->p = xmalloc(t->cap);
	b_text_lit(t, "{\"id\":");
	b_text_uint(t, f->id);
	b_text_key(t, "type");
	b_text_str(t, wire_type_name(f->type));
	b_text_lit(t, ",\"status\":200");
	if (has_ts) {
		b_text_key(t, "ts");
		b_text_uint(t, (uint64_t)f->u.resp.ts);
	}
	b_text_raw(t, "}", 1);
	return 0;
}

/* Write f directly if it is one of the frames above; NULL if it is not. */
static char *
b_fast(const struct wire_frame *f, size_t *len_out)
{
	struct b_text t = {NULL, 0, 0};
	int rc = -1;

	if (f->kind == WIRE_PUSH && f->push == WIRE_P_ENVELOPE)
		rc = b_fast_envelope(&t, &f->u.push.envelope);
	else if (f->id < 1 || f->id > WIRE_INT_MAX)
		rc = -1;
	else if (f->kind == WIRE_RESPONSE && f->u.resp.status == 200)
		rc = b_fast_ok(&t, f);
	else if (f->kind == WIRE_REQUEST && f->type == WIRE_T_SEND)
		rc = b_fast_send(&t, f);
	else if (f->kind == WIRE_REQUEST && f->type == WIRE_T_ACK)
		rc = b_fast_ack(&t, f);
	if (rc < 0)
		return NULL;
	if (len_out != NULL)
		*len_out = t.len;
	return t.p;
}

char *
wire_build(const struct wire_frame *f, size_t *len_out, struct err *e)
{
	json_t *o;
	const char *name;
	char *s;
	size_t len;
	int bad = 0;

	if ((s = b_fast(f, len_out)) != NULL)
		return s;
	o = json_object();

	switch (f->kind) {
	case WIRE_REQUEST:
		b_set(o, "id", b_int(f->id), &bad);
		name = wire_type_name(f->type);
		b_set(o, "type", name == NULL ? NULL : json_string(name), &bad);
		b_request(o, f, &bad);
		break;
	case WIRE_RESPONSE:
		b_set(o, "id", b_int(f->id), &bad);
		if (f->type != WIRE_T_NONE) {
			name = wire_type_name(f->type);
			b_set(o, "type", name == NULL ? NULL : json_string(name), &bad);
		}
		b_set(o, "status", json_integer(f->u.resp.status), &bad);
		if (f->u.resp.status == 200)
			b_response_ok(o, f, &bad);
		else
			b_response_error(o, f, &bad);
		break;
	case WIRE_PUSH:
		name = wire_push_name(f->push);
		b_set(o, "push", name == NULL ? NULL : json_string(name), &bad);
		b_push_frame(o, f, &bad);
		break;
	default:
		bad = 1;
		break;
	}
	if (bad) {
		json_decref(o);
		return err_set(e, ERR_INVALID, "frame has an unknown kind, type or value"), NULL;
	}
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (s == NULL)
		return err_set(e, ERR_INTERNAL, "json_dumps failed"), NULL;
	len = strlen(s);
	if (b_check(s, len, e) < 0) {
		wipe_free(s, len);
		return NULL;
	}
	if (len_out != NULL)
		*len_out = len;
	return s;
}

/* Copy at most max bytes of valid UTF-8 from src, replacing invalid
 * sequences and control characters, never cutting a character in two. */
static void
b_sanitize(const char *src, char *dst, size_t max)
{
	const unsigned char *p = (const unsigned char *)src;
	size_t o = 0, n, k;

	while (*p != '\0') {
		if (*p < 0x80) {
			n = 1;
		} else if ((*p & 0xE0) == 0xC0 && *p >= 0xC2) {
			n = 2;
		} else if ((*p & 0xF0) == 0xE0) {
			n = 3;
		} else if ((*p & 0xF8) == 0xF0 && *p <= 0xF4) {
			n = 4;
		} else {
			n = 0;
		}
		for (k = 1; k < n; k++)
			if ((p[k] & 0xC0) != 0x80)
				n = 0;
		/* Overlong 3/4-byte forms, surrogates and > U+10FFFF. */
		if (n == 3 && ((p[0] == 0xE0 && p[1] < 0xA0) || (p[0] == 0xED && p[1] >= 0xA0)))
			n = 0;
		if (n == 4 && ((p[0] == 0xF0 && p[1] < 0x90) || (p[0] == 0xF4 && p[1] >= 0x90)))
			n = 0;
		if (n == 0 || (n == 1 && (*p < 0x20 || *p == 0x7F))) {
			if (o + 1 > max)
				break;
			dst[o++] = '?';
			p++;
			continue;
		}
		if (o + n > max)
			break;
		memcpy(dst + o, p, n);
		o += n;
		p += n;
	}
	dst[o] = '\0';
}

char *
wire_build_error(uint64_t id, enum wire_type type, int status, const char *error,
                 const char *message, int64_t retry_after_ms, size_t *len)
{
	json_t *o = json_object();
	char msg[WIRE_MESSAGE_MAX + 1];
	const char *name = wire_type_name(type);
	char *s;
	int bad = 0;

	if (status < 400 || status > 599)
		status = 500;
	if (error == NULL)
		error = wire_status_error(status);
	b_sanitize(message != NULL && message[0] != '\0' ? message : error, msg, WIRE_MESSAGE_MAX);
	b_set(o, "id", b_int(id), &bad);
	if (name != NULL)
		b_set(o, "type", json_string(name), &bad);
	b_set(o, "status", json_integer(status), &bad);
	b_set(o, "error", json_string(error), &bad);
	b_set(o, "message", json_string(msg), &bad);
	if (retry_after_ms >= 0)
		b_set(o, "retry_after_ms", json_integer(retry_after_ms), &bad);
	s = bad ? NULL : json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (s == NULL)
		abort(); /* only a bug or jansson running out of memory */
	if (len != NULL)
		*len = strlen(s);
	return s;
}

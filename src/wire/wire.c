/* Shared pieces of the wire codec: the name tables of the protocol page,
 * value syntax checks used by both parser and builder, and cleanup. */
#include "wire/wire.h"

#include <stdlib.h>
#include <string.h>

#include "wire/b64.h"

static const char *const wire_type_names[WIRE_T_COUNT] = {
    [WIRE_T_AUTH] = "auth",
    [WIRE_T_REGISTER] = "register",
    [WIRE_T_PING] = "ping",
    [WIRE_T_DEVICE_ADD] = "device.add",
    [WIRE_T_DEVICE_LIST] = "device.list",
    [WIRE_T_DEVICE_REMOVE] = "device.remove",
    [WIRE_T_KEYS_UPLOAD] = "keys.upload",
    [WIRE_T_KEYS_COUNT] = "keys.count",
    [WIRE_T_KEYS_FETCH] = "keys.fetch",
    [WIRE_T_SEND] = "send",
    [WIRE_T_SEND_MULTI] = "send.multi",
    [WIRE_T_ACK] = "ack",
};

static const char *const wire_push_names[] = {
    [WIRE_P_ENVELOPE] = "envelope",
    [WIRE_P_QUEUE_EMPTY] = "queue.empty",
    [WIRE_P_KEYS_LOW] = "keys.low",
};

static const char *const wire_msg_type_names[] = {
    [WIRE_MSG_PREKEY] = "prekey",
    [WIRE_MSG_NORMAL] = "normal",
    [WIRE_MSG_SENDERKEY] = "senderkey",
    [WIRE_MSG_DISTRIBUTION] = "distribution",
};

int
wire_name_valid(const char *s)
{
	size_t i, len = strnlen(s, WIRE_NAME_MAX + 1);

	if (len == 0 || len > WIRE_NAME_MAX || s[0] < 'a' || s[0] > 'z')
		return 0;
	for (i = 1; i < len; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-'))
			return 0;
	}
	return 1;
}

static int
wire_is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

int
wire_msg_id_valid(const char *s)
{
	size_t i, len = strnlen(s, WIRE_MSG_ID_MAX + 1);
	uint8_t raw[16];

	if (len == 24)
		return b64_decode_exact(s, len, raw, sizeof raw, NULL) == 0;
	if (len != 36)
		return 0;
	for (i = 0; i < len; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!wire_is_hex(s[i])) {
			return 0;
		}
	}
	return 1;
}

const char *
wire_type_name(enum wire_type t)
{
	if ((unsigned)t >= WIRE_T_COUNT)
		return NULL;
	return wire_type_names[t];
}

enum wire_type
wire_type_from_name(const char *s)
{
	int t;

	for (t = 1; t < WIRE_T_COUNT; t++)
		if (strcmp(wire_type_names[t], s) == 0)
			return (enum wire_type)t;
	return WIRE_T_NONE;
}

const char *
wire_push_name(enum wire_push p)
{
	if ((unsigned)p >= sizeof wire_push_names / sizeof wire_push_names[0])
		return NULL;
	return wire_push_names[p];
}

enum wire_push
wire_push_from_name(const char *s)
{
	size_t p;

	for (p = 1; p < sizeof wire_push_names / sizeof wire_push_names[0]; p++)
		if (strcmp(wire_push_names[p], s) == 0)
			return (enum wire_push)p;
	return WIRE_P_NONE;
}

const char *
wire_msg_type_name(enum wire_msg_type t)
{
	if ((unsigned)t >= sizeof wire_msg_type_names / sizeof wire_msg_type_names[0])
		return NULL;
	return wire_msg_type_names[t];
}

int
wire_msg_type_from_name(const char *s, enum wire_msg_type *out)
{
	size_t t;

	for (t = 1; t < sizeof wire_msg_type_names / sizeof wire_msg_type_names[0]; t++) {
		if (strcmp(wire_msg_type_names[t], s) == 0) {
			*out = (enum wire_msg_type)t;
			return 0;
		}
	}
	return -1;
}

const char *
wire_status_error(int status)
{
	switch (status) {
	case 400:
		return "bad_request";
	case 401:
		return "auth_failed";
	case 403:
		return "forbidden";
	case 404:
		return "not_found";
	case 409:
		return "mismatched_devices";
	case 410:
		return "gone";
	case 413:
		return "too_large";
	case 429:
		return "rate_limited";
	case 503:
		return "unavailable";
	default:
		return "internal";
	}
}

static void
wire_send_free(struct wire_send *s)
{
	size_t i;

	for (i = 0; i < s->n_messages; i++)
		free(s->messages[i].content);
	free(s->messages);
}

static void
wire_request_free(enum wire_type type, struct wire_request *r)
{
	size_t i;

	switch (type) {
	case WIRE_T_REGISTER:
		wipe_free_str(r->u.reg.token);
		break;
	case WIRE_T_KEYS_UPLOAD:
		free(r->u.keys_upload.prekeys);
		break;
	case WIRE_T_SEND:
	case WIRE_T_SEND_MULTI:
		for (i = 0; i < r->u.send.n_sends; i++)
			wire_send_free(&r->u.send.sends[i]);
		free(r->u.send.sends);
		break;
	case WIRE_T_ACK:
		free(r->u.ack.ids);
		break;
	default:
		break;
	}
}

static void
wire_response_free(struct wire_response *r)
{
	size_t i;

	free(r->devices);
	free(r->bundles);
	for (i = 0; i < r->n_mismatches; i++) {
		free(r->mismatches[i].missing);
		free(r->mismatches[i].extra);
		free(r->mismatches[i].stale);
	}
	free(r->mismatches);
	free(r->unknown);
}

void
wire_frame_free(struct wire_frame *f)
{
	if (f == NULL)
		return;
	switch (f->kind) {
	case WIRE_REQUEST:
		wire_request_free(f->type, &f->u.req);
		break;
	case WIRE_RESPONSE:
		wire_response_free(&f->u.resp);
		break;
	case WIRE_PUSH:
		if (f->push == WIRE_P_ENVELOPE)
			free(f->u.push.envelope.content);
		break;
	}
	wipe(f, sizeof *f);
}

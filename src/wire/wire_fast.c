/* The per-message frames read without a jansson tree: a send, an ack,
 * their 200 answers and an envelope push, when spelled exactly as
 * wire_build() writes them. Everything else goes to the strict generic
 * reader in wire_parse.c. */
#include "wire/wire_int.h"

#include <stdlib.h>
#include <string.h>

#include "wire/b64.h"

/*  * A send, an ack, their 200 answers and an envelope push come once per
 * message. One that
 * arrives exactly as wire_build() writes it (compact, members in its
 * order, strings of printable ASCII without escapes) is read here without
 * a jansson tree, its values going through the same checks. Any other
 * spelling, and any value those checks refuse, is left to the generic
 * reader below, which decides and words the error. */

struct q {
	const char *p, *end;
};

static int
q_lit(struct q *q, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(q->end - q->p) < n || memcmp(q->p, lit, n) != 0)
		return -1;
	q->p += n;
	return 0;
}

/* An integer without sign, fraction or leading zero, in [min, max]. */
static int
q_uint(struct q *q, uint64_t min, uint64_t max, uint64_t *out)
{
	const char *start = q->p;
	uint64_t v = 0;

	while (q->p < q->end && *q->p >= '0' && *q->p <= '9' && q->p - start < 17)
		v = v * 10 + (uint64_t)(*q->p++ - '0');
	if (q->p == start || q->p - start > 16 || (*start == '0' && q->p - start > 1) || v < min ||
	    v > max)
		return -1;
	*out = v;
	return 0;
}

/* A string of 1..max printable ASCII bytes without escapes, copied. */
static int
q_str(struct q *q, char *out, size_t max)
{
	const char *start;
	unsigned char c;

	if (q_lit(q, "\"") < 0)
		return -1;
	for (start = q->p; q->p < q->end && *q->p != '"'; q->p++) {
		c = (unsigned char)*q->p;
		if (c < 0x20 || c > 0x7e || c == '\\' || (size_t)(q->p - start) >= max)
			return -1;
	}
	if (q->p == start || q_lit(q, "\"") < 0)
		return -1;
	memcpy(out, start, (size_t)(q->p - 1 - start));
	out[q->p - 1 - start] = '\0';
	return 0;
}

static int
q_name(struct q *q, char out[WIRE_NAME_MAX + 1])
{
	return q_str(q, out, WIRE_NAME_MAX) < 0 || !wire_name_valid(out) ? -1 : 0;
}

static int
q_msg_type(struct q *q, enum wire_msg_type *t)
{
	char name[16];

	return q_str(q, name, sizeof name - 1) < 0 || wire_msg_type_from_name(name, t) < 0 ? -1 : 0;
}

/* Base64 of 1..WIRE_MAX_CONTENT bytes, decoded into *out (malloc'ed). */
static int
q_content(struct q *q, uint8_t **out, size_t *out_len)
{
	const char *start;

	if (q_lit(q, "\"") < 0)
		return -1;
	for (start = q->p; q->p < q->end && *q->p != '"'; q->p++)
		if (*q->p == '\\')
			return -1;
	if (q->p == start || q_lit(q, "\"") < 0 ||
	    (size_t)(q->p - 1 - start) / 4 * 3 > WIRE_MAX_CONTENT + 2 ||
	    b64_decode(start, (size_t)(q->p - 1 - start), out, out_len, NULL) < 0)
		return -1;
	return *out_len > WIRE_MAX_CONTENT ? -1 : 0;
}

static int
q_message(struct q *q, struct wire_message *m)
{
	uint64_t dev, reg;

	if (q_lit(q, "{\"device\":") < 0 || q_uint(q, 1, WIRE_DEVICE_MAX, &dev) < 0 ||
	    q_lit(q, ",\"registration_id\":") < 0 || q_uint(q, 1, WIRE_REG_ID_MAX, &reg) < 0 ||
	    q_lit(q, ",\"type\":") < 0 || q_msg_type(q, &m->type) < 0 ||
	    q_lit(q, ",\"content\":") < 0 || q_content(q, &m->content, &m->content_len) < 0)
		return -1;
	m->device = (uint32_t)dev;
	m->registration_id = (uint32_t)reg;
	return q_lit(q, "}");
}

/* After {"id":N,"type":"send": the rest of a send to one account. */
static int
q_send(struct q *q, struct wire_request *r)
{
	struct wire_send *sd;
	size_t i, j, cap = 0;

	if (q_lit(q, ",\"msg_id\":") < 0 || q_str(q, r->u.send.msg_id, WIRE_MSG_ID_MAX) < 0 ||
	    !wire_msg_id_valid(r->u.send.msg_id))
		return -1;
	sd = r->u.send.sends = xcalloc(1, sizeof *r->u.send.sends);
	r->u.send.n_sends = 1;
	if (q_lit(q, ",\"to\":") < 0 || q_name(q, sd->to) < 0 || q_lit(q, ",\"messages\":[") < 0)
		return -1;
	if (q_lit(q, "]") == 0)
		return 0;
	for (i = 0; i < WIRE_MAX_MESSAGES; i++) {
		if (i == cap) {
			cap = cap ? cap * 2 : 4;
			sd->messages = xreallocarray(sd->messages, cap, sizeof *sd->messages);
			memset(sd->messages + i, 0, (cap - i) * sizeof *sd->messages);
		}
		sd->n_messages = i + 1;
		if ((i > 0 && q_lit(q, ",") < 0) || q_message(q, &sd->messages[i]) < 0)
			return -1;
		for (j = 0; j < i; j++)
			if (sd->messages[j].device == sd->messages[i].device)
				return -1;
		if (q_lit(q, "]") == 0)
			return 0;
	}
	return -1;
}

/* After {"id":N,"type":"ack": the ids. */
static int
q_ack(struct q *q, struct wire_request *r)
{
	size_t i, cap = 0;
	uint64_t id;

	if (q_lit(q, ",\"ids\":[") < 0)
		return -1;
	for (i = 0; i < WIRE_MAX_ACK; i++) {
		if ((i > 0 && q_lit(q, ",") < 0) || q_uint(q, 1, WIRE_INT_MAX, &id) < 0)
			return -1;
		if (i == cap) {
			cap = cap ? cap * 2 : 16;
			r->u.ack.ids = xreallocarray(r->u.ack.ids, cap, sizeof *r->u.ack.ids);
		}
		r->u.ack.ids[i] = id;
		r->u.ack.n_ids = i + 1;
		if (q_lit(q, "]") == 0)
			return 0;
	}
	return -1;
}

static int
q_envelope(struct q *q, struct wire_envelope *env)
{
	uint64_t dev, reg, ts;

	if (q_uint(q, 1, WIRE_INT_MAX, &env->id) < 0 || q_lit(q, ",\"from\":") < 0 ||
	    q_name(q, env->from) < 0 || q_lit(q, ",\"from_device\":") < 0 ||
	    q_uint(q, 1, WIRE_DEVICE_MAX, &dev) < 0 || q_lit(q, ",\"from_registration_id\":") < 0 ||
	    q_uint(q, 1, WIRE_REG_ID_MAX, &reg) < 0 || q_lit(q, ",\"type\":") < 0 ||
	    q_msg_type(q, &env->type) < 0 || q_lit(q, ",\"ts\":") < 0 ||
	    q_uint(q, 0, WIRE_INT_MAX, &ts) < 0 || q_lit(q, ",\"content\":") < 0 ||
	    q_content(q, &env->content, &env->content_len) < 0)
		return -1;
	env->from_device = (uint32_t)dev;
	env->from_registration_id = (uint32_t)reg;
	env->ts = (int64_t)ts;
	return 0;
}

/* 1 if buf is one of the frames above, read into out; else 0 with out
 * zeroed. */
int
wire_parse_fast(const char *buf, size_t len, struct wire_frame *out)
{
	struct q q = {buf, buf + len};
	uint64_t ts = 0;
	int rc = -1;

	if (q_lit(&q, "{\"push\":\"envelope\",\"id\":") == 0) {
		out->kind = WIRE_PUSH;
		out->push = WIRE_P_ENVELOPE;
		rc = q_envelope(&q, &out->u.push.envelope);
	} else if (q_lit(&q, "{\"id\":") == 0 && q_uint(&q, 1, WIRE_INT_MAX, &out->id) == 0) {
		if (q_lit(&q, ",\"type\":\"send\"") == 0)
			out->type = WIRE_T_SEND;
		else if (q_lit(&q, ",\"type\":\"ack\"") == 0)
			out->type = WIRE_T_ACK;
		if (out->type != WIRE_T_NONE && q_lit(&q, ",\"status\":200") == 0) {
			/* The answer to a send (with its time) or an ack. */
			out->kind = WIRE_RESPONSE;
			out->u.resp.status = 200;
			rc = out->type == WIRE_T_ACK ? 0
			     : q_lit(&q, ",\"ts\":") == 0 && q_uint(&q, 0, WIRE_INT_MAX, &ts) == 0
			         ? 0
			         : -1;
			out->u.resp.ts = (int64_t)ts;
		} else if (out->type != WIRE_T_NONE) {
			out->kind = WIRE_REQUEST;
			rc = out->type == WIRE_T_SEND ? q_send(&q, &out->u.req)
			                              : q_ack(&q, &out->u.req);
		}
	}
	if (rc == 0 && q_lit(&q, "}") == 0 && q.p == q.end)
		return 1;
	wire_frame_free(out);
	memset(out, 0, sizeof *out);
	return 0;
}

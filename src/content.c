/* The content codec: the padded JSON object every envelope carries once
 * decrypted (sotto-protocol(7), MESSAGE CONTENT). Whatever a peer sends
 * is checked member by member before the engine acts on it. */
#include "content.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/pad.h"
#include "wire/wire.h"

#define CONTENT_INT_MAX 9007199254740991LL /* 2^53 - 1 */

const char *
content_receipt_name(enum content_receipt r)
{
	switch (r) {
	case CONTENT_RECEIPT_DELIVERED:
		return "delivered";
	case CONTENT_RECEIPT_READ:
		return "read";
	}
	return NULL;
}

void
content_clear(struct content *c)
{
	size_t i;

	if (c == NULL)
		return;
	free(c->id);
	if (c->body != NULL)
		wipe_free(c->body, strlen(c->body));
	free(c->sent_to);
	free(c->group);
	free(c->attachments);
	free(c->quote);
	for (i = 0; i < c->n_ids; i++)
		free(c->ids[i]);
	free(c->ids);
	free(c->envelope_ids);
	memset(c, 0, sizeof *c);
}

/* --- decoding --- */

/* An optional integer member in 0..2^53-1: 0 absent, 1 present, -1 bad. */
static int
content_get_uint(json_t *obj, const char *key, int64_t *out, struct err *e)
{
	json_t *v = json_object_get(obj, key);

	if (v == NULL)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > CONTENT_INT_MAX)
		return err_set(e, ERR_INVALID, "content: \"%s\" must be an integer in 0..2^53-1",
		               key);
	*out = json_integer_value(v);
	return 1;
}

/* Compact JSON text of a reserved member of the given type, or NULL. */
static int
content_get_reserved(json_t *obj, const char *key, int want_array, char **out, struct err *e)
{
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (v == NULL)
		return 0;
	if (want_array ? !json_is_array(v) : !json_is_object(v))
		return err_set(e, ERR_INVALID, "content: \"%s\" must be an %s", key,
		               want_array ? "array" : "object");
	*out = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
	if (*out == NULL)
		return err_set(e, ERR_INTERNAL, "content: cannot keep \"%s\"", key);
	return 0;
}

static int
content_parse_text(json_t *root, struct content *c, struct err *e)
{
	json_t *body = json_object_get(root, "body");
	json_t *sent_to = json_object_get(root, "sent_to");
	int r;

	if (!json_is_string(body))
		return err_set(e, ERR_INVALID, "content: text without a \"body\" string");
	if (json_string_length(body) > CONTENT_BODY_MAX)
		return err_set(e, ERR_TOOLARGE, "content: body of %zu bytes (limit %d)",
		               json_string_length(body), CONTENT_BODY_MAX);
	if (strlen(json_string_value(body)) != json_string_length(body))
		return err_set(e, ERR_INVALID, "content: body contains NUL");
	if (sent_to != NULL &&
	    (!json_is_string(sent_to) || !wire_name_valid(json_string_value(sent_to))))
		return err_set(e, ERR_INVALID, "content: \"sent_to\" is not an account name");
	r = content_get_uint(root, "expire_s", &c->expire_s, e);
	if (r < 0)
		return -1;
	if (content_get_reserved(root, "group", 0, &c->group, e) < 0 ||
	    content_get_reserved(root, "attachments", 1, &c->attachments, e) < 0 ||
	    content_get_reserved(root, "quote", 0, &c->quote, e) < 0)
		return -1;
	c->body = xstrdup(json_string_value(body));
	if (sent_to != NULL)
		c->sent_to = xstrdup(json_string_value(sent_to));
	return 0;
}

static int
content_parse_receipt(json_t *root, struct content *c, struct err *e)
{
	json_t *what = json_object_get(root, "receipt");
	json_t *ids = json_object_get(root, "ids");
	const char *s;
	size_t i, n;

	s = json_string_value(what);
	if (s != NULL && strcmp(s, "delivered") == 0)
		c->receipt = CONTENT_RECEIPT_DELIVERED;
	else if (s != NULL && strcmp(s, "read") == 0)
		c->receipt = CONTENT_RECEIPT_READ;
	else
		return err_set(e, ERR_INVALID, "content: \"receipt\" must be delivered or read");
	n = json_array_size(ids);
	if (!json_is_array(ids) || n == 0 || n > CONTENT_IDS_MAX)
		return err_set(e, ERR_INVALID, "content: receipt \"ids\" must list 1..%d ids",
		               CONTENT_IDS_MAX);
	for (i = 0; i < n; i++) {
		s = json_string_value(json_array_get(ids, i));
		if (s == NULL || !wire_msg_id_valid(s))
			return err_set(e, ERR_INVALID, "content: receipt id %zu is not a msg_id",
			               i);
	}
	c->ids = xcalloc(n, sizeof *c->ids);
	for (i = 0; i < n; i++)
		c->ids[i] = xstrdup(json_string_value(json_array_get(ids, i)));
	c->n_ids = n;
	return 0;
}

static int
content_parse_repair(json_t *root, struct content *c, struct err *e)
{
	json_t *ids = json_object_get(root, "ids"), *v;
	size_t i, n;

	if (ids == NULL)
		return 0;
	n = json_array_size(ids);
	if (!json_is_array(ids) || n > CONTENT_IDS_MAX)
		return err_set(e, ERR_INVALID, "content: repair \"ids\" must list 0..%d ids",
		               CONTENT_IDS_MAX);
	for (i = 0; i < n; i++) {
		v = json_array_get(ids, i);
		if (!json_is_integer(v) || json_integer_value(v) < 1 ||
		    json_integer_value(v) > CONTENT_INT_MAX)
			return err_set(e, ERR_INVALID,
			               "content: repair id %zu is not an envelope id", i);
	}
	if (n == 0)
		return 0;
	c->envelope_ids = xcalloc(n, sizeof *c->envelope_ids);
	for (i = 0; i < n; i++)
		c->envelope_ids[i] = (uint64_t)json_integer_value(json_array_get(ids, i));
	c->n_envelope_ids = n;
	return 0;
}

static int
content_parse_root(json_t *root, struct content *c, struct err *e)
{
	json_t *kind = json_object_get(root, "kind");
	json_t *id = json_object_get(root, "id");
	const char *k;
	int r;

	r = content_get_uint(root, "v", &c->version, e);
	if (r < 0)
		return -1;
	if (r == 0 || c->version < 1)
		return err_set(e, ERR_INVALID, "content: missing or bad version \"v\"");
	k = json_string_value(kind);
	if (k == NULL || json_string_length(kind) == 0)
		return err_set(e, ERR_INVALID, "content: missing \"kind\"");
	snprintf(c->kind_name, sizeof c->kind_name, "%s", k);
	/* A newer version may change anything: ignore it whole. */
	if (c->version > CONTENT_VERSION) {
		c->kind = CONTENT_UNKNOWN;
		return 0;
	}
	if (strcmp(k, "text") == 0)
		c->kind = CONTENT_TEXT;
	else if (strcmp(k, "receipt") == 0)
		c->kind = CONTENT_RECEIPT;
	else if (strcmp(k, "repair") == 0)
		c->kind = CONTENT_REPAIR;
	else
		c->kind = CONTENT_UNKNOWN;
	if (c->kind == CONTENT_UNKNOWN)
		return 0;
	if (!json_is_string(id) || !wire_msg_id_valid(json_string_value(id)))
		return err_set(e, ERR_INVALID, "content: \"id\" is not a msg_id");
	r = content_get_uint(root, "ts", &c->ts, e);
	if (r < 0)
		return -1;
	if (r == 0)
		return err_set(e, ERR_INVALID, "content: missing \"ts\"");
	c->id = xstrdup(json_string_value(id));
	switch (c->kind) {
	case CONTENT_TEXT:
		return content_parse_text(root, c, e);
	case CONTENT_RECEIPT:
		return content_parse_receipt(root, c, e);
	case CONTENT_REPAIR:
		return content_parse_repair(root, c, e);
	case CONTENT_UNKNOWN:
		break;
	}
	return 0;
}

/* --- the fast path for a plain text ---
 * Nearly every envelope carries a text spelled exactly as content_encode()
 * writes it: {"v":1,"kind":"text","id":"..","ts":N,"body":"..."} with an
 * optional "sent_to", strings of printable ASCII without escapes. That one
 * is read here without a jansson tree (a tenth of a catch-up's allocations),
 * through the same checks; any other spelling goes to the generic reader,
 * which decides and words the error. */

struct content_q {
	const char *p, *end;
};

static bool
content_q_lit(struct content_q *q, const char *lit, size_t n)
{
	if ((size_t)(q->end - q->p) < n || memcmp(q->p, lit, n) != 0)
		return false;
	q->p += n;
	return true;
}

#define CONTENT_Q_LIT(q, lit) content_q_lit((q), (lit), sizeof(lit) - 1)

/* A JSON integer without sign, fraction, exponent or leading zero. */
static bool
content_q_uint(struct content_q *q, int64_t *out)
{
	const char *start = q->p;
	int64_t v = 0;

	while (q->p < q->end && *q->p >= '0' && *q->p <= '9' && q->p - start < 16)
		v = v * 10 + (*q->p++ - '0');
	if (q->p == start || (q->p < q->end && *q->p >= '0' && *q->p <= '9') ||
	    (*start == '0' && q->p - start > 1) || v > CONTENT_INT_MAX)
		return false;
	*out = v;
	return true;
}

/* A string of printable ASCII without '"' or '\', up to max bytes:
 * returned as a copy (NUL-terminated) or NULL. */
static char *
content_q_str(struct content_q *q, size_t max)
{
	const char *start;
	char *s;
	size_t n;

	if (!CONTENT_Q_LIT(q, "\""))
		return NULL;
	for (start = q->p; q->p < q->end && *q->p != '"'; q->p++)
		if (*q->p < 0x20 || *q->p > 0x7e || *q->p == '\\' || (size_t)(q->p - start) >= max)
			return NULL;
	if (q->p == q->end)
		return NULL;
	n = (size_t)(q->p - start);
	q->p++;
	s = xmalloc(n + 1);
	memcpy(s, start, n);
	s[n] = '\0';
	return s;
}

_Static_assert(CONTENT_VERSION == 1, "content_parse_fast reads version 1 only");

/* 1: read into out; 0: not this spelling (out is left empty). */
static int
content_parse_fast(const char *json, size_t len, struct content *out)
{
	struct content_q q = {json, json + len};

	if (!CONTENT_Q_LIT(&q, "{\"v\":1,\"kind\":\"text\",\"id\":") ||
	    (out->id = content_q_str(&q, 64)) == NULL || !wire_msg_id_valid(out->id) ||
	    !CONTENT_Q_LIT(&q, ",\"ts\":") || !content_q_uint(&q, &out->ts) ||
	    !CONTENT_Q_LIT(&q, ",\"body\":") ||
	    (out->body = content_q_str(&q, CONTENT_BODY_MAX)) == NULL)
		goto no;
	if (CONTENT_Q_LIT(&q, ",\"sent_to\":") &&
	    ((out->sent_to = content_q_str(&q, 64)) == NULL || !wire_name_valid(out->sent_to)))
		goto no;
	if (!CONTENT_Q_LIT(&q, "}") || q.p != q.end)
		goto no;
	out->kind = CONTENT_TEXT;
	out->version = 1;
	snprintf(out->kind_name, sizeof out->kind_name, "text");
	return 1;
no:
	content_clear(out);
	memset(out, 0, sizeof *out);
	return 0;
}

int
content_parse(const char *json, size_t len, struct content *out, struct err *e)
{
	json_error_t je;
	json_t *root;

	memset(out, 0, sizeof *out);
	if (len == 0)
		return err_set(e, ERR_INVALID, "content: empty");
	if (content_parse_fast(json, len, out))
		return 0;
	/* Duplicate members are ambiguous: refuse them (protocol page). */
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
	if (root == NULL)
		return err_set(e, ERR_INVALID, "content: not JSON: %s", je.text);
	if (!json_is_object(root)) {
		json_decref(root);
		return err_set(e, ERR_INVALID, "content: not a JSON object");
	}
	if (content_parse_root(root, out, e) < 0) {
		json_decref(root);
		content_clear(out);
		return -1;
	}
	json_decref(root);
	return 0;
}

int
content_decode(const uint8_t *buf, size_t len, struct content *out, struct err *e)
{
	size_t clen;

	memset(out, 0, sizeof *out);
	if (pad_unpad(buf, len, &clen, e) < 0)
		return err_prefix(e, "content");
	return content_parse((const char *)buf, clen, out, e);
}

/* --- encoding --- */

static int
content_set_reserved(json_t *root, const char *key, const char *text, int want_array, struct err *e)
{
	json_t *v;

	if (text == NULL)
		return 0;
	v = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
	if (v == NULL || (want_array ? !json_is_array(v) : !json_is_object(v))) {
		json_decref(v);
		return err_set(e, ERR_INVALID, "content: reserved \"%s\" is not an %s", key,
		               want_array ? "array" : "object");
	}
	json_object_set_new(root, key, v);
	return 0;
}

static int
content_build_text(const struct content *c, json_t *root, struct err *e)
{
	if (c->body == NULL)
		return err_set(e, ERR_INVALID, "content: text without a body");
	if (strlen(c->body) > CONTENT_BODY_MAX)
		return err_set(e, ERR_TOOLARGE, "content: body of %zu bytes (limit %d)",
		               strlen(c->body), CONTENT_BODY_MAX);
	if (c->sent_to != NULL && !wire_name_valid(c->sent_to))
		return err_set(e, ERR_INVALID, "content: \"sent_to\" is not an account name");
	if (c->expire_s < 0 || c->expire_s > CONTENT_INT_MAX)
		return err_set(e, ERR_INVALID, "content: bad expire_s");
	/* jansson refuses invalid UTF-8 here. */
	if (json_object_set_new(root, "body", json_string(c->body)) < 0)
		return err_set(e, ERR_INVALID, "content: body is not valid UTF-8");
	if (c->sent_to != NULL)
		json_object_set_new(root, "sent_to", json_string(c->sent_to));
	if (c->expire_s > 0)
		json_object_set_new(root, "expire_s", json_integer(c->expire_s));
	if (content_set_reserved(root, "group", c->group, 0, e) < 0 ||
	    content_set_reserved(root, "attachments", c->attachments, 1, e) < 0 ||
	    content_set_reserved(root, "quote", c->quote, 0, e) < 0)
		return -1;
	return 0;
}

static int
content_build_receipt(const struct content *c, json_t *root, struct err *e)
{
	const char *name = content_receipt_name(c->receipt);
	json_t *ids;
	size_t i;

	if (name == NULL)
		return err_set(e, ERR_INVALID, "content: unknown receipt type");
	if (c->n_ids == 0 || c->n_ids > CONTENT_IDS_MAX)
		return err_set(e, ERR_INVALID, "content: a receipt lists 1..%d ids",
		               CONTENT_IDS_MAX);
	ids = json_array();
	for (i = 0; i < c->n_ids; i++) {
		if (c->ids[i] == NULL || !wire_msg_id_valid(c->ids[i])) {
			json_decref(ids);
			return err_set(e, ERR_INVALID, "content: receipt id %zu is not a msg_id",
			               i);
		}
		json_array_append_new(ids, json_string(c->ids[i]));
	}
	json_object_set_new(root, "receipt", json_string(name));
	json_object_set_new(root, "ids", ids);
	return 0;
}

static int
content_build_repair(const struct content *c, json_t *root, struct err *e)
{
	json_t *ids;
	size_t i;

	if (c->n_envelope_ids == 0)
		return 0;
	if (c->n_envelope_ids > CONTENT_IDS_MAX)
		return err_set(e, ERR_INVALID, "content: a repair lists at most %d ids",
		               CONTENT_IDS_MAX);
	ids = json_array();
	for (i = 0; i < c->n_envelope_ids; i++) {
		if (c->envelope_ids[i] < 1 || c->envelope_ids[i] > (uint64_t)CONTENT_INT_MAX) {
			json_decref(ids);
			return err_set(e, ERR_INVALID, "content: repair id %zu out of range", i);
		}
		json_array_append_new(ids, json_integer((json_int_t)c->envelope_ids[i]));
	}
	json_object_set_new(root, "ids", ids);
	return 0;
}

int
content_encode(const struct content *c, uint8_t **out, size_t *out_len, struct err *e)
{
	const char *kind;
	json_t *root;
	char *text;
	size_t len;
	int r;

	*out = NULL;
	*out_len = 0;
	switch (c->kind) {
	case CONTENT_TEXT:
		kind = "text";
		break;
	case CONTENT_RECEIPT:
		kind = "receipt";
		break;
	case CONTENT_REPAIR:
		kind = "repair";
		break;
	default:
		return err_set(e, ERR_INVALID, "content: cannot encode an unknown kind");
	}
	if (c->id == NULL || !wire_msg_id_valid(c->id))
		return err_set(e, ERR_INVALID, "content: \"id\" is not a msg_id");
	if (c->ts < 0 || c->ts > CONTENT_INT_MAX)
		return err_set(e, ERR_INVALID, "content: \"ts\" out of range");
	root = json_pack("{s:i,s:s,s:s,s:I}", "v", CONTENT_VERSION, "kind", kind, "id", c->id, "ts",
	                 (json_int_t)c->ts);
	if (root == NULL)
		return err_set(e, ERR_INTERNAL, "content: cannot build the object");
	if (c->kind == CONTENT_TEXT)
		r = content_build_text(c, root, e);
	else if (c->kind == CONTENT_RECEIPT)
		r = content_build_receipt(c, root, e);
	else
		r = content_build_repair(c, root, e);
	if (r < 0) {
		json_decref(root);
		return -1;
	}
	text = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	if (text == NULL)
		return err_set(e, ERR_INTERNAL, "content: cannot serialize");
	len = strlen(text);
	if (pad_padded_len(len) > CONTENT_MAX_PADDED) {
		wipe_free(text, len);
		return err_set(e, ERR_TOOLARGE,
		               "content: %zu bytes encoded, more than fits a message", len);
	}
	r = pad_message((const uint8_t *)text, len, out, out_len, e);
	wipe_free(text, len);
	return r;
}

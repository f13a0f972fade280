/* Newline-delimited JSON-RPC 2.0: strict parsing of one line and the
 * builders for the lines the engine and frontends send. */
#include "jsonrpc.h"

#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int jsonrpc_fail(struct jsonrpc_fault *f, int code, const char *fmt, ...) printflike(3, 4);

static int
jsonrpc_fail(struct jsonrpc_fault *f, int code, const char *fmt, ...)
{
	va_list ap;

	f->code = code;
	va_start(ap, fmt);
	vsnprintf(f->message, sizeof f->message, fmt, ap);
	va_end(ap);
	return -1;
}

/* Integers and strings are ids; null only answers a request we could not
 * read. Fractions and everything else are refused. */
static int
jsonrpc_id_valid(json_t *id, int allow_null)
{
	return json_is_string(id) || json_is_integer(id) || (allow_null && json_is_null(id));
}

static int
jsonrpc_only_members(json_t *obj, const char *const *allowed, struct jsonrpc_fault *f)
{
	const char *key;
	json_t *value;
	size_t i;

	json_object_foreach(obj, key, value) {
		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(key, allowed[i]) == 0)
				break;
		if (allowed[i] == NULL)
			return jsonrpc_fail(f, JSONRPC_INVALID_REQUEST, "unexpected member \"%s\"",
			                    key);
	}
	return 0;
}

static int
jsonrpc_parse_call(json_t *root, struct jsonrpc_msg *m, struct jsonrpc_fault *f)
{
	static const char *const allowed[] = {"jsonrpc", "id", "method", "params", NULL};
	json_t *method = json_object_get(root, "method");

	if (jsonrpc_only_members(root, allowed, f) < 0)
		return -1;
	if (!json_is_string(method) || json_string_length(method) == 0)
		return jsonrpc_fail(f, JSONRPC_INVALID_REQUEST,
		                    "\"method\" must be a non-empty string");
	if (strlen(json_string_value(method)) != json_string_length(method))
		return jsonrpc_fail(f, JSONRPC_INVALID_REQUEST, "\"method\" contains a NUL byte");
	m->method = json_string_value(method);
	m->params = json_object_get(root, "params");
	if (m->params != NULL && !json_is_object(m->params) && !json_is_array(m->params))
		return jsonrpc_fail(f, JSONRPC_INVALID_REQUEST,
		                    "\"params\" must be an object or an array");
	m->kind = m->id != NULL ? JSONRPC_REQUEST : JSONRPC_NOTIFICATION;
	return 0;
}

static int
jsonrpc_parse_response(json_t *root, struct jsonrpc_msg *m, struct jsonrpc_fault *f)
{
	static const char *const allowed[] = {"jsonrpc", "id", "result", "error", NULL};
	static const char *const error_allowed[] = {"code", "message", "data", NULL};
	json_t *error = json_object_get(root, "error");
	json_t *code, *message;

	if (jsonrpc_only_members(root, allowed, f) < 0)
		return -1;
	if (m->id == NULL)
		return jsonrpc_fail(f, JSONRPC_INVALID_REQUEST, "a response needs an \"id\"");
	m->result = json_object_get(root, "result");
	if ((m->result != NULL) == (error != NULL))
		return jsonrpc_fail(f, JSONRPC_INVALID_REQUEST,
		                    "a response has exactly one of \"result\" and \"error\"");
	if (m->result != NULL) {
		m->kind = JSONRPC_RESULT;
		return 0;
	}
	if (!json_is_object(error))
		return jsonrpc_fail(f, JSONRPC_INVALID_REQUEST, "\"error\" must be an object");
	if (jsonrpc_only_members(error, error_allowed, f) < 0)
		return -1;
	code = json_object_get(error, "code");
	message = json_object_get(error, "message");
	if (!json_is_integer(code) || json_integer_value(code) < -2147483647 ||
	    json_integer_value(code) > 2147483647)
		return jsonrpc_fail(f, JSONRPC_INVALID_REQUEST,
		                    "\"error.code\" must be an integer");
	if (!json_is_string(message))
		return jsonrpc_fail(f, JSONRPC_INVALID_REQUEST,
		                    "\"error.message\" must be a string");
	m->kind = JSONRPC_ERROR;
	m->error_code = (int)json_integer_value(code);
	m->error_message = json_string_value(message);
	m->error_data = json_object_get(error, "data");
	return 0;
}

int
jsonrpc_parse(const char *line, size_t len, struct jsonrpc_msg *m, struct jsonrpc_fault *f)
{
	return jsonrpc_parse_max(line, len, JSONRPC_LINE_MAX, m, f);
}

int
jsonrpc_parse_max(const char *line, size_t len, size_t max, struct jsonrpc_msg *m,
                  struct jsonrpc_fault *f)
{
	json_error_t jerr;
	json_t *root, *version, *id;
	int is_call;

	memset(m, 0, sizeof *m);
	memset(f, 0, sizeof *f);
	if (len > max)
		return jsonrpc_fail(f, JSONRPC_INVALID_REQUEST,
		                    "line too long: the limit is %zu bytes", max);
	root = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (root == NULL)
		return jsonrpc_fail(f, JSONRPC_PARSE_ERROR, "parse error at byte %d: %s",
		                    jerr.position, jerr.text);
	if (json_is_array(root)) {
		json_decref(root);
		return jsonrpc_fail(f, JSONRPC_INVALID_REQUEST,
		                    "batch requests are not supported: send one request per line");
	}
	if (!json_is_object(root)) {
		json_decref(root);
		return jsonrpc_fail(f, JSONRPC_INVALID_REQUEST, "a message must be a JSON object");
	}
	m->root = root;
	is_call = json_object_get(root, "method") != NULL;
	id = json_object_get(root, "id");
	if (id != NULL) {
		if (!jsonrpc_id_valid(id, !is_call)) {
			jsonrpc_msg_clear(m);
			return jsonrpc_fail(f, JSONRPC_INVALID_REQUEST,
			                    "\"id\" must be a string or an integer");
		}
		m->id = id;
		f->id = json_incref(id);
	}
	version = json_object_get(root, "jsonrpc");
	if (!json_is_string(version) || strcmp(json_string_value(version), "2.0") != 0) {
		jsonrpc_msg_clear(m);
		return jsonrpc_fail(f, JSONRPC_INVALID_REQUEST, "\"jsonrpc\" must be \"2.0\"");
	}
	if ((is_call ? jsonrpc_parse_call(root, m, f) : jsonrpc_parse_response(root, m, f)) < 0) {
		jsonrpc_msg_clear(m);
		return -1;
	}
	jsonrpc_fault_clear(f);
	return 0;
}

void
jsonrpc_msg_clear(struct jsonrpc_msg *m)
{
	json_decref(m->root);
	memset(m, 0, sizeof *m);
}

void
jsonrpc_fault_clear(struct jsonrpc_fault *f)
{
	json_decref(f->id);
	f->id = NULL;
}

static char *
jsonrpc_dump(json_t *root)
{
	char *s = json_dumps(root, JSON_COMPACT);

	json_decref(root);
	if (s == NULL) {
		/* Only out-of-memory or invalid UTF-8 from our own code gets here. */
		fprintf(stderr, "sotto: cannot encode a JSON-RPC message\n");
		abort();
	}
	return s;
}

static json_t *
jsonrpc_envelope(json_t *id, int with_id)
{
	json_t *root = json_object();

	json_object_set_new(root, "jsonrpc", json_string("2.0"));
	if (with_id)
		json_object_set_new(root, "id", id != NULL ? json_incref(id) : json_null());
	return root;
}

char *
jsonrpc_request_line(json_t *id, const char *method, json_t *params)
{
	json_t *root = jsonrpc_envelope(id, id != NULL);

	json_object_set_new(root, "method", json_string(method));
	if (params != NULL)
		json_object_set_new(root, "params", params);
	return jsonrpc_dump(root);
}

char *
jsonrpc_notification_line(const char *method, json_t *params)
{
	return jsonrpc_request_line(NULL, method, params);
}

char *
jsonrpc_result_line(json_t *id, json_t *result)
{
	json_t *root = jsonrpc_envelope(id, 1);

	json_object_set_new(root, "result", result != NULL ? result : json_null());
	return jsonrpc_dump(root);
}

char *
jsonrpc_error_line(json_t *id, int code, const char *message, json_t *data)
{
	json_t *root = jsonrpc_envelope(id, 1);
	json_t *error = json_object();

	json_object_set_new(error, "code", json_integer(code));
	json_object_set_new(error, "message", json_string(message));
	if (data != NULL)
		json_object_set_new(error, "data", data);
	json_object_set_new(root, "error", error);
	return jsonrpc_dump(root);
}

int
jsonrpc_code_from_err(enum err_code code)
{
	switch (code) {
	case ERR_INVALID:
		return JSONRPC_INVALID_PARAMS;
	case ERR_CORRUPT:
	case ERR_TOOLARGE:
	case ERR_CRYPTO:
		return JSONRPC_INVALID_DATA;
	case ERR_BADKEY:
		return JSONRPC_BAD_PASSPHRASE;
	case ERR_NOTFOUND:
		return JSONRPC_NOT_FOUND;
	case ERR_UNTRUSTED:
		return JSONRPC_UNTRUSTED;
	case ERR_EXISTS:
	case ERR_DUPLICATE:
		return JSONRPC_EXISTS;
	case ERR_AUTH:
		return JSONRPC_DENIED;
	case ERR_NETWORK:
	case ERR_RATE:
	case ERR_BUSY:
	case ERR_STALE:
	case ERR_NOSESSION:
	case ERR_LIMIT:
		return JSONRPC_UNAVAILABLE;
	default:
		return JSONRPC_INTERNAL_ERROR;
	}
}

static void *
jsonrpc_malloc(size_t size)
{
	return malloc(size);
}

static void
jsonrpc_wiping_free(void *p)
{
	if (p != NULL)
		wipe_free(p, malloc_usable_size(p));
}

void
jsonrpc_use_wiping_allocator(void)
{
	json_set_alloc_funcs(jsonrpc_malloc, jsonrpc_wiping_free);
}

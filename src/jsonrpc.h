/* Newline-delimited JSON-RPC 2.0 as spoken between the engine and its
 * frontends: strict parsing of one line into a request, notification or
 * response, and building the lines that go back. Batches are refused. */
#ifndef SOTTO_JSONRPC_H
#define SOTTO_JSONRPC_H

#include <jansson.h>
#include <stddef.h>

#include "util/err.h"

/* Longest line either side accepts, newline excluded. */
#define JSONRPC_LINE_MAX (1024 * 1024)

/* Error codes. The first five are JSON-RPC 2.0's own; the rest are sotto's
 * application errors in the range the spec reserves for servers. Every one
 * is listed in sotto(1) with the exit status a command maps it to. */
enum jsonrpc_code {
	JSONRPC_PARSE_ERROR = -32700,     /* not JSON */
	JSONRPC_INVALID_REQUEST = -32600, /* JSON, but not a request; batches; too long */
	JSONRPC_METHOD_NOT_FOUND = -32601,
	JSONRPC_INVALID_PARAMS = -32602,
	JSONRPC_INTERNAL_ERROR = -32603,
	JSONRPC_NOT_IMPLEMENTED = -32000, /* a documented method nobody provides yet */
	JSONRPC_LOCKED = -32001,          /* the profile must be unlocked first */
	JSONRPC_BAD_PASSPHRASE = -32002,
	JSONRPC_NOT_FOUND = -32003,   /* no such contact, message, ... */
	JSONRPC_UNTRUSTED = -32004,   /* identity changed and is not trusted */
	JSONRPC_UNAVAILABLE = -32005, /* relay unreachable, try later */
	JSONRPC_INVALID_DATA = -32006,
	JSONRPC_EXISTS = -32007, /* already registered, already a contact */
	JSONRPC_DENIED = -32008, /* the relay or the system refused us */
};

enum jsonrpc_kind {
	JSONRPC_REQUEST,      /* method + id: wants an answer */
	JSONRPC_NOTIFICATION, /* method, no id */
	JSONRPC_RESULT,       /* response carrying "result" */
	JSONRPC_ERROR,        /* response carrying "error" */
};

/* One parsed line. Pointers borrow from root, which the message owns. */
struct jsonrpc_msg {
	enum jsonrpc_kind kind;
	json_t *root;
	json_t *id;         /* NULL for notifications */
	const char *method; /* requests and notifications */
	json_t *params;     /* object or array, or NULL when absent */
	json_t *result;     /* JSONRPC_RESULT */
	int error_code;     /* JSONRPC_ERROR */
	const char *error_message;
	json_t *error_data; /* may be NULL */
};

/* Why a line was refused, ready to be sent back with jsonrpc_error_line().
 * id is the request's id when it could be read, else NULL (sent as null). */
struct jsonrpc_fault {
	int code;
	char message[256];
	json_t *id; /* owned: release with jsonrpc_fault_clear() */
};

/* Parse one line (without its newline). Returns 0 and fills m, or -1 and
 * fills f. Anything not exactly a JSON-RPC 2.0 object is refused: unknown
 * members, a wrong "jsonrpc", ids that are not strings or integers, params
 * that are not structured, arrays (batches). */
int jsonrpc_parse(const char *line, size_t len, struct jsonrpc_msg *m, struct jsonrpc_fault *f);
/* The same with another length limit: a frontend reading its engine's
 * answers takes lines as long as the connection does. */
int jsonrpc_parse_max(const char *line, size_t len, size_t max, struct jsonrpc_msg *m,
                      struct jsonrpc_fault *f);
void jsonrpc_msg_clear(struct jsonrpc_msg *m);
void jsonrpc_fault_clear(struct jsonrpc_fault *f);

/* Line builders. Each returns a compact, newline-free string the caller
 * frees, and takes ownership of params/result/data (which may be NULL).
 * id is borrowed; a NULL id is written as null. */
char *jsonrpc_request_line(json_t *id, const char *method, json_t *params);
char *jsonrpc_notification_line(const char *method, json_t *params);
char *jsonrpc_result_line(json_t *id, json_t *result);
char *jsonrpc_error_line(json_t *id, int code, const char *message, json_t *data);

/* The JSON-RPC code a struct err from a method handler is reported as. */
int jsonrpc_code_from_err(enum err_code code);

/* Make jansson wipe every block it frees: request lines can carry the
 * passphrase, and jansson copies strings. Call once, before any parsing. */
void jsonrpc_use_wiping_allocator(void);

#endif

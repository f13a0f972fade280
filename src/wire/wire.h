/* The sotto-protocol 1 frames (man/sotto-protocol.7) as C structs, shared
 * by the client and the relay: strict parsing of JSON text into a tagged
 * union and building it back. jansson stays inside src/wire/. */
#ifndef SOTTO_WIRE_H
#define SOTTO_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* Limits of the protocol page. */
#define WIRE_PATH "/v1/ws"
#define WIRE_SUBPROTOCOL "sotto.v1"
#define WIRE_MAX_FRAME (256 * 1024)   /* bytes of one frame */
#define WIRE_MAX_DEPTH 16             /* JSON nesting */
#define WIRE_MAX_CONTENT (160 * 1024) /* decoded ciphertext bytes per message */
#define WIRE_NAME_MAX 32              /* account name characters */
#define WIRE_KEY_LEN 33               /* 0x05 || Curve25519 public key */
#define WIRE_SIG_LEN 64
#define WIRE_SECRET_LEN 32
#define WIRE_MSG_ID_MAX 36   /* UUID text; base64 of 16 bytes is 24 */
#define WIRE_TOKEN_MAX 256   /* registration token */
#define WIRE_ERROR_MAX 32    /* machine-readable error token */
#define WIRE_MESSAGE_MAX 255 /* human-readable error text, bytes */
#define WIRE_MAX_PREKEYS 200 /* per keys.upload */
#define WIRE_MAX_MESSAGES 64 /* per recipient account in a send; also list sizes */
#define WIRE_MAX_SENDS 256   /* accounts per send.multi */
#define WIRE_MAX_ACK 1024    /* ids per ack */
#define WIRE_DEVICE_MAX 2147483647u
#define WIRE_REG_ID_MAX 16380u
#define WIRE_KEY_ID_MAX 0xFFFFFFu
#define WIRE_INT_MAX 9007199254740991ull /* 2^53 - 1 */
#define WIRE_PREKEY_LOW 10               /* keys.low below this */
#define WIRE_WINDOW 256                  /* unacked envelopes per connection */
#define WIRE_AUTH_TIMEOUT_S 10
#define WIRE_BLOB_ID_LEN 16
#define WIRE_BLOB_ID_CHARS 22 /* base64url, unpadded */

/* WebSocket close codes. */
enum wire_close {
	WIRE_CLOSE_NORMAL = 1000,
	WIRE_CLOSE_GOING_AWAY = 1001,
	WIRE_CLOSE_BINARY = 1003,
	WIRE_CLOSE_TOO_BIG = 1009,
	WIRE_CLOSE_AUTH_FAILED = 4001,
	WIRE_CLOSE_AUTH_TIMEOUT = 4002,
	WIRE_CLOSE_NOT_AUTHENTICATED = 4003,
	WIRE_CLOSE_REPLACED = 4004,
	WIRE_CLOSE_REMOVED = 4005,
};

enum wire_kind {
	WIRE_REQUEST = 1,
	WIRE_RESPONSE,
	WIRE_PUSH,
};

/* Request types; responses carry the type of their request. */
enum wire_type {
	WIRE_T_NONE = 0, /* only in an id-0 answer to an unreadable frame */
	WIRE_T_AUTH,
	WIRE_T_REGISTER,
	WIRE_T_PING,
	WIRE_T_DEVICE_ADD,
	WIRE_T_DEVICE_LIST,
	WIRE_T_DEVICE_REMOVE,
	WIRE_T_KEYS_UPLOAD,
	WIRE_T_KEYS_COUNT,
	WIRE_T_KEYS_FETCH,
	WIRE_T_SEND,
	WIRE_T_SEND_MULTI,
	WIRE_T_ACK,
};
#define WIRE_T_COUNT (WIRE_T_ACK + 1)

enum wire_push {
	WIRE_P_NONE = 0,
	WIRE_P_ENVELOPE,
	WIRE_P_QUEUE_EMPTY,
	WIRE_P_KEYS_LOW,
};

/* Signal message types, numbered as the relay stores them. */
enum wire_msg_type {
	WIRE_MSG_PREKEY = 1,
	WIRE_MSG_NORMAL,
	WIRE_MSG_SENDERKEY,
	WIRE_MSG_DISTRIBUTION,
};

struct wire_signed_prekey {
	uint32_t id;
	uint8_t pub[WIRE_KEY_LEN];
	uint8_t sig[WIRE_SIG_LEN];
};

struct wire_prekey {
	uint32_t id;
	uint8_t pub[WIRE_KEY_LEN];
};

/* One ciphertext for one recipient device. */
struct wire_message {
	uint32_t device;
	uint32_t registration_id;
	enum wire_msg_type type;
	uint8_t *content; /* owned by the frame */
	size_t content_len;
};

/* The messages for one recipient account. */
struct wire_send {
	char to[WIRE_NAME_MAX + 1];
	struct wire_message *messages;
	size_t n_messages;
};

struct wire_request {
	union {
		struct {
			char account[WIRE_NAME_MAX + 1];
			uint32_t device;
			uint8_t secret[WIRE_SECRET_LEN];
		} auth;
		struct {
			char account[WIRE_NAME_MAX + 1];
			uint32_t registration_id;
			uint8_t identity_key[WIRE_KEY_LEN];
			struct wire_signed_prekey signed_prekey;
			uint8_t secret[WIRE_SECRET_LEN];
			char *token; /* NULL when absent */
		} reg;
		struct {
			uint32_t registration_id;
			uint8_t secret[WIRE_SECRET_LEN];
			struct wire_signed_prekey signed_prekey;
		} device_add;
		struct {
			uint32_t device;
		} device_remove;
		struct {
			int has_signed_prekey;
			struct wire_signed_prekey signed_prekey;
			struct wire_prekey *prekeys; /* NULL when absent */
			size_t n_prekeys;
		} keys_upload;
		struct {
			char account[WIRE_NAME_MAX + 1];
			uint32_t device; /* 0: every device */
		} keys_fetch;
		/* send and send.multi: a send has exactly one element. */
		struct {
			char msg_id[WIRE_MSG_ID_MAX + 1];
			struct wire_send *sends;
			size_t n_sends;
		} send;
		struct {
			uint64_t *ids;
			size_t n_ids;
		} ack;
	} u;
};

struct wire_device_info {
	uint32_t device;
	uint32_t registration_id;
	int64_t created;
	int64_t last_seen;
};

struct wire_bundle {
	uint32_t device;
	uint32_t registration_id;
	struct wire_signed_prekey signed_prekey;
	int has_prekey;
	struct wire_prekey prekey;
};

struct wire_mismatch {
	char to[WIRE_NAME_MAX + 1]; /* "" in the answer to a single send */
	uint32_t *missing, *extra, *stale;
	size_t n_missing, n_extra, n_stale;
};

struct wire_response {
	int status; /* 200 or 400..599 */
	/* Any status but 200: */
	char error[WIRE_ERROR_MAX + 1];
	char message[WIRE_MESSAGE_MAX + 1];
	int has_retry_after;
	uint64_t retry_after_ms;
	/* Status 200, by type: */
	uint32_t device;                  /* register, device.add */
	uint64_t count;                   /* keys.upload, keys.count */
	int64_t ts;                       /* send, send.multi */
	struct wire_device_info *devices; /* device.list */
	size_t n_devices;
	char account[WIRE_NAME_MAX + 1]; /* keys.fetch */
	uint8_t identity_key[WIRE_KEY_LEN];
	struct wire_bundle *bundles;
	size_t n_bundles;
	/* Status 409 to send / send.multi (a send has one, with to ""): */
	struct wire_mismatch *mismatches;
	size_t n_mismatches;
	/* Status 404 to send.multi: */
	char (*unknown)[WIRE_NAME_MAX + 1];
	size_t n_unknown;
};

struct wire_envelope {
	uint64_t id;
	char from[WIRE_NAME_MAX + 1];
	uint32_t from_device;
	uint32_t from_registration_id;
	enum wire_msg_type type;
	int64_t ts;
	uint8_t *content; /* owned by the frame */
	size_t content_len;
};

struct wire_pushed {
	struct wire_envelope envelope; /* WIRE_P_ENVELOPE */
	uint64_t count;                /* WIRE_P_KEYS_LOW */
};

struct wire_frame {
	enum wire_kind kind;
	uint64_t id;         /* requests and responses; 0 only in answers to bad frames */
	enum wire_type type; /* requests and responses */
	enum wire_push push; /* pushes */
	union {
		struct wire_request req;
		struct wire_response resp;
		struct wire_pushed push;
	} u;
};

/* --- wire.c: names, values, cleanup --- */

/* 1 if s is an account name: 1..32 of [a-z0-9._-], starting with [a-z]. */
int wire_name_valid(const char *s);
/* 1 if s is a msg_id: base64 of 16 bytes or a UUID in 8-4-4-4-12 form. */
int wire_msg_id_valid(const char *s);
const char *wire_type_name(enum wire_type t);      /* "keys.fetch"; NULL if none */
enum wire_type wire_type_from_name(const char *s); /* WIRE_T_NONE if unknown */
const char *wire_push_name(enum wire_push p);
enum wire_push wire_push_from_name(const char *s);
const char *wire_msg_type_name(enum wire_msg_type t);
int wire_msg_type_from_name(const char *s, enum wire_msg_type *out); /* 0 / -1 */
/* The machine-readable token the page gives a status ("bad_request"). */
const char *wire_status_error(int status);

/* Free what f owns and wipe it (secrets included); f itself is not freed
 * and is left zeroed, so freeing twice is harmless. */
void wire_frame_free(struct wire_frame *f);

/* --- wire_parse.c --- */

/* Parse one frame of len bytes (no NUL needed). Strict: invalid UTF-8,
 * duplicate members, nesting past WIRE_MAX_DEPTH, frames past
 * WIRE_MAX_FRAME, unknown types, missing or mistyped members, bad base64
 * and values out of range are ERR_INVALID (ERR_TOOLARGE for size and list
 * limits) with a message naming the member. Unknown members are ignored.
 * On success out owns its allocations: wire_frame_free() it. On failure
 * nothing is allocated, but out->kind, out->id and out->type keep what
 * could be read so that an answer can echo them (0 when unreadable). */
int wire_parse(const char *buf, size_t len, struct wire_frame *out, struct err *e);

/* --- wire_build.c --- */

/* Serialize f as compact JSON. f is validated with the same rules as
 * wire_parse(), so every built frame parses back to the same struct.
 * Returns a NUL-terminated malloc'ed string (the caller owns it; use
 * wipe_free_str() if it carries a secret) and its length in *len (may be
 * NULL), or NULL with e set (ERR_INVALID, or ERR_TOOLARGE past
 * WIRE_MAX_FRAME). */
char *wire_build(const struct wire_frame *f, size_t *len, struct err *e);

/* An error response for request id/type (type may be WIRE_T_NONE, id 0):
 * error token from wire_status_error(status) unless error is given,
 * message truncated to WIRE_MESSAGE_MAX. retry_after_ms < 0 means none.
 * Never fails for a status in 400..599. The caller owns the string. */
char *wire_build_error(uint64_t id, enum wire_type type, int status, const char *error,
                       const char *message, int64_t retry_after_ms, size_t *len);

/* --- wire_http.c: the blob endpoint's Authorization header --- */

/* Parse "Sotto ACCOUNT.DEVICE:B64(secret)" (ERR_AUTH when malformed). */
int wire_http_auth_parse(const char *value, char account[WIRE_NAME_MAX + 1], uint32_t *device,
                         uint8_t secret[WIRE_SECRET_LEN], struct err *e);
/* Build that header value; the caller owns it and wipes it
 * (wipe_free_str()). */
char *wire_http_auth_build(const char *account, uint32_t device,
                           const uint8_t secret[WIRE_SECRET_LEN]);

#endif

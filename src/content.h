/* The plaintext inside every encrypted envelope (sotto-protocol(7), MESSAGE
 * CONTENT): a JSON object (v, kind, id, ts, body, sent_to, receipts,
 * repair, reserved members) padded to 160-byte blocks. Strict decoding:
 * anything malformed is ERR_INVALID; unknown kinds and newer versions are
 * decoded as CONTENT_UNKNOWN so the caller acks and ignores them. */
#ifndef SOTTO_CONTENT_H
#define SOTTO_CONTENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define CONTENT_VERSION 1
#define CONTENT_BODY_MAX 65536
#define CONTENT_IDS_MAX 256
/* Longest padded content we encrypt: the ciphertext (padded plaintext plus
 * at most a few hundred bytes of Signal framing) must fit the relay's
 * per-device limit of 160 KiB. */
#define CONTENT_MAX_PADDED (160 * 1024 - 1024)
#define CONTENT_KIND_MAX 32

enum content_kind {
	CONTENT_UNKNOWN = 0, /* unknown kind or newer version: ack and ignore */
	CONTENT_TEXT,
	CONTENT_RECEIPT,
	CONTENT_REPAIR,
};

enum content_receipt {
	CONTENT_RECEIPT_DELIVERED = 1,
	CONTENT_RECEIPT_READ,
};

struct content {
	enum content_kind kind;
	/* The kind as written ("typing" for an ignored one); also the version
	 * reason for CONTENT_UNKNOWN. */
	char kind_name[CONTENT_KIND_MAX + 1];
	int64_t version;
	char *id;   /* the msg_id of the send that carried it */
	int64_t ts; /* sender's clock, ms */

	/* CONTENT_TEXT */
	char *body;    /* UTF-8, no NUL, at most CONTENT_BODY_MAX bytes */
	char *sent_to; /* copies to our own other devices: the real recipient */
	/* Reserved members, kept verbatim (compact JSON text) so that a later
	 * revision can act on them; NULL when absent. */
	char *group;       /* object */
	char *attachments; /* array */
	char *quote;       /* object */
	int64_t expire_s;  /* 0: off */

	/* CONTENT_RECEIPT */
	enum content_receipt receipt;
	char **ids; /* message ids, 1..CONTENT_IDS_MAX */
	size_t n_ids;

	/* CONTENT_REPAIR: relay envelope ids (optional, may be 0 of them) */
	uint64_t *envelope_ids;
	size_t n_envelope_ids;
};

/* Serialize c as the content JSON and pad it. On success *out (*out_len
 * bytes, a multiple of 160) is the caller's to free(). Members that break
 * the rules (a missing id, an over-long body, a bad receipt list) are
 * ERR_INVALID; a result past CONTENT_MAX_PADDED is ERR_TOOLARGE. Only
 * CONTENT_TEXT, CONTENT_RECEIPT and CONTENT_REPAIR can be encoded. */
int content_encode(const struct content *c, uint8_t **out, size_t *out_len, struct err *e);

/* Unpad and parse len bytes of decrypted plaintext into *out (owned by
 * the caller afterwards: content_clear()). Returns 0 with out->kind set
 * (CONTENT_UNKNOWN for a kind or version we do not know), or -1 with
 * ERR_INVALID for bad padding, bad JSON, missing or mistyped members,
 * values out of range; nothing is allocated then. */
int content_decode(const uint8_t *buf, size_t len, struct content *out, struct err *e);

/* The same on the JSON text alone (no padding). */
int content_parse(const char *json, size_t len, struct content *out, struct err *e);

/* Free what a decoded or filled struct content owns (free()), and zero it. */
void content_clear(struct content *c);

/* "delivered" / "read"; NULL for anything else. */
const char *content_receipt_name(enum content_receipt r);

#endif

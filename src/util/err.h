/* Errors are values: a function that can fail returns 0 or -1 and fills a
 * struct err with a code the caller can act on and a message it can show.
 * Nothing below ui/ prints. */
#ifndef SOTTO_ERR_H
#define SOTTO_ERR_H

#include "util/xmalloc.h"

enum err_code {
	ERR_OK = 0,
	ERR_INTERNAL,  /* a bug or a library failure we cannot classify */
	ERR_INVALID,   /* malformed input: garbage, truncated, oversized */
	ERR_IO,        /* file system or socket error */
	ERR_NOSPACE,   /* disk full */
	ERR_BADKEY,    /* wrong passphrase or key file */
	ERR_CORRUPT,   /* a stored row or file is damaged */
	ERR_CRYPTO,    /* MAC failure, bad signature, tampered ciphertext */
	ERR_DUPLICATE, /* already processed: ack and drop */
	ERR_NOSESSION, /* no session with that device */
	ERR_UNTRUSTED, /* identity key changed and policy says block */
	ERR_NOTFOUND,
	ERR_EXISTS,
	ERR_TOOLARGE,
	ERR_LIMIT, /* a protocol limit was hit (e.g. counter jump) */
	ERR_AUTH,
	ERR_NETWORK,
	ERR_STALE, /* stale device list */
	ERR_RATE,  /* rate limited */
	ERR_BUSY,  /* database locked by another process */
};

struct err {
	enum err_code code;
	char msg[256];
};

/* Set code and message; always returns -1 so callers can write
 * `return err_set(e, ERR_IO, "...")`. e may be NULL. */
int err_set(struct err *e, enum err_code code, const char *fmt, ...) printflike(3, 4);
/* Prefix an existing message with context ("opening db: ..."). */
int err_prefix(struct err *e, const char *fmt, ...) printflike(2, 3);
void err_clear(struct err *e);
const char *err_code_name(enum err_code code);

#endif

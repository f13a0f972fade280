/* sotto-relay's request handlers: one function per request type of
 * man/sotto-protocol.7, answering through the server's deferred answers so
 * that nothing is acknowledged before its batch is durable. */
#ifndef SOTTO_RELAY_HANDLER_H
#define SOTTO_RELAY_HANDLER_H

#include <stddef.h>

#include "relay/server.h"
#include "wire/wire.h"

/* One complete text frame received on c. */
void handler_frame(struct server *s, struct server_conn *c, const char *buf, size_t len);

/* Build f (a response) and queue it as the answer to its request; a frame
 * that does not build is a bug and is answered 500. */
void handler_answer(struct server *s, struct server_conn *c, struct wire_frame *f);
/* Answer a storage failure: ERR_BUSY/ERR_NOSPACE/ERR_IO become 503, the
 * rest 500. */
void handler_store_error(struct server *s, struct server_conn *c, const struct wire_frame *req,
                         const struct err *e);
/* Open a batch or answer 503 and return -1. */
int handler_batch_begin(struct server *s, struct server_conn *c, const struct wire_frame *req);

/* Copy a wire signed prekey into the store's struct. */
void handler_spk(struct rstore_signed_prekey *out, const struct wire_signed_prekey *in);

/* handler_keys.c */
/* 1 if spk's signature verifies with the identity key (33 bytes). */
int handler_keys_verify(struct server *s, const uint8_t identity_key[WIRE_KEY_LEN],
                        const struct wire_signed_prekey *spk);
void handler_keys_upload(struct server *s, struct server_conn *c, const struct wire_frame *f);
void handler_keys_count(struct server *s, struct server_conn *c, const struct wire_frame *f);
void handler_keys_fetch(struct server *s, struct server_conn *c, const struct wire_frame *f);

/* handler_send.c */
void handler_send(struct server *s, struct server_conn *c, const struct wire_frame *f);
void handler_send_ack(struct server *s, struct server_conn *c, const struct wire_frame *f);

#endif

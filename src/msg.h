/* The messaging half of the engine core (sending, receiving, receipts,
 * the history and contact methods). core.h declares the entry points the
 * core calls (msg_init, msg_on_envelope, ...); this header adds what a
 * caller inside the engine, or a test, may use directly. */
#ifndef SOTTO_MSG_H
#define SOTTO_MSG_H

#include <stdint.h>

#include "core.h"
#include "util/err.h"

struct msg_hooks;

/* Route events, acks and relay requests to a test instead of the engine
 * and transport (copied). Call after msg_init. */
void msg_set_hooks(struct core *c, const struct msg_hooks *hooks);

/* Store text to `to` as an outgoing message (state sending), encrypt it
 * for every device of `to` and our other devices and queue it, all in the
 * write batch; once that commits (on the next pass of the event loop,
 * shared with whatever else came meanwhile) it goes out if connected, else
 * on the next connect. *history_id gets the message's id. ERR_UNTRUSTED
 * when to's verified key changed (nothing stored), ERR_INVALID for a bad
 * name or text. */
int msg_send_text(struct core *c, const char *to, const char *text, int64_t *history_id,
                  struct err *e);

/* Commit the open receive batch and ack it now (normally done from the
 * loop once the burst of envelopes is over). */
void msg_flush(struct core *c);

#endif

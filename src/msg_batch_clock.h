/* When the write batch commits: a pure function of what joins it and
 * when, kept apart from the event loop so that its rules can be tested
 * with a made-up clock (tests/test_msg_batch_clock.c). */
#ifndef SOTTO_MSG_BATCH_CLOCK_H
#define SOTTO_MSG_BATCH_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

/* Receive batching: commit and ack after MSG_BATCH_MAX (msg_int.h)
 * envelopes, when no envelope came for MSG_BATCH_IDLE_US, or
 * MSG_BATCH_AGE_US after the batch's first. */
#define MSG_BATCH_IDLE_US 500
#define MSG_BATCH_AGE_US 20000
/* A batch that only holds bookkeeping (answers from the relay, attempt
 * counts) waits this long for company. */
#define MSG_BATCH_LAZY_US 10000
/* Sends less than MSG_STREAM_GATHER_US apart are a stream: the first of
 * a batch in a stream waits that long for others to share its commit (an
 * fsync and a dozen encrypted pages). A lone send does not wait, nor does
 * a lone envelope once caught up (envelopes closer than that are a burst,
 * batched as a backlog is). */
#define MSG_STREAM_GATHER_US 1000

enum msg_batch_why {
	MSG_BATCH_LAZY, /* bookkeeping: commit with the next pause */
	MSG_BATCH_SOON, /* something waits for the commit: now */
	MSG_BATCH_SEND, /* a text to send: now, unless sends are streaming */
	MSG_BATCH_LIVE, /* an envelope once caught up: now, unless in a burst */
	MSG_BATCH_RECV, /* an envelope of a backlog: once the burst pauses */
};

struct msg_batch_clock {
	bool armed;           /* a commit is due */
	int64_t due_us;       /* while armed: when */
	int64_t deadline_us;  /* while armed: nothing moves the commit later */
	bool sends;           /* a send is in the batch */
	int64_t send_last_us; /* when the last send came (kept across batches) */
	int64_t live_last_us; /* when the last live envelope came (the same) */
};

/* Something joins the batch at now (microseconds, any monotonic clock):
 * set when the batch commits. True when due_us changed (or was set). */
bool msg_batch_clock_join(struct msg_batch_clock *k, enum msg_batch_why why, int64_t now);
/* The batch committed, rolled back or was let go: nothing is due. */
void msg_batch_clock_reset(struct msg_batch_clock *k);

#endif

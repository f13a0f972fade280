/* When the write batch commits (see msg_batch_clock.h). A lone send or
 * envelope, or something waiting, pulls the commit in; the envelopes of
 * a burst push it back, but never past the batch's deadline: its age
 * limit, or the time a send, an envelope or a waiter was promised. */
#include "msg_batch_clock.h"

/* A send: at once when lone; in a stream, the batch's first waits
 * MSG_STREAM_GATHER_US for company and the rest ride with it. */
static int64_t
msg_batch_clock_send(struct msg_batch_clock *k, int64_t now)
{
	int64_t due;

	if (now - k->send_last_us >= MSG_STREAM_GATHER_US)
		due = now; /* nothing suggests another is coming */
	else if (!k->sends)
		due = now + MSG_STREAM_GATHER_US;
	else
		due = k->due_us;
	k->send_last_us = now;
	k->sends = true;
	return due;
}

bool
msg_batch_clock_join(struct msg_batch_clock *k, enum msg_batch_why why, int64_t now)
{
	bool later = false, promise = false;
	int64_t due = now;

	if (!k->armed)
		k->deadline_us = now + MSG_BATCH_AGE_US;
	switch (why) {
	case MSG_BATCH_LAZY:
		due = k->armed ? k->due_us : now + MSG_BATCH_LAZY_US;
		break;
	case MSG_BATCH_SOON:
		promise = true;
		break;
	case MSG_BATCH_SEND:
		due = msg_batch_clock_send(k, now);
		promise = true;
		break;
	case MSG_BATCH_LIVE:
		/* Lone: shown as soon as it is durable. In a burst, as a
		 * backlog is. */
		promise = now - k->live_last_us >= MSG_STREAM_GATHER_US;
		k->live_last_us = now;
		if (promise)
			break;
		/* fall through */
	case MSG_BATCH_RECV:
		due = now + MSG_BATCH_IDLE_US;
		later = true;
		break;
	}
	if (k->armed && !later && due > k->due_us)
		due = k->due_us;
	if (promise && due < k->deadline_us)
		k->deadline_us = due;
	if (due > k->deadline_us)
		due = k->deadline_us;
	if (due < now)
		due = now;
	if (k->armed && (due == k->due_us || (due == now && k->due_us <= now)))
		return false; /* unchanged, or already due */
	k->armed = true;
	k->due_us = due;
	return true;
}

void
msg_batch_clock_reset(struct msg_batch_clock *k)
{
	k->armed = false;
	k->sends = false;
}

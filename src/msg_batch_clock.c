/* When the write batch commits (see msg_batch_clock.h). A send or
 * something waiting pulls the commit in; envelopes of a burst push it
 * back, but never past the batch's deadline: its age limit, or the time
 * a send or a waiter was promised. */
#include "msg_batch_clock.h"

static int64_t
msg_batch_clock_send(struct msg_batch_clock *k, int64_t now)
{
	int64_t due;

	if (now - k->send_last_us >= MSG_SEND_GATHER_US)
		due = now; /* lone: nothing suggests another is coming */
	else if (!k->sends)
		due = now + MSG_SEND_GATHER_US;
	else
		due = k->due_us; /* rides on the stream's first send */
	k->send_last_us = now;
	k->sends = true;
	return due;
}

bool
msg_batch_clock_join(struct msg_batch_clock *k, enum msg_batch_why why, int64_t now)
{
	int64_t due = now;

	if (!k->armed)
		k->deadline_us = now + MSG_BATCH_AGE_US;
	switch (why) {
	case MSG_BATCH_LAZY:
		due = k->armed ? k->due_us : now + MSG_BATCH_LAZY_US;
		break;
	case MSG_BATCH_SOON:
		due = now;
		break;
	case MSG_BATCH_SEND:
		due = msg_batch_clock_send(k, now);
		break;
	case MSG_BATCH_RECV:
		due = now + MSG_BATCH_IDLE_US;
		break;
	}
	/* Only a burst of envelopes moves a commit later. */
	if (k->armed && why != MSG_BATCH_RECV && due > k->due_us)
		due = k->due_us;
	if (why == MSG_BATCH_SOON || why == MSG_BATCH_SEND) {
		if (due < k->deadline_us)
			k->deadline_us = due;
	}
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

/* When the write batch commits (src/msg_batch_clock.c), on a made-up
 * clock: a lone send (or envelope, once caught up) is not held back, a
 * stream of sends shares commits without any waiting more than
 * MSG_STREAM_GATHER_US, a burst of envelopes pushes its commit
 * back only until the batch is old, and nothing pushes back a commit that
 * a send or a waiter was promised. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "msg_batch_clock.h"

/* Microseconds on the made-up clock: far from zero, as a real one is. */
#define T0 1000000000LL

/* The batch commits: what the event loop does when due_us comes. */
static void
commit(struct msg_batch_clock *k, int64_t now)
{
	assert_true(k->armed);
	assert_true(k->due_us <= now);
	msg_batch_clock_reset(k);
}

static void
test_msg_batch_clock_lone_send_commits_at_once(void **state)
{
	struct msg_batch_clock k;
	(void)state;

	memset(&k, 0, sizeof k);
	assert_true(msg_batch_clock_join(&k, MSG_BATCH_SEND, T0));
	assert_int_equal(k.due_us, T0);
	commit(&k, T0);
	/* The next one a while later is lone too. */
	assert_true(msg_batch_clock_join(&k, MSG_BATCH_SEND, T0 + MSG_STREAM_GATHER_US));
	assert_int_equal(k.due_us, T0 + MSG_STREAM_GATHER_US);
}

static void
test_msg_batch_clock_stream_of_sends_shares_commits_with_a_bounded_wait(void **state)
{
	struct msg_batch_clock k;
	int64_t t = T0, first, commits = 0, waited, most = 0;
	int i;
	(void)state;

	memset(&k, 0, sizeof k);
	/* 1,000 sends 300 us apart (3,333 a second). */
	for (i = 0; i < 1000; i++, t += 300) {
		if (k.armed && k.due_us <= t) {
			commit(&k, t);
			commits++;
		}
		if (!k.armed)
			first = t;
		msg_batch_clock_join(&k, MSG_BATCH_SEND, t);
		waited = k.due_us - t;
		assert_true(waited >= 0);
		assert_true(k.due_us <= first + MSG_STREAM_GATHER_US);
		if (waited > most)
			most = waited;
	}
	/* Only the very first is lone; the rest go four to a commit. */
	assert_true(commits >= 240 && commits <= 260);
	assert_int_equal(most, MSG_STREAM_GATHER_US);
}

static void
test_msg_batch_clock_envelopes_wait_for_a_pause_until_the_batch_is_old(void **state)
{
	struct msg_batch_clock k;
	int64_t t = T0;
	(void)state;

	memset(&k, 0, sizeof k);
	assert_true(msg_batch_clock_join(&k, MSG_BATCH_RECV, t));
	assert_int_equal(k.due_us, t + MSG_BATCH_IDLE_US);
	/* Each envelope of a burst pushes the commit back... */
	t += 100;
	assert_true(msg_batch_clock_join(&k, MSG_BATCH_RECV, t));
	assert_int_equal(k.due_us, t + MSG_BATCH_IDLE_US);
	/* ... but a steady burst never past the batch's age. */
	while (t < T0 + 2 * MSG_BATCH_AGE_US) {
		t += 100;
		msg_batch_clock_join(&k, MSG_BATCH_RECV, t);
		assert_true(k.due_us <= T0 + MSG_BATCH_AGE_US);
	}
}

static void
test_msg_batch_clock_nothing_pushes_back_a_promised_commit(void **state)
{
	struct msg_batch_clock k;
	int64_t t = T0;
	(void)state;

	/* Something waits: envelopes after it do not delay it. */
	memset(&k, 0, sizeof k);
	msg_batch_clock_join(&k, MSG_BATCH_RECV, t);
	assert_true(msg_batch_clock_join(&k, MSG_BATCH_SOON, t + 10));
	assert_int_equal(k.due_us, t + 10);
	assert_false(msg_batch_clock_join(&k, MSG_BATCH_RECV, t + 20));
	assert_int_equal(k.due_us, t + 10);
	commit(&k, t + 30);

	/* A stream's send was promised MSG_STREAM_GATHER_US at most. */
	t += 10000;
	msg_batch_clock_join(&k, MSG_BATCH_SEND, t);
	commit(&k, t);
	msg_batch_clock_join(&k, MSG_BATCH_SEND, t + 100);
	assert_int_equal(k.due_us, t + 100 + MSG_STREAM_GATHER_US);
	msg_batch_clock_join(&k, MSG_BATCH_RECV, t + 900);
	msg_batch_clock_join(&k, MSG_BATCH_RECV, t + 1000);
	assert_int_equal(k.due_us, t + 100 + MSG_STREAM_GATHER_US);
	/* A later send of the stream rides along; it does not move it. */
	assert_false(msg_batch_clock_join(&k, MSG_BATCH_SEND, t + 1050));
	assert_int_equal(k.due_us, t + 100 + MSG_STREAM_GATHER_US);
}

static void
test_msg_batch_clock_bookkeeping_never_moves_a_due_commit(void **state)
{
	struct msg_batch_clock k;
	(void)state;

	/* Alone it waits MSG_BATCH_LAZY_US for company... */
	memset(&k, 0, sizeof k);
	assert_true(msg_batch_clock_join(&k, MSG_BATCH_LAZY, T0));
	assert_int_equal(k.due_us, T0 + MSG_BATCH_LAZY_US);
	assert_false(msg_batch_clock_join(&k, MSG_BATCH_LAZY, T0 + 5000));
	assert_int_equal(k.due_us, T0 + MSG_BATCH_LAZY_US);
	/* ... and goes with the first send or waiter that comes. */
	assert_true(msg_batch_clock_join(&k, MSG_BATCH_SEND, T0 + 6000));
	assert_int_equal(k.due_us, T0 + 6000);
	commit(&k, T0 + 6000);

	/* It never delays a commit that is due (a burst's). */
	msg_batch_clock_join(&k, MSG_BATCH_RECV, T0 + 7000);
	assert_false(msg_batch_clock_join(&k, MSG_BATCH_LAZY, T0 + 7100));
	assert_int_equal(k.due_us, T0 + 7000 + MSG_BATCH_IDLE_US);
}

static void
test_msg_batch_clock_live_envelope_commits_at_once_unless_in_a_burst(void **state)
{
	struct msg_batch_clock k;
	int64_t t = T0;
	(void)state;

	memset(&k, 0, sizeof k);
	/* A lone one is shown as soon as it is durable... */
	assert_true(msg_batch_clock_join(&k, MSG_BATCH_LIVE, t));
	assert_int_equal(k.due_us, t);
	/* ... with whatever came in the same read. */
	assert_false(msg_batch_clock_join(&k, MSG_BATCH_LIVE, t + 5));
	assert_int_equal(k.due_us, t);
	commit(&k, t + 5);
	/* Close behind: a burst, batched as a backlog is. */
	t += 300;
	assert_true(msg_batch_clock_join(&k, MSG_BATCH_LIVE, t));
	assert_int_equal(k.due_us, t + MSG_BATCH_IDLE_US);
	while (t < T0 + 2 * MSG_BATCH_AGE_US) {
		t += 100;
		msg_batch_clock_join(&k, MSG_BATCH_LIVE, t);
		assert_true(k.due_us <= T0 + 300 + MSG_BATCH_AGE_US);
	}
	commit(&k, t);
	/* After a pause, lone again. */
	t += MSG_STREAM_GATHER_US;
	assert_true(msg_batch_clock_join(&k, MSG_BATCH_LIVE, t));
	assert_int_equal(k.due_us, t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_msg_batch_clock_lone_send_commits_at_once),
	    cmocka_unit_test(
	        test_msg_batch_clock_stream_of_sends_shares_commits_with_a_bounded_wait),
	    cmocka_unit_test(
	        test_msg_batch_clock_envelopes_wait_for_a_pause_until_the_batch_is_old),
	    cmocka_unit_test(test_msg_batch_clock_nothing_pushes_back_a_promised_commit),
	    cmocka_unit_test(test_msg_batch_clock_bookkeeping_never_moves_a_due_commit),
	    cmocka_unit_test(test_msg_batch_clock_live_envelope_commits_at_once_unless_in_a_burst),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

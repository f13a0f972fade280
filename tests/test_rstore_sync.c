/* Unit tests for what relay/rstore offers the relay's overlapped fsync:
 * the log's descriptor (sync_later), envelopes fetched only up to a
 * durable bound, the last committed envelope id, and the device caches
 * that save the lookups of every send. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "relay/rstore.h"
#include "tests/rstore_fixture.h"

static void
test_rstore_sync_fd_is_the_log_with_sync_later_only(void **state)
{
	struct rstore_fixture *f = *state;
	struct rstore_options opt;
	struct rstore *s;
	struct stat a, b;
	char path[300];
	struct err e;

	/* Without sync_later every commit syncs itself: nothing to hand out. */
	assert_int_equal(rstore_sync_fd(f->s), -1);
	assert_int_equal(rstore_sync(f->s, &e), 0);
	f->opt.sync_later = 1;
	rstore_fixture_reopen(f);
	assert_true(rstore_sync_fd(f->s) >= 0);
	snprintf(path, sizeof path, "%s/relay.db-wal", f->dir);
	assert_int_equal(fstat(rstore_sync_fd(f->s), &a), 0);
	assert_int_equal(stat(path, &b), 0);
	assert_true(a.st_dev == b.st_dev && a.st_ino == b.st_ino);
	rstore_fixture_account(f, "alice", 1);
	assert_int_equal(rstore_sync(f->s, &e), 0);
	/* In memory there is no log to sync. */
	rstore_options_default(&opt);
	opt.in_memory = 1;
	opt.sync_later = 1;
	assert_int_equal(rstore_open(&s, NULL, &opt, &e), 0);
	assert_int_equal(rstore_sync_fd(s), -1);
	rstore_close(s);
}

static void
test_rstore_sync_later_batch_survives_kill_after_sync(void **state)
{
	struct rstore_fixture *f = *state;
	struct err e;
	pid_t pid;
	int status;

	f->opt.sync_later = 1;
	rstore_fixture_reopen(f);
	rstore_fixture_account(f, "alice", 1);
	rstore_fixture_account(f, "bob", 2);
	rstore_close(f->s);
	f->s = NULL;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct rstore *s;
		struct rstore_outgoing m = {1, 1, (const uint8_t *)"durable", 7};
		int i;

		if (rstore_open(&s, f->dir, &f->opt, NULL) < 0)
			_exit(2);
		if (rstore_batch_begin(s, NULL) < 0)
			_exit(3);
		for (i = 0; i < 5; i++)
			if (rstore_queue_send(s, "alice", 1, "bob", &m, 1, NULL, NULL, NULL) < 0)
				_exit(4);
		if (rstore_batch_commit(s, NULL) < 0 || rstore_sync(s, NULL) < 0)
			_exit(5);
		raise(SIGKILL);
		_exit(6);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(rstore_open(&f->s, f->dir, &f->opt, &e), 0);
	assert_int_equal(rstore_fixture_queue_count(f, "bob", 1), 5);
}

static void
test_rstore_fetch_upto_leaves_out_envelopes_past_the_bound(void **state)
{
	struct rstore_fixture *f = *state;
	struct rstore_envelope *env;
	int64_t id[3];
	size_t n;
	struct err e;
	int i;

	rstore_fixture_account(f, "alice", 1);
	rstore_fixture_account(f, "bob", 2);
	for (i = 0; i < 3; i++)
		assert_int_equal(rstore_fixture_send(f, "alice", "bob", 1, "m", &id[i], &e), 0);
	assert_int_equal(rstore_queue_fetch_upto(f->s, "bob", 1, 0, id[1], 10, &env, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_int_equal(env[0].id, id[0]);
	assert_int_equal(env[1].id, id[1]);
	rstore_queue_free(env, n);
	assert_int_equal(rstore_queue_fetch_upto(f->s, "bob", 1, id[1], id[1], 10, &env, &n, &e),
	                 0);
	assert_int_equal(n, 0);
	assert_int_equal(rstore_queue_fetch_upto(f->s, "bob", 1, id[1], id[2], 10, &env, &n, &e),
	                 0);
	assert_int_equal(n, 1);
	assert_int_equal(env[0].id, id[2]);
	rstore_queue_free(env, n);
}

static void
test_rstore_queue_last_id_is_the_last_committed_envelope(void **state)
{
	struct rstore_fixture *f = *state;
	int64_t last = -1, id, later;
	struct err e;

	assert_int_equal(rstore_queue_last_id(f->s, &last, &e), 0);
	assert_int_equal(last, 0);
	rstore_fixture_account(f, "alice", 1);
	rstore_fixture_account(f, "bob", 2);
	assert_int_equal(rstore_fixture_send(f, "alice", "bob", 1, "one", &id, &e), 0);
	assert_int_equal(rstore_queue_last_id(f->s, &last, &e), 0);
	assert_int_equal(last, id);
	/* A batch thrown away leaves the bound where it was... */
	assert_int_equal(rstore_batch_begin(f->s, &e), 0);
	assert_int_equal(rstore_fixture_send(f, "alice", "bob", 1, "lost", &later, &e), 0);
	rstore_batch_rollback(f->s);
	assert_int_equal(rstore_queue_last_id(f->s, &last, &e), 0);
	assert_int_equal(last, id);
	/* ...and an envelope queued after a bound was taken is above it. */
	assert_int_equal(rstore_fixture_send(f, "alice", "bob", 1, "two", &later, &e), 0);
	assert_true(later > last);
	assert_int_equal(rstore_queue_last_id(f->s, &last, &e), 0);
	assert_int_equal(last, later);
}

static void
test_rstore_removed_device_is_not_found_from_the_cache(void **state)
{
	struct rstore_fixture *f = *state;
	uint8_t secret[RSTORE_SECRET_LEN];
	uint32_t dev;
	size_t n;
	struct err e;

	rstore_fixture_account(f, "alice", 1);
	rstore_fixture_account(f, "bob", 2);
	assert_int_equal(rstore_fixture_device(f, "bob", 300, 3), 2);
	/* Seen once (and remembered), then removed. */
	assert_int_equal(rstore_fixture_send(f, "alice", "bob", 2, "hi", NULL, &e), 0);
	assert_int_equal(rstore_device_remove(f->s, "bob", 2, &e), 0);
	assert_int_equal(rstore_queue_count(f->s, "bob", 2, &n, &e), -1);
	assert_int_equal(e.code, ERR_NOTFOUND);
	/* A device added in a batch that rolls back is forgotten too. */
	assert_int_equal(rstore_batch_begin(f->s, &e), 0);
	rstore_fixture_secret(secret, 4);
	assert_int_equal(rstore_device_add(f->s, "bob", 301, secret, NULL, &dev, &e), 0);
	assert_int_equal(rstore_fixture_send(f, "alice", "bob", dev, "hi", NULL, &e), 0);
	assert_int_equal(rstore_queue_count(f->s, "bob", dev, &n, &e), 0);
	assert_int_equal(n, 1);
	rstore_batch_rollback(f->s);
	assert_int_equal(rstore_queue_count(f->s, "bob", dev, &n, &e), -1);
	assert_int_equal(e.code, ERR_NOTFOUND);
}

static void
test_rstore_device_check_sees_devices_added_and_removed_since(void **state)
{
	struct rstore_fixture *f = *state;
	struct rstore_target t[2] = {{1, 102}, {2, 200}};
	struct rstore_mismatch m;
	struct err e;

	rstore_fixture_account(f, "bob", 2); /* device 1, reg 102 */
	assert_int_equal(rstore_device_check(f->s, "bob", 0, t, 1, &m, &e), 0);
	assert_true(rstore_device_mismatch_empty(&m));
	rstore_device_mismatch_free(&m);
	/* Checked (and remembered) before device 2 came: it is missing now. */
	assert_int_equal(rstore_fixture_device(f, "bob", 200, 3), 2);
	assert_int_equal(rstore_device_check(f->s, "bob", 0, t, 1, &m, &e), 0);
	assert_int_equal(m.n_missing, 1);
	assert_int_equal(m.missing[0], 2);
	rstore_device_mismatch_free(&m);
	assert_int_equal(rstore_device_check(f->s, "bob", 0, t, 2, &m, &e), 0);
	assert_true(rstore_device_mismatch_empty(&m));
	rstore_device_mismatch_free(&m);
	/* Removed: targeting it is extra. */
	assert_int_equal(rstore_device_remove(f->s, "bob", 2, &e), 0);
	assert_int_equal(rstore_device_check(f->s, "bob", 0, t, 2, &m, &e), 0);
	assert_int_equal(m.n_extra, 1);
	assert_int_equal(m.extra[0], 2);
	rstore_device_mismatch_free(&m);
	/* Added in a batch that rolls back: gone again. */
	assert_int_equal(rstore_batch_begin(f->s, &e), 0);
	assert_int_equal(rstore_fixture_device(f, "bob", 300, 4), 3);
	assert_int_equal(rstore_device_check(f->s, "bob", 0, t, 1, &m, &e), 0);
	assert_int_equal(m.n_missing, 1);
	rstore_device_mismatch_free(&m);
	rstore_batch_rollback(f->s);
	assert_int_equal(rstore_device_check(f->s, "bob", 0, t, 1, &m, &e), 0);
	assert_true(rstore_device_mismatch_empty(&m));
	rstore_device_mismatch_free(&m);
}

#define T(name) cmocka_unit_test_setup_teardown(name, rstore_fixture_setup, rstore_fixture_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_rstore_sync_fd_is_the_log_with_sync_later_only),
	    T(test_rstore_sync_later_batch_survives_kill_after_sync),
	    T(test_rstore_fetch_upto_leaves_out_envelopes_past_the_bound),
	    T(test_rstore_queue_last_id_is_the_last_committed_envelope),
	    T(test_rstore_removed_device_is_not_found_from_the_cache),
	    T(test_rstore_device_check_sees_devices_added_and_removed_since),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

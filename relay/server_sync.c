/* sotto-relay's fsync thread. With a store on disk, a commit leaves
 * without waiting for the disk; this thread then fsyncs the log while the
 * event loop goes on parsing and storing the next batch, and the loop
 * holds every answer until an fsync that started after its commit is done.
 * The thread touches nothing but the log's descriptor and this struct. */
#include "relay/server.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

struct server_sync {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int fd;
	struct lws_context *ctx; /* woken when an fsync is done */
	uint64_t asked, done;    /* fsyncs asked for (numbered from 1), finished */
	int64_t asked_bound, done_bound;
	int error; /* errno of a failed fsync (0: none) */
	int stop;
};

static void *
server_sync_run(void *arg)
{
	struct server_sync *y = arg;
	uint64_t gen;
	int64_t bound;
	int rc;

	pthread_mutex_lock(&y->mu);
	for (;;) {
		while (!y->stop && y->asked == y->done)
			pthread_cond_wait(&y->cv, &y->mu);
		if (y->asked == y->done)
			break; /* stopping with nothing left to sync */
		/* Everything asked for so far is covered by one fsync. */
		gen = y->asked;
		bound = y->asked_bound;
		pthread_mutex_unlock(&y->mu);
		rc = fdatasync(y->fd);
		pthread_mutex_lock(&y->mu);
		if (rc < 0 && y->error == 0)
			y->error = errno;
		y->done = gen;
		y->done_bound = bound;
		pthread_cond_broadcast(&y->cv);
		pthread_mutex_unlock(&y->mu);
		lws_cancel_service(y->ctx);
		pthread_mutex_lock(&y->mu);
	}
	pthread_mutex_unlock(&y->mu);
	return NULL;
}

struct server_sync *
server_sync_start(struct lws_context *ctx, int fd, int64_t bound, struct err *e)
{
	struct server_sync *y = xcalloc(1, sizeof *y);

	y->fd = fd;
	y->ctx = ctx;
	y->asked_bound = y->done_bound = bound;
	pthread_mutex_init(&y->mu, NULL);
	pthread_cond_init(&y->cv, NULL);
	if (pthread_create(&y->thread, NULL, server_sync_run, y) != 0) {
		pthread_cond_destroy(&y->cv);
		pthread_mutex_destroy(&y->mu);
		free(y);
		err_set(e, ERR_INTERNAL, "cannot start the fsync thread");
		return NULL;
	}
	return y;
}

void
server_sync_ask(struct server_sync *y, uint64_t gen, int64_t bound)
{
	pthread_mutex_lock(&y->mu);
	y->asked = gen;
	y->asked_bound = bound;
	pthread_cond_broadcast(&y->cv);
	pthread_mutex_unlock(&y->mu);
}

int
server_sync_poll(struct server_sync *y, uint64_t *done, int64_t *bound)
{
	int error;

	pthread_mutex_lock(&y->mu);
	*done = y->done;
	*bound = y->done_bound;
	error = y->error;
	pthread_mutex_unlock(&y->mu);
	return error;
}

void
server_sync_wait(struct server_sync *y)
{
	pthread_mutex_lock(&y->mu);
	while (y->done != y->asked)
		pthread_cond_wait(&y->cv, &y->mu);
	pthread_mutex_unlock(&y->mu);
}

void
server_sync_stop(struct server_sync *y)
{
	if (y == NULL)
		return;
	pthread_mutex_lock(&y->mu);
	y->stop = 1;
	pthread_cond_broadcast(&y->cv);
	pthread_mutex_unlock(&y->mu);
	pthread_join(y->thread, NULL);
	pthread_cond_destroy(&y->cv);
	pthread_mutex_destroy(&y->mu);
	free(y);
}

/* Timers that fire on time, for the batches of the messaging core.
 * libwebsockets 4.1 gives poll() the time to its next timer in whole
 * milliseconds, rounded down, so every lws_sul spins through poll(0) for
 * the last millisecond before it is due. A receiver that commits half a
 * millisecond after each envelope spun for half of every millisecond at
 * 1,000 messages a second. These timers wake poll() through one timerfd
 * instead, armed for the soonest of them. */
#include "engine_int.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

static void engine_timer_soon(lws_sorted_usec_list_t *sul);

int64_t
engine_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Make sure the descriptor fires no later than the soonest timer. It is
 * only moved earlier: a timer cancelled or pushed back leaves it set, and
 * the wake-up it then gives finds nothing due and sets it again. A
 * receiver pushes its batch timer back on every envelope; a system call
 * for each showed up in profiles. */
static void
engine_timer_rearm(struct engine *eng)
{
	struct itimerspec its;
	int64_t due;

	if (eng->timer_fd < 0 || eng->timers == NULL)
		return;
	due = eng->timers->due_us > 0 ? eng->timers->due_us : 1; /* 0 would disarm */
	if (due <= engine_now_us()) {
		/* Due now: a libwebsockets timer that is ripe already runs on
		 * the next pass without spinning, and costs no system call
		 * (a sender sets one for every message it commits). */
		lws_sul_schedule(eng->lws, 0, &eng->timer_soon, engine_timer_soon, 1);
		return;
	}
	if (eng->timer_set_us != 0 && eng->timer_set_us <= due)
		return;
	memset(&its, 0, sizeof its);
	its.it_value.tv_sec = due / 1000000;
	its.it_value.tv_nsec = (long)(due % 1000000) * 1000;
	if (timerfd_settime(eng->timer_fd, TFD_TIMER_ABSTIME, &its, NULL) == 0)
		eng->timer_set_us = due;
}

static void
engine_timer_unlink(struct engine *eng, struct engine_timer *t)
{
	struct engine_timer **p;

	for (p = &eng->timers; *p != NULL; p = &(*p)->next) {
		if (*p == t) {
			*p = t->next;
			break;
		}
	}
	t->next = NULL;
	t->armed = false;
}

void
engine_timer_schedule(struct engine *eng, struct engine_timer *t, engine_timer_fn *fn,
                      int64_t delay_us)
{
	struct engine_timer **p;

	if (t->armed)
		engine_timer_unlink(eng, t);
	t->fn = fn;
	t->due_us = engine_now_us() + (delay_us > 0 ? delay_us : 0);
	/* Soonest first; equal due times keep the order they were set in. */
	for (p = &eng->timers; *p != NULL && (*p)->due_us <= t->due_us; p = &(*p)->next)
		;
	t->next = *p;
	*p = t;
	t->armed = true;
	if (eng->timers == t)
		engine_timer_rearm(eng);
}

void
engine_timer_cancel(struct engine *eng, struct engine_timer *t)
{
	if (eng != NULL && t->armed)
		engine_timer_unlink(eng, t);
}

/* Run every timer that is due. A callback may schedule or cancel timers,
 * so the list is read again after each. */
static void
engine_timer_run_due(struct engine *eng)
{
	struct engine_timer *t;
	int64_t now = engine_now_us();

	while ((t = eng->timers) != NULL && t->due_us <= now && !eng->stopping) {
		engine_timer_unlink(eng, t);
		t->fn(t);
	}
	engine_timer_rearm(eng);
}

static void
engine_timer_soon(lws_sorted_usec_list_t *sul)
{
	engine_timer_run_due(lws_container_of(sul, struct engine, timer_soon));
}

/* The descriptor is readable. */
void
engine_timer_fire(struct engine *eng)
{
	uint64_t expirations;

	if (read(eng->timer_fd, &expirations, sizeof expirations) > 0)
		eng->timer_set_us = 0; /* a one-shot: it is disarmed now */
	engine_timer_run_due(eng);
}

int
engine_timer_start(struct engine *eng, struct err *e)
{
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);

	if (fd < 0)
		return err_set(e, ERR_IO, "timerfd: %s", strerror(errno));
	if (engine_adopt_own(eng, fd, &eng->timer_tag, ENGINE_FD_TIMER, &eng->timer_wsi, "timer",
	                     e) < 0)
		return -1;
	eng->timer_fd = fd;
	return 0;
}

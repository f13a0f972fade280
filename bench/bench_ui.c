/* How fast the UI's pure parts are: sanitising message text, wrapping it,
 * opening a conversation window (parsing one page) and laying out a full
 * window at several widths, as after a resize. Prints figures; never
 * passes or fails on time. */
#include <jansson.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ui/buffer.h"
#include "util/sanitize.h"
#include "ui/wrap.h"

static double
bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
bench_report(const char *what, double secs, double n, const char *unit)
{
	printf("%-40s %10.0f %s/s  (%.3f ms total)\n", what, n / secs, unit, secs * 1e3);
}

static json_t *
bench_page(size_t n, const char *text)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; i < n; i++)
		json_array_append_new(
		    arr, json_pack("{s:I,s:s,s:s,s:s,s:s,s:I,s:s,s:s}", "id", (json_int_t)(i + 1),
		                   "peer", "bob", "direction", i % 2 ? "in" : "out", "sender",
		                   i % 2 ? "bob" : "alice", "text", text, "sent_ms",
		                   (json_int_t)1700000000000, "state", "delivered", "msg_id", "m"));
	return json_pack("{s:o}", "messages", arr);
}

int
main(void)
{
	const char *text = "Hello there, this is a fairly ordinary chat message with some "
	                   "日本語 and an emoji 😀, and \x1b[31m an escape attempt\x1b[0m.";
	size_t len = strlen(text), i, n, rounds = 200000, cols;
	struct buffer_row rows[60];
	struct wrap_line *lines;
	struct buffer *b;
	double t0, secs;
	json_t *page;
	char *out;

	setlocale(LC_ALL, "C.UTF-8");
	t0 = bench_now();
	for (i = 0; i < rounds; i++) {
		out = sanitize(text, len, SANITIZE_MULTILINE);
		free(out);
	}
	secs = bench_now() - t0;
	bench_report("sanitize (message)", secs, (double)rounds, "msgs");
	bench_report("sanitize (bytes)", secs, (double)(rounds * len), "B");

	out = sanitize(text, len, SANITIZE_MULTILINE);
	t0 = bench_now();
	for (i = 0; i < rounds; i++) {
		n = wrap_text(out, strlen(out), 40, &lines);
		free(lines);
	}
	bench_report("wrap to 40 columns", bench_now() - t0, (double)rounds, "msgs");
	free(out);
	(void)n;

	page = bench_page(BUFFER_PAGE, text);
	t0 = bench_now();
	for (i = 0; i < 200; i++) {
		b = buffer_new(1, "bob");
		buffer_load(b, page, BUFFER_PAGE, true);
		buffer_view(b, 60, 21, rows);
		buffer_free(b);
	}
	bench_report("open a window (one page + first view)", bench_now() - t0, 200.0, "opens");
	json_decref(page);

	page = bench_page(BUFFER_WINDOW_MAX, text);
	b = buffer_new(1, "bob");
	buffer_load(b, page, BUFFER_WINDOW_MAX, true);
	t0 = bench_now();
	for (i = 0, cols = 40; i < 100; i++, cols = cols == 200 ? 40 : cols + 20)
		buffer_view(b, cols, 60, rows);
	bench_report("relayout of a full window (resize)", bench_now() - t0, 100.0, "layouts");
	buffer_free(b);
	json_decref(page);
	return 0;
}

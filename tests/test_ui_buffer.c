/* Tests for ui/buffer: the bounded message window (pages fetched on
 * demand, never the whole history), message states, sanitised text, and
 * the row layout a resize recomputes from data. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui/buffer.h"
#include "util/width.h"

static json_t *
msg(int64_t id, const char *dir, const char *text, const char *state)
{
	char mid[32];

	snprintf(mid, sizeof mid, "m%lld", (long long)id);
	return json_pack("{s:I,s:I,s:s,s:s,s:s,s:s,s:I,s:s,s:s}", "id", (json_int_t)id,
	                 "conversation", (json_int_t)7, "peer", "bob", "direction", dir, "sender",
	                 strcmp(dir, "in") == 0 ? "bob" : "alice", "text", text, "sent_ms",
	                 (json_int_t)1700000000000 + id, "state", state, "msg_id", mid);
}

/* A fake engine holding a conversation of total messages (ids 1..total)
 * that answers "messages" params like the real one. */
static json_t *
fake_messages(json_t *params, int64_t total, size_t *asked)
{
	json_t *arr = json_array();
	int64_t before = json_integer_value(json_object_get(params, "before_id"));
	int64_t limit = json_integer_value(json_object_get(params, "limit"));
	int64_t hi = before > 0 ? before - 1 : total, lo = hi - limit + 1, id;

	*asked = (size_t)limit;
	if (lo < 1)
		lo = 1;
	for (id = lo; id <= hi; id++)
		json_array_append_new(arr, msg(id, id % 2 ? "in" : "out", "hello there", "sent"));
	json_decref(params);
	return json_pack("{s:o}", "messages", arr);
}

static void
test_buffer_opens_huge_conversation_with_one_page(void **state)
{
	struct buffer *b = buffer_new(7, "bob");
	size_t asked;
	json_t *answer = fake_messages(buffer_params_latest(b, BUFFER_PAGE), 100000, &asked);

	assert_int_equal(buffer_load(b, answer, asked, true), BUFFER_PAGE);
	assert_int_equal(b->n, BUFFER_PAGE);
	assert_true(b->more_before);
	assert_int_equal(b->msgs[0].id, 100000 - BUFFER_PAGE + 1);
	assert_int_equal(b->msgs[b->n - 1].id, 100000);
	json_decref(answer);
	buffer_free(b);
}

static void
test_buffer_older_page_asks_before_oldest_id(void **state)
{
	struct buffer *b = buffer_new(7, "bob");
	json_t *p, *answer;
	size_t asked;

	answer = fake_messages(buffer_params_latest(b, 10), 25, &asked);
	buffer_load(b, answer, asked, true);
	json_decref(answer);
	p = buffer_params_older(b, 10);
	assert_int_equal(json_integer_value(json_object_get(p, "before_id")), 16);
	assert_int_equal(json_integer_value(json_object_get(p, "conversation")), 7);
	answer = fake_messages(p, 25, &asked);
	assert_int_equal(buffer_load(b, answer, asked, false), 10);
	json_decref(answer);
	assert_int_equal(b->msgs[0].id, 6);
	assert_true(b->more_before);
	answer = fake_messages(buffer_params_older(b, 10), 25, &asked);
	assert_int_equal(buffer_load(b, answer, asked, false), 5);
	json_decref(answer);
	assert_false(b->more_before);
	assert_int_equal(b->msgs[0].id, 1);
	assert_int_equal(b->n, 25);
	buffer_free(b);
}

static void
test_buffer_scrolling_back_stays_bounded_and_returns(void **state)
{
	struct buffer *b = buffer_new(7, "bob");
	size_t asked, pages = 0;
	enum buffer_fetch f;
	json_t *answer;

	answer = fake_messages(buffer_params_latest(b, BUFFER_PAGE), 100000, &asked);
	buffer_load(b, answer, asked, true);
	json_decref(answer);
	/* Page up until a few windows' worth has been read. */
	while (pages < 30) {
		f = buffer_scroll(b, 20, 80, 20);
		if (f == BUFFER_FETCH_OLDER) {
			answer = fake_messages(buffer_params_older(b, BUFFER_PAGE), 100000, &asked);
			buffer_load(b, answer, asked, false);
			json_decref(answer);
			pages++;
		}
		assert_true(b->n <= BUFFER_WINDOW_MAX);
	}
	assert_true(b->more_after);
	assert_true(b->msgs[0].id < 100000 - 20 * BUFFER_PAGE);
	/* All the way down again: the window asks for the newest page. */
	f = buffer_scroll(b, -1000000, 80, 20);
	assert_int_equal(f, BUFFER_FETCH_LATEST);
	answer = fake_messages(buffer_params_latest(b, BUFFER_PAGE), 100000, &asked);
	buffer_load(b, answer, asked, true);
	json_decref(answer);
	assert_false(b->more_after);
	assert_int_equal(b->msgs[b->n - 1].id, 100000);
	buffer_free(b);
}

static void
test_buffer_add_inserts_in_order_and_updates_in_place(void **state)
{
	struct buffer *b = buffer_new(7, "bob");
	json_t *m;

	m = msg(5, "in", "five", "sent");
	assert_true(buffer_add(b, m));
	json_decref(m);
	m = msg(3, "in", "three", "sent");
	buffer_add(b, m);
	json_decref(m);
	m = msg(9, "out", "nine", "sending");
	buffer_add(b, m);
	json_decref(m);
	m = msg(9, "out", "nine", "sent");
	buffer_add(b, m);
	json_decref(m);
	assert_int_equal(b->n, 3);
	assert_int_equal(b->msgs[0].id, 3);
	assert_int_equal(b->msgs[2].id, 9);
	assert_int_equal(b->msgs[2].state, BUFFER_STATE_SENT);
	assert_int_equal(buffer_last_incoming_id(b), 5);
	assert_true(buffer_holds(b, 9));
	assert_false(buffer_holds(b, 4));
	m = json_pack("{s:s}", "text", "no id");
	assert_false(buffer_add(b, m));
	json_decref(m);
	buffer_free(b);
}

static void
test_buffer_state_event_updates_tag_by_msg_id(void **state)
{
	struct buffer *b = buffer_new(7, "bob");
	json_t *m = msg(4, "out", "hi", "sending");

	buffer_add(b, m);
	json_decref(m);
	assert_string_equal(b->msgs[0].display, "hi [sending]");
	assert_true(buffer_set_state(b, 0, "m4", "delivered"));
	assert_string_equal(b->msgs[0].display, "hi [delivered]");
	assert_int_equal(b->msgs[0].tag_off, 2);
	assert_true(buffer_set_state(b, 4, NULL, "read"));
	assert_false(buffer_set_state(b, 4, NULL, "read"));
	assert_false(buffer_set_state(b, 4, NULL, "bogus"));
	assert_false(buffer_set_state(b, 99, "m99", "failed"));
	assert_string_equal(b->msgs[0].display, "hi [read]");
	buffer_free(b);
}

static void
test_buffer_sanitises_hostile_text_and_sender(void **state)
{
	struct buffer *b = buffer_new(7, "bob");
	json_t *m = msg(1, "in", "x\x1b]0;pwn\x07y", "sent");

	json_object_set_new(m, "sender", json_string("ev\x1b[2Jil"));
	buffer_add(b, m);
	json_decref(m);
	assert_null(strchr(b->msgs[0].display, '\x1b'));
	assert_null(strchr(b->msgs[0].display, '\x07'));
	assert_null(strchr(b->msgs[0].sender, '\x1b'));
	buffer_free(b);
}

static void
test_buffer_view_fits_every_width_and_ends_at_newest(void **state)
{
	struct buffer *b = buffer_new(7, "bob");
	struct buffer_row rows[60];
	size_t cols, n, i;
	json_t *m;

	for (i = 1; i <= 30; i++) {
		m = msg((int64_t)i, i % 3 ? "in" : "out",
		        "a fairly long message with 日本語 and emoji 😀 that wraps", "sent");
		buffer_add(b, m);
		json_decref(m);
	}
	for (cols = 20; cols <= 200; cols += 7) {
		n = buffer_view(b, cols, 60, rows);
		assert_true(n > 0 && n <= 60);
		for (i = 0; i < n; i++) {
			const struct buffer_msg *bm = &b->msgs[rows[i].msg];
			assert_true(rows[i].indent +
			                width_str(bm->display + rows[i].off, rows[i].len) <=
			            cols);
		}
		/* The last row is the end of the newest message. */
		assert_int_equal(rows[n - 1].msg, b->n - 1);
		assert_int_equal(rows[n - 1].off + rows[n - 1].len,
		                 strlen(b->msgs[b->n - 1].display));
	}
	buffer_free(b);
}

static void
test_buffer_view_relayouts_on_resize(void **state)
{
	struct buffer *b = buffer_new(7, "bob");
	json_t *m = msg(1, "in", "one two three four five six seven eight nine ten", "sent");

	buffer_add(b, m);
	json_decref(m);
	assert_int_equal(buffer_total_rows(b, 200), 1);
	assert_true(buffer_total_rows(b, 30) > 1);
	assert_int_equal(buffer_total_rows(b, 200), 1);
	buffer_free(b);
}

static void
test_buffer_keeps_view_when_message_arrives_while_scrolled(void **state)
{
	struct buffer *b = buffer_new(7, "bob");
	struct buffer_row before[5], after[5];
	size_t i;
	json_t *m;

	for (i = 1; i <= 20; i++) {
		m = msg((int64_t)i, "in", "line", "sent");
		buffer_add(b, m);
		json_decref(m);
	}
	buffer_view(b, 80, 5, before);
	buffer_scroll(b, 7, 80, 5);
	buffer_view(b, 80, 5, before);
	m = msg(21, "in", "new", "sent");
	buffer_add(b, m);
	json_decref(m);
	buffer_view(b, 80, 5, after);
	assert_int_equal(b->msgs[after[0].msg].id, b->msgs[before[0].msg].id);
	assert_int_equal(b->unseen, 1);
	buffer_scroll(b, -100, 80, 5);
	assert_int_equal(b->unseen, 0);
	buffer_free(b);
}

static void
test_buffer_notice_is_appended_and_sanitised(void **state)
{
	struct buffer *b = buffer_new(0, "");

	buffer_notice(b, "unknown command /x\x1b[1m");
	assert_int_equal(b->n, 1);
	assert_true(b->msgs[0].notice);
	assert_null(strchr(b->msgs[0].display, '\x1b'));
	assert_int_equal(buffer_last_incoming_id(b), 0);
	buffer_free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_buffer_opens_huge_conversation_with_one_page),
	    cmocka_unit_test(test_buffer_older_page_asks_before_oldest_id),
	    cmocka_unit_test(test_buffer_scrolling_back_stays_bounded_and_returns),
	    cmocka_unit_test(test_buffer_add_inserts_in_order_and_updates_in_place),
	    cmocka_unit_test(test_buffer_state_event_updates_tag_by_msg_id),
	    cmocka_unit_test(test_buffer_sanitises_hostile_text_and_sender),
	    cmocka_unit_test(test_buffer_view_fits_every_width_and_ends_at_newest),
	    cmocka_unit_test(test_buffer_view_relayouts_on_resize),
	    cmocka_unit_test(test_buffer_keeps_view_when_message_arrives_while_scrolled),
	    cmocka_unit_test(test_buffer_notice_is_appended_and_sanitised),
	};

	if (setlocale(LC_ALL, "C.UTF-8") == NULL)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}

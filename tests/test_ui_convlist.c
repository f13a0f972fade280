/* Tests for ui/convlist: loading the conversation and contact lists, and
 * keeping unread counts and order current from message events. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "ui/convlist.h"

static json_t *
conversations(void)
{
	return json_pack("{s:[{s:i,s:s,s:s,s:i,s:I,s:s},{s:i,s:s,s:s,s:i,s:I,s:s},{s:s}]}",
	                 "conversations", "id", 1, "peer", "bob", "title", "Bob\x1b[5m", "unread",
	                 2, "last_activity_ms", (json_int_t)2000, "last_text", "hi\nthere", "id", 2,
	                 "peer", "carol", "title", "carol", "unread", 0, "last_activity_ms",
	                 (json_int_t)1000, "last_text", "", "title", "no peer");
}

static json_t *
message(int64_t conv, const char *peer, const char *dir, int64_t when)
{
	return json_pack("{s:I,s:I,s:s,s:s,s:s,s:I}", "id", (json_int_t)100, "conversation",
	                 (json_int_t)conv, "peer", peer, "direction", dir, "text", "new text",
	                 "sent_ms", (json_int_t)when);
}

static void
test_convlist_loads_and_sanitises(void **state)
{
	struct convlist l;
	json_t *a = conversations();

	convlist_init(&l);
	assert_int_equal(convlist_load(&l, a), 2);
	assert_string_equal(l.items[0].peer, "bob");
	assert_null(strchr(l.items[0].title, '\x1b'));
	assert_null(strchr(l.items[0].last_text, '\n'));
	assert_int_equal(l.items[0].unread, 2);
	assert_int_equal(convlist_find(&l, 2, NULL), 1);
	assert_int_equal(convlist_find(&l, 0, "bob"), 0);
	assert_int_equal(convlist_find(&l, 0, "zed"), -1);
	json_decref(a);
	convlist_clear(&l);
}

static void
test_convlist_incoming_message_moves_to_top_and_counts_unread(void **state)
{
	struct convlist l;
	json_t *a = conversations(), *m;

	convlist_init(&l);
	convlist_load(&l, a);
	m = message(2, "carol", "in", 5000);
	assert_int_equal(convlist_note_message(&l, m, false), 0);
	assert_string_equal(l.items[0].peer, "carol");
	assert_int_equal(l.items[0].unread, 1);
	assert_int_equal(l.items[0].last_ms, 5000);
	assert_string_equal(l.items[0].last_text, "new text");
	/* The open conversation does not count unread; outgoing never does. */
	convlist_note_message(&l, m, true);
	assert_int_equal(l.items[0].unread, 1);
	json_decref(m);
	m = message(1, "bob", "out", 6000);
	convlist_note_message(&l, m, false);
	assert_string_equal(l.items[0].peer, "bob");
	assert_int_equal(l.items[0].unread, 2);
	convlist_mark_read(&l, 0);
	assert_int_equal(l.items[0].unread, 0);
	json_decref(m);
	json_decref(a);
	convlist_clear(&l);
}

static void
test_convlist_message_from_stranger_adds_conversation(void **state)
{
	struct convlist l;
	json_t *m = message(9, "dave", "in", 1);

	convlist_init(&l);
	assert_int_equal(convlist_note_message(&l, m, false), 0);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.items[0].id, 9);
	json_decref(m);
	m = json_pack("{s:s}", "text", "no peer");
	assert_int_equal(convlist_note_message(&l, m, false), -1);
	json_decref(m);
	convlist_clear(&l);
}

static void
test_convlist_ensure_names_later_conversation_id(void **state)
{
	struct convlist l;

	convlist_init(&l);
	assert_int_equal(convlist_ensure(&l, 0, "erin"), 0);
	assert_int_equal(convlist_ensure(&l, 12, "erin"), 0);
	assert_int_equal(l.items[0].id, 12);
	assert_int_equal(l.n, 1);
	convlist_clear(&l);
}

static void
test_convlist_contacts_give_names_and_trust(void **state)
{
	struct convlist l;
	json_t *c = json_pack("{s:[{s:s,s:b,s:b},{s:s,s:b,s:b},{s:b}]}", "contacts", "name", "bob",
	                      "verified", 1, "identity_changed", 0, "name", "mallory", "verified",
	                      0, "identity_changed", 1, "verified", 1);
	json_t *a = conversations();
	const char **names;
	size_t n;

	convlist_init(&l);
	convlist_load(&l, a);
	assert_int_equal(convlist_load_contacts(&l, c), 2);
	assert_true(convlist_contact(&l, "bob")->verified);
	assert_true(convlist_contact(&l, "mallory")->identity_changed);
	assert_null(convlist_contact(&l, "carol"));
	names = convlist_names(&l, &n);
	assert_int_equal(n, 3); /* bob, mallory, and carol from the list */
	free(names);
	/* Reloading conversations keeps the contacts. */
	convlist_load(&l, a);
	assert_non_null(convlist_contact(&l, "bob"));
	json_decref(a);
	json_decref(c);
	convlist_clear(&l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_convlist_loads_and_sanitises),
	    cmocka_unit_test(test_convlist_incoming_message_moves_to_top_and_counts_unread),
	    cmocka_unit_test(test_convlist_message_from_stranger_adds_conversation),
	    cmocka_unit_test(test_convlist_ensure_names_later_conversation_id),
	    cmocka_unit_test(test_convlist_contacts_give_names_and_trust),
	};

	if (setlocale(LC_ALL, "C.UTF-8") == NULL)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}

#!/bin/sh
# /add asks the relay before adding (tmux, a real relay and real
# profiles): an existing account becomes a contact and gets a window; a
# name the relay does not know is said to be unknown and gets no window;
# with the relay stopped (SIGSTOP: it answers nothing) /add says it cannot
# reach the relay within a few seconds and the interface goes on.
#
# Every wait polls the screen with a deadline.
set -u

UI_TEST=ui_add
. "${top_srcdir:-.}/tests/ui_lib.sh"

ui_alice_and_bob

keys "/add nobody" Enter
wait_for shows "There is no account nobody on the relay:" ||
	fail "/add of an unknown name did not say so"
shows "nothing was added." || fail "/add nobody does not say nothing was added"
# The window list is the left column.
screen | cut -c1-22 | grep -q nobody && fail "/add nobody opened a window"
# contacts --json prints one contact a line.
[ -z "$(as alice contacts --json)" ] ||
	fail "/add nobody added a contact"

keys "/add bob" Enter
wait_for shows "bob is now a contact." || fail "/add bob did not add bob"
wait_for row_is 1 '^ bob' || fail "/add bob did not open the conversation"
[ "$(as alice contacts --json | jq -r '.name')" = bob ] ||
	fail "bob is not among alice's contacts"
keys "hello bob" Enter
wait_for shows "alice: hello bob [delivered]" || fail "the first message to bob was not delivered"

# ---- a relay that answers nothing ----

kill -STOP "$RELAY_PID"
keys "/add carol" Enter
wait_for shows "/add carol: cannot reach the" ||
	fail "/add with the relay stopped did not say it cannot reach the relay"
keys -l "still typing"
wait_for row_is 24 '^> still typing$' || fail "the input line does not take keys after /add"
keys C-u
kill -CONT "$RELAY_PID"

ui_quit
ui_stop_all
exit 0

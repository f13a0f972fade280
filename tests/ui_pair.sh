#!/bin/sh
# Two interfaces for two profiles, alice and bob, each in its own tmux
# window, each with its own engine, against a real relay: messages go
# both ways, each side sees the other's message, and the sender sees
# "delivered" while the other has not opened the conversation, then
# "read" once the other reads it.
#
# Every wait polls the screen or a command with a deadline.
set -u

UI_TEST=ui_pair
. "${top_srcdir:-.}/tests/ui_lib.sh"

relay_start
register alice
register bob
ui_start "$TMP/alice"
ui_window bob "$TMP/bob"
A=ui:0
B=ui:bob
UI_TARGET=$A
wait_for shows "[alice @ $URL]  connected" || fail "alice's interface is not connected"
UI_TARGET=$B
wait_for shows "[bob @ $URL]  connected" || fail "bob's interface is not connected"

# bob writes; alice has not opened the conversation: delivered, unread.
keys "/msg alice" Enter
wait_for row_is 1 '^ alice' || fail "bob: /msg alice"
keys "hi alice, from bob's screen" Enter
wait_for shows "bob: hi alice, from bob's screen [delivered]" || fail "bob's message not delivered"
UI_TARGET=$A
wait_for row_is 3 '^1 bob +1 ' || fail "alice's list does not show bob's unread message"
UI_TARGET=$B
shows "from bob's screen [read]" && fail "read before alice opened it"

# alice opens it: she sees it, bob sees it read.
UI_TARGET=$A
keys "/msg bob" Enter
wait_for shows "bob: hi alice, from bob's screen" || fail "alice does not see bob's message"
UI_TARGET=$B
wait_for shows "bob: hi alice, from bob's screen [read]" || fail "bob does not see it read"

# alice answers; bob has the conversation open: he sees it, she sees read.
UI_TARGET=$A
keys "hello bob, from alice's screen" Enter
UI_TARGET=$B
wait_for shows "alice: hello bob, from alice's screen" || fail "bob does not see alice's answer"
UI_TARGET=$A
wait_for shows "alice: hello bob, from alice's screen [read]" || fail "alice does not see it read"

ui_window_quit bob
UI_TARGET=$A
ui_quit
ui_stop_all
exit 0

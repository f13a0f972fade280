#!/bin/sh
# A second interface attached to the same engine (same --home, a second
# tmux window), tmux-style: both show the same incoming message, and a
# message sent from either one appears in the other, reaching bob once.
# The first one leaving does not disturb the second.
#
# Every wait polls the screen or a command with a deadline.
set -u

UI_TEST=ui_shared
. "${top_srcdir:-.}/tests/ui_lib.sh"

bob_got() {
	as bob history --json --with alice | jq -r 'select(.direction == "in") | .text'
}

relay_start
register alice
register bob
as bob daemon >/dev/null 2>>"$TMP/bob.err" || fail "daemon for bob"
ui_start "$TMP/alice"
A=ui:0
B=ui:second
UI_TARGET=$A
wait_for shows "[alice @ $URL]  connected" || fail "the first interface is not connected"
ENGINE=$(cat "$TMP/alice/engine.pid")
ui_window second "$TMP/alice"
UI_TARGET=$B
wait_for shows "[alice @ $URL]  connected" || fail "the second interface is not connected"
[ "$(cat "$TMP/alice/engine.pid")" = "$ENGINE" ] || fail "the second interface started another engine"
for w in $A $B; do
	UI_TARGET=$w
	keys "/msg bob" Enter
	wait_for row_is 1 '^ bob' || fail "$w: /msg bob"
done

# An incoming message shows in both.
as bob send alice "bob to both of you" >/dev/null 2>>"$TMP/bob.err" || fail "bob's message"
for w in $A $B; do
	UI_TARGET=$w
	wait_for shows "bob: bob to both of you" || fail "$w does not show bob's message"
done

# Sent from the second, seen in the first; and the other way round.
UI_TARGET=$B
keys "from the second window" Enter
wait_for shows "alice: from the second window [delivered]" || fail "the second did not send"
UI_TARGET=$A
wait_for shows "alice: from the second window [delivered]" || fail "the first does not show it"
keys "from the first window" Enter
UI_TARGET=$B
wait_for shows "alice: from the first window [delivered]" || fail "the second does not show it"
[ "$(bob_got)" = "from the second window
from the first window" ] || fail "bob received: $(bob_got)"

# The first leaves; the engine and the second stay.
UI_TARGET=$A
ui_quit_window0() {
	keys "/quit" Enter
	wait_for test -s "$TMP/exit" || fail "/quit did not leave the first"
	[ "$(cat "$TMP/exit")" = 0 ] || fail "the first: exit status $(cat "$TMP/exit")"
	[ -s "$TMP/ui.err" ] && fail "the first wrote to stderr"
	return 0
}
ui_quit_window0
pid_alive "$ENGINE" || fail "the engine left with a frontend still attached"
as bob send alice "still there?" >/dev/null 2>>"$TMP/bob.err" || fail "bob's second message"
UI_TARGET=$B
wait_for shows "bob: still there?" || fail "the second does not get messages after the first left"
ui_window_quit second
wait_for test ! -S "$TMP/alice/engine.sock" || fail "the engine stayed after its last frontend"
ui_stop_all
exit 0

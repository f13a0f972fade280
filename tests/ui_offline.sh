#!/bin/sh
# A slow or absent relay never freezes the interface (tmux, a real relay
# and real profiles): with the relay stopped (SIGSTOP: it accepts nothing
# and answers nothing) and then killed, a message sent from the interface
# shows "sending" at once and the input line keeps taking keys; once the
# relay is back the messages go out and reach "delivered".
#
# The engine answers "send" only after the relay took the message or
# after a few seconds (MSG_SEND_WAIT_MS); the interface used to wait for
# that answer with the screen frozen. "At once" is checked with a
# deadline (8 s) far above a keystroke's echo and well under the 15 s
# that three sends in a row froze the screen for.
#
# Every wait polls the screen or a command with a deadline.
set -u

UI_TEST=ui_offline
. "${top_srcdir:-.}/tests/ui_lib.sh"

# soon CMD...: like wait_for, but true only if CMD succeeds within 8 s.
# A frozen interface needs 5 s per message sent to a stopped relay, so
# three sends in a row would take 15 s.
soon() {
	wait_ticks 160 "$@"
}

ui_alice_and_bob
keys "/msg bob" Enter
wait_for row_is 1 '^ bob' || fail "/msg bob did not open the conversation"
keys "before the stop" Enter
wait_for shows "alice: before the stop [delivered]" || fail "the first message was not delivered"

# ---- a relay that answers nothing ----

kill -STOP "$RELAY_PID"
keys "stopped one" Enter "//stopped two" Enter "stopped three" Enter
keys -l "still typing"
soon row_is 24 '^> still typing$' || fail "the input line froze while the relay was stopped"
for m in "stopped one" "/stopped two" "stopped three"; do
	soon shows "alice: $m [sending]" || fail "\"$m\" does not show as sending at once"
done
keys C-u
# Still stopped: nothing can have gone out.
shows "stopped one [delivered]" && fail "delivered through a stopped relay"
kill -CONT "$RELAY_PID"
for m in "stopped one" "/stopped two" "stopped three"; do
	wait_for shows "alice: $m [delivered]" || fail "\"$m\" not delivered after the relay resumed"
done

# ---- no relay at all ----

kill -KILL "$RELAY_PID"
wait "$RELAY_PID" 2>/dev/null
wait_for shows "[alice @ $URL]  offline" || wait_for shows "[alice @ $URL]  connecting" ||
	fail "the status bar does not say the relay is gone"
keys "gone one" Enter "gone two" Enter "gone three" Enter
keys -l "typing on"
soon row_is 24 '^> typing on$' || fail "the input line froze without a relay"
for m in "gone one" "gone two" "gone three"; do
	soon shows "alice: $m [sending]" || fail "\"$m\" does not show as sending at once"
done
keys C-u
relay_start "$PORT"
wait_for shows "[alice @ $URL]  connected" || fail "not connected again"
for m in "gone one" "gone two" "gone three"; do
	wait_for shows "alice: $m [delivered]" || fail "\"$m\" not delivered once the relay came back"
done
# bob got each message once.
got=$(as bob history --json --with alice | jq -r 'select(.direction == "in") | .text' | sort)
[ "$got" = "/stopped two
before the stop
gone one
gone three
gone two
stopped one
stopped three" ] || fail "bob received: $got"

ui_quit
ui_stop_all
exit 0

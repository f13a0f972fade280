#!/bin/sh
# An identity change seen in the interface (tmux, a real relay, real
# profiles): alice has verified bob's key; bob "reinstalls" (his account
# is reset on the relay, as tests/integ/integ_identity_change.sh does, and
# he registers the same name with a new identity) while alice's interface
# is open. Alice's conversation with bob and the status bar show the
# change with the hint "/trust bob"; sending to him is refused with a
# one-line hint, the text stays in the input line, and nothing reaches
# bob; after "/trust bob" sending works again.
#
# Every wait polls the screen or a command with a deadline.
set -u

UI_TEST=ui_identity
UI_TOOLS="tmux jq sqlite3"
. "${top_srcdir:-.}/tests/ui_lib.sh"

# Incoming texts in WHO's history from PEER, one a line.
incoming() {
	as "$1" history --json --with "$2" | jq -r 'select(.direction == "in") | .text'
}
has_incoming() {
	[ "$(incoming "$1" "$2" | wc -l)" -ge "$3" ]
}

ui_alice_and_bob
keys "/msg bob" Enter
wait_for row_is 1 '^ bob' || fail "/msg bob did not open the conversation"
keys "hello old bob" Enter
wait_for shows "alice: hello old bob [delivered]" || fail "the first message was not delivered"
digits=$(as alice safety bob --json | jq -r .digits)
[ ${#digits} = 60 ] || fail "no safety number: $digits"
keys "/trust --verified $digits" Enter
wait_for row_is 1 '^ bob  verified' || fail "bob is not shown verified"

# ---- bob reinstalls: same name, new identity ----

kill -TERM "$(cat "$TMP/bob/engine.pid")"
wait_for test ! -S "$TMP/bob/engine.sock" || fail "bob's engine did not stop"
kill -TERM "$RELAY_PID"
wait "$RELAY_PID" 2>/dev/null
sqlite3 -batch "$TMP/relay/relay.db" \
	"PRAGMA foreign_keys = ON; DELETE FROM accounts WHERE name = 'bob';" ||
	fail "resetting bob's account on the relay"
relay_start "$PORT"
wait_for shows "[alice @ $URL]  connected" || fail "alice did not connect again"
mv "$TMP/bob" "$TMP/oldbob"
register bob
as bob daemon >/dev/null 2>>"$TMP/bob.err" || fail "daemon for the new bob"
as bob send alice "new bob here" >/dev/null 2>>"$TMP/bob.err" || fail "the new bob's message"

wait_for shows "bob's safety number changed" || fail "no notice of the change in the conversation"
wait_for shows "/trust bob" || fail "no /trust hint"
wait_for row_is 23 'bob.*/trust bob' || fail "the status bar does not show the change"

# Sending is refused, with a one-line hint; the text stays to send later.
keys "are you really bob" Enter
wait_for shows "Not sent: bob's key changed; /trust bob" ||
	fail "a send to the changed key was not refused with a one-line hint"
wait_for row_is 24 '^> are you really bob$' || fail "the refused text did not go back to the input"
shows "alice: are you really bob" && fail "the refused message shows as sent"
[ "$(incoming bob alice)" = "" ] || fail "the new bob received: $(incoming bob alice)"
[ "$(sqlite3 -batch "$TMP/relay/relay.db" "SELECT count(*) FROM queue WHERE account =
	(SELECT id FROM accounts WHERE name = 'bob');")" = 0 ] || fail "something was queued for bob"

keys C-u "/trust bob" Enter
wait_for shows "bob's current key is accepted." || fail "/trust bob"
wait_for row_is 23 '^ \[alice @ [^]]*\]  connected( +unverified)? *$' ||
	fail "the status bar still shows the change"
keys "hello new bob" Enter
wait_for shows "alice: hello new bob [delivered]" || fail "not delivered after /trust"
wait_for has_incoming bob alice 1 || fail "the new bob did not get the message"
[ "$(incoming bob alice)" = "hello new bob" ] || fail "the new bob received: $(incoming bob alice)"

ui_quit
ui_stop_all
exit 0

#!/bin/sh
# The interface's messaging paths driven through tmux against a real
# sotto-relay on a free loopback port and real profiles: alice in the
# interface, bob and carol driven with `sotto --home DIR send/rpc`.
# Sending with the state going to delivered, then read when bob reads; a
# message in a conversation that is not open (unread count in the list
# equal to the messages really unread, the engine agreeing, the bell);
# hostile escape sequences and a bidi override shown inert; paging back
# through a few thousand messages and down again; tab completion; /safety
# and /trust; a resize to 200x60 and back in the middle of it all.
#
# Every wait polls the screen or a command with a deadline.
#
# It pins two fixed bugs: the list counted messages twice when events
# replayed on attaching landed on top of the reloaded counts ("4" for 2
# unread), and messages that arrived in the open window were never marked
# read for the engine (no read receipts, wrong counts after any reload).
set -u

UI_TEST=ui_messaging
. "${top_srcdir:-.}/tests/ui_lib.sh"

# ---- the relay and the profiles ----

"$RELAY" --listen 127.0.0.1:0 --data "$TMP/relay" >"$TMP/relay.out" 2>"$TMP/relay.err" &
UI_PIDS=$!
relay_up() {
	grep -qs '^listening on ' "$TMP/relay.out"
}
wait_for relay_up || fail "the relay did not start"
PORT=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$TMP/relay.out")
[ -n "$PORT" ] || fail "unexpected relay banner: $(cat "$TMP/relay.out")"
URL=ws://127.0.0.1:$PORT

as() {
	who=$1
	shift
	"$SOTTO" --home "$TMP/$who" "$@"
}

# Profiles with key files, registered; bob's and carol's engines kept
# running, alice's leaves with its last frontend (the interface starts it).
for who in alice bob carol; do
	mkdir -m 700 "$TMP/$who"
	as $who register --keyfile --relay "$URL" $who >/dev/null 2>"$TMP/$who.err" ||
		fail "register $who"
	[ $who = alice ] || as $who daemon >/dev/null 2>>"$TMP/$who.err" || fail "daemon for $who"
done

# rpc WHO REQUEST-LINES: one `sotto rpc` session; its answers on stdout.
rpc() {
	printf '%s\n' "$2" | as "$1" rpc 2>>"$TMP/$1.err"
}

# The engine's unread count for alice's conversation with PEER.
engine_unread() {
	rpc alice '{"jsonrpc":"2.0","id":1,"method":"conversations"}' |
		jq -r --arg p "$1" '.result.conversations[] | select(.peer == $p) | .unread'
}

# Messages from PEER in alice's history not yet read... as alice's engine
# counts them, and as they are: the incoming ones after the last read.
engine_unread_is() {
	[ "$(engine_unread "$1")" = "$2" ]
}

# listed NAME [UNREAD]: NAME is in the conversation list, with UNREAD
# unread messages shown (none shown when UNREAD is left out).
listed() {
	screen | grep -E -q "^[0-9]+ $1 +${2:+$2 }[0-9]{2}[: ][0-9A-Za-z]{2,3}│"
}

screen_changed() {
	[ "$(screen)" != "$1" ]
}

# bell_rang: the window's bell flag, then cleared by selecting another
# window and this one again.
bell_rang() {
	flag=$(tmux -S "$SOCK" display -p -t ui:0 '#{window_bell_flag}')
	tmux -S "$SOCK" select-window -t ui:9
	tmux -S "$SOCK" select-window -t ui:0
	[ "$flag" = 1 ]
}

# ---- messages waiting on the relay when the interface starts ----

alice_offline() {
	[ ! -S "$TMP/alice/engine.sock" ]
}
wait_for alice_offline || fail "alice's engine did not leave after registering"
as carol send alice "carol one" >/dev/null || fail "carol's first message"
as carol send alice "carol two" >/dev/null || fail "carol's second message"
ui_start "$TMP/alice"
tmux -S "$SOCK" new-window -d -t ui:9 'sleep 600'
wait_for shows "[alice @ $URL]  connected" || fail "the interface is not connected"
# The title names the account, not the profile's name ("default" with --home).
wait_for row_is 1 '^ sotto: alice ' || fail "the title does not name the account"
wait_for engine_unread_is carol 2 || fail "the engine counts $(engine_unread carol) unread, not 2"
# The list agrees with the engine (the lead once saw 4 here for 2).
wait_for listed carol 2 ||
	fail "the list shows '$(screen | grep ' carol ' | sed 's/│.*//')' for 2 unread from carol"

# ---- sending: sent, delivered, read ----

keys "/msg bob" Enter
wait_for row_is 1 '^ bob' || fail "/msg bob did not open the conversation"
keys "hello bob" Enter
wait_for shows "alice: hello bob [delivered]" || fail "the message was not delivered"
# bob reads it (a frontend of his calls mark_read): alice sees "read".
bob_last=$(as bob history --json --with alice | tail -n 1)
req=$(echo "$bob_last" | jq -c '{jsonrpc: "2.0", id: 1, method: "mark_read",
	params: {conversation: .conversation, up_to_id: .id}}')
rpc bob "$req" | grep -q '"result"' || fail "mark_read for bob"
wait_for shows "alice: hello bob [read]" || fail "bob's read receipt not shown"

# An answer in the open conversation is not unread.
as bob send alice "hi alice" >/dev/null || fail "bob's answer"
wait_for shows "bob: hi alice" || fail "bob's answer not shown"
wait_for engine_unread_is bob 0 ||
	fail "the engine counts $(engine_unread bob) unread for the open conversation"

# ---- a conversation that is not open ----

bell_rang >/dev/null
as carol send alice "carol three" >/dev/null || fail "carol's third message"
wait_for row_is 3 '^1 carol +3 [0-9]{2}[: ][0-9A-Za-z]{2,3}│' ||
	fail "carol not first with 3 unread"
wait_for shows " 3 unread" || fail "no unread count in the status bar"
wait_for engine_unread_is carol 3 ||
	fail "the engine counts $(engine_unread carol) unread from carol, not 3"
bell_rang || fail "no bell for a message in a conversation that is not open"
# Still 3 after more events: nothing is counted twice.
as bob send alice "bob again" >/dev/null || fail "bob's third message"
wait_for shows "bob: bob again" || fail "bob's third message not shown"
listed carol 3 || fail "carol's unread count changed: $(screen | grep ' carol ')"
bell_rang && fail "a bell for a message in the open conversation"
# Opening it reads it, for the interface and for the engine.
keys "/msg carol" Enter
wait_for shows "carol: carol three" || fail "carol's messages not shown"
wait_for listed carol || fail "carol still unread: $(screen | grep ' carol ')"
wait_for engine_unread_is carol 0 || fail "carol's messages unread for the engine"
shows " unread" && fail "an unread count is left in the status bar"

# ---- hostile text ----

keys "/msg bob" Enter
wait_for row_is 1 '^ bob' || fail "back to bob"
as bob send alice "$(printf 'x\033]0;pwned\007\033[31mred\033[0m \342\200\256evil\033[2J')" \
	>/dev/null || fail "bob's hostile message"
wait_for shows 'bob: x␛]0;pwned␇␛[31mred␛[0m �evil␛[2J' || fail "escape sequences not shown inert"
shows "alice: hello bob [read]" || fail "the screen was cleared by a peer"
[ "$(tmux -S "$SOCK" display -p -t ui '#{pane_title}')" != pwned ] || fail "a peer set the title"
screen | grep -q "$(printf '\342\200\256')" && fail "a bidi override reached the terminal"
tmux -S "$SOCK" capture-pane -p -e -t ui | grep -F 'red' | grep -q "$(printf '\033\\[31m')" &&
	fail "a peer's colour reached the terminal"

# ---- safety numbers and trust ----

keys "/safety" Enter
wait_for shows "Safety number with bob (not verified)" || fail "/safety"
digits=$(as alice safety bob --json | jq -r .digits)
[ ${#digits} = 60 ] || fail "no safety number from the engine: $digits"
keys "/trust --verified $digits" Enter
wait_for shows "bob's current key is accepted and verified." || fail "/trust --verified"
wait_for row_is 1 '^ bob  verified' || fail "title not verified after /trust"
[ "$(as alice contacts --json | jq -r 'select(.name == "bob") | .verified')" = true ] ||
	fail "bob not verified for the engine: $(as alice contacts --json)"

# ---- tab completion ----

keys "/sa" Tab
wait_for row_is 24 '^> /safety ?$' || fail "command completion"
keys C-u "/msg ca" Tab
wait_for row_is 24 '^> /msg carol ?$' || fail "name completion"
keys C-u
wait_for row_is 24 '^> *$' || fail "Ctrl-U"

# ---- a long conversation: paging back and down again ----

N=2000
seq 1 $N | jq -R -c '{jsonrpc: "2.0", id: tonumber, method: "send",
	params: {to: "alice", text: ("bob message " + .)}}' >"$TMP/bulk.req"
as bob rpc <"$TMP/bulk.req" >"$TMP/bulk.out" 2>>"$TMP/bob.err" || fail "bob's rpc session"
[ "$(jq -s '[.[] | select(.result.message.state)] | length' "$TMP/bulk.out")" = $N ] ||
	fail "not all of bob's $N messages were sent: $(jq -c 'select(.error)' "$TMP/bulk.out" | head -n 2)"
# Receiving them, with read receipts going back for what the open window
# shows, may take longer than one ordinary wait.
wait_for shows "bob: bob message $N" || wait_for shows "bob: bob message $N" ||
	wait_for shows "bob: bob message $N" ||
	fail "the newest of bob's messages not shown after a minute"
older_shown() {
	screen | grep -E -q 'bob: bob message 1[0-7][0-9]{2}( |$)'
}
n=0
until older_shown; do
	n=$((n + 1))
	[ $n -le 40 ] || fail "40 pages up and no message older than bob message 1800"
	before=$(screen)
	keys PPage
	wait_for screen_changed "$before" || fail "Page Up did nothing"
done
shows "-- more below --" || fail "no scrolled indicator"

# A resize in the middle of the conversation lays it out again.
tmux -S "$SOCK" resize-window -t ui -x 200 -y 60
wait_for rows_are 60 || fail "no resize to 200x60"
wait_for row_is 59 '^ \[alice' || fail "status bar not on row 59 after the resize"
wait_for row_is 60 '^>( |$)' || fail "input not on row 60 after the resize"
wait_for older_shown || fail "the scrolled-back messages went away on resizing"
tmux -S "$SOCK" resize-window -t ui -x 80 -y 24
wait_for rows_are 24 || fail "no resize back to 80x24"
wait_for row_is 23 '^ \[alice' || fail "status bar not back on row 23"

n=0
until shows "bob: bob message $N" && ! shows "-- more below --"; do
	n=$((n + 1))
	[ $n -le 80 ] || fail "80 pages down and not back at the newest message"
	before=$(screen)
	keys NPage
	wait_for screen_changed "$before" || fail "Page Down did nothing"
done
# Everything bob sent was read in the open window.
wait_for engine_unread_is bob 0 || fail "$(engine_unread bob) of bob's messages left unread"
listed bob || fail "bob listed with unread messages: $(screen | grep ' bob ')"

ui_quit
# The engines stop cleanly; under the sanitizers they must have nothing
# to report.
ENGINES=
for who in alice bob carol; do
	ENGINES="$ENGINES $(cat "$TMP/$who/engine.pid" 2>/dev/null)"
done
kill -TERM $ENGINES $UI_PIDS 2>/dev/null
all_gone() {
	for p in $ENGINES $UI_PIDS; do
		pid_alive "$p" && return 1
	done
	return 0
}
wait_for all_gone || fail "the engines or the relay did not stop"
if grep -l -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$TMP"/*/engine.log \
	"$TMP"/relay.err 2>/dev/null; then
	fail "a sanitizer reported a problem"
fi
exit 0

#!/bin/sh
# /search in the interface (tmux, a real relay, real profiles): in the
# open conversation it finds a message far from the newest (130 from
# either end of bob's 260; a window loads 100) and Ctrl-G shows that
# message in its conversation; from the status window it searches every
# conversation, and Ctrl-G goes through the results newest first,
# opening each one's conversation with the message on screen.
#
# Every wait polls the screen or a command with a deadline.
set -u

UI_TEST=ui_search
. "${top_srcdir:-.}/tests/ui_lib.sh"

relay_start
for who in alice bob carol; do
	register $who
	as $who daemon >/dev/null 2>>"$TMP/$who.err" || fail "daemon for $who"
done

# bob: "bob message 1".."bob message 260", number 130 being the old needle
# (in the middle: the test does not depend on the order they arrive in).
N=260
seq 1 $N | jq -R -c '{jsonrpc: "2.0", id: tonumber, method: "send",
	params: {to: "alice", text: (if . == "130" then "the old needle, long ago"
	                              else "bob message " + . end)}}' >"$TMP/bulk.req"
as bob rpc <"$TMP/bulk.req" >"$TMP/bulk.out" 2>>"$TMP/bob.err" || fail "bob's rpc session"
as carol send alice "a fresh needle from carol" >/dev/null 2>>"$TMP/carol.err" ||
	fail "carol's message"
screen_changed() {
	[ "$(screen)" != "$1" ]
}
received() {
	[ "$(as alice history --json --with "$1" --limit 1000 | grep -c '"direction":"in"')" = "$2" ]
}
wait_for received bob $N || wait_for received bob $N || fail "alice did not get bob's $N messages"
wait_for received carol 1 || fail "alice did not get carol's message"
# The newest message of bob's in alice's history, whatever its number.
NEWEST=$(as alice history --json --with bob --limit 1 | jq -r .text)

ui_start "$TMP/alice"
wait_for shows "[alice @ $URL]  connected" || fail "the interface is not connected"

# ---- in the open conversation, far back ----

keys "/msg bob" Enter
wait_for shows "bob: $NEWEST" || fail "bob's conversation did not open"
shows "bob: the old needle" && fail "the needle is not far back: the window holds it"
keys "/search old needle" Enter
wait_for shows 'Search for "old needle": 1 message' || fail "the search did not find the message"
wait_for shows "[1] " || fail "the result is not listed"
shows "fresh needle" && fail "a search in bob's conversation found carol's message"
keys C-g
wait_for shows "bob: the old needle, long ago" || fail "Ctrl-G did not show the old message"
wait_for row_is 1 '^ bob' || fail "not in bob's conversation after the jump"
shows "bob: bob message 129" || fail "the messages around the found one are not shown"
shows "bob: bob message 131" || fail "the messages around the found one are not shown"
shows "-- more below" || fail "no sign that newer messages follow"

# ---- everywhere, from the status window ----

keys M-0
wait_for row_is 1 '^ sotto' || fail "Alt-0 did not show the status window"
keys "/search needle" Enter
wait_for shows 'Search for "needle": 2 messages' || fail "the search everywhere did not find both"
keys C-g
wait_for row_is 1 '^ carol' || fail "Ctrl-G did not open carol's conversation"
wait_for shows "carol: a fresh needle from carol" || fail "carol's message not shown"
keys C-g
wait_for row_is 1 '^ bob' || fail "the second Ctrl-G did not open bob's conversation"
wait_for shows "bob: the old needle, long ago" || fail "bob's old message not shown"

# Back down to the newest: the window fetches them again.
n=0
until shows "bob: $NEWEST" && ! shows "-- more below"; do
	n=$((n + 1))
	[ $n -le 40 ] || fail "40 pages down and not back at the newest message"
	before=$(screen)
	keys NPage
	wait_for screen_changed "$before" || fail "Page Down did nothing"
done

ui_quit
ui_stop_all
exit 0

#!/bin/sh
# Ctrl-X Ctrl-E in the interface (tmux, a real relay, real profiles): the
# compose buffer goes to $EDITOR (here a script that keeps what it was
# given and adds two lines, one of them not ASCII), the edited text comes
# back into the input line as several lines, and Enter sends it as one
# message, which bob's history holds exactly.
#
# Every wait polls the screen or a command with a deadline.
set -u

UI_TEST=ui_compose
. "${top_srcdir:-.}/tests/ui_lib.sh"

# The editor: records what it was given, then appends two lines.
cat >"$TMP/editor" <<'EOS'
#!/bin/sh
cp "$1" "${0%/*}/given"
printf '\nsecond line\nthird line: ünïcode 日本語\n' >>"$1"
EOS
chmod 755 "$TMP/editor"

bob_got() {
	as bob history --json --with alice | jq -r 'select(.direction == "in") | .text'
}

relay_start
register alice
register bob
as bob daemon >/dev/null 2>>"$TMP/bob.err" || fail "daemon for bob"
ui_start "$TMP/alice" VISUAL= "EDITOR='$TMP/editor'"
wait_for shows "[alice @ $URL]  connected" || fail "the interface is not connected"
keys "/msg bob" Enter
wait_for row_is 1 '^ bob' || fail "/msg bob did not open the conversation"

keys -l "first line"
wait_for row_is 24 '^> first line$' || fail "typed text not shown"
keys C-x C-e
wait_for test -f "$TMP/given" || fail "the editor did not run"
[ "$(cat "$TMP/given")" = "first line" ] || fail "the editor was given: $(cat "$TMP/given")"
# Three lines of input now: the last three rows of the screen.
wait_for row_is 22 '^> first line$' || fail "the edited text is not in the input line"
row_is 23 '^  second line$' || fail "the second line is not in the input"
row_is 24 '^  third line: ünïcode 日本語$' || fail "the third line is not in the input"
row_is 21 '^ \[alice' || fail "the status bar did not move up for the taller input"
keys Enter
wait_for row_is 24 '^> *$' || fail "the input line was not cleared by Enter"
wait_for shows "third line: ünïcode 日本語 [delivered]" || fail "the message was not delivered"
[ "$(bob_got)" = "first line
second line
third line: ünïcode 日本語" ] || fail "bob received: $(bob_got)"

ui_quit
ui_stop_all
exit 0

#!/bin/sh
# Wide characters in a received message (tmux, a real relay, real
# profiles): CJK text and emoji, two columns each, long enough to wrap in
# the message pane, and a combining mark. Every row keeps the conversation
# list's separator in column 24 and fits in 80 columns, the status bar
# and the input line stay on their rows; at 100 columns the same holds.
#
# Every wait polls the screen or a command with a deadline.
set -u

UI_TEST=ui_wide
. "${top_srcdir:-.}/tests/ui_lib.sh"

# The display width of each row (wc -L counts columns, not bytes).
# aligned WIDTH: every row but the title, status bar and input line has
# the separator after exactly 23 columns, and no row is wider than WIDTH.
aligned() {
	screen >"$TMP/screen"
	rows=$(wc -l <"$TMP/screen")
	n=0
	while IFS= read -r line; do
		n=$((n + 1))
		[ "$(printf '%s\n' "$line" | wc -L)" -le "$1" ] || return 1
		[ $n -eq 1 ] || [ $n -ge $((rows - 1)) ] && continue
		case $line in *│*) ;; *) return 1 ;; esac
		[ "$(printf '%s\n' "${line%%│*}" | wc -L)" = 23 ] || return 1
	done <"$TMP/screen"
	return 0
}

ui_alice_and_bob
keys "/msg bob" Enter
wait_for row_is 1 '^ bob' || fail "/msg bob did not open the conversation"

CJK="日本語のテキストは二列の幅で表示されます。折り返しても列がずれないこと"
EMOJI="😀 🎉 👍 絵文字 cafe$(printf 'e\314\201') end"
as bob send alice "$CJK" >/dev/null 2>>"$TMP/bob.err" || fail "bob's CJK message"
as bob send alice "$EMOJI" >/dev/null 2>>"$TMP/bob.err" || fail "bob's emoji message"
wait_for shows "end" || fail "bob's messages not shown"
shows "日本語のテキスト" || fail "the CJK text is not shown"
shows "😀 🎉 👍 絵文字" || fail "the emoji are not shown"
aligned 80 || fail "a row is misaligned or too wide at 80 columns"
row_is 23 '^ \[alice @ ' || fail "the status bar is not on row 23"
row_is 24 '^>( |$)' || fail "the input line is not on row 24"
# The CJK message wrapped (it is wider than the pane), every character
# shown.
screen | sed -n 's/^[^│]*│//p' | tr -d ' \n' | grep -q -F "$CJK" ||
	fail "part of the wrapped CJK message is missing"

tmux -S "$SOCK" resize-window -t ui -x 101 -y 24
wait_for row_is 1 '^ bob' || fail "no redraw after the resize"
wait_for aligned 101 || fail "a row is misaligned or too wide at 101 columns"
row_is 23 '^ \[alice @ ' || fail "the status bar is not on row 23 at 101 columns"

ui_quit
ui_stop_all
exit 0

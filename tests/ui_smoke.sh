#!/bin/sh
# The full-screen interface driven through tmux against a real engine
# (started by the UI itself, tmux-style) for a fresh profile: the frame at
# 80x24, a resize to 200x60 and back, /help listing the slash commands of
# the table, an unknown /command refused with nothing sent, and /quit
# leaving (and the engine following, as the last frontend left); and
# attaching again to a new engine when the engine goes away.
#
# Messaging scenarios, with a real sotto-relay and real profiles, are in
# the other tests/ui_*.sh: ui_messaging (sending, unread counts, hostile
# text, paging, trust), ui_unlock (the passphrase prompt), ui_identity (a
# changed safety number), ui_search, ui_pair (two profiles), ui_shared
# (two interfaces on one engine), ui_compose (Ctrl-X Ctrl-E), ui_wide
# (wide characters) and ui_offline (a stopped or absent relay).
#
# Every wait polls the screen with a deadline; nothing relies on timing.
set -u

UI=${top_builddir:-.}/sotto
[ -x "$UI" ] || { echo "ui_smoke: no binary at $UI" >&2; exit 99; }
command -v tmux >/dev/null || { echo "ui_smoke: tmux is needed" >&2; exit 99; }
TMP=$(mktemp -d /tmp/sotto-ui-smoke-XXXXXX) || exit 99
HOME_DIR=$TMP/home
. "${top_srcdir:-.}/tests/ui_lib.sh"
trap ui_cleanup EXIT
trap 'exit 1' INT TERM

ui_start "$HOME_DIR" NO_COLOR=1
# The frame at 80x24: title, list, welcome notice, status bar, input.
wait_for shows "Welcome to sotto" || fail "no welcome notice"
rows_are 24 || fail "not 24 rows"
row_is 1 '^ sotto: default' || fail "no title bar"
row_is 2 '^0 \(status\) +│' || fail "no conversation list"
row_is 23 '^ \[default\]' || fail "no status bar"
row_is 24 '^>( |$)' || fail "no input line"
[ -S "$HOME_DIR/engine.sock" ] || fail "the UI did not start an engine"

# Typing only redraws the input line; the text shows there.
keys -l "hello wörld 日本"
wait_for row_is 24 '^> hello wörld 日本' || fail "typed text not shown"
keys C-u
wait_for row_is 24 '^> *$' || fail "Ctrl-U did not clear the line"

# Bigger, then back: everything is laid out again from data.
tmux -S "$SOCK" resize-window -t ui -x 200 -y 60
wait_for rows_are 60 || fail "no resize to 60 rows"
wait_for row_is 59 '^ \[default\]' || fail "status bar not on row 59 after resize"
wait_for row_is 60 '^>( |$)' || fail "input not on row 60 after resize"

# /help lists every slash command of the table (at 200x60 it all fits).
keys "/help" Enter
for c in /msg /add /close /safety /trust /search /help /quit /contacts /version; do
	wait_for shows "$c" || fail "/help does not list $c"
done
shows "Alt-1..9" || fail "/help does not list the keys"
tmux -S "$SOCK" resize-window -t ui -x 80 -y 24
wait_for rows_are 24 || fail "no resize back to 24 rows"
wait_for row_is 23 '^ \[default\]' || fail "status bar not back on row 23"

# /help CMD shows that command's text from the table.
keys "/help search" Enter
wait_for shows "Shows the messages containing TEXT" || fail "/help search"

# Unknown commands are refused and nothing is sent.
keys "/frobnicate now" Enter
wait_for shows "Unknown command /frobnicate: nothing was sent" || fail "unknown command accepted"
# Text in the status window is not sent anywhere either.
keys "just text" Enter
wait_for shows "This is the status window" || fail "text in the status window"
keys C-u

# A usage error names what is missing.
keys "/msg" Enter
wait_for shows "usage: /msg NAME" || fail "no usage for /msg without NAME"

# The engine goes away: the UI attaches again, starting a new one.
OLD_PID=$(cat "$HOME_DIR/engine.pid")
kill -TERM "$OLD_PID"
wait_for shows "The engine went away; attaching again" || fail "engine loss not noticed"
new_engine() {
	[ -f "$HOME_DIR/engine.pid" ] && [ "$(cat "$HOME_DIR/engine.pid")" != "$OLD_PID" ] &&
		[ -S "$HOME_DIR/engine.sock" ]
}
wait_for new_engine || fail "no new engine started"
keys "/help close" Enter
wait_for shows "The conversation and its history stay" || fail "UI dead after reattaching"

ui_quit
# The engine leaves with its last frontend.
wait_for test ! -S "$HOME_DIR/engine.sock" || fail "the engine stayed after the UI left"
exit 0

#!/bin/sh
# `sotto demo` driven through tmux: the private relay, the echo peer and
# the interface come up; a message typed there is sent, delivered, and
# echoed back; /quit leaves no process of the demo running and removes
# its temporary directory. An engine crashing meanwhile, the demo
# killed outright (SIGKILL) or stopped (SIGTERM): nothing left either.
# Without a terminal it refuses with status 64 before starting anything.
#
# Every wait polls the screen or /proc with a deadline.
set -u

SOTTO=${top_builddir:-.}/sotto
[ -x "$SOTTO" ] || { echo "ui_demo: no binary at $SOTTO" >&2; exit 99; }
[ -x "${top_builddir:-.}/sotto-relay" ] || { echo "ui_demo: no sotto-relay" >&2; exit 99; }
command -v tmux >/dev/null || { echo "ui_demo: tmux is needed" >&2; exit 99; }
TMP=$(mktemp -d /tmp/sotto-ui-demo-XXXXXX) || exit 99
. "${top_srcdir:-.}/tests/ui_lib.sh"
trap ui_cleanup EXIT
trap 'exit 1' INT TERM
# The demo's temporary directory goes in here, where we can look for it.
DEMO_TMP=$TMP/t
mkdir -m 700 "$DEMO_TMP"

# Without a terminal: status 64, nothing started, nothing created.
"$SOTTO" demo </dev/null >"$TMP/notty.out" 2>"$TMP/notty.err"
rc=$?
[ $rc = 64 ] || fail "without a terminal: status $rc, not 64"
grep -q "needs a terminal" "$TMP/notty.err" || fail "without a terminal: no reason given"
[ -z "$(ls -A "$DEMO_TMP")" ] || fail "without a terminal: files were created"

demo_start() {
	ui_spawn "TMPDIR='$DEMO_TMP' '$SOTTO' demo"
	wait_for ui_pid_known || fail "the demo did not start"
	# The relay, both engines, the echo loop, the interface, all ours.
	wait_for shows "[you @ ws://127.0.0.1:" || fail "the interface did not come up"
	wait_for shows " connected" || fail "not connected to the private relay"
	DEMO_PID=$(ui_pid)
	DEMO_DIR=$(ls -d "$DEMO_TMP"/sotto-demo-* 2>/dev/null)
	[ -d "$DEMO_DIR" ] || fail "no temporary directory under \$TMPDIR"
	[ "$(stat -c %a "$DEMO_DIR")" = 700 ] || fail "the temporary directory is not 0700"
	DEMO_PIDS="$DEMO_PID $(pgrep -P "$DEMO_PID" | tr '\n' ' ')"
	[ "$(echo $DEMO_PIDS | wc -w)" -ge 6 ] ||
		fail "expected the demo and 5+ children, found: $DEMO_PIDS"
	[ -n "$(procs_with "$DEMO_DIR/relay")" ] || fail "no relay on the demo's directory"
}

ui_pid_known() {
	[ -n "$(ui_pid)" ]
}

# Nothing of the demo left: none of its processes, nothing on its files,
# no temporary directory.
demo_gone() {
	for p in $DEMO_PIDS; do
		pid_alive "$p" && return 1
	done
	[ -z "$(procs_with "$DEMO_TMP/")" ] && [ -z "$(ls -A "$DEMO_TMP")" ]
}

demo_exit_is() {
	wait_for test -s "$TMP/exit" || fail "the demo did not exit"
	[ "$(cat "$TMP/exit")" = "$1" ] || fail "exit status $(cat "$TMP/exit"), not $1"
}

demo_start
# The echo peer greets us and its conversation is the one to talk in.
wait_for row_is 3 '^1 echo ' || fail "no conversation with echo listed"
row_is 1 '^ echo' || keys M-1
wait_for row_is 1 '^ echo' || fail "the conversation with echo is not open"
wait_for shows "echo: Hello! I am echo" || fail "no greeting from echo"

# A message goes out, is delivered, and comes back from echo.
keys "hi there, echo" Enter
wait_for shows "you: hi there, echo [delivered]" || fail "the message was not delivered"
wait_for shows "echo: echo: hi there, echo" || fail "no echo of the message"
keys -l "ünïcode ✓ 日本"
keys Enter
wait_for shows "echo: echo: ünïcode ✓ 日本" || fail "no echo of UTF-8 text"

# /quit: everything stops, the directory goes.
keys "/quit" Enter
demo_exit_is 0
[ -s "$TMP/ui.err" ] && fail "the demo wrote to stderr"
wait_for demo_gone || fail "left behind: $(procs_with "$DEMO_TMP/") $(ls -A "$DEMO_TMP")"
tmux -S "$SOCK" kill-server 2>/dev/null

# The demo profile's engine crashes: the interface starts a new one on
# its own (not the demo's child); /quit still leaves nothing behind.
demo_start
OLD_ENGINE=$(cat "$DEMO_DIR/you/engine.pid")
kill -KILL "$OLD_ENGINE"
new_engine() {
	p=$(cat "$DEMO_DIR/you/engine.pid" 2>/dev/null)
	[ -n "$p" ] && [ "$p" != "$OLD_ENGINE" ] && pid_alive "$p"
}
wait_for new_engine || fail "the interface did not start a new engine"
wait_for shows " connected" || fail "not connected again after the engine crashed"
keys "/quit" Enter
demo_exit_is 0
wait_for demo_gone || fail "after an engine crash, left behind: $(procs_with "$DEMO_TMP/")"
tmux -S "$SOCK" kill-server 2>/dev/null

# SIGTERM to the demo: it stops everything and says so by its status.
demo_start
kill -TERM "$DEMO_PID"
demo_exit_is 143
wait_for demo_gone || fail "after SIGTERM, left behind: $(procs_with "$DEMO_TMP/")"
tmux -S "$SOCK" kill-server 2>/dev/null

# The demo killed outright: its children follow (death signal) and the
# janitor removes the directory.
demo_start
kill -KILL "$DEMO_PID"
demo_exit_is 137
wait_for demo_gone || fail "after SIGKILL, left behind: $(procs_with "$DEMO_TMP/")"
exit 0

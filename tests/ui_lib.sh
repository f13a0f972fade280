# Shared by the tmux-driven UI tests (sourced, not run): a private tmux
# server, screen captures, and waits that poll with a deadline instead of
# sleeping for a guessed time. The caller sets TMP and may set HOME_DIR.
SOCK=$TMP/tmux.sock

ui_cleanup() {
	tmux -S "$SOCK" kill-server 2>/dev/null
	for f in "$TMP"/*/engine.pid; do
		[ -f "$f" ] && kill -KILL "$(cat "$f")" 2>/dev/null
	done
	for p in ${UI_PIDS:-}; do kill -KILL "$p" 2>/dev/null; done
	# Anything still running on our files: relays, engines, stray frontends.
	for p in $(procs_with "$TMP"); do kill -KILL "$p" 2>/dev/null; done
	rm -rf "$TMP"
}

screen() {
	tmux -S "$SOCK" capture-pane -p -t ui
}

fail() {
	echo "FAIL: $*" >&2
	echo "--- screen:" >&2
	screen >&2
	for f in "$TMP"/*.err "$TMP"/*/engine.log; do
		[ -s "$f" ] && { echo "--- $f:" >&2; cat "$f" >&2; }
	done
	exit 1
}

# wait_for CMD...: true once CMD succeeds, false after about 20 s.
wait_for() {
	n=0
	until "$@"; do
		n=$((n + 1))
		[ $n -gt 400 ] && return 1
		sleep 0.05
	done
	return 0
}

shows() {
	screen | grep -F -q -- "$1"
}

# Row N (1-based) of the screen matches the extended regex.
row_is() {
	screen | sed -n "$1p" | grep -E -q -- "$2"
}

rows_are() {
	[ "$(screen | wc -l)" -eq "$1" ]
}

keys() {
	tmux -S "$SOCK" send-keys -t ui "$@"
}

# ui_spawn COMMAND: a shell command line in an 80x24 tmux window, its
# standard error in $TMP/ui.err and its exit status in $TMP/exit. ASan
# reports ncurses' own never-freed allocations at exit; ours must be
# clean, so only those are suppressed.
ui_spawn() {
	printf 'leak:libncursesw\nleak:libtinfo\nleak:_nc_\nleak:initscr\nleak:newterm\n' \
		>"$TMP/lsan.supp"
	rm -f "$TMP/exit"
	# A tmux server very rarely dies while starting ("server exited
	# unexpectedly"): that is tmux, not us, so it gets a second try.
	ui_tmux_new "$1" || ui_tmux_new "$1" || fail "cannot start tmux"
}

ui_tmux_new() {
	tmux -S "$SOCK" -f /dev/null new-session -d -s ui -x 80 -y 24 \
		"LSAN_OPTIONS=suppressions=$TMP/lsan.supp TERM=tmux-256color $1 \
		 2>'$TMP/ui.err'; echo \$? >'$TMP/exit'; sleep 600"
}

# ui_start HOME [ENV...]: the interface on the profile in HOME.
ui_start() {
	ui_home=$1
	shift
	ui_spawn "$* '$UI' --home '$ui_home'"
}

# The process running in the window (the shell's child), once started.
ui_pid() {
	pgrep -P "$(tmux -S "$SOCK" display -p -t ui '#{pane_pid}')" | head -n 1
}

# True while pid is a live process (a zombie nobody reaped counts as gone).
pid_alive() {
	state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$state" ] && [ "$state" != Z ]
}

# Every live process whose command line mentions STRING.
procs_with() {
	for d in /proc/[0-9]*; do
		pid_alive "${d#/proc/}" || continue
		tr '\0' ' ' <"$d/cmdline" 2>/dev/null | grep -F -q -- "$1" && echo "${d#/proc/}"
	done
	return 0
}

# ui_quit: /quit, then the exit status must be 0 and stderr empty.
ui_quit() {
	keys "/quit" Enter
	wait_for test -s "$TMP/exit" || fail "/quit did not leave"
	[ "$(cat "$TMP/exit")" = 0 ] || fail "exit status $(cat "$TMP/exit")"
	[ -s "$TMP/ui.err" ] && fail "the UI wrote to stderr"
	tmux -S "$SOCK" kill-server 2>/dev/null
	return 0
}

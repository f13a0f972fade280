# Shared by the tmux-driven UI tests (sourced, not run): a private tmux
# server, screen captures, and waits that poll with a deadline instead of
# sleeping for a guessed time. The caller sets TMP and may set HOME_DIR,
# or sets UI_TEST to its name (and UI_TOOLS to the commands it needs, "tmux
# jq" unless set) and gets the binaries and tools checked, TMP made and
# removed at exit, and a UTF-8 locale.
# screen, keys and the checks built on them act on the window named in
# UI_TARGET (the session's current one, "ui", unless set).
if [ -n "${UI_TEST:-}" ]; then
	SOTTO=${top_builddir:-.}/sotto
	RELAY=${top_builddir:-.}/sotto-relay
	UI=$SOTTO
	for bin in "$SOTTO" "$RELAY"; do
		[ -x "$bin" ] || { echo "$UI_TEST: no binary at $bin" >&2; exit 99; }
	done
	for tool in ${UI_TOOLS:-tmux jq}; do
		command -v "$tool" >/dev/null || { echo "$UI_TEST: $tool is needed" >&2; exit 99; }
	done
	TMP=$(mktemp -d "/tmp/sotto-$UI_TEST-XXXXXX") || exit 99
	trap ui_cleanup EXIT
	trap 'exit 1' INT TERM
	export LC_ALL=C.UTF-8
fi
SOCK=$TMP/tmux.sock
UI_TARGET=ui

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
	tmux -S "$SOCK" capture-pane -p -t "$UI_TARGET"
}

fail() {
	echo "FAIL: $*" >&2
	echo "--- screen:" >&2
	screen >&2
	for f in "$TMP"/*.err "$TMP"/*/engine.log "$TMP"/*/*/engine.log; do
		[ -s "$f" ] && { echo "--- $f:" >&2; cat "$f" >&2; }
	done
	exit 1
}

# wait_ticks N CMD...: true once CMD succeeds, false after N tries 50 ms
# apart.
wait_ticks() {
	ticks=$1
	shift
	n=0
	until "$@"; do
		n=$((n + 1))
		[ $n -gt "$ticks" ] && return 1
		sleep 0.05
	done
	return 0
}

# wait_for CMD...: true once CMD succeeds, false after about 20 s.
wait_for() {
	wait_ticks 400 "$@"
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
	tmux -S "$SOCK" send-keys -t "$UI_TARGET" "$@"
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

# ---- a relay and profiles, for the scenarios with messages ----

# relay_start [PORT]: a sotto-relay on a free loopback port (or PORT,
# when starting it again) with its data in $TMP/relay; sets RELAY_PID,
# PORT and URL. Needs RELAY (the binary).
relay_start() {
	: >"$TMP/relay.out"
	"$RELAY" --listen "127.0.0.1:${1:-0}" --data "$TMP/relay" >"$TMP/relay.out" \
		2>>"$TMP/relay.err" &
	RELAY_PID=$!
	UI_PIDS="${UI_PIDS:-} $RELAY_PID"
	wait_for grep -qs '^listening on ' "$TMP/relay.out" || fail "the relay did not start"
	PORT=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$TMP/relay.out")
	[ -n "$PORT" ] || fail "unexpected relay banner: $(cat "$TMP/relay.out")"
	URL=ws://127.0.0.1:$PORT
}

# as WHO ARGS...: sotto on the profile in $TMP/WHO. Needs SOTTO.
as() {
	as_who=$1
	shift
	"$SOTTO" --home "$TMP/$as_who" "$@"
}

# register WHO [ARGS...]: a new profile in $TMP/WHO registered as WHO with
# a key file (or with ARGS instead of --keyfile).
register() {
	reg_who=$1
	shift
	mkdir -p -m 700 "$TMP/$reg_who"
	[ $# -gt 0 ] || set -- --keyfile
	as "$reg_who" register "$@" --relay "$URL" "$reg_who" >/dev/null \
		2>>"$TMP/$reg_who.err" || fail "register $reg_who"
}

# ui_alice_and_bob: a relay, alice and bob registered, bob's engine kept
# running, and alice in the interface, connected.
ui_alice_and_bob() {
	relay_start
	register alice
	register bob
	as bob daemon >/dev/null 2>>"$TMP/bob.err" || fail "daemon for bob"
	ui_start "$TMP/alice"
	wait_for shows "[alice @ $URL]  connected" || fail "the interface is not connected"
}

# ui_window NAME HOME [ENV...]: the interface on the profile in HOME in a
# new window NAME of the session (address it as UI_TARGET=ui:NAME); its
# standard error in $TMP/NAME.err, its exit status in $TMP/NAME.exit.
ui_window() {
	uw_name=$1
	uw_home=$2
	shift 2
	[ -f "$TMP/lsan.supp" ] ||
		printf 'leak:libncursesw\nleak:libtinfo\nleak:_nc_\nleak:initscr\nleak:newterm\n' \
			>"$TMP/lsan.supp"
	tmux -S "$SOCK" new-window -d -t ui -n "$uw_name" \
		"LSAN_OPTIONS=suppressions=$TMP/lsan.supp TERM=tmux-256color $* '$UI' \
		 --home '$uw_home' 2>'$TMP/$uw_name.err'; echo \$? >'$TMP/$uw_name.exit'; \
		 sleep 600" || fail "cannot open the tmux window $uw_name"
}

# Every sotto process of the test stopped with SIGTERM; none may have had
# a sanitizer report in its engine log or the relay's.
ui_stop_all() {
	usa_pids=$UI_PIDS
	for f in "$TMP"/*/engine.pid; do
		usa_pids="$usa_pids $(cat "$f" 2>/dev/null)"
	done
	tmux -S "$SOCK" kill-server 2>/dev/null
	kill -CONT $usa_pids 2>/dev/null
	kill -TERM $usa_pids 2>/dev/null
	usa_gone() {
		for p in $usa_pids; do
			pid_alive "$p" && return 1
		done
		return 0
	}
	wait_for usa_gone || fail "the engines or the relay did not stop"
	if grep -l -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$TMP"/*/engine.log \
		"$TMP"/relay.err "$TMP"/*.err 2>/dev/null; then
		fail "a sanitizer reported a problem"
	fi
	return 0
}

# ui_window_quit NAME: /quit in window NAME; it must exit 0 with nothing
# on its standard error.
ui_window_quit() {
	UI_TARGET=ui:$1 keys "/quit" Enter
	wait_for test -s "$TMP/$1.exit" || fail "/quit did not leave the window $1"
	[ "$(cat "$TMP/$1.exit")" = 0 ] || fail "$1: exit status $(cat "$TMP/$1.exit")"
	[ -s "$TMP/$1.err" ] && fail "$1 wrote to stderr"
	return 0
}

#!/bin/bash
# bench_ui_real: the full-screen UI's figures on the real programs. A real
# sotto-relay on loopback, alice and bob registered on it, 100,000 messages
# from bob in alice's history (bench_fill_history), alice's engine running
# as `sotto daemon`; then `sotto` in fresh 80x24 tmux sessions, timed from
# the outside by polling `tmux capture-pane`. Prints figures; never passes
# or fails on time. Run: make bench-ui (or top_builddir=BUILD bash THIS).
# Knobs: BENCH_RUNS (5), BENCH_HISTORY (100000), BENCH_PGUP (20 per run).
set -u -o pipefail
export LC_ALL=C.UTF-8

TOP=${top_builddir:-$(pwd)}
SOTTO=$TOP/sotto
RELAY=$TOP/sotto-relay
FILL=$TOP/bench/bench_fill_history
RUNS=${BENCH_RUNS:-5}
COUNT=${BENCH_HISTORY:-100000}
PGUPS=${BENCH_PGUP:-20}
LIMIT_MS=20000 # any single wait
OPEN_LIMIT_MS=${BENCH_OPEN_LIMIT_MS:-10000}
OPEN_HUNG=

for f in "$SOTTO" "$RELAY" "$FILL"; do
	[ -x "$f" ] || { echo "bench_ui_real: no $f (build it, or set top_builddir)" >&2; exit 99; }
done
for t in tmux timeout; do
	command -v "$t" >/dev/null || { echo "bench_ui_real: $t is needed" >&2; exit 99; }
done

T=$(mktemp -d "${TMPDIR:-/tmp}/sotto-bench-ui.XXXXXX") || exit 99
chmod 700 "$T"
SOCK=$T/tmux.sock
RELAY_PID=

now_us()
{
	NOW=${EPOCHREALTIME/[.,]/}
}

die()
{
	echo "bench_ui_real: $*" >&2
	for f in "$T"/*.err "$T"/relay.log "$T"/*/engine.log; do
		[ -s "$f" ] && { echo "--- ${f#"$T"/}:" >&2; tail -n 15 "$f" >&2; }
	done
	exit 1
}

pid_alive()
{
	local state
	[ -n "$1" ] || return 1
	state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$state" ] && [ "$state" != Z ]
}

# stop_pid PID: TERM, up to 5 s, then KILL.
stop_pid()
{
	local i
	pid_alive "$1" || return 0
	kill -TERM "$1" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		pid_alive "$1" || return 0
		sleep 0.05
	done
	kill -KILL "$1" 2>/dev/null
}

engine_pid()
{
	cat "$T/$1/engine.pid" 2>/dev/null
}

# engine_stop NAME: ask the engine to leave over its socket, else signal it.
engine_stop()
{
	local pid i
	pid=$(engine_pid "$1")
	pid_alive "$pid" || return 0
	printf '{"jsonrpc":"2.0","id":1,"method":"engine.shutdown"}\n' |
		timeout 10 "$SOTTO" --home "$T/$1" rpc >/dev/null 2>&1
	for ((i = 0; i < 100; i++)); do
		pid_alive "$pid" || return 0
		sleep 0.05
	done
	stop_pid "$pid"
}

cleanup()
{
	local rc=$? p
	trap - EXIT INT TERM HUP
	tmux -S "$SOCK" kill-server 2>/dev/null
	for p in alice bob; do
		[ -d "$T/$p" ] && engine_stop "$p"
	done
	stop_pid "$RELAY_PID"
	[ -n "$RELAY_PID" ] && wait "$RELAY_PID" 2>/dev/null
	rm -rf "$T"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

rss_line()
{
	awk '/^VmRSS|^RssAnon|^RssFile|^VmHWM/ { printf "%s %s kB  ", $1, $2 }' \
		"/proc/$1/status"
}

rss_kb()
{
	awk '/^VmRSS/ { print $2 }' "/proc/$1/status"
}

# Proportional set size: shared pages (libc, libcrypto...) split among the
# processes mapping them, so a sum over processes counts them once.
pss_kb()
{
	awk '/^Pss:/ { print $2 }' "/proc/$1/smaps_rollup"
}

# top_mappings PID: the largest resident mappings, summed by file name.
top_mappings()
{
	awk '/^[0-9a-f]+-[0-9a-f]+ / { name = NF >= 6 ? $6 : "[anon]"; sub(".*/", "", name) }
		/^Rss:/ { rss[name] += $2 }
		END { for (n in rss) if (rss[n] >= 256) printf "%d kB %s\n", rss[n], n }' \
		"/proc/$1/smaps" | sort -rn | head -n 8 | tr '\n' ';' | sed 's/;$//; s/;/; /g'
}

# wait_for WHAT COMMAND...: poll every 50 ms for up to 20 s.
wait_for()
{
	local what=$1 i
	shift
	for ((i = 0; i < 400; i++)); do
		"$@" && return 0
		sleep 0.05
	done
	die "timed out waiting for $what"
}

# ---- set-up: relay, two profiles, one real message, the filled history ----

: >"$T/relay.out"
"$RELAY" --listen 127.0.0.1:0 --data "$T/relay" >"$T/relay.out" 2>"$T/relay.log" &
RELAY_PID=$!
wait_for "the relay to listen" grep -q '^listening on ' "$T/relay.out"
PORT=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$T/relay.out")
[ -n "$PORT" ] || die "unexpected relay banner: $(head -n 1 "$T/relay.out")"
URL=ws://127.0.0.1:$PORT

for p in alice bob; do
	mkdir -m 700 "$T/$p"
	timeout 60 "$SOTTO" --home "$T/$p" register --keyfile --relay "$URL" "$p" \
		</dev/null >/dev/null 2>"$T/$p.register.err" || die "register $p failed"
done
# A real conversation first: bob writes once, alice's engine receives it.
timeout 30 "$SOTTO" --home "$T/alice" daemon </dev/null >/dev/null 2>"$T/alice.daemon.err" ||
	die "sotto daemon (alice) failed"
timeout 30 "$SOTTO" --home "$T/bob" send alice "hello alice, history follows" \
	</dev/null >/dev/null 2>"$T/bob.send.err" || die "bob's send failed"
has_first()
{
	timeout 10 "$SOTTO" --home "$T/alice" history --with bob 2>/dev/null |
		grep -q 'history follows'
}
wait_for "alice to receive bob's message" has_first
engine_stop alice
engine_stop bob

now_us
t0=$NOW
"$FILL" "$T/alice" "$COUNT" bob >/dev/null 2>"$T/fill.err" || die "bench_fill_history failed"
now_us
FILL_MS=$(((NOW - t0) / 1000))
DB_KB=$(du -k "$T/alice/store.db" | cut -f1)

timeout 30 "$SOTTO" --home "$T/alice" daemon </dev/null >/dev/null 2>"$T/alice.daemon.err" ||
	die "sotto daemon (alice) failed"
wait_for "alice's engine.sock" test -S "$T/alice/engine.sock"
ENGINE_PID=$(engine_pid alice)
pid_alive "$ENGINE_PID" || die "alice's engine is not running"
# A frontend that leaves must not take this engine with it.
timeout 10 "$SOTTO" --home "$T/alice" history --with bob --limit 1 >/dev/null 2>&1

ENGINE_IDLE=$(rss_line "$ENGINE_PID")

# One tmux server for every run, so that only the session is new each time.
tmux -S "$SOCK" -f /dev/null new-session -d -s keep -x 80 -y 24 "sleep 3600" ||
	die "cannot start tmux"

# ---- timing by polling the screen ----

POLLS=0
POLL_US=0    # total time spent in polls
POLL_MAX=0   # slowest single capture
SCR=

# capture SESSION: the screen into SCR; counts the poll.
capture()
{
	local a
	now_us
	a=$NOW
	SCR=$(tmux -S "$SOCK" capture-pane -p -t "$1" 2>/dev/null)
	now_us
	POLLS=$((POLLS + 1))
	POLL_US=$((POLL_US + NOW - a))
	[ $((NOW - a)) -gt "$POLL_MAX" ] && POLL_MAX=$((NOW - a))
	return 0
}

# poll SESSION START_US TEST: capture until `TEST` holds for SCR, as fast as
# capture allows; ELAPSED is the time from START_US to the capture that
# first showed it, in microseconds.
poll()
{
	local sess=$1 start=$2 test=$3
	while :; do
		capture "$sess"
		if $test; then
			ELAPSED=$((NOW - start))
			return 0
		fi
		[ $((NOW - start)) -gt $((LIMIT_MS * 1000)) ] && return 1
	done
}

shows_status()
{
	[[ $SCR == *"[alice @ "* ]]
}

shows_newest()
{
	[[ $SCR =~ \#$COUNT([^0-9]|$) ]]
}

# MIN: the oldest message index shown ("#N" at the start of each text).
min_shown()
{
	local s=$SCR n
	MIN=999999999
	while [[ $s =~ \#([0-9]+)([^0-9]|$) ]]; do
		n=${BASH_REMATCH[1]}
		[ "$n" -lt "$MIN" ] && MIN=$n
		s=${s#*"#$n"}
	done
}

shows_older()
{
	local before=$MIN
	min_shown
	[ "$MIN" -lt "$before" ] && return 0
	MIN=$before
	return 1
}

# ms MICROSECONDS: as milliseconds with one decimal.
ms()
{
	printf '%d.%d' $(($1 / 1000)) $(($1 / 100 % 10))
}

# stats FILE: min / median / max of microseconds, printed as ms.
stats()
{
	sort -n "$1" | awk '{ v[NR] = $1 }
		END {
			if (NR == 0) { print "n/a"; exit }
			printf "min %.1f ms, median %.1f ms, max %.1f ms (n=%d)",
				v[1] / 1000, (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) / 1000,
				v[NR] / 1000, NR
		}'
}

: >"$T/launch.us"
: >"$T/exec.us"
: >"$T/open.us"
: >"$T/pgup.us"
: >"$T/pgup_fetch.us"
for ((run = 1; run <= RUNS; run++)); do
	s=ui$run
	rm -f "$T/exec.$run"
	now_us
	t_launch=$NOW
	# The pane's shell notes the time just before it becomes sotto.
	tmux -S "$SOCK" new-session -d -s "$s" -x 80 -y 24 \
		"exec bash -c 'export TERM=xterm-256color; echo \$EPOCHREALTIME >$T/exec.$run; \
		exec $SOTTO --home $T/alice 2>>$T/ui.err'" ||
		die "cannot start tmux session $s"
	poll "$s" "$t_launch" shows_status || die "run $run: no status line after ${LIMIT_MS} ms"
	echo "$ELAPSED" >>"$T/launch.us"
	t_exec=$(tr -d '.,' <"$T/exec.$run")
	echo $((NOW - t_exec)) >>"$T/exec.us"
	UI_PID=$(tmux -S "$SOCK" display -p -t "$s" '#{pane_pid}')

	# Let the first frame's follow-up traffic settle before the next key.
	sleep 0.2
	capture "$s"
	if shows_newest; then
		die "run $run: the newest message is on screen before opening the conversation"
	fi
	now_us
	t0=$NOW
	tmux -S "$SOCK" send-keys -t "$s" M-1
	LIMIT_MS=$OPEN_LIMIT_MS
	if ! poll "$s" "$t0" shows_newest; then
		# Recorded, not fatal: later runs open it again.
		OPEN_RUNS="${OPEN_RUNS:-}none-in-$((OPEN_LIMIT_MS / 1000))s "
		OPEN_HUNG="$OPEN_HUNG $run"
		[ "$run" -eq 1 ] && ENGINE_OPEN1=$(rss_line "$ENGINE_PID")
		tmux -S "$SOCK" kill-session -t "$s" 2>/dev/null
		LIMIT_MS=20000
		continue
	fi
	LIMIT_MS=20000
	echo "$ELAPSED" >>"$T/open.us"
	OPEN_RUNS="${OPEN_RUNS:-}$(ms "$ELAPSED") "
	[ "$run" -eq 1 ] && { sleep 0.2; ENGINE_OPEN1=$(rss_line "$ENGINE_PID"); }

	sleep 0.1
	capture "$s"
	min_shown
	for ((k = 1; k <= PGUPS; k++)); do
		now_us
		t0=$NOW
		tmux -S "$SOCK" send-keys -t "$s" PPage
		poll "$s" "$t0" shows_older || die "run $run: PgUp $k showed nothing older"
		echo "$ELAPSED" >>"$T/pgup.us"
		# Past the 100 rows the window opened with: this one had to fetch.
		[ "$MIN" -le $((COUNT - 100)) ] && [ ! -f "$T/fetched.$run" ] &&
			{ echo "$ELAPSED" >>"$T/pgup_fetch.us"; touch "$T/fetched.$run"; }
		sleep 0.05
	done
	MIN_SHOWN=$MIN

	if [ "$run" -eq "$RUNS" ]; then
		UI_RSS=$(rss_kb "$UI_PID")
		ENGINE_RSS=$(rss_kb "$ENGINE_PID")
		UI_PSS=$(pss_kb "$UI_PID")
		ENGINE_PSS=$(pss_kb "$ENGINE_PID")
		UI_RSS_LINE=$(rss_line "$UI_PID")
		ENGINE_RSS_LINE=$(rss_line "$ENGINE_PID")
		UI_TOP=$(top_mappings "$UI_PID")
		ENGINE_TOP=$(top_mappings "$ENGINE_PID")
		SCREEN_LAST=$SCR
	fi
	tmux -S "$SOCK" send-keys -t "$s" /quit Enter
	for ((i = 0; i < 200; i++)); do
		tmux -S "$SOCK" has-session -t "$s" 2>/dev/null || break
		sleep 0.02
	done
	tmux -S "$SOCK" kill-session -t "$s" 2>/dev/null
done

[ -s "$T/ui.err" ] && { echo "the UI wrote to stderr:" >&2; head -n 5 "$T/ui.err" >&2; }

echo "sotto UI on the real programs: relay + alice's engine (sotto daemon) + sotto in tmux"
echo "  $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg); history: $COUNT messages from bob"
echo "  (filled in $FILL_MS ms; store.db $((DB_KB / 1024)) MB), $RUNS runs, 80x24, TERM=xterm-256color"
echo "screen polling: $POLLS captures (tmux capture-pane), mean $(ms $((POLL_US / POLLS))) ms," \
	"slowest $(ms "$POLL_MAX") ms: each figure is late by up to one capture"
echo "1. launch to first frame (status line shown), target < 30 ms:"
echo "   from tmux new-session: $(stats "$T/launch.us")"
echo "   from exec of sotto:    $(stats "$T/exec.us")"
echo "2. open the $COUNT-message conversation (Alt-1) until #$COUNT is shown:"
echo "   $(stats "$T/open.us"); in run order (ms): $OPEN_RUNS"
echo "   (run 1 opens it with all $COUNT messages unread: they are marked read after the first frame)"
[ -n "$OPEN_HUNG" ] && echo "   NO FRAME within $((OPEN_LIMIT_MS / 1000)) s in run(s)$OPEN_HUNG: the UI was still waiting (session killed)"
echo "   PgUp ($PGUPS per run, until an older message shows): $(stats "$T/pgup.us")"
echo "   PgUp that went past the 100 rows loaded on open: $(stats "$T/pgup_fetch.us")"
echo "   oldest message shown after the last PgUp: #$MIN_SHOWN"
echo "3. resident memory with the conversation open, target < 20 MB in all:"
echo "   UI     (pid $UI_PID): $UI_RSS_LINE"
echo "   engine (pid $ENGINE_PID): $ENGINE_RSS_LINE"
echo "   engine before any UI:    $ENGINE_IDLE"
echo "   engine after 1st open:   $ENGINE_OPEN1"
echo "   sum VmRSS: $((UI_RSS + ENGINE_RSS)) kB = $(ms $(((UI_RSS + ENGINE_RSS) * 1000 / 1024))) MB (shared libraries counted in both)"
echo "   sum Pss:   $((UI_PSS + ENGINE_PSS)) kB = $(ms $(((UI_PSS + ENGINE_PSS) * 1000 / 1024))) MB (UI $UI_PSS kB + engine $ENGINE_PSS kB; shared pages counted once)"
echo "   largest UI mappings:     $UI_TOP"
echo "   largest engine mappings: $ENGINE_TOP"
if [ -n "${BENCH_SHOW_SCREEN:-}" ]; then
	echo "--- last screen:"
	printf '%s\n' "$SCREEN_LAST"
fi

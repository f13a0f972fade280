#!/bin/sh
# Integration test of the engine process model with the real sotto binary
# and throw-away profiles: auto-start, concurrent frontends, exit after the
# last frontend, sotto daemon until SIGTERM, one engine when several start
# at once, stale sockets, and refusal of an unsafe profile directory.
# Waits poll for a condition with a deadline; none relies on timing.
set -u

SOTTO=${top_builddir:-.}/sotto
[ -x "$SOTTO" ] || { echo "test_engine_integ: no sotto binary at $SOTTO" >&2; exit 99; }
TMP=$(mktemp -d /tmp/sotto-integ-XXXXXX) || exit 99
PIDS=

cleanup() {
	for p in $PIDS; do kill -KILL "$p" 2>/dev/null; done
	for f in "$TMP"/*/engine.pid; do
		[ -f "$f" ] && kill -KILL "$(cat "$f")" 2>/dev/null
	done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
	echo "FAIL: $*" >&2
	for f in "$TMP"/*/engine.log "$TMP"/*.out "$TMP"/*.err; do
		[ -s "$f" ] && { echo "--- $f" >&2; cat "$f" >&2; }
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

# A process that exited (even if nobody reaped it yet) is gone.
gone() {
	state=$(sed -n 's/^[0-9]* ([^)]*) \(.\).*/\1/p' "/proc/$1/stat" 2>/dev/null)
	[ -z "$state" ] || [ "$state" = Z ]
}

has() { grep -q -- "$2" "$1" 2>/dev/null; }
pid_of() { sed -n "s/.*\"id\":$2,\"result\":{\"pid\":\([0-9]*\).*/\1/p" "$1" | head -n 1; }
info() { printf '{"jsonrpc":"2.0","id":%s,"method":"engine.info"}\n' "$1"; }

# Engine processes serving the profile in directory $1.
engines_for() {
	n=0
	for c in /proc/[0-9]*/cmdline; do
		# Processes come and go while we look: ignore vanished ones.
		if { tr '\0' ' ' <"$c"; } 2>/dev/null | grep -q -- "--home $1 .*engine"; then
			s=$(sed -n 's/^[0-9]* ([^)]*) \(.\).*/\1/p' "${c%cmdline}stat" 2>/dev/null)
			[ "$s" != Z ] && n=$((n + 1))
		fi
	done
	echo $n
}

# 1. sotto rpc starts the engine; a second frontend shares it; the
#    engine leaves with the last frontend and cleans up.
H=$TMP/one
mkfifo "$TMP/in1" "$TMP/in2"
"$SOTTO" --home "$H" rpc <"$TMP/in1" >"$TMP/f1.out" 2>"$TMP/f1.err" &
F1=$!
PIDS="$PIDS $F1"
exec 3>"$TMP/in1"
info 1 >&3
wait_for has "$TMP/f1.out" '"id":1,' || fail "rpc: no answer to engine.info"
P=$(pid_of "$TMP/f1.out" 1)
[ -n "$P" ] || fail "engine.info has no pid"
PIDS="$PIDS $P"
[ "$(stat -c %a "$H")" = 700 ] || fail "profile directory is not 0700"
[ "$(stat -c %a "$H/engine.sock")" = 600 ] || fail "engine.sock is not 0600"
[ "$(cat "$H/engine.pid")" = "$P" ] || fail "engine.pid does not hold the engine's pid"

# 3>&-: a frontend holding frontend 1's stdin open would keep it alive.
"$SOTTO" --home "$H" rpc <"$TMP/in2" >"$TMP/f2.out" 2>"$TMP/f2.err" 3>&- &
F2=$!
PIDS="$PIDS $F2"
exec 4>"$TMP/in2"
info 2 >&4
wait_for has "$TMP/f2.out" '"id":2,' || fail "second frontend: no answer"
[ "$(pid_of "$TMP/f2.out" 2)" = "$P" ] || fail "second frontend reached another engine"
has "$TMP/f2.out" '"frontends":2' || fail "engine does not count two frontends"

# Frontend 1 subscribes and sees a one-shot command come and go.
printf '%s\n' '{"jsonrpc":"2.0","id":3,"method":"engine.subscribe","params":{"cursor":0}}' >&3
wait_for has "$TMP/f1.out" '"id":3,' || fail "engine.subscribe: no answer"
"$SOTTO" --home "$H" send bob "hello there" </dev/null >"$TMP/send.out" 2>"$TMP/send.err"
rc=$?
# The profile was never registered: a clear refusal, nothing sent.
[ $rc -eq 77 ] || fail "send: exit $rc, expected 77 on a profile with no account"
has "$TMP/send.err" "register or unlock first" || fail "send: no clear 'register first' message"
wait_for has "$TMP/f1.out" '"type":"frontend.detached","data":{"frontends":2}' ||
	fail "subscriber missed the one-shot frontend's events"

exec 3>&-
wait $F1 || fail "rpc frontend 1 exited with $?"
info 4 >&4
wait_for has "$TMP/f2.out" '"id":4,' || fail "engine stopped serving frontend 2 after frontend 1 left"
[ "$(pid_of "$TMP/f2.out" 4)" = "$P" ] || fail "frontend 2 now talks to another engine"
exec 4>&-
wait $F2 || fail "rpc frontend 2 exited with $?"
wait_for gone "$P" || fail "engine $P still runs after its last frontend left"
[ ! -e "$H/engine.sock" ] || fail "engine left its socket behind"
[ ! -e "$H/engine.pid" ] || fail "engine left its pid file behind"

# 2. sotto daemon: the engine stays without frontends until SIGTERM.
D=$("$SOTTO" --home "$H" daemon 2>"$TMP/daemon.err") || fail "daemon exited with $?"
case $D in '' | *[!0-9]*) fail "daemon printed '$D', not a pid" ;; esac
PIDS="$PIDS $D"
info 5 | "$SOTTO" --home "$H" rpc >"$TMP/d1.out" 2>&1 || fail "rpc to the daemon failed"
[ "$(pid_of "$TMP/d1.out" 5)" = "$D" ] || fail "rpc did not reach the daemon"
has "$TMP/d1.out" '"persistent":true' || fail "daemon's engine is not persistent"
# The frontend has left: an engine that quit now would not answer as $D.
info 6 | "$SOTTO" --home "$H" rpc >"$TMP/d2.out" 2>&1 || fail "second rpc to the daemon failed"
[ "$(pid_of "$TMP/d2.out" 6)" = "$D" ] || fail "the daemon's engine did not stay"
D2=$("$SOTTO" --home "$H" daemon 2>>"$TMP/daemon.err") || fail "second daemon exited with $?"
[ "$D2" = "$D" ] || fail "second sotto daemon started another engine"
kill -TERM "$D"
wait_for gone "$D" || fail "daemon ignored SIGTERM"
[ ! -e "$H/engine.sock" ] || fail "daemon left its socket behind after SIGTERM"

# engine.shutdown stops even a daemon; daemon --foreground is the engine
# itself, in the caller's process, until SIGTERM.
X=$TMP/shut
XD=$("$SOTTO" --home "$X" daemon 2>"$TMP/shut.err") || fail "daemon exited with $?"
PIDS="$PIDS $XD"
printf '%s\n' '{"jsonrpc":"2.0","id":9,"method":"engine.shutdown"}' |
	"$SOTTO" --home "$X" rpc >"$TMP/shut.out" 2>&1 || fail "rpc engine.shutdown failed"
has "$TMP/shut.out" '"id":9,"result":{"stopping":true}' || fail "engine.shutdown: no answer"
wait_for gone "$XD" || fail "engine.shutdown did not stop the engine"
"$SOTTO" --home "$X" daemon --foreground >"$TMP/fg.out" 2>"$TMP/fg.err" &
FG=$!
PIDS="$PIDS $FG"
wait_for test -S "$X/engine.sock" || fail "daemon --foreground never listened"
info 10 | "$SOTTO" --home "$X" rpc >"$TMP/fg1.out" 2>&1 || fail "rpc to daemon --foreground failed"
[ "$(pid_of "$TMP/fg1.out" 10)" = "$FG" ] || fail "daemon --foreground is not the engine"
kill -TERM "$FG"
wait "$FG"
rc=$?
[ $rc -eq 0 ] || fail "daemon --foreground exited with $rc after SIGTERM"
[ ! -e "$X/engine.sock" ] || fail "daemon --foreground left its socket behind"

# 3. Several frontends starting at the same moment share one engine.
R=$TMP/race
i=1
while [ $i -le 4 ]; do
	mkfifo "$TMP/r$i"
	# Through cat, so every sotto starts (and races to start an engine)
	# now, not once the fifo gets a writer.
	# shellcheck disable=SC2002
	cat "$TMP/r$i" | "$SOTTO" --home "$R" rpc >"$TMP/r$i.out" 2>"$TMP/r$i.err" &
	PIDS="$PIDS $!"
	i=$((i + 1))
done
exec 5>"$TMP/r1" 6>"$TMP/r2" 7>"$TMP/r3" 8>"$TMP/r4"
info 7 >&5
info 7 >&6
info 7 >&7
info 7 >&8
i=1
while [ $i -le 4 ]; do
	wait_for has "$TMP/r$i.out" '"id":7,' || fail "racing frontend $i got no answer"
	i=$((i + 1))
done
RP=$(pid_of "$TMP/r1.out" 7)
PIDS="$PIDS $RP"
for i in 2 3 4; do
	[ "$(pid_of "$TMP/r$i.out" 7)" = "$RP" ] || fail "racing frontends reached different engines"
done
[ "$(engines_for "$R")" = 1 ] || fail "$(engines_for "$R") engines run for one profile"
exec 5>&- 6>&- 7>&- 8>&-
wait_for gone "$RP" || fail "raced engine did not exit after its frontends"

# 4. An engine killed outright leaves a stale socket; the next frontend
#    replaces it.
S=$TMP/stale
K=$("$SOTTO" --home "$S" daemon 2>"$TMP/stale.err") || fail "daemon for stale test failed"
PIDS="$PIDS $K"
kill -KILL "$K"
wait_for gone "$K" || fail "engine survived SIGKILL"
[ -S "$S/engine.sock" ] || fail "expected a stale socket after SIGKILL"
info 8 | "$SOTTO" --home "$S" rpc >"$TMP/stale.out" 2>&1 || fail "rpc after a stale socket failed"
NP=$(pid_of "$TMP/stale.out" 8)
[ -n "$NP" ] && [ "$NP" != "$K" ] || fail "no fresh engine replaced the stale socket"
wait_for gone "$NP" || fail "fresh engine did not exit"

# 5. A profile directory others may write to is refused.
mkdir -m 777 "$TMP/unsafe"
chmod 777 "$TMP/unsafe"
"$SOTTO" --home "$TMP/unsafe" contacts </dev/null >/dev/null 2>"$TMP/unsafe.err"
rc=$?
[ $rc -eq 77 ] || fail "unsafe profile directory: exit $rc, expected 77"
has "$TMP/unsafe.err" "writable" || fail "unsafe profile directory: unclear message"

# Engines ran detached: their reports went to engine.log.
for f in "$TMP"/*/engine.log; do
	if grep -q "Sanitizer\|runtime error" "$f"; then
		fail "sanitizer report in $f"
	fi
done
echo "test_engine_integ: all passed"
exit 0

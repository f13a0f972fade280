#!/bin/bash
# An unattended daemon on a passphrase profile: `sotto daemon
# --passphrase-file F` (and with --foreground) unlocks the engine it
# starts; a wrong passphrase or a file others may read exits 77 and leaves
# no engine running and the profile's files untouched.
. "$(dirname "$0")/lib.sh"

expect_exit()
{
	local want=$1 what=$2 rc
	shift 2
	"$@" >"$T/out" 2>"$T/err" </dev/null
	rc=$?
	[ "$rc" = "$want" ] || fail "$what: exit $rc, not $want ($(head -c 300 "$T/err"))"
	[ "$want" = 0 ] || [ -s "$T/err" ] || fail "$what: exit $rc without a message"
}

snapshot()
{
	(cd "$T/$1" && find . -type f ! -name 'engine.*' -print0 | sort -z |
		xargs -0 -r sha256sum)
}

# status answers while locked, so this never unlocks anything itself.
status_of()
{
	rpc_once "$1" status '{}'
}

is_unlocked_and_connected()
{
	status_of "$1" | jq -e '.locked == false and .connection == "connected"' >/dev/null
}

relay_start
mkdir -m 700 "$T/dana"
INTEG_PROFILES+=(dana)
printf 'a long unattended passphrase\n' >"$T/pass"
printf 'not it\n' >"$T/wrong"
printf 'a long unattended passphrase\n' >"$T/open"
chmod 600 "$T/pass" "$T/wrong"
chmod 644 "$T/open"
expect_exit 0 "register with a passphrase file" \
	sotto_as dana --passphrase-file "$T/pass" register --relay "$RELAY_URL" dana
wait_until 20 "dana's engine to exit" engine_gone dana
snapshot dana >"$T/before"

note "refused: wrong passphrase, unsafe file, both modes"
expect_exit 77 "daemon with a wrong passphrase" \
	sotto_as dana --passphrase-file "$T/wrong" daemon
grep -qi 'passphrase' "$T/err" || fail "the error does not say why: $(cat "$T/err")"
wait_until 20 "no engine after a wrong passphrase" engine_gone dana
expect_exit 77 "daemon with a passphrase file others may read" \
	sotto_as dana --passphrase-file "$T/open" daemon
wait_until 20 "no engine after an unsafe file" engine_gone dana
expect_exit 77 "daemon --foreground with a wrong passphrase" \
	sotto_as dana --passphrase-file "$T/wrong" daemon --foreground
engine_gone dana || fail "daemon --foreground left an engine after a wrong passphrase"
expect_exit 77 "daemon --foreground with an unsafe file" \
	sotto_as dana --passphrase-file "$T/open" daemon --foreground
engine_gone dana || fail "daemon --foreground left an engine after an unsafe file"
snapshot dana >"$T/after"
same_lines "dana's profile files after refused daemons" "$T/before" "$T/after"

note "the right passphrase: the daemon is unlocked and stays"
expect_exit 0 "daemon with the right passphrase" \
	sotto_as dana --passphrase-file "$T/pass" daemon
[ "$(cat "$T/out")" = "$(engine_pid dana)" ] || fail "daemon printed $(cat "$T/out"), not its pid"
wait_until 20 "dana's daemon to be unlocked and connected" is_unlocked_and_connected dana
# A command without any passphrase works against the unlocked daemon.
expect_exit 0 "history without a passphrase" sotto_as dana history
engine_running dana || fail "the daemon left with its frontend"
engine_stop dana
wait_until 20 "dana's engine to stop" engine_gone dana

note "daemon --foreground with the right passphrase"
timeout -k 5 "$INTEG_LIMIT" "$SOTTO" --home "$T/dana" --passphrase-file "$T/pass" \
	daemon --foreground </dev/null >"$T/fg.out" 2>"$T/fg.err" &
fg=$!
INTEG_PIDS+=("$fg")
wait_until 20 "the foreground daemon" engine_running dana
wait_until 20 "the foreground daemon to be unlocked" is_unlocked_and_connected dana
# The engine itself, not the timeout(1) wrapping it.
[ "$(engine_pid dana)" != "$fg" ] || fail "the pid file names the wrapper"
kill -TERM "$(engine_pid dana)"
wait "$fg"
rc=$?
[ "$rc" = 0 ] || fail "daemon --foreground exited $rc after SIGTERM: $(cat "$T/fg.err")"
engine_gone dana || fail "the foreground engine is still running"
note "ok"

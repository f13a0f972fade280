# tests/integ/lib.sh: the harness shared by the integration scenarios. It
# starts a real sotto-relay on a free loopback port and real sotto engines
# and frontends, with a deadline on every wait and everything killed on exit.
# Sourced by bash scripts (tests/integ/integ_*.sh, bench/bench_e2e.sh).

set -u -o pipefail
export LC_ALL=C.UTF-8

INTEG_NAME=$(basename "$0" .sh)
INTEG_TOP=${top_builddir:-$(pwd)}
SOTTO=$INTEG_TOP/sotto
RELAY_BIN=$INTEG_TOP/sotto-relay
# The whole script may take this long; a watchdog ends it afterwards so
# that no scenario can hang make check.
INTEG_LIMIT=${INTEG_LIMIT:-150}
# Any single sotto command may take this long.
INTEG_CMD_TIMEOUT=${INTEG_CMD_TIMEOUT:-60}

INTEG_PIDS=()     # processes started directly by the script
INTEG_PROFILES=() # profile directories whose engines are stopped on exit
declare -A INTEG_RPC_FD INTEG_RPC_PID
RELAY_PID=
RELAY_PORT=0
RELAY_ARGS=()

now_ms()
{
	local t=${EPOCHREALTIME/[.,]/}
	echo $((t / 1000))
}

INTEG_T0=$(now_ms)

note()
{
	printf '[%6d ms] %s\n' $(($(now_ms) - INTEG_T0)) "$*"
}

fail()
{
	printf 'FAIL: %s\n' "$*" >&2
	exit 1
}

# A problem with the test environment rather than with sotto.
hard_error()
{
	printf 'ERROR: %s\n' "$*" >&2
	exit 99
}

for integ_tool in jq timeout; do
	command -v "$integ_tool" >/dev/null || hard_error "$integ_tool is needed"
done
[ -x "$SOTTO" ] || hard_error "no sotto binary at $SOTTO (set top_builddir)"
[ -x "$RELAY_BIN" ] || hard_error "no sotto-relay binary at $RELAY_BIN"

T=$(mktemp -d "${TMPDIR:-/tmp}/sotto-$INTEG_NAME.XXXXXX") || hard_error "mktemp failed"
chmod 700 "$T"

# True while pid is a live process (a zombie left by a killed engine whose
# parent has not reaped it yet counts as gone).
pid_alive()
{
	local state
	[ -n "$1" ] || return 1
	state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$state" ] && [ "$state" != Z ]
}

# wait_until SECONDS WHAT COMMAND...: poll COMMAND until it succeeds; fail
# naming WHAT when the deadline passes first.
wait_until()
{
	local limit=$1 what=$2 deadline
	shift 2
	deadline=$(($(now_ms) + limit * 1000))
	until "$@"; do
		[ "$(now_ms)" -lt "$deadline" ] || fail "timed out after ${limit}s waiting for $what"
		sleep 0.1
	done
}

# Send TERM, wait up to 10 s, then KILL.
integ_stop_pid()
{
	local pid=$1 deadline
	pid_alive "$pid" || return 0
	kill -TERM "$pid" 2>/dev/null
	deadline=$(($(now_ms) + 10000))
	while pid_alive "$pid" && [ "$(now_ms)" -lt "$deadline" ]; do
		sleep 0.05
	done
	pid_alive "$pid" && kill -KILL "$pid" 2>/dev/null
	return 0
}

integ_dump_logs()
{
	local f
	for f in "$T"/relay.log "$T"/*.engine-logs "$T"/*/engine.log "$T"/*.err; do
		[ -s "$f" ] || continue
		echo "---- last lines of ${f#"$T"/} ----" >&2
		tail -n 25 "$f" >&2
	done
}

# Sanitizer builds: any report from a relay, an engine or a frontend fails
# the scenario (the processes keep running after one, so look at the logs).
integ_sanitizers_quiet()
{
	local p f found=0
	for p in "${INTEG_PROFILES[@]}"; do
		engine_harvest_log "$p"
	done
	for f in "$T"/relay.log "$T"/*.engine-logs "$T"/*.err; do
		[ -s "$f" ] || continue
		if grep -q -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$f"; then
			echo "---- sanitizer report in ${f#"$T"/} ----" >&2
			grep -A 30 -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$f" | head -n 60 >&2
			found=1
		fi
	done
	[ $found = 0 ]
}

integ_cleanup()
{
	local rc=$? name p
	trap - EXIT INT TERM HUP
	for name in "${!INTEG_RPC_FD[@]}"; do
		eval "exec ${INTEG_RPC_FD[$name]}>&-" 2>/dev/null
	done
	if [ "$rc" -ne 0 ]; then
		for p in "${INTEG_PROFILES[@]}"; do
			engine_running "$p" || continue
			echo "---- $p's history: peer, direction, state, count ----" >&2
			INTEG_CMD_TIMEOUT=10 history_json "$p" 2>/dev/null |
				jq -r '"\(.peer) \(.direction) \(.state)"' | sort | uniq -c >&2
		done
	fi
	for p in "${INTEG_PROFILES[@]}"; do
		engine_stop "$p" 2>/dev/null
	done
	for p in "${INTEG_PIDS[@]}"; do
		integ_stop_pid "$p"
		wait "$p" 2>/dev/null
	done
	if [ "$rc" -eq 0 ] && ! integ_sanitizers_quiet; then
		rc=1
	fi
	[ -n "${INTEG_WATCHDOG:-}" ] && kill "$INTEG_WATCHDOG" 2>/dev/null && wait "$INTEG_WATCHDOG" 2>/dev/null
	if [ "$rc" -ne 0 ]; then
		integ_dump_logs
		echo "$INTEG_NAME: FAILED (status $rc) after $(($(now_ms) - INTEG_T0)) ms" >&2
	else
		echo "$INTEG_NAME: passed in $(($(now_ms) - INTEG_T0)) ms"
	fi
	if [ -n "${INTEG_KEEP:-}" ]; then
		echo "kept $T" >&2
	else
		rm -rf "$T"
	fi
	exit "$rc"
}
trap integ_cleanup EXIT
trap 'exit 1' INT TERM HUP

# The watchdog: a subshell that TERMs the script when the limit passes.
(
	trap 'kill "$integ_sleep" 2>/dev/null; exit 0' TERM
	sleep "$INTEG_LIMIT" &
	integ_sleep=$!
	wait "$integ_sleep"
	echo "FAIL: $INTEG_NAME still running after ${INTEG_LIMIT}s: watchdog" >&2
	kill -TERM $$
) >/dev/null &
INTEG_WATCHDOG=$!

# ---- the relay ----

relay_listening()
{
	if ! pid_alive "$RELAY_PID"; then
		wait "$RELAY_PID" 2>/dev/null
		RELAY_EXIT=$?
		return 2
	fi
	grep -q '^listening on ' "$T/relay.out"
}

relay_spawn()
{
	: >"$T/relay.out"
	"$RELAY_BIN" --listen "127.0.0.1:$RELAY_PORT" --data "$T/relay" "${RELAY_ARGS[@]}" \
		>"$T/relay.out" 2>>"$T/relay.log" &
	RELAY_PID=$!
	INTEG_PIDS+=("$RELAY_PID")
}

# relay_start [RELAY OPTIONS...]: start the relay on a free port; later
# calls (after relay_kill9/relay_stop) restart it on the same port and data
# directory, so that the profiles' relay URL stays valid.
relay_start()
{
	local deadline r
	[ $# -gt 0 ] && RELAY_ARGS=("$@")
	deadline=$(($(now_ms) + 15000))
	relay_spawn
	while :; do
		relay_listening
		r=$?
		[ $r -eq 0 ] && break
		[ "$(now_ms)" -lt "$deadline" ] || fail "the relay did not start listening"
		if [ $r -eq 2 ]; then
			# Exit 1 is a bind failure when the old port is not free yet.
			[ "$RELAY_EXIT" -eq 1 ] && [ "$RELAY_PORT" != 0 ] ||
				fail "the relay exited with status $RELAY_EXIT"
			sleep 0.2
			relay_spawn
			continue
		fi
		sleep 0.05
	done
	RELAY_PORT=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$T/relay.out")
	[ -n "$RELAY_PORT" ] || fail "unexpected relay banner: $(head -n 1 "$T/relay.out")"
	RELAY_URL=ws://127.0.0.1:$RELAY_PORT
}

relay_kill9()
{
	kill -KILL "$RELAY_PID" 2>/dev/null
	wait "$RELAY_PID" 2>/dev/null
	RELAY_PID=
}

relay_stop()
{
	integ_stop_pid "$RELAY_PID"
	wait "$RELAY_PID" 2>/dev/null
	RELAY_PID=
}

# SQL on the relay's database (read-only queries may run while it runs).
relay_sql()
{
	command -v sqlite3 >/dev/null || hard_error "sqlite3 is needed"
	# The relay's write transactions may hold the lock for a moment.
	sqlite3 -batch -noheader -cmd '.timeout 10000' "$T/relay/relay.db" "$@"
}

# Envelopes still queued on the relay for an account (all its devices).
relay_queue_len()
{
	relay_sql "SELECT count(*) FROM queue WHERE account =
		(SELECT id FROM accounts WHERE name = '$1');"
}

# ---- profiles and engines ----

# sotto_as PROFILE ARGS...: run sotto on PROFILE's directory.
sotto_as()
{
	local who=$1
	shift
	timeout -k 5 "$INTEG_CMD_TIMEOUT" "$SOTTO" --home "$T/$who" "$@"
}

# profile_register DIR [ACCOUNT]: a new profile with a key file, registered
# as ACCOUNT (default DIR) on the relay.
profile_register()
{
	local dir=$1 account=${2:-$1}
	mkdir -m 700 "$T/$dir" || fail "mkdir $dir"
	INTEG_PROFILES+=("$dir")
	sotto_as "$dir" register --keyfile --json --relay "$RELAY_URL" "$account" \
		>"$T/$dir.register" 2>"$T/$dir.register.err" ||
		fail "register $account exited $?: $(cat "$T/$dir.register.err")"
}

# An engine truncates engine.log when it starts: keep what a stopped one
# wrote in $T/PROFILE.engine-logs before the next starts.
engine_harvest_log()
{
	local log=$T/$1/engine.log
	engine_running "$1" && return 0
	[ -s "$log" ] || return 0
	cat "$log" >>"$T/$1.engine-logs"
	: >"$log"
}

engine_pid()
{
	cat "$T/$1/engine.pid" 2>/dev/null
}

engine_running()
{
	pid_alive "$(engine_pid "$1")"
}

engine_gone()
{
	! engine_running "$1"
}

# engine_start PROFILE: a persistent engine (sotto daemon).
engine_start()
{
	engine_harvest_log "$1"
	sotto_as "$1" daemon >/dev/null 2>"$T/$1.daemon.err" ||
		fail "sotto daemon for $1 exited $?: $(cat "$T/$1.daemon.err")"
	wait_until 20 "$1's engine" engine_running "$1"
}

engine_stop()
{
	integ_stop_pid "$(engine_pid "$1")"
	engine_harvest_log "$1"
}

engine_kill9()
{
	local pid
	pid=$(engine_pid "$1")
	[ -n "$pid" ] || fail "$1 has no engine to kill"
	kill -KILL "$pid"
	wait_until 10 "$1's engine to die" engine_gone "$1"
}

# ---- messages ----

# rpc_once PROFILE METHOD PARAMS-JSON: one call through `sotto rpc`; prints
# the result, fails (status 1) on an error answer.
rpc_once()
{
	local out
	out=$(jq -nc --arg m "$2" --argjson p "$3" '{jsonrpc: "2.0", id: 1, method: $m, params: $p}' |
		sotto_as "$1" rpc) || return 1
	jq -e -c 'if has("result") then .result else error("rpc error") end' <<<"$out" 2>/dev/null
}

# history_json PROFILE [--with PEER]: every message, one object per line,
# oldest first, read a page at a time with the "messages" method (a single
# "history" reply of a long conversation is too big for the engine's
# socket buffer today: see the report) .
history_json()
{
	local who=$1 peer= convs conv after page n
	[ "${2:-}" = --with ] && peer=$3
	convs=$(rpc_once "$who" conversations '{}') || return 1
	convs=$(jq -r --arg p "$peer" '.conversations[] | select($p == "" or .peer == $p) | .id' \
		<<<"$convs") || return 1
	# No conversation with PEER yet: nothing received from or sent to it
	# (under chaos a first message may still be on its way).
	[ -n "$convs" ] || return 0
	for conv in $convs; do
		after=0
		while :; do
			page=$(rpc_once "$who" messages \
				"{\"conversation\":$conv,\"after_id\":$after,\"limit\":400}") || return 1
			n=$(jq '.messages | length' <<<"$page")
			jq -c '.messages[]' <<<"$page"
			[ "$n" -eq 400 ] || break
			after=$(jq '.messages[-1].id' <<<"$page")
		done
	done
}

# history_cli PROFILE PEER: the same through `sotto history --json`.
history_cli()
{
	sotto_as "$1" history --json --limit 1000000 --with "$2" |
		jq -c 'if type == "object" and has("messages") then .messages[] else . end'
}

# incoming_texts PROFILE PEER: texts received from PEER, oldest first.
incoming_texts()
{
	history_json "$1" --with "$2" | jq -r 'select(.direction == "in") | .text'
}

outgoing_texts()
{
	history_json "$1" --with "$2" | jq -r 'select(.direction == "out") | .text'
}

count_incoming()
{
	history_json "$1" --with "$2" | jq -s '[.[] | select(.direction == "in")] | length'
}

# has_incoming PROFILE PEER N: at least N messages received from PEER.
has_incoming()
{
	local n
	n=$(count_incoming "$1" "$2") || return 1
	[ "$n" -ge "$3" ]
}

# gen_texts PREFIX FIRST LAST: one distinct message text per line, with
# UTF-8, quotes and backslashes so that escaping is exercised too.
gen_texts()
{
	awk -v p="$1" -v a="$2" -v b="$3" 'BEGIN {
		for (i = a; i <= b; i++) {
			if (i % 7 == 0)
				printf "%s %05d h\303\251llo \342\234\223 \"quoted\" back\\slash\n", p, i
			else if (i % 11 == 0)
				printf "%s %05d \360\237\231\202 emoji\n", p, i
			else
				printf "%s %05d\n", p, i
		}
	}'
}

# send_requests TO FIRST_ID < TEXTS: JSON-RPC send requests, one a line.
send_requests()
{
	jq -R -c --arg to "$1" --argjson base "$2" \
		'{jsonrpc: "2.0", id: ($base + input_line_number - 1), method: "send",
		  params: {to: $to, text: .}}'
}

# send_oneshot FROM TO < TEXTS: one `sotto send` per line.
send_oneshot()
{
	local text rc
	while IFS= read -r text; do
		sotto_as "$1" send "$2" "$text" >/dev/null 2>>"$T/$1.send.err"
		rc=$?
		[ $rc -eq 0 ] || fail "sotto send $2 '$text' from $1 exited $rc"
	done
}

# rpc_batch PROFILE REQUESTS OUT: feed a file of requests to one `sotto rpc`
# and wait for all its answers.
rpc_batch()
{
	sotto_as "$1" rpc <"$2" >"$3" 2>>"$T/$1.rpc.err" ||
		fail "sotto rpc for $1 exited $?: $(tail -n 3 "$T/$1.rpc.err")"
}

# rpc_answers_at_least OUT N: an rpc output file has N lines (answers).
rpc_answers_at_least()
{
	local n
	n=$(wc -l <"$1" 2>/dev/null) || return 1
	[ "$n" -ge "$2" ]
}

# rpc_errors OUT: the error answers in an rpc output file, if any.
rpc_errors()
{
	jq -c 'select(has("error"))' "$1"
}

# ---- a long-lived `sotto rpc` on a FIFO ----

# rpc_open NAME PROFILE
rpc_open()
{
	local name=$1 who=$2 fd
	mkfifo "$T/$name.in"
	timeout -k 5 "$INTEG_LIMIT" "$SOTTO" --home "$T/$who" rpc <"$T/$name.in" \
		>"$T/$name.out" 2>"$T/$name.err" &
	INTEG_RPC_PID[$name]=$!
	INTEG_PIDS+=("$!")
	exec {fd}>"$T/$name.in"
	INTEG_RPC_FD[$name]=$fd
}

# rpc_send NAME JSON-LINE
rpc_send()
{
	printf '%s\n' "$2" >&"${INTEG_RPC_FD[$1]}" || fail "writing to rpc $1"
}

rpc_has_answer()
{
	# Not jq -e: jq 1.6 judges the last input, not the last output.
	[ -n "$(jq -c --argjson id "$2" 'select(.id == $id)' "$T/$1.out" 2>/dev/null)" ]
}

# rpc_answer NAME ID [SECONDS]: wait for the answer to request ID, print it.
rpc_answer()
{
	wait_until "${3:-30}" "answer $2 on rpc $1" rpc_has_answer "$1" "$2"
	jq -c --argjson id "$2" 'select(.id == $id)' "$T/$1.out" 2>/dev/null | head -n 1
}

# rpc_call NAME ID METHOD [PARAMS-JSON]: send a request and print its answer.
rpc_call()
{
	local req
	req=$(jq -nc --argjson id "$2" --arg m "$3" --argjson p "${4:-null}" \
		'{jsonrpc: "2.0", id: $id, method: $m} + (if $p == null then {} else {params: $p} end)')
	rpc_send "$1" "$req"
	rpc_answer "$1" "$2"
}

# rpc_events NAME TYPE: data of the event notifications of TYPE seen so far.
rpc_events()
{
	jq -c --arg t "$2" 'select(.method == "event" and .params.type == $t) | .params.data' \
		"$T/$1.out" 2>/dev/null
}

# rpc_has_event NAME TYPE [JSON]: an event of TYPE whose data contains JSON.
rpc_has_event()
{
	local m=${3:-'{}'}
	[ -n "$(rpc_events "$1" "$2" | jq -c --argjson m "$m" 'select(contains($m))')" ]
}

# rpc_close NAME: end its standard input; it exits once it got its answers.
rpc_close()
{
	local name=$1 pid=${INTEG_RPC_PID[$1]}
	eval "exec ${INTEG_RPC_FD[$name]}>&-"
	unset "INTEG_RPC_FD[$name]"
	wait_until 20 "rpc $name to exit" integ_not_alive "$pid"
	wait "$pid"
}

integ_not_alive()
{
	! pid_alive "$1"
}

# ---- checks ----

# same_lines WHAT EXPECTED ACTUAL: the two files hold the same lines in
# the same order; otherwise fail with a short diff.
same_lines()
{
	if ! cmp -s "$2" "$3"; then
		echo "---- $1: expected vs actual (first differences) ----" >&2
		diff "$2" "$3" | head -n 20 >&2
		fail "$1: $(wc -l <"$2") lines expected, $(wc -l <"$3") found, or another order"
	fi
}

# no_duplicates WHAT FILE
no_duplicates()
{
	local d
	d=$(sort "$2" | uniq -d | head -n 5)
	[ -z "$d" ] || fail "$1: duplicated: $d"
}

# ---- common set-ups ----

# setup_pair: a relay, alice and bob registered, both engines running.
setup_pair()
{
	relay_start "$@"
	profile_register alice
	profile_register bob
	engine_start alice
	engine_start bob
}

# warm_up: one message each way, so both sides hold a session before a
# burst (simultaneous first messages are not what these scenarios test).
# They are the first line of $T/alice.sent and $T/bob.sent.
warm_up()
{
	send_oneshot alice bob < <(head -n 1 "$T/alice.sent")
	wait_until 30 "bob's first message from alice" has_incoming bob alice 1
	send_oneshot bob alice < <(head -n 1 "$T/bob.sent")
	wait_until 30 "alice's first message from bob" has_incoming alice bob 1
}

queues_empty()
{
	local a
	for a in "$@"; do
		[ "$(relay_queue_len "$a")" = 0 ] || return 1
	done
}

# check_received FROM TO: TO received exactly $T/FROM.sent, in order, and
# FROM's history shows the same messages sent, with the same msg_ids.
check_received()
{
	local from=$1 to=$2
	incoming_texts "$to" "$from" >"$T/$to.got.$from" || fail "history of $to"
	no_duplicates "$to's messages from $from" "$T/$to.got.$from"
	same_lines "$to's messages from $from" "$T/$from.sent" "$T/$to.got.$from"
	outgoing_texts "$from" "$to" >"$T/$from.out.$to" || fail "history of $from"
	same_lines "$from's sent messages to $to" "$T/$from.sent" "$T/$from.out.$to"
	# Named for one direction each: this runs for both directions.
	history_json "$from" --with "$to" | jq -r 'select(.direction == "out") | .msg_id' \
		>"$T/$from.sent_ids.$to"
	history_json "$to" --with "$from" | jq -r 'select(.direction == "in") | .msg_id' \
		>"$T/$to.got_ids.$from"
	no_duplicates "msg_ids sent by $from" "$T/$from.sent_ids.$to"
	same_lines "msg_ids from $from to $to on both sides" "$T/$from.sent_ids.$to" \
		"$T/$to.got_ids.$from"
	wait_until 30 "$from's messages to leave state sending" none_sending "$from"
}

# rpc_check_sent OUT COUNT: COUNT answers, none an error, every message
# handed to the relay or queued to be ("send" answers "sending" when the
# relay's ack takes more than a few seconds, as under a pipelined burst;
# check_received later insists that every message left that state).
rpc_check_sent()
{
	local n errs bad
	errs=$(rpc_errors "$1" | head -n 3)
	[ -z "$errs" ] || fail "send requests failed: $errs"
	n=$(jq -s '[.[] | select(has("result"))] | length' "$1")
	[ "$n" -eq "$2" ] || fail "$n send answers instead of $2"
	bad=$(jq -c 'select(.result.message.state | IN("sending", "sent", "delivered", "read") | not)' "$1" | head -n 3)
	[ -z "$bad" ] || fail "unexpected send results: $bad"
	n=$(jq -s '[.[] | select(.result.message.state == "sending")] | length' "$1")
	[ "$n" = 0 ] || note "$n of $2 sends were answered \"sending\" (relay ack slower than the engine waits)"
}

# none_sending PROFILE: no outgoing message is still "sending" or "failed".
none_sending()
{
	local left
	left=$(history_json "$1" | jq -c 'select(.direction == "out" and (.state == "sending" or .state == "failed"))' | head -n 1) || return 1
	[ -z "$left" ]
}

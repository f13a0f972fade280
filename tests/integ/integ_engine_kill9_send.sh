#!/bin/bash
# Alice's engine is killed with SIGKILL in the middle of a burst of sends
# and restarted: every message it had accepted (it is in alice's history)
# reaches bob exactly once and in order, every send that was answered among
# them, and none is left "sending".
. "$(dirname "$0")/lib.sh"

N=${INTEG_N:-600}

setup_pair
gen_texts "alice>bob" 1 "$N" >"$T/alice.sent"
gen_texts "bob>alice" 1 1 >"$T/bob.sent"
tail -n +2 "$T/alice.sent" | send_requests bob 1 >"$T/alice.req"
warm_up

note "alice sends $N messages"
sotto_as alice rpc <"$T/alice.req" >"$T/alice.rpc" 2>"$T/alice.rpc.err" &
a=$!
wait_until 60 "alice's sends to get going" rpc_answers_at_least "$T/alice.rpc" 50
engine_kill9 alice
note "alice's engine killed after $(wc -l 2>/dev/null <"$T/alice.rpc") of $((N - 1)) sends were answered"
wait $a && note "(alice's rpc had already finished)"
engine_start alice

# What alice's engine accepted is in its history; it must all get through.
outgoing_texts alice bob >"$T/alice.accepted" || fail "alice's history"
k=$(wc -l <"$T/alice.accepted")
note "alice's engine had accepted $k of $N"
head -n "$k" "$T/alice.sent" >"$T/alice.prefix"
same_lines "alice's accepted messages (a prefix of what was sent)" "$T/alice.prefix" \
	"$T/alice.accepted"
answered=$(jq -s '[.[] | select(has("result"))] | length' "$T/alice.rpc")
[ $((answered + 1)) -le "$k" ] || fail "$answered sends answered but only $k in history"
errs=$(rpc_errors "$T/alice.rpc" | head -n 3)
[ -z "$errs" ] || fail "send requests failed: $errs"

cp "$T/alice.accepted" "$T/alice.sent"
wait_until 60 "bob to receive all $k" has_incoming bob alice "$k"
wait_until 30 "bob's relay queue to drain" queues_empty bob
check_received alice bob

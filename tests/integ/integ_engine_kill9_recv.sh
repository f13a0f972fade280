#!/bin/bash
# Bob's engine is killed with SIGKILL three times while alice streams
# messages to it, and restarted each time: what was committed is kept, what
# was not is delivered again by the relay; every message arrives exactly
# once and in order.
. "$(dirname "$0")/lib.sh"

N=${INTEG_N:-600}

setup_pair
gen_texts "alice>bob" 1 "$N" >"$T/alice.sent"
gen_texts "bob>alice" 1 1 >"$T/bob.sent"
tail -n +2 "$T/alice.sent" | send_requests bob 1 >"$T/alice.req"
warm_up

note "alice streams $N messages"
(rpc_batch alice "$T/alice.req" "$T/alice.rpc") &
a=$!
for round in 1 2 3; do
	wait_until 60 "bob to receive more" has_incoming bob alice $((round * N / 5))
	pid_alive "$a" && mid="while alice was still sending" || mid="after alice finished sending"
	engine_kill9 bob
	note "bob's engine killed (round $round, $mid)"
	engine_start bob
done
wait $a || fail "alice's rpc failed"
rpc_check_sent "$T/alice.rpc" $((N - 1))

wait_until 60 "bob to receive all $N" has_incoming bob alice "$N"
wait_until 30 "bob's relay queue to drain" queues_empty bob
check_received alice bob

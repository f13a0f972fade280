#!/bin/bash
# The relay is killed with SIGKILL in the middle of a burst both ways and
# restarted on the same port and data directory: the engines reconnect and
# resend what was not acknowledged; nothing is lost, nothing doubled, and
# each sender's order is kept.
. "$(dirname "$0")/lib.sh"

N=${INTEG_N:-400}

setup_pair
for p in "alice bob" "bob alice"; do
	set -- $p
	gen_texts "$1>$2" 1 "$N" >"$T/$1.sent"
	tail -n +2 "$T/$1.sent" | send_requests "$2" 1 >"$T/$1.req"
done
warm_up

note "burst of $N each way"
(rpc_batch alice "$T/alice.req" "$T/alice.rpc") &
a=$!
(rpc_batch bob "$T/bob.req" "$T/bob.rpc") &
b=$!
wait_until 60 "the burst to get going" rpc_answers_at_least "$T/alice.rpc" 20
relay_kill9
note "relay killed with SIGKILL after $(wc -l 2>/dev/null <"$T/alice.rpc") and $(wc -l 2>/dev/null <"$T/bob.rpc") of $((N - 1)) sends each were answered"
relay_start
note "relay restarted on port $RELAY_PORT"

# Sends that found the relay gone stay queued ("sending") until it is back.
wait $a || fail "alice's rpc failed"
wait $b || fail "bob's rpc failed"
rpc_check_sent "$T/alice.rpc" $((N - 1))
rpc_check_sent "$T/bob.rpc" $((N - 1))

wait_until 90 "bob to receive all $N" has_incoming bob alice "$N"
wait_until 90 "alice to receive all $N" has_incoming alice bob "$N"
wait_until 30 "the relay queues to drain" queues_empty alice bob
check_received alice bob
check_received bob alice


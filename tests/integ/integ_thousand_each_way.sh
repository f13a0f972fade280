#!/bin/bash
# Alice and bob each send 1,000 messages to the other at the same time,
# 100 with one `sotto send` each and the rest through one long-running
# `sotto rpc`: every message arrives exactly once, in order, on both sides.
. "$(dirname "$0")/lib.sh"

N=${INTEG_N:-1000}
N_ONESHOT=${INTEG_N_ONESHOT:-100}

setup_pair
for p in "alice bob" "bob alice"; do
	set -- $p
	gen_texts "$1>$2" 1 "$N" >"$T/$1.sent"
	sed -n "2,${N_ONESHOT}p" "$T/$1.sent" >"$T/$1.oneshot"
	tail -n +$((N_ONESHOT + 1)) "$T/$1.sent" | send_requests "$2" 1 >"$T/$1.req"
done
warm_up

note "sending $N messages each way"
(send_oneshot alice bob <"$T/alice.oneshot" && rpc_batch alice "$T/alice.req" "$T/alice.rpc") &
a=$!
(send_oneshot bob alice <"$T/bob.oneshot" && rpc_batch bob "$T/bob.req" "$T/bob.rpc") &
b=$!
wait $a || fail "alice's sends failed"
wait $b || fail "bob's sends failed"
rpc_check_sent "$T/alice.rpc" $((N - N_ONESHOT))
rpc_check_sent "$T/bob.rpc" $((N - N_ONESHOT))
note "all sent; waiting for delivery"

wait_until 60 "bob to receive $N messages" has_incoming bob alice "$N"
wait_until 60 "alice to receive $N messages" has_incoming alice bob "$N"
# Once the relay holds nothing more for either, nothing else can arrive.
wait_until 30 "the relay queues to drain" queues_empty alice bob
check_received alice bob
check_received bob alice
note "$N each way, in order, exactly once"

# The same, as `sotto history --json` prints it, on both sides.
history_cli alice bob | jq -r 'select(.direction == "out") | .msg_id' >"$T/alice.cli.out" ||
	fail "sotto history --json for alice exited $?"
history_cli bob alice | jq -r 'select(.direction == "in") | .msg_id' >"$T/bob.cli.in" ||
	fail "sotto history --json for bob exited $?"
same_lines "alice's sent msg_ids in sotto history --json" "$T/alice.sent_ids.bob" "$T/alice.cli.out"
same_lines "bob's received msg_ids in sotto history --json" "$T/alice.sent_ids.bob" "$T/bob.cli.in"

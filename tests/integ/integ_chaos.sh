#!/bin/bash
# The relay drops, duplicates, reorders and delays envelope pushes
# (--chaos drop=0.1,dup=0.1,reorder=0.1,delay=20) while alice and bob
# exchange 300 messages each way: everything converges, every message
# exactly once. A dropped push is only delivered again on the device's next
# connection (sotto-relay(8), CHAOS), so when a receiver stops making
# progress while the relay still holds envelopes for it, its engine is
# restarted, as a user would.
. "$(dirname "$0")/lib.sh"

N=${INTEG_N:-300}
SEED=${INTEG_SEED:-$(($(now_ms) % 1000000))}

setup_pair --chaos "drop=0.1,dup=0.1,reorder=0.1,delay=20,seed=$SEED"
note "chaos seed $SEED"
for p in "alice bob" "bob alice"; do
	set -- $p
	gen_texts "$1>$2" 1 "$N" >"$T/$1.sent"
	send_requests "$2" 1 <"$T/$1.sent" >"$T/$1.req"
done

# The first message each way alone, so that sessions are set up in turn.
for a in alice bob; do
	head -n 1 "$T/$a.req" >"$T/$a.req1"
	tail -n +2 "$T/$a.req" >"$T/$a.reqn"
done
rpc_batch alice "$T/alice.req1" "$T/alice.rpc1"

restarts=0
# converge RECEIVER SENDER COUNT: wait for COUNT messages, restarting the
# receiver's engine when it is stuck with envelopes waiting on the relay.
converge()
{
	local to=$1 from=$2 want=$3 last=-1 n since deadline
	deadline=$(($(now_ms) + 120000))
	since=$(now_ms)
	while :; do
		n=$(count_incoming "$to" "$from") || fail "history of $to"
		[ "$n" -ge "$want" ] && return 0
		[ "$(now_ms)" -lt "$deadline" ] || fail "$to has $n of $want messages from $from"
		if [ "$n" != "$last" ]; then
			last=$n
			since=$(now_ms)
		elif [ $(($(now_ms) - since)) -gt 3000 ] && [ "$(relay_queue_len "$to")" != 0 ]; then
			note "$to stuck at $n of $want with envelopes on the relay: restarting its engine"
			engine_stop "$to"
			engine_start "$to"
			restarts=$((restarts + 1))
			since=$(now_ms)
		fi
		sleep 0.2
	done
}
converge bob alice 1
rpc_batch bob "$T/bob.req1" "$T/bob.rpc1"
converge alice bob 1

note "$N each way through chaos"
(rpc_batch alice "$T/alice.reqn" "$T/alice.rpc") &
a=$!
(rpc_batch bob "$T/bob.reqn" "$T/bob.rpc") &
b=$!
wait $a || fail "alice's sends failed"
wait $b || fail "bob's sends failed"
rpc_check_sent "$T/alice.rpc" $((N - 1))
rpc_check_sent "$T/bob.rpc" $((N - 1))
converge bob alice "$N"
converge alice bob "$N"
# Receipts go through chaos too: wait until the relay holds nothing,
# restarting an engine whose queue is stuck.
drain()
{
	local deadline a q
	declare -A lastq since
	deadline=$(($(now_ms) + 60000))
	for a in alice bob; do
		lastq[$a]=-1
		since[$a]=$(now_ms)
	done
	until queues_empty alice bob; do
		[ "$(now_ms)" -lt "$deadline" ] || fail "the relay queues did not drain"
		for a in alice bob; do
			q=$(relay_queue_len "$a")
			if [ "$q" != "${lastq[$a]}" ]; then
				lastq[$a]=$q
				since[$a]=$(now_ms)
			elif [ "$q" != 0 ] && [ $(($(now_ms) - since[$a])) -gt 3000 ]; then
				note "$q envelopes stuck on the relay for $a: restarting its engine"
				engine_stop "$a"
				engine_start "$a"
				restarts=$((restarts + 1))
				since[$a]=$(now_ms)
			fi
		done
		sleep 0.2
	done
}
drain
note "converged after $restarts engine restarts"

for p in "alice bob" "bob alice"; do
	set -- $p
	incoming_texts "$2" "$1" >"$T/$2.got" || fail "history of $2"
	no_duplicates "$2's messages from $1" "$T/$2.got"
	sort "$T/$1.sent" >"$T/$1.sent.sorted"
	sort "$T/$2.got" >"$T/$2.got.sorted"
	same_lines "$2's messages from $1 (as a set)" "$T/$1.sent.sorted" "$T/$2.got.sorted"
	if cmp -s "$T/$1.sent" "$T/$2.got"; then
		note "$2 got $1's messages in order"
	else
		note "$2 got $1's messages in another order (reordered pushes)"
	fi
done

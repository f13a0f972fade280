#!/bin/bash
# bench_e2e: end-to-end figures through a real sotto-relay on loopback with
# real engines (encrypt -> relay -> decrypt -> commit -> ack): messages per
# second, latency percentiles, and the catch-up rate of a deep offline
# queue. Prints figures only; never passes or fails on time.
# Run: make bench-e2e (or top_builddir=BUILD bash bench/bench_e2e.sh).
. "$(dirname "$0")/../tests/integ/lib.sh"

M=${BENCH_M:-2000}         # pipelined messages for throughput
P=${BENCH_P:-200}          # one-at-a-time messages for latency
Q=${BENCH_Q:-10000}        # messages queued while the receiver is offline
RATE=${BENCH_RATE:-1000}   # fixed-rate phase: messages per second offered ...
SECS=${BENCH_SECS:-10}     # ... for this many seconds
PACE=$INTEG_TOP/bench/bench_pace
STAMP=$INTEG_TOP/bench/bench_stamp
[ -x "$PACE" ] || hard_error "no bench/bench_pace at $PACE (make bench/bench_pace)"
[ -x "$STAMP" ] || hard_error "no bench/bench_stamp at $STAMP (make bench/bench_stamp)"

# percentiles FILE [DECIMALS]: p50 p90 p99 max of a column of
# milliseconds, shown with DECIMALS digits after the point (default 0).
percentiles()
{
	sort -g "$1" | awk -v d="${2:-0}" '
		function at(p,  i) {
			i = int(p * NR + 0.999999) # nearest rank
			return v[i < 1 ? 1 : i > NR ? NR : i]
		}
		{ v[NR] = $1 }
		END {
			if (NR == 0) { print "n/a (no data)"; exit }
			f = "%." d "f"
			printf "p50 " f " ms, p90 " f " ms, p99 " f " ms, max " f " ms (n=%d)\n",
				at(0.50), at(0.90), at(0.99), v[NR], NR
		}'
}

# latencies PROFILE PEER SKIP: received_ms - sent_ms of the incoming
# messages after the first SKIP.
latencies()
{
	history_json "$1" --with "$2" |
		jq -r 'select(.direction == "in" and .received_ms != null) | .received_ms - .sent_ms' |
		tail -n +$(($3 + 1))
}

last_received_ms()
{
	history_json "$1" --with "$2" |
		jq -s '[.[] | select(.direction == "in") | .received_ms // 0] | max // 0'
}

first_received_ms()
{
	history_json "$1" --with "$2" |
		jq -s "[.[] | select(.direction == \"in\") | .received_ms // 0] | .[$3:] | min // 0"
}

relay_start --max-queue $((Q * 2))
profile_register alice
profile_register bob
engine_start alice
engine_start bob
gen_texts "warm" 1 1 >"$T/alice.sent"
gen_texts "warm" 1 1 >"$T/bob.sent"
warm_up

echo "sotto end-to-end benchmark (relay and two engines on loopback, $(nproc) CPUs)"

# 1. Latency, one message at a time (each send waits for the relay's ack).
gen_texts "paced" 1 "$P" | send_requests bob 1 >"$T/paced.req"
: >"$T/paced.rpc"
while IFS= read -r line; do
	printf '%s\n' "$line" | sotto_as alice rpc >>"$T/paced.rpc" 2>>"$T/alice.rpc.err" ||
		fail "paced send"
done <"$T/paced.req"
wait_until 60 "bob to receive the paced messages" has_incoming bob alice $((1 + P))
latencies bob alice 1 >"$T/paced.lat"
echo "latency, one at a time ($P messages): $(percentiles "$T/paced.lat")"

# 2. Throughput and latency under load: M requests pipelined on one rpc.
gen_texts "load" 1 "$M" | send_requests bob 1 >"$T/load.req"
t0=$(now_ms)
INTEG_CMD_TIMEOUT=300 rpc_batch alice "$T/load.req" "$T/load.rpc"
t_sent=$(now_ms) # every send answered: acked, or "sending" after the engine's wait
wait_until 120 "bob to receive the pipelined messages" has_incoming bob alice $((1 + P + M))
t_last=$(last_received_ms bob alice)
latencies bob alice $((1 + P)) >"$T/load.lat"
echo "pipelined ($M messages on one rpc session):"
echo "  send answers: $((M * 1000 / (t_sent - t0 > 0 ? t_sent - t0 : 1))) msg/s ($(jq -s '[.[] | select(.result.message.state == "sending")] | length' "$T/load.rpc") answered \"sending\")"
if [ "$t_last" -gt "$t0" ]; then
	echo "  end to end (first send to last commit at bob): $((M * 1000 / (t_last - t0))) msg/s"
fi
echo "  latency: $(percentiles "$T/load.lat")"

# 3. Catch-up: Q messages queued while bob is offline.
engine_stop bob
wait_until 20 "bob's engine to stop" engine_gone bob
gen_texts "queued" 1 "$Q" | send_requests bob 1 >"$T/queued.req"
relay_holds_queue()
{
	[ "$(relay_queue_len bob)" -ge "$Q" ]
}
t0=$(now_ms)
INTEG_CMD_TIMEOUT=300 rpc_batch alice "$T/queued.req" "$T/queued.rpc"
# Sends answered "sending" are still on their way: wait for all of them.
wait_until 300 "the relay to hold $Q envelopes for bob" relay_holds_queue
t1=$(now_ms)
echo "offline queue: $Q sends stored by the relay at $((Q * 1000 / (t1 - t0 > 0 ? t1 - t0 : 1))) msg/s"
have=$((1 + P + M))
t0=$(now_ms)
engine_start bob
wait_until 300 "bob to catch up" queues_empty bob
t1=$(now_ms)
wait_until 60 "bob's history to hold the backlog" has_incoming bob alice $((have + Q))
t_first=$(first_received_ms bob alice "$have")
t_last=$(last_received_ms bob alice)
echo "catch-up of $Q queued messages:"
# The engine's own clock stamps each commit (received_ms); the relay's
# queue is only looked at every 0.1 s, so that figure is coarser.
if [ "$t_last" -gt "$t0" ]; then
	echo "  engine start to last commit: $((t_last - t0)) ms, $((Q * 1000 / (t_last - t0))) msg/s"
fi
if [ "$t_first" -gt 0 ] && [ "$t_last" -gt "$t_first" ]; then
	echo "  first to last commit: $((t_last - t_first)) ms, $((Q * 1000 / (t_last - t_first))) msg/s"
fi
echo "  engine start to empty relay queue (polled every 0.1 s): $((t1 - t0)) ms, $((Q * 1000 / (t1 - t0 > 0 ? t1 - t0 : 1))) msg/s"

# 4 and 5. Fixed rate: RATE msg/s offered for SECS s from alice to bob by
# a paced writer, straight into alice's engine socket as the interface
# does, then through one `sotto rpc` as a script does. Latency is measured
# on one machine, one clock:
# - to bob storing it: his received_ms (inside his transaction) minus
#   alice's sent_ms, split at the relay's server_ms;
# - to bob's commit: his event's time_ms (the ack goes out in the same
#   pass) minus sent_ms;
# - typed to seen: from the writer's stamp (microseconds) when the request
#   was written to a frontend attached to bob's engine socket, subscribed
#   to its events, reading the message event (microseconds): what a user
#   of the interface sees, to a tenth of a millisecond.
# fixed_rate VIA PREFIX: VIA is socket or rpc; PREFIX starts the texts.
fixed_rate()
{
	local via=$1 prefix=$2 n=$((RATE * SECS)) cursor follow_pid t_first t_last got

	cursor=$(rpc_once bob engine.info '{}' | jq -r .cursor) || fail "engine.info of bob"
	"$STAMP" "$T/bob" "$cursor" >"$T/follow" 2>"$T/follow.err" &
	follow_pid=$!
	sleep 0.5
	if [ "$via" = socket ]; then
		echo "fixed rate ($RATE msg/s offered for $SECS s, written to alice's engine socket as the interface does):"
		"$PACE" "$RATE" "$SECS" bob "$prefix" 1 "$T/pace.times" "$T/alice" \
			>"$T/rate.rpc" 2>"$T/pace.err" ||
			fail "the paced writer exited $?: $(cat "$T/pace.err")"
	else
		echo "fixed rate ($RATE msg/s offered for $SECS s, through one \`sotto rpc\` as a script does):"
		"$PACE" "$RATE" "$SECS" bob "$prefix" 1 "$T/pace.times" 2>"$T/pace.err" |
			sotto_as alice rpc >"$T/rate.rpc" 2>>"$T/alice.rpc.err" ||
			fail "the paced sotto rpc exited $?: $(tail -n 3 "$T/alice.rpc.err")"
	fi
	wait_until 120 "bob to receive the fixed-rate messages" has_incoming bob alice $((have + n))
	latencies bob alice "$have" >"$T/rate.lat"
	t_first=$(first_received_ms bob alice "$have")
	t_last=$(last_received_ms bob alice)
	echo "  writer: $(cat "$T/pace.err")"
	echo "  send answers \"sending\" (relay ack later than 5 s): $(jq -s '[.[] | select(.result.message.state == "sending")] | length' "$T/rate.rpc"), errors: $(rpc_errors "$T/rate.rpc" | wc -l)"
	if [ "$t_last" -gt "$t_first" ]; then
		got=$(((n - 1) * 1000 / (t_last - t_first)))
		echo "  bob committed them at $got msg/s (first to last commit $((t_last - t_first)) ms)"
		if [ "$got" -ge $((RATE * 98 / 100)) ]; then
			echo "  offered rate sustained: yes"
		else
			echo "  offered rate sustained: NO ($got of $RATE msg/s)"
		fi
	fi
	echo "  latency to bob storing it (received_ms, inside his transaction): $(percentiles "$T/rate.lat")"
	history_json bob --with alice |
		jq -r 'select(.direction == "in" and .server_ms != null) |
			"\(.server_ms - .sent_ms) \(.received_ms - .server_ms)"' |
		tail -n +$((have + 1)) >"$T/rate.split"
	awk '{ print $1 }' "$T/rate.split" >"$T/rate.to_relay"
	awk '{ print $2 }' "$T/rate.split" >"$T/rate.from_relay"
	echo "    sender to relay: $(percentiles "$T/rate.to_relay")"
	echo "    relay to receiver: $(percentiles "$T/rate.from_relay")"
	follower_has()
	{
		[ "$(grep -c "\"text\":\"$prefix " "$T/follow")" -ge "$n" ]
	}
	wait_until 30 "the subscriber to be told of the fixed-rate messages" follower_has
	kill "$follow_pid" 2>/dev/null
	wait "$follow_pid" 2>/dev/null
	sed 's/^\([0-9]*\) \(.*\)$/{"at":\1,"e":\2}/' "$T/follow" |
		jq -r --arg p "$prefix " '.at as $at | .e.params | select(.type == "message") |
			.time_ms as $t | .data.message |
			select(.direction == "in" and (.text | startswith($p))) |
			"\(.text | ltrimstr($p) | tonumber) \($t - .sent_ms) \($at)"' |
		sort -n >"$T/rate.shown"
	awk '{ print $2 }' "$T/rate.shown" >"$T/rate.committed"
	sort -n "$T/pace.times" | join - "$T/rate.shown" |
		awk '{ printf "%.1f\n", ($4 - $2) / 1000 }' >"$T/rate.told"
	echo "  latency to bob's commit (encrypt, relay, decrypt, commit; his event's time_ms): $(percentiles "$T/rate.committed")"
	if [ "$via" = socket ]; then
		echo "  typed to seen (request written to alice's engine socket, event read on bob's): $(percentiles "$T/rate.told" 1)"
	else
		echo "  typed to seen (request written to alice's \`sotto rpc\`, event read on bob's socket): $(percentiles "$T/rate.told" 1)"
	fi
	have=$((have + n))
}

have=$((have + Q))
fixed_rate socket rate
fixed_rate rpc rpcrate

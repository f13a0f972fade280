#!/bin/bash
# A history longer than one JSON-RPC line of 1 MiB: `sotto history` and the
# "history" method of `sotto rpc` return all of it (the frontend once
# refused the engine's answer as "line too long" past ~4,000 messages).
. "$(dirname "$0")/lib.sh"

N=${INTEG_N:-300}

setup_pair
# 300 messages of about 4 KiB: the answer is over 1.2 MB.
awk -v n="$N" 'BEGIN {
	pad = sprintf("%4000s", ""); gsub(/ /, "x", pad)
	for (i = 1; i <= n; i++) printf "long %05d %s\n", i, pad
}' >"$T/bob.sent"
head -n 1 "$T/bob.sent" | send_oneshot bob alice
tail -n +2 "$T/bob.sent" | send_requests alice 1 >"$T/bob.req"
rpc_batch bob "$T/bob.req" "$T/bob.rpc"
rpc_check_sent "$T/bob.rpc" $((N - 1))
wait_until 60 "alice to receive $N messages" has_incoming alice bob "$N"

sotto_as alice history --json --with bob >"$T/history.json" 2>"$T/history.err" ||
	fail "sotto history exited $?: $(cat "$T/history.err")"
size=$(stat -c %s "$T/history.json")
[ "$size" -gt $((1024 * 1024)) ] || fail "the history is only $size bytes: not the long case"
jq -r 'select(.direction == "in") | .text' "$T/history.json" >"$T/history.texts" ||
	fail "sotto history printed something that is not JSON"
same_lines "sotto history" "$T/bob.sent" "$T/history.texts"

echo '{"jsonrpc":"2.0","id":1,"method":"history","params":{"with":"bob"}}' |
	sotto_as alice rpc >"$T/rpc.out" 2>"$T/rpc.err" || fail "sotto rpc exited $?"
n=$(jq '.result.messages | map(select(.direction == "in")) | length' "$T/rpc.out") ||
	fail "the rpc answer is not JSON: $(head -c 200 "$T/rpc.out")"
[ "$n" = "$N" ] || fail "the rpc history answer holds $n of $N messages"
note "a ${size}-byte history read whole"

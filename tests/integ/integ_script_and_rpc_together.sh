#!/bin/bash
# One-shot `sotto send` commands run while a `sotto rpc` session is
# attached to the same profile, both sending at once: both work against
# the one engine, the rpc session sees the script's messages as events,
# and bob gets everything, each source in its own order.
. "$(dirname "$0")/lib.sh"

N=${INTEG_N:-20}

relay_start
profile_register alice
profile_register bob
engine_start bob
wait_until 20 "alice's engine to exit after registering" engine_gone alice

# The rpc session starts alice's engine (not a daemon) and subscribes.
rpc_open A alice
r=$(rpc_call A 1 engine.subscribe '{}')
jq -e '.result.cursor' <<<"$r" >/dev/null || fail "engine.subscribe: $r"
r=$(rpc_call A 2 status '{}')
[ "$(jq -r '.result.account' <<<"$r")" = alice ] || fail "status: $r"

sotto_as alice send bob "first, from a script" >/dev/null || fail "sotto send exited $?"
r=$(rpc_call A 3 send '{"to":"bob","text":"second, from rpc"}')
jq -e '.result.message.state | IN("sending", "sent", "delivered", "read")' <<<"$r" >/dev/null ||
	fail "rpc send: $r"
wait_until 20 "the script's message as an event on the rpc session" \
	rpc_has_event A message '{"message":{"text":"first, from a script","direction":"out"}}'

gen_texts "script" 1 "$N" >"$T/script.sent"
gen_texts "rpc" 1 "$N" >"$T/rpc.sent"
note "$N sends from each at the same time"
(send_oneshot alice bob <"$T/script.sent") &
s=$!
id=100
while IFS= read -r text; do
	rpc_send A "$(jq -nc --argjson id $id --arg t "$text" \
		'{jsonrpc: "2.0", id: $id, method: "send", params: {to: "bob", text: $t}}')"
	id=$((id + 1))
done <"$T/rpc.sent"
wait $s || fail "the one-shot sends failed"
for ((i = 100; i < id; i++)); do
	r=$(rpc_answer A $i)
	jq -e '.result.message.state | IN("sending", "sent", "delivered", "read")' <<<"$r" >/dev/null ||
		fail "rpc send $i: $r"
done
r=$(rpc_call A 4 engine.info '{}')
jq -e '.result.frontends >= 1 and .result.persistent == false' <<<"$r" >/dev/null ||
	fail "engine.info: $r"

wait_until 30 "bob to receive all" has_incoming bob alice $((2 * N + 2))
incoming_texts bob alice >"$T/bob.got"
no_duplicates "bob's messages" "$T/bob.got"
{ echo "first, from a script"; echo "second, from rpc"; cat "$T/script.sent" "$T/rpc.sent"; } |
	sort >"$T/expected.sorted"
sort "$T/bob.got" >"$T/bob.got.sorted"
same_lines "bob's messages (any interleaving)" "$T/expected.sorted" "$T/bob.got.sorted"
grep '^script ' "$T/bob.got" >"$T/bob.got.script"
grep '^rpc ' "$T/bob.got" >"$T/bob.got.rpc"
same_lines "the script's messages in order" "$T/script.sent" "$T/bob.got.script"
same_lines "the rpc session's messages in order" "$T/rpc.sent" "$T/bob.got.rpc"
wait_until 30 "alice's messages to leave state sending" none_sending alice

# The session ends cleanly, and alice's engine (not a daemon) with it.
rpc_close A || fail "sotto rpc exited $?"
wait_until 20 "alice's engine to exit with its last frontend" engine_gone alice

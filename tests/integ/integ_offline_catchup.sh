#!/bin/bash
# Bob's engine is not running while alice sends 500 messages, in one
# pipelined burst to a contact she has no session with yet; when it
# starts it catches up: all 500 in order, exactly once, and `sotto recv`
# returns each of them once. The burst builds one session from one
# prekey bundle (messages to a peer are encrypted in the order written:
# they once each fetched a bundle and arrived newest first).
. "$(dirname "$0")/lib.sh"

N=${INTEG_N:-500}

relay_start
profile_register alice
profile_register bob
# The engine that registering started leaves with its last frontend.
wait_until 20 "bob's engine to exit after registering" engine_gone bob
engine_start alice

gen_texts "alice>bob" 1 "$N" >"$T/alice.sent"
send_requests bob 1 <"$T/alice.sent" >"$T/alice.req"
prekeys_before=$(relay_sql "SELECT count(*) FROM prekeys WHERE account =
	(SELECT id FROM accounts WHERE name = 'bob');")
note "alice sends $N to offline bob in one burst, with no session yet"
rpc_batch alice "$T/alice.req" "$T/alice.rpc"
rpc_check_sent "$T/alice.rpc" "$N"
prekeys_after=$(relay_sql "SELECT count(*) FROM prekeys WHERE account =
	(SELECT id FROM accounts WHERE name = 'bob');")
[ $((prekeys_before - prekeys_after)) -eq 1 ] ||
	fail "the burst took $((prekeys_before - prekeys_after)) of bob's one-time prekeys, not 1"
relay_holds()
{
	[ "$(relay_queue_len bob)" -ge "$N" ]
}
# Sends answered "sending" are still on their way to the relay.
wait_until 60 "the relay to hold $N envelopes for bob" relay_holds
note "the relay holds them"
engine_gone bob || fail "bob's engine started while alice was sending"

note "bob comes online"
engine_start bob
wait_until 60 "bob to catch up on $N messages" has_incoming bob alice "$N"
wait_until 30 "bob's relay queue to drain" queues_empty bob
note "caught up"
check_received alice bob

# recv hands out each incoming message once.
sotto_as bob recv --json >"$T/recv1" || fail "recv exited $?"
jq -r 'if type == "object" and has("messages") then .messages[] else . end | .text' \
	"$T/recv1" >"$T/recv1.texts" || fail "recv output is not JSON"
same_lines "first recv" "$T/alice.sent" "$T/recv1.texts"
sotto_as bob recv --json >"$T/recv2" || fail "second recv exited $?"
n=$(jq -s '[.[] | if type == "object" and has("messages") then .messages[] else . end] | length' \
	"$T/recv2")
[ "$n" = 0 ] || fail "a second recv returned $n messages again"

#!/bin/bash
# A script sends while the relay is away. With --queue each `sotto send`
# returns as soon as the message is stored, answering "sending", instead of
# waiting 5 s for the relay; once the relay is back the messages go out,
# in order, once each.
. "$(dirname "$0")/lib.sh"

setup_pair
gen_texts "alice>bob" 1 4 >"$T/alice.sent"
gen_texts "bob>alice" 1 1 >"$T/bob.sent"
warm_up

relay_stop
note "relay stopped"
t0=$(now_ms)
for i in 2 3 4; do
	sotto_as alice send --queue --json bob "$(sed -n "${i}p" "$T/alice.sent")" \
		>"$T/queued.$i" 2>>"$T/alice.send.err" ||
		fail "send --queue with the relay away exited $?: $(tail -n 2 "$T/alice.send.err")"
	state=$(jq -r '.state // .message.state' "$T/queued.$i")
	[ "$state" = sending ] || fail "send --queue answered state '$state': $(cat "$T/queued.$i")"
done
took=$(($(now_ms) - t0))
note "three sends with --queue took $took ms"
# Without --queue each would wait 5 s for the relay.
[ "$took" -lt 4500 ] || fail "three sends with --queue took $took ms"
# Stored for good: the history says so before the relay is back.
[ "$(outgoing_texts alice bob | wc -l)" -eq 4 ] || fail "alice's history lacks a queued message"

relay_start
note "relay restarted on port $RELAY_PORT"
wait_until 60 "bob to receive the queued messages" has_incoming bob alice 4
check_received alice bob

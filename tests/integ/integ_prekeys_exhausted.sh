#!/bin/bash
# Bob's one-time prekeys are all used up (removed from the relay while he
# is offline): alice and carol still start sessions with him from his
# signed prekey alone, he decrypts both when he comes online, and his
# engine refills his one-time prekeys on the relay.
. "$(dirname "$0")/lib.sh"

prekeys_of()
{
	relay_sql "SELECT count(*) FROM prekeys WHERE account =
		(SELECT id FROM accounts WHERE name = '$1');"
}

prekeys_refilled()
{
	[ "$(prekeys_of bob)" -ge 20 ]
}

relay_start
profile_register alice
profile_register bob
profile_register carol
wait_until 20 "bob's engine to exit after registering" engine_gone bob
n=$(prekeys_of bob)
[ "$n" -ge 20 ] || fail "bob uploaded only $n one-time prekeys at registration"

note "bob's $n one-time prekeys are used up"
relay_stop
relay_sql "DELETE FROM prekeys WHERE account = (SELECT id FROM accounts WHERE name = 'bob');" ||
	fail "deleting bob's prekeys"
relay_start
[ "$(prekeys_of bob)" = 0 ] || fail "bob still has prekeys"

engine_start alice
engine_start carol
send_oneshot alice bob <<<"from alice, without a one-time prekey"
send_oneshot carol bob <<<"from carol, without a one-time prekey"
engine_gone bob || fail "bob's engine is running"

engine_start bob
wait_until 30 "bob to get alice's message" has_incoming bob alice 1
wait_until 30 "bob to get carol's message" has_incoming bob carol 1
[ "$(incoming_texts bob alice)" = "from alice, without a one-time prekey" ] ||
	fail "bob got from alice: $(incoming_texts bob alice)"
[ "$(incoming_texts bob carol)" = "from carol, without a one-time prekey" ] ||
	fail "bob got from carol: $(incoming_texts bob carol)"
wait_until 30 "bob's engine to upload new one-time prekeys" prekeys_refilled
note "bob has $(prekeys_of bob) one-time prekeys again"

send_oneshot bob alice <<<"reply to alice"
send_oneshot bob carol <<<"reply to carol"
wait_until 30 "alice to get bob's reply" has_incoming alice bob 1
wait_until 30 "carol to get bob's reply" has_incoming carol bob 1

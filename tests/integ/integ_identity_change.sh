#!/bin/bash
# Bob "reinstalls": his account is reset on the relay (the relay operator
# deletes it while the relay is stopped, as a lost phone would require; a
# name cannot be re-registered otherwise) and he registers the same name
# from a new profile with a new identity key. Alice had verified bob: her
# next send is refused (exit 3) and she sees identity.changed with blocked;
# after she accepts the new key, messages flow again, and both sides
# compute the same new safety number, which they then verify.
. "$(dirname "$0")/lib.sh"

safety_digits()
{
	sotto_as "$1" safety --json "$2" | jq -r '.digits'
}

contact_json()
{
	sotto_as "$1" contacts --json | jq -c --arg n "$2" \
		'(if type == "object" and has("contacts") then .contacts[] else . end) | select(.name == $n)'
}

setup_pair
send_oneshot alice bob <<<"hello bob"
wait_until 30 "bob to get alice's message" has_incoming bob alice 1
send_oneshot bob alice <<<"hello alice"
wait_until 30 "alice to get bob's message" has_incoming alice bob 1

old_a=$(safety_digits alice bob) || fail "alice's safety bob"
old_b=$(safety_digits bob alice) || fail "bob's safety alice"
[[ $old_a =~ ^[0-9]{60}$ ]] || fail "alice's safety number is not 60 digits: $old_a"
[ "$old_a" = "$old_b" ] || fail "safety numbers differ: $old_a / $old_b"
wrong=$(tr 0-9 1-90 <<<"$old_a")
sotto_as alice trust --verified "$wrong" bob >/dev/null 2>&1
rc=$?
[ $rc = 65 ] || [ $rc = 64 ] || fail "trust with a wrong number exited $rc, not 65"
[ "$(contact_json alice bob | jq -r .verified)" = false ] || fail "a wrong number verified bob"
sotto_as alice trust --verified "$old_a" bob >/dev/null || fail "trust --verified exited $?"
[ "$(contact_json alice bob | jq -r .verified)" = true ] || fail "bob is not verified"

note "bob reinstalls"
engine_stop bob
relay_stop
relay_sql "PRAGMA foreign_keys = ON; DELETE FROM accounts WHERE name = 'bob';" ||
	fail "resetting bob's account"
relay_start
profile_register bob2 bob
engine_start bob2

rpc_open A alice
rpc_call A 1 engine.subscribe '{}' >/dev/null
sotto_as alice send bob "to the new bob, before trusting" >/dev/null 2>"$T/send.err"
rc=$?
[ $rc = 3 ] || fail "send to a changed, verified identity exited $rc, not 3: $(cat "$T/send.err")"
wait_until 20 "identity.changed for bob" rpc_has_event A identity.changed \
	'{"name":"bob","blocked":true}'
c=$(contact_json alice bob)
jq -e '.identity_changed == true' <<<"$c" >/dev/null || fail "contacts after the change: $c"
[ "$(relay_queue_len bob)" = 0 ] || fail "a refused message was queued for bob"

sotto_as alice trust bob >/dev/null || fail "accepting bob's new key exited $?"
send_oneshot alice bob <<<"to the new bob, after trusting"
wait_until 30 "the new bob to get alice's message" has_incoming bob2 alice 1
[ "$(incoming_texts bob2 alice)" = "to the new bob, after trusting" ] ||
	fail "the new bob got: $(incoming_texts bob2 alice)"
send_oneshot bob2 alice <<<"bob is back"
wait_until 30 "alice to get the new bob's message" has_incoming alice bob 2

new_a=$(safety_digits alice bob) || fail "alice's safety bob"
new_b=$(safety_digits bob2 alice) || fail "new bob's safety alice"
[ "$new_a" = "$new_b" ] || fail "new safety numbers differ: $new_a / $new_b"
[ "$new_a" != "$old_a" ] || fail "the safety number did not change with the identity"
sotto_as alice trust --verified "$new_a" bob >/dev/null || fail "alice verifying bob exited $?"
sotto_as bob2 trust --verified "$new_b" alice >/dev/null || fail "bob verifying alice exited $?"
c=$(contact_json alice bob)
jq -e '.verified == true and .identity_changed == false' <<<"$c" >/dev/null ||
	fail "alice's contact bob after verifying: $c"
[ "$(contact_json bob2 alice | jq -r .verified)" = true ] || fail "bob's contact alice not verified"
rpc_close A

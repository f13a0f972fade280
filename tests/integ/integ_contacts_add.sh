#!/bin/bash
# `sotto add NAME` / "contacts.add" asks the relay before adding: an
# existing account becomes a contact, an unknown name is exit 66 (JSON-RPC
# -32003) and adds nothing, a contact added again asks nothing, and a relay
# that is gone or does not answer gives exit 75 within a few seconds.
. "$(dirname "$0")/lib.sh"

expect_exit()
{
	local want=$1 what=$2 rc
	shift 2
	"$@" >"$T/out" 2>"$T/err" </dev/null
	rc=$?
	[ "$rc" = "$want" ] || fail "$what: exit $rc, not $want ($(head -c 300 "$T/err"))"
	[ "$want" = 0 ] || [ -s "$T/err" ] || fail "$what: exit $rc without a message"
}

contact_names()
{
	rpc_once alice contacts '{}' | jq -r '.contacts[].name' | sort
}

not_connected()
{
	rpc_once alice status '{}' | jq -e '.connection != "connected"' >/dev/null
}

connected()
{
	rpc_once alice status '{}' | jq -e '.connection == "connected"' >/dev/null
}

relay_start
profile_register alice
profile_register bob
engine_start alice
wait_until 20 "alice to connect" connected

note "an existing account becomes a contact"
expect_exit 0 "add bob" sotto_as alice add --json bob
jq -e '.name == "bob" and .added == true' "$T/out" >/dev/null ||
	fail "add bob answered $(cat "$T/out")"
[ "$(contact_names)" = "bob" ] || fail "contacts after add bob: $(contact_names)"

note "an unknown name is 66 and adds nothing"
expect_exit 66 "add an unknown name" sotto_as alice add nobody
grep -q 'no account nobody' "$T/err" || fail "unclear error: $(cat "$T/err")"
[ "$(contact_names)" = "bob" ] || fail "contacts after add nobody: $(contact_names)"
out=$(jq -nc '{jsonrpc: "2.0", id: 7, method: "contacts.add", params: {name: "nobody"}}' |
	sotto_as alice rpc)
jq -e '.id == 7 and .error.code == -32003 and .error.data.reason == "notfound"' \
	<<<"$out" >/dev/null || fail "rpc contacts.add of an unknown name: $out"
expect_exit 64 "add without a name" sotto_as alice add
expect_exit 64 "add a malformed name" sotto_as alice add 'no/such name'

note "adding again asks nothing"
expect_exit 0 "add bob again" sotto_as alice add --json bob
jq -e '.added == false' "$T/out" >/dev/null || fail "add bob again answered $(cat "$T/out")"

note "a relay that does not answer: 75 after the timeout"
kill -STOP "$RELAY_PID"
t0=$(now_ms)
expect_exit 75 "add while the relay hangs" sotto_as alice add carol
took=$(($(now_ms) - t0))
kill -CONT "$RELAY_PID"
grep -q 'cannot reach the relay' "$T/err" || fail "unclear error: $(cat "$T/err")"
[ "$took" -lt 15000 ] || fail "add took $took ms while the relay hung"
note "answered in $took ms"

note "no relay at all: 75 at once"
relay_stop
wait_until 20 "alice to notice the relay is gone" not_connected
t0=$(now_ms)
expect_exit 75 "add without a relay" sotto_as alice add carol
took=$(($(now_ms) - t0))
grep -q 'cannot reach the relay' "$T/err" || fail "unclear error: $(cat "$T/err")"
[ "$took" -lt 5000 ] || fail "add took $took ms without a relay"
[ "$(contact_names)" = "bob" ] || fail "contacts at the end: $(contact_names)"
note "ok"

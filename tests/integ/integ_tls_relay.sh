#!/bin/bash
# A relay over TLS (wss://) with a self-signed certificate: registering
# without the certificate's pin is refused as an authentication failure
# (77) that names the certificate's fault, and creates no account; with the pin, two engines talk both ways through it, in order
# and once, and say they are connected to the wss:// relay.
. "$(dirname "$0")/lib.sh"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
	-subj /CN=localhost -keyout "$T/key.pem" -out "$T/cert.pem" 2>"$T/openssl.err" ||
	hard_error "openssl could not make a certificate: $(cat "$T/openssl.err")"
PIN=$(openssl x509 -in "$T/cert.pem" -outform DER | sha256sum | cut -d' ' -f1)
relay_start --tls-cert "$T/cert.pem" --tls-key "$T/key.pem"
URL=wss://localhost:$RELAY_PORT

accounts_named()
{
	relay_sql "SELECT count(*) FROM accounts WHERE name = '$1';"
}

note "a certificate nobody vouches for, and no pin: refused"
mkdir -m 700 "$T/eve"
INTEG_PROFILES+=(eve)
sotto_as eve register --keyfile --relay "$URL" eve </dev/null >"$T/eve.out" 2>"$T/eve.err"
rc=$?
[ "$rc" = 77 ] || fail "register without the pin exited $rc, not 77: $(cat "$T/eve.err")"
grep -qi "certificate" "$T/eve.err" || fail "the refusal does not say why: $(cat "$T/eve.err")"
[ "$(accounts_named eve)" = 0 ] || fail "the relay has an account for eve"

note "pinned: two engines over wss://"
for who in alice bob; do
	mkdir -m 700 "$T/$who"
	INTEG_PROFILES+=("$who")
	sotto_as "$who" register --keyfile --json --pin "$PIN" --relay "$URL" "$who" \
		</dev/null >"$T/$who.register" 2>"$T/$who.register.err" ||
		fail "register $who over TLS exited $?: $(cat "$T/$who.register.err")"
done
engine_start alice
engine_start bob
gen_texts "over tls from alice" 1 30 >"$T/alice.sent"
gen_texts "over tls from bob" 1 30 >"$T/bob.sent"
send_oneshot alice bob <"$T/alice.sent"
send_oneshot bob alice <"$T/bob.sent"
wait_until 30 "bob to receive alice's messages" has_incoming bob alice 30
wait_until 30 "alice to receive bob's messages" has_incoming alice bob 30
check_received alice bob
check_received bob alice
for who in alice bob; do
	rpc_once "$who" status '{}' |
		jq -e --arg url "$URL" '.connection == "connected" and .relay == $url' >/dev/null ||
		fail "$who does not say it is connected to $URL: $(rpc_once "$who" status '{}')"
done
note "ok"

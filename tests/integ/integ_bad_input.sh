#!/bin/bash
# Bad input at the edges gets a clear error and the documented exit status,
# and changes nothing: a wrong or unsafe passphrase file (77, profile files
# untouched), an unknown contact (66), a bad command line (64), garbage on
# `sotto rpc`'s standard input (JSON-RPC errors, the session goes on), and
# terminal escape sequences in a peer's message (never printed raw).
. "$(dirname "$0")/lib.sh"

expect_exit()
{
	local want=$1 what=$2 rc
	shift 2
	"$@" >"$T/out" 2>"$T/err"
	rc=$?
	[ "$rc" = "$want" ] || fail "$what: exit $rc, not $want ($(head -c 300 "$T/err"))"
	[ "$want" = 0 ] || [ -s "$T/err" ] || fail "$what: exit $rc without a message"
}

# Checksums of the profile's files, the engine's own runtime files aside.
snapshot()
{
	(cd "$T/$1" && find . -type f ! -name 'engine.*' -print0 | sort -z |
		xargs -0 -r sha256sum)
}

relay_start
profile_register alice

# carol protects her profile with a passphrase.
mkdir -m 700 "$T/carol"
INTEG_PROFILES+=(carol)
printf 'correct horse battery staple\n' >"$T/pass"
printf 'not the passphrase\n' >"$T/wrong"
printf 'correct horse battery staple\n' >"$T/open"
chmod 600 "$T/pass" "$T/wrong"
chmod 644 "$T/open"
expect_exit 0 "register with a passphrase file" \
	sotto_as carol --passphrase-file "$T/pass" register --relay "$RELAY_URL" carol
wait_until 20 "carol's engine to exit" engine_gone carol
snapshot carol >"$T/before"
[ -s "$T/before" ] || fail "carol's profile has no files"

expect_exit 77 "a wrong passphrase" sotto_as carol --passphrase-file "$T/wrong" history
grep -qi 'passphrase' "$T/err" || fail "the error does not mention the passphrase: $(cat "$T/err")"
wait_until 20 "carol's engine to exit" engine_gone carol
expect_exit 77 "a passphrase file others may read" \
	sotto_as carol --passphrase-file "$T/open" history
wait_until 20 "carol's engine to exit" engine_gone carol
expect_exit 77 "no passphrase and no terminal" sotto_as carol history </dev/null
wait_until 20 "carol's engine to exit" engine_gone carol
snapshot carol >"$T/after"
same_lines "carol's profile files after refused unlocks" "$T/before" "$T/after"
expect_exit 0 "the right passphrase" sotto_as carol --passphrase-file "$T/pass" history

engine_start alice
expect_exit 66 "send to an unknown account" sotto_as alice send nobody "hello?"
expect_exit 66 "safety of an unknown contact" sotto_as alice safety nobody
expect_exit 64 "send without its arguments" sotto_as alice send
expect_exit 64 "a non-numeric --limit" sotto_as alice history --limit many
expect_exit 64 "an unknown option" sotto_as alice send --frobnicate bob hi

# Garbage on sotto rpc: an error answer for each bad line, then the
# session still serves requests.
rpc_open R alice
rpc_send R 'this is not JSON'
rpc_send R '[{"jsonrpc":"2.0","id":1,"method":"status"}]'
rpc_send R '{"jsonrpc":"2.0","id":2,"method":"no.such.method"}'
rpc_send R '{"jsonrpc":"2.0","id":3,"method":"send","params":{"to":5}}'
rpc_send R '{"jsonrpc":"2.0","id":4,"method":"send","params":{"to":"nobody","text":"x"}}'
rpc_send R '{"jsonrpc":"2.0","id":5,"method":"status"}'
r=$(rpc_answer R 5)
rpc_answer R 4 >/dev/null # it needs the relay: it may come after 5
[ "$(jq -r '.result.account' <<<"$r")" = alice ] || fail "status after garbage: $r"
codes=$(jq -c 'select(.error) | .error.code' "$T/R.out" | sort -n | tr '\n' ' ')
[ "$codes" = "-32700 -32602 -32601 -32600 -32003 " ] ||
	fail "error codes for the bad lines: $codes ($(cat "$T/R.out"))"
[ "$(jq -c 'select(.error.code == -32700) | .id' "$T/R.out")" = null ] ||
	fail "a parse error must answer with id null"
rpc_close R || fail "sotto rpc exited $? after garbage"

# A peer's message full of terminal controls never reaches the terminal raw.
profile_register bob
engine_start bob
send_oneshot alice bob <<<"hello bob"
wait_until 30 "bob to get alice's message" has_incoming bob alice 1
printf 'red\033[31m alert\033]0;title\007 csi\302\233 del\177 end\n' >"$T/evil"
sotto_as bob send alice - <"$T/evil" >/dev/null || fail "sending controls exited $?"
wait_until 30 "alice to get the message with controls" has_incoming alice bob 1
sotto_as alice history --with bob >"$T/shown" || fail "history exited $?"
grep -q 'alert' "$T/shown" || fail "the message is not shown: $(cat "$T/shown")"
if LC_ALL=C grep -q $'[\001-\010\013-\037\177]\|\302[\200-\237]' "$T/shown"; then
	fail "a control character reached the output: $(od -c "$T/shown" | head)"
fi

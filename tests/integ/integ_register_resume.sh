#!/bin/bash
# A registration cut short is finished by running the same command again,
# with the keys it made: (a) the relay is not listening (exit 75; the
# profile keeps its keys, unregistered; a passphrase profile is unlocked
# with its passphrase to be finished); (b) the relay is frozen with SIGSTOP
# during the register request and sotto, frontend and engine, is killed
# with SIGKILL, once with the request on its way and once as early as the
# database appears; (c) the relay took the keys but the profile never
# recorded its answer (a copy taken before a run that finished: "name
# taken" is settled with the stored device secret). Every account then
# sends to bob and receives from him. A registered profile refuses another
# register with 65, and trust --verified with digits that do not match
# exits 65 and verifies nothing.
. "$(dirname "$0")/lib.sh"

# register_as PROFILE ACCOUNT [ARGS...]: the same command every time.
register_as()
{
	local who=$1 account=$2
	shift 2
	sotto_as "$who" register --json --relay "$RELAY_URL" "$@" "$account" \
		>"$T/$who.register" 2>"$T/$who.register.err"
}

new_profile()
{
	mkdir -m 700 "$T/$1" || fail "mkdir $1"
	INTEG_PROFILES+=("$1")
}

# unfinished PROFILE ACCOUNT: the engine reports an unfinished registration.
unfinished()
{
	local st
	st=$(rpc_once "$1" status '{}') || fail "status of $1"
	jq -e --arg a "$2" '.registered == false and .unfinished.account == $a' \
		<<<"$st" >/dev/null || fail "$1 is not an unfinished registration of $2: $st"
}

# finish PROFILE ACCOUNT [ARGS...]: register again, which must succeed.
finish()
{
	local who=$1 account=$2
	shift 2
	register_as "$who" "$account" "$@" ||
		fail "finishing $account's registration exited $?: $(cat "$T/$who.register.err")"
	jq -e --arg a "$account" '.account == $a and .device == 1' "$T/$who.register" \
		>/dev/null || fail "register of $account printed: $(cat "$T/$who.register")"
}

# talks PROFILE ACCOUNT: ACCOUNT (with a running engine) and bob exchange
# a message each way.
talks()
{
	local who=$1 account=$2
	sotto_as "$who" send bob "hello from $account" >/dev/null 2>>"$T/$who.send.err" ||
		fail "$account's send to bob exited $?: $(tail -n 2 "$T/$who.send.err")"
	wait_until 30 "bob to get $account's message" has_incoming bob "$account" 1
	sotto_as bob send "$account" "hello $account" >/dev/null 2>>"$T/bob.send.err" ||
		fail "bob's send to $account exited $?: $(tail -n 2 "$T/bob.send.err")"
	wait_until 30 "$account to get bob's message" has_incoming "$who" bob 1
}

connecting()
{
	local st
	st=$(rpc_once "$1" status '{}' 2>/dev/null) || return 1
	jq -e '.connection == "connecting"' <<<"$st" >/dev/null
}

has_db()
{
	[ -e "$T/$1/store.db" ]
}

# kill_register PROFILE PID: SIGKILL the register frontend and the engine.
kill_register()
{
	local pid
	pid=$(engine_pid "$1")
	kill -KILL "$2" 2>/dev/null
	[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
	wait "$2" 2>/dev/null
	wait_until 10 "$1's engine to die" engine_gone "$1"
}

relay_start
profile_register bob
engine_start bob

note "(a) register while the relay is not listening"
relay_stop
new_profile alice
new_profile erin
new_profile dave
printf 'erin passphrase\n' >"$T/erin.pass"
chmod 600 "$T/erin.pass"
printf 'not erin passphrase\n' >"$T/wrong.pass"
chmod 600 "$T/wrong.pass"
for who in alice erin dave; do
	if [ $who = erin ]; then
		register_as erin erin --passphrase-file "$T/erin.pass"
	else
		register_as $who $who --keyfile
	fi
	rc=$?
	[ $rc = 75 ] || fail "register of $who without a relay exited $rc, not 75: $(cat "$T/$who.register.err")"
	grep -q 'run the same register command again' "$T/$who.register.err" ||
		fail "the failure does not say how to go on: $(cat "$T/$who.register.err")"
done
unfinished alice alice
unfinished dave dave
# (c), prepared: a copy of dave as it is now, before a run finishes it.
wait_until 20 "dave's engine to leave" engine_gone dave
cp -a "$T/dave" "$T/dave2" || fail "copying dave's profile"
INTEG_PROFILES+=(dave2)

relay_start
finish alice alice --keyfile
register_as alice alice --keyfile
rc=$?
[ $rc = 65 ] || fail "a second register of a registered profile exited $rc, not 65"
grep -q 'already registered as alice' "$T/alice.register.err" ||
	fail "the refusal does not say why: $(cat "$T/alice.register.err")"
engine_start alice
talks alice alice

note "a passphrase profile: the wrong passphrase changes nothing, the right one finishes"
register_as erin erin --passphrase-file "$T/wrong.pass"
rc=$?
[ $rc = 77 ] || fail "register with the wrong passphrase exited $rc, not 77: $(cat "$T/erin.register.err")"
[ -z "$(relay_sql "SELECT name FROM accounts WHERE name = 'erin';")" ] ||
	fail "erin was registered with the wrong passphrase"
finish erin erin --passphrase-file "$T/erin.pass"
# The engine register started leaves with it; the daemon's is unlocked.
wait_until 20 "erin's engine to leave" engine_gone erin
engine_start erin
sotto_as erin --passphrase-file "$T/erin.pass" rpc </dev/null >/dev/null 2>"$T/erin.unlock.err" ||
	fail "unlocking erin's engine exited $?: $(cat "$T/erin.unlock.err")"
talks erin erin

note "(c) the relay took dave's keys, the copy never heard the answer"
finish dave dave --keyfile
wait_until 20 "dave's engine to leave" engine_gone dave
unfinished dave2 dave
finish dave2 dave --keyfile
engine_start dave2
talks dave2 dave

note "(b) SIGKILL while the relay is frozen"
n=0
for point in request database; do
	n=$((n + 1))
	who=carol$n
	new_profile $who
	kill -STOP "$RELAY_PID"
	"$SOTTO" --home "$T/$who" register --keyfile --json --relay "$RELAY_URL" "$who" \
		>"$T/$who.register" 2>"$T/$who.register.err" &
	reg=$!
	if [ $point = request ]; then
		# The keys are made and the request is on its way.
		wait_until 20 "$who's register request" connecting $who
	else
		wait_until 20 "$who's database" has_db $who
	fi
	kill_register $who $reg
	kill -CONT "$RELAY_PID"
	note "killed $who's register at the $point"
	finish $who $who --keyfile
	engine_start $who
	talks $who $who
done

note "trust --verified with digits that do not match"
digits=$(sotto_as alice safety --json bob | jq -r .digits) || fail "alice's safety bob"
[[ $digits =~ ^[0-9]{60}$ ]] || fail "safety number: $digits"
wrong=$(tr 0-9 1-90 <<<"$digits")
sotto_as alice trust --verified "$wrong" bob >/dev/null 2>"$T/trust.err"
rc=$?
[ $rc = 65 ] || fail "trust with a wrong safety number exited $rc, not 65: $(cat "$T/trust.err")"
v=$(sotto_as alice contacts --json | jq -r 'select(.name == "bob") | .verified')
[ "$v" = false ] || fail "a wrong safety number verified bob ($v)"
sotto_as alice trust --verified "$digits" bob >/dev/null || fail "trust --verified exited $?"
v=$(sotto_as alice contacts --json | jq -r 'select(.name == "bob") | .verified')
[ "$v" = true ] || fail "the right safety number did not verify bob ($v)"

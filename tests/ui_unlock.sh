#!/bin/sh
# The passphrase prompt of the interface, driven through tmux against a
# real sotto-relay and a real engine: alice's profile is protected by a
# passphrase; the interface asks for it without echoing what is typed, a
# wrong one is refused with a clear message and a new prompt and leaves
# every profile file as it was, the right one unlocks and the
# conversation list (with a message bob sent meanwhile) appears.
#
# Every wait polls the screen or a command with a deadline.
set -u

UI_TEST=ui_unlock
. "${top_srcdir:-.}/tests/ui_lib.sh"

# The engine derives the key with Argon2id at its moderate cost (256 MiB):
# on a loaded machine that alone can take many seconds.
slow_wait() {
	wait_for "$@" || wait_for "$@" || wait_for "$@"
}

relay_start
GOOD="correct horse 42"
WRONG="wrong battery 17"
printf '%s\n' "$GOOD" >"$TMP/pass"
chmod 600 "$TMP/pass"
mkdir -m 700 "$TMP/alice"
as alice --passphrase-file "$TMP/pass" register --relay "$URL" alice >/dev/null \
	2>>"$TMP/alice.err" || fail "register alice with a passphrase"
register bob
alice_offline() {
	[ ! -S "$TMP/alice/engine.sock" ]
}
wait_for alice_offline || fail "alice's engine did not leave after registering"
as bob send alice "hello from bob" >/dev/null 2>>"$TMP/bob.err" || fail "bob's message"

# Every file of the profile, with its bytes (the engine's pid and log
# files aside: they belong to the running engine, not to the profile).
profile_sums() {
	for f in "$TMP"/alice/*; do
		case ${f##*/} in engine.pid | engine.log | engine.sock) continue ;; esac
		if [ -f "$f" ]; then
			echo "${f##*/} $(stat -c %s "$f") $(sha256sum <"$f")"
		fi
	done
}

ui_start "$TMP/alice"
# The notice names the profile's directory (it wraps where the path does).
wait_for shows "The profile in" || fail "no passphrase prompt"
shows "type its passphrase and press Enter." || fail "the notice does not say what to do"
wait_for row_is 24 '^passphrase' || fail "the input line is not a passphrase prompt"
row_is 23 '\(locked\)' || fail "the status bar does not say locked"
BEFORE=$(profile_sums)

# What is typed never shows: not on the screen, and not in any byte
# written to the terminal (everything the pane receives is logged).
tmux -S "$SOCK" pipe-pane -t ui "cat >>'$TMP/pane.raw'" || fail "pipe-pane"
keys -l "$WRONG"
typed_hidden() {
	! screen | grep -q -e 'wrong' -e 'battery' -e '\*\*\*'
}
typed_hidden || fail "the passphrase was echoed"
keys Enter
slow_wait shows "Wrong passphrase; try again." || fail "no message for a wrong passphrase"
typed_hidden || fail "the wrong passphrase shows on screen"
# The log holds what was drawn after Enter, hence all the typing before.
wait_for grep -q 'Wrong passphrase' "$TMP/pane.raw" || fail "the pane's output is not logged"
grep -q -e 'wrong' -e 'battery' "$TMP/pane.raw" && fail "the passphrase was written to the terminal"
row_is 24 '^passphrase \(Ctrl-C quits\): *$' || fail "no new prompt after the wrong passphrase"
row_is 23 '\(locked\)' || fail "unlocked by a wrong passphrase"
AFTER=$(profile_sums)
[ "$BEFORE" = "$AFTER" ] || fail "a wrong passphrase changed the profile's files:
$BEFORE
---
$AFTER"

keys -l "$GOOD"
keys Enter
slow_wait shows "Unlocked." || fail "the right passphrase did not unlock"
wait_for row_is 23 "^ \[alice @ $URL\]" || fail "the status bar does not name the account"
wait_for row_is 3 '^1 bob +1 ' || fail "the conversation list does not show bob's message"
wait_for row_is 24 '^>( |$)' || fail "the input line is not back"
wait_for grep -q 'Unlocked' "$TMP/pane.raw" || fail "the pane's output is not logged"
grep -q -e 'correct' -e 'horse' "$TMP/pane.raw" && fail "the passphrase was written to the terminal"
keys "/msg bob" Enter
wait_for shows "bob: hello from bob" || fail "bob's message is not readable after unlocking"

ui_quit
ui_stop_all
exit 0

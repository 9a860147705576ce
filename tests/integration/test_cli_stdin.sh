#!/usr/bin/env bash
# Sensitive text on standard input rather than in argv (issue 23): `agah post
# number -` reads the number from the first line, `--note -` the note from
# the rest, so neither shows in /proc/PID/cmdline or a shell's history.
#
# usage: bash tests/integration/test_cli_stdin.sh BUILD_DIR

. "$(dirname "$0")/lib.sh"
lib_init test_cli_stdin "${1:-}"

node_init org || { fail "identity"; finish; }
community_found org "Stdin"
start_daemon org none || { fail "agahd starts"; finish; }

run_in org $'+852 5123 4567\nthreatened my mother\nand my brother\n' --json post number - --note -
expect "post number - --note -: both from standard input" 0 "set(j) == {'id'}"
A1=$(json_field id)
run org --json show "$A1"
expect "... the number is the first line, the note the rest, without the last line end" 0 \
  "j['target'] == '+85251234567' and j['note'] == 'threatened my mother\nand my brother'"

run_in org $'ئانامغا تەھدىت سالدى' --json post account "telegram:@someone" --note -
expect "--note - alone: all of standard input is the note, scripts intact" 0 "set(j) == {'id'}"
A2=$(json_field id)
run org --json show "$A2"
expect "... the note as typed" 0 "j['note'] == 'ئانامغا تەھدىت سالدى' and j['target'] == 'telegram:someone'"

run_in org $'\nnote' post number - --note -
expect_rc "an empty first line for '-': exit 2" 2
run_in org "$(head -c 3000 /dev/zero | tr '\0' a)" post number "+852 5123 4568" --note -
expect_rc "a note beyond the bound on standard input: exit 2" 2
run org --json list
expect "nothing stored by the refused posts" 0 "len(j) == 2"

# While a post waits for its input, neither the number nor the note is in
# its command line.
mkfifo "$ROOT/in"
"$AGAH" --data "$(node_dir org)" post number - --note - <"$ROOT/in" >/dev/null 2>&1 &
PPID_POST=$!
exec 7>"$ROOT/in"
sleep 0.5
CMDLINE=$(tr '\0' ' ' <"/proc/$PPID_POST/cmdline" 2>/dev/null)
if [[ "$CMDLINE" == *"post number - --note -"* && "$CMDLINE" != *5123* ]]; then
    pass "the waiting post's command line holds only '-'"
else
    fail "the waiting post's command line holds only '-'" "cmdline: $CMDLINE"
fi
printf '+852 5123 4569\nsecret note\n' >&7
exec 7>&-
wait "$PPID_POST"
RC=$?
expect_rc "... and it posts once its input arrives" 0

stop_all_ok
finish

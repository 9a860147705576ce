#!/usr/bin/env bash
# Issue 23, "Passphrases", driven as a user would with the real agah and
# agahd:
#  - a weak passphrase is refused (exit 2, with pwquality's reason), on the
#    command line and on a terminal; a strong one is accepted, and the key
#    file records Argon2id at the moderate setting (opslimit 3, 256 MiB);
#  - `agah passphrase` changes it (from a file, on a terminal): the old one
#    no longer opens the key (agahd and agah exit 2, "wrong passphrase"),
#    the new one does; store.key and the community file are not rewritten;
#    a running agahd keeps working and needs the new one at its next start;
#  - `init --no-passphrase` alone makes a key fit for a relay or a test:
#    CONTRACT.md keeps it usable for every role, so `community create` and
#    `join` as a member take it with a warning, and `status` warns at every
#    call for an organiser or member (with --unsafe-no-passphrase too the
#    warnings at init and join go, status still says so);
#  - removing the passphrase needs --unsafe-no-passphrase.
# usage: test_cli_passphrase.sh BUILD_DIR
. "$(dirname "$0")/lib.sh"
lib_init cli_passphrase "${1:-}"

P1="Kashgar-poplar-lantern-8841"
P2="Turpan grapes quiet river 2290"
P3="Aksu-Hotan-jade-tulip-5512"

# agahd_run ARGS...: agahd in the foreground, time-bounded, without a
# terminal; sets OUT, ERR, RC.
agahd_run() {
    OUT=$(timeout 30 setsid -w "$AGAHD" "$@" </dev/null 2>"$ROOT/.err")
    RC=$?
    ERR=$(cat "$ROOT/.err")
}

# start_pass NAME PASS: agahd on NAME's directory with the passphrase in
# the environment (an empty PASS: none), registered so the trap stops it.
start_pass() {
    if [ -n "$2" ]; then
        AGAH_PASSPHRASE=$2 start_daemon "$1" none
    else
        start_daemon "$1" none
    fi
}

# pfile NAME TEXT [MODE]: a passphrase file.
pfile() {
    printf '%s\n' "$2" >"$ROOT/$1"
    chmod "${3:-600}" "$ROOT/$1"
}

# sums NAME: the hashes of the files `agah passphrase` must not touch.
sums() {
    (cd "$(node_dir "$1")" && sha256sum store.key community)
}

# --- strength ---------------------------------------------------------------------
OUT=$(AGAH_PASSPHRASE=a timeout 60 "$AGAH" --data "$ROOT/weak" init 2>"$ROOT/.err"); RC=$?
ERR=$(cat "$ROOT/.err")
expect "init with the passphrase \"a\": exit 2, says it is too short" 2 \
  "'refused' in err and 'shorter than 12' in err"
[ ! -e "$ROOT/weak/identity.key" ] && pass "no identity left behind by a weak passphrase" ||
    fail "no identity left behind by a weak passphrase"
OUT=$(AGAH_PASSPHRASE=passwordpassword timeout 60 "$AGAH" --data "$ROOT/weak" init 2>"$ROOT/.err")
RC=$?; ERR=$(cat "$ROOT/.err")
expect "init with \"passwordpassword\": exit 2, too predictable" 2 "'predictable' in err"
OUT=$(AGAH_PASSPHRASE=abcdefgh12345 timeout 60 "$AGAH" --data "$ROOT/weak" init 2>"$ROOT/.err")
RC=$?; ERR=$(cat "$ROOT/.err")
expect "init with a systematic passphrase: exit 2, fails the dictionary check" 2 "'dictionary check' in err"
OUT=$(tty_session "$ROOT/weak" "init" "hunter2" "hunter2"); RC=$?; ERR=""
expect "init on a terminal with a weak passphrase: exit 2, says why, not echoed" 2 \
  "'refused' in out and 'hunter2' not in out"

run org --json init --name Aynur --passphrase-file /nonexistent
expect_rc "init with a missing passphrase file: exit 2" 2
pfile p1 "$P1"
run org --passphrase-file "$ROOT/p1" --json init --name Aynur
expect "init with a strong passphrase" 0 "set(j) == {'member_id'}"
OUT=$(python3 -c '
import sys
b = open(sys.argv[1], "rb").read()
print(len(b), b[8], int.from_bytes(b[9:17], "big"), int.from_bytes(b[17:25], "big"))
' "$(node_dir org)/identity.key"); RC=$?
expect "the key file records Argon2id at the moderate setting (ops 3, 256 MiB)" 0 \
  "out == '145 0 3 268435456'"
OUT=$(AGAH_PASSPHRASE=$P1 timeout 60 "$AGAH" --data "$(node_dir org)" community create "Circle" \
      2>"$ROOT/.err"); RC=$?; ERR=$(cat "$ROOT/.err")
expect_rc "an organiser with a passphrase founds a community" 0

# --- agah passphrase ----------------------------------------------------------------
BEFORE=$(sums org)
KEY0=$(sha256sum <"$(node_dir org)/identity.key")
pfile p2 "$P2" 644
OUT=$(AGAH_PASSPHRASE=$P1 timeout 60 "$AGAH" --data "$(node_dir org)" passphrase \
      --new-passphrase-file "$ROOT/p2" 2>"$ROOT/.err"); RC=$?; ERR=$(cat "$ROOT/.err")
expect "a new-passphrase file others can read: exit 2 naming it" 2 \
  "'$ROOT/p2' in err and 'chmod 600' in err"
pfile weakpass "hunter2hunter2"
OUT=$(AGAH_PASSPHRASE=$P1 timeout 60 "$AGAH" --data "$(node_dir org)" passphrase \
      --new-passphrase-file "$ROOT/weakpass" 2>"$ROOT/.err"); RC=$?; ERR=$(cat "$ROOT/.err")
expect "a weak new passphrase: exit 2, refused" 2 "'refused' in err"
OUT=$(AGAH_PASSPHRASE=$P1 timeout 60 "$AGAH" --data "$(node_dir org)" passphrase \
      --new-passphrase-file "$ROOT/p1" 2>"$ROOT/.err"); RC=$?; ERR=$(cat "$ROOT/.err")
expect "the old passphrase again: exit 2, refused" 2 "'same as the old' in err"
OUT=$(AGAH_PASSPHRASE="$P1-typo" timeout 60 "$AGAH" --data "$(node_dir org)" passphrase \
      --new-passphrase-file "$ROOT/p1" 2>"$ROOT/.err"); RC=$?; ERR=$(cat "$ROOT/.err")
expect "a wrong current passphrase: exit 2" 2 "'wrong passphrase' in err"
[ "$(sha256sum <"$(node_dir org)/identity.key")" = "$KEY0" ] &&
    pass "refused changes leave identity.key as it was" ||
    fail "refused changes leave identity.key as it was"

# With agahd running: it keeps the key it read at start.
start_pass org "$P1" || { fail "agahd starts with the first passphrase"; finish; }
run org --json status
expect "status --json: passphrase true, no warning" 0 \
  "j['passphrase'] is True and j['role'] == 'organiser' and 'warning' not in err"
pfile p2 "$P2"
run org --passphrase-file "$ROOT/p1" --json passphrase --new-passphrase-file "$ROOT/p2"
expect "agah passphrase --new-passphrase-file, agahd running: {}" 0 "j == {}"
OUT=$(stat -c '%a' "$(node_dir org)/identity.key"); RC=0
expect "identity.key stays 0600" 0 "out == '600'"
[ "$(sums org)" = "$BEFORE" ] && pass "store.key and the community file are not rewritten" ||
    fail "store.key and the community file are not rewritten"
run org --json status
expect "the running agahd keeps answering after the change" 0 "j['role'] == 'organiser'"
stop_daemon org

AGAH_PASSPHRASE=$P1 agahd_run --data "$(node_dir org)" --listen none
expect "agahd with the old passphrase: exit 2, wrong passphrase" 2 "'wrong passphrase' in err"
OUT=$(AGAH_PASSPHRASE=$P1 timeout 60 "$AGAH" --data "$(node_dir org)" passphrase \
      --new-passphrase-file "$ROOT/p1" 2>"$ROOT/.err"); RC=$?; ERR=$(cat "$ROOT/.err")
expect "agah with the old passphrase: exit 2, wrong passphrase" 2 "'wrong passphrase' in err"
start_pass org "$P2" && pass "agahd starts with the new passphrase" ||
    fail "agahd starts with the new passphrase" "$(tail -3 "$ROOT/org.log")"
stop_daemon org

# On a terminal: the current one once, the new one twice, nothing echoed.
OUT=$(tty_session "$(node_dir org)" "passphrase" "$P2" "$P3" "$P3-other"); RC=$?; ERR=""
expect "passphrase on a terminal: different entries refused, exit 2" 2 \
  "'do not match' in out and 'Aksu' not in out"
OUT=$(tty_session "$(node_dir org)" "passphrase" "$P2" "$P3" "$P3"); RC=$?
expect "passphrase on a terminal: asked for the current and twice for the new, not echoed" 0 \
  "'Passphrase for the identity' in out and 'New passphrase' in out and 'Again' in out and 'Aksu' not in out and 'Turpan' not in out"
AGAH_PASSPHRASE=$P2 agahd_run --data "$(node_dir org)" --listen none
expect "after the terminal change the previous passphrase fails: exit 2" 2 "'wrong passphrase' in err"
OUT=$(setsid -w timeout 60 "$AGAH" --data "$(node_dir org)" passphrase </dev/null 2>"$ROOT/.err")
RC=$?; ERR=$(cat "$ROOT/.err")
expect "passphrase with no terminal and no source: exit 2, says how" 2 "'AGAH_PASSPHRASE' in err"
OUT=$(AGAH_PASSPHRASE=$P3 setsid -w timeout 60 "$AGAH" --data "$(node_dir org)" passphrase \
      </dev/null 2>"$ROOT/.err"); RC=$?; ERR=$(cat "$ROOT/.err")
expect "a current passphrase but no new one and no terminal: exit 2, says how" 2 \
  "'--new-passphrase-file' in err"
start_pass org "$P3" || { fail "agahd starts with the terminal's passphrase"; finish; }
pass "agahd starts with the passphrase set on the terminal"

# --- organisers and members need one; relays do not ------------------------------
run two init --unsafe-no-passphrase
expect "init --unsafe-no-passphrase without --no-passphrase: exit 2" 2 "'--no-passphrase' in err"
run solo init --no-passphrase
expect "init --no-passphrase: made, with a warning that it is for a relay or a test" 0 \
  "'warning' in err and 'relay' in err and 'agah passphrase' in err"
run solo community create "Solo"
expect "community create with a passphrase-less key: done, with a warning saying how to fix" 0 \
  "'warning' in err and 'no passphrase' in err and 'agah --data' in err"

run lone init --no-passphrase --name lone
LONE_ID=$(agah_on lone id)
CODE=$(agah_on org invite "$LONE_ID" --role member --name lone 2>"$ROOT/.err") ||
    fail "invite a member" "$(cat "$ROOT/.err")"
run lone join "$CODE"
expect "join as a member with a passphrase-less key: joined, with a warning" 0 \
  "'warning' in err and 'no passphrase' in err"
pfile pl "$P1"
run lone --json passphrase --new-passphrase-file "$ROOT/pl"
expect "passphrase adds one to a passphrase-less key (no current one asked)" 0 "j == {}"
OUT=$(AGAH_PASSPHRASE=$P1 timeout 60 "$AGAH" --data "$(node_dir lone)" --json status \
      2>"$ROOT/.err"); RC=$?; ERR=$(cat "$ROOT/.err")
expect "then status says it has one, and warns no more" 3 "'warning' not in err"

run relay init --no-passphrase --name relay
invite_join org relay relay && pass "join as a relay with a passphrase-less key" ||
    fail "join as a relay with a passphrase-less key"
node_init umem && invite_join org umem member &&
    pass "init --no-passphrase --unsafe-no-passphrase: may join as a member" ||
    fail "init --no-passphrase --unsafe-no-passphrase: may join as a member"

# --- status keeps warning --------------------------------------------------------
start_pass umem "" || fail "agahd starts for the passphrase-less member"
start_pass relay "" || fail "agahd starts for the relay"
run umem status
expect "status of a passphrase-less member: a warning on stderr" 0 \
  "'passphrase  none' in out and 'warning: this identity has no passphrase' in err and \"a member's\" in err"
run umem --json status
expect "status --json of a passphrase-less member: passphrase false, still warns" 0 \
  "j['passphrase'] is False and j['role'] == 'member' and 'warning' in err"
run relay status
expect "status of a relay: a note, no warning" 0 \
  "'no passphrase' in out and 'warning' not in err"
run relay --json status
expect "status --json of a relay: passphrase false" 0 "j['passphrase'] is False and err == ''"

# --- removing a passphrase -------------------------------------------------------
run org passphrase --no-passphrase
expect "passphrase --no-passphrase alone: exit 2, names the unsafe flag" 2 \
  "'--unsafe-no-passphrase' in err"
OUT=$(AGAH_PASSPHRASE=$P3 timeout 60 "$AGAH" --data "$(node_dir org)" --json passphrase \
      --no-passphrase --unsafe-no-passphrase 2>"$ROOT/.err"); RC=$?; ERR=$(cat "$ROOT/.err")
expect "passphrase --no-passphrase --unsafe-no-passphrase removes it" 0 "j == {}"
stop_daemon org
start_pass org "" && pass "agahd starts without a passphrase after removal" ||
    fail "agahd starts without a passphrase after removal" "$(tail -3 "$ROOT/org.log")"
run org --json status
expect "and status warns about the organiser" 0 \
  "j['passphrase'] is False and \"an organiser's\" in err"

finish

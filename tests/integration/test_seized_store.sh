#!/usr/bin/env bash
# The seized-disk attack (issue 23): a security service takes the laptops
# of an organiser and a member (both identities under a passphrase it does
# not have) and a relay's disk (a passphrase-less identity, as documented),
# and reads every byte of every file of their data directories for who is
# in the community, what they flagged, and where they connect from.
#
# A community of real agahd processes does what a community does: names,
# posts of a number, an account and a free-text alert with notes, a
# confirmation with a note, a retraction with a reason, a member revoked
# with a reason, `peer add`. The organiser's daemon is stopped cleanly and
# the member's killed with SIGKILL (a laptop's lid shut on a running node:
# its WAL is left behind). Then:
#  - no file of the organiser's or the member's data directory holds any
#    name (member or community), number (E.164 or national digits),
#    account, note, reason, passphrase or peer address, in its raw bytes;
#  - no file of the relay's holds any number, account, note, name, reason
#    or peer address in its raw bytes. Its rows are sealed too, but under a
#    store key its passphrase-less identity gives anyone with the disk, so
#    what counts on a relay is what its records hold once opened: since
#    record version 3 names and reasons are encrypted to members inside
#    them (tests/integration/test_names_private.sh opens a relay's store);
#  - nothing on the member's disk matches the keyed hash of a flagged number
#    under the lookup key a relay's disk gives (tests/tools/relaykeys.c),
#    which an older agah's store.db kept for every flagged target;
#  - no `name` file, and store.db has no lookup column and no peers table.
# Against the code before this change it fails on the `name` file, the
# names and reasons in store.db, its peers table and the lookup hashes.
#
# usage: bash tests/integration/test_seized_store.sh BUILD_DIR

. "$(dirname "$0")/lib.sh"
lib_init test_seized_store "${1:-}"

SPREAD=20
PASS_ORG="Tarim-River-organiser-8841-quiet"
PASS_MEM="Turpan-Grapes-member-2290-slow"
PASS_REV="Hotan-Jade-informant-5512-late"
COMMUNITY="Kashgar Mutual Aid Circle"
N_ORG="Aynur Tursunova"
N_MEM="Mehmet Qasimov"
N_REV="Patigul Ablimit"
N_RELAY="Ilham Relay Box"
NUMBER="+852 5123 4567"
E164="+85251234567"
NATIONAL="51234567"
NUMBER2="+86 138 0013 8000"
E164_2="+8613800138000"
ACCOUNT="wechat:wxid_seizedtest77"
NOTE1="QuietHarborNote threatened my mother 威胁我的家人"
NOTE2="AccountNoteMarble"
NOTE3="FreeTextLanternNote a man in a grey car asks about the mosque"
NOTE4="ZephyrConfirmNote it called me too"
REASON_RETRACT="MisunderstandingReasonKite"
REASON_REVOKE="LaptopSeizedReasonOtter"
RELAYKEYS=${RELAYKEYS:-$AGAH_BUILD/tools/relaykeys}

init_pass() { # NAME DISPLAY-NAME PASSPHRASE
    AGAH_PASSPHRASE=$3 agah_on "$1" init --name "$2" >/dev/null 2>"$ROOT/$1.init.err" ||
        { fail "init $1 with a passphrase" "$(cat "$ROOT/$1.init.err")"; finish; }
}
init_pass org "$N_ORG" "$PASS_ORG"
init_pass mem "$N_MEM" "$PASS_MEM"
init_pass rev "$N_REV" "$PASS_REV"
agah_on relay init --no-passphrase --name "$N_RELAY" >/dev/null 2>"$ROOT/relay.init.err" ||
    { fail "init the relay without a passphrase" "$(cat "$ROOT/relay.init.err")"; finish; }
AGAH_PASSPHRASE=$PASS_ORG agah_on org community create "$COMMUNITY" >/dev/null 2>"$ROOT/.err" ||
    { fail "the organiser founds the community" "$(cat "$ROOT/.err")"; finish; }
P_ORG=$(free_port)
P_MEM=$(free_port)
P_REV=$(free_port)
P_RELAY=$(free_port)

AGAH_PASSPHRASE=$PASS_ORG start_daemon org "$P_ORG" || { fail "organiser's agahd starts"; finish; }
join_as() { # NAME DISPLAY-NAME ROLE PASSPHRASE
    local id code
    id=$(node_id "$1") &&
        code=$(agah_on org invite "$id" --role "$3" --name "$2" 2>"$ROOT/.err") &&
        AGAH_PASSPHRASE=$4 agah_on "$1" join "$code" >/dev/null 2>>"$ROOT/.err" ||
        { fail "$1 joins as $3" "$(cat "$ROOT/.err")"; finish; }
}
join_as mem "$N_MEM" member "$PASS_MEM"
join_as rev "$N_REV" member "$PASS_REV"
join_as relay "$N_RELAY" relay ""
AGAH_PASSPHRASE=$PASS_MEM start_daemon mem "$P_MEM" "$P_ORG" || { fail "member's agahd starts"; finish; }
AGAH_PASSPHRASE=$PASS_REV start_daemon rev "$P_REV" "$P_ORG" || { fail "second member's agahd starts"; finish; }
start_daemon relay "$P_RELAY" "$P_ORG" || { fail "relay's agahd starts"; finish; }
pass "organiser, two members (passphrases) and a relay (none) running"

# ------------------------------------------------------- what they do
run org --json post number "$NUMBER" --note "$NOTE1"
expect "the organiser posts a number with a note" 0 "len(j['id']) == 64"
run mem --json post account "$ACCOUNT" --category scam --note "$NOTE2"
expect "the member posts an account with a note" 0 "len(j['id']) == 64"
A2=$(json_field id)
run mem --json post alert --note "$NOTE3" --severity danger
expect "the member posts a free-text alert" 0 "len(j['id']) == 64"
run org --json post number "$NUMBER2" --category scam
expect "the organiser posts a second number" 0 "len(j['id']) == 64"
wait_until $SPREAD agah_on mem check "$E164" && pass "the number reaches the member" ||
    fail "the number reaches the member"
wait_until $SPREAD agah_on org check "$ACCOUNT" && pass "the account reaches the organiser" ||
    fail "the account reaches the organiser"
run mem --json confirm "$(agah_on mem --json list --kind number | python3 -c 'import json,sys; print([a["id"] for a in json.load(sys.stdin) if a["target"] == sys.argv[1]][0])' "$E164")" --note "$NOTE4"
expect "the member confirms the number with a note" 0 "j['confirmations'] == 1"
run org --json retract "$A2" --reason "$REASON_RETRACT"
expect "the organiser retracts the account with a reason" 0 "j['status'] == 'retracted'"
run mem --json peer add "localhost:$P_ORG"
expect "the member adds a peer address" 0 "'address' in j"
run org --json peer add "127.0.0.1:$P_RELAY"
expect "the organiser adds a peer address" 0 "'address' in j"
REV_ID=$(node_id rev)
run org --json revoke "$REV_ID" --reason "$REASON_REVOKE"
expect "the organiser revokes the second member with a reason" 0 "j['status'] == 'revoked'"

# The relay and the member have everything the organiser has.
store_count() {
    python3 -c 'import sqlite3,sys; print(sqlite3.connect("file:"+sys.argv[1]+"?mode=ro", uri=True, timeout=5).execute("SELECT count(*) FROM records").fetchone()[0])' "$(node_dir "$1")/store.db" 2>/dev/null
}
caught_up() { [ "$(store_count "$1")" = "$(store_count org)" ]; }
wait_until $SPREAD caught_up relay && pass "the relay holds every record ($(store_count relay))" ||
    fail "the relay holds every record" "relay $(store_count relay), org $(store_count org)"
wait_until $SPREAD caught_up mem && pass "the member holds every record" ||
    fail "the member holds every record" "mem $(store_count mem), org $(store_count org)"

# ------------------------------------------------------- the seizure
# The member's node is cut off as a shut lid or a power cut would: SIGKILL,
# so its WAL and shared-memory files stay on the disk.
MEM_PID=$(daemon_pid mem)
{ kill -KILL "$MEM_PID" && stop_daemon mem; } >/dev/null 2>&1
stop_daemon org && stop_daemon rev && stop_daemon relay &&
    pass "the other daemons stop with exit 0" || fail "the other daemons stop with exit 0"

# scan DIR NEEDLE...: prints "NEEDLE<TAB>FILE" for every needle found in
# the raw bytes of any regular file under DIR. A needle "hex:..." is
# looked for as those bytes.
scan() {
    python3 - "$@" <<'EOF'
import os, sys
root, needles = sys.argv[1], sys.argv[2:]
files = []
for d, _, names in os.walk(root):
    for n in names:
        p = os.path.join(d, n)
        if os.path.isfile(p) and not os.path.islink(p):
            files.append(p)
for p in sorted(files):
    data = open(p, "rb").read()
    for n in needles:
        b = bytes.fromhex(n[4:]) if n.startswith("hex:") else n.encode()
        if b in data:
            print("%s\t%s (%d bytes)" % (n, os.path.relpath(p, root), len(data)))
EOF
}

PEERS=("127.0.0.1:$P_ORG" "127.0.0.1:$P_MEM" "127.0.0.1:$P_REV" "127.0.0.1:$P_RELAY"
    "localhost:$P_ORG")
CONTENT=("$E164" "${E164#+}" "$NATIONAL" "$NUMBER" "$E164_2" "${E164_2#+}" "$ACCOUNT"
    "wxid_seizedtest77" "QuietHarborNote" "威胁我的家人" "$NOTE2" "FreeTextLanternNote"
    "ZephyrConfirmNote")
NAMES=("Aynur" "Tursunova" "Mehmet" "Qasimov" "Patigul" "Ablimit" "Ilham Relay" "Kashgar"
    "Mutual Aid Circle" "$REASON_RETRACT" "$REASON_REVOKE")
SECRETS=("$PASS_ORG" "$PASS_MEM" "$PASS_REV")

for n in org mem rev; do
    found=$(scan "$(node_dir "$n")" "${CONTENT[@]}" "${NAMES[@]}" "${PEERS[@]}" "${SECRETS[@]}")
    [ -z "$found" ] && pass "$n's disk (passphrase): no name, number, account, note, reason, peer or passphrase in any byte of $(ls "$(node_dir "$n")" | tr '\n' ' ')" ||
        fail "$n's disk (passphrase): no name, number, account, note, reason, peer or passphrase in any byte" "$found"
done
[ -f "$(node_dir mem)/store.db-wal" ] && echo "note: the member's WAL, left behind by SIGKILL, was scanned"

found=$(scan "$(node_dir relay)" "${CONTENT[@]}" "${PEERS[@]}")
[ -z "$found" ] && pass "relay's disk: no number, account, note or peer address in any byte" ||
    fail "relay's disk: no number, account, note or peer address in any byte" "$found"
# Names and reasons travel encrypted to members (record version 3): the
# relay's bytes hold none of them either.
found=$(scan "$(node_dir relay)" "${NAMES[@]}")
[ -z "$found" ] && pass "relay's disk: no name or revocation reason in any byte" ||
    fail "relay's disk: no name or revocation reason in any byte" "$found"

# The keyed hash of each flagged number under the lookup key a relay's
# disk gives: an older agah kept it in every member's store.db.
if [ -x "$RELAYKEYS" ]; then
    HASHES=$("$RELAYKEYS" "$(node_dir relay)" "$E164" "$E164_2" "$ACCOUNT" 2>"$ROOT/.err")
    if [ -n "$HASHES" ]; then
        found=""
        for n in org mem; do
            found+=$(scan "$(node_dir "$n")" $(printf 'hex:%s ' $HASHES))$'\n'
        done
        found=$(printf '%s' "$found" | sed '/^$/d')
        [ -z "$found" ] && pass "no flagged target's hash under the relay's lookup key on the organiser's or member's disk" ||
            fail "no flagged target's hash under the relay's lookup key on the organiser's or member's disk" "$found"
    else
        fail "relaykeys opens the relay's data directory" "$(cat "$ROOT/.err")"
    fi
else
    fail "the relaykeys tool is built" "$RELAYKEYS"
fi

for n in org mem rev relay; do
    [ ! -e "$(node_dir "$n")/name" ] || fail "$n: no plaintext name file" "$(node_dir "$n")/name exists"
done
pass "no node has a plaintext name file"
schema=$(python3 -c 'import sqlite3,sys; c=sqlite3.connect("file:"+sys.argv[1]+"?mode=ro", uri=True); print(sorted(r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type = \"table\"")), [r[1] for r in c.execute("PRAGMA table_info(records)")])' "$(node_dir mem)/store.db" 2>&1)
case $schema in
*peers* | *lookup*) fail "the member's store.db has no peers table and no lookup column" "$schema" ;;
*) pass "the member's store.db has no peers table and no lookup column" ;;
esac

# The thief's sqlite3 shows the same: a dump of the member's store holds
# none of it either (blobs print as hex, so this reads the clear columns).
if command -v sqlite3 >/dev/null; then
    dump=$(sqlite3 "file:$(node_dir mem)/store.db?mode=ro" .dump 2>&1)
    hits=""
    for s in "${CONTENT[@]}" "${NAMES[@]}" "${PEERS[@]}"; do
        case $dump in *"$s"*) hits+="$s " ;; esac
        hx=$(printf '%s' "$s" | od -An -tx1 | tr -d ' \n')
        case ${dump,,} in *"$hx"*) hits+="hex($s) " ;; esac
    done
    [ -z "$hits" ] && pass "sqlite3 .dump of the member's store holds nothing of it" ||
        fail "sqlite3 .dump of the member's store holds nothing of it" "$hits"
fi

# The owner, with the passphrase, still has everything.
AGAH_PASSPHRASE=$PASS_MEM start_daemon mem "$P_MEM" || fail "the member's agahd starts again"
run mem --json list --all
expect "with the passphrase the member reads every alert again" 0 \
    "len(j) == 4 and any(a['note'] == '''$NOTE1''' for a in j)"
stop_daemon mem || fail "the member's agahd stops"

# agahd --check reads the sealed store with the passphrase, and only with it.
OUT=$(AGAH_PASSPHRASE=$PASS_ORG timeout 60 "$AGAHD" --data "$(node_dir org)" --check 2>&1)
RC=$?
ERR=""
expect "agahd --check with the passphrase: the organiser's sealed store is sound" 0 \
    "': ok: ' in out"
OUT=$(AGAH_PASSPHRASE=wrong-passphrase-here timeout 60 "$AGAHD" --data "$(node_dir org)" --check 2>&1)
RC=$?
expect "agahd --check with a wrong passphrase: exit 2" 2 "'wrong passphrase' in out"
# Destroying store.key (the panic the safety issue builds on) leaves a
# store nobody can read; agahd says so instead of starting over.
cp -a "$(node_dir mem)" "$(node_dir panic)" && rm -f "$(node_dir panic)/store.key"
OUT=$(AGAH_PASSPHRASE=$PASS_MEM timeout 60 "$AGAHD" --data "$(node_dir panic)" --listen none 2>&1)
RC=$?
expect "agahd on a sealed store whose store.key is gone: exit 1, saying so" 1 \
    "'store.key is gone' in out"
[ ! -e "$(node_dir panic)/store.key" ] && pass "no new store key was made" ||
    fail "no new store key was made"
finish

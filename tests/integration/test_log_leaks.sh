#!/usr/bin/env bash
# The seized-log attack: a security service takes a node's disk, journald and
# all, and reads agahd's log for who is in the community, what they reported
# and where they connect from. A small community of real agahd processes
# (organiser and relay at the default level, the member at --log-level
# debug, the relay's identity under a passphrase) does everything a
# community does: names, posts of a number, an account and a free-text
# alert, checks flagged and not and malformed, confirm, retract, invite,
# peer add, revoke. Then no default-level log may hold a number, account,
# note, name, passphrase, join code, member id, address or port, and the
# debug log none of the first ones (ids and addresses are its purpose).
#
# usage: bash tests/integration/test_log_leaks.sh BUILD_DIR

. "$(dirname "$0")/lib.sh"
lib_init test_log_leaks "${1:-}"

SPREAD=15
PASS_RELAY="Uyghur-Valley-hunter2-9731"
COMMUNITY="Kashgar Mutual Aid Circle"
N_ORG="Aynur Tursunova"
N_MEM="Mehmet Qasimov"
N_RELAY="Ilham Relay Box"
N_LATE="Patigul Ablimit"

named_init() { # NAME DISPLAY-NAME
    agah_on "$1" init --no-passphrase --unsafe-no-passphrase --name "$2" >/dev/null 2>"$ROOT/$1.init.err" ||
        { fail "init $1" "$(cat "$ROOT/$1.init.err")"; finish; }
}
named_init org "$N_ORG"
named_init mem "$N_MEM"
named_init late "$N_LATE"
AGAH_PASSPHRASE=$PASS_RELAY agah_on relay init --name "$N_RELAY" >/dev/null 2>"$ROOT/relay.init.err" ||
    { fail "init relay with a passphrase" "$(cat "$ROOT/relay.init.err")"; finish; }
agah_on org community create "$COMMUNITY" >/dev/null 2>"$ROOT/org.found.err" ||
    { fail "the organiser founds the community" "$(cat "$ROOT/org.found.err")"; finish; }
ORG_ID=$(node_id org)
MEM_ID=$(node_id mem)
RELAY_ID=$(AGAH_PASSPHRASE=$PASS_RELAY node_id relay)
LATE_ID=$(node_id late)
P_ORG=$(free_port)
P_MEM=$(free_port)
P_RELAY=$(free_port)

AGAHD_LOG_LEVEL=default start_daemon org "$P_ORG" || { fail "organiser's agahd starts"; finish; }
CODES=()
code=$(agah_on org invite "$MEM_ID" --role member --name "$N_MEM" 2>"$ROOT/.err") &&
    agah_on mem join "$code" >/dev/null 2>>"$ROOT/.err" && CODES+=("$code") ||
    { fail "the member joins" "$(cat "$ROOT/.err")"; finish; }
code=$(agah_on org invite "$RELAY_ID" --role relay --name "$N_RELAY" 2>"$ROOT/.err") &&
    AGAH_PASSPHRASE=$PASS_RELAY agah_on relay join "$code" >/dev/null 2>>"$ROOT/.err" &&
    CODES+=("$code") || { fail "the relay joins" "$(cat "$ROOT/.err")"; finish; }
AGAHD_LOG_LEVEL=debug start_daemon mem "$P_MEM" "$P_ORG" || { fail "member's agahd starts"; finish; }
AGAHD_LOG_LEVEL=default AGAH_PASSPHRASE=$PASS_RELAY start_daemon relay "$P_RELAY" "$P_ORG" ||
    { fail "relay's agahd starts (passphrase from AGAH_PASSPHRASE)"; finish; }
pass "three daemons running: two at the default log level, one at debug"

peers_connected() { # NAME N
    local out
    out=$(agah_on "$1" --json status 2>/dev/null) || return 1
    OUT="$out" python3 -c 'import json,os,sys; sys.exit(0 if json.loads(os.environ["OUT"])["peers"] >= int(sys.argv[1]) else 1)' "$2"
}
wait_until $SPREAD peers_connected org 2 && pass "the organiser links with both" ||
    fail "the organiser links with both" "$(agah_on org --json status 2>&1)"

# ------------------------------------------------------------ what is typed
NOTE1="Threatened my mother QuietHarborNote 威胁我的家人"
NOTE2="ZephyrConfirmNote called me too"
NOTE3="FreeTextLanternNote a man in a grey car asks about the mosque"
REASON_RETRACT="MisunderstandingReasonKite"
REASON_REVOKE="LaptopSeizedReasonOtter"
run org --json post number "+852 5123 4567" --note "$NOTE1"
expect "the organiser posts a number with a note" 0 "len(j['id']) == 64"
A1=$(json_field id)
run mem --json post account "wechat:wxid_leaktest77" --category scam --note "AccountNoteMarble"
expect "the member posts an account" 0 "len(j['id']) == 64"
A2=$(json_field id)
run org --json post alert --note "$NOTE3" --severity danger
expect "the organiser posts a free-text alert" 0 "len(j['id']) == 64"
run org --json post number "+86 138 0013 8000" --category scam
expect "the organiser posts a number with no note" 0 "len(j['id']) == 64"
wait_until $SPREAD agah_on mem check "+85251234567" && pass "the number's alert reaches the member" ||
    fail "the number's alert reaches the member"
wait_until $SPREAD agah_on org check "wechat:wxid_leaktest77" && pass "the account reaches the organiser" ||
    fail "the account reaches the organiser"

# Checks at both levels: flagged, not flagged, malformed.
for n in org mem; do
    run $n check "00852 5123 4567"
    expect "$n: a check in another spelling is flagged" 0 "out.startswith('FLAGGED')"
    run $n check "+44 20 7946 0958"
    expect "$n: a number nobody reported is not flagged" 1 "out == 'not flagged'"
    run $n check "telegram:@quietfox_42"
    expect "$n: an account nobody reported is not flagged" 1 "out == 'not flagged'"
    run $n check "notanumberXYZ"
    expect "$n: letters are refused" 2 "len(err) > 0"
    run $n check "+852 51O3 99qq"
    expect "$n: a number with letters is refused" 2 "len(err) > 0"
done
run mem --json confirm "${A1:0:12}" --note "$NOTE2"
expect "the member confirms with a note" 0 "j['confirmations'] == 1"
run org --json retract "$A2" --reason "$REASON_RETRACT"
expect "the organiser retracts the account" 0 "j['status'] == 'retracted'"
run org invite "$LATE_ID" --name "$N_LATE" --peer "127.0.0.1:$P_RELAY"
expect "the organiser invites a late member" 0 "out.startswith('agah1-')"
CODES+=("$OUT")
run mem --json peer add "localhost:$P_ORG"
expect "the member adds a peer address" 0 "j == {'address': 'localhost:$P_ORG'}"
run org --json peer add "127.0.0.1:$P_RELAY"
expect "the organiser adds a peer address" 0 "'address' in j"
sleep 2
run org --json revoke "$MEM_ID" --reason "$REASON_REVOKE"
expect "the organiser revokes the member" 0 "j['status'] == 'revoked'"
linked_to_mem() {
    local out
    out=$(agah_on org --json peers 2>/dev/null) || return 1
    OUT="$out" python3 -c 'import json,os,sys; sys.exit(0 if any(p["member_id"] == sys.argv[1] and p["connected"] for p in json.loads(os.environ["OUT"])) else 1)' "$MEM_ID"
}
unlinked() { ! linked_to_mem; }
wait_until $SPREAD unlinked && pass "the organiser drops the revoked member's link" ||
    fail "the organiser drops the revoked member's link"
# Stopped, so that the stop lines are in the logs read below.
stop_all_ok org mem relay

# ---------------------------------------------------------------- the attack
# What must never be in any log, in every spelling typed and normalised.
SECRETS=(
    "+852 5123 4567" "+85251234567" "85251234567" "5123 4567" "51234567" "00852 5123 4567"
    "+44 20 7946 0958" "+442079460958" "442079460958" "79460958"
    "+86 138 0013 8000" "+8613800138000" "13800138000"
    "wechat:wxid_leaktest77" "wxid_leaktest77" "telegram:@quietfox_42" "quietfox_42"
    "notanumberXYZ" "51O3 99qq"
    "$NOTE1" "QuietHarborNote" "威胁我的家人" "$NOTE2" "ZephyrConfirmNote" "$NOTE3"
    "FreeTextLanternNote" "AccountNoteMarble" "$REASON_RETRACT" "$REASON_REVOKE"
    "$COMMUNITY" "Kashgar" "$N_ORG" "Aynur" "$N_MEM" "Mehmet" "$N_RELAY" "Ilham" "$N_LATE" "Patigul"
    "$PASS_RELAY" "hunter2"
)
for c in "${CODES[@]}"; do SECRETS+=("$c" "${c:0:24}"); done
# What only a debug log may hold: who and where.
IDENT=("$ORG_ID" "$MEM_ID" "$RELAY_ID" "$LATE_ID" "127.0.0.1" "localhost:")
PORTS=("$P_ORG" "$P_MEM" "$P_RELAY")

leaks_in() { # LOG: prints each secret found
    local s
    for s in "${SECRETS[@]}"; do
        grep -qiF -- "$s" "$1" && printf '%s\n' "$(grep -iF -m1 -- "$s" "$1")  <- '$s'"
    done
}
ident_in() {
    local s
    for s in "${IDENT[@]}"; do
        grep -qF -- "$s" "$1" && printf '%s\n' "$(grep -F -m1 -- "$s" "$1")  <- '$s'"
    done
    for s in "${PORTS[@]}"; do
        grep -qw -- "$s" "$1" && printf '%s\n' "$(grep -w -m1 -- "$s" "$1")  <- port $s"
    done
}
for n in org relay mem; do
    [ -s "$ROOT/$n.log" ] || fail "$n's log is not empty"
    out=$(leaks_in "$ROOT/$n.log")
    if [ -z "$out" ]; then
        pass "$n's log holds no number, account, note, name, passphrase or join code"
    else
        fail "$n's log holds no number, account, note, name, passphrase or join code" "$out"
    fi
done
for n in org relay; do
    out=$(ident_in "$ROOT/$n.log")
    if [ -z "$out" ]; then
        pass "$n's default-level log holds no member id, address or port"
    else
        fail "$n's default-level log holds no member id, address or port" "$out"
    fi
done
# The debug log is still of use: it names peers.
grep -q "up (" "$ROOT/mem.log" && pass "the debug log names peers' links" ||
    fail "the debug log names peers' links" "$(tail -3 "$ROOT/mem.log")"
# And the default log still says what happened.
grep -q "a peer's link is up\|up (" "$ROOT/org.log" && grep -q "ready" "$ROOT/org.log" &&
    pass "the default log still says the node is ready and links came up" ||
    fail "the default log still says the node is ready and links came up" "$(head -5 "$ROOT/org.log")"
grep -q "no longer a member" "$ROOT/org.log" &&
    pass "the default log says a link closed because its member was revoked" ||
    fail "the default log says a link closed because its member was revoked"

# agahd --help says what the log holds.
"$AGAHD" --help >"$ROOT/help.txt" 2>&1
grep -q "member ids appear only at debug" "$ROOT/help.txt" &&
    pass "agahd --help says ids and addresses are logged only at debug" ||
    fail "agahd --help says ids and addresses are logged only at debug" "$(grep -A3 -- --log-level "$ROOT/help.txt")"

finish

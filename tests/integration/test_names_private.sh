#!/usr/bin/env bash
# Issue 23, the record side: a relay's disk and the network carry no names
# and no revocation reasons, and alert ciphertexts come in a few sizes only.
#
# An organiser founds a community with a distinctive name and admits two
# members and a relay, each under a distinctive name; it revokes one member
# with a distinctive reason; the other member posts alerts whose notes have
# different lengths. Then: the remaining member's `members`, `show` and
# `join` show every name, the relay's `members` and `join` show none, and,
# with every daemon stopped, no byte of any file under the relay's data
# directory (nor the member's, apart from the member's own name file) holds
# a name, the community's name or the reason; every alert ciphertext the
# relay stores has one of the padded sizes, and notes of different lengths
# in one size class give ciphertexts of one length. Before record version
# 3 the relay's store held all of them in clear.
#
# usage: bash tests/integration/test_names_private.sh BUILD_DIR

. "$(dirname "$0")/lib.sh"
lib_init test_names_private "${1:-}"
. "$(dirname "$0")/trust_lib.sh"

SPREAD=20 # seconds gossip may take on loopback

COMMUNITY="Kashgarcommunityzq"
ORG_NAME="Gulnarfounderzq"
MEM_NAME="Mehmetmemberzq"
GONE_NAME="Zulfiyarevokedzq"
RELAY_NAME="Relayhomeserverzq"
REASON="Passportzq seized at the border"
NAMES=("$COMMUNITY" "$ORG_NAME" "$MEM_NAME" "$GONE_NAME" "$RELAY_NAME" "Passportzq")

# The organiser and the member name themselves; the relay does not.
agah_on ORG init --no-passphrase --unsafe-no-passphrase --name "$ORG_NAME" >/dev/null 2>&1 &&
    agah_on MEM init --no-passphrase --unsafe-no-passphrase --name "$MEM_NAME" >/dev/null 2>&1 &&
    agah_on GONE init --no-passphrase --unsafe-no-passphrase >/dev/null 2>&1 &&
    agah_on R init --no-passphrase >/dev/null 2>&1 || { fail "identities"; finish; }
MEM_ID=$(node_id MEM)
GONE_ID=$(node_id GONE)
R_ID=$(node_id R)
P_ORG=$(free_port)
P_MEM=$(free_port)
P_R=$(free_port)

# member_revoked_on NAME: NAME's members shows the revoked member as such.
member_revoked_on() { [ "$(member_status "$1" "$GONE_ID")" = revoked ]; }

# join_as ORG NEW ROLE NAME: invite under NAME, join; the join's stderr is
# kept in $ROOT/NEW.join.err.
join_as() {
    local code
    code=$(agah_on "$1" invite "$(node_id "$2")" --role "$3" --name "$4" 2>"$ROOT/$2.invite.err") &&
        agah_on "$2" join "$code" >/dev/null 2>"$ROOT/$2.join.err"
}

if community_found ORG "$COMMUNITY" && start_daemon ORG "$P_ORG" &&
    join_as ORG MEM member "$MEM_NAME" && join_as ORG GONE member "$GONE_NAME" &&
    join_as ORG R relay "$RELAY_NAME"; then
    pass "the organiser founds the community and admits two members and a relay"
else
    fail "the organiser founds the community and admits two members and a relay" \
        "$(cat "$ROOT"/*.err 2>/dev/null | tail -5)"
    finish
fi

# A member's join code opens the names (it carries the genesis key); a
# relay's carries no key and names nothing.
if grep -q "$COMMUNITY" "$ROOT/MEM.join.err" && grep -q "$ORG_NAME" "$ROOT/MEM.join.err"; then
    pass "a member's join names the community and the inviting organiser"
else
    fail "a member's join names the community and the inviting organiser" "$(cat "$ROOT/MEM.join.err")"
fi
if ! grep -q -e "$COMMUNITY" -e "$ORG_NAME" "$ROOT/R.join.err" && grep -q "community id" "$ROOT/R.join.err"; then
    pass "a relay's join shows ids and no name"
else
    fail "a relay's join shows ids and no name" "$(cat "$ROOT/R.join.err")"
fi

# The relay is the member's only way to the organiser, so everything the
# two exchange passes through it and lands in its store.
start_daemon R "$P_R" "$P_ORG" && start_daemon MEM "$P_MEM" "$P_R" ||
    { fail "the relay and the member start"; finish; }

run ORG --json revoke "$GONE_ID" --reason "$REASON"
expect "the organiser revokes a member, with a reason" 0 "j['status'] == 'revoked'"

# Notes of 3 and 30 bytes share the 64-byte class; 600 bytes take 1024.
LONG=$(python3 -c 'print("x" * 600)')
run MEM --json post number "+852 5123 4567" --note "abc"
expect "the member posts a number" 0 "len(j['id']) == 64"
ALERT_ID=$(json_field id)
run MEM --json post alert --note "$(python3 -c 'print("y" * 30)')"
expect "the member posts a free-text alert with a longer note" 0 "len(j['id']) == 64"
run MEM --json post account "telegram:some_handle" --note "$LONG"
expect "the member posts an account with a 600-byte note" 0 "len(j['id']) == 64"

if wait_until $SPREAD jq_ok R "j['unreadable'] == 3" status &&
    wait_until $SPREAD jq_ok ORG "j['alerts'] == 3" status &&
    wait_until $SPREAD member_revoked_on MEM; then
    pass "the alerts and the revocation reach everyone through the relay"
else
    fail "the alerts and the revocation reach everyone through the relay" \
        "$(agah_on R --json status 2>&1)" "$(agah_on ORG --json status 2>&1)"
fi

# A member reads every name: members, show.
run MEM --json members
expect "the member's members lists every name" 0 \
    "{m['member_id']: m['name'] for m in j} == {'$(node_id ORG)': '$ORG_NAME', '$MEM_ID': '$MEM_NAME', '$GONE_ID': '$GONE_NAME', '$R_ID': '$RELAY_NAME'}"
run MEM members
if [ "$RC" = 0 ] && for n in "$ORG_NAME" "$MEM_NAME" "$GONE_NAME" "$RELAY_NAME"; do
    grep -q "$n" <<<"$OUT" || exit 1; done; then
    pass "the member's members table shows every name"
else
    fail "the member's members table shows every name" "$OUT" "$ERR"
fi
run MEM show "$ALERT_ID"
if [ "$RC" = 0 ] && grep -q "$MEM_NAME" <<<"$OUT"; then
    pass "the member's show names the alert's author"
else
    fail "the member's show names the alert's author" "$OUT" "$ERR"
fi
run ORG --json show "$ALERT_ID"
expect "the organiser's show names the author too" 0 "j['author_name'] == '$MEM_NAME'"

# The relay knows ids, roles and statuses, and no name.
run R --json members
expect "the relay's members lists ids and roles but no name" 0 \
    "len(j) == 4 and all(m['name'] == '' for m in j) and {m['member_id'] for m in j} == {'$(node_id ORG)', '$MEM_ID', '$GONE_ID', '$R_ID'} and [m['status'] for m in j if m['member_id'] == '$GONE_ID'] == ['revoked']"

stop_all_ok ORG R MEM

# no_leaks NAME DESC STRING...: no file under NAME's data directory holds
# any STRING, as raw bytes in any file (grep -a reads binary files as text).
no_leaks() {
    local dir leaks="" n hits
    dir=$(node_dir "$1")
    shift
    local desc=$1
    shift
    for n in "$@"; do
        hits=$(grep -a -r -l -F -- "$n" "$dir" 2>/dev/null)
        [ -n "$hits" ] && leaks="$leaks $n in: $hits;"
    done
    if [ -z "$leaks" ]; then
        pass "$desc"
    else
        fail "$desc" "$leaks"
    fi
}

no_leaks R "no file in the relay's data directory holds a name or the revocation reason" \
    "${NAMES[@]}"
# The member's disk holds nobody else's name either (its own label is in
# its `name` file, which is the store side of issue 23).
no_leaks MEM "no file in the member's data directory holds another's name or the reason" \
    "$COMMUNITY" "$ORG_NAME" "$GONE_NAME" "$RELAY_NAME" "Passportzq"

# Alert ciphertexts on the relay: every one a padded size, the two short
# notes alike. The relay's store is sealed under its store key, which its
# passphrase-less identity opens, as a thief with its disk would
# (tests/tools/storedump.c).
sizes=$("$AGAH_BUILD/tools/storedump" "$(node_dir R)" 5 | sort -n | tr '\n' ' ' | sed 's/ $//')
if [ "$sizes" = "80 80 1040" ]; then
    pass "alert ciphertexts on the relay are padded: 80 80 1040 bytes (notes of 3, 30, 600 bytes)"
else
    fail "alert ciphertexts on the relay are padded: 80 80 1040 bytes (notes of 3, 30, 600 bytes)" \
        "got: $sizes"
fi

finish

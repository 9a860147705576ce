#!/usr/bin/env bash
# Issue 22, attack D: revoked keys sign records dated before their
# revocation (S4: "Times signed by a key are its own claim: a revoked key
# cannot get a record accepted by dating it before its revocation").
#
# Founder F, organiser O, members M, C and W (the community was founded and
# all admitted two hours ago, with F's clock set back). The informants M and
# O keep copies of their data directories, which hold the epoch keys they
# had. F revokes both, then posts an alert A. Then:
#  (1) M's key signs an ALERT flagging a number, dated an hour before M's
#      revocation, sealed under the first epoch key (which M held);
#  (2) O's key signs a RETRACT of A, dated before O's revocation.
# A colluding but valid member C sends both over its own authenticated link
# (tests/tools/peerctl/), so the test does not rest on the handshake
# refusing the revoked keys; C's own alert follows them, to know when they
# have been taken. Required: no node lists or flags M's
# number, and A stays active on every node.
#
# usage: bash tests/integration/test_trust_backdate.sh BUILD_DIR

. "$(dirname "$0")/lib.sh"
lib_init test_trust_backdate "${1:-}"
. "$(dirname "$0")/net_lib.sh"
. "$(dirname "$0")/trust_lib.sh"
need_faketime
PEERCTL=$AGAH_BUILD/tools/peerctl
[ -x "$PEERCTL" ] || { echo "test_trust_backdate: $PEERCTL is not built" >&2; exit 2; }

SPREAD=15

ATTACK1="ATTACK D1 SUCCEEDED (a revoked member's alert dated before its revocation):"
ATTACK2="ATTACK D2 SUCCEEDED (a revoked organiser's retraction dated before its revocation):"

for n in F O M C W; do node_init "$n" || { fail "identities"; finish; }; done
O_ID=$(node_id O)
M_ID=$(node_id M)
for n in F O M C W; do eval "P_$n=$(free_port)"; done
N_M="+85259994401" # M's back-dated alert
N_A="+85259994402" # F's alert A, which O's back-dated retraction targets
N_C="+85259994403" # C's own alert, sent after the attack

# hex_query NAME SQL: one value from NAME's store.db (read-only), as hex.
hex_query() {
    python3 - "$(node_dir "$1")/store.db" "$2" <<'EOF'
import sqlite3, sys
db = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True, timeout=5)
row = db.execute(sys.argv[2]).fetchone()
print(row[0].hex() if row else "")
EOF
}

# Two hours ago: F founds the community and admits everyone.
found_in_past -7200 F "$P_F" "Back-dating test" O:organiser M:member C:member W:member

# Now: all five run.
start_daemon F "$P_F" && start_daemon O "$P_O" "$P_F" && start_daemon M "$P_M" "$P_F" &&
    start_daemon C "$P_C" "$P_F" && start_daemon W "$P_W" "$P_F" ||
    { fail "F, O, M, C and W start"; finish; }
if wait_until $SPREAD jq_ok F "j['peers'] >= 4" status; then
    pass "F, O, M, C and W run and are linked"
else
    fail "F, O, M, C and W run and are linked" "$(agah_on F --json peers 2>&1)"
fi

# The informants keep copies of their data directories (with the epoch
# keys they hold now).
for n in M O; do
    stop_daemon "$n"
    cp -a "$(node_dir "$n")" "$(node_dir "${n}COPY")" && rm -f "$(node_dir "${n}COPY")/agahd.sock" ||
        { fail "copy $n's data directory"; finish; }
    start_daemon "$n" "$(eval echo "\$P_$n")" "$P_F" || fail "$n restarts"
done

run F --json revoke "$M_ID" --reason "informant"
expect "F revokes M" 0 "j['status'] == 'revoked'"
R_M=$(date +%s)
run F --json revoke "$O_ID" --reason "informant"
expect "F revokes O" 0 "j['status'] == 'revoked'"
R_O=$(date +%s)

run F --json post number "$N_A" --note "F, after revoking M and O"
expect "F posts alert A" 0 "len(j['id']) == 64"
A_ID=$(json_field id 2>/dev/null)
# C and W read A: they hold the epoch key F issued to the remaining members.
if wait_until $SPREAD flagged C "$N_A" && wait_until $SPREAD flagged W "$N_A"; then
    pass "C and W read A"
else
    fail "C and W read A" "C: $(agah_on C --json status 2>&1)" "W: $(agah_on W --json status 2>&1)"
fi

# The records the attackers sign.
E1=$(hex_query F "SELECT epoch_id FROM (SELECT id AS epoch_id, created FROM records WHERE type = 4 ORDER BY created, id LIMIT 1)")
EA=$(hex_query F "SELECT epoch FROM records WHERE id = x'$A_ID'")
echo "      first epoch $E1; A's epoch $EA; M revoked at $R_M, O at $R_O"
"$PEERCTL" alerts "$(node_dir MCOPY)" 1 --number "$N_M" --created $((R_M - 3600)) --epoch "$E1" \
    >"$ROOT/d1" 2>>"$ROOT/peerctl.err" || fail "M's copy signs a back-dated alert" "$(cat "$ROOT/peerctl.err")"
M_ALERT=$(cut -d' ' -f1 "$ROOT/d1")
"$PEERCTL" annotate "$(node_dir OCOPY)" retract "$A_ID" --created $((R_O - 60)) --epoch "$E1" \
    >"$ROOT/d2" 2>>"$ROOT/peerctl.err" || fail "O's copy signs a back-dated retraction" "$(cat "$ROOT/peerctl.err")"
stop_daemon C
"$PEERCTL" alerts "$(node_dir C)" 1 --number "$N_C" --epoch "$EA" >"$ROOT/marker" 2>>"$ROOT/peerctl.err" ||
    fail "C signs its own alert" "$(cat "$ROOT/peerctl.err")"
cat "$ROOT/d1" "$ROOT/d2" >"$ROOT/attack"

# C, a valid member, sends them to W over its authenticated link, then its
# own alert over a second link: a node takes a lone record in as it reads
# it, so once C's alert is in, the two before it have been judged, even if
# W closed the first link over them.
out=$("$PEERCTL" connect "$(node_dir C)" "127.0.0.1:$P_W" send "$ROOT/attack" wait 2 2>>"$ROOT/peerctl.err")
echo "      C's first link: $out"
case $out in
*"up=1"*"sent=2"*) pass "C sends the two back-dated records over its link to W" ;;
*) fail "C sends the two back-dated records over its link to W" "$out" "$(cat "$ROOT/peerctl.err")" ;;
esac
out=$("$PEERCTL" connect "$(node_dir C)" "127.0.0.1:$P_W" send "$ROOT/marker" wait 1 2>>"$ROOT/peerctl.err")
echo "      C's second link: $out"
case $out in
*"up=1"*"sent=1"*) ;;
*) fail "C sends its own alert over a second link to W" "$out" "$(cat "$ROOT/peerctl.err")" ;;
esac
start_daemon C "$P_C" "$P_F" || fail "C restarts"
# Taken in: C's alert, sent after them, has reached every node.
synced=1
for n in W F C; do
    wait_until $SPREAD flagged "$n" "$N_C" || { synced=0; echo "      C's alert did not reach $n in $SPREAD s"; }
done
[ $synced = 1 ] && pass "C's alert, sent after the attack, reached W, F and C"

for n in W F C; do
    # (1) M's back-dated alert is neither listed nor flagged.
    if flagged "$n" "$N_M"; then
        fail "$n does not flag the revoked M's back-dated number" \
          "$ATTACK1 $n flags a number M posted after its revocation, dated an hour before it" \
          "$(agah_on "$n" check "$N_M" 2>&1)"
    else
        pass "$n does not flag the revoked M's back-dated number"
    fi
    if has "$n" "$M_ALERT"; then
        fail "$n does not list the revoked M's back-dated alert" "$ATTACK1 $n lists it"
    else
        pass "$n does not list the revoked M's back-dated alert"
    fi
    # (2) A stays active.
    st=$(alert_status "$n" "$A_ID")
    if [ "$st" = active ]; then
        pass "A stays active on $n"
    else
        fail "A stays active on $n" \
          "$ATTACK2 F's alert A is $st on $n, withdrawn by O's key after its revocation"
    fi
done

finish

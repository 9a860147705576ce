#!/usr/bin/env bash
# Issue 22, attack C: one organiser revokes the founder (S4: "no single
# organiser can remove the founder or erase what others posted").
#
# Founder F, organiser O, member M, all running and linked. A few seconds
# after M's admission, F admits a second member M2 and posts a number. The
# informant O then sets its clock back to between M's and M2's admissions
# and runs `agah revoke F`. Required: one organiser does not remove the
# founder (the rule: removing the founder takes at least two organisers;
# O's `revoke` may exit 0, the revocation recorded but not effective, or 4,
# but it must have no effect): M still lists F and M2 as active and still
# reads F's earlier number; F still posts and M reads it; F still invites a
# new member, who joins and reads.
#
# M is admitted before the back-dated time on purpose: it stays a member
# under either rule, keeps its link to O, and so always hears of the
# revocation; M2, admitted after it, is what the revocation would undo.
#
# usage: bash tests/integration/test_trust_founder.sh BUILD_DIR

. "$(dirname "$0")/lib.sh"
lib_init test_trust_founder "${1:-}"
. "$(dirname "$0")/net_lib.sh"
. "$(dirname "$0")/trust_lib.sh"
need_faketime

SPREAD=15

ATTACK="ATTACK C SUCCEEDED (one organiser revoked the founder with a back-dated clock):"

for n in F O M M2 X; do node_init "$n" || { fail "identities"; finish; }; done
F_ID=$(node_id F)
O_ID=$(node_id O)
M_ID=$(node_id M)
M2_ID=$(node_id M2)
for n in F O M M2 X; do eval "P_$n=$(free_port)"; done
N1="+85259993301" # F's, posted after the back-dated time, before the revocation
N2="+85259993302" # F's, posted after the revocation

community_found F "Founder test" && start_daemon F "$P_F" || { fail "F founds and starts"; finish; }
invite_join F O organiser || { fail "F admits O as organiser"; finish; }
start_daemon O "$P_O" "$P_F" || { fail "O starts"; finish; }
wait_until $SPREAD jq_ok O "j['peers'] >= 1" status || fail "O links to F"
# M is admitted once F holds the epoch O's node issued at its first start
# (the rival epochs of test_trust_epochs.sh), so M's code carries its key.
if grep -q "issued epoch" "$ROOT/O.log"; then
    o_epoch_at_f() { [ "$(stored_by F "$O_ID" 4)" -ge 1 ]; }
    wait_until $SPREAD o_epoch_at_f || fail "O's first epoch reaches F"
fi
invite_join F M member || { fail "M joins"; finish; }
T_M=$(date +%s) # M's admission is dated at or before this second
start_daemon M "$P_M" "$P_F" "$P_O" || { fail "M starts"; finish; }
if wait_until $SPREAD jq_ok F "j['peers'] >= 2" status; then
    pass "F, O (organiser) and M run and are linked"
else
    fail "F, O (organiser) and M run and are linked" "$(agah_on F --json peers 2>&1)"
fi

# O's revocation will claim T_M + 1 (and a second or two more, the time O
# takes to restart). Well after that: F admits M2 and posts N1.
wait_clock $((T_M + 5)) || true
if invite_join F M2 member && start_daemon M2 "$P_M2" "$P_F" "$P_M"; then
    pass "F admits M2, which starts"
else
    fail "F admits M2, which starts"
fi
run F --json post number "$N1" --note "F, before the revocation"
expect "F posts a number" 0 "len(j['id']) == 64"
if wait_until $SPREAD flagged M "$N1" && wait_until $SPREAD flagged M2 "$N1"; then
    pass "M and M2 read F's number"
else
    fail "M and M2 read F's number" "$(agah_on M --json status 2>&1)"
fi

# O sets its clock back to just after M's admission and revokes F.
stop_daemon O
back=$(($(date +%s) - (T_M + 1)))
start_daemon_faked "-$back" O "$P_O" "$P_F" "$P_M" || { fail "O restarts with its clock ${back} s back"; finish; }
run O --json revoke "$F_ID" --reason "one organiser says the founder is an informant"
echo "      O's revoke of the founder: exit $RC, ${OUT:0:120} ${ERR:0:200}"
if [ "$RC" = 0 ] || [ "$RC" = 4 ]; then
    pass "O's revoke of the founder answers 0 (recorded) or 4 (refused)"
else
    fail "O's revoke of the founder answers 0 (recorded) or 4 (refused)" "exit $RC: $ERR"
fi
# When O's node kept it, it reaches M and F (a revocation by a key of the
# organiser closure is stored even when it takes no effect).
if [ "$(stored_by O "$O_ID" 3)" -ge 1 ]; then
    rev_at() { [ "$(stored_by "$1" "$O_ID" 3)" -ge 1 ]; }
    wait_until $SPREAD rev_at M && wait_until $SPREAD rev_at F ||
        echo "      (O's revocation record did not reach M and F within $SPREAD s)"
fi

# 1. M still lists F as active.
st=$(member_status M "$F_ID")
if [ "$st" = active ]; then
    pass "M's members show the founder active"
else
    fail "M's members show the founder active" "$ATTACK M shows the founder $st" \
      "$(agah_on M --json members 2>&1)"
fi
st=$(member_status F "$F_ID")
if [ "$st" = active ]; then
    pass "F's own members show the founder active"
else
    fail "F's own members show the founder active" "$ATTACK F shows itself $st"
fi
st=$(member_status M "$M2_ID")
if [ "$st" = active ]; then
    pass "M's members show M2, whom F admitted after the back-dated time, active"
else
    fail "M's members show M2, whom F admitted after the back-dated time, active" \
      "$ATTACK M2's admission by the founder was undone at M (M2 is $st)"
fi

# 2. What F posted after the back-dated time is not erased.
if wait_until 5 flagged M "$N1"; then
    pass "M still reads F's earlier number"
else
    fail "M still reads F's earlier number" \
      "$ATTACK F's alert, posted after the back-dated revocation time, was erased at M" \
      "M: $(agah_on M check "$N1" 2>&1)"
fi

# 3. F still posts, and M reads it.
run F --json post number "$N2" --note "F, after O's revocation"
if [ "$RC" = 0 ]; then
    pass "F still posts"
    if wait_until $SPREAD flagged M "$N2"; then
        pass "M reads F's later number"
    else
        fail "M reads F's later number" "$ATTACK M refuses what the founder posts" \
          "M: $(agah_on M check "$N2" 2>&1)"
    fi
else
    fail "F still posts" "$ATTACK the founder can no longer post (exit $RC: ${ERR:0:200})"
    fail "M reads F's later number" "$ATTACK nothing to read: the founder could not post"
fi

# 4. F still admits: a new member joins and reads.
X_ID=$(node_id X)
run F invite "$X_ID" --name X
if [ "$RC" = 0 ]; then
    pass "F still invites"
    if agah_on X join "$OUT" >/dev/null 2>"$ROOT/X.join.err" && start_daemon X "$P_X" "$P_F" "$P_M"; then
        pass "the new member joins and starts"
        if wait_until $SPREAD flagged X "$N2"; then
            pass "the new member reads F's later number"
        else
            fail "the new member reads F's later number" \
              "$ATTACK a member the founder admitted after O's revocation reads nothing" \
              "X: $(agah_on X check "$N2" 2>&1); peers: $(agah_on X --json peers 2>&1)"
        fi
    else
        fail "the new member joins and starts" "$(cat "$ROOT/X.join.err")"
    fi
else
    fail "F still invites" "$ATTACK the founder can no longer admit anyone (exit $RC: ${ERR:0:200})"
fi

finish

#!/usr/bin/env bash
# Issue 22, attack B: a revoked organiser admits a new key with a copied
# data directory and its clock set back (S4: "a revoked key cannot get a
# record accepted by dating it before its revocation").
#
# Founder F, organiser O, member M, all running and linked (the community
# was founded and O and M admitted two hours ago, with F's clock set back,
# so that an hour ago O was a valid organiser). The informant O keeps a copy
# of its data directory. F revokes O. The attacker then runs the copy's
# agahd offline with its clock set back an hour, before the revocation,
# invites a fresh key NEWKEY as organiser, and NEWKEY joins with that code
# and starts at the real time with F and M as peers (and, as the organiser
# it claims to be, forces a rekey so that F would post under a key it
# holds: it invites and revokes a throwaway key). Required: NEWKEY is
# not admitted: its links are refused, F's and M's `members` do not list it
# as active, nothing it signs is accepted, and what F posts afterwards is
# never readable by NEWKEY.
#
# usage: bash tests/integration/test_trust_revoke.sh BUILD_DIR

. "$(dirname "$0")/lib.sh"
lib_init test_trust_revoke "${1:-}"
. "$(dirname "$0")/net_lib.sh"
. "$(dirname "$0")/trust_lib.sh"
need_faketime

SPREAD=15 # seconds gossip may take on loopback
QUIET=10  # seconds the attacker is given to get in

ATTACK="ATTACK B SUCCEEDED (a revoked organiser's back-dated invitation):"

for n in F O M NEWKEY; do node_init "$n" || { fail "identities"; finish; }; done
F_ID=$(node_id F)
O_ID=$(node_id O)
M_ID=$(node_id M)
NEW_ID=$(node_id NEWKEY)
P_F=$(free_port)
P_O=$(free_port)
P_M=$(free_port)
P_NEW=$(free_port)

# Two hours ago: F founds the community and admits O (organiser) and M.
found_in_past -7200 F "$P_F" "Revocation test" O:organiser M:member

# Now: all three run and link.
start_daemon F "$P_F" && start_daemon O "$P_O" "$P_F" && start_daemon M "$P_M" "$P_F" "$P_O" ||
    { fail "F, O and M start"; finish; }
if wait_until $SPREAD jq_ok F "j['peers'] >= 2" status; then
    pass "F, O and M run and are linked"
else
    fail "F, O and M run and are linked" "$(agah_on F --json peers 2>&1)"
fi

# The informant keeps a copy of its data directory.
stop_daemon O
cp -a "$(node_dir O)" "$(node_dir OCOPY)" && rm -f "$(node_dir OCOPY)/agahd.sock" ||
    { fail "copy O's data directory"; finish; }
start_daemon O "$P_O" "$P_F" || fail "O restarts"

run F --json revoke "$O_ID" --reason "informant"
expect "F revokes O" 0 "j == {'member_id': '$O_ID', 'status': 'revoked'}"
if wait_until $SPREAD is_status M "$O_ID" revoked; then
    pass "M's members show O revoked"
else
    fail "M's members show O revoked" "$(agah_on M --json members 2>&1)"
fi

# The attacker: the copy's agahd offline, its clock an hour back (after O's
# admission, before its revocation), invites NEWKEY as organiser.
if ! start_daemon_faked -3600 OCOPY offline; then
    fail "the attacker starts the copy's agahd an hour in the past, offline"
    finish
fi
run OCOPY invite "$NEW_ID" --role organiser --name newkey
expect_rc "the copy (which has not heard of the revocation) signs an invitation of NEWKEY" 0
CODE=$OUT
stop_daemon OCOPY
run NEWKEY --json join "$CODE"
expect "NEWKEY joins with the back-dated code (offline: nothing can refuse it yet)" 0 "j['role'] == 'organiser'"
start_daemon NEWKEY "$P_NEW" "$P_F" "$P_M" || { fail "NEWKEY's agahd starts"; finish; }

# 1. Its links are refused: within $QUIET s it never has a connected peer.
linked() { [ "$(peers_up NEWKEY)" -ge 1 ]; }
if wait_until $QUIET linked; then
    fail "F and M refuse NEWKEY's links" \
      "$ATTACK F or M accepted a link from a key only the revoked O admitted" \
      "NEWKEY's peers: $(agah_on NEWKEY --json peers 2>&1)"
else
    pass "F and M refuse NEWKEY's links (none up in $QUIET s)"
fi

# The attacker makes sure F will post under a key NEWKEY holds: NEWKEY, an
# organiser in its own eyes, invites a throwaway key Z and revokes it, and
# `revoke` always issues a new epoch, numbered above every one NEWKEY knows
# and sealed to every member it counts (F and M among them). When a link
# let that epoch out, wait until F posts under it or a later one (`status`
# gives the number of the posting epoch).
node_init Z
run NEWKEY invite "$(node_id Z)" --name Z
run NEWKEY revoke "$(node_id Z)"
echo "      NEWKEY revokes a throwaway key to force a rekey: exit $RC ${ERR:0:200}"
epoch_of() { agah_on "$1" --json status 2>/dev/null | sed -n 's/.*"epoch": \([0-9]*\).*/\1/p'; }
f_caught_up() {
    local k f
    k=$(epoch_of NEWKEY)
    f=$(epoch_of F)
    [ -n "$k" ] && [ -n "$f" ] && [ "$k" -ge 1 ] && [ "$f" -ge "$k" ]
}
if linked; then
    wait_until $SPREAD f_caught_up ||
        echo "      (F's epoch $(epoch_of F) did not reach NEWKEY's $(epoch_of NEWKEY) in $SPREAD s)"
fi

# 2. Neither F nor M lists NEWKEY as an active member.
for n in F M; do
    st=$(member_status "$n" "$NEW_ID")
    if [ "$st" != active ]; then
        pass "$n's members do not list NEWKEY as active ($st)"
    else
        fail "$n's members do not list NEWKEY as active" \
          "$ATTACK $n lists the key the revoked O admitted as an active member" \
          "$(agah_on "$n" --json members 2>&1)"
    fi
done

# 3. Nothing NEWKEY signs is accepted: it posts a number; F then posts one,
# which M reads (so gossip has run); F and M do not flag NEWKEY's, and hold
# no epoch, alert, confirmation or retraction by it.
N_K="+85259992201"
N_F="+85259992202"
run NEWKEY --json post number "$N_K" --note "posted by the key a revoked organiser admitted"
echo "      NEWKEY's own post: exit $RC ${ERR:0:200}"
run F --json post number "$N_F" --note "posted by F after NEWKEY tried to join"
expect "F posts a number" 0 "len(j['id']) == 64"
if wait_until $SPREAD flagged M "$N_F"; then
    pass "M reads F's number (gossip has run)"
else
    fail "M reads F's number (gossip has run)" "$(agah_on M --json status 2>&1)"
fi
for n in F M; do
    if wait_until 5 flagged "$n" "$N_K"; then
        fail "$n does not flag NEWKEY's number" "$ATTACK $n accepted an alert signed by NEWKEY"
    else
        pass "$n does not flag NEWKEY's number (not in 5 s)"
    fi
    c=$(stored_by "$n" "$NEW_ID" 4,5,6,7)
    if [ "$c" = 0 ]; then
        pass "$n stores no epoch, alert, confirmation or retraction by NEWKEY"
    else
        fail "$n stores no epoch, alert, confirmation or retraction by NEWKEY" \
          "$ATTACK $n stored $c epoch/alert/annotation records signed by NEWKEY"
    fi
done

# 4. What F posted after all this is never readable by NEWKEY.
if wait_until $QUIET flagged NEWKEY "$N_F"; then
    fail "NEWKEY cannot read F's later number" \
      "$ATTACK NEWKEY reads an alert F posted after revoking O" \
      "NEWKEY: $(agah_on NEWKEY check "$N_F" 2>&1)"
else
    pass "NEWKEY cannot read F's later number (not in $QUIET s)"
fi

finish

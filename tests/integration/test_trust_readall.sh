#!/usr/bin/env bash
# Every member reads every alert (S7), even one posted under an epoch that
# left it out and that the community later disowned.
#
# Founder F, organiser O, members M and N, all running and linked (founded
# and admitted two hours ago). O turns informant: it revokes M, and its
# node issues an epoch sealed to F, O and N only; N, in good faith, posts
# an alert under it. F then revokes O with --purge-since a moment before
# O's revocation of M: everything O signed since is void, so M is a member
# again, and O's epoch record is refused everywhere, but N's alert stays
# valid. Required: M's `agah check` of that number comes to say flagged.
# Before epochs linked back to the keys of posts the posting epoch does
# not reach (PROTOCOL.md "Epochs and rekeying", stray keys), nothing ever
# gave M that key, and M never read N's warning.
#
# usage: bash tests/integration/test_trust_readall.sh BUILD_DIR

. "$(dirname "$0")/lib.sh"
lib_init test_trust_readall "${1:-}"
. "$(dirname "$0")/net_lib.sh"
. "$(dirname "$0")/trust_lib.sh"
need_faketime

SPREAD=20 # seconds gossip may take on loopback
BACK=60   # seconds a node refused a link may take to dial again
NUMBER="+852 5123 9999"

for n in F O M N; do node_init "$n" || { fail "identities"; finish; }; done
O_ID=$(node_id O)
M_ID=$(node_id M)
P_F=$(free_port)
P_O=$(free_port)
P_M=$(free_port)
P_N=$(free_port)

# Two hours ago: F founds the community and admits O (organiser), M and N.
found_in_past -7200 F "$P_F" "Read-all test" O:organiser M:member N:member

start_daemon F "$P_F" && start_daemon O "$P_O" "$P_F" &&
    start_daemon M "$P_M" "$P_F" "$P_O" && start_daemon N "$P_N" "$P_F" "$P_O" ||
    { fail "F, O, M and N start"; finish; }
if wait_until $SPREAD jq_ok F "j['peers'] >= 3" status; then
    pass "F, O, M and N run and are linked"
else
    fail "F, O, M and N run and are linked" "$(agah_on F --json peers 2>&1)"
fi

# The moment F will purge from: before anything O signs as an informant.
SINCE=$(date +%s)
sleep 1

run O --json revoke "$M_ID" --reason "told to"
expect "the informant O revokes the honest member M (and its node rekeys without M)" 0 \
    "j['status'] == 'revoked'"
if wait_until $SPREAD is_status N "$M_ID" revoked && wait_until $SPREAD is_status F "$M_ID" revoked; then
    pass "F and N take O's revocation of M"
else
    fail "F and N take O's revocation of M" "$(agah_on N --json members 2>&1)"
fi

# N posts in good faith, under the epoch O issued (the only clean one now).
posted() { agah_on N post number "$NUMBER" --category harassment --note "posted under O's epoch" >/dev/null 2>&1; }
if wait_until $SPREAD posted; then
    pass "N posts an alert, under O's epoch"
else
    fail "N posts an alert, under O's epoch" "$(agah_on N post number "$NUMBER" 2>&1)"
fi
if wait_until $SPREAD flagged F "$NUMBER"; then
    pass "F reads N's alert"
else
    fail "F reads N's alert" "$(agah_on F check "$NUMBER" 2>&1)"
fi

# F revokes O, purging everything it signed since SINCE: its revocation of
# M and its epoch with it.
run F --json revoke "$O_ID" --reason "informant" --purge-since "$SINCE"
expect "F revokes O, purging what it signed since before it turned" 0 "j['status'] == 'revoked'"
if wait_until $SPREAD is_status F "$M_ID" active; then
    pass "M is a member again on F (O's revocation of it is void)"
else
    fail "M is a member again on F" "$(agah_on F --json members 2>&1)"
fi
if wait_until $BACK is_status M "$O_ID" revoked; then
    pass "M links again and learns of O's revocation"
else
    fail "M links again and learns of O's revocation" "$(agah_on M --json status 2>&1)"
fi

# The point: M reads the warning N posted while M was left out.
if wait_until $SPREAD flagged M "$NUMBER"; then
    pass "M reads the alert N posted under the informant's voided epoch"
else
    fail "M reads the alert N posted under the informant's voided epoch" \
        "M's check: $(agah_on M check "$NUMBER" 2>&1)" \
        "M's status: $(agah_on M --json status 2>&1)"
fi
if wait_until $SPREAD flagged N "$NUMBER"; then
    pass "N still reads its own alert"
else
    fail "N still reads its own alert" "$(agah_on N check "$NUMBER" 2>&1)"
fi
if wait_until $SPREAD jq_ok M "j['unreadable'] == 0" status; then
    pass "M holds no alert it cannot read"
else
    fail "M holds no alert it cannot read" "$(agah_on M --json status 2>&1)"
fi

finish

#!/usr/bin/env bash
# A link stands only while its member does (issue 24): an invitation that
# no organiser's node confirmed lapses with its code (7 days), and a link
# that was up when it lapsed is closed at the next keepalive tick, not
# kept until it drops by itself. Before the fix it stayed up for good.
#
# Founder a admits b (whose node links with a: a permanent admission) and
# m, whose node never links with an organiser's, only with b's. b and m
# run with their clocks 7 days on less 45 s (libfaketime), link, and the
# invitation lapses while the link is up.
# usage: test_net_lapse.sh [BUILD_DIR]
. "$(dirname "$0")/lib.sh"
lib_init test_net_lapse "${1:-}"
. "$(dirname "$0")/net_lib.sh"
. "$(dirname "$0")/trust_lib.sh"
need_faketime

community a b m || { fail "set up a community"; finish; }
M_ID=$(node_id m)
start_daemon b "$PORT_b" "$PORT_a" || { fail "start b"; finish; }
confirmed() { jq_ok a "[x for x in j if x['member_id'] == '$(node_id b)'][0]['invited_until'] == 0" members; }
wait_until 20 confirmed && pass "b's invitation is confirmed (b linked with a)" ||
    fail "b's invitation is confirmed" "$(agah_on a --json members 2>&1)"
has_m() { jq_ok b "any(x['member_id'] == '$M_ID' for x in j)" members; }
wait_until 20 has_m || fail "b knows m's invitation"
stop_all

OFF=$((7 * 86400 - 45))
start_daemon_faked $OFF b "$PORT_b" && start_daemon_faked $OFF m "$PORT_m" "$PORT_b" ||
    { fail "b and m start, 45 s before m's invitation lapses"; finish; }
if wait_until 20 links_are b 1; then
    pass "m's node links with b's while its invitation stands"
else
    fail "m's node links with b's while its invitation stands" "$(agah_on b --json peers 2>&1)"
fi
closed() { grep -q "its admission expired); closing the link" "$ROOT/b.log"; }
if wait_until 100 closed && wait_until 10 links_are b 0; then
    pass "b closes the link once m's invitation has lapsed (at the next keepalive)"
else
    fail "b closes the link once m's invitation has lapsed" "$(agah_on b --json peers 2>&1)"
fi
stop_all_ok b m
finish

#!/usr/bin/env bash
# `agah revoke --purge-since` (issue 24): an informant floods the community
# before anyone notices. The organiser revokes it and purges everything it
# signed from a chosen time on: its keep list leaves those records out, so
# every node drops them, while what it posted before stays (marked as an
# author revoked since). Without --purge-since the revocation keeps all of
# them.
# usage: test_cli_purge.sh [BUILD_DIR]
. "$(dirname "$0")/lib.sh"
lib_init test_cli_purge "${1:-}"
. "$(dirname "$0")/net_lib.sh"

community a m x || { fail "set up a community"; finish; }
start_daemon m "$PORT_m" "$PORT_a" && start_daemon x "$PORT_x" "$PORT_a" ||
    { fail "start m and x"; finish; }
wait_until 20 links_are a 2 || fail "a links with m and x"
flagged() { agah_on "$1" check "$2" >/dev/null 2>&1; }
agah_on x post number +85251230001 --note "before" >/dev/null 2>&1 || fail "x posts before"
wait_until 20 flagged m +85251230001 || fail "m sees x's first number"
sleep 1.2
SINCE=$(date +%s)
sleep 1.2
agah_on x post number +85251230002 --note "flood" >/dev/null 2>&1 || fail "x posts the flood"
wait_until 20 flagged m +85251230002 || fail "m sees x's flood"

run a revoke "$(node_id x)" --purge-since "$SINCE" --reason "informant"
expect_rc "a revokes x, purging what it signed since $SINCE" 0
gone() { ! flagged "$1" +85251230002; }
if wait_until 20 gone a && wait_until 20 gone m; then
    pass "the flood is gone on a and m"
else
    fail "the flood is gone on a and m"
fi
flagged a +85251230001 && flagged m +85251230001 &&
    pass "what x posted before stays on a and m" || fail "what x posted before stays on a and m"
run m --json check +85251230001
expect "m marks it as posted by an author revoked since" 0 "j['alerts'][0]['author_revoked'] is True" 
run a revoke "$(node_id m)" --purge-since "tomorrow"
expect "--purge-since with a word: exit 2" 2 "'UTC date' in err"
run a revoke "$(node_id m)" --purge-since "2999-01-01"
expect "--purge-since in the future: exit 2" 2 "'future' in err"
stop_all_ok a m x
finish

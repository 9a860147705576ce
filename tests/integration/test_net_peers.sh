#!/usr/bin/env bash
# PEERS from a member (issue 24): each side of a link sends one PEERS
# message when the link comes up. A member that sends more, each naming
# other addresses, made every node it reached churn its address table and
# dial whatever it named. Now a node takes the first PEERS of a link and
# ignores the rest.
# usage: test_net_peers.sh [BUILD_DIR]
. "$(dirname "$0")/lib.sh"
lib_init test_net_peers "${1:-}"
. "$(dirname "$0")/net_lib.sh"
PEERCTL=$AGAH_BUILD/tools/peerctl
[ -x "$PEERCTL" ] || { echo "test_net_peers: $PEERCTL is not built" >&2; exit 2; }

community a m || { fail "set up a community"; finish; }
out=$("$PEERCTL" connect "$(node_dir m)" "127.0.0.1:$PORT_a" peers 1 20 wait 1 peers 2 20 \
      peers 3 20 wait 2 2>>"$ROOT/peerctl.err")
case "$out" in
*up=1*) pass "the member's scripted node links and sends three PEERS messages" ;;
*) fail "the member's scripted node links and sends three PEERS messages" "$out $(cat "$ROOT/peerctl.err")" ;;
esac
known=$(agah_on a --json peers 2>&1)
n1=$(printf '%s' "$known" | grep -o '"10\.1\.[0-9]*\.[0-9]*:7433"' | sort -u | wc -l)
n23=$(printf '%s' "$known" | grep -o '"10\.[23]\.[0-9]*\.[0-9]*:7433"' | sort -u | wc -l)
echo "      addresses a keeps: $n1 from the first PEERS, $n23 from the two after it"
[ "$n1" -ge 1 ] && pass "a takes the addresses of the link's first PEERS" ||
    fail "a takes the addresses of the link's first PEERS" "$known"
[ "$n23" = 0 ] && pass "a ignores every later PEERS on that link" ||
    fail "a ignores every later PEERS on that link" "$n23 addresses kept"
grep -q "a PEERS message after the first on this link; ignored" "$ROOT/a.log" &&
    pass "a's debug log says so" || fail "a's debug log says so"
stop_all_ok a
finish

#!/usr/bin/env bash
# PEERS from a member (issue 24). A member could make every node it reached
# dial any address it named (a victim's) and churn its address table. Now
# PEERS carries signed statements "member K listens at ADDR until T"
# (daemon/wire/peeraddr.c): a node takes one only if the signature verifies, K
# is a member in good standing, the statement is current, and K holds
# fewer than 2 learned addresses; it dials it bound to K. A link gets one
# PEERS. The hostile member (peerctl, with m's key) points every statement
# at a listener this test runs and counts the connections it receives:
# unsigned, signed by a stranger, by a revoked member, expired, dated a
# year ahead, and 100 signed by its own key. Honest members still find
# each other: h2, who knows only the relay, links to h1; a node listening on
# 0.0.0.0 is known at the address it is seen at.
# usage: test_net_peers.sh [BUILD_DIR]
. "$(dirname "$0")/lib.sh"
lib_init test_net_peers "${1:-}"
. "$(dirname "$0")/net_lib.sh"
PEERCTL=$AGAH_BUILD/tools/peerctl
[ -x "$PEERCTL" ] || { echo "test_net_peers: $PEERCTL is not built" >&2; exit 2; }

community a m x h1 h2 w || { fail "set up a community"; finish; }
node_init r && invite_join a r relay || { fail "invite the relay"; finish; }
PORT_r=$(free_port)

# The victim: counts every connection it accepts, one line each with the
# address it was reached at, and closes it.
VPORT=$(free_port)
VLOG=$ROOT/victim.log
: >"$VLOG"
python3 - "$VPORT" "$VLOG" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1])))
s.listen(64)
while True:
    c, _ = s.accept()
    with open(sys.argv[2], "a") as f:
        f.write("%s\n" % c.getsockname()[0])
    c.close()
PY
VPID=$!
trap 'kill "$VPID" 2>/dev/null; stop_all; lib_cleanup' EXIT

# announce SIGNER TTL N A.B: one link from m's key sending one PEERS.
announce() {
    "$PEERCTL" connect "$(node_dir m)" "127.0.0.1:$PORT_a" peers "$1" "$2" "$3" "$4" "$VPORT" \
        wait 1 2>>"$ROOT/peerctl.err"
}

# x is revoked first, so its key signs as a former member.
X_ID=$(node_id x)
agah_on a revoke "$X_ID" --reason test >/dev/null 2>&1 || fail "revoke x"

out=$(announce none 3600 20 127.1)
case "$out" in
*up=1*) pass "the member's scripted node links and sends PEERS" ;;
*) fail "the member's scripted node links and sends PEERS" "$out $(cat "$ROOT/peerctl.err")" ;;
esac
announce stranger 3600 20 127.2 >/dev/null
announce "$(node_dir x)" 3600 20 127.3 >/dev/null
announce self -60 20 127.4 >/dev/null
announce self 31536000 20 127.5 >/dev/null
# 100 addresses signed by m's own key, in four links of 25. After each
# link, a holds at most 2 of them (an address is dropped after 4 failed
# dials, and the next link may then bring 2 more).
own_held() {
    agah_on a --json peers 2>/dev/null | grep -o '"127\.\([6-9]\|1[01]\)\.[0-9.]*:' | sort -u | wc -l
}
held_max=0
for net in 127.6 127.7 127.8 127.9; do
    announce self 3600 25 "$net" >/dev/null
    h=$(own_held)
    [ "$h" -gt "$held_max" ] && held_max=$h
done
# One more PEERS on the same link is ignored, whatever it says.
"$PEERCTL" connect "$(node_dir m)" "127.0.0.1:$PORT_a" peers self 3600 1 127.10 "$VPORT" \
    peers self 3600 20 127.11 "$VPORT" wait 1 >/dev/null 2>>"$ROOT/peerctl.err"
h=$(own_held)
[ "$h" -gt "$held_max" ] && held_max=$h

# Dials of learned addresses start on a's 1 s tick and back off from 1 s
# on failure; 8 s is several rounds of redials.
sleep 8
known=$(agah_on a --json peers 2>&1)
from() { grep -c "^$1\." "$VLOG"; }
# Each case: the 20 entries refused, each for its reason (a's debug log),
# none kept, none dialled.
for case in "1 unsigned:refused: bad signature" \
    "2 signed-by-a-stranger:not a member: not found" \
    "3 signed-by-a-revoked-member:not a member: permission denied" \
    "4 expired:refused: expired" "5 dated-a-year-ahead:refused: value out of range"; do
    n=${case%% *} what=${case#* } why=${case#*:}
    what=${what%%:*}
    c=$(from "127.$n")
    k=$(printf '%s' "$known" | grep -c "\"127\.$n\.")
    r=$(grep "PEERS entry 127\.$n\.[0-9.]*:$VPORT .*$why" "$ROOT/a.log" | wc -l)
    echo "      $what: $r of 20 refused ($why), victim got $c connections, a keeps $k addresses"
    [ "$r" = 20 ] && [ "$c" = 0 ] && [ "$k" = 0 ] &&
        pass "a refuses, neither keeps nor dials addresses $what" ||
        fail "a refuses, neither keeps nor dials addresses $what" "$r refused, $c connections, $k kept"
done
own=$(grep -c '^127\.\([6-9]\|1[01]\)\.' "$VLOG")
distinct=$(grep '^127\.\([6-9]\|1[01]\)\.' "$VLOG" | sort -u | wc -l)
most=$(grep '^127\.\([6-9]\|1[01]\)\.' "$VLOG" | sort | uniq -c | sort -rn | awk 'NR==1{print $1+0}')
echo "      121 addresses signed by m's own key: a held at most $held_max at a time;" \
    "victim got $own connections to $distinct addresses, at most ${most:-0} to one"
[ "$held_max" -le 2 ] && pass "a holds at most 2 of the addresses one member signs" ||
    fail "a holds at most 2 of the addresses one member signs" "$held_max at once"
# Five links from m, each bringing at most 2 once earlier ones are dropped.
[ "$distinct" -le 10 ] && pass "a dials at most 2 new addresses per link of that member" ||
    fail "a dials at most 2 new addresses per link of that member" "$distinct addresses"
# Each of those dials fails (bound to m's key, which the victim is not);
# a learned address is dropped after 4 failures.
[ "${most:-0}" -le 4 ] && pass "and each of those at most 4 times" ||
    fail "and each of those at most 4 times" "$most connections to one address"
[ "$(grep -c '^127\.11\.' "$VLOG")" = 0 ] && pass "a ignores a second PEERS on a link" ||
    fail "a ignores a second PEERS on a link"
grep -q "a PEERS message after the first on this link; ignored" "$ROOT/a.log" &&
    pass "a's debug log says so" || fail "a's debug log says so"

# Honest members: h1 and h2 know only the relay; h2 learns h1's signed
# address from the relay's PEERS and links to it (or h1 to h2).
# linked_to NAME OTHER: NAME has a link up to OTHER's member key.
linked_to() {
    agah_on "$1" --json peers 2>/dev/null | python3 -c '
import json, sys
sys.exit(0 if any(p.get("member_id") == sys.argv[1] and p.get("connected")
                  for p in json.load(sys.stdin)) else 1)' "$(node_id "$2")"
}
start_daemon r "$PORT_r" "$PORT_a" || fail "start r"
start_daemon h1 "$PORT_h1" "$PORT_r" || fail "start h1"
wait_until 20 linked_to h1 r || fail "h1 links to the relay"
start_daemon h2 "$PORT_h2" "$PORT_r" || fail "start h2"
if wait_until 30 linked_to h2 h1; then
    pass "h2, who knows only the relay, links to h1 (learned from PEERS)"
else
    fail "h2, who knows only the relay, links to h1 (learned from PEERS)" \
        "$(agah_on h2 --json peers 2>&1)"
fi

# A node listening on every interface signs 0.0.0.0:P; the node it links to
# takes it as the address it sees it at (and does not pass it on).
"$AGAHD" --data "$(node_dir w)" --log-level debug --listen "0.0.0.0:$PORT_w" \
    --peer "127.0.0.1:$PORT_a" >>"$ROOT/w.log" 2>&1 &
DAEMON_PIDS+=($!)
DAEMON_NAMES+=(w)
wait_sock w || fail "start w"
w_listed() {
    agah_on a --json peers 2>/dev/null | python3 -c '
import json, sys
sys.exit(0 if any(p.get("address") == sys.argv[1] and p.get("member_id") == sys.argv[2]
                  for p in json.load(sys.stdin)) else 1)' "127.0.0.1:$PORT_w" "$(node_id w)"
}
wait_until 20 w_listed && pass "a takes w's signed 0.0.0.0 address as 127.0.0.1:$PORT_w" ||
    fail "a takes w's signed 0.0.0.0 address as 127.0.0.1:$PORT_w" "$(agah_on a --json peers 2>&1)"
stop_all_ok a r h1 h2 w
finish

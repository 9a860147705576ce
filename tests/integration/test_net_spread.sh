#!/usr/bin/env bash
# Gossip between real agahd processes on 127.0.0.1: five nodes dialled as a
# line, then closed into a ring. A post on any node reaches every other,
# in both directions, and the nodes agree on the exact set of alerts.
# usage: test_net_spread.sh [BUILD_DIR]
. "$(dirname "$0")/lib.sh"
lib_init test_net_spread "${1:-}"
. "$(dirname "$0")/net_lib.sh"

N="a b c d e"
community a b c d e || { fail "set up a community of five"; finish; }
# A line: each node dials the one before it.
start_daemon b "$PORT_b" "$PORT_a" && start_daemon c "$PORT_c" "$PORT_b" &&
    start_daemon d "$PORT_d" "$PORT_c" && start_daemon e "$PORT_e" "$PORT_d" ||
    { fail "start the line"; finish; }
if wait_until 20 test "$(connected e)" -ge 1 && wait_until 20 test "$(connected b)" -ge 1; then
    pass "line: every daemon is linked"
else
    fail "line: every daemon is linked" "e: $(connected e), b: $(connected b)"
fi

id1=$(post_alert a "line, from one end")
if [ -n "$id1" ] && all_have 20 "$id1" b c d e; then
    pass "line: a post on a reaches b, c, d, e"
else
    fail "line: a post on a reaches b, c, d, e" "id: $id1"
fi
id2=$(post_alert e "line, from the other end")
if [ -n "$id2" ] && all_have 20 "$id2" a b c d; then
    pass "line: a post on e reaches a, b, c, d"
else
    fail "line: a post on e reaches a, b, c, d"
fi
id3=$(post_alert c "line, from the middle")
if [ -n "$id3" ] && all_have 20 "$id3" a b d e; then
    pass "line: a post on c reaches both ends"
else
    fail "line: a post on c reaches both ends"
fi

# Close the ring: e dials a.
run e --json peer add "127.0.0.1:$PORT_a"
expect "ring: peer add closes the ring" 0 'j == {"address": "127.0.0.1:'"$PORT_a"'"}'
if wait_until 20 sh -c "'$AGAH' --data '$(node_dir e)' --json peers | grep -q '127.0.0.1:$PORT_a\", \"member_id\": \"m[a-z0-9]*\", \"connected\": true'"; then
    pass "ring: e is linked to a"
else
    fail "ring: e is linked to a" "$(agah_on e --json peers)"
fi
ring=()
for n in $N; do
    ring+=("$(post_alert "$n" "ring, from $n")")
done
ok=1
for id in "${ring[@]}"; do
    [ -n "$id" ] && all_have 20 "$id" $N || ok=0
done
if [ $ok = 1 ]; then
    pass "ring: one post from every node reaches every node"
else
    fail "ring: one post from every node reaches every node"
fi
if wait_until 20 same_sets 8 $N; then
    pass "all five list the same 8 alerts"
else
    fail "all five list the same 8 alerts" "counts: $(for n in $N; do printf '%s=%s ' $n "$(count $n)"; done)"
fi
# A burst of 50 posts on one node spreads whole.
for i in $(seq 1 50); do
    post_alert c "burst $i" >/dev/null || fail "burst post $i"
done
if wait_until 30 same_sets 58 $N; then
    pass "a burst of 50 posts on c reaches all, exactly"
else
    fail "a burst of 50 posts on c reaches all, exactly" "counts: $(for n in $N; do printf '%s=%s ' $n "$(count $n)"; done)"
fi
# No node logged a malformed message or a refused record along the way.
if ! grep -h "malformed\|record refused\|handshake failed" "$ROOT"/[a-e].log >/dev/null; then
    pass "no malformed message, refused record or failed handshake logged"
else
    fail "no malformed message, refused record or failed handshake logged" \
        "$(grep -h "malformed\|record refused\|handshake failed" "$ROOT"/[a-e].log | head -5)"
fi
stop_all_ok $N
finish

#!/usr/bin/env bash
# Outsiders cannot cut a node off (issue 24): silent TCP connections, kept
# open and reopened as soon as they are closed, from 127.0.0.1 (exempt from
# the per-address caps, so it tests the handshake budget and eviction
# alone), from four other loopback addresses (the per-address cap) and from
# twenty addresses of one /24 (the per-prefix cap). On the code before
# issue 24, 64 of them filled every slot: members were refused and the
# node stopped dialling out. Here, during the siege, a member links to the
# besieged node (an accepted link), the besieged node dials another member
# (an outbound link), `agah status` answers, and silent connections are
# closed within the 3 s M1 deadline or evicted.
# usage: test_net_slots.sh [BUILD_DIR]
. "$(dirname "$0")/lib.sh"
lib_init test_net_slots "${1:-}"
. "$(dirname "$0")/net_lib.sh"
HOSTILE=$(dirname "$0")/hostile_peer.py
ulimit -n 4096 2>/dev/null || ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 1024 ]; then
    echo "test_net_slots: ulimit -n is $(ulimit -n), 1,024 file descriptors are needed"
    exit 77
fi
# Every 127/8 address is local on Linux; without that there is no siege
# from many addresses to run.
if ! python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.2", 0))' 2>/dev/null; then
    echo "test_net_slots: cannot bind 127.0.0.2"
    exit 77
fi
field() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

community a b c || { fail "set up a community"; finish; }

# 1. One silent connection alone is closed at the M1 deadline, not at the
# 10 s handshake limit.
out=$(python3 "$HOSTILE" idle "$PORT_a" 1 12)
echo "      one silent connection: $out"
held=$(field "$out" held)
if [ "$(field "$out" open)" = 0 ] && [ "$(field "$out" bytes)" = 0 ] &&
    awk "BEGIN { exit !($held >= 2.5 && $held < 5) }"; then
    pass "a silent connection is closed at the 3 s M1 deadline, nothing sent"
else
    fail "a silent connection is closed at the 3 s M1 deadline" "$out"
fi

# 2. The caps, one at a time: ten connections from one address, then one
# from each of twenty addresses of one /24. Each cap evicts the oldest
# connection in the handshake within it.
python3 "$HOSTILE" siege "$PORT_a" 5 127.0.0.2:10 >/dev/null
if grep -q "closed: too many connections in the handshake from one address" "$ROOT/a.log"; then
    pass "ten silent connections from one address: evicted at the per-address cap"
else
    fail "ten silent connections from one address: evicted at the per-address cap"
fi
SOURCES=
for i in $(seq 1 20); do SOURCES="$SOURCES 127.0.7.$i:1"; done
# shellcheck disable=SC2086
python3 "$HOSTILE" siege "$PORT_a" 5 $SOURCES >/dev/null
if grep -q "closed: too many connections in the handshake from one network" "$ROOT/a.log"; then
    pass "silent connections from twenty addresses of one /24: evicted at the per-prefix cap"
else
    fail "silent connections from twenty addresses of one /24: evicted at the per-prefix cap"
fi

# 3. The siege: 160 silent connections held for 40 s.
SOURCES="127.0.0.1:80"
for i in 2 3 4 5; do SOURCES="$SOURCES 127.0.0.$i:10"; done
for i in $(seq 1 20); do SOURCES="$SOURCES 127.0.7.$i:2"; done
# shellcheck disable=SC2086
python3 "$HOSTILE" siege "$PORT_a" 40 $SOURCES >"$ROOT/siege.out" &
SIEGE=$!
# The siege has filled what it can: on the old code every slot.
wait_until 10 grep -q 'too many connections' "$ROOT/a.log"
sleep 3

ms=$(status_ms a)
if [ "$ms" -lt 2000 ]; then
    pass "under siege, a's control socket answers (${ms} ms)"
else
    fail "under siege, a's control socket answers" "${ms} ms"
fi

# An accepted link: b dials a.
start_daemon b "$PORT_b" "$PORT_a" || fail "start b"
if wait_until 20 links_are b 1; then
    pass "under siege, b's dial to a is accepted and the link comes up"
else
    fail "under siege, b's dial to a is accepted and the link comes up" \
        "b: $(connected b) links; $(grep -c 'refused' "$ROOT/a.log") refusals in a's log"
fi

# An outbound link: a dials c.
start_daemon c "$PORT_c" || fail "start c"
agah_on a peer add "127.0.0.1:$PORT_c" >/dev/null 2>&1 || fail "a: peer add c"
if wait_until 20 links_are c 1; then
    pass "under siege, a dials c and the link comes up"
else
    fail "under siege, a dials c and the link comes up" "c: $(connected c) links"
fi
if links_are a 2; then
    pass "under siege, a holds both member links"
else
    fail "under siege, a holds both member links" "a: $(connected a)"
fi

# Alerts still flow both ways through a.
id=$(post_alert b "under siege from b")
if [ -n "$id" ] && all_have 20 "$id" a c; then
    pass "under siege, a post on b reaches a and c"
else
    fail "under siege, a post on b reaches a and c"
fi
ms=$(status_ms a)
if [ "$ms" -lt 2000 ]; then
    pass "later in the siege, a's control socket answers (${ms} ms)"
else
    fail "later in the siege, a's control socket answers" "${ms} ms"
fi

wait "$SIEGE"
out=$(cat "$ROOT/siege.out")
echo "      siege: $out"
held=$(field "$out" held)
if [ "$(field "$out" bytes)" = 0 ] && awk "BEGIN { exit !($held < 5) }"; then
    pass "no silent connection was held past the M1 deadline, none got a byte"
else
    fail "no silent connection was held past the M1 deadline, none got a byte" "$out"
fi
if grep -q "closed: too many connections in the handshake$" "$ROOT/a.log"; then
    pass "a evicts the oldest silent connection at the handshake budget"
else
    fail "a evicts the oldest silent connection at the handshake budget"
fi
if [ "$(connected a)" = 2 ]; then
    pass "after the siege, both member links are still up"
else
    fail "after the siege, both member links are still up" "a: $(connected a)"
fi
stop_all_ok a b c
finish

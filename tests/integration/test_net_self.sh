#!/usr/bin/env bash
# A node marks an address as itself only when both ends of one connection
# are its own (issue 22, 3.3). Attack: a host that turns a node's dial back
# to the node's own listener (a reflector, here a forwarding proxy) used to
# make it take that address for itself and never dial it again, so the
# reflector could cut a node off from a real peer's address for good. Now
# the reflected link is closed and the address redialled with backoff. A
# node that dials its own listen address directly still recognises itself
# and stops.
# usage: test_net_self.sh [BUILD_DIR]
. "$(dirname "$0")/lib.sh"
lib_init test_net_self "${1:-}"
. "$(dirname "$0")/net_lib.sh"
HOSTILE=$(dirname "$0")/hostile_peer.py

community a || { fail "set up a community"; finish; }

# 1. The reflector: every connection to PORT_r goes on to a's own port.
PORT_r=$(free_port)
python3 "$HOSTILE" proxy "$PORT_r" "$PORT_a" "$ROOT/refl" &
PROXY=$!
wait_until 10 python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close()' "$PORT_r"
reflected() { cat "$ROOT/refl.n" 2>/dev/null || echo 0; }
sleep 0.5
probes=$(reflected) # the probe above was not a dial
agah_on a peer add "127.0.0.1:$PORT_r" >/dev/null 2>&1 || fail "peer add the reflector"
# Redials after 1 s, 2 s, 4 s (±25%): at least 3 dials in 10 s.
sleep 10
n=$(($(reflected) - probes))
echo "      dials through the reflector in 10 s: $n"
if [ "$n" -ge 3 ]; then
    pass "a reflected dial does not stop a from dialling the address ($n dials in 10 s)"
else
    fail "a reflected dial does not stop a from dialling the address" "$n dials in 10 s"
fi
# `agah peers` hides the addresses a node takes for its own.
if agah_on a --json peers 2>/dev/null | grep -q "\"127.0.0.1:$PORT_r\""; then
    pass "a still lists the reflector's address as a peer to dial"
else
    fail "a still lists the reflector's address as a peer to dial" "$(agah_on a --json peers 2>&1)"
fi
if grep -q "reached this node's own key through another host" "$ROOT/a.log"; then
    pass "a's log names the reflection"
else
    fail "a's log names the reflection"
fi
kill "$PROXY" 2>/dev/null
wait "$PROXY" 2>/dev/null

# 2. a's own address, dialled directly: recognised once, never dialled again.
self_closes() { grep -c "peer 127.0.0.1:$PORT_a closed: it is this node" "$ROOT/a.log"; }
agah_on a peer add "127.0.0.1:$PORT_a" >/dev/null 2>&1 || fail "peer add a's own address"
if wait_until 10 grep -q "127.0.0.1:$PORT_a is this node's own address" "$ROOT/a.log"; then
    pass "a recognises its own address"
else
    fail "a recognises its own address"
fi
n0=$(self_closes)
sleep 5
if [ "$n0" = 1 ] && [ "$(self_closes)" = 1 ]; then
    pass "a dials its own address once and then no more"
else
    fail "a dials its own address once and then no more" "$n0 then $(self_closes)"
fi
stop_all_ok a
finish

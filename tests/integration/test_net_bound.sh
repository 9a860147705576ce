#!/usr/bin/env bash
# M3 bound to the listener a node dialled before (issue 22, 3.5). Once a
# link to m's address was up, a seals its M3 to that address so that only
# m's member key opens it. n, another member holding the network secret,
# put at m's address (a node taking over the address, or a host in the
# path), cannot read who dials: it answers nothing and never learns a's
# key, where before it would have read M3 and logged a as its peer.
# usage: test_net_bound.sh [BUILD_DIR]
. "$(dirname "$0")/lib.sh"
lib_init test_net_bound "${1:-}"
. "$(dirname "$0")/net_lib.sh"

community a m n || { fail "set up a community"; finish; }
A_ID=$(node_id a)
M_ID=$(node_id m)
# a listens nowhere from now on, so the only links are the ones a dials.
stop_daemon a
start_daemon m "$PORT_m" || { fail "start m"; finish; }
start_daemon a none "$PORT_m" || { fail "start a"; finish; }
if wait_until 20 grep -q "peer 127.0.0.1:$PORT_m up (dialled, member $M_ID)" "$ROOT/a.log"; then
    pass "a dials m; the first M3 is unbound (a did not know whom it would meet)"
else
    fail "a dials m" "$(grep "$PORT_m" "$ROOT/a.log" | tail -3)"
fi

# m restarts: a's redial is bound to m's key, and m opens it.
stop_daemon m
start_daemon m "$PORT_m" || fail "restart m"
if wait_until 20 grep -q "up (accepted, member $A_ID, M3 bound to its key)" "$ROOT/m.log"; then
    pass "a's redial of m is bound to m's key, and m opens it"
else
    fail "a's redial of m is bound to m's key" "$(grep ' up (' "$ROOT/m.log" | tail -3)"
fi

# n takes m's address: it holds K but not m's key.
stop_daemon m
ups_a=$(grep -c "peer 127.0.0.1:$PORT_m up" "$ROOT/a.log")
start_daemon n "$PORT_m" || fail "start n at m's address"
if wait_until 20 grep -q "handshake failed: handshake box does not authenticate" "$ROOT/n.log"; then
    pass "n cannot open a's M3"
else
    fail "n cannot open a's M3" "$(tail -5 "$ROOT/n.log")"
fi
sleep 3
if ! grep -q "$A_ID" "$ROOT/n.log" && ! grep -q ' up (' "$ROOT/n.log"; then
    pass "n never learns who dialled it (a's key is nowhere in n's log)"
else
    fail "n never learns who dialled it" "$(grep -e "$A_ID" -e ' up (' "$ROOT/n.log" | head -3)"
fi
if [ "$(grep -c "peer 127.0.0.1:$PORT_m up" "$ROOT/a.log")" = "$ups_a" ]; then
    pass "a brings up no link to the impostor"
else
    fail "a brings up no link to the impostor"
fi
stop_all_ok a n
finish

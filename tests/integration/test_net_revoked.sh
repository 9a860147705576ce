#!/usr/bin/env bash
# Nodes stop dialling a revoked member's address (issue 22, 3.4). The
# organiser a keeps m's address (`agah peer add`) and learned n's from n's
# PEERS; after `agah revoke` of both, a makes no more connection attempts
# to either listen address (a revoked node's network secret is stale within
# its grace period, but would have taken a redial as far as M4 before the
# secret rotated). Before the fix a redialled
# both with backoff, for ever for the kept one. `agah peer add` of the address
# dials it again.
# usage: test_net_revoked.sh [BUILD_DIR]
. "$(dirname "$0")/lib.sh"
lib_init test_net_revoked "${1:-}"
. "$(dirname "$0")/net_lib.sh"
HOSTILE=$(dirname "$0")/hostile_peer.py

community a m n || { fail "set up a community"; finish; }
M_ID=$(node_id m)
N_ID=$(node_id n)
start_daemon m "$PORT_m" "$PORT_a" || { fail "start m"; finish; }
start_daemon n "$PORT_n" "$PORT_a" || { fail "start n"; finish; }
agah_on a peer add "127.0.0.1:$PORT_m" >/dev/null 2>&1 || fail "a keeps m's address"
if wait_until 30 links_are a 2; then
    pass "a is linked to m and n"
else
    fail "a is linked to m and n" "$(agah_on a --json peers 2>&1)"
fi
listed() { agah_on a --json peers 2>/dev/null | grep -q "\"127.0.0.1:$1\""; }
if listed "$PORT_m" && listed "$PORT_n"; then
    pass "a lists both listen addresses"
else
    fail "a lists both listen addresses" "$(agah_on a --json peers 2>&1)"
fi

agah_on a revoke "$M_ID" --reason test >/dev/null 2>&1 || fail "revoke m"
agah_on a revoke "$N_ID" --reason test >/dev/null 2>&1 || fail "revoke n"
stop_daemon m
stop_daemon n
# Whatever dials m's and n's ports now is counted for 12 s (a redialling
# with backoff would come after about 1, 3 and 7 s).
python3 "$HOSTILE" count "$PORT_m" 12 >"$ROOT/count_m" &
CM=$!
python3 "$HOSTILE" count "$PORT_n" 12 >"$ROOT/count_n" &
CN=$!
wait "$CM" "$CN"
cm=$(sed -n 's/^n=//p' "$ROOT/count_m")
cn=$(sed -n 's/^n=//p' "$ROOT/count_n")
echo "      connection attempts in 12 s: m's address $cm, n's address $cn"
if [ "$cm" = 0 ]; then
    pass "a no longer dials the revoked member m's kept address"
else
    fail "a no longer dials the revoked member m's kept address" "$cm attempts"
fi
if [ "$cn" = 0 ]; then
    pass "a no longer dials the revoked member n's learned address"
else
    fail "a no longer dials the revoked member n's learned address" "$cn attempts"
fi
if grep -q "not dialling 127.0.0.1:$PORT_m any more: its member $M_ID is revoked" "$ROOT/a.log"; then
    pass "a's log says why it stopped dialling, naming the member"
else
    fail "a's log says why it stopped dialling, naming the member"
fi

# The operator can ask for the address again (a new member may listen there).
python3 "$HOSTILE" count "$PORT_m" 6 >"$ROOT/count_m2" &
CM=$!
sleep 0.5
agah_on a peer add "127.0.0.1:$PORT_m" >/dev/null 2>&1 || fail "peer add m's address again"
wait "$CM"
cm=$(sed -n 's/^n=//p' "$ROOT/count_m2")
if [ "$cm" -ge 1 ]; then
    pass "\`agah peer add\` dials the address again ($cm attempts)"
else
    fail "\`agah peer add\` dials the address again" "$cm attempts"
fi

# m's node comes back, revoked, holding only the network secret of before
# its revocation. The revocation rotated the secret (PROTOCOL.md, "Network
# secrets"), and a dials an address it has not linked since its start with
# the newest secret only: m's node cannot even answer M1, so it never sees
# an M3 and learns nothing of who dials. (Before rotation it took a's dial
# as far as M4, where a refused its key.)
m1_refused() { grep -c "M1 is not from this community" "$ROOT/m.log"; }
r0=$(m1_refused)
start_daemon m "$PORT_m" || fail "start m again"
refused_some() { [ "$(($(m1_refused) - r0))" -ge 1 ]; }
if wait_until 20 refused_some; then
    pass "the revoked node cannot answer a's M1 (new network secret)"
else
    fail "the revoked node cannot answer a's M1 (new network secret)"
fi
if grep -q "peer 127.0.0.1:$PORT_m closed: handshake failed" "$ROOT/a.log"; then
    fail "a's dial never reaches M2 at the revoked node" "$(grep "127.0.0.1:$PORT_m" "$ROOT/a.log" | tail -3)"
else
    pass "a's dial never reaches M2 at the revoked node"
fi
stop_all_ok a m
finish

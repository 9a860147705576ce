#!/usr/bin/env bash
# The handshake admits nothing early (issue 22, 3.1): an outsider who holds
# the network secret and a throwaway key that no one admitted puts (a) an
# alert, (b) another member's valid admission in M3's admission slot. The
# node under test refuses the link, stores neither record, and nothing
# reaches a second node linked to it. Then the honest case: a member
# presenting its own admission, new to the node, is let in and its
# admission is stored and spreads.
# usage: test_net_admission.sh [BUILD_DIR]
. "$(dirname "$0")/lib.sh"
lib_init test_net_admission "${1:-}"
. "$(dirname "$0")/net_lib.sh"
PEERCTL=$AGAH_BUILD/tools/peerctl
[ -x "$PEERCTL" ] || { echo "test_net_admission: $PEERCTL is not built" >&2; exit 2; }

# a organises; b is the node under test, d a second node linked to b; c is
# a member whose daemon never runs: its data directory gives the attacker
# the network secret (an informant, or a seized phone), and its admission.
community a b d c || { fail "set up a community"; finish; }
D_c=$(node_dir c)
C_ID=$(node_id c)
stop_daemon a
# Records b has never seen: a join code carries only the genesis and the
# joiner's own admission, and a is gone before b and d start.
"$PEERCTL" alerts "$(node_dir a)" 1 >"$ROOT/alert_a" || fail "peerctl alerts"
ALERT=$(cut -d' ' -f1 "$ROOT/alert_a")
"$PEERCTL" admission "$D_c" >"$ROOT/adm_c" || fail "peerctl admission"

start_daemon b "$PORT_b" || { fail "start b"; finish; }
start_daemon d "$PORT_d" "$PORT_b" || { fail "start d"; finish; }
if wait_until 20 links_are b 1; then
    pass "b and d are linked"
else
    fail "b and d are linked"
fi

# is_member NAME ID: does NAME list ID among its members?
is_member() {
    local out
    out=$(agah_on "$1" --json members 2>/dev/null) || return 1
    OUT="$out" python3 -c 'import json,os,sys; sys.exit(0 if any(m["member_id"] == sys.argv[1] for m in json.loads(os.environ["OUT"])) else 1)' "$2"
}
# records NAME: how many records NAME's store holds (read-only, beside the
# running daemon: the store is in WAL mode).
records() {
    python3 -c 'import sqlite3,sys; c=sqlite3.connect("file:"+sys.argv[1]+"?mode=ro", uri=True); print(c.execute("SELECT count(*) FROM records").fetchone()[0])' "$(node_dir "$1")/store.db" 2>/dev/null
}
rec_b0=$(records b)
rec_d0=$(records d)

# attack DESC FILE: a throwaway key with FILE's record in the slot.
attack() {
    local out rc
    out=$("$PEERCTL" connect "$D_c" "127.0.0.1:$PORT_b" --throwaway --slot "$2" wait 1 2>>"$ROOT/peerctl.err")
    rc=$?
    echo "      $1: exit $rc $out"
    if [ "$rc" != 0 ] && grep -q 'no M4 from agahd' "$ROOT/peerctl.err"; then
        pass "$1: the throwaway key is refused (no M4)"
    else
        fail "$1: the throwaway key is refused (no M4)" "exit $rc $out"
    fi
    : >"$ROOT/peerctl.err"
}

# (a) An alert in the admission slot.
attack "alert in the slot" "$ROOT/alert_a"
sleep 2
if ! has b "$ALERT" && ! has d "$ALERT"; then
    pass "the alert is stored neither on b nor on d"
else
    fail "the alert is stored neither on b nor on d" "b: $(count b) d: $(count d)"
fi

# (b) Another key's valid admission in the slot.
attack "c's admission in the slot" "$ROOT/adm_c"
sleep 2
if ! is_member b "$C_ID" && ! is_member d "$C_ID"; then
    pass "c's admission is stored neither on b nor on d"
else
    fail "c's admission is stored neither on b nor on d" "$(agah_on b --json members 2>&1)"
fi
if [ "$(records b)" = "$rec_b0" ] && [ "$(records d)" = "$rec_d0" ]; then
    pass "b and d hold exactly the records they held before ($rec_b0, $rec_d0)"
else
    fail "b and d hold exactly the records they held before" \
        "b $rec_b0 -> $(records b), d $rec_d0 -> $(records d)"
fi
if grep -q 'the admission slot holds' "$ROOT/b.log"; then
    pass "b's log says what the slot held"
else
    fail "b's log says what the slot held"
fi

# The honest case: c itself, with its own admission, new to b.
out=$("$PEERCTL" connect "$D_c" "127.0.0.1:$PORT_b" wait 1 2>>"$ROOT/peerctl.err")
echo "      c itself: $out"
if [ "$(printf '%s\n' "$out" | tr ' ' '\n' | sed -n 's/^up=//p')" = 1 ]; then
    pass "c, presenting its own admission, is let in"
else
    fail "c, presenting its own admission, is let in" "$out $(cat "$ROOT/peerctl.err")"
fi
if is_member b "$C_ID" && wait_until 20 is_member d "$C_ID"; then
    pass "c's admission is stored on b and spreads to d"
else
    fail "c's admission is stored on b and spreads to d"
fi
stop_all_ok b d
finish

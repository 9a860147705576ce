#!/usr/bin/env bash
# Issue 22, section 3: the network secret rotates when a key is revoked.
#
# Founder a, relay r, members m, x and s, all linked through a and r. The
# informant x keeps a copy of its data directory (and with it the network
# secret it joined with); a revokes x while s's laptop is off. Required:
#  - the revocation's rekey mints a new network secret; the relay gets it
#    in a box of its own (it never holds an epoch key);
#  - s, back ten days later, still links (the old secret is accepted for a
#    grace period of 30 days), learns the revocation and the new secret,
#    and is read by everyone;
#  - 31 days on, every node has moved to the new secret, and the copy's M1
#    draws nothing from any of them, not even the 64-byte M2 that told a
#    revoked key which ports are the community's. Before the fix it drew
#    an M2 from every node for ever;
#  - t, whose laptop was off for all 31 days, links with no one (the price
#    of the grace) until a invites its key again and `agah join` rejoins
#    with the new code, keeping t's store.
# Every daemon runs with the same clock (libfaketime) so handshakes stay
# within their 120 s window.
#
# usage: bash tests/integration/test_trust_rotate.sh BUILD_DIR

. "$(dirname "$0")/lib.sh"
lib_init test_trust_rotate "${1:-}"
. "$(dirname "$0")/net_lib.sh"
. "$(dirname "$0")/trust_lib.sh"
need_faketime

SPREAD=20
DAY=86400
PEERCTL=$AGAH_BUILD/tools/peerctl
HOSTILE=$(dirname "$0")/hostile_peer.py
ATTACK="ATTACK SUCCEEDED (a revoked key's network secret still opens the handshake):"

for n in a r m x s t; do node_init "$n" || { fail "identities"; finish; }; done
X_ID=$(node_id x)
T_ID=$(node_id t)
P_a=$(free_port)
P_r=$(free_port)
P_m=$(free_port)
P_x=$(free_port)
P_s=$(free_port)
P_t=$(free_port)

community_found a "Rotation test" && start_daemon a "$P_a" &&
    invite_join a r relay && invite_join a m member && invite_join a x member &&
    invite_join a s member && invite_join a t member ||
    { fail "a founds the community, admits relay r and m, x, s, t"; finish; }

# start_all OFFSET: every daemon but x's (and s's unless WITH_S=1), their
# clocks OFFSET seconds ahead; m and s dial a and r.
start_all() {
    local off=$1
    start_daemon_faked "$off" a "$P_a" && start_daemon_faked "$off" r "$P_r" "$P_a" &&
        start_daemon_faked "$off" m "$P_m" "$P_a" "$P_r" || return 1
    if [ "${WITH_S:-0}" = 1 ]; then
        start_daemon_faked "$off" s "$P_s" "$P_a" "$P_r" || return 1
    fi
}
stop_daemon a
WITH_S=1 start_all 0 && start_daemon x "$P_x" "$P_a" "$P_r" &&
    start_daemon t "$P_t" "$P_a" "$P_r" || { fail "everyone starts"; finish; }
if wait_until $SPREAD jq_ok a "j['peers'] >= 5" status &&
    wait_until $SPREAD jq_ok r "j['peers'] >= 5" status; then
    pass "a and the relay r are linked with everyone"
else
    fail "a and the relay r are linked with everyone" "$(agah_on a --json peers 2>&1)"
fi
# Every invitation is confirmed (the invitee linked with its inviter), so
# no admission lapses when the clock moves on below.
confirmed() { jq_ok a "all(not mm.get('invited_until') for mm in j)" members; }
wait_until $SPREAD confirmed || fail "every invitation confirmed" "$(agah_on a --json members 2>&1)"

# The informant keeps a copy of its data directory, then is revoked while
# s's laptop is off.
stop_daemon x
stop_daemon s
stop_daemon t
cp -a "$(node_dir x)" "$(node_dir XCOPY)" && rm -f "$(node_dir XCOPY)/agahd.sock" ||
    { fail "copy x's data directory"; finish; }
run a --json revoke "$X_ID" --reason "informant"
expect "a revokes x" 0 "j['status'] == 'revoked'"
if grep -q "with a new network secret" "$ROOT/a.log"; then
    pass "the revocation's rekey mints a new network secret"
else
    fail "the revocation's rekey mints a new network secret" "$(grep "issued epoch" "$ROOT/a.log")"
fi
if wait_until $SPREAD is_status m "$X_ID" revoked && wait_until $SPREAD is_status r "$X_ID" revoked; then
    pass "m and the relay r know x is revoked"
else
    fail "m and the relay r know x is revoked"
fi

# probe OFFSET NAME PORT: what x's copy's M1 draws from NAME's node (its
# clock OFFSET seconds ahead): "got=N closed=0|1 ...".
probe() {
    faked "$1" "$PEERCTL" m1 "$(node_dir XCOPY)" 1 >"$ROOT/x.m1" || { echo "got=? peerctl"; return; }
    python3 "$HOSTILE" send "$3" "$ROOT/x.m1"
}
out=$(probe 0 m "$P_m")
case "$out" in
got=64*) pass "within the grace x's old secret still draws an M2 (refused later, at M3)" ;;
*) fail "within the grace x's old secret still draws an M2" "$out" ;;
esac

# Ten days later s's laptop comes back: its secret is the old one.
stop_daemon a
stop_daemon r
stop_daemon m
start_all $((10 * DAY)) && start_daemon_faked $((10 * DAY)) s "$P_s" "$P_a" "$P_r" ||
    { fail "everyone starts again ten days on"; finish; }
if wait_until $SPREAD is_status s "$X_ID" revoked; then
    pass "s, asleep through the rotation, links within the grace and learns x's revocation"
else
    fail "s, asleep through the rotation, links within the grace and learns x's revocation" \
        "$(agah_on s --json status 2>&1)"
fi
id=$(post_alert s "s is back") || fail "s posts"
if [ -n "$id" ] && all_have $SPREAD "$id" a m; then
    pass "what s posts afterwards reaches a and m"
else
    fail "what s posts afterwards reaches a and m"
fi
if wait_until $SPREAD jq_ok s "j['unreadable'] == 0" status; then
    pass "s reads everything (it holds the new epoch's key)"
else
    fail "s reads everything" "$(agah_on s --json status 2>&1)"
fi

# 31 days after the revocation: the old secret's grace is over.
OFF=$((31 * DAY))
stop_all
start_all $OFF && start_daemon_faked $OFF s "$P_s" "$P_a" "$P_r" ||
    { fail "everyone starts again 31 days on"; finish; }
if wait_until $SPREAD jq_ok a "j['peers'] >= 3" status &&
    wait_until $SPREAD jq_ok m "j['peers'] >= 2" status; then
    pass "31 days on, the members and the relay link under the new secret"
else
    fail "31 days on, the members and the relay link under the new secret" \
        "$(agah_on a --json peers 2>&1)"
fi
for n in a r m s; do
    out=$(probe $OFF "$n" "$(eval "printf '%s' \"\$P_$n\"")")
    case "$out" in
    got=0*closed=1*) pass "x's copy draws nothing from $n 31 days on" ;;
    *) fail "x's copy draws nothing from $n 31 days on" "$ATTACK $out" ;;
    esac
done
id=$(post_alert m "after the grace") || fail "m posts 31 days on"
if [ -n "$id" ] && all_have $SPREAD "$id" a s; then
    pass "31 days on, what m posts reaches a and s (through a or the relay)"
else
    fail "31 days on, what m posts reaches a and s"
fi

# t's laptop was off all along: its secrets are past their grace. It dials
# everyone and is answered by no one.
start_daemon_faked $OFF t "$P_t" "$P_a" "$P_r" || fail "t starts 31 days on"
sleep 8
if [ "$(peers_up t)" = 0 ] && ! is_status t "$X_ID" revoked; then
    pass "t, offline past the grace, links with no one"
else
    fail "t, offline past the grace, links with no one" "$(agah_on t --json status 2>&1)"
fi
# The way back: a invites t's key again, t rejoins with the new code.
code=$(agah_on a invite "$T_ID" --role member --name t 2>"$ROOT/t.reinvite.err") ||
    fail "a invites t again" "$(cat "$ROOT/t.reinvite.err")"
run_in t "$code" join - # refused while t's agahd runs
expect_rc "join refuses to touch a running agahd's data directory" 2
stop_daemon t
out=$(printf '%s\n' "$code" | agah_faked $OFF t --json join - 2>&1)
case "$out" in
*'"rejoined": true'*) pass "t rejoins with the new code" ;;
*) fail "t rejoins with the new code" "$out" ;;
esac
start_daemon_faked $OFF t "$P_t" "$P_a" "$P_r" || fail "t starts after rejoining"
if wait_until $SPREAD is_status t "$X_ID" revoked && wait_until $SPREAD has t "$id"; then
    pass "t links, learns x's revocation and reads what m posted"
else
    fail "t links, learns x's revocation and reads what m posted" "$(agah_on t --json status 2>&1)"
fi
stop_all_ok a r m s t
finish

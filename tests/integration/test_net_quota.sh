#!/usr/bin/env bash
# A flooding insider (issue 24): member m, through a hostile peer built on
# the project's libraries (tests/tools/peerctl/), sends founder a 1,500
# valid alerts with short notes and 150 with 2 KiB notes, all dated today.
# Every node keeps m's earliest 1,000 small and 100 large posts of the day
# (daemon/node/quota.h) and no more: a; b, which hears of them only through
# relay r; and r itself, whose store a thief could read. More from m
# changes nothing, a restart keeps the same set, and b's own alerts still
# cross the relay. Without the quotas every node holds all 1,650.
# usage: test_net_quota.sh [BUILD_DIR]
. "$(dirname "$0")/lib.sh"
lib_init test_net_quota "${1:-}"
. "$(dirname "$0")/net_lib.sh"
PEERCTL=$AGAH_BUILD/tools/peerctl
STOREDUMP=$AGAH_BUILD/tools/storedump
for t in "$PEERCTL" "$STOREDUMP"; do
    [ -x "$t" ] || { echo "test_net_quota: $t is not built" >&2; exit 2; }
done
SMALL=1500 LARGE=150           # what m sends
KEEP_SMALL=1000 KEEP_LARGE=100 # a day's quota of each class

community a b m || { fail "set up a community"; finish; }
node_init r && invite_join a r relay || { fail "add relay r"; finish; }
PORT_r=$(free_port)
start_daemon r "$PORT_r" "$PORT_a" || { fail "start r"; finish; }
start_daemon b "$PORT_b" "$PORT_r" || { fail "start b"; finish; }
wait_until 20 test "$(connected b)" -ge 1 || fail "b links to the relay"
ID_m=$(node_id m)
D_m=$(node_dir m)

# by_m NAME: how many of m's alerts NAME lists (`list --all`, every page).
by_m() {
    agah_on "$1" --json list --all 2>/dev/null |
        python3 -c 'import json,sys; print(sum(1 for a in json.load(sys.stdin) if a["author"] == sys.argv[1]))' "$ID_m"
}
# kinds NAME: "SMALL LARGE", m's alerts NAME lists by note size.
kinds() {
    agah_on "$1" --json list --all 2>/dev/null |
        python3 -c '
import json, sys
a = [x for x in json.load(sys.stdin) if x["author"] == sys.argv[1]]
print(sum(1 for x in a if len(x["note"]) < 900), sum(1 for x in a if len(x["note"]) >= 900))' "$ID_m"
}

# One `created` for all of them, so a UTC midnight during the test cannot
# split them over two days.
NOW=$(date +%s)
"$PEERCTL" alerts "$D_m" "$SMALL" --created "$NOW" >"$ROOT/small" || fail "peerctl makes small alerts"
"$PEERCTL" alerts "$D_m" "$LARGE" 2048 --created "$NOW" >"$ROOT/large" || fail "peerctl makes large alerts"
cat "$ROOT/small" "$ROOT/large" >"$ROOT/all"
"$PEERCTL" connect "$D_m" "127.0.0.1:$PORT_a" send "$ROOT/all" wait 3 \
    >"$ROOT/flooder" 2>>"$ROOT/peerctl.err" || fail "m's peer sends its alerts"

want=$((KEEP_SMALL + KEEP_LARGE))
for n in a b; do
    if wait_until 60 test "$(by_m "$n")" -ge "$want"; then
        pass "$n holds m's posts up to the quota"
    else
        fail "$n holds m's posts up to the quota" "holds $(by_m "$n"), expected $want"
    fi
done
sleep 3 # anything more would have arrived by now
for n in a b; do
    got=$(kinds "$n")
    if [ "$got" = "$KEEP_SMALL $KEEP_LARGE" ]; then
        pass "$n keeps exactly $KEEP_SMALL small and $KEEP_LARGE large posts of m's day"
    else
        fail "$n keeps exactly $KEEP_SMALL small and $KEEP_LARGE large posts of m's day" \
            "small and large held: $got"
    fi
done
if grep -q "over its author's quota" "$ROOT/a.log"; then
    pass "a's log says why it refused them"
else
    fail "a's log says why it refused them"
fi

# The same flood again, and a fresh one: nothing more is kept.
"$PEERCTL" alerts "$D_m" 200 --created "$NOW" >"$ROOT/more" || fail "peerctl makes more alerts"
"$PEERCTL" connect "$D_m" "127.0.0.1:$PORT_a" send "$ROOT/all" send "$ROOT/more" wait 3 \
    >>"$ROOT/flooder" 2>>"$ROOT/peerctl.err" || fail "m's peer sends again"
got=$(kinds a)
if [ "$got" = "$KEEP_SMALL $KEEP_LARGE" ]; then
    pass "a second flood adds nothing"
else
    fail "a second flood adds nothing" "a holds $got"
fi

# An honest member's alert still crosses the relay to the founder.
id=$(post_alert b "honest warning after the flood") || fail "b posts"
if [ -n "$id" ] && wait_until 20 has a "$id"; then
    pass "b's alert reaches a through the relay"
else
    fail "b's alert reaches a through the relay"
fi

# The relay's disk: m's alerts and b's one, no more.
stop_daemon r
rows=$("$STOREDUMP" "$(node_dir r)" 5 | grep -c .)
if [ "$rows" = $((want + 1)) ]; then
    pass "the relay's store holds $want of m's alerts and b's"
else
    fail "the relay's store holds $want of m's alerts and b's" "$rows ALERT rows"
fi

# A restart keeps the same set.
stop_daemon a
start_daemon a "$PORT_a" || fail "restart a"
got=$(kinds a)
if [ "$got" = "$KEEP_SMALL $KEEP_LARGE" ]; then
    pass "a keeps the same posts after a restart"
else
    fail "a keeps the same posts after a restart" "a holds $got"
fi
stop_all_ok
finish

#!/usr/bin/env bash
# `check` cannot be frozen on a chosen alert (issue 24): member m, through a
# hostile peer built on the project's libraries (tests/tools/peerctl/),
# sends 20,000 confirmations and 20,000 retractions of member b's alert on
# a number, all dated today (the issue's reproduction sent 70,000 of each
# and `agah check` gave up after 10 s). Every node counts m's confirmation
# once and weighs no retraction of a member who is neither the author nor an
# organiser; m's quota keeps at most 1,000 of its small posts a day, so the
# rest are never stored. `agah check` answers correctly on the founder and
# on b, the store holds no more than the quota, and b's next alert still
# crosses. How long `check` took is logged, not asserted (tests assert
# behaviour; docs/BENCHMARKS.md has the timings).
# usage: test_net_annot_flood.sh [BUILD_DIR]
. "$(dirname "$0")/lib.sh"
lib_init test_net_annot_flood "${1:-}"
. "$(dirname "$0")/net_lib.sh"
PEERCTL=$AGAH_BUILD/tools/peerctl
STOREDUMP=$AGAH_BUILD/tools/storedump
for t in "$PEERCTL" "$STOREDUMP"; do
    [ -x "$t" ] || { echo "test_net_annot_flood: $t is not built" >&2; exit 2; }
done
EACH=20000
NUM=+447700900555

community a b m || { fail "set up a community"; finish; }
start_daemon b "$PORT_b" "$PORT_a" || { fail "start b"; finish; }
wait_until 20 links_are b 1 || fail "b links to a"
RC=0
OUT=$(agah_on b --json post number "$NUM" --note "calls at night" 2>"$ROOT/.err") || RC=$?
ERR=$(cat "$ROOT/.err")
expect "b flags a number" 0 "len(j['id']) == 64"
X=$(json_field id)
wait_until 20 has a "$X" || fail "a has b's alert"

NOW=$(date +%s)
"$PEERCTL" annotate "$(node_dir m)" confirm "$X" --count "$EACH" --created "$NOW" >"$ROOT/conf" &&
    "$PEERCTL" annotate "$(node_dir m)" retract "$X" --count "$EACH" --created "$NOW" >"$ROOT/retr" ||
    fail "peerctl signs the annotations"
cat "$ROOT/conf" "$ROOT/retr" >"$ROOT/all"
"$PEERCTL" connect "$(node_dir m)" "127.0.0.1:$PORT_a" send "$ROOT/all" wait 3 \
    >"$ROOT/flooder" 2>>"$ROOT/peerctl.err" || fail "m's peer sends them"

# check_on NAME: one `agah check` of the number; sets OUT, ERR, RC and MS.
check_on() {
    local t0 t1
    t0=$(date +%s%N)
    RC=0
    OUT=$(agah_on "$1" --json check "$NUM" 2>"$ROOT/.err") || RC=$?
    t1=$(date +%s%N)
    ERR=$(cat "$ROOT/.err")
    MS=$(((t1 - t0) / 1000000))
}
# Once m's confirmation has arrived, the answer is final.
confirmed() {
    check_on "$1"
    [ "$RC" = 0 ] && python3 -c 'import json,sys; a=json.loads(sys.argv[1])["alerts"]; sys.exit(0 if a and a[0]["confirmations"] == 1 else 1)' "$OUT"
}
for n in a b; do
    wait_until 60 confirmed "$n" || true
    check_on "$n"
    expect "$n: check is flagged, one confirmation, still active (took ${MS} ms)" 0 \
        "j['flagged'] and len(j['alerts']) == 1 and j['alerts'][0]['confirmations'] == 1 and j['alerts'][0]['status'] == 'active'"
    echo "check on $n after the flood: $MS ms" >>"$ROOT/timings"
done
for i in 1 2 3 4 5; do
    check_on a
    echo "check on a, again: $MS ms" >>"$ROOT/timings"
done
RC=0
OUT=$(agah_on a --json status 2>"$ROOT/.err") || RC=$?
expect "a's status answers" 0 "'alerts' in j"

# b's next alert still crosses to a.
id=$(post_alert b "after the flood") || fail "b posts again"
if [ -n "$id" ] && wait_until 20 has a "$id"; then
    pass "b's next alert reaches a"
else
    fail "b's next alert reaches a"
fi

# What a's disk holds of m's flood: at most a day's quota of small posts.
stop_daemon a
n6=$("$STOREDUMP" "$(node_dir a)" 6 | grep -c .)
n7=$("$STOREDUMP" "$(node_dir a)" 7 | grep -c .)
if [ $((n6 + n7)) -le 1000 ] && [ "$n6" -ge 1 ]; then
    pass "a stores $n6 confirmations and $n7 retractions of the $((2 * EACH)) sent (quota 1,000)"
else
    fail "a stores at most the quota of m's annotations" "$n6 confirmations, $n7 retractions"
fi
cat "$ROOT/timings"
stop_all_ok
finish

#!/usr/bin/env bash
# `check` at any size (issue 24): one member posted 3,000 alerts with 2 KiB
# notes on one number. Before paging the daemon answered a check with every
# alert of the target in one response (7 MiB here, and past the 16 MiB
# bound at about 6,500 of them, when every member's `check` of that number
# failed). Now it answers pages of at most 1,000 alerts, `flagged` computed
# over all of them, and `agah check` fetches the pages and prints one
# answer, exactly as CONTRACT.md has it.
# usage: test_cli_check_paging.sh [BUILD_DIR]
# One member sends more posts than a day's quota (daemon/node/quota.h) allows:
# every node raises it alike, so what is under test here is not the quota.
export AGAHD_QUOTA_SCALE=100
. "$(dirname "$0")/lib.sh"
lib_init test_cli_check_paging "${1:-}"
. "$(dirname "$0")/net_lib.sh"
PEERCTL=$AGAH_BUILD/tools/peerctl
CTL="python3 $(dirname "$0")/ctlclient.py"
[ -x "$PEERCTL" ] || { echo "test_cli_check_paging: $PEERCTL is not built" >&2; exit 2; }
N=3000
NUM=+85251234567
# One page of 1,000 ALERTs of 2 KiB notes packs to about 2.5 MiB.
BOUND=$((3 * 1024 * 1024))

community a m || { fail "set up a community"; finish; }
flood_alerts m a "$N" --number "$NUM"

agah_on a --json check "$NUM" >"$ROOT/check.json" 2>"$ROOT/check.err"
RC=$?
bytes=$(wc -c <"$ROOT/check.json")
if [ "$RC" = 0 ] && python3 - "$ROOT/check.json" "$N" "$NUM" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
ids = [a["id"] for a in j["alerts"]]
key = [(-a["created"], a["id"]) for a in j["alerts"]]
ok = (list(j) == ["query", "normalized", "flagged", "alerts"] and j["flagged"] is True
      and j["normalized"] == sys.argv[3] and len(ids) == int(sys.argv[2]) == len(set(ids))
      and key == sorted(key) and all(len(a["note"]) == 2048 for a in j["alerts"]))
sys.exit(0 if ok else 1)
PY
then
    pass "check --json: exit 0, one JSON answer with all $N alerts, notes whole ($bytes bytes)"
else
    fail "check --json: exit 0, one JSON answer with all $N alerts, notes whole" \
        "exit $RC, $bytes bytes: $(head -c 300 "$ROOT/check.err")"
fi
run a check "$NUM"
if [ "$RC" = 0 ] && [ "${OUT#FLAGGED}" != "$OUT" ]; then
    pass "check (human): exit 0, FLAGGED"
else
    fail "check (human): exit 0, FLAGGED" "exit $RC: ${OUT:0:200} ${ERR:0:200}"
fi

# The daemon's single answer to a raw check, whatever it asks, is one page.
if R=$($CTL "$(node_dir a)/agahd.sock" check_size "$NUM" "$BOUND"); then
    pass "a raw check of $NUM: one page below $BOUND bytes ($R)"
else
    fail "a raw check of $NUM: one page below $BOUND bytes" "$R"
fi
if R=$($CTL "$(node_dir a)/agahd.sock" check_size "$NUM" "$BOUND" 100000) &&
    [ "${R#*alerts 1000 more True}" != "$R" ]; then
    pass "a raw check asking for 100,000: still one page of 1,000, more to come ($R)"
else
    fail "a raw check asking for 100,000: still one page of 1,000, more to come" "$R"
fi

# `flagged` is over every alert, not the page: the newest of two alerts
# retracted, a page of one holds only it, and the target is still flagged.
TWO=+85251230002
agah_on a post number "$TWO" --note one >/dev/null 2>&1 || fail "post a first alert on $TWO"
agah_on a post number "$TWO" --note two >/dev/null 2>&1 || fail "post a second alert on $TWO"
first=$(agah_on a --json check "$TWO" | python3 -c 'import json,sys; print(json.load(sys.stdin)["alerts"][0]["id"])')
agah_on a retract "$first" >/dev/null || fail "retract the newest alert on $TWO"
if R=$($CTL "$(node_dir a)/agahd.sock" check_size "$TWO" "$BOUND" 1) &&
    [ "${R#*alerts 1 more True flagged True}" != "$R" ]; then
    pass "a page of one retracted alert: flagged, from the active one on the next page ($R)"
else
    fail "a page of one retracted alert: flagged, from the active one on the next page" "$R"
fi
run a --json check "$TWO"
expect "check --json of $TWO: both alerts, flagged" 0 \
    "j['flagged'] is True and [a['status'] for a in j['alerts']] == ['retracted', 'active']"
stop_all_ok a
finish

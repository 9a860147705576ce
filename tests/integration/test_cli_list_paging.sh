#!/usr/bin/env bash
# `list` at any size (issue 24): a member posted 8,000 alerts with 2 KiB
# notes, about 18 MiB of answer, more than one control response may carry
# (16 MiB). Before paging `agah list` failed with "the response would exceed
# 16 MiB" for everyone on every node. Now the CLI fetches pages of 1,000 and
# streams them out as one JSON array (or one table), and `--limit N --after
# ID` pages by hand.
# usage: test_cli_list_paging.sh [BUILD_DIR]
# One member sends more posts than a day's quota (daemon/node/quota.h) allows:
# every node raises it alike, so what is under test here is not the quota.
export AGAHD_QUOTA_SCALE=100
. "$(dirname "$0")/lib.sh"
lib_init test_cli_list_paging "${1:-}"
. "$(dirname "$0")/net_lib.sh"
PEERCTL=$AGAH_BUILD/tools/peerctl
[ -x "$PEERCTL" ] || { echo "test_cli_list_paging: $PEERCTL is not built" >&2; exit 2; }
N=8000

community a m || { fail "set up a community"; finish; }
flood_alerts m a "$N"

agah_on a --json list >"$ROOT/all.json" 2>"$ROOT/all.err"
RC=$?
bytes=$(wc -c <"$ROOT/all.json")
if [ "$RC" = 0 ] && python3 - "$ROOT/all.json" "$N" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
ids = [a["id"] for a in j]
key = [(-a["created"], a["id"]) for a in j]
sys.exit(0 if len(ids) == int(sys.argv[2]) == len(set(ids)) and key == sorted(key) else 1)
PY
then
    pass "list --json answers all $N alerts as one array, newest first ($bytes bytes)"
else
    fail "list --json answers all $N alerts as one array, newest first" \
        "exit $RC, $bytes bytes: $(head -c 300 "$ROOT/all.err")"
fi
[ "$bytes" -gt $((16 * 1024 * 1024)) ] && pass "that is more than one response may hold (16 MiB)" ||
    fail "that is more than one response may hold (16 MiB)" "$bytes bytes"
agah_on a list >"$ROOT/all.txt" 2>"$ROOT/all.err"
RC=$?
rows=$(($(wc -l <"$ROOT/all.txt") - 1))
[ "$RC" = 0 ] && [ "$rows" = "$N" ] && pass "list (human) prints all $N rows" ||
    fail "list (human) prints all $N rows" "exit $RC, $rows rows: $(head -c 300 "$ROOT/all.err")"

# By hand: two pages of 10 are the first 20 of the whole listing.
ids() { python3 -c 'import json,sys; print(" ".join(a["id"] for a in json.load(open(sys.argv[1]))))' "$1"; }
agah_on a --json list --limit 10 >"$ROOT/p1.json" || fail "list --limit 10"
last=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[-1]["id"])' "$ROOT/p1.json")
agah_on a --json list --limit 10 --after "$last" >"$ROOT/p2.json" || fail "list --after"
want=$(python3 -c 'import json,sys; print(" ".join(a["id"] for a in json.load(open(sys.argv[1]))[:20]))' "$ROOT/all.json")
if [ "$(ids "$ROOT/p1.json") $(ids "$ROOT/p2.json")" = "$want" ]; then
    pass "list --limit 10, then --after the last id: the first 20 of the listing"
else
    fail "list --limit 10, then --after the last id: the first 20 of the listing"
fi
run a list --limit 0
expect "list --limit 0: exit 2" 2 "'--limit' in err"
run a list --after abc
expect "list --after with a short id: exit 2" 2 "'64 hex' in err"
run a list --after "$(printf '%064d' 7)"
expect "list --after an id no alert has: exit 2, not an empty page" 2 "'no alert' in err"
stop_all_ok a
finish

#!/usr/bin/env bash
# A full disk under a running agahd (issue 7). Node a's data directory is a
# small tmpfs of its own; b is on the ordinary disk. With a's disk full:
#  - `agah post` on a fails with a clear error and exit 5 (CONTRACT.md has
#    no code of its own for this: 5 is "any other failure"; 2 would blame
#    the user's input and 3 an absent daemon, and neither is the case);
#  - the daemon keeps running and answering, and its store passes
#    `agahd --check`;
#  - posts b makes meanwhile reach a's store once there is space again;
#  - after the space is freed posts on a work again, every daemon stops
#    with exit 0, every store passes the check and both hold the same
#    records.
# Needs root (mount); exits 77 (skipped) with the reason otherwise.
# usage: test_faults_disk.sh [BUILD_DIR]
. "$(dirname "$0")/lib.sh"
lib_init test_faults_disk "${1:-}"
. "$(dirname "$0")/net_lib.sh"

if [ "$(id -u)" != 0 ]; then
    echo "test_faults_disk: skipped: mounting a small tmpfs needs root (run as root to test a full disk)"
    exit 77
fi

MNT=$(node_dir a)
MOUNTED=0
unmount() {
    if [ "$MOUNTED" = 1 ]; then
        umount "$MNT" 2>/dev/null || umount -l "$MNT" 2>/dev/null ||
            echo "test_faults_disk: could not unmount $MNT" >&2
        MOUNTED=0
    fi
}
# Daemons first (a busy mount cannot be unmounted), then the mount, then
# the files.
trap 'stop_all; unmount; lib_cleanup' EXIT
trap 'stop_all; unmount; lib_cleanup; trap - EXIT; exit 130' INT
trap 'stop_all; unmount; lib_cleanup; trap - EXIT; exit 143' TERM

mkdir -m 700 "$MNT"
# 8 MiB: room for the identity, the store and its WAL while the community
# is set up; the test then fills the rest.
if ! out=$(mount -t tmpfs -o size=8m,mode=0700 agah-test-full "$MNT" 2>&1); then
    echo "test_faults_disk: skipped: cannot mount a tmpfs here (no CAP_SYS_ADMIN?): $out"
    exit 77
fi
MOUNTED=1

# in_store NAME IDS_FILE: is every id of IDS_FILE in NAME's store.db?
# (Read-only, beside the running daemon: the store, not its memory.)
in_store() {
    python3 - "$(node_dir "$1")/store.db" "$2" <<'EOF'
import sqlite3, sys
db = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True)
have = {r[0].lower() for r in db.execute("SELECT hex(id) FROM records")}
want = [l.strip() for l in open(sys.argv[2]) if l.strip()]
sys.exit(0 if all(w in have for w in want) else 1)
EOF
}

# store_ids NAME: every record id in NAME's store, sorted.
store_ids() {
    python3 - "$(node_dir "$1")/store.db" <<'EOF'
import sqlite3, sys
db = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True)
for (i,) in sorted(db.execute("SELECT hex(id) FROM records")):
    print(i)
EOF
}

check_ok() { timeout 120 "$AGAHD" --data "$(node_dir "$1")" --check >"$ROOT/check.$1" 2>&1; }

community a b || { fail "set up a on its own tmpfs and b"; finish; }
start_daemon b "$PORT_b" "$PORT_a" || { fail "start b"; finish; }
if wait_until 60 post_alert a "before the disk fills" && wait_until 60 post_alert b "b is here" &&
    wait_until 60 same_sets 2 a b; then
    pass "a (on an 8 MiB tmpfs) and b are linked"
else
    fail "a (on an 8 MiB tmpfs) and b are linked" "a=$(count a) b=$(count b)"
    finish
fi

# --- fill the disk ---
dd if=/dev/zero of="$MNT/filler" bs=4k >/dev/null 2>&1
avail=$(df -k --output=avail "$MNT" | tail -n 1 | tr -d ' ')
if [ "$avail" = 0 ]; then
    pass "a's disk is full"
else
    fail "a's disk is full" "$avail KiB still free"
fi

# SQLite may still have room in its WAL from before (it reuses the file
# after a checkpoint), so a few posts can succeed; the first that needs a
# new block must fail. Everything acknowledged must stay.
acked_full=$ROOT/acked_full
: >"$acked_full"
RC=0
for i in $(seq 1 300); do
    run a --json post alert --note "while the disk is full $i"
    [ "$RC" = 0 ] || break
    printf '%s\n' "$OUT" | sed -n 's/^{"id": "\([0-9a-f]\{64\}\)"}$/\1/p' >>"$acked_full"
done
echo "test_faults_disk: $(grep -c . "$acked_full") post(s) fitted before the first failure"
expect_rc "a post on a full disk fails with exit 5" 5
if [ -n "$ERR" ] && ! printf '%s' "$ERR" | grep -q "^agah: cannot store"; then
    fail "the failed post says why" "$ERR"
else
    pass "the failed post says it could not store the alert: $ERR"
fi
if printf '%s' "$ERR" | grep -q "no space left on the device"; then
    pass "the failed post says the disk is full"
else
    fail "the failed post says the disk is full" "$ERR"
fi
grep -q "disk is full" "$ROOT/a.log" && pass "a's log says the disk is full" ||
    fail "a's log says the disk is full"
if kill -0 "$(daemon_pid a)" 2>/dev/null && run a --json status && [ "$RC" = 0 ]; then
    pass "a keeps running and answering while its disk is full"
else
    fail "a keeps running and answering while its disk is full" "status exit $RC: $ERR"
fi
run a check "+852 5123 4567"
expect_rc "check still answers on a full disk (not flagged: exit 1)" 1
if check_ok a; then
    pass "a's store passes agahd --check while full"
else
    fail "a's store passes agahd --check while full" "$(tail -n 5 "$ROOT/check.a")"
fi

# --- records from a peer while full ---
from_b=$ROOT/from_b
: >"$from_b"
for i in 1 2 3 4 5; do
    post_alert b "posted on b while a is full $i" >>"$from_b" || fail "post $i on b"
done
# a hears of them by gossip and tries to store them; the batch's commit
# fails, and a gives them up in memory too, so it never claims (to `list`
# or to a reconciling peer) what its store does not hold.
wait_until 30 sh -c "grep -q 'cannot commit received records' '$ROOT/a.log'"
if wait_until 30 grep -q 'could not be stored; they will be fetched again' "$ROOT/a.log"; then
    pass "a gives up in memory the records its disk could not take"
else
    fail "a gives up in memory the records its disk could not take"
fi
sleep 0.5
in_store a "$from_b" && fail "b's posts could not have been stored on a full disk" \
    "(the disk was not full?)" || pass "b's posts are not in a's store yet (no space)"
if has a "$(tail -n 1 "$from_b")"; then
    fail "a does not list a post its store lacks"
else
    pass "a does not list a post its store lacks"
fi
kill -0 "$(daemon_pid a)" 2>/dev/null && pass "a survives failed commits" ||
    fail "a survives failed commits"

# --- space returns ---
rm -f "$MNT/filler"
run a --json post alert --note "the disk has room again"
expect "a post works again once there is space" 0 'j is not None and len(j["id"]) == 64'
printf '%s\n' "$OUT" | sed -n 's/^{"id": "\([0-9a-f]\{64\}\)"}$/\1/p' >>"$acked_full"

# b's posts must not stay lost: a new link between a and b reconciles
# (restarting b is the quickest way to make one).
stop_daemon b || fail "b stops cleanly"
start_daemon b "$PORT_b" "$PORT_a" || fail "b restarts"
if wait_until 30 in_store a "$from_b"; then
    pass "b's posts reach a's store by reconciliation once there is space, without restarting a"
else
    fail "b's posts reach a's store by reconciliation once there is space, without restarting a"
fi
# Restarting a rebuilds its view from the store; reconciliation then fetches
# what the full disk cost it.
stop_daemon a && pass "a stops with exit 0 after the full disk" || fail "a stops with exit 0 after the full disk"
start_daemon a "$PORT_a" || fail "a restarts"
agah_on b peer add "127.0.0.1:$PORT_a" >/dev/null 2>&1
if wait_until 60 in_store a "$from_b"; then
    pass "b's posts from the full spell are in a's store after a restart"
else
    fail "b's posts from the full spell are in a's store after a restart"
fi
missing=0
for id in $(cat "$acked_full"); do
    has a "$id" || missing=$((missing + 1))
done
[ "$missing" = 0 ] && pass "a kept every post it acknowledged around the full disk" ||
    fail "a kept every post it acknowledged around the full disk" "$missing lost"
n=$(count b)
if wait_until 60 same_sets "$n" a b; then
    pass "a and b list the same $n alerts"
else
    fail "a and b list the same alerts" "a=$(count a) b=$(count b)"
fi

bad=""
for n in a b; do
    stop_daemon "$n" || bad="$bad $n"
done
[ -z "$bad" ] && pass "both daemons stop with exit 0" || fail "both daemons stop with exit 0" "not:$bad"
for n in a b; do
    if check_ok "$n"; then
        pass "$n's store passes agahd --check at the end"
    else
        fail "$n's store passes agahd --check at the end" "$(tail -n 5 "$ROOT/check.$n")"
    fi
done
ref=$(store_ids a)
if [ -n "$ref" ] && [ "$(store_ids b)" = "$ref" ]; then
    pass "a and b hold the same $(printf '%s\n' "$ref" | grep -c .) records"
else
    fail "a and b hold the same records" "a=$(store_ids a | grep -c .) b=$(store_ids b | grep -c .)"
fi
finish

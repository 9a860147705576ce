#!/usr/bin/env bash
# kill -9 at random moments, over and over, between real agahd processes on
# 127.0.0.1 (issue 7, R1 and R2 under crashes):
#  - a posts in a loop through `agah post`, recording every acknowledged id;
#  - b dials a and catches up by reconciliation each time it restarts;
#  - c dials both and is never killed: a witness;
#  - each round kills a, b or both with kill -9 after a random delay, runs
#    `agahd --check` on every killed store as the crash left it (SQLite's
#    integrity check and every record's signature, id and columns), looks
#    for every post acknowledged so far in a's store (before a restarts
#    and could fetch its own posts back from b or c), and restarts them;
#  - afterwards every acknowledged post is on a, all three list the same
#    alerts and hold the same records, and every store passes the check.
# The delays come from bash's $RANDOM seeded with a printed seed:
# AGAH_FAULTS_SEED=N replays a run's choices (the timing of the machine
# still varies). AGAH_FAULTS_ROUNDS=N changes the number of rounds (50).
# usage: test_faults.sh [BUILD_DIR]
. "$(dirname "$0")/lib.sh"
lib_init test_faults "${1:-}"
. "$(dirname "$0")/net_lib.sh"

SEED=${AGAH_FAULTS_SEED:-$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')}
ROUNDS=${AGAH_FAULTS_ROUNDS:-50}
RANDOM=$SEED
echo "test_faults: seed $SEED, $ROUNDS rounds (replay with AGAH_FAULTS_SEED=$SEED)"
T0=$SECONDS

# forget_daemon NAME: lib.sh's bookkeeping without the 10 s SIGTERM wait of
# stop_daemon (a killed, unreaped daemon still answers kill -0).
forget_daemon() {
    local i
    for i in "${!DAEMON_NAMES[@]}"; do
        if [ "${DAEMON_NAMES[$i]}" = "$1" ]; then
            unset 'DAEMON_NAMES[i]' 'DAEMON_PIDS[i]'
        fi
    done
    DAEMON_NAMES=("${DAEMON_NAMES[@]}")
    DAEMON_PIDS=("${DAEMON_PIDS[@]}")
}

# kill9 NAME: kill -9 and reap it.
kill9() {
    local pid
    pid=$(daemon_pid "$1")
    [ -n "$pid" ] || return 1
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    forget_daemon "$1"
}

# sleep_ms MS
sleep_ms() { sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"; }

# check_store NAME: `agahd --check` on NAME's store; prints the number of
# records it verified; returns its exit status. Its output is kept in
# $ROOT/check.NAME.
check_store() {
    local rc
    timeout 120 "$AGAHD" --data "$(node_dir "$1")" --check >"$ROOT/check.$1" 2>&1
    rc=$?
    sed -n 's/.*: ok: integrity check passed, \([0-9]*\) record(s) verified$/\1/p' \
        "$ROOT/check.$1"
    return $rc
}

# restart NAME: a listens and dials nobody; b dials a; c dials both.
restart() {
    case $1 in
    a) start_daemon a "$PORT_a" ;;
    b) start_daemon b "$PORT_b" "$PORT_a" ;;
    c) start_daemon c "$PORT_c" "$PORT_a" "$PORT_b" ;;
    esac
}

# poke: the survivors redial now instead of after their backoff, which
# grows while a peer keeps dying (up to 60 s).
poke() {
    agah_on b peer add "127.0.0.1:$PORT_a" >/dev/null 2>&1
    agah_on c peer add "127.0.0.1:$PORT_a" >/dev/null 2>&1
    agah_on c peer add "127.0.0.1:$PORT_b" >/dev/null 2>&1
}

# store_ids NAME: every record id in NAME's store.db, sorted (all types,
# not only the alerts `agah list` shows).
store_ids() {
    python3 - "$(node_dir "$1")/store.db" <<'EOF'
import sqlite3, sys
db = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True)
for (i,) in sorted(db.execute("SELECT hex(id) FROM records")):
    print(i)
EOF
}

# lost_acks NAME FILE: how many ids of FILE are not in NAME's store.db.
lost_acks() {
    python3 - "$(node_dir "$1")/store.db" "$2" <<'EOF'
import sqlite3, sys
db = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True)
have = {r[0].lower() for r in db.execute("SELECT hex(id) FROM records")}
print(sum(1 for l in open(sys.argv[2]) if l.strip() and l.strip() not in have))
EOF
}

community a b c || { fail "set up a community of three"; finish; }
restart b && restart c || { fail "start b and c"; finish; }
if wait_until 60 post_alert a "before the faults" && wait_until 60 same_sets 1 a b c; then
    pass "the three are linked: a post from a reaches b and c"
else
    fail "the three are linked: a post from a reaches b and c" \
        "counts: a=$(count a) b=$(count b) c=$(count c)"
    finish
fi

# --- the poster: posts until told to stop, whatever happens to a ---
acked=$ROOT/acked
: >"$acked"
: >"$ROOT/post.rcs"
(
    i=0
    while [ ! -e "$ROOT/stop" ]; do
        i=$((i + 1))
        out=$(timeout 30 "$AGAH" --data "$(node_dir a)" --json post alert \
            --note "faults $i" 2>>"$ROOT/post.err")
        rc=$?
        if [ $rc = 0 ]; then
            id=$(printf '%s\n' "$out" | sed -n 's/^{"id": "\([0-9a-f]\{64\}\)"}$/\1/p')
            if [ -n "$id" ]; then
                echo "$id" >>"$acked"
            else
                echo "bad-output" >>"$ROOT/post.rcs"
            fi
            # A breath between posts leaves the second core to the
            # daemons' restarts and reconciliation, whose kills matter
            # as much; a post is still in flight most of the time.
            sleep 0.1
        else
            echo "$rc" >>"$ROOT/post.rcs"
            sleep 0.05
        fi
    done
) &
poster=$!

# --- the loop ---
kills=0
kills_a=0
kills_b=0
behind=0
bad_checks=0
lost_total=0
for round in $(seq 1 "$ROUNDS"); do
    r=$((RANDOM % 10))
    if [ $r -lt 4 ]; then
        victims=a
    elif [ $r -lt 8 ]; then
        victims=b
    else
        victims="a b"
    fi
    # Half the kills come early, while b is still reconciling after its
    # restart (or a is answering its first posts), half any time later.
    if [ $((RANDOM % 2)) = 0 ]; then
        delay=$((RANDOM % 150))
    else
        delay=$((150 + RANDOM % 600))
    fi
    sleep_ms "$delay"
    for v in $victims; do
        kill9 "$v" || fail "round $round: $v was not running"
        kills=$((kills + 1))
        eval "kills_$v=\$((kills_$v + 1))"
    done
    for v in $victims; do
        if ! n=$(check_store "$v"); then
            bad_checks=$((bad_checks + 1))
            fail "round $round: $v's store passes agahd --check right after kill -9" \
                "$(tail -n 5 "$ROOT/check.$v")"
        elif [ "$v" = b ] && ! [[ " $victims " == *" a "* ]]; then
            # a is alive: check its store beside it (a read-only snapshot)
            # and see whether b died behind it, i.e. while catching up.
            if na=$(check_store a); then
                [ "${n:-0}" -lt "${na:-0}" ] && behind=$((behind + 1))
            else
                bad_checks=$((bad_checks + 1))
                fail "round $round: a's live store passes agahd --check" \
                    "$(tail -n 5 "$ROOT/check.a")"
            fi
        fi
    done
    # R1 on the store the crash left, before a restarts and could get its
    # own posts back from b or c: every post acknowledged before the kill
    # (a is dead, so every id in the file by now was) is in a's store.
    if [[ " $victims " == *" a "* ]]; then
        lost=$(lost_acks a "$acked")
        if [ "$lost" != 0 ]; then
            lost_total=$((lost_total + lost))
            fail "round $round: a's store kept every acknowledged post through kill -9" \
                "$lost of $(grep -c . "$acked") missing"
        fi
    fi
    # b stays down a little longer now and then, so a gets ahead of it.
    [[ " $victims " == *" b "* ]] && sleep_ms $((RANDOM % 400))
    for v in $victims; do
        restart "$v" || { fail "round $round: $v restarts after kill -9"; break 2; }
    done
    poke
done
touch "$ROOT/stop"
wait "$poster"
n_acked=$(grep -c . "$acked")
echo "test_faults: $kills kills (a $kills_a, b $kills_b; b behind a at $behind of its kills)," \
    "$n_acked posts acknowledged, loop took $((SECONDS - T0)) s"

if [ "$kills" -ge 50 ] && [ "$round" = "$ROUNDS" ]; then
    pass "$kills kill -9 in $ROUNDS rounds, every killed daemon restarted"
else
    fail "at least 50 kill -9 in $ROUNDS rounds" "$kills kills, stopped at round $round"
fi
[ "$bad_checks" = 0 ] && pass "every store passed agahd --check right after each kill -9"
[ "$lost_total" = 0 ] &&
    pass "after each kill -9 of a, its store held every post acknowledged before it"
if [ "$n_acked" -ge 50 ]; then
    pass "posts went on between the kills ($n_acked acknowledged)"
else
    fail "posts went on between the kills" "only $n_acked acknowledged"
fi
# A post cut off by kill -9 fails with exit 3 (the daemon went away); any
# other failure is a bug the kill uncovered.
others=$(grep -v -x 3 "$ROOT/post.rcs" | sort | uniq -c | tr '\n' ' ')
if [ -z "$others" ]; then
    pass "every failed post said the daemon was unreachable (exit 3)"
else
    fail "every failed post said the daemon was unreachable (exit 3)" "others: $others" \
        "$(grep -v 'cannot reach\|lost the connection\|closed the connection' \
            "$ROOT/post.err" | tail -n 3)"
fi

# --- after the storm ---
alist=$(ids a)
missing=0
for id in $(cat "$acked"); do
    printf '%s\n' "$alist" | grep -qx "$id" || missing=$((missing + 1))
done
if [ "$missing" = 0 ]; then
    pass "a kept every one of the $n_acked acknowledged posts"
else
    fail "a kept every acknowledged post" "$missing of $n_acked lost"
fi
converged() { same_sets "$(count a)" a b c; }
poke
if wait_until 120 converged; then
    pass "a, b and c list the same $(count a) alerts"
else
    fail "a, b and c list the same alerts" "counts: a=$(count a) b=$(count b) c=$(count c)"
fi
grep -q "reconciliation started" "$ROOT/b.log" &&
    pass "b caught up through reconciliation" || fail "b caught up through reconciliation"

bad=""
for n in a b c; do
    stop_daemon "$n" || bad="$bad $n"
done
[ -z "$bad" ] && pass "every daemon stops with exit 0" || fail "every daemon stops with exit 0" "not:$bad"
for n in a b c; do
    if cnt=$(check_store "$n"); then
        pass "$n's store passes agahd --check at the end ($cnt records)"
    else
        fail "$n's store passes agahd --check at the end" "$(tail -n 5 "$ROOT/check.$n")"
    fi
done
ref=$(store_ids a)
if [ -n "$ref" ] && [ "$(store_ids b)" = "$ref" ] && [ "$(store_ids c)" = "$ref" ]; then
    pass "the three stores hold the same $(printf '%s\n' "$ref" | grep -c .) records"
else
    fail "the three stores hold the same records" \
        "a=$(store_ids a | grep -c .) b=$(store_ids b | grep -c .) c=$(store_ids c | grep -c .)"
fi
# --- agahd --check can fail: a copy of c's store with one record's last
# byte changed (its signature no longer verifies), and no store at all ---
mkdir -m 700 "$ROOT/damaged"
# The check opens the rows with c's store key, through c's identity.
cp "$(node_dir c)/store.db" "$(node_dir c)/identity.key" "$(node_dir c)/store.key" "$ROOT/damaged/"
python3 - "$ROOT/damaged/store.db" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("UPDATE records SET bytes = substr(bytes, 1, length(bytes) - 1) || "
           "CASE WHEN substr(bytes, -1) = x'00' THEN x'01' ELSE x'00' END "
           "WHERE rowid = (SELECT max(rowid) FROM records)")
db.commit()
EOF
OUT=$(timeout 120 "$AGAHD" --data "$ROOT/damaged" --check 2>&1)
RC=$?
ERR=""
expect "agahd --check finds a record whose signature no longer verifies: exit 1" 1 \
    "'DAMAGED: 1 problem' in out and 'does not verify' in out"
mkdir -m 700 "$ROOT/empty"
OUT=$(timeout 60 "$AGAHD" --data "$ROOT/empty" --check 2>&1)
RC=$?
expect "agahd --check with no store: exit 2, saying so" 2 "'no ' in out and 'store.db' in out"
OUT=$("$AGAHD" --help)
RC=$?
expect "agahd --help describes --check" 0 "'--check' in out and 'integrity' in out"
echo "test_faults: wall time $((SECONDS - T0)) s"
finish

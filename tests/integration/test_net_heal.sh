#!/usr/bin/env bash
# Partitions and restarts between real agahd processes on 127.0.0.1:
#  - a node stopped while 100 alerts are posted catches up when it restarts;
#  - a community split in two halves that post apart (and restart) lists
#    exactly the same alerts everywhere once the halves meet again;
#  - kill -9 in the middle of a burst of posts loses no acknowledged post,
#    neither on the killed node nor on its peers once it restarts.
# usage: test_net_heal.sh [BUILD_DIR]
. "$(dirname "$0")/lib.sh"
lib_init test_net_heal "${1:-}"
. "$(dirname "$0")/net_lib.sh"
community a b c d e || { fail "set up a community of five"; finish; }
# A line a-b-c-d-e. Members learn the organiser's epoch key from its rekey
# record, so everyone first meets the rest at least once.
start_daemon b "$PORT_b" "$PORT_a" && start_daemon c "$PORT_c" "$PORT_b" &&
    start_daemon d "$PORT_d" "$PORT_c" && start_daemon e "$PORT_e" "$PORT_d" ||
    { fail "start the line"; finish; }
if wait_until 60 post_alert e "hello from the far end" && wait_until 30 same_sets 1 a b c d e; then
    pass "the line is up: a post from e reaches everyone"
else
    fail "the line is up: a post from e reaches everyone" \
        "counts: $(for n in a b c d e; do printf '%s=%s ' $n "$(count $n)"; done)"
fi

# --- catch-up after a restart ---
stop_daemon c || fail "c stops cleanly"
for i in $(seq 1 100); do
    post_alert a "while c was away $i" >/dev/null || { fail "post $i on a"; break; }
done
if wait_until 30 same_sets 101 a b; then
    pass "100 posts on a reach b while c is down"
else
    fail "100 posts on a reach b while c is down" "a=$(count a) b=$(count b)"
fi
start_daemon c "$PORT_c" "$PORT_b" || fail "c restarts"
if wait_until 60 same_sets 101 a b c d e; then
    pass "c restarted catches up on all 100, and so does everyone"
else
    fail "c restarted catches up on all 100, and so does everyone" \
        "counts: $(for n in a b c d e; do printf '%s=%s ' $n "$(count $n)"; done)"
fi
if grep -q "reconciliation started" "$ROOT/c.log"; then
    pass "c's catch-up went through reconciliation"
else
    fail "c's catch-up went through reconciliation"
fi

# --- a split: {a, b, c} and {d, e} apart, each posting, with restarts ---
stop_daemon d || fail "d stops"
stop_daemon e || fail "e stops"
for i in $(seq 1 10); do
    post_alert b "half one, b $i" >/dev/null || fail "post $i on b"
done
if wait_until 30 same_sets 111 a b c; then
    pass "half one converges on its 10 posts"
else
    fail "half one converges on its 10 posts" "a=$(count a) b=$(count b) c=$(count c)"
fi
for n in a b c; do
    stop_daemon "$n" || fail "$n stops"
done
start_daemon d "$PORT_d" "$PORT_c" && start_daemon e "$PORT_e" "$PORT_d" ||
    fail "half two restarts alone"
for i in $(seq 1 10); do
    post_alert d "half two, d $i" >/dev/null || fail "post $i on d"
done
if wait_until 30 same_sets 111 d e; then
    pass "half two converges on its 10 posts, apart"
else
    fail "half two converges on its 10 posts, apart" "d=$(count d) e=$(count e)"
fi
start_daemon a "$PORT_a" && start_daemon b "$PORT_b" "$PORT_a" &&
    start_daemon c "$PORT_c" "$PORT_b" || fail "half one restarts"
if wait_until 90 same_sets 121 a b c d e; then
    pass "healed: all five list the same 121 alerts"
else
    fail "healed: all five list the same 121 alerts" \
        "counts: $(for n in a b c d e; do printf '%s=%s ' $n "$(count $n)"; done)"
fi

# --- kill -9 during a burst ---
acked="$ROOT/acked"
: >"$acked"
(
    for i in $(seq 1 300); do
        id=$(post_alert e "burst before the crash $i") || break
        [ -n "$id" ] && echo "$id" >>"$acked"
    done
) &
burst=$!
wait_until 30 sh -c "[ \$(wc -l <'$acked') -ge 40 ]"
kill -KILL "$(daemon_pid e)" 2>/dev/null
wait "$burst" 2>/dev/null
n_acked=$(wc -l <"$acked")
stop_daemon e >/dev/null 2>&1 # reaps the killed process
if [ "$n_acked" -ge 40 ]; then
    pass "the burst was killed mid-way ($n_acked posts acknowledged)"
else
    fail "the burst was killed mid-way" "only $n_acked acknowledged"
fi
start_daemon e "$PORT_e" "$PORT_d" || fail "e restarts after kill -9"
missing=0
for id in $(cat "$acked"); do
    has e "$id" || missing=$((missing + 1))
done
if [ "$missing" = 0 ]; then
    pass "e kept every acknowledged post through kill -9"
else
    fail "e kept every acknowledged post through kill -9" "$missing of $n_acked lost"
fi
total=$((121 + n_acked))
ok=1
for n in a b c d; do
    for id in $(cat "$acked"); do
        if ! wait_until 30 has "$n" "$id"; then
            ok=0
            break
        fi
    done
done
if [ $ok = 1 ]; then
    pass "every acknowledged post reached a, b, c and d"
else
    fail "every acknowledged post reached a, b, c and d" \
        "counts: $(for n in a b c d e; do printf '%s=%s ' $n "$(count $n)"; done)"
fi
# The post in flight at the kill may have been committed without its
# answer reaching the client: then it is kept too, one more than acknowledged.
agree() { same_sets "$total" a e || same_sets $((total + 1)) a e; }
if wait_until 30 agree; then
    pass "a and e agree after the crash ($(count a) alerts, $total acknowledged or older)"
else
    fail "a and e agree after the crash" "a=$(count a) e=$(count e), expected $total or $((total + 1))"
fi
stop_all_ok a b c d e
finish

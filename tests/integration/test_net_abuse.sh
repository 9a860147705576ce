#!/usr/bin/env bash
# Hostile members (issue 7): an authenticated peer under script control
# (tests/tools/peerctl/, the real handshake and frames) replays and
# reorders signed records, and sends frame headers above the limits before
# and after the handshake. The node converges to the right state, stores
# each record once and forwards it once; an oversized length closes that
# link at once, nothing of the claimed size is allocated, and the other
# links, the control socket and the spread of alerts are unaffected.
# usage: test_net_abuse.sh [BUILD_DIR]
. "$(dirname "$0")/lib.sh"
lib_init test_net_abuse "${1:-}"
. "$(dirname "$0")/net_lib.sh"
PEERCTL=$AGAH_BUILD/tools/peerctl
[ -x "$PEERCTL" ] || { echo "test_net_abuse: $PEERCTL is not built" >&2; exit 2; }
SEED=${AGAH_SEED:-$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')}
echo "test_net_abuse: seed $SEED (AGAH_SEED=$SEED reproduces the orders)"

# a organises; b is the node under test; m, c and d are members whose
# daemons never run: peerctl speaks for m and d, and c only signs records.
community a b m c d || { fail "set up a community"; finish; }
D_m=$(node_dir m)
D_c=$(node_dir c)
D_d=$(node_dir d)

# pctl ARGS...: peerctl, its complaints kept in $ROOT/peerctl.err.
pctl() { "$PEERCTL" "$@" 2>>"$ROOT/peerctl.err"; }

# peer_field LINE FIELD: a field of peerctl's summary line.
peer_field() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

# ups_above N: has b logged more than N accepted links coming up?
ups() { grep -c 'up (accepted' "$ROOT/b.log"; }
ups_above() { [ "$(ups)" -gt "$1" ]; }

# shuffle FILE: FILE's lines in an order fixed by $SEED.
shuffle() { python3 -c 'import random,sys; l=open(sys.argv[1]).read().splitlines(); random.Random(int(sys.argv[2])).shuffle(l); print("\n".join(l))' "$1" "$SEED"; }

# show_json NAME ID: `agah --json show` of ID on NAME.
show_json() { agah_on "$1" --json show "$2" 2>/dev/null; }

# ---------------------------------------------------------------------------
# 1. Records out of order, then replayed. b meets nobody but peerctl, so it
# knows only the genesis and its own admission: c's admission and the
# epoch record come through m's link, after records that depend on them.
stop_daemon a
start_daemon b "$PORT_b" || { fail "start b alone"; finish; }

"$PEERCTL" records "$(node_dir a)" >"$ROOT/boot" || fail "peerctl records"
epoch=$(tail -n 1 "$ROOT/boot") # genesis, a's admission, the first epoch
"$PEERCTL" admission "$D_c" >"$ROOT/adm_c"
"$PEERCTL" alerts "$D_c" 2 >"$ROOT/c_alerts"
X=$(sed -n 1p "$ROOT/c_alerts" | cut -d' ' -f1)
Y=$(sed -n 2p "$ROOT/c_alerts" | cut -d' ' -f1)
"$PEERCTL" annotate "$D_m" confirm "$X" >"$ROOT/conf_x"
"$PEERCTL" annotate "$D_m" confirm "$Y" >"$ROOT/conf_y"
"$PEERCTL" annotate "$D_c" retract "$X" >"$ROOT/retr_x"
"$PEERCTL" alerts "$D_m" 3 >"$ROOT/m_alerts"
# The hostile order: confirmations and the retraction before their alerts,
# c's alerts before c's admission, m's alerts before the epoch record.
cat "$ROOT/conf_x" "$ROOT/retr_x" "$ROOT/conf_y" "$ROOT/m_alerts" "$ROOT/c_alerts" \
    "$ROOT/adm_c" >"$ROOT/order1"
echo "$epoch" >>"$ROOT/order1"
nrec=$(grep -c . "$ROOT/order1")

# d watches b's side of the story: every record b stores is offered to d
# (RECORD, or an IHAVE id) once, and never again for a replay.
before_ups=$(ups)
"$PEERCTL" connect "$D_d" "127.0.0.1:$PORT_b" wait 6 >"$ROOT/obs.1" 2>>"$ROOT/peerctl.err" &
OBS_PID=$!
if wait_until 20 ups_above "$before_ups"; then
    out=$(pctl connect "$D_m" "127.0.0.1:$PORT_b" send "$ROOT/order1" wait 1)
    echo "      m: $out"
    [ "$(peer_field "$out" sent)" = "$nrec" ] || fail "m sends $nrec records out of order" "$out"
else
    fail "the observer d links to b"
fi
wait "$OBS_PID"
obs1=$(cat "$ROOT/obs.1")
echo "      d: $obs1"

show_x=$(show_json b "$X")
show_y=$(show_json b "$Y")
if printf '%s' "$show_x" | grep -q '"status": "retracted"' &&
    printf '%s' "$show_x" | grep -q '"confirmations": 1\b'; then
    pass "a retraction and a confirmation that came before their alert apply to it"
else
    fail "a retraction and a confirmation that came before their alert apply to it" "$show_x"
fi
if printf '%s' "$show_y" | grep -q '"status": "active"' &&
    printf '%s' "$show_y" | grep -q '"confirmations": 1\b'; then
    pass "c's alert sent before c's admission is stored once it arrives (active, 1 confirmation)"
else
    fail "c's alert sent before c's admission is stored once it arrives" "$show_y"
fi
if [ "$(count b)" = 5 ]; then
    pass "b lists the 5 alerts (2 by c, 3 by m)"
else
    fail "b lists the 5 alerts (2 by c, 3 by m)" "$(count b)"
fi
ids_before=$(ids b)
# Every record new to b was offered to d exactly once: the $nrec that m
# sent (b had none of them) and m's admission, which m's handshake brought.
offered1=$(( $(peer_field "$obs1" record) + $(peer_field "$obs1" ihave) + $(peer_field "$obs1" body) ))
if [ "$offered1" = $((nrec + 1)) ]; then
    pass "b forwards each record it stored to d once ($offered1 = $nrec sent + m's admission)"
else
    fail "b forwards each record it stored to d once" "offered $offered1, expected $((nrec + 1))" "$obs1"
fi

# The same records again, in a seeded random order, three times over.
shuffle "$ROOT/order1" >"$ROOT/order2"
out=""
before_ups=$(ups)
"$PEERCTL" connect "$D_d" "127.0.0.1:$PORT_b" wait 5 >"$ROOT/obs.2" 2>>"$ROOT/peerctl.err" &
OBS_PID=$!
if wait_until 20 ups_above "$before_ups"; then
    out=$(pctl connect "$D_m" "127.0.0.1:$PORT_b" repeat "$ROOT/order2" $((3 * nrec)) wait 1)
    echo "      m: $out"
else
    fail "the observer d links to b again"
fi
wait "$OBS_PID"
obs2=$(cat "$ROOT/obs.2")
echo "      d: $obs2"
offered2=$(( $(peer_field "$obs2" record) + $(peer_field "$obs2" ihave) + $(peer_field "$obs2" body) ))
if [ "$(peer_field "$out" closed)" = 0 ] && [ "$(ids b)" = "$ids_before" ] &&
    printf '%s' "$(show_json b "$X")" | grep -q '"confirmations": 1\b'; then
    pass "replayed records are stored once (same alerts, still 1 confirmation; the link stays)"
else
    fail "replayed records are stored once" "$out" "$(ids b | wc -l) alerts"
fi
if [ "$offered2" = 0 ] && [ "$(peer_field "$obs2" up)" = 1 ]; then
    pass "replayed records are not forwarded again (d is offered 0)"
else
    fail "replayed records are not forwarded again" "$obs2"
fi

# ---------------------------------------------------------------------------
# 2. Oversized lengths. a comes back, linked to b; m's scripted link to b
# announces frames above 128 KiB after the handshake, and M3 boxes above
# 4 KiB before it.
start_daemon a "$PORT_a" "$PORT_b" || { fail "start a again"; finish; }
if wait_until 30 test "$(connected b)" = 1; then
    pass "a and b are linked"
else
    fail "a and b are linked"
fi
mem() { sed -n "s/^$2:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$(daemon_pid "$1")/status"; }
hwm0=$(mem b VmHWM)
peak0=$(mem b VmPeak)
for len in 131073 0x7fffffff 0xffffffff; do
    t0=$SECONDS
    out=$(pctl connect "$D_m" "127.0.0.1:$PORT_b" wait 0.5 oversize "$len")
    if [ "$(peer_field "$out" up)" = 1 ] && [ "$(peer_field "$out" closed)" = 1 ] &&
        [ "$(peer_field "$out" after_oversize)" = 0 ] && [ $((SECONDS - t0)) -lt 15 ]; then
        pass "a frame announcing $len bytes closes the link at once, nothing sent back"
    else
        fail "a frame announcing $len bytes closes the link at once, nothing sent back" "$out"
    fi
done
for len in 4097 0xffffffff; do
    out=$(pctl connect "$D_m" "127.0.0.1:$PORT_b" --m3-len "$len")
    if [ "$(peer_field "$out" up)" = 0 ] && [ "$(peer_field "$out" closed)" = 1 ] &&
        [ "$(peer_field "$out" after_oversize)" = 0 ] && awk "BEGIN { exit !($(peer_field "$out" secs) < 5) }"; then
        pass "an M3 announcing $len bytes closes the handshake at once, nothing sent back"
    else
        fail "an M3 announcing $len bytes closes the handshake at once, nothing sent back" "$out"
    fi
done
# An authenticated member trickling a frame a byte a second (a whole PING
# frame would take ~40 s) is dropped at the 20 s deadline for a begun
# message, while its bytes keep the link from ever looking idle.
out=$(pctl connect "$D_m" "127.0.0.1:$PORT_b" trickle 45)
secs=$(peer_field "$out" secs)
if [ "$(peer_field "$out" up)" = 1 ] && [ "$(peer_field "$out" closed)" = 1 ] &&
    awk "BEGIN { exit !($secs >= 19 && $secs < 30) }" &&
    grep -q 'down: a message took over 20 s to arrive' "$ROOT/b.log"; then
    pass "a member trickling a frame is dropped after 20 s ($secs s)"
else
    fail "a member trickling a frame is dropped after 20 s" "$out"
fi
hwm1=$(mem b VmHWM)
peak1=$(mem b VmPeak)
echo "      b: VmHWM $hwm0 -> $hwm1 kB, VmPeak $peak0 -> $peak1 kB"
# A 2 GiB or 4 GiB buffer would show in the virtual peak even untouched.
if [ $((peak1 - peak0)) -lt 65536 ] && [ $((hwm1 - hwm0)) -lt 16384 ]; then
    pass "nothing of the claimed sizes was allocated (peak grew $(((peak1 - peak0) / 1024)) MiB)"
else
    fail "nothing of the claimed sizes was allocated" "VmPeak +$((peak1 - peak0)) kB, VmHWM +$((hwm1 - hwm0)) kB"
fi
if grep -q 'down: frame length out of bounds' "$ROOT/b.log" &&
    grep -q 'closed: handshake message out of bounds' "$ROOT/b.log"; then
    pass "b logs why it closed the links"
else
    fail "b logs why it closed the links"
fi
if [ "$(connected b)" = 1 ] && [ "$(connected a)" = 1 ]; then
    pass "the a-b link survived"
else
    fail "the a-b link survived" "a: $(connected a), b: $(connected b)"
fi
id=$(post_alert a "after the oversized frames")
if [ -n "$id" ] && wait_until 20 has b "$id"; then
    pass "a post on a still reaches b"
else
    fail "a post on a still reaches b"
fi
# a caught up on everything b took from m, c's admission included.
if wait_until 30 test "$(count a)" = "$(count b)"; then
    pass "a converges to b's alerts ($(count a))"
else
    fail "a converges to b's alerts" "a: $(count a), b: $(count b)"
fi
stop_all_ok a b
finish

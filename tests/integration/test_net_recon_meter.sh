#!/usr/bin/env bash
# Reconciliation is metered (issue 24). Members r, k, w and m, each an
# authenticated peer under script control (tests/tools/peerctl/), abuse
# reconciliation against a, which holds N records (m's), while member c
# stays linked to a (each has a budget of its own: one member each part):
#  1. RECONs saying "I have nothing" (about 20 bytes each): a OFFERs at most
#     NET_OFFER_MAX (16,384) ids per RECON, not its whole set, and a peer
#     that keeps sending them into an empty work budget is disconnected;
#  2. SKREQs with an empty estimator: a answers only as many as its work
#     budget allows (burst plus refill), not one each;
#  3. SWANTs for 256 of a's records each: the bodies sent are bounded the
#     same way;
#  4. m reconnects five times: a link does not start with a fresh budget,
#     what m draws from all five stays within one burst plus the refill.
# Throughout, a answers `agah status` and c's alert still reaches a; and a
# new member d still catches up on all N records from a (range
# reconciliation then moves 16,384 ids a round, over two rounds).
# The budget (daemon/mesh/workmeter.h, WORK_*; docs/SECURITY.md): 6,000,000 units
# of burst, 250,000 a second; a RECON costs the items it touches plus 32
# per id offered, a SKREQ 13 per item of a's set, a SWANT one per item
# plus 256 per body, each message 64 more.
# usage: test_net_recon_meter.sh [BUILD_DIR]
# One member posts N records in a day, more than the quota (daemon/node/quota.h)
# allows: every node raises it alike, so what is under test is not the quota.
export AGAHD_QUOTA_SCALE=100
. "$(dirname "$0")/lib.sh"
lib_init test_net_recon_meter "${1:-}"
. "$(dirname "$0")/net_lib.sh"
PEERCTL=$AGAH_BUILD/tools/peerctl
[ -x "$PEERCTL" ] || { echo "test_net_recon_meter: $PEERCTL is not built" >&2; exit 2; }
N=20000
BURST=6000000
RATE=250000
OFFER_MAX=16384

peer_field() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
alerts_of() { agah_on "$1" --json status 2>/dev/null | sed -n 's/.*"alerts": \([0-9]*\).*/\1/p'; }
has_alerts() { [ "$(alerts_of "$1")" -ge "$2" ] 2>/dev/null; }
# allowed COST SECS PER: the most a budget of BURST + RATE x SECS pays for,
# at COST units a message and PER of what is counted for each message.
allowed() {
    awk -v b=$BURST -v r=$RATE -v c="$1" -v s="$2" -v k="$3" \
        'BEGIN { printf "%d", (int((b + r * s) / c) + 1) * k }'
}
# attack NAME ACTION...: member NAME's peerctl link to a; prints its
# summary line (and shows it in the log).
attack() {
    local who=$1 out
    shift
    out=$("$PEERCTL" connect "$(node_dir "$who")" "127.0.0.1:$PORT_a" "$@" 2>>"$ROOT/peerctl.err")
    echo "      $who ($*): $out" >&2
    printf '%s\n' "$out"
}

community a c m d r k w || { fail "set up a community"; finish; }
start_daemon c "$PORT_c" "$PORT_a" || { fail "start c"; finish; }
wait_until 20 links_are a 1 || fail "a and c are linked"
D_m=$(node_dir m)
"$PEERCTL" alerts "$D_m" "$N" >"$ROOT/seed" || fail "peerctl makes $N alerts"

# a takes m's N records (5,000/s); m stays until a has them all.
base=$(alerts_of a)
(wait_until 120 has_alerts a $((base + N)); touch "$ROOT/seed.done") &
"$PEERCTL" connect "$D_m" "127.0.0.1:$PORT_a" send "$ROOT/seed" until "$ROOT/seed.done" 130 \
    >"$ROOT/seeder" 2>>"$ROOT/peerctl.err"
if has_alerts a $((base + N)); then
    pass "a holds $N records from m"
else
    fail "a holds $N records from m" "$(alerts_of a)"
fi

# ---------------------------------------------------------------------------
# 1. RECON "I have nothing", 20 times: before issue 24 each made a OFFER
#    all N ids (20 x 20,000 ids, 14 MB for 400 bytes).
out=$(attack r recon 20 wait 3)
offer=$(peer_field "$out" offer)
ob=$(peer_field "$out" offer_bytes)
ab=$(peer_field "$out" atk_bytes)
# The bound per RECON, whatever its size: 34 bytes an id in OFFER (bin32
# header) and at most 8 per OFFER message of 256 ids, 557,568 bytes.
if [ -n "$offer" ] && [ "$offer" -gt 0 ] && [ "$offer" -le $((20 * OFFER_MAX)) ] &&
    [ "$ob" -le $((20 * (OFFER_MAX * 34 + OFFER_MAX / 256 * 8))) ]; then
    pass "20 RECONs ($ab bytes) made a OFFER $offer ids ($ob bytes), at most $OFFER_MAX each"
else
    fail "20 RECONs made a OFFER at most $OFFER_MAX ids each" "$out"
fi

# Many more: the budget runs out (each costs about 16,400 + 32 x 16,384 units),
# what is answered stays within burst + refill, and a peer that keeps
# sending into an empty bucket is disconnected.
out=$(attack r recon 5000 wait 3)
offer=$(peer_field "$out" offer)
secs=$(peer_field "$out" secs)
cost=$((64 + OFFER_MAX + 32 * OFFER_MAX))
most=$(allowed $cost "$secs" $OFFER_MAX)
if [ -n "$offer" ] && [ "$offer" -le "$most" ]; then
    pass "5,000 RECONs in ${secs} s made a OFFER $offer ids (budget allows $most)"
else
    fail "5,000 RECONs stay within the work budget" "offered $offer, allowed $most" "$out"
fi
if [ "$(peer_field "$out" closed)" = 1 ] &&
    grep -q "reconciliation far beyond its budget" "$ROOT/a.log" 2>/dev/null; then
    pass "a disconnected r, far beyond its reconciliation budget"
else
    fail "a disconnected r, far beyond its reconciliation budget" "$out"
fi

# ---------------------------------------------------------------------------
# 2. SKREQs with an empty estimator: each answered one makes a pass twice
#    over its set and answer with its first RECON (the difference is too
#    large for a table). Before issue 24 every one was answered.
t0=$SECONDS
out=$(attack k skreq 200 wait 2)
answered=$(($(peer_field "$out" recon) + $(peer_field "$out" sketch)))
secs=$(( SECONDS - t0 + 1 ))
most=$(allowed $((13 * N + 64)) "$secs" 1)
if [ "$answered" -ge 1 ] && [ "$answered" -le "$most" ]; then
    pass "a answered $answered of 200 SKREQs (budget allows $most in ${secs} s)"
else
    fail "a answers SKREQs within the work budget" "answered $answered, allowed $most" "$out"
fi

# ---------------------------------------------------------------------------
# 3. SWANTs for 256 of a's records each: before issue 24 every one was
#    answered with 256 bodies (as far as the push queue took them).
t0=$SECONDS
out=$(attack w swant "$ROOT/seed" 300 wait 5)
body=$(peer_field "$out" body)
secs=$(( SECONDS - t0 + 1 ))
most=$(allowed $((64 + N + 256 * 256)) "$secs" 256)
if [ -n "$body" ] && [ "$body" -ge 256 ] && [ "$body" -le "$most" ]; then
    pass "300 SWANTs made a send $body bodies (budget allows $most in ${secs} s)"
else
    fail "a answers SWANTs within the work budget" "bodies $body, allowed $most" "$out"
fi

# ---------------------------------------------------------------------------
# 4. m reconnects five times, 100 RECONs a link (too few to be disconnected):
#    before, each link had a full burst of its own.
t0=$SECONDS
offer=0
for i in 1 2 3 4 5; do
    out=$(attack m recon 100 wait 0.5)
    offer=$((offer + $(peer_field "$out" offer)))
done
secs=$(( SECONDS - t0 + 1 ))
most=$(allowed $cost "$secs" $OFFER_MAX)
if [ "$offer" -gt 0 ] && [ "$offer" -le "$most" ]; then
    pass "5 links of m, 100 RECONs each, drew $offer ids (one budget allows $most in ${secs} s)"
else
    fail "a reconnect does not refresh the budget" "offered $offer, allowed $most"
fi

# ---------------------------------------------------------------------------
# Meanwhile and after: a answers, and c's alert crosses while m attacks.
"$PEERCTL" connect "$D_m" "127.0.0.1:$PORT_a" skreq 100 recon 2000 wait 2 \
    >"$ROOT/last" 2>>"$ROOT/peerctl.err" &
ATTACKER=$!
if id=$(post_alert c "during the reconciliation attack") && all_have 30 "$id" a; then
    pass "c's alert reached a during the attack"
else
    fail "c's alert reached a during the attack"
fi
wait "$ATTACKER"
if [ -n "$(alerts_of a)" ] && links_are a 1; then
    pass "a still answers status, linked to c"
else
    fail "a still answers status, linked to c"
fi

# ---------------------------------------------------------------------------
# An honest catch-up under the same meter: d starts empty and dials a.
t0=$SECONDS
start_daemon d "$PORT_d" "$PORT_a" || fail "start d"
if wait_until 120 has_alerts d "$(alerts_of a)"; then
    pass "d caught up on a's $(alerts_of a) alerts in $((SECONDS - t0)) s"
else
    fail "d caught up on a's alerts" "d $(alerts_of d), a $(alerts_of a)"
fi

stop_all_ok || fail "daemons stopped cleanly"
finish

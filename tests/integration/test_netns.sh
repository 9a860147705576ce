#!/usr/bin/env bash
# Partitions between real hosts: four agahd, each in its own network
# namespace with its own address on 10.211.0.0/24, joined by veth pairs to
# two bridges (a, b on bridge A; c, d on bridge B) linked by a trunk. All
# four live in one "bridge" namespace, so nothing is added to the host's
# network and parallel runs do not collide (the names include $$).
#  - a split: the trunk goes down; both halves post, and nothing crosses;
#    the trunk comes up and all four list the same alerts again;
#  - an isolation: b's cable is pulled, b posts alone and restarts while cut
#    off (its dials fail and back off), the other three post among
#    themselves; the cable goes back and everyone converges.
# Needs root and working `ip netns`; otherwise exits 77 (skipped) and says why.
# The control socket is a Unix socket in the data directory, so `agah` runs
# on the host; only agahd runs inside the namespaces.
# usage: test_netns.sh [BUILD_DIR]
. "$(dirname "$0")/lib.sh"
lib_init test_netns "${1:-}"
. "$(dirname "$0")/net_lib.sh"

skip() {
    echo "test_netns: SKIPPED: $*"
    exit 77
}
[ "$(id -u)" = 0 ] || skip "needs root to create network namespaces (uid $(id -u))"
command -v ip >/dev/null || skip "needs ip from iproute2 (apt-get install iproute2)"

NODES="a b c d"
SUBNET=10.211.0
PORT=7433
declare -A IP=([a]=$SUBNET.1 [b]=$SUBNET.2 [c]=$SUBNET.3 [d]=$SUBNET.4)
declare -A SIDE=([a]=A [b]=A [c]=B [d]=B)
BR="agah$$-br"
ns() { printf 'agah%s-%s' "$$" "$1"; }
NAMESPACES=()

# Deletes every namespace made here, after stop_all ended the daemons in
# them (lib.sh's trap runs stop_all first). Each name is ours: it has $$.
ns_cleanup() {
    local n
    for n in "${NAMESPACES[@]}"; do
        ip netns del "$n" 2>/dev/null
    done
    NAMESPACES=()
}
trap 'stop_all; ns_cleanup; lib_cleanup' EXIT
trap 'stop_all; ns_cleanup; lib_cleanup; trap - EXIT; exit 130' INT
trap 'stop_all; ns_cleanup; lib_cleanup; trap - EXIT; exit 143' TERM

addns() {
    ip netns add "$1" 2>"$ROOT/netns.err" || return 1
    NAMESPACES+=("$1")
}

# Probe first: a container without CAP_SYS_ADMIN or without /run/netns fails here.
addns "$BR" || skip "ip netns add failed: $(cat "$ROOT/netns.err")"

topology() {
    ip -n "$BR" link set lo up &&
        ip -n "$BR" link add brA type bridge && ip -n "$BR" link add brB type bridge &&
        ip -n "$BR" link add trunkA type veth peer name trunkB &&
        ip -n "$BR" link set trunkA master brA && ip -n "$BR" link set trunkB master brB &&
        ip -n "$BR" link set brA up && ip -n "$BR" link set brB up &&
        ip -n "$BR" link set trunkA up && ip -n "$BR" link set trunkB up || return 1
    local n
    for n in $NODES; do
        addns "$(ns "$n")" &&
            ip -n "$BR" link add "v$n" type veth peer name eth0 netns "$(ns "$n")" &&
            ip -n "$BR" link set "v$n" master "br${SIDE[$n]}" &&
            ip -n "$BR" link set "v$n" up &&
            ip -n "$(ns "$n")" link set lo up &&
            ip -n "$(ns "$n")" addr add "${IP[$n]}/24" dev eth0 &&
            ip -n "$(ns "$n")" link set eth0 up || return 1
    done
}
topology 2>"$ROOT/topology.err" ||
    skip "cannot build veth/bridge topology: $(cat "$ROOT/topology.err")"

# reach FROM TO: can FROM's namespace open TCP to TO's address right now?
# Port 9 has no listener, so a reachable host refuses at once (RST) and an
# unreachable one times out or is reported unreachable; the daemons never
# see the probe. (bash's /dev/tcp: python3 takes seconds to start on a
# loaded machine.)
reach() {
    ip netns exec "$(ns "$1")" timeout 2 bash -c ": </dev/tcp/${IP[$2]}/9" 2>&1 |
        grep -q "Connection refused"
}

# start_ns NAME [PEER...]: agahd inside NAME's namespace, listening on its
# address, dialling each PEER's; waits until its control socket answers.
start_ns() {
    local name=$1 p args
    shift
    args=(--data "$(node_dir "$name")" --log-level debug --listen "${IP[$name]}:$PORT")
    for p in "$@"; do
        args+=(--peer "${IP[$p]}:$PORT")
    done
    # `ip netns exec` execs the command, so $! is agahd (or its wrapper).
    ip netns exec "$(ns "$name")" "$AGAHD" "${args[@]}" >>"$ROOT/$name.log" 2>&1 &
    DAEMON_PIDS+=($!)
    DAEMON_NAMES+=("$name")
    wait_sock "$name"
}

counts() { for n in $NODES; do printf '%s=%s ' "$n" "$(count "$n")"; done; }
now_ms() { date +%s%3N; }
# links_at_least N: every node reports at least N connected peers.
links_at_least() {
    local n c
    for n in $NODES; do
        c=$(connected "$n")
        [ -n "$c" ] && [ "$c" -ge "$1" ] || return 1
    done
}
# crossed FILE NAMES...: how many ids in FILE any NAME lists.
crossed() {
    local file=$1 n
    shift
    for n in "$@"; do
        ids "$n"
    done | grep -cFxf "$file"
}
# cut_off FROM TO...: FROM reaches none of TO (probed at once: each
# unreachable probe waits out its timeout).
cut_off() {
    local from=$1 t pids=() rc=0
    shift
    for t in "$@"; do
        reach "$from" "$t" &
        pids+=($!)
    done
    for t in "${pids[@]}"; do
        wait "$t" && rc=1
    done
    return $rc
}

all_reach=1
for n in b c d; do
    wait_until 10 reach a "$n" || all_reach=0
done
if [ $all_reach = 1 ]; then
    pass "topology: a reaches b, c and d across the bridges"
else
    fail "topology: a reaches b, c and d across the bridges"
    finish
fi

for n in $NODES; do
    node_init "$n" || { fail "node_init $n"; finish; }
done
community_found a || { fail "a founds the community"; finish; }
start_ns a || { fail "a starts in its namespace"; finish; }
for n in b c d; do
    invite_join a "$n" member || { fail "a invites $n"; finish; }
done
# A line over the wire: b dials a, c dials b, d dials c; the overlay adds
# more links from the addresses the peers tell each other.
start_ns b a && start_ns c b && start_ns d c || { fail "start b, c, d"; finish; }
if wait_until 60 post_alert d "hello from d" && wait_until 30 same_sets 1 $NODES; then
    pass "the four namespaces form one community: a post from d reaches all"
else
    fail "the four namespaces form one community: a post from d reaches all" "$(counts)"
fi
# Everyone linked to everyone before the cuts, so each cut really breaks
# live links rather than links still being dialled.
if wait_until 30 links_at_least 2; then
    pass "every node has at least two live links"
else
    fail "every node has at least two live links" \
        "peers: $(for n in $NODES; do printf '%s=%s ' "$n" "$(connected "$n")"; done)"
fi
total=1

# --- a split: {a, b} | {c, d} ---
ip -n "$BR" link set trunkA down && ip -n "$BR" link set trunkB down ||
    fail "cut the trunk"
if cut_off a c d && cut_off b c d && reach a b && reach c d; then
    pass "split: the trunk is down, each half still reaches itself"
else
    fail "split: the trunk is down, each half still reaches itself"
fi
: >"$ROOT/sideA" && : >"$ROOT/sideB"
for i in 1 2 3 4 5; do
    post_alert a "split, side A, a $i" >>"$ROOT/sideA" || fail "post $i on a"
    post_alert d "split, side B, d $i" >>"$ROOT/sideB" || fail "post $i on d"
done
post_alert b "split, side A, b" >>"$ROOT/sideA" || fail "post on b"
post_alert c "split, side B, c" >>"$ROOT/sideB" || fail "post on c"
half=$((total + 6))
if wait_until 30 same_sets "$half" a b && wait_until 30 same_sets "$half" c d; then
    pass "split: each half converges on its own 6 posts"
else
    fail "split: each half converges on its own 6 posts" "$(counts)"
fi
n_crossed=$(($(crossed "$ROOT/sideA" c d) + $(crossed "$ROOT/sideB" a b)))
if [ "$n_crossed" = 0 ] && [ "$(grep -c . "$ROOT/sideA")" = 6 ] && [ "$(grep -c . "$ROOT/sideB")" = 6 ]; then
    pass "split: no post crossed the cut"
else
    fail "split: no post crossed the cut" "$n_crossed crossed; $(counts)"
fi
total=$((total + 12))
t0=$(now_ms)
ip -n "$BR" link set trunkA up && ip -n "$BR" link set trunkB up || fail "restore the trunk"
if wait_until 60 same_sets "$total" $NODES; then
    pass "split healed: all four list the same $total alerts ($(($(now_ms) - t0)) ms after the trunk came up)"
else
    fail "split healed: all four list the same $total alerts" "$(counts)"
fi

# --- an isolation: b alone, restarted while cut off ---
ip -n "$BR" link set vb down || fail "pull b's cable"
if cut_off b a c d && cut_off a b && reach a c && reach a d; then
    pass "isolation: b reaches nobody, a, c and d still reach each other"
else
    fail "isolation: b reaches nobody, a, c and d still reach each other"
fi
: >"$ROOT/alone" && : >"$ROOT/rest"
for i in 1 2 3; do
    post_alert b "isolated b $i" >>"$ROOT/alone" || fail "post $i on b"
done
# b restarts while cut off: its old links die with it, and its dials to a
# fail (handshake deadline) and back off until the cable is back.
stop_daemon b || fail "b stops cleanly while isolated"
mark=$(lines "$ROOT/b.log")
start_ns b a || fail "b restarts while isolated"
post_alert b "isolated b after its restart" >>"$ROOT/alone" || fail "post on b after restart"
for n in a c d; do
    post_alert "$n" "the rest, $n" >>"$ROOT/rest" || fail "post on $n"
    post_alert "$n" "the rest again, $n" >>"$ROOT/rest" || fail "post on $n"
done
if wait_until 30 same_sets $((total + 6)) a c d && wait_until 30 same_sets $((total + 4)) b; then
    pass "isolation: a, c, d converge on their 6 posts, b keeps its 4"
else
    fail "isolation: a, c, d converge on their 6 posts, b keeps its 4" "$(counts)"
fi
n_crossed=$(($(crossed "$ROOT/alone" a c d) + $(crossed "$ROOT/rest" b)))
if [ "$n_crossed" = 0 ] && [ "$(connected b)" = 0 ]; then
    pass "isolation: nothing crossed, and b has no live link"
else
    fail "isolation: nothing crossed, and b has no live link" \
        "$n_crossed crossed; b has $(connected b) links"
fi
# dial_failed: b's log since its restart shows a dial to a peer that failed.
dial_failed() { tail -n +"$((mark + 1))" "$ROOT/b.log" | grep -q "peer $SUBNET\.[0-9]*:$PORT closed: "; }
if wait_until 30 dial_failed; then
    pass "isolation: b's dials fail while it is cut off ($(tail -n +"$((mark + 1))" "$ROOT/b.log" | grep -m1 -o "closed: .*"))"
else
    fail "isolation: b's dials fail while it is cut off" "$(tail -n 5 "$ROOT/b.log")"
fi
total=$((total + 10))
t0=$(now_ms)
ip -n "$BR" link set vb up || fail "plug b's cable back"
if wait_until 60 same_sets "$total" $NODES; then
    pass "isolation healed: all four list the same $total alerts ($(($(now_ms) - t0)) ms after the cable came back)"
else
    fail "isolation healed: all four list the same $total alerts" "$(counts)"
fi
if wait_until 30 test "$(connected b)" -ge 1; then
    pass "isolation healed: b is linked again"
else
    fail "isolation healed: b is linked again"
fi

stop_all_ok $NODES
finish

#!/usr/bin/env bash
# Issue 22, attack A: rival epochs lock a valid member out (S7).
#
# As reported: a founder invites a second organiser and a member; all three
# start; the founder and the organiser each post a number; in 7 of 12 such
# communities the member's `agah check` said "not flagged" for both numbers
# forever. The second organiser's node issues its own epoch 1 at its first
# start, sealed only to the keys it knows then (not the member), and ties
# go to the lowest id: when its epoch wins, everyone posts under a key the
# member never gets. No attacker is needed, but an informant organiser can
# do the same on purpose.
#
# Nine communities run side by side on loopback, fresh data directories
# each: six built as reported, and one each of three variants: (i) the
# member is invited by the second organiser, (ii) three organisers,
# (iii) the member is admitted while the second organiser is stopped, which
# then comes back. In every one, every organiser posts a number and the
# member must read every number within $READ s; and the member's status
# must say how many records it holds but cannot open (`unreadable`), which
# must come down to 0.
#
# usage: bash tests/integration/test_trust_epochs.sh BUILD_DIR

. "$(dirname "$0")/lib.sh"
lib_init test_trust_epochs "${1:-}"
. "$(dirname "$0")/net_lib.sh"
. "$(dirname "$0")/trust_lib.sh"

READ=20 # seconds a member may take to read a number

# Every (community, member, number, poster) the member must read.
P_COMM=()
P_MEM=()
P_NUM=()
P_WHO=()
MEMBERS=() # "community member" pairs, for the status check
BROKEN=()  # communities whose set-up failed: "community why"

# num K P: the number poster P of community K posts (+852 5999 KK PP).
num() { printf '+8525999%02d%02d' "$1" "$2"; }

# port_for NAME: a port of its own for NAME, remembered in PORT_<name>.
port_for() {
    local p
    p=$(free_port) || return 1
    eval "PORT_$1=$p"
}

# start NAME PEER_NAME...: NAME's agahd on its port, dialling the others.
start() {
    local name=$1 n peers=()
    shift
    for n in "$@"; do peers+=("$(port_of "$n")"); done
    start_daemon "$name" "$(port_of "$name")" "${peers[@]}"
}

# posts K POSTER_INDEX NAME MEMBER: NAME posts its number, which MEMBER must read.
posts() {
    local k=$1 p=$2 name=$3 mem=$4 n
    n=$(num "$k" "$p")
    if agah_on "$name" post number "$n" --note "from $name" >/dev/null 2>"$ROOT/$name.post.err"; then
        P_COMM+=("$k")
        P_MEM+=("$mem")
        P_NUM+=("$n")
        P_WHO+=("$name")
    else
        fail "community $k: $name posts $n" "$(cat "$ROOT/$name.post.err")"
    fi
}

# Base: founder f invites organiser o and member m; all three start; f and
# o post. Names: k<K>f, k<K>o, k<K>m.
base() {
    local k=$1 f=k$1f o=k$1o m=k$1m
    node_init "$f" && node_init "$o" && node_init "$m" || return 1
    port_for "$f" && port_for "$o" && port_for "$m" || return 1
    community_found "$f" "Community $k" || return 1
    start "$f" || return 1
    invite_join "$f" "$o" organiser && invite_join "$f" "$m" member || return 1
    start "$o" "$f" && start "$m" "$f" "$o" || return 1
    MEMBERS+=("$k $m")
    posts "$k" 1 "$f" "$m"
    posts "$k" 2 "$o" "$m"
}

# (i) the member is invited by the second organiser, not by the founder.
by_second() {
    local k=$1 f=k$1f o=k$1o m=k$1m
    node_init "$f" && node_init "$o" && node_init "$m" || return 1
    port_for "$f" && port_for "$o" && port_for "$m" || return 1
    community_found "$f" "Community $k" || return 1
    start "$f" || return 1
    invite_join "$f" "$o" organiser || return 1
    start "$o" "$f" || return 1
    invite_join "$o" "$m" member || return 1
    start "$m" "$o" "$f" || return 1
    MEMBERS+=("$k $m")
    posts "$k" 1 "$f" "$m"
    posts "$k" 2 "$o" "$m"
}

# (ii) three organisers: the founder and two it invites, and a member.
three_orgs() {
    local k=$1 f=k$1f o=k$1o p=k$1p m=k$1m
    node_init "$f" && node_init "$o" && node_init "$p" && node_init "$m" || return 1
    port_for "$f" && port_for "$o" && port_for "$p" && port_for "$m" || return 1
    community_found "$f" "Community $k" || return 1
    start "$f" || return 1
    invite_join "$f" "$o" organiser && invite_join "$f" "$p" organiser &&
        invite_join "$f" "$m" member || return 1
    start "$o" "$f" && start "$p" "$f" && start "$m" "$f" "$o" "$p" || return 1
    MEMBERS+=("$k $m")
    posts "$k" 1 "$f" "$m"
    posts "$k" 2 "$o" "$m"
    posts "$k" 3 "$p" "$m"
}

# (iii) the member is admitted while the second organiser is stopped; it
# comes back afterwards.
while_offline() {
    local k=$1 f=k$1f o=k$1o m=k$1m
    node_init "$f" && node_init "$o" && node_init "$m" || return 1
    port_for "$f" && port_for "$o" && port_for "$m" || return 1
    community_found "$f" "Community $k" || return 1
    start "$f" || return 1
    invite_join "$f" "$o" organiser || return 1
    start "$o" "$f" || return 1
    # o's node has met f (so each holds what the other issued) before it goes.
    wait_until 15 jq_ok "$o" "j['peers'] >= 1" status || return 1
    stop_daemon "$o"
    invite_join "$f" "$m" member || return 1
    start "$m" "$f" "$o" || return 1
    start "$o" "$f" || return 1
    MEMBERS+=("$k $m")
    posts "$k" 1 "$f" "$m"
    posts "$k" 2 "$o" "$m"
}

K=0
for i in 1 2 3 4 5 6; do
    K=$((K + 1))
    base "$K" || BROKEN+=("$K: as reported")
done
K=$((K + 1)); by_second "$K" || BROKEN+=("$K: (i) member invited by the second organiser")
K=$((K + 1)); three_orgs "$K" || BROKEN+=("$K: (ii) three organisers")
K=$((K + 1)); while_offline "$K" || BROKEN+=("$K: (iii) member admitted while an organiser is offline")

for b in "${BROKEN[@]}"; do
    fail "community ${b%%:*} is set up${b#*:}"
done

variant() {
    case $1 in
    7) echo " (i: member invited by the second organiser)" ;;
    8) echo " (ii: three organisers)" ;;
    9) echo " (iii: member admitted while an organiser was offline)" ;;
    *) echo "" ;;
    esac
}

# Every member reads every number: one deadline for all, polled together.
declare -A DONE
deadline=$((SECONDS + READ * TIME_SCALE))
while :; do
    left=0
    for i in "${!P_NUM[@]}"; do
        [ -n "${DONE[$i]:-}" ] && continue
        if flagged "${P_MEM[$i]}" "${P_NUM[$i]}"; then
            DONE[$i]=1
        else
            left=$((left + 1))
        fi
    done
    [ "$left" = 0 ] || [ $SECONDS -ge $deadline ] && break
    sleep 0.3
done
for i in "${!P_NUM[@]}"; do
    k=${P_COMM[$i]}
    d="community $k$(variant "$k"): member ${P_MEM[$i]} reads ${P_NUM[$i]} posted by ${P_WHO[$i]}"
    if [ -n "${DONE[$i]:-}" ]; then
        pass "$d"
    else
        fail "$d" \
          "ATTACK A SUCCEEDED (rival epochs): a valid member cannot read an alert after ${READ} s" \
          "member: $(agah_on "${P_MEM[$i]}" check "${P_NUM[$i]}" 2>&1); status: $(agah_on "${P_MEM[$i]}" --json status 2>&1)"
    fi
done

# S7: a member holding a record it cannot open says so (unreadable: N), and
# the count comes down to 0 once every key has arrived.
for e in "${MEMBERS[@]}"; do
    k=${e%% *}
    m=${e#* }
    d="community $k$(variant "$k"): member $m's status says unreadable: 0"
    out=$(agah_on "$m" --json status 2>&1)
    if ! printf '%s' "$out" | grep -q '"unreadable"'; then
        fail "$d" "S7 NOT MET: status has no 'unreadable' count, so a locked-out member cannot tell" \
          "status: $out"
    elif wait_until 10 jq_ok "$m" "j['unreadable'] == 0" status; then
        pass "$d"
    else
        fail "$d" "ATTACK A SUCCEEDED (rival epochs): the member holds records it cannot open" \
          "status: $(agah_on "$m" --json status 2>&1)"
    fi
done

finish

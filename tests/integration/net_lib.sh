# Helpers shared by the test_net*.sh files, sourced after lib.sh.
# Output is parsed with grep and sed: starting python3 for each call would
# dominate the run time.

# community NAMES...: the first founds a community and runs with no peers;
# every other is invited and joins. Ports for all are in PORT_<name>; only
# the first daemon is started.
community() {
    local org=$1 n
    for n in "$@"; do
        node_init "$n" || return 1
        eval "PORT_$n=$(free_port)"
    done
    community_found "$org" || return 1
    start_daemon "$org" "$(port_of "$org")" || return 1
    shift
    for n in "$@"; do
        invite_join "$org" "$n" member || return 1
    done
}

port_of() { eval "printf '%s' \"\$PORT_$1\""; }

# ids NAME: the sorted ids of every alert NAME lists (--all), one a line.
ids() {
    agah_on "$1" --json list --all 2>/dev/null |
        grep -o '"id": "[0-9a-f]\{64\}"' | sed 's/.*"\([0-9a-f]*\)"$/\1/' | sort
}

# count NAME: how many alerts NAME lists (--all).
count() { ids "$1" | grep -c .; }

# has NAME ID: does NAME list the alert ID?
has() { ids "$1" | grep -x "$2" >/dev/null; }

# all_have SECONDS ID NAMES...: waits until every NAME lists ID.
all_have() {
    local secs=$1 id=$2 n
    shift 2
    for n in "$@"; do
        wait_until "$secs" has "$n" "$id" || return 1
    done
}

# same_sets N NAMES...: every NAME lists exactly the same N alerts.
same_sets() {
    local want=$1 first=$2 n ref
    shift 2
    ref=$(ids "$first")
    [ "$(printf '%s\n' "$ref" | grep -c .)" = "$want" ] || return 1
    for n in "$@"; do
        [ "$(ids "$n")" = "$ref" ] || return 1
    done
}

# post_alert NAME NOTE: posts a free-text alert; prints its id. Fails
# unless the post was acknowledged.
post_alert() {
    local out
    out=$(agah_on "$1" --json post alert --note "$2" 2>/dev/null) || return 1
    printf '%s\n' "$out" | sed -n 's/^{"id": "\([0-9a-f]\{64\}\)"}$/\1/p' | grep .
}

# connected NAME: the number of connected peers `status` reports.
connected() {
    agah_on "$1" --json status 2>/dev/null | sed -n 's/.*"peers": \([0-9]*\).*/\1/p'
}

# links_are NAME N: NAME reports N connected peers. For wait_until, which
# runs its arguments again each time: `wait_until 20 test "$(connected b)" = 1`
# would compare the count taken once, before the wait.
links_are() { [ "$(connected "$1")" = "$2" ]; }

# lines FILE: how many lines FILE has (for waits that must re-read it).
lines() { wc -l <"$1"; }

# status_ms NAME: how long `agah status` takes on NAME, in milliseconds
# (99999 if it fails).
status_ms() {
    local t0 t1
    t0=$(date +%s%N)
    agah_on "$1" --json status >/dev/null 2>&1 || { echo 99999; return; }
    t1=$(date +%s%N)
    echo $(((t1 - t0) / 1000000))
}

# flood_alerts FROM TO N [PEERCTL_OPTS...]: FROM (a member whose agahd is
# not running) signs N alerts with 2 KiB notes (peerctl alerts, with the
# options given, e.g. --number E164) and sends them to TO's agahd over one
# link; a pass or fail once TO counts N alerts (120 s at most).
flood_alerts() {
    local from=$1 to=$2 n=$3 flooder
    shift 3
    "$AGAH_BUILD/tools/peerctl" alerts "$(node_dir "$from")" "$n" 2048 "$@" >"$ROOT/flood" ||
        fail "peerctl makes $n alerts"
    _flood_held() { [ "$(agah_on "$to" --json status | sed -n 's/.*"alerts": \([0-9]*\).*/\1/p')" -ge "$n" ]; }
    "$AGAH_BUILD/tools/peerctl" connect "$(node_dir "$from")" "127.0.0.1:$(port_of "$to")" \
        send "$ROOT/flood" until "$ROOT/flood.done" 120 >"$ROOT/flooder" 2>>"$ROOT/peerctl.err" &
    flooder=$!
    if wait_until 120 _flood_held; then
        pass "$to holds $from's $n alerts${*:+ ($*)}"
    else
        fail "$to holds $from's $n alerts${*:+ ($*)}" "$(agah_on "$to" --json status 2>&1)"
    fi
    touch "$ROOT/flood.done"
    wait "$flooder"
}

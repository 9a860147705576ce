# Helpers for the insider-attack tests of issue 22 (test_trust_*.sh),
# sourced after lib.sh: clocks set back with libfaketime, JSON questions
# about `members`, `status` and `show`, and waits for a number to be
# readable on a node.
#
# An attacker controls its own machine's clock, and agahd signs with
# time(2): a daemon or an agah started by `faked OFFSET ...` lives OFFSET
# seconds in the past. libfaketime is preloaded directly (as Debian's
# `faketime` wrapper does), so the pid lib.sh remembers is agahd's own.
# The monotonic clock is left alone: libuv's timers use it, and a young
# machine's uptime is shorter than the offsets used here.

FAKETIME_LIB=""
for f in /usr/lib/*/faketime/libfaketime.so.1 /usr/lib/faketime/libfaketime.so.1 \
    /usr/local/lib/faketime/libfaketime.so.1; do
    [ -e "$f" ] && { FAKETIME_LIB=$f; break; }
done

# need_faketime: exit 77 (skipped, with the reason) when libfaketime is missing.
need_faketime() {
    if [ -z "$FAKETIME_LIB" ]; then
        echo "$TEST_NAME: skipped: libfaketime is missing (apt-get install faketime)"
        exit 77
    fi
}

# faked OFFSET CMD...: CMD with its wall clock OFFSET seconds from now
# (negative: in the past). ASan must not insist on coming first.
faked() {
    local off=$1
    shift
    case $off in [-+]*) ;; *) off=+$off ;; esac # libfaketime wants the sign
    env LD_PRELOAD="$FAKETIME_LIB${LD_PRELOAD:+:$LD_PRELOAD}" FAKETIME="${off}s" \
        FAKETIME_DONT_FAKE_MONOTONIC=1 FAKETIME_NO_CACHE=1 \
        ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" "$@"
}

# agah_faked OFFSET NAME ARGS...: agah_on with a clock OFFSET seconds off.
agah_faked() {
    local off=$1 name=$2
    shift 2
    faked "$off" timeout $((60 * TIME_SCALE)) "$AGAH" --data "$(node_dir "$name")" "$@"
}

# start_daemon_faked OFFSET NAME PORT [PEER_PORT...]: start_daemon, with
# agahd's clock OFFSET seconds off (through a wrapper that execs, so the pid
# stays agahd's). Under root, PORT "offline" also puts it in a network
# namespace of its own, so it cannot dial the peers its store remembers.
start_daemon_faked() {
    local off=$1 name=$2 real=$AGAHD w rc pre=""
    shift 2
    case $off in [-+]*) ;; *) off=+$off ;; esac
    if [ "$1" = offline ]; then
        shift
        set -- none "$@"
        [ "$(id -u)" = 0 ] && command -v unshare >/dev/null && unshare -n true 2>/dev/null &&
            pre="unshare -n "
    fi
    w="$ROOT/.agahd-faked-$name"
    {
        printf '#!/bin/sh\n'
        printf 'export LD_PRELOAD="%s${LD_PRELOAD:+:$LD_PRELOAD}"\n' "$FAKETIME_LIB"
        printf 'export FAKETIME="%ss" FAKETIME_DONT_FAKE_MONOTONIC=1 FAKETIME_NO_CACHE=1\n' "$off"
        printf 'export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"\n'
        printf 'exec %s"%s" "$@"\n' "$pre" "$real"
    } >"$w"
    chmod 700 "$w"
    AGAHD=$w
    start_daemon "$name" "$@"
    rc=$?
    AGAHD=$real
    return $rc
}

# jq_ok NAME PYEXPR ARGS...: `agah --json ARGS` on NAME parses and PYEXPR
# (over `j`) is true.
jq_ok() {
    local name=$1 cond=$2 out
    shift 2
    out=$(agah_on "$name" --json "$@" 2>/dev/null) || return 1
    OUT="$out" python3 -c 'import json,os,sys; j=json.loads(os.environ["OUT"]); sys.exit(0 if eval(sys.argv[1]) else 1)' "$cond"
}

# member_status NAME ID: ID's status in NAME's `members` ("absent" if not listed).
member_status() {
    agah_on "$1" --json members 2>/dev/null |
        python3 -c 'import json,sys; j=json.load(sys.stdin); print(next((m["status"] for m in j if m["member_id"] == sys.argv[1]), "absent"))' "$2"
}

# is_status NAME ID STATUS: ID is listed in NAME's members with STATUS.
is_status() { [ "$(member_status "$1" "$2")" = "$3" ]; }

# flagged NAME NUMBER: NAME's `agah check NUMBER` exits 0.
flagged() { agah_on "$1" check "$2" >/dev/null 2>&1; }

# alert_status NAME ID: the status NAME's `show ID` gives, or "missing".
alert_status() {
    local out
    out=$(agah_on "$1" --json show "$2" 2>/dev/null) || { echo missing; return; }
    OUT="$out" python3 -c 'import json,os; print(json.loads(os.environ["OUT"])["status"])'
}

# peers_up NAME: the connected-peer count of NAME's status (0 if none answers).
peers_up() {
    local n
    n=$(connected "$1")
    echo "${n:-0}"
}

# wait_clock UNIX: bounded wait (20 s) until the real clock reaches UNIX.
clock_at() { [ "$(date +%s)" -ge "$1" ]; }
wait_clock() { wait_until 20 clock_at "$1"; }

# pk_hex MEMBER_ID: the member's public key in hex (PROTOCOL.md: base32 of
# key || checksum after the one-letter prefix).
pk_hex() {
    python3 -c 'import base64,sys; s=sys.argv[1][1:].upper(); print(base64.b32decode(s + "=" * (-len(s) % 8))[:32].hex())' "$1"
}

# stored_by NAME MEMBER_ID TYPES: how many records of TYPES (comma list of
# PROTOCOL.md type numbers) by MEMBER_ID are in NAME's store.db (read-only,
# beside the running daemon).
stored_by() {
    python3 - "$(node_dir "$1")/store.db" "$(pk_hex "$2")" "$3" <<'EOF'
import sqlite3, sys
db = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True, timeout=5)
types = [int(t) for t in sys.argv[3].split(",")]
q = "SELECT count(*) FROM records WHERE author = ? AND type IN (%s)" % ",".join("?" * len(types))
print(db.execute(q, [bytes.fromhex(sys.argv[2])] + types).fetchone()[0])
EOF
}

# found_in_past OFFSET FOUNDER PORT TITLE NAME:ROLE...: FOUNDER founds the
# community TITLE with its clock OFFSET seconds off (its agahd on PORT
# meanwhile) and admits each NAME (node_init'ed) with ROLE, then stops its
# agahd. One line says so; on failure the test ends there.
found_in_past() {
    local off=$1 f=$2 port=$3 title=$4 nr ok=1 who=""
    shift 4
    agah_faked "$off" "$f" community create "$title" >/dev/null 2>"$ROOT/found.err" &&
        start_daemon_faked "$off" "$f" "$port" || ok=0
    for nr in "$@"; do
        who="$who${who:+, }${nr%%:*} (${nr#*:})"
        [ $ok = 1 ] && { invite_join "$f" "${nr%%:*}" "${nr#*:}" 2>>"$ROOT/found.err" || ok=0; }
    done
    if [ $ok = 1 ]; then
        pass "${off#-} s ago: $f founds the community and admits $who"
    else
        fail "${off#-} s ago: $f founds the community and admits $who" "$(cat "$ROOT/found.err")"
        finish
    fi
    stop_daemon "$f"
}

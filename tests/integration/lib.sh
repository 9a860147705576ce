# Shared helpers for agah's integration tests (and tests/demo.sh): a private
# temporary root, nodes made with the real `agah`, real `agahd` processes on
# 127.0.0.1 with random free ports, bounded waits, assertions that count, and
# a trap that stops every daemon started here however the script ends.
#
# Use:  . "$(dirname "$0")/lib.sh"; lib_init NAME [BUILD_DIR]
# Every test gets: $ROOT (its own mktemp dir), $AGAH, $AGAHD, node_dir NAME.
#
# Two optional settings, for `make valgrind` (tests/valgrind.sh); unset,
# nothing changes:
#  AGAH_WRAP        a command line put before every agah and agahd the tests
#                   start (e.g. "valgrind --leak-check=full ..."). $AGAH and
#                   $AGAHD then name two scripts in $ROOT that exec it, so a
#                   test that runs "$AGAH" or "$AGAHD" itself is wrapped too.
#  AGAH_TIME_SCALE  an integer the helpers' waits and timeouts are multiplied
#                   by, for a wrapper that makes everything slower.

set -u

lib_init() {
    TEST_NAME=$1
    AGAH_BUILD=${2:-${AGAH_BUILD:-}}
    if [ -z "$AGAH_BUILD" ]; then
        AGAH_BUILD=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build
    fi
    AGAH_BUILD=$(cd "$AGAH_BUILD" && pwd) || { echo "$TEST_NAME: no build directory" >&2; exit 2; }
    AGAH_SRC=${AGAH_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
    AGAH=$AGAH_BUILD/agah
    AGAHD=$AGAH_BUILD/agahd
    for b in "$AGAH" "$AGAHD"; do
        [ -x "$b" ] || { echo "$TEST_NAME: $b is not built" >&2; exit 2; }
    done
    command -v python3 >/dev/null || { echo "$TEST_NAME: python3 is needed" >&2; exit 2; }
    # Short paths: a Unix socket path must fit in 108 bytes.
    ROOT=$(mktemp -d "${TMPDIR:-/tmp}/agah-${TEST_NAME}.XXXXXX")
    chmod 700 "$ROOT"
    TIME_SCALE=${AGAH_TIME_SCALE:-1}
    if [ -n "${AGAH_WRAP:-}" ]; then
        mkdir -m 700 "$ROOT/.wrap"
        for b in agah agahd; do
            printf '#!/bin/sh\nexec %s "%s" "$@"\n' "$AGAH_WRAP" "$AGAH_BUILD/$b" >"$ROOT/.wrap/$b"
            chmod 700 "$ROOT/.wrap/$b"
        done
        AGAH=$ROOT/.wrap/agah
        AGAHD=$ROOT/.wrap/agahd
    fi
    PASSED=0
    FAILED=0
    FAILED_NAMES=()
    DAEMON_PIDS=()
    DAEMON_NAMES=()
    KEEP_ROOT=${AGAH_KEEP:-0}
    # Tests must not depend on the caller's environment.
    unset AGAH_DATA AGAH_PASSPHRASE AGAH_REGION XDG_DATA_HOME
    export NO_COLOR=1
    trap 'stop_all; lib_cleanup' EXIT
    trap 'stop_all; lib_cleanup; trap - EXIT; exit 130' INT
    trap 'stop_all; lib_cleanup; trap - EXIT; exit 143' TERM
}

# Removes $ROOT, unless AGAH_KEEP=1 (always keep) or AGAH_KEEP_ON_FAIL=1
# and something failed: then its logs are there to read.
lib_cleanup() {
    if [ "$KEEP_ROOT" = 1 ] || { [ "$FAILED" -gt 0 ] && [ "${AGAH_KEEP_ON_FAIL:-0}" = 1 ]; }; then
        echo "$TEST_NAME: kept $ROOT" >&2
        return
    fi
    rm -rf "$ROOT"
}

node_dir() { printf '%s/%s' "$ROOT" "$1"; }

# A random free TCP port on 127.0.0.1, not one handed out before in this
# test (remembered in a file, since `$(free_port)` runs in a subshell), and
# outside the kernel's ephemeral range: a port from inside it can be taken
# as the source port of any outgoing connection (other tests run alongside)
# between this check and the daemon's listen, which failed test_net_spread
# once with "address already in use".
free_port() {
    local p i
    touch "$ROOT/.ports"
    for i in $(seq 1 50); do
        p=$(python3 - <<'EOF'
import random, socket
try:
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        lo, hi = (int(x) for x in f.read().split())
except (OSError, ValueError):
    lo, hi = 32768, 60999
# The larger stretch outside [lo, hi] within 10000-65535.
below, above = (10000, lo - 1), (hi + 1, 65535)
a, b = max((below, above), key=lambda r: r[1] - r[0])
if b - a < 1000:
    a, b = 20000, 60999  # no room outside: fall back to any high port
for _ in range(100):
    p = random.randint(a, b)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        continue
    finally:
        s.close()
    print(p)
    break
EOF
)
        [ -n "$p" ] || continue
        grep -qx "$p" "$ROOT/.ports" && continue
        echo "$p" >>"$ROOT/.ports"
        echo "$p"
        return 0
    done
    echo "free_port: no free port found" >&2
    return 1
}

# agah_on NAME ARGS...: the real CLI on NAME's data directory, time-bounded.
agah_on() {
    local name=$1
    shift
    timeout $((60 * TIME_SCALE)) "$AGAH" --data "$(node_dir "$name")" "$@"
}

# node_init NAME: an identity without passphrase, named NAME, allowed to
# be an organiser or member too (--unsafe-no-passphrase): Argon2id's 256 MiB
# a start would slow every test down and add nothing it checks.
node_init() {
    agah_on "$1" init --no-passphrase --unsafe-no-passphrase --name "$1" >/dev/null 2>"$ROOT/$1.init.err" || {
        echo "node_init $1 failed: $(cat "$ROOT/$1.init.err")" >&2
        return 1
    }
}

node_id() { agah_on "$1" id; }

# community_found NAME [COMMUNITY]: NAME founds a community (offline).
community_found() {
    agah_on "$1" community create "${2:-Test community}" >/dev/null 2>"$ROOT/$1.found.err" || {
        echo "community_found $1 failed: $(cat "$ROOT/$1.found.err")" >&2
        return 1
    }
}

# invite_join ORG NEW ROLE: ORG (whose daemon runs) invites NEW's identity,
# NEW joins with the code. NEW must have been node_init'ed.
invite_join() {
    local org=$1 new=$2 role=${3:-member} id code
    id=$(node_id "$new") || { echo "invite_join: no id for $new" >&2; return 1; }
    code=$(agah_on "$org" invite "$id" --role "$role" --name "$new" 2>"$ROOT/$new.invite.err") || {
        echo "invite_join: invite of $new failed: $(cat "$ROOT/$new.invite.err")" >&2
        return 1
    }
    agah_on "$new" join "$code" >/dev/null 2>"$ROOT/$new.join.err" || {
        echo "invite_join: $new could not join: $(cat "$ROOT/$new.join.err")" >&2
        return 1
    }
}

# sock_ready DIR: does DIR/agahd.sock accept a connection now?
sock_ready() {
    python3 - "$1/agahd.sock" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(1)
try:
    s.connect(sys.argv[1])
except OSError:
    sys.exit(1)
finally:
    s.close()
EOF
}

# wait_sock NAME [SECONDS]: until the daemon's control socket accepts
# connections (CONTRACT.md: that is when agahd is ready).
wait_sock() {
    local dir deadline pid
    dir=$(node_dir "$1")
    deadline=$((SECONDS + ${2:-20} * TIME_SCALE))
    pid=$(daemon_pid "$1")
    while [ $SECONDS -lt $deadline ]; do
        sock_ready "$dir" && return 0
        if [ -n "$pid" ] && ! running "$pid"; then
            echo "wait_sock: agahd $1 exited; its log:" >&2
            tail -n 20 "$ROOT/$1.log" >&2
            return 1
        fi
        sleep 0.1
    done
    echo "wait_sock: agahd $1 not ready after $((${2:-20} * TIME_SCALE)) s; its log:" >&2
    tail -n 20 "$ROOT/$1.log" >&2
    return 1
}

daemon_pid() {
    local i
    for i in "${!DAEMON_NAMES[@]}"; do
        if [ "${DAEMON_NAMES[$i]}" = "$1" ]; then
            echo "${DAEMON_PIDS[$i]}"
            return 0
        fi
    done
    return 0
}

# start_daemon NAME PORT [PEER_PORT...]: agahd on 127.0.0.1:PORT (or "none"),
# dialling 127.0.0.1:PEER_PORT for each, logging to $ROOT/NAME.log at debug
# (the level that names peers and members, which tests match), or at
# $AGAHD_LOG_LEVEL when set ("default": no --log-level at all).
# Waits until it is ready.
start_daemon() {
    local name=$1 port=$2 listen
    shift 2
    local args=(--data "$(node_dir "$name")")
    case ${AGAHD_LOG_LEVEL:-debug} in
    default) ;;
    *) args+=(--log-level "${AGAHD_LOG_LEVEL:-debug}") ;;
    esac
    if [ "$port" = none ]; then
        args+=(--listen none)
    else
        args+=(--listen "127.0.0.1:$port")
    fi
    local p
    for p in "$@"; do
        args+=(--peer "127.0.0.1:$p")
    done
    # AGAHD_QUOTA_SCALE: tests that send tens of thousands of one member's
    # posts raise the per-author quotas on every node alike.
    [ -z "${AGAHD_QUOTA_SCALE:-}" ] || args+=(--quota-scale "$AGAHD_QUOTA_SCALE")
    "$AGAHD" "${args[@]}" >>"$ROOT/$name.log" 2>&1 &
    DAEMON_PIDS+=($!)
    DAEMON_NAMES+=("$name")
    wait_sock "$name"
}

# stop_daemon NAME: SIGTERM, wait up to 10 s (scaled), then SIGKILL. Returns agahd's
# exit status (137 when it had to be killed).
# running PID: the process exists and has not exited. A child that was
# killed but not yet reaped still answers `kill -0`, as a zombie.
running() {
    local st
    kill -0 "$1" 2>/dev/null || return 1
    st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
    [ "${st%% *}" != Z ]
}

stop_daemon() {
    local name=$1 pid i rc=0 deadline
    pid=$(daemon_pid "$name")
    [ -n "$pid" ] || return 0
    if running "$pid"; then
        kill -TERM "$pid" 2>/dev/null
        deadline=$((SECONDS + 10 * TIME_SCALE))
        while running "$pid" && [ $SECONDS -lt $deadline ]; do
            sleep 0.1
        done
        if running "$pid"; then
            kill -KILL "$pid" 2>/dev/null
        fi
    fi
    wait "$pid" 2>/dev/null
    rc=$?
    for i in "${!DAEMON_NAMES[@]}"; do
        if [ "${DAEMON_NAMES[$i]}" = "$name" ]; then
            unset 'DAEMON_NAMES[i]' 'DAEMON_PIDS[i]'
        fi
    done
    DAEMON_NAMES=("${DAEMON_NAMES[@]}")
    DAEMON_PIDS=("${DAEMON_PIDS[@]}")
    return $rc
}

# stop_all_ok NAMES...: stops each daemon and checks, once, that every one
# of them exited 0 (SIGTERM handled, nothing left to report).
stop_all_ok() {
    local n bad=""
    for n in "$@"; do
        stop_daemon "$n" || bad="$bad $n"
    done
    if [ -z "$bad" ]; then
        pass "every daemon stops with exit 0"
    else
        fail "every daemon stops with exit 0" "not:$bad"
    fi
}

# stop_all: every daemon this script started, by its own pid only.
stop_all() {
    local pid
    for pid in "${DAEMON_PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null
    done
    for pid in "${DAEMON_PIDS[@]}"; do
        local deadline=$((SECONDS + 10 * TIME_SCALE))
        while running "$pid" && [ $SECONDS -lt $deadline ]; do
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    DAEMON_PIDS=()
    DAEMON_NAMES=()
}

# --- assertions ---

pass() {
    PASSED=$((PASSED + 1))
    printf 'ok    %s\n' "$1"
}

fail() {
    FAILED=$((FAILED + 1))
    FAILED_NAMES+=("$1")
    printf 'FAIL  %s\n' "$1"
    [ $# -gt 1 ] && printf '      %s\n' "${@:2}"
    return 0
}

# run NAME ARGS...: runs agah on NAME, keeping $OUT, $ERR and $RC.
run() {
    local name=$1
    shift
    OUT=$(agah_on "$name" "$@" 2>"$ROOT/.err")
    RC=$?
    ERR=$(cat "$ROOT/.err")
}

# run_in NAME INPUT ARGS...: the same with INPUT on standard input.
run_in() {
    local name=$1 input=$2
    shift 2
    OUT=$(printf '%s' "$input" | agah_on "$name" "$@" 2>"$ROOT/.err")
    RC=$?
    ERR=$(cat "$ROOT/.err")
}

# expect_rc DESC WANT: checks $RC of the last run.
expect_rc() {
    if [ "$RC" = "$2" ]; then
        pass "$1"
    else
        fail "$1" "exit $RC, expected $2" "stdout: ${OUT:0:400}" "stderr: ${ERR:0:400}"
    fi
}

# expect DESC WANT_RC PYTHON_CONDITION: checks $RC and, with $OUT parsed
# as JSON into `j` (and the raw text in `out`, stderr in `err`), a Python
# expression that must be true.
expect() {
    local desc=$1 want=$2 cond=$3 why
    if [ "$RC" != "$want" ]; then
        fail "$desc" "exit $RC, expected $want" "stdout: ${OUT:0:400}" "stderr: ${ERR:0:400}"
        return 0
    fi
    why=$(OUT="$OUT" ERR="$ERR" python3 - "$cond" <<'EOF' 2>&1
import json, os, sys
out, err = os.environ["OUT"], os.environ["ERR"]
try:
    j = json.loads(out)
except ValueError:
    j = None
lines = []
for l in out.splitlines():
    try:
        lines.append(json.loads(l))
    except ValueError:
        lines.append(None)
ALERT_KEYS = {"id", "kind", "target", "category", "note", "severity", "author",
              "author_name", "created", "expires", "status", "confirmations",
              "author_revoked", "retracted_by", "retracted_by_name"}
def is_alert(a):
    return (isinstance(a, dict) and set(a) == ALERT_KEYS and isinstance(a["id"], str)
            and len(a["id"]) == 64 and a["kind"] in ("number", "account", "alert")
            and a["status"] in ("active", "retracted", "expired")
            and isinstance(a["created"], int) and isinstance(a["expires"], int)
            and isinstance(a["confirmations"], int) and isinstance(a["note"], str)
            and a["category"] in ("harassment", "impersonation", "scam", "surveillance", "other")
            and a["severity"] in ("info", "warning", "danger")
            and isinstance(a["author"], str) and a["author"].startswith("m")
            and (a["target"] is None) == (a["kind"] == "alert")
            and isinstance(a["author_revoked"], bool)
            and (a["retracted_by"] is None) == (a["status"] != "retracted")
            and (a["retracted_by"] is None or a["retracted_by"].startswith("m"))
            and (a["retracted_by_name"] is None) == (a["retracted_by"] is None))
ok = eval(sys.argv[1])
if not ok:
    print("condition false: " + sys.argv[1])
    sys.exit(1)
EOF
)
    if [ $? -eq 0 ]; then
        pass "$desc"
    else
        fail "$desc" "$why" "stdout: ${OUT:0:600}" "stderr: ${ERR:0:300}"
    fi
}

# json_field FIELD: prints j[FIELD] of $OUT (for chaining ids between steps).
json_field() {
    OUT="$OUT" python3 -c 'import json,os,sys; print(json.loads(os.environ["OUT"])[sys.argv[1]])' "$1"
}

# wait_until SECONDS CMD...: retries CMD (quietly) until it succeeds.
wait_until() {
    local deadline=$((SECONDS + $1 * TIME_SCALE))
    shift
    while [ $SECONDS -lt $deadline ]; do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    return 1
}

# finish: prints "NAME: N passed, M failed" and exits non-zero on failure.
finish() {
    local n
    if [ "$FAILED" -gt 0 ]; then
        for n in "${FAILED_NAMES[@]}"; do
            echo "  failed: $n"
        done
    fi
    echo "$TEST_NAME: $PASSED passed, $FAILED failed"
    [ "$FAILED" -eq 0 ]
    exit $?
}

# tty_session DIR "ARGS" ANSWER...: runs `agah --data DIR ARGS` on a new
# pseudo-terminal (its controlling terminal, so /dev/tty prompts work),
# typing each ANSWER after the next prompt ending in ": ". Prints all the
# terminal showed; returns agah's exit status. Bounded to 60 s.
tty_session() {
    python3 - "$AGAH" "$@" <<'PY'
import os, pty, select, signal, sys, time
agah, data, args, answers = sys.argv[1], sys.argv[2], sys.argv[3].split(), sys.argv[4:]
pid, fd = pty.fork()
if pid == 0:
    os.execv(agah, [agah, "--data", data] + args)
seen, deadline = b"", time.time() + 60
def read_some(wait):
    global seen
    r, _, _ = select.select([fd], [], [], wait)
    if not r:
        return True
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        return False
    seen += chunk
    return len(chunk) > 0
for a in answers:
    n = seen.count(b": ")
    while seen.count(b": ") == n and time.time() < deadline and read_some(0.2):
        pass
    os.write(fd, a.encode() + b"\n")
status = None
while time.time() < deadline:
    if not read_some(0.2):
        break
    done, st = os.waitpid(pid, os.WNOHANG)
    if done:
        status = st
        while read_some(0.1) and select.select([fd], [], [], 0)[0]:
            pass
        break
if status is None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    _, status = os.waitpid(pid, 0)
sys.stdout.write(seen.decode("utf-8", "replace"))
sys.exit(os.waitstatus_to_exitcode(status))
PY
}

#!/usr/bin/env bash
# Drives the real agahd: its command line, its refusals (no identity, no
# community, a second daemon on the same directory, a missing or wrong
# passphrase), its clean stop on SIGTERM and SIGINT, and its control socket
# under raw abuse (garbage, lying length prefixes, non-map frames, floods of
# clients, a client that never reads), after each of which it must still
# answer `agah status`. Raw clients are tests/integration/ctlclient.py.
# usage: test_daemon.sh BUILD_DIR
. "$(dirname "$0")/lib.sh"
lib_init daemon "${1:-}"

RAW="python3 $AGAH_SRC/tests/integration/ctlclient.py"
CAP=256 # CONTROL_MAX_CLIENTS in daemon/control.h

# check DESC CMD...: passes when CMD succeeds; shows its output otherwise.
check() {
    local desc=$1 out
    shift
    if out=$("$@" 2>&1); then
        pass "$desc"
    else
        fail "$desc" "${out:0:600}"
    fi
}

# agahd_run ARGS...: agahd in the foreground, time-bounded, without a
# terminal (so it can never prompt); sets OUT (stdout), ERR, RC.
agahd_run() {
    OUT=$(timeout 30 setsid -w "$AGAHD" "$@" </dev/null 2>"$ROOT/.err")
    RC=$?
    ERR=$(cat "$ROOT/.err")
}

# expect_fail DESC RC SUBSTRING: the last agahd_run exited RC with SUBSTRING
# in its standard error.
expect_fail() {
    if [ "$RC" = "$2" ] && [[ $ERR == *"$3"* ]]; then
        pass "$1"
    else
        fail "$1" "exit $RC (want $2); stderr: ${ERR:0:400}"
    fi
}

# start_with NAME ARGS...: like start_daemon, with agahd's arguments given
# whole; registered so the trap stops it.
start_with() {
    local name=$1
    shift
    "$AGAHD" --data "$(node_dir "$name")" --log-level debug "$@" >>"$ROOT/$name.log" 2>&1 &
    DAEMON_PIDS+=($!)
    DAEMON_NAMES+=("$name")
    wait_sock "$name"
}

answers_status() { agah_on "$1" status >/dev/null; }

# --- the command line ---------------------------------------------------------

agahd_run --help
if [ "$RC" = 0 ] && [[ $OUT == *"SYNOPSIS"* && $OUT == *"--listen"* && $OUT == *"SIGTERM"* &&
    $OUT == *"EXIT STATUS"* && $OUT == *"EXAMPLES"* ]]; then
    pass "--help: exit 0, a manual with options, signals, exit status and examples"
else
    fail "--help" "exit $RC; ${OUT:0:300}"
fi
agahd_run --version
if [ "$RC" = 0 ] && [[ $OUT == "agahd "[0-9]* ]]; then
    pass "--version: exit 0, prints the version"
else
    fail "--version" "exit $RC; $OUT"
fi
for args in "--frobnicate" "--log-level loud" "--listen" "--listen nocolon" "stray" \
    "--peer 127.0.0.1" "--data=" "-x"; do
    # shellcheck disable=SC2086 # the words are the test
    agahd_run $args
    expect_fail "bad usage '$args': exit 2 with the usage" 2 "usage: agahd"
done

# --- refusals -------------------------------------------------------------------

agahd_run --data "$(node_dir empty)" --listen none
expect_fail "no identity: exit 2 naming 'agah --data DIR init'" 2 "agah --data $(node_dir empty) init"
check "no identity: the data directory was made 0700" \
    test "$(stat -c %a "$(node_dir empty)")" = 700

node_init nocomm
agahd_run --data "$(node_dir nocomm)" --listen none
expect_fail "no community: exit 2 naming 'agah join' and the directory" 2 "\`agah join CODE\`, with --data $(node_dir nocomm)"

# An identity under a passphrase.
if AGAH_PASSPHRASE="correct horse battery staple" agah_on locked init --name locked >/dev/null 2>&1 &&
    AGAH_PASSPHRASE="correct horse battery staple" agah_on locked community create L >/dev/null 2>&1; then
    agahd_run --data "$(node_dir locked)" --listen none
    expect_fail "passphrase needed, no terminal: exit 2 saying how to give one" 2 "AGAH_PASSPHRASE"
    AGAH_PASSPHRASE=wrong agahd_run --data "$(node_dir locked)" --listen none
    expect_fail "wrong passphrase: exit 2 saying so" 2 "wrong passphrase"
    printf 'correct horse battery staple\n' >"$ROOT/passfile"
    chmod 600 "$ROOT/passfile"
    if start_with locked --listen none --passphrase-file "$ROOT/passfile"; then
        pass "--passphrase-file: starts and becomes ready"
        stop_daemon locked
        check "--passphrase-file: stops with exit 0" test $? -eq 0
    else
        fail "--passphrase-file: starts and becomes ready"
    fi
else
    fail "setup: an identity with a passphrase"
fi

# --- one running daemon -----------------------------------------------------------

node_init n && community_found n || { fail "setup: init + community create"; finish; }
D=$(node_dir n)
S=$D/agahd.sock

# A socket file left behind by a killed daemon must not stop the next one.
python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$S"
if start_daemon n none; then
    pass "starts over a stale socket file and becomes ready"
else
    fail "starts over a stale socket file"
    finish
fi
P=$(daemon_pid n)
check "the control socket is mode 0600" test "$(stat -c %a "$S")" = 600
run n --json status
expect "agah status through the daemon" 0 \
    'set(j) == {"member_id","community_id","role","peers","alerts","epoch","unreadable","passphrase"} and j["role"] == "organiser" and j["peers"] == 0'

agahd_run --data "$D" --listen none
expect_fail "a second agahd on the same directory: exit 2, 'already running'" 2 "already running"
check "the first agahd keeps running" kill -0 "$P"
check "... keeps its socket" test -S "$S"
check "... and answers agah status" answers_status n

check "raw status request: the result has the status shape" $RAW "$S" status
check "random bytes: the client is dropped" $RAW "$S" garbage
check "frame holding dd ff ff ff ff: error response, then closed" $RAW "$S" ddff
check "dd ff ff ff ff as the length prefix: error response, then closed" $RAW "$S" ddff_prefix
check "4 GiB length prefix: error response, then closed" $RAW "$S" huge
check "65537-byte length prefix: error response, then closed" $RAW "$S" just_over
check "a valid frame that is not a map: error response, then closed" $RAW "$S" nonmap
check "an empty frame: error response, then closed" $RAW "$S" empty
check "after all that garbage: still answers agah status" answers_status n
check "a bad command in a map: error, the connection stays usable" $RAW "$S" bad_then_good
check "50 pipelined requests (half bad): answered in order" $RAW "$S" pipelined
check "a request sent byte by byte: answered" $RAW "$S" trickle
check "100 concurrent clients: all answered" $RAW "$S" concurrent 100
check "400 connections at once: the $CAP-client cap holds, others served" \
    $RAW "$S" flood 400 "$CAP"
check "a client that never reads: backpressure, others served, all answered" \
    $RAW "$S" noread 50000
check "after the floods: still answers agah status" answers_status n

# watch: a post made through the CLI reaches a watching client.
$RAW "$S" watch 5 >"$ROOT/watch.out" 2>&1 &
WATCH=$!
wait_until 10 grep -q watching "$ROOT/watch.out"
run n post alert --note "watch-me" --severity danger
expect_rc "agah post alert through the daemon" 0
run n post number "+852 5123 4567" --note "second"
expect_rc "agah post number through the daemon" 0
wait "$WATCH"
check "watch: the watcher got both new alerts as events" \
    grep -q "alert:active:watch-me number:active:second" "$ROOT/watch.out"

run n check "(+852) 5123.4567"
expect_rc "check of the posted number: flagged (exit 0)" 0
run n show ffffffff
expect_rc "show of an unknown alert id: exit 2" 2
run n invite mnotavalidid
expect_rc "invite of a malformed member id: exit 2" 2
check "after the input errors: still answers agah status" answers_status n

# --- stopping ---------------------------------------------------------------------

kill -TERM "$P"
wait_until 15 bash -c "! kill -0 $P 2>/dev/null"
stop_daemon n
check "SIGTERM: exit 0" test $? -eq 0
check "SIGTERM: the socket file is removed" test ! -e "$S"
check "SIGTERM: the log says it stopped" grep -q "agahd info: stopped" "$ROOT/n.log"

if start_daemon n none; then
    pass "restarts on the same directory after SIGTERM"
    run n --json list
    expect "the posted alerts survived the restart" 0 'len(j) == 2 and all(is_alert(a) for a in j)'
    # A client connected during shutdown must not hold it up.
    python3 -c 'import socket,sys,time; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); time.sleep(8)' \
        "$S" &
    HOLD=$!
    $RAW "$S" watch 8 >/dev/null 2>&1 &
    HOLD2=$!
    sleep 0.5
    P=$(daemon_pid n)
    kill -INT "$P"
    wait_until 15 bash -c "! kill -0 $P 2>/dev/null"
    stop_daemon n
    check "SIGINT with clients connected: exit 0" test $? -eq 0
    check "SIGINT: the socket file is removed" test ! -e "$S"
    kill "$HOLD" "$HOLD2" 2>/dev/null
    wait "$HOLD" "$HOLD2" 2>/dev/null
else
    fail "restarts on the same directory after SIGTERM"
fi

# A TCP listener on a random free port; a second daemon cannot take it.
PORT=$(free_port)
if start_daemon n "$PORT"; then
    check "--listen 127.0.0.1:$PORT accepts TCP connections" python3 -c \
        'import socket,sys; socket.create_connection(("127.0.0.1",int(sys.argv[1])),5).close()' "$PORT"
    node_init other && community_found other
    agahd_run --data "$(node_dir other)" --listen "127.0.0.1:$PORT"
    if [ "$RC" = 1 ] && [ -n "$ERR" ]; then
        pass "a listen address in use: exit 1 with a message"
    else
        fail "a listen address in use: exit 1 with a message" "exit $RC; ${ERR:0:300}"
    fi
    check "... and that daemon left no socket behind" test ! -e "$(node_dir other)/agahd.sock"
    stop_daemon n
    check "SIGTERM with a listener: exit 0" test $? -eq 0
else
    fail "starts with --listen 127.0.0.1:$PORT"
fi

if grep -E "ERROR: (Address|Leak)Sanitizer|runtime error:" "$ROOT"/*.log >/dev/null 2>&1; then
    fail "no sanitizer reports in the daemon logs" "$(grep -l -E 'Sanitizer|runtime error' "$ROOT"/*.log)"
else
    pass "no sanitizer reports in the daemon logs"
fi

finish

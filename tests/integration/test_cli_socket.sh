#!/usr/bin/env bash
# Issue 23, the control socket: another local user must not be able to
# answer in agahd's name. The attack, as it worked before: a data directory
# under a shared path (mode 1777), created first by another user, with that
# user's listener at DIR/agahd.sock; the member's `agah check` connected,
# sent the number and printed the impostor's "not flagged".
#  - the CLI refuses, before connecting, a data directory or socket that is
#    not its own, is a symbolic link, or that group or others can write
#    (exit 2, a message naming the path and the problem), and the impostor
#    (tests/integration/impostor.py, run as the other user) receives no
#    connection and no byte;
#  - a socket that passes those checks but whose listener runs as another
#    uid (SO_PEERCRED) is refused after connecting, before a byte is sent;
#  - agahd closes a client of another uid without an answer, creates its
#    socket 0600, and refuses to start on a data directory that is a link,
#    is another user's or that others can write.
# Needs root (to create the second user); otherwise exits 77 and says why.
# usage: test_cli_socket.sh [BUILD_DIR]
. "$(dirname "$0")/lib.sh"
lib_init cli_socket "${1:-}"

skip() {
    echo "test_cli_socket: SKIPPED: $*"
    exit 77
}
[ "$(id -u)" = 0 ] || skip "needs root to create a second user (uid $(id -u))"
for c in useradd userdel runuser; do
    command -v "$c" >/dev/null || skip "needs $c"
done

OTHER=agahsk$$
IMPOSTORS=()
# The shared directory sits beside $ROOT (same file system, so a socket
# can be moved between them) and is world-writable with the sticky bit,
# like /tmp.
SHARED=$(mktemp -d "$(dirname "$ROOT")/agah-shared.XXXXXX")
chmod 1777 "$SHARED"

cleanup_other() {
    local p
    # By pid, written by each impostor itself (runuser would not pass on
    # a signal to it).
    for p in "${IMPOSTORS[@]}"; do
        kill "$(cat "$p" 2>/dev/null)" 2>/dev/null
    done
    wait
    userdel "$OTHER" 2>/dev/null
    rm -rf "$SHARED"
}
trap 'cleanup_other; stop_all; lib_cleanup' EXIT
trap 'cleanup_other; stop_all; lib_cleanup; trap - EXIT; exit 130' INT
trap 'cleanup_other; stop_all; lib_cleanup; trap - EXIT; exit 143' TERM

useradd -M -r -s /usr/sbin/nologin "$OTHER" || skip "useradd $OTHER failed"
OTHER_UID=$(id -u "$OTHER")
# The impostor runs as the other user, who cannot read the source tree.
install -m 644 "$AGAH_SRC/tests/integration/impostor.py" "$SHARED/impostor.py"

as_other() { runuser -u "$OTHER" -- "$@"; }

# impostor_start SOCKET OUT: the other user's listener at SOCKET, recording
# into OUT.conns and OUT.bytes; waits until it listens.
impostor_start() {
    local i
    as_other python3 "$SHARED/impostor.py" "$1" "$2" "$2.ready" >"$ROOT/impostor.log" 2>&1 &
    IMPOSTORS+=("$2.ready")
    for i in $(seq 1 100); do
        [ -s "$2.ready" ] && return 0
        sleep 0.1
    done
    echo "impostor at $1 did not start" >&2
    return 1
}

# run_dir DIR ARGS...: agah on DIR; keeps $OUT, $ERR and $RC.
run_dir() {
    local dir=$1
    shift
    OUT=$(timeout 30 "$AGAH" --data "$dir" "$@" 2>"$ROOT/.err" </dev/null)
    RC=$?
    ERR=$(cat "$ROOT/.err")
}

# expect_refused DESC SUBSTRING...: the last run exited 2 and its stderr
# holds every SUBSTRING.
expect_refused() {
    local desc=$1 s
    shift
    if [ "$RC" != 2 ]; then
        fail "$desc" "exit $RC, expected 2" "stdout: ${OUT:0:300}" "stderr: ${ERR:0:300}"
        return 0
    fi
    for s in "$@"; do
        if [[ $ERR != *"$s"* ]]; then
            fail "$desc" "stderr lacks '$s'" "stderr: ${ERR:0:400}"
            return 0
        fi
    done
    pass "$desc"
}

# impostor_heard DESC OUT CONNS: the impostor saw CONNS connections and
# received no byte at all.
impostor_heard() {
    local conns bytes
    conns=$(wc -l <"$2.conns")
    bytes=$(wc -c <"$2.bytes")
    if [ "$conns" = "$3" ] && [ "$bytes" = 0 ]; then
        pass "$1"
    else
        fail "$1" "connections $conns (want $3), bytes received $bytes (want 0)"
    fi
}

NUM=+85251234567

# --- 1. the attack: another user's directory and listener ------------------
as_other mkdir -m 700 "$SHARED/imp"
as_other mkdir -m 777 "$SHARED/agah"
impostor_start "$SHARED/agah/agahd.sock" "$SHARED/imp/a" || exit 1
run_dir "$SHARED/agah" check "$NUM"
expect_refused "check refuses another user's data directory in a shared path" \
    "refusing the data directory $SHARED/agah" "belongs to another user (uid $OTHER_UID"
run_dir "$SHARED/agah" --json check "$NUM"
expect_refused "check --json refuses it too" "belongs to another user"
OUT=$(printf '%s\n' "$NUM" | timeout 30 "$AGAH" --data "$SHARED/agah" check - 2>"$ROOT/.err")
RC=$? ERR=$(cat "$ROOT/.err")
expect_refused "check - (from stdin) refuses it too" "belongs to another user"
run_dir "$SHARED/agah" status
expect_refused "status refuses it too" "belongs to another user"
impostor_heard "the impostor got no connection and no byte" "$SHARED/imp/a" 0
[ -z "$OUT" ] && pass "nothing printed on stdout (no 'not flagged')" ||
    fail "nothing printed on stdout" "stdout: $OUT"

# --- 2. our own directory, but a symlinked socket or directory ------------
M=$(node_dir m)
node_init m || exit 1
as_other mkdir -m 755 "$SHARED/b"
impostor_start "$SHARED/b/agahd.sock" "$SHARED/imp/b" || exit 1
ln -s "$SHARED/b/agahd.sock" "$M/agahd.sock"
run_dir "$M" check "$NUM"
expect_refused "a symbolic link as the socket is refused" \
    "refusing the control socket $M/agahd.sock" "symbolic link"
rm -f "$M/agahd.sock"
ln -s "$M" "$ROOT/mlink"
run_dir "$ROOT/mlink" check "$NUM"
expect_refused "a symbolic link as the data directory is refused" \
    "refusing the data directory $ROOT/mlink" "symbolic link"
run_dir "$ROOT/mlink/" check "$NUM"
expect_refused "... also written with a trailing slash" "symbolic link"
impostor_heard "the impostor behind the link got nothing" "$SHARED/imp/b" 0

# --- 3. our own directory, writable by group or others --------------------
for mode in 770 707 777; do
    chmod "$mode" "$M"
    run_dir "$M" check "$NUM"
    expect_refused "a data directory of mode $mode is refused" \
        "refusing the data directory $M" "group or others can write" "chmod 700"
done
chmod 700 "$M"

# --- 4. a socket of another user, moved into our directory -----------------
as_other mkdir -m 755 "$SHARED/c"
impostor_start "$SHARED/c/agahd.sock" "$SHARED/imp/c" || exit 1
mv "$SHARED/c/agahd.sock" "$M/agahd.sock"
run_dir "$M" check "$NUM"
expect_refused "a socket owned by another user is refused" \
    "refusing the control socket $M/agahd.sock" "belongs to another user"
chown root "$M/agahd.sock"
chmod 666 "$M/agahd.sock"
run_dir "$M" check "$NUM"
expect_refused "a socket others can write is refused" \
    "refusing the control socket $M/agahd.sock" "group or others can write"
impostor_heard "until here the impostor got nothing" "$SHARED/imp/c" 0
# Now the file passes every check, but the listener is still the other
# user's: SO_PEERCRED tells, before the query is sent.
chmod 600 "$M/agahd.sock"
run_dir "$M" check "$NUM"
expect_refused "a listener of another uid is refused (SO_PEERCRED)" \
    "refusing the control socket $M/agahd.sock" "runs as uid $OTHER_UID, not as uid 0"
impostor_heard "the impostor accepted one connection and got no byte" "$SHARED/imp/c" 1
rm -f "$M/agahd.sock"

# --- 5. the daemon ----------------------------------------------------------
D=$(node_dir d)
node_init d && community_found d || exit 1
start_daemon d none || exit 1
run_dir "$D" status
[ "$RC" = 0 ] && pass "our own agahd still answers" || fail "our own agahd answers" "exit $RC: $ERR"
mode=$(stat -c %a "$D/agahd.sock")
[ "$mode" = 600 ] && pass "the socket is created 0600" || fail "the socket is created 0600" "mode $mode"
# Let the other user reach the socket (as a mode loosened by hand would):
# the daemon must still close it without an answer.
chmod 711 "$ROOT" "$D"
chmod 666 "$D/agahd.sock"
got=$(as_other python3 - "$D/agahd.sock" <<'EOF'
import socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
s.connect(sys.argv[1])
body = b"\x82\xa1v\x01\xa3cmd\xa6status"
try:
    s.sendall(struct.pack(">I", len(body)) + body)
except OSError:
    pass
n = 0
try:
    while True:
        b = s.recv(65536)
        if not b:
            break
        n += len(b)
except socket.timeout:
    print("open")
    sys.exit(0)
except OSError:
    pass
print("closed", n)
EOF
)
[ "$got" = "closed 0" ] && pass "agahd closes a client of another uid without a byte" ||
    fail "agahd closes a client of another uid without a byte" "client saw: $got"
grep -q "control: refused a client: the other end runs as uid $OTHER_UID" "$ROOT/d.log" &&
    pass "agahd logs the refusal at debug" || fail "agahd logs the refusal" "$(tail -n 5 "$ROOT/d.log")"
chmod 600 "$D/agahd.sock"
run_dir "$D" status
[ "$RC" = 0 ] && pass "and still answers its own user" || fail "still answers its own user" "exit $RC: $ERR"
chmod 700 "$ROOT" "$D"
stop_daemon d

# agahd_refuses DESC DIR SUBSTRING
agahd_refuses() {
    local out rc
    out=$(timeout 30 setsid -w "$AGAHD" --data "$2" --listen none </dev/null 2>&1)
    rc=$?
    if [ "$rc" = 2 ] && [[ $out == *"$3"* ]]; then
        pass "$1"
    else
        fail "$1" "exit $rc (want 2)" "output: ${out:0:400}"
    fi
}
chmod 770 "$D"
agahd_refuses "agahd refuses a data directory group can write" "$D" "group or others can write"
chmod 700 "$D"
ln -s "$D" "$ROOT/dlink"
agahd_refuses "agahd refuses a symbolic link as its data directory" "$ROOT/dlink" "symbolic link"
chown "$OTHER" "$D"
agahd_refuses "agahd refuses another user's data directory" "$D" "belongs to another user"
chown root "$D"

finish

#!/usr/bin/env bash
# Issue 23, what a running agah gives away to a crash or to another process:
# mounts each attack on a real agahd and agah and fails naming it while it
# succeeds.
#  - the passphrase in /proc/PID/environ of a daemon started with
#    AGAH_PASSPHRASE (and of a long-running `agah watch`);
#  - a core file left by a crash (kill -SEGV under `ulimit -c unlimited`),
#    when the machine's core_pattern is a plain file name we can look for;
#    otherwise (a pipe to a system handler, which we do not change) only
#    what /proc/PID/limits says: "Max core file size 0";
#  - a passphrase file that group or others can read: refused, exit 2.
# usage: test_proc_secrets.sh BUILD_DIR
. "$(dirname "$0")/lib.sh"
lib_init proc_secrets "${1:-}"

PASS_SECRET="proc-secret-7f3a9c1e"

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
# terminal; sets OUT, ERR, RC.
agahd_run() {
    OUT=$(timeout 30 setsid -w "$AGAHD" "$@" </dev/null 2>"$ROOT/.err")
    RC=$?
    ERR=$(cat "$ROOT/.err")
}

# start_with NAME ARGS...: agahd on NAME's directory, registered so the trap
# stops it; waits until it answers.
start_with() {
    local name=$1
    shift
    "$AGAHD" --data "$(node_dir "$name")" --log-level debug "$@" >>"$ROOT/$name.log" 2>&1 &
    DAEMON_PIDS+=($!)
    DAEMON_NAMES+=("$name")
    wait_sock "$name"
}

# leaks_env PID: the passphrase can be read from PID's environment. When
# the file cannot be read at all (not root: the process is not dumpable, so
# /proc/PID/environ belongs to root), nothing leaks either.
leaks_env() {
    local env
    env=$(tr '\0' '\n' <"/proc/$1/environ" 2>/dev/null) || return 1
    [[ $env == *"$PASS_SECRET"* ]]
}

# core_limit_zero PID: /proc/PID/limits says no core file may be written.
core_limit_zero() {
    grep -Eq '^Max core file size +0 +0 +bytes' "/proc/$1/limits"
}

# raise_core_limit: `ulimit -c unlimited`, or as high as a non-root shell
# may go.
raise_core_limit() {
    ulimit -c unlimited 2>/dev/null || ulimit -c "$(ulimit -H -c)"
}

# --- setup: an identity and a community under a passphrase --------------------
if ! AGAH_PASSPHRASE=$PASS_SECRET agah_on locked init --name locked >/dev/null 2>"$ROOT/.err" ||
    ! AGAH_PASSPHRASE=$PASS_SECRET agah_on locked community create L >/dev/null 2>>"$ROOT/.err"; then
    fail "setup: an identity with a passphrase" "$(cat "$ROOT/.err")"
    finish
fi

# --- the passphrase in /proc/PID/environ -------------------------------------
# The attack: another process of the user (or anyone who later seizes a
# running machine) reads the daemon's environment for its whole life.
if AGAH_PASSPHRASE=$PASS_SECRET start_with locked --listen none; then
    pid=$(daemon_pid locked)
    if leaks_env "$pid"; then
        fail "agahd started with AGAH_PASSPHRASE: the passphrase is in /proc/$pid/environ"
    else
        pass "agahd started with AGAH_PASSPHRASE: the passphrase is not in /proc/PID/environ"
    fi
    check "agahd: /proc/PID/limits shows Max core file size 0" core_limit_zero "$pid"

    # A long-running CLI: `agah watch` holds every alert it prints.
    AGAH_PASSPHRASE=$PASS_SECRET "$AGAH" --data "$(node_dir locked)" watch \
        >"$ROOT/watch.out" 2>"$ROOT/watch.err" &
    wpid=$!
    # Ready once it has connected: its socket shows in the daemon's log, but
    # simply waiting until it has run past main()'s start is enough here.
    wait_until 10 grep -q . "/proc/$wpid/limits"
    sleep 0.5
    if ! running "$wpid"; then
        fail "agah watch keeps running" "$(cat "$ROOT/watch.err")"
    else
        if leaks_env "$wpid"; then
            fail "agah watch started with AGAH_PASSPHRASE: the passphrase is in /proc/$wpid/environ"
        else
            pass "agah watch started with AGAH_PASSPHRASE: the passphrase is not in /proc/PID/environ"
        fi
        check "agah watch: /proc/PID/limits shows Max core file size 0" core_limit_zero "$wpid"
    fi
    kill -TERM "$wpid" 2>/dev/null
    wait "$wpid" 2>/dev/null
    stop_daemon locked
    check "agahd with AGAH_PASSPHRASE stops with exit 0" test $? -eq 0
else
    fail "agahd starts with AGAH_PASSPHRASE" "$(tail -5 "$ROOT/locked.log")"
fi

# --- a core file after a crash ----------------------------------------------
# The attack: a crash (or a SIGSEGV the attacker sends) writes a core holding
# every note, target, the last query and the passphrase. We only look for a
# core when the kernel's core_pattern is a plain file name, written into the
# crashing process's working directory; a pipe to a system handler
# (systemd-coredump, apport) is the machine's, and this test leaves it alone.
pattern=$(cat /proc/sys/kernel/core_pattern 2>/dev/null || true)
if [ -n "$pattern" ] && [[ $pattern != "|"* && $pattern != */* ]]; then
    mkdir -m 700 "$ROOT/crash"
    (cd "$ROOT/crash" && raise_core_limit &&
        exec env AGAH_PASSPHRASE=$PASS_SECRET "$AGAHD" --data "$(node_dir locked)" --listen none \
            >>"$ROOT/crash.log" 2>&1) &
    DAEMON_PIDS+=($!)
    DAEMON_NAMES+=(locked)
    if wait_sock locked; then
        pid=$(daemon_pid locked)
        check "agahd under ulimit -c unlimited: Max core file size 0" core_limit_zero "$pid"
        kill -SEGV "$pid"
        wait "$pid" 2>/dev/null
        rc=$?
        # Under ASan its SEGV handler reports and exits 1 instead.
        check "agahd stopped by SIGSEGV (exit $rc)" test "$rc" -ne 0
        cores=$(find "$ROOT/crash" -maxdepth 1 -name 'core*' | head -3)
        if [ -n "$cores" ]; then
            fail "agahd crashed under ulimit -c unlimited: it left a core file" "$cores"
        else
            pass "agahd crashed under ulimit -c unlimited: no core file (core_pattern '$pattern')"
        fi
        stop_daemon locked
    else
        fail "agahd starts under ulimit -c unlimited" "$(tail -5 "$ROOT/crash.log")"
    fi

    # The CLI the same way, while it waits in `watch`.
    AGAH_PASSPHRASE=$PASS_SECRET start_with locked --listen none
    mkdir -m 700 "$ROOT/crash-cli"
    (cd "$ROOT/crash-cli" && raise_core_limit &&
        exec "$AGAH" --data "$(node_dir locked)" watch >/dev/null 2>"$ROOT/crash-cli.err") &
    wpid=$!
    sleep 1
    if running "$wpid"; then
        check "agah watch under ulimit -c unlimited: Max core file size 0" core_limit_zero "$wpid"
        kill -SEGV "$wpid"
        wait "$wpid" 2>/dev/null
        cores=$(find "$ROOT/crash-cli" -maxdepth 1 -name 'core*' | head -3)
        if [ -n "$cores" ]; then
            fail "agah watch crashed under ulimit -c unlimited: it left a core file" "$cores"
        else
            pass "agah watch crashed under ulimit -c unlimited: no core file"
        fi
    else
        fail "agah watch keeps running" "$(cat "$ROOT/crash-cli.err")"
    fi
    stop_daemon locked
else
    echo "note: core_pattern is '$pattern' (a pipe or a path): no crash is staged," \
        "only /proc/PID/limits is checked above"
fi

# --- a passphrase file others can read ---------------------------------------
# The attack: any local account reads a world-readable passphrase file.
printf '%s\n' "$PASS_SECRET" >"$ROOT/passfile"
chmod 644 "$ROOT/passfile"
agahd_run --data "$(node_dir locked)" --listen none --passphrase-file "$ROOT/passfile"
if [ "$RC" = 2 ] && [[ $ERR == *"$ROOT/passfile"* && $ERR == *"group or others"* ]]; then
    pass "agahd --passphrase-file of mode 0644: exit 2 naming the file"
else
    fail "agahd --passphrase-file of mode 0644: exit 2 naming the file" "exit $RC; ${ERR:0:300}"
fi
OUT=$(timeout 60 "$AGAH" --data "$ROOT/newid" --passphrase-file "$ROOT/passfile" init \
    2>"$ROOT/.err"); RC=$?; ERR=$(cat "$ROOT/.err")
if [ "$RC" = 2 ] && [[ $ERR == *"$ROOT/passfile"* && $ERR == *"group or others"* ]] &&
    [ ! -e "$ROOT/newid/identity.key" ]; then
    pass "agah --passphrase-file of mode 0644: exit 2 naming the file, no identity written"
else
    fail "agah --passphrase-file of mode 0644: exit 2 naming the file" "exit $RC; ${ERR:0:300}"
fi
chmod 600 "$ROOT/passfile"
if start_with locked --listen none --passphrase-file "$ROOT/passfile"; then
    pass "agahd --passphrase-file of mode 0600: starts"
    stop_daemon locked
else
    fail "agahd --passphrase-file of mode 0600: starts" "$(tail -5 "$ROOT/locked.log")"
fi
OUT=$(timeout 60 "$AGAH" --data "$ROOT/newid" --passphrase-file "$ROOT/passfile" init \
    2>"$ROOT/.err"); RC=$?; ERR=$(cat "$ROOT/.err")
if [ "$RC" = 0 ] && [ -e "$ROOT/newid/identity.key" ]; then
    pass "agah --passphrase-file of mode 0600: init succeeds"
else
    fail "agah --passphrase-file of mode 0600: init succeeds" "exit $RC; ${ERR:0:300}"
fi

finish

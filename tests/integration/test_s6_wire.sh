#!/usr/bin/env bash
# S6 on the wire: `agah check` sends nothing to peers. Peer links are
# encrypted, so a capture cannot grep for the number; instead strace
# watches node m's system calls while it has live links to a and b and
# answers a few hundred checks (flagged and not, human, --json and a stdin
# batch). The trace must show:
#  1. between reading each control request and writing its answer, agahd
#     writes to no other file descriptor (no peer socket, no file, no log);
#     the number of answers is the number of queries asked;
#  2. every write to a peer socket during the checks is explained without
#     them: a reply to something that peer sent in the same event-loop turn,
#     a keepalive PING (a 22-byte frame, at most one per link per 30 s), or
#     the periodic reconciliation, in a turn that logged its start;
# and, after the daemons stop, no queried number (as typed, E.164, or its
# digits) is in any file under any node's data directory or in any log.
# usage: test_s6_wire.sh [BUILD_DIR]
. "$(dirname "$0")/lib.sh"
lib_init test_s6_wire "${1:-}"
. "$(dirname "$0")/net_lib.sh"

command -v strace >/dev/null || { fail "strace is installed (apt-get install strace)"; finish; }
# agahd is not dumpable (issue 23), so only root may attach strace to it and
# list its /proc/PID/fd.
if [ "$(id -u)" != 0 ]; then
    echo "skipped: needs root to trace agahd, which is not dumpable (PR_SET_DUMPABLE 0)"
    exit 77
fi

community a b m || { fail "set up a community of three"; finish; }
start_daemon b "$PORT_b" "$PORT_a" || { fail "b starts"; finish; }

start_daemon m "$PORT_m" "$PORT_a" "$PORT_b" || { fail "m starts"; finish; }
STRACE_PID=""
trap '[ -n "$STRACE_PID" ] && kill -TERM "$STRACE_PID" 2>/dev/null; stop_all; lib_cleanup' EXIT
trap '[ -n "$STRACE_PID" ] && kill -TERM "$STRACE_PID" 2>/dev/null; stop_all; lib_cleanup; trap - EXIT; exit 130' INT
trap '[ -n "$STRACE_PID" ] && kill -TERM "$STRACE_PID" 2>/dev/null; stop_all; lib_cleanup; trap - EXIT; exit 143' TERM
TRACE=$ROOT/m.trace
CALLS=read,readv,recvfrom,recvmsg,write,writev,sendto,sendmsg,sendmmsg,pwrite64,pwritev,pwritev2,epoll_wait,epoll_pwait

# Flagged numbers: five posted on a (they reach m by gossip), five on m.
flagged=()
for i in 0 1 2 3 4; do
    flagged+=("+852 5124 400$i")
    agah_on a post number "+852 5124 400$i" --note "s6 flagged a$i" >/dev/null 2>&1 ||
        fail "post +852 5124 400$i on a"
    flagged+=("+852 5124 401$i")
    agah_on m post number "+852 5124 401$i" --note "s6 flagged m$i" >/dev/null 2>&1 ||
        fail "post +852 5124 401$i on m"
done
if wait_until 60 same_sets 10 a b m && wait_until 30 test "$(connected m)" -ge 2; then
    pass "m is linked to a and b and holds the 10 flagged numbers"
else
    fail "m is linked to a and b and holds the 10 flagged numbers" \
        "a=$(count a) b=$(count b) m=$(count m) links=$(connected m)"
fi
# m is traced from here on: strace attaches to the running agahd (-f:
# libuv's pool threads too), -yy names every descriptor (TCP endpoints, the
# control socket's path, file paths), -s 200 keeps whole log lines. strace
# is detached after the checks; the trap stops it too. ptrace refused (some
# containers) is a failure, never a pass.
strace -f -ttt -yy -qq -s 200 -o "$TRACE" -e trace="$CALLS" -p "$(daemon_pid m)" 2>"$ROOT/strace.err" &
STRACE_PID=$!
# The loop wakes every 200 ms at least (its flush timer): an epoll_wait in
# the trace shows strace is attached.
if ! wait_until 30 grep -q epoll_wait "$TRACE"; then
    fail "strace attaches to agahd m" "$(cat "$ROOT/strace.err")"
    finish
fi
# The window must start quiet: wait until the post traffic (IHAVE batching,
# grafts, the links' first reconciliations) is over and m has written
# nothing to a peer for 2 s.
peers_quiet() {
    local last
    last=$(grep -E '^[0-9]+ +[0-9.]+ (write|writev|sendmsg|sendto)\([0-9]+<TCP' "$TRACE" |
        tail -n 1 | awk '{print $2}')
    [ -n "$last" ] || last=$(head -n 1 "$TRACE" | awk '{print $2}')
    python3 -c 'import sys, time; sys.exit(0 if time.time() - float(sys.argv[1]) > 2 else 1)' "$last"
}
wait_until 30 peers_quiet || fail "m's links fall quiet after the posts"

# live_links PID: how many established TCP connections PID holds (its
# descriptors' socket inodes, looked up in /proc/net/tcp*): m's peer links.
live_links() {
    python3 - "$1" <<'EOF'
import os, sys
fd_dir = "/proc/%s/fd" % sys.argv[1]
inodes = set()
for fd in os.listdir(fd_dir):
    try:
        t = os.readlink(os.path.join(fd_dir, fd))
    except OSError:
        continue
    if t.startswith("socket:["):
        inodes.add(t[8:-1])
n = 0
for f in ("/proc/net/tcp", "/proc/net/tcp6"):
    for line in open(f).readlines()[1:]:
        c = line.split()
        if c[3] == "01" and c[9] in inodes:  # ESTABLISHED
            n += 1
print(n)
EOF
}
links_before=$(live_links "$(daemon_pid m)")

# --- the window: only checks on m ---
not_flagged=()
for i in $(seq 100 299); do not_flagged+=("+852 5123 4$i"); done
start=$(date +%s.%N)
asked=0 wrong=0
for i in $(seq 0 99); do
    q=${not_flagged[$i]}
    [ $((i % 10)) = 0 ] && q=${flagged[$((i / 10))]}
    if [ $((i % 2)) = 0 ]; then
        agah_on m check "$q" >/dev/null 2>&1
        rc=$?
    else
        agah_on m --json check "$q" >/dev/null 2>&1
        rc=$?
    fi
    asked=$((asked + 1))
    if [ $((i % 10)) = 0 ]; then [ $rc = 0 ] || wrong=$((wrong + 1)); else [ $rc = 1 ] || wrong=$((wrong + 1)); fi
done
batch=$(printf '%s\n' "${not_flagged[@]:100:100}" "${flagged[@]}")
OUT=$(printf '%s\n' "$batch" | agah_on m check 2>/dev/null)
rc=$?
asked=$((asked + 110))
end=$(date +%s.%N)
links_after=$(live_links "$(daemon_pid m)")
if [ "${links_before:-0}" -ge 2 ] && [ "${links_after:-0}" -ge 2 ]; then
    pass "m holds live TCP links to its peers throughout ($links_before before, $links_after after)"
else
    fail "m holds live TCP links to its peers throughout" "$links_before before, $links_after after"
fi
n_flag=$(printf '%s\n' "$OUT" | grep -c "FLAGGED")
n_not=$(printf '%s\n' "$OUT" | grep -c "not flagged")
if [ "$wrong" = 0 ] && [ "$rc" = 0 ] && [ "$n_flag" = 10 ] && [ "$n_not" = 100 ]; then
    pass "m answers $asked checks right (single, --json, a batch of 110)"
else
    fail "m answers $asked checks right" "$wrong single answers wrong; batch rc=$rc flagged=$n_flag not=$n_not"
fi

# Detach strace first (SIGINT: it writes out the trace and lets go), since
# LeakSanitizer refuses to run its exit check in a traced process and the
# ASan build's agahd would then fail to stop cleanly. Then stop every daemon
# before reading the files, so SQLite has checkpointed.
kill -INT "$STRACE_PID" 2>/dev/null
wait "$STRACE_PID" 2>/dev/null
STRACE_PID=""
bad=""
for n in m b a; do
    stop_daemon "$n" || bad="$bad $n"
done
[ -z "$bad" ] && pass "every daemon stops with exit 0" || fail "every daemon stops with exit 0" "not:$bad"

WHY=$(python3 - "$TRACE" "$start" "$end" "$asked" <<'EOF'
import re, sys
trace, start, end, asked = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
WRITES = {"write", "writev", "sendto", "sendmsg", "sendmmsg", "pwrite64", "pwritev", "pwritev2"}
READS = {"read", "readv", "recvfrom", "recvmsg"}
line_re = re.compile(r"^(\d+)\s+(\d+\.\d+)\s+(.*)$")
call_re = re.compile(r"^(\w+)\((\d+)<(.*?)>(?:, |\))")
pending, events, main = {}, [], None
for raw in open(trace, errors="replace"):
    m = line_re.match(raw.rstrip("\n"))
    if not m:
        continue
    pid, ts, rest = int(m.group(1)), float(m.group(2)), m.group(3)
    if main is None:
        main = pid
    if rest.endswith("<unfinished ...>"):
        pending[pid] = (ts, rest[: -len("<unfinished ...>")])
        continue
    r = re.match(r"^<\.\.\. (\w+) resumed>(.*)$", rest)
    if r:
        ts, head = pending.pop(pid, (ts, r.group(1) + "("))
        rest = head + r.group(2)
    c = call_re.match(rest)
    if not c:
        continue
    ret = rest.rsplit(" = ", 1)
    try:
        ret = int(ret[1].split()[0]) if len(ret) == 2 else -1
    except ValueError:
        ret = -1
    events.append((ts, pid, c.group(1), int(c.group(2)), c.group(3), ret, rest))
events.sort(key=lambda e: e[0])
def kind(ann):
    if ann.startswith("UNIX-STREAM:") and "agahd.sock" in ann:
        return "ctl"
    if ann.startswith("TCP:") or ann.startswith("TCPv6:"):
        return "peer"
    if ann == "anon_inode:[eventfd]":
        return "wake"
    return "other"
problems = []
win = [e for e in events if start <= e[0] <= end]
peers_seen = {e[4] for e in events if kind(e[4]) == "peer"}
# 1. Between a request read and its answer: no write elsewhere. A libuv
# thread-pool wake-up (eventfd, the constant 1) carries no data.
open_req, answers = None, 0
for ts, pid, name, fd, ann, ret, text in win:
    k = kind(ann)
    if name in READS and k == "ctl" and ret > 0 and pid == main:
        if open_req is None:
            open_req = ann
    elif name in WRITES and k == "ctl" and ret > 0:
        if open_req == ann:
            answers += 1
            open_req = None
    elif name in WRITES and open_req is not None:
        if k == "wake" and '"\\1\\0\\0\\0\\0\\0\\0\\0", 8' in text:
            continue
        problems.append("while a check was open, a write to another descriptor: " + text[:160])
if answers != asked:
    problems.append("%d answers in the trace for %d checks asked" % (answers, asked))
# 2. Every write to a peer socket in the window, explained. Turns of the
# loop are delimited by the main thread's epoll_wait.
secs = end - start
ping_max = int(secs // 30) + 1
pings, recons, turn_reads, turn_recon = {}, 0, set(), False
for ts, pid, name, fd, ann, ret, text in win:
    k = kind(ann)
    if name.startswith("epoll") and pid == main:
        turn_reads, turn_recon = set(), False
        continue
    if name == "write" and fd == 2 and "reconciliation started" in text:
        turn_recon = True
        recons += 1
    if name in READS and k == "peer" and ret > 0:
        turn_reads.add(ann)
    if name in WRITES and k == "peer":
        if ann in turn_reads or turn_recon:
            continue
        if ret == 22:
            pings[ann] = pings.get(ann, 0) + 1
            if pings[ann] > ping_max:
                problems.append("more than %d PING-sized writes to %s in %.1f s" % (ping_max, ann, secs))
            continue
        problems.append("an unexplained write to a peer: " + text[:160])
if recons > int(secs // 60) + 1:
    problems.append("%d reconciliations started in %.1f s" % (recons, secs))
print("; ".join(problems[:3]) if problems else
      "%d answers in %.1f s; %d peer sockets written to, %d pings, %d reconciliations" %
      (answers, secs, len(peers_seen), sum(pings.values()), recons))
sys.exit(1 if problems else 0)
EOF
)
if [ $? = 0 ]; then
    pass "the trace: each check is answered with no other write, peers see only pings and replies ($WHY)"
else
    fail "the trace: each check is answered with no other write, peers see only pings and replies" "$WHY"
fi

# 3. No queried number in any file the nodes wrote (data directories and
# logs), in any of its forms. The trace itself holds the requests: not searched.
forms=$ROOT/forms
for q in "${flagged[@]}" "${not_flagged[@]}"; do
    e164=$(printf '%s' "$q" | tr -d ' ')
    printf '%s\n%s\n%s\n' "$q" "$e164" "${e164#+}"
done >"$forms"
leaks=$(python3 - "$forms" "$(node_dir a)" "$(node_dir b)" "$(node_dir m)" \
    "$ROOT/a.log" "$ROOT/b.log" "$ROOT/m.log" <<'EOF'
import os, sys
forms = [l.encode() for l in open(sys.argv[1]).read().split("\n") if l]
files = []
for p in sys.argv[2:]:
    if os.path.isdir(p):
        files += [os.path.join(d, f) for d, _, fs in os.walk(p) for f in fs]
    else:
        files.append(p)
hits = []
for f in files:
    try:
        data = open(f, "rb").read()
    except OSError:  # the control socket
        continue
    hits += ["%s in %s" % (x.decode(), os.path.basename(f)) for x in forms if x in data]
print("; ".join(hits[:10]))
EOF
)
n_files=$(find "$(node_dir a)" "$(node_dir b)" "$(node_dir m)" -type f | wc -l)
if [ -z "$leaks" ] && [ "$n_files" -ge 9 ]; then
    pass "no queried number in any of the $n_files files under the data directories, nor in the logs"
else
    fail "no queried number in any file under the data directories, nor in the logs" "${leaks:0:400} (files: $n_files)"
fi
finish

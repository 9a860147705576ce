#!/usr/bin/env bash
# What an outsider gets from an agahd port: nothing. Random bytes, the
# msgpack bomb `dd ff ff ff ff`, a 1 MiB blob, an HTTP request, silence, a
# flood of connections and a node of another community all receive zero
# bytes and are dropped, and the community's own link keeps working.
# usage: test_net_hostile.sh [BUILD_DIR]
. "$(dirname "$0")/lib.sh"
lib_init test_net_hostile "${1:-}"
. "$(dirname "$0")/net_lib.sh"
community a b || { fail "set up a community of two"; finish; }
start_daemon b "$PORT_b" "$PORT_a" || { fail "start b"; finish; }
if wait_until 20 links_are b 1; then
    pass "a and b are linked"
else
    fail "a and b are linked"
fi

# Every probe connects to a's port, sends its bytes, and reads until the
# daemon closes (or 20 s pass). Prints: NAME BYTES_RECEIVED CLOSED SECONDS.
probe() {
    python3 - "$1" <<'PY'
import os, socket, sys, threading, time
port = int(sys.argv[1])
probes = {
    "random72": os.urandom(72),  # a wrong M1 (handshake version 2: 72 bytes)
    "random64": os.urandom(64),  # as long as a version 1 M1, but no valid one
    "random7": os.urandom(7),
    "bomb": bytes.fromhex("ddffffffff"),
    "blob1MiB": os.urandom(1 << 20),
    "http": b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: probe\r\nAccept: */*\r\n\r\n",
    "silence": b"",
    "m1_then_more": os.urandom(72) + b"\x00" * 4096,
}
res = {}
def run(name, data):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.settimeout(20)
    t0 = time.time()
    got, closed = 0, 0
    try:
        s.sendall(data)
    except OSError:
        pass  # the daemon may close while we still send
    try:
        while True:
            b = s.recv(65536)
            if not b:
                closed = 1
                break
            got += len(b)
    except ConnectionResetError:
        closed = 1
    except socket.timeout:
        pass
    res[name] = (got, closed, time.time() - t0)
    s.close()
ts = [threading.Thread(target=run, args=(n, d)) for n, d in probes.items()]
for t in ts: t.start()
for t in ts: t.join()
# A flood: 100 connections at once, each sending garbage.
flood_bytes, flood_closed = 0, 0
socks = []
for i in range(100):
    try:
        c = socket.create_connection(("127.0.0.1", port), timeout=5)
        c.settimeout(15)
        c.sendall(os.urandom(72))
        socks.append(c)
    except OSError:
        flood_closed += 1
for c in socks:
    try:
        while True:
            b = c.recv(65536)
            if not b:
                break
            flood_bytes += len(b)
        flood_closed += 1
    except (ConnectionResetError, socket.timeout):
        flood_closed += 1
    c.close()
res["flood100"] = (flood_bytes, 1 if flood_closed == 100 else 0, 0.0)
for n, (g, c, t) in sorted(res.items()):
    print(n, g, c, "%.1f" % t)
PY
}
out=$(probe "$PORT_a")
echo "$out" | sed 's/^/      /'
for name in random72 random64 random7 bomb blob1MiB http silence m1_then_more flood100; do
    line=$(printf '%s\n' "$out" | grep "^$name ")
    got=$(echo "$line" | cut -d' ' -f2)
    closed=$(echo "$line" | cut -d' ' -f3)
    if [ -n "$line" ] && [ "$got" = 0 ] && [ "$closed" = 1 ]; then
        pass "$name: zero bytes back, connection closed"
    else
        fail "$name: zero bytes back, connection closed" "got: $line"
    fi
done
# A wrong MAC is refused at once; a short message waits out the 3 s M1 deadline
# (64 bytes too, unless they are a version 1 M1 under this community's secret).
secs=$(printf '%s\n' "$out" | grep '^random72 ' | cut -d' ' -f4)
if awk "BEGIN { exit !($secs < 3) }"; then
    pass "a wrong M1 is dropped at once (${secs} s)"
else
    fail "a wrong M1 is dropped at once" "${secs} s"
fi
secs=$(printf '%s\n' "$out" | grep '^silence ' | cut -d' ' -f4)
if awk "BEGIN { exit !($secs >= 2.5 && $secs < 6) }"; then
    pass "a silent connection is dropped at the 3 s M1 deadline (${secs} s)"
else
    fail "a silent connection is dropped at the 3 s M1 deadline" "${secs} s"
fi

# A node of another community dials a: the link never comes up.
node_init x && community_found x "Another community" || fail "set up another community"
PORT_x=$(free_port)
start_daemon x "$PORT_x" "$PORT_a" || fail "start x"
sleep 3
if [ "$(connected x)" = 0 ] && [ "$(connected a)" = 1 ]; then
    pass "another community's node gets no link (x: 0 peers, a: only b)"
else
    fail "another community's node gets no link" "x: $(connected x), a: $(connected a)"
fi
if ! grep -q "up (" "$ROOT/x.log"; then
    pass "x never completed a handshake"
else
    fail "x never completed a handshake" "$(grep "up (" "$ROOT/x.log")"
fi

# Nothing was harmed: the daemon runs and a post still spreads.
if kill -0 "$(daemon_pid a)" 2>/dev/null && [ "$(connected b)" = 1 ]; then
    pass "a is alive and still linked to b"
else
    fail "a is alive and still linked to b"
fi
id=$(post_alert a "after the probes")
if [ -n "$id" ] && wait_until 20 has b "$id"; then
    pass "a post on a still reaches b"
else
    fail "a post on a still reaches b"
fi
stop_all_ok a b x
finish

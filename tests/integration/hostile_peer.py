#!/usr/bin/env python3
"""Unauthenticated hostile peers for test_net_slow.sh (issue 7).

usage:
  hostile_peer.py proxy LISTEN_PORT TARGET_PORT CAPTURE_PREFIX
      forwards every connection to 127.0.0.1:TARGET_PORT and appends what
      the first one to carry data carried to PREFIX.c2s (client to server)
      and PREFIX.s2c; PREFIX.n holds how many connections it accepted
  hostile_peer.py replay PORT CAPTURE_PREFIX [M1_LEN]
      replays a captured client side: M1 (72 bytes, or M1_LEN) alone, then
      the rest; prints "m2=N fresh=0|1 more=N closed=0|1 secs=S"
  hostile_peer.py slowloris PORT N M1_FILE SECONDS
      N connections sending one byte a second (half random bytes, half a
      fresh valid M1 from M1_FILE, 72 bytes each as `peerctl m1` writes
      them, at once and then an M3 of 256 bytes byte by byte); prints
      "n=N closed=C min_random=S max_random=S min_m1=S max_m1=S
      bytes_random=B bytes_m1=B" (seconds until each kind was closed)
  hostile_peer.py send PORT FILE
      sends FILE's bytes and reads until closed (15 s at most); prints
      "got=N closed=0|1 secs=S"
  hostile_peer.py count PORT SECONDS
      listens on 127.0.0.1:PORT for SECONDS, closing every connection at
      once; prints "n=N" (how many connections were made to it)
  hostile_peer.py idle PORT N SECONDS
      N connections that send nothing, held up to SECONDS; prints
      "opened=O refused=R fast=F timed_out=T open=P bytes=B held=S" (held: the
      longest any was held open by the server, in seconds)
  hostile_peer.py siege PORT SECONDS SOURCE:N...
      keeps N silent connections open from each SOURCE address (127/8 ones
      are all local on Linux), opening a new one whenever the server closes
      one, at most 200 new connections a second in all; prints
      "opened=O closed=C refused=R bytes=B held=S" at the end
Every line is printed once, at the end; every wait is bounded.
"""
import os
import select
import socket
import sys
import threading
import time

M1_LEN = 72  # handshake version 2: e_c || time || MAC


def proxy(listen_port, target_port, prefix):
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", listen_port))
    srv.listen(16)
    owner = [None]
    lock = threading.Lock()

    def pump(src, dst, conn, path):
        try:
            while True:
                b = src.recv(65536)
                if not b:
                    break
                with lock:
                    if owner[0] is None and path.endswith(".c2s"):
                        owner[0] = conn
                    mine = owner[0] == conn
                if mine:
                    with open(path, "ab") as f:
                        f.write(b)
                dst.sendall(b)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    n = 0
    while True:
        c, _ = srv.accept()
        n += 1
        with open(prefix + ".n", "w") as f:  # connections accepted so far
            f.write("%d\n" % n)
        try:
            t = socket.create_connection(("127.0.0.1", target_port), timeout=5)
        except OSError:
            c.close()
            continue
        t.settimeout(None)
        threading.Thread(target=pump, args=(c, t, n, prefix + ".c2s"), daemon=True).start()
        threading.Thread(target=pump, args=(t, c, n, prefix + ".s2c"), daemon=True).start()


def read_until_close(s, secs):
    """Bytes received until the peer closes or secs pass; and whether it closed."""
    got, end = 0, time.time() + secs
    while time.time() < end:
        r, _, _ = select.select([s], [], [], max(0.0, end - time.time()))
        if not r:
            break
        try:
            b = s.recv(65536)
        except (ConnectionResetError, OSError):
            return got, 1
        if not b:
            return got, 1
        got += len(b)
    return got, 0


def replay(port, prefix, m1_len=M1_LEN):
    c2s = open(prefix + ".c2s", "rb").read()
    m2_orig = open(prefix + ".s2c", "rb").read()[:64]
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    t0 = time.time()
    s.sendall(c2s[:m1_len])
    m2 = b""
    end = time.time() + 5
    while len(m2) < 64 and time.time() < end:
        r, _, _ = select.select([s], [], [], 0.5)
        if r:
            b = s.recv(64 - len(m2))
            if not b:
                break
            m2 += b
    try:
        s.sendall(c2s[m1_len:])
    except OSError:
        pass
    more, closed = read_until_close(s, 15)
    print("m2=%d fresh=%d more=%d closed=%d secs=%.1f" %
          (len(m2), int(len(m2) == 64 and m2 != m2_orig), more, closed, time.time() - t0))


def count(port, secs):
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(16)
    n, end = 0, time.time() + secs
    while time.time() < end:
        r, _, _ = select.select([srv], [], [], max(0.0, end - time.time()))
        if r:
            c, _ = srv.accept()
            n += 1
            c.close()
    print("n=%d" % n, flush=True)


def send(port, path):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    t0 = time.time()
    s.sendall(open(path, "rb").read())
    got, closed = read_until_close(s, 15)
    print("got=%d closed=%d secs=%.1f" % (got, closed, time.time() - t0))


def slowloris(port, n, m1_file, secs):
    m1s = open(m1_file, "rb").read()
    # An M3 announcing 256 bytes, within bounds, so the server waits for it.
    m3 = b"\x00\x00\x01\x00" + bytes(256)
    res = []
    lock = threading.Lock()

    def one(i):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        if i % 2 == 0:
            data = os.urandom(256)
        else:  # a fresh valid M1 at once (it draws an M2), then M3 byte by byte
            k = i // 2
            s.sendall(m1s[k * M1_LEN:(k + 1) * M1_LEN])
            data = m3
        s.setblocking(False)
        t0, got, k, closed = time.time(), 0, 0, 0
        while time.time() - t0 < secs and not closed:
            try:
                s.send(data[k % len(data):k % len(data) + 1])
                k += 1
            except OSError:
                closed = 1
                break
            end = time.time() + 1.0
            while time.time() < end:
                r, _, _ = select.select([s], [], [], max(0.0, end - time.time()))
                if not r:
                    break
                try:
                    b = s.recv(65536)
                except OSError:
                    closed = 1
                    break
                if not b:
                    closed = 1
                    break
                got += len(b)
        with lock:
            res.append((i % 2, closed, time.time() - t0, got))
        s.close()

    ts = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    times = [[r[2] for r in res if r[1] and r[0] == c] for c in (0, 1)]
    print("n=%d closed=%d min_random=%.1f max_random=%.1f min_m1=%.1f max_m1=%.1f "
          "bytes_random=%d bytes_m1=%d" %
          (len(res), sum(r[1] for r in res),
           min(times[0]) if times[0] else -1, max(times[0]) if times[0] else -1,
           min(times[1]) if times[1] else -1, max(times[1]) if times[1] else -1,
           sum(r[3] for r in res if r[0] == 0), sum(r[3] for r in res if r[0] == 1)))


def idle(port, n, secs):
    socks, refused, t0 = [], 0, time.time()
    for _ in range(n):
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.setblocking(False)
            socks.append((s, time.time()))
        except OSError:
            refused += 1
    opened = len(socks)
    fast = timed_out = got = 0
    held = 0.0
    live = {s.fileno(): (s, t) for s, t in socks}
    poller = select.poll()
    for fd in live:
        poller.register(fd, select.POLLIN)
    end = t0 + secs
    while live and time.time() < end:
        for fd, _ in poller.poll(200):
            s, t = live[fd]
            try:
                b = s.recv(65536)
            except OSError:
                b = b""
            if b:
                got += len(b)
                continue
            dt = time.time() - t
            held = max(held, dt)
            if dt < 3:
                fast += 1
            elif dt >= 9:
                timed_out += 1
            poller.unregister(fd)
            del live[fd]
            s.close()
    print("opened=%d refused=%d fast=%d timed_out=%d open=%d bytes=%d held=%.1f" %
          (opened, refused, fast, timed_out, len(live), got, held), flush=True)
    for s, _ in live.values():
        s.close()


def siege(port, secs, specs):
    want = []  # (source address, connections to keep)
    for spec in specs:
        src, n = spec.rsplit(":", 1)
        want.extend([src] * int(n))
    live = {}  # fd -> (socket, source, opened at)
    poller = select.poll()
    opened = closed = refused = got = 0
    held = 0.0
    pending = list(want)  # sources owed a connection
    t0 = time.time()
    next_open = t0
    while time.time() - t0 < secs:
        now = time.time()
        while pending and now >= next_open:
            src = pending.pop(0)
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                s.bind((src, 0))
                s.settimeout(2)
                s.connect(("127.0.0.1", port))
                s.setblocking(False)
            except OSError:
                refused += 1
                s.close()
                pending.append(src)
                next_open = now + 0.005
                continue
            opened += 1
            live[s.fileno()] = (s, src, time.time())
            poller.register(s.fileno(), select.POLLIN)
            next_open = now + 0.005  # 200 a second at most
        for fd, _ in poller.poll(5):
            s, src, t = live[fd]
            try:
                b = s.recv(65536)
            except OSError:
                b = b""
            if b:
                got += len(b)
                continue
            held = max(held, time.time() - t)
            closed += 1
            poller.unregister(fd)
            del live[fd]
            s.close()
            pending.append(src)
    for s, _, _ in live.values():
        s.close()
    print("opened=%d closed=%d refused=%d bytes=%d held=%.1f" %
          (opened, closed, refused, got, held), flush=True)


def main():
    mode = sys.argv[1]
    if mode == "proxy":
        proxy(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
    elif mode == "replay":
        replay(int(sys.argv[2]), sys.argv[3],
               int(sys.argv[4]) if len(sys.argv) > 4 else M1_LEN)
    elif mode == "count":
        count(int(sys.argv[2]), float(sys.argv[3]))
    elif mode == "send":
        send(int(sys.argv[2]), sys.argv[3])
    elif mode == "slowloris":
        slowloris(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], float(sys.argv[5]))
    elif mode == "idle":
        idle(int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]))
    elif mode == "siege":
        siege(int(sys.argv[2]), float(sys.argv[3]), sys.argv[4:])
    else:
        sys.exit(2)


if __name__ == "__main__":
    main()

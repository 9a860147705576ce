#!/usr/bin/env python3
"""Raw clients for agahd's control socket, used by test_daemon.sh.

Speaks the framing of proto/PROTOCOL.md ("Control socket") through the
shared tests/agahctl.py (msgpack codec and framing, no third-party module),
so the tests can send exactly the bytes they mean: well-formed requests,
garbage, lying length prefixes. Each mode prints one line and exits 0 when the daemon behaved as
the protocol says, 1 otherwise.

usage: ctlclient.py SOCKET MODE [ARG]
"""
import os
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import agahctl  # noqa: E402
from agahctl import frame, pack, read_exact, recv, request, unpack_from  # noqa: E402

TIMEOUT = 10.0


def connect(path):
    return agahctl.connect(path, TIMEOUT)


def closed(s):
    """True if the daemon closes the connection (EOF or reset) in time."""
    try:
        return s.recv(1) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def is_error(r, code=2):
    return (isinstance(r, dict) and r.get("v") == 1 and r.get("ok") is False
            and r.get("exit") == code and isinstance(r.get("error"), str) and r["error"] != "")


STATUS_KEYS = {"member_id", "community_id", "role", "peers", "alerts", "epoch", "unreadable"}


def is_status(r):
    return (isinstance(r, dict) and r.get("ok") is True and isinstance(r.get("result"), dict)
            and set(r["result"]) == STATUS_KEYS)


def status_req():
    return frame(request("status"))


# --- modes --------------------------------------------------------------

def m_status(path):
    s = connect(path)
    s.sendall(status_req())
    r = recv(s)
    return is_status(r), repr(r)


def m_garbage(path):
    """Random bytes: the daemon answers with an error or just closes."""
    s = connect(path)
    try:
        s.sendall(os.urandom(8192))
        # The random length prefix may promise more than we sent: end our
        # side so the daemon sees EOF rather than waiting for the rest.
        s.shutdown(socket.SHUT_WR)
    except (BrokenPipeError, ConnectionResetError):
        return True, "closed while we wrote"
    try:
        while recv(s) is not None:
            pass
    except (ConnectionResetError, socket.timeout, ValueError) as e:
        return not isinstance(e, socket.timeout), repr(e)
    return True, "closed"


def m_error_then_close(path, data, what):
    s = connect(path)
    s.sendall(data)
    r = recv(s)
    return is_error(r) and closed(s), "%s: %r" % (what, r)


def m_ddff(path):
    return m_error_then_close(path, frame(bytes.fromhex("ddffffffff")), "dd ff ff ff ff")


def m_ddff_prefix(path):
    # The five bytes as they come, so the length prefix itself is ~3.7 GB.
    return m_error_then_close(path, bytes.fromhex("ddffffffff"), "prefix dd ff ff ff")


def m_huge(path):
    # A length of 4 GiB - 1 and a few body bytes: refused at the header.
    return m_error_then_close(path, b"\xff\xff\xff\xff" + b"\x80" * 16, "4 GiB length")


def m_just_over(path):
    return m_error_then_close(path, struct.pack(">I", 65537), "65537-byte length")


def m_nonmap(path):
    return m_error_then_close(path, frame(pack([1, 2, 3])), "array body")


def m_empty(path):
    return m_error_then_close(path, frame(b""), "empty body")


def m_bad_then_good(path):
    """A map with a bad command keeps the connection: the next request works."""
    s = connect(path)
    s.sendall(frame(pack({"v": 1, "cmd": "launch"})))
    r1 = recv(s)
    s.sendall(frame(pack({"v": 1, "cmd": "status", "extra": 1})))
    r2 = recv(s)
    s.sendall(status_req())
    r3 = recv(s)
    ok = is_error(r1) and "launch" in r1["error"] and is_error(r2) and is_status(r3)
    return ok, "%r / %r / %r" % (r1, r2, r3)


def m_pipelined(path, n=50):
    """n requests in one write, answered in order (bad ones in between)."""
    s = connect(path)
    reqs = b""
    for i in range(n):
        reqs += status_req() if i % 2 == 0 else frame(pack({"v": 1, "cmd": "nope%d" % i}))
    s.sendall(reqs)
    for i in range(n):
        r = recv(s)
        if i % 2 == 0 and not is_status(r):
            return False, "answer %d: %r" % (i, r)
        if i % 2 == 1 and not (is_error(r) and ("nope%d" % i) in r["error"]):
            return False, "answer %d: %r" % (i, r)
    return True, "%d answers in order" % n


def m_trickle(path):
    """A request sent one byte at a time still gets its answer."""
    s = connect(path)
    for b in status_req():
        s.sendall(bytes([b]))
        time.sleep(0.002)
    r = recv(s)
    return is_status(r), repr(r)


def m_concurrent(path, n):
    """n clients at once, each asking for status; all must be answered."""
    n = int(n)
    results = [None] * n
    socks = []
    for i in range(n):
        socks.append(connect(path))

    def run(i):
        try:
            socks[i].sendall(status_req())
            results[i] = is_status(recv(socks[i]))
        except Exception as e:  # noqa: BLE001 - any failure is a failed client
            results[i] = repr(e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT * 2)
    good = sum(1 for r in results if r is True)
    for s in socks:
        s.close()
    return good == n, "%d of %d answered" % (good, n)


def m_flood(path, n, cap):
    """More connections than the daemon serves at once (`cap`): it closes the
    excess at once but neither crashes nor stops serving the others."""
    n, cap = int(n), int(cap)
    socks = []
    deadline = time.time() + 30
    while len(socks) < n and time.time() < deadline:
        try:
            socks.append(connect(path))
        except (BlockingIOError, InterruptedError):
            time.sleep(0.005)  # the listen backlog is full: let it drain
    time.sleep(1.0)
    refused = 0
    for s in socks:
        s.setblocking(False)
        try:
            if s.recv(1) == b"":
                refused += 1
        except BlockingIOError:
            pass
        except ConnectionResetError:
            refused += 1
    for s in socks:
        s.close()
    time.sleep(0.2)
    ok, detail = m_status(path)
    return (ok and len(socks) == n and refused == n - cap,
            "%d connections, %d closed by the daemon; then status: %s"
            % (len(socks), refused, "ok" if ok else detail))


def m_noread(path, n):
    """A client sends n requests and reads nothing until all are sent: the
    daemon stops reading it while its answers queue up (backpressure), keeps
    serving others meanwhile, and answers all n once the client reads."""
    n = int(n)
    s = connect(path)
    s.settimeout(60)
    req = status_req()
    sent = threading.Event()
    err = []

    def writer():
        try:
            s.sendall(req * n)
        except Exception as e:  # noqa: BLE001
            err.append(repr(e))
        sent.set()

    t = threading.Thread(target=writer)
    t.start()
    time.sleep(1.0)
    stalled = not sent.is_set()  # the daemon must have stopped reading us
    other, detail = m_status(path)
    got = 0
    while got < n:
        r = recv(s)
        if not is_status(r):
            break
        got += 1
    t.join(30)
    ok = stalled and other and got == n and not err
    return ok, "writer stalled: %s; other client served: %s; %d of %d answered %s" % (
        stalled, other, got, n, " ".join(err))


def m_watch(path, seconds):
    """watch: the first answer says watching, then one event per alert; prints
    the events' kinds and notes as received within `seconds`."""
    s = connect(path)
    s.sendall(frame(pack({"v": 1, "cmd": "watch"})))
    r = recv(s)
    if not (isinstance(r, dict) and r.get("ok") is True and r.get("result") == {"watching": True}):
        return False, "watch answered %r" % (r,)
    print("watching", flush=True)
    s.settimeout(float(seconds))
    events = []
    try:
        while True:
            e = recv(s)
            if e is None:
                break
            ev = e.get("event")
            if not isinstance(ev, dict):
                return False, "not an event: %r" % (e,)
            events.append("%s:%s:%s" % (ev.get("kind"), ev.get("status"), ev.get("note")))
    except socket.timeout:
        pass
    return True, " ".join(events)


def m_check_size(path, target, bound, limit=None):
    """One raw check of TARGET (normalised), with `limit` when given: the
    daemon's single response must be a check page no larger than BOUND
    bytes. Prints the response's size, its alert count and `more`."""
    req = {"v": 1, "cmd": "check", "target": target}
    if limit is not None:
        req["limit"] = int(limit)
    s = connect(path)
    s.settimeout(60.0)
    s.sendall(frame(pack(req)))
    hdr = read_exact(s, 4)
    if hdr is None:
        return False, "no response"
    (n,) = struct.unpack(">I", hdr)
    body = read_exact(s, n)
    if body is None:
        return False, "response cut short"
    r, end = unpack_from(body, 0)
    res = r.get("result") if isinstance(r, dict) else None
    if end != len(body) or r.get("ok") is not True or not isinstance(res, dict):
        return False, "not a check result: %r" % (r if n < 500 else n,)
    alerts = res.get("alerts")
    detail = "bytes %d alerts %d more %s flagged %s" % (
        n, len(alerts) if isinstance(alerts, list) else -1, res.get("more"), res.get("flagged"))
    return n <= int(bound) and isinstance(alerts, list), detail


def main():
    path, mode = sys.argv[1], sys.argv[2]
    args = sys.argv[3:]
    fn = globals().get("m_" + mode)
    if fn is None:
        print("unknown mode " + mode)
        return 2
    try:
        ok, detail = fn(path, *args)
    except Exception as e:  # noqa: BLE001 - report, do not crash the test
        ok, detail = False, "exception: %r" % (e,)
    print(detail)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

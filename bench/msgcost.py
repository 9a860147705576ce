"""What each peer message type costs agahd in CPU, per message and per KiB
received (issue 24: "bench/ records the CPU cost of each message type per
byte received, before and after").

For each store size N: bench_setup makes a founder (n000) holding N alerts
and an admitted member (n001); agahd runs on n000 and tools/peerctl, as
n001, connects and sends a stream of one message type (`peerctl connect ...
flood TYPE COUNT K`, or `bodies` for records). agahd's CPU time (utime +
stime from /proc/PID/stat) is read before the connection and again once it
has stopped rising after the stream; the cost of a connection that sends
nothing (the handshake) is measured the same way and subtracted.

    python3 bench/msgcost.py --build BUILD [--agahd PATH] [--sizes 20000,100000]
                             [--scale F] [--out FILE]

--build gives bench_setup and tools/peerctl (and agahd unless --agahd names
another binary: an older agahd speaking the same protocol). Prints a table
and writes JSON to --out when given."""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
from agahctl import Control, ControlError  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")

# (name, peerctl actions after the address, messages, ids or items per message)
# Counts are sized for about a second of agahd CPU or more on the reference
# machine, so the 10 ms tick of /proc is small against them.
TYPES = [
    ("BODY new", "bodies", 4000, 0),
    ("BODY duplicate", "bodies", 4000, 0),
    ("IHAVE", "ihave", 40000, 32),
    ("WANT", "want", 20000, 32),
    ("GRAFT", "graft", 20000, 32),
    ("OFFER", "offer", 20000, 32),
    ("RECON", "recon", 4000, 1000),
    ("SKREQ", "skreq", 400, 1000),
    ("SWANT", "swant", 400, 256),
    ("PING", "ping", 200000, 0),
    ("PEERS", "peers", 20000, 32),
]


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)


def settle(pid, quiet=0.6, timeout=600.0):
    """CPU ticks once agahd's CPU time has not moved for `quiet` seconds."""
    last, since = cpu_ticks(pid), time.monotonic()
    deadline = since + timeout
    while time.monotonic() < deadline:
        time.sleep(0.1)
        now = cpu_ticks(pid)
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return now
    raise RuntimeError("agahd still busy after %.0f s" % timeout)


def kv(line):
    return dict(x.split("=", 1) for x in line.split() if "=" in x)


class Bench:
    def __init__(self, args):
        self.build = os.path.abspath(args.build)
        self.agahd = os.path.abspath(args.agahd or os.path.join(self.build, "agahd"))
        self.peerctl = os.path.join(self.build, "tools", "peerctl")
        self.setup = os.path.join(self.build, "bench", "bench_setup")
        self.scale = args.scale
        self.tmp = tempfile.mkdtemp(prefix="agah-msgcost.")
        os.chmod(self.tmp, 0o700)
        self.proc = None

    def close(self):
        self.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def run(self, argv, stdout=subprocess.PIPE, timeout=1800):
        argv = [str(a) for a in argv]
        r = subprocess.run(argv, stdout=stdout, stderr=subprocess.PIPE, timeout=timeout,
                           stdin=subprocess.DEVNULL)
        if r.returncode != 0:
            raise RuntimeError("%s failed (%d): %s" % (" ".join(argv[:3]), r.returncode,
                                                      r.stderr.decode(errors="replace")[-1500:]))
        return r.stdout.decode() if stdout == subprocess.PIPE else ""

    def start(self, d):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        log = open(os.path.join(self.tmp, "agahd.log"), "ab")
        self.proc = subprocess.Popen([self.agahd, "--data", d, "--log-level", "warn",
                                      "--listen", "127.0.0.1:%d" % self.port],
                                     stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        log.close()
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("agahd exited with %d" % self.proc.returncode)
            try:
                c = Control(d)
                c.call("status")
                c.close()
                return
            except (OSError, ControlError):
                time.sleep(0.05)
        raise RuntimeError("agahd not ready")

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def connect(self, member, actions):
        """Runs one peerctl connection; returns (agahd CPU seconds, peerctl's line)."""
        before = settle(self.proc.pid)
        out = self.run([self.peerctl, "connect", member, "127.0.0.1:%d" % self.port]
                       + [str(a) for a in actions] + ["wait", "0.5"])
        after = settle(self.proc.pid)
        return (after - before) / TICK, kv(out.strip().splitlines()[-1])

    def size(self, n):
        base = os.path.join(self.tmp, "n%d" % n)
        os.mkdir(base, 0o700)
        self.run([self.setup, "community", base, 2])
        founder, member = os.path.join(base, "n000"), os.path.join(base, "n001")
        recs = os.path.join(base, "records.bin")
        self.run([self.setup, "gen", founder, n, recs])
        self.run([self.setup, "load", founder, recs])
        new = os.path.join(base, "new.txt")
        nbody = max(1, int(TYPES[0][2] * self.scale))
        with open(new, "w") as f:
            self.run([self.peerctl, "alerts", member, nbody], stdout=f)
        self.start(founder)
        rows = []
        try:
            # The handshake alone, three times: subtracted from every row.
            idle = [self.connect(member, [])[0] for _ in range(3)]
            hs = sorted(idle)[1]
            for name, act, count, k in TYPES:
                count = max(1, int(count * self.scale))
                if act == "bodies":
                    actions = ["bodies", new, count]
                else:
                    actions = ["flood", act, count, k]
                cpu, line = self.connect(member, actions)
                sent = int(line.get("sent", 0))
                nbytes = int(line.get("out", 0))
                cpu = max(0.0, cpu - hs)
                rows.append({
                    "type": name, "records": n, "messages": sent, "bytes": nbytes,
                    "per_message_items": k, "cpu_s": round(cpu, 3),
                    "us_per_message": round(cpu * 1e6 / sent, 2) if sent else None,
                    "us_per_kib": round(cpu * 1e6 / (nbytes / 1024), 2) if nbytes else None,
                    "closed_by_agahd": line.get("closed") == "1",
                })
                print("  %-15s %7d msgs %10d B  %7.2f s  %9.2f us/msg %9.2f us/KiB%s" % (
                    name, sent, nbytes, cpu, rows[-1]["us_per_message"] or 0,
                    rows[-1]["us_per_kib"] or 0,
                    "  (agahd closed the link)" if rows[-1]["closed_by_agahd"] else ""),
                    flush=True)
        finally:
            self.stop()
        return {"records": n, "handshake_cpu_s": hs, "rows": rows}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--agahd")
    ap.add_argument("--sizes", default="20000,100000")
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--out")
    args = ap.parse_args()
    b = Bench(args)
    res = {"agahd": b.agahd, "sizes": []}
    try:
        for n in [int(x) for x in args.sizes.split(",")]:
            print("msgcost: agahd %s holding %d records" % (b.agahd, n), flush=True)
            res["sizes"].append(b.size(n))
    finally:
        b.close()
    if args.out:
        with open(args.out, "w") as f:
            json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()

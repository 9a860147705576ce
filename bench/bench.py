"""agah's benchmark (issue 6): measures each figure of the table in
docs/BENCHMARKS.md against its reference in the same run, prints a table
and writes bench/results.json with exactly the keys of the issue.

    python3 bench/bench.py --build BUILD_DIR [--smoke] [--keep] [--out FILE]

Everything runs on this machine: daemons listen on 127.0.0.1 only, data
directories live in one temporary directory that is removed at the end
(--keep leaves it), and every process started here is stopped by its pid
when the benchmark ends, fails or is interrupted. A figure that cannot be
measured is written as null with the reason on stderr and in the output's
"notes"; the other figures are still measured."""

import argparse
import json
import os
import platform
import random
import selectors
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
from agahctl import Control, ControlError  # noqa: E402

KEYS = [
    "ingest_per_s", "verify_per_s", "ingest_ratio", "check_lookups_per_s",
    "check_cli_ms_median", "check_cli_ms_p99", "spread_ms_median", "spread_ms_max",
    "spread_body_copies_per_node", "catchup_round_trips", "catchup_bytes_ratio",
    "rss_mb_100k", "store_bytes_per_alert",
]

# The figures of a full run and of a smoke run (a few seconds each).
FULL = dict(pair_records=100_000, catchup_diff=1_000,
            index_n=1_000_000, check_seconds=4.0, cli_runs=200, nodes=100,
            spread_alerts=20, spread_warmup=5, verify_seconds=2.0, annot_m=70_000)
SMOKE = dict(pair_records=2_000, catchup_diff=20,
             index_n=10_000, check_seconds=0.4, cli_runs=10, nodes=8,
             spread_alerts=3, spread_warmup=1, verify_seconds=0.3, annot_m=1_000)

# Must match bench_util.h: the note every benchmark alert carries and the
# target prefix of spread-test alerts (distinct from bu_target's).
NOTE_LEN = 80
NOTE_TEXT = ("Benchmark alert: caller claims to be from the consulate and asks "
             "for passport numbers. ")
NOTE = (NOTE_TEXT * 2)[:NOTE_LEN]


def _die_with_parent():
    """Child side of Popen: get SIGTERM if the benchmark itself is killed
    (even by SIGKILL), so no daemon outlives it."""
    try:
        import ctypes
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


class Bench:
    def __init__(self, args):
        self.args = args
        self.cfg = dict(SMOKE if args.smoke else FULL)
        for kv in args.set:
            k, _, v = kv.partition("=")
            if k not in self.cfg:
                raise SystemExit("--set: unknown size %s" % k)
            self.cfg[k] = type(self.cfg[k])(v)
        self.only = set(args.only.split(",")) if args.only else {"verify", "pair", "check", "spread"}
        self.build = os.path.abspath(args.build)
        self.agahd = os.path.join(self.build, "agahd")
        self.agah = os.path.join(self.build, "agah")
        self.bdir = os.path.join(self.build, "bench")
        self.tmp = tempfile.mkdtemp(prefix="agah-bench.")
        self.procs = {}  # pid -> (Popen, label)
        self.results = {k: None for k in KEYS}
        self.details = {}
        self.notes = []
        self.ports_used = set()

    # ---------------------------------------------------------------- #
    # Processes

    def start(self, argv, label, log_path=None, stdout=None):
        err = open(log_path, "wb") if log_path else subprocess.DEVNULL
        p = subprocess.Popen(argv, stdout=stdout or subprocess.DEVNULL, stderr=err,
                             stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)
        if log_path:
            err.close()
        self.procs[p.pid] = (p, label)
        return p

    def stop(self, p, sig=signal.SIGTERM, timeout=10.0):
        if p.pid not in self.procs:
            return
        if p.poll() is None:
            try:
                p.send_signal(sig)
                p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        del self.procs[p.pid]

    def stop_all(self):
        for p, _ in list(self.procs.values()):
            if p.poll() is None:
                try:
                    p.send_signal(signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + 10
        for p, _ in list(self.procs.values()):
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.procs.clear()

    def run(self, argv, timeout=1200):
        r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout, stdin=subprocess.DEVNULL)
        if r.returncode != 0:
            raise RuntimeError("%s failed (%d): %s" % (" ".join(argv[:3]), r.returncode,
                                                      r.stderr.decode(errors="replace")[-2000:]))
        return parse_kv(r.stdout.decode())

    def tool(self, name, *args, timeout=1200):
        return self.run([os.path.join(self.bdir, name)] + [str(a) for a in args], timeout)

    # ---------------------------------------------------------------- #
    # Daemons

    def free_ports(self, n):
        """n consecutive ports free on 127.0.0.1, below the ephemeral range."""
        for _ in range(200):
            base = random.randrange(20000, 32000 - n)
            socks = []
            try:
                for p in range(base, base + n):
                    if p in self.ports_used:
                        raise OSError
                    s = socket.socket()
                    s.bind(("127.0.0.1", p))
                    socks.append(s)
            except OSError:
                continue
            finally:
                for s in socks:
                    s.close()
            self.ports_used.update(range(base, base + n))
            return base
        raise RuntimeError("no %d free consecutive ports on 127.0.0.1" % n)

    def daemon(self, d, port=None, peers=(), level="warn"):
        # One author posts every record: raise its quota on every node alike.
        argv = [self.agahd, "--data", d, "--log-level", level, "--quota-scale", "1000",
                "--listen", "127.0.0.1:%d" % port if port else "none"]
        for q in peers:
            argv += ["--peer", "127.0.0.1:%d" % q]
        return self.start(argv, "agahd " + d, log_path=os.path.join(d, "agahd.log"))

    def wait_ready(self, p, d, timeout=300.0):
        """Waits until DIR/agahd.sock answers; returns a Control."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if p.poll() is not None:
                raise RuntimeError("agahd on %s exited with %d: %s" % (
                    d, p.returncode, tail(os.path.join(d, "agahd.log"))))
            try:
                c = Control(d)
                c.call("status")
                return c
            except (OSError, ControlError):
                time.sleep(0.02)
        raise RuntimeError("agahd on %s not ready after %.0f s" % (d, timeout))

    def wait_alerts(self, ctl, n, timeout, interval=0.02, series=None):
        """Polls `status` until it counts n alerts; returns the time then."""
        deadline = time.monotonic() + timeout
        while True:
            st = ctl.call("status")
            now = time.monotonic()
            if series is not None:
                series.append((now, st["alerts"]))
            if st["alerts"] >= n:
                return now
            if now > deadline:
                raise RuntimeError("%d of %d alerts after %.0f s" % (st["alerts"], n, timeout))
            time.sleep(interval)

    def capture_start(self, ports, name):
        out = os.path.join(self.tmp, name + ".json")
        p = self.start([sys.executable, os.path.join(os.path.dirname(__file__), "capture.py"),
                        out, ",".join(str(x) for x in ports)], "capture " + name,
                       log_path=os.path.join(self.tmp, name + ".log"),
                       stdout=subprocess.PIPE)
        line = p.stdout.readline().decode()
        if "capturing" not in line:
            raise RuntimeError("packet capture did not start: %s" %
                               tail(os.path.join(self.tmp, name + ".log")))
        return p, out

    def capture_stop(self, cap):
        p, out = cap
        self.stop(p, signal.SIGINT, timeout=120)
        with open(out) as f:
            return json.load(f)

    # ---------------------------------------------------------------- #
    # The figures

    def machine(self):
        info = {"python": platform.python_version(), "kernel": platform.release()}
        try:
            lscpu = subprocess.run(["lscpu"], stdout=subprocess.PIPE).stdout.decode()
            for line in lscpu.splitlines():
                k, _, v = line.partition(":")
                if k.strip() in ("Model name", "CPU(s)", "Thread(s) per core", "CPU MHz"):
                    info[k.strip()] = v.strip()
        except OSError:
            pass
        with open("/proc/meminfo") as f:
            info["MemTotal"] = f.readline().split(":")[1].strip()
        info["loadavg_start"] = open("/proc/loadavg").read().split()[:3]
        self.details["machine"] = info

    def verify(self):
        kv = self.tool("bench_verify", self.cfg["verify_seconds"])
        self.results["verify_per_s"] = round(kv["verify_per_s"])

    def pair_setup(self):
        """A small community for the two-node tests: A holds every record,
        B all but DIFF of them spread evenly, C nothing."""
        c = self.cfg
        base = os.path.join(self.tmp, "pair")
        self.tool("bench_setup", "community", base, 3)
        self.pa, self.pb, self.pc = (os.path.join(base, "n%03d" % i) for i in range(3))
        recs = os.path.join(self.tmp, "records.bin")
        t0 = time.monotonic()
        self.tool("bench_setup", "gen", self.pa, c["pair_records"], recs)
        self.reclen = self.tool("bench_setup", "reclen", self.pa)["reclen"]
        step = c["pair_records"] // c["catchup_diff"]
        la = self.tool("bench_setup", "load", self.pa, recs)
        lb = self.tool("bench_setup", "load", self.pb, recs, step, step // 2)
        os.unlink(recs)
        self.missing_bytes = lb["skipped_bytes"]
        self.details["setup_load_per_s"] = {"A": la["per_s"], "B": lb["per_s"]}
        self.details["setup_seconds"] = round(time.monotonic() - t0, 1)
        self.details["record_bytes"] = self.reclen
        if la["stored"] != c["pair_records"] or lb["stored"] != c["pair_records"] - c["catchup_diff"]:
            raise RuntimeError("setup stored %s and %s records" % (la["stored"], lb["stored"]))
        self.pa_port = self.free_ports(2)
        self.pb_port = self.pa_port + 1
        t0 = time.monotonic()
        self.pa_proc = self.daemon(self.pa, port=self.pa_port)
        self.pa_ctl = self.wait_ready(self.pa_proc, self.pa)
        self.details["start_seconds_holding_all"] = round(time.monotonic() - t0, 2)

    def ingest(self):
        """C, empty, is given A's address and fetches all of A's alerts:
        records through a real link, each verified, decrypted, stored and
        indexed by C. Also C's CPU time, to tell its own cost from waiting."""
        n = self.cfg["pair_records"]
        pc = self.daemon(self.pc)
        cc = self.wait_ready(pc, self.pc)
        series = []
        cpu0 = cpu_seconds(pc.pid)
        t0 = time.monotonic()
        cc.call("peer_add", address="127.0.0.1:%d" % self.pa_port)
        t1 = self.wait_alerts(cc, n, timeout=600, interval=0.02, series=series)
        cpu = cpu_seconds(pc.pid) - cpu0
        rate = n / (t1 - t0)
        self.results["ingest_per_s"] = round(rate)
        if self.results["verify_per_s"]:
            self.results["ingest_ratio"] = round(rate / self.results["verify_per_s"], 3)
        self.details["ingest_seconds"] = round(t1 - t0, 3)
        self.details["ingest_receiver_cpu_seconds"] = round(cpu, 2)
        self.details["ingest_per_cpu_second"] = round(n / cpu) if cpu > 0 else None
        # The rate in the first second (before any rate limit bites) and
        # over the last three quarters.
        first = [a for t, a in series if t - t0 <= 1.0]
        if first:
            self.details["ingest_first_second"] = first[-1]
        late = [(t, a) for t, a in series if a >= n // 4]
        if len(late) >= 2 and late[-1][0] > late[0][0]:
            self.details["ingest_last_three_quarters_per_s"] = round(
                (late[-1][1] - late[0][1]) / (late[-1][0] - late[0][0]))
        self.details["ingest_rss_mb_receiver"] = rss_mb(pc.pid)
        cc.close()
        self.stop(pc)

    def catchup_and_store(self):
        """A (all records, running) and B (all but DIFF) on a real link,
        captured: bytes on the wire until B has everything. Then, with both
        holding the full set: resident memory and store size, and `agah
        check` timed end to end against A."""
        n = self.cfg["pair_records"]
        pa, ca = self.pa_proc, self.pa_ctl
        pa_port, pb_port = self.pa_port, self.pb_port
        cap = None
        try:
            cap = self.capture_start([pa_port, pb_port], "catchup")
        except Exception as e:  # no capture: bytes come from the in-process run
            self.note("packet capture unavailable (%s); catch-up bytes from the in-process run" % e)
        pb = self.daemon(self.pb, port=pb_port, peers=[pa_port])
        t_start = time.monotonic()
        cb = self.wait_ready(pb, self.pb)
        t_ready = time.monotonic()
        t_done = self.wait_alerts(cb, n, timeout=300, interval=0.02)
        t_done_wall = time.time()
        self.details["catchup_seconds_after_ready"] = round(t_done - t_ready, 3)
        self.details["start_seconds_holding_all_but_diff"] = round(t_ready - t_start, 3)
        time.sleep(0.5)
        if cap is not None:
            wire = self.capture_stop(cap)
            self.catchup_wire(wire, pa_port, pb_port, t_done_wall)
        # Memory and store, each daemon holding the full set.
        time.sleep(0.5)
        ra, rb = rss_mb(pa.pid), rss_mb(pb.pid)
        self.results["rss_mb_100k"] = max(ra, rb)
        self.details["rss_mb"] = {"A (loaded from its store)": ra,
                                  "B (caught up over the link)": rb}
        sa, sb = store_bytes(self.pa), store_bytes(self.pb)
        self.results["store_bytes_per_alert"] = round(sa / n)
        self.details["store_bytes"] = {"A": sa, "B": sb, "B_per_alert": round(sb / n)}
        self.check_cli(self.pa)
        cb.close()
        ca.close()
        self.stop(pb)
        self.stop(pa)
        self.details["store_bytes_after_stop"] = {"A": store_bytes(self.pa),
                                                  "B": store_bytes(self.pb)}
        self.details["memory_after_start"] = self.tool("bench_setup", "mem", self.pa)

    def catchup_wire(self, wire, pa_port, pb_port, t_done):
        ports = {pa_port, pb_port}
        ev = [e for e in wire["events"]
              if (e[1] in ports or e[2] in ports) and e[0] <= t_done]
        total = sum(4 + e[3] if e[3] > 0 else -e[3] for e in ev)
        bodies = sum(1 for e in ev if e[3] == self.reclen + 5 + 16)
        frames = [e for e in ev if e[3] > 0]
        # Flights: runs of frames in one direction (towards A or away).
        flights = 0
        last = None
        for e in frames:
            d = e[2] == pa_port
            if d != last:
                flights += 1
                last = d
        conns = len(set((e[1], e[2]) for e in ev)) // 2
        self.details["catchup_wire"] = {
            "bytes_total": total, "missing_record_bytes": self.missing_bytes,
            "frames": len(frames), "body_frames": bodies, "flights": flights,
            "connections": conns,
            "drops": wire["drops"], "bad_flows": wire["bad_flows"]}
        if wire["drops"] == 0 and wire["bad_flows"] == 0 and self.missing_bytes:
            self.results["catchup_bytes_ratio"] = round(total / self.missing_bytes, 3)
        else:
            self.note("catch-up capture lost packets; bytes ratio from the in-process run")

    def check_cli(self, d):
        """`agah check NUMBER` end to end against a running daemon, half
        flagged numbers and half not; each answer's exit status checked.
        Timed by bench_spawn (posix_spawn + waitpid, CLOCK_MONOTONIC around
        each process), which runs /bin/true before every check as the floor
        a process start costs on this machine under the same load. The old
        measurement (subprocess.run from Python) is repeated on the same
        queries for comparison; it adds Python's own spawning to each run."""
        c = self.cfg
        queries = []
        for i in range(c["cli_runs"]):
            flagged = i % 2 == 0
            k = random.randrange(c["pair_records"]) if flagged else random.randrange(10_000_000)
            num = "+852 %s%03d %04d" % ("5" if flagged else "6", k // 10000 % 1000, k % 10000)
            queries.append((0 if flagged else 1, num))
        qfile = os.path.join(self.tmp, "check-queries.txt")
        with open(qfile, "w") as f:
            f.writelines("%d %s\n" % q for q in queries)
        kv = self.tool("bench_spawn", "-n", c["cli_runs"], "-r", "/bin/true", "-q", qfile,
                       "--", self.agah, "--data", d, "check")
        self.results["check_cli_ms_median"] = round(kv["median_ms"], 3)
        self.results["check_cli_ms_p99"] = round(kv["p99_ms"], 3)
        self.details["check_cli_ms_min"] = round(kv["min_ms"], 3)
        five, three = ("median", "p99", "min", "mean", "max"), ("median", "p99", "min")

        def ms(prefix, keys):
            return {k: round(kv[prefix + k + "_ms"], 3) for k in keys}

        self.details["check_cli"] = {
            "harness": "bench/bench_spawn: posix_spawn + waitpid, /bin/true before each run",
            "runs": kv["runs"],
            "agah_ms": ms("", five), "agah_cpu_ms": ms("cpu_", three),
            "bin_true_ms": ms("ref_", five), "bin_true_cpu_ms": ms("ref_cpu_", three),
            "median_above_bin_true_ms": round(kv["median_ms"] - kv["ref_median_ms"], 3),
            # What bench_spawn itself adds to a run: a spawn whose exec fails.
            "harness_ms": ms("harness_", three),
            "loadavg": open("/proc/loadavg").read().split()[:3],
        }
        # The figure as it was measured before bench_spawn, for comparison.
        times = []
        for status, num in queries:
            t0 = time.perf_counter()
            r = subprocess.run([self.agah, "--data", d, "check", num],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               stdin=subprocess.DEVNULL)
            times.append((time.perf_counter() - t0) * 1000.0)
            if r.returncode != status:
                raise RuntimeError("agah check %s exited %d: %s" % (
                    num, r.returncode, r.stderr.decode(errors="replace")))
        times.sort()
        self.details["check_cli"]["python_subprocess_ms"] = {
            "median": round(statistics.median(times), 3), "p99": round(percentile(times, 99), 3),
            "min": round(times[0], 3)}

    def check_index(self):
        kv = self.tool("bench_check", os.path.join(self.tmp, "check"), self.cfg["index_n"],
                       self.cfg["check_seconds"])
        self.results["check_lookups_per_s"] = round(kv["check_lookups_per_s"])
        self.details["check"] = {k: v for k, v in kv.items() if k != "check_lookups_per_s"}

    def check_annot(self):
        """node_check of one alert carrying annot_m confirmations and as many
        retractions by one member (issue 24), in the details only."""
        kv = self.tool("bench_annot", os.path.join(self.tmp, "annot"), self.cfg["annot_m"], 1,
                       self.cfg["check_seconds"])
        self.details["check_annot"] = kv

    def recon_inprocess(self):
        c = self.cfg
        one = self.tool("bench_recon", c["pair_records"], c["catchup_diff"], self.reclen)
        two = self.tool("bench_recon", c["pair_records"], c["catchup_diff"], self.reclen, "twoway")
        # Range reconciliation alone (the fallback of a sketch), for comparison.
        rng = self.tool("bench_recon", c["pair_records"], c["catchup_diff"], self.reclen,
                        "oneway", "range")
        self.results["catchup_round_trips"] = one["catchup_round_trips"]
        if self.results["catchup_bytes_ratio"] is None:
            self.results["catchup_bytes_ratio"] = one["catchup_bytes_ratio"]
        self.details["catchup_inprocess"] = {"oneway": one, "twoway": two, "oneway_range": rng}

    def spread(self):
        """NODES daemons, each dialling 2-3 random earlier ones; alerts
        posted on random nodes; every node watched through its control
        socket; frames captured to count the bodies each node receives."""
        c = self.cfg
        nn = c["nodes"]
        base = os.path.join(self.tmp, "net")
        t0 = time.monotonic()
        self.tool("bench_setup", "community", base, nn)
        dirs = [os.path.join(base, "n%03d" % i) for i in range(nn)]
        if not hasattr(self, "reclen"):
            self.reclen = self.tool("bench_setup", "reclen", dirs[0])["reclen"]
        port0 = self.free_ports(nn)
        ports = list(range(port0, port0 + nn))
        cap = None
        try:
            cap = self.capture_start(ports, "spread")
        except Exception as e:
            self.note("packet capture unavailable (%s): spread_body_copies_per_node not "
                      "measured" % e)
        procs = []
        rng = random.Random(6)
        overlay = []
        for i in range(nn):
            peers = rng.sample(range(i), min(i, rng.choice((2, 3))))
            overlay.append(peers)
            procs.append(self.daemon(dirs[i], port=ports[i], peers=[ports[j] for j in peers]))
        ctls = [self.wait_ready(procs[i], dirs[i]) for i in range(nn)]
        # Wait until every node has a link, then let the views settle.
        deadline = time.monotonic() + 60
        while True:
            peers = [x.call("status")["peers"] for x in ctls]
            if min(peers) >= 1:
                break
            if time.monotonic() > deadline:
                raise RuntimeError("overlay not connected after 60 s: %s" % peers)
            time.sleep(0.2)
        time.sleep(3.0)
        peers = [x.call("status")["peers"] for x in ctls]
        self.details["spread_links_per_node"] = {"min": min(peers), "max": max(peers),
                                                 "mean": round(statistics.mean(peers), 2)}
        self.details["spread_setup_seconds"] = round(time.monotonic() - t0, 1)
        watchers = [Control(d) for d in dirs]
        sel = selectors.DefaultSelector()
        for i, w in enumerate(watchers):
            w.send("watch")
            r = w.recv()
            if not r.get("ok"):
                raise RuntimeError("watch refused: %s" % r)
            w.sock.setblocking(False)
            sel.register(w.sock, selectors.EVENT_READ, i)

        def post_and_watch(k, serial):
            target = "+8527%07d" % serial
            t_post = time.monotonic()
            t_wall = time.time()
            res = ctls[k].call("post", kind="number", target=target, category="scam",
                               note=NOTE, severity="warning", expires=0)
            aid = res["id"]
            seen = {}
            deadline = t_post + 10.0
            while len(seen) < nn and time.monotonic() < deadline:
                for key, _ in sel.select(timeout=0.05):
                    i = key.data
                    try:
                        data = watchers[i].sock.recv(1 << 16)
                    except BlockingIOError:
                        continue
                    now = time.monotonic()
                    for m in watchers[i].feed(data):
                        ev = m.get("event")
                        if ev and ev.get("id") == aid and i not in seen:
                            seen[i] = now
            return t_post, t_wall, aid, seen

        for w in range(c["spread_warmup"]):
            post_and_watch(rng.randrange(nn), 9_000_000 + w)
            time.sleep(0.5)
        times, windows, incomplete = [], [], 0
        for a in range(c["spread_alerts"]):
            k = rng.randrange(nn)
            t_post, t_wall, aid, seen = post_and_watch(k, a)
            if len(seen) < nn:
                incomplete += 1
                self.note("alert %d reached %d of %d nodes within 10 s" % (a, len(seen), nn))
                times.append(None)
            else:
                times.append((max(seen.values()) - t_post) * 1000.0)
            # Let lazy announcements and grafts of this alert finish before
            # the next one, so each body frame belongs to one alert.
            time.sleep(0.6)
            windows.append((t_wall, time.time()))
        done = [t for t in times if t is not None]
        if done and not incomplete:
            self.results["spread_ms_median"] = round(statistics.median(done), 1)
            self.results["spread_ms_max"] = round(max(done), 1)
        elif done:
            self.note("spread: %d of %d alerts never reached every node" %
                      (incomplete, len(times)))
        self.details["spread_ms_each"] = [None if t is None else round(t, 1) for t in times]
        for w in watchers:
            w.close()
        if cap is not None:
            wire = self.capture_stop(cap)
            self.spread_wire(wire, windows, nn)
        for x in ctls:
            x.close()
        rss = [rss_mb(p.pid) for p in procs]
        self.details["spread_rss_mb_per_node"] = {"min": min(rss), "max": max(rss)}
        for p in procs:
            self.stop(p)

    def spread_wire(self, wire, windows, nn):
        body_ct = self.reclen + 5 + 16
        counts = []
        for (t0, t1) in windows:
            counts.append(sum(1 for e in wire["events"] if t0 <= e[0] <= t1 and e[3] == body_ct))
        self.details["spread_wire"] = {"body_frames_per_alert": counts,
                                       "drops": wire["drops"], "bad_flows": wire["bad_flows"],
                                       "packets": wire["packets"]}
        if wire["drops"] or wire["bad_flows"]:
            self.note("spread capture lost packets (%d dropped, %d flows out of step): "
                      "spread_body_copies_per_node not measured" %
                      (wire["drops"], wire["bad_flows"]))
            return
        self.results["spread_body_copies_per_node"] = round(
            sum(counts) / (len(counts) * (nn - 1)), 3)

    # ---------------------------------------------------------------- #

    def note(self, msg):
        log(msg)
        self.notes.append(msg)

    def step(self, name, fn):
        t0 = time.monotonic()
        log("%s..." % name)
        try:
            fn()
            return True
        except Exception as e:  # record and go on with the other figures
            self.note("%s failed: %s" % (name, e))
            return False
        finally:
            self.details.setdefault("step_seconds", {})[name] = round(time.monotonic() - t0, 1)

    def main(self):
        t0 = time.monotonic()
        self.machine()
        if "verify" in self.only:
            self.step("verify", self.verify)
        if "pair" in self.only and self.step("setup", self.pair_setup):
            self.step("ingest", self.ingest)
            self.step("catch-up, memory, store, CLI check", self.catchup_and_store)
            self.step("catch-up in process", self.recon_inprocess)
        if "check" in self.only:
            self.step("check lookups", self.check_index)
            self.step("check with annotations", self.check_annot)
        if "spread" in self.only:
            self.step("spread", self.spread)
        self.details["total_seconds"] = round(time.monotonic() - t0, 1)
        self.details["loadavg_end"] = open("/proc/loadavg").read().split()[:3]

    def report(self):
        out = self.args.out
        with open(out, "w") as f:
            json.dump({k: self.results[k] for k in KEYS}, f, indent=2)
            f.write("\n")
        detail_path = os.path.splitext(out)[0] + "-details.json"
        with open(detail_path, "w") as f:
            json.dump({"smoke": self.args.smoke, "config": self.cfg, "details": self.details,
                       "notes": self.notes}, f, indent=2, default=str)
            f.write("\n")
        print(table(self.results))
        if self.notes:
            print("\nnotes:")
            for n in self.notes:
                print("  - " + n)
        print("\nwrote %s and %s" % (out, detail_path))


TARGETS = {
    "ingest_per_s": ("", None), "verify_per_s": ("(reference)", None),
    "ingest_ratio": (">= 0.6", lambda v: v >= 0.6),
    "check_lookups_per_s": (">= 2,000,000", lambda v: v >= 2_000_000),
    "check_cli_ms_median": ("<= 3 ms", lambda v: v <= 3),
    "check_cli_ms_p99": ("", None),
    "spread_ms_median": ("< 500 ms", lambda v: v < 500),
    "spread_ms_max": ("", None),
    "spread_body_copies_per_node": ("<= 1.2", lambda v: v <= 1.2),
    "catchup_round_trips": ("<= 4", lambda v: v <= 4),
    "catchup_bytes_ratio": ("<= 1.3", lambda v: v <= 1.3),
    "rss_mb_100k": ("<= 32 MB", lambda v: v <= 32),
    "store_bytes_per_alert": ("", None),
}


def table(results):
    rows = [("key", "value", "target", "")]
    for k in KEYS:
        v = results[k]
        tgt, ok = TARGETS[k]
        verdict = "" if ok is None else ("n/a" if v is None else ("ok" if ok(v) else "MISSED"))
        rows.append((k, "null" if v is None else "{:,}".format(v), tgt, verdict))
    w = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = []
    for j, r in enumerate(rows):
        lines.append("  ".join(r[i].ljust(w[i]) if i != 1 else r[i].rjust(w[i])
                               for i in range(4)).rstrip())
        if j == 0:
            lines.append("  ".join("-" * x for x in w))
    return "\n".join(lines)


def parse_kv(text):
    """'key value key value' lines from the C programs."""
    kv = {}
    for line in text.split("\n"):
        f = line.split()
        for i in range(0, len(f) - 1, 2):
            v = f[i + 1]
            try:
                kv[f[i]] = int(v)
            except ValueError:
                try:
                    kv[f[i]] = float(v)
                except ValueError:
                    kv[f[i]] = v
    return kv


def percentile(sorted_vals, p):
    """Nearest-rank percentile of a sorted list."""
    k = max(0, min(len(sorted_vals) - 1, -(-p * len(sorted_vals) // 100) - 1))
    return sorted_vals[int(k)]


def rss_mb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024.0, 1)
    return None


def cpu_seconds(pid):
    """User + system CPU time of a process so far."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def store_bytes(d):
    total = 0
    for name in ("store.db", "store.db-wal"):
        try:
            total += os.path.getsize(os.path.join(d, name))
        except OSError:
            pass
    return total


def tail(path, n=1500):
    try:
        with open(path, "rb") as f:
            return f.read()[-n:].decode(errors="replace")
    except OSError:
        return "(no log)"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--smoke", action="store_true", help="small sizes, a quick check")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    ap.add_argument("--only", help="comma-separated steps: verify,pair,check,spread (for development)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=N",
                    help="override one size of the configuration (for development)")
    ap.add_argument("--out", help="results file (default bench/results.json; with --smoke "
                                   "BUILD/bench-smoke.json, so a smoke run never replaces "
                                   "the recorded results)")
    args = ap.parse_args()
    if args.out is None:
        args.out = (os.path.join(args.build, "bench-smoke.json") if args.smoke else
                    os.path.join(os.path.dirname(os.path.abspath(__file__)), "results.json"))
    b = Bench(args)

    def on_signal(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    log("working in %s" % b.tmp)
    try:
        b.main()
        b.report()
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    finally:
        b.stop_all()
        if args.keep:
            log("kept %s" % b.tmp)
        else:
            shutil.rmtree(b.tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Counts agah frames on the loopback interface, for the benchmark figures
the daemons keep no counter of (bodies received per node, bytes of a
catch-up). Runs as root with an AF_PACKET socket on `lo`, follows every
TCP connection to or from the given ports from its SYN on, and splits each
direction's byte stream the way agahd does: a 64-byte handshake message,
then one 4-byte-length-prefixed handshake box, then frames of a 4-byte
big-endian ciphertext length and that many bytes (daemon/wire/handshake.h,
daemon/wire/frame.h). Frame contents are encrypted; only their lengths and
directions are seen, which is what the benchmark needs: every alert record
of the benchmark has one length, so the frames carrying one (RECORD or
BODY) have one ciphertext length.

    capture.py OUT PORT[,PORT...]

Runs until SIGTERM or SIGINT, then writes OUT as JSON: for each frame
[time, src_port, dst_port, ct_len], for each handshake message
[time, src_port, dst_port, -len], plus the totals and the kernel's drop
count. Times are the kernel's arrival stamps (SO_TIMESTAMPNS), wall-clock
seconds comparable with time.time()."""

import json
import signal
import socket
import struct
import sys
import time

ETH_P_ALL = 3
SOL_PACKET = 263
PACKET_STATISTICS = 6
SO_RCVBUFFORCE = 33
SO_TIMESTAMPNS = 35  # also SCM_TIMESTAMPNS
HS_FIRST = 64
FRAME_CT_MAX = 128 * 1024
HS_BOX_MAX = 4096


class Flow:
    __slots__ = ("seq", "buf", "state", "need", "bad")

    def __init__(self, seq):
        self.seq = seq
        self.buf = b""
        self.state = 0  # 0 first handshake message, 1 handshake box, 2 frames
        self.bad = False


def main():
    out_path = sys.argv[1]
    ports = set(int(p) for p in sys.argv[2].split(","))
    stop = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
    signal.signal(signal.SIGINT, lambda *a: stop.append(1))

    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    try:
        s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 256 << 20)
    except OSError:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 << 20)
    s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    s.bind(("lo", 0))
    s.settimeout(0.2)
    flows = {}
    events = []
    packets = 0
    unsynced = 0
    # Tell the parent we are listening.
    print("capturing", flush=True)
    while not stop:
        try:
            pkt, anc, _, addr = s.recvmsg(70000, 64)
        except socket.timeout:
            continue
        except InterruptedError:
            continue
        # The kernel's arrival time, not ours: this process may lag behind.
        now = time.time()
        for level, kind, data in anc:
            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(data) >= 16:
                sec, nsec = struct.unpack("qq", data[:16])
                now = sec + nsec / 1e9
        if addr[2] != socket.PACKET_HOST:
            continue  # loopback shows each packet twice; keep the received copy
        if len(pkt) < 14 + 20 or pkt[12:14] != b"\x08\x00":
            continue
        ip = pkt[14:]
        ihl = (ip[0] & 15) * 4
        if ip[9] != 6:
            continue
        total = struct.unpack(">H", ip[2:4])[0]
        tcp = ip[ihl:total]
        sport, dport, seq = struct.unpack(">HHI", tcp[:8])
        if sport not in ports and dport not in ports:
            continue
        packets += 1
        flags = tcp[13]
        doff = (tcp[12] >> 4) * 4
        payload = tcp[doff:]
        key = (sport, dport)
        if flags & 0x02:  # SYN: a new direction starts after it
            flows[key] = Flow((seq + 1) & 0xFFFFFFFF)
            continue
        f = flows.get(key)
        if f is None:
            if payload:
                unsynced += 1
            continue
        if not payload or f.bad:
            continue
        d = (seq - f.seq) & 0xFFFFFFFF
        if d >= 0x80000000:  # retransmission of bytes already seen
            skip = (f.seq - seq) & 0xFFFFFFFF
            if skip >= len(payload):
                continue
            payload = payload[skip:]
        elif d != 0:
            f.bad = True  # a gap: the capture lost a packet
            continue
        f.seq = (f.seq + len(payload)) & 0xFFFFFFFF
        f.buf += payload
        while True:
            if f.state == 0:
                if len(f.buf) < HS_FIRST:
                    break
                events.append([now, sport, dport, -HS_FIRST])
                f.buf = f.buf[HS_FIRST:]
                f.state = 1
            elif f.state == 1:
                if len(f.buf) < 4:
                    break
                n = struct.unpack(">I", f.buf[:4])[0]
                if n > HS_BOX_MAX:
                    f.bad = True
                    break
                if len(f.buf) < 4 + n:
                    break
                events.append([now, sport, dport, -(4 + n)])
                f.buf = f.buf[4 + n:]
                f.state = 2
            else:
                if len(f.buf) < 4:
                    break
                n = struct.unpack(">I", f.buf[:4])[0]
                if n > FRAME_CT_MAX or n < 16:
                    f.bad = True
                    break
                if len(f.buf) < 4 + n:
                    break
                events.append([now, sport, dport, n])
                f.buf = f.buf[4 + n:]
    stats = s.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8)
    got, drops = struct.unpack("II", stats)
    with open(out_path, "w") as fp:
        json.dump({"events": events, "packets": packets, "drops": drops,
                   "unsynced_packets": unsynced,
                   "bad_flows": sum(1 for f in flows.values() if f.bad)}, fp)


if __name__ == "__main__":
    main()

"""The one Python client of agahd's control socket (proto/PROTOCOL.md,
"Control socket"; the schema is include/agah/ctl.h), shared by the
integration tests (tests/integration/ctlclient.py) and the benchmark
(bench/). It needs no third-party module: a msgpack codec of just the types
the protocol uses, the 4-byte big-endian framing, and a small connection
class. Tests that must send exactly the bytes they mean (garbage, lying
length prefixes) build them with pack() and frame() directly."""

import os
import socket
import struct

# The envelope of include/agah/ctl.h: a request is {"v", "cmd", args...},
# a response {"v", "ok", "result"|"event"} or {"v", "ok", "exit", "error"}.
VERSION = 1


# --- msgpack, just what the control protocol uses ----------------------

def _pack(o, out):
    if o is None:
        out.append(b"\xc0")
    elif o is True:
        out.append(b"\xc3")
    elif o is False:
        out.append(b"\xc2")
    elif isinstance(o, int):
        if 0 <= o < 128:
            out.append(struct.pack("B", o))
        elif 0 <= o < 1 << 8:
            out.append(b"\xcc" + struct.pack(">B", o))
        elif 0 <= o < 1 << 16:
            out.append(b"\xcd" + struct.pack(">H", o))
        elif 0 <= o < 1 << 32:
            out.append(b"\xce" + struct.pack(">I", o))
        elif 0 <= o < 1 << 64:
            out.append(b"\xcf" + struct.pack(">Q", o))
        elif -32 <= o < 0:
            out.append(struct.pack("b", o))
        else:
            out.append(b"\xd3" + struct.pack(">q", o))
    elif isinstance(o, str):
        b = o.encode()
        n = len(b)
        if n < 32:
            out.append(struct.pack("B", 0xA0 | n))
        elif n < 256:
            out.append(b"\xd9" + struct.pack("B", n))
        elif n < 65536:
            out.append(b"\xda" + struct.pack(">H", n))
        else:
            out.append(b"\xdb" + struct.pack(">I", n))
        out.append(b)
    elif isinstance(o, (bytes, bytearray)):
        n = len(o)
        if n < 256:
            out.append(b"\xc4" + struct.pack("B", n))
        elif n < 65536:
            out.append(b"\xc5" + struct.pack(">H", n))
        else:
            out.append(b"\xc6" + struct.pack(">I", n))
        out.append(bytes(o))
    elif isinstance(o, (list, tuple)):
        n = len(o)
        out.append(struct.pack("B", 0x90 | n) if n < 16 else b"\xdc" + struct.pack(">H", n))
        for x in o:
            _pack(x, out)
    elif isinstance(o, dict):
        n = len(o)
        out.append(struct.pack("B", 0x80 | n) if n < 16 else b"\xde" + struct.pack(">H", n))
        for k, v in o.items():
            _pack(k, out)
            _pack(v, out)
    else:
        raise TypeError(type(o))


def pack(o):
    out = []
    _pack(o, out)
    return b"".join(out)


def unpack(b):
    """The one object in b; ValueError if bytes are left over."""
    o, i = unpack_from(b, 0)
    if i != len(b):
        raise ValueError("trailing bytes")
    return o


def unpack_from(b, i):
    """(object, offset after it) for the object starting at b[i]."""
    t = b[i]
    i += 1
    if t < 0x80:
        return t, i
    if t >= 0xE0:
        return t - 256, i
    if 0x80 <= t <= 0x8F:
        return _map(b, i, t & 15)
    if 0x90 <= t <= 0x9F:
        return _arr(b, i, t & 15)
    if 0xA0 <= t <= 0xBF:
        n = t & 31
        return b[i:i + n].decode(), i + n
    if t == 0xC0:
        return None, i
    if t == 0xC2:
        return False, i
    if t == 0xC3:
        return True, i
    fixed = {0xCC: ">B", 0xCD: ">H", 0xCE: ">I", 0xCF: ">Q",
             0xD0: ">b", 0xD1: ">h", 0xD2: ">i", 0xD3: ">q"}
    if t in fixed:
        f = fixed[t]
        n = struct.calcsize(f)
        return struct.unpack(f, b[i:i + n])[0], i + n
    if t in (0xD9, 0xDA, 0xDB, 0xC4, 0xC5, 0xC6):
        f = {0xD9: ">B", 0xDA: ">H", 0xDB: ">I", 0xC4: ">B", 0xC5: ">H", 0xC6: ">I"}[t]
        h = struct.calcsize(f)
        n = struct.unpack(f, b[i:i + h])[0]
        i += h
        v = b[i:i + n]
        return (v.decode() if t >= 0xD9 else bytes(v)), i + n
    if t in (0xDC, 0xDD):
        f = ">H" if t == 0xDC else ">I"
        h = struct.calcsize(f)
        return _arr(b, i + h, struct.unpack(f, b[i:i + h])[0])
    if t in (0xDE, 0xDF):
        f = ">H" if t == 0xDE else ">I"
        h = struct.calcsize(f)
        return _map(b, i + h, struct.unpack(f, b[i:i + h])[0])
    raise ValueError("msgpack type %#x not used by agah" % t)


def _arr(b, i, n):
    v = []
    for _ in range(n):
        x, i = unpack_from(b, i)
        v.append(x)
    return v, i


def _map(b, i, n):
    v = {}
    for _ in range(n):
        k, i = unpack_from(b, i)
        x, i = unpack_from(b, i)
        v[k] = x
    return v, i


# --- framing and requests -----------------------------------------------

def frame(body):
    """body behind its 4-byte big-endian length."""
    return struct.pack(">I", len(body)) + body


def request(cmd, **args):
    """The msgpack body of one request."""
    req = {"v": VERSION, "cmd": cmd}
    req.update(args)
    return pack(req)


def read_exact(s, n):
    """n bytes from socket s, or None at EOF before they all came."""
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def recv(s):
    """One response from socket s as a dict, or None at EOF."""
    hdr = read_exact(s, 4)
    if hdr is None:
        return None
    (n,) = struct.unpack(">I", hdr)
    body = read_exact(s, n)
    if body is None:
        return None
    return unpack(body)


def connect(path, timeout=10.0):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    return s


class ControlError(Exception):
    pass


class Control:
    """One connection to DIR/agahd.sock."""

    def __init__(self, data_dir, timeout=10.0):
        self.sock = connect(os.path.join(data_dir, "agahd.sock"), timeout)
        self.buf = b""

    def close(self):
        self.sock.close()

    def send(self, cmd, **args):
        self.sock.sendall(frame(request(cmd, **args)))

    def feed(self, data):
        """Appends received bytes; returns the whole messages now complete."""
        self.buf += data
        msgs = []
        while len(self.buf) >= 4:
            n = struct.unpack(">I", self.buf[:4])[0]
            if len(self.buf) < 4 + n:
                break
            msgs.append(unpack(self.buf[4:4 + n]))
            self.buf = self.buf[4 + n:]
        return msgs

    def recv(self):
        while True:
            msgs = self.feed(b"") if len(self.buf) >= 4 else []
            if msgs:
                # Put back all but the first (feed consumed them).
                rest = msgs[1:]
                if rest:
                    self.buf = b"".join(frame(pack(m)) for m in rest) + self.buf
                return msgs[0]
            data = self.sock.recv(1 << 20)
            if not data:
                raise ControlError("daemon closed the control socket")
            self.buf += data

    def call(self, cmd, **args):
        self.send(cmd, **args)
        r = self.recv()
        if not r.get("ok"):
            raise ControlError("%s: %s" % (cmd, r.get("error")))
        return r["result"]

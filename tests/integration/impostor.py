#!/usr/bin/env python3
"""An impostor agahd for test_cli_socket.sh: another local user's listener
on a control socket, answering every request the way agahd answers a
`check` that found nothing ("not flagged"), and recording what it got.

It appends one line per accepted connection to OUT.conns and every byte a
client sent to OUT.bytes, so the test can assert that a refusing CLI neither
connected nor sent a query. Self-contained (no import), so it runs as a user
who cannot read the source tree.

usage: impostor.py SOCKET OUT READY   (READY: its pid, written once listening)
"""
import os
import socket
import struct
import sys
import threading


def pack_str(s):
    b = s.encode()
    return bytes([0xA0 | len(b)]) + b


def answer():
    # {"v": 1, "ok": true, "result": {"normalized": "+85251234567",
    #  "flagged": false, "alerts": []}}
    result = (b"\x83" + pack_str("normalized") + pack_str("+85251234567") +
              pack_str("flagged") + b"\xc2" + pack_str("alerts") + b"\x90")
    body = b"\x83" + pack_str("v") + b"\x01" + pack_str("ok") + b"\xc3" + \
        pack_str("result") + result
    return struct.pack(">I", len(body)) + body


def serve(conn, out, lock):
    buf = b""
    with conn:
        while True:
            try:
                chunk = conn.recv(65536)
            except OSError:
                return
            if not chunk:
                return
            with lock, open(out + ".bytes", "ab") as f:
                f.write(chunk)
            buf += chunk
            while len(buf) >= 4:
                (n,) = struct.unpack(">I", buf[:4])
                if len(buf) < 4 + n:
                    break
                buf = buf[4 + n:]
                try:
                    conn.sendall(answer())
                except OSError:
                    return


def main():
    path, out, ready = sys.argv[1:4]
    lock = threading.Lock()
    open(out + ".bytes", "wb").close()
    open(out + ".conns", "w").close()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    os.chmod(path, 0o666)
    s.listen(16)
    with open(ready, "w") as f:
        f.write("%d\n" % os.getpid())
    while True:
        conn, _ = s.accept()
        with lock, open(out + ".conns", "a") as f:
            f.write("connect\n")
        threading.Thread(target=serve, args=(conn, out, lock), daemon=True).start()


if __name__ == "__main__":
    main()

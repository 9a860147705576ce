#!/usr/bin/env bash
# Captures the seed corpus of fuzz_ctlresp from a real agahd: a community of
# an organiser and a member with a number, an account and an alert posted,
# one confirmed and one retracted, then every response shape the CLI
# decodes (check flagged and not, list pages, show, members, peers, status,
# watch events, refusals), each written as fuzz_ctlresp reads it: a
# selector byte, then the frames exactly as they came off the socket.
# Usage: tests/fuzz/ctlresp_seeds.sh [BUILD_DIR]  (writes tests/fuzz/corpus/fuzz_ctlresp)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../integration/lib.sh"
lib_init ctlresp_seeds "${1:-}"
out=$here/corpus/fuzz_ctlresp
mkdir -p "$out"
node_init org
node_init mem
community_found org
p1=$(free_port)
start_daemon org "$p1"
invite_join org mem member
agah_on org post number "+852 5123 4567" --category harassment --note "ئاگاھ: threatening calls" >/dev/null
agah_on org post account "wechat:spoofed_uncle" --category impersonation >/dev/null
agah_on org post alert --category surveillance --severity danger --note "a line
and another" >/dev/null
id=$(agah_on org list --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
p2=$(free_port)
start_daemon mem "$p2" "$p1"
wait_until 30 agah_on mem show "$id"
agah_on mem confirm "$id" --note "same here" >/dev/null
wait_until 30 sh -c "'$AGAH' --data '$(node_dir org)' show '$id' | grep -q 'confirmations *1'"
id2=$(agah_on org list --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[1]["id"])')
agah_on org retract "$id2" --reason "a mistake" >/dev/null
AGAH_SRC=$AGAH_SRC python3 - "$(node_dir org)" "$out" "$id" <<'PY'
import os, socket, struct, sys, time
sys.path.insert(0, os.path.join(os.environ.get("AGAH_SRC", "."), "tests"))
from agahctl import pack
data, out, alert = sys.argv[1:4]

def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(os.path.join(data, "agahd.sock"))
    return s

def frame(s):
    hdr = b""
    while len(hdr) < 4:
        hdr += s.recv(4 - len(hdr))
    n = struct.unpack(">I", hdr)[0]
    body = b""
    while len(body) < n:
        body += s.recv(n - len(body))
    return hdr + body

def ask(s, cmd, **a):
    req = {"v": 1, "cmd": cmd}
    req.update(a)
    b = pack(req)
    s.sendall(struct.pack(">I", len(b)) + b)
    return frame(s)

def save(name, sel, frames):
    for js in (0, 8):
        with open(os.path.join(out, "%s%s" % (name, "_json" if js else "")), "wb") as f:
            f.write(bytes([sel | js]) + b"".join(frames))

s = conn()
save("check_flagged", 0, [ask(s, "check", query="+852 5123 4567", region=None)])
save("check_not", 0, [ask(s, "check", query="+90 532 000 0000", region=None)])
save("check_refused", 0, [ask(s, "check", query="not a number", region=None)])
save("check_batch", 7, [ask(s, "check", query="+852 5123 4567", region=None),
                        ask(s, "check", query="bad", region=None),
                        ask(s, "check", query="wechat:spoofed_uncle", region=None)])
save("list_all", 1 | 64, [ask(s, "list", kind=None, all=True, limit=1000)])
save("list_pages", 1 | 64, [ask(s, "list", kind=None, all=True, limit=1),
                            ask(s, "list", kind=None, all=True, limit=1000)])
save("list_empty", 1, [ask(s, "list", kind="account", all=False, limit=1000)])
save("show", 2, [ask(s, "show", id=alert)])
save("show_unknown", 2, [ask(s, "show", id="00" * 32)])
save("members", 3, [ask(s, "members")])
save("peers", 4, [ask(s, "peers")])
for np in range(4):
    save("status_%d" % np, 5 | np << 4, [ask(s, "status")])
s.close()
w = conn()
first = ask(w, "watch")
p = conn()
ask(p, "post", kind="number", target="+852 5999 0000", region=None, category="scam",
    note="watch me", severity="warning", expires=86400)
save("watch", 6, [first, frame(w)])
w.close()
p.close()
PY
ls "$out" | wc -l

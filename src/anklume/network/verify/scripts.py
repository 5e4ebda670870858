"""Small Python programs run inside instances (``python3 -c``) during verify.

They use only the standard library (python3 is in every image anklume
provisions). The listener binds the given ports, prints ``ready`` and a JSON
list of ports it could not bind, records the tokens it receives, and prints
them as JSON when its stdin closes or its time is up. The prober sends one
token per probe, all probes in parallel, and prints each outcome as JSON.
"""

from __future__ import annotations

LISTENER = r"""
import json, select, socket, sys, time
spec = json.loads(sys.argv[1]); deadline = time.monotonic() + float(sys.argv[2])
socks, failed, tokens = {}, [], []
for proto, port in spec:
    kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    s = socket.socket(socket.AF_INET, kind)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind((sys.argv[3] if len(sys.argv) > 3 else "0.0.0.0", port))
        if proto == "tcp":
            s.listen(64)
    except OSError:
        failed.append([proto, port]); s.close(); continue
    socks[s] = proto
print("ready " + json.dumps(failed), flush=True)
watch = list(socks) + [sys.stdin]
while time.monotonic() < deadline:
    ready, _, _ = select.select(watch, [], [], max(0.0, deadline - time.monotonic()))
    if sys.stdin in ready and not sys.stdin.readline():
        break
    for s in ready:
        if s is sys.stdin:
            continue
        try:
            if socks[s] == "udp":
                tokens.append(s.recvfrom(256)[0].decode(errors="replace"))
                continue
            conn, _ = s.accept(); conn.settimeout(1.0)
            tokens.append(conn.recv(256).decode(errors="replace")); conn.close()
        except OSError:
            pass
print(json.dumps(tokens), flush=True)
"""

PROBER = r"""
import json, socket, sys, threading, time
probes, timeout, out = json.loads(sys.argv[1]), float(sys.argv[2]), {}
def probe(token, proto, ip, port):
    try:
        if proto == "udp":
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            for _ in range(3):
                s.sendto(token.encode(), (ip, port)); time.sleep(0.1)
            out[token] = "sent"
        else:
            s = socket.create_connection((ip, port), timeout=timeout)
            s.sendall(token.encode()); out[token] = "open"
        s.close()
    except ConnectionRefusedError:
        out[token] = "refused"
    except OSError as exc:
        out[token] = "timeout" if isinstance(exc, socket.timeout) else "error"
threads = [threading.Thread(target=probe, args=p) for p in probes]
for t in threads: t.start()
for t in threads: t.join()
print(json.dumps(out), flush=True)
"""

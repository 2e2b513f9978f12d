#!/usr/bin/env python3
"""Issue #18's non-reader attack, by hand: PEERS clients pipeline 2,000 `workflow.get`s of a RECORD_MB record and
never read, while one polite client asks `stats` every 5 ms for 8 s. Prints the daemon's peak RSS (VmHWM) before
and after, and the worst `stats` latency (spikes over 20 ms as they happen).

  tools/probes/nonreaders.py FLOWLINED PEERS RECORD_MB [daemon flags...]
  e.g. tools/probes/nonreaders.py .build/release/flowlined 8 0.5 --max-pending-output-bytes 4194304
"""
import socket, subprocess, sys, time, json, threading, shutil, signal, tempfile, os
binary, peers, record_mb, extra = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4:]
work = tempfile.mkdtemp(prefix="flowline-nonreaders-")
d = subprocess.Popen([binary, "--listen", "127.0.0.1:0", "--data", os.path.join(work, "data"), "--sync", "none", "--log-level", "notice"] + extra,
    stdout=subprocess.PIPE, stderr=open(os.path.join(work, "daemon.err"), "w"), preexec_fn=lambda: signal.signal(signal.SIGPIPE, signal.SIG_DFL))
port = int(d.stdout.readline().decode().strip().rsplit(":", 1)[1])
def status(key):
    for l in open("/proc/%d/status" % d.pid):
        if l.startswith(key): return int(l.split()[1]) // 1024
c = socket.create_connection(("127.0.0.1", port)); f = c.makefile("rb")
pad = "p" * int(record_mb * (1 << 20))
c.sendall((json.dumps({"jsonrpc":"2.0","id":1,"method":"workflow.submit","params":{"name":"b","id":"big","input":{"pad":pad},"tasks":[{"id":"a","handler":"h","queue":"none"}]}}) + "\n").encode()); f.readline()
base = status("VmHWM")
lines = b"".join(b'{"jsonrpc":"2.0","id":%d,"method":"workflow.get","params":{"workflow_id":"big"}}\n' % j for j in range(2000))
socks = []
def attack():
    s = socket.create_connection(("127.0.0.1", port)); socks.append(s); s.settimeout(8)
    try: s.sendall(lines)
    except Exception: pass
ts = [threading.Thread(target=attack) for _ in range(peers)]
for t in ts: t.start()
worst = 0; n = 0; at = 0; start = time.time(); end = time.time() + 8
while time.time() < end and d.poll() is None:
    t0 = time.time(); c.sendall(b'{"jsonrpc":"2.0","id":2,"method":"stats","params":{}}\n'); f.readline()
    dt = time.time() - t0
    if dt > 0.02: print("  spike %.1f ms at %.2f s" % (dt * 1000, t0 - start))
    if dt > worst: worst, at = dt, t0 - start
    n += 1; time.sleep(0.005)
print("peers=%d record=%.1fMB args=%s: VmHWM %d -> %d MiB, VmRSS now %s MiB, worst stats %.1f ms (at %.2f s) over %d calls, alive=%s"
      % (peers, record_mb, extra, base, status("VmHWM") or -1, status("VmRSS"), worst * 1000, at, n, d.poll() is None))
d.kill()
d.wait()
shutil.rmtree(work, ignore_errors=True)

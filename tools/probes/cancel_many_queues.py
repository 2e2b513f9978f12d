#!/usr/bin/env python3
"""Issue #18's quadratic-cancel probe, by hand: N workers, each on 100 queues (one shared), each running one task of
one workflow; prints how long `workflow.cancel` of that workflow takes to answer.

  tools/probes/cancel_many_queues.py FLOWLINED N      (e.g. 300 or 1000)
"""
import socket, json, time, os, sys, subprocess, resource, shutil, tempfile
binary, n = sys.argv[1], int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_NOFILE, (20000, 20000))
work = tempfile.mkdtemp(prefix="flowline-cancel-")
data = os.path.join(work, "data")
p = subprocess.Popen([binary,"--listen","127.0.0.1:0","--data",data,"--sync","none","--log-level","error"], stdout=subprocess.PIPE)
port = int(p.stdout.readline().decode().strip().rsplit(":",1)[1])
def send(s, m, params, id=None):
    o = {"jsonrpc":"2.0","method":m,"params":params}
    if id is not None: o["id"]=id
    s.sendall((json.dumps(o)+"\n").encode())
c = socket.create_connection(("127.0.0.1", port)); cf = c.makefile("rb")
send(c,"workflow.submit",{"name":"wide","id":"wide","tasks":[{"id":"t%d"%i,"handler":"h","queue":"shared"} for i in range(n)]},1); cf.readline()
ws=[]
for i in range(n):
    w = socket.create_connection(("127.0.0.1", port))
    send(w,"hello",{"role":"worker","name":"w%d"%i,"protocol":1,"queues":["shared"]+["w%d-q%d"%(i,j) for j in range(1,100)],"concurrency":1},1)
    ws.append((w, w.makefile("rb")))
for w, wf in ws:
    wf.readline(); wf.readline()  # hello answer, task.run
t0=time.time()
send(c,"workflow.cancel",{"workflow_id":"wide"},2)
c.settimeout(600)
r = json.loads(cf.readline())
print("workers=%d cancel_ms=%d state=%s" % (n, (time.time()-t0)*1000, r["result"]["state"]))
p.terminate(); p.wait()
shutil.rmtree(work, ignore_errors=True)

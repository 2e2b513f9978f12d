"""W1, W2 and W3 on beanstalkd, for `tools/bench --compare`.

Starts Debian's beanstalkd on a free loopback port with its binlog on (in a temporary directory; `--fsync-ms`
passes `-f`), and drives it with greenstalk (PyPI) from worker processes of this script (`--worker`), the way
beanstalkd users build workflows: beanstalkd has none, so W2's fan-out/fan-in and W3's chain are orchestrated
by the client, which puts jobs and reserves their results from a reply tube.

- W1: `tasks` jobs put on one connection, pipelined (up to 1,000 in flight, raw protocol: greenstalk has no
  pipelining), reserved and deleted by `workers` worker processes: jobs/s from the first put to the last delete.
- W2: split → `fanout` parts → combine (whose body carries every part's result): seconds end to end.
- W3: a chain of `chain` jobs, each carrying the previous result: ms per step between arrivals at the worker.

Prints one JSON line per figure: {"figure", "value", "unit", "config"}.
"""

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

import greenstalk


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# -- worker process -------------------------------------------------------------------------------------------

def worker_main(port: int, tubes) -> None:
    """Reserves jobs from `tubes`, runs them (a JSON body with kind, reply tube and data), puts the result on
    the reply tube (if any), deletes the job. Reports {"completed", "last_ns", "arrivals"} when stdin closes."""
    state = {"completed": 0, "last_ns": 0, "arrivals": []}
    lock = threading.Lock()

    def report() -> None:
        sys.stdin.read()
        with lock:
            sys.stdout.write(json.dumps(state) + "\n")
            sys.stdout.flush()
        os._exit(0)

    threading.Thread(target=report, daemon=True).start()
    client = greenstalk.Client(("127.0.0.1", port), watch=tubes)
    while True:
        job = client.reserve()
        body = json.loads(job.body)
        kind = body.get("kind")
        if kind == "step":
            with lock:
                state["arrivals"].append(time.monotonic_ns())
        if kind == "part":
            result = body.get("i")
        elif kind == "combine":
            result = len(body.get("deps", {}))
        elif kind == "step":
            result = (body.get("prev") or 0) + 1
        else:
            result = None
        reply = body.get("reply")
        if reply:
            client.use(reply)
            client.put(json.dumps({"id": body.get("id"), "result": result}))
        client.delete(job)
        now = time.monotonic_ns()
        with lock:
            state["completed"] += 1
            state["last_ns"] = now


def start_workers(port: int, count: int, tubes):
    return [subprocess.Popen([sys.executable, __file__, "--worker", str(port), "--tubes", ",".join(tubes)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) for _ in range(count)]


def finish_workers(procs):
    tallies = []
    for p in procs:
        out, _ = p.communicate("", timeout=60)
        tallies.append(json.loads(out.strip().splitlines()[-1]))
    return tallies


def wait_for_watchers(client, tube: str, count: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if client.stats_tube(tube).get("current-watching", 0) >= count:
                return
        except greenstalk.NotFoundError:
            pass
        time.sleep(0.01)
    raise RuntimeError("beanstalk workers did not connect")


# -- workloads ------------------------------------------------------------------------------------------------

def w1(port: int, tasks: int, workers: int) -> float:
    procs = start_workers(port, workers, ["w1"])
    stats = greenstalk.Client(("127.0.0.1", port))
    wait_for_watchers(stats, "w1", workers)
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    body = json.dumps({"kind": "noop"}).encode()
    put = b"put 0 0 60 %d\r\n%s\r\n" % (len(body), body)
    sock.sendall(b"use w1\r\n")
    buffered = b""
    while b"\r\n" not in buffered:
        buffered += sock.recv(65536)
    buffered = buffered.split(b"\r\n", 1)[1]
    sent = acked = 0
    started = time.monotonic_ns()
    while acked < tasks:
        batch = min(tasks - sent, 1000 - (sent - acked))
        if batch > 0:
            sock.sendall(put * batch)
            sent += batch
        buffered += sock.recv(1 << 20)
        lines = buffered.split(b"\r\n")
        buffered = lines.pop()
        for line in lines:
            if not line.startswith(b"INSERTED"):
                raise RuntimeError("put failed: %r" % line)
            acked += 1
    deadline = time.monotonic() + 600
    while stats.stats_tube("w1").get("cmd-delete", 0) < tasks:
        if time.monotonic() > deadline:
            raise RuntimeError("W1 on beanstalkd did not finish")
        time.sleep(0.02)
    tallies = finish_workers(procs)
    assert sum(t["completed"] for t in tallies) >= tasks
    return tasks / ((max(t["last_ns"] for t in tallies) - started) / 1e9)


def w2(port: int, fanout: int, workers: int) -> float:
    procs = start_workers(port, workers, ["w2"])
    client = greenstalk.Client(("127.0.0.1", port), use="w2", watch="w2-results")
    wait_for_watchers(client, "w2", workers)

    def collect(n):
        results = {}
        for _ in range(n):
            job = client.reserve(timeout=60)
            answer = json.loads(job.body)
            results[answer["id"]] = answer["result"]
            client.delete(job)
        return results

    started = time.monotonic()
    client.put(json.dumps({"kind": "noop", "id": "split", "reply": "w2-results"}))
    split = collect(1)
    for i in range(fanout):
        client.put(json.dumps({"kind": "part", "id": "p%d" % i, "i": i, "reply": "w2-results",
                               "deps": {"split": split["split"]}}))
    parts = collect(fanout)
    client.put(json.dumps({"kind": "combine", "id": "combine", "reply": "w2-results", "deps": parts}))
    combined = collect(1)
    seconds = time.monotonic() - started
    finish_workers(procs)
    assert combined["combine"] == fanout, combined
    return seconds


def w3(port: int, chain: int):
    procs = start_workers(port, 1, ["w3"])
    client = greenstalk.Client(("127.0.0.1", port), use="w3", watch="w3-results")
    wait_for_watchers(client, "w3", 1)
    prev = None
    for i in range(chain):
        client.put(json.dumps({"kind": "step", "id": "t%d" % i, "prev": prev, "reply": "w3-results"}))
        job = client.reserve(timeout=60)
        prev = json.loads(job.body)["result"]
        client.delete(job)
    arrivals = finish_workers(procs)[0]["arrivals"]
    assert prev == chain and len(arrivals) == chain, (prev, len(arrivals))
    steps = sorted((b - a) / 1e6 for a, b in zip(arrivals, arrivals[1:]))
    return steps[len(steps) // 2], steps[min(len(steps) - 1, len(steps) * 99 // 100)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--tubes", default="default", help=argparse.SUPPRESS)
    parser.add_argument("--tasks", type=int, default=10000)
    parser.add_argument("--fanout", type=int, default=1000)
    parser.add_argument("--chain", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--fsync-ms", help="beanstalkd -f MS (0: fsync every write); default: beanstalkd's own")
    parser.add_argument("--beanstalkd", default=shutil.which("beanstalkd") or "/usr/bin/beanstalkd")
    args = parser.parse_args()
    if args.worker:
        worker_main(args.worker, args.tubes.split(","))
        return
    binlog = tempfile.mkdtemp(prefix="beanstalk-bench-")
    port = free_port()
    command = [args.beanstalkd, "-l", "127.0.0.1", "-p", str(port), "-b", binlog]
    if args.fsync_ms is not None:
        command += ["-f", args.fsync_ms]
    label = "-f " + args.fsync_ms if args.fsync_ms is not None else "default fsync"
    server = subprocess.Popen(command)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

        def emit(figure, value, unit, config):
            print(json.dumps({"figure": figure, "value": value, "unit": unit,
                              "config": "binlog {}, {}".format(label, config)}), flush=True)

        emit("w1_tasks_per_s", w1(port, args.tasks, args.workers), "tasks/s",
             "{} jobs, {} greenstalk workers".format(args.tasks, args.workers))
        emit("w2_seconds", w2(port, args.fanout, args.workers), "s",
             "split→{}→combine in client code".format(args.fanout))
        p50, p99 = w3(port, args.chain)
        emit("w3_ms_per_step_p50", p50, "ms", "chain of {} in client code".format(args.chain))
        emit("w3_ms_per_step_p99", p99, "ms", "chain of {} in client code".format(args.chain))
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(binlog, ignore_errors=True)


if __name__ == "__main__":
    main()

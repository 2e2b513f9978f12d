"""A bench worker process on the Flowline Python library (tools/python/flowline): no-op handlers, run until
stdin closes, then one JSON line: {"completed", "last_ns", "arrivals"} (time.monotonic_ns, CLOCK_MONOTONIC,
the clock the Swift bench driver reads). A completion is counted when the daemon's answer to task.complete
arrives, so it is durable."""

import argparse
import json
import sys
import threading
import time

from flowline import Worker


class BenchWorker(Worker):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.lock = threading.Lock()
        self.completed = 0
        self.last_ns = 0
        self.arrivals = []

    def _outcome_answered(self, ctx, method, error):
        # On the connection's reader thread, once the daemon has taken the outcome.
        if error is None:
            now = time.monotonic_ns()
            with self.lock:
                self.completed += 1
                self.last_ns = now


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--name", default="py")
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()
    worker = BenchWorker("127.0.0.1:{}".format(args.port), queues=["default"], concurrency=args.concurrency,
                         name=args.name)

    def step(ctx):
        worker.arrivals.append(time.monotonic_ns())
        previous = next(iter(ctx.deps.values()), 0) or 0
        return previous + 1

    worker.register("noop", lambda ctx: None)
    worker.register("part", lambda ctx: ctx.input.get("i"))
    worker.register("combine", lambda ctx: len(ctx.deps))
    worker.register("step", step)
    worker.start()
    sys.stdin.read()
    with worker.lock:
        line = json.dumps({"completed": worker.completed, "last_ns": worker.last_ns, "arrivals": worker.arrivals})
    sys.stdout.write(line + "\n")
    sys.stdout.flush()
    import os
    os._exit(0)


if __name__ == "__main__":
    main()

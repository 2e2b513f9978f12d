"""A worker in its own process, for the tests that signal it:

    python3 worker_process.py ADDRESS QUEUE GRACE_S SLEEP_S

Serves handler ``slow`` on QUEUE: prints ``running <task_id> <attempt>`` when a run starts, sleeps SLEEP_S
(waking early if its lease ends) and returns ``{"slept": SLEEP_S}``. Exits with the code ``Worker.run()`` leaves.
"""

import logging
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from flowline import Worker  # noqa: E402


def main() -> None:
    address, queue, grace_s, sleep_s = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s")
    worker = Worker(address, queues=[queue], concurrency=2, name="signalled", grace_s=grace_s)

    @worker.handler()
    def slow(ctx):
        print("running {} {}".format(ctx.task_id, ctx.attempt), flush=True)
        ctx.sleep(sleep_s)
        return {"slept": sleep_s}

    worker.run()
    print("exiting", flush=True)


if __name__ == "__main__":
    main()

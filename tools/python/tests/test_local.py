"""The local mode (SPEC §8 ``Flow.run_local``): a Flow run in-process with no daemon, and the same flows on
the daemon giving the same record."""

import asyncio
import time
import unittest

from support import DaemonTestCase, task_of

from flowline import (Flow, Future, PermanentFailure, Poll, Retry, Sleep, Spawn, TaskFailure, in_parallel, send,
                      task)


def shape(record):
    """What the local mode must agree with the daemon on."""
    return {
        "state": record["state"], "result": record["result"], "error": record["error"],
        "reverted": record["reverted"], "revert_failures": record["revert_failures"],
        "tasks": [(t["id"], t["state"], t["attempts"], t["deps"], t["result"]) for t in record["tasks"]]}


def diamond_with_spawn(queue):
    flow = Flow("local-diamond", queue=queue)

    @flow.task()
    def split(parts):
        return Spawn([task("square", id="p{}".format(i), input={"n": i}, queue=queue) for i in range(parts)]
                     + [task("total", id="sum", deps=["p{}".format(i) for i in range(parts)], queue=queue)],
                     output="sum")

    @flow.handler()
    def square(n):
        return n * n

    @flow.handler()
    def total(*results):
        return sum(results)

    @flow.task(deps=[split], retry=Retry(3, backoff_s=0.01))
    async def report(split, attempt):
        await asyncio.sleep(0)
        if attempt < 2:
            raise ConnectionError("flaky")
        return "sum of squares: {}".format(split)

    return flow


def failing_with_reverts(queue):
    flow = Flow("local-revert", queue=queue)

    @flow.task(revert="undo")
    def book(input):
        return "booked"

    @flow.task(deps=[book], revert="undo")
    def pay(book):
        return "paid"

    @flow.task(deps=[pay])
    def ship(pay):
        raise PermanentFailure("no truck", type="shipping")

    @flow.task(deps=[ship])
    def notify(ship):
        return "never"

    @flow.handler()
    def undo(task_id, result):
        if task_id == "book":
            raise TaskFailure("cannot unbook", retryable=False)
        return "undone " + result

    return flow


class LocalMode(unittest.TestCase):
    def test_deps_spawn_retries_and_async_in_process(self):
        record = diamond_with_spawn("q").run_local({"parts": 4})
        self.assertEqual(record["state"], "completed", record)
        self.assertEqual(record["result"], {"report": "sum of squares: 14"})
        self.assertEqual(task_of(record, "report")["attempts"], 2)
        self.assertEqual(task_of(record, "split/sum")["deps"], ["split/p0", "split/p1", "split/p2", "split/p3"])
        self.assertEqual(task_of(record, "split")["result"], 14)

    def test_a_failure_skips_downstream_and_reverts_in_reverse(self):
        record = failing_with_reverts("q").run_local()
        self.assertEqual(record["state"], "failed")
        self.assertEqual(record["error"], {"type": "shipping", "message": "no truck", "retryable": False})
        self.assertEqual([(t["id"], t["state"]) for t in record["tasks"]], [
            ("book", "revert_failed"), ("pay", "reverted"), ("ship", "failed"), ("notify", "skipped")])
        self.assertEqual((record["reverted"], record["revert_failures"]), (False, ["book"]))

    def test_futures_are_settled_by_the_callback_and_polls_and_sleeps_run(self):
        flow = Flow("local-futures")
        polls = []

        @flow.task()
        def wait_for_job(workflow_id):
            return Future("bq-job-" + workflow_id, timeout_s=60)

        @flow.task()
        def nap():
            return Sleep(0.05)

        @flow.task(deps=[wait_for_job])
        def watch(wait_for_job):
            return Poll("check", input={"job": wait_for_job}, interval_s=0.01)

        @flow.handler()
        def check(job):
            polls.append(job)
            return None if len(polls) < 3 else {"rows": job["rows"]}

        seen = []

        def futures(future, ctx):
            seen.append((future.key, ctx.task_id))
            return {"rows": 7}

        started = time.monotonic()
        record = flow.run_local(futures=futures, id="wf-local")
        self.assertGreaterEqual(time.monotonic() - started, 0.05)
        self.assertEqual(record["state"], "completed", record)
        self.assertEqual(seen, [("bq-job-wf-local", "wait_for_job")])
        self.assertEqual(record["result"], {"nap": None, "watch": {"rows": 7}})
        self.assertEqual(len(polls), 3)

        def reject(future, ctx):
            raise TaskFailure("job failed", type="bigquery", retryable=False)

        record = flow.run_local(futures=reject)
        self.assertEqual(record["state"], "failed")
        self.assertEqual(task_of(record, "wait_for_job")["error"]["type"], "bigquery")
        self.assertEqual(task_of(record, "watch")["state"], "skipped")

    def test_pipelines_run_locally(self):
        def say_hello(first_name, last_name):
            return "Hello {} {}".format(first_name, last_name)

        def say_goodbye(greeting, punctuation="."):
            return "{}{}  So now I will say goodbye".format(greeting, punctuation)

        def mean(values):
            return sum(values) / len(values)

        flow = send(say_hello, "Jane", "Doe").continue_with(say_goodbye, punctuation="!").to_flow("greet")
        record = flow.run_local()
        self.assertEqual(record["result"], {"say_goodbye": "Hello Jane Doe!  So now I will say goodbye"})

        flow = in_parallel([send(len, "ab"), send(len, "abcd")]).continue_with(mean).to_flow("avg")
        self.assertEqual(flow.run_local()["result"], {"mean": 3.0})


class LocalAgreesWithTheDaemon(DaemonTestCase):
    def check(self, flow, input=None):
        self.start_worker(flow.worker(self.client))
        remote = self.wait(flow.submit(self.client, input))
        local = flow.run_local(input)
        self.assertEqual(shape(local), shape(remote))

    def test_spawn_retries_and_async(self):
        self.check(diamond_with_spawn(self.queue), {"parts": 3})

    def test_failure_and_reverts(self):
        self.check(failing_with_reverts(self.queue))

"""The worker's batching (tasks of one read handed over together, outcomes written together and answered on
the reader thread) must not change what handlers see: a blocked handler holds no other task or outcome back,
refused outcomes still turn into task.fail, graceful stop waits for the answers."""

import threading
import unittest

from support import DaemonTestCase, task_of, wait_until

from flowline import Spawn, Worker
from flowline.connection import loads


class Lines(unittest.TestCase):
    def test_loads_takes_a_line_as_json_loads_does(self):
        self.assertEqual(loads('{"a":[1,2.5,null,true]}'), {"a": [1, 2.5, None, True]})
        self.assertEqual(loads(' {"a":1} \r'), {"a": 1})  # whitespace either side
        self.assertEqual(loads('"\\u00e9"'), "\u00e9")
        for bad in ('{"a":1} x', "", "{", "nan"):
            with self.assertRaises(ValueError, msg=bad):
                loads(bad)


class Batching(DaemonTestCase):
    def test_many_quick_tasks_all_complete_on_few_threads(self):
        w = Worker(self.client, handlers={"inc": lambda ctx: ctx.input["i"] + 1}, queues=[self.queue],
                   concurrency=64)
        self.start_worker(w)
        ids = [self.client.submit({"name": "q", "tasks": [
            {"id": "t", "handler": "inc", "queue": self.queue, "input": {"i": i}}]})["workflow_id"]
            for i in range(300)]
        for i, wid in enumerate(ids):
            record = self.wait(wid)
            self.assertEqual(record["result"], {"t": i + 1})
        wait_until(lambda: w.active == 0, 5, message="every outcome answered")
        self.assertLessEqual(w._threads, 64)

    def test_a_blocked_handler_holds_back_neither_tasks_nor_outcomes_handed_over_with_it(self):
        release = threading.Event()

        def block(ctx):
            release.wait(20)
            return "blocked"

        w = Worker(self.client, handlers={"block": block, "quick": lambda ctx: ctx.task_id},
                   queues=[self.queue], concurrency=4)
        self.start_worker(w)
        try:
            # One workflow: its four ready tasks are dispatched together, so they arrive in one read.
            wid = self.client.submit({"name": "mixed", "tasks": [
                {"id": "q1", "handler": "quick", "queue": self.queue},
                {"id": "b", "handler": "block", "queue": self.queue},
                {"id": "q2", "handler": "quick", "queue": self.queue},
                {"id": "q3", "handler": "quick", "queue": self.queue}]})["workflow_id"]

            def quick_done():
                record = self.client.get(wid)
                return all(task_of(record, t)["state"] == "completed" for t in ("q1", "q2", "q3"))
            wait_until(quick_done, 10, message="the quick tasks to complete while one handler is blocked")
            self.assertEqual(task_of(self.client.get(wid), "b")["state"], "running")
        finally:
            release.set()
        record = self.wait(wid)
        self.assertEqual(record["state"], "completed")
        self.assertEqual(task_of(record, "b")["result"], "blocked")

    def test_a_refused_outcome_becomes_a_task_fail(self):
        self.require("task.spawn")
        # A spawn whose output names no spawned task is refused (-32602): the attempt fails for good instead.
        w = Worker(self.client, handlers={"bad": lambda ctx: Spawn([{"id": "x", "handler": "quick"}], output="nowhere")}, queues=[self.queue],
                   concurrency=2)
        self.start_worker(w)
        wid = self.client.submit({"name": "refused", "tasks": [
            {"id": "a", "handler": "bad", "queue": self.queue}]})["workflow_id"]
        record = self.wait(wid)
        self.assertEqual(record["state"], "failed", record)
        self.assertEqual(task_of(record, "a")["error"]["type"], "invalid_outcome")
        wait_until(lambda: w.active == 0, 5, message="the task.fail answered")

    def test_graceful_stop_waits_for_the_answers_of_outcomes_sent(self):
        w = Worker(self.client, handlers={"quick": lambda ctx: "ok"}, queues=[self.queue], concurrency=16)
        w.start()
        self.assertTrue(w.wait_connected(10))
        ids = [self.client.submit({"name": "s", "tasks": [{"id": "t", "handler": "quick", "queue": self.queue}]})[
            "workflow_id"] for _ in range(50)]
        wait_until(lambda: self.client.get(ids[-1])["state"] == "completed", 10, message="the last workflow")
        self.assertTrue(w.stop(10))
        self.assertEqual(w.active, 0)
        for wid in ids:
            self.assertEqual(self.client.get(wid)["state"], "completed")


if __name__ == "__main__":
    unittest.main()

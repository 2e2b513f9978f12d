"""The worker and the Flow decorator API against the real daemon."""

import os
import threading
import time
import uuid

from support import Daemon, DaemonTestCase, free_port, task_of, wait_until

from flowline import Client, Flow, PermanentFailure, Retry, TaskFailure, Worker


class FunctionFlowDiamond(DaemonTestCase):
    def test_diamond_via_decorators(self):
        # Function Flow's example, without the BigQuery future: step1 -> step2, step3 -> step4.
        flow = Flow("test_job", queue=self.queue)
        seen = {}

        @flow.task(task_id="step1")
        def task1(**unused_context):
            return "result1"

        @flow.task(task_id="step2", deps=["step1"])
        def task2(step1, **unused_context):
            return "result2"

        @flow.task(task_id="step3", deps=[task1])  # a decorated function names its task
        def task3(step1, workflow_input, attempt, **context):
            seen["step3"] = (step1, workflow_input, attempt, context["task_id"], context["workflow_name"])
            return {"rows": workflow_input["rows"]}

        @flow.task(task_id="step4", deps=["step2", "step3"])
        def task4(step2, step3, **unused_context):
            assert step2 == "result2"
            return "result4 after {} rows".format(step3["rows"])

        document = flow.document({"rows": 7})
        self.assertEqual([(t["id"], t["handler"], t.get("deps", [])) for t in document["tasks"]], [
            ("step1", "task1", []), ("step2", "task2", ["step1"]), ("step3", "task3", ["step1"]),
            ("step4", "task4", ["step2", "step3"])])
        self.start_worker(flow.worker(self.client))
        wid = flow.submit(self.client, {"rows": 7})
        record = self.wait(wid)
        self.assertEqual(record["state"], "completed", record)
        self.assertEqual(record["result"], {"step4": "result4 after 7 rows"})
        self.assertEqual(seen["step3"], ("result1", {"rows": 7}, 1, "step3", "test_job"))
        self.assertEqual(task_of(record, "step2")["result"], "result2")
        self.assertEqual(task_of(record, "step1")["worker"], "test_job-worker")


class RetriesAndFailures(DaemonTestCase):
    def test_retry_succeeds_on_attempt_3(self):
        flow = Flow("flaky", queue=self.queue)
        attempts = []

        @flow.task(retry=Retry(max_attempts=3, backoff_s=0.05, backoff_multiplier=1))
        def flaky(attempt):
            attempts.append(attempt)
            if attempt < 3:
                raise ConnectionError("transient #{}".format(attempt))
            return "ok on {}".format(attempt)

        self.start_worker(flow.worker(self.client))
        record = self.wait(flow.submit(self.client))
        self.assertEqual(record["state"], "completed", record)
        self.assertEqual(attempts, [1, 2, 3])
        t = task_of(record, "flaky")
        self.assertEqual((t["attempts"], t["result"]), (3, "ok on 3"))

    def test_permanent_failure_skips_downstream(self):
        flow = Flow("perm", queue=self.queue)
        calls = []

        @flow.task(retry=5)
        def broken():
            calls.append(1)
            raise PermanentFailure("bad input", type="validation")

        @flow.task(deps=[broken])
        def after(broken):
            return broken

        self.start_worker(flow.worker(self.client))
        record = self.wait(flow.submit(self.client))
        self.assertEqual(record["state"], "failed")
        self.assertEqual(len(calls), 1)
        t = task_of(record, "broken")
        self.assertEqual(t["state"], "failed")
        self.assertEqual(t["error"]["type"], "validation")
        self.assertEqual(t["error"]["message"], "bad input")
        self.assertEqual(task_of(record, "after")["state"], "skipped")

    def test_exceptions_are_typed_by_class_and_unknown_handlers_fail(self):
        w = Worker(self.client, queues=[self.queue], concurrency=1, route_by_handler=False)
        w.register("boom", lambda ctx: 1 / 0)
        self.start_worker(w)
        wid = self.client.submit({"name": "e", "tasks": [
            {"id": "a", "handler": "boom", "queue": self.queue},
            {"id": "b", "handler": "missing", "queue": self.queue}]})["workflow_id"]
        record = self.wait(wid)
        self.assertEqual(record["state"], "failed")
        errors = {t["id"]: t["error"] for t in record["tasks"] if t["error"]}
        self.assertTrue(errors.get("a", {}).get("type") == "ZeroDivisionError" or
                        errors.get("b", {}).get("type") == "unknown_handler", errors)


class Routing(DaemonTestCase):
    def test_two_workers_of_different_handlers_share_a_queue(self):
        """SPEC §8: each worker gets only its handlers' tasks, none fails as unknown_handler, and a task no
        worker offers waits ready with waiting_for saying why."""
        seen = {"extract": [], "load": []}

        def extract(ctx):
            seen["extract"].append(ctx.task_id)
            return 1

        def load(ctx):
            seen["load"].append(ctx.task_id)
            return 2

        first = Worker(self.client, handlers={"extract": extract}, queues=[self.queue], concurrency=2)
        self.start_worker(first)
        wid = self.client.submit({"name": "routed", "tasks": [
            {"id": "l{}".format(i), "handler": "load", "queue": self.queue} for i in range(3)] + [
            {"id": "e{}".format(i), "handler": "extract", "queue": self.queue} for i in range(3)]})["workflow_id"]
        deadline = time.monotonic() + 10
        while len(seen["extract"]) < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        record = self.client.get(wid)
        self.assertEqual(sorted(seen["extract"]), ["e0", "e1", "e2"])
        self.assertEqual(task_of(record, "l0")["state"], "ready")
        self.assertEqual(task_of(record, "l0")["waiting_for"],
                         "no worker offers handler load on queue {}".format(self.queue))
        self.start_worker(Worker(self.client, handlers={"load": load}, queues=[self.queue], concurrency=2))
        record = self.wait(wid)
        self.assertEqual(record["state"], "completed")
        self.assertEqual(sorted(seen["load"]), ["l0", "l1", "l2"])
        self.assertTrue(all(t["waiting_for"] is None for t in record["tasks"]))


class Concurrency(DaemonTestCase):
    def test_never_more_than_concurrency_handlers(self):
        lock = threading.Lock()
        state = {"now": 0, "max": 0}

        def slow(ctx):
            with lock:
                state["now"] += 1
                state["max"] = max(state["max"], state["now"])
            time.sleep(0.15)
            with lock:
                state["now"] -= 1
            return ctx.task_id

        w = Worker(self.client, handlers={"slow": slow}, queues=[self.queue], concurrency=2)
        self.start_worker(w)
        wid = self.client.submit({"name": "wide", "tasks": [
            {"id": "t{}".format(i), "handler": "slow", "queue": self.queue} for i in range(8)]})["workflow_id"]
        record = self.wait(wid)
        self.assertEqual(record["state"], "completed")
        self.assertEqual(state["max"], 2)
        mine = [x for x in self.client.workers() if x["name"] == w.name]
        self.assertEqual([x["concurrency"] for x in mine], [2])


class Cancellation(DaemonTestCase):
    def test_cancel_reaches_the_running_handler_and_no_outcome_is_sent(self):
        started = threading.Event()
        seen = {}

        def long(ctx):
            started.set()
            seen["woke"] = ctx.cancelled.wait(10)
            seen["reason"] = ctx.cancel_reason
            seen["heartbeat_after"] = ctx.heartbeat(1)
            return "finished anyway"  # must not be sent

        w = Worker(self.client, handlers={"long": long}, queues=[self.queue], concurrency=1)
        self.start_worker(w)
        wid = self.client.submit({"name": "c", "tasks": [{"id": "a", "handler": "long", "queue": self.queue}]})[
            "workflow_id"]
        self.assertTrue(started.wait(10))
        record = self.client.cancel(wid, reason="user asked")
        self.assertEqual(record["state"], "cancelled")
        wait_until(lambda: "heartbeat_after" in seen, 10, message="the handler to see the cancel")
        self.assertTrue(seen["woke"])
        self.assertFalse(seen["heartbeat_after"])
        wait_until(lambda: w.active == 0, 5, message="the handler to end")
        record = self.client.get(wid)
        self.assertEqual(task_of(record, "a")["state"], "cancelled")
        self.assertIsNone(task_of(record, "a")["result"])


class HeartbeatsAndShutdown(DaemonTestCase):
    def test_heartbeat_progress_shows_in_status(self):
        release = threading.Event()

        def work(ctx):
            self.assertTrue(ctx.heartbeat(0.5))
            release.wait(10)
            ctx.heartbeat("almost")
            return "done"

        w = Worker(self.client, handlers={"work": work}, queues=[self.queue])
        self.start_worker(w)
        wid = self.client.submit({"name": "hb", "tasks": [
            {"id": "a", "handler": "work", "queue": self.queue, "heartbeat_s": 5}]})["workflow_id"]
        wait_until(lambda: task_of(self.client.get(wid), "a")["progress"] == 0.5, 10, message="progress 0.5")
        release.set()
        self.assertEqual(self.wait(wid)["state"], "completed")

    def test_graceful_stop_finishes_running_handlers(self):
        started = threading.Event()

        def work(ctx):
            started.set()
            time.sleep(0.3)
            return "finished"

        w = Worker(self.client, handlers={"work": work}, queues=[self.queue])
        w.start()
        self.assertTrue(w.wait_connected(10))
        wid = self.client.submit({"name": "stop", "tasks": [{"id": "a", "handler": "work", "queue": self.queue}]})[
            "workflow_id"]
        self.assertTrue(started.wait(10))
        self.assertTrue(w.stop(10))
        self.assertFalse(w.connected)
        record = self.wait(wid, 5)
        self.assertEqual(record["state"], "completed")
        self.assertEqual(task_of(record, "a")["result"], "finished")

    def test_a_stopping_worker_is_sent_nothing_more_and_work_moves_on_without_using_attempts(self):
        started = threading.Event()
        release = threading.Event()

        def slow(ctx):
            started.set()
            release.wait(10)
            return "slow done"

        def fast(ctx):
            return "fast done"

        stopping = Worker(self.client, handlers={"slow": slow, "fast": fast}, queues=[self.queue], concurrency=2,
                          name="stopping")
        stopping.start()
        self.assertTrue(stopping.wait_connected(10))
        first = self.client.submit({"name": "s", "tasks": [{"id": "a", "handler": "slow", "queue": self.queue}]})[
            "workflow_id"]
        self.assertTrue(started.wait(10))
        stopper = threading.Thread(target=stopping.stop, args=(10,))
        stopper.start()
        # worker.quiet reached the daemon: a workflow submitted now must not go to the stopping worker.
        wait_until(lambda: any(w["name"] == "stopping" and w["concurrency"] == 0 for w in self.client.workers()),
                   10, message="the stopping worker is quiet")
        second = self.client.submit({"name": "f", "tasks": [{"id": "b", "handler": "fast", "queue": self.queue}]})[
            "workflow_id"]
        other = Worker(self.client, handlers={"fast": fast}, queues=[self.queue], name="other")
        self.start_worker(other)
        record = self.wait(second)
        self.assertEqual(task_of(record, "b")["worker"], "other")
        self.assertEqual(task_of(record, "b")["attempts"], 1)
        release.set()
        stopper.join(15)
        self.assertEqual(task_of(self.wait(first), "a")["result"], "slow done")


class Restart(DaemonTestCase):
    @classmethod
    def setUpClass(cls):
        cls.daemon = Daemon(port=free_port()).start()
        cls.client = Client(cls.daemon.address, timeout=10)

    def test_worker_reconnects_after_sigkill_and_the_workflow_completes(self):
        flow = Flow("restart", queue=self.queue)
        runs = []
        in_step2 = threading.Event()
        release = threading.Event()

        @flow.task()
        def step1():
            return 1

        @flow.task(deps=[step1])
        def step2(step1, attempt):
            runs.append(attempt)
            if len(runs) == 1:
                in_step2.set()
                release.wait(10)  # the daemon dies meanwhile: this lease is gone
            return step1 + 1

        @flow.task(deps=[step2])
        def step3(step2):
            return step2 * 10

        worker = self.start_worker(flow.worker(self.client.address, concurrency=2))
        wid = flow.submit(self.client, id="restart-" + uuid.uuid4().hex[:6])
        self.assertTrue(in_step2.wait(10))
        port = self.daemon.port
        self.daemon.kill()
        wait_until(lambda: not worker.connected, 5, message="the worker to notice")
        release.set()
        self.daemon.start()
        self.assertEqual(self.daemon.port, port)
        wait_until(lambda: worker.sessions >= 2, 10, message="the worker to reconnect")
        record = self.wait(wid, 15)  # the client reconnects by itself
        self.assertEqual(record["state"], "completed", record)
        self.assertEqual(record["result"], {"step3": 20})
        self.assertEqual(runs, [1, 1], "a restart alone must not use up an attempt")
        self.assertEqual(task_of(record, "step2")["attempts"], 1)


class Examples(DaemonTestCase):
    """tools/examples/*.py run against this daemon, each with its worker in-process."""

    def example(self, name, *extra):
        import os
        import subprocess
        import sys
        from support import REPO_ROOT
        path = os.path.join(REPO_ROOT, "tools", "examples", name + ".py")
        proc = subprocess.run([sys.executable, path, "--server", self.daemon.address, "--timeout", "15"] +
                              list(extra), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
        out = proc.stdout.decode("utf-8", "replace")
        self.assertEqual(proc.returncode, 0, out)
        return out

    def test_simpleflow_basic(self):
        self.assertIn("(1 + 1) * 2 = 4", self.example("simpleflow_basic"))

    def test_simpleflow_basic_local(self):
        import subprocess
        import sys
        from support import REPO_ROOT
        path = os.path.join(REPO_ROOT, "tools", "examples", "simpleflow_basic.py")
        for stdin, line in (('{"args": [1]}', "(1 + 1) * 2 = 4"), ('{"kwargs": {"x": 5}}', "(5 + 1) * 2 = 12")):
            proc = subprocess.run([sys.executable, path, "--local"], input=stdin.encode(), stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, timeout=30)
            self.assertEqual((proc.returncode, proc.stdout.decode().strip()), (0, line))

    def test_flink_greeting(self):
        for extra in ((), ("--local",)):
            self.assertIn("Hello Jane Doe.  So now I will say goodbye", self.example("flink_greeting", *extra))

    def test_gigq_etl(self):
        self.assertIn('result: {"notify": {"notifications_sent": 1}}', self.example("gigq_etl"))

    def test_function_flow(self):
        self.require("task.await", "future.resolve")
        self.assertIn('"query_rows": 42', self.example("function_flow"))

    def test_flink_stocks(self):
        self.require("task.spawn")
        self.assertIn("average std dev:", self.example("flink_stocks"))

    def test_job_runner(self):
        self.require("task.await", "task.spawn")  # reverts come with the same daemon work
        out = self.example("job_runner", "--attempts", "2")
        # TaskFlow's Times(2): the failed attach reverts itself first, then the volume, then the instance, and the
        # whole flow runs again with new ones.
        self.assertLess(out.index("revert: detaching"), out.index("deleting volume"))
        self.assertLess(out.index("deleting volume"), out.index("terminating instance"))
        self.assertLess(out.index("terminating instance"), out.index("run 2: creating"))
        self.assertIn("completed at run 2", out)

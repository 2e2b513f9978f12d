"""task.await (key / sleep / poll), future.resolve/reject, task.spawn and reverts. Each test skips, naming the
missing methods, while the daemon answers -32601 for them; they switch on by themselves once it has them."""

import statistics
import threading
import uuid

from support import DaemonTestCase, task_of, wait_until

from flowline import Flow, Future, Poll, Retry, Sleep, Spawn, done, task

AWAIT = ("task.await", "future.resolve", "future.reject")


class Futures(DaemonTestCase):
    def test_function_flow_diamond_with_an_external_event(self):
        self.require(*AWAIT)
        flow = Flow("test_job", queue=self.queue)

        @flow.task(task_id="step1")
        def task1(**unused_context):
            return "result1"

        @flow.task(task_id="step2", deps=["step1"])
        def task2(**unused_context):
            return "result2"

        @flow.task(task_id="step3", deps=["step1"])
        def task3(workflow_id, **unused_context):
            return Future(key="bq-job-" + workflow_id, timeout_s=30)  # a BigQuery job's id

        @flow.task(task_id="step4", deps=["step2", "step3"])
        def task4(step2, step3, **unused_context):
            assert step2 == "result2"
            return {"step3": step3}

        self.start_worker(flow.worker(self.client))
        wid = flow.submit(self.client)
        wait_until(lambda: task_of(self.client.get(wid), "step3")["state"] == "waiting", 10,
                   message="step3 to wait on its future")
        # The external-event listener: the query job finished.
        self.assertEqual(self.client.resolve("bq-job-" + wid, {"rows": 3}), 1)
        record = self.wait(wid)
        self.assertEqual(record["state"], "completed", record)
        self.assertEqual(record["result"], {"step4": {"step3": {"rows": 3}}})
        self.assertEqual(task_of(record, "step3")["result"], {"rows": 3})

    def test_a_resolution_that_comes_first_is_kept(self):
        self.require(*AWAIT)
        key = "early-" + uuid.uuid4().hex
        self.assertEqual(self.client.resolve(key, "early"), 0)
        flow = Flow("early", queue=self.queue)

        @flow.task()
        def waits():
            return Future(key=key)

        self.start_worker(flow.worker(self.client))
        record = self.wait(flow.submit(self.client))
        self.assertEqual(record["result"], {"waits": "early"})

    def test_reject_fails_the_task(self):
        self.require(*AWAIT)
        key = "rej-" + uuid.uuid4().hex
        flow = Flow("rej", queue=self.queue)

        @flow.task()
        def waits():
            return Future(key=key)

        self.start_worker(flow.worker(self.client))
        wid = flow.submit(self.client)
        wait_until(lambda: task_of(self.client.get(wid), "waits")["state"] == "waiting", 10, message="waiting")
        self.assertEqual(self.client.reject(key, {"type": "job_failed", "message": "quota", "retryable": False}), 1)
        record = self.wait(wid)
        self.assertEqual(record["state"], "failed")
        self.assertEqual(task_of(record, "waits")["state"], "failed")

    def test_sleep_completes_with_null(self):
        self.require("task.await")
        flow = Flow("nap", queue=self.queue)

        @flow.task()
        def nap():
            return Sleep(0.2)

        @flow.task(deps=[nap])
        def after(nap):
            return ["after", nap]

        self.start_worker(flow.worker(self.client))
        record = self.wait(flow.submit(self.client))
        self.assertEqual(record["result"], {"after": ["after", None]})

    def test_poll_runs_the_poll_handler_until_done(self):
        self.require("task.await")
        flow = Flow("poll", queue=self.queue)
        polls = []

        @flow.task()
        def start_job():
            return Poll(check_job, input={"job": "j1"}, interval_s=0.05, timeout_s=20)

        @flow.handler()
        def check_job(job, context):
            assert context.poll
            polls.append(job)
            return None if len(polls) < 3 else done({"job": job, "polls": len(polls)})

        self.start_worker(flow.worker(self.client))
        record = self.wait(flow.submit(self.client))
        self.assertEqual(record["state"], "completed", record)
        self.assertEqual(record["result"], {"start_job": {"job": "j1", "polls": 3}})
        self.assertEqual(task_of(record, "start_job")["attempts"], 1)


class Spawning(DaemonTestCase):
    def test_flink_stocks_fan_out_and_in(self):
        self.require("task.spawn")
        flow = Flow("timeseries", queue=self.queue)
        prices = {"BT.L": [1, 2, 3, 4], "DAIGn.DE": [2, 4, 6, 8], "BP.L": [5, 5, 5, 6]}

        @flow.task()
        def timeseries_workflow(stocks):
            tasks = []
            for s in stocks:
                tasks.append(task(load_timeseries, id="load-" + s, input={"stock": s}, queue=self.queue))
                tasks.append(task(compute_std_dev, id="std-" + s, deps=["load-" + s], queue=self.queue))
            tasks.append(task(compute_average, id="average", deps=["std-" + s for s in stocks], queue=self.queue))
            return Spawn(tasks, output="average")

        @flow.handler()
        def load_timeseries(stock):
            return prices[stock]

        @flow.handler()
        def compute_std_dev(prices):
            return statistics.pstdev(prices)

        @flow.handler()
        def compute_average(*std_devs):
            return statistics.mean(std_devs)

        self.start_worker(flow.worker(self.client))
        record = self.wait(flow.submit(self.client, {"stocks": list(prices)}))
        self.assertEqual(record["state"], "completed", record)
        expected = statistics.mean(statistics.pstdev(p) for p in prices.values())
        self.assertAlmostEqual(record["result"]["timeseries_workflow"], expected)
        ids = [t["id"] for t in record["tasks"]]
        self.assertIn("timeseries_workflow/average", ids)
        self.assertIn("timeseries_workflow/load-BT.L", ids)


class Reverts(DaemonTestCase):
    def test_job_runner_reverts_in_reverse_order_when_attach_fails_for_good(self):
        # Reverts arrive with the same daemon work as task.await and task.spawn.
        self.require("task.await", "task.spawn")
        flow = Flow("vps", queue=self.queue)
        log = []
        lock = threading.Lock()

        def note(*item):
            with lock:
                log.append(item)

        @flow.handler()
        def delete_instance(result, input):
            note("delete_instance", result, input)

        @flow.handler()
        def delete_volume(result):
            note("delete_volume", result)

        @flow.task(revert=delete_instance, input={"size": "t3.micro"})
        def create_instance(size):
            note("create_instance")
            return {"instance_id": "i-123", "size": size}

        @flow.task(deps=[create_instance], revert=delete_volume)
        def create_volume():
            note("create_volume")
            return {"volume_id": "vol-9"}

        @flow.task(deps=[create_instance, create_volume], retry=Retry(3, backoff_s=0.05))
        def attach_volume(create_instance, create_volume, attempt):
            note("attach", attempt)
            raise RuntimeError("the volume never becomes available")

        self.start_worker(flow.worker(self.client))
        record = self.wait(flow.submit(self.client))
        self.assertEqual(record["state"], "failed", record)
        self.assertTrue(record["reverted"], record)
        self.assertEqual(record["revert_failures"], [])
        self.assertEqual(task_of(record, "create_instance")["state"], "reverted")
        self.assertEqual(task_of(record, "create_volume")["state"], "reverted")
        self.assertEqual([e for e in log if e[0] == "attach"], [("attach", 1), ("attach", 2), ("attach", 3)])
        reverts = [e for e in log if e[0].startswith("delete")]
        self.assertEqual(reverts, [
            ("delete_volume", {"volume_id": "vol-9"}),
            ("delete_instance", {"instance_id": "i-123", "size": "t3.micro"}, {"size": "t3.micro"})])

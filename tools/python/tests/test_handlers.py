"""Handlers as people write them: ``async def``, positional arguments, and failures that carry the traceback."""

import asyncio
import os

from support import PACKAGE_ROOT, DaemonTestCase, task_of

from flowline import Flow, Worker, task


class AsyncHandlers(DaemonTestCase):
    def test_async_def_handlers_run_on_an_asyncio_loop(self):
        flow = Flow("aio", queue=self.queue)

        @flow.task()
        async def fetch(n):
            await asyncio.sleep(0.01)
            return {"n": n, "loop": asyncio.get_running_loop() is not None}

        @flow.task(deps=[fetch])
        async def double(fetch):
            await asyncio.sleep(0)
            return fetch["n"] * 2

        self.start_worker(flow.worker(self.client))
        record = self.wait(flow.submit(self.client, {"n": 21}))
        self.assertEqual(record["state"], "completed", record)
        self.assertEqual(task_of(record, "fetch")["result"], {"n": 21, "loop": True})
        self.assertEqual(record["result"], {"double": 42})

    def test_async_handler_on_a_plain_worker_and_its_failure(self):
        worker = Worker(self.daemon.address, queues=[self.queue])

        @worker.handler()
        async def ok(ctx):
            await asyncio.sleep(0.01)
            return ctx.input["x"] + 1

        @worker.handler()
        async def broken(ctx):
            await asyncio.sleep(0)
            raise ValueError("async boom")

        self.start_worker(worker)
        wid = self.client.submit({"name": "aio2", "tasks": [task("ok", queue=self.queue, input={"x": 1})]})
        record = self.wait(wid["workflow_id"])
        self.assertEqual(task_of(record, "ok")["result"], 2)
        wid = self.client.submit({"name": "aio3", "tasks": [task("broken", queue=self.queue)]})
        record = self.wait(wid["workflow_id"])
        error = task_of(record, "broken")["error"]
        self.assertEqual(error["type"], "ValueError")
        self.assertTrue(error["message"].startswith("async boom\n\nTraceback (most recent call last):"), error)
        self.assertIn("in broken", error["message"])


class PositionalArguments(DaemonTestCase):
    def test_workflow_and_task_inputs_written_as_calls(self):
        flow = Flow("basic", queue=self.queue)

        @flow.task()
        def increment(x):
            return x + 1

        @flow.task(deps=[increment])
        def double(x):
            return x * 2

        @flow.task(input={"args": [2, 3], "kwargs": {"scale": 10}})
        def area(width, height, scale=1, task_id=None):
            return [width * height * scale, task_id]

        self.start_worker(flow.worker(self.client))
        # simpleflow: {"args": [1]} is the same as {"kwargs": {"x": 1}}
        for input in ({"args": [1]}, {"kwargs": {"x": 1}}, {"args": [1], "kwargs": {}}):
            record = self.wait(flow.submit(self.client, input))
            self.assertEqual(record["state"], "completed", record)
            self.assertEqual(record["result"], {"double": 4, "area": [60, "area"]}, input)

    def test_plain_handlers_see_args_and_kwargs(self):
        worker = Worker(self.daemon.address, queues=[self.queue])
        worker.register("echo", lambda ctx: [ctx.args, ctx.kwargs])
        self.start_worker(worker)
        wid = self.client.submit({"name": "echo", "tasks": [
            task("echo", id="call", queue=self.queue, input={"args": [1, "a"], "kwargs": {"k": None}}),
            task("echo", id="plain", queue=self.queue, input={"args": 1, "other": 2})]})["workflow_id"]
        record = self.wait(wid)
        self.assertEqual(task_of(record, "call")["result"], [[1, "a"], {"k": None}])
        self.assertEqual(task_of(record, "plain")["result"], [[], {}])


class Failures(DaemonTestCase):
    def test_a_failure_carries_the_traceback(self):
        flow = Flow("tb", queue=self.queue)

        def parse(text):
            return int(text)

        @flow.task()
        def load(text):
            return parse(text)

        self.start_worker(flow.worker(self.client))
        record = self.wait(flow.submit(self.client, {"text": "x1"}))
        self.assertEqual(record["state"], "failed", record)
        error = task_of(record, "load")["error"]
        self.assertEqual(error["type"], "ValueError")
        first, _, trace = error["message"].partition("\n\n")
        self.assertEqual(first, "invalid literal for int() with base 10: 'x1'")
        self.assertTrue(trace.startswith("Traceback (most recent call last):"), trace)
        self.assertIn("in load", trace)
        self.assertIn("in parse", trace)

    def test_the_package_is_typed(self):
        self.assertTrue(os.path.isfile(os.path.join(PACKAGE_ROOT, "flowline", "py.typed")))

"""send(...).continue_with(...), chain and in_parallel write the DAG (Flink Tasks, Celery), on the daemon."""

from support import DaemonTestCase, task_of

from flowline import Flow, Signature, chain, in_parallel, send


def say_hello(first_name, last_name):
    return "Hello {} {}".format(first_name, last_name)


def say_goodbye(greeting):
    return "{}.  So now I will say goodbye".format(greeting)


def load_timeseries(stock):
    return {"BT.L": [1, 3], "DAIGn.DE": [2, 4, 6], "BP.L": [10]}[stock]


def compute_spread(prices):
    return max(prices) - min(prices)


def compute_average(spreads, scale=1):
    return sum(spreads) * scale / len(spreads)


class Pipelines(DaemonTestCase):
    def test_continue_with_writes_the_dag(self):
        flow = send(say_hello, "Jane", "Doe").continue_with(say_goodbye).to_flow("greeting", queue=self.queue)
        self.assertEqual(flow.document()["tasks"], [
            {"id": "say_hello", "handler": "say_hello", "input": {"args": ["Jane", "Doe"], "kwargs": {}},
             "queue": self.queue},
            {"id": "say_goodbye", "handler": "say_goodbye", "deps": ["say_hello"],
             "input": {"args": [], "kwargs": {}}, "queue": self.queue}])
        self.start_worker(flow.worker(self.client))
        record = self.wait(flow.submit(self.client))
        self.assertEqual(record["result"], {"say_goodbye": "Hello Jane Doe.  So now I will say goodbye"})

    def test_a_handler_that_returns_a_pipeline_spawns_it(self):
        # Flink Tasks' greeting_workflow: the workflow function returns the pipeline to run.
        flow = Flow("greeting", queue=self.queue)
        flow.handler()(say_hello)
        flow.handler()(say_goodbye)

        @flow.task(input={"args": ["Jane", "Doe"]})
        def greeting_workflow(first_name, last_name):
            return say_hello.send(first_name, last_name).continue_with(say_goodbye)

        self.start_worker(flow.worker(self.client))
        record = self.wait(flow.submit(self.client))
        self.assertEqual(record["state"], "completed", record)
        self.assertEqual(record["result"],
                         {"greeting_workflow": "Hello Jane Doe.  So now I will say goodbye"})
        self.assertEqual(task_of(record, "greeting_workflow/say_goodbye")["deps"], ["greeting_workflow/say_hello"])

    def test_in_parallel_then_continue_gets_the_results_in_order(self):
        stocks = ["BT.L", "DAIGn.DE", "BP.L"]
        pipeline = in_parallel([chain(Signature(load_timeseries, [s]), compute_spread) for s in stocks]) \
            .continue_with(compute_average, scale=10)
        flow = pipeline.to_flow("stocks", queue=self.queue)
        self.assertEqual([t["id"] for t in flow.tasks], [
            "load_timeseries", "compute_spread", "load_timeseries-2", "compute_spread-2", "load_timeseries-3",
            "compute_spread-3", "compute_average"])
        self.start_worker(flow.worker(self.client))
        record = self.wait(flow.submit(self.client))
        self.assertEqual(record["state"], "completed", record)
        self.assertEqual(record["result"], {"compute_average": (2 + 4 + 0) * 10 / 3})
        self.assertEqual(flow.run_local()["result"], record["result"])

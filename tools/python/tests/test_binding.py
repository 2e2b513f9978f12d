"""How Flow binds a function's parameters from a task's context (no daemon needed)."""

import unittest

import support  # noqa: F401  (puts the package on sys.path)

from flowline import Flow, Future, Poll, Retry, Sleep, Spawn, bind_call, task
from flowline.worker import TaskContext


def ctx(**params):
    base = {"lease": "l", "workflow_id": "w", "workflow_name": "n", "task_id": "t", "handler": "h", "attempt": 2,
            "input": {}, "deps": {}, "workflow_input": {}}
    base.update(params)
    return TaskContext(None, base)  # type: ignore[arg-type]


class Binding(unittest.TestCase):
    def test_deps_by_id_and_context_names(self):
        def f(a, b, attempt, input, **rest):
            return a, b, attempt, input, sorted(rest)
        out = bind_call(f, ctx(deps={"a": 1, "b": 2}, input={"k": 1}))
        self.assertEqual(out[:4], (1, 2, 2, {"k": 1}))
        self.assertIn("workflow_input", out[4])
        self.assertNotIn("input", out[4])

    def test_function_flow_style_only_kwargs(self):
        def task1(**unused_context):
            return sorted(unused_context)
        names = bind_call(task1, ctx())
        for n in ("input", "deps", "workflow_input", "attempt", "task_id", "workflow_id", "context"):
            self.assertIn(n, names)

    def test_input_keys_then_sole_dep_then_workflow_input_then_default(self):
        def extract(source_url, output_file="x.csv"):
            return source_url, output_file
        self.assertEqual(bind_call(extract, ctx(input={"source_url": "u"})), ("u", "x.csv"))

        def double(x):
            return x * 2
        self.assertEqual(bind_call(double, ctx(deps={"increment": 2}, workflow_input={"x": 1})), 4)

        def increment(x):
            return x + 1
        self.assertEqual(bind_call(increment, ctx(workflow_input={"x": 1})), 2)

    def test_spawned_deps_by_short_id_and_var_positional(self):
        def average(*values):
            return sum(values) / len(values)
        self.assertEqual(bind_call(average, ctx(deps={"p/a": 1, "p/b": 3})), 2)

        def g(a, b):
            return a - b
        self.assertEqual(bind_call(g, ctx(deps={"p/a": 5, "p/b": 3})), 2)

    def test_missing_parameter_is_a_type_error(self):
        def h(nowhere):
            return nowhere
        with self.assertRaises(TypeError):
            bind_call(h, ctx())

    def test_revert_gets_result(self):
        def undo(result, input):
            return result, input
        self.assertEqual(bind_call(undo, ctx(revert=True, result={"id": 1}, input={"a": 1})), ({"id": 1}, {"a": 1}))


class Documents(unittest.TestCase):
    def test_document_shape(self):
        flow = Flow("etl", timeout_s=3600)

        @flow.handler()
        def undo_extract(result):
            pass

        @flow.task(retry=Retry(3, backoff_s=1, backoff_multiplier=2, max_backoff_s=60), timeout_s=300,
                   heartbeat_s=30, revert=undo_extract, priority=1, input={"url": "u"})
        def extract(url):
            return url

        @flow.task(task_id="transform", deps=[extract], retry=2, queue="cpu")
        def transform_fn(extract):
            return extract

        flow.add_task("load", deps=["transform"])
        doc = flow.document({"day": "d"}, id="etl-1")
        self.assertEqual(doc, {"name": "etl", "id": "etl-1", "input": {"day": "d"}, "timeout_s": 3600, "tasks": [
            {"id": "extract", "handler": "extract", "input": {"url": "u"},
             "retry": {"max_attempts": 3, "backoff_s": 1, "backoff_multiplier": 2, "max_backoff_s": 60},
             "timeout_s": 300, "heartbeat_s": 30, "revert": "undo_extract", "priority": 1},
            {"id": "transform", "handler": "transform_fn", "deps": ["extract"], "queue": "cpu",
             "retry": {"max_attempts": 2}},
            {"id": "load", "handler": "load", "deps": ["transform"]}]})
        self.assertEqual(sorted(flow.handlers), ["extract", "transform_fn", "undo_extract"])
        self.assertEqual(flow.worker("127.0.0.1:1").queues, ["cpu", "default"])
        with self.assertRaises(ValueError):
            flow.add_task("load")

    def test_outcome_json(self):
        self.assertEqual(Future("k", timeout_s=5).to_json(), {"key": "k", "timeout_s": 5})
        self.assertEqual(Sleep(0.5).to_json(), {"sleep_s": 0.5})
        self.assertEqual(Poll("check", input={"a": 1}, interval_s=2, timeout_s=9).to_json(),
                         {"poll": {"handler": "check", "input": {"a": 1}, "interval_s": 2}, "timeout_s": 9})
        s = Spawn([task("h", id="a"), task("h", id="b", deps=["a"])])
        self.assertEqual(s.to_json(), {"tasks": [{"id": "a", "handler": "h"},
                                                 {"id": "b", "handler": "h", "deps": ["a"]}], "output": "b"})


if __name__ == "__main__":
    unittest.main()

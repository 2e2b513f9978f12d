#!/usr/bin/env python3
"""simpleflow's quickstart, (x + 1) * 2, on Flowline. The input may be simpleflow's, on stdin:

    python3 tools/examples/simpleflow_basic.py --server HOST:PORT --x 1
    python3 tools/examples/simpleflow_basic.py --local <<< '{"args": [1]}'     # no daemon: run in-process
    (1 + 1) * 2 = 4

``{"args": [1]}`` is the same as ``{"kwargs": {"x": 1}}``, as in simpleflow.
"""

import json
import sys

from _common import arguments, run

from flowline import Flow

flow = Flow("basic", queue="quickstart")  # simpleflow's task_list


@flow.task()
def increment(x):  # x: the workflow's first positional argument, or its input's "x"
    return x + 1


@flow.task(deps=[increment])
def double(x):  # x is increment's result: a single dep's result fills the first free parameter
    return x * 2


def options(parser):
    parser.add_argument("--x", type=int, default=None, help="x (default: the input on stdin, else 1)")
    parser.add_argument("--local", action="store_true", help="run in this process with no daemon")


if __name__ == "__main__":
    args = arguments(__doc__, options)
    if args.x is not None:
        input = {"args": [args.x]}
    elif not sys.stdin.isatty() and args.local:
        input = json.loads(sys.stdin.read() or '{"args": [1]}')
    else:
        input = {"args": [1]}
    if args.local:
        record = flow.run_local(input)
    else:
        record = run(flow, args, input)
    if record["state"] != "completed":
        sys.exit(1)
    x = input.get("args", [None])[0] if input.get("args") else input.get("kwargs", {}).get("x")
    print("({} + 1) * 2 = {}".format(x, record["result"]["double"]))

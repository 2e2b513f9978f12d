#!/usr/bin/env python3
"""simpleflow's quickstart, (x + 1) * 2, on Flowline.

    python3 tools/examples/simpleflow_basic.py --server HOST:PORT --x 1
    (1 + 1) * 2 = 4
"""

import sys

from _common import arguments, run

from flowline import Flow

flow = Flow("basic", queue="quickstart")  # simpleflow's task_list


@flow.task()
def increment(x):  # x comes from the workflow input {"x": 1}
    return x + 1


@flow.task(deps=[increment])
def double(x):  # x is increment's result: a single dep's result fills the first free parameter
    return x * 2


if __name__ == "__main__":
    args = arguments(__doc__, lambda p: p.add_argument("--x", type=int, default=1))
    record = run(flow, args, {"x": args.x})
    if record["state"] != "completed":
        sys.exit(1)
    print("({} + 1) * 2 = {}".format(args.x, record["result"]["double"]))

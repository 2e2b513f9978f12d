#!/usr/bin/env python3
"""Flink Tasks' 1-N-1 example on Flowline: load three stock price series in parallel, compute each one's
standard deviation, then the average of the standard deviations. The N is decided at run time: the first
task spawns the fan-out and the fan-in (in_parallel(...).continue_with(compute_average)).

    python3 tools/examples/flink_stocks.py --server HOST:PORT
"""

import json
import random
import statistics
import sys

from _common import arguments, run

from flowline import Flow, Spawn, task

tasks = Flow("timeseries_workflow")


@tasks.task()
def timeseries_workflow(stocks):
    spawned = []
    for stock in stocks:
        spawned.append(task(load_timeseries, id="load-" + stock,
                            input={"stock": stock}, retry=3))
        spawned.append(task(compute_std_dev, id="std-" + stock, deps=["load-" + stock]))
    spawned.append(task(compute_average, id="average", deps=["std-" + s for s in stocks]))
    return Spawn(spawned, output="average")


@tasks.handler()
def load_timeseries(stock):
    # load timeseries from the market data system and return an array of prices
    rng = random.Random(stock)
    return [round(100 + rng.gauss(0, 5), 2) for _ in range(250)]


@tasks.handler()
def compute_std_dev(prices):
    return statistics.pstdev(prices)


@tasks.handler()
def compute_average(*std_devs):
    return statistics.mean(std_devs)


if __name__ == "__main__":
    args = arguments(__doc__)
    stocks = ["BT.L", "DAIGn.DE", "BP.L"]
    record = run(tasks, args, {"stocks": stocks})
    if record["state"] != "completed":
        sys.exit(1)
    # The functions are plain functions, testable without a daemon, as in Flink Tasks:
    local = compute_average(*[compute_std_dev(load_timeseries(s)) for s in stocks])
    print("average std dev:", json.dumps(record["result"]["timeseries_workflow"]), "(local check: {})".format(local))

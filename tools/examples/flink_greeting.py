#!/usr/bin/env python3
"""Flink Tasks' greeting_workflow on Flowline: the workflow function returns a pipeline,
``say_hello.send(first_name, last_name).continue_with(say_goodbye)``, which the task spawns; it completes
with the last call's result.

    python3 tools/examples/flink_greeting.py --server HOST:PORT [--local] [--first Jane --last Doe]
"""

import sys

from _common import arguments, run

from flowline import Flow

tasks = Flow("greeting_workflow")


@tasks.handler()
def say_hello(first_name, last_name):
    return f'Hello {first_name} {last_name}'


@tasks.handler()
def say_goodbye(greeting):
    return f'{greeting}.  So now I will say goodbye'


@tasks.task()
def greeting_workflow(first_name, last_name):
    return say_hello.send(first_name, last_name).continue_with(say_goodbye)


def options(parser):
    parser.add_argument("--first", default="Jane")
    parser.add_argument("--last", default="Doe")
    parser.add_argument("--local", action="store_true", help="run in this process with no daemon")


if __name__ == "__main__":
    args = arguments(__doc__, options)
    input = {"args": [args.first, args.last]}  # greeting_workflow(first_name, last_name)
    record = tasks.run_local(input) if args.local else run(tasks, args, input)
    if record["state"] != "completed":
        sys.exit(1)
    print(record["result"]["greeting_workflow"])

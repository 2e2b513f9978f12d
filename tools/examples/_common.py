"""Shared by the examples: --server/--token parsing, and running a flow with its worker in-process."""

import argparse
import json
import logging
import os
import sys

# Run from a checkout without `pip install tools/python`.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))

from flowline import Client, Flow  # noqa: E402


def arguments(description, extra=None):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--server", default="127.0.0.1:7420", help="flowlined HOST:PORT")
    parser.add_argument("--token", default=None, help="the daemon's token, if it has one")
    parser.add_argument("--timeout", type=float, default=60, help="seconds to wait for the workflow")
    parser.add_argument("-v", "--verbose", action="store_true")
    if extra is not None:
        extra(parser)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(name)s %(message)s")
    return args


def run(flow: Flow, args, input=None, concurrency=4):
    """Starts the flow's worker in this process, submits one run, waits, stops the worker; returns the record."""
    client = Client(args.server, token=args.token)
    worker = flow.worker(client, concurrency=concurrency).start()
    try:
        if not worker.wait_connected(10):
            sys.exit("cannot reach flowlined at {}".format(args.server))
        workflow_id = flow.submit(client, input)
        print("submitted {} ({})".format(workflow_id, flow.name))
        record = client.wait(workflow_id, timeout_s=args.timeout)
        print("workflow {} ended {}".format(workflow_id, record["state"]))
        for t in record["tasks"]:
            print("  {:<28} {:<10} attempts={} result={}".format(
                t["id"], t["state"], t["attempts"], json.dumps(t["result"]) if t["error"] is None
                else "error " + json.dumps(t["error"])))
        return record
    finally:
        worker.stop(5)
        client.close()

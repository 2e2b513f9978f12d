#!/usr/bin/env python3
"""The TaskFlow job runner's VPS example on Flowline: create an EC2 instance and an EBS volume, then attach the
volume. Each creation names a revert (TaskFlow's revert method) that cleans it up. Attaching is retried
(TaskFlow's Times(attempts)) and here fails for good, so the workflow fails and the reverts run, newest
first, each receiving its task's input and result.

    python3 tools/examples/job_runner.py --server HOST:PORT --attempts 3
"""

import logging
import sys

from _common import arguments, run

from flowline import Flow, Retry

log = logging.getLogger("job_runner")
flow = Flow("flow_1")
cleaned = []


@flow.handler()
def delete_instance(result, **unused):
    print("revert: terminating instance {}".format(result["instance_id"]))
    cleaned.append(result["instance_id"])


@flow.handler()
def delete_volume(result, **unused):
    print("revert: deleting volume {}".format(result["volume_id"]))
    cleaned.append(result["volume_id"])


@flow.task(revert=delete_instance, input={"instance_type": "t3.micro"})
def create_instance(instance_type, message, workflow_id):
    # message comes from the workflow input: TaskFlow's store
    print("creating {} instance ({})".format(instance_type, message))
    return {"instance_id": "i-" + workflow_id[-8:], "instance_type": instance_type}


# The seed's flow is a linear_flow: the volume is created after the instance, so reverting (newest first)
# deletes the volume before it terminates the instance.
@flow.task(revert=delete_volume, deps=[create_instance], input={"size_gb": 20})
def create_volume(size_gb, workflow_id, create_instance):
    print("creating {} GB volume".format(size_gb))
    return {"volume_id": "vol-" + workflow_id[-8:], "size_gb": size_gb}


def attach_retry(attempts):
    return Retry(max_attempts=attempts, backoff_s=0.2, backoff_multiplier=2)


@flow.task(deps=[create_instance, create_volume], retry=attach_retry(3))
def attach_volume(create_instance, create_volume, attempt):
    print("attempt {}: attaching {} to {}".format(attempt, create_volume["volume_id"],
                                                  create_instance["instance_id"]))
    raise RuntimeError("volume {} is stuck in 'creating'".format(create_volume["volume_id"]))


if __name__ == "__main__":
    args = arguments(__doc__, lambda p: p.add_argument("--attempts", "-a", type=int, default=3))
    for t in flow.tasks:
        if t["id"] == "attach_volume":
            t["retry"] = attach_retry(args.attempts).to_json()
    record = run(flow, args, {"message": "This is the message from the store"})
    print("reverted: {}, revert failures: {}".format(record["reverted"], record.get("revert_failures")))
    # This flow is meant to fail and clean up after itself.
    ok = record["state"] == "failed" and record["reverted"] is True
    sys.exit(0 if ok else 1)

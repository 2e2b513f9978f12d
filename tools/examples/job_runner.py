#!/usr/bin/env python3
"""The TaskFlow job runner's VPS example on Flowline: create an EC2 instance and an EBS volume, then attach the
volume, as a linear flow with retry=Times(attempts) on the flow. Each task names a revert (TaskFlow's revert
method); attaching's revert also runs when attaching itself fails (revert_on_failure: "when the execute fails
the revert is run"). When attaching fails, the whole flow reverts, newest first (the half-made attachment, the
volume, the instance), then runs again from the start and creates a new instance and volume. Attaching works
at the last run (--always-fail: never, and the flow fails for good after its last run).

    python3 tools/examples/job_runner.py --server HOST:PORT --attempts 3
"""

import logging
import sys

from _common import arguments, run

from flowline import Flow, Retry

log = logging.getLogger("job_runner")
ATTEMPTS = 3
flow = Flow("flow_1", retry=Retry(max_attempts=ATTEMPTS, backoff_s=0.2, backoff_multiplier=2))
cleaned = []
succeeds_on_run = [ATTEMPTS]


@flow.handler()
def delete_instance(result, **unused):
    print("revert: terminating instance {}".format(result["instance_id"]))
    cleaned.append(result["instance_id"])


@flow.handler()
def delete_volume(result, **unused):
    print("revert: deleting volume {}".format(result["volume_id"]))
    cleaned.append(result["volume_id"])


@flow.handler()
def detach_volume(error, **unused):
    # Run because attaching failed: no result, and the run carries attaching's error.
    print("revert: detaching after {}".format(error["message"].splitlines()[0]))
    cleaned.append("detach")


# Each run of the flow runs each task once, so a task's attempt number is the flow's run.
@flow.task(revert=delete_instance, input={"instance_type": "t3.micro"})
def create_instance(instance_type, message, workflow_id, attempt):
    # message comes from the workflow input: TaskFlow's store
    print("run {}: creating {} instance ({})".format(attempt, instance_type, message))
    return {"instance_id": "i-{}-{}".format(workflow_id[-8:], attempt), "instance_type": instance_type}


# The seed's flow is a linear_flow: the volume is created after the instance, so reverting (newest first)
# deletes the volume before it terminates the instance.
@flow.task(revert=delete_volume, deps=[create_instance], input={"size_gb": 20})
def create_volume(size_gb, workflow_id, create_instance, attempt):
    print("run {}: creating {} GB volume".format(attempt, size_gb))
    return {"volume_id": "vol-{}-{}".format(workflow_id[-8:], attempt), "size_gb": size_gb}


@flow.task(deps=[create_instance, create_volume], revert=detach_volume)
def attach_volume(create_instance, create_volume, attempt):
    print("run {}: attaching {} to {}".format(attempt, create_volume["volume_id"], create_instance["instance_id"]))
    if attempt != succeeds_on_run[0]:
        raise RuntimeError("volume {} is stuck in 'creating'".format(create_volume["volume_id"]))
    return {"attached": create_volume["volume_id"]}


for t in flow.tasks:
    if t["id"] == "attach_volume":
        t["revert_on_failure"] = True


if __name__ == "__main__":
    args = arguments(__doc__, lambda p: (p.add_argument("--attempts", "-a", type=int, default=ATTEMPTS),
                                         p.add_argument("--always-fail", action="store_true")))
    flow.retry["max_attempts"] = args.attempts
    succeeds_on_run[0] = 0 if args.always_fail else args.attempts
    record = run(flow, args, {"message": "This is the message from the store"})
    failed_runs = args.attempts if args.always_fail else args.attempts - 1
    print("flow_1 {} at run {}; cleaned up: {}".format(record["state"], record.get("attempt"), ", ".join(cleaned)))
    expected = "failed" if args.always_fail else "completed"
    ok = (record["state"] == expected and record.get("attempt") == args.attempts
          and cleaned.count("detach") == failed_runs and len(cleaned) == 3 * failed_runs)
    sys.exit(0 if ok else 1)

#!/usr/bin/env python3
"""Function Flow's example job on Flowline: step1 -> step2, step3 -> step4, where step3 starts a long query
job and waits on a Future keyed by the job's id. The job reports back through a separate external-event
listener process (this script with --external-event), which calls future.resolve.

    python3 tools/examples/function_flow.py --server HOST:PORT
    python3 tools/examples/function_flow.py --server HOST:PORT --schedule "*/10 * * * *"

The seed starts its job from a schedule topic (Cloud Scheduler publishing to SCHEDULE); on Flowline that is a
schedule (SPEC 11). With --schedule the script creates the schedule `test_job-schedule` (runs named
`test_job-schedule@TIME`), triggers one run now, and serves it like any other.
"""

import json
import logging
import subprocess
import sys
import time

from _common import arguments, run

from flowline import Client, Flow, Future

example_job = Flow("test_job")
ARGS = None


@example_job.task(task_id="step1")
def task1(**unused_context):
    """Task 1: a simple task that returns a string."""
    return "result1"


@example_job.task(task_id="step2", deps=["step1"])
def task2(**unused_context):
    """Task 2: a simple task that returns a string."""
    return "result2"


@example_job.task(task_id="step3", deps=["step1"])
def task3(workflow_id, attempt, **unused_context):
    """Task 3: an asynchronous query job. It starts the job and waits for its completion event."""
    job_id = "bq-job-{}-{}".format(workflow_id, attempt)
    start_query_job(job_id)
    return Future(key=job_id, timeout_s=300)


def get_task_result(workflow_id, task_id):
    """Function Flow's ``job.get_task_result``: any completed task's result of this workflow, not only a dep's.
    Flowline has no extra method for it: the task reads its workflow's record (``workflow.get``) and takes the
    task's result from it; the record always holds every task's result."""
    with Client(ARGS.server, token=ARGS.token, name="get-task-result") as client:
        record = client.get(workflow_id)
    task = next(t for t in record["tasks"] if t["id"] == task_id)
    if task["state"] != "completed":
        raise RuntimeError("task {} has not completed ({})".format(task_id, task["state"]))
    return task["result"]


@example_job.task(task_id="step4", deps=["step2", "step3"])
def task4(step3, workflow_id, **unused_context):
    """Task 4: a job that checks the result of task 2 and reads the query's."""
    result2 = get_task_result(workflow_id, "step2")
    logging.info("in task4, got task2 result: %s", result2)
    assert result2 == "result2"
    # step1 is no dep of step4, and its result is there all the same.
    assert get_task_result(workflow_id, "step1") == "result1"
    return {"result": "result4", "query_rows": step3["rows"]}


def start_query_job(job_id):
    """Stands in for `bigquery.Client().query(...)`: the job runs elsewhere and, when it finishes, its
    completion event reaches the external-event listener (here: a child process after a short delay)."""
    cmd = [sys.executable, __file__, "--server", ARGS.server, "--external-event", job_id,
           "--result", json.dumps({"job_id": job_id, "rows": 42}), "--delay", "0.5"]
    if ARGS.token:
        cmd += ["--token", ARGS.token]
    subprocess.Popen(cmd)


def external_event_listener(args):
    """The Cloud Function triggered by finished query jobs: resolves the future keyed by the job id."""
    time.sleep(args.delay)
    with Client(args.server, token=args.token, name="external-event-listener") as client:
        matched = client.resolve(args.external_event, json.loads(args.result))
    print("external event {}: resolved ({} task(s) waiting)".format(args.external_event, matched))


def run_scheduled(flow, args):
    """Creates (idempotently) the schedule that starts the job, triggers a run now, and serves it."""
    client = Client(args.server, token=args.token)
    worker = flow.worker(client, concurrency=4).start()
    try:
        if not worker.wait_connected(10):
            sys.exit("cannot reach flowlined at {}".format(args.server))
        client.call("schedule.create", {"schedule_id": flow.name + "-schedule", "cron": args.schedule,
                                        "timezone": args.timezone, "workflow": flow.document()})
        workflow_id = client.call("schedule.trigger", {"schedule_id": flow.name + "-schedule"})["workflow_id"]
        print("triggered {} (schedule {} {} {})".format(workflow_id, flow.name + "-schedule", args.schedule,
                                                       args.timezone))
        record = client.wait(workflow_id, timeout_s=args.timeout)
        print("workflow {} ended {}".format(workflow_id, record["state"]))
        schedule = client.call("schedule.get", {"schedule_id": flow.name + "-schedule"})
        print("next fire at {}".format(schedule["next_fire_at"]))
        return record
    finally:
        worker.stop(5)
        client.close()


def options(p):
    p.add_argument("--schedule", metavar="CRON", help="start the job from a schedule with this cron expression")
    p.add_argument("--timezone", default="UTC", help="the schedule's IANA time zone")
    p.add_argument("--external-event", metavar="KEY", help="act as the external-event listener for KEY")
    p.add_argument("--result", default="null", help="JSON result for --external-event")
    p.add_argument("--delay", type=float, default=0.0)


if __name__ == "__main__":
    ARGS = arguments(__doc__, options)
    if ARGS.external_event:
        external_event_listener(ARGS)
        sys.exit(0)
    record = run_scheduled(example_job, ARGS) if ARGS.schedule else run(example_job, ARGS)
    if record["state"] != "completed":
        sys.exit(1)
    print("result:", json.dumps(record["result"]))

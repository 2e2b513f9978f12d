#!/usr/bin/env python3
"""GigQ's daily ETL on Flowline, with per-task timeouts and attempts, plus GigQ's fan-out / fan-in:
extract -> transform -> split_data -> process_chunk_0..4 -> combine_results -> load -> notify.
Job params become task inputs; a job's function receives them as keyword arguments. The chunks and the load
write to the warehouse, which takes at most WAREHOUSE_SLOTS writers at once: they count against the limit key
"warehouse" (SPEC §11), set before the run, so however many workers run, the warehouse never sees more.

    python3 tools/examples/gigq_etl.py --server HOST:PORT
"""

import json
import sys
from datetime import datetime

from _common import arguments, run

from flowline import Client, Flow, Retry

CHUNKS = 5
WAREHOUSE_SLOTS = 2
timestamp = datetime.now().strftime("%Y%m%d_%H%M%S")
raw_file = "data/raw_{}.csv".format(timestamp)
transformed_file = "data/transformed_{}.csv".format(timestamp)

workflow = Flow("daily_etl_job")


@workflow.task(task_id="extract", input={"source_url": "https://example.com/api/data", "output_file": raw_file},
               timeout_s=300, retry=Retry(3, backoff_s=0.1))
def extract_data(source_url, output_file, attempt):
    print("Extracting data from {} to {} (attempt {})".format(source_url, output_file, attempt))
    if attempt == 1:
        raise ConnectionError("the API timed out")  # transient: attempts are there for this
    return {"rows_extracted": 1000, "file": output_file}


@workflow.task(task_id="transform", deps=["extract"], timeout_s=600, retry=2,
               input={"input_file": raw_file, "output_file": transformed_file})
def transform_data(input_file, output_file, extract):
    print("Transforming data from {} to {}".format(input_file, output_file))
    return {"rows_transformed": extract["rows_extracted"] - 50, "file": output_file}


@workflow.task(task_id="split_data", deps=["transform"], timeout_s=60)
def split_data(transform):
    rows = transform["rows_transformed"]
    return [rows // CHUNKS + (1 if i < rows % CHUNKS else 0) for i in range(CHUNKS)]


def process_chunk(chunk_id, split_data):
    return {"chunk": chunk_id, "rows": split_data[chunk_id]}


chunk_jobs = [workflow.add_task(process_chunk, task_id="process_chunk_{}".format(i), deps=["split_data"],
                                input={"chunk_id": i}, timeout_s=120, retry=3, limits=["warehouse"])
              for i in range(CHUNKS)]


@workflow.task(task_id="combine_results", deps=chunk_jobs, timeout_s=60)
def combine_results(deps):
    return {"rows": sum(r["rows"] for r in deps.values()), "chunks": len(deps)}


@workflow.task(task_id="load", deps=["combine_results"], timeout_s=900, retry=3, limits=["warehouse"],
               input={"input_file": transformed_file, "database_connection": "postgresql://user:pass@localhost/db"})
def load_data(input_file, database_connection, combine_results):
    print("Loading data from {} to {}".format(input_file, database_connection.split("@")[-1]))
    return {"rows_loaded": combine_results["rows"]}


@workflow.task(task_id="notify", deps=["load"], timeout_s=60, retry=5,
               input={"recipients": ["data-team@example.com"]})
def notify_completion(recipients, load):
    print("Sending notification to {}: {} rows loaded".format(recipients, load["rows_loaded"]))
    return {"notifications_sent": len(recipients)}


# GigQ's job states, and the Flowline task states each counts.
GIGQ_STATUSES = {"pending": ("blocked", "ready"), "running": ("running", "waiting", "reverting"),
                 "completed": ("completed",), "failed": ("failed", "revert_failed"),
                 "cancelled": ("cancelled", "skipped", "reverted"), "timeout": ("timed_out",)}


def check_workflow_status(record):
    """The seed's check_workflow_status: each job's status counted, and the share completed."""
    statuses = {name: 0 for name in GIGQ_STATUSES}
    for t in record["tasks"]:
        for name, states in GIGQ_STATUSES.items():
            if t["state"] in states:
                statuses[name] += 1
    total = len(record["tasks"])
    completed_pct = (statuses["completed"] / total) * 100 if total > 0 else 0
    print("Workflow Progress: {:.1f}% complete".format(completed_pct))
    for name in GIGQ_STATUSES:
        print("{}: {}".format(name.capitalize(), statuses[name]))
    return statuses


if __name__ == "__main__":
    args = arguments(__doc__)
    with Client(args.server, token=args.token) as admin:
        admin.limit_set("warehouse", concurrency=WAREHOUSE_SLOTS)
    record = run(workflow, args, {"day": timestamp[:8]})
    statuses = check_workflow_status(record)
    if statuses["completed"] != len(record["tasks"]):
        sys.exit(1)
    if record["state"] != "completed":
        sys.exit(1)
    print("result:", json.dumps(record["result"]))

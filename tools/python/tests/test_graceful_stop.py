"""SIGTERM / SIGINT on a worker process: running handlers finish within the grace period, and what is still
running when it ends is released without using an attempt (SPEC §8)."""

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time

from support import HERE, DaemonTestCase, task_of, wait_until

from flowline import Worker, task


class WorkerProcess:
    def __init__(self, address: str, queue: str, grace_s: float, sleep_s: float) -> None:
        self.log = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "worker_process.py"), address, queue, str(grace_s), str(sleep_s)],
            stdout=subprocess.PIPE, stderr=self.log, text=True)
        self.lines = []  # type: list
        self.stderr = ""
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line.strip())

    def wait_line(self, prefix: str, timeout: float = 10.0) -> str:
        return wait_until(lambda: next((l for l in self.lines if l.startswith(prefix)), None), timeout,
                          message="worker line " + prefix)

    def finish(self, timeout: float = 15.0) -> int:
        """Its exit code (killed if still running after ``timeout``); its log is in ``stderr`` then."""
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(5)
            self.reader.join(2)
            self.proc.stdout.close()
            if not self.log.closed:
                self.log.seek(0)
                self.stderr = self.log.read()
                self.log.close()


class GracefulStop(DaemonTestCase):
    def submit_slow(self) -> str:
        document = {"name": "slow", "tasks": [task("slow", queue=self.queue, retry=1)]}
        return self.client.submit(document)["workflow_id"]

    def test_sigterm_during_a_handler_lets_it_finish(self):
        worker = WorkerProcess(self.daemon.address, self.queue, grace_s=10, sleep_s=1.0)
        self.addCleanup(worker.finish, 1)
        wid = self.submit_slow()
        worker.wait_line("running slow 1")
        signalled = time.monotonic()
        worker.proc.send_signal(signal.SIGTERM)
        self.assertEqual(worker.finish(), 0, worker.stderr)
        self.assertLess(time.monotonic() - signalled, 5.0)
        record = self.client.get(wid)
        self.assertEqual(record["state"], "completed", record)
        t = task_of(record, "slow")
        self.assertEqual((t["attempts"], t["result"], t["worker"]), (1, {"slept": 1.0}, "signalled"))

    def test_sigint_past_the_grace_period_releases_without_using_the_attempt(self):
        worker = WorkerProcess(self.daemon.address, self.queue, grace_s=0.3, sleep_s=30)
        self.addCleanup(worker.finish, 1)
        wid = self.submit_slow()  # max_attempts 1: a used attempt would fail the workflow
        worker.wait_line("running slow 1")
        signalled = time.monotonic()
        worker.proc.send_signal(signal.SIGINT)
        self.assertEqual(worker.finish(), 0)
        self.assertLess(time.monotonic() - signalled, 5.0)
        self.assertIn("exiting", worker.lines)
        record = self.client.get(wid)
        t = task_of(record, "slow")
        self.assertEqual((t["state"], t["attempts"]), ("ready", 0), record)

        attempts = []
        other = Worker(self.daemon.address, queues=[self.queue], name="other")

        @other.handler()
        def slow(ctx):
            attempts.append(ctx.attempt)
            return "second worker"

        self.start_worker(other)
        record = self.wait(wid)
        self.assertEqual(record["state"], "completed", record)
        t = task_of(record, "slow")
        self.assertEqual((attempts, t["attempts"], t["result"], t["worker"]), ([1], 1, "second worker", "other"))

    def test_stop_in_process_releases_what_outlives_the_grace_period(self):
        started = threading.Event()
        worker = Worker(self.daemon.address, queues=[self.queue], name="in-process", grace_s=0.2)

        @worker.handler()
        def slow(ctx):
            started.set()
            ctx.sleep(30)
            return "too late"

        worker.start()
        self.assertTrue(worker.wait_connected(10))
        wid = self.submit_slow()
        self.assertTrue(started.wait(10))
        self.assertFalse(worker.stop())
        t = task_of(self.client.get(wid), "slow")
        self.assertEqual((t["state"], t["attempts"]), ("ready", 0))
        self.client.cancel(wid)

"""Test support: the real flowlined on a free port with a temporary data directory."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import uuid
from typing import Any, Callable, Dict, List, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE_ROOT = os.path.dirname(HERE)  # tools/python
REPO_ROOT = os.path.dirname(os.path.dirname(PACKAGE_ROOT))
if PACKAGE_ROOT not in sys.path:
    sys.path.insert(0, PACKAGE_ROOT)

from flowline import Client, MethodNotFound, RPCError  # noqa: E402


def daemon_binary() -> str:
    return os.environ.get("FLOWLINED_BIN") or os.path.join(REPO_ROOT, ".build", "debug", "flowlined")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Daemon:
    """One flowlined process; ``kill()`` + ``start()`` restarts it on the same data dir and port."""

    def __init__(self, port: int = 0, token: Optional[str] = None, host: str = "127.0.0.1") -> None:
        self.dir = tempfile.mkdtemp(prefix="flowline-py-")
        self.host = host
        self.data = os.path.join(self.dir, "data")
        self.port = port
        self.token_file = None  # type: Optional[str]
        if token is not None:
            self.token_file = os.path.join(self.dir, "token")
            with open(self.token_file, "w") as f:
                f.write(token + "\n")
        self.proc = None  # type: Optional[subprocess.Popen]
        self.address = ""
        self.log = open(os.path.join(self.dir, "daemon.log"), "ab")

    def start(self, timeout: float = 15.0) -> "Daemon":
        binary = daemon_binary()
        if not os.access(binary, os.X_OK):
            raise unittest.SkipTest("no flowlined binary at {} (set FLOWLINED_BIN)".format(binary))
        args = [binary, "--listen", "{}:{}".format(self.host, self.port), "--data", self.data, "--sync", "none"]
        if self.token_file:
            args += ["--token-file", self.token_file]
        deadline = time.monotonic() + timeout
        while True:
            if self.proc is not None and self.proc.stdout is not None:
                self.proc.stdout.close()
            self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.log)
            line = self._first_line(deadline)
            if line.startswith("flowlined listening on "):
                break
            self.proc.wait(timeout=5)
            # The port of a process just killed may take a moment to come free.
            if time.monotonic() > deadline:
                raise RuntimeError("flowlined did not start: {!r} (log {})".format(line, self.log.name))
            time.sleep(0.1)
        self.address = line.split()[-1]
        self.port = int(self.address.rsplit(":", 1)[1])
        return self

    def _first_line(self, deadline: float) -> str:
        assert self.proc is not None and self.proc.stdout is not None
        out = []  # type: List[bytes]
        reader = threading.Thread(target=lambda: out.append(self.proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(max(0.1, deadline - time.monotonic()))
        if reader.is_alive():
            self.proc.kill()
            raise RuntimeError("flowlined printed nothing in time")
        return out[0].decode("utf-8", "replace").strip()

    def kill(self) -> None:
        """SIGKILL: no chance to commit or close."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> Optional[int]:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        return self.proc.returncode

    def cleanup(self) -> None:
        self.stop()
        if self.proc is not None and self.proc.stdout is not None:
            self.proc.stdout.close()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def wait_until(predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.02,
               message: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out after {}s waiting for {}".format(timeout, message))
        time.sleep(interval)


def supports(client: Client, method: str) -> bool:
    """False only when the daemon answers -32601 for ``method`` (probed with harmless bad params)."""
    try:
        client.call(method, {"lease": "probe-" + uuid.uuid4().hex}, timeout=5)
    except MethodNotFound:
        return False
    except RPCError:
        return True
    return True


class DaemonTestCase(unittest.TestCase):
    """One daemon per test class; each test gets a fresh queue name so workers never take others' tasks."""

    daemon = None  # type: Optional[Daemon]
    client = None  # type: Optional[Client]

    @classmethod
    def setUpClass(cls) -> None:
        cls.daemon = Daemon().start()
        cls.client = Client(cls.daemon.address, timeout=10)

    @classmethod
    def tearDownClass(cls) -> None:
        if cls.client is not None:
            cls.client.close()
        if cls.daemon is not None:
            cls.daemon.cleanup()

    def setUp(self) -> None:
        self.queue = "q-" + uuid.uuid4().hex[:10]

    def start_worker(self, worker: Any) -> Any:
        worker.start()
        self.addCleanup(worker.stop, 5)
        self.assertTrue(worker.wait_connected(10), "worker did not connect")
        return worker

    def wait(self, workflow_id: str, timeout: float = 15.0) -> Dict[str, Any]:
        record = self.client.wait(workflow_id, timeout_s=timeout)
        self.assertIn(record["state"], ("completed", "failed", "cancelled", "timed_out"),
                      "workflow {} still {} after {}s".format(workflow_id, record["state"], timeout))
        return record

    def require(self, *methods: str) -> None:
        missing = [m for m in methods if not supports(self.client, m)]
        if missing:
            self.skipTest("daemon answers -32601 for {}: waiting on the futures/spawn/revert work".format(
                ", ".join(missing)))


def task_of(record: Dict[str, Any], task_id: str) -> Dict[str, Any]:
    for t in record["tasks"]:
        if t["id"] == task_id:
            return t
    raise AssertionError("no task {!r} in {}".format(task_id, [t["id"] for t in record["tasks"]]))

"""The client: submit workflows, read and wait for them, cancel, resolve or reject futures, list workers."""

import threading
import time
import uuid
from typing import Any, Callable, Dict, List, Optional

from .connection import DEFAULT_ADDRESS, Address, Connection
from .errors import ConnectionLost, RequestTimeout

# How much longer than a workflow.wait's own timeout the socket waits for its answer.
_WAIT_MARGIN = 10.0

RECONNECT_BACKOFF_START_S = 0.05
RECONNECT_BACKOFF_MAX_S = 2.0

# Calls whose answer may be lost and that are re-sent after a reconnect (SPEC §8): reads, waits and cancels; a
# resolution when it has a resolution_id (the daemon remembers it: a re-sent one changes nothing and answers the
# first one's matched); a submit when its document has an `id`.
SAFE_TO_RESEND = frozenset({
    "workflow.get", "workflow.list", "workflow.wait", "workflow.history", "stats", "workers.list",
    "workflow.cancel"})


def safe_to_resend(method: str, params: Any) -> bool:
    if method in SAFE_TO_RESEND:
        return True
    if not isinstance(params, dict):
        return False
    if method in ("future.resolve", "future.reject"):
        # resolve() and reject() always set one; a raw call() may not.
        return isinstance(params.get("resolution_id"), str)
    return method == "workflow.submit" and params.get("id") is not None


class Client:
    """A connection to ``flowlined`` for clients (thread-safe; calls may overlap).

    The connection opens on first use and again after it drops, so one Client outlives daemon restarts. When
    the daemon cannot be reached, a call retries with backoff (50 ms doubling to 2 s) for up to
    ``reconnect_s`` (default 60 s) before ConnectionLost reaches the caller; calls made meanwhile wait too. A
    call whose answer was lost with the connection is re-sent after the reconnect when that is safe (reads,
    waits, cancels, resolutions, submits with an ``id``); any other raises ConnectionLost, since it may or may
    not have taken effect. ``reconnect_s=0`` turns all this off.
    """

    def __init__(self, address: Address = DEFAULT_ADDRESS, token: Optional[str] = None,
                 name: str = "python-client", timeout: float = 30.0, role: str = "client",
                 reconnect_s: float = 60.0) -> None:
        self.address = address
        self.token = token
        self.name = name
        self.timeout = timeout
        self.role = role
        self.reconnect_s = reconnect_s
        self.reconnects = 0  # connections opened after the first
        self._conn = None  # type: Optional[Connection]
        self._lock = threading.Lock()
        self.server = None  # type: Optional[Dict[str, Any]]

    # -- connection

    def connect(self) -> "Client":
        self._connection()
        return self

    def close(self) -> None:
        with self._lock:
            conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def __enter__(self) -> "Client":
        return self.connect()

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _connection(self) -> Connection:
        with self._lock:
            if self._conn is None or self._conn.closed:
                conn = Connection(self.address)
                try:
                    params = {"role": self.role, "name": self.name, "protocol": 1}  # type: Dict[str, Any]
                    if self.token is not None:
                        params["token"] = self.token
                    self.server = conn.call("hello", params, timeout=self.timeout)
                except BaseException:
                    conn.close()
                    raise
                if self._conn is not None:
                    self.reconnects += 1
                self._conn = conn
            return self._conn

    def call(self, method: str, params: Any = None, timeout: Optional[float] = -1.0) -> Any:
        """Any JSON-RPC method; the answer's ``result``, or a typed RPCError. ``timeout`` -1 means the
        client's default, None waits for ever. Reconnects and re-sends as the class says."""
        body = params if params is not None else {}
        return self._call(method, lambda: body, timeout=self.timeout if timeout is not None and timeout < 0
                          else timeout)

    def _call(self, method: str, params: Callable[[], Any], timeout: Optional[float]) -> Any:
        """Sends ``params()`` (made again for each try: a wait sends what is left of its timeout) and retries
        across reconnects within ``reconnect_s`` of the first failure."""
        resend = safe_to_resend(method, params())
        failing_since = None  # type: Optional[float]
        delay = RECONNECT_BACKOFF_START_S
        while True:
            try:
                conn = self._connection()
            except (ConnectionLost, RequestTimeout) as e:
                # Nothing was sent: retrying is safe for every method.
                failed = e  # type: BaseException
            else:
                try:
                    return conn.call(method, params(), timeout=timeout)
                except ConnectionLost as e:
                    # Nothing of it was sent (the connection had already dropped): safe to retry whatever it is.
                    if not resend and not getattr(e, "not_sent", False):
                        raise
                    failed = e
                    # The bound counts from this drop: a wait may have been in flight for hours before it.
                    failing_since = None
            now = time.monotonic()
            if failing_since is None:
                failing_since = now
            if now - failing_since + delay > self.reconnect_s:
                raise ConnectionLost("{}: no connection to {} within {}s: {}".format(
                    method, self.address, self.reconnect_s, failed)) from failed
            time.sleep(delay)
            delay = min(delay * 2, RECONNECT_BACKOFF_MAX_S)

    # -- workflows

    def submit(self, document: Dict[str, Any]) -> Dict[str, Any]:
        """Submits a workflow document (SPEC §2); returns ``{"workflow_id", "created"}``."""
        return self.call("workflow.submit", document)

    def get(self, workflow_id: str) -> Dict[str, Any]:
        return self.call("workflow.get", {"workflow_id": workflow_id})

    def wait(self, workflow_id: str, timeout_s: Optional[float] = None) -> Dict[str, Any]:
        """The record once the workflow has ended (reverts included); with ``timeout_s``, the record as it
        stands when that passes (check ``record["state"]``)."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s

        def params() -> Dict[str, Any]:
            out = {"workflow_id": workflow_id}  # type: Dict[str, Any]
            if deadline is not None:
                out["timeout_s"] = round(max(0.0, deadline - time.monotonic()), 3)
            return out

        return self._call("workflow.wait", params, timeout=None if timeout_s is None else timeout_s + _WAIT_MARGIN)

    def list(self, state: Optional[str] = None, name: Optional[str] = None, limit: Optional[int] = None,
             after: Optional[str] = None) -> Dict[str, Any]:
        """One page, newest first: ``{"workflows": [...], "next": cursor or None}``."""
        params = {k: v for k, v in (("state", state), ("name", name), ("limit", limit), ("after", after))
                  if v is not None}
        return self.call("workflow.list", params)

    def list_all(self, state: Optional[str] = None, name: Optional[str] = None) -> List[Dict[str, Any]]:
        """Every page of ``list`` joined."""
        out = []  # type: List[Dict[str, Any]]
        after = None  # type: Optional[str]
        while True:
            page = self.list(state=state, name=name, limit=1000, after=after)
            out.extend(page.get("workflows", []))
            after = page.get("next")
            if not after:
                return out

    def cancel(self, workflow_id: str, reason: Optional[str] = None, revert: bool = False) -> Dict[str, Any]:
        params = {"workflow_id": workflow_id, "revert": revert}  # type: Dict[str, Any]
        if reason is not None:
            params["reason"] = reason
        return self.call("workflow.cancel", params)

    def rerun(self, workflow_id: str, from_tasks: Optional[List[str]] = None) -> Dict[str, Any]:
        """Runs an ended workflow again under its id: what did not complete, ``from_tasks`` and everything
        downstream of them (SPEC §11). Returns the record, running again."""
        params = {"workflow_id": workflow_id}  # type: Dict[str, Any]
        if from_tasks:
            params["from"] = list(from_tasks)
        return self.call("workflow.rerun", params)

    def cancel_many(self, state: Optional[str] = None, name: Optional[str] = None,
                    metadata: Optional[Dict[str, str]] = None) -> int:
        """Cancels every running workflow matching all given filters (at least one); returns how many."""
        return self._bulk("workflow.cancel_many", state, name, metadata)

    def rerun_many(self, state: Optional[str] = None, name: Optional[str] = None,
                   metadata: Optional[Dict[str, str]] = None) -> int:
        """Reruns every ended workflow matching all given filters that has something to run again."""
        return self._bulk("workflow.rerun_many", state, name, metadata)

    def _bulk(self, method: str, state: Optional[str], name: Optional[str],
              metadata: Optional[Dict[str, str]]) -> int:
        params = {}  # type: Dict[str, Any]
        if state is not None:
            params["state"] = state
        if name is not None:
            params["name"] = name
        if metadata:
            params["metadata"] = dict(metadata)
        return int(self.call(method, params)["matched"])

    def history(self, workflow_id: str) -> List[Dict[str, Any]]:
        """The workflow's journal events, oldest first."""
        return self.call("workflow.history", {"workflow_id": workflow_id}).get("events", [])

    # -- futures

    def resolve(self, key: str, result: Any = None, resolution_id: Optional[str] = None) -> int:
        """Completes the tasks awaiting ``key`` with ``result``; returns how many (0: kept for a later await).
        ``resolution_id`` (default: a fresh one per call) makes a re-send after a lost answer change nothing."""
        params = {"key": key, "result": result, "resolution_id": resolution_id or uuid.uuid4().hex}
        return int(self.call("future.resolve", params).get("matched", 0))

    def reject(self, key: str, error: Any, resolution_id: Optional[str] = None) -> int:
        """Fails the tasks awaiting ``key``. ``error`` is a message or ``{type, message, retryable}``;
        ``resolution_id`` as for ``resolve``."""
        if not isinstance(error, dict):
            error = {"type": "rejected", "message": str(error)}
        params = {"key": key, "error": error, "resolution_id": resolution_id or uuid.uuid4().hex}
        return int(self.call("future.reject", params).get("matched", 0))

    # -- the daemon

    def workers(self) -> List[Dict[str, Any]]:
        return self.call("workers.list", {}).get("workers", [])

    def limit_set(self, key: str, concurrency: Optional[int] = None, per_s: Optional[float] = None,
                  burst: Optional[float] = None) -> Dict[str, Any]:
        """``limit.set`` (SPEC §11): tasks listing ``key`` in ``limits`` run at most ``concurrency`` at once and
        ``per_s`` a second; returns the limit."""
        params = {"key": key}  # type: Dict[str, Any]
        for name, value in (("concurrency", concurrency), ("per_s", per_s), ("burst", burst)):
            if value is not None:
                params[name] = value
        return self.call("limit.set", params)

    def limit_delete(self, key: str) -> None:
        self.call("limit.delete", {"key": key})

    def limits(self) -> List[Dict[str, Any]]:
        return self.call("limit.list", {})["limits"]

    def stats(self) -> Dict[str, Any]:
        return self.call("stats", {})


def connect(address: Address = DEFAULT_ADDRESS, token: Optional[str] = None, **kwargs: Any) -> Client:
    """Opens a Client (and says hello) at once, so a bad address or token fails here."""
    return Client(address, token=token, **kwargs).connect()


__all__ = ["Client", "connect", "ConnectionLost"]

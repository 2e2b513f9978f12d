"""The worker: runs registered handlers for the task.run messages the daemon sends, answers exactly one
outcome per lease, reconnects with backoff when the connection drops, and shuts down gracefully."""

import logging
import os
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Dict, Iterable, List, Optional, Union

from .client import Client
from .connection import DEFAULT_ADDRESS, Address, Connection, dumps
from .errors import ConnectionLost, FlowlineError, MethodNotFound, RequestTimeout, RPCError, StaleLease, Unauthorized
from .outcomes import Awaitable, Spawn, TaskFailure

log = logging.getLogger("flowline.worker")
logging.getLogger("flowline").addHandler(logging.NullHandler())

Handler = Callable[["TaskContext"], Any]

BACKOFF_START_S = 0.05
BACKOFF_MAX_S = 2.0
OUTCOME_TIMEOUT_S = 30.0


class TaskContext:
    """What a handler receives for one lease (SPEC §2 "What a worker receives")."""

    def __init__(self, session: "_Session", params: Dict[str, Any]) -> None:
        self._session = session
        self.params = params
        self.lease = params.get("lease")  # type: str
        self.workflow_id = params.get("workflow_id")  # type: str
        self.workflow_name = params.get("workflow_name")  # type: Optional[str]
        self.task_id = params.get("task_id")  # type: str
        self.handler = params.get("handler")  # type: str
        self.attempt = params.get("attempt", 1)  # type: int
        self.input = params.get("input", {})  # type: Any
        self.deps = params.get("deps") or {}  # type: Dict[str, Any]
        self.workflow_input = params.get("workflow_input", {})  # type: Any
        self.deadline = params.get("deadline")  # type: Optional[str]
        self.poll = bool(params.get("poll", False))
        self.revert = bool(params.get("revert", False))
        self.result = params.get("result")  # the reverted task's result, on a revert run
        self.cancelled = threading.Event()
        self.cancel_reason = None  # type: Optional[str]
        self._callbacks = []  # type: List[Callable[[Optional[str]], None]]
        self._lock = threading.Lock()

    @property
    def is_cancelled(self) -> bool:
        """True once the lease has ended (task.cancel, or the connection dropped): nothing this handler answers
        counts any more, so it may stop early."""
        return self.cancelled.is_set()

    def on_cancel(self, callback: Callable[[Optional[str]], None]) -> None:
        """Calls ``callback(reason)`` when the lease ends early (at once if it already has)."""
        with self._lock:
            if not self.cancelled.is_set():
                self._callbacks.append(callback)
                return
        callback(self.cancel_reason)

    def heartbeat(self, progress: Union[None, int, float, str] = None) -> bool:
        """Extends the lease and shows ``progress`` (a number or a string) in the status. Returns False when
        the lease has ended (the handler may stop: its outcome will not be sent)."""
        if self.is_cancelled:
            return False
        params = {"lease": self.lease}  # type: Dict[str, Any]
        if progress is not None:
            params["progress"] = progress
        try:
            self._session.conn.call("task.heartbeat", params, timeout=OUTCOME_TIMEOUT_S)
            return True
        except StaleLease:
            self._cancel("stale lease")
            return False
        except (ConnectionLost, RequestTimeout):
            return not self.is_cancelled

    def sleep(self, seconds: float) -> bool:
        """Sleeps, waking early when the lease ends; returns True if it slept the whole time."""
        return not self.cancelled.wait(seconds)

    def _cancel(self, reason: Optional[str]) -> None:
        with self._lock:
            if self.cancelled.is_set():
                return
            self.cancel_reason = reason
            self.cancelled.set()
            callbacks, self._callbacks = self._callbacks, []
        for cb in callbacks:
            try:
                cb(reason)
            except Exception:
                log.exception("on_cancel callback failed")

    def __repr__(self) -> str:
        kind = " poll" if self.poll else " revert" if self.revert else ""
        return "<TaskContext {}/{} {}{} attempt {}>".format(self.workflow_id, self.task_id, self.handler, kind,
                                                            self.attempt)


class _Session:
    """One connection's life: the leases it holds end with it."""

    def __init__(self, worker: "Worker") -> None:
        self.worker = worker
        self.leases = {}  # type: Dict[str, TaskContext]
        self.lock = threading.Lock()
        self.closed = threading.Event()
        self.conn = None  # type: Optional[Connection]

    def open(self, address: Address) -> None:
        self.conn = Connection(address, on_message=self.on_message, on_close=self.on_close)

    def on_message(self, message: Dict[str, Any]) -> None:
        method = message.get("method")
        params = message.get("params") or {}
        request_id = message.get("id")
        if method == "task.run":
            self.worker._receive(self, params)
        elif method == "task.cancel":
            with self.lock:
                ctx = self.leases.pop(params.get("lease"), None)
            if ctx is not None:
                log.info("lease cancelled: %s/%s (%s)", ctx.workflow_id, ctx.task_id, params.get("reason"))
                ctx._cancel(params.get("reason") or "cancelled")
        elif request_id is not None:
            self.conn.respond(request_id, error={"code": -32601, "message": "unknown method " + str(method)})
            return
        if request_id is not None:
            self.conn.respond(request_id, {})

    def on_close(self, reason: Optional[BaseException]) -> None:
        with self.lock:
            leases, self.leases = list(self.leases.values()), {}
        for ctx in leases:
            ctx._cancel("connection lost")
        self.closed.set()


class Worker:
    """Runs handlers by name. ``address`` is ``"host:port"`` or a Client (whose address and token it uses).

    ``concurrency`` bounds the handlers in flight (the daemon sends at most that many task.run; the worker's
    pool never runs more either). Handlers get a TaskContext and return a JSON result, a Future / Sleep /
    Poll (the task waits), or a Spawn; raising fails the attempt (TaskFailure picks type and retryable).
    """

    def __init__(self, address: Union[Address, Client] = DEFAULT_ADDRESS,
                 handlers: Optional[Dict[str, Handler]] = None, queues: Iterable[str] = ("default",),
                 concurrency: int = 4, name: Optional[str] = None, token: Optional[str] = None) -> None:
        if isinstance(address, Client):
            token = token if token is not None else address.token
            address = address.address
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.address = address
        self.token = token
        self.queues = list(queues)
        self.concurrency = concurrency
        self.name = name or "{}-{}".format(socket.gethostname(), os.getpid())
        self.handlers = dict(handlers or {})  # type: Dict[str, Handler]
        self.sessions = 0  # successful hellos so far (1 + reconnects)
        self.error = None  # type: Optional[BaseException]
        self._pool = None  # type: Optional[ThreadPoolExecutor]
        self._thread = None  # type: Optional[threading.Thread]
        self._stopping = threading.Event()
        self._stopped = threading.Event()
        self._connected = threading.Event()
        self._session = None  # type: Optional[_Session]
        self._active = 0
        self._active_cond = threading.Condition()

    # -- handlers

    def register(self, name: str, fn: Handler) -> Handler:
        self.handlers[name] = fn
        return fn

    def handler(self, name: Optional[str] = None) -> Callable[[Handler], Handler]:
        """Decorator: ``@worker.handler()`` registers the function under its own name (or ``name``)."""
        def wrap(fn: Handler) -> Handler:
            return self.register(name or fn.__name__, fn)
        return wrap

    # -- life cycle

    def start(self) -> "Worker":
        """Runs the worker on a background thread; returns at once."""
        if self._thread is not None:
            raise RuntimeError("worker already started")
        self._pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="flowline-handler")
        self._thread = threading.Thread(target=self._supervise, name="flowline-worker", daemon=True)
        self._thread.start()
        return self

    def run(self) -> None:
        """Runs until ``stop()`` (from another thread or a signal handler) or Ctrl-C, then shuts down
        gracefully."""
        self.start()
        try:
            while not self._stopped.wait(0.5):
                pass
        except KeyboardInterrupt:
            self.stop()
        if self.error is not None:
            raise self.error

    def wait_connected(self, timeout: Optional[float] = None) -> bool:
        return self._connected.wait(timeout)

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    @property
    def active(self) -> int:
        """Handlers running now."""
        with self._active_cond:
            return self._active

    def stop(self, timeout: float = 30.0, graceful: bool = True) -> bool:
        """Graceful shutdown: the daemon is told ``worker.quiet`` (send nothing more), a task.run that arrives
        anyway is handed back with ``task.release`` (no attempt used up), running handlers finish and their outcomes are
        sent (for up to ``timeout`` seconds), then the connection closes. Returns True if all finished.
        ``graceful=False`` closes at once: running handlers see ``ctx.cancelled`` and the daemon runs their
        tasks again."""
        self._stopping.set()
        session = self._session
        if graceful and session is not None and session.conn is not None:
            try:
                session.conn.notify("worker.quiet", {})
            except ConnectionLost:
                pass
        deadline = time.monotonic() + (timeout if graceful else 0.0)
        with self._active_cond:
            while self._active > 0:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._active_cond.wait(left)
            drained = self._active == 0
        session = self._session
        if session is not None and session.conn is not None:
            session.conn.close()
        if self._thread is not None:
            self._thread.join(timeout=max(0.1, deadline - time.monotonic()) + 2)
        if self._pool is not None:
            self._pool.shutdown(wait=False)
        self._stopped.set()
        return drained

    def __enter__(self) -> "Worker":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- connection supervision

    def _supervise(self) -> None:
        delay = BACKOFF_START_S
        try:
            while not self._stopping.is_set():
                session = _Session(self)
                try:
                    session.open(self.address)
                    hello = {"role": "worker", "name": self.name, "protocol": 1, "queues": self.queues,
                             "concurrency": self.concurrency}  # type: Dict[str, Any]
                    if self.token is not None:
                        hello["token"] = self.token
                    self._session = session
                    session.conn.call("hello", hello, timeout=10)
                except Unauthorized as e:
                    self.error = e
                    log.error("the daemon refused the worker's token: %s", e)
                    if session.conn is not None:
                        session.conn.close()
                    return
                except (FlowlineError, OSError) as e:
                    if session.conn is not None:
                        session.conn.close()
                    log.debug("cannot connect (%s); retrying in %.2fs", e, delay)
                    self._stopping.wait(delay)
                    delay = min(delay * 2, BACKOFF_MAX_S)
                    continue
                self.sessions += 1
                delay = BACKOFF_START_S
                self._connected.set()
                log.info("worker %s connected to %s (session %d)", self.name, self.address, self.sessions)
                while not session.closed.wait(0.5):
                    if self._stopping.is_set() and self.active == 0:
                        session.conn.close()
                self._connected.clear()
                if not self._stopping.is_set():
                    log.warning("connection to the daemon lost; reconnecting")
                    self._stopping.wait(delay)
                    delay = min(delay * 2, BACKOFF_MAX_S)
        finally:
            self._connected.clear()
            self._stopped.set()

    # -- running tasks

    def _receive(self, session: _Session, params: Dict[str, Any]) -> None:
        """On the reader thread: never blocks on an answer."""
        lease = params.get("lease")
        if not isinstance(lease, str):
            return
        if self._stopping.is_set():
            try:
                session.conn.notify("task.release", {"lease": lease})
            except ConnectionLost:
                pass
            return
        ctx = TaskContext(session, params)
        with session.lock:
            session.leases[lease] = ctx
        with self._active_cond:
            self._active += 1
        try:
            assert self._pool is not None
            self._pool.submit(self._execute, session, ctx)
        except RuntimeError:  # pool shut down
            self._finished()

    def _finished(self) -> None:
        with self._active_cond:
            self._active -= 1
            self._active_cond.notify_all()

    def _execute(self, session: _Session, ctx: TaskContext) -> None:
        try:
            if ctx.is_cancelled:
                return
            method, params = self._outcome(ctx)
            with session.lock:
                session.leases.pop(ctx.lease, None)
            if ctx.is_cancelled:
                log.info("not answering %s/%s: its lease ended (%s)", ctx.workflow_id, ctx.task_id,
                         ctx.cancel_reason)
                return
            self._send_outcome(session, ctx, method, params)
        finally:
            self._finished()

    def _outcome(self, ctx: TaskContext):  # type: ignore[no-untyped-def]
        fn = self.handlers.get(ctx.handler)
        if fn is None:
            return "task.fail", {"lease": ctx.lease, "error": {
                "type": "unknown_handler", "retryable": True,
                "message": "worker {} has no handler {!r}".format(self.name, ctx.handler)}}
        try:
            value = fn(ctx)
        except TaskFailure as e:
            return "task.fail", {"lease": ctx.lease, "error": {
                "type": e.type, "message": e.message, "retryable": e.retryable}}
        except Exception as e:
            log.warning("handler %s failed on %s/%s attempt %s: %r", ctx.handler, ctx.workflow_id, ctx.task_id,
                        ctx.attempt, e, exc_info=log.isEnabledFor(logging.DEBUG))
            return "task.fail", {"lease": ctx.lease, "error": {
                "type": type(e).__name__, "message": str(e) or repr(e), "retryable": True}}
        if isinstance(value, Awaitable) and not ctx.poll and not ctx.revert:
            return "task.await", {"lease": ctx.lease, "future": value.to_json()}
        if isinstance(value, Spawn) and not ctx.poll and not ctx.revert:
            spawn = value.to_json()
            spawn["lease"] = ctx.lease
            return "task.spawn", spawn
        if ctx.poll and not (isinstance(value, dict) and isinstance(value.get("done"), bool)):
            value = {"done": False} if value is None else {"done": True, "result": value}
        try:
            dumps(value)
        except (TypeError, ValueError) as e:
            return "task.fail", {"lease": ctx.lease, "error": {
                "type": "unserializable_result", "retryable": False,
                "message": "handler {} returned a value that is not JSON: {}".format(ctx.handler, e)}}
        return "task.complete", {"lease": ctx.lease, "result": value}

    def _send_outcome(self, session: _Session, ctx: TaskContext, method: str, params: Dict[str, Any]) -> None:
        try:
            session.conn.call(method, params, timeout=OUTCOME_TIMEOUT_S)
        except StaleLease:
            log.info("%s for %s/%s: the lease had already ended", method, ctx.workflow_id, ctx.task_id)
        except MethodNotFound as e:
            # An older daemon without futures or spawn: fail the attempt for good rather than hold the lease.
            log.error("the daemon does not support %s: %s", method, e)
            try:
                session.conn.call("task.fail", {"lease": ctx.lease, "error": {
                    "type": "unsupported", "retryable": False,
                    "message": "the daemon does not support {}".format(method)}}, timeout=OUTCOME_TIMEOUT_S)
            except FlowlineError:
                pass
        except RPCError as e:
            log.error("%s for %s/%s refused: %s", method, ctx.workflow_id, ctx.task_id, e)
            if method != "task.fail":
                try:
                    session.conn.call("task.fail", {"lease": ctx.lease, "error": {
                        "type": "invalid_outcome", "retryable": False, "message": str(e)}},
                        timeout=OUTCOME_TIMEOUT_S)
                except FlowlineError:
                    pass
        except (ConnectionLost, RequestTimeout) as e:
            log.info("%s for %s/%s not delivered (%s); the lease ends with the connection", method,
                     ctx.workflow_id, ctx.task_id, e)


__all__ = ["Worker", "TaskContext"]

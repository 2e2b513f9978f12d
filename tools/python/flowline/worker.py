"""The worker: runs registered handlers for the task.run messages the daemon sends, answers exactly one
outcome per lease, reconnects with backoff when the connection drops, and shuts down gracefully."""

import logging
import os
import signal
import socket
import threading
import time
import traceback
from collections import deque
from json.encoder import encode_basestring
from typing import Any, Callable, Deque, Dict, Iterable, List, Optional, Tuple, Union

from . import aio
from .client import Client
from .connection import DEFAULT_ADDRESS, Address, Connection, dumps
from .errors import (ConnectionLost, FlowlineError, MethodNotFound, RequestTimeout, RPCError, StaleLease,
                     Unauthorized, rpc_error)
from .outcomes import Awaitable, Spawn, TaskFailure
from .pipeline import Pipeline

log = logging.getLogger("flowline.worker")
logging.getLogger("flowline").addHandler(logging.NullHandler())

Handler = Callable[["TaskContext"], Any]

BACKOFF_START_S = 0.05
BACKOFF_MAX_S = 2.0
OUTCOME_TIMEOUT_S = 30.0
# Outcomes queued by handlers run back to back are written at the latest when this many wait: the daemon
# starts on them while the rest of a large read is still being handled.
FLUSH_EVERY = 64


# Results that need no look for a coroutine (the common case, kept cheap).
_PLAIN = (str, int, float, bool, dict, list)

# The traceback a failure's message carries is cut to its last this many characters.
TRACEBACK_CHARS = 8192


def failure_message(e: BaseException, message: Optional[str] = None) -> str:
    """A failed handler's error message: ``message`` (default the exception's text), then a blank line and the
    Python traceback (its last TRACEBACK_CHARS), since SPEC's error object is ``{type, message, retryable}``."""
    text = message if message is not None else (str(e) or repr(e))
    trace = "".join(traceback.format_exception(type(e), e, e.__traceback__))
    if len(trace) > TRACEBACK_CHARS:
        trace = "...\n" + trace[-TRACEBACK_CHARS:]
    return "{}\n\n{}".format(text, trace.rstrip("\n"))


# Guards every context's cancel state and lazily made Event: cancels are rare, and a lock per context would
# cost more than the handler of a small task.
_cancel_lock = threading.Lock()


class TaskContext:
    """What a handler receives for one lease (SPEC §2 "What a worker receives")."""

    def __init__(self, session: "_Session", params: Dict[str, Any]) -> None:
        get = params.get
        self._session = session
        self.params = params
        self.lease = get("lease")  # type: str
        self.workflow_id = get("workflow_id")  # type: str
        self.workflow_name = get("workflow_name")  # type: Optional[str]
        self.task_id = get("task_id")  # type: str
        self.handler = get("handler")  # type: str
        self.attempt = get("attempt", 1)  # type: int
        self.input = get("input", {})  # type: Any
        self.deps = get("deps") or {}  # type: Dict[str, Any]
        self.workflow_input = get("workflow_input", {})  # type: Any
        self.deadline = get("deadline")  # type: Optional[str]
        self.poll = bool(get("poll", False))
        self.revert = bool(get("revert", False))
        self.result = get("result")  # the reverted task's result, on a revert run
        self.error = get("error")  # on the revert of a task that failed for good (revert_on_failure): its error
        self.dep_errors = get("dep_errors") or {}  # type: Dict[str, Any]  # run_if all_done / any_failed
        self.cancel_reason = None  # type: Optional[str]
        self._is_cancelled = False
        self._event = None  # type: Optional[threading.Event]  # made on first use of `cancelled`
        self._callbacks = None  # type: Optional[List[Callable[[Optional[str]], None]]]

    @property
    def args(self) -> List[Any]:
        """The positional arguments when the input is written as a call, ``{"args": [...], "kwargs": {...}}``
        (simpleflow's form), else ``[]``."""
        value = self.input
        if isinstance(value, dict) and set(value) <= {"args", "kwargs"} and isinstance(value.get("args"), list):
            return list(value["args"])
        return []

    @property
    def kwargs(self) -> Dict[str, Any]:
        """The keyword arguments when the input is written as a call, else ``{}``."""
        value = self.input
        if isinstance(value, dict) and set(value) <= {"args", "kwargs"} and isinstance(value.get("kwargs"), dict):
            return dict(value["kwargs"])
        return {}

    @property
    def cancelled(self) -> threading.Event:
        """Set once the lease has ended (task.cancel, or the connection dropped)."""
        event = self._event
        if event is None:
            with _cancel_lock:
                if self._event is None:
                    self._event = threading.Event()
                    if self._is_cancelled:
                        self._event.set()
                event = self._event
        return event

    @property
    def is_cancelled(self) -> bool:
        """True once the lease has ended (task.cancel, or the connection dropped): nothing this handler answers
        counts any more, so it may stop early."""
        return self._is_cancelled

    def on_cancel(self, callback: Callable[[Optional[str]], None]) -> None:
        """Calls ``callback(reason)`` when the lease ends early (at once if it already has)."""
        with _cancel_lock:
            if not self._is_cancelled:
                if self._callbacks is None:
                    self._callbacks = []
                self._callbacks.append(callback)
                return
        callback(self.cancel_reason)

    def heartbeat(self, progress: Union[None, int, float, str] = None) -> bool:
        """Extends the lease and shows ``progress`` (a number or a string) in the status. Returns False when
        the lease has ended (the handler may stop: its outcome will not be sent)."""
        if self._is_cancelled:
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
            return not self._is_cancelled

    def sleep(self, seconds: float) -> bool:
        """Sleeps, waking early when the lease ends; returns True if it slept the whole time."""
        return not self.cancelled.wait(seconds)

    def _cancel(self, reason: Optional[str]) -> None:
        with _cancel_lock:
            if self._is_cancelled:
                return
            self.cancel_reason = reason
            self._is_cancelled = True
            event = self._event
            callbacks, self._callbacks = self._callbacks, None
        if event is not None:
            event.set()
        for cb in callbacks or ():
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
        self.batch = []  # type: List[TaskContext]  # task.run of the read being handled, on the reader thread

    def open(self, address: Address) -> None:
        self.conn = Connection(address, on_message=self.on_message, on_close=self.on_close,
                               on_batch=self.on_batch)

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

    def on_batch(self) -> None:
        if self.batch:
            batch, self.batch = self.batch, []
            self.worker._dispatch(batch)

    def on_close(self, reason: Optional[BaseException]) -> None:
        with self.lock:
            leases, self.leases = list(self.leases.values()), {}
        for ctx in leases:
            ctx._cancel("connection lost")
        self.closed.set()


class Worker:
    """Runs handlers by name. ``address`` is ``"host:port"`` or a Client (whose address and token it uses).

    With ``route_by_handler=True`` (the default) the worker's ``hello`` lists its handlers (those registered
    when it connects), so the daemon (SPEC §8) sends it only tasks, polls and reverts it can run; with False it
    takes anything on its queues and fails tasks of handlers it lacks as ``unknown_handler``. ``grace_s`` is the
    graceful stop's grace period (``stop``).

    ``concurrency`` bounds the handlers in flight (the daemon sends at most that many task.run; the worker
    never runs more either). Handlers get a TaskContext and return a JSON result, a Future / Sleep / Poll (the
    task waits), or a Spawn; raising fails the attempt (TaskFailure picks type and retryable).

    Handlers run on up to ``concurrency`` threads, started as they are needed. The task.run messages of one
    read are handed over together, and a handler thread runs them one after the other while one more thread
    is woken to share them (which takes the rest as soon as a handler blocks): quick handlers cost no thread
    switch each, slow ones still run side by side. Outcomes are sent without waiting for their answers, and
    the outcomes of handlers run back to back go out in one write: a thread writes what is queued before it
    runs the last task handed over, and when nothing is left to run.
    """

    def __init__(self, address: Union[Address, Client] = DEFAULT_ADDRESS,
                 handlers: Optional[Dict[str, Handler]] = None, queues: Iterable[str] = ("default",),
                 concurrency: int = 4, name: Optional[str] = None, token: Optional[str] = None,
                 grace_s: float = 30.0, route_by_handler: bool = True) -> None:
        if isinstance(address, Client):
            token = token if token is not None else address.token
            address = address.address
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.address = address
        self.token = token
        self.queues = list(queues)
        self.concurrency = concurrency
        self.grace_s = grace_s
        self.route_by_handler = route_by_handler
        self.name = name or "{}-{}".format(socket.gethostname(), os.getpid())
        self.handlers = dict(handlers or {})  # type: Dict[str, Handler]
        self.sessions = 0  # successful hellos so far (1 + reconnects)
        self.error = None  # type: Optional[BaseException]
        self._thread = None  # type: Optional[threading.Thread]
        self._stopping = threading.Event()
        self._stopped = threading.Event()
        self._stop_requested = threading.Event()  # a signal asked for a graceful stop
        self._hurry = threading.Event()  # a second signal: end the grace period now
        self._connected = threading.Event()
        self._session = None  # type: Optional[_Session]
        # Tasks received and not yet over (running, waiting for a thread, or their outcome's answer not in).
        self._active = 0
        self._active_cond = threading.Condition()
        # The handler threads: `_ready` holds tasks no thread has taken yet; `_idle` threads wait on `_cond`;
        # `_waking` says one was woken (or started) and has not looked at `_ready` yet.
        self._cond = threading.Condition(threading.Lock())
        self._ready = deque()  # type: Deque[TaskContext]
        self._threads = 0
        self._idle = 0
        self._waking = False
        self._shut = False

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
        self._thread = threading.Thread(target=self._supervise, name="flowline-worker", daemon=True)
        self._thread.start()
        return self

    def run(self, signals: bool = True) -> None:
        """Runs until ``stop()`` (from another thread), SIGTERM or SIGINT, then stops gracefully (``stop()``
        with the grace period ``grace_s``): running handlers finish, what is still running when the grace period
        ends is released without using an attempt. A second signal ends the grace period at once. Signal
        handlers are installed only when called on the main thread (``signals=False``: never)."""
        previous = {}  # type: Dict[int, Any]
        if signals and threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGTERM, signal.SIGINT):
                previous[signum] = signal.signal(signum, self._on_signal)
        try:
            self.start()
            while not self._stopped.is_set():
                if self._stop_requested.wait(0.5):
                    log.info("worker %s: stopping (grace period %.1fs)", self.name, self.grace_s)
                    self.stop()
                    break
        except KeyboardInterrupt:
            self.stop()
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        if self.error is not None:
            raise self.error

    def _on_signal(self, signum: int, frame: Any) -> None:
        # Runs on the main thread between bytecodes: only flags, the stop itself runs in run()'s loop.
        if self._stop_requested.is_set():
            self._hurry.set()
        self._stop_requested.set()

    def wait_connected(self, timeout: Optional[float] = None) -> bool:
        return self._connected.wait(timeout)

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    @property
    def active(self) -> int:
        """Tasks this worker holds now: running or about to, or their outcome sent and not yet answered."""
        with self._active_cond:
            return self._active

    def stop(self, timeout: Optional[float] = None, graceful: bool = True) -> bool:
        """Graceful shutdown: the daemon is told ``worker.quiet`` (send nothing more), a task.run that arrives
        anyway is handed back with ``task.release`` (no attempt used up), running handlers finish and their
        outcomes are sent and answered, for up to ``timeout`` seconds (default ``grace_s``). Whatever is still
        running then is released (``task.release``: it runs again elsewhere, its attempt not counted; the
        handler sees ``ctx.cancelled``), then the connection closes. Returns True if all finished in time.
        ``graceful=False`` closes at once: running handlers see ``ctx.cancelled`` and the daemon runs their
        tasks again."""
        if timeout is None:
            timeout = self.grace_s
        self._stopping.set()
        session = self._session
        if graceful and session is not None and session.conn is not None:
            try:
                session.conn.notify("worker.quiet", {})
            except ConnectionLost:
                pass
        deadline = time.monotonic() + (timeout if graceful else 0.0)
        with self._active_cond:
            while self._active > 0 and not self._hurry.is_set():
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._active_cond.wait(min(left, 0.1))
            drained = self._active == 0
        session = self._session
        if graceful and not drained and session is not None:
            self._release_all(session)
        if session is not None and session.conn is not None:
            session.conn.close()
        if self._thread is not None:
            self._thread.join(timeout=max(0.1, deadline - time.monotonic()) + 2)
        with self._cond:
            self._shut = True
            self._cond.notify_all()
        self._stopped.set()
        return drained

    def _release_all(self, session: "_Session", timeout: float = 5.0) -> None:
        """Hands back every lease whose handler has not finished: the daemon makes the task ready again and
        does not count the attempt. An outcome not yet sent for such a lease never will be."""
        with session.lock:
            leases, session.leases = list(session.leases.values()), {}
        if not leases or session.conn is None:
            return
        left = [len(leases)]
        done = threading.Event()

        def answered(result: Any, error: Any, ctx: TaskContext) -> None:
            if error is not None:
                log.warning("task.release for %s/%s: %s", ctx.workflow_id, ctx.task_id, error)
            left[0] -= 1  # on the reader thread only
            if left[0] == 0:
                done.set()

        for ctx in leases:
            log.info("releasing %s/%s (grace period over)", ctx.workflow_id, ctx.task_id)
            ctx._cancel("released")
            session.conn.request("task.release", dumps({"lease": ctx.lease}),
                                 lambda result, error, ctx=ctx: answered(result, error, ctx), flush=False)
        session.conn.flush()
        done.wait(timeout)

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
                    if self.route_by_handler and self.handlers:
                        # SPEC §8: only tasks, polls and reverts of these handlers are sent to this worker.
                        hello["handlers"] = sorted(self.handlers)
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
        """On the reader thread, for each task.run: never blocks on an answer."""
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
        session.batch.append(ctx)

    def _dispatch(self, batch: List[TaskContext]) -> None:
        """On the reader thread, after a read: hands its tasks to the handler threads."""
        with self._active_cond:
            self._active += len(batch)
        with self._cond:
            self._ready.extend(batch)
            self._wake()

    def _wake(self) -> None:
        """With `_cond` held: gets one more thread to look at `_ready` (unless one is already on its way)."""
        if self._waking or self._shut:
            return
        if self._idle > 0:
            self._waking = True
            self._cond.notify()
        elif self._threads < self.concurrency:
            self._waking = True
            self._threads += 1
            threading.Thread(target=self._handler_thread, name="flowline-handler-{}".format(self._threads),
                             daemon=True).start()

    def _handler_thread(self) -> None:
        cond = self._cond
        ready = self._ready
        cond.acquire()
        try:
            self._waking = False
            while not self._shut:
                if not ready:
                    self._idle += 1
                    cond.wait()
                    self._idle -= 1
                    self._waking = False
                    continue
                ctx = ready.popleft()
                last = not ready
                if not last:
                    self._wake()  # a second thread for the rest, should this handler take long
                cond.release()
                try:
                    self._execute(ctx, last)
                except BaseException:
                    log.exception("handler thread failed")
                finally:
                    cond.acquire()
        finally:
            self._threads -= 1
            cond.release()

    def _finished(self) -> None:
        with self._active_cond:
            self._active -= 1
            if self._active <= 0:
                self._active_cond.notify_all()

    def _execute(self, ctx: TaskContext, last: bool) -> None:
        """Runs one task and queues its outcome. ``last``: no task was left waiting for a thread, so what is
        queued (outcomes of handlers run just before) is written first, before a handler that may take long."""
        session = ctx._session
        conn = session.conn
        if last:
            conn.flush()
        if ctx._is_cancelled:
            self._finished()
            return
        try:
            method, params = self._outcome_json(ctx)
        except BaseException:
            self._finished()
            raise
        with session.lock:
            owned = session.leases.pop(ctx.lease, None) is not None
        # Not owned: cancelled, released or its connection dropped meanwhile; nothing sent would count.
        if not owned or ctx._is_cancelled:
            log.info("not answering %s/%s: its lease ended (%s)", ctx.workflow_id, ctx.task_id, ctx.cancel_reason)
            self._finished()
            return
        conn.request(method, params, lambda result, error: self._answered(session, ctx, method, error),
                     flush=False)
        if not self._ready or conn.queued >= FLUSH_EVERY:
            conn.flush()

    def _outcome_json(self, ctx: TaskContext) -> Tuple[str, str]:
        """The outcome method and its params as JSON text; the common ``task.complete`` is written directly."""
        fn = self.handlers.get(ctx.handler)
        if fn is not None and not ctx.poll:
            try:
                value = fn(ctx)
                if value is not None and not isinstance(value, _PLAIN):
                    value = aio.resolve(value, ctx.on_cancel)
            except Exception as e:
                method, params = self._failure(ctx, e)
                return method, dumps(params)
            if value is None:
                return "task.complete", '{"lease":%s,"result":null}' % encode_basestring(ctx.lease)
            if not isinstance(value, (Awaitable, Spawn, Pipeline)):
                try:
                    text = dumps(value)
                except (TypeError, ValueError) as e:
                    return "task.fail", dumps(self._unserializable(ctx, e))
                return "task.complete", '{"lease":%s,"result":%s}' % (encode_basestring(ctx.lease), text)
            method, params = self._outcome(ctx, value)
        else:
            method, params = self._outcome(ctx)
        return method, dumps(params)

    def _failure(self, ctx: TaskContext, e: Exception) -> Tuple[str, Dict[str, Any]]:
        if isinstance(e, TaskFailure):
            return "task.fail", {"lease": ctx.lease, "error": {
                "type": e.type, "message": e.message, "retryable": e.retryable}}  # chosen: no traceback
        log.warning("handler %s failed on %s/%s attempt %s: %r", ctx.handler, ctx.workflow_id, ctx.task_id,
                    ctx.attempt, e, exc_info=log.isEnabledFor(logging.DEBUG))
        return "task.fail", {"lease": ctx.lease, "error": {
            "type": type(e).__name__, "message": failure_message(e), "retryable": True}}

    def _unserializable(self, ctx: TaskContext, e: Exception) -> Dict[str, Any]:
        return {"lease": ctx.lease, "error": {
            "type": "unserializable_result", "retryable": False,
            "message": "handler {} returned a value that is not JSON: {}".format(ctx.handler, e)}}

    _NO_VALUE = object()

    def _outcome(self, ctx: TaskContext, value: Any = _NO_VALUE):  # type: ignore[no-untyped-def]
        """The outcome (method, params) of running ctx's handler (or of the value it already returned)."""
        if value is Worker._NO_VALUE:
            fn = self.handlers.get(ctx.handler)
            if fn is None:
                return "task.fail", {"lease": ctx.lease, "error": {
                    "type": "unknown_handler", "retryable": True,
                    "message": "worker {} has no handler {!r}".format(self.name, ctx.handler)}}
            try:
                value = aio.resolve(fn(ctx), ctx.on_cancel)
            except Exception as e:
                return self._failure(ctx, e)
        if isinstance(value, Pipeline):
            try:
                value = value.to_spawn()
            except ValueError as e:
                return self._failure(ctx, e)
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
            return "task.fail", self._unserializable(ctx, e)
        return "task.complete", {"lease": ctx.lease, "result": value}

    def _answered(self, session: _Session, ctx: TaskContext, method: str, error: Any) -> None:
        """On the reader thread: the daemon answered an outcome (``error`` None or its error object), or the
        connection ended first (``error`` ConnectionLost)."""
        try:
            if error is not None and self._refused(session, ctx, method, error):
                return  # a task.fail went instead; its answer finishes the task
            self._outcome_answered(ctx, method, error)
        except Exception:
            log.exception("handling the answer to %s failed", method)
        self._finished()

    def _refused(self, session: _Session, ctx: TaskContext, method: str, error: Any) -> bool:
        """Logs why an outcome did not count; sends a task.fail instead where one can still count (and then
        returns True: the task is not over yet)."""
        if isinstance(error, ConnectionLost):
            log.info("%s for %s/%s not delivered (%s); the lease ends with the connection", method,
                     ctx.workflow_id, ctx.task_id, error)
            return False
        e = rpc_error(error, method)
        if isinstance(e, StaleLease):
            log.info("%s for %s/%s: the lease had already ended", method, ctx.workflow_id, ctx.task_id)
            return False
        if isinstance(e, MethodNotFound):
            # An older daemon without futures or spawn: fail the attempt for good rather than hold the lease.
            log.error("the daemon does not support %s: %s", method, e)
            fail = {"type": "unsupported", "retryable": False,
                    "message": "the daemon does not support {}".format(method)}
        elif method != "task.fail":
            log.error("%s for %s/%s refused: %s", method, ctx.workflow_id, ctx.task_id, e)
            fail = {"type": "invalid_outcome", "retryable": False, "message": str(e)}
        else:
            log.error("%s for %s/%s refused: %s", method, ctx.workflow_id, ctx.task_id, e)
            return False
        session.conn.request("task.fail", dumps({"lease": ctx.lease, "error": fail}),
                             lambda result, err: self._answered(session, ctx, "task.fail", err), flush=False)
        return True

    def _outcome_answered(self, ctx: TaskContext, method: str, error: Any) -> None:
        """On the reader thread, once per task whose outcome was sent: ``error`` is None when the daemon took
        it. A hook for subclasses (the benchmark counts durable completions here); must not block."""


__all__ = ["Worker", "TaskContext"]

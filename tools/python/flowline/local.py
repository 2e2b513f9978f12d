"""The local mode: run a Flow in this process with no daemon (simpleflow's ``--local``, Celery's eager mode),
for unit tests and for trying a flow out. ``Flow.run_local(input)`` returns the workflow record as
``workflow.get`` would.

It follows the daemon's rules (SPEC §2): tasks run when their deps have completed, one at a time, in the order
they were added (higher ``priority`` first); a failed attempt is retried after its backoff (slept for real)
while attempts remain; a task that fails for good skips the tasks downstream of it, cancels the rest, and
the completed tasks' reverts run in reverse order of completion. Handlers may return a Spawn or a Pipeline
(the tasks join the workflow, the spawning task completes with the output's result), a Sleep (slept), a Poll
(its handler called every ``interval_s`` until done), or a Future, which ``futures(future, ctx)`` settles:
the callback returns the result, or raises to reject (a TaskFailure picks the error's type). Not modelled:
leases, heartbeats' effect, task and workflow timeouts (a Future's or Poll's ``timeout_s`` is honoured).
"""

import datetime
import time
import uuid
from typing import Any, Callable, Dict, List, Optional

from .connection import dumps
from .errors import FlowlineError
from .outcomes import Awaitable, Future, Poll, Sleep, Spawn, TaskFailure, retry_json
from .worker import TaskContext, failure_message

FuturesCallback = Callable[[Future, TaskContext], Any]

_RETRY_DEFAULTS = {"max_attempts": 1, "backoff_s": 1.0, "backoff_multiplier": 2.0, "max_backoff_s": 300.0}


def _now() -> str:
    t = datetime.datetime.now(datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "{:03d}Z".format(t.microsecond // 1000)


class LocalContext(TaskContext):
    """A TaskContext with no connection: heartbeats record the progress, cancellation never comes."""

    def __init__(self, params: Dict[str, Any], task: "_Task") -> None:
        super().__init__(None, params)  # type: ignore[arg-type]
        self._task = task

    def heartbeat(self, progress: Any = None) -> bool:
        if progress is not None:
            self._task.record["progress"] = progress
        return True


class _Failed(Exception):
    def __init__(self, error: Dict[str, Any]) -> None:
        super().__init__(error.get("message"))
        self.error = error


class _Task:
    def __init__(self, spec: Dict[str, Any], order: int, parent: Optional[str] = None) -> None:
        self.spec = spec
        self.order = order
        self.parent = parent  # the spawning task, for spawned ones
        self.retry = dict(_RETRY_DEFAULTS, **(retry_json(spec.get("retry")) or {}))
        self.retry_at = 0.0  # monotonic; 0 when not waiting for a retry
        self.completed_seq = 0
        self.waiting_on = None  # type: Optional[str]  # a spawning task: its output's id
        self.record = {
            "id": spec["id"], "handler": spec["handler"], "queue": spec.get("queue", "default"),
            "deps": list(spec.get("deps", [])), "state": "blocked", "attempts": 0, "worker": None,
            "scheduled_at": None, "started_at": None, "finished_at": None, "retry_at": None, "progress": None,
            "result": None, "error": None}

    @property
    def id(self) -> str:
        return self.spec["id"]

    @property
    def state(self) -> str:
        return self.record["state"]


class LocalRun:
    """One run of a flow in this process; ``run()`` returns the record."""

    def __init__(self, flow: Any, input: Any = None, futures: Optional[FuturesCallback] = None,
                 id: Optional[str] = None, worker: str = "local") -> None:
        self.flow = flow
        self.document = flow.document(input, id=id)
        self.handlers = flow.handler_functions()
        self.futures = futures
        self.worker = worker
        self.tasks = {}  # type: Dict[str, _Task]
        self.order = []  # type: List[_Task]
        self.completions = 0
        self.record = {
            "workflow_id": self.document.get("id") or "local-" + uuid.uuid4().hex[:12],
            "name": self.document["name"], "state": "running", "input": self.document["input"], "result": None,
            "error": None, "reverted": False, "revert_failures": [], "created_at": _now(), "finished_at": None,
            "tasks": []}  # type: Dict[str, Any]
        for spec in self.document["tasks"]:
            self._add(spec)

    def _add(self, spec: Dict[str, Any], parent: Optional[str] = None) -> _Task:
        if spec["id"] in self.tasks:
            raise FlowlineError("duplicate task id {!r}".format(spec["id"]))
        t = _Task(spec, len(self.order), parent)
        self.tasks[t.id] = t
        self.order.append(t)
        return t

    # -- the loop

    def run(self) -> Dict[str, Any]:
        while self.record["state"] == "running":
            self._unblock()
            ready = [t for t in self.order if t.state == "ready"]
            if not ready:
                if all(t.state in ("completed", "skipped", "cancelled") for t in self.order):
                    self._finish("completed")
                    break
                raise FlowlineError("local run stuck: no task can run ({})".format(
                    ", ".join("{} {}".format(t.id, t.state) for t in self.order if t.state != "completed")))
            now = time.monotonic()
            due = [t for t in ready if t.retry_at <= now]
            if not due:
                time.sleep(max(0.0, min(t.retry_at for t in ready) - now))
                continue
            due.sort(key=lambda t: (-int(t.spec.get("priority", 0)), t.order))
            self._attempt(due[0])
        self.record["tasks"] = [t.record for t in self.order]
        return self.record

    def _unblock(self) -> None:
        for t in self.order:
            if t.state == "blocked" and all(self.tasks[d].state == "completed" for d in t.record["deps"]):
                t.record["state"] = "ready"
                t.record["scheduled_at"] = _now()

    def _params(self, t: _Task, **extra: Any) -> Dict[str, Any]:
        params = {
            "lease": "local-" + uuid.uuid4().hex[:8], "workflow_id": self.record["workflow_id"],
            "workflow_name": self.record["name"], "task_id": t.id, "handler": t.spec["handler"],
            "attempt": t.record["attempts"], "input": t.spec.get("input", {}),
            "deps": {d: self.tasks[d].record["result"] for d in t.record["deps"]},
            "workflow_input": self.record["input"], "deadline": None}
        params.update(extra)
        return params

    def _call(self, handler: str, ctx: TaskContext) -> Any:
        fn = self.handlers.get(handler)
        if fn is None:
            raise _Failed({"type": "unknown_handler", "retryable": True,
                           "message": "the flow has no handler {!r}".format(handler)})
        try:
            return fn(ctx)
        except TaskFailure as e:
            raise _Failed({"type": e.type, "message": e.message, "retryable": e.retryable}) from e
        except Exception as e:
            raise _Failed({"type": type(e).__name__, "message": failure_message(e), "retryable": True}) from e

    def _attempt(self, t: _Task) -> None:
        t.record["attempts"] += 1
        t.record.update(state="running", worker=self.worker, started_at=_now(), retry_at=None, error=None)
        t.retry_at = 0.0
        ctx = LocalContext(self._params(t), t)
        try:
            value = self._call(t.spec["handler"], ctx)
            if isinstance(value, Spawn):
                self._spawn(t, value)
                return
            if isinstance(value, Awaitable):
                t.record["state"] = "waiting"
                value = self._settle(t, value, ctx)
            try:
                dumps(value)
            except (TypeError, ValueError) as e:
                raise _Failed({"type": "unserializable_result", "retryable": False,
                               "message": "handler {} returned a value that is not JSON: {}".format(
                                   t.spec["handler"], e)})
        except _Failed as f:
            self._attempt_failed(t, f.error)
            return
        self._complete(t, value)

    def _settle(self, t: _Task, future: Awaitable, ctx: TaskContext) -> Any:
        if isinstance(future, Sleep):
            time.sleep(future.seconds)
            return None
        if isinstance(future, Future):
            if self.futures is None:
                raise _Failed({"type": "no_futures_callback", "retryable": False,
                               "message": "task {} awaits future {!r}: pass run_local(futures=...)".format(
                                   t.id, future.key)})
            try:
                return self.futures(future, ctx)
            except TaskFailure as e:
                raise _Failed({"type": e.type, "message": e.message, "retryable": e.retryable}) from e
            except Exception as e:
                raise _Failed({"type": "rejected", "message": str(e) or repr(e), "retryable": True}) from e
        if isinstance(future, Poll):
            deadline = None if future.timeout_s is None else time.monotonic() + future.timeout_s
            interval = 10.0 if future.interval_s is None else future.interval_s
            while True:
                poll_ctx = LocalContext(self._params(t, handler=future.handler, input=future.input or {},
                                                     poll=True), t)
                answer = self._call(future.handler, poll_ctx)
                if not (isinstance(answer, dict) and isinstance(answer.get("done"), bool)):
                    answer = {"done": False} if answer is None else {"done": True, "result": answer}
                if answer["done"]:
                    return answer.get("result")
                if deadline is not None and time.monotonic() + interval > deadline:
                    time.sleep(max(0.0, deadline - time.monotonic()))
                    raise _Failed({"type": "timeout", "retryable": True,
                                   "message": "poll {} did not finish within {}s".format(future.handler,
                                                                                         future.timeout_s)})
                time.sleep(interval)
        raise _Failed({"type": "invalid_outcome", "retryable": False, "message": "unknown future {!r}".format(future)})

    def _spawn(self, parent: _Task, spawn: Spawn) -> None:
        given = {s["id"] for s in spawn.tasks}
        for spec in spawn.tasks:
            spec = dict(spec)
            spec["id"] = "{}/{}".format(parent.id, spec["id"])
            spec["deps"] = ["{}/{}".format(parent.id, d) if d in given else d for d in spec.get("deps", [])]
            self._add(spec, parent.id)
        parent.record["state"] = "waiting"
        parent.waiting_on = "{}/{}".format(parent.id, spawn.output)

    def _complete(self, t: _Task, value: Any) -> None:
        self.completions += 1
        t.completed_seq = self.completions
        t.record.update(state="completed", result=value, finished_at=_now(), error=None)
        for p in self.order:
            if p.state == "waiting" and p.waiting_on == t.id:
                self._complete(p, value)

    def _attempt_failed(self, t: _Task, error: Dict[str, Any]) -> None:
        t.record["error"] = error
        if error.get("retryable", True) and t.record["attempts"] < int(t.retry["max_attempts"]):
            n = t.record["attempts"]
            wait = min(float(t.retry["backoff_s"]) * float(t.retry["backoff_multiplier"]) ** (n - 1),
                       float(t.retry["max_backoff_s"]))
            t.record["state"] = "ready"
            t.retry_at = time.monotonic() + wait
            t.record["retry_at"] = _now()
            return
        self._failed_for_good(t, error)

    def _failed_for_good(self, t: _Task, error: Dict[str, Any]) -> None:
        t.record.update(state="failed", finished_at=_now(), error=error)
        for p in self.order:
            if p.state == "waiting" and p.waiting_on == t.id:
                self._failed_for_good(p, error)
                return
        if self.record["state"] != "running":
            return
        downstream = self._downstream(t.id)
        for o in self.order:
            if o.state in ("completed", "failed", "skipped", "cancelled"):
                continue
            o.record.update(state="skipped" if o.id in downstream else "cancelled", finished_at=_now())
        self.record["error"] = error
        self._revert()
        self._finish("failed")

    def _downstream(self, root: str) -> set:
        out = set()  # type: set
        frontier = [root]
        while frontier:
            current = frontier.pop()
            for o in self.order:
                if current in o.record["deps"] and o.id not in out:
                    out.add(o.id)
                    frontier.append(o.id)
        return out

    def _revert(self) -> None:
        todo = sorted((t for t in self.order if t.state == "completed" and t.spec.get("revert")),
                      key=lambda t: -t.completed_seq)
        failures = []  # type: List[str]
        for t in todo:
            t.record["state"] = "reverting"
            ok = False
            for n in range(1, int(t.retry["max_attempts"]) + 1):
                ctx = LocalContext(self._params(t, handler=t.spec["revert"], revert=True,
                                                result=t.record["result"], attempt=n), t)
                try:
                    self._call(t.spec["revert"], ctx)
                    ok = True
                    break
                except _Failed as f:
                    if not f.error.get("retryable", True):
                        break
                    if n < int(t.retry["max_attempts"]):
                        time.sleep(min(float(t.retry["backoff_s"]) * float(t.retry["backoff_multiplier"]) **
                                       (n - 1), float(t.retry["max_backoff_s"])))
            t.record["state"] = "reverted" if ok else "revert_failed"
            if not ok:
                failures.append(t.id)
        self.record["reverted"] = bool(todo) and not failures
        self.record["revert_failures"] = failures

    def _finish(self, state: str) -> None:
        self.record["state"] = state
        self.record["finished_at"] = _now()
        if state == "completed":
            top = [t for t in self.order if t.parent is None]
            depended = {d for t in top for d in t.record["deps"]}
            self.record["result"] = {t.id: t.record["result"] for t in top if t.id not in depended}


def run_local(flow: Any, input: Any = None, futures: Optional[FuturesCallback] = None,
              id: Optional[str] = None) -> Dict[str, Any]:
    """Runs ``flow`` in this process; returns the workflow record (see the module's docstring)."""
    return LocalRun(flow, input, futures=futures, id=id).run()


__all__ = ["run_local", "LocalRun", "LocalContext"]

"""What a handler may return besides a plain JSON result, and the task-spec builders used by Flow and Spawn."""

from typing import Any, Callable, Dict, Iterable, List, Optional, Union


class Awaitable:
    """Base of the futures a handler may return: the task then waits (``task.await``)."""

    def to_json(self) -> Dict[str, Any]:
        raise NotImplementedError


class Future(Awaitable):
    """Wait until some client calls ``future.resolve {key, result}`` (or ``future.reject``): the
    external-event listener pattern (Function Flow's ``BigQueryFuture``)."""

    def __init__(self, key: str, timeout_s: Optional[float] = None) -> None:
        self.key = key
        self.timeout_s = timeout_s

    def to_json(self) -> Dict[str, Any]:
        out = {"key": self.key}  # type: Dict[str, Any]
        if self.timeout_s is not None:
            out["timeout_s"] = self.timeout_s
        return out

    def __repr__(self) -> str:
        return "Future(key={!r})".format(self.key)


class Sleep(Awaitable):
    """A durable timer: the task completes with ``None`` after ``seconds``, across daemon restarts."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def to_json(self) -> Dict[str, Any]:
        return {"sleep_s": self.seconds}

    def __repr__(self) -> str:
        return "Sleep({!r})".format(self.seconds)


class Poll(Awaitable):
    """Have the coordinator run ``handler`` (a poll handler) every ``interval_s`` until it reports done; the
    task completes with the poll's result. A poll handler returns ``None`` (or ``pending()``) while not done,
    anything else (or ``done(x)``) when done."""

    def __init__(self, handler: Union[str, Callable[..., Any]], input: Any = None,
                 interval_s: Optional[float] = None, timeout_s: Optional[float] = None) -> None:
        self.handler = handler_name(handler)
        self.input = input
        self.interval_s = interval_s
        self.timeout_s = timeout_s

    def to_json(self) -> Dict[str, Any]:
        poll = {"handler": self.handler}  # type: Dict[str, Any]
        if self.input is not None:
            poll["input"] = self.input
        if self.interval_s is not None:
            poll["interval_s"] = self.interval_s
        out = {"poll": poll}  # type: Dict[str, Any]
        if self.timeout_s is not None:
            out["timeout_s"] = self.timeout_s
        return out

    def __repr__(self) -> str:
        return "Poll({!r})".format(self.handler)


def done(result: Any = None) -> Dict[str, Any]:
    """A poll handler's answer: finished, with ``result``."""
    return {"done": True, "result": result}


def pending() -> Dict[str, Any]:
    """A poll handler's answer: not finished yet, ask again after ``interval_s``."""
    return {"done": False}


class Retry:
    """A retry policy: ``Retry(3)`` or ``Retry(max_attempts=5, backoff_s=0.5, backoff_multiplier=2,
    max_backoff_s=60)``. The wait before attempt n+1 is min(backoff_s * multiplier^(n-1), max_backoff_s)."""

    def __init__(self, max_attempts: int = 1, backoff_s: Optional[float] = None,
                 backoff_multiplier: Optional[float] = None, max_backoff_s: Optional[float] = None) -> None:
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self.backoff_multiplier = backoff_multiplier
        self.max_backoff_s = max_backoff_s

    def to_json(self) -> Dict[str, Any]:
        out = {"max_attempts": self.max_attempts}  # type: Dict[str, Any]
        for k in ("backoff_s", "backoff_multiplier", "max_backoff_s"):
            v = getattr(self, k)
            if v is not None:
                out[k] = v
        return out


RetryLike = Union[None, int, Dict[str, Any], Retry]


def retry_json(retry: RetryLike) -> Optional[Dict[str, Any]]:
    if retry is None:
        return None
    if isinstance(retry, bool):
        raise TypeError("retry must be an int, a dict or a Retry")
    if isinstance(retry, int):
        return {"max_attempts": retry}
    if isinstance(retry, Retry):
        return retry.to_json()
    if isinstance(retry, dict):
        return dict(retry)
    raise TypeError("retry must be an int, a dict or a Retry, got {!r}".format(retry))


def handler_name(handler: Union[str, Callable[..., Any]]) -> str:
    """A handler's registered name: the string itself, or a function's ``handler_name`` (set by Flow) or
    ``__name__``."""
    if isinstance(handler, str):
        return handler
    name = getattr(handler, "handler_name", None) or getattr(handler, "__name__", None)
    if not name:
        raise TypeError("cannot name handler {!r}".format(handler))
    return name


def task_id_of(dep: Union[str, Callable[..., Any]]) -> str:
    """A dep given as a task id or as a Flow-decorated function (its task id)."""
    if isinstance(dep, str):
        return dep
    tid = getattr(dep, "task_id", None)
    if isinstance(tid, str):
        return tid
    return handler_name(dep)


def task(handler: Union[str, Callable[..., Any]], id: Optional[str] = None,
         deps: Iterable[Union[str, Callable[..., Any]]] = (), input: Any = None, queue: Optional[str] = None,
         retry: RetryLike = None, timeout_s: Optional[float] = None, heartbeat_s: Optional[float] = None,
         revert: Union[None, str, Callable[..., Any]] = None, priority: Optional[int] = None,
         limits: Optional[Iterable[str]] = None, fairness_key: Optional[str] = None) -> Dict[str, Any]:
    """One task of a workflow document or of a Spawn, as JSON. ``id`` defaults to the handler's name.
    ``limits`` lists the limit keys it counts against (``Client.limit_set``), ``fairness_key`` its tenant."""
    name = handler_name(handler)
    spec = {"id": id if id is not None else name, "handler": name}  # type: Dict[str, Any]
    dep_ids = [task_id_of(d) for d in deps]
    if dep_ids:
        spec["deps"] = dep_ids
    if input is not None:
        spec["input"] = input
    if queue is not None:
        spec["queue"] = queue
    r = retry_json(retry)
    if r is not None:
        spec["retry"] = r
    if timeout_s is not None:
        spec["timeout_s"] = timeout_s
    if heartbeat_s is not None:
        spec["heartbeat_s"] = heartbeat_s
    if revert is not None:
        spec["revert"] = handler_name(revert)
    if priority is not None:
        spec["priority"] = priority
    if limits:
        spec["limits"] = list(limits)
    if fairness_key is not None:
        spec["fairness_key"] = fairness_key
    return spec


class Spawn:
    """Add ``tasks`` to the workflow at run time (dynamic fan-out, continuations); the spawning task completes
    with the result of the spawned task ``output`` (default: the last one). Ids are given without the
    ``parent/`` prefix; deps name each other by those ids or any completed task of the workflow."""

    def __init__(self, tasks: Iterable[Dict[str, Any]], output: Optional[str] = None) -> None:
        self.tasks = [dict(t) for t in tasks]
        if not self.tasks:
            raise ValueError("Spawn needs at least one task")
        self.output = output if output is not None else self.tasks[-1]["id"]

    def to_json(self) -> Dict[str, Any]:
        return {"tasks": self.tasks, "output": self.output}

    def __repr__(self) -> str:
        return "Spawn({} tasks, output={!r})".format(len(self.tasks), self.output)


class TaskFailure(Exception):
    """Raise to fail the attempt with a chosen ``type`` and ``retryable`` flag (any other exception fails it
    as retryable, typed by its class name)."""

    def __init__(self, message: str, type: str = "error", retryable: bool = True) -> None:
        super().__init__(message)
        self.message = message
        self.type = type
        self.retryable = retryable


class PermanentFailure(TaskFailure):
    """A failure no retry can fix: the task fails for good at once."""

    def __init__(self, message: str, type: str = "permanent") -> None:
        super().__init__(message, type=type, retryable=False)


__all__ = ["Awaitable", "Future", "Sleep", "Poll", "done", "pending", "Retry", "task", "Spawn", "TaskFailure",
           "PermanentFailure", "handler_name", "task_id_of", "retry_json"]

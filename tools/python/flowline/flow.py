"""The decorator API: a Flow is a named DAG whose tasks are plain Python functions.

    flow = Flow("test_job")

    @flow.task(task_id="step1")
    def task1(**context):
        return "result1"

    @flow.task(task_id="step2", deps=["step1"])
    def task2(step1, **context):          # step1's result, by its task id
        return step1 + "/2"

    workflow_id = flow.submit(client, {"day": "2026-11-22"})
    flow.worker(client).run()

How a function's parameters are filled, first match wins:
  1. a dep's task id (its result; for spawned deps the id after the last ``/``);
  2. a context name: ``context`` / ``ctx`` (the TaskContext), ``input``, ``deps``, ``workflow_input``,
     ``attempt``, ``task_id``, ``workflow_id``, ``workflow_name``, ``result`` (revert runs: the reverted
     task's result), ``heartbeat`` (``heartbeat(progress)``);
  3. a key of the task's input (a dict), like GigQ's ``params``;
  4. when exactly one dep is left unclaimed, the first parameter still unfilled gets its result (chains
     read like ``compute_std_dev(prices)``);
  5. the workflow's positional arguments, in order, when its input is a call (simpleflow's
     ``{"args": [1], "kwargs": {...}}``), else a key of the workflow's input (a dict; of its ``kwargs`` when
     it is a call);
  6. the parameter's default.
A task whose input is a call, ``{"args": [...], "kwargs": {...}}`` (``send``/``continue_with``/``chain``
write such tasks), is called like a Python function: its deps' results first (one dep: its result; several:
the list of their results), then ``args``, then ``kwargs`` by name; other parameters from the context names,
the workflow input's keys, or their defaults.
``*args`` receives the results of the deps no parameter claimed, in dep order; ``**kwargs`` receives the
context names not already bound (so Function Flow's ``def task1(**unused_context)`` works as is).
A decorated function stays an ordinary function: call it directly in tests.
"""

import inspect
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple, Union

from . import aio
from .client import Client
from .connection import Address
from .outcomes import RetryLike, handler_name, retry_json, task
from .pipeline import Pipeline, bind
from .worker import TaskContext, Worker

_MISSING = object()


def _context_values(ctx: TaskContext) -> Dict[str, Any]:
    values = {
        "context": ctx,
        "ctx": ctx,
        "input": ctx.input,
        "deps": ctx.deps,
        "workflow_input": ctx.workflow_input,
        "attempt": ctx.attempt,
        "task_id": ctx.task_id,
        "workflow_id": ctx.workflow_id,
        "workflow_name": ctx.workflow_name,
        "heartbeat": ctx.heartbeat,
    }
    if ctx.revert:
        values["result"] = ctx.result
        values["error"] = ctx.error
    if ctx.dep_errors:
        values["dep_errors"] = ctx.dep_errors
    return values


def call_form(value: Any) -> Optional[Tuple[List[Any], Dict[str, Any]]]:
    """``(args, kwargs)`` when ``value`` is an input written as a call, simpleflow's ``{"args": [...],
    "kwargs": {...}}`` (either member may be left out; nothing else may be there), else None."""
    if not isinstance(value, dict) or not value or not set(value) <= {"args", "kwargs"}:
        return None
    args = value.get("args", [])
    kwargs = value.get("kwargs", {})
    if not isinstance(args, list) or not isinstance(kwargs, dict):
        return None
    return list(args), dict(kwargs)


def _bind_call_form(fn: Callable[..., Any], sig: inspect.Signature, ctx: TaskContext, args: List[Any],
                    kwargs: Dict[str, Any]) -> Any:
    """A task whose input is a call: its deps' results come first (one dep: its result; several: the list of
    their results, in dep order; as Celery's chain and Flink Tasks' continue_with pass them), then ``args``;
    ``kwargs`` by name; what is left from the context names, the workflow input's keys, or defaults."""
    results = list(ctx.deps.values())
    leading = [] if not results else [results[0]] if len(results) == 1 else [results]
    try:
        bound = sig.bind_partial(*(leading + args), **kwargs)
    except TypeError as e:
        raise TypeError("{}(): {}".format(getattr(fn, "__name__", "handler"), e)) from None
    context = _context_values(ctx)
    winp = _workflow_kwargs(ctx)
    for p in sig.parameters.values():
        if p.name in bound.arguments:
            continue
        if p.kind is p.VAR_KEYWORD:
            bound.arguments[p.name] = {k: v for k, v in context.items() if k not in sig.parameters}
        elif p.kind is p.VAR_POSITIONAL:
            continue
        elif p.name in context:
            bound.arguments[p.name] = context[p.name]
        elif p.name in winp:
            bound.arguments[p.name] = winp[p.name]
        elif p.default is p.empty:
            raise TypeError("{}() missing argument {!r}".format(getattr(fn, "__name__", "handler"), p.name))
    bound.apply_defaults()
    return fn(*bound.args, **bound.kwargs)


def _workflow_kwargs(ctx: TaskContext) -> Dict[str, Any]:
    winp = ctx.workflow_input
    call = call_form(winp)
    if call is not None:
        return call[1]
    return winp if isinstance(winp, dict) else {}


def bind_call(fn: Callable[..., Any], ctx: TaskContext) -> Any:
    """Calls ``fn`` with its parameters filled from ``ctx`` (see the module's docstring)."""
    sig = inspect.signature(fn)
    call = call_form(ctx.input)
    if call is not None:
        return _bind_call_form(fn, sig, ctx, call[0], call[1])
    context = _context_values(ctx)
    inp = ctx.input if isinstance(ctx.input, dict) else {}
    winp = _workflow_kwargs(ctx)
    wcall = call_form(ctx.workflow_input)
    wargs = list(wcall[0]) if wcall is not None else []
    # Deps by full id and by the id after the last slash (spawned tasks).
    deps_by_name = {}  # type: Dict[str, str]
    for full in ctx.deps:
        deps_by_name.setdefault(full, full)
        deps_by_name.setdefault(full.rsplit("/", 1)[-1], full)
    claimed = set()  # type: set
    args = []  # type: List[Any]
    kwargs = {}  # type: Dict[str, Any]
    unfilled = []  # type: List[inspect.Parameter]
    var_positional = None
    var_keyword = None
    params = list(sig.parameters.values())
    for p in params:
        if p.kind is p.VAR_POSITIONAL:
            var_positional = p
            continue
        if p.kind is p.VAR_KEYWORD:
            var_keyword = p
            continue
        value = _MISSING
        if p.name in deps_by_name:
            full = deps_by_name[p.name]
            claimed.add(full)
            value = ctx.deps[full]
        elif p.name in context:
            value = context[p.name]
        elif p.name in inp:
            value = inp[p.name]
        kwargs[p.name] = value
        if value is _MISSING:
            unfilled.append(p)
    left = [full for full in ctx.deps if full not in claimed]
    if len(left) == 1 and var_positional is None:
        for p in unfilled:
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty:
                kwargs[p.name] = ctx.deps[left[0]]
                claimed.add(left[0])
                unfilled.remove(p)
                break
    for p in list(unfilled):
        if wargs and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            kwargs[p.name] = wargs.pop(0)  # the workflow's positional arguments, in order
        elif p.name in winp:
            kwargs[p.name] = winp[p.name]
        elif p.default is not p.empty:
            kwargs[p.name] = p.default
        else:
            raise TypeError("{}() parameter {!r} matches no dep, context name, input or workflow input key".format(
                getattr(fn, "__name__", "handler"), p.name))
    # Positional-only and, when *args is used, leading parameters go positionally.
    for p in params:
        if p.kind is p.VAR_POSITIONAL:
            args.extend(ctx.deps[full] for full in ctx.deps if full not in claimed)
            break
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and (
                p.kind is p.POSITIONAL_ONLY or var_positional is not None):
            args.append(kwargs.pop(p.name))
    if var_keyword is not None:
        for k, v in context.items():
            if k not in kwargs and k not in sig.parameters:
                kwargs[k] = v
    return fn(*args, **kwargs)


class Flow:
    """A named DAG of tasks defined by decorating functions; also the set of handlers a worker runs."""

    def __init__(self, name: str, queue: Optional[str] = None, timeout_s: Optional[float] = None,
                 retry: RetryLike = None) -> None:
        """``retry`` is the whole flow's (TaskFlow's ``Flow(retry=Times(n))``, SPEC §11): when the workflow fails,
        its reverts run and it runs again from the start, up to max_attempts runs in all."""
        self.name = name
        self.queue = queue
        self.timeout_s = timeout_s
        self.retry = retry_json(retry)
        self.tasks = []  # type: List[Dict[str, Any]]
        self.handlers = {}  # type: Dict[str, Callable[..., Any]]

    # -- defining

    def handler(self, name: Optional[str] = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Registers a function as a handler only (no task in the document): poll handlers, revert handlers,
        handlers of spawned tasks."""
        def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
            self._register(name or getattr(fn, "handler_name", None) or fn.__name__, fn)
            return fn
        return wrap

    def task(self, task_id: Optional[str] = None, deps: Iterable[Union[str, Callable[..., Any]]] = (),
             handler: Optional[str] = None, input: Any = None, queue: Optional[str] = None,
             retry: RetryLike = None, timeout_s: Optional[float] = None, heartbeat_s: Optional[float] = None,
             revert: Union[None, str, Callable[..., Any]] = None,
             priority: Optional[int] = None, limits: Optional[Iterable[str]] = None,
             fairness_key: Optional[str] = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorator: the function becomes handler ``handler`` (default: its name) and task ``task_id``
        (default: its name) with these deps and options. ``revert`` is a handler name or a function (then
        registered too). ``retry`` is an int (max attempts), a dict or a Retry."""
        def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
            hname = handler or fn.__name__
            self._register(hname, fn)
            self.add_task(hname, task_id=task_id or fn.__name__, deps=deps, input=input, queue=queue,
                          retry=retry, timeout_s=timeout_s, heartbeat_s=heartbeat_s, revert=revert,
                          priority=priority, limits=limits, fairness_key=fairness_key)
            try:
                fn.task_id = task_id or fn.__name__  # type: ignore[attr-defined]
                fn.handler_name = hname  # type: ignore[attr-defined]
            except AttributeError:
                pass
            return fn
        return wrap

    def add_task(self, handler: Union[str, Callable[..., Any]], task_id: Optional[str] = None,
                 deps: Iterable[Union[str, Callable[..., Any]]] = (), input: Any = None,
                 queue: Optional[str] = None, retry: RetryLike = None, timeout_s: Optional[float] = None,
                 heartbeat_s: Optional[float] = None, revert: Union[None, str, Callable[..., Any]] = None,
                 priority: Optional[int] = None, limits: Optional[Iterable[str]] = None,
                 fairness_key: Optional[str] = None) -> str:
        """Adds one more task running an existing handler (loops, fan-out); returns its id. A function
        handler not yet registered is registered under its name."""
        hname = handler_name(handler)
        if not isinstance(handler, str) and hname not in self.handlers:
            self._register(hname, handler)
        if revert is not None and not isinstance(revert, str):
            self._register(handler_name(revert), revert)
        tid = task_id or hname
        if any(t["id"] == tid for t in self.tasks):
            raise ValueError("flow {!r} already has a task {!r}".format(self.name, tid))
        spec = task(handler, id=tid, deps=deps, input=input, queue=queue or self.queue, retry=retry,
                    timeout_s=timeout_s, heartbeat_s=heartbeat_s, revert=revert, priority=priority,
                    limits=limits, fairness_key=fairness_key)
        self.tasks.append(spec)
        return tid

    def _register(self, name: str, fn: Callable[..., Any]) -> None:
        existing = self.handlers.get(name)
        if existing is not None and existing is not fn:
            raise ValueError("flow {!r} already has a handler {!r}".format(self.name, name))
        self.handlers[name] = fn
        if not hasattr(fn, "send"):
            bind(fn)  # fn.send(...) / fn.s(...) for pipelines

    # -- running

    def document(self, input: Any = None, id: Optional[str] = None,
                 timeout_s: Optional[float] = None) -> Dict[str, Any]:
        """The workflow document (SPEC §2) for one run with ``input``."""
        if not self.tasks:
            raise ValueError("flow {!r} has no tasks".format(self.name))
        doc = {"name": self.name, "tasks": [dict(t) for t in self.tasks]}  # type: Dict[str, Any]
        if id is not None:
            doc["id"] = id
        doc["input"] = {} if input is None else input
        t = timeout_s if timeout_s is not None else self.timeout_s
        if t is not None:
            doc["timeout_s"] = t
        if self.retry is not None:
            doc["retry"] = self.retry
        return doc

    def submit(self, client: Client, input: Any = None, id: Optional[str] = None,
               timeout_s: Optional[float] = None) -> str:
        """Submits one run; returns its workflow id (an existing one's when ``id`` was used before)."""
        return client.submit(self.document(input, id=id, timeout_s=timeout_s))["workflow_id"]

    def run(self, client: Client, input: Any = None, id: Optional[str] = None, timeout_s: Optional[float] = None,
            wait_s: Optional[float] = None) -> Dict[str, Any]:
        """Submits and waits (up to ``wait_s``); returns the workflow record."""
        workflow_id = self.submit(client, input, id=id, timeout_s=timeout_s)
        return client.wait(workflow_id, timeout_s=wait_s)

    def run_local(self, input: Any = None, futures: Optional[Callable[..., Any]] = None,
                  id: Optional[str] = None) -> Dict[str, Any]:
        """Runs the flow in this process with no daemon (simpleflow's ``--local``, Celery's eager mode) and
        returns the workflow record as ``workflow.get`` would: deps, retries with their backoff, spawn and
        pipelines, polls, sleeps, reverts; a Future is settled by ``futures(future, ctx)``, which returns the
        result or raises to reject. See flowline.local."""
        from .local import run_local
        return run_local(self, input, futures=futures, id=id)

    def handler_functions(self) -> Dict[str, Callable[[TaskContext], Any]]:
        """The worker handlers: each calls its function with parameters bound from the context."""
        queue = self.queue

        def make(fn: Callable[..., Any]) -> Callable[[TaskContext], Any]:
            def run(ctx: TaskContext) -> Any:
                value = aio.resolve(bind_call(fn, ctx), ctx.on_cancel)
                if isinstance(value, Pipeline):
                    return value.to_spawn(queue)  # the flow's queue, which its worker serves
                return value
            run.__name__ = getattr(fn, "__name__", "handler")
            return run
        return {name: make(fn) for name, fn in self.handlers.items()}

    def worker(self, client_or_address: Union[Client, Address], queues: Optional[Iterable[str]] = None,
               concurrency: int = 4, name: Optional[str] = None, token: Optional[str] = None,
               grace_s: float = 30.0) -> Worker:
        """A Worker with every handler of this flow (and its reverts) registered, serving the queues its
        tasks use (or ``queues``). Call ``.start()`` or ``.run()`` on it."""
        if queues is None:
            qs = sorted({t.get("queue", "default") for t in self.tasks} | {self.queue or "default"})
        else:
            qs = list(queues)
        return Worker(client_or_address, handlers=self.handler_functions(), queues=qs, concurrency=concurrency,
                      name=name or "{}-worker".format(self.name), token=token, grace_s=grace_s)

    def __repr__(self) -> str:
        return "Flow({!r}, {} tasks)".format(self.name, len(self.tasks))


__all__ = ["Flow", "bind_call"]

"""Writing the DAG as calls, the way Flink Tasks and Celery do:

    greeting = say_hello.send("Jane", "Doe").continue_with(say_goodbye)      # Flink Tasks
    stocks = chain(load.s("BT.L"), std_dev.s())                              # Celery
    average = in_parallel([send(load, s).continue_with(std_dev) for s in stocks]).continue_with(mean)

Each call becomes one task whose input is the call, ``{"args": [...], "kwargs": {...}}``, and whose deps are
the tasks before it; the function receives their results first (one: the result; several, after a group:
the list of results in order), then its own arguments (see flow.bind_call). A Pipeline becomes a Flow
(``to_flow(name)``) to submit, run with a worker or run locally; a handler that returns a Pipeline spawns it
(``task.spawn``): the task completes with the pipeline's last result, Flink's dynamic continuations.
"""

from typing import TYPE_CHECKING, Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

from .outcomes import Spawn, handler_name, task

if TYPE_CHECKING:
    from .flow import Flow


class Signature:
    """One call not yet placed in a pipeline (Celery's ``fn.s(*args, **kwargs)``), with task options
    (``queue``, ``retry``, ``timeout_s``, ``heartbeat_s``, ``revert``, ``priority``, ``id``)."""

    def __init__(self, fn: Callable[..., Any], args: Sequence[Any] = (), kwargs: Optional[Dict[str, Any]] = None,
                 **options: Any) -> None:
        self.fn = fn
        self.args = list(args)
        self.kwargs = dict(kwargs or {})
        self.options = options

    def set(self, **options: Any) -> "Signature":
        """The same call with more task options."""
        return Signature(self.fn, self.args, self.kwargs, **dict(self.options, **options))

    def input(self) -> Dict[str, Any]:
        return {"args": self.args, "kwargs": self.kwargs}

    def __repr__(self) -> str:
        return "{}.s(*{!r}, **{!r})".format(handler_name(self.fn), self.args, self.kwargs)


class _Step:
    __slots__ = ("id", "signature", "deps")

    def __init__(self, id: str, signature: Signature, deps: List[str]) -> None:
        self.id = id
        self.signature = signature
        self.deps = deps


class Pipeline:
    """Calls and the order they run in. ``continue_with`` adds a call after everything at the pipeline's end
    (its tails) and returns the pipeline."""

    def __init__(self) -> None:
        self.steps = []  # type: List[_Step]
        self.tails = []  # type: List[str]

    def _id(self, signature: Signature) -> str:
        wanted = signature.options.get("id") or handler_name(signature.fn)
        taken = {s.id for s in self.steps}
        if wanted not in taken:
            return wanted
        n = 2
        while "{}-{}".format(wanted, n) in taken:
            n += 1
        return "{}-{}".format(wanted, n)

    def _append(self, signature: Signature, deps: List[str]) -> str:
        step = _Step(self._id(signature), signature, list(deps))
        self.steps.append(step)
        return step.id

    def _merge(self, other: "Pipeline") -> Tuple[List[str], List[str]]:
        """Adds ``other``'s steps (renamed where their ids are taken); returns (its heads, its tails)."""
        renamed = {}  # type: Dict[str, str]
        heads = []  # type: List[str]
        for step in other.steps:
            sid = self._append(step.signature, [renamed[d] for d in step.deps])
            renamed[step.id] = sid
            if not step.deps:
                heads.append(sid)
        return heads, [renamed[t] for t in other.tails]

    def continue_with(self, fn: Any, *args: Any, **kwargs: Any) -> "Pipeline":
        """``fn(results of the tails..., *args, **kwargs)`` runs after the pipeline's tails. ``fn`` may be a
        function, a Signature, or a Pipeline (whose first calls then get the tails' results)."""
        if isinstance(fn, Pipeline):
            first = len(self.steps)
            tails = list(self.tails)
            _, new_tails = self._merge(fn)
            for step in self.steps[first:]:
                if not step.deps:
                    step.deps = list(tails)
            self.tails = new_tails
            return self
        signature = fn if isinstance(fn, Signature) else Signature(fn, args, kwargs)
        self.tails = [self._append(signature, self.tails)]
        return self

    then = continue_with

    def set(self, **options: Any) -> "Pipeline":
        """Task options (``queue``, ``retry``, ``timeout_s``, ...) for the calls at the pipeline's end."""
        for step in self.steps:
            if step.id in self.tails:
                step.signature = step.signature.set(**options)
        return self

    def tasks(self, queue: Optional[str] = None) -> List[Dict[str, Any]]:
        """The task specs (SPEC §2), each with the call as its input; ``queue`` for those that name none."""
        out = []
        for step in self.steps:
            options = dict(step.signature.options)
            options.pop("id", None)
            if options.get("queue") is None:
                options["queue"] = queue
            out.append(task(step.signature.fn, id=step.id, deps=step.deps, input=step.signature.input(), **options))
        return out

    def functions(self) -> Dict[str, Callable[..., Any]]:
        """Every function the pipeline calls, by handler name (reverts given as functions included)."""
        out = {}  # type: Dict[str, Callable[..., Any]]
        for step in self.steps:
            for fn in (step.signature.fn, step.signature.options.get("revert")):
                if fn is not None and not isinstance(fn, str):
                    out.setdefault(handler_name(fn), fn)
        return out

    def to_flow(self, name: str, queue: Optional[str] = None, timeout_s: Optional[float] = None) -> "Flow":
        """A Flow with these tasks and every function they call registered as handlers."""
        from .flow import Flow
        flow = Flow(name, queue=queue, timeout_s=timeout_s)
        for hname, fn in self.functions().items():
            flow.handler(hname)(fn)
        flow.tasks.extend(self.tasks(queue))
        return flow

    def to_spawn(self, queue: Optional[str] = None) -> Spawn:
        """The pipeline as a ``task.spawn``: the spawning task completes with the result of its one tail."""
        if len(self.tails) != 1:
            raise ValueError("a pipeline spawned by a handler must end in one call, not {}: add continue_with"
                             .format(len(self.tails)))
        return Spawn(self.tasks(queue), output=self.tails[0])

    def __repr__(self) -> str:
        return "Pipeline({})".format(" -> ".join(s.id for s in self.steps))


def _as_pipeline(item: Any) -> Pipeline:
    if isinstance(item, Pipeline):
        return item
    p = Pipeline()
    if isinstance(item, Signature):
        return p.continue_with(item)
    if callable(item):
        return p.continue_with(Signature(item))
    raise TypeError("expected a Pipeline, a Signature or a function, got {!r}".format(item))


def send(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Pipeline:
    """A pipeline whose first call is ``fn(*args, **kwargs)`` (Flink Tasks' ``fn.send(...)``)."""
    return Pipeline().continue_with(Signature(fn, args, kwargs))


def chain(*items: Any) -> Pipeline:
    """Celery's ``chain(a.s(1), b.s(), c.s())``: each call gets the result before it as its first argument."""
    out = Pipeline()
    for item in items:
        out.continue_with(_as_pipeline(item))
    return out


def in_parallel(items: Iterable[Any]) -> Pipeline:
    """Calls or pipelines side by side (Flink Tasks' ``in_parallel``, Celery's ``group``): what continues
    after them gets the list of their results, in order."""
    out = Pipeline()
    tails = []  # type: List[str]
    for item in items:
        _, item_tails = out._merge(_as_pipeline(item))
        tails.extend(item_tails)
    if not tails:
        raise ValueError("in_parallel needs at least one call")
    out.tails = tails
    return out


group = in_parallel


def bind(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Gives a function ``fn.send(*args, **kwargs)`` (a Pipeline) and ``fn.s(*args, **kwargs)`` (a Signature);
    Flow's decorators do this too. The function itself is unchanged."""
    try:
        fn.send = lambda *args, **kwargs: send(fn, *args, **kwargs)  # type: ignore[attr-defined]
        fn.s = lambda *args, **kwargs: Signature(fn, args, kwargs)  # type: ignore[attr-defined]
    except AttributeError:
        pass
    return fn


__all__ = ["Signature", "Pipeline", "send", "chain", "in_parallel", "group", "bind"]

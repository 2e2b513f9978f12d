"""``async def`` handlers: their coroutines run on one asyncio loop that this process keeps on a thread of its
own, while the handler thread that called them waits for the result (so ``concurrency`` still bounds them)."""

import asyncio
import inspect
import threading
from typing import Any, Callable, Optional

_lock = threading.Lock()
_loop = None  # type: Optional[asyncio.AbstractEventLoop]


def loop() -> asyncio.AbstractEventLoop:
    """The shared loop, started on first use."""
    global _loop
    with _lock:
        if _loop is None or _loop.is_closed():
            new = asyncio.new_event_loop()
            ready = threading.Event()

            def serve() -> None:
                asyncio.set_event_loop(new)
                new.call_soon(ready.set)
                new.run_forever()

            threading.Thread(target=serve, name="flowline-asyncio", daemon=True).start()
            ready.wait()
            _loop = new
        return _loop


def resolve(value: Any, on_cancel: Optional[Callable[[Callable[[Any], None]], None]] = None) -> Any:
    """``value``, or when it is a coroutine (or other awaitable) what it returns once run on the loop.
    ``on_cancel(cb)`` registers ``cb`` to be called when the lease ends, which cancels the coroutine."""
    if not inspect.isawaitable(value):
        return value

    async def run() -> Any:
        return await value

    future = asyncio.run_coroutine_threadsafe(run(), loop())
    if on_cancel is not None:
        on_cancel(lambda reason: future.cancel())
    return future.result()


__all__ = ["loop", "resolve"]

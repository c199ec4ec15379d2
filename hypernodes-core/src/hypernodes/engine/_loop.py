"""Running coroutines from synchronous code, on a loop of the calling thread's own.

Each Python thread that runs an ``async def`` node (or the eager executor)
keeps one ``asyncio.Runner``: an event loop owned by that thread, reused for
every call it makes and closed when the thread ends (a thread started outside
Python, such as an engine's native worker, gets a loop per call instead).
Threads never wait on each other's loops, so a node that calls a pipeline,
whose nodes call pipelines, cannot deadlock on a shared loop; Ctrl-C in the
main thread cancels the running coroutine cleanly (``asyncio.Runner``
handles SIGINT).

When the calling thread already runs an event loop (Jupyter, an ``async def``
node calling ``pipeline.run()``), the coroutine runs to completion on a new
thread with a loop of its own, since a running loop cannot be re-entered.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["run_coroutine", "running_loop"]

T = TypeVar("T")


class _Runner:
    """One thread's runner; its loop is closed when the thread's locals are dropped."""

    __slots__ = ("pid", "runner")

    def __init__(self) -> None:
        self.runner = asyncio.Runner()
        self.pid = os.getpid()

    def __del__(self) -> None:
        if self.pid != os.getpid():
            return
        try:
            loop = self.runner.get_loop()
            if not loop.is_running():
                loop.close()
        except Exception:  # pragma: no cover - already closed, or interpreter exit
            pass


_local = threading.local()


def _runner() -> asyncio.Runner:
    found: _Runner | None = getattr(_local, "runner", None)
    if found is None or found.pid != os.getpid():  # a forked child makes its own loop
        found = _local.runner = _Runner()
    return found.runner


def running_loop() -> asyncio.AbstractEventLoop | None:
    """The event loop running in this thread, if any."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def run_coroutine(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to completion from synchronous code and return its result."""
    if running_loop() is not None:
        return _run_in_new_thread(coro)
    if isinstance(threading.current_thread(), threading._DummyThread):
        # A thread Python did not start (an engine's native worker): keep no loop on it,
        # since nothing would close it when that thread ends.
        return asyncio.run(coro)
    return _runner().run(coro)


def _run_in_new_thread(coro: Coroutine[Any, Any, T]) -> T:
    outcome: list[Any] = []

    def target() -> None:
        try:
            outcome.append((True, asyncio.run(coro)))
        except BaseException as exc:
            outcome.append((False, exc))

    thread = threading.Thread(target=target, name="hypernodes-async", daemon=True)
    thread.start()
    thread.join()
    ok, value = outcome[0]
    if ok:
        return value  # type: ignore[no-any-return]
    raise value

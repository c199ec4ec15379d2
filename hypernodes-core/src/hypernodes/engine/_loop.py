"""Running coroutines from synchronous code, also when an event loop is already running.

Async nodes called from a synchronous executor, and the eager executor when
the caller already runs a loop (Jupyter), use one background event loop on a
daemon thread. It is started on first use and recreated after ``fork``, so a
process-pool worker never waits on a loop whose thread did not survive.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["run_coroutine", "running_loop"]

T = TypeVar("T")

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_loop_pid = 0


def _background_loop() -> asyncio.AbstractEventLoop:
    global _loop, _loop_pid
    loop = _loop
    if loop is not None and _loop_pid == os.getpid() and not loop.is_closed():
        return loop
    with _lock:
        if _loop is None or _loop_pid != os.getpid() or _loop.is_closed():
            new_loop = asyncio.new_event_loop()
            thread = threading.Thread(
                target=new_loop.run_forever, name="hypernodes-async", daemon=True
            )
            thread.start()
            _loop, _loop_pid = new_loop, os.getpid()
        return _loop


def running_loop() -> asyncio.AbstractEventLoop | None:
    """The event loop running in this thread, if any."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def run_coroutine(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to completion from synchronous code and return its result."""
    loop = _background_loop()
    if running_loop() is loop:
        # Called from a node running on the background loop itself (a pipeline run
        # inside an async node): blocking this loop on itself would deadlock.
        return _run_in_new_thread(coro)
    future = asyncio.run_coroutine_threadsafe(coro, loop)
    try:
        return future.result()
    except BaseException:
        future.cancel()
        raise


def _run_in_new_thread(coro: Coroutine[Any, Any, T]) -> T:
    outcome: list[Any] = []

    def target() -> None:
        try:
            outcome.append((True, asyncio.run(coro)))
        except BaseException as exc:
            outcome.append((False, exc))

    thread = threading.Thread(target=target, name="hypernodes-async-nested", daemon=True)
    thread.start()
    thread.join()
    ok, value = outcome[0]
    if ok:
        return value  # type: ignore[no-any-return]
    raise value

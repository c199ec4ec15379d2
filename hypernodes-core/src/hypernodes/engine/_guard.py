"""Calling a node with retries and a timeout.

Only the failed call is tried again, never the item or the run; callbacks
get ``on_node_retry`` before each new try; the error that finally propagates
is the last one, with a note counting the calls. A timeout bounds one call:

- an ``async def`` node is cancelled when its time is up;
- a synchronous node runs on a thread of its own and the wait for it ends
  with a :class:`~hypernodes.errors.NodeTimeoutError`; Python cannot stop a
  thread, so the call goes on in the background until it returns, and its
  result is dropped.

A :class:`NodeTimeoutError` is retried like any other error when the
retries allow it.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import TYPE_CHECKING, Any

from ..errors import NodeTimeoutError
from ._occupancy import inherit, occupied
from ._steps import note

if TYPE_CHECKING:
    from collections.abc import Callable

    from .._model.plan import Step
    from .._model.retries import Retries
    from ._context import RunContext

__all__ = ["call_guarded", "call_guarded_async"]


def call_guarded(
    step: Step,
    call: Callable[[], Any],
    ctx: RunContext,
    retries: Retries | None,
    timeout: float | None,
    is_async: bool | None = None,
) -> Any:
    """Make ``call`` (a call of ``step``'s function, or of its batch implementation;
    ``is_async``: it returns a coroutine, run to completion) under retries and a timeout."""
    is_async = step.is_async if is_async is None else is_async
    attempt = 0
    while True:
        attempt += 1
        try:
            if timeout is None:
                result = call()
                if is_async:
                    from ._loop import run_coroutine

                    result = run_coroutine(result)
                return result
            if is_async:
                from ._loop import run_coroutine

                return run_coroutine(_bounded(step, call, ctx, timeout))
            return _on_own_thread(step, call, ctx, timeout)
        except Exception as exc:
            delay = _next_try(step, ctx, retries, attempt, exc)
        time.sleep(delay)


async def call_guarded_async(
    step: Step,
    call: Callable[[], Any],
    ctx: RunContext,
    retries: Retries | None,
    timeout: float | None,
) -> Any:
    """:func:`call_guarded` for an ``async def`` node, awaited on the running loop."""
    attempt = 0
    while True:
        attempt += 1
        try:
            if timeout is None:
                return await call()
            return await _bounded(step, call, ctx, timeout)
        except Exception as exc:
            delay = _next_try(step, ctx, retries, attempt, exc)
        await asyncio.sleep(delay)


def _next_try(
    step: Step, ctx: RunContext, retries: Retries | None, attempt: int, exc: Exception
) -> float:
    """The delay before trying again; raises ``exc`` when no try is left."""
    if retries is None or attempt > retries.max or not retries.retries(exc):
        if attempt > 1:
            note(exc, f"node {step.name!r} failed {attempt} times (retries={retries.max})")  # type: ignore[union-attr]
        raise exc
    try:
        delay = retries.delay(attempt)
    except Exception as failure:  # a backoff function that raises: the node's error stays
        note(exc, f"its Retries(backoff=...) raised {failure!r}; it was not tried again")
        raise exc from None
    ctx.emit("on_node_retry", step.name, attempt, exc, delay)
    return delay


async def _bounded(step: Step, call: Callable[[], Any], ctx: RunContext, timeout: float) -> Any:
    try:
        async with asyncio.timeout(timeout) as scope:
            return await call()
    except TimeoutError:
        if scope.expired():
            raise _timed_out(step, ctx, timeout, "it was cancelled") from None
        raise


def _on_own_thread(step: Step, call: Callable[[], Any], ctx: RunContext, timeout: float) -> Any:
    outcome: list[tuple[bool, Any]] = []
    done = threading.Event()
    pools = occupied()

    def target() -> None:
        inherit(pools)
        try:
            outcome.append((True, call()))
        except BaseException as exc:
            outcome.append((False, exc))
        finally:
            done.set()

    thread = threading.Thread(target=target, name=f"hypernodes-{step.name}", daemon=True)
    thread.start()
    if not done.wait(timeout):
        raise _timed_out(step, ctx, timeout, "its thread is left to finish in the background")
    ok, value = outcome[0]
    if ok:
        return value
    raise value


def _timed_out(step: Step, ctx: RunContext, timeout: float, what: str) -> NodeTimeoutError:
    where = getattr(ctx, "where", None)  # a batch names its items
    if where is None:
        where = f" in map item {ctx.item_path[-1]}" if ctx.item_path else ""
    msg = (
        f"Node {step.name!r} took longer than its timeout of {timeout:g} s{where} of "
        f"pipeline {ctx.path[-1]!r}; {what}."
    )
    return NodeTimeoutError(msg, step.name, ctx.item_path, timeout)

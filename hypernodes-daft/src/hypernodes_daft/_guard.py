"""Retries and timeouts on Daft: which calls have them, and the batch calls made here.

A node's call on one item goes through ``RunContext.execute``, which applies
the node's retries and timeout exactly as every executor does (only the
failed call is tried again, ``on_node_retry`` before each new try, the last
error with a note counting the calls, :class:`~hypernodes.errors.NodeTimeoutError`).
A call of a node's batch implementation (``@node.batch``) is made by this
plugin, so this module applies the same rules to it: the whole batch call is
tried again, as the engine's own batch path does.

Daft's own ``max_retries`` is not used for either: it runs a whole batch of
rows again (calls that succeeded too, with their side effects), for any
exception, without a delay policy or events, and it would only ever see an
exception that left the UDF, which a node's exception never does (it must
come back as itself).
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

from hypernodes import Retries
from hypernodes.engine import note, run_coroutine
from hypernodes.errors import NodeTimeoutError

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine

    from hypernodes.engine import Config, RunContext, Step

__all__ = ["call_guarded", "policy", "run_async"]

Policy = tuple[Retries | None, float | None]


def policy(step: Step, config: Config) -> Policy | None:
    """The retries and timeout of a call of ``step`` (the node's own setting wins over the
    run's), or ``None`` when it has neither."""
    own_retries = step.retries is None or isinstance(step.retries, Retries)
    own_timeout = step.timeout is None or isinstance(step.timeout, int | float)
    retries = step.retries if own_retries else config.retries
    timeout = step.timeout if own_timeout else config.timeout
    if retries is None and timeout is None:
        return None
    return retries, timeout


def run_async(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """Run a coroutine to completion from a UDF and return its result.

    On a loop opened and closed for it, not the engine's loop kept per
    thread: on Daft's threads that loop would be finalized while Daft tears
    its threads down at exit, which crashes the interpreter.
    """
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    return run_coroutine(coroutine)  # a loop runs here already: the engine runs it on a thread


def call_guarded(
    step: Step,
    call: Callable[[], Any],
    ctx: RunContext,
    guard: Policy,
    is_async: bool,
) -> Any:
    """Make ``call`` (a call of ``step``'s batch implementation; ``is_async``: it returns a
    coroutine) under the retries and timeout of ``guard``."""
    retries, timeout = guard
    attempt = 0
    while True:
        attempt += 1
        try:
            if timeout is None:
                result = call()
                return run_async(result) if is_async else result
            if is_async:
                return run_async(_bounded(step, call, ctx, timeout))
            return _on_own_thread(step, call, ctx, timeout)
        except Exception as exc:
            if retries is None or attempt > retries.max or not retries.retries(exc):
                if attempt > 1 and retries is not None:
                    note(exc, f"node {step.name!r} failed {attempt} times (retries={retries.max})")
                raise
            delay = retries.delay(attempt)
            ctx.emit("on_node_retry", step.name, attempt, exc, delay)
        time.sleep(delay)


async def _bounded(step: Step, call: Callable[[], Any], ctx: RunContext, timeout: float) -> Any:
    import asyncio

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

    def target() -> None:
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
    where = f" in map item {ctx.item_path[-1]}" if ctx.item_path else ""
    msg = (
        f"Node {step.name!r} took longer than its timeout of {timeout:g} s{where} of "
        f"pipeline {ctx.path[-1]!r}; {what}."
    )
    return NodeTimeoutError(msg, step.name, ctx.item_path, timeout)

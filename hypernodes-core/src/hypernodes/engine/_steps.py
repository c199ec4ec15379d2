"""Running one step of a plan: argument gathering, async, several outputs, nesting, notes.

Every task executor calls :func:`execute` for anything beyond its inline
loops (synchronous single-output function nodes without a cache), so what a
node call means — callbacks, cache lookup and store, async, several outputs,
nesting — is defined once, here.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from .._model.config import UNSET
from .._model.failures import ItemError, snapshot_call
from ..callbacks._dispatch import callback_context, report_error
from ..errors import OutputCountError

if TYPE_CHECKING:
    from collections.abc import Callable

    from .._model.config import Config
    from .._model.plan import Plan, Step
    from ._context import RunContext

__all__ = [
    "args_of",
    "execute",
    "execute_async",
    "lookup",
    "note",
    "remember",
    "run_item",
    "run_step",
    "step_failed",
    "store",
]


def args_of(step: Step, values: dict[str, Any]) -> list[Any]:
    """Positional arguments of ``step``; a missing optional input takes the node's default."""
    defaults = step.defaults
    return [values[p] if p in values else defaults[p] for p in step.params]


_NOT_UNPACKED = (str, bytes, bytearray, dict, set, frozenset)


def store(step: Step, values: dict[str, Any], result: Any) -> None:
    """Put a node's return value under its output name(s)."""
    if step.output is not None:
        values[step.output] = result
        return
    names = step.outputs
    try:
        # A str, a dict or a set is one value, never unpacked, even when its length fits.
        count = -1 if isinstance(result, _NOT_UNPACKED) else len(result)
    except TypeError:
        count = -1
    if count != len(names):
        got = f"{count} values" if count >= 0 else f"a {type(result).__name__} ({result!r:.40})"
        msg = (
            f"Node {step.name!r} declares {len(names)} outputs {names!r} but returned {got}. "
            "Return a tuple with one value per output name."
        )
        raise OutputCountError(msg)
    values.update(zip(names, result, strict=True))


def run_step(step: Step, values: dict[str, Any], ctx: RunContext) -> None:
    """Run one step and store its outputs in ``values``."""
    if step.nested:
        values.update(step.node.execute(values, ctx, step.inner_outputs))  # type: ignore[union-attr]
        return
    guard = policy(step, ctx)
    if guard is not None:
        from ._guard import call_guarded  # threading and asyncio: when a guard first applies

        args = args_of(step, values)
        store(step, values, call_guarded(step, lambda: step.func(*args), ctx, *guard))
        return
    result = step.func(*args_of(step, values))
    if step.is_async:
        from ._loop import run_coroutine  # asyncio is imported when an async node first runs

        result = run_coroutine(result)
    store(step, values, result)


def step_policy(step: Step, config: Config) -> tuple[Any, Any]:
    """``(retries, timeout)`` of a call of ``step`` under ``config``: the node's own win."""
    retries = step.retries if step.retries is not UNSET else config.retries
    timeout = step.timeout if step.timeout is not UNSET else config.timeout
    return retries, timeout


def policy(step: Step, ctx: RunContext) -> tuple[Any, Any] | None:
    """The retries and timeout of a call of ``step`` here, or ``None`` when it has neither."""
    retries, timeout = step_policy(step, ctx.config)
    if retries is None and timeout is None:
        return None
    return retries, timeout


#: What :func:`execute` did: the node ran, the cache served it, it was skipped (an input
#: is an ItemError), or it failed and left an ItemError (a map that goes on past failures).
COMPUTED, CACHED, SKIPPED, FAILED = "computed", "cached", "skipped", "failed"


def execute(step: Step, values: dict[str, Any], ctx: RunContext, hashes: dict[str, str]) -> str:
    """Run one step with everything around it: callbacks, the cache lookup and store.

    ``hashes`` holds the cache identity of values already known in this run:
    an output of a cached node is identified by that node's key. Returns what
    happened: ``"computed"``, ``"cached"``, ``"skipped"`` or ``"failed"``.
    """
    if ctx.continuing:
        return _execute_continuing(step, values, ctx, hashes)
    hit, key = lookup(step, values, ctx, hashes)
    if hit:
        return CACHED
    _observed_call(step, values, ctx)
    remember(step, values, ctx, hashes, key)
    return COMPUTED


def _execute_continuing(
    step: Step, values: dict[str, Any], ctx: RunContext, hashes: dict[str, str]
) -> str:
    """:func:`execute` in an item of a map that goes on past failures.

    A step that receives an ItemError is skipped and passes it on; a step that
    raises leaves an ItemError in each of its outputs (never cached).
    """
    for name in step.params:
        value = values.get(name)
        if isinstance(value, ItemError):
            for output in step.outputs:
                values[output] = value
            return SKIPPED
    try:
        hit, key = lookup(step, values, ctx, hashes)
        if hit:
            return CACHED
        _observed_call(step, values, ctx)
    except Exception as exc:
        fail_item(exc, step, values, ctx, hashes)
        return FAILED
    remember(step, values, ctx, hashes, key)
    return COMPUTED


def fail_item(
    exc: Exception, step: Step, values: dict[str, Any], ctx: RunContext, hashes: dict[str, str]
) -> ItemError:
    """Leave an ItemError for ``exc`` in each output of ``step`` (never cached); return it."""
    step_failed(exc, step, values, ctx)
    error = ItemError.of(exc, step, ctx.path, ctx.item_path)
    for output in step.outputs:
        values[output] = error
        hashes.pop(output, None)
    return error


async def execute_async(
    step: Step, values: dict[str, Any], ctx: RunContext, hashes: dict[str, str]
) -> str:
    """:func:`execute` for an ``async def`` node, awaited on the running event loop."""
    if ctx.continuing:
        for name in step.params:
            if isinstance(values.get(name), ItemError):
                return _execute_continuing(step, values, ctx, hashes)  # passes it on
        try:
            return await _execute_async(step, values, ctx, hashes)
        except Exception as exc:
            fail_item(exc, step, values, ctx, hashes)
            return FAILED
    return await _execute_async(step, values, ctx, hashes)


async def _execute_async(
    step: Step, values: dict[str, Any], ctx: RunContext, hashes: dict[str, str]
) -> str:
    hit, key = lookup(step, values, ctx, hashes)
    if hit:
        return CACHED
    dispatch = ctx.dispatch
    if dispatch is not None:
        cb = callback_context(ctx)
        dispatch.emit("on_node_start", step.name, cb)
    start = time.perf_counter()
    try:
        guard = policy(step, ctx)
        if guard is None:
            store(step, values, await step.func(*args_of(step, values)))
        else:
            from ._guard import call_guarded_async

            args = args_of(step, values)
            call = lambda: step.func(*args)  # noqa: E731 - made again at each try
            store(step, values, await call_guarded_async(step, call, ctx, *guard))
    except BaseException as exc:
        report_error(ctx, step.name, exc)
        raise
    if dispatch is not None:
        dispatch.emit("on_node_end", step.name, time.perf_counter() - start, cb)
    remember(step, values, ctx, hashes, key)
    return COMPUTED


def lookup(
    step: Step, values: dict[str, Any], ctx: RunContext, hashes: dict[str, str]
) -> tuple[bool, str | None]:
    """Serve the step from the cache if it can: ``(hit, key)``; ``key`` is ``None`` when
    the call is not to be cached."""
    caching = ctx.caching
    if caching is None or step.nested:
        return False, None
    key = caching.key(step, values, hashes)
    if key is None:
        return False, None
    try:
        hit, value = caching.cache.get(key)
    except Exception as exc:
        hit, value = caching.unreadable(step, key, exc)
    if not hit:
        return False, key
    store(step, values, value)
    if ctx.dispatch is not None:
        ctx.dispatch.emit("on_node_cached", step.name, callback_context(ctx))
    for name in step.outputs:
        hashes[name] = key + name
    return True, key


def remember(
    step: Step, values: dict[str, Any], ctx: RunContext, hashes: dict[str, str], key: str | None
) -> None:
    """After a computed call: count it, store it in the cache, note its outputs' identity."""
    if ctx.item_stats is not None:
        ctx.item_stats[0] += 1
    if key is None:
        for name in step.outputs:  # hashed by value if a later node needs them
            hashes.pop(name, None)
        return
    assert ctx.caching is not None
    ctx.caching.store(
        step, key, values[step.output] if step.output else tuple(values[n] for n in step.outputs)
    )
    for name in step.outputs:
        hashes[name] = key + name


def _observed_call(step: Step, values: dict[str, Any], ctx: RunContext) -> None:
    dispatch = ctx.dispatch
    if dispatch is None:
        run_step(step, values, ctx)
        return
    cb = callback_context(ctx)
    dispatch.emit("on_node_start", step.name, cb)
    start = time.perf_counter()
    try:
        run_step(step, values, ctx)
    except BaseException as exc:
        report_error(ctx, step.name, exc)
        raise
    dispatch.emit("on_node_end", step.name, time.perf_counter() - start, cb)


def run_item(
    run_plan: Callable[[Plan, dict[str, Any], RunContext], None],
    plan: Plan,
    values: dict[str, Any],
    ctx: RunContext,
) -> None:
    """Run one map item (``ctx`` is the item's context) between its item events."""
    if ctx.dispatch is None:
        run_plan(plan, values, ctx)
        return
    ctx.begin_item()
    run_plan(plan, values, ctx)
    ctx.end_item()


def step_failed(exc: BaseException, step: Step, values: dict[str, Any], ctx: RunContext) -> None:
    """What every failure of a step gets: a note naming the node and the pipeline, and
    the snapshot of the call (:func:`hypernodes.error_snapshot`)."""
    note(exc, f"in node {step.name!r} of pipeline {ctx.path[-1]!r}")
    snapshot_call(exc, step, values, ctx.path, ctx.item_path)


def note(exc: BaseException, text: str) -> None:
    """Add a hypernodes note to an exception raised by user code (PEP 678), once.

    Best effort: an exception that refuses new attributes (a frozen dataclass, a class
    with ``__slots__`` and a strict ``__setattr__``) propagates as itself, unnoted."""
    text = f"hypernodes: {text}"
    try:
        if text not in getattr(exc, "__notes__", ()):
            exc.add_note(text)
    except Exception:
        pass

"""Map items run node by node, so that nodes with a batch implementation get chunks.

A map whose plan has a node with a batch implementation (``@node.batch``)
runs its items node-major: each node over every item (of the map, or of a
pool worker's chunk of it), then the next node. A node without a batch
implementation is called once per item, as always; a node with one is
called on chunks of the items that the cache did not serve, with a list per
input that varies across items and the single value of each input the map
shares. Events are those of the per-item path: every item gets its start,
its node events and its end.

A batch that raises in a map that goes on past failed items
(``on_error="continue"``) is run again item by item with the per-item
function, so only the items that really fail become ``ItemError`` values.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from .._model.failures import ErrorSnapshot, ItemError, error_snapshot, locate_snapshot
from ..errors import OutputCountError
from ._items import item_spans
from ._steps import execute, lookup, note, policy, remember, step_failed

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from .._model.plan import Plan, Step
    from ._context import RunContext

__all__ = ["call_batch", "run_items", "run_items_batched"]


def run_items_batched(
    plan: Plan,
    rows: list[dict[str, Any]],
    ctx: RunContext,
    first: int,
    shared: Iterable[str],
    *,
    in_worker: bool = False,
) -> None:
    """Fill each row with every output of ``plan``; ``rows`` are the map items ``first``,
    ``first + 1``, ... of the map whose context is ``ctx``.

    ``shared`` names the inputs every item of the map shares (a batch gets
    their single value).
    """
    if not rows:
        return
    produced = {name for step in plan.steps for name in step.outputs}
    single = frozenset(shared) - produced
    config = ctx.config
    light = (  # nothing needs an item's own context: share the map's, name items in errors
        ctx.dispatch is None
        and ctx.caching is None
        and not ctx.continuing
        and not plan.guarded
        and config.retries is None
        and config.timeout is None
    )
    if light:
        contexts = [ctx] * len(rows)
    else:
        contexts = [ctx.item(first + i, in_worker=in_worker) for i in range(len(rows))]
    observed = ctx.dispatch is not None
    if observed:
        for item in contexts:
            item.begin_item()
    hashes: list[dict[str, str]] = [{} for _ in rows]
    for step in plan.steps:
        if step.batch is None or step.nested:
            for index, (values, item, known) in enumerate(zip(rows, contexts, hashes, strict=True)):
                try:
                    execute(step, values, item, known)
                except Exception as exc:
                    step_failed(exc, step, values, item)
                    note(exc, f"in map item {first + index} of pipeline {ctx.path[-1]!r}")
                    if light:
                        locate_snapshot(exc, ctx.item_path, first + index)
                    raise
        else:
            _batched(step, rows, contexts, hashes, single, first)
    if observed:
        for item in contexts:
            item.end_item()


#: The public name (``hypernodes.engine.run_items``).
run_items = run_items_batched


def _batched(
    step: Step,
    rows: list[dict[str, Any]],
    contexts: list[RunContext],
    hashes: list[dict[str, str]],
    single: frozenset[str],
    first: int,
) -> None:
    pending: list[tuple[int, str | None]] = []  # rows to compute, with their cache keys
    head = contexts[0]
    if head.caching is None and not head.continuing:  # nothing to look up: every row computes
        pending = [(index, None) for index in range(len(rows))]
        contexts_iter: Any = ()
    else:
        contexts_iter = enumerate(zip(rows, contexts, hashes, strict=True))
    for index, (values, ctx, known) in contexts_iter:
        if ctx.continuing and any(isinstance(values.get(p), ItemError) for p in step.params):
            execute(step, values, ctx, known)  # passes the ItemError on
            continue
        hit, key = lookup(step, values, ctx, known)
        if not hit:
            pending.append((index, key))
    size = step.batch_size or len(pending) or 1
    for start in range(0, len(pending), size):
        _call_batch(step, pending[start : start + size], rows, contexts, hashes, single, first)


def _call_batch(
    step: Step,
    chunk: list[tuple[int, str | None]],
    rows: list[dict[str, Any]],
    contexts: list[RunContext],
    hashes: list[dict[str, str]],
    single: frozenset[str],
    first: int,
) -> None:
    head = rows[chunk[0][0]]
    arguments: dict[str, Any] = {}
    for name in step.params:
        if name in single or name not in head:  # shared by every item, or the default
            arguments[name] = head[name] if name in head else step.defaults[name]
        else:
            arguments[name] = [rows[index][name] for index, _ in chunk]
    ctx = contexts[chunk[0][0]]
    items = [first + index for index, _ in chunk]
    batch = _Batch([contexts[index] for index, _ in chunk], ctx, items)
    started = time.perf_counter()
    try:
        results = _call(step, arguments, batch, len(chunk))
    except Exception as exc:
        if ctx.continuing:  # find the bad items: each again, with the per-item function
            for index, _ in chunk:
                execute(step, rows[index], contexts[index], hashes[index])
            return
        note(exc, f"in a batch of node {step.name!r} holding map items {item_spans(items)}")
        if error_snapshot(exc) is None:  # the call that failed: the batch, on its arguments
            function = step.batch
            assert function is not None
            snapshot = ErrorSnapshot(step.name, function, arguments, ctx.path, ctx.item_path)
            try:
                exc.__hypernodes_snapshot__ = snapshot  # type: ignore[attr-defined]
            except Exception:  # pragma: no cover - exception types without a __dict__
                pass
        for index, _ in chunk:
            contexts[index].emit("on_node_start", step.name)
        ctx.fail(step.name, exc)
        raise
    share = (time.perf_counter() - started) / len(chunk)
    output = step.output
    plain = ctx.dispatch is None and ctx.caching is None and ctx.item_stats is None
    for position, (index, key) in enumerate(chunk):
        values = rows[index]
        if output is not None:
            values[output] = results[position]
        else:
            for name, column in zip(step.outputs, results, strict=True):
                values[name] = column[position]
        if plain:  # no events, no cache, nothing counted: the outputs are all there is
            continue
        item = contexts[index]
        item.emit("on_node_start", step.name)  # a batch's items start and end together
        item.emit("on_node_end", step.name, share)
        remember(step, values, item, hashes[index], key)


class _Batch:
    """What the retry and timeout guard needs of a context, for a batch of items: retry
    events go to every item of the batch, and a timeout names the batch."""

    __slots__ = ("config", "contexts", "item_path", "path", "where")

    def __init__(self, contexts: list[RunContext], head: RunContext, items: list[int]) -> None:
        self.contexts = contexts
        self.config = head.config
        self.path = head.path
        self.item_path = head.item_path
        self.where = f" in a batch of map items {item_spans(items)}"

    def emit(self, hook: str, *args: Any) -> None:
        for ctx in self.contexts:
            ctx.emit(hook, *args)


def call_batch(step: Step, arguments: dict[str, Any], items: Sequence[RunContext] = ()) -> Any:
    """Call ``step``'s batch implementation on ``arguments`` as the built-in executors do.

    ``arguments`` hold a list per input that varies across the items and the
    single value of each shared one. With the items' contexts (``items``, the
    first one leading), the call runs under the step's retries and timeout
    and a retry event reaches every item; without, it is a plain call. An
    ``async def`` batch is run to completion. The result must hold one value
    per item (a tuple of lists for several outputs): else ``OutputCountError``.
    """
    count = _count(step, arguments)
    if not items:
        return _call(step, arguments, None, count)
    indices = [c.item_path[-1] for c in items if c.item_path]
    return _call(step, arguments, _Batch(list(items), items[0], indices), count)


def _count(step: Step, arguments: dict[str, Any]) -> int:
    """How many items ``arguments`` hold (the length of a varying input's list)."""
    for name in step.params:
        value = arguments.get(name)
        if isinstance(value, list):
            return len(value)
    msg = f"call_batch({step.name!r}, ...) needs a list for at least one input that varies."
    raise ValueError(msg)


def _call(step: Step, arguments: dict[str, Any], ctx: _Batch | None, count: int) -> Any:
    batch = step.batch
    assert batch is not None
    guard = policy(step, ctx) if ctx is not None else None  # type: ignore[arg-type]
    is_async = _is_async(batch)
    if guard is not None:
        from ._guard import call_guarded

        call = lambda: batch(**arguments)  # noqa: E731
        result = call_guarded(step, call, ctx, *guard, is_async=is_async)  # type: ignore[arg-type]
    else:
        result = batch(**arguments)
        if is_async:
            from ._loop import run_coroutine

            result = run_coroutine(result)
    _check_lengths(step, result, count)
    return result


def _is_async(func: Any) -> bool:
    import inspect

    return inspect.iscoroutinefunction(func)


def _check_lengths(step: Step, result: Any, count: int) -> None:
    columns = [result] if step.output is not None else result
    if step.output is None and (not isinstance(result, tuple) or len(result) != len(step.outputs)):
        msg = (
            f"The batch implementation of node {step.name!r} (outputs {step.outputs!r}) must "
            f"return a tuple of {len(step.outputs)} lists, one per output (not one tuple per "
            f"item); got {type(result).__name__}"
            + (f" of {len(result)}" if isinstance(result, tuple | list) else "")
            + "."
        )
        raise OutputCountError(msg)
    for name, column in zip(step.outputs, columns, strict=True):
        try:
            length = len(column)
        except TypeError:
            length = -1
        if length != count:
            got = f"{length} values" if length >= 0 else f"a {type(column).__name__}"
            msg = (
                f"The batch implementation of node {step.name!r} was given {count} items and "
                f"returned {got} for {name!r}: return one value per item, in order."
            )
            raise OutputCountError(msg)

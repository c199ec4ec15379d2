"""After the collect: callbacks, cache counts, errors and outputs, in item order.

The UDFs ran node-major, in any order, on any worker; what they recorded is in
the meta cells. The caller then walks each row as the sequential executor
would have run it — item by item, step by step, into each inlined nested
pipeline and each of its items — opening the scopes callbacks see
(``begin_item``, ``enter_nested``, ``begin_map``), replaying each node's
recorded events in its place and closing the scopes again. So every callback
receives exactly the sequential executor's events, only later.

The first failure in that order (item, then step) is raised, as the
sequential executor raises it: its own exception, with the notes naming the
node, pipeline and item of each level. Rows after it are not reported:
sequentially they would not have run.
"""

from __future__ import annotations

import pickle
from typing import TYPE_CHECKING, Any

from ._translate import Inline, NodeEntry

if TYPE_CHECKING:
    from hypernodes.engine import RunContext

    from ._run import Run
    from ._translate import Scope

__all__ = ["has_payload", "replay_row"]


def has_payload(cell: Any) -> bool:
    """Whether a meta cell (or a regrouped list of them) holds anything."""
    if cell is None:
        return False
    if isinstance(cell, list):
        return any(has_payload(c) for c in cell)
    return True


def replay_row(scope: Scope, ctx: RunContext, row: dict[str, Any], run: Run) -> None:
    """Deliver one row's events on ``ctx`` in the sequential executor's order; raise its
    failure, if any."""
    for entry in scope.entries:
        if isinstance(entry, NodeEntry):
            cell = row[entry.meta]
            if cell is None:
                continue
            done, events, error, _ = pickle.loads(cell)
            exc = run.exception(error) if error is not None else None
            if events:
                ctx.replay(events, exc if exc is not None else _went_past(entry, row, run, done))
            if exc is not None:
                raise exc  # with its notes, given where it was raised
            if done == "computed":
                ctx.cache_store(entry.step, {}, None, {})  # count the call: not all cached
            continue
        try:
            _inline(entry, ctx, row, run)
        except Exception as exc:
            ctx.note_error(exc, entry.step, {})
            raise


def _went_past(entry: NodeEntry, row: dict[str, Any], run: Run, done: str) -> Any:
    """The exception of a call that failed in a map going on past failures (its outputs
    hold the ItemError): what the ``on_error`` events recorded inside it receive."""
    if done != "failed":
        return None
    return getattr(run.decode(row[entry.outputs[0]]), "error", None)


def _inline(entry: Inline, ctx: RunContext, row: dict[str, Any], run: Run) -> None:
    step = entry.step
    inner = ctx.enter_nested(step)
    if not entry.maps:
        replay_row(entry.scope, inner, row, run)
    else:
        cell = row[entry.meta]
        if cell is not None:
            exc = run.exception(pickle.loads(cell)[2])
            ctx.fail(step.name, exc)
            raise exc
        pipeline = inner.path[-1]
        count = pickle.loads(row[entry.count])
        inner.begin_map(pipeline, count)
        if count:
            indices = row[entry.index]
            columns = entry.inner
            for position in sorted(range(len(indices)), key=indices.__getitem__):
                index = indices[position]
                sub = {c: row[c][position] for c in columns}
                item_ctx = inner.item(index)
                item_ctx.begin_item()
                try:
                    replay_row(entry.scope, item_ctx, sub, run)
                except BaseException as exc:
                    inner.fail(None, exc)
                    raise
                item_ctx.end_item()
        inner.end_map(pipeline)
    ctx.exit_nested(step, inner)
    ctx.cache_store(step, {}, None, {})  # a nested step counts as computed, as sequentially

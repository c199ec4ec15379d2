"""A node with a batch implementation (``@node.batch``), over the rows of a map.

The node's UDF receives a Daft batch of rows; rows of one map (every row of
a top-level map, or the items of one nested map) are served together, in
item order, exactly as the engine's own batch path serves a map:

- rows the cache serves are left out, and a row given an ``ItemError`` (a
  map that goes on past failures) passes it on;
- the other rows go to the batch implementation in chunks of the node's
  ``size`` (left out: every such row of the Daft batch), with a list for
  each input that varies across items and the single value of each input
  the map shares (a constant, a default, or a value of the enclosing row);
- each item then gets its ``on_node_start`` / ``on_node_end`` (a chunk's
  items start and end together) and its cache entry;
- a batch that raises, or returns another number of values, fails the
  chunk's first item, with a note naming the items of the chunk; in a map
  that goes on past failures the chunk runs again item by item with the
  per-item function, so only the items that really fail become ``ItemError``.

A ``run`` (and a nested pipeline without ``map_over``) calls the per-item
function, as the engine does.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from hypernodes import ItemError
from hypernodes.engine import call_batch, item_spans, note

from ._guard import run_async
from ._tasks import NodeTask, meta

if TYPE_CHECKING:
    from hypernodes.engine import RunContext, Step

    from ._run import Run
    from ._tasks import Path, Source

__all__ = ["BatchTask"]

#: One row being computed: its context, its values, the cache identity of its values.
Row = tuple["RunContext", dict[str, Any], dict[str, str]]


class BatchTask(NodeTask):
    """A node with a batch implementation over a batch of map rows (see the module doc).

    ``shared`` says, per parameter, whether every item of one map has the
    same value (the batch function then gets it once); ``simple`` that no
    row needs a context (no cache, callbacks, retries, timeout, or going on
    past failures). The last key column is the item index; the ones before
    it say which map a row belongs to.
    """

    def __init__(
        self,
        step: Step,
        path: Path,
        keys: int,
        sources: list[Source | None],
        hash_columns: list[int],
        simple: bool,
        shared: list[bool],
    ) -> None:
        super().__init__(step, path, keys, sources, hash_columns, simple, not simple)
        self.name = f"{step.name}[batch]"
        self.shared = shared
        self.size = step.batch_size

    def __call__(self, run: Run, columns: list[list[Any]]) -> list[list[Any]]:
        n = len(columns[0])
        outputs: list[list[Any]] = [[None] * n for _ in self.step.outputs]
        metas: list[Any] = [None] * n
        needed = [s[1] for s in self.sources if s is not None and s[0] == "col"]
        last = self.keys - 1
        maps: dict[tuple[Any, ...], list[int]] = {}
        for r in self.ready(columns, needed):
            maps.setdefault(tuple(columns[k][r] for k in range(last)), []).append(r)
        for rows in maps.values():
            rows.sort(key=columns[last].__getitem__)  # item order
            if self.simple:
                self._plain_map(run, columns, rows, outputs, metas)
            else:
                self._observed_map(run, columns, rows, outputs, metas)
        return [*outputs, metas]

    # -- no context: the outputs are all there is ------------------------------------------

    def _plain_map(
        self,
        run: Run,
        columns: list[list[Any]],
        rows: list[int],
        outputs: list[list[Any]],
        metas: list[Any],
    ) -> None:
        values = {r: self._values(run, columns, r) for r in rows}
        for chunk in run.until_stopped(self._chunks(rows)):
            try:
                results = self._call([values[r] for r in chunk], [])
            except Exception as exc:
                ctx = self.path.context(run.detached.attach(), self._key(columns, chunk[0]))
                self._note(exc, ctx, values[chunk[0]], columns, chunk)
                metas[chunk[0]] = meta("", None, run.failure(exc), None)
                return  # the map stops at its first failure
            for position, r in enumerate(chunk):
                self._store(results, position, values[r])
                for column, name in zip(outputs, self.step.outputs, strict=True):
                    column[r] = run.encode(values[r][name])

    # -- with contexts: cache, callbacks, retries and timeouts, going on past failures ------

    def _observed_map(
        self,
        run: Run,
        columns: list[list[Any]],
        rows: list[int],
        outputs: list[list[Any]],
        metas: list[Any],
    ) -> None:
        step = self.step
        prepared: dict[int, Row] = {}
        keys: dict[int, str | None] = {}
        pending: list[int] = []
        base = self._base(run, columns, rows)
        for r in rows:
            ctx, values, hashes = prepared[r] = self._prepare(run, columns, r, base)
            if ctx.continuing and any(isinstance(values.get(p), ItemError) for p in step.params):
                self._per_item(run, prepared[r], r, outputs, metas)  # passes the ItemError on
                continue
            hit, keys[r] = ctx.cache_lookup(step, values, hashes)
            if hit:
                self._finish(run, ctx, values, hashes, None, "cached", r, outputs, metas)
            else:
                pending.append(r)
        for chunk in run.until_stopped(self._chunks(pending)):
            head = prepared[chunk[0]][0]
            started = time.perf_counter()
            try:
                results = self._call(
                    [prepared[r][1] for r in chunk], [prepared[r][0] for r in chunk]
                )
            except Exception as exc:
                if head.continuing:  # find the bad items: each again, with the per-item function
                    for r in chunk:
                        self._per_item(run, prepared[r], r, outputs, metas)
                    continue
                self._note(exc, head, prepared[chunk[0]][1], columns, chunk)
                for r in chunk:
                    prepared[r][0].emit("on_node_start", step.name)
                head.fail(step.name, exc)
                for r in chunk[1:]:
                    ctx = prepared[r][0]
                    metas[r] = meta("", ctx.recorded, None, None)
                ctx, values, hashes = prepared[chunk[0]]
                self._finish(run, ctx, values, hashes, exc, "", chunk[0], outputs, metas)
                return  # the map stops at its first failure
            share = (time.perf_counter() - started) / len(chunk)
            for position, r in enumerate(chunk):
                ctx, values, hashes = prepared[r]
                self._store(results, position, values)
                ctx.emit("on_node_start", step.name)  # a batch's items start and end together
                ctx.emit("on_node_end", step.name, share)
                ctx.cache_store(step, values, keys[r], hashes)
                self._finish(run, ctx, values, hashes, None, "computed", r, outputs, metas)

    def _per_item(
        self, run: Run, row: Row, r: int, outputs: list[list[Any]], metas: list[Any]
    ) -> None:
        """The row through the per-item function (in a map that goes on past failures)."""
        ctx, values, hashes = row
        if self.step.is_async:
            done = run_async(ctx.execute_async(self.step, values, hashes))
        else:
            done = ctx.execute(self.step, values, hashes)
        self._finish(run, ctx, values, hashes, None, done, r, outputs, metas)

    # -- the batch call ----------------------------------------------------------------------

    def _chunks(self, rows: list[int]) -> list[list[int]]:
        size = self.size or len(rows) or 1
        return [rows[start : start + size] for start in range(0, len(rows), size)]

    def _call(self, values: list[dict[str, Any]], items: list[RunContext]) -> Any:
        """The batch implementation on the items whose ``values`` are given; its result.

        With the items' contexts it runs under the node's retries and timeout
        (the engine's ``call_batch``); without (no cache, callbacks, retries or
        timeout), as a plain call. Either way the result is checked.
        """
        step = self.step
        head = values[0]
        arguments: dict[str, Any] = {}
        for param, source, shared in zip(step.params, self.sources, self.shared, strict=True):
            if source is None:  # left out: the node's default
                arguments[param] = step.defaults[param]
            elif shared:
                arguments[param] = head[param]
            else:
                arguments[param] = [v[param] for v in values]
        return call_batch(step, arguments, items)

    def _store(self, results: Any, position: int, values: dict[str, Any]) -> None:
        output = self.step.output
        if output is not None:
            values[output] = results[position]
            return
        for name, column in zip(self.step.outputs, results, strict=True):
            values[name] = column[position]

    def _key(self, columns: list[list[Any]], r: int) -> list[Any]:
        return [columns[i][r] for i in range(self.keys)]

    def _note(
        self,
        exc: BaseException,
        ctx: RunContext,
        values: dict[str, Any],
        columns: list[list[Any]],
        chunk: list[int],
    ) -> None:
        """What a failed batch gets: the items it held, and the snapshot of its first item."""
        items = [columns[self.keys - 1][r] for r in chunk]
        note(exc, f"in a batch of node {self.step.name!r} holding map items {item_spans(items)}")
        ctx.note_error(exc, self.step, values)

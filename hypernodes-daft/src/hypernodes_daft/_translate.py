"""Translating a plan into one Daft plan: rows are items, nodes are UDF columns.

The frame starts with a ``__row__`` key column and one binary column per
mapped input (a ``run`` is one row with no mapped input). Each plan step then
adds columns:

- a node: one UDF (:class:`~hypernodes_daft._tasks.NodeTask`) adding a column
  per output and a meta column; inputs shared by every item are captured as
  constants, never stored as columns. A node with a batch implementation,
  over the items of a map: :class:`~hypernodes_daft._batch.BatchTask`;
- a nested pipeline whose executor is Daft too: inlined. Without
  ``map_over`` its steps simply join the frame, under their own scope
  (their own names, configuration and context path). With ``map_over`` an
  expansion UDF validates the row's lists exactly as ``map`` does and gives
  the items' values as lists; the frame is exploded on them with an index
  column; the inner steps run on the exploded rows; a regroup by the outer
  keys collects the inner columns as lists (every outer column survives as
  its one value), and an assembly UDF sorts each list by the index (list
  aggregation does not keep order across batches) and drops the placeholder
  row of an empty list;
- a nested pipeline configured to run elsewhere (another executor or
  backend), or any nested pipeline in a map that goes on past failed items:
  one UDF that runs it in its row through the engine (as configured; a
  DaftExecutor there runs it node by node), so that a failure inside it
  becomes that item's ItemError exactly as the engine makes it.

:class:`Scope` records, per level, where each value lives and the entries the
caller walks after the collect (:mod:`hypernodes_daft._replay`).
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

from hypernodes.engine import policy

from ._batch import BatchTask
from ._tasks import AssembleTask, ExpandTask, NodeTask, Path, continues

if TYPE_CHECKING:
    from collections.abc import Callable

    from daft import DataFrame
    from hypernodes.engine import Plan, RunContext, Step

    from ._run import Handle, Run
    from ._tasks import Source, Task

__all__ = ["Builder", "Inline", "NodeEntry", "Scope"]

#: Where a value lives in a scope: ``("col", column name)`` or ``("const", index)``.
Place = tuple[str, Any]


class NodeEntry:
    """A node's UDF, for the walk: its output columns and its meta column."""

    __slots__ = ("meta", "outputs", "step")

    def __init__(self, step: Step, outputs: list[str], meta: str) -> None:
        self.step = step
        self.outputs = outputs
        self.meta = meta


class Inline:
    """A nested pipeline inlined in the frame, for the walk."""

    __slots__ = ("count", "index", "inner", "maps", "meta", "scope", "step")

    def __init__(self, step: Step, scope: Scope) -> None:
        self.step = step
        self.scope = scope
        self.maps = bool(step.map_over)
        self.count = self.index = self.meta = ""
        self.inner: list[str] = []  # the columns regrouped as lists (one value per item)


class Scope:
    """One pipeline level of the translation: its keys, its values, its entries.

    ``items``: its rows are the items of a map (nodes with a batch
    implementation use it); ``continuing``: that map goes on past failed
    items; ``varying``: the columns whose value differs between the items of
    one map (the others, like constants, are shared by all of them).
    """

    def __init__(
        self,
        path: Path,
        keys: list[str],
        values: dict[str, Place],
        config: RunContext,
        *,
        items: bool,
        continuing: bool = False,
        varying: set[str] | None = None,
    ) -> None:
        self.path = path
        self.keys = keys
        self.values = values
        self.hashes: dict[str, str] = {}  # output name -> meta column of its node
        self.config = config  # a context of this level, for its effective configuration
        self.entries: list[NodeEntry | Inline] = []
        self.items = items
        self.continuing = continuing
        self.varying = varying if varying is not None else set()

    def produce(self, name: str, column: str) -> None:
        """Output ``name`` of this level is in ``column`` (one value per row)."""
        self.values[name] = ("col", column)
        self.varying.add(column)


class Builder:
    """Builds the Daft plan of one run or map, step by step."""

    def __init__(
        self,
        frame: DataFrame,
        run: Run,
        handle: Handle,
        *,
        inlines: Callable[[RunContext], bool],
        udf_options: dict[str, Any],
        batch_rows: int,
        pooled: bool = False,
    ) -> None:
        self.df = frame
        self.pooled = pooled  # synchronous nodes run in the worker processes of _workers
        self.run = run
        self.handle = handle
        self.inlines = inlines
        self.udf_options = udf_options
        self.batch_rows = batch_rows
        self._names = itertools.count()
        self._batching = 0  # the rows per batch the frame has now (0: not split yet)

    def column(self, prefix: str) -> str:
        return f"{prefix}{next(self._names)}"

    def const(self, value: Any) -> Place:
        self.run.consts.append(value)
        return ("const", len(self.run.consts) - 1)

    # -- steps -----------------------------------------------------------------------

    def steps(self, plan: Plan, scope: Scope) -> None:
        for step in plan.steps:
            # In a map that goes on past failed items, a nested pipeline runs in its row as
            # one call, so that a failure inside it becomes that item's ItemError exactly as
            # the engine makes it (and a map nested in it reports as its own run does).
            if step.nested and not scope.continuing:
                inner = scope.config.nested_step(step)
                if self.inlines(inner):
                    self.inline(step, scope, inner)
                    continue
            self.node(step, scope)

    def node(self, step: Step, scope: Scope) -> None:
        inputs = list(scope.keys)
        sources: list[Source | None] = []
        for param in step.params:
            place = scope.values.get(param)
            sources.append(self._source(place, inputs))
        hash_columns: list[int] = []
        config = scope.config.config
        caching = config.cache is not None
        if caching:
            for meta in dict.fromkeys(scope.hashes[p] for p in step.params if p in scope.hashes):
                hash_columns.append(len(inputs))
                inputs.append(meta)
        guard = not step.nested and any(setting is not None for setting in policy(step, config))
        # No context needed (unless a call fails): no cache, callbacks, retries or timeout.
        quiet = not (caching or scope.config.observed or guard)
        keys = len(scope.keys)
        continuing = scope.continuing
        task: NodeTask
        rows = None
        if step.batch is not None and not step.nested and scope.items:
            shared = [self._shared(scope, scope.values.get(p)) for p in step.params]
            plain = quiet and not continuing
            task = BatchTask(step, scope.path, keys, sources, hash_columns, plain, shared)
            rows = max(self.batch_rows, step.batch_size or 0)
        else:
            simple = quiet and step.output is not None and not step.nested
            task = NodeTask(step, scope.path, keys, sources, hash_columns, simple, continuing)
        outputs = [self.column("v") for _ in step.outputs]
        meta = self.column("m")
        sync = rows is not None or not step.is_async
        self.apply(task, inputs, [*outputs, meta], lists=0, sync=sync, rows=rows)
        for name, column in zip(step.outputs, outputs, strict=True):
            scope.produce(name, column)
            scope.hashes[name] = meta
        scope.entries.append(NodeEntry(step, outputs, meta))

    @staticmethod
    def _shared(scope: Scope, place: Place | None) -> bool:
        """Whether every item of one map of ``scope`` has the value at ``place``."""
        return place is None or place[0] == "const" or place[1] not in scope.varying

    @staticmethod
    def _source(place: Place | None, inputs: list[str]) -> Source | None:
        if place is None:
            return None  # an optional input left out: the node's default
        if place[0] == "const":
            return ("const", place[1])
        inputs.append(place[1])
        return ("col", len(inputs) - 1)

    def inline(self, step: Step, scope: Scope, config: RunContext) -> None:
        """Put a nested pipeline's steps into the frame (see the module docstring)."""
        to_inner = step.input_mapping
        values: dict[str, Place] = {}
        for name, value in step.bound.items():
            values[name] = self.const(value)
        for outer in step.params:  # the parent's values win over the inner bindings
            place = scope.values.get(outer)
            if place is not None:
                values[to_inner.get(outer, outer)] = place
        plan = step.inner_plan
        assert plan is not None
        entry = Inline(step, scope)
        if not step.map_over:  # a run of the inner pipeline per row: not a map's items
            inner = Scope(scope.path.nested(step, False), scope.keys, values, config, items=False)
            self.steps(plan, inner)
            produced = {name: inner.values[name] for name in plan.outputs}
        else:
            inner, produced = self._inline_map(step, scope, values, config, entry)
        entry.scope = inner
        rename = step.output_mapping
        for name, place in produced.items():
            outer = rename.get(name, name)
            scope.produce(outer, place[1])
            scope.hashes.pop(outer, None)  # a nested step is not cached: hashed by value
        scope.entries.append(entry)

    def _inline_map(
        self,
        step: Step,
        scope: Scope,
        values: dict[str, Place],
        config: RunContext,
        entry: Inline,
    ) -> tuple[Scope, dict[str, Place]]:
        to_inner = step.input_mapping
        mapped = step.map_over
        inputs = list(scope.keys)
        sources = []
        for outer in mapped:
            source = self._source(scope.values[outer], inputs)
            assert source is not None
            sources.append(source)
        task = ExpandTask(step, len(scope.keys), sources, mapped)
        lists = [self.column("l") for _ in mapped]
        entry.index, entry.count, entry.meta = self.column("j"), self.column("n"), self.column("m")
        outputs = [*lists, entry.index, entry.count, entry.meta]
        self.apply(task, inputs, outputs, lists=len(lists), indices=1)
        # The index travels as an exploded list of its own: explode's index_column trips
        # Daft 0.7's optimizer once a later projection reads it.
        lists.append(entry.index)
        before = set(self.df.column_names) - set(lists)
        self.df = self.df.explode(*lists)
        for outer, column in zip(mapped, lists[:-1], strict=True):
            values[to_inner.get(outer, outer)] = ("col", column)
        plan = step.inner_plan
        assert plan is not None
        inner = Scope(
            scope.path.nested(step, True),
            [*scope.keys, entry.index],
            values,
            config,
            items=True,
            continuing=continues(step),
            varying=set(lists[:-1]),
        )
        self.steps(plan, inner)
        # Regroup: one row per outer row again; inner columns become lists of cells.
        import daft

        entry.inner = [c for c in self.df.column_names if c not in before and c not in lists[:-1]]
        kept = [c for c in self.df.column_names if c in before and c not in scope.keys]
        self.df = self.df.groupby(*scope.keys).agg(
            *[daft.col(c).any_value().alias(c) for c in kept],
            *[daft.col(c).list_agg().alias(c) for c in entry.inner],
        )
        self._batching = 0  # the regroup made its own batches
        outputs = list(plan.outputs)
        assemble = AssembleTask(step, len(scope.keys), len(outputs))
        columns = [self.column("v") for _ in outputs]
        cells = [inner.values[name][1] for name in outputs]
        self.apply(assemble, [*scope.keys, entry.count, entry.index, *cells], columns, lists=0)
        return inner, {name: ("col", c) for name, c in zip(outputs, columns, strict=True)}

    # -- UDFs ------------------------------------------------------------------------

    def apply(
        self,
        task: Task,
        inputs: list[str],
        outputs: list[str],
        *,
        lists: int,
        indices: int = 0,
        sync: bool = True,
        rows: int | None = None,
    ) -> None:
        """Add ``task`` as a batch UDF reading ``inputs`` and adding ``outputs``: the first
        ``lists`` are lists of cells, the next ``indices`` lists of ints, the rest cells.
        ``rows`` sets the rows per Daft batch (default: see below)."""
        import daft
        from daft import DataType

        kinds = [_LIST] * lists + [_INDICES] * indices
        kinds += [_CELL] * (len(outputs) - len(kinds))
        fields = {name: _daft_type(kind) for name, kind in zip(outputs, kinds, strict=True)}
        self.run.tasks.append(task)
        options = dict(self.udf_options) if sync else {}
        # Sync nodes: small batches spread rows over cores. Async nodes: large batches,
        # awaited together (bounded by max_concurrency) instead of a few at a time.
        if rows is None:
            rows = self.batch_rows if sync else max(self.batch_rows, self.run.max_concurrency)
        if rows != self._batching:
            self.df = self.df.into_batches(rows)
            self._batching = rows
        fn = daft.func.batch(return_dtype=DataType.struct(fields), unnest=True, **options)(
            _udf(
                self.handle,
                len(self.run.tasks) - 1,
                task.name,
                outputs,
                kinds,
                pooled=self.pooled and sync and isinstance(task, NodeTask),
            )
        )
        expression = fn(*[daft.col(c) for c in inputs])
        self.df = self.df.select(*[daft.col(c) for c in self.df.column_names], expression)


#: What a UDF output field holds: a cell, a list of cells, a list of item indices.
_CELL, _LIST, _INDICES = range(3)


def _daft_type(kind: int) -> Any:
    from daft import DataType

    if kind == _CELL:
        return DataType.binary()
    if kind == _LIST:
        return DataType.list(DataType.binary())
    return DataType.list(DataType.int64())


def _udf(
    handle: Handle, index: int, name: str, outputs: list[str], kinds: list[int], *, pooled: bool
) -> Any:
    """The function Daft calls for a batch: Series in, a struct Series of cells out.

    ``pooled``: the task runs in a worker process of :mod:`hypernodes_daft._workers`
    (a worker that dies fails the batch's rows as a ``WorkerLostError``)."""

    def udf(*series: Any) -> Any:
        from daft import Series, col
        from daft.expressions import ExpressionsProjection
        from daft.functions import to_struct
        from daft.recordbatch import RecordBatch
        from hypernodes.errors import WorkerLostError

        cells = [s.to_pylist() for s in series]
        try:
            if pooled:
                from ._workers import call

                columns = call(handle, index, name, cells)
            else:
                columns = handle.call(index, cells)
        except BaseException as exc:
            # A lost worker, or a node's KeyboardInterrupt / SystemExit: fail the batch's
            # rows with it, re-raised in the caller after the collect (left to Daft, it
            # would end Daft's thread and leave the run waiting for ever).
            run = handle.resolve()
            task = run.tasks[index]
            ours = isinstance(exc, WorkerLostError) or not isinstance(exc, Exception)
            if not ours or not isinstance(task, NodeTask):
                raise
            columns = task.lost(run, cells, exc)
        # Built by Daft alone: pyarrow (with numpy, and pandas at pa.array's first call)
        # would cost every fresh worker process a quarter of a second more to import.
        fields = {
            field: Series.from_pylist(cells, field, dtype=_daft_type(kind))
            for cells, field, kind in zip(columns, outputs, kinds, strict=True)
        }
        struct = to_struct(*[col(field) for field in outputs]).alias(name)
        batch = RecordBatch.from_pydict(fields)
        return batch.eval_expression_list(ExpressionsProjection([struct])).get_column(0)

    udf.__name__ = udf.__qualname__ = name
    return udf

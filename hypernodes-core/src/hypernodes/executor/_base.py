"""Executor strategies: HOW a pipeline runs. The backend decides WHERE."""

from __future__ import annotations

from concurrent.futures import BrokenExecutor, Executor
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any, ClassVar

from .._model.failures import ItemError, locate_snapshot
from ..engine._backend import LocalBackend
from ..engine._batch import run_items_batched
from ..engine._items import MapItems
from ..engine._occupancy import occupies
from ..engine._steps import note, run_item
from ..errors import WorkerLostError
from ._pools import PoolDescription, map_in_pool

if TYPE_CHECKING:
    from .._model.pipeline import Pipeline
    from .._model.plan import Plan
    from ..engine._backend import Backend
    from ..engine._context import RunContext

__all__ = ["ExecutorStrategy", "HolisticExecutor", "TaskExecutor"]

LOCAL = LocalBackend()


class ExecutorStrategy:
    """One object that carries the whole "how" of running a pipeline.

    A backend calls :meth:`run` and :meth:`map`; the strategy does the rest,
    so a new executor needs no change to any backend.
    """

    holistic: ClassVar[bool] = False

    def default_backend(self) -> Backend:
        """The backend used when none is configured."""
        return LOCAL

    def run(
        self,
        pipeline: Pipeline,
        inputs: dict[str, Any] | Any,
        ctx: RunContext,
        output_name: tuple[str, ...] | None = None,
    ) -> dict[str, Any]:
        """Run once; return the outputs of ``pipeline.plan(output_name)``."""
        raise NotImplementedError

    def map(
        self,
        pipeline: Pipeline,
        inputs: dict[str, Any] | Any,
        ctx: RunContext,
        *,
        map_over: tuple[str, ...],
        map_mode: str,
        output_name: tuple[str, ...] | None = None,
    ) -> dict[str, list[Any]]:
        """Run once per item; return one list per output, in item order."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class TaskExecutor(ExecutorStrategy):
    """Runs a plan node by node in this process; map items run here or in ``map_executor``.

    Subclasses implement :meth:`run_plan`, which fills ``values`` with every
    output of the plan. ``map_executor`` may be any
    ``concurrent.futures.Executor`` (threads, processes, loky, Dask).
    """

    def __init__(self, map_executor: Executor | None = None) -> None:
        if map_executor is not None and not isinstance(map_executor, Executor):
            hint = (
                f' (for a name, use executor="{map_executor}")'
                if map_executor in ("threads", "processes")
                else ""
            )
            msg = (
                f"map_executor must be a concurrent.futures.Executor (a ThreadPoolExecutor, "
                f"hypernodes.executor.process_pool(n), a loky or Dask client executor), got "
                f"{type(map_executor).__name__} {map_executor!r}{hint}."
            )
            raise TypeError(msg)
        self._pool: Executor | None = map_executor
        self._pool_description: PoolDescription | None = None

    @property
    def map_executor(self) -> Executor | None:
        """The pool map items run in (rebuilt here if this executor was unpickled)."""
        if self._pool is None and self._pool_description is not None:
            self._pool = self._pool_description.build()
        return self._pool

    def without_pool(self) -> TaskExecutor:
        """A copy of this strategy that runs map items inline (what a pool worker uses)."""
        clone = object.__new__(type(self))  # not copy.copy: that would describe the pool
        clone.__dict__.update(self.__dict__)
        clone._pool = None
        clone._pool_description = None
        return clone

    def __getstate__(self) -> dict[str, Any]:
        # A live pool cannot travel; its description can, and is rebuilt on first use.
        state = self.__dict__.copy()
        if self._pool is not None:
            state["_pool_description"] = PoolDescription.of(self._pool)
        state["_pool"] = None
        return state

    def run_plan(self, plan: Plan, values: dict[str, Any], ctx: RunContext) -> None:
        """Run every step of ``plan``, storing outputs in ``values``."""
        raise NotImplementedError

    def run(
        self,
        pipeline: Pipeline,
        inputs: dict[str, Any] | Any,
        ctx: RunContext,
        output_name: tuple[str, ...] | None = None,
    ) -> dict[str, Any]:
        plan = pipeline.plan(output_name)
        values = dict(inputs)
        self.run_plan(plan, values, ctx)
        return {name: values[name] for name in plan.outputs}

    def map(
        self,
        pipeline: Pipeline,
        inputs: dict[str, Any] | Any,
        ctx: RunContext,
        *,
        map_over: tuple[str, ...],
        map_mode: str,
        output_name: tuple[str, ...] | None = None,
    ) -> dict[str, list[Any]]:
        plan = pipeline.plan(output_name)
        items = MapItems(inputs, map_over, map_mode, where=f"Pipeline {pipeline.name!r}.map()")
        observed = ctx.dispatch is not None
        if observed:
            ctx.begin_map(pipeline.name, len(items))
        pool = None if ctx.in_worker else self.map_executor
        try:
            caching = ctx.caching  # the inputs shared by every item are hashed once per map
            with nullcontext() if caching is None else caching.sharing(items.shared):
                if pool is None or len(items) < 2 or occupies(pool):
                    result = self.map_here(plan, items, ctx)
                else:
                    rows = self._map_in(pool, pipeline, plan, output_name, items, ctx)
                    columns = zip(*rows, strict=True)
                    result = {
                        name: list(column)
                        for name, column in zip(plan.outputs, columns, strict=True)
                    }
        except BaseException as exc:
            ctx.fail(None, exc)
            raise
        if observed:
            ctx.end_map(pipeline.name)
        return result

    def _map_in(
        self,
        pool: Executor,
        pipeline: Pipeline,
        plan: Plan,
        output_name: tuple[str, ...] | None,
        items: MapItems,
        ctx: RunContext,
    ) -> list[tuple[Any, ...]]:
        """Map in ``pool``; a pool that broke (a worker died) is replaced by a new one."""
        try:
            return map_in_pool(self, pipeline, plan, output_name, items, ctx, pool)
        except BrokenExecutor:  # broken by an earlier map: replace it and go on
            pool = self._replace_pool(pool)
            return map_in_pool(self, pipeline, plan, output_name, items, ctx, pool)
        except WorkerLostError as exc:  # this map lost a worker; the next one gets a working pool
            self._replace_pool(pool)
            if not ctx.continuing or not hasattr(exc, "lost"):
                raise
            results: list[Any] = list(exc.results)  # the map goes on: lost items failed
            for index in exc.lost:
                where = (*ctx.item_path, index)
                error = ItemError("(lost with its worker)", exc, item_path=where, pipeline=ctx.path)
                results[index] = tuple(error for _ in plan.outputs)
            return results

    def _replace_pool(self, pool: Executor) -> Executor:
        try:
            fresh = PoolDescription.of(pool).build()
        except TypeError:
            raise BrokenExecutor(
                f"{type(pool).__name__} is broken (a worker died) and cannot be rebuilt; "
                "pass a new pool."
            ) from None
        self._pool = fresh
        return fresh

    def map_here(self, plan: Plan, items: MapItems, ctx: RunContext) -> dict[str, list[Any]]:
        """Run the items one after another in this thread (node by node when a node has a
        batch implementation)."""
        outputs = plan.outputs
        if plan.batched:
            rows = list(items)
            run_items_batched(plan, rows, ctx, 0, items.shared)
            return {name: [values[name] for values in rows] for name in outputs}
        columns: list[list[Any]] = [[] for _ in outputs]
        pairs = list(zip(columns, outputs, strict=True))
        run_plan = self.run_plan
        config = ctx.config
        per_item_ctx = (  # an item's own context: its events, its index in errors
            plan.has_nested
            or ctx.dispatch is not None
            or ctx.continuing
            or plan.guarded
            or config.retries is not None
            or config.timeout is not None
        )
        index = 0
        try:
            for index, values in enumerate(items):
                if per_item_ctx:
                    run_item(run_plan, plan, values, ctx.item(index))
                else:
                    run_plan(plan, values, ctx)
                for column, name in pairs:
                    column.append(values[name])
        except Exception as exc:
            note(exc, f"in map item {index} of pipeline {ctx.path[-1]!r}")
            if not per_item_ctx:  # the call ran in the map's own context: name its item
                locate_snapshot(exc, ctx.item_path, index)
            raise
        return dict(zip(outputs, columns, strict=True))

    def __repr__(self) -> str:
        pool = self._pool if self._pool is not None else self._pool_description
        shown = f"map_executor={pool!r}" if pool is not None else ""
        return f"{type(self).__name__}({shown})"


class HolisticExecutor(ExecutorStrategy):
    """Translates the whole pipeline into another engine (Daft, a dataframe, a GPU batch).

    Where a :class:`TaskExecutor` runs a plan node by node for one item at a
    time, a holistic executor receives the whole run or map and decides how
    to compute it: typically node-major (one node over every row, then the
    next). It implements :meth:`run` and :meth:`map` with the engine
    interface (:mod:`hypernodes.engine`):

    - ``pipeline.plan(output_name)``: the read-only :class:`~hypernodes.engine.Plan`;
      a nested step has ``map_over``, ``map_mode``, the mappings, ``bound``
      and ``inner_plan`` to inline it;
    - :class:`~hypernodes.engine.MapItems`: the validated items of a map;
    - ``ctx.item(i)`` / ``begin_item`` / ``end_item``, ``begin_map`` /
      ``end_map``, ``enter_nested`` / ``exit_nested``: the scopes callbacks see;
    - ``row_ctx.execute(step, values, hashes)``: one node on one row, with the
      cache, callbacks, async and error notes exactly as the built-in
      executors do them.

    It runs on its own backend (:meth:`default_backend`, chosen when no
    backend is configured), never on ``LocalBackend``, which refuses it with a
    ``TypeError`` naming the backend to use. docs/engine.md shows a complete
    one (a node-major ``ColumnExecutor``).
    """

    holistic: ClassVar[bool] = True

    def default_backend(self) -> Backend:
        """The backend this executor runs on when none is configured."""
        raise NotImplementedError

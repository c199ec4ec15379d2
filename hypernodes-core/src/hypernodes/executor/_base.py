"""Executor strategies: HOW a pipeline runs. The backend decides WHERE."""

from __future__ import annotations

import time
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any, ClassVar

from ..callbacks._dispatch import callback_context, report_error
from ..engine._backend import LocalBackend
from ..engine._items import MapItems
from ..engine._steps import note, run_item
from ._pools import PoolDescription, map_in_pool

if TYPE_CHECKING:
    from concurrent.futures import Executor

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
        items = MapItems(inputs, map_over, map_mode)
        dispatch = ctx.dispatch
        if dispatch is not None:
            start = time.perf_counter()
            cb = callback_context(ctx)
            dispatch.emit("on_map_start", pipeline.name, len(items), cb)
        pool = None if ctx.in_worker else self.map_executor
        try:
            caching = ctx.caching  # the inputs shared by every item are hashed once per map
            with nullcontext() if caching is None else caching.sharing(items.shared):
                if pool is None or len(items) < 2:
                    result = self.map_here(plan, items, ctx)
                else:
                    rows = map_in_pool(self, pipeline, plan, output_name, items, ctx, pool)
                    columns = zip(*rows, strict=True)
                    result = {
                        name: list(column)
                        for name, column in zip(plan.outputs, columns, strict=True)
                    }
        except BaseException as exc:
            report_error(ctx, None, exc)
            raise
        if dispatch is not None:
            dispatch.emit("on_map_end", pipeline.name, time.perf_counter() - start, cb)
        return result

    def map_here(self, plan: Plan, items: MapItems, ctx: RunContext) -> dict[str, list[Any]]:
        """Run the items one after another in this thread."""
        outputs = plan.outputs
        columns: list[list[Any]] = [[] for _ in outputs]
        pairs = list(zip(columns, outputs, strict=True))
        run_plan = self.run_plan
        per_item_ctx = plan.has_nested or ctx.dispatch is not None
        index = 0
        try:
            for index, values in enumerate(items):
                if per_item_ctx:
                    run_item(run_plan, plan, values, ctx.for_item(index, in_worker=False))
                else:
                    run_plan(plan, values, ctx)
                for column, name in pairs:
                    column.append(values[name])
        except Exception as exc:
            note(exc, f"in map item {index} of pipeline {ctx.path[-1]!r}")
            raise
        return dict(zip(outputs, columns, strict=True))

    def __repr__(self) -> str:
        pool = self._pool if self._pool is not None else self._pool_description
        shown = f"map_executor={pool!r}" if pool is not None else ""
        return f"{type(self).__name__}({shown})"


class HolisticExecutor(ExecutorStrategy):
    """Translates the whole pipeline into another engine (for example Daft).

    It runs on its own backend (:meth:`default_backend`), never on ``LocalBackend``.
    """

    holistic: ClassVar[bool] = True

    def default_backend(self) -> Backend:
        raise NotImplementedError

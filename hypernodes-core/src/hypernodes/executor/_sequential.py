"""``SequentialNodeExecutor``: nodes one by one, in dependency order."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, cast

from ..callbacks._dispatch import Dispatcher, callback_context, report_error
from ..engine._steps import execute, step_failed
from ._base import TaskExecutor

if TYPE_CHECKING:
    from .._model.plan import Plan
    from ..engine._context import RunContext

__all__ = ["SequentialNodeExecutor"]


class SequentialNodeExecutor(TaskExecutor):
    """Run the nodes one after another in the plan's topological order.

    The library default. Map items run one by one too, unless a
    ``map_executor`` (thread or process pool, Dask) is given::

        SequentialNodeExecutor(map_executor=ThreadPoolExecutor(16))

    Three loops, picked once per run: plain calls (no cache, no callbacks:
    the hot path), plain calls between node events (callbacks, no cache), and
    the full step (cache lookups, missing optional inputs).
    """

    def run_plan(self, plan: Plan, values: dict[str, Any], ctx: RunContext) -> None:
        step = None
        hashes: dict[str, str] = {}
        dispatch = ctx.dispatch
        try:
            config = ctx.config
            if (
                ctx.caching is not None
                or ctx.continuing
                or plan.guarded
                or config.retries is not None
                or config.timeout is not None
                or (plan.optional and not plan.optional <= values.keys())
            ):
                for step in plan.steps:
                    execute(step, values, ctx, hashes)
            elif dispatch is None:
                for step in plan.steps:
                    if step.simple:
                        values[step.output] = step.func(*[values[p] for p in step.params])  # type: ignore[index]
                    else:
                        execute(step, values, ctx, hashes)
            elif dispatch.is_concurrent:
                _run_observed(plan, values, ctx, hashes)
            else:
                # One thread: call the hooks directly, the cheapest way to observe.
                dispatch = cast(Dispatcher, dispatch)  # a Recorder is always "concurrent"
                cb = callback_context(ctx)
                clock = time.perf_counter
                starts = dispatch.targets("on_node_start")
                ends = dispatch.targets("on_node_end")
                for step in plan.steps:
                    if not step.simple:
                        execute(step, values, ctx, hashes)
                        continue
                    name = step.name
                    for hook in starts:
                        try:
                            hook(name, cb)
                        except Exception as exc:
                            dispatch.switch_off(hook, exc)
                    start = clock()
                    try:
                        values[step.output] = step.func(*[values[p] for p in step.params])  # type: ignore[index]
                    except BaseException as exc:
                        report_error(ctx, name, exc)
                        raise
                    if ends:
                        duration = clock() - start
                        for hook in ends:
                            try:
                                hook(name, duration, cb)
                            except Exception as exc:
                                dispatch.switch_off(hook, exc)
        except Exception as exc:
            if step is not None:
                step_failed(exc, step, values, ctx)
            raise


def _run_observed(
    plan: Plan, values: dict[str, Any], ctx: RunContext, hashes: dict[str, str]
) -> None:
    """Node events around plain calls, delivered one at a time (threads are involved)."""
    emit = ctx.dispatch.emit  # type: ignore[union-attr]
    cb = callback_context(ctx)
    clock = time.perf_counter
    step = None
    try:
        for step in plan.steps:
            if not step.simple:
                execute(step, values, ctx, hashes)
                continue
            emit("on_node_start", step.name, cb)
            start = clock()
            try:
                values[step.output] = step.func(*[values[p] for p in step.params])  # type: ignore[index]
            except BaseException as exc:
                report_error(ctx, step.name, exc)
                raise
            emit("on_node_end", step.name, clock() - start, cb)
    except Exception as exc:
        if step is not None:
            step_failed(exc, step, values, ctx)
        raise
